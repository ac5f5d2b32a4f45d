# libtest.sh: what the shell tests share, sourced by each of them (bash).
#
#   . "$CTRD_TOP_SRCDIR/tests/libtest.sh"
#
# Sourcing it only defines functions and a few variables; a test then picks
# what it needs:
#   - TAP: pass, fail, skip, diag, and the checks built on them (check,
#     check_fails, expect, expect_not, expect_eq, truth, run_ctl, ok_ctl).
#     The plan ("1..N") is printed last, by tap_finish, once the count is
#     known; a daemon that died ends the test with "Bail out!".
#   - wait_for: waits for a condition (a command that succeeds), bounded by
#     $timeout; never a bare sleep.
#   - ctrd_test_begin: skips unless on the private bus as root, makes the
#     temporary roots and sets the traps that clean everything up, whatever
#     happens.
#   - daemon_start, daemon_stop_checked: containersd on those roots.
#   - busctl helpers: busctl_value, manager_call, gcall, container_state,
#     container_prop, image_prop, container_path, image_path.
#   - registries: free_port, start_registry (Debian's docker-registry).
# Nothing here asserts how long anything took: $timeout only stops a hang.

# ---- TAP ---------------------------------------------------------------

count=0
failures=0
# Bound on every wait, in seconds; a test may set it after sourcing.
timeout=60

diag () { sed 's/^/# /'; }

pass () { count=$((count + 1)); echo "ok $count - $*"; }

fail () {
  count=$((count + 1)); failures=$((failures + 1))
  echo "not ok $count - $*"
}

skip () { count=$((count + 1)); echo "ok $count # SKIP $*"; }

# tap_finish STATUS: prints the plan; exits 1 if a case failed or STATUS is
# not 0.
tap_finish () {
  echo "1..$count"
  [ "$failures" -eq 0 ] && [ "$1" -eq 0 ] && exit 0
  exit 1
}

# A daemon that died makes every later check meaningless: say so once.
daemon_pid=
daemon_alive () {
  [ -z "$daemon_pid" ] && return 0
  kill -0 "$daemon_pid" 2>/dev/null && return 0
  wait "$daemon_pid"
  echo "Bail out! containersd died (status $?) during: $1"
  daemon_pid=
  exit 1
}

# check DESCRIPTION CMD...: one TAP line for CMD's success; on failure the
# command's output as comments. The output is left in $out for later checks.
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

# check_fails DESCRIPTION ERROR_NAME CMD...: CMD fails, naming ERROR_NAME.
check_fails () {
  local desc=$1 want=$2; shift 2
  local status
  out=$("$@" 2>&1); status=$?
  daemon_alive "$desc"
  if [ $status -ne 0 ] && printf '%s\n' "$out" | grep -qF -- "$want"; then
    pass "$desc"
  else
    fail "$desc"
    { echo "command: $*"; echo "expected a failure naming $want"; printf '%s\n' "$out"; } | diag
  fi
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

# expect_not DESCRIPTION TEXT PATTERN: TEXT does not match PATTERN.
expect_not () {
  if printf '%s\n' "$2" | grep -Eq -- "$3"; then
    fail "$1"
    { echo "expected not to match: $3"; echo "got:"; printf '%s\n' "$2"; } | diag
  else
    pass "$1"
  fi
}

# expect_eq DESCRIPTION GOT WANTED
expect_eq () {
  if [ "$2" = "$3" ]; then
    pass "$1"
  else
    fail "$1"
    { echo "expected: $3"; echo "got:      $2"; } | diag
  fi
}

# truth DESCRIPTION CMD...: CMD succeeds.
truth () {
  local desc=$1; shift
  if "$@"; then pass "$desc"; else fail "$desc"; echo "command failed: $*" | diag; fi
}

# run_ctl DESCRIPTION EXPECTED_STATUS ARGS...: runs containersctl ARGS (stdin
# from the caller), one TAP line for its exit status; its stdout is left in
# $out, its stderr in $err.
err=
run_ctl () {
  local desc=$1 expected=$2 status
  shift 2
  out=$("$ctl" "$@" 2>"$tmp/stderr"); status=$?
  err=$(cat "$tmp/stderr")
  daemon_alive "$desc"
  if [ "$status" -eq "$expected" ]; then
    pass "$desc"
  else
    fail "$desc"
    { echo "command: containersctl $*"; echo "exit status: $status (expected $expected)"
      echo "stdout:"; printf '%s\n' "$out"; echo "stderr:"; printf '%s\n' "$err"; } | diag
  fi
}

# ok_ctl DESCRIPTION ARGS...: containersctl ARGS must succeed.
ok_ctl () { local desc=$1; shift; run_ctl "$desc" 0 "$@"; }

# ---- waiting -----------------------------------------------------------

# wait_for_secs SECONDS CMD...: runs CMD until it succeeds; fails once
# SECONDS have passed without.
wait_for_secs () {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# wait_for CMD...: wait_for_secs with the test's $timeout.
wait_for () { wait_for_secs "$timeout" "$@"; }

pid_alive () { kill -0 "$1" 2>/dev/null; }

pid_gone () { ! pid_alive "$1"; }

# stop_pid PID [SECONDS]: stops one child we started: TERM, then KILL if it
# is still there after SECONDS (default 5). Returns its exit status (128+N
# for a signal; 127 when it was not our child).
stop_pid () {
  local pid=$1 seconds=${2:-5}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  wait_for_secs "$seconds" pid_gone "$pid"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# Background processes of the test (monitors, event readers): cleanup stops
# those still listed. untrack_pid once the test has stopped one itself.
tracked_pids=
track_pid () { tracked_pids="$tracked_pids $1"; }
untrack_pid () { tracked_pids=$(printf '%s\n' $tracked_pids | grep -vx -- "$1" | tr '\n' ' '); }

# ---- the test's temporary roots and their cleanup ------------------------

# ctrd_test_begin NAME [ROOT-REASON]: skips the test unless it runs as root
# on the private bus of tests/private-bus.sh (run-test.sh puts it there);
# sets srcdir, builddir, daemon, ctl, name, root, tmp, storage, run and
# runc, and the traps that clean up at exit. ROOT-REASON says why root is
# needed, in the skip message.
ctrd_test_begin () {
  srcdir=${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}
  builddir=${CTRD_TOP_BUILDDIR:?CTRD_TOP_BUILDDIR must be set (make check sets it)}
  daemon=$builddir/service/containersd
  ctl=$builddir/client/containersctl
  name=org.example.Containers1
  root=/org/example/Containers1

  if [ -z "${CTRD_PRIVATE_BUS_DIR:-}" ] || [ -z "${DBUS_SYSTEM_BUS_ADDRESS:-}" ]; then
    echo "1..0 # SKIP run under tests/private-bus.sh (make check does)"
    exit 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP needs root (${2:-runc, overlay mounts})"
    exit 0
  fi

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctrd-$1.XXXXXX")
  storage=$tmp/storage
  run=$tmp/run
  runc=$(command -v runc)
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Functions cleanup runs first (at_cleanup FUNC), for what only the test
# knows about (podman's containers...).
cleanup_hooks=
at_cleanup () { cleanup_hooks="$cleanup_hooks $1"; }

# How much of the daemon's log a failed test prints: empty for all of it, or
# a number of lines from its end (debug lines left out).
failure_log_lines=

pids_mentioning () {
  # Processes (not this shell) whose command line mentions $1.
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$1" && echo "${p#/proc/}"
  done
  return 0
}

no_process_mentions () { [ -z "$(pids_mentioning "$1")" ]; }

# cleanup: leaves nothing of the test behind: its background processes, the
# daemon, runc containers, conmon, mounts and files under $tmp.
cleanup () {
  local hook pid m id
  for hook in $cleanup_hooks; do "$hook"; done
  for pid in $tracked_pids; do
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  tracked_pids=
  if [ -n "$daemon_pid" ]; then
    stop_pid "$daemon_pid" 10
    daemon_pid=
  fi
  if [ -d "$run/runc" ]; then
    for id in $("$runc" --root "$run/runc" list -q 2>/dev/null); do
      "$runc" --root "$run/runc" delete --force "$id" >/dev/null 2>&1
    done
  fi
  # conmon leaves about a second after its container.
  wait_for_secs 15 no_process_mentions "$tmp/"
  for pid in $(pids_mentioning "$tmp/"); do kill -KILL "$pid" 2>/dev/null; done
  # Deepest mounts first; --one-file-system never follows one left behind.
  for m in $(awk -v p="$tmp/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf --one-file-system "$tmp"
}

on_exit () {
  local status=$?
  if [ "$failures" -gt 0 ] && [ -s "$tmp/daemon.log" ]; then
    if [ -z "$failure_log_lines" ]; then
      echo "---- containersd log ----" >&2
      cat "$tmp/daemon.log" >&2
    else
      echo "---- containersd log (last $failure_log_lines lines) ----" >&2
      grep -v '<7>' "$tmp/daemon.log" | tail -n "$failure_log_lines" >&2
    fi
  fi
  cleanup
  tap_finish "$status"
}

# ---- the daemon --------------------------------------------------------

name_owned () {
  gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner "$name" | grep -q true
}

daemon_up_or_gone () { name_owned || pid_gone "$daemon_pid"; }

# daemon_start [ARGS...]: containersd on $storage and $run with runc and
# ARGS, its output in $tmp/daemon.log; one TAP line for it owning its name.
# Ends the test when it does not.
daemon_start () {
  "$daemon" --storage-root "$storage" --run-root "$run" --runtime "$runc" "$@" --debug \
    >"$tmp/daemon.log" 2>&1 &
  daemon_pid=$!
  if wait_for daemon_up_or_gone && name_owned; then
    pass "containersd owns $name on the private bus"
  else
    fail "containersd owns $name on the private bus"
    exit 1
  fi
}

# daemon_stop_checked: SIGTERMs the daemon; one TAP line for it exiting 0.
daemon_stop_checked () {
  local status
  stop_pid "$daemon_pid" "$timeout"; status=$?
  daemon_pid=
  if [ $status -eq 0 ]; then
    pass "containersd exits 0 on SIGTERM"
  else
    fail "containersd exits 0 on SIGTERM (status $status)"
  fi
}

# ---- busctl and gdbus --------------------------------------------------

# busctl prints a reply as 'o "/path"' or 's "text"': the value alone.
busctl_value () { sed -E 's/^[a-z]+ "?([^"]*)"?$/\1/'; }

# manager_call METHOD SIGNATURE ARGS...: a Manager method, no timeout.
manager_call () {
  busctl --system --timeout=infinity -- call "$name" "$root" "$name.Manager" "$@"
}

# gcall OBJECT INTERFACE.METHOD ARGS...: gdbus, whose failures name the
# D-Bus error (busctl prints only the message). ARGS in GVariant text.
gcall () {
  local object=$1 method=$2; shift 2
  gdbus call --system --timeout 600 --dest "$name" --object-path "$object" \
    --method "$name.$method" "$@"
}

# lookup METHOD NAME: the object path GetContainer or GetImage returns.
lookup () {
  local reply
  reply=$(busctl --system -- call "$name" "$root" "$name.Manager" "$1" s "$2" 2>/dev/null) ||
    return 1
  printf '%s\n' "$reply" | busctl_value
}

container_path () { lookup GetContainer "$1"; }

image_path () { lookup GetImage "$1"; }

container_exists () { container_path "$1" >/dev/null; }

container_gone () { ! container_exists "$1"; }

image_exists () { image_path "$1" >/dev/null; }

image_gone () { ! image_exists "$1"; }

# container_prop CONTAINER PROPERTY: a container property's value; CONTAINER
# is an object path or a name.
container_prop () {
  local path=$1 reply
  case $path in
    /*) ;;
    *) path=$(container_path "$1") || return 1 ;;
  esac
  reply=$(busctl --system get-property "$name" "$path" "$name.Container" "$2") || return 1
  printf '%s\n' "$reply" | busctl_value
}

container_state () { container_prop "$1" State; }

# container_state_is CONTAINER STATE
container_state_is () { [ "$(container_state "$1")" = "$2" ]; }

container_ended () {
  local s
  s=$(container_state "$1")
  [ "$s" = stopped ] || [ "$s" = exited ]
}

# image_prop PATH PROPERTY: busctl's reply as it prints it ('as 1 "x"').
image_prop () { busctl --system get-property "$name" "$1" "$name.Image" "$2"; }

# ---- registries --------------------------------------------------------

free_port () {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME [HTPASSWD]: docker-registry on a free port with its
# own config and storage under $tmp; sets $port.
start_registry () {
  local dir=$tmp/registry-$1 pid
  port=$(free_port)
  mkdir -p "$dir/storage"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage: {filesystem: {rootdirectory: $dir/storage}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    [ -n "${2:-}" ] && echo "auth: {htpasswd: {realm: ctrd-test, path: $2}}"
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pid=$!
  track_pid "$pid"
  wait_for registry_answers "$port"
}
registry_answers () {
  case $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/") in
    200|401) return 0 ;;
  esac
  return 1
}
