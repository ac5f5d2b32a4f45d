/* containersctl: a podman-like command line client of containersd.
 *
 * Every verb talks to org.example.Containers1 on the system bus (GIO honours
 * DBUS_SYSTEM_BUS_ADDRESS, which is how tests point it at a private bus).
 * Listings use one GetManagedObjects call read directly, so `ps` with a thousand
 * containers costs one round trip and no proxies.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "ctr-generated.h"
#include "ctl.h"

/* ---- errors and usage */

int
print_error (Client *client, const GError *error)
{
  g_autofree char *remote_name = g_dbus_error_get_remote_error (error);
  g_autoptr (GError) stripped = g_error_copy (error);

  g_dbus_error_strip_remote_error (stripped);
  if (client->debug && remote_name != NULL)
    g_printerr ("Error: %s [%s]\n", stripped->message, remote_name);
  else if (client->debug)
    g_printerr ("Error: %s [%s %d]\n", stripped->message, g_quark_to_string (stripped->domain),
                stripped->code);
  else
    g_printerr ("Error: %s\n", stripped->message);
  return EXIT_ERROR;
}

/* g_get_prgname () is "containersctl VERB" once a verb is chosen. */
int
usage_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("Error: %s\nSee '%s --help'.\n", message, g_get_prgname ());
  return EXIT_ERROR;
}

gboolean
error_is_not_found (const GError *error)
{
  g_autofree char *remote_name = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (remote_name, ERROR_NOT_FOUND) == 0;
}

/* Parses the options of a verb; @extra_entries may add a second table.
 * Options may follow arguments, except with @strict_posix, where parsing
 * stops at the first non-option, so in `create IMAGE sh -c CMD` the -c
 * belongs to the command. */
gboolean
parse_verb_options (const Verb *verb, const GOptionEntry *entries,
                    const GOptionEntry *extra_entries, const char *description,
                    gboolean strict_posix, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (verb->parameters);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context, verb->summary);
  if (description != NULL)
    g_option_context_set_description (context, description);
  g_option_context_set_strict_posix (context, strict_posix);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  if (extra_entries != NULL)
    g_option_context_add_main_entries (context, extra_entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      usage_error ("%s", error->message);
      return FALSE;
    }
  /* strict POSIX parsing leaves a "--" that ends the options in argv */
  if (strict_posix && *argc > 1 && g_str_equal ((*argv)[1], "--"))
    {
      memmove (*argv + 1, *argv + 2, (*argc - 1) * sizeof (char *));
      (*argc)--;
    }
  return TRUE;
}

static gboolean
parse_format_option (const char *format, gboolean *json)
{
  *json = g_strcmp0 (format, "json") == 0;
  if (format == NULL || *json || g_str_equal (format, "table"))
    return TRUE;
  usage_error ("unknown --format \"%s\" (use json or table)", format);
  return FALSE;
}

gboolean
parse_uint32_option (const char *option, const char *text, guint32 *out)
{
  guint64 value;
  g_autoptr (GError) error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &value, &error))
    {
      usage_error ("invalid %s \"%s\": %s", option, text, error->message);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

/* Checks that the verb has between @min and @max arguments (@max -1: no
 * limit). */
gboolean
check_arg_count (const Verb *verb, int argc, char **argv, int min, int max)
{
  if (max >= 0 && argc - 1 > max)
    usage_error ("unexpected argument \"%s\"", argv[max + 1]);
  else if (argc - 1 < min)
    usage_error ("expected %s", verb->parameters);
  else
    return TRUE;
  return FALSE;
}

/* Asks on stdout and reads the answer from stdin, like podman's prune. */
gboolean
confirm (const char *question)
{
  char answer[64];

  g_print ("%s [y/N] ", question);
  fflush (stdout);
  if (fgets (answer, sizeof answer, stdin) == NULL)
    return FALSE;
  return answer[0] == 'y' || answer[0] == 'Y';
}

/* ---- connection and lookups */

gboolean
client_connect (Client *client, GError **error)
{
  if (client->bus != NULL)
    return TRUE;
  client->bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  return client->bus != NULL;
}

/* The manager proxy loads its properties only for `version`; other verbs
 * only call its methods, so they skip the GetAll round trip. */
CtrManager *
client_get_manager (Client *client, gboolean load_properties, GError **error)
{
  GDBusProxyFlags flags = G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS;

  if (client->manager != NULL)
    return client->manager;
  if (!client_connect (client, error))
    return NULL;
  if (!load_properties)
    flags |= G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES;
  client->manager =
      ctr_manager_proxy_new_sync (client->bus, flags, BUS_NAME, MANAGER_PATH, NULL, error);
  return client->manager;
}

static void
client_clear (Client *client)
{
  g_clear_object (&client->manager);
  g_clear_object (&client->bus);
}

/* Calls a method that changes something (so polkit may ask the user);
 * @timeout_ms is G_MAXINT for calls that last as long as the work. */
GVariant *
call_changing (gpointer proxy, const char *method, GVariant *parameters, int timeout_ms,
               GUnixFDList *fd_list, GError **error)
{
  return g_dbus_proxy_call_with_unix_fd_list_sync (G_DBUS_PROXY (proxy), method, parameters,
                                                   CALL_CHANGING, timeout_ms, fd_list, NULL, NULL,
                                                   error);
}

/* Objects are named by their ID: the last element of the path. */
const char *
id_from_path (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash != NULL ? slash + 1 : path;
}

CtrContainer *
get_container (Client *client, const char *name_or_id, gboolean load_properties, GError **error)
{
  CtrManager *manager = client_get_manager (client, FALSE, error);
  g_autofree char *path = NULL;
  GDBusProxyFlags flags = G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS;

  if (manager == NULL ||
      !ctr_manager_call_get_container_sync (manager, name_or_id, &path, NULL, error))
    {
      not_found_as_podman (error != NULL ? *error : NULL, OBJECT_CONTAINER, name_or_id);
      return NULL;
    }
  if (!load_properties)
    flags |= G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES;
  return ctr_container_proxy_new_sync (client->bus, flags, BUS_NAME, path, NULL, error);
}

CtrImage *
get_image (Client *client, const char *reference, GError **error)
{
  CtrManager *manager = client_get_manager (client, FALSE, error);
  g_autofree char *path = NULL;

  if (manager == NULL || !ctr_manager_call_get_image_sync (manager, reference, &path, NULL, error))
    {
      not_found_as_podman (error != NULL ? *error : NULL, OBJECT_IMAGE, reference);
      return NULL;
    }
  return ctr_image_proxy_new_sync (client->bus, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, BUS_NAME,
                                   path, NULL, error);
}

static const char *
proxy_id (gpointer proxy)
{
  return id_from_path (g_dbus_proxy_get_object_path (G_DBUS_PROXY (proxy)));
}

/* ---- listing objects: one GetManagedObjects, read as plain variants */

const char *
prop_str (GVariant *props, const char *key)
{
  const char *value = "";

  g_variant_lookup (props, key, "&s", &value);
  return value;
}

static GStrv
prop_strv (GVariant *props, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (props, key, G_VARIANT_TYPE_STRING_ARRAY);

  return value != NULL ? g_variant_dup_strv (value, NULL) : g_new0 (char *, 1);
}

/* One property props_read looks for: @out receives the value as g_variant_get
 * with @format gives it, and keeps what it had when the property is missing
 * or of another type. */
typedef struct
{
  const char *key;
  const char *format;
  gpointer out;
} PropField;

/* Reads @fields in one walk over @props, which stops once all are found:
 * g_variant_lookup walks the a{sv} from its start for every property (a `ps`
 * row needs nine), and first serialises the dictionary, which GDBus built as
 * a tree: that alone cost as much as the rest of a listing. */
static void
props_read (GVariant *props, const PropField *fields, gsize n_fields)
{
  GVariantIter iter;
  GVariant *entry;
  gsize found = 0;

  g_variant_iter_init (&iter, props);
  /* children, not g_variant_iter_next's format string: parsing it per entry
   * cost more than the rest of the walk */
  while (found < n_fields && (entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) key = g_variant_get_child_value (entry, 0);
      const char *name = g_variant_get_string (key, NULL);

      for (gsize i = 0; i < n_fields; i++)
        if (g_str_equal (name, fields[i].key))
          {
            g_autoptr (GVariant) boxed = g_variant_get_child_value (entry, 1);
            g_autoptr (GVariant) value = g_variant_get_variant (boxed);

            if (g_variant_check_format_string (value, fields[i].format, FALSE))
              g_variant_get (value, fields[i].format, fields[i].out);
            found++;
            break;
          }
      g_variant_unref (entry);
    }
}

/* A listed object with its sort key read once: a lookup walks the a{sv}, and
 * sorting in the comparator took most of `ps -a`'s time with 1,000 containers. */
typedef struct
{
  GVariant *props;
  guint64 created_at;
} ListedObject;

static int
compare_newest_first (gconstpointer a, gconstpointer b)
{
  guint64 created_a = ((const ListedObject *) a)->created_at;
  guint64 created_b = ((const ListedObject *) b)->created_at;

  return created_a < created_b ? 1 : created_a > created_b ? -1 : 0;
}

/* Returns the a{sv} properties of every object implementing @interface_name,
 * newest first. */
GPtrArray *
list_objects (Client *client, const char *interface_name, int timeout_ms, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) objects = NULL;
  g_autoptr (GArray) listed = g_array_new (FALSE, FALSE, sizeof (ListedObject));
  GPtrArray *result;
  GVariantIter iter;
  GVariant *interfaces;

  if (!client_connect (client, error))
    return NULL;
  reply = g_dbus_connection_call_sync (client->bus, BUS_NAME, MANAGER_PATH,
                                       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                       NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                       G_DBUS_CALL_FLAGS_NONE, timeout_ms, NULL, error);
  if (reply == NULL)
    return NULL;
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", NULL, &interfaces))
    {
      ListedObject object = { NULL, 0 };
      const PropField created_at = { "CreatedAt", "t", &object.created_at };

      object.props = g_variant_lookup_value (interfaces, interface_name, G_VARIANT_TYPE_VARDICT);
      if (object.props != NULL)
        {
          props_read (object.props, &created_at, 1);
          g_array_append_val (listed, object);
        }
      g_variant_unref (interfaces);
    }
  /* stable, like the sort it replaces */
  g_array_sort (listed, compare_newest_first);
  result = g_ptr_array_new_full (listed->len, (GDestroyNotify) g_variant_unref);
  for (guint i = 0; i < listed->len; i++)
    g_ptr_array_add (result, g_array_index (listed, ListedObject, i).props);
  return result;
}

/* ---- output formatting */

/* Like podman's (go-units) HumanDuration. */
static char *
format_duration (guint64 usec)
{
  guint64 seconds = usec / G_USEC_PER_SEC;
  guint64 minutes = seconds / 60;
  guint64 hours = (seconds + 1800) / 3600;

  if (seconds < 1)
    return g_strdup ("Less than a second");
  if (seconds == 1)
    return g_strdup ("1 second");
  if (seconds < 60)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " seconds", seconds);
  if (minutes == 1)
    return g_strdup ("About a minute");
  if (minutes < 60)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " minutes", minutes);
  if (hours == 1)
    return g_strdup ("About an hour");
  if (hours < 48)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " hours", hours);
  if (hours < 24 * 7 * 2)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " days", hours / 24);
  if (hours < 24 * 30 * 2)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " months", hours / 24 / 30);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " years", hours / 24 / 365);
}

/* Time since @time_usec; a clock running behind the daemon's counts as now. */
static char *
format_since (guint64 time_usec)
{
  gint64 now = g_get_real_time ();

  return format_duration (now > (gint64) time_usec ? (guint64) now - time_usec : 0);
}

static char *
format_ago (guint64 time_usec)
{
  g_autofree char *since = NULL;

  if (time_usec == 0)
    return g_strdup ("N/A");
  since = format_since (time_usec);
  return g_strdup_printf ("%s ago", since);
}

/* Decimal units with three significant digits, like podman images. */
char *
format_size (guint64 bytes)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double value = bytes;
  guint unit = 0;

  while (value >= 1000 && unit + 1 < G_N_ELEMENTS (units))
    {
      value /= 1000;
      unit++;
    }
  return g_strdup_printf ("%.3g %s", value, units[unit]);
}

/* What `ps` shows of a container; strings point into its properties. */
typedef struct
{
  const char *id;
  const char *name;
  const char *image_name;
  const char *state;
  const char **command;
  guint64 created_at;
  guint64 started_at;
  guint64 finished_at;
  gint32 exit_code;
  const char *health;
} ContainerRow;

static void
container_row_read (ContainerRow *row, GVariant *props)
{
  const PropField fields[] = {
    { "Id", "&s", &row->id },
    { "Name", "&s", &row->name },
    { "ImageName", "&s", &row->image_name },
    { "State", "&s", &row->state },
    { "Command", "^a&s", &row->command },
    { "CreatedAt", "t", &row->created_at },
    { "StartedAt", "t", &row->started_at },
    { "FinishedAt", "t", &row->finished_at },
    { "ExitCode", "i", &row->exit_code },
    { "Health", "&s", &row->health },
  };

  *row = (ContainerRow){ .id = "", .name = "", .image_name = "", .state = "", .health = "" };
  props_read (props, fields, G_N_ELEMENTS (fields));
}

static void
container_row_clear (ContainerRow *row)
{
  g_clear_pointer (&row->command, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ContainerRow, container_row_clear)

static char *
format_status (const ContainerRow *row)
{
  const char *state = row->state;
  g_autofree char *since = NULL;
  char *other;

  if (g_str_equal (state, "running") || g_str_equal (state, "paused"))
    {
      since = format_since (row->started_at);
      /* podman: "Up 5 minutes (healthy)" */
      if (g_str_equal (state, "running") && *row->health != '\0')
        return g_strdup_printf ("Up %s (%s)", since, row->health);
      return g_strdup_printf ("Up %s%s", since, g_str_equal (state, "paused") ? " (Paused)" : "");
    }
  if (g_str_equal (state, "stopped") || g_str_equal (state, "exited"))
    {
      if (row->finished_at == 0)
        return g_strdup_printf ("Exited (%d)", row->exit_code);
      since = format_ago (row->finished_at);
      return g_strdup_printf ("Exited (%d) %s", row->exit_code, since);
    }
  if (g_str_equal (state, "configured") || g_str_equal (state, "created"))
    return g_strdup ("Created");
  /* stopping, removing, and states of a newer daemon: capitalised as they are */
  other = g_strdup (*state != '\0' ? state : "unknown");
  other[0] = g_ascii_toupper (other[0]);
  return other;
}

static char *
format_command (const char *const *argv, gboolean truncate)
{
  g_autofree char *command = argv != NULL ? g_strjoinv (" ", (char **) argv) : g_strdup ("");

  if (truncate && g_utf8_strlen (command, -1) > COMMAND_COLUMN_WIDTH)
    {
      g_autofree char *head = g_utf8_substring (command, 0, COMMAND_COLUMN_WIDTH - 3);
      return g_strconcat (head, "...", NULL);
    }
  return g_steal_pointer (&command);
}

static char *
format_id (const char *id, gboolean truncate)
{
  return truncate ? g_strndup (id, SHORT_ID_LEN) : g_strdup (id);
}

/* A table is an array of GStrv rows, the header first, printed with columns
 * padded to their widest cell. */
GPtrArray *
table_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
}

void
table_add (GPtrArray *table, const char *first, ...)
{
  g_autoptr (GStrvBuilder) row = g_strv_builder_new ();
  va_list args;

  va_start (args, first);
  for (const char *cell = first; cell != NULL; cell = va_arg (args, const char *))
    g_strv_builder_add (row, cell);
  va_end (args);
  g_ptr_array_add (table, g_strv_builder_end (row));
}

void
table_print (GPtrArray *table)
{
  g_autoptr (GArray) widths = g_array_new (FALSE, TRUE, sizeof (glong));

  for (guint r = 0; r < table->len; r++)
    {
      char **row = table->pdata[r];
      for (guint c = 0; row[c] != NULL; c++)
        {
          glong len = g_utf8_strlen (row[c], -1);
          if (c >= widths->len)
            g_array_set_size (widths, c + 1);
          g_array_index (widths, glong, c) = MAX (g_array_index (widths, glong, c), len);
        }
    }
  for (guint r = 0; r < table->len; r++)
    {
      char **row = table->pdata[r];
      g_autoptr (GString) line = g_string_new (NULL);
      for (guint c = 0; row[c] != NULL; c++)
        {
          g_string_append (line, row[c]);
          if (row[c + 1] == NULL)
            break;
          for (glong pad = g_array_index (widths, glong, c) - g_utf8_strlen (row[c], -1) + 2;
               pad > 0; pad--)
            g_string_append_c (line, ' ');
        }
      g_print ("%s\n", line->str);
    }
}

/* Object properties as a JSON object keyed by property name. */
static JsonNode *
props_to_json (GVariant *props)
{
  g_autoptr (JsonObject) object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, props);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      json_object_set_member (object, key, json_gvariant_serialize (value));
      g_variant_unref (value);
    }
  json_node_set_object (node, object);
  return node;
}

static void
print_json_array (JsonArray *array)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_node_set_array (root, array);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 4);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
print_objects_json (GPtrArray *objects)
{
  g_autoptr (JsonArray) array = json_array_new ();

  for (guint i = 0; i < objects->len; i++)
    json_array_add_element (array, props_to_json (objects->pdata[i]));
  print_json_array (array);
}

/* ---- listing verbs: ps, images */

typedef struct
{
  gboolean all;
  gboolean quiet;
  gboolean no_trunc;
} ListOptions;

/* A stopping container still has its process, so it counts as up. */
static gboolean
container_is_up (GVariant *props)
{
  const char *state = prop_str (props, "State");

  return g_str_equal (state, "running") || g_str_equal (state, "paused") ||
         g_str_equal (state, "stopping");
}

/* The part ps and images share: options, one GetManagedObjects, the objects
 * that pass @filter unless --all, and the json and quiet outputs. Returns the
 * objects for a table, or NULL with *status set when the verb is done. */
static GPtrArray *
list_for_verb (Client *client, const Verb *verb, const char *interface_name,
               gboolean (*filter) (GVariant *props), ListOptions *options, int argc, char **argv,
               int *status)
{
  g_autofree char *format = NULL;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &options->all, "Show all, not only running ones", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &options->quiet, "Print only IDs", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "Output format: table or json", "FORMAT" },
    { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &options->no_trunc, "Do not truncate IDs and commands",
      NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) objects = NULL;
  gboolean json;

  *status = EXIT_ERROR;
  /* --all only means something where there is a filter */
  if (!parse_verb_options (verb, filter != NULL ? entries : entries + 1, NULL, NULL, FALSE, &argc,
                           &argv) ||
      !parse_format_option (format, &json))
    return NULL;
  if (argc > 1)
    {
      usage_error ("unexpected argument \"%s\"", argv[1]);
      return NULL;
    }
  objects = list_objects (client, interface_name, -1, &error);
  if (objects == NULL)
    {
      print_error (client, error);
      return NULL;
    }
  for (guint i = objects->len; filter != NULL && !options->all && i > 0; i--)
    if (!filter (objects->pdata[i - 1]))
      g_ptr_array_remove_index (objects, i - 1);

  *status = 0;
  if (json)
    print_objects_json (objects);
  for (guint i = 0; options->quiet && !json && i < objects->len; i++)
    {
      g_autofree char *id = format_id (prop_str (objects->pdata[i], "Id"), !options->no_trunc);
      g_print ("%s\n", id);
    }
  return json || options->quiet ? NULL : g_steal_pointer (&objects);
}

/* ---- images, import */

/* Splits "registry:5000/name:tag" at the tag's colon, not the port's. */
static void
split_image_name (const char *name, char **repository, char **tag)
{
  const char *colon = strrchr (name, ':');
  const char *slash = strrchr (name, '/');

  if (colon == NULL || (slash != NULL && colon < slash))
    {
      *repository = g_strdup (name);
      *tag = g_strdup ("<none>");
      return;
    }
  *repository = g_strndup (name, colon - name);
  *tag = g_strdup (colon + 1);
}

static void
add_image_rows (GPtrArray *table, GVariant *props, gboolean truncate)
{
  const char *image_id = "";
  g_autofree const char **names = NULL;
  guint64 created_at = 0, size_bytes = 0;
  const PropField fields[] = {
    { "Id", "&s", &image_id },
    { "Names", "^a&s", &names },
    { "Size", "t", &size_bytes },
    { "CreatedAt", "t", &created_at },
  };
  g_autofree char *id = NULL;
  g_autofree char *created = NULL;
  g_autofree char *size = NULL;

  props_read (props, fields, G_N_ELEMENTS (fields));
  id = format_id (image_id, truncate);
  created = format_ago (created_at);
  size = format_size (size_bytes);
  if (names == NULL || names[0] == NULL)
    table_add (table, "<none>", "<none>", id, created, size, NULL);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *repository = NULL;
      g_autofree char *tag = NULL;

      split_image_name (names[i], &repository, &tag);
      table_add (table, repository, tag, id, created, size, NULL);
    }
}

/* podman's images -a adds intermediate images, which an OSTree store has
 * none of: every image is listed either way. */
static gboolean
image_is_listed (GVariant *props)
{
  return TRUE;
}

static int
verb_images (Client *client, const Verb *verb, int argc, char **argv)
{
  ListOptions options = { FALSE, FALSE, FALSE };
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) table = table_new ();
  int status;

  images =
      list_for_verb (client, verb, IMAGE_IFACE, image_is_listed, &options, argc, argv, &status);
  if (images == NULL)
    return status;
  table_add (table, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", NULL);
  for (guint i = 0; i < images->len; i++)
    add_image_rows (table, images->pdata[i], !options.no_trunc);
  table_print (table);
  return 0;
}

/* Opens the archive at @path for reading (import, load) or for writing
 * (export, save: created or truncated, as podman's -o); NULL or "-" is our
 * stdin or stdout, which must not be a terminal. Returns a new fd. */
int
open_archive (const char *path, gboolean for_writing, GError **error)
{
  int std_fd = for_writing ? STDOUT_FILENO : STDIN_FILENO;
  int fd;

  if (path == NULL || g_str_equal (path, "-"))
    {
      if (isatty (std_fd))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               for_writing ? "refusing to write an archive to a terminal: use "
                                             "-o FILE or redirect stdout"
                                           : "refusing to read an image from a terminal: pipe "
                                             "or redirect an archive into stdin");
          return -1;
        }
      fd = fcntl (std_fd, F_DUPFD_CLOEXEC, 3);
      path = for_writing ? "stdout" : "stdin";
    }
  else if (for_writing)
    fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
  else
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "cannot open %s: %s",
                   path, g_strerror (saved_errno));
      return -1;
    }
  return fd;
}

/* A list holding @fd, which it takes (the list keeps a duplicate). */
GUnixFDList *
fd_list_take (int fd, GError **error)
{
  g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
  gboolean added = g_unix_fd_list_append (fd_list, fd, error) >= 0;

  close (fd);
  return added ? g_steal_pointer (&fd_list) : NULL;
}

/* Imports the archive at @source ("-": stdin) through ImportImage; returns
 * the image's object path. */
static char *
import_image (Client *client, const char *source, const char *name, const char *format,
              GError **error)
{
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GUnixFDList) fd_list = NULL;
  g_autoptr (GVariant) reply = NULL;
  CtrManager *manager;
  char *image_path;
  int fd;

  g_variant_builder_add (&options, "{sv}", "Format",
                         g_variant_new_string (format != NULL ? format : "auto"));
  fd = open_archive (source, FALSE, error);
  if (fd < 0 || (fd_list = fd_list_take (fd, error)) == NULL)
    return NULL;
  manager = client_get_manager (client, FALSE, error);
  if (manager == NULL)
    return NULL;
  reply = call_changing (manager, "ImportImage",
                         g_variant_new ("(hsa{sv})", 0, name != NULL ? name : "", &options),
                         G_MAXINT, fd_list, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(o)", &image_path);
  return image_path;
}

static int
verb_import (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *format = NULL;
  const GOptionEntry entries[] = { { "format", 0, 0, G_OPTION_ARG_STRING, &format,
                                     "Archive format: auto (default) or rootfs-tar", "FORMAT" },
                                   { NULL } };
  g_autoptr (GError) error = NULL;
  g_autofree char *image_path = NULL;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 2))
    return EXIT_ERROR;
  image_path = import_image (client, argv[1], argc > 2 ? argv[2] : NULL, format, &error);
  if (image_path == NULL)
    return print_error (client, error);
  g_print ("%s\n", id_from_path (image_path));
  return 0;
}

/* Like podman load: an OCI or docker archive (or a rootfs tar), named by
 * what the archive says. */
static int
verb_load (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *input = NULL;
  const GOptionEntry entries[] = { { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
                                     "Read the archive from FILE instead of stdin", "FILE" },
                                   { NULL } };
  g_autoptr (GError) error = NULL;
  g_autofree char *image_path = NULL;
  g_autoptr (CtrImage) image = NULL;
  const char *const *names;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 0))
    return EXIT_ERROR;
  image_path = import_image (client, input != NULL ? input : "-", NULL, "auto", &error);
  if (image_path != NULL)
    image = get_image (client, id_from_path (image_path), &error);
  if (image == NULL)
    return print_error (client, error);
  names = ctr_image_get_names (image);
  if (names == NULL || names[0] == NULL)
    g_print ("Loaded image: %s\n", id_from_path (image_path));
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_print ("Loaded image: %s\n", names[i]);
  return 0;
}

/* Calls @method of @proxy with an fd for @path (NULL or "-": stdout) as handle 0 of
 * @parameters; a regular file left half written by a failure is removed. */
static gboolean
write_archive (gpointer proxy, const char *method, GVariant *parameters, const char *path,
               GError **error)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (parameters);
  g_autoptr (GUnixFDList) fd_list = NULL;
  g_autoptr (GVariant) reply = NULL;
  gboolean to_stdout = path == NULL || g_str_equal (path, "-");
  struct stat st;
  gboolean regular;
  int fd = open_archive (path, TRUE, error);

  if (fd < 0)
    return FALSE;
  regular = !to_stdout && fstat (fd, &st) == 0 && S_ISREG (st.st_mode);
  fd_list = fd_list_take (fd, error);
  if (fd_list != NULL)
    reply = call_changing (proxy, method, owned, G_MAXINT, fd_list, error);
  if (reply == NULL && regular)
    unlink (path);
  return reply != NULL;
}

/* ---- verbs acting on images */

/* tag IMAGE NAME… and untag IMAGE [NAME…]: Tag or Untag with each name;
 * untag without names removes them all, like podman untag. */
static int
verb_tag (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean untag = g_str_equal (verb->name, "untag");
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrImage) image = NULL;
  g_auto (GStrv) names = NULL;
  int status = 0;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, untag ? 1 : 2, -1))
    return EXIT_ERROR;
  image = get_image (client, argv[1], &error);
  if (image == NULL)
    return print_error (client, error);
  names = argc > 2 ? g_strdupv (argv + 2) : g_strdupv ((char **) ctr_image_get_names (image));
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr (GVariant) reply = call_changing (
          image, untag ? "Untag" : "Tag", g_variant_new ("(s)", names[i]), -1, NULL, &error);
      if (reply == NULL)
        {
          status = print_error (client, error);
          g_clear_error (&error);
        }
    }
  return status;
}

static int
verb_save (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *format = NULL;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE instead of stdout", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "Archive format: oci-archive (default) or rootfs-tar", "FORMAT" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrImage) image = NULL;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  image = get_image (client, argv[1], &error);
  if (image == NULL ||
      !write_archive (image, "Export",
                      g_variant_new ("(hs)", 0, format != NULL ? format : "oci-archive"), output,
                      &error))
    return print_error (client, error);
  return 0;
}

/* ---- create, run */

typedef struct
{
  char *name;
  char *entrypoint;
  char **env;
  char *workdir;
  char *hostname;
  char **labels;
  char *stop_signal;
  char *stop_timeout;
  gboolean remove;
  gboolean detach;
  char *network;
  char **publish;
  char **network_aliases;
  char *ip;
  char *memory;
  char *cpus;
  char *pids_limit;
  gboolean init;
  char *restart;
  gboolean tty;
  gboolean interactive;
  HealthOptions health;
  SecurityOptions security;
  char **volumes;
  char **tmpfs;
} CreateOptions;

static void
create_options_clear (CreateOptions *options)
{
  g_free (options->name);
  g_free (options->entrypoint);
  g_strfreev (options->env);
  g_free (options->workdir);
  g_free (options->hostname);
  g_strfreev (options->labels);
  g_free (options->stop_signal);
  g_free (options->stop_timeout);
  g_free (options->network);
  g_strfreev (options->publish);
  g_strfreev (options->network_aliases);
  g_free (options->ip);
  g_free (options->memory);
  g_free (options->cpus);
  g_free (options->pids_limit);
  g_free (options->restart);
  health_options_clear (&options->health);
  security_options_clear (&options->security);
  g_strfreev (options->volumes);
  g_strfreev (options->tmpfs);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CreateOptions, create_options_clear)

/* podman's -p [[HOST-IP:]HOST-PORT:]CONTAINER-PORT[/PROTOCOL], with the
 * host port required (the daemon reserves it; it picks none itself). */
static gboolean
parse_publish (const char *spec, GVariantBuilder *ports)
{
  g_autofree char *text = g_strdup (spec);
  const char *protocol = "tcp";
  char *slash = strrchr (text, '/');
  g_auto (GStrv) parts = NULL;
  guint n;
  guint64 host_port, container_port;

  if (slash != NULL)
    {
      *slash = '\0';
      protocol = slash + 1;
    }
  parts = g_strsplit (text, ":", -1);
  n = g_strv_length (parts);
  if ((n != 2 && n != 3) ||
      !g_ascii_string_to_unsigned (parts[n - 2], 10, 1, G_MAXUINT16, &host_port, NULL) ||
      !g_ascii_string_to_unsigned (parts[n - 1], 10, 1, G_MAXUINT16, &container_port, NULL))
    {
      usage_error ("--publish \"%s\": use [HOST-IP:]HOST-PORT:CONTAINER-PORT[/tcp|udp], ports "
                   "1..65535",
                   spec);
      return FALSE;
    }
  g_variant_builder_add (ports, "(sqqs)", n == 3 ? parts[0] : "", (guint16) host_port,
                         (guint16) container_port, protocol);
  return TRUE;
}

/* --network, --publish, --network-alias, --ip */
static gboolean
build_network_options (const CreateOptions *options, GVariantBuilder *builder)
{
  if (options->network != NULL)
    g_variant_builder_add (builder, "{sv}", "Network", g_variant_new_string (options->network));
  if (options->network_aliases != NULL)
    g_variant_builder_add (builder, "{sv}", "NetworkAliases",
                           g_variant_new_strv ((const char *const *) options->network_aliases, -1));
  if (options->ip != NULL)
    g_variant_builder_add (builder, "{sv}", "IPAddress", g_variant_new_string (options->ip));
  if (options->publish != NULL)
    {
      g_auto (GVariantBuilder) ports = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sqqs)"));

      for (guint i = 0; options->publish[i] != NULL; i++)
        if (!parse_publish (options->publish[i], &ports))
          return FALSE;
      g_variant_builder_add (builder, "{sv}", "PublishPorts", g_variant_builder_end (&ports));
    }
  return TRUE;
}

GVariant *
json_argv_variant (const char *text)
{
  g_autoptr (JsonNode) node = json_from_string (text, NULL);
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_auto (GStrv) strv = NULL;
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return NULL;
      g_strv_builder_add (argv, json_node_get_string (element));
    }
  strv = g_strv_builder_end (argv);
  return g_variant_new_strv ((const char *const *) strv, -1);
}

/* Like podman: a JSON array of strings is the argv, anything else a single
 * program name ("" clears the image's entrypoint). */
static GVariant *
entrypoint_to_variant (const char *entrypoint)
{
  GVariant *argv = json_argv_variant (entrypoint);

  if (argv != NULL)
    return argv;
  if (*entrypoint == '\0')
    return g_variant_new_strv (NULL, 0);
  return g_variant_new_strv ((const char *const[]){ entrypoint }, 1);
}

/* Like podman: "-e KEY" passes KEY's value from our own environment. */
static GVariant *
env_to_variant (char **env)
{
  g_autoptr (GStrvBuilder) entries = g_strv_builder_new ();
  g_auto (GStrv) strv = NULL;

  for (guint i = 0; env[i] != NULL; i++)
    {
      g_autofree char *entry = NULL;

      if (strchr (env[i], '=') != NULL)
        g_strv_builder_add (entries, env[i]);
      else if (g_getenv (env[i]) != NULL)
        {
          entry = g_strconcat (env[i], "=", g_getenv (env[i]), NULL);
          g_strv_builder_add (entries, entry);
        }
    }
  strv = g_strv_builder_end (entries);
  return g_variant_new_strv ((const char *const *) strv, -1);
}

GVariant *
labels_to_variant (char **labels)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; labels[i] != NULL; i++)
    {
      const char *equals = strchr (labels[i], '=');
      g_autofree char *key =
          equals ? g_strndup (labels[i], equals - labels[i]) : g_strdup (labels[i]);

      g_variant_builder_add (&builder, "{ss}", key, equals ? equals + 1 : "");
    }
  return g_variant_builder_end (&builder);
}

/* --memory, --cpus, --pids-limit, --init, --restart, --tty */
static gboolean
build_limit_options (const CreateOptions *options, GVariantBuilder *builder)
{
  guint64 memory;
  double cpus;
  gint64 pids;

  if (options->memory != NULL)
    {
      if (!parse_memory_option ("--memory", options->memory, &memory))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "MemoryLimit", g_variant_new_uint64 (memory));
    }
  if (options->cpus != NULL)
    {
      if (!parse_cpus_option ("--cpus", options->cpus, &cpus))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "CpuQuota", g_variant_new_double (cpus));
    }
  if (options->pids_limit != NULL)
    {
      if (!parse_pids_option ("--pids-limit", options->pids_limit, &pids))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "PidsLimit", g_variant_new_int64 (pids));
    }
  if (options->init)
    g_variant_builder_add (builder, "{sv}", "Init", g_variant_new_boolean (TRUE));
  if (options->restart != NULL)
    g_variant_builder_add (builder, "{sv}", "RestartPolicy",
                           g_variant_new_string (options->restart));
  if (options->tty)
    g_variant_builder_add (builder, "{sv}", "Tty", g_variant_new_boolean (TRUE));
  return TRUE;
}

static gboolean
build_create_options (const CreateOptions *options, GVariantBuilder *builder)
{
  guint32 stop_timeout;

  if (options->entrypoint != NULL)
    g_variant_builder_add (builder, "{sv}", "Entrypoint",
                           entrypoint_to_variant (options->entrypoint));
  if (options->env != NULL)
    g_variant_builder_add (builder, "{sv}", "Env", env_to_variant (options->env));
  if (options->workdir != NULL)
    g_variant_builder_add (builder, "{sv}", "WorkingDir", g_variant_new_string (options->workdir));
  if (options->hostname != NULL)
    g_variant_builder_add (builder, "{sv}", "Hostname", g_variant_new_string (options->hostname));
  if (options->labels != NULL)
    g_variant_builder_add (builder, "{sv}", "Labels", labels_to_variant (options->labels));
  if (options->stop_signal != NULL)
    g_variant_builder_add (builder, "{sv}", "StopSignal",
                           g_variant_new_string (options->stop_signal));
  /* In the foreground, run removes the container itself once Wait has
   * answered and the log is read: the daemon could remove it first. */
  if (options->remove && options->detach)
    g_variant_builder_add (builder, "{sv}", "AutoRemove", g_variant_new_boolean (TRUE));
  /* a container's input reaches it only through its terminal */
  if (options->interactive && !options->tty && !options->detach)
    {
      usage_error ("-i needs -t: the container's input is its terminal's");
      return FALSE;
    }
  if (options->stop_timeout != NULL)
    {
      if (!parse_uint32_option ("--stop-timeout", options->stop_timeout, &stop_timeout))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "StopTimeout", g_variant_new_uint32 (stop_timeout));
    }
  return build_limit_options (options, builder) && build_network_options (options, builder) &&
         build_health_options (&options->health, builder) &&
         build_security_options (&options->security, builder) &&
         build_mount_options (options->volumes, options->tmpfs, builder);
}

/* Parses create's options (and run's extra ones when @run_entries is set),
 * then calls CreateContainer. Returns the new container's proxy, or NULL with
 * *exit_status set. */
static CtrContainer *
parse_and_create (Client *client, const Verb *verb, const GOptionEntry *run_entries,
                  const char *description, CreateOptions *options, int argc, char **argv,
                  int *exit_status)
{
  const GOptionEntry create_entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &options->name, "Name of the container", "NAME" },
    { "entrypoint", 0, 0, G_OPTION_ARG_STRING, &options->entrypoint,
      "Override the image's entrypoint (a program or a JSON array)", "CMD" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &options->env,
      "Set an environment variable (KEY alone copies ours)", "KEY=VALUE" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &options->workdir,
      "Working directory inside the container", "DIR" },
    { "hostname", 0, 0, G_OPTION_ARG_STRING, &options->hostname, "Container hostname", "NAME" },
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &options->labels, "Set a label", "KEY=VALUE" },
    { "stop-signal", 0, 0, G_OPTION_ARG_STRING, &options->stop_signal,
      "Signal that stops the container (default SIGTERM)", "SIGNAL" },
    { "stop-timeout", 0, 0, G_OPTION_ARG_STRING, &options->stop_timeout,
      "Seconds before stop kills the container (default 10)", "SECONDS" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &options->network,
      "none (default), host, bridge or a network's name", "NETWORK" },
    { "publish", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &options->publish,
      "Publish a container port on the host", "[IP:]HOST-PORT:PORT[/udp]" },
    { "network-alias", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->network_aliases,
      "Another name the container has on its network", "NAME" },
    { "ip", 0, 0, G_OPTION_ARG_STRING, &options->ip, "Its address on its network", "ADDRESS" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &options->memory, "Memory limit", "BYTES[k|m|g]" },
    { "cpus", 0, 0, G_OPTION_ARG_STRING, &options->cpus, "CPU limit, such as 0.5", "CPUS" },
    { "pids-limit", 0, 0, G_OPTION_ARG_STRING, &options->pids_limit, "Process limit (-1: none)",
      "N" },
    { "init", 0, 0, G_OPTION_ARG_NONE, &options->init,
      "Run an init as PID 1 that reaps zombies and forwards signals", NULL },
    { "restart", 0, 0, G_OPTION_ARG_STRING, &options->restart, "Restart policy (default no)",
      "no|on-failure[:N]|always|unless-stopped" },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &options->tty, "Give the container a terminal", NULL },
    { "volume", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &options->volumes,
      "A bind (absolute SOURCE), a named volume, or an anonymous one (DESTINATION alone)",
      "[SOURCE:]DESTINATION[:ro]" },
    { "tmpfs", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->tmpfs, "Mount a tmpfs",
      "DESTINATION[:OPTIONS]" },
    { "health-cmd", 0, 0, G_OPTION_ARG_STRING, &options->health.cmd,
      "Health check: a shell command line, or a JSON array", "COMMAND" },
    { "health-interval", 0, 0, G_OPTION_ARG_STRING, &options->health.interval,
      "Time between health checks (default 30s)", "DURATION" },
    { "health-timeout", 0, 0, G_OPTION_ARG_STRING, &options->health.timeout,
      "Time a health check may take (default 30s)", "DURATION" },
    { "health-start-period", 0, 0, G_OPTION_ARG_STRING, &options->health.start_period,
      "Time at the start in which failed checks do not count (default 0s)", "DURATION" },
    { "health-retries", 0, 0, G_OPTION_ARG_STRING, &options->health.retries,
      "Failures in a row before unhealthy (default 3)", "N" },
    { "health-on-failure", 0, 0, G_OPTION_ARG_STRING, &options->health.on_failure,
      "What happens once unhealthy", "none|kill|restart|stop" },
    { "cap-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->security.cap_add,
      "Add capabilities to the default set (needs host access)", "CAP[,CAP...]" },
    { "cap-drop", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->security.cap_drop,
      "Drop capabilities from the default set (ALL: every one)", "CAP[,CAP...]" },
    { "privileged", 0, 0, G_OPTION_ARG_NONE, &options->security.privileged,
      "Every capability, no seccomp filter, the host's devices (needs host access)", NULL },
    { "security-opt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->security.security_opts,
      "seccomp=unconfined (needs host access), seccomp=PATH or no-new-privileges",
      "OPTION" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_auto (GVariantBuilder) create_options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) reply = NULL;
  CtrManager *manager;
  CtrContainer *container;
  const char *path;

  *exit_status = EXIT_ERROR;
  if (!parse_verb_options (verb, create_entries, run_entries, description, TRUE, &argc, &argv))
    return NULL;
  if (argc < 2)
    {
      usage_error ("an IMAGE is required");
      return NULL;
    }
  if (!build_create_options (options, &create_options))
    return NULL;

  manager = client_get_manager (client, FALSE, &error);
  if (manager != NULL)
    reply = call_changing (
        manager, "CreateContainer",
        g_variant_new ("(ss@asa{sv})", options->name != NULL ? options->name : "", argv[1],
                       g_variant_new_strv ((const char *const *) argv + 2, argc - 2),
                       &create_options),
        -1, NULL, &error);
  if (reply == NULL)
    {
      *exit_status = print_error (client, error);
      return NULL;
    }
  g_variant_get (reply, "(&o)", &path);
  container = ctr_container_proxy_new_sync (client->bus,
                                            G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
                                                G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                            BUS_NAME, path, NULL, &error);
  if (container == NULL)
    *exit_status = print_error (client, error);
  return container;
}

static const char create_description[] =
    "Options are read only before IMAGE: everything after it is the command.";

static int
verb_create (Client *client, const Verb *verb, int argc, char **argv)
{
  g_auto (CreateOptions) options = { NULL };
  g_autoptr (CtrContainer) container = NULL;
  int status;

  container =
      parse_and_create (client, verb, NULL, create_description, &options, argc, argv, &status);
  if (container == NULL)
    return status;
  g_print ("%s\n", proxy_id (container));
  return 0;
}

typedef struct
{
  GMainLoop *loop;
  CtrContainer *container;
  GVariant *reply;
  GError *error;
  int log_fd;
  guint log_source;
} WaitState;

typedef struct
{
  WaitState *state;
  int signum;
} SignalForward;

/* Done once Wait has answered and the log, if followed, has ended (the
 * daemon closes it when conmon, which writes it, is gone). */
static void
maybe_quit (WaitState *state)
{
  if ((state->reply != NULL || state->error != NULL) && state->log_source == 0)
    g_main_loop_quit (state->loop);
}

static void
on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitState *state = user_data;

  state->reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &state->error);
  maybe_quit (state);
}

static gboolean
on_log_readable (int fd, GIOCondition condition, gpointer user_data)
{
  WaitState *state = user_data;
  char buffer[8192];
  gssize n = read (fd, buffer, sizeof buffer);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  if (n > 0)
    {
      /* The container's output is ours, like podman run in the foreground. */
      fwrite (buffer, 1, n, stdout);
      fflush (stdout);
      return G_SOURCE_CONTINUE;
    }
  state->log_source = 0;
  maybe_quit (state);
  return G_SOURCE_REMOVE;
}

/* The container's log, followed (GetLogs); -1 when it cannot be had (for
 * example, polkit allows running but not reading logs): then run just waits. */
static int
open_followed_log (CtrContainer *container)
{
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariantBuilder options;
  gint32 handle;

  g_variant_builder_init (&options, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&options, "{sv}", "Follow", g_variant_new_boolean (TRUE));
  reply = g_dbus_proxy_call_with_unix_fd_list_sync (
      G_DBUS_PROXY (container), "GetLogs", g_variant_new ("(a{sv})", &options), CALL_CHANGING,
      G_MAXINT, NULL, &fds, NULL, NULL);
  if (reply == NULL || fds == NULL)
    return -1;
  g_variant_get (reply, "(h)", &handle);
  return g_unix_fd_list_get (fds, handle, NULL);
}

/* Like podman's --sig-proxy: signals we get go to the container, and we keep
 * waiting for it to exit. */
static gboolean
forward_signal (gpointer user_data)
{
  SignalForward *forward = user_data;
  g_autofree char *signal_number = g_strdup_printf ("%d", forward->signum);

  g_dbus_proxy_call (G_DBUS_PROXY (forward->state->container), "Kill",
                     g_variant_new ("(s)", signal_number), CALL_CHANGING, -1, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* Starts @container and waits for it, forwarding signals; returns its exit code. */
static gboolean
start_and_wait (CtrContainer *container, gint32 *exit_code, GError **error)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GVariant) reply = NULL;
  WaitState state = { loop, container, NULL, NULL, -1, 0 };
  SignalForward forwards[] = { { &state, SIGINT }, { &state, SIGTERM }, { &state, SIGHUP } };
  guint sources[G_N_ELEMENTS (forwards)];

  /* installed before Start, so a Ctrl-C while it starts is forwarded too */
  for (guint i = 0; i < G_N_ELEMENTS (forwards); i++)
    sources[i] = g_unix_signal_add (forwards[i].signum, forward_signal, &forwards[i]);
  reply = call_changing (container, "Start", NULL, G_MAXINT, NULL, error);
  if (reply != NULL)
    {
      g_dbus_proxy_call (G_DBUS_PROXY (container), "Wait", NULL, G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                         NULL, on_wait_done, &state);
      state.log_fd = open_followed_log (container);
      if (state.log_fd >= 0)
        state.log_source =
            g_unix_fd_add (state.log_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_log_readable, &state);
      g_main_loop_run (loop);
      if (state.log_source != 0)
        g_source_remove (state.log_source);
      if (state.log_fd >= 0)
        close (state.log_fd);
    }
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_source_remove (sources[i]);
  if (reply == NULL)
    return FALSE;
  if (state.reply == NULL)
    {
      g_propagate_error (error, state.error);
      return FALSE;
    }
  g_variant_get (state.reply, "(i)", exit_code);
  g_variant_unref (state.reply);
  return TRUE;
}

static int
verb_run (Client *client, const Verb *verb, int argc, char **argv)
{
  g_auto (CreateOptions) options = { NULL };
  const GOptionEntry run_entries[] = {
    { "rm", 0, 0, G_OPTION_ARG_NONE, &options.remove, "Remove the container when it exits", NULL },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &options.detach,
      "Print the container ID and do not wait", NULL },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &options.interactive,
      "Pass our stdin to its terminal (with -t)", NULL },
    { NULL }
  };
  g_autoptr (CtrContainer) container = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint32 exit_code = 0;
  int status;

  container = parse_and_create (client, verb, run_entries,
                                "Options are read only before IMAGE: everything after it is "
                                "the command. Without -d, the container's output (its log) is\n"
                                "shown until it exits, and its exit code is containersctl's.",
                                &options, argc, argv, &status);
  if (container == NULL)
    return status;
  if (options.detach)
    {
      reply = call_changing (container, "Start", NULL, G_MAXINT, NULL, &error);
      if (reply == NULL)
        return print_error (client, error);
      g_print ("%s\n", proxy_id (container));
      return 0;
    }

  if (options.tty)
    {
      gboolean detached;

      status = run_with_terminal (client, container, options.interactive, &detached);
      /* left running: --rm waits for the container's exit, which is not ours to see */
      if (detached)
        return status;
    }
  else if (start_and_wait (container, &exit_code, &error))
    status = exit_code >= 0 && exit_code < 256 ? exit_code : EXIT_ERROR;
  else
    status = print_error (client, error);
  g_clear_error (&error);
  if (options.remove)
    {
      reply = call_changing (container, "Remove", g_variant_new ("(bb)", FALSE, TRUE), G_MAXINT,
                             NULL, &error);
      if (reply == NULL)
        status = print_error (client, error);
    }
  return status;
}

/* ---- verbs acting on containers by name or ID */

/* Calls one method on each container named in argv[1..]. Like podman, a
 * failure is reported and the other containers are still handled. */
static int
call_each_container (Client *client, int argc, char **argv, const ContainerCall *call)
{
  g_autoptr (GVariant) parameters = call->parameters ? g_variant_ref_sink (call->parameters) : NULL;
  int status = 0;

  if (argc < 2)
    return usage_error ("at least one container name or ID is required");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrContainer) container = get_container (client, argv[i], FALSE, &error);
      g_autoptr (GVariant) reply = NULL;
      gint32 exit_code;

      if (container != NULL)
        reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (container), call->method, parameters,
                                        call->flags, call->timeout_ms, NULL, &error);
      if (reply == NULL)
        status = print_error (client, error);
      else if (call->output == PRINT_EXIT_CODE)
        {
          g_variant_get (reply, "(i)", &exit_code);
          g_print ("%d\n", exit_code);
        }
      else
        g_print ("%s\n", call->output == PRINT_ID ? proxy_id (container) : argv[i]);
    }
  return status;
}

/* wait, pause, unpause: no options, one call per container */
static int
verb_container_call (Client *client, const Verb *verb, int argc, char **argv)
{
  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  return call_each_container (client, argc, argv, verb->call);
}

/* ---- verbs acting on one container */

/* Calls @method on the container @name_or_id names; every such method but
 * Wait and GetSizes is authorized, so polkit may ask. */
static GVariant *
call_container_method (Client *client, const char *name_or_id, const char *method,
                       GVariant *parameters, int timeout_ms, GUnixFDList *fd_list,
                       GUnixFDList **out_fd_list, GError **error)
{
  g_autoptr (GVariant) owned = parameters != NULL ? g_variant_ref_sink (parameters) : NULL;
  g_autoptr (CtrContainer) container = get_container (client, name_or_id, FALSE, error);

  if (container == NULL)
    return NULL;
  return g_dbus_proxy_call_with_unix_fd_list_sync (G_DBUS_PROXY (container), method, owned,
                                                   CALL_CHANGING, timeout_ms, fd_list, out_fd_list,
                                                   NULL, error);
}

/* rename, rebase, rollback: CONTAINER and what verb->call->args says, no
 * output (like podman rename). */
static int
verb_one_container (Client *client, const Verb *verb, int argc, char **argv)
{
  const ContainerCall *call = verb->call;
  int n_args = call->args == CALL_ARGS_NONE ? 1 : 2;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariant *parameters = NULL;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, n_args, n_args))
    return EXIT_ERROR;
  if (call->args == CALL_ARGS_STRING)
    parameters = g_variant_new ("(s)", argv[2]);
  else if (call->args == CALL_ARGS_STRING_OPTIONS)
    parameters = g_variant_new ("(s@a{sv})", argv[2],
                                g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  reply = call_container_method (client, argv[1], call->method, parameters, call->timeout_ms, NULL,
                                 NULL, &error);
  return reply != NULL ? 0 : print_error (client, error);
}

/* A plain decimal number such as 12 or 1.5 at @text (no sign, exponent or
 * "inf"); *end is set after it, or to @text when there is none. */
static gboolean
parse_decimal (const char *text, double *value, const char **end)
{
  gsize length = strspn (text, "0123456789.");
  char *parsed_end = (char *) text;

  *value = 0;
  if (length > 0)
    *value = g_ascii_strtod (text, &parsed_end);
  if (length == 0 || parsed_end != text + length)
    {
      *end = text;
      return FALSE;
    }
  *end = parsed_end;
  return TRUE;
}

/* Like podman's --since: an RFC 3339 time, Unix seconds (with a fraction),
 * or a duration before now such as 10m or 1h30m. */
gboolean
parse_since (const char *option, const char *text, guint64 *usec)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (text, NULL);
  static const struct
  {
    const char *suffix;
    double usec;
  } units[] = { { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 }, { "h", 3600e6 } };
  double now = g_get_real_time ();
  double value, before = 0;
  const char *rest = text;
  const char *end;

  if (time != NULL)
    {
      gint64 unix_usec =
          g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);

      *usec = MAX (unix_usec, 0);
      return TRUE;
    }
  if (parse_decimal (text, &value, &end) && *end == '\0')
    {
      *usec = MIN (value * 1e6, (double) G_MAXINT64);
      return TRUE;
    }
  do
    {
      gboolean number = parse_decimal (rest, &value, &end);
      guint i = 0;

      while (i < G_N_ELEMENTS (units) && !g_str_has_prefix (end, units[i].suffix))
        i++;
      if (!number || i == G_N_ELEMENTS (units))
        {
          usage_error ("invalid %s \"%s\" (use an RFC 3339 time, Unix seconds or a "
                       "duration such as 10m)",
                       option, text);
          return FALSE;
        }
      before += value * units[i].usec;
      rest = end + strlen (units[i].suffix);
    }
  while (*rest != '\0');
  *usec = before < now ? now - before : 0;
  return TRUE;
}

/* Copies @fd to our stdout until its end; a reader of ours that went away
 * ends it quietly, like `podman logs | head`. */
static gboolean
copy_to_stdout (int fd, GError **error)
{
  char buffer[65536];
  gssize n;

  while ((n = read (fd, buffer, sizeof buffer)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "cannot read the log: %s", g_strerror (saved_errno));
          return FALSE;
        }
      for (gssize done = 0; done < n;)
        {
          gssize written = write (STDOUT_FILENO, buffer + done, n - done);

          if (written < 0 && errno == EINTR)
            continue;
          if (written < 0 && errno == EPIPE)
            return TRUE;
          if (written < 0)
            {
              int saved_errno = errno;
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                           "cannot write the log: %s", g_strerror (saved_errno));
              return FALSE;
            }
          done += written;
        }
    }
  return TRUE;
}

static int
verb_logs (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean follow = FALSE, timestamps = FALSE;
  g_autofree char *tail = NULL;
  g_autofree char *since = NULL;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, "Keep printing new lines until it stops",
      NULL },
    { "tail", 0, 0, G_OPTION_ARG_STRING, &tail, "Only the last N lines (-1: all)", "N" },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since,
      "Only lines since TIME (RFC 3339, Unix seconds, or a duration such as 10m)", "TIME" },
    { "timestamps", 't', 0, G_OPTION_ARG_NONE, &timestamps, "Prefix each line with its time",
      NULL },
    { NULL }
  };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint64 tail_lines = -1;
  guint64 since_usec = 0;
  gint32 handle;
  gboolean copied;
  int fd;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  if (tail != NULL && !g_ascii_string_to_signed (tail, 10, -1, G_MAXINT64, &tail_lines, NULL))
    return usage_error ("invalid --tail \"%s\" (use a number of lines, or -1 for all)", tail);
  if (since != NULL && !parse_since ("--since", since, &since_usec))
    return EXIT_ERROR;
  g_variant_builder_add (&options, "{sv}", "Follow", g_variant_new_boolean (follow));
  g_variant_builder_add (&options, "{sv}", "Timestamps", g_variant_new_boolean (timestamps));
  if (tail != NULL)
    g_variant_builder_add (&options, "{sv}", "Tail", g_variant_new_int64 (tail_lines));
  if (since != NULL)
    g_variant_builder_add (&options, "{sv}", "Since", g_variant_new_uint64 (since_usec));

  reply = call_container_method (client, argv[1], "GetLogs", g_variant_new ("(a{sv})", &options),
                                 -1, NULL, &fds, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(h)", &handle);
  fd = fds != NULL ? g_unix_fd_list_get (fds, handle, &error) : -1;
  if (fd < 0)
    {
      if (error == NULL)
        g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "GetLogs returned no pipe");
      return print_error (client, error);
    }
  copied = copy_to_stdout (fd, &error);
  close (fd);
  return copied ? 0 : print_error (client, error);
}

/* Like podman exec: options only before CONTAINER; the command gets our
 * stdout and stderr, our stdin only with -i, and its exit code is ours;
 * with -t it runs on a terminal (ctl-terminal.c). */
static int
verb_exec (Client *client, const Verb *verb, int argc, char **argv)
{
  g_auto (GStrv) env = NULL;
  g_autofree char *workdir = NULL;
  g_autofree char *user = NULL;
  gboolean interactive = FALSE, tty = FALSE;
  const GOptionEntry entries[] = {
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env,
      "Set an environment variable (KEY alone copies ours)", "KEY=VALUE" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &workdir, "Working directory inside the container",
      "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "Run as this user", "UID[:GID]" },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &interactive, "Pass our stdin to the command",
      NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &tty, "Run the command on a terminal (ours, with -i)",
      NULL },
    { NULL }
  };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  int stdio[] = { -1, STDOUT_FILENO, STDERR_FILENO };
  gint32 exit_code;
  int null_fd = -1;

  if (!parse_verb_options (verb, entries, NULL, "Options are read only before CONTAINER.", TRUE,
                           &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 2, -1))
    return EXIT_ERROR;
  if (env != NULL)
    g_variant_builder_add (&options, "{sv}", "Env", env_to_variant (env));
  if (workdir != NULL)
    g_variant_builder_add (&options, "{sv}", "WorkingDir", g_variant_new_string (workdir));
  if (user != NULL)
    g_variant_builder_add (&options, "{sv}", "User", g_variant_new_string (user));
  if (tty)
    {
      g_autoptr (CtrContainer) container = get_container (client, argv[1], FALSE, &error);

      if (container == NULL)
        return print_error (client, error);
      return exec_with_terminal (client, container, (const char *const *) argv + 2, &options,
                                 interactive);
    }

  /* without -i, podman gives the command no input: /dev/null */
  if (!interactive && (null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
    {
      int saved_errno = errno;
      g_printerr ("Error: cannot open /dev/null: %s\n", g_strerror (saved_errno));
      return EXIT_ERROR;
    }
  stdio[0] = interactive ? STDIN_FILENO : null_fd;
  for (guint i = 0; i < G_N_ELEMENTS (stdio) && error == NULL; i++)
    g_unix_fd_list_append (fd_list, stdio[i], &error);
  if (null_fd >= 0)
    close (null_fd);
  if (error != NULL)
    return print_error (client, error);

  reply = call_container_method (
      client, argv[1], "Exec",
      g_variant_new ("(@as@a{sv}hhh)",
                     g_variant_new_strv ((const char *const *) argv + 2, argc - 2),
                     g_variant_builder_end (&options), 0, 1, 2),
      G_MAXINT, fd_list, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(i)", &exit_code);
  return exit_code >= 0 && exit_code < 256 ? exit_code : EXIT_ERROR;
}

static int
verb_export (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = { { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
                                     "Write to FILE instead of stdout", "FILE" },
                                   { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) container = NULL;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  container = get_container (client, argv[1], FALSE, &error);
  if (container == NULL ||
      !write_archive (container, "Export", g_variant_new ("(h)", 0), output, &error))
    return print_error (client, error);
  return 0;
}

/* --pause takes an optional value (--pause=false), as podman's does; GOption
 * has no such boolean, so a callback sets it. */
static gboolean commit_pause;

/* The value of a podman-style --OPTION[=true|false] (no value: true). */
gboolean
parse_bool_value (const char *option_name, const char *value, gboolean *out, GError **error)
{
  if (value == NULL || g_str_equal (value, "true"))
    *out = TRUE;
  else if (g_str_equal (value, "false"))
    *out = FALSE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "invalid value \"%s\" for %s (use true or false)", value, option_name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_pause_option (const char *option_name, const char *value, gpointer data, GError **error)
{
  return parse_bool_value (option_name, value, &commit_pause, error);
}

static int
verb_commit (Client *client, const Verb *verb, int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "pause", 'p', G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_pause_option,
      "Freeze a running container during the commit (default true)", "true|false" },
    { NULL }
  };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *image_path;

  commit_pause = TRUE;
  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 2))
    return EXIT_ERROR;
  g_variant_builder_add (&options, "{sv}", "Pause", g_variant_new_boolean (commit_pause));
  reply = call_container_method (client, argv[1], "Commit",
                                 g_variant_new ("(sa{sv})", argc > 2 ? argv[2] : "", &options),
                                 G_MAXINT, NULL, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(&o)", &image_path);
  g_print ("%s\n", id_from_path (image_path));
  return 0;
}

/* diff: "A /path" lines, like podman diff */
static int
verb_diff (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) changes = NULL;
  const char *kind, *path;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  reply = call_container_method (client, argv[1], "GetChanges", NULL, G_MAXINT, NULL, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(a(ss))", &changes);
  while (g_variant_iter_next (changes, "(&s&s)", &kind, &path))
    g_print ("%s %s\n", kind, path);
  return 0;
}

/* verify: the image files that differ from the OSTree commit, one a line;
 * exit 1 when there are any, like a failed check. */
static int
verb_verify (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree const char **modified = NULL;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  reply = call_container_method (client, argv[1], "Verify", NULL, G_MAXINT, NULL, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(^a&s)", &modified);
  for (guint i = 0; modified[i] != NULL; i++)
    g_print ("%s\n", modified[i]);
  return modified[0] != NULL ? 1 : 0;
}

/* ---- prune, events */

static int
verb_prune (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL }, { NULL }
  };

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 0))
    return EXIT_ERROR;
  if (!force && !confirm ("WARNING! This will remove all stopped containers.\n"
                          "Are you sure you want to continue?"))
    return 0;
  return prune_and_print (client, "PruneContainers", NULL);
}

/* Calls one of the manager's prune methods and prints the IDs it removed. */
int
prune_and_print (Client *client, const char *method, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree const char **removed = NULL;
  CtrManager *manager = client_get_manager (client, FALSE, &error);

  if (manager != NULL)
    reply = call_changing (manager, method, parameters, G_MAXINT, NULL, &error);
  else if (parameters != NULL)
    g_variant_unref (g_variant_ref_sink (parameters));
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(^a&s)", &removed);
  for (guint i = 0; removed[i] != NULL; i++)
    g_print ("%s\n", removed[i]);
  return 0;
}

typedef struct
{
  Client *client;
  GMainLoop *loop;
  GHashTable *names; /* container ID → name, kept after a remove */
  int status;
  guint64 printed_until; /* the time of the last event printed from the history */
} EventsState;

/* An event's time as podman prints it, in local time. */
char *
format_event_time (guint64 time_usec)
{
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_local (time_usec / G_USEC_PER_SEC);
  g_autoptr (GDateTime) time =
      seconds != NULL ? g_date_time_add (seconds, time_usec % G_USEC_PER_SEC) : NULL;

  return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M:%S.%f %z %Z") : g_strdup ("?");
}

/* The container's name now, or the last one known once it is gone. */
static const char *
event_container_name (EventsState *state, const char *path, const char *id, const char *event)
{
  const char *name = g_hash_table_lookup (state->names, id);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;

  /* a rename event comes before the PropertiesChanged that would tell */
  if (name != NULL && !g_str_equal (event, "rename"))
    return name;
  reply = g_dbus_connection_call_sync (
      state->client->bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", CONTAINER_IFACE, "Name"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    {
      g_variant_get (reply, "(v)", &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        g_hash_table_insert (state->names, g_strdup (id), g_variant_dup_string (value, NULL));
    }
  name = g_hash_table_lookup (state->names, id);
  return name != NULL ? name : "<unknown>";
}

/* Like podman events: "TIME container EVENT NAME (ID)". */
static void
on_container_event (GDBusConnection *bus, const char *sender, const char *object_path,
                    const char *interface_name, const char *signal_name, GVariant *parameters,
                    gpointer user_data)
{
  EventsState *state = user_data;
  const char *path, *id, *event;
  guint64 time_usec;
  g_autofree char *time_text = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(osst)")))
    return;
  g_variant_get (parameters, "(&o&s&st)", &path, &id, &event, &time_usec);
  /* already printed from the history */
  if (time_usec <= state->printed_until)
    return;
  time_text = format_event_time (time_usec);
  g_print ("%s container %s %s (%s)\n", time_text, event,
           event_container_name (state, path, id, event), id);
  fflush (stdout);
}

static gboolean
on_events_interrupted (gpointer user_data)
{
  EventsState *state = user_data;

  g_main_loop_quit (state->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_bus_closed (GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
               gpointer user_data)
{
  EventsState *state = user_data;

  g_printerr ("Error: the connection to the system bus was closed\n");
  state->status = EXIT_ERROR;
  g_main_loop_quit (state->loop);
}

static gboolean events_stream;

static gboolean
parse_stream_option (const char *option_name, const char *value, gpointer data, GError **error)
{
  return parse_bool_value (option_name, value, &events_stream, error);
}

/* Prints the daemon's container events until interrupted; with --since,
 * --until or --stream=false, the history the daemon kept instead. */
static int
verb_events (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  EventsState state = { client, loop, names, 0, 0 };
  guint64 since_usec = 0, until_usec = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) containers = NULL;
  guint subscription, sigint, sigterm;
  gulong closed_handler;
  g_autofree char *since = NULL, *until = NULL;
  const GOptionEntry entries[] = { { "since", 0, 0, G_OPTION_ARG_STRING, &since,
                                     "Print past events from this time first", "TIME" },
                                   { "until", 0, 0, G_OPTION_ARG_STRING, &until,
                                     "Print past events up to this time, then exit", "TIME" },
                                   { "stream", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
                                     parse_stream_option, "false: print the history and exit",
                                     "true|false" },
                                   { NULL } };

  events_stream = TRUE;
  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 0))
    return EXIT_ERROR;
  if ((since != NULL && !parse_since ("--since", since, &since_usec)) ||
      (until != NULL && !parse_since ("--until", until, &until_usec)))
    return EXIT_ERROR;
  /* Like podman: --until ends the stream at that time, which the history
   * covers; --since alone prints the history, then what happens next. */
  if (until != NULL || !events_stream)
    {
      if (!events_print_history (client, since_usec, until_usec, &state.printed_until, &error))
        return print_error (client, error);
      return 0;
    }
  if (!client_connect (client, &error))
    return print_error (client, error);
  subscription = g_dbus_connection_signal_subscribe (
      client->bus, BUS_NAME, "org.example.Containers1.Manager", "ContainerEvent", MANAGER_PATH,
      NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_container_event, &state, NULL);
  /* Listed after subscribing: once this answers, the bus has our match rule,
   * so no event is missed between the two. */
  containers = list_objects (client, CONTAINER_IFACE, -1, &error);
  if (containers == NULL)
    {
      g_dbus_connection_signal_unsubscribe (client->bus, subscription);
      return print_error (client, error);
    }
  for (guint i = 0; i < containers->len; i++)
    g_hash_table_insert (names, g_strdup (prop_str (containers->pdata[i], "Id")),
                         g_strdup (prop_str (containers->pdata[i], "Name")));
  /* the events signalled meanwhile wait in the main context: those the
   * history printed are skipped */
  if (since != NULL && !events_print_history (client, since_usec, 0, &state.printed_until, &error))
    {
      g_dbus_connection_signal_unsubscribe (client->bus, subscription);
      return print_error (client, error);
    }

  g_dbus_connection_set_exit_on_close (client->bus, FALSE);
  closed_handler = g_signal_connect (client->bus, "closed", G_CALLBACK (on_bus_closed), &state);
  sigint = g_unix_signal_add (SIGINT, on_events_interrupted, &state);
  sigterm = g_unix_signal_add (SIGTERM, on_events_interrupted, &state);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handler_disconnect (client->bus, closed_handler);
  g_dbus_connection_signal_unsubscribe (client->bus, subscription);
  return state.status;
}

/* ---- groups: container VERB, image VERB */

/* Podman's names inside a group for verbs that have another name here. */
static const struct
{
  VerbGroup group;
  const char *alias;
  const char *verb;
} verb_aliases[] = {
  { GROUP_CONTAINER, "ls", "ps" }, { GROUP_CONTAINER, "list", "ps" },
  { GROUP_IMAGE, "ls", "images" }, { GROUP_IMAGE, "list", "images" },
  { GROUP_IMAGE, "rm", "rmi" },
};

static const Verb *find_verb (const char *name);
static const Verb *find_verb_of_group (VerbGroup group, const char *name);
static void print_verb_list (FILE *out, VerbGroup group, gboolean top_level);
static int verb_group (Client *client, const Verb *verb, int argc, char **argv);

static const Verb *
find_group_verb (VerbGroup group, const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (verb_aliases); i++)
    if (verb_aliases[i].group == group && g_str_equal (verb_aliases[i].alias, name))
      name = verb_aliases[i].verb;
  return find_verb_of_group (group, name);
}

static int
verb_group (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *prgname = NULL;
  const Verb *member;

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      FILE *out = argc < 2 ? stderr : stdout;

      fprintf (out, "Usage: %s COMMAND [OPTION…] [ARG…]\n\n%s.\n\nCommands:\n", g_get_prgname (),
               verb->summary);
      print_verb_list (out, verb->group, FALSE);
      return argc < 2 ? EXIT_ERROR : 0;
    }
  member = find_group_verb (verb->group, argv[1]);
  if (member == NULL)
    return usage_error ("unknown command \"%s\"", argv[1]);
  prgname = g_strconcat (g_get_prgname (), " ", argv[1], NULL);
  g_set_prgname (prgname);
  argv[1] = prgname;
  return member->run (client, member, argc - 1, argv + 1);
}

/* ---- network create, ls, inspect, rm */

static JsonNode *proxy_to_json (gpointer proxy);

static CtrNetwork *
get_network (Client *client, const char *name_or_id, GError **error)
{
  CtrManager *manager = client_get_manager (client, FALSE, error);
  g_autofree char *path = NULL;

  if (manager == NULL ||
      !ctr_manager_call_get_network_sync (manager, name_or_id, &path, NULL, error))
    {
      not_found_as_podman (error != NULL ? *error : NULL, OBJECT_NETWORK, name_or_id);
      return NULL;
    }
  return ctr_network_proxy_new_sync (client->bus, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                     BUS_NAME, path, NULL, error);
}

static int
network_create (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *subnet = NULL, *gateway = NULL, *interface = NULL;
  g_auto (GStrv) labels = NULL;
  gboolean internal = FALSE, disable_dns = FALSE;
  const GOptionEntry entries[] = {
    { "subnet", 0, 0, G_OPTION_ARG_STRING, &subnet, "IPv4 subnet (default: from the pool)",
      "CIDR" },
    { "gateway", 0, 0, G_OPTION_ARG_STRING, &gateway, "The bridge's address", "ADDRESS" },
    { "interface-name", 0, 0, G_OPTION_ARG_STRING, &interface, "The bridge device", "NAME" },
    { "internal", 0, 0, G_OPTION_ARG_NONE, &internal, "No route out of the network", NULL },
    { "disable-dns", 0, 0, G_OPTION_ARG_NONE, &disable_dns,
      "Containers do not resolve each other's names", NULL },
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &labels, "Set a label", "KEY=VALUE" },
    { NULL }
  };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  CtrManager *manager;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  if (subnet != NULL)
    g_variant_builder_add (&options, "{sv}", "Subnet", g_variant_new_string (subnet));
  if (gateway != NULL)
    g_variant_builder_add (&options, "{sv}", "Gateway", g_variant_new_string (gateway));
  if (interface != NULL)
    g_variant_builder_add (&options, "{sv}", "Interface", g_variant_new_string (interface));
  if (internal)
    g_variant_builder_add (&options, "{sv}", "Internal", g_variant_new_boolean (TRUE));
  if (disable_dns)
    g_variant_builder_add (&options, "{sv}", "DnsEnabled", g_variant_new_boolean (FALSE));
  if (labels != NULL)
    g_variant_builder_add (&options, "{sv}", "Labels", labels_to_variant (labels));
  manager = client_get_manager (client, FALSE, &error);
  if (manager != NULL)
    reply = call_changing (manager, "CreateNetwork",
                           g_variant_new ("(sa{sv})", argv[1], &options), -1, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_print ("%s\n", argv[1]);
  return 0;
}

static int
network_ls (Client *client, const Verb *verb, int argc, char **argv)
{
  ListOptions options = { FALSE, FALSE, FALSE };
  g_autoptr (GPtrArray) networks = NULL;
  g_autoptr (GPtrArray) table = table_new ();
  int status;

  networks = list_for_verb (client, verb, NETWORK_IFACE, NULL, &options, argc, argv, &status);
  if (networks == NULL)
    return status;
  table_add (table, "NETWORK ID", "NAME", "DRIVER", "SUBNET", "INTERFACE", NULL);
  for (guint i = 0; i < networks->len; i++)
    {
      GVariant *props = networks->pdata[i];
      g_autofree char *id = format_id (prop_str (props, "Id"), !options.no_trunc);

      table_add (table, id, prop_str (props, "Name"), prop_str (props, "Driver"),
                 prop_str (props, "Subnet"), prop_str (props, "Interface"), NULL);
    }
  table_print (table);
  return 0;
}

static int
network_inspect (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (JsonArray) array = json_array_new ();
  int status = 0;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, G_MAXINT))
    return EXIT_ERROR;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrNetwork) network = get_network (client, argv[i], &error);

      if (network == NULL)
        status = print_error (client, error);
      else
        json_array_add_element (array, proxy_to_json (network));
    }
  print_json_array (array);
  return status;
}

static int
network_rm (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Also when containers use it: stop them and move them off it", NULL },
    { NULL }
  };
  int status = 0;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, G_MAXINT))
    return EXIT_ERROR;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrNetwork) network = get_network (client, argv[i], &error);
      g_autoptr (GVariant) reply = NULL;

      if (network != NULL)
        reply = call_changing (network, "Remove", g_variant_new ("(b)", force), G_MAXINT, NULL,
                               &error);
      if (reply != NULL)
        g_print ("%s\n", argv[i]);
      /* like podman network rm: a missing network is exit 1, or no error with -f */
      else if (!(force && error_is_not_found (error)))
        {
          print_error (client, error);
          status = MAX (status, error_is_not_found (error) ? 1 : EXIT_ERROR);
        }
    }
  return status;
}

static const Verb network_verbs[] = {
  { "create", network_create, "NAME", "Create a bridge network" },
  { "ls", network_ls, NULL, "List networks" },
  { "inspect", network_inspect, "NETWORK…", "Show the properties of networks" },
  { "rm", network_rm, "NETWORK…", "Remove networks" },
  { "exists", network_exists, "NETWORK", "Exit 0 if the network exists, 1 if not" },
};

int
run_table_verb (Client *client, const Verb *group, const Verb *table, gsize n_table,
                const char *const (*aliases)[2], gsize n_aliases, int argc, char **argv)
{
  g_autofree char *prgname = NULL;
  const char *name;

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      FILE *out = argc < 2 ? stderr : stdout;

      fprintf (out, "Usage: %s COMMAND [OPTION…] [ARG…]\n\n%s.\n\nCommands:\n", g_get_prgname (),
               group->summary);
      for (gsize i = 0; i < n_table; i++)
        fprintf (out, "  %-10s %s\n", table[i].name, table[i].summary);
      return argc < 2 ? EXIT_ERROR : 0;
    }
  name = argv[1];
  for (gsize i = 0; i < n_aliases; i++)
    if (g_str_equal (name, aliases[i][0]))
      name = aliases[i][1];
  for (gsize i = 0; i < n_table; i++)
    if (g_str_equal (table[i].name, name))
      {
        prgname = g_strconcat (g_get_prgname (), " ", argv[1], NULL);
        g_set_prgname (prgname);
        argv[1] = prgname;
        return table[i].run (client, &table[i], argc - 1, argv + 1);
      }
  return usage_error ("unknown command \"%s\"", argv[1]);
}

/* `containersctl network VERB`, like podman network. */
static int
verb_network (Client *client, const Verb *verb, int argc, char **argv)
{
  static const char *const aliases[][2] = { { "list", "ls" }, { "remove", "rm" } };

  return run_table_verb (client, verb, network_verbs, G_N_ELEMENTS (network_verbs), aliases,
                         G_N_ELEMENTS (aliases), argc, argv);
}

/* ---- ps, inspect, version */

static int
verb_ps (Client *client, const Verb *verb, int argc, char **argv)
{
  ListOptions options = { FALSE, FALSE, FALSE };
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GPtrArray) table = table_new ();
  int status;

  containers =
      list_for_verb (client, verb, CONTAINER_IFACE, container_is_up, &options, argc, argv, &status);
  if (containers == NULL)
    return status;
  table_add (table, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES", NULL);
  for (guint i = 0; i < containers->len; i++)
    {
      g_auto (ContainerRow) row = { 0 };
      g_autofree char *id = NULL;
      g_autofree char *command = NULL;
      g_autofree char *created = NULL;
      g_autofree char *state = NULL;

      container_row_read (&row, containers->pdata[i]);
      id = format_id (row.id, !options.no_trunc);
      command = format_command (row.command, !options.no_trunc);
      created = format_ago (row.created_at);
      state = format_status (&row);
      table_add (table, id, row.image_name, command, created, state, row.name, NULL);
    }
  table_print (table);
  return 0;
}

/* All cached properties of @proxy, in the order of its interface. */
static JsonNode *
proxy_to_json (gpointer proxy)
{
  GDBusInterfaceInfo *info = g_dbus_proxy_get_interface_info (G_DBUS_PROXY (proxy));
  g_auto (GVariantBuilder) props = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) dict = NULL;

  for (guint i = 0; info->properties != NULL && info->properties[i] != NULL; i++)
    {
      const char *name = info->properties[i]->name;
      g_autoptr (GVariant) value = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (proxy), name);

      if (value != NULL)
        g_variant_builder_add (&props, "{sv}", name, value);
    }
  dict = g_variant_ref_sink (g_variant_builder_end (&props));
  return props_to_json (dict);
}

/* Like podman inspect: containers first, then images, unless --type says;
 * what is missing is said in podman's words. */
static gpointer
get_inspect_object (Client *client, const char *arg, const char *type, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gpointer object = NULL;

  if (g_strcmp0 (type, "image") != 0)
    object = get_container (client, arg, TRUE, &local_error);
  if (object == NULL && type == NULL && error_is_not_found (local_error))
    g_clear_error (&local_error);
  if (object == NULL && local_error == NULL)
    object = get_image (client, arg, &local_error);
  if (object != NULL)
    return object;
  if (!error_is_not_found (local_error))
    g_propagate_error (error, g_steal_pointer (&local_error));
  else if (type == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "inspecting object: no such object: \"%s\"", arg);
  else if (g_str_equal (type, "image"))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "inspecting object: %s: image not known",
                 arg);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "inspecting object: no such container %s",
                 arg);
  return NULL;
}

static int
verb_inspect (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *type = NULL;
  const GOptionEntry entries[] = { { "type", 't', 0, G_OPTION_ARG_STRING, &type,
                                     "Only look for a container or an image", "container|image" },
                                   { NULL } };
  g_autoptr (JsonArray) array = json_array_new ();
  int status = 0;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  if (type != NULL && !g_str_equal (type, "container") && !g_str_equal (type, "image"))
    return usage_error ("unknown --type \"%s\" (use container or image)", type);
  if (argc < 2)
    return usage_error ("at least one container or image is required");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GObject) object = get_inspect_object (client, argv[i], type, &error);

      if (object == NULL)
        status = print_error (client, error);
      else
        json_array_add_element (array, proxy_to_json (object));
    }
  print_json_array (array);
  return status;
}

static int
verb_version (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  CtrManager *manager;

  if (!parse_verb_options (verb, NULL, NULL, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  if (argc > 1)
    return usage_error ("unexpected argument \"%s\"", argv[1]);
  g_print ("Client:\n  Version:      %s\n", PACKAGE_VERSION);
  manager = client_get_manager (client, TRUE, &error);
  if (manager == NULL)
    return print_error (client, error);
  /* GDBusProxy swallows a failed GetAll, so an absent daemon shows as no properties */
  if (ctr_manager_get_version (manager) == NULL)
    {
      g_printerr ("Error: cannot reach %s on the system bus\n", BUS_NAME);
      return EXIT_ERROR;
    }
  g_print ("Server:\n  Version:      %s\n  Runtime:      %s\n  StorageRoot:  %s\n"
           "  RepoPath:     %s\n",
           ctr_manager_get_version (manager), ctr_manager_get_runtime (manager),
           ctr_manager_get_storage_root (manager), ctr_manager_get_repo_path (manager));
  return 0;
}

/* Whether verb_complete lists a container of @props for @what. */
static gboolean
container_completes (GVariant *props, const char *what)
{
  if (g_str_equal (what, "running"))
    return container_is_up (props);
  if (g_str_equal (what, "paused"))
    return g_str_equal (prop_str (props, "State"), "paused");
  return TRUE;
}

/* Hidden verb for the bash completion: prints names, one a line. */
static int
verb_complete (Client *client, const Verb *verb, int argc, char **argv)
{
  static const char *const kinds[] = { "containers", "running", "paused", "images", NULL };
  gboolean images;
  g_autoptr (GPtrArray) objects = NULL;

  if (argc != 2 || !g_strv_contains (kinds, argv[1]))
    return usage_error ("expected containers, running, paused or images");
  images = g_str_equal (argv[1], "images");
  objects =
      list_objects (client, images ? IMAGE_IFACE : CONTAINER_IFACE, COMPLETION_TIMEOUT_MS, NULL);
  for (guint i = 0; objects != NULL && i < objects->len; i++)
    {
      GVariant *props = objects->pdata[i];
      g_auto (GStrv) names = NULL;

      if (!images && container_completes (props, argv[1]))
        g_print ("%s\n", prop_str (props, "Name"));
      if (!images)
        continue;
      names = prop_strv (props, "Names");
      for (guint n = 0; names[n] != NULL; n++)
        g_print ("%s\n", names[n]);
    }
  return objects != NULL ? 0 : EXIT_ERROR;
}

/* ---- dispatch */

static const ContainerCall stop_call = { "Stop", NULL, G_MAXINT, CALL_CHANGING, PRINT_ARGUMENT };
static const ContainerCall restart_call = { "Restart", NULL, G_MAXINT, CALL_CHANGING,
                                            PRINT_ARGUMENT };
static const ContainerCall pause_call = { "Pause", NULL, -1, CALL_CHANGING, PRINT_ARGUMENT };
static const ContainerCall unpause_call = { "Unpause", NULL, -1, CALL_CHANGING, PRINT_ARGUMENT };
static const ContainerCall wait_call = { "Wait", NULL, G_MAXINT, G_DBUS_CALL_FLAGS_NONE,
                                         PRINT_EXIT_CODE };
/* for verb_one_container, which always lets polkit ask and prints nothing */
static const ContainerCall rename_call = { .method = "Rename",
                                           .timeout_ms = -1,
                                           .args = CALL_ARGS_STRING };
static const ContainerCall rebase_call = { .method = "Rebase",
                                           .timeout_ms = G_MAXINT,
                                           .args = CALL_ARGS_STRING_OPTIONS };
static const ContainerCall rollback_call = { .method = "Rollback",
                                             .timeout_ms = G_MAXINT,
                                             .args = CALL_ARGS_NONE };

static const Verb verbs[] = {
  { "ps", verb_ps, NULL, "List containers", GROUP_CONTAINER },
  { "create", verb_create, "IMAGE [COMMAND [ARG…]]", "Create a container", GROUP_CONTAINER },
  { "run", verb_run, "IMAGE [COMMAND [ARG…]]", "Create and start a container, then wait for it",
    GROUP_CONTAINER },
  { "start", verb_start, "CONTAINER…", "Start containers", GROUP_CONTAINER },
  { "stop", verb_stop, "CONTAINER…", "Stop containers", GROUP_CONTAINER, &stop_call },
  { "restart", verb_stop, "CONTAINER…", "Restart containers", GROUP_CONTAINER, &restart_call },
  { "kill", verb_kill, "CONTAINER…", "Send a signal to containers", GROUP_CONTAINER },
  { "pause", verb_container_call, "CONTAINER…", "Freeze the processes of containers",
    GROUP_CONTAINER, &pause_call },
  { "unpause", verb_container_call, "CONTAINER…", "Thaw paused containers", GROUP_CONTAINER,
    &unpause_call },
  { "wait", verb_container_call, "CONTAINER…",
    "Wait for containers to exit and print their exit codes", GROUP_CONTAINER, &wait_call },
  { "rm", verb_rm, "CONTAINER…", "Remove containers", GROUP_CONTAINER },
  { "prune", verb_prune, NULL, "Remove all stopped containers", GROUP_CONTAINER },
  { "exists", verb_container_exists, "CONTAINER", "Exit 0 if the container exists, 1 if not",
    GROUP_CONTAINER, .group_only = TRUE },
  { "rename", verb_one_container, "CONTAINER NEW-NAME", "Rename a container", GROUP_CONTAINER,
    &rename_call },
  { "logs", verb_logs, "CONTAINER", "Show what a container printed", GROUP_CONTAINER },
  { "exec", verb_exec, "CONTAINER COMMAND [ARG…]", "Run a command in a running container",
    GROUP_CONTAINER },
  { "attach", verb_attach, "CONTAINER", "Attach to the terminal of a running container",
    GROUP_CONTAINER },
  { "export", verb_export, "CONTAINER", "Write a container's filesystem as a tar",
    GROUP_CONTAINER },
  { "commit", verb_commit, "CONTAINER [IMAGE]", "Make an image of a container's filesystem",
    GROUP_CONTAINER },
  { "diff", verb_diff, "CONTAINER", "List the files a container added, changed or deleted",
    GROUP_CONTAINER },
  { "rebase", verb_one_container, "CONTAINER IMAGE", "Move a stopped container onto another image",
    GROUP_CONTAINER, &rebase_call },
  { "rollback", verb_one_container, "CONTAINER", "Move a container back onto its previous image",
    GROUP_CONTAINER, &rollback_call },
  { "verify", verb_verify, "CONTAINER",
    "List the image files of a container that differ from the image", GROUP_CONTAINER },
  { "cp", verb_cp, "SRC DST", "Copy files between a container and the host (CONTAINER:PATH, -)",
    GROUP_CONTAINER },
  { "stats", verb_stats, "[CONTAINER…]", "Show the resource use of running containers",
    GROUP_CONTAINER },
  { "update", verb_update, "CONTAINER", "Change the resource limits of a container",
    GROUP_CONTAINER },
  { "healthcheck", verb_healthcheck, "run CONTAINER", "Run a container's health check now",
    GROUP_NONE },
  { "images", verb_images, NULL, "List images", GROUP_IMAGE },
  { "import", verb_import, "FILE|- [NAME]", "Import a root filesystem tarball as an image",
    GROUP_IMAGE },
  { "load", verb_load, NULL, "Load an image archive (OCI, docker or rootfs tar)", GROUP_IMAGE },
  { "save", verb_save, "IMAGE", "Write an image as an archive", GROUP_IMAGE },
  { "tag", verb_tag, "IMAGE NAME…", "Add names to an image", GROUP_IMAGE },
  { "untag", verb_tag, "IMAGE [NAME…]", "Remove names (all without NAME) from an image",
    GROUP_IMAGE },
  { "rmi", verb_rmi, "IMAGE…", "Remove images", GROUP_IMAGE },
  { "exists", verb_image_exists, "IMAGE", "Exit 0 if the image exists, 1 if not", GROUP_IMAGE,
    .group_only = TRUE },
  { "pull", verb_pull, "REFERENCE", "Pull an image from a registry", GROUP_IMAGE },
  { "push", verb_push, "IMAGE DESTINATION", "Push an image to a registry", GROUP_IMAGE },
  /* after the containers' prune, which `containersctl prune` stays */
  { "prune", verb_image_prune, NULL, "Remove unused images (as `image prune`; -a: named ones too)",
    GROUP_IMAGE },
  { "container", verb_group, "COMMAND", "Manage containers", GROUP_CONTAINER },
  { "image", verb_group, "COMMAND", "Manage images", GROUP_IMAGE },
  { "network", verb_network, "COMMAND", "Manage networks (create, ls, inspect, rm, exists)" },
  { "volume", verb_volume, "COMMAND", "Manage volumes (create, ls, inspect, rm, prune, exists)" },
  { "inspect", verb_inspect, "CONTAINER|IMAGE…", "Show the properties of containers or images" },
  { "events", verb_events, NULL, "Show container events as they happen" },
  { "version", verb_version, NULL, "Show client and daemon versions" },
  { "__complete", verb_complete, "containers|running|paused|images", "Print names for completion",
    GROUP_NONE, NULL, TRUE },
};

/* The group verbs (container, image) are listed with the ungrouped ones. */
static gboolean
verb_listed_in (const Verb *verb, VerbGroup group, gboolean top_level)
{
  if (verb->hidden || (verb->group_only && top_level))
    return FALSE;
  if (verb->run == verb_group)
    return group == GROUP_NONE;
  return verb->group == group;
}

static void
print_verb_list (FILE *out, VerbGroup group, gboolean top_level)
{
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (verb_listed_in (&verbs[i], group, top_level))
      fprintf (out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: containersctl [--debug] COMMAND [OPTION…] [ARG…]\n\n"
                "Manage the containers and images of containersd.\n\nContainer commands:\n");
  print_verb_list (out, GROUP_CONTAINER, TRUE);
  fprintf (out, "\nImage commands:\n");
  print_verb_list (out, GROUP_IMAGE, TRUE);
  fprintf (out, "\nOther commands:\n");
  print_verb_list (out, GROUP_NONE, TRUE);
  fprintf (out, "\nOptions:\n"
                "  --debug    Show D-Bus error names\n"
                "  --help     Show this help\n\n"
                "Run 'containersctl COMMAND --help' for the options of a command.\n");
}

/* by group, as two groups may have a verb of one name (prune) */
static const Verb *
find_verb_of_group (VerbGroup group, const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (verbs[i].group == group && verbs[i].run != verb_group && g_str_equal (verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

static const Verb *
find_verb (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (!verbs[i].group_only && g_str_equal (verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  Client client = { FALSE, NULL, NULL };
  g_autofree char *prgname = NULL;
  const Verb *verb;
  int first = 1;
  int status;

  setlocale (LC_ALL, "");
  for (; first < argc && argv[first][0] == '-'; first++)
    {
      if (g_str_equal (argv[first], "--debug"))
        client.debug = TRUE;
      else if (g_str_equal (argv[first], "--help") || g_str_equal (argv[first], "-h"))
        {
          print_usage (stdout);
          return 0;
        }
      else
        {
          g_printerr ("Error: unknown option \"%s\"\nSee 'containersctl --help'.\n", argv[first]);
          return EXIT_ERROR;
        }
    }
  if (first == argc)
    {
      print_usage (stderr);
      return EXIT_ERROR;
    }
  verb = find_verb (argv[first]);
  if (verb == NULL)
    {
      g_printerr ("Error: unknown command \"%s\"\nSee 'containersctl --help'.\n", argv[first]);
      return EXIT_ERROR;
    }

  /* GOption names the program from prgname in usage and errors */
  prgname = g_strconcat ("containersctl ", verb->name, NULL);
  g_set_prgname (prgname);
  argv[first] = prgname;
  status = verb->run (&client, verb, argc - first, argv + first);
  client_clear (&client);
  return status;
}
