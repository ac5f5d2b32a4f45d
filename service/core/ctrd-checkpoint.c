/* ctrd-checkpoint.c: the CRIU verdict and the runtime's checkpoint verb. */
#include "config.h"

#include "ctrd-checkpoint.h"

#include <string.h>

#include "ctrd-error.h"

typedef enum
{
  VERDICT_UNKNOWN,
  VERDICT_CHECKING,
  VERDICT_WORKS,
  VERDICT_FAILS,
} Verdict;

static Verdict verdict = VERDICT_UNKNOWN;
static char *verdict_message; /* why it fails */
static GPtrArray *verdict_waiters; /* GTask* */

static void
answer (GTask *task)
{
  if (verdict == VERDICT_WORKS)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR, "%s", verdict_message);
}

/* The last line that says "Error", else the last line. */
static char *
last_error_line (const char *output)
{
  g_auto (GStrv) lines = g_strsplit (output != NULL ? output : "", "\n", -1);
  const char *found = NULL;

  for (char **line = lines; *line != NULL; line++)
    {
      g_strstrip (*line);
      if (**line == '\0')
        continue;
      if (found == NULL || strstr (*line, "Error") != NULL || strstr (found, "Error") == NULL)
        found = *line;
    }
  return g_strdup (found != NULL ? found : "no output");
}

static void
on_check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *output = NULL;
  g_autoptr (GPtrArray) waiters = g_steal_pointer (&verdict_waiters);

  if (!g_subprocess_communicate_utf8_finish (proc, result, &output, NULL, &error))
    {
      verdict = VERDICT_FAILS;
      verdict_message = g_strdup_printf ("criu check did not run: %s", error->message);
    }
  else if (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0)
    verdict = VERDICT_WORKS;
  else
    {
      g_autofree char *line = last_error_line (output);

      verdict = VERDICT_FAILS;
      verdict_message = g_strdup_printf ("CRIU cannot checkpoint on this host: criu check "
                                         "failed: %s", line);
    }
  g_object_unref (proc);
  for (guint i = 0; i < waiters->len; i++)
    answer (waiters->pdata[i]);
}

void
ctrd_criu_check_async (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *criu = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;

  g_task_set_source_tag (task, ctrd_criu_check_async);
  if (verdict == VERDICT_WORKS || verdict == VERDICT_FAILS)
    {
      answer (task);
      return;
    }
  if (verdict == VERDICT_CHECKING)
    {
      g_ptr_array_add (verdict_waiters, g_steal_pointer (&task));
      return;
    }
  criu = g_find_program_in_path ("criu");
  if (criu == NULL && g_file_test ("/usr/sbin/criu", G_FILE_TEST_IS_EXECUTABLE))
    criu = g_strdup ("/usr/sbin/criu");
  if (criu == NULL)
    {
      /* not cached: it may be installed later */
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                               "CRIU is not installed (Debian package criu)");
      return;
    }
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE |
                               G_SUBPROCESS_FLAGS_STDIN_INHERIT,
                           &error, criu, "check", NULL);
  if (proc == NULL)
    {
      g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                               "Cannot run %s check: %s", criu, error->message);
      return;
    }
  verdict = VERDICT_CHECKING;
  verdict_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (verdict_waiters, g_steal_pointer (&task));
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_check_done, NULL);
}

gboolean
ctrd_criu_check_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ctrd_criu_check_reset (void)
{
  if (verdict == VERDICT_CHECKING)
    return;
  verdict = VERDICT_UNKNOWN;
  g_clear_pointer (&verdict_message, g_free);
}
