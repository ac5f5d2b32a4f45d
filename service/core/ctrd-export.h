/* ctrd-export.h: fd-relative walks of a container's root filesystem: export
 * as a tar, and its disk usage. No D-Bus types.
 *
 * The walks never follow a symlink, never leave the tree (every entry is
 * opened relative to its parent directory's fd with O_NOFOLLOW) and never
 * cross into another mount: a mount point below the root is listed as a
 * directory but not descended. Entries that vanish while the walk runs (a
 * running container) are skipped. All functions block: call them from a
 * worker thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Directories nested deeper than this below the root fail the walk with
 * LIMIT_EXCEEDED. */
#define CTRD_EXPORT_MAX_DEPTH 4096

/* Writes an uncompressed tar (pax restricted: plain ustar headers unless a
 * member needs more) of the tree at @root_dirfd to @out_fd, like `podman
 * export`: member names relative without a leading "./" ("bin/", "bin/sh"),
 * no member for the root itself. Regular files with their content,
 * directories, symlinks as links (never followed), later links of a
 * multiply-linked inode as hardlinks to the first, device nodes and FIFOs as
 * such; numeric owners, modes (setuid included) and mtimes kept; xattrs
 * security.capability and user.* (not user.overlay.*) kept, others dropped.
 * Sockets are skipped. Members are sorted by name within each directory.
 *
 * @out_fd may be a blocking or non-blocking pipe, socket or file. A reader
 * that closes its end gives G_IO_ERROR_BROKEN_PIPE (the process must ignore
 * SIGPIPE), cancellation G_IO_ERROR_CANCELLED; other failures are
 * CTRD_ERROR_STORAGE_ERROR or LIMIT_EXCEEDED naming the member. On success
 * *@out_bytes (may be NULL) is the number of bytes written. */
gboolean ctrd_export_tar (int root_dirfd, int out_fd, guint64 *out_bytes, GCancellable *cancellable,
                          GError **error);

/* Sums the apparent sizes (st_size) of the regular files and symlinks in the
 * tree at @root_dirfd, each inode once however many links it has, without
 * crossing mounts. */
/* Bytes written so far (total unknown: 0); the same shape as CtrdProgressFunc. */
typedef void (*CtrdExportProgress) (guint64 done, guint64 total, gpointer user_data);

/* ctrd_export_tar, telling @progress (may be NULL; called in the calling
 * thread) as the tar is written. */
gboolean ctrd_export_tar_full (int root_dirfd, int out_fd, guint64 *out_bytes,
                               CtrdExportProgress progress, gpointer progress_data,
                               GCancellable *cancellable, GError **error);

gboolean ctrd_export_disk_usage (int root_dirfd, guint64 *out_bytes, GCancellable *cancellable,
                                 GError **error);

/* Writes all of @data to @fd with write(2), handling EINTR, short writes and
 * EAGAIN (waits for POLLOUT, so a non-blocking fd works too); checks
 * @cancellable while it waits for a slow reader. EPIPE (the reader closed
 * its end) gives G_IO_ERROR_BROKEN_PIPE, cancellation G_IO_ERROR_CANCELLED,
 * other errors CTRD_ERROR_FAILED. Blocks. */
gboolean ctrd_export_write_all (int fd, const void *data, gsize len, GCancellable *cancellable,
                                GError **error);

G_END_DECLS
