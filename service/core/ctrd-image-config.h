/* ctrd-image-config.h: the OCI image config, in one place: read as the
 * image's defaults for running it, and written for the images the daemon
 * makes itself (a root filesystem tar, a commit, an export). No D-Bus types,
 * nothing here blocks.
 *
 * An image config is untrusted input: members of the wrong type are ignored,
 * never used as host paths or commands. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The PATH of a config that names none: what every image-less runtime
 * assumes (also the spec's default). */
#define CTRD_IMAGE_CONFIG_DEFAULT_PATH_ENV                                                         \
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What an OCI image config says about running the image. Members of the
 * wrong type are ignored (the config is untrusted input). */
typedef struct
{
  char **entrypoint;    /* config.Entrypoint, never NULL */
  char **cmd;           /* config.Cmd, never NULL */
  char **env;           /* config.Env, never NULL */
  char *working_dir;    /* config.WorkingDir, "" when unset */
  char *user;           /* config.User, "" when unset */
  char *stop_signal;    /* config.StopSignal, "" when unset */
  char **exposed_ports; /* keys of config.ExposedPorts, sorted, never NULL */
  char **volumes;       /* keys of config.Volumes, sorted, never NULL */
  GHashTable *labels;   /* config.Labels, string values only; never NULL */
  guint64 created;      /* "created" in usec since the epoch; 0 when absent or unreadable */
} CtrdImageConfig;

/* Never fails: @json that is NULL or not a JSON object gives empty fields. */
CtrdImageConfig *ctrd_image_config_parse (const char *json);
void ctrd_image_config_free (CtrdImageConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdImageConfig, ctrd_image_config_free)

/* The host's architecture as OCI names it ("amd64", "arm64", ...); the
 * machine name uname gives when OCI has no name for it. Free with g_free. */
char *ctrd_image_config_oci_architecture (void);

/* @created_usec (since the epoch) as OCI configs write "created": RFC 3339
 * in UTC with microseconds, "2024-01-02T03:04:05.000000Z". Free with g_free. */
char *ctrd_image_config_format_created (guint64 created_usec);

/* An OCI "created" (any ISO 8601 time) in usec since the epoch; 0 when
 * @text is NULL, unreadable or before the epoch. */
guint64 ctrd_image_config_parse_created (const char *text);

/* The config of an image made from a root filesystem tar, which says nothing
 * about how to run it: os linux, this host's architecture, @created_usec,
 * no Cmd and no Entrypoint, Env with only CTRD_IMAGE_CONFIG_DEFAULT_PATH_ENV,
 * and @diff_id ("sha256:...") as the one layer. Free with g_free. */
char *ctrd_image_config_new_for_rootfs (guint64 created_usec, const char *diff_id);

/* What a commit changes in the image config; every field NULL keeps the
 * base's value, a set one replaces it (merging is the caller's choice). */
typedef struct
{
  const char *const *command;    /* config Cmd */
  const char *const *entrypoint; /* config Entrypoint */
  const char *const *env;        /* config Env, KEY=VALUE */
  GHashTable *labels;            /* config Labels (char* -> char*) */
  const char *author;            /* author */
  const char *comment;           /* the new history entry's comment */
} CtrdImageConfigChanges;

/* The config of a committed image: @base_config (a rootfs default when NULL
 * or not a JSON object) with @changes (may be NULL) applied, "created" set
 * to @created_usec, a history entry "containersd commit" and @diff_id
 * appended to rootfs.diff_ids. NULL with an error only when the default
 * cannot be read back (never in practice). Free with g_free. */
char *ctrd_image_config_for_commit (const char *base_config, const CtrdImageConfigChanges *changes,
                                    const char *diff_id, guint64 created_usec, GError **error);

/* The stored @config_json (may be NULL or not JSON: then an empty one)
 * describing instead the one flattened layer @diff_id, as an export writes
 * it: settings kept, os and architecture filled in where missing, rootfs and
 * history replaced. Free with g_free. */
char *ctrd_image_config_for_export (const char *config_json, const char *diff_id);

/* Typed look-ups in untrusted JSON: the member @member of @object (may be
 * NULL) when it has that type, else NULL. The result belongs to @object. */
const char *ctrd_json_member_string (JsonObject *object, const char *member);
JsonObject *ctrd_json_member_object (JsonObject *object, const char *member);
JsonArray *ctrd_json_member_array (JsonObject *object, const char *member);

/* @node as compact JSON text. Free with g_free. */
char *ctrd_json_to_text (JsonNode *node);

G_END_DECLS
