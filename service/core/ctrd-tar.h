/* ctrd-tar.h: the one tar writer of the core: libarchive's pax writer over
 * an fd, written with ctrd_fd_write_all, cancellable, with progress and an
 * optional SHA-256 of the bytes written. Used by container export (the
 * live tree walk), the root filesystem tar of an image and the image
 * archive writer. No D-Bus types.
 *
 * A failed output never puts libarchive into its fatal state (in which
 * libarchive 3.6's archive_write_free() leaks its output buffer): the sink
 * takes and drops the rest, and each call here reports the first error.
 * Errors: the output's own (G_IO_ERROR_BROKEN_PIPE for a reader that went
 * away, G_IO_ERROR_CANCELLED, CTRD_ERROR_FAILED; see ctrd_fd_write_all)
 * win over libarchive's, which are STORAGE_ERROR naming the member. Callers
 * that answer in CTRD_ERROR only use ctrd_error_normalize. All functions
 * block. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Bytes written so far and the caller's total hint (0: unknown); the same
 * shape as CtrdProgressFunc. */
typedef void (*CtrdTarProgress) (guint64 done, guint64 total, gpointer user_data);

typedef enum
{
  CTRD_TAR_FLAGS_NONE = 0,
  /* xattrs as SCHILY.xattr.* only, as podman (Go's archive/tar) writes them
   * and GNU tar reads them; by default libarchive adds its own copy. */
  CTRD_TAR_FLAGS_SCHILY_XATTRS_ONLY = 1 << 0,
  /* Hash the bytes written (ctrd_tar_writer_close gives the digest). */
  CTRD_TAR_FLAGS_SHA256 = 1 << 1,
} CtrdTarFlags;

typedef struct _CtrdTarWriter CtrdTarWriter;

typedef struct archive_entry CtrdArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdArchiveEntry, archive_entry_free)

/* A pax (restricted: plain ustar headers unless a member needs more) tar
 * writer on @fd (not closed; any fd ctrd_fd_write_all takes). Checks
 * @cancellable before every write. NULL with STORAGE_ERROR when libarchive
 * cannot start. Free with ctrd_tar_writer_free. */
CtrdTarWriter *ctrd_tar_writer_new (int fd, CtrdTarFlags flags, GCancellable *cancellable,
                                    GError **error);

/* @progress (may be NULL) is called in the writing thread after each
 * block written, with the bytes so far and @total_hint. */
void ctrd_tar_writer_set_progress (CtrdTarWriter *writer, CtrdTarProgress progress,
                                   gpointer progress_data, guint64 total_hint);

/* Starts the member @entry. libarchive's warnings (a name it had to
 * translate) are logged at debug level, not errors. @what names the member
 * in messages (may be NULL: the entry's path). */
gboolean ctrd_tar_writer_write_header (CtrdTarWriter *writer, struct archive_entry *entry,
                                       const char *what, GError **error);

/* Appends @len bytes to the current member's data. */
gboolean ctrd_tar_writer_write_data (CtrdTarWriter *writer, const void *data, gsize len,
                                     const char *what, GError **error);

/* Ends the current member now, padding data that fell short of its header's
 * size with zeros (a file that shrank meanwhile). Optional: the next header
 * or the close ends it too. */
gboolean ctrd_tar_writer_finish_entry (CtrdTarWriter *writer, const char *what, GError **error);

/* Writes the end-of-archive blocks and flushes. On success *@out_bytes and
 * *@out_sha256 (64 hex, needs CTRD_TAR_FLAGS_SHA256; free with g_free)
 * describe every byte written; either may be NULL. After a failure of any
 * call the writer only fails: a cut tar must never look whole. */
gboolean ctrd_tar_writer_close (CtrdTarWriter *writer, guint64 *out_bytes, char **out_sha256,
                                GError **error);

/* Frees @writer. Without a successful ctrd_tar_writer_close, no
 * end-of-archive blocks are written. */
void ctrd_tar_writer_free (CtrdTarWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdTarWriter, ctrd_tar_writer_free)

G_END_DECLS
