/* ctrd-copy.c: tar into and out of a container's root (CopyFrom, CopyTo).
 *
 * Copying in stages the archive in a hidden directory inside the target and
 * moves it in only when every member was read and written: a refused member
 * or a cut archive leaves the container's files as they were. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctrd-copy.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-files.h"
#include "ctrd-treewalk.h"
#include "ctrd-util.h"

#define READ_BUFFER_SIZE (128 * 1024)
#define STAGING_PREFIX ".ctrd-copy-"

gboolean
ctrd_copy_validate_path (const char *path, GError **error)
{
  return ctrd_validate_container_path (path, "Path", error);
}

/* @path without empty and "." components. */
static GPtrArray *
path_components (const char *path)
{
  g_autoptr (GPtrArray) components = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0' && strcmp (parts[i], ".") != 0)
      g_ptr_array_add (components, g_strdup (parts[i]));
  return g_steal_pointer (&components);
}

static char *
join_first (GPtrArray *components, guint n)
{
  g_autoptr (GString) joined = g_string_new ("/");

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (joined, '/');
      g_string_append (joined, components->pdata[i]);
    }
  return g_string_free (g_steal_pointer (&joined), FALSE);
}

/* Opens the directory @path inside @root_dirfd, symlinks resolved inside it. */
static int
open_dir_in_root (int root_dirfd, const char *path, GError **error)
{
  int fd = ctrd_files_open_in_root (root_dirfd, path, O_RDONLY | O_DIRECTORY);

  if (fd < 0)
    {
      int saved = errno;
      g_autofree char *quoted = ctrd_quote_untrusted (path);

      errno = saved;
      if (saved == ENOENT)
        ctrd_throw_errno_code (error, CTRD_ERROR_NOT_FOUND, "%s", quoted);
      else if (saved == ENOTDIR)
        ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT, "%s", quoted);
      else
        ctrd_throw_errno (error, "Opening %s", quoted);
    }
  return fd;
}

/* ------------------------------------------------------------------ out */

gboolean
ctrd_copy_out (int root_dirfd, const char *path, int out_fd, GCancellable *cancellable,
               GError **error)
{
  g_autoptr (GPtrArray) components = path_components (path);
  g_autofree char *parent = NULL;
  ctrd_autofd int parent_fd = -1;

  if (components->len == 0)
    return ctrd_treewalk_tar (root_dirfd, out_fd, NULL, cancellable, error);

  parent = join_first (components, components->len - 1);
  parent_fd = open_dir_in_root (root_dirfd, parent, error);
  if (parent_fd < 0)
    return FALSE;
  return ctrd_treewalk_tar_entry (parent_fd, components->pdata[components->len - 1], out_fd, NULL,
                                  cancellable, error);
}

/* ------------------------------------------------------------------ in */

typedef struct
{
  int in_fd;
  GCancellable *cancellable;
  GPollFD cancel_pollfd;
  gboolean have_cancel_pollfd;
  int read_errno;
  guint8 *buffer;
} CopySource;

/* Waits for input or cancellation, so a writer that never writes does not
 * pin the thread past a cancel. */
static la_ssize_t
source_read_cb (struct archive *a, void *user_data, const void **buffer)
{
  CopySource *src = user_data;

  for (;;)
    {
      struct pollfd fds[2] = { { .fd = src->in_fd, .events = POLLIN } };
      nfds_t nfds = 1;
      ssize_t n;

      if (src->have_cancel_pollfd)
        {
          fds[1].fd = src->cancel_pollfd.fd;
          fds[1].events = POLLIN;
          nfds = 2;
        }
      if (poll (fds, nfds, -1) < 0 && errno != EINTR)
        {
          src->read_errno = errno;
          archive_set_error (a, errno, "Reading the archive failed");
          return -1;
        }
      if (g_cancellable_is_cancelled (src->cancellable))
        {
          archive_set_error (a, ECANCELED, "Cancelled");
          return -1;
        }
      n = read (src->in_fd, src->buffer, READ_BUFFER_SIZE);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        {
          src->read_errno = errno;
          archive_set_error (a, errno, "Reading the archive failed");
          return -1;
        }
      *buffer = src->buffer;
      return n;
    }
}

typedef struct
{
  struct archive *archive;
  CopySource *source;
  int stage_fd;
  GCancellable *cancellable;
} Extraction;

static gboolean
archive_failed (Extraction *ex, const char *quoted, GError **error)
{
  const char *reason = archive_error_string (ex->archive);

  if (g_cancellable_set_error_if_cancelled (ex->cancellable, error))
    return FALSE;
  if (ex->source->read_errno != 0)
    {
      errno = ex->source->read_errno;
      return ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT, "Cannot read the archive");
    }
  if (quoted != NULL)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "The archive is not a valid tar: member %s: %s", quoted,
                 reason != NULL ? reason : "unknown error");
  else
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "The archive is not a valid tar: %s", reason != NULL ? reason : "unknown error");
  return FALSE;
}

static gboolean
refuse_member (const char *quoted, const char *why, GError **error)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Tar member %s: %s", quoted, why);
  return FALSE;
}

/* A member name as components; absolute names and ".." are refused, not
 * reinterpreted: the archive would not write where its names say. */
static GPtrArray *
member_components (const char *name, const char *quoted, GError **error)
{
  g_autoptr (GPtrArray) components = NULL;

  if (name == NULL || *name == '\0')
    {
      refuse_member (quoted, "the name is empty or not readable", error);
      return NULL;
    }
  if (strlen (name) >= PATH_MAX)
    {
      refuse_member (quoted, "the name is too long", error);
      return NULL;
    }
  if (name[0] == '/')
    {
      refuse_member (quoted, "absolute names are not allowed", error);
      return NULL;
    }
  components = path_components (name);
  for (guint i = 0; i < components->len; i++)
    {
      const char *component = components->pdata[i];

      if (strcmp (component, "..") == 0)
        {
          refuse_member (quoted, "“..” is not allowed in a name", error);
          return NULL;
        }
      if (strlen (component) > NAME_MAX)
        {
          refuse_member (quoted, "a name component is too long", error);
          return NULL;
        }
    }
  return g_steal_pointer (&components);
}

/* Opens the directory made of the first @n @components below the staging
 * directory, one component at a time with O_NOFOLLOW, making missing ones
 * when @create: a member never passes through a symlink. */
static int
open_member_parent (Extraction *ex, GPtrArray *components, guint n, gboolean create,
                    const char *quoted, GError **error)
{
  ctrd_autofd int dfd = fcntl (ex->stage_fd, F_DUPFD_CLOEXEC, 3);

  if (dfd < 0)
    {
      ctrd_throw_errno (error, "Duplicating a descriptor");
      return -1;
    }
  for (guint i = 0; i < n; i++)
    {
      const char *component = components->pdata[i];
      int next = openat (dfd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (dfd, component, 0755) < 0 && errno != EEXIST)
            {
              ctrd_throw_errno (error, "Tar member %s: making its directory", quoted);
              return -1;
            }
          next = openat (dfd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (next < 0)
        {
          if (errno == ELOOP || errno == ENOTDIR)
            refuse_member (quoted, "its path passes through a symlink or a non-directory", error);
          else if (errno == ENOENT)
            refuse_member (quoted, "it names a file that is not an earlier member", error);
          else
            ctrd_throw_errno (error, "Tar member %s: opening its directory", quoted);
          return -1;
        }
      ctrd_close_fd (&dfd);
      dfd = next;
    }
  return ctrd_steal_fd (&dfd);
}

/* A later member of the same name replaces an earlier one, as tar does;
 * an existing directory stays for a directory member. */
static gboolean
clear_leaf (int parent_fd, const char *leaf, gboolean keep_directory, const char *quoted,
            GCancellable *cancellable, GError **error)
{
  struct stat st;

  if (fstatat (parent_fd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return ctrd_throw_errno (error, "Tar member %s", quoted);
    }
  if (S_ISDIR (st.st_mode))
    return keep_directory || ctrd_remove_tree_at (parent_fd, leaf, quoted, cancellable, error);
  if (unlinkat (parent_fd, leaf, 0) < 0)
    return ctrd_throw_errno (error, "Tar member %s: replacing it", quoted);
  return TRUE;
}

/* Owner first: chown clears setuid and setgid bits, which the mode then
 * sets again. */
static gboolean
set_owner_and_mode (int fd, struct archive_entry *entry, const char *quoted, GError **error)
{
  if (fchown (fd, archive_entry_uid (entry), archive_entry_gid (entry)) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its owner", quoted);
  if (fchmod (fd, archive_entry_mode (entry) & 07777) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its mode", quoted);
  return TRUE;
}

static void
entry_times (struct archive_entry *entry, struct timespec times[2])
{
  times[0].tv_sec = archive_entry_atime_is_set (entry) ? archive_entry_atime (entry)
                                                       : archive_entry_mtime (entry);
  times[0].tv_nsec = archive_entry_atime_is_set (entry) ? archive_entry_atime_nsec (entry)
                                                        : archive_entry_mtime_nsec (entry);
  times[1].tv_sec = archive_entry_mtime (entry);
  times[1].tv_nsec = archive_entry_mtime_nsec (entry);
}

static gboolean
write_file_data (Extraction *ex, int fd, const char *quoted, GError **error)
{
  for (;;)
    {
      const void *block;
      size_t size;
      la_int64_t offset;
      int r = archive_read_data_block (ex->archive, &block, &size, &offset);

      if (r == ARCHIVE_EOF)
        return TRUE;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return archive_failed (ex, quoted, error);
      if (lseek (fd, offset, SEEK_SET) < 0)
        return ctrd_throw_errno (error, "Tar member %s: seeking", quoted);
      if (!ctrd_fd_write_all (fd, block, size, ex->cancellable, error))
        {
          g_prefix_error (error, "Tar member %s: ", quoted);
          return FALSE;
        }
    }
}

static gboolean
extract_regular (Extraction *ex, struct archive_entry *entry, int parent_fd, const char *leaf,
                 const char *quoted, GError **error)
{
  struct timespec times[2];
  ctrd_autofd int fd =
      openat (parent_fd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return ctrd_throw_errno (error, "Tar member %s: creating it", quoted);
  if (!write_file_data (ex, fd, quoted, error))
    return FALSE;
  /* A sparse file's hole at the end. */
  if (ftruncate (fd, archive_entry_size (entry)) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its size", quoted);
  if (!set_owner_and_mode (fd, entry, quoted, error))
    return FALSE;
  entry_times (entry, times);
  if (futimens (fd, times) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its times", quoted);
  return TRUE;
}

static gboolean
extract_directory (struct archive_entry *entry, int parent_fd, const char *leaf, const char *quoted,
                   GError **error)
{
  ctrd_autofd int fd = -1;

  if (mkdirat (parent_fd, leaf, 0700) < 0 && errno != EEXIST)
    return ctrd_throw_errno (error, "Tar member %s: creating it", quoted);
  fd = openat (parent_fd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ctrd_throw_errno (error, "Tar member %s: opening it", quoted);
  return set_owner_and_mode (fd, entry, quoted, error);
}

static gboolean
extract_symlink (struct archive_entry *entry, int parent_fd, const char *leaf, const char *quoted,
                 GError **error)
{
  const char *target = archive_entry_symlink (entry);
  struct timespec times[2];

  if (target == NULL || *target == '\0')
    return refuse_member (quoted, "the symlink has no target", error);
  if (symlinkat (target, parent_fd, leaf) < 0)
    return ctrd_throw_errno (error, "Tar member %s: creating it", quoted);
  if (fchownat (parent_fd, leaf, archive_entry_uid (entry), archive_entry_gid (entry),
                AT_SYMLINK_NOFOLLOW) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its owner", quoted);
  entry_times (entry, times);
  if (utimensat (parent_fd, leaf, times, AT_SYMLINK_NOFOLLOW) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its times", quoted);
  return TRUE;
}

/* FIFOs: the mode is set through an O_PATH descriptor's /proc link, so a
 * name swapped meanwhile is never followed. */
static gboolean
extract_fifo (struct archive_entry *entry, int parent_fd, const char *leaf, const char *quoted,
              GError **error)
{
  g_autofree char *proc_path = NULL;
  ctrd_autofd int fd = -1;

  if (mknodat (parent_fd, leaf, S_IFIFO | 0600, 0) < 0)
    return ctrd_throw_errno (error, "Tar member %s: creating it", quoted);
  fd = openat (parent_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ctrd_throw_errno (error, "Tar member %s: opening it", quoted);
  if (fchownat (fd, "", archive_entry_uid (entry), archive_entry_gid (entry), AT_EMPTY_PATH) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its owner", quoted);
  proc_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (chmod (proc_path, archive_entry_mode (entry) & 07777) < 0)
    return ctrd_throw_errno (error, "Tar member %s: setting its mode", quoted);
  return TRUE;
}

/* The target must be an earlier member, found below the staging directory
 * the same way: no link can reach a file of the host or of the container. */
static gboolean
extract_hardlink (Extraction *ex, const char *target, int parent_fd, const char *leaf,
                  const char *quoted, GError **error)
{
  g_autofree char *quoted_target = ctrd_quote_untrusted (target);
  g_autoptr (GPtrArray) components = member_components (target, quoted, error);
  ctrd_autofd int target_parent = -1;
  ctrd_autofd int target_fd = -1;
  struct stat st;

  if (components == NULL)
    return FALSE;
  if (components->len == 0)
    return refuse_member (quoted, "the hard link has no target", error);
  target_parent = open_member_parent (ex, components, components->len - 1, FALSE, quoted, error);
  if (target_parent < 0)
    return FALSE;
  target_fd = openat (target_parent, components->pdata[components->len - 1],
                      O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target_fd < 0 || fstat (target_fd, &st) < 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: the hard link target %s is not an earlier member", quoted,
                   quoted_target);
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    return refuse_member (quoted, "a hard link cannot point to a directory", error);
  if (linkat (target_fd, "", parent_fd, leaf, AT_EMPTY_PATH) < 0)
    return ctrd_throw_errno (error, "Tar member %s: linking it", quoted);
  return TRUE;
}

static gboolean
extract_member (Extraction *ex, struct archive_entry *entry, GError **error)
{
  const char *name = archive_entry_pathname (entry);
  const char *hardlink = archive_entry_hardlink (entry);
  mode_t type = archive_entry_filetype (entry);
  g_autofree char *quoted = ctrd_quote_untrusted (name);
  g_autoptr (GPtrArray) components = member_components (name, quoted, error);
  ctrd_autofd int parent_fd = -1;
  const char *leaf;

  if (components == NULL)
    return FALSE;
  if (hardlink == NULL && (type == AE_IFCHR || type == AE_IFBLK))
    return refuse_member (quoted, "device nodes are not copied into containers", error);
  if (hardlink == NULL && type == AE_IFSOCK)
    return TRUE;
  if (hardlink == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK &&
      type != AE_IFIFO)
    return refuse_member (quoted, "unsupported file type", error);
  /* "./": the target directory itself, which stays as it is. */
  if (components->len == 0)
    return TRUE;

  parent_fd = open_member_parent (ex, components, components->len - 1, TRUE, quoted, error);
  if (parent_fd < 0)
    return FALSE;
  leaf = components->pdata[components->len - 1];
  if (!clear_leaf (parent_fd, leaf, hardlink == NULL && type == AE_IFDIR, quoted, ex->cancellable,
                   error))
    return FALSE;

  if (hardlink != NULL)
    return extract_hardlink (ex, hardlink, parent_fd, leaf, quoted, error);
  switch (type)
    {
    case AE_IFREG:
      return extract_regular (ex, entry, parent_fd, leaf, quoted, error);
    case AE_IFDIR:
      return extract_directory (entry, parent_fd, leaf, quoted, error);
    case AE_IFLNK:
      return extract_symlink (entry, parent_fd, leaf, quoted, error);
    default:
      return extract_fifo (entry, parent_fd, leaf, quoted, error);
    }
}

static gboolean
extract_all (Extraction *ex, GError **error)
{
  for (;;)
    {
      struct archive_entry *entry = NULL;
      int r = archive_read_next_header (ex->archive, &entry);

      if (r == ARCHIVE_EOF)
        return TRUE;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return archive_failed (ex, NULL, error);
      if (g_cancellable_set_error_if_cancelled (ex->cancellable, error))
        return FALSE;
      if (!extract_member (ex, entry, error))
        return FALSE;
    }
}

static struct archive *
archive_reader_new (CopySource *src, GError **error)
{
  struct archive *a = archive_read_new ();

  if (a == NULL)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                           "Cannot start reading the archive");
      return NULL;
    }
  archive_read_support_format_tar (a);
  archive_read_support_filter_none (a);
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_filter_bzip2 (a);
  if (archive_read_open (a, src, NULL, source_read_cb, NULL) != ARCHIVE_OK)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The archive is not a valid tar: %s",
                   archive_error_string (a) ?: "unknown error");
      archive_read_free (a);
      return NULL;
    }
  return a;
}

/* Moves what @src_dfd holds into @dst_dfd: new names are renamed in,
 * directories on both sides merged, other entries replaced. With @dry_run
 * only checks for clashes @flags forbid. */
static gboolean
merge_into (int src_dfd, int dst_dfd, GString *path, gboolean dry_run, CtrdCopyInFlags flags,
            GCancellable *cancellable, GError **error)
{
  g_autofree char *display = ctrd_quote_untrusted (path->len > 0 ? path->str : "/");
  g_autoptr (GPtrArray) names = ctrd_list_dir_at (src_dfd, display, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      gsize saved_len = path->len;
      g_autofree char *quoted = NULL;
      struct stat s, d;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_string_append_c (path, '/');
      g_string_append (path, name);
      quoted = ctrd_quote_untrusted (path->str);

      if (fstatat (src_dfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
        return ctrd_throw_errno (error, "Examining the copy of %s", quoted);
      if (fstatat (dst_dfd, name, &d, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno != ENOENT)
            return ctrd_throw_errno (error, "Examining %s", quoted);
          if (!dry_run && renameat (src_dfd, name, dst_dfd, name) < 0)
            return ctrd_throw_errno (error, "Moving %s in", quoted);
        }
      else if (S_ISDIR (s.st_mode) && S_ISDIR (d.st_mode))
        {
          ctrd_autofd int sub_src =
              openat (src_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          ctrd_autofd int sub_dst =
              openat (dst_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

          if (sub_src < 0 || sub_dst < 0)
            return ctrd_throw_errno (error, "Opening %s", quoted);
          if (!merge_into (sub_src, sub_dst, path, dry_run, flags, cancellable, error))
            return FALSE;
          if (!dry_run &&
              (fchown (sub_dst, s.st_uid, s.st_gid) < 0 || fchmod (sub_dst, s.st_mode & 07777) < 0))
            return ctrd_throw_errno (error, "Setting the owner and mode of %s", quoted);
        }
      else if (S_ISDIR (s.st_mode) != S_ISDIR (d.st_mode) &&
               (flags & CTRD_COPY_IN_NO_OVERWRITE_DIR_NON_DIR) != 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       S_ISDIR (d.st_mode) ? "Cannot replace the directory %s with a non-directory"
                                           : "Cannot replace the non-directory %s with a directory",
                       quoted);
          return FALSE;
        }
      else if (!dry_run)
        {
          if (S_ISDIR (d.st_mode) &&
              !ctrd_remove_tree_at (dst_dfd, name, quoted, cancellable, error))
            return FALSE;
          if (S_ISDIR (s.st_mode) && !S_ISDIR (d.st_mode) && unlinkat (dst_dfd, name, 0) < 0)
            return ctrd_throw_errno (error, "Replacing %s", quoted);
          if (renameat (src_dfd, name, dst_dfd, name) < 0)
            return ctrd_throw_errno (error, "Moving %s in", quoted);
        }
      g_string_truncate (path, saved_len);
    }
  return TRUE;
}

static gboolean
stage_and_merge (int dst_fd, int in_fd, int stage_fd, CtrdCopyInFlags flags,
                 GCancellable *cancellable, GError **error)
{
  g_autofree guint8 *buffer = g_malloc (READ_BUFFER_SIZE);
  g_autoptr (GString) path = g_string_new ("");
  CopySource src = { 0 };
  Extraction ex = { 0 };
  gboolean ok;

  src.in_fd = in_fd;
  src.cancellable = cancellable;
  src.buffer = buffer;
  src.have_cancel_pollfd = g_cancellable_make_pollfd (cancellable, &src.cancel_pollfd);
  ex.source = &src;
  ex.stage_fd = stage_fd;
  ex.cancellable = cancellable;
  ex.archive = archive_reader_new (&src, error);
  ok = ex.archive != NULL && extract_all (&ex, error);
  if (ex.archive != NULL)
    archive_read_free (ex.archive);
  if (src.have_cancel_pollfd)
    g_cancellable_release_fd (cancellable);
  if (!ok)
    return FALSE;

  if ((flags & CTRD_COPY_IN_NO_OVERWRITE_DIR_NON_DIR) != 0 &&
      !merge_into (stage_fd, dst_fd, path, TRUE, flags, cancellable, error))
    return FALSE;
  return merge_into (stage_fd, dst_fd, path, FALSE, flags, cancellable, error);
}

gboolean
ctrd_copy_in (int root_dirfd, const char *path, int in_fd, CtrdCopyInFlags flags,
              GCancellable *cancellable, GError **error)
{
  g_autofree char *random = g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
  g_autofree char *stage_name = g_strconcat (STAGING_PREFIX, random, NULL);
  g_autoptr (GError) cleanup_error = NULL;
  ctrd_autofd int dst_fd = open_dir_in_root (root_dirfd, path, error);
  ctrd_autofd int stage_fd = -1;
  gboolean ok;

  if (dst_fd < 0)
    return FALSE;
  if (mkdirat (dst_fd, stage_name, 0700) < 0)
    return ctrd_throw_errno (error, "Making a staging directory in %s", path);
  stage_fd = openat (dst_fd, stage_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (stage_fd < 0)
    {
      ctrd_throw_errno (error, "Opening the staging directory in %s", path);
      unlinkat (dst_fd, stage_name, AT_REMOVEDIR);
      return FALSE;
    }

  ok = stage_and_merge (dst_fd, in_fd, stage_fd, flags, cancellable, error);
  /* Not cancellable: what is left of the staging directory always goes. */
  if (!ctrd_remove_tree_at (dst_fd, stage_name, stage_name, NULL, &cleanup_error))
    g_warning ("Removing %s in %s: %s", stage_name, path, cleanup_error->message);
  return ok;
}
