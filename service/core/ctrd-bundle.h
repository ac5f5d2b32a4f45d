/* ctrd-bundle.h: the seed's init step, before the runtime: with the
 * container's root mounted, make everything its OCI bundle needs (the user
 * and working directory, the generated files, the volumes, the hooks) and
 * write config.json. No D-Bus types. */
#pragma once

#include <gio/gio.h>

#include "ctrd-container-config.h"
#include "ctrd-network.h"
#include "ctrd-volumes.h"

G_BEGIN_DECLS

/* The file in the run dir that keeps the container's matched hooks (all
 * stages), so its poststop hooks still run after a daemon restart; read it
 * back with ctrd_hook_set_from_json. */
#define CTRD_BUNDLE_HOOKS_FILE "hooks.json"
/* The init of a container created with Init (Debian's catatonit, what
 * podman --init runs). */
#define CTRD_INIT_BINARY "/usr/bin/catatonit"

typedef struct
{
  const CtrdContainerConfig *config; /* the container, read only */
  CtrdVolumes *volumes;              /* where its named and anonymous volumes live */
  const char *rootfs;                /* its root file system, mounted */
  const char *run_dir;               /* generated files and CTRD_BUNDLE_HOOKS_FILE go here */
  const char *bundle_dir;            /* config.json goes here */
  const char *const *hooks_dirs;     /* OCI hook directories (NULL = the defaults) */
  const char *host_resolv_conf;      /* NULL = /etc/resolv.conf */
  const char *host_hosts;            /* NULL = /etc/hosts */
  /* Its network: what netavark set up for a bridge network (NULL otherwise),
   * whether that network has DNS, the namespace to join (NULL = a new one
   * with only lo), or the host's namespace. */
  const CtrdNetworkStatus *network_status;
  gboolean dns_enabled;
  const char *netns_path;
  gboolean host_network;
  /* The profile SeccompProfile=default means; NULL =
   * CTRD_SECCOMP_DEFAULT_PROFILE (podman's). */
  const char *seccomp_default_profile;
} CtrdBundleRequest;

/* Blocks (files, volume copies). Everything libpod's init does before the
 * runtime, in its order:
 *  - resolves the config's user in the root's /etc/passwd and /etc/group and
 *    makes sure its working directory exists (owned by that user);
 *  - writes the generated files (resolv.conf, hosts, hostname,
 *    .containerenv; libpod's makeBindMounts) into @request->run_dir;
 *  - makes the volumes its mounts name, filled from the image on first use
 *    (libpod's addLocalVolumes);
 *  - matches the OCI hooks of @request->hooks_dirs against the container
 *    (libpod's setupOCIHooks) and keeps them in
 *    run_dir/CTRD_BUNDLE_HOOKS_FILE;
 *  - writes bundle_dir/config.json (libpod's generateSpec), with SELinux
 *    labels where SELinux is on, and the container's seccomp profile
 *    translated for its capabilities (ctrd_seccomp_load: a profile that
 *    cannot be read or is not root's is INVALID_ARGUMENT or NOT_FOUND).
 * Safe to run again on every start: each file is replaced atomically. On
 * error (INVALID_ARGUMENT for a user or working directory the image does not
 * allow, STORAGE_ERROR for a file that cannot be written, CANCELLED), files
 * already written are left for the next try to replace. */
gboolean ctrd_bundle_prepare (const CtrdBundleRequest *request, GCancellable *cancellable,
                              GError **error);

G_END_DECLS
