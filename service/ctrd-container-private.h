/* ctrd-container-private.h: what the facets of the container object share.
 *
 * One GObject, four files, like libostree's ostree-repo-private.h:
 *   ctrd-container.c            the type, its properties, the exit path,
 *                               reconcile, Inspect, Rename
 *   ctrd-container-lifecycle.c  Start (with dependencies), Stop, Kill, Wait,
 *                               Remove, Pause, Unpause, Restart
 *   ctrd-container-exec.c       Exec, GetLogs, ReadLogs
 *   ctrd-container-fs.c         GetSizes, Export, Commit, GetChanges, Verify,
 *                               Rebase, Rollback
 *   ctrd-container-limits.c     GetStats, Update, Checkpoint, Restore
 * Everything here runs on the main thread unless it says otherwise. Not for
 * use outside these four files. */
#pragma once

#include "ctrd-container.h"
#include "ctrd-network-object.h"

G_BEGIN_DECLS

/* The operation in progress: one at a time (a conflicting call gets
 * InvalidState). */
typedef enum
{
  CTRD_OP_NONE,
  CTRD_OP_START,
  CTRD_OP_CLEANUP,
  CTRD_OP_REMOVE,
  CTRD_OP_FREEZE,
  CTRD_OP_EXPORT,
  CTRD_OP_COMMIT,
  CTRD_OP_COPY,
} CtrdContainerOp;

/* Whether the run log followers read is still going (ctrd-container-exec.c). */
typedef struct _CtrdLogLive CtrdLogLive;

struct _CtrdContainer
{
  CtrContainerSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned: the daemon owns the container */
  CtrdContainerConfig *config;
  CtrdRunState run;
  char *object_path;

  CtrdContainerOp op;        /* the operation in progress */
  gboolean exit_pending;     /* conmon reported an exit while an operation ran */
  gboolean stop_requested;   /* the exit was asked for (Stop, Remove with force) */
  guint stop_generation;     /* counts stops begun: a late answer of an old one is ignored */
  GTask *start_task;         /* the start under way */
  GTask *remove_task;        /* the removal being served */
  GPtrArray *waiters;        /* Wait invocations, answered at the exit */
  GPtrArray *stoppers;       /* Stop invocations, answered once cleaned up */
  GTask *remove_after_stop;  /* a removal waiting for the exit and cleanup */
  guint kill_timeout_id;     /* SIGKILL when the stop timeout runs out */
  gboolean removed;          /* gone from the daemon; late callers get NotFound */
  gboolean start_is_restart; /* the start under way answers a Restart */
  char **remove_volumes;     /* volumes the removal under way takes along */
  GPtrArray *size_waiters;   /* GetSizes calls waiting for the walk under way */
  gboolean sizes_walking;
  gint64 sizes_time; /* monotonic time of the cached sizes */
  guint64 cached_rw_size;
  GVariant *properties;       /* all properties, for GetManagedObjects; NULL = stale */
  CtrdLogLive *log_live;      /* shared with log followers of the current run */
  GTask *restart_after_stop;  /* a Restart waiting for its stop */
  GTask *start_after_cleanup; /* a Start that came while the exit was cleaned up */
  GPtrArray *stop_tasks;      /* ctrd_container_stop_async calls, answered with the stoppers */
  char *ip_address;           /* held on its bridge network (in the database); NULL = none */
  gboolean network_attached;  /* netavark set it up and nothing has torn it down yet */
  int monitor_fd;             /* pidfd of conmon, or of the process once conmon died; -1 none */
  guint monitor_watch_id;     /* the source watching monitor_fd */
  gboolean monitor_lost;      /* conmon died first: no exit file will come */
  gboolean exit_unrecorded;   /* the process ended with nothing to report its code */
  char *exit_message;         /* why the last exit code is unknown; NULL when it is known */
  gboolean updating;          /* an Update waits for the runtime */
  gboolean checkpointing;     /* a Checkpoint waits for the runtime */
  guint restart_timer_id;     /* the restart policy's next start (after its back-off) */
  gboolean policy_start;      /* the start under way is the policy's: RestartCount stays */
  CtrdHealthState *health;      /* never NULL; status NONE without a health check */
  guint health_timer_id;        /* the next health check */
  GCancellable *health_cancellable; /* the health check under way; NULL when none */
  GPtrArray *health_waiters;    /* RunHealthCheck invocations waiting for it */
};

/* ---------------------------------------------------------------- ctrd-container.c */

/* Drops a pending restart of the policy (Stop, Remove, a caller's Start). */
void ctrd_container_cancel_policy_restart (CtrdContainer *self);

/* Created, running, paused or stopping: the runtime has a process. */
gboolean ctrd_container_is_live_state (CtrdState state);

/* Writes @next to the database, then publishes it (one PropertiesChanged).
 * On a database error nothing changes. */
gboolean ctrd_container_save_run_state (CtrdContainer *self, const CtrdRunState *next,
                                        GError **error);
/* For transitions the daemon must make even when the database write fails
 * (the process is gone whatever the disk says): logs and publishes anyway. */
void ctrd_container_save_run_state_or_warn (CtrdContainer *self, const CtrdRunState *next);

/* Watches the container's conmon (a pidfd) from the runtime create on, so
 * that a monitor that dies before the process is noticed while the daemon
 * runs: the runtime says whether the process lives; if it does it is watched
 * itself (Stop, Kill and Remove work through the runtime as usual), and its
 * end is recorded with exit code -1 and a message saying why. */
void ctrd_container_watch_monitor (CtrdContainer *self);
/* Stops watching (the exit is recorded, or the object goes). */
void ctrd_container_unwatch_monitor (CtrdContainer *self);

/* Manager.ContainerEvent for this container. */
void ctrd_container_emit_event (CtrdContainer *self, const char *event);

/* The container's paths (free with g_free): its root's mount point in the run
 * dir, its bundle directory, and its overlay's writable layer. */
char *ctrd_container_rootfs_mountpoint (CtrdContainer *self);
char *ctrd_container_bundle_dir (CtrdContainer *self);
char *ctrd_container_upper_dir (CtrdContainer *self);

/* Answers @invocation with InvalidState: "cannot @what", naming the operation
 * under way or the state. Returns TRUE (a handler's return value). */
gboolean ctrd_container_return_invalid_state (CtrdContainer *self,
                                              GDBusMethodInvocation *invocation, const char *what);

/* An operation ended; an exit that arrived meanwhile is handled now. */
void ctrd_container_finish_operation (CtrdContainer *self);

/* The exit is recorded: delete it from the runtime, run the poststop hooks,
 * unmount, then serve what waited for the cleanup (libpod's cleanup). */
void ctrd_container_start_cleanup (CtrdContainer *self);

/* Asks polkit for @action_id for the caller, naming the container, and for
 * container.manage-others as well when the caller is not the container's
 * Owner (root is always allowed), then calls @func on the main thread unless
 * the container was removed meanwhile (ctrd_authority_check_owned with the
 * container as the object). */
void ctrd_container_authorize (CtrdContainer *self, GDBusMethodInvocation *invocation,
                               const char *action_id, CtrdAuthorizedFunc func, gpointer user_data,
                               GDestroyNotify destroy);

/* Answers the Stop calls and ctrd_container_stop_async waiting for the cleanup. */
void ctrd_container_answer_stoppers (CtrdContainer *self);
/* Serves what waited for a cleanup to end: a removal, a restart or a start. */
void ctrd_container_run_after_cleanup (CtrdContainer *self);

/* ---------------------------------------------------------------- ctrd-container-lifecycle.c */

/* libpod's removeContainer for a container that is not running; @task (owned,
 * may be NULL) completes when it is gone. */
void ctrd_container_start_removal (CtrdContainer *self, GTask *task);

/* Starts the dependencies that do not run, then the container; @task (owned)
 * completes when it runs. @restart: the start answers a Restart. */
void ctrd_container_start_with_dependencies (CtrdContainer *self, GTask *task, gboolean restart);

void ctrd_container_lifecycle_iface_init (CtrContainerIface *iface);

/* ---------------------------------------------------------------- ctrd-container-exec.c */

/* A new run began (the runtime created it): followers of the last run stop at
 * the end of what it wrote, new followers follow this one. */
void ctrd_container_logs_run_started (CtrdContainer *self);
/* The run ended (its exit is recorded): its followers stop at the end. */
void ctrd_container_logs_run_ended (CtrdContainer *self);
void ctrd_log_live_unref (CtrdLogLive *live);

void ctrd_container_exec_iface_init (CtrContainerIface *iface);

/* Writes a process for the runtime: @argv with the container's process
 * settings, env and no terminal, to a new file (0600) in @dir. Returns its
 * path (the caller removes it); NULL with STORAGE_ERROR or FAILED. */
char *ctrd_container_write_process_file (CtrdContainer *self, const char *const *argv,
                                         const char *dir, GError **error);

/* ---------------------------------------------------------------- ctrd-container-fs.c */

void ctrd_container_fs_iface_init (CtrContainerIface *iface);

/* For a copy of the root (Export, CopyFrom, CopyTo): FALSE, the call
 * answered (InvalidState, NotFound for a lost image), when it cannot be
 * copied now. Else *@out_mountpoint is the root's mount point and, when it
 * is not mounted, *@out_commit the image commit to mount it from (else
 * NULL), with @op set so that Start waits. Free both with g_free. */
gboolean ctrd_container_begin_root_copy (CtrdContainer *self, GDBusMethodInvocation *invocation,
                                         const char *what, CtrdContainerOp op,
                                         char **out_mountpoint, char **out_commit);

/* Blocks. Mounts the root of container @id (not running) from the checkout
 * of @commit at @mountpoint, for a copy out of or into it. */
gboolean ctrd_container_mount_root_for_copy (CtrdStorage *storage, const char *id,
                                             const char *commit, const char *mountpoint,
                                             GCancellable *cancellable, GError **error);
/* Blocks. Undoes ctrd_container_mount_root_for_copy (failures are logged). */
void ctrd_container_unmount_root_after_copy (const char *mountpoint);

/* ctrd-container-copy.c: CopyFrom, CopyTo. */
void ctrd_container_copy_iface_init (CtrContainerIface *iface);

/* ---------------------------------------------------------------- ctrd-container-limits.c */

/* Sets MemoryLimit, CpuQuota and PidsLimit from the configuration. */
void ctrd_container_publish_limits (CtrdContainer *self);

/* ---------------------------------------------------------------- health (ctrd-container-health.c) */

/* Health from the state. */
void ctrd_container_publish_health (CtrdContainer *self);
/* The next check after the interval (none unless it runs and has a check). */
void ctrd_container_schedule_health_check (CtrdContainer *self);
/* No more checks; the one under way is cancelled. */
void ctrd_container_stop_health_checks (CtrdContainer *self);
/* The run state changed from @old_state: a new run starts its checks, the
 * end of one stops them. */
void ctrd_container_health_follow_state (CtrdContainer *self, CtrdState old_state);
/* Update changed the health check. */
void ctrd_container_health_config_changed (CtrdContainer *self);
void ctrd_container_health_iface_init (CtrContainerIface *iface);

void ctrd_container_limits_iface_init (CtrContainerIface *iface);

/* ---------------------------------------------------------------- ctrd-container-network.c */

/* On a bridge network (not none or host). */
gboolean ctrd_container_on_bridge (CtrdContainer *self);
/* The Network property's value: "none", "host" or the network's name. */
const char *ctrd_container_network_display_name (CtrdContainer *self);
/* The Ports property's value. */
GVariant *ctrd_container_ports_variant (const CtrdNetworkSettings *settings);
/* Sets ip_address and the IPAddress property (NULL = none). */
void ctrd_container_set_ip_address (CtrdContainer *self, const char *address);
/* The address goes back to its network (the database first). */
void ctrd_container_release_address (CtrdContainer *self);
/* STORAGE_ROOT/containers/<ID>/network.json: the setup JSON kept for teardown
 * (with the storage, so that a reboot's leftovers can be torn down). */
char *ctrd_container_network_state_path (CtrdDaemon *daemon, const char *id);

/* What a start on a bridge network carries from the main thread to the
 * worker and back. */
typedef struct
{
  CtrdNetavark *netavark;      /* NULL: not on a bridge network */
  CtrdNetworkConfig *network;
  char *address;               /* allocated on the main thread */
  char *state_path;
  GArray *port_fds;            /* the reserved host ports, for conmon */
  CtrdNetworkStatus *status;   /* what netavark set up (worker) */
  char *netns_path;            /* (worker) */
  gboolean host_network;
} CtrdContainerNetworkStart;

/* Main thread, before the worker: like podman, the host ports are reserved
 * first (a port in use is IN_USE before anything is set up), then the
 * address is allocated and recorded. */
gboolean ctrd_container_network_start_prepare (CtrdContainer *self,
                                               CtrdContainerNetworkStart *start, GError **error);
/* Worker: netavark setup (ctrd_netavark_attach) for @config's network. */
gboolean ctrd_container_network_start_attach (const CtrdContainerConfig *config,
                                              CtrdContainerNetworkStart *start,
                                              GCancellable *cancellable, GError **error);
/* Worker: undoes a setup the rest of the start could not use. */
void ctrd_container_network_start_undo (const CtrdContainerConfig *config,
                                        CtrdContainerNetworkStart *start);
void ctrd_container_network_start_clear (CtrdContainerNetworkStart *start);
/* Main thread, after the worker: the container is attached. */
void ctrd_container_network_started (CtrdContainer *self, const CtrdContainerNetworkStart *start);
/* Main thread, a start failed: a setup that happened is torn down in the
 * background (the container is busy cleaning up meanwhile), else the
 * address goes back. */
void ctrd_container_network_start_failed (CtrdContainer *self);

/* netavark teardown in a worker, then @callback on the main thread, which
 * calls ctrd_container_finish_network_detach. */
void ctrd_container_detach_network_async (CtrdContainer *self, GAsyncReadyCallback callback);
void ctrd_container_finish_network_detach (CtrdContainer *self, GAsyncResult *result);
/* A teardown outside the exit path (after a failed start or a reboot); the
 * container is busy cleaning up until it is done. */
void ctrd_container_detach_network_in_background (CtrdContainer *self);
/* Worker: the teardown a removal does for what no cleanup got to. */
gboolean ctrd_container_detach_network_sync (CtrdDaemon *daemon, const CtrdContainerConfig *config,
                                            GCancellable *cancellable, GError **error);

/* Inspect's NetworkSettings member. */
void ctrd_container_add_network_settings (CtrdContainer *self, JsonBuilder *builder);

G_END_DECLS
