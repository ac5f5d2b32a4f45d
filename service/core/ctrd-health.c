/* ctrd-health.c: health check settings, results and status. */
#include "config.h"

#include <string.h>

#include "ctrd-error.h"
#include "ctrd-health.h"
#include "ctrd-json.h"

static const char *const action_names[] = {
  [CTRD_HEALTH_ACTION_NONE] = "none",
  [CTRD_HEALTH_ACTION_KILL] = "kill",
  [CTRD_HEALTH_ACTION_RESTART] = "restart",
  [CTRD_HEALTH_ACTION_STOP] = "stop",
};

static const char *const status_names[] = {
  [CTRD_HEALTH_NONE] = "",
  [CTRD_HEALTH_STARTING] = "starting",
  [CTRD_HEALTH_HEALTHY] = "healthy",
  [CTRD_HEALTH_UNHEALTHY] = "unhealthy",
};

/* ---------------------------------------------------------------- settings */

void
ctrd_health_config_init (CtrdHealthConfig *config)
{
  config->cmd = NULL;
  config->interval = CTRD_HEALTH_DEFAULT_INTERVAL;
  config->timeout = CTRD_HEALTH_DEFAULT_TIMEOUT;
  config->start_period = CTRD_HEALTH_DEFAULT_START_PERIOD;
  config->retries = CTRD_HEALTH_DEFAULT_RETRIES;
  config->on_failure = CTRD_HEALTH_ACTION_NONE;
}

void
ctrd_health_config_clear (CtrdHealthConfig *config)
{
  g_clear_pointer (&config->cmd, g_strfreev);
}

void
ctrd_health_config_copy (const CtrdHealthConfig *from, CtrdHealthConfig *to)
{
  *to = *from;
  to->cmd = g_strdupv (from->cmd);
}

gboolean
ctrd_health_config_enabled (const CtrdHealthConfig *config)
{
  return config->cmd != NULL;
}

const char *
ctrd_health_action_to_string (CtrdHealthAction action)
{
  return action_names[action];
}

static gboolean
action_from_string (const char *text, CtrdHealthAction *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (action_names); i++)
    if (g_str_equal (text, action_names[i]))
      {
        *out = (CtrdHealthAction) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
ctrd_health_request_empty (const CtrdHealthRequest *request)
{
  return !request->has_cmd && !request->has_interval && !request->has_timeout &&
         !request->has_start_period && !request->has_retries && request->on_failure == NULL;
}

/* The argv a HealthCmd stands for, or NULL with an error. */
static char **
normalize_cmd (const char *const *cmd, const char *what, GError **error)
{
  guint n = cmd != NULL ? g_strv_length ((char **) cmd) : 0;
  gsize bytes = 0;

  if (n == 0 || *cmd[0] == '\0')
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: HealthCmd must name a command (it is empty)", what);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    bytes += strlen (cmd[i]) + 1;
  if (n > CTRD_HEALTH_MAX_ARGS || bytes > CTRD_HEALTH_MAX_CMD_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "%s: HealthCmd is over the limit of %d elements and %d bytes", what,
                   CTRD_HEALTH_MAX_ARGS, CTRD_HEALTH_MAX_CMD_BYTES);
      return NULL;
    }
  if (g_str_equal (cmd[0], "CMD-SHELL"))
    {
      const char *shell[] = { "/bin/sh", "-c", cmd[1], NULL };

      if (n != 2 || *cmd[1] == '\0')
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "%s: HealthCmd [\"CMD-SHELL\", ...] takes one non-empty command line",
                       what);
          return NULL;
        }
      return g_strdupv ((char **) shell);
    }
  if (g_str_equal (cmd[0], "CMD"))
    return normalize_cmd (cmd + 1, what, error);
  return g_strdupv ((char **) cmd);
}

/* A time or count given in @request: inside @min..@max. */
static gboolean
check_value (const char *key, guint32 value, guint32 min, guint32 max, const char *what,
             GError **error)
{
  if (value >= min && value <= max)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "%s: %s must be between %u and %u (it is %u)", what, key, min, max, value);
  return FALSE;
}

static gboolean
check_request_values (const CtrdHealthRequest *request, const char *what, GError **error)
{
  return (!request->has_interval ||
          check_value ("HealthInterval", request->interval, 1, CTRD_HEALTH_MAX_SECONDS, what,
                       error)) &&
         (!request->has_timeout ||
          check_value ("HealthTimeout", request->timeout, 1, CTRD_HEALTH_MAX_SECONDS, what,
                       error)) &&
         (!request->has_start_period ||
          check_value ("HealthStartPeriod", request->start_period, 0, CTRD_HEALTH_MAX_SECONDS,
                       what, error)) &&
         (!request->has_retries ||
          check_value ("HealthRetries", request->retries, 1, CTRD_HEALTH_MAX_RETRIES, what,
                       error));
}

gboolean
ctrd_health_config_apply (CtrdHealthConfig *config, const CtrdHealthRequest *request,
                          const char *what, GError **error)
{
  g_auto (GStrv) cmd = NULL;
  CtrdHealthAction action = config->on_failure;

  if (!check_request_values (request, what, error))
    return FALSE;
  if (request->on_failure != NULL && !action_from_string (request->on_failure, &action))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: HealthOnFailure must be none, kill, restart or stop (not \"%s\")", what,
                   request->on_failure);
      return FALSE;
    }
  if (request->has_cmd && (cmd = normalize_cmd (request->cmd, what, error)) == NULL)
    return FALSE;
  if (cmd == NULL && config->cmd == NULL && !ctrd_health_request_empty (request))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: health check settings need a HealthCmd", what);
      return FALSE;
    }
  if (cmd != NULL)
    {
      g_strfreev (config->cmd);
      config->cmd = g_steal_pointer (&cmd);
    }
  if (request->has_interval)
    config->interval = request->interval;
  if (request->has_timeout)
    config->timeout = request->timeout;
  if (request->has_start_period)
    config->start_period = request->start_period;
  if (request->has_retries)
    config->retries = request->retries;
  config->on_failure = action;
  return TRUE;
}

void
ctrd_health_config_add_json (const CtrdHealthConfig *config, JsonBuilder *builder,
                             const char *member)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  if (config->cmd != NULL)
    ctrd_json_add_strv (builder, "cmd", (const char *const *) config->cmd);
  ctrd_json_add_int (builder, "interval", config->interval);
  ctrd_json_add_int (builder, "timeout", config->timeout);
  ctrd_json_add_int (builder, "start_period", config->start_period);
  ctrd_json_add_int (builder, "retries", config->retries);
  ctrd_json_add_string (builder, "on_failure", action_names[config->on_failure]);
  json_builder_end_object (builder);
}

#define HEALTH_WHAT "Container configuration health check"

static gboolean
read_seconds (JsonObject *object, const char *member, gint64 min, gint64 max, guint32 *out,
              GError **error)
{
  gint64 value = *out;

  if (!ctrd_json_read_int (object, HEALTH_WHAT, member, min, max, &value, error))
    return FALSE;
  *out = (guint32) value;
  return TRUE;
}

gboolean
ctrd_health_config_read_json (JsonObject *object, const char *member, CtrdHealthConfig *out,
                              GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  CtrdHealthConfig config;
  g_autofree char *action = NULL;
  JsonObject *health;

  ctrd_health_config_init (&config);
  if (node == NULL)
    {
      *out = config;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return ctrd_json_field_error ("Container configuration", member, "an object", error);
  health = json_node_get_object (node);
  if (!ctrd_json_read_strv (health, HEALTH_WHAT, "cmd", &config.cmd, error) ||
      !read_seconds (health, "interval", 1, CTRD_HEALTH_MAX_SECONDS, &config.interval, error) ||
      !read_seconds (health, "timeout", 1, CTRD_HEALTH_MAX_SECONDS, &config.timeout, error) ||
      !read_seconds (health, "start_period", 0, CTRD_HEALTH_MAX_SECONDS, &config.start_period,
                     error) ||
      !read_seconds (health, "retries", 1, CTRD_HEALTH_MAX_RETRIES, &config.retries, error) ||
      !ctrd_json_read_string (health, HEALTH_WHAT, "on_failure", &action, error))
    {
      ctrd_health_config_clear (&config);
      return FALSE;
    }
  if ((action != NULL && !action_from_string (action, &config.on_failure)) ||
      (config.cmd != NULL && config.cmd[0] == NULL))
    {
      ctrd_health_config_clear (&config);
      return ctrd_json_field_error (HEALTH_WHAT, action != NULL ? "on_failure" : "cmd",
                                    "a known action and a non-empty command", error);
    }
  *out = config;
  return TRUE;
}

/* ---------------------------------------------------------------- results */

const char *
ctrd_health_status_to_string (CtrdHealthStatus status)
{
  return status_names[status];
}

static gboolean
status_from_string (const char *text, CtrdHealthStatus *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_str_equal (text, status_names[i]))
      {
        *out = (CtrdHealthStatus) i;
        return TRUE;
      }
  return FALSE;
}

CtrdHealthResult *
ctrd_health_result_new (guint64 start_usec, guint64 end_usec, int exit_code, const char *output,
                        gsize output_len)
{
  CtrdHealthResult *result = g_new0 (CtrdHealthResult, 1);
  gsize len = output != NULL ? MIN (output_len, (gsize) CTRD_HEALTH_OUTPUT_MAX) : 0;

  result->start_usec = start_usec;
  result->end_usec = end_usec;
  result->exit_code = exit_code;
  result->output = g_utf8_make_valid (output != NULL ? output : "", (gssize) len);
  /* a character cut at the limit, or invalid bytes, became U+FFFD (3
   * bytes): cut again at a character boundary */
  if (strlen (result->output) > CTRD_HEALTH_OUTPUT_MAX)
    {
      const char *cut = g_utf8_find_prev_char (result->output,
                                               result->output + CTRD_HEALTH_OUTPUT_MAX + 1);
      result->output[cut - result->output] = '\0';
    }
  return result;
}

void
ctrd_health_result_free (CtrdHealthResult *result)
{
  if (result == NULL)
    return;
  g_free (result->output);
  g_free (result);
}

CtrdHealthState *
ctrd_health_state_new (void)
{
  CtrdHealthState *state = g_new0 (CtrdHealthState, 1);

  state->log = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_health_result_free);
  return state;
}

void
ctrd_health_state_free (CtrdHealthState *state)
{
  if (state == NULL)
    return;
  g_ptr_array_unref (state->log);
  g_free (state);
}

void
ctrd_health_state_begin_run (CtrdHealthState *state, const CtrdHealthConfig *config)
{
  state->status = ctrd_health_config_enabled (config) ? CTRD_HEALTH_STARTING : CTRD_HEALTH_NONE;
  state->failing_streak = 0;
}

gboolean
ctrd_health_state_record (CtrdHealthState *state, const CtrdHealthConfig *config,
                          guint64 started_usec, CtrdHealthResult *result)
{
  CtrdHealthStatus old = state->status;
  gboolean in_start_period =
      result->start_usec < started_usec + (guint64) config->start_period * G_USEC_PER_SEC;

  if (result->exit_code == 0)
    {
      state->status = CTRD_HEALTH_HEALTHY;
      state->failing_streak = 0;
    }
  else if (!(in_start_period && state->status == CTRD_HEALTH_STARTING))
    {
      state->failing_streak++;
      if (state->failing_streak >= config->retries)
        state->status = CTRD_HEALTH_UNHEALTHY;
    }
  if (state->status == CTRD_HEALTH_NONE)
    state->status = CTRD_HEALTH_STARTING;
  g_ptr_array_add (state->log, result);
  if (state->log->len > CTRD_HEALTH_LOG_ENTRIES)
    g_ptr_array_remove_range (state->log, 0, state->log->len - CTRD_HEALTH_LOG_ENTRIES);
  return state->status != old;
}

/* ---------------------------------------------------------------- JSON */

/* RFC 3339 with microseconds, UTC. */
static char *
format_usec (guint64 usec)
{
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_utc ((gint64) (usec / G_USEC_PER_SEC));
  g_autoptr (GDateTime) time = NULL;

  if (seconds == NULL)
    return g_strdup ("");
  time = g_date_time_add (seconds, (GTimeSpan) (usec % G_USEC_PER_SEC));
  return g_date_time_format_iso8601 (time);
}

static void
add_log (const CtrdHealthState *state, JsonBuilder *builder, gboolean for_inspect)
{
  json_builder_set_member_name (builder, for_inspect ? "Log" : "log");
  json_builder_begin_array (builder);
  for (guint i = 0; i < state->log->len; i++)
    {
      const CtrdHealthResult *result = state->log->pdata[i];

      json_builder_begin_object (builder);
      if (for_inspect)
        {
          g_autofree char *start_text = format_usec (result->start_usec);
          g_autofree char *end_text = format_usec (result->end_usec);

          ctrd_json_add_string (builder, "Start", start_text);
          ctrd_json_add_string (builder, "End", end_text);
          ctrd_json_add_int (builder, "ExitCode", result->exit_code);
          ctrd_json_add_string (builder, "Output", result->output);
        }
      else
        {
          ctrd_json_add_int (builder, "start", (gint64) result->start_usec);
          ctrd_json_add_int (builder, "end", (gint64) result->end_usec);
          ctrd_json_add_int (builder, "exit_code", result->exit_code);
          ctrd_json_add_string (builder, "output", result->output);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

char *
ctrd_health_state_to_json (const CtrdHealthState *state)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "status", status_names[state->status]);
  ctrd_json_add_int (builder, "failing_streak", state->failing_streak);
  add_log (state, builder, FALSE);
  json_builder_end_object (builder);
  return ctrd_json_builder_to_text (builder);
}

#define STATE_WHAT "Health state"

static CtrdHealthResult *
read_result (JsonNode *node, GError **error)
{
  gint64 start = 0, end = 0, exit_code = 0;
  g_autofree char *output = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      ctrd_json_field_error (STATE_WHAT, "log", "an array of objects", error);
      return NULL;
    }
  object = json_node_get_object (node);
  if (!ctrd_json_read_int (object, STATE_WHAT, "start", 0, G_MAXINT64, &start, error) ||
      !ctrd_json_read_int (object, STATE_WHAT, "end", 0, G_MAXINT64, &end, error) ||
      !ctrd_json_read_int (object, STATE_WHAT, "exit_code", G_MININT, G_MAXINT, &exit_code,
                           error) ||
      !ctrd_json_read_string (object, STATE_WHAT, "output", &output, error))
    return NULL;
  return ctrd_health_result_new ((guint64) start, (guint64) end, (int) exit_code, output,
                                 output != NULL ? strlen (output) : 0);
}

static gboolean
read_log (JsonObject *object, CtrdHealthState *state, GError **error)
{
  JsonNode *node = json_object_get_member (object, "log");
  JsonArray *array;
  guint n;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return ctrd_json_field_error (STATE_WHAT, "log", "an array of objects", error);
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  for (guint i = n > CTRD_HEALTH_LOG_ENTRIES ? n - CTRD_HEALTH_LOG_ENTRIES : 0; i < n; i++)
    {
      CtrdHealthResult *result = read_result (json_array_get_element (array, i), error);

      if (result == NULL)
        return FALSE;
      g_ptr_array_add (state->log, result);
    }
  return TRUE;
}

CtrdHealthState *
ctrd_health_state_from_json (const char *text, GError **error)
{
  g_autoptr (CtrdHealthState) state = ctrd_health_state_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *status = NULL;
  gint64 streak = 0;
  JsonObject *object;

  if (text == NULL || *text == '\0')
    return g_steal_pointer (&state);
  object = ctrd_json_parse_object (parser, text, STATE_WHAT, error);
  if (object == NULL ||
      !ctrd_json_read_string (object, STATE_WHAT, "status", &status, error) ||
      !ctrd_json_read_int (object, STATE_WHAT, "failing_streak", 0, G_MAXUINT32, &streak, error) ||
      !read_log (object, state, error))
    return NULL;
  if (status != NULL && !status_from_string (status, &state->status))
    {
      ctrd_json_field_error (STATE_WHAT, "status", "a health status", error);
      return NULL;
    }
  state->failing_streak = (guint32) streak;
  return g_steal_pointer (&state);
}

void
ctrd_health_state_add_inspect_json (const CtrdHealthState *state, JsonBuilder *builder,
                                    const char *member)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "Status", status_names[state->status]);
  ctrd_json_add_int (builder, "FailingStreak", state->failing_streak);
  add_log (state, builder, TRUE);
  json_builder_end_object (builder);
}
