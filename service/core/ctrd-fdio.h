/* ctrd-fdio.h: the low-level fd toolkit of the core: an auto-closing fd,
 * errno to GError in one line, one write-all, one safe recursive remove,
 * directory listing and xattrs. No D-Bus types.
 *
 * Every fd these helpers open is O_CLOEXEC, so nothing leaks into a child
 * another thread spawns meanwhile. All functions that touch the filesystem
 * block: call them from a worker thread in the daemon. */
#pragma once

#include <gio/gio.h>

#include "ctrd-error.h"

G_BEGIN_DECLS

/* Closes *@fdp when it is >= 0 and sets it to -1, leaving errno as it was
 * (so a cleanup on an error path does not clobber the errno being
 * reported). EINTR from close(2) is not retried: Linux has released the fd
 * by then. */
void ctrd_close_fd (int *fdp);

/* An int fd closed with ctrd_close_fd when it leaves scope:
 *   ctrd_autofd int fd = openat (...);
 * Start it at -1 when it is assigned later; hand it on with ctrd_steal_fd. */
#define ctrd_autofd __attribute__ ((cleanup (ctrd_close_fd)))

/* Returns *@fdp and sets it to -1: the caller takes over the fd. */
static inline int
ctrd_steal_fd (int *fdp)
{
  int fd = *fdp;

  *fdp = -1;
  return fd;
}

/* Sets @error (may be NULL) from errno, read on entry: CTRD_ERROR with
 * @code and the message "<format...>: <strerror>". errno is the same on
 * return, so a caller may still look at it. Always returns FALSE, for
 * `return ctrd_throw_errno_code (...)`. Arguments are evaluated before the
 * call: do not pass ones that may change errno (compute a quoted name
 * after saving errno). */
gboolean ctrd_throw_errno_code (GError **error, CtrdError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* The common case: a failed filesystem call is CTRD_ERROR_STORAGE_ERROR. */
#define ctrd_throw_errno(error, ...)                                                               \
  ctrd_throw_errno_code ((error), CTRD_ERROR_STORAGE_ERROR, __VA_ARGS__)

/* Writes all @len bytes of @data to @fd (a pipe, socket or regular file,
 * blocking or non-blocking), handling EINTR, EAGAIN and short writes. It
 * waits for room with poll(2) on @fd and on @cancellable together, so a
 * reader that stalls cannot pin it where cancellation does not reach; a
 * pipe gets at most PIPE_BUF bytes per write after POLLOUT, a socket is
 * written with send(MSG_NOSIGNAL). Errors: a reader that closed its end
 * (EPIPE, ECONNRESET) is G_IO_ERROR_BROKEN_PIPE, cancellation
 * G_IO_ERROR_CANCELLED, anything else CTRD_ERROR_FAILED naming the errno
 * (callers that need CTRD_ERROR only use ctrd_error_normalize). SIGPIPE
 * must be ignored by the process for pipes. Blocks. */
gboolean ctrd_fd_write_all (int fd, const void *data, gsize len, GCancellable *cancellable,
                            GError **error);

/* The names in the directory open as @dfd, sorted (strcmp), without "." and
 * "..". Reads through a descriptor of its own, so the caller's offset is
 * left alone. On failure NULL with STORAGE_ERROR "Reading <display>: ...".
 * Free with g_ptr_array_unref. */
GPtrArray *ctrd_list_dir_at (int dfd, const char *display, GError **error);

/* Removes @name in @parent_dfd recursively; missing is success. Symlinks
 * are unlinked, never followed, and a mount point anywhere below is an
 * error, so it never deletes through a mount. It holds one directory fd at
 * a time and climbs back with "..", checking device and inode, so any depth
 * works and a tree swapped meanwhile is an error, not a walk elsewhere.
 * @display names the tree in messages. Errors are STORAGE_ERROR, or
 * CANCELLED (CTRD_ERROR) between directories. */
gboolean ctrd_remove_tree_at (int parent_dfd, const char *name, const char *display,
                              GCancellable *cancellable, GError **error);

/* ctrd_remove_tree_at for the absolute @path, opening its parent
 * directory (a missing parent is success). "/" and paths ending in "." or
 * ".." are INVALID_ARGUMENT. */
gboolean ctrd_remove_tree (const char *path, GCancellable *cancellable, GError **error);

/* Decides whether an xattr is kept; @name is its full name ("user.x"). */
typedef gboolean (*CtrdXattrFilter) (const char *name);

/* The xattrs of the file open as @fd, as a GVariant a(ayay) (name as a
 * bytestring, value as bytes), sorted by name, only the names @keep
 * accepts (NULL: all). NULL without an error when there are none or the
 * filesystem has no xattrs (ENOTSUP). An xattr removed while it is read is
 * left out; one that grows is read again. On failure NULL with
 * STORAGE_ERROR naming @display. Returns a new (non-floating) reference. */
GVariant *ctrd_fd_get_xattrs (int fd, CtrdXattrFilter keep, const char *display, GError **error);

/* TRUE if the file open as @fd has the xattr @name (with any value). */
gboolean ctrd_fd_has_xattr (int fd, const char *name);

/* TRUE if the file open as @fd has the xattr @name with exactly the bytes
 * of @value (no NUL). */
gboolean ctrd_fd_xattr_equals (int fd, const char *name, const char *value);

G_END_DECLS
