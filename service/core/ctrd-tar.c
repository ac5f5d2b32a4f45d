/* ctrd-tar.c: the tar writer: libarchive's pax writer over ctrd_fd_write_all. */
#include "config.h"

#include "ctrd-digest.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-tar.h"

struct _CtrdTarWriter
{
  struct archive *archive;
  int fd;
  GCancellable *cancellable;
  CtrdSha256 *sha256; /* NULL unless CTRD_TAR_FLAGS_SHA256 */
  guint64 bytes;
  CtrdTarProgress progress;
  gpointer progress_data;
  guint64 total_hint;
  GError *sink_error; /* why the output failed: wins over libarchive's message */
  gboolean failed;    /* write nothing more, never the end-of-archive blocks */
  gboolean closed;
};

static la_ssize_t
sink_write (struct archive *a, void *user_data, const void *buffer, size_t length)
{
  CtrdTarWriter *writer = user_data;

  /* A failed output takes and drops the rest, and every call below checks
   * writer->failed: an error returned here can put libarchive into its fatal
   * state, in which libarchive 3.6's archive_write_free() leaks the output
   * buffer. The first error stands. */
  if (writer->failed)
    return length;
  if (!ctrd_fd_write_all (writer->fd, buffer, length, writer->cancellable, &writer->sink_error))
    {
      writer->failed = TRUE;
      return length;
    }
  if (writer->sha256 != NULL)
    ctrd_sha256_update (writer->sha256, buffer, length);
  writer->bytes += length;
  if (writer->progress != NULL)
    writer->progress (writer->bytes, writer->total_hint, writer->progress_data);
  return length;
}

/* The output's own error (broken pipe, cancellation) if it has one, else
 * libarchive's. Either way the writer only fails from now on. */
static gboolean
writer_fail (CtrdTarWriter *writer, const char *what, GError **error)
{
  writer->failed = TRUE;
  if (writer->sink_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&writer->sink_error));
      return FALSE;
    }
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Writing %s into the tar: %s",
               what != NULL ? what : "the end",
               archive_error_string (writer->archive) ?: "unknown error");
  return FALSE;
}

/* An earlier call failed (its error was given then). */
static gboolean
writer_check_usable (CtrdTarWriter *writer, GError **error)
{
  if (!writer->failed && !writer->closed)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "The tar output failed before");
  return FALSE;
}

CtrdTarWriter *
ctrd_tar_writer_new (int fd, CtrdTarFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (CtrdTarWriter) writer = g_new0 (CtrdTarWriter, 1);
  gboolean ok;

  writer->fd = fd;
  writer->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  if ((flags & CTRD_TAR_FLAGS_SHA256) != 0)
    writer->sha256 = ctrd_sha256_new ();
  writer->archive = archive_write_new ();
  if (writer->archive == NULL)
    {
      writer->failed = TRUE;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Out of memory for libarchive");
      return NULL;
    }
  ok = archive_write_set_format_pax_restricted (writer->archive) == ARCHIVE_OK;
  if (ok && (flags & CTRD_TAR_FLAGS_SCHILY_XATTRS_ONLY) != 0)
    ok = archive_write_set_format_option (writer->archive, "pax", "xattrheader", "SCHILY") ==
         ARCHIVE_OK;
  if (ok)
    ok = archive_write_open2 (writer->archive, writer, NULL, sink_write, NULL, NULL) == ARCHIVE_OK;
  if (!ok)
    {
      writer_fail (writer, "the start", error);
      return NULL;
    }
  return g_steal_pointer (&writer);
}

void
ctrd_tar_writer_set_progress (CtrdTarWriter *writer, CtrdTarProgress progress,
                              gpointer progress_data, guint64 total_hint)
{
  writer->progress = progress;
  writer->progress_data = progress_data;
  writer->total_hint = total_hint;
}

gboolean
ctrd_tar_writer_write_header (CtrdTarWriter *writer, struct archive_entry *entry, const char *what,
                              GError **error)
{
  int r;

  if (!writer_check_usable (writer, error))
    return FALSE;
  if (what == NULL)
    what = archive_entry_pathname (entry);
  r = archive_write_header (writer->archive, entry);
  if (r == ARCHIVE_WARN && !writer->failed)
    g_debug ("Tar member %s: %s", what, archive_error_string (writer->archive));
  else if (r != ARCHIVE_OK || writer->failed)
    return writer_fail (writer, what, error);
  return TRUE;
}

gboolean
ctrd_tar_writer_write_data (CtrdTarWriter *writer, const void *data, gsize len, const char *what,
                            GError **error)
{
  if (!writer_check_usable (writer, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  if (archive_write_data (writer->archive, data, len) != (la_ssize_t) len || writer->failed)
    return writer_fail (writer, what, error);
  return TRUE;
}

gboolean
ctrd_tar_writer_finish_entry (CtrdTarWriter *writer, const char *what, GError **error)
{
  if (!writer_check_usable (writer, error))
    return FALSE;
  if (archive_write_finish_entry (writer->archive) < ARCHIVE_WARN || writer->failed)
    return writer_fail (writer, what, error);
  return TRUE;
}

gboolean
ctrd_tar_writer_close (CtrdTarWriter *writer, guint64 *out_bytes, char **out_sha256, GError **error)
{
  if (!writer_check_usable (writer, error))
    return FALSE;
  if (archive_write_close (writer->archive) != ARCHIVE_OK || writer->failed)
    return writer_fail (writer, NULL, error);
  writer->closed = TRUE;
  if (out_bytes != NULL)
    *out_bytes = writer->bytes;
  if (out_sha256 != NULL)
    *out_sha256 =
        writer->sha256 != NULL ? g_strdup (ctrd_sha256_get_string (writer->sha256)) : NULL;
  return TRUE;
}

void
ctrd_tar_writer_free (CtrdTarWriter *writer)
{
  if (writer == NULL)
    return;
  /* No end-of-archive blocks after a failure: archive_write_free() closes
   * an open archive, and the sink drops what it writes then. (Saying
   * archive_write_fail() would do too, but then libarchive 3.6 leaks its
   * output buffer.) */
  writer->failed = writer->failed || !writer->closed;
  if (writer->archive != NULL)
    archive_write_free (writer->archive);
  g_clear_error (&writer->sink_error);
  g_clear_pointer (&writer->sha256, ctrd_sha256_free);
  g_clear_object (&writer->cancellable);
  g_free (writer);
}
