/* ctrd-container-config.c: container configuration and run state, and the JSON
 * form of the configuration kept in the database. */
#include "config.h"

#include <signal.h>

#include <json-glib/json-glib.h>

#include "ctrd-container-config.h"
#include "ctrd-error.h"
#include "ctrd-util.h"

#define DEFAULT_STOP_TIMEOUT 10
#define SHORT_ID_LEN 12

static const char *const state_names[] = {
  [CTRD_STATE_CONFIGURED] = "configured", [CTRD_STATE_CREATED] = "created",
  [CTRD_STATE_RUNNING] = "running",       [CTRD_STATE_PAUSED] = "paused",
  [CTRD_STATE_STOPPING] = "stopping",     [CTRD_STATE_STOPPED] = "stopped",
  [CTRD_STATE_EXITED] = "exited",         [CTRD_STATE_REMOVING] = "removing",
};

const char *
ctrd_state_to_string (CtrdState state)
{
  if ((guint) state >= G_N_ELEMENTS (state_names))
    return "unknown";
  return state_names[state];
}

gboolean
ctrd_state_from_string (const char *text, CtrdState *out_state)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (state_names); i++)
    {
      if (g_str_equal (text, state_names[i]))
        {
          *out_state = (CtrdState) i;
          return TRUE;
        }
    }
  return FALSE;
}

static const char *const mount_type_names[] = {
  [CTRD_MOUNT_BIND] = "bind",
  [CTRD_MOUNT_TMPFS] = "tmpfs",
  [CTRD_MOUNT_VOLUME] = "volume",
};

const char *
ctrd_mount_type_to_string (CtrdMountType type)
{
  if ((guint) type >= G_N_ELEMENTS (mount_type_names))
    return "unknown";
  return mount_type_names[type];
}

gboolean
ctrd_mount_type_from_string (const char *text, CtrdMountType *out_type)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (mount_type_names); i++)
    {
      if (g_str_equal (text, mount_type_names[i]))
        {
          *out_type = (CtrdMountType) i;
          return TRUE;
        }
    }
  return FALSE;
}

CtrdMount *
ctrd_mount_new (CtrdMountType type, const char *source, const char *destination, gboolean read_only,
                const char *const *options)
{
  CtrdMount *mount = g_new0 (CtrdMount, 1);

  mount->type = type;
  mount->source = g_strdup (source != NULL ? source : "");
  mount->destination = g_strdup (destination != NULL ? destination : "");
  mount->read_only = read_only;
  mount->options = options != NULL ? g_strdupv ((char **) options) : g_new0 (char *, 1);
  return mount;
}

CtrdMount *
ctrd_mount_copy (const CtrdMount *mount)
{
  CtrdMount *copy = ctrd_mount_new (mount->type, mount->source, mount->destination,
                                    mount->read_only, (const char *const *) mount->options);

  copy->anonymous = mount->anonymous;
  return copy;
}

void
ctrd_mount_free (CtrdMount *mount)
{
  if (mount == NULL)
    return;

  g_free (mount->source);
  g_free (mount->destination);
  g_strfreev (mount->options);
  g_free (mount);
}

CtrdContainerConfig *
ctrd_container_config_new (void)
{
  CtrdContainerConfig *config = g_new0 (CtrdContainerConfig, 1);

  /* Strings start empty rather than NULL so that code filling a config in
   * stages never has to guess which fields are set. */
  config->id = g_strdup ("");
  config->name = g_strdup ("");
  config->image_id = g_strdup ("");
  config->image_name = g_strdup ("");
  config->previous_image_id = g_strdup ("");
  config->entrypoint = g_new0 (char *, 1);
  config->command = g_new0 (char *, 1);
  config->env = g_new0 (char *, 1);
  config->working_dir = g_strdup ("/");
  config->user = g_strdup ("");
  config->hostname = g_strdup ("");
  config->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  config->stop_signal = SIGTERM;
  config->stop_timeout = DEFAULT_STOP_TIMEOUT;
  config->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  config->dns_servers = g_new0 (char *, 1);
  config->dns_search = g_new0 (char *, 1);
  config->dns_options = g_new0 (char *, 1);
  config->add_hosts = g_new0 (char *, 1);
  config->shm_size = CTRD_DEFAULT_SHM_SIZE;
  config->depends_on = g_new0 (char *, 1);
  config->network = ctrd_network_settings_new ();
  return config;
}

void
ctrd_container_config_free (CtrdContainerConfig *config)
{
  if (config == NULL)
    return;

  g_free (config->id);
  g_free (config->name);
  g_free (config->image_id);
  g_free (config->image_name);
  g_free (config->previous_image_id);
  g_strfreev (config->entrypoint);
  g_strfreev (config->command);
  g_strfreev (config->env);
  g_free (config->working_dir);
  g_free (config->user);
  g_free (config->hostname);
  g_clear_pointer (&config->labels, g_hash_table_unref);
  g_clear_pointer (&config->mounts, g_ptr_array_unref);
  g_strfreev (config->dns_servers);
  g_strfreev (config->dns_search);
  g_strfreev (config->dns_options);
  g_strfreev (config->add_hosts);
  g_strfreev (config->depends_on);
  g_clear_pointer (&config->network, ctrd_network_settings_free);
  g_free (config);
}

char **
ctrd_container_config_get_argv (const CtrdContainerConfig *config)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (config->entrypoint != NULL)
    g_strv_builder_addv (builder, (const char **) config->entrypoint);
  if (config->command != NULL)
    g_strv_builder_addv (builder, (const char **) config->command);
  return g_strv_builder_end (builder);
}

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value != NULL ? value : "");
}

static void
add_strv (JsonBuilder *builder, const char *member, char **values)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (gsize i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

static void
add_bool (JsonBuilder *builder, const char *member, gboolean value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

static void
add_mounts (JsonBuilder *builder, const char *member, GPtrArray *mounts)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      const CtrdMount *mount = g_ptr_array_index (mounts, i);

      json_builder_begin_object (builder);
      add_string (builder, "type", ctrd_mount_type_to_string (mount->type));
      add_string (builder, "source", mount->source);
      add_string (builder, "destination", mount->destination);
      add_bool (builder, "read_only", mount->read_only);
      add_strv (builder, "options", mount->options);
      add_bool (builder, "anonymous", mount->anonymous);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

char *
ctrd_container_config_to_json (const CtrdContainerConfig *config)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GList) label_keys = NULL;

  json_builder_begin_object (builder);
  add_string (builder, "id", config->id);
  add_string (builder, "name", config->name);
  add_string (builder, "image_id", config->image_id);
  add_string (builder, "image_name", config->image_name);
  add_string (builder, "previous_image_id", config->previous_image_id);
  add_strv (builder, "entrypoint", config->entrypoint);
  add_strv (builder, "command", config->command);
  add_strv (builder, "env", config->env);
  add_string (builder, "working_dir", config->working_dir);
  add_string (builder, "user", config->user);
  add_string (builder, "hostname", config->hostname);

  /* Sorted keys keep the stored text stable for the same labels. */
  json_builder_set_member_name (builder, "labels");
  json_builder_begin_object (builder);
  if (config->labels != NULL)
    label_keys = g_list_sort (g_hash_table_get_keys (config->labels), (GCompareFunc) strcmp);
  for (GList *l = label_keys; l != NULL; l = l->next)
    add_string (builder, l->data, g_hash_table_lookup (config->labels, l->data));
  json_builder_end_object (builder);

  add_int (builder, "stop_signal", config->stop_signal);
  add_int (builder, "stop_timeout", config->stop_timeout);
  add_int (builder, "created_at", (gint64) config->created_at);
  add_mounts (builder, "mounts", config->mounts);
  add_strv (builder, "dns_servers", config->dns_servers);
  add_strv (builder, "dns_search", config->dns_search);
  add_strv (builder, "dns_options", config->dns_options);
  add_strv (builder, "add_hosts", config->add_hosts);
  add_int (builder, "shm_size", (gint64) MIN (config->shm_size, (guint64) G_MAXINT64));
  add_bool (builder, "read_only_rootfs", config->read_only_rootfs);
  add_bool (builder, "tty", config->tty);
  add_bool (builder, "auto_remove", config->auto_remove);
  add_strv (builder, "depends_on", config->depends_on);
  ctrd_network_settings_add_json (config->network, builder, "network");
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static gboolean
type_error (const char *member, const char *expected, GError **error)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "Container configuration field “%s” must be %s", member, expected);
  return FALSE;
}

/* Each reader leaves *out untouched when the member is absent, so the caller's
 * default stands, and fails when it has the wrong type. */
static gboolean
read_string (JsonObject *object, const char *member, char **out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return type_error (member, "a string", error);

  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
read_strv (JsonObject *object, const char *member, char ***out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return type_error (member, "an array of strings", error);

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return type_error (member, "an array of strings", error);
      g_strv_builder_add (builder, json_node_get_string (element));
    }

  g_strfreev (*out);
  *out = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
read_labels (JsonObject *object, const char *member, GHashTable *labels, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonObject *label_object;
  g_autoptr (GList) keys = NULL;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return type_error (member, "an object of strings", error);

  label_object = json_node_get_object (node);
  keys = json_object_get_members (label_object);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      JsonNode *value = json_object_get_member (label_object, l->data);

      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        return type_error (member, "an object of strings", error);
      g_hash_table_replace (labels, g_strdup (l->data), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

static gboolean
read_int (JsonObject *object, const char *member, gint64 min, gint64 max, gint64 *out,
          GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return type_error (member, "an integer", error);

  value = json_node_get_int (node);
  if (value < min || value > max)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Container configuration field “%s” is %" G_GINT64_FORMAT
                   ", outside %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
                   member, value, min, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
read_bool (JsonObject *object, const char *member, gboolean *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return type_error (member, "a boolean", error);

  *out = json_node_get_boolean (node);
  return TRUE;
}

static CtrdMount *
read_one_mount (JsonNode *node, GError **error)
{
  g_autoptr (CtrdMount) mount = ctrd_mount_new (CTRD_MOUNT_BIND, NULL, NULL, FALSE, NULL);
  g_autofree char *type = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      type_error ("mounts", "an array of objects", error);
      return NULL;
    }
  object = json_node_get_object (node);
  if (!read_string (object, "type", &type, error) ||
      !read_string (object, "source", &mount->source, error) ||
      !read_string (object, "destination", &mount->destination, error) ||
      !read_bool (object, "read_only", &mount->read_only, error) ||
      !read_strv (object, "options", &mount->options, error) ||
      !read_bool (object, "anonymous", &mount->anonymous, error))
    {
      g_prefix_error (error, "In “mounts”: ");
      return NULL;
    }
  if (!ctrd_mount_type_from_string (type, &mount->type))
    {
      type_error ("mounts", "mounts of type bind, tmpfs or volume", error);
      return NULL;
    }
  /* Only a validated absolute path is ever stored; anything else is a corrupt record. */
  if (!g_path_is_absolute (mount->destination))
    {
      type_error ("mounts", "mounts with absolute destinations", error);
      return NULL;
    }
  return g_steal_pointer (&mount);
}

static gboolean
read_mounts (JsonObject *object, const char *member, GPtrArray *mounts, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return type_error (member, "an array of objects", error);

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      CtrdMount *mount = read_one_mount (json_array_get_element (array, i), error);

      if (mount == NULL)
        return FALSE;
      g_ptr_array_add (mounts, mount);
    }
  return TRUE;
}

static gboolean
read_id_list (JsonObject *object, const char *member, char ***out, GError **error)
{
  if (!read_strv (object, member, out, error))
    return FALSE;
  for (gsize i = 0; (*out)[i] != NULL; i++)
    if (!ctrd_is_full_id ((*out)[i]))
      return type_error (member, "an array of 64 lowercase hexadecimal IDs", error);
  return TRUE;
}

static gboolean
read_required_string (JsonObject *object, const char *member, char **out, GError **error)
{
  if (!json_object_has_member (object, member))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Container configuration field “%s” is missing", member);
      return FALSE;
    }
  if (!read_string (object, member, out, error))
    return FALSE;
  if (**out == '\0')
    return type_error (member, "a non-empty string", error);
  return TRUE;
}

static gboolean
read_required_id (JsonObject *object, const char *member, char **out, GError **error)
{
  if (!read_required_string (object, member, out, error))
    return FALSE;
  /* IDs become D-Bus object paths and directory names; anything but hex here
   * is a corrupt record. */
  if (!ctrd_is_full_id (*out))
    return type_error (member, "64 lowercase hexadecimal characters", error);
  return TRUE;
}

CtrdContainerConfig *
ctrd_container_config_from_json (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;
  gint64 stop_signal = SIGTERM;
  gint64 stop_timeout = DEFAULT_STOP_TIMEOUT;
  gint64 created_at = 0;
  gint64 shm_size = CTRD_DEFAULT_SHM_SIZE;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Container configuration is not valid JSON: %s",
                   local_error != NULL ? local_error->message : "no text");
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Container configuration is not a JSON object");
      return NULL;
    }
  object = json_node_get_object (root);

  if (!read_required_id (object, "id", &config->id, error) ||
      !read_required_id (object, "image_id", &config->image_id, error) ||
      !read_required_string (object, "name", &config->name, error))
    return NULL;

  g_free (config->hostname);
  config->hostname = g_strndup (config->id, SHORT_ID_LEN);

  if (!read_string (object, "image_name", &config->image_name, error) ||
      !read_string (object, "previous_image_id", &config->previous_image_id, error) ||
      !read_strv (object, "entrypoint", &config->entrypoint, error) ||
      !read_strv (object, "command", &config->command, error) ||
      !read_strv (object, "env", &config->env, error) ||
      !read_string (object, "working_dir", &config->working_dir, error) ||
      !read_string (object, "user", &config->user, error) ||
      !read_string (object, "hostname", &config->hostname, error) ||
      !read_labels (object, "labels", config->labels, error) ||
      !read_int (object, "stop_signal", 1, SIGRTMAX, &stop_signal, error) ||
      !read_int (object, "stop_timeout", 0, G_MAXUINT32, &stop_timeout, error) ||
      !read_int (object, "created_at", 0, G_MAXINT64, &created_at, error) ||
      !read_mounts (object, "mounts", config->mounts, error) ||
      !read_strv (object, "dns_servers", &config->dns_servers, error) ||
      !read_strv (object, "dns_search", &config->dns_search, error) ||
      !read_strv (object, "dns_options", &config->dns_options, error) ||
      !read_strv (object, "add_hosts", &config->add_hosts, error) ||
      !read_int (object, "shm_size", 1, G_MAXINT64, &shm_size, error) ||
      !read_bool (object, "read_only_rootfs", &config->read_only_rootfs, error) ||
      !read_bool (object, "tty", &config->tty, error) ||
      !read_bool (object, "auto_remove", &config->auto_remove, error) ||
      !read_id_list (object, "depends_on", &config->depends_on, error) ||
      !ctrd_network_settings_read_json (object, "network", config->network, error))
    return NULL;

  config->stop_signal = (int) stop_signal;
  config->stop_timeout = (guint32) stop_timeout;
  config->created_at = (guint64) created_at;
  config->shm_size = (guint64) shm_size;
  return g_steal_pointer (&config);
}
