/* ctrd-bind-source.h: a container's bind sources on the host. A source is
 * checked by its words before anyone is asked (ctrd_bind_source_normalize),
 * then opened once without following any symlink and checked again on the
 * open fd (ctrd_bind_source_open), at creation and at every start; at start
 * the open fd is mounted into a staging directory that only root can reach
 * and the runtime binds that (ctrd_bind_sources_stage), so a path swapped
 * between the check and the mount cannot change what gets mounted.
 * No D-Bus types. */
#pragma once

#include <glib.h>

#include "ctrd-caller-open.h"
#include "ctrd-mounts.h"

G_BEGIN_DECLS

/* What a bind source may be, from the daemon's configuration. */
typedef struct
{
  const char *const *allowed;        /* AllowedBindSources (normalised, absolute); may be NULL */
  const char *const *protected_dirs; /* the storage and run roots; may be NULL */
  /* Whose rights the source is opened with as well (ctrd_bind_source_open_mount):
   * the creating caller at create, the container's Owner at start; NULL or
   * uid 0: the daemon's only */
  const CtrdCaller *caller;
} CtrdBindRules;

/* No file system access for @source (only @protected_dirs are resolved).
 * Checks a caller's bind source by its words and returns it normalised
 * (absolute, no "..", no control characters; "." and repeated or trailing
 * slashes dropped). Refused outright, whoever asks: a source that is or
 * contains "/", /proc, /sys, /dev, /run/dbus or one of @protected_dirs, and
 * one inside /proc, /sys or one of @protected_dirs. INVALID_ARGUMENT naming
 * the source and the reason. Free with g_free. */
char *ctrd_bind_source_normalize (const char *source, const char *const *protected_dirs,
                                  GError **error);

/* TRUE if the normalised @source is one of @allowed or under one of them,
 * by path components ("/srv/a" is not under "/srv/ab"). No file system
 * access. */
gboolean ctrd_bind_source_is_allowed (const char *source, const char *const *allowed);

/* Blocks briefly (opens and stats). Opens the normalised @source as an
 * O_PATH | O_CLOEXEC fd without following any symlink or magic link on the
 * way (openat2 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS; component by
 * component with O_NOFOLLOW where the kernel lacks openat2). Without
 * @host_access the source must be allowed (ctrd_bind_source_is_allowed)
 * and is opened beneath that directory (RESOLVE_BENEATH). Then the rules of
 * ctrd_bind_source_normalize are checked again on the fd itself, by the
 * device and inode of the protected trees and of the source's parent
 * directories (a second name for a protected tree, such as a bind mount of
 * it, is refused too), and a file on procfs or sysfs is refused. Returns the
 * fd (the caller closes it) or -1 with INVALID_ARGUMENT naming the source
 * ("does not exist", "has a symbolic link in its path", ...). */
int ctrd_bind_source_open (const char *source, const CtrdBindRules *rules, gboolean host_access,
                           GError **error);

/* Blocks (opens; with a caller, a child of ctrd_caller_open, bounded by its
 * timeout). The bind @mount's source opened with ctrd_bind_source_open,
 * and, when @rules has a caller other than root, opened again by that
 * caller with its own rights (ctrd_caller_open: SEARCHABLE, and WRITABLE
 * unless the bind is read-only): so a caller never binds what it could not
 * read (or, read-write, write) itself, whether the source is in
 * AllowedBindSources or host access was granted. Both opens must reach the
 * same file (device and inode), else INVALID_ARGUMENT. Only regular files
 * and directories pass the caller's open (a device node or socket needs a
 * root caller). The caller's errors name the source and the uid
 * (NOT_AUTHORIZED "permission denied for uid N", NOT_FOUND, TIMEOUT).
 * Returns the daemon's O_PATH fd or -1. */
int ctrd_bind_source_open_mount (const CtrdMount *mount, const CtrdBindRules *rules,
                                 gboolean host_access, GError **error);

/* Blocks (opens, mounts). For each bind mount of @mounts (CtrdMount*,
 * changed in place): opens its source with ctrd_bind_source_open_mount, mounts
 * the open fd (MS_BIND, recursive unless the options say "bind") on a new
 * entry of @staging_dir (made 0700; what an earlier start left there is
 * removed first) and makes that entry the mount's source. Without
 * @host_access each bind also gets "nosuid" and "nodev" ("suid" or "dev"
 * is INVALID_ARGUMENT: that needs host access). On error nothing stays
 * mounted. Undo with ctrd_bind_sources_unstage once the runtime has made
 * the container's mounts. */
gboolean ctrd_bind_sources_stage (GPtrArray *mounts, const CtrdBindRules *rules,
                                  gboolean host_access, const char *staging_dir, GError **error);

/* Blocks briefly. Detaches every mount in @staging_dir and removes the
 * directory; missing is success. Failures are logged, never fatal: a
 * staging entry is only ever a second name for a source that was checked. */
void ctrd_bind_sources_unstage (const char *staging_dir);

G_END_DECLS
