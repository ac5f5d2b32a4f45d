/* ctrd-image-archive-export.c: an image out of the store, as an
 * oci-archive (an OCI layout with one flattened layer) or a root filesystem
 * tar. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image-archive-private.h"
#include "ctrd-tar.h"

/* ------------------------------------------------------------------ */
/* Export */

static gboolean
output_header (CtrdTarWriter *tar, const char *path, mode_t type, guint64 size, gint64 mtime,
               GError **error)
{
  g_autoptr (CtrdArchiveEntry) entry = archive_entry_new ();

  archive_entry_set_pathname (entry, path);
  archive_entry_set_filetype (entry, type);
  archive_entry_set_perm (entry, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size (entry, type == AE_IFDIR ? 0 : size);
  archive_entry_set_mtime (entry, mtime, 0);
  return ctrd_tar_writer_write_header (tar, entry, path, error);
}

static gboolean
output_bytes (CtrdTarWriter *tar, const char *path, const char *data, gsize len, gint64 mtime,
              GError **error)
{
  return output_header (tar, path, AE_IFREG, len, mtime, error) &&
         ctrd_tar_writer_write_data (tar, data, len, path, error);
}

static gboolean
output_blob_from_fd (CtrdTarWriter *tar, const char *path, int fd, guint64 size, gint64 mtime,
                     Progress *progress, GError **error)
{
  guint64 offset = 0;

  if (!output_header (tar, path, AE_IFREG, size, mtime, error))
    return FALSE;
  while (offset < size)
    {
      guchar buf[READ_CHUNK];
      gssize n = pread (fd, buf, MIN (sizeof buf, size - offset), offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR,
                       "Reading the exported layer back failed");
          return FALSE;
        }
      if (!ctrd_tar_writer_write_data (tar, buf, n, path, error))
        return FALSE;
      offset += n;
      image_archive_progress_add (progress, n);
    }
  return TRUE;
}

static char *
sha256_digest_of_string (const char *text)
{
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);

  return g_strconcat ("sha256:", hex, NULL);
}

static JsonNode *
descriptor_node (const char *media_type, const char *digest, guint64 size, const char *ref_name)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "mediaType");
  json_builder_add_string_value (builder, media_type);
  json_builder_set_member_name (builder, "digest");
  json_builder_add_string_value (builder, digest);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, size);
  if (ref_name != NULL)
    {
      json_builder_set_member_name (builder, "annotations");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, ANNOTATION_REF_NAME);
      json_builder_add_string_value (builder, ref_name);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
write_oci_archive (CtrdTarWriter *tar, int layer_fd, guint64 layer_size, const char *layer_sha256,
                   const char *config_json, const char *name, gint64 mtime, Progress *progress,
                   GError **error)
{
  g_autofree char *diff_id = g_strconcat ("sha256:", layer_sha256, NULL);
  g_autofree char *config = ctrd_image_config_for_export (config_json, diff_id);
  g_autofree char *config_digest = sha256_digest_of_string (config);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) manifest_node = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *manifest_digest = NULL;
  g_autoptr (JsonNode) index_node = NULL;
  g_autofree char *index = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *manifest_path = NULL;
  g_autofree char *layer_path = g_strconcat ("blobs/sha256/", layer_sha256, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schemaVersion");
  json_builder_add_int_value (builder, 2);
  json_builder_set_member_name (builder, "mediaType");
  json_builder_add_string_value (builder, MEDIA_TYPE_OCI_MANIFEST);
  json_builder_set_member_name (builder, "config");
  json_builder_add_value (
      builder, descriptor_node (MEDIA_TYPE_OCI_CONFIG, config_digest, strlen (config), NULL));
  json_builder_set_member_name (builder, "layers");
  json_builder_begin_array (builder);
  json_builder_add_value (builder,
                          descriptor_node (MEDIA_TYPE_OCI_LAYER, diff_id, layer_size, NULL));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  manifest_node = json_builder_get_root (builder);
  manifest = ctrd_json_to_text (manifest_node);
  manifest_digest = sha256_digest_of_string (manifest);

  json_builder_reset (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schemaVersion");
  json_builder_add_int_value (builder, 2);
  json_builder_set_member_name (builder, "manifests");
  json_builder_begin_array (builder);
  json_builder_add_value (
      builder, descriptor_node (MEDIA_TYPE_OCI_MANIFEST, manifest_digest, strlen (manifest), name));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  index_node = json_builder_get_root (builder);
  index = ctrd_json_to_text (index_node);

  config_path = g_strconcat ("blobs/sha256/", config_digest + strlen ("sha256:"), NULL);
  manifest_path = g_strconcat ("blobs/sha256/", manifest_digest + strlen ("sha256:"), NULL);
  return output_bytes (tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}",
                       strlen ("{\"imageLayoutVersion\":\"1.0.0\"}"), mtime, error) &&
         output_bytes (tar, "index.json", index, strlen (index), mtime, error) &&
         output_header (tar, "blobs/", AE_IFDIR, 0, mtime, error) &&
         output_header (tar, "blobs/sha256/", AE_IFDIR, 0, mtime, error) &&
         output_bytes (tar, config_path, config, strlen (config), mtime, error) &&
         output_bytes (tar, manifest_path, manifest, strlen (manifest), mtime, error) &&
         output_blob_from_fd (tar, layer_path, layer_fd, layer_size, mtime, progress, error);
}

gboolean
ctrd_image_archive_export (CtrdStorage *storage, const char *commit, const char *config_json,
                           const char *name, CtrdImageFormat format, int fd, guint64 size_hint,
                           CtrdProgressFunc progress_func, gpointer progress_data,
                           GCancellable *cancellable, GError **error)
{
  Progress progress = { .func = progress_func, .data = progress_data };
  g_autofree char *layer_sha256 = NULL;
  g_autoptr (CtrdImageConfig) parsed = NULL;
  g_autoptr (CtrdTarWriter) tar = NULL;
  g_autoptr (GError) local_error = NULL;
  guint64 layer_size = 0;
  gboolean ok;
  ctrd_autofd int layer_fd = -1;

  if (format == CTRD_IMAGE_FORMAT_ROOTFS_TAR)
    return ctrd_storage_write_rootfs_tar (storage, commit, fd, NULL, NULL, progress_func,
                                          progress_data, size_hint, cancellable, error);
  if (format != CTRD_IMAGE_FORMAT_OCI_ARCHIVE)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Images export as oci-archive or rootfs-tar, not %s",
                   ctrd_image_format_to_string (format));
      return FALSE;
    }

  /* The layer's digest and size go into the manifest and its tar header
   * before its bytes: it is made in full first. */
  layer_fd = ctrd_storage_open_tmpfile (storage, error);
  if (layer_fd < 0)
    return FALSE;
  progress.total = 2 * size_hint;
  if (!ctrd_storage_write_rootfs_tar (storage, commit, layer_fd, &layer_size, &layer_sha256,
                                      image_archive_on_source_progress, &progress, 0, cancellable,
                                      error))
    return FALSE;
  progress.done = layer_size;
  progress.total = 2 * layer_size;

  parsed = ctrd_image_config_parse (config_json);
  /* The output's errors are CTRD_ERROR here: a reader that went away is
   * FAILED, cancellation CANCELLED. */
  tar = ctrd_tar_writer_new (fd, CTRD_TAR_FLAGS_NONE, cancellable, &local_error);
  ok = tar != NULL &&
       write_oci_archive (tar, layer_fd, layer_size, layer_sha256, config_json, name,
                          (gint64) (parsed->created / G_USEC_PER_SEC), &progress, &local_error) &&
       ctrd_tar_writer_close (tar, NULL, NULL, &local_error);
  if (!ok)
    {
      ctrd_error_normalize (&local_error, CTRD_ERROR_FAILED);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return ok;
}
