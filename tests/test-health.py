#!/usr/bin/python3
# test-health.py: health checks with a real daemon and containers under runc
# and conmon on the private bus of tests/private-bus.sh (the script puts
# itself under it).
#
#   - bad health settings (empty HealthCmd, intervals, timeouts or retries
#     of 0, an unknown HealthOnFailure, settings without a command, the
#     wrong type) are InvalidArgument naming them, and nothing is created;
#     Update refuses them the same way and changes nothing;
#   - a passing check moves Health from starting to healthy on its own
#     timer, with a health_status event;
#   - RunHealthCheck answers at once with this check's verdict; HealthRetries
#     failures in a row make it unhealthy and a success healthy again;
#     Inspect shows the last results with their output;
#   - a check past its timeout is killed and fails; one that leaves an
#     orphan holding its output still ends at once;
#   - HealthOnFailure kill, stop and restart act once it is unhealthy;
#   - Update adds a health check to a running container;
#   - Health and its results survive a daemon restart, and checks go on;
#   - RunHealthCheck without a check or on a stopped container is
#     InvalidState.
# The checks read a file on a bind mount that the test creates and removes
# on the host, so that a check's verdict is the test's to choose.
# Needs root. Prints TAP.
import json
import os
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

ERROR = T.NAME + ".Error."
# A check that passes while the host's flag file exists.
FLAG_CHECK = ["sh", "-c", "echo checking; test -e /hc/ok"]


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def prop(bus, path, name):
    return T.get_property(bus, path, T.CONTAINER, name)


def health_options(cmd, **settings):
    options = {"HealthCmd": GLib.Variant("as", cmd)}
    for key, value in settings.items():
        options["Health" + key] = GLib.Variant("s" if key == "OnFailure" else "u", value)
    return options


class Flag:
    """A host directory bind-mounted at /hc: the check passes while its
    file ok exists."""

    def __init__(self, daemon, name):
        self.dir = os.path.join(daemon.tmp, "hc-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "ok")

    def mount(self):
        return [{"Type": GLib.Variant("s", "bind"), "Source": GLib.Variant("s", self.dir),
                 "Destination": GLib.Variant("s", "/hc")}]

    def set(self, passing):
        if passing:
            open(self.path, "w").close()
        elif os.path.exists(self.path):
            os.unlink(self.path)


def create(bus, name, argv, options):
    return T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                  V("ssasa{sv}", name, "busybox", argv, options))


def run_container(tap, bus, name, options, argv=("sleep", "1000")):
    """Creates and starts @name; its path, or None (one failed test)."""
    r = create(bus, name, list(argv), options)
    path = r.value[0] if r.error is None else None
    r = T.call(bus, path, T.CONTAINER, "Start") if path else r
    if not tap.ok(r.error is None, "%s is created with a health check and starts" % name, r):
        return None
    return path


def inspect_health(bus, path):
    r = T.call(bus, path, T.CONTAINER, "Inspect")
    if r.error is not None:
        return {}
    return json.loads(r.value[0])["State"].get("Health", {})


def is_error(r, name, *words):
    return (r.error is not None and r.error.startswith(ERROR + name) and
            all(w in r.message for w in words))


def test_bad_settings(tap, bus, daemon):
    before = T.snapshot(daemon, bus)
    cases = [
        (health_options([]), "HealthCmd", "an empty HealthCmd"),
        (health_options([""]), "HealthCmd", "a HealthCmd whose command is empty"),
        (health_options(["CMD-SHELL"]), "CMD-SHELL", "CMD-SHELL without a command line"),
        (health_options(["true"], Interval=0), "HealthInterval", "an interval of 0"),
        (health_options(["true"], Timeout=0), "HealthTimeout", "a timeout of 0"),
        (health_options(["true"], Retries=0), "HealthRetries", "retries of 0"),
        (health_options(["true"], Interval=10**9), "HealthInterval", "an absurd interval"),
        (health_options(["true"], OnFailure="explode"), "HealthOnFailure",
         "an unknown HealthOnFailure"),
        ({"HealthInterval": GLib.Variant("u", 5)}, "HealthCmd", "an interval without a command"),
        ({"HealthCmd": GLib.Variant("s", "true")}, "HealthCmd", "a HealthCmd of the wrong type"),
    ]
    for options, word, why in cases:
        r = create(bus, "bad", ["sleep", "1"], options)
        tap.ok(is_error(r, "InvalidArgument", word), "%s is InvalidArgument naming %s"
               % (why, word), r)
    r = create(bus, "bad", ["sleep", "1"], health_options(["x" * 20000]))
    tap.ok(is_error(r, "LimitExceeded", "HealthCmd"), "an oversized HealthCmd is LimitExceeded",
           r)
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "the refused creations changed nothing", diff)


def test_timer(tap, bus):
    path = run_container(tap, bus, "timed", health_options(["true"], Interval=1))
    if path is None:
        return
    # the first check comes an interval after the start
    tap.ok(prop(bus, path, "Health") in ("starting", "healthy"),
           "a started container with a check is starting", prop(bus, path, "Health"))
    done = T.wait_until(lambda: prop(bus, path, "Health") == "healthy")
    tap.ok(done, "its timer's check makes it healthy", prop(bus, path, "Health"))
    tap.ok(T.wait_until(lambda: T.count_events(bus, path, "health_status") >= 1),
           "a health_status event says so", T.count_events(bus, path, "health_status"))
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_run_now(tap, bus, daemon):
    flag = Flag(daemon, "now")
    flag.set(False)
    options = health_options(FLAG_CHECK, Interval=3600, Retries=2)
    options["Mounts"] = GLib.Variant("aa{sv}", flag.mount())
    path = run_container(tap, bus, "manual", options)
    if path is None:
        return None
    tap.ok(prop(bus, path, "Health") == "starting", "before any check it is starting",
           prop(bus, path, "Health"))
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    tap.ok(r.error is None and r.value == ("unhealthy",) and
           prop(bus, path, "Health") == "starting",
           "a failing check answers unhealthy; one failure of two leaves it starting",
           (r, prop(bus, path, "Health")))
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    tap.ok(r.error is None and r.value == ("unhealthy",) and
           prop(bus, path, "Health") == "unhealthy",
           "the second failure in a row makes it unhealthy", (r, prop(bus, path, "Health")))
    health = inspect_health(bus, path)
    log = health.get("Log", [])
    tap.ok(health.get("Status") == "unhealthy" and health.get("FailingStreak") == 2 and
           len(log) == 2 and log[-1]["ExitCode"] == 1 and "checking" in log[-1]["Output"] and
           log[-1]["Start"] != "",
           "Inspect shows the status, the failing streak and the results with their output",
           health)
    flag.set(True)
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    tap.ok(r.error is None and r.value == ("healthy",) and
           prop(bus, path, "Health") == "healthy",
           "a passing check makes it healthy again", (r, prop(bus, path, "Health")))
    for _ in range(5):
        T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    log = inspect_health(bus, path).get("Log", [])
    tap.ok(len(log) == 5 and log[-1]["ExitCode"] == 0,
           "only the last five results are kept", len(log))
    tap.ok(T.count_events(bus, path, "health_status") == 2,
           "each change of status is one health_status event",
           T.count_events(bus, path, "health_status"))
    return path


def test_timeouts(tap, bus):
    options = health_options(["sleep", "4242"], Interval=3600, Timeout=1, Retries=1)
    path = run_container(tap, bus, "slow", options)
    if path is None:
        return
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    log = inspect_health(bus, path).get("Log", [{}])
    tap.ok(r.error is None and r.value == ("unhealthy",) and
           "timed out" in log[-1].get("Output", ""),
           "a check past its timeout fails, and its result says it timed out", (r, log))
    tap.ok(T.wait_until(lambda: not T.pids_mentioning("sleep 4242")),
           "the timed-out check's process is gone", T.pids_mentioning("sleep 4242"))
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))

    options = health_options(["sh", "-c", "sleep 4343 & echo left"], Interval=3600,
                             Timeout=600)
    path = run_container(tap, bus, "orphaning", options)
    if path is None:
        return
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    tap.ok(r.error is None and r.value == ("healthy",),
           "a check that leaves an orphan holding its output ends with its own exit", r)
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_actions(tap, bus):
    cases = (("kill", "exited", 137), ("stop", "exited", None))
    for action, state, code in cases:
        options = health_options(["false"], Interval=1, Retries=1, OnFailure=action)
        path = run_container(tap, bus, "act-" + action, options)
        if path is None:
            continue
        done = T.wait_until(lambda: prop(bus, path, "State") == state, timeout=60)
        tap.ok(done and (code is None or prop(bus, path, "ExitCode") == code) and
               prop(bus, path, "Health") == "unhealthy",
               "HealthOnFailure %s: once unhealthy it is %s" % (action, state),
               (prop(bus, path, "State"), prop(bus, path, "ExitCode"), prop(bus, path, "Health")))
        T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_restart_action(tap, bus, daemon):
    flag = Flag(daemon, "restart")
    flag.set(False)
    options = health_options(FLAG_CHECK, Interval=1, Retries=1, OnFailure="restart")
    options["Mounts"] = GLib.Variant("aa{sv}", flag.mount())
    path = run_container(tap, bus, "act-restart", options)
    if path is None:
        return
    first = prop(bus, path, "Pid")
    restarted = T.wait_until(lambda: T.count_events(bus, path, "restart") >= 1 and
                             prop(bus, path, "State") == "running" and
                             prop(bus, path, "Pid") not in (0, first), timeout=60)
    tap.ok(restarted, "HealthOnFailure restart: once unhealthy it runs again as a new process",
           (T.count_events(bus, path, "restart"), prop(bus, path, "State"), prop(bus, path, "Pid")))
    flag.set(True)
    tap.ok(T.wait_until(lambda: prop(bus, path, "Health") == "healthy", timeout=60),
           "the new run starts its checks again and turns healthy", prop(bus, path, "Health"))
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_update(tap, bus, daemon):
    path = run_container(tap, bus, "plain", {})
    if path is None:
        return
    tap.ok(prop(bus, path, "Health") == "", "without a health check Health is empty",
           prop(bus, path, "Health"))
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    tap.ok(is_error(r, "InvalidState", "plain", "health check"),
           "RunHealthCheck without a check is InvalidState naming the container", r)
    before = T.snapshot(daemon, bus)
    for options, word in ((health_options(["true"], Retries=0), "HealthRetries"),
                          ({"HealthInterval": GLib.Variant("u", 2)}, "HealthCmd"),
                          (health_options([]), "HealthCmd")):
        r = T.call(bus, path, T.CONTAINER, "Update", V("a{sv}", options))
        tap.ok(is_error(r, "InvalidArgument", "plain", word),
               "Update with a bad %s is InvalidArgument naming it" % word, r)
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "" and prop(bus, path, "Health") == "",
           "the refused updates changed nothing", diff)
    r = T.call(bus, path, T.CONTAINER, "Update",
               V("a{sv}", health_options(["true"], Interval=1)))
    tap.ok(r.error is None and T.wait_until(lambda: prop(bus, path, "Health") == "healthy"),
           "Update gives a running container a health check that runs and passes",
           (r, prop(bus, path, "Health")))
    r = T.call(bus, path, T.CONTAINER, "Stop", V("u", 0))
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck") if r.error is None else r
    tap.ok(is_error(r, "InvalidState", "plain"),
           "RunHealthCheck on a stopped container is InvalidState", r)
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def test_daemon_restart(tap, daemon, path):
    daemon.stop()
    daemon.start()
    bus = T.system_bus()
    health = inspect_health(bus, path)
    tap.ok(prop(bus, path, "Health") == "healthy" and len(health.get("Log", [])) == 5,
           "after a daemon restart Health and its results are as they were",
           (prop(bus, path, "Health"), health))
    r = T.call(bus, path, T.CONTAINER, "RunHealthCheck")
    tap.ok(r.error is None and r.value == ("healthy",) and
           len(inspect_health(bus, path).get("Log", [])) == 5,
           "and its checks go on", r)
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))


def run_tests(tap, daemon):
    bus = T.start_with_busybox(tap, daemon)
    test_bad_settings(tap, bus, daemon)
    test_timer(tap, bus)
    manual = test_run_now(tap, bus, daemon)
    test_timeouts(tap, bus)
    test_actions(tap, bus)
    test_restart_action(tap, bus, daemon)
    test_update(tap, bus, daemon)
    if manual is not None:
        test_daemon_restart(tap, daemon, manual)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


if __name__ == "__main__":
    main()
