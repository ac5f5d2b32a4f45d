/* Unit tests for ctrd-treewalk: the fd-relative live tar and disk usage walks. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-treewalk.h"
#include "ctrd-test-util.h"

#define SH_CONTENT "#!/bin/sh\necho hi\n"
#define SHARED_CONTENT "one inode, two names\n"
#define BIG_SIZE (3 * 1024 * 1024 + 17)
#define MTIME 1700000000

typedef struct
{
  char *tmpdir;
  char *root; /* the tree to export */
  int root_fd;
  char *fds_before;
  GBytes *big; /* content of root/big */
  gboolean have_devices;
  gboolean skip_fd_check;
} Fixture;

static void
write_file (int dirfd, const char *name, const void *content, gsize len, mode_t mode)
{
  int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, content, len), ==, (gssize) len);
  g_assert_no_errno (fchmod (fd, mode));
  close (fd);
}

static void
set_mtime (int dirfd, const char *name)
{
  struct timespec times[2] = { { MTIME, 123456789 }, { MTIME, 123456789 } };
  g_assert_no_errno (utimensat (dirfd, name, times, AT_SYMLINK_NOFOLLOW));
}

static GBytes *
pseudo_random_bytes (gsize len)
{
  guint8 *data = g_malloc (len);
  guint32 x = 2463534242u;

  for (gsize i = 0; i < len; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      data[i] = x;
    }
  return g_bytes_new_take (data, len);
}

/* A vfs_cap_data (revision 2) granting CAP_NET_RAW, as setcap writes it. */
static void
capability_value (struct vfs_cap_data *cap)
{
  memset (cap, 0, sizeof *cap);
  cap->magic_etc = GUINT32_TO_LE (VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE);
  cap->data[0].permitted = GUINT32_TO_LE (1u << CAP_NET_RAW);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  struct vfs_cap_data cap;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autofree char *sock_path = NULL;
  int sock;
  int fd;

  fx->fds_before = ctrd_test_dir_listing ("/proc/self/fd");
  fx->tmpdir = ctrd_test_make_tmpdir ("test-export-XXXXXX");
  fx->root = g_build_filename (fx->tmpdir, "root", NULL);
  g_assert_no_errno (mkdir (fx->root, 0755));
  fd = fx->root_fd = open (fx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);

  g_assert_no_errno (mkdirat (fd, "bin", 0755));
  write_file (fd, "bin/sh", SH_CONTENT, strlen (SH_CONTENT), 0755);
  g_assert_no_errno (fchownat (fd, "bin/sh", 1234, 5678, AT_SYMLINK_NOFOLLOW));
  set_mtime (fd, "bin/sh");

  g_assert_no_errno (mkdirat (fd, "etc", 0755));
  write_file (fd, "etc/a.txt", SHARED_CONTENT, strlen (SHARED_CONTENT), 0644);
  g_assert_no_errno (linkat (fd, "etc/a.txt", fd, "etc/b.txt", 0));
  g_assert_no_errno (symlinkat ("../../etc/passwd", fd, "etc/passwd-up"));
  g_assert_no_errno (symlinkat ("/etc/passwd", fd, "etc/passwd-abs"));
  g_assert_no_errno (symlinkat ("/", fd, "escape"));
  set_mtime (fd, "etc/passwd-up");

  g_assert_no_errno (mkdirat (fd, "usr", 0755));
  g_assert_no_errno (mkdirat (fd, "usr/bin", 0755));
  write_file (fd, "usr/bin/su", "su", 2, 04755);

  g_assert_no_errno (mkdirat (fd, "run", 01777));
  g_assert_no_errno (fchmodat (fd, "run", 01777, 0));
  g_assert_no_errno (mkfifoat (fd, "run/fifo", 0600));
  sock_path = g_build_filename (fx->root, "run", "sock", NULL);
  g_assert_cmpuint (strlen (sock_path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, sock_path);
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_no_errno (bind (sock, (struct sockaddr *) &addr, sizeof addr));
  close (sock);

  g_assert_no_errno (mkdirat (fd, "dev", 0755));
  fx->have_devices = mknodat (fd, "dev/null", S_IFCHR | 0666, makedev (1, 3)) == 0;

  g_assert_no_errno (mkdirat (fd, "empty", 0700));
  g_assert_no_errno (fchmodat (fd, "empty", 0700, 0));

  fx->big = pseudo_random_bytes (BIG_SIZE);
  write_file (fd, "big", g_bytes_get_data (fx->big, NULL), BIG_SIZE, 0600);

  write_file (fd, "caps", "ping", 4, 0755);
  capability_value (&cap);
  {
    g_autofree char *caps = g_build_filename (fx->root, "caps", NULL);
    g_assert_no_errno (setxattr (caps, "security.capability", &cap, sizeof cap, 0));
    g_assert_no_errno (setxattr (caps, "user.note", "kept", 4, 0));
    g_assert_no_errno (setxattr (caps, "user.overlay.origin", "dropped", 7, 0));
    g_assert_no_errno (setxattr (caps, "trusted.overlay.opaque", "y", 1, 0));
  }
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *fds_after = NULL;

  close (fx->root_fd);
  fds_after = ctrd_test_dir_listing ("/proc/self/fd");
  if (!fx->skip_fd_check)
    g_assert_cmpstr (fds_after, ==, fx->fds_before);
  ctrd_test_rm_rf (fx->tmpdir);
  g_bytes_unref (fx->big);
  g_free (fx->tmpdir);
  g_free (fx->root);
  g_free (fx->fds_before);
}

/* ------------------------------------------------------------------ */
/* Reading the tar back */

typedef struct
{
  mode_t type;
  mode_t perm;
  gint64 uid, gid;
  gint64 size;
  gint64 mtime;
  dev_t rdev;
  char *symlink;
  char *hardlink;
  GBytes *content;
  GHashTable *xattrs; /* name -> GBytes */
} Member;

static void
member_free (Member *member)
{
  g_free (member->symlink);
  g_free (member->hardlink);
  g_clear_pointer (&member->content, g_bytes_unref);
  g_hash_table_unref (member->xattrs);
  g_free (member);
}

/* The members of the tar in @data by name, and their names in order in
 * *@out_names. */
static GHashTable *
read_tar (GBytes *data, GPtrArray **out_names)
{
  GHashTable *members =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) member_free);
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  int r;

  *out_names = g_ptr_array_new_with_free_func (g_free);
  archive_read_support_format_tar (a);
  g_assert_cmpint (
      archive_read_open_memory (a, g_bytes_get_data (data, NULL), g_bytes_get_size (data)), ==,
      ARCHIVE_OK);
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK)
    {
      Member *member = g_new0 (Member, 1);
      const char *name;
      const void *value;
      size_t value_len;
      g_autoptr (GByteArray) content = g_byte_array_new ();
      char buf[65536];
      la_ssize_t n;

      member->type = archive_entry_filetype (entry);
      member->perm = archive_entry_perm (entry);
      member->uid = archive_entry_uid (entry);
      member->gid = archive_entry_gid (entry);
      member->size = archive_entry_size (entry);
      member->mtime = archive_entry_mtime (entry);
      member->rdev = archive_entry_rdev (entry);
      member->symlink = g_strdup (archive_entry_symlink (entry));
      member->hardlink = g_strdup (archive_entry_hardlink (entry));
      member->xattrs =
          g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
      archive_entry_xattr_reset (entry);
      while (archive_entry_xattr_next (entry, &name, &value, &value_len) == ARCHIVE_OK)
        g_hash_table_insert (member->xattrs, g_strdup (name), g_bytes_new (value, value_len));
      while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
        g_byte_array_append (content, (const guint8 *) buf, n);
      g_assert_cmpint (n, ==, 0);
      member->content = g_byte_array_free_to_bytes (g_steal_pointer (&content));

      name = archive_entry_pathname (entry);
      g_assert_false (g_hash_table_contains (members, name));
      g_ptr_array_add (*out_names, g_strdup (name));
      g_hash_table_insert (members, g_strdup (name), member);
    }
  g_assert_cmpint (r, ==, ARCHIVE_EOF);
  archive_read_free (a);
  return members;
}

static GBytes *
export_to_file (Fixture *fx, int root_fd, guint64 *out_bytes, GError **error)
{
  g_autofree char *path = g_build_filename (fx->tmpdir, "out.tar", NULL);
  g_autofree char *content = NULL;
  gsize len;
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok;

  g_assert_cmpint (fd, >=, 0);
  ok = ctrd_treewalk_tar (root_fd, fd, out_bytes, NULL, error);
  close (fd);
  g_assert_true (g_file_get_contents (path, &content, &len, NULL));
  g_assert_no_errno (unlink (path));
  if (!ok)
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&content), len);
}

static Member *
get_member (GHashTable *members, const char *name)
{
  Member *member = g_hash_table_lookup (members, name);

  if (member == NULL)
    g_error ("no tar member %s", name);
  return member;
}

static void
assert_content (Member *member, const void *data, gsize len)
{
  g_assert_cmpint (member->size, ==, len);
  g_assert_cmpmem (g_bytes_get_data (member->content, NULL), g_bytes_get_size (member->content),
                   data, len);
}

static void
test_export_tree (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GHashTable) members = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *joined = NULL;
  struct vfs_cap_data cap;
  Member *m;
  guint64 bytes = 0;
  const char *expected_names =
      "big bin/ bin/sh caps dev/ dev/null empty/ escape etc/ etc/a.txt etc/b.txt "
      "etc/passwd-abs etc/passwd-up run/ run/fifo usr/ usr/bin/ usr/bin/su";

  tar = export_to_file (fx, fx->root_fd, &bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bytes, ==, g_bytes_get_size (tar));
  members = read_tar (tar, &names);

  /* like podman export: relative names without "./", no member for the
   * root, each directory before what it holds; no socket */
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (" ", (char **) names->pdata);
  if (!fx->have_devices)
    g_test_message ("mknod failed: no device node in the tree");
  else
    g_assert_cmpstr (joined, ==, expected_names);

  m = get_member (members, "bin/");
  g_assert_cmpint (m->type, ==, AE_IFDIR);
  g_assert_cmpint (m->perm, ==, 0755);
  m = get_member (members, "empty/");
  g_assert_cmpint (m->type, ==, AE_IFDIR);
  g_assert_cmpint (m->perm, ==, 0700);
  m = get_member (members, "run/");
  g_assert_cmpint (m->perm, ==, 01777);

  m = get_member (members, "bin/sh");
  g_assert_cmpint (m->type, ==, AE_IFREG);
  g_assert_cmpint (m->perm, ==, 0755);
  g_assert_cmpint (m->uid, ==, 1234);
  g_assert_cmpint (m->gid, ==, 5678);
  g_assert_cmpint (m->mtime, ==, MTIME);
  assert_content (m, SH_CONTENT, strlen (SH_CONTENT));

  m = get_member (members, "usr/bin/su");
  g_assert_cmpint (m->perm, ==, 04755);
  assert_content (m, "su", 2);

  m = get_member (members, "big");
  g_assert_cmpint (m->perm, ==, 0600);
  assert_content (m, g_bytes_get_data (fx->big, NULL), BIG_SIZE);

  /* the first name carries the content, the second is a hardlink to it */
  m = get_member (members, "etc/a.txt");
  g_assert_null (m->hardlink);
  assert_content (m, SHARED_CONTENT, strlen (SHARED_CONTENT));
  m = get_member (members, "etc/b.txt");
  g_assert_cmpstr (m->hardlink, ==, "etc/a.txt");
  g_assert_cmpint (m->size, ==, 0);

  /* symlinks stay links, whatever they point at */
  m = get_member (members, "etc/passwd-up");
  g_assert_cmpint (m->type, ==, AE_IFLNK);
  g_assert_cmpstr (m->symlink, ==, "../../etc/passwd");
  g_assert_cmpint (m->size, ==, 0);
  g_assert_cmpint (m->mtime, ==, MTIME);
  m = get_member (members, "etc/passwd-abs");
  g_assert_cmpint (m->type, ==, AE_IFLNK);
  g_assert_cmpstr (m->symlink, ==, "/etc/passwd");
  m = get_member (members, "escape");
  g_assert_cmpint (m->type, ==, AE_IFLNK);
  g_assert_cmpstr (m->symlink, ==, "/");

  m = get_member (members, "run/fifo");
  g_assert_cmpint (m->type, ==, AE_IFIFO);
  g_assert_cmpint (m->perm, ==, 0600);
  if (fx->have_devices)
    {
      m = get_member (members, "dev/null");
      g_assert_cmpint (m->type, ==, AE_IFCHR);
      g_assert_cmpint (major (m->rdev), ==, 1);
      g_assert_cmpint (minor (m->rdev), ==, 3);
    }

  m = get_member (members, "caps");
  capability_value (&cap);
  g_assert_cmpuint (g_hash_table_size (m->xattrs), ==, 2);
  g_assert_cmpmem (g_bytes_get_data (g_hash_table_lookup (m->xattrs, "user.note"), NULL), 4, "kept",
                   4);
  g_assert_cmpmem (g_bytes_get_data (g_hash_table_lookup (m->xattrs, "security.capability"), NULL),
                   sizeof cap, &cap, sizeof cap);
}

/* GNU tar, what people will feed the export to, reads it too. */
static void
test_export_gnu_tar_lists (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) tar = export_to_file (fx, fx->root_fd, NULL, &error);
  g_autofree char *tar_path = g_build_filename (fx->tmpdir, "copy.tar", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { "tar", "-tvf", tar_path, NULL };
  int status;

  g_assert_no_error (error);
  ctrd_test_write_bytes (tar_path, tar);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "-rwsr-xr-x 0/0               2 "));
  g_assert_nonnull (strstr (out, " etc/passwd-up -> ../../etc/passwd\n"));
  g_assert_nonnull (strstr (out, " etc/b.txt link to etc/a.txt\n"));
  g_assert_nonnull (strstr (out, "prw------- 0/0               0 "));
}

/* Exports into a pipe read by a thread; returns what it read. */
static GBytes *
export_to_pipe (int root_fd, gssize stop_after, gboolean nonblocking, GCancellable *cancellable,
                guint64 *out_bytes, GError **error)
{
  CtrdTestPipeReader reader = { 0 };
  GThread *thread;
  int fds[2];
  gboolean ok;

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  if (nonblocking)
    g_assert_no_errno (fcntl (fds[1], F_SETFL, O_NONBLOCK));
  reader.fd = fds[0];
  reader.stop_after = stop_after;
  reader.slow = nonblocking;
  reader.data = g_byte_array_new ();
  thread = g_thread_new ("tar-reader", ctrd_test_pipe_reader_thread, &reader);
  ok = ctrd_treewalk_tar (root_fd, fds[1], out_bytes, cancellable, error);
  g_assert_true (ok == (error == NULL || *error == NULL));
  close (fds[1]);
  g_thread_join (thread);
  return g_byte_array_free_to_bytes (reader.data);
}

static void
test_export_pipe (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) from_file = export_to_file (fx, fx->root_fd, NULL, &error);

  g_assert_no_error (error);
  /* blocking and non-blocking (a slow reader: EAGAIN) pipes give the same bytes */
  for (guint nonblocking = 0; nonblocking < 2; nonblocking++)
    {
      g_autoptr (GBytes) from_pipe = NULL;
      guint64 bytes = 0;

      from_pipe = export_to_pipe (fx->root_fd, -1, nonblocking, NULL, &bytes, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (bytes, ==, g_bytes_get_size (from_pipe));
      g_assert_true (g_bytes_equal (from_pipe, from_file));
    }
}

static void
test_export_reader_closes (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = export_to_pipe (fx->root_fd, 1000, FALSE, NULL, NULL, &error);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_assert_cmpuint (g_bytes_get_size (got), ==, 1000);
}

static void
test_export_cancelled (Fixture *fx, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;

  g_cancellable_cancel (cancellable);
  got = export_to_pipe (fx->root_fd, -1, FALSE, cancellable, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (g_bytes_get_size (got), ==, 0);

  g_clear_error (&error);
  g_assert_false (ctrd_treewalk_disk_usage (fx->root_fd, &(guint64){ 0 }, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_disk_usage (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint64 bytes = 0;
  guint64 expected = strlen (SH_CONTENT) + strlen (SHARED_CONTENT) /* once for a.txt, b.txt */
                     + strlen ("../../etc/passwd") + strlen ("/etc/passwd") + strlen ("/") +
                     2 /* su */ + BIG_SIZE + 4 /* caps */;

  g_assert_true (ctrd_treewalk_disk_usage (fx->root_fd, &bytes, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bytes, ==, expected);

  /* a third name for the same inode changes nothing; a new file does */
  g_assert_no_errno (linkat (fx->root_fd, "big", fx->root_fd, "usr/big-again", 0));
  write_file (fx->root_fd, "usr/new", "12345", 5, 0644);
  g_assert_true (ctrd_treewalk_disk_usage (fx->root_fd, &bytes, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bytes, ==, expected + 5);
}

static void
test_root_not_directory (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->root, "bin", "sh", NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  guint64 bytes;

  g_assert_cmpint (fd, >=, 0);
  g_assert_false (ctrd_treewalk_disk_usage (fd, &bytes, NULL, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  close (fd);
}

static void
spawn_rm_rf (const char *path)
{
  const char *argv[] = { "rm", "-rf", "--one-file-system", path, NULL };
  g_autoptr (GError) error = NULL;
  int status;

  /* nftw in ctrd_test_rm_rf needs whole paths, longer than PATH_MAX here */
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* A chain of @levels directories "d/d/d..." in @dirfd with a file at the bottom. */
static void
make_deep_tree (int dirfd, guint levels)
{
  int fd = dup (dirfd);

  for (guint i = 0; i < levels; i++)
    {
      int next;

      g_assert_no_errno (mkdirat (fd, "d", 0755));
      next = openat (fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_assert_cmpint (next, >=, 0);
      close (fd);
      fd = next;
    }
  write_file (fd, "bottom", "x", 1, 0644);
  close (fd);
}

static void
test_depth_limit (Fixture *fx, gconstpointer data)
{
  g_autofree char *deep_path = g_build_filename (fx->tmpdir, "deep", NULL);
  int null_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  int deep_fd;

  g_assert_no_errno (mkdir (deep_path, 0755));
  deep_fd = open (deep_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (deep_fd, >=, 0);

  /* as deep as allowed: fine */
  make_deep_tree (deep_fd, CTRD_TREEWALK_MAX_DEPTH);
  {
    g_autoptr (GError) error = NULL;
    guint64 bytes = 0;
    g_assert_true (ctrd_treewalk_disk_usage (deep_fd, &bytes, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (bytes, ==, 1);
    g_assert_true (ctrd_treewalk_tar (deep_fd, null_fd, &bytes, NULL, &error));
    g_assert_no_error (error);
  }
  spawn_rm_rf (deep_path);

  g_assert_no_errno (mkdir (deep_path, 0755));
  close (deep_fd);
  deep_fd = open (deep_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  make_deep_tree (deep_fd, CTRD_TREEWALK_MAX_DEPTH + 1);
  {
    g_autoptr (GError) error = NULL;
    guint64 bytes = 0;
    g_assert_false (ctrd_treewalk_disk_usage (deep_fd, &bytes, NULL, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
    g_clear_error (&error);
    g_assert_false (ctrd_treewalk_tar (deep_fd, null_fd, &bytes, NULL, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  }
  spawn_rm_rf (deep_path);
  close (deep_fd);
  close (null_fd);
}

/* ------------------------------------------------------------------ */
/* Mounts, in a subprocess with a mount namespace of its own, so that a
 * failed test leaves no mount behind. */

static gboolean
enter_private_mount_namespace (void)
{
  if (unshare (CLONE_NEWNS) < 0)
    return FALSE;
  g_assert_no_errno (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
  return TRUE;
}

static void
mounts_child (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GHashTable) members = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *other = g_build_filename (fx->tmpdir, "other", NULL);
  g_autofree char *other_file = g_build_filename (other, "outside", NULL);
  g_autofree char *tmpfs_at = g_build_filename (fx->root, "mnt", NULL);
  g_autofree char *bind_at = g_build_filename (fx->root, "bind", NULL);
  g_autofree char *file_bind_at = g_build_filename (fx->root, "etc", "a.txt", NULL);
  g_autofree char *inside = g_build_filename (tmpfs_at, "inside", NULL);
  guint64 before = 0, after = 0;

  g_assert_true (ctrd_treewalk_disk_usage (fx->root_fd, &before, NULL, &error));
  g_assert_no_error (error);

  g_assert_no_errno (mkdir (other, 0755));
  g_assert_true (g_file_set_contents (other_file, "not ours, same filesystem", -1, NULL));
  g_assert_no_errno (mkdir (tmpfs_at, 0711));
  g_assert_no_errno (mkdir (bind_at, 0755));
  g_assert_no_errno (mount ("tmpfs", tmpfs_at, "tmpfs", 0, "mode=0711"));
  g_assert_true (g_file_set_contents (inside, "not ours, another filesystem", -1, NULL));
  /* same st_dev as the tree: only the mount-root flag tells */
  g_assert_no_errno (mount (other, bind_at, NULL, MS_BIND, NULL));
  /* a file over a file: its content is another file's */
  g_assert_no_errno (mount (other_file, file_bind_at, NULL, MS_BIND, NULL));

  tar = export_to_file (fx, fx->root_fd, NULL, &error);
  g_assert_no_error (error);
  members = read_tar (tar, &names);
  /* the mount points are listed, their content is not */
  g_assert_cmpint (get_member (members, "mnt/")->type, ==, AE_IFDIR);
  g_assert_cmpint (get_member (members, "bind/")->type, ==, AE_IFDIR);
  g_assert_false (g_hash_table_contains (members, "mnt/inside"));
  g_assert_false (g_hash_table_contains (members, "bind/outside"));
  g_assert_false (g_hash_table_contains (members, "etc/a.txt"));
  /* its other name is not a mount point: stored with its own content */
  assert_content (get_member (members, "etc/b.txt"), SHARED_CONTENT, strlen (SHARED_CONTENT));

  g_assert_true (ctrd_treewalk_disk_usage (fx->root_fd, &after, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (after, ==, before);

  g_assert_no_errno (umount (file_bind_at));
  g_assert_no_errno (umount (bind_at));
  g_assert_no_errno (umount (tmpfs_at));
}

/* The real case: the merged view of an overlay whose upper layer is on
 * another filesystem than the lower, where non-directories report their
 * layer's st_dev. Nothing of it may be taken for a mount. */
static void
overlay_child (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GHashTable) members = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *layers = g_build_filename (fx->tmpdir, "layers", NULL);
  g_autofree char *upper = g_build_filename (layers, "upper", NULL);
  g_autofree char *work = g_build_filename (layers, "work", NULL);
  g_autofree char *merged = g_build_filename (fx->tmpdir, "merged", NULL);
  g_autofree char *options = NULL;
  g_autofree char *new_file = NULL;
  guint64 upper_bytes = 0;
  int merged_fd, upper_fd;

  g_assert_no_errno (mkdir (layers, 0755));
  g_assert_no_errno (mount ("tmpfs", layers, "tmpfs", 0, NULL));
  g_assert_no_errno (mkdir (upper, 0755));
  g_assert_no_errno (mkdir (work, 0755));
  g_assert_no_errno (mkdir (merged, 0755));
  options = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s", fx->root, upper, work);
  if (mount ("overlay", merged, "overlay", 0, options) < 0)
    {
      g_test_skip ("cannot mount an overlay here");
      g_assert_no_errno (umount (layers));
      return;
    }
  new_file = g_build_filename (merged, "usr", "bin", "new", NULL);
  g_assert_true (g_file_set_contents (new_file, "written in the container", -1, NULL));

  merged_fd = open (merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  tar = export_to_file (fx, merged_fd, NULL, &error);
  g_assert_no_error (error);
  members = read_tar (tar, &names);
  assert_content (get_member (members, "usr/bin/new"), "written in the container", 24);
  assert_content (get_member (members, "bin/sh"), SH_CONTENT, strlen (SH_CONTENT));
  assert_content (get_member (members, "big"), g_bytes_get_data (fx->big, NULL), BIG_SIZE);
  g_assert_cmpstr (get_member (members, "etc/b.txt")->hardlink, ==, "etc/a.txt");
  g_assert_cmpint (get_member (members, "usr/bin/su")->perm, ==, 04755);
  close (merged_fd);

  /* GetSizes' writable layer: what the container wrote */
  upper_fd = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_true (ctrd_treewalk_disk_usage (upper_fd, &upper_bytes, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (upper_bytes, ==, 24);
  close (upper_fd);

  g_assert_no_errno (umount (merged));
  g_assert_no_errno (umount (layers));
}

static void
run_in_namespace (Fixture *fx, void (*child) (Fixture *fx))
{
  if (g_test_subprocess ())
    {
      if (!enter_private_mount_namespace ())
        {
          g_test_skip ("no mount namespace (not root?)");
          return;
        }
      /* An fd opened before unshare() looks up through the old namespace's
       * mounts: the root must be opened again to see the new ones. */
      close (fx->root_fd);
      fx->root_fd = open (fx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_assert_cmpint (fx->root_fd, >=, 0);
      child (fx);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  /* The child checked its own fds; here GLib may keep one for watching it. */
  fx->skip_fd_check = TRUE;
}

static void
test_mounts_not_crossed (Fixture *fx, gconstpointer data)
{
  run_in_namespace (fx, mounts_child);
}

static void
test_overlay_merged (Fixture *fx, gconstpointer data)
{
  run_in_namespace (fx, overlay_child);
}

/* Symlinks sharing an inode (as OSTree's hardlink checkouts make them) are
 * written as symlinks; only regular files become hard links. */
static void
test_export_linked_symlinks (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GHashTable) members = NULL;
  g_autoptr (GPtrArray) names = NULL;
  int fd = fx->root_fd;
  Member *m;

  g_assert_no_errno (mkdirat (fd, "links", 0755));
  g_assert_no_errno (symlinkat ("busybox", fd, "links/["));
  /* without AT_SYMLINK_FOLLOW, linkat links the symlink itself */
  g_assert_no_errno (linkat (fd, "links/[", fd, "links/[[", 0));
  g_assert_no_errno (linkat (fd, "bin/sh", fd, "links/sh", 0));

  tar = export_to_file (fx, fd, NULL, &error);
  g_assert_no_error (error);
  members = read_tar (tar, &names);
  for (guint i = 0; i < 2; i++)
    {
      m = get_member (members, i == 0 ? "links/[" : "links/[[");
      g_assert_cmpint (m->type, ==, AE_IFLNK);
      g_assert_cmpstr (m->symlink, ==, "busybox");
      g_assert_null (m->hardlink);
    }
  /* whichever the walk met first carries the content */
  m = get_member (members, "links/sh");
  if (m->hardlink != NULL)
    g_assert_cmpstr (m->hardlink, ==, "bin/sh");
  else
    g_assert_cmpstr (get_member (members, "bin/sh")->hardlink, ==, "links/sh");
}

int
main (int argc, char **argv)
{
  /* as the daemon does: a closed reader must be an error, not a death */
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func)                                                                            \
  g_test_add ("/export/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("tar/tree", test_export_tree);
  ADD ("tar/gnu-tar-lists", test_export_gnu_tar_lists);
  ADD ("tar/pipe", test_export_pipe);
  ADD ("tar/reader-closes", test_export_reader_closes);
  ADD ("tar/cancelled", test_export_cancelled);
  ADD ("tar/linked-symlinks", test_export_linked_symlinks);
  ADD ("disk-usage", test_disk_usage);
  ADD ("root-not-directory", test_root_not_directory);
  ADD ("depth-limit", test_depth_limit);
  ADD ("mounts-not-crossed", test_mounts_not_crossed);
  ADD ("overlay-merged", test_overlay_merged);
#undef ADD

  return g_test_run ();
}
