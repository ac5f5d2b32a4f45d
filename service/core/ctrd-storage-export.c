/* ctrd-storage-export.c: the root filesystem of a commit as a tar. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "ctrd-storage-private.h"
#include "ctrd-tar.h"

/* ------------------------------------------------------------------ */
/* Export: a commit as a tar */

typedef struct
{
  OstreeRepo *repo;
  CtrdTarWriter *tar;
  gint64 mtime;
  GHashTable *first_paths; /* content checksum -> tar path: later ones become hardlinks */
  GCancellable *cancellable;
} TarWriter;

static void
entry_add_xattrs (struct archive_entry *entry, GVariant *xattrs)
{
  for (gsize i = 0; xattrs != NULL && i < g_variant_n_children (xattrs); i++)
    {
      g_autoptr (GVariant) name = NULL;
      g_autoptr (GVariant) value = NULL;
      gsize size;
      const void *data;

      g_variant_get_child (xattrs, i, "(@ay@ay)", &name, &value);
      data = g_variant_get_fixed_array (value, &size, 1);
      archive_entry_xattr_add_entry (entry, g_variant_get_bytestring (name), data, size);
    }
}

static gboolean
tar_write_file (TarWriter *writer, const char *path, const char *checksum, GError **error)
{
  g_autoptr (CtrdArchiveEntry) entry = archive_entry_new ();
  g_autoptr (GInputStream) input = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *first_path = g_hash_table_lookup (writer->first_paths, checksum);
  gboolean is_symlink;

  if (!ostree_repo_load_file (writer->repo, checksum, &input, &info, &xattrs, writer->cancellable,
                              &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, path);
  is_symlink = g_file_info_get_file_type (info) == G_FILE_TYPE_SYMBOLIC_LINK;

  archive_entry_set_pathname (entry, path);
  archive_entry_set_uid (entry, g_file_info_get_attribute_uint32 (info, "unix::uid"));
  archive_entry_set_gid (entry, g_file_info_get_attribute_uint32 (info, "unix::gid"));
  archive_entry_set_mtime (entry, writer->mtime, 0);
  if (is_symlink)
    {
      archive_entry_set_filetype (entry, AE_IFLNK);
      archive_entry_set_perm (entry, 0777);
      archive_entry_set_symlink (entry, g_file_info_get_symlink_target (info));
    }
  else
    {
      archive_entry_set_filetype (entry, AE_IFREG);
      archive_entry_set_perm (entry, g_file_info_get_attribute_uint32 (info, "unix::mode") & 07777);
      /* The same object means the same content, mode, owner and xattrs:
       * exactly what a hardlink says (the checkout links them too). */
      if (first_path != NULL)
        {
          archive_entry_set_hardlink (entry, first_path);
          archive_entry_set_size (entry, 0);
        }
      else
        {
          archive_entry_set_size (entry, g_file_info_get_size (info));
          g_hash_table_insert (writer->first_paths, g_strdup (checksum), g_strdup (path));
        }
    }
  if (first_path == NULL)
    entry_add_xattrs (entry, xattrs);

  if (!ctrd_tar_writer_write_header (writer->tar, entry, path, error))
    return FALSE;
  if (is_symlink || first_path != NULL)
    return TRUE;

  while (TRUE)
    {
      guchar buf[READ_CHUNK];
      gssize n = g_input_stream_read (input, buf, sizeof buf, writer->cancellable, &local_error);

      if (n < 0)
        return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                           CTRD_ERROR_STORAGE_ERROR, path);
      if (n == 0)
        return TRUE;
      if (!ctrd_tar_writer_write_data (writer->tar, buf, n, path, error))
        return FALSE;
    }
}

static gboolean
tar_write_dir (TarWriter *writer, OstreeRepoFile *dir, const char *path, guint depth,
               GError **error)
{
  g_autoptr (CtrdArchiveEntry) entry = archive_entry_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (GVariant) files = NULL;
  g_autoptr (GVariant) dirs = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GHashTable) dir_names = g_hash_table_new (g_str_hash, g_str_equal);
  GVariant *contents;
  GVariant *metadata;
  guint32 uid, gid, mode;
  g_autofree char *dir_path = g_strconcat (path, "/", NULL);

  if (depth > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s is nested too deep", path);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (writer->cancellable, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
      return FALSE;
    }
  if (!ostree_repo_file_ensure_resolved (dir, &local_error) ||
      !ostree_repo_file_get_xattrs (dir, &xattrs, writer->cancellable, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, path);
  metadata = ostree_repo_file_tree_get_metadata (dir);
  g_variant_get (metadata, "(uuu@a(ayay))", &uid, &gid, &mode, NULL);

  archive_entry_set_pathname (entry, dir_path);
  archive_entry_set_filetype (entry, AE_IFDIR);
  archive_entry_set_perm (entry, GUINT32_FROM_BE (mode) & 07777);
  archive_entry_set_uid (entry, GUINT32_FROM_BE (uid));
  archive_entry_set_gid (entry, GUINT32_FROM_BE (gid));
  archive_entry_set_mtime (entry, writer->mtime, 0);
  entry_add_xattrs (entry, xattrs);
  if (!ctrd_tar_writer_write_header (writer->tar, entry, dir_path, error))
    return FALSE;

  /* Files and directories interleaved in name order, as tar -c writes them. */
  contents = ostree_repo_file_tree_get_contents (dir);
  files = g_variant_get_child_value (contents, 0);
  dirs = g_variant_get_child_value (contents, 1);
  for (gsize i = 0; i < g_variant_n_children (files); i++)
    {
      const char *name;
      g_variant_get_child (files, i, "(&s@ay)", &name, NULL);
      g_ptr_array_add (names, (gpointer) name);
    }
  for (gsize i = 0; i < g_variant_n_children (dirs); i++)
    {
      const char *name;
      g_variant_get_child (dirs, i, "(&s@ay@ay)", &name, NULL, NULL);
      g_ptr_array_add (names, (gpointer) name);
      g_hash_table_add (dir_names, (gpointer) name);
    }
  g_ptr_array_sort (names, storage_compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_strconcat (path, "/", name, NULL);
      g_autoptr (GFile) child_file = g_file_get_child (G_FILE (dir), name);

      if (g_hash_table_contains (dir_names, name))
        {
          if (!tar_write_dir (writer, OSTREE_REPO_FILE (child_file), child, depth + 1, error))
            return FALSE;
        }
      else
        {
          g_autoptr (GError) file_error = NULL;
          if (!ostree_repo_file_ensure_resolved (OSTREE_REPO_FILE (child_file), &file_error))
            return storage_propagate_prefixed (error, g_steal_pointer (&file_error),
                                               CTRD_ERROR_STORAGE_ERROR, child);
          if (!tar_write_file (writer, child,
                               ostree_repo_file_get_checksum (OSTREE_REPO_FILE (child_file)),
                               error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
ctrd_storage_write_rootfs_tar (CtrdStorage *storage, const char *commit, int fd, guint64 *out_size,
                               char **out_sha256, CtrdProgressFunc progress, gpointer progress_data,
                               guint64 total_hint, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) commit_variant = NULL;
  g_autoptr (GVariant) metadata = NULL;
  g_autoptr (GFile) root = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) first_paths =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (CtrdTarWriter) tar = NULL;
  TarWriter writer = {
    .repo = storage->read_repo,
    .first_paths = first_paths,
    .cancellable = cancellable,
  };

  metadata = storage_load_commit_metadata (storage, commit, &commit_variant, error);
  if (metadata == NULL)
    return FALSE;
  if (!ostree_repo_read_commit (storage->read_repo, commit, &root, NULL, cancellable, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, "Reading the image commit");
  writer.mtime = (gint64) ostree_commit_get_timestamp (commit_variant);

  /* The output's errors are CTRD_ERROR here: a reader that went away is
   * FAILED, cancellation CANCELLED. */
  tar = ctrd_tar_writer_new (fd, CTRD_TAR_FLAGS_SHA256, cancellable, &local_error);
  if (tar == NULL)
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, "Writing the tar");
  ctrd_tar_writer_set_progress (tar, progress, progress_data, total_hint);
  writer.tar = tar;
  if (!tar_write_dir (&writer, OSTREE_REPO_FILE (root), ".", 0, &local_error) ||
      !ctrd_tar_writer_close (tar, out_size, out_sha256, &local_error))
    {
      ctrd_error_normalize (&local_error, CTRD_ERROR_FAILED);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}
