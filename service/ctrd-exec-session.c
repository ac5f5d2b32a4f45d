/* ctrd-exec-session.c: a process on a terminal, on the bus while it runs. */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "ctrd-error.h"
#include "ctrd-exec-session.h"
#include "ctrd-fdio.h"
#include "ctrd-terminal.h"
#include "ctrd-util.h"

#define UID_UNKNOWN G_MAXUINT32
/* After the process exited, what its terminal still holds is relayed for at
 * most this long (a background child may keep the terminal open forever). */
#define DRAIN_MS 2000
/* A client that left gets SIGHUP, then SIGKILL this much later. */
#define HANGUP_KILL_MS 5000
/* Exited is emitted this long before the object goes. */
#define REMOVE_DELAY_MS 1000

struct _CtrdExecSession
{
  CtrExecSessionSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned */
  char *object_path;
  char *container_id;
  guint32 starter_uid;
  int master_fd;           /* the terminal: a pty master, or conmon's attach socket */
  GSubprocess *proc;       /* the runtime's exec; NULL for Attach */
  CtrContainer *container; /* Attach: the container whose terminal this is */
  char *bundle_dir;
  gulong state_handler;
  char *pid_file;
  char *process_path;
  CtrdTerminalRelay *relay; /* while relaying */
  int listen_fd;            /* socket mode, until a client connected */
  guint listen_id;
  char *socket_path;
  guint connect_timeout_id;
  guint hangup_kill_id;
  guint drain_id;
  guint remove_id;
  gboolean exited;
  int exit_code;
  gboolean exported;
  gboolean held; /* the daemon holds a reference until the object goes */
  CtrdExecSessionExitFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
};

static void ctrd_exec_session_iface_init (CtrExecSessionIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdExecSession, ctrd_exec_session, CTR_TYPE_EXEC_SESSION_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_EXEC_SESSION,
                                                ctrd_exec_session_iface_init))

static guint next_session_number = 1;

static void
clear_source (guint *id)
{
  if (*id != 0)
    g_source_remove (*id);
  *id = 0;
}

static void
stop_listening (CtrdExecSession *self)
{
  clear_source (&self->listen_id);
  clear_source (&self->connect_timeout_id);
  ctrd_close_fd (&self->listen_fd);
  if (self->socket_path != NULL)
    (void) g_unlink (self->socket_path);
}

static void
ctrd_exec_session_finalize (GObject *object)
{
  CtrdExecSession *self = CTRD_EXEC_SESSION (object);

  stop_listening (self);
  clear_source (&self->hangup_kill_id);
  clear_source (&self->drain_id);
  clear_source (&self->remove_id);
  ctrd_close_fd (&self->master_fd);
  if (self->process_path != NULL)
    (void) g_unlink (self->process_path);
  if (self->pid_file != NULL)
    (void) g_unlink (self->pid_file);
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_clear_object (&self->proc);
  if (self->state_handler != 0)
    g_signal_handler_disconnect (self->container, self->state_handler);
  g_clear_object (&self->container);
  g_free (self->bundle_dir);
  g_free (self->object_path);
  g_free (self->container_id);
  g_free (self->pid_file);
  g_free (self->process_path);
  g_free (self->socket_path);
  G_OBJECT_CLASS (ctrd_exec_session_parent_class)->finalize (object);
}

static void
ctrd_exec_session_init (CtrdExecSession *self)
{
  self->master_fd = -1;
  self->listen_fd = -1;
}

static void
ctrd_exec_session_class_init (CtrdExecSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_exec_session_finalize;
}

const char *
ctrd_exec_session_get_object_path (CtrdExecSession *self)
{
  return self->object_path;
}

const char *
ctrd_exec_session_get_socket_path (CtrdExecSession *self)
{
  return self->socket_path;
}

/* ---------------------------------------------------------------- the end */

static gboolean
on_remove_due (gpointer user_data)
{
  CtrdExecSession *self = user_data;
  GDBusObjectManagerServer *manager = ctrd_daemon_get_object_manager (self->daemon);

  self->remove_id = 0;
  if (self->exported && manager != NULL)
    g_dbus_object_manager_server_unexport (manager, self->object_path);
  self->exported = FALSE;
  self->held = FALSE;
  g_object_unref (self); /* the daemon's reference */
  return G_SOURCE_REMOVE;
}

/* The process exited and its output is relayed: report it, then go. */
static void
finish (CtrdExecSession *self)
{
  CtrExecSession *iface = CTR_EXEC_SESSION (self);

  g_debug ("Exec session %s: exited with %d", self->object_path, self->exit_code);
  self->exited = TRUE;
  clear_source (&self->hangup_kill_id);
  g_object_freeze_notify (G_OBJECT (self));
  ctr_exec_session_set_exit_code (iface, self->exit_code);
  ctr_exec_session_set_running (iface, FALSE);
  g_object_thaw_notify (G_OBJECT (self));
  ctr_exec_session_emit_exited (iface, self->exit_code);
  if (self->func != NULL)
    self->func (self->exit_code, self->user_data);
  self->func = NULL;
  if (self->held)
    self->remove_id = g_timeout_add (REMOVE_DELAY_MS, on_remove_due, self);
}

/* The process's pid from the runtime's pid file; 0 before it is written. */
static pid_t
process_pid (CtrdExecSession *self)
{
  g_autofree char *text = NULL;
  guint64 pid = 0;

  if (!g_file_get_contents (self->pid_file, &text, NULL, NULL) ||
      !g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXINT32, &pid, NULL))
    return 0;
  return (pid_t) pid;
}

/* The runtime is the process's parent and reaps it, so while the runtime has
 * not exited the pid is the process's. */
static void
signal_process (CtrdExecSession *self, int signo)
{
  pid_t pid;

  if (self->exited)
    return;
  if (self->container != NULL)
    {
      pid = (pid_t) ctr_container_get_pid (self->container);
      if (pid > 0)
        (void) kill (pid, signo);
      return;
    }
  pid = process_pid (self);
  if (pid > 0)
    (void) kill (pid, signo);
  else
    /* not started yet: the runtime passes signals on */
    g_subprocess_send_signal (self->proc, signo);
}

static gboolean
on_drain_due (gpointer user_data)
{
  CtrdExecSession *self = user_data;

  self->drain_id = 0;
  if (self->relay != NULL)
    ctrd_terminal_relay_stop (self->relay);
  return G_SOURCE_REMOVE;
}

static void
on_process_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdExecSession) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_finish (self->proc, result, &error))
    g_warning ("Exec session %s: %s", self->object_path, error->message);
  self->exited = TRUE;
  self->exit_code = error == NULL ? ctrd_runtime_exec_status (self->proc) : -1;
  clear_source (&self->hangup_kill_id);
  if (self->listen_fd >= 0)
    /* what it wrote waits in the terminal for the client, until the
     * connect timeout */
    return;
  if (self->relay != NULL)
    self->drain_id = g_timeout_add (DRAIN_MS, on_drain_due, self);
  else
    finish (self);
}

static gboolean
on_hangup_kill_due (gpointer user_data)
{
  CtrdExecSession *self = user_data;

  self->hangup_kill_id = 0;
  g_message ("Exec session %s: its client left and SIGHUP did not end it; killing it",
             self->object_path);
  signal_process (self, SIGKILL);
  return G_SOURCE_REMOVE;
}

static gboolean
container_is_live (CtrContainer *container)
{
  const char *state = ctr_container_get_state (container);

  return g_strcmp0 (state, "created") == 0 || g_strcmp0 (state, "running") == 0 ||
         g_strcmp0 (state, "paused") == 0 || g_strcmp0 (state, "stopping") == 0;
}

static void
on_container_state (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  CtrdExecSession *self = user_data;

  if (container_is_live (self->container) || self->exited)
    return;
  self->exit_code = ctr_container_get_exit_code (self->container);
  finish (self);
}

/* Attach: conmon closed the terminal as the container exited; its exit code
 * once the daemon recorded the exit. */
static void
finish_attach_when_exited (CtrdExecSession *self)
{
  if (!container_is_live (self->container))
    {
      self->exit_code = ctr_container_get_exit_code (self->container);
      finish (self);
      return;
    }
  self->state_handler =
      g_signal_connect (self->container, "notify::state", G_CALLBACK (on_container_state), self);
}

static void
on_relay_done (CtrdRelayEnd end, gpointer user_data)
{
  CtrdExecSession *self = user_data;

  self->relay = NULL;
  if (self->container != NULL)
    {
      /* a client that detached leaves the container running: no exit code */
      self->exit_code = -1;
      if (end == CTRD_RELAY_TERMINAL_CLOSED)
        finish_attach_when_exited (self);
      else
        finish (self);
      return;
    }
  clear_source (&self->drain_id);
  if (self->exited)
    {
      finish (self);
      return;
    }
  if (end == CTRD_RELAY_CLIENT_GONE && self->socket_path != NULL)
    {
      /* a terminal whose other side went away: hang it up, like sshd */
      g_debug ("Exec session %s: the client left; hanging up", self->object_path);
      signal_process (self, SIGHUP);
      self->hangup_kill_id = g_timeout_add (HANGUP_KILL_MS, on_hangup_kill_due, self);
    }
}

/* ---------------------------------------------------------------- the socket */

static gboolean
on_connect_timeout (gpointer user_data)
{
  CtrdExecSession *self = user_data;

  self->connect_timeout_id = 0;
  g_message ("Exec session %s: no client connected to %s in time%s", self->object_path,
             self->socket_path,
             self->exited || self->container != NULL ? "" : "; killing its process");
  stop_listening (self);
  if (self->exited || self->container != NULL)
    {
      /* an attach that no one took leaves the container alone */
      self->exit_code = self->exited ? self->exit_code : -1;
      finish (self);
    }
  else
    signal_process (self, SIGKILL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_client_connecting (int fd, GIOCondition condition, gpointer user_data)
{
  CtrdExecSession *self = user_data;
  g_autoptr (GError) error = NULL;
  ctrd_autofd int conn = ctrd_terminal_accept (self->listen_fd, self->starter_uid, &error);
  ctrd_autofd int out = -1;

  if (conn < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_message ("Exec session %s: %s", self->object_path, error->message);
      return G_SOURCE_CONTINUE;
    }
  /* one connection: the socket goes at once */
  self->listen_id = 0;
  stop_listening (self);
  out = fcntl (conn, F_DUPFD_CLOEXEC, 3);
  if (out < 0)
    {
      g_warning ("Exec session %s: dup: %s", self->object_path, g_strerror (errno));
      signal_process (self, SIGKILL);
      return G_SOURCE_REMOVE;
    }
  self->relay = ctrd_terminal_relay_start (
      self->master_fd, ctrd_steal_fd (&conn), ctrd_steal_fd (&out),
      CTRD_RELAY_CLIENT_SOCKET | (self->container != NULL ? CTRD_RELAY_CONMON_ATTACH : 0),
      on_relay_done, self, &error);
  if (self->relay == NULL)
    {
      g_message ("Exec session %s: %s; killing its process", self->object_path, error->message);
      if (self->exited || self->container != NULL)
        finish (self);
      else
        signal_process (self, SIGKILL);
    }
  else if (self->exited)
    self->drain_id = g_timeout_add (DRAIN_MS, on_drain_due, self);
  return G_SOURCE_REMOVE;
}

static gboolean
listen_for_client (CtrdExecSession *self, GError **error)
{
  CtrdRuntime *runtime = ctrd_daemon_get_runtime (self->daemon);
  g_autofree char *dir = g_build_filename (ctrd_runtime_get_run_root (runtime), "terminals", NULL);
  guint64 timeout = ctrd_daemon_get_config (self->daemon)->terminal_connect_timeout;

  self->listen_fd = ctrd_terminal_listen (dir, self->starter_uid, &self->socket_path, error);
  if (self->listen_fd < 0)
    return FALSE;
  self->listen_id = g_unix_fd_add (self->listen_fd, G_IO_IN, on_client_connecting, self);
  self->connect_timeout_id =
      g_timeout_add_seconds ((guint) MIN (timeout, G_MAXUINT), on_connect_timeout, self);
  return TRUE;
}

/* ---------------------------------------------------------------- start */

static gboolean
start_process (CtrdExecSession *self, const CtrdExecSessionSetup *setup, int in_fd, int out_fd,
               GError **error)
{
  CtrdRuntime *runtime = ctrd_daemon_get_runtime (self->daemon);
  ctrd_autofd int slave = -1;
  ctrd_autofd int in = in_fd;
  ctrd_autofd int out = out_fd;

  if (setup->attach_container != NULL)
    {
      self->master_fd = ctrd_runtime_attach_connect (runtime, setup->container_id, error);
      return self->master_fd >= 0 && listen_for_client (self, error);
    }
  if (!ctrd_terminal_open (setup->rows, setup->columns, &self->master_fd, &slave, error))
    return FALSE;
  if (in < 0 && !listen_for_client (self, error))
    return FALSE;
  self->proc = ctrd_runtime_exec_terminal_spawn (runtime, setup->container_id, setup->process_path,
                                                 self->pid_file, slave, error);
  if (self->proc == NULL)
    return FALSE;
  /* only the runtime holds the terminal now: its end is the master's EIO */
  ctrd_close_fd (&slave);
  g_subprocess_wait_async (self->proc, NULL, on_process_exited, g_object_ref (self));
  if (in >= 0)
    {
      self->relay =
          ctrd_terminal_relay_start (self->master_fd, ctrd_steal_fd (&in), ctrd_steal_fd (&out),
                                     CTRD_RELAY_FLAGS_NONE, on_relay_done, self, error);
      if (self->relay == NULL)
        {
          signal_process (self, SIGKILL);
          return FALSE;
        }
    }
  return TRUE;
}

CtrdExecSession *
ctrd_exec_session_start (CtrdDaemon *daemon, const CtrdExecSessionSetup *setup, int in_fd,
                         int out_fd, CtrdExecSessionExitFunc func, gpointer user_data,
                         GDestroyNotify destroy, GError **error)
{
  g_autoptr (CtrdExecSession) self = g_object_new (CTRD_TYPE_EXEC_SESSION, NULL);
  CtrExecSession *iface = CTR_EXEC_SESSION (self);
  GDBusObjectManagerServer *manager = ctrd_daemon_get_object_manager (daemon);
  g_autofree char *pid_name = NULL;

  self->daemon = daemon;
  self->object_path = g_strdup_printf (CTRD_OBJECT_ROOT "/execs/%u", next_session_number++);
  self->container_id = g_strdup (setup->container_id);
  self->starter_uid = setup->starter_uid;
  self->process_path = g_strdup (setup->process_path);
  if (setup->attach_container != NULL)
    {
      self->container = g_object_ref (setup->attach_container);
      self->bundle_dir = g_strdup (setup->bundle_dir);
    }
  pid_name = g_strdup_printf ("exec-%u.pid", next_session_number - 1);
  self->pid_file = g_build_filename (setup->run_dir, pid_name, NULL);

  ctr_exec_session_set_container (iface, setup->container_path);
  {
    static const char *const no_command[] = { NULL };
    ctr_exec_session_set_command (iface, setup->argv != NULL ? (const char *const *) setup->argv
                                                             : no_command);
  }
  ctr_exec_session_set_running (iface, TRUE);
  ctr_exec_session_set_started_by_uid (iface, setup->starter_uid);

  if (!start_process (self, setup, in_fd, out_fd, error))
    {
      if (destroy != NULL)
        destroy (user_data);
      stop_listening (self);
      return NULL;
    }
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  self->held = TRUE;
  if (manager != NULL)
    {
      g_autoptr (CtrObjectSkeleton) object = ctr_object_skeleton_new (self->object_path);
      ctr_object_skeleton_set_exec_session (object, iface);
      g_dbus_object_manager_server_export (manager, G_DBUS_OBJECT_SKELETON (object));
      self->exported = TRUE;
    }
  g_debug ("Exec session %s: started in container %s", self->object_path, setup->container_id);
  /* the daemon's reference, dropped when the object goes */
  return g_steal_pointer (&self);
}

/* ---------------------------------------------------------------- Resize, Kill */

typedef struct
{
  CtrdExecSession *session;
  GDBusMethodInvocation *invocation;
  guint16 rows, columns;
  int signo; /* 0: a Resize */
} SessionCall;

static void
session_act (CtrdExecSession *self, SessionCall *call)
{
  g_autoptr (GError) error = NULL;

  if (self->exited)
    {
      g_dbus_method_invocation_return_error (call->invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                             "Exec session %s: the process has exited",
                                             self->object_path);
      return;
    }
  if (call->signo != 0)
    {
      signal_process (self, call->signo);
      ctr_exec_session_complete_kill (CTR_EXEC_SESSION (self), call->invocation);
      return;
    }
  if (self->container != NULL)
    {
      if (!ctrd_runtime_resize_console (self->bundle_dir, call->rows, call->columns, &error))
        {
          g_prefix_error (&error, "Exec session %s: ", self->object_path);
          g_dbus_method_invocation_return_gerror (call->invocation, error);
          return;
        }
      ctr_exec_session_complete_resize (CTR_EXEC_SESSION (self), call->invocation);
      return;
    }
  if (!ctrd_terminal_set_size (self->master_fd, call->rows, call->columns, &error))
    {
      g_prefix_error (&error, "Exec session %s: ", self->object_path);
      g_dbus_method_invocation_return_gerror (call->invocation, error);
      return;
    }
  /* the runtime copies the size into the container's terminal on SIGWINCH */
  g_subprocess_send_signal (self->proc, SIGWINCH);
  ctr_exec_session_complete_resize (CTR_EXEC_SESSION (self), call->invocation);
}

static void
on_caller_uid (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree SessionCall *call = user_data;
  g_autoptr (CtrdExecSession) self = call->session;
  g_autoptr (GVariant) reply = NULL;
  guint32 uid = UID_UNKNOWN;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);
  /* no polkit action lets one user drive another's terminal */
  if (uid == UID_UNKNOWN || (uid != self->starter_uid && uid != 0))
    {
      g_dbus_method_invocation_return_error (
          call->invocation, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
          "Not authorized to %s exec session %s: only the uid that started it (%u) or root may",
          call->signo != 0 ? "Kill" : "Resize", self->object_path, self->starter_uid);
      return;
    }
  session_act (self, call);
}

static void
authorize_session_call (CtrdExecSession *self, GDBusMethodInvocation *invocation, SessionCall *call)
{
  call->session = g_object_ref (self);
  call->invocation = invocation;
  g_dbus_connection_call (
      g_dbus_method_invocation_get_connection (invocation), "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixUser",
      g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_uid, call);
}

static gboolean
handle_resize (CtrExecSession *iface, GDBusMethodInvocation *invocation, guint16 rows,
               guint16 columns)
{
  CtrdExecSession *self = CTRD_EXEC_SESSION (iface);
  SessionCall *call;

  guint max = self->container != NULL ? CTRD_RUNTIME_CONSOLE_MAX_SIZE : G_MAXUINT16;

  if (rows == 0 || columns == 0 || rows > max || columns > max)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "Exec session %s: rows and columns must be 1 to "
                                             "%u (got %u x %u)",
                                             self->object_path, max, rows, columns);
      return TRUE;
    }
  call = g_new0 (SessionCall, 1);
  call->rows = rows;
  call->columns = columns;
  authorize_session_call (self, invocation, call);
  return TRUE;
}

static gboolean
handle_kill (CtrExecSession *iface, GDBusMethodInvocation *invocation, const char *signal_name)
{
  CtrdExecSession *self = CTRD_EXEC_SESSION (iface);
  g_autoptr (GError) error = NULL;
  int signo = ctrd_parse_signal (signal_name, &error);
  SessionCall *call;

  if (signo <= 0)
    {
      g_prefix_error (&error, "Exec session %s: ", self->object_path);
      ctrd_return_error (invocation, g_steal_pointer (&error), CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  call = g_new0 (SessionCall, 1);
  call->signo = signo;
  authorize_session_call (self, invocation, call);
  return TRUE;
}

static void
ctrd_exec_session_iface_init (CtrExecSessionIface *iface)
{
  iface->handle_resize = handle_resize;
  iface->handle_kill = handle_kill;
}
