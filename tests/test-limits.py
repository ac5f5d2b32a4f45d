#!/usr/bin/python3
# test-limits.py: resource limits on real cgroups, with a real daemon and a
# container under runc on the private bus of tests/private-bus.sh (the script
# puts itself under it).
#
#   - MemoryLimit, CpuQuota and PidsLimit given at create are the container's
#     properties and are in its cgroup once it runs (GetStats reads the
#     memory limit back; the pids limit is in the cgroup's pids.max);
#   - the pids limit holds: forking past it fails inside the container and
#     the task count never exceeds it;
#   - Update changes them live: the cgroup, GetStats and the properties say
#     the new values, and the container may then fork further;
#   - bad limits at create (a negative PidsLimit, a MemoryLimit too small or
#     absurd, a negative or tiny CpuQuota) are InvalidArgument naming them and
#     create nothing; a bad Update (wrong type, unknown key, a bad value) is
#     InvalidArgument and changes neither the cgroup nor the properties;
#   - a container allocating past its MemoryLimit is OOM-killed (137,
#     OOMKilled, an oom event); an allocation that fails under one limit
#     succeeds once Update raised it, live;
#   - a busy loop under CpuQuota 0.5 uses CPU time (GetStats) at no more
#     than about half a CPU's rate.
# Needs root. Prints TAP.
import os
import sys
import time

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

MIB = 1024 * 1024
ERROR = T.NAME + ".Error."


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def exec_output(bus, path, argv):
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    try:
        r = T.call(bus, path, T.CONTAINER, "Exec", V("asa{sv}hhh", argv, {}, 0, 1, 1),
                   fds=[devnull, write_end])
    finally:
        os.close(write_end)
        os.close(devnull)
    with os.fdopen(read_end, "rb") as f:
        out = f.read().decode(errors="replace")
    return out, r


def pids_max(pid):
    """The pids.max of the cgroup @pid is in (v1 pids controller or v2)."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            return open("/sys/fs/cgroup/pids%s/pids.max" % path).read().strip()
    for line in lines:
        if line.startswith("0::"):
            return open("/sys/fs/cgroup%s/pids.max" % line[3:]).read().strip()
    return None


def stats(bus, path):
    r = T.call(bus, path, T.CONTAINER, "GetStats")
    return (r.value[0] if r.error is None else {}), r


def limits(bus, path):
    return tuple(T.get_property(bus, path, T.CONTAINER, p)
                 for p in ("MemoryLimit", "CpuQuota", "PidsLimit"))


# The shell holds what it reads in memory: about @n bytes.
def allocate(n):
    return "x=$(head -c %d /dev/zero | tr '\\0' a); echo allocated" % n


def create_started(tap, bus, name, argv, options):
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", name, "busybox", argv, options))
    path = r.value[0] if r.error is None else None
    r = T.call(bus, path, T.CONTAINER, "Start") if path else r
    tap.ok(r.error is None, "%s is created and starts" % name, r)
    return path if r.error is None else None


def test_memory(tap, bus):
    path = create_started(tap, bus, "hog", ["sh", "-c", allocate(128 * MIB)],
                          {"MemoryLimit": GLib.Variant("t", 32 * MIB)})
    if path is not None:
        r = T.call(bus, path, T.CONTAINER, "Wait")
        tap.ok(r.error is None and r.value == (137,) and
               T.get_property(bus, path, T.CONTAINER, "OOMKilled") and
               T.count_events(bus, path, "oom") == 1,
               "allocating past its MemoryLimit, it is OOM-killed: 137, OOMKilled, an oom event",
               (r, T.get_property(bus, path, T.CONTAINER, "OOMKilled")))
        T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))

    path = create_started(tap, bus, "grower", ["sleep", "1000"],
                          {"MemoryLimit": GLib.Variant("t", 32 * MIB)})
    if path is None:
        return
    out, r = exec_output(bus, path, ["sh", "-c", allocate(64 * MIB)])
    tap.ok(r.error is None and r.value == (137,) and "allocated" not in out,
           "under 32 MiB an allocation of 64 MiB is killed", (r, out))
    r = T.call(bus, path, T.CONTAINER, "Update",
               V("a{sv}", {"MemoryLimit": GLib.Variant("t", 256 * MIB)}))
    out, r2 = exec_output(bus, path, ["sh", "-c", allocate(64 * MIB)])
    tap.ok(r.error is None and r2.error is None and r2.value == (0,) and "allocated" in out,
           "after Update raised the limit live, the same allocation succeeds", (r, r2, out))
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_cpu_quota(tap, bus):
    path = create_started(tap, bus, "spinner", ["sh", "-c", "while :; do :; done"],
                          {"CpuQuota": GLib.Variant("d", 0.5)})
    if path is None:
        return
    first, _ = stats(bus, path)
    start = time.monotonic()
    # wait for a second of CPU time used, then compare with the time it took
    used = T.wait_until(lambda: stats(bus, path)[0].get("CpuTimeNs", 0) -
                        first.get("CpuTimeNs", 0) >= 10**9, timeout=60)
    elapsed = time.monotonic() - start
    last, _ = stats(bus, path)
    rate = (last.get("CpuTimeNs", 0) - first.get("CpuTimeNs", 0)) / 1e9 / max(elapsed, 1e-3)
    tap.ok(used and rate <= 0.75,
           "a busy loop under CpuQuota 0.5 runs at about half a CPU at most (%.2f)" % rate,
           (first, last, elapsed))
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


BAD_LIMITS = (
    ({"PidsLimit": GLib.Variant("x", -1)}, "PidsLimit", "a negative PidsLimit"),
    ({"MemoryLimit": GLib.Variant("t", 4096)}, "MemoryLimit", "a MemoryLimit of 4 KiB"),
    ({"MemoryLimit": GLib.Variant("t", 2**64 - 1)}, "MemoryLimit", "an absurd MemoryLimit"),
    ({"CpuQuota": GLib.Variant("d", -0.5)}, "CpuQuota", "a negative CpuQuota"),
    ({"CpuQuota": GLib.Variant("d", 0.001)}, "CpuQuota", "a CpuQuota too small to apply"),
)


def test_bad_limits(tap, bus, daemon):
    before = T.snapshot(daemon, bus)
    for options, word, why in BAD_LIMITS:
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                   V("ssasa{sv}", "bad-limits", "busybox", ["true"], options))
        tap.ok(r.error is not None and r.error.startswith(ERROR + "InvalidArgument") and
               word in r.message, "CreateContainer with %s is InvalidArgument naming it" % why, r)
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "the refused creations changed nothing", diff)


def run_tests(tap, daemon):
    bus = T.start_with_busybox(tap, daemon)
    test_bad_limits(tap, bus, daemon)
    test_memory(tap, bus)
    test_cpu_quota(tap, bus)
    options = {"MemoryLimit": GLib.Variant("t", 64 * MIB),
               "CpuQuota": GLib.Variant("d", 0.5),
               "PidsLimit": GLib.Variant("x", 12)}
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "limited", "busybox", ["sleep", "1000"], options))
    if not tap.ok(r.error is None, "a container with limits is created", r):
        tap.bail("no container")
    path = r.value[0]
    tap.ok(limits(bus, path) == (64 * MIB, 0.5, 12),
           "its MemoryLimit, CpuQuota and PidsLimit properties are what was asked",
           limits(bus, path))
    r = T.call(bus, path, T.CONTAINER, "Start")
    if not tap.ok(r.error is None, "it starts", r):
        tap.bail("not running")
    pid = T.get_property(bus, path, T.CONTAINER, "Pid")

    s, r = stats(bus, path)
    tap.ok(s.get("MemoryLimit") == 64 * MIB, "GetStats reads the memory limit from its cgroup",
           (s, r))
    tap.ok(1 <= s.get("Pids", 0) <= 12, "GetStats counts its tasks", s)
    tap.ok(pids_max(pid) == "12", "its cgroup's pids.max is the PidsLimit", pids_max(pid))

    # Forty background sleeps in a cgroup allowed 12 tasks: the forks fail.
    out, r = exec_output(bus, path, ["sh", "-c",
                                     "for i in $(seq 40); do sleep 500 >/dev/null 2>&1 & done; echo done"])
    s, _ = stats(bus, path)
    tap.ok("fork" in out or "Resource temporarily unavailable" in out,
           "forking past the pids limit fails inside the container", (out, r))
    tap.ok(s.get("Pids", 99) <= 12, "the task count stays within the limit", s)

    r = T.call(bus, path, T.CONTAINER, "Update",
               V("a{sv}", {"PidsLimit": GLib.Variant("x", 64),
                           "MemoryLimit": GLib.Variant("t", 128 * MIB),
                           "CpuQuota": GLib.Variant("d", 1.0)}))
    tap.ok(r.error is None, "Update changes the limits of the running container", r)
    tap.ok(pids_max(pid) == "64", "its cgroup's pids.max is the new limit", pids_max(pid))
    s, _ = stats(bus, path)
    tap.ok(s.get("MemoryLimit") == 128 * MIB, "GetStats reads the new memory limit", s)
    tap.ok(limits(bus, path) == (128 * MIB, 1.0, 64), "the properties say the new limits",
           limits(bus, path))
    before = s.get("Pids", 0)
    out, r = exec_output(bus, path, ["sh", "-c",
                                     "for i in $(seq 20); do sleep 500 >/dev/null 2>&1 & done; echo done"])
    s, _ = stats(bus, path)
    tap.ok("done" in out and "fork" not in out and s.get("Pids", 0) >= before + 20,
           "with the higher limit the same forks succeed", (out, before, s))

    for bad, why in [({"PidsLimit": GLib.Variant("s", "5")}, "a wrong type"),
                     ({"Swap": GLib.Variant("t", 1)}, "an unknown key")] + \
            [(options, bad_why) for options, _, bad_why in BAD_LIMITS]:
        r = T.call(bus, path, T.CONTAINER, "Update", V("a{sv}", bad))
        tap.ok(r.error is not None and r.error.startswith(ERROR + "InvalidArgument") and
               "limited" in r.message,
               "Update with %s is InvalidArgument naming the container" % why, r)
    tap.ok(pids_max(pid) == "64" and limits(bus, path) == (128 * MIB, 1.0, 64),
           "the bad Updates changed neither the cgroup nor the properties",
           (pids_max(pid), limits(bus, path)))

    r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))
    tap.ok(r.error is None, "the container is removed with its tasks", r)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


if __name__ == "__main__":
    main()
