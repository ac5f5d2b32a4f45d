/* ctrd-files.h: the files a container sees that containersd makes for it
 * (resolv.conf, hosts, hostname, .containerenv, passwd/group lines), the
 * resolution of its User inside the image, and safe reads of image files.
 *
 * Image content is untrusted: every read here opens the file relative to the
 * image root with symlinks resolved as if that root were "/" (openat2
 * RESOLVE_IN_ROOT), so "/etc/passwd -> /host/file" in an image reads the
 * image's own /host/file, never the host's. No D-Bus types. */
#pragma once

#include <glib.h>

#include "ctrd-mounts.h"

G_BEGIN_DECLS

/* Largest image file read (passwd, group): bigger is LIMIT_EXCEEDED. */
#define CTRD_FILES_MAX_READ (1024 * 1024)

/* Opens @path (absolute or relative; "/" = @root_dfd itself) below the
 * directory @root_dfd with symlinks resolved inside it and magic links
 * (/proc/.../fd) refused; @flags as for openat (O_CLOEXEC is added). Where the
 * kernel lacks openat2, walks component by component with O_NOFOLLOW, so any
 * symlink fails with ELOOP. Returns the fd, or -1 with errno set. */
int ctrd_files_open_in_root (int root_dfd, const char *path, int flags);

/* Blocks. Reads the regular file @path inside the directory @root (an image
 * checkout or a mounted container root) as ctrd_files_open_in_root does.
 * NOT_FOUND when missing; INVALID_ARGUMENT when not a regular file (a FIFO
 * never blocks the read); LIMIT_EXCEEDED past @max_size bytes. The contents
 * are NUL-terminated; @out_len may be NULL. */
gboolean ctrd_files_read_in_root (const char *root, const char *path, gsize max_size,
                                  char **out_contents, gsize *out_len, GError **error);

/* Writes @len bytes of @data to @path through a temporary file in the same
 * directory (O_CLOEXEC), fsynced, with exactly @mode whatever the umask, then
 * renamed over @path: a crash leaves the old file or the new one. Errors are
 * G_FILE_ERROR naming @path. */
gboolean ctrd_files_write_atomically (const char *path, const char *data, gsize len, guint mode,
                                      GError **error);

/* The same without the fsync, for files that are written again before every
 * use (a container's generated files and its config.json, made at each
 * start): a crash of the daemon leaves the old file or the new one, as
 * above; a crash of the machine may leave either torn, and nothing reads
 * them before the next start writes them again. Saves one disk flush per
 * file on the start path. */
gboolean ctrd_files_write_replace (const char *path, const char *data, gsize len, guint mode,
                                   GError **error);

/* The container's user, resolved against the image's /etc/passwd and
 * /etc/group (libpod's chrootuser.GetUser). */
typedef struct
{
  guint32 uid;
  guint32 gid;
  GArray *additional_gids;     /* guint32: the image's groups listing the user by
                                * name (never NULL, may be empty) */
  gboolean needs_passwd_entry; /* numeric uid the image's passwd lacks: the
                                * seed's generatePasswd adds a line */
  gboolean needs_group_entry;  /* numeric gid the image's group lacks */
} CtrdResolvedUser;

void ctrd_resolved_user_free (CtrdResolvedUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdResolvedUser, ctrd_resolved_user_free)

/* Checks the form of a User option without looking at any image: "",
 * "name", "uid", "name:group", "uid:gid", "uid:group", "name:gid"; names of
 * [A-Za-z0-9_.-] and a final '$' (not starting with '-', at most 256 bytes), numbers
 * 0..4294967294 (2^32-1 is the kernel's "no id"). INVALID_ARGUMENT naming the
 * part. For CreateContainer, before anything exists. */
gboolean ctrd_files_validate_user_spec (const char *user_spec, GError **error);

/* Blocks. Resolves @user_spec (as above; "" or NULL = root, 0:0) in the image
 * whose root directory is @image_root. A user name the image's /etc/passwd
 * lacks, or a group name its /etc/group lacks, is INVALID_ARGUMENT naming it.
 * A numeric uid without an entry gets the primary gid 0 unless a group is
 * given (like libpod). Free the result with ctrd_resolved_user_free. */
CtrdResolvedUser *ctrd_files_resolve_user (const char *image_root, const char *user_spec,
                                           GError **error);

/* Form checks for CreateContainer's DNS and host options (INVALID_ARGUMENT
 * naming the value): an IP address (GInetAddress syntax); a search domain
 * (hostname rules, or "." meaning none); a resolv.conf option like "ndots:2"
 * or "edns0" ([A-Za-z0-9_-]+ with an optional ":number"); an AddHosts entry
 * "name:ip" (name by hostname rules, ip may be IPv6). */
gboolean ctrd_files_validate_dns_server (const char *server, GError **error);
gboolean ctrd_files_validate_dns_search (const char *domain, GError **error);
gboolean ctrd_files_validate_dns_option (const char *option, GError **error);
gboolean ctrd_files_validate_add_host (const char *entry, GError **error);

typedef struct
{
  const char *id; /* full ID */
  const char *name;
  const char *hostname;           /* NULL or "" = the first 12 characters of @id */
  const char *image_name;         /* for .containerenv */
  const char *image_id;           /* for .containerenv */
  const char *image_root;         /* the image root to copy /etc/passwd and /etc/group
                                   * from; only read when @user needs an entry */
  const CtrdResolvedUser *user;   /* NULL = root: no passwd or group file */
  const char *working_dir;        /* home of a generated passwd line; NULL = "/" */
  const char *const *dns_servers; /* NULL or empty = the host's (filtered) */
  const char *const *dns_search;  /* NULL or empty = the host's */
  const char *const *dns_options; /* NULL or empty = the host's */
  const char *const *add_hosts;   /* "name:ip" entries */
  const char *host_resolv_conf;   /* NULL = /etc/resolv.conf (tests point elsewhere) */
  /* On a bridge network (all NULL otherwise): */
  const char *const *network_dns_servers; /* aardvark-dns's: replace every other nameserver */
  const char *const *network_dns_search;  /* put before the other search domains */
  const char *container_ip;       /* the container's address: "ip hostname name" in hosts */
  const char *network_gateway;    /* the host as host.containers.internal in hosts */
  gboolean host_network;          /* the host's namespace: localhost resolvers stay */
  const char *host_hosts;         /* NULL = /etc/hosts */
} CtrdFilesParams;

/* Blocks. Writes the container's generated files into @dir (created 0700 when
 * missing; each file 0644 and replaced atomically, so re-running on every
 * start is safe):
 *  - resolv.conf: the host's with localhost nameservers (127.0.0.0/8, ::1)
 *    dropped, Google's public servers when none remain (libnetwork's
 *    FilterResolvDNS, as the seed's generateResolvConf uses it); each of
 *    @dns_servers / @dns_search / @dns_options replaces its part when given;
 *    on a network with DNS @network_dns_servers are the nameservers and
 *    @network_dns_search comes first; with @host_network localhost
 *    nameservers are kept;
 *  - hosts: the host's /etc/hosts, then "ip name" for each of @add_hosts (the
 *    seed's generateHosts), then 127.0.0.1 and ::1 for the host name and name
 *    (with @container_ip: that address, and @network_gateway for
 *    host.containers.internal);
 *  - hostname: the host name and a newline;
 *  - .containerenv: podman's format (engine="containersd-VERSION", name, id,
 *    image, imageid, rootless=0);
 *  - passwd / group: only when @user needs an entry: the image's file plus
 *    "UID:x:UID:GID:container user:WORKDIR:/bin/sh" (the seed's
 *    generatePasswd) or "GID:x:GID:"; otherwise an old one is removed.
 * A missing host resolv.conf or hosts counts as empty. Returns the bind mounts
 * to add to the spec (CtrdMount*, type bind, source in @dir; destinations
 * /etc/resolv.conf, /etc/hosts, /etc/hostname, /run/.containerenv and maybe
 * /etc/passwd, /etc/group), or NULL: INVALID_ARGUMENT for a bad option value,
 * STORAGE_ERROR for a file that cannot be written. */
GPtrArray *ctrd_files_generate (const char *dir, const CtrdFilesParams *params, GError **error);

/* Blocks. Makes sure the directory @path (absolute) exists inside the root
 * @root, creating missing components (0755; the last one owned by
 * @uid:@gid, like libpod's resolveWorkDir) with symlinks resolved inside
 * @root. INVALID_ARGUMENT when @path is relative, has "..", or an existing
 * component is not a directory. */
gboolean ctrd_files_ensure_directory (const char *root, const char *path, guint32 uid, guint32 gid,
                                      GError **error);

G_END_DECLS
