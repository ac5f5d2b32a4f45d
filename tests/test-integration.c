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
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

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
  char *boot_id_path; /* the daemon's boot id source (CTRD_TEST_BOOT_ID_FILE) */
  char *hooks_dirs[2]; /* the daemon's [hooks] dirs, empty until a case fills them */
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

#define assert_string_property(f, path, name, expected) \
  G_STMT_START \
  { \
    g_autofree char *value_ = get_string_property ((f), (path), CONTAINER_IFACE, (name)); \
    g_assert_cmpstr (value_, ==, (expected)); \
  } \
  G_STMT_END

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
 * directories (storage and run root), the volumes, the image refs and the
 * mounts. */
static char *
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

/* snapshot () without the run root's container directories: a start that
 * fails may leave the run dir it began to fill (the next start reuses it). */
static char *
snapshot_except_run (Fixture *f)
{
  g_autofree char *full = snapshot (f);
  g_autoptr (GRegex) run = g_regex_new ("\nrun:\n[^\n]*\n", 0, 0, NULL);

  return g_regex_replace_literal (run, full, -1, 0, "\n", 0, NULL);
}

#define assert_unchanged_except_run(f, before) \
  G_STMT_START \
  { \
    g_autofree char *after_ = snapshot_except_run (f); \
    g_assert_cmpstr (after_, ==, (before)); \
  } \
  G_STMT_END

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

static void
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
#define BAD_MOUNT(path, mount) \
  { "/bad/create/mount/" path, "x1", "busybox", "{'Mounts': <[" mount "]>}", FALSE, \
    { ERR ("InvalidArgument") } }
  BAD_MOUNT ("relative-destination", "{'Type': <'tmpfs'>, 'Destination': <'data'>}"),
  BAD_MOUNT ("dotdot-destination", "{'Type': <'tmpfs'>, 'Destination': <'/data/../etc'>}"),
  BAD_MOUNT ("root-destination", "{'Type': <'tmpfs'>, 'Destination': <'/'>}"),
  BAD_MOUNT ("proc-destination", "{'Type': <'tmpfs'>, 'Destination': <'/proc/sys'>}"),
  BAD_MOUNT ("no-destination", "{'Type': <'tmpfs'>}"),
  BAD_MOUNT ("duplicate-destination",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>},"
             " {'Type': <'tmpfs'>, 'Destination': <'/d/'>}"),
  BAD_MOUNT ("bind-missing-source",
             "{'Type': <'bind'>, 'Source': <'/nonexistent/ctrd-source'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-host-root", "{'Type': <'bind'>, 'Source': <'/'>, 'Destination': <'/host'>}"),
  BAD_MOUNT ("bind-relative-source",
             "{'Type': <'bind'>, 'Source': <'tmp'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-dotdot-source",
             "{'Type': <'bind'>, 'Source': <'/tmp/../etc'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-proc-source",
             "{'Type': <'bind'>, 'Source': <'/proc/self'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-storage-source",
             "{'Type': <'bind'>, 'Source': <'@STORAGE@/containers'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("unknown-type", "{'Type': <'nfs'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("no-type", "{'Destination': <'/d'>}"),
  BAD_MOUNT ("unknown-key",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'Propagation': <'shared'>}"),
  BAD_MOUNT ("read-only-wrong-type",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'ReadOnly': <'yes'>}"),
  BAD_MOUNT ("tmpfs-with-source", "{'Type': <'tmpfs'>, 'Source': <'/etc'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("volume-bad-name",
             "{'Type': <'volume'>, 'Source': <'../etc'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bad-size-option",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'Options': <['size=lots']>}"),
  BAD_MOUNT ("unknown-option",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'Options': <['exec-everything']>}"),
  BAD_MOUNT ("rw-and-read-only",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'ReadOnly': <true>, 'Options': <['rw']>}"),
#undef BAD_MOUNT
#define BAD_OPTION(path, options) \
  { "/bad/create/" path, "x1", "busybox", options, FALSE, { ERR ("InvalidArgument") } }
  BAD_OPTION ("mounts-wrong-type", "{'Mounts': <['/a:/b']>}"),
  BAD_OPTION ("dns-server-not-an-ip", "{'DnsServers': <['not-an-ip']>}"),
  BAD_OPTION ("dns-search-invalid", "{'DnsSearch': <['bad domain!']>}"),
  BAD_OPTION ("dns-option-invalid", "{'DnsOptions': <['nd ots']>}"),
  BAD_OPTION ("dns-servers-wrong-type", "{'DnsServers': <'192.0.2.1'>}"),
  BAD_OPTION ("add-hosts-no-ip", "{'AddHosts': <['noip']>}"),
  BAD_OPTION ("add-hosts-bad-ip", "{'AddHosts': <['db:300.1.2.3']>}"),
  BAD_OPTION ("add-hosts-bad-name", "{'AddHosts': <['bad name:192.0.2.1']>}"),
  BAD_OPTION ("user-minus-one", "{'User': <'-1'>}"),
  BAD_OPTION ("user-too-big", "{'User': <'4294967295'>}"),
  BAD_OPTION ("user-bad-group", "{'User': <'1000:bad group'>}"),
  BAD_OPTION ("user-wrong-type", "{'User': <uint32 1000>}"),
  BAD_OPTION ("shm-size-too-small", "{'ShmSize': <uint64 100>}"),
  BAD_OPTION ("shm-size-wrong-type", "{'ShmSize': <100>}"),
  BAD_OPTION ("tty-wrong-type", "{'Tty': <'yes'>}"),
  BAD_OPTION ("auto-remove-wrong-type", "{'AutoRemove': <1>}"),
  BAD_OPTION ("read-only-rootfs-wrong-type", "{'ReadOnlyRootfs': <'true'>}"),
  BAD_OPTION ("depends-on-wrong-type", "{'DependsOn': <'db'>}"),
#undef BAD_OPTION
  { "/bad/create/depends-on-missing", "x1", "busybox", "{'DependsOn': <['nosuchcontainer']>}",
    FALSE, { ERR ("NotFound") } },
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

  g_auto (GStrv) pieces = g_strsplit (bad->options ? bad->options : "", "@STORAGE@", -1);
  g_autofree char *options = g_strjoinv (f->storage_root, pieces);

  if (bad->precreate)
    precreated = create_container (f, name, CMD ("true"), NULL);
  before = snapshot (f);
  path = try_create (f, name, bad->image, CMD ("true"), bad->options ? options : NULL, &error);
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
  { "/bad/kill/SIGRTMIN+99", "Kill", "('SIGRTMIN+99',)", ERR ("InvalidArgument") },
  { "/bad/kill/empty", "Kill", "('',)", ERR ("InvalidArgument") },
  { "/bad/kill/negative", "Kill", "('-9',)", ERR ("InvalidArgument") },
  { "/bad/unpause/running", "Unpause", "()", ERR ("InvalidState") },
  { "/bad/rename/invalid", "Rename", "('bad name',)", ERR ("InvalidArgument") },
  { "/bad/rename/empty", "Rename", "('',)", ERR ("InvalidArgument") },
  { "/bad/rename/slash", "Rename", "('a/b',)", ERR ("InvalidArgument") },
  { "/bad/read-logs/zero-lines", "ReadLogs", "(uint64 0, uint32 0)", ERR ("InvalidArgument") },
  { "/bad/read-logs/too-many-lines", "ReadLogs", "(uint64 0, uint32 10001)",
    ERR ("InvalidArgument") },
  { "/bad/get-logs/unknown-option", "GetLogs", "({'Colour': <true>},)", ERR ("InvalidArgument") },
  { "/bad/get-logs/negative-tail", "GetLogs", "({'Tail': <int64 -5>},)",
    ERR ("InvalidArgument") },
  { "/bad/get-logs/follow-wrong-type", "GetLogs", "({'Follow': <'yes'>},)",
    ERR ("InvalidArgument") },
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

  g_autofree char *name = NULL;

  g_assert_no_error (error);
  reply = call (f, path, CONTAINER_IFACE, bad->method, params, &error);
  assert_dbus_error (error, bad->error);
  assert_unchanged (f, before);
  assert_still_running (f, c, pid);
  name = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (name, ==, "target");
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

/* ---- helpers shared by the container cases ---------------------------- */

/* ContainerEvent and InterfacesRemoved signals, recorded from the start of a
 * case. Subscribed by the well-known name, so they survive daemon restarts. */
typedef struct
{
  GDBusConnection *bus;
  GPtrArray *events;  /* "ID EVENT", in arrival order */
  GPtrArray *removed; /* object paths */
  guint event_sub;
  guint removed_sub;
} Watch;

static Watch *
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

static void
watch_free (Watch *w)
{
  g_dbus_connection_signal_unsubscribe (w->bus, w->event_sub);
  g_dbus_connection_signal_unsubscribe (w->bus, w->removed_sub);
  g_ptr_array_unref (w->events);
  g_ptr_array_unref (w->removed);
  g_object_unref (w->bus);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Watch, watch_free)

/* The events of container @id seen so far, in order, space-separated. */
static char *
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

#define assert_events(watch, id, ...) \
  assert_event_sequence_impl ((watch), (id), CMD (__VA_ARGS__), __FILE__, __LINE__, G_STRFUNC)

static void
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

static void
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

/* Waits until GetManagedObjects no longer lists @path: after a daemon
 * restart, when no InterfacesRemoved is seen for objects gone at start. */
static void
wait_object_unmanaged (Fixture *f, const char *path)
{
  ObjectWait w = { f, path };

  g_assert_true (wait_until (object_unmanaged, &w));
}

/* Nothing of container @id is left: its directory, root mount point, runtime
 * state, mounts. */
static void
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

/* Its run dir too: generated files and conmon's files of the last run. */
static void
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

static void
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

/* Waits until the proxy's cache (which only PropertiesChanged updates) holds
 * @value (floating or not) for @name. */
static void
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

static char *
run_file_path (Fixture *f, const char *id, const char *name)
{
  return g_build_filename (f->run_root, "containers", id, name, NULL);
}

static gboolean
contains_line (const char *text, const char *line)
{
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  return g_strv_contains ((const char *const *) lines, line);
}

#define assert_has_line(text, line) \
  G_STMT_START \
  { \
    if (!contains_line ((text), (line))) \
      { \
        g_autofree char *msg_ = g_strdup_printf ("no line \"%s\" in:\n%s", (line), (text)); \
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg_); \
      } \
  } \
  G_STMT_END

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

/* Reads @fd to its end, failing the case if that takes longer than a wait. */
static char *
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

/* Reads from @fd into @buf until it holds @needle; FALSE at EOF or after a
 * wait's time without it. */
static gboolean
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

static void
make_pipe (int fds[2])
{
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
}

/* Exec with @input on stdin and pipes for stdout and stderr. */
static gboolean
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

/* Runs @argv in the running container and returns its stdout, asserting
 * that it exits with 0. */
static char *
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

static int
exec_code (CtrContainer *c, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int code = -1;

  try_exec (c, argv, NULL, NULL, &code, NULL, NULL, &error);
  g_assert_no_error (error);
  return code;
}

/* A container running @script under sh that has touched /ready. */
static CtrContainer *
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

/* The freezer state of the cgroup of @pid: FROZEN, THAWED (or FREEZING). */
static char *
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

static char *
inspect (CtrContainer *c)
{
  g_autoptr (GError) error = NULL;
  char *json = NULL;

  ctr_container_call_inspect_sync (c, &json, NULL, &error);
  g_assert_no_error (error);
  return json;
}

static JsonObject *
parse_json_object_text (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

/* GetContainer on the connection, not the manager's proxy: that one loses
 * track of the name's owner when the daemon restarts. */
static char *
get_container_path (Fixture *f, const char *name, GError **error)
{
  g_autoptr (GVariant) reply = call (f, MANAGER_PATH, MANAGER_IFACE, "GetContainer",
                                     g_variant_new ("(s)", name), error);
  char *found = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(o)", &found);
  return found;
}

/* The log through GetLogs with @options, read to its end. */
static char *
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

static void
write_text (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
make_dir (const char *path)
{
  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

/* ---- the life cycle: start, stop, kill, wait, remove ---------------- */

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
  ctr_container_call_restart_sync (c, STOP_TIMEOUT_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  assert_string_property (f, path, "State", "running");
  pid3 = get_u32 (f, c, "Pid");
  g_assert_cmpuint (pid3, !=, pid2);
  g_assert_true (pid_exists (pid3));

  /* Three runs of the same writable layer, and of the log. */
  runs = read_file_or_null (runs_path);
  g_assert_cmpstr (runs, ==, "run\nrun\nrun\n");
  /* Each stop was the stop signal, not SIGKILL: the trap ran. */
  log = get_logs (c, NULL);
  g_assert_cmpstr (log, ==, "started\nstopping\nstarted\nstopping\nstarted\n");
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

  /* remove_volumes keeps a volume another container mounts... */
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

  /* ...until the last user goes with remove_volumes. */
  last_path = create_container (f, "vol-last", CMD ("true"), shared_options);
  last = container_proxy (f, last_path);
  last_id = g_strdup (ctr_container_get_id (last));
  start_container (last);
  g_assert_cmpint (wait_container (last), ==, 0);
  wait_for_state (last, CMD ("exited"));
  ctr_container_call_remove_sync (last, FALSE, TRUE, NULL, &error);
  g_assert_no_error (error);
  assert_object_removed (w, f, last_path);
  g_assert_false (g_file_test (volume_dir, G_FILE_TEST_EXISTS));
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

/* ---- bad input ----------------------------------------------------------- */

/* Calls on a container that is not running (configured, or run to its exit)
 * that it must refuse, staying as it was. */
typedef struct
{
  const char *test_path;
  gboolean run_first; /* exited rather than configured */
  const char *method;
  const char *params;
  const char *error;
} BadOnIdle;

static const BadOnIdle bad_on_idle[] = {
  { "/bad/pause/configured", FALSE, "Pause", "()", ERR ("InvalidState") },
  { "/bad/pause/exited", TRUE, "Pause", "()", ERR ("InvalidState") },
  { "/bad/unpause/configured", FALSE, "Unpause", "()", ERR ("InvalidState") },
  { "/bad/unpause/exited", TRUE, "Unpause", "()", ERR ("InvalidState") },
  { "/bad/kill/configured", FALSE, "Kill", "('SIGTERM',)", ERR ("InvalidState") },
  { "/bad/rename/name-in-use", FALSE, "Rename", "('taken',)", ERR ("NameInUse") },
  { "/bad/rename/name-in-use-exited", TRUE, "Rename", "('taken',)", ERR ("NameInUse") },
  { "/bad/read-logs/cursor-past-end", TRUE, "ReadLogs", "(uint64 1000000, uint32 10)",
    ERR ("InvalidArgument") },
};

static void
test_bad_on_idle (Fixture *f, gconstpointer data)
{
  const BadOnIdle *bad = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *taken = create_container (f, "taken", CMD ("true"), NULL);
  g_autofree char *path = create_container (f, "idle-target", CMD ("sh", "-c", "echo hi"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autoptr (GVariant) params = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *state_before = NULL;
  g_autofree char *state_after = NULL;
  g_autofree char *name = NULL;
  g_autofree char *before = NULL;

  if (bad->run_first)
    {
      start_container (c);
      g_assert_cmpint (wait_container (c), ==, 0);
      wait_for_state (c, CMD ("exited"));
    }
  state_before = get_string_property (f, path, CONTAINER_IFACE, "State");
  before = snapshot (f);
  params = g_variant_parse (NULL, bad->params, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = call (f, path, CONTAINER_IFACE, bad->method, params, &error);
  assert_dbus_error (error, bad->error);
  assert_unchanged (f, before);
  state_after = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state_after, ==, state_before);
  name = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (name, ==, "idle-target");
}

typedef enum
{
  FDS_PIPES,        /* stdin, stdout, stderr: three good pipes */
  FDS_NONE,         /* handles but no file descriptors */
  FDS_OUT_OF_RANGE, /* stderr's handle points past the list */
  FDS_DIRECTORY,    /* stdout is a directory */
  FDS_READ_ONLY,    /* stdout is open for reading only */
  FDS_TOO_MANY,     /* a fourth descriptor */
} FdKind;

/* The fd list of @kind, and the three handles to send with it. */
static GUnixFDList *
make_exec_fds (Fixture *f, FdKind kind, gint32 handles[3])
{
  GUnixFDList *fds = g_unix_fd_list_new ();
  int in[2], out[2], err[2];

  handles[0] = 0;
  handles[1] = 1;
  handles[2] = 2;
  if (kind == FDS_NONE)
    return fds;
  make_pipe (in);
  make_pipe (out);
  make_pipe (err);
  g_unix_fd_list_append (fds, in[0], NULL);
  if (kind == FDS_DIRECTORY || kind == FDS_READ_ONLY)
    {
      int fd = kind == FDS_DIRECTORY ? open (f->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                     : open (f->log_path, O_RDONLY | O_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      g_unix_fd_list_append (fds, fd, NULL);
      close (fd);
    }
  else
    g_unix_fd_list_append (fds, out[1], NULL);
  g_unix_fd_list_append (fds, err[1], NULL);
  if (kind == FDS_TOO_MANY)
    g_unix_fd_list_append (fds, out[0], NULL);
  if (kind == FDS_OUT_OF_RANGE)
    handles[2] = 7;
  for (guint i = 0; i < 2; i++)
    {
      close (in[i]);
      close (out[i]);
      close (err[i]);
    }
  return fds;
}

typedef struct
{
  const char *test_path;
  const char *argv; /* GVariant text of type as */
  const char *options;
  FdKind fds;
} BadExec;

static const BadExec bad_execs[] = {
  { "/bad/exec/no-argv", "@as []", NULL, FDS_PIPES },
  { "/bad/exec/empty-command", "['']", NULL, FDS_PIPES },
  { "/bad/exec/tty", "['true']", "{'Tty': <true>}", FDS_PIPES },
  { "/bad/exec/tty-wrong-type", "['true']", "{'Tty': <'yes'>}", FDS_PIPES },
  { "/bad/exec/unknown-option", "['true']", "{'Privileged': <true>}", FDS_PIPES },
  { "/bad/exec/relative-working-dir", "['true']", "{'WorkingDir': <'tmp'>}", FDS_PIPES },
  { "/bad/exec/dotdot-working-dir", "['true']", "{'WorkingDir': <'/tmp/../proc'>}", FDS_PIPES },
  { "/bad/exec/user-minus-one", "['true']", "{'User': <'-1'>}", FDS_PIPES },
  { "/bad/exec/user-too-big", "['true']", "{'User': <'4294967295'>}", FDS_PIPES },
  { "/bad/exec/env-without-equals", "['true']", "{'Env': <['NOEQUALS']>}", FDS_PIPES },
  { "/bad/exec/no-fds", "['true']", NULL, FDS_NONE },
  { "/bad/exec/out-of-range-handle", "['true']", NULL, FDS_OUT_OF_RANGE },
  { "/bad/exec/directory-fd", "['true']", NULL, FDS_DIRECTORY },
  { "/bad/exec/read-only-stdout", "['true']", NULL, FDS_READ_ONLY },
  { "/bad/exec/too-many-fds", "['true']", NULL, FDS_TOO_MANY },
};

static void
test_bad_exec (Fixture *f, gconstpointer data)
{
  const BadExec *bad = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) c = running_container (f, "exec-target");
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  g_autofree char *run_dir = g_build_filename (f->run_root, "containers",
                                               ctr_container_get_id (c), NULL);
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = snapshot (f);
  g_autofree char *run_before = ctrd_test_dir_listing (run_dir);
  g_autofree char *run_after = NULL;
  g_autofree char *events = NULL;
  g_autoptr (GVariant) argv = g_variant_parse (G_VARIANT_TYPE_STRING_ARRAY, bad->argv, NULL, NULL,
                                               &error);
  g_autoptr (GVariant) options = parse_options (bad->options ? bad->options : "@a{sv} {}");
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint32 handles[3];

  g_assert_no_error (error);
  fds = make_exec_fds (f, bad->fds, handles);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus, BUS_NAME, path, CONTAINER_IFACE, "Exec",
      g_variant_new ("(@as@a{sv}hhh)", argv, options, handles[0], handles[1], handles[2]), NULL,
      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, g_unix_fd_list_get_length (fds) > 0 ? fds : NULL, NULL,
      NULL, &error);
  assert_dbus_error (error, ERR ("InvalidArgument"));
  assert_unchanged (f, before);
  run_after = ctrd_test_dir_listing (run_dir);
  g_assert_cmpstr (run_after, ==, run_before);
  assert_still_running (f, c, pid);
  events = events_of (w, ctr_container_get_id (c));
  g_assert_null (strstr (events, "exec"));
}

static void
test_bad_exec_not_running (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *configured_path = create_container (f, "exec-configured", CMD ("true"), NULL);
  g_autofree char *exited_path = create_container (f, "exec-exited", CMD ("true"), NULL);
  g_autoptr (CtrContainer) configured = container_proxy (f, configured_path);
  g_autoptr (CtrContainer) exited = container_proxy (f, exited_path);
  g_autofree char *before = NULL;

  start_container (exited);
  g_assert_cmpint (wait_container (exited), ==, 0);
  wait_for_state (exited, CMD ("exited"));
  before = snapshot (f);
  try_exec (configured, CMD ("true"), NULL, NULL, NULL, NULL, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);
  try_exec (exited, CMD ("true"), NULL, NULL, NULL, NULL, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  assert_unchanged (f, before);
}

typedef struct
{
  const char *test_path;
  FdKind fds; /* FDS_PIPES here means two descriptors */
} BadExport;

static const BadExport bad_exports[] = {
  { "/bad/export/read-only-fd", FDS_READ_ONLY },
  { "/bad/export/directory-fd", FDS_DIRECTORY },
  { "/bad/export/no-fd", FDS_NONE },
  { "/bad/export/out-of-range-handle", FDS_OUT_OF_RANGE },
  { "/bad/export/two-fds", FDS_PIPES },
};

static void
test_bad_export (Fixture *f, gconstpointer data)
{
  const BadExport *bad = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = create_container (f, "export-target", CMD ("true"), NULL);
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *state = NULL;
  gint32 handle = 0;
  int pipe_fds[2];
  int fd = -1;

  switch (bad->fds)
    {
    case FDS_READ_ONLY:
      fd = open (f->log_path, O_RDONLY | O_CLOEXEC);
      break;
    case FDS_DIRECTORY:
      fd = open (f->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      break;
    case FDS_OUT_OF_RANGE:
      handle = 3;
      G_GNUC_FALLTHROUGH;
    case FDS_PIPES:
      make_pipe (pipe_fds);
      g_unix_fd_list_append (fds, pipe_fds[1], NULL);
      fd = pipe_fds[1];
      close (pipe_fds[0]);
      if (bad->fds == FDS_PIPES)
        g_unix_fd_list_append (fds, pipe_fds[1], NULL);
      break;
    case FDS_NONE:
    case FDS_TOO_MANY:
    default:
      break;
    }
  if (fd >= 0)
    {
      if (bad->fds == FDS_READ_ONLY || bad->fds == FDS_DIRECTORY)
        g_unix_fd_list_append (fds, fd, NULL);
      close (fd);
    }
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus, BUS_NAME, path, CONTAINER_IFACE, "Export", g_variant_new ("(h)", handle), NULL,
      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, g_unix_fd_list_get_length (fds) > 0 ? fds : NULL, NULL,
      NULL, &error);
  assert_dbus_error (error, ERR ("InvalidArgument"));
  assert_unchanged (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
}

static void
test_bad_restart_paused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) c = running_container (f, "paused-target");
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = NULL;
  g_autofree char *state = NULL;
  g_autofree char *freezer = NULL;

  ctr_container_call_pause_sync (c, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (c, CMD ("paused"));
  before = snapshot (f);
  ctr_container_call_restart_sync (c, 1, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);
  ctr_container_call_pause_sync (c, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);
  ctr_container_call_start_sync (c, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  assert_unchanged (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "paused");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);
  freezer = freezer_state (pid);
  g_assert_cmpstr (freezer, ==, "FROZEN");
}

static void
test_bad_start_unknown_user (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* Well-formed, but the image has no such user: known only at start. */
  g_autofree char *path = create_container (f, "ghost-user", CMD ("true"),
                                            "{'User': <'nosuchuser'>}");
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autofree char *before = snapshot_except_run (f);
  g_autofree char *state = NULL;

  ctr_container_call_start_sync (c, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidArgument"), ERR ("NotFound"));
  assert_unchanged_except_run (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
  g_assert_null (runc_status (f, ctr_container_get_id (c)));
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

  all_cases = g_ptr_array_new_with_free_func (g_free);
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

  add_case ("/lifecycle/pause-unpause", test_pause_unpause, NULL);
  add_case ("/lifecycle/remove-force", test_remove_force, NULL);
  add_case ("/lifecycle/restart", test_restart, NULL);
  add_case ("/lifecycle/kill-signals", test_kill_signals, NULL);
  add_case ("/lifecycle/rename", test_rename, NULL);
  add_case ("/lifecycle/prune", test_prune, NULL);
  add_case ("/lifecycle/auto-remove", test_auto_remove, NULL);
  add_case ("/lifecycle/wait-many", test_wait_many, NULL);
  add_case ("/lifecycle/start-after-wait", test_start_after_wait, NULL);
  add_case ("/lifecycle/inspect", test_inspect, NULL);
  add_case ("/lifecycle/get-sizes", test_get_sizes, NULL);
  add_case ("/lifecycle/export", test_export, NULL);
  add_case ("/lifecycle/export-job", test_export_job, NULL);
  add_case ("/lifecycle/exec", test_exec, NULL);
  add_case ("/lifecycle/logs", test_logs, NULL);
  add_case ("/lifecycle/logs-follow", test_logs_follow, NULL);
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
  add_case ("/around/depends-on", test_depends_on, NULL);
  add_case ("/around/depends-on-failure", test_depends_on_failure, NULL);
  add_case ("/around/hooks", test_hooks, NULL);
  add_case ("/around/reboot", test_reboot, NULL);
  add_case ("/around/oom", test_oom, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_on_idle); i++)
    add_case (bad_on_idle[i].test_path, test_bad_on_idle, &bad_on_idle[i]);
  for (guint i = 0; i < G_N_ELEMENTS (bad_execs); i++)
    add_case (bad_execs[i].test_path, test_bad_exec, &bad_execs[i]);
  add_case ("/bad/exec/not-running", test_bad_exec_not_running, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_exports); i++)
    add_case (bad_exports[i].test_path, test_bad_export, &bad_exports[i]);
  add_case ("/bad/restart-paused", test_bad_restart_paused, NULL);
  add_case ("/bad/start-unknown-user", test_bad_start_unknown_user, NULL);

  status = g_test_run ();
  g_ptr_array_unref (all_cases);

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
