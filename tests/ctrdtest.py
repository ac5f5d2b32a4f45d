# ctrdtest.py: what the Python integration tests (test-authz.py,
# test-bad-input.py) share: TAP output, a containersd on temporary roots on the
# private bus of tests/private-bus.sh, D-Bus calls that report the error name,
# and a snapshot of everything a call could change.
#
# Runs with Debian's /usr/bin/python3 (python3-gi). Environment:
#   CTRD_TOP_SRCDIR, CTRD_TOP_BUILDDIR   set by `make check`
#   CTRD_DAEMON_WRAPPER                  a command line put before containersd,
#                                        e.g. "valgrind --error-exitcode=99
#                                        --leak-check=full --errors-for-leak-kinds=definite";
#                                        the daemon's exit status must then be 0
import difflib
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.example.Containers1"
ROOT = "/org/example/Containers1"
MANAGER = NAME + ".Manager"
CONTAINER = NAME + ".Container"
IMAGE = NAME + ".Image"
ERROR = NAME + ".Error."
NOT_AUTHORIZED = ERROR + "NotAuthorized"
INVALID_ARGUMENT = ERROR + "InvalidArgument"
LIMIT_EXCEEDED = ERROR + "LimitExceeded"
NOT_FOUND = ERROR + "NotFound"

# Bound on every wait: an answer must come, how fast is not asserted.
TIMEOUT = 120

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("CTRD_TOP_SRCDIR", os.path.dirname(HERE))
BUILDDIR = os.environ.get("CTRD_TOP_BUILDDIR", os.getcwd())


def enter_private_bus(script):
    """Skips without root; re-executes @script under tests/private-bus.sh
    unless it already runs there (make check's LOG_COMPILER for .py is
    python3 itself)."""
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (useradd, polkit rules, runc, overlay mounts)")
        sys.exit(0)
    if not os.environ.get("CTRD_PRIVATE_BUS_DIR") or not os.environ.get("DBUS_SYSTEM_BUS_ADDRESS"):
        helper = os.path.join(SRCDIR, "tests", "private-bus.sh")
        os.execv("/bin/bash", ["bash", helper, sys.executable, os.path.abspath(script)] + sys.argv[1:])


class Tap:
    """TAP lines as they happen; the plan comes last."""

    def __init__(self):
        self.count = 0
        self.failures = 0

    def ok(self, cond, desc, diag=None, todo=None):
        self.count += 1
        line = "%s %d - %s" % ("ok" if cond else "not ok", self.count, desc.replace("#", "\\#"))
        if todo:
            line += " # TODO " + todo
        print(line, flush=True)
        if not cond:
            if not todo:
                self.failures += 1
            if diag:
                self.diag(diag)
        return bool(cond)

    def skip(self, desc, reason):
        self.count += 1
        print("ok %d - %s # SKIP %s" % (self.count, desc, reason), flush=True)

    @staticmethod
    def diag(text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def bail(self, why):
        print("Bail out! " + why, flush=True)
        sys.exit(1)

    def finish(self):
        print("1..%d" % self.count, flush=True)
        return 1 if self.failures else 0


# ---------------------------------------------------------------- D-Bus


class Reply:
    """The outcome of one call: @value (unpacked tuple) or @error (the D-Bus
    error name) with @message."""

    def __init__(self, value=None, error=None, message=None, fds=None):
        self.value = value
        self.error = error
        self.message = message
        self.fds = fds

    def __repr__(self):
        if self.error:
            return "error %s: %s" % (self.error, self.message)
        return "reply %r" % (self.value,)


def system_bus():
    # A connection of our own: GIO's shared singleton is never closed.
    address = os.environ["DBUS_SYSTEM_BUS_ADDRESS"]
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def call(bus, path, iface, method, params=None, fds=None, timeout=TIMEOUT, dest=NAME,
         flags=Gio.DBusCallFlags.NONE):
    """Calls @method; @params a GLib.Variant tuple or None; @fds a list of open
    fds sent along. Never raises for a D-Bus error."""
    fd_list = None
    if fds is not None:
        fd_list = Gio.UnixFDList.new()
        for fd in fds:
            fd_list.append(fd)
    try:
        if fd_list is not None:
            ret, out_fds = bus.call_with_unix_fd_list_sync(dest, path, iface, method, params, None,
                                                          flags, timeout * 1000, fd_list, None)
            return Reply(value=ret.unpack(), fds=out_fds)
        ret = bus.call_sync(dest, path, iface, method, params, None, flags, timeout * 1000, None)
        return Reply(value=ret.unpack())
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        if name is None:
            name = "(local) %s:%d" % (e.domain, e.code)
        Gio.DBusError.strip_remote_error(e)
        return Reply(error=name, message=e.message)


def get_property(bus, path, iface, prop):
    reply = call(bus, path, "org.freedesktop.DBus.Properties", "Get",
                 GLib.Variant("(ss)", (iface, prop)))
    return reply.value[0] if reply.error is None else None


def managed_objects(bus):
    reply = call(bus, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
    if reply.error:
        raise RuntimeError("GetManagedObjects: %r" % reply)
    return reply.value[0]


def name_has_owner(bus, name):
    reply = call(bus, "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                 GLib.Variant("(s)", (name,)), dest="org.freedesktop.DBus")
    return reply.error is None and reply.value[0]


def wait_until(predicate, timeout=TIMEOUT, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


# ---------------------------------------------------------------- the daemon


def run(args, **kwargs):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)


class Daemon:
    """containersd as root on the roots under a temporary directory."""

    def __init__(self, tap, config_text=""):
        self.tap = tap
        self.tmp = tempfile.mkdtemp(prefix="ctrd-pytest.", dir=os.environ.get("TMPDIR", "/tmp"))
        # Other users must reach the files the tests give them.
        os.chmod(self.tmp, 0o755)
        self.storage = os.path.join(self.tmp, "storage")
        self.run_root = os.path.join(self.tmp, "run")
        self.repo = os.path.join(self.storage, "repo")
        self.config = os.path.join(self.tmp, "containersd.conf")
        self.log_path = os.path.join(self.tmp, "daemon.log")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.proc = None
        self.wrapper = shlex.split(os.environ.get("CTRD_DAEMON_WRAPPER", ""))

    def start(self):
        daemon = os.path.join(BUILDDIR, "service", "containersd")
        if not os.access(daemon, os.X_OK):
            self.tap.bail("containersd is not built (%s)" % daemon)
        args = self.wrapper + [daemon, "--storage-root", self.storage, "--run-root", self.run_root,
                               "--config", self.config, "--debug"]
        runc = shutil.which("runc")
        if runc:
            args[len(self.wrapper) + 1:len(self.wrapper) + 1] = ["--runtime", runc]
        log = open(self.log_path, "ab")
        # GLib 2.74's slice allocator hides leaked GErrors (and more) from
        # LeakSanitizer; valgrind makes GLib use malloc by itself.
        env = dict(os.environ, G_SLICE="always-malloc", G_DEBUG="gc-friendly")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        log.close()
        bus = system_bus()
        # valgrind makes the start many times slower.
        owned = wait_until(lambda: self.proc.poll() is not None or name_has_owner(bus, NAME),
                           timeout=TIMEOUT * (5 if self.wrapper else 1))
        bus.close_sync(None)
        if not owned or self.proc.poll() is not None:
            self.dump_log()
            self.tap.bail("containersd did not come up on the private bus")

    def alive(self, bus=None):
        """Running (and, given @bus, owning its name: a daemon that just
        crashed may not have been reaped yet)."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        if bus is not None and not name_has_owner(bus, NAME):
            wait_until(lambda: self.proc.poll() is not None, timeout=10)
            return False
        return True

    def stop(self):
        """TERM; the exit status (0 expected, also under the wrapper)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT * (5 if self.wrapper else 1))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        status = self.proc.returncode
        self.proc = None
        return status

    def dump_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                Tap.diag("---- containersd log ----\n" + f.read())
        except OSError:
            pass

    def cleanup(self):
        """Removes everything under the temporary directory: the daemon, the
        runtime's containers, conmon, mounts."""
        self.stop()
        runc = shutil.which("runc")
        runc_root = os.path.join(self.run_root, "runc")
        if runc and os.path.isdir(runc_root):
            listing = run([runc, "--root", runc_root, "list", "-q"]).stdout.split()
            for cid in listing:
                run([runc, "--root", runc_root, "delete", "--force", cid])
        wait_until(lambda: not pids_mentioning(self.tmp + "/"), timeout=15)
        for pid in pids_mentioning(self.tmp + "/"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for mount in sorted(mounts_under(self.tmp), reverse=True):
            run(["umount", "-l", mount])
        run(["rm", "-rf", "--one-file-system", self.tmp])


def pids_mentioning(text):
    """Processes other than this one whose command line mentions @text."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if text.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def mounts_under(prefix):
    prefix = prefix.rstrip("/") + "/"
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mount_point = line.split()[4]
            if mount_point.startswith(prefix):
                found.append(mount_point)
    return found


def run_test(tap, daemon, body, teardown=None):
    """Runs body(), then, whatever happened, @teardown, the daemon's stop
    (a clean exit status, also under CTRD_DAEMON_WRAPPER, is one more test)
    and cleanup; exits with the TAP verdict."""
    try:
        body()
    except Exception:  # noqa: BLE001: any crash is one failed test, after cleanup
        import traceback
        tap.ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        if teardown is not None:
            teardown()
        if daemon.proc is not None:
            status = daemon.stop()
            tap.ok(status == 0, "containersd%s exits with status 0 on SIGTERM (got %s)"
                   % (" under " + daemon.wrapper[0] if daemon.wrapper else "", status))
        if tap.failures:
            daemon.dump_log()
        daemon.cleanup()
    sys.exit(tap.finish())


# ---------------------------------------------------------------- state


def simulate_reboot(daemon, boot_id_path):
    """What a reboot leaves: no process or mount of the old boot, an empty
    run root, a new boot id in @boot_id_path (the daemon reads it through
    CTRD_TEST_BOOT_ID_FILE); the daemon is not running. (The host keeps its
    bridges and rules, which a real reboot would have dropped too.)"""
    runc = run(["which", "runc"]).stdout.strip()
    runc_root = os.path.join(daemon.run_root, "runc")
    for cid in run([runc, "--root", runc_root, "list", "-q"]).stdout.split():
        run([runc, "--root", runc_root, "delete", "--force", cid])
    # conmon goes with its container; anything else of the old boot
    # (aardvark-dns) would have died with it
    wait_until(lambda: not pids_mentioning(daemon.run_root + "/"), timeout=30)
    for pid in pids_mentioning(daemon.run_root + "/"):
        os.kill(pid, signal.SIGKILL)
    for mount in sorted(mounts_under(daemon.run_root), reverse=True):
        run(["umount", "-l", mount])
    run(["rm", "-rf", "--one-file-system", daemon.run_root])
    with open(boot_id_path, "w") as f:
        f.write(os.urandom(16).hex())


def snapshot(daemon, bus):
    """Everything a call could change, as comparable text: database rows,
    repo refs and its fsck verdict, container directories, mounts, bus
    objects."""
    state = {}
    state["db"] = dump_db(os.path.join(daemon.storage, "state.db"))
    state["refs"] = run(["ostree", "--repo=" + daemon.repo, "refs"]).stdout
    fsck = run(["ostree", "--repo=" + daemon.repo, "fsck", "--quiet"])
    state["fsck"] = "ok" if fsck.returncode == 0 else "fsck failed: " + fsck.stdout
    containers = os.path.join(daemon.storage, "containers")
    state["containers"] = sorted(os.listdir(containers)) if os.path.isdir(containers) else []
    state["mounts"] = sorted(mounts_under(daemon.tmp))
    state["objects"] = sorted(managed_objects(bus).keys())
    return state


def dump_db(path):
    """The database as SQL text (Python's sqlite3: no CLI needed). The event
    history is left out: it is a log of what was done (an Exec between two
    snapshots adds to it), not state a refused call could have changed."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return "\n".join(line for line in db.iterdump()
                         if not line.startswith('INSERT INTO "events"') and
                         not line.startswith("INSERT INTO \"sqlite_sequence\" VALUES('events'"))
    finally:
        db.close()


def snapshot_diff(before, after):
    """'' when equal, else which parts differ and how."""
    lines = []
    for key in before:
        if before[key] == after[key]:
            continue
        old, new = before[key], after[key]
        if isinstance(old, str):
            old, new = old.splitlines(), new.splitlines()
        lines.append("%s changed:" % key)
        lines.extend(difflib.unified_diff(old, new, "before", "after", n=0, lineterm=""))
    return "\n".join(lines)


def count_events(bus, path, event):
    """How many @event the event history holds for the container at @path
    (-1 when GetEvents fails)."""
    cid = get_property(bus, path, CONTAINER, "Id")
    r = call(bus, ROOT, MANAGER, "GetEvents", GLib.Variant("(tt)", (0, 0)))
    if r.error is not None:
        return -1
    return sum(1 for kind, oid, ev, _ in r.value[0]
               if kind == "container" and oid == cid and ev == event)


def make_busybox_tar(path):
    result = run(["sh", os.path.join(SRCDIR, "tests", "make-busybox-rootfs.sh"), path])
    if result.returncode != 0:
        raise RuntimeError("make-busybox-rootfs.sh: " + result.stdout)


def start_with_busybox(tap, daemon, name="busybox"):
    """Starts @daemon and imports the busybox image as @name (one test);
    bails out without it. Returns the system bus connection."""
    tar = os.path.join(daemon.tmp, "busybox.tar")
    make_busybox_tar(tar)
    daemon.start()
    bus = system_bus()
    r = call(bus, ROOT, MANAGER, "ImportImageFromPath",
             GLib.Variant("(ssa{sv})", (tar, name, {})))
    if not tap.ok(r.error is None, "the busybox image is imported", r):
        tap.bail("no image")
    return bus
