#!/bin/bash
# test-cli.sh: containersd driven from the command line, as an administrator
# would: gdbus, busctl and containersctl against a daemon on temporary roots,
# on the private bus that tests/private-bus.sh provides (run-test.sh puts this
# script under it). Prints TAP.
set -u

srcdir=${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}
builddir=${CTRD_TOP_BUILDDIR:?CTRD_TOP_BUILDDIR must be set (make check sets it)}
daemon=$builddir/service/containersd
ctl=$builddir/client/containersctl
name=org.example.Containers1
root=/org/example/Containers1
# Bound on every wait; nothing asserts how long anything took.
timeout=60

if [ -z "${CTRD_PRIVATE_BUS_DIR:-}" ] || [ -z "${DBUS_SYSTEM_BUS_ADDRESS:-}" ]; then
  echo "1..0 # SKIP run under tests/private-bus.sh (make check does)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "1..0 # SKIP needs root (runc, overlay mounts)"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctrd-cli.XXXXXX")
storage=$tmp/storage
run=$tmp/run
runc=$(command -v runc)
daemon_pid=
monitor_pid=
count=0
failures=0

# ---- TAP ---------------------------------------------------------------

diag () { sed 's/^/# /'; }

pass () { count=$((count + 1)); echo "ok $count - $*"; }

fail () {
  count=$((count + 1)); failures=$((failures + 1))
  echo "not ok $count - $*"
}

# A daemon that died makes every later check meaningless: say so once.
daemon_alive () {
  [ -z "$daemon_pid" ] && return 0
  kill -0 "$daemon_pid" 2>/dev/null && return 0
  wait "$daemon_pid"
  echo "Bail out! containersd died (status $?) during: $1"
  daemon_pid=
  exit 1
}

# check DESCRIPTION CMD...: one TAP line; on failure the command's output as
# comments. The output is left in $out for later checks.
out=
check () {
  local desc=$1; shift
  local status
  out=$("$@" 2>&1); status=$?
  daemon_alive "$desc"
  if [ $status -eq 0 ]; then
    pass "$desc"
  else
    fail "$desc"
    { echo "command: $*"; echo "exit status: $status"; printf '%s\n' "$out"; } | diag
  fi
  return $status
}

# expect DESCRIPTION TEXT PATTERN: TEXT matches the extended regex PATTERN.
expect () {
  if printf '%s\n' "$2" | grep -Eq -- "$3"; then
    pass "$1"
  else
    fail "$1"
    { echo "expected to match: $3"; echo "got:"; printf '%s\n' "$2"; } | diag
  fi
}

expect_not () {
  if printf '%s\n' "$2" | grep -Eq -- "$3"; then
    fail "$1"
    { echo "expected not to match: $3"; echo "got:"; printf '%s\n' "$2"; } | diag
  else
    pass "$1"
  fi
}

# wait_for CMD...: runs CMD until it succeeds, at most $timeout seconds.
wait_for () {
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# ---- cleanup, whatever happens ----------------------------------------

pids_mentioning () {
  # Processes (not this shell) whose command line mentions $1.
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$1" && echo "${p#/proc/}"
  done
  return 0
}

cleanup () {
  local pid i m
  if [ -n "$monitor_pid" ]; then
    kill "$monitor_pid" 2>/dev/null; wait "$monitor_pid" 2>/dev/null
  fi
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null
    for i in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null
  fi
  if [ -d "$run/runc" ]; then
    for id in $("$runc" --root "$run/runc" list -q 2>/dev/null); do
      "$runc" --root "$run/runc" delete --force "$id" >/dev/null 2>&1
    done
  fi
  # conmon leaves about a second after its container.
  for i in $(seq 150); do
    [ -z "$(pids_mentioning "$tmp/")" ] && break
    sleep 0.1
  done
  for pid in $(pids_mentioning "$tmp/"); do kill -KILL "$pid" 2>/dev/null; done
  # Deepest mounts first; --one-file-system never follows one left behind.
  for m in $(awk -v p="$tmp/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf --one-file-system "$tmp"
}

on_exit () {
  local status=$?
  if [ $failures -gt 0 ] && [ -s "$tmp/daemon.log" ]; then
    echo "---- containersd log ----" >&2
    cat "$tmp/daemon.log" >&2
  fi
  cleanup
  echo "1..$count"
  [ $failures -eq 0 ] && [ $status -eq 0 ] && exit 0
  exit 1
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

name_owned () {
  gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner "$name" | grep -q true
}

# busctl prints a reply as 'o "/path"' or 's "text"': the value alone.
busctl_value () { sed -E 's/^[a-z]+ "?([^"]*)"?$/\1/'; }

state_of () {
  local reply
  reply=$(busctl --system get-property "$name" "$1" "$name.Container" State) || return 1
  printf '%s\n' "$reply" | busctl_value
}

state_is () { [ "$(state_of "$1")" = "$2" ]; }

state_ended () {
  local s
  s=$(state_of "$1")
  [ "$s" = stopped ] || [ "$s" = exited ]
}

# ---- the daemon --------------------------------------------------------

if [ ! -x "$daemon" ]; then
  fail "containersd is built ($daemon)"
  exit 1
fi
if ! sh "$srcdir/tests/make-busybox-rootfs.sh" "$tmp/busybox.tar"; then
  fail "the busybox rootfs tar is built"
  exit 1
fi

"$daemon" --storage-root "$storage" --run-root "$run" --runtime "$runc" --debug \
  >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
if wait_for name_owned; then
  pass "containersd owns $name on the private bus"
else
  fail "containersd owns $name on the private bus"
  exit 1
fi

# ---- gdbus / busctl ----------------------------------------------------

check "gdbus introspect -r shows the manager" \
  gdbus introspect --system -d "$name" -o "$root" -r
expect "introspection lists the Manager interface" "$out" "interface $name\.Manager"
expect "introspection lists the ObjectManager" "$out" \
  "interface org\.freedesktop\.DBus\.ObjectManager"
expect "introspection lists CreateContainer" "$out" "CreateContainer\("

check "busctl ImportImageFromPath" \
  busctl --system --timeout=infinity -- call "$name" "$root" "$name.Manager" \
  ImportImageFromPath 'ssa{sv}' "$tmp/busybox.tar" busybox 0
image=$(printf '%s\n' "$out" | busctl_value)
expect "the import returns an image object path" "$image" "^$root/images/[0-9a-f]{64}$"
check "busctl get-property Image Names" \
  busctl --system get-property "$name" "$image" "$name.Image" Names
expect "the image is named busybox:latest" "$out" '"busybox:latest"'

check "busctl CreateContainer" \
  busctl --system -- call "$name" "$root" "$name.Manager" CreateContainer 'ssasa{sv}' \
  web busybox 3 sh -c 'echo hi; sleep 300' 0
web=$(printf '%s\n' "$out" | busctl_value)
expect "CreateContainer returns a container object path" "$web" \
  "^$root/containers/[0-9a-f]{64}$"
check "busctl get-property State before Start" state_of "$web"
expect "a new container is configured" "$out" '^configured$'
check "busctl GetContainer web" \
  busctl --system -- call "$name" "$root" "$name.Manager" GetContainer s web
expect "GetContainer finds it by name" "$(printf '%s\n' "$out" | busctl_value)" "^$web$"

check "busctl Start" \
  busctl --system --timeout=infinity -- call "$name" "$web" "$name.Container" Start
check "busctl get-property State after Start" state_of "$web"
expect "the container is running" "$out" '^running$'
check "busctl get-property Pid" busctl --system get-property "$name" "$web" "$name.Container" Pid
pid=$(printf '%s\n' "$out" | busctl_value)
if [ -n "$pid" ] && [ "$pid" -gt 0 ] && [ -d "/proc/$pid" ]; then
  pass "its Pid ($pid) is a live process"
else
  fail "its Pid ($out) is a live process"
fi

check "busctl Stop u 2" \
  busctl --system --timeout=infinity -- call "$name" "$web" "$name.Container" Stop u 2
if wait_for state_ended "$web"; then
  pass "the container stopped"
else
  fail "the container stopped (state $(state_of "$web"))"
fi
check "busctl get-property ExitCode" \
  busctl --system get-property "$name" "$web" "$name.Container" ExitCode
expect "sleep, deaf to SIGTERM as pid 1, was killed (137)" "$out" '^i 137$'

check "busctl Remove bb false false" \
  busctl --system --timeout=infinity -- call "$name" "$web" "$name.Container" \
  Remove bb false false
check "GetManagedObjects after Remove" \
  gdbus call --system -d "$name" -o "$root" \
  -m org.freedesktop.DBus.ObjectManager.GetManagedObjects
expect_not "the removed container is no longer listed" "$out" "$web"
expect "the image is still listed" "$out" "$image"
if [ -e "$storage/containers/${web##*/}" ]; then
  fail "the container's directory is gone"
else
  pass "the container's directory is gone"
fi

# ---- containersctl -----------------------------------------------------

if [ ! -x "$ctl" ]; then
  fail "containersctl is built ($ctl)"
  exit 1
fi

check "containersctl images" "$ctl" images
expect "images lists busybox" "$out" 'busybox'

check "containersctl import FILE NAME" "$ctl" import "$tmp/busybox.tar" other
check "containersctl images after import" "$ctl" images
expect "images lists the new image" "$out" 'other'

check "containersctl create --name cli1" \
  "$ctl" create --name cli1 busybox sh -c 'echo hi; sleep 300'
check "containersctl ps -a after create" "$ctl" ps -a
expect "ps -a shows the created container" "$out" 'cli1'
check "containersctl start cli1" "$ctl" start cli1
check "containersctl ps" "$ctl" ps
expect "ps shows the running container" "$out" 'cli1'
expect "ps shows it running" "$(printf '%s\n' "$out" | grep cli1)" '[Rr]unning|Up'

check "containersctl inspect cli1" "$ctl" inspect cli1
inspect_json=$out
if printf '%s\n' "$inspect_json" |
     /usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null; then
  pass "inspect prints valid JSON"
else
  fail "inspect prints valid JSON"
  printf '%s\n' "$inspect_json" | diag
fi
expect "inspect names the container" "$inspect_json" '"cli1"'
expect "inspect shows its state" "$inspect_json" '"running"'

check "containersctl stop -t 2 cli1" "$ctl" stop -t 2 cli1
check "containersctl ps after stop" "$ctl" ps
expect_not "ps no longer shows the stopped container" "$out" 'cli1'
check "containersctl ps -a after stop" "$ctl" ps -a
expect "ps -a still shows it" "$out" 'cli1'
expect "ps -a shows it exited with 137" "$(printf '%s\n' "$out" | grep cli1)" 'Exited \(137\)'
check "containersctl wait cli1" "$ctl" wait cli1
expect "wait prints the exit code" "$out" '^137$'

check "containersctl rm -f cli1" "$ctl" rm -f cli1
check "containersctl ps -a after rm" "$ctl" ps -a
expect_not "ps -a no longer shows it" "$out" 'cli1'

# rm -f of a running container stops it first.
check "containersctl create --name cli2" "$ctl" create --name cli2 busybox sleep 300
check "containersctl start cli2" "$ctl" start cli2
check "containersctl rm -f of a running container" "$ctl" rm -f cli2
check "containersctl ps -a after rm -f" "$ctl" ps -a
expect_not "the running container is gone" "$out" 'cli2'

if "$ctl" start no-such-container >"$tmp/err" 2>&1; then
  fail "containersctl start of an unknown container fails"
else
  pass "containersctl start of an unknown container fails"
fi
expect "the failure is explained on stderr" "$(cat "$tmp/err")" '.'

# ---- signals seen by a bus monitor -------------------------------------

check "containersctl create --name mon" "$ctl" create --name mon busybox sleep 300
gdbus monitor --system --dest "$name" >"$tmp/monitor.log" 2>&1 &
monitor_pid=$!
# It subscribes once it sees the name's owner.
if wait_for grep -q 'is owned by' "$tmp/monitor.log"; then
  pass "gdbus monitor is watching $name"
else
  fail "gdbus monitor is watching $name"
  diag <"$tmp/monitor.log"
fi
check "containersctl start mon" "$ctl" start mon
if wait_for grep -Eq "PropertiesChanged.*'State': <'running'>" "$tmp/monitor.log"; then
  pass "the monitor saw PropertiesChanged carrying State running"
else
  fail "the monitor saw PropertiesChanged carrying State running"
  diag <"$tmp/monitor.log"
fi
kill "$monitor_pid" 2>/dev/null; wait "$monitor_pid" 2>/dev/null; monitor_pid=
check "containersctl rm -f mon" "$ctl" rm -f mon

# ---- the daemon stops cleanly ------------------------------------------

kill -TERM "$daemon_pid"
deadline=$((SECONDS + timeout))
while kill -0 "$daemon_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
kill -KILL "$daemon_pid" 2>/dev/null
wait "$daemon_pid"; status=$?
daemon_pid=
if [ $status -eq 0 ]; then
  pass "containersd exits 0 on SIGTERM"
else
  fail "containersd exits 0 on SIGTERM (status $status)"
fi

exit 0
