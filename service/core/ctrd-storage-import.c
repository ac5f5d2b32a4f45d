/* ctrd-storage-import.c: tar members into the OSTree repo, as a root
 * filesystem tar or as OCI layers applied one after the other.
 *
 * Tar import walks the archive itself and writes each member with the public
 * mutable-tree and content APIs instead of calling
 * ostree_repo_import_archive_to_mtree(). In ostree 2022.7 that function
 * aborts the whole process on a hardlink member whose target contains ".."
 * (g_assert_no_error in aic_get_final_entry_hardlink), and returns FALSE
 * without an error for "lib -> /" followed by "lib/x". Walking ourselves also
 * lets us refuse what we cannot store, drop xattrs that would change how
 * overlayfs reads the lower layer, and count members and bytes exactly. */
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

#include "ctrd-image-config.h"
#include "ctrd-storage-private.h"
#include "ctrd-util.h"

/* ------------------------------------------------------------------ */
/* Import: a GInputStream over the current member's data */

#define CTRD_TYPE_ARCHIVE_DATA_STREAM (ctrd_archive_data_stream_get_type ())
G_DECLARE_FINAL_TYPE (CtrdArchiveDataStream, ctrd_archive_data_stream, CTRD, ARCHIVE_DATA_STREAM,
                      GInputStream)

struct _CtrdArchiveDataStream
{
  GInputStream parent_instance;
  struct archive *archive;
  gboolean failed; /* the archive, not the repo, failed */
};

G_DEFINE_TYPE (CtrdArchiveDataStream, ctrd_archive_data_stream, G_TYPE_INPUT_STREAM)

static gssize
ctrd_archive_data_stream_read (GInputStream *stream, void *buffer, gsize count,
                               GCancellable *cancellable, GError **error)
{
  CtrdArchiveDataStream *self = CTRD_ARCHIVE_DATA_STREAM (stream);
  la_ssize_t n = archive_read_data (self->archive, buffer, count);

  if (n < 0)
    {
      self->failed = TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                   archive_error_string (self->archive) ?: "reading failed");
      return -1;
    }
  return n;
}

static gboolean
ctrd_archive_data_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
ctrd_archive_data_stream_class_init (CtrdArchiveDataStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  stream_class->read_fn = ctrd_archive_data_stream_read;
  stream_class->close_fn = ctrd_archive_data_stream_close;
}

static void
ctrd_archive_data_stream_init (CtrdArchiveDataStream *self)
{
}

/* ------------------------------------------------------------------ */
/* Import: members into the mutable tree */

typedef struct
{
  OstreeRepo *repo;
  ImportSource *src;
  GCancellable *cancellable;
  OstreeMutableTree *root;
  char *default_dirmeta; /* 0755 root:root, for parents the tar does not list */
  guint64 max_entries;
  guint64 n_entries;
  guint64 n_skipped;
  GHashTable *content_sizes; /* checksum -> guint64*: sizes of the regular files written */
  /* Layer mode (an OCI layer over the ones before it): whiteouts are
   * honoured, and an entry replaces one of another kind that an earlier
   * layer left. layer_paths holds what this layer wrote and their parents:
   * whiteouts and opaque directories only hide what lower layers wrote. */
  gboolean layer_mode;
  GHashTable *layer_paths;
  guint64 layer_entries;
} ImportContext;

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define WHITEOUT_META_PREFIX ".wh..wh."

/* A member path as components. A leading "/" and "." or empty components go
 * (so "/abs" and "./abs" both land at "abs" inside the image, the way tar
 * extracts them); ".." anywhere is refused rather than resolved, since the
 * tar cannot mean anything inside the image by it. Names must be UTF-8, as
 * OSTree stores them. */
static GPtrArray *
split_member_path (const char *path, const char *quoted, GError **error)
{
  g_autoptr (GPtrArray) components = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = NULL;

  if (strlen (path) >= PATH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: the path is longer than %d bytes", quoted, PATH_MAX - 1);
      return NULL;
    }
  if (!g_utf8_validate (path, -1, NULL))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: the path is not valid UTF-8", quoted);
      return NULL;
    }

  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: “..” is not allowed in a path", quoted);
          return NULL;
        }
      if (strlen (parts[i]) > NAME_MAX)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: a name is longer than %d bytes", quoted, NAME_MAX);
          return NULL;
        }
      g_ptr_array_add (components, g_strdup (parts[i]));
    }
  if (components->len > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: nested deeper than %d directories", quoted, MEMBER_DEPTH_MAX);
      return NULL;
    }
  return g_steal_pointer (&components);
}

/* What the repo rejected because of the member's content (a name, a clash)
 * is the caller's input; anything else is ours. */
static gboolean
member_repo_error (ImportContext *ctx, GError *local_error, const char *quoted,
                   gboolean caused_by_input, GError **error)
{
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_cancellable_is_cancelled (ctx->cancellable))
    {
      g_error_free (local_error);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED, "The image import was cancelled");
      return FALSE;
    }
  g_set_error (error, CTRD_ERROR,
               caused_by_input ? CTRD_ERROR_INVALID_ARGUMENT : CTRD_ERROR_STORAGE_ERROR,
               "Tar member %s: %s", quoted, local_error->message);
  g_error_free (local_error);
  return FALSE;
}

GFileInfo *
storage_file_info_new (GFileType type, guint32 mode, guint32 uid, guint32 gid)
{
  GFileInfo *info = g_file_info_new ();

  g_file_info_set_file_type (info, type);
  g_file_info_set_attribute_uint32 (info, "unix::mode", mode);
  g_file_info_set_attribute_uint32 (info, "unix::uid", uid);
  g_file_info_set_attribute_uint32 (info, "unix::gid", gid);
  return info;
}

char *
storage_repo_write_dirmeta (OstreeRepo *repo, GFileInfo *info, GVariant *xattrs,
                            GCancellable *cancellable, GError **error)
{
  /* Returned already sunk (transfer full). */
  g_autoptr (GVariant) dirmeta = ostree_create_directory_metadata (info, xattrs);
  g_autofree guchar *csum = NULL;

  if (!ostree_repo_write_metadata (repo, OSTREE_OBJECT_TYPE_DIR_META, NULL, dirmeta, &csum,
                                   cancellable, error))
    return NULL;
  return ostree_checksum_from_bytes (csum);
}

static char *
write_dirmeta (ImportContext *ctx, GFileInfo *info, GVariant *xattrs, GError **error)
{
  return storage_repo_write_dirmeta (ctx->repo, info, xattrs, ctx->cancellable, error);
}

/* Capabilities and user data are kept; trusted.overlay.* (and user.overlay.*
 * of unprivileged overlays) would change what overlayfs makes of the lower
 * layer, and security.selinux is the host's business, so those and
 * everything else are dropped. */
gboolean
storage_keep_xattr (const char *name)
{
  return strcmp (name, "security.capability") == 0 ||
         (g_str_has_prefix (name, "user.") && !g_str_has_prefix (name, "user.overlay."));
}

/* The kernel's struct vfs_cap_data / vfs_ns_cap_data (linux/capability.h):
 * a little-endian magic (revision and flags), then the sets. */
#define CAP_REVISION_MASK 0xFF000000u
#define CAP_FLAGS_EFFECTIVE 0x000001u

/* Why the kernel would refuse @name = @value (@size bytes) on a member of
 * @filetype, or NULL: the image's fault, not the store's. */
static const char *
xattr_refusal (const char *name, const guchar *value, size_t size, mode_t filetype)
{
  if (strlen (name) > 255)
    return "has a name longer than 255 bytes";
  if (size > 65536)
    return "has a value larger than 64 KiB";
  if (strcmp (name, "security.capability") == 0)
    {
      guint32 magic;
      size_t expected;

      if (filetype != AE_IFREG)
        return "is on something other than a regular file";
      if (size < 4)
        return "is not a valid capability set (too short)";
      magic = (guint32) value[0] | (guint32) value[1] << 8 | (guint32) value[2] << 16 |
              (guint32) value[3] << 24;
      switch (magic & CAP_REVISION_MASK)
        {
        case 0x01000000u:
          expected = 12;
          break;
        case 0x02000000u:
          expected = 20;
          break;
        case 0x03000000u:
          expected = 24;
          break;
        default:
          return "is not a valid capability set (unknown revision)";
        }
      if (size != expected)
        return "is not a valid capability set (wrong size for its revision)";
      if ((magic & ~CAP_REVISION_MASK) & ~CAP_FLAGS_EFFECTIVE)
        return "is not a valid capability set (unknown flags)";
      return NULL;
    }
  /* Linux keeps user.* attributes on regular files and directories only */
  if (g_str_has_prefix (name, "user.") && filetype != AE_IFREG && filetype != AE_IFDIR)
    return "is a user attribute on something other than a file or directory";
  return NULL;
}

/* The member's xattrs that are kept (NULL in @out when none). One the
 * kernel would not store is INVALID_ARGUMENT naming the member (@quoted)
 * and the attribute. */
static gboolean
member_xattrs (struct archive_entry *entry, const char *quoted, GVariant **out, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ayay)"));
  const char *name;
  const void *value;
  size_t size;
  gboolean any = FALSE;

  *out = NULL;
  archive_entry_xattr_reset (entry);
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      const char *problem;

      if (!storage_keep_xattr (name))
        continue;
      problem = xattr_refusal (name, value, size, archive_entry_filetype (entry));
      if (problem != NULL)
        {
          g_autofree char *quoted_name = ctrd_quote_untrusted (name);

          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: extended attribute %s %s", quoted, quoted_name, problem);
          return FALSE;
        }
      g_variant_builder_add (&builder, "(@ay@ay)", g_variant_new_bytestring (name),
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, value, size, 1));
      any = TRUE;
    }
  if (any)
    *out = g_variant_ref_sink (g_variant_builder_end (&builder));
  return TRUE;
}

/* The directory that holds the member at @components, made (0755 root) where
 * the tar skipped it unless @create is FALSE (then a missing one gives NULL
 * without an error). A non-directory on the way ("lib -> /" and then
 * "lib/etc/x") is refused: the image stores symlinks, it never follows them. */
static OstreeMutableTree *
find_parent_dir (ImportContext *ctx, GPtrArray *components, gboolean create, const char *quoted,
                 GError **error)
{
  g_autoptr (OstreeMutableTree) dir = g_object_ref (ctx->root);

  for (guint i = 0; i + 1 < components->len; i++)
    {
      const char *name = components->pdata[i];
      g_autoptr (GError) local_error = NULL;
      g_autofree char *file_checksum = NULL;
      g_autoptr (OstreeMutableTree) subdir = NULL;

      if (ostree_mutable_tree_lookup (dir, name, &file_checksum, &subdir, &local_error))
        {
          if (subdir == NULL)
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Tar member %s: “%s” on its path is not a directory in the image",
                           quoted, name);
              return NULL;
            }
        }
      else
        {
          if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            {
              member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
              return NULL;
            }
          if (!create)
            return NULL;
          g_clear_error (&local_error);
          if (!ostree_mutable_tree_ensure_dir (dir, name, &subdir, &local_error))
            {
              member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
              return NULL;
            }
          ostree_mutable_tree_set_metadata_checksum (subdir, ctx->default_dirmeta);
        }
      g_set_object (&dir, subdir);
    }
  return g_steal_pointer (&dir);
}

static OstreeMutableTree *
ensure_parent_dir (ImportContext *ctx, GPtrArray *components, const char *quoted, GError **error)
{
  return find_parent_dir (ctx, components, TRUE, quoted, error);
}

SlotKind
storage_lookup_slot (OstreeMutableTree *parent, const char *name, char **out_checksum,
                     OstreeMutableTree **out_subdir)
{
  g_autofree char *checksum = NULL;
  g_autoptr (OstreeMutableTree) subdir = NULL;
  SlotKind kind;

  if (!ostree_mutable_tree_lookup (parent, name, &checksum, &subdir, NULL))
    return SLOT_MISSING;
  kind = subdir != NULL ? SLOT_DIR : SLOT_FILE;
  if (out_checksum != NULL)
    *out_checksum = g_steal_pointer (&checksum);
  if (out_subdir != NULL)
    *out_subdir = g_steal_pointer (&subdir);
  return kind;
}

/* "a/b" for the first @n of @components ("" for none). */
static char *
join_components (GPtrArray *components, guint n)
{
  GString *path = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (path, '/');
      g_string_append (path, components->pdata[i]);
    }
  return g_string_free (path, FALSE);
}

static char *
child_path (const char *dir_path, const char *name)
{
  return dir_path[0] == '\0' ? g_strdup (name) : g_strconcat (dir_path, "/", name, NULL);
}

static gboolean
written_by_this_layer (ImportContext *ctx, const char *path)
{
  return ctx->layer_paths != NULL && g_hash_table_contains (ctx->layer_paths, path);
}

/* Records that this layer wrote @components, and so implied its parents. */
static void
mark_layer_path (ImportContext *ctx, GPtrArray *components, guint n)
{
  for (guint i = 1; i <= n; i++)
    g_hash_table_add (ctx->layer_paths, join_components (components, i));
}

/* Before @name is stored in @parent: an entry of the other kind (directory
 * or not) there is an error within one tar, but what an earlier layer left
 * is replaced by a later one (OCI layers are changesets). */
static gboolean
clear_other_kind (ImportContext *ctx, OstreeMutableTree *parent, const char *name,
                  GPtrArray *components, gboolean storing_dir, const char *quoted, GError **error)
{
  SlotKind kind = storage_lookup_slot (parent, name, NULL, NULL);
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;

  if (kind == SLOT_MISSING || (kind == SLOT_DIR) == storing_dir)
    return TRUE;
  path = join_components (components, components->len);
  if (!ctx->layer_mode || written_by_this_layer (ctx, path))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   storing_dir ? "Tar member %s: a directory replaces an earlier non-directory"
                               : "Tar member %s: a non-directory replaces an earlier directory",
                   quoted);
      return FALSE;
    }
  if (!ostree_mutable_tree_remove (parent, name, FALSE, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
  return TRUE;
}

static gboolean
import_directory (ImportContext *ctx, struct archive_entry *entry, OstreeMutableTree *parent,
                  GPtrArray *components, const char *quoted, GError **error)
{
  const char *name = parent != NULL ? components->pdata[components->len - 1] : NULL;
  g_autoptr (GFileInfo) info =
      storage_file_info_new (G_FILE_TYPE_DIRECTORY, S_IFDIR | (archive_entry_perm (entry) & 07777),
                             archive_entry_uid (entry), archive_entry_gid (entry));
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (OstreeMutableTree) dir = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *dirmeta = NULL;

  if (!member_xattrs (entry, quoted, &xattrs, error))
    return FALSE;

  if (parent == NULL)
    dir = g_object_ref (ctx->root);
  else
    {
      if (!clear_other_kind (ctx, parent, name, components, TRUE, quoted, error))
        return FALSE;
      if (!ostree_mutable_tree_ensure_dir (parent, name, &dir, &local_error))
        return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
    }

  dirmeta = write_dirmeta (ctx, info, xattrs, &local_error);
  if (dirmeta == NULL)
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
  ostree_mutable_tree_set_metadata_checksum (dir, dirmeta);
  return TRUE;
}


/* A sparse member's holes are written out as zeros, so what counts against
 * the cap is the members' apparent size, not only the bytes of the tar: a
 * 10 KiB tar of a 17 GiB sparse file is refused like the file itself. */
static gboolean
count_member_size (ImportSource *src, gint64 size, const char *quoted, GError **error)
{
  src->member_bytes += MAX (size, 0);
  if (src->max_bytes == 0 || src->member_bytes <= src->max_bytes)
    return TRUE;
  src->limit_exceeded = TRUE;
  return storage_source_set_error (src, src->tar, quoted, error);
}

static gboolean
import_file_or_symlink (ImportContext *ctx, struct archive_entry *entry, OstreeMutableTree *parent,
                        GPtrArray *components, const char *quoted, GError **error)
{
  const char *name = components->pdata[components->len - 1];
  gboolean is_symlink = archive_entry_filetype (entry) == AE_IFLNK;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (CtrdArchiveDataStream) data = NULL;
  g_autoptr (GInputStream) content = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree guchar *csum = NULL;
  g_autofree char *checksum = NULL;
  guint64 length;

  if (!member_xattrs (entry, quoted, &xattrs, error) ||
      !clear_other_kind (ctx, parent, name, components, FALSE, quoted, error))
    return FALSE;
  if (!is_symlink && !count_member_size (ctx->src, archive_entry_size (entry), quoted, error))
    return FALSE;

  if (is_symlink)
    {
      const char *target = archive_entry_symlink_utf8 (entry) ?: archive_entry_symlink (entry);

      if (target == NULL || target[0] == '\0' || strlen (target) >= PATH_MAX ||
          !g_utf8_validate (target, -1, NULL))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the symlink target is empty, too long or not UTF-8", quoted);
          return FALSE;
        }
      info = storage_file_info_new (G_FILE_TYPE_SYMBOLIC_LINK, S_IFLNK | 0777,
                                    archive_entry_uid (entry), archive_entry_gid (entry));
      g_file_info_set_size (info, 0);
      g_file_info_set_symlink_target (info, target);
    }
  else
    {
      info = storage_file_info_new (G_FILE_TYPE_REGULAR,
                                    S_IFREG | (archive_entry_perm (entry) & 07777),
                                    archive_entry_uid (entry), archive_entry_gid (entry));
      g_file_info_set_size (info, archive_entry_size (entry));
      data = g_object_new (CTRD_TYPE_ARCHIVE_DATA_STREAM, NULL);
      data->archive = ctx->src->tar;
    }

  if (!ostree_raw_file_to_content_stream (data != NULL ? G_INPUT_STREAM (data) : NULL, info, xattrs,
                                          &content, &length, ctx->cancellable, &local_error) ||
      !ostree_repo_write_content (ctx->repo, NULL, content, length, &csum, ctx->cancellable,
                                  &local_error))
    {
      if (data != NULL && data->failed)
        return storage_source_set_error (ctx->src, ctx->src->tar, quoted, error);
      return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
    }

  checksum = ostree_checksum_from_bytes (csum);
  if (!ostree_mutable_tree_replace_file (parent, name, checksum, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
  if (!is_symlink)
    {
      guint64 size = archive_entry_size (entry);
      g_hash_table_insert (ctx->content_sizes, g_steal_pointer (&checksum),
                           g_memdup2 (&size, sizeof size));
    }
  return TRUE;
}

/* Tar hardlinks name an earlier member; the new name gets the same content
 * object. A target that is missing, later in the archive or a directory
 * cannot be stored. */
static gboolean
import_hardlink (ImportContext *ctx, const char *target, OstreeMutableTree *parent,
                 GPtrArray *components, const char *quoted, GError **error)
{
  const char *name = components->pdata[components->len - 1];
  g_autofree char *quoted_target = ctrd_quote_untrusted (target);
  g_autoptr (GPtrArray) target_components = NULL;
  g_autoptr (OstreeMutableTree) target_dir = g_object_ref (ctx->root);
  g_autofree char *checksum = NULL;
  g_autoptr (GError) local_error = NULL;

  target_components = split_member_path (target, quoted_target, error);
  if (target_components == NULL)
    return g_prefix_error (error, "Hardlink %s: ", quoted), FALSE;
  if (target_components->len == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: a hardlink to the root directory", quoted);
      return FALSE;
    }

  for (guint i = 0; i < target_components->len; i++)
    {
      g_autoptr (OstreeMutableTree) subdir = NULL;
      gboolean last = i + 1 == target_components->len;
      SlotKind kind;

      g_clear_pointer (&checksum, g_free);
      kind = storage_lookup_slot (target_dir, target_components->pdata[i], &checksum, &subdir);
      if (kind == SLOT_MISSING || (!last && kind != SLOT_DIR))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the hardlink target %s is not an earlier member", quoted,
                       quoted_target);
          return FALSE;
        }
      if (last && kind == SLOT_DIR)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the hardlink target %s is a directory", quoted,
                       quoted_target);
          return FALSE;
        }
      if (!last)
        g_set_object (&target_dir, subdir);
    }

  if (!clear_other_kind (ctx, parent, name, components, FALSE, quoted, error))
    return FALSE;
  if (!ostree_mutable_tree_replace_file (parent, name, checksum, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, TRUE, error);
  return TRUE;
}

static const char *
unsupported_type_name (mode_t type)
{
  switch (type)
    {
    case AE_IFCHR:
      return "character device";
    case AE_IFBLK:
      return "block device";
    case AE_IFIFO:
      return "FIFO";
    case AE_IFSOCK:
      return "socket";
    default:
      return NULL;
    }
}

/* Removes from @dir, recursively, every entry this layer did not write: what
 * an opaque directory (or a whiteout of a directory this layer also writes)
 * hides of the layers below. */
static gboolean
hide_lower_entries (ImportContext *ctx, OstreeMutableTree *dir, const char *dir_path,
                    const char *quoted, GError **error)
{
  g_autoptr (GPtrArray) file_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) dir_names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr (GError) local_error = NULL;

  /* Names are copied first: removing an entry frees the tree's own key. */
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_files (dir));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (file_names, g_strdup (key));
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_subdirs (dir));
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (dir_names, g_strdup (key));
  if (!ostree_mutable_tree_check_error (dir, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);

  for (guint i = 0; i < file_names->len; i++)
    {
      g_autofree char *path = child_path (dir_path, file_names->pdata[i]);

      if (!written_by_this_layer (ctx, path) &&
          !ostree_mutable_tree_remove (dir, file_names->pdata[i], FALSE, &local_error))
        return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
    }
  for (guint i = 0; i < dir_names->len; i++)
    {
      g_autofree char *path = child_path (dir_path, dir_names->pdata[i]);
      g_autoptr (OstreeMutableTree) subdir = NULL;

      if (!written_by_this_layer (ctx, path))
        {
          if (!ostree_mutable_tree_remove (dir, dir_names->pdata[i], FALSE, &local_error))
            return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
          continue;
        }
      if (storage_lookup_slot (dir, dir_names->pdata[i], NULL, &subdir) == SLOT_DIR &&
          !hide_lower_entries (ctx, subdir, path, quoted, error))
        return FALSE;
    }
  return TRUE;
}

/* An OCI whiteout member (its last component starts with ".wh."), applied
 * by exact name: ".wh..wh..opq" makes its directory opaque, ".wh.NAME"
 * deletes NAME from the layers below; a bare ".wh." (which a lax reader
 * takes for its parent directory) and ".wh.." or ".wh..." are refused;
 * other ".wh..wh." names are aufs bookkeeping and ignored, like Docker does. */
static gboolean
apply_whiteout (ImportContext *ctx, GPtrArray *components, const char *quoted, GError **error)
{
  const char *marker = components->pdata[components->len - 1];
  const char *target = marker + strlen (WHITEOUT_PREFIX);
  g_autoptr (OstreeMutableTree) parent = NULL;
  g_autoptr (OstreeMutableTree) subdir = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *dir_path = join_components (components, components->len - 1);
  g_autofree char *target_path = NULL;
  SlotKind kind;

  if (strcmp (marker, WHITEOUT_OPAQUE) == 0)
    {
      parent = ensure_parent_dir (ctx, components, quoted, error);
      if (parent == NULL)
        return FALSE;
      mark_layer_path (ctx, components, components->len - 1);
      return hide_lower_entries (ctx, parent, dir_path, quoted, error);
    }
  if (g_str_has_prefix (marker, WHITEOUT_META_PREFIX))
    {
      g_debug ("Image import: ignored aufs metadata %s", quoted);
      return TRUE;
    }
  if (target[0] == '\0' || strcmp (target, ".") == 0 || strcmp (target, "..") == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s: a whiteout must name what it deletes", quoted);
      return FALSE;
    }

  parent = find_parent_dir (ctx, components, FALSE, quoted, &local_error);
  if (parent == NULL)
    {
      if (local_error == NULL)
        return TRUE; /* its directory does not exist: nothing to delete */
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  target_path = child_path (dir_path, target);
  kind = storage_lookup_slot (parent, target, NULL, &subdir);
  if (kind == SLOT_MISSING)
    return TRUE;
  if (written_by_this_layer (ctx, target_path))
    {
      /* A whiteout only hides lower layers: what this layer wrote stays. */
      if (kind == SLOT_DIR)
        return hide_lower_entries (ctx, subdir, target_path, quoted, error);
      return TRUE;
    }
  if (!ostree_mutable_tree_remove (parent, target, FALSE, &local_error))
    return member_repo_error (ctx, g_steal_pointer (&local_error), quoted, FALSE, error);
  return TRUE;
}

static gboolean
store_member (ImportContext *ctx, struct archive_entry *entry, GPtrArray *components,
              const char *hardlink, const char *quoted, GError **error)
{
  mode_t type = archive_entry_filetype (entry);
  g_autoptr (OstreeMutableTree) parent = NULL;

  if (components->len == 0)
    {
      if (hardlink != NULL || type != AE_IFDIR)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Tar member %s: the root of the image must be a directory", quoted);
          return FALSE;
        }
      return import_directory (ctx, entry, NULL, components, quoted, error);
    }

  parent = ensure_parent_dir (ctx, components, quoted, error);
  if (parent == NULL)
    return FALSE;

  if (hardlink != NULL)
    return import_hardlink (ctx, hardlink, parent, components, quoted, error);

  switch (type)
    {
    case AE_IFDIR:
      return import_directory (ctx, entry, parent, components, quoted, error);
    case AE_IFREG:
    case AE_IFLNK:
      return import_file_or_symlink (ctx, entry, parent, components, quoted, error);
    default:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %s has an unknown file type (0%o)", quoted, (guint) type);
      return FALSE;
    }
}

static gboolean
import_member (ImportContext *ctx, struct archive_entry *entry, GError **error)
{
  const char *path = archive_entry_pathname_utf8 (entry) ?: archive_entry_pathname (entry);
  const char *hardlink = archive_entry_hardlink_utf8 (entry) ?: archive_entry_hardlink (entry);
  mode_t type = archive_entry_filetype (entry);
  g_autofree char *quoted = ctrd_quote_untrusted (path);
  g_autoptr (GPtrArray) components = NULL;

  if (path == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Tar member %" G_GUINT64_FORMAT " has no readable name", ctx->n_entries);
      return FALSE;
    }
  components = split_member_path (path, quoted, error);
  if (components == NULL)
    return FALSE;

  /* Whatever its type: a whiteout shipped as a hardlink or a device is
   * still a whiteout, and must not land in the image. */
  if (ctx->layer_mode && components->len > 0 &&
      g_str_has_prefix (components->pdata[components->len - 1], WHITEOUT_PREFIX))
    return apply_whiteout (ctx, components, quoted, error);

  if (hardlink == NULL && unsupported_type_name (type) != NULL)
    {
      /* Devices come from runc's /dev, never from an image (and a 0:0
       * character device would be an overlay whiteout in the lower layer). */
      if (++ctx->n_skipped <= SKIPPED_LOG_MAX)
        g_message ("Image import: skipped %s %s (not stored in images)",
                   unsupported_type_name (type), quoted);
      return TRUE;
    }

  if (!store_member (ctx, entry, components, hardlink, quoted, error))
    return FALSE;
  if (ctx->layer_mode)
    mark_layer_path (ctx, components, components->len);
  return TRUE;
}

static gboolean
import_all_members (ImportContext *ctx, GError **error)
{
  while (TRUE)
    {
      struct archive_entry *entry;
      int r = archive_read_next_header (ctx->src->tar, &entry);

      if (r == ARCHIVE_EOF)
        break;
      if (r == ARCHIVE_WARN)
        g_debug ("Image import: %s", archive_error_string (ctx->src->tar));
      else if (r != ARCHIVE_OK)
        return storage_source_set_error (ctx->src, ctx->src->tar, NULL, error);

      ctx->n_entries++;
      ctx->layer_entries++;
      if (ctx->max_entries != 0 && ctx->n_entries > ctx->max_entries)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "The image has more than the limit of %" G_GUINT64_FORMAT " members",
                       ctx->max_entries);
          return FALSE;
        }
      if (g_cancellable_is_cancelled (ctx->cancellable))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED, "The image import was cancelled");
          return FALSE;
        }
      if (!import_member (ctx, entry, error))
        return FALSE;
    }

  /* Layers are summed up once, at the commit. */
  if (ctx->n_skipped > SKIPPED_LOG_MAX && !ctx->layer_mode)
    g_message ("Image import: skipped %" G_GUINT64_FORMAT " device nodes, FIFOs and sockets",
               ctx->n_skipped);
  /* A layer may be empty (a change that only touched metadata elsewhere);
   * a root filesystem may not. */
  if (ctx->layer_entries == 0 && !ctx->layer_mode)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image tar archive contains no files");
      return FALSE;
    }
  return storage_source_drain (ctx->src, error);
}

/* ------------------------------------------------------------------ */
/* Import: the image config and the commit */

/* Adds the sizes of the distinct regular files under @dir to @total: what
 * the image's files take in the repo. @known_sizes (checksum -> guint64*)
 * saves loading the objects written just now. */
static gboolean
add_tree_size (OstreeRepo *repo, OstreeMutableTree *dir, GHashTable *known_sizes, GHashTable *seen,
               guint64 *total, GCancellable *cancellable, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_files (dir));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const guint64 *known;
      g_autoptr (GFileInfo) info = NULL;

      if (!g_hash_table_add (seen, g_strdup (value)))
        continue;
      known = known_sizes != NULL ? g_hash_table_lookup (known_sizes, value) : NULL;
      if (known != NULL)
        {
          *total += *known;
          continue;
        }
      if (!ostree_repo_load_file (repo, value, NULL, &info, NULL, cancellable, error))
        return FALSE;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR)
        *total += g_file_info_get_size (info);
    }
  g_hash_table_iter_init (&iter, ostree_mutable_tree_get_subdirs (dir));
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!add_tree_size (repo, value, known_sizes, seen, total, cancellable, error))
      return FALSE;
  return ostree_mutable_tree_check_error (dir, error);
}

gboolean
storage_begin_transaction (CtrdStorage *storage, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!ostree_repo_prepare_transaction (storage->repo, NULL, cancellable, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, "Starting an OSTree transaction");
  return TRUE;
}

/* No ref was set, so nothing names what was written; the staging directory
 * holding it goes too. */
static void
abort_transaction (CtrdStorage *storage)
{
  g_autoptr (GError) abort_error = NULL;

  if (!ostree_repo_abort_transaction (storage->repo, NULL, &abort_error))
    g_warning ("Aborting the OSTree transaction: %s", abort_error->message);
  storage_remove_unlocked_staging_dirs (storage);
}

/* After a failure inside a transaction: nothing of it stays, and @local_error
 * (taken) reaches @error with a CTRD_ERROR code. Returns NULL, for the
 * caller to return. */
gpointer
storage_fail_transaction (CtrdStorage *storage, GError *local_error, GError **error)
{
  abort_transaction (storage);
  ctrd_error_normalize (&local_error, CTRD_ERROR_STORAGE_ERROR);
  g_propagate_error (error, local_error);
  return NULL;
}

/* In a transaction: sets up @ctx to write into @root. */
static gboolean
import_context_init (ImportContext *ctx, CtrdStorage *storage, OstreeMutableTree *root,
                     guint64 max_entries, gboolean layer_mode, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (GFileInfo) default_dir_info =
      storage_file_info_new (G_FILE_TYPE_DIRECTORY, S_IFDIR | 0755, 0, 0);
  g_autoptr (GError) local_error = NULL;

  *ctx = (ImportContext){
    .repo = storage->repo,
    .cancellable = cancellable,
    .root = g_object_ref (root),
    .max_entries = max_entries,
    .content_sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .layer_mode = layer_mode,
    .layer_paths =
        layer_mode ? g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) : NULL,
  };
  ctx->default_dirmeta = write_dirmeta (ctx, default_dir_info, NULL, &local_error);
  if (ctx->default_dirmeta == NULL)
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, "Writing directory metadata");
  return TRUE;
}

static void
import_context_clear (ImportContext *ctx)
{
  g_clear_object (&ctx->root);
  g_clear_pointer (&ctx->default_dirmeta, g_free);
  g_clear_pointer (&ctx->content_sizes, g_hash_table_unref);
  g_clear_pointer (&ctx->layer_paths, g_hash_table_unref);
}

/* In a transaction: writes @root as a commit whose metadata holds
 * @config_json (verbatim), points images/<sha256 of @config_json> at it and
 * commits the transaction. */
CtrdImportResult *
storage_commit_image_tree (CtrdStorage *storage, OstreeMutableTree *root,
                           const char *default_dirmeta, GHashTable *known_sizes,
                           const char *config_json, guint64 created_at, const char *subject,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (CtrdImportResult) result = g_new0 (CtrdImportResult, 1);
  g_autoptr (GFile) root_file = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *ref = NULL;
  g_auto (GVariantDict) metadata = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) metadata_variant = NULL;

  if (ostree_mutable_tree_get_metadata_checksum (root) == NULL && default_dirmeta != NULL)
    ostree_mutable_tree_set_metadata_checksum (root, default_dirmeta);
  if (!ostree_repo_write_mtree (storage->repo, root, &root_file, cancellable, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  "Writing the image tree");
      return NULL;
    }
  if (!add_tree_size (storage->repo, root, known_sizes, seen, &result->size, cancellable,
                      &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  "Measuring the image tree");
      return NULL;
    }

  result->created_at = created_at;
  result->config_json = g_strdup (config_json);
  result->image_id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, config_json, -1);

  g_variant_dict_insert (&metadata, IMAGE_CONFIG_KEY, "s", config_json);
  metadata_variant = g_variant_ref_sink (g_variant_dict_end (&metadata));
  if (!ostree_repo_write_commit_with_time (
          storage->repo, NULL, subject, NULL, metadata_variant, OSTREE_REPO_FILE (root_file),
          created_at / G_USEC_PER_SEC, &result->commit, cancellable, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  "Writing the image commit");
      return NULL;
    }

  ref = g_strconcat (IMAGE_REF_PREFIX, result->image_id, NULL);
  ostree_repo_transaction_set_ref (storage->repo, NULL, ref, result->commit);
  if (!ostree_repo_commit_transaction (storage->repo, NULL, cancellable, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_STORAGE_ERROR,
                                  "Committing the image");
      return NULL;
    }
  return g_steal_pointer (&result);
}

static CtrdImportResult *
import_in_transaction (CtrdStorage *storage, ImportSource *src, const CtrdImportLimits *limits,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (OstreeMutableTree) root = ostree_mutable_tree_new ();
  g_autofree char *diff_id = NULL;
  g_autofree char *config_json = NULL;
  guint64 created_at = ctrd_now_usec ();
  ImportContext ctx;
  CtrdImportResult *result;

  if (!import_context_init (&ctx, storage, root, limits != NULL ? limits->max_entries : 0, FALSE,
                            cancellable, error))
    {
      import_context_clear (&ctx);
      return NULL;
    }
  ctx.src = src;
  if (!import_all_members (&ctx, error))
    {
      import_context_clear (&ctx);
      return NULL;
    }
  diff_id = g_strconcat ("sha256:", ctrd_sha256_get_string (src->tar_sha256), NULL);
  config_json = ctrd_image_config_new_for_rootfs (created_at, diff_id);
  result =
      storage_commit_image_tree (storage, root, ctx.default_dirmeta, ctx.content_sizes, config_json,
                                 created_at, "containersd image import", cancellable, error);
  import_context_clear (&ctx);
  return result;
}

CtrdImportResult *
ctrd_storage_import_rootfs_tar (CtrdStorage *storage, int fd, const CtrdImportLimits *limits,
                                GCancellable *cancellable, GError **error)
{
  return ctrd_storage_import_rootfs_tar_full (storage, fd, limits, NULL, NULL, cancellable, error);
}

CtrdImportResult *
ctrd_storage_import_rootfs_tar_full (CtrdStorage *storage, int fd, const CtrdImportLimits *limits,
                                     CtrdProgressFunc progress, gpointer progress_data,
                                     GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (ImportSource) src = NULL;
  g_autoptr (GError) local_error = NULL;
  CtrdImportResult *result;

  g_return_val_if_fail (storage != NULL, NULL);

  if (!storage_check_source_fd (fd, error))
    return NULL;

  locker = g_mutex_locker_new (&storage->repo_lock);

  src = storage_source_open (fd, NULL, limits != NULL ? limits->max_bytes : 0, TRUE, progress,
                             progress_data, cancellable, error);
  if (src == NULL)
    return NULL;

  if (!storage_begin_transaction (storage, cancellable, error))
    return NULL;

  result = import_in_transaction (storage, src, limits, cancellable, &local_error);
  if (result == NULL)
    return storage_fail_transaction (storage, g_steal_pointer (&local_error), error);
  return result;
}

/* ------------------------------------------------------------------ */
/* Import: OCI layers, one after the other, into one commit */

struct _CtrdLayerImport
{
  CtrdStorage *storage;
  GCancellable *cancellable;
  OstreeMutableTree *root;
  ImportContext ctx;
  guint64 max_bytes; /* uncompressed bytes, over all layers; 0 = no cap */
  guint64 used_bytes;
  guint n_layers;
  gboolean in_transaction;
  gboolean failed; /* a layer failed half-way: the tree must not be committed */
};

CtrdLayerImport *
ctrd_storage_layer_import_begin (CtrdStorage *storage, const CtrdImportLimits *limits,
                                 GCancellable *cancellable, GError **error)
{
  g_autoptr (CtrdLayerImport) import = g_new0 (CtrdLayerImport, 1);

  g_return_val_if_fail (storage != NULL, NULL);

  g_mutex_lock (&storage->repo_lock);
  import->storage = storage;
  import->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  import->root = ostree_mutable_tree_new ();
  import->max_bytes = limits != NULL ? limits->max_bytes : 0;

  if (!storage_begin_transaction (storage, cancellable, error))
    return NULL;
  import->in_transaction = TRUE;
  if (!import_context_init (&import->ctx, storage, import->root,
                            limits != NULL ? limits->max_entries : 0, TRUE, cancellable, error))
    return NULL;
  return g_steal_pointer (&import);
}

gboolean
ctrd_layer_import_apply (CtrdLayerImport *import, GInputStream *layer, const char *expected_diff_id,
                         char **out_diff_id, GError **error)
{
  g_autoptr (ImportSource) src = NULL;
  g_autofree char *diff_id = NULL;
  guint64 remaining = 0;

  g_return_val_if_fail (import != NULL && !import->failed, FALSE);

  import->n_layers++;
  if (import->max_bytes != 0)
    {
      if (import->used_bytes >= import->max_bytes)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "The image is larger than the limit of %" G_GUINT64_FORMAT " bytes",
                       import->max_bytes);
          return FALSE;
        }
      remaining = import->max_bytes - import->used_bytes;
    }

  /* Until the layer is complete the tree is half-changed. */
  import->failed = TRUE;
  src = storage_source_open (-1, layer, remaining, TRUE, NULL, NULL, import->cancellable, error);
  if (src == NULL)
    return g_prefix_error (error, "Layer %u: ", import->n_layers), FALSE;

  g_hash_table_remove_all (import->ctx.layer_paths);
  import->ctx.layer_entries = 0;
  import->ctx.src = src;
  if (!import_all_members (&import->ctx, error))
    {
      import->ctx.src = NULL;
      return g_prefix_error (error, "Layer %u: ", import->n_layers), FALSE;
    }
  import->ctx.src = NULL;
  import->used_bytes += MAX (src->tar_bytes, src->source_bytes);

  diff_id = g_strconcat ("sha256:", ctrd_sha256_get_string (src->tar_sha256), NULL);
  if (expected_diff_id != NULL && strcmp (diff_id, expected_diff_id) != 0)
    {
      gboolean printable = g_str_has_prefix (expected_diff_id, "sha256:") &&
                           ctrd_is_full_id (expected_diff_id + strlen ("sha256:"));
      g_autofree char *quoted =
          printable ? g_strdup (expected_diff_id) : ctrd_quote_untrusted (expected_diff_id);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Layer %u: its content is %s, but the image config says %s", import->n_layers,
                   diff_id, quoted);
      return FALSE;
    }
  import->failed = FALSE;
  if (out_diff_id != NULL)
    *out_diff_id = g_steal_pointer (&diff_id);
  return TRUE;
}

CtrdImportResult *
ctrd_layer_import_commit (CtrdLayerImport *import, const char *config_json, guint64 created_at,
                          GError **error)
{
  g_autoptr (GError) local_error = NULL;
  CtrdImportResult *result;

  g_return_val_if_fail (import != NULL && import->in_transaction, NULL);

  if (import->failed)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                   "A layer of the image failed: it cannot be committed");
      return NULL;
    }
  if (config_json == NULL || !g_utf8_validate (config_json, -1, NULL))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The image config is not UTF-8 text");
      return NULL;
    }
  if (import->ctx.n_skipped > SKIPPED_LOG_MAX)
    g_message ("Image import: skipped %" G_GUINT64_FORMAT " device nodes, FIFOs and sockets",
               import->ctx.n_skipped);

  result = storage_commit_image_tree (
      import->storage, import->root, import->ctx.default_dirmeta, import->ctx.content_sizes,
      config_json, created_at != 0 ? created_at : ctrd_now_usec (), "containersd image import",
      import->cancellable, &local_error);
  if (result == NULL)
    {
      ctrd_error_normalize (&local_error, CTRD_ERROR_STORAGE_ERROR);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  import->in_transaction = FALSE;
  return result;
}

void
ctrd_layer_import_free (CtrdLayerImport *import)
{
  if (import == NULL)
    return;
  if (import->storage != NULL)
    {
      if (import->in_transaction)
        abort_transaction (import->storage);
      g_mutex_unlock (&import->storage->repo_lock);
    }
  import_context_clear (&import->ctx);
  g_clear_object (&import->root);
  g_clear_object (&import->cancellable);
  g_free (import);
}
