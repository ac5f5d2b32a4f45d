/* Unit tests for the network module (ctrd-network*.c) and its tables in
 * ctrd-db: subnet and name checks, address allocation, port reservation,
 * netavark's JSON both ways, and, as root, real network namespaces and real
 * netavark runs on a bridge and subnet of the test's own, picked so that
 * they collide with nothing on the host. No bus. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ctrd-db.h"
#include "ctrd-error.h"
#include "ctrd-network.h"
#include "ctrd-util.h"
#include "ctrd-test-util.h"

/* The pool the root tests take their subnet from (checked free first). */
#define TEST_POOL "10.231.0.0/16"

static CtrdNetworkConfig *
make_network (const char *name, const char *subnet, const char *interface)
{
  CtrdNetworkConfig *config = ctrd_network_config_new ();

  g_free (config->name);
  config->name = g_strdup (name);
  g_free (config->subnet);
  config->subnet = g_strdup (subnet != NULL ? subnet : "");
  g_free (config->interface);
  config->interface = g_strdup (interface != NULL ? interface : "");
  return config;
}

/* A checked network, as CreateNetwork would make it. */
static CtrdNetworkConfig *
checked_network (const char *name, const char *subnet, GPtrArray *existing)
{
  g_autoptr (CtrdNetworkConfig) config = make_network (name, subnet, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_network_config_check_new (config, existing, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&config);
}

/* ---------------------------------------------------------------- subnets, names */

static void
test_parse_subnet (void)
{
  static const char *const bad[] = {
    "",          "10.0.0.0",     "10.0.0.0/",    "10.0.0.0/33", "300.1.1.0/24", "10.0.0/24",
    "abc/24",    "10.0.0.0/7",   "10.0.0.0/31",  "/24",         "10.0.0.0/24/1", "10.0.0.0/2a",
    "::1/64",    " 10.0.0.0/24", "10.0.0.0/-1",  NULL,
  };
  g_autoptr (GError) error = NULL;
  guint32 network;
  guint prefix;

  g_assert_true (ctrd_network_parse_subnet ("10.89.3.0/24", "Subnet", &network, &prefix, &error));
  g_assert_no_error (error);
  g_assert_cmphex (network, ==, 0x0a590300);
  g_assert_cmpuint (prefix, ==, 24);
  g_assert_true (ctrd_network_parse_subnet ("172.16.0.0/12", "Subnet", &network, &prefix, NULL));
  g_assert_cmpuint (prefix, ==, 12);

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_assert_false (ctrd_network_parse_subnet (bad[i], "Subnet", &network, &prefix, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "Subnet"));
      g_clear_error (&error);
    }
  /* host bits set: the message says what was meant */
  g_assert_false (ctrd_network_parse_subnet ("10.89.3.7/24", "Subnet", &network, &prefix, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "10.89.3.0/24"));
}

static void
test_validate_names (void)
{
  static const char *const good_names[] = { "web", "a", "my_net-1.2", NULL };
  static const char *const bad_names[] = { "", "none", "host", "bridge", "-x", ".x", "a/b",
                                           "a b", "é", NULL };
  static const char *const good_aliases[] = { "db", "db-1", "db.internal", "a1.b2.c3", NULL };
  static const char *const bad_aliases[] = { "", "-db", "db-", "a..b", "a_b", "a b", ".a", NULL };
  static const char *const bad_interfaces[] = { "", ".", "..", "a/b", "sixteen-chars-xx", "a b",
                                                NULL };
  g_autofree char *long_name = g_strnfill (129, 'a');
  g_autoptr (GError) error = NULL;

  for (guint i = 0; good_names[i] != NULL; i++)
    g_assert_true (ctrd_network_validate_name (good_names[i], NULL));
  for (guint i = 0; bad_names[i] != NULL; i++)
    {
      g_assert_false (ctrd_network_validate_name (bad_names[i], &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_false (ctrd_network_validate_name (long_name, NULL));
  for (guint i = 0; good_aliases[i] != NULL; i++)
    g_assert_true (ctrd_network_validate_alias (good_aliases[i], NULL));
  for (guint i = 0; bad_aliases[i] != NULL; i++)
    {
      g_assert_false (ctrd_network_validate_alias (bad_aliases[i], &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_true (ctrd_network_validate_interface ("ctrd0", NULL));
  g_assert_true (ctrd_network_validate_interface ("fifteen-chars-x", NULL));
  for (guint i = 0; bad_interfaces[i] != NULL; i++)
    g_assert_false (ctrd_network_validate_interface (bad_interfaces[i], NULL));
}

/* ---------------------------------------------------------------- new networks */

static void
test_check_new_defaults (void)
{
  g_autoptr (GPtrArray) existing =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_network_config_free);
  const char *const routes[] = { "10.89.0.0/24", "10.89.2.0/23", NULL };
  const char *const links[] = { "lo", "eth0", "ctrd0", NULL };
  CtrdNetworkHost host = { .routes = routes, .links = links };
  g_autoptr (CtrdNetworkConfig) first = make_network ("first", NULL, NULL);
  g_autoptr (CtrdNetworkConfig) second = make_network ("second", NULL, NULL);
  g_autoptr (GError) error = NULL;

  /* the first /24 of the pool routed on the host is skipped, so is a link */
  g_assert_true (ctrd_network_config_check_new (first, existing, &host, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (first->subnet, ==, "10.89.1.0/24");
  g_assert_cmpstr (first->gateway, ==, "10.89.1.1");
  g_assert_cmpstr (first->interface, ==, "ctrd1");
  g_assert_true (ctrd_is_full_id (first->id));
  g_assert_true (first->dns_enabled);
  g_assert_cmpstr (first->driver, ==, "bridge");
  g_ptr_array_add (existing, ctrd_network_config_copy (first));

  /* the next skips the network just made and the /23 route */
  g_assert_true (ctrd_network_config_check_new (second, existing, &host, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (second->subnet, ==, "10.89.4.0/24");
  g_assert_cmpstr (second->interface, ==, "ctrd2");
  g_assert_cmpstr (second->id, !=, first->id);
}

static void
test_check_new_rejects (void)
{
  g_autoptr (GPtrArray) existing =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_network_config_free);
  const char *const routes[] = { "192.168.7.0/24", NULL };
  const char *const links[] = { "eth0", NULL };
  CtrdNetworkHost host = { .routes = routes, .links = links, .pool = "10.50.0.0/24" };
  struct
  {
    const char *name, *subnet, *gateway, *interface;
    int code;
    const char *says;
  } cases[] = {
    { "taken", "10.1.0.0/24", "", "", CTRD_ERROR_NAME_IN_USE, "taken" },
    { "x", "10.2.0.0/33", "", "", CTRD_ERROR_INVALID_ARGUMENT, "CIDR" },
    { "x", "not-a-subnet", "", "", CTRD_ERROR_INVALID_ARGUMENT, "CIDR" },
    { "x", "10.1.0.128/25", "", "", CTRD_ERROR_INVALID_ARGUMENT, "overlaps 10.1.0.0/24" },
    { "x", "10.0.0.0/8", "", "", CTRD_ERROR_INVALID_ARGUMENT, "network taken" },
    { "x", "192.168.0.0/16", "", "", CTRD_ERROR_INVALID_ARGUMENT, "routed on the host" },
    { "x", "10.3.0.0/24", "10.4.0.1", "", CTRD_ERROR_INVALID_ARGUMENT, "Gateway" },
    { "x", "10.3.0.0/24", "10.3.0.0", "", CTRD_ERROR_INVALID_ARGUMENT, "Gateway" },
    { "x", "10.3.0.0/24", "10.3.0.255", "", CTRD_ERROR_INVALID_ARGUMENT, "Gateway" },
    { "x", "10.3.0.0/24", "junk", "", CTRD_ERROR_INVALID_ARGUMENT, "Gateway" },
    { "x", "10.3.0.0/24", "", "br-taken", CTRD_ERROR_NAME_IN_USE, "br-taken" },
    { "x", "10.3.0.0/24", "", "eth0", CTRD_ERROR_IN_USE, "host" },
    { "x", "10.3.0.0/24", "", "bad/name", CTRD_ERROR_INVALID_ARGUMENT, "interface" },
    { "none", "10.3.0.0/24", "", "", CTRD_ERROR_INVALID_ARGUMENT, "reserved" },
  };
  g_autoptr (CtrdNetworkConfig) taken = make_network ("taken", "10.1.0.0/24", "br-taken");
  g_autoptr (CtrdNetworkConfig) pool_user = make_network ("y", NULL, NULL);
  g_autoptr (CtrdNetworkConfig) pool_full = make_network ("z", NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_network_config_check_new (taken, NULL, &host, &error));
  g_ptr_array_add (existing, g_steal_pointer (&taken));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CtrdNetworkConfig) config =
          make_network (cases[i].name, cases[i].subnet, cases[i].interface);

      g_free (config->gateway);
      config->gateway = g_strdup (cases[i].gateway);
      g_assert_false (ctrd_network_config_check_new (config, existing, &host, &error));
      g_assert_error (error, CTRD_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("case %u: \"%s\" does not say \"%s\"", i, error->message, cases[i].says);
      g_clear_error (&error);
    }

  /* a pool of one /24 serves one network */
  g_assert_true (ctrd_network_config_check_new (pool_user, existing, &host, &error));
  g_assert_cmpstr (pool_user->subnet, ==, "10.50.0.0/24");
  g_ptr_array_add (existing, g_steal_pointer (&pool_user));
  g_assert_false (ctrd_network_config_check_new (pool_full, existing, &host, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
}

static void
test_config_json (void)
{
  g_autoptr (CtrdNetworkConfig) config = checked_network ("web", "10.7.0.0/16", NULL);
  g_autoptr (CtrdNetworkConfig) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *again = NULL;
  static const char *const corrupt[] = {
    "not json",
    "[]",
    "{\"id\": \"zz\", \"name\": \"x\", \"interface\": \"ctrd0\", \"subnet\": \"10.0.0.0/24\", "
    "\"gateway\": \"10.0.0.1\"}",
    NULL,
  };

  config->internal = TRUE;
  config->dns_enabled = FALSE;
  config->created_at = 1234567;
  g_hash_table_insert (config->labels, g_strdup ("team"), g_strdup ("web"));
  json = ctrd_network_config_to_json (config);
  back = ctrd_network_config_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->id, ==, config->id);
  g_assert_cmpstr (back->name, ==, "web");
  g_assert_cmpstr (back->subnet, ==, "10.7.0.0/16");
  g_assert_cmpstr (back->gateway, ==, "10.7.0.1");
  g_assert_cmpstr (back->interface, ==, config->interface);
  g_assert_true (back->internal);
  g_assert_false (back->dns_enabled);
  g_assert_cmpuint (back->created_at, ==, 1234567);
  g_assert_cmpstr (g_hash_table_lookup (back->labels, "team"), ==, "web");
  again = ctrd_network_config_to_json (back);
  g_assert_cmpstr (again, ==, json);

  for (guint i = 0; corrupt[i] != NULL; i++)
    {
      g_assert_null (ctrd_network_config_from_json (corrupt[i], &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  /* fields that become host names are checked again */
  {
    g_autoptr (CtrdNetworkConfig) evil = ctrd_network_config_copy (config);
    g_autofree char *evil_json = NULL;

    g_free (evil->interface);
    evil->interface = g_strdup ("../../etc");
    evil_json = ctrd_network_config_to_json (evil);
    g_assert_null (ctrd_network_config_from_json (evil_json, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  {
    g_autoptr (CtrdNetworkConfig) evil = ctrd_network_config_copy (config);
    g_autofree char *evil_json = NULL;

    g_free (evil->gateway);
    evil->gateway = g_strdup ("192.168.0.1");
    evil_json = ctrd_network_config_to_json (evil);
    g_assert_null (ctrd_network_config_from_json (evil_json, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_host_routes (void)
{
  g_auto (GStrv) routes = ctrd_network_host_routes ();
  g_auto (GStrv) links = ctrd_network_host_links ();

  g_assert_nonnull (routes);
  for (guint i = 0; routes[i] != NULL; i++)
    {
      g_autofree char *cidr = g_strdup (routes[i]);
      char *slash = strchr (cidr, '/');

      g_assert_nonnull (slash);
      *slash = '\0';
      g_assert_true (g_hostname_is_ip_address (cidr));
      g_assert_cmpstr (slash + 1, !=, "0");
    }
  g_assert_true (g_strv_contains ((const char *const *) links, "lo"));
}

/* ---------------------------------------------------------------- addresses */

static void
test_check_address (void)
{
  g_autoptr (CtrdNetworkConfig) config = checked_network ("a", "10.9.8.0/24", NULL);
  static const char *const bad[] = { "10.9.8.0", "10.9.8.255", "10.9.8.1", "10.9.9.2",
                                     "10.9.8", "junk", "", NULL };
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_network_check_address (config, "10.9.8.2", &error));
  g_assert_true (ctrd_network_check_address (config, "10.9.8.254", &error));
  g_assert_no_error (error);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_assert_false (ctrd_network_check_address (config, bad[i], &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
}

static void
test_choose_address (void)
{
  g_autoptr (CtrdNetworkConfig) config = checked_network ("a", "10.9.8.0/29", NULL);
  g_autoptr (CtrdNetworkConfig) tiny = checked_network ("t", "10.9.9.0/30", NULL);
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *after = NULL;
  g_autofree char *wrapped = NULL;
  g_autofree char *only = NULL;
  char *next;

  /* .1 is the gateway; hosts .2 .. .6 */
  first = ctrd_network_choose_address (config, used, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "10.9.8.2");
  /* after the last one handed out, even when that one is free again */
  after = ctrd_network_choose_address (config, used, "10.9.8.4", &error);
  g_assert_cmpstr (after, ==, "10.9.8.5");
  g_hash_table_add (used, g_strdup ("10.9.8.6"));
  g_hash_table_add (used, g_strdup ("10.9.8.2"));
  wrapped = ctrd_network_choose_address (config, used, "10.9.8.5", &error);
  g_assert_cmpstr (wrapped, ==, "10.9.8.3");
  /* a bad "last" starts from the beginning */
  next = ctrd_network_choose_address (config, used, "192.168.1.1", &error);
  g_assert_cmpstr (next, ==, "10.9.8.3");
  g_free (next);

  /* full: every address taken */
  for (guint i = 2; i <= 6; i++)
    g_hash_table_add (used, g_strdup_printf ("10.9.8.%u", i));
  g_assert_null (ctrd_network_choose_address (config, used, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);

  /* a /30 has one address besides its gateway */
  only = ctrd_network_choose_address (tiny, NULL, "10.9.9.2", &error);
  g_assert_cmpstr (only, ==, "10.9.9.2");
}

/* ---------------------------------------------------------------- ports */

static GPtrArray *
ports_of (const CtrdPortMapping *first, ...)
{
  GPtrArray *ports = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_port_mapping_free);
  va_list args;

  va_start (args, first);
  for (const CtrdPortMapping *p = first; p != NULL; p = va_arg (args, const CtrdPortMapping *))
    g_ptr_array_add (ports, ctrd_port_mapping_copy (p));
  va_end (args);
  return ports;
}

static void
test_validate_ports (void)
{
  CtrdPortMapping good = { "", 8080, 80, "tcp" };
  CtrdPortMapping good_udp = { "127.0.0.1", 8080, 80, "udp" };
  CtrdPortMapping zero_host = { "", 0, 80, "tcp" };
  CtrdPortMapping zero_container = { "", 80, 0, "tcp" };
  CtrdPortMapping bad_proto = { "", 80, 80, "sctp" };
  CtrdPortMapping bad_ip = { "localhost", 80, 80, "tcp" };
  CtrdPortMapping v6_ip = { "::1", 80, 80, "tcp" };
  CtrdPortMapping same_port = { "127.0.0.1", 8080, 81, "tcp" };
  g_autoptr (GPtrArray) ok = ports_of (&good, &good_udp, NULL);
  g_autoptr (GPtrArray) many = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_port_mapping_free);
  const CtrdPortMapping *bad[] = { &zero_host, &zero_container, &bad_proto, &bad_ip, &v6_ip };
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_port_mappings_validate (ok, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GPtrArray) ports = ports_of (bad[i], NULL);
      g_assert_false (ctrd_port_mappings_validate (ports, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  {
    /* all addresses and 127.0.0.1 on one port and protocol collide */
    g_autoptr (GPtrArray) twice = ports_of (&good, &same_port, NULL);
    g_assert_false (ctrd_port_mappings_validate (twice, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "twice"));
    g_clear_error (&error);
  }
  for (guint i = 0; i <= CTRD_NETWORK_MAX_PORTS; i++)
    g_ptr_array_add (many, ctrd_port_mapping_new ("", 1000 + i, 80, "tcp"));
  g_assert_false (ctrd_port_mappings_validate (many, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
}

/* A port nothing uses on 127.0.0.1 for @type, found by binding port 0. */
static guint16
free_port (int type)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, type | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  close (fd);
  return ntohs (addr.sin_port);
}

static int
listen_on (guint16 port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
                              .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fd, 1), ==, 0);
  return fd;
}

static void
test_reserve_ports (void)
{
  guint16 tcp_port = free_port (SOCK_STREAM);
  guint16 udp_port = free_port (SOCK_DGRAM);
  guint16 busy_port = free_port (SOCK_STREAM);
  CtrdPortMapping tcp = { "127.0.0.1", tcp_port, 80, "tcp" };
  CtrdPortMapping tcp_all = { "", tcp_port, 81, "tcp" };
  CtrdPortMapping udp = { "127.0.0.1", udp_port, 53, "udp" };
  CtrdPortMapping busy = { "", busy_port, 80, "tcp" };
  g_autoptr (GPtrArray) ports = ports_of (&tcp, &udp, NULL);
  g_autoptr (GPtrArray) again_all = ports_of (&tcp_all, NULL);
  g_autoptr (GPtrArray) again_udp = ports_of (&udp, NULL);
  g_autoptr (GPtrArray) partial = ports_of (&tcp, &busy, NULL);
  g_autoptr (GError) error = NULL;
  GArray *fds, *second;
  int listener, type = 0;
  socklen_t len = sizeof type;

  fds = ctrd_ports_reserve (ports, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fds->len, ==, 2);
  for (guint i = 0; i < fds->len; i++)
    g_assert_cmpint (fcntl (g_array_index (fds, int, i), F_GETFD) & FD_CLOEXEC, !=, 0);
  g_assert_cmpint (getsockopt (g_array_index (fds, int, 1), SOL_SOCKET, SO_TYPE, &type, &len), ==,
                   0);
  g_assert_cmpint (type, ==, SOCK_DGRAM);

  /* held: a second reservation, on every address too, is IN_USE */
  g_assert_null (ctrd_ports_reserve (again_all, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);
  g_assert_null (ctrd_ports_reserve (again_udp, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE);
  g_clear_error (&error);
  ctrd_ports_release (fds);

  /* released: free again */
  second = ctrd_ports_reserve (again_all, &error);
  g_assert_no_error (error);
  ctrd_ports_release (second);

  /* a host listener is never shadowed, and a partial reservation is undone */
  listener = listen_on (busy_port);
  g_assert_null (ctrd_ports_reserve (partial, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE);
  g_clear_error (&error);
  close (listener);
  second = ctrd_ports_reserve (ports, &error);
  g_assert_no_error (error);
  ctrd_ports_release (second);
}

/* ---------------------------------------------------------------- settings */

static void
test_settings_json (void)
{
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_new ();
  g_autoptr (CtrdContainerConfig) back = NULL;
  g_autoptr (CtrdContainerConfig) old = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  const char *const aliases[] = { "db", "db.local", NULL };

  g_free (config->id);
  config->id = g_strnfill (64, 'c');
  g_free (config->image_id);
  config->image_id = g_strnfill (64, 'a');
  g_free (config->name);
  config->name = g_strdup ("db");
  config->network->mode = CTRD_NETWORK_MODE_BRIDGE;
  g_free (config->network->network_id);
  config->network->network_id = g_strnfill (64, 'e');
  g_strfreev (config->network->aliases);
  config->network->aliases = g_strdupv ((char **) aliases);
  g_free (config->network->static_ip);
  config->network->static_ip = g_strdup ("10.89.0.7");
  g_ptr_array_add (config->network->ports, ctrd_port_mapping_new ("127.0.0.1", 8080, 80, "tcp"));
  g_ptr_array_add (config->network->ports, ctrd_port_mapping_new ("", 5353, 53, "udp"));

  json = ctrd_container_config_to_json (config);
  back = ctrd_container_config_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->network->mode, ==, CTRD_NETWORK_MODE_BRIDGE);
  g_assert_cmpstr (back->network->network_id, ==, config->network->network_id);
  g_assert_cmpstrv (back->network->aliases, aliases);
  g_assert_cmpstr (back->network->static_ip, ==, "10.89.0.7");
  g_assert_cmpuint (back->network->ports->len, ==, 2);
  {
    CtrdPortMapping *udp = back->network->ports->pdata[1];
    g_assert_cmpstr (udp->host_ip, ==, "");
    g_assert_cmpuint (udp->host_port, ==, 5353);
    g_assert_cmpuint (udp->container_port, ==, 53);
    g_assert_cmpstr (udp->protocol, ==, "udp");
  }

  /* a record from before networks: loopback only */
  old = ctrd_container_config_from_json (
      "{\"id\": \"" "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
      "\", \"image_id\": \"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "\", \"name\": \"old\"}",
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (old->network->mode, ==, CTRD_NETWORK_MODE_NONE);
  g_assert_cmpuint (old->network->ports->len, ==, 0);

  /* a corrupt record is refused, not run */
  {
    g_autoptr (GString) text = g_string_new (json);

    g_string_replace (text, "\"mode\":\"bridge\"", "\"mode\":\"macvlan\"", 1);
    g_assert_null (ctrd_container_config_from_json (text->str, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_string_assign (text, json);
    g_string_replace (text, "\"host_port\":8080", "\"host_port\":0", 1);
    g_assert_null (ctrd_container_config_from_json (text->str, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  }
}

/* ---------------------------------------------------------------- netavark's JSON */

static JsonObject *
parse_object (JsonParser *parser, const char *json)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_setup_json (void)
{
  g_autoptr (CtrdNetworkConfig) network = checked_network ("web", "10.77.0.0/24", NULL);
  g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_port_mapping_free);
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *const aliases[] = { "db", NULL };
  const char *const dns[] = { "127.0.0.1", NULL };
  g_autofree char *json = NULL;
  g_autofree char *no_dns_json = NULL;
  JsonObject *root, *per_network, *info, *port, *subnet;
  JsonArray *array;

  g_ptr_array_add (ports, ctrd_port_mapping_new ("127.0.0.1", 8080, 80, "tcp"));
  json = ctrd_netavark_setup_json (network, "cid", "cname", "10.77.0.5", aliases, ports, dns);
  root = parse_object (parser, json);
  g_assert_cmpstr (json_object_get_string_member (root, "container_id"), ==, "cid");
  g_assert_cmpstr (json_object_get_string_member (root, "container_name"), ==, "cname");

  array = json_object_get_array_member (root, "port_mappings");
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  port = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (port, "host_ip"), ==, "127.0.0.1");
  g_assert_cmpint (json_object_get_int_member (port, "host_port"), ==, 8080);
  g_assert_cmpint (json_object_get_int_member (port, "container_port"), ==, 80);
  g_assert_cmpint (json_object_get_int_member (port, "range"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (port, "protocol"), ==, "tcp");

  per_network = json_object_get_object_member (json_object_get_object_member (root, "networks"),
                                               "web");
  g_assert_cmpstr (json_object_get_string_member (per_network, "interface_name"), ==, "eth0");
  g_assert_cmpstr (json_array_get_string_element (
                       json_object_get_array_member (per_network, "static_ips"), 0),
                   ==, "10.77.0.5");
  g_assert_cmpstr (json_array_get_string_element (
                       json_object_get_array_member (per_network, "aliases"), 0),
                   ==, "db");

  info = json_object_get_object_member (json_object_get_object_member (root, "network_info"),
                                        "web");
  g_assert_cmpstr (json_object_get_string_member (info, "name"), ==, "web");
  g_assert_cmpstr (json_object_get_string_member (info, "id"), ==, network->id);
  g_assert_cmpstr (json_object_get_string_member (info, "driver"), ==, "bridge");
  g_assert_cmpstr (json_object_get_string_member (info, "network_interface"), ==,
                   network->interface);
  g_assert_false (json_object_get_boolean_member (info, "ipv6_enabled"));
  g_assert_false (json_object_get_boolean_member (info, "internal"));
  g_assert_true (json_object_get_boolean_member (info, "dns_enabled"));
  subnet = json_array_get_object_element (json_object_get_array_member (info, "subnets"), 0);
  g_assert_cmpstr (json_object_get_string_member (subnet, "subnet"), ==, "10.77.0.0/24");
  g_assert_cmpstr (json_object_get_string_member (subnet, "gateway"), ==, "10.77.0.1");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (root, "dns_servers"),
                                                  0),
                   ==, "127.0.0.1");

  /* the same input gives the same bytes (teardown gets setup's bytes anyway) */
  {
    g_autofree char *again =
        ctrd_netavark_setup_json (network, "cid", "cname", "10.77.0.5", aliases, ports, dns);
    g_assert_cmpstr (again, ==, json);
  }
  /* without DNS neither aliases nor upstream servers go to aardvark-dns */
  network->dns_enabled = FALSE;
  no_dns_json = ctrd_netavark_setup_json (network, "cid", "cname", "10.77.0.5", aliases, NULL, dns);
  root = parse_object (parser, no_dns_json);
  g_assert_false (json_object_has_member (root, "dns_servers"));
  per_network = json_object_get_object_member (json_object_get_object_member (root, "networks"),
                                               "web");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (per_network, "aliases")),
                    ==, 0);
}

static void
test_parse_status (void)
{
  const char *block =
      "{\"web\":{\"dns_search_domains\":[\"dns.podman\"],\"dns_server_ips\":[\"10.231.5.1\"],"
      "\"interfaces\":{\"eth0\":{\"mac_address\":\"5e:5b:cf:24:70:39\",\"subnets\":[{\"gateway\":"
      "\"10.231.5.1\",\"ipnet\":\"10.231.5.2/24\"}]}}}}";
  const char *internal =
      "{\"web\":{\"interfaces\":{\"eth0\":{\"mac_address\":\"aa:bb:cc:dd:ee:ff\",\"subnets\":[{"
      "\"ipnet\":\"10.1.0.9/16\"}]}}}}";
  static const char *const bad[] = {
    "", "[]", "{}", "{\"web\": {}}", "{\"web\": {\"interfaces\": {}}}",
    "{\"web\": {\"interfaces\": {\"eth0\": {\"subnets\": []}}}}",
    "{\"web\": {\"interfaces\": {\"eth0\": {\"subnets\": [{\"ipnet\": \"junk\"}]}}}}",
    NULL,
  };
  g_autoptr (CtrdNetworkStatus) status = NULL;
  g_autoptr (CtrdNetworkStatus) plain = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *raw = NULL;

  status = ctrd_netavark_parse_status (block, "web", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status->interface, ==, "eth0");
  g_assert_cmpstr (status->mac_address, ==, "5e:5b:cf:24:70:39");
  g_assert_cmpstr (status->address, ==, "10.231.5.2");
  g_assert_cmpuint (status->prefix, ==, 24);
  g_assert_cmpstr (status->gateway, ==, "10.231.5.1");
  g_assert_cmpstr (status->dns_servers[0], ==, "10.231.5.1");
  g_assert_cmpstr (status->dns_search[0], ==, "dns.podman");

  plain = ctrd_netavark_parse_status (internal, "web", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (plain->gateway, ==, "");
  g_assert_cmpuint (g_strv_length (plain->dns_servers), ==, 0);

  g_assert_null (ctrd_netavark_parse_status (block, "other", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_assert_null (ctrd_netavark_parse_status (bad[i], "web", &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  message = ctrd_netavark_parse_error ("{\"error\":\"failed to delete container veth eth0\"}");
  g_assert_cmpstr (message, ==, "failed to delete container veth eth0");
  raw = ctrd_netavark_parse_error ("  plain text\n");
  g_assert_cmpstr (raw, ==, "plain text");
}

static void
test_dnat_chain (void)
{
  g_autofree char *chain = ctrd_netavark_dnat_chain ("nvxnet");

  /* what netavark 1.4 named it for that network */
  g_assert_cmpstr (chain, ==, "NETAVARK-DN-F305F330415A5");
}

/* ---------------------------------------------------------------- the database */

typedef struct
{
  char *dir;
  char *path;
  CtrdDb *db;
} DbFixture;

static void
db_setup (DbFixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  f->dir = ctrd_test_make_tmpdir ("test-network-db-XXXXXX");
  f->path = g_build_filename (f->dir, "state.db", NULL);
  f->db = ctrd_db_open (f->path, &error);
  g_assert_no_error (error);
}

static void
db_teardown (DbFixture *f, gconstpointer user_data)
{
  g_clear_pointer (&f->db, ctrd_db_close);
  ctrd_test_rm_rf (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
reopen (DbFixture *f)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&f->db, ctrd_db_close);
  f->db = ctrd_db_open (f->path, &error);
  g_assert_no_error (error);
}

/* An image and a container row (addresses belong to containers). */
static void
insert_container (CtrdDb *db, char fill)
{
  g_autoptr (CtrdImageRecord) image = g_new0 (CtrdImageRecord, 1);
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_new ();
  g_autoptr (GError) error = NULL;
  CtrdRunState run = { .state = CTRD_STATE_CONFIGURED };

  image->id = g_strnfill (64, 'a');
  image->commit = g_strnfill (64, '9');
  image->names = g_new0 (char *, 1);
  image->config_json = g_strdup ("{}");
  if (!ctrd_db_insert_image (db, image, &error))
    {
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
      g_clear_error (&error);
    }
  g_free (config->id);
  config->id = g_strnfill (64, fill);
  g_free (config->name);
  config->name = g_strdup_printf ("c-%c", fill);
  g_free (config->image_id);
  config->image_id = g_strdup (image->id);
  g_assert_true (ctrd_db_insert_container (db, config, &run, &error));
  g_assert_no_error (error);
}

static void
assert_addresses (CtrdDb *db, const char *network_id, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = ctrd_db_load_addresses (db, network_id, &error);
  g_autoptr (GString) text = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      CtrdAddressRecord *record = records->pdata[i];
      g_string_append_printf (text, "%s%c=%s", i > 0 ? " " : "", record->container_id[0],
                              record->address);
    }
  g_assert_cmpstr (text->str, ==, expected);
}

static void
test_db_migrates (DbFixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *version = NULL;
  g_autoptr (GPtrArray) networks = NULL;
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (CtrdNetworkConfig) network = checked_network ("after", "10.5.0.0/24", NULL);

  /* a database as the build before networks left it */
  insert_container (f->db, 'c');
  g_clear_pointer (&f->db, ctrd_db_close);
  ctrd_test_sqlite_exec (f->path, "DROP TABLE network_addresses; DROP TABLE networks; "
                                 "ALTER TABLE containers DROP COLUMN owner; "
                                 "ALTER TABLE containers DROP COLUMN restart_count; "
                                 "ALTER TABLE containers DROP COLUMN stopped_by_user; "
                                 "ALTER TABLE containers DROP COLUMN health_json; "
                                 "PRAGMA user_version = 1;");

  reopen (f);
  version = ctrd_db_get_pragma (f->db, "user_version", &error);
  g_assert_cmpstr (version, ==, "7"); /* and on through the later migrations */
  containers = ctrd_db_load_containers (f->db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (containers->len, ==, 1);
  networks = ctrd_db_load_networks (f->db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (networks->len, ==, 0);
  g_assert_true (ctrd_db_insert_network (f->db, network, &error));
  g_assert_true (ctrd_db_insert_address (
      f->db, network->id, ((CtrdContainerRecord *) containers->pdata[0])->config->id, "10.5.0.2",
      &error));
  g_assert_no_error (error);
}

static void
test_db_networks (DbFixture *f, gconstpointer user_data)
{
  g_autoptr (CtrdNetworkConfig) web = checked_network ("web", "10.5.0.0/24", NULL);
  g_autoptr (CtrdNetworkConfig) same_name = checked_network ("web", "10.6.0.0/24", NULL);
  g_autoptr (CtrdNetworkConfig) same_subnet = checked_network ("other", "10.5.0.0/24", NULL);
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;

  g_hash_table_insert (web->labels, g_strdup ("k"), g_strdup ("v"));
  g_assert_true (ctrd_db_insert_network (f->db, web, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_db_insert_network (f->db, same_name, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
  g_clear_error (&error);
  g_free (same_subnet->interface);
  same_subnet->interface = g_strdup ("ctrd9");
  g_assert_false (ctrd_db_insert_network (f->db, same_subnet, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE);
  g_clear_error (&error);

  reopen (f);
  loaded = ctrd_db_load_networks (f->db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 1);
  {
    CtrdNetworkConfig *back = loaded->pdata[0];
    g_assert_cmpstr (back->id, ==, web->id);
    g_assert_cmpstr (back->subnet, ==, "10.5.0.0/24");
    g_assert_cmpstr (g_hash_table_lookup (back->labels, "k"), ==, "v");
  }
  g_assert_true (ctrd_db_delete_network (f->db, web->id, &error));
  g_assert_false (ctrd_db_delete_network (f->db, web->id, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
}

static void
test_db_addresses (DbFixture *f, gconstpointer user_data)
{
  g_autoptr (CtrdNetworkConfig) web = checked_network ("web", "10.5.0.0/24", NULL);
  g_autoptr (GPtrArray) existing = g_ptr_array_new ();
  g_autoptr (CtrdNetworkConfig) db_net =
      checked_network ("db", "10.6.0.0/24", (g_ptr_array_add (existing, web), existing));
  g_autofree char *id_c = g_strnfill (64, 'c');
  g_autofree char *id_d = g_strnfill (64, 'd');
  g_autofree char *id_e = g_strnfill (64, 'e');
  g_autofree char *unknown = g_strnfill (64, 'f');
  g_autofree char *last = NULL;
  g_autofree char *none = NULL;
  g_autoptr (GError) error = NULL;

  insert_container (f->db, 'c');
  insert_container (f->db, 'd');
  insert_container (f->db, 'e');
  g_assert_true (ctrd_db_insert_network (f->db, web, &error));
  g_assert_true (ctrd_db_insert_network (f->db, db_net, &error));
  none = ctrd_db_get_last_address (f->db, web->id, &error);
  g_assert_cmpstr (none, ==, "");

  g_assert_true (ctrd_db_insert_address (f->db, web->id, id_c, "10.5.0.2", &error));
  g_assert_no_error (error);
  /* never twice: the same address, or a second one for the same container */
  g_assert_false (ctrd_db_insert_address (f->db, web->id, id_d, "10.5.0.2", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE);
  g_clear_error (&error);
  g_assert_false (ctrd_db_insert_address (f->db, web->id, id_c, "10.5.0.3", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE);
  g_clear_error (&error);
  /* unknown container or network */
  g_assert_false (ctrd_db_insert_address (f->db, web->id, unknown, "10.5.0.9", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (ctrd_db_insert_address (f->db, web->id, id_d, "10.5.0.3", &error));
  g_assert_true (ctrd_db_insert_address (f->db, db_net->id, id_c, "10.6.0.2", &error));
  g_assert_true (ctrd_db_insert_address (f->db, db_net->id, id_e, "10.6.0.3", &error));
  g_assert_no_error (error);

  /* they survive a restart, and so does where allocation goes on */
  reopen (f);
  assert_addresses (f->db, web->id, "c=10.5.0.2 d=10.5.0.3");
  assert_addresses (f->db, NULL, "c=10.5.0.2 d=10.5.0.3 c=10.6.0.2 e=10.6.0.3");
  last = ctrd_db_get_last_address (f->db, web->id, &error);
  g_assert_cmpstr (last, ==, "10.5.0.3");

  /* freed with the container's release, its row, or the network */
  g_assert_true (ctrd_db_delete_addresses (f->db, id_c, &error));
  assert_addresses (f->db, NULL, "d=10.5.0.3 e=10.6.0.3");
  g_assert_true (ctrd_db_delete_container (f->db, id_d, &error));
  assert_addresses (f->db, NULL, "e=10.6.0.3");
  g_assert_true (ctrd_db_delete_network (f->db, db_net->id, &error));
  assert_addresses (f->db, NULL, "");
  g_assert_no_error (error);
}


/* ---------------------------------------------------------------- as root: namespaces, netavark */

static gboolean
skip_unless_root (void)
{
  if (geteuid () == 0)
    return FALSE;
  g_test_skip ("needs root (mounts, network namespaces)");
  return TRUE;
}

static char *
command_output (const char *const *argv, int *out_status)
{
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  if (out_status != NULL)
    *out_status = status;
  return g_steal_pointer (&out);
}

/* The lines of iptables-save (every table) that mention @text. */
static guint
firewall_lines_with (const char *text)
{
  const char *const argv[] = { "iptables-save", NULL };
  g_autofree char *out = command_output (argv, NULL);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  guint count = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], text) != NULL)
      count++;
  return count;
}

static gboolean
link_exists (const char *name)
{
  g_autofree char *path = g_build_filename ("/sys/class/net", name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Unmounts everything at or under @dir, deepest first, then removes it. */
static void
unmount_and_remove (const char *dir)
{
  g_autofree char *mountinfo = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) points = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = g_strconcat (dir, "/", NULL);

  g_assert_true (g_file_get_contents ("/proc/self/mountinfo", &mountinfo, NULL, NULL));
  lines = g_strsplit (mountinfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", 6);
      if (g_strv_length (fields) >= 5 &&
          (g_str_equal (fields[4], dir) || g_str_has_prefix (fields[4], prefix)))
        g_ptr_array_add (points, g_strdup (fields[4]));
    }
  for (guint i = points->len; i > 0; i--)
    g_assert_cmpint (umount2 (points->pdata[i - 1], MNT_DETACH), ==, 0);
  ctrd_test_rm_rf (dir);
}

static void
test_netns (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *netns_dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *stub_path = NULL;
  g_autofree char *mountinfo = NULL;
  g_autofree char *links = NULL;
  g_autoptr (GError) error = NULL;
  struct stat ours, theirs;

  if (skip_unless_root ())
    return;
  dir = ctrd_test_make_tmpdir ("test-network-netns-XXXXXX");
  netns_dir = g_build_filename (dir, "netns", NULL);
  path = g_build_filename (netns_dir, "one", NULL);
  stub_path = g_build_filename (netns_dir, "stub", NULL);

  g_assert_true (ctrd_netns_prepare_dir (netns_dir, &error));
  g_assert_no_error (error);
  /* twice is fine (a daemon restart) */
  g_assert_true (ctrd_netns_prepare_dir (netns_dir, &error));
  g_assert_true (g_file_get_contents ("/proc/self/mountinfo", &mountinfo, NULL, NULL));
  {
    g_auto (GStrv) lines = g_strsplit (mountinfo, "\n", -1);
    gboolean shared = FALSE;
    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_auto (GStrv) fields = g_strsplit (lines[i], " ", 8);
        if (g_strv_length (fields) >= 7 && g_str_equal (fields[4], netns_dir) &&
            g_str_has_prefix (fields[6], "shared:"))
          shared = TRUE;
      }
    g_assert_true (shared);
  }

  g_assert_false (ctrd_netns_exists (path));
  g_assert_true (ctrd_netns_create (path, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ctrd_netns_exists (path));
  g_assert_cmpint (stat (path, &theirs), ==, 0);
  g_assert_cmpint (stat ("/proc/self/ns/net", &ours), ==, 0);
  g_assert_cmpuint (theirs.st_ino, !=, ours.st_ino);

  /* an existing one is left alone */
  g_assert_false (ctrd_netns_create (path, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (ctrd_netns_exists (path));

  /* the stand-in interface is inside, not on the host */
  g_assert_true (ctrd_netns_create (stub_path, "eth0", &error));
  g_assert_no_error (error);
  {
    g_autofree char *net_arg = g_strconcat ("--net=", stub_path, NULL);
    const char *const argv[] = { "nsenter", net_arg, "ip", "-o", "link", "show", NULL };
    links = command_output (argv, NULL);
  }
  g_assert_nonnull (strstr (links, " eth0@"));
  g_assert_nonnull (strstr (links, " ctrdstub@"));
  g_assert_false (link_exists ("ctrdstub"));

  g_assert_true (ctrd_netns_remove (path, &error));
  g_assert_true (ctrd_netns_remove (stub_path, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (ctrd_netns_exists (path));
  g_assert_true (ctrd_netns_remove (path, &error));
  g_assert_no_error (error);
  unmount_and_remove (dir);
}

/* A network of the test's own: a bridge name and a subnet nothing on the
 * host uses. */
typedef struct
{
  char *dir;
  CtrdNetavark *netavark;
  CtrdNetworkConfig *network;
  char *chain;
} NetFixture;

static void
net_setup (NetFixture *f, gconstpointer user_data)
{
  g_auto (GStrv) routes = ctrd_network_host_routes ();
  g_auto (GStrv) links = ctrd_network_host_links ();
  CtrdNetworkHost host = { (const char *const *) routes, (const char *const *) links, TEST_POOL };
  g_autofree char *run_dir = NULL;
  g_autoptr (GError) error = NULL;
  CtrdNetavarkOptions options = { 0 };

  if (geteuid () != 0 || !g_file_test ("/usr/lib/podman/netavark", G_FILE_TEST_IS_EXECUTABLE))
    return;
  f->dir = ctrd_test_make_tmpdir ("test-network-netavark-XXXXXX");
  run_dir = g_build_filename (f->dir, "run", NULL);
  options.run_dir = run_dir;
  f->netavark = ctrd_netavark_new (&options, &error);
  g_assert_no_error (error);
  f->network = make_network (NULL, NULL, NULL);
  g_free (f->network->name);
  f->network->name = g_strdup_printf ("ctrdtest%d", (int) getpid ());
  g_free (f->network->interface);
  f->network->interface = g_strdup_printf ("ctrt%d", (int) getpid () % 100000);
  f->network->dns_enabled = FALSE;
  g_assert_true (ctrd_network_config_check_new (f->network, NULL, &host, &error));
  g_assert_no_error (error);
  f->chain = ctrd_netavark_dnat_chain (f->network->name);
}

static void
net_teardown (NetFixture *f, gconstpointer user_data)
{
  if (f->dir == NULL)
    return;
  g_clear_pointer (&f->netavark, ctrd_netavark_free);
  g_clear_pointer (&f->network, ctrd_network_config_free);
  unmount_and_remove (f->dir);
  g_free (f->chain);
  g_free (f->dir);
}

static gboolean
skip_without_netavark (NetFixture *f)
{
  if (f->dir != NULL)
    return FALSE;
  g_test_skip ("needs root and netavark (/usr/lib/podman/netavark)");
  return TRUE;
}

typedef struct
{
  char *container_id;
  char *address;
  char *state_path;
  GPtrArray *ports;
} TestAttachment;

static void
test_attachment_free (TestAttachment *a)
{
  g_free (a->container_id);
  g_free (a->address);
  g_free (a->state_path);
  g_clear_pointer (&a->ports, g_ptr_array_unref);
  g_free (a);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestAttachment, test_attachment_free)

static TestAttachment *
attach_one (NetFixture *f, const char *last, gboolean with_port, CtrdNetworkStatus **out_status)
{
  TestAttachment *a = g_new0 (TestAttachment, 1);
  g_autoptr (GError) error = NULL;
  CtrdNetworkAttach attach = { 0 };
  CtrdNetworkStatus *status;

  a->container_id = ctrd_generate_id ();
  a->address = ctrd_network_choose_address (f->network, NULL, last, &error);
  g_assert_no_error (error);
  a->state_path = g_strdup_printf ("%s/%s.json", f->dir, a->container_id);
  a->ports = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_port_mapping_free);
  if (with_port)
    g_ptr_array_add (a->ports, ctrd_port_mapping_new ("127.0.0.1", free_port (SOCK_STREAM), 80,
                                                      "tcp"));
  attach.network = f->network;
  attach.container_id = a->container_id;
  attach.container_name = "test";
  attach.address = a->address;
  attach.ports = a->ports;
  attach.state_path = a->state_path;
  status = ctrd_netavark_attach (f->netavark, &attach, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (status);
  if (out_status != NULL)
    *out_status = status;
  else
    ctrd_network_status_free (status);
  return a;
}

static void
assert_network_gone (NetFixture *f)
{
  g_autofree char *chain_list = NULL;
  const char *const list[] = { "iptables", "-w", "-t", "nat", "-S", f->chain, NULL };
  int status = 0;

  g_assert_false (link_exists (f->network->interface));
  g_assert_cmpuint (firewall_lines_with (f->network->subnet), ==, 0);
  g_assert_cmpuint (firewall_lines_with (f->chain), ==, 0);
  chain_list = command_output (list, &status);
  g_assert_cmpint (status, !=, 0);
}

static void
test_attach_detach (NetFixture *f, gconstpointer user_data)
{
  g_autoptr (CtrdNetworkStatus) status = NULL;
  g_autoptr (TestAttachment) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *netns = NULL;

  if (skip_without_netavark (f))
    return;
  a = attach_one (f, NULL, TRUE, &status);
  netns = ctrd_netavark_netns_path (f->netavark, a->container_id);
  g_assert_cmpstr (status->address, ==, a->address);
  g_assert_cmpuint (status->prefix, ==, 24);
  g_assert_cmpstr (status->interface, ==, "eth0");
  g_assert_cmpstr (status->gateway, ==, f->network->gateway);
  g_assert_true (link_exists (f->network->interface));
  g_assert_true (ctrd_netns_exists (netns));
  g_assert_cmpuint (firewall_lines_with (f->network->subnet), >, 0);
  g_assert_cmpuint (firewall_lines_with (a->container_id), >, 0);

  /* the bytes setup got are what teardown will get */
  g_assert_true (g_file_get_contents (a->state_path, &kept, NULL, NULL));
  expected = ctrd_netavark_setup_json (f->network, a->container_id, "test", a->address, NULL,
                                       a->ports, NULL);
  g_assert_cmpstr (kept, ==, expected);

  g_assert_true (ctrd_netavark_detach (f->netavark, a->container_id, a->state_path, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (a->state_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (netns, G_FILE_TEST_EXISTS));
  assert_network_gone (f);
  /* nothing left to undo is fine */
  g_assert_true (ctrd_netavark_detach (f->netavark, a->container_id, a->state_path, NULL, &error));
  g_assert_no_error (error);
}

/* The bridge has no port left once a dead namespace's veth is gone. */
static void
wait_bridge_empty (const char *bridge)
{
  g_autofree char *brif = g_build_filename ("/sys/class/net", bridge, "brif", NULL);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (TRUE)
    {
      g_autofree char *listing = ctrd_test_dir_listing (brif);
      if (g_str_equal (listing, "") || g_get_monotonic_time () > deadline)
        break;
      g_usleep (10 * 1000);
    }
}

static void
test_detach_without_netns (NetFixture *f, gconstpointer user_data)
{
  g_autoptr (TestAttachment) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *netns = NULL;

  if (skip_without_netavark (f))
    return;
  a = attach_one (f, NULL, TRUE, NULL);
  netns = ctrd_netavark_netns_path (f->netavark, a->container_id);
  /* what a reboot or a crash leaves: the rules and the bridge, no namespace */
  g_assert_true (ctrd_netns_remove (netns, &error));
  wait_bridge_empty (f->network->interface);
  g_assert_true (link_exists (f->network->interface));
  g_assert_cmpuint (firewall_lines_with (a->container_id), >, 0);

  g_assert_true (ctrd_netavark_detach (f->netavark, a->container_id, a->state_path, NULL, &error));
  g_assert_no_error (error);
  assert_network_gone (f);
  g_assert_cmpuint (firewall_lines_with (a->container_id), ==, 0);
  g_assert_false (g_file_test (a->state_path, G_FILE_TEST_EXISTS));
}

static void
test_leaked_chain (NetFixture *f, gconstpointer user_data)
{
  g_autoptr (TestAttachment) with_port = NULL;
  g_autoptr (TestAttachment) without = NULL;
  g_autoptr (GError) error = NULL;

  if (skip_without_netavark (f))
    return;
  with_port = attach_one (f, NULL, TRUE, NULL);
  without = attach_one (f, with_port->address, FALSE, NULL);
  g_assert_cmpstr (without->address, !=, with_port->address);
  g_assert_true (ctrd_netavark_detach (f->netavark, with_port->container_id,
                                       with_port->state_path, NULL, &error));
  /* still in use by the other */
  g_assert_true (link_exists (f->network->interface));
  g_assert_true (ctrd_netavark_detach (f->netavark, without->container_id, without->state_path,
                                       NULL, &error));
  g_assert_no_error (error);
  assert_network_gone (f);
}

static void
test_attach_failure_undoes (NetFixture *f, gconstpointer user_data)
{
  g_autofree char *id = ctrd_generate_id ();
  g_autofree char *state_path = g_build_filename (f->dir, "failing.json", NULL);
  g_autofree char *netns = NULL;
  g_autoptr (GError) error = NULL;
  CtrdNetworkAttach attach = { 0 };

  if (skip_without_netavark (f))
    return;
  netns = ctrd_netavark_netns_path (f->netavark, id);
  attach.network = f->network;
  attach.container_id = id;
  attach.container_name = "failing";
  attach.address = "192.0.2.200"; /* not in the network's subnet: netavark refuses */
  attach.state_path = state_path;
  g_assert_null (ctrd_netavark_attach (f->netavark, &attach, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR);
  g_assert_nonnull (strstr (error->message, "netavark setup"));
  g_assert_false (g_file_test (state_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (netns, G_FILE_TEST_EXISTS));
  assert_network_gone (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/network/subnet/parse", test_parse_subnet);
  g_test_add_func ("/network/names/validate", test_validate_names);
  g_test_add_func ("/network/new/defaults", test_check_new_defaults);
  g_test_add_func ("/network/new/rejects", test_check_new_rejects);
  g_test_add_func ("/network/config/json", test_config_json);
  g_test_add_func ("/network/host/routes", test_host_routes);
  g_test_add_func ("/network/address/check", test_check_address);
  g_test_add_func ("/network/address/choose", test_choose_address);
  g_test_add_func ("/network/ports/validate", test_validate_ports);
  g_test_add_func ("/network/ports/reserve", test_reserve_ports);
  g_test_add_func ("/network/settings/json", test_settings_json);
  g_test_add_func ("/network/netavark/setup-json", test_setup_json);
  g_test_add_func ("/network/netavark/parse-status", test_parse_status);
  g_test_add_func ("/network/netavark/dnat-chain", test_dnat_chain);
  g_test_add ("/network/db/migrates", DbFixture, NULL, db_setup, test_db_migrates, db_teardown);
  g_test_add ("/network/db/networks", DbFixture, NULL, db_setup, test_db_networks, db_teardown);
  g_test_add ("/network/db/addresses", DbFixture, NULL, db_setup, test_db_addresses, db_teardown);
  g_test_add_func ("/network/netns/create-remove", test_netns);
  g_test_add ("/network/netavark/attach-detach", NetFixture, NULL, net_setup, test_attach_detach,
              net_teardown);
  g_test_add ("/network/netavark/detach-without-netns", NetFixture, NULL, net_setup,
              test_detach_without_netns, net_teardown);
  g_test_add ("/network/netavark/leaked-chain", NetFixture, NULL, net_setup, test_leaked_chain,
              net_teardown);
  g_test_add ("/network/netavark/attach-failure-undoes", NetFixture, NULL, net_setup,
              test_attach_failure_undoes, net_teardown);
  return g_test_run ();
}
