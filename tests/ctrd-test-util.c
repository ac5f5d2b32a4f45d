/* ctrd-test-util.c: helpers shared by the test programs. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctrd-test-util.h"

char *
ctrd_test_make_tmpdir (const char *template_name)
{
  g_autoptr(GError) error = NULL;
  char *path = g_dir_make_tmp (template_name, &error);

  g_assert_no_error (error);
  return path;
}

static int
rm_rf_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  int r = type == FTW_DP ? rmdir (path) : unlink (path);

  if (r < 0 && errno != ENOENT)
    g_error ("ctrd_test_rm_rf: removing %s: %s", path, g_strerror (errno));
  return 0;
}

void
ctrd_test_rm_rf (const char *path)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      g_assert_cmpint (errno, ==, ENOENT);
      return;
    }
  /* FTW_MOUNT: skipping a mount's content makes its rmdir fail loudly
   * instead of emptying a mounted filesystem. */
  g_assert_cmpint (nftw (path, rm_rf_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT), ==, 0);
}

void
ctrd_test_write_file (const char *path, const char *contents, guint mode)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_no_errno (g_mkdir_with_parents (parent, 0755));
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  if (mode != 0)
    g_assert_no_errno (chmod (path, mode));
}

void
ctrd_test_write_file_in (const char *dir, const char *relative, const char *contents, guint mode)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);

  ctrd_test_write_file (path, contents, mode);
}

char *
ctrd_test_read_file_in (const char *dir, const char *relative)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

void
ctrd_test_assert_file_contents (const char *dir, const char *relative, const char *expected)
{
  g_autofree char *contents = ctrd_test_read_file_in (dir, relative);

  g_assert_cmpstr (contents, ==, expected);
}

void
ctrd_test_assert_missing (const char *dir, const char *relative)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, -1);
  g_assert_cmpint (errno, ==, ENOENT);
}

void
ctrd_test_lstat (const char *dir, const char *relative, struct stat *st)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);

  g_assert_no_errno (lstat (path, st));
}

void
ctrd_test_make_symlink_in (const char *dir, const char *relative, const char *target)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_no_errno (g_mkdir_with_parents (parent, 0755));
  g_assert_no_errno (symlink (target, path));
}

OstreeRepo *
ctrd_test_open_repo (const char *storage_root)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (storage_root, "repo", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  OstreeRepo *repo = ostree_repo_new (file);

  ostree_repo_open (repo, NULL, &error);
  g_assert_no_error (error);
  return repo;
}

gpointer
ctrd_test_pipe_reader_thread (gpointer user_data)
{
  CtrdTestPipeReader *reader = user_data;
  guint8 buf[16384];

  for (;;)
    {
      gssize want = sizeof buf;
      gssize n;

      if (reader->stop_after >= 0)
        want = MIN (want, reader->stop_after - (gssize) reader->data->len);
      if (want <= 0)
        break;
      n = read (reader->fd, buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >=, 0);
      if (n == 0)
        break;
      g_byte_array_append (reader->data, buf, n);
      if (reader->slow)
        g_usleep (200);
    }
  close (reader->fd);
  return NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char *
ctrd_test_dir_listing (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return g_strdup ("(missing)");
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static la_ssize_t
append_to_byte_array (struct archive *a, void *user_data, const void *buffer, size_t length)
{
  g_byte_array_append (user_data, buffer, length);
  return length;
}

static void
add_tar_member (struct archive *writer, const CtrdTestTarMember *member)
{
  struct archive_entry *entry = archive_entry_new ();
  gsize data_len = 0;

  archive_entry_set_pathname (entry, member->path);
  archive_entry_set_uid (entry, member->uid);
  archive_entry_set_gid (entry, member->gid);
  archive_entry_set_mtime (entry, 1700000000, 0);

  switch (member->type)
    {
    case CTRD_TEST_TAR_FILE:
      data_len = member->data != NULL ? strlen (member->data) : 0;
      archive_entry_set_filetype (entry, AE_IFREG);
      archive_entry_set_perm (entry, member->mode != 0 ? member->mode : 0644);
      archive_entry_set_size (entry, data_len);
      break;
    case CTRD_TEST_TAR_DIR:
      archive_entry_set_filetype (entry, AE_IFDIR);
      archive_entry_set_perm (entry, member->mode != 0 ? member->mode : 0755);
      break;
    case CTRD_TEST_TAR_SYMLINK:
      archive_entry_set_filetype (entry, AE_IFLNK);
      archive_entry_set_perm (entry, 0777);
      archive_entry_set_symlink (entry, member->data);
      break;
    case CTRD_TEST_TAR_HARDLINK:
      archive_entry_set_filetype (entry, AE_IFREG);
      archive_entry_set_perm (entry, member->mode != 0 ? member->mode : 0644);
      archive_entry_set_hardlink (entry, member->data);
      break;
    case CTRD_TEST_TAR_CHARDEV:
      archive_entry_set_filetype (entry, AE_IFCHR);
      archive_entry_set_perm (entry, 0666);
      archive_entry_set_rdev (entry, makedev (1, 3));
      break;
    case CTRD_TEST_TAR_BLOCKDEV:
      archive_entry_set_filetype (entry, AE_IFBLK);
      archive_entry_set_perm (entry, 0660);
      archive_entry_set_rdev (entry, makedev (7, 0));
      break;
    case CTRD_TEST_TAR_FIFO:
      archive_entry_set_filetype (entry, AE_IFIFO);
      archive_entry_set_perm (entry, 0644);
      break;
    default:
      g_assert_not_reached ();
    }
  if (member->xattr_name != NULL)
    archive_entry_xattr_add_entry (entry, member->xattr_name, member->xattr_value,
                                   strlen (member->xattr_value));

  g_assert_cmpint (archive_write_header (writer, entry), ==, ARCHIVE_OK);
  if (data_len > 0)
    g_assert_cmpint (archive_write_data (writer, member->data, data_len), ==, (gssize) data_len);
  archive_entry_free (entry);
}

GBytes *
ctrd_test_build_tar (const CtrdTestTarMember *members, gsize n_members, gboolean gzip)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  struct archive *writer = archive_write_new ();

  /* pax: long names and xattrs, and paths stored as given. Names go in as
   * raw bytes (hdrcharset=BINARY), as GNU tar writes them: libarchive's
   * UTF-8 conversion needs a UTF-8 locale, and tests run in "C". */
  g_assert_cmpint (archive_write_set_format_pax_restricted (writer), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_set_options (writer, "hdrcharset=BINARY"), ==, ARCHIVE_OK);
  if (gzip)
    {
      g_assert_cmpint (archive_write_add_filter_gzip (writer), ==, ARCHIVE_OK);
      /* Unpadded, like gzip(1) writes it: a cut really truncates the stream. */
      g_assert_cmpint (archive_write_set_bytes_in_last_block (writer, 1), ==, ARCHIVE_OK);
    }
  g_assert_cmpint (archive_write_open (writer, out, NULL, append_to_byte_array, NULL), ==,
                   ARCHIVE_OK);
  for (gsize i = 0; i < n_members; i++)
    add_tar_member (writer, &members[i]);
  g_assert_cmpint (archive_write_close (writer), ==, ARCHIVE_OK);
  archive_write_free (writer);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

void
ctrd_test_write_bytes (const char *path, GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_file_set_contents (path, data != NULL ? data : "", len, &error);
  g_assert_no_error (error);
}

typedef struct
{
  GBytes *bytes;
  int fd;
} PipeFeed;

static gpointer
feed_pipe_thread (gpointer user_data)
{
  PipeFeed *feed = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (feed->bytes, &len);
  gsize done = 0;

  while (done < len)
    {
      gssize n = write (feed->fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      /* EPIPE: the reader stopped early (a test of a failing import). */
      if (n < 0)
        break;
      done += n;
    }
  close (feed->fd);
  g_bytes_unref (feed->bytes);
  g_free (feed);
  return NULL;
}

int
ctrd_test_pipe_from_bytes (GBytes *bytes, GThread **out_thread)
{
  PipeFeed *feed = g_new0 (PipeFeed, 1);
  int fds[2];

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  feed->bytes = g_bytes_ref (bytes);
  feed->fd = fds[1];
  *out_thread = g_thread_new ("tar-pipe-feed", feed_pipe_thread, feed);
  return fds[0];
}

static gboolean
has_busybox_script (const char *dir)
{
  g_autofree char *script = g_build_filename (dir, "tests", "make-busybox-rootfs.sh", NULL);
  return g_file_test (script, G_FILE_TEST_IS_REGULAR);
}

char *
ctrd_test_get_top_srcdir (void)
{
  const char *env = g_getenv ("CTRD_TOP_SRCDIR");
  g_autofree char *this_dir = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (g_getenv ("G_TEST_SRCDIR") != NULL)
    {
      g_autofree char *from_test_dir = g_build_filename (g_test_get_dir (G_TEST_DIST), "..", NULL);
      if (has_busybox_script (from_test_dir))
        return g_canonicalize_filename (from_test_dir, NULL);
    }
  /* In an out-of-tree build __FILE__ names the source tree. */
  this_dir = g_path_get_dirname (__FILE__);
  return g_canonicalize_filename ("..", this_dir);
}

gboolean
ctrd_test_make_busybox_tar (const char *path)
{
  g_autofree char *top = ctrd_test_get_top_srcdir ();
  g_autofree char *script = g_build_filename (top, "tests", "make-busybox-rootfs.sh", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "/bin/sh", script, path, NULL };
  int status;

  if (!g_file_test ("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("/bin/busybox is missing (apt-get install busybox-static)");
      return FALSE;
    }
  g_assert_true (g_file_test (script, G_FILE_TEST_IS_REGULAR));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s", script, error->message, err);
  return TRUE;
}

void
ctrd_test_sqlite_exec (const char *path, const char *sql)
{
  sqlite3 *handle = NULL;

  g_assert_cmpint (sqlite3_open (path, &handle), ==, SQLITE_OK);
  if (sqlite3_exec (handle, sql, NULL, NULL, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (handle));
  sqlite3_close (handle);
}
