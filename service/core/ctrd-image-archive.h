/* ctrd-image-archive.h: image archives in and out of the OSTree store: OCI
 * image layouts (a directory, or a tar of one: "oci-archive"), docker-archive
 * (what `podman save --format docker-archive` writes) and root filesystem
 * tars. The image config itself is ctrd-image-config.h (included here).
 *
 * Every blob an archive names is checked against its digest and size before
 * it is used, and digests must read sha256:<64 lowercase hex> before they
 * become a path. Archive member names are only ever looked up, never joined
 * onto host paths; a layout directory is read fd-relative without following
 * symlinks. Functions marked "blocks" belong in a worker thread. No D-Bus
 * types. */
#pragma once

#include <gio/gio.h>

#include "ctrd-image-config.h"
#include "ctrd-storage.h"

G_BEGIN_DECLS

typedef enum
{
  CTRD_IMAGE_FORMAT_AUTO,
  CTRD_IMAGE_FORMAT_ROOTFS_TAR,
  CTRD_IMAGE_FORMAT_OCI_ARCHIVE,
  CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE,
  CTRD_IMAGE_FORMAT_OCI_LAYOUT, /* a directory */
} CtrdImageFormat;

/* "auto", "rootfs-tar", "oci-archive", "docker-archive", "oci-layout".
 * INVALID_ARGUMENT for anything else. */
gboolean ctrd_image_format_parse (const char *text, CtrdImageFormat *out_format, GError **error);
const char *ctrd_image_format_to_string (CtrdImageFormat format);

/* Blocks. Imports the image in @fd (not closed): a directory fd is an OCI
 * image layout; a file or pipe holds an oci-archive, a docker-archive or a
 * root filesystem tar, possibly compressed (a pipe, or a compressed file, is
 * first spooled into an unnamed file in the storage root). @format AUTO
 * detects which; another format that does not match is INVALID_ARGUMENT.
 * Layers (plain, gzip or zstd) are applied in order into one commit (see
 * ctrd_layer_import_apply) and checked against the config's diff_ids; the
 * config blob is stored verbatim and its sha256 is the image ID (as
 * podman's). Names the archive carries (docker RepoTags, the OCI
 * org.opencontainers.image.ref.name annotation when it is a full
 * name[:tag]) come back in result->names. A missing blob, a digest or size
 * mismatch, a malformed digest, a ".." or absolute layer path or a bad
 * whiteout is INVALID_ARGUMENT, and nothing of the import stays reachable,
 * nor any temporary file. @progress (may be NULL) gets the bytes read so far
 * and the expected total (0 while unknown); it runs in this thread. */
CtrdImportResult *ctrd_image_archive_import (CtrdStorage *storage, int fd, CtrdImageFormat format,
                                             const CtrdImportLimits *limits,
                                             CtrdProgressFunc progress, gpointer progress_data,
                                             GCancellable *cancellable, GError **error);

/* Blocks. Writes the image (@commit, with its stored config @config_json) to
 * @fd: ROOTFS_TAR is an uncompressed tar of the root filesystem;
 * OCI_ARCHIVE is a tar of an OCI image layout with one uncompressed layer
 * (made in an unnamed temporary file first), the config with its rootfs
 * and history describing that layer, and @name (may be NULL) as the
 * org.opencontainers.image.ref.name annotation, as podman save writes it.
 * @fd is written with ctrd_fd_write_all, but a reader that goes away is
 * FAILED and cancellation CANCELLED (CTRD_ERROR). @size_hint (the image size) scales @progress. */
gboolean ctrd_image_archive_export (CtrdStorage *storage, const char *commit,
                                    const char *config_json, const char *name,
                                    CtrdImageFormat format, int fd, guint64 size_hint,
                                    CtrdProgressFunc progress, gpointer progress_data,
                                    GCancellable *cancellable, GError **error);

G_END_DECLS
