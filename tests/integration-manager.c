/* integration-manager.c: the manager as clients see it (properties,
 * introspection, the object tree), image import, and the daemon itself
 * (restart with containers running, a second instance). */
#include "config.h"

#include "integration-common.h"

/* ---- manager ---------------------------------------------------------- */

static void
test_manager_properties (Fixture *f, gconstpointer data)
{
  const char *version = ctr_manager_get_version (f->manager);
  const char *runtime = ctr_manager_get_runtime (f->manager);
  g_autofree char *repo = g_build_filename (f->storage_root, "repo", NULL);
  g_autofree char *repo_config = g_build_filename (repo, "config", NULL);
  g_autofree char *refs = NULL;
  g_autofree char *image_ref = g_strdup_printf ("images/%s", f->image_id);
  const char *private_dirs[] = { "repo", "checkouts", "containers" };
  struct stat st;

  g_assert_nonnull (version);
  g_assert_cmpuint (strlen (version), >, 0);
  g_assert_nonnull (runtime);
  g_assert_true (g_path_is_absolute (runtime));
  g_assert_true (g_file_test (runtime, G_FILE_TEST_IS_EXECUTABLE));
  g_assert_cmpstr (ctr_manager_get_storage_root (f->manager), ==, f->storage_root);
  g_assert_cmpstr (ctr_manager_get_repo_path (f->manager), ==, repo);

  /* The repository is a real OSTree repo holding the fixture's image. */
  g_assert_true (g_file_test (repo_config, G_FILE_TEST_IS_REGULAR));
  refs = ostree_output (f, CMD ("refs"));
  g_assert_nonnull (refs);
  g_assert_nonnull (strstr (refs, image_ref));

  /* Images keep setuid files: no host user may reach them. */
  for (guint i = 0; i < G_N_ELEMENTS (private_dirs); i++)
    {
      g_autofree char *dir = g_build_filename (f->storage_root, private_dirs[i], NULL);
      g_assert_cmpint (stat (dir, &st), ==, 0);
      g_assert_true (S_ISDIR (st.st_mode));
      g_assert_cmpint (st.st_mode & 0077, ==, 0);
    }
  /* The run root: others may pass through (to a terminal socket made for
   * them), never list or write it. */
  g_assert_cmpint (stat (f->run_root, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0011);
}

static char *
arg_signature (GDBusArgInfo **args)
{
  g_autoptr(GString) sig = g_string_new (NULL);

  for (guint i = 0; args && args[i]; i++)
    g_string_append (sig, args[i]->signature);
  return g_string_free (g_steal_pointer (&sig), FALSE);
}

static void
assert_member_present (gconstpointer member, const char *kind, const char *iface,
                       const char *name, const char *path)
{
  g_autofree char *msg = NULL;

  if (member != NULL)
    return;
  msg = g_strdup_printf ("%s %s.%s, which the XML declares, is missing on %s", kind, iface, name,
                         path);
  g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
}

/* Asserts that the object at @path implements @expected exactly as the XML says. */
static void
assert_implements (Fixture *f, const char *path, GDBusInterfaceInfo *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GDBusNodeInfo) node = NULL;
  const char *xml;
  GDBusInterfaceInfo *actual;

  reply = call (f, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  actual = g_dbus_node_info_lookup_interface (node, expected->name);
  assert_member_present (actual, "interface", expected->name, "", path);

  for (guint i = 0; expected->methods && expected->methods[i]; i++)
    {
      GDBusMethodInfo *want = expected->methods[i];
      GDBusMethodInfo *got = g_dbus_interface_info_lookup_method (actual, want->name);
      g_autofree char *want_in = arg_signature (want->in_args);
      g_autofree char *want_out = arg_signature (want->out_args);
      g_autofree char *got_in = NULL;
      g_autofree char *got_out = NULL;

      assert_member_present (got, "method", expected->name, want->name, path);
      got_in = arg_signature (got->in_args);
      got_out = arg_signature (got->out_args);
      g_assert_cmpstr (got_in, ==, want_in);
      g_assert_cmpstr (got_out, ==, want_out);
    }
  for (guint i = 0; expected->signals && expected->signals[i]; i++)
    {
      GDBusSignalInfo *got = g_dbus_interface_info_lookup_signal (actual,
                                                                  expected->signals[i]->name);
      g_autofree char *want_sig = arg_signature (expected->signals[i]->args);
      g_autofree char *got_sig = NULL;

      assert_member_present (got, "signal", expected->name, expected->signals[i]->name, path);
      got_sig = arg_signature (got->args);
      g_assert_cmpstr (got_sig, ==, want_sig);
    }
  for (guint i = 0; expected->properties && expected->properties[i]; i++)
    {
      GDBusPropertyInfo *want = expected->properties[i];
      GDBusPropertyInfo *got = g_dbus_interface_info_lookup_property (actual, want->name);

      assert_member_present (got, "property", expected->name, want->name, path);
      g_assert_cmpstr (got->signature, ==, want->signature);
      g_assert_cmpint (got->flags, ==, want->flags);
    }
}

static void
test_manager_introspection (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *xml_path = g_build_filename (top_srcdir, "dbus", "org.example.Containers1.xml",
                                                NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GDBusNodeInfo) api = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GDBusNodeInfo) root = NULL;
  g_autofree char *container = create_container (f, "intro", CMD ("true"), NULL);
  const char *root_xml;

  g_file_get_contents (xml_path, &xml, NULL, &error);
  g_assert_no_error (error);
  api = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);

  assert_implements (f, MANAGER_PATH, g_dbus_node_info_lookup_interface (api, MANAGER_IFACE));
  assert_implements (f, container, g_dbus_node_info_lookup_interface (api, CONTAINER_IFACE));
  assert_implements (f, f->image_path, g_dbus_node_info_lookup_interface (api, IMAGE_IFACE));

  /* The manager's object is also the ObjectManager, with the objects below it. */
  reply = call (f, MANAGER_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
                &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &root_xml);
  root = g_dbus_node_info_new_for_xml (root_xml, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_dbus_node_info_lookup_interface (root, OBJECT_MANAGER_IFACE));
  {
    gboolean has_containers = FALSE, has_images = FALSE;
    for (guint i = 0; root->nodes && root->nodes[i]; i++)
      {
        has_containers |= g_strcmp0 (root->nodes[i]->path, "containers") == 0;
        has_images |= g_strcmp0 (root->nodes[i]->path, "images") == 0;
      }
    g_assert_true (has_containers);
    g_assert_true (has_images);
  }
}

static void
test_manager_managed_objects (Fixture *f, gconstpointer data)
{
  g_autofree char *container = create_container (f, "listed", CMD ("true"), NULL);
  g_autoptr(GVariant) objects = get_managed_objects (f);
  g_autoptr(GVariant) image_ifaces = NULL;
  g_autoptr(GVariant) container_ifaces = NULL;
  g_autoptr(GVariant) image_props = NULL;
  g_autoptr(GVariant) container_props = NULL;
  g_autofree const char **names = NULL;
  const char *s;
  GVariantIter iter;
  const char *path;
  guint n_containers = 0, n_images = 0;

  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL))
    {
      g_assert_true (g_str_has_prefix (path, MANAGER_PATH "/"));
      if (g_str_has_prefix (path, MANAGER_PATH "/containers/"))
        n_containers++;
      else if (g_str_has_prefix (path, MANAGER_PATH "/images/"))
        n_images++;
      else
        g_assert_true (g_str_has_prefix (path, MANAGER_PATH "/jobs/"));
    }
  g_assert_cmpuint (n_containers, ==, 1);
  g_assert_cmpuint (n_images, ==, 1);

  image_ifaces = g_variant_lookup_value (objects, f->image_path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (image_ifaces);
  image_props = g_variant_lookup_value (image_ifaces, IMAGE_IFACE, G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (image_props);
  g_assert_true (g_variant_lookup (image_props, "Id", "&s", &s));
  g_assert_cmpstr (s, ==, f->image_id);
  g_assert_true (g_variant_lookup (image_props, "Names", "^a&s", &names));
  g_assert_true (strv_has (names, "busybox:latest"));

  container_ifaces = g_variant_lookup_value (objects, container, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (container_ifaces);
  container_props = g_variant_lookup_value (container_ifaces, CONTAINER_IFACE,
                                            G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (container_props);
  g_assert_true (g_variant_lookup (container_props, "Name", "&s", &s));
  g_assert_cmpstr (s, ==, "listed");
  g_assert_true (g_variant_lookup (container_props, "State", "&s", &s));
  g_assert_cmpstr (s, ==, "configured");
  g_assert_true (g_variant_lookup (container_props, "Image", "&o", &s));
  g_assert_cmpstr (s, ==, f->image_path);
}

/* ---- images ----------------------------------------------------------- */

static void
assert_image_named (Fixture *f, const char *path, const char *name)
{
  g_autoptr(CtrImage) image = image_proxy (f, path);
  g_autofree char *ref = NULL;
  g_autofree char *rev = NULL;
  const char *id = ctr_image_get_id (image);
  const char *commit = ctr_image_get_commit (image);

  g_assert_true (is_hex64 (id));
  g_assert_true (g_str_has_suffix (path, id));
  g_assert_true (strv_has (ctr_image_get_names (image), name));
  g_assert_cmpuint (g_strv_length ((char **) ctr_image_get_names (image)), ==, 1);
  g_assert_true (is_hex64 (commit));
  ref = g_strdup_printf ("images/%s", id);
  rev = ostree_output (f, CMD ("rev-parse", ref));
  g_assert_nonnull (rev);
  g_assert_cmpstr (g_strstrip (rev), ==, commit);
}

static void
test_image_import (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtrImage) image = image_proxy (f, f->image_path);
  g_autofree char *expected_path = g_strdup_printf (MANAGER_PATH "/images/%s", f->image_id);
  g_autofree char *prefix = g_strndup (f->image_id, 12);
  g_autofree char *gz = g_build_filename (f->tmp, "busybox.tar.gz", NULL);
  g_autofree char *gz_path = NULL;
  g_autofree char *piped_path = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  const char *references[] = { "busybox", "busybox:latest", f->image_id, prefix };
  g_autoptr(GMappedFile) tar = NULL;
  g_autoptr(GBytes) tar_bytes = NULL;
  GThread *writer = NULL;
  struct stat st;
  int fd;
  guint n_images = 0;

  g_assert_cmpstr (f->image_path, ==, expected_path);
  assert_image_named (f, f->image_path, "busybox:latest");
  /* Size counts regular files: at least the busybox binary itself. */
  g_assert_cmpint (stat ("/bin/busybox", &st), ==, 0);
  g_assert_cmpuint (ctr_image_get_size (image), >=, (guint64) st.st_size);
  g_assert_cmpuint (ctr_image_get_created_at (image), >, 0);
  g_assert_cmpuint (ctr_image_get_created_at (image), <=, (guint64) g_get_real_time ());
  g_assert_cmpuint (g_strv_length ((char **) ctr_image_get_containers (image)), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (references); i++)
    {
      g_autofree char *found = NULL;
      ctr_manager_call_get_image_sync (f->manager, references[i], &found, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (found, ==, f->image_path);
    }

  /* A gzip-compressed tar, opened by the daemon itself. */
  g_assert_true (ctrd_test_make_busybox_tar (gz));
  gz_path = import_path (f, gz, "bb-gz", NULL, &error);
  g_assert_no_error (error);
  assert_image_named (f, gz_path, "bb-gz:latest");

  /* A pipe: the daemon cannot seek or stat a size. */
  tar = g_mapped_file_new (busybox_tar, FALSE, &error);
  g_assert_no_error (error);
  tar_bytes = g_mapped_file_get_bytes (tar);
  fd = ctrd_test_pipe_from_bytes (tar_bytes, &writer);
  piped_path = import_fd (f, fd, "piped:v1", NULL, &error);
  close (fd);
  g_thread_join (writer);
  g_assert_no_error (error);
  assert_image_named (f, piped_path, "piped:v1");
  g_assert_cmpstr (piped_path, !=, gz_path);
  g_assert_cmpstr (piped_path, !=, f->image_path);

  paths = managed_object_paths (f);
  for (guint i = 0; i < paths->len; i++)
    n_images += g_str_has_prefix (paths->pdata[i], MANAGER_PATH "/images/");
  g_assert_cmpuint (n_images, ==, 3);
}

/* ---- the daemon itself ------------------------------------------------ */

static void
test_daemon_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *sleeper_path = create_container (f, "sleeper", CMD ("sleep", "300"), NULL);
  g_autofree char *quitter_path = create_container (
      f, "quitter", CMD ("sh", "-c", "trap 'exit 5' USR1; touch /ready; while :; do sleep 1; done"),
      NULL);
  g_autoptr(CtrContainer) sleeper = container_proxy (f, sleeper_path);
  g_autoptr(CtrContainer) quitter = container_proxy (f, quitter_path);
  g_autoptr(GPtrArray) paths_before = NULL;
  g_autoptr(GPtrArray) paths_after = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *state = NULL;
  g_autoptr(GVariant) pid_after = NULL;
  g_autoptr(GVariant) exit_code = NULL;
  guint32 sleeper_pid, quitter_pid;

  start_container (sleeper);
  start_container (quitter);
  wait_for_upper_file (f, ctr_container_get_id (quitter), "ready");
  sleeper_pid = get_u32 (f, sleeper, "Pid");
  quitter_pid = get_u32 (f, quitter, "Pid");
  g_assert_cmpuint (sleeper_pid, >, 0);
  g_assert_cmpuint (quitter_pid, >, 0);
  paths_before = managed_object_paths (f);
  g_clear_object (&sleeper);
  g_clear_object (&quitter);

  g_assert_cmpint (stop_daemon (f), ==, 0);
  /* Containers outlive the daemon. */
  g_assert_true (pid_exists (sleeper_pid));
  g_assert_true (pid_exists (quitter_pid));

  /* One of them exits while no daemon runs. */
  g_assert_cmpint (kill ((pid_t) quitter_pid, SIGUSR1), ==, 0);
  assert_pid_gone_soon (quitter_pid);

  start_daemon (f);
  paths_after = managed_object_paths (f);
  before = join_sorted (paths_before);
  after = join_sorted (paths_after);
  g_assert_cmpstr (after, ==, before);

  state = get_string_property (f, sleeper_path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "running");
  pid_after = get_property (f, sleeper_path, CONTAINER_IFACE, "Pid");
  g_assert_cmpuint (g_variant_get_uint32 (pid_after), ==, sleeper_pid);
  g_assert_true (pid_exists (sleeper_pid));

  /* The daemon learns of the exit it missed (at once or soon after). */
  quitter = container_proxy (f, quitter_path);
  wait_for_state (quitter, STATES_ENDED);
  exit_code = get_property (f, quitter_path, CONTAINER_IFACE, "ExitCode");
  g_assert_cmpint (g_variant_get_int32 (exit_code), ==, 5);
  g_assert_cmpint (wait_container (quitter), ==, 5);

  /* And it can still control the one it adopted. */
  sleeper = container_proxy (f, sleeper_path);
  stop_container (sleeper, 1);
  assert_pid_gone_soon (sleeper_pid);
}

static void
test_daemon_second_instance (Fixture *f, gconstpointer data)
{
  g_autofree char *run2 = g_build_filename (f->tmp, "run2", NULL);
  g_autofree char *log2 = g_build_filename (f->tmp, "daemon2.log", NULL);
  g_autofree char *before = snapshot (f);
  g_autofree char *log = NULL;
  g_autofree char *version = NULL;
  gboolean exited = FALSE;
  g_autoptr(GSubprocess) second = spawn_daemon (f, run2, log2, &exited);

  if (!wait_until (flag_is_set, &exited))
    {
      g_subprocess_force_exit (second);
      wait_until (flag_is_set, &exited);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                           "a second daemon on the same storage root kept running");
    }
  g_assert_false (g_subprocess_get_successful (second));
  log = read_file_or_null (log2);
  g_assert_nonnull (log);
  g_assert_cmpuint (strlen (g_strstrip (log)), >, 0);
  g_printerr ("# the second daemon said: %s\n", log);

  /* The first one goes on as before. */
  g_assert_false (f->daemon_exited);
  version = get_string_property (f, MANAGER_PATH, MANAGER_IFACE, "Version");
  g_assert_cmpuint (strlen (version), >, 0);
  assert_unchanged (f, before);
}

/* ---- registration ---------------------------------------------------- */

void
integration_add_manager_cases (void)
{
  add_case ("/manager/properties", test_manager_properties, NULL);
  add_case ("/manager/introspection", test_manager_introspection, NULL);
  add_case ("/manager/managed-objects", test_manager_managed_objects, NULL);
  add_case ("/image/import", test_image_import, NULL);
}

void
integration_add_daemon_cases (void)
{
  add_case ("/daemon/restart", test_daemon_restart, NULL);
  add_case ("/daemon/second-instance", test_daemon_second_instance, NULL);
}
