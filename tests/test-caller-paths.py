#!/usr/bin/python3
# test-caller-paths.py: host paths a caller names are opened with the
# caller's rights, as a real unprivileged user with a real polkitd on the
# private bus of tests/private-bus.sh.
#
# The user is test-authz.py's allowed one (its group is granted image.manage
# and the other everyday actions, not host-access).
#   - ImportImageFromPath: it cannot import a root-only archive (0600 in a
#     0700 directory, or 0600 in an open one): NotAuthorized "permission
#     denied for uid N"; nor an OCI layout directory whose blob is root-only
#     (naming the blob), nor a layout whose blob is a symlink, nor a layout it
#     may only reach through a symlink; a FIFO and a device node are refused
#     by their kind; each refusal leaves the store, the database and the bus
#     as they were. It imports its own archive and its own layout; root
#     still imports the root-only archive and layout.
#   - container.host-access: without it the user's bind of a directory
#     outside AllowedBindSources is NotAuthorized naming the action; a polkit
#     rule granting it to the user lets the same create succeed and the bind
#     be mounted (without nosuid); with the rule gone it is NotAuthorized
#     again.
#   - Bind sources are opened with the caller's rights as well: in
#     AllowedBindSources, a root-only directory (0700) is NotAuthorized
#     naming the uid, a directory it may read but not write only binds
#     read-only, its own directory binds and the container writes there; with
#     host-access granted the same holds. At Start the source is opened again
#     as the Owner: made root-only between create and Start, it does not
#     start, naming the uid. Root binds the root-only directory as before.
#   - A path on a FUSE filesystem (bindfs) whose server is stopped:
#     ImportImageFromPath answers Timeout naming the path after
#     [limits] caller_open_timeout, and the daemon answers other calls
#     meanwhile and after.
# Needs root. Prints TAP.
import importlib.util
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

# The users, group, rules and client program of test-authz.py.
_spec = importlib.util.spec_from_file_location("authz", os.path.join(HERE, "test-authz.py"))
authz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(authz)

HOST_ACCESS = "org.example.containers1.container.host-access"
# seconds a caller's path open may take in this test's daemon
HUNG_TIMEOUT = 3


def import_as(user, path, name):
    return user.call(T.ROOT, T.MANAGER, "ImportImageFromPath", "ssa{sv}",
                     "(%s, %s, @a{sv} {})" % (GLib.Variant("s", path).print_(False),
                                              GLib.Variant("s", name).print_(False)))


def import_as_root(bus, path, name):
    return T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath",
                  GLib.Variant("(ssa{sv})", (path, name, {})))


def chown_tree(path, uid, gid):
    os.lchown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(top, name), uid, gid)


def last_layer_blob(layout):
    """The path of the last layer blob of the layout's (only) manifest."""
    def blob(digest):
        return os.path.join(layout, "blobs", *digest.split(":", 1))

    with open(os.path.join(layout, "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"]
    with open(blob(manifest_digest)) as f:
        return blob(json.load(f)["layers"][-1]["digest"])


class Files:
    """The archives and layouts of the import tests, under @tmp."""

    def __init__(self, tmp, user, fixtures):
        self.tar = os.path.join(tmp, "busybox.tar")
        # root's, 0600 in a 0700 directory
        self.private = os.path.join(tmp, "private")
        os.mkdir(self.private, 0o700)
        self.secret_tar = os.path.join(self.private, "secret.tar")
        shutil.copyfile(self.tar, self.secret_tar)
        os.chmod(self.secret_tar, 0o600)
        # root's, 0600 in a directory anyone may search
        self.open_secret_tar = os.path.join(tmp, "open-secret.tar")
        shutil.copyfile(self.tar, self.open_secret_tar)
        os.chmod(self.open_secret_tar, 0o600)
        # the user's own
        self.home = os.path.join(tmp, "user-files")
        os.mkdir(self.home, 0o755)
        self.own_tar = os.path.join(self.home, "own.tar")
        shutil.copyfile(self.tar, self.own_tar)
        os.chmod(self.own_tar, 0o600)
        self.own_layout = os.path.join(self.home, "own-layout")
        shutil.copytree(os.path.join(fixtures, "layout"), self.own_layout, symlinks=True)
        # the user's layout but for one root-only layer blob
        self.blob_layout = os.path.join(self.home, "root-blob-layout")
        shutil.copytree(os.path.join(fixtures, "layout"), self.blob_layout, symlinks=True)
        # the user's layout whose layer blob is a symlink to root's copy
        self.link_layout = os.path.join(self.home, "link-blob-layout")
        shutil.copytree(os.path.join(fixtures, "layout"), self.link_layout, symlinks=True)
        self.fifo = os.path.join(self.home, "import.fifo")
        os.mkfifo(self.fifo, 0o666)
        chown_tree(self.home, user.uid, user.gid)
        self.root_blob = last_layer_blob(self.blob_layout)
        os.chown(self.root_blob, 0, 0)
        os.chmod(self.root_blob, 0o600)
        self.link_blob = last_layer_blob(self.link_layout)
        self.hidden_blob = os.path.join(self.private, "blob")
        shutil.copyfile(self.link_blob, self.hidden_blob)
        os.unlink(self.link_blob)
        os.symlink(self.hidden_blob, self.link_blob)
        os.lchown(self.link_blob, user.uid, user.gid)
        # a root-only layout, and the user's symlinks to it
        self.hidden_layout = os.path.join(self.private, "layout")
        shutil.copytree(os.path.join(fixtures, "layout"), self.hidden_layout, symlinks=True)
        self.link_to_layout = os.path.join(self.home, "layout-link")
        os.symlink(self.hidden_layout, self.link_to_layout)
        self.link_to_private = os.path.join(self.home, "private-link")
        os.symlink(self.private, self.link_to_private)
        for link in (self.link_to_layout, self.link_to_private):
            os.lchown(link, user.uid, user.gid)


def test_refused(tap, daemon, bus, user, files):
    u = "the user"
    denied = "permission denied for uid %d" % user.uid
    before = T.snapshot(daemon, bus)
    cases = [
        ("a root-only archive (0600 in a 0700 directory)", files.secret_tar,
         T.NOT_AUTHORIZED, [denied, files.secret_tar]),
        ("a root-only archive (0600 in an open directory)", files.open_secret_tar,
         T.NOT_AUTHORIZED, [denied, files.open_secret_tar]),
        ("a layout whose layer blob is root-only", files.blob_layout,
         T.NOT_AUTHORIZED, [denied, os.path.basename(files.root_blob)]),
        ("a layout whose layer blob is a symlink to root's copy", files.link_layout,
         T.INVALID_ARGUMENT, ["a symbolic link", os.path.basename(files.link_blob)]),
        ("a symlink to a root-only layout", files.link_to_layout,
         T.INVALID_ARGUMENT, ["a symbolic link"]),
        ("a root-only layout through a symlinked directory",
         os.path.join(files.link_to_private, "layout"), T.NOT_AUTHORIZED, [denied]),
        ("a root-only archive through a symlinked directory",
         os.path.join(files.link_to_private, "secret.tar"), T.NOT_AUTHORIZED, [denied]),
        ("a FIFO of its own", files.fifo, T.INVALID_ARGUMENT, ["a special file"]),
        ("a device node", "/dev/zero", T.INVALID_ARGUMENT, ["a special file"]),
        ("a path that does not exist", os.path.join(files.home, "none.tar"), T.ERROR + "NotFound",
         ["none.tar"]),
    ]
    for desc, path, expected, needles in cases:
        r = import_as(user, path, "refused")
        message = r.message if isinstance(r.message, str) else ""
        missing = [n for n in needles if n not in message]
        tap.ok(r.error == expected and not missing,
               "%s: ImportImageFromPath of %s: %s naming %s"
               % (u, desc, expected.rsplit(".", 1)[1], ", ".join(repr(n) for n in needles)),
               (r, missing))
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "%s: the refused imports left nothing in the store, the database or on "
           "the bus" % u, diff)
    tap.ok(T.call(bus, T.ROOT, T.MANAGER, "GetImage", GLib.Variant("(s)", ("refused",))).error ==
           T.ERROR + "NotFound", "no image is named as the refused imports asked")


def test_allowed(tap, daemon, bus, user, files):
    u = "the user"
    r = import_as(user, files.own_tar, "own-archive")
    tap.ok(r.error is None, "%s imports its own archive (0600, its own)" % u, r)
    r = import_as(user, files.own_layout, "own-layout")
    tap.ok(r.error is None, "%s imports its own OCI layout directory" % u, r)
    path = authz.object_path_of(r) if r.error is None else None
    if path:
        tags = T.get_property(bus, path, T.NAME + ".Image", "Names")
        tap.ok(any("own-layout" in t for t in tags), "the layout's image is named as asked", tags)
    for desc, path in (("the root-only archive", files.secret_tar),
                       ("the layout with a root-only blob", files.blob_layout),
                       ("the root-only layout", files.hidden_layout)):
        r = import_as_root(bus, path, "")
        tap.ok(r.error is None, "root still imports %s" % desc, r)
    r = import_as_root(bus, files.link_to_layout, "")
    tap.ok(r.error == T.INVALID_ARGUMENT and "a symbolic link" in (r.message or ""),
           "root's import of a symlink is refused as before", r)


def test_host_access(tap, daemon, bus, user, rule, bind_dir):
    """A bind outside AllowedBindSources with and without a rule granting
    host-access to the user."""
    u = "the user"
    script = "grep ' /h ' /proc/self/mountinfo > /h/mountinfo"
    args = "('host-bind', 'busybox', ['sh', '-c', %s], %s)" % (
        GLib.Variant("s", script).print_(False), authz.bind_options(bind_dir))
    before = T.snapshot(daemon, bus)
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}", args)
    tap.ok(r.error == T.NOT_AUTHORIZED and "host-access" in (r.message or ""),
           "%s: a bind of its own %s outside AllowedBindSources needs host-access: NotAuthorized"
           % (u, bind_dir), r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "", "%s: nothing changed" % u)

    if not tap.ok(rule.grant(), "a rule grants %s host-access (pkcheck says yes)" % u):
        return
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}", args)
    tap.ok(r.error is None, "with it, %s creates the container with that bind" % u, r)
    path = authz.object_path_of(r) if r.error is None else None
    if path:
        r = user.call(path, T.CONTAINER, "Start")
        r2 = user.call(path, T.CONTAINER, "Wait", timeout=120)
        tap.ok(r.error is None and r2.error is None and r2.value == "(0,)",
               "%s starts it and it ends with 0" % u, (r, r2))
        try:
            with open(os.path.join(bind_dir, "mountinfo")) as f:
                line = f.read()
        except OSError as e:
            line = repr(e)
        opts = line.split()[5].split(",") if len(line.split()) > 5 else []
        tap.ok(bool(opts) and "nosuid" not in opts,
               "the host directory is mounted at /h, without nosuid (host access)", line)
        r = user.call(path, T.CONTAINER, "Remove", "bb", "(true, true)")
        tap.ok(r.error is None, "%s removes it" % u, r)
    if not tap.ok(rule.revoke(), "the rule is removed (pkcheck says no again)"):
        return
    before = T.snapshot(daemon, bus)
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}", args)
    tap.ok(r.error == T.NOT_AUTHORIZED and "host-access" in (r.message or ""),
           "without the rule, the same create by %s is NotAuthorized naming host-access" % u, r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "", "%s: nothing changed" % u)


def create_with_bind(user, name, source, read_only=False, script="true"):
    mounts = ("@a{sv} {'Mounts': <[{'Type': <'bind'>, 'Source': <%s>, 'Destination': <'/h'>,"
              " 'ReadOnly': <%s>}]>}" % (GLib.Variant("s", source).print_(False),
                                          "true" if read_only else "false"))
    return user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                     "(%s, 'busybox', ['sh', '-c', %s], %s)"
                     % (GLib.Variant("s", name).print_(False),
                        GLib.Variant("s", script).print_(False), mounts))


def test_bind_rights(tap, daemon, bus, user, rule, allowed):
    """Bind sources in AllowedBindSources opened with the caller's rights,
    at create and again as the Owner at Start."""
    u = "the user"
    denied = "permission denied for uid %d" % user.uid
    root_only = os.path.join(allowed, "root-only")
    os.mkdir(root_only, 0o700)
    read_only = os.path.join(allowed, "read-only")
    os.mkdir(read_only, 0o755)
    own = os.path.join(allowed, "own")
    os.mkdir(own, 0o755)
    os.chown(own, user.uid, user.gid)
    later = os.path.join(allowed, "later")
    os.mkdir(later, 0o755)
    os.chown(later, user.uid, user.gid)

    def refused(what, r, expected, needles):
        message = r.message if isinstance(r.message, str) else ""
        missing = [n for n in needles if n not in message]
        tap.ok(r.error == expected and not missing, "%s: %s: %s naming %s" % (
            u, what, expected.rsplit(".", 1)[1], ", ".join(repr(n) for n in needles)),
            (r, missing))

    for granted in (False, True):
        how = " (host-access granted)" if granted else ""
        if granted and not tap.ok(rule.grant(), "a rule grants %s host-access" % u):
            return
        before = T.snapshot(daemon, bus)
        refused("a bind of a root-only directory in AllowedBindSources" + how,
                create_with_bind(user, "bind-root-only", root_only), T.NOT_AUTHORIZED,
                [denied, root_only])
        refused("a read-only bind of it" + how,
                create_with_bind(user, "bind-root-only", root_only, read_only=True),
                T.NOT_AUTHORIZED, [denied, root_only])
        refused("a read-write bind of root's 0755 directory" + how,
                create_with_bind(user, "bind-read-only", read_only), T.NOT_AUTHORIZED,
                ["Cannot write", denied, read_only])
        tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "",
               "%s: the refused binds changed nothing%s" % (u, how))
        r = create_with_bind(user, "bind-read-only", read_only, read_only=True,
                             script="test -d /h && ! touch /h/x")
        tap.ok(r.error is None, "%s: a read-only bind of root's 0755 directory works%s" % (u, how),
               r)
        path = authz.object_path_of(r) if r.error is None else None
        if path:
            r = user.call(path, T.CONTAINER, "Start")
            r2 = user.call(path, T.CONTAINER, "Wait", timeout=120)
            tap.ok(r.error is None and r2.value == "(0,)",
                   "%s: it starts, and the bind is read-only inside" % u, (r, r2))
            user.call(path, T.CONTAINER, "Remove", "bb", "(true, true)")
        if granted:
            tap.ok(rule.revoke(), "the host-access rule is removed")
    r = create_with_bind(user, "bind-own", own, script="echo hello > /h/written")
    tap.ok(r.error is None, "%s: a bind of its own directory in AllowedBindSources works" % u, r)
    path = authz.object_path_of(r) if r.error is None else None
    if path:
        r = user.call(path, T.CONTAINER, "Start")
        r2 = user.call(path, T.CONTAINER, "Wait", timeout=120)
        try:
            with open(os.path.join(own, "written")) as f:
                written = f.read()
        except OSError as e:
            written = repr(e)
        tap.ok(r.error is None and r2.value == "(0,)" and written == "hello\n",
               "%s: it starts and writes into the bind" % u, (r, r2, written))
        user.call(path, T.CONTAINER, "Remove", "bb", "(true, true)")

    # At Start, as the Owner: a source it may no longer read does not start
    r = create_with_bind(user, "bind-later", later)
    tap.ok(r.error is None, "%s: creates a container binding its own directory" % u, r)
    path = authz.object_path_of(r) if r.error is None else None
    if path:
        os.chown(later, 0, 0)
        os.chmod(later, 0o700)
        for who, client in ((u, user), ("root", None)):
            if client is None:
                r = T.call(bus, path, T.CONTAINER, "Start")
            else:
                r = client.call(path, T.CONTAINER, "Start")
            message = r.message if isinstance(r.message, str) else ""
            tap.ok(r.error == T.NOT_AUTHORIZED and denied in message and later in message,
                   "made root-only before Start, %s's Start is NotAuthorized naming the owner's "
                   "uid and the source" % who, r)
        state = T.get_property(bus, path, T.CONTAINER, "State")
        tap.ok(state in ("configured", "exited"), "the container did not start", state)
        tap.ok(not any("binds" in m for m in T.mounts_under(daemon.run_root)),
               "nothing is left mounted for it", T.mounts_under(daemon.run_root))
        T.call(bus, path, T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, True)))

    # root is unchanged
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("root-bind", "busybox", ["ls", "/h"], {
                   "Mounts": GLib.Variant("aa{sv}", [{
                       "Type": GLib.Variant("s", "bind"), "Source": GLib.Variant("s", root_only),
                       "Destination": GLib.Variant("s", "/h")}])})))
    tap.ok(r.error is None, "root binds the root-only directory as before", r)
    if r.error is None:
        path = r.value[0]
        r = T.call(bus, path, T.CONTAINER, "Start")
        r2 = T.call(bus, path, T.CONTAINER, "Wait")
        tap.ok(r.error is None and r2.error is None and r2.value[0] == 0,
               "root's container with it starts and ends with 0", (r, r2))
        T.call(bus, path, T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, True)))


def test_hung_filesystem(tap, daemon, bus, user, timeout):
    """A path on a FUSE filesystem whose server is stopped."""
    bindfs = shutil.which("bindfs")
    if bindfs is None or not os.path.exists("/dev/fuse"):
        tap.skip("ImportImageFromPath on a hung filesystem", "bindfs or /dev/fuse missing")
        return
    top = tempfile.mkdtemp(prefix="ctrdt-fuse.", dir="/var/tmp")
    source, mnt = os.path.join(top, "source"), os.path.join(top, "mnt")
    os.mkdir(source, 0o755)
    os.mkdir(mnt, 0o755)
    os.chmod(top, 0o755)
    server = subprocess.Popen([bindfs, "-f", "-o", "allow_other", source, mnt])
    try:
        mounted = T.wait_until(lambda: os.stat(mnt).st_dev != os.stat(top).st_dev or
                               server.poll() is not None, timeout=30)
        if not tap.ok(mounted and server.poll() is None, "bindfs mounts %s" % mnt):
            return
        os.kill(server.pid, signal.SIGSTOP)
        before = T.snapshot(daemon, bus)
        target = os.path.join(mnt, "never-looked-up.tar")
        user.send(T.ROOT, T.MANAGER, "ImportImageFromPath", "ssa{sv}",
                  "(%s, 'hung', @a{sv} {})" % GLib.Variant("s", target).print_(False))
        r = T.call(bus, T.ROOT, T.MANAGER, "GetImage", GLib.Variant("(s)", ("busybox",)))
        tap.ok(r.error is None, "the daemon answers a call sent after the user's import", r)
        for who, r in (("the user", user.receive()),
                       ("root", import_as_root(bus, target, "hung"))):
            message = r.message if isinstance(r.message, str) else ""
            tap.ok(r.error == T.ERROR + "Timeout" and target in message,
                   "%s: ImportImageFromPath of a path on a stopped FUSE server: Timeout naming "
                   "the path (after %d s)" % (who, timeout), r)
        tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "",
               "the given-up imports changed nothing")
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGCONT)
        T.run(["fusermount", "-u", mnt])
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(top, ignore_errors=True)


def run_tests(tap, daemon, setup, rule, bind_dir, users, cleanups):
    if not authz.polkit_ready(tap, setup):
        tap.bail("polkitd does not apply the test's policy and rules")
    tap.ok(authz.pkcheck_as(setup.allowed, HOST_ACCESS) != 0,
           "the group's rule does not grant host-access")
    fixtures = os.path.join(daemon.tmp, "fixtures")
    made = T.run(["bash", os.path.join(T.SRCDIR, "tests", "make-oci-fixtures.sh"), fixtures])
    if made.returncode != 0:
        tap.bail("make-oci-fixtures.sh: %s" % made.stdout)
    allowed = tempfile.mkdtemp(prefix="ctrdt-allowed.", dir="/var/tmp")
    os.chmod(allowed, 0o755)
    cleanups.append(lambda: shutil.rmtree(allowed, ignore_errors=True))
    with open(daemon.config, "w") as f:
        f.write("[security]\nAllowedBindSources=%s\n[limits]\ncaller_open_timeout=%d\n"
                % (allowed, HUNG_TIMEOUT))
    daemon.start()
    bus = T.system_bus()
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    os.chmod(tar, 0o644)
    r = import_as_root(bus, tar, "busybox")
    tap.ok(r.error is None, "root imports busybox", r)

    user = authz.User(setup.allowed)
    users.append(user)
    tap.ok(user.uid != 0, "the client runs as an unprivileged user (%d)" % user.uid)
    os.chown(bind_dir, user.uid, user.gid)
    files = Files(daemon.tmp, user, fixtures)
    tap.ok(stat.S_IMODE(os.stat(files.private).st_mode) == 0o700 and
           stat.S_IMODE(os.stat(files.secret_tar).st_mode) == 0o600,
           "root's archive is 0600 in a 0700 directory")
    test_refused(tap, daemon, bus, user, files)
    test_allowed(tap, daemon, bus, user, files)
    test_host_access(tap, daemon, bus, user, rule, bind_dir)
    test_bind_rights(tap, daemon, bus, user, rule, allowed)
    test_hung_filesystem(tap, daemon, bus, user, HUNG_TIMEOUT)
    bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    setup = authz.Setup(tap, daemon.tmp)
    # a rules file granting the user host-access, removed whatever happens
    rule = authz.UserRule(setup.rules.replace(".rules", "-host.rules"), HOST_ACCESS,
                          setup.allowed)
    # outside the daemon's temporary root: a source holding the storage root
    # is refused outright, whoever asks
    bind_dir = tempfile.mkdtemp(prefix="ctrdt-host-bind.", dir="/var/tmp")
    os.chmod(bind_dir, 0o755)
    users = []
    cleanups = []

    def body():
        setup.make()
        run_tests(tap, daemon, setup, rule, bind_dir, users, cleanups)

    def teardown():
        for user in users:
            user.close()
        rule.remove()
        setup.remove()
        shutil.rmtree(bind_dir, ignore_errors=True)
        for cleanup in cleanups:
            cleanup()

    T.run_test(tap, daemon, body, teardown)


if __name__ == "__main__":
    main()
