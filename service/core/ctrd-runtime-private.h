/* ctrd-runtime-private.h: what the runtime's files share (not for other
 * modules: they use ctrd-runtime.h). */

#pragma once

#include "ctrd-runtime.h"

/* conmon renames a finished exit file into place; IN_CLOSE_WRITE catches one
 * written in place; deletion ends an exit (a new file is a new exit). */
#define EXIT_DIR_EVENTS (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)

/* Where conmon finds the write end of the sync pipe (_OCI_SYNCPIPE). */
#define SYNC_PIPE_TARGET_FD 3

struct _CtrdRuntime
{
  char *runtime_path;
  char *conmon_path;
  char *run_root;
  char *exits_dir;
  char *runtime_root; /* the runtime's --root */
  char *sockets_dir;
  char *containers_dir;

  /* exits/ is watched with inotify directly, not a GFileMonitor: GLib's
   * backend sleeps 100 ms after events it finds uninteresting (the writes to
   * conmon's temporary file), which delayed one exit in ten by that much. */
  int exit_inotify_fd; /* -1 when not watching */
  GSource *exit_fd_source;
  GSource *exit_scan_source;
  CtrdRuntimeExitFunc exit_func;
  gpointer exit_data;
  /* ids whose exit was reported, until forgotten: one exit, one callback, however
   * many events arrive for it. */
  GHashTable *reported_exits;
  /* the fd leak below was reported once already */
  gboolean warned_inheritable_fds;
  guint verb_timeout_seconds; /* start, kill, delete, pause, state */
};

/* The runtime is shared by reference with operations in flight, so that
 * freeing it while a child runs cannot leave them with dangling paths. */
CtrdRuntime *runtime_ref (CtrdRuntime *runtime);
void runtime_unref (CtrdRuntime *runtime);

/* Whether @id may be a file name under the run root and a runtime argument. */
gboolean runtime_is_valid_id (const char *id);
gboolean runtime_check_id (const char *id, GError **error);

/* RUNROOT/exits/<id>, where conmon writes the exit code. Free with g_free(). */
char *runtime_exit_file_path (CtrdRuntime *runtime, const char *id);

/* Removes conmon's exit file, pid files and socket link of @id (the oom mark
 * too when @new_run). */
void runtime_remove_conmon_files (CtrdRuntime *runtime, const char *id, gboolean new_run);

/* Reads a file of at most 64 KiB (O_CLOEXEC); G_IO_ERROR on failure. */
char *runtime_read_small_file (const char *path, GError **error);
/* Reads one decimal integer in [@min, @max] from @path. */
gboolean runtime_parse_int_file (const char *path, gint64 min, gint64 max, gint64 *out_value,
                                 GError **error);

/* Stops the exit watch; the callback is not called again. */
void runtime_stop_watching_exits (CtrdRuntime *runtime);
