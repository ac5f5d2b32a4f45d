/* Unit tests for ctrd-volumes: names, anonymous volumes, copy-up, removal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-test-util.h"
#include "ctrd-util.h"
#include "ctrd-volumes.h"

typedef struct
{
  char *tmpdir;
  char *storage;
  char *image;
  char *outside;
  CtrdVolumes *volumes;
} Fixture;

static char *
make_path (const char *dir, const char *relative)
{
  return g_build_filename (dir, relative, NULL);
}

static void
write_file (const char *dir, const char *relative, const char *contents, guint mode, guint uid,
            guint gid)
{
  g_autofree char *path = make_path (dir, relative);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chown (path, uid, gid), ==, 0);
  g_assert_cmpint (chmod (path, mode), ==, 0);
}

static void
make_dir (const char *dir, const char *relative, guint mode, guint uid, guint gid)
{
  g_autofree char *path = make_path (dir, relative);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
  g_assert_cmpint (chown (path, uid, gid), ==, 0);
  g_assert_cmpint (chmod (path, mode), ==, 0);
}

static void
make_symlink (const char *dir, const char *relative, const char *target)
{
  g_autofree char *path = make_path (dir, relative);

  g_assert_cmpint (symlink (target, path), ==, 0);
}

/* TRUE if @dir/@relative exists (symlinks not followed). */
static gboolean
path_exists (const char *dir, const char *relative)
{
  g_autofree char *path = make_path (dir, relative);
  struct stat st;

  return lstat (path, &st) == 0;
}

static char *
read_text (const char *dir, const char *relative)
{
  g_autofree char *path = make_path (dir, relative);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
assert_stat (const char *dir, const char *relative, guint type, guint mode, guint uid, guint gid)
{
  g_autofree char *path = make_path (dir, relative);
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & S_IFMT, ==, type);
  if (type != S_IFLNK)
    g_assert_cmpuint (st.st_mode & 07777, ==, mode);
  g_assert_cmpuint (st.st_uid, ==, uid);
  g_assert_cmpuint (st.st_gid, ==, gid);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = ctrd_test_make_tmpdir ("test-volumes-XXXXXX");
  fx->storage = make_path (fx->tmpdir, "storage");
  fx->image = make_path (fx->tmpdir, "image");
  fx->outside = make_path (fx->tmpdir, "outside");
  make_dir (fx->image, ".", 0755, 0, 0);
  write_file (fx->outside, "host-secret", "host data\n", 0600, 0, 0);
  fx->volumes = ctrd_volumes_new (fx->storage, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->volumes);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_clear_pointer (&fx->volumes, ctrd_volumes_free);
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->outside);
  g_free (fx->image);
  g_free (fx->storage);
  g_free (fx->tmpdir);
}

static void
test_new_layout (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = make_path (fx->storage, "volumes");
  g_auto (GStrv) names = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (ctrd_volumes_get_dir (fx->volumes), ==, dir);
  assert_stat (fx->storage, "volumes", S_IFDIR, 0700, getuid (), getgid ());
  names = ctrd_volumes_list (fx->volumes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (names), ==, 0);
}

static void
build_image_tree (Fixture *fx)
{
  g_autofree char *fifo = make_path (fx->image, "data/fifo");
  g_autofree char *original = make_path (fx->image, "data/file");
  g_autofree char *hardlink = make_path (fx->image, "data/hardlink");
  g_autofree char *dev = make_path (fx->image, "data/null");

  make_dir (fx->image, "data", 0750, 5, 6);
  write_file (fx->image, "data/file", "content\n", 0640, 1, 2);
  write_file (fx->image, "data/setuid", "#!/bin/sh\n", 04755, 0, 0);
  make_dir (fx->image, "data/sub/deeper", 0711, 7, 8);
  write_file (fx->image, "data/sub/deeper/leaf", "leaf", 0600, 9, 9);
  make_symlink (fx->image, "data/abs-link", "/etc/passwd");
  make_symlink (fx->image, "data/rel-link", "../../../../../outside/host-secret");
  g_assert_cmpint (mkfifo (fifo, 0620), ==, 0);
  g_assert_cmpint (chmod (fifo, 0620), ==, 0);
  g_assert_cmpint (link (original, hardlink), ==, 0);
  g_assert_cmpint (mknod (dev, S_IFCHR | 0666, makedev (1, 3)), ==, 0);
}

static void
test_ensure_copies_image_content (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *expected_dir = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *link_path = NULL;
  g_autofree char *link_target = NULL;
  g_autofree char *again = NULL;
  g_autofree char *listing = NULL;
  gboolean created = FALSE;

  build_image_tree (fx);
  data_dir = ctrd_volumes_ensure (fx->volumes, "vol1", fx->image, "/data", 1000, 1000, &created,
                                  NULL, &error);
  g_assert_no_error (error);
  expected_dir = g_build_filename (fx->storage, "volumes", "vol1", "_data", NULL);
  g_assert_cmpstr (data_dir, ==, expected_dir);
  g_assert_true (created);

  /* _data takes the image directory's owner and mode (addLocalVolumes) */
  assert_stat (data_dir, ".", S_IFDIR, 0750, 5, 6);
  assert_stat (data_dir, "file", S_IFREG, 0640, 1, 2);
  assert_stat (data_dir, "hardlink", S_IFREG, 0640, 1, 2);
  assert_stat (data_dir, "setuid", S_IFREG, 04755, 0, 0);
  assert_stat (data_dir, "sub/deeper", S_IFDIR, 0711, 7, 8);
  assert_stat (data_dir, "sub/deeper/leaf", S_IFREG, 0600, 9, 9);
  assert_stat (data_dir, "fifo", S_IFIFO, 0620, 0, 0);
  assert_stat (data_dir, "abs-link", S_IFLNK, 0, 0, 0);
  g_assert_false (path_exists (data_dir, "null"));
  contents = read_text (data_dir, "file");
  g_assert_cmpstr (contents, ==, "content\n");
  /* symlinks are copied as they are, never followed */
  link_path = make_path (data_dir, "rel-link");
  link_target = g_file_read_link (link_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (link_target, ==, "../../../../../outside/host-secret");

  /* second use: the same volume, not copied again */
  write_file (fx->image, "data/new-in-image", "x", 0644, 0, 0);
  again =
      ctrd_volumes_ensure (fx->volumes, "vol1", fx->image, "/data", 0, 0, &created, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, data_dir);
  g_assert_false (created);
  g_assert_false (path_exists (data_dir, "new-in-image"));

  /* no temporary directory is left behind */
  listing = ctrd_test_dir_listing (ctrd_volumes_get_dir (fx->volumes));
  g_assert_cmpstr (listing, ==, "vol1");
  assert_stat (fx->storage, "volumes/vol1/_data", S_IFDIR, 0750, 5, 6);
}

static void
test_ensure_without_image_dir (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *no_image = NULL;
  g_autofree char *listing = NULL;

  /* the image lacks the directory: an empty volume for the container's user */
  empty = ctrd_volumes_ensure (fx->volumes, "empty", fx->image, "/missing", 1000, 1001, NULL, NULL,
                               &error);
  g_assert_no_error (error);
  assert_stat (empty, ".", S_IFDIR, 0755, 1000, 1001);
  listing = ctrd_test_dir_listing (empty);
  g_assert_cmpstr (listing, ==, "");
  g_clear_pointer (&listing, g_free);

  /* the image's volume path is a symlink out of the image: the host's
   * directory must not be copied */
  make_symlink (fx->image, "evil", fx->outside);
  escaped =
      ctrd_volumes_ensure (fx->volumes, "escaped", fx->image, "/evil", 0, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  listing = ctrd_test_dir_listing (escaped);
  g_assert_cmpstr (listing, ==, "");
  g_clear_pointer (&listing, g_free);

  no_image = ctrd_volumes_ensure (fx->volumes, "named", NULL, "/x", 0, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_stat (no_image, ".", S_IFDIR, 0755, 0, 0);
}

static void
test_ensure_errors (Fixture *fx, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GString) deep = g_string_new ("data");
  g_autofree char *deep_path = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *result = NULL;

  for (int i = 0; i < 260; i++)
    g_string_append (deep, "/d");
  deep_path = make_path (fx->image, deep->str);
  g_assert_cmpint (g_mkdir_with_parents (deep_path, 0755), ==, 0);

  {
    g_autoptr (GError) error = NULL;

    result =
        ctrd_volumes_ensure (fx->volumes, "deep", fx->image, "/data", 0, 0, NULL, NULL, &error);
    g_assert_null (result);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
    g_assert_nonnull (strstr (error->message, "deep"));
  }
  {
    g_autoptr (GError) error = NULL;

    g_cancellable_cancel (cancellable);
    result = ctrd_volumes_ensure (fx->volumes, "cancelled", fx->image, "/data", 0, 0, NULL,
                                  cancellable, &error);
    g_assert_null (result);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  }
  {
    g_autoptr (GError) error = NULL;

    result = ctrd_volumes_ensure (fx->volumes, "../escape", fx->image, "/data", 0, 0, NULL, NULL,
                                  &error);
    g_assert_null (result);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    result = ctrd_volumes_ensure (fx->volumes, "rel", fx->image, "data", 0, 0, NULL, NULL, &error);
    g_assert_null (result);
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  }
  /* a failed copy leaves neither the volume nor its temporary directory */
  listing = ctrd_test_dir_listing (ctrd_volumes_get_dir (fx->volumes));
  g_assert_cmpstr (listing, ==, "");
  g_assert_false (ctrd_volumes_exists (fx->volumes, "deep"));
}

static void
test_list_and_remove (Fixture *fx, gconstpointer data)
{
  static const char *const expected[] = { "alpha", "beta", NULL };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree char *alpha = NULL;
  g_autofree char *beta = NULL;
  g_autofree char *outside_before = NULL;
  g_autofree char *outside_after = NULL;
  g_autofree char *listing = NULL;

  build_image_tree (fx);
  beta = ctrd_volumes_ensure (fx->volumes, "beta", fx->image, "/data", 0, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  alpha = ctrd_volumes_ensure (fx->volumes, "alpha", NULL, "/a", 0, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  /* the container may have planted a symlink to a host path in its volume */
  make_symlink (beta, "to-host", fx->outside);
  make_symlink (beta, "to-host-file", "../../../../outside/host-secret");

  names = ctrd_volumes_list (fx->volumes, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (names, expected);
  g_assert_true (ctrd_volumes_exists (fx->volumes, "beta"));
  g_assert_false (ctrd_volumes_exists (fx->volumes, "gamma"));
  g_assert_false (ctrd_volumes_exists (fx->volumes, "../storage"));

  outside_before = ctrd_test_dir_listing (fx->outside);
  g_assert_true (ctrd_volumes_remove (fx->volumes, "beta", NULL, &error));
  g_assert_no_error (error);
  outside_after = ctrd_test_dir_listing (fx->outside);
  g_assert_cmpstr (outside_after, ==, outside_before);
  g_assert_true (path_exists (fx->outside, "host-secret"));
  g_assert_false (ctrd_volumes_exists (fx->volumes, "beta"));
  listing = ctrd_test_dir_listing (ctrd_volumes_get_dir (fx->volumes));
  g_assert_cmpstr (listing, ==, "alpha");

  g_assert_false (ctrd_volumes_remove (fx->volumes, "beta", NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ctrd_volumes_remove (fx->volumes, "..", NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_file_test (fx->storage, G_FILE_TEST_IS_DIR));
}

/* A removal cancelled part way leaves no volume behind by that name: it was
 * moved aside before anything in it was removed. */
static void
test_remove_cancelled (Fixture *fx, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree char *path = NULL;

  build_image_tree (fx);
  path = ctrd_volumes_ensure (fx->volumes, "web", fx->image, "/data", 0, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (ctrd_volumes_remove (fx->volumes, "web", cancellable, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  g_assert_false (ctrd_volumes_exists (fx->volumes, "web"));
  names = ctrd_volumes_list (fx->volumes, NULL);
  g_assert_cmpstrv (names, (const char *const[]){ NULL });
}

static void
test_prepare_mount (Fixture *fx, gconstpointer data)
{
  static const char *const options[] = { "nosuid", NULL };
  g_autoptr (CtrdMount) volume =
      ctrd_mount_new (CTRD_MOUNT_VOLUME, "web-data", "/srv/data", TRUE, options);
  g_autoptr (CtrdMount) tmpfs = ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/scratch", FALSE, NULL);
  g_autoptr (CtrdMount) prepared = NULL;
  g_autoptr (CtrdMount) copied = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;

  make_dir (fx->image, "srv/data", 0700, 33, 33);
  prepared = ctrd_volumes_prepare_mount (fx->volumes, volume, fx->image, 0, 0, NULL, &error);
  g_assert_no_error (error);
  expected = g_build_filename (fx->storage, "volumes", "web-data", "_data", NULL);
  g_assert_cmpint (prepared->type, ==, CTRD_MOUNT_BIND);
  g_assert_cmpstr (prepared->source, ==, expected);
  g_assert_cmpstr (prepared->destination, ==, "/srv/data");
  g_assert_true (prepared->read_only);
  g_assert_cmpstrv (prepared->options, options);
  assert_stat (expected, ".", S_IFDIR, 0700, 33, 33);

  copied = ctrd_volumes_prepare_mount (fx->volumes, tmpfs, fx->image, 0, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (copied->type, ==, CTRD_MOUNT_TMPFS);
  g_assert_cmpstr (copied->destination, ==, "/scratch");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/volumes/new-layout", test_new_layout);
  ADD ("/volumes/ensure/copies-image-content", test_ensure_copies_image_content);
  ADD ("/volumes/ensure/without-image-dir", test_ensure_without_image_dir);
  ADD ("/volumes/ensure/errors", test_ensure_errors);
  ADD ("/volumes/list-and-remove", test_list_and_remove);
  ADD ("/volumes/remove-cancelled", test_remove_cancelled);
  ADD ("/volumes/prepare-mount", test_prepare_mount);
#undef ADD

  return g_test_run ();
}
