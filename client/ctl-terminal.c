/* ctl-terminal.c: the verbs of containersctl that put the user's terminal
 * in a container: exec -it (Exec with Tty and our own fds, resized through
 * the ExecSession the call publishes), attach and run -it (Container.Attach:
 * a socket relayed here, detached with Ctrl-P Ctrl-Q like podman). */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "ctl.h"

/* podman's default detach keys */
#define DETACH_FIRST 0x10  /* Ctrl-P */
#define DETACH_SECOND 0x11 /* Ctrl-Q */

/* ---- the local terminal */

/* Saved once; restored at exit too, so that no way out leaves the user's
 * terminal raw. */
static struct termios saved_termios;
static gboolean termios_saved;

static void
terminal_restore (void)
{
  if (!termios_saved)
    return;
  tcsetattr (STDIN_FILENO, TCSADRAIN, &saved_termios);
  termios_saved = FALSE;
}

/* Raw mode on our stdin terminal, so that every key (Ctrl-C included)
 * reaches the process in the container, whose own terminal does the line
 * editing and echo. */
static gboolean
terminal_make_raw (GError **error)
{
  static gboolean restore_registered;
  struct termios raw;

  if (termios_saved)
    return TRUE;
  if (tcgetattr (STDIN_FILENO, &saved_termios) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot read the terminal's settings: %s", g_strerror (saved_errno));
      return FALSE;
    }
  if (!restore_registered)
    atexit (terminal_restore);
  restore_registered = TRUE;
  raw = saved_termios;
  cfmakeraw (&raw);
  termios_saved = TRUE;
  if (tcsetattr (STDIN_FILENO, TCSADRAIN, &raw) != 0)
    {
      int saved_errno = errno;
      termios_saved = FALSE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot make the terminal raw: %s", g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* The size of our terminal (stdin's, else stdout's); FALSE when neither is
 * one. */
static gboolean
terminal_size (guint16 *rows, guint16 *columns)
{
  struct winsize size;

  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &size) != 0 && ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) != 0)
    return FALSE;
  if (size.ws_row == 0 || size.ws_col == 0)
    return FALSE;
  *rows = size.ws_row;
  *columns = size.ws_col;
  return TRUE;
}

/* Like podman run: -t with -i from something that is not a terminal works,
 * with a warning. */
static void
terminal_warn_not_tty (gboolean interactive)
{
  if (interactive && !isatty (STDIN_FILENO))
    g_printerr ("Warning: the input device is not a TTY: -t and -i might not work properly\n");
}

/* ---- a session: its resizes and signals */

typedef struct
{
  Client *client;
  GMainLoop *loop;
  char *container_path;
  char *session_path;      /* the ExecSession, once known */
  const char *const *argv; /* exec: the command, to tell our session from others */
  guint16 rows, columns;   /* the size the process was last given */
  int status;
  gboolean done;
  /* exec: the call's answer */
  GVariant *reply;
  GError *error;
  /* attach: the socket and the detach keys */
  int socket_fd;
  guint socket_source, stdin_source;
  gboolean pending_detach_key;
  gboolean detached;
} Session;

static void
session_resize (Session *session)
{
  guint16 rows, columns;

  if (session->session_path == NULL || !terminal_size (&rows, &columns) ||
      (rows == session->rows && columns == session->columns))
    return;
  session->rows = rows;
  session->columns = columns;
  /* a session that has just ended refuses it: nothing to tell */
  g_dbus_connection_call (session->client->bus, BUS_NAME, session->session_path, EXEC_SESSION_IFACE,
                          "Resize", g_variant_new ("(qq)", rows, columns), NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
}

static gboolean
on_winch (gpointer user_data)
{
  session_resize (user_data);
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  Session *session;
  int signum;
} SessionSignal;

/* With the terminal raw, keys send no signals: these come from elsewhere
 * (kill, a closed terminal). They go to the process, like podman's
 * --sig-proxy; before the session is known they end the wait. */
static gboolean
on_session_signal (gpointer user_data)
{
  SessionSignal *forward = user_data;
  Session *session = forward->session;
  g_autofree char *signal_number = g_strdup_printf ("%d", forward->signum);

  if (session->session_path == NULL)
    {
      session->status = 128 + forward->signum;
      g_main_loop_quit (session->loop);
      return G_SOURCE_CONTINUE;
    }
  g_dbus_connection_call (session->client->bus, BUS_NAME, session->session_path, EXEC_SESSION_IFACE,
                          "Kill", g_variant_new ("(s)", signal_number), NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* Runs the loop until the session is done, with SIGWINCH resizing it and
 * INT, TERM and HUP forwarded to it. */
static void
session_run (Session *session)
{
  SessionSignal forwards[] = { { session, SIGINT }, { session, SIGTERM }, { session, SIGHUP } };
  guint sources[G_N_ELEMENTS (forwards)];
  guint winch = g_unix_signal_add (SIGWINCH, on_winch, session);

  for (guint i = 0; i < G_N_ELEMENTS (forwards); i++)
    sources[i] = g_unix_signal_add (forwards[i].signum, on_session_signal, &forwards[i]);
  /* a resize between the size read and now */
  session_resize (session);
  if (!session->done)
    g_main_loop_run (session->loop);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_source_remove (sources[i]);
  g_source_remove (winch);
}

static void
session_clear (Session *session)
{
  g_clear_pointer (&session->loop, g_main_loop_unref);
  g_clear_pointer (&session->container_path, g_free);
  g_clear_pointer (&session->session_path, g_free);
  g_clear_pointer (&session->reply, g_variant_unref);
  g_clear_error (&session->error);
  if (session->socket_source != 0)
    g_source_remove (session->socket_source);
  if (session->stdin_source != 0)
    g_source_remove (session->stdin_source);
  if (session->socket_fd >= 0)
    close (session->socket_fd);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Session, session_clear)

static void
session_init (Session *session, Client *client, CtrContainer *container)
{
  *session = (Session){
    .client = client,
    .loop = g_main_loop_new (NULL, FALSE),
    .container_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (container))),
    .socket_fd = -1,
  };
}

/* ---- exec -t */

/* The Exec call publishes its ExecSession during the call: ours is the one
 * of our uid, in our container, running our command. */
static void
on_interfaces_added (GDBusConnection *bus, const char *sender, const char *object_path,
                     const char *interface_name, const char *signal_name, GVariant *parameters,
                     gpointer user_data)
{
  Session *session = user_data;
  g_autoptr (GVariant) interfaces = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autofree const char **command = NULL;
  const char *path, *container = NULL;
  guint32 uid;

  if (session->session_path != NULL ||
      !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    return;
  g_variant_get (parameters, "(&o@a{sa{sv}})", &path, &interfaces);
  props = g_variant_lookup_value (interfaces, EXEC_SESSION_IFACE, G_VARIANT_TYPE_VARDICT);
  if (props == NULL || !g_variant_lookup (props, "Container", "&o", &container) ||
      !g_variant_lookup (props, "StartedByUid", "u", &uid) ||
      !g_variant_lookup (props, "Command", "^a&s", &command))
    return;
  if (!g_str_equal (container, session->container_path) || uid != getuid () ||
      !g_strv_equal (command, (const char *const *) session->argv))
    return;
  session->session_path = g_strdup (path);
  /* SIGWINCH may have come before we knew where to send it */
  session_resize (session);
}

static void
on_exec_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Session *session = user_data;

  session->reply = g_dbus_proxy_call_with_unix_fd_list_finish (G_DBUS_PROXY (source), NULL, result,
                                                               &session->error);
  session->done = TRUE;
  g_main_loop_quit (session->loop);
}

/* exec -t: Exec with Tty, our stdin (or /dev/null without -i) and stdout as
 * the terminal's two sides, our terminal raw while it runs. Returns the
 * process's exit code, or EXIT_ERROR. */
int
exec_with_terminal (Client *client, CtrContainer *container, const char *const *argv,
                    GVariantBuilder *options, gboolean interactive)
{
  g_auto (Session) session = { NULL };
  g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  gboolean raw = interactive && isatty (STDIN_FILENO);
  int null_fd = -1;
  guint subscription;
  gint32 exit_code;

  session_init (&session, client, container);
  session.argv = argv;
  terminal_warn_not_tty (interactive);
  g_variant_builder_add (options, "{sv}", "Tty", g_variant_new_boolean (TRUE));
  if (terminal_size (&session.rows, &session.columns))
    {
      g_variant_builder_add (options, "{sv}", "Rows", g_variant_new_uint16 (session.rows));
      g_variant_builder_add (options, "{sv}", "Columns", g_variant_new_uint16 (session.columns));
    }
  if (!interactive && (null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
    {
      int saved_errno = errno;
      g_printerr ("Error: cannot open /dev/null: %s\n", g_strerror (saved_errno));
      return EXIT_ERROR;
    }
  g_unix_fd_list_append (fd_list, interactive ? STDIN_FILENO : null_fd, &error);
  if (null_fd >= 0)
    close (null_fd);
  if (error == NULL)
    g_unix_fd_list_append (fd_list, STDOUT_FILENO, &error);
  if (error == NULL)
    g_unix_fd_list_append (fd_list, STDERR_FILENO, &error);
  if (error != NULL)
    return print_error (client, error);

  /* subscribed before the call: the bus has the match rule when the
   * session is announced */
  subscription = g_dbus_connection_signal_subscribe (
      client->bus, BUS_NAME, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", MANAGER_PATH,
      NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_interfaces_added, &session, NULL);
  if (raw && !terminal_make_raw (&error))
    {
      g_dbus_connection_signal_unsubscribe (client->bus, subscription);
      return print_error (client, error);
    }
  g_dbus_proxy_call_with_unix_fd_list (
      G_DBUS_PROXY (container), "Exec",
      g_variant_new ("(@as@a{sv}hhh)", g_variant_new_strv (argv, -1),
                     g_variant_builder_end (options), 0, 1, 2),
      CALL_CHANGING, G_MAXINT, fd_list, NULL, on_exec_done, &session);
  session_run (&session);
  terminal_restore ();
  g_dbus_connection_signal_unsubscribe (client->bus, subscription);
  if (!session.done)
    return session.status;
  if (session.reply == NULL)
    return print_error (client, session.error);
  g_variant_get (session.reply, "(i)", &exit_code);
  return exit_code >= 0 && exit_code < 256 ? exit_code : EXIT_ERROR;
}

/* ---- attach */

static gboolean
write_all (int fd, const char *data, gsize length)
{
  while (length > 0)
    {
      gssize written = write (fd, data, length);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        return FALSE;
      data += written;
      length -= written;
    }
  return TRUE;
}

static void
session_finish (Session *session)
{
  session->done = TRUE;
  g_main_loop_quit (session->loop);
}

static gboolean
on_socket_readable (int fd, GIOCondition condition, gpointer user_data)
{
  Session *session = user_data;
  char buffer[16384];
  gssize n = read (fd, buffer, sizeof buffer);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  /* the terminal's end: the container exited, or the daemon let us go */
  if (n <= 0 || !write_all (STDOUT_FILENO, buffer, n))
    {
      session->socket_source = 0;
      session_finish (session);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Relays our input, holding back Ctrl-P until the next key shows whether
 * it was podman's Ctrl-P Ctrl-Q, which detaches. */
static gboolean
on_stdin_readable (int fd, GIOCondition condition, gpointer user_data)
{
  Session *session = user_data;
  char buffer[4096], out[sizeof buffer + 1];
  gsize out_length = 0;
  gssize n = read (fd, buffer, sizeof buffer);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      /* our input ended; the output goes on */
      session->stdin_source = 0;
      return G_SOURCE_REMOVE;
    }
  for (gssize i = 0; i < n; i++)
    {
      if (session->pending_detach_key)
        {
          session->pending_detach_key = FALSE;
          if (buffer[i] == DETACH_SECOND)
            {
              write_all (session->socket_fd, out, out_length);
              session->detached = TRUE;
              session->stdin_source = 0;
              session_finish (session);
              return G_SOURCE_REMOVE;
            }
          out[out_length++] = DETACH_FIRST;
        }
      if (buffer[i] == DETACH_FIRST)
        session->pending_detach_key = TRUE;
      else
        out[out_length++] = buffer[i];
    }
  if (!write_all (session->socket_fd, out, out_length))
    {
      session->stdin_source = 0;
      session_finish (session);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static int
connect_socket (const char *path, GError **error)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof address.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   "the terminal socket path %s is too long", path);
      return -1;
    }
  strcpy (address.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &address, sizeof address) != 0)
    {
      int saved_errno = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot connect to the terminal socket %s: %s", path, g_strerror (saved_errno));
      return -1;
    }
  return fd;
}

/* Waits for @container to exit (its terminal closed as it did, or soon
 * will) and returns its exit code as ours. */
static int
wait_exit_code (Client *client, CtrContainer *container)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint32 exit_code;

  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (container), "Wait", NULL, G_DBUS_CALL_FLAGS_NONE,
                                  G_MAXINT, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(i)", &exit_code);
  return exit_code >= 0 && exit_code < 256 ? exit_code : EXIT_ERROR;
}

/* Attaches our terminal to @container's own (it was created with Tty)
 * until the container's terminal closes or Ctrl-P Ctrl-Q detaches; with
 * @interactive our input goes to it. Sets *@detached; returns 0 or
 * EXIT_ERROR. */
static int
attach_terminal (Client *client, CtrContainer *container, gboolean interactive, gboolean *detached)
{
  g_auto (Session) session = { NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *socket_path, *session_path;

  session_init (&session, client, container);
  *detached = FALSE;
  terminal_warn_not_tty (interactive);
  reply = call_changing (container, "Attach", g_variant_new ("(a{sv})", NULL), -1, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(&s&o)", &socket_path, &session_path);
  session.session_path = g_strdup (session_path);
  session.socket_fd = connect_socket (socket_path, &error);
  if (session.socket_fd < 0)
    return print_error (client, error);
  if (interactive && isatty (STDIN_FILENO) && !terminal_make_raw (&error))
    return print_error (client, error);
  session.socket_source = g_unix_fd_add (session.socket_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                         on_socket_readable, &session);
  if (interactive)
    {
      session.stdin_source =
          g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin_readable, &session);
    }
  /* the container's terminal keeps its old size until told ours */
  session_run (&session);
  terminal_restore ();
  *detached = session.detached;
  if (session.detached)
    /* like podman, a line of its own after the container's output */
    g_print ("\n");
  return session.done ? 0 : session.status;
}

/* run -t: starts @container (created with Tty), attaches to its terminal
 * and waits for it. The process's output before the attach is only in its
 * log (Attach needs a running container). Sets *@detached when Ctrl-P
 * Ctrl-Q left it running; returns its exit code, or EXIT_ERROR. */
int
run_with_terminal (Client *client, CtrContainer *container, gboolean interactive,
                   gboolean *detached)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  int status;

  *detached = FALSE;
  reply = call_changing (container, "Start", NULL, G_MAXINT, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  status = attach_terminal (client, container, interactive, detached);
  if (status != 0 || *detached)
    return status;
  return wait_exit_code (client, container);
}

int
verb_attach (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean no_stdin = FALSE, detached;
  const GOptionEntry entries[] = { { "no-stdin", 0, 0, G_OPTION_ARG_NONE, &no_stdin,
                                     "Do not pass our input to the container", NULL },
                                   { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) container = NULL;
  int status;

  if (!parse_verb_options (verb, entries, NULL,
                           "Ctrl-P Ctrl-Q detaches and leaves the container running. Once it "
                           "exits, its exit code is containersctl's.",
                           FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  container = get_container (client, argv[1], FALSE, &error);
  if (container == NULL)
    return print_error (client, error);
  status = attach_terminal (client, container, !no_stdin, &detached);
  if (status != 0 || detached)
    return status;
  return wait_exit_code (client, container);
}
