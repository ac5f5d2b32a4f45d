#!/usr/bin/python3
# soak.py: `make soak` (not in the test suite: it takes an hour at the
# default). CTRD_SOAK_CYCLES (default 10,000) lifecycle cycles (create,
# start, exec, stop, restart, kill, remove: one of each per cycle) against one
# daemon, with a few long-lived containers beside them; every
# CTRD_SOAK_EVERY (1,000) cycles the daemon's RSS, open fds, threads, the
# mounts under its roots, its cgroups and the bus objects are sampled and
# printed. After the first sample (caches warm) none may grow beyond a small
# slack (RSS: 8 MiB; fds, threads, mounts, cgroups, objects: not at all).
# Needs root. Prints TAP.
import os
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

CYCLES = int(os.environ.get("CTRD_SOAK_CYCLES", "10000"))
EVERY = int(os.environ.get("CTRD_SOAK_EVERY", "1000"))
RSS_SLACK_KIB = 8 * 1024
QUICK = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def cgroup_count(ids):
    """The cgroup directories left of the containers with @ids (other
    daemons' containers, of tests running beside, are not counted)."""
    base = "/sys/fs/cgroup"
    roots = [os.path.join(base, e, "containersd") for e in [""] + sorted(os.listdir(base))]
    roots = [r for r in roots if os.path.isdir(r)]
    return sum(1 for r in roots for cid in ids if os.path.isdir(os.path.join(r, cid)))


def sample(daemon, bus, ids):
    pid = daemon.proc.pid
    with open("/proc/%d/status" % pid) as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return {
        "rss_kib": int(status["VmRSS"].split()[0]),
        "fds": len(os.listdir("/proc/%d/fd" % pid)),
        "threads": int(status["Threads"]),
        "mounts": len(T.mounts_under(daemon.tmp)),
        "cgroups": cgroup_count(ids),
        "objects": len(T.managed_objects(bus)),
    }


def cycle(bus, n, ids):
    """One of each lifecycle call on a new container (its id added to
    @ids); the failures seen."""
    failures = []

    def ok(r, what):
        if r.error is not None:
            failures.append("cycle %d: %s: %r" % (n, what, r))
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "soak-%d" % n, "busybox", QUICK, {}))
    ok(r, "create")
    if r.error is not None:
        return failures
    path = r.value[0]
    ids.add(T.get_property(bus, path, T.CONTAINER, "Id"))
    ok(T.call(bus, path, T.CONTAINER, "Start"), "start")
    null = os.open("/dev/null", os.O_RDWR)
    try:
        r = T.call(bus, path, T.CONTAINER, "Exec", V("asa{sv}hhh", ["true"], {}, 0, 1, 2),
                   fds=[null, null, null])
    finally:
        os.close(null)
    ok(r if r.error is not None or r.value[0] == 0 else T.Reply(error="exit", message=r.value),
       "exec")
    ok(T.call(bus, path, T.CONTAINER, "Stop", V("u", 10)), "stop")
    ok(T.call(bus, path, T.CONTAINER, "Restart", V("u", 10)), "restart")
    ok(T.call(bus, path, T.CONTAINER, "Kill", V("s", "SIGKILL")), "kill")
    ok(T.call(bus, path, T.CONTAINER, "Wait"), "wait")
    ok(T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False)), "remove")
    return failures


def run_tests(tap, daemon):
    bus = T.start_with_busybox(tap, daemon)
    # a few that stay up throughout
    for i in range(3):
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                   V("ssasa{sv}", "resident-%d" % i, "busybox", QUICK, {}))
        if r.error is None:
            T.call(bus, r.value[0], T.CONTAINER, "Start")
    samples = []
    failures = []
    ids = set()
    for n in range(1, CYCLES + 1):
        failures += cycle(bus, n, ids)
        if n % EVERY == 0 or n == CYCLES:
            s = sample(daemon, bus, ids)
            samples.append((n, s))
            T.Tap.diag("after %6d cycles: %s" % (n, " ".join("%s=%s" % kv for kv in s.items())))
    tap.ok(not failures, "%d cycles, every call succeeded (%d failed)" % (CYCLES, len(failures)),
           "\n".join(failures[:20]))
    if len(samples) < 2:
        tap.skip("nothing grows", "fewer than two samples")
        return
    first, last = samples[0][1], samples[-1][1]
    grown = [k for k in first if last[k] > first[k] + (RSS_SLACK_KIB if k == "rss_kib" else 0)]
    tap.ok(not grown, "from cycle %d to %d nothing grew (%s)"
           % (samples[0][0], samples[-1][0],
              ", ".join("%s %s -> %s" % (k, first[k], last[k]) for k in first)),
           "grown: %s" % grown)
    bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


main()
