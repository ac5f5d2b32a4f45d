/* ctrd-container.c: one container object: the type and its properties, the
 * exit path, reconcile after a daemon restart, Inspect and Rename. The other
 * facets are in ctrd-container-{lifecycle,exec,fs}.c (see
 * ctrd-container-private.h).
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

#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ctrd-bundle.h"
#include "ctrd-container-private.h"
#include "ctrd-error.h"
#include "ctrd-hooks.h"
#include "ctrd-image.h"
#include "ctrd-util.h"

static void ctrd_container_iface_init (CtrContainerIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdContainer, ctrd_container, CTR_TYPE_CONTAINER_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_CONTAINER, ctrd_container_iface_init))

static void
ctrd_container_finalize (GObject *object)
{
  CtrdContainer *self = CTRD_CONTAINER (object);

  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  ctrd_container_unwatch_monitor (self);
  g_free (self->exit_message);
  g_clear_pointer (&self->config, ctrd_container_config_free);
  g_strfreev (self->remove_volumes);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);
  g_clear_pointer (&self->stoppers, g_ptr_array_unref);
  g_clear_pointer (&self->stop_tasks, g_ptr_array_unref);
  g_free (self->ip_address);
  g_clear_pointer (&self->size_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->properties, g_variant_unref);
  g_clear_pointer (&self->log_live, ctrd_log_live_unref);
  g_clear_handle_id (&self->health_timer_id, g_source_remove);
  g_clear_object (&self->health_cancellable);
  g_clear_pointer (&self->health, ctrd_health_state_free);
  g_clear_pointer (&self->health_waiters, g_ptr_array_unref);
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
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->size_waiters = g_ptr_array_new ();
  self->monitor_fd = -1;
  self->health = ctrd_health_state_new ();
  self->health_waiters = g_ptr_array_new ();
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

GPtrArray *
ctrd_container_get_mounts (CtrdContainer *self)
{
  return self->config->mounts;
}

gsize
ctrd_container_get_exported_size (CtrdContainer *self)
{
  return ctrd_container_config_exported_size (self->config);
}

CtrdState
ctrd_container_get_state (CtrdContainer *self)
{
  return self->run.state;
}

guint32
ctrd_container_get_owner (CtrdContainer *self)
{
  return self->config->owner;
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
  ctr_container_set_restart_count (iface, self->run.restart_count);
  g_object_thaw_notify (G_OBJECT (self));
  /* Send PropertiesChanged now, not at the next idle: what follows a state
   * change is often a fork (runc delete), and watchers should not wait. */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self));
}

/* Write first, then publish: the database is the truth after a crash. */
gboolean
ctrd_container_save_run_state (CtrdContainer *self, const CtrdRunState *next, GError **error)
{
  CtrdState old_state = self->run.state;

  if (!ctrd_db_update_run_state (ctrd_daemon_get_db (self->daemon), self->config->id, next, error))
    {
      g_prefix_error (error, "Container %s: cannot save its state: ", self->config->name);
      ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
      return FALSE;
    }
  self->run = *next;
  publish_run_state (self);
  ctrd_container_health_follow_state (self, old_state);
  return TRUE;
}

/* For transitions the daemon must make even when the database write fails
 * (the process is gone whatever the disk says): log and carry on. */
void
ctrd_container_save_run_state_or_warn (CtrdContainer *self, const CtrdRunState *next)
{
  g_autoptr (GError) error = NULL;

  if (!ctrd_container_save_run_state (self, next, &error))
    {
      CtrdState old_state = self->run.state;

      g_warning ("%s", error->message);
      self->run = *next;
      publish_run_state (self);
      ctrd_container_health_follow_state (self, old_state);
    }
}

void
ctrd_container_emit_event (CtrdContainer *self, const char *event)
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
  ctr_container_set_owner (iface, config->owner);
  ctr_container_set_mounts (iface, mounts_variant (config));
  ctr_container_set_depends_on (iface, (const char *const *) depends_on->pdata);
  ctr_container_set_tty (iface, config->tty);
  ctr_container_set_auto_remove (iface, config->auto_remove);
  ctr_container_set_previous_image (iface,
                                    *config->previous_image_id != '\0' ? previous_path : "/");
  ctr_container_set_network (iface, ctrd_container_network_display_name (self));
  ctr_container_set_ports (iface, ctrd_container_ports_variant (config->network));
  ctrd_container_publish_limits (self);
  /* a running container keeps its address across a daemon restart */
  if (ctrd_container_is_live_state (run->state) && ctrd_container_on_bridge (self))
    self->ip_address = g_strdup (ctrd_daemon_get_held_address (daemon, config->id));
  ctr_container_set_ipaddress (iface, self->ip_address != NULL ? self->ip_address : "");
  /* conmon's oom mark outlives a daemon restart (it goes at the next start). */
  ctr_container_set_oomkilled (
      iface, !ctrd_container_is_live_state (run->state) &&
                 ctrd_runtime_oom_killed (ctrd_daemon_get_runtime (daemon), config->id));
  g_object_thaw_notify (G_OBJECT (self));
  publish_run_state (self);
  return self;
}

char *
ctrd_container_rootfs_mountpoint (CtrdContainer *self)
{
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  return g_build_filename (run_dir, "rootfs", NULL);
}

char *
ctrd_container_bundle_dir (CtrdContainer *self)
{
  return ctrd_storage_container_dir (ctrd_daemon_get_storage (self->daemon), self->config->id);
}

char *
ctrd_container_upper_dir (CtrdContainer *self)
{
  g_autofree char *dir = ctrd_container_bundle_dir (self);

  return g_build_filename (dir, "upper", NULL);
}

gboolean
ctrd_container_return_invalid_state (CtrdContainer *self, GDBusMethodInvocation *invocation,
                                     const char *what)
{
  static const char *const op_names[] = { "idle",
                                          "starting",
                                          "cleaning up",
                                          "being removed",
                                          "being paused or unpaused",
                                          "being exported",
                                          "being committed",
                                          "being copied into or out of" };
  G_STATIC_ASSERT (G_N_ELEMENTS (op_names) == CTRD_OP_COPY + 1);

  if (self->op != CTRD_OP_NONE)
    g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                           "Container %s cannot %s: it is %s", self->config->name,
                                           what, op_names[self->op]);
  else
    g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                           "Container %s cannot %s in state %s", self->config->name,
                                           what, ctrd_state_to_string (self->run.state));
  return TRUE;
}

gboolean
ctrd_container_is_live_state (CtrdState state)
{
  return state == CTRD_STATE_CREATED || state == CTRD_STATE_RUNNING || state == CTRD_STATE_PAUSED ||
         state == CTRD_STATE_STOPPING;
}

/* ---------------------------------------------------------------- exit path */

static void
answer_waiters (CtrdContainer *self)
{
  for (guint i = 0; i < self->waiters->len; i++)
    ctr_container_complete_wait (CTR_CONTAINER (self), self->waiters->pdata[i],
                                 self->run.exit_code);
  g_ptr_array_set_size (self->waiters, 0);
}

void
ctrd_container_answer_stoppers (CtrdContainer *self)
{
  for (guint i = 0; i < self->stoppers->len; i++)
    ctr_container_complete_stop (CTR_CONTAINER (self), self->stoppers->pdata[i]);
  g_ptr_array_set_size (self->stoppers, 0);
  for (guint i = 0; i < self->stop_tasks->len; i++)
    g_task_return_boolean (self->stop_tasks->pdata[i], TRUE);
  g_ptr_array_set_size (self->stop_tasks, 0);
}

/* A Start or Restart that was to follow the cleanup, overtaken by a Remove
 * (another caller's, or a forced one): answered, never left waiting. */
static void
fail_superseded_start (CtrdContainer *self, GTask **task_slot, const char *what)
{
  g_autoptr (GTask) task = g_steal_pointer (task_slot);

  if (task != NULL)
    g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                             "Container %s cannot %s: it is being removed", self->config->name,
                             what);
}

void
ctrd_container_run_after_cleanup (CtrdContainer *self)
{
  if (self->remove_after_stop != NULL)
    {
      fail_superseded_start (self, &self->restart_after_stop, "restart");
      fail_superseded_start (self, &self->start_after_cleanup, "start");
      ctrd_container_start_removal (self, g_steal_pointer (&self->remove_after_stop));
    }
  else if (self->restart_after_stop != NULL)
    ctrd_container_start_with_dependencies (self, g_steal_pointer (&self->restart_after_stop),
                                            TRUE);
  else if (self->start_after_cleanup != NULL)
    ctrd_container_start_with_dependencies (self, g_steal_pointer (&self->start_after_cleanup),
                                            FALSE);
}

/* The container's process is gone with @exit_code: record it (stopped), then
 * clean up the runtime (libpod's cleanup); the waiters are answered once that
 * is done. */
static void
record_exit (CtrdContainer *self, int exit_code, guint64 finished_at)
{
  CtrdRunState next = self->run;

  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  ctrd_container_unwatch_monitor (self);
  self->monitor_lost = FALSE;
  self->exit_unrecorded = FALSE;
  ctrd_container_logs_run_ended (self);
  next.state = CTRD_STATE_STOPPED;
  next.pid = 0;
  next.exit_code = exit_code;
  next.finished_at = finished_at;
  ctrd_container_save_run_state_or_warn (self, &next);
  g_message ("Container %s (%.12s) exited with code %d", self->config->name, self->config->id,
             exit_code);
  if (ctrd_runtime_oom_killed (ctrd_daemon_get_runtime (self->daemon), self->config->id))
    {
      ctr_container_set_oomkilled (CTR_CONTAINER (self), TRUE);
      ctrd_container_emit_event (self, "oom");
    }
  ctrd_container_emit_event (self, "died");
  ctrd_container_start_cleanup (self);
}

/* Like libpod when conmon died without writing an exit file: the code is
 * unknown (-1), and the reason is kept for Inspect (State.Error). */
static void
record_unknown_exit (CtrdContainer *self, const char *why, guint64 finished_at)
{
  g_free (self->exit_message);
  self->exit_message = g_strdup (why);
  g_warning ("Container %s (%.12s): %s", self->config->name, self->config->id, why);
  record_exit (self, -1, finished_at);
}

void
ctrd_container_handle_exit (CtrdContainer *self)
{
  g_autoptr (GError) error = NULL;
  int exit_code;

  if (self->op != CTRD_OP_NONE)
    {
      /* Start is between runtime create and start, or cleanup runs: look again
       * when it is done. */
      self->exit_pending = TRUE;
      return;
    }
  if (!ctrd_container_is_live_state (self->run.state))
    return;
  if (!ctrd_runtime_read_exit_code (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                                    &exit_code, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_warning ("Container %s: %s", self->config->name, error->message);
      else if (self->exit_unrecorded)
        record_unknown_exit (self,
                             "its monitor (conmon) died before the container's process, which "
                             "has ended since: the exit code is unknown",
                             ctrd_now_usec ());
      return;
    }
  record_exit (self, exit_code, ctrd_now_usec ());
}

/* ---------------------------------------------------------------- the monitor */

void
ctrd_container_unwatch_monitor (CtrdContainer *self)
{
  g_clear_handle_id (&self->monitor_watch_id, g_source_remove);
  if (self->monitor_fd >= 0)
    {
      close (self->monitor_fd);
      self->monitor_fd = -1;
    }
}

static void watch_pidfd (CtrdContainer *self, int fd);

/* A process without its monitor ended: nothing will write an exit file. */
static void
unmonitored_process_ended (CtrdContainer *self)
{
  ctrd_container_unwatch_monitor (self);
  self->exit_unrecorded = TRUE;
  ctrd_container_handle_exit (self);
}

typedef struct
{
  CtrdContainer *container;
  int pidfd; /* of the container's process, opened before asking the runtime; -1 none */
} MonitorCheck;

static gboolean
pidfd_has_exited (int fd)
{
  GPollFD poll_fd = { fd, G_IO_IN, 0 };

  return fd < 0 || (g_poll (&poll_fd, 1, 0) == 1 && (poll_fd.revents & G_IO_IN) != 0);
}

static void
on_monitor_state (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MonitorCheck *check = user_data;
  g_autoptr (CtrdContainer) self = check->container;
  int pidfd = check->pidfd;
  g_autoptr (GError) error = NULL;
  g_autofree char *status = NULL;
  guint32 runtime_pid = 0;

  g_free (check);
  status = ctrd_runtime_state_finish (ctrd_daemon_get_runtime (self->daemon), result, &runtime_pid,
                                      &error);
  if (self->removed || !ctrd_container_is_live_state (self->run.state) ||
      self->monitor_watch_id != 0)
    {
      /* recorded meanwhile (its exit file came after all), or watched again */
      if (pidfd >= 0)
        close (pidfd);
      return;
    }
  if (status == NULL)
    g_warning ("Container %s: its monitor died and the runtime cannot tell whether it runs: %s",
               self->config->name, error->message);
  if (status != NULL && *status != '\0' && !g_str_equal (status, "stopped") &&
      runtime_pid == self->run.pid && !pidfd_has_exited (pidfd))
    {
      /* It runs on without conmon: watch the process itself. Its output has
       * nowhere to go now, and its exit code will be unknown. */
      g_warning ("Container %s (%.12s): its monitor (conmon) died; the container's process %u "
                 "runs on unmonitored",
                 self->config->name, self->config->id, self->run.pid);
      watch_pidfd (self, pidfd);
      return;
    }
  if (pidfd >= 0)
    close (pidfd);
  unmonitored_process_ended (self);
}

/* conmon is gone: its exit file, if it wrote one, says how the process
 * ended; otherwise ask the runtime whether the process lives. */
static void
monitor_died (CtrdContainer *self)
{
  MonitorCheck *check;

  ctrd_container_unwatch_monitor (self);
  if (self->removed || !ctrd_container_is_live_state (self->run.state))
    return;
  if (ctrd_runtime_read_exit_code (ctrd_daemon_get_runtime (self->daemon), self->config->id, NULL,
                                   NULL))
    {
      ctrd_container_handle_exit (self);
      return;
    }
  self->monitor_lost = TRUE;
  check = g_new0 (MonitorCheck, 1);
  check->container = g_object_ref (self);
  /* opened first, so that the pid the runtime names cannot be a new process */
  check->pidfd = self->run.pid != 0 ? ctrd_runtime_pidfd_open (self->run.pid, NULL) : -1;
  ctrd_runtime_state_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, NULL,
                            on_monitor_state, check);
}

static gboolean
on_monitor_fd_ready (gint fd, GIOCondition condition, gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->monitor_watch_id = 0;
  if (self->monitor_lost)
    unmonitored_process_ended (self);
  else
    monitor_died (self);
  return G_SOURCE_REMOVE;
}

/* Takes @fd. */
static void
watch_pidfd (CtrdContainer *self, int fd)
{
  ctrd_container_unwatch_monitor (self);
  self->monitor_fd = fd;
  self->monitor_watch_id = g_unix_fd_add (fd, G_IO_IN, on_monitor_fd_ready, self);
}

static gboolean
on_monitor_already_gone (gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->monitor_watch_id = 0;
  monitor_died (self);
  return G_SOURCE_REMOVE;
}

/* Where there is no pidfd to be had for a live conmon (valgrind 3.19 does
 * not know pidfd_open; kernels before 5.3), it is looked at once a second. */
static gboolean
on_monitor_poll (gpointer user_data)
{
  CtrdContainer *self = user_data;

  if (ctrd_runtime_pid_alive (self->run.conmon_pid))
    return G_SOURCE_CONTINUE;
  self->monitor_watch_id = 0;
  monitor_died (self);
  return G_SOURCE_REMOVE;
}

void
ctrd_container_watch_monitor (CtrdContainer *self)
{
  int fd;

  ctrd_container_unwatch_monitor (self);
  self->monitor_lost = FALSE;
  self->exit_unrecorded = FALSE;
  fd = self->run.conmon_pid != 0 ? ctrd_runtime_pidfd_open (self->run.conmon_pid, NULL) : -1;
  if (fd >= 0)
    {
      watch_pidfd (self, fd);
      return;
    }
  if (self->run.conmon_pid != 0 && errno != ESRCH && ctrd_runtime_pid_alive (self->run.conmon_pid))
    {
      self->monitor_watch_id = g_timeout_add_seconds (1, on_monitor_poll, self);
      return;
    }
  /* gone already (or never known): the same path, from the main loop */
  self->monitor_watch_id = g_idle_add (on_monitor_already_gone, self);
}

/* ---------------------------------------------------------------- restart policy */

void
ctrd_container_cancel_policy_restart (CtrdContainer *self)
{
  g_clear_handle_id (&self->restart_timer_id, g_source_remove);
}

static void schedule_policy_restart (CtrdContainer *self);

/* A start that failed (a bind source gone, a dependency that cannot start)
 * is one more restart: the policy tries again after a longer back-off, as
 * far as its count allows. */
static void
on_policy_start_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  g_autoptr (GError) error = NULL;

  self->policy_start = FALSE;
  if (ctrd_container_start_finish (self, result, &error))
    return;
  g_warning ("Container %s: its restart policy cannot start it: %s", self->config->name,
             error->message);
  if (self->op == CTRD_OP_NONE && self->run.state == CTRD_STATE_EXITED)
    schedule_policy_restart (self);
}

/* The policy's start, when its back-off has passed: a `restart` event and
 * one more RestartCount (@count_it), or the start at boot (not counted). */
static void
policy_start (CtrdContainer *self, gboolean count_it)
{
  CtrdRunState next = self->run;

  if (self->removed || self->op != CTRD_OP_NONE || self->run.state != CTRD_STATE_EXITED)
    return;
  if (count_it)
    {
      next.restart_count++;
      ctrd_container_save_run_state_or_warn (self, &next);
      ctrd_container_emit_event (self, "restart");
    }
  self->policy_start = TRUE;
  ctrd_container_start_async (self, on_policy_start_done, NULL);
}

static gboolean
on_policy_restart_due (gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->restart_timer_id = 0;
  policy_start (self, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_boot_start_due (gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->restart_timer_id = 0;
  policy_start (self, FALSE);
  return G_SOURCE_REMOVE;
}

/* After an exit nothing else follows: the restart policy may start it
 * again, after a back-off that doubles with each restart. */
static void
schedule_policy_restart (CtrdContainer *self)
{
  g_autofree char *policy = NULL;
  guint delay;

  if (self->removed ||
      !ctrd_restart_after_exit (&self->config->restart, self->run.exit_code,
                                self->run.restart_count, self->run.stopped_by_user))
    return;
  policy = ctrd_restart_policy_to_string (&self->config->restart);
  delay = ctrd_restart_backoff_ms (self->run.restart_count);
  g_message ("Container %s (%.12s): restart policy %s: starting it again in %u ms",
             self->config->name, self->config->id, policy, delay);
  ctrd_container_cancel_policy_restart (self);
  self->restart_timer_id = g_timeout_add_full (G_PRIORITY_DEFAULT, delay, on_policy_restart_due,
                                               g_object_ref (self), g_object_unref);
}

static void
cleanup_done (CtrdContainer *self)
{
  CtrdRunState next = self->run;
  g_autoptr (GError) error = NULL;
  g_autofree char *mountpoint = ctrd_container_rootfs_mountpoint (self);

  if (!ctrd_storage_unmount_rootfs (mountpoint, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);

  next.state = CTRD_STATE_EXITED;
  next.conmon_pid = 0;
  ctrd_container_save_run_state_or_warn (self, &next);
  if (self->stop_requested)
    ctrd_container_emit_event (self, "stop");
  self->stop_requested = FALSE;
  self->op = CTRD_OP_NONE;
  /* Wait and Stop answer now that the exit is fully handled (the state is
   * saved and published, the runtime and the mounts cleaned up), so that
   * whatever their callers do next sees the final state. */
  answer_waiters (self);
  ctrd_container_answer_stoppers (self);

  if (self->remove_after_stop == NULL && self->restart_after_stop == NULL &&
      self->start_after_cleanup == NULL && self->config->auto_remove)
    /* like podman run --rm: gone as soon as it has exited (waiters have
     * had their exit code already). */
    ctrd_container_start_removal (self, NULL);
  else if (self->remove_after_stop == NULL && self->restart_after_stop == NULL &&
           self->start_after_cleanup == NULL)
    schedule_policy_restart (self);
  else
    ctrd_container_run_after_cleanup (self);
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
  g_autofree char *path = g_build_filename (run_dir, CTRD_BUNDLE_HOOKS_FILE, NULL);
  g_autofree char *bundle = ctrd_container_bundle_dir (self);
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
on_cleanup_network_detached (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);

  ctrd_container_finish_network_detach (self, result);
  if (!run_poststop_hooks (self))
    cleanup_done (self);
}

static void
on_cleanup_delete_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdContainer) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_runtime_delete_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  /* like libpod's cleanupNetwork: the process is gone, the network goes
   * before the root is unmounted */
  if (ctrd_container_on_bridge (self))
    {
      ctrd_container_detach_network_async (self, on_cleanup_network_detached);
      return;
    }
  if (!run_poststop_hooks (self))
    cleanup_done (self);
}

void
ctrd_container_start_cleanup (CtrdContainer *self)
{
  self->op = CTRD_OP_CLEANUP;
  self->exit_pending = FALSE;
  ctrd_runtime_delete_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                             on_cleanup_delete_done, g_object_ref (self));
}

/* ---------------------------------------------------------------- reconcile */

/* like libpod's resetState after a reboot: nothing of the old boot
 * survives. */
static void
reset_after_reboot (CtrdContainer *self)
{
  g_autofree char *mountpoint = ctrd_container_rootfs_mountpoint (self);
  g_autoptr (GError) error = NULL;
  gboolean was_running = ctrd_container_is_live_state (self->run.state);

  /* Normally the run root is a tmpfs and gone; clear what may be left. */
  if (!ctrd_storage_unmount_rootfs (mountpoint, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  ctrd_runtime_forget_exit (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  if (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED)
    {
      CtrdRunState next = self->run;
      next.state = CTRD_STATE_EXITED;
      next.pid = 0;
      next.conmon_pid = 0;
      ctrd_container_save_run_state_or_warn (self, &next);
    }
  /* like libpod's refresh: AutoRemove containers do not survive a reboot. */
  if (self->config->auto_remove)
    ctrd_container_start_removal (self, NULL);
  else if (ctrd_container_on_bridge (self))
    /* what the old boot's netavark left, if anything did (the removal
     * does the same) */
    ctrd_container_detach_network_in_background (self);
  /* `always` and `unless-stopped` come back with the host, once every
   * container is loaded (its dependencies may be later in the list). */
  if (!self->config->auto_remove &&
      ctrd_restart_at_boot (&self->config->restart, was_running, self->run.stopped_by_user))
    self->restart_timer_id =
        g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, on_boot_start_due, g_object_ref (self),
                         g_object_unref);
}

/* An exit that happened while the daemon was away: its time is the exit
 * file's (now if it cannot be read). */
static guint64
exit_file_time (CtrdContainer *self)
{
  CtrdRuntime *runtime = ctrd_daemon_get_runtime (self->daemon);
  g_autofree char *exit_file =
      g_build_filename (ctrd_runtime_get_run_root (runtime), "exits", self->config->id, NULL);
  struct stat st;

  if (stat (exit_file, &st) != 0)
    return ctrd_now_usec ();
  return (guint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
}

/* Whether runc still has the container: its state directory. */
static gboolean
runtime_has_container (CtrdContainer *self)
{
  g_autofree char *state_dir = g_build_filename (
      ctrd_runtime_get_root (ctrd_daemon_get_runtime (self->daemon)), self->config->id, NULL);

  return g_file_test (state_dir, G_FILE_TEST_IS_DIR);
}

/* A start the daemon died in left its network set up, or at least its
 * address held: let both go. Its root may still be mounted (unmounted
 * here), and runc may have created the container (then it is cleaned up as
 * after an exit, and ends exited, as a start failing there does). */
static void
release_interrupted_start (CtrdContainer *self)
{
  g_autofree char *state_path = ctrd_container_network_state_path (self->daemon, self->config->id);
  g_autofree char *mountpoint = ctrd_container_rootfs_mountpoint (self);
  g_autoptr (GError) error = NULL;

  if (runtime_has_container (self))
    {
      g_message ("Container %s: runc still has it from a start the daemon did not finish: "
                 "cleaning up",
                 self->config->name);
      if (!ctrd_container_on_bridge (self) &&
          ctrd_daemon_get_held_address (self->daemon, self->config->id) != NULL)
        ctrd_container_release_address (self);
      ctrd_container_start_cleanup (self);
      return;
    }
  if (ctrd_storage_is_mounted (mountpoint))
    {
      g_message ("Container %s: unmounting the root of a start the daemon did not finish",
                 self->config->name);
      if (!ctrd_storage_unmount_rootfs (mountpoint, &error))
        g_warning ("Container %s: %s", self->config->name, error->message);
    }
  if (ctrd_container_on_bridge (self) && g_file_test (state_path, G_FILE_TEST_EXISTS))
    ctrd_container_detach_network_in_background (self);
  else if (ctrd_daemon_get_held_address (self->daemon, self->config->id) != NULL)
    ctrd_container_release_address (self);
}

/* The daemon died between runc create and the state after runc start:
 * runc's exec FIFO is there until the container has been started. Started,
 * it runs and is recorded so; never started, the start did not happen and
 * the container is cleaned up like after an exit. */
static void
settle_interrupted_start (CtrdContainer *self)
{
  g_autofree char *fifo = g_build_filename (
      ctrd_runtime_get_root (ctrd_daemon_get_runtime (self->daemon)), self->config->id,
      "exec.fifo", NULL);
  CtrdRunState next = self->run;

  if (g_file_test (fifo, G_FILE_TEST_EXISTS))
    {
      g_message ("Container %s: created but never started by a start the daemon did not finish: "
                 "cleaning up",
                 self->config->name);
      ctrd_container_start_cleanup (self);
      return;
    }
  g_message ("Container %s: started by a start the daemon did not finish: it runs",
             self->config->name);
  next.state = CTRD_STATE_RUNNING;
  next.started_at = ctrd_now_usec ();
  next.finished_at = 0;
  next.exit_code = 0;
  ctrd_container_save_run_state_or_warn (self, &next);
  ctrd_container_watch_monitor (self);
  ctrd_container_emit_event (self, "start");
}

void
ctrd_container_reconcile (CtrdContainer *self, gboolean rebooted)
{
  CtrdRuntime *runtime = ctrd_daemon_get_runtime (self->daemon);
  int exit_code;

  if (self->run.state == CTRD_STATE_REMOVING)
    {
      g_message ("Container %s: finishing an interrupted removal", self->config->name);
      ctrd_container_start_removal (self, NULL);
      return;
    }

  if (rebooted)
    {
      reset_after_reboot (self);
      return;
    }

  if (!ctrd_container_is_live_state (self->run.state) && self->run.state != CTRD_STATE_STOPPED)
    {
      release_interrupted_start (self);
      return;
    }

  /* stopped: its exit is recorded, only the cleanup may be left */
  if (self->run.state == CTRD_STATE_STOPPED)
    {
      ctrd_container_start_cleanup (self);
      return;
    }
  if (ctrd_runtime_read_exit_code (runtime, self->config->id, &exit_code, NULL))
    {
      record_exit (self, exit_code, exit_file_time (self));
      return;
    }

  if (self->run.pid != 0 && ctrd_runtime_pid_alive (self->run.pid))
    {
      if (self->run.state == CTRD_STATE_CREATED)
        {
          settle_interrupted_start (self);
          return;
        }
      if (self->run.state == CTRD_STATE_STOPPING)
        {
          /* The Stop call died with the old daemon; the container runs on. */
          CtrdRunState next = self->run;
          next.state = CTRD_STATE_RUNNING;
          ctrd_container_save_run_state_or_warn (self, &next);
        }
      /* conmon, or (if conmon died while the daemon was away) the process */
      ctrd_container_watch_monitor (self);
      return;
    }

  /* conmon still alive means its exit file is about to come; the watcher will
   * deliver it (and the monitor watch notices if it dies without one). */
  if (self->run.conmon_pid != 0 && ctrd_runtime_pid_alive (self->run.conmon_pid))
    {
      ctrd_container_watch_monitor (self);
      return;
    }

  /* Neither the process nor conmon, and no exit file: like libpod when conmon
   * died without writing one, the exit code is unknown (-1). */
  record_unknown_exit (self,
                       "its process and its monitor (conmon) ended while the daemon was away, "
                       "without an exit code",
                       ctrd_now_usec ());
}

/* ---------------------------------------------------------------- authorization */

void
ctrd_container_authorize (CtrdContainer *self, GDBusMethodInvocation *invocation,
                          const char *action_id, CtrdAuthorizedFunc func, gpointer user_data,
                          GDestroyNotify destroy)
{
  /* Another uid's container also takes manage-others: one rule for every
   * guarded method, as each comes here. */
  ctrd_authority_check_owned (ctrd_daemon_get_authority (self->daemon), self, invocation, action_id,
                              self->config->owner, "container.name", self->config->name, func,
                              user_data, destroy);
}

/* An operation ended; an exit that arrived meanwhile is handled now. */
void
ctrd_container_finish_operation (CtrdContainer *self)
{
  self->op = CTRD_OP_NONE;
  if (self->exit_pending)
    {
      self->exit_pending = FALSE;
      ctrd_container_handle_exit (self);
    }
}

/* ---------------------------------------------------------------- Rename */

static void
rename_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  g_autofree char *new_name = user_data;
  GError *error = NULL;
  g_autofree char *old_name = NULL;
  CtrdContainer *holder;

  holder = ctrd_daemon_get_container_by_name (self->daemon, new_name);
  if (holder == self)
    {
      ctr_container_complete_rename (CTR_CONTAINER (self), invocation);
      return;
    }
  if (holder != NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                                             "The name %s is already used by another container",
                                             new_name);
      return;
    }
  if (self->run.state == CTRD_STATE_REMOVING)
    {
      ctrd_container_return_invalid_state (self, invocation, "be renamed");
      return;
    }

  old_name = g_steal_pointer (&self->config->name);
  self->config->name = g_strdup (new_name);
  if (!ctrd_db_update_container_config (ctrd_daemon_get_db (self->daemon), self->config, &error))
    {
      g_free (self->config->name);
      self->config->name = g_steal_pointer (&old_name);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  ctr_container_set_name (CTR_CONTAINER (self), self->config->name);
  g_message ("Renamed container %s to %s", old_name, self->config->name);
  ctrd_container_emit_event (self, "rename");
  ctr_container_complete_rename (CTR_CONTAINER (self), invocation);
}

static gboolean
handle_rename (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *new_name)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;

  if (!ctrd_validate_container_name (new_name, &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_MANAGE, rename_authorized,
                            g_strdup (new_name), g_free);
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

static void
add_string_member (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_int_member (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_boolean_member (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

/* Inspect's "State", like podman's. */
static void
add_state_member (JsonBuilder *builder, CtrdContainer *self)
{
  g_autofree char *started = format_time (self->run.started_at);
  g_autofree char *finished = format_time (self->run.finished_at);

  json_builder_set_member_name (builder, "State");
  json_builder_begin_object (builder);
  add_string_member (builder, "Status", ctrd_state_to_string (self->run.state));
  add_boolean_member (builder, "Running", self->run.state == CTRD_STATE_RUNNING);
  add_boolean_member (builder, "Paused", self->run.state == CTRD_STATE_PAUSED);
  add_int_member (builder, "Pid", self->run.pid);
  add_int_member (builder, "ConmonPid", self->run.conmon_pid);
  add_int_member (builder, "ExitCode", self->run.exit_code);
  add_string_member (builder, "Error", self->exit_message != NULL ? self->exit_message : "");
  add_boolean_member (builder, "OOMKilled", ctr_container_get_oomkilled (CTR_CONTAINER (self)));
  add_string_member (builder, "StartedAt", started);
  add_string_member (builder, "FinishedAt", finished);
  ctrd_health_state_add_inspect_json (self->health, builder, "Health");
  json_builder_end_object (builder);
}

/* Where the container's files are on the host. */
static void
add_path_members (JsonBuilder *builder, CtrdContainer *self)
{
  /* The generated files, re-made on every start (libpod's makeBindMounts). */
  static const char *const generated[][2] = {
    { "ResolvConfPath", "resolv.conf" },
    { "HostsPath", "hosts" },
    { "HostnamePath", "hostname" },
    { "ContainerEnvPath", ".containerenv" },
  };
  g_autofree char *bundle = ctrd_container_bundle_dir (self);
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *spec_path = g_build_filename (bundle, "config.json", NULL);
  g_autofree char *log_path = g_build_filename (bundle, "ctr.log", NULL);
  g_autofree char *rootfs = ctrd_container_rootfs_mountpoint (self);

  add_string_member (builder, "BundlePath", bundle);
  add_string_member (builder, "OCIConfigPath", spec_path);
  add_string_member (builder, "LogPath", log_path);
  add_string_member (builder, "RunDir", run_dir);
  add_string_member (builder, "Rootfs", rootfs);
  for (guint i = 0; i < G_N_ELEMENTS (generated); i++)
    {
      g_autofree char *path = g_build_filename (run_dir, generated[i][1], NULL);
      add_string_member (builder, generated[i][0], path);
    }
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
  g_autofree char *created = format_time (self->config->created_at);
  g_auto (GStrv) argv = ctrd_container_config_get_argv (self->config);
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);

  json_builder_begin_object (builder);
  add_string_member (builder, "Id", self->config->id);
  add_string_member (builder, "Name", self->config->name);
  add_string_member (builder, "Created", created);
  add_string_member (builder, "Image", self->config->image_id);
  add_string_member (builder, "ImageName", self->config->image_name);
  add_int_member (builder, "Owner", self->config->owner);
  add_string_member (builder, "ImageCommit", image != NULL ? ctrd_image_get_commit (image) : "");
  add_string_member (builder, "Path", argv[0] != NULL ? argv[0] : "");
  json_builder_set_member_name (builder, "Args");
  json_builder_begin_array (builder);
  for (guint i = argv[0] != NULL ? 1 : 0; argv[i] != NULL; i++)
    json_builder_add_string_value (builder, argv[i]);
  json_builder_end_array (builder);
  add_state_member (builder, self);
  add_int_member (builder, "RestartCount", self->run.restart_count);
  json_builder_set_member_name (builder, "Config");
  json_builder_add_value (builder, g_steal_pointer (&config));
  add_path_members (builder, self);
  add_string_member (builder, "OCIRuntime",
                     ctrd_runtime_get_path (ctrd_daemon_get_runtime (self->daemon)));
  ctrd_container_add_network_settings (self, builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

static void
inspect_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  g_autofree char *json = inspect_json (self);

  ctr_container_complete_inspect (CTR_CONTAINER (self), invocation, json);
}

static gboolean
handle_inspect (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_EXEC,
                            inspect_authorized, NULL, NULL);
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
  iface->handle_rename = handle_rename;
  iface->handle_inspect = handle_inspect;
  ctrd_container_lifecycle_iface_init (iface);
  ctrd_container_exec_iface_init (iface);
  ctrd_container_fs_iface_init (iface);
  ctrd_container_copy_iface_init (iface);
  ctrd_container_limits_iface_init (iface);
  ctrd_container_health_iface_init (iface);
}

/* ---------------------------------------------------------------- removing several */

typedef struct
{
  guint pending;
  GError *first_error;
} RemoveAll;

static void
remove_all_free (RemoveAll *all)
{
  g_clear_error (&all->first_error);
  g_free (all);
}

static void
on_one_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  RemoveAll *all = g_task_get_task_data (task);
  GError *error = NULL;

  if (!ctrd_container_remove_finish (CTRD_CONTAINER (source), result, &error))
    {
      g_prefix_error (&error,
                      "Removing container %s: ", ctrd_container_get_name (CTRD_CONTAINER (source)));
      if (all->first_error == NULL)
        all->first_error = error;
      else
        g_error_free (error);
    }
  if (--all->pending > 0)
    return;
  if (all->first_error != NULL)
    g_task_return_error (task, g_steal_pointer (&all->first_error));
  else
    g_task_return_boolean (task, TRUE);
}

void
ctrd_container_remove_all_async (GPtrArray *containers, gboolean force, gpointer source_object,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, NULL, callback, user_data);
  RemoveAll *all = g_new0 (RemoveAll, 1);

  g_task_set_source_tag (task, ctrd_container_remove_all_async);
  g_task_set_task_data (task, all, (GDestroyNotify) remove_all_free);
  if (containers->len == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  all->pending = containers->len;
  for (guint i = 0; i < containers->len; i++)
    ctrd_container_remove_async (containers->pdata[i], force, FALSE, on_one_removed,
                                 g_object_ref (task));
}

gboolean
ctrd_container_remove_all_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
