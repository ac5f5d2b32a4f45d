/* ctrd-storage-checkout.c: hardlink checkouts of image commits, the
 * directories of containers and their overlay mounts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-storage-private.h"
#include "ctrd-util.h"

/* ------------------------------------------------------------------ */
/* Checkouts */

char *
ctrd_storage_ensure_checkout (CtrdStorage *storage, const char *commit, GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tmp_path = NULL;
  g_autofree char *tmp_name = NULL;
  OstreeRepoCheckoutAtOptions options = { 0 };
  struct stat st;
  ctrd_autofd int tmp_dfd = -1;

  if (!storage_check_hex_id (commit, "an OSTree commit checksum", error))
    return NULL;

  path = g_build_filename (storage->checkouts_path, commit, NULL);

  /* A checkout appears by rename, complete: finding one needs no lock, so
   * containers of known images never wait behind a long import. */
  if (fstatat (storage->checkouts_dfd, commit, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR (st.st_mode))
    return g_steal_pointer (&path);

  locker = g_mutex_locker_new (&storage->repo_lock);
  if (fstatat (storage->checkouts_dfd, commit, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return g_steal_pointer (&path);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s is not a directory", path);
      return NULL;
    }

  if (!ostree_repo_load_commit (storage->repo, commit, NULL, NULL, &local_error))
    {
      g_autofree char *prefix = g_strdup_printf ("Image commit %s", commit);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
                                      prefix);
          return NULL;
        }
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  prefix);
      return NULL;
    }

  /* Into a locked temporary directory, then one rename: a half-made checkout
   * is never seen under its final name, and a crash leaves only .tmp-*. */
  tmp_path = g_build_filename (storage->checkouts_path, CHECKOUT_TMP_PREFIX "XXXXXX", NULL);
  if (g_mkdtemp_full (tmp_path, 0700) == NULL)
    {
      ctrd_throw_errno (error, "Creating %s", tmp_path);
      return NULL;
    }
  tmp_name = g_path_get_basename (tmp_path);
  tmp_dfd =
      openat (storage->checkouts_dfd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_dfd < 0)
    {
      int errsv = errno;
      (void) unlinkat (storage->checkouts_dfd, tmp_name, AT_REMOVEDIR);
      errno = errsv;
      ctrd_throw_errno (error, "Opening %s", tmp_path);
      return NULL;
    }
  (void) flock (tmp_dfd, LOCK_EX);

  /* Hardlinks only: the checkout shares inodes with the repo, which is what
   * makes creating a container copy no file. */
  options.mode = OSTREE_REPO_CHECKOUT_MODE_NONE;
  options.overwrite_mode = OSTREE_REPO_CHECKOUT_OVERWRITE_NONE;
  options.no_copy_fallback = TRUE;
  if (!ostree_repo_checkout_at (storage->repo, &options, tmp_dfd, "rootfs", commit, cancellable,
                                &local_error))
    {
      g_autoptr (GError) cleanup_error = NULL;
      g_autofree char *prefix = g_strdup_printf ("Checking out image commit %s", commit);

      if (!ctrd_remove_tree_at (storage->checkouts_dfd, tmp_name, tmp_path, NULL, &cleanup_error))
        g_warning ("%s", cleanup_error->message);
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  prefix);
      return NULL;
    }

  /* Links are metadata: make them durable before the name says "complete". */
  if (syncfs (tmp_dfd) < 0)
    g_debug ("syncfs on %s: %s", tmp_path, g_strerror (errno));
  if (renameat (tmp_dfd, "rootfs", storage->checkouts_dfd, commit) < 0)
    {
      int errsv = errno;
      g_autoptr (GError) cleanup_error = NULL;

      if (!ctrd_remove_tree_at (storage->checkouts_dfd, tmp_name, tmp_path, NULL, &cleanup_error))
        g_warning ("%s", cleanup_error->message);
      errno = errsv;
      ctrd_throw_errno (error, "Renaming checkout to %s", path);
      return NULL;
    }
  (void) unlinkat (storage->checkouts_dfd, tmp_name, AT_REMOVEDIR);
  return g_steal_pointer (&path);
}

gboolean
ctrd_storage_remove_checkout (CtrdStorage *storage, const char *commit, GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autofree char *path = NULL;

  if (!storage_check_hex_id (commit, "an OSTree commit checksum", error))
    return FALSE;
  locker = g_mutex_locker_new (&storage->repo_lock);
  path = g_build_filename (storage->checkouts_path, commit, NULL);
  return ctrd_remove_tree_at (storage->checkouts_dfd, commit, path, cancellable, error);
}
/* ------------------------------------------------------------------ */
/* Mounts */

typedef struct
{
  char *mount_point;
  char *fstype;
  char *super_options;
} MountEntry;

static void
mount_entry_free (MountEntry *entry)
{
  g_free (entry->mount_point);
  g_free (entry->fstype);
  g_free (entry->super_options);
  g_free (entry);
}

/* The kernel writes space, tab, newline and backslash as \ooo. */
static char *
unescape_mountinfo (const char *field)
{
  GString *out = g_string_sized_new (strlen (field));

  for (const char *p = field; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
          p[3] <= '7')
        {
          g_string_append_c (out,
                             (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0')));
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static GPtrArray *
read_mountinfo (GError **error)
{
  g_autoptr (GPtrArray) entries =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mount_entry_free);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (fields);
      guint sep;
      MountEntry *entry;

      /* id parent major:minor root mount-point options [optional...] - type source super */
      for (sep = 6; sep < n && strcmp (fields[sep], "-") != 0; sep++)
        ;
      if (sep + 3 >= n)
        continue;
      entry = g_new0 (MountEntry, 1);
      entry->mount_point = unescape_mountinfo (fields[4]);
      entry->fstype = unescape_mountinfo (fields[sep + 1]);
      entry->super_options = g_strdup (fields[sep + 3]);
      g_ptr_array_add (entries, entry);
    }
  return g_steal_pointer (&entries);
}

/* @path as mountinfo spells it: symlinks resolved where it exists. */
static char *
canonical_path (const char *path)
{
  char *resolved = realpath (path, NULL);
  char *ret;

  if (resolved == NULL)
    return g_canonicalize_filename (path, "/");
  ret = g_strdup (resolved);
  free (resolved);
  return ret;
}

gboolean
ctrd_storage_is_mounted (const char *path)
{
  g_autoptr (GPtrArray) entries = read_mountinfo (NULL);
  g_autofree char *canonical = canonical_path (path);

  if (entries == NULL)
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    if (strcmp (((MountEntry *) entries->pdata[i])->mount_point, canonical) == 0)
      return TRUE;
  return FALSE;
}

gboolean
storage_path_is_at_or_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* A mount point inside @dir, or an overlay whose upper or work directory is
 * inside it (the container's rootfs mount lives in the run root). */
static char *
find_mount_using (const char *dir)
{
  g_autoptr (GPtrArray) entries = read_mountinfo (NULL);

  if (entries == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      MountEntry *entry = entries->pdata[i];
      g_auto (GStrv) options = NULL;

      if (storage_path_is_at_or_under (entry->mount_point, dir))
        return g_strdup (entry->mount_point);
      if (strcmp (entry->fstype, "overlay") != 0)
        continue;
      options = g_strsplit (entry->super_options, ",", -1);
      for (guint j = 0; options[j] != NULL; j++)
        {
          g_autofree char *value = NULL;

          if (!g_str_has_prefix (options[j], "upperdir=") &&
              !g_str_has_prefix (options[j], "workdir="))
            continue;
          value = unescape_mountinfo (strchr (options[j], '=') + 1);
          if (storage_path_is_at_or_under (value, dir))
            return g_strdup (entry->mount_point);
        }
    }
  return NULL;
}

char *
ctrd_storage_container_dir (CtrdStorage *storage, const char *id)
{
  g_return_val_if_fail (ctrd_is_full_id (id), NULL);
  return g_build_filename (storage->containers_path, id, NULL);
}

gboolean
ctrd_storage_create_container_dirs (CtrdStorage *storage, const char *id, GError **error)
{
  g_autofree char *path = NULL;
  ctrd_autofd int dfd = -1;

  if (!storage_check_hex_id (id, "a container ID", error))
    return FALSE;
  path = ctrd_storage_container_dir (storage, id);

  if (mkdirat (storage->containers_dfd, id, 0700) < 0)
    return ctrd_throw_errno (error, "Creating container directory %s", path);
  dfd = openat (storage->containers_dfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return ctrd_throw_errno (error, "Opening %s", path);
  /* upper/ becomes the container's "/" (see mount_rootfs), so 0755 like
   * most images; containers/<ID> is 0700, which keeps host users out. */
  if (mkdirat (dfd, "upper", 0755) < 0 || mkdirat (dfd, "work", 0700) < 0)
    return ctrd_throw_errno (error, "Creating the overlay directories in %s", path);
  return TRUE;
}

static gboolean
check_overlay_option_path (const char *what, const char *path, GError **error)
{
  /* Separators of the overlay option string; our paths never have them. */
  if (g_path_is_absolute (path) && strpbrk (path, ",:\\\n") == NULL)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "The %s path %s cannot be used for an overlay mount", what, path);
  return FALSE;
}

/* An overlay's "/" takes owner and mode from upper/: until the container
 * writes there, upper/ must look like the image's root, or an image whose "/"
 * is not 0755 root would change under the container. */
static gboolean
match_fresh_upper_to_lower (const char *upper, const char *lower, GError **error)
{
  struct stat lower_st, upper_st;
  g_autoptr (GPtrArray) names = NULL;
  ctrd_autofd int fd = -1;

  if (stat (lower, &lower_st) < 0)
    return ctrd_throw_errno (error, "Reading %s", lower);
  fd = open (upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ctrd_throw_errno (error, "Opening %s", upper);
  if (fstat (fd, &upper_st) < 0)
    return ctrd_throw_errno (error, "Reading %s", upper);
  /* Unreadable counts as empty: the mount itself will say what is wrong. */
  names = ctrd_list_dir_at (fd, upper, NULL);
  if (names != NULL && names->len > 0)
    return TRUE;

  if ((upper_st.st_mode & 07777) != (lower_st.st_mode & 07777) ||
      upper_st.st_uid != lower_st.st_uid || upper_st.st_gid != lower_st.st_gid)
    {
      if (fchown (fd, lower_st.st_uid, lower_st.st_gid) < 0 ||
          fchmod (fd, lower_st.st_mode & 07777) < 0)
        return ctrd_throw_errno (error, "Setting up %s", upper);
    }
  return TRUE;
}

gboolean
ctrd_storage_mount_rootfs (CtrdStorage *storage, const char *id, const char *lower_dir,
                           const char *mountpoint, GError **error)
{
  g_autofree char *container_dir = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *work = NULL;
  g_autofree char *options = NULL;

  if (!storage_check_hex_id (id, "a container ID", error))
    return FALSE;
  container_dir = ctrd_storage_container_dir (storage, id);
  upper = g_build_filename (container_dir, "upper", NULL);
  work = g_build_filename (container_dir, "work", NULL);
  if (!check_overlay_option_path ("image", lower_dir, error) ||
      !check_overlay_option_path ("container", container_dir, error) ||
      !check_overlay_option_path ("mount point", mountpoint, error))
    return FALSE;

  if (ctrd_storage_is_mounted (mountpoint))
    return TRUE;
  if (g_mkdir_with_parents (mountpoint, 0700) < 0)
    return ctrd_throw_errno (error, "Creating mount point %s", mountpoint);
  if (!match_fresh_upper_to_lower (upper, lower_dir, error))
    return FALSE;

  options = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s", lower_dir, upper, work);
  /* nodev: device nodes come from the runtime's /dev, never from the rootfs. */
  if (mount ("overlay", mountpoint, "overlay", MS_NODEV, options) < 0)
    return ctrd_throw_errno (error, "Mounting the root filesystem of container %s at %s", id,
                             mountpoint);
  return TRUE;
}

gboolean
ctrd_storage_unmount_rootfs (const char *mountpoint, GError **error)
{
  /* Stacked mounts at one path come off one at a time. */
  for (guint attempt = 0; attempt < 16; attempt++)
    {
      if (umount2 (mountpoint, UMOUNT_NOFOLLOW) < 0)
        {
          if (errno == EINVAL || errno == ENOENT)
            return TRUE; /* not (or no longer) a mount point */
          if (errno != EBUSY)
            return ctrd_throw_errno (error, "Unmounting %s", mountpoint);
          /* Busy (a process still inside): detach now, the kernel frees it
           * when the last user goes. */
          if (umount2 (mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
            return ctrd_throw_errno (error, "Unmounting %s lazily", mountpoint);
        }
      if (!ctrd_storage_is_mounted (mountpoint))
        return TRUE;
    }
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s stays mounted", mountpoint);
  return FALSE;
}

gboolean
ctrd_storage_remove_container_dirs (CtrdStorage *storage, const char *id, GCancellable *cancellable,
                                    GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *mount_point = NULL;

  if (!storage_check_hex_id (id, "a container ID", error))
    return FALSE;
  path = ctrd_storage_container_dir (storage, id);

  mount_point = find_mount_using (path);
  if (mount_point != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Cannot remove the directory of container %s: %s is still mounted from it", id,
                   mount_point);
      return FALSE;
    }
  return ctrd_remove_tree_at (storage->containers_dfd, id, path, cancellable, error);
}
