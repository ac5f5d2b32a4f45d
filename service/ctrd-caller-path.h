/* ctrd-caller-path.h: a host path a caller named, opened with the caller's
 * rights (DESIGN.md: never the daemon's).
 *
 * The caller's uid and groups come from the bus (GetConnectionCredentials:
 * UnixUserID and UnixGroupIDs; without the latter the user's primary group
 * only), never from arguments or /proc; the open itself is
 * ctrd_caller_open (service/core/ctrd-caller-open.h) in a worker thread, so
 * the main loop never waits on the child or the filesystem. A uid 0 caller
 * keeps the daemon's rights. */
#pragma once

#include <gio/gio.h>

#include "ctrd-caller-open.h"

G_BEGIN_DECLS

/* Opens @path for the sender of @invocation, as ctrd_caller_open with
 * @flags and AT_FDCWD. Call it after the authorization check (which knows
 * the caller's uid); @callback runs on the calling thread's main context.
 * A caller that left the bus is NOT_AUTHORIZED. */
void ctrd_caller_path_open (GDBusMethodInvocation *invocation, const char *path,
                            CtrdCallerOpenFlags flags, GAsyncReadyCallback callback,
                            gpointer user_data);

/* The fd (O_CLOEXEC, the caller's) or -1 with @error (CTRD_ERROR, naming
 * the path). @out_caller (may be NULL) gets whom it was opened as, for
 * opening more beneath it with the same rights (NULL for uid 0); free with
 * ctrd_caller_free. */
int ctrd_caller_path_open_finish (GAsyncResult *result, CtrdCaller **out_caller, GError **error);

/* Work done with a caller's rights in a worker thread: @caller is NULL for
 * uid 0. */
typedef gboolean (*CtrdCallerWork) (const CtrdCaller *caller, gpointer work_data,
                                    GError **error);

/* Runs @work with the sender of @invocation (its uid and groups from the
 * bus, as ctrd_caller_path_open) in a worker thread; @work_data is freed
 * with @work_free on the thread that finishes. Call it after the
 * authorization check. @callback runs on the calling thread's main
 * context. */
void ctrd_caller_path_run (GDBusMethodInvocation *invocation, CtrdCallerWork work,
                           gpointer work_data, GDestroyNotify work_free,
                           GAsyncReadyCallback callback, gpointer user_data);
gboolean ctrd_caller_path_run_finish (GAsyncResult *result, GError **error);

G_END_DECLS
