/* Unit tests for ctrd-hooks: hooks.d loading, matching, spec JSON, and the
 * poststop runner with scripts that leave marker files. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-hooks.h"
#include "ctrd-test-util.h"

#define TEST_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  char *tmpdir;
  char *usr_dir; /* stands for /usr/share/containers/oci/hooks.d */
  char *etc_dir; /* stands for /etc/containers/oci/hooks.d */
  char *bin_dir; /* hook programs */
  char *markers; /* what the hooks leave */
  const char *dirs[3];
} Fixture;

static void
write_hook_file (const char *dir, const char *name, const char *json)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  ctrd_test_write_file (path, json, 0644);
}

/* A script that saves its stdin, argv and environment as markers/NAME*. */
static char *
make_marker_script (Fixture *fx, const char *name, const char *extra)
{
  g_autofree char *path = g_build_filename (fx->bin_dir, name, NULL);
  g_autofree char *marker = g_build_filename (fx->markers, name, NULL);
  g_autofree char *script =
      g_strdup_printf ("#!/bin/sh\ncat > '%s.stdin'\necho \"$*\" > '%s.args'\n"
                       "env > '%s.env'\necho %s >> '%s/order'\n%s\n",
                       marker, marker, marker, name, fx->markers, extra != NULL ? extra : "");
  ctrd_test_write_file (path, script, 0755);
  return g_steal_pointer (&path);
}

static char *
read_marker (Fixture *fx, const char *name)
{
  g_autofree char *path = g_build_filename (fx->markers, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = ctrd_test_make_tmpdir ("test-hooks-XXXXXX");
  fx->usr_dir = g_build_filename (fx->tmpdir, "usr-hooks.d", NULL);
  fx->etc_dir = g_build_filename (fx->tmpdir, "etc-hooks.d", NULL);
  fx->bin_dir = g_build_filename (fx->tmpdir, "bin", NULL);
  fx->markers = g_build_filename (fx->tmpdir, "markers", NULL);
  g_assert_cmpint (g_mkdir (fx->usr_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (fx->etc_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (fx->bin_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (fx->markers, 0755), ==, 0);
  fx->dirs[0] = fx->usr_dir;
  fx->dirs[1] = fx->etc_dir;
  fx->dirs[2] = NULL;
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->markers);
  g_free (fx->bin_dir);
  g_free (fx->etc_dir);
  g_free (fx->usr_dir);
  g_free (fx->tmpdir);
}

static char *
hook_json (const char *path, const char *when, const char *stages, const char *extra)
{
  return g_strdup_printf ("{\"version\": \"1.0.0\", \"hook\": {\"path\": \"%s\"%s}, "
                          "\"when\": %s, \"stages\": %s}",
                          path, extra != NULL ? extra : "", when, stages);
}

/* The path of each hook of @stage, joined by spaces (basenames). */
static char *
stage_summary (const CtrdHookSet *set, CtrdHookStage stage)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < set->stages[stage]->len; i++)
    {
      const CtrdHook *hook = g_ptr_array_index (set->stages[stage], i);
      g_autofree char *base = g_path_get_basename (hook->path);

      g_string_append_printf (out, "%s%s", i > 0 ? " " : "", base);
    }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------ loading */

static void
test_load_skips_invalid (Fixture *fx, gconstpointer data)
{
  g_autofree char *good = make_marker_script (fx, "good", NULL);
  g_autofree char *valid = hook_json (good, "{\"always\": true}", "[\"prestart\"]", NULL);
  g_autofree char *bad_version = g_strdup_printf (
      "{\"version\": \"2.0.0\", \"hook\": {\"path\": \"%s\"}, \"when\": {\"always\": true}, "
      "\"stages\": [\"prestart\"]}",
      good);
  g_autofree char *relative = hook_json ("bin/good", "{\"always\": true}", "[\"prestart\"]", NULL);
  g_autofree char *missing_path =
      hook_json ("/nonexistent/hook", "{\"always\": true}", "[\"prestart\"]", NULL);
  g_autofree char *bad_stage = hook_json (good, "{\"always\": true}", "[\"prestop\"]", NULL);
  g_autofree char *bad_regex =
      hook_json (good, "{\"commands\": [\"(unclosed\"]}", "[\"prestart\"]", NULL);
  g_autofree char *bad_timeout =
      hook_json (good, "{\"always\": true}", "[\"prestart\"]", ", \"timeout\": 0");
  g_autofree char *no_stages = g_strdup_printf (
      "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"%s\"}, \"when\": {\"always\": true}}", good);
  g_autofree char *no_when = g_strdup_printf (
      "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"%s\"}, \"stages\": [\"prestart\"]}", good);
  g_autoptr (CtrdHooks) hooks = NULL;

  write_hook_file (fx->usr_dir, "00-valid.json", valid);
  write_hook_file (fx->usr_dir, "01-not-json.json", "{ this is not json");
  write_hook_file (fx->usr_dir, "02-version.json", bad_version);
  write_hook_file (fx->usr_dir, "03-relative.json", relative);
  write_hook_file (fx->usr_dir, "04-missing.json", missing_path);
  write_hook_file (fx->usr_dir, "05-stage.json", bad_stage);
  write_hook_file (fx->usr_dir, "06-regex.json", bad_regex);
  write_hook_file (fx->usr_dir, "07-timeout.json", bad_timeout);
  write_hook_file (fx->usr_dir, "08-no-stages.json", no_stages);
  write_hook_file (fx->usr_dir, "09-no-when.json", no_when);
  write_hook_file (fx->usr_dir, "10-array.json", "[1, 2]");
  /* not *.json: not a hook file at all, no warning */
  write_hook_file (fx->usr_dir, "valid.json.disabled", valid);

  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*01-not-json.json skipped*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*02-version.json skipped*version*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*03-relative.json skipped*absolute*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*04-missing.json skipped*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*05-stage.json skipped*prestop*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*06-regex.json skipped*compile*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*07-timeout.json skipped*timeout*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*08-no-stages.json skipped*stages*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*09-no-when.json skipped*when*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*10-array.json skipped*");
  hooks = ctrd_hooks_load (fx->dirs);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (ctrd_hooks_get_n_loaded (hooks), ==, 1);
}

static void
test_load_override_order (Fixture *fx, gconstpointer data)
{
  g_autofree char *first = make_marker_script (fx, "first", NULL);
  g_autofree char *second = make_marker_script (fx, "second", NULL);
  g_autofree char *third = make_marker_script (fx, "third", NULL);
  g_autofree char *usr_b = hook_json (first, "{\"always\": true}", "[\"prestart\"]", NULL);
  g_autofree char *etc_b = hook_json (second, "{\"always\": true}", "[\"prestart\"]", NULL);
  g_autofree char *usr_a =
      hook_json (third, "{\"always\": true}", "[\"prestart\", \"poststop\"]", NULL);
  g_autofree char *usr_c = hook_json (first, "{\"always\": true}", "[\"poststop\"]", NULL);
  const char *missing_dirs[] = { "/nonexistent-hooks-dir", fx->usr_dir, fx->etc_dir, NULL };
  const char *const argv[] = { "/bin/sh", NULL };
  CtrdHookContext context = { NULL, argv, FALSE };
  g_autoptr (CtrdHooks) hooks = NULL;
  g_autoptr (CtrdHookSet) set = NULL;
  g_autofree char *prestart = NULL;
  g_autofree char *poststop = NULL;

  write_hook_file (fx->usr_dir, "b.json", usr_b);
  write_hook_file (fx->etc_dir, "b.json", etc_b); /* replaces usr's b.json */
  write_hook_file (fx->usr_dir, "a.json", usr_a);
  write_hook_file (fx->usr_dir, "c.json", usr_c);
  write_hook_file (fx->etc_dir, "c.json", "broken"); /* invalid: usr's c.json stays */

  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*c.json skipped*");
  hooks = ctrd_hooks_load (missing_dirs);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (ctrd_hooks_get_n_loaded (hooks), ==, 3);

  set = ctrd_hooks_match (hooks, &context);
  prestart = stage_summary (set, CTRD_HOOK_PRESTART);
  poststop = stage_summary (set, CTRD_HOOK_POSTSTOP);
  /* lexical order of the file names: a.json, b.json, c.json */
  g_assert_cmpstr (prestart, ==, "third second");
  g_assert_cmpstr (poststop, ==, "third first");
  g_assert_cmpuint (set->stages[CTRD_HOOK_POSTSTART]->len, ==, 0);
}

/* ------------------------------------------------------------ matching */

typedef struct
{
  const char *when;
  gboolean matches_plain;   /* argv /bin/sh, no bind mounts, label app=web */
  gboolean matches_special; /* argv /usr/bin/nginx, bind mounts, annotation gpu=yes */
} MatchCase;

static void
test_match_conditions (Fixture *fx, gconstpointer data)
{
  static const MatchCase cases[] = {
    { "{\"always\": true}", TRUE, TRUE },
    { "{\"always\": false}", FALSE, FALSE },
    { "{}", FALSE, FALSE },
    { "{\"hasBindMounts\": true}", FALSE, TRUE },
    { "{\"hasBindMounts\": false}", FALSE, FALSE },
    { "{\"commands\": [\"nginx$\"]}", FALSE, TRUE },
    { "{\"commands\": [\"^/bin/\", \"nginx\"]}", TRUE, TRUE },
    { "{\"annotations\": {\"^gpu$\": \"^yes$\"}}", FALSE, TRUE },
    { "{\"annotations\": {\"^app$\": \"^w\"}}", TRUE, FALSE },
    { "{\"annotations\": {\"gpu\": \"no\"}}", FALSE, FALSE },
    /* all conditions must hold ... */
    { "{\"always\": true, \"hasBindMounts\": true}", FALSE, TRUE },
    { "{\"hasBindMounts\": true, \"annotations\": {\"app\": \"web\"}}", FALSE, FALSE },
    /* ... unless "or" */
    { "{\"or\": true, \"hasBindMounts\": true, \"annotations\": {\"app\": \"web\"}}", TRUE, TRUE },
    { "{\"or\": true, \"always\": false, \"hasBindMounts\": true}", FALSE, TRUE },
  };
  const char *const plain_argv[] = { "/bin/sh", "-c", "nginx", NULL };
  const char *const special_argv[] = { "/usr/bin/nginx", NULL };
  g_autoptr (GHashTable) plain_annotations = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) special_annotations = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *program = make_marker_script (fx, "matcher", NULL);
  CtrdHookContext plain = { plain_annotations, plain_argv, FALSE };
  CtrdHookContext special = { special_annotations, special_argv, TRUE };

  g_hash_table_insert (plain_annotations, "app", "web");
  g_hash_table_insert (special_annotations, "gpu", "yes");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = hook_json (program, cases[i].when, "[\"createRuntime\"]", NULL);
      g_autoptr (CtrdHooks) hooks = NULL;
      g_autoptr (CtrdHookSet) plain_set = NULL;
      g_autoptr (CtrdHookSet) special_set = NULL;

      g_test_message ("when %s", cases[i].when);
      write_hook_file (fx->usr_dir, "hook.json", json);
      hooks = ctrd_hooks_load (fx->dirs);
      g_assert_cmpuint (ctrd_hooks_get_n_loaded (hooks), ==, 1);
      plain_set = ctrd_hooks_match (hooks, &plain);
      special_set = ctrd_hooks_match (hooks, &special);
      g_assert_cmpuint (plain_set->stages[CTRD_HOOK_CREATE_RUNTIME]->len, ==,
                        cases[i].matches_plain ? 1 : 0);
      g_assert_cmpuint (special_set->stages[CTRD_HOOK_CREATE_RUNTIME]->len, ==,
                        cases[i].matches_special ? 1 : 0);
      g_assert_true (ctrd_hook_set_is_empty (plain_set) == !cases[i].matches_plain);
    }
}

/* ------------------------------------------------------------ JSON */

static void
test_spec_and_saved_json (Fixture *fx, gconstpointer data)
{
  g_autofree char *program = make_marker_script (fx, "prog", NULL);
  g_autofree char *extra = g_strdup_printf (", \"args\": [\"prog\", \"--flag\"], "
                                            "\"env\": [\"A=1\"], \"timeout\": 5");
  g_autofree char *json = hook_json (program, "{\"always\": true}",
                                     "[\"prestart\", \"createRuntime\", \"startContainer\", "
                                     "\"poststart\", \"poststop\", \"createContainer\"]",
                                     extra);
  g_autofree char *only_poststop =
      hook_json (program, "{\"always\": true}", "[\"poststop\"]", NULL);
  g_autoptr (CtrdHooks) hooks = NULL;
  g_autoptr (CtrdHookSet) set = NULL;
  g_autoptr (CtrdHookSet) restored = NULL;
  g_autoptr (CtrdHookSet) poststop_set = NULL;
  g_autoptr (JsonNode) spec_hooks = NULL;
  g_autoptr (JsonNode) none = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *saved_again = NULL;
  CtrdHookContext context = { NULL, NULL, FALSE };
  JsonObject *object;
  JsonObject *hook;

  write_hook_file (fx->usr_dir, "all.json", json);
  hooks = ctrd_hooks_load (fx->dirs);
  set = ctrd_hooks_match (hooks, &context);

  spec_hooks = ctrd_hook_set_to_spec_json (set);
  object = json_node_get_object (spec_hooks);
  g_assert_true (json_object_has_member (object, "prestart"));
  g_assert_true (json_object_has_member (object, "createRuntime"));
  g_assert_true (json_object_has_member (object, "createContainer"));
  g_assert_true (json_object_has_member (object, "startContainer"));
  g_assert_true (json_object_has_member (object, "poststart"));
  /* poststop is run by containersd after the runtime delete, not by runc */
  g_assert_false (json_object_has_member (object, "poststop"));
  hook = json_array_get_object_element (json_object_get_array_member (object, "createRuntime"), 0);
  g_assert_cmpstr (json_object_get_string_member (hook, "path"), ==, program);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (hook, "args"), 1),
                   ==, "--flag");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (hook, "env"), 0),
                   ==, "A=1");
  g_assert_cmpint (json_object_get_int_member (hook, "timeout"), ==, 5);

  /* saved form: every stage, and back */
  saved = ctrd_hook_set_to_json (set);
  restored = ctrd_hook_set_from_json (saved, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (restored->stages[CTRD_HOOK_POSTSTOP]->len, ==, 1);
  saved_again = ctrd_hook_set_to_json (restored);
  g_assert_cmpstr (saved_again, ==, saved);

  g_assert_null (ctrd_hook_set_from_json ("{\"prestop\": []}", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ctrd_hook_set_from_json ("{\"prestart\": [{\"path\": \"rel\"}]}", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ctrd_hook_set_from_json ("not json", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* nothing but poststop: config.json gets no "hooks" at all */
  write_hook_file (fx->usr_dir, "all.json", only_poststop);
  g_clear_pointer (&hooks, ctrd_hooks_free);
  hooks = ctrd_hooks_load (fx->dirs);
  poststop_set = ctrd_hooks_match (hooks, &context);
  none = ctrd_hook_set_to_spec_json (poststop_set);
  g_assert_null (none);
}

static void
test_state_json (void)
{
  g_autoptr (GHashTable) annotations = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  JsonObject *state;

  g_hash_table_insert (annotations, "org.example.containers1.id", TEST_ID);
  json = ctrd_hooks_state_json (TEST_ID, "/var/lib/containersd/containers/" TEST_ID, annotations);
  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  state = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (state, "ociVersion"), ==, "1.0.2");
  g_assert_cmpstr (json_object_get_string_member (state, "id"), ==, TEST_ID);
  g_assert_cmpstr (json_object_get_string_member (state, "status"), ==, "stopped");
  g_assert_cmpstr (json_object_get_string_member (state, "bundle"), ==,
                   "/var/lib/containersd/containers/" TEST_ID);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (state, "annotations"),
                                     "org.example.containers1.id"),
      ==, TEST_ID);
}

/* ------------------------------------------------------------ poststop */

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} RunResult;

static void
on_poststop_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunResult *run = user_data;

  run->ok = ctrd_hooks_run_poststop_finish (result, &run->error);
  run->done = TRUE;
}

static void
run_poststop (const CtrdHookSet *set, const char *state, GCancellable *cancellable,
              RunResult *result)
{
  ctrd_hooks_run_poststop_async (set, state, cancellable, on_poststop_done, result);
  while (!result->done)
    g_main_context_iteration (NULL, TRUE);
}

static CtrdHookSet *
load_and_match (Fixture *fx)
{
  g_autoptr (CtrdHooks) hooks = ctrd_hooks_load (fx->dirs);
  CtrdHookContext context = { NULL, NULL, FALSE };

  return ctrd_hooks_match (hooks, &context);
}

static void
test_poststop_runs_in_order (Fixture *fx, gconstpointer data)
{
  g_autofree char *one = make_marker_script (fx, "one", NULL);
  g_autofree char *two = make_marker_script (fx, "two", NULL);
  g_autofree char *one_json = hook_json (one, "{\"always\": true}", "[\"poststop\"]",
                                         ", \"args\": [\"one\", \"alpha\", \"beta\"], "
                                         "\"env\": [\"HOOK_VAR=forty-two\"]");
  g_autofree char *two_json =
      hook_json (two, "{\"always\": true}", "[\"poststop\", \"prestart\"]", NULL);
  g_autoptr (CtrdHookSet) set = NULL;
  g_autofree char *state = ctrd_hooks_state_json (TEST_ID, "/bundle", NULL);
  g_autofree char *stdin_one = NULL;
  g_autofree char *stdin_two = NULL;
  g_autofree char *args_one = NULL;
  g_autofree char *env_one = NULL;
  g_autofree char *order = NULL;
  RunResult result = { 0 };

  write_hook_file (fx->usr_dir, "20-two.json", two_json);
  write_hook_file (fx->etc_dir, "10-one.json", one_json);
  set = load_and_match (fx);
  run_poststop (set, state, NULL, &result);
  g_assert_no_error (result.error);
  g_assert_true (result.ok);

  /* each hook reads the whole state, the second one too */
  stdin_one = read_marker (fx, "one.stdin");
  stdin_two = read_marker (fx, "two.stdin");
  g_assert_cmpstr (stdin_one, ==, state);
  g_assert_cmpstr (stdin_two, ==, state);
  args_one = read_marker (fx, "one.args");
  g_assert_cmpstr (args_one, ==, "alpha beta\n");
  env_one = read_marker (fx, "one.env");
  g_assert_nonnull (strstr (env_one, "HOOK_VAR=forty-two\n"));
  order = read_marker (fx, "order");
  /* by file name across both directories: 10-one.json before 20-two.json */
  g_assert_cmpstr (order, ==, "one\ntwo\n");

  /* nothing to run is success at once */
  {
    g_autoptr (CtrdHookSet) empty = ctrd_hook_set_new ();
    RunResult empty_result = { 0 };

    run_poststop (empty, state, NULL, &empty_result);
    g_assert_true (empty_result.ok);
  }
}

static void
test_poststop_argv0 (Fixture *fx, gconstpointer data)
{
  g_autofree char *marker = g_build_filename (fx->markers, "argv0", NULL);
  g_autofree char *extra = NULL;
  g_autofree char *json = NULL;
  g_autoptr (CtrdHookSet) set = NULL;
  g_autofree char *written = NULL;
  RunResult result = { 0 };

  if (!g_file_test ("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("/bin/busybox is needed to see argv[0]");
      return;
    }
  /* busybox picks its applet from argv[0]: "sh" only works if args[0] is passed */
  extra = g_strdup_printf (", \"args\": [\"sh\", \"-c\", \"cat > %s\"]", marker);
  json = hook_json ("/bin/busybox", "{\"always\": true}", "[\"poststop\"]", extra);
  write_hook_file (fx->usr_dir, "busybox.json", json);
  set = load_and_match (fx);
  run_poststop (set, "{\"status\": \"stopped\"}", NULL, &result);
  g_assert_no_error (result.error);
  written = read_marker (fx, "argv0");
  g_assert_cmpstr (written, ==, "{\"status\": \"stopped\"}");
}

static void
test_poststop_failure_and_timeout (Fixture *fx, gconstpointer data)
{
  g_autofree char *failing = make_marker_script (fx, "failing", "echo oops >&2; exit 3");
  g_autofree char *slow = make_marker_script (fx, "slow", "exec sleep 30");
  g_autofree char *after = make_marker_script (fx, "after", NULL);
  g_autofree char *failing_json = hook_json (failing, "{\"always\": true}", "[\"poststop\"]", NULL);
  g_autofree char *slow_json =
      hook_json (slow, "{\"always\": true}", "[\"poststop\"]", ", \"timeout\": 1");
  g_autofree char *after_json = hook_json (after, "{\"always\": true}", "[\"poststop\"]", NULL);
  g_autoptr (CtrdHookSet) set = NULL;
  g_autofree char *after_stdin = NULL;
  RunResult result = { 0 };
  gint64 started;

  write_hook_file (fx->usr_dir, "1-failing.json", failing_json);
  write_hook_file (fx->usr_dir, "2-slow.json", slow_json);
  write_hook_file (fx->usr_dir, "3-after.json", after_json);
  set = load_and_match (fx);

  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*failing printed: oops*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*failing failed*3*");
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*slow*timeout of 1 s*");
  started = g_get_monotonic_time ();
  run_poststop (set, "{}", NULL, &result);
  g_test_assert_expected_messages ();
  /* the first failure is reported; the others still ran */
  g_assert_false (result.ok);
  g_assert_error (result.error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
  after_stdin = read_marker (fx, "after.stdin");
  g_assert_cmpstr (after_stdin, ==, "{}");
  g_clear_error (&result.error);
}

static gboolean
cancel_soon (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_poststop_timeout_and_cancel (Fixture *fx, gconstpointer data)
{
  g_autofree char *slow = make_marker_script (fx, "slow", "exec sleep 30");
  g_autofree char *slow_json =
      hook_json (slow, "{\"always\": true}", "[\"poststop\"]", ", \"timeout\": 1");
  g_autofree char *endless = make_marker_script (fx, "endless", "exec sleep 30");
  g_autofree char *endless_json = hook_json (endless, "{\"always\": true}", "[\"poststop\"]", NULL);
  g_autoptr (CtrdHookSet) set = NULL;
  g_autoptr (CtrdHookSet) endless_set = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *slow_path = g_build_filename (fx->usr_dir, "slow.json", NULL);
  RunResult result = { 0 };
  RunResult cancelled = { 0 };
  gint64 started;

  write_hook_file (fx->usr_dir, "slow.json", slow_json);
  set = load_and_match (fx);
  g_test_expect_message ("containersd", G_LOG_LEVEL_WARNING, "*slow*timeout*");
  started = g_get_monotonic_time ();
  run_poststop (set, "{}", NULL, &result);
  g_test_assert_expected_messages ();
  g_assert_error (result.error, CTRD_ERROR, CTRD_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
  g_clear_error (&result.error);

  /* no timeout of its own: the caller's cancellable ends it */
  g_assert_cmpint (g_unlink (slow_path), ==, 0);
  write_hook_file (fx->usr_dir, "endless.json", endless_json);
  endless_set = load_and_match (fx);
  g_timeout_add (200, cancel_soon, cancellable);
  started = g_get_monotonic_time ();
  run_poststop (endless_set, "{}", cancellable, &cancelled);
  g_assert_error (cancelled.error, CTRD_ERROR, CTRD_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
  g_clear_error (&cancelled.error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/hooks/load/skips-invalid", test_load_skips_invalid);
  ADD ("/hooks/load/override-order", test_load_override_order);
  ADD ("/hooks/match/conditions", test_match_conditions);
  ADD ("/hooks/json/spec-and-saved", test_spec_and_saved_json);
  g_test_add_func ("/hooks/json/state", test_state_json);
  ADD ("/hooks/poststop/in-order", test_poststop_runs_in_order);
  ADD ("/hooks/poststop/argv0", test_poststop_argv0);
  ADD ("/hooks/poststop/failure-and-timeout", test_poststop_failure_and_timeout);
  ADD ("/hooks/poststop/timeout-and-cancel", test_poststop_timeout_and_cancel);
#undef ADD

  return g_test_run ();
}
