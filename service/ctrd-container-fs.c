/* ctrd-container-fs.c: the container's file system: GetSizes, Export,
 * Commit, GetChanges, Verify, and moving it to another image (Rebase,
 * Rollback). The walks run in worker threads. */
#include "config.h"

#include <fcntl.h>

#include <glib/gstdio.h>

#include "ctrd-container-private.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-treewalk.h"
#include "ctrd-image.h"
#include "ctrd-job.h"
#include "ctrd-options.h"
#include "ctrd-util.h"

/* ---------------------------------------------------------------- GetSizes */

#define SIZES_CACHE_USEC (5 * G_USEC_PER_SEC)

static void
sizes_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  const char *path = task_data;
  GError *error = NULL;
  guint64 bytes = 0;
  ctrd_autofd int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    {
      ctrd_throw_errno (&error, "Cannot open %s", path);
      g_task_return_error (task, error);
      return;
    }
  if (!ctrd_treewalk_disk_usage (fd, &bytes, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
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
                                          image_size + self->cached_rw_size, self->cached_rw_size);
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
  g_task_set_task_data (task, ctrd_container_upper_dir (self), g_free);
  g_task_run_in_thread (task, sizes_thread);
  return TRUE;
}

/* ---------------------------------------------------------------- Export */

typedef struct
{
  GDBusMethodInvocation *invocation;
  int out_fd;
  char *mountpoint;
  char *commit; /* set when the root must be mounted for the export */
  CtrdStorage *storage;
  char *id;
  CtrdJob *job;
} ExportData;

static void
export_data_free (gpointer user_data)
{
  ExportData *data = user_data;

  ctrd_close_fd (&data->out_fd);
  g_free (data->mountpoint);
  g_free (data->commit);
  g_free (data->id);
  g_clear_object (&data->job);
  g_free (data);
}

/* Not running: the image's checkout is mounted at the container's mount
 * point for the copy. */
gboolean
ctrd_container_mount_root_for_copy (CtrdStorage *storage, const char *id, const char *commit,
                                    const char *mountpoint, GCancellable *cancellable,
                                    GError **error)
{
  g_autofree char *checkout = ctrd_storage_ensure_checkout (storage, commit, cancellable, error);
  g_autofree char *parent = g_path_get_dirname (mountpoint);

  if (checkout == NULL)
    return FALSE;
  if (g_mkdir_with_parents (parent, 0700) < 0)
    return ctrd_throw_errno (error, "Cannot prepare %s", mountpoint);
  return ctrd_storage_mount_rootfs (storage, id, checkout, mountpoint, error);
}

/* Mounted here only for the copy: unmounted again, leaving no empty mount
 * point (nor an empty run dir, for a container never started). */
void
ctrd_container_unmount_root_after_copy (const char *mountpoint)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *parent = g_path_get_dirname (mountpoint);

  if (!ctrd_storage_unmount_rootfs (mountpoint, &error))
    {
      g_warning ("%s", error->message);
      return;
    }
  g_rmdir (mountpoint);
  g_rmdir (parent);
}

gboolean
ctrd_container_begin_root_copy (CtrdContainer *self, GDBusMethodInvocation *invocation,
                                const char *what, CtrdContainerOp op, char **out_mountpoint,
                                char **out_commit)
{
  CtrdImage *image;

  if (self->op != CTRD_OP_NONE || self->run.state == CTRD_STATE_REMOVING ||
      self->run.state == CTRD_STATE_STOPPED)
    return ctrd_container_return_invalid_state (self, invocation, what);
  *out_commit = NULL;
  if (self->run.state == CTRD_STATE_CONFIGURED || self->run.state == CTRD_STATE_EXITED)
    {
      image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
      if (image == NULL)
        {
          g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                                 "Container %s: its image is gone",
                                                 self->config->name);
          return FALSE;
        }
      /* Not running: mount it for the copy, and keep Start away meanwhile. */
      *out_commit = g_strdup (ctrd_image_get_commit (image));
      self->op = op;
    }
  *out_mountpoint = ctrd_container_rootfs_mountpoint (self);
  return TRUE;
}

/* The tar of the mounted root, walked fd-relative (so no symlink can lead
 * the copy out of the root, even while the container runs). */
static gboolean
write_export_tar (ExportData *data, GCancellable *cancellable, GError **error)
{
  ctrd_autofd int root_fd =
      open (data->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  guint64 bytes = 0;

  if (root_fd < 0)
    return ctrd_throw_errno (error, "Cannot open %s", data->mountpoint);
  if (ctrd_treewalk_tar_full (root_fd, data->out_fd, &bytes, ctrd_job_progress_func, data->job,
                              cancellable, error))
    return TRUE;
  if (error != NULL && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    {
      g_clear_error (error);
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                           "Export stopped: the reader closed its end");
    }
  return FALSE;
}

/* Worker: libpod's export: mount the root if it is not mounted, write the
 * tar, unmount what was mounted here. */
static void
export_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ExportData *data = task_data;
  GError *error = NULL;
  gboolean ok;

  if (data->commit != NULL &&
      !ctrd_container_mount_root_for_copy (data->storage, data->id, data->commit, data->mountpoint,
                                           cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  ok = write_export_tar (data, cancellable, &error);
  if (data->commit != NULL)
    ctrd_container_unmount_root_after_copy (data->mountpoint);
  if (!ok)
    {
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
    ctrd_container_finish_operation (self);
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

/* Takes @user_data, the ExportData holding the caller's fd, for the worker. */
static void
export_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  g_autoptr (GTask) task = NULL;
  ExportData *data = user_data;
  GError *error = NULL;

  if (!ctrd_job_check_quota (invocation, "Export", &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_LIMIT_EXCEEDED);
      export_data_free (data);
      return;
    }
  if (!ctrd_container_begin_root_copy (self, invocation, "be exported", CTRD_OP_EXPORT,
                                       &data->mountpoint, &data->commit))
    {
      export_data_free (data);
      return;
    }
  data->invocation = invocation;
  data->storage = ctrd_daemon_get_storage (self->daemon);
  data->id = g_strdup (self->config->id);
  /* A Job shows the bytes written and lets the caller (or root) cancel. */
  data->job = ctrd_job_new (self->daemon, "export", self->object_path, invocation);
  task = g_task_new (self, ctrd_job_get_cancellable (data->job), on_export_done, NULL);
  g_task_set_task_data (task, data, export_data_free);
  ctrd_daemon_run_transfer (self->daemon, g_steal_pointer (&task), export_thread);
}

static gboolean
handle_export (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
               GVariant *fd_handle)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  ExportData *data = g_new0 (ExportData, 1);

  data->out_fd = ctrd_take_fd_argument (
      fd_list, fd_handle, 1, CTRD_FD_WRITABLE | CTRD_FD_NOT_DIRECTORY, "Export fd", &error);
  if (data->out_fd < 0)
    {
      export_data_free (data);
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, export_authorized, data,
                            export_data_free);
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
  { "Command", "as" },   { "Entrypoint", "as" }, { "Env", "as" },
  { "Labels", "a{ss}" }, { "Pause", "b" },
};

typedef struct
{
  CtrdContainer *container;
  GDBusMethodInvocation *invocation;
  char *name; /* normalised, or NULL */
  char **command, **entrypoint, **env;
  GHashTable *labels;
  gboolean pause;
  gboolean paused_here; /* Commit froze the container and must thaw it */
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
  options.max_bytes = ctrd_daemon_get_config (self->daemon)->commit_max_bytes;
  data->result =
      ctrd_storage_commit_container (ctrd_daemon_get_storage (self->daemon), data->base_commit,
                                     data->upper, &options, cancellable, &error);
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

  ctrd_container_finish_operation (self);
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
    image =
        ctrd_image_publish (self->daemon, data->result, data->name != NULL ? names : NULL, &error);
  if (image != NULL)
    {
      g_message ("Committed container %s as image %.12s", self->config->name,
                 ctrd_image_get_id (image));
      if (data->job != NULL)
        ctrd_job_set_object (data->job, ctrd_image_get_object_path (image));
      ctrd_container_emit_event (self, "commit");
      data->image_path = g_strdup (ctrd_image_get_object_path (image));
    }
  if (data->paused_here)
    {
      /* Thawed whatever happened; the answer waits for the state to be right. */
      if (image == NULL)
        {
          commit_finish (data, error);
          ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, FALSE,
                                    NULL, NULL, NULL);
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

/* Takes @user_data, the checked CommitData, through the freeze, the worker
 * and the thaw. */
static void
commit_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  CommitData *data = user_data;
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  GError *error = NULL;

  if (!ctrd_job_check_quota (invocation, "Commit", &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_LIMIT_EXCEEDED);
      commit_data_free (data);
      return;
    }
  if (image == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s or its image was removed",
                                             self->config->name);
      commit_data_free (data);
      return;
    }
  if (self->op != CTRD_OP_NONE || self->run.state == CTRD_STATE_REMOVING)
    {
      ctrd_container_return_invalid_state (self, invocation, "be committed");
      commit_data_free (data);
      return;
    }
  data->container = g_object_ref (self);
  data->invocation = invocation;
  data->base_commit = g_strdup (ctrd_image_get_commit (image));
  data->upper = ctrd_container_upper_dir (self);
  data->exclude = runtime_mount_points (self);
  data->job = ctrd_job_new (self->daemon, "commit", self->object_path, invocation);
  self->op = CTRD_OP_COMMIT;
  if (data->pause && self->run.state == CTRD_STATE_RUNNING)
    ctrd_runtime_pause_async (ctrd_daemon_get_runtime (self->daemon), self->config->id, TRUE, NULL,
                              on_commit_frozen, data);
  else
    run_commit_thread (data);
}

static GHashTable *
labels_from_variant (GVariant *labels)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GVariantIter iter;
  const char *key, *value;

  g_variant_iter_init (&iter, labels);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    g_hash_table_insert (table, g_strdup (key), g_strdup (value));
  return table;
}

/* Commit's arguments, checked; NULL with the error otherwise. */
static CommitData *
parse_commit_call (const char *image_name, GVariant *options, GError **error)
{
  CommitData *data = g_new0 (CommitData, 1);
  g_autoptr (GVariant) labels = NULL;
  g_autofree const char **env = NULL;

  data->pause = TRUE;
  if (!ctrd_validate_options (options, commit_options, G_N_ELEMENTS (commit_options), "Commit",
                              error) ||
      (*image_name != '\0' && (data->name = ctrd_normalize_image_name (image_name, error)) == NULL))
    {
      commit_data_free (data);
      return NULL;
    }
  g_variant_lookup (options, "Command", "^as", &data->command);
  g_variant_lookup (options, "Entrypoint", "^as", &data->entrypoint);
  g_variant_lookup (options, "Pause", "b", &data->pause);
  if (g_variant_lookup (options, "Env", "^a&s", &env))
    {
      if (!ctrd_validate_env (env, error))
        {
          commit_data_free (data);
          return NULL;
        }
      data->env = g_strdupv ((char **) env);
    }
  labels = g_variant_lookup_value (options, "Labels", G_VARIANT_TYPE ("a{ss}"));
  if (labels != NULL)
    data->labels = labels_from_variant (labels);
  return data;
}

static gboolean
handle_commit (CtrContainer *iface, GDBusMethodInvocation *invocation, const char *image_name,
               GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  CommitData *data = parse_commit_call (image_name, options, &error);

  if (data == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_CREATE, commit_authorized, data,
                            commit_data_free);
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
changes_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
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
get_changes_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  ChangesData *data;
  g_autoptr (GTask) task = NULL;

  if (image == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s: its image is gone", self->config->name);
      return;
    }
  data = g_new0 (ChangesData, 1);
  data->container = g_object_ref (self);
  data->invocation = invocation;
  data->commit = g_strdup (ctrd_image_get_commit (image));
  data->upper = ctrd_container_upper_dir (self);
  data->exclude = runtime_mount_points (self);
  task = g_task_new (self, NULL, on_changes_done, NULL);
  g_task_set_task_data (task, data, changes_data_free);
  g_task_run_in_thread (task, changes_thread);
}

static gboolean
handle_get_changes (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_EXEC,
                            get_changes_authorized, NULL, NULL);
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
verify_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  CtrdImage *image = ctrd_daemon_get_image_by_id (self->daemon, self->config->image_id);
  g_autoptr (GTask) task = NULL;

  if (image == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Container %s: its image is gone", self->config->name);
      return;
    }
  task = g_task_new (self, NULL, on_verify_done, invocation);
  g_task_set_task_data (task, g_strdup (ctrd_image_get_commit (image)), g_free);
  g_task_run_in_thread (task, verify_thread);
}

static gboolean
handle_verify (CtrContainer *iface, GDBusMethodInvocation *invocation)
{
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            verify_authorized, NULL, NULL);
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
  ctrd_container_emit_event (self, event);
  return TRUE;
}

static gboolean
can_switch_image (CtrdContainer *self, GDBusMethodInvocation *invocation, const char *what)
{
  /* The root is an overlay on the image: it can only move while unmounted. */
  if (self->op != CTRD_OP_NONE ||
      (self->run.state != CTRD_STATE_CONFIGURED && self->run.state != CTRD_STATE_EXITED))
    {
      g_dbus_method_invocation_return_error (
          invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
          "Container %s cannot %s while it is %s: stop it first", self->config->name, what,
          self->op != CTRD_OP_NONE ? "busy" : ctrd_state_to_string (self->run.state));
      return FALSE;
    }
  return TRUE;
}

/* @user_data: the image reference (taken). */
static void
rebase_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  g_autofree char *reference = user_data;
  GError *error = NULL;
  CtrdImage *image;

  if (!can_switch_image (self, invocation, "be rebased"))
    return;
  /* Looked up again: it may have gone while polkit was asked. */
  image = ctrd_daemon_find_image (self->daemon, reference, &error);
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
  if (!switch_image (self, image, reference, "rebase", &error))
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

  if (!ctrd_validate_options (options, NULL, 0, "Rebase", &error) ||
      ctrd_daemon_find_image (self->daemon, reference, &error) == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_MANAGE, rebase_authorized,
                            g_strdup (reference), g_free);
  return TRUE;
}

static void
rollback_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
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
  ctrd_container_authorize (CTRD_CONTAINER (iface), invocation, CTRD_ACTION_CONTAINER_MANAGE,
                            rollback_authorized, NULL, NULL);
  return TRUE;
}

void
ctrd_container_fs_iface_init (CtrContainerIface *iface)
{
  iface->handle_get_sizes = handle_get_sizes;
  iface->handle_export = handle_export;
  iface->handle_commit = handle_commit;
  iface->handle_get_changes = handle_get_changes;
  iface->handle_verify = handle_verify;
  iface->handle_rebase = handle_rebase;
  iface->handle_rollback = handle_rollback;
}
