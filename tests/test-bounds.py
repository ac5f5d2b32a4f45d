#!/usr/bin/python3
# test-bounds.py: what a caller can make the daemon hold is bounded, and a
# reply that cannot be sent does not take the daemon down. On the private
# bus of tests/private-bus.sh (the script puts itself under it):
#   - a container's properties take at most 64 KiB: a 1 MB command (under
#     the argv limit) gets LimitExceeded naming the limit, and nothing is
#     created, forty times over; one that fits takes no more on the bus than
#     the limit says;
#   - all containers together stay under the configured exported_max_bytes
#     (here small), so that 10,000 ordinary ones fit in a GetManagedObjects
#     reply (the arithmetic is checked on a real container's size);
#   - one unprivileged user keeping 4x120 guarded calls in flight (each
#     denied, or refused with LimitExceeded past its queue) does not make
#     another user's allowed calls fail, and its denials are logged in a
#     few rate-limited lines;
#   - a small `tar -S` of a sparse file larger than the import cap is
#     refused by its apparent size;
#   - 200 imports stalled on FIFOs that never send data do not delay
#     root's Start and GetSizes (asserted by order: the imports cannot end
#     before the FIFOs are closed);
#   - a reply over the message limit (lowered for the test through
#     CTRD_TEST_MAX_MESSAGE_SIZE) is answered with LimitExceeded and the
#     daemon carries on, and so it does when callers leave before their
#     answers.
# Needs root. Prints TAP.
import json
import os
import secrets
import subprocess
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib, Gio  # noqa: E402

T.enter_private_bus(__file__)

KiB = 1024
MiB = 1024 * KiB
PROPERTY_BUDGET = 64 * KiB
BUS_MESSAGE_LIMIT = 32 * MiB
# Three containers of a 60 KB command fit in this, a fourth does not.
EXPORTED_MAX = 200000
# A reply of those three containers is over this; one container is not.
TEST_MESSAGE_MAX = 150000
IMPORT_MAX = 64 * MiB
CONFIG = "[limits]\nexported_max_bytes=%d\nimport_max_bytes=%d\n" % (EXPORTED_MAX, IMPORT_MAX)


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def create(bus, name, command, options=None):
    return T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                  V("ssasa{sv}", name, "busybox", list(command), options or {}))


def get_all_bytes(bus, path):
    """The serialized size of a container's GetAll reply body."""
    ret = bus.call_sync(T.NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                        GLib.Variant("(s)", (T.CONTAINER,)), None, 0, T.TIMEOUT * 1000, None)
    return ret.get_size()


def stored_containers(daemon):
    """The database and the container directories, as comparable text."""
    return (T.dump_db(os.path.join(daemon.storage, "state.db")),
            sorted(os.listdir(os.path.join(daemon.storage, "containers"))))


def leave_after_sending(method_calls):
    """A client that sends each (path, iface, method, params text) and exits
    without reading any answer."""
    program = r'''
import os, sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
bus = Gio.DBusConnection.new_for_address_sync(
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"],
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
    None, None)
for line in sys.argv[1:]:
    path, iface, method, sig, args = line.split("|")
    params = GLib.Variant.parse(GLib.VariantType.new(sig), args, None, None) if sig else None
    bus.call("org.example.Containers1", path, iface, method, params, None, 0, -1, None, None, None)
bus.flush_sync(None)
os._exit(0)
'''
    args = ["|".join(call) for call in method_calls]
    return subprocess.run([sys.executable, "-c", program] + args, timeout=T.TIMEOUT).returncode


RULES_DIR = "/etc/polkit-1/rules.d"
POLICY_DIR = "/usr/share/polkit-1/actions"

# A user's client: @connections bus connections, each with @calls_per calls
# of METHOD on PATH in flight at once; prints "sent", then one JSON line with
# the count of each answer (reply or error name).
FLOODER = r'''
import collections, json, os, sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
path, iface, method, connections, calls_per = sys.argv[1:6]
loop = GLib.MainLoop()
counts = collections.Counter()
left = [int(connections) * int(calls_per)]
def done(bus, result, _):
    try:
        bus.call_finish(result)
        counts["reply"] += 1
    except GLib.Error as e:
        counts[Gio.DBusError.get_remote_error(e) or "local"] += 1
    left[0] -= 1
    if left[0] == 0:
        loop.quit()
buses = []
for _ in range(int(connections)):
    bus = Gio.DBusConnection.new_for_address_sync(
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)
    buses.append(bus)
    for _ in range(int(calls_per)):
        bus.call("org.example.Containers1", path, iface, method, None, None, 0, 300000, None,
                 done, None)
print("sent", flush=True)
loop.run()
print(json.dumps(counts), flush=True)
'''

RULES = """// Written by containersd's tests/test-bounds.py; removed when it ends.
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.example.containers1.") != 0 || !subject.isInGroup("%s"))
        return polkit.Result.NOT_HANDLED;
    return polkit.Result.YES;
});
"""


class Users:
    """An allowed user (in a group the rules grant every action) and a
    denied one, under random names; removed whatever happens."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.group = "ctrdb-" + tag
        self.allowed = "ctrdb-ok-" + tag
        self.denied = "ctrdb-no-" + tag
        self.rules = os.path.join(RULES_DIR, "50-ctrdbounds-%s.rules" % tag)
        self.policy = None
        self.made = []

    def make(self):
        if T.run(["groupadd", "--system", self.group]).returncode != 0:
            raise RuntimeError("groupadd failed")
        self.made.append(("groupdel", self.group))
        for user, extra in ((self.allowed, ["-G", self.group]), (self.denied, [])):
            r = T.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                       "--shell", "/usr/sbin/nologin"] + extra + [user])
            if r.returncode != 0:
                raise RuntimeError("useradd: " + r.stdout)
            self.made.insert(0, ("userdel", user))
        if not os.path.exists(os.path.join(POLICY_DIR, "org.example.containers1.policy")):
            os.makedirs(POLICY_DIR, exist_ok=True)
            self.policy = os.path.join(POLICY_DIR, "org.example.containers1.ctrdbounds-%s.policy"
                                       % self.group)
            with open(os.path.join(T.SRCDIR, "polkit", "org.example.containers1.policy")) as f:
                text = f.read()
            with open(self.policy, "w") as f:
                f.write(text)
        os.makedirs(RULES_DIR, exist_ok=True)
        with open(self.rules, "w") as f:
            f.write(RULES % self.group)

    def remove(self):
        for path in (self.rules, self.policy):
            if path and os.path.exists(path):
                os.unlink(path)
        for command, name in self.made:
            T.run([command, name])

    def popen(self, user, args, **kwargs):
        return subprocess.Popen(["setpriv", "--reuid=" + user, "--regid=" + user,
                                 "--init-groups", "--"] + args, cwd="/", **kwargs)

    def pkcheck_ok(self, user):
        return self.popen(user, ["sh", "-c", "exec pkcheck --action-id "
                                 "org.example.containers1.container.exec --process $$"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait() == 0


def main():
    tap = T.Tap()
    os.environ["CTRD_TEST_MAX_MESSAGE_SIZE"] = str(TEST_MESSAGE_MAX)
    daemon = T.Daemon(tap, CONFIG)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


def run_tests(tap, daemon):
    daemon.start()
    bus = T.system_bus()
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "busybox", {}))
    if not tap.ok(r.error is None, "busybox is imported", r):
        tap.bail("no image to work with")

    sparse_import(tap, daemon, bus)
    property_budget(tap, daemon, bus)
    total_budget(tap, daemon, bus)
    oversized_reply(tap, daemon, bus)
    callers_leave(tap, daemon, bus)
    stalled_imports(tap, daemon, bus)
    users = Users()
    try:
        users.make()
        authorization_flood(tap, daemon, bus, users)
    finally:
        users.remove()
    bus.close_sync(None)


def sparse_import(tap, daemon, bus):
    work = os.path.join(daemon.tmp, "sparse")
    os.mkdir(work)
    with open(os.path.join(work, "holes"), "wb") as f:
        f.truncate(4 * IMPORT_MAX)
        f.seek(2 * IMPORT_MAX)
        f.write(b"data")
    tar = os.path.join(daemon.tmp, "sparse.tar")
    r = T.run(["tar", "-S", "-C", work, "-cf", tar, "holes"])
    size = os.path.getsize(tar)
    tap.ok(r.returncode == 0 and size < IMPORT_MAX // 16,
           "a %d-byte sparse tar of a %d-byte file" % (size, 4 * IMPORT_MAX), r.stdout)
    before = T.snapshot(daemon, bus)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "sparse", {}))
    tap.ok(r.error == T.LIMIT_EXCEEDED and str(IMPORT_MAX) in (r.message or ""),
           "its import is refused by the file's apparent size (LimitExceeded)", r)
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "and nothing is left of it", diff)


def property_budget(tap, daemon, bus):
    # ~1 MB in 16 arguments: under the argv limit (1 MiB, 4096 elements).
    big_command = ["echo"] + ["x" * (62 * KiB)] * 16
    before = T.snapshot(daemon, bus)
    r = create(bus, "big", big_command)
    tap.ok(r.error == T.LIMIT_EXCEEDED and str(PROPERTY_BUDGET) in (r.message or ""),
           "a 1 MB command gets LimitExceeded naming the %d-byte limit" % PROPERTY_BUDGET, r)
    answers = [create(bus, "big-%d" % i, big_command) for i in range(40)]
    refused = [a for a in answers if a.error == T.LIMIT_EXCEEDED]
    tap.ok(len(refused) == 40, "40 more such containers are refused (%d were)" % len(refused),
           [a for a in answers if a.error != T.LIMIT_EXCEEDED][:3])
    tap.ok(daemon.alive(bus), "containersd is still on the bus")
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "nothing was created (database, directories, objects)", diff)

    big_labels = {"label-%03d" % i: "v" * 300 for i in range(250)}
    r = create(bus, "big-labels", ["true"], {"Labels": GLib.Variant("a{ss}", big_labels)})
    tap.ok(r.error == T.LIMIT_EXCEEDED, "labels over the budget get LimitExceeded too", r)

    r = create(bus, "fits", ["echo", "y" * (60 * KiB)])
    if tap.ok(r.error is None, "a 60 KB command fits", r):
        size = get_all_bytes(bus, r.value[0])
        tap.ok(size <= PROPERTY_BUDGET,
               "its properties take %d bytes on the bus, within the limit" % size)
        T.call(bus, r.value[0], T.CONTAINER, "Remove", V("bb", False, False))

    r = create(bus, "ordinary", ["sleep", "1000"],
               {"Labels": GLib.Variant("a{ss}", {"app": "web", "tier": "front"})})
    if tap.ok(r.error is None, "an ordinary container is created", r):
        objects = bus.call_sync(T.NAME, T.ROOT, "org.freedesktop.DBus.ObjectManager",
                                "GetManagedObjects", None, None, 0, T.TIMEOUT * 1000, None)
        interfaces = objects.get_child_value(0).lookup_value(r.value[0], None)
        # its dictionary entry: padding, the path, the interfaces
        size = 8 + 4 + len(r.value[0]) + 1 + interfaces.get_size()
        tap.ok(10000 * size < BUS_MESSAGE_LIMIT // 2,
               "10,000 like it take %d bytes in GetManagedObjects, under half the bus's "
               "message limit" % (10000 * size))
        T.call(bus, r.value[0], T.CONTAINER, "Remove", V("bb", False, False))


def total_budget(tap, daemon, bus):
    command = ["echo", "z" * (60 * KiB)]
    made = []
    for i in range(3):
        r = create(bus, "share-%d" % i, command)
        if r.error is None:
            made.append(r.value[0])
    tap.ok(len(made) == 3, "three 60 KB containers fit under exported_max_bytes=%d"
           % EXPORTED_MAX)
    # (GetManagedObjects is over the test's message limit now: no snapshot)
    before = stored_containers(daemon)
    r = create(bus, "share-3", command)
    tap.ok(r.error == T.LIMIT_EXCEEDED and str(EXPORTED_MAX) in (r.message or ""),
           "a fourth gets LimitExceeded naming the limit for all containers", r)
    lookup = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", V("s", "share-3"))
    tap.ok(stored_containers(daemon) == before and lookup.error == T.NOT_FOUND,
           "and nothing was created (database, directories, objects)", lookup)
    r = create(bus, "small", ["true"])
    tap.ok(r.error is None, "a small one still fits", r)
    if r.error is None:
        T.call(bus, r.value[0], T.CONTAINER, "Remove", V("bb", False, False))
    if made:
        T.call(bus, made.pop(), T.CONTAINER, "Remove", V("bb", False, False))
    r = create(bus, "share-3", command)
    tap.ok(r.error is None, "after a removal there is room again", r)
    if r.error is None:
        made.append(r.value[0])
    daemon.shared = made


def oversized_reply(tap, daemon, bus):
    # The three 60 KB containers make GetManagedObjects larger than the
    # (lowered) message limit.
    r = T.call(bus, T.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
    tap.ok(r.error == T.LIMIT_EXCEEDED, "a GetManagedObjects reply over the message limit is "
           "answered with LimitExceeded", r)
    tap.ok(daemon.alive(bus), "containersd is still on the bus")
    r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", V("s", "share-0"))
    tap.ok(r.error is None, "and answers the next call", r)
    sizes = [get_all_bytes(bus, path) for path in daemon.shared]
    tap.ok(len(sizes) == 3 and all(s < TEST_MESSAGE_MAX for s in sizes),
           "each container's GetAll still fits (%s bytes)" % sizes)
    for path in daemon.shared:
        T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, False))
    r = T.call(bus, T.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
    tap.ok(r.error is None, "once they are gone GetManagedObjects answers again", r)


def callers_leave(tap, daemon, bus):
    r = create(bus, "waited", ["sleep", "1000"])
    if not tap.ok(r.error is None, "a container to wait on", r):
        return
    path = r.value[0]
    r = T.call(bus, path, T.CONTAINER, "Start")
    tap.ok(r.error is None, "it starts", r)
    status = leave_after_sending(
        [(path, T.CONTAINER, "Wait", "", "")] * 5 +
        [(T.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", "")] * 20 +
        [(path, "org.freedesktop.DBus.Properties", "GetAll", "(s)", "('%s',)" % T.CONTAINER)] * 20)
    tap.ok(status == 0, "a client sent 45 calls and left without reading the answers")
    r = T.call(bus, path, T.CONTAINER, "Kill", V("s", "SIGKILL"))
    tap.ok(r.error is None, "the container is killed, which answers the gone waiters", r)
    r = T.call(bus, path, T.CONTAINER, "Wait", timeout=T.TIMEOUT)
    tap.ok(r.error is None, "a Wait of a caller that stays is answered", r)
    tap.ok(daemon.alive(bus), "containersd is still on the bus")
    r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))
    tap.ok(r.error is None, "and removes the container", r)


def authorization_flood(tap, daemon, bus, users):
    r = create(bus, "guarded", ["true"])
    if not tap.ok(r.error is None, "a container to call guarded methods on", r):
        return
    path = r.value[0]
    ready = T.wait_until(lambda: users.pkcheck_ok(users.allowed), timeout=60, interval=0.2)
    tap.ok(ready, "polkitd applies the test's rules (pkcheck as the allowed user)")
    with open(daemon.log_path, "rb") as f:
        log_start = len(f.read())

    flooder = users.popen(users.denied, ["/usr/bin/python3", "-c", FLOODER, path, T.CONTAINER,
                                         "Inspect", "4", "120"],
                          stdout=subprocess.PIPE, universal_newlines=True)
    tap.ok(flooder.stdout.readline().strip() == "sent",
           "the denied user has 4x120 guarded calls in flight")
    # The allowed user's calls, one after the other, while the flood waits.
    answers = []
    for _ in range(10):
        allowed = users.popen(users.allowed, ["/usr/bin/python3", "-c", FLOODER, path,
                                              T.CONTAINER, "Inspect", "1", "3"],
                              stdout=subprocess.PIPE, universal_newlines=True)
        allowed.stdout.readline()
        answers.append(json.loads(allowed.stdout.readline() or "{}"))
        allowed.wait()
    replies = sum(a.get("reply", 0) for a in answers)
    tap.ok(replies == 30, "all 30 of the allowed user's calls succeed during the flood (%d did)"
           % replies, answers)
    flood = json.loads(flooder.stdout.readline() or "{}")
    flooder.wait()
    tap.ok(sum(flood.values()) == 480 and flood.get("reply", 0) == 0 and
           set(flood) <= {T.NOT_AUTHORIZED, T.LIMIT_EXCEEDED},
           "each of the flood's 480 calls is denied or refused with LimitExceeded", flood)
    tap.ok(flood.get(T.LIMIT_EXCEEDED, 0) > 0, "the calls past the user's queue get "
           "LimitExceeded (%d)" % flood.get(T.LIMIT_EXCEEDED, 0))
    with open(daemon.log_path, "rb") as f:
        denials = f.read()[log_start:].count(b"Denied ")
    tap.ok(1 <= denials <= 5, "the denials are logged in %d rate-limited lines" % denials)
    tap.ok(daemon.alive(bus), "containersd is still on the bus")
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, False))


def stalled_imports(tap, daemon, bus):
    r = create(bus, "starter", ["sleep", "1000"])
    if not tap.ok(r.error is None, "a container to start beside stalled imports", r):
        return
    path = r.value[0]
    fifo_dir = os.path.join(daemon.tmp, "fifos")
    os.mkdir(fifo_dir)
    loop = GLib.MainLoop()
    answers = []
    writers = []
    clients = [T.system_bus() for _ in range(2)]

    def done(conn, result, _):
        try:
            conn.call_with_unix_fd_list_finish(result)
            answers.append("reply")
        except GLib.Error as e:
            answers.append(Gio.DBusError.get_remote_error(e) or "local")
        if len(answers) == 200:
            loop.quit()

    for i in range(200):
        fifo = os.path.join(fifo_dir, "f%d" % i)
        os.mkfifo(fifo)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        writers.append(os.open(fifo, os.O_WRONLY))
        fds = Gio.UnixFDList.new()
        fds.append(reader)
        os.close(reader)
        clients[i % 2].call_with_unix_fd_list(
            T.NAME, T.ROOT, T.MANAGER, "ImportImage",
            GLib.Variant("(hsa{sv})", (0, "stalled-%d" % i, {})), None, 0, 600000, fds, None,
            done, None)
    for conn in clients:
        conn.flush_sync(None)
    jobs = lambda: sum(1 for p in T.managed_objects(bus) if "/jobs/" in p)
    tap.ok(T.wait_until(lambda: jobs() >= 200, timeout=T.TIMEOUT),
           "200 imports from silent FIFOs are under way (%d jobs)" % jobs())
    r = T.call(bus, path, T.CONTAINER, "Start")
    tap.ok(r.error is None, "root's Start is answered while they stall", r)
    r = T.call(bus, path, T.CONTAINER, "GetSizes")
    tap.ok(r.error is None, "and so is GetSizes", r)
    tap.ok(answers == [] and jobs() >= 200, "before any of the imports ended")
    for fd in writers:
        os.close(fd)
    GLib.timeout_add_seconds(T.TIMEOUT, loop.quit)
    loop.run()
    tap.ok(len(answers) == 200 and "reply" not in answers,
           "once the FIFOs close, each import is answered (with an error: no data)",
           sorted(set(answers)))
    for conn in clients:
        conn.close_sync(None)
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


main()
