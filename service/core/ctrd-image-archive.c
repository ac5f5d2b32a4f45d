/* ctrd-image-archive.c: OCI layouts, oci-archive and docker-archive in and
 * out of the OSTree store.
 *
 * Import reads an archive's members by offset: the outer tar (uncompressed,
 * in a regular file, spooled first when it is not) is indexed once by a
 * small header reader here, so every blob is a byte range of one file that
 * can be read twice: once to check its digest and size before anything uses
 * it, once to apply it. The second read hashes again, so a layout directory
 * changed in between is caught too. The layers themselves go through
 * libarchive in ctrd-storage. */
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
#include "ctrd-image-archive.h"
#include "ctrd-tar.h"
#include "ctrd-util.h"

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

typedef struct
{
  CtrdProgressFunc func;
  gpointer data;
  guint64 done;
  guint64 total;
} Progress;

static void
progress_add (Progress *progress, guint64 n)
{
  progress->done += n;
  if (progress->func != NULL)
    progress->func (progress->done, progress->total, progress->data);
}

/* ------------------------------------------------------------------ */
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

G_DEFINE_TYPE (CtrdBlobStream, ctrd_blob_stream, G_TYPE_INPUT_STREAM)

static gssize
ctrd_blob_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                       GError **error)
{
  CtrdBlobStream *self = CTRD_BLOB_STREAM (stream);
  gssize n;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  count = MIN (count, self->remaining);
  if (count == 0)
    return 0;
  do
    n = pread (self->fd, buffer, count, self->offset);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "Reading a blob: %s",
                   g_strerror (errsv));
      return -1;
    }
  if (n == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The blob ends early (it shrank)");
      return -1;
    }
  self->offset += n;
  self->remaining -= n;
  ctrd_sha256_update (self->sha256, buffer, n);
  if (self->progress != NULL)
    progress_add (self->progress, n);
  return n;
}

static gboolean
ctrd_blob_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
ctrd_blob_stream_finalize (GObject *object)
{
  g_clear_pointer (&CTRD_BLOB_STREAM (object)->sha256, ctrd_sha256_free);
  G_OBJECT_CLASS (ctrd_blob_stream_parent_class)->finalize (object);
}

static void
ctrd_blob_stream_class_init (CtrdBlobStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_blob_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = ctrd_blob_stream_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = ctrd_blob_stream_close;
}

static void
ctrd_blob_stream_init (CtrdBlobStream *self)
{
  self->sha256 = ctrd_sha256_new ();
}

/* A blob: @size bytes of @fd from @offset. */
typedef struct
{
  int fd;
  gboolean owns_fd;
  guint64 offset;
  guint64 size;
} Blob;

static void
blob_clear (Blob *blob)
{
  if (blob->owns_fd)
    ctrd_close_fd (&blob->fd);
  blob->fd = -1;
  blob->owns_fd = FALSE;
}

static CtrdBlobStream *
blob_stream_new (const Blob *blob, Progress *progress)
{
  CtrdBlobStream *stream = g_object_new (CTRD_TYPE_BLOB_STREAM, NULL);

  stream->fd = blob->fd;
  stream->offset = blob->offset;
  stream->remaining = blob->size;
  stream->progress = progress;
  return stream;
}

/* Reads the rest of @stream (so its digest covers the whole blob). */
static gboolean
blob_stream_drain (CtrdBlobStream *stream, GCancellable *cancellable, GError **error)
{
  guchar buf[READ_CHUNK];
  gssize n;

  while ((n = g_input_stream_read (G_INPUT_STREAM (stream), buf, sizeof buf, cancellable, error)) >
         0)
    ;
  return n == 0;
}

/* ------------------------------------------------------------------ */
/* Where blobs come from: an archive's members, or a layout directory */

typedef struct
{
  guint64 offset;
  guint64 size;
  char *link_target; /* symlink members: the target, normalised; NULL for files */
} TarMember;

static void
tar_member_free (TarMember *member)
{
  g_free (member->link_target);
  g_free (member);
}

typedef struct
{
  int dir_fd;          /* an OCI layout directory, or -1 */
  int archive_fd;      /* an uncompressed tar, or -1 */
  GHashTable *members; /* archive: normalised name -> TarMember */
  GCancellable *cancellable;
  Progress progress;
} BlobStore;

static void
blob_store_clear (BlobStore *store)
{
  g_clear_pointer (&store->members, g_hash_table_unref);
}

/* The name as used for lookups: no leading "/" or "./", no trailing "/".
 * NULL when it holds an empty, "." or ".." component (such a name cannot be
 * what a manifest means). */
static char *
normalize_member_name (const char *name)
{
  g_auto (GStrv) parts = g_strsplit (name, "/", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        return NULL;
      g_ptr_array_add (kept, parts[i]);
    }
  if (kept->len == 0)
    return NULL;
  g_ptr_array_add (kept, NULL);
  return g_strjoinv ("/", (char **) kept->pdata);
}

/* A path a manifest names: relative, without "..", "." or empty components. */
static gboolean
check_manifest_path (const char *path, const char *what, GError **error)
{
  g_auto (GStrv) parts = NULL;
  gboolean ok = path != NULL && path[0] != '\0' && path[0] != '/' && strlen (path) < PATH_MAX;

  if (ok)
    {
      parts = g_strsplit (path, "/", -1);
      for (guint i = 0; ok && parts[i] != NULL; i++)
        ok = parts[i][0] != '\0' && strcmp (parts[i], ".") != 0 && strcmp (parts[i], "..") != 0;
    }
  if (!ok)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (path);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The %s path %s must be relative, without “..”", what, quoted);
    }
  return ok;
}

/* Opens @path (checked components) under the layout directory one
 * component at a time with O_NOFOLLOW: a symlink anywhere is refused, so
 * nothing outside the directory is read. */
static int
open_in_layout (int dir_fd, const char *path, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autofree char *quoted = ctrd_quote_untrusted (path);
  ctrd_autofd int fd = fcntl (dir_fd, F_DUPFD_CLOEXEC, 3);

  if (fd < 0)
    return ctrd_throw_errno (error, "Duplicating the layout fd"), -1;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      gboolean last = parts[i + 1] == NULL;
      /* O_NONBLOCK: a FIFO planted as a blob must not hang the open. */
      int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (last ? O_NONBLOCK : O_DIRECTORY);
      int next = openat (fd, parts[i], flags);
      int errsv = errno;

      ctrd_close_fd (&fd);
      if (next < 0)
        {
          if (errsv == ENOENT)
            g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                         "The image layout has no %s", quoted);
          else if (errsv == ELOOP || errsv == ENOTDIR)
            g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                         "%s in the image layout goes through a symlink or a non-directory",
                         quoted);
          else
            g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                         "Cannot open %s in the image layout: %s", quoted, g_strerror (errsv));
          return -1;
        }
      fd = next;
    }
  return ctrd_steal_fd (&fd);
}

/* Finds @path; @what names it in errors ("blob sha256:…", "manifest.json"). */
static gboolean
blob_store_open (BlobStore *store, const char *path, const char *what, Blob *out, GError **error)
{
  *out = (Blob){ .fd = -1 };

  if (store->dir_fd >= 0)
    {
      struct stat st;
      ctrd_autofd int fd = open_in_layout (store->dir_fd, path, error);

      if (fd < 0)
        return g_prefix_error (error, "%s: ", what), FALSE;
      if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "%s in the image layout is not a regular file", what);
          return FALSE;
        }
      *out = (Blob){ .fd = ctrd_steal_fd (&fd), .owns_fd = TRUE, .offset = 0, .size = st.st_size };
      return TRUE;
    }
  else
    {
      g_autofree char *name = normalize_member_name (path);
      TarMember *member = name != NULL ? g_hash_table_lookup (store->members, name) : NULL;

      /* Docker's legacy layout links <id>/layer.tar to a file beside it:
       * one level of in-archive symlink is followed, by name only. */
      if (member != NULL && member->link_target != NULL)
        member = g_hash_table_lookup (store->members, member->link_target);
      if (member == NULL || member->link_target != NULL)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image archive has no %s", what);
          return FALSE;
        }
      *out = (Blob){ .fd = store->archive_fd, .offset = member->offset, .size = member->size };
      return TRUE;
    }
}

static GBytes *
blob_read_all (BlobStore *store, const Blob *blob, const char *what, GError **error)
{
  g_autoptr (CtrdBlobStream) stream = NULL;
  g_autofree guchar *data = NULL;
  gsize done = 0;

  if (blob->size > MAX_JSON_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "%s is larger than %d bytes", what,
                   MAX_JSON_BYTES);
      return NULL;
    }
  stream = blob_stream_new (blob, NULL);
  data = g_malloc (blob->size + 1);
  while (done < blob->size)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (stream), data + done, blob->size - done,
                                      store->cancellable, error);
      if (n < 0)
        {
          ctrd_error_normalize (error, CTRD_ERROR_INVALID_ARGUMENT);
          return g_prefix_error (error, "%s: ", what), NULL;
        }
      done += n;
    }
  data[done] = '\0';
  return g_bytes_new_take (g_steal_pointer (&data), done);
}

/* ------------------------------------------------------------------ */
/* The outer tar, indexed by name */

static gboolean
tar_block_is_zero (const guchar *block)
{
  for (guint i = 0; i < TAR_BLOCK; i++)
    if (block[i] != 0)
      return FALSE;
  return TRUE;
}

/* A numeric header field: octal text, or base-256 when the top bit is set. */
static gboolean
tar_parse_number (const guchar *field, gsize len, guint64 *out)
{
  guint64 value = 0;
  gsize i = 0;

  if (field[0] & 0x80)
    {
      if (field[0] != 0x80)
        return FALSE; /* negative or too large */
      for (i = 1; i < len; i++)
        {
          if (value > G_MAXUINT64 >> 8)
            return FALSE;
          value = (value << 8) | field[i];
        }
      *out = value;
      return TRUE;
    }
  while (i < len && field[i] == ' ')
    i++;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; i++)
    {
      if (value > G_MAXUINT64 >> 3)
        return FALSE;
      value = (value << 3) | (field[i] - '0');
    }
  for (; i < len; i++)
    if (field[i] != ' ' && field[i] != '\0')
      return FALSE;
  *out = value;
  return TRUE;
}

static gboolean
tar_checksum_ok (const guchar *block)
{
  guint64 stored;
  guint64 sum = 0;

  if (!tar_parse_number (block + 148, 8, &stored))
    return FALSE;
  for (guint i = 0; i < TAR_BLOCK; i++)
    sum += (i >= 148 && i < 156) ? ' ' : block[i];
  return sum == stored;
}

static char *
tar_field_string (const guchar *field, gsize len)
{
  return g_strndup ((const char *) field, strnlen ((const char *) field, len));
}

/* The "path", "linkpath" and "size" records of a pax extended header. */
static gboolean
tar_parse_pax (const char *data, gsize len, char **path, char **link_path, gint64 *size)
{
  gsize pos = 0;

  while (pos < len)
    {
      const char *record = data + pos;
      const char *space, *eq, *end;
      guint64 record_len;
      g_autofree char *length_text = NULL;

      space = memchr (record, ' ', len - pos);
      if (space == NULL)
        return FALSE;
      length_text = g_strndup (record, space - record);
      if (!g_ascii_string_to_unsigned (length_text, 10, 1, len - pos, &record_len, NULL))
        return FALSE;
      end = record + record_len - 1;
      if (*end != '\n')
        return FALSE;
      eq = memchr (space + 1, '=', end - (space + 1));
      if (eq == NULL)
        return FALSE;
      if (eq - (space + 1) == 4 && memcmp (space + 1, "path", 4) == 0)
        {
          g_free (*path);
          *path = g_strndup (eq + 1, end - (eq + 1));
        }
      else if (eq - (space + 1) == 8 && memcmp (space + 1, "linkpath", 8) == 0)
        {
          g_free (*link_path);
          *link_path = g_strndup (eq + 1, end - (eq + 1));
        }
      else if (eq - (space + 1) == 4 && memcmp (space + 1, "size", 4) == 0)
        {
          g_autofree char *text = g_strndup (eq + 1, end - (eq + 1));
          guint64 value;
          if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &value, NULL))
            return FALSE;
          *size = value;
        }
      pos += record_len;
    }
  return TRUE;
}

static gboolean
pread_all (int fd, void *buf, gsize len, guint64 offset)
{
  guchar *p = buf;

  while (len > 0)
    {
      gssize n = pread (fd, p, len, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

/* Indexes the regular files and symlinks of the uncompressed tar in @fd
 * from @base to @end: name -> where its data is. Only ustar, pax and GNU
 * long names are understood, which is what image tools write. */
static GHashTable *
tar_index_read (int fd, guint64 base, guint64 end, GCancellable *cancellable, GError **error)
{
  g_autoptr (GHashTable) members =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) tar_member_free);
  g_autofree char *pending_path = NULL;
  g_autofree char *pending_link = NULL;
  gint64 pending_size = -1;
  guint64 pos = base;
  guint n_members = 0;

  while (TRUE)
    {
      guchar block[TAR_BLOCK];
      guint64 size, data_offset, next;
      char type;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
          return NULL;
        }
      if (pos + TAR_BLOCK > end || !pread_all (fd, block, TAR_BLOCK, pos))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image archive is not a complete tar (it ends at byte %" G_GUINT64_FORMAT
                       ")",
                       pos - base);
          return NULL;
        }
      if (tar_block_is_zero (block))
        break;
      if (!tar_checksum_ok (block) || !tar_parse_number (block + 124, 12, &size))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image archive is not a tar (bad header at byte %" G_GUINT64_FORMAT ")",
                       pos - base);
          return NULL;
        }
      type = block[156];
      if (pending_size >= 0 && type != 'x' && type != 'g' && type != 'L' && type != 'K')
        size = pending_size;
      data_offset = pos + TAR_BLOCK;
      if (size > end - data_offset)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "The image archive is truncated (a member runs past its end)");
          return NULL;
        }
      next = data_offset + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;

      if (type == 'x' || type == 'L' || type == 'K')
        {
          g_autofree char *data = NULL;

          if (size > 1024 * 1024)
            {
              g_set_error (
                  error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                  "The image archive has an extended header of %" G_GUINT64_FORMAT " bytes", size);
              return NULL;
            }
          data = g_malloc0 (size + 1);
          if (!pread_all (fd, data, size, data_offset))
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "The image archive is truncated");
              return NULL;
            }
          if (type == 'x' &&
              !tar_parse_pax (data, size, &pending_path, &pending_link, &pending_size))
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "The image archive has a malformed pax header");
              return NULL;
            }
          if (type == 'L')
            {
              g_free (pending_path);
              pending_path = g_strdup (data);
            }
          else if (type == 'K')
            {
              g_free (pending_link);
              pending_link = g_strdup (data);
            }
        }
      else if (type != 'g')
        {
          g_autofree char *name = NULL;
          g_autofree char *normalized = NULL;

          if (pending_path != NULL)
            name = g_steal_pointer (&pending_path);
          else if (memcmp (block + 257, "ustar\0", 6) == 0 && block[345] != '\0')
            {
              g_autofree char *prefix = tar_field_string (block + 345, 155);
              g_autofree char *base_name = tar_field_string (block, 100);
              name = g_strconcat (prefix, "/", base_name, NULL);
            }
          else
            name = tar_field_string (block, 100);
          normalized = normalize_member_name (name);

          if (normalized != NULL && (type == '0' || type == '\0' || type == '7' || type == '2'))
            {
              TarMember *member = g_new0 (TarMember, 1);

              member->offset = data_offset;
              member->size = type == '2' ? 0 : size;
              if (type == '2')
                {
                  g_autofree char *target = pending_link != NULL
                                                ? g_steal_pointer (&pending_link)
                                                : tar_field_string (block + 157, 100);
                  g_autofree char *dir = g_path_get_dirname (normalized);
                  g_autofree char *joined =
                      target[0] == '/' ? g_strdup (target) : g_build_filename (dir, target, NULL);
                  /* Resolved lexically inside the archive, ".." included:
                   * the result is only ever a name to look up. */
                  g_autofree char *canonical = g_canonicalize_filename (joined, "/");
                  member->link_target = normalize_member_name (canonical);
                  if (member->link_target == NULL)
                    member->link_target = g_strdup ("");
                }
              if (g_hash_table_contains (members, normalized))
                {
                  g_autofree char *quoted = ctrd_quote_untrusted (normalized);
                  tar_member_free (member);
                  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "The image archive has %s twice", quoted);
                  return NULL;
                }
              if (++n_members > MAX_ARCHIVE_MEMBERS)
                {
                  tar_member_free (member);
                  g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                               "The image archive has more than %d files", MAX_ARCHIVE_MEMBERS);
                  return NULL;
                }
              g_hash_table_insert (members, g_steal_pointer (&normalized), member);
            }
          g_clear_pointer (&pending_path, g_free);
          g_clear_pointer (&pending_link, g_free);
          pending_size = -1;
        }
      pos = next;
    }
  return g_steal_pointer (&members);
}

/* ------------------------------------------------------------------ */
/* Descriptors and digests */

typedef struct
{
  char *digest; /* "sha256:<hex>" */
  guint64 size;
  char *media_type;   /* may be NULL */
  JsonObject *object; /* the descriptor itself (borrowed) */
} Descriptor;

static void
descriptor_clear (Descriptor *desc)
{
  g_clear_pointer (&desc->digest, g_free);
  g_clear_pointer (&desc->media_type, g_free);
  desc->object = NULL;
}

static gboolean
digest_is_valid (const char *digest)
{
  return digest != NULL && g_str_has_prefix (digest, "sha256:") &&
         ctrd_is_full_id (digest + strlen ("sha256:"));
}

/* An OCI descriptor: the digest is matched against sha256:<64 hex> before it
 * becomes a path, the size must be a non-negative integer. */
static gboolean
descriptor_parse (JsonNode *node, const char *what, Descriptor *out, GError **error)
{
  JsonObject *object =
      node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *size_node = object != NULL ? json_object_get_member (object, "size") : NULL;
  const char *digest = ctrd_json_member_string (object, "digest");

  if (object == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The %s is not a descriptor",
                   what);
      return FALSE;
    }
  if (!digest_is_valid (digest))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (digest);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The %s has the digest %s; only sha256:<64 lowercase hex> is accepted", what,
                   quoted);
      return FALSE;
    }
  if (size_node == NULL || !JSON_NODE_HOLDS_VALUE (size_node) ||
      json_node_get_value_type (size_node) != G_TYPE_INT64 || json_node_get_int (size_node) < 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The %s %s has no valid size",
                   what, digest);
      return FALSE;
    }
  out->digest = g_strdup (digest);
  out->size = json_node_get_int (size_node);
  out->media_type = g_strdup (ctrd_json_member_string (object, "mediaType"));
  out->object = object;
  return TRUE;
}

/* Opens the blob @desc names and checks its size and digest by reading it
 * all, before anything uses it. */
static gboolean
open_verified_blob (BlobStore *store, const Descriptor *desc, const char *what,
                    gboolean counts_progress, Blob *out, GError **error)
{
  g_autofree char *path = g_strconcat ("blobs/sha256/", desc->digest + strlen ("sha256:"), NULL);
  g_autofree char *label = g_strdup_printf ("%s %s", what, desc->digest);
  g_autoptr (CtrdBlobStream) stream = NULL;
  g_autofree char *actual = NULL;

  if (!blob_store_open (store, path, label, out, error))
    return FALSE;
  if (out->size != desc->size)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The %s has %" G_GUINT64_FORMAT
                   " bytes, but its descriptor says %" G_GUINT64_FORMAT,
                   label, out->size, desc->size);
      blob_clear (out);
      return FALSE;
    }
  stream = blob_stream_new (out, counts_progress ? &store->progress : NULL);
  if (!blob_stream_drain (stream, store->cancellable, error))
    {
      blob_clear (out);
      ctrd_error_normalize (error, CTRD_ERROR_INVALID_ARGUMENT);
      return g_prefix_error (error, "%s: ", label), FALSE;
    }
  actual = g_strconcat ("sha256:", ctrd_sha256_get_string (stream->sha256), NULL);
  if (strcmp (actual, desc->digest) != 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The %s does not match its digest (its content is %s)", label, actual);
      blob_clear (out);
      return FALSE;
    }
  return TRUE;
}

static JsonNode *
parse_json_bytes (GBytes *bytes, const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (!g_utf8_validate (data, len, NULL) ||
      !json_parser_load_from_data (parser, data, len, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The %s is not valid JSON%s%s",
                   what, local_error != NULL ? ": " : "",
                   local_error != NULL ? local_error->message : "");
      return NULL;
    }
  return json_node_ref (json_parser_get_root (parser));
}

static JsonNode *
read_verified_json (BlobStore *store, const Descriptor *desc, const char *what, GBytes **out_bytes,
                    GError **error)
{
  Blob blob = { .fd = -1 };
  g_autoptr (GBytes) bytes = NULL;
  JsonNode *node;

  if (desc->size > MAX_JSON_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "The %s %s is larger than %d bytes", what, desc->digest, MAX_JSON_BYTES);
      return NULL;
    }
  if (!open_verified_blob (store, desc, what, FALSE, &blob, error))
    return NULL;
  bytes = blob_read_all (store, &blob, what, error);
  blob_clear (&blob);
  if (bytes == NULL)
    return NULL;
  node = parse_json_bytes (bytes, what, error);
  if (node != NULL && !JSON_NODE_HOLDS_OBJECT (node))
    {
      json_node_unref (node);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The %s is not a JSON object",
                   what);
      return NULL;
    }
  if (node != NULL && out_bytes != NULL)
    *out_bytes = g_steal_pointer (&bytes);
  return node;
}

static JsonNode *
read_named_json (BlobStore *store, const char *path, GBytes **out_bytes, GError **error)
{
  Blob blob = { .fd = -1 };
  g_autoptr (GBytes) bytes = NULL;
  JsonNode *node;

  if (!blob_store_open (store, path, path, &blob, error))
    return NULL;
  bytes = blob_read_all (store, &blob, path, error);
  blob_clear (&blob);
  if (bytes == NULL)
    return NULL;
  node = parse_json_bytes (bytes, path, error);
  if (node != NULL && out_bytes != NULL)
    *out_bytes = g_steal_pointer (&bytes);
  return node;
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
  blob_clear (&layer->blob);
  g_free (layer->digest);
  g_free (layer->diff_id);
  g_free (layer);
}

/* The config's rootfs.diff_ids, which must name one digest per layer. */
static char **
config_diff_ids (JsonObject *config, guint n_layers, GError **error)
{
  JsonArray *diff_ids = ctrd_json_member_array (ctrd_json_member_object (config, "rootfs"), "diff_ids");
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
      if (!digest_is_valid (value))
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
      g_autoptr (CtrdBlobStream) stream = blob_stream_new (&layer->blob, &store->progress);
      g_autofree char *actual = NULL;

      if (!ctrd_layer_import_apply (import, G_INPUT_STREAM (stream), layer->diff_id, NULL, error))
        return NULL;
      /* Read a second time: the blob must still be what was checked. */
      if (!blob_stream_drain (stream, store->cancellable, error))
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
  return ctrd_layer_import_commit (import, config_text, ctrd_image_config_parse_created (ctrd_json_member_string (config, "created")), error);
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
  if (!descriptor_parse (json_array_get_element (manifests, chosen), "manifest", out, error))
    return FALSE;
  if (depth == 0)
    *out_top = out->object;

  if (is_index_media_type (out->media_type))
    {
      g_autoptr (JsonNode) nested = read_verified_json (store, out, "image index", NULL, error);

      descriptor_clear (out);
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

  layout = read_named_json (store, "oci-layout", NULL, error);
  if (layout == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (layout) ||
      !g_str_has_prefix (
          ctrd_json_member_string (json_node_get_object (layout), "imageLayoutVersion") ?: "", "1."))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "oci-layout does not name image layout version 1.x");
      return NULL;
    }
  index = read_named_json (store, "index.json", NULL, error);
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
      descriptor_clear (&manifest_desc);
      return NULL;
    }
  ref_name = ctrd_json_member_string (ctrd_json_member_object (top_desc, "annotations"), ANNOTATION_REF_NAME);

  manifest = read_verified_json (store, &manifest_desc, "manifest", NULL, error);
  descriptor_clear (&manifest_desc);
  if (manifest == NULL)
    return NULL;
  if (!descriptor_parse (json_object_get_member (json_node_get_object (manifest), "config"),
                         "image config", &config_desc, error))
    return NULL;
  config = read_verified_json (store, &config_desc, "image config", &config_bytes, error);
  descriptor_clear (&config_desc);
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
      if (!descriptor_parse (json_array_get_element (layer_nodes, i), "layer", &desc, error))
        return NULL;
      store->progress.total += 2 * desc.size;
      descriptor_clear (&desc);
    }
  for (guint i = 0; i < n_layers; i++)
    {
      Layer *layer = g_new0 (Layer, 1);
      Descriptor desc = { 0 };

      layer->blob.fd = -1;
      g_ptr_array_add (layers, layer);
      if (!descriptor_parse (json_array_get_element (layer_nodes, i), "layer", &desc, error) ||
          !open_verified_blob (store, &desc, "layer", TRUE, &layer->blob, error))
        {
          descriptor_clear (&desc);
          return NULL;
        }
      layer->digest = g_strdup (desc.digest);
      layer->diff_id = g_strdup (diff_ids[i]);
      descriptor_clear (&desc);
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

  if (blob->size < sizeof magic || !pread_all (blob->fd, magic, sizeof magic, blob->offset))
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
  g_autoptr (CtrdBlobStream) stream = blob_stream_new (blob, &store->progress);

  if (!blob_stream_drain (stream, store->cancellable, error))
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

  manifest = read_named_json (store, "manifest.json", NULL, error);
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
  if (!check_manifest_path (config_path, "image config", error) ||
      !blob_store_open (store, config_path, "image config", &config_blob, error))
    return NULL;
  config_bytes = blob_read_all (store, &config_blob, "image config", error);
  blob_clear (&config_blob);
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
  config = parse_json_bytes (config_bytes, "image config", error);
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
      if (!check_manifest_path (path, "layer", error) ||
          !blob_store_open (store, path, label, &layer->blob, error))
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
static void
on_source_progress (guint64 done, guint64 total, gpointer user_data)
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
  return ctrd_storage_import_rootfs_tar_full (storage, fd, limits, on_source_progress,
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
  store->members = tar_index_read (archive_fd, base, end, store->cancellable, &index_error);
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
  spool_fd =
      ctrd_storage_spool_source (storage, fd, limits != NULL ? limits->max_bytes : 0,
                                 on_source_progress, &store->progress, store->cancellable, error);
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
  blob_store_clear (&store);
  return result;
}

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
      progress_add (progress, n);
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
write_oci_archive (CtrdTarWriter *tar, int layer_fd, guint64 layer_size,
                   const char *layer_sha256, const char *config_json, const char *name,
                   gint64 mtime, Progress *progress, GError **error)
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
                                      on_source_progress, &progress, 0, cancellable, error))
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
