/* ctrd-digest.h: SHA-256 through OpenSSL's libcrypto, which uses the CPU's
 * SHA instructions where it has them: several times GChecksum's speed, and
 * every image byte is hashed at import. No D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CtrdSha256 CtrdSha256;

CtrdSha256 *ctrd_sha256_new (void);
void ctrd_sha256_update (CtrdSha256 *sha, const void *data, gsize len);
/* The digest as 64 lowercase hex characters; the context cannot be updated
 * after. The string belongs to @sha. */
const char *ctrd_sha256_get_string (CtrdSha256 *sha);
void ctrd_sha256_free (CtrdSha256 *sha);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdSha256, ctrd_sha256_free)

G_END_DECLS
