/* test-terminal.c: pseudo-terminals, the one-uid socket and the relay, on a
 * temporary directory (the socket tests need root to give the socket away). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctrd-fdio.h"
#include "ctrd-terminal.h"
#include "ctrd-test-util.h"

typedef struct
{
  char *tmpdir;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = ctrd_test_make_tmpdir ("test-terminal-XXXXXX");
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
}

static void
test_open_and_size (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  ctrd_autofd int master = -1;
  ctrd_autofd int slave = -1;
  ctrd_autofd int null_fd = -1;
  struct winsize size;

  g_assert_true (ctrd_terminal_open (30, 100, &master, &slave, &error));
  g_assert_no_error (error);
  g_assert_true (isatty (slave));
  g_assert_cmpint (fcntl (master, F_GETFL) & O_NONBLOCK, !=, 0);
  g_assert_cmpint (fcntl (slave, F_GETFD) & FD_CLOEXEC, !=, 0);
  g_assert_cmpint (ioctl (slave, TIOCGWINSZ, &size), ==, 0);
  g_assert_cmpint (size.ws_row, ==, 30);
  g_assert_cmpint (size.ws_col, ==, 100);
  g_assert_true (ctrd_terminal_set_size (master, 41, 132, &error));
  g_assert_cmpint (ioctl (slave, TIOCGWINSZ, &size), ==, 0);
  g_assert_cmpint (size.ws_row, ==, 41);
  g_assert_cmpint (size.ws_col, ==, 132);
  /* not a terminal */
  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  g_assert_false (ctrd_terminal_set_size (null_fd, 1, 1, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
}

/* Connects to @path as @uid in a child; its errno (0: connected). */
static int
connect_as (const char *path, uid_t uid)
{
  int status;
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      int fd = socket (AF_UNIX, SOCK_STREAM, 0);

      if (setgid (uid) < 0 || setuid (uid) < 0)
        _exit (200);
      g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
      _exit (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0 ? 0 : errno);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_listen_one_uid (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (fx->tmpdir, "terminals", NULL);
  g_autofree char *path = NULL;
  g_autofree char *listing = NULL;
  ctrd_autofd int listen_fd = -1;
  ctrd_autofd int conn = -1;
  struct stat st;

  if (getuid () != 0)
    {
      g_test_skip ("giving the socket to another uid needs root");
      return;
    }
  /* the other uids must reach the directory the socket is in */
  g_assert_cmpint (chmod (fx->tmpdir, 0755), ==, 0);
  listen_fd = ctrd_terminal_listen (dir, 65534, &path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (listen_fd, >=, 0);
  g_assert_true (g_str_has_prefix (path, dir));
  g_assert_cmpint (lstat (path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpuint (st.st_uid, ==, 65534);
  g_assert_cmpint (lstat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0711);
  /* nothing left in the staging directory */
  listing = ctrd_test_dir_listing (fx->tmpdir);
  g_assert_null (strstr (listing, ".staging/"));

  /* none waiting yet */
  g_assert_cmpint (ctrd_terminal_accept (listen_fd, 65534, &error), <, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);

  /* another uid cannot even connect: the file's mode */
  g_assert_cmpint (connect_as (path, 65533), ==, EACCES);
  /* the owner can */
  g_assert_cmpint (connect_as (path, 65534), ==, 0);
  conn = ctrd_terminal_accept (listen_fd, 65534, &error);
  g_assert_no_error (error);
  g_assert_cmpint (conn, >=, 0);
  ctrd_close_fd (&conn);

  /* a connection by a uid other than the owner and root that got through
   * (the mode changed) is refused on its credentials */
  g_assert_cmpint (chmod (path, 0666), ==, 0);
  g_assert_cmpint (connect_as (path, 65533), ==, 0);
  g_assert_cmpint (ctrd_terminal_accept (listen_fd, 65534, &error), <, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
}

typedef struct
{
  gboolean done;
  CtrdRelayEnd end;
} RelayResult;

static void
on_relay_done (CtrdRelayEnd end, gpointer user_data)
{
  RelayResult *result = user_data;

  result->done = TRUE;
  result->end = end;
}

/* Reads @fd until @expected has arrived (blocking, bounded by poll). */
static void
assert_reads (int fd, const char *expected)
{
  g_autoptr (GString) got = g_string_new (NULL);

  while (strstr (got->str, expected) == NULL)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      char buf[256];
      gssize n;

      g_assert_cmpint (poll (&p, 1, 60000), ==, 1);
      n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EAGAIN)
        continue;
      g_assert_cmpint (n, >, 0);
      g_string_append_len (got, buf, n);
    }
}

static void
test_relay (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  ctrd_autofd int master = -1;
  ctrd_autofd int slave = -1;
  int in_pipe[2], out_pipe[2];
  RelayResult result = { FALSE };
  CtrdTerminalRelay *relay;
  struct termios raw;

  g_assert_true (ctrd_terminal_open (24, 80, &master, &slave, &error));
  /* no echo, no line editing: bytes go through as they are */
  g_assert_cmpint (tcgetattr (slave, &raw), ==, 0);
  cfmakeraw (&raw);
  g_assert_cmpint (tcsetattr (slave, TCSANOW, &raw), ==, 0);
  g_assert_cmpint (pipe2 (in_pipe, O_CLOEXEC), ==, 0);
  g_assert_cmpint (pipe2 (out_pipe, O_CLOEXEC), ==, 0);
  relay = ctrd_terminal_relay_start (master, in_pipe[0], out_pipe[1], CTRD_RELAY_FLAGS_NONE, on_relay_done, &result,
                                     &error);
  g_assert_no_error (error);
  g_assert_nonnull (relay);

  /* client to process */
  g_assert_cmpint (write (in_pipe[1], "typed", 5), ==, 5);
  assert_reads (slave, "typed");
  /* the client's input ends: the relay goes on */
  close (in_pipe[1]);
  /* process to client */
  g_assert_cmpint (write (slave, "printed", 7), ==, 7);
  assert_reads (out_pipe[0], "printed");
  /* the last process closes the terminal: what it wrote arrives, then the end */
  g_assert_cmpint (write (slave, "last words", 10), ==, 10);
  ctrd_close_fd (&slave);
  while (!result.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (result.end, ==, CTRD_RELAY_TERMINAL_CLOSED);
  assert_reads (out_pipe[0], "last words");
  close (out_pipe[0]);
}

static void
test_relay_stop_and_client_gone (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  ctrd_autofd int master = -1;
  ctrd_autofd int slave = -1;
  int pair[2];
  RelayResult result = { FALSE };
  CtrdTerminalRelay *relay;

  g_assert_true (ctrd_terminal_open (24, 80, &master, &slave, &error));
  /* a socket client that leaves */
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  relay = ctrd_terminal_relay_start (master, pair[0], fcntl (pair[0], F_DUPFD_CLOEXEC, 3), CTRD_RELAY_CLIENT_SOCKET,
                                     on_relay_done, &result, &error);
  g_assert_nonnull (relay);
  close (pair[1]);
  while (!result.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (result.end, ==, CTRD_RELAY_CLIENT_GONE);

  /* stopped by the daemon */
  result.done = FALSE;
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  relay = ctrd_terminal_relay_start (master, pair[0], fcntl (pair[0], F_DUPFD_CLOEXEC, 3), CTRD_RELAY_CLIENT_SOCKET,
                                     on_relay_done, &result, &error);
  g_assert_nonnull (relay);
  ctrd_terminal_relay_stop (relay);
  while (!result.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (result.end, ==, CTRD_RELAY_STOPPED);
  close (pair[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/terminal/open-and-size", Fixture, NULL, fixture_setup, test_open_and_size,
              fixture_teardown);
  g_test_add ("/terminal/listen-one-uid", Fixture, NULL, fixture_setup, test_listen_one_uid,
              fixture_teardown);
  g_test_add ("/terminal/relay", Fixture, NULL, fixture_setup, test_relay, fixture_teardown);
  g_test_add ("/terminal/relay-stop-and-client-gone", Fixture, NULL, fixture_setup,
              test_relay_stop_and_client_gone, fixture_teardown);
  return g_test_run ();
}
