/* ctrd-checkpoint.h: whether CRIU can checkpoint on this host. No D-Bus
 * types. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs `criu check` (an async subprocess) the first time and keeps its
 * verdict for the daemon's life (the kernel and CRIU do not change under
 * it); calls made while it runs wait for the same answer. Fails with
 * RUNTIME_ERROR naming the cause: CRIU not installed, or the last error
 * line `criu check` printed (Debian 12's CRIU 3.17 on kernels from 6.13:
 * "vdso: Failed to fill self vdso symtable"). Call on one main context. */
void ctrd_criu_check_async (GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data);
gboolean ctrd_criu_check_finish (GAsyncResult *result, GError **error);

/* Forgets the verdict (for tests that change the CRIU binary). */
void ctrd_criu_check_reset (void);

G_END_DECLS
