/* ctrd-selinux.h: SELinux labels for containers (libpod's label.InitLabels).
 * Where SELinux is disabled, or the build has no libselinux, there are no
 * labels and nothing changes. No D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when SELinux is enabled on this host (and the build has libselinux). */
gboolean ctrd_selinux_enabled (void);

/* The process label and the file (mount) label for a new container: the
 * policy's container contexts (selinux_lxc_contexts_path ()) with one fresh
 * MCS category pair shared by both, so containers cannot reach each other's
 * files. Both NULL (and TRUE) when SELinux is off. FAILED when it is on but
 * the policy has no container contexts. Free both with g_free. */
gboolean ctrd_selinux_container_labels (char **out_process_label, char **out_mount_label,
                                        GError **error);

/* Replaces the level ("s0", "s0:c1,c2"...) of @context by @level. Free with g_free. */
char *ctrd_selinux_with_level (const char *context, const char *level);

G_END_DECLS
