/* ctrd-container-health.c: the container's health check: a main-loop timer
 * per running container (no thread), each check run under conmon with its
 * timeout (ctrd_runtime_probe_async), the status (Health) and its last
 * results kept in the database, a health_status event when the status
 * changes, HealthOnFailure's action once it is unhealthy, and
 * RunHealthCheck. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "ctrd-container-private.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-util.h"

/* RunHealthCheck calls that may wait for one check. */
#define MAX_HEALTH_WAITERS 32

typedef struct
{
  CtrdContainer *container;
  char *process_path;
  guint64 start_usec;
} CheckData;

static void
check_data_free (CheckData *data)
{
  if (data->process_path != NULL)
    (void) g_unlink (data->process_path);
  g_free (data->process_path);
  g_object_unref (data->container);
  g_free (data);
}

static gboolean
runs (CtrdContainer *self)
{
  return self->run.state == CTRD_STATE_RUNNING || self->run.state == CTRD_STATE_PAUSED;
}

void
ctrd_container_publish_health (CtrdContainer *self)
{
  ctr_container_set_health (CTR_CONTAINER (self),
                            ctrd_health_status_to_string (self->health->status));
}

static void
save_health (CtrdContainer *self)
{
  g_autofree char *json = ctrd_health_state_to_json (self->health);
  g_autoptr (GError) error = NULL;

  if (!ctrd_db_update_container_health (ctrd_daemon_get_db (self->daemon), self->config->id,
                                        json, &error))
    g_warning ("Container %s: cannot save its health: %s", self->config->name, error->message);
}

/* Answers the RunHealthCheck calls waiting: with @status, or with @error
 * (taken; NULL when @status is given). */
static void
answer_health_waiters (CtrdContainer *self, const char *status, GError *error)
{
  for (guint i = 0; i < self->health_waiters->len; i++)
    {
      GDBusMethodInvocation *invocation = self->health_waiters->pdata[i];

      if (status != NULL)
        ctr_container_complete_run_health_check (CTR_CONTAINER (self), invocation, status);
      else
        ctrd_return_error (invocation, g_error_copy (error), CTRD_ERROR_RUNTIME_ERROR);
    }
  g_ptr_array_set_size (self->health_waiters, 0);
  g_clear_error (&error);
}

/* ---------------------------------------------------------------- the timer */

static void start_check (CtrdContainer *self);

static gboolean
on_check_due (gpointer user_data)
{
  CtrdContainer *self = user_data;

  self->health_timer_id = 0;
  /* a paused container is not checked (podman): the next interval is */
  if (self->run.state == CTRD_STATE_PAUSED)
    ctrd_container_schedule_health_check (self);
  else
    start_check (self);
  return G_SOURCE_REMOVE;
}

void
ctrd_container_schedule_health_check (CtrdContainer *self)
{
  g_clear_handle_id (&self->health_timer_id, g_source_remove);
  if (self->removed || !runs (self) || !ctrd_health_config_enabled (&self->config->health))
    return;
  self->health_timer_id =
      g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, self->config->health.interval, on_check_due,
                                  g_object_ref (self), g_object_unref);
}

void
ctrd_container_stop_health_checks (CtrdContainer *self)
{
  g_clear_handle_id (&self->health_timer_id, g_source_remove);
  if (self->health_cancellable != NULL)
    g_cancellable_cancel (self->health_cancellable);
}

void
ctrd_container_health_follow_state (CtrdContainer *self, CtrdState old_state)
{
  gboolean ran = old_state == CTRD_STATE_RUNNING || old_state == CTRD_STATE_PAUSED ||
                 old_state == CTRD_STATE_STOPPING;

  if (self->run.state == CTRD_STATE_RUNNING && !ran)
    {
      /* a new run: starting again, the failures forgotten */
      ctrd_health_state_begin_run (self->health, &self->config->health);
      save_health (self);
      ctrd_container_publish_health (self);
      ctrd_container_schedule_health_check (self);
    }
  else if (!runs (self) && self->run.state != CTRD_STATE_STOPPING)
    ctrd_container_stop_health_checks (self);
}

void
ctrd_container_restore_health (CtrdContainer *self, const char *json)
{
  g_autoptr (GError) error = NULL;
  CtrdHealthState *state = ctrd_health_state_from_json (json, &error);

  if (state == NULL)
    {
      g_warning ("Container %s: its health state cannot be read (%s); starting afresh",
                 self->config->name, error->message);
      state = ctrd_health_state_new ();
      ctrd_health_state_begin_run (state, &self->config->health);
    }
  ctrd_health_state_free (self->health);
  self->health = state;
  ctrd_container_publish_health (self);
  ctrd_container_schedule_health_check (self);
}

void
ctrd_container_health_config_changed (CtrdContainer *self)
{
  if (self->health->status == CTRD_HEALTH_NONE && runs (self))
    {
      ctrd_health_state_begin_run (self->health, &self->config->health);
      save_health (self);
      ctrd_container_publish_health (self);
    }
  ctrd_container_schedule_health_check (self);
}

/* ---------------------------------------------------------------- HealthOnFailure */

static void
on_action_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Container %s: its unhealthy action failed: %s", self->config->name,
               error->message);
}

static void
on_restart_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!ctrd_container_start_finish (CTRD_CONTAINER (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_action_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CtrdContainer *self = CTRD_CONTAINER (source);
  GError *error = NULL;

  if (!ctrd_container_stop_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (GPOINTER_TO_INT (g_task_get_task_data (task)) != CTRD_HEALTH_ACTION_RESTART)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  ctrd_container_emit_event (self, "restart");
  ctrd_container_start_async (self, on_restart_started, g_steal_pointer (&task));
}

static void
on_action_killed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CtrdContainer *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!ctrd_runtime_kill_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* kill: SIGKILL, an exit the restart policy may answer (as podman's);
 * stop: as Stop (the policy leaves it stopped); restart: Stop, then Start. */
static void
run_unhealthy_action (CtrdContainer *self)
{
  CtrdHealthAction action = self->config->health.on_failure;
  GTask *task;

  if (action == CTRD_HEALTH_ACTION_NONE || self->op != CTRD_OP_NONE ||
      self->run.state != CTRD_STATE_RUNNING)
    return;
  g_message ("Container %s is unhealthy: %s", self->config->name,
             ctrd_health_action_to_string (action));
  task = g_task_new (self, NULL, on_action_done, NULL);
  g_task_set_task_data (task, GINT_TO_POINTER (action), NULL);
  if (action == CTRD_HEALTH_ACTION_KILL)
    ctrd_runtime_kill_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, SIGKILL,
                             TRUE, NULL, on_action_killed, task);
  else
    ctrd_container_stop_async (self, on_action_stopped, task);
}

/* ---------------------------------------------------------------- one check */

/* The result of a check that could not say more than @why. */
static CtrdHealthResult *
failed_result (guint64 start_usec, const char *why)
{
  return ctrd_health_result_new (start_usec, ctrd_now_usec (), -1, why, strlen (why));
}

static CtrdHealthResult *
result_from_probe (CtrdContainer *self, guint64 start_usec, const CtrdProbeResult *probe)
{
  g_autofree char *why = NULL;

  if (probe->timed_out)
    {
      why = g_strdup_printf ("the health check timed out after %u s",
                             self->config->health.timeout);
      return failed_result (start_usec, why);
    }
  if (probe->error_message != NULL)
    return failed_result (start_usec, probe->error_message);
  return ctrd_health_result_new (start_usec, ctrd_now_usec (), probe->exit_code, probe->output,
                                 probe->output_len);
}

/* Takes @result: the status, the database, the bus, the callers, the action. */
static void
record_check (CtrdContainer *self, CtrdHealthResult *result)
{
  gboolean healthy = result->exit_code == 0;

  if (ctrd_health_state_record (self->health, &self->config->health, self->run.started_at,
                                result))
    {
      save_health (self);
      ctrd_container_publish_health (self);
      ctrd_container_emit_event (self, "health_status");
    }
  else
    save_health (self);
  answer_health_waiters (self, healthy ? "healthy" : "unhealthy", NULL);
  ctrd_container_schedule_health_check (self);
  if (self->health->status == CTRD_HEALTH_UNHEALTHY)
    run_unhealthy_action (self);
}

static void
on_check_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CheckData *data = user_data;
  CtrdContainer *self = data->container;
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdProbeResult) probe =
      ctrd_runtime_probe_finish (ctrd_daemon_get_runtime (self->daemon), res, &error);

  g_clear_object (&self->health_cancellable);
  if ((probe == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) ||
      !runs (self) || self->removed)
    {
      answer_health_waiters (self, NULL,
                             g_error_new (CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                          "Container %s stopped during its health check",
                                          self->config->name));
      check_data_free (data);
      return;
    }
  record_check (self, probe != NULL ? result_from_probe (self, data->start_usec, probe)
                                    : failed_result (data->start_usec, error->message));
  check_data_free (data);
}

/* The health check's own directory in the run dir (0700). */
static char *
ensure_work_dir (CtrdContainer *self, GError **error)
{
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *dir = g_build_filename (run_dir, "health", NULL);

  if (g_mkdir (dir, 0700) != 0 && errno != EEXIST)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_STORAGE_ERROR, "Cannot create %s", dir);
      return NULL;
    }
  return g_steal_pointer (&dir);
}

/* Runs the check unless one is under way (whose result then serves). */
static void
start_check (CtrdContainer *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *work_dir = NULL;
  CheckData *data;

  if (self->health_cancellable != NULL)
    return;
  data = g_new0 (CheckData, 1);
  data->container = g_object_ref (self);
  data->start_usec = ctrd_now_usec ();
  if ((work_dir = ensure_work_dir (self, &error)) == NULL ||
      (data->process_path = ctrd_container_write_process_file (
           self, (const char *const *) self->config->health.cmd, work_dir, &error)) == NULL)
    {
      record_check (self, failed_result (data->start_usec, error->message));
      check_data_free (data);
      return;
    }
  self->health_cancellable = g_cancellable_new ();
  ctrd_runtime_probe_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                            data->process_path, work_dir, self->config->health.timeout,
                            CTRD_HEALTH_OUTPUT_MAX, self->health_cancellable, on_check_done, data);
}

/* ---------------------------------------------------------------- RunHealthCheck */

static void
run_health_check_authorized (gpointer object, GDBusMethodInvocation *invocation,
                             gpointer user_data)
{
  CtrdContainer *self = object;

  if (!ctrd_health_config_enabled (&self->config->health))
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                             "Container %s has no health check (no HealthCmd)",
                                             self->config->name);
      return;
    }
  if (self->run.state != CTRD_STATE_RUNNING || self->op == CTRD_OP_START)
    {
      ctrd_container_return_invalid_state (self, invocation, "run its health check (it must be running)");
      return;
    }
  if (self->health_waiters->len >= MAX_HEALTH_WAITERS)
    {
      g_dbus_method_invocation_return_error (
          invocation, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
          "Container %s: %d RunHealthCheck calls already wait for its check", self->config->name,
          MAX_HEALTH_WAITERS);
      return;
    }
  g_ptr_array_add (self->health_waiters, invocation);
  start_check (self);
}

static gboolean
handle_run_health_check (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            run_health_check_authorized, NULL, NULL);
  return TRUE;
}

void
ctrd_container_health_iface_init (CtrContainerIface *iface)
{
  iface->handle_run_health_check = handle_run_health_check;
}
