/* ctrd-bind-source.c: bind sources on the host: checked by their words,
 * opened once without following symlinks, checked again on the open fd by
 * device and inode, and mounted for the runtime from that fd.
 *
 * A path the caller names is never trusted twice: between CreateContainer
 * and Start (or between a check and runc's mount) the caller may swap any
 * component for a symlink. Only the fd is checked, and only the fd is
 * mounted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ctrd-bind-source.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-mounts.h"
#include "ctrd-util.h"

/* Deeper than any real tree; a loop of bind mounts would otherwise not end. */
#define MAX_DEPTH 4096

/* The host itself, the kernel's views of it and its devices, the system
 * bus: a source that is or contains one of these hands it over. */
static const char *const never_contained[] = { "/", "/proc", "/sys", "/dev", "/run/dbus", NULL };
/* Kernel interfaces: nothing inside them is a file to share. */
static const char *const never_inside[] = { "/proc", "/sys", NULL };

/* By components: "/srv/a" is under "/srv" but not under "/sr". */
static gboolean
is_at_or_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  while (len > 0 && dir[len - 1] == '/')
    len--;
  if (len == 0)
    return TRUE;
  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static gboolean
reject (GError **error, const char *source, const char *problem)
{
  return ctrd_reject_value (error, "Bind source", source, problem);
}

/* Why the normalised @source is refused by its words, or NULL. */
static char *
refusal_by_words (const char *source, const char *const *protected_dirs)
{
  for (gsize i = 0; never_contained[i] != NULL; i++)
    if (is_at_or_under (never_contained[i], source))
      return g_str_equal (source, never_contained[i])
                 ? g_strdup_printf ("is %s, which no container may have", never_contained[i])
                 : g_strdup_printf ("contains %s, which no container may have", never_contained[i]);
  for (gsize i = 0; never_inside[i] != NULL; i++)
    if (is_at_or_under (source, never_inside[i]))
      return g_strdup_printf ("is inside %s", never_inside[i]);
  for (gsize i = 0; protected_dirs != NULL && protected_dirs[i] != NULL; i++)
    {
      g_autofree char *real = realpath (protected_dirs[i], NULL);
      const char *names[] = { protected_dirs[i], real };

      for (gsize k = 0; k < G_N_ELEMENTS (names) && names[k] != NULL; k++)
        {
          if (is_at_or_under (source, names[k]))
            return g_strdup_printf ("is inside containersd's own storage %s", names[k]);
          if (is_at_or_under (names[k], source))
            return g_strdup_printf ("contains containersd's own storage %s", names[k]);
        }
    }
  return NULL;
}

static gboolean
has_control_chars (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

char *
ctrd_bind_source_normalize (const char *source, const char *const *protected_dirs, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) clean = g_string_new (NULL);
  g_autofree char *problem = NULL;

  if (source == NULL || !g_path_is_absolute (source))
    return reject (error, source, "is not an absolute path"), NULL;
  if (strlen (source) >= PATH_MAX)
    return reject (error, source, "is too long"), NULL;
  if (has_control_chars (source))
    return reject (error, source, "has control characters"), NULL;
  parts = g_strsplit (source, "/", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        return reject (error, source, "has a “..” component"), NULL;
      g_string_append_printf (clean, "/%s", parts[i]);
    }
  if (clean->len == 0)
    g_string_assign (clean, "/");
  problem = refusal_by_words (clean->str, protected_dirs);
  if (problem != NULL)
    return reject (error, source, problem), NULL;
  return g_string_free (g_steal_pointer (&clean), FALSE);
}

/* The entry of @allowed that @source is at or under, or NULL. */
static const char *
allowed_base (const char *source, const char *const *allowed)
{
  for (gsize i = 0; allowed != NULL && allowed[i] != NULL; i++)
    if (g_path_is_absolute (allowed[i]) && allowed[i][1] != '\0' &&
        is_at_or_under (source, allowed[i]))
      return allowed[i];
  return NULL;
}

gboolean
ctrd_bind_source_is_allowed (const char *source, const char *const *allowed)
{
  return source != NULL && allowed_base (source, allowed) != NULL;
}

/* ------------------------------------------------------------ opening */

/* Without openat2: one component at a time with O_NOFOLLOW; an O_PATH open
 * of a symlink gives the link itself, which is refused like openat2 does. */
static int
open_walking_nofollow (int dfd, const char *relative)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  ctrd_autofd int current = fcntl (dfd, F_DUPFD_CLOEXEC, 3);

  if (current < 0)
    return -1;
  for (gsize i = 0; parts[i] != NULL; i++)
    {
      struct stat st;
      int next;

      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        {
          errno = EXDEV;
          return -1;
        }
      next = openat (current, parts[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
      ctrd_close_fd (&current);
      if (next < 0)
        return -1;
      current = next;
      if (fstat (current, &st) != 0)
        return -1;
      if (S_ISLNK (st.st_mode))
        {
          errno = ELOOP;
          return -1;
        }
      if (parts[i + 1] != NULL && !S_ISDIR (st.st_mode))
        {
          errno = ENOTDIR;
          return -1;
        }
    }
  return ctrd_steal_fd (&current);
}

/* @relative under @dfd as an O_PATH fd, no symlink followed anywhere. */
static int
open_no_symlinks (int dfd, const char *relative, guint64 extra_resolve)
{
  struct open_how how = { 0 };
  long fd;

  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | extra_resolve;
  fd = syscall (SYS_openat2, dfd, relative, &how, sizeof how);
  if (fd >= 0 || errno != ENOSYS)
    return (int) fd;
  return open_walking_nofollow (dfd, relative);
}

static int
open_failed (GError **error, const char *source)
{
  int saved_errno = errno;
  const char *problem;

  switch (saved_errno)
    {
    case ENOENT:
      problem = "does not exist";
      break;
    case ELOOP:
      problem = "has a symbolic link in its path";
      break;
    case ENOTDIR:
      problem = "has a component that is not a directory";
      break;
    case EXDEV:
      problem = "leads out of its AllowedBindSources directory";
      break;
    default:
      problem = g_strerror (saved_errno);
    }
  reject (error, source, problem);
  return -1;
}

static gboolean
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The directory open as @dfd and each of its parents up to the root (by
 * "..", which the kernel takes across mount points), as struct stat. */
static GArray *
ancestors_of (int dfd, const char *display, GError **error)
{
  g_autoptr (GArray) chain = g_array_new (FALSE, FALSE, sizeof (struct stat));
  ctrd_autofd int current = fcntl (dfd, F_DUPFD_CLOEXEC, 3);

  if (current < 0)
    return ctrd_throw_errno (error, "Cannot look at %s", display), NULL;
  for (guint depth = 0; depth < MAX_DEPTH; depth++)
    {
      struct stat st, up_st;
      ctrd_autofd int up = -1;

      if (fstat (current, &st) != 0)
        return ctrd_throw_errno (error, "Cannot look at %s", display), NULL;
      g_array_append_val (chain, st);
      up = openat (current, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (up < 0 || fstat (up, &up_st) != 0)
        return ctrd_throw_errno (error, "Cannot look at the parents of %s", display), NULL;
      if (same_file (&st, &up_st))
        return g_steal_pointer (&chain);
      ctrd_close_fd (&current);
      current = ctrd_steal_fd (&up);
    }
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s is nested too deeply", display);
  return NULL;
}

static gboolean
chain_has (GArray *chain, const struct stat *st)
{
  for (guint i = 0; i < chain->len; i++)
    if (same_file (&g_array_index (chain, struct stat, i), st))
      return TRUE;
  return FALSE;
}

/* Is the tree @tree (the administrator's path; absent is fine) the source
 * @st, or below it? */
static gboolean
check_not_containing (const char *tree, const struct stat *st, const char *source, GError **error)
{
  ctrd_autofd int tree_fd = open (tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_autoptr (GArray) chain = NULL;
  g_autofree char *problem = NULL;

  if (tree_fd < 0)
    return TRUE;
  chain = ancestors_of (tree_fd, tree, error);
  if (chain == NULL)
    return FALSE;
  if (!chain_has (chain, st))
    return TRUE;
  problem = same_file (&g_array_index (chain, struct stat, 0), st)
                ? g_strdup_printf ("is %s, which no container may have", tree)
                : g_strdup_printf ("contains %s, which no container may have", tree);
  return reject (error, source, problem);
}

/* The rules of ctrd_bind_source_normalize, on the open source @fd (@st)
 * whose parent directory is @parent_dfd (-1 when @fd is a directory). */
static gboolean
check_open_source (int fd, int parent_dfd, const struct stat *st, const char *source,
                   const CtrdBindRules *rules, GError **error)
{
  const char *const *protected_dirs = rules->protected_dirs;
  g_autoptr (GArray) mine = NULL;
  struct statfs fs;

  if (fstatfs (fd, &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC))
    return reject (error, source, "is a kernel interface (procfs or sysfs)");
  mine = ancestors_of (S_ISDIR (st->st_mode) ? fd : parent_dfd, source, error);
  if (mine == NULL)
    return FALSE;
  for (gsize i = 0; never_contained[i] != NULL; i++)
    if (S_ISDIR (st->st_mode) && !check_not_containing (never_contained[i], st, source, error))
      return FALSE;
  for (gsize i = 0; protected_dirs != NULL && protected_dirs[i] != NULL; i++)
    if (S_ISDIR (st->st_mode) && !check_not_containing (protected_dirs[i], st, source, error))
      return FALSE;
  for (gsize i = 0; never_inside[i] != NULL; i++)
    {
      struct stat tree_st;

      if (stat (never_inside[i], &tree_st) == 0 && chain_has (mine, &tree_st))
        {
          g_autofree char *problem = g_strdup_printf ("is inside %s", never_inside[i]);
          return reject (error, source, problem);
        }
    }
  for (gsize i = 0; protected_dirs != NULL && protected_dirs[i] != NULL; i++)
    {
      struct stat tree_st;

      if (stat (protected_dirs[i], &tree_st) == 0 && chain_has (mine, &tree_st))
        {
          g_autofree char *problem =
              g_strdup_printf ("is inside containersd's own storage %s", protected_dirs[i]);
          return reject (error, source, problem);
        }
    }
  return TRUE;
}

int
ctrd_bind_source_open (const char *source, const CtrdBindRules *rules, gboolean host_access,
                       GError **error)
{
  const char *base = "/";
  guint64 beneath = 0;
  const char *relative;
  ctrd_autofd int base_dfd = -1;
  ctrd_autofd int parent_dfd = -1;
  ctrd_autofd int fd = -1;
  struct stat st;

  g_return_val_if_fail (source != NULL && rules != NULL, -1);

  if (!g_path_is_absolute (source))
    return reject (error, source, "is not an absolute path"), -1;
  if (!host_access)
    {
      base = allowed_base (source, rules->allowed);
      if (base == NULL)
        return reject (error, source, "is not in AllowedBindSources (host access needed)"), -1;
      beneath = RESOLVE_BENEATH;
    }
  /* The administrator's directory: its own path may have symlinks. */
  base_dfd = open (base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base_dfd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT,
                                  "Bind source: AllowedBindSources directory %s", base),
           -1;
  relative = source + (g_str_equal (base, "/") ? 0 : strlen (base));
  while (*relative == '/')
    relative++;

  if (*relative == '\0')
    fd = fcntl (base_dfd, F_DUPFD_CLOEXEC, 3);
  else
    {
      g_autofree char *dir = g_path_get_dirname (relative);
      g_autofree char *name = g_path_get_basename (relative);

      parent_dfd = g_str_equal (dir, ".") ? fcntl (base_dfd, F_DUPFD_CLOEXEC, 3)
                                          : open_no_symlinks (base_dfd, dir, beneath);
      if (parent_dfd < 0)
        return open_failed (error, source);
      fd = open_no_symlinks (parent_dfd, name, beneath);
    }
  if (fd < 0)
    return open_failed (error, source);
  if (fstat (fd, &st) != 0)
    return open_failed (error, source);
  if (S_ISLNK (st.st_mode))
    {
      errno = ELOOP;
      return open_failed (error, source);
    }
  if (!check_open_source (fd, S_ISDIR (st.st_mode) ? -1 : parent_dfd, &st, source, rules, error))
    return -1;
  return ctrd_steal_fd (&fd);
}

static gboolean
has_option (const CtrdMount *mount, const char *option)
{
  return mount->options != NULL && g_strv_contains ((const char *const *) mount->options, option);
}

int
ctrd_bind_source_open_mount (const CtrdMount *mount, const CtrdBindRules *rules,
                             gboolean host_access, GError **error)
{
  CtrdCallerOpenFlags flags = CTRD_CALLER_OPEN_SEARCHABLE;
  ctrd_autofd int fd = ctrd_bind_source_open (mount->source, rules, host_access, error);
  ctrd_autofd int caller_fd = -1;
  struct stat st, caller_st;

  if (fd < 0 || rules->caller == NULL || rules->caller->uid == 0)
    return ctrd_steal_fd (&fd);
  if (!mount->read_only && !has_option (mount, "ro"))
    flags |= CTRD_CALLER_OPEN_WRITABLE;
  caller_fd = ctrd_caller_open (rules->caller, AT_FDCWD, mount->source, flags, error);
  if (caller_fd < 0)
    {
      g_prefix_error (error, "Bind source: ");
      return -1;
    }
  if (fstat (fd, &st) != 0 || fstat (caller_fd, &caller_st) != 0)
    return ctrd_throw_errno (error, "Cannot look at bind source %s", mount->source), -1;
  if (!same_file (&st, &caller_st))
    {
      g_autofree char *problem =
          g_strdup_printf ("is another file for uid %u than for the daemon (changed while it "
                           "was opened?)",
                           rules->caller->uid);
      return reject (error, mount->source, problem), -1;
    }
  return ctrd_steal_fd (&fd);
}

/* ------------------------------------------------------------ staging */

/* Mounts @bind's source, opened now, on @staging_dir/@index and points
 * @bind there. */
static gboolean
stage_one (CtrdMount *bind, const CtrdBindRules *rules, gboolean host_access,
           const char *staging_dir, guint index, GError **error)
{
  g_autofree char *target = g_strdup_printf ("%s/%u", staging_dir, index);
  g_autofree char *fd_path = NULL;
  g_autoptr (GStrvBuilder) options = g_strv_builder_new ();
  ctrd_autofd int fd = -1;
  unsigned long flags = MS_BIND;
  struct stat st;

  if (!host_access && (has_option (bind, "suid") || has_option (bind, "dev")))
    return reject (error, bind->source, "has the option suid or dev, which needs host access");
  fd = ctrd_bind_source_open_mount (bind, rules, host_access, error);
  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) != 0)
    return ctrd_throw_errno (error, "Cannot look at bind source %s", bind->source);
  if (S_ISDIR (st.st_mode))
    {
      if (mkdir (target, 0700) != 0)
        return ctrd_throw_errno (error, "Cannot create %s", target);
    }
  else
    {
      ctrd_autofd int file_fd =
          open (target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (file_fd < 0)
        return ctrd_throw_errno (error, "Cannot create %s", target);
    }
  if (!has_option (bind, "bind"))
    flags |= MS_REC;
  /* the fd, not the path: whatever the path names by now is not mounted */
  fd_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (mount (fd_path, target, "none", flags, NULL) != 0)
    return ctrd_throw_errno (error, "Cannot mount bind source %s", bind->source);

  g_strv_builder_addv (options, (const char **) bind->options);
  if (!host_access && !has_option (bind, "nosuid"))
    g_strv_builder_add (options, "nosuid");
  if (!host_access && !has_option (bind, "nodev"))
    g_strv_builder_add (options, "nodev");
  g_strfreev (bind->options);
  bind->options = g_strv_builder_end (options);
  g_free (bind->source);
  bind->source = g_steal_pointer (&target);
  return TRUE;
}

gboolean
ctrd_bind_sources_stage (GPtrArray *mounts, const CtrdBindRules *rules, gboolean host_access,
                         const char *staging_dir, GError **error)
{
  guint index = 0;

  ctrd_bind_sources_unstage (staging_dir);
  for (guint i = 0; i < mounts->len; i++)
    {
      CtrdMount *mount = g_ptr_array_index (mounts, i);

      if (mount->type != CTRD_MOUNT_BIND)
        continue;
      if (index == 0 && mkdir (staging_dir, 0700) != 0)
        return ctrd_throw_errno (error, "Cannot create %s", staging_dir);
      if (!stage_one (mount, rules, host_access, staging_dir, index++, error))
        {
          g_autofree char *quoted = ctrd_quote_untrusted (mount->destination);

          g_prefix_error (error, "Mount on %s: ", quoted);
          ctrd_bind_sources_unstage (staging_dir);
          return FALSE;
        }
    }
  return TRUE;
}

void
ctrd_bind_sources_unstage (const char *staging_dir)
{
  g_autoptr (GDir) dir = g_dir_open (staging_dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (staging_dir, name, NULL);

      if (umount2 (path, MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT)
        g_warning ("Cannot detach the staged bind mount %s: %s", path, g_strerror (errno));
      if (g_remove (path) != 0 && errno != ENOENT)
        g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
    }
  if (g_rmdir (staging_dir) != 0 && errno != ENOENT)
    g_warning ("Cannot remove %s: %s", staging_dir, g_strerror (errno));
}
