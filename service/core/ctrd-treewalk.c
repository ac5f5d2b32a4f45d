/* ctrd-treewalk.c: fd-relative tree walks (container export as tar, disk usage).
 *
 * A running container can rename, replace and symlink anything in its tree
 * while we walk it, so no path is ever resolved from the root: each entry is
 * looked up relative to its parent directory's fd with AT_SYMLINK_NOFOLLOW,
 * opened with O_NOFOLLOW, and what was opened is checked to be the inode that
 * was looked up before anything of it is written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-tar.h"
#include "ctrd-treewalk.h"
#include "ctrd-util.h"

#define STATX_WANTED (STATX_BASIC_STATS)
#define COPY_BUFFER_SIZE (128 * 1024)

/* ------------------------------------------------------------------ */
/* The walk */

typedef struct _TreeWalk TreeWalk;

/* Called for every entry, parents before children. @stx describes the inode
 * that was looked up as @name in @parent_fd; for a directory that will be
 * descended, @dir_fd is it opened (else -1). Returning FALSE stops the walk. */
typedef gboolean (*TreeVisitFunc) (TreeWalk *walk, int parent_fd, const char *name,
                                   const struct statx *stx, int dir_fd, GError **error);

struct _TreeWalk
{
  guint32 root_dev_major;
  guint32 root_dev_minor;
  TreeVisitFunc visit;
  gpointer user_data;
  GCancellable *cancellable;
  GString *path; /* of the entry being visited, relative to the root: "bin/sh" */
};

/* Paths come from the container: quoted and cut, never raw, in messages. */
static char *
quote_path (const char *path)
{
  if (path == NULL || *path == '\0')
    return g_strdup ("the root directory");
  return ctrd_quote_untrusted (path);
}

/* ctrd_throw_errno with the quoted @path after @what: "Opening 'bin/sh': ...". */
static gboolean
throw_errno_for_path (GError **error, const char *what, const char *path)
{
  int errsv = errno;
  g_autofree char *quoted = quote_path (path);

  errno = errsv;
  return ctrd_throw_errno (error, "%s %s", what, quoted);
}

static gboolean
same_inode (const struct statx *a, const struct statx *b)
{
  return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
         a->stx_dev_minor == b->stx_dev_minor && (a->stx_mode & S_IFMT) == (b->stx_mode & S_IFMT);
}

/* TRUE if @stx (of a directory, or of anything when the kernel can tell) is
 * the root of a mount other than the tree's own. A bind mount of the same
 * filesystem keeps st_dev, so the kernel's mount-root flag is asked first;
 * st_dev is only compared for directories, because on an overlay whose
 * layers sit on different filesystems non-directories report the layer's
 * st_dev. */
static gboolean
is_other_mount (TreeWalk *walk, const struct statx *stx)
{
  if ((stx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
      (stx->stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0)
    return TRUE;
  return S_ISDIR (stx->stx_mode) &&
         (stx->stx_dev_major != walk->root_dev_major || stx->stx_dev_minor != walk->root_dev_minor);
}

/* Opens @name in @dirfd without following a symlink: a directory for
 * reading, a regular file for reading (O_NONBLOCK, in case it became a FIFO
 * meanwhile), anything else as O_PATH. Checks that what was opened is still
 * the inode looked up as @stx, and refreshes @stx from the fd (whose
 * mount-root flag is the reliable one). When the entry went away or was
 * replaced since the lookup, returns -1 with *@out_gone set and no error:
 * the caller skips it, as it would had the directory been read a moment
 * later. */
static int
open_looked_up (int dirfd, const char *name, struct statx *stx, const char *path,
                gboolean *out_gone, GError **error)
{
  struct statx opened;
  int flags = O_NOFOLLOW | O_CLOEXEC;
  ctrd_autofd int fd = -1;

  if (S_ISDIR (stx->stx_mode))
    flags |= O_RDONLY | O_DIRECTORY | O_NOCTTY;
  else if (S_ISREG (stx->stx_mode))
    flags |= O_RDONLY | O_NONBLOCK | O_NOCTTY;
  else
    flags |= O_PATH;

  *out_gone = FALSE;
  fd = openat (dirfd, name, flags);
  if (fd < 0)
    {
      /* ELOOP/ENOTDIR: replaced by a symlink or a file since the lookup. */
      *out_gone = errno == ENOENT || errno == ELOOP || errno == ENOTDIR;
      if (!*out_gone)
        throw_errno_for_path (error, "Opening", path);
      return -1;
    }
  if (statx (fd, "", AT_EMPTY_PATH, STATX_WANTED, &opened) < 0)
    {
      throw_errno_for_path (error, "Examining", path);
      return -1;
    }
  if (!same_inode (&opened, stx))
    {
      *out_gone = TRUE;
      return -1;
    }
  *stx = opened;
  return ctrd_steal_fd (&fd);
}

static gboolean walk_directory (TreeWalk *walk, int dirfd, guint depth, GError **error);

static gboolean
walk_entry (TreeWalk *walk, int dirfd, const char *name, guint depth, GError **error)
{
  struct statx stx;
  ctrd_autofd int child_fd = -1;
  gboolean gone;

  if (statx (dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_WANTED, &stx) < 0)
    {
      if (errno == ENOENT)
        return TRUE; /* removed since the directory was read */
      return throw_errno_for_path (error, "Examining", walk->path->str);
    }

  if (!S_ISDIR (stx.stx_mode))
    {
      /* A file bind-mounted over another: its content is another
       * filesystem's, and unlike a directory there is nothing of ours to list. */
      if (is_other_mount (walk, &stx))
        return TRUE;
      return walk->visit (walk, dirfd, name, &stx, -1, error);
    }

  if (is_other_mount (walk, &stx))
    return walk->visit (walk, dirfd, name, &stx, -1, error);

  if (depth >= CTRD_TREEWALK_MAX_DEPTH)
    {
      g_autofree char *quoted = quote_path (walk->path->str);

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "Directory %s is nested more than %u levels deep", quoted,
                   CTRD_TREEWALK_MAX_DEPTH);
      return FALSE;
    }

  child_fd = open_looked_up (dirfd, name, &stx, walk->path->str, &gone, error);
  if (child_fd < 0)
    return gone;
  /* The fd's statx may see a mount that the lookup by name did not. */
  if (is_other_mount (walk, &stx))
    return walk->visit (walk, dirfd, name, &stx, -1, error);
  return walk->visit (walk, dirfd, name, &stx, child_fd, error) &&
         walk_directory (walk, child_fd, depth + 1, error);
}

static gboolean
walk_directory (TreeWalk *walk, int dirfd, guint depth, GError **error)
{
  g_autofree char *display = quote_path (walk->path->str);
  g_autoptr (GPtrArray) names = ctrd_list_dir_at (dirfd, display, error);

  if (names == NULL)
    return FALSE;

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      gsize saved_len = walk->path->len;
      gboolean ok;

      if (g_cancellable_set_error_if_cancelled (walk->cancellable, error))
        return FALSE;
      if (saved_len > 0)
        g_string_append_c (walk->path, '/');
      g_string_append (walk->path, name);
      ok = walk_entry (walk, dirfd, name, depth, error);
      g_string_truncate (walk->path, saved_len);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Walks the directory @root_dirfd's entries, or with @name (not NULL) only
 * the entry @name of it and what is below: then paths start with @name. */
static gboolean
walk_tree_from (int root_dirfd, const char *name, TreeVisitFunc visit, gpointer user_data,
                GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) path = g_string_new (name != NULL ? name : "");
  TreeWalk walk = { 0 };
  struct statx root;

  if (statx (root_dirfd, "", AT_EMPTY_PATH, STATX_WANTED, &root) < 0)
    return throw_errno_for_path (error, "Examining", NULL);
  if (!S_ISDIR (root.stx_mode))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The root of the walk is not a directory");
      return FALSE;
    }
  walk.root_dev_major = root.stx_dev_major;
  walk.root_dev_minor = root.stx_dev_minor;
  walk.visit = visit;
  walk.user_data = user_data;
  walk.cancellable = cancellable;
  walk.path = path;
  if (name != NULL)
    return walk_entry (&walk, root_dirfd, name, 0, error);
  return walk_directory (&walk, root_dirfd, 0, error);
}

static gboolean
walk_tree (int root_dirfd, TreeVisitFunc visit, gpointer user_data, GCancellable *cancellable,
           GError **error)
{
  return walk_tree_from (root_dirfd, NULL, visit, user_data, cancellable, error);
}

/* (st_dev, st_ino) of an inode with several links. */
typedef struct
{
  guint64 dev;
  guint64 ino;
} InodeKey;

static guint
inode_key_hash (gconstpointer p)
{
  const InodeKey *key = p;
  return (guint) (key->ino ^ (key->ino >> 32) ^ (key->dev * 16777619u));
}

static gboolean
inode_key_equal (gconstpointer a, gconstpointer b)
{
  const InodeKey *ka = a;
  const InodeKey *kb = b;
  return ka->dev == kb->dev && ka->ino == kb->ino;
}

/* A table keyed by inode of multiply-linked files; values as the caller wants. */
static GHashTable *
inode_table_new (GDestroyNotify value_free)
{
  return g_hash_table_new_full (inode_key_hash, inode_key_equal, g_free, value_free);
}

static gpointer
inode_table_lookup (GHashTable *table, const struct statx *stx)
{
  InodeKey key = { makedev (stx->stx_dev_major, stx->stx_dev_minor), stx->stx_ino };
  return g_hash_table_lookup (table, &key);
}

static void
inode_table_add (GHashTable *table, const struct statx *stx, gpointer value)
{
  InodeKey key = { makedev (stx->stx_dev_major, stx->stx_dev_minor), stx->stx_ino };
  g_hash_table_insert (table, g_memdup2 (&key, sizeof key), value);
}

/* ------------------------------------------------------------------ */
/* Disk usage */

typedef struct
{
  guint64 bytes;
  GHashTable *seen; /* InodeKey -> GINT_TO_POINTER (1) */
} DiskUsage;

static gboolean
disk_usage_visit (TreeWalk *walk, int parent_fd, const char *name, const struct statx *stx,
                  int dir_fd, GError **error)
{
  DiskUsage *usage = walk->user_data;

  if (!S_ISREG (stx->stx_mode) && !S_ISLNK (stx->stx_mode))
    return TRUE;
  if (stx->stx_nlink > 1)
    {
      if (inode_table_lookup (usage->seen, stx) != NULL)
        return TRUE;
      inode_table_add (usage->seen, stx, GINT_TO_POINTER (1));
    }
  usage->bytes += stx->stx_size;
  return TRUE;
}

gboolean
ctrd_treewalk_disk_usage (int root_dirfd, guint64 *out_bytes, GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (GHashTable) seen = inode_table_new (NULL);
  DiskUsage usage = { 0, seen };

  if (!walk_tree (root_dirfd, disk_usage_visit, &usage, cancellable, error))
    return FALSE;
  *out_bytes = usage.bytes;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Export as tar */

typedef struct
{
  CtrdTarWriter *tar;
  GCancellable *cancellable;
  GHashTable *first_path; /* InodeKey -> path of the inode's first member */
  guint8 *buffer;
} TarExport;

/* security.capability is what makes a file like ping work, and user.* belong
 * to the files' owners. The rest describe the host (security.selinux labels,
 * overlayfs' own trusted.overlay.* or, unprivileged, user.overlay.*
 * bookkeeping) and must not travel with the tree. */
static gboolean
xattr_is_exported (const char *name)
{
  if (strcmp (name, "security.capability") == 0)
    return TRUE;
  return g_str_has_prefix (name, "user.") && !g_str_has_prefix (name, "user.overlay.");
}

static gboolean
entry_add_xattrs (struct archive_entry *entry, int fd, const char *path, GError **error)
{
  g_autofree char *quoted = quote_path (path);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GVariant) xattrs = ctrd_fd_get_xattrs (fd, xattr_is_exported, quoted, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (xattrs == NULL)
    return TRUE;
  for (gsize i = 0; i < g_variant_n_children (xattrs); i++)
    {
      const char *name;
      g_autoptr (GVariant) value = NULL;
      gsize size;
      const void *data;

      g_variant_get_child (xattrs, i, "(^&ay@ay)", &name, &value);
      data = g_variant_get_fixed_array (value, &size, 1);
      archive_entry_xattr_add_entry (entry, name, data, size);
    }
  return TRUE;
}

static void
entry_set_statx (struct archive_entry *entry, const struct statx *stx)
{
  archive_entry_set_mode (entry, stx->stx_mode);
  archive_entry_set_uid (entry, stx->stx_uid);
  archive_entry_set_gid (entry, stx->stx_gid);
  archive_entry_set_mtime (entry, stx->stx_mtime.tv_sec, stx->stx_mtime.tv_nsec);
  archive_entry_set_size (entry, S_ISREG (stx->stx_mode) ? (la_int64_t) stx->stx_size : 0);
  if (S_ISCHR (stx->stx_mode) || S_ISBLK (stx->stx_mode))
    archive_entry_set_rdev (entry, makedev (stx->stx_rdev_major, stx->stx_rdev_minor));
}

static char *
read_symlink (int fd, gsize size_hint, const char *path, GError **error)
{
  gsize size = MAX (size_hint + 1, 64);

  for (;;)
    {
      g_autofree char *target = g_malloc (size);
      ssize_t len = readlinkat (fd, "", target, size);

      if (len < 0)
        {
          throw_errno_for_path (error, "Reading the symlink", path);
          return NULL;
        }
      if ((gsize) len < size)
        {
          target[len] = '\0';
          return g_steal_pointer (&target);
        }
      size *= 2;
    }
}

/* Streams the content of the regular file @fd into the current member, at
 * most the size its header promised: libarchive pads a file that shrank
 * meanwhile with zeros, and what a growing one gains is left out. */
static gboolean
copy_file_content (TarExport *export, int fd, guint64 size, const char *path, const char *member,
                   GError **error)
{
  while (size > 0)
    {
      ssize_t n = read (fd, export->buffer, MIN (size, COPY_BUFFER_SIZE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return throw_errno_for_path (error, "Reading", path);
      if (n == 0)
        break;
      if (!ctrd_tar_writer_write_data (export->tar, export->buffer, n, member, error))
        return FALSE;
      size -= n;
      if (g_cancellable_set_error_if_cancelled (export->cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
tar_export_visit (TreeWalk *walk, int parent_fd, const char *name, const struct statx *looked_up,
                  int dir_fd, GError **error)
{
  TarExport *export = walk->user_data;
  const char *path = walk->path->str;
  g_autoptr (CtrdArchiveEntry) entry = NULL;
  g_autofree char *target = NULL;
  g_autofree char *quoted = NULL;
  g_autofree char *member = NULL;
  struct statx stx = *looked_up;
  ctrd_autofd int leaf_fd = -1;

  /* tar has no way to store a socket (GNU tar skips them too). */
  if (S_ISSOCK (stx.stx_mode))
    return TRUE;

  if (!S_ISDIR (stx.stx_mode))
    {
      gboolean gone;

      leaf_fd = open_looked_up (parent_fd, name, &stx, path, &gone, error);
      if (leaf_fd < 0)
        return gone;
    }

  entry = archive_entry_new ();
  archive_entry_set_pathname (entry, path);
  entry_set_statx (entry, &stx);

  /* Hard links only between regular files, like podman export: a symlink
   * that shares its inode with another (OSTree's hardlink checkouts do that
   * for symlinks of the same target) is written as a symlink, which every
   * tool extracts as intended; a link to a symlink is not. */
  if (S_ISREG (stx.stx_mode) && stx.stx_nlink > 1)
    {
      const char *first = inode_table_lookup (export->first_path, &stx);
      if (first != NULL)
        {
          archive_entry_set_hardlink (entry, first);
          archive_entry_set_size (entry, 0);
        }
      else
        inode_table_add (export->first_path, &stx, g_strdup (path));
    }

  if (archive_entry_hardlink (entry) == NULL)
    {
      if (S_ISLNK (stx.stx_mode))
        {
          target = read_symlink (leaf_fd, stx.stx_size, path, error);
          if (target == NULL)
            return FALSE;
          archive_entry_set_symlink (entry, target);
        }
      else if (S_ISREG (stx.stx_mode) && !entry_add_xattrs (entry, leaf_fd, path, error))
        return FALSE;
      else if (S_ISDIR (stx.stx_mode) && dir_fd >= 0 &&
               !entry_add_xattrs (entry, dir_fd, path, error))
        return FALSE;
    }

  quoted = quote_path (path);
  member = g_strconcat ("the member ", quoted, NULL);
  if (!ctrd_tar_writer_write_header (export->tar, entry, member, error))
    return FALSE;
  if (S_ISREG (stx.stx_mode) && archive_entry_size (entry) > 0 &&
      !copy_file_content (export, leaf_fd, stx.stx_size, path, member, error))
    return FALSE;
  return ctrd_tar_writer_finish_entry (export->tar, member, error);
}

gboolean
ctrd_treewalk_tar (int root_dirfd, int out_fd, guint64 *out_bytes, GCancellable *cancellable,
                   GError **error)
{
  return ctrd_treewalk_tar_full (root_dirfd, out_fd, out_bytes, NULL, NULL, cancellable, error);
}

/* The tar of the tree, or with @name of that entry only (see walk_tree_from). */
static gboolean
tar_tree (int root_dirfd, const char *name, int out_fd, guint64 *out_bytes,
          CtrdTarProgress progress, gpointer progress_data, GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GHashTable) first_path = inode_table_new (g_free);
  g_autofree guint8 *buffer = g_malloc (COPY_BUFFER_SIZE);
  g_autoptr (CtrdTarWriter) tar = NULL;
  TarExport export = { 0 };

  /* xattrs as SCHILY.xattr.* only, as podman writes them. */
  tar = ctrd_tar_writer_new (out_fd, CTRD_TAR_FLAGS_SCHILY_XATTRS_ONLY, cancellable, error);
  if (tar == NULL)
    return FALSE;
  ctrd_tar_writer_set_progress (tar, progress, progress_data, 0);
  export.tar = tar;
  export.cancellable = cancellable;
  export.first_path = first_path;
  export.buffer = buffer;

  if (!walk_tree_from (root_dirfd, name, tar_export_visit, &export, cancellable, error))
    return FALSE;
  return ctrd_tar_writer_close (tar, out_bytes, NULL, error);
}

gboolean
ctrd_treewalk_tar_full (int root_dirfd, int out_fd, guint64 *out_bytes, CtrdTarProgress progress,
                        gpointer progress_data, GCancellable *cancellable, GError **error)
{
  return tar_tree (root_dirfd, NULL, out_fd, out_bytes, progress, progress_data, cancellable,
                   error);
}

gboolean
ctrd_treewalk_tar_entry (int parent_dirfd, const char *name, int out_fd, guint64 *out_bytes,
                         GCancellable *cancellable, GError **error)
{
  struct statx stx;

  g_return_val_if_fail (name != NULL && *name != '\0' && strchr (name, '/') == NULL, FALSE);

  /* walk_entry skips what vanished; here the one entry asked for must exist. */
  if (statx (parent_dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_WANTED, &stx) < 0)
    {
      int saved = errno;
      g_autofree char *quoted = quote_path (name);

      errno = saved;
      return ctrd_throw_errno_code (error,
                                    saved == ENOENT ? CTRD_ERROR_NOT_FOUND
                                                    : CTRD_ERROR_STORAGE_ERROR,
                                    "Examining %s", quoted);
    }
  return tar_tree (parent_dirfd, name, out_fd, out_bytes, NULL, NULL, cancellable, error);
}
