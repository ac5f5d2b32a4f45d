/* test-fdio.c: the fd toolkit on a temporary directory: auto-closing fds,
 * errno to GError, write-all, listing, safe recursive removal, xattrs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-fdio.h"
#include "ctrd-test-util.h"

typedef struct
{
  char *tmpdir;
  int tmp_dfd;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = ctrd_test_make_tmpdir ("test-fdio-XXXXXX");
  fx->tmp_dfd = open (fx->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fx->tmp_dfd, >=, 0);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  close (fx->tmp_dfd);
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
}

static gboolean
fd_is_open (int fd)
{
  return fcntl (fd, F_GETFD) >= 0;
}

static void
make_file (int dfd, const char *name, const char *content)
{
  int fd = openat (dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, content, strlen (content)), ==, (gssize) strlen (content));
  close (fd);
}

/* ------------------------------------------------------------------ */

static void
test_autofd (Fixture *fx, gconstpointer data)
{
  int seen, kept;

  {
    ctrd_autofd int fd = openat (fx->tmp_dfd, ".", O_RDONLY | O_CLOEXEC);

    g_assert_cmpint (fd, >=, 0);
    seen = fd;
  }
  g_assert_false (fd_is_open (seen));

  {
    ctrd_autofd int fd = openat (fx->tmp_dfd, ".", O_RDONLY | O_CLOEXEC);

    kept = ctrd_steal_fd (&fd);
    g_assert_cmpint (fd, ==, -1);
  }
  g_assert_true (fd_is_open (kept));

  /* Closing keeps errno: a cleanup on an error path reports the right one. */
  errno = ENOSPC;
  ctrd_close_fd (&kept);
  g_assert_cmpint (errno, ==, ENOSPC);
  g_assert_cmpint (kept, ==, -1);
  ctrd_close_fd (&kept); /* -1 stays -1, nothing closed */
  g_assert_cmpint (errno, ==, ENOSPC);
}

static void
test_throw_errno (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("Opening x/y: %s", g_strerror (ENOENT));

  errno = ENOENT;
  g_assert_false (ctrd_throw_errno (&error, "Opening %s/%s", "x", "y"));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpint (errno, ==, ENOENT);
  g_clear_error (&error);

  errno = EACCES;
  g_assert_false (ctrd_throw_errno_code (&error, CTRD_ERROR_INVALID_ARGUMENT, "Reading"));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_suffix (error->message, g_strerror (EACCES)));
  g_assert_cmpint (errno, ==, EACCES);

  /* No error wanted: still FALSE, errno untouched. */
  errno = EIO;
  g_assert_false (ctrd_throw_errno (NULL, "Nothing"));
  g_assert_cmpint (errno, ==, EIO);
}

/* ------------------------------------------------------------------ */
/* write-all */

typedef struct
{
  int fd;
  GByteArray *got;
} Drain;

static gpointer
drain_thread (gpointer data)
{
  Drain *drain = data;
  guint8 buf[3000];
  gssize n;

  while ((n = read (drain->fd, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      g_byte_array_append (drain->got, buf, n);
    }
  return NULL;
}

static GBytes *
pattern_bytes (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  return g_bytes_new_take (data, size);
}

/* Writes @bytes to @write_fd while a thread reads @read_fd to the end. */
static void
check_write_through (int write_fd, int read_fd, GBytes *bytes)
{
  Drain drain = { .fd = read_fd, .got = g_byte_array_new () };
  GThread *thread = g_thread_new ("drain", drain_thread, &drain);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;
  gsize size;
  const void *p = g_bytes_get_data (bytes, &size);

  g_assert_true (ctrd_fd_write_all (write_fd, p, size, NULL, &error));
  g_assert_no_error (error);
  close (write_fd);
  g_thread_join (thread);
  got = g_byte_array_free_to_bytes (drain.got);
  g_assert_true (g_bytes_equal (got, bytes));
  close (read_fd);
}

static void
test_write_all_kinds (Fixture *fx, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern_bytes (1024 * 1024 + 17);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->tmpdir, "out", NULL);
  g_autofree char *contents = NULL;
  gsize len, size;
  const void *p = g_bytes_get_data (bytes, &size);
  int fds[2];
  int fd;

  /* a regular file */
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_true (ctrd_fd_write_all (fd, p, size, NULL, &error));
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, p, size);

  /* blocking and non-blocking pipes, and a stream socket */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  check_write_through (fds[1], fds[0], bytes);
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC | O_NONBLOCK));
  g_assert_no_errno (fcntl (fds[0], F_SETFL, 0)); /* the reader blocks */
  check_write_through (fds[1], fds[0], bytes);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  check_write_through (fds[1], fds[0], bytes);

  /* nothing to write is done at once */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  g_assert_true (ctrd_fd_write_all (fds[1], "", 0, NULL, &error));
  close (fds[0]);
  close (fds[1]);
}

static gpointer
cancel_thread (gpointer data)
{
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_write_all_reader_gone (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *big = g_malloc0 (1024 * 1024);
  GThread *canceller;
  int fds[2];

  /* A reader that went away, on a pipe and on a socket: one rule for both,
   * and storage callers that normalize see FAILED, as before. */
  for (guint socket = 0; socket < 2; socket++)
    {
      if (socket)
        g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
      else
        g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
      close (fds[0]);
      g_assert_false (ctrd_fd_write_all (fds[1], "x", 1, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
      ctrd_error_normalize (&error, CTRD_ERROR_FAILED);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
      g_clear_error (&error);
      close (fds[1]);
    }

  /* Cancelled before: nothing is written. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  g_cancellable_cancel (cancellable);
  g_assert_false (ctrd_fd_write_all (fds[1], "x", 1, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_no_errno (fcntl (fds[0], F_SETFL, O_NONBLOCK));
  g_assert_cmpint (read (fds[0], big, 1), ==, -1);
  g_assert_cmpint (errno, ==, EAGAIN);
  close (fds[0]);
  close (fds[1]);

  /* A reader that never reads: more than the pipe holds, so the write has
   * to wait, and the cancellation (whenever it comes) ends it. */
  g_cancellable_reset (cancellable);
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  canceller = g_thread_new ("cancel", cancel_thread, cancellable);
  g_assert_false (ctrd_fd_write_all (fds[1], big, 1024 * 1024, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ctrd_error_normalize (&error, CTRD_ERROR_FAILED);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  g_thread_join (canceller);
  close (fds[0]);
  close (fds[1]);
}

/* ------------------------------------------------------------------ */
/* listing and removal */

static void
test_list_dir (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *joined = NULL;
  char buf[64];

  make_file (fx->tmp_dfd, "b", "");
  make_file (fx->tmp_dfd, "a", "");
  g_assert_no_errno (mkdirat (fx->tmp_dfd, "c", 0755));
  g_assert_no_errno (symlinkat ("/nowhere", fx->tmp_dfd, "d"));

  /* The caller's offset stays where it was. */
  g_assert_cmpint (lseek (fx->tmp_dfd, 0, SEEK_CUR), ==, 0);
  names = ctrd_list_dir_at (fx->tmp_dfd, "the test dir", &error);
  g_assert_no_error (error);
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (" ", (char **) names->pdata);
  g_assert_cmpstr (joined, ==, "a b c d");
  g_assert_cmpint (lseek (fx->tmp_dfd, 0, SEEK_CUR), ==, 0);
  g_clear_pointer (&names, g_ptr_array_unref);

  /* Not a directory. */
  {
    ctrd_autofd int fd = openat (fx->tmp_dfd, "a", O_RDONLY | O_CLOEXEC);

    names = ctrd_list_dir_at (fd, "the file a", &error);
    g_assert_null (names);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
    g_snprintf (buf, sizeof buf, "Reading the file a: %s", g_strerror (ENOTDIR));
    g_assert_cmpstr (error->message, ==, buf);
  }
}

static void
make_tree (int dfd, const char *name, guint depth)
{
  ctrd_autofd int fd = -1;

  g_assert_no_errno (mkdirat (dfd, name, 0755));
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  make_file (fd, "file", "data");
  g_assert_no_errno (mkfifoat (fd, "fifo", 0600));
  g_assert_no_errno (symlinkat ("..", fd, "up"));
  g_assert_no_errno (mkdirat (fd, "empty", 0700));
  g_assert_no_errno (mkdirat (fd, "locked", 0)); /* root removes it anyway */
  if (depth > 0)
    make_tree (fd, "sub", depth - 1);
}

static void
test_remove_tree (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *outside = NULL;
  ctrd_autofd int tree_fd = -1;
  struct stat st;

  /* A symlink to something outside is unlinked, its target left alone. */
  make_file (fx->tmp_dfd, "outside", "keep");
  outside = g_build_filename (fx->tmpdir, "outside", NULL);
  make_tree (fx->tmp_dfd, "tree", 3);
  tree_fd = openat (fx->tmp_dfd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_no_errno (symlinkat (outside, tree_fd, "escape"));
  g_assert_true (ctrd_remove_tree_at (fx->tmp_dfd, "tree", "the tree", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fstatat (fx->tmp_dfd, "tree", &st, AT_SYMLINK_NOFOLLOW), ==, -1);
  g_assert_cmpint (errno, ==, ENOENT);
  g_assert_no_errno (fstatat (fx->tmp_dfd, "outside", &st, 0));

  /* Missing is success; a file or a symlink is unlinked. */
  g_assert_true (ctrd_remove_tree_at (fx->tmp_dfd, "tree", "the tree", NULL, &error));
  g_assert_no_errno (symlinkat (fx->tmpdir, fx->tmp_dfd, "link"));
  g_assert_true (ctrd_remove_tree_at (fx->tmp_dfd, "link", "the link", NULL, &error));
  g_assert_true (ctrd_remove_tree_at (fx->tmp_dfd, "outside", "a file", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fstatat (fx->tmp_dfd, "link", &st, AT_SYMLINK_NOFOLLOW), ==, -1);
  g_assert_cmpint (fstatat (fx->tmp_dfd, "outside", &st, AT_SYMLINK_NOFOLLOW), ==, -1);
  g_assert_no_errno (fstat (fx->tmp_dfd, &st));
}

static void
test_remove_tree_deep (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  ctrd_autofd int fd = dup (fx->tmp_dfd);
  struct stat st;

  /* Deeper than PATH_MAX allows as one path, and than an fd per level. */
  g_assert_no_errno (mkdirat (fd, "deep", 0755));
  for (guint i = 0; i < 3000; i++)
    {
      int child;

      g_assert_no_errno (mkdirat (fd, i == 0 ? "deep/d" : "ddddd", 0755));
      child = openat (fd, i == 0 ? "deep/d" : "ddddd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_assert_cmpint (child, >=, 0);
      close (fd);
      fd = child;
    }
  make_file (fd, "bottom", "x");
  g_assert_true (ctrd_remove_tree_at (fx->tmp_dfd, "deep", "deep", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fstatat (fx->tmp_dfd, "deep", &st, AT_SYMLINK_NOFOLLOW), ==, -1);
}

static void
test_remove_tree_refusals (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = g_build_filename (fx->tmpdir, "tree", NULL);
  g_autofree char *mnt = g_build_filename (fx->tmpdir, "tree", "sub", "sub", NULL);
  struct stat st;

  g_assert_false (ctrd_remove_tree ("relative/path", NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_remove_tree ("/", NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_remove_tree ("/tmp/..", NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (ctrd_remove_tree ("/nonexistent-parent/x", NULL, &error));
  g_assert_no_error (error);

  make_tree (fx->tmp_dfd, "tree", 2);
  g_cancellable_cancel (cancellable);
  g_assert_false (ctrd_remove_tree (path, cancellable, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_no_errno (stat (path, &st));

  /* A mount point below stops the removal there. */
  if (mount ("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0)
    {
      g_assert_true (ctrd_remove_tree (path, NULL, &error));
      g_test_skip ("cannot mount a tmpfs here (not root?)");
      return;
    }
  g_assert_false (ctrd_remove_tree (path, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_assert_nonnull (strstr (error->message, "is a mount point"));
  g_clear_error (&error);
  g_assert_no_errno (stat (mnt, &st));
  g_assert_false (ctrd_remove_tree (mnt, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_clear_error (&error);
  g_assert_no_errno (umount2 (mnt, MNT_DETACH));
  g_assert_true (ctrd_remove_tree (path, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stat (path, &st), ==, -1);
}

/* ------------------------------------------------------------------ */
/* xattrs */

static gboolean
keep_user_only (const char *name)
{
  return g_str_has_prefix (name, "user.") && !g_str_has_prefix (name, "user.skip");
}

static void
test_xattrs (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autofree char *text = NULL;
  ctrd_autofd int fd = -1;

  make_file (fx->tmp_dfd, "f", "");
  fd = openat (fx->tmp_dfd, "f", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);

  /* None at all is NULL, not an empty array. */
  xattrs = ctrd_fd_get_xattrs (fd, NULL, "f", &error);
  g_assert_no_error (error);
  if (fsetxattr (fd, "user.b", "2", 1, 0) < 0)
    {
      g_assert_true (errno == ENOTSUP || errno == EOPNOTSUPP);
      g_assert_null (xattrs);
      g_test_skip ("no user xattrs on this filesystem");
      return;
    }
  g_assert_null (xattrs);
  g_assert_no_errno (fsetxattr (fd, "user.a", "one", 3, 0));
  g_assert_no_errno (fsetxattr (fd, "user.skip", "x", 1, 0));
  g_assert_no_errno (fsetxattr (fd, "user.empty", "", 0, 0));

  /* Sorted by name, filtered, values as bytes (an empty one too). */
  xattrs = ctrd_fd_get_xattrs (fd, keep_user_only, "f", &error);
  g_assert_no_error (error);
  g_assert_nonnull (xattrs);
  g_assert_false (g_variant_is_floating (xattrs));
  text = g_variant_print (xattrs, FALSE);
  g_assert_cmpstr (text, ==,
                   "[(b'user.a', [0x6f, 0x6e, 0x65]), (b'user.b', [0x32]), (b'user.empty', [])]");
  g_clear_pointer (&xattrs, g_variant_unref);

  xattrs = ctrd_fd_get_xattrs (fd, NULL, "f", &error);
  g_assert_cmpuint (g_variant_n_children (xattrs), >=, 4);

  g_assert_true (ctrd_fd_has_xattr (fd, "user.a"));
  g_assert_true (ctrd_fd_has_xattr (fd, "user.empty"));
  g_assert_false (ctrd_fd_has_xattr (fd, "user.none"));
  g_assert_true (ctrd_fd_xattr_equals (fd, "user.a", "one"));
  g_assert_false (ctrd_fd_xattr_equals (fd, "user.a", "on"));
  g_assert_false (ctrd_fd_xattr_equals (fd, "user.a", "one!"));
  g_assert_true (ctrd_fd_xattr_equals (fd, "user.empty", ""));
  g_assert_false (ctrd_fd_xattr_equals (fd, "user.none", ""));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Like the daemon: a reader that goes away is an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);

#define ADD(path, fn) g_test_add ("/fdio/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("autofd", test_autofd);
  ADD ("throw-errno", test_throw_errno);
  ADD ("write-all/kinds", test_write_all_kinds);
  ADD ("write-all/reader-gone-and-cancel", test_write_all_reader_gone);
  ADD ("list-dir", test_list_dir);
  ADD ("remove-tree", test_remove_tree);
  ADD ("remove-tree/deep", test_remove_tree_deep);
  ADD ("remove-tree/refusals", test_remove_tree_refusals);
  ADD ("xattrs", test_xattrs);
#undef ADD
  return g_test_run ();
}
