/* ctrd-registry.c: pull and push through skopeo.
 *
 * skopeo does the registry protocol (tokens, redirects, digests); we do the
 * rest: a pull is skopeo copy into a private OCI layout under the storage
 * root, then the OCI layout importer, so a pulled image has the same ID
 * (the config digest) and files as podman's. Credentials go to skopeo in a
 * memfd it reads through /proc/self/fd, so they are never in a file, on a
 * command line or in an environment. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-registry.h"
#include "ctrd-util.h"

/* The fd skopeo reads its auth file from. */
#define AUTH_CHILD_FD 3
/* How much of skopeo's stderr an error message carries. */
#define SKOPEO_MESSAGE_MAX 1024
/* The directory under the storage root for transfers in progress. */
#define TRANSFERS_DIR "tmp-transfers"

void
ctrd_registry_reference_free (CtrdRegistryReference *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->host);
  g_free (ref->name);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

gboolean
ctrd_registry_host_valid (const char *host)
{
  const char *colon = strchr (host, ':');
  gsize host_len = colon != NULL ? (gsize) (colon - host) : strlen (host);
  gsize label_start = 0;

  if (host_len == 0 || host_len > 253)
    return FALSE;
  for (gsize i = 0; i <= host_len; i++)
    {
      if (i < host_len && host[i] != '.')
        {
          if (!g_ascii_isalnum (host[i]) && host[i] != '-')
            return FALSE;
          continue;
        }
      if (i == label_start || host[label_start] == '-' || host[i - 1] == '-')
        return FALSE;
      label_start = i + 1;
    }
  if (colon != NULL)
    {
      const char *port = colon + 1;
      gsize len = strlen (port);

      if (len == 0 || len > 5 || strspn (port, "0123456789") != len || atoi (port) < 1 ||
          atoi (port) > 65535)
        return FALSE;
    }
  return TRUE;
}

static gboolean
names_registry (const char *name)
{
  const char *slash = strchr (name, '/');
  g_autofree char *first = NULL;

  if (slash == NULL)
    return FALSE;
  first = g_strndup (name, slash - name);
  return strchr (first, '.') != NULL || strchr (first, ':') != NULL ||
         g_str_equal (first, "localhost");
}

static gboolean
digest_valid (const char *digest)
{
  const char *hex;

  if (!g_str_has_prefix (digest, "sha256:"))
    return FALSE;
  hex = digest + strlen ("sha256:");
  return strlen (hex) == 64 && strspn (hex, "0123456789abcdef") == 64;
}

static CtrdRegistryReference *
throw_reference (GError **error, const char *reference, const char *problem)
{
  g_autofree char *quoted = ctrd_quote_untrusted (reference);

  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Image reference %s %s", quoted,
               problem);
  return NULL;
}

CtrdRegistryReference *
ctrd_registry_reference_parse (const char *reference, const char *default_host, GError **error)
{
  g_autoptr (CtrdRegistryReference) ref = g_new0 (CtrdRegistryReference, 1);
  const char *text = reference;
  const char *at;
  g_autofree char *name_part = NULL;
  g_autofree char *normalized = NULL;
  char *colon;

  if (g_str_has_prefix (text, "docker://"))
    text += strlen ("docker://");
  if (strlen (text) > CTRD_REGISTRY_REFERENCE_MAX)
    return throw_reference (error, reference, "is longer than 512 characters");
  at = strchr (text, '@');
  if (at != NULL)
    {
      const char *last_slash;

      ref->digest = g_strdup (at + 1);
      if (!digest_valid (ref->digest))
        return throw_reference (error, reference,
                                "has a bad digest (expected sha256: and 64 lowercase hex digits)");
      name_part = g_strndup (text, at - text);
      last_slash = strrchr (name_part, '/');
      if (strchr (last_slash != NULL ? last_slash : name_part, ':') != NULL)
        return throw_reference (error, reference, "has both a tag and a digest");
    }
  else
    name_part = g_strdup (text);

  normalized = ctrd_normalize_image_name (name_part, error);
  if (normalized == NULL)
    return NULL;
  colon = strrchr (normalized, ':');
  *colon = '\0';
  if (ref->digest == NULL)
    ref->tag = g_strdup (colon + 1);

  if (names_registry (normalized))
    {
      ref->name = g_strdup (normalized);
      ref->host = g_strndup (normalized, strchr (normalized, '/') - normalized);
    }
  else if (default_host == NULL)
    return throw_reference (error, reference,
                            "names no registry, and no registries are configured "
                            "(containersd.conf [images] registries)");
  else
    {
      ref->name = g_strconcat (default_host, "/", normalized, NULL);
      ref->host = g_strdup (default_host);
    }
  if (!ctrd_registry_host_valid (ref->host))
    return throw_reference (error, reference, "has an invalid registry host or port");
  return g_steal_pointer (&ref);
}

char *
ctrd_registry_reference_to_string (const CtrdRegistryReference *ref)
{
  if (ref->digest != NULL)
    return g_strconcat (ref->name, "@", ref->digest, NULL);
  return g_strconcat (ref->name, ":", ref->tag, NULL);
}

char *
ctrd_registry_reference_image_name (const CtrdRegistryReference *ref)
{
  return ref->digest != NULL ? NULL : g_strconcat (ref->name, ":", ref->tag, NULL);
}

/* ---------------------------------------------------------------- options */

void
ctrd_registry_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

void
ctrd_registry_options_clear (CtrdRegistryOptions *options)
{
  g_clear_pointer (&options->username, g_free);
  g_clear_pointer (&options->password, ctrd_registry_secret_free);
  g_clear_pointer (&options->os, g_free);
  g_clear_pointer (&options->arch, g_free);
  g_clear_pointer (&options->variant, g_free);
  g_clear_pointer (&options->skopeo, g_free);
}

static gboolean
credential_valid (const char *value)
{
  gsize len = strlen (value);

  if (len == 0 || len > CTRD_REGISTRY_CREDENTIAL_MAX || !g_utf8_validate (value, len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) value[i] < 0x20 || value[i] == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
platform_part_valid (const char *part)
{
  gsize len = strlen (part);

  return len > 0 && len <= 32 && strspn (part, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

gboolean
ctrd_registry_options_set (CtrdRegistryOptions *options, const char *username, const char *password,
                           const char *platform, GError **error)
{
  if ((username == NULL) != (password == NULL))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Username and Password must be given together");
      return FALSE;
    }
  if (username != NULL && (!credential_valid (username) || strchr (username, ':') != NULL))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Username must be 1 to 1024 bytes of printable UTF-8 without ':'");
      return FALSE;
    }
  if (password != NULL && !credential_valid (password))
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Password must be 1 to 1024 bytes of printable UTF-8");
      return FALSE;
    }
  if (platform != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (platform, "/", 4);
      guint n = g_strv_length (parts);

      if (n < 2 || n > 3 || !platform_part_valid (parts[0]) || !platform_part_valid (parts[1]) ||
          (n == 3 && !platform_part_valid (parts[2])))
        {
          g_autofree char *quoted = ctrd_quote_untrusted (platform);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Platform %s is not os/arch[/variant]", quoted);
          return FALSE;
        }
      options->os = g_strdup (parts[0]);
      options->arch = g_strdup (parts[1]);
      options->variant = g_strdup (parts[2]);
    }
  options->username = g_strdup (username);
  options->password = g_strdup (password);
  return TRUE;
}

char *
ctrd_registry_auth_json (const char *host, const CtrdRegistryOptions *options)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  char *pair;
  char *encoded;
  char *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "auths");
  json_builder_begin_object (builder);
  if (options->username != NULL)
    {
      pair = g_strconcat (options->username, ":", options->password, NULL);
      encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
      ctrd_registry_secret_free (pair);
      json_builder_set_member_name (builder, host);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "auth");
      json_builder_add_string_value (builder, encoded);
      json_builder_end_object (builder);
      ctrd_registry_secret_free (encoded);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  /* The tree keeps a copy of the encoded pair: wipe it before it is freed. */
  if (options->username != NULL)
    {
      JsonObject *auths = json_object_get_object_member (json_node_get_object (root), "auths");
      JsonObject *entry = json_object_get_object_member (auths, host);
      JsonNode *auth = json_object_get_member (entry, "auth");
      const char *value = json_node_get_string (auth);
      explicit_bzero ((char *) value, strlen (value));
    }
  return text;
}

/* ---------------------------------------------------------------- skopeo */

/* An anonymous memory file holding the auth JSON, at offset 0. */
static int
auth_memfd (const char *host, const CtrdRegistryOptions *options, GError **error)
{
  ctrd_autofd int fd = memfd_create ("ctrd-registry-auth", MFD_CLOEXEC);
  char *json;
  gboolean ok;

  if (fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Creating the registry auth file"), -1;
  json = ctrd_registry_auth_json (host, options);
  ok = ctrd_fd_write_all (fd, json, strlen (json), NULL, error);
  ctrd_registry_secret_free (json);
  if (!ok)
    return -1;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Rewinding the auth file"), -1;
  return ctrd_steal_fd (&fd);
}

static CtrdError
classify_skopeo_failure (const char *message)
{
  g_autofree char *lower = g_ascii_strdown (message, -1);

  if (strstr (lower, "manifest unknown") != NULL || strstr (lower, "name unknown") != NULL ||
      strstr (lower, "manifest_unknown") != NULL || strstr (lower, "name_unknown") != NULL)
    return CTRD_ERROR_NOT_FOUND;
  if (strstr (lower, "unauthorized") != NULL || strstr (lower, "authentication required") != NULL ||
      strstr (lower, "invalid username/password") != NULL)
    return CTRD_ERROR_NOT_AUTHORIZED;
  return CTRD_ERROR_FAILED;
}

/* Runs "skopeo [platform] copy --authfile <memfd> @flag @source @dest" with
 * TMPDIR=@tmpdir. */
static gboolean
run_skopeo_copy (const char *host, const CtrdRegistryOptions *options, const char *tls_flag,
                 const char *source, const char *destination, const char *tmpdir, const char *what,
                 GCancellable *cancellable, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *err_text = NULL;
  int auth_fd;

  auth_fd = auth_memfd (host, options, error);
  if (auth_fd < 0)
    return FALSE;
  g_subprocess_launcher_take_fd (launcher, auth_fd, AUTH_CHILD_FD);
  g_subprocess_launcher_setenv (launcher, "TMPDIR", tmpdir, TRUE);

  g_ptr_array_add (argv, g_strdup (options->skopeo != NULL ? options->skopeo : "skopeo"));
  if (options->os != NULL)
    g_ptr_array_add (argv, g_strconcat ("--override-os=", options->os, NULL));
  if (options->arch != NULL)
    g_ptr_array_add (argv, g_strconcat ("--override-arch=", options->arch, NULL));
  if (options->variant != NULL)
    g_ptr_array_add (argv, g_strconcat ("--override-variant=", options->variant, NULL));
  g_ptr_array_add (argv, g_strdup ("copy"));
  g_ptr_array_add (argv, g_strdup ("--quiet"));
  g_ptr_array_add (argv, g_strdup_printf ("--authfile=/proc/self/fd/%d", AUTH_CHILD_FD));
  if (!options->tls_verify)
    g_ptr_array_add (argv, g_strdup (tls_flag));
  g_ptr_array_add (argv, g_strdup (source));
  g_ptr_array_add (argv, g_strdup (destination));
  g_ptr_array_add (argv, NULL);

  process =
      g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &local_error);
  if (process == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "%s: cannot run skopeo: %s", what,
                   local_error->message);
      return FALSE;
    }
  if (!g_subprocess_communicate_utf8 (process, NULL, cancellable, NULL, &err_text, &local_error))
    {
      /* Cancelled (or the pipe failed): skopeo goes, and is reaped. */
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_CANCELLED, "%s: cancelled", what);
      else
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "%s: %s", what, local_error->message);
      return FALSE;
    }
  if (!g_subprocess_get_successful (process))
    {
      g_autofree char *message =
          g_strndup (err_text != NULL ? g_strstrip (err_text) : "", SKOPEO_MESSAGE_MAX);
      g_set_error (error, CTRD_ERROR, classify_skopeo_failure (message), "%s: skopeo: %s", what,
                   *message != '\0' ? message : "failed without a message");
      return FALSE;
    }
  return TRUE;
}

/* A new private directory under <root>/tmp-transfers for one transfer. */
static char *
make_transfer_dir (CtrdStorage *storage, const char *kind, GError **error)
{
  g_autofree char *parent = g_build_filename (ctrd_storage_get_root (storage), TRANSFERS_DIR, NULL);
  g_autofree char *template = NULL;

  if (mkdir (parent, 0700) < 0 && errno != EEXIST)
    return ctrd_throw_errno (error, "Creating %s", parent), NULL;
  template = g_strdup_printf ("%s/%s-XXXXXX", parent, kind);
  if (g_mkdtemp_full (template, 0700) == NULL)
    return ctrd_throw_errno (error, "Creating a directory in %s", parent), NULL;
  return g_steal_pointer (&template);
}

static void
remove_transfer_dir (const char *dir)
{
  g_autoptr (GError) local_error = NULL;

  if (!ctrd_remove_tree (dir, NULL, &local_error))
    g_warning ("Cannot remove %s: %s", dir, local_error->message);
}

static CtrdImportResult *
pull_into (CtrdStorage *storage, const char *dir, const CtrdRegistryReference *ref,
           const CtrdRegistryOptions *options, const CtrdImportLimits *limits,
           CtrdProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
           GError **error)
{
  g_autofree char *reference = ctrd_registry_reference_to_string (ref);
  g_autofree char *what = g_strdup_printf ("Pulling %s", reference);
  g_autofree char *source = g_strconcat ("docker://", reference, NULL);
  g_autofree char *layout = g_build_filename (dir, "layout", NULL);
  g_autofree char *tmpdir = g_build_filename (dir, "tmp", NULL);
  g_autofree char *destination = g_strconcat ("oci:", layout, ":latest", NULL);
  ctrd_autofd int layout_fd = -1;
  CtrdImportResult *result;

  if (mkdir (tmpdir, 0700) < 0)
    return ctrd_throw_errno (error, "Creating %s", tmpdir), NULL;
  if (progress != NULL)
    progress (0, 0, progress_data);
  if (!run_skopeo_copy (ref->host, options, "--src-tls-verify=false", source, destination, tmpdir,
                        what, cancellable, error))
    return NULL;
  layout_fd = open (layout, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (layout_fd < 0)
    return ctrd_throw_errno (error, "%s: opening the layout", what), NULL;
  result = ctrd_image_archive_import (storage, layout_fd, CTRD_IMAGE_FORMAT_OCI_LAYOUT, limits,
                                      progress, progress_data, cancellable, error);
  if (result == NULL)
    g_prefix_error (error, "%s: ", what);
  return result;
}

CtrdImportResult *
ctrd_registry_pull (CtrdStorage *storage, const CtrdRegistryReference *ref,
                    const CtrdRegistryOptions *options, const CtrdImportLimits *limits,
                    CtrdProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                    GError **error)
{
  g_autofree char *dir = make_transfer_dir (storage, "pull", error);
  CtrdImportResult *result;

  if (dir == NULL)
    return NULL;
  result =
      pull_into (storage, dir, ref, options, limits, progress, progress_data, cancellable, error);
  remove_transfer_dir (dir);
  return result;
}

static gboolean
push_from (CtrdStorage *storage, const char *dir, const char *commit, const char *config_json,
           guint64 size, const CtrdRegistryReference *ref, const CtrdRegistryOptions *options,
           CtrdProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
           GError **error)
{
  g_autofree char *reference = ctrd_registry_reference_to_string (ref);
  g_autofree char *name = ctrd_registry_reference_image_name (ref);
  g_autofree char *what = g_strdup_printf ("Pushing to %s", reference);
  g_autofree char *archive = g_build_filename (dir, "image.tar", NULL);
  g_autofree char *tmpdir = g_build_filename (dir, "tmp", NULL);
  g_autofree char *source = g_strconcat ("oci-archive:", archive, NULL);
  g_autofree char *destination = g_strconcat ("docker://", reference, NULL);
  ctrd_autofd int archive_fd = -1;

  if (mkdir (tmpdir, 0700) < 0)
    return ctrd_throw_errno (error, "Creating %s", tmpdir);
  /* skopeo reads an oci-archive by name: a file in the private directory. */
  archive_fd = open (archive, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (archive_fd < 0)
    return ctrd_throw_errno (error, "Creating %s", archive);
  if (!ctrd_image_archive_export (storage, commit, config_json, name, CTRD_IMAGE_FORMAT_OCI_ARCHIVE,
                                  archive_fd, size, progress, progress_data, cancellable, error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  ctrd_close_fd (&archive_fd);
  return run_skopeo_copy (ref->host, options, "--dest-tls-verify=false", source, destination,
                          tmpdir, what, cancellable, error);
}

gboolean
ctrd_registry_push (CtrdStorage *storage, const char *commit, const char *config_json, guint64 size,
                    const CtrdRegistryReference *ref, const CtrdRegistryOptions *options,
                    CtrdProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                    GError **error)
{
  g_autofree char *dir = make_transfer_dir (storage, "push", error);
  gboolean ok;

  if (dir == NULL)
    return FALSE;
  ok = push_from (storage, dir, commit, config_json, size, ref, options, progress, progress_data,
                  cancellable, error);
  remove_transfer_dir (dir);
  return ok;
}
