/* ctrd-exec-session.h: org.example.Containers1.ExecSession: a process on a
 * pseudo-terminal in a container (Exec with Tty, ExecTerminal), on the bus
 * while it runs, with Resize and Kill for the uid that started it. Main
 * thread only. */
#pragma once

#include "ctrd-daemon.h"

G_BEGIN_DECLS

#define CTRD_TYPE_EXEC_SESSION (ctrd_exec_session_get_type ())
G_DECLARE_FINAL_TYPE (CtrdExecSession, ctrd_exec_session, CTRD, EXEC_SESSION,
                      CtrExecSessionSkeleton)

/* Called once, when the process has exited and its output is relayed. */
typedef void (*CtrdExecSessionExitFunc) (int exit_code, gpointer user_data);

typedef struct
{
  const char *container_path;
  const char *container_id;
  char **argv;
  guint32 starter_uid;
  guint16 rows, columns;
  const char *process_path; /* the process JSON (asking for a terminal) */
  const char *run_dir;      /* the container's run dir, for the pid file */
  /* Attach: the container itself, whose conmon's terminal is relayed (no
   * process is started; argv and process_path are NULL) */
  CtrContainer *attach_container;
  const char *bundle_dir; /* with attach_container: where conmon's ctl fifo is */
} CtrdExecSessionSetup;

/* Starts the process of @setup on a new pseudo-terminal (or, for Attach,
 * connects to the container's conmon) and publishes the
 * session at /org/example/Containers1/execs/<N>. With @in_fd / @out_fd
 * (taken) the terminal is relayed to them; with -1 the daemon listens on a
 * socket under the run root that only @setup's uid can connect to (see
 * ctrd_exec_session_get_socket_path), killing the process when no one
 * connects in time. @func (may be NULL) gets the exit code; @destroy frees
 * @user_data after it ran, or at once when this fails. The session removes
 * the process JSON file when it ends. Returns the session (borrowed: the
 * daemon holds it while it is on the bus) or NULL with @error. */
CtrdExecSession *ctrd_exec_session_start (CtrdDaemon *daemon, const CtrdExecSessionSetup *setup,
                                          int in_fd, int out_fd, CtrdExecSessionExitFunc func,
                                          gpointer user_data, GDestroyNotify destroy,
                                          GError **error);

const char *ctrd_exec_session_get_object_path (CtrdExecSession *session);
/* The socket a client connects to; NULL when relayed to fds. */
const char *ctrd_exec_session_get_socket_path (CtrdExecSession *session);

G_END_DECLS
