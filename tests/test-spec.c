/* Unit tests for ctrd-spec: the generated OCI config.json. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "ctrd-error.h"
#include "ctrd-hooks.h"
#include "ctrd-selinux.h"
#include "ctrd-spec.h"

#define TEST_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  char *tmpdir;
  char *rootfs;
  char *config_path;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = g_dir_make_tmp ("test-spec-XXXXXX", &error);
  g_assert_no_error (error);
  fx->rootfs = g_build_filename (fx->tmpdir, "rootfs", NULL);
  fx->config_path = g_build_filename (fx->tmpdir, "config.json", NULL);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  /* Only config.json is ever written there; anything else left is a bug the
   * failing rmdir reveals. */
  (void) g_unlink (fx->config_path);
  g_assert_cmpint (g_rmdir (fx->tmpdir), ==, 0);
  g_free (fx->config_path);
  g_free (fx->rootfs);
  g_free (fx->tmpdir);
}

static void
init_params (Fixture *fx, CtrdSpecParams *params)
{
  static const char *const argv[] = { "sh", "-c", "echo hi", NULL };
  static const char *const env[] = { "FOO=bar", "EMPTY=", NULL };

  *params = (CtrdSpecParams){
    .id = TEST_ID,
    .hostname = "box",
    .rootfs = fx->rootfs,
    .argv = argv,
    .env = env,
    .cwd = "/srv",
    .uid = 0,
    .gid = 0,
    .tty = FALSE,
    .readonly_rootfs = FALSE,
    .cgroups_path = "/containersd/" TEST_ID,
  };
}

static JsonObject *
get_object_path (JsonNode *root, const char *first, ...)
{
  JsonObject *object = json_node_get_object (root);
  va_list args;

  va_start (args, first);
  for (const char *member = first; member != NULL; member = va_arg (args, const char *))
    {
      g_assert_true (json_object_has_member (object, member));
      object = json_object_get_object_member (object, member);
      g_assert_nonnull (object);
    }
  va_end (args);
  return object;
}

/* The string elements of @array as a NULL-terminated vector (borrowed strings). */
static const char **
json_strings (JsonArray *array)
{
  guint n = json_array_get_length (array);
  const char **strv = g_new0 (const char *, n + 1);

  for (guint i = 0; i < n; i++)
    strv[i] = json_array_get_string_element (array, i);
  return strv;
}

static void
assert_string_array (JsonArray *array, const char *const *expected)
{
  g_autofree const char **actual = json_strings (array);

  g_assert_cmpstrv (actual, expected);
}

static void
test_generate_fields (Fixture *fx, gconstpointer data)
{
  static const char *const expected_args[] = { "sh", "-c", "echo hi", NULL };
  static const char *const expected_env[] = {
    "FOO=bar",    "EMPTY=", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm", NULL,
  };
  static const char *const expected_ns[] = {
    "pid", "network", "ipc", "uts", "mount", "cgroup", NULL,
  };
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *spec, *process, *root, *linux_obj;
  JsonArray *namespaces;
  g_autofree const char **ns_types = NULL;

  init_params (fx, &params);
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);

  spec = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (spec, "ociVersion"), ==, "1.0.2");
  g_assert_cmpstr (json_object_get_string_member (spec, "hostname"), ==, "box");

  process = get_object_path (node, "process", NULL);
  assert_string_array (json_object_get_array_member (process, "args"), expected_args);
  assert_string_array (json_object_get_array_member (process, "env"), expected_env);
  g_assert_cmpstr (json_object_get_string_member (process, "cwd"), ==, "/srv");
  g_assert_false (json_object_get_boolean_member (process, "terminal"));
  g_assert_false (json_object_get_boolean_member (process, "noNewPrivileges"));
  g_assert_cmpint (
      json_object_get_int_member (get_object_path (node, "process", "user", NULL), "uid"), ==, 0);

  root = get_object_path (node, "root", NULL);
  g_assert_cmpstr (json_object_get_string_member (root, "path"), ==, fx->rootfs);
  g_assert_false (json_object_get_boolean_member (root, "readonly"));

  linux_obj = get_object_path (node, "linux", NULL);
  g_assert_cmpstr (json_object_get_string_member (linux_obj, "cgroupsPath"), ==,
                   "/containersd/" TEST_ID);
  g_assert_false (json_object_has_member (linux_obj, "seccomp"));
  namespaces = json_object_get_array_member (linux_obj, "namespaces");
  ns_types = g_new0 (const char *, json_array_get_length (namespaces) + 1);
  for (guint i = 0; i < json_array_get_length (namespaces); i++)
    {
      JsonObject *ns = json_array_get_object_element (namespaces, i);

      /* a "path" would join an existing namespace instead of creating one */
      g_assert_false (json_object_has_member (ns, "path"));
      ns_types[i] = json_object_get_string_member (ns, "type");
    }
  g_assert_cmpstrv (ns_types, expected_ns);
}

static void
test_capabilities_and_paths (Fixture *fx, gconstpointer data)
{
  static const char *const podman_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
    "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
    "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT", NULL,
  };
  static const char *const podman_masked[] = {
    "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block",    NULL,
  };
  static const char *const podman_readonly[] = {
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
  };
  static const char *const mount_points[] = {
    "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", NULL,
  };
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *caps, *linux_obj;
  JsonArray *mounts;
  g_autofree const char **destinations = NULL;

  init_params (fx, &params);
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);

  caps = get_object_path (node, "process", "capabilities", NULL);
  assert_string_array (json_object_get_array_member (caps, "bounding"), podman_caps);
  assert_string_array (json_object_get_array_member (caps, "effective"), podman_caps);
  assert_string_array (json_object_get_array_member (caps, "permitted"), podman_caps);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (caps, "inheritable")), ==,
                    0);
  g_assert_false (json_object_has_member (caps, "ambient"));

  linux_obj = get_object_path (node, "linux", NULL);
  assert_string_array (json_object_get_array_member (linux_obj, "maskedPaths"), podman_masked);
  assert_string_array (json_object_get_array_member (linux_obj, "readonlyPaths"), podman_readonly);

  mounts = json_object_get_array_member (json_node_get_object (node), "mounts");
  destinations = g_new0 (const char *, json_array_get_length (mounts) + 1);
  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      JsonObject *mount = json_array_get_object_element (mounts, i);
      g_autofree const char **options =
          json_strings (json_object_get_array_member (mount, "options"));

      destinations[i] = json_object_get_string_member (mount, "destination");
      /* nothing the container mounts may carry setuid binaries or device nodes in */
      g_assert_true (g_strv_contains (options, "nosuid"));
      if (g_str_equal (destinations[i], "/sys") || g_str_equal (destinations[i], "/sys/fs/cgroup"))
        g_assert_true (g_strv_contains (options, "ro"));
      if (g_str_equal (destinations[i], "/dev/shm"))
        g_assert_true (g_strv_contains (options, "size=65536k"));
    }
  g_assert_cmpstrv (destinations, mount_points);
}

static void
test_non_root_user (Fixture *fx, gconstpointer data)
{
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *user, *caps;

  init_params (fx, &params);
  params.uid = 1000;
  params.gid = 100;
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);

  user = get_object_path (node, "process", "user", NULL);
  g_assert_cmpint (json_object_get_int_member (user, "uid"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (user, "gid"), ==, 100);
  caps = get_object_path (node, "process", "capabilities", NULL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (caps, "bounding")), ==,
                    11);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (caps, "effective")), ==,
                    0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (caps, "permitted")), ==,
                    0);
}

static void
test_defaults_and_options (Fixture *fx, gconstpointer data)
{
  static const char *const argv[] = { "/bin/true", NULL };
  static const char *const env[] = { "PATH=/opt/bin", "TERM=dumb", NULL };
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *spec, *process;

  init_params (fx, &params);
  params.argv = argv;
  params.env = env;
  params.cwd = NULL;
  params.hostname = NULL;
  params.tty = TRUE;
  params.readonly_rootfs = TRUE;
  params.cgroups_path = NULL;
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);

  spec = json_node_get_object (node);
  /* podman names the host after the short id */
  g_assert_cmpstr (json_object_get_string_member (spec, "hostname"), ==, "0123456789ab");
  process = get_object_path (node, "process", NULL);
  /* the image's own PATH and TERM win: nothing is appended */
  assert_string_array (json_object_get_array_member (process, "env"), env);
  g_assert_cmpstr (json_object_get_string_member (process, "cwd"), ==, "/");
  g_assert_true (json_object_get_boolean_member (process, "terminal"));
  g_assert_true (json_object_get_boolean_member (get_object_path (node, "root", NULL), "readonly"));
  g_assert_false (json_object_has_member (get_object_path (node, "linux", NULL), "cgroupsPath"));
}

static void
assert_rlimits_follow_daemon (JsonNode *node, rlim_t expected_nofile)
{
  JsonArray *rlimits =
      json_object_get_array_member (get_object_path (node, "process", NULL), "rlimits");
  gboolean seen_nofile = FALSE, seen_nproc = FALSE;

  for (guint i = 0; i < json_array_get_length (rlimits); i++)
    {
      JsonObject *rlimit = json_array_get_object_element (rlimits, i);
      const char *type = json_object_get_string_member (rlimit, "type");
      gint64 soft = json_object_get_int_member (rlimit, "soft");
      gint64 hard = json_object_get_int_member (rlimit, "hard");
      int resource;
      struct rlimit current;

      if (g_str_equal (type, "RLIMIT_NOFILE"))
        {
          resource = RLIMIT_NOFILE;
          seen_nofile = TRUE;
          if (expected_nofile != RLIM_INFINITY)
            g_assert_cmpint (soft, ==, (gint64) expected_nofile);
        }
      else if (g_str_equal (type, "RLIMIT_NPROC"))
        {
          resource = RLIMIT_NPROC;
          seen_nproc = TRUE;
        }
      else
        g_assert_not_reached ();

      g_assert_cmpint (getrlimit (resource, &current), ==, 0);
      g_assert_cmpint (soft, >, 0);
      g_assert_cmpint (soft, ==, hard);
      /* runc would have to raise the limit otherwise, which this host refuses */
      if (current.rlim_max != RLIM_INFINITY)
        g_assert_cmpuint ((guint64) hard, <=, (guint64) current.rlim_max);
      if (current.rlim_cur != RLIM_INFINITY)
        g_assert_cmpuint ((guint64) hard, <=, (guint64) current.rlim_cur);
    }
  g_assert_true (seen_nofile);
  g_assert_true (seen_nproc);
}

static void
test_rlimits (Fixture *fx, gconstpointer data)
{
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) lowered_node = NULL;
  struct rlimit saved, lowered;

  init_params (fx, &params);
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  assert_rlimits_follow_daemon (node, RLIM_INFINITY);

  /* Lowering our own soft limit is always allowed; the spec must follow it. */
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  lowered = saved;
  lowered.rlim_cur = MIN (saved.rlim_cur, 333);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &lowered), ==, 0);
  lowered_node = ctrd_spec_generate (&params, &error);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  g_assert_no_error (error);
  assert_rlimits_follow_daemon (lowered_node, lowered.rlim_cur);
}

static void
test_invalid_params (Fixture *fx, gconstpointer data)
{
  static const char *const empty_argv[] = { NULL };
  static const char *const blank_argv[] = { "", NULL };
  static const char *const bad_env[] = { "FOO=bar", "NOEQUALS", NULL };
  static const char *const nameless_env[] = { "=value", NULL };
  enum
  {
    NO_ARGV,
    EMPTY_ARGV,
    BLANK_ARGV,
    NO_ROOTFS,
    RELATIVE_ROOTFS,
    RELATIVE_CWD,
    BAD_HOSTNAME,
    LONG_HOSTNAME,
    BAD_ENV,
    NAMELESS_ENV,
    RELATIVE_CGROUP,
    N_CASES
  };

  for (int c = 0; c < N_CASES; c++)
    {
      CtrdSpecParams params;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = NULL;
      g_autofree char *long_hostname = g_strnfill (65, 'h');

      init_params (fx, &params);
      switch (c)
        {
        case NO_ARGV:
          params.argv = NULL;
          break;
        case EMPTY_ARGV:
          params.argv = empty_argv;
          break;
        case BLANK_ARGV:
          params.argv = blank_argv;
          break;
        case NO_ROOTFS:
          params.rootfs = NULL;
          break;
        case RELATIVE_ROOTFS:
          params.rootfs = "rootfs";
          break;
        case RELATIVE_CWD:
          params.cwd = "srv";
          break;
        case BAD_HOSTNAME:
          params.hostname = "bad/host\nname";
          break;
        case LONG_HOSTNAME:
          params.hostname = long_hostname;
          break;
        case BAD_ENV:
          params.env = bad_env;
          break;
        case NAMELESS_ENV:
          params.env = nameless_env;
          break;
        case RELATIVE_CGROUP:
          params.cgroups_path = "containersd/x";
          break;
        default:
          g_assert_not_reached ();
        }

      g_test_message ("invalid case %d", c);
      node = ctrd_spec_generate (&params, &error);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (node);
      g_assert_nonnull (strstr (error->message, TEST_ID));
      /* an untrusted value never reaches a message unescaped */
      g_assert_null (strchr (error->message, '\n'));
    }
}

static void
test_write (Fixture *fx, gconstpointer data)
{
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) expected = NULL;
  struct stat st;

  /* an older, wider-open file is replaced, not rewritten in place */
  g_assert_true (g_file_set_contents_full (fx->config_path, "stale", -1, G_FILE_SET_CONTENTS_NONE,
                                           0644, &error));
  g_assert_no_error (error);

  init_params (fx, &params);
  g_assert_true (ctrd_spec_write (&params, fx->config_path, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (fx->config_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  g_assert_true (json_parser_load_from_file (parser, fx->config_path, &error));
  g_assert_no_error (error);
  expected = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (json_parser_get_root (parser), expected));
}

static void
test_write_invalid (Fixture *fx, gconstpointer data)
{
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;

  init_params (fx, &params);
  params.cwd = "relative";
  g_assert_false (ctrd_spec_write (&params, fx->config_path, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (fx->config_path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* a directory that does not exist: the error names the file */
  init_params (fx, &params);
  g_assert_false (ctrd_spec_write (&params, "/nonexistent-dir/config.json", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/config.json"));
}

/* ---------------------------------------------------------------- mounts */

/* The spec's mounts as "destination:type:source:opt,opt" lines. */
static char *
mounts_summary (JsonNode *node)
{
  JsonArray *mounts = json_object_get_array_member (json_node_get_object (node), "mounts");
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      JsonObject *mount = json_array_get_object_element (mounts, i);
      g_autofree const char **options =
          json_strings (json_object_get_array_member (mount, "options"));
      g_autofree char *joined = g_strjoinv (",", (char **) options);

      g_string_append_printf (out, "%s:%s:%s:%s\n",
                              json_object_get_string_member (mount, "destination"),
                              json_object_get_string_member (mount, "type"),
                              json_object_get_string_member (mount, "source"), joined);
    }
  return g_string_free (out, FALSE);
}

static void
test_mounts_and_files (Fixture *fx, gconstpointer data)
{
  static const char *const size_opts[] = { "size=10m", "noexec", NULL };
  static const char *const shm_opts[] = { "size=1g", NULL };
  g_autoptr (CtrdMount) nested =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/srv/b", "/data/sub", TRUE, NULL);
  g_autoptr (CtrdMount) parent = ctrd_mount_new (CTRD_MOUNT_BIND, "/srv/a", "/data", FALSE, NULL);
  g_autoptr (CtrdMount) scratch =
      ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/scratch", FALSE, size_opts);
  g_autoptr (CtrdMount) shm = ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/dev/shm", FALSE, shm_opts);
  g_autoptr (CtrdMount) own_hosts =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/srv/hosts", "/etc/hosts", TRUE, NULL);
  g_autoptr (CtrdMount) file_resolv =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/run/c/resolv.conf", "/etc/resolv.conf", FALSE, NULL);
  g_autoptr (CtrdMount) file_hosts =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/run/c/hosts", "/etc/hosts", FALSE, NULL);
  g_autoptr (CtrdMount) file_env =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/run/c/.containerenv", "/run/.containerenv", FALSE, NULL);
  const CtrdMount *mounts[] = { nested, parent, scratch, shm, own_hosts };
  const CtrdMount *files[] = { file_resolv, file_hosts, file_env };
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) ro_node = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *ro_summary = NULL;

  init_params (fx, &params);
  params.mounts = mounts;
  params.n_mounts = G_N_ELEMENTS (mounts);
  params.file_mounts = files;
  params.n_file_mounts = G_N_ELEMENTS (files);
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  summary = mounts_summary (node);
  /* defaults first (the user's /dev/shm replaces podman's); then by depth,
   * so /data comes before /data/sub; the user's /etc/hosts beats the
   * generated one */
  g_assert_cmpstr (
      summary, ==,
      "/proc:proc:proc:nosuid,noexec,nodev\n"
      "/dev:tmpfs:tmpfs:nosuid,noexec,strictatime,mode=755,size=65536k\n"
      "/dev/pts:devpts:devpts:nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5\n"
      "/dev/mqueue:mqueue:mqueue:nosuid,noexec,nodev\n"
      "/sys:sysfs:sysfs:nosuid,noexec,nodev,ro\n"
      "/sys/fs/cgroup:cgroup:cgroup:rprivate,nosuid,noexec,nodev,relatime,ro\n"
      "/data:bind:/srv/a:rw,rprivate,rbind\n"
      "/scratch:tmpfs:tmpfs:size=10m,noexec,rw,rprivate,nosuid,nodev,tmpcopyup\n"
      "/data/sub:bind:/srv/b:ro,rprivate,rbind\n"
      "/dev/shm:tmpfs:tmpfs:size=1g,rw,rprivate,nosuid,nodev,tmpcopyup\n"
      "/etc/hosts:bind:/srv/hosts:ro,rprivate,rbind\n"
      "/etc/resolv.conf:bind:/run/c/resolv.conf:bind,private\n"
      "/run/.containerenv:bind:/run/c/.containerenv:bind,private\n");

  /* read-only root: tmpfs where programs must write, generated files read-only */
  params.readonly_rootfs = TRUE;
  params.n_mounts = 0;
  ro_node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  g_assert_true (
      json_object_get_boolean_member (get_object_path (ro_node, "root", NULL), "readonly"));
  ro_summary = mounts_summary (ro_node);
  g_assert_nonnull (strstr (ro_summary, "/dev/shm:tmpfs:shm:nosuid,noexec,nodev,mode=1777,"
                                        "size=65536k\n"));
  g_assert_nonnull (strstr (ro_summary, "/run:tmpfs:tmpfs:rw,rprivate,nosuid,nodev,tmpcopyup\n"
                                        "/tmp:tmpfs:tmpfs:rw,rprivate,nosuid,nodev,tmpcopyup\n"));
  g_assert_nonnull (strstr (ro_summary, "/etc/hosts:bind:/run/c/hosts:bind,private,ro,nosuid,"
                                        "noexec,nodev\n"));
  g_assert_nonnull (strstr (ro_summary, "/var/tmp:tmpfs:tmpfs:"));
  /* /run before /run/.containerenv, or the tmpfs would hide the file */
  g_assert_cmpint (strstr (ro_summary, "/run:") - ro_summary, <,
                   strstr (ro_summary, "/run/.containerenv:") - ro_summary);
}

static void
test_shm_gids_hooks (Fixture *fx, gconstpointer data)
{
  static const guint32 gids[] = { 10, 29 };
  g_autoptr (CtrdHookSet) hooks = ctrd_hook_set_new ();
  CtrdHook *hook = g_new0 (CtrdHook, 1);
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) odd_node = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *odd_summary = NULL;
  JsonObject *user, *spec_hooks;
  JsonArray *additional;

  hook->path = g_strdup ("/usr/libexec/hook");
  hook->args = g_new0 (char *, 1);
  g_ptr_array_add (hooks->stages[CTRD_HOOK_CREATE_RUNTIME], hook);
  hook = g_new0 (CtrdHook, 1);
  hook->path = g_strdup ("/usr/libexec/after");
  hook->args = g_new0 (char *, 1);
  g_ptr_array_add (hooks->stages[CTRD_HOOK_POSTSTOP], hook);

  init_params (fx, &params);
  params.uid = 1000;
  params.gid = 1000;
  params.additional_gids = gids;
  params.n_additional_gids = G_N_ELEMENTS (gids);
  params.shm_size = G_GUINT64_CONSTANT (128) * 1024 * 1024;
  params.hooks = hooks;
  node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);

  user = get_object_path (node, "process", "user", NULL);
  additional = json_object_get_array_member (user, "additionalGids");
  g_assert_cmpuint (json_array_get_length (additional), ==, 2);
  g_assert_cmpint (json_array_get_int_element (additional, 0), ==, 10);
  g_assert_cmpint (json_array_get_int_element (additional, 1), ==, 29);
  summary = mounts_summary (node);
  g_assert_nonnull (strstr (summary, "/dev/shm:tmpfs:shm:nosuid,noexec,nodev,mode=1777,"
                                     "size=131072k\n"));

  /* runc runs these; poststop stays with containersd */
  spec_hooks = get_object_path (node, "hooks", NULL);
  g_assert_true (json_object_has_member (spec_hooks, "createRuntime"));
  g_assert_false (json_object_has_member (spec_hooks, "poststop"));

  /* a size that is not whole KiB is written in bytes, like podman */
  params.shm_size = 1000;
  params.hooks = NULL;
  params.n_additional_gids = 0;
  odd_node = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  odd_summary = mounts_summary (odd_node);
  g_assert_nonnull (strstr (odd_summary, "mode=1777,size=1000\n"));
  g_assert_false (json_object_has_member (get_object_path (odd_node, "process", "user", NULL),
                                          "additionalGids"));
  g_assert_false (json_object_has_member (json_node_get_object (odd_node), "hooks"));
}

static void
test_generate_bad_mounts (Fixture *fx, gconstpointer data)
{
  static const char *const bad_opts[] = { "size=1g", NULL };
  g_autoptr (CtrdMount) volume = ctrd_mount_new (CTRD_MOUNT_VOLUME, "vol", "/data", FALSE, NULL);
  g_autoptr (CtrdMount) relative = ctrd_mount_new (CTRD_MOUNT_BIND, "srv", "/data", FALSE, NULL);
  g_autoptr (CtrdMount) proc = ctrd_mount_new (CTRD_MOUNT_BIND, "/srv", "/proc/sys", FALSE, NULL);
  g_autoptr (CtrdMount) sized_bind =
      ctrd_mount_new (CTRD_MOUNT_BIND, "/srv", "/data", FALSE, bad_opts);
  const CtrdMount *cases[] = { volume, relative, proc, sized_bind };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      CtrdSpecParams params;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = NULL;

      init_params (fx, &params);
      params.mounts = &cases[i];
      params.n_mounts = 1;
      node = ctrd_spec_generate (&params, &error);
      g_assert_null (node);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, TEST_ID));
    }
}

/* SELinux labels go where runc reads them, and only when given; the level
 * rewriting keeps user, role and type. */
static void
test_selinux_labels (Fixture *fx, gconstpointer data)
{
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) plain = NULL;
  g_autoptr (JsonNode) labelled = NULL;
  g_autofree char *relabelled = NULL;
  g_autofree char *short_context = NULL;

  init_params (fx, &params);
  plain = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  g_assert_false (json_object_has_member (get_object_path (plain, "process", NULL), "selinuxLabel"));
  g_assert_false (json_object_has_member (get_object_path (plain, "linux", NULL), "mountLabel"));

  params.process_label = "system_u:system_r:container_t:s0:c1,c2";
  params.mount_label = "system_u:object_r:container_file_t:s0:c1,c2";
  labelled = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (get_object_path (labelled, "process", NULL),
                                                  "selinuxLabel"),
                   ==, params.process_label);
  g_assert_cmpstr (json_object_get_string_member (get_object_path (labelled, "linux", NULL),
                                                  "mountLabel"),
                   ==, params.mount_label);

  relabelled = ctrd_selinux_with_level ("system_u:system_r:container_t:s0:c1,c2", "s0:c7,c9");
  g_assert_cmpstr (relabelled, ==, "system_u:system_r:container_t:s0:c7,c9");
  short_context = ctrd_selinux_with_level ("unlabeled", "s0:c7,c9");
  g_assert_cmpstr (short_context, ==, "unlabeled");

  /* Where SELinux is off (as on the test machines) there are no labels. */
  if (!ctrd_selinux_enabled ())
    {
      g_autofree char *process_label = NULL;
      g_autofree char *mount_label = NULL;
      g_assert_true (ctrd_selinux_container_labels (&process_label, &mount_label, &error));
      g_assert_no_error (error);
      g_assert_null (process_label);
      g_assert_null (mount_label);
    }
}

/* The network namespace: joined by path for a bridge network, absent for
 * the host's. */
static void
test_network_namespace (Fixture *fx, gconstpointer data)
{
  static const char *const host_ns[] = { "pid", "ipc", "uts", "mount", "cgroup", NULL };
  CtrdSpecParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) joined = NULL;
  g_autoptr (JsonNode) host = NULL;
  g_autofree const char **types = NULL;
  JsonArray *namespaces;
  gboolean found = FALSE;

  init_params (fx, &params);
  params.netns_path = "/run/containersd/netavark/netns/abc";
  joined = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  namespaces = json_object_get_array_member (get_object_path (joined, "linux", NULL), "namespaces");
  for (guint i = 0; i < json_array_get_length (namespaces); i++)
    {
      JsonObject *ns = json_array_get_object_element (namespaces, i);
      if (g_str_equal (json_object_get_string_member (ns, "type"), "network"))
        {
          g_assert_cmpstr (json_object_get_string_member (ns, "path"), ==, params.netns_path);
          found = TRUE;
        }
      else
        g_assert_false (json_object_has_member (ns, "path"));
    }
  g_assert_true (found);

  init_params (fx, &params);
  params.host_network = TRUE;
  host = ctrd_spec_generate (&params, &error);
  g_assert_no_error (error);
  namespaces = json_object_get_array_member (get_object_path (host, "linux", NULL), "namespaces");
  types = g_new0 (const char *, json_array_get_length (namespaces) + 1);
  for (guint i = 0; i < json_array_get_length (namespaces); i++)
    types[i] = json_object_get_string_member (json_array_get_object_element (namespaces, i), "type");
  g_assert_cmpstrv (types, host_ns);

  init_params (fx, &params);
  params.netns_path = "relative/netns";
  g_assert_null (ctrd_spec_generate (&params, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/spec/generate-fields", test_generate_fields);
  ADD ("/spec/capabilities-and-paths", test_capabilities_and_paths);
  ADD ("/spec/non-root-user", test_non_root_user);
  ADD ("/spec/defaults-and-options", test_defaults_and_options);
  ADD ("/spec/rlimits", test_rlimits);
  ADD ("/spec/invalid-params", test_invalid_params);
  ADD ("/spec/write", test_write);
  ADD ("/spec/write-invalid", test_write_invalid);
  ADD ("/spec/mounts/order-and-overrides", test_mounts_and_files);
  ADD ("/spec/mounts/shm-gids-hooks", test_shm_gids_hooks);
  ADD ("/spec/mounts/generate-rejects", test_generate_bad_mounts);
  ADD ("/spec/selinux-labels", test_selinux_labels);
  ADD ("/spec/network-namespace", test_network_namespace);
#undef ADD

  return g_test_run ();
}
