#!/usr/bin/python3
# test-fault-crash-points.py: the daemon killed (SIGKILL) between two steps
# of an operation, at the test-only crash points that whoever starts it may
# name (CTRD_TEST_CRASH_AT; no bus caller can), on the private bus of
# tests/private-bus.sh (the script puts itself under it). For each point:
# the call in flight ends (the daemon is gone), the daemon is started again
# without the crash point, and then every container is accounted for with a
# true state (what the database and the bus say agrees with runc), the
# database passes integrity_check, ostree fsck is clean, no mount is left
# but those of running containers, and the container (or image) can go on
# through its life cycle:
#   create-persisted     the container's row written, not yet on the bus
#   start-prepared       its root mounted and its files written, runc not asked
#   start-created        runc created it, the database does not know
#   start-started        runc started it, the database says created
#   stop-saved           stopping saved, no signal sent
#   remove-dirs-removed  its directories gone, its row not yet
#   image-committed      an import's commit and ref made, its row not yet
# Needs root. Prints TAP.
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

CRASH_ENV = "CTRD_TEST_CRASH_AT"


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def runc_status(daemon, cid):
    r = subprocess.run(["runc", "--root", os.path.join(daemon.run_root, "runc"), "state", cid],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout).get("status")


def container_path(bus, name):
    r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", V("s", name))
    return r.value[0] if r.error is None else None


def prop(bus, path, name):
    return T.get_property(bus, path, T.CONTAINER, name)


def accounted(tap, daemon, bus, what):
    """Every container of the database is on the bus, with the state runc
    agrees with; integrity_check, fsck; no mount but running roots."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.storage, "state.db"), uri=True)
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        ids = [row[0] for row in db.execute("SELECT id FROM containers")]
    finally:
        db.close()
    objects = T.managed_objects(bus)
    problems = []
    running_roots = []
    for path, ifaces in objects.items():
        if T.CONTAINER not in ifaces:
            continue
        cid = ifaces[T.CONTAINER]["Id"]
        state = ifaces[T.CONTAINER]["State"]
        runc = runc_status(daemon, cid)
        if cid not in ids:
            problems.append("%s is on the bus but not in the database" % cid[:12])
        if state in ("running", "paused"):
            if runc != state:
                problems.append("%s is %s, runc says %s" % (cid[:12], state, runc))
            running_roots.append(os.path.join(daemon.run_root, "containers", cid, "rootfs"))
        elif state in ("configured", "exited", "stopped") and runc is not None:
            problems.append("%s is %s, runc still has it (%s)" % (cid[:12], state, runc))
    on_bus = {ifaces[T.CONTAINER]["Id"] for ifaces in objects.values() if T.CONTAINER in ifaces}
    problems += ["%s is in the database but not on the bus" % i[:12] for i in ids
                 if i not in on_bus]
    fsck = T.run(["ostree", "--repo=" + daemon.repo, "fsck", "--quiet"])
    netns = os.path.join(daemon.run_root, "network", "netns")
    mounts = [m for m in T.mounts_under(daemon.tmp) if m not in running_roots and m != netns]
    tap.ok(problems == [] and verdict == "ok" and fsck.returncode == 0 and mounts == [],
           "%s: every container accounted for with a true state, integrity_check ok, "
           "ostree fsck clean, no stray mount" % what,
           "problems: %s; integrity_check: %s; fsck: %s; mounts: %s"
           % (problems, verdict, fsck.stdout, mounts))


def crash_during(tap, daemon, point, action):
    """Starts the daemon with @point armed, runs @action(bus) (whose call the
    crash ends), waits for the daemon to die by SIGKILL, starts it again
    without the point. Returns the new bus connection."""
    os.environ[CRASH_ENV] = point
    try:
        daemon.start()
    finally:
        del os.environ[CRASH_ENV]
    bus = T.system_bus()
    r = action(bus)
    try:
        status = daemon.proc.wait(timeout=T.TIMEOUT)
    except subprocess.TimeoutExpired:
        status = None
    tap.ok(status == -9 and r.error is not None,
           "%s: the daemon is killed there (status %s), the call in flight ends (%s)"
           % (point, status, r.error))
    if status is None:
        daemon.stop()
    daemon.proc = None
    bus.close_sync(None)
    daemon.start()
    return T.system_bus()


def lifecycle_goes_on(tap, bus, path, what, running=False):
    """Start (unless @running), Stop, Remove all work."""
    if not running:
        r = T.call(bus, path, T.CONTAINER, "Start")
        tap.ok(r.error is None and prop(bus, path, "State") == "running",
               "%s: then it starts" % what, r)
    r = T.call(bus, path, T.CONTAINER, "Stop", V("u", 0))
    tap.ok(r.error is None and prop(bus, path, "State") in ("exited", "stopped"),
           "%s: it stops" % what, r)
    r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))
    tap.ok(r.error is None and path not in T.managed_objects(bus),
           "%s: it is removed" % what, r)


def create(bus, name, argv=("sleep", "1000")):
    return T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                  V("ssasa{sv}", name, "busybox", list(argv), {}))


def test_create(tap, daemon):
    bus = crash_during(tap, daemon, "create-persisted", lambda b: create(b, "c-create"))
    path = container_path(bus, "c-create")
    tap.ok(path is not None and prop(bus, path, "State") == "configured",
           "create-persisted: after the restart the container is there, configured")
    accounted(tap, daemon, bus, "create-persisted")
    if path:
        lifecycle_goes_on(tap, bus, path, "create-persisted")
    return bus


def test_start(tap, daemon, bus, point):
    name = "c-" + point
    r = create(bus, name)
    path = r.value[0] if r.error is None else None
    tap.ok(path is not None, "%s: a container is created" % point, r)
    bus.close_sync(None)
    daemon.stop()
    bus = crash_during(tap, daemon, point, lambda b: T.call(b, path, T.CONTAINER, "Start"))
    cid = prop(bus, path, "Id")
    # Before runc started it, the start never happened (what runc has of it
    # is cleaned up, as after an exit); after, it runs.
    expected = "running" if point == "start-started" else None
    if expected is None:
        T.wait_until(lambda: runc_status(daemon, cid) is None and
                     prop(bus, path, "State") in ("configured", "exited"))
    state = prop(bus, path, "State")
    runc = runc_status(daemon, cid)
    tap.ok((state == "running" and runc == "running") if expected else
           (state in ("configured", "exited") and runc is None),
           "%s: after the restart it is %s and runc says %s" % (point, state, runc))
    accounted(tap, daemon, bus, point)
    lifecycle_goes_on(tap, bus, path, point, running=expected == "running")
    return bus


def test_stop(tap, daemon, bus):
    point = "stop-saved"
    r = create(bus, "c-stop")
    path = r.value[0] if r.error is None else "/"
    r = T.call(bus, path, T.CONTAINER, "Start")
    tap.ok(r.error is None, "%s: a container runs" % point, r)
    pid = prop(bus, path, "Pid")
    bus.close_sync(None)
    daemon.stop()
    bus = crash_during(tap, daemon, point, lambda b: T.call(b, path, T.CONTAINER, "Stop", V("u", 0)))
    tap.ok(prop(bus, path, "State") == "running" and prop(bus, path, "Pid") == pid,
           "%s: after the restart it still runs, same pid (the stop never reached it)" % point)
    accounted(tap, daemon, bus, point)
    lifecycle_goes_on(tap, bus, path, point, running=True)
    return bus


def test_remove(tap, daemon, bus):
    point = "remove-dirs-removed"
    r = create(bus, "c-remove", ["true"])
    path = r.value[0] if r.error is None else "/"
    cid = prop(bus, path, "Id")
    bus.close_sync(None)
    daemon.stop()
    bus = crash_during(tap, daemon, point,
                       lambda b: T.call(b, path, T.CONTAINER, "Remove", V("bb", True, False)))
    gone = T.wait_until(lambda: container_path(bus, "c-remove") is None)
    tap.ok(gone and not os.path.exists(os.path.join(daemon.storage, "containers", cid)),
           "%s: after the restart the removal is finished (no object, no directory)" % point)
    accounted(tap, daemon, bus, point)
    r = create(bus, "c-remove", ["true"])
    tap.ok(r.error is None, "%s: its name is free again" % point, r)
    if r.error is None:
        T.call(bus, r.value[0], T.CONTAINER, "Remove", V("bb", True, False))
    return bus


def small_image_tar(path):
    """A root file system of one file: an image other than busybox."""
    with tarfile.open(path, "w") as tar:
        data = b"crash point image\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mtime = 1700000000
        tar.addfile(info, io.BytesIO(data))


def image_refs(daemon):
    out = T.run(["ostree", "--repo=" + daemon.repo, "refs"]).stdout.split()
    return sorted(ref for ref in out if ref.startswith("images/"))


def test_image(tap, daemon, bus):
    point = "image-committed"
    tar = os.path.join(daemon.tmp, "small.tar")
    small_image_tar(tar)
    refs_before = image_refs(daemon)
    bus.close_sync(None)
    daemon.stop()
    bus = crash_during(tap, daemon, point, lambda b: T.call(
        b, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "small", {})))
    r = T.call(bus, T.ROOT, T.MANAGER, "GetImage", V("s", "small"))
    refs = image_refs(daemon)
    tap.ok(r.error == T.NOT_FOUND and refs == refs_before,
           "%s: after the restart the half-made image is gone (no object, no ref)" % point,
           (r, refs_before, refs))
    accounted(tap, daemon, bus, point)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "small", {}))
    tap.ok(r.error is None, "%s: the same import then works" % point, r)
    return bus


def run_tests(tap, daemon):
    bus = T.start_with_busybox(tap, daemon)
    bus.close_sync(None)
    daemon.stop()
    bus = test_create(tap, daemon)
    for point in ("start-prepared", "start-created", "start-started"):
        bus = test_start(tap, daemon, bus, point)
    bus = test_stop(tap, daemon, bus)
    bus = test_remove(tap, daemon, bus)
    bus = test_image(tap, daemon, bus)
    bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


main()
