/* ctrd-runtime.c: the OCI runtime (runc or crun) driven through conmon.
 *
 * Every child is an async GSubprocess with an explicit minimal environment
 * and stdin on /dev/null. conmon is started the way podman 4 starts it (see
 * libpod's createOCIContainer): it double-forks, runs "<runtime> create", and
 * reports the container's pid on a sync pipe; the daemon then talks to the
 * runtime directly (start/kill/delete) with the same --root. The exit-file
 * monitor is in ctrd-runtime-exits.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-json.h"
#include "ctrd-runtime.h"
#include "ctrd-runtime-private.h"

/* runc create takes ~50 ms here; only a hung runtime gets near this. */
#define CREATE_TIMEOUT_SECONDS 30
#define CHILD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ID_MAX 1024
#define SMALL_FILE_MAX 65536

/* The runtime is shared by reference with operations in flight, so that
 * freeing it while a child runs cannot leave them with dangling paths. */
CtrdRuntime *
runtime_ref (CtrdRuntime *runtime)
{
  return g_rc_box_acquire (runtime);
}

static void
runtime_clear (gpointer data)
{
  CtrdRuntime *runtime = data;

  g_free (runtime->runtime_path);
  g_free (runtime->conmon_path);
  g_free (runtime->run_root);
  g_free (runtime->exits_dir);
  g_free (runtime->runtime_root);
  g_free (runtime->sockets_dir);
  g_free (runtime->containers_dir);
  g_hash_table_unref (runtime->reported_exits);
}

void
runtime_unref (CtrdRuntime *runtime)
{
  g_rc_box_release_full (runtime, runtime_clear);
}

/* Container ids become file names under the run root and arguments of conmon and
 * the runtime. No dots: that also tells an exit file from the temporary file
 * conmon writes it through ("<id>.XXXXXX"). */
gboolean
runtime_is_valid_id (const char *id)
{
  gsize len;

  if (id == NULL || !g_ascii_isalnum (id[0]))
    return FALSE;
  len = strlen (id);
  if (len > ID_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '_' && id[i] != '-')
      return FALSE;
  return TRUE;
}

gboolean
runtime_check_id (const char *id, GError **error)
{
  if (runtime_is_valid_id (id))
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "“%s” is not a valid container id for the runtime", id != NULL ? id : "(null)");
  return FALSE;
}

/* ---- file descriptors children could inherit ---- */

/* Appends "N (what it is)" to @out for every open fd above 2 without
 * FD_CLOEXEC, or marks it close-on-exec when @mark. FALSE with an error
 * when /proc/self/fd cannot be read. */
static gboolean
scan_inheritable_fds (GString *out, gboolean mark, GError **error)
{
  DIR *dir = opendir ("/proc/self/fd"); /* glibc opens it O_CLOEXEC */
  struct dirent *entry;
  int dir_fd;

  if (dir == NULL)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Listing /proc/self/fd");
  dir_fd = dirfd (dir);
  while ((entry = readdir (dir)) != NULL)
    {
      guint64 fd;
      int flags;

      if (!g_ascii_string_to_unsigned (entry->d_name, 10, 3, G_MAXINT, &fd, NULL) ||
          (int) fd == dir_fd)
        continue;
      flags = fcntl ((int) fd, F_GETFD);
      /* < 0: closed by another thread since the listing */
      if (flags < 0 || (flags & FD_CLOEXEC) != 0)
        continue;
      if (mark)
        {
          (void) fcntl ((int) fd, F_SETFD, flags | FD_CLOEXEC);
          continue;
        }
      {
        g_autofree char *link = g_strdup_printf ("/proc/self/fd/%d", (int) fd);
        g_autofree char *target = g_file_read_link (link, NULL);

        g_string_append_printf (out, "%s%d (%s)", out->len > 0 ? ", " : "", (int) fd,
                                target != NULL ? target : "unknown");
      }
    }
  closedir (dir);
  return TRUE;
}

gboolean
ctrd_runtime_check_fds_cloexec (GError **error)
{
  g_autoptr (GString) leaks = g_string_new (NULL);

  if (!scan_inheritable_fds (leaks, FALSE, error))
    return FALSE;
  if (leaks->len > 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "File descriptors without close-on-exec, which children would inherit: %s",
                   leaks->str);
      return FALSE;
    }
  return TRUE;
}

void
ctrd_runtime_mark_inherited_fds_cloexec (void)
{
  g_autoptr (GError) error = NULL;

  if (!scan_inheritable_fds (NULL, TRUE, &error))
    g_warning ("Marking inherited file descriptors close-on-exec: %s", error->message);
}

/* G_SUBPROCESS_FLAGS_INHERIT_FDS lets GLib use posix_spawn (vfork) instead of
 * fork + closing every fd in the child: 1.2 ms less per child at the
 * daemon's 18 MB, more as it grows. That is safe only while no fd lacks
 * close-on-exec, so it is checked before each spawn (tens of µs) and a leak
 * falls back to closing them, with one warning. Only for the runtime's short
 * verbs: conmon and exec's runtime live as long as their container or
 * process, and anything that slipped through would be held that long. */
static GSubprocessFlags
verb_spawn_flags (CtrdRuntime *runtime)
{
  g_autoptr (GString) leaks = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (scan_inheritable_fds (leaks, FALSE, &error) && leaks->len == 0)
    return G_SUBPROCESS_FLAGS_INHERIT_FDS;
  if (!runtime->warned_inheritable_fds)
    {
      runtime->warned_inheritable_fds = TRUE;
      g_warning ("Not every file descriptor is close-on-exec (%s): %s is started the slower "
                 "way, closing them in the child",
                 error != NULL ? error->message : leaks->str, runtime->runtime_path);
    }
  return G_SUBPROCESS_FLAGS_NONE;
}

/* Children get a fixed environment: nothing of the daemon's (bus addresses,
 * NOTIFY_SOCKET, LD_* from a test harness) leaks into conmon or the container. */
GSubprocessLauncher *
ctrd_runtime_new_launcher (GSubprocessFlags flags)
{
  static const char *const environ_[] = { "PATH=" CHILD_PATH, NULL };
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_environ (launcher, (char **) environ_);
  return launcher;
}

static gboolean
version_works (const char *path)
{
  g_autoptr (GSubprocessLauncher) launcher =
      ctrd_runtime_new_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GSubprocess) proc = NULL;

  proc = g_subprocess_launcher_spawn (launcher, NULL, path, "--version", NULL);
  /* Synchronous on purpose: this runs once, before the daemon serves. */
  return proc != NULL && g_subprocess_wait_check (proc, NULL, NULL);
}

/* The absolute path of @requested (a name or path), or of the first of
 * @candidates found in PATH, whose "--version" works. */
static char *
find_program (const char *requested, const char *const *candidates, const char *what,
              GError **error)
{
  if (requested != NULL)
    {
      g_autofree char *found = g_find_program_in_path (requested);

      if (found == NULL)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                       "The %s “%s” is not found or not executable", what, requested);
          return NULL;
        }
      if (!version_works (found))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                       "The %s %s does not work (“%s --version” failed)", what, found, found);
          return NULL;
        }
      return g_canonicalize_filename (found, NULL);
    }

  for (gsize i = 0; candidates[i] != NULL; i++)
    {
      g_autofree char *found = g_find_program_in_path (candidates[i]);

      if (found != NULL && version_works (found))
        return g_canonicalize_filename (found, NULL);
    }

  {
    g_autofree char *names = g_strjoinv (", ", (char **) candidates);

    g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR, "No usable %s in PATH (tried %s)",
                 what, names);
  }
  return NULL;
}

/* Run-root directories hold the runtime's state and the attach sockets of
 * containers that may run setuid files: root only. The run root itself is
 * 0711, so that a caller can reach the terminal socket made for it (in
 * terminals/, also 0711, under a random name) and nothing else. */
static gboolean
ensure_private_dir (const char *path, mode_t mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) != 0 || g_chmod (path, mode) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Creating the run directory %s", path);
  return TRUE;
}

CtrdRuntime *
ctrd_runtime_new (const char *runtime_path, const char *conmon_path, const char *run_root,
                  GError **error)
{
  static const char *const runtime_candidates[] = { "runc", "crun", NULL };
  static const char *const conmon_candidates[] = { "conmon", NULL };
  g_autofree char *runtime_found = NULL;
  g_autofree char *conmon_found = NULL;
  CtrdRuntime *runtime;

  g_return_val_if_fail (run_root != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  runtime_found = find_program (runtime_path, runtime_candidates, "OCI runtime", error);
  if (runtime_found == NULL)
    return NULL;
  conmon_found = find_program (conmon_path, conmon_candidates, "container monitor", error);
  if (conmon_found == NULL)
    return NULL;

  runtime = g_rc_box_new0 (CtrdRuntime);
  runtime->runtime_path = g_steal_pointer (&runtime_found);
  runtime->conmon_path = g_steal_pointer (&conmon_found);
  /* conmon and the runtime run elsewhere: they need absolute paths. */
  runtime->run_root = g_canonicalize_filename (run_root, NULL);
  runtime->exits_dir = g_build_filename (runtime->run_root, "exits", NULL);
  runtime->runtime_root = g_build_filename (runtime->run_root, "runc", NULL);
  runtime->sockets_dir = g_build_filename (runtime->run_root, "sockets", NULL);
  runtime->containers_dir = g_build_filename (runtime->run_root, "containers", NULL);
  runtime->reported_exits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  runtime->exit_inotify_fd = -1;
  runtime->verb_timeout_seconds = CTRD_RUNTIME_VERB_TIMEOUT_DEFAULT;

  {
    const char *const dirs[] = {
      runtime->run_root,    runtime->exits_dir,      runtime->runtime_root,
      runtime->sockets_dir, runtime->containers_dir,
    };

    for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
      if (!ensure_private_dir (dirs[i], i == 0 ? 0711 : 0700, error))
        {
          runtime_unref (runtime);
          return NULL;
        }
  }
  return runtime;
}

void
ctrd_runtime_free (CtrdRuntime *runtime)
{
  if (runtime == NULL)
    return;
  /* The exit callback must not run once the owner let go, even while
   * operations in flight still hold the paths. */
  runtime_stop_watching_exits (runtime);
  runtime_unref (runtime);
}

const char *
ctrd_runtime_get_path (CtrdRuntime *runtime)
{
  return runtime->runtime_path;
}

const char *
ctrd_runtime_get_run_root (CtrdRuntime *runtime)
{
  return runtime->run_root;
}

const char *
ctrd_runtime_get_root (CtrdRuntime *runtime)
{
  return runtime->runtime_root;
}

const char *
ctrd_runtime_get_sockets_dir (CtrdRuntime *runtime)
{
  return runtime->sockets_dir;
}

char *
ctrd_runtime_container_run_dir (CtrdRuntime *runtime, const char *id)
{
  return g_build_filename (runtime->containers_dir, id, NULL);
}

char *
runtime_exit_file_path (CtrdRuntime *runtime, const char *id)
{
  return g_build_filename (runtime->exits_dir, id, NULL);
}

/* Removes what conmon leaves behind for @id: a stale exit file or pid file
 * would be taken for the next run's. The oom mark stays until the next run
 * (@new_run) so that OOMKilled is still known after a daemon restart. */
void
runtime_remove_conmon_files (CtrdRuntime *runtime, const char *id, gboolean new_run)
{
  g_autofree char *run_dir = ctrd_runtime_container_run_dir (runtime, id);
  char *paths[] = {
    runtime_exit_file_path (runtime, id),
    g_build_filename (run_dir, "conmon.pid", NULL),
    g_build_filename (run_dir, "pidfile", NULL),
    new_run ? g_build_filename (run_dir, "oom", NULL) : NULL,
    /* conmon's symlink to the bundle, where the attach socket and ctl fifo are */
    g_build_filename (runtime->sockets_dir, id, NULL),
  };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      if (paths[i] == NULL)
        continue;
      if (g_unlink (paths[i]) != 0 && errno != ENOENT)
        {
          int errsv = errno;

          g_warning ("Container %s: removing %s: %s", id, paths[i], g_strerror (errsv));
        }
      g_free (paths[i]);
    }
  g_hash_table_remove (runtime->reported_exits, id);
}

/* The runtime's error text from its stderr. runc logs like logrus,
 * `time="…" level=error msg="…"`: keep the msg values, unescaped. Other lines
 * are kept as they are. NULL when there is nothing to say. */
static char *
runtime_error_text (const char *stderr_text)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (stderr_text == NULL)
    return NULL;

  lines = g_strsplit (stderr_text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *msg = strstr (lines[i], "msg=\"");
      g_autofree char *text = NULL;

      if (msg != NULL)
        {
          const char *start = msg + strlen ("msg=\"");
          const char *end = start;
          g_autofree char *escaped = NULL;

          while (*end != '\0' && *end != '"')
            end += (end[0] == '\\' && end[1] != '\0') ? 2 : 1;
          escaped = g_strndup (start, end - start);
          text = g_strcompress (escaped);
        }
      else
        text = g_strdup (lines[i]);

      g_strstrip (text);
      if (*text == '\0')
        continue;
      if (out->len > 0)
        g_string_append (out, "; ");
      g_string_append (out, text);
    }
  if (out->len == 0)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
describe_exit (GSubprocess *proc)
{
  if (g_subprocess_get_if_exited (proc))
    return g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (proc));
  if (g_subprocess_get_if_signaled (proc))
    return g_strdup_printf ("killed by signal %d", g_subprocess_get_term_sig (proc));
  return g_strdup ("unknown status");
}

/* g_file_get_contents for the small files read here (exit codes, pid files,
 * /proc stat), but O_CLOEXEC: no fd may leak into a child another thread
 * spawns meanwhile. Errors are G_IO_ERROR (NOT_FOUND for a missing file). */
char *
runtime_read_small_file (const char *path, GError **error)
{
  g_autoptr (GString) contents = g_string_new (NULL);
  char buf[1024];
  ctrd_autofd int fd = -1;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ctrd_throw_errno_in (error, G_IO_ERROR, "Opening %s", path), NULL;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n >= 0 && contents->len + n > SMALL_FILE_MAX)
        errno = EFBIG;
      if (n < 0 || contents->len + n > SMALL_FILE_MAX)
        return ctrd_throw_errno_in (error, G_IO_ERROR, "Reading %s", path), NULL;
      if (n == 0)
        break;
      g_string_append_len (contents, buf, n);
    }
  return g_string_free (g_steal_pointer (&contents), FALSE);
}

gboolean
runtime_parse_int_file (const char *path, gint64 min, gint64 max, gint64 *out_value, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;

  contents = runtime_read_small_file (path, error);
  if (contents == NULL)
    return FALSE;
  g_strstrip (contents);
  if (!g_ascii_string_to_signed (contents, 10, min, max, out_value, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR, "%s does not hold a number: %s",
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- runtime verbs: "<runtime> --root RUNROOT/runc <verb> ..." ---- */

typedef struct
{
  CtrdRuntime *runtime;
  char *id;
  char *verb;
  gboolean missing_ok;
  GSubprocess *proc;
  char *stdout_text;                 /* what it printed, for the verbs that print (state) */
  GCancellable *timeout_cancellable; /* cancelled by the timeout or the caller's */
  GCancellable *caller_cancellable;
  gulong caller_handler;
  GSource *timeout_source;
  gboolean timed_out;
} VerbData;

static void
on_verb_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
verb_data_free (gpointer data)
{
  VerbData *vd = data;

  if (vd->timeout_source != NULL)
    {
      g_source_destroy (vd->timeout_source);
      g_source_unref (vd->timeout_source);
    }
  if (vd->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (vd->caller_cancellable, vd->caller_handler);
      g_object_unref (vd->caller_cancellable);
    }
  g_clear_object (&vd->timeout_cancellable);
  g_clear_object (&vd->proc);
  g_free (vd->stdout_text);
  g_free (vd->id);
  g_free (vd->verb);
  runtime_unref (vd->runtime);
  g_free (vd);
}

/* A runtime verb that does not end within the runtime's verb timeout is
 * killed: nothing in the daemon waits for ever on a hung runtime. */
static gboolean
on_verb_timeout (gpointer user_data)
{
  VerbData *vd = user_data;

  vd->timed_out = TRUE;
  g_clear_pointer (&vd->timeout_source, g_source_unref);
  g_subprocess_force_exit (vd->proc);
  g_cancellable_cancel (vd->timeout_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_verb_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  VerbData *vd = g_task_get_task_data (task);
  g_autofree char *stderr_text = NULL;
  g_autofree char *message = NULL;
  g_autofree char *status = NULL;
  g_autoptr (GError) error = NULL;

  if (vd->timeout_source != NULL)
    {
      g_source_destroy (vd->timeout_source);
      g_clear_pointer (&vd->timeout_source, g_source_unref);
    }
  if (!g_subprocess_communicate_utf8_finish (vd->proc, result, &vd->stdout_text, &stderr_text,
                                             &error))
    {
      /* cancelled: do not leave the runtime acting on its own */
      g_subprocess_force_exit (vd->proc);
      if (vd->timed_out)
        {
          g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_TIMEOUT,
                                   "Container %s: %s %s did not finish within %u s", vd->id,
                                   vd->runtime->runtime_path, vd->verb,
                                   vd->runtime->verb_timeout_seconds);
          return;
        }
      g_prefix_error (&error, "Container %s: %s %s: ", vd->id, vd->runtime->runtime_path, vd->verb);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_subprocess_get_successful (vd->proc))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* like libpod's delete handling: a container the runtime does not know is gone already */
  if (vd->missing_ok && stderr_text != NULL && strstr (stderr_text, "not exist") != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  message = runtime_error_text (stderr_text);
  status = describe_exit (vd->proc);
  /* Its process exited (or was even deleted) between the daemon's look at
   * the state and the runtime's (a Kill racing a Stop or the process's own
   * end): the caller's race, answered as podman does, not a runtime failure. */
  if (message != NULL && (strstr (message, "container not running") != NULL ||
                          (g_str_equal (vd->verb, "kill") &&
                           strstr (message, "container does not exist") != NULL)))
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                               "Container %s is not running: it exited before %s %s reached it",
                               vd->id, vd->runtime->runtime_path, vd->verb);
      return;
    }
  g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                           "Container %s: %s %s failed (%s): %s", vd->id, vd->runtime->runtime_path,
                           vd->verb, status, message != NULL ? message : "no error message");
}

/* Runs the runtime with @args (after "--root DIR"); @verb names it in errors;
 * @capture_stdout keeps what it prints (VerbData's stdout_text). */
static void
run_runtime_verb_full (CtrdRuntime *runtime, gpointer source_tag, const char *id, const char *verb,
                       const char *const *args, gboolean missing_ok, gboolean capture_stdout,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  VerbData *vd;

  g_task_set_source_tag (task, source_tag);
  /* report what the runtime did, even if the caller cancelled meanwhile */
  g_task_set_check_cancellable (task, FALSE);
  if (!runtime_check_id (id, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  vd = g_new0 (VerbData, 1);
  vd->runtime = runtime_ref (runtime);
  vd->id = g_strdup (id);
  vd->verb = g_strdup (verb);
  vd->missing_ok = missing_ok;
  g_task_set_task_data (task, vd, verb_data_free);

  g_ptr_array_add (argv, runtime->runtime_path);
  g_ptr_array_add (argv, (gpointer) "--root");
  g_ptr_array_add (argv, runtime->runtime_root);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = ctrd_runtime_new_launcher (
      (capture_stdout ? G_SUBPROCESS_FLAGS_STDOUT_PIPE : G_SUBPROCESS_FLAGS_STDOUT_SILENCE) |
      G_SUBPROCESS_FLAGS_STDERR_PIPE | verb_spawn_flags (runtime));
  vd->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  if (vd->proc == NULL)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                               "Container %s: running %s %s: %s", id, runtime->runtime_path, verb,
                               error->message);
      return;
    }
  /* The caller's cancellable and the timeout both end the wait. */
  vd->timeout_cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      vd->caller_cancellable = g_object_ref (cancellable);
      vd->caller_handler =
          g_cancellable_connect (cancellable, G_CALLBACK (on_verb_caller_cancelled),
                                 g_object_ref (vd->timeout_cancellable), g_object_unref);
    }
  vd->timeout_source = g_timeout_source_new_seconds (runtime->verb_timeout_seconds);
  g_source_set_callback (vd->timeout_source, on_verb_timeout, vd, NULL);
  g_source_attach (vd->timeout_source, g_task_get_context (task));
  g_subprocess_communicate_utf8_async (vd->proc, NULL, vd->timeout_cancellable, on_verb_done,
                                       g_steal_pointer (&task));
}

static void
run_runtime_verb (CtrdRuntime *runtime, gpointer source_tag, const char *id, const char *verb,
                  const char *const *args, gboolean missing_ok, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  run_runtime_verb_full (runtime, source_tag, id, verb, args, missing_ok, FALSE, cancellable,
                         callback, user_data);
}

static gboolean
verb_finish (GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ctrd_runtime_start_async (CtrdRuntime *runtime, const char *id, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  const char *const args[] = { "start", id, NULL };

  run_runtime_verb (runtime, ctrd_runtime_start_async, id, "start", args, FALSE, cancellable,
                    callback, user_data);
}

gboolean
ctrd_runtime_start_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  return verb_finish (result, ctrd_runtime_start_async, error);
}

void
ctrd_runtime_kill_async (CtrdRuntime *runtime, const char *id, int signum, gboolean all,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autofree char *signum_text = g_strdup_printf ("%d", signum);
  const char *const args_all[] = { "kill", "--all", id, signum_text, NULL };
  const char *const args_one[] = { "kill", id, signum_text, NULL };

  run_runtime_verb (runtime, ctrd_runtime_kill_async, id, "kill", all ? args_all : args_one, FALSE,
                    cancellable, callback, user_data);
}

gboolean
ctrd_runtime_kill_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  return verb_finish (result, ctrd_runtime_kill_async, error);
}

void
ctrd_runtime_delete_async (CtrdRuntime *runtime, const char *id, gboolean force,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  const char *const args_force[] = { "delete", "--force", id, NULL };
  const char *const args_plain[] = { "delete", id, NULL };

  run_runtime_verb (runtime, ctrd_runtime_delete_async, id, "delete",
                    force ? args_force : args_plain, TRUE, cancellable, callback, user_data);
}

gboolean
ctrd_runtime_delete_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  return verb_finish (result, ctrd_runtime_delete_async, error);
}

gboolean
ctrd_runtime_oom_killed (CtrdRuntime *runtime, const char *id)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *path = NULL;

  if (!runtime_is_valid_id (id))
    return FALSE;
  run_dir = ctrd_runtime_container_run_dir (runtime, id);
  path = g_build_filename (run_dir, "oom", NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

void
ctrd_runtime_pause_async (CtrdRuntime *runtime, const char *id, gboolean pause,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  const char *const args_pause[] = { "pause", id, NULL };
  const char *const args_resume[] = { "resume", id, NULL };

  run_runtime_verb (runtime, ctrd_runtime_pause_async, id, pause ? "pause" : "resume",
                    pause ? args_pause : args_resume, FALSE, cancellable, callback, user_data);
}

gboolean
ctrd_runtime_pause_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  return verb_finish (result, ctrd_runtime_pause_async, error);
}

void
ctrd_runtime_update_async (CtrdRuntime *runtime, const char *id, const CtrdLimits *limits,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  /* -1 is "no limit" for each of runc's flags. */
  g_autofree char *memory = limits->memory_limit > 0
                                ? g_strdup_printf ("%" G_GUINT64_FORMAT, limits->memory_limit)
                                : g_strdup ("-1");
  g_autofree char *quota = limits->cpu_quota > 0
                               ? g_strdup_printf ("%" G_GINT64_FORMAT,
                                                  ctrd_limits_cpu_quota_usec (limits->cpu_quota))
                               : g_strdup ("-1");
  g_autofree char *period = g_strdup_printf ("%d", CTRD_CPU_PERIOD_USEC);
  g_autofree char *pids = limits->pids_limit > 0
                              ? g_strdup_printf ("%" G_GINT64_FORMAT, limits->pids_limit)
                              : g_strdup ("-1");
  const char *const args[] = {
    "update", "--memory", memory, "--memory-swap", memory, "--cpu-period", period,
    "--cpu-quota", quota, "--pids-limit", pids, id, NULL,
  };

  run_runtime_verb (runtime, ctrd_runtime_update_async, id, "update", args, FALSE, cancellable,
                    callback, user_data);
}

gboolean
ctrd_runtime_update_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  return verb_finish (result, ctrd_runtime_update_async, error);
}

void
ctrd_runtime_checkpoint_async (CtrdRuntime *runtime, const char *id, const char *image_dir,
                               gboolean leave_running, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  const char *const args[] = {
    "checkpoint", "--image-path", image_dir, leave_running ? "--leave-running" : id,
    leave_running ? id : NULL, NULL,
  };

  run_runtime_verb (runtime, ctrd_runtime_checkpoint_async, id, "checkpoint", args, FALSE,
                    cancellable, callback, user_data);
}

gboolean
ctrd_runtime_checkpoint_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  return verb_finish (result, ctrd_runtime_checkpoint_async, error);
}

void
ctrd_runtime_set_verb_timeout (CtrdRuntime *runtime, guint seconds)
{
  runtime->verb_timeout_seconds = MAX (seconds, 1);
}

void
ctrd_runtime_state_async (CtrdRuntime *runtime, const char *id, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  const char *const args[] = { "state", id, NULL };

  run_runtime_verb_full (runtime, ctrd_runtime_state_async, id, "state", args, FALSE, TRUE,
                         cancellable, callback, user_data);
}

char *
ctrd_runtime_state_finish (CtrdRuntime *runtime, GAsyncResult *result, guint32 *out_pid,
                           GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  VerbData *vd;
  JsonObject *state;
  gint64 pid;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ctrd_runtime_state_async, NULL);
  vd = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), &local_error))
    {
      /* runc: "container does not exist"; crun: "... does not exist" */
      if (g_error_matches (local_error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR) &&
          strstr (local_error->message, "not exist") != NULL)
        {
          if (out_pid != NULL)
            *out_pid = 0;
          return g_strdup ("");
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  state = ctrd_json_parse_object (parser, vd->stdout_text != NULL ? vd->stdout_text : "",
                                  "the runtime's state", error);
  if (state == NULL)
    return NULL;
  pid = json_object_has_member (state, "pid") ? json_object_get_int_member (state, "pid") : 0;
  if (out_pid != NULL)
    *out_pid = pid > 0 && pid <= G_MAXINT32 ? (guint32) pid : 0;
  if (!json_object_has_member (state, "status"))
    return g_strdup ("");
  return g_strdup (json_object_get_string_member (state, "status"));
}

int
ctrd_runtime_pidfd_open (guint32 pid, GError **error)
{
  int fd;

  if (pid == 0 || pid > G_MAXINT32)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "No process %u", pid);
      return -1;
    }
  /* pidfds are always close-on-exec */
  fd = (int) syscall (SYS_pidfd_open, (pid_t) pid, 0);
  if (fd < 0)
    return ctrd_throw_errno_in (error, G_IO_ERROR, "Watching process %u", pid), -1;
  return fd;
}

typedef struct
{
  CtrdRuntime *runtime;
  char *id;
  GSubprocess *proc;
} ExecData;

static void
exec_data_free (gpointer data)
{
  ExecData *ed = data;

  g_clear_object (&ed->proc);
  g_free (ed->id);
  runtime_unref (ed->runtime);
  g_free (ed);
}

static void
on_exec_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ExecData *ed = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_finish (ed->proc, result, &error))
    {
      g_subprocess_force_exit (ed->proc);
      g_prefix_error (&error, "Container %s: exec: ", ed->id);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* runc exec passes the process's status on: 128+N for a signal, like a shell. */
  if (g_subprocess_get_if_signaled (ed->proc))
    g_task_return_int (task, 128 + g_subprocess_get_term_sig (ed->proc));
  else
    g_task_return_int (task, g_subprocess_get_exit_status (ed->proc));
}

void
ctrd_runtime_exec_async (CtrdRuntime *runtime, const char *id, const char *process_json_path,
                         int stdin_fd, int stdout_fd, int stderr_fd, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  ExecData *ed;

  g_task_set_source_tag (task, ctrd_runtime_exec_async);
  if (!runtime_check_id (id, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ed = g_new0 (ExecData, 1);
  ed->runtime = runtime_ref (runtime);
  ed->id = g_strdup (id);
  g_task_set_task_data (task, ed, exec_data_free);

  launcher = ctrd_runtime_new_launcher (G_SUBPROCESS_FLAGS_NONE);
  /* The fds are the caller's stdio, handed to the process in the container. */
  g_subprocess_launcher_take_stdin_fd (launcher, stdin_fd);
  g_subprocess_launcher_take_stdout_fd (launcher, stdout_fd);
  g_subprocess_launcher_take_stderr_fd (launcher, stderr_fd);
  ed->proc = g_subprocess_launcher_spawn (launcher, &error, runtime->runtime_path, "--root",
                                          runtime->runtime_root, "exec", "--process",
                                          process_json_path, id, NULL);
  if (ed->proc == NULL)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                               "Container %s: running %s exec: %s", id, runtime->runtime_path,
                               error->message);
      return;
    }
  g_subprocess_wait_async (ed->proc, cancellable, on_exec_done, g_steal_pointer (&task));
}

int
ctrd_runtime_exec_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), -1);
  return (int) g_task_propagate_int (G_TASK (result), error);
}

/* ---- create: conmon and its sync pipe ---- */

typedef struct
{
  guint32 pid;
  guint32 conmon_pid;
} CreateResult;

typedef struct
{
  CtrdRuntime *runtime;
  char *id;
  char *run_dir;
  GSubprocess *conmon;
  GDataInputStream *sync_stream;
  /* cancelled by the timeout or when the caller's cancellable is */
  GCancellable *op_cancellable;
  GCancellable *caller_cancellable;
  gulong caller_handler;
  GSource *timeout_source;
  gboolean timed_out;
  guint pending; /* the sync line and the conmon parent's exit */
  char *sync_line;
  GError *sync_error;
  char *conmon_stderr;
  GError *conmon_error;
} CreateData;

static void
stop_create_watchers (CreateData *cd)
{
  if (cd->timeout_source != NULL)
    {
      g_source_destroy (cd->timeout_source);
      g_clear_pointer (&cd->timeout_source, g_source_unref);
    }
  if (cd->caller_handler != 0)
    {
      g_cancellable_disconnect (cd->caller_cancellable, cd->caller_handler);
      cd->caller_handler = 0;
    }
}

static void
create_data_free (gpointer data)
{
  CreateData *cd = data;

  stop_create_watchers (cd);
  g_clear_object (&cd->caller_cancellable);
  g_clear_object (&cd->op_cancellable);
  g_clear_object (&cd->sync_stream);
  g_clear_object (&cd->conmon);
  g_free (cd->sync_line);
  g_clear_error (&cd->sync_error);
  g_free (cd->conmon_stderr);
  g_clear_error (&cd->conmon_error);
  g_free (cd->run_dir);
  g_free (cd->id);
  runtime_unref (cd->runtime);
  g_free (cd);
}

/* conmon writes {"data": PID} once the runtime's create succeeded, or a
 * negative number and "message" with the runtime's error. */
static gboolean
parse_sync_message (CreateData *cd, gint64 *out_pid, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonNode *data_node = NULL;
  JsonNode *message_node = NULL;
  gint64 data;
  const char *message = NULL;

  if (json_parser_load_from_data (parser, cd->sync_line, -1, NULL) &&
      (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      data_node = json_object_get_member (json_node_get_object (root), "data");
      message_node = json_object_get_member (json_node_get_object (root), "message");
    }
  if (data_node == NULL || json_node_get_value_type (data_node) != G_TYPE_INT64)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                   "Container %s: unexpected message from conmon: %s", cd->id, cd->sync_line);
      return FALSE;
    }

  data = json_node_get_int (data_node);
  if (message_node != NULL && json_node_get_value_type (message_node) == G_TYPE_STRING)
    message = json_node_get_string (message_node);
  if (data <= 0 || data > G_MAXINT32)
    {
      g_autofree char *text = message != NULL ? runtime_error_text (message) : NULL;

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                   "Container %s: creating it with %s failed: %s", cd->id,
                   cd->runtime->runtime_path,
                   text != NULL ? text : "the runtime gave no error message");
      return FALSE;
    }
  *out_pid = data;
  return TRUE;
}

static gboolean
create_outcome (CreateData *cd, gint64 *out_pid, GError **error)
{
  g_autofree char *status = NULL;
  g_autofree char *message = NULL;

  if (cd->sync_line != NULL)
    return parse_sync_message (cd, out_pid, error);

  if (cd->timed_out)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_TIMEOUT,
                   "Container %s: conmon did not report the container's pid within %d s", cd->id,
                   CREATE_TIMEOUT_SECONDS);
      return FALSE;
    }
  if (g_cancellable_is_cancelled (cd->caller_cancellable))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Container %s: creation cancelled",
                   cd->id);
      return FALSE;
    }
  if (cd->sync_error != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                   "Container %s: reading conmon's sync pipe: %s", cd->id, cd->sync_error->message);
      return FALSE;
    }

  /* The pipe closed without a word: conmon died before running the runtime
   * (bad arguments, missing directories). */
  status =
      cd->conmon_error != NULL ? g_strdup (cd->conmon_error->message) : describe_exit (cd->conmon);
  message = runtime_error_text (cd->conmon_stderr);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
               "Container %s: conmon exited without reporting a pid (%s): %s", cd->id, status,
               message != NULL ? message : "no error message");
  return FALSE;
}

/* After a timeout or cancel the monitor may still be there, waiting on a hung
 * runtime: it must not write an exit file for a container we gave up on. */
static void
kill_stray_conmon (CreateData *cd)
{
  g_autofree char *pid_path = g_build_filename (cd->run_dir, "conmon.pid", NULL);
  gint64 pid;

  g_subprocess_force_exit (cd->conmon);
  if (runtime_parse_int_file (pid_path, 1, G_MAXINT32, &pid, NULL) &&
      kill ((pid_t) pid, SIGKILL) != 0 && errno != ESRCH)
    {
      int errsv = errno;

      g_warning ("Container %s: killing conmon %" G_GINT64_FORMAT ": %s", cd->id, pid,
                 g_strerror (errsv));
    }
}

static void
create_step_done (GTask *task)
{
  CreateData *cd = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *conmon_pid_path = NULL;
  CreateResult *result;
  gint64 pid = 0, conmon_pid = 0;

  g_assert (cd->pending > 0);
  if (--cd->pending > 0)
    return;

  stop_create_watchers (cd);
  if (!create_outcome (cd, &pid, &error))
    {
      if (cd->timed_out || g_cancellable_is_cancelled (cd->caller_cancellable))
        kill_stray_conmon (cd);
      /* nothing of this attempt may pass for the next one's */
      runtime_remove_conmon_files (cd->runtime, cd->id, TRUE);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* conmon writes its pid file before it runs the runtime, so it is there by now */
  conmon_pid_path = g_build_filename (cd->run_dir, "conmon.pid", NULL);
  if (!runtime_parse_int_file (conmon_pid_path, 1, G_MAXINT32, &conmon_pid, &error))
    {
      g_warning ("Container %s: conmon's pid is unknown: %s", cd->id, error->message);
      conmon_pid = 0;
    }

  result = g_new0 (CreateResult, 1);
  result->pid = (guint32) pid;
  result->conmon_pid = (guint32) conmon_pid;
  g_task_return_pointer (task, result, g_free);
}

static void
on_sync_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CreateData *cd = g_task_get_task_data (task);

  /* NULL without an error is EOF: conmon is gone without a word */
  cd->sync_line =
      g_data_input_stream_read_line_finish_utf8 (cd->sync_stream, result, NULL, &cd->sync_error);
  create_step_done (task);
}

static void
on_conmon_parent_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CreateData *cd = g_task_get_task_data (task);

  /* conmon's daemonized child points its stdio at /dev/null, so stderr ends
   * when the parent exits */
  g_subprocess_communicate_utf8_finish (cd->conmon, result, NULL, &cd->conmon_stderr,
                                        &cd->conmon_error);
  create_step_done (task);
}

static gboolean
on_create_timeout (gpointer user_data)
{
  CreateData *cd = user_data;

  cd->timed_out = TRUE;
  g_cancellable_cancel (cd->op_cancellable);
  g_clear_pointer (&cd->timeout_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *caller_cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static GSubprocess *
spawn_conmon (CtrdRuntime *runtime, const char *id, const char *name, const char *bundle_dir,
              const char *log_path, const char *run_dir, gboolean terminal, int sync_write_fd,
              const int *keep_fds, guint n_keep_fds, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      ctrd_runtime_new_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *pidfile = g_build_filename (run_dir, "pidfile", NULL);
  g_autofree char *conmon_pidfile = g_build_filename (run_dir, "conmon.pid", NULL);
  g_autofree char *log_arg = g_strconcat ("k8s-file:", log_path, NULL);
  g_autofree char *syncpipe = g_strdup_printf ("%d", SYNC_PIPE_TARGET_FD);
  GSubprocess *conmon;
  /* as libpod's createOCIContainer passes them, minus the exit command (the
   * daemon watches exits/ itself) and with --socket-dir-path, without which
   * conmon fails silently */
  /* clang-format off */
  const char *const argv[] = {
    runtime->conmon_path,
    "--api-version", "1",
    "-c", id,
    "-u", id,
    "-n", name,
    "-r", runtime->runtime_path,
    "-b", bundle_dir,
    "-p", pidfile,
    "--conmon-pidfile", conmon_pidfile,
    "--exit-dir", runtime->exits_dir,
    "-l", log_arg,
    "--log-level", "warning",
    "--socket-dir-path", runtime->sockets_dir,
    "--runtime-arg", "--root",
    "--runtime-arg", runtime->runtime_root,
    /* conmon writes "oom" here when the OOM killer struck the container */
    "--persist-dir", run_dir,
    /* a terminal: conmon makes the console for runc and still logs */
    terminal ? "-t" : NULL,
    NULL,
  };
  /* clang-format on */

  g_subprocess_launcher_setenv (launcher, "_OCI_SYNCPIPE", syncpipe, TRUE);
  g_subprocess_launcher_take_fd (launcher, sync_write_fd, SYNC_PIPE_TARGET_FD);
  /* like libpod's reserved ports: conmon keeps every fd it inherits until
   * the container exits (runc passes none of them on) */
  for (guint i = 0; i < n_keep_fds; i++)
    {
      /* above every target number, so no copy is overwritten by another's dup2 */
      int copy = fcntl (keep_fds[i], F_DUPFD_CLOEXEC, SYNC_PIPE_TARGET_FD + 1 + (int) n_keep_fds);

      if (copy < 0)
        {
          int saved_errno = errno;
          g_subprocess_launcher_close (launcher);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Cannot pass fd %d to conmon: %s",
                       keep_fds[i], g_strerror (saved_errno));
          return NULL;
        }
      g_subprocess_launcher_take_fd (launcher, copy, SYNC_PIPE_TARGET_FD + 1 + (int) i);
    }
  conmon = g_subprocess_launcher_spawnv (launcher, argv, error);
  /* Our copy of the write end must go now, spawned or not: only conmon may
   * hold it, so its death shows as EOF. */
  g_subprocess_launcher_close (launcher);
  return conmon;
}

void
ctrd_runtime_create_async (CtrdRuntime *runtime, const char *id, const char *name,
                           const char *bundle_dir, const char *log_path, gboolean terminal,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  ctrd_runtime_create_with_fds_async (runtime, id, name, bundle_dir, log_path, terminal, NULL, 0,
                                      cancellable, callback, user_data);
}

void
ctrd_runtime_create_with_fds_async (CtrdRuntime *runtime, const char *id, const char *name,
                                    const char *bundle_dir, const char *log_path, gboolean terminal,
                                    const int *keep_fds, guint n_keep_fds,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) sync_read = NULL;
  CreateData *cd;
  int sync_pipe[2];

  g_task_set_source_tag (task, ctrd_runtime_create_async);
  /* a container that got created is reported as such, cancelled or not */
  g_task_set_check_cancellable (task, FALSE);

  if (!runtime_check_id (id, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (bundle_dir == NULL || !g_path_is_absolute (bundle_dir) || log_path == NULL ||
      !g_path_is_absolute (log_path))
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "Container %s: the bundle and log paths must be absolute", id);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  cd = g_new0 (CreateData, 1);
  cd->runtime = runtime_ref (runtime);
  cd->id = g_strdup (id);
  cd->run_dir = ctrd_runtime_container_run_dir (runtime, id);
  cd->op_cancellable = g_cancellable_new ();
  cd->caller_cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, cd, create_data_free);

  if (!ensure_private_dir (cd->run_dir, 0700, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  runtime_remove_conmon_files (runtime, id, TRUE);

  if (pipe2 (sync_pipe, O_CLOEXEC) != 0)
    {
      ctrd_throw_errno_code (&error, CTRD_ERROR_FAILED, "Container %s: creating the sync pipe", id);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  sync_read = g_unix_input_stream_new (sync_pipe[0], TRUE);

  cd->conmon = spawn_conmon (runtime, id, name != NULL ? name : id, bundle_dir, log_path,
                             cd->run_dir, terminal, sync_pipe[1], keep_fds, n_keep_fds, &error);
  if (cd->conmon == NULL)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                               "Container %s: starting %s: %s", id, runtime->conmon_path,
                               error->message);
      return;
    }

  cd->sync_stream = g_data_input_stream_new (sync_read);
  g_data_input_stream_set_newline_type (cd->sync_stream, G_DATA_STREAM_NEWLINE_TYPE_LF);

  if (cancellable != NULL)
    cd->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                cd->op_cancellable, NULL);
  cd->timeout_source = g_timeout_source_new_seconds (CREATE_TIMEOUT_SECONDS);
  g_source_set_callback (cd->timeout_source, on_create_timeout, cd, NULL);
  g_source_attach (cd->timeout_source, g_task_get_context (task));

  cd->pending = 2;
  g_data_input_stream_read_line_async (cd->sync_stream, G_PRIORITY_DEFAULT, cd->op_cancellable,
                                       on_sync_line, g_object_ref (task));
  g_subprocess_communicate_utf8_async (cd->conmon, NULL, cd->op_cancellable,
                                       on_conmon_parent_exited, g_object_ref (task));
}

gboolean
ctrd_runtime_create_finish (CtrdRuntime *runtime, GAsyncResult *result, guint32 *out_pid,
                            guint32 *out_conmon_pid, GError **error)
{
  g_autofree CreateResult *create_result = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ctrd_runtime_create_async,
                        FALSE);

  create_result = g_task_propagate_pointer (G_TASK (result), error);
  if (create_result == NULL)
    return FALSE;
  if (out_pid != NULL)
    *out_pid = create_result->pid;
  if (out_conmon_pid != NULL)
    *out_conmon_pid = create_result->conmon_pid;
  return TRUE;
}
