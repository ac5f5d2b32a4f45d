/* ctrd-db.h: SQLite persistence of images and containers (state.db).
 *
 * WAL journal, synchronous=FULL, foreign keys on, a schema version in
 * PRAGMA user_version (a newer version than this build knows is refused).
 * Every call is a short transaction and blocks on fsync: the daemon calls them
 * on its main thread before publishing a change ("write first, then publish").
 * No D-Bus types. */
#pragma once

#include <glib.h>

#include "ctrd-container-config.h"

G_BEGIN_DECLS

typedef struct _CtrdDb CtrdDb;

typedef struct
{
  char *id;          /* 64 hex, the config digest */
  char *commit;      /* OSTree checksum */
  char **names;      /* "name:tag", never NULL */
  guint64 size;
  guint64 created_at;
  char *config_json; /* the OCI image config (JSON text) */
} CtrdImageRecord;

void ctrd_image_record_free (CtrdImageRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdImageRecord, ctrd_image_record_free)

typedef struct
{
  CtrdContainerConfig *config;
  CtrdRunState run;
} CtrdContainerRecord;

void ctrd_container_record_free (CtrdContainerRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdContainerRecord, ctrd_container_record_free)

/* Opens or creates the database at @path (mode 0600), creating the schema. */
CtrdDb *ctrd_db_open (const char *path, GError **error);
void ctrd_db_close (CtrdDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdDb, ctrd_db_close)

/* Images. A name already held by another image gives NAME_IN_USE. */
gboolean ctrd_db_insert_image (CtrdDb *db, const CtrdImageRecord *record, GError **error);
/* Replaces the image's names (one transaction). */
gboolean ctrd_db_set_image_names (CtrdDb *db, const char *image_id, const char *const *names,
                                  GError **error);
gboolean ctrd_db_delete_image (CtrdDb *db, const char *image_id, GError **error);
/* All images, oldest first; element type CtrdImageRecord*, free func set. */
GPtrArray *ctrd_db_load_images (CtrdDb *db, GError **error);

/* Containers. A duplicate name gives NAME_IN_USE, a duplicate id FAILED. */
gboolean ctrd_db_insert_container (CtrdDb *db, const CtrdContainerConfig *config,
                                   const CtrdRunState *run, GError **error);
/* Rewrites the run state of one container; NOT_FOUND if it does not exist. */
gboolean ctrd_db_update_run_state (CtrdDb *db, const char *id, const CtrdRunState *run,
                                   GError **error);
/* Rewrites the configuration of one container (name, image and JSON), e.g. after
 * a rename; NAME_IN_USE for a name another container holds, NOT_FOUND if the
 * container does not exist. */
gboolean ctrd_db_update_container_config (CtrdDb *db, const CtrdContainerConfig *config,
                                          GError **error);
gboolean ctrd_db_delete_container (CtrdDb *db, const char *id, GError **error);
/* All containers, oldest first; element type CtrdContainerRecord*, free func set. */
GPtrArray *ctrd_db_load_containers (CtrdDb *db, GError **error);

/* Small key/value table for daemon facts (e.g. "boot_id"). get returns NULL if unset. */
char *ctrd_db_get_meta (CtrdDb *db, const char *key, GError **error);
gboolean ctrd_db_set_meta (CtrdDb *db, const char *key, const char *value, GError **error);

/* The current value of a PRAGMA on this connection, as text; only journal_mode,
 * synchronous, foreign_keys, busy_timeout and user_version (for tests and
 * diagnostics). Free with g_free. */
char *ctrd_db_get_pragma (CtrdDb *db, const char *pragma, GError **error);

G_END_DECLS
