#!/usr/bin/python3
# test-restart-policy.py: restart policies with a real daemon and containers
# under runc on the private bus of tests/private-bus.sh (the script puts
# itself under it).
#
#   - a bad RestartPolicy (unknown, a negative or absurd count, a count on a
#     policy that takes none, the wrong type, with AutoRemove) is
#     InvalidArgument naming it, and nothing is created;
#   - on-failure:2 starts a failing container again exactly twice
#     (RestartCount 2, two `restart` events, three `died`), and a clean exit
#     is not restarted;
#   - always restarts a container whose process was killed from outside,
#     and a Stop stays a stop;
#   - a policy restart whose start fails is tried again until it works;
#   - after a reboot, always and unless-stopped containers that ran start
#     again, an unless-stopped one that was stopped does not, and
#     RestartCount survives in the database.
# Needs root. Prints TAP.
import os
import signal
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

ERROR = T.NAME + ".Error."


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def prop(bus, path, name):
    return T.get_property(bus, path, T.CONTAINER, name)


def create(bus, name, argv, policy):
    options = {"RestartPolicy": GLib.Variant("s", policy)}
    return T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                  V("ssasa{sv}", name, "busybox", argv, options))


def test_bad_policies(tap, bus, daemon):
    before = T.snapshot(daemon, bus)
    for policy, why in (("sometimes", "an unknown policy"),
                        ("on-failure:-1", "a negative retry count"),
                        ("on-failure:99999999999", "an absurd retry count"),
                        ("on-failure:", "a missing retry count"),
                        ("always:3", "a count on a policy that takes none")):
        r = create(bus, "bad", ["true"], policy)
        tap.ok(r.error is not None and r.error.startswith(ERROR + "InvalidArgument") and
               policy in r.message, "RestartPolicy %s is InvalidArgument naming it" % why, r)
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "bad", "busybox", ["true"],
                 {"RestartPolicy": GLib.Variant("u", 2)}))
    tap.ok(r.error is not None and r.error.startswith(ERROR + "InvalidArgument") and
           "RestartPolicy" in r.message, "RestartPolicy of the wrong type is InvalidArgument", r)
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "bad", "busybox", ["true"],
                 {"RestartPolicy": GLib.Variant("s", "always"),
                  "AutoRemove": GLib.Variant("b", True)}))
    tap.ok(r.error is not None and r.error.startswith(ERROR + "InvalidArgument") and
           "AutoRemove" in r.message, "AutoRemove with a restart policy is InvalidArgument", r)
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "the refused creations changed nothing", diff)


def test_on_failure(tap, bus):
    r = create(bus, "flaky", ["sh", "-c", "exit 3"], "on-failure:2")
    if not tap.ok(r.error is None, "a failing container with on-failure:2 is created", r):
        return None
    path = r.value[0]
    tap.ok(prop(bus, path, "RestartPolicy") == "on-failure:2" and
           prop(bus, path, "RestartCount") == 0,
           "RestartPolicy and RestartCount say so",
           (prop(bus, path, "RestartPolicy"), prop(bus, path, "RestartCount")))
    r = T.call(bus, path, T.CONTAINER, "Start")
    tap.ok(r.error is None, "it starts", r)
    # The third exit is the last: the policy decides as the exit is cleaned
    # up, in the same step that publishes "exited".
    done = T.wait_until(lambda: T.count_events(bus, path, "died") == 3 and
                        prop(bus, path, "State") == "exited")
    tap.ok(done and prop(bus, path, "RestartCount") == 2 and
           T.count_events(bus, path, "restart") == 2 and prop(bus, path, "ExitCode") == 3,
           "it is started again exactly twice (RestartCount 2, two restart events)",
           (prop(bus, path, "State"), prop(bus, path, "RestartCount"),
            T.count_events(bus, path, "restart"), T.count_events(bus, path, "died")))

    r = create(bus, "clean", ["true"], "on-failure")
    clean = r.value[0] if r.error is None else None
    r = T.call(bus, clean, T.CONTAINER, "Start") if clean else r
    done = clean and T.wait_until(lambda: T.count_events(bus, clean, "died") == 1 and
                                  prop(bus, clean, "State") == "exited")
    tap.ok(r.error is None and done and prop(bus, clean, "RestartCount") == 0 and
           T.count_events(bus, clean, "restart") == 0,
           "a clean exit under on-failure is not restarted", r)
    if clean is None:
        return path
    r = T.call(bus, clean, T.CONTAINER, "Update",
               V("a{sv}", {"RestartPolicy": GLib.Variant("s", "unless-stopped")}))
    tap.ok(r.error is None and prop(bus, clean, "RestartPolicy") == "unless-stopped",
           "Update changes the restart policy", (r, prop(bus, clean, "RestartPolicy")))
    r = T.call(bus, clean, T.CONTAINER, "Update",
               V("a{sv}", {"RestartPolicy": GLib.Variant("s", "on-failure:x")}))
    tap.ok(r.error is not None and r.error.startswith(ERROR + "InvalidArgument") and
           "clean" in r.message and "on-failure:x" in r.message and
           prop(bus, clean, "RestartPolicy") == "unless-stopped",
           "a bad policy in Update is InvalidArgument naming both and changes nothing", r)
    r = T.call(bus, clean, T.CONTAINER, "Remove", V("bb", True, False))
    tap.ok(r.error is None, "it is removed", r)
    return path


def test_always(tap, bus):
    r = create(bus, "steady", ["sleep", "1000"], "always")
    path = r.value[0] if r.error is None else None
    r = T.call(bus, path, T.CONTAINER, "Start") if path else r
    if not tap.ok(r.error is None, "a container with always starts", r):
        return None
    first = prop(bus, path, "Pid")
    os.kill(first, signal.SIGKILL)
    back = T.wait_until(lambda: prop(bus, path, "RestartCount") == 1 and
                        prop(bus, path, "State") == "running")
    tap.ok(back and prop(bus, path, "Pid") not in (0, first) and
           T.count_events(bus, path, "restart") == 1,
           "killed from outside, it is running again with RestartCount 1",
           (prop(bus, path, "State"), prop(bus, path, "RestartCount"), prop(bus, path, "Pid")))
    r = T.call(bus, path, T.CONTAINER, "Stop", V("u", 0))
    tap.ok(r.error is None and prop(bus, path, "State") == "exited" and
           prop(bus, path, "RestartCount") == 1 and T.count_events(bus, path, "restart") == 1,
           "a Stop stays a stop", (r, prop(bus, path, "State")))
    return path


def test_reboot(tap, bus, daemon, boot_id_path, flaky, steady):
    r = create(bus, "server", ["sleep", "1000"], "unless-stopped")
    server = r.value[0] if r.error is None else None
    r = create(bus, "parked", ["sleep", "1000"], "unless-stopped")
    parked = r.value[0] if r.error is None else None
    if not tap.ok(server and parked, "two unless-stopped containers are created", r):
        return
    r1 = T.call(bus, server, T.CONTAINER, "Start")
    r2 = T.call(bus, parked, T.CONTAINER, "Start")
    r3 = T.call(bus, parked, T.CONTAINER, "Stop", V("u", 0))
    tap.ok(r1.error is None and r2.error is None and r3.error is None,
           "one runs, the other was started and stopped", (r1, r2, r3))

    tap.ok(daemon.stop() == 0, "the daemon stops (the container runs on)")
    T.simulate_reboot(daemon, boot_id_path)
    daemon.start()
    bus = T.system_bus()
    up = T.wait_until(lambda: prop(bus, server, "State") == "running" and
                      prop(bus, steady, "State") == "running")
    tap.ok(up, "after the reboot the unless-stopped one that ran and the always one run again",
           (prop(bus, server, "State"), prop(bus, steady, "State")))
    # Whether each starts at boot is decided as the containers are loaded,
    # before the bus name is taken: the stopped ones are not pending.
    tap.ok(prop(bus, parked, "State") == "exited" and prop(bus, flaky, "State") == "exited",
           "the stopped unless-stopped one and the on-failure one stay exited",
           (prop(bus, parked, "State"), prop(bus, flaky, "State")))
    tap.ok(prop(bus, flaky, "RestartCount") == 2,
           "RestartCount survives in the database", prop(bus, flaky, "RestartCount"))
    for path in (server, parked, steady, flaky):
        r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))
        tap.ok(r.error is None, "container %s is removed" % path.rsplit("/", 1)[-1][:12], r)


def test_failed_start_retried(tap, bus, daemon):
    """A policy restart whose start fails (its bind source is gone) is
    tried again, with the back-off, until the start works."""
    source = os.path.join(daemon.tmp, "retry-src")
    os.mkdir(source)
    open(os.path.join(source, "run"), "w").close()
    options = {"RestartPolicy": GLib.Variant("s", "always"),
               "Mounts": GLib.Variant("aa{sv}", [{
                   "Type": GLib.Variant("s", "bind"), "Source": GLib.Variant("s", source),
                   "Destination": GLib.Variant("s", "/src")}])}
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "retried", "busybox",
                 ["sh", "-c", "while [ -e /src/run ]; do sleep 0.1; done; exit 1"], options))
    path = r.value[0] if r.error is None else None
    r = T.call(bus, path, T.CONTAINER, "Start") if path else r
    if not tap.ok(r.error is None, "a container with always and a bind mount starts", r):
        return
    # its process exits once the file goes; the directory going too makes
    # every start fail until it is back
    os.rename(source, source + ".away")
    os.unlink(os.path.join(source + ".away", "run"))
    failing = T.wait_until(lambda: T.count_events(bus, path, "restart") >= 3 and
                           prop(bus, path, "State") == "exited", timeout=60)
    tap.ok(failing, "the policy keeps trying while its start fails",
           (T.count_events(bus, path, "restart"), prop(bus, path, "State")))
    os.rename(source + ".away", source)
    open(os.path.join(source, "run"), "w").close()
    tap.ok(T.wait_until(lambda: prop(bus, path, "State") == "running", timeout=60),
           "once the bind source is back, a retry starts it", prop(bus, path, "State"))
    r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", True, False))
    tap.ok(r.error is None, "it is removed", r)


def run_tests(tap, daemon, boot_id_path):
    bus = T.start_with_busybox(tap, daemon)
    test_bad_policies(tap, bus, daemon)
    flaky = test_on_failure(tap, bus)
    steady = test_always(tap, bus)
    test_failed_start_retried(tap, bus, daemon)
    if flaky and steady:
        test_reboot(tap, bus, daemon, boot_id_path, flaky, steady)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    boot_id_path = os.path.join(daemon.tmp, "boot_id")
    with open(boot_id_path, "w") as f:
        f.write(os.urandom(16).hex())
    os.environ["CTRD_TEST_BOOT_ID_FILE"] = boot_id_path
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon, boot_id_path))


if __name__ == "__main__":
    main()
