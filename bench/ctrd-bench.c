/* ctrd-bench.c: times containersd's D-Bus calls from a minimal client, so the
 * figures are the daemon's own cost (no CLI start-up, no proxy, no
 * introspection). bench/run builds it with plain GIO and drives it:
 *
 *   ctrd-bench lifecycle IMAGE NAME    create (sleep 1000), start, stop 0, remove
 *   ctrd-bench run IMAGE NAME          create (true) + start + wait + remove, end to end
 *   ctrd-bench list REPS               GetManagedObjects, REPS times
 *   ctrd-bench props NAME REPS         Properties.Get (State) and GetAll, REPS times each
 *   ctrd-bench exit IMAGE NAME [EXITS_DIR]   kill the container's process: exit →
 *                                      PropertiesChanged (and → conmon's exit file in EXITS_DIR)
 *   ctrd-bench create-many IMAGE PREFIX FIRST LAST   containers PREFIX-FIRST..LAST (true)
 *   ctrd-bench import PATH NAME        ImportImageFromPath
 *   ctrd-bench ready TIMEOUT_S         polls until GetManagedObjects answers
 *
 * Each prints "KEY MICROSECONDS" lines on stdout (ready prints the wall clock
 * in µs, to compare with bash's $EPOCHREALTIME), and exits non-zero with a
 * message on stderr when a call fails. The bus is the system bus, so
 * DBUS_SYSTEM_BUS_ADDRESS points it at bench/run's private one. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>

#define BUS_NAME "org.example.Containers1"
#define ROOT_PATH "/org/example/Containers1"
#define MANAGER_IFACE "org.example.Containers1.Manager"
#define CONTAINER_IFACE "org.example.Containers1.Container"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

static GDBusConnection *bus;

static gint64
now_usec (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
report (const char *key, gint64 usec)
{
  printf ("%s %" G_GINT64_FORMAT "\n", key, usec);
}

static G_NORETURN void
fail (const char *what, GError *error)
{
  fprintf (stderr, "ctrd-bench: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

/* One synchronous call with no client-side timeout (like containersctl for
 * calls that last as long as the work); fails the program on error. */
static GVariant *
call (const char *path, const char *iface, const char *method, GVariant *args,
      const char *reply_type)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_connection_call_sync (bus, BUS_NAME, path, iface, method, args,
                                       reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                       G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, &error);
  if (reply == NULL)
    fail (method, error);
  return reply;
}

/* The same, timed: the reply is dropped. */
static gint64
timed_call (const char *path, const char *iface, const char *method, GVariant *args)
{
  gint64 start = now_usec ();
  g_autoptr (GVariant) reply = call (path, iface, method, args, NULL);

  return now_usec () - start;
}

static char *
create_container (const char *image, const char *name, const char *const *command,
                  gint64 *out_usec)
{
  gint64 start = now_usec ();
  g_autoptr (GVariant) reply = NULL;
  char *path;

  reply = call (ROOT_PATH, MANAGER_IFACE, "CreateContainer",
                g_variant_new ("(ss^asa{sv})", name, image, command, NULL), "(o)");
  if (out_usec != NULL)
    *out_usec = now_usec () - start;
  g_variant_get (reply, "(o)", &path);
  return path;
}

static GVariant *
remove_args (void)
{
  return g_variant_new ("(bb)", FALSE, FALSE);
}

static int
cmd_lifecycle (const char *image, const char *name)
{
  const char *const command[] = { "sleep", "1000", NULL };
  g_autofree char *path = NULL;
  gint64 usec;

  path = create_container (image, name, command, &usec);
  report ("create", usec);
  report ("start", timed_call (path, CONTAINER_IFACE, "Start", NULL));
  report ("stop", timed_call (path, CONTAINER_IFACE, "Stop", g_variant_new ("(u)", 0)));
  report ("rm", timed_call (path, CONTAINER_IFACE, "Remove", remove_args ()));
  return 0;
}

static int
cmd_run (const char *image, const char *name)
{
  const char *const command[] = { "true", NULL };
  gint64 start = now_usec ();
  g_autofree char *path = create_container (image, name, command, NULL);
  g_autoptr (GVariant) wait_reply = NULL;
  gint32 exit_code;

  g_variant_unref (call (path, CONTAINER_IFACE, "Start", NULL, NULL));
  wait_reply = call (path, CONTAINER_IFACE, "Wait", NULL, "(i)");
  g_variant_unref (call (path, CONTAINER_IFACE, "Remove", remove_args (), NULL));
  report ("run_rm", now_usec () - start);
  g_variant_get (wait_reply, "(i)", &exit_code);
  if (exit_code != 0)
    {
      fprintf (stderr, "ctrd-bench: run: true exited with %d\n", exit_code);
      return 1;
    }
  return 0;
}

static int
cmd_list (guint reps)
{
  gsize objects = 0;

  for (guint i = 0; i < reps; i++)
    {
      gint64 start = now_usec ();
      g_autoptr (GVariant) reply = call (ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
      gint64 usec = now_usec () - start;
      g_autoptr (GVariant) dict = g_variant_get_child_value (reply, 0);

      report ("list", usec);
      objects = g_variant_n_children (dict);
    }
  /* includes the image objects: the runner checks the count it expects */
  printf ("objects %" G_GSIZE_FORMAT "\n", objects);
  return 0;
}

static char *
lookup_container (const char *name)
{
  g_autoptr (GVariant) reply = call (ROOT_PATH, MANAGER_IFACE, "GetContainer",
                                     g_variant_new ("(s)", name), "(o)");
  char *path;

  g_variant_get (reply, "(o)", &path);
  return path;
}

static int
cmd_props (const char *name, guint reps)
{
  g_autofree char *path = lookup_container (name);

  for (guint i = 0; i < reps; i++)
    {
      report ("get", timed_call (path, PROPERTIES_IFACE, "Get",
                                 g_variant_new ("(ss)", CONTAINER_IFACE, "State")));
      report ("getall", timed_call (path, PROPERTIES_IFACE, "GetAll",
                                    g_variant_new ("(s)", CONTAINER_IFACE)));
    }
  return 0;
}

static void
on_stats_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  guint *pending = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (bus, result, &error);

  if (reply == NULL)
    fail ("GetStats", error);
  (*pending)--;
}

/* A poller's round, as a monitoring page does it once a second: GetStats of
 * the containers PREFIX-1..N, all sent at once; the time until the last
 * answer. */
static int
cmd_stats (const char *prefix, guint n, guint reps)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u", prefix, i);
      g_ptr_array_add (paths, lookup_container (name));
    }
  for (guint r = 0; r < reps; r++)
    {
      gint64 start = now_usec ();
      guint pending = n;

      for (guint i = 0; i < n; i++)
        g_dbus_connection_call (bus, BUS_NAME, paths->pdata[i], CONTAINER_IFACE, "GetStats",
                                NULL, G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                G_MAXINT, NULL, on_stats_reply, &pending);
      while (pending > 0)
        g_main_context_iteration (NULL, TRUE);
      report ("stats_round", now_usec () - start);
    }
  return 0;
}

typedef struct
{
  gint64 seen_usec; /* when the PropertiesChanged saying "stopped" arrived */
  char *state;
} ExitWatch;

static void
on_properties_changed (GDBusConnection *connection, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *parameters,
                       gpointer user_data)
{
  ExitWatch *watch = user_data;
  g_autoptr (GVariant) changed = NULL;
  const char *changed_iface;
  const char *state;

  if (watch->seen_usec != 0)
    return;
  g_variant_get (parameters, "(&s@a{sv}@as)", &changed_iface, &changed, NULL);
  if (g_strcmp0 (changed_iface, CONTAINER_IFACE) != 0 ||
      !g_variant_lookup (changed, "State", "&s", &state))
    return;
  if (g_strcmp0 (state, "running") == 0)
    return;
  watch->seen_usec = now_usec ();
  watch->state = g_strdup (state);
}

/* Waits until @fd is readable or @timeout_ms passed; TRUE if readable. */
static gboolean
wait_readable (int fd, int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int r;

  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

/* Waits for conmon's exit file @id in @exits_dir (conmon writes ID.tmp and
 * renames it); returns when it appeared, 0 after 10 s. */
static gint64
wait_exit_file (int inotify_fd, const char *id)
{
  gint64 deadline = now_usec () + 10 * G_USEC_PER_SEC;
  char buffer[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));

  while (now_usec () < deadline && wait_readable (inotify_fd, 10000))
    {
      ssize_t n = read (inotify_fd, buffer, sizeof buffer);

      for (ssize_t offset = 0; offset < n;)
        {
          const struct inotify_event *event = (const struct inotify_event *) (buffer + offset);

          if (event->len > 0 && g_str_equal (event->name, id))
            return now_usec ();
          offset += (ssize_t) (sizeof *event + event->len);
        }
    }
  return 0;
}

static char *
get_string_property (const char *path, const char *property)
{
  g_autoptr (GVariant) reply = call (path, PROPERTIES_IFACE, "Get",
                                     g_variant_new ("(ss)", CONTAINER_IFACE, property), "(v)");
  g_autoptr (GVariant) value = NULL;

  g_variant_get (reply, "(v)", &value);
  return g_variant_dup_string (value, NULL);
}

/* The container's process is killed from here; a pidfd tells the instant the
 * kernel finished it, and the subscription the instant the daemon said so.
 * The difference is the daemon's exit path (conmon's waitpid, its exit file,
 * the daemon's file monitor, the database write and the signal). With
 * @exits_dir (the daemon's RUN_ROOT/exits) the exit file's arrival splits it
 * into conmon's part and the daemon's. */
static int
cmd_exit (const char *image, const char *name, const char *exits_dir)
{
  const char *const command[] = { "sleep", "1000", NULL };
  g_autofree char *path = create_container (image, name, command, NULL);
  g_autofree char *id = get_string_property (path, "Id");
  g_autoptr (GVariant) pid_reply = NULL;
  g_autoptr (GVariant) pid_value = NULL;
  ExitWatch watch = { 0 };
  gint64 killed_usec, gone_usec, file_usec = 0, deadline;
  guint subscription;
  int pidfd, inotify_fd = -1;
  guint32 pid;

  g_variant_unref (call (path, CONTAINER_IFACE, "Start", NULL, NULL));
  pid_reply = call (path, PROPERTIES_IFACE, "Get", g_variant_new ("(ss)", CONTAINER_IFACE, "Pid"),
                    "(v)");
  g_variant_get (pid_reply, "(v)", &pid_value);
  pid = g_variant_get_uint32 (pid_value);
  if (pid == 0)
    fail ("exit: the container has no Pid", NULL);

  if (exits_dir != NULL)
    {
      inotify_fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (inotify_fd < 0 ||
          inotify_add_watch (inotify_fd, exits_dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        {
          fprintf (stderr, "ctrd-bench: watching %s: %s\n", exits_dir, g_strerror (errno));
          return 1;
        }
    }

  subscription = g_dbus_connection_signal_subscribe (bus, BUS_NAME, PROPERTIES_IFACE,
                                                     "PropertiesChanged", path, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_properties_changed, &watch, NULL);
  /* The subscription's AddMatch must reach the bus before the exit: a round
   * trip to the daemon orders it. */
  g_variant_unref (call (path, PROPERTIES_IFACE, "Get",
                         g_variant_new ("(ss)", CONTAINER_IFACE, "State"), NULL));

  pidfd = (int) syscall (SYS_pidfd_open, (pid_t) pid, 0);
  if (pidfd < 0)
    {
      fprintf (stderr, "ctrd-bench: pidfd_open %u: %s\n", pid, g_strerror (errno));
      return 1;
    }
  killed_usec = now_usec ();
  if (kill ((pid_t) pid, SIGKILL) < 0)
    {
      fprintf (stderr, "ctrd-bench: kill %u: %s\n", pid, g_strerror (errno));
      return 1;
    }
  if (!wait_readable (pidfd, 10000))
    fail ("exit: the process did not die", NULL);
  gone_usec = now_usec ();
  close (pidfd);
  /* The daemon acts on the file, so the file comes before the signal. */
  if (inotify_fd >= 0)
    {
      file_usec = wait_exit_file (inotify_fd, id);
      close (inotify_fd);
    }

  deadline = gone_usec + 10 * G_USEC_PER_SEC;
  while (watch.seen_usec == 0 && now_usec () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_dbus_connection_signal_unsubscribe (bus, subscription);
  if (watch.seen_usec == 0)
    fail ("exit: no PropertiesChanged with the new State within 10 s", NULL);

  report ("kill_to_exit", gone_usec - killed_usec);
  report ("exit_to_signal", watch.seen_usec - gone_usec);
  if (file_usec != 0)
    {
      report ("exit_to_file", file_usec - gone_usec);
      report ("file_to_signal", watch.seen_usec - file_usec);
    }
  g_variant_unref (call (path, CONTAINER_IFACE, "Remove", remove_args (), NULL));
  g_free (watch.state);
  return 0;
}

static int
cmd_create_many (const char *image, const char *prefix, guint first, guint last)
{
  const char *const command[] = { "true", NULL };
  gint64 start = now_usec ();

  for (guint i = first; i <= last; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u", prefix, i);
      g_autofree char *path = NULL;
      gint64 usec;

      path = create_container (image, name, command, &usec);
      report ("create", usec);
    }
  report ("total", now_usec () - start);
  return 0;
}

static int
cmd_import (const char *path, const char *name)
{
  report ("import", timed_call (ROOT_PATH, MANAGER_IFACE, "ImportImageFromPath",
                                g_variant_new ("(ssa{sv})", path, name, NULL)));
  return 0;
}

/* Polls every millisecond until the daemon answers GetManagedObjects (the
 * service is not activatable on the private bus, so each try fails at once
 * while nobody owns the name). */
static int
cmd_ready (guint timeout_s)
{
  gint64 deadline = now_usec () + (gint64) timeout_s * G_USEC_PER_SEC;
  g_autoptr (GError) error = NULL;

  while (now_usec () < deadline)
    {
      g_autoptr (GVariant) reply = NULL;

      g_clear_error (&error);
      reply = g_dbus_connection_call_sync (bus, BUS_NAME, ROOT_PATH,
                                           "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects", NULL, NULL,
                                           G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_s * 1000, NULL,
                                           &error);
      if (reply != NULL)
        {
          report ("ready_realtime", g_get_real_time ());
          return 0;
        }
      g_usleep (1000);
    }
  fail ("ready", error);
}

static guint
parse_count (const char *text)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, NULL))
    {
      fprintf (stderr, "ctrd-bench: not a count: %s\n", text);
      exit (2);
    }
  return (guint) value;
}

static G_NORETURN void
usage (void)
{
  fprintf (stderr, "usage: ctrd-bench lifecycle|run IMAGE NAME | exit IMAGE NAME [EXITS_DIR] | "
                   "list REPS | props NAME REPS | stats PREFIX N "
                   "REPS | create-many IMAGE PREFIX FIRST LAST | import PATH NAME | ready "
                   "TIMEOUT_S\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *verb;

  if (argc < 2)
    usage ();
  verb = argv[1];
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    fail ("connecting to the system bus", error);

  if (g_str_equal (verb, "lifecycle") && argc == 4)
    return cmd_lifecycle (argv[2], argv[3]);
  if (g_str_equal (verb, "run") && argc == 4)
    return cmd_run (argv[2], argv[3]);
  if (g_str_equal (verb, "exit") && (argc == 4 || argc == 5))
    return cmd_exit (argv[2], argv[3], argc == 5 ? argv[4] : NULL);
  if (g_str_equal (verb, "list") && argc == 3)
    return cmd_list (parse_count (argv[2]));
  if (g_str_equal (verb, "stats") && argc == 5)
    return cmd_stats (argv[2], parse_count (argv[3]), parse_count (argv[4]));
  if (g_str_equal (verb, "props") && argc == 4)
    return cmd_props (argv[2], parse_count (argv[3]));
  if (g_str_equal (verb, "create-many") && argc == 6)
    return cmd_create_many (argv[2], argv[3], parse_count (argv[4]), parse_count (argv[5]));
  if (g_str_equal (verb, "import") && argc == 4)
    return cmd_import (argv[2], argv[3]);
  if (g_str_equal (verb, "ready") && argc == 3)
    return cmd_ready (parse_count (argv[2]));
  usage ();
}
