/* Unit tests for ctrd-seccomp: podman's profile format into the OCI spec's
 * linux.seccomp. */
#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-seccomp.h"
#include "ctrd-spec.h"

static const char *const podman_default_caps[] = {
  "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
  "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
  "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT", NULL,
};

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* The action and errnoRet of the first entry that names @syscall; NULL when none. */
static const char *
action_for (JsonNode *seccomp, const char *syscall, gint64 *out_errno)
{
  JsonArray *syscalls = json_object_get_array_member (json_node_get_object (seccomp), "syscalls");

  for (guint i = 0; i < json_array_get_length (syscalls); i++)
    {
      JsonObject *entry = json_array_get_object_element (syscalls, i);
      JsonArray *names = json_object_get_array_member (entry, "names");

      for (guint j = 0; j < json_array_get_length (names); j++)
        if (g_str_equal (json_array_get_string_element (names, j), syscall))
          {
            if (out_errno != NULL)
              *out_errno = json_object_has_member (entry, "errnoRet")
                               ? json_object_get_int_member (entry, "errnoRet")
                               : -1;
            return json_object_get_string_member (entry, "action");
          }
    }
  return NULL;
}

/* The entries naming @syscall, as "ACTION[/errno][:index&mask==value]" lines. */
static char *
rules_for (JsonNode *seccomp, const char *syscall)
{
  JsonArray *syscalls = json_object_get_array_member (json_node_get_object (seccomp), "syscalls");
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (syscalls); i++)
    {
      JsonObject *entry = json_array_get_object_element (syscalls, i);
      JsonArray *names = json_object_get_array_member (entry, "names");

      for (guint j = 0; j < json_array_get_length (names); j++)
        if (g_str_equal (json_array_get_string_element (names, j), syscall))
          {
            JsonArray *args = json_object_has_member (entry, "args")
                                  ? json_object_get_array_member (entry, "args")
                                  : NULL;

            g_string_append (out, json_object_get_string_member (entry, "action"));
            if (json_object_has_member (entry, "errnoRet"))
              g_string_append_printf (out, "/%" G_GINT64_FORMAT,
                                      json_object_get_int_member (entry, "errnoRet"));
            for (guint k = 0; args != NULL && k < json_array_get_length (args); k++)
              {
                JsonObject *arg = json_array_get_object_element (args, k);

                g_string_append_printf (
                    out, ":%" G_GINT64_FORMAT "&%#" G_GINT64_MODIFIER "x==%#" G_GINT64_MODIFIER "x",
                    json_object_get_int_member (arg, "index"),
                    json_object_get_int_member (arg, "value"),
                    json_object_get_int_member (arg, "valueTwo"));
              }
            g_string_append_c (out, ';');
          }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static guint
n_syscall_entries (JsonNode *seccomp)
{
  return json_array_get_length (
      json_object_get_array_member (json_node_get_object (seccomp), "syscalls"));
}

/* What podman 4.3.1 writes for a rootful container with its default
 * capabilities on x86_64 (podman create + the generated config.json): 22
 * entries, three architectures, ENOSYS by default. */
static void
test_default_profile_amd64 (void)
{
  CtrdSeccompTarget target = { .arch = "amd64", .caps = podman_default_caps, .kernel = "6.1.0" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) seccomp = NULL;
  JsonObject *object;
  JsonArray *arches;
  gint64 errno_ret = 0;

  if (!g_file_test (CTRD_SECCOMP_DEFAULT_PROFILE, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no " CTRD_SECCOMP_DEFAULT_PROFILE " (containers-common)");
      return;
    }
  seccomp = ctrd_seccomp_load (CTRD_SECCOMP_DEFAULT_PROFILE, &target, &error);
  g_assert_no_error (error);
  object = json_node_get_object (seccomp);
  g_assert_cmpstr (json_object_get_string_member (object, "defaultAction"), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (json_object_get_int_member (object, "defaultErrnoRet"), ==, 38);
  arches = json_object_get_array_member (object, "architectures");
  g_assert_cmpuint (json_array_get_length (arches), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (arches, 0), ==, "SCMP_ARCH_X86_64");
  g_assert_cmpstr (json_array_get_string_element (arches, 1), ==, "SCMP_ARCH_X86");
  g_assert_cmpstr (json_array_get_string_element (arches, 2), ==, "SCMP_ARCH_X32");
  g_assert_cmpuint (n_syscall_entries (seccomp), ==, 22);

  /* includes by arch */
  g_assert_cmpstr (action_for (seccomp, "arch_prctl", NULL), ==, "SCMP_ACT_ALLOW");
  g_assert_null (action_for (seccomp, "arm_fadvise64_64", NULL));
  /* excludes by capability: without CAP_SYS_MODULE, EPERM */
  g_assert_cmpstr (action_for (seccomp, "init_module", &errno_ret), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (errno_ret, ==, 1);
  g_assert_cmpstr (action_for (seccomp, "bpf", NULL), ==, "SCMP_ACT_ERRNO");
  /* includes by capability: CAP_SYS_CHROOT is in the default set */
  g_assert_cmpstr (action_for (seccomp, "chroot", NULL), ==, "SCMP_ACT_ALLOW");
  /* an errnoRet other than EPERM: socket(AF_NETLINK, ..., NETLINK_AUDIT) */
  g_assert_cmpstr (action_for (seccomp, "socket", &errno_ret), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (errno_ret, ==, 22);
}

/* More capabilities, another architecture: the filter follows them. */
static void
test_default_profile_caps_and_arch (void)
{
  g_auto (GStrv) caps = NULL;
  const char *const add[] = { "CAP_SYS_ADMIN", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) with_admin = NULL;
  g_autoptr (JsonNode) arm = NULL;
  CtrdSeccompTarget target = { .arch = "amd64", .kernel = "6.1.0" };
  JsonArray *arches;

  if (!g_file_test (CTRD_SECCOMP_DEFAULT_PROFILE, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no " CTRD_SECCOMP_DEFAULT_PROFILE " (containers-common)");
      return;
    }
  caps = ctrd_spec_capabilities (add, NULL, FALSE);
  target.caps = (const char *const *) caps;
  with_admin = ctrd_seccomp_load (CTRD_SECCOMP_DEFAULT_PROFILE, &target, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (action_for (with_admin, "bpf", NULL), ==, "SCMP_ACT_ALLOW");
  g_assert_cmpstr (action_for (with_admin, "init_module", NULL), ==, "SCMP_ACT_ERRNO");

  target.arch = "arm64";
  target.caps = podman_default_caps;
  arm = ctrd_seccomp_load (CTRD_SECCOMP_DEFAULT_PROFILE, &target, &error);
  g_assert_no_error (error);
  arches = json_object_get_array_member (json_node_get_object (arm), "architectures");
  g_assert_cmpuint (json_array_get_length (arches), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (arches, 0), ==, "SCMP_ARCH_AARCH64");
  g_assert_cmpstr (json_array_get_string_element (arches, 1), ==, "SCMP_ARCH_ARM");
  g_assert_null (action_for (arm, "arch_prctl", NULL));
  g_assert_cmpstr (action_for (arm, "arm_fadvise64_64", NULL), ==, "SCMP_ACT_ALLOW");
}

/* Arguments, minKernel, "name", architectures without archMap. */
static void
test_translate_entries (void)
{
  g_autoptr (JsonNode) profile = parse (
      "{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
      " \"syscalls\": ["
      "  {\"name\": \"personality\", \"action\": \"SCMP_ACT_ALLOW\","
      "   \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},"
      "  {\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38,"
      "   \"includes\": {\"minKernel\": \"5.3\"}},"
      "  {\"names\": [\"new_thing\"], \"action\": \"SCMP_ACT_ALLOW\","
      "   \"includes\": {\"minKernel\": \"9.0\"}},"
      "  {\"names\": [\"only_arm\"], \"action\": \"SCMP_ACT_ALLOW\","
      "   \"excludes\": {\"arches\": [\"amd64\"]}}"
      "]}");
  CtrdSeccompTarget target = { .arch = "amd64", .caps = podman_default_caps,
                               .kernel = "6.1.0-13-amd64" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) seccomp = ctrd_seccomp_translate (profile, &target, &error);
  JsonObject *object, *first, *arg;
  gint64 errno_ret = 0;

  g_assert_no_error (error);
  object = json_node_get_object (seccomp);
  g_assert_false (json_object_has_member (object, "defaultErrnoRet"));
  g_assert_cmpstr (json_array_get_string_element (
                       json_object_get_array_member (object, "architectures"), 0),
                   ==, "SCMP_ARCH_X86_64");
  g_assert_cmpuint (n_syscall_entries (seccomp), ==, 2);
  first = json_array_get_object_element (json_object_get_array_member (object, "syscalls"), 0);
  arg = json_array_get_object_element (json_object_get_array_member (first, "args"), 0);
  g_assert_cmpint (json_object_get_int_member (arg, "index"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (arg, "value"), ==, 4294967295);
  g_assert_cmpint (json_object_get_int_member (arg, "valueTwo"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (arg, "op"), ==, "SCMP_CMP_EQ");
  g_assert_cmpstr (action_for (seccomp, "clone3", &errno_ret), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (errno_ret, ==, 38);
  g_assert_null (action_for (seccomp, "new_thing", NULL));
  g_assert_null (action_for (seccomp, "only_arm", NULL));
}

/* Profiles of another format are refused, naming the entry. */
static void
test_translate_bad (void)
{
  static const char *const bad[] = {
    "[]",
    "{\"syscalls\": []}",
    "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"x\"], \"action\": \"NOPE\"}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"x\"], \"action\": \"SCMP_ACT_ALLOW\","
    " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"x\"], \"action\": \"SCMP_ACT_ALLOW\","
    " \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"x\"], \"action\": \"SCMP_ACT_ALLOW\","
    " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_WHAT\"}]}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
    " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"x\"], \"action\": \"SCMP_ACT_ALLOW\","
    " \"includes\": {\"caps\": \"CAP_SYS_ADMIN\"}}]}",
  };
  CtrdSeccompTarget target = { .arch = "amd64", .caps = podman_default_caps, .kernel = "6.1" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) profile = parse (bad[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) seccomp = ctrd_seccomp_translate (profile, &target, &error);

      g_test_message ("profile %s", bad[i]);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (seccomp);
    }
}

/* A profile file must be the administrator's: root's, written by root only. */
static void
test_load_file_rules (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-seccomp-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "profile.json", NULL);
  g_autofree char *link = g_build_filename (dir, "link.json", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.json", NULL);
  CtrdSeccompTarget target = { .arch = "amd64", .caps = podman_default_caps };
  g_autoptr (JsonNode) ok = NULL;
  JsonNode *refused;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  g_assert_cmpint (symlink (path, link), ==, 0);

  if (getuid () == 0)
    {
      ok = ctrd_seccomp_load (path, &target, &error);
      g_assert_no_error (error);
      g_assert_nonnull (ok);
    }

  refused = ctrd_seccomp_load (link, &target, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (refused);
  g_clear_error (&error);

  refused = ctrd_seccomp_load (missing, &target, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_assert_null (refused);
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (path, 0666), ==, 0);
  refused = ctrd_seccomp_load (path, &target, &error);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (refused);
  g_clear_error (&error);

  if (getuid () == 0)
    {
      g_assert_cmpint (g_chmod (path, 0644), ==, 0);
      g_assert_cmpint (chown (path, 1000, 1000), ==, 0);
      refused = ctrd_seccomp_load (path, &target, &error);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (refused);
      g_clear_error (&error);
    }

  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* podman's MergeCapabilities rules. */
static void
test_capabilities (void)
{
  const char *const add[] = { "CAP_SYS_ADMIN", NULL };
  const char *const drop[] = { "CAP_CHOWN", "CAP_KILL", NULL };
  const char *const all[] = { "ALL", NULL };
  g_auto (GStrv) defaults = ctrd_spec_capabilities (NULL, NULL, FALSE);
  g_auto (GStrv) changed = ctrd_spec_capabilities (add, drop, FALSE);
  g_auto (GStrv) only_added = ctrd_spec_capabilities (add, all, FALSE);
  g_auto (GStrv) privileged = ctrd_spec_capabilities (NULL, drop, TRUE);
  g_autofree char *name = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstrv (defaults, podman_default_caps);
  g_assert_cmpuint (g_strv_length (changed), ==, g_strv_length (defaults) - 1);
  g_assert_true (g_strv_contains ((const char *const *) changed, "CAP_SYS_ADMIN"));
  g_assert_false (g_strv_contains ((const char *const *) changed, "CAP_KILL"));
  g_assert_cmpstrv (only_added, add);
  g_assert_true (g_strv_contains ((const char *const *) privileged, "CAP_SYS_MODULE"));
  g_assert_true (g_strv_contains ((const char *const *) privileged, "CAP_CHOWN"));

  g_assert_true (ctrd_spec_normalize_capability ("net_admin", &name, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "CAP_NET_ADMIN");
  g_clear_pointer (&name, g_free);
  g_assert_true (ctrd_spec_normalize_capability ("all", &name, &error));
  g_assert_cmpstr (name, ==, "ALL");
  g_clear_pointer (&name, g_free);
  g_assert_false (ctrd_spec_normalize_capability ("CAP_ROOT", &name, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (name);
}

/* The default profile's additions: no keyring, no new user namespace
 * without CAP_SYS_ADMIN. */
static void
test_harden (void)
{
  const char *const with_admin[] = { "CAP_CHOWN", "CAP_SYS_ADMIN", NULL };
  CtrdSeccompTarget target = { .arch = "amd64", .caps = podman_default_caps, .kernel = "6.1.0" };
  CtrdSeccompTarget admin = { .arch = "amd64", .caps = with_admin, .kernel = "6.1.0" };
  CtrdSeccompTarget s390 = { .arch = "s390x", .caps = podman_default_caps, .kernel = "6.1.0" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) seccomp = NULL;
  g_autoptr (JsonNode) admin_seccomp = NULL;
  g_autoptr (JsonNode) s390_seccomp = NULL;
  g_autoptr (JsonNode) bare = parse ("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
  g_autofree char *rules = NULL;

  if (!g_file_test (CTRD_SECCOMP_DEFAULT_PROFILE, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no " CTRD_SECCOMP_DEFAULT_PROFILE " (containers-common)");
      return;
    }
  seccomp = ctrd_seccomp_load (CTRD_SECCOMP_DEFAULT_PROFILE, &target, &error);
  g_assert_no_error (error);
  /* podman's profile allows them all, unconditionally */
  g_assert_cmpstr (action_for (seccomp, "keyctl", NULL), ==, "SCMP_ACT_ALLOW");
  g_assert_cmpstr (action_for (seccomp, "unshare", NULL), ==, "SCMP_ACT_ALLOW");
  ctrd_seccomp_harden (seccomp, &target);
  g_assert_cmpuint (n_syscall_entries (seccomp), ==, 22 + 6);
  for (guint i = 0; i < 3; i++)
    {
      const char *keyring[] = { "keyctl", "add_key", "request_key" };
      g_autofree char *found = rules_for (seccomp, keyring[i]);
      g_assert_cmpstr (found, ==, "SCMP_ACT_ERRNO/1;");
    }
  rules = rules_for (seccomp, "unshare");
  g_assert_cmpstr (rules, ==, "SCMP_ACT_ALLOW:0&0x10000000==0;SCMP_ACT_ERRNO/1:0&0x10000000==0x10000000;");
  g_clear_pointer (&rules, g_free);
  rules = rules_for (seccomp, "clone");
  g_assert_cmpstr (rules, ==, "SCMP_ACT_ALLOW:0&0x10000000==0;SCMP_ACT_ERRNO/1:0&0x10000000==0x10000000;");
  g_clear_pointer (&rules, g_free);
  rules = rules_for (seccomp, "clone3");
  g_assert_cmpstr (rules, ==, "SCMP_ACT_ERRNO/38;");
  g_clear_pointer (&rules, g_free);
  /* everything else of podman's is as it was */
  g_assert_cmpstr (action_for (seccomp, "read", NULL), ==, "SCMP_ACT_ALLOW");
  g_assert_cmpstr (action_for (seccomp, "setns", NULL), ==, "SCMP_ACT_ALLOW");

  /* with CAP_SYS_ADMIN, namespaces are the kernel's business again */
  admin_seccomp = ctrd_seccomp_load (CTRD_SECCOMP_DEFAULT_PROFILE, &admin, &error);
  g_assert_no_error (error);
  ctrd_seccomp_harden (admin_seccomp, &admin);
  rules = rules_for (admin_seccomp, "unshare");
  g_assert_cmpstr (rules, ==, "SCMP_ACT_ALLOW;");
  g_clear_pointer (&rules, g_free);
  rules = rules_for (admin_seccomp, "keyctl");
  g_assert_cmpstr (rules, ==, "SCMP_ACT_ERRNO/1;");
  g_clear_pointer (&rules, g_free);

  /* s390x's clone has its flags second */
  s390_seccomp = ctrd_seccomp_load (CTRD_SECCOMP_DEFAULT_PROFILE, &s390, &error);
  g_assert_no_error (error);
  ctrd_seccomp_harden (s390_seccomp, &s390);
  rules = rules_for (s390_seccomp, "clone");
  g_assert_cmpstr (rules, ==, "SCMP_ACT_ALLOW:1&0x10000000==0;SCMP_ACT_ERRNO/1:1&0x10000000==0x10000000;");
  g_clear_pointer (&rules, g_free);

  /* a profile without syscalls gets the list */
  ctrd_seccomp_harden (bare, &target);
  g_assert_cmpuint (n_syscall_entries (bare), ==, 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/seccomp/default-profile-amd64", test_default_profile_amd64);
  g_test_add_func ("/seccomp/default-profile-caps-and-arch", test_default_profile_caps_and_arch);
  g_test_add_func ("/seccomp/translate-entries", test_translate_entries);
  g_test_add_func ("/seccomp/translate-bad", test_translate_bad);
  g_test_add_func ("/seccomp/load-file-rules", test_load_file_rules);
  g_test_add_func ("/seccomp/capabilities", test_capabilities);
  g_test_add_func ("/seccomp/harden", test_harden);
  return g_test_run ();
}
