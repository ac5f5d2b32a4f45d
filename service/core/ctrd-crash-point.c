/* ctrd-crash-point.c: test-only crash points (see the header). */
#include "config.h"

#include "ctrd-crash-point.h"

#include <signal.h>
#include <unistd.h>

void
ctrd_crash_point (const char *name)
{
  static gsize initialized;
  static char *chosen;

  if (g_once_init_enter (&initialized))
    {
      const char *value = g_getenv ("CTRD_TEST_CRASH_AT");

      chosen = value != NULL && *value != '\0' ? g_strdup (value) : NULL;
      g_once_init_leave (&initialized, 1);
    }
  if (chosen == NULL || g_strcmp0 (name, chosen) != 0)
    return;
  g_message ("Crash point %s reached: killing the daemon (CTRD_TEST_CRASH_AT)", name);
  kill (getpid (), SIGKILL);
}
