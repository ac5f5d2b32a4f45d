/* Unit tests for ctrd-copy: tar out of and into a root directory, every
 * path kept inside it. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-copy.h"
#include "ctrd-error.h"
#include "ctrd-test-util.h"

typedef struct
{
  char *tmpdir;
  char *root;    /* the container's root */
  char *outside; /* a host directory beside it that nothing may reach */
  int root_fd;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->tmpdir = ctrd_test_make_tmpdir ("test-copy-XXXXXX");
  f->root = g_build_filename (f->tmpdir, "root", NULL);
  f->outside = g_build_filename (f->tmpdir, "outside", NULL);
  g_assert_no_errno (g_mkdir_with_parents (f->root, 0755));
  g_assert_no_errno (g_mkdir_with_parents (f->outside, 0755));
  ctrd_test_write_file_in (f->root, "dst/old", "old\n", 0644);
  ctrd_test_write_file_in (f->root, "dst/sub/kept", "kept\n", 0600);
  ctrd_test_write_file_in (f->outside, "secret", "host\n", 0600);
  f->root_fd = open (f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (f->root_fd, >=, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  close (f->root_fd);
  ctrd_test_rm_rf (f->tmpdir);
  g_free (f->root);
  g_free (f->outside);
  g_free (f->tmpdir);
}

static gboolean
copy_in_bytes (Fixture *f, const char *path, GBytes *tar, CtrdCopyInFlags flags, GError **error)
{
  GThread *thread = NULL;
  int fd = ctrd_test_pipe_from_bytes (tar, &thread);
  gboolean ok = ctrd_copy_in (f->root_fd, path, fd, flags, NULL, error);

  close (fd);
  g_thread_join (thread);
  return ok;
}

static gboolean
copy_in (Fixture *f, const char *path, const CtrdTestTarMember *members, gsize n,
         CtrdCopyInFlags flags, GError **error)
{
  g_autoptr (GBytes) tar = ctrd_test_build_tar (members, n, FALSE);
  return copy_in_bytes (f, path, tar, flags, error);
}

/* ctrd_copy_out of @path into memory, through a file. */
static GBytes *
copy_out (Fixture *f, const char *path, GError **error)
{
  g_autofree char *out_path = g_build_filename (f->tmpdir, "out.tar", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  int fd = open (out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok;

  g_assert_cmpint (fd, >=, 0);
  ok = ctrd_copy_out (f->root_fd, path, fd, NULL, error);
  close (fd);
  if (!ok)
    return NULL;
  g_assert_true (g_file_get_contents (out_path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

/* "name type mode uid:gid [content|target]" per member, one a line. */
static char *
describe_tar (GBytes *tar)
{
  g_autoptr (GString) out = g_string_new ("");
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  gsize len;
  const void *data = g_bytes_get_data (tar, &len);

  archive_read_support_format_tar (a);
  g_assert_cmpint (archive_read_open_memory (a, data, len), ==, ARCHIVE_OK);
  while (archive_read_next_header (a, &entry) == ARCHIVE_OK)
    {
      mode_t type = archive_entry_filetype (entry);
      g_string_append_printf (out, "%s %c %04o %u:%u", archive_entry_pathname (entry),
                              archive_entry_hardlink (entry) != NULL ? 'h'
                              : type == AE_IFDIR                     ? 'd'
                              : type == AE_IFLNK                     ? 'l'
                                                                     : 'f',
                              (guint) (archive_entry_mode (entry) & 07777),
                              (guint) archive_entry_uid (entry), (guint) archive_entry_gid (entry));
      if (type == AE_IFLNK)
        g_string_append_printf (out, " %s", archive_entry_symlink (entry));
      else if (type == AE_IFREG && archive_entry_size (entry) > 0)
        {
          char buf[256] = { 0 };
          la_ssize_t n = archive_read_data (a, buf, sizeof buf - 1);
          g_assert_cmpint (n, >=, 0);
          g_string_append_printf (out, " %s", g_strchomp (buf));
        }
      g_string_append_c (out, '\n');
    }
  archive_read_free (a);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_mode_owner (const char *dir, const char *relative, guint mode, guint uid, guint gid)
{
  struct stat st;

  ctrd_test_lstat (dir, relative, &st);
  g_assert_cmpuint (st.st_mode & 07777, ==, mode);
  g_assert_cmpuint (st.st_uid, ==, uid);
  g_assert_cmpuint (st.st_gid, ==, gid);
}

/* The container's dst/ and the outside directory look as the fixture made
 * them, and no staging directory is left. */
static void
assert_unchanged (Fixture *f)
{
  g_autofree char *dst = g_build_filename (f->root, "dst", NULL);
  g_autofree char *listing = ctrd_test_dir_listing (dst);
  g_autofree char *outside = ctrd_test_dir_listing (f->outside);
  g_autofree char *root = ctrd_test_dir_listing (f->root);

  g_assert_cmpstr (listing, ==, "old sub");
  g_assert_cmpstr (outside, ==, "secret");
  g_assert_cmpstr (root, ==, "dst");
  ctrd_test_assert_file_contents (f->root, "dst/old", "old\n");
  ctrd_test_assert_file_contents (f->outside, "secret", "host\n");
}

static void
test_copy_in_tree (Fixture *f, gconstpointer data)
{
  const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_DIR, "tree/", NULL, 0750, 1000, 1001 },
    { CTRD_TEST_TAR_FILE, "tree/tool", "run me\n", 04755, 0, 0 },
    { CTRD_TEST_TAR_FILE, "tree/owned", "mine\n", 0640, 1000, 1001 },
    { CTRD_TEST_TAR_SYMLINK, "tree/up", "/", 0777, 1000, 1001 },
    { CTRD_TEST_TAR_HARDLINK, "tree/again", "tree/owned" },
    { CTRD_TEST_TAR_FIFO, "tree/fifo", NULL, 0, 5, 6 },
    { CTRD_TEST_TAR_FILE, "./old", "new\n", 0604, 7, 8 },
    { CTRD_TEST_TAR_FILE, "sub/added", "added\n", 0644, 0, 0 },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *dst = g_build_filename (f->root, "dst", NULL);
  g_autofree char *listing = NULL;
  struct stat a, b;

  g_assert_true (copy_in (f, "/dst", members, G_N_ELEMENTS (members), 0, &error));
  g_assert_no_error (error);

  listing = ctrd_test_dir_listing (dst);
  g_assert_cmpstr (listing, ==, "old sub tree");
  assert_mode_owner (dst, "tree", 0750, 1000, 1001);
  assert_mode_owner (dst, "tree/tool", 04755, 0, 0);
  assert_mode_owner (dst, "tree/owned", 0640, 1000, 1001);
  assert_mode_owner (dst, "tree/fifo", 0644, 5, 6);
  assert_mode_owner (dst, "old", 0604, 7, 8);
  ctrd_test_assert_file_contents (dst, "tree/tool", "run me\n");
  ctrd_test_assert_file_contents (dst, "old", "new\n");
  ctrd_test_assert_file_contents (dst, "sub/kept", "kept\n");
  ctrd_test_assert_file_contents (dst, "sub/added", "added\n");
  ctrd_test_lstat (dst, "tree/up", &a);
  g_assert_true (S_ISLNK (a.st_mode));
  g_assert_cmpuint (a.st_uid, ==, 1000);
  ctrd_test_lstat (dst, "tree/owned", &a);
  ctrd_test_lstat (dst, "tree/again", &b);
  g_assert_cmpuint (a.st_ino, ==, b.st_ino);
}

static void
test_copy_in_path_through_symlink (Fixture *f, gconstpointer data)
{
  const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_FILE, "x", "inside\n" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *link_target = g_build_filename (f->outside, NULL);

  /* /out points at the host directory by its host path: inside the root
   * that path does not exist. /in points at /dst, resolved inside. */
  ctrd_test_make_symlink_in (f->root, "out", link_target);
  ctrd_test_make_symlink_in (f->root, "in", "/dst");
  g_assert_false (copy_in (f, "/out", members, G_N_ELEMENTS (members), 0, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (copy_in (f, "/in", members, G_N_ELEMENTS (members), 0, &error));
  g_assert_no_error (error);
  ctrd_test_assert_file_contents (f->root, "dst/x", "inside\n");
  ctrd_test_assert_missing (f->outside, "x");

  g_assert_false (copy_in (f, "/dst/old", members, G_N_ELEMENTS (members), 0, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

typedef struct
{
  const char *name;
  CtrdTestTarMember members[3];
  gsize n_members;
} BadArchive;

static void
test_copy_in_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *host_secret = g_build_filename (f->outside, "secret", NULL);
  const BadArchive cases[] = {
    { "dot-dot", { { CTRD_TEST_TAR_FILE, "../x", "escape\n" } }, 1 },
    { "deep dot-dot", { { CTRD_TEST_TAR_FILE, "a/../../../outside/x", "escape\n" } }, 1 },
    { "absolute", { { CTRD_TEST_TAR_FILE, "/etc/x", "escape\n" } }, 1 },
    { "through symlink",
      { { CTRD_TEST_TAR_SYMLINK, "up", "/" }, { CTRD_TEST_TAR_FILE, "up/x", "escape\n" } },
      2 },
    { "through relative symlink",
      { { CTRD_TEST_TAR_SYMLINK, "up", "../.." }, { CTRD_TEST_TAR_FILE, "up/outside/x", "e\n" } },
      2 },
    { "hardlink to host", { { CTRD_TEST_TAR_HARDLINK, "h", host_secret } }, 1 },
    { "hardlink up", { { CTRD_TEST_TAR_HARDLINK, "h", "../../outside/secret" } }, 1 },
    { "hardlink to container file", { { CTRD_TEST_TAR_HARDLINK, "h", "old" } }, 1 },
    { "char device", { { CTRD_TEST_TAR_CHARDEV, "null" } }, 1 },
    { "block device", { { CTRD_TEST_TAR_BLOCKDEV, "loop0" } }, 1 },
    { "good then bad",
      { { CTRD_TEST_TAR_FILE, "fine", "fine\n" },
        { CTRD_TEST_TAR_FILE, "old", "changed\n" },
        { CTRD_TEST_TAR_FILE, "../x", "escape\n" } },
      3 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("case %s", cases[i].name);
      g_assert_false (copy_in (f, "/dst", cases[i].members, cases[i].n_members, 0, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "Tar member"));
      assert_unchanged (f);
      ctrd_test_assert_missing (f->tmpdir, "x");
      ctrd_test_assert_missing (f->outside, "x");
    }
}

static void
test_copy_in_bad_archive (Fixture *f, gconstpointer data)
{
  const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_FILE, "a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" },
    { CTRD_TEST_TAR_FILE, "b", "bbbbbbbbbbbbbbbbbbbbbbbbbbbb\n" },
  };
  g_autoptr (GBytes) whole = ctrd_test_build_tar (members, G_N_ELEMENTS (members), FALSE);
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (whole, 0, 512 + 100);
  g_autoptr (GBytes) junk = g_bytes_new_static ("this is not a tar archive at all\n", 33);
  GBytes *inputs[] = { cut, junk };

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (copy_in_bytes (f, "/dst", inputs[i], 0, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      assert_unchanged (f);
    }
}

static void
test_copy_in_no_overwrite_dir_non_dir (Fixture *f, gconstpointer data)
{
  const CtrdTestTarMember file_over_dir[] = {
    { CTRD_TEST_TAR_FILE, "new", "new\n" },
    { CTRD_TEST_TAR_FILE, "sub", "a file\n" },
  };
  const CtrdTestTarMember dir_over_file[] = {
    { CTRD_TEST_TAR_DIR, "old/" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *dst = g_build_filename (f->root, "dst", NULL);

  g_assert_false (copy_in (f, "/dst", file_over_dir, G_N_ELEMENTS (file_over_dir),
                           CTRD_COPY_IN_NO_OVERWRITE_DIR_NON_DIR, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_unchanged (f);
  g_assert_false (copy_in (f, "/dst", dir_over_file, G_N_ELEMENTS (dir_over_file),
                           CTRD_COPY_IN_NO_OVERWRITE_DIR_NON_DIR, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_unchanged (f);

  /* Without the option the file replaces the directory. */
  g_assert_true (copy_in (f, "/dst", file_over_dir, G_N_ELEMENTS (file_over_dir), 0, &error));
  g_assert_no_error (error);
  ctrd_test_assert_file_contents (dst, "sub", "a file\n");
}

static void
test_copy_out (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) file_tar = NULL;
  g_autoptr (GBytes) dir_tar = NULL;
  g_autoptr (GBytes) link_tar = NULL;
  g_autoptr (GBytes) via_tar = NULL;
  g_autofree char *file_desc = NULL;
  g_autofree char *dir_desc = NULL;
  g_autofree char *link_desc = NULL;
  g_autofree char *via_desc = NULL;
  g_autofree char *dst = g_build_filename (f->root, "dst", NULL);

  g_assert_no_errno (chown (dst, 1000, 1001));
  g_assert_no_errno (chmod (dst, 0751));
  ctrd_test_make_symlink_in (f->root, "dst/escape", f->outside);
  ctrd_test_make_symlink_in (f->root, "via", "/dst/sub");

  file_tar = copy_out (f, "/dst/old", &error);
  g_assert_no_error (error);
  file_desc = describe_tar (file_tar);
  g_assert_cmpstr (file_desc, ==, "old f 0644 0:0 old\n");

  dir_tar = copy_out (f, "/dst/", &error);
  g_assert_no_error (error);
  dir_desc = describe_tar (dir_tar);
  g_assert_true (g_str_has_prefix (dir_desc, "dst/ d 0751 1000:1001\n"
                                             "dst/escape l 0777 0:0 /"));
  g_assert_nonnull (strstr (dir_desc, "dst/old f 0644 0:0 old\n"
                                      "dst/sub/ d 0755 0:0\n"
                                      "dst/sub/kept f 0600 0:0 kept\n"));

  /* The last component is a symlink pointing out: the link is copied. */
  link_tar = copy_out (f, "/dst/escape", &error);
  g_assert_no_error (error);
  link_desc = describe_tar (link_tar);
  g_assert_true (g_str_has_prefix (link_desc, "escape l 0777 0:0 /"));
  g_assert_null (strstr (link_desc, "secret"));

  /* Symlinks before the last component resolve inside the root. */
  via_tar = copy_out (f, "/via/kept", &error);
  g_assert_no_error (error);
  via_desc = describe_tar (via_tar);
  g_assert_cmpstr (via_desc, ==, "kept f 0600 0:0 kept\n");

  g_assert_null (copy_out (f, "/dst/escape/secret", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (copy_out (f, "/missing", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
}

/* Out of one directory and into another gives the same files. */
static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  g_assert_no_errno (g_mkdir_with_parents (f->root, 0755));
  ctrd_test_write_file_in (f->root, "copy/.keep", "", 0644);
  tar = copy_out (f, "/dst", &error);
  g_assert_no_error (error);
  g_assert_true (copy_in_bytes (f, "/copy", tar, 0, &error));
  g_assert_no_error (error);
  again = copy_out (f, "/copy/dst", &error);
  g_assert_no_error (error);
  first = describe_tar (tar);
  second = describe_tar (again);
  g_assert_cmpstr (first, ==, second);
}

static void
test_validate_path (void)
{
  const char *bad[] = { "", "relative", "/a/../b", "/..", NULL };

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (ctrd_copy_validate_path (bad[i], &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    }
  g_assert_true (ctrd_copy_validate_path ("/", NULL));
  g_assert_true (ctrd_copy_validate_path ("/etc/x.d/", NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* A refused archive is not read to its end: the feeding thread sees EPIPE. */
  signal (SIGPIPE, SIG_IGN);
  if (getuid () != 0)
    {
      g_test_skip ("needs root to keep owners");
      return g_test_run ();
    }
#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/copy/in/tree", test_copy_in_tree);
  ADD ("/copy/in/path-through-symlink", test_copy_in_path_through_symlink);
  ADD ("/copy/in/refused", test_copy_in_refused);
  ADD ("/copy/in/bad-archive", test_copy_in_bad_archive);
  ADD ("/copy/in/no-overwrite-dir-non-dir", test_copy_in_no_overwrite_dir_non_dir);
  ADD ("/copy/out", test_copy_out);
  ADD ("/copy/round-trip", test_round_trip);
#undef ADD
  g_test_add_func ("/copy/validate-path", test_validate_path);
  return g_test_run ();
}
