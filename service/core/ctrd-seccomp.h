/* ctrd-seccomp.h: podman's seccomp profile format (containers-common's
 * seccomp.json) translated into the OCI spec's linux.seccomp, as podman
 * does it for one container. No D-Bus types. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The profile podman uses by default, from Debian's containers-common
 * (golang-github-containers-common on Debian 12). */
#define CTRD_SECCOMP_DEFAULT_PROFILE "/usr/share/containers/seccomp.json"

/* Where the container's process runs, as the profile's filters see it. */
typedef struct
{
  /* The architecture as the profile's includes/excludes name it ("amd64",
   * "arm64", "x86", "arm", "ppc64le", "s390x", "riscv64"); NULL = the
   * host's (ctrd_seccomp_native_arch). */
  const char *arch;
  /* The container's bounding capabilities ("CAP_SYS_ADMIN"): an entry that
   * includes a capability needs it here, one that excludes it is dropped
   * when it is here. */
  const char *const *caps;
  /* The kernel release for includes.minKernel ("6.1.0-13-amd64"); NULL =
   * the running kernel's. */
  const char *kernel;
} CtrdSeccompTarget;

/* The host's architecture in the profile's naming ("amd64" on x86_64), or
 * NULL where the profile format has no name for it. Static string. */
const char *ctrd_seccomp_native_arch (void);

/* Translates a profile (the parsed seccomp.json; not changed) into the OCI
 * linux.seccomp object for @target, like podman's setupSeccomp:
 *  - architectures: the archMap entry whose architecture is @target's
 *    (SCMP_ARCH_X86_64 for amd64) with its subArchitectures, or the
 *    profile's own "architectures" list; both at once is an error;
 *  - defaultAction and defaultErrnoRet as given;
 *  - each syscalls entry kept unless its excludes name @target's arch or a
 *    capability it has, or its includes name other arches, a capability it
 *    lacks or a newer kernel; "name" or "names", action, args (index, value,
 *    valueTwo, op) and errnoRet kept.
 * A profile that is not of this format (unknown action or operator, an
 * argument index over 5, wrong types) is INVALID_ARGUMENT naming the entry;
 * nothing of the profile's text is quoted beyond the field at fault. */
JsonNode *ctrd_seccomp_translate (JsonNode *profile, const CtrdSeccompTarget *target,
                                  GError **error);

/* Blocks (reads a file). Parses the profile at @path and translates it
 * (ctrd_seccomp_translate). The file must be a regular file owned by root
 * and writable by no one else (a profile the administrator installed);
 * opened without following a symlink in its last component. Errors name
 * @path: NOT_FOUND when it does not exist, INVALID_ARGUMENT otherwise. */
JsonNode *ctrd_seccomp_load (const char *path, const CtrdSeccompTarget *target, GError **error);

/* The default profile's additions to podman's, on a translated
 * linux.seccomp (@seccomp, changed in place) for @target. Podman's profile
 * (containers-common's) leaves the kernel keyring and new user namespaces
 * to the kernel, and the kernel allows both to any process: the keyring is
 * not namespaced, and inside a new user namespace the container's root has
 * every capability over the kernel's namespaced code, the usual first step
 * of an escape. So, as Docker's default profile has it:
 *  - keyctl, add_key and request_key fail with EPERM;
 *  - unless @target's capabilities have CAP_SYS_ADMIN, clone and unshare
 *    with CLONE_NEWUSER fail with EPERM (the same calls without it stay
 *    allowed), and clone3, whose flags a filter cannot see, fails with
 *    ENOSYS so that libc falls back to clone.
 * Those names are taken out of the profile's own entries first (an entry
 * left with none is dropped), so no rule of the profile allows them
 * unconditionally. Not applied to a profile the administrator names. */
void ctrd_seccomp_harden (JsonNode *seccomp, const CtrdSeccompTarget *target);

G_END_DECLS
