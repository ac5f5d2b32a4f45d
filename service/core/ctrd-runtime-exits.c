/* ctrd-runtime-exits.c: the exit-file monitor of the runtime. conmon writes
 * each container's exit code to RUNROOT/exits/<id>; this watches the
 * directory with inotify and reports each exit once, and reads exit codes
 * and pids for reconciliation. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-runtime.h"
#include "ctrd-runtime-private.h"

void
runtime_stop_watching_exits (CtrdRuntime *runtime)
{
  if (runtime->exit_scan_source != NULL)
    {
      g_source_destroy (runtime->exit_scan_source);
      g_clear_pointer (&runtime->exit_scan_source, g_source_unref);
    }
  if (runtime->exit_fd_source != NULL)
    {
      g_source_destroy (runtime->exit_fd_source);
      g_clear_pointer (&runtime->exit_fd_source, g_source_unref);
    }
  ctrd_close_fd (&runtime->exit_inotify_fd);
  runtime->exit_func = NULL;
  runtime->exit_data = NULL;
}

/* ---- exits ---- */

gboolean
ctrd_runtime_read_exit_code (CtrdRuntime *runtime, const char *id, int *out_exit_code,
                             GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;
  gint64 code;

  if (!runtime_check_id (id, error))
    return FALSE;

  path = runtime_exit_file_path (runtime, id);
  if (!runtime_parse_int_file (path, G_MININT, G_MAXINT, &code, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Container %s has no exit file yet",
                     id);
      else if (local_error->domain == CTRD_ERROR)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                     "Container %s: reading the exit file: %s", id, local_error->message);
      return FALSE;
    }
  if (out_exit_code != NULL)
    *out_exit_code = (int) code;
  return TRUE;
}

void
ctrd_runtime_forget_exit (CtrdRuntime *runtime, const char *id)
{
  if (!runtime_is_valid_id (id))
    return;
  runtime_remove_conmon_files (runtime, id, FALSE);
}

/* Reports @name's exit once, when its exit file holds a code: a file written
 * in place may be seen before the write is complete, and one exit brings
 * several events. */
static void
maybe_report_exit (CtrdRuntime *runtime, const char *name)
{
  if (runtime->exit_func == NULL || !runtime_is_valid_id (name) ||
      g_hash_table_contains (runtime->reported_exits, name) ||
      !ctrd_runtime_read_exit_code (runtime, name, NULL, NULL))
    return;

  g_hash_table_add (runtime->reported_exits, g_strdup (name));
  runtime->exit_func (name, runtime->exit_data);
}

/* Reports every exit file in exits/ not reported yet: at the start, and when
 * the kernel's event queue overflowed and events were lost. */
static void
scan_exit_dir (CtrdRuntime *runtime)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  const char *name;

  dir = g_dir_open (runtime->exits_dir, 0, &error);
  if (dir == NULL)
    {
      g_warning ("Scanning %s for container exits: %s", runtime->exits_dir, error->message);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  /* the callback may stop the watch: check it before each report */
  for (guint i = 0; i < names->len && runtime->exit_func != NULL; i++)
    maybe_report_exit (runtime, names->pdata[i]);
}

/* Exits that happened before the watch began (daemon restart) are reported
 * too, so that no ordering between reconciling and watching can lose one. */
static gboolean
on_exit_scan_idle (gpointer user_data)
{
  CtrdRuntime *runtime = runtime_ref (user_data);

  g_clear_pointer (&runtime->exit_scan_source, g_source_unref);
  scan_exit_dir (runtime);
  runtime_unref (runtime);
  return G_SOURCE_REMOVE;
}

/* Acts on one inotify event; FALSE when the watch is over. */
static gboolean
handle_exit_event (CtrdRuntime *runtime, const struct inotify_event *event)
{
  if (event->mask & IN_Q_OVERFLOW)
    {
      scan_exit_dir (runtime);
      return TRUE;
    }
  if (event->mask & IN_IGNORED)
    {
      g_warning ("%s is gone: container exits are no longer noticed", runtime->exits_dir);
      return FALSE;
    }
  if (event->len == 0)
    return TRUE;
  if (event->mask & (IN_DELETE | IN_MOVED_FROM))
    /* a new exit file under the same name is a new exit */
    g_hash_table_remove (runtime->reported_exits, event->name);
  else if (event->mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
    maybe_report_exit (runtime, event->name);
  return TRUE;
}

/* Drains the inotify fd. The runtime is held meanwhile: the exit callback
 * may stop the watch, or free the runtime, between two events. */
static gboolean
on_exit_events (int fd, GIOCondition condition, gpointer user_data)
{
  CtrdRuntime *runtime = runtime_ref (user_data);
  gboolean keep = TRUE;
  /* a batch of events, with room for one of the longest name */
  char buf[sizeof (struct inotify_event) + NAME_MAX + 1 + 4096]
      __attribute__ ((aligned (G_ALIGNOF (struct inotify_event))));

  while (keep && runtime->exit_inotify_fd == fd)
    {
      ssize_t len = read (fd, buf, sizeof buf);

      if (len < 0 && errno == EINTR)
        continue;
      if (len < 0 && errno == EAGAIN)
        break;
      if (len <= 0)
        {
          int errsv = len < 0 ? errno : EIO;

          g_warning ("Reading exit events of %s: %s: container exits are no longer noticed",
                     runtime->exits_dir, g_strerror (errsv));
          keep = FALSE;
          break;
        }
      for (ssize_t offset = 0; keep && offset < len && runtime->exit_inotify_fd == fd;)
        {
          const struct inotify_event *event = (const struct inotify_event *) (buf + offset);

          offset += sizeof (struct inotify_event) + event->len;
          keep = handle_exit_event (runtime, event);
        }
    }
  /* stopped from the callback: the source is destroyed already */
  if (runtime->exit_inotify_fd != fd)
    keep = FALSE;
  runtime_unref (runtime);
  return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
ctrd_runtime_watch_exits (CtrdRuntime *runtime, CtrdRuntimeExitFunc func, gpointer user_data,
                          GError **error)
{
  GMainContext *context = g_main_context_get_thread_default ();
  ctrd_autofd int fd = -1;

  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (runtime->exit_inotify_fd < 0, FALSE);

  fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch (fd, runtime->exits_dir, EXIT_DIR_EVENTS) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Watching %s for container exits",
                                  runtime->exits_dir);

  runtime->exit_func = func;
  runtime->exit_data = user_data;
  runtime->exit_inotify_fd = ctrd_steal_fd (&fd);
  /* the watch exists before the scan, so no exit falls between the two */
  runtime->exit_fd_source = g_unix_fd_source_new (runtime->exit_inotify_fd, G_IO_IN);
  g_source_set_callback (runtime->exit_fd_source, G_SOURCE_FUNC (on_exit_events), runtime, NULL);
  g_source_attach (runtime->exit_fd_source, context);

  runtime->exit_scan_source = g_idle_source_new ();
  g_source_set_callback (runtime->exit_scan_source, on_exit_scan_idle, runtime, NULL);
  g_source_attach (runtime->exit_scan_source, context);
  return TRUE;
}

gboolean
ctrd_runtime_pid_alive (guint32 pid)
{
  g_autofree char *stat_path = NULL;
  g_autofree char *stat = NULL;
  g_autoptr (GError) error = NULL;
  const char *after_comm;

  if (pid == 0 || pid > G_MAXINT32)
    return FALSE;
  if (kill ((pid_t) pid, 0) != 0 && errno != EPERM)
    return FALSE;

  /* kill() also succeeds on a zombie, which is dead for our purposes */
  stat_path = g_strdup_printf ("/proc/%u/stat", pid);
  stat = runtime_read_small_file (stat_path, &error);
  if (stat == NULL)
    return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  after_comm = strrchr (stat, ')');
  if (after_comm == NULL || after_comm[1] != ' ')
    return TRUE;
  return after_comm[2] != 'Z' && after_comm[2] != 'X';
}
