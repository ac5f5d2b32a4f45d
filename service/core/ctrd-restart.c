/* ctrd-restart.c: restart policies: parsing, spelling and the decisions. */
#include "config.h"

#include "ctrd-restart.h"

#include <string.h>

#include "ctrd-error.h"

static gboolean invalid_policy (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid_policy (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

static gboolean
parse_retries (const char *text, const char *digits, guint *retries, GError **error)
{
  guint64 value = 0;

  if (*digits == '\0')
    return invalid_policy (error, "Restart policy \"%s\": no retry count after \"on-failure:\"",
                           text);
  for (const char *p = digits; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return invalid_policy (error,
                               "Restart policy \"%s\": the retry count must be a whole number "
                               "from 0 to %u",
                               text, CTRD_RESTART_MAX_RETRIES);
      value = value * 10 + (guint64) (*p - '0');
      if (value > CTRD_RESTART_MAX_RETRIES)
        return invalid_policy (error, "Restart policy \"%s\": more than %u retries", text,
                               CTRD_RESTART_MAX_RETRIES);
    }
  *retries = (guint) value;
  return TRUE;
}

gboolean
ctrd_restart_policy_parse (const char *text, CtrdRestartPolicy *policy, GError **error)
{
  static const struct
  {
    const char *name;
    CtrdRestartKind kind;
  } kinds[] = {
    { "", CTRD_RESTART_NO },
    { "no", CTRD_RESTART_NO },
    { "on-failure", CTRD_RESTART_ON_FAILURE },
    { "always", CTRD_RESTART_ALWAYS },
    { "unless-stopped", CTRD_RESTART_UNLESS_STOPPED },
  };
  const char *colon = strchr (text, ':');
  gsize name_len = colon != NULL ? (gsize) (colon - text) : strlen (text);
  CtrdRestartPolicy parsed = { CTRD_RESTART_NO, 0 };
  gboolean known = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (kinds) && !known; i++)
    if (strlen (kinds[i].name) == name_len && strncmp (kinds[i].name, text, name_len) == 0)
      {
        parsed.kind = kinds[i].kind;
        known = TRUE;
      }
  if (!known)
    return invalid_policy (error,
                           "Restart policy \"%s\" is not one of no, on-failure[:N], always, "
                           "unless-stopped",
                           text);
  if (colon != NULL && parsed.kind != CTRD_RESTART_ON_FAILURE)
    return invalid_policy (error, "Restart policy \"%s\": only on-failure takes a retry count",
                           text);
  if (colon != NULL && !parse_retries (text, colon + 1, &parsed.max_retries, error))
    return FALSE;
  *policy = parsed;
  return TRUE;
}

char *
ctrd_restart_policy_to_string (const CtrdRestartPolicy *policy)
{
  switch (policy->kind)
    {
    case CTRD_RESTART_ON_FAILURE:
      return policy->max_retries > 0 ? g_strdup_printf ("on-failure:%u", policy->max_retries)
                                     : g_strdup ("on-failure");
    case CTRD_RESTART_ALWAYS:
      return g_strdup ("always");
    case CTRD_RESTART_UNLESS_STOPPED:
      return g_strdup ("unless-stopped");
    case CTRD_RESTART_NO:
    default:
      return g_strdup ("no");
    }
}

gboolean
ctrd_restart_after_exit (const CtrdRestartPolicy *policy, int exit_code, guint restart_count,
                         gboolean stopped_by_user)
{
  if (stopped_by_user)
    return FALSE;
  switch (policy->kind)
    {
    case CTRD_RESTART_ON_FAILURE:
      return exit_code != 0 && (policy->max_retries == 0 || restart_count < policy->max_retries);
    case CTRD_RESTART_ALWAYS:
    case CTRD_RESTART_UNLESS_STOPPED:
      return TRUE;
    case CTRD_RESTART_NO:
    default:
      return FALSE;
    }
}

gboolean
ctrd_restart_at_boot (const CtrdRestartPolicy *policy, gboolean was_running,
                      gboolean stopped_by_user)
{
  /* As docker: `always` comes back even after Stop, `unless-stopped` only
   * when it was not stopped; on-failure does not count a reboot as a
   * failure. */
  switch (policy->kind)
    {
    case CTRD_RESTART_ALWAYS:
      return TRUE;
    case CTRD_RESTART_UNLESS_STOPPED:
      return was_running || !stopped_by_user;
    case CTRD_RESTART_ON_FAILURE:
    case CTRD_RESTART_NO:
    default:
      return FALSE;
    }
}

guint
ctrd_restart_backoff_ms (guint restart_count)
{
  guint delay = CTRD_RESTART_BACKOFF_FIRST_MS;

  for (guint i = 0; i < restart_count && delay < CTRD_RESTART_BACKOFF_MAX_MS; i++)
    delay *= 2;
  return MIN (delay, CTRD_RESTART_BACKOFF_MAX_MS);
}
