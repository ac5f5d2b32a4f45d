#!/bin/bash
# test-cli.sh: containersd driven from the command line, as an administrator
# would: gdbus, busctl and containersctl against a daemon on temporary roots,
# on the private bus that tests/private-bus.sh provides (run-test.sh puts this
# script under it). Prints TAP.
set -u

. "${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}/tests/libtest.sh"
ctrd_test_begin cli

# ---- the daemon --------------------------------------------------------

if [ ! -x "$daemon" ]; then
  fail "containersd is built ($daemon)"
  exit 1
fi
if ! sh "$srcdir/tests/make-busybox-rootfs.sh" "$tmp/busybox.tar"; then
  fail "the busybox rootfs tar is built"
  exit 1
fi

daemon_start

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
check "busctl get-property State before Start" container_state "$web"
expect "a new container is configured" "$out" '^configured$'
check "busctl GetContainer web" \
  busctl --system -- call "$name" "$root" "$name.Manager" GetContainer s web
expect "GetContainer finds it by name" "$(printf '%s\n' "$out" | busctl_value)" "^$web$"

check "busctl Start" \
  busctl --system --timeout=infinity -- call "$name" "$web" "$name.Container" Start
check "busctl get-property State after Start" container_state "$web"
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
if wait_for container_ended "$web"; then
  pass "the container stopped"
else
  fail "the container stopped (state $(container_state "$web"))"
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
track_pid "$monitor_pid"
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
stop_pid "$monitor_pid"; untrack_pid "$monitor_pid"
check "containersctl rm -f mon" "$ctl" rm -f mon

# ---- the daemon stops cleanly ------------------------------------------

daemon_stop_checked

exit 0
