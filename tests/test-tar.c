/* test-tar.c: the tar writer (ctrd-tar): what it writes reads back, its
 * byte count, digest and progress describe every byte, a failed output
 * never ends in end-of-archive blocks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-tar.h"
#include "ctrd-test-util.h"

typedef struct
{
  char *tmpdir;
  char *path;
  int fd;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = ctrd_test_make_tmpdir ("test-tar-XXXXXX");
  fx->path = g_build_filename (fx->tmpdir, "out.tar", NULL);
  fx->fd = open (fx->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fx->fd, >=, 0);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  close (fx->fd);
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->path);
  g_free (fx->tmpdir);
}

static struct archive_entry *
file_entry (const char *path, gsize size)
{
  struct archive_entry *entry = archive_entry_new ();

  archive_entry_set_pathname (entry, path);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  archive_entry_set_size (entry, size);
  archive_entry_set_mtime (entry, 1700000000, 0);
  return entry;
}

static gboolean
write_file_member (CtrdTarWriter *tar, const char *path, const char *data, GError **error)
{
  g_autoptr (CtrdArchiveEntry) entry = file_entry (path, strlen (data));

  return ctrd_tar_writer_write_header (tar, entry, NULL, error) &&
         ctrd_tar_writer_write_data (tar, data, strlen (data), path, error);
}

/* The members of the tar in @bytes as "path=content" lines; asserts that
 * it reads to its end-of-archive marker. */
static char *
read_members (GBytes *bytes)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  GString *out = g_string_new (NULL);
  gsize size;
  const void *data = g_bytes_get_data (bytes, &size);
  int r;

  archive_read_support_format_tar (a);
  g_assert_cmpint (archive_read_open_memory (a, data, size), ==, ARCHIVE_OK);
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK)
    {
      char buf[256];
      la_ssize_t n = archive_read_data (a, buf, sizeof buf);
      const char *xname;
      const void *value;
      size_t value_size;

      g_assert_cmpint (n, >=, 0);
      g_string_append_printf (out, "%s=%.*s\n", archive_entry_pathname (entry), (int) n, buf);
      archive_entry_xattr_reset (entry);
      while (archive_entry_xattr_next (entry, &xname, &value, &value_size) == ARCHIVE_OK)
        g_string_append_printf (out, "  %s=%.*s\n", xname, (int) value_size, (const char *) value);
    }
  g_assert_cmpint (r, ==, ARCHIVE_EOF);
  archive_read_free (a);
  return g_string_free (out, FALSE);
}

static gboolean
contains (const char *raw, gsize size, const char *needle)
{
  return memmem (raw, size, needle, strlen (needle)) != NULL;
}

static GBytes *
read_back (Fixture *fx)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (fx->path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

typedef struct
{
  guint calls;
  guint64 last_done;
  guint64 last_total;
} Seen;

static void
on_progress (guint64 done, guint64 total, gpointer user_data)
{
  Seen *seen = user_data;

  g_assert_cmpuint (done, >, seen->last_done);
  seen->calls++;
  seen->last_done = done;
  seen->last_total = total;
}

static void
test_round_trip (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdTarWriter) tar = NULL;
  g_autoptr (CtrdArchiveEntry) dir = archive_entry_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *sha256 = NULL;
  g_autofree char *expected_sha256 = NULL;
  guint64 written = 0;
  Seen seen = { 0 };

  tar = ctrd_tar_writer_new (fx->fd, CTRD_TAR_FLAGS_SHA256, NULL, &error);
  g_assert_no_error (error);
  ctrd_tar_writer_set_progress (tar, on_progress, &seen, 12345);
  archive_entry_set_pathname (dir, "d/");
  archive_entry_set_filetype (dir, AE_IFDIR);
  archive_entry_set_perm (dir, 0755);
  g_assert_true (ctrd_tar_writer_write_header (tar, dir, NULL, &error));
  g_assert_true (write_file_member (tar, "d/a", "alpha", &error));
  g_assert_true (write_file_member (tar, "d/empty", "", &error));
  g_assert_true (ctrd_tar_writer_close (tar, &written, &sha256, &error));
  g_assert_no_error (error);

  bytes = read_back (fx);
  listing = read_members (bytes);
  g_assert_cmpstr (listing, ==, "d/=\nd/a=alpha\nd/empty=\n");
  /* The count and digest are of every byte that reached the fd. */
  g_assert_cmpuint (written, ==, g_bytes_get_size (bytes));
  g_assert_cmpuint (written % 512, ==, 0);
  expected_sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  g_assert_cmpstr (sha256, ==, expected_sha256);
  g_assert_cmpuint (seen.calls, >, 0);
  g_assert_cmpuint (seen.last_done, ==, written);
  g_assert_cmpuint (seen.last_total, ==, 12345);
}

/* A member whose data fell short (a file that shrank while it was read)
 * is padded to its header's size, and the tar stays readable. */
static void
test_short_member_padded (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdTarWriter) tar = NULL;
  g_autoptr (CtrdArchiveEntry) entry = file_entry ("shrank", 10);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *no_sha256 = NULL;

  tar = ctrd_tar_writer_new (fx->fd, CTRD_TAR_FLAGS_NONE, NULL, &error);
  g_assert_true (ctrd_tar_writer_write_header (tar, entry, NULL, &error));
  g_assert_true (ctrd_tar_writer_write_data (tar, "abc", 3, "shrank", &error));
  g_assert_true (ctrd_tar_writer_finish_entry (tar, "shrank", &error));
  g_assert_true (write_file_member (tar, "next", "n", &error));
  g_assert_true (ctrd_tar_writer_close (tar, NULL, &no_sha256, &error));
  g_assert_no_error (error);
  g_assert_null (no_sha256); /* not asked for */

  bytes = read_back (fx);
  listing = read_members (bytes);
  g_assert_cmpmem (listing, 10, "shrank=abc", 10);
  g_assert_nonnull (strstr (listing, "\nnext=n\n"));
}

static void
test_xattr_headers (Fixture *fx, gconstpointer data)
{
  for (guint schily_only = 0; schily_only < 2; schily_only++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdTarWriter) tar = NULL;
      g_autoptr (CtrdArchiveEntry) entry = file_entry ("x", 0);
      g_autoptr (GBytes) bytes = NULL;
      g_autofree char *listing = NULL;
      gsize size;
      const char *raw;

      g_assert_no_errno (ftruncate (fx->fd, 0));
      g_assert_no_errno (lseek (fx->fd, 0, SEEK_SET));
      archive_entry_xattr_add_entry (entry, "user.note", "hi", 2);
      tar = ctrd_tar_writer_new (
          fx->fd, schily_only ? CTRD_TAR_FLAGS_SCHILY_XATTRS_ONLY : CTRD_TAR_FLAGS_NONE, NULL,
          &error);
      g_assert_true (ctrd_tar_writer_write_header (tar, entry, NULL, &error));
      g_assert_true (ctrd_tar_writer_close (tar, NULL, NULL, &error));
      g_assert_no_error (error);

      bytes = read_back (fx);
      raw = g_bytes_get_data (bytes, &size);
      listing = read_members (bytes);
      /* Both headers read back as two copies: why export asks for one. */
      g_assert_cmpstr (listing, ==,
                       schily_only ? "x=\n  user.note=hi\n"
                                   : "x=\n  user.note=hi\n  user.note=hi\n");
      g_assert_true (contains (raw, size, "SCHILY.xattr.user.note"));
      if (schily_only)
        g_assert_false (contains (raw, size, "LIBARCHIVE.xattr"));
      else
        g_assert_true (contains (raw, size, "LIBARCHIVE.xattr"));
    }
}

/* A tar that is given up (freed without close) has no end-of-archive
 * blocks: it cannot pass for a whole one. */
static void
test_no_end_blocks_unless_closed (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CtrdTarWriter *tar = ctrd_tar_writer_new (fx->fd, CTRD_TAR_FLAGS_NONE, NULL, &error);
  g_autoptr (CtrdArchiveEntry) entry = file_entry ("big", 64 * 1024);
  g_autofree char *big = g_malloc0 (64 * 1024);
  g_autoptr (GBytes) bytes = NULL;
  struct archive *a;
  gsize size;
  const void *raw;
  int r;

  /* More than one output block, so some of the member reached the fd. */
  g_assert_true (ctrd_tar_writer_write_header (tar, entry, NULL, &error));
  g_assert_true (ctrd_tar_writer_write_data (tar, big, 64 * 1024, "big", &error));
  ctrd_tar_writer_free (tar);

  bytes = read_back (fx);
  raw = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (size, >, 0);
  g_assert_cmpuint (size, <, 64 * 1024 + 2 * 512);
  a = archive_read_new ();
  archive_read_support_format_tar (a);
  g_assert_cmpint (archive_read_open_memory (a, raw, size), ==, ARCHIVE_OK);
  r = archive_read_next_header (a, &(struct archive_entry *){ NULL });
  g_assert_cmpint (r, ==, ARCHIVE_OK);
  g_assert_cmpint (archive_read_data_skip (a), !=, ARCHIVE_OK);
  archive_read_free (a);
}

static void
test_reader_gone_and_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *big = g_malloc0 (256 * 1024);
  int fds[2];

  /* The output's own error wins, and is kept for every later call. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  close (fds[0]);
  {
    g_autoptr (CtrdTarWriter) tar = ctrd_tar_writer_new (fds[1], CTRD_TAR_FLAGS_NONE, NULL, &error);
    g_autoptr (CtrdArchiveEntry) entry = file_entry ("big", 256 * 1024);
    gboolean ok;

    g_assert_no_error (error);
    ok = ctrd_tar_writer_write_header (tar, entry, NULL, &error) &&
         ctrd_tar_writer_write_data (tar, big, 256 * 1024, "big", &error) &&
         ctrd_tar_writer_close (tar, NULL, NULL, &error);
    g_assert_false (ok);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
    g_clear_error (&error);
    g_assert_false (ctrd_tar_writer_close (tar, NULL, NULL, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
    g_clear_error (&error);
  }
  close (fds[1]);

  /* A reader that never reads, and a cancellation. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  g_cancellable_cancel (cancellable);
  {
    g_autoptr (CtrdTarWriter) tar =
        ctrd_tar_writer_new (fds[1], CTRD_TAR_FLAGS_NONE, cancellable, &error);
    g_autoptr (CtrdArchiveEntry) entry = file_entry ("big", 256 * 1024);
    gboolean ok;

    g_assert_no_error (error);
    ok = ctrd_tar_writer_write_header (tar, entry, NULL, &error) &&
         ctrd_tar_writer_write_data (tar, big, 256 * 1024, "big", &error) &&
         ctrd_tar_writer_close (tar, NULL, NULL, &error);
    g_assert_false (ok);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
  close (fds[0]);
  close (fds[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Like the daemon: a reader that goes away is an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);

#define ADD(path, fn) g_test_add ("/tar/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("round-trip", test_round_trip);
  ADD ("short-member-padded", test_short_member_padded);
  ADD ("xattr-headers", test_xattr_headers);
  ADD ("no-end-blocks-unless-closed", test_no_end_blocks_unless_closed);
  ADD ("reader-gone-and-cancel", test_reader_gone_and_cancel);
#undef ADD
  return g_test_run ();
}
