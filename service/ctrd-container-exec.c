/* ctrd-container-exec.c: processes in a running container and its output:
 * Exec (with or without a terminal), ExecTerminal, GetLogs (a followed
 * stream through a pipe), ReadLogs (pages). */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ctrd-container-private.h"
#include "ctrd-authority.h"
#include "ctrd-error.h"
#include "ctrd-exec-session.h"
#include "ctrd-fdio.h"
#include "ctrd-logs.h"
#include "ctrd-options.h"
#include "ctrd-util.h"

/* ---------------------------------------------------------------- Exec */

/* Exec's three fds (up to three in the message): the process's stdio. */
#define EXEC_STDIN_RULES (CTRD_FD_READABLE | CTRD_FD_NOT_DIRECTORY)
#define EXEC_OUTPUT_RULES (CTRD_FD_WRITABLE | CTRD_FD_NOT_DIRECTORY)

static const CtrdOptionSpec exec_options[] = {
  { "Env", "as" },
  { "WorkingDir", "s" },
  { "User", "s" },
  { "Tty", "b" },
  { "Rows", "q" },
  { "Columns", "q" },
};

/* A terminal's size unless Rows / Columns say otherwise. */
#define DEFAULT_ROWS 24
#define DEFAULT_COLUMNS 80

typedef struct
{
  CtrdContainer *container;
  char **argv;
  char **env;
  char *cwd;
  gboolean has_user;
  guint32 uid, gid;
  gboolean tty;
  guint16 rows, columns;
  int fds[3];
  char *process_path;
  GDBusMethodInvocation *invocation;
} ExecData;

static void
exec_data_free (gpointer user_data)
{
  ExecData *data = user_data;

  for (guint i = 0; i < G_N_ELEMENTS (data->fds); i++)
    ctrd_close_fd (&data->fds[i]);
  if (data->process_path != NULL)
    g_unlink (data->process_path);
  g_free (data->process_path);
  g_strfreev (data->argv);
  g_strfreev (data->env);
  g_free (data->cwd);
  g_object_unref (data->container);
  g_free (data);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExecData, exec_data_free)

/* "uid" or "uid:gid", numeric only (names need the image's passwd). */
static gboolean
parse_numeric_user (const char *spec, guint32 *out_uid, guint32 *out_gid, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 3);
  guint64 uid, gid;

  if (parts[0] == NULL || g_strv_length (parts) > 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT32 - 1, &uid, NULL) ||
      (parts[1] != NULL &&
       !g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT32 - 1, &gid, NULL)))
    {
      g_autofree char *printable = g_strescape (spec, NULL);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "User \"%.64s\" must be uid or uid:gid (numbers below 4294967295)", printable);
      return FALSE;
    }
  *out_uid = uid;
  *out_gid = parts[1] != NULL ? gid : uid;
  return TRUE;
}

static void
on_exec_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ExecData *data = user_data;
  CtrdContainer *self = data->container;
  GError *error = NULL;
  int exit_code;

  exit_code = ctrd_runtime_exec_finish (ctrd_daemon_get_runtime (self->daemon), result, &error);
  if (error != NULL)
    ctrd_return_error (data->invocation, error, CTRD_ERROR_RUNTIME_ERROR);
  else
    ctr_container_complete_exec (CTR_CONTAINER (self), data->invocation, NULL, exit_code);
  exec_data_free (data);
}

static JsonArray *
strv_to_json_array (char **strv)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

/* The exec'd process gets the container's process settings (capabilities,
 * rlimits, no new privileges...) from its config.json at @spec_path, with
 * its own argv, env, cwd and user; as runc exec --process takes it, the
 * process object alone. */
static char *
exec_process_json (const char *spec_path, const ExecData *data, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonNode *root;
  JsonObject *process;

  if (!json_parser_load_from_mapped_file (parser, spec_path, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "process"))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "%s has no process", spec_path);
      return NULL;
    }
  process = json_object_get_object_member (json_node_get_object (root), "process");
  json_object_set_boolean_member (process, "terminal", data->tty);
  if (data->tty)
    {
      JsonObject *size = json_object_new ();
      json_object_set_int_member (size, "height", data->rows);
      json_object_set_int_member (size, "width", data->columns);
      json_object_set_object_member (process, "consoleSize", size);
    }
  json_object_set_array_member (process, "args", strv_to_json_array (data->argv));
  json_object_set_array_member (process, "env", strv_to_json_array (data->env));
  if (data->cwd != NULL)
    json_object_set_string_member (process, "cwd", data->cwd);
  if (data->has_user)
    {
      JsonObject *user = json_object_new ();
      json_object_set_int_member (user, "uid", data->uid);
      json_object_set_int_member (user, "gid", data->gid);
      json_object_set_object_member (process, "user", user);
    }
  json_node_set_object (node, process);
  return json_to_string (node, FALSE);
}

/* Writes the exec'd process's JSON to a new file in @dir (the run dir when
 * NULL) as data->process_path (removed again with the data). */
static gboolean
write_exec_process_in (CtrdContainer *self, ExecData *data, const char *dir, GError **error)
{
  g_autofree char *bundle = ctrd_container_bundle_dir (self);
  g_autofree char *spec_path = g_build_filename (bundle, "config.json", NULL);
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *text = exec_process_json (spec_path, data, error);
  g_autofree char *name = NULL;
  g_autoptr (GError) write_error = NULL;
  ctrd_autofd int fd = -1;

  if (text == NULL)
    return FALSE;
  name = g_strdup_printf ("exec-%08x.json", g_random_int ());
  data->process_path = g_build_filename (dir != NULL ? dir : run_dir, name, NULL);
  fd = open (data->process_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ctrd_throw_errno (error, "Cannot write %s", data->process_path);
  if (!ctrd_fd_write_all (fd, text, strlen (text), NULL, &write_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Cannot write %s: %s",
                   data->process_path, write_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_exec_process (CtrdContainer *self, ExecData *data, GError **error)
{
  return write_exec_process_in (self, data, NULL, error);
}

char *
ctrd_container_write_process_file (CtrdContainer *self, const char *const *argv, const char *dir,
                                   GError **error)
{
  ExecData data = { .argv = (char **) argv, .env = self->config->env };

  if (!write_exec_process_in (self, &data, dir, error))
    {
      if (data.process_path != NULL)
        (void) unlink (data.process_path);
      g_free (data.process_path);
      return NULL;
    }
  return data.process_path;
}

static void
on_exec_session_exited (int exit_code, gpointer user_data)
{
  ExecData *data = user_data;

  ctr_container_complete_exec (CTR_CONTAINER (data->container), data->invocation, NULL,
                               exit_code);
  data->invocation = NULL;
}

/* Exec with Tty (@with_fds: relayed to the caller's stdin and stdout) or
 * ExecTerminal (a socket): the process on a terminal, as an ExecSession.
 * Takes @data; answers its invocation. */
static void
start_exec_session (CtrdContainer *self, ExecData *data, gboolean with_fds)
{
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  GDBusMethodInvocation *invocation = data->invocation;
  CtrdExecSessionSetup setup = {
    .container_path = self->object_path,
    .container_id = self->config->id,
    .argv = data->argv,
    .starter_uid = ctrd_authority_get_caller_uid (invocation),
    .rows = data->rows,
    .columns = data->columns,
    .process_path = data->process_path,
    .run_dir = run_dir,
  };
  GError *error = NULL;
  CtrdExecSession *session;
  int in_fd = with_fds ? ctrd_steal_fd (&data->fds[0]) : -1;
  int out_fd = with_fds ? ctrd_steal_fd (&data->fds[1]) : -1;

  ctrd_close_fd (&data->fds[2]); /* the terminal is the process's stderr */
  ctrd_container_emit_event (self, "exec");
  session = ctrd_exec_session_start (self->daemon, &setup, in_fd, out_fd,
                                     with_fds ? on_exec_session_exited : NULL, data,
                                     (GDestroyNotify) exec_data_free, &error);
  if (session == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
      return;
    }
  /* the session removes the file once the process is done with it */
  g_clear_pointer (&data->process_path, g_free);
  if (!with_fds)
    {
      ctr_container_complete_exec_terminal (CTR_CONTAINER (self), invocation,
                                            ctrd_exec_session_get_socket_path (session),
                                            ctrd_exec_session_get_object_path (session));
      data->invocation = NULL;
    }
}

/* The authorized call's state check and process file; FALSE when it was
 * answered with an error (and @data freed), else @data holds @invocation. */
static gboolean
prepare_exec (CtrdContainer *self, GDBusMethodInvocation *invocation, ExecData *data,
              const char *what)
{
  GError *error = NULL;

  if (self->run.state != CTRD_STATE_RUNNING || self->op != CTRD_OP_NONE)
    {
      ctrd_container_return_invalid_state (self, invocation, what);
      exec_data_free (data);
      return FALSE;
    }
  if (!write_exec_process (self, data, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      exec_data_free (data);
      return FALSE;
    }
  data->invocation = invocation;
  return TRUE;
}

/* Takes @user_data, the checked call; once the runtime has it, on_exec_done
 * frees it. */
static void
exec_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  ExecData *data = user_data;
  int fds[3];

  if (!prepare_exec (self, invocation, data, "run Exec (it must be running)"))
    return;
  if (data->tty)
    {
      start_exec_session (self, data, TRUE);
      return;
    }
  for (guint i = 0; i < 3; i++)
    {
      fds[i] = data->fds[i];
      data->fds[i] = -1;
    }
  ctrd_container_emit_event (self, "exec");
  ctrd_runtime_exec_async (ctrd_daemon_get_runtime (self->daemon), self->config->id,
                           data->process_path, fds[0], fds[1], fds[2], NULL, on_exec_done, data);
}

/* The terminal options (Tty, Rows, Columns) into @data; @method's
 * terminal is implied when @tty_implied. */
static gboolean
parse_terminal_options (ExecData *data, GVariant *options, const char *method,
                        gboolean tty_implied, GError **error)
{
  gboolean has_rows, has_columns;

  data->tty = tty_implied;
  if (!tty_implied)
    g_variant_lookup (options, "Tty", "b", &data->tty);
  has_rows = g_variant_lookup (options, "Rows", "q", &data->rows);
  has_columns = g_variant_lookup (options, "Columns", "q", &data->columns);
  if ((has_rows || has_columns) && !data->tty)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s Rows and Columns size a terminal: they need Tty", method);
      return FALSE;
    }
  if ((has_rows && data->rows == 0) || (has_columns && data->columns == 0))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s Rows and Columns must be 1 to 65535", method);
      return FALSE;
    }
  if (!has_rows)
    data->rows = DEFAULT_ROWS;
  if (!has_columns)
    data->columns = DEFAULT_COLUMNS;
  return TRUE;
}

/* Exec's options and command, before anything is taken from them. */
static gboolean
check_exec_call (const char *const *argv, GVariant *options, const char *method, GError **error)
{
  g_autofree char *argv_what = g_strdup_printf ("%s argv", method);

  if (!ctrd_validate_options (options, exec_options, G_N_ELEMENTS (exec_options), method, error) ||
      !ctrd_validate_string_array (argv, CTRD_MAX_ARGV_ELEMENTS, argv_what, error))
    return FALSE;
  if (argv[0] == NULL || argv[0][0] == '\0')
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s needs a command", method);
      return FALSE;
    }
  return TRUE;
}

/* The container's env with the Env option's entries after it (a later
 * KEY= wins in the runtime); NULL when an entry is not KEY=VALUE. */
static char **
exec_env (CtrdContainer *self, GVariant *options, GError **error)
{
  g_autoptr (GVariant) env = g_variant_lookup_value (options, "Env", G_VARIANT_TYPE ("as"));
  g_autofree const char **strv = NULL;
  g_autoptr (GStrvBuilder) builder = NULL;

  if (env == NULL)
    return g_strdupv (self->config->env);
  strv = g_variant_get_strv (env, NULL);
  if (!ctrd_validate_env (strv, error))
    return NULL;
  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) self->config->env);
  g_strv_builder_addv (builder, strv);
  return g_strv_builder_end (builder);
}

/* The WorkingDir and User options into @data. */
static gboolean
parse_exec_process_options (ExecData *data, GVariant *options, GError **error)
{
  const char *cwd = NULL, *user = NULL;

  if (g_variant_lookup (options, "WorkingDir", "&s", &cwd))
    {
      if (!g_path_is_absolute (cwd) || strstr (cwd, "..") != NULL || strlen (cwd) > 4096 ||
          g_str_has_prefix (cwd, "/proc"))
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "Exec WorkingDir must be an absolute path without \"..\", "
                               "outside /proc");
          return FALSE;
        }
      data->cwd = g_strdup (cwd);
    }
  if (g_variant_lookup (options, "User", "&s", &user))
    {
      if (!parse_numeric_user (user, &data->uid, &data->gid, error))
        return FALSE;
      data->has_user = TRUE;
    }
  return TRUE;
}

/* What Exec and ExecTerminal share, checked; NULL with the error otherwise. */
static ExecData *
parse_exec_process (CtrdContainer *self, const char *const *argv, GVariant *options,
                    const char *method, gboolean tty_implied, GError **error)
{
  g_autoptr (ExecData) data = NULL;

  if (!check_exec_call (argv, options, method, error))
    return NULL;
  data = g_new0 (ExecData, 1);
  data->container = g_object_ref (self);
  data->fds[0] = data->fds[1] = data->fds[2] = -1;
  data->argv = g_strdupv ((char **) argv);
  data->env = exec_env (self, options, error);
  if (data->env == NULL || !parse_exec_process_options (data, options, error) ||
      !parse_terminal_options (data, options, method, tty_implied, error))
    return NULL;
  return g_steal_pointer (&data);
}

/* Everything Exec is given, checked; NULL with the error otherwise. */
static ExecData *
parse_exec_call (CtrdContainer *self, GUnixFDList *fd_list, const char *const *argv,
                 GVariant *options, GVariant *stdin_handle, GVariant *stdout_handle,
                 GVariant *stderr_handle, GError **error)
{
  g_autoptr (ExecData) data = parse_exec_process (self, argv, options, "Exec", FALSE, error);

  if (data == NULL)
    return NULL;
  if ((data->fds[0] = ctrd_take_fd_argument (fd_list, stdin_handle, 3, EXEC_STDIN_RULES,
                                             "Exec stdin", error)) < 0 ||
      (data->fds[1] = ctrd_take_fd_argument (fd_list, stdout_handle, 3, EXEC_OUTPUT_RULES,
                                             "Exec stdout", error)) < 0 ||
      (data->fds[2] = ctrd_take_fd_argument (fd_list, stderr_handle, 3, EXEC_OUTPUT_RULES,
                                             "Exec stderr", error)) < 0)
    return NULL;
  return g_steal_pointer (&data);
}

static gboolean
handle_exec (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
             const char *const *argv, GVariant *options, GVariant *stdin_handle,
             GVariant *stdout_handle, GVariant *stderr_handle)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  ExecData *data = parse_exec_call (self, fd_list, argv, options, stdin_handle, stdout_handle,
                                    stderr_handle, &error);

  if (data == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, exec_authorized, data,
                            exec_data_free);
  return TRUE;
}

/* Takes @user_data, the checked call. */
static void
exec_terminal_authorized (gpointer object, GDBusMethodInvocation *invocation,
                          gpointer user_data)
{
  CtrdContainer *self = object;
  ExecData *data = user_data;

  if (prepare_exec (self, invocation, data, "run ExecTerminal (it must be running)"))
    start_exec_session (self, data, FALSE);
}

static gboolean
handle_exec_terminal (CtrContainer *iface, GDBusMethodInvocation *invocation,
                      const char *const *argv, GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  ExecData *data = parse_exec_process (self, argv, options, "ExecTerminal", TRUE, &error);

  if (data == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC,
                            exec_terminal_authorized, data, exec_data_free);
  return TRUE;
}

/* ---------------------------------------------------------------- Attach */

static void
attach_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  g_autofree char *run_dir =
      ctrd_runtime_container_run_dir (ctrd_daemon_get_runtime (self->daemon), self->config->id);
  g_autofree char *bundle_dir = ctrd_container_bundle_dir (self);
  CtrdExecSessionSetup setup = {
    .container_path = self->object_path,
    .container_id = self->config->id,
    .starter_uid = ctrd_authority_get_caller_uid (invocation),
    .run_dir = run_dir,
    .attach_container = CTR_CONTAINER (self),
    .bundle_dir = bundle_dir,
  };
  GError *error = NULL;
  CtrdExecSession *session;

  if (self->run.state != CTRD_STATE_RUNNING || self->op != CTRD_OP_NONE)
    {
      ctrd_container_return_invalid_state (self, invocation, "Attach (it must be running)");
      return;
    }
  if (!self->config->tty)
    {
      g_dbus_method_invocation_return_error (
          invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
          "Container %s has no terminal to attach to (it was created without Tty)",
          self->config->name);
      return;
    }
  session = ctrd_exec_session_start (self->daemon, &setup, -1, -1, NULL, NULL, NULL, &error);
  if (session == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_RUNTIME_ERROR);
      return;
    }
  ctr_container_complete_attach (CTR_CONTAINER (self), invocation,
                                 ctrd_exec_session_get_socket_path (session),
                                 ctrd_exec_session_get_object_path (session));
}

static gboolean
handle_attach (CtrContainer *iface, GDBusMethodInvocation *invocation, GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;

  if (!ctrd_validate_options (options, NULL, 0, "Attach", &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, attach_authorized, NULL,
                            NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- GetLogs, ReadLogs */

static const CtrdOptionSpec log_options[] = {
  { "Follow", "b" },
  { "Tail", "x" },
  { "Since", "t" },
  { "Timestamps", "b" },
};

static char *
log_path (CtrdContainer *self)
{
  g_autofree char *bundle = ctrd_container_bundle_dir (self);

  return g_build_filename (bundle, "ctr.log", NULL);
}

/* Whether the run a followed log belongs to is still going, shared with the
 * stream threads: conmon has drained the output before it writes the exit
 * file, so once the exit is recorded the log is complete and a follower can
 * stop, without waiting for conmon itself to go. */
struct _CtrdLogLive
{
  gint refcount;
  gint live;
};

static CtrdLogLive *
log_live_new (gboolean live)
{
  CtrdLogLive *flag = g_new0 (CtrdLogLive, 1);

  flag->refcount = 1;
  flag->live = live;
  return flag;
}

static CtrdLogLive *
log_live_ref (CtrdLogLive *flag)
{
  g_atomic_int_inc (&flag->refcount);
  return flag;
}

void
ctrd_log_live_unref (CtrdLogLive *flag)
{
  if (flag != NULL && g_atomic_int_dec_and_test (&flag->refcount))
    g_free (flag);
}

static void
log_live_end (CtrdLogLive *flag)
{
  if (flag != NULL)
    g_atomic_int_set (&flag->live, FALSE);
}

void
ctrd_container_logs_run_started (CtrdContainer *self)
{
  log_live_end (self->log_live);
  g_clear_pointer (&self->log_live, ctrd_log_live_unref);
  self->log_live = log_live_new (TRUE);
}

void
ctrd_container_logs_run_ended (CtrdContainer *self)
{
  log_live_end (self->log_live);
}

/* At most this many GetLogs streams at once: each holds a thread. */
#define MAX_LOG_STREAMS 64
static gint active_log_streams;

typedef struct
{
  char *path;
  int out_fd;
  CtrdLogsStreamOptions options;
  guint32 conmon_pid; /* the stream follows while this conmon lives */
  CtrdLogLive *live;  /* ... and while the run has not ended */
} LogStream;

static gboolean
conmon_still_writing (gpointer user_data)
{
  LogStream *stream = user_data;

  return g_atomic_int_get (&stream->live->live) && stream->conmon_pid != 0 &&
         ctrd_runtime_pid_alive (stream->conmon_pid);
}

static void
log_stream_free (LogStream *stream)
{
  ctrd_close_fd (&stream->out_fd);
  ctrd_log_live_unref (stream->live);
  g_free (stream->path);
  g_free (stream);
}

static gpointer
log_stream_thread (gpointer user_data)
{
  LogStream *stream = user_data;
  g_autoptr (GError) error = NULL;

  if (!ctrd_logs_stream (stream->path, stream->out_fd, &stream->options, conmon_still_writing,
                         stream, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    g_message ("Log stream of %s: %s", stream->path, error->message);
  log_stream_free (stream);
  g_atomic_int_dec_and_test (&active_log_streams);
  return NULL;
}

/* Starts a thread that copies the log into a new pipe, following it as
 * @options say; returns the pipe's read end, or -1. */
static int
open_log_stream (CtrdContainer *self, const CtrdLogsStreamOptions *options, GError **error)
{
  LogStream *stream;
  GThread *thread;
  int fds[2];
  ctrd_autofd int read_fd = -1;

  if (g_atomic_int_add (&active_log_streams, 1) >= MAX_LOG_STREAMS)
    {
      g_atomic_int_dec_and_test (&active_log_streams);
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                           "too many log streams are open");
      return -1;
    }
  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "pipe");
      g_atomic_int_dec_and_test (&active_log_streams);
      return -1;
    }
  read_fd = fds[0];
  stream = g_new0 (LogStream, 1);
  stream->path = log_path (self);
  stream->out_fd = fds[1];
  stream->options = *options;
  stream->conmon_pid = ctrd_container_is_live_state (self->run.state) ? self->run.conmon_pid : 0;
  if (stream->conmon_pid != 0 && self->log_live == NULL)
    /* running since before the daemon (re)started */
    self->log_live = log_live_new (TRUE);
  stream->live = self->log_live != NULL && stream->conmon_pid != 0 ? log_live_ref (self->log_live)
                                                                   : log_live_new (FALSE);
  /* Its own thread: a followed log may stream for days, which must not
   * hold one of GTask's pool threads. */
  thread = g_thread_try_new ("log-stream", log_stream_thread, stream, error);
  if (thread == NULL)
    {
      log_stream_free (stream);
      g_atomic_int_dec_and_test (&active_log_streams);
      return -1;
    }
  g_thread_unref (thread);
  return ctrd_steal_fd (&read_fd);
}

/* @user_data: the CtrdLogsStreamOptions (taken). */
static void
get_logs_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdContainer *self = object;
  g_autofree CtrdLogsStreamOptions *options = user_data;
  g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
  GError *error = NULL;
  ctrd_autofd int fd = open_log_stream (self, options, &error);

  if (fd < 0)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_FAILED);
      return;
    }
  g_unix_fd_list_append (fd_list, fd, NULL);
  ctr_container_complete_get_logs (CTR_CONTAINER (self), invocation, fd_list,
                                   g_variant_new_handle (0));
}

static gboolean
handle_get_logs (CtrContainer *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                 GVariant *options)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  GError *error = NULL;
  CtrdLogsStreamOptions stream_options = { .tail = -1 };

  if (!ctrd_validate_options (options, log_options, G_N_ELEMENTS (log_options), "GetLogs", &error))
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  g_variant_lookup (options, "Follow", "b", &stream_options.follow);
  g_variant_lookup (options, "Tail", "x", &stream_options.tail);
  g_variant_lookup (options, "Since", "t", &stream_options.since_usec);
  g_variant_lookup (options, "Timestamps", "b", &stream_options.timestamps);
  if (stream_options.tail < -1)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "Container %s: Tail must be -1 (all) or at least 0",
                                             self->config->name);
      return TRUE;
    }
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, get_logs_authorized,
                            g_memdup2 (&stream_options, sizeof stream_options), g_free);
  return TRUE;
}

#define MAX_READ_LOG_LINES 10000

typedef struct
{
  char *path;
  guint64 cursor;
  guint max_lines;
  guint64 next_cursor;
  GDBusMethodInvocation *invocation;
} ReadLogsData;

static void
read_logs_data_free (gpointer user_data)
{
  ReadLogsData *data = user_data;

  g_free (data->path);
  g_free (data);
}

static void
read_logs_thread (GTask *task, gpointer source_object, gpointer task_data,
                  GCancellable *cancellable)
{
  ReadLogsData *data = task_data;
  GError *error = NULL;
  GPtrArray *entries =
      ctrd_logs_read (data->path, data->cursor, data->max_lines, &data->next_cursor, &error);

  if (entries == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_read_logs_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);
  ReadLogsData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  g_autoptr (GPtrArray) entries = g_task_propagate_pointer (G_TASK (result), &error);
  GVariantBuilder builder;

  if (entries == NULL)
    {
      g_prefix_error (&error, "Container %s: ", self->config->name);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tss)"));
  for (guint i = 0; i < entries->len; i++)
    {
      CtrdLogEntry *entry = entries->pdata[i];
      g_variant_builder_add (&builder, "(tss)", entry->time_usec,
                             entry->is_stderr ? "stderr" : "stdout", entry->text);
    }
  ctr_container_complete_read_logs (CTR_CONTAINER (self), data->invocation,
                                    g_variant_builder_end (&builder), data->next_cursor);
}

/* Takes @user_data, the ReadLogsData, for the worker. */
static void
read_logs_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  ReadLogsData *data = user_data;
  g_autoptr (GTask) task = g_task_new (object, NULL, on_read_logs_done, NULL);

  data->invocation = invocation;
  g_task_set_task_data (task, data, read_logs_data_free);
  g_task_run_in_thread (task, read_logs_thread);
}

static gboolean
handle_read_logs (CtrContainer *iface, GDBusMethodInvocation *invocation, guint64 cursor,
                  guint max_lines)
{
  CtrdContainer *self = CTRD_CONTAINER (iface);
  ReadLogsData *data;

  if (max_lines == 0 || max_lines > MAX_READ_LOG_LINES)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "Container %s: max_lines must be 1 to %d",
                                             self->config->name, MAX_READ_LOG_LINES);
      return TRUE;
    }
  data = g_new0 (ReadLogsData, 1);
  data->path = log_path (self);
  data->cursor = cursor;
  data->max_lines = max_lines;
  ctrd_container_authorize (self, invocation, CTRD_ACTION_CONTAINER_EXEC, read_logs_authorized,
                            data, read_logs_data_free);
  return TRUE;
}

void
ctrd_container_exec_iface_init (CtrContainerIface *iface)
{
  iface->handle_exec = handle_exec;
  iface->handle_exec_terminal = handle_exec_terminal;
  iface->handle_attach = handle_attach;
  iface->handle_get_logs = handle_get_logs;
  iface->handle_read_logs = handle_read_logs;
}
