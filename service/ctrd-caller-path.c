/* ctrd-caller-path.c: caller paths opened with the caller's credentials
 * from the bus, in a worker thread (see the header). */
#include "config.h"

#include <fcntl.h>

#include "ctrd-authority.h"
#include "ctrd-caller-path.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"

#define CREDENTIALS_TIMEOUT_MSEC (25 * 1000)

typedef struct
{
  char *path;
  CtrdCallerOpenFlags flags;
  guint32 uid;
  GArray *groups; /* guint32; NULL when the bus gave none */
  CtrdCaller *caller;
  int fd;
  CtrdCallerWork work; /* instead of the open (ctrd_caller_path_run) */
  gpointer work_data;
  GDestroyNotify work_free;
} PathOpen;

static void
path_open_free (PathOpen *open_data)
{
  g_free (open_data->path);
  g_clear_pointer (&open_data->groups, g_array_unref);
  ctrd_caller_free (open_data->caller);
  ctrd_close_fd (&open_data->fd);
  if (open_data->work_free != NULL)
    open_data->work_free (open_data->work_data);
  g_free (open_data);
}

static void
path_open_thread (GTask *task, gpointer source_object, gpointer task_data,
                  GCancellable *cancellable)
{
  PathOpen *open_data = task_data;
  GError *error = NULL;

  if (open_data->uid != 0)
    {
      const guint32 *groups =
          open_data->groups != NULL ? (guint32 *) open_data->groups->data : NULL;
      open_data->caller = ctrd_caller_new (
          open_data->uid, groups, open_data->groups != NULL ? open_data->groups->len : 0, &error);
      if (open_data->caller == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  if (open_data->work != NULL)
    {
      if (open_data->work (open_data->caller, open_data->work_data, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      return;
    }
  open_data->fd =
      ctrd_caller_open (open_data->caller, AT_FDCWD, open_data->path, open_data->flags, &error);
  if (open_data->fd < 0)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_credentials (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PathOpen *open_data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) credentials = NULL;
  g_autoptr (GVariant) groups = NULL;
  guint32 known_uid = open_data->uid;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
                               "The caller's credentials are not known: %s", error->message);
      return;
    }
  credentials = g_variant_get_child_value (reply, 0);
  if (!g_variant_lookup (credentials, "UnixUserID", "u", &open_data->uid) ||
      (known_uid != G_MAXUINT32 && open_data->uid != known_uid))
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
                               "The bus gave no uid for the caller, or another one");
      return;
    }
  groups = g_variant_lookup_value (credentials, "UnixGroupIDs", G_VARIANT_TYPE ("au"));
  if (groups != NULL && g_variant_n_children (groups) > 0)
    {
      gsize n = 0;
      const guint32 *ids = g_variant_get_fixed_array (groups, &n, sizeof (guint32));

      if (n > CTRD_CALLER_MAX_GROUPS)
        {
          g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                                   "uid %u has %" G_GSIZE_FORMAT " groups (at most %d)",
                                   open_data->uid, n, CTRD_CALLER_MAX_GROUPS);
          return;
        }
      open_data->groups = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);
      g_array_append_vals (open_data->groups, ids, n);
    }
  g_task_run_in_thread (task, path_open_thread);
}

/* @task (taken) with its PathOpen: the caller's credentials, then the
 * thread. */
static void
start_with_credentials (GDBusMethodInvocation *invocation, GTask *task)
{
  PathOpen *open_data = g_task_get_task_data (task);

  open_data->uid = ctrd_authority_get_caller_uid (invocation);
  if (open_data->uid == 0)
    {
      g_task_run_in_thread (task, path_open_thread);
      g_object_unref (task);
      return;
    }
  /* The uid and the groups from the bus, never from the caller or /proc. */
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionCredentials",
                          g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                          CREDENTIALS_TIMEOUT_MSEC, NULL, on_credentials, task);
}

void
ctrd_caller_path_open (GDBusMethodInvocation *invocation, const char *path,
                       CtrdCallerOpenFlags flags, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  PathOpen *open_data = g_new0 (PathOpen, 1);

  open_data->path = g_strdup (path);
  open_data->flags = flags;
  open_data->fd = -1;
  g_task_set_source_tag (task, ctrd_caller_path_open);
  g_task_set_task_data (task, open_data, (GDestroyNotify) path_open_free);
  start_with_credentials (invocation, task);
}

void
ctrd_caller_path_run (GDBusMethodInvocation *invocation, CtrdCallerWork work, gpointer work_data,
                      GDestroyNotify work_free, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  PathOpen *open_data = g_new0 (PathOpen, 1);

  open_data->fd = -1;
  open_data->work = work;
  open_data->work_data = work_data;
  open_data->work_free = work_free;
  g_task_set_source_tag (task, ctrd_caller_path_run);
  g_task_set_task_data (task, open_data, (GDestroyNotify) path_open_free);
  start_with_credentials (invocation, task);
}

gboolean
ctrd_caller_path_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ctrd_caller_path_run, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

int
ctrd_caller_path_open_finish (GAsyncResult *result, CtrdCaller **out_caller, GError **error)
{
  PathOpen *open_data = g_task_get_task_data (G_TASK (result));

  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ctrd_caller_path_open, -1);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return -1;
  if (out_caller != NULL)
    *out_caller = g_steal_pointer (&open_data->caller);
  return ctrd_steal_fd (&open_data->fd);
}
