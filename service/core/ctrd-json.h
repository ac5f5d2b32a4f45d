/* ctrd-json.h: the json-glib helpers the plain modules share: members added
 * to a builder, and typed members read back from a parsed object (a missing
 * member leaves the caller's value as it is; one of another type is
 * INVALID_ARGUMENT naming @what and the member). No D-Bus types. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @value NULL is written as "". */
void ctrd_json_add_string (JsonBuilder *builder, const char *member, const char *value);
void ctrd_json_add_bool (JsonBuilder *builder, const char *member, gboolean value);
void ctrd_json_add_int (JsonBuilder *builder, const char *member, gint64 value);
/* An array of the strings of @values (NULL = empty). */
void ctrd_json_add_strv (JsonBuilder *builder, const char *member, const char *const *values);
/* The text of what @builder built. Free with g_free. */
char *ctrd_json_builder_to_text (JsonBuilder *builder);

/* Parses @json with @parser (which owns the result) as one JSON object;
 * INVALID_ARGUMENT naming @what otherwise (@error may be NULL). */
JsonObject *ctrd_json_parse_object (JsonParser *parser, const char *json, const char *what,
                                    GError **error);

/* INVALID_ARGUMENT "@what field “@member” must be @expected"; returns FALSE. */
gboolean ctrd_json_field_error (const char *what, const char *member, const char *expected,
                                GError **error);

/* Readers: *@out (freed and replaced) unless the member is absent. */
gboolean ctrd_json_read_string (JsonObject *object, const char *what, const char *member,
                                char **out, GError **error);
gboolean ctrd_json_read_bool (JsonObject *object, const char *what, const char *member,
                              gboolean *out, GError **error);
/* Also INVALID_ARGUMENT outside @min..@max. */
gboolean ctrd_json_read_int (JsonObject *object, const char *what, const char *member, gint64 min,
                             gint64 max, gint64 *out, GError **error);
gboolean ctrd_json_read_strv (JsonObject *object, const char *what, const char *member,
                              char ***out, GError **error);
/* An object of strings into @map (char* -> char*, both owned by @map). */
gboolean ctrd_json_read_string_map (JsonObject *object, const char *what, const char *member,
                                    GHashTable *map, GError **error);

G_END_DECLS
