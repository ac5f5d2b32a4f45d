/* ctrd-container-config.h: what a container is made of (its configuration, fixed
 * at creation) and where it is in its lifecycle (its run state). Plain data with
 * a JSON form for the database; no D-Bus types. */
#pragma once

#include <glib.h>

#include "ctrd-network.h"

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

typedef enum
{
  CTRD_MOUNT_BIND,
  CTRD_MOUNT_TMPFS,
  CTRD_MOUNT_VOLUME,
} CtrdMountType;

/* "bind", "tmpfs", "volume"; static string. */
const char *ctrd_mount_type_to_string (CtrdMountType type);
/* FALSE for an unknown string. */
gboolean ctrd_mount_type_from_string (const char *text, CtrdMountType *out_type);

/* One entry of the Mounts option (see ctrd_spec_check_mount for the rules). */
typedef struct
{
  CtrdMountType type;
  char *source;      /* bind: absolute host path; volume: the volume's name; tmpfs: "" */
  char *destination; /* absolute path in the container */
  gboolean read_only;
  char **options;     /* mount options ("size=64m", "rprivate", ...); never NULL */
  gboolean anonymous; /* volume made for one of the image's Volumes: it goes
                       * with the container when removed with remove_volumes */
} CtrdMount;

/* @source NULL = ""; @options NULL = none. Copies everything. */
CtrdMount *ctrd_mount_new (CtrdMountType type, const char *source, const char *destination,
                           gboolean read_only, const char *const *options);
CtrdMount *ctrd_mount_copy (const CtrdMount *mount);
void ctrd_mount_free (CtrdMount *mount);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdMount, ctrd_mount_free)

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
  char **depends_on; /* full IDs of the containers this one needs running */
  CtrdNetworkSettings *network; /* never NULL; mode none by default */
} CtrdContainerConfig;

typedef struct
{
  CtrdState state;
  guint32 pid;        /* container's main process on the host; 0 when not running */
  guint32 conmon_pid; /* 0 when none */
  int exit_code;
  guint64 started_at;
  guint64 finished_at;
} CtrdRunState;

/* Returns a config with empty arrays, an empty label table, SIGTERM and 10 s,
 * no mounts and a 64 MiB /dev/shm. */
CtrdContainerConfig *ctrd_container_config_new (void);
void ctrd_container_config_free (CtrdContainerConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdContainerConfig, ctrd_container_config_free)

/* The argv the container runs: entrypoint followed by command. Free with g_strfreev. */
char **ctrd_container_config_get_argv (const CtrdContainerConfig *config);

/* JSON object text with every field; the inverse is _from_json. */
char *ctrd_container_config_to_json (const CtrdContainerConfig *config);
/* Missing optional fields take their defaults; bad JSON or wrong types give
 * INVALID_ARGUMENT naming the field. */
CtrdContainerConfig *ctrd_container_config_from_json (const char *json, GError **error);

G_END_DECLS
