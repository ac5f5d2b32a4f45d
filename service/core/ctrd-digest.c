/* ctrd-digest.c: SHA-256 with libcrypto's EVP interface. */
#include "config.h"

#include <openssl/evp.h>

#include "ctrd-digest.h"

struct _CtrdSha256
{
  EVP_MD_CTX *ctx;
  char hex[65];
  gboolean finished;
};

CtrdSha256 *
ctrd_sha256_new (void)
{
  CtrdSha256 *sha = g_new0 (CtrdSha256, 1);

  sha->ctx = EVP_MD_CTX_new ();
  if (sha->ctx == NULL || EVP_DigestInit_ex (sha->ctx, EVP_sha256 (), NULL) != 1)
    g_error ("libcrypto cannot make a SHA-256 context");
  return sha;
}

void
ctrd_sha256_update (CtrdSha256 *sha, const void *data, gsize len)
{
  g_return_if_fail (!sha->finished);
  if (len > 0 && EVP_DigestUpdate (sha->ctx, data, len) != 1)
    g_error ("libcrypto SHA-256 update failed");
}

const char *
ctrd_sha256_get_string (CtrdSha256 *sha)
{
  if (!sha->finished)
    {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int len = 0;

      if (EVP_DigestFinal_ex (sha->ctx, digest, &len) != 1 || len != 32)
        g_error ("libcrypto SHA-256 final failed");
      for (unsigned int i = 0; i < len; i++)
        g_snprintf (sha->hex + 2 * i, 3, "%02x", digest[i]);
      sha->finished = TRUE;
    }
  return sha->hex;
}

void
ctrd_sha256_free (CtrdSha256 *sha)
{
  if (sha == NULL)
    return;
  EVP_MD_CTX_free (sha->ctx);
  g_free (sha);
}
