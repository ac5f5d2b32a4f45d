/* Unit tests for ctrd-container-config: states, argv, JSON round trip. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "ctrd-container-config.h"
#include "ctrd-error.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/container-config/states", test_states);
  g_test_add_func ("/container-config/new-defaults", test_new_defaults);
  g_test_add_func ("/container-config/argv", test_argv);
  g_test_add_func ("/container-config/json/round-trip", test_round_trip);
  g_test_add_func ("/container-config/json/defaults", test_missing_optional_fields);
  g_test_add_func ("/container-config/json/wrong-types", test_wrong_types);
  g_test_add_func ("/container-config/json/bad-json", test_bad_json);
  g_test_add_func ("/container-config/json/unknown-fields", test_unknown_fields_ignored);

  return g_test_run ();
}
