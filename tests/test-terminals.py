#!/usr/bin/python3
# test-terminals.py: processes on terminals in real containers (runc), on the
# private bus of tests/private-bus.sh (the script puts itself under it).
#
#   - Exec with Tty, relayed to a pty the test opens: the process sees a
#     terminal of the Rows x Columns asked, Resize through the ExecSession
#     object changes it (the process gets SIGWINCH), the exit code comes back
#     and the session object goes;
#   - ExecTerminal: a socket owned by the caller with mode 0600 that another
#     uid (nobody) cannot connect to; the caller connects, talks to the
#     process, sees its exit code in Exited / ExitCode, the socket and the
#     object go;
#   - a client that never connects: its process is killed after the
#     configured time and the session object goes;
#   - Attach to a container created with Tty: typing reaches its process,
#     Resize reaches its terminal (through conmon), the container's exit
#     code comes in Exited; a client that detaches leaves it running; a
#     container without Tty cannot be attached to;
#   - bad input (Rows or Columns 0, sizes without Tty, Resize to 0, a bad
#     signal, an unknown session) gets named errors and changes nothing.
# Needs root. Prints TAP.
import os
import pty
import select
import socket
import stat
import subprocess
import sys
import threading

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib, Gio  # noqa: E402

T.enter_private_bus(__file__)

SESSION = T.NAME + ".ExecSession"
INVALID_STATE = T.ERROR + "InvalidState"
# Seconds an ExecTerminal socket waits for its client in this test.
CONNECT_TIMEOUT = 2


def sessions(bus):
    return {path: ifaces[SESSION] for path, ifaces in T.managed_objects(bus).items()
            if SESSION in ifaces}


class ExitedWatch:
    """Collects the Exited signal of the session at @path (subscribe before
    what makes it exit)."""

    def __init__(self, bus, path):
        self.bus, self.codes = bus, []
        self.id = bus.signal_subscribe(T.NAME, SESSION, "Exited", path, None,
                                       Gio.DBusSignalFlags.NONE, self._on_signal)

    def _on_signal(self, conn, sender, path, iface, member, params):
        self.codes.append(params.unpack()[0])

    def wait(self):
        """The exit code, or None when none came within T.TIMEOUT."""
        context = GLib.MainContext.default()
        timed_out = []
        source = GLib.timeout_source_new_seconds(T.TIMEOUT)
        source.set_callback(lambda *a: timed_out.append(True) or False)
        source.attach(context)
        while not self.codes and not timed_out:
            context.iteration(True)
        source.destroy()
        self.bus.signal_unsubscribe(self.id)
        return self.codes[0] if self.codes else None


def read_until(fd, needle, limit=1 << 20):
    """Reads @fd (blocking, select) until @needle shows up or it ends; the
    text read. Bounded by T.TIMEOUT per read."""
    got = b""
    while needle.encode() not in got and len(got) < limit:
        ready, _, _ = select.select([fd], [], [], T.TIMEOUT)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096) if isinstance(fd, int) else fd.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    return got.decode(errors="replace")


class BackgroundCall(threading.Thread):
    """A blocking call (Exec) on a connection of its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(daemon=True)
        self.args, self.kwargs, self.reply = args, kwargs, None

    def run(self):
        bus = T.system_bus()
        self.reply = T.call(bus, *self.args, **self.kwargs)
        bus.close_sync(None)


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap, "[limits]\nterminal_connect_timeout=%d\n" % CONNECT_TIMEOUT)
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon))


def run_tests(tap, daemon):
    daemon.start()
    bus = T.system_bus()
    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    r = T.call(bus, T.ROOT, T.MANAGER, "ImportImageFromPath",
               GLib.Variant("(ssa{sv})", (tar, "busybox", {})))
    tap.ok(r.error is None, "busybox is imported", r)
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("term", "busybox", ["sleep", "100000"], {})))
    ctr = r.value[0] if r.error is None else "/"
    r2 = T.call(bus, ctr, T.CONTAINER, "Start")
    tap.ok(r.error is None and r2.error is None, "a container runs", (r, r2))

    test_exec_tty(tap, bus, ctr)
    test_exec_terminal(tap, daemon, bus, ctr)
    test_never_connects(tap, daemon, bus, ctr)
    test_attach(tap, daemon, bus, ctr)
    test_bad_input(tap, daemon, bus, ctr)
    bus.close_sync(None)


def test_exec_tty(tap, bus, ctr):
    master, slave = pty.openpty()
    null = os.open("/dev/null", os.O_WRONLY)
    script = ('tty; stty size; trap "stty size; exit 7" WINCH; echo ready; '
              'while :; do sleep 0.1; done')
    call = BackgroundCall(ctr, T.CONTAINER, "Exec",
                          GLib.Variant("(asa{sv}hhh)", (["sh", "-c", script],
                                                        {"Tty": GLib.Variant("b", True),
                                                         "Rows": GLib.Variant("q", 30),
                                                         "Columns": GLib.Variant("q", 100)},
                                                        0, 1, 2)),
                          fds=[slave, slave, null])
    call.start()
    text = read_until(master, "ready")
    tap.ok("/dev/pts/" in text, "Exec with Tty: the process runs on a terminal (tty)", text)
    tap.ok("30 100" in text, "Exec with Tty: stty size shows Rows x Columns (30 100)", text)
    found = sessions(bus)
    tap.ok(len(found) == 1, "Exec with Tty publishes one ExecSession object", found)
    path, props = next(iter(found.items())) if found else ("/", {})
    tap.ok(props.get("Container") == ctr and props.get("Running") is True and
           props.get("StartedByUid") == 0 and props.get("Command", [None])[0] == "sh",
           "its properties: Container, Running, StartedByUid 0, Command", props)
    exited = ExitedWatch(bus, path)
    r = T.call(bus, path, SESSION, "Resize", GLib.Variant("(qq)", (40, 120)))
    tap.ok(r.error is None, "Resize(40, 120) on the session", r)
    text = read_until(master, "40 120")
    tap.ok("40 120" in text, "the process sees the new size after SIGWINCH (stty size)", text)
    call.join(T.TIMEOUT)
    tap.ok(call.reply is not None and call.reply.error is None and call.reply.value == (7,),
           "Exec with Tty returns the process's exit code (7)", call.reply)
    code = exited.wait()
    tap.ok(code == 7, "the session emitted Exited(7)", code)
    gone = T.wait_until(lambda: path not in sessions(bus), timeout=30)
    tap.ok(gone, "the session object goes once the process exited")
    for fd in (master, slave, null):
        os.close(fd)


def connect_as(uid, path):
    """Whether a process of @uid can connect to the unix socket @path."""
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
            "try:\n s.connect(sys.argv[1]); print('connected')\n"
            "except OSError as e:\n print('refused', e)\n")
    r = T.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", "--",
               "/usr/bin/python3", "-c", code, path], cwd="/")
    return r.stdout.strip()


def test_exec_terminal(tap, daemon, bus, ctr):
    script = 'tty; stty size; read line; echo "got-$line"; exit 3'
    r = T.call(bus, ctr, T.CONTAINER, "ExecTerminal",
               GLib.Variant("(asa{sv})", (["sh", "-c", script],
                                          {"Rows": GLib.Variant("q", 25),
                                           "Columns": GLib.Variant("q", 90)})))
    tap.ok(r.error is None, "ExecTerminal answers a socket and a session", r)
    if r.error is not None:
        return
    sock_path, path = r.value
    st = os.lstat(sock_path)
    tap.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
           "the socket is under the run root, the caller's (uid 0), mode 0600",
           (sock_path, oct(st.st_mode), st.st_uid))
    tap.ok(sock_path.startswith(daemon.run_root + "/"), "the socket is under the run root",
           sock_path)
    other = connect_as(65534, sock_path)
    tap.ok(other.startswith("refused") and "Permission denied" in other,
           "another uid (65534) cannot connect to it", other)
    props = sessions(bus).get(path, {})
    tap.ok(props.get("Running") is True and props.get("Container") == ctr,
           "the session object is published and Running", props)

    exited = ExitedWatch(bus, path)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock_path)
    text = read_until(conn, "25 90")
    tap.ok("/dev/pts/" in text and "25 90" in text,
           "the caller connects: a terminal of 25 x 90", text)
    tap.ok(T.wait_until(lambda: not os.path.exists(sock_path), timeout=30),
           "the socket file goes once connected")
    conn.sendall(b"hello\r")
    text = read_until(conn, "got-hello")
    tap.ok("got-hello" in text, "what the caller types reaches the process and back", text)
    rest = read_until(conn, "\0")  # to the end: the terminal closed
    conn.close()
    code = exited.wait()
    tap.ok(code == 3, "the session reports exit code 3 (Exited)", (code, rest))
    tap.ok(T.wait_until(lambda: path not in sessions(bus), timeout=30),
           "the session object goes (InterfacesRemoved)")


def test_never_connects(tap, daemon, bus, ctr):
    r = T.call(bus, ctr, T.CONTAINER, "ExecTerminal",
               GLib.Variant("(asa{sv})", (["sleep", "100001"], {})))
    tap.ok(r.error is None, "ExecTerminal for a client that never connects", r)
    if r.error is not None:
        return
    sock_path, path = r.value
    gone = T.wait_until(lambda: path not in sessions(bus), timeout=CONNECT_TIMEOUT + 60)
    tap.ok(gone, "the session object goes after the connect timeout (%d s)" % CONNECT_TIMEOUT)
    tap.ok(not os.path.exists(sock_path), "its socket is removed")
    tap.ok(not T.pids_mentioning("sleep\0" + "100001"),
           "its process was killed", T.pids_mentioning("sleep\0" + "100001"))


def test_attach(tap, daemon, bus, plain):
    script = ('read line; echo "echo-$line"; trap "stty size; exit 5" WINCH; '
              'while :; do sleep 0.1; done')
    r = T.call(bus, T.ROOT, T.MANAGER, "CreateContainer",
               GLib.Variant("(ssasa{sv})", ("withtty", "busybox", ["sh", "-c", script],
                                            {"Tty": GLib.Variant("b", True)})))
    ctr = r.value[0] if r.error is None else "/"
    r2 = T.call(bus, ctr, T.CONTAINER, "Start")
    tap.ok(r.error is None and r2.error is None, "a container with Tty runs", (r, r2))

    # a client that detaches leaves the container running
    r = T.call(bus, ctr, T.CONTAINER, "Attach", GLib.Variant("(a{sv})", ({},)))
    tap.ok(r.error is None, "Attach answers a socket and a session", r)
    if r.error is not None:
        return
    sock_path, path = r.value
    st = os.lstat(sock_path)
    tap.ok(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
           "the attach socket is the caller's, mode 0600", (oct(st.st_mode), st.st_uid))
    exited = ExitedWatch(bus, path)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock_path)
    tap.ok(T.wait_until(lambda: not os.path.exists(sock_path), timeout=30),
           "the attach socket goes once connected")
    conn.close()
    code = exited.wait()
    tap.ok(code == -1, "a client that detaches: Exited(-1)", code)
    tap.ok(T.get_property(bus, ctr, T.CONTAINER, "State") == "running",
           "the container still runs after the client detached")

    r = T.call(bus, ctr, T.CONTAINER, "Attach", GLib.Variant("(a{sv})", ({},)))
    tap.ok(r.error is None, "Attach again", r)
    if r.error is not None:
        return
    sock_path, path = r.value
    exited = ExitedWatch(bus, path)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock_path)
    tap.ok(T.wait_until(lambda: not os.path.exists(sock_path), timeout=30),
           "connected (the socket went)")
    conn.sendall(b"hello\r")
    text = read_until(conn, "echo-hello")
    tap.ok("echo-hello" in text, "what the client types reaches the container's process", text)
    r = T.call(bus, path, SESSION, "Resize", GLib.Variant("(qq)", (33, 77)))
    tap.ok(r.error is None, "Resize(33, 77) on the attach session", r)
    text = read_until(conn, "33 77")
    tap.ok("33 77" in text, "the container's terminal has the new size (stty size)", text)
    code = exited.wait()
    conn.close()
    tap.ok(code == 5, "the container exits: Exited(5), its exit code", code)
    r = T.call(bus, ctr, T.CONTAINER, "Wait")
    tap.ok(r.error is None and r.value == (5,), "Wait agrees (5)", r)
    tap.ok(T.wait_until(lambda: path not in sessions(bus), timeout=30),
           "the attach session object goes")

    r = T.call(bus, plain, T.CONTAINER, "Attach", GLib.Variant("(a{sv})", ({},)))
    tap.ok(r.error == T.ERROR + "InvalidState" and "Tty" in (r.message or ""),
           "Attach to a container without Tty: InvalidState naming the cause", r)
    r = T.call(bus, plain, T.CONTAINER, "Attach",
               GLib.Variant("(a{sv})", ({"Bogus": GLib.Variant("b", True)},)))
    tap.ok(r.error == T.INVALID_ARGUMENT and "Bogus" in (r.message or ""),
           "Attach with an unknown option: InvalidArgument", r)


def test_bad_input(tap, daemon, bus, ctr):
    before = T.snapshot(daemon, bus)
    null = os.open("/dev/null", os.O_RDWR)

    def exec_call(options):
        return T.call(bus, ctr, T.CONTAINER, "Exec",
                      GLib.Variant("(asa{sv}hhh)", (["true"], options, 0, 1, 2)),
                      fds=[null, null, null])
    cases = [
        ("Exec Tty with Rows 0", exec_call({"Tty": GLib.Variant("b", True),
                                            "Rows": GLib.Variant("q", 0)}), "Rows"),
        ("Exec Tty with Columns 0", exec_call({"Tty": GLib.Variant("b", True),
                                               "Columns": GLib.Variant("q", 0)}), "Columns"),
        ("Exec Rows without Tty", exec_call({"Rows": GLib.Variant("q", 10)}), "need Tty"),
        ("ExecTerminal with Rows 0",
         T.call(bus, ctr, T.CONTAINER, "ExecTerminal",
                GLib.Variant("(asa{sv})", (["true"], {"Rows": GLib.Variant("q", 0)}))), "Rows"),
        ("ExecTerminal with no command",
         T.call(bus, ctr, T.CONTAINER, "ExecTerminal", GLib.Variant("(asa{sv})", ([], {}))),
         "command"),
        ("ExecTerminal with an unknown option",
         T.call(bus, ctr, T.CONTAINER, "ExecTerminal",
                GLib.Variant("(asa{sv})", (["true"], {"Bogus": GLib.Variant("b", True)}))),
         "Bogus"),
    ]
    for what, r, word in cases:
        tap.ok(r.error == T.INVALID_ARGUMENT and "term" in (r.message or "") and
               word in (r.message or ""),
               "%s: InvalidArgument naming the container and the cause" % what, r)
    os.close(null)

    r = T.call(bus, ctr, T.CONTAINER, "ExecTerminal",
               GLib.Variant("(asa{sv})", (["sleep", "100000"], {})))
    path = r.value[1] if r.error is None else "/"
    r = T.call(bus, path, SESSION, "Resize", GLib.Variant("(qq)", (0, 80)))
    tap.ok(r.error == T.INVALID_ARGUMENT and path in (r.message or ""),
           "Resize(0, 80): InvalidArgument naming the session", r)
    r = T.call(bus, path, SESSION, "Kill", GLib.Variant("(s)", ("SIGNOPE",)))
    tap.ok(r.error == T.INVALID_ARGUMENT and "SIGNOPE" in (r.message or ""),
           "Kill('SIGNOPE'): InvalidArgument naming the signal", r)
    props = sessions(bus).get(path, {})
    tap.ok(props.get("Running") is True, "the session still runs after the bad calls", props)
    r = T.call(bus, path, SESSION, "Kill", GLib.Variant("(s)", ("KILL",)))
    tap.ok(r.error is None, "Kill('KILL') on the session", r)
    tap.ok(T.wait_until(lambda: path not in sessions(bus), timeout=60),
           "the killed session goes")
    r = T.call(bus, T.ROOT + "/execs/999999", SESSION, "Resize", GLib.Variant("(qq)", (1, 1)))
    tap.ok(r.error is not None and r.error.startswith("org.freedesktop.DBus.Error.Unknown"),
           "Resize on an unknown session: the bus's UnknownObject/UnknownMethod", r)
    diff = T.snapshot_diff(before, T.snapshot(daemon, bus))
    tap.ok(diff == "", "the bad calls changed nothing", diff)


if __name__ == "__main__":
    main()
