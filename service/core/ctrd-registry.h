/* ctrd-registry.h: pulling and pushing images through skopeo: registry
 * references, credentials handed over without touching disk or argv, the
 * copy itself. No D-Bus types. */
#pragma once

#include <gio/gio.h>

#include "ctrd-image-archive.h"
#include "ctrd-storage.h"

G_BEGIN_DECLS

/* Bounds on what a caller hands over for one transfer. */
#define CTRD_REGISTRY_CREDENTIAL_MAX 1024
#define CTRD_REGISTRY_REFERENCE_MAX 512

typedef struct
{
  char *host;   /* registry host[:port] */
  char *name;   /* host/path, without tag or digest */
  char *tag;    /* NULL when @digest is set */
  char *digest; /* "sha256:<64 hex>" or NULL */
} CtrdRegistryReference;

void ctrd_registry_reference_free (CtrdRegistryReference *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdRegistryReference, ctrd_registry_reference_free)

/* Whether @host is a registry host[:port] (DNS labels or an IPv4 address,
 * an optional port of up to 5 digits). */
gboolean ctrd_registry_host_valid (const char *host);

/* Parses @reference: [docker://]host[:port]/path[:tag] or ...path@sha256:HEX
 * (tag "latest" when neither is given). A name without a registry host
 * (docker's rule: a first component with '.' or ':' or "localhost") is put
 * under @default_host; with @default_host NULL that is INVALID_ARGUMENT
 * saying no registries are configured. A malformed name, tag or digest is
 * INVALID_ARGUMENT naming the reference and the problem. */
CtrdRegistryReference *ctrd_registry_reference_parse (const char *reference,
                                                      const char *default_host, GError **error);

/* "host/path:tag" or "host/path@sha256:..."; free with g_free. */
char *ctrd_registry_reference_to_string (const CtrdRegistryReference *ref);

/* The image name it gives: "host/path:tag", or NULL for a digest reference
 * (as podman pull by digest adds no name). */
char *ctrd_registry_reference_image_name (const CtrdRegistryReference *ref);

typedef struct
{
  gboolean tls_verify; /* FALSE: plain HTTP and unverified TLS are accepted */
  char *username;      /* NULL: anonymous */
  char *password;
  char *os; /* Platform; NULL = the host's */
  char *arch;
  char *variant;
  char *skopeo; /* the program to run; NULL = "skopeo" from PATH */
} CtrdRegistryOptions;

/* Clears @options, wiping the password first. */
void ctrd_registry_options_clear (CtrdRegistryOptions *options);

/* Checks the credentials (both or neither; no ':' in the user name, no
 * control characters, at most CTRD_REGISTRY_CREDENTIAL_MAX bytes) and
 * @platform ("os/arch[/variant]" of [a-z0-9_]; may be NULL) into @options.
 * INVALID_ARGUMENT names what is wrong, never the password's value. */
gboolean ctrd_registry_options_set (CtrdRegistryOptions *options, const char *username,
                                    const char *password, const char *platform, GError **error);

/* The containers-auth.json text for @host with @options's credentials
 * ({"auths":{}} without any). Free with ctrd_registry_secret_free. */
char *ctrd_registry_auth_json (const char *host, const CtrdRegistryOptions *options);
void ctrd_registry_secret_free (char *secret);

/* Blocks. Pulls @ref with skopeo into a private OCI layout under the
 * storage root, imports it (ctrd_image_archive_import with @limits) and
 * removes the layout, whatever happens. Credentials reach skopeo only
 * through an anonymous memory file (memfd) it reads as --authfile.
 * Cancelling kills skopeo and leaves nothing. Registry answers map to
 * NOT_FOUND (unknown repository, tag or digest), NOT_AUTHORIZED (refused
 * credentials), FAILED (anything else, with skopeo's message). */
CtrdImportResult *ctrd_registry_pull (CtrdStorage *storage, const CtrdRegistryReference *ref,
                                      const CtrdRegistryOptions *options,
                                      const CtrdImportLimits *limits, CtrdProgressFunc progress,
                                      gpointer progress_data, GCancellable *cancellable,
                                      GError **error);

/* Blocks. Writes the image (@commit with @config_json, see
 * ctrd_image_archive_export) as an OCI archive into a private (0700)
 * directory under the storage root and copies it with skopeo to
 * docker://@ref; skopeo's own temporary files stay in that directory, which
 * is removed after, whatever happens. Errors as for ctrd_registry_pull. */
gboolean ctrd_registry_push (CtrdStorage *storage, const char *commit, const char *config_json,
                             guint64 size, const CtrdRegistryReference *ref,
                             const CtrdRegistryOptions *options, CtrdProgressFunc progress,
                             gpointer progress_data, GCancellable *cancellable, GError **error);

G_END_DECLS
