/* ctrd-crash-point.h: test-only crash points. Whoever starts the daemon may
 * name one in the environment (CTRD_TEST_CRASH_AT=<name>); the daemon then
 * kills itself with SIGKILL when it gets there, so a fault test can stop it
 * between two steps of an operation that no signal sent from outside could
 * hit reliably. Nothing a bus caller sends can set it. No D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Kills the process with SIGKILL if @name is the crash point of the
 * environment; else nothing (the environment is read once). */
void ctrd_crash_point (const char *name);

G_END_DECLS
