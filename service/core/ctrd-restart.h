/* ctrd-restart.h: restart policies — `no`, `on-failure[:N]`, `always`,
 * `unless-stopped` as podman and docker spell them — and the decisions the
 * container object takes from them: whether an exit is followed by a start,
 * after how long, and whether a container starts again with the daemon.
 * Plain values only; no D-Bus types, no clock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CTRD_RESTART_NO,
  CTRD_RESTART_ON_FAILURE,
  CTRD_RESTART_ALWAYS,
  CTRD_RESTART_UNLESS_STOPPED,
} CtrdRestartKind;

typedef struct
{
  CtrdRestartKind kind;
  /* on-failure only: the most restarts after failures; 0 = no limit */
  guint max_retries;
} CtrdRestartPolicy;

/* The most retries `on-failure:N` takes. */
#define CTRD_RESTART_MAX_RETRIES 1000000

/* The first back-off and its cap, in milliseconds: it doubles per restart. */
#define CTRD_RESTART_BACKOFF_FIRST_MS 100
#define CTRD_RESTART_BACKOFF_MAX_MS (5 * 60 * 1000)

/* Parses @text ("" is `no`) into @policy. FALSE with INVALID_ARGUMENT naming
 * the policy and what is wrong with it; @policy is then untouched. */
gboolean ctrd_restart_policy_parse (const char *text, CtrdRestartPolicy *policy, GError **error);
/* The canonical spelling: "no", "on-failure", "on-failure:3", "always",
 * "unless-stopped". */
char *ctrd_restart_policy_to_string (const CtrdRestartPolicy *policy);

/* Whether the exit of a container with @exit_code, after @restart_count
 * policy restarts, is followed by a start. @stopped_by_user is TRUE when the
 * exit came from Stop, Kill, Restart or Remove: those are never undone. */
gboolean ctrd_restart_after_exit (const CtrdRestartPolicy *policy, int exit_code,
                                  guint restart_count, gboolean stopped_by_user);
/* Whether a container that was running, or was stopped as @stopped_by_user
 * says, starts again when the daemon starts after a reboot. */
gboolean ctrd_restart_at_boot (const CtrdRestartPolicy *policy, gboolean was_running,
                               gboolean stopped_by_user);
/* The wait before policy restart number @restart_count + 1. */
guint ctrd_restart_backoff_ms (guint restart_count);

G_END_DECLS
