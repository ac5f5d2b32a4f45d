/* ctrd-config.h: the daemon's configuration (GKeyFile), with built-in defaults.
 * No D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CTRD_DEFAULT_CONFIG_FILE SYSCONFDIR "/containersd/containersd.conf"

typedef struct
{
  char *storage_root;        /* [storage] root, default /var/lib/containersd */
  char *run_root;            /* [storage] run_root, default /run/containersd */
  char *runtime;             /* [runtime] path, NULL = first of runc/crun that works */
  char *conmon;              /* [runtime] conmon, NULL = search PATH */
  guint64 runtime_timeout;   /* [runtime] timeout, default 60: seconds a runtime verb
                              * (start, kill, delete, pause, state) may take */
  guint64 import_max_bytes;  /* [limits] import_max_bytes, default 16 GiB */
  guint64 import_max_entries; /* [limits] import_max_entries, default 1,000,000 */
  gboolean debug;            /* [daemon] debug */
  char **hooks_dirs;         /* [hooks] dirs, NULL = /usr/share/containers/oci/hooks.d,
                              * /etc/containers/oci/hooks.d */
  char *network_subnet_pool; /* [network] subnet_pool, default 10.89.0.0/16: the
                              * /24s new networks get unless given a Subnet */
  char *netavark;            /* [network] netavark, NULL = /usr/lib/podman/netavark */
  char *aardvark_dns;        /* [network] aardvark_dns, NULL = /usr/lib/podman/aardvark-dns */
  char **allowed_bind_sources; /* [security] AllowedBindSources: host directories any caller
                                * granted container.create may bind (at or under them)
                                * without container.host-access; absolute, without "."
                                * or ".." components; never NULL, empty by default */
  gboolean dns_forward;      /* [network] dns_forward, default true: aardvark-dns
                              * forwards other names to the host's resolvers */
  /* What callers can make the daemon hold ([limits]): */
  guint64 exported_max_bytes; /* exported_max_bytes: every container's properties
                               * together (ctrd_container_config_exported_size), at
                               * most and by default CTRD_EXPORTED_MAX_BYTES */
  guint64 commit_max_bytes;   /* commit_max_bytes: a Commit's new files, default 16 GiB */
  guint64 terminal_connect_timeout; /* terminal_connect_timeout: seconds an ExecTerminal
                                     * socket waits for its client, default 30, 1 or more */
  guint64 caller_open_timeout; /* caller_open_timeout: seconds the opening of a caller's
                                * path (or a bind source as its owner) may take, then
                                * TIMEOUT; default 30, 1 to 3600 */
  guint64 events_max_count;   /* events_max_count: events kept for GetEvents, default
                               * 10,000, at most CTRD_EVENTS_MAX_COUNT */
  guint64 events_max_age;     /* events_max_age: seconds an event is kept, default 7 days */
  char **registries;          /* [images] registries: the hosts a PullImage of a name
                               * without a registry tries, in order; never NULL,
                               * empty by default (such a name is refused) */
  char *skopeo;               /* [images] skopeo: the skopeo to run, absolute;
                               * NULL = skopeo from PATH */
} CtrdConfig;

/* All containers' properties together stay well under the system bus's
 * 32 MiB message limit, so that a GetManagedObjects reply, with the images,
 * networks and jobs beside them, always fits: 10,000 ordinary containers
 * count about 20 MiB (and take about 10 MiB). */
#define CTRD_EXPORTED_MAX_BYTES (G_GUINT64_CONSTANT (24) << 20)

/* The most events the history may keep: a GetEvents reply of all of them
 * (about 100 bytes each) stays far below the bus's 32 MiB limit. */
#define CTRD_EVENTS_MAX_COUNT 100000

/* Loads @path, or the default file when @path is NULL (a missing default file is
 * fine; a missing explicit one is an error). Unknown groups/keys are ignored with a
 * warning; a value of the wrong type is an error naming the key. */
CtrdConfig *ctrd_config_load (const char *path, GError **error);
void ctrd_config_free (CtrdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdConfig, ctrd_config_free)

G_END_DECLS
