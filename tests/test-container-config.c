/* Unit tests for ctrd-container-config: states, argv, the creation rules, the
 * JSON round trip. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ctrd-config.h"
#include "ctrd-container-config.h"
#include "ctrd-error.h"
#include "ctrd-util.h"

#define TEST_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TEST_IMAGE_ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static CtrdContainerConfig *
make_full_config (void)
{
  CtrdContainerConfig *config = ctrd_container_config_new ();
  const char *const entrypoint[] = { "/bin/sh", "-c", NULL };
  const char *const command[] = { "echo \"hi\"; exit 3", NULL };
  const char *const env[] = { "PATH=/usr/bin:/bin", "EMPTY=", "UNI=ünï\ncode", NULL };

  g_free (config->id);
  config->id = g_strdup (TEST_ID);
  g_free (config->name);
  config->name = g_strdup ("web-1");
  g_free (config->image_id);
  config->image_id = g_strdup (TEST_IMAGE_ID);
  g_free (config->image_name);
  config->image_name = g_strdup ("busybox:latest");
  g_strfreev (config->entrypoint);
  config->entrypoint = g_strdupv ((char **) entrypoint);
  g_strfreev (config->command);
  config->command = g_strdupv ((char **) command);
  g_strfreev (config->env);
  config->env = g_strdupv ((char **) env);
  g_free (config->working_dir);
  config->working_dir = g_strdup ("/srv/app");
  g_free (config->user);
  config->user = g_strdup ("1000:1000");
  g_free (config->hostname);
  config->hostname = g_strdup ("webhost");
  g_hash_table_insert (config->labels, g_strdup ("app"), g_strdup ("web"));
  g_hash_table_insert (config->labels, g_strdup ("tier"), g_strdup ("front \"end\""));
  config->stop_signal = SIGQUIT;
  config->stop_timeout = 42;
  config->created_at = G_GUINT64_CONSTANT (1700000000123456);
  {
    const char *const mount_options[] = { "nosuid", "rshared", NULL };
    const char *const servers[] = { "10.0.0.1", "2001:db8::53", NULL };
    const char *const search[] = { "example.com", NULL };
    const char *const options[] = { "ndots:2", "edns0", NULL };
    const char *const hosts[] = { "db:10.0.0.2", NULL };
    const char *const depends_on[] = { TEST_IMAGE_ID, TEST_ID, NULL };
    CtrdMount *anonymous;

    g_ptr_array_add (config->mounts,
                     ctrd_mount_new (CTRD_MOUNT_BIND, "/srv/data", "/data", TRUE, mount_options));
    g_ptr_array_add (config->mounts,
                     ctrd_mount_new (CTRD_MOUNT_TMPFS, NULL, "/scratch", FALSE, NULL));
    anonymous = ctrd_mount_new (CTRD_MOUNT_VOLUME, TEST_IMAGE_ID, "/var/lib/db", FALSE, NULL);
    anonymous->anonymous = TRUE;
    g_ptr_array_add (config->mounts, anonymous);
    g_strfreev (config->dns_servers);
    config->dns_servers = g_strdupv ((char **) servers);
    g_strfreev (config->dns_search);
    config->dns_search = g_strdupv ((char **) search);
    g_strfreev (config->dns_options);
    config->dns_options = g_strdupv ((char **) options);
    g_strfreev (config->add_hosts);
    config->add_hosts = g_strdupv ((char **) hosts);
    config->shm_size = G_GUINT64_CONSTANT (1) << 40;
    config->read_only_rootfs = TRUE;
    config->tty = TRUE;
    config->auto_remove = TRUE;
    g_strfreev (config->depends_on);
    config->depends_on = g_strdupv ((char **) depends_on);
  }
  return config;
}

static void
assert_labels_equal (GHashTable *a, GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpuint (g_hash_table_size (a), ==, g_hash_table_size (b));
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpstr (g_hash_table_lookup (b, key), ==, value);
}

static void
assert_configs_equal (const CtrdContainerConfig *a, const CtrdContainerConfig *b)
{
  g_assert_cmpstr (a->id, ==, b->id);
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpstr (a->image_id, ==, b->image_id);
  g_assert_cmpstr (a->image_name, ==, b->image_name);
  g_assert_cmpstrv (a->entrypoint, b->entrypoint);
  g_assert_cmpstrv (a->command, b->command);
  g_assert_cmpstrv (a->env, b->env);
  g_assert_cmpstr (a->working_dir, ==, b->working_dir);
  g_assert_cmpstr (a->user, ==, b->user);
  g_assert_cmpstr (a->hostname, ==, b->hostname);
  assert_labels_equal (a->labels, b->labels);
  g_assert_cmpint (a->stop_signal, ==, b->stop_signal);
  g_assert_cmpuint (a->stop_timeout, ==, b->stop_timeout);
  g_assert_cmpuint (a->created_at, ==, b->created_at);
  g_assert_cmpuint (a->mounts->len, ==, b->mounts->len);
  for (guint i = 0; i < a->mounts->len; i++)
    {
      const CtrdMount *ma = g_ptr_array_index (a->mounts, i);
      const CtrdMount *mb = g_ptr_array_index (b->mounts, i);

      g_assert_cmpint (ma->type, ==, mb->type);
      g_assert_cmpstr (ma->source, ==, mb->source);
      g_assert_cmpstr (ma->destination, ==, mb->destination);
      g_assert_cmpint (ma->read_only, ==, mb->read_only);
      g_assert_cmpstrv (ma->options, mb->options);
      g_assert_cmpint (ma->anonymous, ==, mb->anonymous);
    }
  g_assert_cmpstrv (a->dns_servers, b->dns_servers);
  g_assert_cmpstrv (a->dns_search, b->dns_search);
  g_assert_cmpstrv (a->dns_options, b->dns_options);
  g_assert_cmpstrv (a->add_hosts, b->add_hosts);
  g_assert_cmpuint (a->shm_size, ==, b->shm_size);
  g_assert_cmpint (a->read_only_rootfs, ==, b->read_only_rootfs);
  g_assert_cmpint (a->tty, ==, b->tty);
  g_assert_cmpint (a->auto_remove, ==, b->auto_remove);
  g_assert_cmpstrv (a->depends_on, b->depends_on);
}

static void
test_states (void)
{
  const char *const names[] = {
    "configured", "created", "running", "paused", "stopping", "stopped", "exited", "removing",
  };
  CtrdState state;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_cmpstr (ctrd_state_to_string ((CtrdState) i), ==, names[i]);
      g_assert_true (ctrd_state_from_string (names[i], &state));
      g_assert_cmpint (state, ==, i);
    }

  state = CTRD_STATE_PAUSED;
  g_assert_false (ctrd_state_from_string ("Running", &state));
  g_assert_false (ctrd_state_from_string ("", &state));
  g_assert_false (ctrd_state_from_string (NULL, &state));
  g_assert_cmpint (state, ==, CTRD_STATE_PAUSED);
}

static void
test_new_defaults (void)
{
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_new ();
  g_auto (GStrv) argv = ctrd_container_config_get_argv (config);

  g_assert_nonnull (config->entrypoint);
  g_assert_cmpuint (g_strv_length (config->entrypoint), ==, 0);
  g_assert_nonnull (config->command);
  g_assert_cmpuint (g_strv_length (config->command), ==, 0);
  g_assert_nonnull (config->env);
  g_assert_cmpuint (g_strv_length (config->env), ==, 0);
  g_assert_nonnull (config->labels);
  g_assert_cmpuint (g_hash_table_size (config->labels), ==, 0);
  g_assert_cmpstr (config->working_dir, ==, "/");
  g_assert_cmpstr (config->user, ==, "");
  g_assert_cmpint (config->stop_signal, ==, SIGTERM);
  g_assert_cmpuint (config->stop_timeout, ==, 10);
  g_assert_cmpuint (config->mounts->len, ==, 0);
  g_assert_cmpuint (g_strv_length (config->dns_servers), ==, 0);
  g_assert_cmpuint (g_strv_length (config->dns_search), ==, 0);
  g_assert_cmpuint (g_strv_length (config->dns_options), ==, 0);
  g_assert_cmpuint (g_strv_length (config->add_hosts), ==, 0);
  g_assert_cmpuint (g_strv_length (config->depends_on), ==, 0);
  g_assert_cmpuint (config->shm_size, ==, 64 * 1024 * 1024);
  g_assert_false (config->read_only_rootfs);
  g_assert_false (config->tty);
  g_assert_false (config->auto_remove);
  g_assert_nonnull (argv);
  g_assert_cmpuint (g_strv_length (argv), ==, 0);
}

static void
test_argv (void)
{
  g_autoptr (CtrdContainerConfig) config = make_full_config ();
  g_auto (GStrv) argv = ctrd_container_config_get_argv (config);
  const char *const expected[] = { "/bin/sh", "-c", "echo \"hi\"; exit 3", NULL };
  g_auto (GStrv) command_only = NULL;

  g_assert_cmpstrv (argv, expected);

  g_strfreev (config->entrypoint);
  config->entrypoint = g_new0 (char *, 1);
  command_only = ctrd_container_config_get_argv (config);
  g_assert_cmpstrv (command_only, config->command);
}

static void
test_round_trip (void)
{
  g_autoptr (CtrdContainerConfig) config = make_full_config ();
  g_autoptr (CtrdContainerConfig) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *json = ctrd_container_config_to_json (config);
  g_autofree char *json_again = NULL;
  g_autoptr (JsonNode) root = json_from_string (json, &error);
  JsonObject *object;

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  object = json_node_get_object (root);

  /* The stored form: labels an object, lists arrays, numbers numbers. */
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "labels")));
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (object, "labels"), "app"), ==,
      "web");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "entrypoint")));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "env")), ==, 3);
  g_assert_cmpint (json_object_get_int_member (object, "stop_signal"), ==, SIGQUIT);
  g_assert_cmpint (json_object_get_int_member (object, "created_at"), ==, 1700000000123456);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "mounts")), ==, 3);
  g_assert_cmpstr (
      json_object_get_string_member (
          json_array_get_object_element (json_object_get_array_member (object, "mounts"), 1),
          "type"),
      ==, "tmpfs");
  g_assert_true (json_object_get_boolean_member (object, "tty"));
  g_assert_cmpint (json_object_get_int_member (object, "shm_size"), ==,
                   G_GINT64_CONSTANT (1) << 40);

  loaded = ctrd_container_config_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  assert_configs_equal (config, loaded);

  /* Same config, same text: label order does not depend on hashing. */
  json_again = ctrd_container_config_to_json (loaded);
  g_assert_cmpstr (json, ==, json_again);
}

static void
test_missing_optional_fields (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_from_json (
      "{\"id\": \"" TEST_ID "\", \"name\": \"db\", \"image_id\": \"" TEST_IMAGE_ID "\"}", &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpstr (config->id, ==, TEST_ID);
  g_assert_cmpstr (config->name, ==, "db");
  g_assert_cmpstr (config->image_id, ==, TEST_IMAGE_ID);
  g_assert_cmpstr (config->image_name, ==, "");
  g_assert_cmpuint (g_strv_length (config->entrypoint), ==, 0);
  g_assert_cmpuint (g_strv_length (config->command), ==, 0);
  g_assert_cmpuint (g_strv_length (config->env), ==, 0);
  g_assert_cmpstr (config->working_dir, ==, "/");
  g_assert_cmpstr (config->user, ==, "");
  /* Hostname defaults to the short ID, as the API documents. */
  g_assert_cmpstr (config->hostname, ==, "0123456789ab");
  g_assert_cmpuint (g_hash_table_size (config->labels), ==, 0);
  g_assert_cmpint (config->stop_signal, ==, SIGTERM);
  g_assert_cmpuint (config->stop_timeout, ==, 10);
  g_assert_cmpuint (config->created_at, ==, 0);
  /* a record written before Mounts, DNS, ShmSize ... existed */
  g_assert_cmpuint (config->mounts->len, ==, 0);
  g_assert_cmpuint (g_strv_length (config->dns_servers), ==, 0);
  g_assert_cmpuint (g_strv_length (config->add_hosts), ==, 0);
  g_assert_cmpuint (g_strv_length (config->depends_on), ==, 0);
  g_assert_cmpuint (config->shm_size, ==, 64 * 1024 * 1024);
  g_assert_false (config->read_only_rootfs);
  g_assert_false (config->tty);
  g_assert_false (config->auto_remove);
}

typedef struct
{
  const char *member; /* set to @value in an otherwise valid config */
  const char *value;  /* NULL = remove the member */
} BadField;

static void
test_wrong_types (void)
{
  const BadField cases[] = {
    { "id", NULL },
    { "id", "42" },
    { "id", "\"abc\"" },
    { "id", "\"" TEST_IMAGE_ID "x\"" },
    { "name", NULL },
    { "name", "\"\"" },
    { "name", "null" },
    { "image_id", NULL },
    { "image_id", "[\"" TEST_IMAGE_ID "\"]" },
    { "image_name", "1" },
    { "entrypoint", "\"/bin/sh\"" },
    { "entrypoint", "[\"/bin/sh\", 1]" },
    { "command", "{}" },
    { "command", "[null]" },
    { "env", "[[\"A=1\"]]" },
    { "working_dir", "false" },
    { "user", "0" },
    { "hostname", "[]" },
    { "labels", "[\"a=b\"]" },
    { "labels", "{\"a\": 1}" },
    { "labels", "\"a=b\"" },
    { "stop_signal", "\"SIGTERM\"" },
    { "stop_signal", "0" },
    { "stop_signal", "65" },
    { "stop_signal", "9.5" },
    { "stop_timeout", "-1" },
    { "stop_timeout", "4294967296" },
    { "stop_timeout", "true" },
    { "created_at", "-5" },
    { "created_at", "\"yesterday\"" },
    { "mounts", "{}" },
    { "mounts", "[1]" },
    { "mounts", "[{\"type\": \"nfs\", \"destination\": \"/x\"}]" },
    { "mounts", "[{\"destination\": \"/x\"}]" },
    { "mounts", "[{\"type\": \"bind\", \"destination\": \"x\"}]" },
    { "mounts", "[{\"type\": \"bind\", \"destination\": \"/x\", \"read_only\": 1}]" },
    { "mounts", "[{\"type\": \"bind\", \"destination\": \"/x\", \"options\": \"ro\"}]" },
    { "dns_servers", "\"10.0.0.1\"" },
    { "dns_search", "[1]" },
    { "dns_options", "{}" },
    { "add_hosts", "true" },
    { "shm_size", "0" },
    { "shm_size", "\"64m\"" },
    { "read_only_rootfs", "1" },
    { "tty", "\"yes\"" },
    { "auto_remove", "null" },
    { "depends_on", "[\"web\"]" },
    { "depends_on", "\"" TEST_ID "\"" },
  };
  g_autoptr (CtrdContainerConfig) base = make_full_config ();
  g_autofree char *base_json = ctrd_container_config_to_json (base);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonNode) root = json_from_string (base_json, NULL);
      JsonObject *object = json_node_get_object (root);
      g_autofree char *json = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdContainerConfig) config = NULL;
      g_autofree char *quoted_member = g_strdup_printf ("“%s”", cases[i].member);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s = %s", i, cases[i].member,
                      cases[i].value != NULL ? cases[i].value : "(missing)");
      json_object_remove_member (object, cases[i].member);
      if (cases[i].value != NULL)
        json_object_set_member (object, cases[i].member, json_from_string (cases[i].value, NULL));
      json = json_to_string (root, FALSE);

      config = ctrd_container_config_from_json (json, &error);
      g_assert_null (config);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, quoted_member));
    }
}

static void
test_bad_json (void)
{
  const char *const cases[] = {
    "", "{", "{\"id\": }", "not json", "[]", "\"a string\"", "42", "null",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdContainerConfig) config = ctrd_container_config_from_json (cases[i], &error);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i]);
      g_assert_null (config);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    }

  g_assert_null (ctrd_container_config_from_json (NULL, NULL));
}

static void
test_unknown_fields_ignored (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdContainerConfig) config = ctrd_container_config_from_json (
      "{\"id\": \"" TEST_ID "\", \"name\": \"db\", \"image_id\": \"" TEST_IMAGE_ID "\", "
      "\"future_field\": {\"x\": [1, 2]}, \"stop_timeout\": 0}",
      &error);

  /* A database written by a newer build with extra fields still loads. */
  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpuint (config->stop_timeout, ==, 0);
}

/* A copy equals the original field by field and shares nothing with it:
 * the original can change or go while the copy is used. */
static void
test_copy (void)
{
  g_autoptr (CtrdContainerConfig) config = make_full_config ();
  g_autoptr (CtrdContainerConfig) copy = ctrd_container_config_copy (config);
  g_autofree char *json = ctrd_container_config_to_json (config);
  g_autofree char *copy_json = NULL;
  CtrdMount *mount;

  assert_configs_equal (config, copy);
  g_assert_true (copy->id != config->id);
  g_assert_true (copy->entrypoint != config->entrypoint);
  g_assert_true (copy->labels != config->labels);
  g_assert_true (copy->mounts != config->mounts);
  g_assert_true (g_ptr_array_index (copy->mounts, 0) != g_ptr_array_index (config->mounts, 0));

  /* change the original everywhere: the copy stays as it was */
  g_free (config->name);
  config->name = g_strdup ("changed");
  config->env[0][0] = 'X';
  g_hash_table_insert (config->labels, g_strdup ("app"), g_strdup ("changed"));
  mount = g_ptr_array_index (config->mounts, 0);
  mount->destination[1] = 'X';
  mount->options[0][0] = 'X';
  g_ptr_array_set_size (config->mounts, 0);
  config->depends_on[0][0] = 'X';
  g_clear_pointer (&config, ctrd_container_config_free);

  copy_json = ctrd_container_config_to_json (copy);
  g_assert_cmpstr (copy_json, ==, json);

  /* an empty config copies to an empty config */
  {
    g_autoptr (CtrdContainerConfig) empty = ctrd_container_config_new ();
    g_autoptr (CtrdContainerConfig) empty_copy = ctrd_container_config_copy (empty);

    assert_configs_equal (empty, empty_copy);
  }
}

/* ---------------------------------------------------------------- creation rules */

/* An image config as an OCI config blob says it; NULL members are left out. */
static CtrdImageConfig *
image_config (const char *entrypoint, const char *cmd, const char *env, const char *working_dir,
              const char *user, const char *stop_signal, const char *volumes)
{
  g_autoptr (GString) json = g_string_new ("{\"config\": {\"Labels\": {\"from\": \"image\"}");

  if (entrypoint != NULL)
    g_string_append_printf (json, ", \"Entrypoint\": %s", entrypoint);
  if (cmd != NULL)
    g_string_append_printf (json, ", \"Cmd\": %s", cmd);
  if (env != NULL)
    g_string_append_printf (json, ", \"Env\": %s", env);
  if (working_dir != NULL)
    g_string_append_printf (json, ", \"WorkingDir\": \"%s\"", working_dir);
  if (user != NULL)
    g_string_append_printf (json, ", \"User\": \"%s\"", user);
  if (stop_signal != NULL)
    g_string_append_printf (json, ", \"StopSignal\": \"%s\"", stop_signal);
  if (volumes != NULL)
    g_string_append_printf (json, ", \"Volumes\": %s", volumes);
  g_string_append (json, "}}");
  return ctrd_image_config_parse (json->str);
}

static CtrdCreateRequest
request_for (const char *name)
{
  CtrdCreateRequest request = { .name = name, .image_id = TEST_IMAGE_ID, .image_name = "img:1" };

  return request;
}

/* A request with nothing but a name takes everything else from the image,
 * or the documented defaults. */
static void
test_create_defaults (void)
{
  g_autoptr (CtrdImageConfig) image =
      image_config ("[\"/entry\"]", "[\"default\", \"arg\"]", "[\"PATH=/bin\"]", "/srv", "1000:100",
                    "SIGQUIT", "{\"/data\": {}}");
  CtrdCreateRequest request = request_for ("web");
  g_autoptr (GError) error = NULL;
  guint64 before = ctrd_now_usec ();
  g_autoptr (CtrdContainerConfig) config =
      ctrd_container_config_new_for_image (&request, image, &error);
  const char *const entrypoint[] = { "/entry", NULL };
  const char *const command[] = { "default", "arg", NULL };
  const char *const env[] = { "PATH=/bin", NULL };
  g_autofree char *short_id = NULL;
  CtrdMount *volume;

  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_true (ctrd_is_full_id (config->id));
  g_assert_cmpstr (config->name, ==, "web");
  g_assert_cmpstr (config->image_id, ==, TEST_IMAGE_ID);
  g_assert_cmpstr (config->image_name, ==, "img:1");
  g_assert_cmpstr (config->previous_image_id, ==, "");
  g_assert_cmpstrv (config->entrypoint, entrypoint);
  g_assert_cmpstrv (config->command, command);
  g_assert_cmpstrv (config->env, env);
  g_assert_cmpstr (config->working_dir, ==, "/srv");
  g_assert_cmpstr (config->user, ==, "1000:100");
  short_id = g_strndup (config->id, 12);
  g_assert_cmpstr (config->hostname, ==, short_id);
  g_assert_cmpint (config->stop_signal, ==, SIGQUIT);
  g_assert_cmpuint (config->stop_timeout, ==, 10);
  /* the image's labels describe the image, not the container */
  g_assert_cmpuint (g_hash_table_size (config->labels), ==, 0);
  g_assert_cmpuint (config->shm_size, ==, CTRD_DEFAULT_SHM_SIZE);
  g_assert_false (config->read_only_rootfs || config->tty || config->auto_remove);
  g_assert_cmpstrv (config->depends_on, (const char *const[]){ NULL });
  g_assert_cmpstrv (config->dns_servers, (const char *const[]){ NULL });
  g_assert_cmpuint (config->created_at, >=, before);
  g_assert_cmpuint (config->created_at, <=, ctrd_now_usec ());

  /* the image's Volumes become anonymous volumes with new names */
  g_assert_cmpuint (config->mounts->len, ==, 1);
  volume = g_ptr_array_index (config->mounts, 0);
  g_assert_cmpint (volume->type, ==, CTRD_MOUNT_VOLUME);
  g_assert_cmpstr (volume->destination, ==, "/data");
  g_assert_true (volume->anonymous);
  g_assert_true (ctrd_is_full_id (volume->source));
}

typedef struct
{
  const char *what;
  const char *image_entrypoint; /* JSON or NULL */
  const char *image_cmd;
  const char *const *entrypoint; /* the request's */
  const char *const *command;
  const char *const *expected_entrypoint;
  const char *const *expected_command;
  int expected_code; /* -1 = success */
} ArgvCase;

/* docker's and podman's precedence of entrypoint and command. */
static void
test_create_argv_precedence (void)
{
  const char *const none[] = { NULL };
  const char *const image_ep[] = { "/entry", NULL };
  const char *const image_cmd[] = { "default", NULL };
  const char *const new_ep[] = { "/new", NULL };
  const char *const given[] = { "given", "x", NULL };
  const char *const blank[] = { "", NULL };
  const ArgvCase cases[] = {
    { "image defaults", "[\"/entry\"]", "[\"default\"]", NULL, NULL, image_ep, image_cmd, -1 },
    { "an empty command is none", "[\"/entry\"]", "[\"default\"]", NULL, none, image_ep, image_cmd,
      -1 },
    { "a command replaces Cmd", "[\"/entry\"]", "[\"default\"]", NULL, given, image_ep, given, -1 },
    { "an entrypoint drops Cmd", "[\"/entry\"]", "[\"default\"]", new_ep, NULL, new_ep, none, -1 },
    { "entrypoint and command", "[\"/entry\"]", "[\"default\"]", new_ep, given, new_ep, given, -1 },
    { "Cmd alone", NULL, "[\"default\"]", NULL, NULL, none, image_cmd, -1 },
    { "a command alone", NULL, NULL, NULL, given, none, given, -1 },
    { "an empty entrypoint drops both", "[\"/entry\"]", "[\"default\"]", none, NULL, NULL, NULL,
      CTRD_ERROR_INVALID_ARGUMENT },
    { "nothing to run", NULL, NULL, NULL, NULL, NULL, NULL, CTRD_ERROR_INVALID_ARGUMENT },
    { "a blank first element", NULL, "[\"default\"]", NULL, blank, NULL, NULL,
      CTRD_ERROR_INVALID_ARGUMENT },
    { "a blank command after an entrypoint", NULL, NULL, new_ep, blank, new_ep, blank, -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CtrdImageConfig) image = image_config (
          cases[i].image_entrypoint, cases[i].image_cmd, NULL, NULL, NULL, NULL, NULL);
      CtrdCreateRequest request = request_for ("argv");
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdContainerConfig) config = NULL;

      g_test_message ("case: %s", cases[i].what);
      request.entrypoint = cases[i].entrypoint;
      request.command = cases[i].command;
      config = ctrd_container_config_new_for_image (&request, image, &error);
      if (cases[i].expected_code >= 0)
        {
          g_assert_error (error, CTRD_ERROR, cases[i].expected_code);
          g_assert_null (config);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpstrv (config->entrypoint, cases[i].expected_entrypoint);
      g_assert_cmpstrv (config->command, cases[i].expected_command);
    }
}

static void
test_create_argv_limits (void)
{
  g_autoptr (CtrdImageConfig) image = image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, NULL);
  g_autoptr (GPtrArray) long_argv = g_ptr_array_new ();
  CtrdCreateRequest request = request_for ("limits");
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i <= CTRD_MAX_ARGV_ELEMENTS; i++)
    g_ptr_array_add (long_argv, (gpointer) "x");
  g_ptr_array_add (long_argv, NULL);

  request.command = (const char *const *) long_argv->pdata;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);

  request.command = NULL;
  request.entrypoint = (const char *const *) long_argv->pdata;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
}

/* The property budget: counted on everything published, the same for
 * arguments spread over many elements or one; an ordinary container is
 * small enough for 10,000 under the bound of all containers together. */
static void
test_create_property_budget (void)
{
  g_autoptr (CtrdImageConfig) image = image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, NULL);
  g_autofree char *arg = g_strnfill (CTRD_CONTAINER_PROPERTY_BUDGET / 8, 'x');
  const char *argv[] = { "echo", arg, arg, arg, arg, arg, arg, arg, arg, NULL };
  const char *fits[] = { "echo", arg, arg, arg, arg, arg, arg, NULL };
  const char *ordinary[] = { "sleep", "1000", NULL };
  CtrdCreateRequest request = request_for ("budget");
  g_autoptr (GHashTable) labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdContainerConfig) config = NULL;
  gsize size;

  request.command = argv;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "65536"));
  g_clear_error (&error);

  request.command = fits;
  config = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  size = ctrd_container_config_exported_size (config);
  g_assert_cmpuint (size, >, 6 * (CTRD_CONTAINER_PROPERTY_BUDGET / 8));
  g_assert_cmpuint (size, <=, CTRD_CONTAINER_PROPERTY_BUDGET);
  g_clear_pointer (&config, ctrd_container_config_free);

  for (guint i = 0; i < 200; i++)
    g_hash_table_insert (labels, g_strdup_printf ("label-%u", i), g_strnfill (400, 'v'));
  request.command = ordinary;
  request.labels = labels;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);

  request.labels = NULL;
  config = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  size = ctrd_container_config_exported_size (config);
  g_assert_cmpuint (size, <, 2500);
  g_assert_cmpuint (10000 * size, <=, CTRD_EXPORTED_MAX_BYTES);
}

/* The image's env, then the request's: a later KEY= replaces an earlier one
 * where it first stood; the image's malformed entries are dropped. */
static void
test_create_env_merge (void)
{
  g_autoptr (CtrdImageConfig) image =
      image_config (NULL, "[\"sh\"]", "[\"PATH=/bin\", \"A=1\", \"junk\", \"=nameless\", \"B=2\"]",
                    NULL, NULL, NULL, NULL);
  const char *const env[] = { "B=from-request", "C=3", "A=", "C=4", NULL };
  const char *const expected[] = { "PATH=/bin", "A=", "B=from-request", "C=4", NULL };
  const char *const image_only[] = { "PATH=/bin", "A=1", "B=2", NULL };
  const char *const bad[] = { "OK=1", "=value", NULL };
  const char *const secret[] = { "PASSWORD", NULL };
  CtrdCreateRequest request = request_for ("env");
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdContainerConfig) merged = NULL;
  g_autoptr (CtrdContainerConfig) plain = NULL;

  request.env = env;
  merged = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (merged->env, expected);

  request.env = NULL;
  plain = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (plain->env, image_only);

  request.env = bad;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* the message never repeats an entry: it may be a secret */
  request.env = secret;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (strstr (error->message, "PASSWORD"));
}

typedef struct
{
  const char *image_value;   /* the image config's */
  const char *request_value; /* NULL = not given */
  const char *expected;      /* NULL = an error */
} DefaultCase;

/* Working dir, user: the request's is checked, the image's is used only
 * when it is well-formed (the image config is untrusted). */
static void
test_create_working_dir_and_user (void)
{
  const DefaultCase working_dirs[] = {
    { "/srv", NULL, "/srv" },  { "/srv", "", "/srv" },           { "/srv", "/tmp", "/tmp" },
    { "relative", NULL, "/" }, { "/a/../../etc", NULL, "/" },    { "", NULL, "/" },
    { "/srv", "tmp", NULL },   { "/srv", "/a/../../etc", NULL },
  };
  const DefaultCase users[] = {
    { "1000:100", NULL, "1000:100" },
    { "daemon", NULL, "daemon" },
    { "bad user!", NULL, "" },
    { "", NULL, "" },
    { "daemon", "", "" },
    { "daemon", "0:0", "0:0" },
    { "daemon", "bad user!", NULL },
    { "daemon", "-x", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (working_dirs); i++)
    {
      g_autoptr (CtrdImageConfig) image =
          image_config (NULL, "[\"sh\"]", NULL, working_dirs[i].image_value, NULL, NULL, NULL);
      CtrdCreateRequest request = request_for ("wd");
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdContainerConfig) config = NULL;

      g_test_message ("working dir: image %s, request %s", working_dirs[i].image_value,
                      working_dirs[i].request_value);
      request.working_dir = working_dirs[i].request_value;
      config = ctrd_container_config_new_for_image (&request, image, &error);
      if (working_dirs[i].expected == NULL)
        {
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          g_assert_nonnull (strstr (error->message, "WorkingDir"));
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpstr (config->working_dir, ==, working_dirs[i].expected);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autoptr (CtrdImageConfig) image =
          image_config (NULL, "[\"sh\"]", NULL, NULL, users[i].image_value, NULL, NULL);
      CtrdCreateRequest request = request_for ("user");
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdContainerConfig) config = NULL;

      g_test_message ("user: image %s, request %s", users[i].image_value, users[i].request_value);
      request.user = users[i].request_value;
      config = ctrd_container_config_new_for_image (&request, image, &error);
      if (users[i].expected == NULL)
        {
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpstr (config->user, ==, users[i].expected);
    }
}

typedef struct
{
  const char *image_value;
  const char *request_value;
  int expected; /* 0 = an error */
} SignalCase;

static void
test_create_stop_signal_and_timeout (void)
{
  const SignalCase cases[] = {
    { NULL, NULL, SIGTERM },      { "SIGQUIT", NULL, SIGQUIT }, { "SIGQUIT", "", SIGQUIT },
    { "SIGQUIT", "HUP", SIGHUP }, { "9", NULL, SIGKILL },       { "SIGFOO", NULL, SIGTERM },
    { "0", NULL, SIGTERM },       { "SIGQUIT", "SIGFOO", 0 },   { NULL, "0", 0 },
  };
  g_autoptr (CtrdImageConfig) image = image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, NULL);
  CtrdCreateRequest request = request_for ("timeout");
  g_autoptr (CtrdContainerConfig) zero = NULL;
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CtrdImageConfig) signal_image =
          image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, cases[i].image_value, NULL);
      CtrdCreateRequest signal_request = request_for ("signal");
      g_autoptr (GError) signal_error = NULL;
      g_autoptr (CtrdContainerConfig) config = NULL;

      g_test_message ("stop signal: image %s, request %s", cases[i].image_value,
                      cases[i].request_value);
      signal_request.stop_signal = cases[i].request_value;
      config = ctrd_container_config_new_for_image (&signal_request, signal_image, &signal_error);
      if (cases[i].expected == 0)
        {
          g_assert_error (signal_error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          g_assert_true (g_str_has_prefix (signal_error->message, "StopSignal: "));
          continue;
        }
      g_assert_no_error (signal_error);
      g_assert_cmpint (config->stop_signal, ==, cases[i].expected);
    }

  /* a given timeout of 0 is kept: stop kills at once */
  request.has_stop_timeout = TRUE;
  request.stop_timeout = 0;
  zero = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (zero->stop_timeout, ==, 0);
}

static void
test_create_hostname_and_labels (void)
{
  g_autoptr (CtrdImageConfig) image = image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, NULL);
  g_autoptr (GHashTable) labels = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) empty_key = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) too_many = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  CtrdCreateRequest request = request_for ("host");
  g_autoptr (CtrdContainerConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  const char *const bad_hostnames[] = { "bad_host", "-x", "a..b", "trail.", NULL };

  g_hash_table_insert (labels, (gpointer) "app", (gpointer) "web");
  g_hash_table_insert (labels, (gpointer) "note", (gpointer) "");
  g_hash_table_insert (empty_key, (gpointer) "", (gpointer) "v");
  for (guint i = 0; i <= CTRD_MAX_LABELS; i++)
    g_hash_table_insert (too_many, g_strdup_printf ("l%u", i), (gpointer) "v");

  request.hostname = "gen-host";
  request.labels = labels;
  config = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->hostname, ==, "gen-host");
  g_assert_cmpuint (g_hash_table_size (config->labels), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (config->labels, "app"), ==, "web");
  g_assert_cmpstr (g_hash_table_lookup (config->labels, "note"), ==, "");

  for (gsize i = 0; bad_hostnames[i] != NULL; i++)
    {
      g_autoptr (GError) bad_error = NULL;

      request.hostname = bad_hostnames[i];
      g_assert_null (ctrd_container_config_new_for_image (&request, image, &bad_error));
      g_assert_error (bad_error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
    }
  request.hostname = NULL;

  request.labels = empty_key;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  request.labels = too_many;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
}

/* Mounts are checked and normalised; a volume without a name becomes an
 * anonymous one; the image's Volumes fill in what is not mounted yet. */
static void
test_create_mounts (void)
{
  g_autoptr (CtrdImageConfig) image =
      image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, "{\"/data\": {}, \"/cache\": {}}");
  g_autoptr (CtrdImageConfig) bad_image =
      image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, "{\"/../../etc\": {}}");
  g_autofree char *source = g_dir_make_tmp ("ctrd-config-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (source, "missing", NULL);
  g_autoptr (CtrdMount) bind = ctrd_mount_new (CTRD_MOUNT_BIND, source, "/srv//", TRUE, NULL);
  g_autoptr (CtrdMount) unnamed = ctrd_mount_new (CTRD_MOUNT_VOLUME, NULL, "/data", FALSE, NULL);
  g_autoptr (CtrdMount) named = ctrd_mount_new (CTRD_MOUNT_VOLUME, "web", "/logs", FALSE, NULL);
  g_autoptr (CtrdMount) gone = ctrd_mount_new (CTRD_MOUNT_BIND, missing, "/x", FALSE, NULL);
  g_autoptr (CtrdMount) inside = ctrd_mount_new (CTRD_MOUNT_BIND, source, "/y", FALSE, NULL);
  const CtrdMount *mounts[] = { bind, unnamed, named };
  const CtrdMount *missing_source[] = { gone };
  const CtrdMount *protected_source[] = { inside };
  const char *protected_dirs[] = { source, NULL };
  CtrdCreateRequest request = request_for ("mounts");
  g_autoptr (CtrdContainerConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  const CtrdMount *m;

  g_assert_nonnull (source);
  request.mounts = mounts;
  request.n_mounts = G_N_ELEMENTS (mounts);
  config = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->mounts->len, ==, 4);
  m = g_ptr_array_index (config->mounts, 0);
  g_assert_cmpint (m->type, ==, CTRD_MOUNT_BIND);
  g_assert_cmpstr (m->destination, ==, "/srv");
  g_assert_true (m->read_only && !m->anonymous);
  m = g_ptr_array_index (config->mounts, 1);
  g_assert_cmpstr (m->destination, ==, "/data");
  g_assert_true (m->anonymous);
  g_assert_true (ctrd_is_full_id (m->source));
  m = g_ptr_array_index (config->mounts, 2);
  g_assert_cmpstr (m->source, ==, "web");
  g_assert_false (m->anonymous);
  /* /data is mounted already: only /cache comes from the image */
  m = g_ptr_array_index (config->mounts, 3);
  g_assert_cmpstr (m->destination, ==, "/cache");
  g_assert_true (m->anonymous);
  /* the request is not changed */
  g_assert_cmpstr (unnamed->source, ==, "");
  g_assert_cmpstr (bind->destination, ==, "/srv//");

  /* the creation rules never look at the host: a missing source is for
   * ctrd_bind_source_open to find, once the caller is authorized; outside
   * AllowedBindSources it needs host access */
  request.mounts = missing_source;
  request.n_mounts = 1;
  {
    g_autoptr (CtrdContainerConfig) unchecked =
        ctrd_container_config_new_for_image (&request, image, &error);
    const char *const allowed[] = { source, NULL };
    g_auto (GStrv) reasons = NULL;
    g_auto (GStrv) none = NULL;

    g_assert_no_error (error);
    reasons = ctrd_container_config_host_access_reasons (unchecked, NULL);
    g_assert_cmpuint (g_strv_length (reasons), ==, 1);
    g_assert_nonnull (strstr (reasons[0], "not in AllowedBindSources"));
    none = ctrd_container_config_host_access_reasons (unchecked, allowed);
    g_assert_cmpuint (g_strv_length (none), ==, 0);
  }

  request.mounts = protected_source;
  request.protected_dirs = protected_dirs;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* an image volume that climbs out is an error, never a host path */
  request.mounts = NULL;
  request.n_mounts = 0;
  g_assert_null (ctrd_container_config_new_for_image (&request, bad_image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);

  g_assert_cmpint (g_rmdir (source), ==, 0);
}

static void
test_create_lists_and_sizes (void)
{
  g_autoptr (CtrdImageConfig) image = image_config (NULL, "[\"sh\"]", NULL, NULL, NULL, NULL, NULL);
  const char *const servers[] = { "192.0.2.53", "2001:db8::53", NULL };
  const char *const search[] = { "example.com", NULL };
  const char *const options[] = { "ndots:2", NULL };
  const char *const hosts[] = { "db:192.0.2.2", NULL };
  const char *const depends_on[] = { TEST_ID, NULL };
  const char *const bad_server[] = { "not-an-ip", NULL };
  const char *const bad_option[] = { "ndots:x", NULL };
  g_autoptr (GPtrArray) many = g_ptr_array_new ();
  CtrdCreateRequest request = request_for ("lists");
  g_autoptr (CtrdContainerConfig) config = NULL;
  g_autoptr (GError) error = NULL;

  request.dns_servers = servers;
  request.dns_search = search;
  request.dns_options = options;
  request.add_hosts = hosts;
  request.depends_on = depends_on;
  request.shm_size = 4096;
  request.read_only_rootfs = request.tty = request.auto_remove = TRUE;
  config = ctrd_container_config_new_for_image (&request, image, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (config->dns_servers, servers);
  g_assert_cmpstrv (config->dns_search, search);
  g_assert_cmpstrv (config->dns_options, options);
  g_assert_cmpstrv (config->add_hosts, hosts);
  g_assert_cmpstrv (config->depends_on, depends_on);
  g_assert_cmpuint (config->shm_size, ==, 4096);
  g_assert_true (config->read_only_rootfs && config->tty && config->auto_remove);

  request.dns_servers = bad_server;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "DnsServers: "));
  g_clear_error (&error);
  request.dns_servers = servers;

  request.dns_options = bad_option;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  request.dns_options = options;

  for (guint i = 0; i <= CTRD_MAX_DNS_ENTRIES; i++)
    g_ptr_array_add (many, (gpointer) "example.com");
  g_ptr_array_add (many, NULL);
  request.dns_search = (const char *const *) many->pdata;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  request.dns_search = search;

  request.shm_size = 4095;
  g_assert_null (ctrd_container_config_new_for_image (&request, image, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/container-config/states", test_states);
  g_test_add_func ("/container-config/new-defaults", test_new_defaults);
  g_test_add_func ("/container-config/argv", test_argv);
  g_test_add_func ("/container-config/copy", test_copy);
  g_test_add_func ("/container-config/create/defaults", test_create_defaults);
  g_test_add_func ("/container-config/create/argv-precedence", test_create_argv_precedence);
  g_test_add_func ("/container-config/create/argv-limits", test_create_argv_limits);
  g_test_add_func ("/container-config/create/env-merge", test_create_env_merge);
  g_test_add_func ("/container-config/create/working-dir-and-user",
                   test_create_working_dir_and_user);
  g_test_add_func ("/container-config/create/stop-signal-and-timeout",
                   test_create_stop_signal_and_timeout);
  g_test_add_func ("/container-config/create/hostname-and-labels", test_create_hostname_and_labels);
  g_test_add_func ("/container-config/create/mounts", test_create_mounts);
  g_test_add_func ("/container-config/create/lists-and-sizes", test_create_lists_and_sizes);
  g_test_add_func ("/container-config/json/round-trip", test_round_trip);
  g_test_add_func ("/container-config/json/defaults", test_missing_optional_fields);
  g_test_add_func ("/container-config/json/wrong-types", test_wrong_types);
  g_test_add_func ("/container-config/create/property-budget", test_create_property_budget);
  g_test_add_func ("/container-config/json/bad-json", test_bad_json);
  g_test_add_func ("/container-config/json/unknown-fields", test_unknown_fields_ignored);

  return g_test_run ();
}
