/* ctrd-health.h: health checks as podman and docker have them — a command
 * run inside the running container every interval, healthy when it exits
 * 0 — and the bookkeeping that turns their results into a status:
 * `starting` until the first success (failures inside the start period do
 * not count), `healthy`, or `unhealthy` after HealthRetries failures in a
 * row, with the last results kept for Inspect. Plain values and their JSON
 * forms (in the configuration, and the state in the database); no D-Bus
 * types, no clock (callers pass times). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  CTRD_HEALTH_ACTION_NONE,
  CTRD_HEALTH_ACTION_KILL,
  CTRD_HEALTH_ACTION_RESTART,
  CTRD_HEALTH_ACTION_STOP,
} CtrdHealthAction;

/* API.md's defaults, in seconds. */
#define CTRD_HEALTH_DEFAULT_INTERVAL 30
#define CTRD_HEALTH_DEFAULT_TIMEOUT 30
#define CTRD_HEALTH_DEFAULT_START_PERIOD 0
#define CTRD_HEALTH_DEFAULT_RETRIES 3

/* Bounds of what a caller may set: a week for the times, a thousand
 * retries, and a command of at most CTRD_HEALTH_MAX_ARGS elements of
 * CTRD_HEALTH_MAX_CMD_BYTES bytes together. */
#define CTRD_HEALTH_MAX_SECONDS (7 * 24 * 3600)
#define CTRD_HEALTH_MAX_RETRIES 1000
#define CTRD_HEALTH_MAX_ARGS 256
#define CTRD_HEALTH_MAX_CMD_BYTES 16384

/* How many results are kept, and how much of each one's output (podman
 * keeps five). */
#define CTRD_HEALTH_LOG_ENTRIES 5
#define CTRD_HEALTH_OUTPUT_MAX 1024

typedef struct
{
  char **cmd; /* argv run inside the container; NULL = no health check */
  guint32 interval;     /* seconds, ≥ 1 */
  guint32 timeout;      /* seconds, ≥ 1 */
  guint32 start_period; /* seconds */
  guint32 retries;      /* failures in a row before unhealthy, ≥ 1 */
  CtrdHealthAction on_failure;
} CtrdHealthConfig;

/* No health check, the default times. */
void ctrd_health_config_init (CtrdHealthConfig *config);
void ctrd_health_config_clear (CtrdHealthConfig *config);
void ctrd_health_config_copy (const CtrdHealthConfig *from, CtrdHealthConfig *to);
gboolean ctrd_health_config_enabled (const CtrdHealthConfig *config);

/* What a caller asks to change (HealthCmd and friends of CreateContainer and
 * Update), borrowed: each value counts only with its has_ flag. */
typedef struct
{
  gboolean has_cmd;
  const char *const *cmd;
  gboolean has_interval, has_timeout, has_start_period, has_retries;
  guint32 interval, timeout, start_period, retries;
  const char *on_failure; /* NULL = unchanged */
} CtrdHealthRequest;

/* TRUE when @request changes nothing. */
gboolean ctrd_health_request_empty (const CtrdHealthRequest *request);

/* @config with @request over it, checked as a whole: an empty HealthCmd, a
 * first element that is empty, a time or retry count of 0 (the start
 * period may be 0) or over the bounds, an unknown HealthOnFailure, or
 * settings or an action without a HealthCmd are INVALID_ARGUMENT naming the
 * key (prefixed with @what), a command past the bounds LIMIT_EXCEEDED. A
 * command given as ["CMD-SHELL", "text"] becomes /bin/sh -c text and
 * ["CMD", ...] loses the "CMD", as docker and podman spell them. On error
 * @config is untouched. */
gboolean ctrd_health_config_apply (CtrdHealthConfig *config, const CtrdHealthRequest *request,
                                   const char *what, GError **error);

/* "none", "kill", "restart", "stop"; static. */
const char *ctrd_health_action_to_string (CtrdHealthAction action);

/* The configuration's JSON form as @member of the object being built (an
 * object without "cmd" when there is no check), and back: an absent member
 * is no health check; a malformed one is an error naming it. */
void ctrd_health_config_add_json (const CtrdHealthConfig *config, JsonBuilder *builder,
                                  const char *member);
gboolean ctrd_health_config_read_json (JsonObject *object, const char *member,
                                       CtrdHealthConfig *out, GError **error);

typedef enum
{
  CTRD_HEALTH_NONE, /* no health check */
  CTRD_HEALTH_STARTING,
  CTRD_HEALTH_HEALTHY,
  CTRD_HEALTH_UNHEALTHY,
} CtrdHealthStatus;

/* "", "starting", "healthy", "unhealthy"; static. */
const char *ctrd_health_status_to_string (CtrdHealthStatus status);

typedef struct
{
  guint64 start_usec, end_usec; /* since the epoch */
  int exit_code;                /* -1: timed out or could not run */
  char *output;                 /* its head, valid UTF-8, at most CTRD_HEALTH_OUTPUT_MAX bytes */
} CtrdHealthResult;

/* Takes a copy of at most CTRD_HEALTH_OUTPUT_MAX bytes of @output (not cut
 * inside a character, made valid UTF-8). */
CtrdHealthResult *ctrd_health_result_new (guint64 start_usec, guint64 end_usec, int exit_code,
                                          const char *output, gsize output_len);
void ctrd_health_result_free (CtrdHealthResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdHealthResult, ctrd_health_result_free)

typedef struct
{
  CtrdHealthStatus status;
  guint32 failing_streak;
  GPtrArray *log; /* CtrdHealthResult*, oldest first, at most CTRD_HEALTH_LOG_ENTRIES */
} CtrdHealthState;

CtrdHealthState *ctrd_health_state_new (void);
void ctrd_health_state_free (CtrdHealthState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdHealthState, ctrd_health_state_free)

/* A new run of the container: `starting` (NONE without a check), no
 * failures; the log stays. */
void ctrd_health_state_begin_run (CtrdHealthState *state, const CtrdHealthConfig *config);

/* Adds @result (taken) to @state: a success makes it healthy; a failure
 * inside the start period (the run started at @started_usec) leaves a
 * `starting` status as it is, else counts, and the count reaching the
 * retries makes it unhealthy. Returns TRUE when the status changed. */
gboolean ctrd_health_state_record (CtrdHealthState *state, const CtrdHealthConfig *config,
                                   guint64 started_usec, CtrdHealthResult *result);

/* The state as JSON text (for the database) and back; NULL or "" reads as
 * a new state. A malformed text is an error. */
char *ctrd_health_state_to_json (const CtrdHealthState *state);
CtrdHealthState *ctrd_health_state_from_json (const char *text, GError **error);

/* Adds podman's State.Health object ({"Status", "FailingStreak", "Log":
 * [{"Start", "End", "ExitCode", "Output"}]}, times in RFC 3339) as @member. */
void ctrd_health_state_add_inspect_json (const CtrdHealthState *state, JsonBuilder *builder,
                                         const char *member);

G_END_DECLS
