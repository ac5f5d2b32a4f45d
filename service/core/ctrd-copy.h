/* ctrd-copy.h: copying files into and out of a container's root filesystem
 * as tar (Container.CopyFrom / CopyTo, like `podman cp`). No D-Bus types.
 *
 * The root may belong to a running container, which can rename, replace
 * and symlink anything in it meanwhile, so nothing is resolved from a host
 * path: the container path is resolved inside the root (openat2
 * RESOLVE_IN_ROOT), and every member below it is opened fd-relative with
 * O_NOFOLLOW. All functions block: call them from a worker thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  CTRD_COPY_IN_NONE = 0,
  /* A directory is never replaced by a non-directory, nor the other way
   * round (podman's NoOverwriteDirNonDir): such a clash fails the copy
   * before anything is moved in. */
  CTRD_COPY_IN_NO_OVERWRITE_DIR_NON_DIR = 1 << 0,
} CtrdCopyInFlags;

/* Checks @path as a caller gives it to CopyFrom or CopyTo: absolute,
 * without "..", at most CTRD_MAX_PATH_BYTES. INVALID_ARGUMENT naming it. */
gboolean ctrd_copy_validate_path (const char *path, GError **error);

/* Writes to @out_fd a tar of @path (absolute) inside the root directory
 * @root_dirfd: for a file one member named after its last component, for a
 * directory that name and everything below, for a symlink the link itself
 * (its target is never followed, wherever it points); the root itself gives
 * the members of the whole tree. The directories leading to the last
 * component are resolved inside the root. Owners, modes and times as
 * ctrd_treewalk_tar keeps them. NOT_FOUND when @path does not exist;
 * G_IO_ERROR_BROKEN_PIPE for a reader that went away; else as
 * ctrd_treewalk_tar. */
gboolean ctrd_copy_out (int root_dirfd, const char *path, int out_fd, GCancellable *cancellable,
                        GError **error);

/* Extracts the tar read from @in_fd (plain or compressed) into the
 * directory @path (absolute) inside the root directory @root_dirfd, keeping
 * numeric owners, modes (setuid included) and the times of files.
 *
 * Members are refused (INVALID_ARGUMENT naming the member) when their name
 * is absolute or has a ".." component, when they would pass through a
 * symlink or a non-directory, for device nodes, and for hard links whose
 * target is not an earlier member of the same archive. Symlinks are created
 * as they are (their targets mean something inside the container only).
 *
 * The archive is first extracted into a new hidden directory inside @path
 * and moved in only once the whole archive was read without error: entries
 * not there yet are renamed in, existing directories are merged, existing
 * non-directories replaced. On any failure before that the staging
 * directory is removed and the container's tree is as it was. NOT_FOUND
 * when @path does not exist, INVALID_ARGUMENT when it is not a directory,
 * CANCELLED, else STORAGE_ERROR. */
gboolean ctrd_copy_in (int root_dirfd, const char *path, int in_fd, CtrdCopyInFlags flags,
                       GCancellable *cancellable, GError **error);

G_END_DECLS
