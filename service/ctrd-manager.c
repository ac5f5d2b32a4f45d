/* ctrd-manager.c: org.example.Containers1.Manager: create containers, import
 * images, look objects up.
 *
 * Each handler validates every argument first, then acts, and completes the
 * invocation exactly once. Bad input changes nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <gio/gunixfdlist.h>

#include "ctrd-bind-source.h"
#include "ctrd-caller-path.h"
#include "ctrd-container.h"
#include "ctrd-crash-point.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image-archive.h"
#include "ctrd-image-transfer.h"
#include "ctrd-image.h"
#include "ctrd-job.h"
#include "ctrd-manager.h"
#include "ctrd-network-object.h"
#include "ctrd-options.h"
#include "ctrd-util.h"
#include "ctrd-volume-object.h"

struct _CtrdManager
{
  CtrManagerSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned */
};

static void ctrd_manager_iface_init (CtrManagerIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdManager, ctrd_manager, CTR_TYPE_MANAGER_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_MANAGER, ctrd_manager_iface_init))

static void
ctrd_manager_init (CtrdManager *self)
{
}

static void
ctrd_manager_class_init (CtrdManagerClass *klass)
{
}

CtrdManager *
ctrd_manager_new (CtrdDaemon *daemon)
{
  CtrdManager *self = g_object_new (CTRD_TYPE_MANAGER, NULL);
  CtrdConfig *config = ctrd_daemon_get_config (daemon);

  self->daemon = daemon;
  ctr_manager_set_version (CTR_MANAGER (self), PACKAGE_VERSION);
  ctr_manager_set_runtime (CTR_MANAGER (self),
                           ctrd_runtime_get_path (ctrd_daemon_get_runtime (daemon)));
  ctr_manager_set_storage_root (CTR_MANAGER (self), config->storage_root);
  ctr_manager_set_repo_path (CTR_MANAGER (self),
                             ctrd_storage_get_repo_path (ctrd_daemon_get_storage (daemon)));
  return self;
}

/* ---------------------------------------------------------------- options */

static const CtrdOptionSpec create_options[] = {
  { "Entrypoint", "as" },    { "Env", "as" },
  { "WorkingDir", "s" },     { "Hostname", "s" },
  { "Labels", "a{ss}" },     { "StopSignal", "s" },
  { "StopTimeout", "u" },    { "User", "s" },
  { "Mounts", "aa{sv}" },    { "DnsServers", "as" },
  { "DnsSearch", "as" },     { "DnsOptions", "as" },
  { "AddHosts", "as" },      { "ShmSize", "t" },
  { "ReadOnlyRootfs", "b" }, { "Tty", "b" },
  { "AutoRemove", "b" },     { "DependsOn", "as" },
  { "Network", "s" },        { "NetworkAliases", "as" },
  { "IPAddress", "s" },      { "PublishPorts", "a(sqqs)" },
  { "CapAdd", "as" },        { "CapDrop", "as" },
  { "Privileged", "b" },     { "NoNewPrivileges", "b" },
  { "SeccompProfile", "s" }, { "MemoryLimit", "t" },
  { "CpuQuota", "d" },       { "PidsLimit", "x" },
  { "Init", "b" },           { "RestartPolicy", "s" },
  CTRD_HEALTH_OPTION_SPECS,
};

static const CtrdOptionSpec mount_options[] = {
  { "Type", "s" },     { "Source", "s" },   { "Destination", "s" },
  { "ReadOnly", "b" }, { "Options", "as" },
};

/* Caps on what one call may carry (DESIGN.md security rules). */
#define MAX_MOUNTS 128

/* The Mounts option: each entry's keys and types, as given (the rules are
 * ctrd_container_config_new_for_image's); NULL when absent. */
static gboolean
parse_mounts (GVariant *options, GPtrArray **out, GError **error)
{
  g_autoptr (GVariant) value =
      g_variant_lookup_value (options, "Mounts", G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr (GPtrArray) mounts = NULL;
  GVariantIter iter;
  GVariant *entry;

  if (value == NULL)
    return TRUE;
  if (g_variant_n_children (value) > MAX_MOUNTS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "More than %d Mounts", MAX_MOUNTS);
      return FALSE;
    }
  mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_variant_iter_init (&iter, value);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) owned G_GNUC_UNUSED = entry;
      const char *type = NULL, *source = "", *destination = NULL;
      gboolean read_only = FALSE;
      g_autofree const char **mount_opts = NULL;
      CtrdMountType mount_type;

      if (!ctrd_validate_options (entry, mount_options, G_N_ELEMENTS (mount_options), "Mounts",
                                  error))
        return FALSE;
      g_variant_lookup (entry, "Type", "&s", &type);
      g_variant_lookup (entry, "Source", "&s", &source);
      g_variant_lookup (entry, "Destination", "&s", &destination);
      g_variant_lookup (entry, "ReadOnly", "b", &read_only);
      g_variant_lookup (entry, "Options", "^a&s", &mount_opts);
      if (type == NULL || !ctrd_mount_type_from_string (type, &mount_type))
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "Mounts: Type must be bind, tmpfs or volume");
          return FALSE;
        }
      if (destination == NULL)
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "Mounts: every entry needs a Destination");
          return FALSE;
        }
      g_ptr_array_add (mounts, ctrd_mount_new (mount_type, source, destination, read_only,
                                               (const char *const *) mount_opts));
    }
  *out = g_steal_pointer (&mounts);
  return TRUE;
}

/* DependsOn: names or IDs of existing containers, as full IDs; NULL when absent. */
static gboolean
parse_depends_on (CtrdManager *self, GVariant *options, char ***out, GError **error)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (options, "DependsOn", G_VARIANT_TYPE ("as"));
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *name;

  if (value == NULL)
    return TRUE;
  if (g_variant_n_children (value) > MAX_MOUNTS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "More than %d DependsOn",
                   MAX_MOUNTS);
      return FALSE;
    }
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "&s", &name))
    {
      CtrdContainer *dependency = ctrd_daemon_find_container (self->daemon, name, error);
      if (dependency == NULL)
        {
          g_prefix_error (error, "DependsOn: ");
          return FALSE;
        }
      if (!g_ptr_array_find_with_equal_func (ids, ctrd_container_get_id (dependency), g_str_equal,
                                             NULL))
        g_ptr_array_add (ids, g_strdup (ctrd_container_get_id (dependency)));
    }
  g_ptr_array_add (ids, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
  return TRUE;
}

/* Labels: a table of the strings in @options; NULL when absent. */
static GHashTable *
lookup_labels (GVariant *options)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (options, "Labels", G_VARIANT_TYPE ("a{ss}"));
  GHashTable *labels;
  GVariantIter iter;
  const char *key, *label;

  if (value == NULL)
    return NULL;
  labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &label))
    g_hash_table_insert (labels, g_strdup (key), g_strdup (label));
  return labels;
}

/* PublishPorts: (host ip, host port, container port, protocol) entries, as
 * given (the rules are ctrd_container_config_new_for_image's). */
static gboolean
parse_publish_ports (GVariant *options, GPtrArray **out, GError **error)
{
  g_autoptr (GVariant) value =
      g_variant_lookup_value (options, "PublishPorts", G_VARIANT_TYPE ("a(sqqs)"));
  g_autoptr (GPtrArray) ports = NULL;
  GVariantIter iter;
  const char *host_ip, *protocol;
  guint16 host_port, container_port;

  if (value == NULL)
    return TRUE;
  if (g_variant_n_children (value) > CTRD_NETWORK_MAX_PORTS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "PublishPorts has more than %d entries", CTRD_NETWORK_MAX_PORTS);
      return FALSE;
    }
  ports = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_port_mapping_free);
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "(&sqq&s)", &host_ip, &host_port, &container_port, &protocol))
    g_ptr_array_add (ports, ctrd_port_mapping_new (host_ip, host_port, container_port, protocol));
  *out = g_steal_pointer (&ports);
  return TRUE;
}

/* Network: "none" (or absent), "host", "bridge" (the default network: what
 * it would be, with an empty ID, until the creation makes it after
 * authorization) or a network's name or ID (NOT_FOUND). */
static gboolean
resolve_network_option (CtrdManager *self, GVariant *options, CtrdCreateRequest *request,
                        CtrdNetworkConfig **out_would_be_default, GError **error)
{
  const char *network = NULL;
  CtrdNetwork *found;
  g_autoptr (CtrdNetworkConfig) would_be = NULL;

  g_variant_lookup (options, "Network", "&s", &network);
  if (network == NULL || *network == '\0' || g_str_equal (network, "none"))
    return TRUE;
  if (g_str_equal (network, "host"))
    {
      request->network_mode = CTRD_NETWORK_MODE_HOST;
      return TRUE;
    }
  request->network_mode = CTRD_NETWORK_MODE_BRIDGE;
  if (!g_str_equal (network, "bridge"))
    {
      found = ctrd_daemon_find_network (self->daemon, network, error);
      if (found == NULL)
        {
          g_prefix_error (error, "Network: ");
          return FALSE;
        }
      request->network = ctrd_network_get_config (found);
      return TRUE;
    }
  found = ctrd_daemon_find_network (self->daemon, CTRD_NETWORK_DEFAULT_NAME, NULL);
  if (found != NULL)
    {
      request->network = ctrd_network_get_config (found);
      return TRUE;
    }
  would_be = ctrd_network_config_new ();
  g_free (would_be->name);
  would_be->name = g_strdup (CTRD_NETWORK_DEFAULT_NAME);
  if (!ctrd_network_check_new (self->daemon, would_be, error))
    return FALSE;
  g_free (would_be->id);
  would_be->id = g_strdup ("");
  request->network = would_be;
  *out_would_be_default = g_steal_pointer (&would_be);
  return TRUE;
}

/* CreateContainer's single-valued options, which point into @options. */
static void
lookup_create_values (GVariant *options, CtrdCreateRequest *request)
{
  g_variant_lookup (options, "IPAddress", "&s", &request->ip_address);
  g_variant_lookup (options, "WorkingDir", "&s", &request->working_dir);
  g_variant_lookup (options, "Hostname", "&s", &request->hostname);
  g_variant_lookup (options, "StopSignal", "&s", &request->stop_signal);
  request->has_stop_timeout =
      g_variant_lookup (options, "StopTimeout", "u", &request->stop_timeout);
  g_variant_lookup (options, "User", "&s", &request->user);
  g_variant_lookup (options, "ShmSize", "t", &request->shm_size);
  g_variant_lookup (options, "ReadOnlyRootfs", "b", &request->read_only_rootfs);
  g_variant_lookup (options, "Tty", "b", &request->tty);
  g_variant_lookup (options, "AutoRemove", "b", &request->auto_remove);
  g_variant_lookup (options, "Privileged", "b", &request->privileged);
  g_variant_lookup (options, "NoNewPrivileges", "b", &request->no_new_privileges);
  g_variant_lookup (options, "SeccompProfile", "&s", &request->seccomp_profile);
  g_variant_lookup (options, "MemoryLimit", "t", &request->limits.memory_limit);
  g_variant_lookup (options, "CpuQuota", "d", &request->limits.cpu_quota);
  g_variant_lookup (options, "PidsLimit", "x", &request->limits.pids_limit);
  g_variant_lookup (options, "Init", "b", &request->init);
  g_variant_lookup (options, "RestartPolicy", "&s", &request->restart_policy);
}

/* Decodes CreateContainer's arguments into a request and applies the
 * creation rules to it with the image's defaults; nothing is written. */
static CtrdContainerConfig *
build_container_config (CtrdManager *self, const char *name, CtrdImage *image,
                        const char *image_ref, const char *const *command, GVariant *options,
                        GError **error)
{
  CtrdConfig *config = ctrd_daemon_get_config (self->daemon);
  const char *protected_dirs[] = { config->storage_root, config->run_root, NULL };
  CtrdCreateRequest request = {
    .name = name,
    .image_id = ctrd_image_get_id (image),
    .image_name = image_ref,
    .command = command,
    .protected_dirs = protected_dirs,
  };
  g_autofree const char **entrypoint = NULL, **env = NULL, **dns_servers = NULL;
  g_autofree const char **dns_search = NULL, **dns_options = NULL, **add_hosts = NULL;
  g_autoptr (GHashTable) labels = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_auto (GStrv) depends_on = NULL;
  g_autoptr (GPtrArray) ports = NULL;
  g_autoptr (CtrdNetworkConfig) would_be_default = NULL;
  g_autofree const char **aliases = NULL;
  g_autofree const char **cap_add = NULL, **cap_drop = NULL, **health_cmd = NULL;

  if (!ctrd_validate_options (options, create_options, G_N_ELEMENTS (create_options),
                              "CreateContainer", error) ||
      !parse_mounts (options, &mounts, error) ||
      !parse_depends_on (self, options, &depends_on, error) ||
      !parse_publish_ports (options, &ports, error) ||
      !resolve_network_option (self, options, &request, &would_be_default, error))
    return NULL;
  lookup_create_values (options, &request);
  ctrd_lookup_health_options (options, &request.health, &health_cmd);
  g_variant_lookup (options, "NetworkAliases", "^a&s", &aliases);
  request.network_aliases = aliases;
  request.ports = ports != NULL ? (const CtrdPortMapping *const *) ports->pdata : NULL;
  request.n_ports = ports != NULL ? ports->len : 0;
  g_variant_lookup (options, "Entrypoint", "^a&s", &entrypoint);
  g_variant_lookup (options, "Env", "^a&s", &env);
  g_variant_lookup (options, "DnsServers", "^a&s", &dns_servers);
  g_variant_lookup (options, "DnsSearch", "^a&s", &dns_search);
  g_variant_lookup (options, "DnsOptions", "^a&s", &dns_options);
  g_variant_lookup (options, "AddHosts", "^a&s", &add_hosts);
  g_variant_lookup (options, "CapAdd", "^a&s", &cap_add);
  g_variant_lookup (options, "CapDrop", "^a&s", &cap_drop);
  request.cap_add = cap_add;
  request.cap_drop = cap_drop;
  labels = lookup_labels (options);

  request.entrypoint = entrypoint;
  request.env = env;
  request.labels = labels;
  request.mounts = mounts != NULL ? (const CtrdMount *const *) mounts->pdata : NULL;
  request.n_mounts = mounts != NULL ? mounts->len : 0;
  request.dns_servers = dns_servers;
  request.dns_search = dns_search;
  request.dns_options = dns_options;
  request.add_hosts = add_hosts;
  request.depends_on = (const char *const *) depends_on;
  return ctrd_container_config_new_for_image (&request, ctrd_image_get_config (image), error);
}

/* After authorization: the default network is made on first use, and a
 * named one may have gone meanwhile. */
static gboolean
resolve_network (CtrdManager *self, CtrdContainerConfig *config, GError **error)
{
  CtrdNetworkSettings *settings = config->network;
  CtrdNetwork *network;

  if (settings->mode != CTRD_NETWORK_MODE_BRIDGE)
    return TRUE;
  if (*settings->network_id == '\0')
    network = ctrd_network_ensure_default (self->daemon, error);
  else
    {
      network = ctrd_daemon_get_network_by_id (self->daemon, settings->network_id);
      if (network == NULL)
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                     "Container %s: network %.12s was removed", config->name, settings->network_id);
    }
  if (network == NULL)
    return FALSE;
  if (*settings->static_ip != '\0' &&
      !ctrd_network_check_address (ctrd_network_get_config (network), settings->static_ip, error))
    return FALSE;
  g_free (settings->network_id);
  settings->network_id = g_strdup (ctrd_network_get_id (network));
  return TRUE;
}

/* A create's bind sources, checked in a worker with the caller's rights. */
typedef struct
{
  const CtrdContainerConfig *config; /* the create's, untouched meanwhile */
  char **allowed;
  char **protected_dirs;
} BindCheck;

static void
bind_check_free (BindCheck *check)
{
  g_strfreev (check->allowed);
  g_strfreev (check->protected_dirs);
  g_free (check);
}

/* Worker thread (ctrd_caller_path_run). After authorization: each bind
 * source exists, passes the rules on the open fd and opens with the
 * caller's rights (ctrd_bind_source_open_mount); Start checks again. */
static gboolean
check_bind_sources (const CtrdCaller *caller, gpointer user_data, GError **error)
{
  BindCheck *check = user_data;
  CtrdBindRules rules = {
    .allowed = (const char *const *) check->allowed,
    .protected_dirs = (const char *const *) check->protected_dirs,
    .caller = caller,
  };

  for (guint i = 0; i < check->config->mounts->len; i++)
    {
      CtrdMount *mount = g_ptr_array_index (check->config->mounts, i);
      ctrd_autofd int fd = -1;

      if (mount->type != CTRD_MOUNT_BIND)
        continue;
      fd = ctrd_bind_source_open_mount (mount, &rules, check->config->host_access, error);
      if (fd < 0)
        {
          g_autofree char *quoted = ctrd_quote_untrusted (mount->destination);

          g_prefix_error (error, "Mount on %s: ", quoted);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
has_bind_mounts (const CtrdContainerConfig *config)
{
  for (guint i = 0; i < config->mounts->len; i++)
    if (((CtrdMount *) g_ptr_array_index (config->mounts, i))->type == CTRD_MOUNT_BIND)
      return TRUE;
  return FALSE;
}

/* Things may have changed while polkit was asked (and the bind sources
 * were opened): the image may be gone, the name taken, the budget spent by
 * others, the network removed. */
static gboolean
recheck_authorized_create (CtrdManager *self, CtrdContainerConfig *config, GError **error)
{
  if (ctrd_daemon_get_image_by_id (self->daemon, config->image_id) == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Container %s: image %.12s was removed",
                   config->name, config->image_id);
      return FALSE;
    }
  if (ctrd_daemon_get_container_by_name (self->daemon, config->name) != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                   "The name %s is already used by another container", config->name);
      return FALSE;
    }
  if (!ctrd_daemon_check_exported_budget (self->daemon,
                                          ctrd_container_config_exported_size (config), error))
    {
      ctrd_error_normalize (error, CTRD_ERROR_LIMIT_EXCEEDED);
      g_prefix_error (error, "Container %s: ", config->name);
      return FALSE;
    }
  if (resolve_network (self, config, error))
    return TRUE;
  ctrd_error_normalize (error, CTRD_ERROR_NOT_FOUND);
  return FALSE;
}

/* Directory first, then the row: a crash between leaves only an empty
 * directory, never a row without its directory. */
static gboolean
persist_new_container (CtrdManager *self, CtrdContainerConfig *config, const CtrdRunState *run,
                       GError **error)
{
  CtrdStorage *storage = ctrd_daemon_get_storage (self->daemon);
  g_autoptr (GError) cleanup_error = NULL;

  if (!ctrd_storage_create_container_dirs (storage, config->id, error))
    {
      g_prefix_error (error, "Container %s: ", config->name);
      return FALSE;
    }
  if (ctrd_db_insert_container (ctrd_daemon_get_db (self->daemon), config, run, error))
    return TRUE;
  if (!ctrd_storage_remove_container_dirs (storage, config->id, NULL, &cleanup_error))
    g_warning ("%s", cleanup_error->message);
  g_prefix_error (error, "Container %s: ", config->name);
  return FALSE;
}

/* @config: the new container's (taken), its bind sources checked. */
static void
create_container_checked (CtrdManager *self, GDBusMethodInvocation *invocation,
                          CtrdContainerConfig *config_taken)
{
  g_autoptr (CtrdContainerConfig) config = config_taken;
  GError *error = NULL;
  g_autoptr (CtrdContainer) container = NULL;
  g_autoptr (GPtrArray) new_volumes = NULL;
  CtrdRunState run = { .state = CTRD_STATE_CONFIGURED };

  if (!recheck_authorized_create (self, config, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return;
    }
  /* The Owner is the uid the bus gave for the caller, never its say-so. */
  config->owner = ctrd_authority_get_caller_uid (invocation);
  /* the volumes its Mounts name that do not exist yet, anonymous ones too */
  new_volumes = ctrd_volume_record_for_mounts (self->daemon, config->mounts, &error);
  if (new_volumes == NULL)
    {
      g_prefix_error (&error, "Container %s: ", config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  if (!persist_new_container (self, config, &run, &error))
    {
      ctrd_volume_unrecord (self->daemon, new_volumes);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }

  ctrd_crash_point ("create-persisted");
  container = ctrd_container_new (self->daemon, g_steal_pointer (&config), &run);
  ctrd_volume_publish_records (self->daemon, new_volumes);
  ctrd_daemon_add_container (self->daemon, container);
  g_message ("Created container %s (%.12s) from image %.12s", ctrd_container_get_name (container),
             ctrd_container_get_id (container), ctrd_container_get_image_id (container));
  ctrd_daemon_emit_event (self->daemon, ctrd_container_get_object_path (container),
                          ctrd_container_get_id (container), "create");
  ctr_manager_complete_create_container (CTR_MANAGER (self), invocation,
                                         ctrd_container_get_object_path (container));
}

typedef struct
{
  CtrdManager *self; /* a reference */
  GDBusMethodInvocation *invocation;
  CtrdContainerConfig *config;
} CreateBinds;

static void
on_create_binds_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CreateBinds *create = user_data;
  GError *error = NULL;

  if (ctrd_caller_path_run_finish (result, &error))
    create_container_checked (create->self, create->invocation, create->config);
  else
    {
      ctrd_error_normalize (&error, CTRD_ERROR_INVALID_ARGUMENT);
      g_prefix_error (&error, "Container %s: ", create->config->name);
      ctrd_return_error (create->invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      ctrd_container_config_free (create->config);
    }
  g_object_unref (create->self);
  g_free (create);
}

/* Only now, authorized, does an answer say anything about the host: the
 * bind sources, opened in a worker with the caller's rights as well as the
 * daemon's. @user_data: the new container's config (taken). */
static void
create_container_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdManager *self = object;
  CtrdContainerConfig *config = user_data;
  CtrdConfig *daemon_config = ctrd_daemon_get_config (self->daemon);
  const char *protected_dirs[] = { daemon_config->storage_root, daemon_config->run_root, NULL };
  BindCheck *check;
  CreateBinds *create;

  if (!has_bind_mounts (config))
    {
      create_container_checked (self, invocation, config);
      return;
    }
  check = g_new0 (BindCheck, 1);
  check->config = config;
  check->allowed = g_strdupv (daemon_config->allowed_bind_sources);
  check->protected_dirs = g_strdupv ((char **) protected_dirs);
  create = g_new0 (CreateBinds, 1);
  create->self = g_object_ref (self);
  create->invocation = invocation;
  create->config = config;
  ctrd_caller_path_run (invocation, check_bind_sources, check, (GDestroyNotify) bind_check_free,
                        on_create_binds_checked, create);
}

/* A dependency is started with the container: one that belongs to another
 * uid takes manage-others, as starting it directly would. @user_data: the
 * config (taken). */
static void
create_container_checking_dependencies (gpointer object, GDBusMethodInvocation *invocation,
                                        gpointer user_data)
{
  CtrdManager *self = object;
  CtrdContainerConfig *config = user_data;
  guint32 caller_uid = ctrd_authority_get_caller_uid (invocation);
  CtrdContainer *others = NULL;

  for (guint i = 0; caller_uid != 0 && config->depends_on != NULL && config->depends_on[i] != NULL;
       i++)
    {
      CtrdContainer *dependency =
          ctrd_daemon_find_container (self->daemon, config->depends_on[i], NULL);

      if (dependency != NULL && ctrd_container_get_owner (dependency) != caller_uid)
        {
          others = dependency;
          break;
        }
    }
  if (others == NULL)
    {
      create_container_authorized (self, invocation, config);
      return;
    }
  g_debug ("Container %s depends on %s, which uid %u owns", config->name,
           ctrd_container_get_name (others), ctrd_container_get_owner (others));
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_CONTAINER_MANAGE_OTHERS, "container.name", config->name,
                        create_container_authorized, config,
                        (GDestroyNotify) ctrd_container_config_free);
}

/* Host access: whatever reaches past the container's sandbox
 * (ctrd_container_config_host_access_reasons, decided by the request's words
 * alone) needs the host-access action as well. @user_data: the config
 * (taken). */
static void
create_container_with_host_access (gpointer object, GDBusMethodInvocation *invocation,
                                   gpointer user_data)
{
  CtrdManager *self = object;
  CtrdContainerConfig *config = user_data;
  CtrdConfig *daemon_config = ctrd_daemon_get_config (self->daemon);
  g_auto (GStrv) reasons = ctrd_container_config_host_access_reasons (
      config, (const char *const *) daemon_config->allowed_bind_sources);
  g_autofree char *listed = NULL;

  if (reasons[0] == NULL)
    {
      create_container_checking_dependencies (self, invocation, config);
      return;
    }
  listed = g_strjoinv (", ", reasons);
  g_debug ("Container %s needs host access: %s", config->name, listed);
  /* freed with the config if refused */
  config->host_access = TRUE;
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_CONTAINER_HOST_ACCESS, "container.name", config->name,
                        create_container_checking_dependencies, config,
                        (GDestroyNotify) ctrd_container_config_free);
}

static gboolean
handle_create_container (CtrManager *iface, GDBusMethodInvocation *invocation, const char *name,
                         const char *image_ref, const char *const *command, GVariant *options)
{
  CtrdManager *self = CTRD_MANAGER (iface);
  GError *error = NULL;
  g_autofree char *generated_name = NULL;
  g_autoptr (CtrdContainerConfig) config = NULL;
  CtrdImage *image;

  if (*name == '\0')
    {
      do
        {
          g_free (generated_name);
          generated_name = ctrd_generate_name ();
        }
      while (ctrd_daemon_get_container_by_name (self->daemon, generated_name) != NULL);
      name = generated_name;
    }
  else if (!ctrd_validate_container_name (name, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }

  image = ctrd_daemon_find_image (self->daemon, image_ref, &error);
  if (image == NULL)
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_NOT_FOUND);
      return TRUE;
    }
  config = build_container_config (self, name, image, image_ref, command, options, &error);
  if (config == NULL || !ctrd_daemon_check_exported_budget (
                            self->daemon, ctrd_container_config_exported_size (config), &error))
    {
      g_prefix_error (&error, "Container %s: ", name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  if (ctrd_daemon_get_container_by_name (self->daemon, name) != NULL)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
                                             "The name %s is already used by another container",
                                             name);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_CONTAINER_CREATE, "container.name", name,
                        create_container_with_host_access, g_steal_pointer (&config),
                        (GDestroyNotify) ctrd_container_config_free);
  return TRUE;
}

/* ---------------------------------------------------------------- images */

static const CtrdOptionSpec import_options[] = {
  { "Format", "s" },
};

typedef struct
{
  CtrdManager *manager;
  GDBusMethodInvocation *invocation;
  gboolean from_path;
  int fd;
  char *name; /* normalised, or NULL */
  CtrdImageFormat format;
  CtrdImportLimits limits;
  CtrdCaller *reader; /* ImportImageFromPath: whom the path was opened as; NULL for root */
  CtrdJob *job;
} ImportData;

static void
import_data_free (ImportData *data)
{
  ctrd_close_fd (&data->fd);
  g_free (data->name);
  ctrd_caller_free (data->reader);
  g_clear_object (&data->job);
  g_object_unref (data->manager);
  g_free (data);
}

static void
import_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ImportData *data = task_data;
  CtrdStorage *storage = ctrd_daemon_get_storage (data->manager->daemon);
  GError *error = NULL;
  CtrdImportResult *result;

  result = ctrd_image_archive_import (storage, data->fd, data->format, &data->limits,
                                      ctrd_job_progress_func, data->job, cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) ctrd_import_result_free);
}

/* Main thread: record the new image and publish it, named as the caller
 * said, else as the archive said (names move from any image that had them,
 * as podman does). */
static void
on_import_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdManager *self = CTRD_MANAGER (source);
  ImportData *data = g_task_get_task_data (G_TASK (result));
  GDBusMethodInvocation *invocation = data->invocation;
  GError *error = NULL;
  g_autoptr (CtrdImportResult) imported = NULL;
  const char *given_names[] = { data->name, NULL };
  const char *const *names = NULL;
  CtrdImage *image = NULL;

  /* Closed now: a client feeding a pipe sees the import is over. */
  ctrd_close_fd (&data->fd);
  imported = g_task_propagate_pointer (G_TASK (result), &error);
  if (imported != NULL)
    {
      names = data->name != NULL ? given_names : (const char *const *) imported->names;
      image = ctrd_image_publish (self->daemon, imported, names, &error);
    }
  if (error != NULL)
    {
      ctrd_error_normalize (&error, CTRD_ERROR_STORAGE_ERROR);
      ctrd_job_complete (data->job, error);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }

  g_message ("Imported image %.12s (commit %.12s, %" G_GUINT64_FORMAT " bytes)%s%s",
             imported->image_id, imported->commit, imported->size,
             names != NULL && names[0] != NULL ? " as " : "",
             names != NULL && names[0] != NULL ? names[0] : "");
  ctrd_image_emit_event (image, "import");
  ctrd_job_set_object (data->job, ctrd_image_get_object_path (image));
  ctrd_job_complete (data->job, NULL);
  if (data->from_path)
    ctr_manager_complete_import_image_from_path (CTR_MANAGER (self), invocation,
                                                 ctrd_image_get_object_path (image));
  else
    ctr_manager_complete_import_image (CTR_MANAGER (self), invocation, NULL,
                                       ctrd_image_get_object_path (image));
}

/* The checks both import methods share, before anything is read; @fd -1
 * checks only the options and the name. A directory (an OCI image layout)
 * only comes from a path the daemon opened itself. */
static gboolean
validate_import (int fd, gboolean from_path, const char *name, GVariant *options, char **out_name,
                 CtrdImageFormat *out_format, GError **error)
{
  const char *format = "auto";
  CtrdImageFormat parsed;

  if (!ctrd_validate_options (options, import_options, G_N_ELEMENTS (import_options), "ImportImage",
                              error))
    return FALSE;
  g_variant_lookup (options, "Format", "&s", &format);
  if (!ctrd_image_format_parse (format, &parsed, error) ||
      (parsed == CTRD_IMAGE_FORMAT_OCI_LAYOUT && !from_path))
    {
      g_clear_error (error);
      g_autofree char *printable = g_strescape (format, NULL);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "ImportImage: unsupported Format \"%.64s\" (supported: auto, rootfs-tar, "
                   "oci-archive, docker-archive%s)",
                   printable, from_path ? ", oci-layout" : "");
      return FALSE;
    }
  if (out_format != NULL)
    *out_format = parsed;
  if (*name != '\0')
    {
      g_autofree char *normalized = ctrd_normalize_image_name (name, error);
      if (normalized == NULL)
        return FALSE;
      if (out_name != NULL)
        *out_name = g_steal_pointer (&normalized);
    }
  if (fd < 0)
    return TRUE;
  /* A directory is an OCI image layout. */
  return ctrd_check_fd (
      fd, CTRD_FD_READABLE | CTRD_FD_STREAM | (from_path ? CTRD_FD_OR_DIRECTORY : 0),
      from_path ? "ImportImageFromPath: the path" : "ImportImage: the source", error);
}

/* Takes @fd: on success it is read in a worker thread and closed there.
 * Takes @reader (may be NULL): the rights an OCI layout's files are opened
 * with. */
static void
run_import (CtrdManager *self, GDBusMethodInvocation *invocation, gboolean from_path, int fd,
            CtrdCaller *reader, const char *name, GVariant *options)
{
  GError *error = NULL;
  g_autofree char *normalized = NULL;
  CtrdConfig *config = ctrd_daemon_get_config (self->daemon);
  CtrdImageFormat format = CTRD_IMAGE_FORMAT_AUTO;
  ImportData *data;
  g_autoptr (GTask) task = NULL;

  if (!validate_import (fd, from_path, name, options, &normalized, &format, &error) ||
      !ctrd_job_check_quota (invocation, from_path ? "ImportImageFromPath" : "ImportImage",
                             &error))
    {
      ctrd_close_fd (&fd);
      ctrd_caller_free (reader);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return;
    }

  data = g_new0 (ImportData, 1);
  data->manager = g_object_ref (self);
  data->invocation = invocation;
  data->from_path = from_path;
  data->fd = fd;
  data->name = g_steal_pointer (&normalized);
  data->format = format;
  data->limits.max_bytes = config->import_max_bytes;
  data->limits.max_entries = config->import_max_entries;
  data->reader = reader;
  data->limits.reader = reader;
  /* On the bus while it runs; Cancel, or the caller leaving, stops it. */
  data->job = ctrd_job_new (self->daemon, "import", NULL, invocation);
  task = g_task_new (self, ctrd_job_get_cancellable (data->job), on_import_done, NULL);
  g_task_set_source_tag (task, run_import);
  g_task_set_task_data (task, data, (GDestroyNotify) import_data_free);
  ctrd_daemon_run_transfer (self->daemon, g_steal_pointer (&task), import_thread);
}

typedef struct
{
  int fd;     /* ImportImage: the caller's fd; -1 for ImportImageFromPath */
  char *path; /* ImportImageFromPath */
  char *name;
  GVariant *options;
  CtrdManager *manager;              /* while the path is opened */
  GDBusMethodInvocation *invocation; /* the same; not a reference */
} PendingImport;

static void
pending_import_free (gpointer user_data)
{
  PendingImport *pending = user_data;

  ctrd_close_fd (&pending->fd);
  g_free (pending->path);
  g_free (pending->name);
  g_variant_unref (pending->options);
  g_clear_object (&pending->manager);
  g_free (pending);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingImport, pending_import_free)

/* ImportImageFromPath's path, opened after authorization with the
 * caller's rights (ctrd-caller-path.h): its kind is checked on an O_PATH
 * fd, without following a symlink in its last component, before anything
 * opens it for reading, so a device node or a FIFO is never opened.
 * @user_data: the PendingImport (taken). */
static void
on_import_path_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PendingImport) pending = user_data;
  GDBusMethodInvocation *invocation = pending->invocation;
  g_autoptr (CtrdCaller) reader = NULL;
  GError *error = NULL;
  int fd;

  fd = ctrd_caller_path_open_finish (result, &reader, &error);
  if (fd < 0)
    {
      g_prefix_error (&error, "ImportImageFromPath: ");
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return;
    }
  run_import (pending->manager, invocation, TRUE, fd, g_steal_pointer (&reader), pending->name,
              pending->options);
}

/* @user_data: the PendingImport (taken). */
static void
import_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  g_autoptr (PendingImport) pending = user_data;
  int fd = pending->fd;

  pending->fd = -1;
  if (pending->path != NULL)
    {
      const char *path = pending->path;

      pending->manager = g_object_ref (object);
      pending->invocation = invocation;
      ctrd_caller_path_open (invocation, path, CTRD_CALLER_OPEN_DEFAULT, on_import_path_opened,
                             g_steal_pointer (&pending));
      return;
    }
  run_import (object, invocation, FALSE, fd, NULL, pending->name, pending->options);
}

static void
authorize_import (CtrdManager *self, GDBusMethodInvocation *invocation, int fd, const char *path,
                  const char *name, GVariant *options)
{
  PendingImport *pending = g_new0 (PendingImport, 1);

  pending->fd = fd;
  pending->path = g_strdup (path);
  pending->name = g_strdup (name);
  pending->options = g_variant_ref (options);
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_IMAGE_MANAGE, "image.name", *name != '\0' ? name : NULL,
                        import_authorized, pending, pending_import_free);
}

static gboolean
handle_import_image (CtrManager *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                     GVariant *source, const char *name, GVariant *options)
{
  GError *error = NULL;
  int fd;

  /* What the fd is, validate_import checks with the other arguments. */
  fd = ctrd_take_fd_argument (fd_list, source, 1, 0, "ImportImage source", &error);
  if (fd < 0)
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  if (!validate_import (fd, FALSE, name, options, NULL, NULL, &error))
    {
      ctrd_close_fd (&fd);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  authorize_import (CTRD_MANAGER (iface), invocation, fd, NULL, name, options);
  return TRUE;
}

static gboolean
handle_import_image_from_path (CtrManager *iface, GDBusMethodInvocation *invocation,
                               const char *path, const char *name, GVariant *options)
{
  g_autofree char *printable = g_strescape (path, NULL);
  GError *error = NULL;

  if (!g_path_is_absolute (path) || strlen (path) > CTRD_MAX_PATH_BYTES)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "ImportImageFromPath: \"%.200s\" is not an absolute "
                                             "path",
                                             printable);
      return TRUE;
    }
  if (!validate_import (-1, TRUE, name, options, NULL, NULL, &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  authorize_import (CTRD_MANAGER (iface), invocation, -1, path, name, options);
  return TRUE;
}

/* ---------------------------------------------------------------- lookups */

static gboolean
handle_get_container (CtrManager *iface, GDBusMethodInvocation *invocation, const char *name_or_id)
{
  CtrdManager *self = CTRD_MANAGER (iface);
  GError *error = NULL;
  CtrdContainer *container = ctrd_daemon_find_container (self->daemon, name_or_id, &error);

  if (container == NULL)
    ctrd_return_error (invocation, error, CTRD_ERROR_NOT_FOUND);
  else
    ctr_manager_complete_get_container (iface, invocation,
                                        ctrd_container_get_object_path (container));
  return TRUE;
}

static gboolean
handle_get_image (CtrManager *iface, GDBusMethodInvocation *invocation, const char *reference)
{
  CtrdManager *self = CTRD_MANAGER (iface);
  GError *error = NULL;
  CtrdImage *image = ctrd_daemon_find_image (self->daemon, reference, &error);

  if (image == NULL)
    ctrd_return_error (invocation, error, CTRD_ERROR_NOT_FOUND);
  else
    ctr_manager_complete_get_image (iface, invocation, ctrd_image_get_object_path (image));
  return TRUE;
}

static gboolean
handle_get_network (CtrManager *iface, GDBusMethodInvocation *invocation, const char *name_or_id)
{
  CtrdManager *self = CTRD_MANAGER (iface);
  GError *error = NULL;
  CtrdNetwork *network = ctrd_daemon_find_network (self->daemon, name_or_id, &error);

  if (network == NULL)
    ctrd_return_error (invocation, error, CTRD_ERROR_NOT_FOUND);
  else
    ctr_manager_complete_get_network (iface, invocation, ctrd_network_get_object_path (network));
  return TRUE;
}

/* ---------------------------------------------------------------- events */

/* Open to every user, as the signals are; the history's count bound keeps
 * each reply small. */
static gboolean
handle_get_events (CtrManager *iface, GDBusMethodInvocation *invocation, guint64 since,
                   guint64 until)
{
  CtrdManager *self = CTRD_MANAGER (iface);
  g_autoptr (GPtrArray) events = NULL;
  GVariantBuilder builder;
  GError *error = NULL;

  if (until == 0)
    until = G_MAXINT64;
  if (until < since)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "GetEvents: until (%" G_GUINT64_FORMAT
                                             ") is before since (%" G_GUINT64_FORMAT ")",
                                             until, since);
      return TRUE;
    }
  events = ctrd_db_list_events (ctrd_daemon_get_db (self->daemon), since, until,
                                CTRD_EVENTS_MAX_COUNT, &error);
  if (events == NULL)
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return TRUE;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssst)"));
  for (guint i = 0; i < events->len; i++)
    {
      const CtrdEventRecord *record = events->pdata[i];
      g_variant_builder_add (&builder, "(ssst)", record->kind, record->id, record->event,
                             record->time);
    }
  ctr_manager_complete_get_events (iface, invocation, g_variant_builder_end (&builder));
  return TRUE;
}

/* ---------------------------------------------------------------- networks */

static const CtrdOptionSpec network_options[] = {
  { "Subnet", "s" },   { "Gateway", "s" },    { "Interface", "s" },
  { "Internal", "b" }, { "DnsEnabled", "b" }, { "Labels", "a{ss}" },
};

/* A network's Gateway: an IPv4 address, given with the Subnet it is in. */
static gboolean
check_gateway (const char *gateway, const char *subnet, GError **error)
{
  if (!g_hostname_is_ip_address (gateway) || strchr (gateway, ':') != NULL)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (gateway);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Gateway %s is not an IPv4 address", quoted);
      return FALSE;
    }
  if (subnet == NULL || *subnet == '\0')
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "A Gateway needs the Subnet it is in");
      return FALSE;
    }
  return TRUE;
}

/* A network's Labels (a{ss}) into @table: at most CTRD_MAX_LABELS, no empty
 * key. */
static gboolean
add_network_labels (GVariant *labels, GHashTable *table, GError **error)
{
  GVariantIter iter;
  const char *key, *value;

  if (g_variant_n_children (labels) > CTRD_MAX_LABELS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "More than %d labels",
                   CTRD_MAX_LABELS);
      return FALSE;
    }
  g_variant_iter_init (&iter, labels);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    {
      if (*key == '\0')
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "A label has an empty key");
          return FALSE;
        }
      g_hash_table_insert (table, g_strdup (key), g_strdup (value));
    }
  return TRUE;
}

/* The form of CreateNetwork's arguments; what they may collide with (other
 * networks, the host's routes and devices) is checked once authorized. */
static CtrdNetworkConfig *
build_network_config (const char *name, GVariant *options, GError **error)
{
  g_autoptr (CtrdNetworkConfig) config = ctrd_network_config_new ();
  g_autoptr (GVariant) labels = NULL;
  const char *subnet = NULL, *gateway = NULL, *interface = NULL;
  guint32 network;
  guint prefix;

  if (!ctrd_validate_options (options, network_options, G_N_ELEMENTS (network_options),
                              "CreateNetwork", error) ||
      !ctrd_network_validate_name (name, error))
    return NULL;
  g_free (config->name);
  config->name = g_strdup (name);
  if (g_variant_lookup (options, "Subnet", "&s", &subnet) && *subnet != '\0')
    {
      if (!ctrd_network_parse_subnet (subnet, "Subnet", &network, &prefix, error))
        return NULL;
      g_free (config->subnet);
      config->subnet = g_strdup (subnet);
    }
  if (g_variant_lookup (options, "Gateway", "&s", &gateway) && *gateway != '\0')
    {
      if (!check_gateway (gateway, subnet, error))
        return NULL;
      g_free (config->gateway);
      config->gateway = g_strdup (gateway);
    }
  if (g_variant_lookup (options, "Interface", "&s", &interface) && *interface != '\0')
    {
      if (!ctrd_network_validate_interface (interface, error))
        return NULL;
      g_free (config->interface);
      config->interface = g_strdup (interface);
    }
  g_variant_lookup (options, "Internal", "b", &config->internal);
  g_variant_lookup (options, "DnsEnabled", "b", &config->dns_enabled);
  labels = g_variant_lookup_value (options, "Labels", G_VARIANT_TYPE ("a{ss}"));
  if (labels != NULL && !add_network_labels (labels, config->labels, error))
    return NULL;
  return g_steal_pointer (&config);
}

/* @user_data: the new network's config (taken). */
static void
create_network_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdManager *self = object;
  g_autoptr (CtrdNetworkConfig) config = user_data;
  GError *error = NULL;
  CtrdNetwork *network;

  if (!ctrd_network_check_new (self->daemon, config, &error))
    {
      g_prefix_error (&error, "Network %s: ", config->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return;
    }
  network = ctrd_network_publish (self->daemon, g_steal_pointer (&config), &error);
  if (network == NULL)
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  ctr_manager_complete_create_network (CTR_MANAGER (self), invocation,
                                       ctrd_network_get_object_path (network));
}

static gboolean
handle_create_network (CtrManager *iface, GDBusMethodInvocation *invocation, const char *name,
                       GVariant *options)
{
  CtrdManager *self = CTRD_MANAGER (iface);
  GError *error = NULL;
  CtrdNetworkConfig *config = build_network_config (name, options, &error);

  if (config == NULL)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (name);
      g_prefix_error (&error, "Network %s: ", quoted);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_NETWORK_MANAGE, "network.name", config->name,
                        create_network_authorized, config,
                        (GDestroyNotify) ctrd_network_config_free);
  return TRUE;
}

/* ---------------------------------------------------------------- prune */

typedef struct
{
  CtrdManager *manager;
  GDBusMethodInvocation *invocation;
  GPtrArray *removed; /* IDs */
  guint pending;
} PruneData;

static void
prune_answer_if_done (PruneData *data)
{
  if (data->pending > 0)
    return;
  g_ptr_array_add (data->removed, NULL);
  ctr_manager_complete_prune_containers (CTR_MANAGER (data->manager), data->invocation,
                                         (const char *const *) data->removed->pdata);
  g_ptr_array_unref (data->removed);
  g_object_unref (data->manager);
  g_free (data);
}

typedef struct
{
  PruneData *prune;
  char *id;
} PruneOne;

static void
on_pruned_one (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PruneOne *one = user_data;
  g_autoptr (GError) error = NULL;

  /* A container that changed state meanwhile (started again) is kept. */
  if (ctrd_container_remove_finish (CTRD_CONTAINER (source), result, &error))
    g_ptr_array_add (one->prune->removed, g_steal_pointer (&one->id));
  else
    g_message ("Prune kept container %.12s: %s", one->id, error->message);
  one->prune->pending--;
  prune_answer_if_done (one->prune);
  g_free (one->id);
  g_free (one);
}

static void
prune_containers_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdManager *self = object;
  g_autoptr (GPtrArray) containers = ctrd_daemon_list_containers (self->daemon);
  guint32 caller_uid = ctrd_authority_get_caller_uid (invocation);
  PruneData *data = g_new0 (PruneData, 1);

  data->manager = g_object_ref (self);
  data->invocation = invocation;
  data->removed = g_ptr_array_new_with_free_func (g_free);
  data->pending = 1; /* held until every removal is under way */
  for (guint i = 0; i < containers->len; i++)
    {
      CtrdContainer *container = containers->pdata[i];
      CtrdState state = ctrd_container_get_state (container);
      PruneOne *one;

      if (state != CTRD_STATE_STOPPED && state != CTRD_STATE_EXITED)
        continue;
      /* Other uids' containers are theirs to prune (or root's): a prune
       * never needs manage-others. */
      if (caller_uid != 0 && ctrd_container_get_owner (container) != caller_uid)
        continue;
      one = g_new0 (PruneOne, 1);
      one->prune = data;
      one->id = g_strdup (ctrd_container_get_id (container));
      data->pending++;
      ctrd_container_remove_async (container, FALSE, FALSE, on_pruned_one, one);
    }
  data->pending--;
  prune_answer_if_done (data);
}

static gboolean
handle_prune_containers (CtrManager *iface, GDBusMethodInvocation *invocation)
{
  CtrdManager *self = CTRD_MANAGER (iface);

  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_CONTAINER_CREATE, NULL, NULL, prune_containers_authorized, NULL,
                        NULL);
  return TRUE;
}

static gboolean
handle_pull_image (CtrManager *iface, GDBusMethodInvocation *invocation, const char *reference,
                   GVariant *options)
{
  return ctrd_image_transfer_handle_pull (CTRD_MANAGER (iface)->daemon, iface, invocation,
                                          reference, options);
}

static gboolean
handle_prune_images (CtrManager *iface, GDBusMethodInvocation *invocation, GVariant *options)
{
  return ctrd_image_transfer_handle_prune (CTRD_MANAGER (iface)->daemon, iface, invocation,
                                           options);
}

static gboolean
handle_create_volume (CtrManager *iface, GDBusMethodInvocation *invocation, const char *name,
                      GVariant *options)
{
  return ctrd_volume_handle_create (CTRD_MANAGER (iface)->daemon, iface, invocation, name, options);
}

static gboolean
handle_get_volume (CtrManager *iface, GDBusMethodInvocation *invocation, const char *name_or_id)
{
  return ctrd_volume_handle_get (CTRD_MANAGER (iface)->daemon, iface, invocation, name_or_id);
}

static gboolean
handle_prune_volumes (CtrManager *iface, GDBusMethodInvocation *invocation)
{
  return ctrd_volume_handle_prune (CTRD_MANAGER (iface)->daemon, iface, invocation);
}

static void
ctrd_manager_iface_init (CtrManagerIface *iface)
{
  iface->handle_pull_image = handle_pull_image;
  iface->handle_prune_images = handle_prune_images;
  iface->handle_create_container = handle_create_container;
  iface->handle_import_image = handle_import_image;
  iface->handle_import_image_from_path = handle_import_image_from_path;
  iface->handle_get_container = handle_get_container;
  iface->handle_get_image = handle_get_image;
  iface->handle_get_events = handle_get_events;
  iface->handle_prune_containers = handle_prune_containers;
  iface->handle_create_network = handle_create_network;
  iface->handle_get_network = handle_get_network;
  iface->handle_create_volume = handle_create_volume;
  iface->handle_get_volume = handle_get_volume;
  iface->handle_prune_volumes = handle_prune_volumes;
}
