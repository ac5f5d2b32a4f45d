/* ctrd-fdio.c: the low-level fd toolkit: auto-closing fds, errno to GError,
 * write-all, directory listing, safe recursive removal, xattrs. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-fdio.h"

void
ctrd_close_fd (int *fdp)
{
  int errsv = errno;

  if (*fdp >= 0)
    (void) close (*fdp);
  *fdp = -1;
  errno = errsv;
}

static gboolean throw_errno_valist (GError **error, GQuark domain, int code, int errsv,
                                    const char *format, va_list args) G_GNUC_PRINTF (5, 0);

/* The one errno rule: "<prefix>: <strerror>", errno left as it was. */
static gboolean
throw_errno_valist (GError **error, GQuark domain, int code, int errsv, const char *format,
                    va_list args)
{
  g_autofree char *prefix = NULL;

  if (error != NULL)
    {
      prefix = g_strdup_vprintf (format, args);
      g_set_error (error, domain, code, "%s: %s", prefix, g_strerror (errsv));
    }
  errno = errsv;
  return FALSE;
}

gboolean
ctrd_throw_errno_code (GError **error, CtrdError code, const char *format, ...)
{
  int errsv = errno;
  va_list args;

  va_start (args, format);
  throw_errno_valist (error, CTRD_ERROR, code, errsv, format, args);
  va_end (args);
  return FALSE;
}

gboolean
ctrd_throw_errno_in (GError **error, GQuark domain, const char *format, ...)
{
  int errsv = errno;
  int code = CTRD_ERROR_STORAGE_ERROR;
  va_list args;

  if (domain == G_IO_ERROR)
    code = g_io_error_from_errno (errsv);
  else if (domain == G_FILE_ERROR)
    code = g_file_error_from_errno (errsv);
  else
    g_return_val_if_fail (domain == CTRD_ERROR, FALSE);
  va_start (args, format);
  throw_errno_valist (error, domain, code, errsv, format, args);
  va_end (args);
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Writing */

/* Waits until @fd takes bytes or @cancellable fires (then returns TRUE
 * too: the caller checks it). The cancellable's fd is only made when @fd is
 * not ready at once, which is the common case of a file or a quick reader. */
static gboolean
wait_writable (int fd, GCancellable *cancellable, GError **error)
{
  struct pollfd fds[2] = { { .fd = fd, .events = POLLOUT }, { .fd = -1, .events = POLLIN } };
  int r;

  do
    r = poll (fds, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r != 0)
    return r > 0 || ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Waiting to write the output");

  fds[1].fd = cancellable != NULL ? g_cancellable_get_fd (cancellable) : -1;
  do
    r = poll (fds, fds[1].fd >= 0 ? 2 : 1, -1);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Waiting to write the output");
  if (fds[1].fd >= 0)
    g_cancellable_release_fd (cancellable);
  return r >= 0;
}

/* Cancellation as G_IO_ERROR_CANCELLED, and errno ECANCELED. */
static gboolean
write_cancelled (GCancellable *cancellable, GError **error)
{
  if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  errno = ECANCELED;
  return TRUE;
}

gboolean
ctrd_fd_write_all (int fd, const void *data, gsize len, GCancellable *cancellable, GError **error)
{
  const guint8 *p = data;
  struct stat st;
  gboolean is_socket, is_pipe;

  if (fstat (fd, &st) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Writing the output");
  is_socket = S_ISSOCK (st.st_mode);
  is_pipe = S_ISFIFO (st.st_mode);

  while (len > 0)
    {
      gsize chunk = len;
      gssize n;

      if (write_cancelled (cancellable, error))
        return FALSE;
      if (!wait_writable (fd, cancellable, error))
        return FALSE;
      if (write_cancelled (cancellable, error))
        return FALSE;
      /* After POLLOUT a pipe takes PIPE_BUF bytes without blocking even when
       * the fd is in blocking mode (after POLLERR the write says EPIPE). */
      if (is_pipe)
        chunk = MIN (chunk, PIPE_BUF);
      if (is_socket)
        n = send (fd, p, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
      else
        n = write (fd, p, chunk);
      if (n > 0)
        {
          p += n;
          len -= n;
          continue;
        }
      if (n == 0)
        errno = EIO;
      if (errno == EINTR || errno == EAGAIN)
        continue;
      if (errno == EPIPE || errno == ECONNRESET)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                       "The reader closed its end of the output");
          errno = EPIPE;
          return FALSE;
        }
      return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Writing the output");
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Directories */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A DIR of its own on the directory open as @dfd: openat "." gives a new
 * open file description, so the caller's offset stays where it was. */
static DIR *
open_dir_stream (int dfd, const char *display, GError **error)
{
  ctrd_autofd int fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir;

  if (fd < 0)
    {
      ctrd_throw_errno (error, "Reading %s", display);
      return NULL;
    }
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      ctrd_throw_errno (error, "Reading %s", display);
      return NULL;
    }
  ctrd_steal_fd (&fd);
  return dir;
}

/* The next entry other than "." and "..", NULL at the end (errno 0) or on
 * an error (errno set). */
static struct dirent *
next_entry (DIR *dir)
{
  struct dirent *dent;

  do
    {
      errno = 0;
      dent = readdir (dir);
    }
  while (dent != NULL && (strcmp (dent->d_name, ".") == 0 || strcmp (dent->d_name, "..") == 0));
  return dent;
}

GPtrArray *
ctrd_list_dir_at (int dfd, const char *display, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *dir = open_dir_stream (dfd, display, error);
  struct dirent *dent;

  if (dir == NULL)
    return NULL;
  while ((dent = next_entry (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (dent->d_name));
  if (errno != 0)
    {
      ctrd_throw_errno (error, "Reading %s", display);
      closedir (dir);
      return NULL;
    }
  closedir (dir);
  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

/* ------------------------------------------------------------------ */
/* Removing trees without following symlinks or crossing mount points */

typedef struct
{
  char *name; /* in the parent directory */
  dev_t dev;
  ino_t ino;
  GPtrArray *subdirs; /* NULL until scanned */
} RemovalLevel;

static void
removal_level_free (RemovalLevel *level)
{
  g_free (level->name);
  if (level->subdirs != NULL)
    g_ptr_array_unref (level->subdirs);
  g_free (level);
}

static char *
removal_display_path (const char *top, GPtrArray *stack, const char *child)
{
  GString *path = g_string_new (top);

  for (guint i = 1; i < stack->len; i++)
    g_string_append_printf (path, "/%s", ((RemovalLevel *) stack->pdata[i])->name);
  if (child != NULL)
    g_string_append_printf (path, "/%s", child);
  return g_string_free (path, FALSE);
}

/* TRUE when the directory open as @fd is the root of another mount than
 * the tree's (@top_dev), or when that cannot be told; *@out_st is its stat. */
static gboolean
fd_is_mount_root (int fd, dev_t top_dev, struct stat *out_st)
{
  struct statx stx;

  if (fstat (fd, out_st) < 0)
    return TRUE; /* cannot tell: treat as foreign */
  if (out_st->st_dev != top_dev)
    return TRUE;
  /* A bind mount from the same filesystem keeps st_dev: ask the kernel. */
  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 &&
      (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0)
    return TRUE;
  return FALSE;
}

/* Unlinks every non-directory in @fd and returns the names of its
 * subdirectories (d_type saves a stat per entry where the filesystem has it). */
static GPtrArray *
scan_and_unlink_files (int fd, const char *display, GError **error)
{
  g_autoptr (GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_free);
  DIR *dir = open_dir_stream (fd, display, error);
  struct dirent *dent;

  if (dir == NULL)
    return NULL;
  while ((dent = next_entry (dir)) != NULL)
    {
      gboolean is_dir = dent->d_type == DT_DIR;

      if (dent->d_type == DT_UNKNOWN)
        {
          struct stat st;
          is_dir =
              fstatat (fd, dent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
        }
      if (is_dir)
        g_ptr_array_add (subdirs, g_strdup (dent->d_name));
      else if (unlinkat (fd, dent->d_name, 0) < 0 && errno != ENOENT)
        {
          ctrd_throw_errno (error, "Removing %s/%s", display, dent->d_name);
          closedir (dir);
          return NULL;
        }
    }
  if (errno != 0)
    {
      ctrd_throw_errno (error, "Reading %s", display);
      closedir (dir);
      return NULL;
    }
  closedir (dir);
  return g_steal_pointer (&subdirs);
}

static RemovalLevel *
removal_level_new (const char *name, const struct stat *st)
{
  RemovalLevel *level = g_new0 (RemovalLevel, 1);

  level->name = g_strdup (name);
  level->dev = st->st_dev;
  level->ino = st->st_ino;
  return level;
}

/* Goes down into the subdirectory @child_name of the directory open as *@fd
 * (then *@fd is the child and the child is on @stack), or removes what is
 * no directory any more. */
static gboolean
descend (int *fd, GPtrArray *stack, const char *display_top, dev_t top_dev, const char *child_name,
         GError **error)
{
  struct stat st;
  ctrd_autofd int child_fd =
      openat (*fd, child_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (child_fd < 0)
    {
      g_autofree char *display = NULL;
      int errsv;

      /* Gone, or swapped for a non-directory since the scan. */
      if (errno == ENOENT)
        return TRUE;
      if ((errno == ENOTDIR || errno == ELOOP) && unlinkat (*fd, child_name, 0) == 0)
        return TRUE;
      errsv = errno;
      display = removal_display_path (display_top, stack, child_name);
      errno = errsv;
      return ctrd_throw_errno (error, "Opening %s", display);
    }
  if (fd_is_mount_root (child_fd, top_dev, &st))
    {
      g_autofree char *display = removal_display_path (display_top, stack, child_name);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Refusing to remove %s: %s is a mount point", display_top, display);
      return FALSE;
    }
  g_ptr_array_add (stack, removal_level_new (child_name, &st));
  ctrd_close_fd (fd);
  *fd = ctrd_steal_fd (&child_fd);
  return TRUE;
}

/* Removes the empty directory on top of @stack (open as *@fd) and climbs
 * back to its parent, which must still be the directory we came from. */
static gboolean
ascend (int *fd, GPtrArray *stack, int parent_dfd, const char *display_top, GError **error)
{
  RemovalLevel *level = stack->pdata[stack->len - 1];
  RemovalLevel *parent;
  g_autofree char *display = NULL;
  ctrd_autofd int parent_fd = -1;
  struct stat st;

  if (stack->len == 1)
    {
      ctrd_close_fd (fd);
      if (unlinkat (parent_dfd, level->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return ctrd_throw_errno (error, "Removing %s", display_top);
      g_ptr_array_set_size (stack, 0);
      return TRUE;
    }

  parent = stack->pdata[stack->len - 2];
  display = removal_display_path (display_top, stack, NULL);
  parent_fd = openat (*fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ctrd_close_fd (fd);
  if (parent_fd < 0)
    return ctrd_throw_errno (error, "Opening parent of %s", display);
  if (fstat (parent_fd, &st) < 0 || st.st_dev != parent->dev || st.st_ino != parent->ino)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Removing %s: the tree changed while it was being removed", display_top);
      return FALSE;
    }
  if (unlinkat (parent_fd, level->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ctrd_throw_errno (error, "Removing %s", display);
  g_ptr_array_set_size (stack, stack->len - 1);
  *fd = ctrd_steal_fd (&parent_fd);
  return TRUE;
}

gboolean
ctrd_remove_tree_at (int parent_dfd, const char *name, const char *display_top,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) stack =
      g_ptr_array_new_with_free_func ((GDestroyNotify) removal_level_free);
  ctrd_autofd int fd = -1;
  struct stat st;
  dev_t top_dev;

  fd = openat (parent_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      if (errno != ENOTDIR && errno != ELOOP)
        return ctrd_throw_errno (error, "Opening %s", display_top);
      if (unlinkat (parent_dfd, name, 0) < 0 && errno != ENOENT)
        return ctrd_throw_errno (error, "Removing %s", display_top);
      return TRUE;
    }
  if (fstat (fd, &st) < 0)
    return ctrd_throw_errno (error, "Reading %s", display_top);
  top_dev = st.st_dev;
  if (fd_is_mount_root (fd, top_dev, &st))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "Refusing to remove %s: it is a mount point", display_top);
      return FALSE;
    }
  g_ptr_array_add (stack, removal_level_new (name, &st));

  while (stack->len > 0)
    {
      RemovalLevel *level = stack->pdata[stack->len - 1];

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
          return FALSE;
        }
      if (level->subdirs == NULL)
        {
          g_autofree char *display = removal_display_path (display_top, stack, NULL);

          level->subdirs = scan_and_unlink_files (fd, display, error);
          if (level->subdirs == NULL)
            return FALSE;
        }
      if (level->subdirs->len > 0)
        {
          g_autofree char *child_name =
              g_ptr_array_steal_index_fast (level->subdirs, level->subdirs->len - 1);

          if (!descend (&fd, stack, display_top, top_dev, child_name, error))
            return FALSE;
          continue;
        }
      /* @level is empty now: remove it from its parent. */
      if (!ascend (&fd, stack, parent_dfd, display_top, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_remove_tree (const char *path, GCancellable *cancellable, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  ctrd_autofd int parent_fd = -1;

  if (!g_path_is_absolute (path) || g_str_equal (name, "/") || g_str_equal (name, ".") ||
      g_str_equal (name, ".."))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Will not remove %s", path);
      return FALSE;
    }
  parent_fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd < 0)
    return errno == ENOENT || ctrd_throw_errno (error, "Cannot open %s", parent);
  return ctrd_remove_tree_at (parent_fd, name, path, cancellable, error);
}

/* ------------------------------------------------------------------ */
/* Extended attributes */

static int
compare_xattr_entries (gconstpointer a, gconstpointer b)
{
  const char *name_a = *(const char *const *) a;
  const char *name_b = *(const char *const *) b;

  return strcmp (name_a, name_b);
}

/* The NUL-separated names of the xattrs of @fd in *@out_names (its length in
 * *@out_len), read again when the list grew between the two calls. */
static gboolean
list_xattr_names (int fd, char **out_names, gssize *out_len, const char *display, GError **error)
{
  for (;;)
    {
      g_autofree char *names = NULL;
      gssize len = flistxattr (fd, NULL, 0);

      if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
        len = 0;
      else if (len < 0)
        return ctrd_throw_errno (error, "Listing xattrs of %s", display);
      if (len == 0)
        {
          *out_names = NULL;
          *out_len = 0;
          return TRUE;
        }
      names = g_malloc (len);
      len = flistxattr (fd, names, len);
      if (len < 0 && errno == ERANGE)
        continue;
      if (len < 0)
        return ctrd_throw_errno (error, "Listing xattrs of %s", display);
      *out_names = g_steal_pointer (&names);
      *out_len = len;
      return TRUE;
    }
}

/* The value of @name on @fd in *@out_value, or NULL when it was removed
 * meanwhile; read again when it grew between the two calls. */
static gboolean
read_xattr (int fd, const char *name, GBytes **out_value, const char *display, GError **error)
{
  for (;;)
    {
      g_autofree guint8 *value = NULL;
      gssize size = fgetxattr (fd, name, NULL, 0);

      if (size >= 0)
        {
          value = g_malloc (size + 1);
          size = fgetxattr (fd, name, value, size);
        }
      if (size < 0 && errno == ERANGE)
        continue;
      if (size < 0 && errno == ENODATA)
        {
          *out_value = NULL;
          return TRUE;
        }
      if (size < 0)
        return ctrd_throw_errno (error, "Reading the xattr %s of %s", name, display);
      *out_value = g_bytes_new_take (g_steal_pointer (&value), size);
      return TRUE;
    }
}

GVariant *
ctrd_fd_get_xattrs (int fd, CtrdXattrFilter keep, const char *display, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ayay)"));
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  g_autofree char *names = NULL;
  gssize len;
  gboolean any = FALSE;

  if (!list_xattr_names (fd, &names, &len, display, error))
    return NULL;
  for (const char *name = names; name != NULL && name < names + len; name += strlen (name) + 1)
    if (keep == NULL || keep (name))
      g_ptr_array_add (kept, (gpointer) name);
  g_ptr_array_sort (kept, compare_xattr_entries);

  for (guint i = 0; i < kept->len; i++)
    {
      const char *name = kept->pdata[i];
      g_autoptr (GBytes) value = NULL;

      if (!read_xattr (fd, name, &value, display, error))
        return NULL;
      if (value == NULL)
        continue;
      g_variant_builder_add (&builder, "(@ay@ay)", g_variant_new_bytestring (name),
                             g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, value, TRUE));
      any = TRUE;
    }
  if (!any)
    return NULL;
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

gboolean
ctrd_fd_has_xattr (int fd, const char *name)
{
  return fgetxattr (fd, name, NULL, 0) >= 0 || errno == ERANGE;
}

gboolean
ctrd_fd_xattr_equals (int fd, const char *name, const char *value)
{
  gsize len = strlen (value);
  g_autofree char *buf = g_malloc (len + 1);
  gssize n = fgetxattr (fd, name, buf, len + 1);

  return n == (gssize) len && memcmp (buf, value, len) == 0;
}
