/* ctrd-network-object.h: one bridge network object behind
 * org.example.Containers1.Network (its properties and Remove), and what the
 * daemon does with networks on the main thread: publishing new ones, the
 * default network, and handing out addresses (persisted before they are
 * used). The plain part is core/ctrd-network.h. Main thread. */
#pragma once

#include "ctrd-daemon.h"
#include "ctrd-network.h"

G_BEGIN_DECLS

#define CTRD_TYPE_NETWORK (ctrd_network_get_type ())
G_DECLARE_FINAL_TYPE (CtrdNetwork, ctrd_network, CTRD, NETWORK, CtrNetworkSkeleton)

/* Takes ownership of @config (a checked one, as the database holds it). */
CtrdNetwork *ctrd_network_new (CtrdDaemon *daemon, CtrdNetworkConfig *config);

const char *ctrd_network_get_id (CtrdNetwork *network);
const char *ctrd_network_get_name (CtrdNetwork *network);
const char *ctrd_network_get_object_path (CtrdNetwork *network);
const CtrdNetworkConfig *ctrd_network_get_config (CtrdNetwork *network);

/* Object path for a network ID. Free with g_free. */
char *ctrd_network_path_for_id (const char *id);

/* Blocks briefly (reads the host's routes and devices). Checks @config, a
 * network about to be created, against the daemon's networks and the host,
 * filling its defaults (ctrd_network_config_check_new with the configured
 * pool). */
gboolean ctrd_network_check_new (CtrdDaemon *daemon, CtrdNetworkConfig *config, GError **error);

/* Records @config (checked, taken) in the database, then publishes it.
 * Returns the object, owned by the daemon. */
CtrdNetwork *ctrd_network_publish (CtrdDaemon *daemon, CtrdNetworkConfig *config,
                                   GError **error);

/* The network "bridge" means: the one named CTRD_NETWORK_DEFAULT_NAME, made
 * and published on first use. */
CtrdNetwork *ctrd_network_ensure_default (CtrdDaemon *daemon, GError **error);

/* Gives @container_id an address on @network and records it in the database
 * before returning it: @static_ip if given and free, else the next free one
 * (ctrd_network_choose_address after the last one handed out). IN_USE when
 * @static_ip is held by another container, LIMIT_EXCEEDED when none is left.
 * Free with g_free. */
char *ctrd_network_allocate_address (CtrdNetwork *network, const char *container_id,
                                     const char *static_ip, GError **error);

/* Recomputes the Containers property from the daemon's containers. */
void ctrd_network_update_containers (CtrdNetwork *network);

G_END_DECLS
