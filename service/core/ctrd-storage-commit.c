/* ctrd-storage-commit.c: a container's overlay upper directory as a new
 * image commit, and its changes against the image (podman diff). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctrd-image-config.h"
#include "ctrd-storage-private.h"
#include "ctrd-util.h"

/* ------------------------------------------------------------------ */
/* Container commit: the image commit plus an overlay upper directory */

typedef struct
{
  CtrdStorage *storage;
  GCancellable *cancellable;
  GHashTable *content_sizes;   /* checksum -> guint64* */
  GHashTable *inode_checksums; /* "dev:ino" -> checksum, for hardlinks in the upper dir */
  char **exclude_paths;
  guint64 n_skipped;
  guint64 max_bytes; /* 0 = no cap */
  guint64 written_bytes;
} UpperWalk;

static gboolean
path_is_excluded (char **exclude_paths, const char *path)
{
  for (guint i = 0; exclude_paths != NULL && exclude_paths[i] != NULL; i++)
    if (storage_path_is_at_or_under (path, exclude_paths[i]))
      return TRUE;
  return FALSE;
}

/* "/a/b/" -> "/a/b"; relative or ".." paths cannot match anything. */
static char **
normalize_exclude_paths (const char *const *paths)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
    {
      g_autofree char *canonical = NULL;

      if (!g_path_is_absolute (paths[i]))
        continue;
      canonical = g_canonicalize_filename (paths[i], "/");
      if (strcmp (canonical, "/") != 0)
        g_ptr_array_add (out, g_steal_pointer (&canonical));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* A 0/0 character device is how overlayfs records a deletion. */
static gboolean
is_overlay_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && major (st->st_rdev) == 0 && minor (st->st_rdev) == 0;
}

/* What the upper-dir entry open as @fd stores: type, owner, mode (and size)
 * and its kept xattrs in @out_xattrs. @overlay_xattr marks an overlayfs
 * feature (metacopy, redirect_dir) whose entries do not hold what they
 * mean: this daemon never mounts with those, so finding one is an error. */
static GFileInfo *
upper_entry_info (int fd, const struct stat *st, GFileType type, const char *overlay_xattr,
                  const char *path, GVariant **out_xattrs, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GFileInfo *info;

  if (ctrd_fd_has_xattr (fd, overlay_xattr))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "%s carries %s (an overlay feature commit does not follow)", path,
                   overlay_xattr);
      return NULL;
    }
  *out_xattrs = ctrd_fd_get_xattrs (fd, storage_keep_xattr, path, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  info = storage_file_info_new (
      type, (type == G_FILE_TYPE_DIRECTORY ? S_IFDIR : S_IFREG) | (st->st_mode & 07777), st->st_uid,
      st->st_gid);
  if (type == G_FILE_TYPE_REGULAR)
    g_file_info_set_size (info, st->st_size);
  return info;
}

static char *
commit_upper_file (UpperWalk *walk, int dfd, const char *name, const struct stat *st,
                   const char *path, GError **error)
{
  g_autofree char *inode_key = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                                (guint64) st->st_dev, (guint64) st->st_ino);
  const char *known = g_hash_table_lookup (walk->inode_checksums, inode_key);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (GInputStream) data = NULL;
  g_autoptr (GInputStream) content = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree guchar *csum = NULL;
  g_autofree char *checksum = NULL;
  guint64 length;

  if (known != NULL)
    return g_strdup (known);

  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX];
      gssize n = readlinkat (dfd, name, target, sizeof target - 1);

      if (n < 0)
        {
          ctrd_throw_errno (error, "Reading the symlink %s", path);
          return NULL;
        }
      target[n] = '\0';
      if (!g_utf8_validate (target, n, NULL))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The target of symlink %s is not UTF-8: it cannot be committed", path);
          return NULL;
        }
      info =
          storage_file_info_new (G_FILE_TYPE_SYMBOLIC_LINK, S_IFLNK | 0777, st->st_uid, st->st_gid);
      g_file_info_set_size (info, 0);
      g_file_info_set_symlink_target (info, target);
    }
  else
    {
      int fd;

      walk->written_bytes += st->st_size;
      if (walk->max_bytes != 0 && walk->written_bytes > walk->max_bytes)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "The new files are larger than the commit limit of %" G_GUINT64_FORMAT
                       " bytes (at %s)",
                       walk->max_bytes, path);
          return NULL;
        }
      fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
      if (fd < 0)
        {
          ctrd_throw_errno (error, "Opening %s", path);
          return NULL;
        }
      data = g_unix_input_stream_new (fd, TRUE);
      info = upper_entry_info (fd, st, G_FILE_TYPE_REGULAR, "trusted.overlay.metacopy", path,
                               &xattrs, error);
      if (info == NULL)
        return NULL;
    }

  if (!ostree_raw_file_to_content_stream (data, info, xattrs, &content, &length, walk->cancellable,
                                          &local_error) ||
      !ostree_repo_write_content (walk->storage->repo, NULL, content, length, &csum,
                                  walk->cancellable, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  path);
      return NULL;
    }
  checksum = ostree_checksum_from_bytes (csum);
  if (S_ISREG (st->st_mode))
    {
      guint64 size = st->st_size;
      g_hash_table_insert (walk->content_sizes, g_strdup (checksum),
                           g_memdup2 (&size, sizeof size));
      if (st->st_nlink > 1)
        g_hash_table_insert (walk->inode_checksums, g_steal_pointer (&inode_key),
                             g_strdup (checksum));
    }
  return g_steal_pointer (&checksum);
}

/* Removes every entry of @dir (an opaque upper directory hides the base's). */
static gboolean
clear_mtree_dir (OstreeMutableTree *dir, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_files (dir));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_subdirs (dir));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  if (!ostree_mutable_tree_check_error (dir, error))
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    if (!ostree_mutable_tree_remove (dir, names->pdata[i], FALSE, error))
      return FALSE;
  return TRUE;
}

static gboolean
commit_upper_dir (UpperWalk *walk, int dfd, OstreeMutableTree *dir, const char *path, guint depth,
                  GError **error)
{
  const char *display = path[0] != '\0' ? path : "/";
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *dirmeta = NULL;
  struct stat st;

  if (depth > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s is nested deeper than %d directories", display, MEMBER_DEPTH_MAX);
      return FALSE;
    }
  if (fstat (dfd, &st) < 0)
    return ctrd_throw_errno (error, "Reading %s", display);
  info = upper_entry_info (dfd, &st, G_FILE_TYPE_DIRECTORY, "trusted.overlay.redirect", display,
                           &xattrs, error);
  if (info == NULL)
    return FALSE;
  dirmeta = storage_repo_write_dirmeta (walk->storage->repo, info, xattrs, walk->cancellable,
                                        &local_error);
  if (dirmeta == NULL)
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, display);
  ostree_mutable_tree_set_metadata_checksum (dir, dirmeta);

  if (ctrd_fd_xattr_equals (dfd, "trusted.overlay.opaque", "y") &&
      !clear_mtree_dir (dir, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, display);

  names = ctrd_list_dir_at (dfd, display, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_strconcat (path, "/", name, NULL);
      g_autoptr (OstreeMutableTree) subdir = NULL;
      g_autofree char *checksum = NULL;
      SlotKind kind;

      if (g_cancellable_set_error_if_cancelled (walk->cancellable, error))
        {
          ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
          return FALSE;
        }
      if (path_is_excluded (walk->exclude_paths, child))
        continue;
      if (!g_utf8_validate (name, -1, NULL))
        {
          g_autofree char *quoted = ctrd_quote_untrusted (child);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The file name %s is not UTF-8: it cannot be committed", quoted);
          return FALSE;
        }
      if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ctrd_throw_errno (error, "Reading %s", child);
        }

      kind = storage_lookup_slot (dir, name, NULL, NULL);
      if (is_overlay_whiteout (&st) || (kind == SLOT_DIR && !S_ISDIR (st.st_mode)) ||
          (kind == SLOT_FILE && S_ISDIR (st.st_mode)))
        {
          if (!ostree_mutable_tree_remove (dir, name, TRUE, &local_error))
            return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                               CTRD_ERROR_STORAGE_ERROR, child);
          if (is_overlay_whiteout (&st))
            continue;
        }

      if (S_ISDIR (st.st_mode))
        {
          ctrd_autofd int child_fd = -1;
          gboolean ok;

          if (!ostree_mutable_tree_ensure_dir (dir, name, &subdir, &local_error))
            return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                               CTRD_ERROR_STORAGE_ERROR, child);
          child_fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child_fd < 0)
            return ctrd_throw_errno (error, "Opening %s", child);
          ok = commit_upper_dir (walk, child_fd, subdir, child, depth + 1, error);
          if (!ok)
            return FALSE;
        }
      else if (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode))
        {
          checksum = commit_upper_file (walk, dfd, name, &st, child, error);
          if (checksum == NULL)
            return FALSE;
          if (!ostree_mutable_tree_replace_file (dir, name, checksum, &local_error))
            return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                               CTRD_ERROR_STORAGE_ERROR, child);
        }
      else if (++walk->n_skipped <= SKIPPED_LOG_MAX)
        g_message ("Commit: skipped %s (device nodes, FIFOs and sockets are not stored in images)",
                   child);
    }
  return TRUE;
}

static CtrdImportResult *
commit_container_in_transaction (CtrdStorage *storage, const char *base_commit, int upper_dfd,
                                 const char *upper_dir, const CtrdCommitOptions *options,
                                 GCancellable *cancellable, GError **error)
{
  g_autoptr (OstreeMutableTree) root = NULL;
  g_autoptr (GFile) root_file = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *base_config = NULL;
  g_autofree char *config_json = NULL;
  g_autofree char *diff_id = NULL;
  g_autoptr (GHashTable) content_sizes =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) inode_checksums =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) exclude_paths =
      normalize_exclude_paths (options != NULL ? options->exclude_paths : NULL);
  guint64 created_at = ctrd_now_usec ();
  CtrdImageConfigChanges changes = {
    .command = options != NULL ? options->command : NULL,
    .entrypoint = options != NULL ? options->entrypoint : NULL,
    .env = options != NULL ? options->env : NULL,
    .labels = options != NULL ? options->labels : NULL,
    .author = options != NULL ? options->author : NULL,
    .comment = options != NULL ? options->comment : NULL,
  };
  UpperWalk walk = {
    .storage = storage,
    .cancellable = cancellable,
    .content_sizes = content_sizes,
    .inode_checksums = inode_checksums,
    .exclude_paths = exclude_paths,
    .max_bytes = options != NULL ? options->max_bytes : 0,
  };

  base_config = ctrd_storage_read_image_config (storage, base_commit, &local_error);
  if (base_config == NULL && !g_error_matches (local_error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_clear_error (&local_error);

  /* Lazy: only the directories the upper layer touches are loaded, and
   * the unchanged subtrees keep their checksums. */
  root = ostree_mutable_tree_new_from_commit (storage->repo, base_commit, &local_error);
  if (root == NULL)
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
                                  "Reading the image commit");
      return NULL;
    }
  if (!commit_upper_dir (&walk, upper_dfd, root, "", 0, error))
    return g_prefix_error (error, "Committing %s: ", upper_dir), NULL;
  if (walk.n_skipped > SKIPPED_LOG_MAX)
    g_message ("Commit: skipped %" G_GUINT64_FORMAT " device nodes, FIFOs and sockets",
               walk.n_skipped);

  /* The config names the new tree, so the tree is written first. */
  if (!ostree_repo_write_mtree (storage->repo, root, &root_file, cancellable, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  "Writing the committed tree");
      return NULL;
    }
  diff_id = g_strconcat (
      "sha256:", ostree_repo_file_tree_get_contents_checksum (OSTREE_REPO_FILE (root_file)), NULL);
  config_json = ctrd_image_config_for_commit (base_config, options != NULL ? &changes : NULL,
                                              diff_id, created_at, error);
  if (config_json == NULL)
    return NULL;
  return storage_commit_image_tree (storage, root, NULL, content_sizes, config_json, created_at,
                                    "containersd commit", cancellable, error);
}

CtrdImportResult *
ctrd_storage_commit_container (CtrdStorage *storage, const char *base_commit, const char *upper_dir,
                               const CtrdCommitOptions *options, GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GError) local_error = NULL;
  CtrdImportResult *result;
  ctrd_autofd int upper_dfd = -1;

  g_return_val_if_fail (storage != NULL && upper_dir != NULL, NULL);

  if (!storage_check_hex_id (base_commit, "an OSTree commit checksum", error))
    return NULL;
  upper_dfd = open (upper_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upper_dfd < 0)
    {
      ctrd_throw_errno_code (error,
                             errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR,
                             "Opening the upper directory %s", upper_dir);
      return NULL;
    }

  locker = g_mutex_locker_new (&storage->repo_lock);
  if (!storage_begin_transaction (storage, cancellable, error))
    return NULL;
  result = commit_container_in_transaction (storage, base_commit, upper_dfd, upper_dir, options,
                                            cancellable, &local_error);
  if (result == NULL)
    return storage_fail_transaction (storage, g_steal_pointer (&local_error), error);
  return result;
}

/* ------------------------------------------------------------------ */
/* Changes of a container's upper directory (podman diff) */

void
ctrd_change_free (CtrdChange *change)
{
  if (change == NULL)
    return;
  g_free (change->path);
  g_free (change);
}

static void
add_change (GPtrArray *changes, char kind, const char *path)
{
  CtrdChange *change = g_new0 (CtrdChange, 1);

  change->kind = kind;
  change->path = g_strdup (path);
  g_ptr_array_add (changes, change);
}

/* The type of @name in the base directory @base_dir (NULL: the base has no
 * such directory); G_FILE_TYPE_UNKNOWN when absent. */
static GFileType
base_child_type (GFile *base_dir, const char *name, GFile **out_child)
{
  g_autoptr (GFile) child = NULL;
  g_autoptr (GFileInfo) info = NULL;

  if (base_dir == NULL)
    return G_FILE_TYPE_UNKNOWN;
  child = g_file_get_child (base_dir, name);
  info = g_file_query_info (child, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                            G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (info == NULL)
    return G_FILE_TYPE_UNKNOWN;
  if (out_child != NULL)
    *out_child = g_steal_pointer (&child);
  return g_file_info_get_file_type (info);
}

typedef struct
{
  GCancellable *cancellable;
  char **exclude_paths;
  GPtrArray *changes;
} ChangesWalk;

static gboolean
list_upper_changes (ChangesWalk *walk, int dfd, GFile *base_dir, const char *path, guint depth,
                    GError **error)
{
  const char *display = path[0] != '\0' ? path : "/";
  g_autoptr (GPtrArray) names = NULL;

  if (depth > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s is nested deeper than %d directories", display, MEMBER_DEPTH_MAX);
      return FALSE;
    }
  names = ctrd_list_dir_at (dfd, display, error);
  if (names == NULL)
    return FALSE;

  if (base_dir != NULL && ctrd_fd_xattr_equals (dfd, "trusted.overlay.opaque", "y"))
    {
      g_autoptr (GHashTable) upper_names = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr (GFileEnumerator) enumerator = NULL;
      g_autoptr (GError) local_error = NULL;
      GFileInfo *info;

      for (guint i = 0; i < names->len; i++)
        g_hash_table_add (upper_names, names->pdata[i]);
      enumerator = g_file_enumerate_children (base_dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                              G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                              walk->cancellable, &local_error);
      if (enumerator == NULL)
        return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                           CTRD_ERROR_STORAGE_ERROR, display);
      while ((info = g_file_enumerator_next_file (enumerator, walk->cancellable, &local_error)))
        {
          g_autoptr (GFileInfo) owned G_GNUC_UNUSED = info;
          const char *name = g_file_info_get_name (info);
          g_autofree char *child = g_strconcat (path, "/", name, NULL);

          if (!g_hash_table_contains (upper_names, name) &&
              !path_is_excluded (walk->exclude_paths, child))
            add_change (walk->changes, 'D', child);
        }
      if (local_error != NULL)
        return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                           CTRD_ERROR_STORAGE_ERROR, display);
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_strconcat (path, "/", name, NULL);
      g_autoptr (GFile) base_child = NULL;
      GFileType base_type;
      struct stat st;

      if (g_cancellable_set_error_if_cancelled (walk->cancellable, error))
        {
          ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
          return FALSE;
        }
      if (path_is_excluded (walk->exclude_paths, child))
        continue;
      if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ctrd_throw_errno (error, "Reading %s", child);
        }
      base_type = base_child_type (base_dir, name, &base_child);
      if (is_overlay_whiteout (&st))
        {
          if (base_type != G_FILE_TYPE_UNKNOWN)
            add_change (walk->changes, 'D', child);
          continue;
        }
      add_change (walk->changes, base_type != G_FILE_TYPE_UNKNOWN ? 'C' : 'A', child);
      if (S_ISDIR (st.st_mode))
        {
          ctrd_autofd int child_fd =
              openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          gboolean ok;

          if (child_fd < 0)
            return ctrd_throw_errno (error, "Opening %s", child);
          ok = list_upper_changes (walk, child_fd,
                                   base_type == G_FILE_TYPE_DIRECTORY ? base_child : NULL, child,
                                   depth + 1, error);
          if (!ok)
            return FALSE;
        }
    }
  return TRUE;
}

static int
compare_changes (gconstpointer a, gconstpointer b)
{
  const CtrdChange *ca = *(const CtrdChange *const *) a;
  const CtrdChange *cb = *(const CtrdChange *const *) b;

  return strcmp (ca->path, cb->path);
}

GPtrArray *
ctrd_storage_list_changes (CtrdStorage *storage, const char *base_commit, const char *upper_dir,
                           const char *const *exclude_paths, GCancellable *cancellable,
                           GError **error)
{
  g_autoptr (GPtrArray) changes =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_change_free);
  g_auto (GStrv) excluded = normalize_exclude_paths (exclude_paths);
  g_autoptr (GFile) base_root = NULL;
  g_autoptr (GError) local_error = NULL;
  ChangesWalk walk = {
    .cancellable = cancellable,
    .exclude_paths = excluded,
    .changes = changes,
  };
  gboolean ok;
  ctrd_autofd int upper_dfd = -1;

  if (!storage_check_hex_id (base_commit, "an OSTree commit checksum", error))
    return NULL;
  if (!ostree_repo_read_commit (storage->read_repo, base_commit, &base_root, NULL, cancellable,
                                &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
                                  "Reading the image commit");
      return NULL;
    }
  upper_dfd = open (upper_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upper_dfd < 0)
    {
      ctrd_throw_errno_code (error,
                             errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR,
                             "Opening the upper directory %s", upper_dir);
      return NULL;
    }
  ok = list_upper_changes (&walk, upper_dfd, base_root, "", 0, error);
  if (!ok)
    return NULL;
  g_ptr_array_sort (changes, compare_changes);
  return g_steal_pointer (&changes);
}
