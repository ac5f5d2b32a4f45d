/* ctrd-storage-verify.c: a checkout compared with its commit, file by file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-storage-private.h"

/* ------------------------------------------------------------------ */
/* Extended attributes in a form two sets compare in */

static int
compare_xattr_entries (gconstpointer a, gconstpointer b)
{
  GVariant *const *va = a;
  GVariant *const *vb = b;
  g_autoptr (GVariant) name_a = g_variant_get_child_value (*va, 0);
  g_autoptr (GVariant) name_b = g_variant_get_child_value (*vb, 0);

  return g_strcmp0 (g_variant_get_bytestring (name_a), g_variant_get_bytestring (name_b));
}

/* @xattrs (a(ayay), may be NULL) with only the kept names, sorted by name:
 * a form two sets can be compared in. Never NULL. */
static GVariant *
canonical_xattrs (GVariant *xattrs)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ayay)"));

  for (gsize i = 0; xattrs != NULL && i < g_variant_n_children (xattrs); i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (xattrs, i);
      g_autoptr (GVariant) name = g_variant_get_child_value (entry, 0);

      if (storage_keep_xattr (g_variant_get_bytestring (name)))
        g_ptr_array_add (entries, g_steal_pointer (&entry));
    }
  g_ptr_array_sort (entries, compare_xattr_entries);
  for (guint i = 0; i < entries->len; i++)
    g_variant_builder_add_value (&builder, entries->pdata[i]);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

int
storage_compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* ------------------------------------------------------------------ */
/* Verifying a checkout against its commit */

typedef struct
{
  OstreeRepo *repo;
  GCancellable *cancellable;
  GPtrArray *modified;
} VerifyWalk;

/* TRUE if the regular file or symlink @name in @dfd is exactly the content
 * object @checksum: same type, mode, owner, kept xattrs and bytes. */
static gboolean
checkout_file_matches (VerifyWalk *walk, int dfd, const char *name, const struct stat *st,
                       const char *checksum, const char *path, gboolean *out_matches,
                       GError **error)
{
  g_autoptr (GFileInfo) stored_info = NULL;
  g_autoptr (GVariant) stored_xattrs = NULL;
  g_autoptr (GVariant) canonical_stored = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GInputStream) data = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree guchar *csum = NULL;
  g_autofree char *actual = NULL;

  *out_matches = FALSE;
  if (!ostree_repo_load_file (walk->repo, checksum, NULL, &stored_info, &stored_xattrs,
                              walk->cancellable, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, path);
  canonical_stored = canonical_xattrs (stored_xattrs);

  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX];
      gssize n;

      if (g_file_info_get_file_type (stored_info) != G_FILE_TYPE_SYMBOLIC_LINK)
        return TRUE;
      n = readlinkat (dfd, name, target, sizeof target - 1);
      if (n < 0)
        return TRUE;
      target[n] = '\0';
      info =
          storage_file_info_new (G_FILE_TYPE_SYMBOLIC_LINK, S_IFLNK | 0777, st->st_uid, st->st_gid);
      g_file_info_set_size (info, 0);
      g_file_info_set_symlink_target (info, target);
    }
  else
    {
      g_autoptr (GVariant) xattrs = NULL;
      g_autoptr (GVariant) canonical = NULL;
      int fd;

      if (g_file_info_get_file_type (stored_info) != G_FILE_TYPE_REGULAR)
        return TRUE;
      fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
      if (fd < 0)
        return TRUE;
      data = g_unix_input_stream_new (fd, TRUE);
      xattrs = ctrd_fd_get_xattrs (fd, storage_keep_xattr, path, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      canonical = canonical_xattrs (xattrs);
      if (!g_variant_equal (canonical, canonical_stored))
        return TRUE;
      info = storage_file_info_new (G_FILE_TYPE_REGULAR, S_IFREG | (st->st_mode & 07777),
                                    st->st_uid, st->st_gid);
      g_file_info_set_size (info, st->st_size);
    }

  /* Hashed with the xattrs as stored, whose order the checksum depends on
   * (the sets were compared above). */
  if (!ostree_checksum_file_from_input (info, stored_xattrs, data, OSTREE_OBJECT_TYPE_FILE, &csum,
                                        walk->cancellable, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, path);
  actual = ostree_checksum_from_bytes (csum);
  *out_matches = strcmp (actual, checksum) == 0;
  return TRUE;
}

/* TRUE if the directory open as @dfd has the owner, mode and kept xattrs of
 * the dirmeta object @dirmeta (a (uuua(ayay)) with big-endian numbers). */
static gboolean
checkout_dir_matches (int dfd, GVariant *dirmeta, const char *path, gboolean *out_matches,
                      GError **error)
{
  g_autoptr (GVariant) stored_xattrs = NULL;
  g_autoptr (GVariant) canonical_stored = NULL;
  g_autoptr (GVariant) xattrs = NULL;
  g_autoptr (GVariant) canonical = NULL;
  g_autoptr (GError) local_error = NULL;
  guint32 uid, gid, mode;
  struct stat st;

  *out_matches = FALSE;
  if (fstat (dfd, &st) < 0)
    return ctrd_throw_errno (error, "Reading %s", path);
  g_variant_get (dirmeta, "(uuu@a(ayay))", &uid, &gid, &mode, &stored_xattrs);
  xattrs = ctrd_fd_get_xattrs (dfd, storage_keep_xattr, path, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  canonical = canonical_xattrs (xattrs);
  canonical_stored = canonical_xattrs (stored_xattrs);
  *out_matches = GUINT32_FROM_BE (uid) == st.st_uid && GUINT32_FROM_BE (gid) == st.st_gid &&
                 GUINT32_FROM_BE (mode) == st.st_mode &&
                 g_variant_equal (canonical, canonical_stored);
  return TRUE;
}

static gboolean
verify_dir (VerifyWalk *walk, int dfd, OstreeRepoFile *dir, const char *path, guint depth,
            GError **error)
{
  const char *display = path[0] != '\0' ? path : "/";
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GVariant) files = NULL;
  g_autoptr (GVariant) dirs = NULL;
  g_autoptr (GPtrArray) names = NULL;
  GVariant *contents;
  gboolean matches;

  if (depth > MEMBER_DEPTH_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "%s is nested too deep", display);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (walk->cancellable, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_CANCELLED);
      return FALSE;
    }
  if (!ostree_repo_file_ensure_resolved (dir, &local_error))
    return storage_propagate_prefixed (error, g_steal_pointer (&local_error),
                                       CTRD_ERROR_STORAGE_ERROR, display);
  if (!checkout_dir_matches (dfd, ostree_repo_file_tree_get_metadata (dir), display, &matches,
                             error))
    return FALSE;
  if (!matches)
    g_ptr_array_add (walk->modified, g_strdup (display));

  contents = ostree_repo_file_tree_get_contents (dir);
  files = g_variant_get_child_value (contents, 0);
  dirs = g_variant_get_child_value (contents, 1);

  for (gsize i = 0; i < g_variant_n_children (files); i++)
    {
      const char *name;
      g_autoptr (GVariant) csum_v = NULL;
      g_autofree char *checksum = NULL;
      g_autofree char *child = NULL;
      struct stat st;

      g_variant_get_child (files, i, "(&s@ay)", &name, &csum_v);
      g_hash_table_add (expected, (gpointer) name);
      checksum = ostree_checksum_from_bytes_v (csum_v);
      child = g_strconcat (path, "/", name, NULL);
      if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
          !(S_ISREG (st.st_mode) || S_ISLNK (st.st_mode)))
        matches = FALSE;
      else if (!checkout_file_matches (walk, dfd, name, &st, checksum, child, &matches, error))
        return FALSE;
      if (!matches)
        g_ptr_array_add (walk->modified, g_steal_pointer (&child));
    }

  for (gsize i = 0; i < g_variant_n_children (dirs); i++)
    {
      const char *name;
      g_autofree char *child = NULL;
      g_autoptr (GFile) child_file = NULL;
      ctrd_autofd int child_fd = -1;
      gboolean ok;

      g_variant_get_child (dirs, i, "(&s@ay@ay)", &name, NULL, NULL);
      g_hash_table_add (expected, (gpointer) name);
      child = g_strconcat (path, "/", name, NULL);
      child_fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child_fd < 0)
        {
          g_ptr_array_add (walk->modified, g_steal_pointer (&child));
          continue;
        }
      child_file = g_file_get_child (G_FILE (dir), name);
      ok = verify_dir (walk, child_fd, OSTREE_REPO_FILE (child_file), child, depth + 1, error);
      if (!ok)
        return FALSE;
    }

  /* Whatever the commit does not have was added to the checkout. */
  names = ctrd_list_dir_at (dfd, display, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    if (!g_hash_table_contains (expected, names->pdata[i]))
      g_ptr_array_add (walk->modified, g_strconcat (path, "/", names->pdata[i], NULL));
  return TRUE;
}

GPtrArray *
ctrd_storage_verify_checkout (CtrdStorage *storage, const char *commit, GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GPtrArray) modified = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GFile) root = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  VerifyWalk walk = {
    .repo = storage->read_repo,
    .cancellable = cancellable,
    .modified = modified,
  };
  gboolean ok;
  ctrd_autofd int dfd = -1;

  if (!storage_check_hex_id (commit, "an OSTree commit checksum", error))
    return NULL;
  path = g_build_filename (storage->checkouts_path, commit, NULL);
  if (!ostree_repo_read_commit (storage->read_repo, commit, &root, NULL, cancellable, &local_error))
    {
      storage_propagate_prefixed (error, g_steal_pointer (&local_error), CTRD_ERROR_NOT_FOUND,
                                  "Reading the image commit");
      return NULL;
    }
  dfd = openat (storage->checkouts_dfd, commit, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    {
      ctrd_throw_errno_code (error,
                             errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR,
                             "Opening the checkout %s", path);
      return NULL;
    }
  ok = verify_dir (&walk, dfd, OSTREE_REPO_FILE (root), "", 0, error);
  if (!ok)
    return NULL;
  g_ptr_array_sort (modified, storage_compare_strings);
  return g_steal_pointer (&modified);
}
