/* ctrd-runtime-terminal.c: the runtime's exec on a terminal. */
#include "config.h"

#include <fcntl.h>
#include <sys/ioctl.h>
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
