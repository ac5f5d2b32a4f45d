/* ctrd-network-netns.c: network namespaces bound to files, made the way
 * iproute2's "ip netns add" makes them: a child unshares CLONE_NEWNET and
 * bind-mounts its own /proc/self/ns/net onto the file. The child runs only
 * async-signal-safe system calls (it is forked from a threaded daemon): every
 * buffer it uses is prepared before the fork. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-network.h"

/* The stand-in veth's other end (never seen outside the namespace). */
#define STUB_PEER_NAME "ctrdstub"

gboolean
ctrd_netns_prepare_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot create %s", dir);
  /* like iproute2 for /run/netns: shared, or first a mount point of itself */
  if (mount ("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
    return TRUE;
  if (errno != EINVAL || mount (dir, dir, "none", MS_BIND | MS_REC, NULL) != 0 ||
      mount ("", dir, "none", MS_SHARED | MS_REC, NULL) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot make %s a shared mount point",
                                  dir);
  return TRUE;
}

gboolean
ctrd_netns_exists (const char *path)
{
  struct statfs st;

  return statfs (path, &st) == 0 && st.f_type == NSFS_MAGIC;
}

gboolean
ctrd_netns_remove (const char *path, GError **error)
{
  if (umount2 (path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot unmount network namespace %s",
                                  path);
  if (g_unlink (path) != 0 && errno != ENOENT)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot remove %s", path);
  return TRUE;
}

/* ---- the stand-in veth: one RTM_NEWLINK request, built before the fork */

typedef struct
{
  union
  {
    struct nlmsghdr header;
    char bytes[512];
  } u;
  gsize len;
} NetlinkRequest;

static struct rtattr *
add_attr (NetlinkRequest *req, unsigned short type, const void *data, gsize data_len)
{
  struct rtattr *attr = (struct rtattr *) (req->u.bytes + NLMSG_ALIGN (req->len));

  g_assert (NLMSG_ALIGN (req->len) + RTA_SPACE (data_len) <= sizeof req->u.bytes);
  attr->rta_type = type;
  attr->rta_len = RTA_LENGTH (data_len);
  if (data_len > 0)
    memcpy (RTA_DATA (attr), data, data_len);
  req->len = NLMSG_ALIGN (req->len) + RTA_ALIGN (attr->rta_len);
  return attr;
}

static void
end_nest (NetlinkRequest *req, struct rtattr *nest)
{
  nest->rta_len = (unsigned short) (req->u.bytes + req->len - (char *) nest);
}

static void
add_ifinfo (NetlinkRequest *req)
{
  struct ifinfomsg info = { .ifi_family = AF_UNSPEC };

  memcpy (req->u.bytes + NLMSG_ALIGN (req->len), &info, sizeof info);
  req->len = NLMSG_ALIGN (req->len) + NLMSG_ALIGN (sizeof info);
}

/* "ip link add NAME type veth peer name ctrdstub" */
static void
build_veth_request (NetlinkRequest *req, const char *name)
{
  struct rtattr *linkinfo, *data, *peer;

  memset (req, 0, sizeof *req);
  req->len = NLMSG_HDRLEN;
  add_ifinfo (req);
  add_attr (req, IFLA_IFNAME, name, strlen (name) + 1);
  linkinfo = add_attr (req, IFLA_LINKINFO, NULL, 0);
  add_attr (req, IFLA_INFO_KIND, "veth", strlen ("veth"));
  data = add_attr (req, IFLA_INFO_DATA, NULL, 0);
  peer = add_attr (req, VETH_INFO_PEER, NULL, 0);
  add_ifinfo (req);
  add_attr (req, IFLA_IFNAME, STUB_PEER_NAME, strlen (STUB_PEER_NAME) + 1);
  end_nest (req, peer);
  end_nest (req, data);
  end_nest (req, linkinfo);
  req->u.header.nlmsg_len = (guint32) req->len;
  req->u.header.nlmsg_type = RTM_NEWLINK;
  req->u.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req->u.header.nlmsg_seq = 1;
}

/* In the child: sends @req and reads the kernel's answer; 0 or an errno. */
static int
send_netlink_request (const NetlinkRequest *req)
{
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  union
  {
    struct nlmsghdr header;
    char bytes[1024];
  } answer;
  const struct nlmsgerr *err;
  ssize_t n;
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

  if (fd < 0)
    return errno;
  if (sendto (fd, req->u.bytes, req->len, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0)
    return errno;
  n = recv (fd, answer.bytes, sizeof answer.bytes, 0);
  if (n < 0)
    return errno;
  if ((gsize) n < NLMSG_HDRLEN + sizeof (struct nlmsgerr) ||
      answer.header.nlmsg_type != NLMSG_ERROR)
    return EPROTO;
  err = NLMSG_DATA (&answer.header);
  return -err->error;
}

typedef enum
{
  CHILD_UNSHARE = 1,
  CHILD_STUB,
  CHILD_MOUNT,
} ChildStep;

static const char *const child_steps[] = {
  [CHILD_UNSHARE] = "unsharing the network namespace",
  [CHILD_STUB] = "creating the stand-in interface",
  [CHILD_MOUNT] = "binding the namespace",
};

/* Only async-signal-safe calls from here on: reports {step, errno} on
 * @report_fd and exits. */
G_GNUC_NORETURN static void
netns_child (const char *path, const NetlinkRequest *stub, int report_fd)
{
  int report[2] = { 0, 0 };

  if (unshare (CLONE_NEWNET) != 0)
    report[0] = CHILD_UNSHARE, report[1] = errno;
  else if (stub != NULL && (report[1] = send_netlink_request (stub)) != 0)
    report[0] = CHILD_STUB;
  else if (mount ("/proc/self/ns/net", path, "none", MS_BIND, NULL) != 0)
    report[0] = CHILD_MOUNT, report[1] = errno;
  if (report[0] != 0 && write (report_fd, report, sizeof report) < 0)
    _exit (2);
  _exit (report[0] != 0 ? 1 : 0);
}

gboolean
ctrd_netns_create (const char *path, const char *stub_interface, GError **error)
{
  NetlinkRequest stub;
  int report[2] = { 0, 0 };
  ctrd_autofd int read_fd = -1;
  ctrd_autofd int write_fd = -1;
  int pipe_fds[2];
  int fd, status = 0;
  ssize_t n;
  pid_t pid;

  if (stub_interface != NULL)
    {
      if (!ctrd_network_validate_interface (stub_interface, error))
        return FALSE;
      build_veth_request (&stub, stub_interface);
    }
  fd = open (path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot create %s", path);
  ctrd_close_fd (&fd);
  if (pipe2 (pipe_fds, O_CLOEXEC) != 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot make a pipe");
      g_unlink (path);
      return FALSE;
    }
  read_fd = pipe_fds[0];
  write_fd = pipe_fds[1];

  pid = fork ();
  if (pid == 0)
    netns_child (path, stub_interface != NULL ? &stub : NULL, write_fd);
  ctrd_close_fd (&write_fd);
  if (pid < 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_FAILED, "Cannot fork for network namespace %s",
                             path);
      g_unlink (path);
      return FALSE;
    }
  /* The child holds nothing but the pipe: EOF comes with its exit. */
  do
    n = read (read_fd, report, sizeof report);
  while (n < 0 && errno == EINTR);
  ctrd_close_fd (&read_fd);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (n == sizeof report && report[0] > 0 && report[0] < (int) G_N_ELEMENTS (child_steps))
    {
      g_autoptr (GError) cleanup_error = NULL;
      if (!ctrd_netns_remove (path, &cleanup_error))
        g_warning ("%s", cleanup_error->message);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Network namespace %s: %s: %s", path,
                   child_steps[report[0]], g_strerror (report[1]));
      return FALSE;
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || !ctrd_netns_exists (path))
    {
      g_autoptr (GError) cleanup_error = NULL;
      if (!ctrd_netns_remove (path, &cleanup_error))
        g_warning ("%s", cleanup_error->message);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "Network namespace %s: the helper process failed (status %d)", path, status);
      return FALSE;
    }
  return TRUE;
}
