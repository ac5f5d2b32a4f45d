/* test-storage.c: unit tests of the OSTree image store (ctrd-storage). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <ostree.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-error.h"
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

static OstreeRepo *
open_repo (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->root, "repo", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  OstreeRepo *repo = ostree_repo_new (file);

  ostree_repo_open (repo, NULL, &error);
  g_assert_no_error (error);
  return repo;
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
  g_autoptr(OstreeRepo) repo = open_repo (fx);
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
  g_autoptr(OstreeRepo) repo = open_repo (fx);
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

static void
assert_file_contents (const char *dir, const char *rel, const char *expected)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, expected);
}

static void
assert_missing (const char *dir, const char *rel)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, -1);
  g_assert_cmpint (errno, ==, ENOENT);
}

static void
stat_ok (const char *dir, const char *rel, struct stat *st)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);

  g_assert_no_errno (lstat (path, st));
}

static char *
repo_object_path (Fixture *fx, const char *commit, const char *rel)
{
  g_autoptr(OstreeRepo) repo = open_repo (fx);
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

  repo = open_repo (fx);
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

  stat_ok (root, rel, &st);
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
  assert_file_contents (checkout, "etc/hello", "hello world\n");
  assert_file_contents (checkout, "bin/tool", "#!/bin/sh\necho tool\n");
  assert_file_contents (checkout, "var/empty", "");

  /* Hardlinked to the repo object: no copy. */
  stat_ok (checkout, "etc/hello", &st);
  g_assert_no_errno (stat (object, &object_st));
  g_assert_cmpuint (st.st_ino, ==, object_st.st_ino);
  g_assert_cmpuint (st.st_dev, ==, object_st.st_dev);
  g_assert_cmpuint (st.st_nlink, >, 1);

  /* Modes and owners as in the tar, setuid included. */
  stat_ok (checkout, ".", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0751);
  stat_ok (checkout, "bin/tool", &tool_st);
  g_assert_cmpint (tool_st.st_mode & 07777, ==, 04755);
  stat_ok (checkout, "home/user/.profile", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (st.st_uid, ==, 1000);
  g_assert_cmpint (st.st_gid, ==, 1000);
  /* Parents the tar did not list are 0755 root. */
  stat_ok (checkout, "home", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
  g_assert_cmpint (st.st_uid, ==, 0);

  stat_ok (checkout, "bin/tool2", &tool2_st);
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
          assert_file_contents (checkout, c->kept_as, "inside");
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
  stat_ok (checkout, "etc", &st);
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
  assert_missing (checkout, "dev/null");
  assert_missing (checkout, "dev/loop0");
  assert_missing (checkout, "run/fifo");
  assert_file_contents (checkout, "etc/kept", "kept\n");
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
  assert_missing (checkout, "run/fifo25");
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

  assert_file_contents (checkout, "grüße/straße.txt", "utf8\n");

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

  assert_file_contents (checkout, "etc/motd", "second\n");
  assert_file_contents (checkout, "etc/motd.link", "second\n");
  stat_ok (checkout, "etc/motd", &a);
  stat_ok (checkout, "etc/motd.link", &b);
  g_assert_cmpuint (a.st_ino, ==, b.st_ino);
  stat_ok (checkout, "etc", &dir);
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
  stat_ok (checkout, "bin/busybox", &st);
  g_assert_no_errno (stat ("/bin/busybox", &host_st));
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_size, ==, host_st.st_size);
  g_assert_true ((st.st_mode & 0111) != 0);
  g_assert_cmpuint (result->size, >=, (guint64) host_st.st_size);
  sh = g_build_filename (checkout, "bin", "sh", NULL);
  target = g_file_read_link (sh, NULL);
  g_assert_cmpstr (target, ==, "busybox");
  stat_ok (checkout, "tmp", &st);
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
  stat_ok (dir, ".", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  stat_ok (dir, "upper", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
  stat_ok (dir, "work", &st);
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
  stat_ok (mountpoint, ".", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0751);
  assert_file_contents (mountpoint, "etc/hello", "hello world\n");

  /* Writes land in upper/, never in the shared checkout or the repo. */
  new_file = g_build_filename (mountpoint, "etc", "new", NULL);
  g_assert_true (g_file_set_contents (new_file, "new\n", -1, NULL));
  hello = g_build_filename (mountpoint, "etc", "hello", NULL);
  g_assert_true (g_file_set_contents (hello, "changed\n", -1, NULL));
  assert_file_contents (upper, "etc/new", "new\n");
  assert_file_contents (upper, "etc/hello", "changed\n");
  assert_missing (checkout, "etc/new");
  assert_file_contents (checkout, "etc/hello", "hello world\n");
  g_assert_no_errno (stat (object, &object_after));
  g_assert_cmpint (object_after.st_size, ==, object_before.st_size);
  g_assert_cmpint (object_after.st_mtime, ==, object_before.st_mtime);

  g_assert_false (ctrd_storage_remove_container_dirs (fx->storage, CONTAINER_ID, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR);
  g_clear_error (&error);
  assert_file_contents (upper, "etc/new", "new\n");

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

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
#undef ADD

  return g_test_run ();
}
