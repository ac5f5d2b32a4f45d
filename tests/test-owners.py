#!/usr/bin/python3
# test-owners.py: container owners and job starters, as real unprivileged
# users with a real polkitd on the private bus of tests/private-bus.sh.
#
# Two users are in the group that test-authz.py's rules file grants the
# everyday actions (not container.manage-others): "A" and "B".
#   - every container has Owner, the uid that created it, also after a
#     daemon restart;
#   - A acts on its own container but gets NotAuthorized naming manage-others
#     for every guarded Container method on root's, and B for A's, with
#     nothing changed; a rule granting B manage-others lets B act on both;
#   - A cannot make a container depend on root's (starting it would start
#     root's) without manage-others, and may on its own;
#   - PruneContainers by A removes A's exited containers, not root's;
#   - only a job's starter or root cancels it: B (with image.manage) cannot
#     cancel A's import;
#   - a caller cannot choose the Owner (the option is unknown);
#   - a uid other than root has at most JOBS_PER_UID jobs under way: one
#     more is LimitExceeded with nothing changed, and is accepted again once
#     one of them has ended.
# Needs root. Prints TAP.
import importlib.util
import json
import os
import select
import stat
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

# The users, group, rules and the client program of test-authz.py (its
# entering of the private bus is a no-op here: this process is already on it).
_spec = importlib.util.spec_from_file_location("authz", os.path.join(HERE, "test-authz.py"))
authz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(authz)

MANAGE_OTHERS = "org.example.containers1.container.manage-others"
# CTRD_JOBS_PER_UID of service/ctrd-job.h
JOBS_PER_UID = 4
JOB = authz.JOB
# The Container methods every local user may call: no owner rule applies.
OPEN_CONTAINER_METHODS = authz.UNGUARDED


class Extra:
    """The second member of the group (B) and a rules file granting B
    manage-others, both removed whatever happens."""

    def __init__(self, setup):
        self.setup = setup
        self.name = setup.allowed.replace("ctrdt-ok-", "ctrdt-b-")
        self.rule = authz.UserRule(setup.rules.replace(".rules", "-others.rules"), MANAGE_OTHERS,
                                   self.name)
        self.made = False

    def make(self):
        r = T.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                   "--shell", "/usr/sbin/nologin", "-G", self.setup.group, self.name])
        if r.returncode != 0:
            raise RuntimeError("useradd %s: %s" % (self.name, r.stdout))
        self.made = True

    def grant_manage_others(self):
        return self.rule.grant()

    def revoke_manage_others(self):
        return self.rule.revoke()

    def remove(self):
        self.rule.remove()
        if self.made:
            T.run(["userdel", self.name])


def owner(bus, path):
    return T.get_property(bus, path, T.CONTAINER, "Owner")


def user_create(user, name, argv):
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "(%s, 'busybox', %s, @a{sv} {})" % (json.dumps(name), json.dumps(argv)))
    return authz.object_path_of(r), r


def root_create(bus, name, argv, start=True):
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", (name, "busybox", argv, {})))
    if r.error is not None:
        return None, r
    path = r.value[0]
    if start:
        r = T.call(bus, path, T.CONTAINER, "Start")
    return path, r


def container_methods(bus, path):
    """{method: in-signature} of the guarded Container methods."""
    return authz.guarded_methods(bus, [path]).get(T.CONTAINER, {})


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    setup = authz.Setup(tap, daemon.tmp)
    extra = Extra(setup)
    users = []

    def body():
        setup.make()
        extra.make()
        run_tests(tap, daemon, setup, extra, users)

    def teardown():
        for user in users:
            user.close()
        extra.remove()
        setup.remove()

    T.run_test(tap, daemon, body, teardown)


def run_tests(tap, daemon, setup, extra, users):
    if not authz.polkit_ready(tap, setup):
        tap.bail("polkitd does not apply the test's policy and rules")
    known = T.wait_until(lambda: T.run(["pkaction", "--action-id", MANAGE_OTHERS]).returncode == 0,
                         timeout=30, interval=0.2)
    tap.ok(known, "polkitd knows %s (the policy file has it)" % MANAGE_OTHERS)
    tap.ok(authz.pkcheck_as(setup.allowed, MANAGE_OTHERS) != 0,
           "the group's rule does not grant manage-others")
    daemon.start()
    bus = T.system_bus()

    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    os.chmod(tar, 0o644)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath",
               GLib.Variant("(ssa{sv})", (tar, "busybox", {})))
    tap.ok(r.error is None, "root imports busybox", r)
    rootctr, r = root_create(bus, "rootctr", ["sleep", "1000"])
    tap.ok(rootctr is not None and r.error is None, "root creates and starts a container", r)
    rootctr = rootctr or "/"
    tap.ok(owner(bus, rootctr) == 0, "root's container has Owner 0", owner(bus, rootctr))

    a = authz.User(setup.allowed)
    users.append(a)
    b = authz.User(extra.name)
    users.append(b)
    tap.ok(len({0, a.uid, b.uid}) == 3, "A (%d) and B (%d) are two unprivileged users"
           % (a.uid, b.uid))

    actr, r = user_create(a, "actr", ["sleep", "1000"])
    tap.ok(actr is not None, "A creates a container", r)
    actr = actr or "/"
    tap.ok(owner(bus, actr) == a.uid, "its Owner is A's uid, from the bus", owner(bus, actr))
    r = a.call(actr, T.CONTAINER, "Start")
    tap.ok(r.error is None, "A starts its own container", r)
    r = a.call(actr, T.CONTAINER, "Inspect")
    tap.ok(r.error is None and "actr" in (r.value or ""), "A inspects its own container", r)
    inspected = json.loads(GLib.Variant.parse(None, r.value, None, None)[0]) if r.value else {}
    tap.ok(inspected.get("Owner") == a.uid, "Inspect shows the Owner", inspected.get("Owner"))
    r = a.call(actr, T.CONTAINER, "Exec", "asa{sv}hhh",
               "(['true'], @a{sv} {}, handle 0, handle 1, handle 2)",
               fds=["/dev/null", ("/dev/null", "w"), ("/dev/null", "w")])
    tap.ok(r.error is None and r.value == "(0,)", "A runs Exec in its own container", r)

    sink = os.path.join(daemon.tmp, "sink")
    open(sink, "w").close()
    os.chmod(sink, 0o666)
    ctx = dict(container=rootctr, tar=tar, sink=sink)
    test_others_refused(tap, daemon, bus, a, "A", "root's container", rootctr, ctx)
    ctx["container"] = actr
    test_others_refused(tap, daemon, bus, b, "B", "A's container", actr, ctx)
    tap.ok(os.path.getsize(sink) == 0, "nothing was exported into the sink")

    test_depends_on_others(tap, daemon, bus, a)
    test_bad_input(tap, daemon, bus, a)
    test_with_manage_others(tap, bus, extra, a, b, rootctr, actr)
    test_restart(tap, daemon, bus, a, b, rootctr, actr)
    test_prune(tap, bus, a)
    # A's client answers one call at a time: A cancels through a second
    # connection (same uid, another bus name).
    a2 = authz.User(setup.allowed)
    users.append(a2)
    test_jobs(tap, daemon, bus, a, a2, b)
    test_job_cap(tap, daemon, bus, setup, users)
    bus.close_sync(None)


def test_others_refused(tap, daemon, bus, user, who, what, path, ctx):
    """@user (with every everyday action) gets NotAuthorized naming
    manage-others for each guarded Container method on @path, and nothing
    changes."""
    table = authz.guarded_call_args(ctx)
    methods = container_methods(bus, path)
    tap.ok(len(methods) >= 10, "%d guarded Container methods found" % len(methods))
    state_before = (T.get_property(bus, path, T.CONTAINER, "State"),
                    T.get_property(bus, path, T.CONTAINER, "Pid"))
    before = T.snapshot(daemon, bus)
    refused = []
    for method in sorted(methods):
        sig = methods[method]
        args, fds = table.get("Container." + method, (authz.default_args(sig, ctx), []))
        r = user.call(path, T.CONTAINER, method, sig, args, fds=fds)
        if r.error == "org.freedesktop.DBus.Error.UnknownMethod":
            continue  # in the API XML, not (yet) in the daemon
        if r.error == T.NOT_AUTHORIZED and MANAGE_OTHERS in (r.message or ""):
            refused.append(method)
        else:
            tap.ok(False, "%s: %s on %s is NotAuthorized naming manage-others"
                   % (who, method, what), "args: %s\ngot: %r" % (args, r))
    tap.ok(len(refused) >= 10 and {"Stop", "Inspect", "Exec", "Remove"} <= set(refused),
           "%s: every guarded Container method on %s is NotAuthorized naming manage-others "
           "(%d: %s)" % (who, what, len(refused), ", ".join(refused)))
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "%s: nothing changed" % who, diff)
    state_after = (T.get_property(bus, path, T.CONTAINER, "State"),
                   T.get_property(bus, path, T.CONTAINER, "Pid"))
    tap.ok(state_after == state_before and state_after[0] == "running",
           "%s is still running with the same pid" % what, (state_before, state_after))


def create_depending(user, name, dependency):
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "(%s, 'busybox', ['true'], {'DependsOn': <[%s]>})"
                  % (json.dumps(name), json.dumps(dependency)))
    return authz.object_path_of(r), r


def test_depends_on_others(tap, daemon, bus, a):
    """Starting a container starts what it depends on: depending on another
    uid's container takes manage-others at create; one's own does not."""
    before = T.snapshot(daemon, bus)
    path, r = create_depending(a, "adeps", "rootctr")
    tap.ok(path is None and r.error == T.NOT_AUTHORIZED and MANAGE_OTHERS in (r.message or ""),
           "A cannot create a container that depends on root's: NotAuthorized naming "
           "manage-others", r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "",
           "the refused create changed nothing")
    path, r = create_depending(a, "adeps", "actr")
    tap.ok(path is not None, "A creates a container that depends on its own", r)
    if path is not None:
        r = a.call(path, T.CONTAINER, "Remove", "bb", "(true, false)")
        tap.ok(r.error is None, "A removes it", r)


def test_bad_input(tap, daemon, bus, user):
    before = T.snapshot(daemon, bus)
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "('claims-root', 'busybox', ['true'], @a{sv} {'Owner': <uint32 0>})")
    tap.ok(r.error == T.INVALID_ARGUMENT and "Owner" in (r.message or ""),
           "A cannot choose the Owner: the option is unknown (InvalidArgument)", r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "",
           "the refused CreateContainer changed nothing")


def test_with_manage_others(tap, bus, extra, a, b, rootctr, actr):
    tap.ok(extra.grant_manage_others(), "a rule grants B manage-others (pkcheck says yes)")
    r = b.call(actr, T.CONTAINER, "Inspect")
    tap.ok(r.error is None and "actr" in (r.value or ""), "with it, B inspects A's container", r)
    r = b.call(rootctr, T.CONTAINER, "Exec", "asa{sv}hhh",
               "(['true'], @a{sv} {}, handle 0, handle 1, handle 2)",
               fds=["/dev/null", ("/dev/null", "w"), ("/dev/null", "w")])
    tap.ok(r.error is None and r.value == "(0,)", "with it, B runs Exec in root's container", r)
    r = b.call(actr, T.CONTAINER, "Stop", "u", "(uint32 1,)")
    state = T.get_property(bus, actr, T.CONTAINER, "State")
    tap.ok(r.error is None and state in ("stopped", "exited"),
           "with it, B stops A's container", (r, state))
    r = a.call(rootctr, T.CONTAINER, "Inspect")
    tap.ok(r.error == T.NOT_AUTHORIZED and MANAGE_OTHERS in (r.message or ""),
           "A, without the rule, still cannot inspect root's container", r)
    tap.ok(owner(bus, actr) == a.uid, "acting on it did not change the Owner")
    tap.ok(extra.revoke_manage_others(), "the rule is removed (pkcheck says no again)")
    r = b.call(actr, T.CONTAINER, "Start")
    tap.ok(r.error == T.NOT_AUTHORIZED and MANAGE_OTHERS in (r.message or ""),
           "without it, B cannot start A's container again", r)


def test_restart(tap, daemon, bus, a, b, rootctr, actr):
    status = daemon.stop()
    tap.ok(status == 0, "containersd stops on SIGTERM", status)
    daemon.start()
    bus2 = T.system_bus()
    tap.ok(owner(bus2, actr) == a.uid and owner(bus2, rootctr) == 0,
           "after a daemon restart the Owners are the same",
           (owner(bus2, actr), owner(bus2, rootctr)))
    r = a.call(actr, T.CONTAINER, "Start")
    tap.ok(r.error is None, "after the restart A starts its own container", r)
    r = a.call(rootctr, T.CONTAINER, "Inspect")
    tap.ok(r.error == T.NOT_AUTHORIZED and MANAGE_OTHERS in (r.message or ""),
           "after the restart A still cannot inspect root's container", r)
    r = b.call(actr, T.CONTAINER, "Kill", "s", "('SIGKILL',)")
    tap.ok(r.error == T.NOT_AUTHORIZED and MANAGE_OTHERS in (r.message or ""),
           "after the restart B still cannot kill A's container", r)
    r = a.call(actr, T.CONTAINER, "Remove", "bb", "(true, false)")
    tap.ok(r.error is None and actr not in T.managed_objects(bus2),
           "A removes its own running container", r)
    bus2.close_sync(None)


def test_prune(tap, bus, a):
    rootdone, _ = root_create(bus, "rootdone", ["true"])
    r = T.call(bus, rootdone or "/", T.CONTAINER, "Wait")
    tap.ok(rootdone is not None and r.error is None, "root runs a container to its end", r)
    adone, r = user_create(a, "adone", ["true"])
    r2 = a.call(adone or "/", T.CONTAINER, "Start")
    r3 = a.call(adone or "/", T.CONTAINER, "Wait")
    tap.ok(adone is not None and r2.error is None and r3.value == "(0,)",
           "A runs a container to its end", (r, r2, r3))
    a_id = T.get_property(bus, adone or "/", T.CONTAINER, "Id")
    root_id = T.get_property(bus, rootdone or "/", T.CONTAINER, "Id")
    r = a.call(T.ROOT, T.MANAGER, "PruneContainers")
    objects = T.managed_objects(bus)
    tap.ok(r.error is None and a_id and a_id in (r.value or "") and adone not in objects,
           "A's PruneContainers removes A's exited container", r)
    tap.ok(root_id and root_id not in (r.value or "") and rootdone in objects,
           "and leaves root's exited container", r)


def start_import(user, fifo):
    """@user sends an ImportImage reading @fifo and does not wait for the
    answer (read it with finish_import)."""
    req = dict(path=T.ROOT, iface=T.MANAGER, method="ImportImage", sig="hsa{sv}",
               args="(handle 0, '', @a{sv} {})", fds=[fifo])
    user.proc.stdin.write(json.dumps(req) + "\n")
    user.proc.stdin.flush()


def finish_import(user):
    line = user.proc.stdout.readline()
    return json.loads(line) if line else {"error": "(client died)"}


def published_jobs(bus):
    return {p: i[JOB] for p, i in T.managed_objects(bus).items() if JOB in i}


def wait_for_job(bus, old):
    found = []

    def published():
        found[:] = [p for p in published_jobs(bus) if p not in old]
        return bool(found)

    T.wait_until(published, timeout=60)
    return found[0] if found else None


def test_jobs(tap, daemon, bus, a, a2, b):
    fifo = os.path.join(daemon.tmp, "import.fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    tap.ok(stat.S_ISFIFO(os.stat(fifo).st_mode), "a FIFO for A's imports")
    # Held open for writing (never written): A's open does not block, and the
    # import waits for data, so its Job stays published.
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        start_import(a, fifo)
        job = wait_for_job(bus, set())
        tap.ok(job is not None, "A's ImportImage publishes a Job")
        job = job or "/"
        started_by = T.get_property(bus, job, JOB, "StartedByUid")
        tap.ok(started_by == a.uid, "its StartedByUid is A's uid", started_by)
        before = T.snapshot(daemon, bus)
        r = b.call(job, JOB, "Cancel")
        tap.ok(r.error == T.NOT_AUTHORIZED and "only the uid that started it" in (r.message or ""),
               "B (granted image.manage) cannot cancel A's job: NotAuthorized", r)
        unchanged = T.snapshot_diff(before, T.snapshot(daemon, bus)) == ""
        tap.ok(job in published_jobs(bus) and unchanged, "the job goes on, nothing changed")
        r = a2.call(job, JOB, "Cancel")
        tap.ok(r.error is None, "A cancels its own job (from another connection of its uid)", r)
        answer = finish_import(a)
        tap.ok(answer.get("error") == T.ERROR + "Cancelled", "A's import fails with Cancelled",
               answer)

        start_import(a, fifo)
        job = wait_for_job(bus, set()) or "/"
        r = T.call(bus, job, JOB, "Cancel")
        tap.ok(r.error is None, "root cancels A's job", r)
        answer = finish_import(a)
        tap.ok(answer.get("error") == T.ERROR + "Cancelled",
               "that import fails with Cancelled too", answer)
        tap.ok(T.wait_until(lambda: not published_jobs(bus), timeout=60), "no job is left")
    finally:
        os.close(writer)


def test_job_cap(tap, daemon, bus, setup, users):
    fifo = os.path.join(daemon.tmp, "cap.fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    # One call in flight per client: JOBS_PER_UID + 1 connections of A's uid.
    clients = [authz.User(setup.allowed) for _ in range(JOBS_PER_UID + 1)]
    users.extend(clients)
    pending = []
    try:
        for client in clients[:JOBS_PER_UID]:
            start_import(client, fifo)
            pending.append(client)
        T.wait_until(lambda: len(published_jobs(bus)) >= JOBS_PER_UID, timeout=60)
        tap.ok(len(published_jobs(bus)) == JOBS_PER_UID,
               "A has %d imports under way" % JOBS_PER_UID, published_jobs(bus))
        before = T.snapshot(daemon, bus)
        extra = clients[JOBS_PER_UID]
        r = extra.call(T.ROOT, T.MANAGER, "ImportImage", "hsa{sv}", "(handle 0, '', @a{sv} {})",
                       fds=[fifo])
        tap.ok(r.error == T.ERROR + "LimitExceeded" and
               ("%d jobs" % JOBS_PER_UID) in (r.message or "") and
               "ImportImage" in (r.message or ""),
               "one more is LimitExceeded naming the method and the limit", r)
        tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "",
               "it changed nothing (no job, no image)")
        r = extra.call(T.ROOT, T.MANAGER, "ImportImageFromPath", "ssa{sv}",
                       "(%s, '', @a{sv} {})" % json.dumps(os.path.join(daemon.tmp, "busybox.tar")))
        tap.ok(r.error == T.ERROR + "LimitExceeded" and T.snapshot_diff(
            before, T.snapshot(daemon, bus)) == "",
               "so is an ImportImageFromPath of a readable archive, changing nothing", r)
        job = sorted(published_jobs(bus))[0]
        r = T.call(bus, job, JOB, "Cancel")
        tap.ok(r.error is None, "root cancels one of them", r)
        ended = select.select([c.proc.stdout for c in pending], [], [], T.TIMEOUT)[0]
        done = [c for c in pending if c.proc.stdout in ended]
        answer = finish_import(done[0]) if done else {}
        tap.ok(answer.get("error") == T.ERROR + "Cancelled", "that import ends Cancelled", answer)
        if done:
            pending.remove(done[0])
        T.wait_until(lambda: len(published_jobs(bus)) < JOBS_PER_UID, timeout=60)
        start_import(extra, fifo)
        pending.append(extra)
        tap.ok(T.wait_until(lambda: len(published_jobs(bus)) == JOBS_PER_UID, timeout=60),
               "then one more is accepted again")
    finally:
        for job in published_jobs(bus):
            T.call(bus, job, JOB, "Cancel")
        answers = [finish_import(c) for c in pending]
        os.close(writer)
    tap.ok(all(a.get("error") == T.ERROR + "Cancelled" for a in answers),
           "the rest end Cancelled", answers)


if __name__ == "__main__":
    main()
