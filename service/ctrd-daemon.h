/* ctrd-daemon.h: the daemon: owns the configuration, the plain modules (db,
 * storage, runtime), the object manager and every container and image object.
 * All of its state belongs to the main thread. */
#pragma once

#include <gio/gio.h>

#include "ctr-generated.h"
#include "ctrd-authority.h"
#include "ctrd-config.h"
#include "ctrd-db.h"
#include "ctrd-error.h"
#include "ctrd-runtime.h"
#include "ctrd-storage.h"
#include "ctrd-volumes.h"

G_BEGIN_DECLS

#define CTRD_OBJECT_ROOT "/org/example/Containers1"

typedef struct _CtrdContainer CtrdContainer;
typedef struct _CtrdImage CtrdImage;
typedef struct _CtrdNetwork CtrdNetwork;
typedef struct _CtrdVolume CtrdVolume;

#define CTRD_TYPE_DAEMON (ctrd_daemon_get_type ())
G_DECLARE_FINAL_TYPE (CtrdDaemon, ctrd_daemon, CTRD, DAEMON, GObject)

/* Takes the storage-root lock, opens the database, storage and runtime, loads
 * every image and container and reconciles them with what is on the host
 * (like libpod's refresh/syncContainer). Takes ownership of @config. Fails
 * when another daemon holds the storage root (unless @wait_for_lock, which
 * waits up to 10 s for it, for --replace). */
CtrdDaemon *ctrd_daemon_new (CtrdConfig *config, gboolean wait_for_lock, GError **error);

/* Exports the manager and all objects on @connection. */
gboolean ctrd_daemon_export (CtrdDaemon *daemon, GDBusConnection *connection, GError **error);

CtrdConfig *ctrd_daemon_get_config (CtrdDaemon *daemon);
CtrdDb *ctrd_daemon_get_db (CtrdDaemon *daemon);
CtrdStorage *ctrd_daemon_get_storage (CtrdDaemon *daemon);
CtrdVolumes *ctrd_daemon_get_volumes (CtrdDaemon *daemon);
CtrdRuntime *ctrd_daemon_get_runtime (CtrdDaemon *daemon);
GDBusConnection *ctrd_daemon_get_connection (CtrdDaemon *daemon);
CtrdAuthority *ctrd_daemon_get_authority (CtrdDaemon *daemon);
/* netavark, or NULL where it is not installed (bridge networks then fail to
 * start with a message saying so). */
CtrdNetavark *ctrd_daemon_get_netavark (CtrdDaemon *daemon);
/* While the daemon loads its state (ctrd_container_new, reconcile): the
 * address the database says @container_id holds, or NULL. */
const char *ctrd_daemon_get_held_address (CtrdDaemon *daemon, const char *container_id);

/* Lookups; the returned objects are owned by the daemon. */
CtrdContainer *ctrd_daemon_find_container (CtrdDaemon *daemon, const char *name_or_id,
                                           GError **error);
CtrdContainer *ctrd_daemon_get_container_by_name (CtrdDaemon *daemon, const char *name);
CtrdImage *ctrd_daemon_find_image (CtrdDaemon *daemon, const char *reference, GError **error);
CtrdImage *ctrd_daemon_get_image_by_id (CtrdDaemon *daemon, const char *id);
/* The image holding normalised name @name ("name:tag"), or NULL. */
CtrdImage *ctrd_daemon_get_image_by_name (CtrdDaemon *daemon, const char *name);

/* Networks: by full ID, name or unique ID prefix (NOT_FOUND, or
 * INVALID_ARGUMENT for an ambiguous prefix); by ID; all of them (element
 * type CtrdNetwork*, borrowed). */
CtrdNetwork *ctrd_daemon_find_network (CtrdDaemon *daemon, const char *name_or_id,
                                       GError **error);
CtrdNetwork *ctrd_daemon_get_network_by_id (CtrdDaemon *daemon, const char *id);
GPtrArray *ctrd_daemon_list_networks (CtrdDaemon *daemon);
/* Publishes a new network / unexports and drops a removed one (the caller
 * wrote the database). */
void ctrd_daemon_add_network (CtrdDaemon *daemon, CtrdNetwork *network);
void ctrd_daemon_remove_network (CtrdDaemon *daemon, CtrdNetwork *network);
/* Recomputes the Containers property of the network with @network_id ("" or
 * unknown: nothing). */
void ctrd_daemon_update_network_containers (CtrdDaemon *daemon, const char *network_id);

/* Volumes: by full ID, name or unique ID prefix (NOT_FOUND, or
 * INVALID_ARGUMENT for an ambiguous prefix); by name; all of them (element
 * type CtrdVolume*, borrowed). */
CtrdVolume *ctrd_daemon_find_volume (CtrdDaemon *daemon, const char *name_or_id, GError **error);
CtrdVolume *ctrd_daemon_get_volume_by_name (CtrdDaemon *daemon, const char *name);
GPtrArray *ctrd_daemon_list_volumes (CtrdDaemon *daemon);
/* Publishes a new volume / unexports and drops a removed one (the caller
 * wrote the database). */
void ctrd_daemon_add_volume (CtrdDaemon *daemon, CtrdVolume *volume);
void ctrd_daemon_remove_volume (CtrdDaemon *daemon, CtrdVolume *volume);
/* Recomputes the Containers property of each volume @mounts (CtrdMount*)
 * names. */
void ctrd_daemon_update_volume_containers (CtrdDaemon *daemon, GPtrArray *mounts);

/* Every container; element type CtrdContainer* (borrowed). */
GPtrArray *ctrd_daemon_list_containers (CtrdDaemon *daemon);

/* LIMIT_EXCEEDED when a new container of @bytes
 * (ctrd_container_config_exported_size) would take the containers'
 * properties together over the configured exported_max_bytes. */
gboolean ctrd_daemon_check_exported_budget (CtrdDaemon *daemon, gsize bytes, GError **error);

/* Runs @func for @task (taken) in the pool of image and container
 * transfers (imports, exports), as g_task_run_in_thread would: those read
 * and write fds callers control and may stall for as long as the callers
 * like, so they have their own threads, and a flood of stalled ones waits
 * in their queue instead of taking the threads Start, Stop and GetSizes
 * work needs. */
void ctrd_daemon_run_transfer (CtrdDaemon *daemon, GTask *task, GTaskThreadFunc func);

/* Publishes a new object (and exports it when the daemon is on the bus). */
void ctrd_daemon_add_container (CtrdDaemon *daemon, CtrdContainer *container);
void ctrd_daemon_add_image (CtrdDaemon *daemon, CtrdImage *image);
/* Unexports and drops a removed container. */
void ctrd_daemon_remove_container (CtrdDaemon *daemon, CtrdContainer *container);
/* Unexports and drops a removed image (the caller removed its DB row and ref). */
void ctrd_daemon_remove_image (CtrdDaemon *daemon, CtrdImage *image);

/* The object manager at CTRD_OBJECT_ROOT, or NULL before ctrd_daemon_export
 * (jobs export themselves on it). */
GDBusObjectManagerServer *ctrd_daemon_get_object_manager (CtrdDaemon *daemon);

/* Answers @invocation with @error (taken), turned into an
 * org.example.Containers1.Error.* name (@fallback for foreign errors). */
void ctrd_return_error (GDBusMethodInvocation *invocation, GError *error, CtrdError fallback);

/* Manager.ImageEvent. */
void ctrd_daemon_emit_image_event (CtrdDaemon *daemon, const char *object_path, const char *id,
                                   const char *event);

/* The published images (borrowed; a new array). */
GPtrArray *ctrd_daemon_list_images (CtrdDaemon *daemon);

/* Manager.ContainerEvent. */
void ctrd_daemon_emit_event (CtrdDaemon *daemon, const char *object_path, const char *id,
                             const char *event);

/* Adds an event of the object @id of @kind ("container", "image",
 * "network", "volume") to the history GetEvents reads. */
void ctrd_daemon_record_event (CtrdDaemon *daemon, const char *kind, const char *id,
                               const char *event, guint64 time);

/* Recomputes the Containers property of the image with @image_id. */
void ctrd_daemon_update_image_containers (CtrdDaemon *daemon, const char *image_id);

G_END_DECLS
