/* Unit tests for ctrd-runtime: conmon + runc on real busybox containers, the
 * exit-file watcher, exit codes and runtime errors.
 *
 * Each container test runs its body in a subprocess (g_test_trap_subprocess)
 * so that the parent can always clean up with "runc delete --force", even when
 * an assertion in the body aborts. The parent prepares the bundle; the
 * subprocess finds it by the parent's pid and the test's name. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-runtime.h"
#include "ctrd-spec.h"
#include "ctrd-test-util.h"

#define WAIT_TIMEOUT_SECONDS 60
#define SUBPROCESS_TIMEOUT_USEC (180 * G_USEC_PER_SEC)

typedef struct
{
  char *dir;
  char *run_root;
  char *bundle;
  char *rootfs;
  char *log_path;
  char *id;
  CtrdRuntime *runtime;
  GPtrArray *exits; /* ids reported by the exit watcher, in order */
} Fixture;

/* Built once per run by the parent, shared by every container test. */
static char *busybox_dir;
static char *busybox_tar;

static void
fixture_init_paths (Fixture *fx, const char *dir, const char *id)
{
  fx->dir = g_strdup (dir);
  fx->run_root = g_build_filename (dir, "run", NULL);
  fx->bundle = g_build_filename (dir, "bundle", NULL);
  fx->rootfs = g_build_filename (fx->bundle, "rootfs", NULL);
  fx->log_path = g_build_filename (dir, "ctr.log", NULL);
  fx->id = g_strdup (id);
  fx->exits = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_clear (Fixture *fx)
{
  g_clear_pointer (&fx->runtime, ctrd_runtime_free);
  g_clear_pointer (&fx->exits, g_ptr_array_unref);
  g_free (fx->dir);
  g_free (fx->run_root);
  g_free (fx->bundle);
  g_free (fx->rootfs);
  g_free (fx->log_path);
  g_free (fx->id);
}

/* 32 random hex digits: unique per test, short enough that conmon's attach
 * socket path under the temporary run root stays within sun_path. */
static char *
random_hex_id (void)
{
  return g_strdup_printf ("%08x%08x%08x%08x", g_random_int (), g_random_int (), g_random_int (),
                          g_random_int ());
}

static char *
find_tool (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  if (path == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("%s is not installed", name);
      g_test_skip (msg);
    }
  return g_steal_pointer (&path);
}

/* Skips the test unless root, runc, conmon and busybox are there. */
static gboolean
check_requirements (void)
{
  g_autofree char *runc = NULL;
  g_autofree char *conmon = NULL;

  if (getuid () != 0)
    {
      g_test_skip ("needs root (runc and conmon create namespaces)");
      return FALSE;
    }
  runc = find_tool ("runc");
  if (runc == NULL)
    return FALSE;
  conmon = find_tool ("conmon");
  if (conmon == NULL)
    return FALSE;

  if (busybox_tar == NULL)
    {
      g_autofree char *dir = ctrd_test_make_tmpdir ("test-runtime-bb-XXXXXX");
      g_autofree char *tar = g_build_filename (dir, "busybox.tar", NULL);

      if (!ctrd_test_make_busybox_tar (tar))
        {
          ctrd_test_rm_rf (dir);
          return FALSE;
        }
      busybox_dir = g_steal_pointer (&dir);
      busybox_tar = g_steal_pointer (&tar);
    }
  return TRUE;
}

static void
extract_rootfs (Fixture *fx)
{
  const char *argv[] = { "tar", "-xf", busybox_tar, "-C", fx->rootfs, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_cmpint (g_mkdir_with_parents (fx->rootfs, 0700), ==, 0);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("extracting %s: %s\n%s", busybox_tar, error->message, err);
}

/* Runs a command for cleanup: output silenced, failures ignored. */
static void
run_quietly (const char *const *argv)
{
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, NULL, NULL);
}

static gboolean
runtime_state_exists (const char *run_root, const char *id)
{
  g_autofree char *runc = g_find_program_in_path ("runc");
  g_autofree char *root = g_build_filename (run_root, "runc", NULL);
  const char *argv[] = { runc, "--root", root, "state", id, NULL };
  int status = 0;

  g_assert_nonnull (runc);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
                               G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &status, NULL));
  return g_spawn_check_wait_status (status, NULL);
}

/* The parent's cleanup, whatever the body did: the container, its conmon,
 * and the directory. */
static void
cleanup_container_dir (const char *dir, const char *id)
{
  g_autofree char *run_root = g_build_filename (dir, "run", NULL);
  g_autofree char *root = g_build_filename (run_root, "runc", NULL);
  g_autofree char *conmon_pid_path =
      g_build_filename (run_root, "containers", id, "conmon.pid", NULL);
  g_autofree char *runc = g_find_program_in_path ("runc");
  g_autofree char *conmon_pid = NULL;

  if (runc != NULL)
    {
      const char *argv[] = { runc, "--root", root, "delete", "--force", id, NULL };

      run_quietly (argv);
    }
  if (g_file_get_contents (conmon_pid_path, &conmon_pid, NULL, NULL))
    {
      gint64 pid = g_ascii_strtoll (conmon_pid, NULL, 10);

      if (pid > 1)
        (void) kill ((pid_t) pid, SIGKILL);
    }
  ctrd_test_rm_rf (dir);
}

static void
on_exit_reported (const char *id, gpointer user_data)
{
  Fixture *fx = user_data;

  g_ptr_array_add (fx->exits, g_strdup (id));
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default main context until *@slot is set; fails the test after
 * WAIT_TIMEOUT_SECONDS. */
static void
wait_for_pointer (gpointer *slot, const char *what)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_wait_timeout, &timed_out);

  while (*slot == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("timed out waiting for %s", what);
  g_source_remove (timeout_id);
}

static void
wait_for_exits (Fixture *fx, guint n)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_wait_timeout, &timed_out);

  while (fx->exits->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("timed out waiting for exit %u", n);
  g_source_remove (timeout_id);
}

/* Lets events already on their way arrive (to see that none is extra). */
static void
spin_main_loop (guint msec)
{
  gboolean done = FALSE;

  g_timeout_add (msec, on_wait_timeout, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static gboolean
create_container (Fixture *fx, guint32 *out_pid, guint32 *out_conmon_pid, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ctrd_runtime_create_async (fx->runtime, fx->id, "test-runtime", fx->bundle, fx->log_path, FALSE, NULL,
                             store_result, &result);
  wait_for_pointer ((gpointer *) &result, "create");
  return ctrd_runtime_create_finish (fx->runtime, result, out_pid, out_conmon_pid, error);
}

static gboolean
start_container (Fixture *fx, const char *id, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ctrd_runtime_start_async (fx->runtime, id, NULL, store_result, &result);
  wait_for_pointer ((gpointer *) &result, "start");
  return ctrd_runtime_start_finish (fx->runtime, result, error);
}

static gboolean
kill_container (Fixture *fx, int signum, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ctrd_runtime_kill_async (fx->runtime, fx->id, signum, FALSE, NULL, store_result, &result);
  wait_for_pointer ((gpointer *) &result, "kill");
  return ctrd_runtime_kill_finish (fx->runtime, result, error);
}

static gboolean
delete_container (Fixture *fx, const char *id, gboolean force, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  ctrd_runtime_delete_async (fx->runtime, id, force, NULL, store_result, &result);
  wait_for_pointer ((gpointer *) &result, "delete");
  return ctrd_runtime_delete_finish (fx->runtime, result, error);
}

static void
delete_and_assert_gone (Fixture *fx, gboolean force)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (delete_container (fx, fx->id, force, &error));
  g_assert_no_error (error);
  g_assert_false (runtime_state_exists (fx->run_root, fx->id));
}

/* A bundle whose process runs @argv, and a runtime watching exits. */
static void
prepare_container (Fixture *fx, const char *const *argv)
{
  g_autofree char *config = g_build_filename (fx->bundle, "config.json", NULL);
  /* as the daemon will: a cgroup per container, which runc removes on delete
   * (top-level, so that no parent cgroup is left behind on the host) */
  g_autofree char *cgroups_path = g_strconcat ("/ctrd-test-", fx->id, NULL);
  g_autoptr (GError) error = NULL;
  CtrdSpecParams params = {
    .id = fx->id,
    .rootfs = fx->rootfs,
    .argv = argv,
    .cwd = "/",
    .cgroups_path = cgroups_path,
  };

  g_assert_true (ctrd_spec_write (&params, config, &error));
  g_assert_no_error (error);

  fx->runtime = ctrd_runtime_new (NULL, NULL, fx->run_root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->runtime);
  g_assert_true (ctrd_runtime_watch_exits (fx->runtime, on_exit_reported, fx, &error));
  g_assert_no_error (error);
}

/* Checks that *@error is a RUNTIME_ERROR naming @id and containing @text
 * (the runtime's own words), and clears it. */
static void
assert_runtime_error (GError **error, const char *id, const char *text)
{
  g_assert_error (*error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR);
  g_test_message ("error: %s", (*error)->message);
  g_assert_nonnull (strstr ((*error)->message, id));
  g_assert_nonnull (strstr ((*error)->message, text));
  g_clear_error (error);
}

typedef void (*ContainerBody) (Fixture *fx);

/* The parent's directory for the current test, which the subprocess finds
 * again from its parent's pid: no environment to set once threads run. */
static char *
container_test_dir (pid_t parent_pid)
{
  g_autofree char *test_name = g_path_get_basename (g_test_get_path ());
  g_autofree char *dir_name = g_strdup_printf ("ctrd-rt-%d-%s", (int) parent_pid, test_name);

  return g_build_filename (g_get_tmp_dir (), dir_name, NULL);
}

/* Parent: prepares the directory, runs @body in a subprocess, then cleans up
 * and checks the subprocess passed. Subprocess: runs @body. */
static void
run_container_test (ContainerBody body)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id_path = NULL;

  if (g_test_subprocess ())
    {
      dir = container_test_dir (getppid ());
      id_path = g_build_filename (dir, "id", NULL);
      g_assert_true (g_file_get_contents (id_path, &id, NULL, &error));
      g_assert_no_error (error);
      fixture_init_paths (&fx, dir, id);
      body (&fx);
      fixture_clear (&fx);
      return;
    }

  if (!check_requirements ())
    return;

  dir = container_test_dir (getpid ());
  /* mkdir, not an existing path: a predictable name in /tmp must be ours */
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  id = random_hex_id ();
  id_path = g_build_filename (dir, "id", NULL);
  g_assert_true (g_file_set_contents (id_path, id, -1, &error));
  g_assert_no_error (error);
  fixture_init_paths (&fx, dir, id);
  extract_rootfs (&fx);
  g_test_message ("container %s in %s", fx.id, fx.dir);

  g_test_trap_subprocess (NULL, SUBPROCESS_TIMEOUT_USEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  cleanup_container_dir (fx.dir, fx.id);
  fixture_clear (&fx);
  g_test_trap_assert_passed ();
}

static void
body_exit_code_and_log (Fixture *fx)
{
  const char *const argv[] = { "sh", "-c", "echo hello; exit 7", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  guint32 pid = 0, conmon_pid = 0;
  int exit_code = -1;

  prepare_container (fx, argv);

  g_assert_true (create_container (fx, &pid, &conmon_pid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pid, >, 0);
  g_assert_cmpuint (conmon_pid, >, 0);
  g_assert_cmpuint (pid, !=, conmon_pid);
  g_assert_true (ctrd_runtime_pid_alive (pid));
  g_assert_true (ctrd_runtime_pid_alive (conmon_pid));
  g_assert_true (runtime_state_exists (fx->run_root, fx->id));
  /* created, not started: nothing has exited */
  g_assert_cmpuint (fx->exits->len, ==, 0);
  g_assert_false (ctrd_runtime_read_exit_code (fx->runtime, fx->id, &exit_code, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (start_container (fx, fx->id, &error));
  g_assert_no_error (error);

  wait_for_exits (fx, 1);
  g_assert_cmpstr (fx->exits->pdata[0], ==, fx->id);
  g_assert_true (ctrd_runtime_read_exit_code (fx->runtime, fx->id, &exit_code, &error));
  g_assert_no_error (error);
  g_assert_cmpint (exit_code, ==, 7);

  g_assert_true (g_file_get_contents (fx->log_path, &log, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (log, " stdout F hello\n"));

  /* conmon's write and exit bring more events: still one report */
  spin_main_loop (300);
  g_assert_cmpuint (fx->exits->len, ==, 1);

  delete_and_assert_gone (fx, FALSE);

  ctrd_runtime_forget_exit (fx->runtime, fx->id);
  g_assert_false (ctrd_runtime_read_exit_code (fx->runtime, fx->id, &exit_code, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_exit_code_and_log (void)
{
  run_container_test (body_exit_code_and_log);
}

static void
body_kill (Fixture *fx)
{
  const char *const argv[] = { "sleep", "100", NULL };
  g_autoptr (GError) error = NULL;
  guint32 pid = 0;
  int exit_code = -1;

  prepare_container (fx, argv);
  g_assert_true (create_container (fx, &pid, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (start_container (fx, fx->id, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_runtime_pid_alive (pid));

  g_assert_true (kill_container (fx, SIGKILL, &error));
  g_assert_no_error (error);
  wait_for_exits (fx, 1);
  g_assert_cmpstr (fx->exits->pdata[0], ==, fx->id);
  g_assert_true (ctrd_runtime_read_exit_code (fx->runtime, fx->id, &exit_code, &error));
  g_assert_no_error (error);
  /* conmon's convention, as a shell's: 128 + the signal */
  g_assert_cmpint (exit_code, ==, 128 + SIGKILL);
  g_assert_false (ctrd_runtime_pid_alive (pid));

  /* the runtime refuses to signal a stopped container: the caller's race
   * (the process ended first), named as a state, not a runtime failure */
  g_assert_false (kill_container (fx, SIGTERM, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, fx->id));
  g_assert_nonnull (strstr (error->message, "is not running"));
  g_clear_error (&error);

  delete_and_assert_gone (fx, FALSE);
}

static void
test_kill (void)
{
  run_container_test (body_kill);
}

static void
body_bad_command (Fixture *fx)
{
  const char *const argv[] = { "/nonexistent", NULL };
  g_autoptr (GError) error = NULL;
  guint32 pid = 0;

  prepare_container (fx, argv);
  /* runc 1.1 checks the executable at create; others only at start */
  if (create_container (fx, &pid, NULL, &error))
    {
      g_test_message ("create succeeded (pid %u); start must fail", pid);
      g_assert_false (start_container (fx, fx->id, &error));
    }
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent"));
  assert_runtime_error (&error, fx->id, "no such file or directory");

  delete_and_assert_gone (fx, TRUE);
}

static void
test_bad_command (void)
{
  run_container_test (body_bad_command);
}

static void
body_unknown_container (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  fx->runtime = ctrd_runtime_new (NULL, NULL, fx->run_root, &error);
  g_assert_no_error (error);

  /* deleting what the runtime does not know is success, forced or not */
  g_assert_true (delete_container (fx, fx->id, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (delete_container (fx, fx->id, TRUE, &error));
  g_assert_no_error (error);

  /* starting it is not */
  g_assert_false (start_container (fx, fx->id, &error));
  assert_runtime_error (&error, fx->id, "does not exist");

  /* nor is an id that could escape the run root */
  g_assert_false (delete_container (fx, "../etc", TRUE, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

static void
test_unknown_container (void)
{
  run_container_test (body_unknown_container);
}

/* An fd without close-on-exec on @target_fd, to a file in @dir: what a
 * careless library could leave open. Returns the file's path. */
static char *
open_leaky_fd (const char *dir, int target_fd)
{
  g_autofree char *path = g_build_filename (dir, "leak-canary", NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_NOCTTY, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (dup2 (fd, target_fd), ==, target_fd);
  close (fd);
  g_assert_cmpint (fcntl (target_fd, F_GETFD) & FD_CLOEXEC, ==, 0);
  return g_steal_pointer (&path);
}

/* Fails the test if process @pid holds an fd to @path. */
static void
assert_no_fd_to (guint32 pid, const char *path)
{
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%u/fd", pid);
  g_autoptr (GDir) dir = g_dir_open (fd_dir, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (fd_dir, name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);

      g_assert_cmpstr (target, !=, path);
    }
}

/* The container's stdout lines from its k8s-file log, joined with spaces. */
static char *
logged_stdout (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  g_auto (GStrv) words = NULL;

  g_assert_true (g_file_get_contents (fx->log_path, &log, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (log, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *text = strstr (lines[i], " stdout F ");

      if (text != NULL)
        g_strv_builder_add (out, text + strlen (" stdout F "));
    }
  words = g_strv_builder_end (out);
  return g_strjoinv (" ", words);
}

/* The container's process sees stdio and nothing else of the daemon's, even
 * with an fd lacking close-on-exec in the daemon; conmon holds none either. */
static void
body_container_fds (Fixture *fx)
{
  const char *const argv[] = { "ls", "/proc/self/fd", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *canary = NULL;
  g_autofree char *seen = NULL;
  guint32 pid = 0, conmon_pid = 0;
  int exit_code = -1;

  prepare_container (fx, argv);
  canary = open_leaky_fd (fx->dir, 77);

  g_assert_true (create_container (fx, &pid, &conmon_pid, &error));
  g_assert_no_error (error);
  assert_no_fd_to (conmon_pid, canary);

  /* the runtime's calls notice the leak and close fds in the child */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*close-on-exec*77 (*leak-canary)*");
  g_assert_true (start_container (fx, fx->id, &error));
  g_assert_no_error (error);
  g_test_assert_expected_messages ();

  wait_for_exits (fx, 1);
  g_assert_true (ctrd_runtime_read_exit_code (fx->runtime, fx->id, &exit_code, &error));
  g_assert_no_error (error);
  g_assert_cmpint (exit_code, ==, 0);
  /* 3 is ls's own handle on the directory */
  seen = logged_stdout (fx);
  g_assert_cmpstr (seen, ==, "0 1 2 3");

  delete_and_assert_gone (fx, FALSE);
  close (77);
}

static void
test_container_fds (void)
{
  run_container_test (body_container_fds);
}

/* ---- without containers: directories, exit files, the watcher ---- */

static gboolean
setup_runtime_only (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *id = NULL;
  g_autofree char *runc = NULL;
  g_autofree char *conmon = NULL;

  runc = find_tool ("runc");
  conmon = runc != NULL ? find_tool ("conmon") : NULL;
  if (conmon == NULL)
    return FALSE;

  dir = ctrd_test_make_tmpdir ("ctrd-rt-XXXXXX");
  id = random_hex_id ();
  fixture_init_paths (fx, dir, id);
  fx->runtime = ctrd_runtime_new (NULL, NULL, fx->run_root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->runtime);
  return TRUE;
}

static void
teardown_runtime_only (Fixture *fx)
{
  g_autofree char *dir = g_strdup (fx->dir);

  fixture_clear (fx);
  ctrd_test_rm_rf (dir);
}

/* Writes an exit file the way conmon does: a temporary file renamed into place. */
static void
write_exit_file (Fixture *fx, const char *id, const char *contents)
{
  g_autofree char *path = g_build_filename (fx->run_root, "exits", id, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

static void
test_new_layout (void)
{
  Fixture fx = { 0 };
  const char *const subdirs[] = { "", "exits", "runc", "sockets", "containers" };
  g_autoptr (GError) error = NULL;
  g_autofree char *run_dir = NULL;
  const struct
  {
    const char *runtime;
    const char *conmon;
    const char *named; /* in the message */
  } unusable[] = {
    { "/nonexistent/runc", NULL, "/nonexistent/runc" },
    { "false", NULL, "/false" },
    { NULL, "/nonexistent/conmon", "/nonexistent/conmon" },
  };

  if (!setup_runtime_only (&fx))
    return;

  for (gsize i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (fx.run_root, subdirs[i], NULL);
      struct stat st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_true (S_ISDIR (st.st_mode));
      /* The run root is search-only for others (terminal sockets are
       * reached through it by name); everything under it is private. */
      g_assert_cmpint (st.st_mode & 07777, ==, i == 0 ? 0711 : 0700);
    }
  g_assert_true (g_path_is_absolute (ctrd_runtime_get_path (fx.runtime)));
  g_assert_true (g_str_has_suffix (ctrd_runtime_get_path (fx.runtime), "/runc"));
  g_assert_cmpstr (ctrd_runtime_get_run_root (fx.runtime), ==, fx.run_root);
  run_dir = ctrd_runtime_container_run_dir (fx.runtime, fx.id);
  g_assert_true (g_str_has_prefix (run_dir, fx.run_root));
  g_assert_true (g_str_has_suffix (run_dir, fx.id));

  /* a missing program, or one whose --version fails, is not usable */
  for (gsize i = 0; i < G_N_ELEMENTS (unusable); i++)
    {
      CtrdRuntime *bad =
          ctrd_runtime_new (unusable[i].runtime, unusable[i].conmon, fx.run_root, &error);

      g_assert_null (bad);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR);
      g_assert_nonnull (strstr (error->message, unusable[i].named));
      g_clear_error (&error);
    }

  teardown_runtime_only (&fx);
}

static void
test_read_exit_code (void)
{
  const struct
  {
    const char *contents;
    gboolean valid;
    int code;
  } cases[] = {
    { "42\n", TRUE, 42 }, { "0", TRUE, 0 },      { "137 \n\n", TRUE, 137 },
    { "", FALSE, 0 },     { "12abc", FALSE, 0 }, { "99999999999", FALSE, 0 },
    { "0x10", FALSE, 0 },
  };
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  int code = -1;

  if (!setup_runtime_only (&fx))
    return;

  g_assert_false (ctrd_runtime_read_exit_code (fx.runtime, fx.id, &code, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("exit file “%s”", cases[i].contents);
      write_exit_file (&fx, fx.id, cases[i].contents);
      code = G_MININT;
      if (cases[i].valid)
        {
          g_assert_true (ctrd_runtime_read_exit_code (fx.runtime, fx.id, &code, &error));
          g_assert_no_error (error);
          g_assert_cmpint (code, ==, cases[i].code);
        }
      else
        {
          g_assert_false (ctrd_runtime_read_exit_code (fx.runtime, fx.id, &code, &error));
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR);
          g_clear_error (&error);
        }
    }

  g_assert_false (ctrd_runtime_read_exit_code (fx.runtime, "../exits", &code, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  ctrd_runtime_forget_exit (fx.runtime, fx.id);
  g_assert_false (ctrd_runtime_read_exit_code (fx.runtime, fx.id, &code, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  teardown_runtime_only (&fx);
}

static void
test_exit_watcher (void)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *early = random_hex_id ();
  g_autofree char *temp_name = NULL;
  g_autofree char *path = NULL;

  if (!setup_runtime_only (&fx))
    return;

  /* an exit from before the watch began is reported too */
  write_exit_file (&fx, early, "3");
  g_assert_true (ctrd_runtime_watch_exits (fx.runtime, on_exit_reported, &fx, &error));
  g_assert_no_error (error);
  wait_for_exits (&fx, 1);
  g_assert_cmpstr (fx.exits->pdata[0], ==, early);

  /* a half-written file is not an exit yet; a conmon temp name never is one */
  path = g_build_filename (fx.run_root, "exits", fx.id, NULL);
  g_assert_true (g_file_set_contents (path, "", -1, &error));
  temp_name = g_strconcat (fx.id, ".AB12CD", NULL);
  write_exit_file (&fx, temp_name, "1");
  spin_main_loop (200);
  g_assert_cmpuint (fx.exits->len, ==, 1);

  write_exit_file (&fx, fx.id, "9");
  wait_for_exits (&fx, 2);
  g_assert_cmpstr (fx.exits->pdata[1], ==, fx.id);

  /* rewriting or touching it is the same exit */
  write_exit_file (&fx, fx.id, "9\n");
  spin_main_loop (200);
  g_assert_cmpuint (fx.exits->len, ==, 2);

  /* after forgetting, the next run's exit is new */
  ctrd_runtime_forget_exit (fx.runtime, fx.id);
  write_exit_file (&fx, fx.id, "0");
  wait_for_exits (&fx, 3);
  g_assert_cmpstr (fx.exits->pdata[2], ==, fx.id);
  spin_main_loop (200);
  g_assert_cmpuint (fx.exits->len, ==, 3);

  teardown_runtime_only (&fx);
}

/* Starts watching with @func and lets the start-up scan run, so that what
 * follows is seen through events. */
static void
watch_exits_settled (Fixture *fx, CtrdRuntimeExitFunc func)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_runtime_watch_exits (fx->runtime, func, fx, &error));
  g_assert_no_error (error);
  spin_main_loop (50);
}

/* Creates @path and writes @contents in place (no rename), as a plain
 * open, write, close. */
static void
create_file_in_place (const char *path, const char *contents)
{
  gssize len = strlen (contents);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, contents, len), ==, len);
  g_assert_cmpint (close (fd), ==, 0);
}

/* Exactly conmon's way: a temporary name, written and closed, then renamed
 * into place. Only the rename makes it an exit. */
static void
test_exit_watcher_rename (void)
{
  Fixture fx = { 0 };
  g_autofree char *temp_path = NULL;
  g_autofree char *path = NULL;
  g_autofree char *direct = random_hex_id ();
  g_autofree char *direct_path = NULL;

  if (!setup_runtime_only (&fx))
    return;
  watch_exits_settled (&fx, on_exit_reported);

  path = g_build_filename (fx.run_root, "exits", fx.id, NULL);
  temp_path = g_strconcat (path, ".Q2QOZ3", NULL);
  create_file_in_place (temp_path, "137");
  spin_main_loop (200);
  g_assert_cmpuint (fx.exits->len, ==, 0);

  g_assert_cmpint (g_rename (temp_path, path), ==, 0);
  wait_for_exits (&fx, 1);
  g_assert_cmpstr (fx.exits->pdata[0], ==, fx.id);

  /* written in place: an exit once closed */
  direct_path = g_build_filename (fx.run_root, "exits", direct, NULL);
  create_file_in_place (direct_path, "0\n");
  wait_for_exits (&fx, 2);
  g_assert_cmpstr (fx.exits->pdata[1], ==, direct);

  spin_main_loop (200);
  g_assert_cmpuint (fx.exits->len, ==, 2);
  teardown_runtime_only (&fx);
}

/* More exits at once than the kernel queues events for: those whose events
 * were dropped are found by rescanning, each reported once. */
static void
test_exit_watcher_overflow (void)
{
  Fixture fx = { 0 };
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *limit_text = NULL;
  g_autofree char *exits_dir = NULL;
  guint n;

  if (!g_file_get_contents ("/proc/sys/fs/inotify/max_queued_events", &limit_text, NULL, NULL))
    {
      g_test_skip ("no inotify queue limit to exceed");
      return;
    }
  n = (guint) g_ascii_strtoull (limit_text, NULL, 10) + 100;
  if (n > 100000)
    {
      g_test_skip ("the inotify queue is too long to overflow quickly");
      return;
    }
  if (!setup_runtime_only (&fx))
    return;
  watch_exits_settled (&fx, on_exit_reported);

  /* one IN_CLOSE_WRITE each, none read meanwhile */
  exits_dir = g_build_filename (fx.run_root, "exits", NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("exit%06u", i);
      g_autofree char *path = g_build_filename (exits_dir, name, NULL);

      create_file_in_place (path, "1");
    }

  wait_for_exits (&fx, n);
  spin_main_loop (200);
  g_assert_cmpuint (fx.exits->len, ==, n);
  for (guint i = 0; i < fx.exits->len; i++)
    g_assert_true (g_hash_table_add (seen, fx.exits->pdata[i]));

  teardown_runtime_only (&fx);
}

static void
free_runtime_on_exit (const char *id, gpointer user_data)
{
  Fixture *fx = user_data;

  g_ptr_array_add (fx->exits, g_strdup (id));
  g_clear_pointer (&fx->runtime, ctrd_runtime_free);
}

/* The callback may free the runtime with more exits pending: no further
 * report, from the start-up scan or from events read in the same batch. */
static void
test_exit_watcher_free_in_callback (void)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *second = random_hex_id ();

  if (!setup_runtime_only (&fx))
    return;
  write_exit_file (&fx, fx.id, "1");
  write_exit_file (&fx, second, "2");
  g_assert_true (ctrd_runtime_watch_exits (fx.runtime, free_runtime_on_exit, &fx, &error));
  g_assert_no_error (error);
  wait_for_exits (&fx, 1);
  spin_main_loop (100);
  g_assert_cmpuint (fx.exits->len, ==, 1);
  g_assert_null (fx.runtime);

  fx.runtime = ctrd_runtime_new (NULL, NULL, fx.run_root, &error);
  g_assert_no_error (error);
  ctrd_runtime_forget_exit (fx.runtime, fx.id);
  ctrd_runtime_forget_exit (fx.runtime, second);
  watch_exits_settled (&fx, free_runtime_on_exit);
  write_exit_file (&fx, fx.id, "1");
  write_exit_file (&fx, second, "2");
  wait_for_exits (&fx, 2);
  spin_main_loop (100);
  g_assert_cmpuint (fx.exits->len, ==, 2);
  g_assert_null (fx.runtime);

  teardown_runtime_only (&fx);
}

/* ---- file descriptors the runtime's children get ---- */

/* Runs @body alone in a subprocess: it changes fds of the whole process and
 * expects warnings. */
static void
run_in_subprocess (void (*body) (void))
{
  if (g_test_subprocess ())
    {
      body ();
      return;
    }
  g_test_trap_subprocess (NULL, SUBPROCESS_TIMEOUT_USEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
body_check_fds (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = ctrd_test_make_tmpdir ("ctrd-rt-fds-XXXXXX");
  g_autofree char *canary = NULL;
  int fd;

  /* whatever the test runner passed down */
  ctrd_runtime_mark_inherited_fds_cloexec ();
  g_assert_true (ctrd_runtime_check_fds_cloexec (&error));
  g_assert_no_error (error);

  canary = open_leaky_fd (dir, 77);
  g_assert_false (ctrd_runtime_check_fds_cloexec (&error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "77 ("));
  g_assert_nonnull (strstr (error->message, canary));
  g_clear_error (&error);

  g_assert_cmpint (fcntl (77, F_SETFD, FD_CLOEXEC), ==, 0);
  g_assert_true (ctrd_runtime_check_fds_cloexec (&error));
  g_assert_no_error (error);

  /* marking leaves the fds open, close-on-exec */
  fd = dup (77);
  g_assert_cmpint (fd, >, 2);
  g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, ==, 0);
  ctrd_runtime_mark_inherited_fds_cloexec ();
  g_assert_cmpint (fcntl (fd, F_GETFD), ==, FD_CLOEXEC);
  g_assert_cmpint (fcntl (77, F_GETFD), ==, FD_CLOEXEC);
  g_assert_true (ctrd_runtime_check_fds_cloexec (&error));
  g_assert_no_error (error);

  close (fd);
  close (77);
  ctrd_test_rm_rf (dir);
}

static void
test_check_fds (void)
{
  run_in_subprocess (body_check_fds);
}

/* A stand-in runtime that records the fds each call got. */
static char *
write_fd_recording_runtime (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "fake-runtime", NULL);
  g_autoptr (GError) error = NULL;
  const char *script = "#!/bin/sh\n"
                       "[ \"$1\" = --version ] && exec echo fake-runtime 1.0\n"
                       "# --root DIR VERB ...\n"
                       "ls /proc/self/fd > \"${0%/*}/fds-$3\"\n";

  g_assert_true (g_file_set_contents (path, script, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0700), ==, 0);
  return g_steal_pointer (&path);
}

/* The fds of the last @verb call of the stand-in runtime, joined with spaces. */
static char *
recorded_fds (const char *dir, const char *verb)
{
  g_autofree char *name = g_strconcat ("fds-", verb, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto (GStrv) words = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);
  words = g_strsplit (g_strstrip (contents), "\n", -1);
  return g_strjoinv (" ", words);
}

static void
body_verb_fds (void)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = ctrd_test_make_tmpdir ("ctrd-rt-fds-XXXXXX");
  g_autofree char *fake = write_fd_recording_runtime (dir);
  g_autofree char *fds = NULL;
  g_autofree char *id = random_hex_id ();

  fixture_init_paths (&fx, dir, id);
  ctrd_runtime_mark_inherited_fds_cloexec ();
  fx.runtime = ctrd_runtime_new (fake, NULL, fx.run_root, &error);
  g_assert_no_error (error);

  /* stdio only; 3 is ls's own handle on the directory */
  g_assert_true (start_container (&fx, id, &error));
  g_assert_no_error (error);
  fds = recorded_fds (dir, "start");
  g_assert_cmpstr (fds, ==, "0 1 2 3");
  g_clear_pointer (&fds, g_free);

  /* an fd without close-on-exec is closed in the child, with one warning */
  g_free (open_leaky_fd (dir, 77));
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*close-on-exec*77 (*leak-canary)*");
  g_assert_true (kill_container (&fx, SIGTERM, &error));
  g_assert_no_error (error);
  g_test_assert_expected_messages ();
  fds = recorded_fds (dir, "kill");
  g_assert_cmpstr (fds, ==, "0 1 2 3");
  g_clear_pointer (&fds, g_free);

  g_assert_true (delete_container (&fx, id, FALSE, &error));
  g_assert_no_error (error);
  fds = recorded_fds (dir, "delete");
  g_assert_cmpstr (fds, ==, "0 1 2 3");
  g_clear_pointer (&fds, g_free);

  /* fixed: the same again */
  g_assert_cmpint (fcntl (77, F_SETFD, FD_CLOEXEC), ==, 0);
  g_assert_true (start_container (&fx, id, &error));
  g_assert_no_error (error);
  fds = recorded_fds (dir, "start");
  g_assert_cmpstr (fds, ==, "0 1 2 3");

  close (77);
  fixture_clear (&fx);
  ctrd_test_rm_rf (dir);
}

static void
test_verb_fds (void)
{
  g_autofree char *conmon = find_tool ("conmon");

  if (conmon != NULL)
    run_in_subprocess (body_verb_fds);
}

static void
test_create_errors (void)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *socket_link = NULL;
  g_autofree char *listing = NULL;

  if (!setup_runtime_only (&fx))
    return;
  run_dir = ctrd_runtime_container_run_dir (fx.runtime, fx.id);
  socket_link = g_build_filename (fx.run_root, "sockets", fx.id, NULL);

  ctrd_runtime_create_async (fx.runtime, "bad/id", NULL, fx.bundle, fx.log_path, FALSE, NULL, store_result,
                             &result);
  wait_for_pointer ((gpointer *) &result, "create with a bad id");
  g_assert_false (ctrd_runtime_create_finish (fx.runtime, result, NULL, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_object (&result);

  ctrd_runtime_create_async (fx.runtime, fx.id, NULL, "bundle", fx.log_path, FALSE, NULL, store_result,
                             &result);
  wait_for_pointer ((gpointer *) &result, "create with a relative bundle");
  g_assert_false (ctrd_runtime_create_finish (fx.runtime, result, NULL, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_object (&result);

  /* cancelled before it began: conmon is never started */
  g_cancellable_cancel (cancellable);
  ctrd_runtime_create_async (fx.runtime, fx.id, NULL, fx.bundle, fx.log_path, FALSE, cancellable,
                             store_result, &result);
  wait_for_pointer ((gpointer *) &result, "cancelled create");
  g_assert_false (ctrd_runtime_create_finish (fx.runtime, result, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (run_dir, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_clear_object (&result);

  /* a bundle without config.json: the runtime's complaint comes back, and
   * nothing of the attempt stays in the run root */
  g_assert_cmpint (g_mkdir_with_parents (fx.bundle, 0700), ==, 0);
  g_assert_false (create_container (&fx, NULL, NULL, &error));
  assert_runtime_error (&error, fx.id, "config.json");
  listing = ctrd_test_dir_listing (run_dir);
  g_assert_cmpstr (listing, ==, "");
  g_assert_false (g_file_test (socket_link, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK));

  teardown_runtime_only (&fx);
}

static void
test_pid_alive (void)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "/bin/true", NULL };
  GPid child;
  int status;

  g_assert_true (ctrd_runtime_pid_alive ((guint32) getpid ()));
  g_assert_false (ctrd_runtime_pid_alive (0));

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &child, &error));
  g_assert_no_error (error);
  /* wait for it to be a zombie without reaping it */
  {
    siginfo_t info = { 0 };

    g_assert_cmpint (waitid (P_PID, child, &info, WEXITED | WNOWAIT), ==, 0);
  }
  g_assert_false (ctrd_runtime_pid_alive ((guint32) child));
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_false (ctrd_runtime_pid_alive ((guint32) child));
}

/* A stand-in runtime: "state" reports a running container whose pid is the
 * script's own (so that it exists) unless the id is "gone", "kill" hangs,
 * everything else succeeds. */
static char *
write_state_runtime (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "state-runtime", NULL);
  g_autoptr (GError) error = NULL;
  const char *script =
      "#!/bin/sh\n"
      "[ \"$1\" = --version ] && exec echo fake-runtime 1.0\n"
      "# --root DIR VERB ID ...\n"
      "case $3 in\n"
      "  state) [ \"$4\" = gone ] && { echo 'container \"gone\" does not exist' >&2; exit 1; }\n"
      "         echo \"{\\\"id\\\": \\\"$4\\\", \\\"pid\\\": 4242, \\\"status\\\": \\\"running\\\"}\" ;;\n"
      "  kill) exec sleep 100000 ;;\n"
      "esac\n";

  g_assert_true (g_file_set_contents (path, script, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0700), ==, 0);
  return g_steal_pointer (&path);
}

static void
on_async_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* "state" is parsed (unknown containers are ""), a hung verb is killed
 * after the verb timeout with TIMEOUT, and pidfds report an exit. */
static void
test_state_timeout_pidfd (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = ctrd_test_make_tmpdir ("ctrd-rt-state-XXXXXX");
  g_autofree char *fake = write_state_runtime (dir);
  g_autofree char *run_root = g_build_filename (dir, "run", NULL);
  g_autoptr (CtrdRuntime) runtime = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *status = NULL;
  guint32 pid = 0;
  const char *const sleeper[] = { "sleep", "100000", NULL };
  g_autoptr (GSubprocess) child = NULL;
  GPollFD poll_fd = { -1, G_IO_IN, 0 };

  ctrd_runtime_mark_inherited_fds_cloexec ();
  runtime = ctrd_runtime_new (fake, NULL, run_root, &error);
  g_assert_no_error (error);
  ctrd_runtime_state_async (runtime, "abc", NULL, on_async_result, &result);
  status = ctrd_runtime_state_finish (runtime, wait_for_result (&result), &pid, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status, ==, "running");
  g_assert_cmpuint (pid, ==, 4242);
  g_clear_object (&result);
  g_clear_pointer (&status, g_free);

  ctrd_runtime_state_async (runtime, "gone", NULL, on_async_result, &result);
  status = ctrd_runtime_state_finish (runtime, wait_for_result (&result), &pid, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status, ==, "");
  g_assert_cmpuint (pid, ==, 0);
  g_clear_object (&result);

  ctrd_runtime_set_verb_timeout (runtime, 1);
  ctrd_runtime_kill_async (runtime, "abc", SIGTERM, FALSE, NULL, on_async_result, &result);
  g_assert_false (ctrd_runtime_kill_finish (runtime, wait_for_result (&result), &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_clear_object (&result);

  child = g_subprocess_newv (sleeper, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  poll_fd.fd = ctrd_runtime_pidfd_open (
      (guint32) g_ascii_strtoull (g_subprocess_get_identifier (child), NULL, 10), &error);
  g_assert_no_error (error);
  g_assert_cmpint (poll_fd.fd, >=, 0);
  g_assert_cmpint (g_poll (&poll_fd, 1, 0), ==, 0);
  g_subprocess_force_exit (child);
  g_assert_cmpint (g_poll (&poll_fd, 1, -1), ==, 1);
  close (poll_fd.fd);
  g_assert_cmpint (ctrd_runtime_pidfd_open (0, &error), ==, -1);
  g_assert_nonnull (error);

  ctrd_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runtime/new-layout", test_new_layout);
  g_test_add_func ("/runtime/read-exit-code", test_read_exit_code);
  g_test_add_func ("/runtime/exit-watcher", test_exit_watcher);
  g_test_add_func ("/runtime/exit-watcher-rename", test_exit_watcher_rename);
  g_test_add_func ("/runtime/exit-watcher-overflow", test_exit_watcher_overflow);
  g_test_add_func ("/runtime/exit-watcher-free-in-callback", test_exit_watcher_free_in_callback);
  g_test_add_func ("/runtime/check-fds", test_check_fds);
  g_test_add_func ("/runtime/verb-fds", test_verb_fds);
  g_test_add_func ("/runtime/create-errors", test_create_errors);
  g_test_add_func ("/runtime/pid-alive", test_pid_alive);
  g_test_add_func ("/runtime/state-timeout-pidfd", test_state_timeout_pidfd);
  g_test_add_func ("/runtime/container/exit-code-and-log", test_exit_code_and_log);
  g_test_add_func ("/runtime/container/kill", test_kill);
  g_test_add_func ("/runtime/container/bad-command", test_bad_command);
  g_test_add_func ("/runtime/container/unknown", test_unknown_container);
  g_test_add_func ("/runtime/container/fds", test_container_fds);

  ret = g_test_run ();
  if (busybox_dir != NULL)
    ctrd_test_rm_rf (busybox_dir);
  g_free (busybox_dir);
  g_free (busybox_tar);
  return ret;
}
