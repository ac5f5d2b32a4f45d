/* ctrd-hooks.h: OCI hooks configured in hooks.d directories (the format of
 * podman's oci-hooks(5), schema 1.0.0), matched against a container, put into
 * its config.json, and the poststop ones run by containersd after the runtime
 * delete (the seed's setupOCIHooks / postDeleteHooks). No D-Bus types. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* podman's default directories, in order: a file in a later one replaces a
 * file of the same name in an earlier one. */
#define CTRD_HOOKS_DEFAULT_DIRS                                                                    \
  {                                                                                                \
    "/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d", NULL                       \
  }

/* Largest hook file read; bigger ones are skipped. */
#define CTRD_HOOKS_MAX_FILE_SIZE (1024 * 1024)

typedef enum
{
  CTRD_HOOK_PRESTART,
  CTRD_HOOK_CREATE_RUNTIME,
  CTRD_HOOK_CREATE_CONTAINER,
  CTRD_HOOK_START_CONTAINER,
  CTRD_HOOK_POSTSTART,
  CTRD_HOOK_POSTSTOP,
  CTRD_HOOK_N_STAGES /*< skip >*/
} CtrdHookStage;

/* The OCI name: "prestart", "createRuntime", ...; static string. */
const char *ctrd_hook_stage_to_string (CtrdHookStage stage);

/* One hook as the OCI runtime spec has it. */
typedef struct
{
  char *path;    /* absolute */
  char **args;   /* argv including argv[0]; never NULL, may be empty (then argv = { path }) */
  char **env;    /* NULL = the environment of whoever runs it */
  guint timeout; /* seconds; 0 = none */
} CtrdHook;

/* The hooks of one container, per stage, in the order they run. */
typedef struct
{
  GPtrArray *stages[CTRD_HOOK_N_STAGES]; /* CtrdHook*; never NULL */
} CtrdHookSet;

CtrdHookSet *ctrd_hook_set_new (void);
void ctrd_hook_set_free (CtrdHookSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdHookSet, ctrd_hook_set_free)

/* TRUE when no stage has a hook. */
gboolean ctrd_hook_set_is_empty (const CtrdHookSet *set);

/* The OCI "hooks" object for config.json: every stage but poststop, which
 * containersd runs itself (ctrd_hooks_run_poststop_async). NULL when there
 * is nothing to put in. */
JsonNode *ctrd_hook_set_to_spec_json (const CtrdHookSet *set);

/* All stages as JSON text, to keep the poststop hooks of a running container
 * (e.g. in its run directory) across a daemon restart; the inverse is
 * _from_json (INVALID_ARGUMENT for text it did not write). */
char *ctrd_hook_set_to_json (const CtrdHookSet *set);
CtrdHookSet *ctrd_hook_set_from_json (const char *json, GError **error);

typedef struct _CtrdHooks CtrdHooks;

/* Blocks (reads files). Loads the *.json hook files of @dirs (NULL = the
 * default directories); a missing directory is skipped; a later directory's
 * file replaces an earlier one of the same name. A file that does not parse,
 * has another version than "1.0.0", lacks hook.path or stages, names a path
 * that is not absolute or does not exist, an unknown stage, a timeout < 1 or
 * a regular expression that does not compile is logged (g_warning) and
 * skipped, and leaves an earlier file of the same name in place, as in
 * podman. Never fails. */
CtrdHooks *ctrd_hooks_load (const char *const *dirs);
void ctrd_hooks_free (CtrdHooks *hooks);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdHooks, ctrd_hooks_free)

/* Number of hook files loaded (valid ones). */
guint ctrd_hooks_get_n_loaded (CtrdHooks *hooks);

/* What a hook's "when" is matched against. */
typedef struct
{
  GHashTable *annotations;  /* char* -> char*: the spec's annotations and the
                             * container's labels; may be NULL */
  const char *const *argv;  /* the container's process args; "commands" match argv[0] */
  gboolean has_bind_mounts; /* the container has bind or volume Mounts */
} CtrdHookContext;

/* The hooks whose "when" matches @context (podman's When.Match: "always",
 * "hasBindMounts", "annotations" as key and value regular expressions,
 * "commands" on argv[0], all of them or any with "or"), in the lexical
 * order of their file names, per stage. Free with ctrd_hook_set_free. */
CtrdHookSet *ctrd_hooks_match (CtrdHooks *hooks, const CtrdHookContext *context);

/* The OCI state JSON a hook gets on stdin: ociVersion, id, status "stopped",
 * bundle, annotations (@annotations may be NULL). Free with g_free. */
char *ctrd_hooks_state_json (const char *id, const char *bundle, GHashTable *annotations);

/* Runs the poststop hooks of @set one after the other, each with @state_json
 * on its stdin (a sealed memfd, so a hook that does not read it cannot block
 * or SIGPIPE anyone), args[0] as its argv[0], its env, and killed (SIGKILL)
 * when its timeout passes or @cancellable fires. The output of a failed hook
 * is logged. Does not block; completes on the thread-default main context of
 * the caller. Every hook runs even when one fails (postDeleteHooks).
 * _finish: TRUE when all succeeded; else the first failure: RUNTIME_ERROR
 * (spawn failure or non-zero exit), TIMEOUT, or CANCELLED (then the rest are
 * not run). */
void ctrd_hooks_run_poststop_async (const CtrdHookSet *set, const char *state_json,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean ctrd_hooks_run_poststop_finish (GAsyncResult *result, GError **error);

G_END_DECLS
