/* integration-common.h: the fixture and helpers of the integration tests.
 *
 * tests/test-integration runs the real daemon on a private system bus with a
 * real polkitd (run-test.sh puts the program under tests/private-bus.sh), on
 * temporary storage and run roots, with the real OSTree repository, conmon
 * and runc, and drives it through the generated proxies. Each case asserts
 * states, property values seen through PropertiesChanged, D-Bus error names,
 * and what is on disk.
 *
 * Each case runs in a child process (g_test_trap_subprocess) on its own
 * temporary directory, so that a failed assertion, a crash or a hang in one
 * case still leaves the parent to clean up after it (kill what is left, delete
 * runc containers, unmount, remove the directory) and to go on with the next.
 *
 * integration-common.c holds the fixture (the daemon, the bus, the cleanup,
 * the case runner), integration-helpers.c what the cases share (proxies,
 * states, exec, logs); the cases live in integration-<theme>.c, each of which
 * registers its own with add_case. Every helper asserts instead of returning
 * an error, so a broken step fails the case at its line.
 */
#pragma once

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

/* The top source directory, runc, and the busybox rootfs tar that the parent
 * builds once for all cases. */
extern const char *top_srcdir;
extern char *runc_path;
extern const char *busybox_tar;

typedef struct
{
  char *tmp;
  char *storage_root;
  char *run_root;
  char *config_path;
  char *log_path;
  char *boot_id_path;  /* the daemon's boot id source (CTRD_TEST_BOOT_ID_FILE) */
  char *hooks_dirs[2]; /* the daemon's [hooks] dirs, empty until a case fills them */
  GDBusConnection *bus;
  GSubprocess *daemon;
  gboolean daemon_exited;
  CtrManager *manager;
  char *image_path; /* busybox:latest, imported by the fixture */
  char *image_id;
} Fixture;

typedef void (*CaseFunc) (Fixture *f, gconstpointer data);

/* ---- small helpers ---------------------------------------------------- */

gboolean is_hex64 (const char *s);

gboolean strv_has (const char *const *strv, const char *s);

char *join_sorted (GPtrArray *items);

/* Runs @argv (PATH searched) and returns its exit status; stdout in @out_stdout. */
int run_command (const char *const *argv, char **out_stdout, char **out_stderr);

char *read_file_or_null (const char *path);

gboolean pid_exists (guint32 pid);

/* Mount points at or below @prefix, from /proc/self/mountinfo (octal escapes
 * undone), deepest first. */
GPtrArray *mounts_under (const char *prefix);

/* The mountinfo line of the mount whose options have @option (exactly, up to
 * a comma), or NULL. */
char *mountinfo_line_with_option (const char *option);

/* ---- cleanup (run by the parent after each case, whatever happened) ---- */

/* Waits (bounded) until no process mentions @needle; TRUE if none is left. */
gboolean wait_no_process_mentions (const char *needle, guint seconds);

/* ---- waiting on the main loop ----------------------------------------- */

typedef gboolean (*Condition) (gconstpointer data);

/* Iterates the main context (so signals and replies arrive) until @cond holds
 * or WAIT_TIMEOUT_S pass. Returns whether it holds. */
gboolean wait_until (Condition cond, gconstpointer data);

gboolean flag_is_set (gconstpointer data);

gboolean path_exists (gconstpointer data);

gboolean pid_is_gone (gconstpointer data);

/* ---- bus helpers ------------------------------------------------------ */

/* A method call with no client-side timeout (Stop, Wait and imports last as
 * long as the work). */
GVariant *call (Fixture *f, const char *path, const char *iface, const char *method,
                GVariant *params, GError **error);

/* A property read straight from the daemon (not a proxy's cache). */
GVariant *get_property (Fixture *f, const char *path, const char *iface, const char *name);

char *get_string_property (Fixture *f, const char *path, const char *iface, const char *name);

#define assert_string_property(f, path, name, expected) \
  G_STMT_START \
  { \
    g_autofree char *value_ = get_string_property ((f), (path), CONTAINER_IFACE, (name)); \
    g_assert_cmpstr (value_, ==, (expected)); \
  } \
  G_STMT_END

guint32 get_u32 (Fixture *f, CtrContainer *c, const char *name);

gint32 get_i32 (Fixture *f, CtrContainer *c, const char *name);

guint64 get_u64 (Fixture *f, CtrContainer *c, const char *name);

GVariant *get_managed_objects (Fixture *f);

GPtrArray *managed_object_paths (Fixture *f);

gboolean object_is_managed (Fixture *f, const char *path);

/* Asserts that @error is a D-Bus error whose name is one of @accepted, with a
 * message of its own. */
void assert_dbus_error_impl (const GError *error, const char *const *accepted, const char *file,
                             int line, const char *func);

#define assert_dbus_error(error, ...) \
  assert_dbus_error_impl ((error), ERRORS (__VA_ARGS__), __FILE__, __LINE__, G_STRFUNC)

/* ---- the daemon ------------------------------------------------------- */

GSubprocess *spawn_daemon (Fixture *f, const char *run_root, const char *log_path,
                           gboolean *exited);

void start_daemon (Fixture *f);

/* SIGTERMs the daemon and returns its exit status (128+N for a signal). */
int stop_daemon (Fixture *f);

char *import_fd (Fixture *f, int fd, const char *name, const char *options, GError **error);

char *import_file (Fixture *f, const char *file, const char *name, GError **error);

char *import_path (Fixture *f, const char *file, const char *name, const char *options,
                   GError **error);

/* ---- the cases ------------------------------------------------------- */

/* Registers the case @path: @func runs in a child process on a fresh
 * Fixture, with @data. */
void add_case (const char *path, CaseFunc func, gconstpointer data);

/* Sets up GTest and the fixture's globals (the daemon, runc, the busybox tar)
 * from the environment make check gives. */
void integration_init (int *argc, char ***argv);

/* Runs the registered cases and frees what integration_init made; returns
 * g_test_run's status. */
int integration_run (void);

/* Each theme's cases (integration-<theme>.c). */
void integration_add_manager_cases (void);
void integration_add_container_cases (void);
void integration_add_daemon_cases (void);
void integration_add_bad_request_cases (void);
void integration_add_lifecycle_cases (void);
void integration_add_io_cases (void);
void integration_add_files_cases (void);
void integration_add_dependencies_cases (void);
void integration_add_bad_operation_cases (void);
void integration_add_monitor_cases (void);

/* ---- proxies ---------------------------------------------------------- */

/* A container proxy that records every State announced by PropertiesChanged. */
CtrContainer *container_proxy (Fixture *f, const char *path);

CtrImage *image_proxy (Fixture *f, const char *path);

/* Waits until the proxy learns (from PropertiesChanged, the only way its
 * cache changes after it is made) that the container is in one of @states. A
 * state that was announced but already left also counts. */
void wait_for_state (CtrContainer *proxy, const char *const *states);

#define STATES_ENDED CMD ("stopped", "exited")

char *container_dir (Fixture *f, const char *id);

char *upper_path (Fixture *f, const char *id, const char *name);

GVariant *parse_options (const char *text);

char *try_create (Fixture *f, const char *name, const char *image, const char *const *command,
                  const char *options, GError **error);

char *create_container (Fixture *f, const char *name, const char *const *command,
                        const char *options);

/* Starts a container and waits until it runs (or, for a short command, has
 * already ended). */
void start_container (CtrContainer *proxy);

void stop_container (CtrContainer *proxy, guint timeout);

int wait_container (CtrContainer *proxy);

/* Waits for a file the container's command writes once it is ready (its
 * traps are set), seen in its writable layer. */
void wait_for_upper_file (Fixture *f, const char *id, const char *name);

void assert_pid_gone_soon (guint32 pid);

/* runc's view of a container: its status, or NULL when runc does not know it. */
char *runc_status (Fixture *f, const char *id);

char *ostree_output (Fixture *f, const char *const *args);

/* What a failed call must not change: the bus objects, the container
 * directories (storage and run root), the volumes, the image refs and the
 * mounts. */
char *snapshot (Fixture *f);

/* snapshot () without the run root's container directories: a start that
 * fails may leave the run dir it began to fill (the next start reuses it). */
char *snapshot_except_run (Fixture *f);

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

/* ---- helpers shared by the container cases ---------------------------- */

void record_removed_object (GDBusConnection *connection, const char *sender, const char *path,
                            const char *iface, const char *signal, GVariant *params,
                            gpointer user_data);

void record_event (GDBusConnection *connection, const char *sender, const char *path,
                   const char *iface, const char *signal, GVariant *params, gpointer user_data);

typedef struct
{
  GPtrArray *items;
  const char *item;
} Seen;

gboolean item_seen (gconstpointer data);

typedef struct
{
  int code;
  gboolean done;
  GError *error;
} WaitCall;

void on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data);

#define N_WAITERS 4

gboolean all_waits_done (gconstpointer data);

/* A running container that a bad call must leave exactly as it was. */
CtrContainer *running_container (Fixture *f, const char *name);

void assert_still_running (Fixture *f, CtrContainer *c, guint32 pid);

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

Watch *watch_new (Fixture *f);

void watch_free (Watch *w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Watch, watch_free)

/* The events of container @id seen so far, in order, space-separated. */
char *events_of (Watch *w, const char *id);

#define assert_events(watch, id, ...) \
  assert_event_sequence_impl ((watch), (id), CMD (__VA_ARGS__), __FILE__, __LINE__, G_STRFUNC)

void assert_event_sequence_impl (Watch *w, const char *id, const char *const *sequence,
                                 const char *file, int line, const char *func);

void assert_object_removed (Watch *w, Fixture *f, const char *path);

/* Waits until GetManagedObjects no longer lists @path: after a daemon
 * restart, when no InterfacesRemoved is seen for objects gone at start. */
void wait_object_unmanaged (Fixture *f, const char *path);

/* Nothing of container @id is left: its directory, root mount point, runtime
 * state, mounts. */
void assert_container_gone_from_disk (Fixture *f, const char *id);

/* Its run dir too: generated files and conmon's files of the last run. */
void assert_run_dir_gone (Fixture *f, const char *id);

void assert_no_mount_of (Fixture *f, const char *id);

/* Waits until the proxy's cache (which only PropertiesChanged updates) holds
 * @value (floating or not) for @name. */
void wait_for_property (CtrContainer *proxy, const char *name, GVariant *value);

char *run_file_path (Fixture *f, const char *id, const char *name);

gboolean contains_line (const char *text, const char *line);

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

/* Reads @fd to its end, failing the case if that takes longer than a wait. */
char *read_to_eof (int fd);

/* Reads from @fd into @buf until it holds @needle; FALSE at EOF or after a
 * wait's time without it. */
gboolean read_until (int fd, GString *buf, const char *needle);

void make_pipe (int fds[2]);

/* Exec with @input on stdin and pipes for stdout and stderr. */
gboolean try_exec (CtrContainer *c, const char *const *argv, const char *options, const char *input,
                   int *out_code, char **out_stdout, char **out_stderr, GError **error);

/* Runs @argv in the running container and returns its stdout, asserting
 * that it exits with 0. */
char *exec_output (CtrContainer *c, const char *const *argv);

int exec_code (CtrContainer *c, const char *const *argv);

/* A container running @script under sh that has touched /ready. */
CtrContainer *ready_container (Fixture *f, const char *name, const char *script,
                               const char *options);

/* The freezer state of the cgroup of @pid: FROZEN, THAWED (or FREEZING). */
char *freezer_state (guint32 pid);

char *inspect (CtrContainer *c);

JsonObject *parse_json_object_text (const char *text);

/* GetContainer on the connection, not the manager's proxy: that one loses
 * track of the name's owner when the daemon restarts. */
char *get_container_path (Fixture *f, const char *name, GError **error);

/* The log through GetLogs with @options, read to its end. */
char *get_logs (CtrContainer *c, const char *options);

void write_text (const char *path, const char *text);

void make_dir (const char *path);
