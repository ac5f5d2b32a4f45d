/* ctrd-network.c: network configurations and their checks, IPv4 address
 * management, host port reservation, and a container's network settings.
 * See ctrd-network.h; the namespace and netavark facets are in
 * ctrd-network-netns.c and ctrd-network-netavark.c. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-json.h"
#include "ctrd-network.h"
#include "ctrd-util.h"

#define NETWORK_NAME_MAX 128
#define INTERFACE_NAME_MAX 15 /* IFNAMSIZ - 1 */
#define ALIAS_MAX 253
#define INTERFACE_PREFIX "ctrd"
#define MAX_AUTO_INTERFACES 10000

/* ---------------------------------------------------------------- IPv4 helpers */

static gboolean
parse_ipv4 (const char *text, guint32 *out)
{
  struct in_addr addr;

  if (text == NULL || inet_pton (AF_INET, text, &addr) != 1)
    return FALSE;
  *out = ntohl (addr.s_addr);
  return TRUE;
}

static char *
format_ipv4 (guint32 address)
{
  struct in_addr addr = { .s_addr = htonl (address) };
  char text[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &addr, text, sizeof text);
  return g_strdup (text);
}

static guint32
prefix_mask (guint prefix)
{
  return prefix == 0 ? 0 : G_MAXUINT32 << (32 - prefix);
}

/* "a.b.c.d/n" with any n 0..32 and any host bits: for the host's routes. */
static gboolean
parse_any_cidr (const char *cidr, guint32 *out_network, guint *out_prefix)
{
  g_auto (GStrv) parts = g_strsplit (cidr, "/", 2);
  guint64 prefix;
  guint32 address;

  if (parts[0] == NULL || parts[1] == NULL || !parse_ipv4 (parts[0], &address) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 0, 32, &prefix, NULL))
    return FALSE;
  *out_prefix = (guint) prefix;
  *out_network = address & prefix_mask (*out_prefix);
  return TRUE;
}

static gboolean
ranges_overlap (guint32 net_a, guint prefix_a, guint32 net_b, guint prefix_b)
{
  guint shorter = MIN (prefix_a, prefix_b);

  return (net_a & prefix_mask (shorter)) == (net_b & prefix_mask (shorter));
}

static gboolean
invalid_subnet (const char *cidr, const char *what, GError **error)
{
  g_autofree char *quoted = ctrd_quote_untrusted (cidr);

  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "%s %s is not an IPv4 subnet in CIDR form (like 10.89.0.0/24)", what, quoted);
  return FALSE;
}

gboolean
ctrd_network_parse_subnet (const char *cidr, const char *what, guint32 *out_network,
                           guint *out_prefix, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint32 network, address;
  guint prefix;

  if (cidr == NULL || strlen (cidr) > 32)
    return invalid_subnet (cidr, what, error);
  parts = g_strsplit (cidr, "/", 2);
  if (parts[0] == NULL || parts[1] == NULL || !parse_ipv4 (parts[0], &address) ||
      !parse_any_cidr (cidr, &network, &prefix))
    return invalid_subnet (cidr, what, error);
  if (prefix < 8 || prefix > 30)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (cidr);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s %s: the prefix length must be 8..30", what, quoted);
      return FALSE;
    }
  if (address != network)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (cidr);
      g_autofree char *network_text = format_ipv4 (network);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s %s has host bits set (did you mean %s/%u?)", what, quoted, network_text,
                   prefix);
      return FALSE;
    }
  *out_network = network;
  *out_prefix = prefix;
  return TRUE;
}

/* ---------------------------------------------------------------- names */

gboolean
ctrd_network_validate_name (const char *name, GError **error)
{
  static const char *const reserved[] = { "none", "host", "bridge", NULL };
  gsize len = name != NULL ? strlen (name) : 0;
  gboolean ok = len > 0 && len <= NETWORK_NAME_MAX && g_ascii_isalnum (name[0]);

  for (gsize i = 1; ok && i < len; i++)
    ok = g_ascii_isalnum (name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-';
  if (!ok)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (name);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Invalid network name %s: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most %d bytes", quoted,
                   NETWORK_NAME_MAX);
      return FALSE;
    }
  if (g_strv_contains (reserved, name))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The network name \"%s\" is reserved (a network mode of containers)", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_network_validate_interface (const char *interface, GError **error)
{
  gsize len = interface != NULL ? strlen (interface) : 0;
  gboolean ok = len > 0 && len <= INTERFACE_NAME_MAX && !g_str_equal (interface, ".") &&
                !g_str_equal (interface, "..");

  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_isalnum (interface[i]) || interface[i] == '_' || interface[i] == '.' ||
         interface[i] == '-';
  if (!ok)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (interface);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Invalid interface name %s: 1..%d of [a-zA-Z0-9_.-]", quoted,
                   INTERFACE_NAME_MAX);
    }
  return ok;
}

gboolean
ctrd_network_validate_alias (const char *alias, GError **error)
{
  g_autofree char *quoted = NULL;

  if (ctrd_is_dns_name (alias, ALIAS_MAX, CTRD_DNS_NAME_STRICT))
    return TRUE;
  quoted = ctrd_quote_untrusted (alias);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "Invalid network alias %s: a host name (letters, digits, '-', '.'), at most %d "
               "bytes",
               quoted, ALIAS_MAX);
  return FALSE;
}

/* ---------------------------------------------------------------- configurations */

CtrdNetworkConfig *
ctrd_network_config_new (void)
{
  CtrdNetworkConfig *config = g_new0 (CtrdNetworkConfig, 1);

  config->id = g_strdup ("");
  config->name = g_strdup ("");
  config->driver = g_strdup (CTRD_NETWORK_DRIVER_BRIDGE);
  config->interface = g_strdup ("");
  config->subnet = g_strdup ("");
  config->gateway = g_strdup ("");
  config->dns_enabled = TRUE;
  config->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return config;
}

CtrdNetworkConfig *
ctrd_network_config_copy (const CtrdNetworkConfig *config)
{
  CtrdNetworkConfig *copy = ctrd_network_config_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_free (copy->id);
  copy->id = g_strdup (config->id);
  g_free (copy->name);
  copy->name = g_strdup (config->name);
  g_free (copy->driver);
  copy->driver = g_strdup (config->driver);
  g_free (copy->interface);
  copy->interface = g_strdup (config->interface);
  g_free (copy->subnet);
  copy->subnet = g_strdup (config->subnet);
  g_free (copy->gateway);
  copy->gateway = g_strdup (config->gateway);
  copy->internal = config->internal;
  copy->dns_enabled = config->dns_enabled;
  copy->created_at = config->created_at;
  g_hash_table_iter_init (&iter, config->labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->labels, g_strdup (key), g_strdup (value));
  return copy;
}

void
ctrd_network_config_free (CtrdNetworkConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->id);
  g_free (config->name);
  g_free (config->driver);
  g_free (config->interface);
  g_free (config->subnet);
  g_free (config->gateway);
  g_clear_pointer (&config->labels, g_hash_table_unref);
  g_free (config);
}

char *
ctrd_network_config_to_json (const CtrdNetworkConfig *config)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) keys =
      g_list_sort (g_hash_table_get_keys (config->labels), (GCompareFunc) strcmp);

  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "id", config->id);
  ctrd_json_add_string (builder, "name", config->name);
  ctrd_json_add_string (builder, "driver", config->driver);
  ctrd_json_add_string (builder, "interface", config->interface);
  ctrd_json_add_string (builder, "subnet", config->subnet);
  ctrd_json_add_string (builder, "gateway", config->gateway);
  ctrd_json_add_bool (builder, "internal", config->internal);
  ctrd_json_add_bool (builder, "dns_enabled", config->dns_enabled);
  json_builder_set_member_name (builder, "labels");
  json_builder_begin_object (builder);
  for (GList *l = keys; l != NULL; l = l->next)
    ctrd_json_add_string (builder, l->data, g_hash_table_lookup (config->labels, l->data));
  json_builder_end_object (builder);
  ctrd_json_add_int (builder, "created_at", (gint64) config->created_at);
  json_builder_end_object (builder);
  return ctrd_json_builder_to_text (builder);
}

CtrdNetworkConfig *
ctrd_network_config_from_json (const char *json, GError **error)
{
  static const char what[] = "Network configuration";
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CtrdNetworkConfig) config = ctrd_network_config_new ();
  gint64 created_at = 0;
  guint32 network, gateway;
  guint prefix;
  JsonObject *object = ctrd_json_parse_object (parser, json, what, error);

  if (object == NULL)
    return NULL;
  if (!ctrd_json_read_string (object, what, "id", &config->id, error) ||
      !ctrd_json_read_string (object, what, "name", &config->name, error) ||
      !ctrd_json_read_string (object, what, "driver", &config->driver, error) ||
      !ctrd_json_read_string (object, what, "interface", &config->interface, error) ||
      !ctrd_json_read_string (object, what, "subnet", &config->subnet, error) ||
      !ctrd_json_read_string (object, what, "gateway", &config->gateway, error) ||
      !ctrd_json_read_bool (object, what, "internal", &config->internal, error) ||
      !ctrd_json_read_bool (object, what, "dns_enabled", &config->dns_enabled, error) ||
      !ctrd_json_read_string_map (object, what, "labels", config->labels, error) ||
      !ctrd_json_read_int (object, what, "created_at", 0, G_MAXINT64, &created_at, error))
    return NULL;
  config->created_at = (guint64) created_at;

  /* These become a bridge name, iptables rules and object paths. */
  if (!ctrd_is_full_id (config->id))
    {
      ctrd_json_field_error (what, "id", "64 lowercase hexadecimal characters", error);
      return NULL;
    }
  if (!g_str_equal (config->driver, CTRD_NETWORK_DRIVER_BRIDGE))
    {
      ctrd_json_field_error (what, "driver", "\"bridge\"", error);
      return NULL;
    }
  if (!ctrd_network_validate_name (config->name, error) ||
      !ctrd_network_validate_interface (config->interface, error) ||
      !ctrd_network_parse_subnet (config->subnet, "Subnet", &network, &prefix, error))
    {
      g_prefix_error (error, "%s: ", what);
      return NULL;
    }
  if (!parse_ipv4 (config->gateway, &gateway) || (gateway & prefix_mask (prefix)) != network)
    {
      ctrd_json_field_error (what, "gateway", "an address inside the subnet", error);
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* ---------------------------------------------------------------- checks of a new network */

char **
ctrd_network_host_routes (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (!g_file_get_contents ("/proc/net/route", &text, NULL, NULL))
    return g_strv_builder_end (builder);
  lines = g_strsplit (text, "\n", -1);
  /* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", the
   * addresses as the hex of the in-memory (network order) word */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit_set (lines[i], " \t", -1);
      g_autoptr (GPtrArray) columns = g_ptr_array_new ();
      guint64 destination, mask;
      guint32 dest_host, mask_host;
      guint prefix = 0;
      g_autofree char *dest_text = NULL;

      for (guint f = 0; fields[f] != NULL; f++)
        if (*fields[f] != '\0')
          g_ptr_array_add (columns, fields[f]);
      if (columns->len < 8 ||
          !g_ascii_string_to_unsigned (columns->pdata[1], 16, 0, G_MAXUINT32, &destination, NULL) ||
          !g_ascii_string_to_unsigned (columns->pdata[7], 16, 0, G_MAXUINT32, &mask, NULL))
        continue;
      dest_host = ntohl ((guint32) destination);
      mask_host = ntohl ((guint32) mask);
      if (mask_host == 0)
        continue; /* the default route */
      for (guint32 m = mask_host; m & 0x80000000u; m <<= 1)
        prefix++;
      dest_text = format_ipv4 (dest_host & prefix_mask (prefix));
      g_autofree char *cidr = g_strdup_printf ("%s/%u", dest_text, prefix);
      g_strv_builder_add (builder, cidr);
    }
  return g_strv_builder_end (builder);
}

char **
ctrd_network_host_links (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/sys/class/net", 0, NULL);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_strv_builder_add (builder, name);
  return g_strv_builder_end (builder);
}

static const CtrdNetworkConfig *
find_overlap (guint32 network, guint prefix, GPtrArray *existing)
{
  for (guint i = 0; existing != NULL && i < existing->len; i++)
    {
      const CtrdNetworkConfig *other = existing->pdata[i];
      guint32 other_net;
      guint other_prefix;

      if (parse_any_cidr (other->subnet, &other_net, &other_prefix) &&
          ranges_overlap (network, prefix, other_net, other_prefix))
        return other;
    }
  return NULL;
}

static const char *
find_route_overlap (guint32 network, guint prefix, const char *const *routes)
{
  for (guint i = 0; routes != NULL && routes[i] != NULL; i++)
    {
      guint32 route_net;
      guint route_prefix;

      if (parse_any_cidr (routes[i], &route_net, &route_prefix) &&
          ranges_overlap (network, prefix, route_net, route_prefix))
        return routes[i];
    }
  return NULL;
}

static gboolean
check_given_subnet (CtrdNetworkConfig *config, GPtrArray *existing, const CtrdNetworkHost *host,
                    guint32 *out_network, guint *out_prefix, GError **error)
{
  const CtrdNetworkConfig *other;
  const char *route;

  if (!ctrd_network_parse_subnet (config->subnet, "Subnet", out_network, out_prefix, error))
    return FALSE;
  other = find_overlap (*out_network, *out_prefix, existing);
  if (other != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Subnet %s overlaps %s of network %s", config->subnet, other->subnet,
                   other->name);
      return FALSE;
    }
  route = find_route_overlap (*out_network, *out_prefix, host != NULL ? host->routes : NULL);
  if (route != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Subnet %s overlaps %s, which is routed on the host", config->subnet, route);
      return FALSE;
    }
  return TRUE;
}

/* The first /24 of the pool that nothing uses (podman's getFreeIPv4NetworkSubnet). */
static gboolean
pick_subnet (CtrdNetworkConfig *config, GPtrArray *existing, const CtrdNetworkHost *host,
             guint32 *out_network, guint *out_prefix, GError **error)
{
  const char *pool = host != NULL && host->pool != NULL ? host->pool : CTRD_NETWORK_DEFAULT_POOL;
  guint32 pool_net;
  guint pool_prefix;
  guint64 count;

  if (!ctrd_network_parse_subnet (pool, "The subnet pool", &pool_net, &pool_prefix, error))
    return FALSE;
  if (pool_prefix > CTRD_NETWORK_POOL_PREFIX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The subnet pool %s is smaller than one /%d", pool, CTRD_NETWORK_POOL_PREFIX);
      return FALSE;
    }
  count = G_GUINT64_CONSTANT (1) << (CTRD_NETWORK_POOL_PREFIX - pool_prefix);
  for (guint64 i = 0; i < count; i++)
    {
      guint32 candidate = pool_net + (guint32) (i << (32 - CTRD_NETWORK_POOL_PREFIX));
      g_autofree char *text = NULL;

      if (find_overlap (candidate, CTRD_NETWORK_POOL_PREFIX, existing) != NULL ||
          find_route_overlap (candidate, CTRD_NETWORK_POOL_PREFIX,
                              host != NULL ? host->routes : NULL) != NULL)
        continue;
      text = format_ipv4 (candidate);
      g_free (config->subnet);
      config->subnet = g_strdup_printf ("%s/%d", text, CTRD_NETWORK_POOL_PREFIX);
      *out_network = candidate;
      *out_prefix = CTRD_NETWORK_POOL_PREFIX;
      return TRUE;
    }
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
               "Every /%d of the subnet pool %s is in use: give the network a Subnet",
               CTRD_NETWORK_POOL_PREFIX, pool);
  return FALSE;
}

static gboolean
check_gateway (CtrdNetworkConfig *config, guint32 network, guint prefix, GError **error)
{
  guint32 broadcast = network | ~prefix_mask (prefix);
  guint32 gateway;

  if (*config->gateway == '\0')
    {
      g_free (config->gateway);
      config->gateway = format_ipv4 (network + 1);
      return TRUE;
    }
  if (!parse_ipv4 (config->gateway, &gateway) || (gateway & prefix_mask (prefix)) != network ||
      gateway == network || gateway == broadcast)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (config->gateway);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Gateway %s is not a host address inside subnet %s", quoted, config->subnet);
      return FALSE;
    }
  return TRUE;
}

static const CtrdNetworkConfig *
find_interface_user (const char *interface, GPtrArray *existing)
{
  for (guint i = 0; existing != NULL && i < existing->len; i++)
    {
      const CtrdNetworkConfig *other = existing->pdata[i];
      if (g_str_equal (other->interface, interface))
        return other;
    }
  return NULL;
}

static gboolean
check_interface (CtrdNetworkConfig *config, GPtrArray *existing, const CtrdNetworkHost *host,
                 GError **error)
{
  const char *const *links = host != NULL ? host->links : NULL;
  const CtrdNetworkConfig *other;

  if (*config->interface == '\0')
    {
      for (guint n = 0; n < MAX_AUTO_INTERFACES; n++)
        {
          g_autofree char *candidate = g_strdup_printf (INTERFACE_PREFIX "%u", n);
          if (find_interface_user (candidate, existing) == NULL &&
              (links == NULL || !g_strv_contains (links, candidate)))
            {
              g_free (config->interface);
              config->interface = g_steal_pointer (&candidate);
              return TRUE;
            }
        }
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                           "No free bridge name " INTERFACE_PREFIX "N: give an Interface");
      return FALSE;
    }
  if (!ctrd_network_validate_interface (config->interface, error))
    return FALSE;
  other = find_interface_user (config->interface, existing);
  if (other != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                   "Interface %s is the bridge of network %s", config->interface, other->name);
      return FALSE;
    }
  if (links != NULL && g_strv_contains (links, config->interface))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE, "Interface %s already exists on the host",
                   config->interface);
      return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_network_config_check_new (CtrdNetworkConfig *config, GPtrArray *existing,
                               const CtrdNetworkHost *host, GError **error)
{
  guint32 network;
  guint prefix;

  if (!ctrd_network_validate_name (config->name, error))
    return FALSE;
  for (guint i = 0; existing != NULL && i < existing->len; i++)
    {
      const CtrdNetworkConfig *other = existing->pdata[i];
      if (g_str_equal (other->name, config->name))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                       "The name %s is already used by another network", config->name);
          return FALSE;
        }
    }
  if (*config->subnet != '\0')
    {
      if (!check_given_subnet (config, existing, host, &network, &prefix, error))
        return FALSE;
    }
  else if (!pick_subnet (config, existing, host, &network, &prefix, error))
    return FALSE;
  if (!check_gateway (config, network, prefix, error) ||
      !check_interface (config, existing, host, error))
    return FALSE;
  if (*config->id == '\0')
    {
      g_free (config->id);
      config->id = ctrd_generate_id ();
    }
  return TRUE;
}

/* ---------------------------------------------------------------- addresses */

static gboolean
config_range (const CtrdNetworkConfig *config, guint32 *out_network, guint32 *out_broadcast,
              guint32 *out_gateway)
{
  guint prefix;

  if (!parse_any_cidr (config->subnet, out_network, &prefix) ||
      !parse_ipv4 (config->gateway, out_gateway))
    return FALSE;
  *out_broadcast = *out_network | ~prefix_mask (prefix);
  return TRUE;
}

gboolean
ctrd_network_check_address (const CtrdNetworkConfig *config, const char *address, GError **error)
{
  guint32 network, broadcast, gateway, value;
  g_autofree char *quoted = ctrd_quote_untrusted (address);

  if (!config_range (config, &network, &broadcast, &gateway))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Network %s has no usable subnet",
                   config->name);
      return FALSE;
    }
  if (!parse_ipv4 (address, &value))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "IPAddress %s is not an IPv4 address", quoted);
      return FALSE;
    }
  if (value <= network || value >= broadcast)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "IPAddress %s is not a host address of network %s (%s)", quoted, config->name,
                   config->subnet);
      return FALSE;
    }
  if (value == gateway)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "IPAddress %s is the gateway of network %s", quoted, config->name);
      return FALSE;
    }
  return TRUE;
}

char *
ctrd_network_choose_address (const CtrdNetworkConfig *config, GHashTable *used, const char *last,
                             GError **error)
{
  guint32 network, broadcast, gateway, start, candidate;
  guint32 count;

  if (!config_range (config, &network, &broadcast, &gateway))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Network %s has no usable subnet",
                   config->name);
      return NULL;
    }
  count = broadcast - network - 1;
  if (last == NULL || !parse_ipv4 (last, &start) || start <= network || start >= broadcast)
    start = network; /* the first candidate is network + 1 */
  candidate = start;
  for (guint32 i = 0; i < count; i++)
    {
      g_autofree char *text = NULL;

      candidate = candidate + 1 >= broadcast ? network + 1 : candidate + 1;
      if (candidate == gateway)
        continue;
      text = format_ipv4 (candidate);
      if (used == NULL || !g_hash_table_contains (used, text))
        return g_steal_pointer (&text);
    }
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
               "Network %s (%s) has no free address left", config->name, config->subnet);
  return NULL;
}

/* ---------------------------------------------------------------- ports */

CtrdPortMapping *
ctrd_port_mapping_new (const char *host_ip, guint16 host_port, guint16 container_port,
                       const char *protocol)
{
  CtrdPortMapping *mapping = g_new0 (CtrdPortMapping, 1);

  mapping->host_ip = g_strdup (host_ip != NULL ? host_ip : "");
  mapping->host_port = host_port;
  mapping->container_port = container_port;
  mapping->protocol = g_strdup (protocol != NULL ? protocol : "tcp");
  return mapping;
}

CtrdPortMapping *
ctrd_port_mapping_copy (const CtrdPortMapping *mapping)
{
  return ctrd_port_mapping_new (mapping->host_ip, mapping->host_port, mapping->container_port,
                                mapping->protocol);
}

void
ctrd_port_mapping_free (CtrdPortMapping *mapping)
{
  if (mapping == NULL)
    return;
  g_free (mapping->host_ip);
  g_free (mapping->protocol);
  g_free (mapping);
}

static gboolean
validate_port_mapping (const CtrdPortMapping *mapping, GError **error)
{
  guint32 address;

  if (mapping->host_port == 0 || mapping->container_port == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "PublishPorts: port 0 in %u:%u is not a port (1..65535)", mapping->host_port,
                   mapping->container_port);
      return FALSE;
    }
  if (!g_str_equal (mapping->protocol, "tcp") && !g_str_equal (mapping->protocol, "udp"))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (mapping->protocol);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "PublishPorts: protocol %s of port %u is neither tcp nor udp", quoted,
                   mapping->host_port);
      return FALSE;
    }
  if (*mapping->host_ip != '\0' && !parse_ipv4 (mapping->host_ip, &address))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (mapping->host_ip);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "PublishPorts: host address %s of port %u is not an IPv4 address (empty: "
                   "all)",
                   quoted, mapping->host_port);
      return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_port_mappings_validate (GPtrArray *ports, GError **error)
{
  if (ports->len > CTRD_NETWORK_MAX_PORTS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "PublishPorts has more than %d entries", CTRD_NETWORK_MAX_PORTS);
      return FALSE;
    }
  for (guint i = 0; i < ports->len; i++)
    {
      const CtrdPortMapping *mapping = ports->pdata[i];

      if (!validate_port_mapping (mapping, error))
        return FALSE;
      for (guint j = 0; j < i; j++)
        {
          const CtrdPortMapping *earlier = ports->pdata[j];
          gboolean same_address = g_str_equal (earlier->host_ip, mapping->host_ip) ||
                                  *earlier->host_ip == '\0' || *mapping->host_ip == '\0';

          if (earlier->host_port == mapping->host_port &&
              g_str_equal (earlier->protocol, mapping->protocol) && same_address)
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "PublishPorts: host port %u/%s is published twice", mapping->host_port,
                           mapping->protocol);
              return FALSE;
            }
        }
    }
  return TRUE;
}

void
ctrd_ports_release (GArray *fds)
{
  if (fds == NULL)
    return;
  for (guint i = 0; i < fds->len; i++)
    ctrd_close_fd (&g_array_index (fds, int, i));
  g_array_unref (fds);
}

static int
reserve_port (const CtrdPortMapping *mapping, GError **error)
{
  gboolean tcp = g_str_equal (mapping->protocol, "tcp");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (mapping->host_port) };
  const char *shown = *mapping->host_ip != '\0' ? mapping->host_ip : "0.0.0.0";
  int fd, one = 1;
  guint32 host;

  if (*mapping->host_ip != '\0' && !parse_ipv4 (mapping->host_ip, &host))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Host address %s is not an IPv4 address", mapping->host_ip);
      return -1;
    }
  addr.sin_addr.s_addr = *mapping->host_ip != '\0' ? htonl (host) : htonl (INADDR_ANY);
  fd = socket (AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot make a socket for port %s:%u/%s",
                             shown, mapping->host_port, mapping->protocol);
      return -1;
    }
  /* like Go's net.Listen in podman's bindPorts: a port left in TIME_WAIT by
   * the last run is free to take again */
  if (tcp)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0 || (tcp && listen (fd, 1) != 0))
    {
      int saved_errno = errno;
      ctrd_close_fd (&fd);
      g_set_error (error, CTRD_ERROR,
                   saved_errno == EADDRINUSE ? CTRD_ERROR_IN_USE : CTRD_ERROR_FAILED,
                   "Host port %s:%u/%s %s", shown, mapping->host_port, mapping->protocol,
                   saved_errno == EADDRINUSE ? "is already in use" : g_strerror (saved_errno));
      return -1;
    }
  return fd;
}

GArray *
ctrd_ports_reserve (GPtrArray *ports, GError **error)
{
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      int fd = reserve_port (ports->pdata[i], error);

      if (fd < 0)
        {
          ctrd_ports_release (g_steal_pointer (&fds));
          return NULL;
        }
      g_array_append_val (fds, fd);
    }
  return g_steal_pointer (&fds);
}

/* ---------------------------------------------------------------- a container's settings */

static const char *const mode_names[] = {
  [CTRD_NETWORK_MODE_NONE] = "none",
  [CTRD_NETWORK_MODE_HOST] = "host",
  [CTRD_NETWORK_MODE_BRIDGE] = "bridge",
};

const char *
ctrd_network_mode_to_string (CtrdNetworkMode mode)
{
  if ((guint) mode >= G_N_ELEMENTS (mode_names))
    return "none";
  return mode_names[mode];
}

CtrdNetworkSettings *
ctrd_network_settings_new (void)
{
  CtrdNetworkSettings *settings = g_new0 (CtrdNetworkSettings, 1);

  settings->mode = CTRD_NETWORK_MODE_NONE;
  settings->network_id = g_strdup ("");
  settings->aliases = g_new0 (char *, 1);
  settings->static_ip = g_strdup ("");
  settings->ports = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_port_mapping_free);
  return settings;
}

CtrdNetworkSettings *
ctrd_network_settings_copy (const CtrdNetworkSettings *settings)
{
  CtrdNetworkSettings *copy = ctrd_network_settings_new ();

  copy->mode = settings->mode;
  g_free (copy->network_id);
  copy->network_id = g_strdup (settings->network_id);
  g_strfreev (copy->aliases);
  copy->aliases = g_strdupv (settings->aliases);
  g_free (copy->static_ip);
  copy->static_ip = g_strdup (settings->static_ip);
  for (guint i = 0; i < settings->ports->len; i++)
    g_ptr_array_add (copy->ports, ctrd_port_mapping_copy (settings->ports->pdata[i]));
  return copy;
}

void
ctrd_network_settings_free (CtrdNetworkSettings *settings)
{
  if (settings == NULL)
    return;
  g_free (settings->network_id);
  g_strfreev (settings->aliases);
  g_free (settings->static_ip);
  g_clear_pointer (&settings->ports, g_ptr_array_unref);
  g_free (settings);
}

void
ctrd_network_settings_add_json (const CtrdNetworkSettings *settings, JsonBuilder *builder,
                                const char *member)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "mode", ctrd_network_mode_to_string (settings->mode));
  ctrd_json_add_string (builder, "network_id", settings->network_id);
  ctrd_json_add_strv (builder, "aliases", (const char *const *) settings->aliases);
  ctrd_json_add_string (builder, "static_ip", settings->static_ip);
  json_builder_set_member_name (builder, "ports");
  json_builder_begin_array (builder);
  for (guint i = 0; i < settings->ports->len; i++)
    {
      const CtrdPortMapping *mapping = settings->ports->pdata[i];

      json_builder_begin_object (builder);
      ctrd_json_add_string (builder, "host_ip", mapping->host_ip);
      ctrd_json_add_int (builder, "host_port", mapping->host_port);
      ctrd_json_add_int (builder, "container_port", mapping->container_port);
      ctrd_json_add_string (builder, "protocol", mapping->protocol);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static gboolean
read_ports (JsonObject *object, const char *what, GPtrArray *ports, GError **error)
{
  JsonNode *node = json_object_get_member (object, "ports");
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return ctrd_json_field_error (what, "ports", "an array of objects", error);
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr (CtrdPortMapping) mapping = ctrd_port_mapping_new ("", 0, 0, "tcp");
      gint64 host_port = 0, container_port = 0;
      JsonObject *entry;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return ctrd_json_field_error (what, "ports", "an array of objects", error);
      entry = json_node_get_object (element);
      if (!ctrd_json_read_string (entry, what, "host_ip", &mapping->host_ip, error) ||
          !ctrd_json_read_int (entry, what, "host_port", 0, G_MAXUINT16, &host_port, error) ||
          !ctrd_json_read_int (entry, what, "container_port", 0, G_MAXUINT16, &container_port,
                               error) ||
          !ctrd_json_read_string (entry, what, "protocol", &mapping->protocol, error))
        return FALSE;
      mapping->host_port = (guint16) host_port;
      mapping->container_port = (guint16) container_port;
      g_ptr_array_add (ports, g_steal_pointer (&mapping));
    }
  return TRUE;
}

gboolean
ctrd_network_settings_read_json (JsonObject *object, const char *member,
                                 CtrdNetworkSettings *settings, GError **error)
{
  static const char what[] = "Container network settings";
  JsonNode *node = json_object_get_member (object, member);
  g_autofree char *mode = NULL;
  JsonObject *network;
  guint m;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return ctrd_json_field_error ("Container configuration", member, "an object", error);
  network = json_node_get_object (node);
  mode = g_strdup (ctrd_network_mode_to_string (settings->mode));
  g_ptr_array_set_size (settings->ports, 0);
  if (!ctrd_json_read_string (network, what, "mode", &mode, error) ||
      !ctrd_json_read_string (network, what, "network_id", &settings->network_id, error) ||
      !ctrd_json_read_strv (network, what, "aliases", &settings->aliases, error) ||
      !ctrd_json_read_string (network, what, "static_ip", &settings->static_ip, error) ||
      !read_ports (network, what, settings->ports, error))
    return FALSE;
  for (m = 0; m < G_N_ELEMENTS (mode_names); m++)
    if (g_str_equal (mode, mode_names[m]))
      break;
  if (m == G_N_ELEMENTS (mode_names))
    return ctrd_json_field_error (what, "mode", "none, host or bridge", error);
  settings->mode = (CtrdNetworkMode) m;
  if (settings->mode == CTRD_NETWORK_MODE_BRIDGE && !ctrd_is_full_id (settings->network_id))
    return ctrd_json_field_error (what, "network_id", "a network ID", error);
  for (guint i = 0; settings->aliases[i] != NULL; i++)
    if (!ctrd_network_validate_alias (settings->aliases[i], error))
      return FALSE;
  return ctrd_port_mappings_validate (settings->ports, error);
}
