/* ctrd-runtime.h: the OCI runtime (runc or crun) driven through conmon, and the
 * exit-file monitor. Every child process is an async GSubprocess: nothing here
 * blocks the main loop. No D-Bus types.
 *
 * Run-root layout (the caller passes the run root):
 *   exits/<ID>            conmon's exit files (plain text exit code)
 *   runc/                 the runtime's --root
 *   containers/<ID>/      conmon.pid, pidfile, the attach socket (--socket-dir-path sockets/)
 */
#pragma once

#include <gio/gio.h>

#include "ctrd-cgroup.h"

G_BEGIN_DECLS

typedef struct _CtrdRuntime CtrdRuntime;

/* @runtime_path / @conmon_path: NULL = search PATH (runtime: first of runc, crun
 * whose "--version" works). Creates the run-root directories (0700).
 * Fails with RUNTIME_ERROR when no runtime or conmon is usable, or runc is older
 * than 1.1.12 is NOT checked here (Debian backports the CVE fixes). */
CtrdRuntime *ctrd_runtime_new (const char *runtime_path, const char *conmon_path,
                               const char *run_root, GError **error);
void ctrd_runtime_free (CtrdRuntime *runtime);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdRuntime, ctrd_runtime_free)

const char *ctrd_runtime_get_path (CtrdRuntime *runtime);
const char *ctrd_runtime_get_run_root (CtrdRuntime *runtime);
/* The runtime's --root. */
const char *ctrd_runtime_get_root (CtrdRuntime *runtime);
/* conmon's --socket-dir-path: <ID>/attach in it is a container's attach socket. */
const char *ctrd_runtime_get_sockets_dir (CtrdRuntime *runtime);
/* A launcher with the fixed environment every child of the runtime gets. */
GSubprocessLauncher *ctrd_runtime_new_launcher (GSubprocessFlags flags);
/* run_root/containers/<ID>; free with g_free. */
char *ctrd_runtime_container_run_dir (CtrdRuntime *runtime, const char *id);

/* Spawns conmon, which runs "<runtime> --root RUNROOT/runc create" for the
 * bundle in @bundle_dir (config.json there) and stays as the container's
 * parent, logging to @log_path (k8s-file) and writing exits/<ID> when the
 * process exits. Completes when conmon reports the container's pid on the
 * sync pipe. @terminal: the spec has process.terminal (conmon -t then makes
 * the console and still copies the output to the log). Errors: RUNTIME_ERROR with the runtime's message; TIMEOUT after
 * 30 s without a report; INVALID_ARGUMENT for an id outside
 * [A-Za-z0-9][A-Za-z0-9_-]* (all functions here) or relative paths. A stale
 * exit file of @id is removed first. @name NULL = @id. */
void ctrd_runtime_create_async (CtrdRuntime *runtime, const char *id, const char *name,
                                const char *bundle_dir, const char *log_path,
                                gboolean terminal,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
/* The same, with @keep_fds (copied; the caller keeps its own) inherited by
 * conmon, which holds them open until the container exits and passes none of
 * them to the runtime: how reserved host ports stay busy for the container's
 * life. */
void ctrd_runtime_create_with_fds_async (CtrdRuntime *runtime, const char *id, const char *name,
                                         const char *bundle_dir, const char *log_path,
                                         gboolean terminal, const int *keep_fds,
                                         guint n_keep_fds, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
gboolean ctrd_runtime_create_finish (CtrdRuntime *runtime, GAsyncResult *result,
                                     guint32 *out_pid, guint32 *out_conmon_pid, GError **error);

/* "<runtime> start ID". */
void ctrd_runtime_start_async (CtrdRuntime *runtime, const char *id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean ctrd_runtime_start_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error);

/* "<runtime> kill [--all] ID SIGNUM". */
void ctrd_runtime_kill_async (CtrdRuntime *runtime, const char *id, int signum, gboolean all,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean ctrd_runtime_kill_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error);

/* "<runtime> delete [--force] ID"; a container the runtime does not know is success. */
void ctrd_runtime_delete_async (CtrdRuntime *runtime, const char *id, gboolean force,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean ctrd_runtime_delete_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error);

/* TRUE when conmon recorded an OOM kill for the current run (its "oom" file in
 * the container's run dir, via --persist-dir). */
gboolean ctrd_runtime_oom_killed (CtrdRuntime *runtime, const char *id);

/* "<runtime> pause ID" (@pause) or "<runtime> resume ID": the cgroup freezer. */
void ctrd_runtime_pause_async (CtrdRuntime *runtime, const char *id, gboolean pause,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean ctrd_runtime_pause_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error);

/* "<runtime> update" of a created, running or paused container to @limits
 * (each 0 = none): memory and swap together (cgroup v1 refuses a memory
 * limit above the swap limit), the CFS quota and the pids limit. Fails with
 * RUNTIME_ERROR and the runtime's message when the kernel refuses a value
 * (a memory limit below what the container uses). */
void ctrd_runtime_update_async (CtrdRuntime *runtime, const char *id, const CtrdLimits *limits,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean ctrd_runtime_update_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error);

/* "<runtime> checkpoint --image-path @image_dir [--leave-running] ID" for a
 * running container (as a short verb: bounded by the verb timeout); @image_dir must exist (the dump's files go there). */
void ctrd_runtime_checkpoint_async (CtrdRuntime *runtime, const char *id, const char *image_dir,
                                    gboolean leave_running, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean ctrd_runtime_checkpoint_finish (CtrdRuntime *runtime, GAsyncResult *result,
                                         GError **error);

/* How long a short runtime verb (start, kill, delete, pause, state) may take
 * before it is killed and fails with TIMEOUT. */
#define CTRD_RUNTIME_VERB_TIMEOUT_DEFAULT 60
void ctrd_runtime_set_verb_timeout (CtrdRuntime *runtime, guint seconds);

/* "<runtime> state ID": the runtime's status of the container ("created",
 * "running", "paused", "stopped"), or "" when the runtime does not know it;
 * its init pid in @out_pid (0 if none). Free the status with g_free; NULL and
 * @error when the runtime fails. */
void ctrd_runtime_state_async (CtrdRuntime *runtime, const char *id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
char *ctrd_runtime_state_finish (CtrdRuntime *runtime, GAsyncResult *result, guint32 *out_pid,
                                 GError **error);

/* A pidfd for @pid (pidfd_open, close-on-exec): readable once the process
 * has exited, whoever its parent is (conmon double-forks away from the
 * daemon). -1 and @error when it cannot be had (no such process). */
int ctrd_runtime_pidfd_open (guint32 pid, GError **error);

/* "<runtime> exec --process PROCESS_JSON ID" with the three fds (taken) as the
 * process's stdio. Completes when the process exits, with its exit code
 * (128+N when killed by signal N), or -1 and an error. */
void ctrd_runtime_exec_async (CtrdRuntime *runtime, const char *id, const char *process_json_path,
                              int stdin_fd, int stdout_fd, int stderr_fd,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
int ctrd_runtime_exec_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error);

/* "<runtime> exec --tty --pid-file PID_FILE --process PROCESS_JSON ID" on
 * the terminal @terminal_fd (borrowed; a pseudo-terminal's slave, which
 * becomes the runtime's controlling terminal and stdio). The process JSON
 * must ask for a terminal. The runtime writes the process's pid to
 * @pid_file, forwards signals to it and exits with its status (see
 * ctrd_runtime_exec_status). Wait for it with g_subprocess_wait_async. */
GSubprocess *ctrd_runtime_exec_terminal_spawn (CtrdRuntime *runtime, const char *id,
                                               const char *process_json_path,
                                               const char *pid_file, int terminal_fd,
                                               GError **error);
/* The exit code of an exited exec runtime: 128+N when killed by signal N. */
int ctrd_runtime_exec_status (GSubprocess *proc);

/* What ctrd_runtime_probe_async saw. */
typedef struct
{
  int exit_code;       /* 128+N when killed by signal N; -1 when timed out or not run */
  gboolean timed_out;  /* killed at the timeout */
  char *error_message; /* the runtime's or conmon's complaint when it did not run; else NULL */
  char *output;        /* stdout and stderr as written, lines joined with "\n" */
  gsize output_len;    /* at most the @max_output asked for */
} CtrdProbeResult;

void ctrd_probe_result_free (CtrdProbeResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdProbeResult, ctrd_probe_result_free)

/* Runs the process of @process_json_path in container @id under conmon
 * (--exec, kept as the daemon's child) with a timeout of @timeout_seconds,
 * at which conmon kills the process's group: a process that leaves an
 * orphan holding its output cannot keep it waiting, as a plain runtime exec
 * would. Its stdout and stderr go to a k8s-file log in @work_dir (an
 * existing private directory, which also takes conmon's pid file), read back
 * (the first @max_output bytes) and removed at the end. Should conmon itself
 * hang, it is killed 30 s after the timeout (timed out). Completes with a
 * CtrdProbeResult, or an error (RUNTIME_ERROR) when conmon cannot be started;
 * cancelling kills conmon (CANCELLED). */
void ctrd_runtime_probe_async (CtrdRuntime *runtime, const char *id, const char *process_json_path,
                               const char *work_dir, guint timeout_seconds, gsize max_output,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
CtrdProbeResult *ctrd_runtime_probe_finish (CtrdRuntime *runtime, GAsyncResult *result,
                                            GError **error);

/* conmon's terminal of a container created with a terminal: a connection to
 * its attach socket (SOCK_SEQPACKET, non-blocking, close-on-exec; see
 * CTRD_RELAY_CONMON_ATTACH), or -1 with RUNTIME_ERROR. */
int ctrd_runtime_attach_connect (CtrdRuntime *runtime, const char *id, GError **error);

/* Asks the conmon of the container whose bundle is @bundle_dir to resize its
 * terminal (its ctl fifo; conmon takes 1 to 1000 rows and columns). Does not
 * block. */
gboolean ctrd_runtime_resize_console (const char *bundle_dir, guint16 rows, guint16 columns,
                                      GError **error);
#define CTRD_RUNTIME_CONSOLE_MAX_SIZE 1000

/* Reads exits/<ID>. FALSE with G_IO_ERROR_NOT_FOUND when there is none yet. */
gboolean ctrd_runtime_read_exit_code (CtrdRuntime *runtime, const char *id, int *out_exit_code,
                                      GError **error);
/* Removes exits/<ID> and the container's run dir files of conmon (pid files). */
void ctrd_runtime_forget_exit (CtrdRuntime *runtime, const char *id);

typedef void (*CtrdRuntimeExitFunc) (const char *id, gpointer user_data);

/* Watches exits/ with inotify; calls @func on the thread-default main
 * context of the caller for each exit file that appears (once written), once
 * per exit until ctrd_runtime_forget_exit (or a new create) for that id. Exit
 * files already there when the watch starts are reported too, from an idle,
 * and so are those whose events the kernel dropped (queue overflow).
 * Conmon's temporary files (<ID>.XXXXXX) are never reported. */
gboolean ctrd_runtime_watch_exits (CtrdRuntime *runtime, CtrdRuntimeExitFunc func,
                                   gpointer user_data, GError **error);

/* The runtime's short calls (start, kill, delete, pause) are spawned without
 * closing fds in the child (posix_spawn, much cheaper than fork for a large
 * daemon) while every fd above 2 is close-on-exec; each spawn checks that and
 * otherwise falls back to closing them, warning once. conmon and exec always
 * close them. */

/* FALSE with CTRD_ERROR_FAILED naming each open fd above 2 that lacks
 * close-on-exec (and what it refers to), which a child would inherit. For a
 * start-up check of the daemon's own fds. */
gboolean ctrd_runtime_check_fds_cloexec (GError **error);

/* Marks every open fd above 2 close-on-exec: fds the daemon inherited from
 * whoever started it (a shell's, a test harness's) must not reach containers,
 * and would make every spawn take the slow path. Call it first in main. */
void ctrd_runtime_mark_inherited_fds_cloexec (void);

/* TRUE if a process with @pid exists. */
gboolean ctrd_runtime_pid_alive (guint32 pid);

G_END_DECLS
