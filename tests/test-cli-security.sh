#!/bin/bash
# test-cli-security.sh: containersctl's sandbox options, --cap-add,
# --cap-drop, --privileged and --security-opt (seccomp=unconfined|PATH,
# no-new-privileges), each checked by what the container's process has
# (CapEff, NoNewPrivs and Seccomp of /proc/self/status inside it); options
# it cannot map, and ones the daemon refuses, fail with 125 and create
# nothing. As root (host access is root's). Runs on the private bus of
# tests/private-bus.sh (run-test.sh puts it there); prints TAP.
set -u

. "${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}/tests/libtest.sh"
ctrd_test_begin cli-security

for f in "$daemon" "$ctl"; do
  if [ ! -x "$f" ]; then
    fail "$f is built"
    exit 1
  fi
done
if ! sh "$srcdir/tests/make-busybox-rootfs.sh" "$tmp/busybox.tar"; then
  fail "the busybox rootfs tar is built"
  exit 1
fi
touch "$tmp/empty.conf"
daemon_start --config "$tmp/empty.conf"
ok_ctl "import busybox" import "$tmp/busybox.tar" busybox

status_of_process='grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status'
# field NAME: its value in $out (the container's status lines)
field () { printf '%s\n' "$out" | sed -nE "s/^$1:[[:space:]]*//p"; }
# caps_without HEX BIT...: HEX with those capability bits cleared, as 16 hex digits
caps_without () {
  local value=$((16#$1)); shift
  for bit in "$@"; do value=$((value & ~(1 << bit))); done
  printf '%016x' "$value"
}
caps_with () {
  local value=$((16#$1)); shift
  for bit in "$@"; do value=$((value | (1 << bit))); done
  printf '%016x' "$value"
}
CAP_CHOWN=0 CAP_KILL=5 CAP_NET_ADMIN=12 CAP_SYS_PTRACE=19

ok_ctl "run with the default sandbox" run --rm busybox sh -c "$status_of_process"
default_caps=$(field CapEff)
expect_eq "the default sandbox has a seccomp filter (Seccomp: 2)" "$(field Seccomp)" 2
expect_eq "no-new-privileges is off by default" "$(field NoNewPrivs)" 0
expect "the default capability set is podman's (CHOWN in it, NET_ADMIN not)" \
  "$(( (16#$default_caps >> CAP_CHOWN & 1) == 1 && (16#$default_caps >> CAP_NET_ADMIN & 1) == 0 ))" '^1$'

ok_ctl "run --cap-drop CHOWN,KILL" run --rm --cap-drop CHOWN,KILL busybox sh -c "$status_of_process"
expect_eq "--cap-drop takes a comma-separated list" "$(field CapEff)" \
  "$(caps_without "$default_caps" $CAP_CHOWN $CAP_KILL)"
ok_ctl "run --cap-drop ALL" run --rm --cap-drop ALL busybox sh -c "$status_of_process"
expect_eq "--cap-drop ALL leaves no capability" "$(field CapEff)" 0000000000000000
ok_ctl "run --cap-add NET_ADMIN --cap-add CAP_SYS_PTRACE" run --rm --cap-add NET_ADMIN \
  --cap-add CAP_SYS_PTRACE busybox sh -c "$status_of_process"
expect_eq "--cap-add, given twice, adds both to the default set" "$(field CapEff)" \
  "$(caps_with "$default_caps" $CAP_NET_ADMIN $CAP_SYS_PTRACE)"

ok_ctl "run --privileged" run --rm --privileged busybox sh -c "$status_of_process"
expect_eq "--privileged has no seccomp filter" "$(field Seccomp)" 0
# every capability the daemon itself may have (the bounding set of its parent)
host_caps=$(sed -nE 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
expect_eq "--privileged has every capability of the host's bounding set" "$(field CapEff)" \
  "$host_caps"
ok_ctl "run --security-opt seccomp=unconfined" run --rm --security-opt seccomp=unconfined \
  busybox sh -c "$status_of_process"
expect_eq "seccomp=unconfined has no filter" "$(field Seccomp)" 0
expect_eq "seccomp=unconfined keeps the default capabilities" "$(field CapEff)" "$default_caps"

install -m 0644 /usr/share/containers/seccomp.json "$tmp/profile.json"
ok_ctl "run --security-opt seccomp=PATH (a root-owned profile)" run --rm \
  --security-opt "seccomp=$tmp/profile.json" busybox sh -c "$status_of_process"
expect_eq "seccomp=PATH applies that profile" "$(field Seccomp)" 2

ok_ctl "run --security-opt no-new-privileges" run --rm --security-opt no-new-privileges \
  busybox sh -c "$status_of_process"
expect_eq "no-new-privileges is set in the process" "$(field NoNewPrivs)" 1
ok_ctl "create --security-opt no-new-privileges=false" create --name nnp-false \
  --security-opt no-new-privileges=false busybox sh -c "$status_of_process"
ok_ctl "start it" start nnp-false
ok_ctl "wait for it" wait nnp-false
ok_ctl "logs of it" logs nnp-false
expect_eq "no-new-privileges=false leaves it off" "$(field NoNewPrivs)" 0
ok_ctl "rm it" rm nnp-false

# ---- what cannot be mapped, or the daemon refuses: 125, nothing made ----
bad () {
  local desc=$1 pattern=$2; shift 2
  run_ctl "create $desc fails with 125" 125 create --name bad-security "$@" busybox true
  expect "create $desc says why" "$err" "$pattern"
  truth "create $desc created nothing" container_gone bad-security
}
bad "--security-opt seccomp=relative.json" 'absolute path' --security-opt seccomp=relative.json
bad "--security-opt label=disable" 'not supported' --security-opt label=disable
bad "--security-opt no-new-privileges=maybe" 'not supported' \
  --security-opt no-new-privileges=maybe
bad "--cap-add ''" 'empty capability' --cap-add ''
bad "--cap-drop CHOWN," 'empty capability' --cap-drop CHOWN,
bad "--cap-add NO_SUCH_CAP" 'NO_SUCH_CAP' --cap-add NO_SUCH_CAP
bad "--cap-drop NO_SUCH_CAP" 'NO_SUCH_CAP' --cap-drop NO_SUCH_CAP
# the daemon reads a profile at each Start: a missing one fails there
ok_ctl "create --security-opt seccomp=/no/such/profile.json" create --name missing-profile \
  --security-opt seccomp=/no/such/profile.json busybox true
run_ctl "start of it fails with 125" 125 start missing-profile
expect "it names the profile" "$err" '/no/such/profile.json'
expect_not "it does not say the container is missing" "$err" 'no such container'
expect_eq "it did not start" "$(container_state missing-profile)" configured
ok_ctl "rm it" rm missing-profile
truth "no container is left" eval '[ -z "$("$ctl" ps -a -q)" ]'

daemon_stop_checked

exit 0
