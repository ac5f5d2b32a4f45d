/* Unit tests for ctrd-files: safe image reads, user resolution, generated files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-files.h"
#include "ctrd-test-util.h"

#define TEST_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TEST_IMAGE_ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static const char image_passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                                   "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                                   "# a comment\n"
                                   "broken:x:notanumber:1::/:/bin/sh\n"
                                   "app:x:1000:1000:App:/home/app:/bin/sh\n"
                                   "big:x:4294967294:100::/:/bin/sh";
static const char image_group[] = "root:x:0:\n"
                                  "daemon:x:1:\n"
                                  "wheel:x:10:other,app\n"
                                  "audio:x:29:app\n"
                                  "staff:x:50:\n"
                                  "app:x:1000:app\n";

typedef struct
{
  char *tmpdir;
  char *image;   /* an image root */
  char *outside; /* a directory outside it standing for host files */
  char *run_dir;
  char *host_resolv;
  char *host_hosts;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = ctrd_test_make_tmpdir ("test-files-XXXXXX");
  fx->image = g_build_filename (fx->tmpdir, "image", NULL);
  fx->outside = g_build_filename (fx->tmpdir, "outside", NULL);
  fx->run_dir = g_build_filename (fx->tmpdir, "run", "ctr", NULL);
  fx->host_resolv = g_build_filename (fx->outside, "resolv.conf", NULL);
  fx->host_hosts = g_build_filename (fx->outside, "hosts", NULL);
  ctrd_test_write_file_in (fx->image, "etc/passwd", image_passwd, 0);
  ctrd_test_write_file_in (fx->image, "etc/group", image_group, 0);
  ctrd_test_write_file_in (fx->outside, "secret", "evil:x:777:777::/:/bin/sh\n", 0);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->host_hosts);
  g_free (fx->host_resolv);
  g_free (fx->run_dir);
  g_free (fx->outside);
  g_free (fx->image);
  g_free (fx->tmpdir);
}

/* ------------------------------------------------------------ safe reads */

static void
test_read_in_root_symlinks (Fixture *fx, gconstpointer data)
{
  g_autofree char *secret = g_build_filename (fx->outside, "secret", NULL);
  g_autofree char *relative_escape = g_strdup ("../../../../../../../../outside/secret");
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  /* an absolute symlink to a host file reads the image's file of that name */
  ctrd_test_make_symlink_in (fx->image, "etc/abs-link", secret);
  g_assert_false (
      ctrd_files_read_in_root (fx->image, "/etc/abs-link", 1024, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_assert_null (contents);
  g_clear_error (&error);

  ctrd_test_write_file_in (fx->image, secret, "inside the image\n", 0);
  g_assert_true (
      ctrd_files_read_in_root (fx->image, "/etc/abs-link", 1024, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "inside the image\n");
  g_assert_cmpuint (len, ==, strlen ("inside the image\n"));
  g_clear_pointer (&contents, g_free);

  /* ".." cannot climb above the image root either */
  ctrd_test_make_symlink_in (fx->image, "etc/rel-link", relative_escape);
  g_assert_false (
      ctrd_files_read_in_root (fx->image, "etc/rel-link", 1024, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (
      ctrd_files_read_in_root (fx->image, "/../outside/secret", 1024, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* a symlink inside the image works as the image means it */
  ctrd_test_make_symlink_in (fx->image, "etc/passwd-link", "passwd");
  g_assert_true (
      ctrd_files_read_in_root (fx->image, "/etc/passwd-link", 4096, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, image_passwd);
}

static void
test_read_in_root_kinds_and_limits (Fixture *fx, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (fx->image, "etc", "fifo", NULL);
  g_autofree char *big = g_strnfill (2000, 'x');
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;

  /* a FIFO nobody writes must fail at once, not hang the daemon */
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_false (ctrd_files_read_in_root (fx->image, "/etc/fifo", 1024, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (ctrd_files_read_in_root (fx->image, "/etc", 1024, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  ctrd_test_write_file_in (fx->image, "etc/big", big, 0);
  g_assert_false (ctrd_files_read_in_root (fx->image, "/etc/big", 1999, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  g_assert_true (ctrd_files_read_in_root (fx->image, "/etc/big", 2000, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (contents), ==, 2000);

  g_assert_false (
      ctrd_files_read_in_root ("/nonexistent-root", "/etc/passwd", 10, &contents, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
}

/* ------------------------------------------------------------ users */

typedef struct
{
  const char *spec;
  guint32 uid;
  guint32 gid;
  const char *gids; /* additional, as "10,29" */
  gboolean needs_passwd;
  gboolean needs_group;
} UserCase;

static char *
format_gids (GArray *gids)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < gids->len; i++)
    g_string_append_printf (out, "%s%u", i > 0 ? "," : "", g_array_index (gids, guint32, i));
  return g_string_free (out, FALSE);
}

static void
test_resolve_user (Fixture *fx, gconstpointer data)
{
  static const UserCase cases[] = {
    { "", 0, 0, "", FALSE, FALSE },
    { "root", 0, 0, "", FALSE, FALSE },
    { "0", 0, 0, "", FALSE, FALSE },
    { "app", 1000, 1000, "10,29", FALSE, FALSE },
    { "1000", 1000, 1000, "10,29", FALSE, FALSE },
    { "app:staff", 1000, 50, "", FALSE, FALSE },
    { "app:50", 1000, 50, "", FALSE, FALSE },
    { "1000:audio", 1000, 29, "", FALSE, FALSE },
    { "daemon", 1, 1, "", FALSE, FALSE },
    /* the seed's generatePasswd case: a uid the image does not know */
    { "4242", 4242, 0, "", TRUE, FALSE },
    { "4242:staff", 4242, 50, "", TRUE, FALSE },
    { "4242:4343", 4242, 4343, "", TRUE, TRUE },
    { "app:4343", 1000, 4343, "", FALSE, TRUE },
    { "4294967294", 4294967294u, 100, "", FALSE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdResolvedUser) user = NULL;
      g_autofree char *gids = NULL;

      g_test_message ("user %s", cases[i].spec);
      user = ctrd_files_resolve_user (fx->image, cases[i].spec, &error);
      g_assert_no_error (error);
      g_assert_nonnull (user);
      g_assert_cmpuint (user->uid, ==, cases[i].uid);
      g_assert_cmpuint (user->gid, ==, cases[i].gid);
      gids = format_gids (user->additional_gids);
      g_assert_cmpstr (gids, ==, cases[i].gids);
      g_assert_cmpint (user->needs_passwd_entry, ==, cases[i].needs_passwd);
      g_assert_cmpint (user->needs_group_entry, ==, cases[i].needs_group);
    }
}

static void
test_resolve_user_errors (Fixture *fx, gconstpointer data)
{
  static const char *const bad_specs[] = {
    "nosuch", "app:nogroup", "4294967295", "-1",      "app:", ":1",    "a b",
    "app\n",  "99999999999", "1000:-5",    "app:x:y", "-app", "na/me", "broken",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_specs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CtrdResolvedUser) user = NULL;

      g_test_message ("user %s", bad_specs[i]);
      user = ctrd_files_resolve_user (fx->image, bad_specs[i], &error);
      g_assert_null (user);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (strchr (error->message, '\n'));
    }

  /* the message names what was not found */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CtrdResolvedUser) user = ctrd_files_resolve_user (fx->image, "nosuch", &error);

    g_assert_nonnull (strstr (error->message, "nosuch"));
  }

  /* validate_user_spec checks the form only */
  g_assert_true (ctrd_files_validate_user_spec ("nosuch:nogroup", NULL));
  g_assert_true (ctrd_files_validate_user_spec ("", NULL));
  g_assert_false (ctrd_files_validate_user_spec ("4294967295", NULL));
}

static void
test_resolve_user_image_symlink (Fixture *fx, gconstpointer data)
{
  g_autofree char *secret = g_build_filename (fx->outside, "secret", NULL);
  g_autofree char *passwd = g_build_filename (fx->image, "etc", "passwd", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdResolvedUser) user = NULL;

  /* /etc/passwd -> a host file: the host's users must stay invisible */
  g_assert_cmpint (g_unlink (passwd), ==, 0);
  ctrd_test_make_symlink_in (fx->image, "etc/passwd", secret);
  user = ctrd_files_resolve_user (fx->image, "evil", &error);
  g_assert_null (user);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* and with no passwd a numeric user still works */
  user = ctrd_files_resolve_user (fx->image, "777", &error);
  g_assert_no_error (error);
  g_assert_true (user->needs_passwd_entry);
  g_assert_cmpuint (user->gid, ==, 0);
}

/* ------------------------------------------------------------ validation */

typedef struct
{
  gboolean (*validate) (const char *value, GError **error);
  const char *const good[6];
  const char *const bad[8];
} ValidatorCase;

static void
test_validate_options (void)
{
  static const ValidatorCase cases[] = {
    { ctrd_files_validate_dns_server,
      { "10.0.0.1", "::1", "2001:db8::53", NULL },
      { "", "dns.example", "10.0.0.256", "1.2.3.4\n", NULL } },
    { ctrd_files_validate_dns_search,
      { "example.com", ".", "a-b.c_d.example.", "x", NULL },
      { "", "-a.example", "a..b", "a b", "a\nnameserver 1.2.3.4", "..", NULL } },
    { ctrd_files_validate_dns_option,
      { "ndots:2", "edns0", "single-request", "timeout:1", NULL },
      { "", ":2", "ndots:", "ndots:x", "a b", "x\ny", NULL } },
    { ctrd_files_validate_add_host,
      { "db:10.0.0.2", "v6:2001:db8::1", "a.b_c:127.0.0.1", NULL },
      { "db", "db:", ":10.0.0.1", "db:host-gateway", "bad name:1.2.3.4", "db:1.2.3.4\n", NULL } },
  };

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      for (gsize i = 0; cases[c].good[i] != NULL; i++)
        g_assert_true (cases[c].validate (cases[c].good[i], NULL));
      for (gsize i = 0; cases[c].bad[i] != NULL; i++)
        {
          g_autoptr (GError) error = NULL;

          g_test_message ("value %s", cases[c].bad[i]);
          g_assert_false (cases[c].validate (cases[c].bad[i], &error));
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          /* an untrusted value never reaches a message unescaped */
          g_assert_null (strchr (error->message, '\n'));
        }
    }
}

/* ------------------------------------------------------------ generated files */

static void
init_params (Fixture *fx, CtrdFilesParams *params)
{
  *params = (CtrdFilesParams){
    .id = TEST_ID,
    .name = "web",
    .hostname = "webhost",
    .image_name = "busybox:latest",
    .image_id = TEST_IMAGE_ID,
    .image_root = fx->image,
    .host_resolv_conf = fx->host_resolv,
    .host_hosts = fx->host_hosts,
  };
}

static void
assert_mode (const char *dir, const char *name, guint mode)
{
  g_autofree char *path = name != NULL ? g_build_filename (dir, name, NULL) : g_strdup (dir);
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, mode);
}

static char *
mount_summary (GPtrArray *mounts, const char *run_dir)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < mounts->len; i++)
    {
      const CtrdMount *mount = g_ptr_array_index (mounts, i);
      g_autofree char *base = g_path_get_basename (mount->source);
      g_autofree char *dir = g_path_get_dirname (mount->source);

      g_assert_cmpint (mount->type, ==, CTRD_MOUNT_BIND);
      g_assert_cmpstr (dir, ==, run_dir);
      g_string_append_printf (out, "%s%s=%s", i > 0 ? " " : "", mount->destination, base);
    }
  return g_string_free (out, FALSE);
}

static void
test_generate_files (Fixture *fx, gconstpointer data)
{
  static const char *const add_hosts[] = { "db:10.0.0.2", "v6:2001:db8::1", NULL };
  CtrdFilesParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *resolv = NULL;
  g_autofree char *hosts = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *containerenv = NULL;
  g_autofree char *expected_env = NULL;

  ctrd_test_write_file_in (fx->outside, "resolv.conf",
                           "# generated\n"
                           "nameserver 127.0.0.53\n"
                           "nameserver 10.0.0.1 # office\n"
                           "nameserver\t::1\n"
                           "nameserver 127.1.2.3\n"
                           "nameserver 2001:db8::53\n"
                           "domain ignored.example\n"
                           "search old.example\n"
                           "search a.example  b.example\n"
                           "options ndots:2 edns0\n",
                           0);
  ctrd_test_write_file_in (fx->outside, "hosts", "127.0.0.1\tlocalhost\n10.1.1.1 gateway", 0);

  init_params (fx, &params);
  params.add_hosts = add_hosts;
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  summary = mount_summary (mounts, fx->run_dir);
  g_assert_cmpstr (summary, ==,
                   "/etc/resolv.conf=resolv.conf /etc/hosts=hosts /etc/hostname=hostname "
                   "/run/.containerenv=.containerenv");

  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  g_assert_cmpstr (resolv, ==,
                   "search a.example b.example\n"
                   "nameserver 10.0.0.1\n"
                   "nameserver 2001:db8::53\n"
                   "options ndots:2 edns0\n");
  hosts = ctrd_test_read_file_in (fx->run_dir, "hosts");
  g_assert_cmpstr (hosts, ==,
                   "127.0.0.1\tlocalhost\n10.1.1.1 gateway\n"
                   "10.0.0.2\tdb\n2001:db8::1\tv6\n"
                   "127.0.0.1\twebhost web\n::1\twebhost web\n");
  hostname = ctrd_test_read_file_in (fx->run_dir, "hostname");
  g_assert_cmpstr (hostname, ==, "webhost\n");
  containerenv = ctrd_test_read_file_in (fx->run_dir, ".containerenv");
  expected_env = g_strdup_printf ("engine=\"containersd-%s\"\nname=\"web\"\nid=\"%s\"\n"
                                  "image=\"busybox:latest\"\nimageid=\"%s\"\nrootless=0\n",
                                  PACKAGE_VERSION, TEST_ID, TEST_IMAGE_ID);
  g_assert_cmpstr (containerenv, ==, expected_env);

  assert_mode (fx->run_dir, NULL, 0700);
  assert_mode (fx->run_dir, "resolv.conf", 0644);
  assert_mode (fx->run_dir, "hosts", 0644);
  assert_mode (fx->run_dir, "hostname", 0644);
  assert_mode (fx->run_dir, ".containerenv", 0644);
  g_assert_false (g_file_test (fx->host_resolv, G_FILE_TEST_IS_SYMLINK));
}

static void
test_generate_dns_overrides (Fixture *fx, gconstpointer data)
{
  static const char *const servers[] = { "192.0.2.1", "2001:db8::2", NULL };
  static const char *const search[] = { "corp.example", NULL };
  static const char *const no_search[] = { ".", NULL };
  static const char *const options[] = { "ndots:5", NULL };
  CtrdFilesParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autofree char *resolv = NULL;
  g_autofree char *hosts = NULL;

  /* only localhost resolvers, no hosts file: Google's servers, like libnetwork */
  ctrd_test_write_file_in (fx->outside, "resolv.conf", "nameserver 127.0.0.53\nsearch lan\n", 0);
  init_params (fx, &params);
  params.hostname = NULL;
  params.name = NULL;
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  g_assert_cmpstr (resolv, ==,
                   "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
                   "nameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n");
  hosts = ctrd_test_read_file_in (fx->run_dir, "hosts");
  /* without a host name the short ID names the container */
  g_assert_cmpstr (hosts, ==, "127.0.0.1\t0123456789ab\n::1\t0123456789ab\n");
  g_clear_pointer (&resolv, g_free);
  g_clear_pointer (&mounts, g_ptr_array_unref);

  params.dns_servers = servers;
  params.dns_search = search;
  params.dns_options = options;
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  g_assert_cmpstr (resolv, ==,
                   "search corp.example\nnameserver 192.0.2.1\nnameserver 2001:db8::2\n"
                   "options ndots:5\n");
  g_clear_pointer (&resolv, g_free);
  g_clear_pointer (&mounts, g_ptr_array_unref);

  /* "." means: no search domains at all */
  params.dns_search = no_search;
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  g_assert_cmpstr (resolv, ==, "nameserver 192.0.2.1\nnameserver 2001:db8::2\noptions ndots:5\n");
}

/* On a bridge network: aardvark-dns as the resolver, its domain first, the
 * container's address in hosts; in the host's namespace, the host's
 * localhost resolvers stay reachable and are kept. */
static void
test_generate_network (Fixture *fx, gconstpointer data)
{
  static const char *const network_servers[] = { "10.89.0.1", NULL };
  static const char *const network_search[] = { "dns.podman", NULL };
  static const char *const servers[] = { "192.0.2.1", NULL };
  CtrdFilesParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autofree char *resolv = NULL;
  g_autofree char *hosts = NULL;

  ctrd_test_write_file_in (fx->outside, "resolv.conf",
                           "nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch lan\n", 0);
  ctrd_test_write_file_in (fx->outside, "hosts", "127.0.0.1\tlocalhost\n", 0);
  init_params (fx, &params);
  params.dns_servers = servers; /* aardvark-dns forwards to them */
  params.network_dns_servers = network_servers;
  params.network_dns_search = network_search;
  params.container_ip = "10.89.0.5";
  params.network_gateway = "10.89.0.1";
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  g_assert_cmpstr (resolv, ==, "search dns.podman lan\nnameserver 10.89.0.1\n");
  hosts = ctrd_test_read_file_in (fx->run_dir, "hosts");
  g_assert_cmpstr (hosts, ==,
                   "127.0.0.1\tlocalhost\n10.89.0.5\twebhost web\n"
                   "10.89.0.1\thost.containers.internal\n");
  g_clear_pointer (&resolv, g_free);
  g_clear_pointer (&mounts, g_ptr_array_unref);

  init_params (fx, &params);
  params.host_network = TRUE;
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  resolv = ctrd_test_read_file_in (fx->run_dir, "resolv.conf");
  g_assert_cmpstr (resolv, ==, "search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n");
}

static void
test_generate_passwd_and_group (Fixture *fx, gconstpointer data)
{
  g_autofree char *secret = g_build_filename (fx->outside, "secret", NULL);
  g_autofree char *image_group_path = g_build_filename (fx->image, "etc", "group", NULL);
  g_autofree char *stale_passwd = g_build_filename (fx->run_dir, "passwd", NULL);
  g_autofree char *stale_group = g_build_filename (fx->run_dir, "group", NULL);
  CtrdFilesParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autoptr (CtrdResolvedUser) user = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *group = NULL;
  g_autofree char *expected = NULL;

  user = ctrd_files_resolve_user (fx->image, "4242:4343", &error);
  g_assert_no_error (error);
  /* the image's group is a symlink to a host file: the copy must not take it */
  g_assert_cmpint (g_unlink (image_group_path), ==, 0);
  ctrd_test_make_symlink_in (fx->image, "etc/group", secret);

  init_params (fx, &params);
  params.user = user;
  params.working_dir = "/srv";
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  summary = mount_summary (mounts, fx->run_dir);
  g_assert_true (g_str_has_suffix (summary, " /etc/passwd=passwd /etc/group=group"));

  passwd = ctrd_test_read_file_in (fx->run_dir, "passwd");
  /* the image has no newline at its end: the line still starts on its own */
  expected = g_strconcat (image_passwd, "\n4242:x:4242:4343:container user:/srv:/bin/sh\n", NULL);
  g_assert_cmpstr (passwd, ==, expected);
  group = ctrd_test_read_file_in (fx->run_dir, "group");
  g_assert_cmpstr (group, ==, "4343:x:4343:\n");
  assert_mode (fx->run_dir, "passwd", 0644);
  g_clear_pointer (&mounts, g_ptr_array_unref);
  g_clear_pointer (&summary, g_free);

  /* regenerated for a user the image knows: the stale files go away */
  g_clear_pointer (&user, ctrd_resolved_user_free);
  user = ctrd_files_resolve_user (fx->image, "app", &error);
  g_assert_no_error (error);
  params.user = user;
  mounts = ctrd_files_generate (fx->run_dir, &params, &error);
  g_assert_no_error (error);
  summary = mount_summary (mounts, fx->run_dir);
  g_assert_null (strstr (summary, "passwd"));
  g_assert_false (g_file_test (stale_passwd, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (stale_group, G_FILE_TEST_EXISTS));
}

static void
test_generate_invalid (Fixture *fx, gconstpointer data)
{
  static const char *const bad_hosts[] = { "db:not-an-ip", NULL };
  static const char *const bad_servers[] = { "nameserver", NULL };
  static const char *const bad_options[] = { "ndots:2\nnameserver 6.6.6.6", NULL };
  CtrdFilesParams params;

  for (int c = 0; c < 4; c++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) mounts = NULL;

      init_params (fx, &params);
      if (c == 0)
        params.add_hosts = bad_hosts;
      else if (c == 1)
        params.dns_servers = bad_servers;
      else if (c == 2)
        params.dns_options = bad_options;
      else
        params.hostname = "bad host";
      mounts = ctrd_files_generate (fx->run_dir, &params, &error);
      g_assert_null (mounts);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (strchr (error->message, '\n'));
    }
}

/* ------------------------------------------------------------ directories */

static void
test_ensure_directory (Fixture *fx, gconstpointer data)
{
  g_autofree char *created = g_build_filename (fx->image, "srv", "app", "data", NULL);
  g_autofree char *outside_listing = NULL;
  g_autofree char *after_listing = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  g_assert_true (ctrd_files_ensure_directory (fx->image, "/srv/app/data/", 1234, 4321, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stat (created, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
  g_assert_cmpuint (st.st_uid, ==, 1234);
  g_assert_cmpuint (st.st_gid, ==, 4321);
  g_assert_cmpint (stat (fx->image, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, getuid ());

  /* existing: nothing changes, no error */
  g_assert_true (ctrd_files_ensure_directory (fx->image, "/srv/app/data", 0, 0, &error));
  g_assert_cmpint (stat (created, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, 1234);

  /* a symlink in the image pointing out of it: nothing appears outside */
  outside_listing = ctrd_test_dir_listing (fx->outside);
  ctrd_test_make_symlink_in (fx->image, "escape", "../../../../../../../../../../../outside");
  ctrd_test_make_symlink_in (fx->image, "abs", fx->outside);
  (void) ctrd_files_ensure_directory (fx->image, "/escape/new", 0, 0, NULL);
  (void) ctrd_files_ensure_directory (fx->image, "/abs/new", 0, 0, NULL);
  after_listing = ctrd_test_dir_listing (fx->outside);
  g_assert_cmpstr (after_listing, ==, outside_listing);

  g_assert_false (ctrd_files_ensure_directory (fx->image, "/etc/passwd/sub", 0, 0, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_files_ensure_directory (fx->image, "srv", 0, 0, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ctrd_files_ensure_directory (fx->image, "/srv/../x", 0, 0, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

typedef gboolean (*WriteFunc) (const char *path, const char *data, gsize len, guint mode,
                               GError **error);

/* Both writers: exact modes whatever the umask, the new contents replace
 * the old through a rename (an fd open on the old file still reads the old
 * contents), no temporary file is left, and errors name the path. */
static void
test_write_through_rename (Fixture *fx, gconstpointer data)
{
  WriteFunc write_func = (WriteFunc) data;
  g_autofree char *path = g_build_filename (fx->tmpdir, "atomic", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  char old_bytes[8] = { 0 };
  int old_fd;

  g_assert_true (write_func (path, "one", 3, 0640, &error));
  g_assert_no_error (error);
  assert_mode (path, NULL, 0640);
  old_fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (old_fd, >=, 0);
  g_assert_true (write_func (path, "two\n", 4, 0600, &error));
  assert_mode (path, NULL, 0600);
  contents = ctrd_test_read_file_in (fx->tmpdir, "atomic");
  g_assert_cmpstr (contents, ==, "two\n");
  g_assert_cmpint (read (old_fd, old_bytes, sizeof old_bytes - 1), ==, 3);
  g_assert_cmpstr (old_bytes, ==, "one");
  close (old_fd);
  dir = g_dir_open (fx->tmpdir, 0, NULL);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    g_assert_false (g_str_has_prefix (name, "atomic."));

  g_assert_false (write_func ("/nonexistent-dir/x", "x", 1, 0600, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/x"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/files/read-in-root/symlinks", test_read_in_root_symlinks);
  ADD ("/files/read-in-root/kinds-and-limits", test_read_in_root_kinds_and_limits);
  ADD ("/files/user/resolve", test_resolve_user);
  ADD ("/files/user/errors", test_resolve_user_errors);
  ADD ("/files/user/image-symlink", test_resolve_user_image_symlink);
  g_test_add_func ("/files/validate-options", test_validate_options);
  ADD ("/files/generate/files", test_generate_files);
  ADD ("/files/generate/dns-overrides", test_generate_dns_overrides);
  ADD ("/files/generate/passwd-and-group", test_generate_passwd_and_group);
  ADD ("/files/generate/network", test_generate_network);
  ADD ("/files/generate/invalid", test_generate_invalid);
  ADD ("/files/ensure-directory", test_ensure_directory);
#undef ADD
  g_test_add ("/files/write-atomically", Fixture, ctrd_files_write_atomically, fixture_setup,
              test_write_through_rename, fixture_teardown);
  g_test_add ("/files/write-replace", Fixture, ctrd_files_write_replace, fixture_setup,
              test_write_through_rename, fixture_teardown);

  return g_test_run ();
}
