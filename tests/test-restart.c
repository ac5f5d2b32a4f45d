/* Unit tests for ctrd-restart: parsing and spelling restart policies, and the
 * restart, boot and back-off decisions taken from them. */
#include "config.h"

#include <string.h>

#include "ctrd-error.h"
#include "ctrd-restart.h"

typedef struct
{
  const char *text;
  const char *canonical; /* NULL = refused */
} PolicyCase;

static void
test_parse (void)
{
  const PolicyCase cases[] = {
    { "", "no" },
    { "no", "no" },
    { "always", "always" },
    { "unless-stopped", "unless-stopped" },
    { "on-failure", "on-failure" },
    { "on-failure:0", "on-failure" },
    { "on-failure:2", "on-failure:2" },
    { "on-failure:1000000", "on-failure:1000000" },
    { "on-failure:1000001", NULL },
    { "on-failure:99999999999999999999999", NULL },
    { "on-failure:-1", NULL },
    { "on-failure:", NULL },
    { "on-failure:2x", NULL },
    { "on-failure: 2", NULL },
    { "always:3", NULL },
    { "no:1", NULL },
    { "sometimes", NULL },
    { "Always", NULL },
    { "alwaysx", NULL },
    { "always ", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      CtrdRestartPolicy policy = { CTRD_RESTART_ALWAYS, 77 };
      g_autoptr (GError) error = NULL;
      gboolean ok = ctrd_restart_policy_parse (cases[i].text, &policy, &error);

      g_test_message ("policy \"%s\"", cases[i].text);
      if (cases[i].canonical == NULL)
        {
          g_assert_false (ok);
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          /* the message names the policy; a refused one changes nothing */
          g_assert_nonnull (strstr (error->message, cases[i].text));
          g_assert_cmpint (policy.kind, ==, CTRD_RESTART_ALWAYS);
          g_assert_cmpuint (policy.max_retries, ==, 77);
        }
      else
        {
          g_autofree char *spelled = NULL;

          g_assert_no_error (error);
          g_assert_true (ok);
          spelled = ctrd_restart_policy_to_string (&policy);
          g_assert_cmpstr (spelled, ==, cases[i].canonical);
        }
    }
}

static CtrdRestartPolicy
policy_of (const char *text)
{
  CtrdRestartPolicy policy;
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_restart_policy_parse (text, &policy, &error));
  g_assert_no_error (error);
  return policy;
}

static void
test_after_exit (void)
{
  CtrdRestartPolicy no = policy_of ("no");
  CtrdRestartPolicy twice = policy_of ("on-failure:2");
  CtrdRestartPolicy failures = policy_of ("on-failure");
  CtrdRestartPolicy always = policy_of ("always");
  CtrdRestartPolicy unless = policy_of ("unless-stopped");

  g_assert_false (ctrd_restart_after_exit (&no, 1, 0, FALSE));
  /* on-failure:2 gives exactly two restarts, and none after a clean exit */
  g_assert_true (ctrd_restart_after_exit (&twice, 1, 0, FALSE));
  g_assert_true (ctrd_restart_after_exit (&twice, 137, 1, FALSE));
  g_assert_false (ctrd_restart_after_exit (&twice, 1, 2, FALSE));
  g_assert_false (ctrd_restart_after_exit (&twice, 0, 0, FALSE));
  g_assert_true (ctrd_restart_after_exit (&failures, 3, 500, FALSE));
  g_assert_false (ctrd_restart_after_exit (&failures, 0, 0, FALSE));
  g_assert_true (ctrd_restart_after_exit (&always, 0, 9, FALSE));
  g_assert_true (ctrd_restart_after_exit (&unless, 0, 9, FALSE));
  /* what the user stopped stays stopped, whatever the policy */
  g_assert_false (ctrd_restart_after_exit (&twice, 1, 0, TRUE));
  g_assert_false (ctrd_restart_after_exit (&always, 0, 0, TRUE));
  g_assert_false (ctrd_restart_after_exit (&unless, 0, 0, TRUE));
}

static void
test_at_boot (void)
{
  CtrdRestartPolicy no = policy_of ("no");
  CtrdRestartPolicy failures = policy_of ("on-failure:3");
  CtrdRestartPolicy always = policy_of ("always");
  CtrdRestartPolicy unless = policy_of ("unless-stopped");

  g_assert_false (ctrd_restart_at_boot (&no, TRUE, FALSE));
  g_assert_false (ctrd_restart_at_boot (&failures, TRUE, FALSE));
  g_assert_true (ctrd_restart_at_boot (&always, TRUE, FALSE));
  g_assert_true (ctrd_restart_at_boot (&always, FALSE, TRUE));
  g_assert_true (ctrd_restart_at_boot (&unless, TRUE, FALSE));
  g_assert_false (ctrd_restart_at_boot (&unless, FALSE, TRUE));
}

static void
test_backoff (void)
{
  guint previous = 0;

  g_assert_cmpuint (ctrd_restart_backoff_ms (0), ==, CTRD_RESTART_BACKOFF_FIRST_MS);
  g_assert_cmpuint (ctrd_restart_backoff_ms (1), ==, 2 * CTRD_RESTART_BACKOFF_FIRST_MS);
  for (guint n = 0; n < 100; n++)
    {
      guint delay = ctrd_restart_backoff_ms (n);

      g_assert_cmpuint (delay, >=, previous);
      g_assert_cmpuint (delay, <=, CTRD_RESTART_BACKOFF_MAX_MS);
      previous = delay;
    }
  g_assert_cmpuint (ctrd_restart_backoff_ms (G_MAXUINT), ==, CTRD_RESTART_BACKOFF_MAX_MS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/restart/parse", test_parse);
  g_test_add_func ("/restart/after-exit", test_after_exit);
  g_test_add_func ("/restart/at-boot", test_at_boot);
  g_test_add_func ("/restart/backoff", test_backoff);
  return g_test_run ();
}
