/* ctrd-storage-private.h: what the files of the storage module share, not
 * for other modules. The module is split by facet around this header:
 *   ctrd-storage.c           setup, the repo lock, refs, temporary files, prune
 *   ctrd-storage-source.c    the byte source of an import (decompression, limits), spooling
 *   ctrd-storage-import.c    tar members into the repo: root filesystem tars and OCI layers
 *   ctrd-storage-checkout.c  checkouts of images, container directories, overlay mounts
 *   ctrd-storage-export.c    a commit as a tar
 *   ctrd-storage-commit.c    a container's upper directory as a commit, and its changes
 *   ctrd-storage-verify.c    a checkout compared with its commit
 * The public API is ctrd-storage.h. */
#pragma once

#include <archive.h>
#include <ostree.h>

#include "ctrd-digest.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-storage.h"

G_BEGIN_DECLS

#define IMAGE_REF_DIR "images"
#define IMAGE_REF_PREFIX IMAGE_REF_DIR "/"
#define IMAGE_CONFIG_KEY "containersd.image-config"
#define CHECKOUT_TMP_PREFIX ".tmp-"
/* Deeper trees only serve to exhaust the recursion in write_mtree and checkout. */
#define MEMBER_DEPTH_MAX 256
#define READ_CHUNK (64 * 1024)
/* Skipped members are logged one by one up to this many, then counted. */
#define SKIPPED_LOG_MAX 20

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

typedef struct
{
  int fd;               /* read with poll, so a stalled pipe can be cancelled */
  GInputStream *stream; /* or this, when set (a layer blob) */
  GCancellable *cancellable;
  int cancel_fd;
  guint64 max_bytes;
  guint64 source_bytes;
  guint64 tar_bytes;
  guint64 member_bytes; /* apparent sizes of the regular members: holes of
                         * sparse ones are written out as zeros */
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

typedef enum
{
  SLOT_MISSING,
  SLOT_FILE,
  SLOT_DIR,
} SlotKind;

/* Like ctrd_error_normalize, with context. */
gboolean storage_propagate_prefixed (GError **error, GError *local_error, CtrdError fallback,
                                     const char *prefix);

/* Image IDs, container IDs and OSTree commit checksums all have the same
 * shape, 64 lowercase hex: checked before any of them is joined into a path. */
gboolean storage_check_hex_id (const char *value, const char *what, GError **error);

int storage_compare_strings (gconstpointer a, gconstpointer b);

GVariant *storage_load_commit_metadata (CtrdStorage *storage, const char *commit,
                                        GVariant **out_commit, GError **error);

/* ostree keeps the staging directory of an aborted transaction to resume
 * pulls, with the objects written so far; we never resume, and an aborted
 * import must leave nothing behind. A directory whose "-lock" file someone
 * holds (libglnx takes an OFD lock on it) is in use and is skipped. */
void storage_remove_unlocked_staging_dirs (CtrdStorage *storage);

/* Sets @error for a failure of the source or of @a (a reader of it): the
 * limit, cancellation and read errors win over what libarchive says. */
gboolean storage_source_set_error (ImportSource *src, struct archive *a, const char *member,
                                   GError **error);

gboolean storage_check_source_fd (int fd, GError **error);

/* Reads @fd, or @stream when it is set; @max_bytes 0 = no cap. Without
 * @with_tar only the decoder is opened (source_read_tar_bytes then yields the
 * uncompressed bytes). */
ImportSource *storage_source_open (int fd, GInputStream *stream, guint64 max_bytes,
                                   gboolean with_tar, CtrdProgressFunc progress,
                                   gpointer progress_data, GCancellable *cancellable,
                                   GError **error);

void storage_source_free (ImportSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImportSource, storage_source_free)

/* After the tar end marker: the rest of the stream (block padding) belongs
 * to the digest, and anything that fails to decode means a damaged input. */
gboolean storage_source_drain (ImportSource *src, GError **error);

GFileInfo *storage_file_info_new (GFileType type, guint32 mode, guint32 uid, guint32 gid);

char *storage_repo_write_dirmeta (OstreeRepo *repo, GFileInfo *info, GVariant *xattrs,
                                  GCancellable *cancellable, GError **error);

/* Capabilities and user data are kept; trusted.overlay.* (and user.overlay.*
 * of unprivileged overlays) would change what overlayfs makes of the lower
 * layer, and security.selinux is the host's business, so those and
 * everything else are dropped. */
gboolean storage_keep_xattr (const char *name);

SlotKind storage_lookup_slot (OstreeMutableTree *parent, const char *name, char **out_checksum,
                              OstreeMutableTree **out_subdir);

gboolean storage_begin_transaction (CtrdStorage *storage, GCancellable *cancellable,
                                    GError **error);

/* After a failure inside a transaction: nothing of it stays, and @local_error
 * (taken) reaches @error with a CTRD_ERROR code. Returns NULL, for the
 * caller to return. */
gpointer storage_fail_transaction (CtrdStorage *storage, GError *local_error, GError **error);

/* In a transaction: writes @root as a commit whose metadata holds
 * @config_json (verbatim), points images/<sha256 of @config_json> at it and
 * commits the transaction. */
CtrdImportResult *storage_commit_image_tree (CtrdStorage *storage, OstreeMutableTree *root,
                                             const char *default_dirmeta, GHashTable *known_sizes,
                                             const char *config_json, guint64 created_at,
                                             const char *subject, GCancellable *cancellable,
                                             GError **error);

gboolean storage_path_is_at_or_under (const char *path, const char *dir);

G_END_DECLS
