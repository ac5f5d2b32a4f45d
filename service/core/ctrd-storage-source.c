/* ctrd-storage-source.c: the byte source of an import (a file, pipe or
 * stream, any compression libarchive undoes itself, byte limits,
 * cancellation) and spooling a source into a temporary file. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-storage-private.h"

/* ------------------------------------------------------------------ */
/* Import: the byte source
 *
 * Two libarchive readers in a chain: the decoder undoes any compression
 * ("raw" format over the source fd) and the tar reader parses what it
 * yields. That way we see the uncompressed tar bytes, whose sha256 is the
 * OCI diff_id and whose count bounds a decompression bomb. */

void
storage_source_free (ImportSource *src)
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
  g_autoptr (GError) local_error = NULL;
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
gboolean
storage_source_set_error (ImportSource *src, struct archive *a, const char *member, GError **error)
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

gboolean
storage_check_source_fd (int fd, GError **error)
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
ImportSource *
storage_source_open (int fd, GInputStream *stream, guint64 max_bytes, gboolean with_tar,
                     CtrdProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (ImportSource) src = g_new0 (ImportSource, 1);
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
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The image source is empty");
          return NULL;
        }
      storage_source_set_error (src, src->decoder, NULL, error);
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
      storage_source_set_error (src, src->tar, NULL, error);
      return NULL;
    }

  return g_steal_pointer (&src);
}

/* After the tar end marker: the rest of the stream (block padding) belongs
 * to the digest, and anything that fails to decode means a damaged input. */
gboolean
storage_source_drain (ImportSource *src, GError **error)
{
  while (TRUE)
    {
      la_ssize_t n = source_read_tar_bytes (src);
      if (n == 0)
        return TRUE;
      if (n < 0)
        return storage_source_set_error (src, src->decoder, NULL, error);
    }
}

int
ctrd_storage_spool_source (CtrdStorage *storage, int fd, guint64 max_bytes,
                           CtrdProgressFunc progress, gpointer progress_data,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (ImportSource) src = NULL;
  ctrd_autofd int tmp_fd = -1;

  if (!storage_check_source_fd (fd, error))
    return -1;
  src =
      storage_source_open (fd, NULL, max_bytes, FALSE, progress, progress_data, cancellable, error);
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
          storage_source_set_error (src, src->decoder, NULL, error);
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
