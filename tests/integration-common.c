/* integration-common.c: the integration tests' fixture: a containersd on
 * temporary roots on the private bus, the calls and waits every case uses,
 * the cleanup after a case whatever happened, and the case runner. */
#include "config.h"

#include "integration-common.h"

const char *top_srcdir;
static const char *top_builddir;
static char *daemon_path;
char *runc_path;
const char *busybox_tar; /* built once by the parent, shared by all cases */
static char *skip_reason;

typedef struct
{
  CaseFunc func;
  gconstpointer data;
  gboolean import_by_path; /* how the fixture imports busybox: by path or by fd */
} Case;

/* ---- small helpers ---------------------------------------------------- */

gboolean
is_hex64 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

gboolean
strv_has (const char *const *strv, const char *s)
{
  return strv != NULL && g_strv_contains (strv, s);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

char *
join_sorted (GPtrArray *items)
{
  g_ptr_array_sort (items, compare_strings);
  g_ptr_array_add (items, NULL);
  char *joined = g_strjoinv ("\n", (char **) items->pdata);
  g_ptr_array_remove_index (items, items->len - 1);
  return joined;
}

int
run_command (const char *const *argv, char **out_stdout, char **out_stderr)
{
  g_autoptr(GError) error = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out_stdout,
                     out_stderr, &status, &error))
    {
      g_printerr ("cannot run %s: %s\n", argv[0], error->message);
      return -1;
    }
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
}

char *
read_file_or_null (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

gboolean
pid_exists (guint32 pid)
{
  g_autofree char *proc = g_strdup_printf ("/proc/%u", pid);

  return pid > 0 && g_file_test (proc, G_FILE_TEST_EXISTS);
}

GPtrArray *
mounts_under (const char *prefix)
{
  g_autofree char *info = read_file_or_null ("/proc/self/mountinfo");
  g_auto(GStrv) lines = g_strsplit (info ? info : "", "\n", -1);
  g_autofree char *prefix_slash = g_strconcat (prefix, "/", NULL);
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);

  for (char **line = lines; *line; line++)
    {
      g_auto(GStrv) fields = g_strsplit (*line, " ", 6);
      if (g_strv_length (fields) < 5)
        continue;
      g_autofree char *mountpoint = g_strcompress (fields[4]);
      if (g_str_equal (mountpoint, prefix) || g_str_has_prefix (mountpoint, prefix_slash))
        g_ptr_array_add (found, g_steal_pointer (&mountpoint));
    }
  g_ptr_array_sort (found, compare_strings);
  /* Reverse lexical order puts a mount's children before it. */
  for (guint i = 0; i < found->len / 2; i++)
    {
      gpointer tmp = found->pdata[i];
      found->pdata[i] = found->pdata[found->len - 1 - i];
      found->pdata[found->len - 1 - i] = tmp;
    }
  return found;
}

char *
mountinfo_line_with_option (const char *option)
{
  g_autofree char *info = read_file_or_null ("/proc/self/mountinfo");
  g_auto(GStrv) lines = g_strsplit (info ? info : "", "\n", -1);

  for (char **line = lines; *line; line++)
    {
      const char *hit = strstr (*line, option);
      if (hit != NULL && (hit[-1] == ',' || hit[-1] == ' ')
          && (hit[strlen (option)] == ',' || hit[strlen (option)] == '\0'))
        return g_strdup (*line);
    }
  return NULL;
}

/* Pids of processes (not us) whose command line mentions @needle. */
static GArray *
pids_mentioning (const char *needle)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      char *end = NULL;
      guint64 pid = g_ascii_strtoull (name, &end, 10);
      if (*end != '\0' || pid == 0 || pid == (guint64) getpid ())
        continue;
      g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmdline = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, needle) != NULL)
        {
          guint32 p = (guint32) pid;
          g_array_append_val (pids, p);
        }
    }
  return pids;
}

/* ---- cleanup (run by the parent after each case, whatever happened) ---- */

static void
kill_pids (GArray *pids, int signo)
{
  for (guint i = 0; i < pids->len; i++)
    kill ((pid_t) g_array_index (pids, guint32, i), signo);
}

gboolean
wait_no_process_mentions (const char *needle, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GArray) pids = pids_mentioning (needle);
      if (pids->len == 0)
        return TRUE;
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (100 * 1000);
    }
}

/* Removes every trace of a case under @tmp: daemons still running (a crashed
 * case), runc containers, conmon processes, mounts, files. Returns a
 * description of what could not be removed, or NULL when all is clean. */
static char *
cleanup_tree (const char *tmp)
{
  g_autofree char *needle = g_strconcat (tmp, "/", NULL);
  g_autofree char *runc_root = g_build_filename (tmp, "run", "runc", NULL);
  g_autoptr(GString) problems = g_string_new (NULL);

  /* A daemon left by a case that died: it must not act on what we remove. */
  {
    g_autoptr(GArray) pids = pids_mentioning ("--storage-root");
    g_autoptr(GArray) ours = pids_mentioning (needle);
    for (guint i = 0; i < pids->len; i++)
      for (guint j = 0; j < ours->len; j++)
        if (g_array_index (pids, guint32, i) == g_array_index (ours, guint32, j))
          kill ((pid_t) g_array_index (pids, guint32, i), SIGKILL);
  }

  if (runc_path != NULL && g_file_test (runc_root, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *out = NULL;
      if (run_command (CMD (runc_path, "--root", runc_root, "list", "-q"), &out, NULL) == 0)
        {
          g_auto(GStrv) ids = g_strsplit (out, "\n", -1);
          for (char **id = ids; *id; id++)
            if (**id != '\0')
              run_command (CMD (runc_path, "--root", runc_root, "delete", "--force", *id), NULL,
                           NULL);
        }
    }

  /* conmon leaves about a second after its container's process. */
  if (!wait_no_process_mentions (needle, 15))
    {
      g_autoptr(GArray) pids = pids_mentioning (needle);
      g_string_append_printf (problems, "%u processes still ran (killed); ", pids->len);
      kill_pids (pids, SIGKILL);
      wait_no_process_mentions (needle, 5);
    }

  for (int round = 0; round < 5; round++)
    {
      g_autoptr(GPtrArray) mounts = mounts_under (tmp);
      if (mounts->len == 0)
        break;
      for (guint i = 0; i < mounts->len; i++)
        if (umount2 (mounts->pdata[i], MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
          g_string_append_printf (problems, "umount %s: %s; ", (char *) mounts->pdata[i],
                                  g_strerror (errno));
    }

  {
    g_autoptr(GPtrArray) mounts = mounts_under (tmp);
    if (mounts->len > 0)
      g_string_append_printf (problems, "%u mounts left under %s; ", mounts->len, tmp);
  }

  /* --one-file-system: never follow a mount we failed to remove. */
  run_command (CMD ("rm", "-rf", "--one-file-system", tmp), NULL, NULL);
  if (g_file_test (tmp, G_FILE_TEST_EXISTS))
    g_string_append_printf (problems, "%s could not be removed; ", tmp);

  if (problems->len == 0)
    return NULL;
  return g_string_free (g_steal_pointer (&problems), FALSE);
}

/* ---- waiting on the main loop ----------------------------------------- */

static gboolean
keep_waking (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
wait_until (Condition cond, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add (20, keep_waking, NULL);
  gboolean holds;

  while (!(holds = cond (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return holds;
}

gboolean
flag_is_set (gconstpointer data)
{
  return *(const gboolean *) data;
}

gboolean
path_exists (gconstpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

gboolean
pid_is_gone (gconstpointer data)
{
  return !pid_exists (*(const guint32 *) data);
}

/* ---- bus helpers ------------------------------------------------------ */

static gboolean
name_has_owner (GDBusConnection *bus)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean owned = FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", BUS_NAME), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

GVariant *
call (Fixture *f, const char *path, const char *iface, const char *method, GVariant *params,
      GError **error)
{
  return g_dbus_connection_call_sync (f->bus, BUS_NAME, path, iface, method, params, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, error);
}

GVariant *
get_property (Fixture *f, const char *path, const char *iface, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariant *value = NULL;

  reply = call (f, path, "org.freedesktop.DBus.Properties", "Get",
                g_variant_new ("(ss)", iface, name), &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

char *
get_string_property (Fixture *f, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) value = get_property (f, path, iface, name);

  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
                 || g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH));
  return g_variant_dup_string (value, NULL);
}

guint32
get_u32 (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr(GVariant) value = get_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, name);

  return g_variant_get_uint32 (value);
}

gint32
get_i32 (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr(GVariant) value = get_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, name);

  return g_variant_get_int32 (value);
}

guint64
get_u64 (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr(GVariant) value = get_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, name);

  return g_variant_get_uint64 (value);
}

GVariant *
get_managed_objects (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariant *objects = NULL;

  reply = call (f, MANAGER_PATH, OBJECT_MANAGER_IFACE, "GetManagedObjects", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{oa{sa{sv}}})", &objects);
  return objects;
}

GPtrArray *
managed_object_paths (Fixture *f)
{
  g_autoptr(GVariant) objects = get_managed_objects (f);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *path;

  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL))
    g_ptr_array_add (paths, g_strdup (path));
  g_ptr_array_sort (paths, compare_strings);
  return paths;
}

gboolean
object_is_managed (Fixture *f, const char *path)
{
  g_autoptr(GPtrArray) paths = managed_object_paths (f);

  for (guint i = 0; i < paths->len; i++)
    if (g_str_equal (paths->pdata[i], path))
      return TRUE;
  return FALSE;
}

void
assert_dbus_error_impl (const GError *error, const char *const *accepted, const char *file,
                        int line, const char *func)
{
  g_autofree char *name = NULL;
  g_autofree char *wanted = g_strjoinv (" or ", (char **) accepted);
  g_autofree char *msg = NULL;
  g_autoptr(GError) copy = NULL;

  if (error == NULL)
    msg = g_strdup_printf ("expected D-Bus error %s, but the call succeeded", wanted);
  else
    {
      name = g_dbus_error_get_remote_error (error);
      copy = g_error_copy (error);
      g_dbus_error_strip_remote_error (copy);
      if (name == NULL || !g_strv_contains (accepted, name))
        msg = g_strdup_printf ("expected D-Bus error %s, got %s: %s", wanted,
                               name ? name : "(not a remote error)", error->message);
      else if (*g_strstrip (copy->message) == '\0')
        msg = g_strdup_printf ("D-Bus error %s carries no message", name);
    }
  if (msg != NULL)
    g_assertion_message (G_LOG_DOMAIN, file, line, func, msg);
}

/* ---- the daemon ------------------------------------------------------- */

static void
on_daemon_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

GSubprocess *
spawn_daemon (Fixture *f, const char *run_root, const char *log_path, gboolean *exited)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  GSubprocess *daemon;
  int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_subprocess_launcher_take_stdout_fd (launcher, fcntl (fd, F_DUPFD_CLOEXEC, 3));
  g_subprocess_launcher_take_stderr_fd (launcher, fd);
  *exited = FALSE;
  daemon = g_subprocess_launcher_spawn (launcher, &error, daemon_path, "--storage-root",
                                        f->storage_root, "--run-root", run_root, "--config",
                                        f->config_path, "--debug", NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (daemon, NULL, on_daemon_exited, exited);
  return daemon;
}

static gboolean
daemon_ready_or_gone (gconstpointer data)
{
  const Fixture *f = data;

  return f->daemon_exited || name_has_owner (f->bus);
}

static gboolean
name_is_free (gconstpointer data)
{
  const Fixture *f = data;

  return !name_has_owner (f->bus);
}

void
start_daemon (Fixture *f)
{
  f->daemon = spawn_daemon (f, f->run_root, f->log_path, &f->daemon_exited);
  if (!wait_until (daemon_ready_or_gone, f) || f->daemon_exited)
    {
      g_printerr ("containersd did not come up (%s); its log is printed below\n",
                  f->daemon_exited ? "it exited" : "timeout");
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                           "containersd did not own " BUS_NAME);
    }
}

int
stop_daemon (Fixture *f)
{
  int status;

  g_subprocess_send_signal (f->daemon, SIGTERM);
  if (!wait_until (flag_is_set, &f->daemon_exited))
    {
      g_printerr ("containersd ignored SIGTERM for %d s; killing it\n", WAIT_TIMEOUT_S);
      g_subprocess_force_exit (f->daemon);
      wait_until (flag_is_set, &f->daemon_exited);
    }
  if (g_subprocess_get_if_exited (f->daemon))
    status = g_subprocess_get_exit_status (f->daemon);
  else
    status = 128 + g_subprocess_get_term_sig (f->daemon);
  g_clear_object (&f->daemon);
  /* The bus drops the name when it sees the connection close. */
  g_assert_true (wait_until (name_is_free, f));
  return status;
}

char *
import_fd (Fixture *f, int fd, const char *name, const char *options, GError **error)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GVariant) opts = parse_options (options ? options : "@a{sv} {}");
  char *path = NULL;
  int index = g_unix_fd_list_append (fds, fd, error);

  if (index < 0)
    return NULL;
  if (!ctr_manager_call_import_image_sync (f->manager, g_variant_new_handle (index), name, opts,
                                           fds, &path, NULL, NULL, error))
    return NULL;
  return path;
}

char *
import_file (Fixture *f, const char *file, const char *name, GError **error)
{
  int fd = open (file, O_RDONLY | O_CLOEXEC);
  char *path;

  g_assert_cmpint (fd, >=, 0);
  path = import_fd (f, fd, name, NULL, error);
  close (fd);
  return path;
}

char *
import_path (Fixture *f, const char *file, const char *name, const char *options, GError **error)
{
  g_autoptr(GVariant) opts = parse_options (options ? options : "@a{sv} {}");
  char *path = NULL;

  if (!ctr_manager_call_import_image_from_path_sync (f->manager, file, name, opts, &path, NULL,
                                                     error))
    return NULL;
  return path;
}

static void
fixture_setup (Fixture *f, gboolean import_by_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) config = g_key_file_new ();
  const char *tmp = g_getenv ("CTRD_TEST_TMP");

  g_assert_nonnull (tmp);
  f->tmp = g_strdup (tmp);
  f->storage_root = g_build_filename (tmp, "storage", NULL);
  f->run_root = g_build_filename (tmp, "run", NULL);
  f->config_path = g_build_filename (tmp, "containersd.conf", NULL);
  f->log_path = g_build_filename (tmp, "daemon.log", NULL);
  f->boot_id_path = g_build_filename (tmp, "boot_id", NULL);
  f->hooks_dirs[0] = g_build_filename (tmp, "hooks-a", NULL);
  f->hooks_dirs[1] = g_build_filename (tmp, "hooks-b", NULL);

  /* The daemon inherits this: a reboot is a new id in the file. */
  {
    g_autofree char *boot_id = g_uuid_string_random ();
    g_file_set_contents (f->boot_id_path, boot_id, -1, &error);
    g_assert_no_error (error);
    g_setenv ("CTRD_TEST_BOOT_ID_FILE", f->boot_id_path, TRUE);
  }

  g_key_file_set_string (config, "runtime", "path", runc_path);
  g_key_file_set_boolean (config, "daemon", "debug", TRUE);
  /* Never the host's hooks.d: only what a case puts in its own dirs. */
  g_key_file_set_string_list (config, "hooks", "dirs", (const char *const *) f->hooks_dirs, 2);
  g_key_file_save_to_file (config, f->config_path, &error);
  g_assert_no_error (error);

  f->bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  start_daemon (f);

  f->manager = ctr_manager_proxy_new_sync (f->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, BUS_NAME,
                                           MANAGER_PATH, NULL, &error);
  g_assert_no_error (error);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (f->manager), G_MAXINT);

  if (import_by_path)
    f->image_path = import_path (f, busybox_tar, "busybox", NULL, &error);
  else
    f->image_path = import_file (f, busybox_tar, "busybox", &error);
  g_assert_no_error (error);
  f->image_id = get_string_property (f, f->image_path, IMAGE_IFACE, "Id");
}

/* Fails the case without stopping the child's teardown; the child's stdout is
 * not shown, so the reason goes to stderr. */
static void G_GNUC_PRINTF (1, 2)
fail_softly (const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("FAIL: %s\n", msg);
  g_test_fail ();
}

/* Lines of the daemon's log at priority <3>: GLib criticals (a failed
 * g_return_if_fail and the like), which are bugs whatever the case asserted. */
static char *
daemon_log_criticals (Fixture *f)
{
  g_autofree char *log = read_file_or_null (f->log_path);
  g_auto(GStrv) lines = g_strsplit (log ? log : "", "\n", -1);
  g_autoptr(GPtrArray) criticals = g_ptr_array_new ();

  for (char **line = lines; *line; line++)
    if (g_str_has_prefix (*line, "<3>"))
      g_ptr_array_add (criticals, *line);
  if (criticals->len == 0)
    return NULL;
  g_ptr_array_add (criticals, NULL);
  return g_strjoinv ("\n", (char **) criticals->pdata);
}

static void
fixture_teardown (Fixture *f)
{
  g_autofree char *criticals = NULL;

  g_clear_object (&f->manager);
  if (f->daemon != NULL)
    {
      int status = stop_daemon (f);
      if (status != 0)
        fail_softly ("containersd exited with status %d on SIGTERM", status);
    }
  criticals = daemon_log_criticals (f);
  if (criticals != NULL)
    fail_softly ("containersd logged criticals:\n%s", criticals);
  g_clear_object (&f->bus);
  g_free (f->image_path);
  g_free (f->image_id);
  g_free (f->tmp);
  g_free (f->storage_root);
  g_free (f->run_root);
  g_free (f->config_path);
  g_free (f->log_path);
  g_free (f->boot_id_path);
  g_free (f->hooks_dirs[0]);
  g_free (f->hooks_dirs[1]);
}

static void
print_daemon_log (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "daemon.log", NULL);
  g_autofree char *log = read_file_or_null (path);

  if (log != NULL && *log != '\0')
    g_printerr ("---- containersd log (%s) ----\n%s---- end of containersd log ----\n", path,
                log);
}

/* The parent runs each case in a child with its own temporary directory, then
 * cleans up after it, whether it passed, failed, crashed or hung. */
static void
run_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *leftovers = NULL;

  if (g_test_subprocess ())
    {
      Fixture f = { 0 };
      fixture_setup (&f, c->import_by_path);
      c->func (&f, c->data);
      fixture_teardown (&f);
      return;
    }

  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return;
    }
  g_test_set_nonfatal_assertions ();
  tmp = g_dir_make_tmp ("ctrd-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("CTRD_TEST_TMP", tmp, TRUE);
  g_test_trap_subprocess (NULL, (guint64) CASE_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_test_trap_has_passed ())
    print_daemon_log (tmp);
  leftovers = cleanup_tree (tmp);
  g_unsetenv ("CTRD_TEST_TMP");
  g_test_trap_assert_passed ();
  if (leftovers != NULL)
    g_test_fail_printf ("cleanup after the case: %s", leftovers);
}

static GPtrArray *all_cases;

void
add_case (const char *path, CaseFunc func, gconstpointer data)
{
  static guint count;
  Case *c = g_new0 (Case, 1);

  c->func = func;
  c->data = data;
  /* Half of the cases import busybox by path, half through an fd. */
  c->import_by_path = (count++ % 2) == 1;
  /* main() frees the cases: GLib frees a case's data only once it ran, and
   * the child of g_test_trap_subprocess() runs one case of them all. */
  g_ptr_array_add (all_cases, c);
  g_test_add_data_func (path, c, run_case);
}

/* ---- setting up and running the cases ---------------------------------- */

static char *
preflight (void)
{
  if (getuid () != 0)
    return g_strdup ("needs root (runc, overlay mounts)");
  /* Never the host's bus: only the one tests/private-bus.sh made. */
  if (g_getenv ("CTRD_PRIVATE_BUS_DIR") == NULL || g_getenv ("DBUS_SYSTEM_BUS_ADDRESS") == NULL)
    return g_strdup ("run under tests/private-bus.sh (make check does)");
  return NULL;
}

static char *
build_busybox_tar (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ctrd-busybox-XXXXXX", &error);
  g_autofree char *script = g_build_filename (top_srcdir, "tests", "make-busybox-rootfs.sh",
                                              NULL);
  char *tar;

  g_assert_no_error (error);
  tar = g_build_filename (dir, "busybox.tar", NULL);
  if (run_command (CMD ("sh", script, tar), NULL, NULL) != 0)
    g_error ("%s failed", script);
  return tar;
}

static char *built_tar;

void
integration_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);

  top_srcdir = g_getenv ("CTRD_TOP_SRCDIR");
  top_builddir = g_getenv ("CTRD_TOP_BUILDDIR");
  if (top_srcdir == NULL || top_builddir == NULL)
    g_error ("CTRD_TOP_SRCDIR and CTRD_TOP_BUILDDIR must be set (make check and "
             "tests/run-test.sh set them)");
  daemon_path = g_build_filename (top_builddir, "service", "containersd", NULL);
  runc_path = g_find_program_in_path ("runc");

  if (g_test_subprocess ())
    busybox_tar = g_getenv ("CTRD_TEST_BUSYBOX_TAR");
  else if ((skip_reason = preflight ()) == NULL)
    {
      if (!g_file_test (daemon_path, G_FILE_TEST_IS_EXECUTABLE))
        g_error ("%s is missing: build it first", daemon_path);
      if (runc_path == NULL)
        g_error ("runc is not on PATH");
      built_tar = build_busybox_tar ();
      busybox_tar = built_tar;
      g_setenv ("CTRD_TEST_BUSYBOX_TAR", built_tar, TRUE);
    }

  all_cases = g_ptr_array_new_with_free_func (g_free);
}

int
integration_run (void)
{
  int status = g_test_run ();

  g_ptr_array_unref (all_cases);
  if (built_tar != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (built_tar);
      run_command (CMD ("rm", "-rf", dir), NULL, NULL);
      g_clear_pointer (&built_tar, g_free);
    }
  g_free (daemon_path);
  g_free (runc_path);
  g_free (skip_reason);
  return status;
}
