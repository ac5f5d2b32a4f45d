#!/bin/bash
# report.sh DIR: writes the Markdown report of a bench/run measurement (the
# samples/ and values/ that bench/inner.sh left in DIR) on stdout.
set -euo pipefail

dir=${1:?usage: report.sh DIR}
S=$dir/samples
V=$dir/values

val () { if [ -s "$V/$1" ]; then cat "$V/$1"; else echo "${2:-?}"; fi; }

# stats FILE: "median min max n" in ms, from samples in µs.
stats () {
  [ -s "$1" ] || { echo "- - - 0"; return; }
  sort -n "$1" | awk '{ v[NR] = $1 / 1000 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%.4g %.4g %.4g %d\n", m, v[1], v[NR], NR }'
}
med () { stats "$S/$1" | cut -d' ' -f1; }

# cell KEY: "median (min–max)" in ms.
cell () {
  local m lo hi n
  read -r m lo hi n < <(stats "$S/$1")
  if [ "$n" = 0 ]; then echo "–"; else echo "**$m** ($lo–$hi)"; fi
}

# ratio A B: A / B with two decimals ("–" when either is missing).
ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || a == "-" || b == "-" || a == "?" || b == "?" || b + 0 == 0) print "–";
    else printf "%.2f×\n", a / b }'
}

# verdict VALUE LIMIT: met when VALUE ≤ LIMIT.
verdict () {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || a == "-" || a == "?" || a == "–") print "not measured";
    else if (a + 0 <= b + 0) print "met"; else print "**missed**" }'
}

num () { awk -v a="$1" -v d="${2:-1}" 'BEGIN { if (a == "" || a == "?" || a == "-") print "?"; else printf "%.*f\n", d, a }'; }
mib () { awk -v a="$1" 'BEGIN { if (a == "" || a == "?") print "?"; else printf "%.1f MiB\n", a / 1024 }'; }
bytes () {
  awk -v a="$1" 'BEGIN { if (a == "" || a == "?") { print "?"; exit }
    if (a < 0) { s = "-"; a = -a } else s = ""
    if (a >= 1048576) printf "%s%.1f MiB (%s%d B)\n", s, a / 1048576, s, a
    else if (a >= 10240) printf "%s%.1f KiB (%s%d B)\n", s, a / 1024, s, a
    else printf "%s%d B\n", s, a }'
}
sub () { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "?" || b == "?") print "?"; else print a - b }'; }

quick=$(val quick 0)
many=$(val many 1000)
reps=$(val reps "?")
mode="full"
[ "$quick" = 1 ] && mode="quick (\`--quick\`: not the figures to keep)"

# ---------------------------------------------------------------- medians used below
runc_run=$(med runc.run)
p_run=$(med podman.run_rm); p_run_br=$(med podman.run_rm_bridge)
c_run=$(med ctrd.run_rm); l_run=$(med ctl.run_rm)
for op in create start stop rm; do
  eval "p_$op=\$(med podman.$op); c_$op=\$(med ctrd.$op); l_$op=\$(med ctl.$op)"
done
p_ps_many=$(med "podman.ps.$many"); l_ps_many=$(med "ctl.ps.$many"); c_list_many=$(med "ctrd.list.$many")
exit_sig=$(med ctrd.exit_to_signal)
o_imp=$(med ostree.import); p_imp=$(med podman.import); c_imp=$(med ctrd.import)
o_imps=$(med ostree.import_sync); p_imps=$(med podman.import_sync); c_imps=$(med ctrd.import_sync)
rss_many=$(val "rss.ctrd.$many")
c_size1=$(sub "$(val dedup.ctrd.after1)" "$(val dedup.ctrd.empty)")
c_grow2=$(sub "$(val dedup.ctrd.after2)" "$(val dedup.ctrd.after1)")
o_size1=$(sub "$(val dedup.ostree.after1)" "$(val dedup.ostree.empty)")
o_grow2=$(sub "$(val dedup.ostree.after2)" "$(val dedup.ostree.after1)")
p_size1=$(sub "$(val dedup.podman.after1)" "$(val dedup.podman.empty)")
p_grow2=$(sub "$(val dedup.podman.after2)" "$(val dedup.podman.after1)")
c_grow_pct=$(awk -v g="$c_grow2" -v s="$c_size1" 'BEGIN { if (g == "?" || s == "?" || s == 0) print "?"; else printf "%.1f\n", 100 * g / s }')
started_c=$(val disk.started.ctrd); image_bytes=$(val image.busybox.apparent)
copied_ok=$(awk -v d="$started_c" -v i="$image_bytes" -v n="$(val overlay.ctrd.count 0)" -v l="$(val overlay.ctrd.lowers 0)" \
  'BEGIN { print (n > 0 && l == 1 && d < i / 10) ? 0 : 1 }')

cat <<EOF
# containersd benchmarks

Written by \`bench/run\` ($mode) on $(val date). Do not edit: run it again.

- **Machine:** $(val os), kernel $(val kernel), $(val nproc) CPUs, $(val memory) RAM; load average $(val load.start) at the start, $(val load.end) at the end.
- **Versions:** containersd $(val v.containersd) ($(val v.dirty)), podman $(val v.podman), runc $(val v.runc), conmon $(val v.conmon), ostree $(val v.ostree), GLib $(val v.glib).
- **Method:** every figure is the wall time of one command (bash \`\$EPOCHREALTIME\`) or, for
  "containersd D-Bus", of the calls alone in a small C client (\`bench/ctrd-bench.c\`, plain
  \`g_dbus_connection_call\`; its own start and bus connection are not counted). The systems
  alternate within each repetition (the order rotates), after one untimed warm-up. Cells are
  **median** (min–max) in ms over $reps repetitions unless noted.
- **Setup:** containersd on a private system bus with a real polkitd (caller is root); podman with
  \`--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --network none\` (the
  fair match: containersd gives containers loopback only) on a private store; bare runc runs the
  \`runc spec\` bundle with \`true\`. Every store is on a fresh loop-mounted ext4 without a
  journal (the root fs's layout; inode canary $(val canary_us_per_file) µs per file, clean is about 40), every
  run root on a tmpfs. Measuring took $(( $(val measure_seconds 0) / 60 )) min $(( $(val measure_seconds 0) % 60 )) s.

## Targets of issue 6

| target | measured | limit | |
|---|---|---|---|
EOF

# target DESC VALUE LIMIT SHOWN [BOUND]: one row (met when VALUE ≤ LIMIT); a
# missed target also goes to the list below the table, by how much and, where
# measured, what bounds it.
missed=""
target () {
  local v
  v=$(verdict "$2" "$3")
  echo "| $1 | $4 | ≤ $3 | $v |"
  if [ "$v" = "**missed**" ]; then
    missed="$missed
- $1: $4, $(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.0f%%", 100 * (a / b - 1) }') over the limit.${5:+ $5}"
  fi
}
r () { ratio "$1" "$2" | tr -d ×; }
floor_split=$(med runc.split)
floor_start=$(awk -v a="$(med runc.create)" -v b="$(med runc.start)" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.4g\n", a + b }')
gmo_per=$(awk -v a="$c_list_many" -v b="$(med ctrd.list.0)" -v n="$many" 'BEGIN { if (a == "-" || b == "-") print "?"; else printf "%.1f", (a - b) * 1000 / n }')
rss_per=$(awk -v a="$rss_many" -v b="$(val rss.ctrd.0)" -v n="$many" 'BEGIN { if (a == "?" || b == "?") print "?"; else printf "%.1f", (a - b) / n }')

target "\`containersctl run --rm true\` vs \`podman run --rm\` (\`--network none\`)" "$(r "$l_run" "$p_run")" 0.50 \
  "$(ratio "$l_run" "$p_run") ($l_run vs $p_run ms)" \
  "runc's own create/start/delete are $(ratio "$floor_split" "$p_run") of podman's time."
target "… vs podman's default (bridge network)" "$(r "$l_run" "$p_run_br")" 0.50 "$(ratio "$l_run" "$p_run_br") ($l_run vs $p_run_br ms)"
l_run_bp=$(med ctl.run_rm_bridge_port); p_run_bp=$(med podman.run_rm_bridge_port)
nv_setup=$(med netavark.setup); nv_teardown=$(med netavark.teardown)
target "\`containersctl run --rm --network bridge -p\` vs podman's (one published port)" \
  "$(r "$l_run_bp" "$p_run_bp")" 0.50 "$(ratio "$l_run_bp" "$p_run_bp") ($l_run_bp vs $p_run_bp ms)" \
  "netavark alone takes $nv_setup ms to set the attachment up and $nv_teardown ms to tear it down ($(awk -v a="$nv_setup" -v b="$nv_teardown" -v c="$l_run_bp" 'BEGIN { if (a == "-" || b == "-" || c == "-") print "?"; else printf "%.0f%%", 100 * (a + b) / c }') of containersctl's run), mostly its iptables-nft processes."
target "\`containersctl run --rm true\` vs bare \`runc run\`" "$(r "$l_run" "$runc_run")" 1.50 \
  "$(ratio "$l_run" "$runc_run") ($l_run vs $runc_run ms)" \
  "Bound: runc create + start + delete as separate processes (what a manager whose containers outlive it must call) take $floor_split ms = $(ratio "$floor_split" "$runc_run") \`runc run\`; containersctl spends $(awk -v a="$l_run" -v b="$floor_split" 'BEGIN { printf "%.1f", a - b }') ms above that floor (conmon, the daemon with $(val cpu.run_rm.ctrd) ms of its own CPU per run, the client)."
target "create via D-Bus vs \`podman create\`" "$(r "$c_create" "$p_create")" 0.10 "$(ratio "$c_create" "$p_create") ($c_create vs $p_create ms)"
target "start via D-Bus vs \`podman start\`" "$(r "$c_start" "$p_start")" 0.50 "$(ratio "$c_start" "$p_start") ($c_start vs $p_start ms)" \
  "Bound: \`runc create\` + \`runc start\` alone take $floor_start ms = $(ratio "$floor_start" "$p_start") podman's start; containersd spends $(awk -v a="$c_start" -v b="$floor_start" 'BEGIN { printf "%.1f", a - b }') ms above that (conmon, spec, overlay mount, state writes)."
target "stop -t 0 via D-Bus vs \`podman stop -t 0\`" "$(r "$c_stop" "$p_stop")" 0.50 "$(ratio "$c_stop" "$p_stop") ($c_stop vs $p_stop ms)"
target "remove via D-Bus vs \`podman rm\`" "$(r "$c_rm" "$p_rm")" 0.50 "$(ratio "$c_rm" "$p_rm") ($c_rm vs $p_rm ms)"
target "\`GetManagedObjects\` with $many containers (ms)" "$c_list_many" 50 "$c_list_many ms" \
  "It grows by $gmo_per µs per container."
target "\`containersctl ps -a\` vs \`podman ps -a\`, $many containers" "$(r "$l_ps_many" "$p_ps_many")" 0.10 \
  "$(ratio "$l_ps_many" "$p_ps_many") ($l_ps_many vs $p_ps_many ms)" \
  "Of containersctl's $l_ps_many ms, $c_list_many are the daemon's GetManagedObjects and $(med ctl.ps.0) the client's start with no containers."
target "daemon RSS with $many containers (MiB)" "$(awk -v a="$rss_many" 'BEGIN { if (a == "?") print "?"; else printf "%.1f", a / 1024 }')" 40 \
  "$(mib "$rss_many")" "It grows by $rss_per KiB per container."
if [ "$copied_ok" = 0 ]; then
  echo "| image data copied per container | 0 (overlay on one shared checkout) | 0 | met |"
else
  echo "| image data copied per container | see Disk | 0 | **missed** |"
  missed="$missed
- image data copied per container: see Disk."
fi
c_pull=$(med ctrd.pull); p_pull=$(med podman.pull)
target "pull of the 100 MB image from a local registry vs \`podman pull\`" "$(r "$c_pull" "$p_pull")" 1.00 \
  "$(ratio "$c_pull" "$p_pull") ($c_pull vs $p_pull ms)"
ns=$(val stats.count 100); c_stats=$(med ctrd.stats_round); p_stats=$(med podman.stats)
target "\`GetStats\` of $ns running containers, one round, vs \`podman stats --no-stream\`" \
  "$(r "$c_stats" "$p_stats")" 1.00 "$(ratio "$c_stats" "$p_stats") ($c_stats vs $p_stats ms)"
target "… the daemon's CPU per round (ms; polled once a second: ≤ 10% of a CPU)" \
  "$(val cpu.stats_round.ctrd)" 100 "$(val cpu.stats_round.ctrd) ms"
target "import vs \`ostree commit --tree=tar=\`" "$(r "$c_imp" "$o_imp")" 1.20 "$(ratio "$c_imp" "$o_imp") ($c_imp vs $o_imp ms)"
target "import vs \`podman import\`" "$(r "$c_imp" "$p_imp")" 1.00 "$(ratio "$c_imp" "$p_imp") ($c_imp vs $p_imp ms)"
target "repo growth for the 90%-shared image (%)" "$c_grow_pct" 15 "${c_grow_pct}% of the first image"
target "exit → \`PropertiesChanged\`, median (ms)" "$exit_sig" 50 "$exit_sig ms (max $(stats "$S/ctrd.exit_to_signal" | cut -d' ' -f3))"

if [ -n "$missed" ]; then
  printf '\nMissed:\n%s\n' "$missed"
else
  printf '\nEvery target is met.\n'
fi
[ "$quick" = 1 ] && echo && echo "A quick run measures listing and memory at $many containers, not 1,000."

cat <<EOF

## Life cycle (ms)

| figure | bare runc | podman | containersd D-Bus | containersctl | D-Bus / podman | ctl / podman | ctl / runc |
|---|---|---|---|---|---|---|---|
| create (\`sleep 1000\`) | – | $(cell podman.create) | $(cell ctrd.create) | $(cell ctl.create) | $(ratio "$c_create" "$p_create") | $(ratio "$l_create" "$p_create") | – |
| start (detached) | – | $(cell podman.start) | $(cell ctrd.start) | $(cell ctl.start) | $(ratio "$c_start" "$p_start") | $(ratio "$l_start" "$p_start") | – |
| stop -t 0 | – | $(cell podman.stop) | $(cell ctrd.stop) | $(cell ctl.stop) | $(ratio "$c_stop" "$p_stop") | $(ratio "$l_stop" "$p_stop") | – |
| rm | – | $(cell podman.rm) | $(cell ctrd.rm) | $(cell ctl.rm) | $(ratio "$c_rm" "$p_rm") | $(ratio "$l_rm" "$p_rm") | – |
| \`run --rm true\` end to end | $(cell runc.run) | $(cell podman.run_rm) | $(cell ctrd.run_rm) | $(cell ctl.run_rm) | $(ratio "$c_run" "$p_run") | $(ratio "$l_run" "$p_run") | $(ratio "$l_run" "$runc_run") |
| \`run --rm true\`, podman bridge | – | $(cell podman.run_rm_bridge) | – | – | $(ratio "$c_run" "$p_run_br") | $(ratio "$l_run" "$p_run_br") | – |
| \`run --rm --network bridge -p\` (one published port) | – | $(cell podman.run_rm_bridge_port) | – | $(cell ctl.run_rm_bridge_port) | – | $(ratio "$(med ctl.run_rm_bridge_port)" "$(med podman.run_rm_bridge_port)") | – |
| … netavark setup alone / teardown alone | – | – | $(cell netavark.setup) | $(cell netavark.teardown) | – | – | – |
| inspect one running container | – | $(cell podman.inspect) | GetAll $(cell ctrd.getall) | $(cell ctl.inspect) | $(ratio "$(med ctrd.getall)" "$(med podman.inspect)") | $(ratio "$(med ctl.inspect)" "$(med podman.inspect)") | – |
| one property (\`Get\` State) | – | – | $(cell ctrd.get) | – | – | – | – |
| exit → \`PropertiesChanged\` | – | – | $(cell ctrd.exit_to_signal) | – | – | – | – |
| … exit → conmon's exit file | – | – | $(cell ctrd.exit_to_file) | – | – | – | – |
| … exit file → \`PropertiesChanged\` (the daemon) | – | – | $(cell ctrd.file_to_signal) | – | – | – | – |

"bare runc" is \`runc run\` (create, start, wait, delete in one process, no conmon). containersd's
D-Bus \`run --rm\` is CreateContainer + Start + Wait + Remove; \`containersctl run --rm\` does the
same calls through the generated proxies. The exit latency is from the kernel's end of the
container's process (a pidfd, after a SIGKILL from the client) to the \`PropertiesChanged\` with
the new State; the kill itself took $(cell ctrd.kill_to_exit). The exit file's arrival (conmon renames
\`ID.tmp\` to \`ID\` in the run root's \`exits/\`, watched by the client with inotify) splits it into
conmon's part and the daemon's; $(awk '$1 > 50000 { n++ } END { print n + 0 }' "$S/ctrd.exit_to_signal" 2>/dev/null) of $(wc -l < "$S/ctrd.exit_to_signal" 2>/dev/null || echo 0) exits took over 50 ms.

The floor set by runc itself, measured in the same loop as \`run --rm\`:

| runc | ms |
|---|---|
| \`runc run\` (one process: create, start, wait, delete) | $(cell runc.run) |
| \`runc create\`, \`runc start\`, \`runc delete\` as three processes, end to end | $(cell runc.split) |
| … \`runc create\` | $(cell runc.create) |
| … \`runc start\` | $(cell runc.start) |
| … \`runc delete\` (retried until \`true\` has exited) | $(cell runc.delete) |

A manager whose containers outlive it (conmon as their parent, as in podman and containersd)
needs the three separate calls: that floor is $(ratio "$(med runc.split)" "$runc_run") \`runc run\`, so the 1.5× target leaves
$(awk -v r="$runc_run" -v s="$(med runc.split)" 'BEGIN { if (r == "-" || s == "-") print "?"; else printf "%.1f", 1.5 * r - s }') ms for conmon, the daemon and the client together. containersd's own CPU per \`run --rm\`:
$(val cpu.run_rm.ctrd) ms in the daemon, plus $(val cpu.run_rm.children) ms in the children it waits for (its \`runc start\` and
\`runc delete\` calls; \`runc create\` runs under conmon); clock ticks over all containersd runs of the loop.

## Listing (ms)

| containers | \`podman ps -a\` | \`GetManagedObjects\` | \`containersctl ps -a\` | GetManagedObjects / podman | ctl / podman |
|---|---|---|---|---|---|
EOF
for n in $(printf '%s\n' 0 100 "$many" | awk '!seen[$1]++'); do
  [ -s "$S/podman.ps.$n" ] || continue
  echo "| $n | $(cell "podman.ps.$n") | $(cell "ctrd.list.$n") | $(cell "ctl.ps.$n") | $(ratio "$(med "ctrd.list.$n")" "$(med "podman.ps.$n")") | $(ratio "$(med "ctl.ps.$n")" "$(med "podman.ps.$n")") |"
done
cat <<EOF

Both list tables (no \`--format\`). \`GetManagedObjects\` also carries the image objects
($(val "objects.$many") objects at $many containers). Creating the containers (not timed above):
$(awk -v t="$(val "create_many.ctrd.$many" 0)" -v n="$many" 'BEGIN { printf "%.1f", t / n / 1000 }') ms each through D-Bus,
$(awk -v t="$(val "create_many.podman.$many" 0)" -v n="$many" 'BEGIN { printf "%.1f", t / n / 1000 }') ms each with \`podman create\` (means over 1–$many).

## Memory

| | value |
|---|---|
| containersd RSS, 0 containers (image imported, after one listing) | $(mib "$(val rss.ctrd.0)") |
| … with 5 running containers | $(mib "$(val rss.ctrd.running)") |
EOF
for n in $(printf '%s\n' 100 "$many" | awk '!seen[$1]++'); do
  [ -s "$V/rss.ctrd.$n" ] || continue
  echo "| … with $n containers, after the listings (peak: $(mib "$(val "hwm.ctrd.$n")")) | $(mib "$(val "rss.ctrd.$n")") |"
done
read -r cr cp cn <<<"$(val conmon.ctrd "? ? 0")"
read -r pr pp pn <<<"$(val conmon.podman "? ? 0")"
cat <<EOF
| … with $many containers, just restarted / after one listing | $(mib "$(val "rss.ctrd.$many.fresh")") / $(mib "$(val "rss.ctrd.$many.fresh_listed")") |
| \`podman ps -a\` peak RSS, 0 / $many containers (podman has no daemon: this is its per-command cost) | $(mib "$(val rss.podman_ps.0)") / $(mib "$(val "rss.podman_ps.$many")") |
| \`containersctl ps -a\` peak RSS, 0 / $many containers | $(mib "$(val rss.ctl_ps.0)") / $(mib "$(val "rss.ctl_ps.$many")") |
| conmon per running container, containersd (RSS / PSS, median of $cn) | $cr / $cp KiB |
| conmon per running container, podman (RSS / PSS, median of $pn) | $pr / $pp KiB |

## Disk

| per container | containersd | podman |
|---|---|---|
| created (mean over $many; store on ext4, \`du -B1\`) | $(bytes "$(val disk.created.ctrd)"), $(val inodes.created.ctrd) inodes | $(bytes "$(val disk.created.podman)"), $(val inodes.created.podman) inodes |
| created, run root (tmpfs, apparent) | $(bytes "$(val run.created.ctrd)") | $(bytes "$(val run.created.podman)") |
| started (mean over 5 running \`sleep\`) | $(bytes "$(val disk.started.ctrd)") | $(bytes "$(val disk.started.podman)") |

The busybox image is $(bytes "$image_bytes") of files. containersd's 5 running containers had
$(val overlay.ctrd.count 0) overlay roots over $(val overlay.ctrd.lowers 0) distinct lower
director$( [ "$(val overlay.ctrd.lowers 0)" = 1 ] && echo y || echo ies) (\`$(val overlay.ctrd.lower "?")\` in the storage root), so
no image file is copied per container.

## Import of the 100 MB image (ms)

5,000 files of 20,480 B (AES-CTR keystream, incompressible) in 50 directories; tar
$(val tar_bytes) B, sha256 $(val tar_sha256)…; each import into a fresh store, page cache warm.

| | \`ostree commit --tree=tar=\` | \`podman import\` | containersd \`ImportImageFromPath\` | ctrd / ostree | ctrd / podman |
|---|---|---|---|---|---|
| import | $(cell ostree.import) | $(cell podman.import) | $(cell ctrd.import) | $(ratio "$c_imp" "$o_imp") | $(ratio "$c_imp" "$p_imp") |
| import + \`sync\` | $(cell ostree.import_sync) | $(cell podman.import_sync) | $(cell ctrd.import_sync) | $(ratio "$c_imps" "$o_imps") | $(ratio "$c_imps" "$p_imps") |

| second image, 90% of files shared | ostree repo | podman store | containersd storage root |
|---|---|---|---|
| growth for image 1 | $(bytes "$o_size1") | $(bytes "$p_size1") | $(bytes "$c_size1") |
| growth for image 2 | $(bytes "$o_grow2") | $(bytes "$p_grow2") | $(bytes "$c_grow2") |
| time to add image 2 (one sample, with sync) | $(num "$(val dedup.ostree.time2)" | awk '{ printf "%.0f ms", $1 / 1000 }') | $(num "$(val dedup.podman.time2)" | awk '{ printf "%.0f ms", $1 / 1000 }') | $(num "$(val dedup.ctrd.time2)" | awk '{ printf "%.0f ms", $1 / 1000 }') |

## Daemon start-up (ms, until \`GetManagedObjects\` answers)

| containers | start-up |
|---|---|
| 0 | $(cell ctrd.startup.0) |
| $many | $(cell "ctrd.startup.$many") ($(val startup_reps "?") runs) |
EOF
