/* ctrd-bundle.c: the seed's init step before the runtime: generated files,
 * volumes, hooks and the OCI spec of one container. */
#include "config.h"

#include <string.h>

#include "ctrd-bundle.h"
#include "ctrd-cgroup.h"
#include "ctrd-error.h"
#include "ctrd-files.h"
#include "ctrd-hooks.h"
#include "ctrd-seccomp.h"
#include "ctrd-selinux.h"
#include "ctrd-spec.h"

/* libpod's makeBindMounts: resolv.conf, hosts, hostname, .containerenv (and
 * passwd/group lines for a user the image does not know). */
static GPtrArray *
write_generated_files (const CtrdBundleRequest *request, const CtrdResolvedUser *user,
                       GError **error)
{
  const CtrdContainerConfig *config = request->config;
  CtrdFilesParams files = { 0 };

  files.id = config->id;
  files.name = config->name;
  files.hostname = config->hostname;
  files.image_name = config->image_name;
  files.image_id = config->image_id;
  files.image_root = request->rootfs;
  files.user = user;
  files.working_dir = config->working_dir;
  files.dns_servers = (const char *const *) config->dns_servers;
  files.dns_search = (const char *const *) config->dns_search;
  files.dns_options = (const char *const *) config->dns_options;
  files.add_hosts = (const char *const *) config->add_hosts;
  files.host_resolv_conf = request->host_resolv_conf;
  files.host_hosts = request->host_hosts;
  files.host_network = request->host_network;
  if (request->network_status != NULL)
    {
      const CtrdNetworkStatus *status = request->network_status;

      files.container_ip = status->address;
      files.network_gateway = status->gateway;
      if (request->dns_enabled)
        {
          files.network_dns_servers = (const char *const *) status->dns_servers;
          files.network_dns_search = (const char *const *) status->dns_search;
        }
    }
  return ctrd_files_generate (request->run_dir, &files, error);
}

/* libpod's addLocalVolumes: every Mounts entry as the spec takes it, the
 * volumes made (and filled from the image) on first use. */
static GPtrArray *
prepare_mounts (const CtrdBundleRequest *request, const CtrdResolvedUser *user,
                GCancellable *cancellable, GError **error)
{
  const CtrdContainerConfig *config = request->config;
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);

  for (guint i = 0; i < config->mounts->len; i++)
    {
      CtrdMount *prepared =
          ctrd_volumes_prepare_mount (request->volumes, config->mounts->pdata[i], request->rootfs,
                                      user->uid, user->gid, cancellable, error);
      if (prepared == NULL)
        return NULL;
      g_ptr_array_add (mounts, prepared);
    }
  return g_steal_pointer (&mounts);
}

static gboolean
has_bind_mounts (const CtrdContainerConfig *config)
{
  for (guint i = 0; i < config->mounts->len; i++)
    if (((CtrdMount *) config->mounts->pdata[i])->type != CTRD_MOUNT_TMPFS)
      return TRUE;
  return FALSE;
}

/* The hooks whose "when" matches, kept in the run dir so the poststop ones
 * still run if the daemon restarts meanwhile (the seed's setupOCIHooks). */
static CtrdHookSet *
match_hooks (const CtrdBundleRequest *request, const char *const *argv, GError **error)
{
  g_autoptr (CtrdHooks) hooks = ctrd_hooks_load (request->hooks_dirs);
  CtrdHookContext context = { 0 };
  g_autoptr (CtrdHookSet) set = NULL;
  g_autofree char *json = NULL;
  g_autofree char *path = g_build_filename (request->run_dir, CTRD_BUNDLE_HOOKS_FILE, NULL);

  context.annotations = request->config->labels;
  context.argv = argv;
  context.has_bind_mounts = has_bind_mounts (request->config);
  set = ctrd_hooks_match (hooks, &context);
  json = ctrd_hook_set_to_json (set);
  if (!ctrd_files_write_atomically (path, json, strlen (json), 0600, error))
    return NULL;
  return g_steal_pointer (&set);
}

/* The container's linux.seccomp for its capabilities @caps, or NULL in
 * @out: none with SeccompProfile=unconfined, or with Privileged unless a
 * profile file was named (like podman's --privileged). The default profile
 * is podman's with ctrd_seccomp_harden's additions; a named one is used as
 * it is. */
static gboolean
load_seccomp (const CtrdBundleRequest *request, const char *const *caps, JsonNode **out,
              GError **error)
{
  const CtrdContainerConfig *config = request->config;
  const char *profile = config->seccomp_profile;
  CtrdSeccompTarget target = { .caps = caps };

  *out = NULL;
  if (g_str_equal (profile, CTRD_SECCOMP_PROFILE_UNCONFINED) ||
      (config->privileged && g_str_equal (profile, CTRD_SECCOMP_PROFILE_DEFAULT)))
    return TRUE;
  if (g_str_equal (profile, CTRD_SECCOMP_PROFILE_DEFAULT))
    {
      *out = ctrd_seccomp_load (request->seccomp_default_profile != NULL
                                    ? request->seccomp_default_profile
                                    : CTRD_SECCOMP_DEFAULT_PROFILE,
                                &target, error);
      if (*out != NULL)
        ctrd_seccomp_harden (*out, &target);
    }
  else
    *out = ctrd_seccomp_load (profile, &target, error);
  if (*out == NULL)
    {
      g_prefix_error (error, "Container %s: ", config->name);
      return FALSE;
    }
  return TRUE;
}

/* libpod's generateSpec, with label.InitLabels' labels (none where SELinux
 * is off). */
static gboolean
write_spec (const CtrdBundleRequest *request, const char *const *argv, const CtrdResolvedUser *user,
            GPtrArray *mounts, GPtrArray *file_mounts, const CtrdHookSet *hooks, GError **error)
{
  const CtrdContainerConfig *config = request->config;
  g_autofree char *spec_path = g_build_filename (request->bundle_dir, "config.json", NULL);
  g_autofree char *cgroups_path = ctrd_cgroup_path_for_container (config->id);
  g_autofree char *process_label = NULL;
  g_autofree char *mount_label = NULL;
  g_auto (GStrv) caps = ctrd_spec_capabilities ((const char *const *) config->cap_add,
                                                (const char *const *) config->cap_drop,
                                                config->privileged);
  g_autoptr (JsonNode) seccomp = NULL;
  CtrdSpecParams params = { 0 };

  if (!ctrd_selinux_container_labels (&process_label, &mount_label, error) ||
      !load_seccomp (request, (const char *const *) caps, &seccomp, error))
    return FALSE;
  params.id = config->id;
  params.hostname = config->hostname;
  params.rootfs = request->rootfs;
  params.argv = argv;
  params.env = (const char *const *) config->env;
  params.cwd = config->working_dir;
  params.uid = user->uid;
  params.gid = user->gid;
  params.additional_gids = (const guint32 *) user->additional_gids->data;
  params.n_additional_gids = user->additional_gids->len;
  params.tty = config->tty;
  params.readonly_rootfs = config->read_only_rootfs;
  params.cgroups_path = cgroups_path;
  params.shm_size = config->shm_size;
  params.mounts = (const CtrdMount *const *) mounts->pdata;
  params.n_mounts = mounts->len;
  params.file_mounts = (const CtrdMount *const *) file_mounts->pdata;
  params.n_file_mounts = file_mounts->len;
  params.hooks = hooks;
  params.process_label = process_label;
  params.mount_label = mount_label;
  params.netns_path = request->netns_path;
  params.host_network = request->host_network;
  params.cap_add = (const char *const *) config->cap_add;
  params.cap_drop = (const char *const *) config->cap_drop;
  params.privileged = config->privileged;
  params.no_new_privileges = config->no_new_privileges;
  params.seccomp = seccomp;
  params.memory_limit = config->limits.memory_limit;
  params.cpu_quota = config->limits.cpu_quota;
  params.pids_limit = config->limits.pids_limit;
  if (config->init)
    {
      if (!g_file_test (CTRD_INIT_BINARY, G_FILE_TEST_IS_EXECUTABLE))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                       "Container %s: Init needs %s (Debian package catatonit), which is "
                       "not installed", config->name, CTRD_INIT_BINARY);
          return FALSE;
        }
      params.init_path = CTRD_INIT_BINARY;
    }
  return ctrd_spec_write (&params, spec_path, error);
}

gboolean
ctrd_bundle_prepare (const CtrdBundleRequest *request, GCancellable *cancellable, GError **error)
{
  const CtrdContainerConfig *config = request->config;
  g_autoptr (CtrdResolvedUser) user = NULL;
  g_autoptr (GPtrArray) file_mounts = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autoptr (CtrdHookSet) hooks = NULL;
  g_auto (GStrv) argv = ctrd_container_config_get_argv (config);

  user = ctrd_files_resolve_user (request->rootfs, config->user, error);
  if (user == NULL || !ctrd_files_ensure_directory (request->rootfs, config->working_dir, user->uid,
                                                    user->gid, error))
    return FALSE;
  file_mounts = write_generated_files (request, user, error);
  if (file_mounts == NULL)
    return FALSE;
  mounts = prepare_mounts (request, user, cancellable, error);
  if (mounts == NULL)
    return FALSE;
  hooks = match_hooks (request, (const char *const *) argv, error);
  if (hooks == NULL)
    return FALSE;
  return write_spec (request, (const char *const *) argv, user, mounts, file_mounts, hooks, error);
}
