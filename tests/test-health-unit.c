/* Unit tests for ctrd-health: the settings a caller gives (checked as a
 * whole, docker's CMD/CMD-SHELL spellings), the status the results make,
 * the kept results and their output, and the JSON forms. */
#include "config.h"

#include <string.h>

#include "ctrd-error.h"
#include "ctrd-health.h"

#define SEC G_USEC_PER_SEC

static gboolean
apply (CtrdHealthConfig *config, const CtrdHealthRequest *request, GError **error)
{
  return ctrd_health_config_apply (config, request, "Test", error);
}

static void
test_apply_defaults_and_spellings (void)
{
  const char *plain[] = { "true", NULL };
  const char *cmd[] = { "CMD", "ls", "/", NULL };
  const char *shell[] = { "CMD-SHELL", "test -e /ok", NULL };
  CtrdHealthConfig config;
  CtrdHealthRequest request = { .has_cmd = TRUE, .cmd = plain };
  g_autoptr (GError) error = NULL;

  ctrd_health_config_init (&config);
  g_assert_false (ctrd_health_config_enabled (&config));
  g_assert_true (apply (&config, &request, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_health_config_enabled (&config));
  g_assert_cmpstrv (config.cmd, plain);
  g_assert_cmpuint (config.interval, ==, 30);
  g_assert_cmpuint (config.timeout, ==, 30);
  g_assert_cmpuint (config.start_period, ==, 0);
  g_assert_cmpuint (config.retries, ==, 3);
  g_assert_cmpint (config.on_failure, ==, CTRD_HEALTH_ACTION_NONE);

  request.cmd = cmd;
  g_assert_true (apply (&config, &request, NULL));
  g_assert_cmpstr (config.cmd[0], ==, "ls");
  g_assert_cmpuint (g_strv_length (config.cmd), ==, 2);

  request.cmd = shell;
  g_assert_true (apply (&config, &request, NULL));
  g_assert_cmpstr (config.cmd[0], ==, "/bin/sh");
  g_assert_cmpstr (config.cmd[1], ==, "-c");
  g_assert_cmpstr (config.cmd[2], ==, "test -e /ok");

  /* settings alone change an existing check */
  request = (CtrdHealthRequest){ .has_interval = TRUE, .interval = 5, .on_failure = "restart" };
  g_assert_true (apply (&config, &request, NULL));
  g_assert_cmpuint (config.interval, ==, 5);
  g_assert_cmpint (config.on_failure, ==, CTRD_HEALTH_ACTION_RESTART);
  g_assert_cmpstr (config.cmd[0], ==, "/bin/sh");
  ctrd_health_config_clear (&config);
}

typedef struct
{
  CtrdHealthRequest request;
  int code; /* CtrdError */
  const char *word; /* in the message */
} BadCase;

static void
test_apply_refuses (void)
{
  static const char *empty[] = { NULL };
  static const char *blank[] = { "", NULL };
  static const char *bare_shell[] = { "CMD-SHELL", NULL };
  static const char *plain[] = { "true", NULL };
  const BadCase cases[] = {
    { { .has_cmd = TRUE, .cmd = empty }, CTRD_ERROR_INVALID_ARGUMENT, "HealthCmd" },
    { { .has_cmd = TRUE, .cmd = blank }, CTRD_ERROR_INVALID_ARGUMENT, "HealthCmd" },
    { { .has_cmd = TRUE, .cmd = bare_shell }, CTRD_ERROR_INVALID_ARGUMENT, "CMD-SHELL" },
    { { .has_cmd = TRUE, .cmd = plain, .has_interval = TRUE }, CTRD_ERROR_INVALID_ARGUMENT,
      "HealthInterval" },
    { { .has_cmd = TRUE, .cmd = plain, .has_timeout = TRUE }, CTRD_ERROR_INVALID_ARGUMENT,
      "HealthTimeout" },
    { { .has_cmd = TRUE, .cmd = plain, .has_retries = TRUE }, CTRD_ERROR_INVALID_ARGUMENT,
      "HealthRetries" },
    { { .has_cmd = TRUE, .cmd = plain, .has_retries = TRUE, .retries = 1001 },
      CTRD_ERROR_INVALID_ARGUMENT, "HealthRetries" },
    { { .has_cmd = TRUE, .cmd = plain, .has_start_period = TRUE,
        .start_period = CTRD_HEALTH_MAX_SECONDS + 1 },
      CTRD_ERROR_INVALID_ARGUMENT, "HealthStartPeriod" },
    { { .has_cmd = TRUE, .cmd = plain, .on_failure = "explode" }, CTRD_ERROR_INVALID_ARGUMENT,
      "explode" },
    { { .has_interval = TRUE, .interval = 5 }, CTRD_ERROR_INVALID_ARGUMENT, "HealthCmd" },
    { { .on_failure = "kill" }, CTRD_ERROR_INVALID_ARGUMENT, "HealthCmd" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      CtrdHealthConfig config;
      g_autoptr (GError) error = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      ctrd_health_config_init (&config);
      g_assert_false (apply (&config, &cases[i].request, &error));
      g_assert_error (error, CTRD_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].word));
      g_assert_nonnull (strstr (error->message, "Test"));
      /* a refused request changes nothing */
      g_assert_null (config.cmd);
      g_assert_cmpuint (config.interval, ==, 30);
    }
}

static void
test_apply_bounds_command (void)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) many = NULL;
  g_autofree char *huge = g_strnfill (CTRD_HEALTH_MAX_CMD_BYTES, 'x');
  const char *one_huge[] = { huge, NULL };
  CtrdHealthConfig config;
  CtrdHealthRequest request = { .has_cmd = TRUE };
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i <= CTRD_HEALTH_MAX_ARGS; i++)
    g_strv_builder_add (builder, "a");
  many = g_strv_builder_end (builder);
  ctrd_health_config_init (&config);
  request.cmd = (const char *const *) many;
  g_assert_false (apply (&config, &request, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  request.cmd = one_huge;
  g_assert_false (apply (&config, &request, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_assert_null (config.cmd);
}

static CtrdHealthConfig
check_config (guint retries, guint start_period)
{
  static const char *cmd[] = { "true", NULL };
  CtrdHealthConfig config;
  CtrdHealthRequest request = { .has_cmd = TRUE, .cmd = cmd, .has_retries = TRUE,
                                .retries = retries, .has_start_period = start_period > 0,
                                .start_period = start_period };

  ctrd_health_config_init (&config);
  g_assert_true (apply (&config, &request, NULL));
  return config;
}

static CtrdHealthResult *
result_at (guint64 start, int exit_code)
{
  return ctrd_health_result_new (start, start + 1000, exit_code, "out", 3);
}

static void
test_status (void)
{
  CtrdHealthConfig config = check_config (2, 0);
  g_autoptr (CtrdHealthState) state = ctrd_health_state_new ();
  const guint64 started = 1000 * SEC;

  ctrd_health_state_begin_run (state, &config);
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_STARTING);
  /* one failure of two: still starting, and no change to report */
  g_assert_false (ctrd_health_state_record (state, &config, started, result_at (started + SEC, 1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_STARTING);
  g_assert_cmpuint (state->failing_streak, ==, 1);
  g_assert_true (ctrd_health_state_record (state, &config, started, result_at (started + 2 * SEC, 1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_UNHEALTHY);
  g_assert_true (ctrd_health_state_record (state, &config, started, result_at (started + 3 * SEC, 0)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_HEALTHY);
  g_assert_cmpuint (state->failing_streak, ==, 0);
  /* a timed-out or failed-to-run check counts as a failure */
  g_assert_false (ctrd_health_state_record (state, &config, started, result_at (started + 4 * SEC, -1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_HEALTHY);
  g_assert_true (ctrd_health_state_record (state, &config, started, result_at (started + 5 * SEC, -1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_UNHEALTHY);

  /* a new run starts again; the results stay */
  ctrd_health_state_begin_run (state, &config);
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_STARTING);
  g_assert_cmpuint (state->failing_streak, ==, 0);
  g_assert_cmpuint (state->log->len, ==, CTRD_HEALTH_LOG_ENTRIES);
  ctrd_health_config_clear (&config);
}

static void
test_start_period (void)
{
  CtrdHealthConfig config = check_config (1, 10);
  g_autoptr (CtrdHealthState) state = ctrd_health_state_new ();
  const guint64 started = 1000 * SEC;

  ctrd_health_state_begin_run (state, &config);
  /* failures inside the start period do not count */
  g_assert_false (ctrd_health_state_record (state, &config, started, result_at (started + 9 * SEC, 1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_STARTING);
  g_assert_cmpuint (state->failing_streak, ==, 0);
  /* after it they do */
  g_assert_true (ctrd_health_state_record (state, &config, started, result_at (started + 11 * SEC, 1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_UNHEALTHY);
  /* inside it, once healthy, a failure counts (the period ended with the success) */
  ctrd_health_state_begin_run (state, &config);
  g_assert_true (ctrd_health_state_record (state, &config, started, result_at (started + SEC, 0)));
  g_assert_true (ctrd_health_state_record (state, &config, started, result_at (started + 2 * SEC, 1)));
  g_assert_cmpint (state->status, ==, CTRD_HEALTH_UNHEALTHY);
  ctrd_health_config_clear (&config);
}

static void
test_log_and_output (void)
{
  CtrdHealthConfig config = check_config (3, 0);
  g_autoptr (CtrdHealthState) state = ctrd_health_state_new ();
  g_autofree char *long_output = g_strnfill (3 * CTRD_HEALTH_OUTPUT_MAX, 'o');
  g_autoptr (CtrdHealthResult) invalid = NULL;
  /* "é" is two bytes: the limit falls inside one */
  g_autoptr (GString) accents = g_string_new ("x");

  for (int i = 0; i < 8; i++)
    ctrd_health_state_record (state, &config, 0, result_at ((guint64) i * SEC, i));
  g_assert_cmpuint (state->log->len, ==, CTRD_HEALTH_LOG_ENTRIES);
  g_assert_cmpint (((CtrdHealthResult *) state->log->pdata[0])->exit_code, ==, 3);
  g_assert_cmpint (((CtrdHealthResult *) state->log->pdata[4])->exit_code, ==, 7);

  ctrd_health_state_record (state, &config, 0,
                            ctrd_health_result_new (0, 0, 0, long_output, strlen (long_output)));
  g_assert_cmpuint (strlen (((CtrdHealthResult *) state->log->pdata[4])->output), ==,
                    CTRD_HEALTH_OUTPUT_MAX);

  while (accents->len < 2 * CTRD_HEALTH_OUTPUT_MAX)
    g_string_append (accents, "é");
  invalid = ctrd_health_result_new (0, 0, 1, accents->str, accents->len);
  g_assert_true (g_utf8_validate (invalid->output, -1, NULL));
  g_assert_cmpuint (strlen (invalid->output), <=, CTRD_HEALTH_OUTPUT_MAX);
  g_clear_pointer (&invalid, ctrd_health_result_free);
  invalid = ctrd_health_result_new (0, 0, 1, "a\xff\xfe" "b", 4);
  g_assert_true (g_utf8_validate (invalid->output, -1, NULL));
  g_assert_nonnull (strchr (invalid->output, 'b'));
  ctrd_health_config_clear (&config);
}

static void
test_state_json (void)
{
  CtrdHealthConfig config = check_config (1, 0);
  g_autoptr (CtrdHealthState) state = ctrd_health_state_new ();
  g_autoptr (CtrdHealthState) back = NULL;
  g_autoptr (CtrdHealthState) fresh = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  ctrd_health_state_begin_run (state, &config);
  ctrd_health_state_record (state, &config, 0, ctrd_health_result_new (5, 6, 2, "bad \"x\"", 7));
  text = ctrd_health_state_to_json (state);
  back = ctrd_health_state_from_json (text, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->status, ==, CTRD_HEALTH_UNHEALTHY);
  g_assert_cmpuint (back->failing_streak, ==, 1);
  g_assert_cmpuint (back->log->len, ==, 1);
  g_assert_cmpstr (((CtrdHealthResult *) back->log->pdata[0])->output, ==, "bad \"x\"");
  g_assert_cmpuint (((CtrdHealthResult *) back->log->pdata[0])->start_usec, ==, 5);

  fresh = ctrd_health_state_from_json ("", &error);
  g_assert_no_error (error);
  g_assert_cmpint (fresh->status, ==, CTRD_HEALTH_NONE);
  g_assert_null (ctrd_health_state_from_json ("{\"status\": \"sick\"}", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ctrd_health_state_from_json ("[1]", &error));
  g_assert_nonnull (error);
  ctrd_health_config_clear (&config);
}

static void
test_config_json (void)
{
  CtrdHealthConfig config = check_config (4, 7);
  CtrdHealthConfig back, none;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *object;

  config.on_failure = CTRD_HEALTH_ACTION_STOP;
  json_builder_begin_object (builder);
  ctrd_health_config_add_json (&config, builder, "healthcheck");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  object = json_node_get_object (root);
  g_assert_true (ctrd_health_config_read_json (object, "healthcheck", &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (back.cmd, config.cmd);
  g_assert_cmpuint (back.retries, ==, 4);
  g_assert_cmpuint (back.start_period, ==, 7);
  g_assert_cmpint (back.on_failure, ==, CTRD_HEALTH_ACTION_STOP);
  /* records from before health checks have none */
  g_assert_true (ctrd_health_config_read_json (object, "absent", &none, &error));
  g_assert_false (ctrd_health_config_enabled (&none));
  ctrd_health_config_clear (&back);
  ctrd_health_config_clear (&config);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/health/apply/defaults-and-spellings", test_apply_defaults_and_spellings);
  g_test_add_func ("/health/apply/refuses", test_apply_refuses);
  g_test_add_func ("/health/apply/bounds-command", test_apply_bounds_command);
  g_test_add_func ("/health/status", test_status);
  g_test_add_func ("/health/start-period", test_start_period);
  g_test_add_func ("/health/log-and-output", test_log_and_output);
  g_test_add_func ("/health/state-json", test_state_json);
  g_test_add_func ("/health/config-json", test_config_json);
  return g_test_run ();
}
