/* Unit tests for ctrd-db: schema, pragmas, images, containers, meta, volumes. */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "ctrd-db.h"
#include "ctrd-error.h"
#include "ctrd-util.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-db-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "state.db", NULL);
}

static void
fixture_teardown (Fixture *fixture, gconstpointer user_data)
{
  const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (fixture->path, suffixes[i], NULL);

      g_unlink (file);
    }
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static CtrdDb *
open_db (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  CtrdDb *db = ctrd_db_open (fixture->path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (db);
  return db;
}

/* Runs @sql on a separate raw connection, as another process would. */
static void
raw_exec (const char *path, const char *sql)
{
  sqlite3 *handle = NULL;

  g_assert_cmpint (sqlite3_open (path, &handle), ==, SQLITE_OK);
  if (sqlite3_exec (handle, sql, NULL, NULL, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (handle));
  sqlite3_close (handle);
}

static char *
make_id (char fill)
{
  return g_strnfill (CTRD_ID_LEN, fill);
}

static CtrdImageRecord *
make_image (char fill, guint64 created_at, const char *first_name, ...)
{
  CtrdImageRecord *record = g_new0 (CtrdImageRecord, 1);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  va_list args;

  record->id = make_id (fill);
  record->commit = g_strnfill (64, '9');
  record->size = G_GUINT64_CONSTANT (5000000000); /* over 32 bits */
  record->created_at = created_at;
  record->config_json = g_strdup ("{\"config\": {\"Cmd\": [\"sh\"]}}");

  va_start (args, first_name);
  for (const char *name = first_name; name != NULL; name = va_arg (args, const char *))
    g_strv_builder_add (names, name);
  va_end (args);
  record->names = g_strv_builder_end (names);
  return record;
}

static CtrdContainerConfig *
make_container (char fill, const char *name, const char *image_id, guint64 created_at)
{
  CtrdContainerConfig *config = ctrd_container_config_new ();
  const char *const command[] = { "sleep", "1000", NULL };

  g_free (config->id);
  config->id = make_id (fill);
  g_free (config->name);
  config->name = g_strdup (name);
  g_free (config->image_id);
  config->image_id = g_strdup (image_id);
  g_free (config->image_name);
  config->image_name = g_strdup ("busybox:latest");
  g_strfreev (config->command);
  config->command = g_strdupv ((char **) command);
  g_free (config->hostname);
  config->hostname = g_strndup (config->id, 12);
  g_hash_table_insert (config->labels, g_strdup ("role"), g_strdup ("test"));
  config->created_at = created_at;
  return config;
}

static void
assert_pragma (CtrdDb *db, const char *pragma, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *value = ctrd_db_get_pragma (db, pragma, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, expected);
}

static void
test_open_creates_private_wal_db (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) db = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
  struct stat st;
  sqlite3 *raw = NULL;
  sqlite3_stmt *stmt = NULL;

  umask (022);
  db = open_db (fixture);

  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  /* Every setting that the crash-safety story depends on, read back. */
  assert_pragma (db, "journal_mode", "wal");
  assert_pragma (db, "synchronous", "2"); /* FULL */
  assert_pragma (db, "foreign_keys", "1");
  assert_pragma (db, "user_version", "7");
  assert_pragma (db, "busy_timeout", "10000");

  g_assert_null (ctrd_db_get_pragma (db, "writable_schema", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);

  /* A write makes the WAL file, which must be as private as the database. */
  g_assert_true (ctrd_db_set_meta (db, "k", "v", NULL));
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  /* WAL is a property of the file, so another connection sees it too. */
  g_assert_cmpint (sqlite3_open (fixture->path, &raw), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (raw, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);
  sqlite3_close (raw);
}

static void
test_open_tightens_mode (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) db = NULL;
  struct stat st;

  g_assert_true (g_file_set_contents (fixture->path, "", 0, NULL));
  g_assert_cmpint (g_chmod (fixture->path, 0644), ==, 0);

  db = open_db (fixture);
  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
}

static void
test_open_refuses_symlink (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *target = g_build_filename (fixture->dir, "elsewhere", NULL);

  g_assert_cmpint (symlink (target, fixture->path), ==, 0);
  g_assert_null (ctrd_db_open (fixture->path, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
}

static void
test_refuses_newer_schema (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdDb) db = NULL;
  g_autoptr (CtrdDb) again = NULL;
  sqlite3 *raw = NULL;
  sqlite3_stmt *stmt = NULL;

  raw_exec (fixture->path, "CREATE TABLE future (x); PRAGMA user_version = 1000;");

  db = ctrd_db_open (fixture->path, &error);
  g_assert_null (db);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_assert_nonnull (strstr (error->message, "version 1000"));
  g_assert_nonnull (strstr (error->message, fixture->path));
  g_clear_error (&error);

  /* Refusing must not have touched it: no WAL switch, still refused the same way. */
  g_assert_cmpint (sqlite3_open (fixture->path, &raw), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (raw, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "delete");
  sqlite3_finalize (stmt);
  sqlite3_close (raw);

  again = ctrd_db_open (fixture->path, &error);
  g_assert_null (again);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
}

static void
test_persistence (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdImageRecord) image = make_image ('a', 100, "busybox:latest", "bb:1", NULL);
  g_autoptr (CtrdContainerConfig) config = make_container ('c', "web", image->id, 200);
  CtrdRunState run = { CTRD_STATE_RUNNING, 4242, 4241, 0, 300, 0 };
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *boot_id = NULL;
  g_autofree char *json = NULL;
  g_autofree char *loaded_json = NULL;
  CtrdImageRecord *loaded_image;
  CtrdContainerRecord *loaded;

  config->owner = 1000;
  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    g_assert_true (ctrd_db_insert_image (db, image, &error));
    g_assert_no_error (error);
    g_assert_true (ctrd_db_insert_container (db, config, &run, &error));
    g_assert_no_error (error);
    g_assert_true (ctrd_db_set_meta (db, "boot_id", "1234-abcd", &error));
    g_assert_no_error (error);
  }

  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    images = ctrd_db_load_images (db, &error);
    g_assert_no_error (error);
    containers = ctrd_db_load_containers (db, &error);
    g_assert_no_error (error);
    boot_id = ctrd_db_get_meta (db, "boot_id", &error);
    g_assert_no_error (error);
  }

  g_assert_cmpuint (images->len, ==, 1);
  loaded_image = images->pdata[0];
  g_assert_cmpstr (loaded_image->id, ==, image->id);
  g_assert_cmpstr (loaded_image->commit, ==, image->commit);
  g_assert_cmpuint (loaded_image->size, ==, image->size);
  g_assert_cmpuint (loaded_image->created_at, ==, 100);
  g_assert_cmpstr (loaded_image->config_json, ==, image->config_json);
  g_assert_cmpstrv (loaded_image->names, image->names);

  g_assert_cmpuint (containers->len, ==, 1);
  loaded = containers->pdata[0];
  json = ctrd_container_config_to_json (config);
  loaded_json = ctrd_container_config_to_json (loaded->config);
  g_assert_cmpstr (loaded_json, ==, json);
  g_assert_cmpint (loaded->run.state, ==, CTRD_STATE_RUNNING);
  g_assert_cmpuint (loaded->run.pid, ==, 4242);
  g_assert_cmpuint (loaded->run.conmon_pid, ==, 4241);
  g_assert_cmpuint (loaded->run.started_at, ==, 300);
  g_assert_cmpuint (loaded->config->owner, ==, 1000);

  g_assert_cmpstr (boot_id, ==, "1234-abcd");
}

/* Loads the one container of the database at @fixture. */
static CtrdContainerRecord *
load_only_container (Fixture *fixture)
{
  g_autoptr (CtrdDb) db = open_db (fixture);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) containers = ctrd_db_load_containers (db, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (containers->len, ==, 1);
  return g_ptr_array_steal_index (containers, 0);
}

/* The Owner is written once, at creation: a configuration update (Rename,
 * Rebase) leaves it; a database from before owners (schema 2) gets owner 0,
 * root, for its containers. */
static void
test_container_owner (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdImageRecord) image = make_image ('a', 100, "busybox:latest", NULL);
  g_autoptr (CtrdContainerConfig) config = make_container ('c', "web", image->id, 200);
  CtrdRunState run = { CTRD_STATE_CONFIGURED, 0, 0, 0, 0, 0 };
  g_autoptr (CtrdContainerRecord) updated = NULL;
  g_autoptr (CtrdContainerRecord) migrated = NULL;
  g_autoptr (GError) error = NULL;

  config->owner = 4242;
  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    g_assert_true (ctrd_db_insert_image (db, image, &error));
    g_assert_true (ctrd_db_insert_container (db, config, &run, &error));
    g_assert_no_error (error);
    config->owner = 7;
    g_free (config->name);
    config->name = g_strdup ("renamed");
    g_assert_true (ctrd_db_update_container_config (db, config, &error));
    g_assert_no_error (error);
  }
  updated = load_only_container (fixture);
  g_assert_cmpstr (updated->config->name, ==, "renamed");
  g_assert_cmpuint (updated->config->owner, ==, 4242);

  /* Back to schema 2, as an older containersd left it. */
  raw_exec (fixture->path, "ALTER TABLE containers DROP COLUMN owner; "
                           "ALTER TABLE containers DROP COLUMN restart_count; "
                           "ALTER TABLE containers DROP COLUMN stopped_by_user; "
                           "ALTER TABLE containers DROP COLUMN health_json; "
                           "PRAGMA user_version = 2;");
  migrated = load_only_container (fixture);
  g_assert_cmpstr (migrated->config->id, ==, config->id);
  g_assert_cmpuint (migrated->config->owner, ==, 0);
  g_assert_cmpuint (migrated->run.restart_count, ==, 0);
  g_assert_false (migrated->run.stopped_by_user);
  g_assert_cmpstr (migrated->health_json, ==, "");
  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    /* the health state column came with the migration and takes a state */
    g_assert_true (ctrd_db_update_container_health (db, config->id, "{\"status\":\"healthy\"}",
                                                    &error));
    g_assert_no_error (error);
    g_assert_false (ctrd_db_update_container_health (db, "0000", "{}", &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
    g_clear_error (&error);

    assert_pragma (db, "user_version", "7");
  }
  g_clear_pointer (&migrated, ctrd_container_record_free);
  migrated = load_only_container (fixture);
  g_assert_cmpstr (migrated->health_json, ==, "{\"status\":\"healthy\"}");
}

static void
test_two_connections (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) first = open_db (fixture);
  g_autoptr (CtrdDb) second = open_db (fixture);
  g_autoptr (CtrdImageRecord) image = make_image ('a', 1, "one:latest", NULL);
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *value = NULL;

  g_assert_true (ctrd_db_insert_image (first, image, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_db_set_meta (second, "who", "second", &error));
  g_assert_no_error (error);

  images = ctrd_db_load_images (second, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 1);
  value = ctrd_db_get_meta (first, "who", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "second");
}

static void
test_images (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) db = open_db (fixture);
  g_autoptr (CtrdImageRecord) older = make_image ('b', 10, "app:1", "app:latest", NULL);
  g_autoptr (CtrdImageRecord) newer = make_image ('a', 20, "other:1", NULL);
  g_autoptr (CtrdImageRecord) clash = make_image ('d', 30, "fresh:1", "app:1", NULL);
  g_autoptr (CtrdImageRecord) same_id = make_image ('a', 40, "another:1", NULL);
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;
  const char *const new_names[] = { "app:2", "app:latest", "app:2", NULL };
  const char *const taken_names[] = { "mine:1", "other:1", NULL };
  const char *const expected_new[] = { "app:2", "app:latest", NULL };
  g_autofree char *missing = make_id ('e');
  CtrdImageRecord *record;

  g_assert_true (ctrd_db_insert_image (db, newer, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_db_insert_image (db, older, &error));
  g_assert_no_error (error);

  /* A name another image holds: refused, and nothing of the image is kept. */
  g_assert_false (ctrd_db_insert_image (db, clash, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
  g_assert_nonnull (strstr (error->message, "app:1"));
  g_clear_error (&error);

  g_assert_false (ctrd_db_insert_image (db, same_id, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
  g_clear_error (&error);

  images = ctrd_db_load_images (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 2);
  record = images->pdata[0];
  g_assert_cmpstr (record->id, ==, older->id); /* oldest first */
  g_assert_cmpstrv (record->names, older->names);
  record = images->pdata[1];
  g_assert_cmpstr (record->id, ==, newer->id);
  g_assert_cmpstrv (record->names, newer->names);
  g_clear_pointer (&images, g_ptr_array_unref);

  /* Replacing names: a repeated name is one name. */
  g_assert_true (ctrd_db_set_image_names (db, older->id, new_names, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_db_set_image_names (db, older->id, taken_names, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
  g_assert_nonnull (strstr (error->message, "other:1"));
  g_clear_error (&error);
  g_assert_false (ctrd_db_set_image_names (db, missing, new_names, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  images = ctrd_db_load_images (db, &error);
  g_assert_no_error (error);
  record = images->pdata[0];
  g_assert_cmpstrv (record->names, expected_new);
  g_clear_pointer (&images, g_ptr_array_unref);

  /* Deleting takes the names along, so they are free again. */
  g_assert_true (ctrd_db_delete_image (db, older->id, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_db_delete_image (db, older->id, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_strfreev (clash->names);
  clash->names = g_strdupv ((char **) expected_new);
  g_assert_true (ctrd_db_insert_image (db, clash, &error));
  g_assert_no_error (error);

  images = ctrd_db_load_images (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 2);
  record = images->pdata[1];
  g_assert_cmpstr (record->id, ==, clash->id);
  g_assert_cmpstrv (record->names, expected_new);
}

static void
test_containers (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) db = open_db (fixture);
  g_autoptr (CtrdImageRecord) image = make_image ('a', 1, "busybox:latest", NULL);
  g_autoptr (CtrdContainerConfig) first = make_container ('1', "first", image->id, 20);
  g_autoptr (CtrdContainerConfig) second = make_container ('2', "second", image->id, 10);
  g_autoptr (CtrdContainerConfig) same_name = make_container ('3', "first", image->id, 30);
  g_autoptr (CtrdContainerConfig) same_id = make_container ('1', "third", image->id, 30);
  g_autofree char *no_image_id = make_id ('f');
  g_autoptr (CtrdContainerConfig) no_image = make_container ('4', "fourth", no_image_id, 30);
  g_autofree char *missing = make_id ('9');
  CtrdRunState configured = { CTRD_STATE_CONFIGURED, 0, 0, 0, 0, 0 };
  CtrdRunState exited = { CTRD_STATE_EXITED, 0, 0, 137, 1000, 2000, 3, TRUE };
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GError) error = NULL;
  CtrdContainerRecord *record;

  g_assert_true (ctrd_db_insert_image (db, image, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_db_insert_container (db, first, &configured, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_db_insert_container (db, second, &configured, &error));
  g_assert_no_error (error);

  g_assert_false (ctrd_db_insert_container (db, same_name, &configured, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
  g_assert_nonnull (strstr (error->message, "first"));
  g_clear_error (&error);
  g_assert_false (ctrd_db_insert_container (db, same_id, &configured, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (ctrd_db_insert_container (db, no_image, &configured, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (ctrd_db_update_run_state (db, first->id, &exited, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_db_update_run_state (db, missing, &exited, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Rename through the configuration; a taken name is refused. */
  g_free (second->name);
  second->name = g_strdup ("renamed");
  g_assert_true (ctrd_db_update_container_config (db, second, &error));
  g_assert_no_error (error);
  g_free (first->name);
  first->name = g_strdup ("renamed");
  g_assert_false (ctrd_db_update_container_config (db, first, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
  g_clear_error (&error);
  g_free (first->name);
  first->name = g_strdup ("first");
  g_assert_false (ctrd_db_update_container_config (db, same_name, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  containers = ctrd_db_load_containers (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (containers->len, ==, 2);
  record = containers->pdata[0]; /* oldest first */
  g_assert_cmpstr (record->config->id, ==, second->id);
  g_assert_cmpstr (record->config->name, ==, "renamed");
  g_assert_cmpint (record->run.state, ==, CTRD_STATE_CONFIGURED);
  record = containers->pdata[1];
  g_assert_cmpstr (record->config->id, ==, first->id);
  g_assert_cmpstr (record->config->name, ==, "first");
  g_assert_cmpstrv (record->config->command, first->command);
  g_assert_cmpstr (g_hash_table_lookup (record->config->labels, "role"), ==, "test");
  g_assert_cmpint (record->run.state, ==, CTRD_STATE_EXITED);
  g_assert_cmpint (record->run.exit_code, ==, 137);
  g_assert_cmpuint (record->run.started_at, ==, 1000);
  g_assert_cmpuint (record->run.finished_at, ==, 2000);
  g_assert_cmpuint (record->run.restart_count, ==, 3);
  g_assert_true (record->run.stopped_by_user);
  g_clear_pointer (&containers, g_ptr_array_unref);

  g_assert_true (ctrd_db_delete_container (db, first->id, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_db_delete_container (db, first->id, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The freed name can be taken again. */
  g_assert_true (ctrd_db_insert_container (db, same_name, &configured, &error));
  g_assert_no_error (error);
  containers = ctrd_db_load_containers (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (containers->len, ==, 2);
}

static void
test_image_in_use (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) db = open_db (fixture);
  g_autoptr (CtrdImageRecord) image = make_image ('a', 1, "busybox:latest", NULL);
  g_autoptr (CtrdContainerConfig) config = make_container ('1', "user", image->id, 2);
  CtrdRunState run = { CTRD_STATE_CREATED, 0, 0, 0, 0, 0 };
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GError) error = NULL;
  CtrdImageRecord *record;

  g_assert_true (ctrd_db_insert_image (db, image, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_db_insert_container (db, config, &run, &error));
  g_assert_no_error (error);

  g_assert_false (ctrd_db_delete_image (db, image->id, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE);
  g_assert_nonnull (strstr (error->message, "user"));
  g_clear_error (&error);

  images = ctrd_db_load_images (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 1);
  record = images->pdata[0];
  g_assert_cmpstrv (record->names, image->names);
  containers = ctrd_db_load_containers (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (containers->len, ==, 1);
  g_clear_pointer (&images, g_ptr_array_unref);

  /* Once the container is gone, the image can go. */
  g_assert_true (ctrd_db_delete_container (db, config->id, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_db_delete_image (db, image->id, &error));
  g_assert_no_error (error);
  images = ctrd_db_load_images (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 0);
}

static void
test_meta (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdDb) db = open_db (fixture);
  g_autoptr (GError) error = NULL;
  g_autofree char *unset = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *tricky = NULL;
  const char *quote_value = "x'); DROP TABLE meta; --";

  unset = ctrd_db_get_meta (db, "boot_id", &error);
  g_assert_no_error (error);
  g_assert_null (unset);

  g_assert_true (ctrd_db_set_meta (db, "boot_id", "one", &error));
  g_assert_no_error (error);
  first = ctrd_db_get_meta (db, "boot_id", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "one");

  g_assert_true (ctrd_db_set_meta (db, "boot_id", "two", &error));
  g_assert_no_error (error);
  second = ctrd_db_get_meta (db, "boot_id", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (second, ==, "two");

  /* Values are bound, never spliced into SQL. */
  g_assert_true (ctrd_db_set_meta (db, "it's", quote_value, &error));
  g_assert_no_error (error);
  tricky = ctrd_db_get_meta (db, "it's", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tricky, ==, quote_value);
}

static void
test_corrupt_container_record (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (CtrdImageRecord) image = make_image ('a', 1, "busybox:latest", NULL);
  g_autoptr (CtrdContainerConfig) config = make_container ('1', "victim", image->id, 2);
  CtrdRunState run = { CTRD_STATE_CREATED, 0, 0, 0, 0, 0 };
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    g_assert_true (ctrd_db_insert_image (db, image, NULL));
    g_assert_true (ctrd_db_insert_container (db, config, &run, NULL));
  }

  raw_exec (fixture->path, "UPDATE containers SET config_json = '{\"id\": 7}'");

  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    /* Loud failure rather than a container silently missing from the list. */
    containers = ctrd_db_load_containers (db, &error);
    g_assert_null (containers);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
    g_assert_nonnull (strstr (error->message, config->id));
  }
}
static void
add_event (CtrdDb *db, const char *id, const char *event, guint64 time, guint64 max_count,
           guint64 max_age)
{
  g_autoptr (GError) error = NULL;
  CtrdEventRecord record = { (char *) "container", (char *) id, (char *) event, time };

  g_assert_true (ctrd_db_add_event (db, &record, max_count, max_age, &error));
  g_assert_no_error (error);
  /* the history's unflushed commit leaves state changes flushed */
  assert_pragma (db, "synchronous", "2");
}

/* "id:event@time ..." of the history between @since and @until. */
static char *
list_events (CtrdDb *db, guint64 since, guint64 until, guint max)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = ctrd_db_list_events (db, since, until, max, &error);
  g_autoptr (GString) out = g_string_new ("");

  g_assert_no_error (error);
  for (guint i = 0; i < events->len; i++)
    {
      const CtrdEventRecord *record = events->pdata[i];
      g_assert_cmpstr (record->kind, ==, "container");
      g_string_append_printf (out, "%s%s:%s@%" G_GUINT64_FORMAT, i > 0 ? " " : "", record->id,
                              record->event, record->time);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Events come back in the order they were added, filtered by time, and
 * the history keeps only the newest max_count, none older than max_age;
 * it survives a reopen. */
static void
test_events (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *all = NULL;
  g_autofree char *window = NULL;
  g_autofree char *capped = NULL;
  g_autofree char *bounded = NULL;
  g_autofree char *aged = NULL;
  g_autofree char *reopened = NULL;

  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    /* Same time for two events: the order they were added decides. */
    add_event (db, "a", "create", 100, 10, 1000);
    add_event (db, "a", "start", 200, 10, 1000);
    add_event (db, "a", "died", 200, 10, 1000);
    add_event (db, "b", "create", 300, 10, 1000);
    all = list_events (db, 0, G_MAXUINT64, 100);
    g_assert_cmpstr (all, ==, "a:create@100 a:start@200 a:died@200 b:create@300");
    window = list_events (db, 150, 200, 100);
    g_assert_cmpstr (window, ==, "a:start@200 a:died@200");
    capped = list_events (db, 0, G_MAXUINT64, 2);
    g_assert_cmpstr (capped, ==, "a:create@100 a:start@200");

    /* max_count 3: the oldest goes. */
    add_event (db, "b", "start", 400, 3, 1000);
    bounded = list_events (db, 0, G_MAXUINT64, 100);
    g_assert_cmpstr (bounded, ==, "a:died@200 b:create@300 b:start@400");

    /* max_age 150 at time 500: what is older than 350 goes. */
    add_event (db, "b", "remove", 500, 10, 150);
    aged = list_events (db, 0, G_MAXUINT64, 100);
    g_assert_cmpstr (aged, ==, "b:start@400 b:remove@500");
  }
  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    reopened = list_events (db, 0, G_MAXUINT64, 100);
    g_assert_cmpstr (reopened, ==, aged);
  }
}

static CtrdVolumeRecord *
find_volume (GPtrArray *volumes, const char *name)
{
  for (guint i = 0; i < volumes->len; i++)
    if (g_str_equal (((CtrdVolumeRecord *) volumes->pdata[i])->name, name))
      return volumes->pdata[i];
  return NULL;
}

/* Volumes: inserted and deleted all or none, read back as written, kept
 * across a reopen; a duplicate name is NAME_IN_USE and changes nothing. */
static void
test_volumes (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) batch =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);
  g_autoptr (GPtrArray) clash =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);
  g_autofree char *data_id = NULL;
  CtrdVolumeRecord *record;

  record = ctrd_volume_record_new ("data", FALSE);
  g_hash_table_insert (record->labels, g_strdup ("k"), g_strdup ("v \"q\""));
  data_id = g_strdup (record->id);
  g_ptr_array_add (batch, record);
  g_ptr_array_add (batch, ctrd_volume_record_new ("anon", TRUE));
  {
    g_autoptr (CtrdDb) db = open_db (fixture);

    g_assert_true (ctrd_db_insert_volumes (db, batch, &error));
    g_assert_no_error (error);
    /* a new one and one with a name in use: neither goes in */
    g_ptr_array_add (clash, ctrd_volume_record_new ("fresh", FALSE));
    g_ptr_array_add (clash, ctrd_volume_record_new ("data", FALSE));
    g_assert_false (ctrd_db_insert_volumes (db, clash, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
    g_assert_nonnull (strstr (error->message, "data"));
    g_clear_error (&error);
  }
  {
    g_autoptr (CtrdDb) db = open_db (fixture);
    g_autoptr (GPtrArray) loaded = ctrd_db_load_volumes (db, &error);
    const char *const ids[] = { data_id, NULL };
    const char *const unknown[] = { "0000", NULL };
    g_autoptr (GPtrArray) after = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (loaded->len, ==, 2);
    g_assert_null (find_volume (loaded, "fresh"));
    record = find_volume (loaded, "data");
    g_assert_cmpstr (record->id, ==, data_id);
    g_assert_false (record->anonymous);
    g_assert_cmpstr (g_hash_table_lookup (record->labels, "k"), ==, "v \"q\"");
    g_assert_cmpuint (record->created_at, ==, ((CtrdVolumeRecord *) batch->pdata[0])->created_at);
    g_assert_true (find_volume (loaded, "anon")->anonymous);

    g_assert_false (ctrd_db_delete_volumes (db, unknown, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_true (ctrd_db_delete_volumes (db, ids, &error));
    g_assert_no_error (error);
    after = ctrd_db_load_volumes (db, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (after->len, ==, 1);
    g_assert_nonnull (find_volume (after, "anon"));
  }
}


int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func)                                                                            \
  g_test_add ("/db/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("open/private-wal", test_open_creates_private_wal_db);
  ADD ("open/tightens-mode", test_open_tightens_mode);
  ADD ("open/refuses-symlink", test_open_refuses_symlink);
  ADD ("open/refuses-newer-schema", test_refuses_newer_schema);
  ADD ("persistence", test_persistence);
  ADD ("two-connections", test_two_connections);
  ADD ("images", test_images);
  ADD ("containers", test_containers);
  ADD ("container-owner", test_container_owner);
  ADD ("image-in-use", test_image_in_use);
  ADD ("meta", test_meta);
  ADD ("corrupt-container-record", test_corrupt_container_record);
  ADD ("events", test_events);
  ADD ("volumes", test_volumes);
#undef ADD

  return g_test_run ();
}
