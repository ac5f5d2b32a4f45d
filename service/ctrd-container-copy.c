/* ctrd-container-copy.c: CopyFrom and CopyTo, tar out of and into the
 * container's root (ctrd-copy does the work, in the transfer pool). */
#include "config.h"

#include <fcntl.h>

#include "ctrd-container-private.h"
#include "ctrd-copy.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-options.h"

static const CtrdOptionSpec copy_to_options[] = {
  { "NoOverwriteDirNonDir", "b" },
};

typedef struct
{
  GDBusMethodInvocation *invocation;
  gboolean into; /* CopyTo */
  char *path;
  int fd;
  CtrdCopyInFlags flags;
  char *mountpoint;
  char *commit; /* set when the root must be mounted for the copy */
  CtrdStorage *storage;
  char *id;
} CopyData;

static void
copy_data_free (gpointer user_data)
{
  CopyData *data = user_data;

  ctrd_close_fd (&data->fd);
  g_free (data->path);
  g_free (data->mountpoint);
  g_free (data->commit);
  g_free (data->id);
  g_free (data);
}

static void
copy_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  CopyData *data = task_data;
  GError *error = NULL;
  ctrd_autofd int root_fd = -1;
  gboolean ok;

  if (data->commit != NULL &&
      !ctrd_container_mount_root_for_copy (data->storage, data->id, data->commit, data->mountpoint,
                                           cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  root_fd = open (data->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd < 0)
    ok = ctrd_throw_errno (&error, "Cannot open %s", data->mountpoint);
  else if (data->into)
    ok = ctrd_copy_in (root_fd, data->path, data->fd, data->flags, cancellable, &error);
  else
    ok = ctrd_copy_out (root_fd, data->path, data->fd, cancellable, &error);
  ctrd_close_fd (&root_fd);
  if (data->commit != NULL)
    ctrd_container_unmount_root_after_copy (data->mountpoint);
  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        {
          g_clear_error (&error);
          g_set_error_literal (&error, CTRD_ERROR, CTRD_ERROR_FAILED,
                               "Copy stopped: the reader closed its end");
        }
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_copy_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  CopyData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (data->commit != NULL)
    ctrd_container_finish_operation (self);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_prefix_error (&error, "Container %s: %s: ", self->config->name, data->path);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_STORAGE_ERROR);
    }
  else if (data->into)
    ctr_container_complete_copy_to (CTR_CONTAINER (self), data->invocation, NULL);
  else
    ctr_container_complete_copy_from (CTR_CONTAINER (self), data->invocation, NULL);
}

/* Takes @user_data, the CopyData holding the caller's fd. Like Export: a
 * live root is copied as mounted; otherwise it is mounted for the copy and
 * Start waits meanwhile. */
static void
copy_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  CopyData *data = user_data;
  g_autoptr (GTask) task = NULL;

  if (!ctrd_container_begin_root_copy (self, invocation, "be copied into or out of", CTRD_OP_COPY,
                                       &data->mountpoint, &data->commit))
    {
      copy_data_free (data);
      return;
    }
  data->invocation = invocation;
  data->storage = ctrd_daemon_get_storage (self->daemon);
  data->id = g_strdup (self->config->id);
  task = g_task_new (self, NULL, on_copy_done, NULL);
  g_task_set_task_data (task, data, copy_data_free);
  ctrd_daemon_run_transfer (self->daemon, g_steal_pointer (&task), copy_thread);
}

/* Validates the path and takes the fd; NULL (the call answered) on bad input. */
static CopyData *
parse_copy_call (CtrdContainer *self, GDBusMethodInvocation *invocation, const char *path,
                 GUnixFDList *fd_list, GVariant *fd_handle, gboolean into)
{
  CopyData *data = g_new0 (CopyData, 1);
  GError *error = NULL;

  data->into = into;
  data->path = g_strdup (path);
  data->fd = -1;
  if (ctrd_copy_validate_path (path, &error))
    data->fd = ctrd_take_fd_argument (
        fd_list, fd_handle, 1,
        (into ? CTRD_FD_READABLE | CTRD_FD_STREAM : CTRD_FD_WRITABLE | CTRD_FD_NOT_DIRECTORY),
        into ? "CopyTo fd" : "CopyFrom fd", &error);
  if (data->fd < 0)
    {
      copy_data_free (data);
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return NULL;
    }
  return data;
}

static gboolean
handle_copy_from (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                  const char *path, GVariant *fd_handle)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  CopyData *data = parse_copy_call (self, invocation, path, fd_list, fd_handle, FALSE);

  if (data != NULL)
    ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, copy_authorized, data,
                              copy_data_free);
  return TRUE;
}

static gboolean
handle_copy_to (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                const char *path, GVariant *fd_handle, GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  gboolean no_overwrite = FALSE;
  CopyData *data;

  if (!ctrd_validate_options (options, copy_to_options, G_N_ELEMENTS (copy_to_options), "CopyTo",
                              &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  data = parse_copy_call (self, invocation, path, fd_list, fd_handle, TRUE);
  if (data == NULL)
    return TRUE;
  g_variant_lookup (options, "NoOverwriteDirNonDir", "b", &no_overwrite);
  if (no_overwrite)
    data->flags |= CTRD_COPY_IN_NO_OVERWRITE_DIR_NON_DIR;
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, copy_authorized, data,
                            copy_data_free);
  return TRUE;
}

void
ctrd_container_copy_iface_init (CtrContainerIface *iface)
{
  iface->handle_copy_from = handle_copy_from;
  iface->handle_copy_to = handle_copy_to;
}
