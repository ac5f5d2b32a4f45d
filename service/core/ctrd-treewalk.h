/* ctrd-treewalk.h: fd-relative walks of a container's root filesystem: a
 * live tar of it (container export), and its disk usage. No D-Bus types.
 *
 * The walks never follow a symlink, never leave the tree (every entry is
 * opened relative to its parent directory's fd with O_NOFOLLOW) and never
 * cross into another mount: a mount point below the root is listed as a
 * directory but not descended. Entries that vanish while the walk runs (a
 * running container) are skipped. All functions block: call them from a
 * worker thread. */
#pragma once

#include <gio/gio.h>

#include "ctrd-tar.h"

G_BEGIN_DECLS

/* Directories nested deeper than this below the root fail the walk with
 * LIMIT_EXCEEDED. */
#define CTRD_TREEWALK_MAX_DEPTH 4096

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
gboolean ctrd_treewalk_tar (int root_dirfd, int out_fd, guint64 *out_bytes,
                            GCancellable *cancellable, GError **error);

/* ctrd_treewalk_tar, telling @progress (may be NULL; called in the calling
 * thread) the bytes written so far (total 0) as the tar is written. */
gboolean ctrd_treewalk_tar_full (int root_dirfd, int out_fd, guint64 *out_bytes,
                                 CtrdTarProgress progress, gpointer progress_data,
                                 GCancellable *cancellable, GError **error);

/* The same tar of only the entry @name (one component, not "." nor "..")
 * of the directory @parent_dirfd and, for a directory, what is below it:
 * members "name", "name/child", ... (like `podman cp CTR:/dir/name -`). A
 * symlink @name is written as the link, never followed. NOT_FOUND when
 * @name does not exist; else as ctrd_treewalk_tar. */
gboolean ctrd_treewalk_tar_entry (int parent_dirfd, const char *name, int out_fd,
                                  guint64 *out_bytes, GCancellable *cancellable, GError **error);

/* Sums the apparent sizes (st_size) of the regular files and symlinks in the
 * tree at @root_dirfd, each inode once however many links it has, without
 * crossing mounts. */
gboolean ctrd_treewalk_disk_usage (int root_dirfd, guint64 *out_bytes, GCancellable *cancellable,
                                   GError **error);

G_END_DECLS
