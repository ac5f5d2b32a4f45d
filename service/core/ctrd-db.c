/* ctrd-db.c: SQLite persistence of images and containers (state.db).
 *
 * Every value reaches SQL through a bound parameter; the only SQL text built at
 * run time is a PRAGMA name from a fixed allow-list. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ctrd-db.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"

/* The schema is migrations[0..SCHEMA_VERSION-1] applied in order; a
 * database at version N gets the ones after N (PRAGMA user_version). */
#define SCHEMA_VERSION ((gint64) G_N_ELEMENTS (migrations))
/* Long enough to ride out another process's checkpoint, short enough that a
 * wedged writer turns into an error instead of a hung daemon. */
#define BUSY_TIMEOUT_MS 10000

struct _CtrdDb
{
  sqlite3 *handle;
  char *path;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static const char schema_v1[] =
    "CREATE TABLE images ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  \"commit\" TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  config_json TEXT NOT NULL);"
    "CREATE TABLE image_names ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE);"
    "CREATE INDEX image_names_by_image ON image_names (image_id);"
    /* No cascade from images: removing an image that containers still use must fail. */
    "CREATE TABLE containers ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  name TEXT NOT NULL UNIQUE,"
    "  image_id TEXT NOT NULL REFERENCES images (id),"
    "  config_json TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  conmon_pid INTEGER NOT NULL,"
    "  exit_code INTEGER NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX containers_by_image ON containers (image_id);"
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL);";

/* Bridge networks and the addresses their running containers hold. An
 * address is held by one container at a time (the key), a container holds
 * one per network, and the row goes with the container or the network. */
static const char schema_v2_networks[] =
    "CREATE TABLE networks ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  name TEXT NOT NULL UNIQUE,"
    "  interface TEXT NOT NULL UNIQUE,"
    "  subnet TEXT NOT NULL UNIQUE,"
    "  config_json TEXT NOT NULL,"
    "  last_address TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE network_addresses ("
    "  network_id TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
    "  PRIMARY KEY (network_id, address),"
    "  UNIQUE (container_id, network_id));";

/* The uid that created each container (its Owner). Containers made before
 * owners were recorded are root's: acting on them takes manage-others for
 * everyone else. */
static const char schema_v3_owners[] =
    "ALTER TABLE containers ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;";

/* The event history (Manager.GetEvents), in the order the events happened
 * (seq), kept bounded by age and count as each event is added. */
static const char schema_v4_events[] =
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL,"
    "  object_id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  time INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (time);";

/* The restart policy's state: how often it has started each container
 * again, and whether a caller stopped it (which the policy never undoes). */
static const char schema_v5_restarts[] =
    "ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE containers ADD COLUMN stopped_by_user INTEGER NOT NULL DEFAULT 0;";

static const char schema_v6_health[] =
    "ALTER TABLE containers ADD COLUMN health_json TEXT NOT NULL DEFAULT '';";

/* Volumes beside their files under volumes/: the ID the bus object is
 * named by, whether it was made for one container, labels. The name is the
 * directory's. */
static const char schema_v7_volumes[] =
    "CREATE TABLE IF NOT EXISTS volumes ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  name TEXT NOT NULL UNIQUE,"
    "  anonymous INTEGER NOT NULL,"
    "  labels_json TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);";

static const char *const migrations[] = { schema_v1,          schema_v2_networks,
                                          schema_v3_owners,   schema_v4_events,
                                          schema_v5_restarts, schema_v6_health,
                                          schema_v7_volumes };

static gboolean
set_sqlite_error (CtrdDb *db, const char *operation, GError **error)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Database %s: %s failed: %s", db->path,
               operation, sqlite3_errmsg (db->handle));
  return FALSE;
}

static gboolean
exec_sql (CtrdDb *db, const char *sql, const char *operation, GError **error)
{
  if (sqlite3_exec (db->handle, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_sqlite_error (db, operation, error);
  return TRUE;
}

static sqlite3_stmt *
prepare (CtrdDb *db, const char *sql, const char *operation, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db->handle, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (db, operation, error);
      return NULL;
    }
  return stmt;
}

/* Steps a statement that returns no rows. On failure returns the extended
 * result code (so callers can tell constraint kinds apart) with @error set. */
static int
step_done (CtrdDb *db, sqlite3_stmt *stmt, const char *operation, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return SQLITE_OK;
  set_sqlite_error (db, operation, error);
  return sqlite3_extended_errcode (db->handle);
}

static void
bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  sqlite3_bind_text (stmt, index, text != NULL ? text : "", -1, SQLITE_TRANSIENT);
}

static char *
column_dup (sqlite3_stmt *stmt, int index)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, index));
}

/* A transaction that rolls back when it goes out of scope uncommitted, so every
 * early return on error leaves the database as it was. */
typedef struct
{
  CtrdDb *db;
} DbTransaction;

static void
db_transaction_clear (DbTransaction *txn)
{
  if (txn->db != NULL)
    sqlite3_exec (txn->db->handle, "ROLLBACK", NULL, NULL, NULL);
  txn->db = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DbTransaction, db_transaction_clear)

/* Writers take the write lock up front (IMMEDIATE) so they wait in busy_timeout
 * instead of failing with SQLITE_BUSY on lock upgrade; readers take a snapshot. */
static gboolean
db_transaction_begin (DbTransaction *txn, CtrdDb *db, gboolean write, const char *operation,
                      GError **error)
{
  if (!exec_sql (db, write ? "BEGIN IMMEDIATE" : "BEGIN", operation, error))
    return FALSE;
  txn->db = db;
  return TRUE;
}

static gboolean
db_transaction_commit (DbTransaction *txn, const char *operation, GError **error)
{
  if (!exec_sql (txn->db, "COMMIT", operation, error))
    return FALSE;
  txn->db = NULL;
  return TRUE;
}

/* Starts a transaction and prepares its (first) statement. */
static sqlite3_stmt *
begin_with_statement (DbTransaction *txn, CtrdDb *db, gboolean write, const char *sql,
                      const char *operation, GError **error)
{
  if (!db_transaction_begin (txn, db, write, operation, error))
    return NULL;
  return prepare (db, sql, operation, error);
}

static gboolean
query_int (CtrdDb *db, const char *sql, gint64 *out, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (db, sql, sql, error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_sqlite_error (db, sql, error);
  *out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* The file is created 0600 before SQLite sees it: it holds every container's
 * configuration, and SQLite gives its -wal and -shm files the same mode. */
static gboolean
create_private_file (const char *path, GError **error)
{
  struct stat st;
  ctrd_autofd int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0 || fstat (fd, &st) != 0)
    return ctrd_throw_errno (error, "Cannot open database %s", path);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Cannot open database %s: not a regular file", path);
      return FALSE;
    }
  if ((st.st_mode & 07777) != 0600 && fchmod (fd, 0600) != 0)
    return ctrd_throw_errno (error, "Cannot open database %s", path);
  return TRUE;
}

/* Reads the schema version and refuses one from a newer build, whose meaning
 * this build cannot know. */
static gboolean
read_schema_version (CtrdDb *db, gint64 *out_version, GError **error)
{
  if (!query_int (db, "PRAGMA user_version", out_version, error))
    return FALSE;
  if (*out_version > SCHEMA_VERSION)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Database %s has schema version %" G_GINT64_FORMAT
                   ", newer than the version %" G_GINT64_FORMAT
                   " this containersd knows; refusing to use it "
                   "(was it written by a newer containersd?)",
                   db->path, *out_version, SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_pragmas (CtrdDb *db, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  const char *mode;

  /* journal_mode answers with the mode it ended up in rather than failing. */
  stmt = prepare (db, "PRAGMA journal_mode = WAL", "enabling WAL", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_sqlite_error (db, "enabling WAL", error);
  mode = (const char *) sqlite3_column_text (stmt, 0);
  if (mode == NULL || g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Database %s: cannot enable WAL journal (journal mode is %s)", db->path,
                   mode != NULL ? mode : "unknown");
      return FALSE;
    }

  /* Each state change must be on disk before it is published on the bus. */
  return exec_sql (db, "PRAGMA synchronous = FULL", "setting synchronous=FULL", error) &&
         exec_sql (db, "PRAGMA foreign_keys = ON", "enabling foreign keys", error);
}

static gboolean
ensure_schema (CtrdDb *db, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  gint64 version;

  /* Read again under the write lock: another process may have just created it. */
  if (!db_transaction_begin (&txn, db, TRUE, "creating the schema", error) ||
      !read_schema_version (db, &version, error))
    return FALSE;
  if (version == SCHEMA_VERSION)
    return db_transaction_commit (&txn, "reading the schema version", error);

  for (gint64 v = version; v < SCHEMA_VERSION; v++)
    if (!exec_sql (db, migrations[v], "creating the schema", error))
      return FALSE;
  {
    /* the only number put into SQL text: a compile-time constant */
    g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT,
                                            SCHEMA_VERSION);
    if (!exec_sql (db, sql, "setting the schema version", error))
      return FALSE;
  }
  return db_transaction_commit (&txn, "creating the schema", error);
}

CtrdDb *
ctrd_db_open (const char *path, GError **error)
{
  g_autoptr (CtrdDb) db = g_new0 (CtrdDb, 1);
  gint64 version;
  int rc;

  db->path = g_strdup (path);
  if (!create_private_file (path, error))
    return NULL;

  rc = sqlite3_open_v2 (path, &db->handle,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Cannot open database %s: %s", path,
                   db->handle != NULL ? sqlite3_errmsg (db->handle) : sqlite3_errstr (rc));
      return NULL;
    }

  sqlite3_extended_result_codes (db->handle, 1);
  sqlite3_busy_timeout (db->handle, BUSY_TIMEOUT_MS);

  /* Checked before any PRAGMA that writes, so a newer database is left as it was. */
  if (!read_schema_version (db, &version, error) || !set_pragmas (db, error) ||
      !ensure_schema (db, error))
    return NULL;

  return g_steal_pointer (&db);
}

void
ctrd_db_close (CtrdDb *db)
{
  if (db == NULL)
    return;

  /* sqlite3_close_v2 defers the close if a statement is somehow still open
   * instead of leaking the handle. */
  sqlite3_close_v2 (db->handle);
  g_free (db->path);
  g_free (db);
}

char *
ctrd_db_get_pragma (CtrdDb *db, const char *pragma, GError **error)
{
  static const char *const allowed[] = {
    "journal_mode", "synchronous", "foreign_keys", "busy_timeout", "user_version", NULL,
  };
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *sql = NULL;

  if (pragma == NULL || !g_strv_contains (allowed, pragma))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "PRAGMA %s is not one that can be read here", pragma ? pragma : "(null)");
      return NULL;
    }

  sql = g_strconcat ("PRAGMA ", pragma, NULL);
  stmt = prepare (db, sql, sql, error);
  if (stmt == NULL)
    return NULL;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_sqlite_error (db, sql, error);
      return NULL;
    }
  return column_dup (stmt, 0);
}

void
ctrd_image_record_free (CtrdImageRecord *record)
{
  if (record == NULL)
    return;

  g_free (record->id);
  g_free (record->commit);
  g_strfreev (record->names);
  g_free (record->config_json);
  g_free (record);
}

void
ctrd_container_record_free (CtrdContainerRecord *record)
{
  if (record == NULL)
    return;

  ctrd_container_config_free (record->config);
  g_free (record->health_json);
  g_free (record);
}

static gboolean
image_exists (CtrdDb *db, const char *image_id, gboolean *out_exists, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt =
      prepare (db, "SELECT 1 FROM images WHERE id = ?", "looking up an image", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, image_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_sqlite_error (db, "looking up an image", error);
  *out_exists = rc == SQLITE_ROW;
  return TRUE;
}

/* Adds @names to @image_id inside the caller's transaction. A name listed twice
 * is fine; a name held by another image is NAME_IN_USE. */
static gboolean
insert_image_names (CtrdDb *db, const char *image_id, const char *const *names, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = prepare (
      db, "INSERT INTO image_names (name, image_id) VALUES (?, ?)", "adding an image name", error);
  g_autoptr (sqlite3_stmt) owner_of = prepare (
      db, "SELECT image_id FROM image_names WHERE name = ?", "looking up an image name", error);

  if (insert == NULL || owner_of == NULL)
    return FALSE;

  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    {
      const char *owner;

      sqlite3_reset (owner_of);
      bind_text (owner_of, 1, names[i]);
      switch (sqlite3_step (owner_of))
        {
        case SQLITE_DONE:
          break;
        case SQLITE_ROW:
          owner = (const char *) sqlite3_column_text (owner_of, 0);
          if (g_strcmp0 (owner, image_id) != 0)
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                           "Image name %s is already used by image %.12s", names[i], owner);
              return FALSE;
            }
          /* Listed twice: already added. */
          sqlite3_reset (owner_of);
          continue;
        default:
          return set_sqlite_error (db, "looking up an image name", error);
        }

      sqlite3_reset (insert);
      bind_text (insert, 1, names[i]);
      bind_text (insert, 2, image_id);
      if (step_done (db, insert, "adding an image name", error) != SQLITE_OK)
        return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_db_insert_image (CtrdDb *db, const CtrdImageRecord *record, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  if (!db_transaction_begin (&txn, db, TRUE, "inserting an image", error))
    return FALSE;

  stmt = prepare (db,
                  "INSERT INTO images (id, \"commit\", size, created_at, config_json) "
                  "VALUES (?, ?, ?, ?, ?)",
                  "inserting an image", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, record->id);
  bind_text (stmt, 2, record->commit);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) record->size);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) record->created_at);
  bind_text (stmt, 5, record->config_json);

  rc = step_done (db, stmt, "inserting an image", error);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Image %s already exists in the database",
                   record->id);
      return FALSE;
    }
  if (rc != SQLITE_OK)
    return FALSE;

  if (!insert_image_names (db, record->id, (const char *const *) record->names, error))
    return FALSE;
  return db_transaction_commit (&txn, "inserting an image", error);
}

gboolean
ctrd_db_set_image_names (CtrdDb *db, const char *image_id, const char *const *names, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean exists;

  if (!db_transaction_begin (&txn, db, TRUE, "setting image names", error))
    return FALSE;
  if (!image_exists (db, image_id, &exists, error))
    return FALSE;
  if (!exists)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Image %s is not in the database",
                   image_id);
      return FALSE;
    }

  stmt = prepare (db, "DELETE FROM image_names WHERE image_id = ?", "setting image names", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, image_id);
  if (step_done (db, stmt, "setting image names", error) != SQLITE_OK)
    return FALSE;

  if (!insert_image_names (db, image_id, names, error))
    return FALSE;
  return db_transaction_commit (&txn, "setting image names", error);
}

gboolean
ctrd_db_delete_image (CtrdDb *db, const char *image_id, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) user = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  if (!db_transaction_begin (&txn, db, TRUE, "deleting an image", error))
    return FALSE;

  /* The foreign key would refuse too, but could not say which container. */
  user = prepare (db, "SELECT name FROM containers WHERE image_id = ? LIMIT 1", "deleting an image",
                  error);
  if (user == NULL)
    return FALSE;
  bind_text (user, 1, image_id);
  switch (sqlite3_step (user))
    {
    case SQLITE_DONE:
      break;
    case SQLITE_ROW:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE, "Image %.12s is used by container %s",
                   image_id, (const char *) sqlite3_column_text (user, 0));
      return FALSE;
    default:
      return set_sqlite_error (db, "deleting an image", error);
    }

  stmt = prepare (db, "DELETE FROM images WHERE id = ?", "deleting an image", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, image_id);
  rc = step_done (db, stmt, "deleting an image", error);
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE, "Image %.12s is used by a container",
                   image_id);
      return FALSE;
    }
  if (rc != SQLITE_OK)
    return FALSE;
  if (sqlite3_changes (db->handle) == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Image %s is not in the database",
                   image_id);
      return FALSE;
    }
  return db_transaction_commit (&txn, "deleting an image", error);
}

GPtrArray *
ctrd_db_load_images (CtrdDb *db, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (GPtrArray) images =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_image_record_free);
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, FALSE,
                            "SELECT id, \"commit\", size, created_at, config_json FROM images "
                            "ORDER BY created_at, rowid",
                            "loading images", error);
  g_autoptr (sqlite3_stmt) names = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  names = prepare (db, "SELECT name FROM image_names WHERE image_id = ? ORDER BY rowid",
                   "loading image names", error);
  if (names == NULL)
    return NULL;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (CtrdImageRecord) record = g_new0 (CtrdImageRecord, 1);
      g_autoptr (GStrvBuilder) name_list = g_strv_builder_new ();

      record->id = column_dup (stmt, 0);
      record->commit = column_dup (stmt, 1);
      record->size = (guint64) sqlite3_column_int64 (stmt, 2);
      record->created_at = (guint64) sqlite3_column_int64 (stmt, 3);
      record->config_json = column_dup (stmt, 4);

      sqlite3_reset (names);
      bind_text (names, 1, record->id);
      while ((rc = sqlite3_step (names)) == SQLITE_ROW)
        g_strv_builder_add (name_list, (const char *) sqlite3_column_text (names, 0));
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (db, "loading image names", error);
          return NULL;
        }
      record->names = g_strv_builder_end (name_list);
      g_ptr_array_add (images, g_steal_pointer (&record));
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, "loading images", error);
      return NULL;
    }

  if (!db_transaction_commit (&txn, "loading images", error))
    return NULL;
  return g_steal_pointer (&images);
}

static void
bind_run_state (sqlite3_stmt *stmt, int first, const CtrdRunState *run)
{
  bind_text (stmt, first, ctrd_state_to_string (run->state));
  sqlite3_bind_int64 (stmt, first + 1, run->pid);
  sqlite3_bind_int64 (stmt, first + 2, run->conmon_pid);
  sqlite3_bind_int (stmt, first + 3, run->exit_code);
  sqlite3_bind_int64 (stmt, first + 4, (sqlite3_int64) run->started_at);
  sqlite3_bind_int64 (stmt, first + 5, (sqlite3_int64) run->finished_at);
  sqlite3_bind_int64 (stmt, first + 6, run->restart_count);
  sqlite3_bind_int (stmt, first + 7, run->stopped_by_user ? 1 : 0);
}

/* Turns a failed container write into the error its caller can act on. */
static void
refine_container_error (int rc, const CtrdContainerConfig *config, GError **error)
{
  CtrdError code;
  g_autofree char *message = NULL;

  switch (rc)
    {
    case SQLITE_CONSTRAINT_UNIQUE:
      code = CTRD_ERROR_NAME_IN_USE;
      message = g_strdup_printf ("Container name %s is already in use", config->name);
      break;
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      code = CTRD_ERROR_FAILED;
      message = g_strdup_printf ("Container %s already exists in the database", config->id);
      break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      code = CTRD_ERROR_NOT_FOUND;
      message = g_strdup_printf ("Image %s of container %s is not in the database",
                                 config->image_id, config->name);
      break;
    default:
      return;
    }

  g_clear_error (error);
  g_set_error_literal (error, CTRD_ERROR, code, message);
}

/* Runs a bound container write and commits it. With @config, constraint
 * failures become the errors callers act on; with @must_exist_id, touching no
 * row is NOT_FOUND. */
static gboolean
finish_container_write (DbTransaction *txn, sqlite3_stmt *stmt, const char *operation,
                        const CtrdContainerConfig *config, const char *must_exist_id,
                        GError **error)
{
  int rc = step_done (txn->db, stmt, operation, error);

  if (rc != SQLITE_OK)
    {
      if (config != NULL)
        refine_container_error (rc, config, error);
      return FALSE;
    }
  if (must_exist_id != NULL && sqlite3_changes (txn->db->handle) == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Container %s is not in the database",
                   must_exist_id);
      return FALSE;
    }
  return db_transaction_commit (txn, operation, error);
}

gboolean
ctrd_db_insert_container (CtrdDb *db, const CtrdContainerConfig *config, const CtrdRunState *run,
                          GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autofree char *json = ctrd_container_config_to_json (config);
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "INSERT INTO containers (id, name, image_id, config_json, created_at, "
                            "state, pid, conmon_pid, exit_code, started_at, finished_at, "
                            "restart_count, stopped_by_user, owner) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            "inserting a container", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, config->id);
  bind_text (stmt, 2, config->name);
  bind_text (stmt, 3, config->image_id);
  bind_text (stmt, 4, json);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) config->created_at);
  bind_run_state (stmt, 6, run);
  sqlite3_bind_int64 (stmt, 14, (sqlite3_int64) config->owner);
  return finish_container_write (&txn, stmt, "inserting a container", config, NULL, error);
}

gboolean
ctrd_db_update_run_state (CtrdDb *db, const char *id, const CtrdRunState *run, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "UPDATE containers SET state = ?, pid = ?, conmon_pid = ?, "
                            "exit_code = ?, started_at = ?, finished_at = ?, restart_count = ?, "
                            "stopped_by_user = ? WHERE id = ?",
                            "updating a container's state", error);

  if (stmt == NULL)
    return FALSE;
  bind_run_state (stmt, 1, run);
  bind_text (stmt, 9, id);
  return finish_container_write (&txn, stmt, "updating a container's state", NULL, id, error);
}

gboolean
ctrd_db_update_container_config (CtrdDb *db, const CtrdContainerConfig *config, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autofree char *json = ctrd_container_config_to_json (config);
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "UPDATE containers SET name = ?, image_id = ?, config_json = ? "
                            "WHERE id = ?",
                            "updating a container's configuration", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, config->name);
  bind_text (stmt, 2, config->image_id);
  bind_text (stmt, 3, json);
  bind_text (stmt, 4, config->id);
  return finish_container_write (&txn, stmt, "updating a container's configuration", config,
                                 config->id, error);
}

gboolean
ctrd_db_update_container_health (CtrdDb *db, const char *id, const char *json, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE, "UPDATE containers SET health_json = ? WHERE id = ?",
                            "updating a container's health", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, json);
  bind_text (stmt, 2, id);
  return finish_container_write (&txn, stmt, "updating a container's health", NULL, id, error);
}

gboolean
ctrd_db_delete_container (CtrdDb *db, const char *id, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, TRUE, "DELETE FROM containers WHERE id = ?", "deleting a container", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, id);
  return finish_container_write (&txn, stmt, "deleting a container", NULL, id, error);
}

static CtrdContainerRecord *
container_record_from_row (CtrdDb *db, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (CtrdContainerRecord) record = g_new0 (CtrdContainerRecord, 1);
  const char *id = (const char *) sqlite3_column_text (stmt, 0);
  const char *state = (const char *) sqlite3_column_text (stmt, 3);
  g_autoptr (GError) local_error = NULL;

  record->config =
      ctrd_container_config_from_json ((const char *) sqlite3_column_text (stmt, 2), &local_error);
  if (record->config == NULL)
    {
      /* A record that no longer parses is damage to the store, not a bad argument. */
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Database %s: container %s: %s",
                   db->path, id, local_error->message);
      return NULL;
    }
  if (g_strcmp0 (record->config->id, id) != 0 ||
      !ctrd_state_from_string (state, &record->run.state))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Database %s: container %s: the record is inconsistent (configuration id %s, "
                   "state %s)",
                   db->path, id, record->config->id, state);
      return NULL;
    }

  /* The column is what uniqueness is enforced on, so it is the truth. */
  g_free (record->config->name);
  record->config->name = column_dup (stmt, 1);
  record->run.pid = (guint32) sqlite3_column_int64 (stmt, 4);
  record->run.conmon_pid = (guint32) sqlite3_column_int64 (stmt, 5);
  record->run.exit_code = sqlite3_column_int (stmt, 6);
  record->run.started_at = (guint64) sqlite3_column_int64 (stmt, 7);
  record->run.finished_at = (guint64) sqlite3_column_int64 (stmt, 8);
  /* Not in the JSON: the column is the one copy, set once at creation. */
  record->config->owner = (guint32) sqlite3_column_int64 (stmt, 9);
  record->run.restart_count = (guint32) CLAMP (sqlite3_column_int64 (stmt, 10), 0, G_MAXUINT32);
  record->run.stopped_by_user = sqlite3_column_int (stmt, 11) != 0;
  record->health_json = column_dup (stmt, 12);
  return g_steal_pointer (&record);
}

GPtrArray *
ctrd_db_load_containers (CtrdDb *db, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (GPtrArray) containers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_container_record_free);
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, FALSE,
      "SELECT id, name, config_json, state, pid, conmon_pid, exit_code, started_at, "
      "finished_at, owner, restart_count, stopped_by_user, health_json FROM containers "
      "ORDER BY created_at, rowid",
      "loading containers", error);
  int rc;

  if (stmt == NULL)
    return NULL;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CtrdContainerRecord *record = container_record_from_row (db, stmt, error);

      if (record == NULL)
        return NULL;
      g_ptr_array_add (containers, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, "loading containers", error);
      return NULL;
    }

  if (!db_transaction_commit (&txn, "loading containers", error))
    return NULL;
  return g_steal_pointer (&containers);
}

char *
ctrd_db_get_meta (CtrdDb *db, const char *key, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *value = NULL;
  int rc;

  /* A single SELECT is its own (autocommit) transaction. */
  stmt = prepare (db, "SELECT value FROM meta WHERE key = ?", "reading a meta value", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, key);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    value = column_dup (stmt, 0);
  else if (rc != SQLITE_DONE)
    set_sqlite_error (db, "reading a meta value", error);
  return g_steal_pointer (&value);
}

gboolean
ctrd_db_set_meta (CtrdDb *db, const char *key, const char *value, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            "writing a meta value", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, key);
  bind_text (stmt, 2, value);
  if (step_done (db, stmt, "writing a meta value", error) != SQLITE_OK)
    return FALSE;
  return db_transaction_commit (&txn, "writing a meta value", error);
}

/* ---------------------------------------------------------------- networks */

static void
refine_network_error (int rc, const CtrdNetworkConfig *config, GError **error)
{
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                   "Network %s: its name, interface %s or subnet %s is already in use",
                   config->name, config->interface, config->subnet);
    }
  else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "Network %s already exists in the database", config->id);
    }
}

gboolean
ctrd_db_insert_network (CtrdDb *db, const CtrdNetworkConfig *config, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autofree char *json = ctrd_network_config_to_json (config);
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "INSERT INTO networks (id, name, interface, subnet, config_json, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                            "inserting a network", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, config->id);
  bind_text (stmt, 2, config->name);
  bind_text (stmt, 3, config->interface);
  bind_text (stmt, 4, config->subnet);
  bind_text (stmt, 5, json);
  sqlite3_bind_int64 (stmt, 6, (sqlite3_int64) config->created_at);
  rc = step_done (db, stmt, "inserting a network", error);
  if (rc != SQLITE_OK)
    {
      refine_network_error (rc, config, error);
      return FALSE;
    }
  return db_transaction_commit (&txn, "inserting a network", error);
}

gboolean
ctrd_db_delete_network (CtrdDb *db, const char *id, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, TRUE, "DELETE FROM networks WHERE id = ?", "deleting a network", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, id);
  if (step_done (db, stmt, "deleting a network", error) != SQLITE_OK)
    return FALSE;
  if (sqlite3_changes (db->handle) == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Network %s is not in the database",
                   id);
      return FALSE;
    }
  return db_transaction_commit (&txn, "deleting a network", error);
}

GPtrArray *
ctrd_db_load_networks (CtrdDb *db, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (GPtrArray) networks =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_network_config_free);
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, FALSE, "SELECT id, config_json FROM networks ORDER BY created_at, rowid",
      "loading networks", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local_error = NULL;
      CtrdNetworkConfig *config = ctrd_network_config_from_json (
          (const char *) sqlite3_column_text (stmt, 1), &local_error);

      if (config == NULL)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Database %s: network %s: %s",
                       db->path, (const char *) sqlite3_column_text (stmt, 0),
                       local_error->message);
          return NULL;
        }
      g_ptr_array_add (networks, config);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, "loading networks", error);
      return NULL;
    }
  if (!db_transaction_commit (&txn, "loading networks", error))
    return NULL;
  return g_steal_pointer (&networks);
}

void
ctrd_address_record_free (CtrdAddressRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->network_id);
  g_free (record->container_id);
  g_free (record->address);
  g_free (record);
}

gboolean
ctrd_db_insert_address (CtrdDb *db, const char *network_id, const char *container_id,
                        const char *address, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "INSERT INTO network_addresses (network_id, address, container_id) "
                            "VALUES (?, ?, ?)",
                            "allocating an address", error);
  g_autoptr (sqlite3_stmt) cursor = NULL;
  int rc;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, network_id);
  bind_text (stmt, 2, address);
  bind_text (stmt, 3, container_id);
  rc = step_done (db, stmt, "allocating an address", error);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE,
                   rc == SQLITE_CONSTRAINT_PRIMARYKEY
                       ? "Address %s is already held by another container"
                       : "Container %.12s already holds an address on this network",
                   rc == SQLITE_CONSTRAINT_PRIMARYKEY ? address : container_id);
      return FALSE;
    }
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                   "Network %.12s or container %.12s is not in the database", network_id,
                   container_id);
      return FALSE;
    }
  if (rc != SQLITE_OK)
    return FALSE;
  /* where the next allocation starts looking (podman's "last IP") */
  cursor = prepare (db, "UPDATE networks SET last_address = ? WHERE id = ?",
                    "allocating an address", error);
  if (cursor == NULL)
    return FALSE;
  bind_text (cursor, 1, address);
  bind_text (cursor, 2, network_id);
  if (step_done (db, cursor, "allocating an address", error) != SQLITE_OK)
    return FALSE;
  return db_transaction_commit (&txn, "allocating an address", error);
}

gboolean
ctrd_db_delete_addresses (CtrdDb *db, const char *container_id, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, TRUE, "DELETE FROM network_addresses WHERE container_id = ?",
      "freeing addresses", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, container_id);
  if (step_done (db, stmt, "freeing addresses", error) != SQLITE_OK)
    return FALSE;
  return db_transaction_commit (&txn, "freeing addresses", error);
}

GPtrArray *
ctrd_db_load_addresses (CtrdDb *db, const char *network_id, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (GPtrArray) records =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_address_record_free);
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, FALSE,
      "SELECT network_id, container_id, address FROM network_addresses "
      "WHERE ?1 IS NULL OR network_id = ?1 ORDER BY rowid",
      "loading addresses", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  if (network_id != NULL)
    bind_text (stmt, 1, network_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CtrdAddressRecord *record = g_new0 (CtrdAddressRecord, 1);

      record->network_id = column_dup (stmt, 0);
      record->container_id = column_dup (stmt, 1);
      record->address = column_dup (stmt, 2);
      g_ptr_array_add (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, "loading addresses", error);
      return NULL;
    }
  if (!db_transaction_commit (&txn, "loading addresses", error))
    return NULL;
  return g_steal_pointer (&records);
}

char *
ctrd_db_get_last_address (CtrdDb *db, const char *network_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (db, "SELECT last_address FROM networks WHERE id = ?",
                                           "reading a network's last address", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, network_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return column_dup (stmt, 0);
  if (rc == SQLITE_DONE)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Network %s is not in the database",
                 network_id);
  else
    set_sqlite_error (db, "reading a network's last address", error);
  return NULL;
}

/* ---------------------------------------------------------------- events */

void
ctrd_event_record_free (CtrdEventRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->kind);
  g_free (record->id);
  g_free (record->event);
  g_free (record);
}

static gboolean
add_event_in_transaction (CtrdDb *db, const CtrdEventRecord *record, guint64 max_count,
                          guint64 max_age_usec, GError **error)
{
  const char *operation = "recording an event";
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, TRUE, "INSERT INTO events (kind, object_id, event, time) VALUES (?, ?, ?, ?)",
      operation, error);
  gint64 oldest = record->time > max_age_usec ? (gint64) (record->time - max_age_usec) : 0;
  gint64 newest;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, record->kind);
  bind_text (stmt, 2, record->id);
  bind_text (stmt, 3, record->event);
  sqlite3_bind_int64 (stmt, 4, (gint64) record->time);
  if (step_done (db, stmt, operation, error) != SQLITE_OK)
    return FALSE;
  newest = sqlite3_last_insert_rowid (db->handle);
  g_clear_pointer (&stmt, sqlite3_finalize);
  /* The newest @max_count, none older than @max_age_usec. */
  stmt = prepare (db, "DELETE FROM events WHERE time < ? OR seq <= ?", operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, oldest);
  sqlite3_bind_int64 (stmt, 2, newest - (gint64) MIN (max_count, (guint64) G_MAXINT64));
  if (step_done (db, stmt, operation, error) != SQLITE_OK)
    return FALSE;
  return db_transaction_commit (&txn, operation, error);
}

gboolean
ctrd_db_add_event (CtrdDb *db, const CtrdEventRecord *record, guint64 max_count,
                   guint64 max_age_usec, GError **error)
{
  const char *operation = "recording an event";
  gboolean added;

  /* The history is not the state: its commit is not flushed by itself (WAL
   * with synchronous=NORMAL) but by the next state change's, which writes
   * the log after it. A machine crash can lose only the newest events,
   * never a state change, and never an event without what came before. */
  if (!exec_sql (db, "PRAGMA synchronous = NORMAL", operation, error))
    return FALSE;
  added = add_event_in_transaction (db, record, max_count, max_age_usec, error);
  if (!exec_sql (db, "PRAGMA synchronous = FULL", operation, added ? error : NULL))
    {
      /* Every later commit would go unflushed: nothing may be written. */
      g_critical ("Database %s: cannot restore synchronous=FULL", db->path);
      return FALSE;
    }
  return added;
}

GPtrArray *
ctrd_db_list_events (CtrdDb *db, guint64 since, guint64 until, guint max_events, GError **error)
{
  const char *operation = "reading the event history";
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (GPtrArray) events =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_event_record_free);
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, FALSE,
                            "SELECT kind, object_id, event, time FROM events"
                            " WHERE time >= ? AND time <= ? ORDER BY seq LIMIT ?",
                            operation, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, (gint64) MIN (since, (guint64) G_MAXINT64));
  sqlite3_bind_int64 (stmt, 2, (gint64) MIN (until, (guint64) G_MAXINT64));
  sqlite3_bind_int64 (stmt, 3, max_events);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CtrdEventRecord *record = g_new0 (CtrdEventRecord, 1);

      record->kind = column_dup (stmt, 0);
      record->id = column_dup (stmt, 1);
      record->event = column_dup (stmt, 2);
      record->time = (guint64) sqlite3_column_int64 (stmt, 3);
      g_ptr_array_add (events, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, operation, error);
      return NULL;
    }
  if (!db_transaction_commit (&txn, operation, error))
    return NULL;
  return g_steal_pointer (&events);
}

/* ---------------------------------------------------------------- volumes */

static gboolean
insert_volume (CtrdDb *db, sqlite3_stmt *stmt, const CtrdVolumeRecord *record, GError **error)
{
  g_autofree char *labels = ctrd_volume_labels_to_json (record->labels);
  int rc;

  sqlite3_reset (stmt);
  bind_text (stmt, 1, record->id);
  bind_text (stmt, 2, record->name);
  sqlite3_bind_int (stmt, 3, record->anonymous ? 1 : 0);
  bind_text (stmt, 4, labels);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) record->created_at);
  rc = step_done (db, stmt, "inserting a volume", error);
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE, "Volume %s already exists",
                   record->name);
    }
  else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    {
      g_clear_error (error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "Volume %s: its ID %s is in the database already", record->name, record->id);
    }
  return rc == SQLITE_OK;
}

gboolean
ctrd_db_insert_volumes (CtrdDb *db, GPtrArray *records, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt =
      begin_with_statement (&txn, db, TRUE,
                            "INSERT INTO volumes (id, name, anonymous, labels_json, created_at) "
                            "VALUES (?, ?, ?, ?, ?)",
                            "inserting volumes", error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < records->len; i++)
    if (!insert_volume (db, stmt, records->pdata[i], error))
      return FALSE;
  return db_transaction_commit (&txn, "inserting volumes", error);
}

gboolean
ctrd_db_delete_volumes (CtrdDb *db, const char *const *ids, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, TRUE, "DELETE FROM volumes WHERE id = ?", "deleting volumes", error);

  if (stmt == NULL)
    return FALSE;
  for (gsize i = 0; ids[i] != NULL; i++)
    {
      sqlite3_reset (stmt);
      bind_text (stmt, 1, ids[i]);
      if (step_done (db, stmt, "deleting volumes", error) != SQLITE_OK)
        return FALSE;
      if (sqlite3_changes (db->handle) == 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Volume %s is not in the database",
                       ids[i]);
          return FALSE;
        }
    }
  return db_transaction_commit (&txn, "deleting volumes", error);
}

static CtrdVolumeRecord *
volume_record_from_row (CtrdDb *db, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (CtrdVolumeRecord) record = g_new0 (CtrdVolumeRecord, 1);
  g_autoptr (GError) local_error = NULL;

  record->id = column_dup (stmt, 0);
  record->name = column_dup (stmt, 1);
  record->anonymous = sqlite3_column_int (stmt, 2) != 0;
  record->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  record->created_at = (guint64) sqlite3_column_int64 (stmt, 4);
  if (!ctrd_volume_labels_from_json ((const char *) sqlite3_column_text (stmt, 3),
                                     record->labels, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Database %s: volume %s: %s",
                   db->path, record->name, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&record);
}

GPtrArray *
ctrd_db_load_volumes (CtrdDb *db, GError **error)
{
  g_auto (DbTransaction) txn = { NULL };
  g_autoptr (GPtrArray) volumes =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);
  g_autoptr (sqlite3_stmt) stmt = begin_with_statement (
      &txn, db, FALSE,
      "SELECT id, name, anonymous, labels_json, created_at FROM volumes "
      "ORDER BY created_at, rowid",
      "loading volumes", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CtrdVolumeRecord *record = volume_record_from_row (db, stmt, error);

      if (record == NULL)
        return NULL;
      g_ptr_array_add (volumes, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, "loading volumes", error);
      return NULL;
    }
  if (!db_transaction_commit (&txn, "loading volumes", error))
    return NULL;
  return g_steal_pointer (&volumes);
}
