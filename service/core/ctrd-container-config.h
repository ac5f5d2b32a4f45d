/* ctrd-container-config.h: what a container is made of (its configuration, fixed
 * at creation) and where it is in its lifecycle (its run state). Plain data with
 * a JSON form for the database; no D-Bus types. */
#pragma once

#include <glib.h>

#include "ctrd-cgroup.h"
#include "ctrd-health.h"
#include "ctrd-image-archive.h"
#include "ctrd-mounts.h"
#include "ctrd-network.h"
#include "ctrd-restart.h"

G_BEGIN_DECLS

/* Like libpod's ContainerState*, see DESIGN.md. */
typedef enum
{
  CTRD_STATE_CONFIGURED,
  CTRD_STATE_CREATED,
  CTRD_STATE_RUNNING,
  CTRD_STATE_PAUSED,
  CTRD_STATE_STOPPING,
  CTRD_STATE_STOPPED,
  CTRD_STATE_EXITED,
  CTRD_STATE_REMOVING,
} CtrdState;

/* "configured", "created", ... ; static string. */
const char *ctrd_state_to_string (CtrdState state);
/* FALSE for an unknown string. */
gboolean ctrd_state_from_string (const char *text, CtrdState *out_state);

#define CTRD_DEFAULT_SHM_SIZE (G_GUINT64_CONSTANT (64) * 1024 * 1024)

typedef struct
{
  char *id;          /* 64 hex */
  char *name;
  char *image_id;    /* 64 hex */
  char *image_name;  /* the reference as given at creation (or to Rebase) */
  char *previous_image_id; /* the image before the last Rebase; "" if none */
  char **entrypoint; /* effective entrypoint (option or image's); never NULL, may be empty */
  char **command;    /* effective command (argument or image's); never NULL, may be empty */
  char **env;        /* KEY=VALUE, merged over the image's; never NULL */
  char *working_dir; /* absolute, "/" by default */
  char *user;        /* "" = root; "uid[:gid]" or "name[:group]" */
  char *hostname;
  GHashTable *labels; /* char* -> char*, owned; never NULL */
  int stop_signal;    /* signal number, SIGTERM by default */
  guint32 stop_timeout; /* seconds, 10 by default */
  guint64 created_at;   /* usec since the epoch */
  guint32 owner;        /* uid of the caller that created it (Owner); kept in
                         * the database's own column, not in the JSON form */
  GPtrArray *mounts;    /* CtrdMount*, owned; never NULL; the image's Volumes
                         * are in it as anonymous volumes */
  char **dns_servers;   /* IP addresses; empty = the host's (never NULL, same below) */
  char **dns_search;    /* domains; empty = the host's */
  char **dns_options;   /* resolv.conf options ("ndots:2"); empty = the host's */
  char **add_hosts;     /* "name:ip" */
  guint64 shm_size;     /* bytes of /dev/shm; CTRD_DEFAULT_SHM_SIZE by default */
  gboolean read_only_rootfs;
  gboolean tty;
  gboolean auto_remove;
  gboolean host_access; /* granted container.host-access at creation (or created by
                         * root): binds may be outside AllowedBindSources and keep
                         * suid and dev; FALSE in records older than the rule */
  char **depends_on; /* full IDs of the containers this one needs running */
  CtrdNetworkSettings *network; /* never NULL; mode none by default */
  /* The sandbox (ctrd_spec_capabilities and the seccomp profile): */
  char **cap_add;  /* normalized names ("CAP_NET_ADMIN", "ALL"); never NULL */
  char **cap_drop; /* same */
  gboolean privileged;
  gboolean no_new_privileges;
  char *seccomp_profile; /* "default", "unconfined" or an absolute path */
  /* Resources: MemoryLimit, CpuQuota and PidsLimit (all 0 = none; Update
   * changes them), and whether catatonit runs as PID 1 (Init). */
  CtrdLimits limits;
  gboolean init;
  CtrdRestartPolicy restart; /* RestartPolicy; `no` by default (Update changes it) */
  CtrdHealthConfig health;   /* HealthCmd and friends; none by default (Update changes it) */
} CtrdContainerConfig;

typedef struct
{
  CtrdState state;
  guint32 pid;        /* container's main process on the host; 0 when not running */
  guint32 conmon_pid; /* 0 when none */
  int exit_code;
  guint64 started_at;
  guint64 finished_at;
  guint32 restart_count;    /* policy restarts since a caller last started it */
  gboolean stopped_by_user; /* Stop or Kill ended the last run: no policy restart */
} CtrdRunState;

/* Returns a config with empty arrays, an empty label table, SIGTERM and 10 s,
 * no mounts and a 64 MiB /dev/shm. */
CtrdContainerConfig *ctrd_container_config_new (void);
void ctrd_container_config_free (CtrdContainerConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdContainerConfig, ctrd_container_config_free)

/* A deep copy of @config (its strings, labels and mounts too), for a
 * worker thread that must not share the container's own. Free with
 * ctrd_container_config_free. */
CtrdContainerConfig *ctrd_container_config_copy (const CtrdContainerConfig *config);

/* The argv the container runs: entrypoint followed by command. Free with g_strfreev. */
char **ctrd_container_config_get_argv (const CtrdContainerConfig *config);

/* What a caller asks of a new container: CreateContainer's arguments,
 * decoded into plain values, all borrowed for the call. NULL (0, FALSE)
 * means "not given". */
typedef struct
{
  const char *name;               /* checked by the caller (ctrd_validate_container_name) */
  const char *image_id;           /* 64 hex */
  const char *image_name;         /* the reference as given */
  const char *const *command;     /* NULL = none */
  const char *const *entrypoint;  /* NULL = the image's */
  const char *const *env;         /* KEY=VALUE, merged over the image's */
  const char *working_dir;        /* NULL or "" = the image's, else "/" */
  const char *hostname;           /* NULL or "" = the first 12 characters of the ID */
  GHashTable *labels;             /* char* -> char*, not changed */
  const char *stop_signal;        /* NULL or "" = the image's, else SIGTERM */
  gboolean has_stop_timeout;      /* FALSE = 10 s */
  guint32 stop_timeout;           /* seconds */
  const char *user;               /* NULL = the image's */
  const CtrdMount *const *mounts; /* as given; not changed */
  gsize n_mounts;
  const char *const *protected_dirs; /* bind sources at or under these are refused */
  const char *const *dns_servers;
  const char *const *dns_search;
  const char *const *dns_options;
  const char *const *add_hosts;
  guint64 shm_size; /* 0 = CTRD_DEFAULT_SHM_SIZE */
  gboolean read_only_rootfs;
  gboolean tty;
  gboolean auto_remove;
  const char *const *depends_on; /* full IDs, resolved by the caller */
  /* Its network: none unless given. For a bridge, @network is the network
   * the caller resolved (for "bridge" before the default network exists,
   * what that would be, with an empty ID); the aliases, the address and the
   * ports need one. */
  CtrdNetworkMode network_mode;
  const CtrdNetworkConfig *network;
  const char *const *network_aliases;
  const char *ip_address;                /* NULL or "" = allocated at each start */
  const CtrdPortMapping *const *ports;
  gsize n_ports;
  const char *const *cap_add;  /* capability names, any case, "CAP_" optional, or "ALL" */
  const char *const *cap_drop;
  gboolean privileged;
  gboolean no_new_privileges;
  const char *seccomp_profile; /* NULL or "" = "default" */
  CtrdLimits limits; /* checked with ctrd_limits_validate */
  gboolean init;
  const char *restart_policy; /* ctrd_restart_policy_parse's spelling */
  CtrdHealthRequest health;   /* checked with ctrd_health_config_apply */
} CtrdCreateRequest;

#define CTRD_MAX_LABELS 256
/* The most a container's properties may take on the bus (API.md "Limits that
 * keep the bus healthy"): a GetManagedObjects reply must stay under the bus's
 * 32 MiB message limit. */
#define CTRD_CONTAINER_PROPERTY_BUDGET (64 * 1024)
#define CTRD_MAX_DNS_ENTRIES 64
#define CTRD_MAX_ADD_HOSTS 1024
#define CTRD_MAX_CAPABILITIES 64

#define CTRD_SECCOMP_PROFILE_DEFAULT "default"
#define CTRD_SECCOMP_PROFILE_UNCONFINED "unconfined"

/* No file system access for the caller's paths (ctrd_mount_check).
 * The configuration of a new container (a new random ID, created now) from
 * @request over the defaults of @image_config (untrusted: a malformed
 * default is ignored, never an error), by docker's and podman's rules:
 *  - argv: a given entrypoint replaces the image's and drops its Cmd; else
 *    the image's entrypoint with the given command, or else the image's
 *    Cmd. Neither at all, or an empty first element, is INVALID_ARGUMENT;
 *  - env: the image's, then the request's; a later KEY= replaces an
 *    earlier one in its place;
 *  - working dir, user and stop signal: the request's, else the image's;
 *    the host name: the request's, else the short ID;
 *  - mounts: checked (ctrd_mounts_check with @protected_dirs); a
 *    volume without a source becomes an anonymous volume with a new name;
 *    each of the image's Volumes not already mounted is added as one;
 *  - network: aliases (ctrd_network_validate_alias), an address inside the
 *    network (ctrd_network_check_address) and ports
 *    (ctrd_port_mappings_validate) only with a bridge network;
 *  - the sandbox: CapAdd/CapDrop normalized (ctrd_spec_normalize_capability;
 *    one capability both added and dropped is refused), SeccompProfile
 *    "default", "unconfined" or an absolute path without "..";
 *  - the limits: ctrd_limits_validate; the health check:
 *    ctrd_health_config_apply.
 * A bad value is INVALID_ARGUMENT naming it; more than CTRD_MAX_ARGV_ELEMENTS
 * command or entrypoint elements, CTRD_MAX_DNS_ENTRIES DNS entries or
 * CTRD_MAX_ADD_HOSTS AddHosts, or properties over
 * CTRD_CONTAINER_PROPERTY_BUDGET (ctrd_container_config_exported_size) is
 * LIMIT_EXCEEDED. Nothing is written. Free with ctrd_container_config_free. */
CtrdContainerConfig *ctrd_container_config_new_for_image (const CtrdCreateRequest *request,
                                                          const CtrdImageConfig *image_config,
                                                          GError **error);

/* The ways @config reaches past its container's sandbox, each a short
 * phrase naming the option ("Network=host", "bind source '/etc' (not in
 * AllowedBindSources)"); each needs the container.host-access action on top
 * of container.create. By the configuration's words only (nothing on the
 * host is looked at), so the answer reveals nothing to a caller who is then
 * refused. An empty list when none; free with g_strfreev. */
char **ctrd_container_config_host_access_reasons (const CtrdContainerConfig *config,
                                                  const char *const *allowed_bind_sources);
/* An upper bound of the bytes @config's container takes in a D-Bus message
 * (GetManagedObjects, GetAll, PropertiesChanged): its own properties in
 * their serialized form, with the name and image name counted at their
 * longest so that Rename and Rebase cannot outgrow it, plus its object path
 * in the Containers lists of its image, network and volumes. */
gsize ctrd_container_config_exported_size (const CtrdContainerConfig *config);

/* JSON object text with every field; the inverse is _from_json. */
char *ctrd_container_config_to_json (const CtrdContainerConfig *config);
/* Missing optional fields take their defaults; bad JSON or wrong types give
 * INVALID_ARGUMENT naming the field. */
CtrdContainerConfig *ctrd_container_config_from_json (const char *json, GError **error);

G_END_DECLS
