/* Unit tests for ctrd-mounts: mount types, destinations, bind sources,
 * options, volume names and the image's Volumes. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ctrd-bind-source.h"
#include "ctrd-error.h"
#include "ctrd-mounts.h"
#include "ctrd-util.h"

typedef struct
{
  char *tmpdir;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = g_dir_make_tmp ("test-mounts-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  /* each case removes what it made; anything left is a bug rmdir reveals */
  g_assert_cmpint (g_rmdir (fx->tmpdir), ==, 0);
  g_free (fx->tmpdir);
}

/* What the spec re-checks of a stored mount, without the file system: a
 * record that was changed behind the daemon's back is refused, not mounted. */
static void
test_for_spec_rejects (void)
{
  static const char *const bad_opts[] = { "size=1g", NULL };
  static const char *const tmpfs_opts[] = { "tmpcopyup", "mode=700", NULL };
  g_autoptr (CtrdMount) relative = ctrd_mount_new (CTRD_MOUNT_BIND, "srv", "/data", FALSE, NULL);
  g_autoptr (CtrdMount) dotdot = ctrd_mount_new (CTRD_MOUNT_BIND, "/srv/../etc", "/d", FALSE, NULL);
  g_autoptr (CtrdMount) proc = ctrd_mount_new (CTRD_MOUNT_BIND, "/proc/1", "/data", FALSE, NULL);
  g_autoptr (CtrdMount) reserved = ctrd_mount_new (CTRD_MOUNT_BIND, "/srv", "/sys/x", FALSE, NULL);
  g_autoptr (CtrdMount) sized_bind =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/srv", "/data", FALSE, bad_opts);
  g_autoptr (CtrdMount) missing = ctrd_mount_new (CTRD_MOUNT_BIND, "/nonexistent", "/d", TRUE, NULL);
  g_autoptr (CtrdMount) tmpfs = ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/t//", FALSE, tmpfs_opts);
  const CtrdMount *bad[] = { relative, dotdot, proc, reserved, sized_bind };
  const char *const expected_tmpfs[] = { "tmpcopyup", "mode=700", "rw", "rprivate", "nosuid",
                                         "nodev", NULL };
  g_autofree char *destination = NULL;
  g_auto (GStrv) options = NULL;
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *bad_destination = NULL;
      g_auto (GStrv) bad_options = NULL;
      g_autoptr (GError) bad_error = NULL;

      g_test_message ("mount %s -> %s", bad[i]->source, bad[i]->destination);
      g_assert_false (ctrd_mount_for_spec (bad[i], &bad_destination, &bad_options, &bad_error));
      g_assert_error (bad_error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (bad_destination);
      g_assert_null (bad_options);
    }

  /* syntax only: a source that does not exist is the runtime's to find */
  g_assert_true (ctrd_mount_for_spec (missing, &destination, &options, &error));
  g_assert_no_error (error);
  g_clear_pointer (&destination, g_free);
  g_clear_pointer (&options, g_strfreev);
  g_assert_true (ctrd_mount_for_spec (tmpfs, &destination, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (destination, ==, "/t");
  g_assert_cmpstrv (options, expected_tmpfs);
}

static void
test_types_and_copies (void)
{
  static const char *const options[] = { "ro", NULL };
  g_autoptr (CtrdMount) mount = ctrd_mount_new (CTRD_MOUNT_VOLUME, "v", "/v", TRUE, options);
  g_autoptr (CtrdMount) copy = NULL;
  g_autoptr (CtrdMount) defaults = ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/t", FALSE, NULL);
  CtrdMountType type;

  for (CtrdMountType t = CTRD_MOUNT_BIND; t <= CTRD_MOUNT_VOLUME; t++)
    {
      g_assert_true (ctrd_mount_type_from_string (ctrd_mount_type_to_string (t), &type));
      g_assert_cmpint (type, ==, t);
    }
  g_assert_false (ctrd_mount_type_from_string ("nfs", &type));
  g_assert_false (ctrd_mount_type_from_string (NULL, &type));
  g_assert_cmpstr (ctrd_mount_type_to_string ((CtrdMountType) 42), ==, "unknown");

  mount->anonymous = TRUE;
  copy = ctrd_mount_copy (mount);
  g_assert_cmpint (copy->type, ==, CTRD_MOUNT_VOLUME);
  g_assert_cmpstr (copy->source, ==, "v");
  g_assert_cmpstr (copy->destination, ==, "/v");
  g_assert_true (copy->read_only && copy->anonymous);
  g_assert_cmpstrv (copy->options, options);
  g_assert_true (copy->options != mount->options);

  g_assert_cmpstr (defaults->source, ==, "");
  g_assert_nonnull (defaults->options);
  g_assert_null (defaults->options[0]);
}

static void
test_names (void)
{
  static const char *const good[] = { "data", "a", "my_vol.1-x", "0abc", NULL };
  static const char *const bad[] = { "", ".hidden", "-x", "a/b", "..", "a b", "ü", "x\n", NULL };
  g_autofree char *longest = g_strnfill (128, 'v');
  g_autofree char *too_long = g_strnfill (129, 'v');
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; good[i] != NULL; i++)
    g_assert_true (ctrd_volume_validate_name (good[i], NULL));
  g_assert_true (ctrd_volume_validate_name (longest, NULL));
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) bad_error = NULL;

      g_assert_false (ctrd_volume_validate_name (bad[i], &bad_error));
      g_assert_error (bad_error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (strchr (bad_error->message, '\n'));
    }
  g_assert_false (ctrd_volume_validate_name (too_long, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
}

static void
test_normalize_destination (void)
{
  static const char *const good[][2] = {
    { "/data", "/data" },
    { "/data//x/./", "/data/x" },
    { "/dev/shm", "/dev/shm" },
    { "/dev/fuse", "/dev/fuse" },
    { "/run/secrets", "/run/secrets" },
    { "/processes", "/processes" },
    { "/system", "/system" },
  };
  static const char *const bad[] = {
    "data",    "",        "/",     "//",       "/.",         "/proc",       "/proc/self/fd/3",
    "/sys",    "/sys/fs", "/dev",  "/dev/pts", "/dev/pts/0", "/dev/mqueue", "/../x",
    "/a/../b", "/a\nb",   "/a\tb", NULL,
  };
  g_autofree char *too_long = g_strnfill (5000, 'a');

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *normal =
          ctrd_mount_normalize_destination (good[i][0], "Mount destination", &error);

      g_assert_no_error (error);
      g_assert_cmpstr (normal, ==, good[i][1]);
    }
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *normal =
          ctrd_mount_normalize_destination (bad[i], "Mount destination", &error);

      g_test_message ("destination %s", bad[i]);
      g_assert_null (normal);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "Mount destination"));
      g_assert_null (strchr (error->message, '\n'));
    }
  too_long[0] = '/';
  g_assert_null (ctrd_mount_normalize_destination (too_long, "Mount destination", NULL));
  g_assert_null (ctrd_mount_normalize_destination (NULL, "Mount destination", NULL));
}

static void
test_check_mount (Fixture *fx, gconstpointer data)
{
  static const char *const tmpfs_opts[] = { "size=64m", "mode=1777", "notmpcopyup", NULL };
  g_autofree char *real_dir = g_build_filename (fx->tmpdir, "real", NULL);
  g_autofree char *link = g_build_filename (fx->tmpdir, "link", NULL);
  g_autofree char *protected_dir = g_build_filename (fx->tmpdir, "storage", NULL);
  g_autofree char *inside_protected = g_build_filename (protected_dir, "containers", NULL);
  g_autofree char *link_source = g_strconcat (link, "/", NULL);
  const char *const protected[] = { protected_dir, NULL };
  g_autoptr (CtrdMount) bind = ctrd_mount_new (CTRD_MOUNT_BIND, link_source, "/data/", TRUE, NULL);
  g_autoptr (CtrdMount) tmpfs =
      ctrd_mount_new (CTRD_MOUNT_TMPFS, "tmpfs", "/scratch", FALSE, tmpfs_opts);
  g_autoptr (CtrdMount) volume =
      ctrd_mount_new (CTRD_MOUNT_VOLUME, "web-data", "/srv", FALSE, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *bind_destination = NULL;
  g_autofree char *tmpfs_destination = NULL;
  g_auto (GStrv) bind_options = NULL;
  g_auto (GStrv) tmpfs_options = NULL;
  const char *const expected_bind_options[] = { "ro", "rprivate", "rbind", NULL };
  const char *const expected_tmpfs_options[] = {
    "size=64m", "mode=1777", "rw", "rprivate", "nosuid", "nodev", NULL,
  };

  g_assert_cmpint (g_mkdir (real_dir, 0755), ==, 0);
  g_assert_cmpint (symlink (real_dir, link), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (inside_protected, 0700), ==, 0);

  /* by its words only: the source is normalised, never resolved (opening it
   * without symlinks is ctrd_bind_source_open's, after authorization) */
  g_assert_true (ctrd_mount_check (bind, protected, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bind->source, ==, link);
  g_assert_cmpstr (bind->destination, ==, "/data");
  g_assert_true (ctrd_mount_check (tmpfs, protected, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tmpfs->source, ==, "");
  g_assert_true (ctrd_mount_check (volume, protected, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (volume->source, ==, "web-data");

  /* and the options that reach the spec: podman's defaults fill in */
  g_assert_true (ctrd_mount_for_spec (bind, &bind_destination, &bind_options, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bind_destination, ==, "/data");
  g_assert_cmpstrv (bind_options, expected_bind_options);
  g_assert_true (ctrd_mount_for_spec (tmpfs, &tmpfs_destination, &tmpfs_options, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tmpfs_destination, ==, "/scratch");
  g_assert_cmpstrv (tmpfs_options, expected_tmpfs_options);

  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (g_rmdir (real_dir), ==, 0);
  g_assert_cmpint (g_rmdir (inside_protected), ==, 0);
  g_assert_cmpint (g_rmdir (protected_dir), ==, 0);
}

typedef struct
{
  CtrdMountType type;
  const char *source; /* "@" = the fixture's directory, "@/x" below it */
  const char *destination;
  gboolean read_only;
  const char *options; /* comma-separated */
} BadMount;

static void
test_check_mount_rejects (Fixture *fx, gconstpointer data)
{
  static const BadMount cases[] = {
    { CTRD_MOUNT_BIND, "relative/dir", "/data", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@/../etc", "/data", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/", "/host", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/run", "/host", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/run/dbus", "/host", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/sys/kernel", "/host", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/dev", "/host", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@/..", "/host", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/proc/self", "/p", FALSE, NULL },
    { CTRD_MOUNT_BIND, "/proc/self/fd/0", "/p", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@/storage", "/s", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@/storage/containers", "/s", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@", "../data", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@", "/proc/self/fd/3", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@", "/", FALSE, NULL },
    { CTRD_MOUNT_BIND, "@", "/data", FALSE, "size=1g" },
    { CTRD_MOUNT_BIND, "@", "/data", FALSE, "z" },
    { CTRD_MOUNT_BIND, "@", "/data", FALSE, "ro,rw" },
    { CTRD_MOUNT_BIND, "@", "/data", TRUE, "rw" },
    { CTRD_MOUNT_BIND, "@", "/data", FALSE, "shared,private" },
    { CTRD_MOUNT_BIND, "@", "/data", FALSE, "tmpcopyup" },
    { CTRD_MOUNT_TMPFS, "", "/t", FALSE, "bind" },
    { CTRD_MOUNT_TMPFS, "", "/t", FALSE, "size=lots" },
    { CTRD_MOUNT_TMPFS, "", "/t", FALSE, "size=1g,size=2g" },
    { CTRD_MOUNT_TMPFS, "", "/t", FALSE, "mode=999" },
    { CTRD_MOUNT_TMPFS, "", "/t", FALSE, "size=1x" },
    { CTRD_MOUNT_TMPFS, "/srv", "/t", FALSE, NULL },
    { CTRD_MOUNT_VOLUME, "../x", "/v", FALSE, NULL },
    { CTRD_MOUNT_VOLUME, "", "/v", FALSE, NULL },
    { CTRD_MOUNT_VOLUME, "v", "/v", FALSE, "mode=755" },
  };
  g_autofree char *storage = g_build_filename (fx->tmpdir, "storage", NULL);
  g_autofree char *containers = g_build_filename (storage, "containers", NULL);
  g_autofree char *to_root = g_build_filename (fx->tmpdir, "to-root", NULL);
  g_autofree char *to_storage = g_build_filename (fx->tmpdir, "to-storage", NULL);
  const char *const protected[] = { storage, NULL };

  g_assert_cmpint (g_mkdir_with_parents (containers, 0700), ==, 0);
  g_assert_cmpint (symlink ("/", to_root), ==, 0);
  g_assert_cmpint (symlink (containers, to_storage), ==, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *source = NULL;
      g_auto (GStrv) options = NULL;
      g_autoptr (CtrdMount) mount = NULL;
      g_autoptr (GError) error = NULL;

      if (cases[i].source[0] == '@')
        source = g_strconcat (fx->tmpdir, cases[i].source + 1, NULL);
      else
        source = g_strdup (cases[i].source);
      if (cases[i].options != NULL)
        options = g_strsplit (cases[i].options, ",", -1);
      mount = ctrd_mount_new (cases[i].type, source, cases[i].destination, cases[i].read_only,
                              (const char *const *) options);
      g_test_message ("mount %s -> %s (%s)", source, cases[i].destination,
                      cases[i].options != NULL ? cases[i].options : "");
      g_assert_false (ctrd_mount_check (mount, protected, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      /* untouched on failure */
      g_assert_cmpstr (mount->source, ==, source);
      g_assert_cmpstr (mount->destination, ==, cases[i].destination);
    }

  g_assert_cmpint (g_unlink (to_root), ==, 0);
  g_assert_cmpint (g_unlink (to_storage), ==, 0);
  g_assert_cmpint (g_rmdir (containers), ==, 0);
  g_assert_cmpint (g_rmdir (storage), ==, 0);
}

static void
test_check_mounts_duplicates (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/data", FALSE, NULL));
  g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_VOLUME, "v", "/other", FALSE, NULL));
  g_assert_true (ctrd_mounts_check (mounts, NULL, &error));
  g_assert_no_error (error);

  /* "/data/" is "/data" once normalised */
  g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_VOLUME, "w", "/data/", FALSE, NULL));
  g_assert_false (ctrd_mounts_check (mounts, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "/data"));
}

static void
test_image_volumes (void)
{
  static const char *const image_volumes[] = { "/data/", "/cache", "/data", "/logs", NULL };
  static const char *const bad_volumes[] = { "/ok", "/../../etc", NULL };
  static const char *const more_bad[] = { "relative", "/proc/self/fd/3", "/", NULL };
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_autoptr (GError) error = NULL;
  const CtrdMount *data_mount, *logs_mount;

  g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/cache", FALSE, NULL));
  g_assert_true (ctrd_mounts_add_image_volumes (mounts, image_volumes, &error));
  g_assert_no_error (error);
  /* /cache is the user's already; /data once, normalised */
  g_assert_cmpuint (mounts->len, ==, 3);
  data_mount = g_ptr_array_index (mounts, 1);
  logs_mount = g_ptr_array_index (mounts, 2);
  g_assert_cmpint (data_mount->type, ==, CTRD_MOUNT_VOLUME);
  g_assert_cmpstr (data_mount->destination, ==, "/data");
  g_assert_true (data_mount->anonymous);
  g_assert_true (ctrd_is_full_id (data_mount->source));
  g_assert_cmpstr (logs_mount->destination, ==, "/logs");
  g_assert_cmpstr (data_mount->source, !=, logs_mount->source);
  g_assert_false (((CtrdMount *) g_ptr_array_index (mounts, 0))->anonymous);

  /* an image volume path is untrusted: a bad one fails and adds nothing */
  g_assert_false (ctrd_mounts_add_image_volumes (mounts, bad_volumes, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (mounts->len, ==, 3);
  for (gsize i = 0; more_bad[i] != NULL; i++)
    {
      const char *const one[] = { more_bad[i], NULL };
      g_autoptr (GError) bad_error = NULL;

      g_assert_false (ctrd_mounts_add_image_volumes (mounts, one, &bad_error));
      g_assert_error (bad_error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    }
  g_assert_cmpuint (mounts->len, ==, 3);
}

/* Opening a bind source: no symlink anywhere, the rules checked on the fd. */
static void
test_bind_source_open (Fixture *fx, gconstpointer data)
{
  g_autofree char *real_dir = g_build_filename (fx->tmpdir, "real", NULL);
  g_autofree char *inner = g_build_filename (real_dir, "inner", NULL);
  g_autofree char *file = g_build_filename (real_dir, "file", NULL);
  g_autofree char *link = g_build_filename (fx->tmpdir, "link", NULL);
  g_autofree char *through_link = g_build_filename (link, "inner", NULL);
  g_autofree char *missing = g_build_filename (fx->tmpdir, "missing", NULL);
  g_autofree char *storage = g_build_filename (fx->tmpdir, "storage", NULL);
  g_autofree char *to_root = g_build_filename (fx->tmpdir, "to-root", NULL);
  const char *const protected[] = { storage, NULL };
  const char *const allowed[] = { real_dir, NULL };
  CtrdBindRules rules = { .allowed = allowed, .protected_dirs = protected };
  const struct
  {
    const char *source;
    gboolean host_access;
    const char *problem;
  } refused[] = {
    { link, TRUE, "symbolic link" },
    { through_link, TRUE, "symbolic link" },
    { to_root, TRUE, "symbolic link" },
    { missing, TRUE, "does not exist" },
    { fx->tmpdir, TRUE, "contains" },
    { storage, TRUE, "is " },
    { "/", TRUE, "is /" },
    { "/proc/self", TRUE, "symbolic link" },
    { "/proc/1", TRUE, "kernel interface" },
    { "/sys/kernel", TRUE, "kernel interface" },
    { fx->tmpdir, FALSE, "AllowedBindSources" },
    { link, FALSE, "AllowedBindSources" },
  };

  g_assert_cmpint (g_mkdir_with_parents (inner, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (storage, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_cmpint (symlink (real_dir, link), ==, 0);
  g_assert_cmpint (symlink ("/", to_root), ==, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("bind source %s (host access %d)", refused[i].source,
                      refused[i].host_access);
      g_assert_cmpint (ctrd_bind_source_open (refused[i].source, &rules, refused[i].host_access,
                                              &error), ==, -1);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, refused[i].problem));
    }

  /* allowed ones open, beneath their AllowedBindSources entry or anywhere
   * else with host access */
  for (gsize i = 0; i < 2; i++)
    {
      const char *sources[] = { real_dir, inner, file };

      for (gsize k = 0; k < G_N_ELEMENTS (sources); k++)
        {
          g_autoptr (GError) error = NULL;
          int fd = ctrd_bind_source_open (sources[k], &rules, i == 0, &error);

          g_assert_no_error (error);
          g_assert_cmpint (fd, >=, 0);
          close (fd);
        }
    }
  g_assert_true (ctrd_bind_source_is_allowed (inner, allowed));
  g_assert_false (ctrd_bind_source_is_allowed (fx->tmpdir, allowed));

  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (g_unlink (to_root), ==, 0);
  g_assert_cmpint (g_unlink (file), ==, 0);
  g_assert_cmpint (g_rmdir (inner), ==, 0);
  g_assert_cmpint (g_rmdir (real_dir), ==, 0);
  g_assert_cmpint (g_rmdir (storage), ==, 0);
}

/* As root: the staged mount is the directory that was opened, whatever the
 * path names afterwards, with nosuid,nodev without host access. */
static void
test_bind_source_stage (Fixture *fx, gconstpointer data)
{
  g_autofree char *real_dir = g_build_filename (fx->tmpdir, "real", NULL);
  g_autofree char *moved = g_build_filename (fx->tmpdir, "moved", NULL);
  g_autofree char *marker = g_build_filename (real_dir, "marker", NULL);
  g_autofree char *moved_marker = g_build_filename (moved, "marker", NULL);
  g_autofree char *staging = g_build_filename (fx->tmpdir, "binds", NULL);
  g_autofree char *staged_marker = g_build_filename (staging, "0", "marker", NULL);
  const char *const allowed[] = { fx->tmpdir, NULL };
  CtrdBindRules rules = { .allowed = allowed };
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_autoptr (GError) error = NULL;
  CtrdMount *bind;

  if (geteuid () != 0)
    {
      g_test_skip ("mounting needs root");
      return;
    }
  g_assert_cmpint (g_mkdir (real_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (marker, "x", 1, NULL));
  g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_BIND, real_dir, "/data", FALSE, NULL));
  g_assert_true (ctrd_bind_sources_stage (mounts, &rules, FALSE, staging, &error));
  g_assert_no_error (error);
  bind = g_ptr_array_index (mounts, 0);
  g_assert_true (g_str_has_prefix (bind->source, staging));
  g_assert_true (g_strv_contains ((const char *const *) bind->options, "nosuid"));
  g_assert_true (g_strv_contains ((const char *const *) bind->options, "nodev"));

  /* swapped after the check: the staged mount is still the original */
  g_assert_cmpint (g_rename (real_dir, moved), ==, 0);
  g_assert_cmpint (symlink ("/", real_dir), ==, 0);
  g_assert_true (g_file_test (staged_marker, G_FILE_TEST_IS_REGULAR));

  ctrd_bind_sources_unstage (staging);
  g_assert_false (g_file_test (staging, G_FILE_TEST_EXISTS));

  /* and the next start refuses the symlink, leaving nothing mounted */
  g_ptr_array_set_size (mounts, 0);
  g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_BIND, real_dir, "/data", FALSE, NULL));
  g_assert_false (ctrd_bind_sources_stage (mounts, &rules, FALSE, staging, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (staging, G_FILE_TEST_EXISTS));

  g_assert_cmpint (g_unlink (real_dir), ==, 0);
  g_assert_cmpint (g_unlink (moved_marker), ==, 0);
  g_assert_cmpint (g_rmdir (moved), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  g_test_add_func ("/mounts/types-and-copies", test_types_and_copies);
  g_test_add_func ("/mounts/volume-names", test_names);
  g_test_add_func ("/mounts/normalize-destination", test_normalize_destination);
  ADD ("/mounts/check", test_check_mount);
  ADD ("/mounts/check-rejects", test_check_mount_rejects);
  ADD ("/mounts/check-duplicates", test_check_mounts_duplicates);
  ADD ("/mounts/bind-source-open", test_bind_source_open);
  ADD ("/mounts/bind-source-stage", test_bind_source_stage);
  g_test_add_func ("/mounts/for-spec-rejects", test_for_spec_rejects);
  g_test_add_func ("/mounts/image-volumes", test_image_volumes);
#undef ADD

  return g_test_run ();
}
