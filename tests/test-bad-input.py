#!/usr/bin/python3
# test-bad-input.py: a table of bad inputs for every method of the API that
# the daemon implements, on the private bus of tests/private-bus.sh (the
# script puts itself under it). Each case asserts the exact D-Bus error name
# and that nothing changed: database rows, repo refs and `ostree fsck`, the
# repo's temporary files, container directories, mounts under the test's
# roots, and the objects on the bus. Calls are made as root, so only
# validation can refuse them (test-authz.py covers authorization).
#
# Tar members that rootfs-tar imports skip (device nodes, FIFOs) or keep as
# plain files (".wh." names: whiteouts mean something only in OCI layers) are
# checked by what the image holds. Extended attributes the kernel would not
# store (a bad security.capability, one on a directory, a user attribute on
# a symlink) are InvalidArgument naming the member and the attribute, with
# nothing changed; a valid capability set is kept. Needs root. Prints TAP.
import io
import os
import sys
import tarfile

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib, Gio  # noqa: E402

T.enter_private_bus(__file__)

MiB = 1024 * 1024
DBUS_INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
DBUS_UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
DBUS_UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
DBUS_ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
E = {name: T.ERROR + name for name in ("InvalidArgument", "LimitExceeded", "NotFound",
                                       "NameInUse", "InvalidState")}
# Small caps, so that bombs are cheap to build.
IMPORT_MAX_BYTES = 16 * MiB
IMPORT_MAX_ENTRIES = 2000
CONFIG = "[limits]\nimport_max_bytes=%d\nimport_max_entries=%d\n" % (IMPORT_MAX_BYTES,
                                                                     IMPORT_MAX_ENTRIES)


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def create(name="ok", image="busybox", command=("true",), options=None):
    return V("ssasa{sv}", name, image, list(command), options or {})


def nested_asv(depth):
    """a{sv} in a{sv}...: each level is 3 containers deep (array, dict entry,
    variant); D-Bus allows 64, so 20 levels inside the options still pass the
    bus and reach the daemon."""
    value = GLib.Variant("s", "bottom")
    for _ in range(depth):
        value = GLib.Variant("a{sv}", {"deeper": value})
    return value


# ---------------------------------------------------------------- tars


def tar_bytes(members, gzip=False):
    """A tar of @members: (TarInfo fields dict, data bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gzip else "w", format=tarfile.GNU_FORMAT) as tar:
        for fields, data in members:
            info = tarfile.TarInfo(fields.pop("name"))
            info.mode = 0o755 if fields.get("type") == tarfile.DIRTYPE else 0o644
            for key, value in fields.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def reg(name, data=b"x\n"):
    return ({"name": name, "type": tarfile.REGTYPE}, data)


def dir_(name):
    return ({"name": name, "type": tarfile.DIRTYPE}, None)


def link(name, target, kind=tarfile.LNKTYPE):
    return ({"name": name, "type": kind, "linkname": target}, None)


def with_xattr(member, name, value):
    """@member with the extended attribute @name = @value (bytes), as a pax
    SCHILY.xattr record."""
    fields, data = member
    fields = dict(fields, pax_headers={"SCHILY.xattr." + name:
                                       value.decode("utf-8", "surrogateescape")})
    return (fields, data)


def pax_tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for fields, data in members:
            fields = dict(fields)
            info = tarfile.TarInfo(fields.pop("name"))
            info.mode = 0o755 if fields.get("type") == tarfile.DIRTYPE else 0o644
            for key, value in fields.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


# struct vfs_cap_data, revision 2, effective: CAP_NET_BIND_SERVICE permitted
CAP_V2 = (0x02000001).to_bytes(4, "little") + (1 << 10).to_bytes(4, "little") + bytes(12)


def special(name, kind):
    return ({"name": name, "type": kind, "devmajor": 1, "devminor": 3}, None)


class Zeros(io.RawIOBase):
    """@size zero bytes, without holding them."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def gzip_bomb():
    """A gzip'd tar of one file of zeros larger than the import cap."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("zeros")
        info.size = IMPORT_MAX_BYTES + 4 * MiB
        tar.addfile(info, io.BufferedReader(Zeros(info.size)))
    return buf.getvalue()


def write_file(tmp, name, data, mode=0o644):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


# ---------------------------------------------------------------- fds


def fd_of(path, flags=os.O_RDONLY):
    return lambda: os.open(path, flags | os.O_CLOEXEC)


def fd_dir(path):
    return lambda: os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


# ---------------------------------------------------------------- the table


def cases(ctx):
    """(description, target, interface, method, params, fd openers, error)
    where target names an object of ctx and error is the expected D-Bus error
    name."""
    M, C, I = T.MANAGER, T.CONTAINER, T.IMAGE
    big = "x" * (10 * MiB)
    tars = ctx["tars"]

    def imported(desc, tar, error):
        return ("import: " + desc, "manager", M, "ImportImage", V("hsa{sv}", 0, "", {}),
                [fd_of(tars[tar])], error)

    opts_70k = {"Env": GLib.Variant("as", ["K%d=%s" % (i, "v" * 1000) for i in range(70)])}
    return [
        # -- unknown things and wrong signatures
        ("Manager: unknown method", "manager", M, "NoSuchMethod", None, [], DBUS_UNKNOWN_METHOD),
        ("Container: unknown method", "running", C, "Explode", None, [], DBUS_UNKNOWN_METHOD),
        ("Image: unknown method", "image", I, "Explode", None, [], DBUS_UNKNOWN_METHOD),
        # The bus policy lets only the service's interfaces through.
        ("unknown interface on the manager", "manager", T.NAME + ".Nope", "Start", None, [],
         DBUS_ACCESS_DENIED),
        ("CreateContainer with signature (s)", "manager", M, "CreateContainer", V("s", "x"), [],
         DBUS_INVALID_ARGS),
        ("CreateContainer with no arguments", "manager", M, "CreateContainer", None, [],
         DBUS_INVALID_ARGS),
        ("CreateContainer with command as s", "manager", M, "CreateContainer",
         V("sssa{sv}", "n", "busybox", "true", {}), [], DBUS_INVALID_ARGS),
        ("CreateContainer with options as a{ss}", "manager", M, "CreateContainer",
         V("ssasa{ss}", "n", "busybox", ["true"], {}), [], DBUS_INVALID_ARGS),
        ("ImportImageFromPath with signature (ss)", "manager", M, "ImportImageFromPath",
         V("ss", "/x", "y"), [], DBUS_INVALID_ARGS),
        ("ImportImage with s for the fd", "manager", M, "ImportImage",
         V("ssa{sv}", "/x", "y", {}), [], DBUS_INVALID_ARGS),
        ("GetContainer with signature (u)", "manager", M, "GetContainer", V("u", 1), [],
         DBUS_INVALID_ARGS),
        ("Stop with signature (s)", "running", C, "Stop", V("s", "10"), [], DBUS_INVALID_ARGS),
        ("Kill with no argument", "running", C, "Kill", None, [], DBUS_INVALID_ARGS),
        ("Kill with signature (i)", "running", C, "Kill", V("i", 9), [], DBUS_INVALID_ARGS),
        ("Remove with signature (b)", "running", C, "Remove", V("b", True), [],
         DBUS_INVALID_ARGS),
        ("Start with an argument", "configured", C, "Start", V("u", 1), [], DBUS_INVALID_ARGS),
        ("Wait with an argument", "running", C, "Wait", V("s", "x"), [], DBUS_INVALID_ARGS),
        ("Properties.Get of an unknown property", "running", "org.freedesktop.DBus.Properties",
         "Get", V("ss", C, "Secret"), [], DBUS_INVALID_ARGS),
        ("Properties.Set, refused by the bus policy", "running",
         "org.freedesktop.DBus.Properties", "Set", V("ssv", C, "Name", GLib.Variant("s", "x")),
         [], DBUS_ACCESS_DENIED),
        # -- calls on a removed object
        ("Start on a removed container", "removed", C, "Start", None, [], DBUS_UNKNOWN_METHOD),
        ("Remove on a removed container", "removed", C, "Remove", V("bb", True, True), [],
         DBUS_UNKNOWN_METHOD),
        ("Wait on a removed container", "removed", C, "Wait", None, [], DBUS_UNKNOWN_METHOD),
        ("GetContainer of a removed container's ID", "manager", M, "GetContainer",
         V("s", ctx["removed_id"]), [], E["NotFound"]),
        # -- CreateContainer: names and limits
        ("CreateContainer: name of 129 bytes", "manager", M, "CreateContainer",
         create(name="n" * 129), [], E["LimitExceeded"]),
        ("CreateContainer: name of 10 MiB", "manager", M, "CreateContainer", create(name=big), [],
         E["LimitExceeded"]),
        ("CreateContainer: name with '/'", "manager", M, "CreateContainer", create(name="a/b"),
         [], E["InvalidArgument"]),
        ("CreateContainer: name starting with '-'", "manager", M, "CreateContainer",
         create(name="-rf"), [], E["InvalidArgument"]),
        ("CreateContainer: name with a newline", "manager", M, "CreateContainer",
         create(name="a\nb"), [], E["InvalidArgument"]),
        # Messages cut to a length must not cut a UTF-8 sequence (D-Bus
        # strings must be valid UTF-8, or the reply is never sent).
        ("CreateContainer: name of 100 two-byte characters", "manager", M, "CreateContainer",
         create(name="\u00e9" * 100), [], E["LimitExceeded"]),
        ("CreateContainer: image reference of 100 three-byte characters", "manager", M,
         "CreateContainer", create(image="\u20ac" * 100), [], E["NotFound"]),
        ("GetContainer: 97 two-byte characters", "manager", M, "GetContainer",
         V("s", "\u00fc" * 97), [], E["LimitExceeded"]),
        ("Kill: 40 four-byte characters", "running", C, "Kill", V("s", "\U0001f600" * 40), [],
         E["InvalidArgument"]),
        ("CreateContainer: name in use", "manager", M, "CreateContainer",
         create(name="running"), [], E["NameInUse"]),
        ("CreateContainer: empty image reference", "manager", M, "CreateContainer",
         create(image=""), [], E["InvalidArgument"]),
        ("CreateContainer: unknown image", "manager", M, "CreateContainer",
         create(image="nosuchimage"), [], E["NotFound"]),
        ("CreateContainer: image reference of 10 MiB", "manager", M, "CreateContainer",
         create(image=big), [], E["LimitExceeded"]),
        ("CreateContainer: argv of 4097 elements", "manager", M, "CreateContainer",
         create(command=["true"] * 4097), [], E["LimitExceeded"]),
        ("CreateContainer: argv over 1 MiB", "manager", M, "CreateContainer",
         create(command=["echo", "a" * (MiB // 2), "b" * (MiB // 2)]), [], E["LimitExceeded"]),
        ("CreateContainer: argv with one 10 MiB string", "manager", M, "CreateContainer",
         create(command=["echo", big]), [], E["LimitExceeded"]),
        ("CreateContainer: empty program name", "manager", M, "CreateContainer",
         create(command=[""]), [], E["InvalidArgument"]),
        ("CreateContainer: Entrypoint of 4097 elements", "manager", M, "CreateContainer",
         create(options={"Entrypoint": GLib.Variant("as", ["x"] * 4097)}), [],
         E["LimitExceeded"]),
        ("CreateContainer: 4097 Env entries", "manager", M, "CreateContainer",
         create(options={"Env": GLib.Variant("as", ["K%d=v" % i for i in range(4097)])}), [],
         E["LimitExceeded"]),
        ("CreateContainer: Env entry without '='", "manager", M, "CreateContainer",
         create(options={"Env": GLib.Variant("as", ["NOEQUALS"])}), [], E["InvalidArgument"]),
        ("CreateContainer: Env entry with an empty key", "manager", M, "CreateContainer",
         create(options={"Env": GLib.Variant("as", ["=value"])}), [], E["InvalidArgument"]),
        ("CreateContainer: 257 labels", "manager", M, "CreateContainer",
         create(options={"Labels": GLib.Variant("a{ss}", {"l%d" % i: "v" for i in range(257)})}),
         [], E["LimitExceeded"]),
        ("CreateContainer: a label with an empty key", "manager", M, "CreateContainer",
         create(options={"Labels": GLib.Variant("a{ss}", {"": "v"})}), [], E["InvalidArgument"]),
        ("CreateContainer: options of 70 KiB", "manager", M, "CreateContainer",
         create(options=opts_70k), [], E["LimitExceeded"]),
        ("CreateContainer: an option value of 10 MiB", "manager", M, "CreateContainer",
         create(options={"Hostname": GLib.Variant("s", big)}), [], E["LimitExceeded"]),
        ("CreateContainer: unknown option", "manager", M, "CreateContainer",
         create(options={"Frobnicate": GLib.Variant("b", True)}), [], E["InvalidArgument"]),
        ("CreateContainer: Env given as s", "manager", M, "CreateContainer",
         create(options={"Env": GLib.Variant("s", "A=b")}), [], E["InvalidArgument"]),
        ("CreateContainer: StopTimeout given as i", "manager", M, "CreateContainer",
         create(options={"StopTimeout": GLib.Variant("i", 5)}), [], E["InvalidArgument"]),
        ("CreateContainer: Labels as a{sv} nested 20 deep", "manager", M, "CreateContainer",
         create(options={"Labels": nested_asv(20)}), [], E["InvalidArgument"]),
        ("CreateContainer: unknown option holding a{sv} nested 20 deep", "manager", M,
         "CreateContainer", create(options={"Deep": nested_asv(20)}), [], E["InvalidArgument"]),
        ("CreateContainer: StopSignal SIGFOO", "manager", M, "CreateContainer",
         create(options={"StopSignal": GLib.Variant("s", "SIGFOO")}), [], E["InvalidArgument"]),
        ("CreateContainer: StopSignal 0", "manager", M, "CreateContainer",
         create(options={"StopSignal": GLib.Variant("s", "0")}), [], E["InvalidArgument"]),
        ("CreateContainer: relative WorkingDir", "manager", M, "CreateContainer",
         create(options={"WorkingDir": GLib.Variant("s", "tmp")}), [], E["InvalidArgument"]),
        ("CreateContainer: WorkingDir with /../", "manager", M, "CreateContainer",
         create(options={"WorkingDir": GLib.Variant("s", "/a/../../etc")}), [],
         E["InvalidArgument"]),
        ("CreateContainer: Hostname with '_'", "manager", M, "CreateContainer",
         create(options={"Hostname": GLib.Variant("s", "bad_host")}), [], E["InvalidArgument"]),
        ("CreateContainer: Hostname 'a..b' (an empty label)", "manager", M, "CreateContainer",
         create(options={"Hostname": GLib.Variant("s", "a..b")}), [], E["InvalidArgument"]),
        ("CreateContainer: Hostname of 65 bytes", "manager", M, "CreateContainer",
         create(options={"Hostname": GLib.Variant("s", "h" * 65)}), [], E["InvalidArgument"]),
        # -- lookups
        ("GetContainer: empty", "manager", M, "GetContainer", V("s", ""), [],
         E["InvalidArgument"]),
        ("GetContainer: 10 MiB", "manager", M, "GetContainer", V("s", big), [],
         E["LimitExceeded"]),
        ("GetContainer: unknown", "manager", M, "GetContainer", V("s", "nosuch"), [],
         E["NotFound"]),
        ("GetImage: empty", "manager", M, "GetImage", V("s", ""), [], E["InvalidArgument"]),
        ("GetImage: 10 MiB", "manager", M, "GetImage", V("s", big), [], E["LimitExceeded"]),
        ("GetImage: unknown", "manager", M, "GetImage", V("s", "nosuch:tag"), [],
         E["NotFound"]),
        # -- Kill: signals are checked before anything else
        ("Kill: SIGFOO", "running", C, "Kill", V("s", "SIGFOO"), [], E["InvalidArgument"]),
        ("Kill: 0", "running", C, "Kill", V("s", "0"), [], E["InvalidArgument"]),
        ("Kill: 65", "running", C, "Kill", V("s", "65"), [], E["InvalidArgument"]),
        ("Kill: -9", "running", C, "Kill", V("s", "-9"), [], E["InvalidArgument"]),
        ("Kill: 9x", "running", C, "Kill", V("s", "9x"), [], E["InvalidArgument"]),
        ("Kill: empty", "running", C, "Kill", V("s", ""), [], E["InvalidArgument"]),
        ("Kill: 10 MiB", "running", C, "Kill", V("s", big), [], E["InvalidArgument"]),
        ("Kill: a bad signal on a configured container", "configured", C, "Kill",
         V("s", "SIGFOO"), [], E["InvalidArgument"]),
        ("Kill: a good signal on a configured container", "configured", C, "Kill",
         V("s", "SIGTERM"), [], E["InvalidState"]),
        ("Remove without force of a running container", "running", C, "Remove",
         V("bb", False, False), [], E["InvalidState"]),
        # -- container methods added later; skipped where not implemented
        ("Rename: 129 bytes", "configured", C, "Rename", V("s", "n" * 129), [],
         E["LimitExceeded"]),
        ("Rename: with '/'", "configured", C, "Rename", V("s", "a/b"), [],
         E["InvalidArgument"]),
        ("Rename: to a name in use", "configured", C, "Rename", V("s", "running"), [],
         E["NameInUse"]),
        ("Pause a configured container", "configured", C, "Pause", None, [], E["InvalidState"]),
        ("Unpause a running container", "running", C, "Unpause", None, [], E["InvalidState"]),
        ("Exec in a configured container", "configured", C, "Exec",
         V("asa{sv}hhh", ["true"], {}, 0, 1, 2),
         [fd_of("/dev/null"), fd_of("/dev/null", os.O_WRONLY), fd_of("/dev/null", os.O_WRONLY)],
         E["InvalidState"]),
        ("Exec: fd index out of range", "running", C, "Exec",
         V("asa{sv}hhh", ["true"], {}, 0, 1, 7),
         [fd_of("/dev/null"), fd_of("/dev/null", os.O_WRONLY), fd_of("/dev/null", os.O_WRONLY)],
         E["InvalidArgument"]),
        ("Exec: empty argv", "running", C, "Exec", V("asa{sv}hhh", [], {}, 0, 1, 2),
         [fd_of("/dev/null"), fd_of("/dev/null", os.O_WRONLY), fd_of("/dev/null", os.O_WRONLY)],
         E["InvalidArgument"]),
        ("Exec: unknown option", "running", C, "Exec",
         V("asa{sv}hhh", ["true"], {"Privileged": GLib.Variant("b", True)}, 0, 1, 2),
         [fd_of("/dev/null"), fd_of("/dev/null", os.O_WRONLY), fd_of("/dev/null", os.O_WRONLY)],
         E["InvalidArgument"]),
        ("Exec: argv of 4097 elements", "running", C, "Exec",
         V("asa{sv}hhh", ["true"] * 4097, {}, 0, 1, 2),
         [fd_of("/dev/null"), fd_of("/dev/null", os.O_WRONLY), fd_of("/dev/null", os.O_WRONLY)],
         E["LimitExceeded"]),
        # -- ImportImageFromPath
        ("ImportImageFromPath: relative path", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", "busybox.tar", "", {}), [], E["InvalidArgument"]),
        ("ImportImageFromPath: missing file", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", "/nonexistent/x.tar", "", {}), [], E["NotFound"]),
        ("ImportImageFromPath: a directory", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", "/etc", "", {}), [], E["InvalidArgument"]),
        ("ImportImageFromPath: a character device", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", "/dev/zero", "", {}), [], E["InvalidArgument"]),
        ("ImportImageFromPath: a path of 10 MiB", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", "/" + big, "", {}), [], E["InvalidArgument"]),
        ("ImportImageFromPath: bad image name", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", tars["busybox"], "Not A Name", {}), [], E["InvalidArgument"]),
        ("ImportImageFromPath: unsupported Format", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", tars["busybox"], "", {"Format": GLib.Variant("s", "docker-archive")}),
         [], E["InvalidArgument"]),
        ("ImportImageFromPath: Format given as b", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", tars["busybox"], "", {"Format": GLib.Variant("b", True)}), [],
         E["InvalidArgument"]),
        ("ImportImageFromPath: unknown option", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", tars["busybox"], "", {"Compression": GLib.Variant("s", "xz")}), [],
         E["InvalidArgument"]),
        ("ImportImageFromPath: options of 70 KiB", "manager", M, "ImportImageFromPath",
         V("ssa{sv}", tars["busybox"], "", opts_70k), [], E["LimitExceeded"]),
        # -- ImportImage: the fd
        ("ImportImage: no fd sent", "manager", M, "ImportImage", V("hsa{sv}", 0, "", {}), [],
         E["InvalidArgument"]),
        ("ImportImage: fd index out of range", "manager", M, "ImportImage",
         V("hsa{sv}", 3, "", {}), [fd_of(tars["busybox"])], E["InvalidArgument"]),
        ("ImportImage: negative fd index", "manager", M, "ImportImage",
         V("hsa{sv}", -1, "", {}), [fd_of(tars["busybox"])], E["InvalidArgument"]),
        ("ImportImage: two fds", "manager", M, "ImportImage", V("hsa{sv}", 0, "", {}),
         [fd_of(tars["busybox"]), fd_of(tars["busybox"])], E["InvalidArgument"]),
        ("ImportImage: fd of a directory", "manager", M, "ImportImage", V("hsa{sv}", 0, "", {}),
         [fd_dir("/etc")], E["InvalidArgument"]),
        ("ImportImage: write-only fd", "manager", M, "ImportImage", V("hsa{sv}", 0, "", {}),
         [fd_of(tars["scratch"], os.O_WRONLY)], E["InvalidArgument"]),
        ("ImportImage: fd of a character device", "manager", M, "ImportImage",
         V("hsa{sv}", 0, "", {}), [fd_of("/dev/zero")], E["InvalidArgument"]),
        ("ImportImage: O_PATH fd of the archive", "manager", M, "ImportImage",
         V("hsa{sv}", 0, "", {}), [fd_of(tars["busybox"], os.O_PATH)], E["InvalidArgument"]),
        # -- ImportImage: the archive
        imported("empty file", "empty", E["InvalidArgument"]),
        imported("random bytes", "random", E["InvalidArgument"]),
        imported("truncated tar", "truncated", E["InvalidArgument"]),
        imported("truncated gzip", "truncated_gz", E["InvalidArgument"]),
        imported("member path with ..", "dotdot", E["InvalidArgument"]),
        imported("hardlink to a missing member", "hardlink_missing", E["InvalidArgument"]),
        imported("hardlink to a later member", "hardlink_later", E["InvalidArgument"]),
        imported("hardlink target with ..", "hardlink_dotdot", E["InvalidArgument"]),
        imported("hardlink to a directory", "hardlink_dir", E["InvalidArgument"]),
        imported("member through a symlink", "through_symlink", E["InvalidArgument"]),
        imported("gzip bomb past import_max_bytes", "bomb", E["LimitExceeded"]),
        imported("more members than import_max_entries", "many", E["LimitExceeded"]),
        imported("security.capability that is not a capability set", "xattr_cap_garbage",
                 E["InvalidArgument"]),
        imported("security.capability with unknown flags", "xattr_cap_flags",
                 E["InvalidArgument"]),
        imported("security.capability of the wrong size", "xattr_cap_size",
                 E["InvalidArgument"]),
        imported("security.capability on a directory", "xattr_cap_dir", E["InvalidArgument"]),
        imported("user xattr on a symlink", "xattr_user_symlink", E["InvalidArgument"]),
    ]


def make_tars(tmp):
    busybox = os.path.join(tmp, "busybox.tar")
    T.make_busybox_tar(busybox)
    os.chmod(busybox, 0o644)
    with open(busybox, "rb") as f:
        head = f.read(3000)
    gz = tar_bytes([dir_("bin"), reg("bin/a", os.urandom(200000))], gzip=True)
    tars = {
        "busybox": busybox,
        "scratch": write_file(tmp, "scratch", b""),
        "empty": write_file(tmp, "empty.tar", b""),
        "random": write_file(tmp, "random.tar", os.urandom(8192)),
        "truncated": write_file(tmp, "truncated.tar", head),
        "truncated_gz": write_file(tmp, "truncated.tar.gz", gz[:len(gz) // 2]),
        "dotdot": write_file(tmp, "dotdot.tar", tar_bytes([reg("etc/ok"), reg("a/../../escape")])),
        "hardlink_missing": write_file(tmp, "hl-missing.tar",
                                       tar_bytes([reg("a"), link("b", "missing")])),
        "hardlink_later": write_file(tmp, "hl-later.tar",
                                     tar_bytes([link("b", "a"), reg("a")])),
        "hardlink_dotdot": write_file(tmp, "hl-dotdot.tar",
                                      tar_bytes([reg("a"), link("b", "../../etc/shadow")])),
        "hardlink_dir": write_file(tmp, "hl-dir.tar", tar_bytes([dir_("d"), link("b", "d")])),
        "through_symlink": write_file(tmp, "through-symlink.tar", tar_bytes(
            [link("lib", "/", tarfile.SYMTYPE), reg("lib/etc/evil")])),
        "bomb": write_file(tmp, "bomb.tar.gz", gzip_bomb()),
        "many": write_file(tmp, "many.tar", tar_bytes(
            [reg("f%05d" % i, b"") for i in range(IMPORT_MAX_ENTRIES + 10)])),
        "specials": write_file(tmp, "specials.tar", tar_bytes([
            dir_("dev"), reg("keep"), special("dev/null2", tarfile.CHRTYPE),
            special("dev/sda9", tarfile.BLKTYPE), special("fifo", tarfile.FIFOTYPE),
            reg("after")])),
        "whiteouts": write_file(tmp, "whiteouts.tar", tar_bytes([
            dir_("etc"), reg("etc/passwd", b"root:x:0:0::/:/bin/sh\n"), reg(".wh."),
            reg("etc/.wh.passwd", b""), reg("etc/.wh..wh..opq", b"")])),
        "xattr_cap_garbage": write_file(tmp, "xattr-cap-garbage.tar", pax_tar_bytes([
            reg("ok"), with_xattr(reg("bin/ping"), "security.capability", b"garbage")])),
        "xattr_cap_flags": write_file(tmp, "xattr-cap-flags.tar", pax_tar_bytes([
            with_xattr(reg("bin/ping"), "security.capability",
                       (0x02000003).to_bytes(4, "little") + CAP_V2[4:])])),
        "xattr_cap_size": write_file(tmp, "xattr-cap-size.tar", pax_tar_bytes([
            with_xattr(reg("bin/ping"), "security.capability", CAP_V2 + b"xx")])),
        "xattr_cap_dir": write_file(tmp, "xattr-cap-dir.tar", pax_tar_bytes([
            with_xattr(dir_("bin"), "security.capability", CAP_V2)])),
        "xattr_user_symlink": write_file(tmp, "xattr-user-symlink.tar", pax_tar_bytes([
            with_xattr(link("lib", "usr/lib", tarfile.SYMTYPE), "user.note", b"hi")])),
        "xattr_cap_ok": write_file(tmp, "xattr-cap-ok.tar", pax_tar_bytes([
            with_xattr(reg("bin/ping"), "security.capability", CAP_V2)])),
    }
    return tars


# ---------------------------------------------------------------- running


def call_case(bus, path, iface, method, params, openers):
    fds = [opener() for opener in openers]
    try:
        if fds:
            return T.call(bus, path, iface, method, params, fds=fds)
        if iface == T.MANAGER and method == "ImportImage":
            # A handle with no fd list at all.
            return T.call(bus, path, iface, method, params, fds=[])
        return T.call(bus, path, iface, method, params)
    finally:
        for fd in fds:
            os.close(fd)


def implemented(bus, path, iface, method):
    reply = T.call(bus, path, "org.freedesktop.DBus.Introspectable", "Introspect")
    if reply.error:
        return True
    info = Gio.DBusNodeInfo.new_for_xml(reply.value[0]).lookup_interface(iface)
    return info is None or info.lookup_method(method) is not None


def image_files(daemon, bus, image_path):
    commit = T.get_property(bus, image_path, T.IMAGE, "Commit")
    out = T.run(["ostree", "--repo=" + daemon.repo, "ls", "-R", commit]).stdout
    # "-00644 0 0      2 /etc/passwd": type+mode first, path last
    return {line.split()[-1]: line.split()[0][0] for line in out.splitlines() if line.strip()}


def repo_tmp(daemon):
    tmp = os.path.join(daemon.repo, "tmp")
    return sorted(e for e in os.listdir(tmp) if not e.startswith("cache")) if os.path.isdir(tmp) else []


def full_snapshot(daemon, bus):
    state = T.snapshot(daemon, bus)
    state["repo tmp"] = repo_tmp(daemon)
    return state


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap, CONFIG)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


def run_tests(tap, daemon):
    daemon.start()
    bus = T.system_bus()
    tars = make_tars(daemon.tmp)

    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath",
               V("ssa{sv}", tars["busybox"], "busybox", {}))
    if not tap.ok(r.error is None, "busybox is imported", r):
        tap.bail("no image to work with")
    image = r.value[0]
    paths = {"manager": T.ROOT, "image": image}
    for name, command in (("running", ["sleep", "1000"]), ("configured", ["true"]),
                          ("removed", ["true"])):
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer", create(name, command=command))
        paths[name] = r.value[0] if r.error is None else "/"
    r1 = T.call(bus, paths["running"], T.CONTAINER, "Start")
    removed_id = T.get_property(bus, paths["removed"], T.CONTAINER, "Id")
    r2 = T.call(bus, paths["removed"], T.CONTAINER, "Remove", V("bb", False, False))
    tap.ok(r1.error is None and r2.error is None,
           "fixtures: a running, a configured and a removed container", (r1, r2))
    running_before = T.get_property(bus, paths["running"], T.CONTAINER, "Pid")

    table = cases(dict(tars=tars, removed_id=removed_id))
    tap.ok(len(table) >= 40, "%d bad-input cases" % len(table))
    methods = set()
    before = full_snapshot(daemon, bus)
    for desc, target, iface, method, params, openers, expected in table:
        path = paths[target]
        if expected != DBUS_UNKNOWN_METHOD and not implemented(bus, path, iface, method):
            tap.skip(desc, "%s is not implemented by this daemon" % method)
            continue
        methods.add(method)
        r = call_case(bus, path, iface, method, params, openers)
        if bus.is_closed():
            # The bus refused the message and dropped us: no daemon's doing.
            bus = T.system_bus()
        if not daemon.alive(bus):
            tap.ok(False, "%s: containersd survives" % desc, "got %r; the daemon exited with "
                   "status %s" % (r, daemon.proc.poll()))
            # Go on with the other cases on a new daemon (the same roots).
            daemon.dump_log()
            daemon.stop()
            daemon.start()
            before = full_snapshot(daemon, bus)
            continue
        after = full_snapshot(daemon, bus)
        diff = T.snapshot_diff(before, after)
        message = (r.message or "")[:300]
        tap.ok(r.error == expected and diff == "", "%s: %s" % (desc, expected.split(".")[-1]),
               "expected %s, got %s: %s\n%s" % (expected, r.error, message, diff))
        before = after
    tap.ok(T.get_property(bus, paths["running"], T.CONTAINER, "Pid") == running_before,
           "the running container ran through all of it (same pid)")

    # Members rootfs-tar skips or keeps as plain files.
    specials_case(tap, daemon, bus, tars)
    xattrs_case(tap, daemon, bus, tars)
    tap.diag("methods exercised: " + ", ".join(sorted(methods)))
    T.call(bus, paths["running"], T.CONTAINER, "Remove", V("bb", True, True))
    bus.close_sync(None)


def import_changed_only_refs(tap, before, after, desc):
    """An import that succeeded: one new ref, a sound repo, nothing else."""
    new_refs = set(after["refs"].split()) - set(before["refs"].split())
    same = all(before[k] == after[k] for k in ("containers", "mounts", "repo tmp", "fsck"))
    tap.ok(len(new_refs) == 1 and same, "%s: one new image, a sound repo" % desc,
           T.snapshot_diff(before, after))


def specials_case(tap, daemon, bus, tars):
    before = full_snapshot(daemon, bus)
    with open(tars["specials"], "rb") as f:
        r = T.call(bus, T.ROOT, T.MANAGER, "ImportImage", V("hsa{sv}", 0, "specials", {}),
                   fds=[f.fileno()])
    tap.ok(r.error is None, "import: a tar with device nodes and a FIFO is imported", r)
    if r.error is None:
        files = image_files(daemon, bus, r.value[0])
        import_changed_only_refs(tap, before, full_snapshot(daemon, bus), "import of specials")
        tap.ok("/keep" in files and "/after" in files and "/dev" in files,
               "import: the regular members around them are there", files)
        tap.ok(not any(p in files for p in ("/dev/null2", "/dev/sda9", "/fifo")),
               "import: device nodes and FIFOs are left out of the image", files)

    before = full_snapshot(daemon, bus)
    with open(tars["whiteouts"], "rb") as f:
        r = T.call(bus, T.ROOT, T.MANAGER, "ImportImage",
                   V("hsa{sv}", 0, "whiteouts", {"Format": GLib.Variant("s", "rootfs-tar")}),
                   fds=[f.fileno()])
    tap.ok(r.error is None, "import: a rootfs tar with .wh. members is imported", r)
    if r.error is None:
        files = image_files(daemon, bus, r.value[0])
        import_changed_only_refs(tap, before, full_snapshot(daemon, bus), "import of .wh. names")
        # A rootfs tar is no OCI layer: ".wh." names are plain files, and
        # hide nothing.
        tap.ok(files.get("/.wh.") == "-" and files.get("/etc/.wh.passwd") == "-" and
               files.get("/etc/.wh..wh..opq") == "-",
               "import: a bare .wh. and .wh.* members are kept as plain files", files)
        tap.ok(files.get("/etc/passwd") == "-", "import: a .wh. member hides nothing", files)


def xattrs_case(tap, daemon, bus, tars):
    """The refusals name the member and the attribute; a valid capability
    set is stored."""
    for tar, member, attr in (("xattr_cap_garbage", "bin/ping", "security.capability"),
                              ("xattr_cap_dir", "bin", "security.capability"),
                              ("xattr_user_symlink", "lib", "user.note")):
        before = full_snapshot(daemon, bus)
        with open(tars[tar], "rb") as f:
            r = T.call(bus, T.ROOT, T.MANAGER, "ImportImage", V("hsa{sv}", 0, "", {}),
                       fds=[f.fileno()])
        message = r.message or ""
        tap.ok(r.error == E["InvalidArgument"] and member in message and attr in message and
               T.snapshot_diff(before, full_snapshot(daemon, bus)) == "",
               "import: %s: InvalidArgument naming the member %s and %s, nothing changed"
               % (tar, member, attr), r)
    before = full_snapshot(daemon, bus)
    with open(tars["xattr_cap_ok"], "rb") as f:
        r = T.call(bus, T.ROOT, T.MANAGER, "ImportImage", V("hsa{sv}", 0, "capok", {}),
                   fds=[f.fileno()])
    tap.ok(r.error is None, "import: a valid security.capability set is imported", r)
    if r.error is None:
        import_changed_only_refs(tap, before, full_snapshot(daemon, bus), "import of a capability")
        commit = T.get_property(bus, r.value[0], T.IMAGE, "Commit")
        out = T.run(["ostree", "--repo=" + daemon.repo, "ls", "-X", commit, "/bin/ping"]).stdout
        tap.ok("security.capability" in out, "import: the capability set is kept on the file",
               out)


if __name__ == "__main__":
    main()
