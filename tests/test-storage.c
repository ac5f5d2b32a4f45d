/* test-storage.c: unit tests of the OSTree image store (ctrd-storage). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <ostree.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-storage.h"
#include "ctrd-test-util.h"

#define CONTAINER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  char *tmpdir; /* holds storage/, canary/ and the test's input files */
  char *root;
  char *canary; /* outside the storage root: imports must never touch it */
  CtrdStorage *storage;
  char *fds_before; /* every fd the storage opens, it must close */
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *canary_file = NULL;

  fx->fds_before = ctrd_test_dir_listing ("/proc/self/fd");
  fx->tmpdir = ctrd_test_make_tmpdir ("test-storage-XXXXXX");
  fx->root = g_build_filename (fx->tmpdir, "storage", NULL);
  fx->canary = g_build_filename (fx->tmpdir, "canary", NULL);
  g_assert_no_errno (mkdir (fx->canary, 0755));
  canary_file = g_build_filename (fx->canary, "x", NULL);
  g_file_set_contents (canary_file, "canary\n", -1, &error);
  g_assert_no_error (error);

  fx->storage = ctrd_storage_new (fx->root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->storage);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *fds_after = NULL;

  g_clear_pointer (&fx->storage, ctrd_storage_free);
  fds_after = ctrd_test_dir_listing ("/proc/self/fd");
  g_assert_cmpstr (fds_after, ==, fx->fds_before);
  g_free (fx->fds_before);
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->root);
  g_free (fx->canary);
}

/* ---- helpers ---- */

static gboolean
skip_unless_root (void)
{
  if (geteuid () == 0)
    return FALSE;
  g_test_skip ("needs root (mount)");
  return TRUE;
}

static char *
sha256_of_bytes (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

/* Independent of libarchive: what the import should see after decompression. */
static GBytes *
gunzip_bytes (GBytes *gz)
{
  g_autoptr(GZlibDecompressor) decompressor =
      g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) raw = g_memory_input_stream_new_from_bytes (gz);
  g_autoptr(GInputStream) stream = g_converter_input_stream_new (raw, G_CONVERTER (decompressor));
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint8 buf[8192];
  gssize n;

  while ((n = g_input_stream_read (stream, buf, sizeof buf, NULL, &error)) > 0)
    g_byte_array_append (out, buf, n);
  g_assert_no_error (error);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static int
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* All refs as "name=checksum" lines, sorted: equal strings, equal refs. */
static char *
refs_snapshot (Fixture *fx)
{
  g_autoptr (OstreeRepo) repo = ctrd_test_open_repo (fx->root);
  g_autoptr(GHashTable) refs = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  ostree_repo_list_refs (repo, NULL, &refs, NULL, &error);
  g_assert_no_error (error);
  g_hash_table_iter_init (&iter, refs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (lines, g_strdup_printf ("%s=%s", (char *) key, (char *) value));
  g_ptr_array_sort (lines, compare_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

static char *
ref_target (Fixture *fx, const char *image_id)
{
  g_autoptr (OstreeRepo) repo = ctrd_test_open_repo (fx->root);
  g_autofree char *ref = g_strconcat ("images/", image_id, NULL);
  g_autoptr(GError) error = NULL;
  char *checksum = NULL;

  ostree_repo_resolve_rev (repo, ref, TRUE, &checksum, &error);
  g_assert_no_error (error);
  return checksum;
}

static char *
repo_tmp_listing (Fixture *fx)
{
  g_autofree char *path = g_build_filename (fx->root, "repo", "tmp", NULL);
  return ctrd_test_dir_listing (path);
}

/* Everything an import could have touched outside the repo: the storage
 * root's parent, the canary directory and the canary file. */
static char *
outside_snapshot (Fixture *fx)
{
  g_autofree char *parent = ctrd_test_dir_listing (fx->tmpdir);
  g_autofree char *canary = ctrd_test_dir_listing (fx->canary);
  g_autofree char *canary_file = g_build_filename (fx->canary, "x", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (canary_file, &contents, NULL, NULL));
  return g_strdup_printf ("%s|%s|%s", parent, canary, contents);
}

static CtrdImportResult *
import_from_file (Fixture *fx, GBytes *tar, const CtrdImportLimits *limits,
                  GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_build_filename (fx->tmpdir, "input.tar", NULL);
  CtrdImportResult *result;
  int fd;

  ctrd_test_write_bytes (path, tar);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  result = ctrd_storage_import_rootfs_tar (fx->storage, fd, limits, cancellable, error);
  close (fd);
  g_assert_no_errno (unlink (path));
  return result;
}

static CtrdImportResult *
import_from_pipe (Fixture *fx, GBytes *tar, const CtrdImportLimits *limits, GError **error)
{
  GThread *feeder = NULL;
  int fd = ctrd_test_pipe_from_bytes (tar, &feeder);
  CtrdImportResult *result;

  result = ctrd_storage_import_rootfs_tar (fx->storage, fd, limits, NULL, error);
  /* Closing first lets a feeder blocked on a full pipe finish (EPIPE). */
  close (fd);
  g_thread_join (feeder);
  return result;
}

static CtrdImportResult *
import_ok (Fixture *fx, const CtrdTestTarMember *members, gsize n)
{
  g_autoptr(GBytes) tar = ctrd_test_build_tar (members, n, FALSE);
  g_autoptr(GError) error = NULL;
  CtrdImportResult *result = import_from_file (fx, tar, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static char *
checkout_ok (Fixture *fx, const char *commit)
{
  g_autoptr(GError) error = NULL;
  char *path = ctrd_storage_ensure_checkout (fx->storage, commit, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (path);
  return path;
}

static char *
repo_object_path (Fixture *fx, const char *commit, const char *rel)
{
  g_autoptr (OstreeRepo) repo = ctrd_test_open_repo (fx->root);
  g_autoptr(GFile) root = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  const char *checksum;

  ostree_repo_read_commit (repo, commit, &root, NULL, NULL, &error);
  g_assert_no_error (error);
  file = g_file_resolve_relative_path (root, rel);
  ostree_repo_file_ensure_resolved (OSTREE_REPO_FILE (file), &error);
  g_assert_no_error (error);
  checksum = ostree_repo_file_get_checksum (OSTREE_REPO_FILE (file));
  return g_strdup_printf ("%s/repo/objects/%.2s/%s.file", fx->root, checksum, checksum + 2);
}

/* ---- the sample image ---- */

static const CtrdTestTarMember sample_members[] = {
  { CTRD_TEST_TAR_DIR, "./", NULL, 0751 },
  { CTRD_TEST_TAR_DIR, "./etc", NULL, 0755 },
  { CTRD_TEST_TAR_FILE, "./etc/hello", "hello world\n" },
  { CTRD_TEST_TAR_FILE, "./bin/tool", "#!/bin/sh\necho tool\n", 04755 },
  { CTRD_TEST_TAR_SYMLINK, "./bin/sh", "tool" },
  { CTRD_TEST_TAR_HARDLINK, "./bin/tool2", "./bin/tool" },
  { CTRD_TEST_TAR_FILE, "./var/empty" },
  { CTRD_TEST_TAR_FILE, "./home/user/.profile", "x=1\n", 0600, 1000, 1000 },
};
#define SAMPLE_SIZE (sizeof "hello world\n" - 1 + sizeof "#!/bin/sh\necho tool\n" - 1 + 4)

static const char *
expected_architecture (void)
{
  static struct utsname uts;

  g_assert_no_errno (uname (&uts));
  if (strcmp (uts.machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (uts.machine, "aarch64") == 0)
    return "arm64";
  return uts.machine;
}

/* Checks every field of @result against the tar it came from. */
static void
assert_import_result (Fixture *fx, CtrdImportResult *result, GBytes *plain_tar, guint64 before_usec,
                      guint64 expected_size)
{
  g_autofree char *id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, result->config_json, -1);
  g_autofree char *tar_sha = sha256_of_bytes (plain_tar);
  g_autofree char *diff_id = g_strconcat ("sha256:", tar_sha, NULL);
  g_autofree char *target = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OstreeRepo) repo = NULL;
  g_autoptr(GVariant) commit_variant = NULL;
  g_autoptr(GVariant) metadata = NULL;
  const char *stored_config = NULL;
  JsonObject *config, *inner, *rootfs;
  JsonArray *env, *diff_ids;

  g_assert_cmpstr (result->image_id, ==, id);
  g_assert_cmpuint (strlen (result->commit), ==, 64);
  g_assert_cmpuint (result->size, ==, expected_size);
  g_assert_cmpuint (result->created_at, >=, before_usec);
  g_assert_cmpuint (result->created_at, <=, (guint64) g_get_real_time ());

  target = ref_target (fx, result->image_id);
  g_assert_cmpstr (target, ==, result->commit);

  json_parser_load_from_data (parser, result->config_json, -1, &error);
  g_assert_no_error (error);
  config = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (config, "os"), ==, "linux");
  g_assert_cmpstr (json_object_get_string_member (config, "architecture"), ==,
                   expected_architecture ());
  g_assert_true (g_str_has_suffix (json_object_get_string_member (config, "created"), "Z"));
  inner = json_object_get_object_member (config, "config");
  g_assert_false (json_object_has_member (inner, "Cmd"));
  g_assert_false (json_object_has_member (inner, "Entrypoint"));
  env = json_object_get_array_member (inner, "Env");
  g_assert_cmpuint (json_array_get_length (env), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (env, 0), ==,
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  rootfs = json_object_get_object_member (config, "rootfs");
  g_assert_cmpstr (json_object_get_string_member (rootfs, "type"), ==, "layers");
  diff_ids = json_object_get_array_member (rootfs, "diff_ids");
  g_assert_cmpuint (json_array_get_length (diff_ids), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (diff_ids, 0), ==, diff_id);

  repo = ctrd_test_open_repo (fx->root);
  ostree_repo_load_commit (repo, result->commit, &commit_variant, NULL, &error);
  g_assert_no_error (error);
  metadata = g_variant_get_child_value (commit_variant, 0);
  g_assert_true (g_variant_lookup (metadata, "containersd.image-config", "&s", &stored_config));
  g_assert_cmpstr (stored_config, ==, result->config_json);
  g_assert_cmpuint (ostree_commit_get_timestamp (commit_variant), ==,
                    result->created_at / G_USEC_PER_SEC);
}

/* ---- tests ---- */

static void
assert_private_dir (const char *root, const char *rel)
{
  struct stat st;

  ctrd_test_lstat (root, rel, &st);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_cmpint (st.st_uid, ==, geteuid ());
}

static void
test_new_layout (Fixture *fx, gconstpointer data)
{
  g_autofree char *config_path = g_build_filename (fx->root, "repo", "config", NULL);
  g_autofree char *config = NULL;
  g_autofree char *stale = g_build_filename (fx->root, "checkouts", ".tmp-stale1", NULL);
  g_autofree char *stale_sub = g_build_filename (stale, "sub", NULL);
  g_autofree char *busy = g_build_filename (fx->root, "checkouts", ".tmp-busy01", NULL);
  g_autofree char *relative_root = NULL;
  g_autoptr(GError) error = NULL;
  CtrdStorage *again;
  int busy_fd;

  g_assert_cmpstr (ctrd_storage_get_root (fx->storage), ==, fx->root);
  g_assert_true (g_str_has_prefix (ctrd_storage_get_repo_path (fx->storage), fx->root));
  assert_private_dir (fx->root, ".");
  assert_private_dir (fx->root, "repo");
  assert_private_dir (fx->root, "checkouts");
  assert_private_dir (fx->root, "containers");
  g_assert_true (g_file_get_contents (config_path, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "mode=bare\n"));

  /* Reopening tightens modes and removes the unlocked leftovers of a crash. */
  g_clear_pointer (&fx->storage, ctrd_storage_free);
  g_assert_no_errno (chmod (fx->root, 0755));
  {
    g_autofree char *checkouts = g_build_filename (fx->root, "checkouts", NULL);
    g_assert_no_errno (chmod (checkouts, 0755));
  }
  g_assert_no_errno (g_mkdir_with_parents (stale_sub, 0555));
  g_assert_no_errno (mkdir (busy, 0700));
  busy_fd = open (busy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_no_errno (flock (busy_fd, LOCK_EX));

  fx->storage = ctrd_storage_new (fx->root, &error);
  g_assert_no_error (error);
  assert_private_dir (fx->root, ".");
  assert_private_dir (fx->root, "checkouts");
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (busy, G_FILE_TEST_IS_DIR));
  close (busy_fd);

  relative_root = g_strdup ("relative/storage");
  again = ctrd_storage_new (relative_root, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (again);
}

/* Imports the sample image plain and gzip-compressed, from a regular file or
 * through a pipe, and checks both results. */
static void
check_sample_imports (Fixture *fx, gboolean via_pipe)
{
  g_autoptr(GBytes) plain =
      ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), FALSE);
  g_autoptr(GBytes) gz = ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), TRUE);
  /* diff_id is the digest of the uncompressed tar, as OCI defines it. */
  g_autoptr(GBytes) unpacked = gunzip_bytes (gz);
  g_autoptr(CtrdImportResult) from_plain = NULL;
  g_autoptr(CtrdImportResult) from_gz = NULL;
  g_autoptr(GError) error = NULL;
  guint64 before = g_get_real_time ();

  g_assert_false (g_bytes_equal (plain, gz));
  from_plain = via_pipe ? import_from_pipe (fx, plain, NULL, &error)
                        : import_from_file (fx, plain, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_import_result (fx, from_plain, plain, before, SAMPLE_SIZE);

  from_gz = via_pipe ? import_from_pipe (fx, gz, NULL, &error)
                     : import_from_file (fx, gz, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_import_result (fx, from_gz, unpacked, before, SAMPLE_SIZE);
  /* The same files, but each import is an image of its own (created differs). */
  g_assert_cmpstr (from_plain->image_id, !=, from_gz->image_id);
}

static void
test_import_file (Fixture *fx, gconstpointer data)
{
  check_sample_imports (fx, FALSE);
}

static void
test_import_pipe (Fixture *fx, gconstpointer data)
{
  check_sample_imports (fx, TRUE);
}

static void
test_import_large_file_from_pipe (Fixture *fx, gconstpointer data)
{
  /* Bigger than a pipe buffer and than one read chunk, so the reader has to
   * come back for more many times while the writer blocks. */
  gsize len = 3 * 1024 * 1024 + 17;
  g_autofree char *content = g_malloc (len + 1);
  g_autoptr(GBytes) tar = NULL;
  g_autoptr(CtrdImportResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *checkout = NULL;
  g_autofree char *path = NULL;
  g_autofree char *read_back = NULL;
  gsize read_len;

  for (gsize i = 0; i < len; i++)
    content[i] = 'a' + (i * 7 + i / 4096) % 26;
  content[len] = '\0';
  {
    CtrdTestTarMember members[] = { { CTRD_TEST_TAR_FILE, "big", content } };
    tar = ctrd_test_build_tar (members, 1, TRUE);
  }
  result = import_from_pipe (fx, tar, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->size, ==, len);
  checkout = checkout_ok (fx, result->commit);
  path = g_build_filename (checkout, "big", NULL);
  g_assert_true (g_file_get_contents (path, &read_back, &read_len, NULL));
  g_assert_cmpuint (read_len, ==, len);
  g_assert_true (memcmp (read_back, content, len) == 0);
}

static void
test_checkout_hardlinks (Fixture *fx, gconstpointer data)
{
  g_autoptr(CtrdImportResult) result =
      import_ok (fx, sample_members, G_N_ELEMENTS (sample_members));
  g_autofree char *checkout = checkout_ok (fx, result->commit);
  g_autofree char *expected = g_build_filename (fx->root, "checkouts", result->commit, NULL);
  g_autofree char *again = NULL;
  g_autofree char *object = repo_object_path (fx, result->commit, "etc/hello");
  g_autofree char *link_target = NULL;
  g_autofree char *checkouts_dir = g_build_filename (fx->root, "checkouts", NULL);
  g_autofree char *listing = NULL;
  struct stat st, object_st, tool_st, tool2_st;

  g_assert_cmpstr (checkout, ==, expected);
  ctrd_test_assert_file_contents (checkout, "etc/hello", "hello world\n");
  ctrd_test_assert_file_contents (checkout, "bin/tool", "#!/bin/sh\necho tool\n");
  ctrd_test_assert_file_contents (checkout, "var/empty", "");

  /* Hardlinked to the repo object: no copy. */
  ctrd_test_lstat (checkout, "etc/hello", &st);
  g_assert_no_errno (stat (object, &object_st));
  g_assert_cmpuint (st.st_ino, ==, object_st.st_ino);
  g_assert_cmpuint (st.st_dev, ==, object_st.st_dev);
  g_assert_cmpuint (st.st_nlink, >, 1);

  /* Modes and owners as in the tar, setuid included. */
  ctrd_test_lstat (checkout, ".", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0751);
  ctrd_test_lstat (checkout, "bin/tool", &tool_st);
  g_assert_cmpint (tool_st.st_mode & 07777, ==, 04755);
  ctrd_test_lstat (checkout, "home/user/.profile", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (st.st_uid, ==, 1000);
  g_assert_cmpint (st.st_gid, ==, 1000);
  /* Parents the tar did not list are 0755 root. */
  ctrd_test_lstat (checkout, "home", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
  g_assert_cmpint (st.st_uid, ==, 0);

  ctrd_test_lstat (checkout, "bin/tool2", &tool2_st);
  g_assert_cmpuint (tool_st.st_ino, ==, tool2_st.st_ino);
  {
    g_autofree char *sh = g_build_filename (checkout, "bin", "sh", NULL);
    link_target = g_file_read_link (sh, NULL);
  }
  g_assert_cmpstr (link_target, ==, "tool");

  /* Idempotent, and no temporary directory stays behind. */
  again = checkout_ok (fx, result->commit);
  g_assert_cmpstr (again, ==, checkout);
  listing = ctrd_test_dir_listing (checkouts_dir);
  g_assert_cmpstr (listing, ==, result->commit);
}

static void
test_checkout_errors (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *checkouts_dir = g_build_filename (fx->root, "checkouts", NULL);
  g_autofree char *listing = NULL;
  const char *bad[] = { "../../etc",
                        "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef012345678", "abc",
                        "", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg" };
  char *path;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      path = ctrd_storage_ensure_checkout (fx->storage, bad[i], NULL, &error);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (path);
      g_clear_error (&error);
    }
  path = ctrd_storage_ensure_checkout (fx->storage, CONTAINER_ID, NULL, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_assert_null (path);
  listing = ctrd_test_dir_listing (checkouts_dir);
  g_assert_cmpstr (listing, ==, "");
}

typedef struct
{
  const char *name;
  CtrdTestTarMember members[3];
  gsize n_members;
  const char *kept_as; /* NULL: must fail with INVALID_ARGUMENT */
} EvilCase;

static const EvilCase evil_cases[] = {
  { "dotdot", { { CTRD_TEST_TAR_FILE, "../x", "evil" } }, 1, NULL },
  { "dotdot-inside", { { CTRD_TEST_TAR_FILE, "x/../../y", "evil" } }, 1, NULL },
  { "root-dotdot", { { CTRD_TEST_TAR_FILE, "/../up", "evil" } }, 1, NULL },
  { "deep-dotdot",
    { { CTRD_TEST_TAR_FILE, "../../../../../../../../../tmp/evil", "evil" } },
    1,
    NULL },
  { "absolute", { { CTRD_TEST_TAR_FILE, "/abs", "inside" } }, 1, "abs" },
  { "absolute-nested", { { CTRD_TEST_TAR_FILE, "//etc/./passwd", "inside" } }, 1, "etc/passwd" },
  { "symlink-dir-escape",
    { { CTRD_TEST_TAR_SYMLINK, "lib", "/" }, { CTRD_TEST_TAR_FILE, "lib/etc/x", "evil" } },
    2,
    NULL },
  { "symlink-relative-escape",
    { { CTRD_TEST_TAR_SYMLINK, "up", "../../../../canary" },
      { CTRD_TEST_TAR_FILE, "up/x", "evil" } },
    2,
    NULL },
  { "hardlink-dotdot",
    { { CTRD_TEST_TAR_FILE, "a", "a" }, { CTRD_TEST_TAR_HARDLINK, "b", "../a" } },
    2,
    NULL },
  { "hardlink-host-file", { { CTRD_TEST_TAR_HARDLINK, "passwd", "/etc/passwd" } }, 1, NULL },
  { "hardlink-later",
    { { CTRD_TEST_TAR_HARDLINK, "b", "a" }, { CTRD_TEST_TAR_FILE, "a", "a" } },
    2,
    NULL },
  { "hardlink-dir", { { CTRD_TEST_TAR_DIR, "d" }, { CTRD_TEST_TAR_HARDLINK, "l", "d" } }, 2, NULL },
  { "hardlink-through-symlink",
    { { CTRD_TEST_TAR_SYMLINK, "s", "/etc" }, { CTRD_TEST_TAR_HARDLINK, "p", "s/passwd" } },
    2,
    NULL },
  { "dir-over-file", { { CTRD_TEST_TAR_FILE, "x", "f" }, { CTRD_TEST_TAR_DIR, "x" } }, 2, NULL },
  { "file-over-dir", { { CTRD_TEST_TAR_DIR, "x" }, { CTRD_TEST_TAR_FILE, "x", "f" } }, 2, NULL },
  { "root-as-file", { { CTRD_TEST_TAR_FILE, "./", "f" } }, 1, NULL },
};

static void
test_import_evil (Fixture *fx, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (evil_cases); i++)
    {
      const EvilCase *c = &evil_cases[i];
      g_autoptr(GBytes) tar = ctrd_test_build_tar (c->members, c->n_members, FALSE);
      g_autofree char *outside_before = outside_snapshot (fx);
      g_autofree char *refs_before = refs_snapshot (fx);
      g_autofree char *tmp_before = repo_tmp_listing (fx);
      g_autofree char *outside_after = NULL;
      g_autofree char *refs_after = NULL;
      g_autofree char *tmp_after = NULL;
      g_autoptr(CtrdImportResult) result = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("evil tar: %s", c->name);
      result = import_from_file (fx, tar, NULL, NULL, &error);
      outside_after = outside_snapshot (fx);
      refs_after = refs_snapshot (fx);
      tmp_after = repo_tmp_listing (fx);
      g_assert_cmpstr (outside_after, ==, outside_before);
      g_assert_cmpstr (tmp_after, ==, tmp_before);

      if (c->kept_as == NULL)
        {
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          g_assert_null (result);
          g_assert_cmpstr (refs_after, ==, refs_before);
        }
      else
        {
          g_autofree char *checkout = NULL;
          g_autofree char *outside_checkout = NULL;

          g_assert_no_error (error);
          checkout = checkout_ok (fx, result->commit);
          ctrd_test_assert_file_contents (checkout, c->kept_as, "inside");
          outside_checkout = outside_snapshot (fx);
          g_assert_cmpstr (outside_checkout, ==, outside_before);
        }
    }
}

static void
test_import_symlink_kept_as_data (Fixture *fx, gconstpointer data)
{
  /* A symlink pointing out is just data in the image: checked out as a
   * symlink, never followed by import or checkout. */
  static const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_SYMLINK, "escape", "../../../../../canary" },
    { CTRD_TEST_TAR_SYMLINK, "etc", "/etc" },
    { CTRD_TEST_TAR_FILE, "etc2/passwd", "inside" },
  };
  g_autofree char *before = outside_snapshot (fx);
  g_autoptr(CtrdImportResult) result = import_ok (fx, members, G_N_ELEMENTS (members));
  g_autofree char *checkout = checkout_ok (fx, result->commit);
  g_autofree char *escape = g_build_filename (checkout, "escape", NULL);
  g_autofree char *target = g_file_read_link (escape, NULL);
  g_autofree char *after = outside_snapshot (fx);
  struct stat st;

  g_assert_cmpstr (target, ==, "../../../../../canary");
  ctrd_test_lstat (checkout, "etc", &st);
  g_assert_true (S_ISLNK (st.st_mode));
  g_assert_cmpstr (after, ==, before);
}

static void
assert_import_fails (Fixture *fx, GBytes *input, const CtrdImportLimits *limits, int code)
{
  g_autofree char *refs_before = refs_snapshot (fx);
  g_autofree char *tmp_before = repo_tmp_listing (fx);
  g_autofree char *outside_before = outside_snapshot (fx);
  g_autofree char *refs_after = NULL;
  g_autofree char *tmp_after = NULL;
  g_autofree char *outside_after = NULL;
  g_autoptr(CtrdImportResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = import_from_file (fx, input, limits, NULL, &error);
  g_assert_error (error, CTRD_ERROR, code);
  g_assert_null (result);
  g_test_message ("expected failure: %s", error->message);
  g_clear_error (&error);
  refs_after = refs_snapshot (fx);
  tmp_after = repo_tmp_listing (fx);
  outside_after = outside_snapshot (fx);
  g_assert_cmpstr (refs_after, ==, refs_before);
  g_assert_cmpstr (tmp_after, ==, tmp_before);
  g_assert_cmpstr (outside_after, ==, outside_before);

  /* The same through a pipe. */
  result = import_from_pipe (fx, input, limits, &error);
  g_assert_error (error, CTRD_ERROR, code);
  g_assert_null (result);
  g_clear_pointer (&refs_after, g_free);
  g_clear_pointer (&tmp_after, g_free);
  refs_after = refs_snapshot (fx);
  tmp_after = repo_tmp_listing (fx);
  g_assert_cmpstr (refs_after, ==, refs_before);
  g_assert_cmpstr (tmp_after, ==, tmp_before);
}

static void
test_import_invalid_input (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) plain =
      ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), FALSE);
  g_autoptr(GBytes) gz = ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), TRUE);
  g_autoptr(GBytes) empty_tar = ctrd_test_build_tar (NULL, 0, FALSE);
  g_autoptr(GBytes) empty_tar_gz = ctrd_test_build_tar (NULL, 0, TRUE);
  g_autoptr(GBytes) nothing = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) text = g_bytes_new_static ("This is not a tar archive.\n", 27);
  g_autoptr(GBytes) truncated = NULL;
  g_autoptr(GBytes) truncated_gz = NULL;
  g_autoptr(GBytes) random_bytes = NULL;
  g_autoptr(GBytes) gz_header_only = NULL;
  guint8 noise[8192];
  /* Cut inside the data of the first file (after its pax and ustar headers). */
  gsize cut = 1024 + 512 + 6;

  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = g_test_rand_int_range (0, 256);
  /* Not by chance a gzip, xz, zstd or bzip2 magic. */
  noise[0] = 'N';
  random_bytes = g_bytes_new (noise, sizeof noise);
  truncated = g_bytes_new_from_bytes (plain, 0, cut);
  truncated_gz = g_bytes_new_from_bytes (gz, 0, g_bytes_get_size (gz) / 2);
  gz_header_only = g_bytes_new_from_bytes (gz, 0, 10);

  assert_import_fails (fx, random_bytes, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, text, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, truncated, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, truncated_gz, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, gz_header_only, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, empty_tar, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, empty_tar_gz, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  assert_import_fails (fx, nothing, NULL, CTRD_ERROR_INVALID_ARGUMENT);
}

static void
test_import_invalid_fd (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->tmpdir, "wronly", NULL);
  CtrdImportResult *result;
  int fd;

  result = ctrd_storage_import_rootfs_tar (fx->storage, -1, NULL, NULL, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  fd = open (fx->canary, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  result = ctrd_storage_import_rootfs_tar (fx->storage, fd, NULL, NULL, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);
  close (fd);

  fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  result = ctrd_storage_import_rootfs_tar (fx->storage, fd, NULL, NULL, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);
  close (fd);

  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  result = ctrd_storage_import_rootfs_tar (fx->storage, fd, NULL, NULL, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  close (fd);
}

static void
test_import_limits (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) plain =
      ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), FALSE);
  gsize plain_size = g_bytes_get_size (plain);
  g_autofree char *zeros = g_malloc0 (2 * 1024 * 1024 + 1);
  g_autoptr(GBytes) bomb = NULL;
  g_autoptr(GError) error = NULL;
  CtrdImportLimits limits = { 0 };

  memset (zeros, '0', 2 * 1024 * 1024);
  {
    CtrdTestTarMember members[] = { { CTRD_TEST_TAR_FILE, "zeros", zeros } };
    bomb = ctrd_test_build_tar (members, 1, TRUE);
  }
  g_assert_cmpuint (g_bytes_get_size (bomb), <, 64 * 1024);

  limits.max_bytes = plain_size - 1;
  assert_import_fails (fx, plain, &limits, CTRD_ERROR_LIMIT_EXCEEDED);
  /* Small on the wire, big once decompressed. */
  limits.max_bytes = 1024 * 1024;
  assert_import_fails (fx, bomb, &limits, CTRD_ERROR_LIMIT_EXCEEDED);
  limits.max_bytes = 0;
  limits.max_entries = G_N_ELEMENTS (sample_members) - 1;
  assert_import_fails (fx, plain, &limits, CTRD_ERROR_LIMIT_EXCEEDED);

  /* Exactly at the limits is fine. */
  limits.max_bytes = plain_size;
  limits.max_entries = G_N_ELEMENTS (sample_members);
  {
    g_autoptr(CtrdImportResult) result = import_from_file (fx, plain, &limits, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (result);
  }
}

static void
test_import_skips_devices (Fixture *fx, gconstpointer data)
{
  static const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_DIR, "dev" },
    { CTRD_TEST_TAR_CHARDEV, "dev/null" },
    { CTRD_TEST_TAR_BLOCKDEV, "dev/loop0" },
    { CTRD_TEST_TAR_FIFO, "run/fifo" },
    { CTRD_TEST_TAR_FILE, "etc/kept", "kept\n" },
  };
  g_autoptr(CtrdImportResult) result = NULL;
  g_autofree char *checkout = NULL;

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                         "*skipped character device “dev/null”*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped block device “dev/loop0”*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped FIFO “run/fifo”*");
  result = import_ok (fx, members, G_N_ELEMENTS (members));
  g_test_assert_expected_messages ();

  checkout = checkout_ok (fx, result->commit);
  ctrd_test_assert_missing (checkout, "dev/null");
  ctrd_test_assert_missing (checkout, "dev/loop0");
  ctrd_test_assert_missing (checkout, "run/fifo");
  ctrd_test_assert_file_contents (checkout, "etc/kept", "kept\n");
}

static void
test_import_skipped_log_is_capped (Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  CtrdTestTarMember members[26] = { { CTRD_TEST_TAR_FILE, "etc/kept", "kept\n" } };
  g_autoptr(CtrdImportResult) result = NULL;
  g_autofree char *checkout = NULL;

  for (guint i = 1; i < G_N_ELEMENTS (members); i++)
    {
      char *name = g_strdup_printf ("run/fifo%02u", i);
      g_ptr_array_add (names, name);
      members[i] = (CtrdTestTarMember) { CTRD_TEST_TAR_FIFO, name };
    }
  /* One line each for the first 20, then one line with the total. */
  for (guint i = 0; i < 20; i++)
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped FIFO “run/fifo*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                         "*skipped 25 device nodes, FIFOs and sockets*");
  result = import_ok (fx, members, G_N_ELEMENTS (members));
  g_test_assert_expected_messages ();
  checkout = checkout_ok (fx, result->commit);
  ctrd_test_assert_missing (checkout, "run/fifo25");
}

static void
test_import_xattrs (Fixture *fx, gconstpointer data)
{
  static const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_FILE, "user-attr", "u", 0, 0, 0, "user.note", "kept" },
    { CTRD_TEST_TAR_FILE, "overlay-attr", "o", 0, 0, 0, "trusted.overlay.opaque", "y" },
    { CTRD_TEST_TAR_DIR, "opaque-dir", NULL, 0, 0, 0, "trusted.overlay.opaque", "y" },
  };
  g_autoptr(CtrdImportResult) result = import_ok (fx, members, G_N_ELEMENTS (members));
  g_autofree char *checkout = checkout_ok (fx, result->commit);
  g_autofree char *user_path = g_build_filename (checkout, "user-attr", NULL);
  g_autofree char *overlay_path = g_build_filename (checkout, "overlay-attr", NULL);
  g_autofree char *dir_path = g_build_filename (checkout, "opaque-dir", NULL);
  char value[64] = { 0 };

  g_assert_cmpint (lgetxattr (user_path, "user.note", value, sizeof value), ==, 4);
  g_assert_cmpstr (value, ==, "kept");
  g_assert_cmpint (lgetxattr (overlay_path, "trusted.overlay.opaque", value, sizeof value), ==, -1);
  g_assert_cmpint (errno, ==, ENODATA);
  g_assert_cmpint (lgetxattr (dir_path, "trusted.overlay.opaque", value, sizeof value), ==, -1);
  g_assert_cmpint (errno, ==, ENODATA);
}

static void
test_import_names (Fixture *fx, gconstpointer data)
{
  g_autofree char *long_name = g_strnfill (NAME_MAX + 1, 'n');
  g_autoptr(GString) deep = g_string_new (NULL);
  static const CtrdTestTarMember utf8[] = {
    { CTRD_TEST_TAR_FILE, "grüße/straße.txt", "utf8\n" },
  };
  g_autoptr(CtrdImportResult) result = import_ok (fx, utf8, 1);
  g_autofree char *checkout = checkout_ok (fx, result->commit);

  ctrd_test_assert_file_contents (checkout, "grüße/straße.txt", "utf8\n");

  for (guint i = 0; i < 300; i++)
    g_string_append (deep, "d/");
  g_string_append (deep, "f");
  {
    CtrdTestTarMember too_long[] = { { CTRD_TEST_TAR_FILE, long_name, "x" } };
    CtrdTestTarMember too_deep[] = { { CTRD_TEST_TAR_FILE, deep->str, "x" } };
    g_autoptr(GBytes) long_tar = ctrd_test_build_tar (too_long, 1, FALSE);
    g_autoptr(GBytes) deep_tar = ctrd_test_build_tar (too_deep, 1, FALSE);

    assert_import_fails (fx, long_tar, NULL, CTRD_ERROR_INVALID_ARGUMENT);
    assert_import_fails (fx, deep_tar, NULL, CTRD_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_import_replaces_and_links (Fixture *fx, gconstpointer data)
{
  /* Later members win, as when tar extracts; hardlinks share one object. */
  static const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_FILE, "etc/motd", "first\n" },
    { CTRD_TEST_TAR_FILE, "etc/motd", "second\n" },
    { CTRD_TEST_TAR_HARDLINK, "etc/motd.link", "etc/motd" },
    { CTRD_TEST_TAR_DIR, "etc", NULL, 0700 },
  };
  g_autoptr(CtrdImportResult) result = import_ok (fx, members, G_N_ELEMENTS (members));
  g_autofree char *checkout = checkout_ok (fx, result->commit);
  struct stat a, b, dir;

  ctrd_test_assert_file_contents (checkout, "etc/motd", "second\n");
  ctrd_test_assert_file_contents (checkout, "etc/motd.link", "second\n");
  ctrd_test_lstat (checkout, "etc/motd", &a);
  ctrd_test_lstat (checkout, "etc/motd.link", &b);
  g_assert_cmpuint (a.st_ino, ==, b.st_ino);
  ctrd_test_lstat (checkout, "etc", &dir);
  g_assert_cmpint (dir.st_mode & 07777, ==, 0700);
}

static gpointer
cancel_later_thread (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_import_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) plain =
      ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), FALSE);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GCancellable) later = g_cancellable_new ();
  g_autofree char *refs_before = refs_snapshot (fx);
  g_autofree char *tmp_before = repo_tmp_listing (fx);
  g_autofree char *refs_after = NULL;
  g_autofree char *tmp_after = NULL;
  g_autoptr(GError) error = NULL;
  CtrdImportResult *result;
  GThread *canceller;
  int fds[2];
  gint64 start;

  g_cancellable_cancel (cancelled);
  result = import_from_file (fx, plain, NULL, cancelled, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  g_assert_null (result);
  g_clear_error (&error);

  /* A writer that stalls half way: cancellation must still get through. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  g_assert_cmpint (write (fds[1], g_bytes_get_data (plain, NULL), 1536), ==, 1536);
  canceller = g_thread_new ("cancel", cancel_later_thread, later);
  start = g_get_monotonic_time ();
  result = ctrd_storage_import_rootfs_tar (fx->storage, fds[0], NULL, later, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  g_assert_null (result);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_thread_join (canceller);
  close (fds[0]);
  close (fds[1]);

  refs_after = refs_snapshot (fx);
  tmp_after = repo_tmp_listing (fx);
  g_assert_cmpstr (refs_after, ==, refs_before);
  g_assert_cmpstr (tmp_after, ==, tmp_before);
}

typedef struct
{
  Fixture *fx;
  GBytes *tar;
  CtrdImportResult *result;
} ConcurrentImport;

static gpointer
concurrent_import_thread (gpointer data)
{
  ConcurrentImport *job = data;
  g_autoptr(GError) error = NULL;

  job->result = import_from_pipe (job->fx, job->tar, NULL, &error);
  g_assert_no_error (error);
  return NULL;
}

static void
test_import_concurrent (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) tar =
      ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), TRUE);
  ConcurrentImport jobs[3];
  GThread *threads[G_N_ELEMENTS (jobs)];

  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i] = (ConcurrentImport){ fx, tar, NULL };
      threads[i] = g_thread_new ("import", concurrent_import_thread, &jobs[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    g_thread_join (threads[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_autofree char *target = ref_target (fx, jobs[i].result->image_id);
      g_assert_cmpstr (target, ==, jobs[i].result->commit);
      /* Each import is its own image (created differs), none lost. */
      for (gsize j = 0; j < i; j++)
        g_assert_cmpstr (jobs[i].result->image_id, !=, jobs[j].result->image_id);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    ctrd_import_result_free (jobs[i].result);
}

static void
test_import_busybox (Fixture *fx, gconstpointer data)
{
  g_autofree char *tar_path = g_build_filename (fx->tmpdir, "busybox.tar.gz", NULL);
  g_autoptr(CtrdImportResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *checkout = NULL;
  g_autofree char *sh = NULL;
  g_autofree char *target = NULL;
  struct stat st, host_st;
  int fd;

  if (!ctrd_test_make_busybox_tar (tar_path))
    return;
  fd = open (tar_path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  result = ctrd_storage_import_rootfs_tar (fx->storage, fd, NULL, NULL, &error);
  close (fd);
  g_assert_no_error (error);

  checkout = checkout_ok (fx, result->commit);
  ctrd_test_lstat (checkout, "bin/busybox", &st);
  g_assert_no_errno (stat ("/bin/busybox", &host_st));
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_size, ==, host_st.st_size);
  g_assert_true ((st.st_mode & 0111) != 0);
  g_assert_cmpuint (result->size, >=, (guint64) host_st.st_size);
  sh = g_build_filename (checkout, "bin", "sh", NULL);
  target = g_file_read_link (sh, NULL);
  g_assert_cmpstr (target, ==, "busybox");
  ctrd_test_lstat (checkout, "tmp", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 01777);
  {
    g_autofree char *passwd = g_build_filename (checkout, "etc", "passwd", NULL);
    g_autofree char *contents = NULL;
    g_assert_true (g_file_get_contents (passwd, &contents, NULL, NULL));
    g_assert_true (g_str_has_prefix (contents, "root:x:0:0:"));
  }
}

static void
test_delete_ref_and_prune (Fixture *fx, gconstpointer data)
{
  static const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_FILE, "unique-to-this-test", "a file only this image has\n" },
  };
  g_autoptr(CtrdImportResult) result = import_ok (fx, members, G_N_ELEMENTS (members));
  g_autofree char *checkout = checkout_ok (fx, result->commit);
  g_autofree char *object = repo_object_path (fx, result->commit, "unique-to-this-test");
  g_autofree char *refs = NULL;
  g_autoptr(GError) error = NULL;
  guint64 freed = 0;

  g_assert_true (g_file_test (object, G_FILE_TEST_EXISTS));
  g_assert_true (ctrd_storage_delete_image_ref (fx->storage, result->image_id, &error));
  g_assert_no_error (error);
  refs = refs_snapshot (fx);
  g_assert_cmpstr (refs, ==, "");
  /* Deleting again is fine. */
  g_assert_true (ctrd_storage_delete_image_ref (fx->storage, result->image_id, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_storage_delete_image_ref (fx->storage, "../../config", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (ctrd_storage_remove_checkout (fx->storage, result->commit, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (checkout, G_FILE_TEST_EXISTS));
  g_assert_true (ctrd_storage_remove_checkout (fx->storage, result->commit, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (ctrd_storage_prune (fx->storage, &freed, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (freed, >, 0);
  g_assert_false (g_file_test (object, G_FILE_TEST_EXISTS));
}

static void
test_container_dirs (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = ctrd_storage_container_dir (fx->storage, CONTAINER_ID);
  g_autofree char *expected = g_build_filename (fx->root, "containers", CONTAINER_ID, NULL);
  g_autofree char *outside_before = outside_snapshot (fx);
  g_autofree char *outside_after = NULL;
  g_autofree char *deep = NULL;
  g_autoptr(GString) deep_path = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  g_assert_cmpstr (dir, ==, expected);
  g_assert_true (ctrd_storage_create_container_dirs (fx->storage, CONTAINER_ID, &error));
  g_assert_no_error (error);
  ctrd_test_lstat (dir, ".", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  ctrd_test_lstat (dir, "upper", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
  ctrd_test_lstat (dir, "work", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);

  g_assert_false (ctrd_storage_create_container_dirs (fx->storage, CONTAINER_ID, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_clear_error (&error);
  g_assert_false (ctrd_storage_create_container_dirs (fx->storage, "../escape", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* What a container leaves: deep trees, links out, unreadable dirs. */
  deep_path = g_string_new (dir);
  g_string_append (deep_path, "/upper");
  for (guint i = 0; i < 400; i++)
    g_string_append (deep_path, "/deep");
  g_assert_no_errno (g_mkdir_with_parents (deep_path->str, 0755));
  deep = g_build_filename (deep_path->str, "file", NULL);
  g_assert_true (g_file_set_contents (deep, "x", -1, NULL));
  {
    g_autofree char *link = g_build_filename (dir, "upper", "to-canary", NULL);
    g_autofree char *link_file = g_build_filename (dir, "upper", "canary-file", NULL);
    g_autofree char *canary_file = g_build_filename (fx->canary, "x", NULL);
    g_autofree char *locked = g_build_filename (dir, "upper", "locked", NULL);
    g_autofree char *locked_file = g_build_filename (locked, "f", NULL);

    g_assert_no_errno (symlink (fx->canary, link));
    g_assert_no_errno (symlink (canary_file, link_file));
    g_assert_no_errno (mkdir (locked, 0700));
    g_assert_true (g_file_set_contents (locked_file, "x", -1, NULL));
    g_assert_no_errno (chmod (locked, 0));
  }

  g_assert_true (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  outside_after = outside_snapshot (fx);
  g_assert_cmpstr (outside_after, ==, outside_before);

  g_assert_true (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_storage_remove_container_dirs (fx->storage, "..", NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

static void
test_remove_refuses_mount_inside (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = ctrd_storage_container_dir (fx->storage, CONTAINER_ID);
  g_autofree char *mnt = g_build_filename (dir, "upper", "mnt", NULL);
  g_autofree char *inside = g_build_filename (mnt, "precious", NULL);
  g_autoptr(GError) error = NULL;

  if (skip_unless_root ())
    return;
  g_assert_true (ctrd_storage_create_container_dirs (fx->storage, CONTAINER_ID, &error));
  g_assert_no_errno (mkdir (mnt, 0755));
  g_assert_no_errno (mount ("tmpfs", mnt, "tmpfs", 0, "size=1m"));
  g_assert_true (g_file_set_contents (inside, "keep me", -1, NULL));

  g_assert_false (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_assert_true (g_file_test (inside, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_assert_true (ctrd_storage_unmount_rootfs (mnt, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static void
test_overlay (Fixture *fx, gconstpointer data)
{
  g_autoptr(CtrdImportResult) result = NULL;
  g_autofree char *checkout = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *mountpoint = NULL;
  g_autofree char *object = NULL;
  g_autofree char *new_file = NULL;
  g_autofree char *hello = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st, object_before, object_after;

  if (skip_unless_root ())
    return;
  result = import_ok (fx, sample_members, G_N_ELEMENTS (sample_members));
  checkout = checkout_ok (fx, result->commit);
  object = repo_object_path (fx, result->commit, "etc/hello");
  g_assert_no_errno (stat (object, &object_before));
  dir = ctrd_storage_container_dir (fx->storage, CONTAINER_ID);
  upper = g_build_filename (dir, "upper", NULL);
  mountpoint = g_build_filename (fx->tmpdir, "run", CONTAINER_ID, "rootfs", NULL);

  g_assert_true (ctrd_storage_create_container_dirs (fx->storage, CONTAINER_ID, &error));
  g_assert_false (ctrd_storage_is_mounted (mountpoint));
  g_assert_true (
      ctrd_storage_mount_rootfs (fx->storage, CONTAINER_ID, checkout, mountpoint, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_storage_is_mounted (mountpoint));
  /* Mounted already: success, and still one mount. */
  g_assert_true (
      ctrd_storage_mount_rootfs (fx->storage, CONTAINER_ID, checkout, mountpoint, &error));
  g_assert_no_error (error);

  /* "/" looks like the image's root. */
  ctrd_test_lstat (mountpoint, ".", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0751);
  ctrd_test_assert_file_contents (mountpoint, "etc/hello", "hello world\n");

  /* Writes land in upper/, never in the shared checkout or the repo. */
  new_file = g_build_filename (mountpoint, "etc", "new", NULL);
  g_assert_true (g_file_set_contents (new_file, "new\n", -1, NULL));
  hello = g_build_filename (mountpoint, "etc", "hello", NULL);
  g_assert_true (g_file_set_contents (hello, "changed\n", -1, NULL));
  ctrd_test_assert_file_contents (upper, "etc/new", "new\n");
  ctrd_test_assert_file_contents (upper, "etc/hello", "changed\n");
  ctrd_test_assert_missing (checkout, "etc/new");
  ctrd_test_assert_file_contents (checkout, "etc/hello", "hello world\n");
  g_assert_no_errno (stat (object, &object_after));
  g_assert_cmpint (object_after.st_size, ==, object_before.st_size);
  g_assert_cmpint (object_after.st_mtime, ==, object_before.st_mtime);

  g_assert_false (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_clear_error (&error);
  ctrd_test_assert_file_contents (upper, "etc/new", "new\n");

  g_assert_true (ctrd_storage_unmount_rootfs (mountpoint, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_storage_is_mounted (mountpoint));
  g_assert_true (ctrd_storage_unmount_rootfs (mountpoint, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static void
test_mount_bad_paths (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *mountpoint = g_build_filename (fx->tmpdir, "mnt", NULL);
  const char *bad_lower[] = { "/tmp/a,upperdir=/etc", "/tmp/a:b", "/tmp/a\\b", "relative" };

  g_assert_true (ctrd_storage_create_container_dirs (fx->storage, CONTAINER_ID, &error));
  for (gsize i = 0; i < G_N_ELEMENTS (bad_lower); i++)
    {
      g_assert_false (
          ctrd_storage_mount_rootfs (fx->storage, CONTAINER_ID, bad_lower[i], mountpoint, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_false (ctrd_storage_mount_rootfs (fx->storage, "nope", "/tmp", mountpoint, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (mountpoint, G_FILE_TEST_EXISTS));
}

static void
test_mountinfo_escapes_and_busy (Fixture *fx, gconstpointer data)
{
  g_autofree char *odd = g_build_filename (fx->tmpdir, "with space\tand\\slash", NULL);
  g_autofree char *odd_with_slash = g_strconcat (odd, "/", NULL);
  g_autofree char *file = g_build_filename (odd, "open", NULL);
  g_autoptr(GError) error = NULL;
  int fd;

  g_assert_true (ctrd_storage_is_mounted ("/"));
  g_assert_false (ctrd_storage_is_mounted (fx->tmpdir));
  g_assert_false (ctrd_storage_is_mounted ("/nonexistent/path"));
  if (skip_unless_root ())
    return;

  g_assert_no_errno (mkdir (odd, 0755));
  g_assert_no_errno (mount ("tmpfs", odd, "tmpfs", 0, "size=1m"));
  g_assert_true (ctrd_storage_is_mounted (odd));
  g_assert_true (ctrd_storage_is_mounted (odd_with_slash));

  /* Busy: an open file keeps it; a lazy unmount still takes it away. */
  fd = open (file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_true (ctrd_storage_unmount_rootfs (odd, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_storage_is_mounted (odd));
  close (fd);
}

/* ---- OCI layers, one commit ---- */

static GInputStream *
layer_stream (const CtrdTestTarMember *members, gsize n, gboolean gzip)
{
  g_autoptr(GBytes) tar = ctrd_test_build_tar (members, n, gzip);
  return g_memory_input_stream_new_from_bytes (tar);
}

static gboolean
apply_layer (CtrdLayerImport *import, const CtrdTestTarMember *members, gsize n, GError **error)
{
  g_autoptr(GInputStream) stream = layer_stream (members, n, FALSE);
  return ctrd_layer_import_apply (import, stream, NULL, NULL, error);
}

static void
test_layers_rules (Fixture *fx, gconstpointer data)
{
  static const CtrdTestTarMember lower[] = {
    { CTRD_TEST_TAR_FILE, "a/file", "lower\n" },
    { CTRD_TEST_TAR_FILE, "a/sub/deep", "deep\n" },
    { CTRD_TEST_TAR_FILE, "b/x", "x\n" },
    { CTRD_TEST_TAR_DIR, "c", NULL, 0700 },
    { CTRD_TEST_TAR_FILE, "c/y", "y\n" },
    { CTRD_TEST_TAR_FILE, "d", "d was a file\n" },
  };
  /* The opaque marker after entries of its own layer, a whiteout of a
   * directory this layer also writes, and a file over a directory. */
  static const CtrdTestTarMember upper[] = {
    { CTRD_TEST_TAR_FILE, "a/new", "new\n" },
    { CTRD_TEST_TAR_FILE, "a/.wh..wh..opq" },
    { CTRD_TEST_TAR_FILE, "b/z", "z\n" },
    { CTRD_TEST_TAR_FILE, ".wh.b" },
    { CTRD_TEST_TAR_FILE, "c", "c is a file now\n" },
    { CTRD_TEST_TAR_DIR, "d", NULL, 0711 },
    { CTRD_TEST_TAR_FILE, ".wh.never-existed" },
    { CTRD_TEST_TAR_FILE, "missing-dir/.wh.x" },
  };
  static const CtrdTestTarMember same_layer_conflict[] = {
    { CTRD_TEST_TAR_FILE, "e/f", "f\n" },
    { CTRD_TEST_TAR_FILE, "e", "e over its own directory\n" },
  };
  g_autoptr(CtrdLayerImport) import = NULL;
  g_autoptr(CtrdImportResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *checkout = NULL;
  g_autofree char *diff_id = NULL;
  g_autoptr(GBytes) lower_tar = ctrd_test_build_tar (lower, G_N_ELEMENTS (lower), FALSE);
  g_autofree char *lower_sha = sha256_of_bytes (lower_tar);
  g_autofree char *expected_diff_id = g_strconcat ("sha256:", lower_sha, NULL);
  g_autoptr(GInputStream) lower_stream = g_memory_input_stream_new_from_bytes (lower_tar);
  g_autoptr(GInputStream) empty = layer_stream (NULL, 0, TRUE);
  struct stat st;

  import = ctrd_storage_layer_import_begin (fx->storage, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (
      ctrd_layer_import_apply (import, lower_stream, expected_diff_id, &diff_id, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (diff_id, ==, expected_diff_id);
  g_assert_true (apply_layer (import, upper, G_N_ELEMENTS (upper), &error));
  g_assert_no_error (error);
  /* An empty layer changes nothing and is fine. */
  g_assert_true (ctrd_layer_import_apply (import, empty, NULL, NULL, &error));
  g_assert_no_error (error);
  result = ctrd_layer_import_commit (import, "{\"created\":\"x\"}", 1000000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&import, ctrd_layer_import_free);
  {
    g_autofree char *target = ref_target (fx, result->image_id);
    g_assert_cmpstr (target, ==, result->commit);
  }

  checkout = checkout_ok (fx, result->commit);
  ctrd_test_assert_file_contents (checkout, "a/new", "new\n");
  ctrd_test_assert_missing (checkout, "a/file");
  ctrd_test_assert_missing (checkout, "a/sub");
  ctrd_test_assert_file_contents (checkout, "b/z", "z\n");
  ctrd_test_assert_missing (checkout, "b/x");
  ctrd_test_assert_file_contents (checkout, "c", "c is a file now\n");
  ctrd_test_lstat (checkout, "d", &st);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0711);
  ctrd_test_assert_missing (checkout, "missing-dir");
  ctrd_test_assert_missing (checkout, ".wh.never-existed");

  /* Within one layer a file over a directory is as wrong as in a rootfs
   * tar; the failed import cannot be committed and leaves nothing. */
  {
    g_autofree char *refs_before = refs_snapshot (fx);
    g_autofree char *tmp_before = repo_tmp_listing (fx);
    g_autofree char *refs_after = NULL;
    g_autofree char *tmp_after = NULL;

    import = ctrd_storage_layer_import_begin (fx->storage, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (
        apply_layer (import, same_layer_conflict, G_N_ELEMENTS (same_layer_conflict), &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ctrd_layer_import_commit (import, "{}", 0, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_STATE);
    g_clear_error (&error);
    g_clear_pointer (&import, ctrd_layer_import_free);
    refs_after = refs_snapshot (fx);
    tmp_after = repo_tmp_listing (fx);
    g_assert_cmpstr (refs_after, ==, refs_before);
    g_assert_cmpstr (tmp_after, ==, tmp_before);
  }

  /* A diff_id that does not match. */
  import = ctrd_storage_layer_import_begin (fx->storage, NULL, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GInputStream) again = g_memory_input_stream_new_from_bytes (lower_tar);
    g_assert_false (ctrd_layer_import_apply (
        import, again, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        NULL, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  }
}

/* ---- a container's overlay upper directory ---- */

static const CtrdTestTarMember commit_base_members[] = {
  { CTRD_TEST_TAR_DIR, "./", NULL, 0755 },
  { CTRD_TEST_TAR_FILE, "etc/hello", "hello world\n" },
  { CTRD_TEST_TAR_FILE, "bin/tool", "#!/bin/sh\necho tool\n", 04755 },
  { CTRD_TEST_TAR_SYMLINK, "bin/sh", "tool" },
  { CTRD_TEST_TAR_FILE, "var/empty" },
  { CTRD_TEST_TAR_FILE, "home/user/.profile", "x=1\n", 0600, 1000, 1000 },
  { CTRD_TEST_TAR_FILE, "usr/share/doc/readme", "untouched\n" },
};

typedef struct
{
  CtrdImportResult *base;
  char *checkout;
  char *upper;
  char *mountpoint;
} Container;

static void
write_in (const char *dir, const char *rel, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* A container on the commit base image whose root has been changed through
 * a real overlay mount, then unmounted. */
static void
container_with_changes (Fixture *fx, Container *ctr)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *link_path = NULL;

  ctr->base = import_ok (fx, commit_base_members, G_N_ELEMENTS (commit_base_members));
  ctr->checkout = checkout_ok (fx, ctr->base->commit);
  dir = ctrd_storage_container_dir (fx->storage, CONTAINER_ID);
  ctr->upper = g_build_filename (dir, "upper", NULL);
  ctr->mountpoint = g_build_filename (fx->tmpdir, "run", CONTAINER_ID, "rootfs", NULL);
  g_assert_true (ctrd_storage_create_container_dirs (fx->storage, CONTAINER_ID, &error));
  g_assert_true (ctrd_storage_mount_rootfs (fx->storage, CONTAINER_ID, ctr->checkout,
                                            ctr->mountpoint, &error));
  g_assert_no_error (error);

  write_in (ctr->mountpoint, "etc/new", "new\n");
  write_in (ctr->mountpoint, "etc/hello", "changed\n");
  path = g_build_filename (ctr->mountpoint, "etc", "new", NULL);
  link_path = g_build_filename (ctr->mountpoint, "etc", "new-link", NULL);
  g_assert_no_errno (link (path, link_path));
  g_free (path);
  path = g_build_filename (ctr->mountpoint, "etc", "sl", NULL);
  g_assert_no_errno (symlink ("hello", path));
  g_free (path);
  path = g_build_filename (ctr->mountpoint, "var", "empty", NULL);
  g_assert_no_errno (unlink (path));
  g_free (path);
  path = g_build_filename (ctr->mountpoint, "bin", "tool", NULL);
  g_assert_no_errno (chmod (path, 0700));
  g_free (path);
  /* Removed and made again: overlayfs marks the new directory opaque. */
  path = g_build_filename (ctr->mountpoint, "home", "user", ".profile", NULL);
  g_assert_no_errno (unlink (path));
  g_free (path);
  path = g_build_filename (ctr->mountpoint, "home", "user", NULL);
  g_assert_no_errno (rmdir (path));
  g_assert_no_errno (mkdir (path, 0750));
  write_in (ctr->mountpoint, "home/user/fresh", "fresh\n");
  g_free (path);
  path = g_build_filename (ctr->mountpoint, "run-fifo", NULL);
  g_assert_no_errno (mkfifo (path, 0600));

  g_assert_true (ctrd_storage_unmount_rootfs (ctr->mountpoint, &error));
  g_assert_no_error (error);
}

static void
container_clear (Fixture *fx, Container *ctr)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&ctr->base, ctrd_import_result_free);
  g_free (ctr->checkout);
  g_free (ctr->upper);
  g_free (ctr->mountpoint);
}

static char *
changes_text (GPtrArray *changes)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < changes->len; i++)
    {
      CtrdChange *change = changes->pdata[i];
      g_string_append_printf (text, "%c %s\n", change->kind, change->path);
    }
  return g_string_free (text, FALSE);
}

static void
test_list_changes (Fixture *fx, gconstpointer data)
{
  Container ctr = { 0 };
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) filtered = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *filtered_text = NULL;
  const char *const exclude[] = { "/etc/sl", "/home/", NULL };

  if (skip_unless_root ())
    return;
  container_with_changes (fx, &ctr);

  changes = ctrd_storage_list_changes (fx->storage, ctr.base->commit, ctr.upper, NULL, NULL,
                                       &error);
  g_assert_no_error (error);
  text = changes_text (changes);
  /* Directories that exist in the image and were written into are C, as
   * podman diff shows them; /home/user was made again (opaque): what it had
   * is D, what it has now is A. */
  g_assert_cmpstr (text, ==,
                   "C /bin\n"
                   "C /bin/tool\n"
                   "C /etc\n"
                   "C /etc/hello\n"
                   "A /etc/new\n"
                   "A /etc/new-link\n"
                   "A /etc/sl\n"
                   "C /home\n"
                   "C /home/user\n"
                   "D /home/user/.profile\n"
                   "A /home/user/fresh\n"
                   "A /run-fifo\n"
                   "C /var\n"
                   "D /var/empty\n");

  filtered = ctrd_storage_list_changes (fx->storage, ctr.base->commit, ctr.upper, exclude, NULL,
                                        &error);
  g_assert_no_error (error);
  filtered_text = changes_text (filtered);
  g_assert_null (strstr (filtered_text, "/etc/sl"));
  g_assert_null (strstr (filtered_text, "/home"));
  g_assert_nonnull (strstr (filtered_text, "A /etc/new\n"));

  g_assert_null (ctrd_storage_list_changes (fx->storage, "nothex", ctr.upper, NULL, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ctrd_storage_list_changes (fx->storage, ctr.base->commit, "/nonexistent", NULL,
                                            NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  container_clear (fx, &ctr);
}

static char *
subtree_checksum (Fixture *fx, const char *commit, const char *rel)
{
  g_autoptr (OstreeRepo) repo = ctrd_test_open_repo (fx->root);
  g_autoptr(GFile) root = NULL;
  g_autoptr(GFile) dir = NULL;
  g_autoptr(GError) error = NULL;

  ostree_repo_read_commit (repo, commit, &root, NULL, NULL, &error);
  g_assert_no_error (error);
  dir = g_file_resolve_relative_path (root, rel);
  ostree_repo_file_ensure_resolved (OSTREE_REPO_FILE (dir), &error);
  g_assert_no_error (error);
  return g_strdup (ostree_repo_file_tree_get_contents_checksum (OSTREE_REPO_FILE (dir)));
}

static void
test_commit_container (Fixture *fx, gconstpointer data)
{
  Container ctr = { 0 };
  g_autoptr(CtrdImportResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) labels = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *checkout = NULL;
  g_autofree char *id = NULL;
  g_autofree char *usr_before = NULL;
  g_autofree char *usr_after = NULL;
  g_autofree char *etc_before = NULL;
  g_autofree char *etc_after = NULL;
  const char *const cmd[] = { "/bin/tool", "--serve", NULL };
  const char *const exclude[] = { "/etc/sl", NULL };
  CtrdCommitOptions options = {
    .command = cmd,
    .labels = labels,
    .author = "tester",
    .comment = "from a test",
    .exclude_paths = exclude,
  };
  JsonObject *root, *config;
  JsonArray *diff_ids, *history;
  struct stat st, st2;

  if (skip_unless_root ())
    return;
  container_with_changes (fx, &ctr);
  g_hash_table_insert (labels, "stage", "committed");

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*Commit: skipped /run-fifo*");
  result = ctrd_storage_commit_container (fx->storage, ctr.base->commit, ctr.upper, &options, NULL,
                                          &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, result->config_json, -1);
  g_assert_cmpstr (result->image_id, ==, id);
  {
    g_autofree char *target = ref_target (fx, result->image_id);
    g_autofree char *base_target = ref_target (fx, ctr.base->image_id);
    g_assert_cmpstr (target, ==, result->commit);
    g_assert_cmpstr (base_target, ==, ctr.base->commit);
  }

  checkout = checkout_ok (fx, result->commit);
  ctrd_test_assert_file_contents (checkout, "etc/hello", "changed\n");
  ctrd_test_assert_file_contents (checkout, "etc/new", "new\n");
  ctrd_test_lstat (checkout, "etc/new", &st);
  ctrd_test_lstat (checkout, "etc/new-link", &st2);
  g_assert_cmpuint (st.st_ino, ==, st2.st_ino);
  ctrd_test_assert_missing (checkout, "etc/sl");
  ctrd_test_assert_missing (checkout, "var/empty");
  ctrd_test_lstat (checkout, "var", &st);
  g_assert_true (S_ISDIR (st.st_mode));
  ctrd_test_lstat (checkout, "bin/tool", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  ctrd_test_assert_file_contents (checkout, "bin/tool", "#!/bin/sh\necho tool\n");
  ctrd_test_assert_missing (checkout, "home/user/.profile");
  ctrd_test_assert_file_contents (checkout, "home/user/fresh", "fresh\n");
  ctrd_test_lstat (checkout, "home/user", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0750);
  ctrd_test_assert_missing (checkout, "run-fifo");
  /* The base is untouched. */
  ctrd_test_assert_file_contents (ctr.checkout, "etc/hello", "hello world\n");
  ctrd_test_assert_file_contents (ctr.checkout, "home/user/.profile", "x=1\n");

  /* What the container did not touch is the base's tree, object for object. */
  usr_before = subtree_checksum (fx, ctr.base->commit, "usr");
  usr_after = subtree_checksum (fx, result->commit, "usr");
  g_assert_cmpstr (usr_after, ==, usr_before);
  etc_before = subtree_checksum (fx, ctr.base->commit, "etc");
  etc_after = subtree_checksum (fx, result->commit, "etc");
  g_assert_cmpstr (etc_after, !=, etc_before);
  g_assert_cmpuint (result->size, ==,
                    strlen ("changed\n") + strlen ("new\n") + strlen ("#!/bin/sh\necho tool\n") +
                        strlen ("fresh\n") + strlen ("untouched\n"));

  json_parser_load_from_data (parser, result->config_json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  config = json_object_get_object_member (root, "config");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (config, "Cmd"), 1),
                   ==, "--serve");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (config, "Labels"),
                                                  "stage"),
                   ==, "committed");
  /* Kept from the base: the Env the rootfs import wrote. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (config, "Env")), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (root, "author"), ==, "tester");
  diff_ids = json_object_get_array_member (json_object_get_object_member (root, "rootfs"),
                                           "diff_ids");
  g_assert_cmpuint (json_array_get_length (diff_ids), ==, 2);
  history = json_object_get_array_member (root, "history");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (history, 0),
                                                  "comment"),
                   ==, "from a test");

  g_assert_null (
      ctrd_storage_commit_container (fx->storage, "0000", ctr.upper, NULL, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  container_clear (fx, &ctr);
}

/* The commit cap counts apparent sizes, so a sparse file cannot walk
 * around it; past it nothing is committed. */
static void
test_commit_container_cap (Fixture *fx, gconstpointer data)
{
  Container ctr = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *big = NULL;
  g_autofree char *refs_before = NULL;
  g_autofree char *refs_after = NULL;
  CtrdCommitOptions options = { .max_bytes = 64 * 1024 };
  int fd;

  if (skip_unless_root ())
    return;
  container_with_changes (fx, &ctr);
  big = g_build_filename (ctr.upper, "sparse-big", NULL);
  fd = open (big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_no_errno (ftruncate (fd, 1024 * 1024));
  close (fd);
  refs_before = refs_snapshot (fx);

  g_assert_null (ctrd_storage_commit_container (fx->storage, ctr.base->commit, ctr.upper, &options,
                                                NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "65536"));
  refs_after = refs_snapshot (fx);
  g_assert_cmpstr (refs_after, ==, refs_before);
  container_clear (fx, &ctr);
}

static void
test_verify_checkout (Fixture *fx, gconstpointer data)
{
  g_autoptr(CtrdImportResult) result = NULL;
  g_autoptr(GPtrArray) modified = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *checkout = NULL;
  g_autofree char *path = NULL;
  g_autofree char *joined = NULL;
  FILE *f;

  result = import_ok (fx, commit_base_members, G_N_ELEMENTS (commit_base_members));
  g_assert_null (ctrd_storage_verify_checkout (fx->storage, result->commit, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  checkout = checkout_ok (fx, result->commit);
  modified = ctrd_storage_verify_checkout (fx->storage, result->commit, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (modified->len, ==, 0);
  g_clear_pointer (&modified, g_ptr_array_unref);

  /* In place: the repo object changes with it (same inode), so only hashing
   * the content finds it. */
  path = g_build_filename (checkout, "etc", "hello", NULL);
  f = fopen (path, "a");
  g_assert_nonnull (f);
  fputs ("tampered\n", f);
  fclose (f);
  g_free (path);
  path = g_build_filename (checkout, "bin", "tool", NULL);
  g_assert_no_errno (chmod (path, 0755));
  g_free (path);
  write_in (checkout, "usr/share/doc/added", "added\n");
  path = g_build_filename (checkout, "var", "empty", NULL);
  g_assert_no_errno (unlink (path));
  g_free (path);
  path = g_build_filename (checkout, "bin", "sh", NULL);
  g_assert_no_errno (unlink (path));
  g_assert_no_errno (symlink ("/bin/evil", path));

  modified = ctrd_storage_verify_checkout (fx->storage, result->commit, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (modified, NULL);
  joined = g_strjoinv (" ", (char **) modified->pdata);
  g_assert_cmpstr (joined, ==,
                   "/bin/sh /bin/tool /etc/hello /usr/share/doc/added /var/empty");
}

static void
test_write_rootfs_tar (Fixture *fx, gconstpointer data)
{
  g_autoptr(CtrdImportResult) result =
      import_ok (fx, sample_members, G_N_ELEMENTS (sample_members));
  g_autofree char *path = g_build_filename (fx->tmpdir, "out.tar", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *sha256 = NULL;
  g_autofree char *actual_sha256 = NULL;
  g_autoptr(GError) error = NULL;
  struct archive *reader = archive_read_new ();
  struct archive_entry *entry;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint64 size = 0;
  gsize len;
  int fd;
  gboolean saw_hardlink = FALSE, saw_setuid = FALSE, saw_owner = FALSE, saw_symlink = FALSE;

  fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_true (ctrd_storage_write_rootfs_tar (fx->storage, result->commit, fd, &size, &sha256,
                                                NULL, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (size, ==, len);
  actual_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) contents, len);
  g_assert_cmpstr (sha256, ==, actual_sha256);

  archive_read_support_format_tar (reader);
  g_assert_cmpint (archive_read_open_memory (reader, contents, len), ==, ARCHIVE_OK);
  while (archive_read_next_header (reader, &entry) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (entry);

      g_ptr_array_add (names, g_strdup (name));
      g_assert_cmpint (archive_entry_mtime (entry), ==, result->created_at / G_USEC_PER_SEC);
      if (strcmp (name, "./bin/tool") == 0 || strcmp (name, "./bin/tool2") == 0)
        {
          if (archive_entry_hardlink (entry) != NULL)
            {
              g_assert_cmpstr (archive_entry_hardlink (entry), ==, "./bin/tool");
              saw_hardlink = TRUE;
            }
          else
            saw_setuid = (archive_entry_perm (entry) & 07777) == 04755;
        }
      if (strcmp (name, "./bin/sh") == 0)
        saw_symlink = g_strcmp0 (archive_entry_symlink (entry), "tool") == 0;
      if (strcmp (name, "./home/user/.profile") == 0)
        saw_owner = archive_entry_uid (entry) == 1000 && archive_entry_gid (entry) == 1000 &&
                    (archive_entry_perm (entry) & 07777) == 0600;
      if (strcmp (name, "./") == 0)
        g_assert_cmpint (archive_entry_perm (entry) & 07777, ==, 0751);
    }
  archive_read_free (reader);
  g_assert_true (saw_hardlink && saw_setuid && saw_owner && saw_symlink);
  g_ptr_array_add (names, NULL);
  {
    g_autofree char *joined = g_strjoinv (" ", (char **) names->pdata);
    g_assert_cmpstr (joined, ==,
                     "./ ./bin/ ./bin/sh ./bin/tool ./bin/tool2 ./etc/ ./etc/hello ./home/ "
                     "./home/user/ ./home/user/.profile ./var/ ./var/empty");
  }
}

static void
test_spool_and_write_all (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) gz = ctrd_test_build_tar (sample_members, G_N_ELEMENTS (sample_members), TRUE);
  g_autoptr(GBytes) plain = gunzip_bytes (gz);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *before = ctrd_test_dir_listing (fx->root);
  g_autofree char *during = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) spooled = g_byte_array_new ();
  GThread *feeder = NULL;
  guchar buf[4096];
  gssize n;
  int fds[2];
  int fd, spool;

  fd = ctrd_test_pipe_from_bytes (gz, &feeder);
  spool = ctrd_storage_spool_source (fx->storage, fd, 0, NULL, NULL, NULL, &error);
  close (fd);
  g_thread_join (feeder);
  g_assert_no_error (error);
  /* Unnamed: nothing shows in the storage root, even while it is open. */
  during = ctrd_test_dir_listing (fx->root);
  g_assert_cmpstr (during, ==, before);
  while ((n = read (spool, buf, sizeof buf)) > 0)
    g_byte_array_append (spooled, buf, n);
  close (spool);
  {
    g_autoptr(GBytes) spooled_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&spooled));
    g_assert_true (g_bytes_equal (spooled_bytes, plain));
  }

  fd = ctrd_test_pipe_from_bytes (gz, &feeder);
  g_assert_cmpint (ctrd_storage_spool_source (fx->storage, fd, g_bytes_get_size (plain) - 1, NULL,
                                              NULL, NULL, &error),
                   ==, -1);
  close (fd);
  g_thread_join (feeder);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);

  /* A reader that went away, and one that never reads. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  close (fds[0]);
  /* (ctrd_fd_write_all: storage callers see CTRD_ERROR once normalized) */
  g_assert_false (ctrd_fd_write_all (fds[1], "x", 1, NULL, &error));
  ctrd_error_normalize (&error, CTRD_ERROR_FAILED);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
  g_clear_error (&error);
  close (fds[1]);
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  {
    g_autofree char *big = g_malloc0 (1024 * 1024);
    GThread *canceller = g_thread_new ("cancel", cancel_later_thread, cancellable);

    /* The pipe fills, the write waits, the cancellation ends the wait. */
    g_assert_false (ctrd_fd_write_all (fds[1], big, 1024 * 1024, cancellable, &error));
    ctrd_error_normalize (&error, CTRD_ERROR_FAILED);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
    g_thread_join (canceller);
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

#define ADD(path, fn)                                                                              \
  g_test_add ("/storage/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("new/layout", test_new_layout);
  ADD ("import/file", test_import_file);
  ADD ("import/pipe", test_import_pipe);
  ADD ("import/large-file-from-pipe", test_import_large_file_from_pipe);
  ADD ("import/evil-members", test_import_evil);
  ADD ("import/symlinks-are-data", test_import_symlink_kept_as_data);
  ADD ("import/invalid-input", test_import_invalid_input);
  ADD ("import/invalid-fd", test_import_invalid_fd);
  ADD ("import/limits", test_import_limits);
  ADD ("import/skips-devices", test_import_skips_devices);
  ADD ("import/skipped-log-is-capped", test_import_skipped_log_is_capped);
  ADD ("import/xattrs", test_import_xattrs);
  ADD ("import/names", test_import_names);
  ADD ("import/replace-and-hardlink", test_import_replaces_and_links);
  ADD ("import/cancel", test_import_cancel);
  ADD ("import/concurrent", test_import_concurrent);
  ADD ("import/busybox", test_import_busybox);
  ADD ("checkout/hardlinks", test_checkout_hardlinks);
  ADD ("checkout/errors", test_checkout_errors);
  ADD ("image/delete-ref-and-prune", test_delete_ref_and_prune);
  ADD ("container/dirs", test_container_dirs);
  ADD ("container/remove-refuses-mount", test_remove_refuses_mount_inside);
  ADD ("container/overlay", test_overlay);
  ADD ("container/mount-bad-paths", test_mount_bad_paths);
  ADD ("mount/mountinfo-and-busy", test_mountinfo_escapes_and_busy);
  ADD ("layers/rules", test_layers_rules);
  ADD ("container/list-changes", test_list_changes);
  ADD ("container/commit", test_commit_container);
  ADD ("container/commit-cap", test_commit_container_cap);
  ADD ("checkout/verify", test_verify_checkout);
  ADD ("export/rootfs-tar", test_write_rootfs_tar);
  ADD ("spool-and-write-all", test_spool_and_write_all);
#undef ADD

  return g_test_run ();
}
