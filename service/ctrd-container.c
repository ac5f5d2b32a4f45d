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

#include "ctrd-container.h"
#include "ctrd-error.h"
#include "ctrd-image.h"
#include "ctrd-spec.h"
#include "ctrd-util.h"

typedef enum
{
  OP_NONE,
  OP_START,
  OP_CLEANUP,
  OP_REMOVE,
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
  GDBusMethodInvocation *op_invocation; /* the Start or Remove being served */
  GPtrArray *waiters;      /* Wait invocations, answered at the exit */
  GPtrArray *stoppers;     /* Stop invocations, answered once cleaned up */
  GDBusMethodInvocation *remove_after_stop; /* Remove(force) waiting for the exit */
  guint kill_timeout_id;   /* SIGKILL when the stop timeout runs out */
  gboolean removed;        /* gone from the daemon; late callers get NotFound */
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
  g_clear_pointer (&self->waiters, g_ptr_array_unref);
  g_clear_pointer (&self->stoppers, g_ptr_array_unref);
  g_free (self->object_path);
  G_OBJECT_CLASS (ctrd_container_parent_class)->finalize (object);
}

static void
ctrd_container_init (CtrdContainer *self)
{
  self->waiters = g_ptr_array_new ();
  self->stoppers = g_ptr_array_new ();
}

static void
ctrd_container_class_init (CtrdContainerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_container_finalize;
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

CtrdContainer *
ctrd_container_new (CtrdDaemon *daemon, CtrdContainerConfig *config, const CtrdRunState *run)
{
  CtrdContainer *self = g_object_new (CTRD_TYPE_CONTAINER, NULL);
  CtrContainer *iface = CTR_CONTAINER (self);
  g_auto (GStrv) argv = ctrd_container_config_get_argv (config);
  g_autofree char *image_path = ctrd_image_path_for_id (config->image_id);
  GVariantBuilder labels;
  GHashTableIter iter;
  gpointer key, value;

  self->daemon = daemon;
  self->config = config;
  self->run = *run;
  self->object_path = ctrd_container_path_for_id (config->id);

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

static void
return_error (GDBusMethodInvocation *invocation, GError *error, CtrdError fallback)
{
  ctrd_error_normalize (&error, fallback);
  g_dbus_method_invocation_return_gerror (invocation, error);
}

static gboolean
return_invalid_state (CtrdContainer *self, GDBusMethodInvocation *invocation, const char *what)
{
  static const char *const op_names[] = { "idle", "starting", "cleaning up", "being removed" };

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
static void start_removal (CtrdContainer *self, GDBusMethodInvocation *invocation);

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
  next.state = CTRD_STATE_STOPPED;
  next.pid = 0;
  next.exit_code = exit_code;
  next.finished_at = finished_at;
  save_run_state_or_warn (self, &next);
  g_message ("Container %s (%.12s) exited with code %d", self->config->name, self->config->id,
             exit_code);
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
}

static void
on_cleanup_delete_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_runtime_delete_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
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
      if (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED)
        {
          CtrdRunState next = self->run;
          next.state = CTRD_STATE_EXITED;
          next.pid = 0;
          next.conmon_pid = 0;
          save_run_state_or_warn (self, &next);
        }
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
  char *id;
  char *commit;
  char *run_dir;
  char *rootfs;
  char *bundle_dir;
  char *hostname;
  char **argv;
  char **env;
  char *cwd;
} PrepareData;

static void
prepare_data_free (PrepareData *data)
{
  g_free (data->id);
  g_free (data->commit);
  g_free (data->run_dir);
  g_free (data->rootfs);
  g_free (data->bundle_dir);
  g_free (data->hostname);
  g_strfreev (data->argv);
  g_strfreev (data->env);
  g_free (data->cwd);
  g_free (data);
}

/* Worker thread: libpod's mountStorage + generateSpec + saveSpec. */
static void
prepare_thread (GTask *task, gpointer source_object, gpointer task_data,
                GCancellable *cancellable)
{
  PrepareData *data = task_data;
  GError *error = NULL;
  g_autofree char *checkout = NULL;
  g_autofree char *spec_path = NULL;
  g_autofree char *cgroups_path = NULL;
  CtrdSpecParams params = { 0 };

  if (g_mkdir_with_parents (data->run_dir, 0700) < 0)
    {
      int saved_errno = errno;
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                               "Cannot create %s: %s", data->run_dir, g_strerror (saved_errno));
      return;
    }
  checkout = ctrd_storage_ensure_checkout (data->storage, data->commit, cancellable, &error);
  if (checkout == NULL ||
      !ctrd_storage_mount_rootfs (data->storage, data->id, checkout, data->rootfs, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  cgroups_path = g_strconcat ("/containersd/", data->id, NULL);
  params.id = data->id;
  params.hostname = data->hostname;
  params.rootfs = data->rootfs;
  params.argv = (const char *const *) data->argv;
  params.env = (const char *const *) data->env;
  params.cwd = data->cwd;
  params.cgroups_path = cgroups_path;
  spec_path = g_build_filename (data->bundle_dir, "config.json", NULL);
  if (!ctrd_spec_write (&params, spec_path, &error))
    {
      g_autoptr (GError) unmount_error = NULL;
      if (!ctrd_storage_unmount_rootfs (data->rootfs, &unmount_error))
        g_warning ("%s", unmount_error->message);
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
  GDBusMethodInvocation *invocation = g_steal_pointer (&self->op_invocation);
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
  return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
}

static void
on_runtime_start_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  CtrdRunState next = self->run;

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
  emit_event (self, "start");
  ctr_container_complete_start (CTR_CONTAINER (self), g_steal_pointer (&self->op_invocation));
  finish_operation (self);
}

static void
on_runtime_create_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  CtrdRunState next = self->run;
  guint32 pid = 0, conmon_pid = 0;

  if (!ctrd_runtime_create_finish (ctrd_daemon_get_runtime (self->daemon), result, &pid, &conmon_pid, &error))
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
                             self->config->name, bundle, log_path, NULL, on_runtime_create_done,
                             g_object_ref (self));
}

static void
start_prepare (CtrdContainer *self)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
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
  data->id = g_strdup (self->config->id);
  data->commit = g_strdup (ctrd_image_get_commit (image));
  data->run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  data->rootfs = rootfs_mountpoint (self);
  data->bundle_dir = ctrd_storage_container_dir (data->storage, self->config->id);
  data->hostname = g_strdup (self->config->hostname);
  data->argv = ctrd_container_config_get_argv (self->config);
  data->env = g_strdupv (self->config->env);
  data->cwd = g_strdup (self->config->working_dir);

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

static void
do_start (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  if (self->op == OP_NONE && self->run.state == CTRD_STATE_RUNNING)
    {
      /* like libpod's initAndStart: a running container is left alone. */
      ctr_container_complete_start (CTR_CONTAINER (self), invocation);
      return;
    }
  if (self->op != OP_NONE ||
      (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED &&
       self->run.state != CTRD_STATE_STOPPED))
    {
      return_invalid_state (self, invocation, "start");
      return;
    }

  self->op = OP_START;
  self->op_invocation = invocation;
  self->stop_requested = FALSE;
  if (self->run.state == CTRD_STATE_STOPPED)
    /* libpod's reinit: remove it from the runtime before creating it again. */
    ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE,
                               NULL, on_reinit_delete_done, g_object_ref (self));
  else
    start_prepare (self);
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
static gboolean
begin_stop (CtrdContainer *self, guint timeout, GError **error)
{
  CtrdRunState next = self->run;

  next.state = CTRD_STATE_STOPPING;
  if (!save_run_state (self, &next, error))
    return FALSE;
  self->stop_requested = TRUE;
  if (timeout == 0)
    {
      ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL,
                               TRUE, NULL, on_kill_logged, g_object_ref (self));
      return TRUE;
    }
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           self->config->stop_signal, FALSE, NULL, on_kill_logged,
                           g_object_ref (self));
  self->kill_timeout_id = g_timeout_add_seconds (timeout, on_stop_timeout, self);
  return TRUE;
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
          return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
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
    return_error (data->invocation, error, CTRD_ERROR_RUNTIME_ERROR);
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
      return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
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
  GDBusMethodInvocation *invocation = g_steal_pointer (&self->op_invocation);

  /* The state stays "removing" in the database, so the next daemon start
   * finishes the job; this one lets the caller try again. */
  g_warning ("Container %s: removal failed: %s", self->config->name, error->message);
  self->op = OP_NONE;
  if (invocation != NULL)
    return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
  else
    g_error_free (error);
}

static void
on_remove_dirs_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  GDBusMethodInvocation *invocation;

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
  invocation = g_steal_pointer (&self->op_invocation);
  fail_pending_calls (self);
  emit_event (self, "remove");
  self->op = OP_NONE;
  if (invocation != NULL)
    ctr_container_complete_remove (CTR_CONTAINER (self), invocation);
  self->removed = TRUE;
  ctrd_daemon_remove_container (self->daemon, self);
}

static void
remove_dirs_thread (GTask *task, gpointer source_object, gpointer task_data,
                    GCancellable *cancellable)
{
  CtrdContainer *self = source_object;
  GError *error = NULL;
  g_autofree char *mountpoint = NULL;
  g_autofree char *run_dir = NULL;

  /* Read-only fields only: the config never changes after creation. */
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
  /* The run dir holds only conmon's small files and the (now unmounted) root. */
  if (g_file_test (mountpoint, G_FILE_TEST_IS_DIR) && g_rmdir (mountpoint) < 0)
    g_debug ("rmdir %s: %s", mountpoint, g_strerror (errno));
  g_task_return_boolean (task, TRUE);
}

static void
on_remove_delete_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  g_autoptr (GTask) task = NULL;

  if (!ctrd_runtime_delete_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      removal_failed (self, error);
      return;
    }
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  task = g_task_new (self, NULL, on_remove_dirs_done, g_object_ref (self));
  g_task_run_in_thread (task, remove_dirs_thread);
}

/* libpod's removeContainer for a container that is not running. */
static void
start_removal (CtrdContainer *self, GDBusMethodInvocation *invocation)
{
  CtrdRunState next = self->run;
  GError *error = NULL;

  next.state = CTRD_STATE_REMOVING;
  if (!save_run_state (self, &next, &error))
    {
      if (invocation != NULL)
        return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      else
        g_error_free (error);
      return;
    }
  self->op = OP_REMOVE;
  self->op_invocation = invocation;
  ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                             on_remove_delete_done, g_object_ref (self));
}

static gboolean do_remove_now (CtrdContainer *self, GDBusMethodInvocation *invocation,
                               gboolean force);

static void
do_remove (CtrdContainer *self, GDBusMethodInvocation *invocation, CallData *call)
{
  do_remove_now (self, invocation, call->force);
}

static gboolean
handle_remove (CtrContainer *iface, GDBusMethodInvocation *invocation, gboolean force,
               gboolean remove_volumes)
{
  CallData call = { .force = force };

  authorize_then (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_CREATE, do_remove,
                  &call);
  return TRUE;
}

static gboolean
do_remove_now (CtrdContainer *self, GDBusMethodInvocation *invocation, gboolean force)
{
  GError *error = NULL;

  /* remove_volumes: containers have no anonymous volumes yet, so there is
   * nothing more to remove. */
  if (self->op == OP_CLEANUP && self->remove_after_stop == NULL)
    {
      /* It has just exited: remove it as soon as the cleanup is done. */
      self->remove_after_stop = invocation;
      return TRUE;
    }
  if (self->op != OP_NONE || self->remove_after_stop != NULL)
    return return_invalid_state (self, invocation, "be removed");

  switch (self->run.state)
    {
    case CTRD_STATE_CONFIGURED:
    case CTRD_STATE_EXITED:
    case CTRD_STATE_STOPPED:
      start_removal (self, invocation);
      return TRUE;
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
    case CTRD_STATE_PAUSED:
    case CTRD_STATE_STOPPING:
      if (!force)
        {
          g_dbus_method_invocation_return_error (
              invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
              "Container %s is %s: stop it first or remove it with force", self->config->name,
              ctrd_state_to_string (self->run.state));
          return TRUE;
        }
      /* like podman rm -f: kill at once, remove once it has exited. */
      if (self->run.state != CTRD_STATE_STOPPING)
        {
          if (!begin_stop (self, 0, &error))
            {
              return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
              return TRUE;
            }
        }
      else
        {
          g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
          on_stop_timeout (self);
        }
      self->remove_after_stop = invocation;
      return TRUE;
    case CTRD_STATE_REMOVING:
    default:
      return return_invalid_state (self, invocation, "be removed");
    }
}

static void
ctrd_container_iface_init (CtrContainerIface *iface)
{
  iface->handle_start = handle_start;
  iface->handle_stop = handle_stop;
  iface->handle_kill = handle_kill;
  iface->handle_remove = handle_remove;
  iface->handle_wait = handle_wait;
}
