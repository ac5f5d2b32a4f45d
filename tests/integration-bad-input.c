/* integration-bad-input.c: calls the daemon must refuse, each with the exact
 * D-Bus error and nothing changed: bad creations, look-ups, property sets,
 * imports, and operations on a container in the wrong state or with bad
 * arguments (exec, export, restart, start). */
#include "config.h"

#include "integration-common.h"

/* ---- bad input: the exact error, and nothing changed ------------------- */

typedef struct
{
  const char *test_path;
  const char *name; /* NULL: a name of 129 characters */
  const char *image;
  const char *options;
  gboolean precreate; /* a container of that name exists already */
  const char *errors[3];
} BadCreate;

static const BadCreate bad_creates[] = {
  { "/bad/create/name-leading-dash", "-x", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-space", "a b", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-slash", "a/b", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-dotdot", "..", "busybox", NULL, FALSE, { ERR ("InvalidArgument") } },
  { "/bad/create/name-too-long", NULL, "busybox", NULL, FALSE,
    { ERR ("LimitExceeded"), ERR ("InvalidArgument") } },
  { "/bad/create/duplicate-name", "dup", "busybox", NULL, TRUE, { ERR ("NameInUse") } },
  { "/bad/create/unknown-image", "x1", "nosuchimage", NULL, FALSE, { ERR ("NotFound") } },
  { "/bad/create/unknown-image-id", "x1",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL, FALSE,
    { ERR ("NotFound") } },
  { "/bad/create/env-wrong-type", "x1", "busybox", "{'Env': <'FOO=bar'>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/labels-wrong-type", "x1", "busybox", "{'Labels': <['a=b']>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/stop-timeout-wrong-type", "x1", "busybox", "{'StopTimeout': <'10'>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/unknown-option", "x1", "busybox", "{'NoSuchOption': <true>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/bogus-stop-signal", "x1", "busybox", "{'StopSignal': <'SIGBOGUS'>}", FALSE,
    { ERR ("InvalidArgument") } },
  { "/bad/create/relative-working-dir", "x1", "busybox", "{'WorkingDir': <'tmp'>}", FALSE,
    { ERR ("InvalidArgument") } },
#define BAD_MOUNT(path, mount) \
  { "/bad/create/mount/" path, "x1", "busybox", "{'Mounts': <[" mount "]>}", FALSE, \
    { ERR ("InvalidArgument") } }
  BAD_MOUNT ("relative-destination", "{'Type': <'tmpfs'>, 'Destination': <'data'>}"),
  BAD_MOUNT ("dotdot-destination", "{'Type': <'tmpfs'>, 'Destination': <'/data/../etc'>}"),
  BAD_MOUNT ("root-destination", "{'Type': <'tmpfs'>, 'Destination': <'/'>}"),
  BAD_MOUNT ("proc-destination", "{'Type': <'tmpfs'>, 'Destination': <'/proc/sys'>}"),
  BAD_MOUNT ("no-destination", "{'Type': <'tmpfs'>}"),
  BAD_MOUNT ("duplicate-destination",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>},"
             " {'Type': <'tmpfs'>, 'Destination': <'/d/'>}"),
  BAD_MOUNT ("bind-missing-source",
             "{'Type': <'bind'>, 'Source': <'/nonexistent/ctrd-source'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-host-root", "{'Type': <'bind'>, 'Source': <'/'>, 'Destination': <'/host'>}"),
  BAD_MOUNT ("bind-relative-source",
             "{'Type': <'bind'>, 'Source': <'tmp'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-dotdot-source",
             "{'Type': <'bind'>, 'Source': <'/tmp/../etc'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-proc-source",
             "{'Type': <'bind'>, 'Source': <'/proc/self'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bind-storage-source",
             "{'Type': <'bind'>, 'Source': <'@STORAGE@/containers'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("unknown-type", "{'Type': <'nfs'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("no-type", "{'Destination': <'/d'>}"),
  BAD_MOUNT ("unknown-key",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'Propagation': <'shared'>}"),
  BAD_MOUNT ("read-only-wrong-type",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'ReadOnly': <'yes'>}"),
  BAD_MOUNT ("tmpfs-with-source", "{'Type': <'tmpfs'>, 'Source': <'/etc'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("volume-bad-name",
             "{'Type': <'volume'>, 'Source': <'../etc'>, 'Destination': <'/d'>}"),
  BAD_MOUNT ("bad-size-option",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'Options': <['size=lots']>}"),
  BAD_MOUNT ("unknown-option",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'Options': <['exec-everything']>}"),
  BAD_MOUNT ("rw-and-read-only",
             "{'Type': <'tmpfs'>, 'Destination': <'/d'>, 'ReadOnly': <true>, 'Options': <['rw']>}"),
#undef BAD_MOUNT
#define BAD_OPTION(path, options) \
  { "/bad/create/" path, "x1", "busybox", options, FALSE, { ERR ("InvalidArgument") } }
  BAD_OPTION ("mounts-wrong-type", "{'Mounts': <['/a:/b']>}"),
  BAD_OPTION ("dns-server-not-an-ip", "{'DnsServers': <['not-an-ip']>}"),
  BAD_OPTION ("dns-search-invalid", "{'DnsSearch': <['bad domain!']>}"),
  BAD_OPTION ("dns-option-invalid", "{'DnsOptions': <['nd ots']>}"),
  BAD_OPTION ("dns-servers-wrong-type", "{'DnsServers': <'192.0.2.1'>}"),
  BAD_OPTION ("add-hosts-no-ip", "{'AddHosts': <['noip']>}"),
  BAD_OPTION ("add-hosts-bad-ip", "{'AddHosts': <['db:300.1.2.3']>}"),
  BAD_OPTION ("add-hosts-bad-name", "{'AddHosts': <['bad name:192.0.2.1']>}"),
  BAD_OPTION ("user-minus-one", "{'User': <'-1'>}"),
  BAD_OPTION ("user-too-big", "{'User': <'4294967295'>}"),
  BAD_OPTION ("user-bad-group", "{'User': <'1000:bad group'>}"),
  BAD_OPTION ("user-wrong-type", "{'User': <uint32 1000>}"),
  BAD_OPTION ("shm-size-too-small", "{'ShmSize': <uint64 100>}"),
  BAD_OPTION ("shm-size-wrong-type", "{'ShmSize': <100>}"),
  BAD_OPTION ("tty-wrong-type", "{'Tty': <'yes'>}"),
  BAD_OPTION ("auto-remove-wrong-type", "{'AutoRemove': <1>}"),
  BAD_OPTION ("read-only-rootfs-wrong-type", "{'ReadOnlyRootfs': <'true'>}"),
  BAD_OPTION ("depends-on-wrong-type", "{'DependsOn': <'db'>}"),
#undef BAD_OPTION
  { "/bad/create/depends-on-missing", "x1", "busybox", "{'DependsOn': <['nosuchcontainer']>}",
    FALSE, { ERR ("NotFound") } },
};

static void
test_bad_create (Fixture *f, gconstpointer data)
{
  const BadCreate *bad = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *long_name = g_strnfill (129, 'a');
  const char *name = bad->name ? bad->name : long_name;
  g_autofree char *precreated = NULL;
  g_autofree char *before = NULL;
  g_autofree char *path = NULL;

  g_auto (GStrv) pieces = g_strsplit (bad->options ? bad->options : "", "@STORAGE@", -1);
  g_autofree char *options = g_strjoinv (f->storage_root, pieces);

  if (bad->precreate)
    precreated = create_container (f, name, CMD ("true"), NULL);
  before = snapshot (f);
  path = try_create (f, name, bad->image, CMD ("true"), bad->options ? options : NULL, &error);
  assert_dbus_error_impl (error, bad->errors, __FILE__, __LINE__, G_STRFUNC);
  g_assert_null (path);
  assert_unchanged (f, before);
}

static void
test_bad_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *found = NULL;

  ctr_manager_call_get_container_sync (f->manager, "nosuchcontainer", &found, NULL, &error);
  assert_dbus_error (error, ERR ("NotFound"));
  g_clear_error (&error);
  ctr_manager_call_get_image_sync (f->manager, "nosuchimage:1.0", &found, NULL, &error);
  assert_dbus_error (error, ERR ("NotFound"));
  g_assert_null (found);
}

static void
test_bad_removed_container (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "gone", CMD ("true"), NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autofree char *before = NULL;
  g_autoptr(GVariant) reply = NULL;

  ctr_container_call_remove_sync (c, FALSE, FALSE, NULL, &error);
  g_assert_no_error (error);
  before = snapshot (f);

  /* The object is gone, so GDBus itself answers. */
  ctr_container_call_start_sync (c, NULL, &error);
  assert_dbus_error (error, "org.freedesktop.DBus.Error.UnknownObject",
                     "org.freedesktop.DBus.Error.UnknownMethod",
                     "org.freedesktop.DBus.Error.UnknownInterface");
  g_clear_error (&error);
  reply = call (f, path, CONTAINER_IFACE, "Remove", g_variant_new ("(bb)", TRUE, FALSE), &error);
  assert_dbus_error (error, "org.freedesktop.DBus.Error.UnknownObject",
                     "org.freedesktop.DBus.Error.UnknownMethod",
                     "org.freedesktop.DBus.Error.UnknownInterface");
  assert_unchanged (f, before);
}

static void
test_bad_property_set (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "fixed", CMD ("true"), NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *name = NULL;

  /* Every property is read-only: the bus policy or GDBus refuses. */
  reply = call (f, path, "org.freedesktop.DBus.Properties", "Set",
                g_variant_new ("(ssv)", CONTAINER_IFACE, "Name", g_variant_new_string ("other")),
                &error);
  assert_dbus_error (error, "org.freedesktop.DBus.Error.AccessDenied",
                     "org.freedesktop.DBus.Error.PropertyReadOnly",
                     "org.freedesktop.DBus.Error.InvalidArgs");
  name = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (name, ==, "fixed");
}

/* A call that a running container must refuse, leaving it as it was. */
typedef struct
{
  const char *test_path;
  const char *method;
  const char *params; /* GVariant text */
  const char *error;
} BadOnRunning;

static const BadOnRunning bad_on_running[] = {
  { "/bad/kill/SIGBOGUS", "Kill", "('SIGBOGUS',)", ERR ("InvalidArgument") },
  { "/bad/kill/zero", "Kill", "('0',)", ERR ("InvalidArgument") },
  { "/bad/kill/99999", "Kill", "('99999',)", ERR ("InvalidArgument") },
  { "/bad/remove-running", "Remove", "(false, false)", ERR ("InvalidState") },
  { "/bad/kill/SIGRTMIN+99", "Kill", "('SIGRTMIN+99',)", ERR ("InvalidArgument") },
  { "/bad/kill/empty", "Kill", "('',)", ERR ("InvalidArgument") },
  { "/bad/kill/negative", "Kill", "('-9',)", ERR ("InvalidArgument") },
  { "/bad/unpause/running", "Unpause", "()", ERR ("InvalidState") },
  { "/bad/rename/invalid", "Rename", "('bad name',)", ERR ("InvalidArgument") },
  { "/bad/rename/empty", "Rename", "('',)", ERR ("InvalidArgument") },
  { "/bad/rename/slash", "Rename", "('a/b',)", ERR ("InvalidArgument") },
  { "/bad/read-logs/zero-lines", "ReadLogs", "(uint64 0, uint32 0)", ERR ("InvalidArgument") },
  { "/bad/read-logs/too-many-lines", "ReadLogs", "(uint64 0, uint32 10001)",
    ERR ("InvalidArgument") },
  { "/bad/get-logs/unknown-option", "GetLogs", "({'Colour': <true>},)", ERR ("InvalidArgument") },
  { "/bad/get-logs/negative-tail", "GetLogs", "({'Tail': <int64 -5>},)",
    ERR ("InvalidArgument") },
  { "/bad/get-logs/follow-wrong-type", "GetLogs", "({'Follow': <'yes'>},)",
    ERR ("InvalidArgument") },
};

static void
test_bad_on_running (Fixture *f, gconstpointer data)
{
  const BadOnRunning *bad = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtrContainer) c = running_container (f, "target");
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = snapshot (f);
  g_autoptr(GVariant) params = g_variant_parse (NULL, bad->params, NULL, NULL, &error);
  g_autoptr(GVariant) reply = NULL;

  g_autofree char *name = NULL;

  g_assert_no_error (error);
  reply = call (f, path, CONTAINER_IFACE, bad->method, params, &error);
  assert_dbus_error (error, bad->error);
  assert_unchanged (f, before);
  assert_still_running (f, c, pid);
  name = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (name, ==, "target");
}

static void
test_bad_stop_configured (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = create_container (f, "idle", CMD ("true"), NULL);
  g_autoptr(CtrContainer) c = container_proxy (f, path);
  g_autofree char *before = snapshot (f);
  g_autofree char *state = NULL;

  ctr_container_call_stop_sync (c, 1, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  assert_unchanged (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
}

/* Paths a buggy import could write @name to, relative to any of the
 * directories it works in. */
static void
assert_nowhere_on_host (Fixture *f, const char *name)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *cwd_parent = g_path_get_dirname (cwd);
  g_autofree char *repo = g_build_filename (f->storage_root, "repo", NULL);
  g_autofree char *repo_tmp = g_build_filename (f->storage_root, "repo", "tmp", NULL);
  g_autofree char *checkouts = g_build_filename (f->storage_root, "checkouts", NULL);
  g_autofree char *tmp_parent = g_path_get_dirname (f->tmp);
  const char *dirs[] = { "/",       "/tmp",    "/etc",    cwd,         cwd_parent, f->tmp,
                         tmp_parent, repo,     repo_tmp,  checkouts,   f->run_root,
                         f->storage_root };
  g_autofree char *found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *candidate = g_build_filename (dirs[i], name, NULL);
      if (g_file_test (candidate, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
        {
          g_printerr ("an archive member escaped to %s\n", candidate);
          unlink (candidate);
          g_assert_not_reached ();
        }
    }
  /* Nor anywhere in the daemon's trees except inside an image checkout. */
  g_assert_cmpint (run_command (CMD ("find", f->tmp, "-name", name, "-not", "-path",
                                     "*/checkouts/*"),
                                &found, NULL),
                   ==, 0);
  g_assert_cmpstr (found, ==, "");
}

static void
test_bad_import_escaping (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tar = g_build_filename (f->tmp, "evil.tar", NULL);
  guint32 tag = g_random_int ();
  g_autofree char *up = g_strdup_printf ("ctrd-escape-up-%08x", tag);
  g_autofree char *abs = g_strdup_printf ("ctrd-escape-abs-%08x", tag);
  g_autofree char *via = g_strdup_printf ("ctrd-escape-link-%08x", tag);
  g_autofree char *up_member = g_strdup_printf ("../%s", up);
  g_autofree char *abs_member = g_strdup_printf ("/%s", abs);
  g_autofree char *via_member = g_strdup_printf ("lib/tmp/%s", via);
  g_autofree char *before = snapshot (f);
  g_autofree char *path = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *tar_warnings = NULL;
  const CtrdTestTarMember members[] = {
    { CTRD_TEST_TAR_DIR, "bin" },
    { CTRD_TEST_TAR_FILE, "bin/ok", "fine\n" },
    { CTRD_TEST_TAR_FILE, up_member, "up\n" },
    { CTRD_TEST_TAR_FILE, abs_member, "abs\n" },
    { CTRD_TEST_TAR_SYMLINK, "lib", "/" },
    { CTRD_TEST_TAR_FILE, via_member, "via\n" },
  };
  g_autoptr(GBytes) bytes = ctrd_test_build_tar (members, G_N_ELEMENTS (members), FALSE);

  ctrd_test_write_bytes (tar, bytes);

  /* The members really are hostile: the tar builder kept them as given. */
  g_assert_cmpint (run_command (CMD ("tar", "-tf", tar), &listing, &tar_warnings), ==, 0);
  g_assert_nonnull (strstr (listing, up_member));
  g_assert_nonnull (strstr (listing, via_member));

  path = import_file (f, tar, "evil", &error);
  if (error != NULL)
    {
      assert_dbus_error (error, ERR ("InvalidArgument"));
      assert_unchanged (f, before);
    }
  else
    g_printerr ("# the hostile archive was imported as %s\n", path);

  assert_nowhere_on_host (f, up);
  assert_nowhere_on_host (f, abs);
  assert_nowhere_on_host (f, via);
}

static void
import_bad_file (Fixture *f, const char *contents, gsize len, gboolean by_path,
                 const char *const *errors)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_build_filename (f->tmp, "bad-input", NULL);
  g_autofree char *before = snapshot (f);
  g_autofree char *path = NULL;

  g_file_set_contents (file, contents, (gssize) len, &error);
  g_assert_no_error (error);
  if (by_path)
    path = import_path (f, file, "bad", NULL, &error);
  else
    path = import_file (f, file, "bad", &error);
  assert_dbus_error_impl (error, errors, __FILE__, __LINE__, G_STRFUNC);
  g_assert_null (path);
  assert_unchanged (f, before);
}

static void
test_bad_import_not_tar (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (int i = 0; i < 200; i++)
    g_string_append (text, "this is not a tar archive\n");
  import_bad_file (f, text->str, text->len, FALSE, ERRORS (ERR ("InvalidArgument")));
}

static void
test_bad_import_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (busybox_tar, &contents, &len, &error);
  g_assert_no_error (error);
  /* Cut inside the busybox binary, off any 512-byte block boundary. */
  import_bad_file (f, contents, len / 2 + 100, TRUE, ERRORS (ERR ("InvalidArgument")));
}

static void
test_bad_import_relative_path (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *path = import_path (f, "busybox.tar", "rel", NULL, &error);

  assert_dbus_error (error, ERR ("InvalidArgument"));
  g_assert_null (path);
  assert_unchanged (f, before);
}

static void
test_bad_import_directory_fd (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *path = NULL;
  int fd = open (f->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  path = import_fd (f, fd, "dir", NULL, &error);
  close (fd);
  assert_dbus_error (error, ERR ("InvalidArgument"));
  g_assert_null (path);
  assert_unchanged (f, before);
}

typedef struct
{
  const char *test_path;
  const char *name;
  const char *options;
} BadImport;

static const BadImport bad_imports[] = {
  { "/bad/import/unknown-format", "fmt", "{'Format': <'bogus'>}" },
  { "/bad/import/format-wrong-type", "fmt", "{'Format': <uint32 1>}" },
  { "/bad/import/unknown-option", "fmt", "{'NoSuchOption': <'x'>}" },
  { "/bad/import/invalid-name", "Bad Name!", NULL },
};

static void
test_bad_import_options (Fixture *f, gconstpointer data)
{
  const BadImport *bad = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *path = import_path (f, busybox_tar, bad->name, bad->options, &error);

  assert_dbus_error (error, ERR ("InvalidArgument"));
  g_assert_null (path);
  assert_unchanged (f, before);
}

/* ---- bad input ----------------------------------------------------------- */

/* Calls on a container that is not running (configured, or run to its exit)
 * that it must refuse, staying as it was. */
typedef struct
{
  const char *test_path;
  gboolean run_first; /* exited rather than configured */
  const char *method;
  const char *params;
  const char *error;
} BadOnIdle;

static const BadOnIdle bad_on_idle[] = {
  { "/bad/pause/configured", FALSE, "Pause", "()", ERR ("InvalidState") },
  { "/bad/pause/exited", TRUE, "Pause", "()", ERR ("InvalidState") },
  { "/bad/unpause/configured", FALSE, "Unpause", "()", ERR ("InvalidState") },
  { "/bad/unpause/exited", TRUE, "Unpause", "()", ERR ("InvalidState") },
  { "/bad/kill/configured", FALSE, "Kill", "('SIGTERM',)", ERR ("InvalidState") },
  { "/bad/rename/name-in-use", FALSE, "Rename", "('taken',)", ERR ("NameInUse") },
  { "/bad/rename/name-in-use-exited", TRUE, "Rename", "('taken',)", ERR ("NameInUse") },
  { "/bad/read-logs/cursor-past-end", TRUE, "ReadLogs", "(uint64 1000000, uint32 10)",
    ERR ("InvalidArgument") },
};

static void
test_bad_on_idle (Fixture *f, gconstpointer data)
{
  const BadOnIdle *bad = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *taken = create_container (f, "taken", CMD ("true"), NULL);
  g_autofree char *path = create_container (f, "idle-target", CMD ("sh", "-c", "echo hi"), NULL);
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autoptr (GVariant) params = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *state_before = NULL;
  g_autofree char *state_after = NULL;
  g_autofree char *name = NULL;
  g_autofree char *before = NULL;

  if (bad->run_first)
    {
      start_container (c);
      g_assert_cmpint (wait_container (c), ==, 0);
      wait_for_state (c, CMD ("exited"));
    }
  state_before = get_string_property (f, path, CONTAINER_IFACE, "State");
  before = snapshot (f);
  params = g_variant_parse (NULL, bad->params, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = call (f, path, CONTAINER_IFACE, bad->method, params, &error);
  assert_dbus_error (error, bad->error);
  assert_unchanged (f, before);
  state_after = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state_after, ==, state_before);
  name = get_string_property (f, path, CONTAINER_IFACE, "Name");
  g_assert_cmpstr (name, ==, "idle-target");
}

typedef enum
{
  FDS_PIPES,        /* stdin, stdout, stderr: three good pipes */
  FDS_NONE,         /* handles but no file descriptors */
  FDS_OUT_OF_RANGE, /* stderr's handle points past the list */
  FDS_DIRECTORY,    /* stdout is a directory */
  FDS_READ_ONLY,    /* stdout is open for reading only */
  FDS_TOO_MANY,     /* a fourth descriptor */
} FdKind;

/* The fd list of @kind, and the three handles to send with it. */
static GUnixFDList *
make_exec_fds (Fixture *f, FdKind kind, gint32 handles[3])
{
  GUnixFDList *fds = g_unix_fd_list_new ();
  int in[2], out[2], err[2];

  handles[0] = 0;
  handles[1] = 1;
  handles[2] = 2;
  if (kind == FDS_NONE)
    return fds;
  make_pipe (in);
  make_pipe (out);
  make_pipe (err);
  g_unix_fd_list_append (fds, in[0], NULL);
  if (kind == FDS_DIRECTORY || kind == FDS_READ_ONLY)
    {
      int fd = kind == FDS_DIRECTORY ? open (f->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                     : open (f->log_path, O_RDONLY | O_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      g_unix_fd_list_append (fds, fd, NULL);
      close (fd);
    }
  else
    g_unix_fd_list_append (fds, out[1], NULL);
  g_unix_fd_list_append (fds, err[1], NULL);
  if (kind == FDS_TOO_MANY)
    g_unix_fd_list_append (fds, out[0], NULL);
  if (kind == FDS_OUT_OF_RANGE)
    handles[2] = 7;
  for (guint i = 0; i < 2; i++)
    {
      close (in[i]);
      close (out[i]);
      close (err[i]);
    }
  return fds;
}

typedef struct
{
  const char *test_path;
  const char *argv; /* GVariant text of type as */
  const char *options;
  FdKind fds;
} BadExec;

static const BadExec bad_execs[] = {
  { "/bad/exec/no-argv", "@as []", NULL, FDS_PIPES },
  { "/bad/exec/empty-command", "['']", NULL, FDS_PIPES },
  { "/bad/exec/tty-zero-rows", "['true']", "{'Tty': <true>, 'Rows': <uint16 0>}", FDS_PIPES },
  { "/bad/exec/rows-without-tty", "['true']", "{'Columns': <uint16 80>}", FDS_PIPES },
  { "/bad/exec/tty-wrong-type", "['true']", "{'Tty': <'yes'>}", FDS_PIPES },
  { "/bad/exec/unknown-option", "['true']", "{'Privileged': <true>}", FDS_PIPES },
  { "/bad/exec/relative-working-dir", "['true']", "{'WorkingDir': <'tmp'>}", FDS_PIPES },
  { "/bad/exec/dotdot-working-dir", "['true']", "{'WorkingDir': <'/tmp/../proc'>}", FDS_PIPES },
  { "/bad/exec/user-minus-one", "['true']", "{'User': <'-1'>}", FDS_PIPES },
  { "/bad/exec/user-too-big", "['true']", "{'User': <'4294967295'>}", FDS_PIPES },
  { "/bad/exec/env-without-equals", "['true']", "{'Env': <['NOEQUALS']>}", FDS_PIPES },
  { "/bad/exec/no-fds", "['true']", NULL, FDS_NONE },
  { "/bad/exec/out-of-range-handle", "['true']", NULL, FDS_OUT_OF_RANGE },
  { "/bad/exec/directory-fd", "['true']", NULL, FDS_DIRECTORY },
  { "/bad/exec/read-only-stdout", "['true']", NULL, FDS_READ_ONLY },
  { "/bad/exec/too-many-fds", "['true']", NULL, FDS_TOO_MANY },
};

static void
test_bad_exec (Fixture *f, gconstpointer data)
{
  const BadExec *bad = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Watch) w = watch_new (f);
  g_autoptr (CtrContainer) c = running_container (f, "exec-target");
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  g_autofree char *run_dir = g_build_filename (f->run_root, "containers",
                                               ctr_container_get_id (c), NULL);
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = snapshot (f);
  g_autofree char *run_before = ctrd_test_dir_listing (run_dir);
  g_autofree char *run_after = NULL;
  g_autofree char *events = NULL;
  g_autoptr (GVariant) argv = g_variant_parse (G_VARIANT_TYPE_STRING_ARRAY, bad->argv, NULL, NULL,
                                               &error);
  g_autoptr (GVariant) options = parse_options (bad->options ? bad->options : "@a{sv} {}");
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint32 handles[3];

  g_assert_no_error (error);
  fds = make_exec_fds (f, bad->fds, handles);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus, BUS_NAME, path, CONTAINER_IFACE, "Exec",
      g_variant_new ("(@as@a{sv}hhh)", argv, options, handles[0], handles[1], handles[2]), NULL,
      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, g_unix_fd_list_get_length (fds) > 0 ? fds : NULL, NULL,
      NULL, &error);
  assert_dbus_error (error, ERR ("InvalidArgument"));
  assert_unchanged (f, before);
  run_after = ctrd_test_dir_listing (run_dir);
  g_assert_cmpstr (run_after, ==, run_before);
  assert_still_running (f, c, pid);
  events = events_of (w, ctr_container_get_id (c));
  g_assert_null (strstr (events, "exec"));
}

static void
test_bad_exec_not_running (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *configured_path = create_container (f, "exec-configured", CMD ("true"), NULL);
  g_autofree char *exited_path = create_container (f, "exec-exited", CMD ("true"), NULL);
  g_autoptr (CtrContainer) configured = container_proxy (f, configured_path);
  g_autoptr (CtrContainer) exited = container_proxy (f, exited_path);
  g_autofree char *before = NULL;

  start_container (exited);
  g_assert_cmpint (wait_container (exited), ==, 0);
  wait_for_state (exited, CMD ("exited"));
  before = snapshot (f);
  try_exec (configured, CMD ("true"), NULL, NULL, NULL, NULL, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);
  try_exec (exited, CMD ("true"), NULL, NULL, NULL, NULL, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  assert_unchanged (f, before);
}

typedef struct
{
  const char *test_path;
  FdKind fds; /* FDS_PIPES here means two descriptors */
} BadExport;

static const BadExport bad_exports[] = {
  { "/bad/export/read-only-fd", FDS_READ_ONLY },
  { "/bad/export/directory-fd", FDS_DIRECTORY },
  { "/bad/export/no-fd", FDS_NONE },
  { "/bad/export/out-of-range-handle", FDS_OUT_OF_RANGE },
  { "/bad/export/two-fds", FDS_PIPES },
};

static void
test_bad_export (Fixture *f, gconstpointer data)
{
  const BadExport *bad = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = create_container (f, "export-target", CMD ("true"), NULL);
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *before = snapshot (f);
  g_autofree char *state = NULL;
  gint32 handle = 0;
  int pipe_fds[2];
  int fd = -1;

  switch (bad->fds)
    {
    case FDS_READ_ONLY:
      fd = open (f->log_path, O_RDONLY | O_CLOEXEC);
      break;
    case FDS_DIRECTORY:
      fd = open (f->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      break;
    case FDS_OUT_OF_RANGE:
      handle = 3;
      G_GNUC_FALLTHROUGH;
    case FDS_PIPES:
      make_pipe (pipe_fds);
      g_unix_fd_list_append (fds, pipe_fds[1], NULL);
      fd = pipe_fds[1];
      close (pipe_fds[0]);
      if (bad->fds == FDS_PIPES)
        g_unix_fd_list_append (fds, pipe_fds[1], NULL);
      break;
    case FDS_NONE:
    case FDS_TOO_MANY:
    default:
      break;
    }
  if (fd >= 0)
    {
      if (bad->fds == FDS_READ_ONLY || bad->fds == FDS_DIRECTORY)
        g_unix_fd_list_append (fds, fd, NULL);
      close (fd);
    }
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus, BUS_NAME, path, CONTAINER_IFACE, "Export", g_variant_new ("(h)", handle), NULL,
      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, g_unix_fd_list_get_length (fds) > 0 ? fds : NULL, NULL,
      NULL, &error);
  assert_dbus_error (error, ERR ("InvalidArgument"));
  assert_unchanged (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
}

static void
test_bad_restart_paused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) c = running_container (f, "paused-target");
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (c));
  guint32 pid = get_u32 (f, c, "Pid");
  g_autofree char *before = NULL;
  g_autofree char *state = NULL;
  g_autofree char *freezer = NULL;

  ctr_container_call_pause_sync (c, NULL, &error);
  g_assert_no_error (error);
  wait_for_state (c, CMD ("paused"));
  before = snapshot (f);
  ctr_container_call_restart_sync (c, 1, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);
  ctr_container_call_pause_sync (c, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  g_clear_error (&error);
  ctr_container_call_start_sync (c, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidState"));
  assert_unchanged (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "paused");
  g_assert_cmpuint (get_u32 (f, c, "Pid"), ==, pid);
  freezer = freezer_state (pid);
  g_assert_cmpstr (freezer, ==, "FROZEN");
}

static void
test_bad_start_unknown_user (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* Well-formed, but the image has no such user: known only at start. */
  g_autofree char *path = create_container (f, "ghost-user", CMD ("true"),
                                            "{'User': <'nosuchuser'>}");
  g_autoptr (CtrContainer) c = container_proxy (f, path);
  g_autofree char *before = snapshot_except_run (f);
  g_autofree char *state = NULL;

  ctr_container_call_start_sync (c, NULL, &error);
  assert_dbus_error (error, ERR ("InvalidArgument"), ERR ("NotFound"));
  assert_unchanged_except_run (f, before);
  state = get_string_property (f, path, CONTAINER_IFACE, "State");
  g_assert_cmpstr (state, ==, "configured");
  g_assert_null (runc_status (f, ctr_container_get_id (c)));
}

/* ---- registration ---------------------------------------------------- */

void
integration_add_bad_request_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_creates); i++)
    add_case (bad_creates[i].test_path, test_bad_create, &bad_creates[i]);
  add_case ("/bad/lookup", test_bad_lookup, NULL);
  add_case ("/bad/removed-container", test_bad_removed_container, NULL);
  add_case ("/bad/property-set", test_bad_property_set, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_on_running); i++)
    add_case (bad_on_running[i].test_path, test_bad_on_running, &bad_on_running[i]);
  add_case ("/bad/stop-configured", test_bad_stop_configured, NULL);
  add_case ("/bad/import/not-a-tar", test_bad_import_not_tar, NULL);
  add_case ("/bad/import/truncated-tar", test_bad_import_truncated, NULL);
  add_case ("/bad/import/escaping-members", test_bad_import_escaping, NULL);
  add_case ("/bad/import/relative-path", test_bad_import_relative_path, NULL);
  add_case ("/bad/import/directory-fd", test_bad_import_directory_fd, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_imports); i++)
    add_case (bad_imports[i].test_path, test_bad_import_options, &bad_imports[i]);
}

void
integration_add_bad_operation_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_on_idle); i++)
    add_case (bad_on_idle[i].test_path, test_bad_on_idle, &bad_on_idle[i]);
  for (guint i = 0; i < G_N_ELEMENTS (bad_execs); i++)
    add_case (bad_execs[i].test_path, test_bad_exec, &bad_execs[i]);
  add_case ("/bad/exec/not-running", test_bad_exec_not_running, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_exports); i++)
    add_case (bad_exports[i].test_path, test_bad_export, &bad_exports[i]);
  add_case ("/bad/restart-paused", test_bad_restart_paused, NULL);
  add_case ("/bad/start-unknown-user", test_bad_start_unknown_user, NULL);
}
