/* ctrd-caller-open.c: paths opened with a caller's credentials, in a
 * short-lived child that passes the fd back (see the header). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctrd-caller-open.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"

/* Where the open stopped, as the child reports it. */
typedef enum
{
  STEP_DONE,
  STEP_GROUPS,
  STEP_GID,
  STEP_UID,
  STEP_WALK, /* a component before the last (BENEATH) */
  STEP_OPEN, /* the path itself, O_PATH */
  STEP_STAT,
  STEP_KIND,
  STEP_REOPEN,
  STEP_ACCESS, /* SEARCHABLE or WRITABLE: access() said no */
} Step;

typedef struct
{
  int step;
  int err;
  guint32 mode; /* STEP_KIND: what the path is; STEP_ACCESS: the access() mode */
} Report;

/* What the open needs, all made before fork: the child allocates nothing. */
typedef struct
{
  int dir_fd;
  const char *path;  /* DEFAULT: the whole path */
  char **components; /* BENEATH */
  CtrdCallerOpenFlags flags;
} OpenPlan;

CtrdCaller *
ctrd_caller_new (guint32 uid, const guint32 *groups, gsize n_groups, GError **error)
{
  g_autoptr (CtrdCaller) caller = g_new0 (CtrdCaller, 1);

  caller->uid = uid;
  if (groups != NULL && n_groups > CTRD_CALLER_MAX_GROUPS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "uid %u has %" G_GSIZE_FORMAT " groups (at most %d)", uid, n_groups,
                   CTRD_CALLER_MAX_GROUPS);
      return NULL;
    }
  if (groups != NULL && n_groups > 0)
    {
      caller->groups = g_memdup2 (groups, n_groups * sizeof (guint32));
      caller->n_groups = n_groups;
      /* Any of them may be the effective gid: the kernel checks it and the
       * supplementary groups alike, and all of them are both. */
      caller->gid = groups[0];
      return g_steal_pointer (&caller);
    }
  else
    {
      struct passwd pw, *found = NULL;
      long size = sysconf (_SC_GETPW_R_SIZE_MAX);
      g_autofree char *buf = g_malloc (size > 0 ? size : 16384);
      int err = getpwuid_r (uid, &pw, buf, size > 0 ? size : 16384, &found);

      if (found == NULL)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
                       "The groups of uid %u are not known (the bus gave none, and the user "
                       "database has no such user%s%s)",
                       uid, err != 0 ? ": " : "", err != 0 ? g_strerror (err) : "");
          return NULL;
        }
      caller->gid = pw.pw_gid;
      caller->groups = g_new (guint32, 1);
      caller->groups[0] = pw.pw_gid;
      caller->n_groups = 1;
      return g_steal_pointer (&caller);
    }
}

CtrdCaller *
ctrd_caller_new_from_user_db (guint32 uid, GError **error)
{
  struct passwd pw, *found = NULL;
  long size = sysconf (_SC_GETPW_R_SIZE_MAX);
  gsize buf_size = size > 0 ? (gsize) size : 16384;
  g_autofree char *buf = g_malloc (buf_size);
  g_autofree gid_t *gids = NULL;
  g_autofree guint32 *groups = NULL;
  int err, n = 64;

  err = getpwuid_r (uid, &pw, buf, buf_size, &found);
  if (found == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
                   "uid %u is not in the user database%s%s", uid, err != 0 ? ": " : "",
                   err != 0 ? g_strerror (err) : "");
      return NULL;
    }
  for (;;)
    {
      int got = n;

      gids = g_renew (gid_t, gids, n);
      if (getgrouplist (pw.pw_name, pw.pw_gid, gids, &got) >= 0)
        {
          n = got;
          break;
        }
      if (got > CTRD_CALLER_MAX_GROUPS)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "uid %u has %d groups (at most %d)", uid, got, CTRD_CALLER_MAX_GROUPS);
          return NULL;
        }
      n = MAX (got, n * 2);
    }
  /* getgrouplist puts the primary group first: it becomes the gid */
  groups = g_new (guint32, MAX (n, 1));
  for (int i = 0; i < n; i++)
    groups[i] = gids[i];
  if (n == 0)
    groups[n++] = pw.pw_gid;
  return ctrd_caller_new (uid, groups, n, error);
}

CtrdCaller *
ctrd_caller_copy (const CtrdCaller *caller)
{
  CtrdCaller *copy = g_new0 (CtrdCaller, 1);

  *copy = *caller;
  copy->groups = g_memdup2 (caller->groups, caller->n_groups * sizeof (guint32));
  return copy;
}

void
ctrd_caller_free (CtrdCaller *caller)
{
  if (caller == NULL)
    return;
  g_free (caller->groups);
  g_free (caller);
}

static gint open_timeout_sec = CTRD_CALLER_OPEN_DEFAULT_TIMEOUT;

void
ctrd_caller_open_set_timeout (guint seconds)
{
  g_return_if_fail (seconds > 0 && seconds <= G_MAXINT / 1000);
  g_atomic_int_set (&open_timeout_sec, (gint) seconds);
}

/* ------------------------------------------------------------------ */
/* The open itself: async-signal-safe, for the child (and this process) */

/* "/proc/self/fd/N" into @buf, without stdio. */
static void
format_fd_path (char *buf, gsize size, int fd)
{
  static const char prefix[] = "/proc/self/fd/";
  char digits[16];
  int n = 0;
  gsize at = sizeof prefix - 1;

  memcpy (buf, prefix, at);
  do
    digits[n++] = '0' + fd % 10;
  while ((fd /= 10) > 0 && n < (int) sizeof digits);
  while (n > 0 && at + 1 < size)
    buf[at++] = digits[--n];
  buf[at] = '\0';
}

/* Returns the fd, or -1 with @report saying where and why. */
static int
open_planned (const OpenPlan *plan, Report *report)
{
  char proc_path[32];
  struct stat st;
  int fd, reopened, flags;

  if (plan->flags & CTRD_CALLER_OPEN_BENEATH)
    {
      int current = plan->dir_fd;

      for (guint i = 0; plan->components[i] != NULL; i++)
        {
          gboolean last = plan->components[i + 1] == NULL;
          int next = openat (current, plan->components[i],
                             O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));

          report->err = errno;
          if (current != plan->dir_fd)
            close (current);
          if (next < 0)
            {
              report->step = last ? STEP_OPEN : STEP_WALK;
              return -1;
            }
          current = next;
        }
      fd = current;
    }
  else
    {
      fd = openat (plan->dir_fd, plan->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          report->step = STEP_OPEN;
          report->err = errno;
          return -1;
        }
    }
  if (fstat (fd, &st) != 0)
    {
      report->step = STEP_STAT;
      report->err = errno;
      close (fd);
      return -1;
    }
  if (!S_ISREG (st.st_mode) && (!S_ISDIR (st.st_mode) || (plan->flags & CTRD_CALLER_OPEN_REGULAR)))
    {
      report->step = STEP_KIND;
      report->mode = st.st_mode;
      close (fd);
      return -1;
    }
  /* The same inode as the O_PATH fd, now checked for reading. */
  format_fd_path (proc_path, sizeof proc_path, fd);
  /* access() asks with the real uid and gid: the caller's, in the child */
  report->mode = ((plan->flags & CTRD_CALLER_OPEN_SEARCHABLE) && S_ISDIR (st.st_mode) ? X_OK : 0) |
                 ((plan->flags & CTRD_CALLER_OPEN_WRITABLE) ? W_OK : 0);
  if (report->mode != 0 && access (proc_path, report->mode) != 0)
    {
      report->step = STEP_ACCESS;
      report->err = errno;
      close (fd);
      return -1;
    }
  flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (S_ISDIR (st.st_mode) ? O_DIRECTORY : 0);
  reopened = open (proc_path, flags);
  report->err = errno;
  close (fd);
  if (reopened < 0)
    {
      report->step = STEP_REOPEN;
      return -1;
    }
  report->step = STEP_DONE;
  report->err = 0;
  return reopened;
}

static void
send_report (int sock, const Report *report, int fd)
{
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int))];
  } control;
  struct iovec iov = { .iov_base = (void *) report, .iov_len = sizeof *report };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (fd >= 0)
    {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
    }
  while (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

/* The child: between fork and _exit only system calls. Raw ones for the
 * credentials: glibc's wrappers would try to change every thread of the
 * parent's, which the child does not have. */
G_GNUC_NORETURN static void
caller_child (const CtrdCaller *caller, const OpenPlan *plan, int sock)
{
  Report report = { 0 };
  int fd = -1;

  if (caller == NULL || caller->uid == 0)
    fd = open_planned (plan, &report); /* root keeps the daemon's rights */
  else if (syscall (SYS_setgroups, (size_t) caller->n_groups, caller->groups) != 0)
    report.step = STEP_GROUPS, report.err = errno;
  else if (syscall (SYS_setresgid, caller->gid, caller->gid, caller->gid) != 0)
    report.step = STEP_GID, report.err = errno;
  else if (syscall (SYS_setresuid, caller->uid, caller->uid, caller->uid) != 0)
    report.step = STEP_UID, report.err = errno;
  else
    fd = open_planned (plan, &report);
  send_report (sock, &report, fd);
  _exit (0);
}

static void
reap_child (GPid pid, gint status, gpointer user_data)
{
  g_debug ("The process opening a caller's path (pid %d) ended at last (status %d)", (int) pid,
           status);
  g_spawn_close_pid (pid);
}

/* A child that did not answer in time: killed, and reaped whenever it ends
 * (a child in an uninterruptible wait ends only when the filesystem lets
 * it), by a child watch on the global default main context. */
static void
abandon_child (pid_t pid)
{
  kill (pid, SIGKILL);
  g_child_watch_add_full (G_PRIORITY_DEFAULT, pid, reap_child, NULL, NULL);
}

/* Waits for @sock to be readable, at most the open timeout from @start
 * (g_get_monotonic_time). FALSE when the time ran out. */
static gboolean
wait_readable (int sock, gint64 start)
{
  gint64 deadline = start + (gint64) g_atomic_int_get (&open_timeout_sec) * G_USEC_PER_SEC;

  for (;;)
    {
      struct pollfd pfd = { .fd = sock, .events = POLLIN };
      gint64 left = deadline - g_get_monotonic_time ();
      int n;

      if (left <= 0)
        return FALSE;
      n = poll (&pfd, 1, (int) MIN (left / 1000 + 1, G_MAXINT));
      if (n > 0)
        return TRUE;
      if (n < 0 && errno != EINTR)
        return TRUE; /* recvmsg says what is wrong */
    }
}

/* Runs @plan in a child as @caller; the fd or -1 with @report filled (or
 * left DONE with @error set: no answer, or none in time). */
static int
open_in_child (const CtrdCaller *caller, const OpenPlan *plan, const char *display,
               Report *report, GError **error)
{
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int))];
  } control;
  struct iovec iov = { .iov_base = report, .iov_len = sizeof *report };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ctrd_autofd int parent_end = -1;
  ctrd_autofd int child_end = -1;
  guint32 uid = caller != NULL ? caller->uid : 0;
  gint64 start = g_get_monotonic_time ();
  int pair[2], status = 0, fd = -1;
  ssize_t n;
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot make a socket pair"), -1;
  parent_end = pair[0];
  child_end = pair[1];
  pid = fork ();
  if (pid == 0)
    caller_child (caller, plan, child_end);
  if (pid < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot fork to open as uid %u",
                                  uid),
           -1;
  /* EOF comes with the child's exit, report or not. */
  ctrd_close_fd (&child_end);
  if (!wait_readable (parent_end, start))
    {
      abandon_child (pid);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_TIMEOUT,
                   "Opening %s as uid %u took more than %d s (a filesystem that does not "
                   "answer?): given up",
                   display, uid, g_atomic_int_get (&open_timeout_sec));
      return -1;
    }
  memset (&control, 0, sizeof control);
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  do
    n = recvmsg (parent_end, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); n > 0 && cmsg != NULL;
       cmsg = CMSG_NXTHDR (&msg, cmsg))
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
        cmsg->cmsg_len == CMSG_LEN (sizeof (int)))
      memcpy (&fd, CMSG_DATA (cmsg), sizeof (int));
  /* It answered (or closed its end): nothing is left for it but _exit. */
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (n != sizeof *report || (report->step == STEP_DONE) != (fd >= 0))
    {
      ctrd_close_fd (&fd);
      report->step = STEP_DONE;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "The process opening %s as uid %u gave no answer (status %d)", display, uid,
                   status);
      return -1;
    }
  return fd;
}

static const char *
kind_of (guint32 mode)
{
  if (S_ISLNK (mode))
    return "a symbolic link";
  if (S_ISDIR (mode))
    return "a directory";
  return "a special file";
}

/* @report (not DONE) as an error about @display. */
static void
set_report_error (const Report *report, const CtrdCaller *caller, const char *display,
                  CtrdCallerOpenFlags flags, GError **error)
{
  guint32 uid = caller != NULL ? caller->uid : 0;
  int err = report->err;

  switch (report->step)
    {
    case STEP_GROUPS:
    case STEP_GID:
    case STEP_UID:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "Cannot take the credentials of uid %u to open %s: %s", uid, display,
                   g_strerror (err));
      return;
    case STEP_KIND:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s is %s, not %s", display,
                   kind_of (report->mode),
                   (flags & CTRD_CALLER_OPEN_REGULAR) ? "a regular file"
                                                      : "an archive file or a directory");
      return;
    case STEP_ACCESS:
      if (err == EACCES || err == EPERM)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
                       "Cannot %s %s: permission denied for uid %u",
                       (report->mode & W_OK) ? "write" : "search", display, uid);
          return;
        }
      break;
    default:
      break;
    }
  if (err == ENOENT)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "Cannot open %s: %s", display,
                 g_strerror (err));
  else if (err == EACCES || err == EPERM)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
                 "Cannot %s %s: permission denied for uid %u",
                 report->step == STEP_REOPEN ? "read" : "open", display, uid);
  else if (report->step == STEP_WALK && (err == ENOTDIR || err == ELOOP))
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "%s goes through a symlink or a non-directory", display);
  else
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Cannot open %s: %s", display,
                 g_strerror (err));
}

/* A BENEATH path: relative, without "..", "." or empty components. */
static char **
split_beneath (const char *path, const char *display, GError **error)
{
  g_auto (GStrv) parts = NULL;
  gboolean ok = path[0] != '\0' && path[0] != '/';

  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; ok && parts[i] != NULL; i++)
    ok = parts[i][0] != '\0' && strcmp (parts[i], ".") != 0 && strcmp (parts[i], "..") != 0;
  if (!ok)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s must be relative, without “..”, “.” or empty components", display);
      return NULL;
    }
  return g_steal_pointer (&parts);
}

int
ctrd_caller_open (const CtrdCaller *caller, int dir_fd, const char *path, CtrdCallerOpenFlags flags,
                  GError **error)
{
  g_autofree char *escaped = g_strescape (path, NULL);
  g_autofree char *display = g_strdup_printf ("%.200s", escaped);
  g_auto (GStrv) components = NULL;
  OpenPlan plan = { .dir_fd = dir_fd, .path = path, .flags = flags };
  Report report = { 0 };
  int fd;

  if (flags & CTRD_CALLER_OPEN_BENEATH)
    {
      components = split_beneath (path, display, error);
      if (components == NULL)
        return -1;
      plan.components = components;
    }
  /* root's too: only a child can be given up on when the filesystem hangs */
  fd = open_in_child (caller, &plan, display, &report, error);
  if (fd < 0 && report.step == STEP_DONE)
    return -1; /* the child gave no answer, or none in time: @error is set */
  if (fd < 0)
    set_report_error (&report, caller, display, flags, error);
  return fd;
}
