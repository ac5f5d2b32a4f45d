#!/bin/bash
# From a fresh Debian 12 to a running containersd, as root:
#
#   scripts/setup-and-run.sh        (as root)
#
# Installs the build dependencies, builds and installs containersd under /usr,
# makes sure a system bus and polkitd are running, (re)starts containersd on
# the system bus and imports a tiny busybox image. Running it again rebuilds
# what changed and restarts the daemon; containers keep running meanwhile.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$top/_build/install
configure_args=(--prefix=/usr --sysconfdir=/etc --localstatedir=/var --libexecdir=/usr/libexec)
daemon=/usr/libexec/containersd
client=/usr/bin/containersctl
pidfile=/run/containersd.pid
logfile=/var/log/containersd.log
bus_name=org.example.Containers1
manager_path=/org/example/Containers1
polkitd=/usr/lib/polkit-1/polkitd

say () { printf '==> %s\n' "$*"; }
die () { printf 'setup-and-run.sh: %s\n' "$*" >&2; exit 1; }

systemd_is_init () { [ -d /run/systemd/system ]; }

# Asks the bus itself, so it never activates a service.
bus_answers () {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetId >/dev/null 2>&1
}

name_has_owner () {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}

# Prints nothing when the name has no owner.
name_owner_pid () {
  { dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" 2>/dev/null || true; } |
    awk '/uint32/ { print $2 }'
}

# wait_for TRIES COMMAND...: retries COMMAND every half second.
wait_for () {
  local tries=$1
  shift
  while ! "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.5
  done
}

build_and_install () {
  say "Installing build dependencies"
  "$top/scripts/install-deps.sh"

  say "Building in ${builddir#"$top"/}"
  if [ -f "$top/config.status" ]; then
    die "the source tree was configured in place; run 'make distclean' in $top first"
  fi
  if [ ! -x "$top/configure" ]; then
    (cd "$top" && NOCONFIGURE=1 ./autogen.sh)
  fi
  mkdir -p "$builddir"
  if [ ! -f "$builddir/Makefile" ]; then
    (cd "$builddir" && "$top/configure" -q "${configure_args[@]}")
  fi
  make -C "$builddir" -s -j"$(nproc)"
  say "Installing under /usr"
  make -C "$builddir" -s install >/dev/null
}

start_system_bus () {
  if bus_answers; then
    say "System bus is running; reloading its configuration"
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.ReloadConfig >/dev/null
    return
  fi
  say "Starting the system bus"
  if systemd_is_init; then
    systemctl start dbus.service
  else
    mkdir -p /run/dbus
    # Left behind by a bus that is gone; dbus-daemon refuses to start over them.
    rm -f /run/dbus/pid /run/dbus/system_bus_socket
    dbus-uuidgen --ensure
    dbus-daemon --system --fork
  fi
  wait_for 20 bus_answers || die "the system bus does not answer at /run/dbus/system_bus_socket"
}

start_polkitd () {
  if name_has_owner org.freedesktop.PolicyKit1; then
    return
  fi
  say "Starting polkitd"
  if systemd_is_init; then
    systemctl start polkit.service || true
  else
    setsid nohup "$polkitd" --no-debug </dev/null >>/var/log/polkitd.log 2>&1 &
  fi
  # containersd itself does not need polkitd to start (root is always allowed),
  # but every other user's call does.
  wait_for 20 name_has_owner org.freedesktop.PolicyKit1 ||
    echo "setup-and-run.sh: warning: polkitd did not appear on the bus; see /var/log/polkitd.log" >&2
}

pid_is_containersd () {
  case "$(readlink "/proc/$1/exe" 2>/dev/null)" in
    */containersd | */containersd" (deleted)") return 0 ;;
    *) return 1 ;;
  esac
}

# A zombie counts as gone: a daemon from an earlier run has been re-parented
# to PID 1, which may take its time to reap it.
process_gone () {
  local state
  state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

# Stops a daemon left by an earlier run (its pid file) or any other containersd
# that owns the name outside systemd. SIGTERM leaves the containers running.
stop_old_daemon () {
  local pid pids=""
  [ -f "$pidfile" ] && pids=$(cat "$pidfile")
  pids="$pids $(name_owner_pid "$bus_name")"
  for pid in $pids; do
    pid_is_containersd "$pid" || continue
    say "Stopping the containersd started before (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for 40 process_gone "$pid"; then
      echo "setup-and-run.sh: containersd $pid ignored SIGTERM for 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait_for 10 process_gone "$pid" || die "could not stop containersd (pid $pid)"
    fi
  done
  rm -f "$pidfile"
}

daemon_is_up () { name_has_owner "$bus_name"; }

start_daemon () {
  if systemd_is_init; then
    stop_old_daemon_outside_systemd
    say "Restarting containersd.service"
    systemctl daemon-reload
    systemctl restart containersd.service
    wait_for 60 daemon_is_up || die "containersd did not appear on the bus; see: journalctl -u containersd"
    return
  fi

  stop_old_daemon
  say "Starting $daemon (log: $logfile)"
  mkdir -p "$(dirname "$logfile")"
  rotate_log
  # setsid: the daemon must not die with this shell or its terminal.
  setsid nohup "$daemon" </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  local tries=60
  until daemon_is_up; do
    if process_gone "$pid"; then
      tail -n 20 "$logfile" >&2 || true
      die "containersd exited during start-up; its log is $logfile"
    fi
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "containersd did not take the name $bus_name in 30 s; see $logfile"
    sleep 0.5
  done
}

# The log names callers and containers: root's alone (0600). It is rotated
# at each start once over $log_max_bytes (one old copy kept, also 0600);
# the daemon itself logs at most a line per denied caller per 10 s.
log_max_bytes=$((16 * 1024 * 1024))
rotate_log () {
  local size
  if [ -f "$logfile" ]; then
    size=$(stat -c %s "$logfile")
    if [ "$size" -gt "$log_max_bytes" ]; then
      mv -f "$logfile" "$logfile.1"
      chmod 0600 "$logfile.1"
    fi
  fi
  (umask 077 && touch "$logfile")
  chown root:root "$logfile"
  chmod 0600 "$logfile"
}

stop_old_daemon_outside_systemd () {
  local main_pid
  main_pid=$(systemctl show -p MainPID --value containersd.service 2>/dev/null || echo 0)
  if [ -f "$pidfile" ] && [ "$(cat "$pidfile")" != "$main_pid" ]; then
    stop_old_daemon
  fi
}

import_busybox () {
  if gdbus call --system --dest "$bus_name" --object-path "$manager_path" \
       --method org.example.Containers1.Manager.GetImage busybox >/dev/null 2>&1; then
    say "Image busybox is already there"
    return
  fi
  say "Importing the busybox image"
  local tar
  tar=$(mktemp --suffix=.tar)
  # shellcheck disable=SC2064 # expand now: $tar is local
  trap "rm -f '$tar'" EXIT
  "$top/tests/make-busybox-rootfs.sh" "$tar"
  "$client" import "$tar" busybox
  rm -f "$tar"
  trap - EXIT
}

print_next_steps () {
  cat <<EOF

containersd is running on the system bus as $bus_name.
$(if systemd_is_init; then echo "Its log: journalctl -u containersd"; else echo "Its log: $logfile (pid $(cat "$pidfile"))"; fi)

Try:
  containersctl images
  containersctl create --name web busybox sh -c 'echo hi; sleep 300'
  containersctl start web
  containersctl ps
  containersctl stop -t 2 web
  containersctl rm -f web

Or straight on the bus:
  busctl --system tree $bus_name
  busctl --system introspect $bus_name $manager_path
  busctl --system monitor $bus_name

README.md has more.
EOF
}

main () {
  [ "$(id -u)" -eq 0 ] || die "run it as root (a fresh Debian has no sudo: log in as root or use su -)"
  build_and_install
  start_system_bus
  start_polkitd
  start_daemon
  import_busybox
  print_next_steps
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
