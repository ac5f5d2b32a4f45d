/* integration-files.c: what the container sees: its generated files, user,
 * working directory, /dev/shm, read-only root, mounts, volumes, a tty. */
#include "config.h"

#include "integration-common.h"

/* ---- what the container sees ------------------------------------------ */

static void
test_generated_files (Fixture *f, gconstpointer data)
{
  g_autoptr (CtrContainer) c = ready_container (
      f, "gen", "true",
      "{'Hostname': <'gen-host'>, 'DnsServers': <['192.0.2.53', '2001:db8::53']>,"
      " 'DnsSearch': <['example.com', 'corp.example']>, 'DnsOptions': <['ndots:2', 'edns0']>,"
      " 'AddHosts': <['db.local:192.0.2.10', 'v6host:2001:db8::10']>}");
  g_autoptr (CtrContainer) plain = ready_container (f, "gen-plain", "true", NULL);
  const char *id = ctr_container_get_id (c);
  g_autofree char *host_hosts = read_file_or_null ("/etc/hosts");
  g_autofree char *host_resolv = read_file_or_null ("/etc/resolv.conf");
  g_autofree char *resolv = exec_output (c, CMD ("cat", "/etc/resolv.conf"));
  g_autofree char *hosts = exec_output (c, CMD ("cat", "/etc/hosts"));
  g_autofree char *hostname = exec_output (c, CMD ("cat", "/etc/hostname"));
  g_autofree char *uname = exec_output (c, CMD ("hostname"));
  g_autofree char *env = exec_output (c, CMD ("cat", "/run/.containerenv"));
  g_autofree char *plain_resolv = exec_output (plain, CMD ("cat", "/etc/resolv.conf"));
  g_autofree char *expected_hosts = NULL;
  g_autofree char *line = NULL;
  const char *files[] = { "resolv.conf", "hosts", "hostname", ".containerenv" };
  const char *seen[] = { resolv, hosts, hostname, env };

  g_assert_cmpstr (resolv, ==,
                   "search example.com corp.example\nnameserver 192.0.2.53\n"
                   "nameserver 2001:db8::53\noptions ndots:2 edns0\n");
  expected_hosts = g_strdup_printf (
      "%s%s192.0.2.10\tdb.local\n2001:db8::10\tv6host\n127.0.0.1\tgen-host gen\n"
      "::1\tgen-host gen\n",
      host_hosts ? host_hosts : "",
      host_hosts && *host_hosts && !g_str_has_suffix (host_hosts, "\n") ? "\n" : "");
  g_assert_cmpstr (hosts, ==, expected_hosts);
  g_assert_cmpstr (hostname, ==, "gen-host\n");
  g_assert_cmpstr (uname, ==, "gen-host\n");
  assert_has_line (env, "name=\"gen\"");
  line = g_strdup_printf ("id=\"%s\"", id);
  assert_has_line (env, line);
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("imageid=\"%s\"", f->image_id);
  assert_has_line (env, line);
  assert_has_line (env, "image=\"busybox\"");
  assert_has_line (env, "rootless=0");

  /* Kept in the run root and bind-mounted: the files there are what it sees. */
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *on_disk_path = run_file_path (f, id, files[i]);
      g_autofree char *on_disk = read_file_or_null (on_disk_path);
      g_assert_cmpstr (on_disk, ==, seen[i]);
    }
  /* The image's own files are untouched: what the writable layer holds is
   * at most the empty mount point the runtime made. */
  for (guint i = 0; i < 3; i++)
    {
      const char *name = (const char *[]){ "etc/hosts", "etc/resolv.conf", "etc/hostname" }[i];
      g_autofree char *in_upper = upper_path (f, id, name);
      struct stat st;
      if (stat (in_upper, &st) == 0)
        g_assert_cmpint (st.st_size, ==, 0);
    }

  /* Without DNS options: the host's nameservers, minus localhost ones. */
  {
    g_auto (GStrv) lines = g_strsplit (host_resolv ? host_resolv : "", "\n", -1);
    for (char **l = lines; *l; l++)
      {
        g_auto (GStrv) fields = g_strsplit_set (g_strstrip (*l), " \t", -1);
        if (g_strv_length (fields) >= 2 && g_str_equal (fields[0], "nameserver") &&
            !g_str_has_prefix (fields[1], "127.") && !g_str_equal (fields[1], "::1"))
          {
            g_autofree char *expected = g_strdup_printf ("nameserver %s", fields[1]);
            assert_has_line (plain_resolv, expected);
          }
      }
    g_assert_null (strstr (plain_resolv, "nameserver 127."));
    g_assert_null (strstr (plain_resolv, "nameserver ::1\n"));
  }
}

static void
test_user (Fixture *f, gconstpointer data)
{
  /* A uid the image does not know: a passwd (and group) line is made. */
  g_autoptr (CtrContainer) numeric = ready_container (f, "user-numeric", "true",
                                                      "{'User': <'1234:2345'>}");
  g_autoptr (CtrContainer) named = ready_container (f, "user-named", "true",
                                                    "{'User': <'daemon'>}");
  g_autoptr (CtrContainer) pair = ready_container (f, "user-pair", "true",
                                                   "{'User': <'nobody:nogroup'>}");
  const char *numeric_id = ctr_container_get_id (numeric);
  g_autofree char *ids = exec_output (numeric, CMD ("sh", "-c", "id -u; id -g"));
  g_autofree char *passwd = exec_output (numeric, CMD ("cat", "/etc/passwd"));
  g_autofree char *whoami = exec_output (numeric, CMD ("sh", "-c", "grep '^1234:' /etc/passwd"));
  g_autofree char *named_ids = exec_output (named, CMD ("sh", "-c", "id -u; id -g"));
  g_autofree char *pair_ids = exec_output (pair, CMD ("sh", "-c", "id -u; id -g"));
  g_autofree char *named_passwd = exec_output (named, CMD ("cat", "/etc/passwd"));
  g_autofree char *run_passwd_path = run_file_path (f, numeric_id, "passwd");
  g_autofree char *run_passwd = read_file_or_null (run_passwd_path);
  g_autofree char *named_run_passwd = run_file_path (f, ctr_container_get_id (named), "passwd");
  g_autofree char *ready = upper_path (f, numeric_id, "tmp/ready");
  struct stat st;

  /* The main process runs as that user (it made /tmp/ready), and Exec too. */
  g_assert_cmpstr (ids, ==, "1234\n2345\n");
  g_assert_cmpint (stat (ready, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, 1234);
  g_assert_cmpuint (st.st_gid, ==, 2345);
  g_assert_true (g_str_has_prefix (passwd, "root:x:0:0:root:/root:/bin/sh\n"));
  g_assert_true (g_str_has_prefix (whoami, "1234:x:1234:2345:"));
  g_assert_cmpstr (run_passwd, ==, passwd);

  /* Names resolve in the image's files; nothing is added for them. */
  g_assert_cmpstr (named_ids, ==, "1\n1\n");
  g_assert_cmpstr (pair_ids, ==, "65534\n65534\n");
  g_assert_null (strstr (named_passwd, "container user"));
  g_assert_false (g_file_test (named_run_passwd, G_FILE_TEST_EXISTS));
}

static void
test_working_dir_created (Fixture *f, gconstpointer data)
{
  g_autoptr (CtrContainer) c = ready_container (
      f, "workdir", "pwd > /tmp/pwd", "{'WorkingDir': <'/srv/app/data'>, 'User': <'1234'>}");
  const char *id = ctr_container_get_id (c);
  g_autofree char *made = upper_path (f, id, "srv/app/data");
  g_autofree char *pwd_path = upper_path (f, id, "tmp/pwd");
  g_autofree char *pwd = read_file_or_null (pwd_path);
  g_autofree char *exec_pwd = exec_output (c, CMD ("pwd"));
  struct stat st;

  g_assert_cmpstr (pwd, ==, "/srv/app/data\n");
  g_assert_cmpstr (exec_pwd, ==, "/srv/app/data\n");
  g_assert_cmpint (stat (made, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  /* Made for the container's user, so it can work there. */
  g_assert_cmpuint (st.st_uid, ==, 1234);
  g_assert_cmpint (exec_code (c, CMD ("touch", "/srv/app/data/mine")), ==, 0);
}

static char *
mount_options_inside (CtrContainer *c, const char *mountpoint)
{
  g_autofree char *script =
      g_strdup_printf ("awk '$2 == \"%s\" { print $3 \" \" $4 }' /proc/mounts", mountpoint);
  char *out = exec_output (c, CMD ("sh", "-c", script));

  return g_strstrip (out);
}

static void
test_shm_size (Fixture *f, gconstpointer data)
{
  g_autoptr (CtrContainer) small = ready_container (f, "shm-small", "true",
                                                    "{'ShmSize': <uint64 8388608>}");
  g_autoptr (CtrContainer) plain = ready_container (f, "shm-default", "true", NULL);
  g_autofree char *small_opts = mount_options_inside (small, "/dev/shm");
  g_autofree char *plain_opts = mount_options_inside (plain, "/dev/shm");

  g_assert_true (g_str_has_prefix (small_opts, "tmpfs "));
  g_assert_nonnull (strstr (small_opts, "size=8192k"));
  g_assert_true (g_str_has_prefix (plain_opts, "tmpfs "));
  g_assert_nonnull (strstr (plain_opts, "size=65536k"));
  /* The size holds: 7 MiB fit, 9 more do not. */
  g_assert_cmpint (exec_code (small, CMD ("dd", "if=/dev/zero", "of=/dev/shm/a", "bs=1024",
                                          "count=7168")),
                   ==, 0);
  g_assert_cmpint (exec_code (small, CMD ("dd", "if=/dev/zero", "of=/dev/shm/b", "bs=1024",
                                          "count=9216")),
                   !=, 0);
}

static void
test_read_only_rootfs (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* /tmp is a tmpfs here: the ready file is not in the writable layer. */
  g_autofree char *path = create_container (f, "ro-root", CMD ("sleep", "300"),
                                            "{'ReadOnlyRootfs': <true>}");
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  const char *id = ctr_container_get_id (c);
  g_autofree char *root_opts = NULL;
  g_autofree char *tmp_opts = NULL;
  g_autofree char *upper_x = upper_path (f, id, "x");

  start_container (c);
  wait_for_state (c, CMD ("running"));
  root_opts = mount_options_inside (c, "/");
  g_assert_true (g_regex_match_simple ("^overlay ro(,|$)", root_opts, 0, 0));
  g_assert_cmpint (exec_code (c, CMD ("touch", "/x")), !=, 0);
  g_assert_false (g_file_test (upper_x, G_FILE_TEST_EXISTS));
  for (guint i = 0; i < 3; i++)
    {
      const char *dir = (const char *[]){ "/tmp", "/run", "/var/tmp" }[i];
      g_autofree char *file = g_build_filename (dir, "x", NULL);
      g_clear_pointer (&tmp_opts, g_free);
      tmp_opts = mount_options_inside (c, dir);
      g_assert_true (g_str_has_prefix (tmp_opts, "tmpfs rw"));
      g_assert_cmpint (exec_code (c, CMD ("touch", file)), ==, 0);
    }
  /* The generated files are still there. */
  g_assert_cmpint (exec_code (c, CMD ("test", "-s", "/etc/hosts")), ==, 0);
}

/* (type, source, destination, read-only) entries of the Mounts property. */
static char *
mounts_property_text (CtrContainer *c)
{
  GVariant *mounts = ctr_container_get_mounts (c);

  return mounts ? g_variant_print (mounts, FALSE) : g_strdup ("(none)");
}

static void
test_mounts (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autofree char *rw_dir = g_build_filename (f->tmp, "bind-rw", NULL);
  g_autofree char *ro_dir = g_build_filename (f->tmp, "bind-ro", NULL);
  g_autofree char *hello = g_build_filename (rw_dir, "hello", NULL);
  g_autofree char *from_container = g_build_filename (rw_dir, "from-container", NULL);
  g_autofree char *ro_file = g_build_filename (ro_dir, "kept", NULL);
  g_autofree char *volume_dir = g_build_filename (f->storage_root, "volumes", "vol1", NULL);
  g_autofree char *volume_file = g_build_filename (volume_dir, "_data", "file", NULL);
  g_autofree char *options = NULL;
  g_autofree char *shared_options = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *got = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *scratch = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *c_path = NULL;
  g_autofree char *c_id = NULL;
  g_autoptr (CtrContainer) c = NULL;
  g_autoptr (CtrContainer) reader = NULL;
  g_autoptr (CtrContainer) last = NULL;
  g_autofree char *last_path = NULL;
  g_autofree char *last_id = NULL;
  g_autofree char *real_rw = NULL;
  g_autofree char *real_ro = NULL;

  make_dir (rw_dir);
  make_dir (ro_dir);
  write_text (hello, "from host\n");
  write_text (ro_file, "keep\n");
  real_rw = realpath (rw_dir, NULL);
  real_ro = realpath (ro_dir, NULL);
  options = g_strdup_printf (
      "{'Mounts': <[{'Type': <'bind'>, 'Source': <'%s'>, 'Destination': <'/data'>},"
      " {'Type': <'bind'>, 'Source': <'%s'>, 'Destination': <'/ro'>, 'ReadOnly': <true>},"
      " {'Type': <'tmpfs'>, 'Destination': <'/scratch'>, 'Options': <['size=2m']>},"
      " {'Type': <'volume'>, 'Source': <'vol1'>, 'Destination': <'/vol'>}]>}",
      rw_dir, ro_dir);
  c_path = create_container (f, "mounter", CMD ("sh", "-c", "echo v > /vol/file; sleep 300"),
                             options);
  c = container_proxy (f, c_path);
  c_id = g_strdup (ctr_container_get_id (c));

  /* The property lists them all, sources resolved. */
  expected = g_strdup_printf ("[('bind', '%s', '/data', false), ('bind', '%s', '/ro', true), "
                              "('tmpfs', '', '/scratch', false), "
                              "('volume', 'vol1', '/vol', false)]",
                              real_rw, real_ro);
  got = mounts_property_text (c);
  g_assert_cmpstr (got, ==, expected);
  /* A named volume is made on first use, not at creation. */
  g_assert_false (g_file_test (volume_dir, G_FILE_TEST_EXISTS));

  start_container (c);
  wait_for_state (c, CMD ("running"));
  seen = exec_output (c, CMD ("cat", "/data/hello"));
  g_assert_cmpstr (seen, ==, "from host\n");
  g_assert_cmpint (exec_code (c, CMD ("sh", "-c", "echo c > /data/from-container")), ==, 0);
  contents = read_file_or_null (from_container);
  g_assert_cmpstr (contents, ==, "c\n");
  g_assert_cmpint (exec_code (c, CMD ("touch", "/ro/x")), !=, 0);
  g_clear_pointer (&seen, g_free);
  seen = exec_output (c, CMD ("cat", "/ro/kept"));
  g_assert_cmpstr (seen, ==, "keep\n");
  scratch = mount_options_inside (c, "/scratch");
  g_assert_true (g_str_has_prefix (scratch, "tmpfs rw"));
  g_assert_nonnull (strstr (scratch, "size=2048k"));
  g_assert_true (g_file_test (volume_dir, G_FILE_TEST_IS_DIR));
  g_assert_true (wait_until (path_exists, volume_file));
  g_clear_pointer (&contents, g_free);
  contents = read_file_or_null (volume_file);
  g_assert_cmpstr (contents, ==, "v\n");

  /* A second container sees the same volume. */
  shared_options =
      g_strdup ("{'Mounts': <[{'Type': <'volume'>, 'Source': <'vol1'>, 'Destination': <'/v'>,"
                " 'ReadOnly': <true>}]>}");
  reader = ready_container (f, "vol-reader", "true", shared_options);
  g_clear_pointer (&seen, g_free);
  seen = exec_output (reader, CMD ("cat", "/v/file"));
  g_assert_cmpstr (seen, ==, "v\n");
  g_assert_cmpint (exec_code (reader, CMD ("touch", "/v/y")), !=, 0);

  /* remove_volumes takes only anonymous volumes: a named one stays... */
  ctr_container_call_remove_sync (c, TRUE, TRUE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, c_path);
  assert_container_gone_from_disk (f, c_id);
  g_assert_true (g_file_test (volume_file, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (hello, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (ro_file, G_FILE_TEST_IS_REGULAR));

  /* ...and without it any volume stays... */
  ctr_container_call_remove_sync (reader, TRUE, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (volume_file, G_FILE_TEST_IS_REGULAR));

  /* ...also when its last user goes with remove_volumes (podman rm -v). */
  last_path = create_container (f, "vol-last", CMD ("true"), shared_options);
  last = container_proxy (f, last_path);
  last_id = g_strdup (ctr_container_get_id (last));
  start_container (last);
  g_assert_cmpint (wait_container (last), ==, 0);
  wait_for_state (last, CMD ("exited"));
  ctr_container_call_remove_sync (last, FALSE, TRUE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, last_path);
  g_assert_true (g_file_test (volume_file, G_FILE_TEST_IS_REGULAR));
  /* Binds are the host's: never removed. */
  g_assert_true (g_file_test (from_container, G_FILE_TEST_IS_REGULAR));
}

/* A volume new to the container gets what the image has at its
 * destination, once (the seed's volume copy-up). */
static void
test_volume_populated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *options =
      "{'Mounts': <[{'Type': <'volume'>, 'Source': <'etc-copy'>, 'Destination': <'/etc'>}]>}";
  g_autoptr (CtrContainer) c = ready_container (f, "populated", "echo changed > /etc/motd",
                                                options);
  g_autofree char *data_dir = g_build_filename (f->storage_root, "volumes", "etc-copy", "_data",
                                                NULL);
  g_autofree char *passwd_path = g_build_filename (data_dir, "passwd", NULL);
  g_autofree char *motd_path = g_build_filename (data_dir, "motd", NULL);
  g_autofree char *passwd = NULL;
  g_autofree char *motd = NULL;
  g_autofree char *seen = NULL;
  g_autoptr (CtrContainer) second = NULL;

  passwd = read_file_or_null (passwd_path);
  g_assert_nonnull (passwd);
  g_assert_true (g_str_has_prefix (passwd, "root:x:0:0:root:/root:/bin/sh\n"));
  motd = read_file_or_null (motd_path);
  g_assert_cmpstr (motd, ==, "changed\n");

  /* Only the first use copies: a second container sees the volume as left. */
  g_assert_cmpint (g_unlink (passwd_path), ==, 0);
  second = ready_container (f, "populated-again", "true", options);
  g_assert_false (g_file_test (passwd_path, G_FILE_TEST_EXISTS));
  seen = exec_output (second, CMD ("cat", "/etc/motd"));
  g_assert_cmpstr (seen, ==, "changed\n");
}

/* The name of the one volume in the Mounts property, checked to be
 * anonymous (a generated ID) on @destination. */
static char *
anonymous_volume_of (CtrContainer *c, const char *destination)
{
  GVariant *mounts = ctr_container_get_mounts (c);
  const char *type = NULL, *source = NULL, *dest = NULL;
  gboolean read_only = TRUE;

  g_assert_nonnull (mounts);
  g_assert_cmpuint (g_variant_n_children (mounts), ==, 1);
  g_variant_get_child (mounts, 0, "(&s&s&sb)", &type, &source, &dest, &read_only);
  g_assert_cmpstr (type, ==, "volume");
  g_assert_true (is_hex64 (source));
  g_assert_cmpstr (dest, ==, destination);
  g_assert_false (read_only);
  return g_strdup (source);
}

/* A volume without a name is anonymous: its own, gone with remove_volumes,
 * kept without. */
static void
test_anonymous_volume (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  const char *options = "{'Mounts': <[{'Type': <'volume'>, 'Destination': <'/anon'>}]>}";
  g_autoptr (CtrContainer) first = ready_container (f, "anon-1", "echo one > /anon/f", options);
  g_autoptr (CtrContainer) second = ready_container (f, "anon-2", "echo two > /anon/f", options);
  g_autofree char *first_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (first)));
  g_autofree char *second_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (second)));
  g_autofree char *first_volume = anonymous_volume_of (first, "/anon");
  g_autofree char *second_volume = anonymous_volume_of (second, "/anon");
  g_autofree char *first_file = g_build_filename (f->storage_root, "volumes", first_volume,
                                                  "_data", "f", NULL);
  g_autofree char *second_file = g_build_filename (f->storage_root, "volumes", second_volume,
                                                   "_data", "f", NULL);
  g_autofree char *first_dir = g_build_filename (f->storage_root, "volumes", first_volume, NULL);
  g_autofree char *contents = NULL;

  g_assert_cmpstr (first_volume, !=, second_volume);
  contents = read_file_or_null (first_file);
  g_assert_cmpstr (contents, ==, "one\n");
  g_clear_pointer (&contents, g_free);
  contents = read_file_or_null (second_file);
  g_assert_cmpstr (contents, ==, "two\n");

  ctr_container_call_remove_sync (first, TRUE, TRUE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, first_path);
  g_assert_false (g_file_test (first_dir, G_FILE_TEST_EXISTS));
  ctr_container_call_remove_sync (second, TRUE, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, second_path);
  g_assert_true (g_file_test (second_file, G_FILE_TEST_IS_REGULAR));
}

/* The image's Volumes (the OCI fixture declares /vol) become anonymous
 * volumes (the seed's addLocalVolumes), removed with remove_volumes. */
static void
test_image_volumes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autofree char *fixtures = g_build_filename (f->tmp, "fixtures", NULL);
  g_autofree char *script = g_build_filename (top_srcdir, "tests", "make-oci-fixtures.sh", NULL);
  g_autofree char *layout = g_build_filename (fixtures, "layout", NULL);
  g_autofree char *image = NULL;
  g_autofree char *path = NULL;
  g_autoptr (CtrContainer) c = NULL;
  g_autofree char *volume = NULL;
  g_autofree char *volume_dir = NULL;
  g_autofree char *seen = NULL;

  g_assert_cmpint (run_command (CMD ("bash", script, fixtures), NULL, NULL), ==, 0);
  image = import_path (f, layout, "fixture", NULL, &error);
  g_assert_no_error (error);
  path = try_create (f, "with-image-volume", "fixture",
                     CMD ("sh", "-c", "echo kept > /vol/x; sleep 300"), NULL, &error);
  g_assert_no_error (error);
  c = container_proxy (f, path);

  volume = anonymous_volume_of (c, "/vol");
  volume_dir = g_build_filename (f->storage_root, "volumes", volume, NULL);
  start_container (c);
  wait_for_state (c, CMD ("running"));
  seen = exec_output (c, CMD ("cat", "/vol/x"));
  g_assert_cmpstr (seen, ==, "kept\n");
  g_assert_true (g_file_test (volume_dir, G_FILE_TEST_IS_DIR));

  ctr_container_call_remove_sync (c, TRUE, TRUE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, path);
  g_assert_false (g_file_test (volume_dir, G_FILE_TEST_EXISTS));
}

static void
test_tty (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = create_container (
      f, "tty", CMD ("sh", "-c", "tty; test -t 1 && echo stdout-is-a-terminal"),
      "{'Tty': <true>}");
  g_autofree char *plain_path = create_container (f, "no-tty",
                                                  CMD ("sh", "-c", "tty; echo done"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autoptr (CtrContainer) plain = container_proxy (f, plain_path);
  g_autofree char *log = NULL;
  g_autofree char *plain_log = NULL;

  g_assert_true (ctr_container_get_tty (c));
  g_assert_false (ctr_container_get_tty (plain));

  ctr_container_call_start_sync (c, NULL, &error);
  /* conmon needs -t (and a console socket) for runc to allocate the terminal. */
  g_assert_no_error (error);
  g_assert_cmpint (wait_container (c), ==, 0);
  log = get_logs (c, NULL);
  /* A terminal turns \n into \r\n. */
  g_strdelimit (log, "\r", '\n');
  g_assert_true (g_regex_match_simple ("^/dev/(pts/\\d+|console)$", log, G_REGEX_MULTILINE, 0));
  assert_has_line (log, "stdout-is-a-terminal");

  start_container (plain);
  g_assert_cmpint (wait_container (plain), ==, 0);
  plain_log = get_logs (plain, NULL);
  g_assert_cmpstr (plain_log, ==, "not a tty\ndone\n");
}

/* ---- registration ---------------------------------------------------- */

void
integration_add_files_cases (void)
{
  add_case ("/sees/generated-files", test_generated_files, NULL);
  add_case ("/sees/user", test_user, NULL);
  add_case ("/sees/working-dir-created", test_working_dir_created, NULL);
  add_case ("/sees/shm-size", test_shm_size, NULL);
  add_case ("/sees/read-only-rootfs", test_read_only_rootfs, NULL);
  add_case ("/sees/mounts", test_mounts, NULL);
  add_case ("/sees/volume-populated", test_volume_populated, NULL);
  add_case ("/sees/anonymous-volume", test_anonymous_volume, NULL);
  add_case ("/sees/image-volumes", test_image_volumes, NULL);
  add_case ("/sees/tty", test_tty, NULL);
}
