/* integration-monitor.c: a container whose monitor (conmon) dies while the
 * daemon runs: killed with SIGKILL before a Stop, during a Stop, before a
 * forced Remove, or with the process ending by itself afterwards. Each call
 * returns, the exit is recorded as unknown (-1) with the reason, and nothing
 * of the container is left (process, mounts, runtime state, cgroup). */
#include "config.h"

#include "integration-common.h"

static guint32
conmon_pid_of (CtrContainer *c)
{
  g_autofree char *json = inspect (c);
  g_autoptr (JsonObject) root = parse_json_object_text (json);
  JsonObject *state = json_object_get_object_member (root, "State");
  gint64 pid = json_object_get_int_member (state, "ConmonPid");

  g_assert_cmpint (pid, >, 0);
  return (guint32) pid;
}

static char *
state_error_of (CtrContainer *c)
{
  g_autofree char *json = inspect (c);
  g_autoptr (JsonObject) root = parse_json_object_text (json);
  JsonObject *state = json_object_get_object_member (root, "State");

  return g_strdup (json_object_get_string_member (state, "Error"));
}

/* The pids controller's (or cgroup v2's) directory of @pid, or NULL. */
static char *
cgroup_dir_of (guint32 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/cgroup", pid);
  g_autofree char *text = read_file_or_null (path);
  g_auto (GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) fields = g_strsplit (*line, ":", 3);
      if (g_strv_length (fields) != 3)
        continue;
      if (g_str_equal (fields[1], "pids"))
        return g_strconcat ("/sys/fs/cgroup/pids", fields[2], NULL);
      if (g_str_equal (fields[0], "0") && *fields[1] == '\0' && lines[1] == NULL)
        return g_strconcat ("/sys/fs/cgroup", fields[2], NULL);
    }
  return NULL;
}

/* A running container (its stop signal ends it unless @deaf) whose conmon has
 * been killed with SIGKILL and is gone. */
typedef struct
{
  CtrContainer *c;
  char *path;
  guint32 pid;
  char *cgroup;
} Orphan;

static void
orphan_clear (Orphan *o)
{
  g_clear_object (&o->c);
  g_free (o->path);
  g_free (o->cgroup);
}

static void
make_orphan (Fixture *f, Orphan *o, const char *name, gboolean deaf)
{
  guint32 conmon;

  o->c = ready_container (f, name, deaf ? "trap '' TERM" : "trap 'exit 3' TERM", NULL);
  o->path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (o->c)));
  o->pid = get_u32 (f, o->c, "Pid");
  o->cgroup = cgroup_dir_of (o->pid);
  conmon = conmon_pid_of (o->c);
  g_assert_cmpint (kill ((pid_t) conmon, SIGKILL), ==, 0);
  g_assert_true (wait_until (pid_is_gone, &conmon));
}

/* The exit was recorded as unknown, with the reason; Remove works and
 * leaves nothing. */
static void
assert_unknown_exit_then_remove (Fixture *f, Orphan *o)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  g_autofree char *id = g_strdup (ctr_container_get_id (o->c));

  wait_for_state (o->c, CMD ("exited"));
  assert_string_property (f, o->path, "State", "exited");
  g_assert_cmpint (get_i32 (f, o->c, "ExitCode"), ==, -1);
  g_assert_cmpint (wait_container (o->c), ==, -1);
  why = state_error_of (o->c);
  g_assert_nonnull (strstr (why, "monitor (conmon) died"));
  assert_pid_gone_soon (o->pid);
  g_assert_null (runc_status (f, id));
  assert_no_mount_of (f, id);

  ctr_container_call_remove_sync (o->c, FALSE, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_container_gone_from_disk (f, id);
  assert_run_dir_gone (f, id);
  if (o->cgroup != NULL)
    g_assert_false (g_file_test (o->cgroup, G_FILE_TEST_EXISTS));
}

static void
test_conmon_killed_then_stop (Fixture *f, gconstpointer data)
{
  Orphan o = { 0 };

  make_orphan (f, &o, "orphan-stop", FALSE);
  /* It runs on without its monitor, and still stops. */
  g_assert_true (pid_exists (o.pid));
  stop_container (o.c, 30);
  assert_unknown_exit_then_remove (f, &o);
  orphan_clear (&o);
}

static void
on_stop_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitCall *call = user_data;

  ctr_container_call_stop_finish (CTR_CONTAINER (source), result, &call->error);
  call->done = TRUE;
}

static void
test_conmon_killed_during_stop (Fixture *f, gconstpointer data)
{
  g_autoptr (CtrContainer) c = ready_container (f, "deaf-orphan", "trap '' TERM", NULL);
  Orphan o = { 0 };
  WaitCall stop = { 0 };
  guint32 conmon = conmon_pid_of (c);

  o.c = g_object_ref (c);
  o.path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)));
  o.pid = get_u32 (f, c, "Pid");
  o.cgroup = cgroup_dir_of (o.pid);

  /* The stop signal is ignored: the Stop is in its timeout when conmon dies. */
  ctr_container_call_stop (c, 3, NULL, on_stop_done, &stop);
  wait_for_state (c, CMD ("stopping"));
  g_assert_false (stop.done);
  g_assert_cmpint (kill ((pid_t) conmon, SIGKILL), ==, 0);
  g_assert_true (wait_until (pid_is_gone, &conmon));

  g_assert_true (wait_until (flag_is_set, &stop.done));
  g_assert_no_error (stop.error);
  assert_unknown_exit_then_remove (f, &o);
  orphan_clear (&o);
}

static void
test_conmon_killed_then_remove_force (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  Orphan o = { 0 };
  g_autofree char *id = NULL;

  make_orphan (f, &o, "orphan-rm", TRUE);
  id = g_strdup (ctr_container_get_id (o.c));
  ctr_container_call_remove_sync (o.c, TRUE, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, o.path);
  assert_pid_gone_soon (o.pid);
  assert_container_gone_from_disk (f, id);
  assert_run_dir_gone (f, id);
  if (o.cgroup != NULL)
    g_assert_false (g_file_test (o.cgroup, G_FILE_TEST_EXISTS));
  orphan_clear (&o);
}

/* Without conmon the daemon still notices the process end by itself. */
static void
test_conmon_killed_then_process_ends (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Orphan o = { 0 };

  make_orphan (f, &o, "orphan-kill", TRUE);
  ctr_container_call_kill_sync (o.c, "KILL", NULL, &error);
  g_assert_no_error (error);
  assert_unknown_exit_then_remove (f, &o);
  orphan_clear (&o);
}

/* After a daemon restart the containers whose conmon lives are watched
 * again: a conmon killed then is noticed too. */
static void
test_conmon_killed_after_daemon_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (CtrContainer) c = ready_container (f, "orphan-later", "trap 'exit 3' TERM", NULL);
  Orphan o = { 0 };
  guint32 conmon;

  o.path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)));
  o.pid = get_u32 (f, c, "Pid");
  o.cgroup = cgroup_dir_of (o.pid);
  conmon = conmon_pid_of (c);
  g_assert_cmpint (stop_daemon (f), ==, 0);
  start_daemon (f);
  o.c = container_proxy (f, o.path);
  assert_string_property (f, o.path, "State", "running");
  g_assert_cmpuint (get_u32 (f, o.c, "Pid"), ==, o.pid);

  g_assert_cmpint (kill ((pid_t) conmon, SIGKILL), ==, 0);
  g_assert_true (wait_until (pid_is_gone, &conmon));
  stop_container (o.c, 30);
  assert_unknown_exit_then_remove (f, &o);
  orphan_clear (&o);
}

void
integration_add_monitor_cases (void)
{
  add_case ("/monitor/conmon-killed-then-stop", test_conmon_killed_then_stop, NULL);
  add_case ("/monitor/conmon-killed-during-stop", test_conmon_killed_during_stop, NULL);
  add_case ("/monitor/conmon-killed-then-remove-force", test_conmon_killed_then_remove_force,
            NULL);
  add_case ("/monitor/conmon-killed-then-process-ends", test_conmon_killed_then_process_ends,
            NULL);
  add_case ("/monitor/conmon-killed-after-daemon-restart",
            test_conmon_killed_after_daemon_restart, NULL);
}
