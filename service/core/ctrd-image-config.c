/* ctrd-image-config.c: the OCI image config: parsed as defaults, built for
 * root filesystem imports, commits and exports. */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>

#include "ctrd-image-config.h"

/* ------------------------------------------------------------------ */
/* Typed look-ups in untrusted JSON */

const char *
ctrd_json_member_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

JsonObject *
ctrd_json_member_object (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
ctrd_json_member_array (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

char *
ctrd_json_to_text (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/* ------------------------------------------------------------------ */
/* The image config as defaults */

static char **
json_string_array (JsonObject *object, const char *member)
{
  JsonArray *array = ctrd_json_member_array (object, member);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_ptr_array_add (out, g_strdup (json_node_get_string (element)));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static char **
json_sorted_keys (JsonObject *object, const char *member)
{
  JsonObject *set = ctrd_json_member_object (object, member);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GList) keys = set != NULL ? json_object_get_members (set) : NULL;

  for (GList *l = keys; l != NULL; l = l->next)
    g_ptr_array_add (out, g_strdup (l->data));
  g_ptr_array_sort (out, compare_strings);
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

guint64
ctrd_image_config_parse_created (const char *text)
{
  g_autoptr (GDateTime) time = NULL;
  gint64 usec;

  if (text == NULL)
    return 0;
  time = g_date_time_new_from_iso8601 (text, NULL);
  if (time == NULL)
    return 0;
  usec = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return usec > 0 ? (guint64) usec : 0;
}

CtrdImageConfig *
ctrd_image_config_parse (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  CtrdImageConfig *config = g_new0 (CtrdImageConfig, 1);
  JsonObject *root = NULL;
  JsonObject *runtime = NULL;
  JsonObject *labels;

  if (json != NULL && json_parser_load_from_data (parser, json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      root = json_node_get_object (json_parser_get_root (parser));
      runtime = ctrd_json_member_object (root, "config");
    }
  config->entrypoint = json_string_array (runtime, "Entrypoint");
  config->cmd = json_string_array (runtime, "Cmd");
  config->env = json_string_array (runtime, "Env");
  config->working_dir = g_strdup (ctrd_json_member_string (runtime, "WorkingDir") ?: "");
  config->user = g_strdup (ctrd_json_member_string (runtime, "User") ?: "");
  config->stop_signal = g_strdup (ctrd_json_member_string (runtime, "StopSignal") ?: "");
  config->exposed_ports = json_sorted_keys (runtime, "ExposedPorts");
  config->volumes = json_sorted_keys (runtime, "Volumes");
  config->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  labels = ctrd_json_member_object (runtime, "Labels");
  if (labels != NULL)
    {
      g_autoptr (GList) keys = json_object_get_members (labels);
      for (GList *l = keys; l != NULL; l = l->next)
        {
          const char *value = ctrd_json_member_string (labels, l->data);
          if (value != NULL)
            g_hash_table_insert (config->labels, g_strdup (l->data), g_strdup (value));
        }
    }
  config->created = ctrd_image_config_parse_created (ctrd_json_member_string (root, "created"));
  return config;
}

void
ctrd_image_config_free (CtrdImageConfig *config)
{
  if (config == NULL)
    return;
  g_strfreev (config->entrypoint);
  g_strfreev (config->cmd);
  g_strfreev (config->env);
  g_free (config->working_dir);
  g_free (config->user);
  g_free (config->stop_signal);
  g_strfreev (config->exposed_ports);
  g_strfreev (config->volumes);
  g_clear_pointer (&config->labels, g_hash_table_unref);
  g_free (config);
}

/* ------------------------------------------------------------------ */
/* Configs the daemon writes */

char *
ctrd_image_config_oci_architecture (void)
{
  static const struct
  {
    const char *machine;
    const char *oci;
  } map[] = {
    { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "i386", "386" },        { "i486", "386" },
    { "i586", "386" },        { "i686", "386" },      { "armv7l", "arm" },      { "armv6l", "arm" },
    { "ppc64le", "ppc64le" }, { "s390x", "s390x" },   { "riscv64", "riscv64" },
  };
  struct utsname uts;

  if (uname (&uts) < 0)
    return g_strdup ("unknown");
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (strcmp (uts.machine, map[i].machine) == 0)
      return g_strdup (map[i].oci);
  return g_strdup (uts.machine);
}

char *
ctrd_image_config_format_created (guint64 created_usec)
{
  g_autoptr (GDateTime) created =
      g_date_time_new_from_unix_utc ((gint64) (created_usec / G_USEC_PER_SEC));
  g_autofree char *seconds_text = g_date_time_format (created, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%06uZ", seconds_text, (guint) (created_usec % G_USEC_PER_SEC));
}

char *
ctrd_image_config_new_for_rootfs (guint64 created_usec, const char *diff_id)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *created_text = ctrd_image_config_format_created (created_usec);
  g_autofree char *arch = ctrd_image_config_oci_architecture ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, created_text);
  json_builder_set_member_name (builder, "architecture");
  json_builder_add_string_value (builder, arch);
  json_builder_set_member_name (builder, "os");
  json_builder_add_string_value (builder, "linux");
  /* A root filesystem tar says nothing about how to run it: no Cmd and no
   * Entrypoint, and the PATH every image-less runtime assumes. */
  json_builder_set_member_name (builder, "config");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Env");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, CTRD_IMAGE_CONFIG_DEFAULT_PATH_ENV);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "rootfs");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "layers");
  json_builder_set_member_name (builder, "diff_ids");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, diff_id);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return ctrd_json_to_text (root);
}

static void
json_object_set_strv (JsonObject *object, const char *member, const char *const *strv)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  json_object_set_array_member (object, member, array);
}

/* The JSON object @member of @parent, made (or replacing a non-object) if needed. */
static JsonObject *
json_object_ensure_object (JsonObject *parent, const char *member)
{
  JsonNode *node = json_object_get_member (parent, member);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    json_object_set_object_member (parent, member, json_object_new ());
  return json_object_get_object_member (parent, member);
}

static JsonArray *
json_object_ensure_array (JsonObject *parent, const char *member)
{
  JsonNode *node = json_object_get_member (parent, member);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    json_object_set_array_member (parent, member, json_array_new ());
  return json_object_get_array_member (parent, member);
}

static void
apply_changes (JsonObject *root, const CtrdImageConfigChanges *changes)
{
  JsonObject *config;

  /* In this order: the members keep their order in the text, whose digest
   * is the image ID. */
  if (changes != NULL && changes->author != NULL)
    json_object_set_string_member (root, "author", changes->author);
  config = json_object_ensure_object (root, "config");
  if (changes == NULL)
    return;
  if (changes->command != NULL)
    json_object_set_strv (config, "Cmd", changes->command);
  if (changes->entrypoint != NULL)
    json_object_set_strv (config, "Entrypoint", changes->entrypoint);
  if (changes->env != NULL)
    json_object_set_strv (config, "Env", changes->env);
  if (changes->labels != NULL)
    {
      JsonObject *labels = json_object_new ();
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, changes->labels);
      while (g_hash_table_iter_next (&iter, &key, &value))
        json_object_set_string_member (labels, key, value);
      json_object_set_object_member (config, "Labels", labels);
    }
}

char *
ctrd_image_config_for_commit (const char *base_config, const CtrdImageConfigChanges *changes,
                              const char *diff_id, guint64 created_usec, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *created_text = ctrd_image_config_format_created (created_usec);
  JsonObject *root, *rootfs, *history_entry;
  JsonNode *root_node;

  if (base_config == NULL || !json_parser_load_from_data (parser, base_config, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autofree char *fallback = ctrd_image_config_new_for_rootfs (created_usec, diff_id);
      if (!json_parser_load_from_data (parser, fallback, -1, error))
        return NULL;
    }
  root_node = json_parser_get_root (parser);
  root = json_node_get_object (root_node);

  json_object_set_string_member (root, "created", created_text);
  apply_changes (root, changes);

  rootfs = json_object_ensure_object (root, "rootfs");
  json_object_set_string_member (rootfs, "type", "layers");
  json_array_add_string_element (json_object_ensure_array (rootfs, "diff_ids"), diff_id);

  history_entry = json_object_new ();
  json_object_set_string_member (history_entry, "created", created_text);
  json_object_set_string_member (history_entry, "created_by", "containersd commit");
  if (changes != NULL && changes->comment != NULL)
    json_object_set_string_member (history_entry, "comment", changes->comment);
  json_array_add_object_element (json_object_ensure_array (root, "history"), history_entry);

  return ctrd_json_to_text (root_node);
}

char *
ctrd_image_config_for_export (const char *config_json, const char *diff_id)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) root_node = NULL;
  JsonObject *root, *rootfs, *entry;
  JsonArray *diff_ids, *history;
  const char *created;

  if (config_json != NULL && json_parser_load_from_data (parser, config_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    root_node = json_node_copy (json_parser_get_root (parser));
  else
    root_node = json_node_init_object (json_node_alloc (), json_object_new ());
  root = json_node_get_object (root_node);
  if (ctrd_json_member_string (root, "os") == NULL)
    json_object_set_string_member (root, "os", "linux");
  if (ctrd_json_member_string (root, "architecture") == NULL)
    {
      g_autofree char *arch = ctrd_image_config_oci_architecture ();
      json_object_set_string_member (root, "architecture", arch);
    }

  rootfs = json_object_new ();
  diff_ids = json_array_new ();
  json_array_add_string_element (diff_ids, diff_id);
  json_object_set_string_member (rootfs, "type", "layers");
  json_object_set_array_member (rootfs, "diff_ids", diff_ids);
  json_object_set_object_member (root, "rootfs", rootfs);

  history = json_array_new ();
  entry = json_object_new ();
  created = ctrd_json_member_string (root, "created");
  if (created != NULL)
    json_object_set_string_member (entry, "created", created);
  json_object_set_string_member (entry, "created_by", "containersd export (flattened)");
  json_array_add_object_element (history, entry);
  json_object_set_array_member (root, "history", history);

  return ctrd_json_to_text (root_node);
}
