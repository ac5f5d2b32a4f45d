/* test-integration.c: containersd as its clients see it.
 *
 * Runs the real daemon on a private system bus with a real polkitd (run-test.sh
 * puts this program under tests/private-bus.sh), on temporary storage and run
 * roots, with the real OSTree repository, conmon and runc, and drives it
 * through the generated proxies. Each case asserts states, property values
 * seen through PropertiesChanged, D-Bus error names, and what is on disk.
 *
 * Each case runs in a child process (g_test_trap_subprocess) on its own
 * temporary directory, so that a failed assertion, a crash or a hang in one
 * case still leaves the parent to clean up after it (kill what is left, delete
 * runc containers, unmount, remove the directory) and to go on with the next.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "ctr-generated.h"
#include "ctrd-test-util.h"

#define BUS_NAME "org.example.Containers1"
#define MANAGER_PATH "/org/example/Containers1"
#define MANAGER_IFACE BUS_NAME ".Manager"
#define CONTAINER_IFACE BUS_NAME ".Container"
#define IMAGE_IFACE BUS_NAME ".Image"
#define OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"
#define ERR(name) BUS_NAME ".Error." name

/* Bounds on waits, generous for a loaded two-core machine. They only stop a
 * hang: no case asserts how long anything took. */
#define WAIT_TIMEOUT_S 60
#define CASE_TIMEOUT_S 300
/* Stop's timeout value that means "the container's StopTimeout". */
#define STOP_TIMEOUT_DEFAULT G_MAXUINT32

#define CMD(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ERRORS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char *top_srcdir;
static const char *top_builddir;
static char *daemon_path;
static char *runc_path;
static const char *busybox_tar; /* built once by the parent, shared by all cases */
static char *skip_reason;

typedef struct
{
  char *tmp;
  char *storage_root;
  char *run_root;
  char *config_path;
  char *log_path;
  GDBusConnection *bus;
  GSubprocess *daemon;
  gboolean daemon_exited;
  CtrManager *manager;
  char *image_path; /* busybox:latest, imported by the fixture */
  char *image_id;
} Fixture;

typedef void (*CaseFunc) (Fixture *f, gconstpointer data);

typedef struct
{
  CaseFunc func;
  gconstpointer data;
  gboolean import_by_path; /* how the fixture imports busybox: by path or by fd */
} Case;

/* ---- small helpers ---------------------------------------------------- */

static gboolean
is_hex64 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

static gboolean
strv_has (const char *const *strv, const char *s)
{
  return strv != NULL && g_strv_contains (strv, s);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static char *
join_sorted (GPtrArray *items)
{
  g_ptr_array_sort (items, compare_strings);
  g_ptr_array_add (items, NULL);
  char *joined = g_strjoinv ("\n", (char **) items->pdata);
  g_ptr_array_remove_index (items, items->len - 1);
  return joined;
}

/* Runs @argv (PATH searched) and returns its exit status; stdout in @out_stdout. */
static int
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

static char *
read_file_or_null (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

static gboolean
pid_exists (guint32 pid)
{
  g_autofree char *proc = g_strdup_printf ("/proc/%u", pid);

  return pid > 0 && g_file_test (proc, G_FILE_TEST_EXISTS);
}

/* Mount points at or below @prefix, from /proc/self/mountinfo (octal escapes
 * undone), deepest first. */
static GPtrArray *
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

/* The mountinfo line of the mount whose options have @option (exactly, up to
 * a comma), or NULL. */
static char *
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

/* Waits (bounded) until no process mentions @needle; TRUE if none is left. */
static gboolean
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

typedef gboolean (*Condition) (gconstpointer data);

static gboolean
keep_waking (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context (so signals and replies arrive) until @cond holds
 * or WAIT_TIMEOUT_S pass. Returns whether it holds. */
static gboolean
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

static gboolean
flag_is_set (gconstpointer data)
{
  return *(const gboolean *) data;
}

static gboolean
path_exists (gconstpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
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

/* A method call with no client-side timeout (Stop, Wait and imports last as
 * long as the work). */
static GVariant *
call (Fixture *f, const char *path, const char *iface, const char *method, GVariant *params,
      GError **error)
{
  return g_dbus_connection_call_sync (f->bus, BUS_NAME, path, iface, method, params, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, error);
}

/* A property read straight from the daemon (not a proxy's cache). */
static GVariant *
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

static char *
get_string_property (Fixture *f, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) value = get_property (f, path, iface, name);

  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
                 || g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH));
  return g_variant_dup_string (value, NULL);
}

static guint32
get_u32 (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr(GVariant) value = get_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, name);

  return g_variant_get_uint32 (value);
}

static gint32
get_i32 (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr(GVariant) value = get_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, name);

  return g_variant_get_int32 (value);
}

static guint64
get_u64 (Fixture *f, CtrContainer *c, const char *name)
{
  g_autoptr(GVariant) value = get_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, name);

  return g_variant_get_uint64 (value);
}

static GVariant *
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

static GPtrArray *
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

static gboolean
object_is_managed (Fixture *f, const char *path)
{
  g_autoptr(GPtrArray) paths = managed_object_paths (f);

  for (guint i = 0; i < paths->len; i++)
    if (g_str_equal (paths->pdata[i], path))
      return TRUE;
  return FALSE;
}

/* Asserts that @error is a D-Bus error whose name is one of @accepted, with a
 * message of its own. */
static void
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

#define assert_dbus_error(error, ...) \
  assert_dbus_error_impl ((error), ERRORS (__VA_ARGS__), __FILE__, __LINE__, G_STRFUNC)

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

/* A container proxy that records every State announced by PropertiesChanged. */
static CtrContainer *
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

static CtrImage *
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

/* Waits until the proxy learns (from PropertiesChanged, the only way its
 * cache changes after it is made) that the container is in one of @states. A
 * state that was announced but already left also counts. */
static void
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

#define STATES_ENDED CMD ("stopped", "exited")

static char *
container_dir (Fixture *f, const char *id)
{
  return g_build_filename (f->storage_root, "containers", id, NULL);
}

static char *
upper_path (Fixture *f, const char *id, const char *name)
{
  return g_build_filename (f->storage_root, "containers", id, "upper", name, NULL);
}

static GVariant *
parse_options (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *options = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return options;
}

static char *
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

static char *
create_container (Fixture *f, const char *name, const char *const *command, const char *options)
{
  g_autoptr(GError) error = NULL;
  char *path = try_create (f, name, "busybox", command, options, &error);

  g_assert_no_error (error);
  g_assert_true (g_variant_is_object_path (path));
  return path;
}

/* Starts a container and waits until it runs (or, for a short command, has
 * already ended). */
static void
start_container (CtrContainer *proxy)
{
  g_autoptr(GError) error = NULL;

  ctr_container_call_start_sync (proxy, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (proxy, CMD ("running", "stopped", "exited"));
}

static void
stop_container (CtrContainer *proxy, guint timeout)
{
  g_autoptr(GError) error = NULL;

  ctr_container_call_stop_sync (proxy, timeout, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (proxy, STATES_ENDED);
}

static int
wait_container (CtrContainer *proxy)
{
  g_autoptr(GError) error = NULL;
  int code = -1;

  ctr_container_call_wait_sync (proxy, &code, NULL, &error);
  g_assert_no_error (error);
  return code;
}

/* Waits for a file the container's command writes once it is ready (its
 * traps are set), seen in its writable layer. */
static void
wait_for_upper_file (Fixture *f, const char *id, const char *name)
{
  g_autofree char *path = upper_path (f, id, name);

  if (!wait_until (path_exists, path))
    g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                         "the container never wrote its ready file");
}

static void
assert_pid_gone_soon (guint32 pid)
{
  /* conmon reaps the process; until then it is a zombie with a /proc entry. */
  g_assert_true (wait_until (pid_is_gone, &pid));
}

/* runc's view of a container: its status, or NULL when runc does not know it. */
static char *
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

static char *
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

/* What a failed call must not change: the bus objects, the container
 * directories, the image refs and the mounts. */
static char *
snapshot (Fixture *f)
{
  g_autoptr(GPtrArray) paths = managed_object_paths (f);
  g_autoptr(GPtrArray) mounts = mounts_under (f->tmp);
  g_autofree char *containers_dir = g_build_filename (f->storage_root, "containers", NULL);
  g_autofree char *objects = join_sorted (paths);
  g_autofree char *containers = ctrd_test_dir_listing (containers_dir);
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
  return g_strdup_printf ("objects:\n%s\ncontainers:\n%s\nrefs:\n%s\nmounts:\n%s\n", objects,
                          containers, refs, mount_list);
}

#define assert_unchanged(f, before) \
  G_STMT_START \
  { \
    g_autofree char *after_ = snapshot (f); \
    g_assert_cmpstr (after_, ==, (before)); \
  } \
  G_STMT_END

/* ---- the daemon ------------------------------------------------------- */

static void
on_daemon_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

static GSubprocess *
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

static void
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

/* SIGTERMs the daemon and returns its exit status (128+N for a signal). */
static int
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

static char *
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

static char *
import_file (Fixture *f, const char *file, const char *name, GError **error)
{
  int fd = open (file, O_RDONLY | O_CLOEXEC);
  char *path;

  g_assert_cmpint (fd, >=, 0);
  path = import_fd (f, fd, name, NULL, error);
  close (fd);
  return path;
}

static char *
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

  g_key_file_set_string (config, "runtime", "path", runc_path);
  g_key_file_set_boolean (config, "daemon", "debug", TRUE);
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

static void
add_case (const char *path, CaseFunc func, gconstpointer data)
{
  static guint count;
  Case *c = g_new0 (Case, 1);

  c->func = func;
  c->data = data;
  /* Half of the cases import busybox by path, half through an fd. */
  c->import_by_path = (count++ % 2) == 1;
  g_test_add_data_func_full (path, c, run_case, g_free);
}

/* ---- manager ---------------------------------------------------------- */

static void
test_manager_properties (Fixture *f, gconstpointer data)
{
  const char *version = ctr_manager_get_version (f->manager);
  const char *runtime = ctr_manager_get_runtime (f->manager);
  g_autofree char *repo = g_build_filename (f->storage_root, "repo", NULL);
  g_autofree char *repo_config = g_build_filename (repo, "config", NULL);
  g_autofree char *refs = NULL;
  g_autofree char *image_ref = g_strdup_printf ("images/%s", f->image_id);
  const char *private_dirs[] = { "repo", "checkouts", "containers" };
  struct stat st;

  g_assert_nonnull (version);
  g_assert_cmpuint (strlen (version), >, 0);
  g_assert_nonnull (runtime);
  g_assert_true (g_path_is_absolute (runtime));
  g_assert_true (g_file_test (runtime, G_FILE_TEST_IS_EXECUTABLE));
  g_assert_cmpstr (ctr_manager_get_storage_root (f->manager), ==, f->storage_root);
  g_assert_cmpstr (ctr_manager_get_repo_path (f->manager), ==, repo);

  /* The repository is a real OSTree repo holding the fixture's image. */
  g_assert_true (g_file_test (repo_config, G_FILE_TEST_IS_REGULAR));
  refs = ostree_output (f, CMD ("refs"));
  g_assert_nonnull (refs);
  g_assert_nonnull (strstr (refs, image_ref));

  /* Images keep setuid files: no host user may reach them. */
  for (guint i = 0; i < G_N_ELEMENTS (private_dirs); i++)
    {
      g_autofree char *dir = g_build_filename (f->storage_root, private_dirs[i], NULL);
      g_assert_cmpint (stat (dir, &st), ==, 0);
      g_assert_true (S_ISDIR (st.st_mode));
      g_assert_cmpint (st.st_mode & 0077, ==, 0);
    }
  g_assert_cmpint (stat (f->run_root, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
}

static char *
arg_signature (GDBusArgInfo **args)
{
  g_autoptr(GString) sig = g_string_new (NULL);

  for (guint i = 0; args && args[i]; i++)
    g_string_append (sig, args[i]->signature);
  return g_string_free (g_steal_pointer (&sig), FALSE);
}

static void
assert_member_present (gconstpointer member, const char *kind, const char *iface,
                       const char *name, const char *path)
{
  g_autofree char *msg = NULL;

  if (member != NULL)
    return;
  msg = g_strdup_printf ("%s %s.%s, which the XML declares, is missing on %s", kind, iface, name,
                         path);
  g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
}

/* Asserts that the object at @path implements @expected exactly as the XML says. */
static void
assert_implements (Fixture *f, const char *path, GDBusInterfaceInfo *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GDBusNodeInfo) node = NULL;
  const char *xml;
  GDBusInterfaceInfo *actual;

  reply = call (f, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  actual = g_dbus_node_info_lookup_interface (node, expected->name);
  assert_member_present (actual, "interface", expected->name, "", path);

  for (guint i = 0; expected->methods && expected->methods[i]; i++)
    {
      GDBusMethodInfo *want = expected->methods[i];
      GDBusMethodInfo *got = g_dbus_interface_info_lookup_method (actual, want->name);
      g_autofree char *want_in = arg_signature (want->in_args);
      g_autofree char *want_out = arg_signature (want->out_args);
      g_autofree char *got_in = NULL;
      g_autofree char *got_out = NULL;

      assert_member_present (got, "method", expected->name, want->name, path);
      got_in = arg_signature (got->in_args);
      got_out = arg_signature (got->out_args);
      g_assert_cmpstr (got_in, ==, want_in);
      g_assert_cmpstr (got_out, ==, want_out);
    }
  for (guint i = 0; expected->signals && expected->signals[i]; i++)
    {
      GDBusSignalInfo *got = g_dbus_interface_info_lookup_signal (actual,
                                                                  expected->signals[i]->name);
      g_autofree char *want_sig = arg_signature (expected->signals[i]->args);
      g_autofree char *got_sig = NULL;

      assert_member_present (got, "signal", expected->name, expected->signals[i]->name, path);
      got_sig = arg_signature (got->args);
      g_assert_cmpstr (got_sig, ==, want_sig);
    }
  for (guint i = 0; expected->properties && expected->properties[i]; i++)
    {
      GDBusPropertyInfo *want = expected->properties[i];
      GDBusPropertyInfo *got = g_dbus_interface_info_lookup_property (actual, want->name);

      assert_member_present (got, "property", expected->name, want->name, path);
      g_assert_cmpstr (got->signature, ==, want->signature);
      g_assert_cmpint (got->flags, ==, want->flags);
    }
}

static void
test_manager_introspection (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *xml_path = g_build_filename (top_srcdir, "dbus", "org.example.Containers1.xml",
                                                NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GDBusNodeInfo) api = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GDBusNodeInfo) root = NULL;
  g_autofree char *container = create_container (f, "intro", CMD ("true"), NULL);
  const char *root_xml;

  g_file_get_contents (xml_path, &xml, NULL, &error);
  g_assert_no_error (error);
  api = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);

  assert_implements (f, MANAGER_PATH, g_dbus_node_info_lookup_interface (api, MANAGER_IFACE));
  assert_implements (f, container, g_dbus_node_info_lookup_interface (api, CONTAINER_IFACE));
  assert_implements (f, f->image_path, g_dbus_node_info_lookup_interface (api, IMAGE_IFACE));

  /* The manager's object is also the ObjectManager, with the objects below it. */
  reply = call (f, MANAGER_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
                &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &root_xml);
  root = g_dbus_node_info_new_for_xml (root_xml, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_dbus_node_info_lookup_interface (root, OBJECT_MANAGER_IFACE));
  {
    gboolean has_containers = FALSE, has_images = FALSE;
    for (guint i = 0; root->nodes && root->nodes[i]; i++)
      {
        has_containers |= g_strcmp0 (root->nodes[i]->path, "containers") == 0;
        has_images |= g_strcmp0 (root->nodes[i]->path, "images") == 0;
      }
    g_assert_true (has_containers);
    g_assert_true (has_images);
  }
}

static void
test_manager_managed_objects (Fixture *f, gconstpointer data)
{
  g_autofree char *container = create_container (f, "listed", CMD ("true"), NULL);
  g_autoptr(GVariant) objects = get_managed_objects (f);
  g_autoptr(GVariant) image_ifaces = NULL;
  g_autoptr(GVariant) container_ifaces = NULL;
  g_autoptr(GVariant) image_props = NULL;
  g_autoptr(GVariant) container_props = NULL;
  g_autofree const char **names = NULL;
  const char *s;
  GVariantIter iter;
  const char *path;
  guint n_containers = 0, n_images = 0;

  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL))
    {
      g_assert_true (g_str_has_prefix (path, MANAGER_PATH "/"));
      if (g_str_has_prefix (path, MANAGER_PATH "/containers/"))
        n_containers++;
      else if (g_str_has_prefix (path, MANAGER_PATH "/images/"))
        n_images++;
      else
        g_assert_true (g_str_has_prefix (path, MANAGER_PATH "/jobs/"));
    }
  g_assert_cmpuint (n_containers, ==, 1);
  g_assert_cmpuint (n_images, ==, 1);

  image_ifaces = g_variant_lookup_value (objects, f->image_path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (image_ifaces);
  image_props = g_variant_lookup_value (image_ifaces, IMAGE_IFACE, G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (image_props);
  g_assert_true (g_variant_lookup (image_props, "Id", "&s", &s));
  g_assert_cmpstr (s, ==, f->image_id);
  g_assert_true (g_variant_lookup (image_props, "Names", "^a&s", &names));
  g_assert_true (strv_has (names, "busybox:latest"));

  container_ifaces = g_variant_lookup_value (objects, container, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (container_ifaces);
  container_props = g_variant_lookup_value (container_ifaces, CONTAINER_IFACE,
                                            G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (container_props);
  g_assert_true (g_variant_lookup (container_props, "Name", "&s", &s));
  g_assert_cmpstr (s, ==, "listed");
  g_assert_true (g_variant_lookup (container_props, "State", "&s", &s));
  g_assert_cmpstr (s, ==, "configured");
  g_assert_true (g_variant_lookup (container_props, "Image", "&o", &s));
  g_assert_cmpstr (s, ==, f->image_path);
}

/* ---- images ----------------------------------------------------------- */

static void
assert_image_named (Fixture *f, const char *path, const char *name)
{
  g_autoptr(CtrImage) image = image_proxy (f, path);
  g_autofree char *ref = NULL;
  g_autofree char *rev = NULL;
  const char *id = ctr_image_get_id (image);
  const char *commit = ctr_image_get_commit (image);

  g_assert_true (is_hex64 (id));
  g_assert_true (g_str_has_suffix (path, id));
  g_assert_true (strv_has (ctr_image_get_names (image), name));
  g_assert_cmpuint (g_strv_length ((char **) ctr_image_get_names (image)), ==, 1);
  g_assert_true (is_hex64 (commit));
  ref = g_strdup_printf ("images/%s", id);
  rev = ostree_output (f, CMD ("rev-parse", ref));
  g_assert_nonnull (rev);
  g_assert_cmpstr (g_strstrip (rev), ==, commit);
}

static void
test_image_import (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtrImage) image = image_proxy (f, f->image_path);
  g_autofree char *expected_path = g_strdup_printf (MANAGER_PATH "/images/%s", f->image_id);
  g_autofree char *prefix = g_strndup (f->image_id, 12);
  g_autofree char *gz = g_build_filename (f->tmp, "busybox.tar.gz", NULL);
  g_autofree char *gz_path = NULL;
  g_autofree char *piped_path = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  const char *references[] = { "busybox", "busybox:latest", f->image_id, prefix };
  g_autoptr(GMappedFile) tar = NULL;
  g_autoptr(GBytes) tar_bytes = NULL;
  GThread *writer = NULL;
  struct stat st;
  int fd;
  guint n_images = 0;

  g_assert_cmpstr (f->image_path, ==, expected_path);
  assert_image_named (f, f->image_path, "busybox:latest");
  /* Size counts regular files: at least the busybox binary itself. */
  g_assert_cmpint (stat ("/bin/busybox", &st), ==, 0);
  g_assert_cmpuint (ctr_image_get_size (image), >=, (guint64) st.st_size);
  g_assert_cmpuint (ctr_image_get_created_at (image), >, 0);
  g_assert_cmpuint (ctr_image_get_created_at (image), <=, (guint64) g_get_real_time ());
  g_assert_cmpuint (g_strv_length ((char **) ctr_image_get_containers (image)), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (references); i++)
    {
      g_autofree char *found = NULL;
      ctr_manager_call_get_image_sync (f->manager, references[i], &found, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (found, ==, f->image_path);
    }

  /* A gzip-compressed tar, opened by the daemon itself. */
  g_assert_true (ctrd_test_make_busybox_tar (gz));
  gz_path = import_path (f, gz, "bb-gz", NULL, &error);
  g_assert_no_error (error);
  assert_image_named (f, gz_path, "bb-gz:latest");

  /* A pipe: the daemon cannot seek or stat a size. */
  tar = g_mapped_file_new (busybox_tar, FALSE, &error);
  g_assert_no_error (error);
  tar_bytes = g_mapped_file_get_bytes (tar);
  fd = ctrd_test_pipe_from_bytes (tar_bytes, &writer);
  piped_path = import_fd (f, fd, "piped:v1", NULL, &error);
  close (fd);
  g_thread_join (writer);
  g_assert_no_error (error);
  assert_image_named (f, piped_path, "piped:v1");
  g_assert_cmpstr (piped_path, !=, gz_path);
  g_assert_cmpstr (piped_path, !=, f->image_path);

  paths = managed_object_paths (f);
  for (guint i = 0; i < paths->len; i++)
    n_images += g_str_has_prefix (paths->pdata[i], MANAGER_PATH "/images/");
  g_assert_cmpuint (n_images, ==, 3);
}

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
record_removed_object (GDBusConnection *connection, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *params,
                       gpointer user_data)
{
  GPtrArray *removed = user_data;
  const char *object;

  g_variant_get (params, "(&o@as)", &object, NULL);
  g_ptr_array_add (removed, g_strdup (object));
}

static void
record_event (GDBusConnection *connection, const char *sender, const char *path,
              const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  GPtrArray *events = user_data;
  const char *id, *event;

  g_variant_get (params, "(&o&s&st)", NULL, &id, &event, NULL);
  g_ptr_array_add (events, g_strdup_printf ("%s %s", id, event));
}

typedef struct
{
  GPtrArray *items;
  const char *item;
} Seen;

static gboolean
item_seen (gconstpointer data)
{
  const Seen *s = data;

  for (guint i = 0; i < s->items->len; i++)
    if (g_str_equal (s->items->pdata[i], s->item))
      return TRUE;
  return FALSE;
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

typedef struct
{
  int code;
  gboolean done;
  GError *error;
} WaitCall;

static void
on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitCall *w = user_data;

  ctr_container_call_wait_finish (CTR_CONTAINER (source), &w->code, result, &w->error);
  w->done = TRUE;
}

#define N_WAITERS 4

static gboolean
all_waits_done (gconstpointer data)
{
  const WaitCall *calls = data;

  for (guint i = 0; i < N_WAITERS; i++)
    if (!calls[i].done)
      return FALSE;
  return TRUE;
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

/* ---- the daemon itself ------------------------------------------------ */

static void
test_daemon_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *sleeper_path = create_container (f, "sleeper", CMD ("sleep", "300"), NULL);
  g_autofree char *quitter_path = create_container (
      f, "quitter", CMD ("sh", "-c", "trap 'exit 5' USR1; touch /ready; while :; do sleep 1; done"),
      NULL);
  g_autoptr(CtrContainer) sleeper = container_proxy (f, sleeper_path);
  g_autoptr(CtrContainer) quitter = container_proxy (f, quitter_path);
  g_autoptr(GPtrArray) paths_before = NULL;
  g_autoptr(GPtrArray) paths_after = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *state = NULL;
  g_autoptr(GVariant) pid_after = NULL;
  g_autoptr(GVariant) exit_code = NULL;
  guint32 sleeper_pid, quitter_pid;

  start_container (sleeper);
  start_container (quitter);
  wait_for_upper_file (f, ctr_container_get_id (quitter), "ready");
  sleeper_pid = get_u32 (f, sleeper, "Pid");
  quitter_pid = get_u32 (f, quitter, "Pid");
  g_assert_cmpuint (sleeper_pid, >, 0);
  g_assert_cmpuint (quitter_pid, >, 0);
  paths_before = managed_object_paths (f);
  g_clear_object (&sleeper);
  g_clear_object (&quitter);

  g_assert_cmpint (stop_daemon (f), ==, 0);
  /* Containers outlive the daemon. */
  g_assert_true (pid_exists (sleeper_pid));
  g_assert_true (pid_exists (quitter_pid));

  /* One of them exits while no daemon runs. */
  g_assert_cmpint (kill ((pid_t) quitter_pid, SIGUSR1), ==, 0);
  assert_pid_gone_soon (quitter_pid);

  start_daemon (f);
  paths_after = managed_object_paths (f);
  before = join_sorted (paths_before);
  after = join_sorted (paths_after);
  g_assert_cmpstr (after, ==, before);

  state = get_string_property (f, sleeper_path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "running");
  pid_after = get_property (f, sleeper_path, CONTAINER_IFACE, "Pid");
  g_assert_cmpuint (g_variant_get_uint32 (pid_after), ==, sleeper_pid);
  g_assert_true (pid_exists (sleeper_pid));

  /* The daemon learns of the exit it missed (at once or soon after). */
  quitter = container_proxy (f, quitter_path);
  wait_for_state (quitter, STATES_ENDED);
  exit_code = get_property (f, quitter_path, CONTAINER_IFACE, "ExitCode");
  g_assert_cmpint (g_variant_get_int32 (exit_code), ==, 5);
  g_assert_cmpint (wait_container (quitter), ==, 5);

  /* And it can still control the one it adopted. */
  sleeper = container_proxy (f, sleeper_path);
  stop_container (sleeper, 1);
  assert_pid_gone_soon (sleeper_pid);
}

static void
test_daemon_second_instance (Fixture *f, gconstpointer data)
{
  g_autofree char *run2 = g_build_filename (f->tmp, "run2", NULL);
  g_autofree char *log2 = g_build_filename (f->tmp, "daemon2.log", NULL);
  g_autofree char *before = snapshot (f);
  g_autofree char *log = NULL;
  g_autofree char *version = NULL;
  gboolean exited = FALSE;
  g_autoptr(GSubprocess) second = spawn_daemon (f, run2, log2, &exited);

  if (!wait_until (flag_is_set, &exited))
    {
      g_subprocess_force_exit (second);
      wait_until (flag_is_set, &exited);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                           "a second daemon on the same storage root kept running");
    }
  g_assert_false (g_subprocess_get_successful (second));
  log = read_file_or_null (log2);
  g_assert_nonnull (log);
  g_assert_cmpuint (strlen (g_strstrip (log)), >, 0);
  g_printerr ("# the second daemon said: %s\n", log);

  /* The first one goes on as before. */
  g_assert_false (f->daemon_exited);
  version = get_string_property (f, MANAGER_PATH, MANAGER_IFACE, "Version");
  g_assert_cmpuint (strlen (version), >, 0);
  assert_unchanged (f, before);
}

/* ---- bad input: the exact error, and nothing changed ------------------- */

typedef struct
{
  const char *test_path;
  const char *name; /* NULL: a name of 129 characters */
  const char *image;
  const char *options;
  gboolean precreate; /* a container of that name exists already */
  const char *errors[3];
} BadCreate;

static const BadCreate bad_creates[] = {
  { "/bad/create/name-leading-dash", "-x", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-space", "a b", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-slash", "a/b", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-dotdot", "..", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-too-long", NULL, "busybox", NULL, FALSE,
    { ERR ("LimitExceeded"), ERR ("InvalidArgument") } },
  { "/bad/create/duplicate-name", "dup", "busybox", NULL, TRUE, { ERR ("NameInUse") } },
  { "/bad/create/unknown-image", "x1", "nosuchimage", NULL, FALSE, { ERR ("NotFound") } },
  { "/bad/create/unknown-image-id", "x1",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL, FALSE,
    { ERR ("NotFound") } },
  { "/bad/create/env-wrong-type", "x1", "busybox", "{'Env': <'FOO=bar'>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/labels-wrong-type", "x1", "busybox", "{'Labels': <['a=b']>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/stop-timeout-wrong-type", "x1", "busybox", "{'StopTimeout': <'10'>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/unknown-option", "x1", "busybox", "{'NoSuchOption': <true>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/bogus-stop-signal", "x1", "busybox", "{'StopSignal': <'SIGBOGUS'>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/relative-working-dir", "x1", "busybox", "{'WorkingDir': <'tmp'>}", FALSE,
    { ERR ("InvalidArgument") } },
};

static void
test_bad_create (Fixture *f, gconstpointer data)
{
  const BadCreate *bad = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *long_name = g_strnfill (129, 'a');
  const char *name = bad->name ? bad->name : long_name;
  g_autofree char *precreated = NULL;
  g_autofree char *before = NULL;
  g_autofree char *path = NULL;

  if (bad->precreate)
    precreated = create_container (f, name, CMD ("true"), NULL);
  before = snapshot (f);
  path = try_create (f, name, bad->image, CMD ("true"), bad->options, &error);
  assert_dbus_error_impl (error, bad->errors, __FILE__, __LINE__, G_STRFUNC);
  g_assert_null (path);
  assert_unchanged (f, before);
}

static void
test_bad_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *found = NULL;

  ctr_manager_call_get_container_sync (f->manager, "nosuchcontainer", &found, NULL, &error);
  assert_dbus_error (error, ERR ("NotFound"));
  g_clear_error (&error);
  ctr_manager_call_get_image_sync (f->manager, "nosuchimage:1.0", &found, NULL, &error);
  assert_dbus_error (error, ERR ("NotFound"));
  g_assert_null (found);
}

static void
test_bad_removed_container (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "gone", CMD ("true"), NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autofree char *before = NULL;
  g_autoptr(GVariant) reply = NULL;

  ctr_container_call_remove_sync (c, FALSE, FALSE, NULL, &error);
  g_assert_no_error (error);
  before = snapshot (f);

  /* The object is gone, so GDBus itself answers. */
  ctr_container_call_start_sync (c, NULL, &error);
  assert_dbus_error (error, "org.freedesktop.DBus.Error.UnknownObject",
                     "org.freedesktop.DBus.Error.UnknownMethod",
                     "org.freedesktop.DBus.Error.UnknownInterface");
  g_clear_error (&error);
  reply = call (f, path, CONTAINER_IFACE, "Remove", g_variant_new ("(bb)", TRUE, FALSE), &error);
  assert_dbus_error (error, "org.freedesktop.DBus.Error.UnknownObject",
                     "org.freedesktop.DBus.Error.UnknownMethod",
                     "org.freedesktop.DBus.Error.UnknownInterface");
  assert_unchanged (f, before);
}

static void
test_bad_property_set (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "fixed", CMD ("true"), NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *name = NULL;

  /* Every property is read-only: the bus policy or GDBus refuses. */
  reply = call (f, path, "org.freedesktop.DBus.Properties", "Set",
                g_variant_new ("(ssv)", CONTAINER_IFACE, "Name", g_variant_new_string ("other")),
                &error);
  assert_dbus_error (error, "org.freedesktop.DBus.Error.AccessDenied",
                     "org.freedesktop.DBus.Error.PropertyReadOnly",
                     "org.freedesktop.DBus.Error.InvalidArgs");
  name = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (name, ==, "fixed");
}

/* A running container that a bad call must leave exactly as it was. */
static CtrContainer *
running_container (Fixture *f, const char *name)
{
  g_autofree char *path = create_container (f, name, CMD ("sleep", "300"), NULL);
  CtrContainer *c = container_proxy (f, path);

  start_container (c);
  wait_for_state (c, CMD ("running"));
  return c;
}

static void
assert_still_running (Fixture *f, CtrContainer *c, guint32 pid)
{
  g_autofree char *state = get_string_property (
      f, g_dbus_proxy_get_object_path (G_DBUS_PROXY (c)), CONTAINER_IFACE, "State");

  g_assert_cmpstr (state, ==, "running");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);
  g_assert_true (pid_exists (pid));
}

/* A call that a running container must refuse, leaving it as it was. */
typedef struct
{
  const char *test_path;
  const char *method;
  const char *params; /* GVariant text */
  const char *error;
} BadOnRunning;

static const BadOnRunning bad_on_running[] = {
  { "/bad/kill/SIGBOGUS", "Kill", "('SIGBOGUS',)", ERR ("InvalidArgument") },
  { "/bad/kill/zero", "Kill", "('0',)", ERR ("InvalidArgument") },
  { "/bad/kill/99999", "Kill", "('99999',)", ERR ("InvalidArgument") },
  { "/bad/remove-running", "Remove", "(false, false)", ERR ("InvalidState") },
};

static void
test_bad_on_running (Fixture *f, gconstpointer data)
{
  const BadOnRunning *bad = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtrContainer) c = running_container (f, "target");
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = snapshot (f);
  g_autoptr(GVariant) params = g_variant_parse (NULL, bad->params, NULL, NULL, &error);
  g_autoptr(GVariant) reply = NULL;

  g_assert_no_error (error);
  reply = call (f, path, CONTAINER_IFACE, bad->method, params, &error);
  assert_dbus_error (error, bad->error);
  assert_unchanged (f, before);
  assert_still_running (f, c, pid);
}

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
test_bad_stop_configured (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "idle", CMD ("true"), NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autofree char *before = snapshot (f);
  g_autofree char *state = NULL;

  ctr_container_call_stop_sync (c, 1, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  assert_unchanged (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
}

/* Paths a buggy import could write @name to, relative to any of the
 * directories it works in. */
static void
assert_nowhere_on_host (Fixture *f, const char *name)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *cwd_parent = g_path_get_dirname (cwd);
  g_autofree char *repo = g_build_filename (f->storage_root, "repo", NULL);
  g_autofree char *repo_tmp = g_build_filename (f->storage_root, "repo", "tmp", NULL);
  g_autofree char *checkouts = g_build_filename (f->storage_root, "checkouts", NULL);
  g_autofree char *tmp_parent = g_path_get_dirname (f->tmp);
  const char *dirs[] = { "/",       "/tmp",    "/etc",    cwd,         cwd_parent, f->tmp,
                         tmp_parent, repo,     repo_tmp,  checkouts,   f->run_root,
                         f->storage_root };
  g_autofree char *found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *candidate = g_build_filename (dirs[i], name, NULL);
      if (g_file_test (candidate, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
        {
          g_printerr ("an archive member escaped to %s\n", candidate);
          unlink (candidate);
          g_assert_not_reached ();
        }
    }
  /* Nor anywhere in the daemon's trees except inside an image checkout. */
  g_assert_cmpint (run_command (CMD ("find", f->tmp, "-name", name, "-not", "-path",
                                     "*/checkouts/*"),
                                &found, NULL),
                   ==, 0);
  g_assert_cmpstr (found, ==, "");
}

static void
test_bad_import_escaping (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tar = g_build_filename (f->tmp, "evil.tar", NULL);
  guint32 tag = g_random_int ();
  g_autofree char *up = g_strdup_printf ("ctrd-escape-up-%08x", tag);
  g_autofree char *abs = g_strdup_printf ("ctrd-escape-abs-%08x", tag);
  g_autofree char *via = g_strdup_printf ("ctrd-escape-link-%08x", tag);
  g_autofree char *up_member = g_strdup_printf ("../%s", up);
  g_autofree char *abs_member = g_strdup_printf ("/%s", abs);
  g_autofree char *via_member = g_strdup_printf ("lib/tmp/%s", via);
  g_autofree char *before = snapshot (f);
  g_autofree char *path = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *tar_warnings = NULL;
  const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_DIR, "bin" },
    { CTRD_TEST_TAR_FILE, "bin/ok", "fine\n" },
    { CTRD_TEST_TAR_FILE, up_member, "up\n" },
    { CTRD_TEST_TAR_FILE, abs_member, "abs\n" },
    { CTRD_TEST_TAR_SYMLINK, "lib", "/" },
    { CTRD_TEST_TAR_FILE, via_member, "via\n" },
  };
  g_autoptr(GBytes) bytes = ctrd_test_build_tar (members, G_N_ELEMENTS (members), FALSE);

  ctrd_test_write_bytes (tar, bytes);

  /* The members really are hostile: the tar builder kept them as given. */
  g_assert_cmpint (run_command (CMD ("tar", "-tf", tar), &listing, &tar_warnings), ==, 0);
  g_assert_nonnull (strstr (listing, up_member));
  g_assert_nonnull (strstr (listing, via_member));

  path = import_file (f, tar, "evil", &error);
  if (error != NULL)
    {
      assert_dbus_error (error, ERR ("InvalidArgument"));
      assert_unchanged (f, before);
    }
  else
    g_printerr ("# the hostile archive was imported as %s\n", path);

  assert_nowhere_on_host (f, up);
  assert_nowhere_on_host (f, abs);
  assert_nowhere_on_host (f, via);
}

static void
import_bad_file (Fixture *f, const char *contents, gsize len, gboolean by_path,
                 const char *const *errors)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_build_filename (f->tmp, "bad-input", NULL);
  g_autofree char *before = snapshot (f);
  g_autofree char *path = NULL;

  g_file_set_contents (file, contents, (gssize) len, &error);
  g_assert_no_error (error);
  if (by_path)
    path = import_path (f, file, "bad", NULL, &error);
  else
    path = import_file (f, file, "bad", &error);
  assert_dbus_error_impl (error, errors, __FILE__, __LINE__, G_STRFUNC);
  g_assert_null (path);
  assert_unchanged (f, before);
}

static void
test_bad_import_not_tar (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (int i = 0; i < 200; i++)
    g_string_append (text, "this is not a tar archive\n");
  import_bad_file (f, text->str, text->len, FALSE, ERRORS (ERR ("InvalidArgument")));
}

static void
test_bad_import_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (busybox_tar, &contents, &len, &error);
  g_assert_no_error (error);
  /* Cut inside the busybox binary, off any 512-byte block boundary. */
  import_bad_file (f, contents, len / 2 + 100, TRUE, ERRORS (ERR ("InvalidArgument")));
}

static void
test_bad_import_relative_path (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *path = import_path (f, "busybox.tar", "rel", NULL, &error);

  assert_dbus_error (error, ERR ("InvalidArgument"));
  g_assert_null (path);
  assert_unchanged (f, before);
}

static void
test_bad_import_directory_fd (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *path = NULL;
  int fd = open (f->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  path = import_fd (f, fd, "dir", NULL, &error);
  close (fd);
  assert_dbus_error (error, ERR ("InvalidArgument"));
  g_assert_null (path);
  assert_unchanged (f, before);
}

typedef struct
{
  const char *test_path;
  const char *name;
  const char *options;
} BadImport;

static const BadImport bad_imports[] = {
  { "/bad/import/unknown-format", "fmt", "{'Format': <'bogus'>}" },
  { "/bad/import/format-wrong-type", "fmt", "{'Format': <uint32 1>}" },
  { "/bad/import/unknown-option", "fmt", "{'NoSuchOption': <'x'>}" },
  { "/bad/import/invalid-name", "Bad Name!", NULL },
};

static void
test_bad_import_options (Fixture *f, gconstpointer data)
{
  const BadImport *bad = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *path = import_path (f, busybox_tar, bad->name, bad->options, &error);

  assert_dbus_error (error, ERR ("InvalidArgument"));
  g_assert_null (path);
  assert_unchanged (f, before);
}

/* ---- main ------------------------------------------------------------- */

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

int
main (int argc, char **argv)
{
  g_autofree char *built_tar = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

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

  add_case ("/manager/properties", test_manager_properties, NULL);
  add_case ("/manager/introspection", test_manager_introspection, NULL);
  add_case ("/manager/managed-objects", test_manager_managed_objects, NULL);
  add_case ("/image/import", test_image_import, NULL);
  add_case ("/container/create-options", test_container_create_options, NULL);
  add_case ("/container/options-take-effect", test_container_options_take_effect, NULL);
  add_case ("/container/generated-name", test_container_generated_name, NULL);
  add_case ("/container/lifecycle", test_container_lifecycle, NULL);
  add_case ("/container/exit-code", test_container_exit_code, NULL);
  add_case ("/container/stop-signal", test_container_stop_signal, NULL);
  add_case ("/container/kill", test_container_kill, NULL);
  add_case ("/container/stop-timeout", test_container_stop_timeout, NULL);
  add_case ("/container/overlay", test_container_overlay, NULL);
  add_case ("/daemon/restart", test_daemon_restart, NULL);
  add_case ("/daemon/second-instance", test_daemon_second_instance, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_creates); i++)
    add_case (bad_creates[i].test_path, test_bad_create, &bad_creates[i]);
  add_case ("/bad/lookup", test_bad_lookup, NULL);
  add_case ("/bad/removed-container", test_bad_removed_container, NULL);
  add_case ("/bad/property-set", test_bad_property_set, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_on_running); i++)
    add_case (bad_on_running[i].test_path, test_bad_on_running, &bad_on_running[i]);
  add_case ("/bad/stop-configured", test_bad_stop_configured, NULL);
  add_case ("/bad/import/not-a-tar", test_bad_import_not_tar, NULL);
  add_case ("/bad/import/truncated-tar", test_bad_import_truncated, NULL);
  add_case ("/bad/import/escaping-members", test_bad_import_escaping, NULL);
  add_case ("/bad/import/relative-path", test_bad_import_relative_path, NULL);
  add_case ("/bad/import/directory-fd", test_bad_import_directory_fd, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_imports); i++)
    add_case (bad_imports[i].test_path, test_bad_import_options, &bad_imports[i]);
  add_case ("/state/start-running-is-noop", test_start_running_is_noop, NULL);

  status = g_test_run ();

  if (built_tar != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (built_tar);
      run_command (CMD ("rm", "-rf", dir), NULL, NULL);
    }
  g_free (daemon_path);
  g_free (runc_path);
  g_free (skip_reason);
  return status;
}
