/* integration-dependencies.c: around the container: the containers it
 * depends on, OCI hooks, a reboot of the host, the OOM killer. */
#include "config.h"

#include "integration-common.h"

/* ---- around the container: dependencies, hooks, OOM, reboot ----------- */

static void
test_depends_on (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autofree char *db_path = create_container (f, "db", CMD ("sleep", "300"), NULL);
  g_autofree char *cache_path = create_container (f, "cache", CMD ("sleep", "300"), NULL);
  g_autoptr (CtrContainer) db = container_proxy (f, db_path);
  g_autoptr (CtrContainer) cache = container_proxy (f, cache_path);
  g_autofree char *db_id = g_strdup (ctr_container_get_id (db));
  g_autofree char *cache_id = g_strdup (ctr_container_get_id (cache));
  /* By name and by ID. */
  g_autofree char *options = g_strdup_printf ("{'DependsOn': <['db', '%s']>}", cache_id);
  g_autofree char *app_path = create_container (f, "app", CMD ("sleep", "300"), options);
  g_autoptr (CtrContainer) app = container_proxy (f, app_path);
  g_autofree char *app_id = g_strdup (ctr_container_get_id (app));
  g_autofree char *before = NULL;
  g_autofree char *events = NULL;
  const char *const *deps = ctr_container_get_depends_on (app);
  guint32 db_pid;

  g_assert_cmpuint (g_strv_length ((char **) deps), ==, 2);
  g_assert_cmpstr (deps[0], ==, db_path);
  g_assert_cmpstr (deps[1], ==, cache_path);
  g_assert_cmpuint (g_strv_length ((char **) ctr_container_get_depends_on (db)), ==, 0);

  /* Start starts them first. */
  start_container (app);
  wait_for_state (app, CMD ("running"));
  wait_for_state (db, CMD ("running"));
  wait_for_state (cache, CMD ("running"));
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *status = runc_status (f, i == 0 ? db_id : cache_id);
      g_assert_cmpstr (status, ==, "running");
    }
  {
    g_autofree char *db_start = g_strdup_printf ("%s start", db_id);
    g_autofree char *cache_start = g_strdup_printf ("%s start", cache_id);
    g_autofree char *app_start = g_strdup_printf ("%s start", app_id);
    guint i_db = G_MAXUINT, i_cache = G_MAXUINT, i_app = G_MAXUINT;
    for (guint i = 0; i < w->events->len; i++)
      {
        if (g_str_equal (w->events->pdata[i], db_start))
          i_db = i;
        if (g_str_equal (w->events->pdata[i], cache_start))
          i_cache = i;
        if (g_str_equal (w->events->pdata[i], app_start))
          i_app = i;
      }
    g_assert_cmpuint (i_app, !=, G_MAXUINT);
    g_assert_cmpuint (i_db, <, i_app);
    g_assert_cmpuint (i_cache, <, i_app);
  }

  /* A dependency goes only with force, running or not. */
  db_pid = get_u32 (f, db, "Pid");
  before = snapshot (f);
  ctr_container_call_remove_sync (db, FALSE, FALSE, NULL, &error);
  assert_dbus_error (error, ERR ("InUse"));
  g_clear_error (&error);
  assert_unchanged (f, before);
  assert_still_running (f, db, db_pid);
  stop_container (cache, 1);
  g_clear_pointer (&before, g_free);
  before = snapshot (f);
  ctr_container_call_remove_sync (cache, FALSE, FALSE, NULL, &error);
  assert_dbus_error (error, ERR ("InUse"));
  g_clear_error (&error);
  assert_unchanged (f, before);
  events = events_of (w, cache_id);
  g_assert_null (strstr (events, "remove"));

  ctr_container_call_remove_sync (db, TRUE, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, db_path);
  assert_events (w, db_id, "start", "died", "remove");
  assert_pid_gone_soon (db_pid);
  assert_container_gone_from_disk (f, db_id);
  /* Its dependent runs on. */
  assert_string_property (f, app_path, "State", "running");
}

static void
test_depends_on_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src = g_build_filename (f->tmp, "vanishing", NULL);
  g_autofree char *bad_options = NULL;
  g_autofree char *bad_path = NULL;
  g_autofree char *app_path = NULL;
  g_autoptr (CtrContainer) bad = NULL;
  g_autoptr (CtrContainer) app = NULL;
  g_autofree char *before = NULL;
  g_autofree char *state = NULL;

  /* A dependency whose bind source goes away after creation cannot start. */
  make_dir (src);
  bad_options = g_strdup_printf (
      "{'Mounts': <[{'Type': <'bind'>, 'Source': <'%s'>, 'Destination': <'/gone'>}]>}", src);
  bad_path = create_container (f, "broken-dep", CMD ("sleep", "300"), bad_options);
  app_path = create_container (f, "needs-broken", CMD ("sleep", "300"),
                               "{'DependsOn': <['broken-dep']>}");
  bad = container_proxy (f, bad_path);
  app = container_proxy (f, app_path);
  g_assert_cmpint (g_rmdir (src), ==, 0);

  before = snapshot_except_run (f);
  ctr_container_call_start_sync (app, NULL, &error);
  assert_dbus_error (error, ERR ("DependencyFailed"));
  g_clear_error (&error);
  assert_unchanged_except_run (f, before);
  {
    g_autofree char *app_run_dir = g_build_filename (f->run_root, "containers",
                                                     ctr_container_get_id (app), NULL);
    g_assert_false (g_file_test (app_run_dir, G_FILE_TEST_EXISTS));
  }
  state = get_string_property (f, app_path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
  g_assert_cmpuint (get_u32 (f, app, "Pid"), ==, 0);
  g_assert_null (runc_status (f, ctr_container_get_id (app)));

  /* Once the dependency can start, so can the container. */
  make_dir (src);
  start_container (app);
  wait_for_state (app, CMD ("running"));
  wait_for_state (bad, CMD ("running"));

  /* Forced away, the dependency leaves its dependent unable to start. */
  ctr_container_call_remove_sync (bad, TRUE, FALSE, NULL, &error);
  g_assert_no_error (error);
  stop_container (app, 1);
  g_clear_pointer (&before, g_free);
  before = snapshot (f);
  ctr_container_call_start_sync (app, NULL, &error);
  assert_dbus_error (error, ERR ("DependencyFailed"));
  assert_unchanged (f, before);
}

static void
write_hook (const char *dir, const char *file, const char *script, const char *when,
            const char *stages)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *quoted = g_strescape (script, NULL);
  g_autofree char *json = g_strdup_printf (
      "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", "
      "\"%s\"]}, \"when\": %s, \"stages\": %s}",
      quoted, when, stages);

  make_dir (dir);
  write_text (path, json);
}

static char *
read_json_member (const char *path, const char *member)
{
  g_autofree char *text = read_file_or_null (path);
  g_autoptr (JsonObject) object = NULL;

  g_assert_nonnull (text);
  object = parse_json_object_text (text);
  return g_strdup (json_object_get_string_member (object, member));
}

static void
test_hooks (Fixture *f, gconstpointer data)
{
  g_autofree char *marks = g_build_filename (f->tmp, "marks", NULL);
  g_autofree char *script = NULL;
  g_autofree char *src = g_build_filename (f->tmp, "hook-bind", NULL);
  g_autofree char *bind_options = NULL;
  g_autoptr (CtrContainer) c = NULL;
  g_autoptr (CtrContainer) other = NULL;
  g_autofree char *prestart = g_build_filename (marks, "prestart.json", NULL);
  g_autofree char *create_runtime = g_build_filename (marks, "createRuntime.json", NULL);
  g_autofree char *poststop = g_build_filename (marks, "poststop.json", NULL);
  g_autofree char *override = g_build_filename (marks, "override", NULL);
  g_autofree char *annotated = g_build_filename (marks, "annotated", NULL);
  g_autofree char *commands = g_build_filename (marks, "commands", NULL);
  g_autofree char *binds = g_build_filename (marks, "binds", NULL);
  g_autofree char *runtime_knew = g_build_filename (marks, "runtime-state-status", NULL);
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  g_autofree char *other_id = NULL;
  g_autofree char *other_path = NULL;
  g_autofree char *got = NULL;
  g_autofree char *spec_path = NULL;
  g_autofree char *spec_text = NULL;
  g_autofree char *bundle = NULL;
  g_autoptr (JsonObject) spec = NULL;
  g_autoptr (JsonObject) state = NULL;
  g_autofree char *state_text = NULL;
  JsonObject *hooks, *annotations;

  make_dir (marks);
  make_dir (src);
  /* Created first: the hooks are read at each start, and the poststop one
   * asks the runtime about this container. */
  path = create_container (
      f, "hooked", CMD ("sh", "-c", "touch /tmp/ready; while :; do sleep 1; done"),
      "{'Labels': <{'hooktest': 'yes', 'tier': 'x'}>}");
  c = container_proxy (f, path);
  id = g_strdup (ctr_container_get_id (c));
  script = g_strdup_printf ("cat > %s", prestart);
  write_hook (f->hooks_dirs[0], "10-prestart.json", script, "{\"always\": true}", "[\"prestart\"]");
  g_free (script);
  script = g_strdup_printf ("cat > %s", create_runtime);
  write_hook (f->hooks_dirs[1], "11-create-runtime.json", script, "{\"always\": true}",
              "[\"createRuntime\"]");
  g_free (script);
  script = g_strdup_printf ("cat > %s; %s --root %s/runc state %s >/dev/null 2>&1; echo $? > %s",
                            poststop, runc_path, f->run_root, id, runtime_knew);
  write_hook (f->hooks_dirs[1], "12-poststop.json", script, "{\"always\": true}",
              "[\"poststop\"]");
  /* The same file name in a later directory wins. */
  g_free (script);
  script = g_strdup_printf ("echo a >> %s", override);
  write_hook (f->hooks_dirs[0], "20-override.json", script, "{\"always\": true}",
              "[\"prestart\"]");
  g_free (script);
  script = g_strdup_printf ("echo b >> %s", override);
  write_hook (f->hooks_dirs[1], "20-override.json", script, "{\"always\": true}",
              "[\"prestart\"]");
  /* Conditional ones: each appends the container's state to its file. */
  g_free (script);
  script = g_strdup_printf ("cat >> %s; echo >> %s", annotated, annotated);
  write_hook (f->hooks_dirs[0], "30-annotated.json", script,
              "{\"annotations\": {\"^hooktest$\": \"^yes$\"}}", "[\"prestart\"]");
  g_free (script);
  script = g_strdup_printf ("cat >> %s; echo >> %s", commands, commands);
  write_hook (f->hooks_dirs[0], "31-commands.json", script, "{\"commands\": [\"^sleep$\"]}",
              "[\"prestart\"]");
  g_free (script);
  script = g_strdup_printf ("cat >> %s; echo >> %s", binds, binds);
  write_hook (f->hooks_dirs[0], "32-binds.json", script, "{\"hasBindMounts\": true}",
              "[\"prestart\"]");

  start_container (c);
  wait_for_state (c, CMD ("running"));
  wait_for_upper_file (f, id, "tmp/ready");
  bind_options = g_strdup_printf ("{'Mounts': <[{'Type': <'bind'>, 'Source': <'%s'>,"
                                  " 'Destination': <'/b'>}]>}",
                                  src);
  other_path = create_container (f, "plain-sleeper", CMD ("sleep", "300"), bind_options);
  other = container_proxy (f, other_path);
  other_id = g_strdup (ctr_container_get_id (other));
  start_container (other);
  wait_for_state (other, CMD ("running"));

  /* The runtime ran the start-time hooks with the state on stdin. */
  got = read_json_member (prestart, "id");
  g_assert_cmpstr (got, ==, other_id);
  g_clear_pointer (&got, g_free);
  got = read_json_member (create_runtime, "id");
  g_assert_cmpstr (got, ==, other_id);
  g_clear_pointer (&got, g_free);
  got = read_file_or_null (override);
  g_assert_cmpstr (got, ==, "b\nb\n");
  g_clear_pointer (&got, g_free);
  got = read_file_or_null (annotated);
  g_assert_nonnull (strstr (got, id));
  g_assert_null (strstr (got, other_id));
  g_clear_pointer (&got, g_free);
  got = read_file_or_null (commands);
  g_assert_nonnull (strstr (got, other_id));
  g_assert_null (strstr (got, id));
  g_clear_pointer (&got, g_free);
  got = read_file_or_null (binds);
  g_assert_nonnull (strstr (got, other_id));
  g_assert_null (strstr (got, id));
  g_assert_false (g_file_test (poststop, G_FILE_TEST_EXISTS));

  /* On disk: the runtime's hooks are in the spec; poststop is not, the
   * daemon runs it itself. */
  spec_path = g_build_filename (f->storage_root, "containers", id, "config.json", NULL);
  g_assert_true (g_file_get_contents (spec_path, &spec_text, NULL, NULL));
  spec = parse_json_object_text (spec_text);
  hooks = json_object_get_object_member (spec, "hooks");
  g_assert_nonnull (hooks);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (hooks, "prestart")), ==,
                    3);
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (hooks, "createRuntime")), ==, 1);
  g_assert_false (json_object_has_member (hooks, "poststop"));

  /* poststop: after the runtime delete, with the state on stdin. */
  stop_container (c, 1);
  wait_for_state (c, CMD ("exited"));
  g_assert_true (wait_until (path_exists, poststop));
  state_text = read_file_or_null (poststop);
  g_assert_nonnull (state_text);
  g_clear_pointer (&spec, json_object_unref);
  state = parse_json_object_text (state_text);
  g_assert_cmpstr (json_object_get_string_member (state, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (state, "status"), ==, "stopped");
  bundle = container_dir (f, id);
  g_assert_cmpstr (json_object_get_string_member (state, "bundle"), ==, bundle);
  annotations = json_object_get_object_member (state, "annotations");
  g_assert_cmpstr (json_object_get_string_member (annotations, "hooktest"), ==, "yes");
  /* It ran after the runtime delete: runc state failed then. */
  g_clear_pointer (&got, g_free);
  got = read_file_or_null (runtime_knew);
  g_assert_nonnull (got);
  g_assert_cmpstr (got, !=, "0\n");
  g_assert_null (runc_status (f, id));
}

/* The memory cgroup file @name of @pid's cgroup (v1, else v2's @v2_name). */
static char *
memory_cgroup_file (guint32 pid, const char *name, const char *v2_name)
{
  g_autofree char *cgroup_path = g_strdup_printf ("/proc/%u/cgroup", pid);
  g_autofree char *cgroups = read_file_or_null (cgroup_path);
  g_auto (GStrv) lines = g_strsplit (cgroups ? cgroups : "", "\n", -1);

  for (char **line = lines; *line; line++)
    {
      g_auto (GStrv) fields = g_strsplit (*line, ":", 3);
      if (g_strv_length (fields) == 3 && g_str_equal (fields[1], "memory"))
        return g_strdup_printf ("/sys/fs/cgroup/memory%s/%s", fields[2], name);
    }
  for (char **line = lines; *line; line++)
    if (g_str_has_prefix (*line, "0::"))
      return g_strdup_printf ("/sys/fs/cgroup%s/%s", *line + 3, v2_name);
  return NULL;
}

/* There is no MemoryLimit option yet: the case limits the container's
 * memory cgroup itself, then makes its main process take more. */
static void
test_oom (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) c = ready_container (
      f, "hog", "trap 'exec dd if=/dev/zero of=/dev/null bs=64M count=1' USR1", NULL);
  const char *id = ctr_container_get_id (c);
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *limit_file = memory_cgroup_file (pid, "memory.limit_in_bytes", "memory.max");
  g_autofree char *json = NULL;
  g_autoptr (JsonObject) root = NULL;
  WaitCall call = { 0 };

  g_assert_false (ctr_container_get_oomkilled (c));
  g_assert_nonnull (limit_file);
  {
    /* cgroupfs takes writes in place, not g_file_set_contents's rename. */
    int fd = open (limit_file, O_WRONLY | O_CLOEXEC);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (write (fd, "16777216", 8), ==, 8);
    close (fd);
  }

  ctr_container_call_wait (c, NULL, on_wait_done, &call);
  ctr_container_call_kill_sync (c, "USR1", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_until (flag_is_set, &call.done));
  g_assert_no_error (call.error);
  g_assert_cmpint (call.code, ==, 137);
  wait_for_property (c, "OOMKilled", g_variant_new_boolean (TRUE));
  assert_events (w, id, "start", "oom", "died");
  json = inspect (c);
  root = parse_json_object_text (json);
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (root, "State"),
                                                 "OOMKilled"));

  /* Nothing is lost: a restarted daemon still knows. */
  wait_for_state (c, CMD ("exited"));
  {
    g_autofree char *path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)));
    g_autoptr (CtrContainer) again = NULL;

    g_clear_object (&c);
    g_assert_cmpint (stop_daemon (f), ==, 0);
    start_daemon (f);
    again = container_proxy (f, path);
    g_assert_true (ctr_container_get_oomkilled (again));
    c = g_steal_pointer (&again);
  }

  /* The next run starts with a clean slate. */
  start_container (c);
  wait_for_state (c, CMD ("running"));
  wait_for_property (c, "OOMKilled", g_variant_new_boolean (FALSE));
}

/* What a reboot leaves: no process, no mount, an empty run root, and a new
 * boot id. The daemon is not running. */
static void
simulate_reboot (Fixture *f)
{
  g_autofree char *runc_root = g_build_filename (f->run_root, "runc", NULL);
  g_autofree char *out = NULL;
  g_autofree char *needle = g_strconcat (f->run_root, "/", NULL);
  g_autofree char *boot_id = g_uuid_string_random ();

  g_assert_null (f->daemon);
  g_assert_cmpint (run_command (CMD (runc_path, "--root", runc_root, "list", "-q"), &out, NULL),
                   ==, 0);
  {
    g_auto (GStrv) ids = g_strsplit (out, "\n", -1);
    for (char **id = ids; *id; id++)
      if (**id != '\0')
        g_assert_cmpint (run_command (CMD (runc_path, "--root", runc_root, "delete", "--force",
                                           *id),
                                      NULL, NULL),
                         ==, 0);
  }
  /* conmon goes once its container has. */
  g_assert_true (wait_no_process_mentions (needle, 30));
  {
    g_autoptr (GPtrArray) mounts = mounts_under (f->run_root);
    for (guint i = 0; i < mounts->len; i++)
      g_assert_cmpint (umount2 (mounts->pdata[i], MNT_DETACH), ==, 0);
  }
  g_assert_cmpint (run_command (CMD ("rm", "-rf", "--one-file-system", f->run_root), NULL, NULL),
                   ==, 0);
  write_text (f->boot_id_path, boot_id);
}

static void
test_reboot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) running = ready_container (f, "survivor", "true", NULL);
  g_autoptr (CtrContainer) temp = ready_container (f, "ephemeral", "true",
                                                   "{'AutoRemove': <true>}");
  g_autofree char *running_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (running)));
  g_autofree char *running_id = g_strdup (ctr_container_get_id (running));
  g_autofree char *temp_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (temp)));
  g_autofree char *temp_id = g_strdup (ctr_container_get_id (temp));
  g_autofree char *idle_path = create_container (f, "idle", CMD ("true"), NULL);
  g_autofree char *done_path = create_container (f, "done", CMD ("sh", "-c", "exit 6"), NULL);
  g_autoptr (CtrContainer) done = container_proxy (f, done_path);
  g_autofree char *state = NULL;
  g_autofree char *out = NULL;
  g_autofree char *json = NULL;
  g_autoptr (JsonObject) root = NULL;
  guint32 old_pid = get_u32 (f, running, "Pid");
  guint32 new_pid;

  start_container (done);
  g_assert_cmpint (wait_container (done), ==, 6);
  wait_for_state (done, CMD ("exited"));
  g_clear_object (&running);
  g_clear_object (&temp);
  g_clear_object (&done);

  g_assert_cmpint (stop_daemon (f), ==, 0);
  simulate_reboot (f);
  assert_pid_gone_soon (old_pid);
  start_daemon (f);

  /* Reset: exited, no pid, runnable; AutoRemove ones gone. */
  running = container_proxy (f, running_path);
  g_assert_cmpstr (ctr_container_get_state (running), ==, "exited");
  g_assert_cmpuint (get_u32 (f, running, "Pid"), ==, 0);
  json = inspect (running);
  root = parse_json_object_text (json);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (root, "State"),
                                               "ConmonPid"),
                   ==, 0);
  g_assert_null (runc_status (f, running_id));
  wait_object_unmanaged (f, temp_path);
  assert_container_gone_from_disk (f, temp_id);
  state = get_string_property (f, idle_path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
  g_clear_pointer (&state, g_free);
  state = get_string_property (f, done_path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "exited");
  done = container_proxy (f, done_path);
  g_assert_cmpint (get_i32 (f, done, "ExitCode"), ==, 6);

  /* They start again as usual. */
  start_container (running);
  wait_for_state (running, CMD ("running"));
  wait_for_upper_file (f, running_id, "tmp/ready");
  new_pid = get_u32 (f, running, "Pid");
  g_assert_cmpuint (new_pid, >, 0);
  g_assert_true (pid_exists (new_pid));
  {
    g_autofree char *status = runc_status (f, running_id);
    g_assert_cmpstr (status, ==, "running");
  }
  out = exec_output (running, CMD ("cat", "/etc/hostname"));
  g_assert_cmpuint (strlen (out), >, 1);

  /* The new boot id was kept: a plain daemon restart resets nothing. */
  g_clear_object (&running);
  g_clear_object (&done);
  g_assert_cmpint (stop_daemon (f), ==, 0);
  start_daemon (f);
  g_clear_pointer (&state, g_free);
  state = get_string_property (f, running_path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "running");
  running = container_proxy (f, running_path);
  g_assert_cmpuint (get_u32 (f, running, "Pid"), ==, new_pid);
  stop_container (running, 1);
}

/* ---- registration ---------------------------------------------------- */

void
integration_add_dependencies_cases (void)
{
  add_case ("/around/depends-on", test_depends_on, NULL);
  add_case ("/around/depends-on-failure", test_depends_on_failure, NULL);
  add_case ("/around/hooks", test_hooks, NULL);
  add_case ("/around/reboot", test_reboot, NULL);
  add_case ("/around/oom", test_oom, NULL);
}
