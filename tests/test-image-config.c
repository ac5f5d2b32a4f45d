/* test-image-config.c: the OCI image config: parsed as defaults (untrusted
 * input), and the configs the daemon writes for root filesystem imports,
 * commits and exports. Pure functions: no fixture, no bus. */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>

#include "ctrd-image-config.h"

#define RUNTIME_CONFIG                                                                             \
  "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/bin\",\"A=1\"],"    \
  "\"WorkingDir\":\"/etc\",\"User\":\"1000:1000\",\"StopSignal\":\"SIGUSR1\","                     \
  "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}},\"Volumes\":{\"/data\":{}},"                   \
  "\"Labels\":{\"org.example.test\":\"yes\",\"n\":3}}"

#define DIFF_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIFF_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static JsonObject *
parse_object (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

/* The strings of the JSON array @member of @object, NULL-terminated. */
static char **
string_array (JsonObject *object, const char *member)
{
  JsonArray *array = ctrd_json_member_array (object, member);
  GPtrArray *out = g_ptr_array_new ();

  g_assert_nonnull (array);
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (out, g_strdup (json_array_get_string_element (array, i)));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static const char *
host_machine_as_oci (void)
{
  static struct utsname uts;

  g_assert_no_errno (uname (&uts));
  if (strcmp (uts.machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (uts.machine, "aarch64") == 0)
    return "arm64";
  return uts.machine;
}

static void
test_config_parse (void)
{
  g_autoptr (CtrdImageConfig) config = ctrd_image_config_parse (
      "{\"created\":\"2024-01-02T03:04:05Z\",\"config\":" RUNTIME_CONFIG "}");
  g_autoptr (CtrdImageConfig) empty = ctrd_image_config_parse (NULL);
  g_autoptr (CtrdImageConfig) wrong =
      ctrd_image_config_parse ("{\"created\":5,\"config\":{\"Cmd\":\"ls\",\"Env\":[\"A=1\",7],"
                               "\"User\":[],\"Volumes\":[\"/x\"]}}");
  g_autoptr (CtrdImageConfig) garbage = ctrd_image_config_parse ("[1,2");
  const char *const ports[] = { "53/udp", "8080/tcp", NULL };

  g_assert_cmpstrv (config->entrypoint, ((const char *const[]){ "/bin/sh", "-c", NULL }));
  g_assert_cmpstrv (config->cmd, ((const char *const[]){ "echo hi", NULL }));
  g_assert_cmpstrv (config->env, ((const char *const[]){ "PATH=/bin", "A=1", NULL }));
  g_assert_cmpstr (config->working_dir, ==, "/etc");
  g_assert_cmpstr (config->user, ==, "1000:1000");
  g_assert_cmpstr (config->stop_signal, ==, "SIGUSR1");
  g_assert_cmpstrv (config->exposed_ports, ports);
  g_assert_cmpstrv (config->volumes, ((const char *const[]){ "/data", NULL }));
  /* A label that is not a string is left out. */
  g_assert_cmpuint (g_hash_table_size (config->labels), ==, 1);
  g_assert_cmpstr (g_hash_table_lookup (config->labels, "org.example.test"), ==, "yes");
  g_assert_cmpuint (config->created, ==, G_GUINT64_CONSTANT (1704164645000000));

  for (guint i = 0; i < 2; i++)
    {
      CtrdImageConfig *c = i == 0 ? empty : garbage;
      g_assert_cmpuint (g_strv_length (c->entrypoint) + g_strv_length (c->cmd) +
                            g_strv_length (c->env) + g_strv_length (c->volumes),
                        ==, 0);
      g_assert_cmpstr (c->working_dir, ==, "");
      g_assert_cmpuint (c->created, ==, 0);
    }
  g_assert_cmpuint (g_strv_length (wrong->cmd), ==, 0);
  g_assert_cmpstrv (wrong->env, ((const char *const[]){ "A=1", NULL }));
  g_assert_cmpstr (wrong->user, ==, "");
  g_assert_cmpuint (g_strv_length (wrong->volumes), ==, 0);
  g_assert_cmpuint (wrong->created, ==, 0);
}

static void
test_created (void)
{
  g_autofree char *text = ctrd_image_config_format_created (G_GUINT64_CONSTANT (1704164645000042));
  g_autofree char *epoch = ctrd_image_config_format_created (0);

  g_assert_cmpstr (text, ==, "2024-01-02T03:04:05.000042Z");
  g_assert_cmpstr (epoch, ==, "1970-01-01T00:00:00.000000Z");
  g_assert_cmpuint (ctrd_image_config_parse_created (text), ==,
                    G_GUINT64_CONSTANT (1704164645000042));
  /* Other zones and no fraction, as other tools write it. */
  g_assert_cmpuint (ctrd_image_config_parse_created ("2024-01-02T04:04:05+01:00"), ==,
                    G_GUINT64_CONSTANT (1704164645000000));
  g_assert_cmpuint (ctrd_image_config_parse_created (NULL), ==, 0);
  g_assert_cmpuint (ctrd_image_config_parse_created ("yesterday"), ==, 0);
  g_assert_cmpuint (ctrd_image_config_parse_created ("1960-01-01T00:00:00Z"), ==, 0);
}

static void
test_architecture (void)
{
  g_autofree char *arch = ctrd_image_config_oci_architecture ();

  g_assert_cmpstr (arch, ==, host_machine_as_oci ());
}

/* A root filesystem tar brings no config: the defaults. */
static void
test_defaults_for_rootfs (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text =
      ctrd_image_config_new_for_rootfs (G_GUINT64_CONSTANT (1704164645000000), DIFF_A);
  g_autoptr (CtrdImageConfig) parsed = ctrd_image_config_parse (text);
  g_auto (GStrv) diff_ids = NULL;
  JsonObject *root = parse_object (parser, text);
  JsonObject *config = ctrd_json_member_object (root, "config");

  g_assert_cmpstr (ctrd_json_member_string (root, "os"), ==, "linux");
  g_assert_cmpstr (ctrd_json_member_string (root, "architecture"), ==, host_machine_as_oci ());
  g_assert_cmpstr (ctrd_json_member_string (root, "created"), ==, "2024-01-02T03:04:05.000000Z");
  g_assert_nonnull (config);
  g_assert_false (json_object_has_member (config, "Cmd"));
  g_assert_false (json_object_has_member (config, "Entrypoint"));
  g_assert_cmpstr (ctrd_json_member_string (ctrd_json_member_object (root, "rootfs"), "type"), ==,
                   "layers");
  diff_ids = string_array (ctrd_json_member_object (root, "rootfs"), "diff_ids");
  g_assert_cmpstrv (diff_ids, ((const char *const[]){ DIFF_A, NULL }));

  /* Read back as defaults: only the PATH, nothing to run. */
  g_assert_cmpstrv (parsed->env,
                    ((const char *const[]){ CTRD_IMAGE_CONFIG_DEFAULT_PATH_ENV, NULL }));
  g_assert_cmpuint (g_strv_length (parsed->cmd) + g_strv_length (parsed->entrypoint), ==, 0);
  g_assert_cmpstr (parsed->user, ==, "");
  g_assert_cmpstr (parsed->working_dir, ==, "");
  g_assert_cmpuint (parsed->created, ==, G_GUINT64_CONSTANT (1704164645000000));
  g_assert_true (g_str_has_prefix (CTRD_IMAGE_CONFIG_DEFAULT_PATH_ENV, "PATH=/usr/local/sbin:"));
}

static void
test_commit_config (void)
{
  g_autoptr (GHashTable) labels = g_hash_table_new (g_str_hash, g_str_equal);
  const char *const cmd[] = { "/bin/true", NULL };
  const char *const env[] = { "X=1", NULL };
  CtrdImageConfigChanges changes = {
    .command = cmd,
    .env = env,
    .labels = labels,
    .author = "me",
    .comment = "why",
  };
  g_autofree char *base = g_strdup_printf (
      "{\"created\":\"2020-01-01T00:00:00Z\",\"os\":\"linux\",\"config\":" RUNTIME_CONFIG
      ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
      "\"history\":[{\"created_by\":\"base\"}]}",
      DIFF_A);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  g_autoptr (CtrdImageConfig) parsed = NULL;
  g_auto (GStrv) diff_ids = NULL;
  JsonObject *root;
  JsonArray *history;
  JsonObject *last;

  g_hash_table_insert (labels, "k", "v");
  text = ctrd_image_config_for_commit (base, &changes, DIFF_B,
                                       G_GUINT64_CONSTANT (1704164645000000), &error);
  g_assert_no_error (error);
  root = parse_object (parser, text);
  parsed = ctrd_image_config_parse (text);

  /* The changes replace, the rest of the base stays. */
  g_assert_cmpstrv (parsed->cmd, cmd);
  g_assert_cmpstrv (parsed->env, env);
  g_assert_cmpstrv (parsed->entrypoint, ((const char *const[]){ "/bin/sh", "-c", NULL }));
  g_assert_cmpstr (parsed->working_dir, ==, "/etc");
  g_assert_cmpuint (g_hash_table_size (parsed->labels), ==, 1);
  g_assert_cmpstr (g_hash_table_lookup (parsed->labels, "k"), ==, "v");
  g_assert_cmpstr (ctrd_json_member_string (root, "author"), ==, "me");
  g_assert_cmpstr (ctrd_json_member_string (root, "created"), ==, "2024-01-02T03:04:05.000000Z");
  diff_ids = string_array (ctrd_json_member_object (root, "rootfs"), "diff_ids");
  g_assert_cmpstrv (diff_ids, ((const char *const[]){ DIFF_A, DIFF_B, NULL }));
  history = ctrd_json_member_array (root, "history");
  g_assert_cmpuint (json_array_get_length (history), ==, 2);
  last = json_array_get_object_element (history, 1);
  g_assert_cmpstr (ctrd_json_member_string (last, "created_by"), ==, "containersd commit");
  g_assert_cmpstr (ctrd_json_member_string (last, "comment"), ==, "why");
  g_assert_cmpstr (ctrd_json_member_string (last, "created"), ==, "2024-01-02T03:04:05.000000Z");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&diff_ids, g_strfreev);
  g_clear_pointer (&parsed, ctrd_image_config_free);

  /* No changes keep the base's settings; no usable base starts from the defaults. */
  text = ctrd_image_config_for_commit (base, NULL, DIFF_B, 1, &error);
  g_assert_no_error (error);
  parsed = ctrd_image_config_parse (text);
  g_assert_cmpstrv (parsed->cmd, ((const char *const[]){ "echo hi", NULL }));
  g_assert_null (strstr (text, "\"author\""));
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&parsed, ctrd_image_config_free);
  for (guint i = 0; i < 3; i++)
    {
      const char *bad[] = { NULL, "[1]", "{oops" };

      text = ctrd_image_config_for_commit (bad[i], NULL, DIFF_B, 1, &error);
      g_assert_no_error (error);
      parsed = ctrd_image_config_parse (text);
      g_assert_cmpstrv (parsed->env,
                        ((const char *const[]){ CTRD_IMAGE_CONFIG_DEFAULT_PATH_ENV, NULL }));
      g_assert_nonnull (strstr (text, "\"containersd commit\""));
      g_clear_pointer (&text, g_free);
      g_clear_pointer (&parsed, ctrd_image_config_free);
    }
}

static void
test_export_config (void)
{
  g_autofree char *base = g_strdup_printf (
      "{\"created\":\"2020-01-01T00:00:00Z\",\"architecture\":\"s390x\",\"config\":" RUNTIME_CONFIG
      ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
      "\"history\":[{\"created_by\":\"one\"},{\"created_by\":\"two\"}]}",
      DIFF_A, DIFF_A);
  g_autofree char *text = ctrd_image_config_for_export (base, DIFF_B);
  g_autofree char *empty_text = ctrd_image_config_for_export ("not json", DIFF_B);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonParser) empty_parser = json_parser_new ();
  g_autoptr (CtrdImageConfig) parsed = ctrd_image_config_parse (text);
  g_auto (GStrv) diff_ids = NULL;
  JsonObject *root = parse_object (parser, text);
  JsonObject *empty = parse_object (empty_parser, empty_text);
  JsonArray *history = ctrd_json_member_array (root, "history");

  /* One flattened layer, one history entry; settings and architecture kept. */
  diff_ids = string_array (ctrd_json_member_object (root, "rootfs"), "diff_ids");
  g_assert_cmpstrv (diff_ids, ((const char *const[]){ DIFF_B, NULL }));
  g_assert_cmpuint (json_array_get_length (history), ==, 1);
  g_assert_cmpstr (ctrd_json_member_string (json_array_get_object_element (history, 0), "created"),
                   ==, "2020-01-01T00:00:00Z");
  g_assert_cmpstr (ctrd_json_member_string (root, "architecture"), ==, "s390x");
  g_assert_cmpstr (ctrd_json_member_string (root, "os"), ==, "linux");
  g_assert_cmpstrv (parsed->cmd, ((const char *const[]){ "echo hi", NULL }));

  /* Nothing usable: os and this host's architecture, no created. */
  g_assert_cmpstr (ctrd_json_member_string (empty, "os"), ==, "linux");
  g_assert_cmpstr (ctrd_json_member_string (empty, "architecture"), ==, host_machine_as_oci ());
  g_assert_false (json_object_has_member (empty, "created"));
}

static void
test_json_members (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = parse_object (parser, "{\"s\":\"x\",\"n\":1,\"o\":{},\"a\":[],\"z\":null}");

  g_assert_cmpstr (ctrd_json_member_string (root, "s"), ==, "x");
  g_assert_null (ctrd_json_member_string (root, "n"));
  g_assert_null (ctrd_json_member_string (root, "z"));
  g_assert_null (ctrd_json_member_string (root, "missing"));
  g_assert_null (ctrd_json_member_string (NULL, "s"));
  g_assert_nonnull (ctrd_json_member_object (root, "o"));
  g_assert_null (ctrd_json_member_object (root, "a"));
  g_assert_nonnull (ctrd_json_member_array (root, "a"));
  g_assert_null (ctrd_json_member_array (root, "o"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image-config/parse", test_config_parse);
  g_test_add_func ("/image-config/created", test_created);
  g_test_add_func ("/image-config/architecture", test_architecture);
  g_test_add_func ("/image-config/defaults-for-rootfs", test_defaults_for_rootfs);
  g_test_add_func ("/image-config/commit", test_commit_config);
  g_test_add_func ("/image-config/export", test_export_config);
  g_test_add_func ("/image-config/json-members", test_json_members);
  return g_test_run ();
}
