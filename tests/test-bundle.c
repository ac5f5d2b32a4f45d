/* Unit tests for ctrd-bundle: the init step before the runtime, on a plain
 * directory standing for the mounted root. Checks what lands on disk: the
 * generated files, the volumes, the kept hooks and config.json. No bus, no
 * runtime. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctrd-bundle.h"
#include "ctrd-error.h"
#include "ctrd-hooks.h"
#include "ctrd-test-util.h"

#define TEST_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TEST_IMAGE_ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

typedef struct
{
  char *tmpdir;
  char *rootfs;     /* stands for the mounted overlay */
  char *run_dir;    /* stands for /run/containersd/containers/<id> */
  char *bundle_dir; /* stands for /var/lib/containersd/containers/<id> */
  char *hooks_dir;
  char *host_resolv_conf;
  char *host_hosts;
  const char *hooks_dirs[2];
  CtrdVolumes *volumes;
  CtrdContainerConfig *config;
} Fixture;

static void
replace_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  const char *const command[] = { "/bin/sh", "-c", "echo hi", NULL };
  const char *const env[] = { "PATH=/usr/bin:/bin", "GREETING=hello", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  fx->tmpdir = ctrd_test_make_tmpdir ("test-bundle-XXXXXX");
  fx->rootfs = g_build_filename (fx->tmpdir, "rootfs", NULL);
  fx->run_dir = g_build_filename (fx->tmpdir, "run", NULL);
  fx->bundle_dir = g_build_filename (fx->tmpdir, "bundle", NULL);
  fx->hooks_dir = g_build_filename (fx->tmpdir, "hooks.d", NULL);
  fx->host_resolv_conf = g_build_filename (fx->tmpdir, "host-resolv.conf", NULL);
  fx->host_hosts = g_build_filename (fx->tmpdir, "host-hosts", NULL);
  fx->hooks_dirs[0] = fx->hooks_dir;
  g_assert_cmpint (g_mkdir_with_parents (fx->run_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (fx->bundle_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (fx->hooks_dir, 0755), ==, 0);

  /* The image: a user "app" and a directory the image declares a volume on. */
  path = g_build_filename (fx->rootfs, "etc", "passwd", NULL);
  ctrd_test_write_file (
      path, "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n", 0644);
  g_clear_pointer (&path, g_free);
  path = g_build_filename (fx->rootfs, "etc", "group", NULL);
  ctrd_test_write_file (path, "root:x:0:\napp:x:1001:\nextra:x:29:app\n", 0644);
  g_clear_pointer (&path, g_free);
  path = g_build_filename (fx->rootfs, "data", "seed.txt", NULL);
  ctrd_test_write_file (path, "from the image\n", 0644);

  ctrd_test_write_file (fx->host_resolv_conf,
                        "nameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch example.org\n", 0644);
  ctrd_test_write_file (fx->host_hosts, "127.0.0.1 localhost\n", 0644);

  fx->volumes = ctrd_volumes_new (fx->tmpdir, &error);
  g_assert_no_error (error);

  fx->config = ctrd_container_config_new ();
  replace_string (&fx->config->id, TEST_ID);
  replace_string (&fx->config->name, "web-1");
  replace_string (&fx->config->image_id, TEST_IMAGE_ID);
  replace_string (&fx->config->image_name, "busybox:latest");
  replace_string (&fx->config->hostname, "webhost");
  replace_string (&fx->config->working_dir, "/srv/app");
  g_strfreev (fx->config->command);
  fx->config->command = g_strdupv ((char **) command);
  g_strfreev (fx->config->env);
  fx->config->env = g_strdupv ((char **) env);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  ctrd_test_rm_rf (fx->tmpdir);
  g_clear_pointer (&fx->config, ctrd_container_config_free);
  g_clear_pointer (&fx->volumes, ctrd_volumes_free);
  g_free (fx->tmpdir);
  g_free (fx->rootfs);
  g_free (fx->run_dir);
  g_free (fx->bundle_dir);
  g_free (fx->hooks_dir);
  g_free (fx->host_resolv_conf);
  g_free (fx->host_hosts);
}

static gboolean
prepare (Fixture *fx, GError **error)
{
  CtrdBundleRequest request = { 0 };

  request.config = fx->config;
  request.volumes = fx->volumes;
  request.rootfs = fx->rootfs;
  request.run_dir = fx->run_dir;
  request.bundle_dir = fx->bundle_dir;
  request.hooks_dirs = fx->hooks_dirs;
  request.host_resolv_conf = fx->host_resolv_conf;
  request.host_hosts = fx->host_hosts;
  return ctrd_bundle_prepare (&request, NULL, error);
}

static JsonObject *
load_spec (Fixture *fx, JsonParser *parser)
{
  g_autofree char *path = g_build_filename (fx->bundle_dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static char *
join_string_array (JsonArray *array)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();

  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (parts, (gpointer) json_array_get_string_element (array, i));
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("|", (char **) parts->pdata);
}

/* The mount of the spec at @destination, or NULL. */
static JsonObject *
find_mount (JsonObject *spec, const char *destination)
{
  JsonArray *mounts = json_object_get_array_member (spec, "mounts");

  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      JsonObject *mount = json_array_get_object_element (mounts, i);
      if (g_strcmp0 (json_object_get_string_member (mount, "destination"), destination) == 0)
        return mount;
    }
  return NULL;
}

/* The spec runs the container's argv, env, cwd and host name on the root. */
static void
test_spec (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *args = NULL;
  g_autofree char *env = NULL;
  JsonObject *spec, *process, *root, *user;

  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);

  spec = load_spec (fx, parser);
  process = json_object_get_object_member (spec, "process");
  root = json_object_get_object_member (spec, "root");
  user = json_object_get_object_member (process, "user");
  args = join_string_array (json_object_get_array_member (process, "args"));
  env = join_string_array (json_object_get_array_member (process, "env"));
  g_assert_cmpstr (args, ==, "/bin/sh|-c|echo hi");
  g_assert_nonnull (strstr (env, "GREETING=hello"));
  g_assert_cmpstr (json_object_get_string_member (process, "cwd"), ==, "/srv/app");
  g_assert_cmpint (json_object_get_int_member (user, "uid"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (user, "gid"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (root, "path"), ==, fx->rootfs);
  g_assert_cmpstr (json_object_get_string_member (spec, "hostname"), ==, "webhost");
  g_assert_nonnull (strstr (
      json_object_get_string_member (json_object_get_object_member (spec, "linux"), "cgroupsPath"),
      TEST_ID));

  /* the working directory was made in the root */
  {
    g_autofree char *workdir = g_build_filename (fx->rootfs, "srv", "app", NULL);
    g_assert_true (g_file_test (workdir, G_FILE_TEST_IS_DIR));
  }
}

/* The generated files land in the run dir and the spec binds them in. */
static void
test_generated_files (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *hostname = NULL;
  g_autofree char *resolv = NULL;
  g_autofree char *hosts = NULL;
  g_autofree char *containerenv = NULL;
  static const char *const bound[] = { "/etc/resolv.conf", "/etc/hosts", "/etc/hostname",
                                       "/run/.containerenv" };
  JsonObject *spec;

  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);

  hostname = ctrd_test_read_file_in (fx->run_dir, "hostname");
  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  hosts = ctrd_test_read_file_in (fx->run_dir, "hosts");
  containerenv = ctrd_test_read_file_in (fx->run_dir, ".containerenv");
  g_assert_cmpstr (hostname, ==, "webhost\n");
  /* the host's resolver minus its localhost server */
  g_assert_null (strstr (resolv, "127.0.0.53"));
  g_assert_nonnull (strstr (resolv, "192.0.2.1"));
  g_assert_nonnull (strstr (hosts, "webhost"));
  g_assert_nonnull (strstr (containerenv, TEST_ID));

  spec = load_spec (fx, parser);
  for (guint i = 0; i < G_N_ELEMENTS (bound); i++)
    {
      JsonObject *mount = find_mount (spec, bound[i]);
      g_assert_nonnull (mount);
      g_assert_true (
          g_str_has_prefix (json_object_get_string_member (mount, "source"), fx->run_dir));
    }
}

/* A named user: its ids reach the spec and own the working directory. */
static void
test_user (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *workdir = g_build_filename (fx->rootfs, "srv", "app", NULL);
  JsonObject *user;
  JsonArray *gids;
  struct stat st;

  replace_string (&fx->config->user, "app");
  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);

  user = json_object_get_object_member (
      json_object_get_object_member (load_spec (fx, parser), "process"), "user");
  g_assert_cmpint (json_object_get_int_member (user, "uid"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (user, "gid"), ==, 1001);
  gids = json_object_get_array_member (user, "additionalGids");
  g_assert_nonnull (gids);
  g_assert_cmpuint (json_array_get_length (gids), >=, 1);
  g_assert_cmpint (stat (workdir, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, 1000);
  g_assert_cmpuint (st.st_gid, ==, 1001);
}

/* A user the image does not have: INVALID_ARGUMENT, and no spec is written. */
static void
test_unknown_user (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *spec_path = g_build_filename (fx->bundle_dir, "config.json", NULL);
  g_autofree char *workdir = g_build_filename (fx->rootfs, "srv", NULL);

  replace_string (&fx->config->user, "nosuch");
  g_assert_false (prepare (fx, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "nosuch"));
  g_assert_false (g_file_test (spec_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (workdir, G_FILE_TEST_EXISTS));
}

/* A volume mount: the volume is made, filled from the image's directory on
 * first use, and bound in from its _data. */
static void
test_volume (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *seed = NULL;
  g_autofree char *data_dir = NULL;
  JsonObject *mount;

  g_ptr_array_add (fx->config->mounts,
                   ctrd_mount_new (CTRD_MOUNT_VOLUME, "webdata", "/data", FALSE, NULL));
  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);

  g_assert_true (ctrd_volumes_exists (fx->volumes, "webdata"));
  data_dir = g_build_filename (ctrd_volumes_get_dir (fx->volumes), "webdata", "_data", NULL);
  seed = ctrd_test_read_file_in (data_dir, "seed.txt");
  g_assert_cmpstr (seed, ==, "from the image\n");

  mount = find_mount (load_spec (fx, parser), "/data");
  g_assert_nonnull (mount);
  g_assert_cmpstr (json_object_get_string_member (mount, "source"), ==, data_dir);
}

/* Matched hooks: all stages are kept in the run dir, the spec gets every
 * stage but poststop (the daemon runs those itself). */
static void
test_hooks (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *hook_program = g_build_filename (fx->tmpdir, "hook.sh", NULL);
  g_autofree char *hook_file = g_build_filename (fx->hooks_dir, "10-test.json", NULL);
  g_autofree char *never_file = g_build_filename (fx->hooks_dir, "20-never.json", NULL);
  g_autofree char *hook_json = NULL;
  g_autofree char *never_json = NULL;
  g_autofree char *kept = NULL;
  g_autoptr (CtrdHookSet) set = NULL;
  JsonObject *hooks;

  ctrd_test_write_file (hook_program, "#!/bin/sh\nexit 0\n", 0755);
  hook_json = g_strdup_printf ("{\"version\": \"1.0.0\", \"hook\": {\"path\": \"%s\"}, "
                               "\"when\": {\"always\": true}, "
                               "\"stages\": [\"prestart\", \"poststop\"]}",
                               hook_program);
  never_json = g_strdup_printf ("{\"version\": \"1.0.0\", \"hook\": {\"path\": \"%s\"}, "
                                "\"when\": {\"commands\": [\"^/nothing$\"]}, "
                                "\"stages\": [\"createRuntime\"]}",
                                hook_program);
  ctrd_test_write_file (hook_file, hook_json, 0644);
  ctrd_test_write_file (never_file, never_json, 0644);
  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);

  kept = ctrd_test_read_file_in (fx->run_dir, CTRD_BUNDLE_HOOKS_FILE);
  set = ctrd_hook_set_from_json (kept, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->stages[CTRD_HOOK_PRESTART]->len, ==, 1);
  g_assert_cmpuint (set->stages[CTRD_HOOK_POSTSTOP]->len, ==, 1);
  g_assert_cmpuint (set->stages[CTRD_HOOK_CREATE_RUNTIME]->len, ==, 0);

  hooks = json_object_get_object_member (load_spec (fx, parser), "hooks");
  g_assert_nonnull (hooks);
  g_assert_true (json_object_has_member (hooks, "prestart"));
  g_assert_false (json_object_has_member (hooks, "poststop"));
  g_assert_false (json_object_has_member (hooks, "createRuntime"));
}

/* No hook matches: the kept set is empty and the spec has no hooks. */
static void
test_no_hooks (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *kept = NULL;
  g_autoptr (CtrdHookSet) set = NULL;

  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);
  kept = ctrd_test_read_file_in (fx->run_dir, CTRD_BUNDLE_HOOKS_FILE);
  set = ctrd_hook_set_from_json (kept, &error);
  g_assert_no_error (error);
  g_assert_true (ctrd_hook_set_is_empty (set));
  g_assert_false (json_object_has_member (load_spec (fx, parser), "hooks"));
}

/* Every start prepares again: a second run replaces the files with the
 * current config (here a new host name) and leaves nothing else behind. */
static void
test_prepare_again (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *run_listing = NULL;
  g_autofree char *bundle_listing = NULL;
  g_autofree char *run_listing_again = NULL;
  g_autofree char *bundle_listing_again = NULL;
  g_autofree char *hostname = NULL;

  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);
  run_listing = ctrd_test_dir_listing (fx->run_dir);
  bundle_listing = ctrd_test_dir_listing (fx->bundle_dir);

  replace_string (&fx->config->hostname, "renamed");
  g_assert_true (prepare (fx, &error));
  g_assert_no_error (error);
  run_listing_again = ctrd_test_dir_listing (fx->run_dir);
  bundle_listing_again = ctrd_test_dir_listing (fx->bundle_dir);
  g_assert_cmpstr (run_listing_again, ==, run_listing);
  g_assert_cmpstr (bundle_listing_again, ==, bundle_listing);
  g_assert_cmpstr (bundle_listing, ==, "config.json");

  hostname = ctrd_test_read_file_in (fx->run_dir, "hostname");
  g_assert_cmpstr (hostname, ==, "renamed\n");
  g_assert_cmpstr (json_object_get_string_member (load_spec (fx, parser), "hostname"), ==,
                   "renamed");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/bundle/spec", test_spec);
  ADD ("/bundle/generated-files", test_generated_files);
  ADD ("/bundle/user", test_user);
  ADD ("/bundle/unknown-user", test_unknown_user);
  ADD ("/bundle/volume", test_volume);
  ADD ("/bundle/hooks", test_hooks);
  ADD ("/bundle/no-hooks", test_no_hooks);
  ADD ("/bundle/prepare-again", test_prepare_again);
#undef ADD

  return g_test_run ();
}
