/* test-image-archive.c: unit tests of OCI layouts, oci-archive and
 * docker-archive import and export (ctrd-image-archive). The layouts and
 * archives are built here, byte by byte, so every digest, whiteout and
 * mistake is known. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <ostree.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-image-archive.h"
#include "ctrd-storage.h"
#include "ctrd-test-util.h"

typedef struct
{
  char *tmpdir;
  char *root;
  CtrdStorage *storage;
  char *fds_before;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->fds_before = ctrd_test_dir_listing ("/proc/self/fd");
  fx->tmpdir = ctrd_test_make_tmpdir ("test-image-archive-XXXXXX");
  fx->root = g_build_filename (fx->tmpdir, "storage", NULL);
  fx->storage = ctrd_storage_new (fx->root, &error);
  g_assert_no_error (error);
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
}

/* ---- bytes, digests, archives ---- */

static char *
digest_of (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  return g_strconcat ("sha256:", hex, NULL);
}

static la_ssize_t
append_bytes (struct archive *a, void *user_data, const void *buffer, size_t length)
{
  g_byte_array_append (user_data, buffer, length);
  return length;
}

static GBytes *
zstd_compress (GBytes *plain)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  struct archive *writer = archive_write_new ();
  struct archive_entry *entry = archive_entry_new ();
  gsize len;
  const void *data = g_bytes_get_data (plain, &len);

  g_assert_cmpint (archive_write_set_format_raw (writer), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_add_filter_zstd (writer), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_set_bytes_in_last_block (writer, 1), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open (writer, out, NULL, append_bytes, NULL), ==, ARCHIVE_OK);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_pathname (entry, "data");
  archive_entry_set_size (entry, len);
  g_assert_cmpint (archive_write_header (writer, entry), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_data (writer, data, len), ==, (gssize) len);
  g_assert_cmpint (archive_write_close (writer), ==, ARCHIVE_OK);
  archive_entry_free (entry);
  archive_write_free (writer);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A tar of @files (path -> GBytes; a NULL value is a symlink to the path in
 * @links), in path order, with binary content. */
static GBytes *
pack_tar (GHashTable *files, GHashTable *links, gboolean gzip)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  struct archive *writer = archive_write_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, files);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (paths, key);
  if (links != NULL)
    {
      g_hash_table_iter_init (&iter, links);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (paths, key);
    }
  g_ptr_array_sort (paths, compare_strings);

  g_assert_cmpint (archive_write_set_format_pax_restricted (writer), ==, ARCHIVE_OK);
  if (gzip)
    g_assert_cmpint (archive_write_add_filter_gzip (writer), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open (writer, out, NULL, append_bytes, NULL), ==, ARCHIVE_OK);
  for (guint i = 0; i < paths->len; i++)
    {
      struct archive_entry *entry = archive_entry_new ();
      GBytes *bytes = g_hash_table_lookup (files, paths->pdata[i]);
      gsize len = 0;
      const void *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

      archive_entry_set_pathname (entry, paths->pdata[i]);
      archive_entry_set_mtime (entry, 1700000000, 0);
      if (bytes != NULL)
        {
          archive_entry_set_filetype (entry, AE_IFREG);
          archive_entry_set_perm (entry, 0644);
          archive_entry_set_size (entry, len);
        }
      else
        {
          archive_entry_set_filetype (entry, AE_IFLNK);
          archive_entry_set_perm (entry, 0777);
          archive_entry_set_symlink (entry, g_hash_table_lookup (links, paths->pdata[i]));
        }
      g_assert_cmpint (archive_write_header (writer, entry), ==, ARCHIVE_OK);
      if (len > 0)
        g_assert_cmpint (archive_write_data (writer, data, len), ==, (gssize) len);
      archive_entry_free (entry);
    }
  g_assert_cmpint (archive_write_close (writer), ==, ARCHIVE_OK);
  archive_write_free (writer);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static GHashTable *
files_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
}

static void
files_put_text (GHashTable *files, const char *path, const char *text)
{
  g_hash_table_insert (files, g_strdup (path), g_bytes_new (text, strlen (text)));
}

static void
write_files (GHashTable *files, const char *dir)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, files);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *path = g_build_filename (dir, key, NULL);
      g_autofree char *parent = g_path_get_dirname (path);

      g_assert_no_errno (g_mkdir_with_parents (parent, 0755));
      ctrd_test_write_bytes (path, value);
    }
}

/* ---- OCI layouts ---- */

/* Stores @data as blobs/sha256/<hex> and returns its digest. */
static char *
add_blob (GHashTable *files, GBytes *data)
{
  char *digest = digest_of (data);
  g_autofree char *path = g_strconcat ("blobs/sha256/", digest + strlen ("sha256:"), NULL);

  g_hash_table_insert (files, g_steal_pointer (&path), g_bytes_ref (data));
  return digest;
}

static char *
add_text_blob (GHashTable *files, const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  return add_blob (files, bytes);
}

static char *
descriptor (const char *media_type, const char *digest, gsize size)
{
  return g_strdup_printf ("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%" G_GSIZE_FORMAT "}",
                          media_type, digest, size);
}

static const char *
host_arch (void)
{
  static char *arch;

  if (arch == NULL)
    arch = ctrd_image_config_oci_architecture ();
  return arch;
}

#define RUNTIME_CONFIG                                                                             \
  "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/bin\",\"A=1\"],"    \
  "\"WorkingDir\":\"/etc\",\"User\":\"1000:1000\",\"StopSignal\":\"SIGUSR1\","                     \
  "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}},\"Volumes\":{\"/data\":{}},"                   \
  "\"Labels\":{\"org.example.test\":\"yes\",\"n\":3}}"

/* The config text for layers whose uncompressed tars are @plain. */
static char *
config_for (GBytes *const *plain, guint n, const char *runtime_config)
{
  g_autoptr (GString) diff_ids = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *digest = digest_of (plain[i]);
      g_string_append_printf (diff_ids, "%s\"%s\"", i > 0 ? "," : "", digest);
    }
  return g_strdup_printf ("{\"created\":\"2024-01-02T03:04:05.5Z\",\"architecture\":\"%s\","
                          "\"os\":\"linux\",\"config\":%s,"
                          "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                          host_arch (), runtime_config, diff_ids->str);
}

/* Adds manifest, index.json and oci-layout for @manifest_text. */
static void
finish_layout (GHashTable *files, const char *manifest_text, const char *ref_name)
{
  g_autofree char *manifest_digest = add_text_blob (files, manifest_text);
  g_autofree char *desc = descriptor ("application/vnd.oci.image.manifest.v1+json", manifest_digest,
                                      strlen (manifest_text));
  g_autofree char *index = NULL;

  if (ref_name != NULL)
    {
      desc[strlen (desc) - 1] = '\0';
      index = g_strdup_printf ("{\"schemaVersion\":2,\"manifests\":[%s,\"annotations\":{"
                               "\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                               desc, ref_name);
    }
  else
    index = g_strdup_printf ("{\"schemaVersion\":2,\"manifests\":[%s]}", desc);
  files_put_text (files, "index.json", index);
  files_put_text (files, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
}

/* A layout of @n layers (stored as @stored, uncompressed @plain) whose
 * config lists @n_diff_ids of them. Returns the config digest in
 * @out_config_digest. */
static GHashTable *
make_layout_full (GBytes *const *stored, GBytes *const *plain, guint n, guint n_diff_ids,
                  const char *ref_name, char **out_config_digest)
{
  GHashTable *files = files_new ();
  g_autofree char *config = config_for (plain, n_diff_ids, RUNTIME_CONFIG);
  g_autofree char *config_digest = add_text_blob (files, config);
  g_autofree char *config_desc =
      descriptor ("application/vnd.oci.image.config.v1+json", config_digest, strlen (config));
  g_autoptr (GString) layers = g_string_new (NULL);
  g_autofree char *manifest = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *digest = add_blob (files, stored[i]);
      g_autofree char *desc = descriptor ("application/vnd.oci.image.layer.v1.tar+gzip", digest,
                                          g_bytes_get_size (stored[i]));
      g_string_append_printf (layers, "%s%s", i > 0 ? "," : "", desc);
    }
  manifest = g_strdup_printf ("{\"schemaVersion\":2,\"mediaType\":"
                              "\"application/vnd.oci.image.manifest.v1+json\",\"config\":%s,"
                              "\"layers\":[%s]}",
                              config_desc, layers->str);
  finish_layout (files, manifest, ref_name);
  if (out_config_digest != NULL)
    *out_config_digest = g_steal_pointer (&config_digest);
  return files;
}

static GHashTable *
make_layout (GBytes *const *stored, GBytes *const *plain, guint n, const char *ref_name,
             char **out_config_digest)
{
  return make_layout_full (stored, plain, n, n, ref_name, out_config_digest);
}

/* ---- the three-layer sample ---- */

static const CtrdTestTarMember layer1_members[] = {
  { CTRD_TEST_TAR_DIR, "./", NULL, 0755 },
  { CTRD_TEST_TAR_DIR, "bin", NULL, 0755 },
  { CTRD_TEST_TAR_FILE, "bin/tool", "tool v1\n", 04755 },
  { CTRD_TEST_TAR_SYMLINK, "bin/sh", "tool" },
  { CTRD_TEST_TAR_HARDLINK, "bin/tool-link", "bin/tool" },
  { CTRD_TEST_TAR_DIR, "etc", NULL, 0755 },
  { CTRD_TEST_TAR_FILE, "etc/motd", "motd v1\n" },
  { CTRD_TEST_TAR_FILE, "etc/remove-me", "x\n" },
  { CTRD_TEST_TAR_FILE, "etc/keep", "keep v1\n", 0, 0, 0, "user.test", "v" },
  { CTRD_TEST_TAR_FILE, "opq/old1", "old1\n" },
  { CTRD_TEST_TAR_FILE, "opq/sub/old2", "old2\n" },
  { CTRD_TEST_TAR_DIR, "home/user", NULL, 0700, 1000, 1000 },
  { CTRD_TEST_TAR_FILE, "home/user/file", "u\n", 0600, 1000, 1000 },
  { CTRD_TEST_TAR_FILE, "gone-dir/x", "x\n" },
  { CTRD_TEST_TAR_FILE, "replaced", "a file\n" },
  { CTRD_TEST_TAR_CHARDEV, "dev/null" },
};

static const CtrdTestTarMember layer2_members[] = {
  { CTRD_TEST_TAR_FILE, "etc/.wh.remove-me" },
  { CTRD_TEST_TAR_FILE, "opq/.wh..wh..opq" },
  { CTRD_TEST_TAR_FILE, "opq/new1", "new1\n" },
  { CTRD_TEST_TAR_FILE, "etc/motd", "motd v2\n" },
  { CTRD_TEST_TAR_FILE, ".wh.gone-dir" },
  { CTRD_TEST_TAR_DIR, "replaced", NULL, 0750 },
  { CTRD_TEST_TAR_FILE, "replaced/inner", "inner\n" },
  { CTRD_TEST_TAR_FILE, "etc/.wh..wh.plnk" },
};

/* The new etc/keep comes before its whiteout: the whiteout only hides lower layers. */
static const CtrdTestTarMember layer3_members[] = {
  { CTRD_TEST_TAR_FILE, "etc/keep", "keep v3\n" },
  { CTRD_TEST_TAR_FILE, "etc/.wh.keep" },
  { CTRD_TEST_TAR_FILE, "opq/new3", "n3\n" },
  { CTRD_TEST_TAR_HARDLINK, "bin/tool2", "bin/tool" },
};

typedef struct
{
  GBytes *plain[3];
  GBytes *stored[3]; /* plain, gzip, zstd */
} Sample;

static void
sample_init (Sample *sample)
{
  g_autoptr (GBytes) gz = ctrd_test_build_tar (layer2_members, G_N_ELEMENTS (layer2_members), TRUE);
  g_autoptr (GZlibDecompressor) decompressor =
      g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr (GInputStream) raw = g_memory_input_stream_new_from_bytes (gz);
  g_autoptr (GInputStream) unzip = g_converter_input_stream_new (raw, G_CONVERTER (decompressor));
  g_autoptr (GOutputStream) plain2 = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_output_stream_splice (plain2, unzip, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  sample->plain[0] = ctrd_test_build_tar (layer1_members, G_N_ELEMENTS (layer1_members), FALSE);
  sample->plain[1] = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (plain2));
  sample->plain[2] = ctrd_test_build_tar (layer3_members, G_N_ELEMENTS (layer3_members), FALSE);
  sample->stored[0] = g_bytes_ref (sample->plain[0]);
  sample->stored[1] = g_bytes_ref (gz);
  sample->stored[2] = zstd_compress (sample->plain[2]);
}

static void
sample_clear (Sample *sample)
{
  for (guint i = 0; i < 3; i++)
    {
      g_clear_pointer (&sample->plain[i], g_bytes_unref);
      g_clear_pointer (&sample->stored[i], g_bytes_unref);
    }
}

/* ---- checking results ---- */

static guint
n_refs (Fixture *fx)
{
  g_autoptr (OstreeRepo) repo = ctrd_test_open_repo (fx->root);
  g_autoptr (GHashTable) refs = NULL;
  g_autoptr (GError) error = NULL;

  ostree_repo_list_refs (repo, NULL, &refs, NULL, &error);
  g_assert_no_error (error);
  return g_hash_table_size (refs);
}

/* What an import could leave behind: refs, staging dirs, files in the root. */
static char *
leftovers_snapshot (Fixture *fx)
{
  g_autofree char *tmp = g_build_filename (fx->root, "repo", "tmp", NULL);
  g_autofree char *tmp_listing = ctrd_test_dir_listing (tmp);
  g_autofree char *root_listing = ctrd_test_dir_listing (fx->root);

  return g_strdup_printf ("refs=%u|tmp=%s|root=%s", n_refs (fx), tmp_listing, root_listing);
}

/* The sample's three layers, applied in order. */
static void
assert_sample_tree (Fixture *fx, const char *commit)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *co = ctrd_storage_ensure_checkout (fx->storage, commit, NULL, &error);
  g_autofree char *keep = NULL;
  char target[64];
  struct stat st, st2;
  gssize n;

  g_assert_no_error (error);
  ctrd_test_assert_file_contents (co, "bin/tool", "tool v1\n");
  ctrd_test_lstat (co, "bin/tool", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 04755);
  ctrd_test_lstat (co, "bin/tool-link", &st2);
  g_assert_cmpint (st2.st_ino, ==, st.st_ino);
  ctrd_test_lstat (co, "bin/tool2", &st2);
  g_assert_cmpint (st2.st_ino, ==, st.st_ino);
  keep = g_build_filename (co, "bin/sh", NULL);
  n = readlink (keep, target, sizeof target - 1);
  g_assert_cmpint (n, ==, 4);
  target[n] = '\0';
  g_assert_cmpstr (target, ==, "tool");

  ctrd_test_assert_file_contents (co, "etc/motd", "motd v2\n");
  ctrd_test_assert_missing (co, "etc/remove-me");
  ctrd_test_assert_file_contents (co, "etc/keep", "keep v3\n");
  ctrd_test_assert_missing (co, "etc/.wh.keep");
  ctrd_test_assert_missing (co, "etc/.wh.remove-me");
  ctrd_test_assert_missing (co, "etc/.wh..wh.plnk");

  ctrd_test_assert_file_contents (co, "opq/new1", "new1\n");
  ctrd_test_assert_file_contents (co, "opq/new3", "n3\n");
  ctrd_test_assert_missing (co, "opq/old1");
  ctrd_test_assert_missing (co, "opq/sub");
  ctrd_test_assert_missing (co, "opq/.wh..wh..opq");

  ctrd_test_lstat (co, "home/user/file", &st);
  g_assert_cmpint (st.st_uid, ==, 1000);
  g_assert_cmpint (st.st_gid, ==, 1000);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  ctrd_test_lstat (co, "home/user", &st);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);

  ctrd_test_assert_missing (co, "gone-dir");
  ctrd_test_assert_missing (co, ".wh.gone-dir");
  ctrd_test_lstat (co, "replaced", &st);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0750);
  ctrd_test_assert_file_contents (co, "replaced/inner", "inner\n");
  ctrd_test_assert_missing (co, "dev/null");
}

/* The ID is the digest of the config bytes, which are kept verbatim. */
static void
assert_config_kept (Fixture *fx, CtrdImportResult *result, const char *config_digest)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *stored = ctrd_storage_read_image_config (fx->storage, result->commit, &error);
  g_autofree char *id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, result->config_json, -1);

  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, result->config_json);
  g_assert_cmpstr (id, ==, result->image_id);
  g_assert_cmpstr (config_digest + strlen ("sha256:"), ==, result->image_id);
  /* 2024-01-02T03:04:05.5Z */
  g_assert_cmpuint (result->created_at, ==, G_GUINT64_CONSTANT (1704164645500000));
}

typedef struct
{
  guint calls;
  guint64 last_done;
  guint64 last_total;
  gboolean went_back;
} ProgressLog;

static void
on_progress (guint64 done, guint64 total, gpointer user_data)
{
  ProgressLog *log = user_data;

  if (done < log->last_done && total == log->last_total)
    log->went_back = TRUE;
  log->calls++;
  log->last_done = done;
  log->last_total = total;
}

static CtrdImportResult *
import_fd (Fixture *fx, int fd, CtrdImageFormat format, GError **error)
{
  return ctrd_image_archive_import (fx->storage, fd, format, NULL, NULL, NULL, NULL, error);
}

static CtrdImportResult *
import_dir (Fixture *fx, const char *dir, CtrdImageFormat format, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CtrdImportResult *result;

  g_assert_cmpint (fd, >=, 0);
  result = import_fd (fx, fd, format, error);
  close (fd);
  return result;
}

static CtrdImportResult *
import_bytes_from_file (Fixture *fx, GBytes *bytes, CtrdImageFormat format, GError **error)
{
  g_autofree char *path = g_build_filename (fx->tmpdir, "input", NULL);
  CtrdImportResult *result;
  int fd;

  ctrd_test_write_bytes (path, bytes);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  result = import_fd (fx, fd, format, error);
  close (fd);
  g_assert_no_errno (unlink (path));
  return result;
}

static CtrdImportResult *
import_bytes_from_pipe (Fixture *fx, GBytes *bytes, CtrdImageFormat format, GError **error)
{
  GThread *feeder = NULL;
  int fd = ctrd_test_pipe_from_bytes (bytes, &feeder);
  CtrdImportResult *result = import_fd (fx, fd, format, error);

  close (fd);
  g_thread_join (feeder);
  return result;
}

/* ---- tests ---- */

static void
test_format_names (Fixture *fx, gconstpointer data)
{
  const char *names[] = { "auto", "rootfs-tar", "oci-archive", "docker-archive", "oci-layout" };
  g_autoptr (GError) error = NULL;
  CtrdImageFormat format;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_true (ctrd_image_format_parse (names[i], &format, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (ctrd_image_format_to_string (format), ==, names[i]);
    }
  g_assert_false (ctrd_image_format_parse ("docker", &format, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_image_format_parse (NULL, &format, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

static void
test_oci_layout_dir (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autofree char *config_digest = NULL;
  g_autoptr (GHashTable) files = NULL;
  g_autofree char *dir = g_build_filename (fx->tmpdir, "layout", NULL);
  g_autoptr (CtrdImportResult) result = NULL;
  g_autoptr (CtrdImportResult) again = NULL;
  g_autoptr (GError) error = NULL;
  ProgressLog log = { 0 };
  int fd;

  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, "localhost/sample:1", &config_digest);
  write_files (files, dir);

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                         "*skipped character device “dev/null”*");
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  result = ctrd_image_archive_import (fx->storage, fd, CTRD_IMAGE_FORMAT_AUTO, NULL, on_progress,
                                      &log, NULL, &error);
  close (fd);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  assert_config_kept (fx, result, config_digest);
  assert_sample_tree (fx, result->commit);
  g_assert_cmpstrv (result->names, ((const char *const[]){ "localhost/sample:1", NULL }));
  /* bin/tool (three names, one object) once, and the distinct files once each. */
  g_assert_cmpuint (result->size, ==,
                    strlen ("tool v1\n") + strlen ("motd v2\n") + strlen ("keep v3\n") +
                        strlen ("new1\n") + strlen ("n3\n") + strlen ("u\n") + strlen ("inner\n"));
  g_assert_cmpuint (log.calls, >, 0);
  g_assert_false (log.went_back);
  g_assert_cmpuint (log.last_total, >, 0);
  g_assert_cmpuint (log.last_done, ==, log.last_total);

  /* The same image again: the same ID and commit. */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
  again = import_dir (fx, dir, CTRD_IMAGE_FORMAT_OCI_LAYOUT, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpstr (again->image_id, ==, result->image_id);
  g_assert_cmpstr (again->commit, ==, result->commit);
  sample_clear (&sample);
}

static void
test_oci_archive (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autofree char *config_digest = NULL;
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GBytes) archive = NULL;
  g_autoptr (GBytes) archive_gz = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  struct
  {
    gboolean gzip;
    gboolean pipe;
    CtrdImageFormat format;
  } cases[] = {
    { FALSE, FALSE, CTRD_IMAGE_FORMAT_AUTO },
    { FALSE, TRUE, CTRD_IMAGE_FORMAT_OCI_ARCHIVE },
    { TRUE, FALSE, CTRD_IMAGE_FORMAT_OCI_ARCHIVE },
    { TRUE, TRUE, CTRD_IMAGE_FORMAT_AUTO },
  };

  sample_init (&sample);
  /* skopeo writes a bare tag: it does not name the image. */
  files = make_layout (sample.stored, sample.plain, 3, "latest", &config_digest);
  archive = pack_tar (files, NULL, FALSE);
  archive_gz = pack_tar (files, NULL, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GBytes *input = cases[i].gzip ? archive_gz : archive;
      g_autoptr (CtrdImportResult) result = NULL;

      g_test_message ("case %u: gzip %d pipe %d", i, cases[i].gzip, cases[i].pipe);
      g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
      before = (g_free (before), ctrd_test_dir_listing (fx->root));
      result = cases[i].pipe ? import_bytes_from_pipe (fx, input, cases[i].format, &error)
                             : import_bytes_from_file (fx, input, cases[i].format, &error);
      g_test_assert_expected_messages ();
      g_assert_no_error (error);
      assert_config_kept (fx, result, config_digest);
      assert_sample_tree (fx, result->commit);
      g_assert_cmpuint (g_strv_length (result->names), ==, 0);
      /* Spooled input leaves no file behind. */
      after = (g_free (after), ctrd_test_dir_listing (fx->root));
      g_assert_cmpstr (after, ==, before);
    }

  /* Asked for the other kind of archive. */
  g_assert_null (import_bytes_from_file (fx, archive, CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (import_bytes_from_file (fx, archive, CTRD_IMAGE_FORMAT_OCI_LAYOUT, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  sample_clear (&sample);
}

/* A docker-archive as podman save writes it: <diff_id hex>.tar layers,
 * <config hex>.json, and legacy <id>/layer.tar symlinks. */
static GHashTable *
make_docker_archive (Sample *sample, GHashTable **out_links, char **out_config_digest,
                     const char *const *layer_paths_override)
{
  GHashTable *files = files_new ();
  g_autoptr (GHashTable) links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *config = config_for (sample->plain, 3, RUNTIME_CONFIG);
  g_autoptr (GBytes) config_bytes = g_bytes_new (config, strlen (config));
  g_autofree char *config_digest = digest_of (config_bytes);
  g_autofree char *config_name = g_strconcat (config_digest + strlen ("sha256:"), ".json", NULL);
  g_autoptr (GString) layers = g_string_new (NULL);
  g_autofree char *manifest = NULL;

  g_hash_table_insert (files, g_strdup (config_name), g_bytes_ref (config_bytes));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *digest = digest_of (sample->plain[i]);
      g_autofree char *name = g_strconcat (digest + strlen ("sha256:"), ".tar", NULL);
      g_autofree char *legacy = g_strdup_printf ("legacy%u/layer.tar", i);

      /* Layer 2 is stored gzip-compressed, which docker load accepts too. */
      g_hash_table_insert (files, g_strdup (name),
                           g_bytes_ref (i == 1 ? sample->stored[1] : sample->plain[i]));
      g_hash_table_insert (links, g_strdup (legacy), g_strconcat ("../", name, NULL));
      g_string_append_printf (layers, "%s\"%s\"", i > 0 ? "," : "",
                              layer_paths_override != NULL ? layer_paths_override[i]
                              : i == 0                     ? legacy
                                                           : name);
    }
  manifest = g_strdup_printf ("[{\"Config\":\"%s\",\"RepoTags\":[\"localhost/dock:2\","
                              "\"Not A Name\"],\"Layers\":[%s]}]",
                              config_name, layers->str);
  files_put_text (files, "manifest.json", manifest);
  files_put_text (files, "repositories", "{}");
  *out_links = g_steal_pointer (&links);
  if (out_config_digest != NULL)
    *out_config_digest = g_steal_pointer (&config_digest);
  return files;
}

static void
test_docker_archive (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autofree char *config_digest = NULL;
  g_autoptr (GHashTable) links = NULL;
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GBytes) archive = NULL;
  g_autoptr (CtrdImportResult) result = NULL;
  g_autoptr (CtrdImportResult) from_pipe = NULL;
  g_autoptr (GError) error = NULL;

  sample_init (&sample);
  files = make_docker_archive (&sample, &links, &config_digest, NULL);
  archive = pack_tar (files, links, FALSE);

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*ignored the name*Not A Name*");
  result = import_bytes_from_file (fx, archive, CTRD_IMAGE_FORMAT_AUTO, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  assert_config_kept (fx, result, config_digest);
  assert_sample_tree (fx, result->commit);
  g_assert_cmpstrv (result->names, ((const char *const[]){ "localhost/dock:2", NULL }));

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*ignored the name*");
  from_pipe = import_bytes_from_pipe (fx, archive, CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpstr (from_pipe->commit, ==, result->commit);
  sample_clear (&sample);
}

static void
test_rootfs_auto (Fixture *fx, gconstpointer data)
{
  g_autoptr (GBytes) tar = ctrd_test_build_tar (layer3_members, 3, TRUE);
  g_autoptr (CtrdImportResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *co = NULL;

  /* No index.json, no manifest.json: a root filesystem, whiteouts and all. */
  result = import_bytes_from_pipe (fx, tar, CTRD_IMAGE_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  co = ctrd_storage_ensure_checkout (fx->storage, result->commit, NULL, &error);
  g_assert_no_error (error);
  ctrd_test_assert_file_contents (co, "etc/keep", "keep v3\n");
  ctrd_test_assert_file_contents (co, "etc/.wh.keep", "");
  g_assert_cmpuint (g_strv_length (result->names ?: (char *[]){ NULL }), ==, 0);
}

/* ---- bad input: each is InvalidArgument and leaves nothing ---- */

typedef enum
{
  BAD_MISSING_BLOB,
  BAD_DIGEST_MISMATCH,
  BAD_SIZE_MISMATCH,
  BAD_DIGEST_PATH,
  BAD_BARE_WHITEOUT,
  BAD_DOTDOT_MEMBER,
  BAD_DIFF_ID,
  BAD_DIFF_ID_COUNT,
  BAD_INDEX_LOOP,
  BAD_NO_LAYOUT_FILE,
} BadLayout;

static const char *const bad_layout_names[] = {
  "missing blob",  "digest mismatch",      "size mismatch",    "digest used as a path",
  "bare .wh.",     "layer member with ..", "diff_id mismatch", "diff_id count",
  "index nesting", "no oci-layout",
};

static GHashTable *
make_bad_layout (Sample *sample, BadLayout kind)
{
  g_autoptr (GHashTable) files = NULL;
  GBytes *stored[3] = { sample->stored[0], sample->stored[1], sample->stored[2] };
  GBytes *plain[3] = { sample->plain[0], sample->plain[1], sample->plain[2] };
  g_autoptr (GBytes) evil = NULL;

  switch (kind)
    {
    case BAD_BARE_WHITEOUT:
      {
        const CtrdTestTarMember members[] = { { CTRD_TEST_TAR_FILE, "etc/.wh." } };
        evil = ctrd_test_build_tar (members, 1, FALSE);
        stored[1] = plain[1] = evil;
        break;
      }
    case BAD_DOTDOT_MEMBER:
      {
        const CtrdTestTarMember members[] = { { CTRD_TEST_TAR_FILE, "etc/../../escape", "x" } };
        evil = ctrd_test_build_tar (members, 1, FALSE);
        stored[2] = plain[2] = evil;
        break;
      }
    case BAD_DIFF_ID:
      plain[2] = sample->plain[0];
      break;
    default:
      break;
    }
  files = make_layout_full (stored, plain, kind == BAD_DIFF_ID_COUNT ? 2 : 3, 3, NULL, NULL);

  switch (kind)
    {
    case BAD_MISSING_BLOB:
    case BAD_DIGEST_MISMATCH:
    case BAD_SIZE_MISMATCH:
      {
        g_autofree char *digest = digest_of (sample->stored[2]);
        g_autofree char *path = g_strconcat ("blobs/sha256/", digest + 7, NULL);
        gsize len;
        guchar *copy = g_bytes_unref_to_data (g_bytes_ref (sample->stored[2]), &len);

        if (kind == BAD_MISSING_BLOB)
          {
            g_hash_table_remove (files, path);
            g_free (copy);
            break;
          }
        if (kind == BAD_DIGEST_MISMATCH)
          copy[len / 2] ^= 0x55;
        else
          len--;
        g_hash_table_insert (files, g_steal_pointer (&path), g_bytes_new_take (copy, len));
        break;
      }
    case BAD_DIGEST_PATH:
      {
        const char *manifest = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\","
                               "\"digest\":\"sha256:../../../../etc/passwd\",\"size\":10},"
                               "\"layers\":[]}";
        g_hash_table_remove (files, "index.json");
        finish_layout (files, manifest, NULL);
        break;
      }
    case BAD_INDEX_LOOP:
      {
        /* Each index points at the next; the chain never reaches a manifest. */
        g_autofree char *inner = g_strdup ("{\"schemaVersion\":2,\"manifests\":[]}");
        for (guint i = 0; i < 8; i++)
          {
            g_autofree char *digest = add_text_blob (files, inner);
            g_autofree char *desc =
                descriptor ("application/vnd.oci.image.index.v1+json", digest, strlen (inner));
            g_free (inner);
            inner = g_strdup_printf ("{\"schemaVersion\":2,\"manifests\":[%s]}", desc);
          }
        files_put_text (files, "index.json", inner);
        break;
      }
    case BAD_NO_LAYOUT_FILE:
      g_hash_table_remove (files, "oci-layout");
      break;
    default:
      break;
    }
  return g_steal_pointer (&files);
}

static void
assert_import_leaves_nothing (Fixture *fx, GHashTable *files, GHashTable *links,
                              gboolean as_archive, const char *what)
{
  g_autofree char *dir = g_build_filename (fx->tmpdir, "bad-layout", NULL);
  g_autofree char *before = leftovers_snapshot (fx);
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  CtrdImportResult *result;

  g_test_message ("bad input: %s (%s)", what, as_archive ? "archive" : "directory");
  if (as_archive)
    {
      g_autoptr (GBytes) archive = pack_tar (files, links, FALSE);
      result = import_bytes_from_pipe (fx, archive, CTRD_IMAGE_FORMAT_AUTO, &error);
    }
  else
    {
      write_files (files, dir);
      result = import_dir (fx, dir, CTRD_IMAGE_FORMAT_AUTO, &error);
      ctrd_test_rm_rf (dir);
    }
  g_assert_null (result);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_test_message ("  -> %s", error->message);
  after = leftovers_snapshot (fx);
  g_assert_cmpstr (after, ==, before);
}

static void
test_bad_layouts (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };

  sample_init (&sample);
  for (guint kind = 0; kind < G_N_ELEMENTS (bad_layout_names); kind++)
    for (guint as_archive = 0; as_archive < 2; as_archive++)
      {
        g_autoptr (GHashTable) files = make_bad_layout (&sample, kind);
        /* Device nodes in the good layers are skipped (and logged) before the bad one fails. */
        if (kind == BAD_DOTDOT_MEMBER || kind == BAD_DIFF_ID || kind == BAD_BARE_WHITEOUT)
          g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
        assert_import_leaves_nothing (fx, files, NULL, as_archive, bad_layout_names[kind]);
        g_test_assert_expected_messages ();
      }
  sample_clear (&sample);
}

static void
test_bad_docker_archives (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  const char *const dotdot[] = { "../escape.tar", "b.tar", "c.tar" };
  const char *const absolute[] = { "/etc/passwd", "b.tar", "c.tar" };
  const char *const missing[] = { "nothere.tar", "b.tar", "c.tar" };
  const char *const *const overrides[] = { dotdot, absolute, missing };

  sample_init (&sample);
  for (guint i = 0; i < G_N_ELEMENTS (overrides); i++)
    {
      g_autoptr (GHashTable) links = NULL;
      g_autoptr (GHashTable) files = make_docker_archive (&sample, &links, NULL, overrides[i]);
      assert_import_leaves_nothing (fx, files, links, TRUE, overrides[i][0]);
    }

  /* A config whose content is not the digest its name says. */
  {
    g_autoptr (GHashTable) links = NULL;
    g_autoptr (GHashTable) files = make_docker_archive (&sample, &links, NULL, NULL);
    GHashTableIter iter;
    gpointer key;
    char *config_name = NULL;

    g_hash_table_iter_init (&iter, files);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (g_str_has_suffix (key, ".json") && strcmp (key, "manifest.json") != 0)
        config_name = key;
    g_assert_nonnull (config_name);
    files_put_text (files, config_name, "{\"rootfs\":{\"diff_ids\":[]}}");
    assert_import_leaves_nothing (fx, files, links, TRUE, "config digest");
  }
  /* A layer that is not what the config's diff_id says. */
  {
    g_autoptr (GHashTable) links = NULL;
    g_autoptr (GHashTable) files = make_docker_archive (&sample, &links, NULL, NULL);
    g_autofree char *digest = digest_of (sample.plain[2]);
    g_autofree char *name = g_strconcat (digest + 7, ".tar", NULL);

    g_hash_table_insert (files, g_strdup (name), g_bytes_ref (sample.plain[0]));
    assert_import_leaves_nothing (fx, files, links, TRUE, "layer digest");
  }
  sample_clear (&sample);
}

/* Blob paths are opened component by component without following symlinks:
 * a blob that is a symlink to a host file is refused. */
static void
test_layout_symlink_blob (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autoptr (GHashTable) files = NULL;
  g_autofree char *dir = g_build_filename (fx->tmpdir, "layout", NULL);
  g_autofree char *host_file = g_build_filename (fx->tmpdir, "host-file", NULL);
  g_autofree char *digest = NULL;
  g_autofree char *blob_path = NULL;
  g_autofree char *before = leftovers_snapshot (fx);
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;

  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, NULL, NULL);
  write_files (files, dir);
  /* Same bytes, so only the symlink itself can make it fail. */
  ctrd_test_write_bytes (host_file, sample.stored[0]);
  digest = digest_of (sample.stored[0]);
  blob_path = g_build_filename (dir, "blobs", "sha256", digest + 7, NULL);
  g_assert_no_errno (unlink (blob_path));
  g_assert_no_errno (symlink (host_file, blob_path));

  g_assert_null (import_dir (fx, dir, CTRD_IMAGE_FORMAT_AUTO, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "symlink"));
  after = leftovers_snapshot (fx);
  g_assert_cmpstr (after, ==, before);

  /* A symlinked blobs/ directory, too. */
  g_clear_error (&error);
  {
    g_autofree char *blobs = g_build_filename (dir, "blobs", NULL);
    g_autofree char *moved = g_build_filename (fx->tmpdir, "blobs-elsewhere", NULL);
    g_assert_no_errno (rename (blobs, moved));
    g_assert_no_errno (symlink (moved, blobs));
  }
  g_assert_null (import_dir (fx, dir, CTRD_IMAGE_FORMAT_AUTO, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  sample_clear (&sample);
}

/* With a reader (uid 65534 here), every file of the layout is opened with
 * the reader's rights: a blob only root may read stops the import, with
 * nothing left, and the same layout made readable imports. */
static void
test_layout_reader (Fixture *fx, gconstpointer data)
{
  const guint32 groups[] = { 65534 };
  Sample sample = { 0 };
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (CtrdCaller) reader = NULL;
  g_autoptr (CtrdImportResult) result = NULL;
  g_autofree char *dir = g_build_filename (fx->tmpdir, "layout", NULL);
  g_autofree char *digest = NULL;
  g_autofree char *blob_path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  CtrdImportLimits limits = { 0 };
  int fd;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to open files as another user");
      return;
    }
  reader = ctrd_caller_new (65534, groups, G_N_ELEMENTS (groups), &error);
  g_assert_no_error (error);
  limits.reader = reader;
  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, NULL, NULL);
  write_files (files, dir);
  digest = digest_of (sample.stored[2]);
  blob_path = g_build_filename (dir, "blobs", "sha256", digest + 7, NULL);
  g_assert_no_errno (chmod (blob_path, 0600));
  before = leftovers_snapshot (fx);

  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_null (ctrd_image_archive_import (fx->storage, fd, CTRD_IMAGE_FORMAT_AUTO, &limits, NULL,
                                            NULL, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "permission denied for uid 65534"));
  g_assert_nonnull (strstr (error->message, digest + 7));
  after = leftovers_snapshot (fx);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (n_refs (fx), ==, 0);

  g_clear_error (&error);
  g_assert_no_errno (chmod (blob_path, 0644));
  result = ctrd_image_archive_import (fx->storage, fd, CTRD_IMAGE_FORMAT_AUTO, &limits, NULL, NULL,
                                      NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  close (fd);
  sample_clear (&sample);
}

static void
test_cancel (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GBytes) archive = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *before = leftovers_snapshot (fx);
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  GThread *feeder = NULL;
  int fd;

  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, NULL, NULL);
  archive = pack_tar (files, NULL, FALSE);
  g_cancellable_cancel (cancellable);
  fd = ctrd_test_pipe_from_bytes (archive, &feeder);
  g_assert_null (ctrd_image_archive_import (fx->storage, fd, CTRD_IMAGE_FORMAT_AUTO, NULL, NULL,
                                            NULL, cancellable, &error));
  close (fd);
  g_thread_join (feeder);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  after = leftovers_snapshot (fx);
  g_assert_cmpstr (after, ==, before);
  sample_clear (&sample);
}

static void
test_limits (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GBytes) archive = NULL;
  g_autofree char *path = g_build_filename (fx->tmpdir, "input", NULL);
  CtrdImportLimits limits = { 0 };
  g_autoptr (GError) error = NULL;
  int fd;

  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, NULL, NULL);
  archive = pack_tar (files, NULL, FALSE);
  ctrd_test_write_bytes (path, archive);
  /* Each layer fits, all three do not: the cap is over the whole image. */
  limits.max_bytes = g_bytes_get_size (sample.plain[0]) + g_bytes_get_size (sample.plain[1]);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
  g_assert_null (ctrd_image_archive_import (fx->storage, fd, CTRD_IMAGE_FORMAT_AUTO, &limits, NULL,
                                            NULL, NULL, &error));
  g_test_assert_expected_messages ();
  close (fd);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_assert_cmpuint (n_refs (fx), ==, 0);
  sample_clear (&sample);
}

/* ---- export ---- */

static GHashTable *
read_tar_entries (GBytes *tar)
{
  GHashTable *entries =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  struct archive *reader = archive_read_new ();
  struct archive_entry *entry;
  gsize len;
  const void *data = g_bytes_get_data (tar, &len);

  archive_read_support_format_tar (reader);
  g_assert_cmpint (archive_read_open_memory (reader, data, len), ==, ARCHIVE_OK);
  while (archive_read_next_header (reader, &entry) == ARCHIVE_OK)
    {
      g_autoptr (GByteArray) content = g_byte_array_new ();
      guchar buf[8192];
      la_ssize_t n;

      while ((n = archive_read_data (reader, buf, sizeof buf)) > 0)
        g_byte_array_append (content, buf, n);
      g_assert_cmpint (n, ==, 0);
      g_hash_table_insert (entries, g_strdup (archive_entry_pathname (entry)),
                           g_byte_array_free_to_bytes (g_steal_pointer (&content)));
    }
  archive_read_free (reader);
  return entries;
}

static GBytes *
export_to_bytes (Fixture *fx, CtrdImportResult *image, CtrdImageFormat format, const char *name,
                 GError **error)
{
  g_autofree char *path = g_build_filename (fx->tmpdir, "export", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok;

  g_assert_cmpint (fd, >=, 0);
  ok = ctrd_image_archive_export (fx->storage, image->commit, image->config_json, name, format, fd,
                                  image->size, NULL, NULL, NULL, error);
  close (fd);
  if (!ok)
    return NULL;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_no_errno (unlink (path));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static void
test_export_round_trip (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autofree char *dir = g_build_filename (fx->tmpdir, "layout", NULL);
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (CtrdImportResult) image = NULL;
  g_autoptr (CtrdImportResult) back = NULL;
  g_autoptr (GBytes) oci = NULL;
  g_autoptr (GBytes) rootfs = NULL;
  g_autoptr (GHashTable) oci_entries = NULL;
  g_autoptr (GHashTable) rootfs_entries = NULL;
  g_autoptr (CtrdImageConfig) original = NULL;
  g_autoptr (CtrdImageConfig) exported = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (OstreeRepo) repo = NULL;
  g_autoptr (GFile) root_a = NULL;
  g_autoptr (GFile) root_b = NULL;

  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, NULL, NULL);
  write_files (files, dir);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
  image = import_dir (fx, dir, CTRD_IMAGE_FORMAT_AUTO, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  oci = export_to_bytes (fx, image, CTRD_IMAGE_FORMAT_OCI_ARCHIVE, "localhost/round:trip", &error);
  g_assert_no_error (error);
  oci_entries = read_tar_entries (oci);
  g_assert_true (g_hash_table_contains (oci_entries, "oci-layout"));
  g_assert_true (g_hash_table_contains (oci_entries, "index.json"));
  g_assert_cmpuint (g_hash_table_size (oci_entries), ==, 2 + 2 + 3);

  back = import_bytes_from_file (fx, oci, CTRD_IMAGE_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (back->names, ((const char *const[]){ "localhost/round:trip", NULL }));
  /* A new config (it describes the one flattened layer), the same files. */
  g_assert_cmpstr (back->image_id, !=, image->image_id);
  repo = ctrd_test_open_repo (fx->root);
  ostree_repo_read_commit (repo, image->commit, &root_a, NULL, NULL, &error);
  g_assert_no_error (error);
  ostree_repo_read_commit (repo, back->commit, &root_b, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ostree_repo_file_tree_get_contents_checksum (OSTREE_REPO_FILE (root_a)), ==,
                   ostree_repo_file_tree_get_contents_checksum (OSTREE_REPO_FILE (root_b)));
  g_assert_cmpstr (ostree_repo_file_tree_get_metadata_checksum (OSTREE_REPO_FILE (root_a)), ==,
                   ostree_repo_file_tree_get_metadata_checksum (OSTREE_REPO_FILE (root_b)));
  original = ctrd_image_config_parse (image->config_json);
  exported = ctrd_image_config_parse (back->config_json);
  g_assert_cmpstrv (exported->entrypoint, original->entrypoint);
  g_assert_cmpstrv (exported->env, original->env);
  g_assert_cmpstrv (exported->exposed_ports, original->exposed_ports);
  g_assert_cmpstr (exported->user, ==, original->user);
  g_assert_cmpuint (exported->created, ==, original->created);

  rootfs = export_to_bytes (fx, image, CTRD_IMAGE_FORMAT_ROOTFS_TAR, NULL, &error);
  g_assert_no_error (error);
  rootfs_entries = read_tar_entries (rootfs);
  g_assert_true (g_hash_table_contains (rootfs_entries, "./etc/motd"));
  g_assert_true (g_hash_table_contains (rootfs_entries, "./opq/new1/") ||
                 g_hash_table_contains (rootfs_entries, "./opq/new1"));
  g_assert_false (g_hash_table_contains (rootfs_entries, "./etc/remove-me"));
  {
    g_autoptr (GBytes) expected = g_bytes_new_static ("keep v3\n", 8);
    g_assert_true (g_bytes_equal (g_hash_table_lookup (rootfs_entries, "./etc/keep"), expected));
  }

  g_assert_null (export_to_bytes (fx, image, CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  sample_clear (&sample);
}

static void
test_export_reader_gone (Fixture *fx, gconstpointer data)
{
  Sample sample = { 0 };
  g_autofree char *dir = g_build_filename (fx->tmpdir, "layout", NULL);
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (CtrdImportResult) image = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  int fds[2];

  sample_init (&sample);
  files = make_layout (sample.stored, sample.plain, 3, NULL, NULL);
  write_files (files, dir);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*skipped character device*");
  image = import_dir (fx, dir, CTRD_IMAGE_FORMAT_AUTO, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  before = ctrd_test_dir_listing (fx->root);

  /* The reader closed its end before anything was written. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  close (fds[0]);
  for (guint format = 0; format < 2; format++)
    {
      g_assert_false (ctrd_image_archive_export (
          fx->storage, image->commit, image->config_json, NULL,
          format == 0 ? CTRD_IMAGE_FORMAT_OCI_ARCHIVE : CTRD_IMAGE_FORMAT_ROOTFS_TAR, fds[1],
          image->size, NULL, NULL, NULL, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
      g_clear_error (&error);
    }
  close (fds[1]);

  /* A reader that never reads: cancellation still ends the export. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  g_cancellable_cancel (cancellable);
  g_assert_false (ctrd_image_archive_export (fx->storage, image->commit, image->config_json, NULL,
                                             CTRD_IMAGE_FORMAT_ROOTFS_TAR, fds[1], image->size,
                                             NULL, NULL, cancellable, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  close (fds[0]);
  close (fds[1]);
  after = ctrd_test_dir_listing (fx->root);
  g_assert_cmpstr (after, ==, before);
  sample_clear (&sample);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Like the daemon: a reader that goes away is an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);

#define ADD(path, fn)                                                                              \
  g_test_add ("/image-archive/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("format-names", test_format_names);
  ADD ("oci-layout-dir", test_oci_layout_dir);
  ADD ("oci-archive", test_oci_archive);
  ADD ("docker-archive", test_docker_archive);
  ADD ("rootfs-auto", test_rootfs_auto);
  ADD ("bad-layouts", test_bad_layouts);
  ADD ("bad-docker-archives", test_bad_docker_archives);
  ADD ("layout-symlink-blob", test_layout_symlink_blob);
  ADD ("layout-reader", test_layout_reader);
  ADD ("cancel", test_cancel);
  ADD ("limits", test_limits);
  ADD ("export-round-trip", test_export_round_trip);
  ADD ("export-reader-gone", test_export_reader_gone);
#undef ADD

  return g_test_run ();
}
