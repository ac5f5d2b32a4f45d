#!/usr/bin/python3
# test-events.py: Manager.GetEvents, the event history, with a real daemon
# and containers under runc on the private bus of tests/private-bus.sh (the
# script puts itself under it).
#
#   - a container's lifecycle (create, start, its exit, start again, stop,
#     remove) comes back from GetEvents in order, the same events the
#     ContainerEvent signals said, with their times;
#   - network create and remove are in the history too;
#   - since and until filter by time; until before since is InvalidArgument;
#   - the history outlives a daemon restart;
#   - [limits] events_max_count bounds it: a daemon keeping 3 keeps the newest 3;
#   - any local user may read it (no authorization).
# Needs root. Prints TAP.
import os
import pwd
import subprocess
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def get_events(bus, since=0, until=0):
    r = T.call(bus, T.ROOT, T.MANAGER, "GetEvents", V("tt", since, until))
    return (r.value[0] if r.error is None else None), r


class Signals:
    """ContainerEvent signals as (kind, id, event, time), in arrival order."""

    def __init__(self, bus):
        self.bus = bus
        self.seen = []
        self.sub = bus.signal_subscribe(T.NAME, T.MANAGER, "ContainerEvent", T.ROOT, None, 0,
                                        self.on_signal)

    def on_signal(self, conn, sender, path, iface, name, params):
        _, cid, event, time = params.unpack()
        self.seen.append(("container", cid, event, time))

    def drain(self):
        """Dispatches what has arrived: a reply read after the signals the
        daemon sent before it means they are queued already."""
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass
        return self.seen

    def close(self):
        self.bus.signal_unsubscribe(self.sub)


def lifecycle(tap, bus):
    """Runs one container's lifecycle; returns its ID."""
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "evented", "busybox", ["sh", "-c", "exit 3"], {}))
    if not tap.ok(r.error is None, "a container is created", r):
        return None
    path = r.value[0]
    cid = T.get_property(bus, path, T.CONTAINER, "Id")
    r = T.call(bus, path, T.CONTAINER, "Start")
    r2 = T.call(bus, path, T.CONTAINER, "Wait")
    tap.ok(r.error is None and r2.value == (3,), "it starts and exits with 3", (r, r2))
    r = T.call(bus, path, T.CONTAINER, "Rename", V("s", "evented2"))
    tap.ok(r.error is None, "it is renamed", r)
    r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, False))
    tap.ok(r.error is None, "it is removed", r)
    return cid


def run_tests(tap, daemon):
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    os.chmod(tar, 0o644)
    daemon.start()
    bus = T.system_bus()
    signals = Signals(bus)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "busybox", {}))
    if not tap.ok(r.error is None, "the busybox image is imported", r):
        tap.bail("no image")

    events, r = get_events(bus)
    tap.ok(events is not None and len(events) == 1 and events[0][0] == "image" and
           events[0][2] == "import",
           "a new daemon's history holds only the image import", r)
    cid = lifecycle(tap, bus)
    if cid is None:
        tap.bail("no lifecycle")
    events, r = get_events(bus)
    seen = signals.drain()
    mine = [e for e in (events or []) if e[1] == cid]
    names = [e[2] for e in mine]
    tap.ok(events is not None and mine == seen,
           "GetEvents returns the ContainerEvent signals of the lifecycle, in order, with "
           "their times", (mine, seen))
    tap.ok(names[:2] == ["create", "start"] and names[-2:] == ["rename", "remove"] and
           "died" in names, "the lifecycle reads create, start, ... died ..., rename, remove",
           names)
    times = [e[3] for e in mine]
    tap.ok(times == sorted(times) and times[0] > 0, "their times do not go back", times)

    r = T.call(bus, T.ROOT, T.MANAGER, "CreateNetwork", V("sa{sv}", "evnet", {}))
    if tap.ok(r.error is None, "a network is created", r):
        net_path = r.value[0]
        net_id = T.get_property(bus, net_path, T.NAME + ".Network", "Id")
        r = T.call(bus, net_path, T.NAME + ".Network", "Remove", V("b", False))
        events, _ = get_events(bus)
        tap.ok(r.error is None and [e[:3] for e in events if e[0] == "network"] ==
               [("network", net_id, "create"), ("network", net_id, "remove")],
               "network create and remove are in the history", events)

    # Filters: from the start event on; up to the create; nothing.
    start_time = mine[1][3]
    later, _ = get_events(bus, start_time, 0)
    tap.ok(later is not None and all(e[3] >= start_time for e in later) and
           [e for e in later if e[1] == cid][0][2] in ("start", "create"),
           "since drops what came before", later)
    early, _ = get_events(bus, 0, mine[0][3])
    tap.ok(early is not None and all(e[3] <= mine[0][3] for e in early) and
           ("container", cid, "create", mine[0][3]) in early, "until drops what came after",
           early)
    none, r = get_events(bus, 1, 1)
    tap.ok(none == [], "a window with no event is empty", r)
    _, r = get_events(bus, 200, 100)
    tap.ok(r.error == T.INVALID_ARGUMENT and "before" in (r.message or ""),
           "until before since: InvalidArgument", r)

    # Any local user reads it.
    nobody = pwd.getpwnam("nobody")
    script = ("import gi; gi.require_version('Gio','2.0'); from gi.repository import Gio, GLib; "
              "import os; b = Gio.DBusConnection.new_for_address_sync(os.environ["
              "'DBUS_SYSTEM_BUS_ADDRESS'], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | "
              "Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None); "
              "r = b.call_sync('%s', '%s', '%s', 'GetEvents', GLib.Variant('(tt)', (0, 0)), "
              "None, 0, 60000, None); print(len(r.unpack()[0]))" % (T.NAME, T.ROOT, T.MANAGER))
    out = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                          "--clear-groups", sys.executable, "-c", script],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    all_events, _ = get_events(bus)
    tap.ok(out.returncode == 0 and out.stdout.strip() == str(len(all_events)),
           "an unprivileged user reads the history", out.stdout)

    signals.close()
    before, _ = get_events(bus)
    tap.ok(daemon.stop() == 0, "the daemon stops")
    daemon.start()
    bus = T.system_bus()
    after, r = get_events(bus)
    tap.ok(after == before, "the history outlives a restart", (len(before), r))

    # A daemon that keeps 3 events.
    daemon.stop()
    with open(daemon.config, "a") as f:
        f.write("[limits]\nevents_max_count=3\n")
    daemon.start()
    bus = T.system_bus()
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "bounded", "busybox", ["true"], {}))
    path = r.value[0] if r.error is None else "/"
    T.call(bus, path, T.CONTAINER, "Start")
    T.call(bus, path, T.CONTAINER, "Wait")
    T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, False))
    kept, r = get_events(bus)
    tap.ok(kept is not None and len(kept) == 3 and kept[-1][2] == "remove" and
           kept[-1] == (before + kept)[-1],
           "with events_max_count=3 only the newest 3 are kept", kept)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


if __name__ == "__main__":
    main()
