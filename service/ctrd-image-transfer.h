/* ctrd-image-transfer.h: the registry calls: Manager.PullImage,
 * Manager.PruneImages and Image.Push. Main thread. */
#pragma once

#include "ctrd-daemon.h"
#include "ctrd-image.h"

G_BEGIN_DECLS

/* Handlers, called by the manager and image skeletons with the daemon;
 * each answers @invocation once and returns TRUE. @manager is the object
 * the call was made on. */
gboolean ctrd_image_transfer_handle_pull (CtrdDaemon *daemon, gpointer manager,
                                          GDBusMethodInvocation *invocation, const char *reference,
                                          GVariant *options);
gboolean ctrd_image_transfer_handle_prune (CtrdDaemon *daemon, gpointer manager,
                                           GDBusMethodInvocation *invocation, GVariant *options);
gboolean ctrd_image_transfer_handle_push (CtrdDaemon *daemon, CtrdImage *image,
                                          GDBusMethodInvocation *invocation,
                                          const char *destination, GVariant *options);

G_END_DECLS
