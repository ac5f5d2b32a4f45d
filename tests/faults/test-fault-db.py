#!/usr/bin/python3
# test-fault-db.py: faults of the state database and the storage root,
# injected for real on the private bus of tests/private-bus.sh (the script
# puts itself under it):
#   - state.db locked by another process (BEGIN EXCLUSIVE through Python's
#     sqlite3): a CreateContainer waits a bounded time, then fails with a
#     clear error and leaves nothing; the daemon answers the next call,
#     and works once the lock is gone;
#   - a second daemon on the same storage root refuses to start, saying
#     why, and the first one carries on;
#   - state.db corrupt: the daemon refuses to start with a message and
#     leaves the file as it was.
# After each: PRAGMA integrity_check ok, ostree fsck clean, no stray mount.
# Needs root. Prints TAP.
import hashlib
import os
import sqlite3
import subprocess
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def create(bus, name):
    return T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                  V("ssasa{sv}", name, "busybox", ["true"], {}))


def stray_mounts(daemon):
    """Mounts under the run root, less the daemon's own netns directory
    (a mount point it makes once and keeps, like ip netns does)."""
    return [m for m in T.mounts_under(daemon.run_root)
            if m != os.path.join(daemon.run_root, "network", "netns")]


def healthy(tap, daemon, what):
    """integrity_check, fsck, no stray mount under the roots' run root."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.storage, "state.db"), uri=True)
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    fsck = T.run(["ostree", "--repo=" + daemon.repo, "fsck", "--quiet"])
    mounts = stray_mounts(daemon)
    tap.ok(verdict == "ok" and fsck.returncode == 0 and mounts == [],
           "%s: integrity_check ok, ostree fsck clean, no stray mount" % what,
           "integrity_check: %s; fsck: %s; mounts: %s" % (verdict, fsck.stdout, mounts))


def daemon_args(daemon):
    return [os.path.join(T.BUILDDIR, "service", "containersd"), "--storage-root", daemon.storage,
            "--run-root", daemon.run_root, "--config", daemon.config]


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


def run_tests(tap, daemon):
    daemon.start()
    bus = T.system_bus()
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "busybox", {}))
    if not tap.ok(r.error is None, "busybox is imported", r):
        tap.bail("no image to work with")

    locked_database(tap, daemon, bus)
    second_daemon(tap, daemon, bus)
    bus.close_sync(None)
    corrupt_database(tap, daemon)


def locked_database(tap, daemon, bus):
    path = os.path.join(daemon.storage, "state.db")
    before = T.dump_db(path)
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        r = create(bus, "while-locked")
        tap.ok(r.error is not None and r.error.startswith(T.ERROR) and "lock" in r.message.lower(),
               "CreateContainer with state.db locked ends in a clear error", r)
        r = T.call(bus, T.ROOT, T.MANAGER, "GetImage", V("s", "busybox"))
        tap.ok(r.error is None, "the daemon answers the next call, the database still locked", r)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", V("s", "while-locked"))
    tap.ok(r.error == T.NOT_FOUND and T.dump_db(path) == before and
           os.listdir(os.path.join(daemon.storage, "containers")) == [],
           "nothing was left of it (no row, no directory, no object)", r)
    r = create(bus, "after-lock")
    tap.ok(r.error is None, "once the lock is gone, CreateContainer works", r)
    healthy(tap, daemon, "after the locked database")


def second_daemon(tap, daemon, bus):
    second = subprocess.run(daemon_args(daemon), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=T.TIMEOUT)
    tap.ok(second.returncode != 0 and "already using the storage root" in second.stdout,
           "a second daemon on the same root refuses to start, saying why", second.stdout)
    r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", V("s", "after-lock"))
    tap.ok(r.error is None and daemon.alive(bus), "the first one carries on", r)
    healthy(tap, daemon, "after the second daemon")


def corrupt_database(tap, daemon):
    status = daemon.stop()
    tap.ok(status == 0, "the daemon stops (status %s)" % status)
    path = os.path.join(daemon.storage, "state.db")
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        # the header and the first page: the schema
        for i in range(0, min(len(data), 4096), 7):
            data[i] = 0x5a
        f.seek(0)
        f.write(data)
    digest = hashlib.sha256(bytes(data)).hexdigest()
    started = subprocess.run(daemon_args(daemon), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, timeout=T.TIMEOUT)
    tap.ok(started.returncode != 0 and "state.db" in started.stdout,
           "with state.db corrupt the daemon refuses to start, naming the file", started.stdout)
    with open(path, "rb") as f:
        after = hashlib.sha256(f.read()).hexdigest()
    tap.ok(after == digest, "and leaves the file as it was")
    tap.ok(stray_mounts(daemon) == [], "no stray mount", T.mounts_under(daemon.run_root))


main()
