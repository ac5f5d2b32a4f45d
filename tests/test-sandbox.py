#!/usr/bin/python3
# test-sandbox.py: the sandbox every container gets, with real containers
# under runc, on the private bus of tests/private-bus.sh (the script puts
# itself under it).
#
#   - config.json has podman's default capabilities, masked and read-only
#     paths and podman's default seccomp profile, noNewPrivileges as asked;
#   - inside, as uid 0, a static probe built here from C cannot load a kernel
#     module, mount, use the kernel keyring (keyctl, add_key) or make a user
#     namespace (unshare(CLONE_NEWUSER)): EPERM from the default profile's
#     additions to podman's; a Privileged container (root: host-access) can
#     mount;
#   - bad CapAdd, CapDrop and SeccompProfile values and a WorkingDir under
#     /proc are InvalidArgument, an over-limit ShmSize or tmpfs size is
#     LimitExceeded naming the limit, and they change nothing;
#   - ImportImageFromPath refuses a FIFO, a device node and a symlink by
#     their kind on an O_PATH fd, never opening them.
# Needs root and gcc with a static libc. Prints TAP.
import json
import os
import sys
import tarfile

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

PODMAN_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
               "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
               "CAP_SYS_CHROOT"]

PROBE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
report (const char *what, long rc)
{
  printf ("%s=%s\n", what, rc == 0 ? "ok" : strerrorname_np (errno));
}

int
main (void)
{
  report ("uid", getuid ());
  report ("init_module", syscall (SYS_init_module, "", 0, ""));
  report ("finit_module", syscall (SYS_finit_module, -1, "", 0));
  report ("mount", mount ("none", "/mnt", "tmpfs", 0, ""));
  report ("keyctl", syscall (SYS_keyctl, 1, "probe"));
  report ("add_key", syscall (SYS_add_key, "user", "probe", "x", 1, -3));
  report ("unshare_user", unshare (CLONE_NEWUSER));
  return 0;
}
"""


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def build_image(tmp):
    """A busybox tar with /probe and an empty /mnt."""
    src = os.path.join(tmp, "probe.c")
    probe = os.path.join(tmp, "probe")
    with open(src, "w") as f:
        f.write(PROBE_C)
    r = T.run(["gcc", "-static", "-O2", "-o", probe, src])
    if r.returncode != 0:
        return None, r.stdout
    tar = os.path.join(tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    with tarfile.open(tar, "a") as archive:
        info = archive.gettarinfo(probe, "probe")
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        with open(probe, "rb") as f:
            archive.addfile(info, f)
        mnt = tarfile.TarInfo("mnt")
        mnt.type = tarfile.DIRTYPE
        mnt.mode = 0o755
        archive.addfile(mnt)
    return tar, ""


class Ctx:
    def __init__(self, tap, daemon, bus):
        self.tap, self.daemon, self.bus = tap, daemon, bus

    def call(self, path, iface, method, params=None, fds=None):
        return T.call(self.bus, path, iface, method, params, fds=fds)

    def create(self, name, command, options=None):
        r = self.call(T.ROOT, T.MANAGER, "CreateContainer",
                      V("ssasa{sv}", name, "sandbox", list(command), options or {}))
        return (r.value[0] if r.error is None else None), r

    def container_id(self, path):
        return T.get_property(self.bus, path, T.CONTAINER, "Id")

    def spec(self, path):
        bundle = os.path.join(self.daemon.storage, "containers", self.container_id(path),
                              "config.json")
        with open(bundle) as f:
            return json.load(f)

    def probe(self, path):
        """The probe's report, run by Exec in the running container."""
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            r = self.call(path, T.CONTAINER, "Exec", V("asa{sv}hhh", ["/probe"], {}, 0, 1, 1),
                          fds=[devnull, write_end])
        finally:
            os.close(write_end)
            os.close(devnull)
        with os.fdopen(read_end, "rb") as f:
            out = f.read().decode(errors="replace")
        if r.error is not None:
            return None, "%r %s" % (r, out)
        return dict(line.split("=", 1) for line in out.split()), out

    def remove(self, path):
        return self.call(path, T.CONTAINER, "Remove", V("bb", True, False))


def test_default_sandbox(c, tap):
    path, r = c.create("sandboxed", ["sleep", "1000"], {"NoNewPrivileges": GLib.Variant("b", True)})
    if not tap.ok(path is not None, "a default container is created", r):
        return
    r = c.call(path, T.CONTAINER, "Start")
    if not tap.ok(r.error is None, "and starts", r):
        return
    spec = c.spec(path)
    caps = spec["process"]["capabilities"]
    tap.ok(caps["bounding"] == PODMAN_CAPS and caps["effective"] == PODMAN_CAPS,
           "its capabilities are podman's default set", caps)
    tap.ok(spec["process"]["noNewPrivileges"] is True, "NoNewPrivileges reaches the spec",
           spec["process"].get("noNewPrivileges"))
    seccomp = spec["linux"].get("seccomp", {})
    tap.ok(seccomp.get("defaultAction") == "SCMP_ACT_ERRNO" and
           seccomp.get("defaultErrnoRet") == 38 and len(seccomp.get("syscalls", [])) == 22 + 6,
           "its seccomp filter is podman's default profile (22 entries on x86_64) and the six "
           "of no keyring and no user namespace",
           {k: v for k, v in seccomp.items() if k != "syscalls"})
    tap.ok("/proc/kcore" in spec["linux"].get("maskedPaths", []) and
           "/proc/sys" in spec["linux"].get("readonlyPaths", []),
           "masked and read-only paths are podman's")
    report, out = c.probe(path)
    if tap.ok(report is not None, "the probe runs in it", out):
        tap.ok(report.get("uid") == "ok", "the probe runs as uid 0", out)
        tap.ok(report.get("init_module") != "ok" and report.get("finit_module") != "ok",
               "it cannot load a kernel module", out)
        tap.ok(report.get("mount") == "EPERM", "it cannot mount (EPERM)", out)
        tap.ok(report.get("keyctl") == "EPERM" and report.get("add_key") == "EPERM",
               "it cannot use the kernel keyring (keyctl, add_key: EPERM)", out)
        tap.ok(report.get("unshare_user") == "EPERM",
               "it cannot make a user namespace (unshare(CLONE_NEWUSER): EPERM)", out)
    tap.ok(c.remove(path).error is None, "the default container is removed")


def test_privileged(c, tap):
    path, r = c.create("privileged", ["sleep", "1000"], {"Privileged": GLib.Variant("b", True)})
    if not tap.ok(path is not None, "root creates a Privileged container (host-access)", r):
        return
    r = c.call(path, T.CONTAINER, "Start")
    if not tap.ok(r.error is None, "and starts it", r):
        return
    spec = c.spec(path)
    tap.ok("seccomp" not in spec["linux"] and "maskedPaths" not in spec["linux"] and
           "CAP_SYS_ADMIN" in spec["process"]["capabilities"]["bounding"],
           "a Privileged container has every capability, no seccomp and nothing masked")
    report, out = c.probe(path)
    tap.ok(report is not None and report.get("mount") == "ok",
           "a Privileged container can mount", out)
    tap.ok(c.remove(path).error is None, "the Privileged container is removed")


def test_cap_add_drop(c, tap):
    path, r = c.create("capped", ["true"], {"CapAdd": GLib.Variant("as", ["net_admin"]),
                                            "CapDrop": GLib.Variant("as", ["CAP_CHOWN"])})
    if not tap.ok(path is not None, "CapAdd and CapDrop are taken", r):
        return
    r = c.call(path, T.CONTAINER, "Start")
    if tap.ok(r.error is None, "the capped container starts", r):
        bounding = c.spec(path)["process"]["capabilities"]["bounding"]
        tap.ok("CAP_NET_ADMIN" in bounding and "CAP_CHOWN" not in bounding,
               "the spec adds CAP_NET_ADMIN and drops CAP_CHOWN", bounding)
    c.remove(path)


def test_bad_input(c, tap):
    cases = [
        ("CapAdd names no capability", {"CapAdd": GLib.Variant("as", ["CAP_ROOT"])}),
        ("CapDrop names no capability", {"CapDrop": GLib.Variant("as", ["nope"])}),
        ("CapAdd and CapDrop both name one", {"CapAdd": GLib.Variant("as", ["SYS_ADMIN"]),
                                              "CapDrop": GLib.Variant("as", ["CAP_SYS_ADMIN"])}),
        ("CapAdd of the wrong type", {"CapAdd": GLib.Variant("s", "SYS_ADMIN")}),
        ("Privileged of the wrong type", {"Privileged": GLib.Variant("s", "yes")}),
        ("NoNewPrivileges of the wrong type", {"NoNewPrivileges": GLib.Variant("u", 1)}),
        ("SeccompProfile that is no profile", {"SeccompProfile": GLib.Variant("s", "strict")}),
        ("SeccompProfile relative", {"SeccompProfile": GLib.Variant("s", "etc/p.json")}),
        ("SeccompProfile with ..", {"SeccompProfile": GLib.Variant("s", "/etc/../p.json")}),
    ]
    cases = [(desc, options, "InvalidArgument") for desc, options in cases] + [
        ("WorkingDir under /proc", {"WorkingDir": GLib.Variant("s", "/proc/self/fd/3")},
         "InvalidArgument"),
        ("WorkingDir /./proc", {"WorkingDir": GLib.Variant("s", "/./proc/1/cwd")},
         "InvalidArgument"),
        ("ShmSize 2^64-1", {"ShmSize": GLib.Variant("t", 2**64 - 1)}, "LimitExceeded"),
        ("a tmpfs of size=99999999999999999999",
         {"Mounts": GLib.Variant("aa{sv}", [{"Type": GLib.Variant("s", "tmpfs"),
                                             "Destination": GLib.Variant("s", "/big"),
                                             "Options": GLib.Variant("as", [
                                                 "size=99999999999999999999"])}])},
         "LimitExceeded"),
        ("a tmpfs of size=65g", {"Mounts": GLib.Variant("aa{sv}", [
            {"Type": GLib.Variant("s", "tmpfs"), "Destination": GLib.Variant("s", "/big"),
             "Options": GLib.Variant("as", ["size=65g"])}])}, "LimitExceeded"),
    ]
    before = T.snapshot(c.daemon, c.bus)
    for desc, options, expected in cases:
        path, r = c.create("bad", ["true"], options)
        ok = r.error == T.ERROR + expected
        if expected == "LimitExceeded":
            ok = ok and "68719476736" in (r.message or "")
        tap.ok(ok, "%s: %s%s" % (desc, expected,
                                 " naming the limit" if expected == "LimitExceeded" else ""), r)
    diff = T.snapshot_diff(before, T.snapshot(c.daemon, c.bus))
    tap.ok(diff == "", "bad sandbox, size and WorkingDir options change nothing", diff)


def test_import_path_kinds(c, tap):
    """A FIFO, a device node and a symlink (to a root-only file) are refused
    by their kind, seen on an O_PATH fd, without being opened."""
    tmp = c.daemon.tmp
    fifo = os.path.join(tmp, "import.fifo")
    os.mkfifo(fifo, 0o600)
    secret = os.path.join(tmp, "secret.tar")
    with open(secret, "w") as f:
        f.write("root only")
    os.chmod(secret, 0o600)
    link = os.path.join(tmp, "link.tar")
    os.symlink(secret, link)
    before = T.snapshot(c.daemon, c.bus)
    for desc, path, kind in (("a FIFO", fifo, "a special file"),
                             ("a device node", "/dev/null", "a special file"),
                             ("a symlink to a root-only file", link, "a symbolic link")):
        r = c.call(T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", path, "", {}))
        tap.ok(r.error == T.ERROR + "InvalidArgument" and kind in (r.message or ""),
               "ImportImageFromPath of %s: InvalidArgument (%s)" % (desc, kind), r)
    diff = T.snapshot_diff(before, T.snapshot(c.daemon, c.bus))
    tap.ok(diff == "", "refused import paths change nothing", diff)


def run_tests(tap, daemon):
    tar, why = build_image(daemon.tmp)
    if tar is None:
        tap.skip("the sandbox", "no static probe: %s" % why)
        return
    if not os.path.exists("/usr/share/containers/seccomp.json"):
        tap.skip("the sandbox", "no /usr/share/containers/seccomp.json (containers-common)")
        return
    daemon.start()
    c = Ctx(tap, daemon, T.system_bus())
    r = c.call(T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "sandbox", {}))
    if not tap.ok(r.error is None, "the probe image is imported", r):
        tap.bail("no image")
    test_bad_input(c, tap)
    test_import_path_kinds(c, tap)
    test_default_sandbox(c, tap)
    test_privileged(c, tap)
    test_cap_add_drop(c, tap)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


if __name__ == "__main__":
    main()
