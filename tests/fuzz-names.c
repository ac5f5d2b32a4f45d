/* fuzz-names.c: libFuzzer target for the parsers of untrusted text that need
 * no bus: container names, image references, signals and the container
 * config JSON of the database. The first byte picks the parser; the rest is
 * the text. Besides "no crash, no sanitizer report", each parser's contract
 * is checked: what a validator accepts is within its limits, normalising is
 * idempotent, a parsed signal prints back to a name that parses to it, and a
 * config that parses survives a JSON round trip unchanged. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "ctrd-container-config.h"
#include "ctrd-fuzz.h"
#include "ctrd-util.h"

static void
fuzz_container_name (const char *text)
{
  g_autoptr (GError) error = NULL;

  if (ctrd_validate_container_name (text, &error))
    {
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (text), >=, 1);
      g_assert_cmpuint (strlen (text), <=, CTRD_NAME_MAX);
      g_assert_true (g_ascii_isalnum (text[0]));
      for (const char *p = text; *p != '\0'; p++)
        g_assert_true (g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-');
    }
  else
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
    }
}

static void
fuzz_image_name (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized = ctrd_normalize_image_name (text, &error);

  if (normalized != NULL)
    {
      g_autoptr (GError) again_error = NULL;
      g_autofree char *again = ctrd_normalize_image_name (normalized, &again_error);

      g_assert_no_error (again_error);
      g_assert_cmpstr (again, ==, normalized);
      g_assert_nonnull (strrchr (normalized, ':'));
    }
  else
    g_assert_nonnull (error);
}

static void
fuzz_signal (const char *text)
{
  g_autoptr (GError) error = NULL;
  int signo = ctrd_parse_signal (text, &error);

  if (signo >= 0)
    {
      g_autofree char *name = ctrd_signal_to_name (signo);
      g_autoptr (GError) back_error = NULL;

      g_assert_no_error (error);
      g_assert_cmpint (signo, >=, 1);
      g_assert_cmpint (signo, <=, SIGRTMAX);
      g_assert_cmpint (ctrd_parse_signal (name, &back_error), ==, signo);
      g_assert_no_error (back_error);
    }
  else
    {
      g_assert_cmpint (signo, ==, -1);
      g_assert_nonnull (error);
    }
}

static void
fuzz_config_json (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_from_json (text, &error);
  g_autofree char *json = NULL;
  g_autofree char *json_again = NULL;
  g_autoptr (CtrdContainerConfig) again = NULL;

  if (config == NULL)
    {
      g_assert_nonnull (error);
      return;
    }
  json = ctrd_container_config_to_json (config);
  again = ctrd_container_config_from_json (json, &error);
  g_assert_no_error (error);
  json_again = ctrd_container_config_to_json (again);
  g_assert_cmpstr (json, ==, json_again);
  g_strfreev (ctrd_container_config_get_argv (config));
}

int
ctrd_fuzz_names (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;

  if (size < 1)
    return 0;
  /* The D-Bus layer never hands over embedded NULs: stop at the first. */
  text = g_strndup ((const char *) data + 1, size - 1);
  switch (data[0] % 5)
    {
    case 0:
      fuzz_container_name (text);
      break;
    case 1:
      fuzz_image_name (text);
      break;
    case 2:
      fuzz_signal (text);
      break;
    case 3:
      fuzz_config_json (text);
      break;
    default:
      {
        g_autofree char *quoted = ctrd_quote_untrusted (text);
        g_assert_true (g_utf8_validate (quoted, -1, NULL) || !g_utf8_validate (text, -1, NULL));
        (void) ctrd_is_id_prefix (text);
        (void) ctrd_is_full_id (text);
      }
      break;
    }
  return 0;
}

CTRD_FUZZ_ENTRY (ctrd_fuzz_names)
