/* ctrd-spec.h: builds the OCI runtime config.json of a container (json-glib).
 * No D-Bus types. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

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
} CtrdSpecParams;

/* The OCI spec (ociVersion 1.0.2) for @params: namespaces pid, mount, ipc, uts,
 * network (no interfaces but lo), cgroup; the default mounts (/proc, /dev,
 * /dev/pts, /dev/shm 64 MiB, /dev/mqueue, /sys read-only, cgroup);
 * podman's default capabilities (bounding/effective/permitted, inheritable
 * empty); noNewPrivileges false; masked and read-only paths like podman's;
 * RLIMIT_NOFILE and RLIMIT_NPROC set no higher than the daemon's own hard
 * limits (raising them is refused on some hosts). */
JsonNode *ctrd_spec_generate (const CtrdSpecParams *params, GError **error);

/* Writes the spec to @path atomically (0600). */
gboolean ctrd_spec_write (const CtrdSpecParams *params, const char *path, GError **error);

G_END_DECLS
