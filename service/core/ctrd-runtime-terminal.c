/* ctrd-runtime-terminal.c: the runtime's exec on a terminal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-runtime.h"

/* In the child, between fork and exec: the terminal on its stdin becomes its
 * controlling terminal, so a resize reaches the runtime as SIGWINCH and a
 * hang-up as SIGHUP (async-signal-safe calls only). */
static void
take_controlling_terminal (gpointer user_data)
{
  (void) setsid ();
  (void) ioctl (0, TIOCSCTTY, 0);
}

GSubprocess *
ctrd_runtime_exec_terminal_spawn (CtrdRuntime *runtime, const char *id,
                                  const char *process_json_path, const char *pid_file,
                                  int terminal_fd, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = ctrd_runtime_new_launcher (G_SUBPROCESS_FLAGS_NONE);
  GSubprocess *proc;
  g_autoptr (GError) local_error = NULL;
  int copies[3] = { -1, -1, -1 };

  for (guint i = 0; i < 3; i++)
    if ((copies[i] = fcntl (terminal_fd, F_DUPFD_CLOEXEC, 3)) < 0)
      {
        ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Container %s: exec: dup", id);
        for (guint j = 0; j < i; j++)
          ctrd_close_fd (&copies[j]);
        return NULL;
      }
  /* runc makes the container's terminal and relays it to this one, which
   * it sets raw and whose size it copies on SIGWINCH (runc's tty.go) */
  g_subprocess_launcher_take_stdin_fd (launcher, copies[0]);
  g_subprocess_launcher_take_stdout_fd (launcher, copies[1]);
  g_subprocess_launcher_take_stderr_fd (launcher, copies[2]);
  g_subprocess_launcher_set_child_setup (launcher, take_controlling_terminal, NULL, NULL);
  proc = g_subprocess_launcher_spawn (launcher, &local_error, ctrd_runtime_get_path (runtime),
                                      "--root", ctrd_runtime_get_root (runtime), "exec", "--tty",
                                      "--pid-file", pid_file, "--process", process_json_path, id,
                                      NULL);
  if (proc == NULL)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR, "Container %s: running %s exec: %s",
                 id, ctrd_runtime_get_path (runtime), local_error->message);
  return proc;
}

int
ctrd_runtime_exec_status (GSubprocess *proc)
{
  /* runc exec passes the process's status on: 128+N for a signal, like a shell. */
  if (g_subprocess_get_if_signaled (proc))
    return 128 + g_subprocess_get_term_sig (proc);
  return g_subprocess_get_exit_status (proc);
}

int
ctrd_runtime_attach_connect (CtrdRuntime *runtime, const char *id, GError **error)
{
  g_autofree char *dir = g_build_filename (ctrd_runtime_get_sockets_dir (runtime), id, NULL);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  ctrd_autofd int dir_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ctrd_autofd int fd = -1;

  if (dir_fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR,
                                  "Container %s: conmon's socket directory %s", id, dir),
           -1;
  /* through the directory's fd, as conmon binds it: the full path may be
   * longer than a socket address takes */
  g_snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/attach", dir_fd);
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "socket"), -1;
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR,
                                  "Container %s: connecting to conmon's attach socket", id),
           -1;
  return ctrd_steal_fd (&fd);
}

gboolean
ctrd_runtime_resize_console (const char *bundle_dir, guint16 rows, guint16 columns, GError **error)
{
  g_autofree char *path = g_build_filename (bundle_dir, "ctl", NULL);
  /* conmon holds the fifo's other end open; O_NONBLOCK: never wait for it */
  ctrd_autofd int fd = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  g_autofree char *line = NULL;

  if (fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR, "Opening conmon's %s", path);
  /* 1: conmon's window resize message */
  line = g_strdup_printf ("1 %u %u\n", rows, columns);
  if (write (fd, line, strlen (line)) != (gssize) strlen (line))
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR, "Writing to conmon's %s", path);
  return TRUE;
}
