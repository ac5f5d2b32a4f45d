/* ctrd-caller-open.h: a path a caller names, opened with the caller's
 * rights, never the daemon's.
 *
 * For a caller other than uid 0, a short-lived child (fork) takes the
 * caller's groups, gid and uid (setgroups, setresgid, setresuid: raw system
 * calls, the only work between fork and _exit besides open, fstat and
 * sendmsg), opens the path O_PATH without following a symlink in its last
 * component, checks its kind on that fd (a regular file or a directory: a
 * device node or a FIFO is never opened for reading), reopens it for reading
 * through /proc/self/fd and passes the fd back over a socketpair
 * (SCM_RIGHTS). So the kernel decides what the caller may read: mode bits,
 * ACLs and security modules alike, and ENOENT or EACCES mean what they would
 * mean to the caller. A uid 0 caller's path is opened the same way, in a
 * child that keeps the daemon's rights.
 *
 * The files inside an OCI image layout directory are opened the same way,
 * each in a child of its own, one component at a time beneath the
 * directory's fd with O_NOFOLLOW (CTRD_CALLER_OPEN_BENEATH): the daemon
 * never reads a member the caller could not have opened itself, and no
 * symlink leads out of the directory. (Opening them in the child was chosen
 * over checking mode bits after a daemon-side open: bits alone miss ACLs.)
 *
 * A child that does not answer within the open timeout (a path on a hung
 * filesystem: a stopped FUSE server, a dead NFS server) is killed and the
 * open is TIMEOUT; the child is reaped later from the global default main
 * context, so no worker waits on it.
 *
 * Every function here blocks (fork, waitpid, the filesystem, the user
 * database): call them from worker threads. No D-Bus types. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* More supplementary groups than Linux allows a process (NGROUPS_MAX). */
#define CTRD_CALLER_MAX_GROUPS 65536

/* Who a path is opened as. */
typedef struct
{
  guint32 uid;
  guint32 gid;     /* real, effective and saved gid in the child */
  guint32 *groups; /* the supplementary groups */
  guint n_groups;
} CtrdCaller;

/* The caller @uid with the groups the bus gave (@groups, @n_groups: the
 * primary and supplementary ones, as UnixGroupIDs of
 * GetConnectionCredentials lists them). @groups NULL means the bus gave
 * none: then the user's primary group from the user database is the only
 * one (blocks: NSS), never root's groups; a uid the database does not know
 * is NOT_AUTHORIZED. More than CTRD_CALLER_MAX_GROUPS is LIMIT_EXCEEDED.
 * Free with ctrd_caller_free. */
CtrdCaller *ctrd_caller_new (guint32 uid, const guint32 *groups, gsize n_groups, GError **error);

/* Blocks (NSS). The user @uid with its primary group and every group the
 * user database lists it in (getpwuid_r, getgrouplist): who a container's
 * Owner is when it is not on the bus. A uid the database does not know is
 * NOT_AUTHORIZED naming it; more than CTRD_CALLER_MAX_GROUPS groups is
 * LIMIT_EXCEEDED. */
CtrdCaller *ctrd_caller_new_from_user_db (guint32 uid, GError **error);

CtrdCaller *ctrd_caller_copy (const CtrdCaller *caller);
void ctrd_caller_free (CtrdCaller *caller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdCaller, ctrd_caller_free)

typedef enum
{
  /* An absolute path (or one relative to @dir_fd); symlinks are followed,
   * with the caller's rights, in every component but the last. */
  CTRD_CALLER_OPEN_DEFAULT = 0,
  /* @path is relative to @dir_fd: no symlink, "..", "." or empty component
   * anywhere, so the open stays beneath @dir_fd. */
  CTRD_CALLER_OPEN_BENEATH = 1 << 0,
  /* Only a regular file (else a regular file or a directory). */
  CTRD_CALLER_OPEN_REGULAR = 1 << 1,
  /* What a bind mount hands over: a directory must also be searchable by
   * the caller (the files in it are reached through it). */
  CTRD_CALLER_OPEN_SEARCHABLE = 1 << 2,
  /* The caller must also be allowed to write it (a read-write bind). */
  CTRD_CALLER_OPEN_WRITABLE = 1 << 3,
} CtrdCallerOpenFlags;

/* How long a child opening a path may take, by default. */
#define CTRD_CALLER_OPEN_DEFAULT_TIMEOUT 30

/* Sets the open timeout for every later open, in seconds (1 or more). */
void ctrd_caller_open_set_timeout (guint seconds);

/* Blocks. Opens @path (relative to @dir_fd, or AT_FDCWD) as @caller (NULL
 * or uid 0: with the daemon's rights) for reading; returns
 * a new O_CLOEXEC fd (O_RDONLY, O_DIRECTORY for a directory) or -1. Errors
 * (CTRD_ERROR), messages naming @path: NOT_FOUND (ENOENT), NOT_AUTHORIZED
 * "... permission denied for uid N" (EACCES, EPERM), INVALID_ARGUMENT for a
 * symlink ("a symbolic link"), a device node, FIFO or socket ("a special
 * file"), a symlink or a non-directory on the way (BENEATH), a bad
 * component, or any other errno of the open; NOT_AUTHORIZED "... cannot
 * search" or "cannot write ... for uid N" (SEARCHABLE, WRITABLE); TIMEOUT
 * naming the path when the child took longer than the open timeout; FAILED
 * when no child could be made or it could not take the caller's
 * credentials. */
int ctrd_caller_open (const CtrdCaller *caller, int dir_fd, const char *path,
                      CtrdCallerOpenFlags flags, GError **error);

G_END_DECLS
