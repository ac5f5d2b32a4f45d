#!/usr/bin/python3
# test-volume-objects.py: volumes as bus objects, with a real daemon and containers
# under runc and conmon on the private bus of tests/private-bus.sh (the script
# puts itself under it).
#
#   - CreateVolume publishes an object (InterfacesAdded) with its Name,
#     Labels, Anonymous, CreatedAt and a random 64-hex ID; GetVolume finds it
#     by name, ID and ID prefix; Remove takes it off (InterfacesRemoved); the
#     history holds "create" and "remove";
#   - the Containers property follows the containers that mount it
#     (PropertiesChanged), and a file one container writes into it is what a
#     second one reads;
#   - Remove while containers use it is InUse and changes nothing;
#     Remove(force) removes those containers first;
#   - a Mounts entry naming a volume that does not exist yet publishes it;
#     an anonymous volume (a Mounts entry without Source) is an object that
#     goes with Container.Remove(_, true), and stays without it; so are the
#     image's Volumes;
#   - PruneVolumes removes only unused volumes and returns their names;
#   - a daemon restart publishes every volume again with the same ID, also a
#     volume that is on disk without a record;
#   - bad input (names, duplicates, options, oversize labels, unknown
#     volumes) is a named error and changes nothing in the database, on disk
#     or on the bus; so is a volume past the volumes' share of the bus.
# The polkit side (denied callers, GetVolume open to all) is test-authz.py's.
# Needs root. Prints TAP.
import os
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import Gio, GLib  # noqa: E402

T.enter_private_bus(__file__)

VOLUME = T.NAME + ".Volume"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
IN_USE = T.ERROR + "InUse"
NAME_IN_USE = T.ERROR + "NameInUse"


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def vprop(bus, path, name):
    return T.get_property(bus, path, VOLUME, name)


class Signals:
    """InterfacesAdded/Removed of the object manager and PropertiesChanged
    of volumes, in arrival order, for waiting on events instead of time."""

    def __init__(self, bus):
        self.bus = bus
        self.added, self.removed, self.changed = [], [], []
        self.subs = [
            bus.signal_subscribe(T.NAME, OBJECT_MANAGER, "InterfacesAdded", T.ROOT, None,
                                 Gio.DBusSignalFlags.NONE, self.on_added),
            bus.signal_subscribe(T.NAME, OBJECT_MANAGER, "InterfacesRemoved", T.ROOT, None,
                                 Gio.DBusSignalFlags.NONE, self.on_removed),
            bus.signal_subscribe(T.NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                 None, VOLUME, Gio.DBusSignalFlags.NONE, self.on_changed),
        ]

    def on_added(self, conn, sender, path, iface, name, params):
        obj, ifaces = params.unpack()
        self.added.append((obj, ifaces))

    def on_removed(self, conn, sender, path, iface, name, params):
        obj, ifaces = params.unpack()
        self.removed.append((obj, ifaces))

    def on_changed(self, conn, sender, path, iface, name, params):
        _, changed, _ = params.unpack()
        self.changed.append((path, changed))

    def wait(self, predicate):
        """Dispatches signals until @predicate() holds; False if it does not
        within T.TIMEOUT (a bound for a broken daemon, not a timing)."""
        context = GLib.MainContext.default()
        timed_out = []
        source = GLib.timeout_source_new_seconds(T.TIMEOUT)
        source.set_callback(lambda *a: timed_out.append(True) or False)
        source.attach(context)
        while not predicate() and not timed_out:
            context.iteration(True)
        source.destroy()
        return predicate()

    def added_volume(self, path):
        return self.wait(lambda: any(p == path and VOLUME in i for p, i in self.added))

    def removed_object(self, path):
        return self.wait(lambda: any(p == path for p, _ in self.removed))

    def containers_became(self, path, containers):
        return self.wait(lambda: any(p == path and c.get("Containers") == sorted(containers)
                                     for p, c in self.changed))

    def close(self):
        for sub in self.subs:
            self.bus.signal_unsubscribe(sub)


def volume_paths(bus):
    return {p: i[VOLUME] for p, i in T.managed_objects(bus).items() if VOLUME in i}


def volumes_on_disk(daemon):
    root = os.path.join(daemon.storage, "volumes")
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def snapshot(daemon, bus):
    state = T.snapshot(daemon, bus)
    state["volumes"] = volumes_on_disk(daemon)
    return state


def events(bus, vid):
    r = T.call(bus, T.ROOT, T.MANAGER, "GetEvents", V("tt", 0, 0))
    return [ev for kind, oid, ev, _ in (r.value[0] if r.error is None else [])
            if kind == "volume" and oid == vid]


def create_volume(bus, name, labels=None):
    options = {"Labels": GLib.Variant("a{ss}", labels)} if labels is not None else {}
    return T.call(bus, T.ROOT, T.MANAGER, "CreateVolume", V("sa{sv}", name, options))


def mount(source, destination):
    entry = {"Type": GLib.Variant("s", "volume"), "Destination": GLib.Variant("s", destination)}
    if source is not None:
        entry["Source"] = GLib.Variant("s", source)
    return entry


def create_container(bus, name, argv, mounts):
    options = {"Mounts": GLib.Variant("aa{sv}", mounts)}
    return T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                  V("ssasa{sv}", name, "busybox", argv, options))


def run_to_end(bus, path):
    """Starts the container at @path and waits for its exit code."""
    r = T.call(bus, path, T.CONTAINER, "Start")
    if r.error is not None:
        return r
    return T.call(bus, path, T.CONTAINER, "Wait")


def test_create_and_remove(tap, bus, signals):
    r = create_volume(bus, "data1", {"purpose": "test", "owner": "me"})
    if not tap.ok(r.error is None, "CreateVolume makes a named volume", r):
        return
    path = r.value[0]
    vid = path.rsplit("/", 1)[-1]
    tap.ok(path.startswith(T.ROOT + "/volumes/") and len(vid) == 64 and
           all(c in "0123456789abcdef" for c in vid) and vprop(bus, path, "Id") == vid,
           "its object is at volumes/ID, ID 64 lowercase hex (also its Id)", path)
    tap.ok(signals.added_volume(path), "InterfacesAdded announces it")
    tap.ok(vprop(bus, path, "Name") == "data1" and vprop(bus, path, "Anonymous") is False and
           vprop(bus, path, "Labels") == {"purpose": "test", "owner": "me"} and
           vprop(bus, path, "Containers") == [] and vprop(bus, path, "CreatedAt") > 0,
           "Name, Anonymous, Labels, Containers and CreatedAt say what was made",
           T.managed_objects(bus).get(path))
    for key in ("data1", vid, vid[:12]):
        r = T.call(bus, T.ROOT, T.MANAGER, "GetVolume", V("s", key))
        tap.ok(r.error is None and r.value[0] == path, "GetVolume finds it by %s" % key, r)
    r = create_volume(bus, "")
    generated = r.value[0] if r.error is None else None
    name = vprop(bus, generated, "Name") if generated else None
    tap.ok(generated and len(name) == 64 and name != generated.rsplit("/", 1)[-1],
           "an empty name gets a generated 64-hex one, not the ID", (r, name))

    r = T.call(bus, path, VOLUME, "Remove", V("b", False))
    tap.ok(r.error is None, "Remove removes an unused volume", r)
    tap.ok(signals.removed_object(path), "InterfacesRemoved announces it")
    r = T.call(bus, T.ROOT, T.MANAGER, "GetVolume", V("s", "data1"))
    tap.ok(r.error == T.NOT_FOUND and "data1" in r.message, "GetVolume no longer finds it", r)
    tap.ok(events(bus, vid) == ["create", "remove"],
           "the history holds its create and remove (kind volume)", events(bus, vid))
    if generated:
        T.call(bus, generated, VOLUME, "Remove", V("b", False))


def test_shared_data(tap, daemon, bus, signals):
    """Two containers on one volume; InUse; Remove(force)."""
    r = create_volume(bus, "shared")
    if not tap.ok(r.error is None, "a volume for two containers is made", r):
        return
    vol = r.value[0]
    r = create_container(bus, "writer", ["sh", "-c", "echo hello > /data/f"],
                         [mount("shared", "/data")])
    writer = r.value[0] if r.error is None else None
    tap.ok(writer and signals.containers_became(vol, [writer]),
           "a container mounting it is in its Containers (PropertiesChanged)", r)
    r = run_to_end(bus, writer) if writer else r
    tap.ok(r.error is None and r.value == (0,), "the first container writes a file into it", r)
    data = os.path.join(daemon.storage, "volumes", "shared", "_data", "f")
    try:
        with open(data) as f:
            contents = f.read()
    except OSError as e:
        contents = repr(e)
    tap.ok(contents == "hello\n", "the file is in the volume's directory", contents)
    r = create_container(bus, "reader", ["sh", "-c", 'test "$(cat /v/f)" = hello'],
                         [mount("shared", "/v")])
    reader = r.value[0] if r.error is None else None
    tap.ok(reader and signals.containers_became(vol, [writer, reader]),
           "a second one joins Containers", vprop(bus, vol, "Containers"))
    r = run_to_end(bus, reader) if reader else r
    tap.ok(r.error is None and r.value == (0,), "the second container reads what the first wrote",
           r)

    before = snapshot(daemon, bus)
    r = T.call(bus, vol, VOLUME, "Remove", V("b", False))
    tap.ok(r.error == IN_USE and "shared" in r.message and
           ("writer" in r.message or "reader" in r.message),
           "Remove while containers use it is InUse naming the volume and a user", r)
    diff = T.snapshot_diff(before, snapshot(daemon, bus))
    tap.ok(diff == "", "the refused Remove changed nothing", diff)

    r = T.call(bus, vol, VOLUME, "Remove", V("b", True))
    tap.ok(r.error is None, "Remove(force) succeeds", r)
    tap.ok(signals.removed_object(writer) and signals.removed_object(reader) and
           signals.removed_object(vol), "it removed both containers, then the volume")
    tap.ok("shared" not in volumes_on_disk(daemon), "the volume's files are gone",
           volumes_on_disk(daemon))


def test_implicit_and_anonymous(tap, daemon, bus, signals):
    """Volumes made by Mounts entries."""
    r = create_container(bus, "implicit", ["sh", "-c", "echo x > /d/x"], [mount("made-by-mounts", "/d")])
    path = r.value[0] if r.error is None else None
    vol = None
    if tap.ok(path is not None, "a container naming a volume that does not exist is created", r):
        r = T.call(bus, T.ROOT, T.MANAGER, "GetVolume", V("s", "made-by-mounts"))
        vol = r.value[0] if r.error is None else None
        tap.ok(vol and signals.added_volume(vol) and vprop(bus, vol, "Anonymous") is False and
               vprop(bus, vol, "Containers") == [path],
               "the volume is published, named, with the container in Containers", r)
        r = run_to_end(bus, path)
        tap.ok(r.error is None and r.value == (0,) and
               "made-by-mounts" in volumes_on_disk(daemon),
               "its first start makes the volume on disk", (r, volumes_on_disk(daemon)))
        r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, False))
        tap.ok(r.error is None and signals.containers_became(vol, []),
               "removed without remove_volumes, the volume stays with no Containers", r)

    for remove_volumes in (True, False):
        r = create_container(bus, "anon", ["sh", "-c", "echo a > /anon/a"], [mount(None, "/anon")])
        if not tap.ok(r.error is None, "a container with an anonymous volume is created", r):
            continue
        path = r.value[0]
        mounts = T.get_property(bus, path, T.CONTAINER, "Mounts")
        name = mounts[0][1] if mounts else None
        r = T.call(bus, T.ROOT, T.MANAGER, "GetVolume", V("s", name or "-"))
        anon = r.value[0] if r.error is None else None
        tap.ok(anon and signals.added_volume(anon) and vprop(bus, anon, "Anonymous") is True and
               vprop(bus, anon, "Name") == name and vprop(bus, anon, "Containers") == [path],
               "its anonymous volume is an object: Anonymous, its container in Containers",
               (mounts, r))
        r = run_to_end(bus, path)
        tap.ok(r.error is None and r.value == (0,) and name in volumes_on_disk(daemon),
               "it runs and writes into the anonymous volume", r)
        r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, remove_volumes))
        tap.ok(r.error is None and signals.removed_object(path), "the container is removed", r)
        if remove_volumes:
            tap.ok(anon and signals.removed_object(anon) and name not in volumes_on_disk(daemon),
                   "Remove(_, true) took the anonymous volume: object and files",
                   volumes_on_disk(daemon))
        else:
            tap.ok(anon and signals.containers_became(anon, []) and
                   name in volumes_on_disk(daemon) and anon in volume_paths(bus),
                   "Remove(_, false) leaves the anonymous volume, unused")


def test_image_volumes(tap, daemon, bus, signals):
    """The image's Volumes (the OCI fixture declares /vol) are anonymous
    volume objects of the container."""
    fixtures = os.path.join(daemon.tmp, "fixtures")
    made = T.run(["bash", os.path.join(T.SRCDIR, "tests", "make-oci-fixtures.sh"), fixtures])
    if not tap.ok(made.returncode == 0, "the OCI fixtures are made", made.stdout):
        return
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath",
               V("ssa{sv}", os.path.join(fixtures, "layout"), "fixture", {}))
    tap.ok(r.error is None, "the fixture image (Volumes /vol) is imported", r)
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               V("ssasa{sv}", "with-image-volume", "fixture", ["true"], {}))
    if not tap.ok(r.error is None, "a container of it is created", r):
        return
    path = r.value[0]
    mounts = T.get_property(bus, path, T.CONTAINER, "Mounts")
    names = [m[1] for m in mounts if m[0] == "volume" and m[2] == "/vol"]
    r = T.call(bus, T.ROOT, T.MANAGER, "GetVolume", V("s", names[0] if names else "-"))
    vol = r.value[0] if r.error is None else None
    tap.ok(vol and signals.added_volume(vol) and vprop(bus, vol, "Anonymous") is True and
           vprop(bus, vol, "Containers") == [path],
           "the image's /vol is an anonymous volume object of the container", (mounts, r))
    r = T.call(bus, path, T.CONTAINER, "Remove", V("bb", False, True))
    tap.ok(r.error is None and vol and signals.removed_object(vol),
           "it goes with Container.Remove(_, true)", r)


def test_prune(tap, daemon, bus, signals):
    r = create_volume(bus, "kept")
    kept = r.value[0] if r.error is None else None
    r = create_container(bus, "user-of-kept", ["true"], [mount("kept", "/k")])
    user = r.value[0] if r.error is None else None
    r2 = create_volume(bus, "unused-a")
    r3 = create_volume(bus, "unused-b")
    if not tap.ok(kept and user and r2.error is None and r3.error is None,
                  "a used and two unused volumes are made", (r, r2, r3)):
        return
    unused_ids = [vprop(bus, r2.value[0], "Id"), vprop(bus, r3.value[0], "Id")]
    expected = sorted(v["Name"] for p, v in volume_paths(bus).items() if v["Containers"] == [])
    r = T.call(bus, T.ROOT, T.MANAGER, "PruneVolumes")
    tap.ok(r.error is None and sorted(r.value[0]) == expected and "unused-a" in r.value[0] and
           "unused-b" in r.value[0] and "kept" not in r.value[0],
           "PruneVolumes removes the unused ones and returns their names", (r, expected))
    tap.ok(signals.removed_object(r2.value[0]) and signals.removed_object(r3.value[0]),
           "their objects go (InterfacesRemoved)")
    names = [v["Name"] for v in volume_paths(bus).values()]
    tap.ok(names == ["kept"] and volumes_on_disk(daemon) == [],
           "only the used one is left (and nothing on disk: no container ran)",
           (names, volumes_on_disk(daemon)))
    tap.ok(all(events(bus, vid) == ["create", "remove", "prune"] for vid in unused_ids),
           "the history holds remove and prune for each", [events(bus, v) for v in unused_ids])
    r = T.call(bus, T.ROOT, T.MANAGER, "PruneVolumes")
    tap.ok(r.error is None and r.value[0] == [], "a second prune removes nothing", r)


def test_restart(tap, daemon, bus):
    before = {p: v["Name"] for p, v in volume_paths(bus).items()}
    r = create_container(bus, "after-restart", ["true"], [mount("kept", "/k")])
    tap.ok(r.error is None and before, "volumes and their users exist before the restart", r)
    tap.ok(daemon.stop() == 0, "the daemon stops")
    # a volume made on disk before volumes were recorded
    os.makedirs(os.path.join(daemon.storage, "volumes", "from-before", "_data"))
    daemon.start()
    bus = T.system_bus()
    after = {p: v["Name"] for p, v in volume_paths(bus).items()}
    legacy = [p for p, n in after.items() if n == "from-before"]
    tap.ok(all(after.get(p) == n for p, n in before.items()) and len(legacy) == 1,
           "after a restart every volume is back at the same path (same ID), and the one "
           "found on disk without a record is published", (before, after))
    kept = [p for p, n in after.items() if n == "kept"]
    tap.ok(kept and len(vprop(bus, kept[0], "Containers")) == 2,
           "Containers is rebuilt from the containers", kept)
    tap.ok(daemon.stop() == 0, "the daemon stops again")
    daemon.start()
    bus = T.system_bus()
    again = {p: v["Name"] for p, v in volume_paths(bus).items()}
    tap.ok(again == after, "a second restart keeps the IDs, the adopted volume's too",
           (after, again))
    return bus


def test_bad_input(tap, daemon, bus):
    before = snapshot(daemon, bus)
    cases = [
        ("../etc", {}, T.INVALID_ARGUMENT, "a name with a slash"),
        ("bad name", {}, T.INVALID_ARGUMENT, "a name with a space"),
        (".hidden", {}, T.INVALID_ARGUMENT, "a name starting with a dot"),
        ("x" * 200, {}, T.LIMIT_EXCEEDED, "a name of 200 characters"),
        ("kept", {}, NAME_IN_USE, "the name of an existing volume"),
        ("good", {"Colour": GLib.Variant("s", "red")}, T.INVALID_ARGUMENT, "an unknown option"),
        ("good", {"Labels": GLib.Variant("as", ["a"])}, T.INVALID_ARGUMENT,
         "Labels of the wrong type"),
        ("good", {"Labels": GLib.Variant("a{ss}", {"": "v"})}, T.INVALID_ARGUMENT,
         "a label with an empty key"),
        ("good", {"Labels": GLib.Variant("a{ss}", {"k%d" % i: "v" for i in range(300)})},
         T.LIMIT_EXCEEDED, "300 labels"),
        ("good", {"Labels": GLib.Variant("a{ss}", {"big": "v" * 40000, "bigger": "w" * 40000})},
         T.LIMIT_EXCEEDED, "labels of 80,000 bytes"),
    ]
    for name, options, error, why in cases:
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateVolume", V("sa{sv}", name, options))
        shown = name if len(name) < 60 else None
        tap.ok(r.error == error and (shown is None or shown in r.message),
               "CreateVolume with %s: %s naming the volume" % (why, error.rsplit(".", 1)[-1]), r)
    for key, error in (("no-such-volume", T.NOT_FOUND), ("", T.INVALID_ARGUMENT),
                       ("f" * 300, T.LIMIT_EXCEEDED)):
        r = T.call(bus, T.ROOT, T.MANAGER, "GetVolume", V("s", key))
        tap.ok(r.error == error, "GetVolume(%r...): %s" % (key[:20], error.rsplit(".", 1)[-1]), r)
    diff = T.snapshot_diff(before, snapshot(daemon, bus))
    tap.ok(diff == "", "the refused calls changed nothing (database, disk, bus)", diff)


def test_bus_share(tap, daemon, bus):
    """Volumes with large labels fill the volumes' share of the bus: the next
    one is LimitExceeded and changes nothing; a prune makes room again."""
    labels = {"pad": "x" * 60000}
    made, refused = 0, None
    for i in range(200):
        r = create_volume(bus, "big-%d" % i, labels)
        if r.error is not None:
            refused = r
            break
        made += 1
    tap.ok(refused is not None and refused.error == T.LIMIT_EXCEEDED and 50 < made < 200,
           "after %d volumes with 60 KB of labels the next is LimitExceeded" % made, refused)
    before = snapshot(daemon, bus)
    r = create_volume(bus, "one-more", labels)
    tap.ok(r.error == T.LIMIT_EXCEEDED and
           T.snapshot_diff(before, snapshot(daemon, bus)) == "",
           "a refused one changes nothing", r)
    # the rest of the room, with volumes without labels
    for i in range(1000):
        r = create_volume(bus, "fill-%d" % i)
        if r.error is not None:
            break
        made += 1
    tap.ok(r.error == T.LIMIT_EXCEEDED, "small ones fill what is left", r)
    before = snapshot(daemon, bus)
    r = create_container(bus, "mounts-past-share", ["true"], [mount("unmade", "/u")])
    tap.ok(r.error == T.LIMIT_EXCEEDED and T.snapshot_diff(before, snapshot(daemon, bus)) == "",
           "a container naming a new volume past the share is LimitExceeded, nothing made", r)
    if r.error is None:
        T.call(bus, r.value[0], T.CONTAINER, "Remove", V("bb", True, True))
    r = T.call(bus, T.ROOT, T.MANAGER, "PruneVolumes")
    tap.ok(r.error is None and len(r.value[0]) == made, "a prune removes them all", r)
    r = create_volume(bus, "small-again")
    tap.ok(r.error is None, "then there is room again", r)


def run_tests(tap, daemon):
    bus = T.start_with_busybox(tap, daemon)
    signals = Signals(bus)
    test_create_and_remove(tap, bus, signals)
    test_shared_data(tap, daemon, bus, signals)
    test_implicit_and_anonymous(tap, daemon, bus, signals)
    test_image_volumes(tap, daemon, bus, signals)
    test_prune(tap, daemon, bus, signals)
    test_bad_input(tap, daemon, bus)
    test_bus_share(tap, daemon, bus)
    signals.close()
    bus = test_restart(tap, daemon, bus)
    bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


if __name__ == "__main__":
    main()
