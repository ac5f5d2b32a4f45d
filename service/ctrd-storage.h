/* ctrd-storage.h: the OSTree image store and the containers' root filesystems.
 *
 * Layout under the storage root (all directories 0700 root):
 *   repo/               OSTree repo, mode bare; ref images/<ID> per image
 *   checkouts/<commit>/ hardlink checkout of an image commit: the shared,
 *                       never-written lower layer of every container on it
 *   containers/<ID>/    upper/ work/ (overlay), and the OCI bundle files
 *
 * Import never extracts into host paths: tar members are written into an
 * OstreeMutableTree, so "..", absolute paths and symlinks cannot escape.
 * Functions marked "blocks" do disk-heavy work: call them from a GTask thread.
 * Imports and checkouts are serialised internally, so they are thread-safe.
 * No D-Bus types. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _CtrdStorage CtrdStorage;

typedef struct
{
  guint64 max_bytes;   /* bytes read from the source, counted both as read and
                        * after decompression (a gzip bomb stops here); 0 = no cap */
  guint64 max_entries; /* archive members; 0 = no cap */
} CtrdImportLimits;

typedef struct
{
  char *image_id;    /* 64 hex: sha256 of config_json */
  char *commit;      /* OSTree checksum */
  guint64 size;      /* bytes of regular files */
  guint64 created_at; /* usec since the epoch, like the containers' */
  char *config_json; /* the OCI image config (JSON text) written for the image */
} CtrdImportResult;

void ctrd_import_result_free (CtrdImportResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdImportResult, ctrd_import_result_free)

/* Creates (0700) the storage root and its directories, and opens the repo,
 * creating it in mode bare when missing. */
CtrdStorage *ctrd_storage_new (const char *storage_root, GError **error);
void ctrd_storage_free (CtrdStorage *storage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdStorage, ctrd_storage_free)

const char *ctrd_storage_get_root (CtrdStorage *storage);
const char *ctrd_storage_get_repo_path (CtrdStorage *storage);

/* Blocks. Reads a plain or gzip-compressed tar of a root filesystem from @fd
 * (a regular file or a pipe; not closed), commits it and sets ref images/<ID>.
 * The image config is an OCI config with empty Cmd/Entrypoint, os linux, the
 * host architecture and created = now; its sha256 is the image ID. Its
 * rootfs.diff_ids[0] is the sha256 of the uncompressed tar stream (as OCI
 * defines it), which for a plain tar is the sha256 of the bytes read.
 * Members: "/abs" and "./abs" are stored as "abs"; ".." in a path or
 * hardlink target, a path through a non-directory ("lib -> /" then
 * "lib/etc/x"), a hardlink to a missing or later member or to a directory are
 * INVALID_ARGUMENT; device nodes, FIFOs and sockets are skipped (logged with
 * g_message); only the security.capability and user.* xattrs are kept.
 * Errors: INVALID_ARGUMENT for input that is not a (complete) tar or whose
 * members cannot be stored; LIMIT_EXCEEDED past @limits; CANCELLED (also
 * while waiting on a stalled pipe); else STORAGE_ERROR. On error no ref and
 * no temporary files are left. @limits may be NULL (no caps). */
CtrdImportResult *ctrd_storage_import_rootfs_tar (CtrdStorage *storage, int fd,
                                                  const CtrdImportLimits *limits,
                                                  GCancellable *cancellable, GError **error);

/* Removes ref images/<ID> (NOT_FOUND if absent is not an error: returns TRUE). */
gboolean ctrd_storage_delete_image_ref (CtrdStorage *storage, const char *image_id,
                                        GError **error);

/* Blocks. Returns the path of checkouts/<commit>, making it first if needed
 * (hardlinks only, into a temporary directory that is then renamed, so a
 * half-made checkout is never seen). Idempotent; an existing checkout is
 * returned without waiting for a running import. INVALID_ARGUMENT for a
 * malformed @commit, NOT_FOUND for one the repo lacks. Free with g_free. */
char *ctrd_storage_ensure_checkout (CtrdStorage *storage, const char *commit,
                                    GCancellable *cancellable, GError **error);

/* Blocks. Removes checkouts/<commit> (missing is success). The caller makes
 * sure no container uses it as its lower layer. */
gboolean ctrd_storage_remove_checkout (CtrdStorage *storage, const char *commit,
                                       GCancellable *cancellable, GError **error);

/* Blocks. Deletes the repo objects no ref reaches any more (after
 * ctrd_storage_delete_image_ref). @out_freed_bytes may be NULL. */
gboolean ctrd_storage_prune (CtrdStorage *storage, guint64 *out_freed_bytes,
                             GCancellable *cancellable, GError **error);

/* containers/<ID> (the bundle directory). @id must be a full ID. Free with g_free. */
char *ctrd_storage_container_dir (CtrdStorage *storage, const char *id);

/* Creates containers/<ID> (0700) with upper/ (0755: it becomes the
 * container's "/") and work/ (0700). Fast. Fails (STORAGE_ERROR) if it exists. */
gboolean ctrd_storage_create_container_dirs (CtrdStorage *storage, const char *id,
                                            GError **error);

/* Blocks (briefly). Mounts an overlay (nodev) at @mountpoint (created if
 * missing, 0700) with lowerdir = @lower_dir and the container's upper/work.
 * While upper/ is empty its owner and mode are set to those of @lower_dir, so
 * the container's "/" looks like the image's. Already mounted there is
 * success. Paths with ',', ':' or '\' are refused (INVALID_ARGUMENT). */
gboolean ctrd_storage_mount_rootfs (CtrdStorage *storage, const char *id, const char *lower_dir,
                                    const char *mountpoint, GError **error);

/* Unmounts @mountpoint (lazily if busy); not mounted is success. */
gboolean ctrd_storage_unmount_rootfs (const char *mountpoint, GError **error);

/* TRUE if something is mounted exactly at @path (from /proc/self/mountinfo). */
gboolean ctrd_storage_is_mounted (const char *path);

/* Blocks. Removes containers/<ID> recursively (missing is success) without
 * following symlinks. STORAGE_ERROR, deleting nothing, while anything is
 * mounted inside it or an overlay still uses its upper/work; a mount point met
 * during the walk stops it too. */
gboolean ctrd_storage_remove_container_dirs (CtrdStorage *storage, const char *id,
                                            GCancellable *cancellable, GError **error);

G_END_DECLS
