/* Unit tests for ctrd-registry: references, credentials, the auth file,
 * and the [images] registries configuration. No bus, no skopeo. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ctrd-config.h"
#include "ctrd-error.h"
#include "ctrd-registry.h"

typedef struct
{
  const char *input;
  const char *default_host;
  const char *expected; /* ctrd_registry_reference_to_string, NULL = INVALID_ARGUMENT */
  const char *host;
  const char *image_name; /* NULL for a digest */
} ReferenceCase;

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_references (void)
{
  g_autofree char *long_name = g_strnfill (600, 'a');
  g_autofree char *long_ref = g_strconcat ("127.0.0.1:5000/", long_name, NULL);
  const ReferenceCase cases[] = {
    { "127.0.0.1:5000/app:1", NULL, "127.0.0.1:5000/app:1", "127.0.0.1:5000",
      "127.0.0.1:5000/app:1" },
    { "docker://registry.example/team/app", NULL, "registry.example/team/app:latest",
      "registry.example", "registry.example/team/app:latest" },
    { "localhost/app:2", NULL, "localhost/app:2", "localhost", "localhost/app:2" },
    { "registry.example/app@" DIGEST, NULL, "registry.example/app@" DIGEST, "registry.example",
      NULL },
    { "app:1", "registry.example:5000", "registry.example:5000/app:1", "registry.example:5000",
      "registry.example:5000/app:1" },
    { "team/app", "registry.example", "registry.example/team/app:latest", "registry.example",
      "registry.example/team/app:latest" },
    /* a name without a registry and none configured */
    { "app:1", NULL, NULL, NULL, NULL },
    { "team/app", NULL, NULL, NULL, NULL },
    /* malformed names, tags, digests, ports */
    { "", NULL, NULL, NULL, NULL },
    { "registry.example/Bad//name", NULL, NULL, NULL, NULL },
    { "registry.example/app:bad tag", NULL, NULL, NULL, NULL },
    { "registry.example/app@sha256:1234", NULL, NULL, NULL, NULL },
    { "registry.example/app@md5:0123456789abcdef0123456789abcdef", NULL, NULL, NULL, NULL },
    { "registry.example/app:1@" DIGEST, NULL, NULL, NULL, NULL },
    { "registry.example:99999/app:1", NULL, NULL, NULL, NULL },
    { "registry.example:0/app:1", NULL, NULL, NULL, NULL },
    { "-bad.example/app:1", NULL, NULL, NULL, NULL },
    { long_ref, NULL, NULL, NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdRegistryReference) ref =
          ctrd_registry_reference_parse (cases[i].input, cases[i].default_host, &error);

      if (cases[i].expected == NULL)
        {
          g_assert_null (ref);
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          g_assert_true (strstr (error->message, "Image reference") != NULL);
          continue;
        }
      g_assert_no_error (error);
      {
        g_autofree char *text = ctrd_registry_reference_to_string (ref);
        g_autofree char *image_name = ctrd_registry_reference_image_name (ref);
        g_assert_cmpstr (text, ==, cases[i].expected);
        g_assert_cmpstr (ref->host, ==, cases[i].host);
        g_assert_cmpstr (image_name, ==, cases[i].image_name);
      }
    }
}

static void
test_short_name_message (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdRegistryReference) ref = ctrd_registry_reference_parse ("app:1", NULL, &error);

  g_assert_null (ref);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_true (strstr (error->message, "no registries are configured") != NULL);
}

static void
test_options (void)
{
  g_autofree char *long_value = g_strnfill (CTRD_REGISTRY_CREDENTIAL_MAX + 1, 'p');
  struct
  {
    const char *username, *password, *platform;
    gboolean valid;
  } cases[] = {
    { NULL, NULL, NULL, TRUE },
    { "user", "secret", NULL, TRUE },
    { NULL, NULL, "linux/amd64", TRUE },
    { NULL, NULL, "linux/arm/v7", TRUE },
    { "user", NULL, NULL, FALSE },
    { NULL, "secret", NULL, FALSE },
    { "us:er", "secret", NULL, FALSE },
    { "user", "", NULL, FALSE },
    { "user", "line\nbreak", NULL, FALSE },
    { "user", long_value, NULL, FALSE },
    { NULL, NULL, "linux", FALSE },
    { NULL, NULL, "linux/amd64/v1/x", FALSE },
    { NULL, NULL, "Linux/AMD64", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      CtrdRegistryOptions options = { .tls_verify = TRUE };
      g_autoptr (GError) error = NULL;
      gboolean ok = ctrd_registry_options_set (&options, cases[i].username, cases[i].password,
                                               cases[i].platform, &error);

      g_assert_cmpint (ok, ==, cases[i].valid);
      if (!ok)
        {
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          /* The message never repeats the password. */
          if (cases[i].password != NULL && *cases[i].password != '\0')
            g_assert_null (strstr (error->message, cases[i].password));
        }
      ctrd_registry_options_clear (&options);
      g_assert_null (options.password);
    }
}

static void
test_auth_json (void)
{
  CtrdRegistryOptions options = { .tls_verify = TRUE };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *decoded = NULL;
  char *anonymous;
  char *json;
  JsonObject *auths;
  gsize len;

  anonymous = ctrd_registry_auth_json ("127.0.0.1:5000", &options);
  g_assert_cmpstr (anonymous, ==, "{\"auths\":{}}");
  ctrd_registry_secret_free (anonymous);

  g_assert_true (ctrd_registry_options_set (&options, "user", "pa\"ss\\word", NULL, &error));
  json = ctrd_registry_auth_json ("127.0.0.1:5000", &options);
  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  auths =
      json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "auths");
  decoded = (char *) g_base64_decode (
      json_object_get_string_member (json_object_get_object_member (auths, "127.0.0.1:5000"),
                                     "auth"),
      &len);
  g_assert_cmpmem (decoded, len, "user:pa\"ss\\word", strlen ("user:pa\"ss\\word"));
  /* The password is only in base64 form. */
  g_assert_null (strstr (json, "pa\"ss"));
  ctrd_registry_secret_free (json);
  ctrd_registry_options_clear (&options);
}

static char *
write_config (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("ctrd-registry-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_close (fd, NULL);
  return path;
}

static void
test_config (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdConfig) listed = NULL;
  g_autoptr (CtrdConfig) config = NULL;
  g_autoptr (CtrdConfig) bad = NULL;
  g_autofree char *path = write_config ("[images]\nregistries=registry.example; 127.0.0.1:5000;\n");
  g_autofree char *bad_path = write_config ("[images]\nregistries=not a host\n");

  listed = ctrd_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (listed->registries), ==, 2);
  g_assert_cmpstr (listed->registries[0], ==, "registry.example");
  g_assert_cmpstr (listed->registries[1], ==, "127.0.0.1:5000");

  bad = ctrd_config_load (bad_path, &error);
  g_assert_null (bad);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_true (strstr (error->message, "[images] registries") != NULL);
  g_clear_error (&error);

  g_clear_pointer (&bad, ctrd_config_free);
  g_unlink (bad_path);
  g_free (bad_path);
  bad_path = write_config ("[images]\nskopeo=bin/skopeo\n");
  bad = ctrd_config_load (bad_path, &error);
  g_assert_null (bad);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Without the key: no registries, so short names are refused. */
  g_unlink (path);
  g_free (path);
  path = write_config ("[storage]\nroot=/var/lib/containersd\n");
  config = ctrd_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (config->registries);
  g_assert_cmpuint (g_strv_length (config->registries), ==, 0);
  g_assert_null (config->skopeo);
  g_unlink (path);
  g_unlink (bad_path);
}

/* [limits] caller_open_timeout: 30 s by default, 1 to 3600. */
static void
test_config_caller_open_timeout (void)
{
  const char *bad_values[] = { "0", "3601", "-1", "soon" };
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdConfig) config = NULL;
  g_autofree char *path = write_config ("[limits]\ncaller_open_timeout=5\n");
  g_autofree char *default_path = write_config ("[storage]\nroot=/var/lib/containersd\n");

  config = ctrd_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->caller_open_timeout, ==, 5);
  g_clear_pointer (&config, ctrd_config_free);
  config = ctrd_config_load (default_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->caller_open_timeout, ==, 30);
  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      g_autofree char *text = g_strdup_printf ("[limits]\ncaller_open_timeout=%s\n", bad_values[i]);
      g_autofree char *bad_path = write_config (text);
      g_autoptr (CtrdConfig) bad = ctrd_config_load (bad_path, &error);

      g_assert_null (bad);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "caller_open_timeout"));
      g_clear_error (&error);
      g_unlink (bad_path);
    }
  g_unlink (path);
  g_unlink (default_path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/registry/references", test_references);
  g_test_add_func ("/registry/short-name-message", test_short_name_message);
  g_test_add_func ("/registry/options", test_options);
  g_test_add_func ("/registry/auth-json", test_auth_json);
  g_test_add_func ("/registry/config", test_config);
  g_test_add_func ("/config/caller-open-timeout", test_config_caller_open_timeout);
  return g_test_run ();
}
