#!/bin/bash
# test-daemon-faults.sh: faults injected for real around a running daemon,
# each followed by the same checks (every container accounted for with a
# true state, the database's integrity_check, ostree fsck, no stray mount,
# the runtime agreeing):
#   - the daemon killed with SIGKILL while containers run: they keep running
#     with the same pids and stop after the restart;
#   - containers that exit while the daemon is down: their exit codes are
#     read at start, AutoRemove ones are removed;
#   - a reboot (conmons and containers killed, the run root wiped, the boot
#     id changed through the test-only CTRD_TEST_BOOT_ID_FILE);
#   - a runtime that fails, and one that has gone: RuntimeError, the
#     previous state kept, the daemon answering.
# Runs on the private bus of tests/private-bus.sh (run-test.sh puts it there);
# prints TAP.
set -u

. "${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}/tests/libtest.sh"
ctrd_test_begin daemon-faults

err=org.example.Containers1.Error
cat /proc/sys/kernel/random/boot_id >"$tmp/boot_id"
CTRD_TEST_BOOT_ID_FILE=$tmp/boot_id
export CTRD_TEST_BOOT_ID_FILE

if ! sh "$srcdir/tests/make-busybox-rootfs.sh" "$tmp/busybox.tar"; then
  fail "the busybox rootfs tar is built"
  exit 1
fi
touch "$tmp/empty.conf"
daemon_start --config "$tmp/empty.conf"
ok_ctl "import busybox" import "$tmp/busybox.tar" busybox

# ---- the checks after each fault ----------------------------------------

runtime_status () {
  runc --root "$run/runc" state "$1" 2>/dev/null | jq -r .status
}

container_id () { container_prop "$1" Id; }

# accounted NAME...: each container's State agrees with the runtime: a
# running one is running there with the same pid, an ended or configured one
# is unknown to it and has no root mounted.
accounted () {
  local c id state rstatus pid bad=""
  for c in "$@"; do
    id=$(container_id "$c") || { bad="$bad $c(no object)"; continue; }
    state=$(container_state "$c")
    rstatus=$(runtime_status "$id")
    case $state in
      running)
        pid=$(container_prop "$c" Pid)
        [ "$rstatus" = running ] && pid_alive "$pid" || bad="$bad $c($state/runtime:$rstatus)" ;;
      exited|configured)
        [ -z "$rstatus" ] || bad="$bad $c($state/runtime:$rstatus)"
        ! grep -qF "$run/containers/$id/rootfs" /proc/self/mountinfo || bad="$bad $c(mounted)" ;;
      *) bad="$bad $c($state)" ;;
    esac
  done
  [ -z "$bad" ] || { echo "not accounted for:$bad"; return 1; }
}

# stores_sound NAME: the database and the repository pass their checks.
stores_sound () {
  truth "$1: state.db passes PRAGMA integrity_check" \
    [ "$(sqlite3 "$storage/state.db" 'PRAGMA integrity_check')" = ok ]
  check "$1: ostree fsck is clean" ostree fsck --repo="$storage/repo" -q
}

daemon_kill () {
  kill -KILL "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null
  daemon_pid=
}

exit_file_of () { [ -s "$run/exits/$1" ]; }

# ---- SIGKILL while containers run, and exits while the daemon is down ----

ok_ctl "run -d keep" run -d --name keep busybox sleep 300
ok_ctl "run -d dies" run -d --name dies busybox sleep 300
ok_ctl "run -d --rm goes" run -d --rm --name goes busybox sleep 300
truth "the three run" wait_for container_state_is goes running
keep_pid=$(container_prop keep Pid)
dies_id=$(container_id dies)
goes_id=$(container_id goes)

daemon_kill
truth "after a SIGKILL of the daemon the containers still run" pid_alive "$keep_pid"
# exits while the daemon is away: conmon still writes their exit files
runc --root "$run/runc" kill "$dies_id" KILL
runc --root "$run/runc" kill "$goes_id" KILL
truth "conmon records the exits while the daemon is down" \
  wait_for exit_file_of "$dies_id"
truth "... of both" wait_for exit_file_of "$goes_id"

daemon_start --config "$tmp/empty.conf"
truth "keep runs on after the restart" container_state_is keep running
expect_eq "... with the same pid" "$(container_prop keep Pid)" "$keep_pid"
truth "dies is exited after the restart" wait_for container_state_is dies exited
expect_eq "... with the exit code of its SIGKILL" "$(container_prop dies ExitCode)" 137
truth "the AutoRemove container that exited meanwhile is gone" wait_for container_gone goes
check "every container is accounted for" accounted keep dies
stores_sound "after a SIGKILL of the daemon"
ok_ctl "keep stops after the restart" stop -t 1 keep
truth "... and is exited" container_state_is keep exited
check "every container is accounted for after the stop" accounted keep dies

# ---- a reboot -------------------------------------------------------------

ok_ctl "start keep again" start keep
truth "keep runs" wait_for container_state_is keep running
ok_ctl "run -d --rm boot-rm" run -d --rm --name boot-rm busybox sleep 300
truth "boot-rm runs" wait_for container_state_is boot-rm running
keep_pid=$(container_prop keep Pid)
daemon_kill
# what a reboot does: every process of the old boot gone, the run root
# (a tmpfs) empty, a new boot id
for pid in $(pids_mentioning "$run/"); do kill -KILL "$pid" 2>/dev/null; done
kill -KILL "$keep_pid" 2>/dev/null
truth "the old boot's processes are gone" wait_for pid_gone "$keep_pid"
for mp in $(awk -v run="$run/" 'index($5, run) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
  umount -l "$mp"
done
rm -rf "$run"
cat /proc/sys/kernel/random/uuid >"$tmp/boot_id"
daemon_start --config "$tmp/empty.conf"
truth "after the reboot keep is exited" wait_for container_state_is keep exited
truth "the AutoRemove container of the old boot is gone" wait_for container_gone boot-rm
check "every container is accounted for after the reboot" accounted keep dies
# (the daemon's own netns directory mount is not a container's)
expect_eq "no container mount is left in the run root" \
  "$(awk -v run="$run/containers/" 'index($5, run) == 1' /proc/self/mountinfo)" ""
stores_sound "after the reboot"
ok_ctl "keep starts again after the reboot" start keep
truth "... and runs" wait_for container_state_is keep running
ok_ctl "... and stops" stop -t 1 keep

# ---- a runtime that fails, then one that has gone ------------------------

daemon_stop_checked
cat >"$tmp/fake-runtime" <<'SH'
#!/bin/sh
# answers --version like runc, fails everything else
[ "${1:-}" = --version ] && { echo "runc version 1.1.5"; exit 0; }
echo "fake runtime: refusing $*" >&2
exit 1
SH
chmod +x "$tmp/fake-runtime"
daemon_start --config "$tmp/empty.conf" --runtime "$tmp/fake-runtime"
ok_ctl "create a container for the failing runtime" create --name victim busybox true
victim=$(container_path victim)
check_fails "Start with a failing runtime is RuntimeError" "$err.RuntimeError" \
  gcall "$victim" Container.Start
truth "... the container stays configured" container_state_is victim configured
truth "... and the daemon answers" container_state_is dies exited
rm -f "$tmp/fake-runtime"
check_fails "Start with the runtime gone is RuntimeError" "$err.RuntimeError" \
  gcall "$victim" Container.Start
truth "... the container stays configured" container_state_is victim configured
check "every container is accounted for with the runtime gone" accounted keep dies victim
stores_sound "after the runtime faults"
daemon_stop_checked

# a runtime whose kill hangs (until the test lets it work again)
cat >"$tmp/hanging-runtime" <<SH
#!/bin/sh
for arg; do
  [ "\$arg" = kill ] && [ ! -e "$tmp/kill-works" ] && exec sleep 100000
done
exec "$runc" "\$@"
SH
chmod +x "$tmp/hanging-runtime"
printf '[runtime]\ntimeout=2\n' >"$tmp/hang.conf"
daemon_start --config "$tmp/hang.conf" --runtime "$tmp/hanging-runtime"
ok_ctl "run -d a container on the hanging runtime" run -d --name hung busybox sleep 300
truth "... it runs" wait_for container_state_is hung running
hung=$(container_path hung)
check_fails "Stop while the runtime's kill hangs is Timeout" "$err.Timeout" \
  gcall "$hung" Container.Stop 1
truth "... the container is running again" container_state_is hung running
truth "... its process too" pid_alive "$(container_prop hung Pid)"
check_fails "Remove(force) while the runtime's kill hangs is Timeout" "$err.Timeout" \
  gcall "$hung" Container.Remove true false
truth "... the container is still there" container_state_is hung running
touch "$tmp/kill-works"
ok_ctl "once the runtime works again, it stops" stop -t 1 hung
check "every container is accounted for after the hanging runtime" accounted keep dies victim hung
stores_sound "after the hanging runtime"
daemon_stop_checked

exit 0
