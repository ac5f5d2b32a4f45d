/* test-caller-open.c: paths opened with a caller's credentials on a
 * temporary directory, as uid 65534 with groups of the test's choosing:
 * what the caller may not read is refused (mode bits on the file and on the
 * directories on the way), what it may read is opened, kinds other than
 * regular files and directories are never opened, and BENEATH walks refuse
 * symlinks; SEARCHABLE and WRITABLE ask the caller's access to a bind
 * source; the user database gives an owner's groups; a path on a FUSE
 * filesystem whose server is stopped (bindfs, SIGSTOP) is given up on
 * after the open timeout with TIMEOUT. Needs root (it makes files of other
 * owners); skips otherwise. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctrd-caller-open.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-test-util.h"

#define NOBODY 65534
#define SOME_GROUP 4242 /* need not exist: the kernel checks numbers */

typedef struct
{
  char *tmpdir;
  int tmp_dfd;
  CtrdCaller *nobody;          /* uid 65534, group 65534 only */
  CtrdCaller *nobody_in_group; /* uid 65534, groups 65534 and SOME_GROUP */
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  const guint32 alone[] = { NOBODY };
  const guint32 grouped[] = { NOBODY, SOME_GROUP };
  g_autoptr (GError) error = NULL;

  fx->tmpdir = ctrd_test_make_tmpdir ("test-caller-open-XXXXXX");
  g_assert_cmpint (chmod (fx->tmpdir, 0755), ==, 0);
  fx->tmp_dfd = open (fx->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fx->tmp_dfd, >=, 0);
  fx->nobody = ctrd_caller_new (NOBODY, alone, G_N_ELEMENTS (alone), &error);
  g_assert_no_error (error);
  fx->nobody_in_group = ctrd_caller_new (NOBODY, grouped, G_N_ELEMENTS (grouped), &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  ctrd_caller_free (fx->nobody);
  ctrd_caller_free (fx->nobody_in_group);
  close (fx->tmp_dfd);
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
}

static gboolean
need_root (void)
{
  if (geteuid () == 0)
    return TRUE;
  g_test_skip ("needs root to make files of other owners");
  return FALSE;
}

/* @relative in the fixture with @contents, @mode and owner @uid:@gid. */
static char *
make_owned (Fixture *fx, const char *relative, const char *contents, guint mode, uid_t uid,
            gid_t gid)
{
  char *path = g_build_filename (fx->tmpdir, relative, NULL);

  ctrd_test_write_file (path, contents, mode);
  g_assert_cmpint (chown (path, uid, gid), ==, 0);
  g_assert_cmpint (chmod (path, mode), ==, 0);
  return path;
}

static char *
make_dir (Fixture *fx, const char *relative, guint mode, uid_t uid)
{
  char *path = g_build_filename (fx->tmpdir, relative, NULL);

  g_assert_cmpint (mkdir (path, mode), ==, 0);
  g_assert_cmpint (chown (path, uid, uid), ==, 0);
  g_assert_cmpint (chmod (path, mode), ==, 0);
  return path;
}

/* Opens @path as @caller and checks it reads @expected. */
static void
assert_opens_to (const CtrdCaller *caller, int dir_fd, const char *path, CtrdCallerOpenFlags flags,
                 const char *expected)
{
  g_autoptr (GError) error = NULL;
  ctrd_autofd int fd = ctrd_caller_open (caller, dir_fd, path, flags, &error);
  char buf[64] = { 0 };

  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, !=, 0);
  g_assert_cmpint (read (fd, buf, sizeof buf - 1), ==, (gssize) strlen (expected));
  g_assert_cmpstr (buf, ==, expected);
}

/* Opening @path as @caller fails with @code and a message holding @needle. */
static void
assert_refused (const CtrdCaller *caller, int dir_fd, const char *path, CtrdCallerOpenFlags flags,
                CtrdError code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  int fd = ctrd_caller_open (caller, dir_fd, path, flags, &error);

  g_assert_cmpint (fd, ==, -1);
  g_assert_error (error, CTRD_ERROR, (gint) code);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not say “%s”", error->message, needle);
}

/* ------------------------------------------------------------------ */

static void
test_root_only_file (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *open_secret = NULL;

  if (!need_root ())
    return;
  dir = make_dir (fx, "private", 0700, 0);
  secret = g_build_filename (dir, "secret.tar", NULL);
  ctrd_test_write_file (secret, "root only", 0600);
  open_secret = make_owned (fx, "secret-here.tar", "root only too", 0600, 0, 0);

  /* the daemon's rights: what it could always open */
  assert_opens_to (NULL, AT_FDCWD, secret, 0, "root only");
  /* the caller's: neither the file nor the directory on the way */
  assert_refused (fx->nobody, AT_FDCWD, secret, 0, CTRD_ERROR_NOT_AUTHORIZED,
                  "permission denied for uid 65534");
  assert_refused (fx->nobody, AT_FDCWD, open_secret, 0, CTRD_ERROR_NOT_AUTHORIZED, "Cannot read");
  assert_refused (fx->nobody, AT_FDCWD, open_secret, 0, CTRD_ERROR_NOT_AUTHORIZED,
                  "secret-here.tar");
}

static void
test_own_file (Fixture *fx, gconstpointer data)
{
  g_autofree char *mine = NULL;
  g_autofree char *hidden_dir = NULL;
  g_autofree char *hidden = NULL;

  if (!need_root ())
    return;
  mine = make_owned (fx, "mine.tar", "mine", 0400, NOBODY, NOBODY);
  assert_opens_to (fx->nobody, AT_FDCWD, mine, 0, "mine");
  /* its own file in a directory it cannot search: as the caller, no */
  hidden_dir = make_dir (fx, "hidden", 0700, 0);
  hidden = g_build_filename (hidden_dir, "mine.tar", NULL);
  ctrd_test_write_file (hidden, "mine", 0400);
  g_assert_cmpint (chown (hidden, NOBODY, NOBODY), ==, 0);
  assert_refused (fx->nobody, AT_FDCWD, hidden, 0, CTRD_ERROR_NOT_AUTHORIZED,
                  "permission denied for uid 65534");
}

static void
test_groups (Fixture *fx, gconstpointer data)
{
  g_autofree char *shared = NULL;

  if (!need_root ())
    return;
  shared = make_owned (fx, "group.tar", "for the group", 0640, 0, SOME_GROUP);
  assert_opens_to (fx->nobody_in_group, AT_FDCWD, shared, 0, "for the group");
  assert_refused (fx->nobody, AT_FDCWD, shared, 0, CTRD_ERROR_NOT_AUTHORIZED,
                  "permission denied for uid 65534");
}

static void
test_missing (Fixture *fx, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (fx->tmpdir, "no-such.tar", NULL);

  if (!need_root ())
    return;
  assert_refused (fx->nobody, AT_FDCWD, missing, 0, CTRD_ERROR_NOT_FOUND, "no-such.tar");
  assert_refused (NULL, AT_FDCWD, missing, 0, CTRD_ERROR_NOT_FOUND, "no-such.tar");
}

/* A FIFO without a writer would hang a read-open: it is refused by its
 * kind on the O_PATH fd, so this returns at all. */
static void
test_kinds (Fixture *fx, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (fx->tmpdir, "fifo", NULL);
  g_autofree char *link = g_build_filename (fx->tmpdir, "link.tar", NULL);
  g_autofree char *target = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  ctrd_autofd int dir_fd = -1;
  struct stat st;

  if (!need_root ())
    return;
  g_assert_cmpint (mkfifo (fifo, 0666), ==, 0);
  target = make_owned (fx, "target.tar", "target", 0644, NOBODY, NOBODY);
  g_assert_cmpint (symlink (target, link), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      const CtrdCaller *caller = i == 0 ? NULL : fx->nobody;

      assert_refused (caller, AT_FDCWD, fifo, 0, CTRD_ERROR_INVALID_ARGUMENT, "a special file");
      assert_refused (caller, AT_FDCWD, "/dev/null", 0, CTRD_ERROR_INVALID_ARGUMENT,
                      "a special file");
      assert_refused (caller, AT_FDCWD, link, 0, CTRD_ERROR_INVALID_ARGUMENT, "a symbolic link");
    }
  /* a directory: opened for reading as a directory, unless REGULAR */
  dir = make_dir (fx, "layout", 0755, NOBODY);
  dir_fd = ctrd_caller_open (fx->nobody, AT_FDCWD, dir, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (dir_fd, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (fcntl (dir_fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
  assert_refused (fx->nobody, AT_FDCWD, dir, CTRD_CALLER_OPEN_REGULAR, CTRD_ERROR_INVALID_ARGUMENT,
                  "a directory, not a regular file");
}

static void
test_beneath (Fixture *fx, gconstpointer data)
{
  g_autofree char *layout = NULL;
  g_autofree char *blobs = NULL;
  g_autofree char *outside = NULL;
  g_autofree char *link = NULL;
  g_autofree char *dir_link = NULL;
  g_autoptr (GError) error = NULL;
  ctrd_autofd int dir_fd = -1;

  if (!need_root ())
    return;
  layout = make_dir (fx, "layout", 0755, NOBODY);
  blobs = make_dir (fx, "layout/blobs", 0755, NOBODY);
  g_free (make_owned (fx, "layout/blobs/mine", "blob", 0644, NOBODY, NOBODY));
  g_free (make_owned (fx, "layout/blobs/roots", "root's blob", 0600, 0, 0));
  outside = make_owned (fx, "outside", "readable", 0644, NOBODY, NOBODY);
  link = g_build_filename (blobs, "link", NULL);
  g_assert_cmpint (symlink (outside, link), ==, 0);
  dir_link = g_build_filename (layout, "via", NULL);
  g_assert_cmpint (symlink (blobs, dir_link), ==, 0);
  dir_fd = ctrd_caller_open (fx->nobody, AT_FDCWD, layout, 0, &error);
  g_assert_no_error (error);

  assert_opens_to (fx->nobody, dir_fd, "blobs/mine", CTRD_CALLER_OPEN_BENEATH, "blob");
  assert_refused (fx->nobody, dir_fd, "blobs/roots", CTRD_CALLER_OPEN_BENEATH,
                  CTRD_ERROR_NOT_AUTHORIZED, "permission denied for uid 65534");
  /* even a symlink to a file the caller may read leads nowhere */
  assert_refused (fx->nobody, dir_fd, "blobs/link", CTRD_CALLER_OPEN_BENEATH,
                  CTRD_ERROR_INVALID_ARGUMENT, "a symbolic link");
  assert_refused (fx->nobody, dir_fd, "via/mine", CTRD_CALLER_OPEN_BENEATH,
                  CTRD_ERROR_INVALID_ARGUMENT, "goes through a symlink");
  assert_refused (NULL, dir_fd, "via/mine", CTRD_CALLER_OPEN_BENEATH, CTRD_ERROR_INVALID_ARGUMENT,
                  "goes through a symlink");
  assert_refused (fx->nobody, dir_fd, "blobs", CTRD_CALLER_OPEN_BENEATH | CTRD_CALLER_OPEN_REGULAR,
                  CTRD_ERROR_INVALID_ARGUMENT, "not a regular file");
  for (guint i = 0; i < 4; i++)
    {
      const char *bad[] = { "../outside", "/etc/passwd", "blobs//mine", "./blobs/mine" };
      assert_refused (fx->nobody, dir_fd, bad[i], CTRD_CALLER_OPEN_BENEATH,
                      CTRD_ERROR_INVALID_ARGUMENT, "must be relative");
    }
  assert_refused (fx->nobody, dir_fd, "blobs/none", CTRD_CALLER_OPEN_BENEATH, CTRD_ERROR_NOT_FOUND,
                  "blobs/none");
}

static void
test_new (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdCaller) root = NULL;
  g_autoptr (CtrdCaller) unknown = NULL;
  g_autoptr (CtrdCaller) copy = NULL;
  g_autoptr (CtrdCaller) many = NULL;
  g_autofree guint32 *groups = g_new0 (guint32, CTRD_CALLER_MAX_GROUPS + 1);

  /* no groups from the bus: the user database's primary group, alone */
  root = ctrd_caller_new (0, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (root->gid, ==, 0);
  g_assert_cmpuint (root->n_groups, ==, 1);
  unknown = ctrd_caller_new (3999999, NULL, 0, &error);
  g_assert_null (unknown);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "3999999"));
  g_clear_error (&error);
  many = ctrd_caller_new (NOBODY, groups, CTRD_CALLER_MAX_GROUPS + 1, &error);
  g_assert_null (many);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  copy = ctrd_caller_copy (fx->nobody_in_group);
  g_assert_cmpuint (copy->uid, ==, NOBODY);
  g_assert_cmpuint (copy->n_groups, ==, 2);
  g_assert_cmpuint (copy->groups[1], ==, SOME_GROUP);
  g_assert_true (copy->groups != fx->nobody_in_group->groups);
}

static void
test_access (Fixture *fx, gconstpointer data)
{
  const CtrdCallerOpenFlags rw = CTRD_CALLER_OPEN_SEARCHABLE | CTRD_CALLER_OPEN_WRITABLE;
  g_autofree char *listable = NULL;
  g_autofree char *readable = NULL;
  g_autofree char *writable = NULL;
  g_autofree char *read_file = NULL;
  g_autofree char *write_file = NULL;
  g_autofree char *own = NULL;
  ctrd_autofd int fd = -1;
  g_autoptr (GError) error = NULL;

  if (!need_root ())
    return;
  listable = make_dir (fx, "listable", 0744, 0); /* read, but not search */
  readable = make_dir (fx, "readable", 0755, 0);
  writable = make_dir (fx, "writable", 0777, 0);
  own = make_dir (fx, "own", 0700, NOBODY);
  read_file = make_owned (fx, "read-file", "r\n", 0644, 0, 0);
  write_file = make_owned (fx, "write-file", "w\n", 0666, 0, 0);

  /* reading alone opens a directory it may only list */
  fd = ctrd_caller_open (fx->nobody, AT_FDCWD, listable, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  assert_refused (fx->nobody, AT_FDCWD, listable, CTRD_CALLER_OPEN_SEARCHABLE,
                  CTRD_ERROR_NOT_AUTHORIZED, "Cannot search");
  assert_refused (fx->nobody, AT_FDCWD, listable, CTRD_CALLER_OPEN_SEARCHABLE,
                  CTRD_ERROR_NOT_AUTHORIZED, "permission denied for uid 65534");
  assert_refused (fx->nobody, AT_FDCWD, readable, rw, CTRD_ERROR_NOT_AUTHORIZED, "Cannot write");
  assert_refused (fx->nobody, AT_FDCWD, read_file, rw, CTRD_ERROR_NOT_AUTHORIZED,
                  "permission denied for uid 65534");
  for (guint i = 0; i < 4; i++)
    {
      const char *ok[] = { readable, writable, own, write_file };
      ctrd_autofd int ok_fd =
          ctrd_caller_open (fx->nobody, AT_FDCWD, ok[i], i == 0 ? CTRD_CALLER_OPEN_SEARCHABLE : rw,
                            &error);

      g_assert_no_error (error);
      g_assert_cmpint (ok_fd, >=, 0);
    }
  /* root may do anything: the checks are the kernel's, for root too */
  ctrd_close_fd (&fd);
  fd = ctrd_caller_open (NULL, AT_FDCWD, listable, rw, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
}

static void
test_user_db (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrdCaller) root = ctrd_caller_new_from_user_db (0, &error);
  g_autoptr (CtrdCaller) unknown = NULL;
  struct passwd *pw;

  g_assert_no_error (error);
  g_assert_cmpuint (root->uid, ==, 0);
  g_assert_cmpuint (root->gid, ==, 0);
  g_assert_cmpuint (root->n_groups, >=, 1);
  g_assert_cmpuint (root->groups[0], ==, 0);
  unknown = ctrd_caller_new_from_user_db (3999999, &error);
  g_assert_null (unknown);
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "uid 3999999"));
  pw = getpwnam ("nobody");
  if (pw != NULL)
    {
      g_autoptr (CtrdCaller) nobody = ctrd_caller_new_from_user_db (pw->pw_uid, NULL);

      g_assert_nonnull (nobody);
      g_assert_cmpuint (nobody->gid, ==, pw->pw_gid);
    }
}

/* Waits (bounded) until @dir is a mount point of another filesystem. */
static gboolean
wait_mounted (const char *dir, GPid server)
{
  struct stat parent, st;
  g_autofree char *up = g_path_get_dirname (dir);

  for (guint i = 0; i < 3000; i++)
    {
      if (stat (up, &parent) == 0 && stat (dir, &st) == 0 && st.st_dev != parent.st_dev)
        return TRUE;
      if (waitpid (server, NULL, WNOHANG) == server)
        return FALSE;
      g_usleep (10 * 1000);
    }
  return FALSE;
}

static void
test_timeout (Fixture *fx, gconstpointer data)
{
  g_autofree char *bindfs = g_find_program_in_path ("bindfs");
  g_autofree char *fusermount = g_find_program_in_path ("fusermount");
  g_autofree char *source = NULL;
  g_autofree char *mnt = NULL;
  g_autofree char *file = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) spawn_error = NULL;
  g_autoptr (CtrdCaller) nobody_copy = NULL;
  ctrd_autofd int fd = -1;
  GPid server = 0;
  int status = 0;

  if (!need_root ())
    return;
  if (bindfs == NULL || fusermount == NULL || access ("/dev/fuse", R_OK | W_OK) != 0)
    {
      g_test_skip ("needs bindfs, fusermount and /dev/fuse");
      return;
    }
  source = make_dir (fx, "fuse-source", 0755, 0);
  mnt = make_dir (fx, "fuse-mnt", 0755, 0);
  ctrd_test_write_file_in (source, "file", "x\n", 0644);
  {
    const char *argv[] = { bindfs, "-f", "-o", "allow_other", source, mnt, NULL };
    g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                  NULL, &server, &spawn_error));
    g_assert_no_error (spawn_error);
  }
  if (!wait_mounted (mnt, server))
    {
      kill (server, SIGTERM);
      waitpid (server, NULL, 0);
      g_test_skip ("bindfs did not mount (no FUSE here?)");
      return;
    }
  /* the filesystem answers while its server runs */
  file = g_build_filename (mnt, "file", NULL);
  fd = ctrd_caller_open (fx->nobody, AT_FDCWD, file, CTRD_CALLER_OPEN_REGULAR, &error);
  g_assert_no_error (error);
  ctrd_close_fd (&fd);

  /* and hangs when it is stopped: a name not looked up yet waits for it */
  ctrd_caller_open_set_timeout (1);
  g_assert_cmpint (kill (server, SIGSTOP), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *fresh = g_strdup_printf ("%s/fresh-%u", mnt, i);

      fd = ctrd_caller_open (i == 0 ? fx->nobody : NULL, AT_FDCWD, fresh, 0, &error);
      g_assert_cmpint (fd, ==, -1);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_TIMEOUT);
      g_assert_nonnull (strstr (error->message, fresh));
      g_assert_nonnull (strstr (error->message, i == 0 ? "uid 65534" : "uid 0"));
      g_clear_error (&error);
    }
  ctrd_caller_open_set_timeout (CTRD_CALLER_OPEN_DEFAULT_TIMEOUT);
  g_assert_cmpint (kill (server, SIGCONT), ==, 0);
  /* the abandoned children were killed: their child watches reap them */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  fd = ctrd_caller_open (fx->nobody, AT_FDCWD, file, CTRD_CALLER_OPEN_REGULAR, &error);
  g_assert_no_error (error);
  ctrd_close_fd (&fd);
  {
    const char *argv[] = { fusermount, "-u", mnt, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                                 NULL, &status, &spawn_error));
    g_assert_no_error (spawn_error);
  }
  g_assert_cmpint (waitpid (server, &status, 0), ==, server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/caller-open/root-only-file", test_root_only_file);
  ADD ("/caller-open/own-file", test_own_file);
  ADD ("/caller-open/groups", test_groups);
  ADD ("/caller-open/missing", test_missing);
  ADD ("/caller-open/kinds", test_kinds);
  ADD ("/caller-open/beneath", test_beneath);
  ADD ("/caller-open/new", test_new);
  ADD ("/caller-open/access", test_access);
  ADD ("/caller-open/user-db", test_user_db);
  ADD ("/caller-open/timeout", test_timeout);
#undef ADD
  return g_test_run ();
}
