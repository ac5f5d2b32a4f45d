/* Unit tests for ctrd-volume-records: new records, label bounds, the labels'
 * JSON, the exported size, volume uses and the records a start adds. */
#include "config.h"

#include <string.h>

#include "ctrd-error.h"
#include "ctrd-mounts.h"
#include "ctrd-util.h"
#include "ctrd-volume-records.h"

static GHashTable *
new_labels (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
test_new_record (void)
{
  g_autoptr (CtrdVolumeRecord) a = ctrd_volume_record_new ("data", FALSE);
  g_autoptr (CtrdVolumeRecord) b = ctrd_volume_record_new ("data", TRUE);

  g_assert_true (ctrd_is_full_id (a->id));
  /* random, never derived from the name */
  g_assert_cmpstr (a->id, !=, b->id);
  g_assert_cmpstr (a->name, ==, "data");
  g_assert_false (a->anonymous);
  g_assert_true (b->anonymous);
  g_assert_cmpuint (g_hash_table_size (a->labels), ==, 0);
  g_assert_cmpuint (a->created_at, >, 0);
}

static void
test_labels_bounds (void)
{
  g_autoptr (GHashTable) labels = new_labels ();
  g_autoptr (GError) error = NULL;
  g_autofree char *half = g_strnfill (CTRD_VOLUME_LABELS_MAX_BYTES / 2, 'x');

  g_hash_table_insert (labels, g_strdup ("a"), g_strdup ("b"));
  g_assert_true (ctrd_volume_check_labels (labels, &error));
  g_assert_no_error (error);

  g_hash_table_insert (labels, g_strdup (""), g_strdup ("v"));
  g_assert_false (ctrd_volume_check_labels (labels, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_hash_table_remove (labels, "");

  /* keys and values together */
  g_hash_table_insert (labels, g_strdup ("k1"), g_strdup (half));
  g_hash_table_insert (labels, g_strdup ("k2"), g_strdup (half));
  g_assert_false (ctrd_volume_check_labels (labels, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  g_hash_table_remove (labels, "k2");
  g_assert_true (ctrd_volume_check_labels (labels, &error));
  g_hash_table_remove_all (labels);

  for (int i = 0; i <= CTRD_VOLUME_MAX_LABELS; i++)
    g_hash_table_insert (labels, g_strdup_printf ("k%d", i), g_strdup (""));
  g_assert_false (ctrd_volume_check_labels (labels, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
}

static void
test_labels_json (void)
{
  g_autoptr (GHashTable) labels = new_labels ();
  g_autoptr (GHashTable) back = new_labels ();
  g_autoptr (GHashTable) bad = new_labels ();
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *again = NULL;

  g_hash_table_insert (labels, g_strdup ("zeta"), g_strdup ("\"quoted\"\n"));
  g_hash_table_insert (labels, g_strdup ("alpha"), g_strdup (""));
  json = ctrd_volume_labels_to_json (labels);
  /* sorted keys: the same labels give the same text */
  g_assert_true (strstr (json, "alpha") < strstr (json, "zeta"));
  g_assert_true (ctrd_volume_labels_from_json (json, back, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (back), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (back, "zeta"), ==, "\"quoted\"\n");
  again = ctrd_volume_labels_to_json (back);
  g_assert_cmpstr (again, ==, json);

  g_assert_false (ctrd_volume_labels_from_json ("[1]", bad, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_volume_labels_from_json ("{\"labels\": {\"a\": 1}}", bad, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_volume_labels_from_json (NULL, bad, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

static void
test_exported_size (void)
{
  g_autoptr (CtrdVolumeRecord) record = ctrd_volume_record_new ("v", FALSE);
  gsize empty = ctrd_volume_record_exported_size (record);
  g_autofree char *value = g_strnfill (1000, 'x');

  g_hash_table_insert (record->labels, g_strdup ("key"), g_strdup (value));
  g_assert_cmpuint (ctrd_volume_record_exported_size (record), >=, empty + 1003);
  /* the budget holds an anonymous volume (64-hex name, one user) for each
   * of 10,000 containers */
  g_assert_cmpuint (CTRD_VOLUMES_EXPORTED_MAX_BYTES /
                        (empty + CTRD_ID_LEN + CTRD_VOLUME_USE_EXPORTED_BYTES),
                    >=, 10000);
}

static GPtrArray *
mounts_of (const char *first_spec, ...)
{
  GPtrArray *mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  va_list args;

  /* "volume:NAME", "anon:NAME" or "bind:PATH" */
  va_start (args, first_spec);
  for (const char *spec = first_spec; spec != NULL; spec = va_arg (args, const char *))
    {
      g_auto (GStrv) parts = g_strsplit (spec, ":", 2);
      gboolean bind = g_str_equal (parts[0], "bind");
      g_autofree char *destination = g_strdup_printf ("/d%u", mounts->len);
      CtrdMount *mount = ctrd_mount_new (bind ? CTRD_MOUNT_BIND : CTRD_MOUNT_VOLUME, parts[1],
                                         destination, FALSE, NULL);

      mount->anonymous = g_str_equal (parts[0], "anon");
      g_ptr_array_add (mounts, mount);
    }
  va_end (args);
  return mounts;
}

static GPtrArray *
new_uses (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_use_free);
}

static void
test_uses (void)
{
  g_autoptr (GPtrArray) first = mounts_of ("volume:data", "bind:/srv", "anon:aaaa", NULL);
  g_autoptr (GPtrArray) second = mounts_of ("volume:data", "volume:other", NULL);
  g_autoptr (GPtrArray) uses = new_uses ();
  CtrdVolumeUse *use;

  ctrd_volume_uses_add_mounts (uses, first);
  ctrd_volume_uses_add_mounts (uses, second);
  ctrd_volume_uses_add_mounts (uses, NULL);
  g_assert_cmpuint (uses->len, ==, 3);
  use = uses->pdata[0];
  g_assert_cmpstr (use->name, ==, "data");
  g_assert_false (use->anonymous);
  use = uses->pdata[1];
  g_assert_cmpstr (use->name, ==, "aaaa");
  g_assert_true (use->anonymous);
  g_assert_cmpstr (((CtrdVolumeUse *) uses->pdata[2])->name, ==, "other");

  g_assert_true (ctrd_volume_mounts_use (first, "data"));
  g_assert_true (ctrd_volume_mounts_use (first, "aaaa"));
  /* a bind source is no volume */
  g_assert_false (ctrd_volume_mounts_use (first, "/srv"));
  g_assert_false (ctrd_volume_mounts_use (first, "other"));
  g_assert_false (ctrd_volume_mounts_use (NULL, "data"));
}

/* What a start records: every volume on disk or in Mounts without a record,
 * once, anonymous where a Mounts entry says so, sorted; nothing else. */
static void
test_records_missing (void)
{
  g_autoptr (GPtrArray) records =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);
  g_autoptr (GPtrArray) mounts = mounts_of ("volume:known", "anon:anon1", "volume:zz-unmade", NULL);
  g_autoptr (GPtrArray) uses = new_uses ();
  const char *const disk[] = { "anon1", "known", "old", "bad name", NULL };
  g_autoptr (GPtrArray) missing = NULL;
  g_autoptr (GPtrArray) none = NULL;
  CtrdVolumeRecord *record;

  g_ptr_array_add (records, ctrd_volume_record_new ("known", FALSE));
  ctrd_volume_uses_add_mounts (uses, mounts);
  missing = ctrd_volume_records_missing (records, disk, uses);
  g_assert_cmpuint (missing->len, ==, 3);
  record = missing->pdata[0];
  g_assert_cmpstr (record->name, ==, "anon1");
  g_assert_true (record->anonymous);
  g_assert_true (ctrd_is_full_id (record->id));
  record = missing->pdata[1];
  g_assert_cmpstr (record->name, ==, "old");
  g_assert_false (record->anonymous);
  record = missing->pdata[2];
  g_assert_cmpstr (record->name, ==, "zz-unmade");
  g_assert_false (record->anonymous);

  /* once they are recorded, nothing is missing */
  for (guint i = 0; i < missing->len; i++)
    g_ptr_array_add (
        records, ctrd_volume_record_new (((CtrdVolumeRecord *) missing->pdata[i])->name, FALSE));
  none = ctrd_volume_records_missing (records, disk, uses);
  g_assert_cmpuint (none->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/volume-records/new", test_new_record);
  g_test_add_func ("/volume-records/labels-bounds", test_labels_bounds);
  g_test_add_func ("/volume-records/labels-json", test_labels_json);
  g_test_add_func ("/volume-records/exported-size", test_exported_size);
  g_test_add_func ("/volume-records/uses", test_uses);
  g_test_add_func ("/volume-records/missing", test_records_missing);
  return g_test_run ();
}
