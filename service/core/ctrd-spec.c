/* ctrd-spec.c: builds the OCI runtime config.json of a container (json-glib).
 *
 * The shape is what `runc spec` prints, with podman's defaults where the two
 * differ (capabilities, masked and read-only paths, mount options), as podman
 * 4 writes them for a rootful container with --network none. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ctrd-error.h"
#include "ctrd-files.h"
#include "ctrd-spec.h"
#include "ctrd-util.h"
#include "ctrd-volumes.h"

#define OCI_VERSION "1.0.2"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_TERM "xterm"
#define HOSTNAME_MAX 64
#define SHORT_ID_LEN 12

/* podman's defaults when the daemon may raise limits; used only as a ceiling
 * when our own limit is unlimited, since the spec needs a number. */
#define NOFILE_CEILING 1048576
#define NPROC_CEILING 4194304

#define MAX_MOUNT_OPTIONS 32
#define MAX_MOUNT_OPTION_LEN 256

static const char *const default_capabilities[] = {
  "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
  "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
  "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT", NULL,
};

static const char *const masked_paths[] = {
  "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block",    NULL,
};

static const char *const readonly_paths[] = {
  "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const namespaces[] = {
  "pid", "network", "ipc", "uts", "mount", "cgroup", NULL,
};

static JsonArray *
strv_to_json_array (const char *const *strv)
{
  JsonArray *array = json_array_new ();

  for (gsize i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

static gboolean
env_has_key (const char *const *env, const char *key)
{
  gsize key_len = strlen (key);

  for (gsize i = 0; env != NULL && env[i] != NULL; i++)
    if (strncmp (env[i], key, key_len) == 0 && env[i][key_len] == '=')
      return TRUE;
  return FALSE;
}

static gboolean
is_valid_hostname (const char *hostname)
{
  gsize len = strlen (hostname);

  if (len == 0 || len > HOSTNAME_MAX || hostname[0] == '-' || hostname[0] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (hostname[i]) && hostname[i] != '-' && hostname[i] != '.')
      return FALSE;
  return TRUE;
}

/* Sets INVALID_ARGUMENT: "Container ID: WHAT “VALUE” PROBLEM" (@value
 * untrusted, quoted; NULL leaves it out). Returns FALSE. */
static gboolean
reject_param (GError **error, const char *id, const char *what, const char *value,
              const char *problem)
{
  g_autofree char *quoted = value != NULL ? ctrd_quote_untrusted (value) : NULL;

  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Container %s: %s%s%s %s", id, what,
               quoted != NULL ? " " : "", quoted != NULL ? quoted : "", problem);
  return FALSE;
}

static gboolean
validate_params (const CtrdSpecParams *params, GError **error)
{
  const char *id = params->id != NULL ? params->id : "(no id)";

  if (params->argv == NULL || params->argv[0] == NULL || params->argv[0][0] == '\0')
    return reject_param (error, id, "the command", NULL, "is empty");
  if (params->rootfs == NULL || !g_path_is_absolute (params->rootfs))
    return reject_param (error, id, "the root filesystem path", params->rootfs, "is not absolute");
  if (params->cwd != NULL && !g_path_is_absolute (params->cwd))
    return reject_param (error, id, "the working directory", params->cwd, "is not absolute");
  if (params->hostname != NULL && !is_valid_hostname (params->hostname))
    return reject_param (error, id, "the host name", params->hostname, "is not valid");
  if (params->cgroups_path != NULL && !g_path_is_absolute (params->cgroups_path))
    return reject_param (error, id, "the cgroups path", params->cgroups_path, "is not absolute");
  if (params->netns_path != NULL && !g_path_is_absolute (params->netns_path))
    return reject_param (error, id, "the network namespace", params->netns_path,
                         "is not absolute");
  for (gsize i = 0; params->env != NULL && params->env[i] != NULL; i++)
    {
      const char *eq = strchr (params->env[i], '=');

      if (eq == NULL || eq == params->env[i])
        return reject_param (error, id, "the environment entry", params->env[i],
                             "is not KEY=VALUE");
    }
  return TRUE;
}

static JsonArray *
build_env (const CtrdSpecParams *params)
{
  JsonArray *env = strv_to_json_array (params->env);

  /* like podman: an image without PATH would otherwise run with none, and
   * TERM=xterm is in podman's default environment. */
  if (!env_has_key (params->env, "PATH"))
    json_array_add_string_element (env, "PATH=" DEFAULT_PATH);
  if (!env_has_key (params->env, "TERM"))
    json_array_add_string_element (env, "TERM=" DEFAULT_TERM);
  return env;
}

static JsonObject *
build_capabilities (guint32 uid)
{
  JsonObject *caps = json_object_new ();

  json_object_set_array_member (caps, "bounding", strv_to_json_array (default_capabilities));
  /* like podman's security config: a non-root user gets the capabilities only
   * in its bounding set, so it cannot use them unless it execs a file that
   * carries them. */
  if (uid == 0)
    {
      json_object_set_array_member (caps, "effective", strv_to_json_array (default_capabilities));
      json_object_set_array_member (caps, "permitted", strv_to_json_array (default_capabilities));
    }
  else
    {
      json_object_set_array_member (caps, "effective", json_array_new ());
      json_object_set_array_member (caps, "permitted", json_array_new ());
    }
  json_object_set_array_member (caps, "inheritable", json_array_new ());
  return caps;
}

/* Raising a limit above the hard limit is refused on some hosts (and in the
 * test VM), so the container gets the daemon's soft limit, which is never
 * above its hard limit. */
static JsonObject *
build_rlimit (const char *name, int resource, gint64 ceiling)
{
  JsonObject *rlimit = json_object_new ();
  struct rlimit current;
  gint64 value = ceiling;

  if (getrlimit (resource, &current) == 0)
    {
      rlim_t limit = MIN (current.rlim_cur, current.rlim_max);

      if (limit != RLIM_INFINITY && (guint64) limit < (guint64) ceiling)
        value = (gint64) limit;
    }
  json_object_set_string_member (rlimit, "type", name);
  json_object_set_int_member (rlimit, "hard", value);
  json_object_set_int_member (rlimit, "soft", value);
  return rlimit;
}

static JsonObject *
build_process (const CtrdSpecParams *params)
{
  JsonObject *process = json_object_new ();
  JsonObject *user = json_object_new ();
  JsonArray *rlimits = json_array_new ();

  json_object_set_boolean_member (process, "terminal", params->tty);
  json_object_set_int_member (user, "uid", params->uid);
  json_object_set_int_member (user, "gid", params->gid);
  if (params->n_additional_gids > 0)
    {
      JsonArray *gids = json_array_new ();

      for (gsize i = 0; i < params->n_additional_gids; i++)
        json_array_add_int_element (gids, params->additional_gids[i]);
      json_object_set_array_member (user, "additionalGids", gids);
    }
  json_object_set_object_member (process, "user", user);
  json_object_set_array_member (process, "args", strv_to_json_array (params->argv));
  json_object_set_array_member (process, "env", build_env (params));
  json_object_set_string_member (process, "cwd", params->cwd != NULL ? params->cwd : "/");
  json_object_set_object_member (process, "capabilities", build_capabilities (params->uid));
  json_array_add_object_element (rlimits,
                                 build_rlimit ("RLIMIT_NOFILE", RLIMIT_NOFILE, NOFILE_CEILING));
  json_array_add_object_element (rlimits,
                                 build_rlimit ("RLIMIT_NPROC", RLIMIT_NPROC, NPROC_CEILING));
  json_object_set_array_member (process, "rlimits", rlimits);
  json_object_set_boolean_member (process, "noNewPrivileges", FALSE);
  return process;
}

static JsonObject *
make_mount (const char *destination, const char *type, const char *source,
            const char *const *options)
{
  JsonObject *mount = json_object_new ();

  json_object_set_string_member (mount, "destination", destination);
  json_object_set_string_member (mount, "type", type);
  json_object_set_string_member (mount, "source", source);
  json_object_set_array_member (mount, "options", strv_to_json_array (options));
  return mount;
}

/* ---------------------------------------------------------------- mounts */

static gboolean
is_at_or_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  while (len > 1 && dir[len - 1] == '/')
    len--;
  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static gboolean
has_control_chars (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static gboolean
reject_path (GError **error, const char *what, const char *path, const char *problem)
{
  g_autofree char *quoted = ctrd_quote_untrusted (path);

  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s %s %s", what, quoted, problem);
  return FALSE;
}

/* reject_path for functions returning a pointer. */
static gpointer
reject_path_null (GError **error, const char *what, const char *path, const char *problem)
{
  reject_path (error, what, path, problem);
  return NULL;
}

/* The runtime mounts these itself; a mount there would undo its setup (or,
 * for /proc/self/fd/N, point somewhere unknowable). */
static const char *const reserved_trees[] = { "/proc", "/sys", "/dev/pts", NULL };
static const char *const reserved_points[] = { "/dev", "/dev/mqueue", NULL };

char *
ctrd_spec_normalize_destination (const char *destination, const char *what, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) clean = g_string_new (NULL);

  if (destination == NULL || !g_path_is_absolute (destination))
    return reject_path_null (error, what, destination, "is not an absolute path");
  if (strlen (destination) >= PATH_MAX)
    return reject_path_null (error, what, destination, "is too long");
  if (has_control_chars (destination))
    return reject_path_null (error, what, destination, "has control characters");

  parts = g_strsplit (destination, "/", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        return reject_path_null (error, what, destination, "has a “..” component");
      g_string_append_printf (clean, "/%s", parts[i]);
    }
  if (clean->len == 0)
    return reject_path_null (error, what, destination, "is the container's root");
  for (gsize i = 0; reserved_trees[i] != NULL; i++)
    if (is_at_or_under (clean->str, reserved_trees[i]))
      return reject_path_null (error, what, destination, "is reserved for the runtime");
  if (g_strv_contains (reserved_points, clean->str))
    return reject_path_null (error, what, destination, "is reserved for the runtime");
  return g_string_free (g_steal_pointer (&clean), FALSE);
}

/* Syntax only (no file system access): what generate re-checks of a stored mount. */
static gboolean
check_bind_source_syntax (const char *source, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (source == NULL || !g_path_is_absolute (source))
    return reject_path (error, "Bind source", source, "is not an absolute path");
  if (has_control_chars (source))
    return reject_path (error, "Bind source", source, "has control characters");
  parts = g_strsplit (source, "/", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    if (g_str_equal (parts[i], ".."))
      return reject_path (error, "Bind source", source, "has a “..” component");
  if (is_at_or_under (source, "/proc"))
    return reject_path (error, "Bind source", source, "is inside /proc");
  return TRUE;
}

/* The real path of a bind source the container may have. */
static char *
resolve_bind_source (const char *source, const char *const *protected_dirs, GError **error)
{
  g_autofree char *resolved = NULL;

  if (!check_bind_source_syntax (source, error))
    return NULL;
  resolved = realpath (source, NULL);
  if (resolved == NULL)
    {
      int saved_errno = errno;
      g_autofree char *quoted = ctrd_quote_untrusted (source);

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Bind source %s: %s", quoted,
                   saved_errno == ENOENT ? "does not exist" : g_strerror (saved_errno));
      return NULL;
    }
  /* the whole host, or the kernel's view of every process: never a volume */
  if (g_str_equal (resolved, "/"))
    return reject_path_null (error, "Bind source", source, "is the host's root directory");
  if (is_at_or_under (resolved, "/proc"))
    return reject_path_null (error, "Bind source", source, "leads into /proc");
  for (gsize i = 0; protected_dirs != NULL && protected_dirs[i] != NULL; i++)
    {
      g_autofree char *real_dir = realpath (protected_dirs[i], NULL);

      if (is_at_or_under (resolved, real_dir != NULL ? real_dir : protected_dirs[i]))
        return reject_path_null (error, "Bind source", source,
                                 "is inside containersd's own storage");
    }
  return g_steal_pointer (&resolved);
}

static gboolean
is_size_value (const char *value)
{
  const char *p = value;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p != '\0' && strchr ("kKmMgG%", *p) != NULL)
    p++;
  return *p == '\0' && p - value <= 20;
}

static gboolean
is_mode_value (const char *value)
{
  gsize len = strlen (value);

  if (len == 0 || len > 4)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (value[i] < '0' || value[i] > '7')
      return FALSE;
  return TRUE;
}

typedef enum
{
  OPT_WRITE,
  OPT_PROPAGATION,
  OPT_BIND,
  OPT_SUID,
  OPT_DEV,
  OPT_EXEC,
  OPT_SIZE,
  OPT_MODE,
  OPT_COPYUP,
  N_OPT_GROUPS
} OptionGroup;

typedef struct
{
  const char *name; /* a "name=" entry takes a value */
  OptionGroup group;
  gboolean tmpfs; /* allowed with tmpfs */
  gboolean bind;  /* allowed with bind and volume */
} OptionRule;

/* podman's util.ProcessOptions set; SELinux relabelling (z, Z), U and
 * overlay (O) are not supported. */
static const OptionRule option_rules[] = {
  { "rw", OPT_WRITE, TRUE, TRUE },
  { "ro", OPT_WRITE, TRUE, TRUE },
  { "private", OPT_PROPAGATION, TRUE, TRUE },
  { "rprivate", OPT_PROPAGATION, TRUE, TRUE },
  { "shared", OPT_PROPAGATION, TRUE, TRUE },
  { "rshared", OPT_PROPAGATION, TRUE, TRUE },
  { "slave", OPT_PROPAGATION, TRUE, TRUE },
  { "rslave", OPT_PROPAGATION, TRUE, TRUE },
  { "unbindable", OPT_PROPAGATION, TRUE, TRUE },
  { "runbindable", OPT_PROPAGATION, TRUE, TRUE },
  { "bind", OPT_BIND, FALSE, TRUE },
  { "rbind", OPT_BIND, FALSE, TRUE },
  { "suid", OPT_SUID, TRUE, TRUE },
  { "nosuid", OPT_SUID, TRUE, TRUE },
  { "dev", OPT_DEV, TRUE, TRUE },
  { "nodev", OPT_DEV, TRUE, TRUE },
  { "exec", OPT_EXEC, TRUE, TRUE },
  { "noexec", OPT_EXEC, TRUE, TRUE },
  { "size=", OPT_SIZE, TRUE, FALSE },
  { "mode=", OPT_MODE, TRUE, FALSE },
  { "tmpcopyup", OPT_COPYUP, TRUE, FALSE },
  { "notmpcopyup", OPT_COPYUP, TRUE, FALSE },
};

static const OptionRule *
find_option_rule (const char *option, const char **out_value)
{
  for (gsize i = 0; i < G_N_ELEMENTS (option_rules); i++)
    {
      const char *name = option_rules[i].name;
      gsize len = strlen (name);

      if (name[len - 1] == '=' ? strncmp (option, name, len) == 0 : g_str_equal (option, name))
        {
          *out_value = option + (name[len - 1] == '=' ? len : strlen (option));
          return &option_rules[i];
        }
    }
  return NULL;
}

/* The OCI options of a user mount: checked against option_rules, then
 * podman's defaults for what was not given (rw or ro, rprivate, rbind for
 * binds; nosuid, nodev and tmpcopyup for tmpfs). */
static char **
mount_options_for_spec (const CtrdMount *mount, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gboolean seen[N_OPT_GROUPS] = { FALSE };
  gboolean is_tmpfs = mount->type == CTRD_MOUNT_TMPFS;
  guint n_options = mount->options != NULL ? g_strv_length (mount->options) : 0;

  if (n_options > MAX_MOUNT_OPTIONS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Mount options: %u given, at most %d are allowed", n_options, MAX_MOUNT_OPTIONS);
      return NULL;
    }
  for (guint i = 0; i < n_options; i++)
    {
      const char *option = mount->options[i];
      const char *value = NULL;
      const OptionRule *rule =
          strlen (option) <= MAX_MOUNT_OPTION_LEN ? find_option_rule (option, &value) : NULL;

      if (rule == NULL)
        return reject_path_null (error, "Mount option", option, "is not known");
      if (is_tmpfs ? !rule->tmpfs : !rule->bind)
        return reject_path_null (error, "Mount option", option,
                                 is_tmpfs ? "is not for tmpfs mounts" : "is only for tmpfs mounts");
      if (seen[rule->group])
        return reject_path_null (error, "Mount option", option, "repeats or contradicts another");
      seen[rule->group] = TRUE;
      if ((rule->group == OPT_SIZE && !is_size_value (value)) ||
          (rule->group == OPT_MODE && !is_mode_value (value)))
        return reject_path_null (error, "Mount option", option, "has an invalid value");
      if (g_str_equal (option, "rw") && mount->read_only)
        return reject_path_null (error, "Mount option", option, "contradicts ReadOnly");
      /* runc would pass it to the kernel as data */
      if (!g_str_equal (option, "notmpcopyup"))
        g_strv_builder_add (builder, option);
    }

  if (!seen[OPT_WRITE])
    g_strv_builder_add (builder, mount->read_only ? "ro" : "rw");
  if (!seen[OPT_PROPAGATION])
    g_strv_builder_add (builder, "rprivate");
  if (!is_tmpfs && !seen[OPT_BIND])
    g_strv_builder_add (builder, "rbind");
  if (is_tmpfs)
    {
      if (!seen[OPT_SUID])
        g_strv_builder_add (builder, "nosuid");
      if (!seen[OPT_DEV])
        g_strv_builder_add (builder, "nodev");
      if (!seen[OPT_COPYUP])
        g_strv_builder_add (builder, "tmpcopyup");
    }
  return g_strv_builder_end (builder);
}

gboolean
ctrd_spec_check_mount (CtrdMount *mount, const char *const *protected_dirs, GError **error)
{
  g_autofree char *destination = NULL;
  g_autofree char *source = NULL;
  g_auto (GStrv) options = NULL;
  g_autofree char *quoted = ctrd_quote_untrusted (mount->destination);

  g_return_val_if_fail (mount != NULL, FALSE);

  destination = ctrd_spec_normalize_destination (mount->destination, "Mount destination", error);
  if (destination == NULL)
    return FALSE;
  switch (mount->type)
    {
    case CTRD_MOUNT_BIND:
      source = resolve_bind_source (mount->source, protected_dirs, error);
      break;
    case CTRD_MOUNT_VOLUME:
      if (ctrd_volume_validate_name (mount->source, error))
        source = g_strdup (mount->source);
      break;
    case CTRD_MOUNT_TMPFS:
      if (mount->source == NULL || *mount->source == '\0' || g_str_equal (mount->source, "tmpfs"))
        source = g_strdup ("");
      else
        reject_path (error, "Tmpfs source", mount->source, "must be empty");
      break;
    default:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Unknown mount type %d",
                   mount->type);
    }
  if (source == NULL)
    {
      g_prefix_error (error, "Mount on %s: ", quoted);
      return FALSE;
    }
  options = mount_options_for_spec (mount, error);
  if (options == NULL)
    {
      g_prefix_error (error, "Mount on %s: ", quoted);
      return FALSE;
    }

  g_free (mount->destination);
  mount->destination = g_steal_pointer (&destination);
  g_free (mount->source);
  mount->source = g_steal_pointer (&source);
  return TRUE;
}

gboolean
ctrd_spec_check_mounts (GPtrArray *mounts, const char *const *protected_dirs, GError **error)
{
  g_autoptr (GHashTable) destinations = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      CtrdMount *mount = g_ptr_array_index (mounts, i);

      if (!ctrd_spec_check_mount (mount, protected_dirs, error))
        return FALSE;
      if (!g_hash_table_add (destinations, mount->destination))
        return reject_path (error, "Mount destination", mount->destination,
                            "is given more than once");
    }
  return TRUE;
}

static guint
count_components (const char *path)
{
  guint n = 0;

  for (const char *p = path; *p != '\0'; p++)
    if (*p == '/' && p[1] != '\0' && p[1] != '/')
      n++;
  return n;
}

static gint
compare_mount_depth (gconstpointer a, gconstpointer b)
{
  JsonObject *mount_a = *(JsonObject *const *) a;
  JsonObject *mount_b = *(JsonObject *const *) b;
  guint depth_a = count_components (json_object_get_string_member (mount_a, "destination"));
  guint depth_b = count_components (json_object_get_string_member (mount_b, "destination"));

  return depth_a < depth_b ? -1 : depth_a > depth_b;
}

static gboolean
mounts_have_destination (const CtrdMount *const *mounts, gsize n_mounts, const char *destination)
{
  for (gsize i = 0; i < n_mounts; i++)
    if (mounts[i]->destination != NULL && g_str_equal (mounts[i]->destination, destination))
      return TRUE;
  return FALSE;
}

/* The user's mounts and the generated files, ready for the spec. */
static GPtrArray *
build_extra_mounts (const CtrdSpecParams *params, GError **error)
{
  static const char *const file_opts[] = { "bind", "private", NULL };
  static const char *const readonly_file_opts[] = {
    "bind", "private", "ro", "nosuid", "noexec", "nodev", NULL,
  };
  static const char *const readonly_tmpfs_dirs[] = { "/run", "/tmp", "/var/tmp", NULL };
  static const char *const readonly_tmpfs_opts[] = {
    "rw", "rprivate", "nosuid", "nodev", "tmpcopyup", NULL,
  };
  g_autoptr (GPtrArray) extra = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (gsize i = 0; i < params->n_mounts; i++)
    {
      const CtrdMount *mount = params->mounts[i];
      g_autofree char *destination = NULL;
      g_auto (GStrv) options = NULL;

      if (mount->type == CTRD_MOUNT_VOLUME)
        return reject_path_null (error, "Volume", mount->source,
                                 "was not prepared (ctrd_volumes_prepare_mount)");
      destination =
          ctrd_spec_normalize_destination (mount->destination, "Mount destination", error);
      if (destination == NULL ||
          (mount->type == CTRD_MOUNT_BIND && !check_bind_source_syntax (mount->source, error)))
        return NULL;
      options = mount_options_for_spec (mount, error);
      if (options == NULL)
        return NULL;
      if (mount->type == CTRD_MOUNT_TMPFS)
        g_ptr_array_add (extra,
                         make_mount (destination, "tmpfs", "tmpfs", (const char *const *) options));
      else
        g_ptr_array_add (
            extra, make_mount (destination, "bind", mount->source, (const char *const *) options));
    }

  /* like libpod's generateSpec: a user mount wins over a generated file */
  for (gsize i = 0; i < params->n_file_mounts; i++)
    {
      const CtrdMount *file = params->file_mounts[i];

      if (mounts_have_destination (params->mounts, params->n_mounts, file->destination))
        continue;
      g_ptr_array_add (extra,
                       make_mount (file->destination, "bind", file->source,
                                   params->readonly_rootfs ? readonly_file_opts : file_opts));
    }

  for (gsize i = 0; params->readonly_rootfs && readonly_tmpfs_dirs[i] != NULL; i++)
    if (!mounts_have_destination (params->mounts, params->n_mounts, readonly_tmpfs_dirs[i]))
      g_ptr_array_add (extra,
                       make_mount (readonly_tmpfs_dirs[i], "tmpfs", "tmpfs", readonly_tmpfs_opts));

  /* stable: parents before what is mounted inside them, given order kept otherwise */
  g_ptr_array_sort (extra, compare_mount_depth);
  return g_steal_pointer (&extra);
}

static JsonArray *
build_mounts (const CtrdSpecParams *params, GError **error)
{
  static const char *const proc_opts[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const dev_opts[] = {
    "nosuid", "noexec", "strictatime", "mode=755", "size=65536k", NULL,
  };
  static const char *const pts_opts[] = {
    "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL,
  };
  static const char *const mqueue_opts[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const sys_opts[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cgroup_opts[] = {
    "rprivate", "nosuid", "noexec", "nodev", "relatime", "ro", NULL,
  };
  guint64 shm_size = params->shm_size > 0 ? params->shm_size : 64 * 1024 * 1024;
  g_autofree char *shm_size_opt = NULL;
  const char *shm_opts[] = { "nosuid", "noexec", "nodev", "mode=1777", NULL, NULL };
  g_autoptr (GPtrArray) extra = NULL;
  JsonObject *defaults[7];
  JsonArray *mounts;

  extra = build_extra_mounts (params, error);
  if (extra == NULL)
    return NULL;

  /* podman writes the size in bytes; whole KiB keep the familiar "65536k" */
  if (shm_size % 1024 == 0)
    shm_size_opt = g_strdup_printf ("size=%" G_GUINT64_FORMAT "k", shm_size / 1024);
  else
    shm_size_opt = g_strdup_printf ("size=%" G_GUINT64_FORMAT, shm_size);
  shm_opts[4] = shm_size_opt;

  defaults[0] = make_mount ("/proc", "proc", "proc", proc_opts);
  defaults[1] = make_mount ("/dev", "tmpfs", "tmpfs", dev_opts);
  defaults[2] = make_mount ("/dev/pts", "devpts", "devpts", pts_opts);
  defaults[3] = make_mount ("/dev/shm", "tmpfs", "shm", shm_opts);
  defaults[4] = make_mount ("/dev/mqueue", "mqueue", "mqueue", mqueue_opts);
  defaults[5] = make_mount ("/sys", "sysfs", "sysfs", sys_opts);
  defaults[6] = make_mount ("/sys/fs/cgroup", "cgroup", "cgroup", cgroup_opts);

  mounts = json_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    {
      const char *destination = json_object_get_string_member (defaults[i], "destination");

      /* a user mount replaces a default one (e.g. its own /dev/shm) */
      if (mounts_have_destination (params->mounts, params->n_mounts, destination))
        json_object_unref (defaults[i]);
      else
        json_array_add_object_element (mounts, defaults[i]);
    }
  for (guint i = 0; i < extra->len; i++)
    json_array_add_object_element (mounts, json_object_ref (g_ptr_array_index (extra, i)));
  return mounts;
}

static JsonObject *
build_linux (const CtrdSpecParams *params)
{
  JsonObject *linux_obj = json_object_new ();
  JsonObject *resources = json_object_new ();
  JsonArray *devices = json_array_new ();
  JsonObject *deny_all = json_object_new ();
  JsonArray *ns_array = json_array_new ();

  /* runc adds its own allow-list (null, zero, full, tty, random, urandom,
   * ptmx) after this rule, as for podman. */
  json_object_set_boolean_member (deny_all, "allow", FALSE);
  json_object_set_string_member (deny_all, "access", "rwm");
  json_array_add_object_element (devices, deny_all);
  json_object_set_array_member (resources, "devices", devices);
  json_object_set_object_member (linux_obj, "resources", resources);

  if (params->cgroups_path != NULL)
    json_object_set_string_member (linux_obj, "cgroupsPath", params->cgroups_path);

  /* The network namespace: a new one with only lo, the one netavark set up
   * ({"type": "network", "path": NETNS} as libpod's generateSpec), or none
   * at all for the host's. */
  for (gsize i = 0; namespaces[i] != NULL; i++)
    {
      gboolean network = g_str_equal (namespaces[i], "network");
      JsonObject *ns;

      if (network && params->host_network)
        continue;
      ns = json_object_new ();
      json_object_set_string_member (ns, "type", namespaces[i]);
      if (network && params->netns_path != NULL)
        json_object_set_string_member (ns, "path", params->netns_path);
      json_array_add_object_element (ns_array, ns);
    }
  json_object_set_array_member (linux_obj, "namespaces", ns_array);

  /* No seccomp profile yet: a later issue adds podman's default profile.
   * Until then the container relies on capabilities, namespaces and the
   * masked paths alone. */
  json_object_set_array_member (linux_obj, "maskedPaths", strv_to_json_array (masked_paths));
  json_object_set_array_member (linux_obj, "readonlyPaths", strv_to_json_array (readonly_paths));
  return linux_obj;
}

JsonNode *
ctrd_spec_generate (const CtrdSpecParams *params, GError **error)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *spec;
  JsonObject *root;
  JsonArray *mounts;
  g_autofree char *hostname = NULL;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!validate_params (params, error))
    return NULL;
  mounts = build_mounts (params, error);
  if (mounts == NULL)
    {
      g_prefix_error (error, "Container %s: ", params->id != NULL ? params->id : "(no id)");
      return NULL;
    }

  /* like podman: without a host name the container is named by its short id. */
  if (params->hostname != NULL)
    hostname = g_strdup (params->hostname);
  else if (params->id != NULL)
    hostname = g_strndup (params->id, SHORT_ID_LEN);
  if (hostname != NULL && !is_valid_hostname (hostname))
    g_clear_pointer (&hostname, g_free);

  spec = json_object_new ();
  json_object_set_string_member (spec, "ociVersion", OCI_VERSION);
  json_object_set_object_member (spec, "process", build_process (params));
  if (params->process_label != NULL)
    json_object_set_string_member (json_object_get_object_member (spec, "process"),
                                   "selinuxLabel", params->process_label);

  root = json_object_new ();
  json_object_set_string_member (root, "path", params->rootfs);
  json_object_set_boolean_member (root, "readonly", params->readonly_rootfs);
  json_object_set_object_member (spec, "root", root);

  if (hostname != NULL)
    json_object_set_string_member (spec, "hostname", hostname);
  json_object_set_array_member (spec, "mounts", mounts);
  if (params->hooks != NULL)
    {
      JsonNode *hooks = ctrd_hook_set_to_spec_json (params->hooks);

      if (hooks != NULL)
        json_object_set_member (spec, "hooks", hooks);
    }

  if (params->id != NULL)
    {
      JsonObject *annotations = json_object_new ();

      json_object_set_string_member (annotations, "org.example.containers1.id", params->id);
      json_object_set_object_member (spec, "annotations", annotations);
    }
  json_object_set_object_member (spec, "linux", build_linux (params));
  if (params->mount_label != NULL)
    json_object_set_string_member (json_object_get_object_member (spec, "linux"), "mountLabel",
                                   params->mount_label);

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, spec);
  return g_steal_pointer (&node);
}

gboolean
ctrd_spec_write (const CtrdSpecParams *params, const char *path, GError **error)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  node = ctrd_spec_generate (params, error);
  if (node == NULL)
    return FALSE;

  text = json_to_string (node, TRUE);
  /* The spec names host paths of the container's storage: readable by root only. */
  return ctrd_files_write_atomically (path, text, strlen (text), 0600, error);
}
