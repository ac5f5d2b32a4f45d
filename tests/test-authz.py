#!/usr/bin/python3
# test-authz.py: authorization as real unprivileged users, with a real polkitd
# on the private bus of tests/private-bus.sh (the script puts itself under it).
#
# Two system users are made for the run: one in a group that a polkit rules
# file (written into /etc/polkit-1/rules.d, removed afterwards) grants the
# four actions of polkit/org.example.containers1.policy, one without rights.
#   - the allowed user runs the whole lifecycle;
#   - the other gets NotAuthorized for every guarded method, found from the
#     API XML and the live introspection (a new method without a check fails
#     here), and nothing changes; it can still read properties, list objects,
#     look objects up and Wait;
#   - a caller that leaves while its check is pending leaves nothing behind;
#   - with polkitd gone, non-root callers get an answer (a denial) and root is
#     still served.
# Needs root. Prints TAP.
import json
import os
import secrets
import signal
import subprocess
import sys
import time

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib, Gio  # noqa: E402

T.enter_private_bus(__file__)

ACTIONS = [
    "org.example.containers1.container.manage",
    "org.example.containers1.container.create",
    "org.example.containers1.container.exec",
    "org.example.containers1.image.manage",
    "org.example.containers1.volume.manage",
]
# Methods every local user may call (API.md, "Authorization").
UNGUARDED = {"GetContainer", "GetImage", "GetNetwork", "GetVolume", "GetSizes", "GetStats", "Wait",
             "GetEvents"}
POLICY_DIR = "/usr/share/polkit-1/actions"
RULES_DIR = "/etc/polkit-1/rules.d"

# The program a test user runs: one bus connection, one call per line of
# JSON on stdin, one line of JSON per answer on stdout. Given with -c, so the
# users need no access to the source tree.
CLIENT = r'''
import json, os, sys, time
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
bus = Gio.DBusConnection.new_for_address_sync(
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"],
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
    None, None)
print(json.dumps({"unique": bus.get_unique_name(), "uid": os.getuid()}), flush=True)


def handle(req):
    params = None
    if req.get("sig"):
        params = GLib.Variant.parse(GLib.VariantType.new("(" + req["sig"] + ")"), req["args"],
                                    None, None)
    flags = Gio.DBusCallFlags.NONE
    if req.get("interactive"):
        flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    fd_list = Gio.UnixFDList.new()
    for spec in req.get("fds", []):
        path, mode = spec if isinstance(spec, list) else (spec, "r")
        fd = os.open(path, os.O_WRONLY if mode == "w" else os.O_RDONLY)
        fd_list.append(fd)
        os.close(fd)
    if req.get("leave_after"):
        # Send, wait until @leave_after exists (the check is then pending
        # in polkitd), leave the bus without reading the answer.
        bus.call_with_unix_fd_list("org.example.Containers1", req["path"], req["iface"],
                                   req["method"], params, None, flags, -1, fd_list, None, None)
        deadline = time.monotonic() + 60
        while not os.path.exists(req["leave_after"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        print(json.dumps({"left": os.path.exists(req["leave_after"])}), flush=True)
        os._exit(0)
    try:
        ret, _ = bus.call_with_unix_fd_list_sync("org.example.Containers1", req["path"],
                                                 req["iface"], req["method"], params, None,
                                                 flags, req.get("timeout", 120) * 1000, fd_list,
                                                 None)
        return {"value": ret.print_(True)}
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e) or "(local) %s" % e.message
        Gio.DBusError.strip_remote_error(e)
        return {"error": name, "message": e.message}


for line in sys.stdin:
    try:
        answer = handle(json.loads(line))
    except Exception as e:  # a bad request is an answer too, not the client's end
        answer = {"error": "(client error)", "message": repr(e)}
    print(json.dumps(answer), flush=True)
'''


class User:
    """A bus client running as a test user."""

    def __init__(self, name):
        self.name = name
        pw = T.run(["getent", "passwd", name]).stdout.split(":")
        self.uid, self.gid = int(pw[2]), int(pw[3])
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.gid, "--init-groups",
             "--", "/usr/bin/python3", "-c", CLIENT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True, cwd="/")
        hello = json.loads(self.proc.stdout.readline())
        self.unique = hello["unique"]
        assert hello["uid"] == self.uid, hello

    def call(self, path, iface, method, sig="", args="()", **extra):
        """Reply with .value (GVariant text of the reply) or .error."""
        self.send(path, iface, method, sig, args, **extra)
        return self.receive()

    def send(self, path, iface, method, sig="", args="()", **extra):
        """The call without waiting for its reply (receive() reads it)."""
        req = dict(path=path, iface=iface, method=method, sig=sig, args=args, **extra)
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        if not line:
            return T.Reply(error="(client died)", message="")
        answer = json.loads(line)
        if "error" in answer:
            return T.Reply(error=answer["error"], message=answer["message"])
        return T.Reply(value=answer.get("value"), message=answer)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def gv(value):
    """GVariant text of a Python value, for User.call."""
    return value.print_(True)


# ---------------------------------------------------------------- setup


class Setup:
    """Users, group, polkit rules and (if missing) the policy: made for this
    run under random names, so that copies of the test can run at once, and
    removed whatever happens."""

    def __init__(self, tap, tmp):
        tag = secrets.token_hex(3)
        self.group = "ctrdt-" + tag
        self.allowed = "ctrdt-ok-" + tag
        self.denied = "ctrdt-no-" + tag
        self.rules = os.path.join(RULES_DIR, "50-ctrdtest-%s.rules" % tag)
        self.policy = None
        self.made_users = []
        self.made_group = False
        # polkitd runs rules as its own user: it must be able to write here.
        self.mark_dir = os.path.join(tmp, "polkit-marks")
        os.mkdir(self.mark_dir)
        os.chmod(self.mark_dir, 0o777)
        self.slow_name = "slowcheck-" + tag
        self.slow_mark = os.path.join(self.mark_dir, "pending")
        self.tap = tap

    def make(self):
        r = T.run(["groupadd", "--system", self.group])
        if r.returncode != 0:
            raise RuntimeError("groupadd: " + r.stdout)
        self.made_group = True
        for user, extra in ((self.allowed, ["-G", self.group]), (self.denied, [])):
            r = T.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                       "--shell", "/usr/sbin/nologin"] + extra + [user])
            if r.returncode != 0:
                raise RuntimeError("useradd %s: %s" % (user, r.stdout))
            self.made_users.append(user)
        canonical = os.path.join(POLICY_DIR, "org.example.containers1.policy")
        if not os.path.exists(canonical):
            # Our own copy under a name of this run; polkit takes action ids
            # from every *.policy file.
            os.makedirs(POLICY_DIR, exist_ok=True)
            self.policy = os.path.join(POLICY_DIR, "org.example.containers1.ctrdtest-%s.policy"
                                       % self.group)
            with open(os.path.join(T.SRCDIR, "polkit", "org.example.containers1.policy")) as f:
                text = f.read()
            with open(self.policy, "w") as f:
                f.write(text)
        os.makedirs(RULES_DIR, exist_ok=True)
        with open(self.rules + ".tmp", "w") as f:
            f.write(RULES_TEMPLATE % dict(actions=json.dumps(ACTIONS), group=self.group,
                                          slow_name=self.slow_name, mark=self.slow_mark))
        os.rename(self.rules + ".tmp", self.rules)

    def remove(self):
        for path in (self.rules, self.rules + ".tmp", self.policy):
            if path and os.path.exists(path):
                os.unlink(path)
        for user in self.made_users:
            T.run(["userdel", user])
        if self.made_group:
            T.run(["groupdel", self.group])


# The allowed group gets every action; a CreateContainer for the "slow" name
# makes the check take seconds (the mark tells the test it is under way).
RULES_TEMPLATE = """// Written by containersd's tests/test-authz.py; removed when it ends.
polkit.addRule(function(action, subject) {
    var actions = %(actions)s;
    if (actions.indexOf(action.id) < 0 || !subject.isInGroup("%(group)s"))
        return polkit.Result.NOT_HANDLED;
    if (action.id == "org.example.containers1.container.create" &&
        action.lookup("container.name") == "%(slow_name)s")
        polkit.spawn(["/bin/sh", "-c", "touch %(mark)s && sleep 4"]);
    return polkit.Result.YES;
});
"""


class UserRule:
    """A rules file granting @user the one action @action, at @path; grant
    and revoke wait (bounded) until polkitd applies the change."""

    def __init__(self, path, action, user):
        self.path, self.action, self.user = path, action, user

    def grant(self):
        with open(self.path + ".tmp", "w") as f:
            f.write("polkit.addRule(function(action, subject) {\n"
                    "    if (action.id == %s && subject.user == %s)\n"
                    "        return polkit.Result.YES;\n"
                    "    return polkit.Result.NOT_HANDLED;\n"
                    "});\n" % (json.dumps(self.action), json.dumps(self.user)))
        os.rename(self.path + ".tmp", self.path)
        return T.wait_until(lambda: pkcheck_as(self.user, self.action) == 0,
                            timeout=30, interval=0.2)

    def revoke(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        return T.wait_until(lambda: pkcheck_as(self.user, self.action) != 0,
                            timeout=30, interval=0.2)

    def remove(self):
        for path in (self.path, self.path + ".tmp"):
            if os.path.exists(path):
                os.unlink(path)


def pkcheck_as(user, action):
    """pkcheck's verdict for a process of @user (its own)."""
    gid = T.run(["id", "-g", user]).stdout.strip()
    r = T.run(["setpriv", "--reuid=" + user, "--regid=" + gid, "--init-groups", "--", "sh", "-c",
               "exec pkcheck --action-id %s --process $$" % action], cwd="/")
    return r.returncode


def polkit_ready(tap, setup):
    """Waits (bounded) until polkitd knows the actions and reads our rules."""
    known = T.wait_until(lambda: T.run(["pkaction", "--action-id", ACTIONS[0]]).returncode == 0,
                         timeout=30, interval=0.2)
    tap.ok(known, "pkaction finds %s on the private bus" % ACTIONS[0],
           T.run(["pkaction", "--action-id", ACTIONS[0]]).stdout)
    ruled = T.wait_until(lambda: pkcheck_as(setup.allowed, ACTIONS[0]) == 0, timeout=30,
                         interval=0.2)
    tap.ok(ruled, "polkitd applies the test's rules file (pkcheck as the allowed user)")
    tap.ok(pkcheck_as(setup.denied, ACTIONS[0]) != 0, "pkcheck denies the other user")
    return known and ruled


# ---------------------------------------------------------------- the tests


def object_path_of(reply):
    # GVariant text "(objectpath '/org/...',)"
    return reply.value.split("'")[1] if reply.value else None


def guarded_methods(bus, paths):
    """{interface: {method: in-signature}} of the API XML and of the live
    objects at @paths, less the unguarded methods."""
    found = {}

    def add(node):
        for iface in node.interfaces:
            if not iface.name.startswith(T.NAME + "."):
                continue
            for m in iface.methods:
                if m.name in UNGUARDED:
                    continue
                sig = "".join(a.signature for a in m.in_args)
                found.setdefault(iface.name, {})[m.name] = sig

    with open(os.path.join(T.SRCDIR, "dbus", "org.example.Containers1.xml")) as f:
        add(Gio.DBusNodeInfo.new_for_xml(f.read()))
    for path in paths:
        reply = T.call(bus, path, "org.freedesktop.DBus.Introspectable", "Introspect")
        if reply.error is None:
            add(Gio.DBusNodeInfo.new_for_xml(reply.value[0]))
    return found


def default_args(sig, ctx):
    """Arguments of the right type for a method no table entry knows: they
    may well fail validation, which makes the test say so."""
    values = []
    for t in split_sig(sig):
        values.append({"s": "'x'", "b": "false", "u": "uint32 0", "i": "0", "t": "uint64 0",
                       "x": "int64 0", "d": "0.0", "o": "objectpath '%s'" % ctx["container"],
                       "as": "@as []", "a{sv}": "@a{sv} {}", "a{ss}": "@a{ss} {}",
                       "h": "handle 0"}.get(t, None) or "@%s []" % t)
    return "(" + ", ".join(values) + ("," if len(values) == 1 else "") + ")"


def split_sig(sig):
    """Complete types of a D-Bus signature."""
    out, i = [], 0
    while i < len(sig):
        j = i
        while sig[j] == "a":
            j += 1
        if sig[j] in "({":
            depth = 0
            while True:
                depth += sig[j] in "({"
                depth -= sig[j] in ")}"
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        out.append(sig[i:j])
        i = j
    return out


def guarded_call_args(ctx):
    """Valid arguments (GVariant text) and fds for each guarded method, by
    Interface.Method: valid, so that only the authorization check can refuse
    them. A method missing here gets default_args, and the test says if they
    do not pass validation."""
    tar, null, out = ctx["tar"], "/dev/null", ("/dev/null", "w")
    sink = (ctx["sink"], "w")
    return {
        "Manager.CreateContainer": ("('denied-ctr', 'busybox', ['true'], @a{sv} {})", []),
        "Manager.ImportImage": ("(handle 0, 'denied-img', @a{sv} {})", [tar]),
        "Manager.ImportImageFromPath": ("('%s', 'denied-img', @a{sv} {})" % tar, []),
        "Manager.PruneContainers": ("()", []),
        "Manager.PullImage": ("('127.0.0.1:9/denied:1', @a{sv} {})", []),
        "Manager.PruneImages": ("(@a{sv} {},)", []),
        "Manager.CreateNetwork": ("('denied-net', @a{sv} {})", []),
        "Network.Remove": ("(true,)", []),
        "Manager.CreateVolume": ("('denied-vol', @a{sv} {})", []),
        "Manager.PruneVolumes": ("()", []),
        "Volume.Remove": ("(true,)", []),
        "Container.Start": ("()", []),
        "Container.Stop": ("(uint32 1,)", []),
        "Container.Kill": ("('SIGKILL',)", []),
        "Container.Remove": ("(true, true)", []),
        "Container.Pause": ("()", []),
        "Container.Unpause": ("()", []),
        "Container.Restart": ("(uint32 1,)", []),
        "Container.Rename": ("('denied-new-name',)", []),
        "Container.Inspect": ("()", []),
        "Container.Export": ("(handle 0,)", [sink]),
        "Container.CopyFrom": ("('/etc/passwd', handle 0)", [sink]),
        "Container.CopyTo": ("('/tmp', handle 0, @a{sv} {})", [tar]),
        "Container.Exec": ("(['true'], @a{sv} {}, handle 0, handle 1, handle 2)",
                           [null, out, out]),
        "Container.ExecTerminal": ("(['true'], @a{sv} {})", []),
        "Container.Attach": ("(@a{sv} {},)", []),
        "ExecSession.Resize": ("(uint16 30, uint16 80)", []),
        "ExecSession.Kill": ("('SIGKILL',)", []),
        "Container.GetLogs": ("(@a{sv} {},)", []),
        "Container.ReadLogs": ("(uint64 0, uint32 10)", []),
        "Container.Commit": ("('denied-commit', @a{sv} {})", []),
        "Container.GetChanges": ("()", []),
        "Container.Verify": ("()", []),
        "Container.Rebase": ("('busybox', @a{sv} {})", []),
        "Container.Rollback": ("()", []),
        "Container.Update": ("(@a{sv} {'PidsLimit': <int64 50>},)", []),
        "Container.RunHealthCheck": ("()", []),
        "Container.Checkpoint": ("(@a{sv} {'LeaveRunning': <true>},)", []),
        "Container.Restore": ("(@a{sv} {},)", []),
        "Image.Remove": ("(true,)", []),
        "Image.Tag": ("('denied-tag',)", []),
        "Image.Untag": ("('busybox',)", []),
        "Image.Export": ("(handle 0, 'oci-archive')", [sink]),
        "Image.Push": ("('127.0.0.1:9/denied:1', @a{sv} {})", []),
        "Job.Cancel": ("()", []),
    }


def container_state(bus, path):
    return (T.get_property(bus, path, T.CONTAINER, "State"),
            T.get_property(bus, path, T.CONTAINER, "Pid"))


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    setup = Setup(tap, daemon.tmp)
    users = []

    def body():
        setup.make()
        run_tests(tap, daemon, setup, users)

    def teardown():
        for user in users:
            user.close()
        setup.remove()

    T.run_test(tap, daemon, body, teardown)


def run_tests(tap, daemon, setup, users):
    if not polkit_ready(tap, setup):
        tap.bail("polkitd does not apply the test's policy and rules")
    # A directory every create-granted caller may bind without host access.
    shared = os.path.join(daemon.tmp, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    with open(daemon.config, "w") as f:
        # the terminal session test_denied aims at waits for its client all along
        f.write("[security]\nAllowedBindSources=%s\n[limits]\nterminal_connect_timeout=3600\n"
                % shared)
    daemon.start()
    bus = T.system_bus()

    # Root's setup: an image, a running container, an exited one.
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    os.chmod(tar, 0o644)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath",
               GLib.Variant("(ssa{sv})", (tar, "busybox", {})))
    tap.ok(r.error is None, "root imports busybox", r)
    image_path = r.value[0] if r.error is None else "/"
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("victim", "busybox", ["sleep", "1000"], {})))
    victim = r.value[0] if r.error is None else "/"
    r2 = T.call(bus, victim, T.CONTAINER, "Start")
    tap.ok(r.error is None and r2.error is None, "root creates and starts a container", (r, r2))
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("done", "busybox", ["true"], {})))
    done = r.value[0] if r.error is None else "/"
    T.call(bus, done, T.CONTAINER, "Start")
    r = T.call(bus, done, T.CONTAINER, "Wait")
    tap.ok(r.error is None and r.value == (0,), "root runs a container to its end", r)
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateNetwork",
               GLib.Variant("(sa{sv})", ("authz-net", {})))
    tap.ok(r.error is None, "root creates a network", r)
    network = r.value[0] if r.error is None else "/"
    # a volume to aim at, and one more that a prune would take
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateVolume",
               GLib.Variant("(sa{sv})", ("authz-vol", {})))
    r2 = T.call(bus, T.ROOT, T.MANAGER, "CreateVolume",
                GLib.Variant("(sa{sv})", ("authz-unused", {})))
    tap.ok(r.error is None and r2.error is None, "root creates two volumes", (r, r2))
    volume = r.value[0] if r.error is None else "/"

    allowed = User(setup.allowed)
    users.append(allowed)
    denied = User(setup.denied)
    users.append(denied)
    tap.ok(allowed.uid != 0 and denied.uid != 0 and allowed.uid != denied.uid,
           "the clients run as two unprivileged users (%d, %d)" % (allowed.uid, denied.uid))

    test_allowed_lifecycle(tap, bus, allowed, denied, tar)
    test_host_access(tap, daemon, bus, allowed)
    test_bind_sources(tap, daemon, bus, allowed, denied, shared)
    # Where an export by the user without rights would write, if it could.
    sink = os.path.join(daemon.tmp, "sink")
    open(sink, "w").close()
    os.chmod(sink, 0o666)
    test_denied(tap, daemon, bus, denied, dict(container=victim, image=image_path, tar=tar,
                                               done=done, sink=sink, network=network,
                                               volume=volume))
    tap.ok(os.path.getsize(sink) == 0, "nothing was exported for the user without rights")
    test_left_while_pending(tap, daemon, bus, setup)
    test_no_polkitd(tap, daemon, bus, allowed, denied, victim)
    bus.close_sync(None)


# Connects to a terminal socket as the user running it, prints what comes
# back until the terminal closes (or why it could not connect).
TERMINAL_CLIENT = r'''
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:", e)
    sys.exit(0)
out = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    out += chunk
print(out.decode(errors="replace"))
'''


def terminal_client_as(user, socket_path):
    r = T.run(["setpriv", "--reuid=%d" % user.uid, "--regid=%d" % user.gid, "--init-groups",
               "--", "/usr/bin/python3", "-c", TERMINAL_CLIENT, socket_path], cwd="/",
              timeout=T.TIMEOUT)
    return r.stdout


def test_exec_terminal_socket(tap, bus, user, other, path):
    """ExecTerminal by an unprivileged caller: the socket is theirs alone."""
    u = "the allowed user"
    r = user.call(path, T.CONTAINER, "ExecTerminal", "asa{sv}",
                  "(['sh', '-c', 'echo terminal-of-$(id -u)'], @a{sv} {})")
    tap.ok(r.error is None, "%s starts a terminal session with ExecTerminal" % u, r)
    if r.error is not None:
        return
    socket_path, session = GLib.Variant.parse(GLib.VariantType.new("(so)"), r.value, None,
                                              None).unpack()
    st = os.lstat(socket_path)
    tap.ok(st.st_uid == user.uid and (st.st_mode & 0o777) == 0o600,
           "%s: the socket is owned by their uid with mode 0600" % u,
           (socket_path, st.st_uid, oct(st.st_mode)))
    out = terminal_client_as(other, socket_path)
    tap.ok(out.startswith("refused") and "Permission denied" in out,
           "the user without rights cannot connect to it", out)
    out = terminal_client_as(user, socket_path)
    tap.ok("terminal-of-0" in out, "%s connects and sees the command's output" % u, out)
    tap.ok(T.wait_until(lambda: session not in T.managed_objects(bus), timeout=60),
           "%s: the session object goes after the exit" % u)


def test_allowed_lifecycle(tap, bus, user, denied, tar):
    u = "the allowed user"
    r = user.call(T.ROOT, T.MANAGER, "ImportImageFromPath", "ssa{sv}",
                  "('%s', 'mine', @a{sv} {})" % tar)
    tap.ok(r.error is None, "%s imports an image with ImportImageFromPath" % u, r)
    r = user.call(T.ROOT, T.MANAGER, "ImportImage", "hsa{sv}",
                  "(handle 0, 'mine2', @a{sv} {'Format': <'rootfs-tar'>})", fds=[tar])
    tap.ok(r.error is None, "%s imports an image through a file descriptor" % u, r)
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "('theirs', 'mine', ['sleep', '1000'], @a{sv} {'Labels': <{'by': 'user'}>})")
    tap.ok(r.error is None, "%s creates a container" % u, r)
    path = object_path_of(r) or "/"
    r = user.call(path, T.CONTAINER, "Start")
    tap.ok(r.error is None and container_state(bus, path)[0] == "running",
           "%s starts it" % u, r)
    r = user.call(path, T.CONTAINER, "Inspect")
    tap.ok(r.error is None and "theirs" in r.value, "%s inspects it (the exec action)" % u, r)
    r = user.call(path, T.CONTAINER, "Exec", "asa{sv}hhh",
                  "(['true'], @a{sv} {}, handle 0, handle 1, handle 2)",
                  fds=["/dev/null", ("/dev/null", "w"), ("/dev/null", "w")])
    tap.ok(r.error is None and r.value == "(0,)", "%s runs a command in it with Exec" % u, r)
    test_exec_terminal_socket(tap, bus, user, denied, path)
    r = user.call(path, T.CONTAINER, "Kill", "s", "('SIGKILL',)")
    tap.ok(r.error is None, "%s kills it" % u, r)
    r = user.call(path, T.CONTAINER, "Wait")
    tap.ok(r.error is None and r.value == "(137,)", "%s waits for it: 128+SIGKILL" % u, r)
    r = user.call(path, T.CONTAINER, "Start")
    tap.ok(r.error is None and container_state(bus, path)[0] == "running",
           "%s starts it again" % u, r)
    r = user.call(path, T.CONTAINER, "Stop", "u", "(uint32 1,)")
    tap.ok(r.error is None and container_state(bus, path)[0] in ("stopped", "exited"),
           "%s stops it" % u, (r, container_state(bus, path)))
    r = user.call(path, T.CONTAINER, "Remove", "bb", "(false, false)")
    objects = T.managed_objects(bus)
    tap.ok(r.error is None and path not in objects, "%s removes it" % u, r)
    r = user.call(T.ROOT, T.MANAGER, "CreateVolume", "sa{sv}", "('theirs-vol', @a{sv} {})")
    tap.ok(r.error is None, "%s creates a volume (volume.manage)" % u, r)
    vol = object_path_of(r) or "/"
    r = user.call(vol, T.NAME + ".Volume", "Remove", "b", "(false,)")
    tap.ok(r.error is None and vol not in T.managed_objects(bus), "%s removes it" % u, r)


def test_host_access(tap, daemon, bus, user):
    """container.create without host-access: no container in the host's
    network namespace; network.manage is an action of its own too."""
    u = "the allowed user"
    before = T.snapshot(daemon, bus)
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "('hostnet', 'busybox', ['true'], @a{sv} {'Network': <'host'>})")
    tap.ok(r.error == T.NOT_AUTHORIZED and "host-access" in (r.message or ""),
           "%s: Network=host needs container.host-access: NotAuthorized" % u, r)
    r = user.call(T.ROOT, T.MANAGER, "CreateNetwork", "sa{sv}", "('theirs-net', @a{sv} {})")
    tap.ok(r.error == T.NOT_AUTHORIZED and "network.manage" in (r.message or ""),
           "%s: CreateNetwork needs network.manage: NotAuthorized" % u, r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "", "%s: nothing changed" % u)


def bind_options(source, destination="/h"):
    return ("@a{sv} {'Mounts': <[{'Type': <'bind'>, 'Source': <%s>, 'Destination': <'%s'>}]>}"
            % (GLib.Variant("s", source).print_(False), destination))


def test_bind_sources(tap, daemon, bus, user, denied, shared):
    """Binds of host paths need host-access; the ones AllowedBindSources
    lets through are nosuid,nodev; the answers reveal nothing before the
    caller is authorized."""
    u = "the allowed user"
    before = T.snapshot(daemon, bus)
    home = os.path.join(daemon.tmp, "home-of-user")
    os.mkdir(home)
    os.chown(home, user.uid, user.gid)
    for source in ("/etc", "/root", "/var/lib", home, "/home"):
        r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                      "('bind-host', 'busybox', ['true'], %s)" % bind_options(source))
        tap.ok(r.error == T.NOT_AUTHORIZED and "host-access" in (r.message or ""),
               "%s: a bind of %s needs container.host-access: NotAuthorized" % (u, source), r)
    # refused outright, whoever asks: by their words, before polkit
    for source in ("/", "/run", "/run/dbus", "/proc/1", "/sys/kernel", daemon.storage,
                   daemon.tmp):
        r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                      "('bind-host', 'busybox', ['true'], %s)" % bind_options(source))
        tap.ok(r.error == T.INVALID_ARGUMENT and source in (r.message or ""),
               "%s: a bind of %s is refused outright: InvalidArgument naming it" % (u, source), r)
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                   GLib.Variant("(ssasa{sv})", ("bind-host", "busybox", ["true"], {
                       "Mounts": GLib.Variant("aa{sv}", [{
                           "Type": GLib.Variant("s", "bind"), "Source": GLib.Variant("s", source),
                           "Destination": GLib.Variant("s", "/h")}])})))
        tap.ok(r.error == T.INVALID_ARGUMENT, "root: a bind of %s is refused too" % source, r)
    # no existence oracle: the same answer for a path that exists and one that does not
    for who, client in ((u, user), ("the user without rights", denied)):
        answers = []
        for source in ("/root", "/root/ctrd-no-such-file-%s" % secrets.token_hex(4)):
            r = client.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                            "('bind-oracle', 'busybox', ['true'], %s)" % bind_options(source))
            answers.append((r.error, (r.message or "")))
        tap.ok(answers[0][0] == T.NOT_AUTHORIZED and answers[0] == answers[1],
               "%s: the same NotAuthorized for an existing and a missing source" % who, answers)
    # suid or dev on a bind needs host access even inside AllowedBindSources
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "('bind-suid', 'busybox', ['true'], @a{sv} {'Mounts': <[{'Type': <'bind'>,"
                  " 'Source': <'%s'>, 'Destination': <'/h'>, 'Options': <['suid']>}]>})" % shared)
    tap.ok(r.error == T.NOT_AUTHORIZED and "host-access" in (r.message or ""),
           "%s: a bind with suid needs container.host-access" % u, r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "", "%s: nothing changed" % u)

    # inside AllowedBindSources: allowed, and mounted nosuid,nodev; a setuid
    # copy of busybox made by the container's root gives the user nothing
    script = ("grep ' /h ' /proc/self/mountinfo > /h/mountinfo; cp /bin/busybox /h/busybox;"
              " chown 0:0 /h/busybox; chmod 4755 /h/busybox")
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "('bind-shared', 'busybox', ['sh', '-c', %s], %s)"
                  % (GLib.Variant("s", script).print_(False), bind_options(shared)))
    tap.ok(r.error is None, "%s: a bind inside AllowedBindSources needs no host access" % u, r)
    path = object_path_of(r) if r.error is None else None
    if path:
        r = user.call(path, T.CONTAINER, "Start")
        r2 = user.call(path, T.CONTAINER, "Wait", timeout=120)
        tap.ok(r.error is None and r2.error is None, "%s: it starts and ends" % u, (r, r2))
        try:
            with open(os.path.join(shared, "mountinfo")) as f:
                line = f.read()
        except OSError as e:
            line = repr(e)
        opts = line.split()[5].split(",") if len(line.split()) > 5 else []
        tap.ok("nosuid" in opts and "nodev" in opts,
               "%s: the bind is nosuid,nodev inside the container" % u, line)
        bb = os.path.join(shared, "busybox")
        tap.ok(os.path.exists(bb) and os.stat(bb).st_mode & 0o4000,
               "the container's root made a setuid-root busybox in the bind", bb)
        # busybox takes the applet from its first argument when called busybox.
        # Debian's busybox drops a setuid bit itself for applets like id, so
        # this passes with or without nosuid: the mountinfo check above is
        # what shows nosuid; this shows the escape as reported stays closed.
        script2 = "/h/busybox id -u > /h/euid"
        r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
                   GLib.Variant("(ssasa{sv})", ("bind-suid-run", "busybox",
                                                ["sh", "-c", script2], {
                       "User": GLib.Variant("s", "%d" % user.uid),
                       "Mounts": GLib.Variant("aa{sv}", [{
                           "Type": GLib.Variant("s", "bind"), "Source": GLib.Variant("s", shared),
                           "Destination": GLib.Variant("s", "/h")}])})))
        path2 = r.value[0] if r.error is None else None
        if path2:
            T.call(bus, path2, T.CONTAINER, "Start")
            T.call(bus, path2, T.CONTAINER, "Wait")
        try:
            with open(os.path.join(shared, "euid")) as f:
                euid = f.read().strip()
        except OSError as e:
            euid = repr(e)
        tap.ok(euid == str(user.uid),
               "the setuid busybox run as the user in the container keeps the user's euid",
               euid)
        for p in (path2, path):
            if p:
                T.call(bus, p, T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, True)))

    # the symlink swap between create and Start mounts nothing
    victim = os.path.join(shared, "swap")
    os.mkdir(victim)
    os.chmod(victim, 0o777)
    r = user.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                  "('bind-swap', 'busybox', ['ls', '/h/etc/shadow'], %s)" % bind_options(victim))
    tap.ok(r.error is None, "%s: binds a directory in AllowedBindSources" % u, r)
    path = object_path_of(r) if r.error is None else None
    if path:
        os.rmdir(victim)
        os.symlink("/", victim)
        r = user.call(path, T.CONTAINER, "Start")
        tap.ok(r.error is not None and "symbolic link" in (r.message or ""),
               "%s: swapped for a symlink to / before Start, it does not start" % u, r)
        tap.ok(T.mounts_under(daemon.run_root) == [] or
               not any("binds" in m for m in T.mounts_under(daemon.run_root)),
               "nothing is left mounted for it", T.mounts_under(daemon.run_root))
        T.call(bus, path, T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, True)))
        os.unlink(victim)


JOB = T.NAME + ".Job"
EXEC_SESSION = T.NAME + ".ExecSession"


def start_exec_session(bus, container):
    """Root starts a terminal session in @container that no one connects to,
    so that an ExecSession object stays published. Its path or None."""
    r = T.call(bus, container, T.CONTAINER, "ExecTerminal",
               GLib.Variant("(asa{sv})", (["sleep", "100002"], {})))
    return r.value[1] if r.error is None else None


def end_exec_session(bus, path):
    if path is not None:
        T.call(bus, path, EXEC_SESSION, "Kill", GLib.Variant("(s)", ("SIGKILL",)))
        T.wait_until(lambda: path not in T.managed_objects(bus), timeout=60)


def start_job(bus):
    """Root starts an import from a pipe it does not write to yet, so that a
    Job object stays published. Returns (job path or None, pipe write end)."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    fd_list = Gio.UnixFDList.new()
    fd_list.append(read_end)
    os.close(read_end)
    bus.call_with_unix_fd_list(T.NAME, T.ROOT, T.MANAGER, "ImportImage",
                               GLib.Variant("(hsa{sv})", (0, "", {})), None,
                               Gio.DBusCallFlags.NONE, -1, fd_list, None, None)
    found = []

    def job_published():
        found[:] = [p for p, ifaces in T.managed_objects(bus).items() if JOB in ifaces]
        return bool(found)

    T.wait_until(job_published, timeout=10)
    return (found[0] if found else None), write_end


def end_job(bus, write_end):
    """The import reads EOF and fails: the job goes."""
    os.close(write_end)
    T.wait_until(lambda: not any(JOB in i for i in T.managed_objects(bus).values()), timeout=60)


def test_denied(tap, daemon, bus, user, ctx):
    u = "the user without rights"
    table = guarded_call_args(ctx)
    job, job_pipe = start_job(bus)
    session = start_exec_session(bus, ctx["container"])
    tap.ok(session is not None, "root starts a terminal session (ExecTerminal) to aim at")
    guarded = guarded_methods(bus, [T.ROOT, ctx["container"], ctx["image"], ctx["network"],
                                    ctx["volume"]] +
                              ([job] if job else []) + ([session] if session else []))
    targets = {T.MANAGER: T.ROOT, T.CONTAINER: ctx["container"], T.IMAGE: ctx["image"], JOB: job,
               EXEC_SESSION: session,
               T.NAME + ".Network": ctx["network"], T.NAME + ".Volume": ctx["volume"]}
    n = sum(len(m) for m in guarded.values())
    tap.ok(n >= 7, "%d guarded methods found in the API XML and the live objects" % n)

    victim_before = container_state(bus, ctx["container"])
    tap.ok(victim_before[0] == "running", "the container the calls aim at runs", victim_before)
    before = T.snapshot(daemon, bus)
    for iface in sorted(guarded):
        for method in sorted(guarded[iface]):
            sig = guarded[iface][method]
            args, fds = table.get("%s.%s" % (iface.split(".")[-1], method),
                                  (default_args(sig, ctx), []))
            path = targets.get(iface)
            if path is None and iface == JOB:
                tap.skip("%s: Job.%s" % (u, method), "the daemon publishes no Job for an import")
                continue
            if path is None:
                tap.ok(False, "%s.%s: no object to call it on" % (iface, method))
                continue
            r = user.call(path, iface, method, sig, args, fds=fds)
            after = T.snapshot(daemon, bus)
            diff = T.snapshot_diff(before, after)
            if r.error == "org.freedesktop.DBus.Error.UnknownMethod" and diff == "":
                # In the API XML, not yet in the daemon: nothing to guard.
                tap.skip("%s: %s.%s" % (u, iface.split(".")[-1], method),
                         "not implemented by this daemon")
                continue
            # A job or terminal session is its starter's (or root's) to
            # drive: no action to name.
            named = ("only the uid that started it" if iface in (JOB, EXEC_SESSION) else
                     "org.example.containers1.")
            tap.ok(r.error == T.NOT_AUTHORIZED and named in (r.message or ""),
                   "%s: %s.%s is NotAuthorized, naming the action" % (u, iface.split(".")[-1], method),
                   "args: %s\ngot: %r" % (args, r))
            tap.ok(diff == "", "%s: %s changed nothing" % (u, method), diff)
    tap.ok(container_state(bus, ctx["container"]) == victim_before,
           "the running container is untouched (same state and pid)")
    end_job(bus, job_pipe)
    end_exec_session(bus, session)
    before = T.snapshot(daemon, bus)

    # The interactive flag with no agent on the bus: still a denial, at once.
    r = user.call(ctx["container"], T.CONTAINER, "Stop", "u", "(uint32 1,)", interactive=True)
    tap.ok(r.error == T.NOT_AUTHORIZED, "%s: Stop allowing interaction, with no agent: "
           "NotAuthorized" % u, r)

    # What every local user may do.
    r = user.call(T.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
    tap.ok(r.error is None and ctx["container"] in r.value and ctx["image"] in r.value,
           "%s lists the objects with GetManagedObjects" % u, r)
    for path, iface in ((T.ROOT, T.MANAGER), (ctx["container"], T.CONTAINER),
                        (ctx["image"], T.IMAGE)):
        r = user.call(path, "org.freedesktop.DBus.Properties", "GetAll", "s", "('%s',)" % iface)
        tap.ok(r.error is None and len(r.value) > 10,
               "%s reads the properties of %s" % (u, iface.split(".")[-1]), r)
        r = user.call(path, "org.freedesktop.DBus.Introspectable", "Introspect")
        tap.ok(r.error is None and iface in r.value, "%s introspects %s" % (u, path), r)
    r = user.call(T.ROOT, T.MANAGER, "GetContainer", "s", "('victim',)")
    tap.ok(r.error is None and object_path_of(r) == ctx["container"],
           "%s looks a container up with GetContainer" % u, r)
    r = user.call(T.ROOT, T.MANAGER, "GetImage", "s", "('busybox',)")
    tap.ok(r.error is None and object_path_of(r) == ctx["image"],
           "%s looks an image up with GetImage" % u, r)
    r = user.call(T.ROOT, T.MANAGER, "GetVolume", "s", "('authz-vol',)")
    tap.ok(r.error is None and object_path_of(r) == ctx["volume"],
           "%s looks a volume up with GetVolume" % u, r)
    r = user.call(ctx["volume"], "org.freedesktop.DBus.Properties", "GetAll", "s",
                  "('%s.Volume',)" % T.NAME)
    tap.ok(r.error is None and "authz-vol" in r.value, "%s reads a volume's properties" % u, r)
    r = user.call(ctx["done"], T.CONTAINER, "Wait")
    tap.ok(r.error is None and r.value == "(0,)", "%s waits for a container" % u, r)
    r = user.call(ctx["container"], "org.freedesktop.DBus.Properties", "Set", "ssv",
                  "('%s', 'Name', <'renamed'>)" % T.CONTAINER)
    tap.ok(r.error == "org.freedesktop.DBus.Error.AccessDenied",
           "%s: Properties.Set is refused by the bus policy" % u, r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "",
           "after all of that, nothing changed")


def test_left_while_pending(tap, daemon, bus, setup):
    """A CreateContainer whose caller leaves the bus while polkitd is still
    deciding (the rules file makes that check take seconds) must create
    nothing."""
    leaver = User(setup.allowed)
    before = T.snapshot(daemon, bus)
    r = leaver.call(T.ROOT, T.MANAGER, "CreateContainer", "ssasa{sv}",
                    "('%s', 'busybox', ['true'], @a{sv} {})" % setup.slow_name,
                    leave_after=setup.slow_mark)
    left = r.message and r.message.get("left")
    leaver.proc.wait(timeout=30)
    tap.ok(left, "a caller sends CreateContainer and leaves while polkitd decides", r)
    # pkaction is answered only once polkitd has finished that check; the
    # daemon has its answer by then.
    T.run(["pkaction", "--action-id", ACTIONS[0]])
    time.sleep(1)
    r = T.call(bus, T.ROOT, T.MANAGER, "GetContainer", GLib.Variant("(s)", (setup.slow_name,)))
    tap.ok(r.error == T.NOT_FOUND,
           "the container of a caller that left while its check was pending was not created",
           "GetContainer: %r" % (r,))
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "a caller that left while its check was pending left nothing behind",
           diff)
    if r.error is None:
        T.call(bus, r.value[0], T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, True)))


def test_no_polkitd(tap, daemon, bus, allowed, denied, victim):
    r = T.call(bus, "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
               GLib.Variant("(s)", ("org.freedesktop.PolicyKit1",)), dest="org.freedesktop.DBus")
    if r.error is not None:
        tap.ok(False, "polkitd's pid from the bus", r)
        return
    # private-bus.sh started this polkitd for this test; it tolerates its end.
    os.kill(r.value[0], signal.SIGTERM)
    gone = T.wait_until(lambda: not T.name_has_owner(bus, "org.freedesktop.PolicyKit1"), timeout=30)
    tap.ok(gone, "polkitd is stopped")
    before = T.snapshot(daemon, bus)
    for user, who in ((allowed, "the allowed user"), (denied, "the user without rights")):
        r = user.call(victim, T.CONTAINER, "Kill", "s", "('SIGKILL',)", timeout=120)
        tap.ok(r.error == T.NOT_AUTHORIZED,
               "with no polkitd, %s gets an answer, NotAuthorized" % who, r)
    tap.ok(T.snapshot_diff(before, T.snapshot(daemon, bus)) == "" and
           container_state(bus, victim)[0] == "running",
           "with no polkitd, nothing changed")
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("rootonly", "busybox", ["true"], {})))
    tap.ok(r.error is None, "with no polkitd, root is still served (CreateContainer)", r)
    r = T.call(bus, victim, T.CONTAINER, "Remove", GLib.Variant("(bb)", (True, False)))
    tap.ok(r.error is None and victim not in T.managed_objects(bus),
           "with no polkitd, root removes a running container", r)


if __name__ == "__main__":
    main()
