/* ctrd-image-archive.c: OCI layouts, oci-archive and docker-archive into
 * the OSTree store (export is ctrd-image-archive-export.c).
 *
 * Import reads an archive's members by offset: the outer tar (uncompressed,
 * in a regular file, spooled first when it is not) is indexed once by a
 * small header reader (ctrd-image-archive-blobs.c), so every blob is a byte
 * range of one file that can be read twice: once to check its digest and
 * size before anything uses it, once to apply it. The second read hashes
 * again, so a layout directory changed in between is caught too. The layers
 * themselves go through libarchive in ctrd-storage. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-digest.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image-archive-private.h"
#include "ctrd-util.h"

static const struct
{
  CtrdImageFormat format;
  const char *name;
} format_names[] = {
  { CTRD_IMAGE_FORMAT_AUTO, "auto" },
  { CTRD_IMAGE_FORMAT_ROOTFS_TAR, "rootfs-tar" },
  { CTRD_IMAGE_FORMAT_OCI_ARCHIVE, "oci-archive" },
  { CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE, "docker-archive" },
  { CTRD_IMAGE_FORMAT_OCI_LAYOUT, "oci-layout" },
};

gboolean
ctrd_image_format_parse (const char *text, CtrdImageFormat *out_format, GError **error)
{
  g_autofree char *quoted = NULL;

  for (gsize i = 0; text != NULL && i < G_N_ELEMENTS (format_names); i++)
    if (strcmp (text, format_names[i].name) == 0)
      {
        *out_format = format_names[i].format;
        return TRUE;
      }
  quoted = ctrd_quote_untrusted (text);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "Unknown image format %s (known: auto, rootfs-tar, oci-archive, docker-archive, "
               "oci-layout)",
               quoted);
  return FALSE;
}

const char *
ctrd_image_format_to_string (CtrdImageFormat format)
{
  for (gsize i = 0; i < G_N_ELEMENTS (format_names); i++)
    if (format_names[i].format == format)
      return format_names[i].name;
  return "unknown";
}

/* ------------------------------------------------------------------ */
/* Progress over the whole import */

void
image_archive_progress_add (Progress *progress, guint64 n)
{
  progress->done += n;
  if (progress->func != NULL)
    progress->func (progress->done, progress->total, progress->data);
}

/* ------------------------------------------------------------------ */
/* Applying the layers and committing */

typedef struct
{
  Blob blob;
  char *digest;  /* "sha256:<hex>" of the blob as stored; NULL = not known (docker, compressed) */
  char *diff_id; /* what the config's rootfs says the uncompressed tar is */
} Layer;

static void
layer_free (Layer *layer)
{
  image_archive_blob_clear (&layer->blob);
  g_free (layer->digest);
  g_free (layer->diff_id);
  g_free (layer);
}

/* The config's rootfs.diff_ids, which must name one digest per layer. */
static char **
config_diff_ids (JsonObject *config, guint n_layers, GError **error)
{
  JsonArray *diff_ids =
      ctrd_json_member_array (ctrd_json_member_object (config, "rootfs"), "diff_ids");
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  if (diff_ids == NULL || json_array_get_length (diff_ids) != n_layers)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image config lists %u layer digests (rootfs.diff_ids) for %u layers",
                   diff_ids != NULL ? json_array_get_length (diff_ids) : 0, n_layers);
      return NULL;
    }
  for (guint i = 0; i < n_layers; i++)
    {
      JsonNode *node = json_array_get_element (diff_ids, i);
      const char *value =
          JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
              ? json_node_get_string (node)
              : NULL;
      if (!image_archive_digest_is_valid (value))
        {
          g_autofree char *quoted = ctrd_quote_untrusted (value);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image config's diff_id %u is %s, not sha256:<64 lowercase hex>", i,
                       quoted);
          return NULL;
        }
      g_ptr_array_add (out, g_strdup (value));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static CtrdImportResult *
apply_layers_and_commit (CtrdStorage *storage, BlobStore *store, GPtrArray *layers,
                         GBytes *config_bytes, JsonObject *config, const CtrdImportLimits *limits,
                         GError **error)
{
  g_autoptr (CtrdLayerImport) import = NULL;
  g_autofree char *config_text = NULL;
  gsize config_len;
  const char *config_data = g_bytes_get_data (config_bytes, &config_len);

  /* Stored verbatim, so the ID can be recomputed from it; JSON text never
   * holds a NUL, so it goes into the commit as a string. */
  if (memchr (config_data, '\0', config_len) != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image config contains a NUL byte");
      return NULL;
    }
  config_text = g_strndup (config_data, config_len);

  import = ctrd_storage_layer_import_begin (storage, limits, store->cancellable, error);
  if (import == NULL)
    return NULL;
  for (guint i = 0; i < layers->len; i++)
    {
      Layer *layer = layers->pdata[i];
      g_autoptr (CtrdBlobStream) stream =
          image_archive_blob_stream_new (&layer->blob, &store->progress);
      g_autofree char *actual = NULL;

      if (!ctrd_layer_import_apply (import, G_INPUT_STREAM (stream), layer->diff_id, NULL, error))
        return NULL;
      /* Read a second time: the blob must still be what was checked. */
      if (!image_archive_blob_stream_drain (stream, store->cancellable, error))
        {
          ctrd_error_normalize (error, CTRD_ERROR_INVALID_ARGUMENT);
          return g_prefix_error (error, "Layer %u: ", i + 1), NULL;
        }
      actual = g_strconcat ("sha256:", ctrd_sha256_get_string (stream->sha256), NULL);
      if (layer->digest != NULL && strcmp (actual, layer->digest) != 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Layer %u changed while it was imported (%s, now %s)", i + 1, layer->digest,
                       actual);
          return NULL;
        }
    }
  return ctrd_layer_import_commit (
      import, config_text,
      ctrd_image_config_parse_created (ctrd_json_member_string (config, "created")), error);
}

/* Normalised names from @candidates (skipping what is not a name[:tag]). */
static char **
collect_names (GPtrArray *candidates)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < candidates->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      char *normalized = ctrd_normalize_image_name (candidates->pdata[i], &local_error);

      if (normalized == NULL)
        {
          g_message ("Image import: ignored the name in the archive: %s", local_error->message);
          continue;
        }
      if (g_ptr_array_find_with_equal_func (names, normalized, g_str_equal, NULL))
        g_free (normalized);
      else
        g_ptr_array_add (names, normalized);
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* ------------------------------------------------------------------ */
/* OCI image layouts (a directory or an oci-archive) */

static gboolean
is_index_media_type (const char *media_type)
{
  return g_strcmp0 (media_type, MEDIA_TYPE_OCI_INDEX) == 0 ||
         g_strcmp0 (media_type, MEDIA_TYPE_DOCKER_LIST) == 0;
}

/* The manifest descriptor of @index to import: the one for this host's
 * platform, else the only one, else the first without a platform. Nested
 * indexes are followed to a bounded depth (a self-referencing index ends). */
static gboolean
choose_manifest (BlobStore *store, JsonObject *index, guint depth, Descriptor *out,
                 JsonObject **out_top, GError **error)
{
  JsonArray *manifests = ctrd_json_member_array (index, "manifests");
  g_autofree char *arch = ctrd_image_config_oci_architecture ();
  gint chosen = -1;
  guint n;

  if (depth > MAX_INDEX_DEPTH)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image index nests more than %d indexes", MAX_INDEX_DEPTH);
      return FALSE;
    }
  n = manifests != NULL ? json_array_get_length (manifests) : 0;
  if (n == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image index lists no manifests");
      return FALSE;
    }
  for (guint i = 0; i < n && chosen < 0; i++)
    {
      JsonNode *node = json_array_get_element (manifests, i);
      JsonObject *platform = JSON_NODE_HOLDS_OBJECT (node)
                                 ? ctrd_json_member_object (json_node_get_object (node), "platform")
                                 : NULL;
      if (platform != NULL && g_strcmp0 (ctrd_json_member_string (platform, "os"), "linux") == 0 &&
          g_strcmp0 (ctrd_json_member_string (platform, "architecture"), arch) == 0)
        chosen = i;
    }
  for (guint i = 0; i < n && chosen < 0; i++)
    {
      JsonNode *node = json_array_get_element (manifests, i);
      if (n == 1 || (JSON_NODE_HOLDS_OBJECT (node) &&
                     ctrd_json_member_object (json_node_get_object (node), "platform") == NULL))
        chosen = i;
    }
  if (chosen < 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image index has no manifest for linux/%s", arch);
      return FALSE;
    }
  if (!image_archive_descriptor_parse (json_array_get_element (manifests, chosen), "manifest", out,
                                       error))
    return FALSE;
  if (depth == 0)
    *out_top = out->object;

  if (is_index_media_type (out->media_type))
    {
      g_autoptr (JsonNode) nested =
          image_archive_read_verified_json (store, out, "image index", NULL, error);

      image_archive_descriptor_clear (out);
      if (nested == NULL)
        return FALSE;
      /* Only the copied digest and size of the result outlive @nested. */
      return choose_manifest (store, json_node_get_object (nested), depth + 1, out, out_top, error);
    }
  return TRUE;
}

static CtrdImportResult *
import_oci (CtrdStorage *storage, BlobStore *store, const CtrdImportLimits *limits, GError **error)
{
  g_autoptr (JsonNode) layout = NULL;
  g_autoptr (JsonNode) index = NULL;
  g_autoptr (JsonNode) manifest = NULL;
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GBytes) config_bytes = NULL;
  g_autoptr (GPtrArray) layers = g_ptr_array_new_with_free_func ((GDestroyNotify) layer_free);
  g_autoptr (GPtrArray) name_candidates = g_ptr_array_new ();
  g_auto (GStrv) diff_ids = NULL;
  Descriptor manifest_desc = { 0 };
  Descriptor config_desc = { 0 };
  JsonObject *top_desc = NULL;
  JsonArray *layer_nodes;
  const char *ref_name;
  CtrdImportResult *result;
  guint n_layers;

  layout = image_archive_read_named_json (store, "oci-layout", NULL, error);
  if (layout == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (layout) ||
      !g_str_has_prefix (
          ctrd_json_member_string (json_node_get_object (layout), "imageLayoutVersion") ?: "",
          "1."))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "oci-layout does not name image layout version 1.x");
      return NULL;
    }
  index = image_archive_read_named_json (store, "index.json", NULL, error);
  if (index == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (index))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "index.json is not a JSON object");
      return NULL;
    }
  if (!choose_manifest (store, json_node_get_object (index), 0, &manifest_desc, &top_desc, error))
    {
      image_archive_descriptor_clear (&manifest_desc);
      return NULL;
    }
  ref_name = ctrd_json_member_string (ctrd_json_member_object (top_desc, "annotations"),
                                      ANNOTATION_REF_NAME);

  manifest = image_archive_read_verified_json (store, &manifest_desc, "manifest", NULL, error);
  image_archive_descriptor_clear (&manifest_desc);
  if (manifest == NULL)
    return NULL;
  if (!image_archive_descriptor_parse (
          json_object_get_member (json_node_get_object (manifest), "config"), "image config",
          &config_desc, error))
    return NULL;
  config =
      image_archive_read_verified_json (store, &config_desc, "image config", &config_bytes, error);
  image_archive_descriptor_clear (&config_desc);
  if (config == NULL)
    return NULL;

  layer_nodes = ctrd_json_member_array (json_node_get_object (manifest), "layers");
  n_layers = layer_nodes != NULL ? json_array_get_length (layer_nodes) : 0;
  if (layer_nodes == NULL || n_layers > MAX_LAYERS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The manifest must list between 0 and %d layers", MAX_LAYERS);
      return NULL;
    }
  diff_ids = config_diff_ids (json_node_get_object (config), n_layers, error);
  if (diff_ids == NULL)
    return NULL;

  for (guint i = 0; i < n_layers; i++)
    {
      Descriptor desc = { 0 };
      if (!image_archive_descriptor_parse (json_array_get_element (layer_nodes, i), "layer", &desc,
                                           error))
        return NULL;
      store->progress.total += 2 * desc.size;
      image_archive_descriptor_clear (&desc);
    }
  for (guint i = 0; i < n_layers; i++)
    {
      Layer *layer = g_new0 (Layer, 1);
      Descriptor desc = { 0 };

      layer->blob.fd = -1;
      g_ptr_array_add (layers, layer);
      if (!image_archive_descriptor_parse (json_array_get_element (layer_nodes, i), "layer", &desc,
                                           error) ||
          !image_archive_open_verified_blob (store, &desc, "layer", TRUE, &layer->blob, error))
        {
          image_archive_descriptor_clear (&desc);
          return NULL;
        }
      layer->digest = g_strdup (desc.digest);
      layer->diff_id = g_strdup (diff_ids[i]);
      image_archive_descriptor_clear (&desc);
    }

  result = apply_layers_and_commit (storage, store, layers, config_bytes,
                                    json_node_get_object (config), limits, error);
  if (result == NULL)
    return NULL;
  /* skopeo writes a bare tag there, podman a full name: only the latter names the image. */
  if (ref_name != NULL && (strchr (ref_name, '/') != NULL || strchr (ref_name, ':') != NULL))
    g_ptr_array_add (name_candidates, (gpointer) ref_name);
  result->names = collect_names (name_candidates);
  return result;
}

/* ------------------------------------------------------------------ */
/* docker-archive (podman save --format docker-archive, docker save) */

static gboolean
blob_is_compressed (const Blob *blob)
{
  guchar magic[4] = { 0 };

  if (blob->size < sizeof magic ||
      !image_archive_pread_all (blob->fd, magic, sizeof magic, blob->offset))
    return FALSE;
  return (magic[0] == 0x1f && magic[1] == 0x8b) ||
         (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) ||
         (magic[0] == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X') ||
         (magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h');
}

/* Hashes all of @blob. */
static char *
blob_digest (BlobStore *store, const Blob *blob, GError **error)
{
  g_autoptr (CtrdBlobStream) stream = image_archive_blob_stream_new (blob, &store->progress);

  if (!image_archive_blob_stream_drain (stream, store->cancellable, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_INVALID_ARGUMENT);
      return NULL;
    }
  return g_strconcat ("sha256:", ctrd_sha256_get_string (stream->sha256), NULL);
}

static CtrdImportResult *
import_docker (CtrdStorage *storage, BlobStore *store, const CtrdImportLimits *limits,
               GError **error)
{
  g_autoptr (JsonNode) manifest = NULL;
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GBytes) config_bytes = NULL;
  g_autoptr (GPtrArray) layers = g_ptr_array_new_with_free_func ((GDestroyNotify) layer_free);
  g_autoptr (GPtrArray) name_candidates = g_ptr_array_new ();
  g_auto (GStrv) diff_ids = NULL;
  g_autofree char *config_digest = NULL;
  g_autofree char *config_base = NULL;
  Blob config_blob = { .fd = -1 };
  JsonArray *entries, *layer_paths, *tags;
  JsonObject *entry;
  const char *config_path;
  CtrdImportResult *result;
  guint n_layers;

  manifest = image_archive_read_named_json (store, "manifest.json", NULL, error);
  if (manifest == NULL)
    return NULL;
  entries = JSON_NODE_HOLDS_ARRAY (manifest) ? json_node_get_array (manifest) : NULL;
  if (entries == NULL || json_array_get_length (entries) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (entries, 0)))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "manifest.json lists no image");
      return NULL;
    }
  if (json_array_get_length (entries) > 1)
    g_message ("Image import: the docker archive holds %u images; importing the first",
               json_array_get_length (entries));
  entry = json_array_get_object_element (entries, 0);

  config_path = ctrd_json_member_string (entry, "Config");
  if (!image_archive_check_manifest_path (config_path, "image config", error) ||
      !image_archive_blob_store_open (store, config_path, "image config", &config_blob, error))
    return NULL;
  config_bytes = image_archive_blob_read_all (store, &config_blob, "image config", error);
  image_archive_blob_clear (&config_blob);
  if (config_bytes == NULL)
    return NULL;
  config_digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, config_bytes);
  /* The file is named by its digest ("<hex>.json"): it must be that. */
  config_base = g_path_get_basename (config_path);
  if (strlen (config_base) == 64 + strlen (".json") && g_str_has_suffix (config_base, ".json"))
    {
      config_base[64] = '\0';
      if (ctrd_is_full_id (config_base) && strcmp (config_base, config_digest) != 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image config %s.json does not match its digest (its content is "
                       "sha256:%s)",
                       config_base, config_digest);
          return NULL;
        }
    }
  config = image_archive_parse_json_bytes (config_bytes, "image config", error);
  if (config == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (config))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image config is not a JSON object");
      return NULL;
    }

  layer_paths = ctrd_json_member_array (entry, "Layers");
  n_layers = layer_paths != NULL ? json_array_get_length (layer_paths) : 0;
  if (layer_paths == NULL || n_layers > MAX_LAYERS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "manifest.json must list between 0 and %d layers", MAX_LAYERS);
      return NULL;
    }
  diff_ids = config_diff_ids (json_node_get_object (config), n_layers, error);
  if (diff_ids == NULL)
    return NULL;

  /* Every path is checked before any blob is read. */
  for (guint i = 0; i < n_layers; i++)
    {
      JsonNode *node = json_array_get_element (layer_paths, i);
      const char *path =
          JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
              ? json_node_get_string (node)
              : NULL;
      Layer *layer = g_new0 (Layer, 1);
      g_autofree char *quoted = ctrd_quote_untrusted (path);
      g_autofree char *label = g_strdup_printf ("layer %s", quoted);

      layer->blob.fd = -1;
      g_ptr_array_add (layers, layer);
      if (!image_archive_check_manifest_path (path, "layer", error) ||
          !image_archive_blob_store_open (store, path, label, &layer->blob, error))
        return NULL;
      layer->diff_id = g_strdup (diff_ids[i]);
      store->progress.total += 2 * layer->blob.size;
    }
  for (guint i = 0; i < n_layers; i++)
    {
      Layer *layer = layers->pdata[i];
      g_autofree char *digest = blob_digest (store, &layer->blob, error);

      if (digest == NULL)
        return g_prefix_error (error, "Layer %u: ", i + 1), NULL;
      /* An uncompressed layer is its own diff_id; a compressed one is
       * checked against it as it is applied. */
      if (!blob_is_compressed (&layer->blob) && strcmp (digest, layer->diff_id) != 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Layer %u is not the %s that the image config names (its content is %s)",
                       i + 1, layer->diff_id, digest);
          return NULL;
        }
      layer->digest = g_steal_pointer (&digest);
    }

  result = apply_layers_and_commit (storage, store, layers, config_bytes,
                                    json_node_get_object (config), limits, error);
  if (result == NULL)
    return NULL;
  tags = ctrd_json_member_array (entry, "RepoTags");
  for (guint i = 0; tags != NULL && i < json_array_get_length (tags); i++)
    {
      JsonNode *node = json_array_get_element (tags, i);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_ptr_array_add (name_candidates, (gpointer) json_node_get_string (node));
    }
  result->names = collect_names (name_candidates);
  return result;
}

/* ------------------------------------------------------------------ */
/* Import entry point */

/* Progress of one pass over the source, against the total known here. */
void
image_archive_on_source_progress (guint64 done, guint64 total, gpointer user_data)
{
  Progress *progress = user_data;

  progress->done = done;
  if (progress->func != NULL)
    progress->func (done, progress->total, progress->data);
}

/* A root filesystem tar, read once; a regular file says how much there is. */
static CtrdImportResult *
import_rootfs (CtrdStorage *storage, int fd, const CtrdImportLimits *limits, BlobStore *store,
               GError **error)
{
  struct stat st;
  off_t here = lseek (fd, 0, SEEK_CUR);

  store->progress.done = 0;
  store->progress.total =
      fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && here >= 0 && st.st_size > here
          ? (guint64) (st.st_size - here)
          : 0;
  return ctrd_storage_import_rootfs_tar_full (storage, fd, limits, image_archive_on_source_progress,
                                              &store->progress, store->cancellable, error);
}

static gboolean
fd_starts_compressed (int fd, guint64 offset)
{
  Blob blob = { .fd = fd, .offset = offset, .size = 4 };

  return blob_is_compressed (&blob);
}

/* Imports the uncompressed tar in @archive_fd (from @base to @end). */
static CtrdImportResult *
import_indexed_archive (CtrdStorage *storage, int archive_fd, guint64 base, guint64 end,
                        CtrdImageFormat format, const CtrdImportLimits *limits, BlobStore *store,
                        GError **error)
{
  g_autoptr (GError) index_error = NULL;
  CtrdImageFormat detected;

  store->archive_fd = archive_fd;
  store->members =
      image_archive_tar_index_read (archive_fd, base, end, store->cancellable, &index_error);
  if (store->members == NULL)
    {
      if (format != CTRD_IMAGE_FORMAT_AUTO ||
          g_error_matches (index_error, CTRD_ERROR, CTRD_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&index_error));
          return NULL;
        }
      /* Not something this reader knows: libarchive may still read it as
       * a root filesystem tar (and says why not if it cannot). */
      g_debug ("Image import: %s; trying it as a root filesystem tar", index_error->message);
      detected = CTRD_IMAGE_FORMAT_ROOTFS_TAR;
    }
  else if (g_hash_table_contains (store->members, "oci-layout") ||
           g_hash_table_contains (store->members, "index.json"))
    detected = CTRD_IMAGE_FORMAT_OCI_ARCHIVE;
  else if (g_hash_table_contains (store->members, "manifest.json"))
    detected = CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE;
  else
    detected = CTRD_IMAGE_FORMAT_ROOTFS_TAR;

  if (format != CTRD_IMAGE_FORMAT_AUTO && format != detected)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image is not an %s: it has no %s", ctrd_image_format_to_string (format),
                   format == CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE ? "manifest.json"
                                                              : "oci-layout or index.json");
      return NULL;
    }
  switch (detected)
    {
    case CTRD_IMAGE_FORMAT_OCI_ARCHIVE:
      return import_oci (storage, store, limits, error);
    case CTRD_IMAGE_FORMAT_DOCKER_ARCHIVE:
      return import_docker (storage, store, limits, error);
    default:
      if (lseek (archive_fd, base, SEEK_SET) < 0)
        {
          ctrd_throw_errno (error, "Rewinding the image");
          return NULL;
        }
      return import_rootfs (storage, archive_fd, limits, store, error);
    }
}

static CtrdImportResult *
import_archive (CtrdStorage *storage, int fd, CtrdImageFormat format,
                const CtrdImportLimits *limits, BlobStore *store, GError **error)
{
  CtrdImportResult *result;
  struct stat st;
  guint64 base = 0;
  ctrd_autofd int spool_fd = -1;

  if (fstat (fd, &st) < 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT, "Reading the image source");
      return NULL;
    }
  if (S_ISREG (st.st_mode))
    {
      off_t here = lseek (fd, 0, SEEK_CUR);
      base = here > 0 ? (guint64) here : 0;
      /* Blobs are read by offset, in any order, twice: an uncompressed
       * regular file allows that as it is. */
      if (!fd_starts_compressed (fd, base))
        return import_indexed_archive (storage, fd, base, st.st_size, format, limits, store, error);
      store->progress.total = st.st_size - base;
    }

  /* Anything else is copied (uncompressed) into an unnamed file first. */
  spool_fd = ctrd_storage_spool_source (storage, fd, limits != NULL ? limits->max_bytes : 0,
                                        image_archive_on_source_progress, &store->progress,
                                        store->cancellable, error);
  if (spool_fd < 0)
    return NULL;
  store->progress.done = 0;
  store->progress.total = 0;
  if (fstat (spool_fd, &st) < 0)
    {
      ctrd_throw_errno (error, "Reading the spooled image");
      return NULL;
    }
  result = import_indexed_archive (storage, spool_fd, 0, st.st_size, format, limits, store, error);
  store->archive_fd = -1;
  return result;
}

CtrdImportResult *
ctrd_image_archive_import (CtrdStorage *storage, int fd, CtrdImageFormat format,
                           const CtrdImportLimits *limits, CtrdProgressFunc progress,
                           gpointer progress_data, GCancellable *cancellable, GError **error)
{
  BlobStore store = {
    .dir_fd = -1,
    .archive_fd = -1,
    .cancellable = cancellable,
    .progress = { .func = progress, .data = progress_data },
  };
  CtrdImportResult *result;
  struct stat st;

  g_return_val_if_fail (storage != NULL, NULL);

  if (fd < 0 || fstat (fd, &st) < 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image source is not an open file descriptor");
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      if (format != CTRD_IMAGE_FORMAT_AUTO && format != CTRD_IMAGE_FORMAT_OCI_LAYOUT)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "A directory can only be an OCI image layout, not an %s",
                       ctrd_image_format_to_string (format));
          return NULL;
        }
      store.dir_fd = fd;
      store.reader = limits != NULL ? limits->reader : NULL;
      return import_oci (storage, &store, limits, error);
    }
  if (format == CTRD_IMAGE_FORMAT_OCI_LAYOUT)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "An OCI image layout must be a directory");
      return NULL;
    }
  if (format == CTRD_IMAGE_FORMAT_ROOTFS_TAR)
    return import_rootfs (storage, fd, limits, &store, error);

  result = import_archive (storage, fd, format, limits, &store, error);
  image_archive_blob_store_clear (&store);
  return result;
}
