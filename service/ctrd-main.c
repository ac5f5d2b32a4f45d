/* ctrd-main.c: containersd's entry point: options, the bus name, the main loop. */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <glib-unix.h>
#include <gio/gio.h>

#include "ctrd-caller-open.h"
#include "ctrd-daemon.h"
#include "ctrd-error.h"
#include "ctrd-runtime.h"

#define CTRD_BUS_NAME "org.example.Containers1"

typedef struct
{
  GMainLoop *loop;
  CtrdDaemon *daemon;
  int exit_status;
  gboolean name_acquired;
} MainState;

static gboolean
on_quit_signal (gpointer user_data)
{
  MainState *state = user_data;

  /* Containers keep running: conmon, not the daemon, is their parent. */
  g_message ("Received a termination signal: exiting, containers keep running");
  g_main_loop_quit (state->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  MainState *state = user_data;

  state->name_acquired = TRUE;
  g_message ("Acquired the name %s on the system bus", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  MainState *state = user_data;

  if (connection == NULL)
    g_warning ("Lost the connection to the system bus");
  else if (!state->name_acquired)
    g_warning ("Cannot own the name %s: is another containersd running, or does the bus policy "
               "not allow it?",
               name);
  else
    g_message ("Another daemon replaced this one as %s", name);
  state->exit_status = state->name_acquired && connection != NULL ? 0 : 1;
  g_main_loop_quit (state->loop);
}

static void
log_handler (const char *log_domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  gboolean debug = GPOINTER_TO_INT (user_data);
  const char *prefix;

  if ((level & G_LOG_LEVEL_DEBUG) && !debug)
    return;
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    prefix = "<3>";
  else if (level & G_LOG_LEVEL_WARNING)
    prefix = "<4>";
  else if (level & G_LOG_LEVEL_DEBUG)
    prefix = "<7>";
  else
    prefix = "<6>";
  /* sd-daemon priority prefixes: the journal reads them, a terminal shows them. */
  fprintf (stderr, "%s%s\n", prefix, message);
}

/* The command line's settings override the configuration file's. */
typedef struct
{
  char *storage_root;
  char *run_root;
  char *runtime;
  char *config_file;
  gboolean replace;
  gboolean debug;
  gboolean version;
} CommandLine;

static void
command_line_clear (CommandLine *cmd)
{
  g_free (cmd->storage_root);
  g_free (cmd->run_root);
  g_free (cmd->runtime);
  g_free (cmd->config_file);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CommandLine, command_line_clear)

static gboolean
parse_command_line (CommandLine *cmd, int *argc, char ***argv, GError **error)
{
  GOptionEntry entries[] = {
    { "storage-root", 0, 0, G_OPTION_ARG_FILENAME, &cmd->storage_root,
      "Where images, containers and the database live (default /var/lib/containersd)", "DIR" },
    { "run-root", 0, 0, G_OPTION_ARG_FILENAME, &cmd->run_root,
      "Where run-time state lives (default /run/containersd)", "DIR" },
    { "runtime", 0, 0, G_OPTION_ARG_FILENAME, &cmd->runtime,
      "The OCI runtime (default: the first of runc, crun that works)", "PATH" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &cmd->config_file,
      "Configuration file (default " CTRD_DEFAULT_CONFIG_FILE ")", "FILE" },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &cmd->replace, "Replace a running containersd", NULL },
    { "debug", 0, 0, G_OPTION_ARG_NONE, &cmd->debug, "Log debug messages", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &cmd->version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- container manager on the system bus");

  g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

static void
override (char **setting, char **value)
{
  if (*value == NULL)
    return;
  g_free (*setting);
  *setting = g_steal_pointer (value);
}

/* Exports the daemon on the system bus, owns the name, and runs until a
 * signal or the loss of the name; the exit status. */
static int
serve (CtrdDaemon *daemon, gboolean replace)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  MainState state = { 0 };
  guint owner_id;

  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("containersd: cannot connect to the system bus: %s\n", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  if (!ctrd_daemon_export (daemon, connection, &error))
    {
      g_printerr ("containersd: %s\n", error->message);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  state.daemon = daemon;
  g_unix_signal_add (SIGTERM, on_quit_signal, &state);
  g_unix_signal_add (SIGINT, on_quit_signal, &state);

  owner_id = g_bus_own_name_on_connection (
      connection, CTRD_BUS_NAME,
      G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
          (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : G_BUS_NAME_OWNER_FLAGS_NONE),
      on_name_acquired, on_name_lost, &state, NULL);

  g_main_loop_run (loop);

  g_bus_unown_name (owner_id);
  g_dbus_connection_flush_sync (connection, NULL, NULL);
  return state.exit_status;
}

int
main (int argc, char **argv)
{
  g_auto (CommandLine) cmd = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdConfig) config = NULL;
  g_autoptr (CtrdDaemon) daemon = NULL;

  /* fds inherited from whoever started us must not reach conmon or runc;
   * with every fd close-on-exec, runc calls can use posix_spawn. */
  ctrd_runtime_mark_inherited_fds_cloexec ();
  setlocale (LC_ALL, "");
  /* A client that closes its end of a pipe must not kill the daemon. */
  signal (SIGPIPE, SIG_IGN);
  umask (0077);

  if (!parse_command_line (&cmd, &argc, &argv, &error))
    {
      g_printerr ("containersd: %s\n", error->message);
      return 2;
    }
  if (cmd.version)
    {
      g_print ("containersd %s\n", PACKAGE_VERSION);
      return 0;
    }

  config = ctrd_config_load (cmd.config_file, &error);
  if (config == NULL)
    {
      g_printerr ("containersd: %s\n", error->message);
      return 1;
    }
  override (&config->storage_root, &cmd.storage_root);
  override (&config->run_root, &cmd.run_root);
  override (&config->runtime, &cmd.runtime);
  if (!g_path_is_absolute (config->storage_root) || !g_path_is_absolute (config->run_root))
    {
      g_printerr ("containersd: --storage-root and --run-root must be absolute paths\n");
      return 2;
    }

  ctrd_caller_open_set_timeout ((guint) config->caller_open_timeout);
  g_log_set_default_handler (log_handler, GINT_TO_POINTER (cmd.debug || config->debug));
  ctrd_error_quark (); /* registers the D-Bus error names */

  daemon = ctrd_daemon_new (g_steal_pointer (&config), cmd.replace, &error);
  if (daemon == NULL)
    {
      g_printerr ("containersd: %s\n", error->message);
      return 1;
    }
  return serve (daemon, cmd.replace);
}
