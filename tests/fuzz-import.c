/* fuzz-import.c: libFuzzer target for the rootfs tar importer fed arbitrary
 * bytes (plain or gzip tar, or anything else) through a memfd, into one
 * temporary repository made on the first input. The contract checked: bad
 * input fails with INVALID_ARGUMENT or LIMIT_EXCEEDED and leaves no ref; a
 * good one gives a commit under ref images/<ID>, which is then deleted (and
 * the repo pruned now and then) so the repo does not grow. Needs root (a
 * bare repo keeps file owners). */
#include "config.h"

#include <ostree.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fuzz.h"
#include "ctrd-storage.h"

static char *tmpdir;
static CtrdStorage *storage;
static OstreeRepo *repo;
static guint imported;

static void
rm_rf (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  if (!g_file_delete (file, NULL, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_EMPTY))
    {
      g_autoptr (GFileEnumerator) children = g_file_enumerate_children (
          file, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
      GFileInfo *info;

      while (children != NULL &&
             (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);
          g_object_unref (info);
          rm_rf (child);
        }
      g_file_delete (file, NULL, NULL);
    }
}

void
ctrd_fuzz_import_cleanup (void)
{
  g_clear_object (&repo);
  g_clear_pointer (&storage, ctrd_storage_free);
  if (tmpdir != NULL)
    rm_rf (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

/* The repo is made by the storage module, then told not to fsync: thousands
 * of commits would otherwise spend their time in the disk. */
static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autofree char *config_path = NULL;
  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_autoptr (GFile) repo_file = NULL;

  tmpdir = g_dir_make_tmp ("fuzz-import-XXXXXX", &error);
  g_assert_no_error (error);
  root = g_build_filename (tmpdir, "storage", NULL);
  storage = ctrd_storage_new (root, &error);
  g_assert_no_error (error);
  ctrd_storage_free (storage);

  config_path = g_build_filename (root, "repo", "config", NULL);
  g_key_file_load_from_file (config, config_path, G_KEY_FILE_KEEP_COMMENTS, &error);
  g_assert_no_error (error);
  g_key_file_set_boolean (config, "core", "fsync", FALSE);
  g_key_file_save_to_file (config, config_path, &error);
  g_assert_no_error (error);

  storage = ctrd_storage_new (root, &error);
  g_assert_no_error (error);
  repo_file = g_file_new_for_path (ctrd_storage_get_repo_path (storage));
  repo = ostree_repo_new (repo_file);
  ostree_repo_open (repo, NULL, &error);
  g_assert_no_error (error);
  atexit (ctrd_fuzz_import_cleanup);
}

static guint
count_refs (void)
{
  g_autoptr (GHashTable) refs = NULL;
  g_autoptr (GError) error = NULL;

  ostree_repo_list_refs (repo, NULL, &refs, NULL, &error);
  g_assert_no_error (error);
  return g_hash_table_size (refs);
}

int
ctrd_fuzz_import (const uint8_t *data, size_t size)
{
  /* Small caps: a bomb is found as soon as it passes them. */
  const CtrdImportLimits limits = { .max_bytes = 8 << 20, .max_entries = 4096 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdImportResult) result = NULL;
  int fd;

  if (storage == NULL)
    setup ();

  fd = memfd_create ("fuzz-import", MFD_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, size), ==, (ssize_t) size);
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  result = ctrd_storage_import_rootfs_tar (storage, fd, &limits, NULL, &error);
  close (fd);

  if (result == NULL)
    {
      g_assert_nonnull (error);
      if (!g_error_matches (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT) &&
          !g_error_matches (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED))
        g_error ("Bad input gave %s %d: %s", g_quark_to_string (error->domain), error->code,
                 error->message);
      g_assert_cmpuint (count_refs (), ==, 0);
      return 0;
    }

  g_assert_cmpuint (strlen (result->image_id), ==, 64);
  g_assert_cmpuint (count_refs (), ==, 1);
  g_assert_true (ctrd_storage_delete_image_ref (storage, result->image_id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_refs (), ==, 0);
  if (++imported % 200 == 0)
    {
      g_assert_true (ctrd_storage_prune (storage, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  return 0;
}

CTRD_FUZZ_ENTRY (ctrd_fuzz_import)
