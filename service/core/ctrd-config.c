/* ctrd-config.c: the daemon's configuration file. */
#include "config.h"

#include <gio/gio.h>

#include "ctrd-caller-open.h"
#include "ctrd-config.h"
#include "ctrd-error.h"
#include "ctrd-network.h"
#include "ctrd-registry.h"

void
ctrd_config_free (CtrdConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->storage_root);
  g_free (config->run_root);
  g_free (config->runtime);
  g_free (config->conmon);
  g_strfreev (config->hooks_dirs);
  g_strfreev (config->allowed_bind_sources);
  g_strfreev (config->registries);
  g_free (config->skopeo);
  g_free (config->network_subnet_pool);
  g_free (config->netavark);
  g_free (config->aardvark_dns);
  g_free (config);
}

static gboolean
read_string (GKeyFile *kf, const char *group, const char *key, char **inout, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *value = g_key_file_get_string (kf, group, key, &local_error);

  if (value == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "[%s] %s: %s", group, key,
                   local_error->message);
      return FALSE;
    }
  g_strstrip (value);
  if (*value == '\0')
    return TRUE;
  g_free (*inout);
  *inout = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
read_uint64 (GKeyFile *kf, const char *group, const char *key, guint64 *inout, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  guint64 value;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  value = g_key_file_get_uint64 (kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "[%s] %s: %s", group, key,
                   local_error->message);
      return FALSE;
    }
  *inout = value;
  return TRUE;
}

static gboolean
read_boolean (GKeyFile *kf, const char *group, const char *key, gboolean *inout, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean value;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  value = g_key_file_get_boolean (kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "[%s] %s: %s", group, key,
                   local_error->message);
      return FALSE;
    }
  *inout = value;
  return TRUE;
}

/* [security] AllowedBindSources: a ";"-separated list of absolute
 * directories. Each is compared with bind sources by its components, so
 * "." or ".." (which the comparison would not see through) is refused;
 * repeated and trailing slashes are dropped. */
static gboolean
read_allowed_bind_sources (GKeyFile *kf, char ***inout, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) values = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (!g_key_file_has_key (kf, "security", "AllowedBindSources", NULL))
    return TRUE;
  values = g_key_file_get_string_list (kf, "security", "AllowedBindSources", NULL, &local_error);
  if (values == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "[security] AllowedBindSources: %s", local_error->message);
      return FALSE;
    }
  for (guint i = 0; values[i] != NULL; i++)
    {
      g_auto (GStrv) parts = NULL;
      g_autoptr (GString) clean = g_string_new (NULL);
      const char *value = g_strstrip (values[i]);

      if (*value == '\0')
        continue;
      if (!g_path_is_absolute (value))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "[security] AllowedBindSources: %s is not an absolute path", value);
          return FALSE;
        }
      parts = g_strsplit (value, "/", -1);
      for (guint j = 0; parts[j] != NULL; j++)
        {
          if (*parts[j] == '\0')
            continue;
          if (g_str_equal (parts[j], ".") || g_str_equal (parts[j], ".."))
            {
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "[security] AllowedBindSources: %s has a “%s” component", value,
                           parts[j]);
              return FALSE;
            }
          g_string_append_printf (clean, "/%s", parts[j]);
        }
      if (clean->len == 0)
        {
          g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                               "[security] AllowedBindSources: / would allow the whole host");
          return FALSE;
        }
      g_strv_builder_add (builder, clean->str);
    }
  g_strfreev (*inout);
  *inout = g_strv_builder_end (builder);
  return TRUE;
}

/* [images] registries: each a registry host[:port], checked as a pull
 * reference's host is. */
static gboolean
read_registries (GKeyFile *kf, char ***inout, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) values = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (!g_key_file_has_key (kf, "images", "registries", NULL))
    return TRUE;
  values = g_key_file_get_string_list (kf, "images", "registries", NULL, &local_error);
  if (values == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "[images] registries: %s",
                   local_error->message);
      return FALSE;
    }
  for (guint i = 0; values[i] != NULL; i++)
    {
      const char *value = g_strstrip (values[i]);

      if (*value == '\0')
        continue;
      if (!ctrd_registry_host_valid (value))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "[images] registries: %s is not a registry host[:port]", value);
          return FALSE;
        }
      g_strv_builder_add (builder, value);
    }
  g_strfreev (*inout);
  *inout = g_strv_builder_end (builder);
  return TRUE;
}

static const struct
{
  const char *group;
  const char *key;
} known_keys[] = {
  { "storage", "root" },          { "storage", "run_root" },
  { "runtime", "path" },          { "runtime", "conmon" },
  { "limits", "import_max_bytes" }, { "limits", "import_max_entries" },
  { "daemon", "debug" },         { "hooks", "dirs" },
  { "network", "subnet_pool" },  { "network", "netavark" },
  { "network", "aardvark_dns" }, { "network", "dns_forward" },
  { "runtime", "timeout" },
  { "security", "AllowedBindSources" },
  { "limits", "exported_max_bytes" }, { "limits", "commit_max_bytes" },
  { "limits", "terminal_connect_timeout" }, { "limits", "caller_open_timeout" },
  { "limits", "events_max_count" }, { "limits", "events_max_age" },
  { "images", "registries" },    { "images", "skopeo" },
};

static void
warn_unknown_keys (GKeyFile *kf, const char *path)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[i], NULL, NULL);
      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        {
          gboolean known = FALSE;
          for (guint k = 0; k < G_N_ELEMENTS (known_keys) && !known; k++)
            known = g_str_equal (known_keys[k].group, groups[i]) &&
                    g_str_equal (known_keys[k].key, keys[j]);
          if (!known)
            g_warning ("%s: ignoring unknown key [%s] %s", path, groups[i], keys[j]);
        }
    }
}

/* The bounds on what callers can make the daemon hold: never above what
 * keeps the bus healthy, never zero. */
static gboolean
read_bounds (GKeyFile *kf, CtrdConfig *config, GError **error)
{
  if (!read_uint64 (kf, "limits", "exported_max_bytes", &config->exported_max_bytes, error) ||
      !read_uint64 (kf, "limits", "commit_max_bytes", &config->commit_max_bytes, error) ||
      !read_uint64 (kf, "limits", "terminal_connect_timeout", &config->terminal_connect_timeout,
                    error) ||
      !read_uint64 (kf, "limits", "caller_open_timeout", &config->caller_open_timeout, error) ||
      !read_uint64 (kf, "limits", "events_max_count", &config->events_max_count, error) ||
      !read_uint64 (kf, "limits", "events_max_age", &config->events_max_age, error))
    return FALSE;
  if (config->terminal_connect_timeout == 0 || config->terminal_connect_timeout > 86400)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "[limits] terminal_connect_timeout must be 1 to 86400 seconds");
      return FALSE;
    }
  if (config->caller_open_timeout == 0 || config->caller_open_timeout > 3600)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "[limits] caller_open_timeout must be 1 to 3600 seconds");
      return FALSE;
    }
  if (config->events_max_count == 0 || config->events_max_count > CTRD_EVENTS_MAX_COUNT)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "[limits] events_max_count must be between 1 and %u (one GetEvents reply "
                   "holds them all)",
                   CTRD_EVENTS_MAX_COUNT);
      return FALSE;
    }
  if (config->events_max_age == 0 || config->events_max_age > G_MAXUINT64 / G_USEC_PER_SEC)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "[limits] events_max_age must be a positive number of seconds");
      return FALSE;
    }
  if (config->exported_max_bytes == 0 || config->exported_max_bytes > CTRD_EXPORTED_MAX_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "[limits] exported_max_bytes must be between 1 and %" G_GUINT64_FORMAT
                   " (the bus's message limit is 32 MiB)",
                   CTRD_EXPORTED_MAX_BYTES);
      return FALSE;
    }
  return TRUE;
}

CtrdConfig *
ctrd_config_load (const char *path, GError **error)
{
  g_autoptr (CtrdConfig) config = g_new0 (CtrdConfig, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  const char *file = path != NULL ? path : CTRD_DEFAULT_CONFIG_FILE;

  config->storage_root = g_strdup ("/var/lib/containersd");
  config->run_root = g_strdup ("/run/containersd");
  config->import_max_bytes = G_GUINT64_CONSTANT (16) << 30;
  config->import_max_entries = 1000000;
  config->runtime_timeout = 60;
  config->network_subnet_pool = g_strdup (CTRD_NETWORK_DEFAULT_POOL);
  config->dns_forward = TRUE;
  config->allowed_bind_sources = g_new0 (char *, 1);
  config->exported_max_bytes = CTRD_EXPORTED_MAX_BYTES;
  config->commit_max_bytes = G_GUINT64_CONSTANT (16) << 30;
  config->terminal_connect_timeout = 30;
  config->caller_open_timeout = CTRD_CALLER_OPEN_DEFAULT_TIMEOUT;
  config->events_max_count = 10000;
  config->events_max_age = 7 * 24 * 3600;
  config->registries = g_new0 (char *, 1);

  if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, &local_error))
    {
      if (path == NULL && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&config);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Config file %s: %s", file,
                   local_error->message);
      return NULL;
    }
  warn_unknown_keys (kf, file);

  if (!read_string (kf, "storage", "root", &config->storage_root, error) ||
      !read_string (kf, "storage", "run_root", &config->run_root, error) ||
      !read_string (kf, "runtime", "path", &config->runtime, error) ||
      !read_string (kf, "runtime", "conmon", &config->conmon, error) ||
      !read_uint64 (kf, "runtime", "timeout", &config->runtime_timeout, error) ||
      !read_uint64 (kf, "limits", "import_max_bytes", &config->import_max_bytes, error) ||
      !read_uint64 (kf, "limits", "import_max_entries", &config->import_max_entries, error) ||
      !read_boolean (kf, "daemon", "debug", &config->debug, error) ||
      !read_string (kf, "network", "subnet_pool", &config->network_subnet_pool, error) ||
      !read_string (kf, "network", "netavark", &config->netavark, error) ||
      !read_string (kf, "network", "aardvark_dns", &config->aardvark_dns, error) ||
      !read_boolean (kf, "network", "dns_forward", &config->dns_forward, error) ||
      !read_string (kf, "images", "skopeo", &config->skopeo, error))
    {
      g_prefix_error (error, "Config file %s: ", file);
      return NULL;
    }

  if (!read_bounds (kf, config, error))
    {
      g_prefix_error (error, "Config file %s: ", file);
      return NULL;
    }

  if (g_key_file_has_key (kf, "hooks", "dirs", NULL))
    {
      g_autoptr (GError) local = NULL;
      config->hooks_dirs = g_key_file_get_string_list (kf, "hooks", "dirs", NULL, &local);
      for (guint i = 0; config->hooks_dirs != NULL && config->hooks_dirs[i] != NULL; i++)
        if (!g_path_is_absolute (g_strstrip (config->hooks_dirs[i])))
          {
            g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                         "Config file %s: [hooks] dirs must be absolute paths", file);
            return NULL;
          }
    }

  if (!read_allowed_bind_sources (kf, &config->allowed_bind_sources, error) ||
      !read_registries (kf, &config->registries, error))
    {
      g_prefix_error (error, "Config file %s: ", file);
      return NULL;
    }

  {
    guint32 network;
    guint prefix;
    if (!ctrd_network_parse_subnet (config->network_subnet_pool, "[network] subnet_pool",
                                    &network, &prefix, error))
      {
        g_prefix_error (error, "Config file %s: ", file);
        return NULL;
      }
  }
  if (config->skopeo != NULL && !g_path_is_absolute (config->skopeo))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Config file %s: [images] skopeo must be an absolute path", file);
      return NULL;
    }
  if ((config->netavark != NULL && !g_path_is_absolute (config->netavark)) ||
      (config->aardvark_dns != NULL && !g_path_is_absolute (config->aardvark_dns)))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Config file %s: [network] netavark and aardvark_dns must be absolute paths",
                   file);
      return NULL;
    }
  if (!g_path_is_absolute (config->storage_root) || !g_path_is_absolute (config->run_root))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Config file %s: [storage] root and run_root must be absolute paths", file);
      return NULL;
    }
  return g_steal_pointer (&config);
}
