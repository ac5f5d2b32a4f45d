/* ctrd-container-config.c: container configuration and run state, the rules
 * that make a new container's configuration from a request and the image's
 * defaults, and the JSON form of the configuration kept in the database. */
#include "config.h"

#include <signal.h>

#include <json-glib/json-glib.h>

#include "ctrd-bind-source.h"
#include "ctrd-container-config.h"
#include "ctrd-error.h"
#include "ctrd-files.h"
#include "ctrd-json.h"
#include "ctrd-spec.h"
#include "ctrd-util.h"

#define DEFAULT_STOP_TIMEOUT 10
#define SHORT_ID_LEN 12

static const char *const state_names[] = {
  [CTRD_STATE_CONFIGURED] = "configured", [CTRD_STATE_CREATED] = "created",
  [CTRD_STATE_RUNNING] = "running",       [CTRD_STATE_PAUSED] = "paused",
  [CTRD_STATE_STOPPING] = "stopping",     [CTRD_STATE_STOPPED] = "stopped",
  [CTRD_STATE_EXITED] = "exited",         [CTRD_STATE_REMOVING] = "removing",
};

const char *
ctrd_state_to_string (CtrdState state)
{
  if ((guint) state >= G_N_ELEMENTS (state_names))
    return "unknown";
  return state_names[state];
}

gboolean
ctrd_state_from_string (const char *text, CtrdState *out_state)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (state_names); i++)
    {
      if (g_str_equal (text, state_names[i]))
        {
          *out_state = (CtrdState) i;
          return TRUE;
        }
    }
  return FALSE;
}

CtrdContainerConfig *
ctrd_container_config_new (void)
{
  CtrdContainerConfig *config = g_new0 (CtrdContainerConfig, 1);

  /* Strings start empty rather than NULL so that code filling a config in
   * stages never has to guess which fields are set. */
  config->id = g_strdup ("");
  config->name = g_strdup ("");
  config->image_id = g_strdup ("");
  config->image_name = g_strdup ("");
  config->previous_image_id = g_strdup ("");
  config->entrypoint = g_new0 (char *, 1);
  config->command = g_new0 (char *, 1);
  config->env = g_new0 (char *, 1);
  config->working_dir = g_strdup ("/");
  config->user = g_strdup ("");
  config->hostname = g_strdup ("");
  config->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  config->stop_signal = SIGTERM;
  config->stop_timeout = DEFAULT_STOP_TIMEOUT;
  config->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  config->dns_servers = g_new0 (char *, 1);
  config->dns_search = g_new0 (char *, 1);
  config->dns_options = g_new0 (char *, 1);
  config->add_hosts = g_new0 (char *, 1);
  config->shm_size = CTRD_DEFAULT_SHM_SIZE;
  config->depends_on = g_new0 (char *, 1);
  config->network = ctrd_network_settings_new ();
  config->cap_add = g_new0 (char *, 1);
  config->cap_drop = g_new0 (char *, 1);
  config->seccomp_profile = g_strdup (CTRD_SECCOMP_PROFILE_DEFAULT);
  ctrd_health_config_init (&config->health);
  return config;
}

void
ctrd_container_config_free (CtrdContainerConfig *config)
{
  if (config == NULL)
    return;

  g_free (config->id);
  g_free (config->name);
  g_free (config->image_id);
  g_free (config->image_name);
  g_free (config->previous_image_id);
  g_strfreev (config->entrypoint);
  g_strfreev (config->command);
  g_strfreev (config->env);
  g_free (config->working_dir);
  g_free (config->user);
  g_free (config->hostname);
  g_clear_pointer (&config->labels, g_hash_table_unref);
  g_clear_pointer (&config->mounts, g_ptr_array_unref);
  g_strfreev (config->dns_servers);
  g_strfreev (config->dns_search);
  g_strfreev (config->dns_options);
  g_strfreev (config->add_hosts);
  g_strfreev (config->depends_on);
  g_clear_pointer (&config->network, ctrd_network_settings_free);
  g_strfreev (config->cap_add);
  g_strfreev (config->cap_drop);
  g_free (config->seccomp_profile);
  ctrd_health_config_clear (&config->health);
  g_free (config);
}

CtrdContainerConfig *
ctrd_container_config_copy (const CtrdContainerConfig *config)
{
  CtrdContainerConfig *copy = g_new0 (CtrdContainerConfig, 1);
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (config != NULL, NULL);

  copy->id = g_strdup (config->id);
  copy->name = g_strdup (config->name);
  copy->image_id = g_strdup (config->image_id);
  copy->image_name = g_strdup (config->image_name);
  copy->previous_image_id = g_strdup (config->previous_image_id);
  copy->entrypoint = g_strdupv (config->entrypoint);
  copy->command = g_strdupv (config->command);
  copy->env = g_strdupv (config->env);
  copy->working_dir = g_strdup (config->working_dir);
  copy->user = g_strdup (config->user);
  copy->hostname = g_strdup (config->hostname);
  copy->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, config->labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->labels, g_strdup (key), g_strdup (value));
  copy->mounts = g_ptr_array_new_full (config->mounts->len, (GDestroyNotify) ctrd_mount_free);
  for (guint i = 0; i < config->mounts->len; i++)
    g_ptr_array_add (copy->mounts, ctrd_mount_copy (g_ptr_array_index (config->mounts, i)));
  copy->dns_servers = g_strdupv (config->dns_servers);
  copy->dns_search = g_strdupv (config->dns_search);
  copy->dns_options = g_strdupv (config->dns_options);
  copy->add_hosts = g_strdupv (config->add_hosts);
  copy->depends_on = g_strdupv (config->depends_on);
  copy->stop_signal = config->stop_signal;
  copy->stop_timeout = config->stop_timeout;
  copy->created_at = config->created_at;
  copy->owner = config->owner;
  copy->shm_size = config->shm_size;
  copy->read_only_rootfs = config->read_only_rootfs;
  copy->tty = config->tty;
  copy->auto_remove = config->auto_remove;
  copy->host_access = config->host_access;
  copy->network = ctrd_network_settings_copy (config->network);
  copy->cap_add = g_strdupv (config->cap_add);
  copy->cap_drop = g_strdupv (config->cap_drop);
  copy->privileged = config->privileged;
  copy->no_new_privileges = config->no_new_privileges;
  copy->seccomp_profile = g_strdup (config->seccomp_profile);
  copy->limits = config->limits;
  copy->init = config->init;
  copy->restart = config->restart;
  ctrd_health_config_copy (&config->health, &copy->health);
  return copy;
}

char **
ctrd_container_config_get_argv (const CtrdContainerConfig *config)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (config->entrypoint != NULL)
    g_strv_builder_addv (builder, (const char **) config->entrypoint);
  if (config->command != NULL)
    g_strv_builder_addv (builder, (const char **) config->command);
  return g_strv_builder_end (builder);
}

char **
ctrd_container_config_host_access_reasons (const CtrdContainerConfig *config,
                                           const char *const *allowed_bind_sources)
{
  g_autoptr (GStrvBuilder) reasons = g_strv_builder_new ();

  if (config->network != NULL && config->network->mode == CTRD_NETWORK_MODE_HOST)
    g_strv_builder_add (reasons, "Network=host");
  if (config->privileged)
    g_strv_builder_add (reasons, "Privileged");
  if (config->cap_add != NULL && config->cap_add[0] != NULL)
    g_strv_builder_add (reasons, "CapAdd");
  if (config->seccomp_profile != NULL &&
      g_str_equal (config->seccomp_profile, CTRD_SECCOMP_PROFILE_UNCONFINED))
    g_strv_builder_add (reasons, "SeccompProfile=unconfined");
  for (guint i = 0; i < config->mounts->len; i++)
    {
      const CtrdMount *mount = g_ptr_array_index (config->mounts, i);
      g_autofree char *quoted = NULL;
      g_autofree char *outside = NULL;
      g_autofree char *suid_or_dev = NULL;

      if (mount->type != CTRD_MOUNT_BIND)
        continue;
      quoted = ctrd_quote_untrusted (mount->source);
      if (!ctrd_bind_source_is_allowed (mount->source, allowed_bind_sources))
        {
          outside = g_strdup_printf ("bind source %s (not in AllowedBindSources)", quoted);
          g_strv_builder_add (reasons, outside);
        }
      /* setuid files or device nodes of the host, usable in the container */
      if (g_strv_contains ((const char *const *) mount->options, "suid") ||
          g_strv_contains ((const char *const *) mount->options, "dev"))
        {
          suid_or_dev = g_strdup_printf ("bind source %s with suid or dev", quoted);
          g_strv_builder_add (reasons, suid_or_dev);
        }
    }
  return g_strv_builder_end (reasons);
}

/* ---------------------------------------------------------------- creation rules */

static void
replace_string (char **field, char *value)
{
  g_free (*field);
  *field = value;
}

static void
replace_strv (char ***field, char **value)
{
  g_strfreev (*field);
  *field = value;
}

/* Image env first, then the caller's: a later KEY= wins, keeping the order of
 * first appearance. Entries that are not KEY=VALUE are dropped. */
static char **
merge_env (const char *const *image_env, const char *const *env)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *const *lists[] = { image_env, env };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
      {
        const char *entry = lists[l][i];
        g_autofree char *key = NULL;
        gpointer pos;

        if (!ctrd_env_entry_is_valid (entry))
          continue;
        key = g_strndup (entry, strchr (entry, '=') - entry);
        if (g_hash_table_lookup_extended (index, key, NULL, &pos))
          {
            g_free (out->pdata[GPOINTER_TO_UINT (pos)]);
            out->pdata[GPOINTER_TO_UINT (pos)] = g_strdup (entry);
          }
        else
          {
            g_hash_table_insert (index, g_steal_pointer (&key), GUINT_TO_POINTER (out->len));
            g_ptr_array_add (out, g_strdup (entry));
          }
      }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* Entrypoint and command: docker's and podman's precedence. */
static gboolean
apply_argv (CtrdContainerConfig *config, const CtrdCreateRequest *request,
            const CtrdImageConfig *image, GError **error)
{
  const char *const no_command[] = { NULL };
  const char *const *command = request->command != NULL ? request->command : no_command;

  if (!ctrd_validate_string_array (command, CTRD_MAX_ARGV_ELEMENTS, "The command", error))
    return FALSE;
  if (request->entrypoint != NULL)
    {
      if (!ctrd_validate_string_array (request->entrypoint, CTRD_MAX_ARGV_ELEMENTS, "Entrypoint",
                                       error))
        return FALSE;
      replace_strv (&config->entrypoint, g_strdupv ((char **) request->entrypoint));
      /* Like docker/podman: a new entrypoint drops the image's Cmd. */
      replace_strv (&config->command, g_strdupv ((char **) command));
    }
  else
    {
      replace_strv (&config->entrypoint, g_strdupv (image->entrypoint));
      replace_strv (&config->command,
                    command[0] != NULL ? g_strdupv ((char **) command) : g_strdupv (image->cmd));
    }
  if (config->entrypoint[0] == NULL && config->command[0] == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "No command given and image %.12s has no default command", request->image_id);
      return FALSE;
    }
  if (config->entrypoint[0] == NULL && config->command[0][0] == '\0')
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "The command's first element is empty");
      return FALSE;
    }
  return TRUE;
}

static gboolean
apply_labels (CtrdContainerConfig *config, GHashTable *labels, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  if (labels == NULL)
    return TRUE;
  if (g_hash_table_size (labels) > CTRD_MAX_LABELS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "More than %d labels",
                   CTRD_MAX_LABELS);
      return FALSE;
    }
  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (*(const char *) key == '\0')
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "A label has an empty key");
          return FALSE;
        }
      g_hash_table_insert (config->labels, g_strdup (key), g_strdup (value));
    }
  return TRUE;
}

/* The request's stop signal, else the image's; a bad image default is
 * ignored (the image config is untrusted), a bad request is an error. */
static gboolean
apply_stop_signal (CtrdContainerConfig *config, const char *stop_signal,
                   const char *image_stop_signal, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean from_image = stop_signal == NULL || *stop_signal == '\0';
  const char *text = from_image ? image_stop_signal : stop_signal;
  int signum;

  if (text == NULL || *text == '\0')
    return TRUE;
  signum = ctrd_parse_signal (text, &local_error);
  if (signum < 0)
    {
      if (from_image)
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "StopSignal: ");
      return FALSE;
    }
  config->stop_signal = signum;
  return TRUE;
}

/* The request's user, else the image's when it is well-formed. */
static gboolean
apply_user (CtrdContainerConfig *config, const char *user, const char *image_user, GError **error)
{
  if (user != NULL)
    {
      if (!ctrd_files_validate_user_spec (user, error))
        return FALSE;
      replace_string (&config->user, g_strdup (user));
    }
  else if (ctrd_files_validate_user_spec (image_user, NULL))
    replace_string (&config->user, g_strdup (image_user != NULL ? image_user : ""));
  return TRUE;
}

static gboolean
apply_mounts (CtrdContainerConfig *config, const CtrdCreateRequest *request,
              const CtrdImageConfig *image, GError **error)
{
  for (gsize i = 0; i < request->n_mounts; i++)
    {
      CtrdMount *mount = ctrd_mount_copy (request->mounts[i]);

      /* No name: an anonymous volume, like podman run -v /data. */
      if (mount->type == CTRD_MOUNT_VOLUME && *mount->source == '\0')
        {
          replace_string (&mount->source, ctrd_generate_id ());
          mount->anonymous = TRUE;
        }
      g_ptr_array_add (config->mounts, mount);
    }
  return ctrd_mounts_check (config->mounts, request->protected_dirs, error) &&
         /* the seed's addLocalVolumes: each of the image's Volumes not already
          * mounted becomes an anonymous volume (checked: image data is untrusted) */
         ctrd_mounts_add_image_volumes (config->mounts, (const char *const *) image->volumes,
                                        error);
}

/* A list option checked entry by entry; NULL leaves the default (empty). */
static gboolean
apply_list (char ***field, const char *const *values, const char *what, guint max,
            gboolean (*check) (const char *, GError **), GError **error)
{
  if (values == NULL)
    return TRUE;
  if (g_strv_length ((char **) values) > max)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "%s has more than %u entries",
                   what, max);
      return FALSE;
    }
  for (guint i = 0; values[i] != NULL; i++)
    if (!check (values[i], error))
      {
        g_prefix_error (error, "%s: ", what);
        return FALSE;
      }
  replace_strv (field, g_strdupv ((char **) values));
  return TRUE;
}

/* Network, NetworkAliases, IPAddress, PublishPorts. */
static gboolean
apply_network (CtrdNetworkSettings *settings, const CtrdCreateRequest *request, GError **error)
{
  gboolean has_extras = (request->network_aliases != NULL && request->network_aliases[0] != NULL) ||
                        (request->ip_address != NULL && *request->ip_address != '\0') ||
                        request->n_ports > 0;

  settings->mode = request->network_mode;
  if (settings->mode != CTRD_NETWORK_MODE_BRIDGE)
    {
      if (!has_extras)
        return TRUE;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "NetworkAliases, IPAddress and PublishPorts need a bridge network (Network is "
                   "%s)",
                   ctrd_network_mode_to_string (settings->mode));
      return FALSE;
    }
  g_return_val_if_fail (request->network != NULL, FALSE);
  replace_string (&settings->network_id, g_strdup (request->network->id));
  if (request->network_aliases != NULL)
    {
      if (g_strv_length ((char **) request->network_aliases) > CTRD_NETWORK_MAX_ALIASES)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "NetworkAliases has more than %d entries", CTRD_NETWORK_MAX_ALIASES);
          return FALSE;
        }
      for (guint i = 0; request->network_aliases[i] != NULL; i++)
        if (!ctrd_network_validate_alias (request->network_aliases[i], error))
          return FALSE;
      replace_strv (&settings->aliases, g_strdupv ((char **) request->network_aliases));
    }
  for (gsize i = 0; i < request->n_ports; i++)
    g_ptr_array_add (settings->ports, ctrd_port_mapping_copy (request->ports[i]));
  if (!ctrd_port_mappings_validate (settings->ports, error))
    return FALSE;
  if (request->ip_address != NULL && *request->ip_address != '\0')
    {
      if (!ctrd_network_check_address (request->network, request->ip_address, error))
        return FALSE;
      replace_string (&settings->static_ip, g_strdup (request->ip_address));
    }
  return TRUE;
}

/* CapAdd or CapDrop: normalized names, each once. */
static gboolean
apply_capabilities (char ***field, const char *const *names, const char *what, GError **error)
{
  g_autoptr (GPtrArray) normalized = g_ptr_array_new_with_free_func (g_free);

  if (names == NULL)
    return TRUE;
  if (g_strv_length ((char **) names) > CTRD_MAX_CAPABILITIES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "%s has more than %d entries",
                   what, CTRD_MAX_CAPABILITIES);
      return FALSE;
    }
  for (guint i = 0; names[i] != NULL; i++)
    {
      char *name = NULL;

      if (!ctrd_spec_normalize_capability (names[i], &name, error))
        {
          g_prefix_error (error, "%s: ", what);
          return FALSE;
        }
      if (g_ptr_array_find_with_equal_func (normalized, name, g_str_equal, NULL))
        g_free (name);
      else
        g_ptr_array_add (normalized, name);
    }
  g_ptr_array_add (normalized, NULL);
  replace_strv (field, (char **) g_ptr_array_free (g_steal_pointer (&normalized), FALSE));
  return TRUE;
}

/* CapAdd, CapDrop, Privileged, NoNewPrivileges, SeccompProfile. */
static gboolean
apply_sandbox (CtrdContainerConfig *config, const CtrdCreateRequest *request, GError **error)
{
  const char *profile = request->seccomp_profile;

  if (!apply_capabilities (&config->cap_add, request->cap_add, "CapAdd", error) ||
      !apply_capabilities (&config->cap_drop, request->cap_drop, "CapDrop", error))
    return FALSE;
  for (guint i = 0; config->cap_add[i] != NULL; i++)
    if (!g_str_equal (config->cap_add[i], "ALL") &&
        g_strv_contains ((const char *const *) config->cap_drop, config->cap_add[i]))
      {
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                     "CapAdd and CapDrop both name %s", config->cap_add[i]);
        return FALSE;
      }
  config->privileged = request->privileged;
  config->no_new_privileges = request->no_new_privileges;
  if (profile == NULL || *profile == '\0')
    return TRUE;
  if (!g_str_equal (profile, CTRD_SECCOMP_PROFILE_DEFAULT) &&
      !g_str_equal (profile, CTRD_SECCOMP_PROFILE_UNCONFINED) &&
      !ctrd_validate_container_path (profile, "SeccompProfile", NULL))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (profile);

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "SeccompProfile %s is not default, unconfined or an absolute path", quoted);
      return FALSE;
    }
  replace_string (&config->seccomp_profile, g_strdup (profile));
  return TRUE;
}

/* The one WorkingDir rule: absolute, no "..", not under /proc (where
 * /proc/self/fd/N is a directory of the runtime's outside the root, what
 * runc's own fix for CVE-2024-21626 stops). */
static gboolean
validate_working_dir (const char *path, GError **error)
{
  g_autofree char *canonical = NULL;

  if (!ctrd_validate_container_path (path, "WorkingDir", error))
    return FALSE;
  canonical = g_canonicalize_filename (path, "/");
  if (g_str_equal (canonical, "/proc") || g_str_has_prefix (canonical, "/proc/"))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "WorkingDir must not be under /proc");
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------ exported size */

/* The serialized size of a string at its worst alignment: 4 bytes of
 * length, the bytes, the NUL, up to 3 bytes of padding before the next
 * length. Object paths are the same. */
#define STRING_BYTES(len) ((gsize) (len) + 8)
/* Each array and struct may be padded to 8 and carries a length. */
#define CONTAINER_BYTES 16
/* Every fixed-size property with its name, the variant signatures and the
 * dictionary entries, the Id, the Image and PreviousImage paths, the
 * state-like strings (State, Health, RestartPolicy, IPAddress, Network) at
 * their longest, and the interface name: under 900 bytes, rounded up. */
#define FIXED_PROPERTY_BYTES 1024
#define IMAGE_NAME_MAX 512
#define CONTAINER_PATH_LEN (sizeof "/org/example/Containers1/containers/" - 1 + CTRD_ID_LEN)

static gsize
strv_bytes (char **values)
{
  gsize bytes = CONTAINER_BYTES;

  for (guint i = 0; values[i] != NULL; i++)
    bytes += STRING_BYTES (strlen (values[i]));
  return bytes;
}

gsize
ctrd_container_config_exported_size (const CtrdContainerConfig *config)
{
  gsize bytes = FIXED_PROPERTY_BYTES;
  GHashTableIter iter;
  gpointer key, value;
  guint listings = 1; /* the image's Containers */

  bytes += STRING_BYTES (MAX (strlen (config->name), CTRD_NAME_MAX));
  bytes += STRING_BYTES (MAX (strlen (config->image_name), IMAGE_NAME_MAX));
  bytes += STRING_BYTES (strlen (config->hostname));
  /* Command: entrypoint and command in one array */
  bytes += strv_bytes (config->entrypoint) + strv_bytes (config->command);

  bytes += CONTAINER_BYTES;
  g_hash_table_iter_init (&iter, config->labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    bytes += CONTAINER_BYTES + STRING_BYTES (strlen (key)) + STRING_BYTES (strlen (value));

  bytes += CONTAINER_BYTES;
  for (guint i = 0; i < config->mounts->len; i++)
    {
      const CtrdMount *mount = config->mounts->pdata[i];

      bytes += CONTAINER_BYTES + STRING_BYTES (strlen ("volume")) +
               STRING_BYTES (strlen (mount->source)) + STRING_BYTES (strlen (mount->destination)) +
               sizeof (guint32);
      if (mount->type == CTRD_MOUNT_VOLUME)
        listings++;
    }

  bytes += CONTAINER_BYTES + g_strv_length (config->depends_on) * STRING_BYTES (CONTAINER_PATH_LEN);

  bytes += CONTAINER_BYTES;
  for (guint i = 0; i < config->network->ports->len; i++)
    {
      const CtrdPortMapping *port = config->network->ports->pdata[i];

      bytes += CONTAINER_BYTES + STRING_BYTES (strlen (port->host_ip)) + 2 * sizeof (guint16) +
               STRING_BYTES (strlen (port->protocol));
    }

  if (config->network->mode == CTRD_NETWORK_MODE_BRIDGE)
    listings++;
  return bytes + listings * STRING_BYTES (CONTAINER_PATH_LEN);
}

/* Counted on what would be published, after every other rule. */
static gboolean
check_exported_size (const CtrdContainerConfig *config, GError **error)
{
  gsize exported = ctrd_container_config_exported_size (config);

  if (exported <= CTRD_CONTAINER_PROPERTY_BUDGET)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
               "Its properties (Command, Labels, Mounts and the rest) would take %" G_GSIZE_FORMAT
               " bytes on the bus, more than the limit of %u bytes per container",
               exported, (guint) CTRD_CONTAINER_PROPERTY_BUDGET);
  return FALSE;
}

CtrdContainerConfig *
ctrd_container_config_new_for_image (const CtrdCreateRequest *request,
                                     const CtrdImageConfig *image_config, GError **error)
{
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_new ();
  const CtrdImageConfig *image = image_config;

  g_return_val_if_fail (request != NULL && request->name != NULL && request->image_id != NULL,
                        NULL);
  g_return_val_if_fail (image_config != NULL, NULL);

  replace_string (&config->id, ctrd_generate_id ());
  replace_string (&config->name, g_strdup (request->name));
  replace_string (&config->image_id, g_strdup (request->image_id));
  replace_string (&config->image_name, g_strdup (request->image_name));

  if (!apply_argv (config, request, image, error))
    return NULL;

  if (request->env != NULL && !ctrd_validate_env (request->env, error))
    return NULL;
  replace_strv (&config->env, merge_env ((const char *const *) image->env, request->env));

  if (request->working_dir != NULL && *request->working_dir != '\0')
    {
      if (!validate_working_dir (request->working_dir, error))
        return NULL;
      replace_string (&config->working_dir, g_strdup (request->working_dir));
    }
  /* The image config is untrusted: an unusable WorkingDir falls back to /. */
  else if (image->working_dir != NULL && *image->working_dir != '\0' &&
           validate_working_dir (image->working_dir, NULL))
    replace_string (&config->working_dir, g_strdup (image->working_dir));

  if (request->hostname != NULL && *request->hostname != '\0')
    {
      if (!ctrd_validate_hostname (request->hostname, error))
        return NULL;
      replace_string (&config->hostname, g_strdup (request->hostname));
    }
  else
    replace_string (&config->hostname, g_strndup (config->id, SHORT_ID_LEN));

  if (!apply_labels (config, request->labels, error) ||
      !apply_stop_signal (config, request->stop_signal, image->stop_signal, error))
    return NULL;
  if (request->has_stop_timeout)
    config->stop_timeout = request->stop_timeout;

  if (!apply_user (config, request->user, image->user, error) ||
      !apply_mounts (config, request, image, error) ||
      !apply_list (&config->dns_servers, request->dns_servers, "DnsServers", CTRD_MAX_DNS_ENTRIES,
                   ctrd_files_validate_dns_server, error) ||
      !apply_list (&config->dns_search, request->dns_search, "DnsSearch", CTRD_MAX_DNS_ENTRIES,
                   ctrd_files_validate_dns_search, error) ||
      !apply_list (&config->dns_options, request->dns_options, "DnsOptions", CTRD_MAX_DNS_ENTRIES,
                   ctrd_files_validate_dns_option, error) ||
      !apply_list (&config->add_hosts, request->add_hosts, "AddHosts", CTRD_MAX_ADD_HOSTS,
                   ctrd_files_validate_add_host, error))
    return NULL;
  if (request->depends_on != NULL)
    replace_strv (&config->depends_on, g_strdupv ((char **) request->depends_on));

  if (request->shm_size != 0)
    {
      if (request->shm_size < 4096)
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "ShmSize must be at least 4096 bytes (0: the default 64 MiB)");
          return NULL;
        }
      if (request->shm_size > CTRD_MAX_TMPFS_BYTES)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "ShmSize is over the limit of %" G_GUINT64_FORMAT " bytes",
                       CTRD_MAX_TMPFS_BYTES);
          return NULL;
        }
      config->shm_size = request->shm_size;
    }
  if (!ctrd_limits_validate (&request->limits, "CreateContainer", error))
    return NULL;
  config->limits = request->limits;
  config->init = request->init;
  config->read_only_rootfs = request->read_only_rootfs;
  config->tty = request->tty;
  config->auto_remove = request->auto_remove;
  if (request->restart_policy != NULL &&
      !ctrd_restart_policy_parse (request->restart_policy, &config->restart, error))
    return NULL;
  if (config->auto_remove && config->restart.kind != CTRD_RESTART_NO)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "AutoRemove and the restart policy \"%s\" cannot go together: a removed "
                   "container cannot start again",
                   request->restart_policy);
      return NULL;
    }
  if (!apply_network (config->network, request, error) || !apply_sandbox (config, request, error) ||
      !ctrd_health_config_apply (&config->health, &request->health, "CreateContainer", error))
    return NULL;

  if (!check_exported_size (config, error))
    return NULL;
  config->created_at = ctrd_now_usec ();
  return g_steal_pointer (&config);
}

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value != NULL ? value : "");
}

static void
add_strv (JsonBuilder *builder, const char *member, char **values)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (gsize i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

static void
add_bool (JsonBuilder *builder, const char *member, gboolean value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

static void
add_restart_policy (JsonBuilder *builder, const CtrdRestartPolicy *policy)
{
  g_autofree char *text = ctrd_restart_policy_to_string (policy);

  add_string (builder, "restart_policy", text);
}

static void
add_mounts (JsonBuilder *builder, const char *member, GPtrArray *mounts)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      const CtrdMount *mount = g_ptr_array_index (mounts, i);

      json_builder_begin_object (builder);
      add_string (builder, "type", ctrd_mount_type_to_string (mount->type));
      add_string (builder, "source", mount->source);
      add_string (builder, "destination", mount->destination);
      add_bool (builder, "read_only", mount->read_only);
      add_strv (builder, "options", mount->options);
      add_bool (builder, "anonymous", mount->anonymous);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

char *
ctrd_container_config_to_json (const CtrdContainerConfig *config)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GList) label_keys = NULL;

  json_builder_begin_object (builder);
  add_string (builder, "id", config->id);
  add_string (builder, "name", config->name);
  add_string (builder, "image_id", config->image_id);
  add_string (builder, "image_name", config->image_name);
  add_string (builder, "previous_image_id", config->previous_image_id);
  add_strv (builder, "entrypoint", config->entrypoint);
  add_strv (builder, "command", config->command);
  add_strv (builder, "env", config->env);
  add_string (builder, "working_dir", config->working_dir);
  add_string (builder, "user", config->user);
  add_string (builder, "hostname", config->hostname);

  /* Sorted keys keep the stored text stable for the same labels. */
  json_builder_set_member_name (builder, "labels");
  json_builder_begin_object (builder);
  if (config->labels != NULL)
    label_keys = g_list_sort (g_hash_table_get_keys (config->labels), (GCompareFunc) strcmp);
  for (GList *l = label_keys; l != NULL; l = l->next)
    add_string (builder, l->data, g_hash_table_lookup (config->labels, l->data));
  json_builder_end_object (builder);

  add_int (builder, "stop_signal", config->stop_signal);
  add_int (builder, "stop_timeout", config->stop_timeout);
  add_int (builder, "created_at", (gint64) config->created_at);
  add_mounts (builder, "mounts", config->mounts);
  add_strv (builder, "dns_servers", config->dns_servers);
  add_strv (builder, "dns_search", config->dns_search);
  add_strv (builder, "dns_options", config->dns_options);
  add_strv (builder, "add_hosts", config->add_hosts);
  add_int (builder, "shm_size", (gint64) MIN (config->shm_size, (guint64) G_MAXINT64));
  add_bool (builder, "read_only_rootfs", config->read_only_rootfs);
  add_bool (builder, "tty", config->tty);
  add_bool (builder, "auto_remove", config->auto_remove);
  add_bool (builder, "host_access", config->host_access);
  add_strv (builder, "depends_on", config->depends_on);
  ctrd_network_settings_add_json (config->network, builder, "network");
  add_strv (builder, "cap_add", config->cap_add);
  add_strv (builder, "cap_drop", config->cap_drop);
  add_bool (builder, "privileged", config->privileged);
  add_bool (builder, "no_new_privileges", config->no_new_privileges);
  add_string (builder, "seccomp_profile", config->seccomp_profile);
  add_int (builder, "memory_limit", (gint64) MIN (config->limits.memory_limit, (guint64) G_MAXINT64));
  json_builder_set_member_name (builder, "cpu_quota");
  json_builder_add_double_value (builder, config->limits.cpu_quota);
  add_int (builder, "pids_limit", config->limits.pids_limit);
  add_bool (builder, "init", config->init);
  add_restart_policy (builder, &config->restart);
  ctrd_health_config_add_json (&config->health, builder, "healthcheck");
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/* Errors say "Container configuration field ..." */
#define CONFIG_WHAT "Container configuration"

static gboolean
type_error (const char *member, const char *expected, GError **error)
{
  return ctrd_json_field_error (CONFIG_WHAT, member, expected, error);
}

/* The configuration's readers: ctrd_json_read_* (an absent member leaves *out
 * untouched, so the caller's default stands; a wrong type fails). */
static gboolean
read_string (JsonObject *object, const char *member, char **out, GError **error)
{
  return ctrd_json_read_string (object, CONFIG_WHAT, member, out, error);
}

static gboolean
read_strv (JsonObject *object, const char *member, char ***out, GError **error)
{
  return ctrd_json_read_strv (object, CONFIG_WHAT, member, out, error);
}

static gboolean
read_labels (JsonObject *object, const char *member, GHashTable *labels, GError **error)
{
  return ctrd_json_read_string_map (object, CONFIG_WHAT, member, labels, error);
}

static gboolean
read_int (JsonObject *object, const char *member, gint64 min, gint64 max, gint64 *out,
          GError **error)
{
  return ctrd_json_read_int (object, CONFIG_WHAT, member, min, max, out, error);
}

static gboolean
read_bool (JsonObject *object, const char *member, gboolean *out, GError **error)
{
  return ctrd_json_read_bool (object, CONFIG_WHAT, member, out, error);
}

/* "restart_policy": absent in records older than restart policies (`no`). */
static gboolean
read_restart_policy (JsonObject *object, CtrdRestartPolicy *out, GError **error)
{
  g_autofree char *text = NULL;

  if (!read_string (object, "restart_policy", &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  return ctrd_restart_policy_parse (text, out, error);
}

/* A number, integer or not; absent leaves *out as it is. */
static gboolean
read_double (JsonObject *object, const char *member, double *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  GType type;

  if (node == NULL)
    return TRUE;
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    return type_error (member, "a number", error);
  *out = json_node_get_double (node);
  return TRUE;
}

static CtrdMount *
read_one_mount (JsonNode *node, GError **error)
{
  g_autoptr (CtrdMount) mount = ctrd_mount_new (CTRD_MOUNT_BIND, NULL, NULL, FALSE, NULL);
  g_autofree char *type = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      type_error ("mounts", "an array of objects", error);
      return NULL;
    }
  object = json_node_get_object (node);
  if (!read_string (object, "type", &type, error) ||
      !read_string (object, "source", &mount->source, error) ||
      !read_string (object, "destination", &mount->destination, error) ||
      !read_bool (object, "read_only", &mount->read_only, error) ||
      !read_strv (object, "options", &mount->options, error) ||
      !read_bool (object, "anonymous", &mount->anonymous, error))
    {
      g_prefix_error (error, "In “mounts”: ");
      return NULL;
    }
  if (!ctrd_mount_type_from_string (type, &mount->type))
    {
      type_error ("mounts", "mounts of type bind, tmpfs or volume", error);
      return NULL;
    }
  /* Only a validated absolute path is ever stored; anything else is a corrupt record. */
  if (!g_path_is_absolute (mount->destination))
    {
      type_error ("mounts", "mounts with absolute destinations", error);
      return NULL;
    }
  return g_steal_pointer (&mount);
}

static gboolean
read_mounts (JsonObject *object, const char *member, GPtrArray *mounts, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return type_error (member, "an array of objects", error);

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      CtrdMount *mount = read_one_mount (json_array_get_element (array, i), error);

      if (mount == NULL)
        return FALSE;
      g_ptr_array_add (mounts, mount);
    }
  return TRUE;
}

static gboolean
read_id_list (JsonObject *object, const char *member, char ***out, GError **error)
{
  if (!read_strv (object, member, out, error))
    return FALSE;
  for (gsize i = 0; (*out)[i] != NULL; i++)
    if (!ctrd_is_full_id ((*out)[i]))
      return type_error (member, "an array of 64 lowercase hexadecimal IDs", error);
  return TRUE;
}

static gboolean
read_required_string (JsonObject *object, const char *member, char **out, GError **error)
{
  if (!json_object_has_member (object, member))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Container configuration field “%s” is missing", member);
      return FALSE;
    }
  if (!read_string (object, member, out, error))
    return FALSE;
  if (**out == '\0')
    return type_error (member, "a non-empty string", error);
  return TRUE;
}

static gboolean
read_required_id (JsonObject *object, const char *member, char **out, GError **error)
{
  if (!read_required_string (object, member, out, error))
    return FALSE;
  /* IDs become D-Bus object paths and directory names; anything but hex here
   * is a corrupt record. */
  if (!ctrd_is_full_id (*out))
    return type_error (member, "64 lowercase hexadecimal characters", error);
  return TRUE;
}

CtrdContainerConfig *
ctrd_container_config_from_json (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;
  gint64 stop_signal = SIGTERM;
  gint64 stop_timeout = DEFAULT_STOP_TIMEOUT;
  gint64 created_at = 0;
  gint64 shm_size = CTRD_DEFAULT_SHM_SIZE;
  gint64 memory_limit = 0;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Container configuration is not valid JSON: %s",
                   local_error != NULL ? local_error->message : "no text");
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Container configuration is not a JSON object");
      return NULL;
    }
  object = json_node_get_object (root);

  if (!read_required_id (object, "id", &config->id, error) ||
      !read_required_id (object, "image_id", &config->image_id, error) ||
      !read_required_string (object, "name", &config->name, error))
    return NULL;

  g_free (config->hostname);
  config->hostname = g_strndup (config->id, SHORT_ID_LEN);

  if (!read_string (object, "image_name", &config->image_name, error) ||
      !read_string (object, "previous_image_id", &config->previous_image_id, error) ||
      !read_strv (object, "entrypoint", &config->entrypoint, error) ||
      !read_strv (object, "command", &config->command, error) ||
      !read_strv (object, "env", &config->env, error) ||
      !read_string (object, "working_dir", &config->working_dir, error) ||
      !read_string (object, "user", &config->user, error) ||
      !read_string (object, "hostname", &config->hostname, error) ||
      !read_labels (object, "labels", config->labels, error) ||
      !read_int (object, "stop_signal", 1, SIGRTMAX, &stop_signal, error) ||
      !read_int (object, "stop_timeout", 0, G_MAXUINT32, &stop_timeout, error) ||
      !read_int (object, "created_at", 0, G_MAXINT64, &created_at, error) ||
      !read_mounts (object, "mounts", config->mounts, error) ||
      !read_strv (object, "dns_servers", &config->dns_servers, error) ||
      !read_strv (object, "dns_search", &config->dns_search, error) ||
      !read_strv (object, "dns_options", &config->dns_options, error) ||
      !read_strv (object, "add_hosts", &config->add_hosts, error) ||
      !read_int (object, "shm_size", 1, G_MAXINT64, &shm_size, error) ||
      !read_bool (object, "read_only_rootfs", &config->read_only_rootfs, error) ||
      !read_bool (object, "tty", &config->tty, error) ||
      !read_bool (object, "auto_remove", &config->auto_remove, error) ||
      !read_bool (object, "host_access", &config->host_access, error) ||
      !read_id_list (object, "depends_on", &config->depends_on, error) ||
      !ctrd_network_settings_read_json (object, "network", config->network, error) ||
      !read_strv (object, "cap_add", &config->cap_add, error) ||
      !read_strv (object, "cap_drop", &config->cap_drop, error) ||
      !read_bool (object, "privileged", &config->privileged, error) ||
      !read_bool (object, "no_new_privileges", &config->no_new_privileges, error) ||
      !read_string (object, "seccomp_profile", &config->seccomp_profile, error) ||
      !read_int (object, "memory_limit", 0, G_MAXINT64, &memory_limit, error) ||
      !read_double (object, "cpu_quota", &config->limits.cpu_quota, error) ||
      !read_int (object, "pids_limit", 0, G_MAXINT64, &config->limits.pids_limit, error) ||
      !read_bool (object, "init", &config->init, error) ||
      !read_restart_policy (object, &config->restart, error) ||
      !ctrd_health_config_read_json (object, "healthcheck", &config->health, error))
    return NULL;
  config->limits.memory_limit = (guint64) memory_limit;
  if (!ctrd_limits_validate (&config->limits, CONFIG_WHAT, error))
    return NULL;
  if (*config->seccomp_profile == '\0')
    replace_string (&config->seccomp_profile, g_strdup (CTRD_SECCOMP_PROFILE_DEFAULT));

  config->stop_signal = (int) stop_signal;
  config->stop_timeout = (guint32) stop_timeout;
  config->created_at = (guint64) created_at;
  config->shm_size = (guint64) shm_size;
  return g_steal_pointer (&config);
}
