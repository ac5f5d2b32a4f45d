/* ctrd-container-limits.c: the container's resources: GetStats, Update (the
 * limits, live through the runtime), Checkpoint and Restore (CRIU). */
#include "config.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "ctrd-checkpoint.h"
#include "ctrd-container-private.h"
#include "ctrd-error.h"
#include "ctrd-options.h"

/* ---------------------------------------------------------------- properties */

void
ctrd_container_publish_limits (CtrdContainer *self)
{
  CtrContainer *iface = CTR_CONTAINER (self);
  g_autofree char *restart_policy = ctrd_restart_policy_to_string (&self->config->restart);

  g_object_freeze_notify (G_OBJECT (self));
  ctr_container_set_memory_limit (iface, self->config->limits.memory_limit);
  ctr_container_set_cpu_quota (iface, self->config->limits.cpu_quota);
  ctr_container_set_pids_limit (iface, self->config->limits.pids_limit);
  ctr_container_set_restart_policy (iface, restart_policy);
  g_object_thaw_notify (G_OBJECT (self));
}

/* ---------------------------------------------------------------- GetStats */

static void
stats_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  const char *id = task_data;
  g_autofree char *path = ctrd_cgroup_path_for_container (id);
  CtrdCgroupStats stats;
  GError *error = NULL;

  if (!ctrd_cgroup_read_stats ("/sys/fs/cgroup", path, &stats, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_memdup2 (&stats, sizeof stats), g_free);
}

static void
on_stats_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;
  g_autofree CtrdCgroupStats *stats = g_task_propagate_pointer (G_TASK (result), &error);
  GVariantBuilder builder;

  if (stats == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "CpuTimeNs", g_variant_new_uint64 (stats->cpu_time_ns));
  g_variant_builder_add (&builder, "{sv}", "MemoryBytes",
                         g_variant_new_uint64 (stats->memory_bytes));
  g_variant_builder_add (&builder, "{sv}", "MemoryLimit",
                         g_variant_new_uint64 (stats->memory_limit));
  g_variant_builder_add (&builder, "{sv}", "Pids", g_variant_new_uint64 (stats->pids));
  g_variant_builder_add (&builder, "{sv}", "BlockReadBytes",
                         g_variant_new_uint64 (stats->block_read_bytes));
  g_variant_builder_add (&builder, "{sv}", "BlockWriteBytes",
                         g_variant_new_uint64 (stats->block_write_bytes));
  ctr_container_complete_get_stats (CTR_CONTAINER (self), invocation,
                                    g_variant_builder_end (&builder));
}

/* Open to every user (API.md): a few small kernel files, read in a worker
 * so that a slow sysfs never holds the main loop. */
static gboolean
handle_get_stats (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  g_autoptr (GTask) task = NULL;

  if (!ctrd_container_is_live_state (self->run.state))
    return ctrd_container_return_invalid_state (self, invocation, "report stats");
  task = g_task_new (self, NULL, on_stats_done, invocation);
  g_task_set_task_data (task, g_strdup (self->config->id), g_free);
  g_task_run_in_thread (task, stats_thread);
  return TRUE;
}

/* ---------------------------------------------------------------- Update */

/* One key of Update's options: its type and how it changes the request.
 * The table is what Update accepts; other settings join it with their own
 * apply function. */
typedef struct
{
  CtrdLimits limits;
  CtrdRestartPolicy restart;
  char *restart_text; /* RestartPolicy as given; NULL = unchanged */
  CtrdHealthConfig health;
  gboolean health_changed;
} UpdateRequest;

typedef void (*UpdateApplyFunc) (GVariant *value, UpdateRequest *request);

static void
apply_memory_limit (GVariant *value, UpdateRequest *request)
{
  request->limits.memory_limit = g_variant_get_uint64 (value);
}

static void
apply_cpu_quota (GVariant *value, UpdateRequest *request)
{
  request->limits.cpu_quota = g_variant_get_double (value);
}

static void
apply_pids_limit (GVariant *value, UpdateRequest *request)
{
  request->limits.pids_limit = g_variant_get_int64 (value);
}

static void
apply_restart_policy (GVariant *value, UpdateRequest *request)
{
  g_free (request->restart_text);
  request->restart_text = g_variant_dup_string (value, NULL);
}

static const struct
{
  CtrdOptionSpec spec;
  UpdateApplyFunc apply;
} update_keys[] = {
  { { "MemoryLimit", "t" }, apply_memory_limit },
  { { "CpuQuota", "d" }, apply_cpu_quota },
  { { "PidsLimit", "x" }, apply_pids_limit },
  { { "RestartPolicy", "s" }, apply_restart_policy },
};

static const CtrdOptionSpec health_keys[] = { CTRD_HEALTH_OPTION_SPECS };

/* The health check with @options over it. */
static gboolean
decode_health_update (CtrdContainer *self, GVariant *options, UpdateRequest *request,
                      const char *what, GError **error)
{
  CtrdHealthRequest health = { 0 };
  g_autofree const char **cmd = NULL;

  ctrd_lookup_health_options (options, &health, &cmd);
  ctrd_health_config_copy (&self->config->health, &request->health);
  request->health_changed = !ctrd_health_request_empty (&health);
  return ctrd_health_config_apply (&request->health, &health, what, error);
}

/* The request: the container's settings with @options over them. */
static gboolean
decode_update (CtrdContainer *self, GVariant *options, UpdateRequest *request, GError **error)
{
  CtrdOptionSpec specs[G_N_ELEMENTS (update_keys) + G_N_ELEMENTS (health_keys)];
  g_autofree char *what = g_strdup_printf ("Container %s", self->config->name);

  for (gsize i = 0; i < G_N_ELEMENTS (update_keys); i++)
    specs[i] = update_keys[i].spec;
  for (gsize i = 0; i < G_N_ELEMENTS (health_keys); i++)
    specs[G_N_ELEMENTS (update_keys) + i] = health_keys[i];
  if (!ctrd_validate_options (options, specs, G_N_ELEMENTS (specs), "Update", error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  request->limits = self->config->limits;
  for (gsize i = 0; i < G_N_ELEMENTS (update_keys); i++)
    {
      g_autoptr (GVariant) value = g_variant_lookup_value (options, update_keys[i].spec.key, NULL);

      if (value != NULL)
        update_keys[i].apply (value, request);
    }
  request->restart = self->config->restart;
  if (request->restart_text != NULL &&
      !ctrd_restart_policy_parse (request->restart_text, &request->restart, error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  if (self->config->auto_remove && request->restart.kind != CTRD_RESTART_NO)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: it has AutoRemove, so it cannot take the restart policy \"%s\"", what,
                   request->restart_text);
      return FALSE;
    }
  return ctrd_limits_validate (&request->limits, what, error) &&
         decode_health_update (self, options, request, what, error);
}

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  UpdateRequest request;
  GError *error; /* the runtime's refusal, kept while the old limits go back */
} UpdateData;

static void
update_data_free (UpdateData *data)
{
  g_clear_object (&data->container);
  g_clear_error (&data->error);
  g_free (data->request.restart_text);
  ctrd_health_config_clear (&data->request.health);
  g_free (data);
}

/* Records the new settings, then publishes them. */
static void
update_record (UpdateData *data)
{
  CtrdContainer *self = data->container;
  CtrdLimits old = self->config->limits;
  CtrdRestartPolicy old_restart = self->config->restart;
  CtrdHealthConfig old_health = self->config->health;
  GError *error = NULL;

  self->config->limits = data->request.limits;
  self->config->restart = data->request.restart;
  self->config->health = data->request.health;
  if (!ctrd_db_update_container_config (ctrd_daemon_get_db (self->daemon), self->config, &error))
    {
      self->config->limits = old;
      self->config->restart = old_restart;
      self->config->health = old_health;
      ctrd_return_error (data->invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  /* the request's copy now holds the old one, freed with the request */
  data->request.health = old_health;
  ctrd_container_publish_limits (self);
  if (data->request.health_changed)
    ctrd_container_health_config_changed (self);
  ctrd_container_emit_event (self, "update");
  ctr_container_complete_update (CTR_CONTAINER (self), data->invocation);
}

static void
on_update_restored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UpdateData *data = user_data;
  CtrdContainer *self = data->container;
  g_autoptr (GError) error = NULL;

  /* runc may have applied part of it before the kernel refused the rest */
  if (!ctrd_runtime_update_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    g_warning ("Container %s: the limits it had could not be set again: %s", self->config->name,
               error->message);
  ctrd_return_error (data->invocation, g_steal_pointer (&data->error), CTRD_ERROR_RUNTIME_ERROR);
  self->updating = FALSE;
  update_data_free (data);
}

static void
on_update_applied (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UpdateData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;

  if (!ctrd_runtime_update_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      g_prefix_error (&error, "Container %s: the limits cannot apply: ", self->config->name);
      data->error = error;
      ctrd_runtime_update_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, &self->config->limits,
                                 NULL, on_update_restored, data);
      return;
    }
  update_record (data);
  self->updating = FALSE;
  update_data_free (data);
}

static void
update_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  UpdateData *data = user_data;

  data->invocation = invocation;
  if (self->op != CTRD_OP_NONE || self->updating || self->run.state == CTRD_STATE_REMOVING)
    {
      ctrd_container_return_invalid_state (self, invocation, "be updated");
      update_data_free (data);
      return;
    }
  if (!ctrd_container_is_live_state (self->run.state))
    {
      update_record (data);
      update_data_free (data);
      return;
    }
  self->updating = TRUE;
  ctrd_runtime_update_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                             &data->request.limits, NULL, on_update_applied, data);
}

static gboolean
handle_update (CtrContainer *iface, GDBusMethodInvocation *invocation, GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  UpdateData *data = g_new0 (UpdateData, 1);
  GError *error = NULL;

  if (!decode_update (self, options, &data->request, &error))
    {
      update_data_free (data);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  data->container = g_object_ref (self);
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_MANAGE, update_authorized,
                            data, (GDestroyNotify) update_data_free);
  return TRUE;
}

/* ---------------------------------------------------------------- Checkpoint, Restore */

static const CtrdOptionSpec checkpoint_options[] = {
  { "LeaveRunning", "b" },
  { "Export", "h" },
};

static const CtrdOptionSpec restore_options[] = {
  { "Import", "h" },
};

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  gboolean restore;
  gboolean leave_running;
  int archive_fd; /* Export's or Import's; -1 none */
} CheckpointData;

static void
checkpoint_data_free (CheckpointData *data)
{
  g_clear_object (&data->container);
  if (data->archive_fd >= 0)
    g_close (data->archive_fd, NULL);
  g_free (data);
}

static void
on_checkpoint_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckpointData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;

  self->checkpointing = FALSE;
  if (!ctrd_runtime_checkpoint_finish (ctrd_daemon_get_runtime (self->daemon), result, &error))
    {
      g_prefix_error (&error, "Container %s: checkpoint failed: ", self->config->name);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_RUNTIME_ERROR);
    }
  else
    {
      ctrd_container_emit_event (self, "checkpoint");
      ctr_container_complete_checkpoint (CTR_CONTAINER (self), data->invocation);
    }
  checkpoint_data_free (data);
}

/* CRIU works here: runc dumps into the bundle's checkpoint directory (like
 * libpod's checkpoint, with its --image-path). The archive forms (Export,
 * Import) and Restore through conmon's --restore are not served yet: they
 * are refused before anything is done. */
static void
checkpoint_with_criu (CheckpointData *data)
{
  CtrdContainer *self = data->container;
  g_autofree char *bundle = NULL;
  g_autofree char *image_dir = NULL;

  if (data->restore || data->archive_fd >= 0)
    {
      g_dbus_method_invocation_return_error (
          data->invocation, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
          "Container %s: %s is not supported by this daemon yet", self->config->name,
          data->restore ? "Restore" : "a checkpoint archive (Export)");
      checkpoint_data_free (data);
      return;
    }
  if (self->op != CTRD_OP_NONE || self->updating || self->checkpointing ||
      self->run.state != CTRD_STATE_RUNNING)
    {
      ctrd_container_return_invalid_state (self, data->invocation, "be checkpointed");
      checkpoint_data_free (data);
      return;
    }
  bundle = ctrd_container_bundle_dir (self);
  image_dir = g_build_filename (bundle, "checkpoint", NULL);
  if (g_mkdir_with_parents (image_dir, 0700) < 0)
    {
      g_dbus_method_invocation_return_error (data->invocation, CTRD_ERROR,
                                             CTRD_ERROR_STORAGE_ERROR,
                                             "Container %s: cannot make %s: %s",
                                             self->config->name, image_dir, g_strerror (errno));
      checkpoint_data_free (data);
      return;
    }
  self->checkpointing = TRUE;
  ctrd_runtime_checkpoint_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                                 image_dir, data->leave_running, NULL, on_checkpoint_done, data);
}

static void
on_criu_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckpointData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;

  if (!ctrd_criu_check_finish (result, &error))
    {
      g_prefix_error (&error, "Container %s: cannot %s: ", self->config->name,
                      data->restore ? "restore" : "checkpoint");
      ctrd_return_error (data->invocation, error, CTRD_ERROR_RUNTIME_ERROR);
      checkpoint_data_free (data);
      return;
    }
  checkpoint_with_criu (data);
}

static void
checkpoint_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CheckpointData *data = user_data;

  data->invocation = invocation;
  ctrd_criu_check_async (NULL, on_criu_checked, data);
}

static gboolean
start_checkpoint (CtrdContainer *self, GDBusMethodInvocation *invocation, GVariant *options,
                  gboolean restore)
{
  const char *fd_key = restore ? "Import" : "Export";
  g_autoptr (GVariant) handle = g_variant_lookup_value (options, fd_key, G_VARIANT_TYPE_HANDLE);
  CheckpointData *data;
  GError *error = NULL;
  int fd = -1;

  if (!(restore ? ctrd_validate_options (options, restore_options, G_N_ELEMENTS (restore_options),
                                         "Restore", &error)
                : ctrd_validate_options (options, checkpoint_options,
                                         G_N_ELEMENTS (checkpoint_options), "Checkpoint", &error)))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  if (handle != NULL)
    {
      g_autofree char *what = g_strdup_printf ("%s fd", fd_key);

      fd = ctrd_take_fd_argument (g_dbus_message_get_unix_fd_list (
                                      g_dbus_method_invocation_get_message (invocation)),
                                  handle, 1,
                                  (restore ? CTRD_FD_READABLE : CTRD_FD_WRITABLE) | CTRD_FD_STREAM,
                                  what, &error);
      if (fd < 0)
        {
          ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
          return TRUE;
        }
    }
  data = g_new0 (CheckpointData, 1);
  data->container = g_object_ref (self);
  data->restore = restore;
  data->archive_fd = fd;
  g_variant_lookup (options, "LeaveRunning", "b", &data->leave_running);
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_CREATE, checkpoint_authorized,
                            data, (GDestroyNotify) checkpoint_data_free);
  return TRUE;
}

static gboolean
handle_checkpoint (CtrContainer *iface, GDBusMethodInvocation *invocation, GVariant *options)
{
  return start_checkpoint (CTRD_CONTAINER (iface), invocation, options, FALSE);
}

static gboolean
handle_restore (CtrContainer *iface, GDBusMethodInvocation *invocation, GVariant *options)
{
  return start_checkpoint (CTRD_CONTAINER (iface), invocation, options, TRUE);
}

void
ctrd_container_limits_iface_init (CtrContainerIface *iface)
{
  iface->handle_get_stats = handle_get_stats;
  iface->handle_update = handle_update;
  iface->handle_checkpoint = handle_checkpoint;
  iface->handle_restore = handle_restore;
}
