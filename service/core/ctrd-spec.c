/* ctrd-spec.c: builds the OCI runtime config.json of a container (json-glib).
 *
 * The shape is what `runc spec` prints, with podman's defaults where the two
 * differ (capabilities, masked and read-only paths, mount options), as podman
 * 4 writes them for a rootful container with --network none. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ctrd-cgroup.h"
#include "ctrd-error.h"
#include "ctrd-files.h"
#include "ctrd-mounts.h"
#include "ctrd-spec.h"
#include "ctrd-util.h"

#define OCI_VERSION "1.0.2"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_TERM "xterm"
#define SHORT_ID_LEN 12

/* podman's defaults when the daemon may raise limits; used only as a ceiling
 * when our own limit is unlimited, since the spec needs a number. */
#define NOFILE_CEILING 1048576
#define NPROC_CEILING 4194304

/* containers.conf's default_capabilities, as podman 4 has them */
static const char *const default_capabilities[] = {
  "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
  "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
  "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT", NULL,
};

/* Every capability by its number (capability.h); the running kernel may
 * know fewer (/proc/sys/kernel/cap_last_cap). */
static const char *const all_capabilities[] = {
  "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
  "CAP_FSETID",          "CAP_KILL",          "CAP_SETGID",          "CAP_SETUID",
  "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",       "CAP_NET_RAW",       "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",     "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
  "CAP_LEASE",           "CAP_AUDIT_WRITE",   "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",     "CAP_SYSLOG",          "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE", NULL,
};

static const char *const masked_paths[] = {
  "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block",    NULL,
};

/* With Privileged, host devices under /dev become the container's, except
 * these (podman's util.GetDevices skips them too). */
static const char *const skipped_device_dirs[] = {
  "pts", "shm", "fd", "mqueue", "hugepages", ".lxc", ".lxd-mounts", ".udev", NULL,
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
  if (params->hostname != NULL && !ctrd_hostname_is_valid (params->hostname))
    return reject_param (error, id, "the host name", params->hostname, "is not valid");
  if (params->cgroups_path != NULL && !g_path_is_absolute (params->cgroups_path))
    return reject_param (error, id, "the cgroups path", params->cgroups_path, "is not absolute");
  if (params->netns_path != NULL && !g_path_is_absolute (params->netns_path))
    return reject_param (error, id, "the network namespace", params->netns_path,
                         "is not absolute");
  for (gsize i = 0; params->env != NULL && params->env[i] != NULL; i++)
    if (!ctrd_env_entry_is_valid (params->env[i]))
      return reject_param (error, id, "the environment entry", params->env[i], "is not KEY=VALUE");
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

/* How many capabilities the running kernel knows. */
static guint
known_capability_count (void)
{
  g_autofree char *text = NULL;
  guint64 last;

  if (!g_file_get_contents ("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) ||
      !g_ascii_string_to_unsigned (g_strstrip (text), 10, 0, G_MAXUINT, &last, NULL))
    return G_N_ELEMENTS (all_capabilities) - 1;
  return MIN ((guint) last + 1, G_N_ELEMENTS (all_capabilities) - 1);
}

gboolean
ctrd_spec_normalize_capability (const char *name, char **out_name, GError **error)
{
  g_autofree char *upper = g_ascii_strup (name, -1);
  g_autofree char *full = NULL;

  if (g_str_equal (upper, "ALL"))
    {
      *out_name = g_steal_pointer (&upper);
      return TRUE;
    }
  full = g_str_has_prefix (upper, "CAP_") ? g_steal_pointer (&upper) : g_strconcat ("CAP_", upper, NULL);
  if (!g_strv_contains (all_capabilities, full))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (name);

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s is not a capability",
                   quoted);
      return FALSE;
    }
  *out_name = g_steal_pointer (&full);
  return TRUE;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
ctrd_spec_capabilities (const char *const *cap_add, const char *const *cap_drop,
                        gboolean privileged)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  guint known = known_capability_count ();
  gboolean add_all = privileged || (cap_add != NULL && g_strv_contains (cap_add, "ALL"));
  gboolean drop_all = cap_drop != NULL && g_strv_contains (cap_drop, "ALL");
  char **set;

  /* like podman's capabilities.MergeCapabilities: dropping ALL keeps only
   * what is added; adding ALL gives every capability the kernel has, less
   * what is dropped. Kept in the kernel's order. */
  for (guint i = 0; i < known; i++)
    {
      const char *cap = all_capabilities[i];
      gboolean added = add_all || (cap_add != NULL && g_strv_contains (cap_add, cap));
      gboolean dropped = cap_drop != NULL && g_strv_contains (cap_drop, cap);
      gboolean keep;

      /* like podman: "all" is what the daemon's own bounding set holds,
       * since runc cannot give more */
      if ((privileged || add_all) && prctl (PR_CAPBSET_READ, (unsigned long) i) != 1)
        keep = FALSE;
      else if (privileged)
        keep = TRUE;
      else if (drop_all)
        keep = added;
      else
        keep = (added || g_strv_contains (default_capabilities, cap)) && !dropped;
      if (keep)
        g_strv_builder_add (builder, cap);
    }
  set = g_strv_builder_end (builder);
  qsort (set, g_strv_length (set), sizeof (char *), compare_strings);
  return set;
}

static JsonObject *
build_capabilities (const CtrdSpecParams *params)
{
  JsonObject *caps = json_object_new ();
  g_auto (GStrv) set = ctrd_spec_capabilities (params->cap_add, params->cap_drop,
                                               params->privileged);

  json_object_set_array_member (caps, "bounding", strv_to_json_array ((const char *const *) set));
  /* like podman's security config: a non-root user gets the capabilities only
   * in its bounding set, so it cannot use them unless it execs a file that
   * carries them. */
  if (params->uid == 0)
    {
      json_object_set_array_member (caps, "effective", strv_to_json_array ((const char *const *) set));
      json_object_set_array_member (caps, "permitted", strv_to_json_array ((const char *const *) set));
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
  if (params->init_path != NULL)
    {
      g_autoptr (GStrvBuilder) args = g_strv_builder_new ();
      g_auto (GStrv) argv = NULL;

      g_strv_builder_add_many (args, CTRD_SPEC_INIT_PATH, "--", NULL);
      g_strv_builder_addv (args, (const char **) params->argv);
      argv = g_strv_builder_end (args);
      json_object_set_array_member (process, "args", strv_to_json_array ((const char *const *) argv));
    }
  else
    json_object_set_array_member (process, "args", strv_to_json_array (params->argv));
  json_object_set_array_member (process, "env", build_env (params));
  json_object_set_string_member (process, "cwd", params->cwd != NULL ? params->cwd : "/");
  json_object_set_object_member (process, "capabilities", build_capabilities (params));
  json_array_add_object_element (rlimits,
                                 build_rlimit ("RLIMIT_NOFILE", RLIMIT_NOFILE, NOFILE_CEILING));
  json_array_add_object_element (rlimits,
                                 build_rlimit ("RLIMIT_NPROC", RLIMIT_NPROC, NPROC_CEILING));
  json_object_set_array_member (process, "rlimits", rlimits);
  json_object_set_boolean_member (process, "noNewPrivileges", params->no_new_privileges);
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
        {
          g_autofree char *quoted = ctrd_quote_untrusted (mount->source);

          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Volume %s was not prepared (ctrd_volumes_prepare_mount)", quoted);
          return NULL;
        }
      if (!ctrd_mount_for_spec (mount, &destination, &options, error))
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

  if (params->init_path != NULL)
    {
      static const char *const init_opts[] = { "bind", "private", "ro", "nosuid", "nodev", NULL };

      g_ptr_array_add (extra, make_mount (CTRD_SPEC_INIT_PATH, "bind", params->init_path, init_opts));
    }

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
  static const char *const privileged_sys_opts[] = { "nosuid", "noexec", "nodev", "rw", NULL };
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
  defaults[5] = make_mount ("/sys", "sysfs", "sysfs",
                            params->privileged ? privileged_sys_opts : sys_opts);
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

/* Devices runc makes itself in every container (and /dev/console, its terminal). */
static const char *const runc_devices[] = {
  "null", "zero", "full", "random", "urandom", "tty", "ptmx", "console", NULL,
};

/* With Privileged: the host's character and block devices under @dir
 * (podman's util.GetDevices), as linux.devices entries runc creates. */
static void
add_host_devices (JsonArray *devices, const char *dir, guint depth)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  if (listing == NULL || depth > 4)
    return;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      JsonObject *device;
      struct stat st;

      if (lstat (path, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          if (!(depth == 0 && g_strv_contains (skipped_device_dirs, name)))
            add_host_devices (devices, path, depth + 1);
          continue;
        }
      if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
        continue;
      if (depth == 0 && g_strv_contains (runc_devices, name))
        continue;
      device = json_object_new ();
      json_object_set_string_member (device, "path", path);
      json_object_set_string_member (device, "type", S_ISCHR (st.st_mode) ? "c" : "b");
      json_object_set_int_member (device, "major", major (st.st_rdev));
      json_object_set_int_member (device, "minor", minor (st.st_rdev));
      json_object_set_int_member (device, "fileMode", st.st_mode & 07777);
      json_object_set_int_member (device, "uid", st.st_uid);
      json_object_set_int_member (device, "gid", st.st_gid);
      json_array_add_object_element (devices, device);
    }
}

/* runc sets these in the container's own cgroup, v1 or v2 alike. */
static void
add_resource_limits (JsonObject *resources, const CtrdSpecParams *params)
{
  if (params->memory_limit > 0)
    {
      JsonObject *memory = json_object_new ();

      json_object_set_int_member (memory, "limit", (gint64) params->memory_limit);
      json_object_set_int_member (memory, "swap", (gint64) params->memory_limit);
      json_object_set_object_member (resources, "memory", memory);
    }
  if (params->cpu_quota > 0)
    {
      JsonObject *cpu = json_object_new ();

      json_object_set_int_member (cpu, "quota", ctrd_limits_cpu_quota_usec (params->cpu_quota));
      json_object_set_int_member (cpu, "period", CTRD_CPU_PERIOD_USEC);
      json_object_set_object_member (resources, "cpu", cpu);
    }
  if (params->pids_limit > 0)
    {
      JsonObject *pids = json_object_new ();

      json_object_set_int_member (pids, "limit", params->pids_limit);
      json_object_set_object_member (resources, "pids", pids);
    }
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
  json_object_set_boolean_member (deny_all, "allow", params->privileged);
  json_object_set_string_member (deny_all, "access", "rwm");
  json_array_add_object_element (devices, deny_all);
  json_object_set_array_member (resources, "devices", devices);
  add_resource_limits (resources, params);
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

  if (params->seccomp != NULL)
    json_object_set_member (linux_obj, "seccomp", json_node_copy (params->seccomp));
  /* like podman's --privileged: the host's devices, nothing masked */
  if (params->privileged)
    {
      JsonArray *host_devices = json_array_new ();

      add_host_devices (host_devices, "/dev", 0);
      json_object_set_array_member (linux_obj, "devices", host_devices);
      return linux_obj;
    }
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
  if (hostname != NULL && !ctrd_hostname_is_valid (hostname))
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
  /* The spec names host paths of the container's storage: readable by root
   * only. Written again at every start, so no flush. */
  return ctrd_files_write_replace (path, text, strlen (text), 0600, error);
}
