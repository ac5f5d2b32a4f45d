/* ctrd-storage.c: the OSTree image store: setup, the repo lock, refs,
 * temporary files, prune. The other facets are ctrd-storage-*.c (see
 * ctrd-storage-private.h). */
#include "config.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <ostree.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-storage-private.h"
#include "ctrd-util.h"

/* The staging directories of ostree transactions in repo/tmp. */
#define OSTREE_STAGING_PREFIX "staging-"

void
ctrd_import_result_free (CtrdImportResult *result)
{
  if (result == NULL)
    return;
  g_free (result->image_id);
  g_free (result->commit);
  g_free (result->config_json);
  g_strfreev (result->names);
  g_free (result);
}

/* Like ctrd_error_normalize, with context. */
gboolean
storage_propagate_prefixed (GError **error, GError *local_error, CtrdError fallback,
                            const char *prefix)
{
  ctrd_error_normalize (&local_error, fallback);
  g_propagate_prefixed_error (error, local_error, "%s: ", prefix);
  return FALSE;
}

/* Image IDs, container IDs and OSTree commit checksums all have the same
 * shape, 64 lowercase hex: checked before any of them is joined into a path. */
gboolean
storage_check_hex_id (const char *value, const char *what, GError **error)
{
  g_autofree char *quoted = NULL;

  if (value != NULL && ctrd_is_full_id (value))
    return TRUE;
  quoted = ctrd_quote_untrusted (value);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "%s is not %s (64 lowercase hex characters)", quoted, what);
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Setup */

/* The names in @dfd that start with @prefix (read first, so that callers may
 * remove entries while they go through the list). */
static GPtrArray *
list_names_with_prefix (int dfd, const char *prefix)
{
  g_autoptr (GPtrArray) matching = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = ctrd_list_dir_at (dfd, "a storage directory", NULL);

  for (guint i = 0; names != NULL && i < names->len; i++)
    if (g_str_has_prefix (names->pdata[i], prefix))
      g_ptr_array_add (matching, g_strdup (names->pdata[i]));
  return g_steal_pointer (&matching);
}

/* A crash during a checkout leaves checkouts/.tmp-*; a live checkout holds an
 * flock on its temporary directory, so those are left alone. */
static void
remove_stale_checkout_tmpdirs (CtrdStorage *storage)
{
  g_autoptr (GPtrArray) names =
      list_names_with_prefix (storage->checkouts_dfd, CHECKOUT_TMP_PREFIX);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *display = g_build_filename (storage->checkouts_path, name, NULL);
      g_autoptr (GError) local_error = NULL;
      ctrd_autofd int fd =
          openat (storage->checkouts_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
        continue;
      if (!ctrd_remove_tree_at (storage->checkouts_dfd, name, display, NULL, &local_error))
        g_warning ("Cannot remove stale checkout directory: %s", local_error->message);
    }
}

/* ostree keeps the staging directory of an aborted transaction to resume
 * pulls, with the objects written so far; we never resume, and an aborted
 * import must leave nothing behind. A directory whose "-lock" file someone
 * holds (libglnx takes an OFD lock on it) is in use and is skipped. */
void
storage_remove_unlocked_staging_dirs (CtrdStorage *storage)
{
  g_autoptr (GPtrArray) names = NULL;
  ctrd_autofd int tmp_dfd = -1;

  tmp_dfd = openat (storage->root_dfd, "repo/tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_dfd < 0)
    return;
  names = list_names_with_prefix (tmp_dfd, OSTREE_STAGING_PREFIX);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *lock_name = g_strconcat (name, "-lock", NULL);
      g_autofree char *display = g_build_filename (storage->repo_path, "tmp", name, NULL);
      g_autoptr (GError) local_error = NULL;
      struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      struct stat st;
      ctrd_autofd int lock_fd = -1;

      if (g_str_has_suffix (name, "-lock") ||
          fstatat (tmp_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
        continue;

      lock_fd = openat (tmp_dfd, lock_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (lock_fd >= 0 && fcntl (lock_fd, F_OFD_SETLK, &lock) < 0)
        continue;
      if (!ctrd_remove_tree_at (tmp_dfd, name, display, NULL, &local_error))
        g_warning ("Cannot remove OSTree staging directory: %s", local_error->message);
      else
        (void) unlinkat (tmp_dfd, lock_name, 0);
    }
}

/* Makes @name in @parent_dfd a directory owned by us with mode 0700 (an
 * existing one is tightened) and returns an fd on it. */
static int
open_private_dir_at (int parent_dfd, const char *name, const char *display, GError **error)
{
  struct stat st;
  ctrd_autofd int fd = -1;

  if (mkdirat (parent_dfd, name, 0700) < 0 && errno != EEXIST)
    return ctrd_throw_errno (error, "Creating %s", display), -1;
  /* The storage root itself may be reached through a symlink (/var/lib on
   * another disk); what we make inside it is never followed. */
  fd = openat (parent_dfd, name,
               O_RDONLY | O_DIRECTORY | O_CLOEXEC | (parent_dfd == AT_FDCWD ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return ctrd_throw_errno (error, "Opening %s", display), -1;
  if (fstat (fd, &st) < 0)
    return ctrd_throw_errno (error, "Reading %s", display), -1;
  if (st.st_uid != geteuid ())
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "%s is owned by uid %u, not by the daemon's uid %u", display, (guint) st.st_uid,
                   (guint) geteuid ());
      return -1;
    }
  /* Images keep their setuid files: no host user may reach them. */
  if ((st.st_mode & 07777) != 0700 && fchmod (fd, 0700) < 0)
    return ctrd_throw_errno (error, "Changing mode of %s", display), -1;
  return ctrd_steal_fd (&fd);
}

static OstreeRepo *
open_or_create_repo (CtrdStorage *storage, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (OstreeRepo) repo = NULL;

  if (faccessat (storage->root_dfd, "repo/config", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    repo = ostree_repo_open_at (storage->root_dfd, "repo", NULL, &local_error);
  else if (errno == ENOENT)
    repo = ostree_repo_create_at (storage->root_dfd, "repo", OSTREE_REPO_MODE_BARE, NULL, NULL,
                                  &local_error);
  else
    {
      ctrd_throw_errno (error, "Reading %s/config", storage->repo_path);
      return NULL;
    }

  if (repo == NULL)
    {
      g_autofree char *prefix =
          g_strdup_printf ("Opening the OSTree repository %s", storage->repo_path);
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  prefix);
      return NULL;
    }
  /* Hardlink checkouts keep owners and setuid bits only in a bare repo. */
  if (ostree_repo_get_mode (repo) != OSTREE_REPO_MODE_BARE)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "The OSTree repository %s is not in mode bare", storage->repo_path);
      return NULL;
    }
  return g_steal_pointer (&repo);
}

CtrdStorage *
ctrd_storage_new (const char *storage_root, GError **error)
{
  g_autoptr (CtrdStorage) storage = g_new0 (CtrdStorage, 1);
  g_autofree char *parent = NULL;
  char *resolved;

  g_return_val_if_fail (storage_root != NULL, NULL);

  storage->root_dfd = storage->checkouts_dfd = storage->containers_dfd = -1;
  g_mutex_init (&storage->repo_lock);

  if (!g_path_is_absolute (storage_root))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The storage root %s is not an absolute path", storage_root);
      return NULL;
    }
  /* Parents are ordinary directories; only the root itself is private. */
  parent = g_path_get_dirname (storage_root);
  if (g_mkdir_with_parents (parent, 0755) < 0)
    {
      ctrd_throw_errno (error, "Creating %s", parent);
      return NULL;
    }

  storage->root_dfd = open_private_dir_at (AT_FDCWD, storage_root, storage_root, error);
  if (storage->root_dfd < 0)
    return NULL;
  resolved = realpath (storage_root, NULL);
  if (resolved == NULL)
    {
      ctrd_throw_errno (error, "Resolving %s", storage_root);
      return NULL;
    }
  storage->root = g_strdup (resolved);
  free (resolved);
  storage->repo_path = g_build_filename (storage->root, "repo", NULL);
  storage->checkouts_path = g_build_filename (storage->root, "checkouts", NULL);
  storage->containers_path = g_build_filename (storage->root, "containers", NULL);

  {
    ctrd_autofd int repo_dfd =
        open_private_dir_at (storage->root_dfd, "repo", storage->repo_path, error);
    if (repo_dfd < 0)
      return NULL;
  }
  storage->checkouts_dfd =
      open_private_dir_at (storage->root_dfd, "checkouts", storage->checkouts_path, error);
  if (storage->checkouts_dfd < 0)
    return NULL;
  storage->containers_dfd =
      open_private_dir_at (storage->root_dfd, "containers", storage->containers_path, error);
  if (storage->containers_dfd < 0)
    return NULL;

  storage->repo = open_or_create_repo (storage, error);
  if (storage->repo == NULL)
    return NULL;
  storage->read_repo = ostree_repo_open_at (storage->root_dfd, "repo", NULL, error);
  if (storage->read_repo == NULL)
    {
      ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
      return NULL;
    }

  remove_stale_checkout_tmpdirs (storage);
  storage_remove_unlocked_staging_dirs (storage);

  return g_steal_pointer (&storage);
}

void
ctrd_storage_free (CtrdStorage *storage)
{
  if (storage == NULL)
    return;
  g_clear_object (&storage->repo);
  g_clear_object (&storage->read_repo);
  ctrd_close_fd (&storage->root_dfd);
  ctrd_close_fd (&storage->checkouts_dfd);
  ctrd_close_fd (&storage->containers_dfd);
  g_mutex_clear (&storage->repo_lock);
  g_free (storage->root);
  g_free (storage->repo_path);
  g_free (storage->checkouts_path);
  g_free (storage->containers_path);
  g_free (storage);
}

const char *
ctrd_storage_get_root (CtrdStorage *storage)
{
  return storage->root;
}

const char *
ctrd_storage_get_repo_path (CtrdStorage *storage)
{
  return storage->repo_path;
}

/* ------------------------------------------------------------------ */
/* Temporary files, refs, the image config of a commit, prune */

int
ctrd_storage_open_tmpfile (CtrdStorage *storage, GError **error)
{
  g_autofree char *template_path = NULL;
  int fd;

  fd = openat (storage->root_dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    {
      ctrd_throw_errno (error, "Creating a temporary file in %s", storage->root);
      return -1;
    }
  /* Filesystems without O_TMPFILE: a name that lives only for a moment. */
  template_path = g_build_filename (storage->root, ".tmp-XXXXXX", NULL);
  fd = g_mkstemp_full (template_path, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      ctrd_throw_errno (error, "Creating %s", template_path);
      return -1;
    }
  (void) unlink (template_path);
  return fd;
}

GVariant *
storage_load_commit_metadata (CtrdStorage *storage, const char *commit, GVariant **out_commit,
                              GError **error)
{
  g_autoptr (GVariant) commit_variant = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!storage_check_hex_id (commit, "an OSTree commit checksum", error))
    return NULL;
  if (!ostree_repo_load_commit (storage->read_repo, commit, &commit_variant, NULL, &local_error))
    {
      g_autofree char *prefix = g_strdup_printf ("Image commit %s", commit);
      CtrdError code = g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                           ? CTRD_ERROR_NOT_FOUND
                           : CTRD_ERROR_STORAGE_ERROR;
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), code, prefix);
      return NULL;
    }
  if (out_commit != NULL)
    *out_commit = g_variant_ref (commit_variant);
  return g_variant_get_child_value (commit_variant, 0);
}

char *
ctrd_storage_read_image_config (CtrdStorage *storage, const char *commit, GError **error)
{
  g_autoptr (GVariant) metadata = storage_load_commit_metadata (storage, commit, NULL, error);
  const char *config = NULL;

  if (metadata == NULL)
    return NULL;
  if (!g_variant_lookup (metadata, IMAGE_CONFIG_KEY, "&s", &config))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Image commit %s holds no image config",
                   commit);
      return NULL;
    }
  return g_strdup (config);
}

GPtrArray *
ctrd_storage_list_image_ids (CtrdStorage *storage, GError **error)
{
  g_autoptr (GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&storage->repo_lock);
  g_autoptr (GHashTable) refs = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  /* the prefix as a ref directory: "images", not "images/" */
  if (!ostree_repo_list_refs_ext (storage->repo, IMAGE_REF_DIR, &refs,
                                  OSTREE_REPO_LIST_REFS_EXT_NONE, NULL, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  "Listing the image refs");
      return NULL;
    }
  g_hash_table_iter_init (&iter, refs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *ref = key;

      g_ptr_array_add (ids, g_strdup (g_str_has_prefix (ref, IMAGE_REF_PREFIX)
                                          ? ref + strlen (IMAGE_REF_PREFIX)
                                          : ref));
    }
  return g_steal_pointer (&ids);
}

gboolean
ctrd_storage_delete_image_ref (CtrdStorage *storage, const char *image_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *ref = NULL;

  if (!storage_check_hex_id (image_id, "an image ID", error))
    return FALSE;

  locker = g_mutex_locker_new (&storage->repo_lock);
  ref = g_strconcat (IMAGE_REF_PREFIX, image_id, NULL);
  if (!ostree_repo_set_ref_immediate (storage->repo, NULL, ref, NULL, NULL, &local_error))
    {
      g_autofree char *prefix = g_strdup_printf ("Deleting the ref of image %s", image_id);
      return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                         CTRD_ERROR_STORAGE_ERROR, prefix);
    }
  return TRUE;
}

gboolean
ctrd_storage_prune (CtrdStorage *storage, guint64 *out_freed_bytes, GCancellable *cancellable,
                    GError **error)
{
  g_autoptr (GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&storage->repo_lock);
  g_autoptr (GError) local_error = NULL;
  gint n_total = 0, n_pruned = 0;
  guint64 freed = 0;

  if (!ostree_repo_prune (storage->repo, OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY, -1, &n_total, &n_pruned,
                          &freed, cancellable, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, "Pruning the image repository");
  g_debug ("Pruned %d of %d objects, %" G_GUINT64_FORMAT " bytes", n_pruned, n_total, freed);
  if (out_freed_bytes != NULL)
    *out_freed_bytes = freed;
  return TRUE;
}
