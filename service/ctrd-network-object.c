/* ctrd-network-object.c: one bridge network object, and the daemon's network
 * bookkeeping on the main thread.
 *
 * Handlers follow the house pattern: validate, authorize
 * (org.example.containers1.network.manage), look the network up again (it
 * may have gone while polkit was asked), act, answer once. Every change is
 * written to the database before it is published. */
#include "config.h"

#include "ctrd-container.h"
#include "ctrd-error.h"
#include "ctrd-network-object.h"
#include "ctrd-util.h"

struct _CtrdNetwork
{
  CtrNetworkSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned: the daemon owns the network */
  CtrdNetworkConfig *config;
  char *object_path;
  gboolean removed;
  gboolean removing; /* a forced Remove is stopping its containers */
};

static void ctrd_network_iface_init (CtrNetworkIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdNetwork, ctrd_network, CTR_TYPE_NETWORK_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_NETWORK, ctrd_network_iface_init))

static void
ctrd_network_finalize (GObject *object)
{
  CtrdNetwork *self = CTRD_NETWORK (object);

  g_clear_pointer (&self->config, ctrd_network_config_free);
  g_free (self->object_path);
  G_OBJECT_CLASS (ctrd_network_parent_class)->finalize (object);
}

static void
ctrd_network_init (CtrdNetwork *self)
{
}

static void
ctrd_network_class_init (CtrdNetworkClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_network_finalize;
}

char *
ctrd_network_path_for_id (const char *id)
{
  return g_strconcat (CTRD_OBJECT_ROOT "/networks/", id, NULL);
}

CtrdNetwork *
ctrd_network_new (CtrdDaemon *daemon, CtrdNetworkConfig *config)
{
  CtrdNetwork *self = g_object_new (CTRD_TYPE_NETWORK, NULL);
  CtrNetwork *iface = CTR_NETWORK (self);
  g_auto (GVariantBuilder) labels = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  GHashTableIter iter;
  gpointer key, value;

  self->daemon = daemon;
  self->config = config;
  self->object_path = ctrd_network_path_for_id (config->id);
  g_hash_table_iter_init (&iter, config->labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&labels, "{ss}", key, value);

  g_object_freeze_notify (G_OBJECT (self));
  ctr_network_set_id (iface, config->id);
  ctr_network_set_name (iface, config->name);
  ctr_network_set_driver (iface, config->driver);
  ctr_network_set_interface (iface, config->interface);
  ctr_network_set_subnet (iface, config->subnet);
  ctr_network_set_gateway (iface, config->gateway);
  ctr_network_set_internal (iface, config->internal);
  ctr_network_set_dns_enabled (iface, config->dns_enabled);
  ctr_network_set_labels (iface, g_variant_builder_end (&labels));
  ctr_network_set_containers (iface, (const char *const[]){ NULL });
  ctr_network_set_created_at (iface, config->created_at);
  g_object_thaw_notify (G_OBJECT (self));
  return self;
}

const char *
ctrd_network_get_id (CtrdNetwork *self)
{
  return self->config->id;
}

const char *
ctrd_network_get_name (CtrdNetwork *self)
{
  return self->config->name;
}

const char *
ctrd_network_get_object_path (CtrdNetwork *self)
{
  return self->object_path;
}

const CtrdNetworkConfig *
ctrd_network_get_config (CtrdNetwork *self)
{
  return self->config;
}

/* ---------------------------------------------------------------- bookkeeping */

gboolean
ctrd_network_check_new (CtrdDaemon *daemon, CtrdNetworkConfig *config, GError **error)
{
  g_autoptr (GPtrArray) networks = ctrd_daemon_list_networks (daemon);
  g_autoptr (GPtrArray) existing = g_ptr_array_new ();
  g_auto (GStrv) routes = ctrd_network_host_routes ();
  g_auto (GStrv) links = ctrd_network_host_links ();
  CtrdNetworkHost host = { (const char *const *) routes, (const char *const *) links,
                           ctrd_daemon_get_config (daemon)->network_subnet_pool };

  for (guint i = 0; i < networks->len; i++)
    g_ptr_array_add (existing, (gpointer) ctrd_network_get_config (networks->pdata[i]));
  return ctrd_network_config_check_new (config, existing, &host, error);
}

CtrdNetwork *
ctrd_network_publish (CtrdDaemon *daemon, CtrdNetworkConfig *config, GError **error)
{
  g_autoptr (CtrdNetworkConfig) owned = config;
  g_autoptr (CtrdNetwork) network = NULL;

  if (owned->created_at == 0)
    owned->created_at = ctrd_now_usec ();
  if (!ctrd_db_insert_network (ctrd_daemon_get_db (daemon), owned, error))
    {
      g_prefix_error (error, "Network %s: ", owned->name);
      return NULL;
    }
  network = ctrd_network_new (daemon, g_steal_pointer (&owned));
  ctrd_daemon_record_event (daemon, "network", network->config->id, "create", ctrd_now_usec ());
  ctrd_daemon_add_network (daemon, network);
  g_message ("Created network %s (%s on %s)", network->config->name, network->config->subnet,
             network->config->interface);
  return network;
}

CtrdNetwork *
ctrd_network_ensure_default (CtrdDaemon *daemon, GError **error)
{
  g_autoptr (CtrdNetworkConfig) config = NULL;
  CtrdNetwork *network = ctrd_daemon_find_network (daemon, CTRD_NETWORK_DEFAULT_NAME, NULL);

  if (network != NULL)
    return network;
  config = ctrd_network_config_new ();
  g_free (config->name);
  config->name = g_strdup (CTRD_NETWORK_DEFAULT_NAME);
  /* as podman's default network: no aardvark-dns, whose start and stop
   * would cost every run on it; networks made with CreateNetwork have it */
  config->dns_enabled = FALSE;
  if (!ctrd_network_check_new (daemon, config, error))
    {
      g_prefix_error (error, "The default network %s: ", CTRD_NETWORK_DEFAULT_NAME);
      return NULL;
    }
  return ctrd_network_publish (daemon, g_steal_pointer (&config), error);
}

char *
ctrd_network_allocate_address (CtrdNetwork *self, const char *container_id,
                               const char *static_ip, GError **error)
{
  CtrdDb *db = ctrd_daemon_get_db (self->daemon);
  g_autoptr (GPtrArray) held = NULL;
  g_autoptr (GHashTable) used = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *last = NULL;
  g_autofree char *address = NULL;

  if (static_ip != NULL && *static_ip != '\0')
    {
      if (!ctrd_network_check_address (self->config, static_ip, error))
        return NULL;
      address = g_strdup (static_ip);
    }
  else
    {
      held = ctrd_db_load_addresses (db, self->config->id, error);
      last = held != NULL ? ctrd_db_get_last_address (db, self->config->id, error) : NULL;
      if (last == NULL)
        return NULL;
      for (guint i = 0; i < held->len; i++)
        g_hash_table_add (used, ((CtrdAddressRecord *) held->pdata[i])->address);
      address = ctrd_network_choose_address (self->config, used, last, error);
      if (address == NULL)
        return NULL;
    }
  /* recorded before anything uses it: never handed out twice */
  if (!ctrd_db_insert_address (db, self->config->id, container_id, address, error))
    {
      g_prefix_error (error, "Network %s: ", self->config->name);
      return NULL;
    }
  return g_steal_pointer (&address);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The containers configured on @self (borrowed; a new array). */
static GPtrArray *
containers_on (CtrdNetwork *self)
{
  g_autoptr (GPtrArray) all = ctrd_daemon_list_containers (self->daemon);
  GPtrArray *users = g_ptr_array_new ();

  for (guint i = 0; i < all->len; i++)
    if (g_str_equal (ctrd_container_get_network_id (all->pdata[i]), self->config->id))
      g_ptr_array_add (users, all->pdata[i]);
  return users;
}

void
ctrd_network_update_containers (CtrdNetwork *self)
{
  g_autoptr (GPtrArray) users = containers_on (self);
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();

  for (guint i = 0; i < users->len; i++)
    g_ptr_array_add (paths, (gpointer) ctrd_container_get_object_path (users->pdata[i]));
  g_ptr_array_sort (paths, compare_strings);
  g_ptr_array_add (paths, NULL);
  ctr_network_set_containers (CTR_NETWORK (self), (const char *const *) paths->pdata);
}

/* ---------------------------------------------------------------- Remove */

static gboolean
is_running (CtrdContainer *container)
{
  CtrdState state = ctrd_container_get_state (container);

  return state != CTRD_STATE_CONFIGURED && state != CTRD_STATE_EXITED;
}

/* No container runs on it: the configured ones are moved off it (with
 * @force), then it goes from the database and the bus. */
static void
remove_network_now (CtrdNetwork *self, GDBusMethodInvocation *invocation, gboolean force)
{
  g_autoptr (GPtrArray) users = containers_on (self);
  GError *error = NULL;

  for (guint i = 0; i < users->len; i++)
    if (!force || is_running (users->pdata[i]))
      {
        g_dbus_method_invocation_return_error (
            invocation, CTRD_ERROR, CTRD_ERROR_IN_USE,
            "Network %s is used by %u containers (%s among them)%s", self->config->name,
            users->len, ctrd_container_get_name (users->pdata[i]),
            force ? "" : ": remove them first, or remove the network with force");
        return;
      }
  for (guint i = 0; i < users->len; i++)
    if (!ctrd_container_disconnect_network (users->pdata[i], &error))
      {
        ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
        return;
      }
  if (!ctrd_db_delete_network (ctrd_daemon_get_db (self->daemon), self->config->id, &error))
    {
      g_prefix_error (&error, "Network %s: ", self->config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  g_message ("Removed network %s", self->config->name);
  ctrd_daemon_record_event (self->daemon, "network", self->config->id, "remove",
                            ctrd_now_usec ());
  self->removed = TRUE;
  ctr_network_complete_remove (CTR_NETWORK (self), invocation);
  ctrd_daemon_remove_network (self->daemon, self);
}

typedef struct
{
  CtrdNetwork *network;
  GDBusMethodInvocation *invocation;
  guint pending;
  GError *first_error;
} ForcedRemoval;

static void
on_user_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ForcedRemoval *removal = user_data;
  CtrdNetwork *self = removal->network;
  GError *error = NULL;

  if (!ctrd_container_stop_finish (CTRD_CONTAINER (source), result, &error))
    {
      g_prefix_error (&error, "Stopping container %s: ",
                      ctrd_container_get_name (CTRD_CONTAINER (source)));
      if (removal->first_error == NULL)
        removal->first_error = error;
      else
        g_error_free (error);
    }
  if (--removal->pending > 0)
    return;
  self->removing = FALSE;
  if (removal->first_error != NULL)
    ctrd_return_error (removal->invocation, removal->first_error, CTRD_ERROR_IN_USE);
  else if (self->removed)
    g_dbus_method_invocation_return_error (removal->invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                           "Network %s was removed", self->config->name);
  else
    remove_network_now (self, removal->invocation, TRUE);
  g_object_unref (removal->network);
  g_free (removal);
}

/* @user_data: the force flag (GINT_TO_POINTER). */
static void
remove_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdNetwork *self = object;
  gboolean force = GPOINTER_TO_INT (user_data);
  g_autoptr (GPtrArray) users = NULL;
  ForcedRemoval *removal;

  /* it may have gone while polkit was asked */
  if (self->removed || self->removing)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR,
                                             self->removed ? CTRD_ERROR_NOT_FOUND
                                                           : CTRD_ERROR_INVALID_STATE,
                                             "Network %s is %s", self->config->name,
                                             self->removed ? "removed" : "being removed");
      return;
    }
  users = containers_on (self);
  for (guint i = users->len; i > 0; i--)
    if (!is_running (users->pdata[i - 1]))
      g_ptr_array_remove_index (users, i - 1);
  if (!force || users->len == 0)
    {
      remove_network_now (self, invocation, force);
      return;
    }
  /* like podman network rm -f: the containers stop first */
  self->removing = TRUE;
  removal = g_new0 (ForcedRemoval, 1);
  removal->network = g_object_ref (self);
  removal->invocation = invocation;
  removal->pending = users->len;
  for (guint i = 0; i < users->len; i++)
    ctrd_container_stop_async (users->pdata[i], on_user_stopped, removal);
}

static gboolean
handle_remove (CtrNetwork *iface, GDBusMethodInvocation *invocation, gboolean force)
{
  CtrdNetwork *self = CTRD_NETWORK (iface);

  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_NETWORK_MANAGE, "network.name", self->config->name,
                        remove_authorized, GINT_TO_POINTER (force), NULL);
  return TRUE;
}

static void
ctrd_network_iface_init (CtrNetworkIface *iface)
{
  iface->handle_remove = handle_remove;
}
