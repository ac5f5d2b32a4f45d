/* ctrd-db.h: SQLite persistence of images, containers, networks and volumes (state.db).
 *
 * WAL journal, synchronous=FULL, foreign keys on, a schema version in
 * PRAGMA user_version (a newer version than this build knows is refused).
 * Every call is a short transaction and blocks on fsync: the daemon calls them
 * on its main thread before publishing a change ("write first, then publish").
 * No D-Bus types. */
#pragma once

#include <glib.h>

#include "ctrd-container-config.h"
#include "ctrd-network.h"
#include "ctrd-volume-records.h"

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
  char *health_json; /* the health check's state (ctrd_health_state_to_json); "" = none yet */
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
/* Rewrites the health check's state of one container (@json: see
 * ctrd_health_state_to_json); NOT_FOUND if it does not exist. */
gboolean ctrd_db_update_container_health (CtrdDb *db, const char *id, const char *json,
                                          GError **error);
gboolean ctrd_db_delete_container (CtrdDb *db, const char *id, GError **error);
/* All containers, oldest first; element type CtrdContainerRecord*, free func set. */
GPtrArray *ctrd_db_load_containers (CtrdDb *db, GError **error);

/* Small key/value table for daemon facts (e.g. "boot_id"). get returns NULL if unset. */
char *ctrd_db_get_meta (CtrdDb *db, const char *key, GError **error);
gboolean ctrd_db_set_meta (CtrdDb *db, const char *key, const char *value, GError **error);

/* Networks. A name, interface or subnet another network has gives
 * NAME_IN_USE. Deleting one frees the addresses on it. */
gboolean ctrd_db_insert_network (CtrdDb *db, const CtrdNetworkConfig *config, GError **error);
gboolean ctrd_db_delete_network (CtrdDb *db, const char *id, GError **error);
/* All networks, oldest first; element type CtrdNetworkConfig*, free func set.
 * A record that does not pass the configuration's checks is STORAGE_ERROR. */
GPtrArray *ctrd_db_load_networks (CtrdDb *db, GError **error);

/* Addresses held on networks (by running containers). */
typedef struct
{
  char *network_id;
  char *container_id;
  char *address;
} CtrdAddressRecord;

void ctrd_address_record_free (CtrdAddressRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdAddressRecord, ctrd_address_record_free)

/* Records that @container_id holds @address on @network_id, and makes it the
 * network's last address handed out: IN_USE when the address is held (by
 * anyone) or the container already holds one there; NOT_FOUND when the
 * network or the container is not in the database. An address goes with its
 * container's or network's row. */
gboolean ctrd_db_insert_address (CtrdDb *db, const char *network_id, const char *container_id,
                                 const char *address, GError **error);
/* Frees every address @container_id holds (none is success). */
gboolean ctrd_db_delete_addresses (CtrdDb *db, const char *container_id, GError **error);
/* The addresses held on @network_id (NULL = on every network), oldest
 * first; element type CtrdAddressRecord*, free func set. */
GPtrArray *ctrd_db_load_addresses (CtrdDb *db, const char *network_id, GError **error);
/* The address last handed out on @network_id ("" = none yet); NOT_FOUND for
 * an unknown network. Free with g_free. */
char *ctrd_db_get_last_address (CtrdDb *db, const char *network_id, GError **error);

/* One entry of the event history. */
typedef struct
{
  char *kind;  /* "container", "image", "network", "volume" */
  char *id;    /* the object's ID */
  char *event; /* "create", "start", ... */
  guint64 time; /* microseconds since the epoch */
} CtrdEventRecord;

void ctrd_event_record_free (CtrdEventRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdEventRecord, ctrd_event_record_free)

/* Adds @record to the event history, then drops all but the newest
 * @max_count events and those older than @max_age_usec before its time, in
 * one transaction. That commit alone is not flushed to disk: the next
 * state change's is (a machine crash loses at most the newest events). */
gboolean ctrd_db_add_event (CtrdDb *db, const CtrdEventRecord *record, guint64 max_count,
                            guint64 max_age_usec, GError **error);

/* The events with @since <= time <= @until in the order they were added, at
 * most @max_events of them (the oldest first). Array of CtrdEventRecord. */
GPtrArray *ctrd_db_list_events (CtrdDb *db, guint64 since, guint64 until, guint max_events,
                                GError **error);

/* Volumes. Inserts @records (CtrdVolumeRecord*) in one transaction, all or
 * none: a name another volume has gives NAME_IN_USE. */
gboolean ctrd_db_insert_volumes (CtrdDb *db, GPtrArray *records, GError **error);
/* Deletes the volumes with @ids in one transaction, all or none: NOT_FOUND
 * for an ID not in the database. */
gboolean ctrd_db_delete_volumes (CtrdDb *db, const char *const *ids, GError **error);
/* All volumes, oldest first; element type CtrdVolumeRecord*, free func set.
 * A record whose labels do not read back is STORAGE_ERROR. */
GPtrArray *ctrd_db_load_volumes (CtrdDb *db, GError **error);

/* The current value of a PRAGMA on this connection, as text; only journal_mode,
 * synchronous, foreign_keys, busy_timeout and user_version (for tests and
 * diagnostics). Free with g_free. */
char *ctrd_db_get_pragma (CtrdDb *db, const char *pragma, GError **error);

G_END_DECLS
