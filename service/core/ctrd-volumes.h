/* ctrd-volumes.h: named and anonymous volumes, kept under the storage root:
 *
 *   volumes/              0700 root: no host user reaches a volume's files
 *   volumes/<name>/_data  what the container sees at the mount destination
 *
 * A volume is made on first use, populated from the image's content at the
 * destination (the seed's addLocalVolumes; podman's copy-up), and removed
 * only explicitly. Anonymous volumes (for the image's Volumes) are volumes
 * with a generated 64-hex name, marked anonymous in the container's Mounts.
 * Functions marked "blocks" touch the disk: call them from a GTask thread.
 * No D-Bus types. */
#pragma once

#include <gio/gio.h>

#include "ctrd-mounts.h"

G_BEGIN_DECLS

typedef struct _CtrdVolumes CtrdVolumes;

/* Creates (0700) and opens @storage_root/volumes. */
CtrdVolumes *ctrd_volumes_new (const char *storage_root, GError **error);
void ctrd_volumes_free (CtrdVolumes *volumes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdVolumes, ctrd_volumes_free)

/* @storage_root/volumes. */
const char *ctrd_volumes_get_dir (CtrdVolumes *volumes);

/* TRUE if the volume exists. */
gboolean ctrd_volumes_exists (CtrdVolumes *volumes, const char *name);

/* Blocks. The names of the existing volumes, sorted. Free with g_strfreev. */
char **ctrd_volumes_list (CtrdVolumes *volumes, GError **error);

/* Blocks. Returns the host path of volume @name's _data directory, making the
 * volume first when missing: then the directory @image_path (absolute) of
 * the root @image_root (may be NULL: nothing to copy) is copied into it
 * with modes, owners and times, fd-relative and never following a symlink
 * (symlinks are copied as symlinks; device nodes and sockets are skipped),
 * and _data takes that directory's owner and mode; when the image has no
 * such directory, _data is 0755 owned by @uid:@gid. The new volume is
 * filled in a temporary directory and renamed into place, so a half-copied
 * volume is never used; two containers making the same volume at once end
 * up sharing one. @out_created (may be NULL) says whether it was made now.
 * Errors: INVALID_ARGUMENT for a bad name or path; LIMIT_EXCEEDED past 256
 * directory levels; CANCELLED; else STORAGE_ERROR. Free with g_free. */
char *ctrd_volumes_ensure (CtrdVolumes *volumes, const char *name, const char *image_root,
                           const char *image_path, guint32 uid, guint32 gid, gboolean *out_created,
                           GCancellable *cancellable, GError **error);

/* Blocks. For a Mounts entry of type volume: ctrd_volumes_ensure with the
 * mount's destination as @image_path, then the bind mount the spec takes
 * (same destination, read-only flag and options; source = _data). A bind or
 * tmpfs entry is returned as a copy. Free with ctrd_mount_free. */
CtrdMount *ctrd_volumes_prepare_mount (CtrdVolumes *volumes, const CtrdMount *mount,
                                       const char *image_root, guint32 uid, guint32 gid,
                                       GCancellable *cancellable, GError **error);

/* Blocks. Removes volume @name and everything in it, never following
 * symlinks nor crossing into another file system (ctrd_remove_tree_at).
 * NOT_FOUND when it does not exist; CANCELLED when @cancellable is
 * cancelled between two directories (the volume is gone from the list
 * already: it was moved aside first). The caller makes sure no container uses it (IN_USE is its
 * answer: a volume mounted in a container is not visible here). */
gboolean ctrd_volumes_remove (CtrdVolumes *volumes, const char *name, GCancellable *cancellable,
                              GError **error);

G_END_DECLS
