/* ctrd-network-netavark.c: netavark's setup and teardown as podman 4 drives
 * them (libnetwork/netavark: "netavark --config DIR --rootless=false
 * --aardvark-binary=PATH setup|teardown NETNS", the options as JSON on
 * stdin, a StatusBlock or {"error": ...} on stdout), the kept setup JSON that
 * teardown must get byte for byte, and the recoveries netavark 1.4 needs. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-files.h"
#include "ctrd-json.h"
#include "ctrd-network.h"

#define DEFAULT_NETAVARK "/usr/lib/podman/netavark"
#define DEFAULT_AARDVARK "/usr/lib/podman/aardvark-dns"
#define CHILD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DNAT_CHAIN_PREFIX "NETAVARK-DN-"
#define NETWORK_HASH_LEN 13 /* netavark's MAX_HASH_SIZE */
#define STATE_MAX_BYTES (1024 * 1024)

struct _CtrdNetavark
{
  char *netavark;
  char *aardvark_dns;
  char *config_dir; /* netavark's --config: aardvark-dns's files live below */
  char *netns_dir;
  gboolean dns_forward;
  GMutex lock;          /* one netavark run at a time, and attach/detach whole */
  GPid reaped_aardvark; /* the aardvark-dns a child watch reaps, 0 = none */
};

CtrdNetavark *
ctrd_netavark_new (const CtrdNetavarkOptions *options, GError **error)
{
  g_autoptr (CtrdNetavark) netavark = g_new0 (CtrdNetavark, 1);

  g_mutex_init (&netavark->lock);
  netavark->netavark = g_strdup (options->netavark != NULL ? options->netavark : DEFAULT_NETAVARK);
  netavark->aardvark_dns =
      g_strdup (options->aardvark_dns != NULL ? options->aardvark_dns : DEFAULT_AARDVARK);
  netavark->dns_forward = options->dns_forward;
  if (options->run_dir == NULL || !g_path_is_absolute (options->run_dir))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "The network run directory must be an absolute path");
      return NULL;
    }
  if (!g_file_test (netavark->netavark, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "netavark is not installed at %s (Debian package netavark)", netavark->netavark);
      return NULL;
    }
  netavark->config_dir = g_build_filename (options->run_dir, "netavark", NULL);
  netavark->netns_dir = g_build_filename (options->run_dir, "netns", NULL);
  if (g_mkdir_with_parents (netavark->config_dir, 0700) != 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot create %s", netavark->config_dir);
      return NULL;
    }
  if (!ctrd_netns_prepare_dir (netavark->netns_dir, error))
    return NULL;
  return g_steal_pointer (&netavark);
}

void
ctrd_netavark_free (CtrdNetavark *netavark)
{
  if (netavark == NULL)
    return;
  g_mutex_clear (&netavark->lock);
  g_free (netavark->netavark);
  g_free (netavark->aardvark_dns);
  g_free (netavark->config_dir);
  g_free (netavark->netns_dir);
  g_free (netavark);
}

char *
ctrd_netavark_netns_path (CtrdNetavark *netavark, const char *container_id)
{
  return g_build_filename (netavark->netns_dir, container_id, NULL);
}

char *
ctrd_netavark_dnat_chain (const char *network_name)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA512, network_name, -1);
  g_autofree char *upper = g_ascii_strup (hash, NETWORK_HASH_LEN);

  return g_strconcat (DNAT_CHAIN_PREFIX, upper, NULL);
}

/* ---------------------------------------------------------------- the JSON */

static void
add_network_info (JsonBuilder *builder, const CtrdNetworkConfig *network)
{
  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "name", network->name);
  ctrd_json_add_string (builder, "id", network->id);
  ctrd_json_add_string (builder, "driver", CTRD_NETWORK_DRIVER_BRIDGE);
  ctrd_json_add_string (builder, "network_interface", network->interface);
  json_builder_set_member_name (builder, "subnets");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "subnet", network->subnet);
  ctrd_json_add_string (builder, "gateway", network->gateway);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "ipv6_enabled");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "internal");
  json_builder_add_boolean_value (builder, network->internal);
  json_builder_set_member_name (builder, "dns_enabled");
  json_builder_add_boolean_value (builder, network->dns_enabled);
  /* the allocation is ours: netavark only applies the static_ips */
  json_builder_set_member_name (builder, "ipam_options");
  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "driver", "host-local");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

char *
ctrd_netavark_setup_json (const CtrdNetworkConfig *network, const char *container_id,
                          const char *container_name, const char *address,
                          const char *const *aliases, GPtrArray *ports,
                          const char *const *dns_servers)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *static_ips[] = { address, NULL };

  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "container_id", container_id);
  ctrd_json_add_string (builder, "container_name", container_name);
  json_builder_set_member_name (builder, "port_mappings");
  json_builder_begin_array (builder);
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      const CtrdPortMapping *mapping = ports->pdata[i];

      json_builder_begin_object (builder);
      ctrd_json_add_string (builder, "host_ip", mapping->host_ip);
      json_builder_set_member_name (builder, "container_port");
      json_builder_add_int_value (builder, mapping->container_port);
      json_builder_set_member_name (builder, "host_port");
      json_builder_add_int_value (builder, mapping->host_port);
      json_builder_set_member_name (builder, "range");
      json_builder_add_int_value (builder, 1);
      ctrd_json_add_string (builder, "protocol", mapping->protocol);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "networks");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, network->name);
  json_builder_begin_object (builder);
  ctrd_json_add_string (builder, "interface_name", CTRD_NETWORK_CONTAINER_INTERFACE);
  ctrd_json_add_strv (builder, "static_ips", static_ips);
  ctrd_json_add_strv (builder, "aliases", network->dns_enabled ? aliases : NULL);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "network_info");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, network->name);
  add_network_info (builder, network);
  json_builder_end_object (builder);

  if (network->dns_enabled && dns_servers != NULL && dns_servers[0] != NULL)
    ctrd_json_add_strv (builder, "dns_servers", dns_servers);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static JsonObject *
get_object_member (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static const char *
get_string_member (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static char **
get_string_array (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          if (JSON_NODE_HOLDS_VALUE (element) &&
              json_node_get_value_type (element) == G_TYPE_STRING)
            g_strv_builder_add (builder, json_node_get_string (element));
        }
    }
  return g_strv_builder_end (builder);
}

void
ctrd_network_status_free (CtrdNetworkStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->interface);
  g_free (status->mac_address);
  g_free (status->address);
  g_free (status->gateway);
  g_strfreev (status->dns_servers);
  g_strfreev (status->dns_search);
  g_free (status);
}

static CtrdNetworkStatus *
bad_status (const char *why, GError **error)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "netavark's answer is not a usable StatusBlock: %s", why);
  return NULL;
}

CtrdNetworkStatus *
ctrd_netavark_parse_status (const char *json, const char *network_name, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CtrdNetworkStatus) status = g_new0 (CtrdNetworkStatus, 1);
  g_autoptr (GList) names = NULL;
  JsonObject *root = ctrd_json_parse_object (parser, json, "netavark JSON", NULL);
  JsonObject *block = get_object_member (root, network_name);
  JsonObject *interfaces = get_object_member (block, "interfaces");
  JsonObject *interface;
  JsonNode *subnets;
  JsonArray *subnet_array;
  const char *ipnet, *gateway, *slash;
  guint64 prefix;

  if (root == NULL)
    return bad_status ("not a JSON object", error);
  if (block == NULL)
    return bad_status ("no entry for the network", error);
  names = interfaces != NULL ? json_object_get_members (interfaces) : NULL;
  if (names == NULL)
    return bad_status ("no interface", error);
  status->interface = g_strdup (names->data);
  interface = get_object_member (interfaces, status->interface);
  status->mac_address = g_strdup (get_string_member (interface, "mac_address"));
  subnets = interface != NULL ? json_object_get_member (interface, "subnets") : NULL;
  if (subnets == NULL || !JSON_NODE_HOLDS_ARRAY (subnets) ||
      json_array_get_length (subnet_array = json_node_get_array (subnets)) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (subnet_array, 0)))
    return bad_status ("no address on the interface", error);
  ipnet = get_string_member (json_array_get_object_element (subnet_array, 0), "ipnet");
  gateway = get_string_member (json_array_get_object_element (subnet_array, 0), "gateway");
  slash = ipnet != NULL ? strchr (ipnet, '/') : NULL;
  if (slash == NULL || !g_ascii_string_to_unsigned (slash + 1, 10, 0, 32, &prefix, NULL) ||
      !g_hostname_is_ip_address (status->address = g_strndup (ipnet, slash - ipnet)))
    return bad_status ("the address is not IP/prefix", error);
  status->prefix = (guint) prefix;
  status->gateway = g_strdup (gateway != NULL ? gateway : "");
  if (status->mac_address == NULL)
    status->mac_address = g_strdup ("");
  status->dns_servers = get_string_array (block, "dns_server_ips");
  status->dns_search = get_string_array (block, "dns_search_domains");
  return g_steal_pointer (&status);
}

char *
ctrd_netavark_parse_error (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = ctrd_json_parse_object (parser, json, "netavark JSON", NULL);
  const char *message = get_string_member (root, "error");

  if (message != NULL)
    return g_strdup (message);
  return g_strstrip (g_strdup (json != NULL ? json : ""));
}

/* ---------------------------------------------------------------- running netavark */

static GSubprocessLauncher *
new_launcher (CtrdNetavark *netavark)
{
  GSubprocessLauncher *launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
  const char *environ_[] = { "PATH=" CHILD_PATH, NULL, NULL };

  /* aardvark-dns (started by netavark) inherits this: without forwarding it
   * answers only for the containers of its networks */
  if (!netavark->dns_forward)
    environ_[1] = "AARDVARK_NO_PROXY=1";
  g_subprocess_launcher_set_environ (launcher, (char **) environ_);
  return launcher;
}

/* Runs "netavark ... @verb @netns_path" with @json on stdin; returns its
 * stdout, or NULL with RUNTIME_ERROR carrying netavark's message. */
static char *
run_netavark (CtrdNetavark *netavark, const char *verb, const char *netns_path, const char *json,
              GCancellable *cancellable, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = new_launcher (netavark);
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *config_arg = g_strconcat ("--config=", netavark->config_dir, NULL);
  g_autofree char *aardvark_arg = g_strconcat ("--aardvark-binary=", netavark->aardvark_dns, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *message = NULL;
  const char *const argv[] = {
    netavark->netavark, config_arg, "--rootless=false", aardvark_arg, verb, netns_path, NULL,
  };

  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, json, cancellable, &out, &err, error))
    {
      g_prefix_error (error, "netavark %s: ", verb);
      ctrd_error_normalize (error, CTRD_ERROR_RUNTIME_ERROR);
      return NULL;
    }
  if (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0)
    return g_steal_pointer (&out);
  message = ctrd_netavark_parse_error (out);
  g_strstrip (err);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR, "netavark %s failed: %s%s%s", verb,
               *message != '\0' ? message : "(no message)", *err != '\0' ? "; " : "", err);
  return NULL;
}

static void
on_aardvark_exited (GPid pid, int status, gpointer user_data)
{
  /* GLib has reaped it; the next setup starts another */
  g_debug ("aardvark-dns (pid %d) exited", (int) pid);
}

/* netavark starts aardvark-dns, which daemonizes; where the daemon is a
 * subreaper the daemonized aardvark-dns becomes its child: a child watch on
 * the main context reaps it when it exits. */
static void
watch_aardvark (CtrdNetavark *netavark)
{
  g_autofree char *pid_path =
      g_build_filename (netavark->config_dir, "aardvark-dns", "aardvark.pid", NULL);
  g_autofree char *pid_text = NULL;
  g_autofree char *status_path = NULL;
  g_autofree char *status = NULL;
  g_autoptr (GSource) source = NULL;
  guint64 pid;
  char *ppid;

  if (!g_file_get_contents (pid_path, &pid_text, NULL, NULL) ||
      !g_ascii_string_to_unsigned (g_strstrip (pid_text), 10, 1, G_MAXINT32, &pid, NULL) ||
      (GPid) pid == netavark->reaped_aardvark)
    return;
  status_path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT "/status", pid);
  if (!g_file_get_contents (status_path, &status, NULL, NULL) ||
      (ppid = strstr (status, "\nPPid:")) == NULL ||
      g_ascii_strtoll (ppid + strlen ("\nPPid:"), NULL, 10) != getpid ())
    return;
  netavark->reaped_aardvark = (GPid) pid;
  source = g_child_watch_source_new ((GPid) pid);
  g_source_set_callback (source, G_SOURCE_FUNC (on_aardvark_exited), NULL, NULL);
  g_source_attach (source, NULL);
}

/* ---------------------------------------------------------------- detach */

/* The bridge and network name recorded in a kept setup JSON. */
static gboolean
state_network (const char *json, char **out_network_name, char **out_bridge)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *info = get_object_member (
      ctrd_json_parse_object (parser, json, "netavark JSON", NULL), "network_info");
  g_autoptr (GList) names = info != NULL ? json_object_get_members (info) : NULL;
  const char *bridge;

  if (names == NULL)
    return FALSE;
  bridge = get_string_member (get_object_member (info, names->data), "network_interface");
  if (bridge == NULL || !ctrd_network_validate_interface (bridge, NULL))
    return FALSE;
  *out_network_name = g_strdup (names->data);
  *out_bridge = g_strdup (bridge);
  return TRUE;
}

static gboolean
run_iptables (const char *const *argv, char **out_stdout)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  const char *environ_[] = { "PATH=" CHILD_PATH, NULL };
  g_autoptr (GSubprocess) proc = NULL;

  g_subprocess_launcher_set_environ (launcher, (char **) environ_);
  proc = g_subprocess_launcher_spawnv (launcher, argv, NULL);
  return proc != NULL && g_subprocess_communicate_utf8 (proc, NULL, NULL, out_stdout, NULL, NULL) &&
         g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0;
}

/* netavark 1.4 leaves the network's NETAVARK-DN-<hash> nat chain behind,
 * empty, when the last container to leave published no port but an earlier
 * one did: once the bridge is gone, an empty chain of that name goes too. */
static void
remove_leaked_dnat_chain (const char *network_name, const char *bridge)
{
  g_autofree char *sys_path = g_build_filename ("/sys/class/net", bridge, NULL);
  g_autofree char *chain = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *only_rule = NULL;

  if (g_file_test (sys_path, G_FILE_TEST_EXISTS))
    return;
  chain = ctrd_netavark_dnat_chain (network_name);
  only_rule = g_strconcat ("-N ", chain, NULL);
  {
    const char *const list[] = { "iptables", "-w", "-t", "nat", "-S", chain, NULL };
    if (!run_iptables (list, &listing) || !g_str_equal (g_strstrip (listing), only_rule))
      return;
  }
  {
    const char *const remove[] = { "iptables", "-w", "-t", "nat", "-X", chain, NULL };
    if (!run_iptables (remove, NULL))
      g_warning ("Cannot remove the empty nat chain %s netavark left behind", chain);
  }
}

/* The container's namespace is gone: tear down in a stand-in namespace with
 * a veth of the container's interface name, which netavark deletes in place
 * of the real one and then goes on to the bridge and the rules. */
static void
teardown_without_netns (CtrdNetavark *netavark, const char *container_id, const char *json,
                        GCancellable *cancellable)
{
  g_autofree char *stub_name = g_strconcat (container_id, ".stub", NULL);
  g_autofree char *stub_path = g_build_filename (netavark->netns_dir, stub_name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  if (!ctrd_netns_remove (stub_path, &error) ||
      !ctrd_netns_create (stub_path, CTRD_NETWORK_CONTAINER_INTERFACE, &error))
    {
      g_warning ("Container %.12s: cannot tear its network down: %s", container_id, error->message);
      return;
    }
  out = run_netavark (netavark, "teardown", stub_path, json, cancellable, &error);
  /* expected to complain about what is already gone (aardvark's entry) */
  if (out == NULL)
    g_debug ("Container %.12s: teardown without its namespace: %s", container_id, error->message);
  g_clear_error (&error);
  if (!ctrd_netns_remove (stub_path, &error))
    g_warning ("%s", error->message);
}

/* @undoing: right after a failed setup, when netavark is expected to find
 * parts missing, its complaints are only debug messages. */
static gboolean
detach_locked (CtrdNetavark *netavark, const char *container_id, const char *state_path,
               gboolean undoing, GCancellable *cancellable, GError **error)
{
  g_autofree char *netns_path = ctrd_netavark_netns_path (netavark, container_id);
  g_autofree char *json = NULL;
  g_autofree char *network_name = NULL;
  g_autofree char *bridge = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize len;

  if (!g_file_get_contents (state_path, &json, &len, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("Container %.12s: %s", container_id, local_error->message);
      g_clear_error (&local_error);
      json = NULL;
    }
  else if (len > STATE_MAX_BYTES)
    g_clear_pointer (&json, g_free);

  if (json != NULL)
    {
      if (ctrd_netns_exists (netns_path))
        {
          g_autofree char *out =
              run_netavark (netavark, "teardown", netns_path, json, cancellable, &local_error);
          if (out == NULL && undoing)
            g_debug ("Container %.12s: undoing a failed setup: %s", container_id,
                     local_error->message);
          else if (out == NULL)
            g_warning ("Container %.12s: %s", container_id, local_error->message);
          g_clear_error (&local_error);
        }
      else
        teardown_without_netns (netavark, container_id, json, cancellable);
      if (state_network (json, &network_name, &bridge))
        remove_leaked_dnat_chain (network_name, bridge);
    }

  /* the namespace goes after the teardown, never before */
  if (!ctrd_netns_remove (netns_path, &local_error))
    g_warning ("Container %.12s: %s", container_id, local_error->message);
  g_clear_error (&local_error);
  if (g_unlink (state_path) != 0 && errno != ENOENT)
    return ctrd_throw_errno (error, "Container %.12s: cannot remove %s", container_id, state_path);
  return TRUE;
}

gboolean
ctrd_netavark_detach (CtrdNetavark *netavark, const char *container_id, const char *state_path,
                      GCancellable *cancellable, GError **error)
{
  gboolean ok;

  g_mutex_lock (&netavark->lock);
  ok = detach_locked (netavark, container_id, state_path, FALSE, cancellable, error);
  g_mutex_unlock (&netavark->lock);
  return ok;
}

/* ---------------------------------------------------------------- attach */

static CtrdNetworkStatus *
attach_locked (CtrdNetavark *netavark, const CtrdNetworkAttach *attach, GCancellable *cancellable,
               GError **error)
{
  g_autofree char *netns_path = ctrd_netavark_netns_path (netavark, attach->container_id);
  g_autofree char *json = NULL;
  g_autofree char *out = NULL;
  g_autoptr (CtrdNetworkStatus) status = NULL;
  g_autoptr (GError) local_error = NULL;

  /* what an earlier run left (a crash between setup and teardown) */
  if (!detach_locked (netavark, attach->container_id, attach->state_path, FALSE, cancellable,
                      error))
    return NULL;

  json = ctrd_netavark_setup_json (attach->network, attach->container_id, attach->container_name,
                                   attach->address, attach->aliases, attach->ports,
                                   attach->dns_servers);
  if (!ctrd_files_write_atomically (attach->state_path, json, strlen (json), 0600, error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_STORAGE_ERROR);
      return NULL;
    }
  if (!ctrd_netns_create (netns_path, NULL, error))
    {
      g_unlink (attach->state_path);
      return NULL;
    }
  out = run_netavark (netavark, "setup", netns_path, json, cancellable, &local_error);
  if (out != NULL)
    status = ctrd_netavark_parse_status (out, attach->network->name, &local_error);
  if (status == NULL)
    {
      g_autoptr (GError) detach_error = NULL;

      /* setup may have done half: the same teardown as ever undoes it */
      if (!detach_locked (netavark, attach->container_id, attach->state_path, TRUE, NULL,
                          &detach_error))
        g_warning ("%s", detach_error->message);
      ctrd_error_normalize (&local_error, CTRD_ERROR_RUNTIME_ERROR);
      local_error->code = CTRD_ERROR_RUNTIME_ERROR;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (attach->network->dns_enabled)
    watch_aardvark (netavark);
  return g_steal_pointer (&status);
}

CtrdNetworkStatus *
ctrd_netavark_attach (CtrdNetavark *netavark, const CtrdNetworkAttach *attach,
                      GCancellable *cancellable, GError **error)
{
  CtrdNetworkStatus *status;

  g_mutex_lock (&netavark->lock);
  status = attach_locked (netavark, attach, cancellable, error);
  g_mutex_unlock (&netavark->lock);
  return status;
}
