/* ctrd-container.c: one container object and its lifecycle.
 *
 * The state machine follows libpod's container_internal.go (the seed):
 *   Start:  [reinit: cleanupRuntime] → init (mount, spec, runtime create) → start
 *   exit:   conmon's exit file → stopped (exit code) → cleanup (runtime delete,
 *           unmount) → exited
 *   Stop:   stop signal → SIGKILL after the timeout → the exit path above
 *   Remove: [force: SIGKILL and the exit path] → removing → runtime delete,
 *           unmount, remove the container directory → forget the object
 * Every run-state change is written to the database before it is published.
 * One operation runs at a time; a conflicting call gets InvalidState. Child
 * processes and disk work never run on the main thread. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <gio/gunixfdlist.h>
#include <json-glib/json-glib.h>
#include <fcntl.h>
#include <unistd.h>

#include "ctrd-container.h"
#include "ctrd-error.h"
#include "ctrd-treewalk.h"
#include "ctrd-logs.h"
#include "ctrd-files.h"
#include "ctrd-hooks.h"
#include "ctrd-job.h"
#include "ctrd-selinux.h"
#include "ctrd-image.h"
#include "ctrd-spec.h"
#include "ctrd-options.h"
#include "ctrd-util.h"

typedef struct _LogLive LogLive;
static LogLive *log_live_new (gboolean live);
static void log_live_end (LogLive *flag);
static void log_live_unref (LogLive *flag);
static gboolean is_live_state (CtrdState state);

typedef enum
{
  OP_NONE,
  OP_START,
  OP_CLEANUP,
  OP_REMOVE,
  OP_FREEZE,
  OP_EXPORT,
  OP_COMMIT,
} Operation;

struct _CtrdContainer
{
  CtrContainerSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned: the daemon owns the container */
  CtrdContainerConfig *config;
  CtrdRunState run;
  char *object_path;

  Operation op;            /* the operation in progress */
  gboolean exit_pending;   /* conmon reported an exit while an operation ran */
  gboolean stop_requested; /* the exit was asked for (Stop, Remove with force) */
  GTask *start_task;       /* the start under way */
  GTask *remove_task;      /* the removal being served */
  GPtrArray *waiters;      /* Wait invocations, answered at the exit */
  GPtrArray *stoppers;     /* Stop invocations, answered once cleaned up */
  GTask *remove_after_stop; /* a removal waiting for the exit and cleanup */
  guint kill_timeout_id;   /* SIGKILL when the stop timeout runs out */
  gboolean removed;        /* gone from the daemon; late callers get NotFound */
  gboolean start_is_restart; /* the start under way answers a Restart */
  char **remove_volumes;   /* volumes the removal under way takes along */
  GPtrArray *size_waiters; /* GetSizes calls waiting for the walk under way */
  gboolean sizes_walking;
  gint64 sizes_time;       /* monotonic time of the cached sizes */
  guint64 cached_rw_size;
  GVariant *properties;    /* all properties, for GetManagedObjects; NULL = stale */
  LogLive *log_live;       /* shared with log followers of the current run */
  GTask *restart_after_stop; /* a Restart waiting for its stop */
  GTask *start_after_cleanup; /* a Start that came while the exit was cleaned up */
};

static void ctrd_container_iface_init (CtrContainerIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdContainer, ctrd_container, CTR_TYPE_CONTAINER_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_CONTAINER, ctrd_container_iface_init))

static void
ctrd_container_finalize (GObject *object)
{
  CtrdContainer *self = CTRD_CONTAINER (object);

  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  g_clear_pointer (&self->config, ctrd_container_config_free);
  g_strfreev (self->remove_volumes);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);
  g_clear_pointer (&self->stoppers, g_ptr_array_unref);
  g_clear_pointer (&self->size_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->properties, g_variant_unref);
  g_clear_pointer (&self->log_live, log_live_unref);
  g_free (self->object_path);
  G_OBJECT_CLASS (ctrd_container_parent_class)->finalize (object);
}

/* GetManagedObjects asks every object for all its properties; the generated
 * skeleton rebuilds each value through GValue every time, which dominated a
 * listing of 1,000 containers. The result is kept until a property changes. */
static GVariant *
ctrd_container_get_properties (GDBusInterfaceSkeleton *skeleton)
{
  CtrdContainer *self = CTRD_CONTAINER (skeleton);

  if (self->properties == NULL)
    self->properties = g_variant_ref_sink (
        G_DBUS_INTERFACE_SKELETON_CLASS (ctrd_container_parent_class)->get_properties (skeleton));
  return g_variant_ref (self->properties);
}

static void
on_property_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (object);

  g_clear_pointer (&self->properties, g_variant_unref);
}

static void
ctrd_container_init (CtrdContainer *self)
{
  g_signal_connect (self, "notify", G_CALLBACK (on_property_notify), NULL);
  self->waiters = g_ptr_array_new ();
  self->stoppers = g_ptr_array_new ();
  self->size_waiters = g_ptr_array_new ();
}

static void
ctrd_container_class_init (CtrdContainerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_container_finalize;
  G_DBUS_INTERFACE_SKELETON_CLASS (klass)->get_properties = ctrd_container_get_properties;
}

char *
ctrd_container_path_for_id (const char *id)
{
  return g_strconcat (CTRD_OBJECT_ROOT "/containers/", id, NULL);
}

const char *
ctrd_container_get_id (CtrdContainer *self)
{
  return self->config->id;
}

const char *
ctrd_container_get_name (CtrdContainer *self)
{
  return self->config->name;
}

const char *
ctrd_container_get_image_id (CtrdContainer *self)
{
  return self->config->image_id;
}

const char *
ctrd_container_get_object_path (CtrdContainer *self)
{
  return self->object_path;
}

CtrdState
ctrd_container_get_state (CtrdContainer *self)
{
  return self->run.state;
}

static void
publish_run_state (CtrdContainer *self)
{
  CtrContainer *iface = CTR_CONTAINER (self);

  /* One PropertiesChanged for the whole change. */
  g_object_freeze_notify (G_OBJECT (self));
  ctr_container_set_state (iface, ctrd_state_to_string (self->run.state));
  ctr_container_set_pid (iface, self->run.pid);
  ctr_container_set_exit_code (iface, self->run.exit_code);
  ctr_container_set_started_at (iface, self->run.started_at);
  ctr_container_set_finished_at (iface, self->run.finished_at);
  g_object_thaw_notify (G_OBJECT (self));
  /* Send PropertiesChanged now, not at the next idle: what follows a state
   * change is often a fork (runc delete), and watchers should not wait. */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self));
}

/* Write first, then publish: the database is the truth after a crash. */
static gboolean
save_run_state (CtrdContainer *self, const CtrdRunState *next, GError **error)
{
  if (!ctrd_db_update_run_state (ctrd_daemon_get_db (self->daemon), self->config->id, next, error))
    {
      g_prefix_error (error, "Container %s: cannot save its state: ", self->config->name);
      ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
      return FALSE;
    }
  self->run = *next;
  publish_run_state (self);
  return TRUE;
}

/* For transitions the daemon must make even when the database write fails
 * (the process is gone whatever the disk says): log and carry on. */
static void
save_run_state_or_warn (CtrdContainer *self, const CtrdRunState *next)
{
  g_autoptr (GError) error = NULL;

  if (!save_run_state (self, next, &error))
    {
      g_warning ("%s", error->message);
      self->run = *next;
      publish_run_state (self);
    }
}

static void
emit_event (CtrdContainer *self, const char *event)
{
  ctrd_daemon_emit_event (self->daemon, self->object_path, self->config->id, event);
}

static GVariant *
mounts_variant (const CtrdContainerConfig *config)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssb)"));
  for (guint i = 0; i < config->mounts->len; i++)
    {
      const CtrdMount *mount = config->mounts->pdata[i];
      g_variant_builder_add (&builder, "(sssb)", ctrd_mount_type_to_string (mount->type),
                             mount->source, mount->destination, mount->read_only);
    }
  return g_variant_builder_end (&builder);
}

CtrdContainer *
ctrd_container_new (CtrdDaemon *daemon, CtrdContainerConfig *config, const CtrdRunState *run)
{
  CtrdContainer *self = g_object_new (CTRD_TYPE_CONTAINER, NULL);
  CtrContainer *iface = CTR_CONTAINER (self);
  g_auto (GStrv) argv = ctrd_container_config_get_argv (config);
  g_autofree char *image_path = ctrd_image_path_for_id (config->image_id);
  g_autoptr (GPtrArray) depends_on = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *previous_path = ctrd_image_path_for_id (config->previous_image_id);
  GVariantBuilder labels;
  GHashTableIter iter;
  gpointer key, value;

  self->daemon = daemon;
  self->config = config;
  self->run = *run;
  self->object_path = ctrd_container_path_for_id (config->id);
  for (guint i = 0; config->depends_on[i] != NULL; i++)
    g_ptr_array_add (depends_on, ctrd_container_path_for_id (config->depends_on[i]));
  g_ptr_array_add (depends_on, NULL);

  g_variant_builder_init (&labels, G_VARIANT_TYPE ("a{ss}"));
  g_hash_table_iter_init (&iter, config->labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&labels, "{ss}", key, value);

  g_object_freeze_notify (G_OBJECT (self));
  ctr_container_set_id (iface, config->id);
  ctr_container_set_name (iface, config->name);
  ctr_container_set_image (iface, image_path);
  ctr_container_set_image_name (iface, config->image_name);
  ctr_container_set_command (iface, (const char *const *) argv);
  ctr_container_set_created_at (iface, config->created_at);
  ctr_container_set_hostname (iface, config->hostname);
  ctr_container_set_labels (iface, g_variant_builder_end (&labels));
  ctr_container_set_mounts (iface, mounts_variant (config));
  ctr_container_set_depends_on (iface, (const char *const *) depends_on->pdata);
  ctr_container_set_tty (iface, config->tty);
  ctr_container_set_auto_remove (iface, config->auto_remove);
  ctr_container_set_previous_image (
      iface, *config->previous_image_id != '\0' ? previous_path : "/");
  /* conmon's oom mark outlives a daemon restart (it goes at the next start). */
  ctr_container_set_oomkilled (iface, !is_live_state (run->state) &&
                                          ctrd_runtime_oom_killed (ctrd_daemon_get_runtime (daemon),
                                                                   config->id));
  g_object_thaw_notify (G_OBJECT (self));
  publish_run_state (self);
  return self;
}

static char *
rootfs_mountpoint (CtrdContainer *self)
{
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  return g_build_filename (run_dir, "rootfs", NULL);
}

static gboolean
return_invalid_state (CtrdContainer *self, GDBusMethodInvocation *invocation, const char *what)
{
  static const char *const op_names[] = { "idle", "starting", "cleaning up", "being removed",
                                           "being paused or unpaused", "being exported",
                                           "being committed" };

  if (self->op != OP_NONE)
    g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                           "Container %s cannot %s: it is %s", self->config->name,
                                           what, op_names[self->op]);
  else
    g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                           "Container %s cannot %s in state %s",
                                           self->config->name, what,
                                           ctrd_state_to_string (self->run.state));
  return TRUE;
}

static gboolean
is_live_state (CtrdState state)
{
  return state == CTRD_STATE_CREATED || state == CTRD_STATE_RUNNING ||
         state == CTRD_STATE_PAUSED || state == CTRD_STATE_STOPPING;
}

static void finish_operation (CtrdContainer *self);
static void start_cleanup (CtrdContainer *self);
static void start_removal (CtrdContainer *self, GTask *task);
static void begin_start (CtrdContainer *self, GTask *task, gboolean restart);
static void start_with_dependencies (CtrdContainer *self, GTask *task, gboolean restart);

/* ---------------------------------------------------------------- exit path */

static void
answer_waiters (CtrdContainer *self)
{
  for (guint i = 0; i < self->waiters->len; i++)
    ctr_container_complete_wait (CTR_CONTAINER (self), self->waiters->pdata[i],
                                 self->run.exit_code);
  g_ptr_array_set_size (self->waiters, 0);
}

static void
answer_stoppers (CtrdContainer *self)
{
  for (guint i = 0; i < self->stoppers->len; i++)
    ctr_container_complete_stop (CTR_CONTAINER (self), self->stoppers->pdata[i]);
  g_ptr_array_set_size (self->stoppers, 0);
}

/* The container's process is gone with @exit_code: record it (stopped), answer
 * the waiters, then clean up the runtime (libpod's cleanup). */
static void
record_exit (CtrdContainer *self, int exit_code, guint64 finished_at)
{
  CtrdRunState next = self->run;

  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  log_live_end (self->log_live);
  next.state = CTRD_STATE_STOPPED;
  next.pid = 0;
  next.exit_code = exit_code;
  next.finished_at = finished_at;
  save_run_state_or_warn (self, &next);
  g_message ("Container %s (%.12s) exited with code %d", self->config->name, self->config->id,
             exit_code);
  if (ctrd_runtime_oom_killed (ctrd_daemon_get_runtime (self->daemon), self->config->id))
    {
      ctr_container_set_oomkilled (CTR_CONTAINER (self), TRUE);
      emit_event (self, "oom");
    }
  emit_event (self, "died");
  answer_waiters (self);
  start_cleanup (self);
}

void
ctrd_container_handle_exit (CtrdContainer *self)
{
  g_autoptr (GError) error = NULL;
  int exit_code;

  if (self->op != OP_NONE)
    {
      /* Start is between runtime create and start, or cleanup runs: look again
       * when it is done. */
      self->exit_pending = TRUE;
      return;
    }
  if (!is_live_state (self->run.state))
    return;
  if (!ctrd_runtime_read_exit_code (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                                    &exit_code, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_warning ("Container %s: %s", self->config->name, error->message);
      return;
    }
  record_exit (self, exit_code, ctrd_now_usec ());
}

static void
cleanup_done (CtrdContainer *self)
{
  CtrdRunState next = self->run;
  g_autoptr (GError) error = NULL;
  g_autofree char *mountpoint = rootfs_mountpoint (self);

  if (!ctrd_storage_unmount_rootfs (mountpoint, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);

  next.state = CTRD_STATE_EXITED;
  next.conmon_pid = 0;
  save_run_state_or_warn (self, &next);
  if (self->stop_requested)
    emit_event (self, "stop");
  self->stop_requested = FALSE;
  self->op = OP_NONE;
  answer_stoppers (self);

  if (self->remove_after_stop != NULL)
    start_removal (self, g_steal_pointer (&self->remove_after_stop));
  else if (self->restart_after_stop != NULL)
    start_with_dependencies (self, g_steal_pointer (&self->restart_after_stop), TRUE);
  else if (self->start_after_cleanup != NULL)
    start_with_dependencies (self, g_steal_pointer (&self->start_after_cleanup), FALSE);
  else if (self->config->auto_remove)
    /* like podman run --rm: gone as soon as it has exited (waiters have
     * had their exit code already). */
    start_removal (self, NULL);
}

typedef struct
{
  CtrdContainer *container;
  CtrdHookSet *hooks;
} PoststopData;

static void
on_poststop_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PoststopData *data = user_data;
  g_autoptr (CtrdContainer) self = data->container;
  g_autoptr (GError) error = NULL;

  /* The hooks' failures are logged by the hooks module; the container is
   * stopped whatever they did (libpod's postDeleteHooks). */
  if (!ctrd_hooks_run_poststop_finish (result, &error))
    g_message ("Container %s: poststop hooks: %s", self->config->name, error->message);
  ctrd_hook_set_free (data->hooks);
  g_free (data);
  cleanup_done (self);
}

/* The poststop hooks run after the runtime delete, with the container's
 * state on stdin (the seed's postDeleteHooks); they were chosen at start and
 * kept in the run dir, so a daemon restart in between does not lose them. */
static gboolean
run_poststop_hooks (CtrdContainer *self)
{
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *path = g_build_filename (run_dir, "hooks.json", NULL);
  g_autofree char *bundle =
      ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon), self->config->id);
  g_autofree char *json = NULL;
  g_autofree char *state = NULL;
  g_autoptr (GError) error = NULL;
  PoststopData *data;
  CtrdHookSet *hooks;

  if (!g_file_get_contents (path, &json, NULL, NULL))
    return FALSE;
  hooks = ctrd_hook_set_from_json (json, &error);
  g_unlink (path);
  if (hooks == NULL)
    {
      g_warning ("Container %s: %s: %s", self->config->name, path, error->message);
      return FALSE;
    }
  data = g_new0 (PoststopData, 1);
  data->container = g_object_ref (self);
  data->hooks = hooks;
  state = ctrd_hooks_state_json (self->config->id, bundle, self->config->labels);
  ctrd_hooks_run_poststop_async (hooks, state, NULL, on_poststop_done, data);
  return TRUE;
}

static void
on_cleanup_delete_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_runtime_delete_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  if (!run_poststop_hooks (self))
    cleanup_done (self);
}

static void
start_cleanup (CtrdContainer *self)
{
  self->op = OP_CLEANUP;
  self->exit_pending = FALSE;
  ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                             on_cleanup_delete_done, g_object_ref (self));
}

/* ---------------------------------------------------------------- reconcile */

void
ctrd_container_reconcile (CtrdContainer *self, gboolean rebooted)
{
  CtrdRuntime *runtime = ctrd_daemon_get_runtime (self->daemon);
  int exit_code;

  if (self->run.state == CTRD_STATE_REMOVING)
    {
      g_message ("Container %s: finishing an interrupted removal", self->config->name);
      start_removal (self, NULL);
      return;
    }

  if (rebooted)
    {
      /* like libpod's resetState: nothing of the old boot survives. */
      g_autofree char *mountpoint = rootfs_mountpoint (self);
      g_autoptr (GError) error = NULL;

      /* Normally the run root is a tmpfs and gone; clear what may be left. */
      if (!ctrd_storage_unmount_rootfs (mountpoint, &error))
        g_warning ("Container %s: %s", self->config->name, error->message);
      ctrd_runtime_forget_exit (runtime, self->config->id);
      if (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED)
        {
          CtrdRunState next = self->run;
          next.state = CTRD_STATE_EXITED;
          next.pid = 0;
          next.conmon_pid = 0;
          save_run_state_or_warn (self, &next);
        }
      /* like libpod's refresh: AutoRemove containers do not survive a reboot. */
      if (self->config->auto_remove)
        start_removal (self, NULL);
      return;
    }

  if (!is_live_state (self->run.state) && self->run.state != CTRD_STATE_STOPPED)
    return;

  if (ctrd_runtime_read_exit_code (runtime, self->config->id, &exit_code, NULL))
    {
      g_autofree char *exit_file =
          g_build_filename (ctrd_runtime_get_run_root (runtime), "exits", self->config->id, NULL);
      struct stat st;
      guint64 finished = ctrd_now_usec ();

      /* The exit happened while the daemon was away: its time is the file's. */
      if (stat (exit_file, &st) == 0)
        finished = (guint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
      if (self->run.state == CTRD_STATE_STOPPED)
        start_cleanup (self);
      else
        record_exit (self, exit_code, finished);
      return;
    }

  if (self->run.state == CTRD_STATE_STOPPED)
    {
      start_cleanup (self);
      return;
    }

  if (self->run.pid != 0 && ctrd_runtime_pid_alive (self->run.pid))
    {
      if (self->run.state == CTRD_STATE_STOPPING)
        {
          /* The Stop call died with the old daemon; the container runs on. */
          CtrdRunState next = self->run;
          next.state = CTRD_STATE_RUNNING;
          save_run_state_or_warn (self, &next);
        }
      return;
    }

  /* conmon still alive means its exit file is about to come; the watcher will
   * deliver it. */
  if (self->run.conmon_pid != 0 && ctrd_runtime_pid_alive (self->run.conmon_pid))
    return;

  /* Neither the process nor conmon, and no exit file: like libpod when conmon
   * died without writing one, the exit code is unknown (-1). */
  g_warning ("Container %s: its process and conmon are gone without an exit code",
             self->config->name);
  record_exit (self, -1, ctrd_now_usec ());
}

/* ---------------------------------------------------------------- authorization */

/* What a guarded call carries across its polkit check. */
typedef struct
{
  CtrdContainer *container;
  guint32 timeout;
  gboolean force;
  gboolean remove_volumes;
  int signum;
} CallData;

static void
call_data_free (gpointer data)
{
  CallData *call = data;

  g_object_unref (call->container);
  g_free (call);
}

typedef void (*AuthorizedCall) (CtrdContainer *self, GDBusMethodInvocation *invocation,
                                CallData *call);

typedef struct
{
  CallData call;
  AuthorizedCall func;
} PendingCall;

static void
on_authorized (GDBusMethodInvocation *invocation, gpointer user_data)
{
  PendingCall *pending = user_data;
  CtrdContainer *self = pending->call.container;

  /* The object may have been removed while polkit was asked. */
  if (self->removed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s was removed", self->config->name);
      return;
    }
  pending->func (self, invocation, &pending->call);
}

/* Validation is done: ask polkit for @action_id, then run @func. */
static void
authorize_then (CtrdContainer *self, GDBusMethodInvocation *invocation, const char *action_id,
                AuthorizedCall func, const CallData *call)
{
  PendingCall *pending = g_new0 (PendingCall, 1);

  if (call != NULL)
    pending->call = *call;
  pending->call.container = g_object_ref (self);
  pending->func = func;
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation, action_id,
                        "container.name", self->config->name, on_authorized, pending,
                        call_data_free);
}

/* ---------------------------------------------------------------- Start */

typedef struct
{
  CtrdStorage *storage;
  CtrdVolumes *volumes;
  CtrdContainerConfig *config; /* a copy: the thread must not see renames */
  char *image_commit;
  char *run_dir;
  char *rootfs;
  char *bundle_dir;
  char **hooks_dirs;
} PrepareData;

static void
prepare_data_free (PrepareData *data)
{
  g_clear_pointer (&data->config, ctrd_container_config_free);
  g_free (data->image_commit);
  g_free (data->run_dir);
  g_free (data->rootfs);
  g_free (data->bundle_dir);
  g_strfreev (data->hooks_dirs);
  g_free (data);
}

static CtrdContainerConfig *
copy_config (const CtrdContainerConfig *config)
{
  g_autofree char *json = ctrd_container_config_to_json (config);

  return ctrd_container_config_from_json (json, NULL);
}

static gboolean
has_bind_mounts (const CtrdContainerConfig *config)
{
  for (guint i = 0; i < config->mounts->len; i++)
    if (((CtrdMount *) config->mounts->pdata[i])->type != CTRD_MOUNT_TMPFS)
      return TRUE;
  return FALSE;
}

/* The hooks whose "when" matches, kept in the run dir so the poststop ones
 * still run if the daemon restarts meanwhile (the seed's setupOCIHooks). */
static CtrdHookSet *
match_hooks (PrepareData *data, const char *const *argv, GError **error)
{
  g_autoptr (CtrdHooks) hooks = ctrd_hooks_load ((const char *const *) data->hooks_dirs);
  CtrdHookContext context = { 0 };
  g_autoptr (CtrdHookSet) set = NULL;
  g_autofree char *json = NULL;
  g_autofree char *path = g_build_filename (data->run_dir, "hooks.json", NULL);

  context.annotations = data->config->labels;
  context.argv = argv;
  context.has_bind_mounts = has_bind_mounts (data->config);
  set = ctrd_hooks_match (hooks, &context);
  json = ctrd_hook_set_to_json (set);
  if (!ctrd_files_write_atomically (path, json, strlen (json), 0600, error))
    return NULL;
  return g_steal_pointer (&set);
}

/* Everything libpod's init does before the runtime, with the root mounted:
 * the user, working directory, generated files (makeBindMounts), volumes
 * (addLocalVolumes), hooks (setupOCIHooks) and the spec (generateSpec). */
static gboolean
prepare_bundle (PrepareData *data, GCancellable *cancellable, GError **error)
{
  CtrdContainerConfig *config = data->config;
  g_autoptr (CtrdResolvedUser) user = NULL;
  g_autoptr (GPtrArray) file_mounts = NULL;
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_autoptr (CtrdHookSet) hooks = NULL;
  g_auto (GStrv) argv = ctrd_container_config_get_argv (config);
  g_autofree char *spec_path = g_build_filename (data->bundle_dir, "config.json", NULL);
  g_autofree char *cgroups_path = g_strconcat ("/containersd/", config->id, NULL);
  g_autofree char *process_label = NULL;
  g_autofree char *mount_label = NULL;
  CtrdFilesParams files = { 0 };
  CtrdSpecParams params = { 0 };

  user = ctrd_files_resolve_user (data->rootfs, config->user, error);
  if (user == NULL ||
      !ctrd_files_ensure_directory (data->rootfs, config->working_dir, user->uid, user->gid,
                                    error))
    return FALSE;

  files.id = config->id;
  files.name = config->name;
  files.hostname = config->hostname;
  files.image_name = config->image_name;
  files.image_id = config->image_id;
  files.image_root = data->rootfs;
  files.user = user;
  files.working_dir = config->working_dir;
  files.dns_servers = (const char *const *) config->dns_servers;
  files.dns_search = (const char *const *) config->dns_search;
  files.dns_options = (const char *const *) config->dns_options;
  files.add_hosts = (const char *const *) config->add_hosts;
  file_mounts = ctrd_files_generate (data->run_dir, &files, error);
  if (file_mounts == NULL)
    return FALSE;

  for (guint i = 0; i < config->mounts->len; i++)
    {
      CtrdMount *prepared = ctrd_volumes_prepare_mount (data->volumes, config->mounts->pdata[i],
                                                        data->rootfs, user->uid, user->gid,
                                                        cancellable, error);
      if (prepared == NULL)
        return FALSE;
      g_ptr_array_add (mounts, prepared);
    }

  hooks = match_hooks (data, (const char *const *) argv, error);
  if (hooks == NULL)
    return FALSE;

  params.id = config->id;
  params.hostname = config->hostname;
  params.rootfs = data->rootfs;
  params.argv = (const char *const *) argv;
  params.env = (const char *const *) config->env;
  params.cwd = config->working_dir;
  params.uid = user->uid;
  params.gid = user->gid;
  params.additional_gids = (const guint32 *) user->additional_gids->data;
  params.n_additional_gids = user->additional_gids->len;
  params.tty = config->tty;
  params.readonly_rootfs = config->read_only_rootfs;
  params.cgroups_path = cgroups_path;
  params.shm_size = config->shm_size;
  params.mounts = (const CtrdMount *const *) mounts->pdata;
  params.n_mounts = mounts->len;
  params.file_mounts = (const CtrdMount *const *) file_mounts->pdata;
  params.n_file_mounts = file_mounts->len;
  params.hooks = hooks;
  /* like libpod's label.InitLabels; nothing where SELinux is off. */
  if (!ctrd_selinux_container_labels (&process_label, &mount_label, error))
    return FALSE;
  params.process_label = process_label;
  params.mount_label = mount_label;
  return ctrd_spec_write (&params, spec_path, error);
}

/* Worker thread: libpod's mountStorage, then prepare_bundle. */
static void
prepare_thread (GTask *task, gpointer source_object, gpointer task_data,
                GCancellable *cancellable)
{
  PrepareData *data = task_data;
  GError *error = NULL;
  g_autofree char *checkout = NULL;

  if (g_mkdir_with_parents (data->run_dir, 0700) < 0)
    {
      int saved_errno = errno;
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                               "Cannot create %s: %s", data->run_dir, g_strerror (saved_errno));
      return;
    }
  checkout = ctrd_storage_ensure_checkout (data->storage, data->image_commit, cancellable, &error);
  if (checkout == NULL ||
      !ctrd_storage_mount_rootfs (data->storage, data->config->id, checkout, data->rootfs, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!prepare_bundle (data, cancellable, &error))
    {
      g_autoptr (GError) unmount_error = NULL;
      if (!ctrd_storage_unmount_rootfs (data->rootfs, &unmount_error))
        g_warning ("%s", unmount_error->message);
      g_prefix_error (&error, "Container %s: ", data->config->name);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* Start failed: undo what it did (libpod's initAndStart calls cleanup on
 * error), answer the caller, and settle the state. */
static void
fail_start (CtrdContainer *self, GError *error, gboolean runtime_created)
{
  g_autofree char *mountpoint = rootfs_mountpoint (self);
  g_autoptr (GError) unmount_error = NULL;
  g_autoptr (GTask) task = g_steal_pointer (&self->start_task);
  CtrdRunState next = self->run;

  g_warning ("Container %s: start failed: %s", self->config->name, error->message);
  if (runtime_created)
    ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE,
                               NULL, NULL, NULL);
  if (!ctrd_storage_unmount_rootfs (mountpoint, &unmount_error))
    g_warning ("Container %s: %s", self->config->name, unmount_error->message);
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);

  if (self->run.state != CTRD_STATE_CONFIGURED)
    {
      next.state = CTRD_STATE_EXITED;
      next.pid = 0;
      next.conmon_pid = 0;
      save_run_state_or_warn (self, &next);
    }
  self->op = OP_NONE;
  self->exit_pending = FALSE;
  ctrd_error_normalize (&error, CTRD_ERROR_RUNTIME_ERROR);
  g_task_return_error (task, error);
}

static void
on_runtime_start_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  CtrdRunState next = self->run;
  g_autoptr (GTask) task = NULL;

  if (!ctrd_runtime_start_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      fail_start (self, error, TRUE);
      return;
    }
  next.state = CTRD_STATE_RUNNING;
  next.started_at = ctrd_now_usec ();
  next.finished_at = 0;
  next.exit_code = 0;
  if (!save_run_state (self, &next, &error))
    {
      /* It runs, but the database could not say so: stop it rather than
       * leave a container that a restart would not know about. */
      ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL,
                               TRUE, NULL, NULL, NULL);
      fail_start (self, error, TRUE);
      return;
    }
  ctr_container_set_oomkilled (CTR_CONTAINER (self), FALSE);
  emit_event (self, self->start_is_restart ? "restart" : "start");
  task = g_steal_pointer (&self->start_task);
  finish_operation (self);
  g_task_return_boolean (task, TRUE);
}

static void
on_runtime_create_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  CtrdRunState next = self->run;
  guint32 pid = 0, conmon_pid = 0;

  if (!ctrd_runtime_create_finish (ctrd_daemon_get_runtime (self->daemon), result, &pid,
                                   &conmon_pid, &error))
    {
      fail_start (self, error, TRUE);
      return;
    }
  next.state = CTRD_STATE_CREATED;
  next.pid = pid;
  next.conmon_pid = conmon_pid;
  if (!save_run_state (self, &next, &error))
    {
      fail_start (self, error, TRUE);
      return;
    }
  log_live_end (self->log_live);
  g_clear_pointer (&self->log_live, log_live_unref);
  self->log_live = log_live_new (TRUE);
  ctrd_runtime_start_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, NULL,
                            on_runtime_start_done, g_object_ref (self));
}

static void
on_prepare_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  GError *error = NULL;
  g_autofree char *bundle = NULL;
  g_autofree char *log_path = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      fail_start (self, error, FALSE);
      return;
    }
  bundle = ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon), self->config->id);
  log_path = g_build_filename (bundle, "ctr.log", NULL);
  ctrd_runtime_create_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                             self->config->name, bundle, log_path, self->config->tty, NULL, on_runtime_create_done,
                             g_object_ref (self));
}

static void
start_prepare (CtrdContainer *self)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  CtrdConfig *daemon_config = ctrd_daemon_get_config (self->daemon);
  PrepareData *data;
  g_autoptr (GTask) task = NULL;

  if (image == NULL)
    {
      fail_start (self,
                  g_error_new (CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                               "Container %s: its image %s is gone", self->config->name,
                               self->config->image_id),
                  FALSE);
      return;
    }

  /* A stale exit file of the last run must not end this one. */
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);

  data = g_new0 (PrepareData, 1);
  data->storage = ctrd_daemon_get_storage (self->daemon);
  data->volumes = ctrd_daemon_get_volumes (self->daemon);
  data->config = copy_config (self->config);
  data->image_commit = g_strdup (ctrd_image_get_commit (image));
  data->run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  data->rootfs = rootfs_mountpoint (self);
  data->bundle_dir = ctrd_storage_container_dir (data->storage, self->config->id);
  data->hooks_dirs = g_strdupv (daemon_config->hooks_dirs);
  if (data->config == NULL)
    {
      prepare_data_free (data);
      fail_start (self,
                  g_error_new (CTRD_ERROR, CTRD_ERROR_FAILED,
                               "Container %s: its configuration cannot be copied",
                               self->config->name),
                  FALSE);
      return;
    }

  task = g_task_new (self, NULL, on_prepare_done, NULL);
  g_task_set_source_tag (task, start_prepare);
  g_task_set_task_data (task, data, (GDestroyNotify) prepare_data_free);
  g_task_run_in_thread (task, prepare_thread);
}

static void
on_reinit_delete_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;

  if (!ctrd_runtime_delete_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      fail_start (self, error, FALSE);
      return;
    }
  start_prepare (self);
}

/* libpod's initAndStart from configured, exited or stopped, once the
 * dependencies run; @task (owned) completes when it runs. */
static void
begin_start (CtrdContainer *self, GTask *task, gboolean restart)
{
  self->op = OP_START;
  self->start_task = task;
  self->start_is_restart = restart;
  self->stop_requested = FALSE;
  if (self->run.state == CTRD_STATE_STOPPED)
    /* libpod's reinit: remove it from the runtime before creating it again. */
    ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE,
                               NULL, on_reinit_delete_done, g_object_ref (self));
  else
    start_prepare (self);
}

/* The seed's checkDependenciesRunning, made active as podman start does:
 * every dependency that does not run is started first, one after the other. */
typedef struct
{
  CtrdContainer *container;
  GTask *task;
  gboolean restart;
  guint next;
} DependencyStart;

static void start_next_dependency (DependencyStart *deps);

static void
dependency_failed (DependencyStart *deps, GError *error)
{
  CtrdContainer *self = deps->container;

  self->op = OP_NONE;
  g_task_return_new_error (deps->task, CTRD_ERROR, CTRD_ERROR_DEPENDENCY_FAILED,
                           "Container %s: a dependency cannot start: %s", self->config->name,
                           error->message);
  g_error_free (error);
  g_object_unref (deps->task);
  g_object_unref (deps->container);
  g_free (deps);
  finish_operation (self);
}

static void
on_dependency_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DependencyStart *deps = user_data;
  GError *error = NULL;

  if (!ctrd_container_start_finish (CTRD_CONTAINER (source), result, &error))
    {
      dependency_failed (deps, error);
      return;
    }
  start_next_dependency (deps);
}

static void
start_next_dependency (DependencyStart *deps)
{
  CtrdContainer *self = deps->container;
  char **ids = self->config->depends_on;

  while (ids[deps->next] != NULL)
    {
      const char *id = ids[deps->next++];
      CtrdContainer *dependency = ctrd_daemon_find_container (self->daemon, id, NULL);

      if (dependency == NULL || dependency->removed)
        {
          dependency_failed (deps, g_error_new (CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                                "container %.12s no longer exists", id));
          return;
        }
      if (dependency->run.state == CTRD_STATE_RUNNING && dependency->op == OP_NONE)
        continue;
      ctrd_container_start_async (dependency, on_dependency_started, deps);
      return;
    }

  /* All dependencies run: now this one. */
  self->op = OP_NONE;
  begin_start (self, deps->task, deps->restart);
  g_object_unref (deps->container);
  g_free (deps);
}

static void
start_with_dependencies (CtrdContainer *self, GTask *task, gboolean restart)
{
  DependencyStart *deps;

  if (self->config->depends_on[0] == NULL)
    {
      begin_start (self, task, restart);
      return;
    }
  /* Busy meanwhile, so no second Start races this one. */
  self->op = OP_START;
  deps = g_new0 (DependencyStart, 1);
  deps->container = g_object_ref (self);
  deps->task = task;
  deps->restart = restart;
  start_next_dependency (deps);
}

void
ctrd_container_start_async (CtrdContainer *self, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, ctrd_container_start_async);
  if (self->op == OP_NONE && self->run.state == CTRD_STATE_RUNNING)
    {
      /* like libpod's initAndStart: a running container is left alone. */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (self->op == OP_CLEANUP && self->start_after_cleanup == NULL &&
      self->restart_after_stop == NULL && self->remove_after_stop == NULL)
    {
      /* It has just exited (a Wait may have answered already): start it
       * again as soon as the runtime has forgotten the old run. */
      self->start_after_cleanup = task;
      return;
    }
  if (self->op != OP_NONE || self->removed ||
      (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED &&
       self->run.state != CTRD_STATE_STOPPED))
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                               "Container %s cannot start in state %s%s", self->config->name,
                               ctrd_state_to_string (self->run.state),
                               self->op != OP_NONE ? " (another operation is under way)" : "");
      g_object_unref (task);
      return;
    }
  start_with_dependencies (self, task, FALSE);
}

gboolean
ctrd_container_start_finish (CtrdContainer *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_start_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;

  if (ctrd_container_start_finish (CTRD_CONTAINER (source), result, &error))
    ctr_container_complete_start (CTR_CONTAINER (source), invocation);
  else
    ctrd_return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
}

static void
do_start (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  ctrd_container_start_async (self, on_start_answered, invocation);
}

static gboolean
handle_start (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_start, NULL);
  return TRUE;
}

/* An operation ended; an exit that arrived meanwhile is handled now. */
static void
finish_operation (CtrdContainer *self)
{
  self->op = OP_NONE;
  if (self->exit_pending)
    {
      self->exit_pending = FALSE;
      ctrd_container_handle_exit (self);
    }
}

/* ---------------------------------------------------------------- Stop, Kill */

static void
on_kill_logged (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  g_autoptr (GError) error = NULL;

  /* A process that is already gone cannot be signalled: its exit file is on
   * its way, so this is only worth a debug line. */
  if (!ctrd_runtime_kill_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_debug ("Container %s: %s", self->config->name, error->message);
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->kill_timeout_id = 0;
  g_message ("Container %s did not stop within its timeout: sending SIGKILL", self->config->name);
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL, TRUE,
                           NULL, on_kill_logged, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

/* Sends the stop signal now and SIGKILL after @timeout seconds (0: at once). */
static void thaw_if_paused (CtrdContainer *self, CtrdState previous);

static gboolean
begin_stop (CtrdContainer *self, guint timeout, GError **error)
{
  CtrdRunState next = self->run;
  CtrdState previous = self->run.state;

  next.state = CTRD_STATE_STOPPING;
  if (!save_run_state (self, &next, error))
    return FALSE;
  self->stop_requested = TRUE;
  if (timeout == 0)
    {
      ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL,
                               TRUE, NULL, on_kill_logged, g_object_ref (self));
      thaw_if_paused (self, previous);
      return TRUE;
    }
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           self->config->stop_signal, FALSE, NULL, on_kill_logged,
                           g_object_ref (self));
  self->kill_timeout_id = g_timeout_add_seconds (timeout, on_stop_timeout, self);
  thaw_if_paused (self, previous);
  return TRUE;
}

static void
on_thawed_for_stop (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_runtime_pause_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
}

/* Like podman: a paused container gets its signal, then is thawed so the
 * signal can be delivered (SIGKILL reaches frozen tasks only once thawed). */
static void
thaw_if_paused (CtrdContainer *self, CtrdState previous)
{
  if (previous == CTRD_STATE_PAUSED)
    ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, FALSE,
                              NULL, on_thawed_for_stop, g_object_ref (self));
}

static gboolean do_stop_now (CtrdContainer *self, GDBusMethodInvocation *invocation,
                             guint timeout);

static void
do_stop (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  do_stop_now (self, invocation, call->timeout);
}

static gboolean
handle_stop (CtrContainer *iface, GDBusMethodInvocation *invocation, guint timeout)
{
  CallData call = { .timeout = timeout };

  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_stop, &call);
  return TRUE;
}

static gboolean
do_stop_now (CtrdContainer *self, GDBusMethodInvocation *invocation, guint timeout)
{
  CtrContainer *iface = CTR_CONTAINER (self);
  GError *error = NULL;

  if (timeout == G_MAXUINT32)
    timeout = self->config->stop_timeout;

  switch (self->run.state)
    {
    case CTRD_STATE_STOPPING:
    case CTRD_STATE_STOPPED:
      /* Already on its way down: answer when it is cleaned up. */
      g_ptr_array_add (self->stoppers, invocation);
      return TRUE;
    case CTRD_STATE_EXITED:
      /* Like podman, stopping a stopped container is not an error. */
      if (self->op == OP_NONE)
        {
          ctr_container_complete_stop (iface, invocation);
          return TRUE;
        }
      return return_invalid_state (self, invocation, "stop");
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
    case CTRD_STATE_PAUSED:
      if (self->op != OP_NONE)
        return return_invalid_state (self, invocation, "stop");
      if (!begin_stop (self, timeout, &error))
        {
          ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
          return TRUE;
        }
      g_ptr_array_add (self->stoppers, invocation);
      return TRUE;
    case CTRD_STATE_CONFIGURED:
    case CTRD_STATE_REMOVING:
    default:
      return return_invalid_state (self, invocation, "stop");
    }
}

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
} KillData;

static void
on_kill_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KillData *data = user_data;
  GError *error = NULL;

  if (ctrd_runtime_kill_finish (ctrd_daemon_get_runtime (data->container->daemon), result, &error))
    ctr_container_complete_kill (CTR_CONTAINER (data->container), data->invocation);
  else
    ctrd_return_error (data->invocation, error, CTRD_ERROR_RUNTIME_ERROR);
  g_object_unref (data->container);
  g_free (data);
}

static void
do_kill (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  KillData *data;

  if ((self->run.state != CTRD_STATE_RUNNING && self->run.state != CTRD_STATE_STOPPING &&
       self->run.state != CTRD_STATE_PAUSED) ||
      self->op == OP_START)
    {
      return_invalid_state (self, invocation, "be killed");
      return;
    }

  data = g_new0 (KillData, 1);
  data->container = g_object_ref (self);
  data->invocation = invocation;
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           call->signum, FALSE, NULL, on_kill_done, data);
}

static gboolean
handle_kill (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *signal_name)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  CallData call = { 0 };

  /* The signal is checked before anything else (podman's 130-kill test). */
  call.signum = ctrd_parse_signal (signal_name, &error);
  if (call.signum < 0)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  authorize_then (self, invocation, CTRD_ACTION_CONTAINER_MANAGE, do_kill, &call);
  return TRUE;
}

/* ---------------------------------------------------------------- Wait */

static gboolean
handle_wait (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);

  if (self->run.state == CTRD_STATE_STOPPED || self->run.state == CTRD_STATE_EXITED)
    {
      ctr_container_complete_wait (iface, invocation, self->run.exit_code);
      return TRUE;
    }
  if (self->run.state == CTRD_STATE_REMOVING)
    return return_invalid_state (self, invocation, "be waited for");
  g_ptr_array_add (self->waiters, invocation);
  return TRUE;
}

void
ctrd_container_client_vanished (CtrdContainer *self, const char *unique_name)
{
  /* Nobody can read the answer: free the invocation instead of keeping it
   * until the container exits. */
  for (guint i = self->waiters->len; i-- > 0;)
    {
      GDBusMethodInvocation *invocation = self->waiters->pdata[i];
      if (g_strcmp0 (g_dbus_method_invocation_get_sender (invocation), unique_name) == 0)
        {
          g_ptr_array_remove_index (self->waiters, i);
          g_object_unref (invocation);
        }
    }
}

/* ---------------------------------------------------------------- Remove */

static void
fail_pending_calls (CtrdContainer *self)
{
  for (guint i = 0; i < self->waiters->len; i++)
    g_dbus_method_invocation_return_error (self->waiters->pdata[i], CTRD_ERROR,
                                           CTRD_ERROR_NOT_FOUND,
                                           "Container %s was removed", self->config->name);
  g_ptr_array_set_size (self->waiters, 0);
}

static void
removal_failed (CtrdContainer *self, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->remove_task);

  /* The state stays "removing" in the database, so the next daemon start
   * finishes the job; this one lets the caller try again. */
  g_warning ("Container %s: removal failed: %s", self->config->name, error->message);
  self->op = OP_NONE;
  ctrd_error_normalize (&error, CTRD_ERROR_STORAGE_ERROR);
  if (task != NULL)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

static void
on_remove_dirs_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  g_autoptr (GTask) task = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      removal_failed (self, error);
      return;
    }
  if (!ctrd_db_delete_container (ctrd_daemon_get_db (self->daemon), self->config->id, &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      removal_failed (self, error);
      return;
    }
  g_message ("Removed container %s (%.12s)", self->config->name, self->config->id);
  task = g_steal_pointer (&self->remove_task);
  fail_pending_calls (self);
  emit_event (self, "remove");
  self->op = OP_NONE;
  self->removed = TRUE;
  ctrd_daemon_remove_container (self->daemon, self);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
remove_dirs_thread (GTask *task, gpointer source_object, gpointer task_data,
                    GCancellable *cancellable)
{
  CtrdContainer *self = source_object;
  char **volumes = task_data;
  GError *error = NULL;
  g_autofree char *mountpoint = NULL;
  g_autofree char *run_dir = NULL;

  /* Read-only fields only: the id never changes after creation. */
  run_dir = ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon),
                                            self->config->id);
  mountpoint = g_build_filename (run_dir, "rootfs", NULL);
  if (!ctrd_storage_unmount_rootfs (mountpoint, &error) ||
      !ctrd_storage_remove_container_dirs (ctrd_daemon_get_storage (self->daemon),
                                           self->config->id, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; volumes != NULL && volumes[i] != NULL; i++)
    {
      g_autoptr (GError) volume_error = NULL;
      /* A volume already gone is fine; others are logged, not fatal: the
       * container itself is removed. */
      if (!ctrd_volumes_remove (ctrd_daemon_get_volumes (self->daemon), volumes[i], cancellable,
                                &volume_error) &&
          !g_error_matches (volume_error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND))
        g_warning ("Container %s: volume %s: %s", self->config->name, volumes[i],
                   volume_error->message);
    }
  /* The run dir: the (now unmounted) root, the generated files, conmon's
   * small files. */
  if (!ctrd_remove_tree (run_dir, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void continue_removal (CtrdContainer *self);

static void
on_remove_delete_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;

  if (!ctrd_runtime_delete_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      removal_failed (self, error);
      return;
    }
  continue_removal (self);
}

/* After the runtime delete: the files, in a worker. */
static void
continue_removal (CtrdContainer *self)
{
  g_autoptr (GTask) task = NULL;

  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  task = g_task_new (self, NULL, on_remove_dirs_done, g_object_ref (self));
  g_task_set_task_data (task, g_steal_pointer (&self->remove_volumes), (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, remove_dirs_thread);
}

/* libpod's removeContainer for a container that is not running; @task (may
 * be NULL) completes when it is gone. */
static void
start_removal (CtrdContainer *self, GTask *task)
{
  CtrdRunState next = self->run;
  CtrdState previous = self->run.state;
  GError *error = NULL;

  next.state = CTRD_STATE_REMOVING;
  if (!save_run_state (self, &next, &error))
    {
      if (task != NULL)
        g_task_return_error (task, error);
      else
        g_error_free (error);
      g_clear_object (&task);
      return;
    }
  self->op = OP_REMOVE;
  self->remove_task = task;
  if (previous == CTRD_STATE_CONFIGURED || previous == CTRD_STATE_EXITED)
    {
      /* Never created in the runtime, or already deleted from it by the
       * cleanup: a second runc delete would only cost a fork. */
      continue_removal (self);
      return;
    }
  ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                             on_remove_delete_done, g_object_ref (self));
}

/* Names of the volumes Remove(remove_volumes) takes: the anonymous ones and
 * named ones no other container mounts. */
static char **
volumes_to_remove (CtrdContainer *self)
{
  g_autoptr (GPtrArray) containers = ctrd_daemon_list_containers (self->daemon);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < self->config->mounts->len; i++)
    {
      CtrdMount *mount = self->config->mounts->pdata[i];
      gboolean shared = FALSE;

      if (mount->type != CTRD_MOUNT_VOLUME)
        continue;
      for (guint j = 0; j < containers->len && !shared && !mount->anonymous; j++)
        {
          CtrdContainer *other = containers->pdata[j];
          if (other == self)
            continue;
          for (guint k = 0; k < other->config->mounts->len && !shared; k++)
            {
              CtrdMount *theirs = other->config->mounts->pdata[k];
              shared = theirs->type == CTRD_MOUNT_VOLUME && g_str_equal (theirs->source, mount->source);
            }
        }
      if (!shared)
        g_strv_builder_add (builder, mount->source);
    }
  return g_strv_builder_end (builder);
}

/* A container others name in DependsOn (the seed's dependency checks). */
static CtrdContainer *
find_dependent (CtrdContainer *self)
{
  g_autoptr (GPtrArray) containers = ctrd_daemon_list_containers (self->daemon);

  for (guint i = 0; i < containers->len; i++)
    {
      CtrdContainer *other = containers->pdata[i];
      if (other != self &&
          g_strv_contains ((const char *const *) other->config->depends_on, self->config->id))
        return other;
    }
  return NULL;
}

void
ctrd_container_remove_async (CtrdContainer *self, gboolean force, gboolean remove_volumes,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;
  CtrdContainer *dependent;

  g_task_set_source_tag (task, ctrd_container_remove_async);
  dependent = find_dependent (self);
  if (dependent != NULL && !force)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_IN_USE,
                               "Container %s cannot be removed: container %s depends on it",
                               self->config->name, dependent->config->name);
      g_object_unref (task);
      return;
    }
  g_strfreev (self->remove_volumes);
  self->remove_volumes = remove_volumes ? volumes_to_remove (self) : NULL;
  if (self->op == OP_CLEANUP && self->remove_after_stop == NULL)
    {
      /* It has just exited: remove it as soon as the cleanup is done. */
      self->remove_after_stop = task;
      return;
    }
  if (self->op != OP_NONE || self->remove_after_stop != NULL || self->removed)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                               "Container %s cannot be removed: another operation is under way",
                               self->config->name);
      g_object_unref (task);
      return;
    }

  switch (self->run.state)
    {
    case CTRD_STATE_CONFIGURED:
    case CTRD_STATE_EXITED:
    case CTRD_STATE_STOPPED:
      start_removal (self, task);
      return;
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
    case CTRD_STATE_PAUSED:
    case CTRD_STATE_STOPPING:
      if (!force)
        {
          g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                   "Container %s is %s: stop it first or remove it with force",
                                   self->config->name, ctrd_state_to_string (self->run.state));
          g_object_unref (task);
          return;
        }
      /* like podman rm -f: kill at once, remove once it has exited. */
      if (self->run.state != CTRD_STATE_STOPPING)
        {
          if (!begin_stop (self, 0, &error))
            {
              g_task_return_error (task, error);
              g_object_unref (task);
              return;
            }
        }
      else
        {
          g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
          on_stop_timeout (self);
        }
      self->remove_after_stop = task;
      return;
    case CTRD_STATE_REMOVING:
    default:
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                               "Container %s is already being removed", self->config->name);
      g_object_unref (task);
      return;
    }
}

gboolean
ctrd_container_remove_finish (CtrdContainer *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_remove_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;

  if (ctrd_container_remove_finish (self, result, &error))
    ctr_container_complete_remove (CTR_CONTAINER (self), invocation);
  else
    ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
}

static void
do_remove (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  ctrd_container_remove_async (self, call->force, call->remove_volumes, on_remove_answered,
                               invocation);
}

static gboolean
handle_remove (CtrContainer *iface, GDBusMethodInvocation *invocation, gboolean force,
               gboolean remove_volumes)
{
  CallData call = { .force = force, .remove_volumes = remove_volumes };

  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_CREATE, do_remove,
                  &call);
  return TRUE;
}

/* ---------------------------------------------------------------- Pause, Unpause */

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  gboolean pause;
} FreezeData;

static void
on_freeze_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FreezeData *data = user_data;
  g_autoptr (CtrdContainer) self = data->container;
  GDBusMethodInvocation *invocation = data->invocation;
  gboolean pause = data->pause;
  GError *error = NULL;
  CtrdRunState next;

  g_free (data);
  if (!ctrd_runtime_pause_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
      finish_operation (self);
      return;
    }
  next = self->run;
  next.state = pause ? CTRD_STATE_PAUSED : CTRD_STATE_RUNNING;
  if (!save_run_state (self, &next, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      finish_operation (self);
      return;
    }
  emit_event (self, pause ? "pause" : "unpause");
  if (pause)
    ctr_container_complete_pause (CTR_CONTAINER (self), invocation);
  else
    ctr_container_complete_unpause (CTR_CONTAINER (self), invocation);
  finish_operation (self);
}

static void
do_freeze (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  gboolean pause = call->force;
  FreezeData *data;

  if (self->op != OP_NONE ||
      self->run.state != (pause ? CTRD_STATE_RUNNING : CTRD_STATE_PAUSED))
    {
      return_invalid_state (self, invocation, pause ? "be paused" : "be unpaused");
      return;
    }
  self->op = OP_FREEZE;
  data = g_new0 (FreezeData, 1);
  data->container = g_object_ref (self);
  data->invocation = invocation;
  data->pause = pause;
  ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, pause, NULL,
                            on_freeze_done, data);
}

static gboolean
handle_pause (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  CallData call = { .force = TRUE };

  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_freeze,
                  &call);
  return TRUE;
}

static gboolean
handle_unpause (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  CallData call = { .force = FALSE };

  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_freeze,
                  &call);
  return TRUE;
}

/* ---------------------------------------------------------------- Restart */

static void
on_restart_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    ctr_container_complete_restart (CTR_CONTAINER (source), invocation);
  else
    ctrd_return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
}

/* libpod's restartWithTimeout: stop if running, then (re)initialise and start. */
static void
do_restart (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  GError *error = NULL;
  guint timeout = call->timeout == G_MAXUINT32 ? self->config->stop_timeout : call->timeout;
  GTask *task;

  if (self->op != OP_NONE || self->restart_after_stop != NULL || self->remove_after_stop != NULL)
    {
      return_invalid_state (self, invocation, "restart");
      return;
    }
  switch (self->run.state)
    {
    case CTRD_STATE_CONFIGURED:
    case CTRD_STATE_EXITED:
    case CTRD_STATE_STOPPED:
      task = g_task_new (self, NULL, on_restart_answered, invocation);
      start_with_dependencies (self, task, TRUE);
      return;
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
      if (!begin_stop (self, timeout, &error))
        {
          ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
          return;
        }
      self->restart_after_stop = g_task_new (self, NULL, on_restart_answered, invocation);
      return;
    case CTRD_STATE_PAUSED:
    case CTRD_STATE_STOPPING:
    case CTRD_STATE_REMOVING:
    default:
      return_invalid_state (self, invocation, "restart");
      return;
    }
}

static gboolean
handle_restart (CtrContainer *iface, GDBusMethodInvocation *invocation, guint timeout)
{
  CallData call = { .timeout = timeout };

  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_restart,
                  &call);
  return TRUE;
}

/* ---------------------------------------------------------------- Rename */

typedef struct
{
  CtrdContainer *container;
  char *new_name;
} RenameData;

static void
rename_data_free (gpointer user_data)
{
  RenameData *data = user_data;

  g_object_unref (data->container);
  g_free (data->new_name);
  g_free (data);
}

static void
do_rename (GDBusMethodInvocation *invocation, gpointer user_data)
{
  RenameData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;
  g_autofree char *old_name = NULL;
  CtrdContainer *holder;

  if (self->removed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s was removed", self->config->name);
      return;
    }
  holder = ctrd_daemon_get_container_by_name (self->daemon, data->new_name);
  if (holder == self)
    {
      ctr_container_complete_rename (CTR_CONTAINER (self), invocation);
      return;
    }
  if (holder != NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                                             "The name %s is already used by another container",
                                             data->new_name);
      return;
    }
  if (self->run.state == CTRD_STATE_REMOVING)
    {
      return_invalid_state (self, invocation, "be renamed");
      return;
    }

  old_name = g_steal_pointer (&self->config->name);
  self->config->name = g_strdup (data->new_name);
  if (!ctrd_db_update_container_config (ctrd_daemon_get_db (self->daemon), self->config, &error))
    {
      g_free (self->config->name);
      self->config->name = g_steal_pointer (&old_name);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  ctr_container_set_name (CTR_CONTAINER (self), self->config->name);
  g_message ("Renamed container %s to %s", old_name, self->config->name);
  emit_event (self, "rename");
  ctr_container_complete_rename (CTR_CONTAINER (self), invocation);
}

static gboolean
handle_rename (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *new_name)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  RenameData *data;

  if (!ctrd_validate_container_name (new_name, &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  data = g_new0 (RenameData, 1);
  data->container = g_object_ref (self);
  data->new_name = g_strdup (new_name);
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_MANAGE, "container.name", self->config->name,
                        do_rename, data, rename_data_free);
  return TRUE;
}

/* ---------------------------------------------------------------- Inspect */

static char *
format_time (guint64 usec)
{
  g_autoptr (GDateTime) seconds = NULL;
  g_autoptr (GDateTime) time = NULL;

  if (usec == 0)
    return g_strdup ("");
  seconds = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  time = g_date_time_add (seconds, usec % G_USEC_PER_SEC);
  return g_date_time_format_iso8601 (time);
}

/* The full configuration (with Env, which is why this is authorized) and the
 * state, like podman inspect. */
static char *
inspect_json (CtrdContainer *self)
{
  g_autofree char *config_text = ctrd_container_config_to_json (self->config);
  g_autoptr (JsonNode) config = json_from_string (config_text, NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *bundle = ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon),
                                                        self->config->id);
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *spec_path = g_build_filename (bundle, "config.json", NULL);
  g_autofree char *log_path = g_build_filename (bundle, "ctr.log", NULL);
  g_autofree char *rootfs = rootfs_mountpoint (self);
  g_autofree char *created = format_time (self->config->created_at);
  g_autofree char *started = format_time (self->run.started_at);
  g_autofree char *finished = format_time (self->run.finished_at);
  g_auto (GStrv) argv = ctrd_container_config_get_argv (self->config);
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Id");
  json_builder_add_string_value (builder, self->config->id);
  json_builder_set_member_name (builder, "Name");
  json_builder_add_string_value (builder, self->config->name);
  json_builder_set_member_name (builder, "Created");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "Image");
  json_builder_add_string_value (builder, self->config->image_id);
  json_builder_set_member_name (builder, "ImageName");
  json_builder_add_string_value (builder, self->config->image_name);
  json_builder_set_member_name (builder, "ImageCommit");
  json_builder_add_string_value (builder, image != NULL ? ctrd_image_get_commit (image) : "");
  json_builder_set_member_name (builder, "Path");
  json_builder_add_string_value (builder, argv[0] != NULL ? argv[0] : "");
  json_builder_set_member_name (builder, "Args");
  json_builder_begin_array (builder);
  for (guint i = argv[0] != NULL ? 1 : 0; argv[i] != NULL; i++)
    json_builder_add_string_value (builder, argv[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "State");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Status");
  json_builder_add_string_value (builder, ctrd_state_to_string (self->run.state));
  json_builder_set_member_name (builder, "Running");
  json_builder_add_boolean_value (builder, self->run.state == CTRD_STATE_RUNNING);
  json_builder_set_member_name (builder, "Paused");
  json_builder_add_boolean_value (builder, self->run.state == CTRD_STATE_PAUSED);
  json_builder_set_member_name (builder, "Pid");
  json_builder_add_int_value (builder, self->run.pid);
  json_builder_set_member_name (builder, "ConmonPid");
  json_builder_add_int_value (builder, self->run.conmon_pid);
  json_builder_set_member_name (builder, "ExitCode");
  json_builder_add_int_value (builder, self->run.exit_code);
  json_builder_set_member_name (builder, "OOMKilled");
  json_builder_add_boolean_value (builder, ctr_container_get_oomkilled (CTR_CONTAINER (self)));
  json_builder_set_member_name (builder, "StartedAt");
  json_builder_add_string_value (builder, started);
  json_builder_set_member_name (builder, "FinishedAt");
  json_builder_add_string_value (builder, finished);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "Config");
  json_builder_add_value (builder, g_steal_pointer (&config));
  json_builder_set_member_name (builder, "BundlePath");
  json_builder_add_string_value (builder, bundle);
  json_builder_set_member_name (builder, "OCIConfigPath");
  json_builder_add_string_value (builder, spec_path);
  json_builder_set_member_name (builder, "LogPath");
  json_builder_add_string_value (builder, log_path);
  json_builder_set_member_name (builder, "RunDir");
  json_builder_add_string_value (builder, run_dir);
  json_builder_set_member_name (builder, "Rootfs");
  json_builder_add_string_value (builder, rootfs);
  /* The generated files, re-made on every start (libpod's makeBindMounts). */
  {
    static const char *const generated[][2] = {
      { "ResolvConfPath", "resolv.conf" }, { "HostsPath", "hosts" },
      { "HostnamePath", "hostname" },      { "ContainerEnvPath", ".containerenv" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (generated); i++)
      {
        g_autofree char *path = g_build_filename (run_dir, generated[i][1], NULL);
        json_builder_set_member_name (builder, generated[i][0]);
        json_builder_add_string_value (builder, path);
      }
  }
  json_builder_set_member_name (builder, "OCIRuntime");
  json_builder_add_string_value (builder,
                                 ctrd_runtime_get_path (ctrd_daemon_get_runtime (self->daemon)));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

static void
do_inspect (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  g_autofree char *json = inspect_json (self);

  ctr_container_complete_inspect (CTR_CONTAINER (self), invocation, json);
}

static gboolean
handle_inspect (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_EXEC, do_inspect, NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- Exec */

static const CtrdOptionSpec exec_options[] = {
  { "Env", "as" },
  { "WorkingDir", "s" },
  { "User", "s" },
  { "Tty", "b" },
};

typedef struct
{
  CtrdContainer *container;
  char **argv;
  char **env;
  char *cwd;
  gboolean has_user;
  guint32 uid, gid;
  int fds[3];
  char *process_path;
  GDBusMethodInvocation *invocation;
  gboolean started; /* handed to the runtime: on_exec_done frees it */
} ExecData;

static void
exec_data_free (gpointer user_data)
{
  ExecData *data = user_data;

  for (guint i = 0; i < G_N_ELEMENTS (data->fds); i++)
    if (data->fds[i] >= 0)
      close (data->fds[i]);
  if (data->process_path != NULL)
    g_unlink (data->process_path);
  g_free (data->process_path);
  g_strfreev (data->argv);
  g_strfreev (data->env);
  g_free (data->cwd);
  g_object_unref (data->container);
  g_free (data);
}

/* "uid" or "uid:gid", numeric only (names need the image's passwd). */
static gboolean
parse_numeric_user (const char *spec, guint32 *out_uid, guint32 *out_gid, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 3);
  guint64 uid, gid;

  if (parts[0] == NULL || g_strv_length (parts) > 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT32 - 1, &uid, NULL) ||
      (parts[1] != NULL &&
       !g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT32 - 1, &gid, NULL)))
    {
      g_autofree char *printable = g_strescape (spec, NULL);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "User \"%.64s\" must be uid or uid:gid (numbers below 4294967295)", printable);
      return FALSE;
    }
  *out_uid = uid;
  *out_gid = parts[1] != NULL ? gid : uid;
  return TRUE;
}

static void
on_exec_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ExecData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;
  int exit_code;

  exit_code = ctrd_runtime_exec_finish (ctrd_daemon_get_runtime (self->daemon), result, &error);
  if (error != NULL)
    ctrd_return_error (data->invocation, error, CTRD_ERROR_RUNTIME_ERROR);
  else
    ctr_container_complete_exec (CTR_CONTAINER (self), data->invocation, NULL, exit_code);
  exec_data_free (data);
}

/* The exec'd process gets the container's process settings (capabilities,
 * rlimits, no new privileges...) from its config.json, with its own argv,
 * env, cwd and user. */
static gboolean
write_exec_process (CtrdContainer *self, ExecData *data, GError **error)
{
  g_autofree char *bundle = ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon),
                                                        self->config->id);
  g_autofree char *spec_path = g_build_filename (bundle, "config.json", NULL);
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  JsonObject *process, *user;
  JsonArray *array;
  int fd;

  if (!json_parser_load_from_mapped_file (parser, spec_path, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ||
      !json_object_has_member (json_node_get_object (json_parser_get_root (parser)), "process"))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "%s has no process", spec_path);
      return FALSE;
    }
  process = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                           "process");
  json_object_set_boolean_member (process, "terminal", FALSE);
  array = json_array_new ();
  for (guint i = 0; data->argv[i] != NULL; i++)
    json_array_add_string_element (array, data->argv[i]);
  json_object_set_array_member (process, "args", array);
  array = json_array_new ();
  for (guint i = 0; data->env[i] != NULL; i++)
    json_array_add_string_element (array, data->env[i]);
  json_object_set_array_member (process, "env", array);
  if (data->cwd != NULL)
    json_object_set_string_member (process, "cwd", data->cwd);
  if (data->has_user)
    {
      user = json_object_new ();
      json_object_set_int_member (user, "uid", data->uid);
      json_object_set_int_member (user, "gid", data->gid);
      json_object_set_object_member (process, "user", user);
    }
  {
    /* runc exec --process takes the process object alone. */
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (node, process);
    text = json_to_string (node, FALSE);
  }

  name = g_strdup_printf ("exec-%08x.json", g_random_int ());
  data->process_path = g_build_filename (run_dir, name, NULL);
  fd = open (data->process_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || write (fd, text, strlen (text)) != (gssize) strlen (text))
    {
      int saved_errno = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Cannot write %s: %s",
                   data->process_path, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Runs once authorized; until the runtime has it, the data stays owned by the
 * authorization check, which frees it (exec_check_done). */
static void
do_exec (GDBusMethodInvocation *invocation, gpointer user_data)
{
  ExecData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;
  int fds[3];

  if (self->removed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s was removed", self->config->name);
      return;
    }
  if (self->run.state != CTRD_STATE_RUNNING || self->op != OP_NONE)
    {
      return_invalid_state (self, invocation, "run Exec (it must be running)");
      return;
    }
  if (!write_exec_process (self, data, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  data->invocation = invocation;
  data->started = TRUE;
  for (guint i = 0; i < 3; i++)
    {
      fds[i] = data->fds[i];
      data->fds[i] = -1;
    }
  emit_event (self, "exec");
  ctrd_runtime_exec_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           data->process_path, fds[0], fds[1], fds[2], NULL, on_exec_done, data);
}

static void
exec_check_done (gpointer user_data)
{
  ExecData *data = user_data;

  if (!data->started)
    exec_data_free (data);
}

static gboolean
get_handle_fd (GUnixFDList *fd_list, GVariant *handle, gboolean for_writing, const char *what,
               int *out_fd, GError **error)
{
  gint32 index = g_variant_get_handle (handle);
  struct stat st;
  int fd, mode;

  if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length (fd_list))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: handle %d is not one of the file descriptors sent", what, index);
      return FALSE;
    }
  fd = g_unix_fd_list_get (fd_list, index, error);
  if (fd < 0)
    return FALSE;
  mode = fcntl (fd, F_GETFL) & O_ACCMODE;
  if (fstat (fd, &st) < 0 || S_ISDIR (st.st_mode) ||
      (for_writing && mode == O_RDONLY) || (!for_writing && mode == O_WRONLY))
    {
      close (fd);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s must be %s file descriptor that is not a directory", what,
                   for_writing ? "a writable" : "a readable");
      return FALSE;
    }
  *out_fd = fd;
  return TRUE;
}

/* Everything Exec is given, checked; NULL with the error otherwise. */
static ExecData *
parse_exec_call (CtrdContainer *self, GUnixFDList *fd_list, const char *const *argv,
                 GVariant *options, GVariant *stdin_handle, GVariant *stdout_handle,
                 GVariant *stderr_handle, GError **error)
{
  g_autoptr (GVariant) env = NULL;
  const char *cwd = NULL, *user = NULL;
  gboolean tty = FALSE;
  ExecData *data;

  if (!ctrd_validate_options (options, exec_options, G_N_ELEMENTS (exec_options), "Exec", error) ||
      !ctrd_validate_string_array (argv, CTRD_MAX_ARGV_ELEMENTS, "Exec argv", error))
    return NULL;
  if (argv[0] == NULL || argv[0][0] == '\0')
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Exec needs a command");
      return NULL;
    }
  g_variant_lookup (options, "Tty", "b", &tty);
  if (tty)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Exec with a terminal is not supported yet");
      return NULL;
    }
  if (fd_list != NULL && g_unix_fd_list_get_length (fd_list) > 3)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Exec takes at most 3 file descriptors");
      return NULL;
    }

  data = g_new0 (ExecData, 1);
  data->container = g_object_ref (self);
  data->fds[0] = data->fds[1] = data->fds[2] = -1;
  data->argv = g_strdupv ((char **) argv);
  env = g_variant_lookup_value (options, "Env", G_VARIANT_TYPE ("as"));
  if (env != NULL)
    {
      g_autofree const char **strv = g_variant_get_strv (env, NULL);
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      if (!ctrd_validate_env (strv, error))
        {
          exec_data_free (data);
          return NULL;
        }
      g_strv_builder_addv (builder, (const char **) self->config->env);
      g_strv_builder_addv (builder, strv);
      data->env = g_strv_builder_end (builder);
    }
  else
    data->env = g_strdupv (self->config->env);
  if (g_variant_lookup (options, "WorkingDir", "&s", &cwd))
    {
      if (!g_path_is_absolute (cwd) || strstr (cwd, "..") != NULL || strlen (cwd) > 4096 ||
          g_str_has_prefix (cwd, "/proc"))
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "Exec WorkingDir must be an absolute path without \"..\", "
                               "outside /proc");
          exec_data_free (data);
          return NULL;
        }
      data->cwd = g_strdup (cwd);
    }
  if (g_variant_lookup (options, "User", "&s", &user))
    {
      if (!parse_numeric_user (user, &data->uid, &data->gid, error))
        {
          exec_data_free (data);
          return NULL;
        }
      data->has_user = TRUE;
    }
  if (!get_handle_fd (fd_list, stdin_handle, FALSE, "stdin", &data->fds[0], error) ||
      !get_handle_fd (fd_list, stdout_handle, TRUE, "stdout", &data->fds[1], error) ||
      !get_handle_fd (fd_list, stderr_handle, TRUE, "stderr", &data->fds[2], error))
    {
      exec_data_free (data);
      return NULL;
    }
  return data;
}

static gboolean
handle_exec (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
             const char *const *argv, GVariant *options, GVariant *stdin_handle,
             GVariant *stdout_handle, GVariant *stderr_handle)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  ExecData *data = parse_exec_call (self, fd_list, argv, options, stdin_handle, stdout_handle,
                                    stderr_handle, &error);

  if (data == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_EXEC, "container.name", self->config->name, do_exec,
                        data, exec_check_done);
  return TRUE;
}

/* ---------------------------------------------------------------- GetSizes */

#define SIZES_CACHE_USEC (5 * G_USEC_PER_SEC)

static char *
upper_dir (CtrdContainer *self)
{
  g_autofree char *dir = ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon),
                                                     self->config->id);
  return g_build_filename (dir, "upper", NULL);
}

static void
sizes_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  const char *path = task_data;
  GError *error = NULL;
  guint64 bytes = 0;
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    {
      int saved_errno = errno;
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Cannot open %s: %s",
                               path, g_strerror (saved_errno));
      return;
    }
  if (!ctrd_treewalk_disk_usage (fd, &bytes, cancellable, &error))
    {
      close (fd);
      g_task_return_error (task, error);
      return;
    }
  close (fd);
  g_task_return_pointer (task, g_memdup2 (&bytes, sizeof bytes), g_free);
}

static void
answer_size_waiters (CtrdContainer *self, const GError *error)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  guint64 image_size = image != NULL ? ctrd_image_get_record (image)->size : 0;

  for (guint i = 0; i < self->size_waiters->len; i++)
    {
      GDBusMethodInvocation *invocation = self->size_waiters->pdata[i];
      if (error != NULL)
        g_dbus_method_invocation_return_gerror (invocation, error);
      else
        ctr_container_complete_get_sizes (CTR_CONTAINER (self), invocation,
                                          image_size + self->cached_rw_size,
                                          self->cached_rw_size);
    }
  g_ptr_array_set_size (self->size_waiters, 0);
}

static void
on_sizes_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  GError *error = NULL;
  g_autofree guint64 *bytes = g_task_propagate_pointer (G_TASK (result), &error);

  self->sizes_walking = FALSE;
  if (bytes != NULL)
    {
      self->cached_rw_size = *bytes;
      self->sizes_time = g_get_monotonic_time ();
    }
  ctrd_error_normalize (&error, CTRD_ERROR_STORAGE_ERROR);
  answer_size_waiters (self, error);
  g_clear_error (&error);
}

/* Open to every user, so: off the main loop, one walk per container at a
 * time (later callers share it), and the result kept a few seconds. */
static gboolean
handle_get_sizes (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  g_autoptr (GTask) task = NULL;

  g_ptr_array_add (self->size_waiters, invocation);
  if (self->sizes_walking)
    return TRUE;
  if (self->sizes_time != 0 && g_get_monotonic_time () - self->sizes_time < SIZES_CACHE_USEC)
    {
      answer_size_waiters (self, NULL);
      return TRUE;
    }
  self->sizes_walking = TRUE;
  task = g_task_new (self, NULL, on_sizes_done, NULL);
  g_task_set_task_data (task, upper_dir (self), g_free);
  g_task_run_in_thread (task, sizes_thread);
  return TRUE;
}

/* ---------------------------------------------------------------- Export */

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  int out_fd;
  char *mountpoint;
  char *commit;      /* set when the root must be mounted for the export */
  CtrdStorage *storage;
  char *id;
  CtrdJob *job;
} ExportData;

static void
export_data_free (gpointer user_data)
{
  ExportData *data = user_data;

  if (data->out_fd >= 0)
    close (data->out_fd);
  g_free (data->mountpoint);
  g_free (data->commit);
  g_free (data->id);
  g_clear_object (&data->job);
  g_clear_object (&data->container);
  g_free (data);
}

/* Worker: libpod's export: mount the root if it is not mounted, write the
 * tar walking it fd-relative (so no symlink can lead the copy out of the
 * root, even while the container runs), unmount what was mounted here. */
static void
export_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ExportData *data = task_data;
  GError *error = NULL;
  guint64 bytes = 0;
  gboolean ok;
  int root_fd;

  if (data->commit != NULL)
    {
      g_autofree char *checkout =
          ctrd_storage_ensure_checkout (data->storage, data->commit, cancellable, &error);
      g_autofree char *parent = g_path_get_dirname (data->mountpoint);
      if (checkout == NULL || g_mkdir_with_parents (parent, 0700) < 0 ||
          !ctrd_storage_mount_rootfs (data->storage, data->id, checkout, data->mountpoint,
                                      error == NULL ? &error : NULL))
        {
          if (error == NULL)
            error = g_error_new (CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Cannot prepare %s",
                                 data->mountpoint);
          g_task_return_error (task, error);
          return;
        }
    }
  root_fd = open (data->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd < 0)
    {
      int saved_errno = errno;
      ok = FALSE;
      error = g_error_new (CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Cannot open %s: %s",
                           data->mountpoint, g_strerror (saved_errno));
    }
  else
    {
      ok = ctrd_treewalk_tar_full (root_fd, data->out_fd, &bytes, ctrd_job_progress_func, data->job,
                                 cancellable, &error);
      close (root_fd);
    }
  if (data->commit != NULL)
    {
      g_autoptr (GError) unmount_error = NULL;
      if (!ctrd_storage_unmount_rootfs (data->mountpoint, &unmount_error))
        g_warning ("%s", unmount_error->message);
      else
        {
          /* mounted here only for the copy: leave no empty mount point (nor
           * an empty run dir, for a container never started) */
          g_autofree char *parent = g_path_get_dirname (data->mountpoint);
          g_rmdir (data->mountpoint);
          g_rmdir (parent);
        }
    }
  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        {
          g_clear_error (&error);
          error = g_error_new (CTRD_ERROR, CTRD_ERROR_FAILED,
                               "Export stopped: the reader closed its end");
        }
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  ExportData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (data->commit != NULL)
    finish_operation (self);
  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      ctrd_job_complete (data->job, NULL);
      ctr_container_complete_export (CTR_CONTAINER (self), data->invocation, NULL);
    }
  else
    {
      ctrd_job_complete (data->job, error);
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_STORAGE_ERROR);
    }
}

static void
do_export (GDBusMethodInvocation *invocation, gpointer user_data)
{
  ExportData *data = user_data;
  CtrdContainer *self = data->container;
  g_autoptr (GTask) task = NULL;
  ExportData *owned;

  if (self->removed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s was removed", self->config->name);
      return;
    }
  if (self->op != OP_NONE || self->run.state == CTRD_STATE_REMOVING ||
      self->run.state == CTRD_STATE_STOPPED)
    {
      return_invalid_state (self, invocation, "be exported");
      return;
    }
  /* Hand the data over to the task; the check's destroy frees an empty shell. */
  owned = g_new0 (ExportData, 1);
  *owned = *data;
  data->out_fd = -1;
  data->container = NULL;
  owned->invocation = invocation;
  owned->mountpoint = rootfs_mountpoint (self);
  owned->storage = ctrd_daemon_get_storage (self->daemon);
  owned->id = g_strdup (self->config->id);
  if (self->run.state == CTRD_STATE_CONFIGURED || self->run.state == CTRD_STATE_EXITED)
    {
      CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
      if (image == NULL)
        {
          g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                                 "Container %s: its image is gone",
                                                 self->config->name);
          export_data_free (owned);
          return;
        }
      /* Not running: mount it for the copy, and keep Start away meanwhile. */
      owned->commit = g_strdup (ctrd_image_get_commit (image));
      self->op = OP_EXPORT;
    }
  /* A Job shows the bytes written and lets the caller (or root) cancel. */
  owned->job = ctrd_job_new (self->daemon, "export", self->object_path, invocation,
                             CTRD_ACTION_CONTAINER_EXEC);
  task = g_task_new (self, ctrd_job_get_cancellable (owned->job), on_export_done, NULL);
  g_task_set_task_data (task, owned, export_data_free);
  g_task_run_in_thread (task, export_thread);
}

static gboolean
handle_export (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
               GVariant *fd_handle)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  ExportData *data = g_new0 (ExportData, 1);

  data->out_fd = -1;
  if ((fd_list != NULL && g_unix_fd_list_get_length (fd_list) != 1) ||
      !get_handle_fd (fd_list, fd_handle, TRUE, "Export fd", &data->out_fd, &error))
    {
      if (error == NULL)
        error = g_error_new_literal (CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                     "Export takes exactly one file descriptor");
      export_data_free (data);
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  data->container = g_object_ref (self);
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_EXEC, "container.name", self->config->name,
                        do_export, data, export_data_free);
  return TRUE;
}

/* ---------------------------------------------------------------- GetLogs, ReadLogs */

static const CtrdOptionSpec log_options[] = {
  { "Follow", "b" },
  { "Tail", "x" },
  { "Since", "t" },
  { "Timestamps", "b" },
};

static char *
log_path (CtrdContainer *self)
{
  g_autofree char *bundle = ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon),
                                                        self->config->id);
  return g_build_filename (bundle, "ctr.log", NULL);
}

/* Whether the run a followed log belongs to is still going, shared with the
 * stream threads: conmon has drained the output before it writes the exit
 * file, so once the exit is recorded the log is complete and a follower can
 * stop, without waiting for conmon itself to go. */
struct _LogLive
{
  gint refcount;
  gint live;
};

static LogLive *
log_live_new (gboolean live)
{
  LogLive *flag = g_new0 (LogLive, 1);

  flag->refcount = 1;
  flag->live = live;
  return flag;
}

static LogLive *
log_live_ref (LogLive *flag)
{
  g_atomic_int_inc (&flag->refcount);
  return flag;
}

static void
log_live_unref (LogLive *flag)
{
  if (flag != NULL && g_atomic_int_dec_and_test (&flag->refcount))
    g_free (flag);
}

static void
log_live_end (LogLive *flag)
{
  if (flag != NULL)
    g_atomic_int_set (&flag->live, FALSE);
}

/* At most this many GetLogs streams at once: each holds a thread. */
#define MAX_LOG_STREAMS 64
static gint active_log_streams;

typedef struct
{
  char *path;
  int out_fd;
  CtrdLogsStreamOptions options;
  guint32 conmon_pid; /* the stream follows while this conmon lives */
  LogLive *live;      /* ... and while the run has not ended */
} LogStream;

static gboolean
conmon_still_writing (gpointer user_data)
{
  LogStream *stream = user_data;

  return g_atomic_int_get (&stream->live->live) && stream->conmon_pid != 0 &&
         ctrd_runtime_pid_alive (stream->conmon_pid);
}

static gpointer
log_stream_thread (gpointer user_data)
{
  LogStream *stream = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_logs_stream (stream->path, stream->out_fd, &stream->options, conmon_still_writing,
                         stream, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    g_message ("Log stream of %s: %s", stream->path, error->message);
  close (stream->out_fd);
  log_live_unref (stream->live);
  g_free (stream->path);
  g_free (stream);
  g_atomic_int_dec_and_test (&active_log_streams);
  return NULL;
}

typedef struct
{
  CtrdContainer *container;
  CtrdLogsStreamOptions options;
} LogCall;

static void
log_call_free (gpointer user_data)
{
  LogCall *call = user_data;

  g_object_unref (call->container);
  g_free (call);
}

static void
do_get_logs (GDBusMethodInvocation *invocation, gpointer user_data)
{
  LogCall *call = user_data;
  CtrdContainer *self = call->container;
  g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  LogStream *stream;
  GThread *thread;
  int fds[2];

  if (g_atomic_int_add (&active_log_streams, 1) >= MAX_LOG_STREAMS)
    {
      g_atomic_int_dec_and_test (&active_log_streams);
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                                             "Container %s: too many log streams are open",
                                             self->config->name);
      return;
    }
  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      int saved_errno = errno;
      g_atomic_int_dec_and_test (&active_log_streams);
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_FAILED,
                                             "Container %s: pipe: %s", self->config->name,
                                             g_strerror (saved_errno));
      return;
    }
  stream = g_new0 (LogStream, 1);
  stream->path = log_path (self);
  stream->out_fd = fds[1];
  stream->options = call->options;
  stream->conmon_pid = is_live_state (self->run.state) ? self->run.conmon_pid : 0;
  if (stream->conmon_pid != 0 && self->log_live == NULL)
    /* running since before the daemon (re)started */
    self->log_live = log_live_new (TRUE);
  stream->live = self->log_live != NULL && stream->conmon_pid != 0 ? log_live_ref (self->log_live)
                                                                  : log_live_new (FALSE);
  /* Its own thread: a followed log may stream for days, which must not
   * hold one of GTask's pool threads. */
  thread = g_thread_try_new ("log-stream", log_stream_thread, stream, &error);
  if (thread == NULL)
    {
      close (fds[0]);
      close (fds[1]);
      log_live_unref (stream->live);
      g_free (stream->path);
      g_free (stream);
      g_atomic_int_dec_and_test (&active_log_streams);
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_FAILED,
                                             "Container %s: %s", self->config->name,
                                             error->message);
      return;
    }
  g_thread_unref (thread);
  g_unix_fd_list_append (fd_list, fds[0], NULL);
  close (fds[0]);
  ctr_container_complete_get_logs (CTR_CONTAINER (self), invocation, fd_list,
                                   g_variant_new_handle (0));
}

static gboolean
handle_get_logs (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                 GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  LogCall *call;

  if (!ctrd_validate_options (options, log_options, G_N_ELEMENTS (log_options), "GetLogs",
                              &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  call = g_new0 (LogCall, 1);
  call->container = g_object_ref (self);
  call->options.tail = -1;
  g_variant_lookup (options, "Follow", "b", &call->options.follow);
  g_variant_lookup (options, "Tail", "x", &call->options.tail);
  g_variant_lookup (options, "Since", "t", &call->options.since_usec);
  g_variant_lookup (options, "Timestamps", "b", &call->options.timestamps);
  if (call->options.tail < -1)
    {
      log_call_free (call);
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "Container %s: Tail must be -1 (all) or at least 0",
                                             self->config->name);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_EXEC, "container.name", self->config->name,
                        do_get_logs, call, log_call_free);
  return TRUE;
}

#define MAX_READ_LOG_LINES 10000

typedef struct
{
  char *path;
  guint64 cursor;
  guint max_lines;
  guint64 next_cursor;
  GDBusMethodInvocation *invocation;
} ReadLogsData;

static void
read_logs_data_free (gpointer user_data)
{
  ReadLogsData *data = user_data;

  g_free (data->path);
  g_free (data);
}

static void
read_logs_thread (GTask *task, gpointer source_object, gpointer task_data,
                  GCancellable *cancellable)
{
  ReadLogsData *data = task_data;
  GError *error = NULL;
  GPtrArray *entries =
      ctrd_logs_read (data->path, data->cursor, data->max_lines, &data->next_cursor, &error);

  if (entries == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_read_logs_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  ReadLogsData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  g_autoptr (GPtrArray) entries = g_task_propagate_pointer (G_TASK (result), &error);
  GVariantBuilder builder;

  if (entries == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tss)"));
  for (guint i = 0; i < entries->len; i++)
    {
      CtrdLogEntry *entry = entries->pdata[i];
      g_variant_builder_add (&builder, "(tss)", entry->time_usec,
                             entry->is_stderr ? "stderr" : "stdout", entry->text);
    }
  ctr_container_complete_read_logs (CTR_CONTAINER (self), data->invocation,
                                    g_variant_builder_end (&builder), data->next_cursor);
}

typedef struct
{
  CtrdContainer *container;
  guint64 cursor;
  guint max_lines;
} ReadLogsCall;

static void
do_read_logs (GDBusMethodInvocation *invocation, gpointer user_data)
{
  ReadLogsCall *call = user_data;
  CtrdContainer *self = call->container;
  ReadLogsData *data = g_new0 (ReadLogsData, 1);
  g_autoptr (GTask) task = g_task_new (self, NULL, on_read_logs_done, NULL);

  data->path = log_path (self);
  data->cursor = call->cursor;
  data->max_lines = call->max_lines;
  data->invocation = invocation;
  g_task_set_task_data (task, data, read_logs_data_free);
  g_task_run_in_thread (task, read_logs_thread);
}

static void
read_logs_call_free (gpointer user_data)
{
  ReadLogsCall *call = user_data;

  g_object_unref (call->container);
  g_free (call);
}

static gboolean
handle_read_logs (CtrContainer *iface, GDBusMethodInvocation *invocation, guint64 cursor,
                  guint max_lines)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  ReadLogsCall *call;

  if (max_lines == 0 || max_lines > MAX_READ_LOG_LINES)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "Container %s: max_lines must be 1 to %d",
                                             self->config->name, MAX_READ_LOG_LINES);
      return TRUE;
    }
  call = g_new0 (ReadLogsCall, 1);
  call->container = g_object_ref (self);
  call->cursor = cursor;
  call->max_lines = max_lines;
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_EXEC, "container.name", self->config->name,
                        do_read_logs, call, read_logs_call_free);
  return TRUE;
}

/* ---------------------------------------------------------------- Commit, GetChanges */

/* Mount points the runtime made in the writable layer: never part of an
 * image or a diff (libpod leaves out the same). */
static char **
runtime_mount_points (CtrdContainer *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add_many (builder, "/etc/resolv.conf", "/etc/hosts", "/etc/hostname",
                           "/run/.containerenv", NULL);
  for (guint i = 0; i < self->config->mounts->len; i++)
    g_strv_builder_add (builder, ((CtrdMount *) self->config->mounts->pdata[i])->destination);
  return g_strv_builder_end (builder);
}

static const CtrdOptionSpec commit_options[] = {
  { "Command", "as" }, { "Entrypoint", "as" }, { "Env", "as" },
  { "Labels", "a{ss}" }, { "Pause", "b" },
};

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  char *name;               /* normalised, or NULL */
  char **command, **entrypoint, **env;
  GHashTable *labels;
  gboolean pause;
  gboolean paused_here;     /* Commit froze the container and must thaw it */
  char *base_commit;
  char *upper;
  char **exclude;
  CtrdJob *job;
  CtrdImportResult *result;
  char *image_path; /* the new image, once published */
} CommitData;

static void
commit_data_free (gpointer user_data)
{
  CommitData *data = user_data;

  g_free (data->name);
  g_strfreev (data->command);
  g_strfreev (data->entrypoint);
  g_strfreev (data->env);
  g_clear_pointer (&data->labels, g_hash_table_unref);
  g_free (data->base_commit);
  g_free (data->upper);
  g_strfreev (data->exclude);
  g_clear_object (&data->job);
  g_clear_pointer (&data->result, ctrd_import_result_free);
  g_free (data->image_path);
  g_clear_object (&data->container);
  g_free (data);
}

static void
commit_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  CommitData *data = task_data;
  CtrdContainer *self = data->container;
  CtrdCommitOptions options = { 0 };
  GError *error = NULL;

  options.command = (const char *const *) data->command;
  options.entrypoint = (const char *const *) data->entrypoint;
  options.env = (const char *const *) data->env;
  options.labels = data->labels;
  options.exclude_paths = (const char *const *) data->exclude;
  data->result = ctrd_storage_commit_container (ctrd_daemon_get_storage (self->daemon),
                                                data->base_commit, data->upper, &options,
                                                cancellable, &error);
  if (data->result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* The container is thawed again: close the job, then answer. */
static void
commit_finish (CommitData *data, GError *error)
{
  CtrdContainer *self = data->container;

  finish_operation (self);
  if (data->job != NULL)
    ctrd_job_complete (data->job, error);
  if (error != NULL)
    {
      g_prefix_error (&error, "Container %s: commit: ", self->config->name);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_STORAGE_ERROR);
    }
  else
    ctr_container_complete_commit (CTR_CONTAINER (self), data->invocation, data->image_path);
  commit_data_free (data);
}

static void
on_commit_thawed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CommitData *data = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_runtime_pause_finish (ctrd_daemon_get_runtime (data->container->daemon), result,
                                  &error))
    g_warning ("Container %s: %s", data->container->config->name, error->message);
  commit_finish (data, NULL);
}

static void
on_commit_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CommitData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;
  CtrdImage *image = NULL;
  const char *names[] = { data->name, NULL };

  if (g_task_propagate_boolean (G_TASK (result), &error))
    image = ctrd_image_publish (self->daemon, data->result, data->name != NULL ? names : NULL,
                                &error);
  if (image != NULL)
    {
      g_message ("Committed container %s as image %.12s", self->config->name,
                 ctrd_image_get_id (image));
      if (data->job != NULL)
        ctrd_job_set_object (data->job, ctrd_image_get_object_path (image));
      emit_event (self, "commit");
      data->image_path = g_strdup (ctrd_image_get_object_path (image));
    }
  if (data->paused_here)
    {
      /* Thawed whatever happened; the answer waits for the state to be right. */
      if (image == NULL)
        {
          commit_finish (data, error);
          ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                                    FALSE, NULL, NULL, NULL);
          return;
        }
      ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, FALSE,
                                NULL, on_commit_thawed, data);
      return;
    }
  commit_finish (data, image == NULL ? error : NULL);
}

static void
run_commit_thread (CommitData *data)
{
  g_autoptr (GTask) task =
      g_task_new (data->container, data->job != NULL ? ctrd_job_get_cancellable (data->job) : NULL,
                  on_commit_done, data);

  g_task_set_task_data (task, data, NULL);
  g_task_run_in_thread (task, commit_thread);
}

static void
on_commit_frozen (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CommitData *data = user_data;
  GError *error = NULL;

  if (!ctrd_runtime_pause_finish (ctrd_daemon_get_runtime (data->container->daemon), result,
                                  &error))
    {
      commit_finish (data, error);
      return;
    }
  data->paused_here = TRUE;
  run_commit_thread (data);
}

static void
do_commit (GDBusMethodInvocation *invocation, gpointer user_data)
{
  CommitData *data = user_data;
  CtrdContainer *self = data->container;
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  CommitData *owned;

  if (self->removed || image == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s or its image was removed",
                                             self->config->name);
      return;
    }
  if (self->op != OP_NONE || self->run.state == CTRD_STATE_REMOVING)
    {
      return_invalid_state (self, invocation, "be committed");
      return;
    }
  /* The check's destroy frees what is left behind in @data. */
  owned = g_new0 (CommitData, 1);
  *owned = *data;
  memset (data, 0, sizeof *data);
  owned->invocation = invocation;
  owned->base_commit = g_strdup (ctrd_image_get_commit (image));
  owned->upper = upper_dir (self);
  owned->exclude = runtime_mount_points (self);
  owned->job = ctrd_job_new (self->daemon, "commit", self->object_path, invocation,
                             CTRD_ACTION_CONTAINER_CREATE);
  self->op = OP_COMMIT;
  if (owned->pause && self->run.state == CTRD_STATE_RUNNING)
    ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE,
                              NULL, on_commit_frozen, owned);
  else
    run_commit_thread (owned);
}

static gboolean
handle_commit (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *image_name,
               GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  CommitData *data = g_new0 (CommitData, 1);
  g_autoptr (GVariant) labels = NULL;
  g_autofree const char **env = NULL;

  data->pause = TRUE;
  if (!ctrd_validate_options (options, commit_options, G_N_ELEMENTS (commit_options), "Commit",
                              &error) ||
      (*image_name != '\0' &&
       (data->name = ctrd_normalize_image_name (image_name, &error)) == NULL))
    {
      commit_data_free (data);
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  g_variant_lookup (options, "Command", "^as", &data->command);
  g_variant_lookup (options, "Entrypoint", "^as", &data->entrypoint);
  g_variant_lookup (options, "Pause", "b", &data->pause);
  if (g_variant_lookup (options, "Env", "^a&s", &env))
    {
      if (!ctrd_validate_env (env, &error))
        {
          commit_data_free (data);
          g_prefix_error (&error, "Container %s: ", self->config->name);
          ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
          return TRUE;
        }
      data->env = g_strdupv ((char **) env);
    }
  labels = g_variant_lookup_value (options, "Labels", G_VARIANT_TYPE ("a{ss}"));
  if (labels != NULL)
    {
      GVariantIter iter;
      const char *key, *value;
      data->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_variant_iter_init (&iter, labels);
      while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
        g_hash_table_insert (data->labels, g_strdup (key), g_strdup (value));
    }
  data->container = g_object_ref (self);
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_CREATE, "container.name", self->config->name,
                        do_commit, data, commit_data_free);
  return TRUE;
}

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  char *commit;
  char *upper;
  char **exclude;
} ChangesData;

static void
changes_data_free (gpointer user_data)
{
  ChangesData *data = user_data;

  g_clear_object (&data->container);
  g_free (data->commit);
  g_free (data->upper);
  g_strfreev (data->exclude);
  g_free (data);
}

static void
changes_thread (GTask *task, gpointer source_object, gpointer task_data,
                GCancellable *cancellable)
{
  ChangesData *data = task_data;
  GError *error = NULL;
  GPtrArray *changes = ctrd_storage_list_changes (
      ctrd_daemon_get_storage (data->container->daemon), data->commit, data->upper,
      (const char *const *) data->exclude, cancellable, &error);

  if (changes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, changes, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_changes_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ChangesData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  g_autoptr (GPtrArray) changes = g_task_propagate_pointer (G_TASK (result), &error);
  GVariantBuilder builder;

  if (changes == NULL)
    {
      ctrd_return_error (data->invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ss)"));
  for (guint i = 0; i < changes->len; i++)
    {
      CtrdChange *change = changes->pdata[i];
      char kind[2] = { change->kind, '\0' };
      g_variant_builder_add (&builder, "(ss)", kind, change->path);
    }
  ctr_container_complete_get_changes (CTR_CONTAINER (source), data->invocation,
                                      g_variant_builder_end (&builder));
}

static void
do_get_changes (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  ChangesData *data;
  g_autoptr (GTask) task = NULL;

  if (image == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s: its image is gone",
                                             self->config->name);
      return;
    }
  data = g_new0 (ChangesData, 1);
  data->container = g_object_ref (self);
  data->invocation = invocation;
  data->commit = g_strdup (ctrd_image_get_commit (image));
  data->upper = upper_dir (self);
  data->exclude = runtime_mount_points (self);
  task = g_task_new (self, NULL, on_changes_done, NULL);
  g_task_set_task_data (task, data, changes_data_free);
  g_task_run_in_thread (task, changes_thread);
}

static gboolean
handle_get_changes (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_EXEC, do_get_changes,
                  NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- Verify */

static void
verify_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  CtrdContainer *self = source_object;
  const char *commit = task_data;
  CtrdStorage *storage = ctrd_daemon_get_storage (self->daemon);
  GError *error = NULL;
  GPtrArray *modified = ctrd_storage_verify_checkout (storage, commit, cancellable, &error);

  if (modified == NULL && g_error_matches (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND))
    {
      /* Never started here: check the image out first; it is what the
       * container will run. */
      g_autofree char *checkout = NULL;
      g_clear_error (&error);
      checkout = ctrd_storage_ensure_checkout (storage, commit, cancellable, &error);
      if (checkout != NULL)
        modified = ctrd_storage_verify_checkout (storage, commit, cancellable, &error);
    }
  if (modified == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, modified, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_verify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;
  g_autoptr (GPtrArray) modified = g_task_propagate_pointer (G_TASK (result), &error);

  if (modified == NULL)
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  if (modified->len > 0)
    g_warning ("Container %s: %u files of its image checkout were modified",
               CTRD_CONTAINER (source)->config->name, modified->len);
  g_ptr_array_add (modified, NULL);
  ctr_container_complete_verify (CTR_CONTAINER (source), invocation,
                                 (const char *const *) modified->pdata);
}

static void
do_verify (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  g_autoptr (GTask) task = NULL;

  if (image == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s: its image is gone",
                                             self->config->name);
      return;
    }
  task = g_task_new (self, NULL, on_verify_done, invocation);
  g_task_set_task_data (task, g_strdup (ctrd_image_get_commit (image)), g_free);
  g_task_run_in_thread (task, verify_thread);
}

static gboolean
handle_verify (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_verify,
                  NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- Rebase, Rollback */

static void
publish_image (CtrdContainer *self)
{
  g_autofree char *image_path = ctrd_image_path_for_id (self->config->image_id);
  g_autofree char *previous_path = *self->config->previous_image_id != '\0'
                                       ? ctrd_image_path_for_id (self->config->previous_image_id)
                                       : g_strdup ("/");

  g_object_freeze_notify (G_OBJECT (self));
  ctr_container_set_image (CTR_CONTAINER (self), image_path);
  ctr_container_set_image_name (CTR_CONTAINER (self), self->config->image_name);
  ctr_container_set_previous_image (CTR_CONTAINER (self), previous_path);
  g_object_thaw_notify (G_OBJECT (self));
}

/* Moves the container onto @image keeping its writable layer and config
 * (the next start mounts the overlay on the new image's checkout); the old
 * image becomes PreviousImage. Written to the database first. */
static gboolean
switch_image (CtrdContainer *self, CtrdImage *image, const char *image_name, const char *event,
              GError **error)
{
  g_autofree char *old_id = g_strdup (self->config->image_id);
  g_autofree char *old_name = g_strdup (self->config->image_name);
  g_autofree char *old_previous = g_strdup (self->config->previous_image_id);

  g_free (self->config->previous_image_id);
  self->config->previous_image_id = g_strdup (old_id);
  g_free (self->config->image_id);
  self->config->image_id = g_strdup (ctrd_image_get_id (image));
  g_free (self->config->image_name);
  self->config->image_name = g_strdup (image_name);
  if (!ctrd_db_update_container_config (ctrd_daemon_get_db (self->daemon), self->config, error))
    {
      g_free (self->config->previous_image_id);
      self->config->previous_image_id = g_steal_pointer (&old_previous);
      g_free (self->config->image_id);
      self->config->image_id = g_steal_pointer (&old_id);
      g_free (self->config->image_name);
      self->config->image_name = g_steal_pointer (&old_name);
      return FALSE;
    }
  publish_image (self);
  ctrd_daemon_update_image_containers (self->daemon, old_id);
  ctrd_daemon_update_image_containers (self->daemon, self->config->image_id);
  g_message ("Container %s moved from image %.12s to %.12s (%s)", self->config->name, old_id,
             self->config->image_id, event);
  emit_event (self, event);
  return TRUE;
}

static gboolean
can_switch_image (CtrdContainer *self, GDBusMethodInvocation *invocation, const char *what)
{
  if (self->removed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s was removed", self->config->name);
      return FALSE;
    }
  /* The root is an overlay on the image: it can only move while unmounted. */
  if (self->op != OP_NONE ||
      (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED))
    {
      g_dbus_method_invocation_return_error (
          invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
          "Container %s cannot %s while it is %s: stop it first", self->config->name, what,
          self->op != OP_NONE ? "busy" : ctrd_state_to_string (self->run.state));
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  CtrdContainer *container;
  char *reference;
} RebaseData;

static void
rebase_data_free (gpointer user_data)
{
  RebaseData *data = user_data;

  g_object_unref (data->container);
  g_free (data->reference);
  g_free (data);
}

static void
do_rebase (GDBusMethodInvocation *invocation, gpointer user_data)
{
  RebaseData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;
  CtrdImage *image;

  if (!can_switch_image (self, invocation, "be rebased"))
    return;
  /* Looked up again: it may have gone while polkit was asked. */
  image = ctrd_daemon_find_image (self->daemon, data->reference, &error);
  if (image == NULL)
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_NOT_FOUND);
      return;
    }
  if (g_str_equal (ctrd_image_get_id (image), self->config->image_id))
    {
      ctr_container_complete_rebase (CTR_CONTAINER (self), invocation);
      return;
    }
  if (!switch_image (self, image, data->reference, "rebase", &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  ctr_container_complete_rebase (CTR_CONTAINER (self), invocation);
}

static gboolean
handle_rebase (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *reference,
               GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  RebaseData *data;

  if (!ctrd_validate_options (options, NULL, 0, "Rebase", &error) ||
      ctrd_daemon_find_image (self->daemon, reference, &error) == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  data = g_new0 (RebaseData, 1);
  data->container = g_object_ref (self);
  data->reference = g_strdup (reference);
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), invocation,
                        CTRD_ACTION_CONTAINER_MANAGE, "container.name", self->config->name,
                        do_rebase, data, rebase_data_free);
  return TRUE;
}

static void
do_rollback (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  GError *error = NULL;
  CtrdImage *previous;
  g_autofree char *name = NULL;

  if (*self->config->previous_image_id == '\0')
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                             "Container %s has no previous image to roll back to",
                                             self->config->name);
      return;
    }
  if (!can_switch_image (self, invocation, "be rolled back"))
    return;
  previous = ctrd_daemon_get_image_by_id (self->daemon, self->config->previous_image_id);
  if (previous == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s: its previous image %.12s is gone",
                                             self->config->name, self->config->previous_image_id);
      return;
    }
  /* Like rpm-ostree rollback: the two swap, so a second Rollback undoes it. */
  name = g_strdup (ctrd_image_get_record (previous)->names[0] != NULL
                       ? ctrd_image_get_record (previous)->names[0]
                       : ctrd_image_get_id (previous));
  if (!switch_image (self, previous, name, "rollback", &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  ctr_container_complete_rollback (CTR_CONTAINER (self), invocation);
}

static gboolean
handle_rollback (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE, do_rollback,
                  NULL);
  return TRUE;
}

const char *
ctrd_container_get_previous_image_id (CtrdContainer *self)
{
  return self->config->previous_image_id;
}

static void
ctrd_container_iface_init (CtrContainerIface *iface)
{
  iface->handle_start = handle_start;
  iface->handle_stop = handle_stop;
  iface->handle_kill = handle_kill;
  iface->handle_remove = handle_remove;
  iface->handle_wait = handle_wait;
  iface->handle_pause = handle_pause;
  iface->handle_unpause = handle_unpause;
  iface->handle_restart = handle_restart;
  iface->handle_rename = handle_rename;
  iface->handle_inspect = handle_inspect;
  iface->handle_exec = handle_exec;
  iface->handle_get_sizes = handle_get_sizes;
  iface->handle_export = handle_export;
  iface->handle_get_logs = handle_get_logs;
  iface->handle_read_logs = handle_read_logs;
  iface->handle_commit = handle_commit;
  iface->handle_get_changes = handle_get_changes;
  iface->handle_verify = handle_verify;
  iface->handle_rebase = handle_rebase;
  iface->handle_rollback = handle_rollback;
}
