/* ctrd-container.h: one container object: the lifecycle state machine (the
 * seed's init / start / stop / cleanup / cleanupRuntime) behind
 * org.example.Containers1.Container. Main thread only. */
#pragma once

#include "ctrd-container-config.h"
#include "ctrd-daemon.h"

G_BEGIN_DECLS

#define CTRD_TYPE_CONTAINER (ctrd_container_get_type ())
G_DECLARE_FINAL_TYPE (CtrdContainer, ctrd_container, CTRD, CONTAINER, CtrContainerSkeleton)

/* Takes ownership of @config; @run is copied. */
CtrdContainer *ctrd_container_new (CtrdDaemon *daemon, CtrdContainerConfig *config,
                                   const CtrdRunState *run);

const char *ctrd_container_get_id (CtrdContainer *container);
const char *ctrd_container_get_name (CtrdContainer *container);
const char *ctrd_container_get_image_id (CtrdContainer *container);
const char *ctrd_container_get_object_path (CtrdContainer *container);
CtrdState ctrd_container_get_state (CtrdContainer *container);
/* The uid that created it (the Owner property). */
guint32 ctrd_container_get_owner (CtrdContainer *container);
/* The image before the last Rebase ("" if none): kept while the container may roll back. */
const char *ctrd_container_get_previous_image_id (CtrdContainer *container);

/* ctrd_container_config_exported_size of its configuration: an upper bound
 * of the bytes it takes on the bus. */
gsize ctrd_container_get_exported_size (CtrdContainer *container);

/* Its Mounts (CtrdMount*, borrowed; fixed at creation). */
GPtrArray *ctrd_container_get_mounts (CtrdContainer *container);

/* The ID of the bridge network it is on; "" for none and host. */
const char *ctrd_container_get_network_id (CtrdContainer *container);

/* Stops a running container as Stop does with its StopTimeout and completes
 * once it is cleaned up (success at once when it does not run);
 * INVALID_STATE while another operation is under way. No authorization:
 * callers check. */
void ctrd_container_stop_async (CtrdContainer *container, GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean ctrd_container_stop_finish (CtrdContainer *container, GAsyncResult *result,
                                     GError **error);

/* Moves a container that does not run off its bridge network: its Network
 * becomes "none" and its published ports go (the database first);
 * INVALID_STATE while it runs or another operation is under way. */
gboolean ctrd_container_disconnect_network (CtrdContainer *container, GError **error);

/* Brings a container loaded from the database in line with the host after a
 * daemon restart (like libpod's syncContainer): reads exit files conmon wrote
 * while the daemon was down, notices dead processes, finishes an interrupted
 * removal. @rebooted: the host rebooted since the state was written (libpod's
 * refresh/resetState). Runs asynchronous cleanup where needed. */
void ctrd_container_reconcile (CtrdContainer *container, gboolean rebooted);

/* Starts the container (libpod's initAndStart), its DependsOn first
 * (DEPENDENCY_FAILED when one cannot start; the container is then left as it
 * was). A running container is success. No authorization: callers check. */
void ctrd_container_start_async (CtrdContainer *container, GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean ctrd_container_start_finish (CtrdContainer *container, GAsyncResult *result,
                                      GError **error);

/* Removes the container (libpod's removeContainer): stops it first with
 * SIGKILL when @force, else INVALID_STATE while it runs; IN_USE while another
 * container depends on it, unless @force. @remove_volumes also removes its
 * anonymous volumes (named ones stay, as with podman rm -v). No
 * authorization: callers check. */
void ctrd_container_remove_async (CtrdContainer *container, gboolean force,
                                  gboolean remove_volumes, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean ctrd_container_remove_finish (CtrdContainer *container, GAsyncResult *result,
                                       GError **error);

/* The health check's state as the database kept it (see
 * ctrd_health_state_to_json; a malformed one is replaced and logged); a
 * running container's checks go on. */
void ctrd_container_restore_health (CtrdContainer *container, const char *json);

/* Removes each of @containers (CtrdContainer*) as ctrd_container_remove_async
 * with @force and without their volumes, all at once; completes when every
 * removal has ended, with the first error if any failed. @source_object
 * (may be NULL) is the result's source. For the forced removals of images
 * and volumes. */
void ctrd_container_remove_all_async (GPtrArray *containers, gboolean force, gpointer source_object,
                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean ctrd_container_remove_all_finish (GAsyncResult *result, GError **error);

/* The bus client @unique_name left: drop its pending Wait calls. */
void ctrd_container_client_vanished (CtrdContainer *container, const char *unique_name);

/* conmon wrote this container's exit file. */
void ctrd_container_handle_exit (CtrdContainer *container);

/* Object path for a container ID. Free with g_free. */
char *ctrd_container_path_for_id (const char *id);

G_END_DECLS
