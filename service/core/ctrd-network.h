/* ctrd-network.h: bridge networks for containers, the plain part: network
 * configurations and their checks, IPv4 address management, host port
 * reservation, network namespaces, and netavark's setup/teardown protocol
 * (the way podman 4 drives Debian's /usr/lib/podman/netavark). No D-Bus types.
 *
 * One module in three facets: ctrd-network.c (configurations, checks,
 * addresses, ports), ctrd-network-netns.c (network namespaces made by a child
 * that unshares CLONE_NEWNET, as iproute2 does) and ctrd-network-netavark.c
 * (netavark and aardvark-dns). Persistence of networks and address
 * allocations is ctrd-db's; this module decides, the database records. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The network "bridge" names: made on first use, subnet from the pool. */
#define CTRD_NETWORK_DEFAULT_NAME "containersd"
/* The pool new networks take their /24 subnets from unless given one. */
#define CTRD_NETWORK_DEFAULT_POOL "10.89.0.0/16"
#define CTRD_NETWORK_POOL_PREFIX 24
#define CTRD_NETWORK_DRIVER_BRIDGE "bridge"
/* The interface name netavark gives the container's end of its veth pair. */
#define CTRD_NETWORK_CONTAINER_INTERFACE "eth0"
/* aardvark-dns's search domain (netavark's PODMAN_DEFAULT_SEARCH_DOMAIN). */
#define CTRD_NETWORK_DNS_DOMAIN "dns.podman"
#define CTRD_NETWORK_MAX_ALIASES 64
#define CTRD_NETWORK_MAX_PORTS 256

/* ---------------------------------------------------------------- networks */

typedef struct
{
  char *id;        /* 64 hex */
  char *name;      /* ctrd_network_validate_name */
  char *driver;    /* "bridge" */
  char *interface; /* the bridge device on the host */
  char *subnet;    /* IPv4 CIDR, normalised ("10.89.0.0/24") */
  char *gateway;   /* an address inside @subnet (the bridge's) */
  gboolean internal;    /* no outbound route (no NAT, no port publishing) */
  gboolean dns_enabled; /* aardvark-dns answers for the containers' names */
  GHashTable *labels;   /* char* -> char*, owned; never NULL */
  guint64 created_at;   /* usec since the epoch */
} CtrdNetworkConfig;

/* Empty strings, driver "bridge", DNS enabled, no labels. */
CtrdNetworkConfig *ctrd_network_config_new (void);
CtrdNetworkConfig *ctrd_network_config_copy (const CtrdNetworkConfig *config);
void ctrd_network_config_free (CtrdNetworkConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdNetworkConfig, ctrd_network_config_free)

/* JSON object text with every field (the database keeps it); the inverse is
 * _from_json, which checks what it reads again (INVALID_ARGUMENT naming the
 * field): a corrupt record never becomes a bridge name or a subnet. */
char *ctrd_network_config_to_json (const CtrdNetworkConfig *config);
CtrdNetworkConfig *ctrd_network_config_from_json (const char *json, GError **error);

/* A network name: [a-zA-Z0-9][a-zA-Z0-9_.-]* of at most 128 bytes, and not
 * "none", "host" or "bridge" (those are CreateContainer's modes).
 * INVALID_ARGUMENT naming the problem. */
gboolean ctrd_network_validate_name (const char *name, GError **error);

/* A bridge device name: 1..15 bytes of [a-zA-Z0-9_.-], not "." or "..".
 * INVALID_ARGUMENT. */
gboolean ctrd_network_validate_interface (const char *interface, GError **error);

/* Parses an IPv4 CIDR "a.b.c.d/n" (n 8..30: a bridge needs a gateway and at
 * least one container address); host bits must be zero. On success
 * @out_network is the network address in host byte order. INVALID_ARGUMENT
 * naming @what ("Subnet", ...). */
gboolean ctrd_network_parse_subnet (const char *cidr, const char *what, guint32 *out_network,
                                    guint *out_prefix, GError **error);

/* What the host has that a new network must not collide with. */
typedef struct
{
  const char *const *routes; /* IPv4 routes on the host as CIDR (ctrd_network_host_routes) */
  const char *const *links;  /* network device names on the host (ctrd_network_host_links) */
  const char *pool;          /* CIDR the automatic subnets come from; NULL = the default */
} CtrdNetworkHost;

/* Checks a network about to be created and fills what was left empty:
 *  - @config->name valid and not taken by @existing (NAME_IN_USE);
 *  - @config->subnet: given, a valid CIDR (INVALID_ARGUMENT) overlapping no
 *    network of @existing and no route of the host (INVALID_ARGUMENT naming
 *    the other); empty, the first /24 of the pool that overlaps none of them
 *    (LIMIT_EXCEEDED when the pool is used up);
 *  - @config->gateway: given, an address inside the subnet that is neither
 *    its network nor its broadcast address; empty, the first address;
 *  - @config->interface: given, valid and used neither by @existing
 *    (NAME_IN_USE) nor by a host device (IN_USE); empty, the first free
 *    "ctrdN";
 *  - @config->id: generated when empty.
 * @existing: CtrdNetworkConfig*, may be NULL. Reads nothing itself. */
gboolean ctrd_network_config_check_new (CtrdNetworkConfig *config, GPtrArray *existing,
                                        const CtrdNetworkHost *host, GError **error);

/* Blocks briefly (reads /proc). The IPv4 destinations of the host's routing
 * table as CIDR text (the default route left out). Never NULL. */
char **ctrd_network_host_routes (void);
/* Blocks briefly (reads /sys). The names of the host's network devices. */
char **ctrd_network_host_links (void);

/* ---------------------------------------------------------------- addresses */

/* INVALID_ARGUMENT unless @address is an IPv4 address inside @config's subnet
 * that a container may have: not the network, broadcast or gateway address. */
gboolean ctrd_network_check_address (const CtrdNetworkConfig *config, const char *address,
                                     GError **error);

/* The address to give the next container: the first free one after @last
 * (the one handed out before; NULL or "" = from the start), wrapping
 * around, so an address just freed is the last to be handed out again, as
 * podman's allocator does. @used: set of address strings held now (may be
 * NULL). LIMIT_EXCEEDED when the subnet is full. Free with g_free. */
char *ctrd_network_choose_address (const CtrdNetworkConfig *config, GHashTable *used,
                                   const char *last, GError **error);

/* ---------------------------------------------------------------- ports */

typedef struct
{
  char *host_ip;  /* "" = every address of the host */
  guint16 host_port;
  guint16 container_port;
  char *protocol; /* "tcp" or "udp" */
} CtrdPortMapping;

CtrdPortMapping *ctrd_port_mapping_new (const char *host_ip, guint16 host_port,
                                        guint16 container_port, const char *protocol);
CtrdPortMapping *ctrd_port_mapping_copy (const CtrdPortMapping *mapping);
void ctrd_port_mapping_free (CtrdPortMapping *mapping);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdPortMapping, ctrd_port_mapping_free)

/* Each mapping: ports 1..65535, protocol tcp or udp, host IP empty or an
 * IPv4 address; no two mappings of one host address, port and protocol;
 * at most CTRD_NETWORK_MAX_PORTS. INVALID_ARGUMENT (LIMIT_EXCEEDED for the
 * count) naming the mapping. @ports: CtrdPortMapping*. */
gboolean ctrd_port_mappings_validate (GPtrArray *ports, GError **error);

/* Reserves every host port of @ports the way podman does: a socket bound to
 * the host address and port (and listening, for tcp), close-on-exec, that
 * whoever keeps it open keeps the port busy with. IN_USE naming the port
 * when something else has it (nothing stays reserved then); FAILED for
 * other errors. Returns the fds in the order of @ports (an empty array for
 * none); close them with ctrd_ports_release. */
GArray *ctrd_ports_reserve (GPtrArray *ports, GError **error);
/* Closes every fd of @fds (from ctrd_ports_reserve) and frees the array. */
void ctrd_ports_release (GArray *fds);

/* ---------------------------------------------------------------- a container's settings */

typedef enum
{
  CTRD_NETWORK_MODE_NONE,   /* its own namespace with only lo */
  CTRD_NETWORK_MODE_HOST,   /* the host's namespace */
  CTRD_NETWORK_MODE_BRIDGE, /* a bridge network */
} CtrdNetworkMode;

/* "none", "host", "bridge"; static string. */
const char *ctrd_network_mode_to_string (CtrdNetworkMode mode);

/* What a container asked for at creation. */
typedef struct
{
  CtrdNetworkMode mode;
  char *network_id; /* bridge: the network's ID; "" otherwise */
  char **aliases;   /* extra DNS names on the network; never NULL */
  char *static_ip;  /* "" = allocated at each start */
  GPtrArray *ports; /* CtrdPortMapping*, owned; never NULL */
} CtrdNetworkSettings;

/* Mode none, nothing else. */
CtrdNetworkSettings *ctrd_network_settings_new (void);
CtrdNetworkSettings *ctrd_network_settings_copy (const CtrdNetworkSettings *settings);
void ctrd_network_settings_free (CtrdNetworkSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdNetworkSettings, ctrd_network_settings_free)

/* A DNS alias: hostname rules (RFC 1123 labels), at most 253 bytes.
 * INVALID_ARGUMENT. */
gboolean ctrd_network_validate_alias (const char *alias, GError **error);

/* Adds member @member (an object) with @settings to the object being built. */
void ctrd_network_settings_add_json (const CtrdNetworkSettings *settings, JsonBuilder *builder,
                                     const char *member);
/* Reads member @member of @object into @settings (left as it is when absent);
 * checks it as CreateContainer would. INVALID_ARGUMENT naming the field. */
gboolean ctrd_network_settings_read_json (JsonObject *object, const char *member,
                                          CtrdNetworkSettings *settings, GError **error);

/* ---------------------------------------------------------------- namespaces */

/* Blocks briefly. Makes @dir (0700) a mount point with shared propagation,
 * like iproute2's /run/netns, so that namespace files bound under it stay
 * bound in mount namespaces made from the daemon's. */
gboolean ctrd_netns_prepare_dir (const char *dir, GError **error);

/* Blocks briefly (forks). Makes a new network namespace bound at @path (a new
 * file in a prepared dir): a child unshares CLONE_NEWNET and bind-mounts its
 * /proc/self/ns/net there. With @stub_interface, the child also creates a
 * veth pair of that name inside the new namespace (for tearing down a
 * container whose own namespace is gone, see ctrd_netavark_detach).
 * FAILED naming @path; nothing is left behind on failure. */
gboolean ctrd_netns_create (const char *path, const char *stub_interface, GError **error);

/* Blocks briefly. Unmounts (lazily) and unlinks @path; a missing one is
 * success. */
gboolean ctrd_netns_remove (const char *path, GError **error);

/* TRUE when @path is a bound network namespace. */
gboolean ctrd_netns_exists (const char *path);

/* ---------------------------------------------------------------- netavark */

typedef struct _CtrdNetavark CtrdNetavark;

typedef struct
{
  const char *netavark;     /* NULL = /usr/lib/podman/netavark */
  const char *aardvark_dns; /* NULL = /usr/lib/podman/aardvark-dns */
  const char *run_dir;      /* absolute; netavark's --config and the namespaces live here */
  gboolean dns_forward;     /* FALSE: aardvark-dns answers only for containers
                             * (AARDVARK_NO_PROXY), for hosts whose resolvers
                             * must not be asked */
} CtrdNetavarkOptions;

/* Checks that netavark can run (FAILED naming the path otherwise) and makes
 * RUN_DIR/netns (prepared as ctrd_netns_prepare_dir) and RUN_DIR/netavark. */
CtrdNetavark *ctrd_netavark_new (const CtrdNetavarkOptions *options, GError **error);
void ctrd_netavark_free (CtrdNetavark *netavark);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdNetavark, ctrd_netavark_free)

/* RUN_DIR/netns/<ID>: where the namespace of container @container_id is
 * bound while it is attached. Free with g_free. */
char *ctrd_netavark_netns_path (CtrdNetavark *netavark, const char *container_id);

/* The JSON netavark's setup and teardown read on stdin, as podman sends it:
 * container_id, container_name, port_mappings, networks{NAME: interface
 * eth0, static_ips [@address], aliases}, network_info{NAME: the network},
 * dns_servers (the container's own servers, aardvark-dns's upstreams).
 * @aliases, @ports (CtrdPortMapping*), @dns_servers may be NULL. */
char *ctrd_netavark_setup_json (const CtrdNetworkConfig *network, const char *container_id,
                                const char *container_name, const char *address,
                                const char *const *aliases, GPtrArray *ports,
                                const char *const *dns_servers);

/* What netavark set up, from its StatusBlock. */
typedef struct
{
  char *interface;    /* in the container, e.g. "eth0" */
  char *mac_address;
  char *address;      /* the container's address, without prefix */
  guint prefix;
  char *gateway;      /* "" when none (internal network) */
  char **dns_servers; /* aardvark-dns's addresses; empty without DNS */
  char **dns_search;  /* e.g. dns.podman; empty without DNS */
} CtrdNetworkStatus;

void ctrd_network_status_free (CtrdNetworkStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdNetworkStatus, ctrd_network_status_free)

/* Parses netavark setup's stdout for network @network_name. INVALID_ARGUMENT
 * when it is not a StatusBlock map with an interface and an IPv4 address for
 * that network. */
CtrdNetworkStatus *ctrd_netavark_parse_status (const char *json, const char *network_name,
                                               GError **error);

/* netavark's error text from its stdout ({"error": "..."}), else @json
 * itself trimmed; never NULL. Free with g_free. */
char *ctrd_netavark_parse_error (const char *json);

typedef struct
{
  const CtrdNetworkConfig *network;
  const char *container_id;
  const char *container_name;
  const char *address;             /* allocated by the caller */
  const char *const *aliases;      /* may be NULL */
  GPtrArray *ports;                /* CtrdPortMapping*, may be NULL */
  const char *const *dns_servers;  /* the container's own DnsServers, may be NULL */
  const char *state_path;          /* absolute; the setup JSON is kept here for teardown */
} CtrdNetworkAttach;

/* Blocks (runs netavark): for worker threads; calls on one CtrdNetavark are
 * serialised. Attaches a container to its network in podman's order: any
 * earlier attachment still recorded at @state_path is detached first; a new
 * namespace at ctrd_netavark_netns_path; the setup JSON written to
 * @state_path (so a crash right after still gets torn down); netavark
 * setup. On failure everything is undone and the error is RUNTIME_ERROR
 * with netavark's message. Returns what netavark reported. */
CtrdNetworkStatus *ctrd_netavark_attach (CtrdNetavark *netavark, const CtrdNetworkAttach *attach,
                                         GCancellable *cancellable, GError **error);

/* Blocks (runs netavark): for worker threads. Undoes the attachment recorded
 * at @state_path, if any: netavark teardown with the very bytes setup got,
 * before the namespace goes; when the namespace is already gone (a reboot,
 * a crash), a stand-in namespace holding a veth of the container's interface
 * name lets netavark's teardown go all the way (without it, netavark stops
 * at the missing interface and leaves the bridge and its rules). Then the
 * namespace and @state_path are removed, and the empty NETAVARK-DN-<hash>
 * nat chain netavark 1.4 leaks once a network's bridge is gone. Also removes
 * a namespace left at @container_id's path without a record. Only a failure
 * to remove the record is an error: whatever netavark says is logged. */
gboolean ctrd_netavark_detach (CtrdNetavark *netavark, const char *container_id,
                               const char *state_path, GCancellable *cancellable, GError **error);

/* The name of the per-network nat chain netavark makes for @network_name:
 * "NETAVARK-DN-" and the first 13 upper-case hex digits of its SHA-512.
 * Free with g_free. */
char *ctrd_netavark_dnat_chain (const char *network_name);

G_END_DECLS
