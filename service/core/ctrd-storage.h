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
 * No D-Bus types. The implementation is split by facet into ctrd-storage*.c
 * around ctrd-storage-private.h. */
#pragma once

#include <gio/gio.h>

#include "ctrd-caller-open.h"
#include "ctrd-fdio.h"

G_BEGIN_DECLS

typedef struct _CtrdStorage CtrdStorage;

typedef struct
{
  guint64 max_bytes;   /* bytes read from the source, counted both as read and
                        * after decompression (a gzip bomb stops here); 0 = no cap */
  guint64 max_entries; /* archive members; 0 = no cap */
  /* An OCI layout directory's files are opened with these rights (each in a
   * child, see ctrd-caller-open.h); NULL: the daemon's. Not owned. */
  const CtrdCaller *reader;
} CtrdImportLimits;

typedef struct
{
  char *image_id;    /* 64 hex: sha256 of config_json */
  char *commit;      /* OSTree checksum */
  guint64 size;      /* bytes of the distinct regular files (what they take in the repo) */
  guint64 created_at; /* usec since the epoch, like the containers' */
  char *config_json; /* the OCI image config (JSON text), verbatim: sha256 gives image_id */
  char **names;      /* names the archive gave the image ("name:tag", normalised);
                      * NULL or empty when it gave none */
} CtrdImportResult;

/* Progress of a long operation, called from the thread doing it: @done bytes
 * so far of @total (0 = unknown). */
typedef void (*CtrdProgressFunc) (guint64 done, guint64 total, gpointer user_data);

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

/* An import of OCI image layers into one commit. Holds the repo lock from
 * begin to free, so begin, apply, commit and free must run in one thread. */
typedef struct _CtrdLayerImport CtrdLayerImport;

/* Blocks (waits for other imports). Opens an OSTree transaction. */
CtrdLayerImport *ctrd_storage_layer_import_begin (CtrdStorage *storage,
                                                  const CtrdImportLimits *limits,
                                                  GCancellable *cancellable, GError **error);

/* Blocks. Applies one layer (a tar, plain, gzip or zstd) read from @layer to
 * the tree of the layers before it, with the member rules of
 * ctrd_storage_import_rootfs_tar and OCI changeset rules: ".wh.NAME"
 * deletes NAME of the lower layers, ".wh..wh..opq" hides everything lower
 * layers put in its directory, a bare ".wh." (and ".wh..", ".wh...") is
 * INVALID_ARGUMENT, other ".wh..wh.*" are ignored; whiteouts never hide what
 * the same layer writes; an entry replaces one of another kind (file vs
 * directory) from a lower layer. Empty layers are fine. @expected_diff_id
 * ("sha256:<hex>" of the uncompressed tar, may be NULL) is checked
 * (INVALID_ARGUMENT on mismatch); @out_diff_id (may be NULL) receives it.
 * Limits count over all layers. After a failure only free is allowed. */
gboolean ctrd_layer_import_apply (CtrdLayerImport *import, GInputStream *layer,
                                  const char *expected_diff_id, char **out_diff_id,
                                  GError **error);

/* Blocks. Commits the tree with @config_json (stored verbatim in the commit
 * metadata; must be UTF-8) and sets ref images/<sha256 of @config_json>.
 * @created_at: usec since the epoch (0 = now), also the commit timestamp. */
CtrdImportResult *ctrd_layer_import_commit (CtrdLayerImport *import, const char *config_json,
                                            guint64 created_at, GError **error);

/* Aborts the transaction unless committed (nothing of it stays reachable, and
 * its staging files go) and releases the repo lock. */
void ctrd_layer_import_free (CtrdLayerImport *import);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdLayerImport, ctrd_layer_import_free)

/* An unnamed file (0600) in the storage root for temporary data: it
 * vanishes when its last fd closes, even if the daemon is killed. Returns the
 * fd (O_CLOEXEC, read-write) or -1. */
int ctrd_storage_open_tmpfile (CtrdStorage *storage, GError **error);

/* Blocks. Reads all of @fd (a file, pipe or socket; not closed), undoing any
 * gzip/zstd/xz/bzip2 compression, into a new ctrd_storage_open_tmpfile file,
 * and returns that fd at offset 0 (or -1). @max_bytes (0 = no cap) bounds the
 * bytes read and written (LIMIT_EXCEEDED); cancellation also interrupts a
 * stalled pipe (CANCELLED). @progress (may be NULL) gets the source bytes. */
int ctrd_storage_spool_source (CtrdStorage *storage, int fd, guint64 max_bytes,
                               CtrdProgressFunc progress, gpointer progress_data,
                               GCancellable *cancellable, GError **error);

/* Blocks. The image config stored in @commit (verbatim), or NULL with
 * NOT_FOUND (no such commit, or no config in it). Free with g_free. */
char *ctrd_storage_read_image_config (CtrdStorage *storage, const char *commit, GError **error);

/* Blocks. Writes the root filesystem of @commit to @fd as an uncompressed pax
 * tar ("./" first, then "./path" in name order; numeric owners, modes with
 * setuid bits, the stored xattrs, repeated content as hardlinks, every mtime
 * the commit's time), written with ctrd_fd_write_all, but a reader that went
 * away is FAILED and cancellation CANCELLED (CTRD_ERROR). On
 * success @out_size and @out_sha256 (64 hex, may be NULL) describe the bytes
 * written. @progress gets the bytes written and @total_hint. */
gboolean ctrd_storage_write_rootfs_tar (CtrdStorage *storage, const char *commit, int fd,
                                        guint64 *out_size, char **out_sha256,
                                        CtrdProgressFunc progress, gpointer progress_data,
                                        guint64 total_hint, GCancellable *cancellable,
                                        GError **error);

/* What Container.Commit changes in the image config; every field NULL keeps
 * the image's value, a set one replaces it (merging is the caller's choice). */
typedef struct
{
  const char *const *command;    /* config Cmd */
  const char *const *entrypoint; /* config Entrypoint */
  const char *const *env;        /* config Env, KEY=VALUE */
  GHashTable *labels;            /* config Labels (char* -> char*) */
  const char *author;            /* config author */
  const char *comment;           /* the new history entry's comment */
  /* Absolute paths inside the container to leave out with everything under
   * them (mount points the runtime made, e.g. /etc/resolv.conf). */
  const char *const *exclude_paths;
  /* Bytes of regular files the commit may write (their apparent sizes, as
   * for imports); past it LIMIT_EXCEEDED and nothing is kept. 0 = no cap. */
  guint64 max_bytes;
} CtrdCommitOptions;

/* Blocks. A new image from @base_commit plus the overlay upper directory
 * @upper_dir of a container (read fd-relative, never following symlinks):
 * a character device 0/0 deletes the path, a directory with xattr
 * trusted.overlay.opaque=y hides everything below it in the base; every other
 * entry is added or replaces the base's. Only the files in @upper_dir are
 * read and hashed; the rest of the base tree is reused as it is. FIFOs,
 * sockets and devices are skipped (logged); xattrs are filtered as for
 * imports; names that are not UTF-8 are INVALID_ARGUMENT; an upper dir made
 * with redirect_dir or metacopy (which this daemon never mounts) is
 * STORAGE_ERROR. The config is the base commit's with @options applied, a new
 * "created" (now), a history entry, and the new tree's OSTree checksum
 * appended to rootfs.diff_ids (images are stored flattened; Export writes
 * real layer digests). Sets ref images/<ID>. @options may be NULL. Pause the
 * container first: a changing upper dir gives an inconsistent image. */
CtrdImportResult *ctrd_storage_commit_container (CtrdStorage *storage, const char *base_commit,
                                                 const char *upper_dir,
                                                 const CtrdCommitOptions *options,
                                                 GCancellable *cancellable, GError **error);

typedef struct
{
  char kind;  /* 'A' added, 'C' changed, 'D' deleted (like podman diff) */
  char *path; /* absolute, inside the container */
} CtrdChange;

void ctrd_change_free (CtrdChange *change);

/* Blocks. The changes of a container's overlay upper directory @upper_dir
 * against @base_commit, sorted by path: an entry that exists in the base is
 * C (directories too, as podman reports a directory whose content changed),
 * else A; a whiteout of a base entry is D; an opaque directory gives D for
 * each base entry in it that the upper directory does not have again.
 * Deleted directories are listed once, not with their content. Paths in
 * @exclude_paths (may be NULL) and below them are left out. Element type
 * CtrdChange*, free function set. */
GPtrArray *ctrd_storage_list_changes (CtrdStorage *storage, const char *base_commit,
                                      const char *upper_dir, const char *const *exclude_paths,
                                      GCancellable *cancellable, GError **error);

/* Blocks (reads every file). Compares checkouts/<commit> with the commit:
 * returns the absolute paths (sorted) whose content, type, mode, owner or
 * kept xattrs differ, that are missing, or that the commit does not have;
 * empty when the checkout is intact. NOT_FOUND when there is no checkout.
 * Element type char*, free function set. A file changed in place also
 * changed the repo object it shares an inode with: this finds it by hashing
 * the content, not by trusting the object. */
GPtrArray *ctrd_storage_verify_checkout (CtrdStorage *storage, const char *commit,
                                         GCancellable *cancellable, GError **error);

/* ctrd_storage_import_rootfs_tar, telling @progress (may be NULL; called in
 * this thread) the bytes read from @fd so far (total 0). */
CtrdImportResult *ctrd_storage_import_rootfs_tar_full (CtrdStorage *storage, int fd,
                                                       const CtrdImportLimits *limits,
                                                       CtrdProgressFunc progress,
                                                       gpointer progress_data,
                                                       GCancellable *cancellable, GError **error);

/* The IDs that have a ref images/<ID> in the repo (element type char*,
 * free function set), or NULL with STORAGE_ERROR. */
GPtrArray *ctrd_storage_list_image_ids (CtrdStorage *storage, GError **error);

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
