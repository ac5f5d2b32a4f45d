#!/usr/bin/python3
# test-fault-disk.py: the storage root runs out of space, for real (a
# size-limited tmpfs), on the private bus of tests/private-bus.sh (the
# script puts itself under it):
#   - an import larger than the free space fails with a clean error, leaves
#     no ref, no image and no staging directory, and the daemon answers;
#   - creating containers with the disk full fails cleanly too, or works;
#     either way no half-made container is left;
#   - once space is freed, the same import and a create work.
# After each: PRAGMA integrity_check ok, ostree fsck clean.
# Needs root. Prints TAP.
import os
import sqlite3
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

MiB = 1024 * 1024
ROOT_SIZE = 24 * MiB


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def healthy(tap, daemon, what):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.storage, "state.db"), uri=True)
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    fsck = T.run(["ostree", "--repo=" + daemon.repo, "fsck", "--quiet"])
    tap.ok(verdict == "ok" and fsck.returncode == 0,
           "%s: integrity_check ok, ostree fsck clean" % what,
           "integrity_check: %s; fsck: %s" % (verdict, fsck.stdout))


def staging_dirs(daemon):
    tmp = os.path.join(daemon.repo, "tmp")
    return [n for n in os.listdir(tmp) if n.startswith("staging-")] if os.path.isdir(tmp) else []


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    os.makedirs(daemon.storage)
    r = T.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % ROOT_SIZE, "tmpfs",
               daemon.storage])
    if r.returncode != 0:
        print("1..0 # SKIP cannot mount a tmpfs: " + r.stdout)
        daemon.cleanup()
        sys.exit(0)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


def run_tests(tap, daemon):
    daemon.start()
    bus = T.system_bus()
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "busybox", {}))
    if not tap.ok(r.error is None, "busybox is imported onto the small root", r):
        tap.bail("no image to work with")

    # Random data does not compress or deduplicate: more than the root holds.
    big_dir = os.path.join(daemon.tmp, "big")
    os.mkdir(big_dir)
    with open(os.path.join(big_dir, "blob"), "wb") as f:
        f.write(os.urandom(ROOT_SIZE + 4 * MiB))
    big_tar = os.path.join(daemon.tmp, "big.tar")
    T.run(["tar", "-C", big_dir, "-cf", big_tar, "blob"])

    refs = T.run(["ostree", "--repo=" + daemon.repo, "refs"]).stdout
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", big_tar, "big", {}))
    tap.ok(r.error is not None and r.error.startswith(T.ERROR),
           "an import larger than the free space fails with a clean error", r)
    tap.ok(T.run(["ostree", "--repo=" + daemon.repo, "refs"]).stdout == refs and
           T.call(bus, T.ROOT, T.MANAGER, "GetImage", V("s", "big")).error == T.NOT_FOUND and
           staging_dirs(daemon) == [],
           "and leaves no ref, no image, no staging directory", staging_dirs(daemon))
    healthy(tap, daemon, "after the failed import")

    # Fill what is left, then create.
    filler = os.path.join(daemon.storage, "filler")
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * MiB)
                f.flush()
        except OSError:
            pass
    made = []
    errors = []
    for i in range(5):
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                   V("ssasa{sv}", "full-%d" % i, "busybox", ["true"], {}))
        (errors if r.error else made).append(r)
    tap.ok(all(e.error.startswith(T.ERROR) for e in errors),
           "CreateContainer with the disk full: %d created, %d clean errors"
           % (len(made), len(errors)), errors[:2])
    listed = sorted(os.listdir(os.path.join(daemon.storage, "containers")))
    tap.ok(len(listed) == len(made), "no half-made container directory is left", listed)
    tap.ok(daemon.alive(bus), "containersd is still on the bus")

    os.unlink(filler)
    for r in made:
        T.call(bus, r.value[0], T.CONTAINER, "Remove", V("bb", False, False))
    os.unlink(os.path.join(big_dir, "blob"))
    with open(os.path.join(big_dir, "blob"), "wb") as f:
        f.write(os.urandom(4 * MiB))
    T.run(["tar", "-C", big_dir, "-cf", big_tar, "blob"])
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", big_tar, "big", {}))
    tap.ok(r.error is None, "with space freed, an import works again", r)
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "after", "busybox", ["true"], {}))
    tap.ok(r.error is None, "and so does CreateContainer", r)
    healthy(tap, daemon, "after space was freed")
    bus.close_sync(None)


main()
