/* ctrd-util.h: small pure helpers (names, IDs, signals, time). No D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CTRD_NAME_MAX 128
#define CTRD_ID_LEN 64

/* TRUE if @name matches [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}: the rule for
 * container and volume names (a name may become a directory name). Sets
 * INVALID_ARGUMENT (or LIMIT_EXCEEDED when longer than CTRD_NAME_MAX) saying
 * what is wrong, the message starting with @what ("Volume name"). */
gboolean ctrd_validate_name (const char *name, const char *what, GError **error);

/* ctrd_validate_name for a container name. */
gboolean ctrd_validate_container_name (const char *name, GError **error);

/* TRUE if @s is exactly 64 lowercase hex characters. */
gboolean ctrd_is_full_id (const char *s);

/* TRUE if @s is 1..64 lowercase hex characters (a possible ID prefix). */
gboolean ctrd_is_id_prefix (const char *s);

/* A new random 64-hex ID (from /dev/urandom via GRand-free getrandom). Free with g_free. */
char *ctrd_generate_id (void);

/* A generated container name like podman's adjective_noun. Free with g_free. */
char *ctrd_generate_name (void);

/* Validates and normalises an image reference "name[:tag]": name components of
 * [a-z0-9] separated by [._-] or '/', optional registry host[:port]/, tag
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. Returns "name:tag" (":latest" added when
 * no tag) or NULL with INVALID_ARGUMENT. */
char *ctrd_normalize_image_name (const char *ref, GError **error);

/* Parses a signal: "SIGHUP", "HUP", "hup", "SIGRTMIN+3", "RTMAX-1", or a
 * number "1".."64" (SIGRTMAX). 0, unknown names, out-of-range numbers and
 * trailing junk give INVALID_ARGUMENT. Returns the number or -1. */
int ctrd_parse_signal (const char *text, GError **error);

/* "SIGTERM", "SIGRTMIN+3", or the number as text when it has no name. Free with g_free. */
char *ctrd_signal_to_name (int signo);

/* @text (untrusted, possibly NULL) for an error message: in quotes, non-printable
 * bytes escaped (g_strescape), cut after 64 bytes with "…". Free with g_free. */
char *ctrd_quote_untrusted (const char *text);

/* Sets INVALID_ARGUMENT "@what “@value” @problem" with @value quoted as
 * ctrd_quote_untrusted does; returns FALSE, for `return ctrd_reject_value
 * (...)`. */
gboolean ctrd_reject_value (GError **error, const char *what, const char *value,
                            const char *problem);

/* Microseconds since the Unix epoch (wall clock). */
guint64 ctrd_now_usec (void);

/* Caps on what one call may carry (DESIGN.md security rules). */
#define CTRD_MAX_ARGV_ELEMENTS 4096
#define CTRD_MAX_ARGV_BYTES (1024 * 1024)
#define CTRD_MAX_ENV_ENTRIES 4096
/* LIMIT_EXCEEDED past @max_elements elements or CTRD_MAX_ARGV_BYTES bytes. */
gboolean ctrd_validate_string_array (const char *const *strv, guint max_elements,
                                     const char *what, GError **error);

/* TRUE if @entry is KEY=VALUE with a non-empty KEY. */
gboolean ctrd_env_entry_is_valid (const char *entry);

/* KEY=VALUE entries with a non-empty key (ctrd_env_entry_is_valid), at most
 * CTRD_MAX_ENV_ENTRIES; the message never echoes an entry (it may hold a
 * secret). */
gboolean ctrd_validate_env (const char *const *env, GError **error);

#define CTRD_DNS_LABEL_MAX 63
/* What sethostname takes. */
#define CTRD_HOSTNAME_MAX 64

typedef enum
{
  CTRD_DNS_NAME_STRICT = 0,
  CTRD_DNS_NAME_UNDERSCORE = 1 << 0,   /* '_' in labels, as resolvers and podman take */
  CTRD_DNS_NAME_TRAILING_DOT = 1 << 1, /* one final '.' (fully qualified) */
} CtrdDnsNameFlags;

/* TRUE if @name (may be NULL) is an RFC 1123 name of 1 to @max_len bytes:
 * labels of 1 to CTRD_DNS_LABEL_MAX letters, digits and '-', none starting
 * or ending with '-', joined by single dots; @flags allow what resolvers
 * also take. */
gboolean ctrd_is_dns_name (const char *name, gsize max_len, CtrdDnsNameFlags flags);

/* TRUE if @hostname (may be NULL) is a strict RFC 1123 name
 * (ctrd_is_dns_name) of at most CTRD_HOSTNAME_MAX bytes: no '_', no leading
 * or trailing dot. The one rule for a container's host name, wherever it is
 * checked. */
gboolean ctrd_hostname_is_valid (const char *hostname);

/* ctrd_hostname_is_valid, or INVALID_ARGUMENT quoting @hostname. */
gboolean ctrd_validate_hostname (const char *hostname, GError **error);

#define CTRD_MAX_PATH_BYTES 4096

/* TRUE if @path is a path in a container as a caller may give it: absolute,
 * without ".." components, at most CTRD_MAX_PATH_BYTES. Else INVALID_ARGUMENT
 * naming @what ("WorkingDir"). */
gboolean ctrd_validate_container_path (const char *path, const char *what, GError **error);

G_END_DECLS
