/* ctrd-volume-records.c: the records of volumes and their rules. */
#include "config.h"

#include <string.h>

#include "ctrd-error.h"
#include "ctrd-json.h"
#include "ctrd-mounts.h"
#include "ctrd-util.h"
#include "ctrd-volume-records.h"

#define LABELS_WHAT "Volume labels"
/* Path, interface and property names, the ID, Name and the values' framing
 * in a GetManagedObjects reply; generous. */
#define RECORD_OVERHEAD_BYTES 384

CtrdVolumeRecord *
ctrd_volume_record_new (const char *name, gboolean anonymous)
{
  CtrdVolumeRecord *record = g_new0 (CtrdVolumeRecord, 1);

  record->id = ctrd_generate_id ();
  record->name = g_strdup (name);
  record->anonymous = anonymous;
  record->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  record->created_at = ctrd_now_usec ();
  return record;
}

void
ctrd_volume_record_free (CtrdVolumeRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->name);
  g_clear_pointer (&record->labels, g_hash_table_unref);
  g_free (record);
}

static gsize
labels_bytes (GHashTable *labels)
{
  GHashTableIter iter;
  gpointer key, value;
  gsize bytes = 0;

  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    bytes += strlen (key) + strlen (value);
  return bytes;
}

gboolean
ctrd_volume_check_labels (GHashTable *labels, GError **error)
{
  GHashTableIter iter;
  gpointer key;
  gsize bytes;

  if (g_hash_table_size (labels) > CTRD_VOLUME_MAX_LABELS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "More than %d labels",
                   CTRD_VOLUME_MAX_LABELS);
      return FALSE;
    }
  bytes = labels_bytes (labels);
  if (bytes > CTRD_VOLUME_LABELS_MAX_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "The labels take %" G_GSIZE_FORMAT " bytes, more than the limit of %d", bytes,
                   CTRD_VOLUME_LABELS_MAX_BYTES);
      return FALSE;
    }
  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (*(const char *) key == '\0')
      {
        g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                             "A label has an empty key");
        return FALSE;
      }
  return TRUE;
}

/* {"labels": {...}}: one member, so the shared string-map reader reads it
 * back and the text can grow other members later. */
char *
ctrd_volume_labels_to_json (GHashTable *labels)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) keys = g_list_sort (g_hash_table_get_keys (labels), (GCompareFunc) strcmp);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "labels");
  json_builder_begin_object (builder);
  for (GList *l = keys; l != NULL; l = l->next)
    ctrd_json_add_string (builder, l->data, g_hash_table_lookup (labels, l->data));
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return ctrd_json_builder_to_text (builder);
}

gboolean
ctrd_volume_labels_from_json (const char *json, GHashTable *labels, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object = ctrd_json_parse_object (parser, json, LABELS_WHAT, error);

  return object != NULL && ctrd_json_read_string_map (object, LABELS_WHAT, "labels", labels, error);
}

gsize
ctrd_volume_record_exported_size (const CtrdVolumeRecord *record)
{
  /* each label is framed too */
  return RECORD_OVERHEAD_BYTES + strlen (record->name) + labels_bytes (record->labels) +
         16 * g_hash_table_size (record->labels);
}

void
ctrd_volume_use_free (CtrdVolumeUse *use)
{
  if (use == NULL)
    return;
  g_free (use->name);
  g_free (use);
}

static CtrdVolumeUse *
find_use (GPtrArray *uses, const char *name)
{
  for (guint i = 0; i < uses->len; i++)
    {
      CtrdVolumeUse *use = uses->pdata[i];
      if (g_str_equal (use->name, name))
        return use;
    }
  return NULL;
}

void
ctrd_volume_uses_add_mounts (GPtrArray *uses, GPtrArray *mounts)
{
  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      const CtrdMount *mount = mounts->pdata[i];
      CtrdVolumeUse *use;

      if (mount->type != CTRD_MOUNT_VOLUME)
        continue;
      use = find_use (uses, mount->source);
      if (use == NULL)
        {
          use = g_new0 (CtrdVolumeUse, 1);
          use->name = g_strdup (mount->source);
          g_ptr_array_add (uses, use);
        }
      use->anonymous = use->anonymous || mount->anonymous;
    }
}

gboolean
ctrd_volume_mounts_use (GPtrArray *mounts, const char *name)
{
  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      const CtrdMount *mount = mounts->pdata[i];
      if (mount->type == CTRD_MOUNT_VOLUME && g_str_equal (mount->source, name))
        return TRUE;
    }
  return FALSE;
}

static int
compare_record_names (gconstpointer a, gconstpointer b)
{
  const CtrdVolumeRecord *ra = *(CtrdVolumeRecord *const *) a;
  const CtrdVolumeRecord *rb = *(CtrdVolumeRecord *const *) b;

  return strcmp (ra->name, rb->name);
}

GPtrArray *
ctrd_volume_records_missing (GPtrArray *records, const char *const *disk_names, GPtrArray *uses)
{
  g_autoptr (GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *missing = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);

  for (guint i = 0; records != NULL && i < records->len; i++)
    g_hash_table_add (known, ((CtrdVolumeRecord *) records->pdata[i])->name);
  for (guint i = 0; uses != NULL && i < uses->len; i++)
    {
      const CtrdVolumeUse *use = uses->pdata[i];
      CtrdVolumeRecord *record;

      if (g_hash_table_contains (known, use->name) || !ctrd_volume_validate_name (use->name, NULL))
        continue;
      record = ctrd_volume_record_new (use->name, use->anonymous);
      g_ptr_array_add (missing, record);
      g_hash_table_add (known, record->name);
    }
  for (gsize i = 0; disk_names != NULL && disk_names[i] != NULL; i++)
    {
      CtrdVolumeRecord *record;

      if (g_hash_table_contains (known, disk_names[i]) ||
          !ctrd_volume_validate_name (disk_names[i], NULL))
        continue;
      /* no container says what it was made for: a named one, kept until
       * removed or pruned */
      record = ctrd_volume_record_new (disk_names[i], FALSE);
      g_ptr_array_add (missing, record);
      g_hash_table_add (known, record->name);
    }
  g_ptr_array_sort (missing, compare_record_names);
  return missing;
}
