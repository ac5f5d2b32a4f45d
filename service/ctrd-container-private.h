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
 * Everything here runs on the main thread unless it says otherwise. Not for
 * use outside these four files. */
#pragma once

#include "ctrd-container.h"

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
};

/* ---------------------------------------------------------------- ctrd-container.c */

/* Created, running, paused or stopping: the runtime has a process. */
gboolean ctrd_container_is_live_state (CtrdState state);

/* Writes @next to the database, then publishes it (one PropertiesChanged).
 * On a database error nothing changes. */
gboolean ctrd_container_save_run_state (CtrdContainer *self, const CtrdRunState *next,
                                        GError **error);
/* For transitions the daemon must make even when the database write fails
 * (the process is gone whatever the disk says): logs and publishes anyway. */
void ctrd_container_save_run_state_or_warn (CtrdContainer *self, const CtrdRunState *next);

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

/* Asks polkit for @action_id for the caller, naming the container, then
 * calls @func on the main thread unless the container was removed meanwhile
 * (ctrd_authority_check with the container as the object). */
void ctrd_container_authorize (CtrdContainer *self, GDBusMethodInvocation *invocation,
                               const char *action_id, CtrdAuthorizedFunc func, gpointer user_data,
                               GDestroyNotify destroy);

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

/* ---------------------------------------------------------------- ctrd-container-fs.c */

void ctrd_container_fs_iface_init (CtrContainerIface *iface);

G_END_DECLS
