/* integration-io.c: what comes out of a container and goes into it:
 * Inspect, sizes, Export (and its Job), Exec, logs and following them. */
#include "config.h"

#include "integration-common.h"

/* ---- inspect, sizes, export, exec, logs ------------------------------- */

static void
test_inspect (Fixture *f, gconstpointer data)
{
  g_autofree char *host_dir = g_build_filename (f->tmp, "inspected-src", NULL);
  g_autofree char *options = NULL;
  g_autoptr (CtrContainer) c = NULL;
  g_autofree char *json = NULL;
  g_autoptr (JsonObject) root = NULL;
  g_autofree char *spec_text = NULL;
  g_autoptr (JsonObject) spec = NULL;
  g_autofree char *conmon_cmdline_path = NULL;
  g_autofree char *conmon_cmdline = NULL;
  g_autofree char *expected_bundle = NULL;
  JsonObject *state, *config;
  const char *id;
  gsize len = 0;

  make_dir (host_dir);
  options = g_strdup_printf (
      "{'Env': <['SECRET=hunter2']>, 'Labels': <{'role': 'db'}>, 'User': <'1234'>,"
      " 'Mounts': <[{'Type': <'bind'>, 'Source': <'%s'>, 'Destination': <'/data'>}]>,"
      " 'DnsServers': <['192.0.2.1']>, 'AutoRemove': <false>}",
      host_dir);
  c = ready_container (f, "inspected", "true", options);
  id = ctr_container_get_id (c);
  json = inspect (c);
  root = parse_json_object_text (json);

  g_assert_cmpstr (json_object_get_string_member (root, "Id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (root, "Name"), ==, "inspected");
  g_assert_cmpstr (json_object_get_string_member (root, "Image"), ==, f->image_id);
  g_assert_cmpstr (json_object_get_string_member (root, "Path"), ==, "sh");
  state = json_object_get_object_member (root, "State");
  g_assert_cmpstr (json_object_get_string_member (state, "Status"), ==, "running");
  g_assert_true (json_object_get_boolean_member (state, "Running"));
  g_assert_cmpint (json_object_get_int_member (state, "Pid"), ==, get_u32 (f, c, "Pid"));
  g_assert_cmpstr (json_object_get_string_member (state, "FinishedAt"), ==, "");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (state, "StartedAt"), "20"));
  g_assert_false (json_object_get_boolean_member (state, "OOMKilled"));

  /* conmon's pid is its real one. */
  conmon_cmdline_path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/cmdline",
                                         json_object_get_int_member (state, "ConmonPid"));
  g_assert_true (g_file_get_contents (conmon_cmdline_path, &conmon_cmdline, &len, NULL));
  g_assert_nonnull (g_strstr_len (conmon_cmdline, len, "conmon"));
  g_assert_nonnull (memmem (conmon_cmdline, len, id, strlen (id)));

  /* The whole configuration, Env included (which is why this is authorized). */
  config = json_object_get_object_member (root, "Config");
  g_assert_nonnull (config);
  g_assert_nonnull (strstr (json, "SECRET=hunter2"));
  g_assert_nonnull (strstr (json, "\"role\""));
  g_assert_nonnull (strstr (json, "192.0.2.1"));
  g_assert_nonnull (strstr (json, "/data"));

  /* The paths it names are the real ones. */
  expected_bundle = container_dir (f, id);
  g_assert_cmpstr (json_object_get_string_member (root, "BundlePath"), ==, expected_bundle);
  g_assert_true (g_file_get_contents (json_object_get_string_member (root, "OCIConfigPath"),
                                      &spec_text, NULL, NULL));
  spec = parse_json_object_text (spec_text);
  g_assert_true (json_object_has_member (spec, "process"));
  g_assert_true (g_file_test (json_object_get_string_member (root, "LogPath"),
                              G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (json_object_get_string_member (root, "Rootfs"), G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (json_object_get_string_member (root, "RunDir"), G_FILE_TEST_IS_DIR));
  g_assert_cmpstr (json_object_get_string_member (root, "OCIRuntime"), ==,
                   ctr_manager_get_runtime (f->manager));

  /* After the exit: the code and the end time, no pids. */
  stop_container (c, 1);
  g_clear_pointer (&json, g_free);
  g_clear_pointer (&root, json_object_unref);
  json = inspect (c);
  root = parse_json_object_text (json);
  state = json_object_get_object_member (root, "State");
  g_assert_cmpstr (json_object_get_string_member (state, "Status"), ==, "exited");
  g_assert_cmpint (json_object_get_int_member (state, "Pid"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (state, "ConmonPid"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (state, "ExitCode"), ==, 137);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (state, "FinishedAt"), "20"));
}

static void
test_get_sizes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrImage) image = image_proxy (f, f->image_path);
  g_autofree char *idle_path = create_container (f, "sized-idle", CMD ("true"), NULL);
  g_autoptr (CtrContainer) idle = container_proxy (f, idle_path);
  /* 1 MiB of data in the writable layer, plus a file of the image changed. */
  g_autoptr (CtrContainer) c = ready_container (
      f, "sized", "dd if=/dev/zero of=/blob bs=1024 count=1024 2>/dev/null; echo x >> /etc/group",
      NULL);
  guint64 image_size = ctr_image_get_size (image);
  guint64 rootfs_size = 0, rw_size = 0;

  ctr_container_call_get_sizes_sync (idle, &rootfs_size, &rw_size, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rw_size, <, 64 * 1024);
  g_assert_cmpuint (rootfs_size, ==, image_size + rw_size);

  ctr_container_call_get_sizes_sync (c, &rootfs_size, &rw_size, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rw_size, >=, 1024 * 1024);
  g_assert_cmpuint (rw_size, <, 2 * 1024 * 1024);
  g_assert_cmpuint (rootfs_size, ==, image_size + rw_size);
}

/* Export into a new file; returns its path. */
static char *
export_to_file (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_build_filename (f->tmp, name, NULL);
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  int fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (g_unix_fd_list_append (fds, fd, NULL), ==, 0);
  close (fd);
  ctr_container_call_export_sync (c, g_variant_new_handle (0), fds, NULL, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&file);
}

/* A member's contents, named with or without a leading "./". */
static char *
tar_member (const char *tar, const char *member)
{
  g_autofree char *dotted = g_strconcat ("./", member, NULL);
  const char *names[] = { member, dotted };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *err = NULL;
      char *out = NULL;
      if (run_command (CMD ("tar", "-xOf", tar, names[i]), &out, &err) == 0)
        return out;
      g_free (out);
    }
  return NULL;
}

typedef struct
{
  int fd;
  gsize to_read;
} ShortReader;

/* Reads a little, then closes its end, like a client that gives up. */
static gpointer
short_reader_thread (gpointer data)
{
  ShortReader *r = data;
  char buf[512];
  gsize done = 0;

  while (done < r->to_read)
    {
      ssize_t n = read (r->fd, buf, MIN (sizeof buf, r->to_read - done));
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  close (r->fd);
  return NULL;
}

static void
test_export (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *idle_path = create_container (f, "export-idle", CMD ("true"), NULL);
  g_autoptr (CtrContainer) idle = container_proxy (f, idle_path);
  g_autoptr (CtrContainer) c = ready_container (
      f, "export-live", "echo made-inside > /newfile; ln -s /etc/passwd /link", NULL);
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = snapshot (f);
  g_autofree char *idle_tar = NULL;
  g_autofree char *live_tar = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *newfile = NULL;
  g_autofree char *verbose = NULL;
  g_autofree char *version = NULL;
  g_autofree char *idle_run_dir = g_build_filename (f->run_root, "containers",
                                                    ctr_container_get_id (idle), NULL);

  /* Not running: mounted for the copy, unmounted after. */
  idle_tar = export_to_file (f, idle, "idle.tar");
  assert_no_mount_of (f, ctr_container_get_id (idle));
  if (g_file_test (idle_run_dir, G_FILE_TEST_EXISTS))
    {
      g_autofree char *left = ctrd_test_dir_listing (idle_run_dir);
      g_printerr ("# export of a configured container left %s behind (holding: %s)\n",
                  idle_run_dir, left);
      g_clear_pointer (&before, g_free);
      before = snapshot (f);
    }
  g_assert_cmpint (run_command (CMD ("tar", "-tf", idle_tar), &listing, NULL), ==, 0);
  g_assert_true (contains_line (listing, "./bin/busybox") ||
                 contains_line (listing, "bin/busybox"));
  passwd = tar_member (idle_tar, "etc/passwd");
  g_assert_nonnull (passwd);
  g_assert_true (g_str_has_prefix (passwd, "root:x:0:0:"));
  assert_string_property (f, idle_path, "State", "configured");

  /* Running: what it wrote is in, the symlink stays a symlink, and it runs on. */
  live_tar = export_to_file (f, c, "live.tar");
  newfile = tar_member (live_tar, "newfile");
  g_assert_cmpstr (newfile, ==, "made-inside\n");
  g_assert_cmpint (run_command (CMD ("tar", "-tvf", live_tar), &verbose, NULL), ==, 0);
  g_assert_true (g_regex_match_simple ("^l.* \\.?/?link -> /etc/passwd$", verbose,
                                       G_REGEX_MULTILINE, 0));
  assert_still_running (f, c, pid);
  assert_unchanged (f, before);

  /* A reader that closes its end at once, then one that gives up midway:
   * the call fails, the daemon lives on, nothing is left mounted. */
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      CtrContainer *target = attempt == 0 ? idle : c;
      g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
      ShortReader reader = { -1, 64 * 1024 };
      GThread *thread = NULL;
      int pipe_fds[2];

      make_pipe (pipe_fds);
      g_assert_cmpint (g_unix_fd_list_append (fds, pipe_fds[1], NULL), ==, 0);
      close (pipe_fds[1]);
      if (attempt == 0)
        close (pipe_fds[0]);
      else
        {
          reader.fd = pipe_fds[0];
          thread = g_thread_new ("short-reader", short_reader_thread, &reader);
        }
      ctr_container_call_export_sync (target, g_variant_new_handle (0), fds, NULL, NULL, &error);
      assert_dbus_error (error, ERR ("Failed"), ERR ("StorageError"));
      g_clear_error (&error);
      if (thread != NULL)
        g_thread_join (thread);
      g_assert_false (f->daemon_exited);
      assert_unchanged (f, before);
    }
  version = get_string_property (f, MANAGER_PATH, MANAGER_IFACE, "Version");
  g_assert_cmpuint (strlen (version), >, 0);
  assert_still_running (f, c, pid);
  assert_string_property (f, path, "State", "running");

  /* And it can export again. */
  g_clear_pointer (&idle_tar, g_free);
  idle_tar = export_to_file (f, idle, "idle2.tar");
  g_assert_cmpint (run_command (CMD ("tar", "-tf", idle_tar), NULL, NULL), ==, 0);
}

/* Wait answers once the exit is fully handled: whatever comes right after
 * it (an Export, a property read, Inspect) sees the final state, with no
 * retry. */
static void
test_export_after_wait (Fixture *f, gconstpointer data)
{
  g_autofree char *path =
      create_container (f, "export-after-wait", CMD ("sh", "-c", "echo ran >> /runs"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);

  for (guint run = 1; run <= 20; run++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("after-wait-%u.tar", run);
      g_autofree char *tar = NULL;
      g_autofree char *runs = NULL;
      g_autofree char *json = NULL;
      g_autoptr (JsonObject) root = NULL;

      ctr_container_call_start_sync (c, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (wait_container (c), ==, 0);
      tar = export_to_file (f, c, name);
      assert_string_property (f, path, "State", "exited");
      json = inspect (c);
      root = parse_json_object_text (json);
      g_assert_cmpstr (
          json_object_get_string_member (json_object_get_object_member (root, "State"), "Status"),
          ==, "exited");
      runs = tar_member (tar, "runs");
      g_assert_nonnull (runs);
      g_assert_cmpuint (strlen (runs), ==, run * strlen ("ran\n"));
      g_unlink (tar);
    }
}

/* Symlinks that share an inode in the image's checkout (busybox's applets)
 * are exported as symlinks, as podman export writes them. */
static void
test_export_symlinks (Fixture *f, gconstpointer data)
{
  g_autofree char *path = create_container (f, "export-links", CMD ("true"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autofree char *tar = export_to_file (f, c, "links.tar");
  g_autofree char *verbose = NULL;

  g_assert_cmpint (run_command (CMD ("tar", "-tvf", tar), &verbose, NULL), ==, 0);
  g_assert_true (g_regex_match_simple ("^l.* \\.?/?bin/\\[\\[ -> busybox$", verbose,
                                       G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^l.* \\.?/?bin/sh -> busybox$", verbose,
                                       G_REGEX_MULTILINE, 0));
  /* no member is a hard link to a symlink */
  g_assert_false (g_regex_match_simple ("^h.* link to \\.?/?bin/\\[$", verbose,
                                        G_REGEX_MULTILINE, 0));
}

static void
record_job (GDBusConnection *connection, const char *sender, const char *path,
            const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  GPtrArray *jobs = user_data;
  g_autoptr (GVariant) interfaces = NULL;
  g_autoptr (GVariant) props = NULL;
  const char *object_path, *operation = "", *object = "";

  g_variant_get (params, "(&o@a{sa{sv}})", &object_path, &interfaces);
  props = g_variant_lookup_value (interfaces, BUS_NAME ".Job", G_VARIANT_TYPE_VARDICT);
  if (props == NULL)
    return;
  g_variant_lookup (props, "Operation", "&s", &operation);
  g_variant_lookup (props, "Object", "&o", &object);
  g_ptr_array_add (jobs, g_strdup_printf ("%s %s", operation, object));
}

/* Like image exports, a container export is a Job while it runs. */
static void
test_export_job (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func (g_free);
  guint sub = g_dbus_connection_signal_subscribe (
      f->bus, BUS_NAME, OBJECT_MANAGER_IFACE, "InterfacesAdded", MANAGER_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, record_job, jobs, NULL);
  g_autofree char *path = create_container (f, "export-job", CMD ("true"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autofree char *tar = export_to_file (f, c, "job.tar");
  g_autofree char *expected = g_strdup_printf ("export %s", path);
  Seen seen = { jobs, expected };

  g_assert_cmpint (run_command (CMD ("tar", "-tf", tar), NULL, NULL), ==, 0);
  /* The signal came before the reply; let it be dispatched. */
  g_assert_true (wait_until (item_seen, &seen));
  g_dbus_connection_signal_unsubscribe (f->bus, sub);
}

static void
test_exec (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) c = ready_container (f, "exec-target", "true",
                                                "{'Env': <['BASE=from-create']>}");
  const char *id = ctr_container_get_id (c);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int code = -1;

  try_exec (c,
            CMD ("sh", "-c",
                 "read line; echo \"got $line\"; echo \"$BASE $EXTRA\"; pwd; id -u; id -g; "
                 "echo oops >&2; exit 5"),
            "{'Env': <['EXTRA=from-exec']>, 'WorkingDir': <'/etc'>, 'User': <'65534:1'>}",
            "hello\n", &code, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (code, ==, 5);
  g_assert_cmpstr (out, ==, "got hello\nfrom-create from-exec\n/etc\n65534\n1\n");
  g_assert_cmpstr (err, ==, "oops\n");
  assert_events (w, id, "start", "exec");

  /* Killed by a signal: 128 + N, like a shell. */
  g_assert_cmpint (exec_code (c, CMD ("sh", "-c", "kill -9 $$")), ==, 137);
  /* A command that does not exist. */
  g_assert_cmpint (exec_code (c, CMD ("/no/such/program")), !=, 0);

  /* Exec processes are not the container's: it still runs. */
  assert_string_property (f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), "State",
                          "running");
  stop_container (c, 1);
  try_exec (c, CMD ("true"), NULL, NULL, NULL, NULL, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
}

static void
test_logs (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = create_container (
      f, "logger", CMD ("sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done"), NULL);
  g_autofree char *err_path = create_container (f, "logger-err",
                                                CMD ("sh", "-c", "echo oops >&2"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autoptr (CtrContainer) e = container_proxy (f, err_path);
  g_autofree char *all = NULL;
  g_autofree char *tail = NULL;
  g_autofree char *none = NULL;
  g_autofree char *stamped = NULL;
  g_autofree char *future = NULL;
  g_autofree char *since_option = NULL;
  g_autoptr (GVariant) entries = NULL;
  g_autoptr (GVariant) rest = NULL;
  g_autoptr (GVariant) empty = NULL;
  g_autoptr (GVariant) err_entries = NULL;
  guint64 cursor = 0, next = 0, end = 0, after_end = 0, err_next = 0;
  guint64 time_usec;
  const char *stream, *text;

  /* A container never started has an empty log. */
  none = get_logs (c, NULL);
  g_assert_cmpstr (none, ==, "");
  ctr_container_call_read_logs_sync (c, 0, 10, &empty, &end, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);
  g_assert_cmpuint (end, ==, 0);
  g_clear_pointer (&none, g_free);
  g_clear_pointer (&empty, g_variant_unref);

  start_container (c);
  g_assert_cmpint (wait_container (c), ==, 0);
  start_container (e);
  g_assert_cmpint (wait_container (e), ==, 0);

  all = get_logs (c, NULL);
  g_assert_cmpstr (all, ==, "line1\nline2\nline3\nline4\nline5\n");
  tail = get_logs (c, "{'Tail': <int64 2>}");
  g_assert_cmpstr (tail, ==, "line4\nline5\n");
  none = get_logs (c, "{'Tail': <int64 0>}");
  g_assert_cmpstr (none, ==, "");
  stamped = get_logs (c, "{'Timestamps': <true>}");
  g_assert_true (g_regex_match_simple (
      "^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+(Z|[+-]\\d\\d:\\d\\d) line\\d\\n){5}$",
      stamped, 0, 0));
  since_option = g_strdup_printf ("{'Since': <uint64 %" G_GUINT64_FORMAT ">}",
                                  (guint64) g_get_real_time () + (guint64) 3600 * G_USEC_PER_SEC);
  future = get_logs (c, since_option);
  g_assert_cmpstr (future, ==, "");

  /* ReadLogs pages through the same lines with a cursor. */
  ctr_container_call_read_logs_sync (c, cursor, 2, &entries, &next, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (entries), ==, 2);
  g_variant_get_child (entries, 0, "(t&s&s)", &time_usec, &stream, &text);
  g_assert_cmpstr (stream, ==, "stdout");
  g_assert_cmpstr (text, ==, "line1");
  g_assert_cmpuint (time_usec, >=, get_u64 (f, c, "StartedAt") - 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (time_usec, <=, (guint64) g_get_real_time ());
  g_variant_get_child (entries, 1, "(t&s&s)", NULL, NULL, &text);
  g_assert_cmpstr (text, ==, "line2");
  g_assert_cmpuint (next, >, cursor);

  ctr_container_call_read_logs_sync (c, next, 100, &rest, &end, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (rest), ==, 3);
  g_variant_get_child (rest, 2, "(t&s&s)", NULL, NULL, &text);
  g_assert_cmpstr (text, ==, "line5");
  ctr_container_call_read_logs_sync (c, end, 100, &empty, &after_end, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);
  g_assert_cmpuint (after_end, ==, end);

  ctr_container_call_read_logs_sync (e, 0, 10, &err_entries, &err_next, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (err_entries), ==, 1);
  g_variant_get_child (err_entries, 0, "(t&s&s)", NULL, &stream, &text);
  g_assert_cmpstr (stream, ==, "stderr");
  g_assert_cmpstr (text, ==, "oops");
}

static void
test_logs_follow (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) c = ready_container (f, "followed",
                                                "echo first; trap 'echo last; exit 0' USR1", NULL);
  g_autoptr (GVariant) opts = parse_options ("{'Follow': <true>}");
  g_autoptr (GVariant) handle = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GString) seen = g_string_new (NULL);
  g_autofree char *rest = NULL;
  int fd;

  ctr_container_call_get_logs_sync (c, opts, NULL, &handle, &fds, NULL, &error);
  g_assert_no_error (error);
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  g_assert_no_error (error);
  g_assert_true (read_until (fd, seen, "first\n"));
  g_assert_cmpstr (seen->str, ==, "first\n");

  /* New lines come as they are written; the stream ends with the container. */
  ctr_container_call_kill_sync (c, "USR1", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (read_until (fd, seen, "last\n"));
  rest = read_to_eof (fd);
  close (fd);
  g_assert_cmpstr (seen->str, ==, "first\nlast\n");
  g_assert_cmpstr (rest, ==, "");
  g_assert_cmpint (wait_container (c), ==, 0);
}

/* ---- registration ---------------------------------------------------- */

void
integration_add_io_cases (void)
{
  add_case ("/lifecycle/inspect", test_inspect, NULL);
  add_case ("/lifecycle/get-sizes", test_get_sizes, NULL);
  add_case ("/lifecycle/export", test_export, NULL);
  add_case ("/lifecycle/export-job", test_export_job, NULL);
  add_case ("/lifecycle/export-after-wait", test_export_after_wait, NULL);
  add_case ("/lifecycle/export-symlinks", test_export_symlinks, NULL);
  add_case ("/lifecycle/exec", test_exec, NULL);
  add_case ("/lifecycle/logs", test_logs, NULL);
  add_case ("/lifecycle/logs-follow", test_logs_follow, NULL);
}
