/* ctrd-json.c: json-glib helpers shared by the plain modules. */
#include "config.h"

#include "ctrd-error.h"
#include "ctrd-json.h"

void
ctrd_json_add_string (JsonBuilder *builder, const char *member, const char *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value != NULL ? value : "");
}

void
ctrd_json_add_bool (JsonBuilder *builder, const char *member, gboolean value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

void
ctrd_json_add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

void
ctrd_json_add_strv (JsonBuilder *builder, const char *member, const char *const *values)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (gsize i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

char *
ctrd_json_builder_to_text (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

JsonObject *
ctrd_json_parse_object (JsonParser *parser, const char *json, const char *what, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s is not valid JSON: %s", what,
                   local_error != NULL ? local_error->message : "no text");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s is not a JSON object", what);
      return NULL;
    }
  return json_node_get_object (root);
}

gboolean
ctrd_json_field_error (const char *what, const char *member, const char *expected, GError **error)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s field “%s” must be %s", what,
               member, expected);
  return FALSE;
}

static gboolean
holds (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

gboolean
ctrd_json_read_string (JsonObject *object, const char *what, const char *member, char **out,
                       GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return TRUE;
  if (!holds (node, G_TYPE_STRING))
    return ctrd_json_field_error (what, member, "a string", error);
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

gboolean
ctrd_json_read_bool (JsonObject *object, const char *what, const char *member, gboolean *out,
                     GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return TRUE;
  if (!holds (node, G_TYPE_BOOLEAN))
    return ctrd_json_field_error (what, member, "a boolean", error);
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
ctrd_json_read_int (JsonObject *object, const char *what, const char *member, gint64 min,
                    gint64 max, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  gint64 value;

  if (node == NULL)
    return TRUE;
  if (!holds (node, G_TYPE_INT64))
    return ctrd_json_field_error (what, member, "an integer", error);
  value = json_node_get_int (node);
  if (value < min || value > max)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s field “%s” is %" G_GINT64_FORMAT ", outside %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT,
                   what, member, value, min, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

gboolean
ctrd_json_read_strv (JsonObject *object, const char *what, const char *member, char ***out,
                     GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return ctrd_json_field_error (what, member, "an array of strings", error);
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!holds (element, G_TYPE_STRING))
        return ctrd_json_field_error (what, member, "an array of strings", error);
      g_strv_builder_add (builder, json_node_get_string (element));
    }
  g_strfreev (*out);
  *out = g_strv_builder_end (builder);
  return TRUE;
}

gboolean
ctrd_json_read_string_map (JsonObject *object, const char *what, const char *member,
                           GHashTable *map, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  g_autoptr (GList) keys = NULL;
  JsonObject *members;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return ctrd_json_field_error (what, member, "an object of strings", error);
  members = json_node_get_object (node);
  keys = json_object_get_members (members);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      JsonNode *value = json_object_get_member (members, l->data);

      if (!holds (value, G_TYPE_STRING))
        return ctrd_json_field_error (what, member, "an object of strings", error);
      g_hash_table_replace (map, g_strdup (l->data), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}
