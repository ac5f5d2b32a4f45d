/* ctl-health.c: health checks from the command line, as podman has them:
 * the --health-* options of create and run, and `healthcheck run`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* usage_error for a gboolean function: prints, then FALSE. */
static gboolean
option_error (const char *option, const char *what, const char *text)
{
  usage_error ("%s: %s: %s", option, what, text);
  return FALSE;
}

/* podman's durations: Go's ("1m30s", "2h", "500ms" rounded up to whole
 * seconds) or a plain number of seconds. */
gboolean
parse_duration_option (const char *option, const char *text, guint32 *seconds)
{
  static const struct
  {
    const char *unit;
    guint64 usec;
  } units[] = {
    { "ms", 1000 }, { "h", G_GUINT64_CONSTANT (3600) * G_USEC_PER_SEC }, { "m", 60 * G_USEC_PER_SEC },
    { "s", G_USEC_PER_SEC },
  };
  guint64 total = 0;
  const char *p = text;

  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &total, NULL))
    {
      *seconds = (guint32) total;
      return TRUE;
    }
  while (*p != '\0')
    {
      char *end = NULL;
      guint64 n = g_ascii_strtoull (p, &end, 10);
      gsize i;

      if (end == p || n > G_MAXUINT32)
        return option_error (option, "not a duration (such as 30s, 1m30s or 2h)", text);
      for (i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_has_prefix (end, units[i].unit))
          break;
      if (i == G_N_ELEMENTS (units))
        return option_error (option, "not a duration (such as 30s, 1m30s or 2h)", text);
      total += n * units[i].usec;
      if (total > (guint64) G_MAXUINT32 * G_USEC_PER_SEC)
        return option_error (option, "a duration too long", text);
      p = end + strlen (units[i].unit);
    }
  if (p == text)
    return option_error (option, "not a duration", "an empty value");
  *seconds = (guint32) ((total + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  return TRUE;
}

/* --health-cmd: a JSON array is the command as it is (["CMD", ...] too);
 * any other text runs through the shell, as podman's. */
static GVariant *
health_cmd_variant (const char *text)
{
  GVariant *argv = json_argv_variant (text);

  return argv != NULL ? argv : g_variant_new_strv ((const char *const[]){ "CMD-SHELL", text }, 2);
}

gboolean
build_health_options (const HealthOptions *options, GVariantBuilder *builder)
{
  static const struct
  {
    const char *option, *key;
    gsize offset;
  } durations[] = {
    { "--health-interval", "HealthInterval", G_STRUCT_OFFSET (HealthOptions, interval) },
    { "--health-timeout", "HealthTimeout", G_STRUCT_OFFSET (HealthOptions, timeout) },
    { "--health-start-period", "HealthStartPeriod", G_STRUCT_OFFSET (HealthOptions, start_period) },
  };
  guint64 retries;

  if (options->cmd != NULL)
    g_variant_builder_add (builder, "{sv}", "HealthCmd", health_cmd_variant (options->cmd));
  for (gsize i = 0; i < G_N_ELEMENTS (durations); i++)
    {
      const char *text = G_STRUCT_MEMBER (const char *, options, durations[i].offset);
      guint32 seconds;

      if (text == NULL)
        continue;
      if (!parse_duration_option (durations[i].option, text, &seconds))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", durations[i].key, g_variant_new_uint32 (seconds));
    }
  if (options->retries != NULL)
    {
      if (!g_ascii_string_to_unsigned (options->retries, 10, 0, G_MAXUINT32, &retries, NULL))
        return option_error ("--health-retries", "not a count", options->retries);
      g_variant_builder_add (builder, "{sv}", "HealthRetries",
                             g_variant_new_uint32 ((guint32) retries));
    }
  if (options->on_failure != NULL)
    g_variant_builder_add (builder, "{sv}", "HealthOnFailure",
                           g_variant_new_string (options->on_failure));
  return TRUE;
}

void
health_options_clear (HealthOptions *options)
{
  g_free (options->cmd);
  g_free (options->interval);
  g_free (options->timeout);
  g_free (options->start_period);
  g_free (options->retries);
  g_free (options->on_failure);
}

/* `healthcheck run CONTAINER`: as podman, silent and 0 when healthy,
 * "unhealthy" and 1 otherwise. */
int
verb_healthcheck (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) container = NULL;
  g_autoptr (GVariant) reply = NULL;
  const GOptionEntry entries[] = { { NULL } };
  const char *status;

  if (!parse_verb_options (verb, entries, NULL, NULL, TRUE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 2, 2))
    return EXIT_ERROR;
  if (!g_str_equal (argv[1], "run"))
    return usage_error ("healthcheck: unknown command \"%s\" (there is only run)", argv[1]);
  container = get_container (client, argv[2], FALSE, &error);
  if (container == NULL)
    return print_error (client, error);
  reply = call_changing (container, "RunHealthCheck", NULL, G_MAXINT, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(&s)", &status);
  if (g_str_equal (status, "healthy"))
    return 0;
  printf ("%s\n", status);
  return 1;
}
