/* ctrd-image-archive-blobs.c: the blobs of an image archive, by offset:
 * the outer tar indexed by name, or files of an OCI layout directory read
 * fd-relative; descriptors checked and blobs verified against their digest
 * and size before they are used. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image-archive-private.h"
#include "ctrd-util.h"

/* ------------------------------------------------------------------ */
/* A byte range of a file as a stream, hashed as it is read */

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
    return ctrd_throw_errno_in (error, G_IO_ERROR, "Reading a blob"), -1;
  if (n == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The blob ends early (it shrank)");
      return -1;
    }
  self->offset += n;
  self->remaining -= n;
  ctrd_sha256_update (self->sha256, buffer, n);
  if (self->progress != NULL)
    image_archive_progress_add (self->progress, n);
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

void
image_archive_blob_clear (Blob *blob)
{
  if (blob->owns_fd)
    ctrd_close_fd (&blob->fd);
  blob->fd = -1;
  blob->owns_fd = FALSE;
}

CtrdBlobStream *
image_archive_blob_stream_new (const Blob *blob, Progress *progress)
{
  CtrdBlobStream *stream = g_object_new (CTRD_TYPE_BLOB_STREAM, NULL);

  stream->fd = blob->fd;
  stream->offset = blob->offset;
  stream->remaining = blob->size;
  stream->progress = progress;
  return stream;
}

/* Reads the rest of @stream (so its digest covers the whole blob). */
gboolean
image_archive_blob_stream_drain (CtrdBlobStream *stream, GCancellable *cancellable, GError **error)
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

static void
tar_member_free (TarMember *member)
{
  g_free (member->link_target);
  g_free (member);
}

void
image_archive_blob_store_clear (BlobStore *store)
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
gboolean
image_archive_check_manifest_path (const char *path, const char *what, GError **error)
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

/* open_in_layout for a @reader other than root: in a child with the
 * reader's rights, so nothing it could not open itself is read either. */
static int
open_in_layout_as (int dir_fd, const CtrdCaller *reader, const char *path, GError **error)
{
  GError *local_error = NULL;
  int fd = ctrd_caller_open (reader, dir_fd, path,
                             CTRD_CALLER_OPEN_BENEATH | CTRD_CALLER_OPEN_REGULAR, &local_error);

  if (g_error_matches (local_error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (path);
      g_clear_error (&local_error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The image layout has no %s",
                   quoted);
    }
  else if (local_error != NULL)
    g_propagate_prefixed_error (error, local_error, "In the image layout: ");
  return fd;
}

/* Opens @path (checked components) under the layout directory one
 * component at a time with O_NOFOLLOW: a symlink anywhere is refused, so
 * nothing outside the directory is read. @reader: see open_in_layout_as. */
static int
open_in_layout (int dir_fd, const CtrdCaller *reader, const char *path, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *quoted = NULL;
  ctrd_autofd int fd = -1;

  if (reader != NULL && reader->uid != 0)
    return open_in_layout_as (dir_fd, reader, path, error);
  parts = g_strsplit (path, "/", -1);
  quoted = ctrd_quote_untrusted (path);
  fd = fcntl (dir_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return ctrd_throw_errno (error, "Duplicating the layout fd"), -1;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      gboolean last = parts[i + 1] == NULL;
      /* O_NONBLOCK: a FIFO planted as a blob must not hang the open. */
      int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (last ? O_NONBLOCK : O_DIRECTORY);
      int next = openat (fd, parts[i], flags);

      ctrd_close_fd (&fd); /* keeps errno */
      if (next < 0 && errno == ENOENT)
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "The image layout has no %s",
                     quoted);
      else if (next < 0 && (errno == ELOOP || errno == ENOTDIR))
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                     "%s in the image layout goes through a symlink or a non-directory", quoted);
      else if (next < 0)
        ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT,
                               "Cannot open %s in the image layout", quoted);
      if (next < 0)
        return -1;
      fd = next;
    }
  return ctrd_steal_fd (&fd);
}

/* Finds @path; @what names it in errors ("blob sha256:…", "manifest.json"). */
gboolean
image_archive_blob_store_open (BlobStore *store, const char *path, const char *what, Blob *out,
                               GError **error)
{
  *out = (Blob){ .fd = -1 };

  if (store->dir_fd >= 0)
    {
      struct stat st;
      ctrd_autofd int fd = open_in_layout (store->dir_fd, store->reader, path, error);

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

GBytes *
image_archive_blob_read_all (BlobStore *store, const Blob *blob, const char *what, GError **error)
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
  stream = image_archive_blob_stream_new (blob, NULL);
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

gboolean
image_archive_pread_all (int fd, void *buf, gsize len, guint64 offset)
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
GHashTable *
image_archive_tar_index_read (int fd, guint64 base, guint64 end, GCancellable *cancellable,
                              GError **error)
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
      if (pos + TAR_BLOCK > end || !image_archive_pread_all (fd, block, TAR_BLOCK, pos))
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
          if (!image_archive_pread_all (fd, data, size, data_offset))
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

void
image_archive_descriptor_clear (Descriptor *desc)
{
  g_clear_pointer (&desc->digest, g_free);
  g_clear_pointer (&desc->media_type, g_free);
  desc->object = NULL;
}

gboolean
image_archive_digest_is_valid (const char *digest)
{
  return digest != NULL && g_str_has_prefix (digest, "sha256:") &&
         ctrd_is_full_id (digest + strlen ("sha256:"));
}

/* An OCI descriptor: the digest is matched against sha256:<64 hex> before it
 * becomes a path, the size must be a non-negative integer. */
gboolean
image_archive_descriptor_parse (JsonNode *node, const char *what, Descriptor *out, GError **error)
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
  if (!image_archive_digest_is_valid (digest))
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
gboolean
image_archive_open_verified_blob (BlobStore *store, const Descriptor *desc, const char *what,
                                  gboolean counts_progress, Blob *out, GError **error)
{
  g_autofree char *path = g_strconcat ("blobs/sha256/", desc->digest + strlen ("sha256:"), NULL);
  g_autofree char *label = g_strdup_printf ("%s %s", what, desc->digest);
  g_autoptr (CtrdBlobStream) stream = NULL;
  g_autofree char *actual = NULL;

  if (!image_archive_blob_store_open (store, path, label, out, error))
    return FALSE;
  if (out->size != desc->size)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The %s has %" G_GUINT64_FORMAT
                   " bytes, but its descriptor says %" G_GUINT64_FORMAT,
                   label, out->size, desc->size);
      image_archive_blob_clear (out);
      return FALSE;
    }
  stream = image_archive_blob_stream_new (out, counts_progress ? &store->progress : NULL);
  if (!image_archive_blob_stream_drain (stream, store->cancellable, error))
    {
      image_archive_blob_clear (out);
      ctrd_error_normalize (error, CTRD_ERROR_INVALID_ARGUMENT);
      return g_prefix_error (error, "%s: ", label), FALSE;
    }
  actual = g_strconcat ("sha256:", ctrd_sha256_get_string (stream->sha256), NULL);
  if (strcmp (actual, desc->digest) != 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The %s does not match its digest (its content is %s)", label, actual);
      image_archive_blob_clear (out);
      return FALSE;
    }
  return TRUE;
}

JsonNode *
image_archive_parse_json_bytes (GBytes *bytes, const char *what, GError **error)
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

JsonNode *
image_archive_read_verified_json (BlobStore *store, const Descriptor *desc, const char *what,
                                  GBytes **out_bytes, GError **error)
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
  if (!image_archive_open_verified_blob (store, desc, what, FALSE, &blob, error))
    return NULL;
  bytes = image_archive_blob_read_all (store, &blob, what, error);
  image_archive_blob_clear (&blob);
  if (bytes == NULL)
    return NULL;
  node = image_archive_parse_json_bytes (bytes, what, error);
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

JsonNode *
image_archive_read_named_json (BlobStore *store, const char *path, GBytes **out_bytes,
                               GError **error)
{
  Blob blob = { .fd = -1 };
  g_autoptr (GBytes) bytes = NULL;
  JsonNode *node;

  if (!image_archive_blob_store_open (store, path, path, &blob, error))
    return NULL;
  bytes = image_archive_blob_read_all (store, &blob, path, error);
  image_archive_blob_clear (&blob);
  if (bytes == NULL)
    return NULL;
  node = image_archive_parse_json_bytes (bytes, path, error);
  if (node != NULL && out_bytes != NULL)
    *out_bytes = g_steal_pointer (&bytes);
  return node;
}
