/* ctrd-mounts.h: the Mounts of a container (bind, tmpfs and volume) and
 * their rules, shared by the creation rules, the volumes and the spec.
 * No D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest tmpfs a caller may ask for, as a Mounts size= option or as
 * ShmSize (64 GiB): pages come only as they are written, but an unbounded
 * size lets one container fill the host's memory and swap. */
#define CTRD_MAX_TMPFS_BYTES (G_GUINT64_CONSTANT (64) * 1024 * 1024 * 1024)

typedef enum
{
  CTRD_MOUNT_BIND,
  CTRD_MOUNT_TMPFS,
  CTRD_MOUNT_VOLUME,
} CtrdMountType;

/* "bind", "tmpfs", "volume"; static string. */
const char *ctrd_mount_type_to_string (CtrdMountType type);
/* FALSE for an unknown string. */
gboolean ctrd_mount_type_from_string (const char *text, CtrdMountType *out_type);

/* One entry of the Mounts option (see ctrd_mount_check for the rules). */
typedef struct
{
  CtrdMountType type;
  char *source;      /* bind: absolute host path; volume: the volume's name; tmpfs: "" */
  char *destination; /* absolute path in the container */
  gboolean read_only;
  char **options;     /* mount options ("size=64m", "rprivate", ...); never NULL */
  gboolean anonymous; /* volume made for one of the image's Volumes: it goes
                       * with the container when removed with remove_volumes */
} CtrdMount;

/* @source NULL = ""; @options NULL = none. Copies everything. */
CtrdMount *ctrd_mount_new (CtrdMountType type, const char *source, const char *destination,
                           gboolean read_only, const char *const *options);
CtrdMount *ctrd_mount_copy (const CtrdMount *mount);
void ctrd_mount_free (CtrdMount *mount);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdMount, ctrd_mount_free)

/* TRUE if @name is a volume name: container names' rule
 * (ctrd_validate_name), since it becomes a directory name; else
 * INVALID_ARGUMENT (LIMIT_EXCEEDED when too long) naming it. */
gboolean ctrd_volume_validate_name (const char *name, GError **error);

/* Checks and normalises a mount destination: absolute, no "..", no control
 * characters, at most PATH_MAX; "." and repeated or trailing slashes are
 * dropped. "/", /proc and /sys (and below), /dev, /dev/pts (and below) and
 * /dev/mqueue are refused: those belong to the runtime. INVALID_ARGUMENT
 * naming @what (e.g. "Mount destination"). Free with g_free. */
char *ctrd_mount_normalize_destination (const char *destination, const char *what,
                                        GError **error);

/* No file system access for the mount's paths. Checks one Mounts entry for
 * CreateContainer and normalises it in place:
 *  - destination as ctrd_mount_normalize_destination;
 *  - bind: the source as ctrd_bind_source_normalize with @protected_dirs
 *    (e.g. the storage and run roots; may be NULL): by its words only, so
 *    the answer reveals nothing about the host. Whether it exists and what
 *    it is is for ctrd_bind_source_open, once the caller is authorized;
 *  - volume: the source is a volume name (ctrd_volume_validate_name);
 *  - tmpfs: the source is empty;
 *  - options: podman's set: rw/ro, the propagation modes, bind/rbind (bind,
 *    volume), suid/nosuid, dev/nodev, exec/noexec, size=N[kmg%] and
 *    mode=OCTAL and tmpcopyup/notmpcopyup (tmpfs only); "ro" or "rw"
 *    contradicting @read_only is refused.
 * INVALID_ARGUMENT naming the mount. */
gboolean ctrd_mount_check (CtrdMount *mount, const char *const *protected_dirs, GError **error);

/* ctrd_mount_check on each entry of @mounts (CtrdMount*), and no two with
 * the same destination. */
gboolean ctrd_mounts_check (GPtrArray *mounts, const char *const *protected_dirs, GError **error);

/* For config.json: re-checks a stored bind or tmpfs mount without touching
 * the file system (destination as ctrd_mount_normalize_destination, the
 * bind source's syntax, the options) and gives its normalised destination
 * and its OCI options: the given ones, then podman's defaults for what was
 * not given (rw or ro, rprivate, rbind for binds; nosuid, nodev and
 * tmpcopyup for tmpfs). INVALID_ARGUMENT naming what is wrong. Free the
 * results with g_free and g_strfreev. */
gboolean ctrd_mount_for_spec (const CtrdMount *mount, char **out_destination, char ***out_options,
                              GError **error);

/* Appends an anonymous volume mount (a new random name, anonymous = TRUE)
 * for each of @image_volumes (the image config's Volumes, untrusted) whose
 * destination no entry of @mounts (CtrdMount*) already has. Each path is
 * checked as a mount destination (ctrd_mount_normalize_destination):
 * "/../../etc" is INVALID_ARGUMENT, never a host path. Nothing is created
 * on disk. On error @mounts is unchanged. For CreateContainer. */
gboolean ctrd_mounts_add_image_volumes (GPtrArray *mounts, const char *const *image_volumes,
                                        GError **error);

G_END_DECLS
