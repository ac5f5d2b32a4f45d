/* ctrd-volumes.c: named and anonymous volumes under the storage root.
 *
 * The image content copied into a new volume is untrusted: the copy walks it
 * with *at() calls from directory fds and O_NOFOLLOW, so a symlink in the
 * image is copied as a symlink and never leads the daemon outside. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-files.h"
#include "ctrd-mounts.h"
#include "ctrd-util.h"
#include "ctrd-volumes.h"

#define MAX_COPY_DEPTH 256
#define DATA_DIR "_data"

struct _CtrdVolumes
{
  char *dir;
  int dfd;
};

CtrdVolumes *
ctrd_volumes_new (const char *storage_root, GError **error)
{
  g_autofree char *dir = g_build_filename (storage_root, "volumes", NULL);
  CtrdVolumes *volumes;
  ctrd_autofd int dfd = -1;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      ctrd_throw_errno (error, "Cannot create %s", dir);
      return NULL;
    }
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    {
      ctrd_throw_errno (error, "Cannot open %s", dir);
      return NULL;
    }
  /* exact, whatever an older run or the umask left */
  if (fchmod (dfd, 0700) != 0)
    {
      ctrd_throw_errno (error, "Cannot set the mode of %s", dir);
      return NULL;
    }
  volumes = g_new0 (CtrdVolumes, 1);
  volumes->dir = g_steal_pointer (&dir);
  volumes->dfd = ctrd_steal_fd (&dfd);
  return volumes;
}

void
ctrd_volumes_free (CtrdVolumes *volumes)
{
  if (volumes == NULL)
    return;
  ctrd_close_fd (&volumes->dfd);
  g_free (volumes->dir);
  g_free (volumes);
}

const char *
ctrd_volumes_get_dir (CtrdVolumes *volumes)
{
  return volumes->dir;
}

gboolean
ctrd_volumes_exists (CtrdVolumes *volumes, const char *name)
{
  struct stat st;

  return ctrd_volume_validate_name (name, NULL) &&
         fstatat (volumes->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

/* Calls @func (dfd, name, user_data) for every entry of the directory @dfd
 * but "." and "..", in name order; stops at the first FALSE. The listing is
 * read first, so @func may change the directory. */
typedef gboolean (*EntryFunc) (int dfd, const char *name, gpointer user_data, GError **error);

static gboolean
for_each_entry (int dfd, const char *what, EntryFunc func, gpointer user_data, GError **error)
{
  g_autoptr (GPtrArray) names = ctrd_list_dir_at (dfd, what, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    if (!func (dfd, g_ptr_array_index (names, i), user_data, error))
      return FALSE;
  return TRUE;
}

static gboolean
collect_volume_name (int dfd, const char *name, gpointer user_data, GError **error)
{
  struct stat st;

  /* temporary and half-removed volumes start with '.' and are not listed */
  if (ctrd_volume_validate_name (name, NULL) &&
      fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    g_ptr_array_add (user_data, g_strdup (name));
  return TRUE;
}

char **
ctrd_volumes_list (CtrdVolumes *volumes, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  /* the listing is sorted already */
  if (!for_each_entry (volumes->dfd, volumes->dir, collect_volume_name, names, error))
    return NULL;
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* ------------------------------------------------------------ copying */

typedef struct
{
  int dst_dfd;
  guint depth;
  GCancellable *cancellable;
} CopyContext;

static gboolean copy_entry (int src_dfd, const char *name, gpointer user_data, GError **error);

/* Owner first: chown clears the setuid/setgid bits that chmod then restores. */
static gboolean
copy_metadata_fd (int fd, const struct stat *st, const char *name, GError **error)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (fchown (fd, st->st_uid, st->st_gid) != 0 || fchmod (fd, st->st_mode & 07777) != 0 ||
      futimens (fd, times) != 0)
    return ctrd_throw_errno (error, "Cannot copy the attributes of %s", name);
  return TRUE;
}

static gboolean
copy_file_data (int src_fd, int dst_fd, const char *name, GError **error)
{
  char buffer[65536];

  for (;;)
    {
      ssize_t n = copy_file_range (src_fd, NULL, dst_fd, NULL, 1 << 30, 0);

      if (n == 0)
        return TRUE;
      if (n > 0)
        continue;
      if (errno == EINTR)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return ctrd_throw_errno (error, "Cannot copy %s", name);
      break;
    }
  /* a file system pair copy_file_range does not handle */
  for (;;)
    {
      ssize_t n = read (src_fd, buffer, sizeof buffer);
      ssize_t done = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ctrd_throw_errno (error, "Cannot read %s", name);
      if (n == 0)
        return TRUE;
      while (done < n)
        {
          ssize_t w = write (dst_fd, buffer + done, n - done);

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return ctrd_throw_errno (error, "Cannot write %s", name);
          done += w;
        }
    }
}

static gboolean
copy_regular (int src_dfd, const char *name, const struct stat *st, int dst_dfd, GError **error)
{
  struct stat opened;
  ctrd_autofd int src_fd = -1;
  ctrd_autofd int dst_fd = -1;

  src_fd = openat (src_dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (src_fd < 0)
    return ctrd_throw_errno (error, "Cannot open %s", name);
  /* replaced between the listing and the open: copy nothing we did not see */
  if (fstat (src_fd, &opened) != 0 || !S_ISREG (opened.st_mode) || opened.st_ino != st->st_ino)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s changed while being copied",
                   name);
      return FALSE;
    }
  dst_fd = openat (dst_dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst_fd < 0)
    return ctrd_throw_errno (error, "Cannot create %s", name);
  return copy_file_data (src_fd, dst_fd, name, error) &&
         copy_metadata_fd (dst_fd, &opened, name, error);
}

static gboolean
copy_symlink (int src_dfd, const char *name, const struct stat *st, int dst_dfd, GError **error)
{
  g_autofree char *target = g_malloc (PATH_MAX + 1);
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  ssize_t len = readlinkat (src_dfd, name, target, PATH_MAX);

  if (len < 0)
    return ctrd_throw_errno (error, "Cannot read the link %s", name);
  target[len] = '\0';
  if (symlinkat (target, dst_dfd, name) != 0 ||
      fchownat (dst_dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) != 0 ||
      utimensat (dst_dfd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
    return ctrd_throw_errno (error, "Cannot copy the link %s", name);
  return TRUE;
}

static gboolean
copy_directory (int src_dfd, const char *name, const struct stat *st, CopyContext *ctx,
                GError **error)
{
  CopyContext child = { -1, ctx->depth + 1, ctx->cancellable };
  ctrd_autofd int src_fd = -1;
  ctrd_autofd int dst_fd = -1;

  if (child.depth > MAX_COPY_DEPTH)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "The image directory is more than %d levels deep", MAX_COPY_DEPTH);
      return FALSE;
    }
  if (mkdirat (ctx->dst_dfd, name, 0700) != 0)
    return ctrd_throw_errno (error, "Cannot create the directory %s", name);
  src_fd = openat (src_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src_fd < 0)
    return ctrd_throw_errno (error, "Cannot open the directory %s", name);
  dst_fd = openat (ctx->dst_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst_fd < 0)
    return ctrd_throw_errno (error, "Cannot open the directory %s", name);
  child.dst_dfd = dst_fd;
  return for_each_entry (src_fd, name, copy_entry, &child, error) &&
         copy_metadata_fd (dst_fd, st, name, error);
}

static gboolean
copy_entry (int src_dfd, const char *name, gpointer user_data, GError **error)
{
  CopyContext *ctx = user_data;
  struct stat st;

  if (g_cancellable_set_error_if_cancelled (ctx->cancellable, error))
    return FALSE;
  if (fstatat (src_dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return ctrd_throw_errno (error, "Cannot stat %s", name);

  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      return copy_directory (src_dfd, name, &st, ctx, error);
    case S_IFREG:
      return copy_regular (src_dfd, name, &st, ctx->dst_dfd, error);
    case S_IFLNK:
      return copy_symlink (src_dfd, name, &st, ctx->dst_dfd, error);
    case S_IFIFO:
      if (mknodat (ctx->dst_dfd, name, S_IFIFO | 0600, 0) != 0 ||
          fchownat (ctx->dst_dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 ||
          fchmodat (ctx->dst_dfd, name, st.st_mode & 07777, 0) != 0)
        return ctrd_throw_errno (error, "Cannot copy the FIFO %s", name);
      return TRUE;
    default:
      /* device nodes and sockets: the image import drops them too */
      g_message ("Volume copy: skipping %s (not a file, directory, link or FIFO)", name);
      return TRUE;
    }
}

/* ------------------------------------------------------------ removing */

gboolean
ctrd_volumes_remove (CtrdVolumes *volumes, const char *name, GCancellable *cancellable,
                     GError **error)
{
  g_autofree char *doomed = NULL;
  g_autofree char *random_id = ctrd_generate_id ();

  if (!ctrd_volume_validate_name (name, error))
    return FALSE;
  if (!ctrd_volumes_exists (volumes, name))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Volume “%s” does not exist", name);
      return FALSE;
    }
  /* out of sight first, so a half-removed volume is never used again */
  doomed = g_strdup_printf (".removing-%.16s", random_id);
  if (renameat (volumes->dfd, name, volumes->dfd, doomed) != 0)
    return ctrd_throw_errno (error, "Cannot remove the volume “%s”", name);
  if (!ctrd_remove_tree_at (volumes->dfd, doomed, doomed, cancellable, error))
    {
      g_prefix_error (error, "Removing the volume “%s”: ", name);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------ making */

/* Fills @data_fd from the directory @image_path of @image_root; without one,
 * gives it the mode 0755 and owner @uid:@gid (the seed's addLocalVolumes). */
static gboolean
populate_volume (int data_fd, const char *image_root, const char *image_path, guint32 uid,
                 guint32 gid, GCancellable *cancellable, GError **error)
{
  CopyContext ctx = { data_fd, 0, cancellable };
  struct stat st;
  ctrd_autofd int src_fd = -1;

  if (image_root != NULL)
    {
      ctrd_autofd int root_dfd = open (image_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      if (root_dfd < 0)
        return ctrd_throw_errno (error, "Cannot open the image root %s", image_root);
      src_fd = ctrd_files_open_in_root (root_dfd, image_path, O_RDONLY | O_DIRECTORY);
      if (src_fd < 0 && errno != ENOENT && errno != ENOTDIR)
        return ctrd_throw_errno (error, "Cannot open %s in the image", image_path);
    }
  if (src_fd < 0)
    {
      if (fchown (data_fd, uid, gid) != 0 || fchmod (data_fd, 0755) != 0)
        return ctrd_throw_errno (error, "Cannot set the owner of a new volume");
      return TRUE;
    }
  if (fstat (src_fd, &st) != 0)
    return ctrd_throw_errno (error, "Cannot stat %s in the image", image_path);
  return for_each_entry (src_fd, image_path, copy_entry, &ctx, error) &&
         copy_metadata_fd (data_fd, &st, image_path, error);
}

/* Makes volumes/@tmp_name/_data and fills it. */
static gboolean
make_volume_at (CtrdVolumes *volumes, const char *tmp_name, const char *image_root,
                const char *image_path, guint32 uid, guint32 gid, GCancellable *cancellable,
                GError **error)
{
  ctrd_autofd int tmp_fd = -1;
  ctrd_autofd int data_fd = -1;

  if (mkdirat (volumes->dfd, tmp_name, 0700) != 0)
    return ctrd_throw_errno (error, "Cannot create %s/%s", volumes->dir, tmp_name);
  tmp_fd = openat (volumes->dfd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_fd < 0)
    return ctrd_throw_errno (error, "Cannot open %s/%s", volumes->dir, tmp_name);
  if (mkdirat (tmp_fd, DATA_DIR, 0700) != 0 ||
      (data_fd = openat (tmp_fd, DATA_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return ctrd_throw_errno (error, "Cannot create %s/%s/" DATA_DIR, volumes->dir, tmp_name);
  ctrd_close_fd (&tmp_fd);
  return populate_volume (data_fd, image_root, image_path, uid, gid, cancellable, error);
}

char *
ctrd_volumes_ensure (CtrdVolumes *volumes, const char *name, const char *image_root,
                     const char *image_path, guint32 uid, guint32 gid, gboolean *out_created,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *random_id = NULL;
  g_autofree char *tmp_name = NULL;
  gboolean created = TRUE;

  if (out_created != NULL)
    *out_created = FALSE;
  if (!ctrd_volume_validate_name (name, error))
    return NULL;
  if (image_path == NULL || !g_path_is_absolute (image_path))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Volume “%s”: the image path must be absolute", name);
      return NULL;
    }
  if (ctrd_volumes_exists (volumes, name))
    return g_build_filename (volumes->dir, name, DATA_DIR, NULL);

  random_id = ctrd_generate_id ();
  tmp_name = g_strdup_printf (".tmp-%.16s", random_id);
  if (make_volume_at (volumes, tmp_name, image_root, image_path, uid, gid, cancellable,
                      &local_error) &&
      renameat2 (volumes->dfd, tmp_name, volumes->dfd, name, RENAME_NOREPLACE) != 0)
    {
      /* made by someone else meanwhile: theirs it is */
      if (errno == EEXIST && ctrd_volumes_exists (volumes, name))
        created = FALSE;
      else
        ctrd_throw_errno (&local_error, "Cannot move it into place");
    }
  if (local_error != NULL || !created)
    {
      g_autoptr (GError) cleanup_error = NULL;

      if (!ctrd_remove_tree_at (volumes->dfd, tmp_name, tmp_name, NULL, &cleanup_error))
        g_warning ("Volume “%s”: %s", name, cleanup_error->message);
    }
  if (local_error != NULL)
    {
      ctrd_error_normalize (&local_error, CTRD_ERROR_STORAGE_ERROR);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "Volume “%s”: ", name);
      return NULL;
    }
  if (out_created != NULL)
    *out_created = created;
  return g_build_filename (volumes->dir, name, DATA_DIR, NULL);
}

CtrdMount *
ctrd_volumes_prepare_mount (CtrdVolumes *volumes, const CtrdMount *mount, const char *image_root,
                            guint32 uid, guint32 gid, GCancellable *cancellable, GError **error)
{
  g_autofree char *data_dir = NULL;

  if (mount->type != CTRD_MOUNT_VOLUME)
    return ctrd_mount_copy (mount);
  data_dir = ctrd_volumes_ensure (volumes, mount->source, image_root, mount->destination, uid, gid,
                                  NULL, cancellable, error);
  if (data_dir == NULL)
    return NULL;
  return ctrd_mount_new (CTRD_MOUNT_BIND, data_dir, mount->destination, mount->read_only,
                         (const char *const *) mount->options);
}
