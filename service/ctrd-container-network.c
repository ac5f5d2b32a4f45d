/* ctrd-container-network.c: the container's network: its properties, the
 * start's network steps on either side of the worker (podman's order: host
 * ports, address, namespace and netavark setup, then the files and the spec
 * join it), the teardown on every way out of running (stop, exit, a failed
 * start, removal, a crash, a reboot), Inspect's NetworkSettings, and leaving
 * a network that is removed. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "ctrd-container-private.h"
#include "ctrd-error.h"
#include "ctrd-network-object.h"

gboolean
ctrd_container_on_bridge (CtrdContainer *self)
{
  return self->config->network->mode == CTRD_NETWORK_MODE_BRIDGE;
}

const char *
ctrd_container_get_network_id (CtrdContainer *self)
{
  return ctrd_container_on_bridge (self) ? self->config->network->network_id : "";
}

const char *
ctrd_container_network_display_name (CtrdContainer *self)
{
  CtrdNetworkSettings *settings = self->config->network;
  CtrdNetwork *network;

  if (settings->mode != CTRD_NETWORK_MODE_BRIDGE)
    return ctrd_network_mode_to_string (settings->mode);
  network = ctrd_daemon_get_network_by_id (self->daemon, settings->network_id);
  /* a network removed under it leaves its ID */
  return network != NULL ? ctrd_network_get_name (network) : settings->network_id;
}

GVariant *
ctrd_container_ports_variant (const CtrdNetworkSettings *settings)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sqqs)"));

  for (guint i = 0; i < settings->ports->len; i++)
    {
      const CtrdPortMapping *mapping = settings->ports->pdata[i];
      g_variant_builder_add (&builder, "(sqqs)", mapping->host_ip, mapping->host_port,
                             mapping->container_port, mapping->protocol);
    }
  return g_variant_builder_end (&builder);
}

void
ctrd_container_set_ip_address (CtrdContainer *self, const char *address)
{
  g_free (self->ip_address);
  self->ip_address = g_strdup (address);
  ctr_container_set_ipaddress (CTR_CONTAINER (self), address != NULL ? address : "");
}

void
ctrd_container_release_address (CtrdContainer *self)
{
  g_autoptr (GError) error = NULL;

  if (!ctrd_db_delete_addresses (ctrd_daemon_get_db (self->daemon), self->config->id, &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  ctrd_container_set_ip_address (self, NULL);
}

char *
ctrd_container_network_state_path (CtrdDaemon *daemon, const char *id)
{
  g_autofree char *dir = ctrd_storage_container_dir (ctrd_daemon_get_storage (daemon), id);

  return g_build_filename (dir, "network.json", NULL);
}

/* ---------------------------------------------------------------- start */

gboolean
ctrd_container_network_start_prepare (CtrdContainer *self, CtrdContainerNetworkStart *start,
                                      GError **error)
{
  CtrdNetworkSettings *settings = self->config->network;
  CtrdNetwork *network;

  start->host_network = settings->mode == CTRD_NETWORK_MODE_HOST;
  if (settings->mode != CTRD_NETWORK_MODE_BRIDGE)
    return TRUE;
  network = ctrd_daemon_get_network_by_id (self->daemon, settings->network_id);
  if (network == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                   "Container %s: its network %.12s is gone", self->config->name,
                   settings->network_id);
      return FALSE;
    }
  if (ctrd_daemon_get_netavark (self->daemon) == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                   "Container %s: bridge networks need netavark, which is not installed",
                   self->config->name);
      return FALSE;
    }
  start->port_fds = ctrd_ports_reserve (settings->ports, error);
  if (start->port_fds == NULL)
    {
      g_prefix_error (error, "Container %s: ", self->config->name);
      return FALSE;
    }
  start->address =
      ctrd_network_allocate_address (network, self->config->id, settings->static_ip, error);
  if (start->address == NULL)
    {
      g_prefix_error (error, "Container %s: ", self->config->name);
      return FALSE;
    }
  g_free (self->ip_address);
  self->ip_address = g_strdup (start->address);
  start->netavark = ctrd_daemon_get_netavark (self->daemon);
  start->network = ctrd_network_config_copy (ctrd_network_get_config (network));
  start->state_path = ctrd_container_network_state_path (self->daemon, self->config->id);
  return TRUE;
}

gboolean
ctrd_container_network_start_attach (const CtrdContainerConfig *config,
                                     CtrdContainerNetworkStart *start, GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (GStrvBuilder) aliases = g_strv_builder_new ();
  g_auto (GStrv) alias_list = NULL;
  g_autofree char *short_id = g_strndup (config->id, 12);
  CtrdNetworkAttach attach = { 0 };

  /* like podman: the container's name, its aliases and its short ID */
  g_strv_builder_addv (aliases, (const char **) config->network->aliases);
  g_strv_builder_add (aliases, short_id);
  alias_list = g_strv_builder_end (aliases);
  attach.network = start->network;
  attach.container_id = config->id;
  attach.container_name = config->name;
  attach.address = start->address;
  attach.aliases = (const char *const *) alias_list;
  attach.ports = config->network->ports;
  attach.dns_servers = (const char *const *) config->dns_servers;
  attach.state_path = start->state_path;
  start->status = ctrd_netavark_attach (start->netavark, &attach, cancellable, error);
  if (start->status == NULL)
    return FALSE;
  start->netns_path = ctrd_netavark_netns_path (start->netavark, config->id);
  return TRUE;
}

void
ctrd_container_network_start_undo (const CtrdContainerConfig *config,
                                   CtrdContainerNetworkStart *start)
{
  g_autoptr (GError) error = NULL;

  if (start->status == NULL)
    return;
  if (!ctrd_netavark_detach (start->netavark, config->id, start->state_path, NULL, &error))
    g_warning ("Container %s: %s", config->name, error->message);
  g_clear_pointer (&start->status, ctrd_network_status_free);
}

void
ctrd_container_network_start_clear (CtrdContainerNetworkStart *start)
{
  g_clear_pointer (&start->network, ctrd_network_config_free);
  g_clear_pointer (&start->address, g_free);
  g_clear_pointer (&start->state_path, g_free);
  g_clear_pointer (&start->port_fds, ctrd_ports_release);
  g_clear_pointer (&start->status, ctrd_network_status_free);
  g_clear_pointer (&start->netns_path, g_free);
}

void
ctrd_container_network_started (CtrdContainer *self, const CtrdContainerNetworkStart *start)
{
  if (start->status == NULL)
    return;
  self->network_attached = TRUE;
  ctrd_container_set_ip_address (self, start->status->address);
}

void
ctrd_container_network_start_failed (CtrdContainer *self)
{
  if (self->network_attached)
    ctrd_container_detach_network_in_background (self);
  else if (ctrd_container_on_bridge (self))
    ctrd_container_release_address (self);
}

/* ---------------------------------------------------------------- teardown */

typedef struct
{
  CtrdNetavark *netavark;
  char *id;
  char *state_path;
} DetachData;

static void
detach_data_free (DetachData *data)
{
  g_free (data->id);
  g_free (data->state_path);
  g_free (data);
}

static void
detach_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  DetachData *data = task_data;
  GError *error = NULL;

  if (ctrd_netavark_detach (data->netavark, data->id, data->state_path, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
ctrd_container_detach_network_async (CtrdContainer *self, GAsyncReadyCallback callback)
{
  CtrdNetavark *netavark = ctrd_daemon_get_netavark (self->daemon);
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, NULL);
  DetachData *data;

  if (netavark == NULL)
    {
      /* nothing can have been set up */
      g_task_return_boolean (task, TRUE);
      return;
    }
  data = g_new0 (DetachData, 1);
  data->netavark = netavark;
  data->id = g_strdup (self->config->id);
  data->state_path = ctrd_container_network_state_path (self->daemon, self->config->id);
  g_task_set_task_data (task, data, (GDestroyNotify) detach_data_free);
  g_task_run_in_thread (task, detach_thread);
}

void
ctrd_container_finish_network_detach (CtrdContainer *self, GAsyncResult *result)
{
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Container %s: %s", self->config->name, error->message);
  self->network_attached = FALSE;
  ctrd_container_release_address (self);
}

static void
on_background_network_detached (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdContainer *self = CTRD_CONTAINER (source);

  ctrd_container_finish_network_detach (self, result);
  self->op = CTRD_OP_NONE;
  ctrd_container_answer_stoppers (self);
  ctrd_container_run_after_cleanup (self);
}

void
ctrd_container_detach_network_in_background (CtrdContainer *self)
{
  self->op = CTRD_OP_CLEANUP;
  ctrd_container_detach_network_async (self, on_background_network_detached);
}

gboolean
ctrd_container_detach_network_sync (CtrdDaemon *daemon, const CtrdContainerConfig *config,
                                    GCancellable *cancellable, GError **error)
{
  CtrdNetavark *netavark = ctrd_daemon_get_netavark (daemon);
  g_autofree char *state_path = NULL;

  if (config->network->mode != CTRD_NETWORK_MODE_BRIDGE || netavark == NULL)
    return TRUE;
  state_path = ctrd_container_network_state_path (daemon, config->id);
  return ctrd_netavark_detach (netavark, config->id, state_path, cancellable, error);
}

/* ---------------------------------------------------------------- Inspect */

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value != NULL ? value : "");
}

/* podman inspect's NetworkSettings, in short. */
void
ctrd_container_add_network_settings (CtrdContainer *self, JsonBuilder *builder)
{
  CtrdNetworkSettings *settings = self->config->network;
  CtrdNetwork *network = ctrd_daemon_get_network_by_id (self->daemon, settings->network_id);
  const CtrdNetworkConfig *config = network != NULL ? ctrd_network_get_config (network) : NULL;
  CtrdNetavark *netavark = ctrd_daemon_get_netavark (self->daemon);
  g_autofree char *netns = NULL;

  if (self->network_attached && netavark != NULL)
    netns = ctrd_netavark_netns_path (netavark, self->config->id);
  json_builder_set_member_name (builder, "NetworkSettings");
  json_builder_begin_object (builder);
  add_string (builder, "Mode", ctrd_network_mode_to_string (settings->mode));
  add_string (builder, "Network", ctrd_container_network_display_name (self));
  add_string (builder, "NetworkId", settings->network_id);
  add_string (builder, "IPAddress", self->ip_address);
  add_string (builder, "Subnet", config != NULL ? config->subnet : NULL);
  add_string (builder, "Gateway",
              config != NULL && self->ip_address != NULL ? config->gateway : NULL);
  add_string (builder, "Bridge", config != NULL ? config->interface : NULL);
  add_string (builder, "SandboxKey", netns);
  json_builder_set_member_name (builder, "Aliases");
  json_builder_begin_array (builder);
  for (guint i = 0; settings->aliases[i] != NULL; i++)
    json_builder_add_string_value (builder, settings->aliases[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "Ports");
  json_builder_begin_array (builder);
  for (guint i = 0; i < settings->ports->len; i++)
    {
      const CtrdPortMapping *mapping = settings->ports->pdata[i];

      json_builder_begin_object (builder);
      add_string (builder, "HostIp", mapping->host_ip);
      json_builder_set_member_name (builder, "HostPort");
      json_builder_add_int_value (builder, mapping->host_port);
      json_builder_set_member_name (builder, "ContainerPort");
      json_builder_add_int_value (builder, mapping->container_port);
      add_string (builder, "Protocol", mapping->protocol);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

/* ---------------------------------------------------------------- leaving a network */

gboolean
ctrd_container_disconnect_network (CtrdContainer *self, GError **error)
{
  g_autoptr (CtrdContainerConfig) next = NULL;
  g_autofree char *old_network = NULL;
  CtrContainer *iface = CTR_CONTAINER (self);

  if (!ctrd_container_on_bridge (self))
    return TRUE;
  if (self->op != CTRD_OP_NONE || ctrd_container_is_live_state (self->run.state) ||
      self->run.state == CTRD_STATE_STOPPED || self->run.state == CTRD_STATE_REMOVING)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                   "Container %s cannot leave its network in state %s", self->config->name,
                   ctrd_state_to_string (self->run.state));
      return FALSE;
    }
  next = ctrd_container_config_copy (self->config);
  g_clear_pointer (&next->network, ctrd_network_settings_free);
  next->network = ctrd_network_settings_new ();
  /* the database first */
  if (!ctrd_db_update_container_config (ctrd_daemon_get_db (self->daemon), next, error))
    {
      g_prefix_error (error, "Container %s: ", self->config->name);
      return FALSE;
    }
  old_network = g_strdup (self->config->network->network_id);
  ctrd_network_settings_free (self->config->network);
  self->config->network = g_steal_pointer (&next->network);
  g_object_freeze_notify (G_OBJECT (self));
  ctr_container_set_network (iface, ctrd_container_network_display_name (self));
  ctr_container_set_ports (iface, ctrd_container_ports_variant (self->config->network));
  g_object_thaw_notify (G_OBJECT (self));
  ctrd_daemon_update_network_containers (self->daemon, old_network);
  g_message ("Container %s left network %.12s", self->config->name, old_network);
  return TRUE;
}
