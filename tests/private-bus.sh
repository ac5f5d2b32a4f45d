#!/bin/bash
# private-bus.sh CMD ARGS...
#
# Runs CMD on a private, system-bus-like dbus-daemon with a real polkitd on it,
# so integration tests never touch the host's system bus:
#   - a temporary directory holds the bus config, its socket and the logs;
#   - the config is shaped like Debian's /usr/share/dbus-1/system.conf (type
#     system, EXTERNAL auth, deny-by-default for method calls and ownership),
#     includes /usr/share/dbus-1/system.d (polkit's own policy) and the
#     project's data/org.example.Containers1.conf, and has an empty service
#     directory (nothing is activated: tests start what they need);
#   - DBUS_SYSTEM_BUS_ADDRESS is exported for CMD (GIO and sd-bus honour it);
#   - polkitd is started on the bus and CMD runs only once
#     org.freedesktop.PolicyKit1 has an owner.
# Exits with CMD's status; polkitd, dbus-daemon and the directory are gone
# afterwards, whatever happened. Everything lives in the temporary directory,
# so several copies may run at once (make -j check).
set -u

srcdir=${CTRD_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
# stop_pid, wait_for_secs, pid_alive/pid_gone.
. "$srcdir/tests/libtest.sh"
project_conf=$srcdir/data/org.example.Containers1.conf
dbus_daemon=${DBUS_DAEMON:-dbus-daemon}
polkitd=${POLKITD:-/usr/lib/polkit-1/polkitd}
# Seconds to wait for the bus and for polkitd to own its name.
startup_timeout=${CTRD_BUS_STARTUP_TIMEOUT:-30}

die () { echo "private-bus.sh: $*" >&2; exit 99; }

[ $# -ge 1 ] || die "usage: private-bus.sh CMD ARGS..."
command -v "$dbus_daemon" >/dev/null || die "$dbus_daemon not found (apt-get install dbus-daemon)"
[ -x "$polkitd" ] || die "$polkitd not found (apt-get install polkitd)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctrd-bus.XXXXXX") || die "cannot make a temporary directory"
# polkitd drops to its own user: it must reach the socket in here.
chmod 0755 "$tmp"
mkdir "$tmp/services"

bus_pid=
polkit_pid=
cmd_pid=

teardown () {
  stop_pid "$cmd_pid"
  cmd_pid=
  stop_pid "$polkit_pid"
  polkit_pid=
  stop_pid "$bus_pid"
  bus_pid=
  rm -rf "$tmp"
}

dump_logs () {
  local f
  for f in "$tmp/dbus-daemon.log" "$tmp/polkitd.log"; do
    [ -s "$f" ] || continue
    echo "--- $(basename "$f"):" >&2
    cat "$f" >&2
  done
}

fail_setup () {
  echo "private-bus.sh: $*" >&2
  dump_logs
  teardown
  exit 99
}

trap teardown EXIT
trap 'teardown; exit 130' INT
trap 'teardown; exit 143' TERM
trap 'teardown; exit 129' HUP

project_include=
if [ -s "$project_conf" ]; then
  project_include="<include>$project_conf</include>"
else
  echo "private-bus.sh: warning: $project_conf is missing or empty:" \
    "the bus has no policy for org.example.Containers1" >&2
fi

cat > "$tmp/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$tmp/system_bus_socket</listen>
  <servicedir>$tmp/services</servicedir>

  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>

  <!-- root may monitor the bus (busctl monitor, gdbus monitor in test-cli.sh). -->
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>

  <!-- polkit's own policy: polkitd may own org.freedesktop.PolicyKit1. -->
  <includedir>/usr/share/dbus-1/system.d</includedir>
  $project_include
</busconfig>
EOF

# If this script is killed outright (SIGKILL: no trap runs), the bus should not
# outlive it: a parent-death signal stops dbus-daemon, and polkitd leaves when
# its bus goes (polkitd's own setuid would clear such a signal).
pdeath=
if setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then
  pdeath="setpriv --pdeathsig TERM"
fi

# --nofork in the background keeps dbus-daemon our child, so we know its pid;
# it prints the address once it listens.
$pdeath "$dbus_daemon" --config-file="$tmp/system.conf" --nofork --nosyslog \
  --print-address=3 3>"$tmp/address" >"$tmp/dbus-daemon.log" 2>&1 &
bus_pid=$!

bus_address () { head -n 1 "$tmp/address" 2>/dev/null; }
bus_listening_or_gone () { [ -n "$(bus_address)" ] || pid_gone "$bus_pid"; }
if ! wait_for_secs "$startup_timeout" bus_listening_or_gone || [ -z "$(bus_address)" ]; then
  pid_alive "$bus_pid" || { bus_pid=; fail_setup "dbus-daemon exited at start"; }
  fail_setup "dbus-daemon printed no address in ${startup_timeout}s"
fi

# The address dbus-daemon prints carries a guid; tests only need the path.
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/system_bus_socket
export DBUS_SYSTEM_BUS_ADDRESS
# Nothing in a test should reach a session bus by accident.
unset DBUS_SESSION_BUS_ADDRESS
export CTRD_PRIVATE_BUS_DIR=$tmp

"$polkitd" --no-debug >"$tmp/polkitd.log" 2>&1 &
polkit_pid=$!

name_has_owner () {
  gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner "$1" \
    2>/dev/null | grep -q true
}

polkit_up_or_gone () {
  name_has_owner org.freedesktop.PolicyKit1 || pid_gone "$polkit_pid" || pid_gone "$bus_pid"
}
if ! wait_for_secs "$startup_timeout" polkit_up_or_gone ||
   ! name_has_owner org.freedesktop.PolicyKit1; then
  pid_alive "$polkit_pid" || { polkit_pid=; fail_setup "polkitd exited at start"; }
  pid_alive "$bus_pid" || { bus_pid=; fail_setup "dbus-daemon died"; }
  fail_setup "org.freedesktop.PolicyKit1 has no owner after ${startup_timeout}s"
fi

# Not exec: the bus and polkitd must be stopped after CMD.  CMD runs in the
# background so that a TERM sent to us is handled at once (bash defers traps
# while it waits for a foreground child).
"$@" &
cmd_pid=$!
wait "$cmd_pid"
status=$?
cmd_pid=
if [ $status -ne 0 ] && [ -n "${CTRD_BUS_VERBOSE:-}" ]; then
  dump_logs
fi
teardown
trap - EXIT
exit $status
