/* ctrd-terminal.c: pseudo-terminals, their client sockets and the relay. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-terminal.h"

gboolean
ctrd_terminal_set_size (int fd, guint16 rows, guint16 columns, GError **error)
{
  struct winsize size = { .ws_row = rows, .ws_col = columns };

  if (ioctl (fd, TIOCSWINSZ, &size) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Setting the terminal size");
  return TRUE;
}

gboolean
ctrd_terminal_open (guint16 rows, guint16 columns, int *out_master, int *out_slave, GError **error)
{
  ctrd_autofd int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  ctrd_autofd int slave = -1;
  char name[128];

  if (master < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Opening a pseudo-terminal");
  if (grantpt (master) < 0 || unlockpt (master) < 0 || ptsname_r (master, name, sizeof name) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Setting up a pseudo-terminal");
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Opening %s", name);
  if (!ctrd_terminal_set_size (master, rows, columns, error))
    return FALSE;
  *out_master = ctrd_steal_fd (&master);
  *out_slave = ctrd_steal_fd (&slave);
  return TRUE;
}

/* ---------------------------------------------------------------- the socket */

static gboolean
ensure_dir (const char *path, mode_t mode, GError **error)
{
  struct stat st;

  if (mkdir (path, mode) < 0 && errno != EEXIST)
    return ctrd_throw_errno (error, "Cannot make %s", path);
  /* whatever was there must be a directory of root's with this mode */
  if (lstat (path, &st) < 0)
    return ctrd_throw_errno (error, "Cannot look at %s", path);
  if (!S_ISDIR (st.st_mode) || st.st_uid != 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "%s is not a directory owned by root", path);
      return FALSE;
    }
  if ((st.st_mode & 07777) != mode && chmod (path, mode) < 0)
    return ctrd_throw_errno (error, "Cannot set the mode of %s", path);
  return TRUE;
}

int
ctrd_terminal_listen (const char *dir, guint32 uid, char **out_path, GError **error)
{
  g_autofree char *staging = g_build_filename (dir, ".staging", NULL);
  g_autofree char *name = g_strdup_printf ("%08x%08x%08x%08x.sock", g_random_int (),
                                           g_random_int (), g_random_int (), g_random_int ());
  g_autofree char *private_path = g_build_filename (staging, name, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  ctrd_autofd int fd = -1;

  if (strlen (private_path) >= sizeof addr.sun_path)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Socket path %s is too long",
                   private_path);
      return -1;
    }
  /* others may reach the sockets in @dir but not list it; the staging
   * directory is root's alone */
  if (!ensure_dir (dir, 0711, error) || !ensure_dir (staging, 0700, error))
    return -1;
  strcpy (addr.sun_path, private_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "socket"), -1;
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return ctrd_throw_errno (error, "Cannot bind %s", private_path), -1;
  if (chown (private_path, uid, 0) < 0 || chmod (private_path, 0600) < 0 || listen (fd, 1) < 0 ||
      rename (private_path, path) < 0)
    {
      ctrd_throw_errno (error, "Cannot set up the socket %s", path);
      (void) unlink (private_path);
      return -1;
    }
  *out_path = g_steal_pointer (&path);
  return ctrd_steal_fd (&fd);
}

int
ctrd_terminal_accept (int listen_fd, guint32 uid, GError **error)
{
  ctrd_autofd int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  struct ucred cred;
  socklen_t len = sizeof cred;

  if (fd < 0)
    return ctrd_throw_errno_in (error, G_IO_ERROR, "accept"), -1;
  /* the file's mode already keeps others out; this also covers a socket
   * someone else got hold of */
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return ctrd_throw_errno_in (error, G_IO_ERROR, "SO_PEERCRED"), -1;
  if (cred.uid != uid && cred.uid != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "A connection from uid %u, not %u, was refused", (guint) cred.uid, uid);
      return -1;
    }
  return ctrd_steal_fd (&fd);
}

/* ---------------------------------------------------------------- the relay */

/* Each direction holds at most this much; writes to fds that may block go
 * PIPE_BUF at a time after POLLOUT, so a write never waits. */
#define RELAY_BUFFER_SIZE 16384
#define RELAY_WRITE_CHUNK 4096
/* conmon's attach messages: its 8192-byte buffer and the stream byte */
#define ATTACH_MESSAGE_SIZE (8192 + 1)

static gint active_relays;

typedef struct
{
  char data[RELAY_BUFFER_SIZE];
  gsize start, len;
} RelayBuffer;

struct _CtrdTerminalRelay
{
  int master_fd; /* borrowed */
  int in_fd, out_fd;
  gboolean client_is_socket;
  gboolean conmon_attach;
  int wake[2]; /* a byte on wake[1] stops the thread */
  GMainContext *context;
  CtrdRelayDoneFunc done;
  gpointer user_data;
  CtrdRelayEnd end;
  RelayBuffer to_terminal, to_client;
};

static void
relay_free (CtrdTerminalRelay *relay)
{
  ctrd_close_fd (&relay->in_fd);
  ctrd_close_fd (&relay->out_fd);
  ctrd_close_fd (&relay->wake[0]);
  ctrd_close_fd (&relay->wake[1]);
  g_main_context_unref (relay->context);
  g_free (relay);
}

/* Reads what fits into @buf; FALSE at the end of @fd or on an error. */
static gboolean
relay_fill (RelayBuffer *buf, int fd)
{
  gssize n;

  if (buf->start > 0)
    {
      memmove (buf->data, buf->data + buf->start, buf->len);
      buf->start = 0;
    }
  n = read (fd, buf->data + buf->len, sizeof buf->data - buf->len);
  if (n > 0)
    buf->len += n;
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

/* relay_fill for conmon's attach socket: one whole message (a message
 * read in part loses the rest), without its stream byte. */
static gboolean
relay_fill_message (RelayBuffer *buf, int fd)
{
  char message[ATTACH_MESSAGE_SIZE];
  gssize n;

  if (buf->start > 0)
    {
      memmove (buf->data, buf->data + buf->start, buf->len);
      buf->start = 0;
    }
  n = recv (fd, message, sizeof message, MSG_DONTWAIT);
  if (n > 1)
    {
      memcpy (buf->data + buf->len, message + 1, n - 1);
      buf->len += n - 1;
    }
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

/* Writes a piece of @buf; FALSE when @fd cannot take any more ever. */
static gboolean
relay_drain (RelayBuffer *buf, int fd, gboolean is_socket)
{
  gsize chunk = MIN (buf->len, RELAY_WRITE_CHUNK);
  gssize n = is_socket ? send (fd, buf->data + buf->start, chunk, MSG_NOSIGNAL)
                       : write (fd, buf->data + buf->start, chunk);

  if (n < 0)
    return errno == EAGAIN || errno == EINTR;
  buf->start += n;
  buf->len -= n;
  if (buf->len == 0)
    buf->start = 0;
  return TRUE;
}

static CtrdRelayEnd
relay_run (CtrdTerminalRelay *relay)
{
  gboolean input_open = TRUE, terminal_open = TRUE;
  /* room for what one read of the terminal may bring */
  gsize read_room = relay->conmon_attach ? ATTACH_MESSAGE_SIZE : 1;

  for (;;)
    {
      struct pollfd fds[4];
      nfds_t n = 0;
      int in_i = -1, master_i = -1, out_i = -1;

      if (!terminal_open && relay->to_client.len == 0)
        return CTRD_RELAY_TERMINAL_CLOSED;
      fds[n++] = (struct pollfd){ .fd = relay->wake[0], .events = POLLIN };
      if (input_open && relay->to_terminal.len < RELAY_BUFFER_SIZE)
        {
          in_i = n;
          fds[n++] = (struct pollfd){ .fd = relay->in_fd, .events = POLLIN };
        }
      if (terminal_open)
        {
          short events = (relay->to_client.len + read_room <= RELAY_BUFFER_SIZE ? POLLIN : 0) |
                         (relay->to_terminal.len > 0 ? POLLOUT : 0);
          /* with nothing to do but wait for room, a hung-up master would
           * wake the loop at once: leave it out until there is room */
          if (events != 0)
            {
              master_i = n;
              fds[n++] = (struct pollfd){ .fd = relay->master_fd, .events = events };
            }
        }
      if (relay->to_client.len > 0)
        {
          out_i = n;
          fds[n++] = (struct pollfd){ .fd = relay->out_fd, .events = POLLOUT };
        }
      if (poll (fds, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          g_warning ("Terminal relay: poll: %s", g_strerror (errno));
          return CTRD_RELAY_STOPPED;
        }
      if (fds[0].revents != 0)
        return CTRD_RELAY_STOPPED;
      if (in_i >= 0 && fds[in_i].revents != 0 && !relay_fill (&relay->to_terminal, relay->in_fd))
        {
          if (relay->client_is_socket)
            return CTRD_RELAY_CLIENT_GONE;
          input_open = FALSE;
        }
      if (master_i >= 0 && (fds[master_i].revents & POLLOUT) != 0 &&
          !relay_drain (&relay->to_terminal, relay->master_fd, relay->conmon_attach))
        terminal_open = FALSE;
      /* the master reads EIO once every holder of the slave closed it, after
       * what they wrote */
      if (master_i >= 0 && (fds[master_i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
          !(relay->conmon_attach ? relay_fill_message (&relay->to_client, relay->master_fd)
                                 : relay_fill (&relay->to_client, relay->master_fd)))
        terminal_open = FALSE;
      if (out_i >= 0 && fds[out_i].revents != 0)
        {
          if ((fds[out_i].revents & POLLOUT) == 0 ||
              !relay_drain (&relay->to_client, relay->out_fd, relay->client_is_socket))
            return CTRD_RELAY_CLIENT_GONE;
        }
    }
}

static gboolean
relay_report (gpointer user_data)
{
  CtrdTerminalRelay *relay = user_data;

  relay->done (relay->end, relay->user_data);
  return G_SOURCE_REMOVE;
}

static gpointer
relay_thread (gpointer user_data)
{
  CtrdTerminalRelay *relay = user_data;

  relay->end = relay_run (relay);
  /* the client's fds go now: a client waiting for the end sees it at once */
  ctrd_close_fd (&relay->in_fd);
  ctrd_close_fd (&relay->out_fd);
  g_atomic_int_dec_and_test (&active_relays);
  g_main_context_invoke_full (relay->context, G_PRIORITY_DEFAULT, relay_report, relay,
                              (GDestroyNotify) relay_free);
  return NULL;
}

CtrdTerminalRelay *
ctrd_terminal_relay_start (int master_fd, int in_fd, int out_fd, CtrdRelayFlags flags,
                           CtrdRelayDoneFunc done, gpointer user_data, GError **error)
{
  CtrdTerminalRelay *relay = g_new0 (CtrdTerminalRelay, 1);
  GThread *thread;

  relay->master_fd = master_fd;
  relay->in_fd = in_fd;
  relay->out_fd = out_fd;
  relay->wake[0] = relay->wake[1] = -1;
  relay->client_is_socket = (flags & CTRD_RELAY_CLIENT_SOCKET) != 0;
  relay->conmon_attach = (flags & CTRD_RELAY_CONMON_ATTACH) != 0;
  relay->context = g_main_context_ref_thread_default ();
  relay->done = done;
  relay->user_data = user_data;
  if (g_atomic_int_add (&active_relays, 1) >= CTRD_TERMINAL_MAX_RELAYS)
    {
      g_atomic_int_dec_and_test (&active_relays);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "Too many terminals are open (at most %d)", CTRD_TERMINAL_MAX_RELAYS);
      relay_free (relay);
      return NULL;
    }
  if (pipe2 (relay->wake, O_CLOEXEC) < 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "pipe");
      g_atomic_int_dec_and_test (&active_relays);
      relay_free (relay);
      return NULL;
    }
  thread = g_thread_try_new ("terminal-relay", relay_thread, relay, error);
  if (thread == NULL)
    {
      g_atomic_int_dec_and_test (&active_relays);
      relay_free (relay);
      return NULL;
    }
  g_thread_unref (thread);
  return relay;
}

void
ctrd_terminal_relay_stop (CtrdTerminalRelay *relay)
{
  char byte = 0;

  /* the thread owns the relay until it reports: its wake pipe stays open */
  if (write (relay->wake[1], &byte, 1) < 0)
    g_warning ("Terminal relay: cannot stop it: %s", g_strerror (errno));
}
