#!/usr/bin/python3
# test-container-copy.py: Container.CopyFrom and CopyTo with real containers under
# runc, on the private bus of tests/private-bus.sh (the script puts itself
# under it).
#
#   - a file and a tree go into a running container and come out again byte
#     for byte with modes and owners, as the container itself sees them;
#   - archives with "../x", "/etc/x", a symlink to / and a file through it,
#     a hard link to a host path, a device node get InvalidArgument, write
#     nothing on the host and leave the container's directory as it was;
#   - CopyFrom of a symlink pointing out copies the link;
#   - an exited container is copied into and out of (its root mounted for
#     the copy, then unmounted);
#   - bad paths, options and fds are InvalidArgument and change nothing.
# Needs root. Prints TAP.
import io
import os
import secrets
import sys
import tarfile
import tempfile

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

ESCAPE = "ctrd-copy-escape-" + secrets.token_hex(6)


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def member(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = 1700000000
    info.linkname = link
    if kind == tarfile.REGTYPE:
        info.size = len(data)
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, (data if kind == tarfile.REGTYPE else None)


def build_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def describe(tar_bytes):
    """{name: (type, mode, uid, gid, content or link)} of a tar."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        for info in archive:
            content = info.linkname
            if info.isfile():
                content = archive.extractfile(info).read()
            out[info.name.rstrip("/")] = (info.type, info.mode, info.uid, info.gid, content)
    return out


class Ctx:
    def __init__(self, tap, daemon, bus):
        self.tap, self.daemon, self.bus = tap, daemon, bus

    def call(self, path, iface, method, params=None, fds=None):
        return T.call(self.bus, path, iface, method, params, fds=fds)

    def copy_to(self, path, where, tar_bytes, options=None):
        with tempfile.TemporaryFile(dir=self.daemon.tmp) as f:
            f.write(tar_bytes)
            f.seek(0)
            return self.call(path, T.CONTAINER, "CopyTo", V("sha{sv}", where, 0, options or {}),
                             fds=[f.fileno()])

    def copy_from(self, path, where):
        """(reply, tar bytes)."""
        with tempfile.TemporaryFile(dir=self.daemon.tmp) as f:
            r = self.call(path, T.CONTAINER, "CopyFrom", V("sh", where, 0), fds=[f.fileno()])
            f.seek(0)
            return r, f.read()

    def exec_output(self, path, argv):
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            r = self.call(path, T.CONTAINER, "Exec", V("asa{sv}hhh", argv, {}, 0, 1, 1),
                          fds=[devnull, write_end])
        finally:
            os.close(write_end)
            os.close(devnull)
        with os.fdopen(read_end, "rb") as f:
            out = f.read().decode(errors="replace")
        return (out if r.error is None else None), r


def host_escapes():
    """Files an escaping member could have made on the host."""
    found = []
    for d in ("/", "/etc", "/tmp", T.BUILDDIR):
        if os.path.lexists(os.path.join(d, ESCAPE)):
            found.append(os.path.join(d, ESCAPE))
    return found


def test_round_trip(c, tap, path):
    payload = os.urandom(300000)
    tree = [
        member("tree", tarfile.DIRTYPE, mode=0o750, uid=1000, gid=1001),
        member("tree/tool", data=payload, mode=0o4755),
        member("tree/owned", data=b"mine\n", mode=0o640, uid=1234, gid=4321),
        member("tree/sub", tarfile.DIRTYPE, mode=0o700, uid=5, gid=6),
        member("tree/sub/deep", data=b"deep\n", mode=0o444, uid=7, gid=8),
        member("tree/passwd-link", tarfile.SYMTYPE, mode=0o777, link="/etc/passwd"),
        member("one", data=b"just one file\n", mode=0o600, uid=99, gid=98),
    ]
    sent = build_tar(tree)
    r = c.copy_to(path, "/tmp", sent)
    if not tap.ok(r.error is None, "CopyTo of a file and a tree into a running container", r):
        return
    out, r = c.exec_output(path, ["stat", "-c", "%n %a %u %g %s",
                                  "/tmp/one", "/tmp/tree", "/tmp/tree/tool", "/tmp/tree/owned",
                                  "/tmp/tree/sub", "/tmp/tree/sub/deep"])
    expected = ("/tmp/one 600 99 98 14\n/tmp/tree 750 1000 1001 %s\n"
                "/tmp/tree/tool 4755 0 0 300000\n/tmp/tree/owned 640 1234 4321 5\n")
    lines = (out or "").splitlines()
    tap.ok(out is not None and len(lines) == 6 and lines[0] == "/tmp/one 600 99 98 14" and
           lines[1].startswith("/tmp/tree 750 1000 1001 ") and
           lines[2] == "/tmp/tree/tool 4755 0 0 300000" and
           lines[3] == "/tmp/tree/owned 640 1234 4321 5" and
           lines[4].startswith("/tmp/tree/sub 700 5 6 ") and
           lines[5] == "/tmp/tree/sub/deep 444 7 8 5",
           "the container sees the modes (setuid included), owners and sizes", (out, expected, r))
    out, r = c.exec_output(path, ["readlink", "/tmp/tree/passwd-link"])
    tap.ok(out == "/etc/passwd\n", "the symlink keeps its target", (out, r))
    out, r = c.exec_output(path, ["ls", "-a", "/tmp"])
    tap.ok(out is not None and sorted(out.split()) == [".", "..", "one", "tree"],
           "no staging directory is left in the target", out)

    r, got = c.copy_from(path, "/tmp/tree")
    if tap.ok(r.error is None, "CopyFrom of the tree", r):
        want = describe(build_tar(tree[:-1]))
        have = describe(got)
        tap.ok(have == want, "the tree comes out byte for byte with modes and owners",
               {k: (have.get(k), want.get(k)) for k in set(have) | set(want)
                if have.get(k) != want.get(k)})
    r, got = c.copy_from(path, "/tmp/one")
    tap.ok(r.error is None and describe(got) == describe(build_tar(tree[-1:])),
           "CopyFrom of one file gives that file", r)


def test_refused(c, tap, path):
    host_secret = os.path.join(c.daemon.tmp, "host-secret")
    with open(host_secret, "w") as f:
        f.write("host only\n")
    cases = [
        ("a member ../x", [member("../" + ESCAPE, data=b"x")]),
        ("a member ../../../../../../../x",
         [member("a/../../../../../../../../" + ESCAPE, data=b"x")]),
        ("a member /etc/x", [member("/etc/" + ESCAPE, data=b"x")]),
        ("a symlink to / then a file through it",
         [member("up", tarfile.SYMTYPE, link="/"), member("up/etc/" + ESCAPE, data=b"x")]),
        ("a symlink to ../../.. then a file through it",
         [member("up", tarfile.SYMTYPE, link="../../.."), member("up/tmp/" + ESCAPE, data=b"x")]),
        ("a hard link to a host path", [member(ESCAPE, tarfile.LNKTYPE, link=host_secret)]),
        ("a hard link up and out",
         [member(ESCAPE, tarfile.LNKTYPE, link="../../../../../../" + host_secret)]),
        ("a hard link to a container file", [member(ESCAPE, tarfile.LNKTYPE, link="etc/passwd")]),
        ("a character device", [member(ESCAPE, tarfile.CHRTYPE)]),
        ("a block device", [member(ESCAPE, tarfile.BLKTYPE)]),
        ("good members then a bad one",
         [member("fine", data=b"fine\n"), member("one", data=b"overwritten\n"),
          member("../" + ESCAPE, data=b"x")]),
    ]
    listing_cmd = ["sh", "-c", "find /tmp /etc -maxdepth 3 | sort; ls -a /"]
    before_listing, _ = c.exec_output(path, listing_cmd)
    before_one, _ = c.exec_output(path, ["cat", "/tmp/one"])
    before = T.snapshot(c.daemon, c.bus)
    for desc, members in cases:
        r = c.copy_to(path, "/tmp", build_tar(members))
        tap.ok(r.error == T.INVALID_ARGUMENT and "Tar member" in (r.message or ""),
               "CopyTo with %s: InvalidArgument naming the member" % desc, r)
        tap.ok(host_escapes() == [], "  and nothing appears on the host", host_escapes())
    listing, _ = c.exec_output(path, listing_cmd)
    one, _ = c.exec_output(path, ["cat", "/tmp/one"])
    tap.ok(listing == before_listing and one == before_one,
           "refused archives leave the container's files as they were", (before_listing, listing))
    with open(host_secret) as f:
        tap.ok(f.read() == "host only\n" and os.stat(host_secret).st_nlink == 1,
               "the host file is neither changed nor linked")
    diff = T.snapshot_diff(before, T.snapshot(c.daemon, c.bus))
    tap.ok(diff == "", "refused archives change no state", diff)


def test_symlink_out(c, tap, path):
    outside = os.path.join(c.daemon.tmp, "host-dir")
    os.makedirs(outside, exist_ok=True)
    with open(os.path.join(outside, "hostfile"), "w") as f:
        f.write("host\n")
    r = c.copy_to(path, "/tmp", build_tar([member("out", tarfile.SYMTYPE, link=outside),
                                           member("root", tarfile.SYMTYPE, link="/")]))
    if not tap.ok(r.error is None, "CopyTo of symlinks pointing out of the root", r):
        return
    r, got = c.copy_from(path, "/tmp/out")
    have = describe(got) if r.error is None else {}
    tap.ok(list(have) == ["out"] and have["out"][0] == tarfile.SYMTYPE and
           have["out"][4] == outside, "CopyFrom of a symlink pointing out copies the link",
           (r, have))
    r, _ = c.copy_from(path, "/tmp/out/hostfile")
    tap.ok(r.error == T.NOT_FOUND, "a path through it resolves inside the root: NotFound", r)
    r, got = c.copy_from(path, "/tmp/root/etc/passwd")
    have = describe(got) if r.error is None else {}
    tap.ok(list(have) == ["passwd"] and b"root:" in have["passwd"][4] and
           b"host" not in have["passwd"][4],
           "a path through a symlink to / reads the container's file", (r, have))
    c.exec_output(path, ["rm", "/tmp/out", "/tmp/root"])


def test_exited(c, tap, path):
    r = c.call(path, T.CONTAINER, "Stop", V("u", 5))
    if not tap.ok(r.error is None, "the container stops", r):
        return
    before = sorted(T.mounts_under(c.daemon.tmp))
    r, got = c.copy_from(path, "/tmp/one")
    tap.ok(r.error is None and describe(got).get("one", (0,) * 5)[4] == b"just one file\n",
           "CopyFrom works on an exited container", r)
    r = c.copy_to(path, "/tmp", build_tar([member("later", data=b"later\n", mode=0o604)]))
    tap.ok(r.error is None, "CopyTo works on an exited container", r)
    tap.ok(sorted(T.mounts_under(c.daemon.tmp)) == before,
           "the root mounted for the copies is unmounted again")
    r = c.call(path, T.CONTAINER, "Start")
    if tap.ok(r.error is None, "the container starts again", r):
        out, r = c.exec_output(path, ["stat", "-c", "%a %s", "/tmp/later"])
        tap.ok(out == "604 6\n", "the file copied in while it was exited is there", (out, r))


def test_bad_input(c, tap, path):
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    tar = build_tar([member("x", data=b"x")])
    before = T.snapshot(c.daemon, c.bus)
    cases = [
        ("CopyTo a relative path", lambda: c.copy_to(path, "tmp", tar), T.INVALID_ARGUMENT),
        ("CopyTo a path with ..", lambda: c.copy_to(path, "/tmp/../etc", tar),
         T.INVALID_ARGUMENT),
        ("CopyTo an unknown option",
         lambda: c.copy_to(path, "/tmp", tar, {"Bogus": GLib.Variant("b", True)}),
         T.INVALID_ARGUMENT),
        ("CopyTo NoOverwriteDirNonDir of the wrong type",
         lambda: c.copy_to(path, "/tmp", tar, {"NoOverwriteDirNonDir": GLib.Variant("s", "y")}),
         T.INVALID_ARGUMENT),
        ("CopyTo a missing directory", lambda: c.copy_to(path, "/nonexistent", tar), T.NOT_FOUND),
        ("CopyTo a file", lambda: c.copy_to(path, "/tmp/one", tar), T.INVALID_ARGUMENT),
        ("CopyTo from a write-only fd",
         lambda: c.call(path, T.CONTAINER, "CopyTo", V("sha{sv}", "/tmp", 0, {}),
                        fds=[write_end]), T.INVALID_ARGUMENT),
        ("CopyTo of bytes that are no tar",
         lambda: c.copy_to(path, "/tmp", b"not a tar archive\n" * 10), T.INVALID_ARGUMENT),
        ("CopyTo of a cut tar", lambda: c.copy_to(path, "/tmp", tar[:600]), T.INVALID_ARGUMENT),
        ("CopyFrom a relative path", lambda: c.copy_from(path, "tmp/one")[0],
         T.INVALID_ARGUMENT),
        ("CopyFrom a missing path", lambda: c.copy_from(path, "/tmp/nothing")[0], T.NOT_FOUND),
        ("CopyFrom to a read-only fd",
         lambda: c.call(path, T.CONTAINER, "CopyFrom", V("sh", "/tmp/one", 0), fds=[read_end]),
         T.INVALID_ARGUMENT),
    ]
    for desc, fn, expected in cases:
        r = fn()
        tap.ok(r.error == expected and "Container copied" in (r.message or ""),
               "%s: %s naming the container" % (desc, expected.rsplit(".", 1)[1]), r)
    os.close(read_end)
    os.close(write_end)
    out, _ = c.exec_output(path, ["ls", "/tmp"])
    tap.ok(out is not None and "x" not in out.split(), "no bad call wrote into the container", out)
    diff = T.snapshot_diff(before, T.snapshot(c.daemon, c.bus))
    tap.ok(diff == "", "bad calls change no state", diff)


def run_tests(tap, daemon):
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    daemon.start()
    c = Ctx(tap, daemon, T.system_bus())
    r = c.call(T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "busybox", {}))
    if not tap.ok(r.error is None, "the busybox image is imported", r):
        tap.bail("no image")
    r = c.call(T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "copied", "busybox", ["sleep", "1000"], {}))
    if not tap.ok(r.error is None, "a container is created", r):
        tap.bail("no container")
    path = r.value[0]
    r = c.call(path, T.CONTAINER, "Start")
    if not tap.ok(r.error is None, "and started", r):
        tap.bail("not running")
    test_round_trip(c, tap, path)
    test_refused(c, tap, path)
    test_symlink_out(c, tap, path)
    test_bad_input(c, tap, path)
    test_exited(c, tap, path)
    c.call(path, T.CONTAINER, "Remove", V("bb", True, False))


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


if __name__ == "__main__":
    main()
