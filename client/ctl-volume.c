/* ctl-volume.c: `containersctl volume create|ls|inspect|rm|prune|exists`,
 * like podman volume, over the Volume objects. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "ctl.h"


/* The object path of volume @name (name, ID or unique ID prefix), or NULL. */
static char *
volume_path (Client *client, const char *name, GError **error)
{
  CtrManager *manager = client_get_manager (client, FALSE, error);
  char *path = NULL;

  if (manager == NULL ||
      !ctr_manager_call_get_volume_sync (manager, name, &path, NULL, error))
    return NULL;
  return path;
}

/* All properties of the volume at @path (a{sv}), or NULL. */
static GVariant *
volume_props (Client *client, const char *path, GError **error)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      client->bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
      g_variant_new ("(s)", VOLUME_IFACE), G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1,
      NULL, error);

  return reply != NULL ? g_variant_get_child_value (reply, 0) : NULL;
}

static int
volume_create (Client *client, const Verb *verb, int argc, char **argv)
{
  g_auto (GStrv) labels = NULL;
  const GOptionEntry entries[] = {
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &labels, "Set a label", "KEY=VALUE" },
    { NULL }
  };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) props = NULL;
  CtrManager *manager;
  const char *path;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 1))
    return EXIT_ERROR;
  if (labels != NULL)
    g_variant_builder_add (&options, "{sv}", "Labels", labels_to_variant (labels));
  manager = client_get_manager (client, FALSE, &error);
  if (manager != NULL)
    reply = call_changing (manager, "CreateVolume",
                           g_variant_new ("(sa{sv})", argc > 1 ? argv[1] : "", &options), -1,
                           NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  /* podman prints the name, also the one made up for it */
  g_variant_get (reply, "(&o)", &path);
  props = volume_props (client, path, &error);
  if (props == NULL)
    return print_error (client, error);
  g_print ("%s\n", prop_str (props, "Name"));
  return 0;
}

static int
volume_ls (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the names", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) volumes = NULL;
  g_autoptr (GPtrArray) table = table_new ();

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 0))
    return EXIT_ERROR;
  volumes = list_objects (client, VOLUME_IFACE, -1, &error);
  if (volumes == NULL)
    return print_error (client, error);
  if (!quiet)
    table_add (table, "DRIVER", "VOLUME NAME", NULL);
  for (guint i = 0; i < volumes->len; i++)
    {
      const char *name = prop_str (volumes->pdata[i], "Name");

      if (quiet)
        g_print ("%s\n", name);
      else
        table_add (table, "local", name, NULL);
    }
  if (!quiet)
    table_print (table);
  return 0;
}

static char *
format_rfc3339 (guint64 usec)
{
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_local ((gint64) (usec / G_USEC_PER_SEC));
  g_autoptr (GDateTime) time = NULL;

  if (seconds == NULL)
    return g_strdup ("");
  time = g_date_time_add (seconds, (GTimeSpan) (usec % G_USEC_PER_SEC));
  return g_date_time_format_iso8601 (time);
}

/* podman volume inspect's fields, for what a volume here has. */
static JsonNode *
volume_json (GVariant *props, const char *storage_root)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GVariant) labels = g_variant_lookup_value (props, "Labels", G_VARIANT_TYPE ("a{ss}"));
  g_autoptr (GVariant) containers = g_variant_lookup_value (props, "Containers", G_VARIANT_TYPE ("ao"));
  g_autofree char *mountpoint =
      g_build_filename (storage_root, "volumes", prop_str (props, "Name"), "_data", NULL);
  g_autofree char *created = NULL;
  guint64 created_at = 0;
  gboolean anonymous = FALSE;
  GVariantIter iter;
  const char *key, *value;

  g_variant_lookup (props, "CreatedAt", "t", &created_at);
  g_variant_lookup (props, "Anonymous", "b", &anonymous);
  created = format_rfc3339 (created_at);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Name");
  json_builder_add_string_value (builder, prop_str (props, "Name"));
  json_builder_set_member_name (builder, "Driver");
  json_builder_add_string_value (builder, "local");
  json_builder_set_member_name (builder, "Mountpoint");
  json_builder_add_string_value (builder, mountpoint);
  json_builder_set_member_name (builder, "CreatedAt");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "Labels");
  json_builder_begin_object (builder);
  if (labels != NULL)
    {
      g_variant_iter_init (&iter, labels);
      while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
        {
          json_builder_set_member_name (builder, key);
          json_builder_add_string_value (builder, value);
        }
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "Scope");
  json_builder_add_string_value (builder, "local");
  json_builder_set_member_name (builder, "Anonymous");
  json_builder_add_boolean_value (builder, anonymous);
  json_builder_set_member_name (builder, "Containers");
  json_builder_begin_array (builder);
  if (containers != NULL)
    {
      g_variant_iter_init (&iter, containers);
      while (g_variant_iter_next (&iter, "&o", &value))
        json_builder_add_string_value (builder, id_from_path (value));
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static int
volume_inspect (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  CtrManager *manager;
  int status = 0;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, G_MAXINT))
    return EXIT_ERROR;
  manager = client_get_manager (client, TRUE, &error);
  if (manager == NULL)
    return print_error (client, error);
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *path = volume_path (client, argv[i], &error);
      g_autoptr (GVariant) props = path != NULL ? volume_props (client, path, &error) : NULL;

      if (props == NULL)
        {
          status = print_error (client, error);
          g_clear_error (&error);
          continue;
        }
      json_array_add_element (array, volume_json (props, ctr_manager_get_storage_root (manager)));
    }
  json_node_set_array (root, array);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 4);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
  return status;
}

static int
volume_rm (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Also when containers use it: remove those containers first", NULL },
    { NULL }
  };
  int status = 0;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, G_MAXINT))
    return EXIT_ERROR;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = volume_path (client, argv[i], &error);
      g_autoptr (GVariant) reply = NULL;

      if (path != NULL)
        reply = g_dbus_connection_call_sync (client->bus, BUS_NAME, path, VOLUME_IFACE, "Remove",
                                             g_variant_new ("(b)", force), NULL, CALL_CHANGING,
                                             G_MAXINT, NULL, &error);
      if (reply == NULL)
        status = print_error (client, error);
      else
        g_print ("%s\n", argv[i]);
    }
  return status;
}

static int
volume_prune (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL }, { NULL }
  };

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 0))
    return EXIT_ERROR;
  if (!force && !confirm ("WARNING! This will remove all volumes not used by at least one "
                          "container.\nAre you sure you want to continue?"))
    return 0;
  return prune_and_print (client, "PruneVolumes", NULL);
}

/* One Mounts entry. */
static void
add_mount (GVariantBuilder *mounts, const char *type, const char *source,
           const char *destination, gboolean read_only, const char *const *options)
{
  GVariantBuilder entry;

  g_variant_builder_init (&entry, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&entry, "{sv}", "Type", g_variant_new_string (type));
  if (source != NULL)
    g_variant_builder_add (&entry, "{sv}", "Source", g_variant_new_string (source));
  g_variant_builder_add (&entry, "{sv}", "Destination", g_variant_new_string (destination));
  g_variant_builder_add (&entry, "{sv}", "ReadOnly", g_variant_new_boolean (read_only));
  g_variant_builder_add (&entry, "{sv}", "Options",
                         g_variant_new_strv (options, options != NULL ? -1 : 0));
  g_variant_builder_add (mounts, "a{sv}", &entry);
}

/* podman's -v: [SOURCE:]DESTINATION[:OPTIONS], SOURCE an absolute host path
 * (a bind) or a volume's name; DESTINATION alone is an anonymous volume.
 * ro/rw set ReadOnly; z and Z (SELinux relabelling) are accepted and
 * dropped, as on a host without SELinux; the rest go to Options. */
static gboolean
parse_volume_spec (const char *spec, GVariantBuilder *mounts)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 3);
  guint n = g_strv_length (parts);
  g_autoptr (GStrvBuilder) options = g_strv_builder_new ();
  g_auto (GStrv) options_strv = NULL;
  gboolean read_only = FALSE;
  const char *source = n >= 2 ? parts[0] : NULL;
  const char *destination = n >= 2 ? parts[1] : parts[0];

  if (n == 0 || *destination == '\0' || (source != NULL && *source == '\0'))
    {
      usage_error ("-v: expected [SOURCE:]DESTINATION[:OPTIONS], not \"%s\"", spec);
      return FALSE;
    }
  if (n == 3)
    {
      g_auto (GStrv) flags = g_strsplit (parts[2], ",", -1);

      for (guint i = 0; flags[i] != NULL; i++)
        if (g_str_equal (flags[i], "ro"))
          read_only = TRUE;
        else if (g_str_equal (flags[i], "rw"))
          read_only = FALSE;
        else if (!g_str_equal (flags[i], "z") && !g_str_equal (flags[i], "Z") && *flags[i] != '\0')
          g_strv_builder_add (options, flags[i]);
    }
  options_strv = g_strv_builder_end (options);
  add_mount (mounts, source != NULL && source[0] == '/' ? "bind" : "volume", source, destination,
             read_only, (const char *const *) options_strv);
  return TRUE;
}

gboolean
build_mount_options (char **volumes, char **tmpfs, GVariantBuilder *builder)
{
  g_auto (GVariantBuilder) mounts = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  if (volumes == NULL && tmpfs == NULL)
    return TRUE;
  for (guint i = 0; volumes != NULL && volumes[i] != NULL; i++)
    if (!parse_volume_spec (volumes[i], &mounts))
      return FALSE;
  for (guint i = 0; tmpfs != NULL && tmpfs[i] != NULL; i++)
    {
      /* --tmpfs DESTINATION[:OPTIONS] */
      g_auto (GStrv) parts = g_strsplit (tmpfs[i], ":", 2);
      g_auto (GStrv) options = parts[0] != NULL && parts[1] != NULL
                                   ? g_strsplit (parts[1], ",", -1)
                                   : g_new0 (char *, 1);

      if (parts[0] == NULL || *parts[0] == '\0')
        {
          usage_error ("--tmpfs: expected DESTINATION[:OPTIONS], not \"%s\"", tmpfs[i]);
          return FALSE;
        }
      add_mount (&mounts, "tmpfs", NULL, parts[0], FALSE, (const char *const *) options);
    }
  g_variant_builder_add (builder, "{sv}", "Mounts", g_variant_builder_end (&mounts));
  return TRUE;
}

static const Verb volume_verbs[] = {
  { "create", volume_create, "[NAME]", "Create a volume" },
  { "ls", volume_ls, NULL, "List volumes" },
  { "inspect", volume_inspect, "VOLUME…", "Show the details of volumes" },
  { "rm", volume_rm, "VOLUME…", "Remove volumes" },
  { "prune", volume_prune, NULL, "Remove every volume no container uses" },
  { "exists", volume_exists, "VOLUME", "Exit 0 if the volume exists, 1 if not" },
};

/* `containersctl volume VERB`, like podman volume. */
int
verb_volume (Client *client, const Verb *verb, int argc, char **argv)
{
  static const char *const aliases[][2] = { { "list", "ls" }, { "remove", "rm" } };

  return run_table_verb (client, verb, volume_verbs, G_N_ELEMENTS (volume_verbs), aliases,
                         G_N_ELEMENTS (aliases), argc, argv);
}
