/* ctrd-container-lifecycle.c: the container's lifecycle methods: Start
 * (dependencies first), Stop, Kill, Wait, Remove, Pause, Unpause, Restart;
 * the seed's init / start / stop / removeContainer. */
#include "config.h"

#include <signal.h>

#include <glib/gstdio.h>

#include "ctrd-bind-source.h"
#include "ctrd-bundle.h"
#include "ctrd-container-private.h"
#include "ctrd-crash-point.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image.h"
#include "ctrd-util.h"
#include "ctrd-volume-object.h"

static void begin_start (CtrdContainer *self, GTask *task, gboolean restart);

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
  char **allowed_bind_sources;
  char **protected_dirs; /* the storage and run roots */
  CtrdContainerNetworkStart network;
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
  g_strfreev (data->allowed_bind_sources);
  g_strfreev (data->protected_dirs);
  ctrd_container_network_start_clear (&data->network);
  g_free (data);
}

/* The bundle's parts, in the worker (ctrd_bundle_prepare). */
static gboolean
prepare_bundle (PrepareData *data, GCancellable *cancellable, GError **error)
{
  CtrdBundleRequest request = { 0 };

  request.config = data->config;
  request.volumes = data->volumes;
  request.rootfs = data->rootfs;
  request.run_dir = data->run_dir;
  request.bundle_dir = data->bundle_dir;
  request.hooks_dirs = (const char *const *) data->hooks_dirs;
  request.network_status = data->network.status;
  request.dns_enabled = data->network.network != NULL && data->network.network->dns_enabled;
  request.netns_path = data->network.netns_path;
  request.host_network = data->network.host_network;
  return ctrd_bundle_prepare (&request, cancellable, error);
}

/* Where the bind sources opened at this start are mounted for the runtime:
 * in the container's run dir, which only root can reach. */
static char *
bind_staging_dir (const char *run_dir)
{
  return g_build_filename (run_dir, "binds", NULL);
}

/* The bind sources, opened and checked again now, mounted from their fds
 * for the runtime: what the caller's paths name by now does not matter.
 * They are opened with the Owner's rights as well (its uid as recorded,
 * its groups as the user database has them now: whoever starts it, an
 * administrator with manage-others or the restart policy, a container
 * binds only what its owner may still read). */
static gboolean
stage_bind_sources (PrepareData *data, GError **error)
{
  g_autofree char *staging_dir = bind_staging_dir (data->run_dir);
  g_autoptr (CtrdCaller) owner = NULL;
  CtrdBindRules rules = {
    .allowed = (const char *const *) data->allowed_bind_sources,
    .protected_dirs = (const char *const *) data->protected_dirs,
  };
  gboolean any_bind = FALSE;

  for (guint i = 0; i < data->config->mounts->len && !any_bind; i++)
    any_bind = ((CtrdMount *) g_ptr_array_index (data->config->mounts, i))->type == CTRD_MOUNT_BIND;
  if (any_bind && data->config->owner != 0)
    {
      owner = ctrd_caller_new_from_user_db (data->config->owner, error);
      if (owner == NULL)
        {
          g_prefix_error (error, "Owner of the bind mounts: ");
          return FALSE;
        }
      rules.caller = owner;
    }

  return ctrd_bind_sources_stage (data->config->mounts, &rules, data->config->host_access,
                                  staging_dir, error);
}

/* Once the runtime made the container's mounts (or failed to): the staging
 * mounts are not needed any more. Blocks briefly (umount2 MNT_DETACH). */
static void
unstage_bind_sources (CtrdContainer *self)
{
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *staging_dir = bind_staging_dir (run_dir);

  ctrd_bind_sources_unstage (staging_dir);
}

/* Worker thread: libpod's mountStorage, then the rest of its init. */
static void
prepare_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  PrepareData *data = task_data;
  GError *error = NULL;
  g_autofree char *checkout = NULL;

  if (g_mkdir_with_parents (data->run_dir, 0700) < 0)
    {
      ctrd_throw_errno (&error, "Cannot create %s", data->run_dir);
      g_task_return_error (task, error);
      return;
    }
  checkout = ctrd_storage_ensure_checkout (data->storage, data->image_commit, cancellable, &error);
  if (checkout == NULL ||
      !ctrd_storage_mount_rootfs (data->storage, data->config->id, checkout, data->rootfs, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (data->network.netavark != NULL &&
      !ctrd_container_network_start_attach (data->config, &data->network, cancellable, &error))
    {
      g_autoptr (GError) unmount_error = NULL;
      if (!ctrd_storage_unmount_rootfs (data->rootfs, &unmount_error))
        g_warning ("%s", unmount_error->message);
      g_prefix_error (&error, "Container %s: ", data->config->name);
      g_task_return_error (task, error);
      return;
    }
  if (!stage_bind_sources (data, &error) || !prepare_bundle (data, cancellable, &error))
    {
      g_autoptr (GError) unmount_error = NULL;
      ctrd_container_network_start_undo (data->config, &data->network);
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
  g_autofree char *mountpoint = ctrd_container_rootfs_mountpoint (self);
  g_autoptr (GError) unmount_error = NULL;
  g_autoptr (GTask) task = g_steal_pointer (&self->start_task);
  CtrdRunState next = self->run;

  g_warning ("Container %s: start failed: %s", self->config->name, error->message);
  ctrd_container_unwatch_monitor (self);
  unstage_bind_sources (self);
  if (runtime_created)
    ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                               NULL, NULL);
  if (!ctrd_storage_unmount_rootfs (mountpoint, &unmount_error))
    g_warning ("Container %s: %s", self->config->name, unmount_error->message);
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);

  if (self->run.state != CTRD_STATE_CONFIGURED)
    {
      next.state = CTRD_STATE_EXITED;
      next.pid = 0;
      next.conmon_pid = 0;
      ctrd_container_save_run_state_or_warn (self, &next);
    }
  self->op = CTRD_OP_NONE;
  self->exit_pending = FALSE;
  ctrd_container_network_start_failed (self);
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
  ctrd_crash_point ("start-started");
  next.state = CTRD_STATE_RUNNING;
  next.started_at = ctrd_now_usec ();
  next.finished_at = 0;
  next.exit_code = 0;
  if (!ctrd_container_save_run_state (self, &next, &error))
    {
      /* It runs, but the database could not say so: stop it rather than
       * leave a container that a restart would not know about. */
      ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL,
                               TRUE, NULL, NULL, NULL);
      fail_start (self, error, TRUE);
      return;
    }
  ctr_container_set_oomkilled (CTR_CONTAINER (self), FALSE);
  ctrd_container_emit_event (self, self->start_is_restart ? "restart" : "start");
  task = g_steal_pointer (&self->start_task);
  ctrd_container_finish_operation (self);
  g_task_return_boolean (task, TRUE);
}

static void
on_runtime_create_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  GError *error = NULL;
  CtrdRunState next = self->run;
  guint32 pid = 0, conmon_pid = 0;

  unstage_bind_sources (self);
  if (!ctrd_runtime_create_finish (ctrd_daemon_get_runtime (self->daemon), result, &pid,
                                   &conmon_pid, &error))
    {
      fail_start (self, error, TRUE);
      return;
    }
  ctrd_crash_point ("start-created");
  next.state = CTRD_STATE_CREATED;
  next.pid = pid;
  next.conmon_pid = conmon_pid;
  if (!ctrd_container_save_run_state (self, &next, &error))
    {
      fail_start (self, error, TRUE);
      return;
    }
  g_clear_pointer (&self->exit_message, g_free);
  ctrd_container_watch_monitor (self);
  ctrd_container_logs_run_started (self);
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
  PrepareData *data = g_task_get_task_data (G_TASK (result));
  GArray *port_fds = data->network.port_fds;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      fail_start (self, error, FALSE);
      return;
    }
  ctrd_container_network_started (self, &data->network);
  ctrd_crash_point ("start-prepared");
  bundle = ctrd_container_bundle_dir (self);
  log_path = g_build_filename (bundle, "ctr.log", NULL);
  /* conmon gets copies of the reserved host ports; ours close with @data */
  ctrd_runtime_create_with_fds_async (
      ctrd_daemon_get_runtime (self->daemon), self->config->id, self->config->name, bundle,
      log_path, self->config->tty, port_fds != NULL ? (const int *) port_fds->data : NULL,
      port_fds != NULL ? port_fds->len : 0, NULL, on_runtime_create_done, g_object_ref (self));
}

static void
start_prepare (CtrdContainer *self)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  CtrdConfig *daemon_config = ctrd_daemon_get_config (self->daemon);
  const char *protected_dirs[] = { daemon_config->storage_root, daemon_config->run_root, NULL };
  PrepareData *data;
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

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
  data->config = ctrd_container_config_copy (self->config);
  data->image_commit = g_strdup (ctrd_image_get_commit (image));
  data->run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  data->rootfs = ctrd_container_rootfs_mountpoint (self);
  data->bundle_dir = ctrd_storage_container_dir (data->storage, self->config->id);
  data->hooks_dirs = g_strdupv (daemon_config->hooks_dirs);
  data->allowed_bind_sources = g_strdupv (daemon_config->allowed_bind_sources);
  data->protected_dirs = g_strdupv ((char **) protected_dirs);
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
  if (!ctrd_container_network_start_prepare (self, &data->network, &error))
    {
      prepare_data_free (data);
      fail_start (self, error, FALSE);
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
  self->op = CTRD_OP_START;
  self->start_task = task;
  self->start_is_restart = restart;
  self->stop_requested = FALSE;
  /* A caller's start begins the policy's count again; what the caller had
   * stopped may be restarted by the policy from now on. */
  ctrd_container_cancel_policy_restart (self);
  if (!self->policy_start)
    self->run.restart_count = 0;
  self->run.stopped_by_user = FALSE;
  if (self->run.state == CTRD_STATE_STOPPED)
    /* libpod's reinit: remove it from the runtime before creating it again. */
    ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                               on_reinit_delete_done, g_object_ref (self));
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

  self->op = CTRD_OP_NONE;
  g_task_return_new_error (deps->task, CTRD_ERROR, CTRD_ERROR_DEPENDENCY_FAILED,
                           "Container %s: a dependency cannot start: %s", self->config->name,
                           error->message);
  g_error_free (error);
  g_object_unref (deps->task);
  g_object_unref (deps->container);
  g_free (deps);
  ctrd_container_finish_operation (self);
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
      if (dependency->run.state == CTRD_STATE_RUNNING && dependency->op == CTRD_OP_NONE)
        continue;
      ctrd_container_start_async (dependency, on_dependency_started, deps);
      return;
    }

  /* All dependencies run: now this one. */
  self->op = CTRD_OP_NONE;
  begin_start (self, deps->task, deps->restart);
  g_object_unref (deps->container);
  g_free (deps);
}

void
ctrd_container_start_with_dependencies (CtrdContainer *self, GTask *task, gboolean restart)
{
  DependencyStart *deps;

  if (self->config->depends_on[0] == NULL)
    {
      begin_start (self, task, restart);
      return;
    }
  /* Busy meanwhile, so no second Start races this one. */
  self->op = CTRD_OP_START;
  deps = g_new0 (DependencyStart, 1);
  deps->container = g_object_ref (self);
  deps->task = task;
  deps->restart = restart;
  start_next_dependency (deps);
}

void
ctrd_container_start_async (CtrdContainer *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, ctrd_container_start_async);
  if (self->op == CTRD_OP_NONE && self->run.state == CTRD_STATE_RUNNING)
    {
      /* like libpod's initAndStart: a running container is left alone. */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (self->op == CTRD_OP_CLEANUP && self->start_after_cleanup == NULL &&
      self->restart_after_stop == NULL && self->remove_after_stop == NULL)
    {
      /* It has just exited (a Wait may have answered already): start it
       * again as soon as the runtime has forgotten the old run. */
      self->start_after_cleanup = task;
      return;
    }
  if (self->op != CTRD_OP_NONE || self->removed ||
      (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED &&
       self->run.state != CTRD_STATE_STOPPED))
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                               "Container %s cannot start in state %s%s", self->config->name,
                               ctrd_state_to_string (self->run.state),
                               self->op != CTRD_OP_NONE ? " (another operation is under way)" : "");
      g_object_unref (task);
      return;
    }
  ctrd_container_start_with_dependencies (self, task, FALSE);
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
start_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  ctrd_container_start_async (object, on_start_answered, invocation);
}

static gboolean
handle_start (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            start_authorized, NULL, NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- Stop, Kill */

/* The runtime hung on a stop's signal: nothing will end the container, so
 * the stop fails with the runtime's Timeout instead of waiting for ever, and
 * the container is running again as far as anyone can tell. */
static void
fail_stop (CtrdContainer *self, const GError *error)
{
  CtrdRunState next = self->run;
  g_autoptr (GTask) remove_task = g_steal_pointer (&self->remove_after_stop);
  g_autoptr (GTask) restart_task = g_steal_pointer (&self->restart_after_stop);

  g_warning ("Container %s: the stop failed: %s", self->config->name, error->message);
  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  self->stop_requested = FALSE;
  next.state = CTRD_STATE_RUNNING;
  ctrd_container_save_run_state_or_warn (self, &next);
  for (guint i = 0; i < self->stoppers->len; i++)
    g_dbus_method_invocation_return_gerror (self->stoppers->pdata[i], error);
  g_ptr_array_set_size (self->stoppers, 0);
  for (guint i = 0; i < self->stop_tasks->len; i++)
    g_task_return_error (self->stop_tasks->pdata[i], g_error_copy (error));
  g_ptr_array_set_size (self->stop_tasks, 0);
  if (remove_task != NULL)
    g_task_return_error (remove_task, g_error_copy (error));
  if (restart_task != NULL)
    g_task_return_error (restart_task, g_error_copy (error));
}

/* A stop's signal in flight, and which stop sent it. */
typedef struct
{
  CtrdContainer *container;
  guint generation;
} StopSignal;

static StopSignal *
stop_signal_new (CtrdContainer *self)
{
  StopSignal *data = g_new0 (StopSignal, 1);

  data->container = g_object_ref (self);
  data->generation = self->stop_generation;
  return data;
}

static void
on_kill_logged (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StopSignal *data = user_data;
  g_autoptr (CtrdContainer) self = data->container;
  guint generation = data->generation;
  g_autoptr (GError) error = NULL;

  g_free (data);
  if (ctrd_runtime_kill_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    return;
  if (g_error_matches (error, CTRD_ERROR, CTRD_ERROR_TIMEOUT) &&
      generation == self->stop_generation && self->run.state == CTRD_STATE_STOPPING &&
      self->op == CTRD_OP_NONE)
    {
      fail_stop (self, error);
      return;
    }
  /* A process that is already gone cannot be signalled: its exit file is on
   * its way, so this is only worth a debug line. */
  g_debug ("Container %s: %s", self->config->name, error->message);
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->kill_timeout_id = 0;
  g_message ("Container %s did not stop within its timeout: sending SIGKILL", self->config->name);
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL, TRUE,
                           NULL, on_kill_logged, stop_signal_new (self));
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
  next.stopped_by_user = TRUE;
  if (!ctrd_container_save_run_state (self, &next, error))
    return FALSE;
  ctrd_crash_point ("stop-saved");
  self->stop_requested = TRUE;
  self->stop_generation++;
  if (timeout == 0)
    {
      ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL,
                               TRUE, NULL, on_kill_logged, stop_signal_new (self));
      thaw_if_paused (self, previous);
      return TRUE;
    }
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           self->config->stop_signal, FALSE, NULL, on_kill_logged,
                           stop_signal_new (self));
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
    ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, FALSE, NULL,
                              on_thawed_for_stop, g_object_ref (self));
}

static gboolean stop_now (CtrdContainer *self, GDBusMethodInvocation *invocation, guint timeout);

/* @user_data: the timeout. */
static void
stop_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  stop_now (object, invocation, GPOINTER_TO_UINT (user_data));
}

static gboolean
handle_stop (CtrContainer *iface, GDBusMethodInvocation *invocation, guint timeout)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            stop_authorized, GUINT_TO_POINTER (timeout), NULL);
  return TRUE;
}

static gboolean
stop_now (CtrdContainer *self, GDBusMethodInvocation *invocation, guint timeout)
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
      /* Like podman, stopping a stopped container is not an error; a
       * restart the policy had planned is called off. */
      if (self->op == CTRD_OP_NONE)
        {
          if (self->restart_timer_id != 0)
            {
              CtrdRunState next = self->run;

              next.stopped_by_user = TRUE;
              ctrd_container_cancel_policy_restart (self);
              ctrd_container_save_run_state_or_warn (self, &next);
            }
          ctr_container_complete_stop (iface, invocation);
          return TRUE;
        }
      return ctrd_container_return_invalid_state (self, invocation, "stop");
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
    case CTRD_STATE_PAUSED:
      if (self->op != CTRD_OP_NONE)
        return ctrd_container_return_invalid_state (self, invocation, "stop");
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
      return ctrd_container_return_invalid_state (self, invocation, "stop");
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

/* @user_data: the signal number. */
static void
kill_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  KillData *data;

  if ((self->run.state != CTRD_STATE_RUNNING && self->run.state != CTRD_STATE_STOPPING &&
       self->run.state != CTRD_STATE_PAUSED) ||
      self->op == CTRD_OP_START)
    {
      ctrd_container_return_invalid_state (self, invocation, "be killed");
      return;
    }

  /* as podman's StoppedByUser: the policy does not undo a Kill */
  self->run.stopped_by_user = TRUE;
  data = g_new0 (KillData, 1);
  data->container = g_object_ref (self);
  data->invocation = invocation;
  ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           GPOINTER_TO_INT (user_data), FALSE, NULL, on_kill_done, data);
}

static gboolean
handle_kill (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *signal_name)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  int signum;

  /* The signal is checked before anything else (podman's 130-kill test). */
  signum = ctrd_parse_signal (signal_name, &error);
  if (signum < 0)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_MANAGE, kill_authorized,
                            GINT_TO_POINTER (signum), NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- Wait */

static gboolean
handle_wait (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);

  /* An exit being cleaned up is answered once it is done (cleanup_done). */
  if ((self->run.state == CTRD_STATE_STOPPED || self->run.state == CTRD_STATE_EXITED) &&
      self->op != CTRD_OP_CLEANUP)
    {
      ctr_container_complete_wait (iface, invocation, self->run.exit_code);
      return TRUE;
    }
  if (self->run.state == CTRD_STATE_REMOVING)
    return ctrd_container_return_invalid_state (self, invocation, "be waited for");
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
                                           CTRD_ERROR_NOT_FOUND, "Container %s was removed",
                                           self->config->name);
  g_ptr_array_set_size (self->waiters, 0);
  for (guint i = 0; i < self->stop_tasks->len; i++)
    g_task_return_new_error (self->stop_tasks->pdata[i], CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                             "Container %s was removed", self->config->name);
  g_ptr_array_set_size (self->stop_tasks, 0);
}

static void
removal_failed (CtrdContainer *self, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->remove_task);

  /* The state stays "removing" in the database, so the next daemon start
   * finishes the job; this one lets the caller try again. */
  g_warning ("Container %s: removal failed: %s", self->config->name, error->message);
  self->op = CTRD_OP_NONE;
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
  /* the volumes removed with it (remove_volumes), gone once it is */
  g_auto (GStrv) volumes = g_strdupv (g_task_get_task_data (G_TASK (result)));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      removal_failed (self, error);
      return;
    }
  ctrd_crash_point ("remove-dirs-removed");
  if (!ctrd_db_delete_container (ctrd_daemon_get_db (self->daemon), self->config->id, &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      removal_failed (self, error);
      return;
    }
  g_message ("Removed container %s (%.12s)", self->config->name, self->config->id);
  /* its address went with its row */
  self->network_attached = FALSE;
  ctrd_container_set_ip_address (self, NULL);
  task = g_steal_pointer (&self->remove_task);
  fail_pending_calls (self);
  ctrd_container_emit_event (self, "remove");
  self->op = CTRD_OP_NONE;
  self->removed = TRUE;
  ctrd_daemon_remove_container (self->daemon, self);
  ctrd_volume_forget_removed (self->daemon, (const char *const *) volumes);
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

  /* Read-only fields only: the id never changes after creation, nor the
   * network while an operation runs. */
  run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  mountpoint = g_build_filename (run_dir, "rootfs", NULL);
  /* what no cleanup got to (a removal after a crash or a reboot); the
   * teardown needs the kept JSON, which goes with the directory */
  if (!ctrd_container_detach_network_sync (self->daemon, self->config, cancellable, &error) ||
      !ctrd_storage_unmount_rootfs (mountpoint, &error) ||
      !ctrd_storage_remove_container_dirs (ctrd_daemon_get_storage (self->daemon), self->config->id,
                                           cancellable, &error))
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
void
ctrd_container_start_removal (CtrdContainer *self, GTask *task)
{
  CtrdRunState next = self->run;
  CtrdState previous = self->run.state;
  GError *error = NULL;

  ctrd_container_cancel_policy_restart (self);
  next.state = CTRD_STATE_REMOVING;
  if (!ctrd_container_save_run_state (self, &next, &error))
    {
      if (task != NULL)
        g_task_return_error (task, error);
      else
        g_error_free (error);
      g_clear_object (&task);
      return;
    }
  self->op = CTRD_OP_REMOVE;
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

/* Names of the volumes Remove(remove_volumes) takes: its anonymous ones,
 * as podman's rm -v; a named volume outlives its containers until it is
 * removed itself (Volume.Remove, PruneVolumes). */
static char **
volumes_to_remove (CtrdContainer *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < self->config->mounts->len; i++)
    {
      CtrdMount *mount = self->config->mounts->pdata[i];

      if (mount->type == CTRD_MOUNT_VOLUME && mount->anonymous)
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

/* Remove of a container that runs: refused without @force; with it, like
 * podman rm -f, killed at once and removed once it has exited. Takes @task. */
static void
remove_running (CtrdContainer *self, gboolean force, GTask *task)
{
  GError *error = NULL;

  if (!force)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                               "Container %s is %s: stop it first or remove it with force",
                               self->config->name, ctrd_state_to_string (self->run.state));
      g_object_unref (task);
      return;
    }
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
}

void
ctrd_container_remove_async (CtrdContainer *self, gboolean force, gboolean remove_volumes,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
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
  if (self->op == CTRD_OP_CLEANUP && self->remove_after_stop == NULL)
    {
      /* It has just exited: remove it as soon as the cleanup is done. */
      self->remove_after_stop = task;
      return;
    }
  if (self->op != CTRD_OP_NONE || self->remove_after_stop != NULL || self->removed)
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
      ctrd_container_start_removal (self, task);
      return;
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
    case CTRD_STATE_PAUSED:
    case CTRD_STATE_STOPPING:
      remove_running (self, force, task);
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

/* Remove's two flags, carried across the check in the data pointer. */
#define REMOVE_FORCE (1u << 0)
#define REMOVE_VOLUMES (1u << 1)

static void
remove_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  guint flags = GPOINTER_TO_UINT (user_data);

  ctrd_container_remove_async (object, (flags & REMOVE_FORCE) != 0, (flags & REMOVE_VOLUMES) != 0,
                               on_remove_answered, invocation);
}

static gboolean
handle_remove (CtrContainer *iface, GDBusMethodInvocation *invocation, gboolean force,
               gboolean remove_volumes)
{
  guint flags = (force ? REMOVE_FORCE : 0) | (remove_volumes ? REMOVE_VOLUMES : 0);

  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_CREATE,
                            remove_authorized, GUINT_TO_POINTER (flags), NULL);
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
      ctrd_container_finish_operation (self);
      return;
    }
  next = self->run;
  next.state = pause ? CTRD_STATE_PAUSED : CTRD_STATE_RUNNING;
  if (!ctrd_container_save_run_state (self, &next, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      ctrd_container_finish_operation (self);
      return;
    }
  ctrd_container_emit_event (self, pause ? "pause" : "unpause");
  if (pause)
    ctr_container_complete_pause (CTR_CONTAINER (self), invocation);
  else
    ctr_container_complete_unpause (CTR_CONTAINER (self), invocation);
  ctrd_container_finish_operation (self);
}

/* Pause (@user_data TRUE) or Unpause. */
static void
freeze_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  gboolean pause = GPOINTER_TO_INT (user_data);
  FreezeData *data;

  if (self->op != CTRD_OP_NONE ||
      self->run.state != (pause ? CTRD_STATE_RUNNING : CTRD_STATE_PAUSED))
    {
      ctrd_container_return_invalid_state (self, invocation, pause ? "be paused" : "be unpaused");
      return;
    }
  self->op = CTRD_OP_FREEZE;
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
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            freeze_authorized, GINT_TO_POINTER (TRUE), NULL);
  return TRUE;
}

static gboolean
handle_unpause (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            freeze_authorized, GINT_TO_POINTER (FALSE), NULL);
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
restart_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  guint requested = GPOINTER_TO_UINT (user_data);
  guint timeout = requested == G_MAXUINT32 ? self->config->stop_timeout : requested;
  GError *error = NULL;
  GTask *task;

  if (self->op != CTRD_OP_NONE || self->restart_after_stop != NULL ||
      self->remove_after_stop != NULL)
    {
      ctrd_container_return_invalid_state (self, invocation, "restart");
      return;
    }
  switch (self->run.state)
    {
    case CTRD_STATE_CONFIGURED:
    case CTRD_STATE_EXITED:
    case CTRD_STATE_STOPPED:
      task = g_task_new (self, NULL, on_restart_answered, invocation);
      ctrd_container_start_with_dependencies (self, task, TRUE);
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
      ctrd_container_return_invalid_state (self, invocation, "restart");
      return;
    }
}

static gboolean
handle_restart (CtrContainer *iface, GDBusMethodInvocation *invocation, guint timeout)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            restart_authorized, GUINT_TO_POINTER (timeout), NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- stop, for other objects */

void
ctrd_container_stop_async (CtrdContainer *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, ctrd_container_stop_async);
  switch (self->run.state)
    {
    case CTRD_STATE_CONFIGURED:
    case CTRD_STATE_EXITED:
      if (self->op == CTRD_OP_NONE)
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
          return;
        }
      break;
    case CTRD_STATE_STOPPING:
    case CTRD_STATE_STOPPED:
      /* on its way down: answered once cleaned up */
      g_ptr_array_add (self->stop_tasks, task);
      return;
    case CTRD_STATE_CREATED:
    case CTRD_STATE_RUNNING:
    case CTRD_STATE_PAUSED:
      if (self->op != CTRD_OP_NONE)
        break;
      if (!begin_stop (self, self->config->stop_timeout, &error))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      g_ptr_array_add (self->stop_tasks, task);
      return;
    case CTRD_STATE_REMOVING:
    default:
      break;
    }
  g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                           "Container %s cannot stop in state %s%s", self->config->name,
                           ctrd_state_to_string (self->run.state),
                           self->op != CTRD_OP_NONE ? " (another operation is under way)" : "");
  g_object_unref (task);
}

gboolean
ctrd_container_stop_finish (CtrdContainer *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ctrd_container_lifecycle_iface_init (CtrContainerIface *iface)
{
  iface->handle_start = handle_start;
  iface->handle_stop = handle_stop;
  iface->handle_kill = handle_kill;
  iface->handle_remove = handle_remove;
  iface->handle_wait = handle_wait;
  iface->handle_pause = handle_pause;
  iface->handle_unpause = handle_unpause;
  iface->handle_restart = handle_restart;
}
