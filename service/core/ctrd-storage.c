/* ctrd-storage.c: the OSTree image store, image checkouts, overlay mounts.
 *
 * Tar import walks the archive itself and writes each member with the public
 * mutable-tree and content APIs instead of calling
 * ostree_repo_import_archive_to_mtree(). In ostree 2022.7 that function
 * aborts the whole process on a hardlink member whose target contains ".."
 * (g_assert_no_error in aic_get_final_entry_hardlink), and returns FALSE
 * without an error for "lib -> /" followed by "lib/x". Walking ourselves also
 * lets us refuse what we cannot store, drop xattrs that would change how
 * overlayfs reads the lower layer, and count members and bytes exactly. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <limits.h>
#include <ostree.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <gio/gunixinputstream.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-digest.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image-config.h"
#include "ctrd-storage.h"
#include "ctrd-tar.h"
#include "ctrd-util.h"

#define IMAGE_REF_PREFIX "images/"
#define IMAGE_CONFIG_KEY "containersd.image-config"
#define CHECKOUT_TMP_PREFIX ".tmp-"
#define OSTREE_STAGING_PREFIX "staging-"
/* Deeper trees only serve to exhaust the recursion in write_mtree and checkout. */
#define MEMBER_DEPTH_MAX 256
#define READ_CHUNK (64 * 1024)

struct _CtrdStorage
{
  char *root; /* canonical, so it compares with /proc/self/mountinfo */
  char *repo_path;
  char *checkouts_path;
  char *containers_path;
  int root_dfd;
  int checkouts_dfd;
  int containers_dfd;
  OstreeRepo *repo;
  /* An OstreeRepo has one transaction at a time, and checkouts rename into
   * one directory: imports, checkouts and ref changes take this in turn. */
  GMutex repo_lock;
  /* The same repo for reading committed images (export, diff, verify) without
   * the lock: an OstreeRepo in a transaction is no object to share between
   * threads, and an export to a slow reader must not hold imports up. */
  OstreeRepo *read_repo;
};

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
static gboolean
propagate_prefixed (GError **error, GError *local_error, CtrdError fallback, const char *prefix)
{
  ctrd_error_normalize (&local_error, fallback);
  g_propagate_prefixed_error (error, local_error, "%s: ", prefix);
  return FALSE;
}

/* Image IDs, container IDs and OSTree commit checksums all have the same
 * shape, 64 lowercase hex: checked before any of them is joined into a path. */
static gboolean
check_hex_id (const char *value, const char *what, GError **error)
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
  g_autoptr(GPtrArray) matching = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) names = ctrd_list_dir_at (dfd, "a storage directory", NULL);

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
  g_autoptr(GPtrArray) names =
      list_names_with_prefix (storage->checkouts_dfd, CHECKOUT_TMP_PREFIX);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *display = g_build_filename (storage->checkouts_path, name, NULL);
      g_autoptr(GError) local_error = NULL;
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
static void
remove_unlocked_staging_dirs (CtrdStorage *storage)
{
  g_autoptr(GPtrArray) names = NULL;
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
      g_autoptr(GError) local_error = NULL;
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
  g_autoptr(GError) local_error = NULL;
  g_autoptr(OstreeRepo) repo = NULL;

  if (faccessat (storage->root_dfd, "repo/config", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    repo = ostree_repo_open_at (storage->root_dfd, "repo", NULL, &local_error);
  else if (errno == ENOENT)
    repo = ostree_repo_create_at (storage->root_dfd, "repo", OSTREE_REPO_MODE_BARE, NULL, NULL,
                                  &local_error);
  else
    {
      ctrd_throw_errno (error, "Reading %s/config",
                       storage->repo_path);
      return NULL;
    }

  if (repo == NULL)
    {
      g_autofree char *prefix =
          g_strdup_printf ("Opening the OSTree repository %s", storage->repo_path);
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR, prefix);
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
  g_autoptr(CtrdStorage) storage = g_new0 (CtrdStorage, 1);
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
  remove_unlocked_staging_dirs (storage);

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
/* Import: the byte source
 *
 * Two libarchive readers in a chain: the decoder undoes any compression
 * ("raw" format over the source fd) and the tar reader parses what it
 * yields. That way we see the uncompressed tar bytes, whose sha256 is the
 * OCI diff_id and whose count bounds a decompression bomb. */

typedef struct
{
  int fd;              /* read with poll, so a stalled pipe can be cancelled */
  GInputStream *stream; /* or this, when set (a layer blob) */
  GCancellable *cancellable;
  int cancel_fd;
  guint64 max_bytes;
  guint64 source_bytes;
  guint64 tar_bytes;
  CtrdSha256 *tar_sha256;
  struct archive *decoder;
  struct archive *tar;
  gboolean limit_exceeded;
  gboolean cancelled;
  int source_errno;
  char *stream_error;
  char *decoder_error;
  CtrdProgressFunc progress; /* called with the source bytes read so far */
  gpointer progress_data;
  guchar source_buf[READ_CHUNK];
  guchar tar_buf[READ_CHUNK];
} ImportSource;

static void
import_source_free (ImportSource *src)
{
  if (src->tar != NULL)
    archive_read_free (src->tar);
  if (src->decoder != NULL)
    archive_read_free (src->decoder);
  if (src->cancel_fd >= 0)
    g_cancellable_release_fd (src->cancellable);
  g_clear_object (&src->cancellable);
  g_clear_object (&src->stream);
  g_clear_pointer (&src->tar_sha256, ctrd_sha256_free);
  g_free (src->stream_error);
  g_free (src->decoder_error);
  g_free (src);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImportSource, import_source_free)

static gboolean
source_check_cancelled (ImportSource *src)
{
  if (g_cancellable_is_cancelled (src->cancellable))
    src->cancelled = TRUE;
  return src->cancelled;
}

static gboolean
source_count (ImportSource *src, guint64 *counter, gsize n)
{
  *counter += n;
  if (src->max_bytes != 0 && *counter > src->max_bytes)
    src->limit_exceeded = TRUE;
  return !src->limit_exceeded;
}

static gssize
source_read_stream (ImportSource *src)
{
  g_autoptr(GError) local_error = NULL;
  gssize n = g_input_stream_read (src->stream, src->source_buf, sizeof src->source_buf,
                                  src->cancellable, &local_error);

  if (n >= 0)
    return n;
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    src->cancelled = TRUE;
  else
    src->stream_error = g_strdup (local_error->message);
  return -1;
}

/* Waits for data (or cancellation: a stalled pipe must not pin the import),
 * then reads. Copes with non-blocking fds from clients. */
static gssize
source_read_fd (ImportSource *src)
{
  if (src->stream != NULL)
    return source_read_stream (src);

  while (TRUE)
    {
      struct pollfd fds[2] = { { .fd = src->fd, .events = POLLIN },
                               { .fd = src->cancel_fd, .events = POLLIN } };
      gssize n;

      if (source_check_cancelled (src))
        return -1;
      if (poll (fds, src->cancel_fd >= 0 ? 2 : 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          src->source_errno = errno;
          return -1;
        }
      if (source_check_cancelled (src))
        return -1;
      n = read (src->fd, src->source_buf, sizeof src->source_buf);
      if (n >= 0)
        return n;
      if (errno != EINTR && errno != EAGAIN)
        {
          src->source_errno = errno;
          return -1;
        }
    }
}

static la_ssize_t
decoder_read_cb (struct archive *a, void *user_data, const void **buffer)
{
  ImportSource *src = user_data;
  gssize n = source_read_fd (src);

  if (n < 0)
    {
      archive_set_error (a, src->cancelled ? ECANCELED : src->source_errno ?: EIO,
                         "Reading the source");
      return -1;
    }
  if (!source_count (src, &src->source_bytes, n))
    {
      archive_set_error (a, EFBIG, "Size limit reached");
      return -1;
    }
  if (src->progress != NULL && n > 0)
    src->progress (src->source_bytes, 0, src->progress_data);
  *buffer = src->source_buf;
  return n;
}

/* The next uncompressed bytes: >0, 0 at the end, -1 on error. */
static la_ssize_t
source_read_tar_bytes (ImportSource *src)
{
  la_ssize_t n = archive_read_data (src->decoder, src->tar_buf, sizeof src->tar_buf);

  if (n < 0)
    {
      if (src->decoder_error == NULL)
        src->decoder_error = g_strdup (archive_error_string (src->decoder) ?: "invalid data");
      return -1;
    }
  ctrd_sha256_update (src->tar_sha256, src->tar_buf, n);
  if (!source_count (src, &src->tar_bytes, n))
    return -1;
  return n;
}

static la_ssize_t
tar_read_cb (struct archive *a, void *user_data, const void **buffer)
{
  ImportSource *src = user_data;
  la_ssize_t n = source_read_tar_bytes (src);

  if (n < 0)
    {
      archive_set_error (a, EIO, "%s", src->decoder_error ?: "Reading failed");
      return -1;
    }
  *buffer = src->tar_buf;
  return n;
}

/* Sets @error for a failure of the source or of @a (a reader of it): the
 * limit, cancellation and read errors win over what libarchive says. */
static gboolean
source_set_error (ImportSource *src, struct archive *a, const char *member, GError **error)
{
  const char *reason;

  if (src->limit_exceeded)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "The image is larger than the limit of %" G_GUINT64_FORMAT " bytes",
                   src->max_bytes);
      return FALSE;
    }
  if (src->cancelled || g_cancellable_is_cancelled (src->cancellable))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED, "The image import was cancelled");
      return FALSE;
    }
  if (src->source_errno != 0)
    {
      errno = src->source_errno;
      return ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT,
                                    "Cannot read the image source");
    }
  if (src->stream_error != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Cannot read the image source: %s", src->stream_error);
      return FALSE;
    }

  reason = src->decoder_error;
  if (reason == NULL && a != NULL)
    reason = archive_error_string (a);
  if (reason == NULL)
    reason = "unknown error";
  if (member != NULL)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "The image is not a valid tar archive: member %s: %s", member, reason);
  else
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "The image is not a valid tar archive: %s", reason);
  return FALSE;
}

static gboolean
check_source_fd (int fd, GError **error)
{
  struct stat st;
  int flags;

  if (fd < 0 || fstat (fd, &st) < 0 || (flags = fcntl (fd, F_GETFL)) < 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image source is not an open file descriptor");
      return FALSE;
    }
  /* A device (/dev/zero) would never end; a directory has no bytes. */
  if (!S_ISREG (st.st_mode) && !S_ISFIFO (st.st_mode) && !S_ISSOCK (st.st_mode))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image source must be a regular file, a pipe or a socket");
      return FALSE;
    }
  if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH) != 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image source is not open for reading");
      return FALSE;
    }
  return TRUE;
}

/* Only filters libarchive implements itself: an "external program" fallback
 * would run a host decompressor on untrusted input. */
static void
add_builtin_filters (struct archive *a)
{
  if (archive_read_support_filter_gzip (a) != ARCHIVE_OK)
    g_warning ("libarchive has no built-in gzip support");
  if (archive_read_support_filter_zstd (a) != ARCHIVE_OK)
    g_debug ("libarchive has no built-in zstd support");
  if (archive_read_support_filter_xz (a) != ARCHIVE_OK)
    g_debug ("libarchive has no built-in xz support");
  if (archive_read_support_filter_bzip2 (a) != ARCHIVE_OK)
    g_debug ("libarchive has no built-in bzip2 support");
}

/* Reads @fd, or @stream when it is set; @max_bytes 0 = no cap. Without
 * @with_tar only the decoder is opened (source_read_tar_bytes then yields the
 * uncompressed bytes). */
static ImportSource *
import_source_open (int fd, GInputStream *stream, guint64 max_bytes, gboolean with_tar,
                    CtrdProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                    GError **error)
{
  g_autoptr(ImportSource) src = g_new0 (ImportSource, 1);
  struct archive_entry *entry;

  src->fd = fd;
  src->stream = stream != NULL ? g_object_ref (stream) : NULL;
  src->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  src->cancel_fd = cancellable != NULL && stream == NULL ? g_cancellable_get_fd (cancellable) : -1;
  src->max_bytes = max_bytes;
  src->progress = progress;
  src->progress_data = progress_data;
  src->tar_sha256 = ctrd_sha256_new ();

  src->decoder = archive_read_new ();
  src->tar = archive_read_new ();
  if (src->decoder == NULL || src->tar == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Out of memory for libarchive");
      return NULL;
    }

  archive_read_support_filter_none (src->decoder);
  add_builtin_filters (src->decoder);
  archive_read_support_format_raw (src->decoder);
  if (archive_read_open (src->decoder, src, NULL, decoder_read_cb, NULL) != ARCHIVE_OK ||
      archive_read_next_header (src->decoder, &entry) != ARCHIVE_OK)
    {
      /* The raw format bids on anything but nothing. */
      if (src->source_bytes == 0 && !src->cancelled && src->source_errno == 0 &&
          src->stream_error == NULL)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image source is empty");
          return NULL;
        }
      source_set_error (src, src->decoder, NULL, error);
      return NULL;
    }
  if (!with_tar)
    return g_steal_pointer (&src);

  /* The tar reader covers ustar, pax and GNU tar. Only that family: "all
   * formats" would hand untrusted input to parsers we never meant to expose. */
  archive_read_support_filter_none (src->tar);
  archive_read_support_format_tar (src->tar);
  if (archive_read_open (src->tar, src, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
    {
      source_set_error (src, src->tar, NULL, error);
      return NULL;
    }

  return g_steal_pointer (&src);
}

/* After the tar end marker: the rest of the stream (block padding) belongs
 * to the digest, and anything that fails to decode means a damaged input. */
static gboolean
source_drain (ImportSource *src, GError **error)
{
  while (TRUE)
    {
      la_ssize_t n = source_read_tar_bytes (src);
      if (n == 0)
        return TRUE;
      if (n < 0)
        return source_set_error (src, src->decoder, NULL, error);
    }
}

/* ------------------------------------------------------------------ */
/* Import: a GInputStream over the current member's data */

#define CTRD_TYPE_ARCHIVE_DATA_STREAM (ctrd_archive_data_stream_get_type ())
G_DECLARE_FINAL_TYPE (CtrdArchiveDataStream, ctrd_archive_data_stream, CTRD, ARCHIVE_DATA_STREAM,
                      GInputStream)

struct _CtrdArchiveDataStream
{
  GInputStream parent_instance;
  struct archive *archive;
  gboolean failed; /* the archive, not the repo, failed */
};

G_DEFINE_TYPE (CtrdArchiveDataStream, ctrd_archive_data_stream, G_TYPE_INPUT_STREAM)

static gssize
ctrd_archive_data_stream_read (GInputStream *stream, void *buffer, gsize count,
                               GCancellable *cancellable, GError **error)
{
  CtrdArchiveDataStream *self = CTRD_ARCHIVE_DATA_STREAM (stream);
  la_ssize_t n = archive_read_data (self->archive, buffer, count);

  if (n < 0)
    {
      self->failed = TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                   archive_error_string (self->archive) ?: "reading failed");
      return -1;
    }
  return n;
}

static gboolean
ctrd_archive_data_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
ctrd_archive_data_stream_class_init (CtrdArchiveDataStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  stream_class->read_fn = ctrd_archive_data_stream_read;
  stream_class->close_fn = ctrd_archive_data_stream_close;
}

static void
ctrd_archive_data_stream_init (CtrdArchiveDataStream *self)
{
}

/* ------------------------------------------------------------------ */
/* Import: members into the mutable tree */

typedef struct
{
  OstreeRepo *repo;
  ImportSource *src;
  GCancellable *cancellable;
  OstreeMutableTree *root;
  char *default_dirmeta; /* 0755 root:root, for parents the tar does not list */
  guint64 max_entries;
  guint64 n_entries;
  guint64 n_skipped;
  GHashTable *content_sizes; /* checksum -> guint64*: sizes of the regular files written */
  /* Layer mode (an OCI layer over the ones before it): whiteouts are
   * honoured, and an entry replaces one of another kind that an earlier
   * layer left. layer_paths holds what this layer wrote and their parents:
   * whiteouts and opaque directories only hide what lower layers wrote. */
  gboolean layer_mode;
  GHashTable *layer_paths;
  guint64 layer_entries;
} ImportContext;

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define WHITEOUT_META_PREFIX ".wh..wh."

/* Skipped members are logged one by one up to this many, then counted. */
#define SKIPPED_LOG_MAX 20

/* A member path as components. A leading "/" and "." or empty components go
 * (so "/abs" and "./abs" both land at "abs" inside the image, the way tar
 * extracts them); ".." anywhere is refused rather than resolved, since the
 * tar cannot mean anything inside the image by it. Names must be UTF-8, as
 * OSTree stores them. */
static GPtrArray *
split_member_path (const char *path, const char *quoted, GError **error)
{
  g_autoptr(GPtrArray) components = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) parts = NULL;

  if (strlen (path) >= PATH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: the path is longer than %d bytes", quoted, PATH_MAX - 1);
      return NULL;
    }
  if (!g_utf8_validate (path, -1, NULL))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: the path is not valid UTF-8", quoted);
      return NULL;
    }

  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: “..” is not allowed in a path", quoted);
          return NULL;
        }
      if (strlen (parts[i]) > NAME_MAX)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: a name is longer than %d bytes", quoted, NAME_MAX);
          return NULL;
        }
      g_ptr_array_add (components, g_strdup (parts[i]));
    }
  if (components->len > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: nested deeper than %d directories", quoted, MEMBER_DEPTH_MAX);
      return NULL;
    }
  return g_steal_pointer (&components);
}

/* What the repo rejected because of the member's content (a name, a clash)
 * is the caller's input; anything else is ours. */
static gboolean
member_repo_error (ImportContext *ctx, GError *local_error, const char *quoted,
                   gboolean caused_by_input, GError **error)
{
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_cancellable_is_cancelled (ctx->cancellable))
    {
      g_error_free (local_error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED, "The image import was cancelled");
      return FALSE;
    }
  g_set_error (error, CTRD_ERROR,
               caused_by_input ? CTRD_ERROR_INVALID_ARGUMENT : CTRD_ERROR_STORAGE_ERROR,
               "Tar member %s: %s", quoted, local_error->message);
  g_error_free (local_error);
  return FALSE;
}

static GFileInfo *
file_info_new (GFileType type, guint32 mode, guint32 uid, guint32 gid)
{
  GFileInfo *info = g_file_info_new ();

  g_file_info_set_file_type (info, type);
  g_file_info_set_attribute_uint32 (info, "unix::mode", mode);
  g_file_info_set_attribute_uint32 (info, "unix::uid", uid);
  g_file_info_set_attribute_uint32 (info, "unix::gid", gid);
  return info;
}

static char *
repo_write_dirmeta (OstreeRepo *repo, GFileInfo *info, GVariant *xattrs,
                    GCancellable *cancellable, GError **error)
{
  /* Returned already sunk (transfer full). */
  g_autoptr(GVariant) dirmeta = ostree_create_directory_metadata (info, xattrs);
  g_autofree guchar *csum = NULL;

  if (!ostree_repo_write_metadata (repo, OSTREE_OBJECT_TYPE_DIR_META, NULL, dirmeta, &csum,
                                   cancellable, error))
    return NULL;
  return ostree_checksum_from_bytes (csum);
}

static char *
write_dirmeta (ImportContext *ctx, GFileInfo *info, GVariant *xattrs, GError **error)
{
  return repo_write_dirmeta (ctx->repo, info, xattrs, ctx->cancellable, error);
}

/* Capabilities and user data are kept; trusted.overlay.* (and user.overlay.*
 * of unprivileged overlays) would change what overlayfs makes of the lower
 * layer, and security.selinux is the host's business, so those and
 * everything else are dropped. */
static gboolean
keep_xattr (const char *name)
{
  return strcmp (name, "security.capability") == 0 ||
         (g_str_has_prefix (name, "user.") && !g_str_has_prefix (name, "user.overlay."));
}

static GVariant *
member_xattrs (struct archive_entry *entry)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ayay)"));
  const char *name;
  const void *value;
  size_t size;
  gboolean any = FALSE;

  archive_entry_xattr_reset (entry);
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      if (!keep_xattr (name))
        continue;
      g_variant_builder_add (&builder, "(@ay@ay)", g_variant_new_bytestring (name),
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, value, size, 1));
      any = TRUE;
    }
  if (!any)
    return NULL;
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* The directory that holds the member at @components, made (0755 root) where
 * the tar skipped it unless @create is FALSE (then a missing one gives NULL
 * without an error). A non-directory on the way ("lib -> /" and then
 * "lib/etc/x") is refused: the image stores symlinks, it never follows them. */
static OstreeMutableTree *
find_parent_dir (ImportContext *ctx, GPtrArray *components, gboolean create, const char *quoted,
                 GError **error)
{
  g_autoptr(OstreeMutableTree) dir = g_object_ref (ctx->root);

  for (guint i = 0; i + 1 < components->len; i++)
    {
      const char *name = components->pdata[i];
      g_autoptr(GError) local_error = NULL;
      g_autofree char *file_checksum = NULL;
      g_autoptr(OstreeMutableTree) subdir = NULL;

      if (ostree_mutable_tree_lookup (dir, name, &file_checksum, &subdir, &local_error))
        {
          if (subdir == NULL)
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Tar member %s: “%s” on its path is not a directory in the image",
                           quoted, name);
              return NULL;
            }
        }
      else
        {
          if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            {
              member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
              return NULL;
            }
          if (!create)
            return NULL;
          g_clear_error (&local_error);
          if (!ostree_mutable_tree_ensure_dir (dir, name, &subdir, &local_error))
            {
              member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
              return NULL;
            }
          ostree_mutable_tree_set_metadata_checksum (subdir, ctx->default_dirmeta);
        }
      g_set_object (&dir, subdir);
    }
  return g_steal_pointer (&dir);
}

static OstreeMutableTree *
ensure_parent_dir (ImportContext *ctx, GPtrArray *components, const char *quoted, GError **error)
{
  return find_parent_dir (ctx, components, TRUE, quoted, error);
}

typedef enum
{
  SLOT_MISSING,
  SLOT_FILE,
  SLOT_DIR,
} SlotKind;

static SlotKind
lookup_slot (OstreeMutableTree *parent, const char *name, char **out_checksum,
             OstreeMutableTree **out_subdir)
{
  g_autofree char *checksum = NULL;
  g_autoptr(OstreeMutableTree) subdir = NULL;
  SlotKind kind;

  if (!ostree_mutable_tree_lookup (parent, name, &checksum, &subdir, NULL))
    return SLOT_MISSING;
  kind = subdir != NULL ? SLOT_DIR : SLOT_FILE;
  if (out_checksum != NULL)
    *out_checksum = g_steal_pointer (&checksum);
  if (out_subdir != NULL)
    *out_subdir = g_steal_pointer (&subdir);
  return kind;
}

/* "a/b" for the first @n of @components ("" for none). */
static char *
join_components (GPtrArray *components, guint n)
{
  GString *path = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (path, '/');
      g_string_append (path, components->pdata[i]);
    }
  return g_string_free (path, FALSE);
}

static char *
child_path (const char *dir_path, const char *name)
{
  return dir_path[0] == '\0' ? g_strdup (name) : g_strconcat (dir_path, "/", name, NULL);
}

static gboolean
written_by_this_layer (ImportContext *ctx, const char *path)
{
  return ctx->layer_paths != NULL && g_hash_table_contains (ctx->layer_paths, path);
}

/* Records that this layer wrote @components, and so implied its parents. */
static void
mark_layer_path (ImportContext *ctx, GPtrArray *components, guint n)
{
  for (guint i = 1; i <= n; i++)
    g_hash_table_add (ctx->layer_paths, join_components (components, i));
}

/* Before @name is stored in @parent: an entry of the other kind (directory
 * or not) there is an error within one tar, but what an earlier layer left
 * is replaced by a later one (OCI layers are changesets). */
static gboolean
clear_other_kind (ImportContext *ctx, OstreeMutableTree *parent, const char *name,
                  GPtrArray *components, gboolean storing_dir, const char *quoted, GError **error)
{
  SlotKind kind = lookup_slot (parent, name, NULL, NULL);
  g_autofree char *path = NULL;
  g_autoptr(GError) local_error = NULL;

  if (kind == SLOT_MISSING || (kind == SLOT_DIR) == storing_dir)
    return TRUE;
  path = join_components (components, components->len);
  if (!ctx->layer_mode || written_by_this_layer (ctx, path))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   storing_dir ? "Tar member %s: a directory replaces an earlier non-directory"
                               : "Tar member %s: a non-directory replaces an earlier directory",
                   quoted);
      return FALSE;
    }
  if (!ostree_mutable_tree_remove (parent, name, FALSE, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
  return TRUE;
}

static gboolean
import_directory (ImportContext *ctx, struct archive_entry *entry, OstreeMutableTree *parent,
                  GPtrArray *components, const char *quoted, GError **error)
{
  const char *name = parent != NULL ? components->pdata[components->len - 1] : NULL;
  g_autoptr(GFileInfo) info =
      file_info_new (G_FILE_TYPE_DIRECTORY, S_IFDIR | (archive_entry_perm (entry) & 07777),
                     archive_entry_uid (entry), archive_entry_gid (entry));
  g_autoptr(GVariant) xattrs = member_xattrs (entry);
  g_autoptr(OstreeMutableTree) dir = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dirmeta = NULL;

  if (parent == NULL)
    dir = g_object_ref (ctx->root);
  else
    {
      if (!clear_other_kind (ctx, parent, name, components, TRUE, quoted, error))
        return FALSE;
      if (!ostree_mutable_tree_ensure_dir (parent, name, &dir, &local_error))
        return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
    }

  dirmeta = write_dirmeta (ctx, info, xattrs, &local_error);
  if (dirmeta == NULL)
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
  ostree_mutable_tree_set_metadata_checksum (dir, dirmeta);
  return TRUE;
}

static gboolean
import_file_or_symlink (ImportContext *ctx, struct archive_entry *entry, OstreeMutableTree *parent,
                        GPtrArray *components, const char *quoted, GError **error)
{
  const char *name = components->pdata[components->len - 1];
  gboolean is_symlink = archive_entry_filetype (entry) == AE_IFLNK;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GVariant) xattrs = member_xattrs (entry);
  g_autoptr(CtrdArchiveDataStream) data = NULL;
  g_autoptr(GInputStream) content = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guchar *csum = NULL;
  g_autofree char *checksum = NULL;
  guint64 length;

  if (!clear_other_kind (ctx, parent, name, components, FALSE, quoted, error))
    return FALSE;

  if (is_symlink)
    {
      const char *target = archive_entry_symlink_utf8 (entry) ?: archive_entry_symlink (entry);

      if (target == NULL || target[0] == '\0' || strlen (target) >= PATH_MAX ||
          !g_utf8_validate (target, -1, NULL))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the symlink target is empty, too long or not UTF-8", quoted);
          return FALSE;
        }
      info = file_info_new (G_FILE_TYPE_SYMBOLIC_LINK, S_IFLNK | 0777, archive_entry_uid (entry),
                            archive_entry_gid (entry));
      g_file_info_set_size (info, 0);
      g_file_info_set_symlink_target (info, target);
    }
  else
    {
      info = file_info_new (G_FILE_TYPE_REGULAR, S_IFREG | (archive_entry_perm (entry) & 07777),
                            archive_entry_uid (entry), archive_entry_gid (entry));
      g_file_info_set_size (info, archive_entry_size (entry));
      data = g_object_new (CTRD_TYPE_ARCHIVE_DATA_STREAM, NULL);
      data->archive = ctx->src->tar;
    }

  if (!ostree_raw_file_to_content_stream (data != NULL ? G_INPUT_STREAM (data) : NULL, info, xattrs,
                                          &content, &length, ctx->cancellable, &local_error) ||
      !ostree_repo_write_content (ctx->repo, NULL, content, length, &csum, ctx->cancellable,
                                  &local_error))
    {
      if (data != NULL && data->failed)
        return source_set_error (ctx->src, ctx->src->tar, quoted, error);
      return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
    }

  checksum = ostree_checksum_from_bytes (csum);
  if (!ostree_mutable_tree_replace_file (parent, name, checksum, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
  if (!is_symlink)
    {
      guint64 size = archive_entry_size (entry);
      g_hash_table_insert (ctx->content_sizes, g_steal_pointer (&checksum),
                           g_memdup2 (&size, sizeof size));
    }
  return TRUE;
}

/* Tar hardlinks name an earlier member; the new name gets the same content
 * object. A target that is missing, later in the archive or a directory
 * cannot be stored. */
static gboolean
import_hardlink (ImportContext *ctx, const char *target, OstreeMutableTree *parent,
                 GPtrArray *components, const char *quoted, GError **error)
{
  const char *name = components->pdata[components->len - 1];
  g_autofree char *quoted_target = ctrd_quote_untrusted (target);
  g_autoptr(GPtrArray) target_components = NULL;
  g_autoptr(OstreeMutableTree) target_dir = g_object_ref (ctx->root);
  g_autofree char *checksum = NULL;
  g_autoptr(GError) local_error = NULL;

  target_components = split_member_path (target, quoted_target, error);
  if (target_components == NULL)
    return g_prefix_error (error, "Hardlink %s: ", quoted), FALSE;
  if (target_components->len == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: a hardlink to the root directory", quoted);
      return FALSE;
    }

  for (guint i = 0; i < target_components->len; i++)
    {
      g_autoptr(OstreeMutableTree) subdir = NULL;
      gboolean last = i + 1 == target_components->len;
      SlotKind kind;

      g_clear_pointer (&checksum, g_free);
      kind = lookup_slot (target_dir, target_components->pdata[i], &checksum, &subdir);
      if (kind == SLOT_MISSING || (!last && kind != SLOT_DIR))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the hardlink target %s is not an earlier member", quoted,
                       quoted_target);
          return FALSE;
        }
      if (last && kind == SLOT_DIR)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the hardlink target %s is a directory", quoted,
                       quoted_target);
          return FALSE;
        }
      if (!last)
        g_set_object (&target_dir, subdir);
    }

  if (!clear_other_kind (ctx, parent, name, components, FALSE, quoted, error))
    return FALSE;
  if (!ostree_mutable_tree_replace_file (parent, name, checksum, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
  return TRUE;
}

static const char *
unsupported_type_name (mode_t type)
{
  switch (type)
    {
    case AE_IFCHR:
      return "character device";
    case AE_IFBLK:
      return "block device";
    case AE_IFIFO:
      return "FIFO";
    case AE_IFSOCK:
      return "socket";
    default:
      return NULL;
    }
}

/* Removes from @dir, recursively, every entry this layer did not write: what
 * an opaque directory (or a whiteout of a directory this layer also writes)
 * hides of the layers below. */
static gboolean
hide_lower_entries (ImportContext *ctx, OstreeMutableTree *dir, const char *dir_path,
                    const char *quoted, GError **error)
{
  g_autoptr(GPtrArray) file_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) dir_names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr(GError) local_error = NULL;

  /* Names are copied first: removing an entry frees the tree's own key. */
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_files (dir));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (file_names, g_strdup (key));
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_subdirs (dir));
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (dir_names, g_strdup (key));
  if (!ostree_mutable_tree_check_error (dir, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);

  for (guint i = 0; i < file_names->len; i++)
    {
      g_autofree char *path = child_path (dir_path, file_names->pdata[i]);

      if (!written_by_this_layer (ctx, path) &&
          !ostree_mutable_tree_remove (dir, file_names->pdata[i], FALSE, &local_error))
        return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
    }
  for (guint i = 0; i < dir_names->len; i++)
    {
      g_autofree char *path = child_path (dir_path, dir_names->pdata[i]);
      g_autoptr(OstreeMutableTree) subdir = NULL;

      if (!written_by_this_layer (ctx, path))
        {
          if (!ostree_mutable_tree_remove (dir, dir_names->pdata[i], FALSE, &local_error))
            return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
          continue;
        }
      if (lookup_slot (dir, dir_names->pdata[i], NULL, &subdir) == SLOT_DIR &&
          !hide_lower_entries (ctx, subdir, path, quoted, error))
        return FALSE;
    }
  return TRUE;
}

/* An OCI whiteout member (its last component starts with ".wh."), applied
 * by exact name: ".wh..wh..opq" makes its directory opaque, ".wh.NAME"
 * deletes NAME from the layers below; a bare ".wh." (which a lax reader
 * takes for its parent directory) and ".wh.." or ".wh..." are refused;
 * other ".wh..wh." names are aufs bookkeeping and ignored, like Docker does. */
static gboolean
apply_whiteout (ImportContext *ctx, GPtrArray *components, const char *quoted, GError **error)
{
  const char *marker = components->pdata[components->len - 1];
  const char *target = marker + strlen (WHITEOUT_PREFIX);
  g_autoptr(OstreeMutableTree) parent = NULL;
  g_autoptr(OstreeMutableTree) subdir = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir_path = join_components (components, components->len - 1);
  g_autofree char *target_path = NULL;
  SlotKind kind;

  if (strcmp (marker, WHITEOUT_OPAQUE) == 0)
    {
      parent = ensure_parent_dir (ctx, components, quoted, error);
      if (parent == NULL)
        return FALSE;
      mark_layer_path (ctx, components, components->len - 1);
      return hide_lower_entries (ctx, parent, dir_path, quoted, error);
    }
  if (g_str_has_prefix (marker, WHITEOUT_META_PREFIX))
    {
      g_debug ("Image import: ignored aufs metadata %s", quoted);
      return TRUE;
    }
  if (target[0] == '\0' || strcmp (target, ".") == 0 || strcmp (target, "..") == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: a whiteout must name what it deletes", quoted);
      return FALSE;
    }

  parent = find_parent_dir (ctx, components, FALSE, quoted, &local_error);
  if (parent == NULL)
    {
      if (local_error == NULL)
        return TRUE; /* its directory does not exist: nothing to delete */
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  target_path = child_path (dir_path, target);
  kind = lookup_slot (parent, target, NULL, &subdir);
  if (kind == SLOT_MISSING)
    return TRUE;
  if (written_by_this_layer (ctx, target_path))
    {
      /* A whiteout only hides lower layers: what this layer wrote stays. */
      if (kind == SLOT_DIR)
        return hide_lower_entries (ctx, subdir, target_path, quoted, error);
      return TRUE;
    }
  if (!ostree_mutable_tree_remove (parent, target, FALSE, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
  return TRUE;
}

static gboolean
store_member (ImportContext *ctx, struct archive_entry *entry, GPtrArray *components,
              const char *hardlink, const char *quoted, GError **error)
{
  mode_t type = archive_entry_filetype (entry);
  g_autoptr(OstreeMutableTree) parent = NULL;

  if (components->len == 0)
    {
      if (hardlink != NULL || type != AE_IFDIR)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the root of the image must be a directory", quoted);
          return FALSE;
        }
      return import_directory (ctx, entry, NULL, components, quoted, error);
    }

  parent = ensure_parent_dir (ctx, components, quoted, error);
  if (parent == NULL)
    return FALSE;

  if (hardlink != NULL)
    return import_hardlink (ctx, hardlink, parent, components, quoted, error);

  switch (type)
    {
    case AE_IFDIR:
      return import_directory (ctx, entry, parent, components, quoted, error);
    case AE_IFREG:
    case AE_IFLNK:
      return import_file_or_symlink (ctx, entry, parent, components, quoted, error);
    default:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s has an unknown file type (0%o)", quoted, (guint) type);
      return FALSE;
    }
}

static gboolean
import_member (ImportContext *ctx, struct archive_entry *entry, GError **error)
{
  const char *path = archive_entry_pathname_utf8 (entry) ?: archive_entry_pathname (entry);
  const char *hardlink = archive_entry_hardlink_utf8 (entry) ?: archive_entry_hardlink (entry);
  mode_t type = archive_entry_filetype (entry);
  g_autofree char *quoted = ctrd_quote_untrusted (path);
  g_autoptr(GPtrArray) components = NULL;

  if (path == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %" G_GUINT64_FORMAT " has no readable name", ctx->n_entries);
      return FALSE;
    }
  components = split_member_path (path, quoted, error);
  if (components == NULL)
    return FALSE;

  /* Whatever its type: a whiteout shipped as a hardlink or a device is
   * still a whiteout, and must not land in the image. */
  if (ctx->layer_mode && components->len > 0 &&
      g_str_has_prefix (components->pdata[components->len - 1], WHITEOUT_PREFIX))
    return apply_whiteout (ctx, components, quoted, error);

  if (hardlink == NULL && unsupported_type_name (type) != NULL)
    {
      /* Devices come from runc's /dev, never from an image (and a 0:0
       * character device would be an overlay whiteout in the lower layer). */
      if (++ctx->n_skipped <= SKIPPED_LOG_MAX)
        g_message ("Image import: skipped %s %s (not stored in images)",
                   unsupported_type_name (type), quoted);
      return TRUE;
    }

  if (!store_member (ctx, entry, components, hardlink, quoted, error))
    return FALSE;
  if (ctx->layer_mode)
    mark_layer_path (ctx, components, components->len);
  return TRUE;
}

static gboolean
import_all_members (ImportContext *ctx, GError **error)
{
  while (TRUE)
    {
      struct archive_entry *entry;
      int r = archive_read_next_header (ctx->src->tar, &entry);

      if (r == ARCHIVE_EOF)
        break;
      if (r == ARCHIVE_WARN)
        g_debug ("Image import: %s", archive_error_string (ctx->src->tar));
      else if (r != ARCHIVE_OK)
        return source_set_error (ctx->src, ctx->src->tar, NULL, error);

      ctx->n_entries++;
      ctx->layer_entries++;
      if (ctx->max_entries != 0 && ctx->n_entries > ctx->max_entries)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "The image has more than the limit of %" G_GUINT64_FORMAT " members",
                       ctx->max_entries);
          return FALSE;
        }
      if (g_cancellable_is_cancelled (ctx->cancellable))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED, "The image import was cancelled");
          return FALSE;
        }
      if (!import_member (ctx, entry, error))
        return FALSE;
    }

  /* Layers are summed up once, at the commit. */
  if (ctx->n_skipped > SKIPPED_LOG_MAX && !ctx->layer_mode)
    g_message ("Image import: skipped %" G_GUINT64_FORMAT " device nodes, FIFOs and sockets",
               ctx->n_skipped);
  /* A layer may be empty (a change that only touched metadata elsewhere);
   * a root filesystem may not. */
  if (ctx->layer_entries == 0 && !ctx->layer_mode)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image tar archive contains no files");
      return FALSE;
    }
  return source_drain (ctx->src, error);
}

/* ------------------------------------------------------------------ */
/* Import: the image config and the commit */

/* Adds the sizes of the distinct regular files under @dir to @total: what
 * the image's files take in the repo. @known_sizes (checksum -> guint64*)
 * saves loading the objects written just now. */
static gboolean
add_tree_size (OstreeRepo *repo, OstreeMutableTree *dir, GHashTable *known_sizes, GHashTable *seen,
               guint64 *total, GCancellable *cancellable, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_files (dir));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const guint64 *known;
      g_autoptr(GFileInfo) info = NULL;

      if (!g_hash_table_add (seen, g_strdup (value)))
        continue;
      known = known_sizes != NULL ? g_hash_table_lookup (known_sizes, value) : NULL;
      if (known != NULL)
        {
          *total += *known;
          continue;
        }
      if (!ostree_repo_load_file (repo, value, NULL, &info, NULL, cancellable, error))
        return FALSE;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR)
        *total += g_file_info_get_size (info);
    }
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_subdirs (dir));
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!add_tree_size (repo, value, known_sizes, seen, total, cancellable, error))
      return FALSE;
  return ostree_mutable_tree_check_error (dir, error);
}

static gboolean
begin_transaction (CtrdStorage *storage, GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!ostree_repo_prepare_transaction (storage->repo, NULL, cancellable, &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               "Starting an OSTree transaction");
  return TRUE;
}

/* No ref was set, so nothing names what was written; the staging directory
 * holding it goes too. */
static void
abort_transaction (CtrdStorage *storage)
{
  g_autoptr(GError) abort_error = NULL;

  if (!ostree_repo_abort_transaction (storage->repo, NULL, &abort_error))
    g_warning ("Aborting the OSTree transaction: %s", abort_error->message);
  remove_unlocked_staging_dirs (storage);
}

/* After a failure inside a transaction: nothing of it stays, and @local_error
 * (taken) reaches @error with a CTRD_ERROR code. Returns NULL, for the
 * caller to return. */
static gpointer
fail_transaction (CtrdStorage *storage, GError *local_error, GError **error)
{
  abort_transaction (storage);
  ctrd_error_normalize (&local_error, CTRD_ERROR_STORAGE_ERROR);
  g_propagate_error (error, local_error);
  return NULL;
}

/* In a transaction: sets up @ctx to write into @root. */
static gboolean
import_context_init (ImportContext *ctx, CtrdStorage *storage, OstreeMutableTree *root,
                     guint64 max_entries, gboolean layer_mode, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr(GFileInfo) default_dir_info =
      file_info_new (G_FILE_TYPE_DIRECTORY, S_IFDIR | 0755, 0, 0);
  g_autoptr(GError) local_error = NULL;

  *ctx = (ImportContext){
    .repo = storage->repo,
    .cancellable = cancellable,
    .root = g_object_ref (root),
    .max_entries = max_entries,
    .content_sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .layer_mode = layer_mode,
    .layer_paths =
        layer_mode ? g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) : NULL,
  };
  ctx->default_dirmeta = write_dirmeta (ctx, default_dir_info, NULL, &local_error);
  if (ctx->default_dirmeta == NULL)
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               "Writing directory metadata");
  return TRUE;
}

static void
import_context_clear (ImportContext *ctx)
{
  g_clear_object (&ctx->root);
  g_clear_pointer (&ctx->default_dirmeta, g_free);
  g_clear_pointer (&ctx->content_sizes, g_hash_table_unref);
  g_clear_pointer (&ctx->layer_paths, g_hash_table_unref);
}

/* In a transaction: writes @root as a commit whose metadata holds
 * @config_json (verbatim), points images/<sha256 of @config_json> at it and
 * commits the transaction. */
static CtrdImportResult *
commit_image_tree (CtrdStorage *storage, OstreeMutableTree *root, const char *default_dirmeta,
                   GHashTable *known_sizes, const char *config_json, guint64 created_at,
                   const char *subject, GCancellable *cancellable, GError **error)
{
  g_autoptr(CtrdImportResult) result = g_new0 (CtrdImportResult, 1);
  g_autoptr(GFile) root_file = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *ref = NULL;
  g_auto(GVariantDict) metadata = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) metadata_variant = NULL;

  if (ostree_mutable_tree_get_metadata_checksum (root) == NULL && default_dirmeta != NULL)
    ostree_mutable_tree_set_metadata_checksum (root, default_dirmeta);
  if (!ostree_repo_write_mtree (storage->repo, root, &root_file, cancellable, &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                          "Writing the image tree");
      return NULL;
    }
  if (!add_tree_size (storage->repo, root, known_sizes, seen, &result->size, cancellable,
                      &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                          "Measuring the image tree");
      return NULL;
    }

  result->created_at = created_at;
  result->config_json = g_strdup (config_json);
  result->image_id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, config_json, -1);

  g_variant_dict_insert (&metadata, IMAGE_CONFIG_KEY, "s", config_json);
  metadata_variant = g_variant_ref_sink (g_variant_dict_end (&metadata));
  if (!ostree_repo_write_commit_with_time (storage->repo, NULL, subject, NULL, metadata_variant,
                                           OSTREE_REPO_FILE (root_file),
                                           created_at / G_USEC_PER_SEC, &result->commit,
                                           cancellable, &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                          "Writing the image commit");
      return NULL;
    }

  ref = g_strconcat (IMAGE_REF_PREFIX, result->image_id, NULL);
  ostree_repo_transaction_set_ref (storage->repo, NULL, ref, result->commit);
  if (!ostree_repo_commit_transaction (storage->repo, NULL, cancellable, &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                          "Committing the image");
      return NULL;
    }
  return g_steal_pointer (&result);
}

static CtrdImportResult *
import_in_transaction (CtrdStorage *storage, ImportSource *src, const CtrdImportLimits *limits,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr(OstreeMutableTree) root = ostree_mutable_tree_new ();
  g_autofree char *diff_id = NULL;
  g_autofree char *config_json = NULL;
  guint64 created_at = ctrd_now_usec ();
  ImportContext ctx;
  CtrdImportResult *result;

  if (!import_context_init (&ctx, storage, root, limits != NULL ? limits->max_entries : 0, FALSE,
                            cancellable, error))
    {
      import_context_clear (&ctx);
      return NULL;
    }
  ctx.src = src;
  if (!import_all_members (&ctx, error))
    {
      import_context_clear (&ctx);
      return NULL;
    }
  diff_id = g_strconcat ("sha256:", ctrd_sha256_get_string (src->tar_sha256), NULL);
  config_json = ctrd_image_config_new_for_rootfs (created_at, diff_id);
  result = commit_image_tree (storage, root, ctx.default_dirmeta, ctx.content_sizes, config_json,
                              created_at, "containersd image import", cancellable, error);
  import_context_clear (&ctx);
  return result;
}

CtrdImportResult *
ctrd_storage_import_rootfs_tar (CtrdStorage *storage, int fd, const CtrdImportLimits *limits,
                                GCancellable *cancellable, GError **error)
{
  return ctrd_storage_import_rootfs_tar_full (storage, fd, limits, NULL, NULL, cancellable, error);
}

CtrdImportResult *
ctrd_storage_import_rootfs_tar_full (CtrdStorage *storage, int fd, const CtrdImportLimits *limits,
                                     CtrdProgressFunc progress, gpointer progress_data,
                                     GCancellable *cancellable, GError **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(ImportSource) src = NULL;
  g_autoptr(GError) local_error = NULL;
  CtrdImportResult *result;

  g_return_val_if_fail (storage != NULL, NULL);

  if (!check_source_fd (fd, error))
    return NULL;

  locker = g_mutex_locker_new (&storage->repo_lock);

  src = import_source_open (fd, NULL, limits != NULL ? limits->max_bytes : 0, TRUE, progress,
                            progress_data, cancellable, error);
  if (src == NULL)
    return NULL;

  if (!begin_transaction (storage, cancellable, error))
    return NULL;

  result = import_in_transaction (storage, src, limits, cancellable, &local_error);
  if (result == NULL)
    return fail_transaction (storage, g_steal_pointer (&local_error), error);
  return result;
}

/* ------------------------------------------------------------------ */
/* Import: OCI layers, one after the other, into one commit */

struct _CtrdLayerImport
{
  CtrdStorage *storage;
  GCancellable *cancellable;
  OstreeMutableTree *root;
  ImportContext ctx;
  guint64 max_bytes;  /* uncompressed bytes, over all layers; 0 = no cap */
  guint64 used_bytes;
  guint n_layers;
  gboolean in_transaction;
  gboolean failed;    /* a layer failed half-way: the tree must not be committed */
};

CtrdLayerImport *
ctrd_storage_layer_import_begin (CtrdStorage *storage, const CtrdImportLimits *limits,
                                 GCancellable *cancellable, GError **error)
{
  g_autoptr(CtrdLayerImport) import = g_new0 (CtrdLayerImport, 1);

  g_return_val_if_fail (storage != NULL, NULL);

  g_mutex_lock (&storage->repo_lock);
  import->storage = storage;
  import->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  import->root = ostree_mutable_tree_new ();
  import->max_bytes = limits != NULL ? limits->max_bytes : 0;

  if (!begin_transaction (storage, cancellable, error))
    return NULL;
  import->in_transaction = TRUE;
  if (!import_context_init (&import->ctx, storage, import->root,
                            limits != NULL ? limits->max_entries : 0, TRUE, cancellable, error))
    return NULL;
  return g_steal_pointer (&import);
}

gboolean
ctrd_layer_import_apply (CtrdLayerImport *import, GInputStream *layer,
                         const char *expected_diff_id, char **out_diff_id, GError **error)
{
  g_autoptr(ImportSource) src = NULL;
  g_autofree char *diff_id = NULL;
  guint64 remaining = 0;

  g_return_val_if_fail (import != NULL && !import->failed, FALSE);

  import->n_layers++;
  if (import->max_bytes != 0)
    {
      if (import->used_bytes >= import->max_bytes)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "The image is larger than the limit of %" G_GUINT64_FORMAT " bytes",
                       import->max_bytes);
          return FALSE;
        }
      remaining = import->max_bytes - import->used_bytes;
    }

  /* Until the layer is complete the tree is half-changed. */
  import->failed = TRUE;
  src = import_source_open (-1, layer, remaining, TRUE, NULL, NULL, import->cancellable, error);
  if (src == NULL)
    return g_prefix_error (error, "Layer %u: ", import->n_layers), FALSE;

  g_hash_table_remove_all (import->ctx.layer_paths);
  import->ctx.layer_entries = 0;
  import->ctx.src = src;
  if (!import_all_members (&import->ctx, error))
    {
      import->ctx.src = NULL;
      return g_prefix_error (error, "Layer %u: ", import->n_layers), FALSE;
    }
  import->ctx.src = NULL;
  import->used_bytes += MAX (src->tar_bytes, src->source_bytes);

  diff_id = g_strconcat ("sha256:", ctrd_sha256_get_string (src->tar_sha256), NULL);
  if (expected_diff_id != NULL && strcmp (diff_id, expected_diff_id) != 0)
    {
      gboolean printable = g_str_has_prefix (expected_diff_id, "sha256:") &&
                           ctrd_is_full_id (expected_diff_id + strlen ("sha256:"));
      g_autofree char *quoted = printable ? g_strdup (expected_diff_id)
                                          : ctrd_quote_untrusted (expected_diff_id);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Layer %u: its content is %s, but the image config says %s", import->n_layers,
                   diff_id, quoted);
      return FALSE;
    }
  import->failed = FALSE;
  if (out_diff_id != NULL)
    *out_diff_id = g_steal_pointer (&diff_id);
  return TRUE;
}

CtrdImportResult *
ctrd_layer_import_commit (CtrdLayerImport *import, const char *config_json, guint64 created_at,
                          GError **error)
{
  g_autoptr(GError) local_error = NULL;
  CtrdImportResult *result;

  g_return_val_if_fail (import != NULL && import->in_transaction, NULL);

  if (import->failed)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                   "A layer of the image failed: it cannot be committed");
      return NULL;
    }
  if (config_json == NULL || !g_utf8_validate (config_json, -1, NULL))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image config is not UTF-8 text");
      return NULL;
    }
  if (import->ctx.n_skipped > SKIPPED_LOG_MAX)
    g_message ("Image import: skipped %" G_GUINT64_FORMAT " device nodes, FIFOs and sockets",
               import->ctx.n_skipped);

  result = commit_image_tree (import->storage, import->root, import->ctx.default_dirmeta,
                              import->ctx.content_sizes, config_json,
                              created_at != 0 ? created_at : ctrd_now_usec (),
                              "containersd image import", import->cancellable, &local_error);
  if (result == NULL)
    {
      ctrd_error_normalize (&local_error, CTRD_ERROR_STORAGE_ERROR);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  import->in_transaction = FALSE;
  return result;
}

void
ctrd_layer_import_free (CtrdLayerImport *import)
{
  if (import == NULL)
    return;
  if (import->storage != NULL)
    {
      if (import->in_transaction)
        abort_transaction (import->storage);
      g_mutex_unlock (&import->storage->repo_lock);
    }
  import_context_clear (&import->ctx);
  g_clear_object (&import->root);
  g_clear_object (&import->cancellable);
  g_free (import);
}

/* ------------------------------------------------------------------ */
/* Temporary files, spooling and writing to clients */

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

int
ctrd_storage_spool_source (CtrdStorage *storage, int fd, guint64 max_bytes,
                           CtrdProgressFunc progress, gpointer progress_data,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr(ImportSource) src = NULL;
  ctrd_autofd int tmp_fd = -1;

  if (!check_source_fd (fd, error))
    return -1;
  src = import_source_open (fd, NULL, max_bytes, FALSE, progress, progress_data, cancellable,
                            error);
  if (src == NULL)
    return -1;
  tmp_fd = ctrd_storage_open_tmpfile (storage, error);
  if (tmp_fd < 0)
    return -1;

  while (TRUE)
    {
      la_ssize_t n = source_read_tar_bytes (src);

      if (n == 0)
        break;
      if (n < 0)
        {
          source_set_error (src, src->decoder, NULL, error);
          return -1;
        }
      if (!ctrd_fd_write_all (tmp_fd, src->tar_buf, n, cancellable, error))
        {
          ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
          g_prefix_error (error, "Spooling the image: ");
          return -1;
        }
    }
  if (lseek (tmp_fd, 0, SEEK_SET) < 0)
    return ctrd_throw_errno (error, "Rewinding the spooled image"), -1;
  return ctrd_steal_fd (&tmp_fd);
}

static GVariant *
load_commit_metadata (CtrdStorage *storage, const char *commit, GVariant **out_commit,
                      GError **error)
{
  g_autoptr(GVariant) commit_variant = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!check_hex_id (commit, "an OSTree commit checksum", error))
    return NULL;
  if (!ostree_repo_load_commit (storage->read_repo, commit, &commit_variant, NULL,
                                &local_error))
    {
      g_autofree char *prefix = g_strdup_printf ("Image commit %s", commit);
      CtrdError code = g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                           ? CTRD_ERROR_NOT_FOUND
                           : CTRD_ERROR_STORAGE_ERROR;
      propagate_prefixed (error, g_steal_pointer (&local_error), code, prefix);
      return NULL;
    }
  if (out_commit != NULL)
    *out_commit = g_variant_ref (commit_variant);
  return g_variant_get_child_value (commit_variant, 0);
}

char *
ctrd_storage_read_image_config (CtrdStorage *storage, const char *commit, GError **error)
{
  g_autoptr(GVariant) metadata = load_commit_metadata (storage, commit, NULL, error);
  const char *config = NULL;

  if (metadata == NULL)
    return NULL;
  if (!g_variant_lookup (metadata, IMAGE_CONFIG_KEY, "&s", &config))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                   "Image commit %s holds no image config", commit);
      return NULL;
    }
  return g_strdup (config);
}

gboolean
ctrd_storage_delete_image_ref (CtrdStorage *storage, const char *image_id, GError **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *ref = NULL;

  if (!check_hex_id (image_id, "an image ID", error))
    return FALSE;

  locker = g_mutex_locker_new (&storage->repo_lock);
  ref = g_strconcat (IMAGE_REF_PREFIX, image_id, NULL);
  if (!ostree_repo_set_ref_immediate (storage->repo, NULL, ref, NULL, NULL, &local_error))
    {
      g_autofree char *prefix = g_strdup_printf ("Deleting the ref of image %s", image_id);
      return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                 prefix);
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Checkouts */

char *
ctrd_storage_ensure_checkout (CtrdStorage *storage, const char *commit, GCancellable *cancellable,
                              GError **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tmp_path = NULL;
  g_autofree char *tmp_name = NULL;
  OstreeRepoCheckoutAtOptions options = { 0 };
  struct stat st;
  ctrd_autofd int tmp_dfd = -1;

  if (!check_hex_id (commit, "an OSTree commit checksum", error))
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
          propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND, prefix);
          return NULL;
        }
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR, prefix);
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
      g_autoptr(GError) cleanup_error = NULL;
      g_autofree char *prefix = g_strdup_printf ("Checking out image commit %s", commit);

      if (!ctrd_remove_tree_at (storage->checkouts_dfd, tmp_name, tmp_path, NULL, &cleanup_error))
        g_warning ("%s", cleanup_error->message);
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR, prefix);
      return NULL;
    }

  /* Links are metadata: make them durable before the name says "complete". */
  if (syncfs (tmp_dfd) < 0)
    g_debug ("syncfs on %s: %s", tmp_path, g_strerror (errno));
  if (renameat (tmp_dfd, "rootfs", storage->checkouts_dfd, commit) < 0)
    {
      int errsv = errno;
      g_autoptr(GError) cleanup_error = NULL;

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
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree char *path = NULL;

  if (!check_hex_id (commit, "an OSTree commit checksum", error))
    return FALSE;
  locker = g_mutex_locker_new (&storage->repo_lock);
  path = g_build_filename (storage->checkouts_path, commit, NULL);
  return ctrd_remove_tree_at (storage->checkouts_dfd, commit, path, cancellable, error);
}

gboolean
ctrd_storage_prune (CtrdStorage *storage, guint64 *out_freed_bytes, GCancellable *cancellable,
                    GError **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&storage->repo_lock);
  g_autoptr(GError) local_error = NULL;
  gint n_total = 0, n_pruned = 0;
  guint64 freed = 0;

  if (!ostree_repo_prune (storage->repo, OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY, -1, &n_total, &n_pruned,
                          &freed, cancellable, &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               "Pruning the image repository");
  g_debug ("Pruned %d of %d objects, %" G_GUINT64_FORMAT " bytes", n_pruned, n_total, freed);
  if (out_freed_bytes != NULL)
    *out_freed_bytes = freed;
  return TRUE;
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
  g_autoptr(GPtrArray) entries =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mount_entry_free);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", -1);
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
  g_autoptr(GPtrArray) entries = read_mountinfo (NULL);
  g_autofree char *canonical = canonical_path (path);

  if (entries == NULL)
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    if (strcmp (((MountEntry *) entries->pdata[i])->mount_point, canonical) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
path_is_at_or_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* A mount point inside @dir, or an overlay whose upper or work directory is
 * inside it (the container's rootfs mount lives in the run root). */
static char *
find_mount_using (const char *dir)
{
  g_autoptr(GPtrArray) entries = read_mountinfo (NULL);

  if (entries == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      MountEntry *entry = entries->pdata[i];
      g_auto(GStrv) options = NULL;

      if (path_is_at_or_under (entry->mount_point, dir))
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
          if (path_is_at_or_under (value, dir))
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

  if (!check_hex_id (id, "a container ID", error))
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
  g_autoptr(GPtrArray) names = NULL;
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

  if (!check_hex_id (id, "a container ID", error))
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
    return ctrd_throw_errno (error, "Creating mount point %s",
                            mountpoint);
  if (!match_fresh_upper_to_lower (upper, lower_dir, error))
    return FALSE;

  options = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s", lower_dir, upper, work);
  /* nodev: device nodes come from the runtime's /dev, never from the rootfs. */
  if (mount ("overlay", mountpoint, "overlay", MS_NODEV, options) < 0)
    return ctrd_throw_errno (error, "Mounting the root filesystem of container %s at %s", id, mountpoint);
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
            return ctrd_throw_errno (error, "Unmounting %s",
                                    mountpoint);
          /* Busy (a process still inside): detach now, the kernel frees it
           * when the last user goes. */
          if (umount2 (mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
            return ctrd_throw_errno (error, "Unmounting %s lazily",
                                    mountpoint);
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

  if (!check_hex_id (id, "a container ID", error))
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

/* ------------------------------------------------------------------ */
/* Extended attributes of host files */

static int
compare_xattr_entries (gconstpointer a, gconstpointer b)
{
  GVariant *const *va = a;
  GVariant *const *vb = b;
  g_autoptr(GVariant) name_a = g_variant_get_child_value (*va, 0);
  g_autoptr(GVariant) name_b = g_variant_get_child_value (*vb, 0);

  return g_strcmp0 (g_variant_get_bytestring (name_a), g_variant_get_bytestring (name_b));
}

/* @xattrs (a(ayay), may be NULL) with only the kept names, sorted by name:
 * a form two sets can be compared in. Never NULL. */
static GVariant *
canonical_xattrs (GVariant *xattrs)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ayay)"));

  for (gsize i = 0; xattrs != NULL && i < g_variant_n_children (xattrs); i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (xattrs, i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);

      if (keep_xattr (g_variant_get_bytestring (name)))
        g_ptr_array_add (entries, g_steal_pointer (&entry));
    }
  g_ptr_array_sort (entries, compare_xattr_entries);
  for (guint i = 0; i < entries->len; i++)
    g_variant_builder_add_value (&builder, entries->pdata[i]);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static int
compare_c_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

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
      g_autoptr(GVariant) name = NULL;
      g_autoptr(GVariant) value = NULL;
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
  g_autoptr(CtrdArchiveEntry) entry = archive_entry_new ();
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GVariant) xattrs = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *first_path = g_hash_table_lookup (writer->first_paths, checksum);
  gboolean is_symlink;

  if (!ostree_repo_load_file (writer->repo, checksum, &input, &info, &xattrs, writer->cancellable,
                              &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               path);
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
        return propagate_prefixed (error, g_steal_pointer (&local_error),
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
  g_autoptr(CtrdArchiveEntry) entry = archive_entry_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GVariant) xattrs = NULL;
  g_autoptr(GVariant) files = NULL;
  g_autoptr(GVariant) dirs = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GHashTable) dir_names = g_hash_table_new (g_str_hash, g_str_equal);
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
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               path);
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
  g_ptr_array_sort (names, compare_c_strings);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_strconcat (path, "/", name, NULL);
      g_autoptr(GFile) child_file = g_file_get_child (G_FILE (dir), name);

      if (g_hash_table_contains (dir_names, name))
        {
          if (!tar_write_dir (writer, OSTREE_REPO_FILE (child_file), child, depth + 1, error))
            return FALSE;
        }
      else
        {
          g_autoptr(GError) file_error = NULL;
          if (!ostree_repo_file_ensure_resolved (OSTREE_REPO_FILE (child_file), &file_error))
            return propagate_prefixed (error, g_steal_pointer (&file_error),
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
ctrd_storage_write_rootfs_tar (CtrdStorage *storage, const char *commit, int fd,
                               guint64 *out_size, char **out_sha256, CtrdProgressFunc progress,
                               gpointer progress_data, guint64 total_hint,
                               GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) commit_variant = NULL;
  g_autoptr(GVariant) metadata = NULL;
  g_autoptr(GFile) root = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) first_paths =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(CtrdTarWriter) tar = NULL;
  TarWriter writer = {
    .repo = storage->read_repo,
    .first_paths = first_paths,
    .cancellable = cancellable,
  };

  metadata = load_commit_metadata (storage, commit, &commit_variant, error);
  if (metadata == NULL)
    return FALSE;
  if (!ostree_repo_read_commit (storage->read_repo, commit, &root, NULL, cancellable,
                                &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               "Reading the image commit");
  writer.mtime = (gint64) ostree_commit_get_timestamp (commit_variant);

  /* The output's errors are CTRD_ERROR here: a reader that went away is
   * FAILED, cancellation CANCELLED. */
  tar = ctrd_tar_writer_new (fd, CTRD_TAR_FLAGS_SHA256, cancellable, &local_error);
  if (tar == NULL)
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               "Writing the tar");
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

/* ------------------------------------------------------------------ */
/* Container commit: the image commit plus an overlay upper directory */

typedef struct
{
  CtrdStorage *storage;
  GCancellable *cancellable;
  GHashTable *content_sizes; /* checksum -> guint64* */
  GHashTable *inode_checksums; /* "dev:ino" -> checksum, for hardlinks in the upper dir */
  char **exclude_paths;
  guint64 n_skipped;
} UpperWalk;

static gboolean
path_is_excluded (char **exclude_paths, const char *path)
{
  for (guint i = 0; exclude_paths != NULL && exclude_paths[i] != NULL; i++)
    if (path_is_at_or_under (path, exclude_paths[i]))
      return TRUE;
  return FALSE;
}

/* "/a/b/" -> "/a/b"; relative or ".." paths cannot match anything. */
static char **
normalize_exclude_paths (const char *const *paths)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

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
  g_autoptr(GError) local_error = NULL;
  GFileInfo *info;

  if (ctrd_fd_has_xattr (fd, overlay_xattr))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                   "%s carries %s (an overlay feature commit does not follow)", path,
                   overlay_xattr);
      return NULL;
    }
  *out_xattrs = ctrd_fd_get_xattrs (fd, keep_xattr, path, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  info = file_info_new (type, (type == G_FILE_TYPE_DIRECTORY ? S_IFDIR : S_IFREG) |
                                  (st->st_mode & 07777),
                        st->st_uid, st->st_gid);
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
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GVariant) xattrs = NULL;
  g_autoptr(GInputStream) data = NULL;
  g_autoptr(GInputStream) content = NULL;
  g_autoptr(GError) local_error = NULL;
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
      info = file_info_new (G_FILE_TYPE_SYMBOLIC_LINK, S_IFLNK | 0777, st->st_uid, st->st_gid);
      g_file_info_set_size (info, 0);
      g_file_info_set_symlink_target (info, target);
    }
  else
    {
      int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

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

  if (!ostree_raw_file_to_content_stream (data, info, xattrs, &content, &length,
                                          walk->cancellable, &local_error) ||
      !ostree_repo_write_content (walk->storage->repo, NULL, content, length, &csum,
                                  walk->cancellable, &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR, path);
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
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
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
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GVariant) xattrs = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
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
  dirmeta = repo_write_dirmeta (walk->storage->repo, info, xattrs, walk->cancellable, &local_error);
  if (dirmeta == NULL)
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               display);
  ostree_mutable_tree_set_metadata_checksum (dir, dirmeta);

  if (ctrd_fd_xattr_equals (dfd, "trusted.overlay.opaque", "y") && !clear_mtree_dir (dir, &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               display);

  names = ctrd_list_dir_at (dfd, display, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_strconcat (path, "/", name, NULL);
      g_autoptr(OstreeMutableTree) subdir = NULL;
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

      kind = lookup_slot (dir, name, NULL, NULL);
      if (is_overlay_whiteout (&st) || (kind == SLOT_DIR && !S_ISDIR (st.st_mode)) ||
          (kind == SLOT_FILE && S_ISDIR (st.st_mode)))
        {
          if (!ostree_mutable_tree_remove (dir, name, TRUE, &local_error))
            return propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, child);
          if (is_overlay_whiteout (&st))
            continue;
        }

      if (S_ISDIR (st.st_mode))
        {
          ctrd_autofd int child_fd = -1;
          gboolean ok;

          if (!ostree_mutable_tree_ensure_dir (dir, name, &subdir, &local_error))
            return propagate_prefixed (error, g_steal_pointer (&local_error),
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
            return propagate_prefixed (error, g_steal_pointer (&local_error),
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
  g_autoptr(OstreeMutableTree) root = NULL;
  g_autoptr(GFile) root_file = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *base_config = NULL;
  g_autofree char *config_json = NULL;
  g_autofree char *diff_id = NULL;
  g_autoptr(GHashTable) content_sizes =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) inode_checksums =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) exclude_paths =
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
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
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
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                          "Writing the committed tree");
      return NULL;
    }
  diff_id = g_strconcat (
      "sha256:", ostree_repo_file_tree_get_contents_checksum (OSTREE_REPO_FILE (root_file)), NULL);
  config_json = ctrd_image_config_for_commit (base_config, options != NULL ? &changes : NULL,
                                              diff_id, created_at, error);
  if (config_json == NULL)
    return NULL;
  return commit_image_tree (storage, root, NULL, content_sizes, config_json, created_at,
                            "containersd commit", cancellable, error);
}

CtrdImportResult *
ctrd_storage_commit_container (CtrdStorage *storage, const char *base_commit,
                               const char *upper_dir, const CtrdCommitOptions *options,
                               GCancellable *cancellable, GError **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GError) local_error = NULL;
  CtrdImportResult *result;
  ctrd_autofd int upper_dfd = -1;

  g_return_val_if_fail (storage != NULL && upper_dir != NULL, NULL);

  if (!check_hex_id (base_commit, "an OSTree commit checksum", error))
    return NULL;
  upper_dfd = open (upper_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upper_dfd < 0)
    {
      ctrd_throw_errno_code (error, errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR, "Opening the upper directory %s", upper_dir);
      return NULL;
    }

  locker = g_mutex_locker_new (&storage->repo_lock);
  if (!begin_transaction (storage, cancellable, error))
      return NULL;
  result = commit_container_in_transaction (storage, base_commit, upper_dfd, upper_dir, options,
                                            cancellable, &local_error);
  if (result == NULL)
    return fail_transaction (storage, g_steal_pointer (&local_error), error);
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
  g_autoptr(GFile) child = NULL;
  g_autoptr(GFileInfo) info = NULL;

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
  g_autoptr(GPtrArray) names = NULL;

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
      g_autoptr(GHashTable) upper_names = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GFileEnumerator) enumerator = NULL;
      g_autoptr(GError) local_error = NULL;
      GFileInfo *info;

      for (guint i = 0; i < names->len; i++)
        g_hash_table_add (upper_names, names->pdata[i]);
      enumerator = g_file_enumerate_children (base_dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                              G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                              walk->cancellable, &local_error);
      if (enumerator == NULL)
        return propagate_prefixed (error, g_steal_pointer (&local_error),
                                   CTRD_ERROR_STORAGE_ERROR, display);
      while ((info = g_file_enumerator_next_file (enumerator, walk->cancellable, &local_error)))
        {
          g_autoptr(GFileInfo) owned G_GNUC_UNUSED = info;
          const char *name = g_file_info_get_name (info);
          g_autofree char *child = g_strconcat (path, "/", name, NULL);

          if (!g_hash_table_contains (upper_names, name) &&
              !path_is_excluded (walk->exclude_paths, child))
            add_change (walk->changes, 'D', child);
        }
      if (local_error != NULL)
        return propagate_prefixed (error, g_steal_pointer (&local_error),
                                   CTRD_ERROR_STORAGE_ERROR, display);
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_strconcat (path, "/", name, NULL);
      g_autoptr(GFile) base_child = NULL;
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
          ctrd_autofd int child_fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_change_free);
  g_auto(GStrv) excluded = normalize_exclude_paths (exclude_paths);
  g_autoptr(GFile) base_root = NULL;
  g_autoptr(GError) local_error = NULL;
  ChangesWalk walk = {
    .cancellable = cancellable,
    .exclude_paths = excluded,
    .changes = changes,
  };
  gboolean ok;
  ctrd_autofd int upper_dfd = -1;

  if (!check_hex_id (base_commit, "an OSTree commit checksum", error))
    return NULL;
  if (!ostree_repo_read_commit (storage->read_repo, base_commit, &base_root, NULL, cancellable,
                                &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
                          "Reading the image commit");
      return NULL;
    }
  upper_dfd = open (upper_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upper_dfd < 0)
    {
      ctrd_throw_errno_code (error, errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR, "Opening the upper directory %s", upper_dir);
      return NULL;
    }
  ok = list_upper_changes (&walk, upper_dfd, base_root, "", 0, error);
  if (!ok)
    return NULL;
  g_ptr_array_sort (changes, compare_changes);
  return g_steal_pointer (&changes);
}

/* ------------------------------------------------------------------ */
/* Verifying a checkout against its commit */

typedef struct
{
  OstreeRepo *repo;
  GCancellable *cancellable;
  GPtrArray *modified;
} VerifyWalk;

/* TRUE if the regular file or symlink @name in @dfd is exactly the content
 * object @checksum: same type, mode, owner, kept xattrs and bytes. */
static gboolean
checkout_file_matches (VerifyWalk *walk, int dfd, const char *name, const struct stat *st,
                       const char *checksum, const char *path, gboolean *out_matches,
                       GError **error)
{
  g_autoptr(GFileInfo) stored_info = NULL;
  g_autoptr(GVariant) stored_xattrs = NULL;
  g_autoptr(GVariant) canonical_stored = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GInputStream) data = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guchar *csum = NULL;
  g_autofree char *actual = NULL;

  *out_matches = FALSE;
  if (!ostree_repo_load_file (walk->repo, checksum, NULL, &stored_info, &stored_xattrs,
                              walk->cancellable, &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               path);
  canonical_stored = canonical_xattrs (stored_xattrs);

  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX];
      gssize n;

      if (g_file_info_get_file_type (stored_info) != G_FILE_TYPE_SYMBOLIC_LINK)
        return TRUE;
      n = readlinkat (dfd, name, target, sizeof target - 1);
      if (n < 0)
        return TRUE;
      target[n] = '\0';
      info = file_info_new (G_FILE_TYPE_SYMBOLIC_LINK, S_IFLNK | 0777, st->st_uid, st->st_gid);
      g_file_info_set_size (info, 0);
      g_file_info_set_symlink_target (info, target);
    }
  else
    {
      g_autoptr(GVariant) xattrs = NULL;
      g_autoptr(GVariant) canonical = NULL;
      int fd;

      if (g_file_info_get_file_type (stored_info) != G_FILE_TYPE_REGULAR)
        return TRUE;
      fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
      if (fd < 0)
        return TRUE;
      data = g_unix_input_stream_new (fd, TRUE);
      xattrs = ctrd_fd_get_xattrs (fd, keep_xattr, path, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      canonical = canonical_xattrs (xattrs);
      if (!g_variant_equal (canonical, canonical_stored))
        return TRUE;
      info = file_info_new (G_FILE_TYPE_REGULAR, S_IFREG | (st->st_mode & 07777), st->st_uid,
                            st->st_gid);
      g_file_info_set_size (info, st->st_size);
    }

  /* Hashed with the xattrs as stored, whose order the checksum depends on
   * (the sets were compared above). */
  if (!ostree_checksum_file_from_input (info, stored_xattrs, data, OSTREE_OBJECT_TYPE_FILE, &csum,
                                        walk->cancellable, &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               path);
  actual = ostree_checksum_from_bytes (csum);
  *out_matches = strcmp (actual, checksum) == 0;
  return TRUE;
}

/* TRUE if the directory open as @dfd has the owner, mode and kept xattrs of
 * the dirmeta object @dirmeta (a (uuua(ayay)) with big-endian numbers). */
static gboolean
checkout_dir_matches (int dfd, GVariant *dirmeta, const char *path, gboolean *out_matches,
                      GError **error)
{
  g_autoptr(GVariant) stored_xattrs = NULL;
  g_autoptr(GVariant) canonical_stored = NULL;
  g_autoptr(GVariant) xattrs = NULL;
  g_autoptr(GVariant) canonical = NULL;
  g_autoptr(GError) local_error = NULL;
  guint32 uid, gid, mode;
  struct stat st;

  *out_matches = FALSE;
  if (fstat (dfd, &st) < 0)
    return ctrd_throw_errno (error, "Reading %s", path);
  g_variant_get (dirmeta, "(uuu@a(ayay))", &uid, &gid, &mode, &stored_xattrs);
  xattrs = ctrd_fd_get_xattrs (dfd, keep_xattr, path, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  canonical = canonical_xattrs (xattrs);
  canonical_stored = canonical_xattrs (stored_xattrs);
  *out_matches = GUINT32_FROM_BE (uid) == st.st_uid && GUINT32_FROM_BE (gid) == st.st_gid &&
                 GUINT32_FROM_BE (mode) == st.st_mode &&
                 g_variant_equal (canonical, canonical_stored);
  return TRUE;
}

static gboolean
verify_dir (VerifyWalk *walk, int dfd, OstreeRepoFile *dir, const char *path, guint depth,
            GError **error)
{
  const char *display = path[0] != '\0' ? path : "/";
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GVariant) files = NULL;
  g_autoptr(GVariant) dirs = NULL;
  g_autoptr(GPtrArray) names = NULL;
  GVariant *contents;
  gboolean matches;

  if (depth > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s is nested too deep", display);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (walk->cancellable, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
      return FALSE;
    }
  if (!ostree_repo_file_ensure_resolved (dir, &local_error))
    return propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                               display);
  if (!checkout_dir_matches (dfd, ostree_repo_file_tree_get_metadata (dir), display, &matches,
                             error))
    return FALSE;
  if (!matches)
    g_ptr_array_add (walk->modified, g_strdup (display));

  contents = ostree_repo_file_tree_get_contents (dir);
  files = g_variant_get_child_value (contents, 0);
  dirs = g_variant_get_child_value (contents, 1);

  for (gsize i = 0; i < g_variant_n_children (files); i++)
    {
      const char *name;
      g_autoptr(GVariant) csum_v = NULL;
      g_autofree char *checksum = NULL;
      g_autofree char *child = NULL;
      struct stat st;

      g_variant_get_child (files, i, "(&s@ay)", &name, &csum_v);
      g_hash_table_add (expected, (gpointer) name);
      checksum = ostree_checksum_from_bytes_v (csum_v);
      child = g_strconcat (path, "/", name, NULL);
      if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
          !(S_ISREG (st.st_mode) || S_ISLNK (st.st_mode)))
        matches = FALSE;
      else if (!checkout_file_matches (walk, dfd, name, &st, checksum, child, &matches, error))
        return FALSE;
      if (!matches)
        g_ptr_array_add (walk->modified, g_steal_pointer (&child));
    }

  for (gsize i = 0; i < g_variant_n_children (dirs); i++)
    {
      const char *name;
      g_autofree char *child = NULL;
      g_autoptr(GFile) child_file = NULL;
      ctrd_autofd int child_fd = -1;
      gboolean ok;

      g_variant_get_child (dirs, i, "(&s@ay@ay)", &name, NULL, NULL);
      g_hash_table_add (expected, (gpointer) name);
      child = g_strconcat (path, "/", name, NULL);
      child_fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child_fd < 0)
        {
          g_ptr_array_add (walk->modified, g_steal_pointer (&child));
          continue;
        }
      child_file = g_file_get_child (G_FILE (dir), name);
      ok = verify_dir (walk, child_fd, OSTREE_REPO_FILE (child_file), child, depth + 1, error);
      if (!ok)
        return FALSE;
    }

  /* Whatever the commit does not have was added to the checkout. */
  names = ctrd_list_dir_at (dfd, display, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    if (!g_hash_table_contains (expected, names->pdata[i]))
      g_ptr_array_add (walk->modified, g_strconcat (path, "/", names->pdata[i], NULL));
  return TRUE;
}

GPtrArray *
ctrd_storage_verify_checkout (CtrdStorage *storage, const char *commit, GCancellable *cancellable,
                              GError **error)
{
  g_autoptr(GPtrArray) modified = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GFile) root = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  VerifyWalk walk = {
    .repo = storage->read_repo,
    .cancellable = cancellable,
    .modified = modified,
  };
  gboolean ok;
  ctrd_autofd int dfd = -1;

  if (!check_hex_id (commit, "an OSTree commit checksum", error))
    return NULL;
  path = g_build_filename (storage->checkouts_path, commit, NULL);
  if (!ostree_repo_read_commit (storage->read_repo, commit, &root, NULL, cancellable,
                                &local_error))
    {
      propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
                          "Reading the image commit");
      return NULL;
    }
  dfd = openat (storage->checkouts_dfd, commit, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    {
      ctrd_throw_errno_code (error, errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR, "Opening the checkout %s", path);
      return NULL;
    }
  ok = verify_dir (&walk, dfd, OSTREE_REPO_FILE (root), "", 0, error);
  if (!ok)
    return NULL;
  g_ptr_array_sort (modified, compare_c_strings);
  return g_steal_pointer (&modified);
}
