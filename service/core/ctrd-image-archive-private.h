/* ctrd-image-archive-private.h: what the files of the image archive module
 * share, not for other modules:
 *   ctrd-image-archive.c         formats, OCI layout and docker-archive import
 *   ctrd-image-archive-blobs.c   blobs by offset: the outer tar index, layout
 *                                directories, descriptors and verified reads
 *   ctrd-image-archive-export.c  an image as an oci-archive or root filesystem tar
 * The public API is ctrd-image-archive.h. */
#pragma once

#include <json-glib/json-glib.h>

#include "ctrd-digest.h"
#include "ctrd-image-archive.h"

G_BEGIN_DECLS

/* index.json, manifests and configs are small; anything larger is hostile. */
#define MAX_JSON_BYTES (4 * 1024 * 1024)
#define MAX_LAYERS 1024
#define MAX_ARCHIVE_MEMBERS 65536
#define MAX_INDEX_DEPTH 4
#define TAR_BLOCK 512
#define READ_CHUNK (64 * 1024)

#define MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_TYPE_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* Progress over the whole import */
typedef struct
{
  CtrdProgressFunc func;
  gpointer data;
  guint64 done;
  guint64 total;
} Progress;

void image_archive_progress_add (Progress *progress, guint64 n);

/* Progress of one pass over the source, against the total known here. */
void image_archive_on_source_progress (guint64 done, guint64 total, gpointer user_data);

/* A byte range of a file as a stream, hashed as it is read */
#define CTRD_TYPE_BLOB_STREAM (ctrd_blob_stream_get_type ())
G_DECLARE_FINAL_TYPE (CtrdBlobStream, ctrd_blob_stream, CTRD, BLOB_STREAM, GInputStream)

struct _CtrdBlobStream
{
  GInputStream parent_instance;
  int fd; /* not owned */
  guint64 offset;
  guint64 remaining;
  CtrdSha256 *sha256;
  Progress *progress; /* may be NULL */
};

/* A blob: @size bytes of @fd from @offset. */
typedef struct
{
  int fd;
  gboolean owns_fd;
  guint64 offset;
  guint64 size;
} Blob;

void image_archive_blob_clear (Blob *blob);

CtrdBlobStream *image_archive_blob_stream_new (const Blob *blob, Progress *progress);

/* Reads the rest of @stream (so its digest covers the whole blob). */
gboolean image_archive_blob_stream_drain (CtrdBlobStream *stream, GCancellable *cancellable,
                                          GError **error);

/* Where blobs come from: an archive's members, or a layout directory */
typedef struct
{
  guint64 offset;
  guint64 size;
  char *link_target; /* symlink members: the target, normalised; NULL for files */
} TarMember;

typedef struct
{
  int dir_fd;          /* an OCI layout directory, or -1 */
  int archive_fd;      /* an uncompressed tar, or -1 */
  GHashTable *members; /* archive: normalised name -> TarMember */
  GCancellable *cancellable;
  Progress progress;
  /* whose rights the layout directory's files are opened with; NULL: the daemon's */
  const CtrdCaller *reader;
} BlobStore;

void image_archive_blob_store_clear (BlobStore *store);

/* A path a manifest names: relative, without "..", "." or empty components. */
gboolean image_archive_check_manifest_path (const char *path, const char *what, GError **error);

/* Finds @path; @what names it in errors ("blob sha256:…", "manifest.json"). */
gboolean image_archive_blob_store_open (BlobStore *store, const char *path, const char *what,
                                        Blob *out, GError **error);

GBytes *image_archive_blob_read_all (BlobStore *store, const Blob *blob, const char *what,
                                     GError **error);

gboolean image_archive_pread_all (int fd, void *buf, gsize len, guint64 offset);

/* Indexes the regular files and symlinks of the uncompressed tar in @fd
 * from @base to @end: name -> where its data is. Only ustar, pax and GNU
 * long names are understood, which is what image tools write. */
GHashTable *image_archive_tar_index_read (int fd, guint64 base, guint64 end,
                                          GCancellable *cancellable, GError **error);

/* Descriptors and digests */
typedef struct
{
  char *digest; /* "sha256:<hex>" */
  guint64 size;
  char *media_type;   /* may be NULL */
  JsonObject *object; /* the descriptor itself (borrowed) */
} Descriptor;

void image_archive_descriptor_clear (Descriptor *desc);

gboolean image_archive_digest_is_valid (const char *digest);

/* An OCI descriptor: the digest is matched against sha256:<64 hex> before it
 * becomes a path, the size must be a non-negative integer. */
gboolean image_archive_descriptor_parse (JsonNode *node, const char *what, Descriptor *out,
                                         GError **error);

/* Opens the blob @desc names and checks its size and digest by reading it
 * all, before anything uses it. */
gboolean image_archive_open_verified_blob (BlobStore *store, const Descriptor *desc,
                                           const char *what, gboolean counts_progress, Blob *out,
                                           GError **error);

JsonNode *image_archive_parse_json_bytes (GBytes *bytes, const char *what, GError **error);

JsonNode *image_archive_read_verified_json (BlobStore *store, const Descriptor *desc,
                                            const char *what, GBytes **out_bytes, GError **error);

JsonNode *image_archive_read_named_json (BlobStore *store, const char *path, GBytes **out_bytes,
                                         GError **error);

G_END_DECLS
