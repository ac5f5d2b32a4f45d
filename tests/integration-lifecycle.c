/* integration-lifecycle.c: creating containers (options and what they do)
 * and their life cycle: start, stop, kill, wait, pause, restart, rename,
 * remove, prune, auto-remove. */
#include "config.h"

#include "integration-common.h"

/* ---- containers ------------------------------------------------------- */

static void
assert_labels (GVariant *labels, const char *key, const char *value)
{
  const char *got = NULL;

  g_assert_nonnull (labels);
  g_assert_true (g_variant_lookup (labels, key, "&s", &got));
  g_assert_cmpstr (got, ==, value);
}

typedef struct
{
  CtrImage *image;
  const char *container;
} ImageListing;

static gboolean
image_lists_container (gconstpointer data)
{
  const ImageListing *l = data;

  return strv_has (ctr_image_get_containers (l->image), l->container);
}

static void
test_container_create_options (Fixture *f, gconstpointer data)
{
  g_autoptr(CtrImage) image = image_proxy (f, f->image_path);
  guint64 before = (guint64) g_get_real_time ();
  g_autofree char *path = create_container (
      f, "opts", CMD ("echo hi"),
      "{'Env': <['FOO=bar baz', 'EMPTY=']>, 'WorkingDir': <'/tmp'>, 'Hostname': <'myhost'>,"
      " 'Labels': <{'app': 'web', 'tier': 'front'}>, 'StopTimeout': <uint32 7>,"
      " 'StopSignal': <'SIGINT'>, 'Entrypoint': <['/bin/sh', '-c']>}");
  guint64 after = (guint64) g_get_real_time ();
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  const char *id = ctr_container_get_id (c);
  g_autofree char *expected_path = NULL;
  g_autofree char *dir = NULL;
  const char *const *command = ctr_container_get_command (c);
  ImageListing listing = { image, path };
  struct stat st;

  g_assert_true (is_hex64 (id));
  expected_path = g_strdup_printf (MANAGER_PATH "/containers/%s", id);
  g_assert_cmpstr (path, ==, expected_path);
  g_assert_cmpstr (ctr_container_get_name (c), ==, "opts");
  g_assert_cmpstr (ctr_container_get_image (c), ==, f->image_path);
  g_assert_cmpstr (ctr_container_get_image_name (c), ==, "busybox");
  g_assert_cmpuint (g_strv_length ((char **) command), ==, 3);
  g_assert_cmpstr (command[0], ==, "/bin/sh");
  g_assert_cmpstr (command[1], ==, "-c");
  g_assert_cmpstr (command[2], ==, "echo hi");
  g_assert_cmpstr (ctr_container_get_state (c), ==, "configured");
  g_assert_cmpuint (ctr_container_get_pid (c), ==, 0);
  g_assert_cmpuint (ctr_container_get_created_at (c), >=, before);
  g_assert_cmpuint (ctr_container_get_created_at (c), <=, after);
  g_assert_cmpuint (ctr_container_get_started_at (c), ==, 0);
  g_assert_cmpuint (ctr_container_get_finished_at (c), ==, 0);
  g_assert_cmpstr (ctr_container_get_hostname (c), ==, "myhost");
  assert_labels (ctr_container_get_labels (c), "app", "web");
  assert_labels (ctr_container_get_labels (c), "tier", "front");
  g_assert_cmpuint (g_variant_n_children (ctr_container_get_labels (c)), ==, 2);

  /* On disk: its directory, private; nothing mounted or run yet. */
  dir = container_dir (f, id);
  g_assert_cmpint (stat (dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  {
    g_autoptr(GPtrArray) mounts = mounts_under (f->tmp);
    for (guint i = 0; i < mounts->len; i++)
      g_assert_null (strstr (mounts->pdata[i], id));
  }
  g_assert_null (runc_status (f, id));

  /* The image lists its new user, announced by PropertiesChanged. */
  g_assert_true (wait_until (image_lists_container, &listing));
}

static void
test_container_options_take_effect (Fixture *f, gconstpointer data)
{
  g_autofree char *path = create_container (
      f, "effects", CMD ("echo \"$FOO\" > /out; pwd >> /out; hostname >> /out; exit 4"),
      "{'Env': <['FOO=bar baz']>, 'WorkingDir': <'/tmp'>, 'Hostname': <'myhost'>,"
      " 'Entrypoint': <['/bin/sh', '-c']>}");
  g_autofree char *plain_path = create_container (f, "plain", CMD ("sh", "-c", "hostname > /out"),
                                                  NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autoptr(CtrContainer) plain = container_proxy (f, plain_path);
  g_autofree char *out = NULL;
  g_autofree char *plain_out = NULL;
  g_autofree char *out_path = upper_path (f, ctr_container_get_id (c), "out");
  g_autofree char *plain_out_path = upper_path (f, ctr_container_get_id (plain), "out");
  g_autofree char *short_id = g_strndup (ctr_container_get_id (plain), 12);
  g_autofree char *expected_plain = g_strdup_printf ("%s\n", short_id);

  start_container (c);
  g_assert_cmpint (wait_container (c), ==, 4);
  out = read_file_or_null (out_path);
  g_assert_cmpstr (out, ==, "bar baz\n/tmp\nmyhost\n");

  /* Without Hostname: the first 12 characters of the ID. */
  g_assert_cmpstr (ctr_container_get_hostname (plain), ==, short_id);
  start_container (plain);
  g_assert_cmpint (wait_container (plain), ==, 0);
  plain_out = read_file_or_null (plain_out_path);
  g_assert_cmpstr (plain_out, ==, expected_plain);
}

static void
test_container_generated_name (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "", CMD ("true"), NULL);
  g_autofree char *other_path = create_container (f, "", CMD ("true"), NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autoptr(CtrContainer) other = container_proxy (f, other_path);
  g_autoptr(CtrImage) image = image_proxy (f, f->image_path);
  const char *name = ctr_container_get_name (c);
  const char *id = ctr_container_get_id (c);
  g_autofree char *prefix = g_strndup (id, 12);
  const char *references[] = { name, id, prefix };
  g_autoptr(GVariant) users = NULL;
  g_autofree const char **user_paths = NULL;

  g_assert_true (g_regex_match_simple ("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$", name, 0, 0));
  g_assert_cmpstr (ctr_container_get_name (other), !=, name);
  g_assert_cmpstr (path, !=, other_path);

  for (guint i = 0; i < G_N_ELEMENTS (references); i++)
    {
      g_autofree char *found = NULL;
      ctr_manager_call_get_container_sync (f->manager, references[i], &found, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (found, ==, path);
    }

  users = get_property (f, f->image_path, IMAGE_IFACE, "Containers");
  user_paths = g_variant_get_objv (users, NULL);
  g_assert_cmpuint (g_strv_length ((char **) user_paths), ==, 2);
  g_assert_true (strv_has (user_paths, path));
  g_assert_true (strv_has (user_paths, other_path));
}

static void
assert_event_seen (GPtrArray *events, const char *id, const char *event)
{
  g_autofree char *item = g_strdup_printf ("%s %s", id, event);
  Seen seen = { events, item };

  if (!wait_until (item_seen, &seen))
    {
      g_autofree char *msg = g_strdup_printf ("no ContainerEvent \"%s\" for %s", event, id);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

static void
test_container_lifecycle (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  guint removed_sub = g_dbus_connection_signal_subscribe (
      f->bus, BUS_NAME, OBJECT_MANAGER_IFACE, "InterfacesRemoved", MANAGER_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, record_removed_object, removed, NULL);
  guint event_sub = g_dbus_connection_signal_subscribe (
      f->bus, BUS_NAME, MANAGER_IFACE, "ContainerEvent", MANAGER_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, record_event, events, NULL);
  g_autofree char *path = create_container (f, "web", CMD ("sh", "-c", "echo hi; sleep 300"),
                                            NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autofree char *id = g_strdup (ctr_container_get_id (c));
  g_autofree char *dir = container_dir (f, id);
  g_autofree char *status = NULL;
  g_autofree char *again = NULL;
  guint32 pid;
  guint64 started_at;
  Seen gone = { removed, path };

  g_assert_cmpstr (ctr_container_get_state (c), ==, "configured");
  assert_event_seen (events, id, "create");

  ctr_container_call_start_sync (c, NULL, &error);
  g_assert_no_error (error);
  /* Seen through PropertiesChanged, not by asking. */
  wait_for_state (c, CMD ("running"));
  g_assert_cmpstr (ctr_container_get_state (c), ==, "running");
  pid = get_u32 (f, c, "Pid");
  g_assert_cmpuint (pid, >, 0);
  g_assert_true (pid_exists (pid));
  started_at = get_u64 (f, c, "StartedAt");
  g_assert_cmpuint (started_at, >=, ctr_container_get_created_at (c));
  g_assert_cmpuint (get_u64 (f, c, "FinishedAt"), ==, 0);
  status = runc_status (f, id);
  g_assert_cmpstr (status, ==, "running");
  assert_event_seen (events, id, "start");

  /* sleep is pid 1 in its namespace and ignores SIGTERM: Stop kills it. */
  stop_container (c, 5);
  /* Like podman events: the process died, and a stop was asked for. */
  assert_event_seen (events, id, "died");
  assert_event_seen (events, id, "stop");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, 0);
  g_assert_cmpuint (get_u64 (f, c, "FinishedAt"), >=, started_at);
  g_assert_cmpint (get_i32 (f, c, "ExitCode"), ==, 137);
  assert_pid_gone_soon (pid);

  ctr_container_call_remove_sync (c, FALSE, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_until (item_seen, &gone));
  assert_event_seen (events, id, "remove");
  g_assert_false (object_is_managed (f, path));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&status, g_free);
  status = runc_status (f, id);
  g_assert_null (status);
  {
    g_autoptr(GPtrArray) mounts = mounts_under (f->tmp);
    for (guint i = 0; i < mounts->len; i++)
      g_assert_null (strstr (mounts->pdata[i], id));
  }

  /* The name is free again. */
  ctr_manager_call_get_container_sync (f->manager, "web", &again, NULL, &error);
  assert_dbus_error (error, ERR ("NotFound"));
  g_clear_error (&error);
  g_clear_pointer (&again, g_free);
  again = create_container (f, "web", CMD ("true"), NULL);
  g_assert_cmpstr (again, !=, path);

  g_dbus_connection_signal_unsubscribe (f->bus, removed_sub);
  g_dbus_connection_signal_unsubscribe (f->bus, event_sub);
}

static void
test_container_exit_code (Fixture *f, gconstpointer data)
{
  g_autofree char *path = create_container (f, "three", CMD ("sh", "-c", "sleep 1; exit 3"),
                                            NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  WaitCall calls[N_WAITERS] = { { 0 } };

  start_container (c);
  for (guint i = 0; i < N_WAITERS; i++)
    ctr_container_call_wait (c, NULL, on_wait_done, &calls[i]);
  g_assert_true (wait_until (all_waits_done, calls));
  for (guint i = 0; i < N_WAITERS; i++)
    {
      g_assert_no_error (calls[i].error);
      g_assert_cmpint (calls[i].code, ==, 3);
    }

  wait_for_state (c, STATES_ENDED);
  g_assert_cmpint (get_i32 (f, c, "ExitCode"), ==, 3);
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, 0);
  g_assert_cmpuint (get_u64 (f, c, "StartedAt"), >, 0);
  g_assert_cmpuint (get_u64 (f, c, "FinishedAt"), >=, get_u64 (f, c, "StartedAt"));

  /* Waiting on a container that has ended returns at once. */
  g_assert_cmpint (wait_container (c), ==, 3);
}

static void
test_container_stop_signal (Fixture *f, gconstpointer data)
{
  g_autofree char *path = create_container (
      f, "usr1", CMD ("sh", "-c", "trap 'exit 7' USR1; touch /ready; while :; do sleep 1; done"),
      "{'StopSignal': <'SIGUSR1'>}");
  g_autoptr(CtrContainer) c = container_proxy (f, path);

  start_container (c);
  wait_for_upper_file (f, ctr_container_get_id (c), "ready");
  /* A TERM would be ignored by this pid 1 and end in SIGKILL (137). */
  stop_container (c, 60);
  g_assert_cmpint (wait_container (c), ==, 7);
  g_assert_cmpint (get_i32 (f, c, "ExitCode"), ==, 7);
}

static void
test_container_kill (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (
      f, "hup", CMD ("sh", "-c", "trap 'exit 9' HUP; touch /ready; while :; do sleep 1; done"),
      NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);

  start_container (c);
  wait_for_upper_file (f, ctr_container_get_id (c), "ready");
  ctr_container_call_kill_sync (c, "HUP", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wait_container (c), ==, 9);
  wait_for_state (c, STATES_ENDED);

  /* Kill needs a running container. */
  ctr_container_call_kill_sync (c, "SIGTERM", NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
}

static void
test_container_stop_timeout (Fixture *f, gconstpointer data)
{
  const char *const *deaf = CMD ("sh", "-c", "trap '' TERM; touch /ready; sleep 300");
  g_autofree char *path = create_container (f, "deaf", deaf, NULL);
  g_autofree char *quick_path = create_container (f, "deaf-quick", deaf,
                                                  "{'StopTimeout': <uint32 1>}");
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autoptr(CtrContainer) quick = container_proxy (f, quick_path);

  start_container (c);
  wait_for_upper_file (f, ctr_container_get_id (c), "ready");
  stop_container (c, 2);
  /* Killed (128 + SIGKILL), not terminated (128 + SIGTERM = 143). */
  g_assert_cmpint (get_i32 (f, c, "ExitCode"), ==, 137);
  g_assert_cmpint (wait_container (c), ==, 137);

  /* 0xffffffff: the container's own StopTimeout. */
  start_container (quick);
  wait_for_upper_file (f, ctr_container_get_id (quick), "ready");
  stop_container (quick, STOP_TIMEOUT_DEFAULT);
  g_assert_cmpint (get_i32 (f, quick, "ExitCode"), ==, 137);
}

static void
test_container_overlay (Fixture *f, gconstpointer data)
{
  g_autoptr(CtrImage) image = image_proxy (f, f->image_path);
  g_autofree char *path = create_container (
      f, "writer", CMD ("sh", "-c", "echo x > /newfile; touch /ready; sleep 300"), NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  const char *id = ctr_container_get_id (c);
  g_autofree char *upper = g_build_filename (f->storage_root, "containers", id, "upper", NULL);
  g_autofree char *newfile = upper_path (f, id, "newfile");
  g_autofree char *checkout = g_build_filename (f->storage_root, "checkouts",
                                                ctr_image_get_commit (image), NULL);
  g_autofree char *checkout_busybox = g_build_filename (checkout, "bin", "busybox", NULL);
  g_autofree char *checkout_newfile = g_build_filename (checkout, "newfile", NULL);
  g_autofree char *mountinfo = NULL;
  g_autofree char *upper_option = g_strdup_printf ("upperdir=%s", upper);
  g_autofree char *lower_option = g_strdup_printf ("lowerdir=%s", checkout);
  g_autofree char *contents = NULL;

  start_container (c);
  wait_for_upper_file (f, id, "ready");

  contents = read_file_or_null (newfile);
  g_assert_cmpstr (contents, ==, "x\n");
  g_assert_true (g_file_test (checkout_busybox, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (checkout_newfile, G_FILE_TEST_EXISTS));

  /* The root is an overlay: the shared checkout below, the container's upper. */
  mountinfo = mountinfo_line_with_option (upper_option);
  g_assert_nonnull (mountinfo);
  g_assert_nonnull (strstr (mountinfo, " - overlay "));
  g_assert_nonnull (strstr (mountinfo, lower_option));

  stop_container (c, 1);
  g_assert_false (g_file_test (checkout_newfile, G_FILE_TEST_EXISTS));
}

/* ---- the life cycle: start, stop, kill, wait, remove ---------------- */

static void
test_start_running_is_noop (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtrContainer) c = running_container (f, "twice");
  guint32 pid = get_u32 (f, c, "Pid");
  guint64 started_at = get_u64 (f, c, "StartedAt");
  g_autofree char *before = snapshot (f);

  ctr_container_call_start_sync (c, NULL, &error);
  g_assert_no_error (error);
  assert_unchanged (f, before);
  assert_still_running (f, c, pid);
  g_assert_cmpuint (get_u64 (f, c, "StartedAt"), ==, started_at);
}

static void
test_pause_unpause (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) c = ready_container (f, "frozen", "true", NULL);
  const char *id = ctr_container_get_id (c);
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *status = NULL;
  g_autofree char *freezer = NULL;
  g_autofree char *out = NULL;
  g_autofree char *json = NULL;
  g_autoptr (JsonObject) inspected = NULL;
  JsonObject *state;

  freezer = freezer_state (pid);
  g_assert_cmpstr (freezer, ==, "THAWED");
  g_clear_pointer (&freezer, g_free);

  ctr_container_call_pause_sync (c, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (c, CMD ("paused"));
  assert_events (w, id, "start", "pause");
  status = runc_status (f, id);
  g_assert_cmpstr (status, ==, "paused");
  freezer = freezer_state (pid);
  g_assert_cmpstr (freezer, ==, "FROZEN");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);
  g_assert_true (pid_exists (pid));
  json = inspect (c);
  inspected = parse_json_object_text (json);
  state = json_object_get_object_member (inspected, "State");
  g_assert_cmpstr (json_object_get_string_member (state, "Status"), ==, "paused");
  g_assert_true (json_object_get_boolean_member (state, "Paused"));
  g_assert_false (json_object_get_boolean_member (state, "Running"));

  /* Nothing runs in a frozen container. */
  try_exec (c, CMD ("true"), NULL, NULL, NULL, NULL, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);

  ctr_container_call_unpause_sync (c, NULL, &error);
  g_assert_no_error (error);
  wait_for_property (c, "State", g_variant_new_string ("running"));
  assert_events (w, id, "start", "pause", "unpause");
  g_clear_pointer (&status, g_free);
  status = runc_status (f, id);
  g_assert_cmpstr (status, ==, "running");
  g_clear_pointer (&freezer, g_free);
  freezer = freezer_state (pid);
  g_assert_cmpstr (freezer, ==, "THAWED");
  out = exec_output (c, CMD ("echo", "thawed"));
  g_assert_cmpstr (out, ==, "thawed\n");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);

  /* A paused container can be stopped: it is thawed so SIGKILL lands. */
  ctr_container_call_pause_sync (c, NULL, &error);
  g_assert_no_error (error);
  wait_for_property (c, "State", g_variant_new_string ("paused"));
  stop_container (c, 1);
  g_assert_cmpint (wait_container (c), ==, 137);
  assert_pid_gone_soon (pid);
  wait_for_property (c, "State", g_variant_new_string ("exited"));
  g_clear_pointer (&status, g_free);
  status = runc_status (f, id);
  g_assert_null (status);
  assert_no_mount_of (f, id);
  assert_events (w, id, "start", "pause", "unpause", "pause", "died", "stop");
}

static void
test_remove_force (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) running = ready_container (f, "doomed-running", "true", NULL);
  g_autoptr (CtrContainer) paused = ready_container (f, "doomed-paused", "true", NULL);
  CtrContainer *targets[] = { running, paused };

  ctr_container_call_pause_sync (paused, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (paused, CMD ("paused"));

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      CtrContainer *c = targets[i];
      g_autofree char *id = g_strdup (ctr_container_get_id (c));
      g_autofree char *path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)));
      guint32 pid = get_u32 (f, c, "Pid");

      g_assert_cmpuint (pid, >, 0);
      ctr_container_call_remove_sync (c, TRUE, FALSE, NULL, &error);
      g_assert_no_error (error);
      assert_object_removed (w, f, path);
      assert_events (w, id, "died", "remove");
      assert_pid_gone_soon (pid);
      assert_container_gone_from_disk (f, id);
      assert_run_dir_gone (f, id);
      g_assert_null (get_container_path (f, id, &error));
      assert_dbus_error (error, ERR ("NotFound"));
      g_clear_error (&error);
    }
}

#define RESTART_LOG "started\nstopping\nstarted\nstopping\nstarted\n"

/* The restart case's log holds its three runs' lines. */
static gboolean
log_has_runs (gconstpointer data)
{
  g_autofree char *log = get_logs ((CtrContainer *) data, NULL);

  return g_strcmp0 (log, RESTART_LOG) == 0;
}

static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  /* TERM ends it at once (the trap), so each restart is a clean stop. */
  g_autofree char *path = create_container (
      f, "again",
      CMD ("sh", "-c",
           "echo run >> /runs; echo started; trap 'echo stopping; exit 0' TERM; touch /tmp/ready; "
           "while :; do sleep 1; done"),
      NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  const char *id = ctr_container_get_id (c);
  g_autofree char *runs_path = upper_path (f, id, "runs");
  g_autofree char *ready_path = upper_path (f, id, "tmp/ready");
  g_autofree char *runs = NULL;
  g_autofree char *log = NULL;
  guint32 pid1, pid2, pid3;
  guint64 started1, started2;

  /* From configured: a plain start, announced as a restart. */
  ctr_container_call_restart_sync (c, 10, NULL, &error);
  g_assert_no_error (error);
  wait_for_property (c, "State", g_variant_new_string ("running"));
  assert_events (w, id, "create", "restart");
  wait_for_upper_file (f, id, "tmp/ready");
  pid1 = get_u32 (f, c, "Pid");
  started1 = get_u64 (f, c, "StartedAt");
  g_assert_true (pid_exists (pid1));

  /* From running: stopped with the stop signal, then started again. */
  g_assert_cmpint (g_unlink (ready_path), ==, 0);
  ctr_container_call_restart_sync (c, 30, NULL, &error);
  g_assert_no_error (error);
  /* The call returns once it runs again. */
  assert_string_property (f, path, "State", "running");
  assert_events (w, id, "create", "restart", "died", "stop", "restart");
  pid2 = get_u32 (f, c, "Pid");
  started2 = get_u64 (f, c, "StartedAt");
  g_assert_cmpuint (pid2, !=, pid1);
  g_assert_true (pid_exists (pid2));
  g_assert_cmpuint (started2, >=, started1);
  g_assert_cmpint (get_i32 (f, c, "ExitCode"), ==, 0);
  assert_pid_gone_soon (pid1);
  wait_for_upper_file (f, id, "tmp/ready");

  /* From exited. */
  stop_container (c, 30);
  g_assert_cmpint (wait_container (c), ==, 0);
  wait_for_property (c, "State", g_variant_new_string ("exited"));
  g_assert_cmpint (g_unlink (ready_path), ==, 0);
  ctr_container_call_restart_sync (c, STOP_TIMEOUT_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  assert_string_property (f, path, "State", "running");
  pid3 = get_u32 (f, c, "Pid");
  g_assert_cmpuint (pid3, !=, pid2);
  g_assert_true (pid_exists (pid3));
  /* Running is not yet having written /runs: the ready file comes after. */
  wait_for_upper_file (f, id, "tmp/ready");

  /* Three runs of the same writable layer, and of the log. */
  runs = read_file_or_null (runs_path);
  g_assert_cmpstr (runs, ==, "run\nrun\nrun\n");
  /* Each stop was the stop signal, not SIGKILL: the trap ran. The last
   * "started" was printed before the ready file, but conmon copies it to the
   * log on its own time: wait for it there. */
  wait_until (log_has_runs, c);
  log = get_logs (c, NULL);
  g_assert_cmpstr (log, ==, RESTART_LOG);
  {
    g_autofree char *status = runc_status (f, id);
    g_assert_cmpstr (status, ==, "running");
  }
}

static void
test_kill_signals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) c = ready_container (
      f, "signals",
      "trap 'echo hup >> /sigs' HUP; trap 'echo usr1 >> /sigs' USR1; "
      "trap 'echo usr2 >> /sigs' USR2; trap 'echo rtmin3 >> /sigs' 37",
      NULL);
  g_autofree char *sigs_path = upper_path (f, ctr_container_get_id (c), "sigs");
  /* Each signal as a name, a short name, a number and SIGRTMIN+n; glibc's
   * SIGRTMIN is 34, so SIGRTMIN+3 is 37 in the container's shell too. */
  static const struct
  {
    const char *signal;
    const char *expected;
  } cases[] = {
    { "SIGHUP", "hup\n" },
    { "HUP", "hup\nhup\n" },
    { "USR1", "hup\nhup\nusr1\n" },
    { "12", "hup\nhup\nusr1\nusr2\n" },
    { "SIGRTMIN+3", "hup\nhup\nusr1\nusr2\nrtmin3\n" },
  };
  guint32 pid = get_u32 (f, c, "Pid");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *sigs = NULL;
      gint64 deadline = g_get_monotonic_time () + (gint64) WAIT_TIMEOUT_S * G_USEC_PER_SEC;

      ctr_container_call_kill_sync (c, cases[i].signal, NULL, &error);
      g_assert_no_error (error);
      /* The shell runs a trap once its sleep ends. */
      while ((sigs = read_file_or_null (sigs_path)) == NULL ||
             !g_str_equal (sigs, cases[i].expected))
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_clear_pointer (&sigs, g_free);
          g_usleep (50 * 1000);
        }
      assert_string_property (f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), "State",
                              "running");
      g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);
    }

  ctr_container_call_kill_sync (c, "9", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wait_container (c), ==, 137);
}

static void
test_rename (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) c = ready_container (f, "before", "true", "{'Hostname': <'keep'>}");
  g_autofree char *path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)));
  g_autofree char *id = g_strdup (ctr_container_get_id (c));
  g_autofree char *hosts = exec_output (c, CMD ("cat", "/etc/hosts"));
  g_autofree char *env = NULL;
  g_autofree char *found = NULL;
  g_autofree char *json = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *again = NULL;
  g_autoptr (JsonObject) inspected = NULL;

  assert_has_line (hosts, "127.0.0.1\tkeep before");

  ctr_container_call_rename_sync (c, "after", NULL, &error);
  g_assert_no_error (error);
  wait_for_property (c, "Name", g_variant_new_string ("after"));
  assert_events (w, id, "rename");
  found = get_container_path (f, "after", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, path);
  g_assert_null (get_container_path (f, "before", &error));
  assert_dbus_error (error, ERR ("NotFound"));
  g_clear_error (&error);
  json = inspect (c);
  inspected = parse_json_object_text (json);
  g_assert_cmpstr (json_object_get_string_member (inspected, "Name"), ==, "after");
  /* The hostname is not the name. */
  g_assert_cmpstr (ctr_container_get_hostname (c), ==, "keep");
  hostname = exec_output (c, CMD ("hostname"));
  g_assert_cmpstr (hostname, ==, "keep\n");

  /* Renaming to its own name changes nothing and announces nothing. */
  ctr_container_call_rename_sync (c, "after", NULL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *events = events_of (w, id);
    g_auto (GStrv) pieces = g_strsplit (events, "rename", -1);
    g_assert_cmpuint (g_strv_length (pieces), ==, 2);
  }

  /* The generated files follow the new name at the next start. */
  ctr_container_call_restart_sync (c, 1, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&hosts, g_free);
  hosts = exec_output (c, CMD ("cat", "/etc/hosts"));
  assert_has_line (hosts, "127.0.0.1\tkeep after");
  g_assert_null (strstr (hosts, "before"));
  env = exec_output (c, CMD ("cat", "/run/.containerenv"));
  assert_has_line (env, "name=\"after\"");

  /* The old name is free, and the new one survives a daemon restart. */
  again = create_container (f, "before", CMD ("true"), NULL);
  g_assert_cmpstr (again, !=, path);
  g_clear_object (&c);
  g_assert_cmpint (stop_daemon (f), ==, 0);
  start_daemon (f);
  g_clear_pointer (&found, g_free);
  found = get_container_path (f, "after", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, path);
  g_clear_pointer (&hostname, g_free);
  hostname = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (hostname, ==, "after");
}

static void
test_prune (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autofree char *configured_path = create_container (f, "p-configured", CMD ("true"), NULL);
  g_autofree char *ok_path = create_container (f, "p-ok", CMD ("true"), NULL);
  g_autofree char *failed_path = create_container (f, "p-failed", CMD ("sh", "-c", "exit 3"),
                                                   NULL);
  g_autoptr (CtrContainer) running = ready_container (f, "p-running", "true", NULL);
  g_autoptr (CtrContainer) ok = container_proxy (f, ok_path);
  g_autoptr (CtrContainer) failed = container_proxy (f, failed_path);
  g_autofree char *ok_id = g_strdup (ctr_container_get_id (ok));
  g_autofree char *failed_id = g_strdup (ctr_container_get_id (failed));
  g_auto (GStrv) removed = NULL;
  g_auto (GStrv) again = NULL;
  guint32 running_pid = get_u32 (f, running, "Pid");
  g_autoptr (GPtrArray) expected = g_ptr_array_new ();
  g_autoptr (GPtrArray) got = g_ptr_array_new ();
  g_autofree char *expected_text = NULL;
  g_autofree char *got_text = NULL;

  start_container (ok);
  start_container (failed);
  g_assert_cmpint (wait_container (ok), ==, 0);
  g_assert_cmpint (wait_container (failed), ==, 3);
  wait_for_state (ok, CMD ("exited"));
  wait_for_state (failed, CMD ("exited"));

  ctr_manager_call_prune_containers_sync (f->manager, &removed, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (expected, ok_id);
  g_ptr_array_add (expected, failed_id);
  for (guint i = 0; removed[i] != NULL; i++)
    g_ptr_array_add (got, removed[i]);
  expected_text = join_sorted (expected);
  got_text = join_sorted (got);
  g_assert_cmpstr (got_text, ==, expected_text);

  assert_object_removed (w, f, ok_path);
  assert_object_removed (w, f, failed_path);
  assert_events (w, ok_id, "remove");
  assert_events (w, failed_id, "remove");
  assert_container_gone_from_disk (f, ok_id);
  assert_container_gone_from_disk (f, failed_id);
  assert_run_dir_gone (f, ok_id);
  assert_run_dir_gone (f, failed_id);

  /* What does not run any more went; the rest is as it was. */
  g_assert_true (object_is_managed (f, configured_path));
  assert_string_property (f, configured_path, "State", "configured");
  assert_still_running (f, running, running_pid);

  ctr_manager_call_prune_containers_sync (f->manager, &again, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (again), ==, 0);
}

static void
test_auto_remove (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  const char *options = "{'AutoRemove': <true>}";
  g_autoptr (CtrContainer) c = ready_container (f, "temp", "trap 'exit 3' USR1", options);
  g_autoptr (CtrContainer) later = ready_container (f, "temp-later", "trap 'exit 4' USR1", options);
  g_autofree char *path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)));
  g_autofree char *id = g_strdup (ctr_container_get_id (c));
  g_autofree char *later_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (later)));
  g_autofree char *later_id = g_strdup (ctr_container_get_id (later));
  g_autoptr (CtrContainer) plain = ready_container (f, "kept", "trap 'exit 5' USR1", NULL);
  WaitCall call = { 0 };
  guint32 later_pid = get_u32 (f, later, "Pid");

  g_assert_true (ctr_container_get_auto_remove (c));
  g_assert_false (ctr_container_get_auto_remove (plain));

  /* A waiter still gets the exit code before the container goes. */
  ctr_container_call_wait (c, NULL, on_wait_done, &call);
  ctr_container_call_kill_sync (c, "USR1", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_until (flag_is_set, &call.done));
  g_assert_no_error (call.error);
  g_assert_cmpint (call.code, ==, 3);
  assert_object_removed (w, f, path);
  assert_events (w, id, "died", "remove");
  assert_container_gone_from_disk (f, id);

  /* A container without it stays. */
  ctr_container_call_kill_sync (plain, "USR1", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wait_container (plain), ==, 5);
  wait_for_state (plain, CMD ("exited"));
  g_assert_true (object_is_managed (f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (plain))));

  /* An exit seen only when the daemon comes back also removes it. */
  g_clear_object (&later);
  g_assert_cmpint (stop_daemon (f), ==, 0);
  g_assert_cmpint (kill ((pid_t) later_pid, SIGUSR1), ==, 0);
  assert_pid_gone_soon (later_pid);
  start_daemon (f);
  wait_object_unmanaged (f, later_path);
  assert_events (w, later_id, "remove");
  assert_container_gone_from_disk (f, later_id);
}

/* Wait answers as soon as the process is gone; a Start sent right after it
 * must work although the daemon may still be cleaning up the last run
 * ("From stopped it is first removed from the runtime and created again"). */
static void
test_start_after_wait (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = create_container (f, "rerun", CMD ("sh", "-c", "echo ran"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autofree char *log = NULL;

  for (guint run = 0; run < 3; run++)
    {
      ctr_container_call_start_sync (c, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (wait_container (c), ==, 0);
    }
  wait_for_property (c, "State", g_variant_new_string ("exited"));
  log = get_logs (c, NULL);
  g_assert_cmpstr (log, ==, "ran\nran\nran\n");
}

static GDBusConnection *
new_bus_connection (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  GDBusConnection *connection;

  g_assert_no_error (error);
  connection = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

typedef struct
{
  gboolean done;
  GVariant *reply;
  GError *error;
} RawCall;

static void
on_raw_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RawCall *call = user_data;

  call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);
  call->done = TRUE;
}

#define N_CLIENTS 3

/* A call answered only after every call sent before it on @connection. */
static void
round_trip (GDBusConnection *connection, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", CONTAINER_IFACE, "State"), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
      &error);

  g_assert_no_error (error);
}

static gboolean
raw_calls_done (gconstpointer data)
{
  const RawCall *calls = data;

  for (guint i = 0; i < N_CLIENTS; i++)
    if (!calls[i].done)
      return FALSE;
  return TRUE;
}

static void
test_wait_many (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) c = ready_container (f, "waited", "trap 'exit 42' USR1", NULL);
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  GDBusConnection *clients[N_CLIENTS];
  RawCall raw[N_CLIENTS] = { { 0 } };
  WaitCall calls[N_WAITERS] = { { 0 } };
  g_autoptr (GDBusConnection) leaver = new_bus_connection ();
  g_autofree char *log = NULL;

  /* Waiters on several connections, several on ours. Each Wait is handled
   * before the Get that follows it on the same connection returns, so all
   * of them wait at once. */
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      clients[i] = new_bus_connection ();
      g_dbus_connection_call (clients[i], BUS_NAME, path, CONTAINER_IFACE, "Wait", NULL,
                              G_VARIANT_TYPE ("(i)"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL,
                              on_raw_call_done, &raw[i]);
      round_trip (clients[i], path);
    }
  for (guint i = 0; i < N_WAITERS; i++)
    ctr_container_call_wait (c, NULL, on_wait_done, &calls[i]);
  round_trip (f->bus, path);

  /* One waiter leaves the bus before the exit. */
  g_dbus_connection_call (leaver, BUS_NAME, path, CONTAINER_IFACE, "Wait", NULL,
                          G_VARIANT_TYPE ("(i)"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, NULL,
                          NULL);
  round_trip (leaver, path);
  g_dbus_connection_close_sync (leaver, NULL, &error);
  g_assert_no_error (error);

  /* Still running, nobody answered yet. */
  g_assert_false (raw_calls_done (raw));
  g_assert_false (all_waits_done (calls));

  ctr_container_call_kill_sync (c, "USR1", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_until (raw_calls_done, raw));
  g_assert_true (wait_until (all_waits_done, calls));
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      int code = -1;
      g_assert_no_error (raw[i].error);
      g_variant_get (raw[i].reply, "(i)", &code);
      g_assert_cmpint (code, ==, 42);
      g_variant_unref (raw[i].reply);
      g_object_unref (clients[i]);
    }
  for (guint i = 0; i < N_WAITERS; i++)
    {
      g_assert_no_error (calls[i].error);
      g_assert_cmpint (calls[i].code, ==, 42);
    }
  wait_for_state (c, CMD ("exited"));
  /* The daemon carried on without a word about the waiter that left. */
  g_assert_cmpint (wait_container (c), ==, 42);
  log = read_file_or_null (f->log_path);
  g_assert_null (strstr (log, "<4>"));
  g_assert_null (strstr (log, "<3>"));
}

/* ---- registration ---------------------------------------------------- */

void
integration_add_container_cases (void)
{
  add_case ("/container/create-options", test_container_create_options, NULL);
  add_case ("/container/options-take-effect", test_container_options_take_effect, NULL);
  add_case ("/container/generated-name", test_container_generated_name, NULL);
  add_case ("/container/lifecycle", test_container_lifecycle, NULL);
  add_case ("/container/exit-code", test_container_exit_code, NULL);
  add_case ("/container/stop-signal", test_container_stop_signal, NULL);
  add_case ("/container/kill", test_container_kill, NULL);
  add_case ("/container/stop-timeout", test_container_stop_timeout, NULL);
  add_case ("/container/overlay", test_container_overlay, NULL);
}

void
integration_add_lifecycle_cases (void)
{
  add_case ("/state/start-running-is-noop", test_start_running_is_noop, NULL);
  add_case ("/lifecycle/pause-unpause", test_pause_unpause, NULL);
  add_case ("/lifecycle/remove-force", test_remove_force, NULL);
  add_case ("/lifecycle/restart", test_restart, NULL);
  add_case ("/lifecycle/kill-signals", test_kill_signals, NULL);
  add_case ("/lifecycle/rename", test_rename, NULL);
  add_case ("/lifecycle/prune", test_prune, NULL);
  add_case ("/lifecycle/auto-remove", test_auto_remove, NULL);
  add_case ("/lifecycle/wait-many", test_wait_many, NULL);
  add_case ("/lifecycle/start-after-wait", test_start_after_wait, NULL);
}
