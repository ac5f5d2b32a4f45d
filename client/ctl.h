/* ctl.h: what the verbs of containersctl share across its files. */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "ctr-generated.h"

#define BUS_NAME "org.example.Containers1"
#define MANAGER_PATH "/org/example/Containers1"
#define CONTAINER_IFACE "org.example.Containers1.Container"
#define IMAGE_IFACE "org.example.Containers1.Image"
#define NETWORK_IFACE "org.example.Containers1.Network"
#define VOLUME_IFACE "org.example.Containers1.Volume"
#define EXEC_SESSION_IFACE "org.example.Containers1.ExecSession"
#define ERROR_NOT_FOUND "org.example.Containers1.Error.NotFound"

/* Like podman: daemon and usage errors exit 125, so exit codes 0-124 and
 * 126-255 remain the container's own. */
#define EXIT_ERROR 125

/* Calls that change something let polkit ask the user for a password. */
#define CALL_CHANGING G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION

#define STOP_TIMEOUT_DEFAULT 0xffffffffu
#define SHORT_ID_LEN 12
#define COMMAND_COLUMN_WIDTH 20
/* Completion runs while the user waits at the prompt. */
#define COMPLETION_TIMEOUT_MS 3000

typedef struct
{
  gboolean debug;
  GDBusConnection *bus;
  CtrManager *manager;
} Client;

typedef enum
{
  PRINT_ARGUMENT,
  PRINT_ID,
  PRINT_EXIT_CODE,
} CallOutput;

/* What a verb of one container passes after the container (argv[2]). */
typedef enum
{
  CALL_ARGS_NONE,
  CALL_ARGS_STRING,
  CALL_ARGS_STRING_OPTIONS, /* ... and an empty a{sv} */
} CallArgs;

typedef struct
{
  const char *method;
  GVariant *parameters;
  int timeout_ms;
  GDBusCallFlags flags;
  CallOutput output;
  CallArgs args;
} ContainerCall;

/* `containersctl container VERB` and `containersctl image VERB` reach the
 * verbs of their group, like podman's command groups. */
typedef enum
{
  GROUP_NONE,
  GROUP_CONTAINER,
  GROUP_IMAGE,
} VerbGroup;

typedef struct Verb Verb;
typedef int (*VerbFunc) (Client *client, const Verb *verb, int argc, char **argv);

struct Verb
{
  const char *name;
  VerbFunc run;
  const char *parameters;
  const char *summary;
  /* the group the verb belongs to; for verb_group, the group it leads */
  VerbGroup group;
  /* for verb_container_call and verb_one_container: the method called; for
   * verb_stop: the method and how long it may take */
  const ContainerCall *call;
  gboolean hidden;
  /* only inside its group (container exists, image exists), not on its own */
  gboolean group_only;
};

/* containersctl.c: what every verb uses. Errors are printed as
 * "Error: ..." on stderr; functions returning int return an exit status
 * (EXIT_ERROR for containersctl's own failures). Bus calls block. */
int print_error (Client *client, const GError *error);
int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
gboolean error_is_not_found (const GError *error);
gboolean parse_verb_options (const Verb *verb, const GOptionEntry *entries,
                             const GOptionEntry *extra_entries, const char *description,
                             gboolean strict_posix, int *argc, char ***argv);
gboolean check_arg_count (const Verb *verb, int argc, char **argv, int min, int max);
/* A number of seconds or the like for @option (at most G_MAXUINT32 - 1); a
 * bad one is a usage error. */
gboolean parse_uint32_option (const char *option, const char *text, guint32 *out);
/* The value of --OPTION[=true|false] (none: true), for option callbacks. */
gboolean parse_bool_value (const char *option_name, const char *value, gboolean *out,
                           GError **error);
gboolean confirm (const char *question);
/* `containersctl GROUP VERB…` for a group whose verbs are @table: lists
 * them without a verb or with --help, else runs the one argv[1] names (or
 * stands for, by the pairs of @aliases: ALIAS, VERB). */
int run_table_verb (Client *client, const Verb *group, const Verb *table, gsize n_table,
                    const char *const (*aliases)[2], gsize n_aliases, int argc, char **argv);
/* Calls the Manager's prune @method (taking floating @parameters, may be
 * NULL) and prints the removed IDs, one a line. */
int prune_and_print (Client *client, const char *method, GVariant *parameters);
gboolean client_connect (Client *client, GError **error);
CtrManager *client_get_manager (Client *client, gboolean load_properties, GError **error);
GVariant *call_changing (gpointer proxy, const char *method, GVariant *parameters, int timeout_ms,
                         GUnixFDList *fd_list, GError **error);
const char *id_from_path (const char *path);
CtrContainer *get_container (Client *client, const char *name_or_id, gboolean load_properties,
                             GError **error);
CtrImage *get_image (Client *client, const char *reference, GError **error);
const char *prop_str (GVariant *props, const char *key);
GPtrArray *list_objects (Client *client, const char *interface_name, int timeout_ms,
                         GError **error);
GPtrArray *table_new (void);
void table_add (GPtrArray *table, const char *first, ...) G_GNUC_NULL_TERMINATED;
void table_print (GPtrArray *table);
char *format_size (guint64 bytes);
int open_archive (const char *path, gboolean for_writing, GError **error);
GUnixFDList *fd_list_take (int fd, GError **error);
/* A time as podman's --since takes it (RFC 3339, Unix seconds, or a
 * duration before now) for @option; a bad one is a usage error. */
gboolean parse_since (const char *option, const char *text, guint64 *usec);
/* An event's time as podman prints it, in local time (newly allocated). */
char *format_event_time (guint64 time_usec);

/* ctl-transfer.c: registries, copying, resources, the event history */
/* podman's --memory, --cpus and --pids-limit (-1: none, as 0); a bad value
 * is a usage error. */
gboolean parse_memory_option (const char *option, const char *text, guint64 *bytes);
gboolean parse_cpus_option (const char *option, const char *text, double *cpus);
gboolean parse_pids_option (const char *option, const char *text, gint64 *pids);
/* Prints GetEvents (@until_usec 0: now) like the live events; *@last_usec
 * is the time of the last one printed. */
gboolean events_print_history (Client *client, guint64 since_usec, guint64 until_usec,
                               guint64 *last_usec, GError **error);
int verb_pull (Client *client, const Verb *verb, int argc, char **argv);
int verb_push (Client *client, const Verb *verb, int argc, char **argv);
int verb_image_prune (Client *client, const Verb *verb, int argc, char **argv);
int verb_cp (Client *client, const Verb *verb, int argc, char **argv);
int verb_stats (Client *client, const Verb *verb, int argc, char **argv);
int verb_update (Client *client, const Verb *verb, int argc, char **argv);

/* ctl-terminal.c: the user's terminal in a container. Both run a main
 * loop until the process ends (or, for run, Ctrl-P Ctrl-Q detaches: then
 * *@detached), with our terminal raw meanwhile, and return the process's
 * exit code or EXIT_ERROR. exec_with_terminal ends @options, Exec's a{sv}
 * so far (Env, WorkingDir, User). */
int exec_with_terminal (Client *client, CtrContainer *container, const char *const *argv,
                        GVariantBuilder *options, gboolean interactive);
int run_with_terminal (Client *client, CtrContainer *container, gboolean interactive,
                       gboolean *detached);
int verb_attach (Client *client, const Verb *verb, int argc, char **argv);

/* ctl-volume.c */
/* podman's -v/--volume and --tmpfs as CreateContainer's Mounts (a usage
 * error on a bad one); nothing when both are NULL. */
gboolean build_mount_options (char **volumes, char **tmpfs, GVariantBuilder *builder);
int verb_volume (Client *client, const Verb *verb, int argc, char **argv);

/* ctl-health.c: health checks */
typedef struct
{
  char *cmd; /* --health-cmd: a JSON array, or a shell command line */
  char *interval, *timeout, *start_period; /* durations */
  char *retries;
  char *on_failure;
} HealthOptions;

/* containersctl.c: KEY=VALUE (or KEY alone: empty) labels as an a{ss}
 * (floating). */
GVariant *labels_to_variant (char **labels);
/* containersctl.c: a JSON array of strings as an "as" (floating), NULL for
 * any other text. */
GVariant *json_argv_variant (const char *text);

/* podman's durations ("30s", "1m30s", "2h", or plain seconds) for @option;
 * a bad one is a usage error. */
gboolean parse_duration_option (const char *option, const char *text, guint32 *seconds);
/* The HealthCmd... options of CreateContainer (a usage error on bad input). */
gboolean build_health_options (const HealthOptions *options, GVariantBuilder *builder);
void health_options_clear (HealthOptions *options);
int verb_healthcheck (Client *client, const Verb *verb, int argc, char **argv);

/* ctl-security.c: the sandbox options of create and run */
typedef struct
{
  char **cap_add, **cap_drop; /* --cap-add, --cap-drop: names, or comma-separated lists */
  gboolean privileged;        /* --privileged */
  char **security_opts;       /* --security-opt: seccomp=..., no-new-privileges[=BOOL] */
} SecurityOptions;

/* CapAdd, CapDrop, Privileged, SeccompProfile and NoNewPrivileges of
 * CreateContainer (a usage error on an option it cannot map). */
gboolean build_security_options (const SecurityOptions *options, GVariantBuilder *builder);
void security_options_clear (SecurityOptions *options);

/* ctl-select.c: which containers and images a verb acts on (names,
 * --ignore, --all), podman's not-found messages, the exists verbs */
typedef enum
{
  OBJECT_CONTAINER,
  OBJECT_IMAGE,
  OBJECT_NETWORK,
  OBJECT_VOLUME,
} ObjectKind;

/* Rewrites a NotFound @error (others are left alone) of looking up @name
 * with podman's message for @kind, which scripts grep; the D-Bus error name
 * stays. */
void not_found_as_podman (GError *error, ObjectKind kind, const char *name);
int verb_start (Client *client, const Verb *verb, int argc, char **argv);
/* stop and restart: verb->call->method is Stop or Restart */
int verb_stop (Client *client, const Verb *verb, int argc, char **argv);
int verb_kill (Client *client, const Verb *verb, int argc, char **argv);
int verb_rm (Client *client, const Verb *verb, int argc, char **argv);
int verb_rmi (Client *client, const Verb *verb, int argc, char **argv);
int verb_container_exists (Client *client, const Verb *verb, int argc, char **argv);
int verb_image_exists (Client *client, const Verb *verb, int argc, char **argv);
int network_exists (Client *client, const Verb *verb, int argc, char **argv);
int volume_exists (Client *client, const Verb *verb, int argc, char **argv);
