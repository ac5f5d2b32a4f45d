/* ctrd-runtime-probe.c: a process run inside a container under conmon with
 * a timeout, its output kept: what health checks need.
 *
 * conmon --exec --sync stays the daemon's child. Through the sync pipe it
 * writes one JSON line {"data": PID} once the runtime started the process
 * (or {"data": -1, "message": ...} when it could not), then {"data": CODE}
 * when the process ended, CODE -1 with "message": "command timed out" when
 * it killed it at -T. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-json.h"
#include "ctrd-logs.h"
#include "ctrd-runtime.h"
#include "ctrd-runtime-private.h"

/* How long conmon may outlive the timeout it enforces before it is killed. */
#define CONMON_GRACE_SECONDS 30
/* The log conmon writes: enough for the head of the output. */
#define PROBE_LOG_MAX "65536"
#define PROBE_TIMED_OUT_MESSAGE "command timed out"

typedef struct
{
  CtrdRuntime *runtime;
  char *id;
  char *work_dir;
  gsize max_output;
  GSubprocess *conmon;
  GDataInputStream *sync_stream;
  GPtrArray *sync_lines; /* char*, as read */
  char *conmon_stderr;
  guint pending; /* the sync stream's end and conmon's exit */
  GSource *deadline;
  gboolean conmon_killed; /* at the deadline */
  GCancellable *cancellable;
  gulong cancelled_id;
} ProbeData;

void
ctrd_probe_result_free (CtrdProbeResult *result)
{
  if (result == NULL)
    return;
  g_free (result->error_message);
  g_free (result->output);
  g_free (result);
}

static void
probe_data_free (gpointer user_data)
{
  ProbeData *data = user_data;

  if (data->deadline != NULL)
    {
      g_source_destroy (data->deadline);
      g_source_unref (data->deadline);
    }
  if (data->cancelled_id != 0)
    g_cancellable_disconnect (data->cancellable, data->cancelled_id);
  g_clear_object (&data->conmon);
  g_clear_object (&data->sync_stream);
  g_clear_pointer (&data->sync_lines, g_ptr_array_unref);
  g_free (data->conmon_stderr);
  g_clear_object (&data->cancellable);
  g_free (data->work_dir);
  g_free (data->id);
  runtime_unref (data->runtime);
  g_free (data);
}

/* One sync line's "data" (G_MININT when absent) and "message". */
static int
parse_sync_line (const char *line, char **out_message)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object = ctrd_json_parse_object (parser, line, "conmon", NULL);
  JsonNode *data;

  if (object == NULL)
    return G_MININT;
  if (out_message != NULL && json_object_has_member (object, "message"))
    *out_message = g_strdup (json_object_get_string_member (object, "message"));
  data = json_object_get_member (object, "data");
  if (data == NULL || !JSON_NODE_HOLDS_VALUE (data) ||
      json_node_get_value_type (data) != G_TYPE_INT64)
    return G_MININT;
  return (int) CLAMP (json_node_get_int (data), G_MININT + 1, G_MAXINT);
}

/* What the sync lines say, the output still to be read. */
static CtrdProbeResult *
result_from_sync (ProbeData *data)
{
  CtrdProbeResult *result = g_new0 (CtrdProbeResult, 1);
  g_autofree char *message = NULL;
  int started = data->sync_lines->len > 0
                    ? parse_sync_line (data->sync_lines->pdata[0], &message)
                    : G_MININT;

  result->exit_code = -1;
  if (data->conmon_killed)
    result->timed_out = TRUE;
  else if (started == G_MININT || started < 0)
    result->error_message =
        message != NULL ? g_strchomp (g_steal_pointer (&message))
                        : g_strdup_printf ("conmon did not start it%s%s",
                                           data->conmon_stderr != NULL ? ": " : "",
                                           data->conmon_stderr != NULL
                                               ? g_strchomp (data->conmon_stderr)
                                               : "");
  else if (data->sync_lines->len < 2)
    result->error_message = g_strdup ("conmon ended without its exit code");
  else
    {
      g_autofree char *end_message = NULL;
      int code = parse_sync_line (data->sync_lines->pdata[1], &end_message);

      if (code == -1 && g_strcmp0 (end_message, PROBE_TIMED_OUT_MESSAGE) == 0)
        result->timed_out = TRUE;
      else if (code < 0)
        result->error_message = g_strdup_printf (
            "conmon gave no exit code (%s)", end_message != NULL ? end_message : "no message");
      else
        result->exit_code = code;
    }
  return result;
}

/* Worker: the head of the output, then the work files go. */
static void
read_output_thread (GTask *task, gpointer source_object, gpointer task_data,
                    GCancellable *cancellable)
{
  ProbeData *data = task_data;
  g_autoptr (CtrdProbeResult) result = result_from_sync (data);
  g_autofree char *log_path = g_build_filename (data->work_dir, "output.log", NULL);
  g_autofree char *pid_path = g_build_filename (data->work_dir, "pidfile", NULL);
  g_autoptr (GString) output = g_string_new (NULL);
  guint64 next_cursor = 0;
  g_autoptr (GPtrArray) entries = ctrd_logs_read (log_path, 0, 1000, &next_cursor, NULL);

  for (guint i = 0; entries != NULL && i < entries->len && output->len < data->max_output; i++)
    {
      const CtrdLogEntry *entry = entries->pdata[i];

      if (i > 0)
        g_string_append_c (output, '\n');
      g_string_append (output, entry->text);
    }
  if (output->len > data->max_output)
    g_string_truncate (output, data->max_output);
  result->output_len = output->len;
  result->output = g_string_free (g_steal_pointer (&output), FALSE);
  (void) unlink (log_path);
  (void) unlink (pid_path);
  g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) ctrd_probe_result_free);
}

static void
probe_step_done (GTask *task)
{
  ProbeData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;
  if (data->deadline != NULL)
    {
      g_source_destroy (data->deadline);
      g_clear_pointer (&data->deadline, g_source_unref);
    }
  if (g_cancellable_is_cancelled (data->cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Container %s: the check was cancelled", data->id);
      return;
    }
  g_task_run_in_thread (task, read_output_thread);
}

static void
on_sync_line (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  char *line = g_data_input_stream_read_line_finish_utf8 (data->sync_stream, res, NULL, NULL);

  /* two lines at most are meaningful; EOF or an error ends the stream */
  if (line != NULL && data->sync_lines->len < 2)
    {
      g_ptr_array_add (data->sync_lines, line);
      g_data_input_stream_read_line_async (data->sync_stream, G_PRIORITY_DEFAULT, NULL,
                                           on_sync_line, g_steal_pointer (&task));
      return;
    }
  g_free (line);
  probe_step_done (task);
}

static void
on_conmon_exited (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);

  g_subprocess_communicate_utf8_finish (data->conmon, res, NULL, &data->conmon_stderr, NULL);
  probe_step_done (task);
}

static gboolean
on_deadline (gpointer user_data)
{
  ProbeData *data = user_data;

  g_warning ("Container %s: conmon outlived the check's timeout; killing it", data->id);
  data->conmon_killed = TRUE;
  g_subprocess_force_exit (data->conmon);
  g_clear_pointer (&data->deadline, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GSubprocess *conmon = user_data;

  g_subprocess_force_exit (conmon);
}

static GSubprocess *
spawn_probe_conmon (CtrdRuntime *runtime, const char *id, const char *process_json_path,
                    const char *work_dir, guint timeout_seconds, int sync_write_fd,
                    GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      ctrd_runtime_new_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *pidfile = g_build_filename (work_dir, "pidfile", NULL);
  g_autofree char *log_arg = g_strconcat ("k8s-file:", work_dir, "/output.log", NULL);
  g_autofree char *timeout = g_strdup_printf ("%u", timeout_seconds);
  g_autofree char *session = g_strdup_printf ("probe-%08x", g_random_int ());
  g_autofree char *syncpipe = g_strdup_printf ("%d", SYNC_PIPE_TARGET_FD);
  GSubprocess *conmon;
  /* no --exit-dir or --persist-dir: conmon would write this process's code
   * where the container's own goes; no bundle: no attach socket */
  /* clang-format off */
  const char *const argv[] = {
    runtime->conmon_path,
    "--api-version", "1",
    "-c", id,
    "-u", session,
    "-r", runtime->runtime_path,
    "-e", "--exec-process-spec", process_json_path,
    "-p", pidfile,
    "-l", log_arg,
    "--log-size-max", PROBE_LOG_MAX,
    "--log-level", "warning",
    "--runtime-arg", "--root",
    "--runtime-arg", runtime->runtime_root,
    "-T", timeout,
    "--sync",
    NULL,
  };
  /* clang-format on */

  g_subprocess_launcher_setenv (launcher, "_OCI_SYNCPIPE", syncpipe, TRUE);
  g_subprocess_launcher_take_fd (launcher, sync_write_fd, SYNC_PIPE_TARGET_FD);
  conmon = g_subprocess_launcher_spawnv (launcher, argv, error);
  g_subprocess_launcher_close (launcher);
  return conmon;
}

void
ctrd_runtime_probe_async (CtrdRuntime *runtime, const char *id, const char *process_json_path,
                          const char *work_dir, guint timeout_seconds, gsize max_output,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) sync_read = NULL;
  ProbeData *data;
  int sync_pipe[2];

  g_task_set_source_tag (task, ctrd_runtime_probe_async);
  if (!runtime_check_id (id, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (pipe2 (sync_pipe, O_CLOEXEC) != 0)
    {
      ctrd_throw_errno_code (&error, CTRD_ERROR_RUNTIME_ERROR,
                             "Container %s: creating the sync pipe", id);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  sync_read = g_unix_input_stream_new (sync_pipe[0], TRUE);

  data = g_new0 (ProbeData, 1);
  data->runtime = runtime_ref (runtime);
  data->id = g_strdup (id);
  data->work_dir = g_strdup (work_dir);
  data->max_output = max_output;
  data->sync_lines = g_ptr_array_new_with_free_func (g_free);
  data->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  g_task_set_task_data (task, data, probe_data_free);

  data->conmon = spawn_probe_conmon (runtime, id, process_json_path, work_dir, timeout_seconds,
                                     sync_pipe[1], &error);
  if (data->conmon == NULL)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                               "Container %s: starting %s: %s", id, runtime->conmon_path,
                               error->message);
      return;
    }
  data->sync_stream = g_data_input_stream_new (sync_read);
  g_data_input_stream_set_newline_type (data->sync_stream, G_DATA_STREAM_NEWLINE_TYPE_LF);
  data->deadline = g_timeout_source_new_seconds (timeout_seconds + CONMON_GRACE_SECONDS);
  g_source_set_callback (data->deadline, on_deadline, data, NULL);
  g_source_attach (data->deadline, g_task_get_context (task));
  /* the handler's data is the subprocess, which the task data keeps alive
   * until it disconnects the handler */
  data->cancelled_id =
      g_cancellable_connect (data->cancellable, G_CALLBACK (on_cancelled), data->conmon, NULL);

  data->pending = 2;
  g_data_input_stream_read_line_async (data->sync_stream, G_PRIORITY_DEFAULT, NULL, on_sync_line,
                                       g_object_ref (task));
  g_subprocess_communicate_utf8_async (data->conmon, NULL, NULL, on_conmon_exited,
                                       g_object_ref (task));
}

CtrdProbeResult *
ctrd_runtime_probe_finish (CtrdRuntime *runtime, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ctrd_runtime_probe_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
