/* integration-helpers.c: what the integration cases share beyond the
 * fixture: container and image proxies that record the states announced,
 * creating, starting and stopping containers, snapshots of what a failed
 * call must not change, signal watches, exec, logs and files. */
#include "config.h"

#include "integration-common.h"

/* ---- proxies ---------------------------------------------------------- */

static void
record_state_change (GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                     gpointer user_data)
{
  GPtrArray *seen = user_data;
  const char *state;

  if (g_variant_lookup (changed, "State", "&s", &state))
    g_ptr_array_add (seen, g_strdup (state));
}

CtrContainer *
container_proxy (Fixture *f, const char *path)
{
  g_autoptr(GError) error = NULL;
  CtrContainer *proxy;
  GPtrArray *seen = g_ptr_array_new_with_free_func (g_free);

  proxy = ctr_container_proxy_new_sync (f->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, BUS_NAME,
                                        path, NULL, &error);
  g_assert_no_error (error);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), G_MAXINT);
  g_object_set_data_full (G_OBJECT (proxy), "states-seen", seen,
                          (GDestroyNotify) g_ptr_array_unref);
  g_signal_connect (proxy, "g-properties-changed", G_CALLBACK (record_state_change), seen);
  return proxy;
}

CtrImage *
image_proxy (Fixture *f, const char *path)
{
  g_autoptr(GError) error = NULL;
  CtrImage *proxy;

  proxy = ctr_image_proxy_new_sync (f->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, BUS_NAME, path,
                                    NULL, &error);
  g_assert_no_error (error);
  return proxy;
}

typedef struct
{
  CtrContainer *proxy;
  const char *const *states;
} StateWait;

static gboolean
state_was_announced (gconstpointer data)
{
  const StateWait *w = data;
  GPtrArray *seen = g_object_get_data (G_OBJECT (w->proxy), "states-seen");

  for (guint i = 0; i < seen->len; i++)
    if (g_strv_contains (w->states, seen->pdata[i]))
      return TRUE;
  return FALSE;
}

static gboolean
cached_state_is (gconstpointer data)
{
  const StateWait *w = data;

  return strv_has (w->states, ctr_container_get_state (w->proxy));
}

static char *
states_seen_text (CtrContainer *proxy)
{
  GPtrArray *seen = g_object_get_data (G_OBJECT (proxy), "states-seen");
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < seen->len; i++)
    g_string_append_printf (text, "%s%s", i ? ", " : "", (char *) seen->pdata[i]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
state_reached (gconstpointer data)
{
  return state_was_announced (data) || cached_state_is (data);
}

void
wait_for_state (CtrContainer *proxy, const char *const *states)
{
  StateWait w = { proxy, states };

  if (!wait_until (state_reached, &w))
    {
      g_autofree char *seen = states_seen_text (proxy);
      g_autofree char *wanted = g_strjoinv ("/", (char **) states);
      g_autofree char *msg = g_strdup_printf (
          "%s: state %s not announced within %d s; announced: [%s], cached: %s",
          g_dbus_proxy_get_object_path (G_DBUS_PROXY (proxy)), wanted, WAIT_TIMEOUT_S, seen,
          ctr_container_get_state (proxy));
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

char *
container_dir (Fixture *f, const char *id)
{
  return g_build_filename (f->storage_root, "containers", id, NULL);
}

char *
upper_path (Fixture *f, const char *id, const char *name)
{
  return g_build_filename (f->storage_root, "containers", id, "upper", name, NULL);
}

GVariant *
parse_options (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *options = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return options;
}

char *
try_create (Fixture *f, const char *name, const char *image, const char *const *command,
            const char *options, GError **error)
{
  g_autoptr(GVariant) opts = parse_options (options ? options : "@a{sv} {}");
  char *path = NULL;

  if (!ctr_manager_call_create_container_sync (f->manager, name, image, command, opts, &path,
                                               NULL, error))
    return NULL;
  return path;
}

char *
create_container (Fixture *f, const char *name, const char *const *command, const char *options)
{
  g_autoptr(GError) error = NULL;
  char *path = try_create (f, name, "busybox", command, options, &error);

  g_assert_no_error (error);
  g_assert_true (g_variant_is_object_path (path));
  return path;
}

void
start_container (CtrContainer *proxy)
{
  g_autoptr(GError) error = NULL;

  ctr_container_call_start_sync (proxy, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (proxy, CMD ("running", "stopped", "exited"));
}

void
stop_container (CtrContainer *proxy, guint timeout)
{
  g_autoptr(GError) error = NULL;

  ctr_container_call_stop_sync (proxy, timeout, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (proxy, STATES_ENDED);
}

int
wait_container (CtrContainer *proxy)
{
  g_autoptr(GError) error = NULL;
  int code = -1;

  ctr_container_call_wait_sync (proxy, &code, NULL, &error);
  g_assert_no_error (error);
  return code;
}

void
wait_for_upper_file (Fixture *f, const char *id, const char *name)
{
  g_autofree char *path = upper_path (f, id, name);

  if (!wait_until (path_exists, path))
    g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                         "the container never wrote its ready file");
}

void
assert_pid_gone_soon (guint32 pid)
{
  /* conmon reaps the process; until then it is a zombie with a /proc entry. */
  g_assert_true (wait_until (pid_is_gone, &pid));
}

char *
runc_status (Fixture *f, const char *id)
{
  g_autofree char *root = g_build_filename (f->run_root, "runc", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GRegex) regex = g_regex_new ("\"status\"\\s*:\\s*\"([a-z]+)\"", 0, 0, NULL);

  if (run_command (CMD (runc_path, "--root", root, "state", id), &out, &err) != 0)
    return NULL;
  if (!g_regex_match (regex, out, 0, &match))
    return NULL;
  return g_match_info_fetch (match, 1);
}

char *
ostree_output (Fixture *f, const char *const *args)
{
  g_autofree char *repo_arg = g_strdup_printf ("--repo=%s/repo", f->storage_root);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char *out = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, (char *) "ostree");
  g_ptr_array_add (argv, (char *) args[0]);
  g_ptr_array_add (argv, repo_arg);
  for (guint i = 1; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (run_command ((const char *const *) argv->pdata, &out, &err) != 0)
    {
      g_printerr ("ostree %s failed: %s\n", args[0], err ? err : "");
      g_clear_pointer (&out, g_free);
    }
  return out;
}

char *
snapshot (Fixture *f)
{
  g_autoptr(GPtrArray) paths = managed_object_paths (f);
  g_autoptr(GPtrArray) mounts = mounts_under (f->tmp);
  g_autofree char *containers_dir = g_build_filename (f->storage_root, "containers", NULL);
  g_autofree char *volumes_dir = g_build_filename (f->storage_root, "volumes", NULL);
  g_autofree char *run_containers_dir = g_build_filename (f->run_root, "containers", NULL);
  g_autofree char *objects = join_sorted (paths);
  g_autofree char *containers = ctrd_test_dir_listing (containers_dir);
  g_autofree char *volumes = ctrd_test_dir_listing (volumes_dir);
  g_autofree char *run_containers = ctrd_test_dir_listing (run_containers_dir);
  g_autofree char *refs = ostree_output (f, CMD ("refs"));
  g_autofree char *mount_list = join_sorted (mounts);

  g_assert_nonnull (refs);
  {
    g_auto(GStrv) lines = g_strsplit (refs, "\n", -1);
    g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
    for (char **l = lines; *l; l++)
      if (**l)
        g_ptr_array_add (sorted, *l);
    g_free (refs);
    refs = join_sorted (sorted);
  }
  return g_strdup_printf ("objects:\n%s\ncontainers:\n%s\nrun:\n%s\nvolumes:\n%s\nrefs:\n%s\n"
                          "mounts:\n%s\n",
                          objects, containers, run_containers, volumes, refs, mount_list);
}

char *
snapshot_except_run (Fixture *f)
{
  g_autofree char *full = snapshot (f);
  g_autoptr (GRegex) run = g_regex_new ("\nrun:\n[^\n]*\n", 0, 0, NULL);

  return g_regex_replace_literal (run, full, -1, 0, "\n", 0, NULL);
}

/* ---- helpers shared by the container cases ---------------------------- */

void
record_removed_object (GDBusConnection *connection, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *params,
                       gpointer user_data)
{
  GPtrArray *removed = user_data;
  const char *object;

  g_variant_get (params, "(&o@as)", &object, NULL);
  g_ptr_array_add (removed, g_strdup (object));
}

void
record_event (GDBusConnection *connection, const char *sender, const char *path,
              const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  GPtrArray *events = user_data;
  const char *id, *event;

  g_variant_get (params, "(&o&s&st)", NULL, &id, &event, NULL);
  g_ptr_array_add (events, g_strdup_printf ("%s %s", id, event));
}

gboolean
item_seen (gconstpointer data)
{
  const Seen *s = data;

  for (guint i = 0; i < s->items->len; i++)
    if (g_str_equal (s->items->pdata[i], s->item))
      return TRUE;
  return FALSE;
}

void
on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitCall *w = user_data;

  ctr_container_call_wait_finish (CTR_CONTAINER (source), &w->code, result, &w->error);
  w->done = TRUE;
}

gboolean
all_waits_done (gconstpointer data)
{
  const WaitCall *calls = data;

  for (guint i = 0; i < N_WAITERS; i++)
    if (!calls[i].done)
      return FALSE;
  return TRUE;
}

CtrContainer *
running_container (Fixture *f, const char *name)
{
  g_autofree char *path = create_container (f, name, CMD ("sleep", "300"), NULL);
  CtrContainer *c = container_proxy (f, path);

  start_container (c);
  wait_for_state (c, CMD ("running"));
  return c;
}

void
assert_still_running (Fixture *f, CtrContainer *c, guint32 pid)
{
  g_autofree char *state = get_string_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, "State");

  g_assert_cmpstr (state, ==, "running");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);
  g_assert_true (pid_exists (pid));
}

Watch *
watch_new (Fixture *f)
{
  Watch *w = g_new0 (Watch, 1);

  w->bus = g_object_ref (f->bus);
  w->events = g_ptr_array_new_with_free_func (g_free);
  w->removed = g_ptr_array_new_with_free_func (g_free);
  w->event_sub = g_dbus_connection_signal_subscribe (
      f->bus, BUS_NAME, MANAGER_IFACE, "ContainerEvent", MANAGER_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, record_event, w->events, NULL);
  w->removed_sub = g_dbus_connection_signal_subscribe (
      f->bus, BUS_NAME, OBJECT_MANAGER_IFACE, "InterfacesRemoved", MANAGER_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, record_removed_object, w->removed, NULL);
  return w;
}

void
watch_free (Watch *w)
{
  g_dbus_connection_signal_unsubscribe (w->bus, w->event_sub);
  g_dbus_connection_signal_unsubscribe (w->bus, w->removed_sub);
  g_ptr_array_unref (w->events);
  g_ptr_array_unref (w->removed);
  g_object_unref (w->bus);
  g_free (w);
}

char *
events_of (Watch *w, const char *id)
{
  g_autofree char *prefix = g_strconcat (id, " ", NULL);
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; i < w->events->len; i++)
    if (g_str_has_prefix (w->events->pdata[i], prefix))
      g_string_append_printf (text, "%s%s", text->len ? " " : "",
                              (char *) w->events->pdata[i] + strlen (prefix));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

typedef struct
{
  Watch *watch;
  const char *id;
  const char *const *sequence;
} EventSequence;

/* Whether @sequence appears, in this order, among the events of the
 * container (other events may come between). */
static gboolean
event_sequence_seen (gconstpointer data)
{
  const EventSequence *s = data;
  g_autofree char *prefix = g_strconcat (s->id, " ", NULL);
  guint next = 0;

  for (guint i = 0; i < s->watch->events->len && s->sequence[next] != NULL; i++)
    {
      const char *item = s->watch->events->pdata[i];
      if (g_str_has_prefix (item, prefix) &&
          g_str_equal (item + strlen (prefix), s->sequence[next]))
        next++;
    }
  return s->sequence[next] == NULL;
}

void
assert_event_sequence_impl (Watch *w, const char *id, const char *const *sequence,
                            const char *file, int line, const char *func)
{
  EventSequence s = { w, id, sequence };

  if (!wait_until (event_sequence_seen, &s))
    {
      g_autofree char *wanted = g_strjoinv (" ", (char **) sequence);
      g_autofree char *seen = events_of (w, id);
      g_autofree char *msg = g_strdup_printf ("events of %.12s: wanted [%s] in order, saw [%s]",
                                              id, wanted, seen);
      g_assertion_message (G_LOG_DOMAIN, file, line, func, msg);
    }
}

void
assert_object_removed (Watch *w, Fixture *f, const char *path)
{
  Seen gone = { w->removed, path };

  g_assert_true (wait_until (item_seen, &gone));
  g_assert_false (object_is_managed (f, path));
}

typedef struct
{
  Fixture *f;
  const char *path;
} ObjectWait;

static gboolean
object_unmanaged (gconstpointer data)
{
  const ObjectWait *w = data;

  return !object_is_managed (w->f, w->path);
}

void
wait_object_unmanaged (Fixture *f, const char *path)
{
  ObjectWait w = { f, path };

  g_assert_true (wait_until (object_unmanaged, &w));
}

void
assert_container_gone_from_disk (Fixture *f, const char *id)
{
  g_autofree char *dir = container_dir (f, id);
  g_autofree char *rootfs = g_build_filename (f->run_root, "containers", id, "rootfs", NULL);
  g_autofree char *status = runc_status (f, id);
  g_autoptr (GPtrArray) mounts = mounts_under (f->tmp);

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (rootfs, G_FILE_TEST_EXISTS));
  g_assert_null (status);
  for (guint i = 0; i < mounts->len; i++)
    g_assert_null (strstr (mounts->pdata[i], id));
}

void
assert_run_dir_gone (Fixture *f, const char *id)
{
  g_autofree char *run_dir = g_build_filename (f->run_root, "containers", id, NULL);

  if (g_file_test (run_dir, G_FILE_TEST_EXISTS))
    {
      g_autofree char *left = ctrd_test_dir_listing (run_dir);
      g_autofree char *msg = g_strdup_printf ("%s is left after the removal, holding: %s",
                                              run_dir, left);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

void
assert_no_mount_of (Fixture *f, const char *id)
{
  g_autoptr (GPtrArray) mounts = mounts_under (f->tmp);

  for (guint i = 0; i < mounts->len; i++)
    g_assert_null (strstr (mounts->pdata[i], id));
}

typedef struct
{
  GDBusProxy *proxy;
  const char *name;
  GVariant *value;
} PropertyWait;

static gboolean
cached_property_equals (gconstpointer data)
{
  const PropertyWait *w = data;
  g_autoptr (GVariant) value = g_dbus_proxy_get_cached_property (w->proxy, w->name);

  return value != NULL && g_variant_equal (value, w->value);
}

void
wait_for_property (CtrContainer *proxy, const char *name, GVariant *value)
{
  PropertyWait w = { G_DBUS_PROXY (proxy), name, g_variant_ref_sink (value) };

  if (!wait_until (cached_property_equals, &w))
    {
      g_autoptr (GVariant) cached = g_dbus_proxy_get_cached_property (w.proxy, name);
      g_autofree char *want = g_variant_print (w.value, TRUE);
      g_autofree char *got = cached ? g_variant_print (cached, TRUE) : g_strdup ("(none)");
      g_autofree char *msg = g_strdup_printf ("property %s never became %s (cached: %s)", name,
                                              want, got);
      g_variant_unref (w.value);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
      return;
    }
  g_variant_unref (w.value);
}

char *
run_file_path (Fixture *f, const char *id, const char *name)
{
  return g_build_filename (f->run_root, "containers", id, name, NULL);
}

gboolean
contains_line (const char *text, const char *line)
{
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  return g_strv_contains ((const char *const *) lines, line);
}

/* Everything readable from @fd now, without waiting for more. */
static char *
drain_fd (int fd)
{
  g_autoptr (GString) out = g_string_new (NULL);
  char buf[4096];

  g_assert_cmpint (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK), ==, 0);
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n > 0)
        g_string_append_len (out, buf, n);
      else if (n < 0 && errno == EINTR)
        continue;
      else
        break;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
read_to_eof (int fd)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64) WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  char buf[4096];

  g_assert_cmpint (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK), ==, 0);
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n > 0)
        g_string_append_len (out, buf, n);
      else if (n == 0)
        break;
      else if (errno == EINTR)
        continue;
      else
        {
          g_assert_cmpint (errno, ==, EAGAIN);
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_usleep (10 * 1000);
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
read_until (int fd, GString *buf, const char *needle)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  char chunk[4096];

  g_assert_cmpint (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK), ==, 0);
  while (strstr (buf->str, needle) == NULL)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n > 0)
        g_string_append_len (buf, chunk, n);
      else if (n == 0)
        return FALSE;
      else if (errno != EINTR && errno != EAGAIN)
        return FALSE;
      else if (g_get_monotonic_time () >= deadline)
        return FALSE;
      else
        g_usleep (10 * 1000);
    }
  return TRUE;
}

void
make_pipe (int fds[2])
{
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
}

gboolean
try_exec (CtrContainer *c, const char *const *argv, const char *options, const char *input,
          int *out_code, char **out_stdout, char **out_stderr, GError **error)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) opts = parse_options (options ? options : "@a{sv} {}");
  int in[2], out[2], err[2];
  gboolean ok;

  make_pipe (in);
  make_pipe (out);
  make_pipe (err);
  if (input != NULL)
    g_assert_cmpint (write (in[1], input, strlen (input)), ==, (gssize) strlen (input));
  close (in[1]);
  g_assert_cmpint (g_unix_fd_list_append (fds, in[0], NULL), ==, 0);
  g_assert_cmpint (g_unix_fd_list_append (fds, out[1], NULL), ==, 1);
  g_assert_cmpint (g_unix_fd_list_append (fds, err[1], NULL), ==, 2);
  close (in[0]);
  close (out[1]);
  close (err[1]);
  ok = ctr_container_call_exec_sync (c, argv, opts, g_variant_new_handle (0),
                                     g_variant_new_handle (1), g_variant_new_handle (2), fds,
                                     out_code, NULL, NULL, error);
  /* The process has exited: what it wrote is in the pipes. */
  if (out_stdout != NULL)
    *out_stdout = drain_fd (out[0]);
  if (out_stderr != NULL)
    *out_stderr = drain_fd (err[0]);
  close (out[0]);
  close (err[0]);
  return ok;
}

char *
exec_output (CtrContainer *c, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int code = -1;

  try_exec (c, argv, NULL, NULL, &code, &out, &err, &error);
  g_assert_no_error (error);
  if (code != 0)
    g_printerr ("# exec %s exited with %d: %s\n", argv[0], code, err);
  g_assert_cmpint (code, ==, 0);
  return out;
}

int
exec_code (CtrContainer *c, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int code = -1;

  try_exec (c, argv, NULL, NULL, &code, NULL, NULL, &error);
  g_assert_no_error (error);
  return code;
}

CtrContainer *
ready_container (Fixture *f, const char *name, const char *script, const char *options)
{
  g_autofree char *full = g_strdup_printf ("%s; touch /tmp/ready; while :; do sleep 1; done",
                                           script);
  g_autofree char *path = create_container (f, name, CMD ("sh", "-c", full), options);
  CtrContainer *c = container_proxy (f, path);

  start_container (c);
  wait_for_state (c, CMD ("running"));
  wait_for_upper_file (f, ctr_container_get_id (c), "tmp/ready");
  return c;
}

char *
freezer_state (guint32 pid)
{
  g_autofree char *cgroup_path = g_strdup_printf ("/proc/%u/cgroup", pid);
  g_autofree char *cgroups = read_file_or_null (cgroup_path);
  g_auto (GStrv) lines = g_strsplit (cgroups ? cgroups : "", "\n", -1);

  for (char **line = lines; *line; line++)
    {
      g_auto (GStrv) fields = g_strsplit (*line, ":", 3);
      if (g_strv_length (fields) == 3 && g_str_equal (fields[1], "freezer"))
        {
          g_autofree char *file = g_strdup_printf ("/sys/fs/cgroup/freezer%s/freezer.state",
                                                   fields[2]);
          g_autofree char *state = read_file_or_null (file);
          return state ? g_strdup (g_strstrip (state)) : NULL;
        }
    }
  /* cgroup v2 only: cgroup.events says "frozen 1" */
  for (char **line = lines; *line; line++)
    if (g_str_has_prefix (*line, "0::"))
      {
        g_autofree char *file = g_strdup_printf ("/sys/fs/cgroup%s/cgroup.events", *line + 3);
        g_autofree char *events = read_file_or_null (file);
        if (events == NULL)
          return NULL;
        return g_strdup (contains_line (events, "frozen 1") ? "FROZEN" : "THAWED");
      }
  return NULL;
}

char *
inspect (CtrContainer *c)
{
  g_autoptr (GError) error = NULL;
  char *json = NULL;

  ctr_container_call_inspect_sync (c, &json, NULL, &error);
  g_assert_no_error (error);
  return json;
}

JsonObject *
parse_json_object_text (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

char *
get_container_path (Fixture *f, const char *name, GError **error)
{
  g_autoptr (GVariant) reply = call (f, MANAGER_PATH, MANAGER_IFACE, "GetContainer",
                                     g_variant_new ("(s)", name), error);
  char *found = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(o)", &found);
  return found;
}

char *
get_logs (CtrContainer *c, const char *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) opts = parse_options (options ? options : "@a{sv} {}");
  g_autoptr (GVariant) handle = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  char *text;
  int fd;

  ctr_container_call_get_logs_sync (c, opts, NULL, &handle, &fds, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fds);
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  g_assert_no_error (error);
  text = read_to_eof (fd);
  close (fd);
  return text;
}

void
write_text (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

void
make_dir (const char *path)
{
  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}
