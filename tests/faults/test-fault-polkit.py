#!/usr/bin/python3
# test-fault-polkit.py: polkitd stopped in the middle of a check, for real
# (SIGSTOP of the private bus's polkitd), with an unprivileged user of the
# group that test-authz.py's rules file grants the everyday actions:
#   - the user's guarded call, asked while polkitd answers nothing, ends in
#     NotAuthorized (the daemon's own bound on a check), not in the client's
#     timeout, and creates nothing;
#   - meanwhile root's guarded calls are served (root is never asked about)
#     and every local user's unguarded calls answer;
#   - once polkitd runs again the same user's call is allowed.
# polkitd is continued whatever happens. Needs root. Prints TAP.
import importlib.util
import json
import os
import select
import signal
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, TESTS)
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

# The users, group, rules and client program of test-authz.py.
_spec = importlib.util.spec_from_file_location("authz", os.path.join(TESTS, "test-authz.py"))
authz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(authz)

POLKIT_NAME = "org.freedesktop.PolicyKit1"


def polkitd_pid(bus):
    r = T.call(bus, "/org/freedesktop/DBus", "org.freedesktop.DBus",
               "GetConnectionUnixProcessID", GLib.Variant("(s)", (POLKIT_NAME,)),
               dest="org.freedesktop.DBus")
    return r.value[0] if r.error is None else None


def create_args(name):
    return "(%s, 'busybox', ['true'], @a{sv} {})" % json.dumps(name)


def answered(user):
    return bool(select.select([user.proc.stdout], [], [], 0)[0])


def remove(bus, name):
    r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", GLib.Variant("(s)", (name,)))
    if r.error is None:
        T.call(bus, r.value[0], T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, False)))


def run_tests(tap, daemon, setup, users, stopped):
    if not authz.polkit_ready(tap, setup):
        tap.bail("polkitd does not apply the test's policy and rules")
    bus = T.start_with_busybox(tap, daemon)
    pid = polkitd_pid(bus)
    tap.ok(pid is not None, "the private bus's polkitd has a pid (%s)" % pid)
    if pid is None:
        return
    user = authz.User(setup.allowed)
    users.append(user)
    other = authz.User(setup.denied)
    users.append(other)

    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}", create_args("before"))
    tap.ok(r.error is None, "with polkitd running, the user may create a container", r)
    remove(bus, "before")

    os.kill(pid, signal.SIGSTOP)
    stopped.append(pid)
    before = T.snapshot(daemon, bus)
    user.send(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}", create_args("stalled"))

    # Root's check never goes to polkitd: it is served while polkitd is
    # stopped (a check that went there would end NotAuthorized instead).
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("rootwhile", "busybox", ["sleep", "1000"], {})))
    root_path = r.value[0] if r.error is None else None
    tap.ok(root_path is not None, "root creates a container while polkitd is stopped", r)
    r = T.call(bus, root_path or "/", T.CONTAINER, "Start")
    state = T.get_property(bus, root_path, T.CONTAINER, "State") if root_path else None
    tap.ok(r.error is None and state == "running",
           "root starts it while polkitd is stopped", (r, state))
    r = other.call("/org/example/Containers1", "org.freedesktop.DBus.ObjectManager",
                   "GetManagedObjects")
    tap.ok(r.error is None and "rootwhile" in (r.value or ""),
           "another user's GetManagedObjects answers meanwhile", r.error)
    tap.ok(polkitd_pid(bus) == pid, "polkitd is still the same, stopped, process")
    T.Tap.diag("the user's check was %s when root's calls were done"
               % ("already answered" if answered(user) else "still pending"))

    r = user.receive()
    tap.ok(r.error == T.NOT_AUTHORIZED,
           "the user's call made while polkitd answers nothing ends in NotAuthorized", r)
    after = T.snapshot(daemon, bus)
    r2 = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", GLib.Variant("(s)", ("stalled",)))
    tap.ok(r2.error == T.NOT_FOUND, "the refused create made no container", r2)
    root_id = T.get_property(bus, root_path, T.CONTAINER, "Id") if root_path else None
    new_dirs = set(after["containers"]) - set(before["containers"])
    new_objects = set(after["objects"]) - set(before["objects"])
    tap.ok(new_dirs == {root_id} and new_objects == {root_path},
           "root's container is the only new directory and bus object", (new_dirs, new_objects))

    os.kill(pid, signal.SIGCONT)
    stopped.remove(pid)
    ok = T.wait_until(lambda: authz.pkcheck_as(setup.allowed, authz.ACTIONS[0]) == 0,
                      timeout=60, interval=0.2)
    tap.ok(ok, "polkitd answers again once continued")
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}", create_args("after"))
    tap.ok(r.error is None, "then the user's create is allowed again", r)
    tap.ok(daemon.alive(bus), "the daemon stayed on the bus throughout")
    remove(bus, "after")
    remove(bus, "rootwhile")
    bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    setup = authz.Setup(tap, daemon.tmp)
    users = []
    stopped = []

    def body():
        setup.make()
        run_tests(tap, daemon, setup, users, stopped)

    def teardown():
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        for user in users:
            user.close()
        setup.remove()

    T.run_test(tap, daemon, body, teardown)


main()
