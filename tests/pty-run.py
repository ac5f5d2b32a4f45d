#!/usr/bin/python3
"""pty-run.py: runs a command on a pseudo-terminal of its own, as a user at
a terminal would, for the tests of containersctl's terminal verbs.

  pty-run.py [--size ROWSxCOLS] [STEP...] -- COMMAND [ARG...]

The terminal has the size given before the command starts. The steps run in
order while it does:
  expect:TEXT    read its output until TEXT has appeared (after the previous
                 expect's match)
  send:TEXT      type TEXT (Python escapes: \\r, \\x10)
  resize:RxC     set the terminal's size (TIOCSWINSZ on the master: the
                 kernel sends SIGWINCH to its foreground process group)
  termios        print "#pty: icanon=0|1 echo=0|1", the terminal's mode now
Then the output is read to its end. Everything the command wrote is printed
on stdout (after a "#pty: output" line), and pty-run exits with the
command's exit status. Waits are bounded by $PTY_RUN_TIMEOUT seconds
(default 60), only to stop a hang; a step that times out exits 124.
"""

import fcntl
import os
import select
import struct
import sys
import termios
import time


def set_size(fd, spec):
    rows, cols = (int(n) for n in spec.split("x"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def read_some(master, deadline):
    """Bytes from the terminal; b"" at its end (EIO once the slave is closed)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    ready, _, _ = select.select([master], [], [], remaining)
    if not ready:
        raise TimeoutError
    try:
        return os.read(master, 65536)
    except OSError:
        return b""


def main():
    args = sys.argv[1:]
    size = "24x80"
    if args[:1] == ["--size"]:
        size = args[1]
        args = args[2:]
    split = args.index("--")
    steps, command = args[:split], args[split + 1:]
    timeout = float(os.environ.get("PTY_RUN_TIMEOUT", "60"))

    master, slave = os.openpty()
    set_size(slave, size)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    os.close(slave)

    output = b""
    seen = 0
    notes = []
    try:
        for step in steps:
            kind, _, value = step.partition(":")
            deadline = time.monotonic() + timeout
            if kind == "expect":
                want = value.encode()
                while output.find(want, seen) < 0:
                    chunk = read_some(master, deadline)
                    if not chunk:
                        raise TimeoutError
                    output += chunk
                seen = output.find(want, seen) + len(want)
            elif kind == "send":
                os.write(master, value.encode().decode("unicode_escape").encode("latin-1"))
            elif kind == "resize":
                set_size(master, value)
            elif kind == "termios":
                lflag = termios.tcgetattr(master)[3]
                notes.append("#pty: icanon=%d echo=%d" % (bool(lflag & termios.ICANON),
                                                          bool(lflag & termios.ECHO)))
            else:
                raise SystemExit("pty-run.py: unknown step %r" % step)
        deadline = time.monotonic() + timeout
        while True:
            chunk = read_some(master, deadline)
            if not chunk:
                break
            output += chunk
    except TimeoutError:
        sys.stdout.write("#pty: timed out at step %r\n" % (step if steps else "end"))
        sys.stdout.write("#pty: output\n" + output.decode(errors="replace") + "\n")
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.exit(124)
    _, status = os.waitpid(pid, 0)
    for note in notes:
        sys.stdout.write(note + "\n")
    sys.stdout.write("#pty: output\n" + output.decode(errors="replace") + "\n")
    sys.stdout.flush()
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
