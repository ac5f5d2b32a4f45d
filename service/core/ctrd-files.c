/* ctrd-files.c: generated container files, user resolution inside the image,
 * and reads of image files that cannot be led outside the image.
 *
 * Follows the seed's makeBindMounts, generateResolvConf, generateHosts and
 * generatePasswd; where the seed reads image files through the container's
 * mount point, this reads them with openat2 RESOLVE_IN_ROOT. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-files.h"
#include "ctrd-util.h"

#define SHORT_ID_LEN 12
#define USER_NAME_MAX 256
#define DOMAIN_NAME_MAX 253
#define DNS_OPTION_MAX 64
#define MAX_ID G_GUINT64_CONSTANT (4294967294)
#define GENERATED_FILE_MODE 0644

/* libnetwork's defaultIPv4Dns and defaultIPv6Dns: what FilterResolvDNS adds
 * when no nameserver but localhost ones are left (the seed asks for IPv6). */
static const char *const default_nameservers[] = {
  "8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844", NULL,
};

/* ------------------------------------------------------------ safe reads */

/* Without openat2: one component at a time, refusing every symlink and "..".
 * Stricter than RESOLVE_IN_ROOT, never looser. */
static int
open_walking_nofollow (int root_dfd, const char *relative, int flags)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  ctrd_autofd int dfd = fcntl (root_dfd, F_DUPFD_CLOEXEC, 3);
  gssize last = -1;

  if (dfd < 0)
    return -1;
  for (gssize i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0' && !g_str_equal (parts[i], "."))
      last = i;
  if (last < 0)
    return openat (dfd, ".", flags | O_CLOEXEC);

  for (gssize i = 0; i <= last; i++)
    {
      int next;

      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        {
          errno = EXDEV;
          return -1;
        }
      if (i == last)
        next = openat (dfd, parts[i], flags | O_NOFOLLOW | O_CLOEXEC);
      else
        next = openat (dfd, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      ctrd_close_fd (&dfd);
      if (next < 0)
        return -1;
      dfd = next;
    }
  return ctrd_steal_fd (&dfd);
}

int
ctrd_files_open_in_root (int root_dfd, const char *path, int flags)
{
  struct open_how how = { 0 };
  const char *relative = path;
  long fd;

  while (*relative == '/')
    relative++;
  if (*relative == '\0')
    relative = ".";

  how.flags = (guint64) (flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  fd = syscall (SYS_openat2, root_dfd, relative, &how, sizeof how);
  if (fd >= 0 || errno != ENOSYS)
    return (int) fd;
  return open_walking_nofollow (root_dfd, relative, flags);
}

/* Reads an open regular file of at most @max_size bytes. @what names it in errors. */
static gboolean
read_fd_capped (int fd, const char *what, gsize max_size, char **out_contents, gsize *out_len,
                GError **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  struct stat st;
  guint8 chunk[8192];

  if (fstat (fd, &st) != 0)
    return ctrd_throw_errno (error, "Cannot stat %s", what);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s is not a regular file",
                   what);
      return FALSE;
    }

  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ctrd_throw_errno (error, "Cannot read %s", what);
      if (n == 0)
        break;
      /* checked while reading: the size fstat saw may grow under us */
      if (buffer->len + (gsize) n > max_size)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "%s is larger than %" G_GSIZE_FORMAT " bytes", what, max_size);
          return FALSE;
        }
      g_byte_array_append (buffer, chunk, (guint) n);
    }

  if (out_len != NULL)
    *out_len = buffer->len;
  g_byte_array_append (buffer, (const guint8 *) "", 1);
  *out_contents = (char *) g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  return TRUE;
}

gboolean
ctrd_files_read_in_root (const char *root, const char *path, gsize max_size, char **out_contents,
                         gsize *out_len, GError **error)
{
  g_autofree char *what = g_strdup_printf ("%s in the image at %s", path, root);
  ctrd_autofd int root_dfd = -1;
  ctrd_autofd int fd = -1;

  root_dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_dfd < 0)
    return ctrd_throw_errno_code (error,
                                  errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR,
                                  "Cannot open the image root %s", root);
  /* O_NONBLOCK: a FIFO planted in an image must not hang the open */
  fd = ctrd_files_open_in_root (root_dfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return ctrd_throw_errno_code (error,
                                  errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_STORAGE_ERROR,
                                  "Cannot open %s", what);
  return read_fd_capped (fd, what, max_size, out_contents, out_len, error);
}

/* The image's file, or "" when it has none. */
static char *
read_image_file_or_empty (const char *image_root, const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  char *contents = NULL;

  if (ctrd_files_read_in_root (image_root, path, CTRD_FILES_MAX_READ, &contents, NULL,
                               &local_error))
    return contents;
  if (g_error_matches (local_error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND))
    return g_strdup ("");
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

/* A host file (trusted, symlinks followed), or "" when missing. */
static char *
read_host_file_or_empty (const char *path, GError **error)
{
  char *contents = NULL;
  ctrd_autofd int fd = -1;

  fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return g_strdup ("");
  if (fd < 0)
    return ctrd_throw_errno (error, "Cannot open %s", path), NULL;
  if (!read_fd_capped (fd, path, CTRD_FILES_MAX_READ, &contents, NULL, error))
    return NULL;
  return contents;
}

/* ------------------------------------------------------------ writing */

/* Removes the temporary file and says which @step of writing @path failed,
 * from errno. */
static gboolean
write_failed (const char *tmp_path, const char *path, const char *step, GError **error)
{
  int errsv = errno;

  (void) g_unlink (tmp_path);
  errno = errsv;
  return ctrd_throw_errno_in (error, G_FILE_ERROR, "Writing %s (%s)", path, step);
}

/* What g_file_set_contents_full (..., G_FILE_SET_CONTENTS_CONSISTENT, mode)
 * does (with @durable), but with O_CLOEXEC on the temporary file, which GLib
 * 2.74 leaves out: no fd of the daemon may leak into a child spawned
 * meanwhile. */
static gboolean
write_through_rename (const char *path, const char *data, gsize len, guint mode,
                      gboolean durable, GError **error)
{
  g_autofree char *tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  ctrd_autofd int fd = -1;

  fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return ctrd_throw_errno_in (error, G_FILE_ERROR, "Writing %s (create)", path);
  if (!ctrd_fd_write_all (fd, data, len, NULL, NULL))
    return write_failed (tmp_path, path, "write", error);
  /* exact mode whatever the umask */
  if (fchmod (fd, mode) != 0)
    return write_failed (tmp_path, path, "chmod", error);
  /* synced before the rename so that a crash leaves the old file or the
   * new one, never an empty one */
  if (durable && fsync (fd) != 0)
    return write_failed (tmp_path, path, "sync", error);
  if (close (ctrd_steal_fd (&fd)) != 0)
    return write_failed (tmp_path, path, "close", error);
  if (g_rename (tmp_path, path) != 0)
    return write_failed (tmp_path, path, "rename", error);
  return TRUE;
}

gboolean
ctrd_files_write_atomically (const char *path, const char *data, gsize len, guint mode,
                             GError **error)
{
  return write_through_rename (path, data, len, mode, TRUE, error);
}

gboolean
ctrd_files_write_replace (const char *path, const char *data, gsize len, guint mode,
                          GError **error)
{
  return write_through_rename (path, data, len, mode, FALSE, error);
}

/* ------------------------------------------------------------ validation */

/* RFC 1123 names, with '_' and a final '.' allowed as resolvers and podman
 * accept them. */
static gboolean
is_valid_domain_name (const char *name)
{
  return ctrd_is_dns_name (name, DOMAIN_NAME_MAX,
                           CTRD_DNS_NAME_UNDERSCORE | CTRD_DNS_NAME_TRAILING_DOT);
}

gboolean
ctrd_files_validate_dns_server (const char *server, GError **error)
{
  g_autoptr (GInetAddress) address = NULL;

  if (server != NULL)
    address = g_inet_address_new_from_string (server);
  if (address == NULL)
    return ctrd_reject_value (error, "DNS server", server, "is not an IP address");
  return TRUE;
}

gboolean
ctrd_files_validate_dns_search (const char *domain, GError **error)
{
  if (domain == NULL || (!g_str_equal (domain, ".") && !is_valid_domain_name (domain)))
    return ctrd_reject_value (error, "DNS search domain", domain, "is not a valid domain name");
  return TRUE;
}

gboolean
ctrd_files_validate_dns_option (const char *option, GError **error)
{
  const char *colon;
  gsize name_len;

  if (option == NULL || strlen (option) > DNS_OPTION_MAX)
    return ctrd_reject_value (error, "DNS option", option, "is missing or too long");
  colon = strchr (option, ':');
  name_len = colon != NULL ? (gsize) (colon - option) : strlen (option);
  if (name_len == 0)
    return ctrd_reject_value (error, "DNS option", option, "has no name");
  for (gsize i = 0; i < name_len; i++)
    if (!g_ascii_isalnum (option[i]) && option[i] != '_' && option[i] != '-')
      return ctrd_reject_value (error, "DNS option", option,
                                "has a character other than [A-Za-z0-9_-]");
  if (colon != NULL)
    {
      if (colon[1] == '\0')
        return ctrd_reject_value (error, "DNS option", option, "has no value after ':'");
      for (const char *p = colon + 1; *p != '\0'; p++)
        if (!g_ascii_isdigit (*p))
          return ctrd_reject_value (error, "DNS option", option,
                                    "has a value that is not a number");
    }
  return TRUE;
}

/* Splits "name:ip" at the first ':' (IPv6 addresses keep theirs), as the
 * seed's generateHosts does. */
static gboolean
split_add_host (const char *entry, char **out_name, char **out_ip, GError **error)
{
  const char *colon = entry != NULL ? strchr (entry, ':') : NULL;
  g_autofree char *name = NULL;

  if (colon == NULL)
    return ctrd_reject_value (error, "Host entry", entry, "is not name:ip");
  name = g_strndup (entry, colon - entry);
  if (!is_valid_domain_name (name))
    return ctrd_reject_value (error, "Host entry", entry, "has an invalid host name");
  if (!ctrd_files_validate_dns_server (colon + 1, NULL))
    return ctrd_reject_value (error, "Host entry", entry, "has an invalid IP address");
  if (out_name != NULL)
    *out_name = g_steal_pointer (&name);
  if (out_ip != NULL)
    *out_ip = g_strdup (colon + 1);
  return TRUE;
}

gboolean
ctrd_files_validate_add_host (const char *entry, GError **error)
{
  return split_add_host (entry, NULL, NULL, error);
}

/* ------------------------------------------------------------ users */

/* Strict decimal 0..MAX_ID; "-1", "+1", " 1", "" and overflows fail. */
static gboolean
parse_id (const char *text, guint32 *out)
{
  guint64 value = 0;

  if (text == NULL || *text == '\0' || strlen (text) > 10)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      value = value * 10 + (guint64) (*p - '0');
    }
  if (value > MAX_ID)
    return FALSE;
  if (out != NULL)
    *out = (guint32) value;
  return TRUE;
}

static gboolean
is_all_digits (const char *text)
{
  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static gboolean
is_valid_user_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > USER_NAME_MAX || name[0] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-')
        continue;
      if (c == '$' && i == len - 1)
        continue;
      return FALSE;
    }
  return TRUE;
}

/* One part of a user spec: a number in range, or a valid name. */
static gboolean
check_id_or_name (const char *part, const char *what, const char *spec, GError **error)
{
  if (is_all_digits (part))
    {
      if (!parse_id (part, NULL))
        return ctrd_reject_value (error, what, spec, "has an ID above 4294967294");
      return TRUE;
    }
  if (!is_valid_user_name (part))
    return ctrd_reject_value (error, what, spec, "is not a valid name or number");
  return TRUE;
}

gboolean
ctrd_files_validate_user_spec (const char *user_spec, GError **error)
{
  g_autofree char *user_part = NULL;
  const char *colon;

  if (user_spec == NULL || *user_spec == '\0')
    return TRUE;
  colon = strchr (user_spec, ':');
  user_part = colon != NULL ? g_strndup (user_spec, colon - user_spec) : g_strdup (user_spec);
  if (!check_id_or_name (user_part, "User", user_spec, error))
    return FALSE;
  if (colon != NULL && !check_id_or_name (colon + 1, "The group of user", user_spec, error))
    return FALSE;
  return TRUE;
}

/* Calls @func on each entry line of a passwd or group file, split at ':'.
 * Comments, blank lines and NIS "+"/"-" lines are skipped. Stops when @func
 * returns TRUE, and returns that. */
typedef gboolean (*EntryFunc) (char **fields, guint n_fields, gpointer user_data);

static gboolean
for_each_entry (const char *text, EntryFunc func, gpointer user_data)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      g_auto (GStrv) fields = NULL;

      if (*line == '\0' || *line == '#' || *line == '+' || *line == '-')
        continue;
      fields = g_strsplit (line, ":", -1);
      if (func (fields, g_strv_length (fields), user_data))
        return TRUE;
    }
  return FALSE;
}

typedef struct
{
  const char *name; /* match by name, or */
  guint32 id;       /* by ID when name is NULL */
  guint32 found_id;
  guint32 found_gid;
  char *found_name;
} Lookup;

static gboolean
match_passwd (char **fields, guint n_fields, gpointer user_data)
{
  Lookup *lookup = user_data;
  guint32 uid, gid;

  if (n_fields < 4 || !parse_id (fields[2], &uid) || !parse_id (fields[3], &gid))
    return FALSE;
  if (lookup->name != NULL ? !g_str_equal (fields[0], lookup->name) : uid != lookup->id)
    return FALSE;
  lookup->found_id = uid;
  lookup->found_gid = gid;
  lookup->found_name = g_strdup (fields[0]);
  return TRUE;
}

static gboolean
match_group (char **fields, guint n_fields, gpointer user_data)
{
  Lookup *lookup = user_data;
  guint32 gid;

  if (n_fields < 3 || !parse_id (fields[2], &gid))
    return FALSE;
  if (lookup->name != NULL ? !g_str_equal (fields[0], lookup->name) : gid != lookup->id)
    return FALSE;
  lookup->found_id = gid;
  lookup->found_name = g_strdup (fields[0]);
  return TRUE;
}

typedef struct
{
  const char *user_name;
  guint32 primary_gid;
  GArray *gids;
} Membership;

static gboolean
collect_membership (char **fields, guint n_fields, gpointer user_data)
{
  Membership *membership = user_data;
  g_auto (GStrv) members = NULL;
  guint32 gid;

  if (n_fields < 4 || !parse_id (fields[2], &gid) || gid == membership->primary_gid)
    return FALSE;
  members = g_strsplit (fields[3], ",", -1);
  if (!g_strv_contains ((const char *const *) members, membership->user_name))
    return FALSE;
  for (guint i = 0; i < membership->gids->len; i++)
    if (g_array_index (membership->gids, guint32, i) == gid)
      return FALSE;
  g_array_append_val (membership->gids, gid);
  return FALSE;
}

void
ctrd_resolved_user_free (CtrdResolvedUser *user)
{
  if (user == NULL)
    return;
  g_clear_pointer (&user->additional_gids, g_array_unref);
  g_free (user);
}

static CtrdResolvedUser *
resolved_user_new (void)
{
  CtrdResolvedUser *user = g_new0 (CtrdResolvedUser, 1);

  user->additional_gids = g_array_new (FALSE, FALSE, sizeof (guint32));
  return user;
}

/* libpod's chrootuser.GetUser, reading the image's files safely. */
CtrdResolvedUser *
ctrd_files_resolve_user (const char *image_root, const char *user_spec, GError **error)
{
  g_autoptr (CtrdResolvedUser) user = resolved_user_new ();
  g_autofree char *user_part = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *group = NULL;
  g_autofree char *user_name = NULL;
  const char *group_part = NULL;
  const char *colon;
  Lookup lookup = { 0 };

  if (user_spec == NULL || *user_spec == '\0')
    return g_steal_pointer (&user);
  if (!ctrd_files_validate_user_spec (user_spec, error))
    return NULL;

  colon = strchr (user_spec, ':');
  user_part = colon != NULL ? g_strndup (user_spec, colon - user_spec) : g_strdup (user_spec);
  group_part = colon != NULL ? colon + 1 : NULL;

  passwd = read_image_file_or_empty (image_root, "/etc/passwd", error);
  if (passwd == NULL)
    return NULL;
  group = read_image_file_or_empty (image_root, "/etc/group", error);
  if (group == NULL)
    return NULL;

  if (parse_id (user_part, &user->uid))
    {
      lookup.id = user->uid;
      if (for_each_entry (passwd, match_passwd, &lookup))
        {
          user->gid = lookup.found_gid;
          user_name = g_steal_pointer (&lookup.found_name);
        }
      else
        /* libpod: a uid the image does not know runs with gid 0 */
        user->needs_passwd_entry = TRUE;
    }
  else
    {
      lookup.name = user_part;
      if (!for_each_entry (passwd, match_passwd, &lookup))
        {
          ctrd_reject_value (error, "User", user_part, "is not in the image's /etc/passwd");
          return NULL;
        }
      user->uid = lookup.found_id;
      user->gid = lookup.found_gid;
      user_name = g_steal_pointer (&lookup.found_name);
    }

  if (group_part != NULL)
    {
      Lookup group_lookup = { 0 };

      if (parse_id (group_part, &user->gid))
        {
          group_lookup.id = user->gid;
          user->needs_group_entry = !for_each_entry (group, match_group, &group_lookup);
        }
      else
        {
          group_lookup.name = group_part;
          if (!for_each_entry (group, match_group, &group_lookup))
            {
              ctrd_reject_value (error, "Group", group_part, "is not in the image's /etc/group");
              return NULL;
            }
          user->gid = group_lookup.found_id;
        }
      g_free (group_lookup.found_name);
    }
  else if (user_name != NULL)
    {
      /* like libpod's generateSpec: supplementary groups only when no group
       * was given explicitly */
      Membership membership = { user_name, user->gid, user->additional_gids };

      for_each_entry (group, collect_membership, &membership);
    }

  return g_steal_pointer (&user);
}

/* ------------------------------------------------------------ resolv.conf */

typedef struct
{
  GPtrArray *nameservers;
  char **search;
  char **options;
} ResolvConf;

static void
resolv_conf_clear (ResolvConf *resolv)
{
  g_clear_pointer (&resolv->nameservers, g_ptr_array_unref);
  g_clear_pointer (&resolv->search, g_strfreev);
  g_clear_pointer (&resolv->options, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ResolvConf, resolv_conf_clear)

/* The whitespace-separated fields of @line. */
static char **
split_fields (const char *line)
{
  char **fields = g_strsplit_set (line, " \t\r", -1);
  gsize out = 0;

  for (gsize in = 0; fields[in] != NULL; in++)
    {
      if (*fields[in] == '\0')
        g_free (fields[in]);
      else
        fields[out++] = fields[in];
    }
  fields[out] = NULL;
  return fields;
}

/* libnetwork's resolvconf: the nameservers, the last "search" line and the
 * last "options" line; comments start at '#' or ';'. */
static void
parse_resolv_conf (const char *text, gboolean keep_loopback, ResolvConf *resolv)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  resolv->nameservers = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      char *comment = strpbrk (lines[i], "#;");
      g_auto (GStrv) fields = NULL;

      if (comment != NULL)
        *comment = '\0';
      fields = split_fields (lines[i]);
      if (fields[0] == NULL)
        continue;

      if (g_str_equal (fields[0], "nameserver") && fields[1] != NULL)
        {
          g_autoptr (GInetAddress) address = g_inet_address_new_from_string (fields[1]);

          /* FilterResolvDNS: a localhost resolver of the host is not
           * reachable from the container's network namespace */
          if (address != NULL && (keep_loopback || !g_inet_address_get_is_loopback (address)))
            g_ptr_array_add (resolv->nameservers, g_strdup (fields[1]));
        }
      else if (g_str_equal (fields[0], "search"))
        {
          g_strfreev (resolv->search);
          resolv->search = g_strdupv (fields + 1);
        }
      else if (g_str_equal (fields[0], "options"))
        {
          g_strfreev (resolv->options);
          resolv->options = g_strdupv (fields + 1);
        }
    }
  if (resolv->nameservers->len == 0)
    for (gsize i = 0; default_nameservers[i] != NULL; i++)
      g_ptr_array_add (resolv->nameservers, g_strdup (default_nameservers[i]));
}

static gboolean
strv_is_set (const char *const *strv)
{
  return strv != NULL && strv[0] != NULL;
}

static char *
build_resolv_conf (const char *host_text, const CtrdFilesParams *params, GError **error)
{
  g_auto (ResolvConf) resolv = { 0 };
  g_autoptr (GString) out = g_string_new (NULL);
  const char *const *search;
  const char *const *options;

  for (gsize i = 0; params->dns_servers != NULL && params->dns_servers[i] != NULL; i++)
    if (!ctrd_files_validate_dns_server (params->dns_servers[i], error))
      return NULL;
  for (gsize i = 0; params->dns_search != NULL && params->dns_search[i] != NULL; i++)
    if (!ctrd_files_validate_dns_search (params->dns_search[i], error))
      return NULL;
  for (gsize i = 0; params->dns_options != NULL && params->dns_options[i] != NULL; i++)
    if (!ctrd_files_validate_dns_option (params->dns_options[i], error))
      return NULL;

  parse_resolv_conf (host_text, params->host_network, &resolv);
  search =
      strv_is_set (params->dns_search) ? params->dns_search : (const char *const *) resolv.search;
  /* aardvark-dns's domain goes first (podman's networkSearchDomains) */
  if (strv_is_set (params->network_dns_search))
    {
      g_autoptr (GStrvBuilder) merged = g_strv_builder_new ();
      g_strv_builder_addv (merged, (const char **) params->network_dns_search);
      if (strv_is_set (search) && !(g_str_equal (search[0], ".") && search[1] == NULL))
        g_strv_builder_addv (merged, (const char **) search);
      g_strfreev (resolv.search);
      resolv.search = g_strv_builder_end (merged);
      search = (const char *const *) resolv.search;
    }
  options = strv_is_set (params->dns_options) ? params->dns_options
                                              : (const char *const *) resolv.options;

  /* libnetwork's Build: "search ." alone means no search domains */
  if (strv_is_set (search) && !(g_str_equal (search[0], ".") && search[1] == NULL))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) search);
      g_string_append_printf (out, "search %s\n", joined);
    }
  /* on a network with DNS, aardvark-dns answers and forwards to the
   * container's own DnsServers itself */
  if (strv_is_set (params->network_dns_servers))
    for (gsize i = 0; params->network_dns_servers[i] != NULL; i++)
      g_string_append_printf (out, "nameserver %s\n", params->network_dns_servers[i]);
  else if (strv_is_set (params->dns_servers))
    for (gsize i = 0; params->dns_servers[i] != NULL; i++)
      g_string_append_printf (out, "nameserver %s\n", params->dns_servers[i]);
  else
    for (guint i = 0; i < resolv.nameservers->len; i++)
      g_string_append_printf (out, "nameserver %s\n",
                              (const char *) g_ptr_array_index (resolv.nameservers, i));
  if (strv_is_set (options))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) options);
      g_string_append_printf (out, "options %s\n", joined);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ------------------------------------------------------------ other files */

static void
append_with_newline (GString *out, const char *text)
{
  g_string_append (out, text);
  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
}

static char *
build_hosts (const char *host_text, const char *hostname, const CtrdFilesParams *params,
             GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *names = NULL;

  append_with_newline (out, host_text);
  for (gsize i = 0; params->add_hosts != NULL && params->add_hosts[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *ip = NULL;

      if (!split_add_host (params->add_hosts[i], &name, &ip, error))
        return NULL;
      g_string_append_printf (out, "%s\t%s\n", ip, name);
    }

  if (params->name != NULL && *params->name != '\0' && !g_str_equal (params->name, hostname))
    names = g_strdup_printf ("%s %s", hostname, params->name);
  else
    names = g_strdup (hostname);
  /* on a network, by its address there, and the host by the gateway
   * (podman's host.containers.internal); with only a loopback interface the
   * container reaches itself on lo */
  if (params->container_ip != NULL && *params->container_ip != '\0')
    {
      g_string_append_printf (out, "%s\t%s\n", params->container_ip, names);
      if (params->network_gateway != NULL && *params->network_gateway != '\0')
        g_string_append_printf (out, "%s\thost.containers.internal\n", params->network_gateway);
    }
  else
    g_string_append_printf (out, "127.0.0.1\t%s\n::1\t%s\n", names, names);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A double-quoted value for .containerenv (Go's %q for the plain text it gets). */
static void
append_quoted (GString *out, const char *key, const char *value)
{
  g_autofree char *escaped = g_strescape (value != NULL ? value : "", NULL);

  g_string_append_printf (out, "%s=\"%s\"\n", key, escaped);
}

static char *
build_containerenv (const CtrdFilesParams *params)
{
  GString *out = g_string_new (NULL);

  /* podman fills this in only for privileged containers; the information is
   * no secret, and tools inside look for it */
  append_quoted (out, "engine", "containersd-" PACKAGE_VERSION);
  append_quoted (out, "name", params->name);
  append_quoted (out, "id", params->id);
  append_quoted (out, "image", params->image_name);
  append_quoted (out, "imageid", params->image_id);
  g_string_append (out, "rootless=0\n");
  return g_string_free (out, FALSE);
}

/* The image's @path plus @line (the seed's generatePasswd). */
static char *
build_extended_image_file (const CtrdFilesParams *params, const char *path, const char *line,
                           GError **error)
{
  g_autofree char *original = NULL;
  GString *out;

  if (params->image_root == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Container %s: no image root to read %s from", params->id, path);
      return NULL;
    }
  original = read_image_file_or_empty (params->image_root, path, error);
  if (original == NULL)
    return NULL;
  out = g_string_new (NULL);
  append_with_newline (out, original);
  g_string_append (out, line);
  return g_string_free (out, FALSE);
}

typedef struct
{
  const char *file_name;
  const char *destination;
} GeneratedFile;

static const GeneratedFile generated_files[] = {
  { "resolv.conf", "/etc/resolv.conf" }, { "hosts", "/etc/hosts" },
  { "hostname", "/etc/hostname" },       { ".containerenv", "/run/.containerenv" },
  { "passwd", "/etc/passwd" },           { "group", "/etc/group" },
};

/* The contents of generated_files[@index]; NULL without error when the
 * container needs no such file. */
static char *
build_generated_file (guint index, const CtrdFilesParams *params, const char *hostname,
                      GError **error)
{
  const CtrdResolvedUser *user = params->user;
  g_autofree char *host_text = NULL;
  g_autofree char *line = NULL;

  switch (index)
    {
    case 0:
      host_text = read_host_file_or_empty (
          params->host_resolv_conf != NULL ? params->host_resolv_conf : "/etc/resolv.conf", error);
      return host_text != NULL ? build_resolv_conf (host_text, params, error) : NULL;
    case 1:
      host_text = read_host_file_or_empty (
          params->host_hosts != NULL ? params->host_hosts : "/etc/hosts", error);
      return host_text != NULL ? build_hosts (host_text, hostname, params, error) : NULL;
    case 2:
      return g_strconcat (hostname, "\n", NULL);
    case 3:
      return build_containerenv (params);
    case 4:
      if (user == NULL || !user->needs_passwd_entry)
        return NULL;
      line = g_strdup_printf ("%u:x:%u:%u:container user:%s:/bin/sh\n", user->uid, user->uid,
                              user->gid, params->working_dir != NULL ? params->working_dir : "/");
      return build_extended_image_file (params, "/etc/passwd", line, error);
    case 5:
      if (user == NULL || !user->needs_group_entry)
        return NULL;
      line = g_strdup_printf ("%u:x:%u:\n", user->gid, user->gid);
      return build_extended_image_file (params, "/etc/group", line, error);
    default:
      g_assert_not_reached ();
    }
}

static gboolean
storage_error_from (GError **error, GError *local_error, const char *id)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_STORAGE_ERROR, "Container %s: %s", id,
               local_error->message);
  g_error_free (local_error);
  return FALSE;
}

GPtrArray *
ctrd_files_generate (const char *dir, const CtrdFilesParams *params, GError **error)
{
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_autofree char *hostname = NULL;
  const char *id;

  g_return_val_if_fail (dir != NULL && g_path_is_absolute (dir), NULL);
  g_return_val_if_fail (params != NULL && params->id != NULL, NULL);
  id = params->id;

  if (params->hostname != NULL && *params->hostname != '\0')
    hostname = g_strdup (params->hostname);
  else
    hostname = g_strndup (id, SHORT_ID_LEN);
  if (!ctrd_hostname_is_valid (hostname))
    {
      ctrd_reject_value (error, "Host name", hostname, "is not valid");
      return NULL;
    }

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return ctrd_throw_errno (error, "Container %s: cannot create %s", id, dir), NULL;

  for (guint i = 0; i < G_N_ELEMENTS (generated_files); i++)
    {
      g_autofree char *path = g_build_filename (dir, generated_files[i].file_name, NULL);
      g_autofree char *contents = NULL;
      GError *local_error = NULL;

      contents = build_generated_file (i, params, hostname, &local_error);
      if (local_error != NULL)
        {
          if (local_error->domain == CTRD_ERROR)
            g_propagate_prefixed_error (error, local_error, "Container %s: ", id);
          else
            storage_error_from (error, local_error, id);
          return NULL;
        }
      if (contents == NULL)
        {
          /* not needed any more: a stale one must not be mounted by mistake */
          if (g_unlink (path) != 0 && errno != ENOENT)
            g_warning ("Container %s: cannot remove %s: %s", id, path, g_strerror (errno));
          continue;
        }
      if (!ctrd_files_write_replace (path, contents, strlen (contents), GENERATED_FILE_MODE,
                                     &local_error))
        {
          storage_error_from (error, local_error, id);
          return NULL;
        }
      g_ptr_array_add (mounts, ctrd_mount_new (CTRD_MOUNT_BIND, path,
                                               generated_files[i].destination, FALSE, NULL));
    }
  return g_steal_pointer (&mounts);
}

/* ------------------------------------------------------------ directories */

/* Opens the directory @prefix (absolute, resolved inside @root_dfd), making
 * it in @parent_fd as @name first when missing. Returns the fd or -1/errno. */
static int
open_or_make_directory (int root_dfd, int parent_fd, const char *prefix, const char *name,
                        gboolean *out_created)
{
  int fd;

  *out_created = FALSE;
  /* each prefix is resolved from the root, so a symlink in the image can
   * only lead somewhere else inside it */
  fd = ctrd_files_open_in_root (root_dfd, prefix, O_RDONLY | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  if (mkdirat (parent_fd, name, 0755) == 0)
    *out_created = TRUE;
  else if (errno != EEXIST)
    return -1;
  return ctrd_files_open_in_root (root_dfd, prefix, O_RDONLY | O_DIRECTORY);
}

gboolean
ctrd_files_ensure_directory (const char *root, const char *path, guint32 uid, guint32 gid,
                             GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) prefix = g_string_new (NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  ctrd_autofd int root_dfd = -1;
  ctrd_autofd int parent_fd = -1;

  if (path == NULL || !g_path_is_absolute (path))
    return ctrd_reject_value (error, "Directory", path, "is not an absolute path");
  parts = g_strsplit (path, "/", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    {
      if (g_str_equal (parts[i], ".."))
        return ctrd_reject_value (error, "Directory", path, "has a “..” component");
      if (*parts[i] != '\0' && !g_str_equal (parts[i], "."))
        g_ptr_array_add (names, parts[i]);
    }

  root_dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  parent_fd = root_dfd >= 0 ? fcntl (root_dfd, F_DUPFD_CLOEXEC, 3) : -1;
  if (parent_fd < 0)
    return ctrd_throw_errno (error, "Cannot open %s", root);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      gboolean created;
      gboolean is_last = i + 1 == names->len;
      ctrd_autofd int fd = -1;

      g_string_append_printf (prefix, "/%s", name);
      fd = open_or_make_directory (root_dfd, parent_fd, prefix->str, name, &created);
      if (fd < 0 ||
          (created && (fchmod (fd, 0755) != 0 || (is_last && fchown (fd, uid, gid) != 0))))
        {
          int errsv = errno;
          g_autofree char *quoted = ctrd_quote_untrusted (prefix->str);

          errno = errsv;
          return ctrd_throw_errno_code (
              error, errsv == ENOTDIR ? CTRD_ERROR_INVALID_ARGUMENT : CTRD_ERROR_STORAGE_ERROR,
              "Cannot make the directory %s in %s", quoted, root);
        }
      ctrd_close_fd (&parent_fd);
      parent_fd = ctrd_steal_fd (&fd);
    }
  return TRUE;
}
