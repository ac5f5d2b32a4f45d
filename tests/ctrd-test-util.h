/* ctrd-test-util.h: helpers shared by the test programs (storage, runtime,
 * integration). Test code only: every helper asserts instead of returning
 * errors, so a broken fixture fails the test at the line that set it up. */
#pragma once

#include <sys/stat.h>

#include <gio/gio.h>
#include <ostree.h>

G_BEGIN_DECLS

/* A new empty directory under the system temp dir, named from @template
 * (g_dir_make_tmp syntax, e.g. "test-storage-XXXXXX"). Free with g_free;
 * remove with ctrd_test_rm_rf. */
char *ctrd_test_make_tmpdir (const char *template_name);

/* Removes @path recursively, like rm -rf --one-file-system: symlinks are not
 * followed, a missing path is fine, and a mount point inside fails the test
 * (unmount first). */
void ctrd_test_rm_rf (const char *path);

/* The names in @path (not recursive), sorted and joined with spaces; "" for
 * an empty directory, "(missing)" when @path cannot be opened. Compare two
 * listings to see that nothing appeared or went. Free with g_free. */
char *ctrd_test_dir_listing (const char *path);

/* Writes @contents to @path, making its parent directories; then sets @mode
 * unless it is 0 (0 leaves the mode the file was created with). */
void ctrd_test_write_file (const char *path, const char *contents, guint mode);

/* ctrd_test_write_file of @dir/@relative. */
void ctrd_test_write_file_in (const char *dir, const char *relative, const char *contents,
                              guint mode);

/* The contents of @dir/@relative (the test fails if it cannot be read). Free
 * with g_free. */
char *ctrd_test_read_file_in (const char *dir, const char *relative);

/* Asserts that @dir/@relative holds exactly @expected. */
void ctrd_test_assert_file_contents (const char *dir, const char *relative, const char *expected);

/* Asserts that @dir/@relative does not exist (a dangling symlink exists). */
void ctrd_test_assert_missing (const char *dir, const char *relative);

/* lstat of @dir/@relative into @st; the test fails if it fails. */
void ctrd_test_lstat (const char *dir, const char *relative, struct stat *st);

/* A symlink @dir/@relative pointing to @target, making the parent
 * directories. */
void ctrd_test_make_symlink_in (const char *dir, const char *relative, const char *target);

/* The OSTree repository @storage_root/repo, opened. Unref when done. */
OstreeRepo *ctrd_test_open_repo (const char *storage_root);

/* A reader of the read end of a pipe, for ctrd_test_pipe_reader_thread:
 * it reads into @data (the caller makes and frees it) until EOF, or until it
 * holds @stop_after bytes when that is not -1, then closes @fd. @slow sleeps
 * a little after each read, so that the writer finds the pipe full. */
typedef struct
{
  int fd;
  gssize stop_after;
  gboolean slow;
  GByteArray *data;
} CtrdTestPipeReader;

/* A GThreadFunc for g_thread_new: reads as the CtrdTestPipeReader it is
 * given says; returns NULL. */
gpointer ctrd_test_pipe_reader_thread (gpointer reader);

typedef enum
{
  CTRD_TEST_TAR_FILE, /* @data is the content (NULL = empty) */
  CTRD_TEST_TAR_DIR,
  CTRD_TEST_TAR_SYMLINK,  /* @data is the target */
  CTRD_TEST_TAR_HARDLINK, /* @data is the target member's path */
  CTRD_TEST_TAR_CHARDEV,  /* device 1:3 */
  CTRD_TEST_TAR_BLOCKDEV, /* device 7:0 */
  CTRD_TEST_TAR_FIFO,
} CtrdTestTarType;

/* One tar member. The path is written as given ("../x", "/abs" included).
 * @mode 0 means 0644 for files, 0755 for directories; owner is 0:0 unless
 * @uid/@gid are set. @xattr_name/@xattr_value add one extended attribute. */
typedef struct
{
  CtrdTestTarType type;
  const char *path;
  const char *data;
  guint mode;
  guint uid;
  guint gid;
  const char *xattr_name;
  const char *xattr_value;
} CtrdTestTarMember;

/* A pax tar of @members (gzip-compressed if @gzip), in memory. */
GBytes *ctrd_test_build_tar (const CtrdTestTarMember *members, gsize n_members, gboolean gzip);

/* Writes @bytes to @path (created or truncated). */
void ctrd_test_write_bytes (const char *path, GBytes *bytes);

/* Returns the read end (O_CLOEXEC) of a pipe that a new thread fills with
 * @bytes and then closes, so readers see a real pipe with EOF. Join the thread
 * with g_thread_join after reading (it returns NULL). */
int ctrd_test_pipe_from_bytes (GBytes *bytes, GThread **out_thread);

/* The top source directory: $CTRD_TOP_SRCDIR, else the parent of
 * $G_TEST_SRCDIR, else the directory this file was compiled from. */
char *ctrd_test_get_top_srcdir (void);

/* Builds the busybox root filesystem tar at @path (".tar" or ".tar.gz") with
 * tests/make-busybox-rootfs.sh. Skips the current test (returns FALSE) when
 * /bin/busybox is missing. */
gboolean ctrd_test_make_busybox_tar (const char *path);

/* Runs @sql on the SQLite database at @path through a connection of its own,
 * as another process would (to shape an old or damaged database). */
void ctrd_test_sqlite_exec (const char *path, const char *sql);

G_END_DECLS
