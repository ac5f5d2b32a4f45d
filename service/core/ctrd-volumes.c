/* ctrd-volumes.c: named and anonymous volumes under the storage root.
 *
 * The image content copied into a new volume is untrusted: the copy walks it
 * with *at() calls from directory fds and O_NOFOLLOW, so a symlink in the
 * image is copied as a symlink and never leads the daemon outside. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
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

static gboolean set_errno_error (GError **error, int errsv, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
set_errno_error (GError **error, int errsv, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s: %s", message, g_strerror (errsv));
  return FALSE;
}

CtrdVolumes *
ctrd_volumes_new (const char *storage_root, GError **error)
{
  g_autofree char *dir = g_build_filename (storage_root, "volumes", NULL);
  CtrdVolumes *volumes;
  int dfd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_errno_error (error, errno, "Cannot create %s", dir);
      return NULL;
    }
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    {
      set_errno_error (error, errno, "Cannot open %s", dir);
      return NULL;
    }
  /* exact, whatever an older run or the umask left */
  if (fchmod (dfd, 0700) != 0)
    {
      set_errno_error (error, errno, "Cannot set the mode of %s", dir);
      close (dfd);
      return NULL;
    }
  volumes = g_new0 (CtrdVolumes, 1);
  volumes->dir = g_steal_pointer (&dir);
  volumes->dfd = dfd;
  return volumes;
}

void
ctrd_volumes_free (CtrdVolumes *volumes)
{
  if (volumes == NULL)
    return;
  if (volumes->dfd >= 0)
    close (volumes->dfd);
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

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Calls @func (dfd, name, user_data) for every entry of the directory @dfd
 * but "." and ".."; stops at the first FALSE. The listing is read first, so
 * @func may change the directory. */
typedef gboolean (*EntryFunc) (int dfd, const char *name, gpointer user_data, GError **error);

static gboolean
for_each_entry (int dfd, const char *what, EntryFunc func, gpointer user_data, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int list_fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = list_fd >= 0 ? fdopendir (list_fd) : NULL;
  struct dirent *entry;

  if (dir == NULL)
    {
      int saved_errno = errno;
      if (list_fd >= 0)
        close (list_fd);
      return set_errno_error (error, saved_errno, "Cannot list %s", what);
    }
  errno = 0;
  while ((entry = readdir (dir)) != NULL)
    {
      if (!g_str_equal (entry->d_name, ".") && !g_str_equal (entry->d_name, ".."))
        g_ptr_array_add (names, g_strdup (entry->d_name));
      errno = 0;
    }
  if (errno != 0)
    {
      int saved_errno = errno;
      closedir (dir);
      return set_errno_error (error, saved_errno, "Cannot list %s", what);
    }
  closedir (dir);

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

  if (!for_each_entry (volumes->dfd, volumes->dir, collect_volume_name, names, error))
    return NULL;
  g_ptr_array_sort (names, compare_strings);
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
    return set_errno_error (error, errno, "Cannot copy the attributes of %s", name);
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
        return set_errno_error (error, errno, "Cannot copy %s", name);
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
        return set_errno_error (error, errno, "Cannot read %s", name);
      if (n == 0)
        return TRUE;
      while (done < n)
        {
          ssize_t w = write (dst_fd, buffer + done, n - done);

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return set_errno_error (error, errno, "Cannot write %s", name);
          done += w;
        }
    }
}

static gboolean
copy_regular (int src_dfd, const char *name, const struct stat *st, int dst_dfd, GError **error)
{
  struct stat opened;
  int src_fd;
  int dst_fd;
  gboolean ok;

  src_fd = openat (src_dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (src_fd < 0)
    return set_errno_error (error, errno, "Cannot open %s", name);
  /* replaced between the listing and the open: copy nothing we did not see */
  if (fstat (src_fd, &opened) != 0 || !S_ISREG (opened.st_mode) || opened.st_ino != st->st_ino)
    {
      close (src_fd);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s changed while being copied",
                   name);
      return FALSE;
    }
  dst_fd = openat (dst_dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst_fd < 0)
    {
      int saved_errno = errno;
      close (src_fd);
      return set_errno_error (error, saved_errno, "Cannot create %s", name);
    }
  ok = copy_file_data (src_fd, dst_fd, name, error) &&
       copy_metadata_fd (dst_fd, &opened, name, error);
  close (src_fd);
  close (dst_fd);
  return ok;
}

static gboolean
copy_symlink (int src_dfd, const char *name, const struct stat *st, int dst_dfd, GError **error)
{
  g_autofree char *target = g_malloc (PATH_MAX + 1);
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  ssize_t len = readlinkat (src_dfd, name, target, PATH_MAX);

  if (len < 0)
    return set_errno_error (error, errno, "Cannot read the link %s", name);
  target[len] = '\0';
  if (symlinkat (target, dst_dfd, name) != 0 ||
      fchownat (dst_dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) != 0 ||
      utimensat (dst_dfd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
    return set_errno_error (error, errno, "Cannot copy the link %s", name);
  return TRUE;
}

static gboolean
copy_directory (int src_dfd, const char *name, const struct stat *st, CopyContext *ctx,
                GError **error)
{
  CopyContext child = { -1, ctx->depth + 1, ctx->cancellable };
  int src_fd;
  gboolean ok;

  if (child.depth > MAX_COPY_DEPTH)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "The image directory is more than %d levels deep", MAX_COPY_DEPTH);
      return FALSE;
    }
  if (mkdirat (ctx->dst_dfd, name, 0700) != 0)
    return set_errno_error (error, errno, "Cannot create the directory %s", name);
  src_fd = openat (src_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src_fd < 0)
    return set_errno_error (error, errno, "Cannot open the directory %s", name);
  child.dst_dfd = openat (ctx->dst_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (child.dst_dfd < 0)
    {
      int saved_errno = errno;
      close (src_fd);
      return set_errno_error (error, saved_errno, "Cannot open the directory %s", name);
    }
  ok = for_each_entry (src_fd, name, copy_entry, &child, error) &&
       copy_metadata_fd (child.dst_dfd, st, name, error);
  close (src_fd);
  close (child.dst_dfd);
  return ok;
}

static gboolean
copy_entry (int src_dfd, const char *name, gpointer user_data, GError **error)
{
  CopyContext *ctx = user_data;
  struct stat st;

  if (g_cancellable_set_error_if_cancelled (ctx->cancellable, error))
    return FALSE;
  if (fstatat (src_dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return set_errno_error (error, errno, "Cannot stat %s", name);

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
        return set_errno_error (error, errno, "Cannot copy the FIFO %s", name);
      return TRUE;
    default:
      /* device nodes and sockets: the image import drops them too */
      g_message ("Volume copy: skipping %s (not a file, directory, link or FIFO)", name);
      return TRUE;
    }
}

/* ------------------------------------------------------------ removing */

static gboolean remove_entry (int dfd, const char *name, gpointer user_data, GError **error);

static gboolean
remove_entry (int dfd, const char *name, gpointer user_data, GError **error)
{
  const struct stat *parent = user_data;
  struct stat st;
  int child_fd;
  gboolean ok;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? TRUE : set_errno_error (error, errno, "Cannot stat %s", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dfd, name, 0) != 0 && errno != ENOENT)
        return set_errno_error (error, errno, "Cannot remove %s", name);
      return TRUE;
    }
  /* something mounted inside a volume is not ours to delete */
  if (st.st_dev != parent->st_dev)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "%s is a mount point; not removing it", name);
      return FALSE;
    }
  child_fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (child_fd < 0)
    return set_errno_error (error, errno, "Cannot open %s", name);
  ok = for_each_entry (child_fd, name, remove_entry, &st, error);
  close (child_fd);
  if (ok && unlinkat (dfd, name, AT_REMOVEDIR) != 0)
    return set_errno_error (error, errno, "Cannot remove %s", name);
  return ok;
}

static gboolean
remove_tree (int parent_dfd, const char *name, GError **error)
{
  struct stat parent;

  if (fstat (parent_dfd, &parent) != 0)
    return set_errno_error (error, errno, "Cannot stat the volumes directory");
  return remove_entry (parent_dfd, name, &parent, error);
}

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
    return set_errno_error (error, errno, "Cannot remove the volume “%s”", name);
  if (!remove_tree (volumes->dfd, doomed, error))
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
  int root_dfd = -1;
  int src_fd = -1;
  gboolean ok;

  if (image_root != NULL)
    {
      root_dfd = open (image_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (root_dfd < 0)
        return set_errno_error (error, errno, "Cannot open the image root %s", image_root);
      src_fd = ctrd_files_open_in_root (root_dfd, image_path, O_RDONLY | O_DIRECTORY);
      close (root_dfd);
      if (src_fd < 0 && errno != ENOENT && errno != ENOTDIR)
        return set_errno_error (error, errno, "Cannot open %s in the image", image_path);
    }
  if (src_fd < 0)
    {
      if (fchown (data_fd, uid, gid) != 0 || fchmod (data_fd, 0755) != 0)
        return set_errno_error (error, errno, "Cannot set the owner of a new volume");
      return TRUE;
    }
  ok = fstat (src_fd, &st) == 0;
  if (!ok)
    set_errno_error (error, errno, "Cannot stat %s in the image", image_path);
  ok = ok && for_each_entry (src_fd, image_path, copy_entry, &ctx, error) &&
       copy_metadata_fd (data_fd, &st, image_path, error);
  close (src_fd);
  return ok;
}

/* Makes volumes/@tmp_name/_data and fills it. */
static gboolean
make_volume_at (CtrdVolumes *volumes, const char *tmp_name, const char *image_root,
                const char *image_path, guint32 uid, guint32 gid, GCancellable *cancellable,
                GError **error)
{
  int tmp_fd;
  int data_fd;
  gboolean ok;

  if (mkdirat (volumes->dfd, tmp_name, 0700) != 0)
    return set_errno_error (error, errno, "Cannot create %s/%s", volumes->dir, tmp_name);
  tmp_fd = openat (volumes->dfd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_fd < 0)
    return set_errno_error (error, errno, "Cannot open %s/%s", volumes->dir, tmp_name);
  if (mkdirat (tmp_fd, DATA_DIR, 0700) != 0 ||
      (data_fd = openat (tmp_fd, DATA_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      int saved_errno = errno;
      close (tmp_fd);
      return set_errno_error (error, saved_errno, "Cannot create %s/%s/" DATA_DIR, volumes->dir,
                              tmp_name);
    }
  close (tmp_fd);
  ok = populate_volume (data_fd, image_root, image_path, uid, gid, cancellable, error);
  close (data_fd);
  return ok;
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
        set_errno_error (&local_error, errno, "Cannot move it into place");
    }
  if (local_error != NULL || !created)
    {
      g_autoptr (GError) cleanup_error = NULL;

      if (!remove_tree (volumes->dfd, tmp_name, &cleanup_error))
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
