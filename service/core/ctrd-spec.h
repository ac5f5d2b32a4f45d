/* ctrd-spec.h: builds the OCI runtime config.json of a container (json-glib).
 * No D-Bus types. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ctrd-hooks.h"
#include "ctrd-mounts.h"

G_BEGIN_DECLS

typedef struct
{
  const char *id;
  const char *hostname;        /* NULL = the first 12 characters of @id, as podman */
  const char *rootfs;          /* absolute path of the mounted root */
  const char *const *argv;     /* non-empty */
  const char *const *env;      /* KEY=VALUE; PATH and TERM are added when missing */
  const char *cwd;             /* absolute; NULL = "/" */
  guint32 uid;
  guint32 gid;
  gboolean tty;
  gboolean readonly_rootfs;
  const char *cgroups_path;    /* e.g. "/containersd/<id>"; NULL = none */

  /* Everything below may stay zero: then the spec is what it was before them. */
  const guint32 *additional_gids; /* process.user.additionalGids */
  gsize n_additional_gids;
  guint64 shm_size; /* bytes of the /dev/shm tmpfs; 0 = 64 MiB */
  /* The container's Mounts: bind and tmpfs (a volume must first be turned
   * into a bind of its directory by ctrd_volumes_prepare_mount). They replace
   * a default mount (e.g. /dev/shm) or a generated file at the same place. */
  const CtrdMount *const *mounts;
  gsize n_mounts;
  /* The generated files (ctrd_files_generate): bound "bind,private" like
   * libpod's generateSpec, and also "ro,nosuid,noexec,nodev" with
   * @readonly_rootfs. */
  const CtrdMount *const *file_mounts;
  gsize n_file_mounts;
  /* OCI hooks for config.json (ctrd_hooks_match); its poststop hooks are
   * left out: containersd runs those itself after the runtime delete. */
  const CtrdHookSet *hooks;
  /* SELinux labels (ctrd_selinux_container_labels); NULL = none. */
  const char *process_label;
  const char *mount_label;
  /* The network namespace to join (a bridge network's, bound by the network
   * module); NULL = a new one with only lo. With @host_network, none: the
   * container shares the host's. */
  const char *netns_path;
  gboolean host_network;
  /* The sandbox: capabilities over podman's default set
   * (ctrd_spec_capabilities), process.noNewPrivileges, and linux.seccomp
   * (ctrd_seccomp_translate's output, copied; NULL = none). @privileged
   * gives every capability, the host's devices, a writable /sys and no
   * masked or read-only paths. */
  const char *const *cap_add; /* normalized names (ctrd_spec_normalize_capability) or "ALL" */
  const char *const *cap_drop;
  gboolean privileged;
  gboolean no_new_privileges;
  JsonNode *seccomp;
  /* Resources (linux.resources): memory with swap equal to it (so no
   * swap beyond the limit), the CFS quota per CTRD_CPU_PERIOD_USEC, pids;
   * each 0 = none. */
  guint64 memory_limit;
  double cpu_quota;
  gint64 pids_limit;
  /* A host path of an init (catatonit), bound read-only at
   * CTRD_SPEC_INIT_PATH and run as PID 1 with the argv after "--"; NULL =
   * the argv is PID 1. */
  const char *init_path;
} CtrdSpecParams;

/* Where the init is bound inside the container (podman: /run/podman-init). */
#define CTRD_SPEC_INIT_PATH "/run/containersd-init"

/* @name ("sys_admin", "CAP_SYS_ADMIN", "all") as the spec has it
 * ("CAP_SYS_ADMIN", "ALL") in @out_name (free it); INVALID_ARGUMENT for a
 * name that is no capability. */
gboolean ctrd_spec_normalize_capability (const char *name, char **out_name, GError **error);

/* The container's capability set, sorted by name, limited to the
 * capabilities the running kernel knows: with @privileged all of those in
 * the daemon's own bounding set (what runc can give);
 * else podman's default set plus @cap_add less @cap_drop, where "ALL" in
 * @cap_drop keeps only @cap_add and "ALL" in @cap_add adds every one (like
 * podman's MergeCapabilities). Free with g_strfreev. */
char **ctrd_spec_capabilities (const char *const *cap_add, const char *const *cap_drop,
                               gboolean privileged);

/* The OCI spec (ociVersion 1.0.2) for @params: namespaces pid, mount, ipc, uts,
 * network (no interfaces but lo), cgroup; the default mounts (/proc, /dev,
 * /dev/pts, /dev/shm of @shm_size, /dev/mqueue, /sys read-only, cgroup), then
 * the generated files, the container's mounts and, with @readonly_rootfs,
 * tmpfs on /run, /tmp and /var/tmp (podman's --read-only-tmpfs), ordered so
 * that a parent directory is mounted before what is mounted inside it;
 * the capabilities of ctrd_spec_capabilities (bounding, and for uid 0
 * effective/permitted; inheritable empty); @no_new_privileges; @seccomp;
 * masked and read-only paths like podman's (none with @privileged);
 * RLIMIT_NOFILE and RLIMIT_NPROC set no higher than the daemon's own hard
 * limits (raising them is refused on some hosts). */
JsonNode *ctrd_spec_generate (const CtrdSpecParams *params, GError **error);

/* Writes the spec to @path through a rename (0600), without a flush: it is
 * written again before every start (ctrd_files_write_replace). */
gboolean ctrd_spec_write (const CtrdSpecParams *params, const char *path, GError **error);

G_END_DECLS
