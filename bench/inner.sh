#!/bin/bash
# inner.sh: the measurements of bench/run, run on its private bus:
#   tests/private-bus.sh bash bench/inner.sh
# bench/run prepares everything and passes it in CTRD_BENCH_* variables; this
# script starts its own containersd daemons, uses podman and runc on private
# roots, and writes one file per figure into $CTRD_BENCH_OUT_DIR:
#   samples/SYSTEM.FIGURE   one value per line (microseconds unless named otherwise)
#   values/NAME             single values (bytes, KiB, text)
# Systems alternate within every repetition (the order rotates), so drift on
# this shared machine hits all of them alike; the first repetition of each
# series is a warm-up and is not recorded.
set -eEuo pipefail

W=$CTRD_BENCH_WORK
FS=$CTRD_BENCH_FS
RUN=$CTRD_BENCH_RUN
FIX=$CTRD_BENCH_FIX
OUT=$CTRD_BENCH_OUT_DIR
BUILD=$CTRD_BENCH_BUILD_DIR
CLIENT=$CTRD_BENCH_CLIENT
REPS=$CTRD_BENCH_REPS
MANY=$CTRD_BENCH_MANY
IMPORT_REPS=$CTRD_BENCH_IMPORT_REPS
STARTUP_REPS=$CTRD_BENCH_STARTUP_REPS

S=$OUT/samples
V=$OUT/values
L=$OUT/logs
DAEMON=$BUILD/service/containersd
CTL=$BUILD/client/containersctl
IMG=ctrdbench-busybox

[ -n "${DBUS_SYSTEM_BUS_ADDRESS:-}" ] && [ -n "${CTRD_PRIVATE_BUS_DIR:-}" ] ||
  { echo "inner.sh: run it through tests/private-bus.sh (never on the host's bus)" >&2; exit 99; }

exec 3>&2 2>>"$L/inner.log"
log () { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" | tee -a "$L/inner.log" >&3; }
on_error () {
  echo "inner.sh: line $1 failed: $2" >&3
  tail -n 20 "$L/inner.log" >&3
}
trap 'on_error $LINENO "$BASH_COMMAND"' ERR

# podman on a private store: graph root on the benchmark ext4, run roots on
# its tmpfs, runc as runtime; the ulimits because raising rlimits is refused
# here; --network none is the fair match for containersd (loopback only).
P=(podman --root "$FS/podman" --runroot "$RUN/podman" --tmpdir "$RUN/podman-tmp" --runtime runc)
PCREATE=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --network none)
export TMPDIR=$FS/tmp
mkdir -p "$TMPDIR"
touch "$W/empty.conf"

# ---------------------------------------------------------------- recording

WARM=0
record () { [ "$WARM" = 1 ] || echo "$2" >> "$S/$1"; }
setv () { echo "$2" > "$V/$1"; }

usec_since () { local now=$EPOCHREALTIME; echo $(( ${now/./} - ${1/./} )); }

# timeit KEY CMD...: wall time of one invocation (no fork in the timed path
# besides the command itself).
timeit () {
  local key=$1 t0 t1
  shift
  t0=$EPOCHREALTIME
  "$@" >/dev/null
  t1=$EPOCHREALTIME
  record "$key" $(( ${t1/./} - ${t0/./} ))
}

# client ARGS...: runs ctrd-bench and records its "KEY USEC" lines as
# ctrd.KEY (the objects count of list as a value).
client () {
  local key value
  "$CLIENT" "$@" > "$W/client.out"
  while read -r key value; do
    case $key in
      objects) setv "objects.$CLIENT_TAG" "$value" ;;
      *) record "ctrd.$key$CLIENT_SUFFIX" "$value" ;;
    esac
  done < "$W/client.out"
}
CLIENT_SUFFIX=
CLIENT_TAG=

# -x: the overlay roots mounted below a store are not the store's bytes.
du_bytes () { du -xsB1 "$@" | awk '{ s += $1 } END { print s }'; }
du_apparent () { du -xsb "$@" | awk '{ s += $1 } END { print s }'; }
du_inodes () { du -xs --inodes "$@" | awk '{ s += $1 } END { print s }'; }
rss_kib () { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# rotate I ITEMS...: the items starting at I mod their count.
rotate () {
  local i=$1
  shift
  local n=$#
  local items=("$@") k
  for ((k = 0; k < n; k++)); do echo "${items[(i + k) % n]}"; done
}

# alternate KIND ARG SYSTEM...: one untimed warm-up and REPS recorded
# repetitions of KIND_SYSTEM REP ARG for every system, in an order that
# rotates from one repetition to the next.
alternate () {
  local kind=$1 arg=$2 i sys
  shift 2
  for ((i = 0; i <= REPS; i++)); do
    WARM=$(( i == 0 ))
    for sys in $(rotate "$i" "$@"); do "${kind}_$sys" "$i" "$arg"; done
  done
  WARM=0
}

# ---------------------------------------------------------------- daemons

DPID=
# daemon_start TAG STORAGE RUNROOT: starts containersd and waits until it
# answers GetManagedObjects; STARTUP_USEC is how long that took.
daemon_start () {
  local tag=$1 t0
  mkdir -p "$2" "$3"
  t0=$EPOCHREALTIME
  "$DAEMON" --storage-root "$2" --run-root "$3" --config "$W/empty.conf" \
    --runtime "$(command -v runc)" \
    >>"$L/daemon-$tag.log" 2>&1 &
  DPID=$!
  echo "$DPID" > "$W/pids/daemon"
  "$CLIENT" ready 60 > "$W/client.ready"
  STARTUP_USEC=$(( $(awk '{ print $2 }' "$W/client.ready") - ${t0/./} ))
}

daemon_stop () {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID"
  wait "$DPID" || true
  DPID=
  rm -f "$W/pids/daemon"
}

REGISTRY_PID=
inner_cleanup () {
  daemon_stop 2>/dev/null || true
  [ -z "$REGISTRY_PID" ] || { kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null; } || true
  if [ -d "$FS/podman" ]; then
    "${P[@]}" ps -q --filter status=running 2>/dev/null |
      xargs -r "${P[@]}" rm -f -t 0 >/dev/null 2>&1 || true
  fi
}
trap inner_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---------------------------------------------------------------- the machine

setv quick "$CTRD_BENCH_QUICK"
setv many "$MANY"
setv reps "$REPS"
setv startup_reps "$STARTUP_REPS"
setv date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
setv nproc "$(nproc)"
setv kernel "$(uname -r)"
setv memory "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
setv os "$(. /etc/os-release && echo "$PRETTY_NAME")"
setv v.podman "$(podman --version | awk '{ print $3 }')"
setv v.runc "$(runc --version | awk 'NR == 1 { print $3 }')"
setv v.conmon "$(conmon --version | awk 'NR == 1 { print $3 }')"
setv v.ostree "$(ostree --version | awk -F"'" '/Version/ { print $2 }')"
setv v.glib "$(pkg-config --modversion glib-2.0)"
# What was measured: the source tree the build was configured from.
src=$(sed -n 's/^abs_top_srcdir = //p' "$BUILD/Makefile" 2>/dev/null)
if [ -n "$src" ] && git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  setv v.containersd "$(git -C "$src" --no-optional-locks log -1 --format='%h %s')"
  changed=$(git -C "$src" --no-optional-locks status --porcelain --untracked-files=no | wc -l)
  setv v.dirty "$changed files changed in the work tree"
elif [ -f "$src/.snapshot-of" ]; then
  setv v.containersd "$(cat "$src/.snapshot-of")"
  setv v.dirty "built from a clean export of that commit, no work-tree changes"
else
  setv v.containersd "$("$DAEMON" --version 2>/dev/null | head -n 1)"
  setv v.dirty "source ${src:-unknown}"
fi
setv load.start "$(cut -d' ' -f1-3 /proc/loadavg)"

# ================================================================ 1. storage
# First, while the ext4 is fresh: nothing has been deleted on it yet.

mkdir -p "$FS/canary" "$FS/imp"
t0=$EPOCHREALTIME
for i in $(seq 2000); do : > "$FS/canary/f$i"; done
setv canary_us_per_file $(( $(usec_since "$t0") / 2000 ))
setv tar_bytes "$(stat -c %s "$FIX/tree1.tar")"
setv tar_sha256 "$(sha256sum "$FIX/tree1.tar" | cut -c1-16)"

import_ostree () {
  local repo=$FS/imp/ostree-$1
  ostree --repo="$repo" init --mode=bare
  sync
  [ "$1" = "$IMPORT_REPS" ] && setv dedup.ostree.empty "$(du_bytes "$repo")"
  timeit ostree.import ostree --repo="$repo" commit --branch=img1 --tree=tar="$FIX/tree1.tar"
  timeit ostree.import_sync sync
}

podman_imp () {
  podman --root "$FS/imp/podman-$1" --runroot "$RUN/imp-podman-$1" \
    --tmpdir "$RUN/imp-podman-tmp-$1" \
    "${@:2}"
}

import_podman () {
  podman_imp "$1" images >/dev/null
  sync
  [ "$1" = "$IMPORT_REPS" ] && setv dedup.podman.empty "$(du_bytes "$FS/imp/podman-$1")"
  timeit podman.import podman_imp "$1" import "$FIX/tree1.tar" ctrdbench-big
  timeit podman.import_sync sync
}

import_ctrd () {
  daemon_start "import-$1" "$FS/imp/ctrd-$1" "$RUN/imp-ctrd-$1"
  sync
  [ "$1" = "$IMPORT_REPS" ] && setv dedup.ctrd.empty "$(du_bytes "$FS/imp/ctrd-$1")"
  client import "$FIX/tree1.tar" ctrdbench-big
  timeit ctrd.import_sync sync
  # The last daemon stays up for the second image.
  [ "$1" = "$IMPORT_REPS" ] || daemon_stop
}

log "import of the 100 MB image: $IMPORT_REPS repetitions each"
for ((i = 1; i <= IMPORT_REPS; i++)); do
  for sys in $(rotate "$i" ostree podman ctrd); do
    "import_$sys" "$i"
    sync
  done
done
# The import figure with sync is the import plus the sync after it.
for sys in ostree podman ctrd; do
  paste -d' ' "$S/$sys.import" "$S/$sys.import_sync" | awk '{ print $1 + $2 }' \
    > "$S/$sys.import_sync.tmp"
  mv "$S/$sys.import_sync.tmp" "$S/$sys.import_sync"
done

log "second image (90% shared): store growth"
n=$IMPORT_REPS
repo=$FS/imp/ostree-$n
setv dedup.ostree.after1 "$(du_bytes "$repo")"
t0=$EPOCHREALTIME
ostree --repo="$repo" commit --branch=img2 --tree=tar="$FIX/tree2.tar" >/dev/null
sync
setv dedup.ostree.time2 "$(usec_since "$t0")"
setv dedup.ostree.after2 "$(du_bytes "$repo")"

setv dedup.podman.after1 "$(du_bytes "$FS/imp/podman-$n")"
t0=$EPOCHREALTIME
podman_imp "$n" import "$FIX/tree2.tar" ctrdbench-big2 >/dev/null
sync
setv dedup.podman.time2 "$(usec_since "$t0")"
setv dedup.podman.after2 "$(du_bytes "$FS/imp/podman-$n")"

setv dedup.ctrd.after1 "$(du_bytes "$FS/imp/ctrd-$n")"
t0=$EPOCHREALTIME
"$CLIENT" import "$FIX/tree2.tar" ctrdbench-big2 >/dev/null
sync
setv dedup.ctrd.time2 "$(usec_since "$t0")"
setv dedup.ctrd.after2 "$(du_bytes "$FS/imp/ctrd-$n")"
daemon_stop

# Pull of the 100 MB image from a registry on 127.0.0.1 (Debian's
# docker-registry, its storage on the bench's file system), into a fresh
# store each time: what podman pushed, containersd and podman pull back.
log "pull of the 100 MB image from a local registry: $IMPORT_REPS repetitions each"
reg_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$FS/registry"
printf '%s\n' "version: 0.1" "log: {level: warn}" \
  "storage: {filesystem: {rootdirectory: $FS/registry}}" "http: {addr: 127.0.0.1:$reg_port}" \
  > "$W/registry.yml"
docker-registry serve "$W/registry.yml" >> "$L/registry.log" 2>&1 &
REGISTRY_PID=$!
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null "http://127.0.0.1:$reg_port/v2/" && break
  sleep 0.1
done
REF=127.0.0.1:$reg_port/ctrdbench/big:1
podman_imp "$n" push --tls-verify=false ctrdbench-big "docker://$REF" >/dev/null 2>&1
pull_podman () {
  podman_imp "pull-$1" images >/dev/null
  timeit podman.pull podman_imp "pull-$1" pull --tls-verify=false "$REF"
}
pull_ctrd () {
  daemon_start "pull-$1" "$FS/pull/ctrd-$1" "$RUN/pull-ctrd-$1"
  timeit ctrd.pull "$CTL" pull --tls-verify=false "$REF"
  daemon_stop
}
for ((i = 1; i <= IMPORT_REPS; i++)); do
  for sys in $(rotate "$i" podman ctrd); do "pull_$sys" "$i"; done
done
kill "$REGISTRY_PID"; wait "$REGISTRY_PID" 2>/dev/null || true; REGISTRY_PID=

# ================================================================ 2. life cycle

log "daemon start-up with 0 containers"
daemon_start main "$FS/ctrd" "$RUN/ctrd"
"$CLIENT" import "$FIX/busybox.tar" "$IMG" >/dev/null
for ((i = 0; i <= STARTUP_REPS; i++)); do
  WARM=$(( i == 0 ))
  daemon_stop
  daemon_start main "$FS/ctrd" "$RUN/ctrd"
  record ctrd.startup.0 "$STARTUP_USEC"
done
WARM=0
"$CLIENT" list 1 >/dev/null
setv rss.ctrd.0 "$(rss_kib "$DPID" VmRSS)"
"${P[@]}" import "$FIX/busybox.tar" "$IMG" >/dev/null

run_runc () { timeit runc.run runc --root "$RUN/runc" run -b "$FIX/bundle" "ctrdbench-runc-$1"; }
# The floor for a manager that leaves containers running on their own (under
# conmon): create, start and delete are separate runc processes.
run_runc_split () {
  local r=(runc --root "$RUN/runc") id=ctrdbench-runcs-$1 t0 t1 t2 t3
  t0=$EPOCHREALTIME
  "${r[@]}" create -b "$FIX/bundle" "$id" >/dev/null
  t1=$EPOCHREALTIME
  "${r[@]}" start "$id"
  t2=$EPOCHREALTIME
  # fails while `true` still runs
  until "${r[@]}" delete "$id" 2>/dev/null; do :; done
  t3=$EPOCHREALTIME
  record runc.create $(( ${t1/./} - ${t0/./} ))
  record runc.start $(( ${t2/./} - ${t1/./} ))
  record runc.delete $(( ${t3/./} - ${t2/./} ))
  record runc.split $(( ${t3/./} - ${t0/./} ))
}
run_podman () { timeit podman.run_rm "${P[@]}" run --rm "${PCREATE[@]}" "$IMG" true; }
run_podman_bridge () {
  timeit podman.run_rm_bridge "${P[@]}" run --rm --ulimit nofile=1024:1024 \
    --ulimit nproc=4096:4096 --network bridge "$IMG" true
}
run_ctrd () { client run "$IMG" "ctrdbench-run-$1"; }
run_ctl () { timeit ctl.run_rm "$CTL" run --rm --name "ctrdbench-runl-$1" "$IMG" true; }

# CPU time of the daemon (utime stime) and of the children it waited for
# (cutime cstime: its runc start/delete; runc create runs under conmon), in ticks.
cpu_ticks () { awk '{ print $14 + $15, $16 + $17 }' "/proc/$DPID/stat"; }

log "run --rm true: $REPS repetitions"
read -r cpu0 ccpu0 < <(cpu_ticks)
alternate run "" runc runc_split podman ctrd ctl podman_bridge
read -r cpu1 ccpu1 < <(cpu_ticks)
hz=$(getconf CLK_TCK)
# two containersd runs per repetition (D-Bus and containersctl)
ms_per_run () {
  awk -v t="$1" -v n=$((2 * (REPS + 1))) -v hz="$hz" 'BEGIN { printf "%.1f", t * 1000 / hz / n }'
}
setv cpu.run_rm.ctrd "$(ms_per_run $((cpu1 - cpu0)))"
setv cpu.run_rm.children "$(ms_per_run $((ccpu1 - ccpu0)))"

lc_podman () {
  local n=ctrdbench-lc-p$1
  timeit podman.create "${P[@]}" create --name "$n" "${PCREATE[@]}" "$IMG" sleep 1000
  timeit podman.start "${P[@]}" start "$n"
  timeit podman.stop "${P[@]}" stop -t 0 "$n"
  timeit podman.rm "${P[@]}" rm "$n"
}
lc_ctrd () { client lifecycle "$IMG" "ctrdbench-lc-c$1"; }
lc_ctl () {
  local n=ctrdbench-lc-l$1
  timeit ctl.create "$CTL" create --name "$n" "$IMG" sleep 1000
  timeit ctl.start "$CTL" start "$n"
  timeit ctl.stop "$CTL" stop -t 0 "$n"
  timeit ctl.rm "$CTL" rm "$n"
}

# Bridge networks: run --rm with one published port (containersd's default
# network has no DNS server, like podman's), and
# netavark's own share: setup and teardown of the same attachment alone.
BR_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_bridge_podman () {
  timeit podman.run_rm_bridge_port "${P[@]}" run --rm --ulimit nofile=1024:1024 \
    --ulimit nproc=4096:4096 --network bridge -p "127.0.0.1:$BR_PORT:80" "$IMG" true
}
run_bridge_ctl () {
  timeit ctl.run_rm_bridge_port "$CTL" run --rm --name "ctrdbench-runb-$1" --network bridge \
    -p "127.0.0.1:$BR_PORT:80" "$IMG" true
}
log "run --rm true on a bridge network with a published port: $REPS repetitions"
alternate run_bridge "" podman ctl

NV=/usr/lib/podman/netavark
NV_ARGS=(--config "$RUN/netavark-alone" --rootless=false --aardvark-binary=/usr/lib/podman/aardvark-dns)
cat > "$W/netavark.json" <<EOF
{"container_id":"$(printf 'b%.0s' {1..64})","container_name":"nvbench",
 "port_mappings":[{"host_ip":"127.0.0.1","container_port":80,"host_port":$BR_PORT,"range":1,"protocol":"tcp"}],
 "networks":{"ctrdbench-nv":{"interface_name":"eth0","static_ips":["10.89.254.2"],"aliases":[]}},
 "network_info":{"ctrdbench-nv":{"name":"ctrdbench-nv","id":"$(printf 'c%.0s' {1..64})","driver":"bridge",
   "network_interface":"ctrdbenchnv0","subnets":[{"subnet":"10.89.254.0/24","gateway":"10.89.254.1"}],
   "ipv6_enabled":false,"internal":false,"dns_enabled":false,"ipam_options":{"driver":"host-local"}}}}
EOF
nv () { "$NV" "${NV_ARGS[@]}" "$1" "$RUN/netavark-alone.ns" < "$W/netavark.json"; }
nvalone_netavark () {
  touch "$RUN/netavark-alone.ns"
  unshare --net="$RUN/netavark-alone.ns" true
  timeit netavark.setup nv setup
  timeit netavark.teardown nv teardown
  umount "$RUN/netavark-alone.ns"
  rm -f "$RUN/netavark-alone.ns"
}
if [ -x "$NV" ] && ! ip route | grep -q '^10\.89\.254\.'; then
  mkdir -p "$RUN/netavark-alone"
  log "netavark setup and teardown alone: $REPS repetitions"
  alternate nvalone "" netavark
fi

log "create / start / stop -t 0 / rm: $REPS repetitions"
alternate lc "" podman ctrd ctl

log "exit → PropertiesChanged: $REPS repetitions"
exit_ctrd () { client exit "$IMG" "ctrdbench-exit-$1" "$RUN/ctrd/exits"; }
alternate exit "" ctrd

# Running containers: disk and memory per running container, and inspect.
K=5
log "$K running containers per system: disk, conmon memory, inspect"
sync
before_c=$(du_bytes "$FS/ctrd")
before_p=$(du_bytes "$FS/podman")
for ((k = 1; k <= K; k++)); do
  "$CTL" run -d --name "ctrdbench-up-$k" "$IMG" sleep 1000 >/dev/null
  "${P[@]}" run -d --name "ctrdbench-up-$k" "${PCREATE[@]}" "$IMG" sleep 1000 >/dev/null
done
sync
setv disk.started.ctrd $(( ($(du_bytes "$FS/ctrd") - before_c) / K ))
setv disk.started.podman $(( ($(du_bytes "$FS/podman") - before_p) / K ))
setv image.busybox.apparent "$(du_apparent "$FIX/bundle/rootfs")"
# Where the roots come from: an overlay whose lower layer lies outside the
# container's own directory copies nothing of the image.
findmnt -rn -t overlay -o TARGET,OPTIONS | grep "^$RUN/ctrd/" > "$L/ctrd-overlays.txt" || true
setv overlay.ctrd.count "$(wc -l < "$L/ctrd-overlays.txt")"
sed -n 's/.*lowerdir=\([^,]*\).*/\1/p' "$L/ctrd-overlays.txt" | sort -u > "$L/ctrd-lowers.txt"
setv overlay.ctrd.lowers "$(wc -l < "$L/ctrd-lowers.txt")"
setv overlay.ctrd.lower "$(head -n 1 "$L/ctrd-lowers.txt" | sed "s|^$FS/ctrd/||")"

conmon_mem () { # conmon_mem PATTERN: median Rss and Pss (KiB) of the conmons naming PATTERN
  local pid
  for pid in $(pgrep -x conmon); do
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$1" || continue
    awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r, p }' "/proc/$pid/smaps_rollup"
  done | sort -n |
    awk '{ r[NR] = $1; p[NR] = $2 } END { m = int((NR + 1) / 2); print r[m], p[m], NR }'
}
setv conmon.ctrd "$(conmon_mem "$RUN/ctrd/")"
setv conmon.podman "$(conmon_mem "$RUN/podman-tmp/")"
setv rss.ctrd.running "$(rss_kib "$DPID" VmRSS)"

insp_podman () { timeit podman.inspect "${P[@]}" inspect ctrdbench-up-1; }
insp_ctrd () { client props ctrdbench-up-1 1; }
insp_ctl () { timeit ctl.inspect "$CTL" inspect ctrdbench-up-1; }
alternate insp "" podman ctrd ctl
for ((k = 1; k <= K; k++)); do
  "$CTL" rm -f "ctrdbench-up-$k" >/dev/null
  "${P[@]}" rm -f -t 0 "ctrdbench-up-$k" >/dev/null
done

# Stats of running containers: a monitoring page's round (every container's
# figures, once a second) over NS of them.
NS=100
log "stats of $NS running containers per system: $REPS rounds"
for ((k = 1; k <= NS; k++)); do
  "$CTL" run -d --name "ctrdbench-st-$k" "$IMG" sleep 1000 >/dev/null
  "${P[@]}" run -d --name "ctrdbench-st-$k" "${PCREATE[@]}" "$IMG" sleep 1000 >/dev/null
done
stats_ctrd () { client stats ctrdbench-st "$NS" 1; }
stats_podman () { timeit podman.stats "${P[@]}" stats --no-stream --format json; }
read -r cpu0 ccpu0 < <(cpu_ticks)
alternate stats "" podman ctrd
read -r cpu1 ccpu1 < <(cpu_ticks)
setv stats.count "$NS"
setv cpu.stats_round.ctrd "$(awk -v t=$((cpu1 - cpu0)) -v n=$((REPS + 1)) -v hz="$hz" \
  'BEGIN { printf "%.1f", t * 1000 / hz / n }')"
for ((k = 1; k <= NS; k++)); do "$CTL" rm -f "ctrdbench-st-$k" >/dev/null; done
"${P[@]}" rm -f -t 0 $(seq -f 'ctrdbench-st-%g' 1 "$NS") >/dev/null

# ================================================================ 3. scale

list_podman () { timeit "podman.ps.$2" "${P[@]}" ps -a; }
list_ctrd () { CLIENT_SUFFIX=.$2 CLIENT_TAG=$2 client list 1; }
list_ctl () { timeit "ctl.ps.$2" "$CTL" ps -a; }

peak_rss () { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }

measure_listing () {
  local n=$1
  log "listing with $n containers: $REPS repetitions"
  alternate list "$n" podman ctrd ctl
  setv "rss.ctrd.$n" "$(rss_kib "$DPID" VmRSS)"
  setv "hwm.ctrd.$n" "$(rss_kib "$DPID" VmHWM)"
  setv "rss.podman_ps.$n" "$(peak_rss "${P[@]}" ps -a)"
  setv "rss.ctl_ps.$n" "$(peak_rss "$CTL" ps -a)"
}

have=0
grow_to () {
  local n=$1 t0 j
  [ "$n" -gt "$have" ] || return 0
  log "creating containers $((have + 1))..$n in each system"
  t0=$EPOCHREALTIME
  "$CLIENT" create-many "$IMG" ctrdbench-m "$((have + 1))" "$n" |
    awk '$1 == "create" { print $2 }' \
    >> "$S/ctrd.create_many"
  setv "create_many.ctrd.$n" "$(usec_since "$t0")"
  t0=$EPOCHREALTIME
  for ((j = have + 1; j <= n; j++)); do
    "${P[@]}" create --name "ctrdbench-m-$j" "${PCREATE[@]}" "$IMG" true >/dev/null
  done
  setv "create_many.podman.$n" "$(usec_since "$t0")"
  have=$n
}

sync
disk_before_c=$(du_bytes "$FS/ctrd"); inodes_before_c=$(du_inodes "$FS/ctrd")
disk_before_p=$(du_bytes "$FS/podman"); inodes_before_p=$(du_inodes "$FS/podman")
run_before_c=$(du_apparent "$RUN/ctrd"); run_before_p=$(du_apparent "$RUN/podman" "$RUN/podman-tmp")
measure_listing 0
for n in 100 "$MANY"; do
  grow_to "$n"
  [ -f "$V/rss.ctrd.$n" ] || measure_listing "$n"
done
sync
setv disk.created.ctrd $(( ($(du_bytes "$FS/ctrd") - disk_before_c) / MANY ))
setv disk.created.podman $(( ($(du_bytes "$FS/podman") - disk_before_p) / MANY ))
setv inodes.created.ctrd $(( ($(du_inodes "$FS/ctrd") - inodes_before_c) / MANY ))
setv inodes.created.podman $(( ($(du_inodes "$FS/podman") - inodes_before_p) / MANY ))
setv run.created.ctrd $(( ($(du_apparent "$RUN/ctrd") - run_before_c) / MANY ))
run_after_p=$(du_apparent "$RUN/podman" "$RUN/podman-tmp")
setv run.created.podman $(( (run_after_p - run_before_p) / MANY ))

log "daemon start-up with $MANY containers: $STARTUP_REPS repetitions"
for ((i = 1; i <= STARTUP_REPS; i++)); do
  daemon_stop
  daemon_start main "$FS/ctrd" "$RUN/ctrd"
  record "ctrd.startup.$MANY" "$STARTUP_USEC"
done
setv "rss.ctrd.$MANY.fresh" "$(rss_kib "$DPID" VmRSS)"
"$CLIENT" list 1 >/dev/null
setv "rss.ctrd.$MANY.fresh_listed" "$(rss_kib "$DPID" VmRSS)"
daemon_stop

setv load.end "$(cut -d' ' -f1-3 /proc/loadavg)"
log "measurements done"
