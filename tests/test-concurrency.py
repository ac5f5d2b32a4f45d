#!/usr/bin/python3
# test-concurrency.py: many clients at once leave one consistent state. On the
# private bus of tests/private-bus.sh (the script puts itself under it):
#   - 50 clients, each on a bus connection of its own, make CTRD_TEST_OPS
#     (default 2,000) lifecycle calls in all on twelve containers: create,
#     start, stop, kill, pause, unpause, restart, remove, rename, mixed at
#     random (seeded: CTRD_TEST_SEED, printed), while readers list the objects
#     and read properties. Every call is answered, with a reply or an error a
#     race makes legitimate (wrong state, gone, name taken); every read
#     succeeds;
#   - then the bus, the database (read-only) and runc agree exactly on every
#     container and its state, and nothing is left of the ones not running
#     (mounts, cgroups);
#   - ten clients racing Start, Stop, Kill and Remove on one container, ten
#     times over, leave it in one state that all three agree on;
#   - during a long Stop (a container that ignores SIGTERM) and during an
#     import still being fed through a pipe the test holds, other calls (a
#     listing, a create, another container's Start) are answered first:
#     asserted by order (neither can end before the test lets it), never by
#     wall time.
# Needs root. Prints TAP.
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

CLIENTS = 50
READERS = 4
SLOTS = 12
OPS = int(os.environ.get("CTRD_TEST_OPS", "2000"))
SEED = int(os.environ.get("CTRD_TEST_SEED", "0")) or random.SystemRandom().randrange(1, 2 ** 31)

# Ends at once on SIGTERM (the shell is pid 1: TERM has no default action).
QUICK = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
# Ignores SIGTERM: only SIGKILL ends it.
STUBBORN = ["sh", "-c", "trap '' TERM; while :; do sleep 100000; done"]

# Errors a race makes legitimate: the state changed under the call, the
# object went, the name was taken by another client's create or rename.
RACE_ERRORS = {
    T.ERROR + "InvalidState",
    T.ERROR + "NotFound",
    T.ERROR + "NameInUse",
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.UnknownObject",
}
SETTLED = ("configured", "created", "running", "paused", "exited", "stopped")


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def slot_names(i):
    return ("slot%d-a" % i, "slot%d-b" % i)


def runc_list(daemon):
    r = subprocess.run(["runc", "--root", os.path.join(daemon.run_root, "runc"), "list",
                        "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    if r.returncode != 0 or not r.stdout.strip():
        return {}
    return {c["id"]: c["status"] for c in json.loads(r.stdout) or []}


def db_containers(daemon):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.storage, "state.db"), uri=True)
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = {cid: (name, state) for cid, name, state in
                db.execute("SELECT id, name, state FROM containers")}
    finally:
        db.close()
    return verdict, rows


def bus_containers(bus):
    return {ifaces[T.CONTAINER]["Id"]: (ifaces[T.CONTAINER]["Name"], ifaces[T.CONTAINER]["State"])
            for ifaces in T.managed_objects(bus).values() if T.CONTAINER in ifaces}


def cgroups_of(cid):
    """The cgroup directories a container's id names, in every hierarchy."""
    found = []
    base = "/sys/fs/cgroup"
    for entry in [""] + sorted(os.listdir(base)):
        path = os.path.join(base, entry, "containersd", cid)
        if os.path.isdir(path):
            found.append(path)
    return found


def disagreements(daemon, bus, ever_created):
    """'' when bus, database and runc agree on every container and nothing
    is left of those that do not run; else what is wrong."""
    verdict, db = db_containers(daemon)
    on_bus = bus_containers(bus)
    runc = runc_list(daemon)
    problems = []
    if verdict != "ok":
        problems.append("integrity_check: " + verdict)
    for cid in sorted(set(db) | set(on_bus)):
        if db.get(cid) != on_bus.get(cid):
            problems.append("%s: database %s, bus %s" % (cid[:12], db.get(cid), on_bus.get(cid)))
    running_roots = []
    for cid in sorted(set(on_bus) | set(runc)):
        state = on_bus.get(cid, (None, None))[1]
        if state in ("running", "paused"):
            running_roots.append(os.path.join(daemon.run_root, "containers", cid, "rootfs"))
            if runc.get(cid) != state:
                problems.append("%s is %s, runc says %s" % (cid[:12], state, runc.get(cid)))
        elif cid in runc and state != "created":
            problems.append("%s is %s, runc still has it (%s)" % (cid[:12], state, runc[cid]))
    for cid in sorted(ever_created):
        state = on_bus.get(cid, (None, None))[1]
        if state not in ("running", "paused", "created") and cgroups_of(cid):
            problems.append("%s is %s, its cgroups remain: %s" % (cid[:12], state, cgroups_of(cid)))
    netns = os.path.join(daemon.run_root, "network", "netns")
    stray = [m for m in T.mounts_under(daemon.tmp) if m not in running_roots and m != netns]
    if stray:
        problems.append("stray mounts: %s" % stray)
    return "; ".join(problems)


def settled(bus):
    return all(state in SETTLED for _, state in bus_containers(bus).values())


class Client(threading.Thread):
    """One bus connection making @count random lifecycle calls."""

    def __init__(self, index, count, image, created, lock):
        super().__init__(daemon=True)
        self.rng = random.Random(SEED * 1000 + index)
        self.count = count
        self.image = image
        self.created = created
        self.lock = lock
        self.answered = 0
        self.unexpected = []
        self.last = None

    def lookup(self, bus, slot):
        for name in slot_names(slot):
            r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", V("s", name))
            if r.error is None:
                return name, r.value[0]
        return None, None

    def one(self, bus):
        slot = self.rng.randrange(SLOTS)
        op = self.rng.choice(["start", "start", "stop", "kill", "pause", "unpause", "restart",
                              "remove", "create", "rename", "wait-state"])
        name, path = self.lookup(bus, slot)
        self.last = name or slot_names(slot)[0]
        if op == "create" or path is None:
            r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                       V("ssasa{sv}", slot_names(slot)[0], self.image, QUICK, {}))
            if r.error is None:
                cid = T.get_property(bus, r.value[0], T.CONTAINER, "Id")
                with self.lock:
                    if cid is not None:
                        self.created.add(cid)
            return "CreateContainer", r
        if op == "start":
            return "Start", T.call(bus, path, T.CONTAINER, "Start")
        if op == "stop":
            return "Stop", T.call(bus, path, T.CONTAINER, "Stop", V("u", 5))
        if op == "kill":
            return "Kill", T.call(bus, path, T.CONTAINER, "Kill",
                                  V("s", self.rng.choice(["SIGKILL", "SIGTERM"])))
        if op == "pause":
            return "Pause", T.call(bus, path, T.CONTAINER, "Pause")
        if op == "unpause":
            return "Unpause", T.call(bus, path, T.CONTAINER, "Unpause")
        if op == "restart":
            return "Restart", T.call(bus, path, T.CONTAINER, "Restart", V("u", 5))
        if op == "remove":
            return "Remove", T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))
        if op == "rename":
            other = [n for n in slot_names(slot) if n != name][0]
            return "Rename", T.call(bus, path, T.CONTAINER, "Rename", V("s", other))
        r = T.call(bus, path, "org.freedesktop.DBus.Properties", "Get",
                   V("ss", T.CONTAINER, "State"))
        return "Get State", r

    def run(self):
        bus = T.system_bus()
        try:
            for _ in range(self.count):
                what, r = self.one(bus)
                self.answered += 1
                if r.error is not None and r.error not in RACE_ERRORS:
                    self.unexpected.append("%s of %s: %r" % (what, self.last, r))
        except Exception as e:  # noqa: BLE001: reported as a failed test
            self.unexpected.append("client crashed: %r" % e)
        finally:
            bus.close_sync(None)


class Reader(threading.Thread):
    """Lists the objects and reads properties until told to stop."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.reads = 0
        self.failed = []

    def run(self):
        bus = T.system_bus()
        try:
            while not self.stop.is_set():
                r = T.call(bus, T.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
                self.reads += 1
                if r.error is not None:
                    self.failed.append(repr(r))
                    continue
                for path, ifaces in list(r.value[0].items())[:3]:
                    if T.CONTAINER not in ifaces:
                        continue
                    g = T.call(bus, path, "org.freedesktop.DBus.Properties", "GetAll",
                               V("s", T.CONTAINER))
                    self.reads += 1
                    # A container removed between the listing and the read is gone.
                    if g.error is not None and g.error not in RACE_ERRORS:
                        self.failed.append(repr(g))
        finally:
            bus.close_sync(None)


def create(bus, name, argv=QUICK):
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer", V("ssasa{sv}", name, "busybox", argv, {}))
    return r.value[0] if r.error is None else None


def test_many_clients(tap, daemon, bus, created):
    lock = threading.Lock()
    for i in range(SLOTS):
        path = create(bus, slot_names(i)[0])
        if path is not None:
            created.add(T.get_property(bus, path, T.CONTAINER, "Id"))
    tap.ok(len(created) == SLOTS, "%d containers to share among the clients" % SLOTS)
    T.Tap.diag("seed %d (CTRD_TEST_SEED=%d repeats this run)" % (SEED, SEED))
    per_client = [OPS // CLIENTS + (1 if i < OPS % CLIENTS else 0) for i in range(CLIENTS)]
    clients = [Client(i, per_client[i], "busybox", created, lock) for i in range(CLIENTS)]
    readers = [Reader() for _ in range(READERS)]
    for t in readers + clients:
        t.start()
    for c in clients:
        c.join(T.TIMEOUT * 10)
    for r in readers:
        r.stop.set()
        r.join(T.TIMEOUT)
    stuck = [c for c in clients if c.is_alive()] + [r for r in readers if r.is_alive()]
    tap.ok(not stuck, "every client's calls came back (%d threads still waiting)" % len(stuck))
    answered = sum(c.answered for c in clients)
    tap.ok(answered == OPS, "%d clients on their own connections made %d lifecycle calls, all "
           "answered (%d)" % (CLIENTS, OPS, answered))
    unexpected = [u for c in clients for u in c.unexpected]
    tap.ok(not unexpected, "each answer is a reply or an error a race makes legitimate",
           "\n".join(unexpected[:20]))
    failed = [f for r in readers for f in r.failed]
    tap.ok(not failed and sum(r.reads for r in readers) > 0,
           "the readers' %d listings and reads all succeeded meanwhile"
           % sum(r.reads for r in readers), "\n".join(failed[:20]))
    tap.ok(T.wait_until(lambda: settled(bus)), "every container settles in a state")
    problems = ""
    T.wait_until(lambda: not disagreements(daemon, bus, created), timeout=30)
    problems = disagreements(daemon, bus, created)
    tap.ok(not problems, "bus, database and runc agree on every container; nothing is left "
           "of those not running (mounts, cgroups)", problems)


def test_one_container_races(tap, daemon, bus, created):
    ops = [("Start", None), ("Stop", V("u", 5)), ("Kill", V("s", "SIGKILL")),
           ("Remove", V("bb", True, False))]
    unexpected = []
    for round_ in range(10):
        path = create(bus, "race%d" % round_)
        if path is None:
            unexpected.append("round %d: create failed" % round_)
            continue
        created.add(T.get_property(bus, path, T.CONTAINER, "Id"))
        T.call(bus, path, T.CONTAINER, "Start")
        barrier = threading.Barrier(10)

        def racer(k, path=path, barrier=barrier):
            conn = T.system_bus()
            try:
                method, args = ops[k % len(ops)]
                barrier.wait()
                r = T.call(conn, path, T.CONTAINER, method, args)
                if r.error is not None and r.error not in RACE_ERRORS:
                    unexpected.append("%s: %r" % (method, r))
            finally:
                conn.close_sync(None)
        threads = [threading.Thread(target=racer, args=(k,)) for k in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(T.TIMEOUT)
        if any(t.is_alive() for t in threads):
            unexpected.append("round %d: a racer's call never came back" % round_)
    tap.ok(not unexpected, "ten clients raced Start, Stop, Kill and Remove on one container, "
           "ten times: every call answered legitimately", "\n".join(unexpected))
    T.wait_until(lambda: settled(bus))
    T.wait_until(lambda: not disagreements(daemon, bus, created), timeout=30)
    problems = disagreements(daemon, bus, created)
    tap.ok(not problems, "after the races, bus, database and runc agree", problems)


class Pending(threading.Thread):
    """One call on a connection of its own, answered whenever it is."""

    def __init__(self, path, iface, method, args=None, fds=None, timeout=T.TIMEOUT):
        super().__init__(daemon=True)
        self.args = (path, iface, method, args, fds, timeout)
        self.reply = None
        self.done = threading.Event()

    def run(self):
        conn = T.system_bus()
        try:
            path, iface, method, args, fds, timeout = self.args
            self.reply = T.call(conn, path, iface, method, args, fds=fds, timeout=timeout)
        finally:
            self.done.set()
            conn.close_sync(None)


def others_answer(tap, bus, created, during, pending):
    """A listing, a create and another container's Start are answered while
    @pending cannot have ended."""
    listing = T.call(bus, T.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
    path = create(bus, "during-" + during.replace(" ", "-"))
    start = T.call(bus, path, T.CONTAINER, "Start") if path else None
    if path:
        created.add(T.get_property(bus, path, T.CONTAINER, "Id"))
    tap.ok(listing.error is None and path is not None and start is not None and
           start.error is None and not pending.done.is_set(),
           "during %s, a listing, a create and another container's Start are answered first"
           % during, "listing %r, create %r, start %r, pending answered: %s"
           % (listing, path, start, pending.done.is_set()))
    if path:
        T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_long_calls(tap, daemon, bus, created):
    slow = create(bus, "stubborn", STUBBORN)
    r = T.call(bus, slow, T.CONTAINER, "Start")
    tap.ok(r.error is None, "a container that ignores SIGTERM runs", r)
    created.add(T.get_property(bus, slow, T.CONTAINER, "Id"))
    # Stop(3600): it cannot end before the SIGKILL the test sends.
    stop = Pending(slow, T.CONTAINER, "Stop", V("u", 3600), timeout=7200)
    stop.start()
    tap.ok(T.wait_until(lambda: T.get_property(bus, slow, T.CONTAINER, "State") == "stopping"),
           "its Stop(3600) is under way (stopping)")
    others_answer(tap, bus, created, "a long stop", stop)
    r = T.call(bus, slow, T.CONTAINER, "Kill", V("s", "SIGKILL"))
    stop.done.wait(T.TIMEOUT)
    tap.ok(r.error is None and stop.done.is_set() and stop.reply.error is None,
           "a SIGKILL ends it and the Stop is answered", "kill %r, stop %r" % (r, stop.reply))

    # An import fed through a pipe: it cannot end before the pipe closes.
    tar = os.path.join(daemon.tmp, "busybox.tar")
    with open(tar, "rb") as f:
        data = f.read()
    rfd, wfd = os.pipe()
    import_call = Pending(T.ROOT, T.MANAGER, "ImportImage", V("hsa{sv}", 0, "fed", {}),
                          fds=[rfd])
    import_call.start()
    half = len(data) // 2
    view = memoryview(data)
    written = 0
    while written < half:
        written += os.write(wfd, view[written:half])
    # The daemon holds its copy of the read end once the call is sent: the
    # import reads what was written (the pipe's buffer is smaller than half
    # the archive, so the writes above returned only as the import read).
    others_answer(tap, bus, created, "an import still being fed", import_call)
    while written < len(data):
        written += os.write(wfd, view[written:])
    os.close(wfd)
    import_call.done.wait(T.TIMEOUT)
    os.close(rfd)
    tap.ok(import_call.done.is_set() and import_call.reply.error is None,
           "once the pipe is fed to its end, the import is answered", import_call.reply)
    T.wait_until(lambda: settled(bus))
    T.wait_until(lambda: not disagreements(daemon, bus, created), timeout=30)
    problems = disagreements(daemon, bus, created)
    tap.ok(not problems, "afterwards, bus, database and runc agree", problems)


def run_tests(tap, daemon):
    bus = T.start_with_busybox(tap, daemon)
    created = set()
    test_many_clients(tap, daemon, bus, created)
    test_one_container_races(tap, daemon, bus, created)
    test_long_calls(tap, daemon, bus, created)
    bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


main()
