#!/bin/bash
# test-cli-verbs.sh: the podman-like verbs of containersctl beyond the basic
# lifecycle (pause, logs, exec, export, commit, diff, restart, rename, rebase,
# rollback, verify, tag, untag, rmi, save, load, prune, events, run -d --rm,
# the container/image groups, limits and update, stats, cp, image prune,
# events --since/--until, exec -it, run -it and attach under a pseudo-terminal
# of the test's own, pull and push against a local docker-registry, the
# selection flags --all and --ignore, rm -t, the exists verbs and podman's
# messages and exit codes for what is missing), each
# checked by what it does to the daemon on temporary roots. Runs on the private bus of tests/private-bus.sh (run-test.sh
# puts it there); prints TAP.
set -u

. "${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}/tests/libtest.sh"
ctrd_test_begin cli-verbs

events_show () { grep -Eq -- "$1" "$tmp/events.log"; }

# ---- the daemon and an image -------------------------------------------

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
busybox_path=$(image_path busybox)

# ---- events: started first, so that it sees everything below ------------

"$ctl" events >"$tmp/events.log" 2>"$tmp/events.err" &
events_pid=$!
track_pid "$events_pid"
# It prints nothing until an event comes: rename a probe container until the
# rename shows, which proves the subscription is in place.
ok_ctl "create a probe container" create --name probe busybox true
probe_seen () {
  "$ctl" rename probe probe2 >/dev/null 2>&1 || "$ctl" rename probe2 probe >/dev/null 2>&1
  events_show ' container rename probe2? '
}
if wait_for probe_seen; then
  pass "events prints a rename as it happens"
else
  fail "events prints a rename as it happens"
  diag <"$tmp/events.err"
fi
expect "an event line is TIME container EVENT NAME (ID)" "$(grep -m1 rename "$tmp/events.log")" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [+-][0-9]{4} [A-Za-z0-9+-]+ container rename probe2? \([0-9a-f]{64}\)$'

# ---- pause, unpause ----------------------------------------------------

ok_ctl "run -d web" run -d --name web busybox \
  sh -c 'echo out-line; echo err-line >&2; echo ready > /tmp/ready; sleep 300'
web_id=$out
expect "run -d prints the container ID" "$web_id" '^[0-9a-f]{64}$'
truth "web is running" wait_for container_state_is web running

ok_ctl "pause web" pause web
truth "pause: State is paused" container_state_is web paused
ok_ctl "ps after pause" ps
expect "ps shows web as paused" "$(printf '%s\n' "$out" | grep ' web$')" '\(Paused\)'
run_ctl "exec in a paused container fails with 125" 125 exec web true
ok_ctl "unpause web" unpause web
truth "unpause: State is running" container_state_is web running
run_ctl "unpause of a running container fails with 125" 125 unpause web
expect "the failure is explained" "$err" '^Error: '

# ---- logs --------------------------------------------------------------

wait_for "$ctl" exec web test -e /tmp/ready
ok_ctl "logs web" logs web
expect "logs shows the container's stdout" "$out" '^out-line$'
expect "logs shows the container's stderr" "$out" '^err-line$'
ok_ctl "logs --tail 1 web" logs --tail 1 web
expect "--tail 1 shows the last line only" "$out" '^err-line$'
expect_not "--tail 1 leaves the first line out" "$out" 'out-line'
ok_ctl "logs -t web" logs -t web
expect "-t prefixes an RFC 3339 time" "$out" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) out-line$'
ok_ctl "logs --since a time to come" logs --since "$(($(date +%s) + 3600))" web
expect "--since in the future shows nothing" "$out" '^$'
ok_ctl "logs --since 10m" logs --since 10m web
expect "--since 10m shows the lines" "$out" '^out-line$'
ok_ctl "logs --since RFC 3339" logs --since "$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)" web
expect "--since RFC 3339 shows the lines" "$out" '^err-line$'
ok_ctl "logs --since 1h30m" logs --since 1h30m web
expect "--since takes compound durations" "$out" '^out-line$'
run_ctl "logs --since nonsense fails with 125" 125 logs --since yesterday web
run_ctl "logs of an unknown container fails with 125" 125 logs no-such-container

ok_ctl "run -d a container printing for a second" run -d --name brief busybox \
  sh -c 'echo first; sleep 1; echo second'
ok_ctl "logs -f follows it until it exits" logs -f brief
expect "logs -f got the line printed before" "$out" '^first$'
expect "logs -f got the line printed after a second" "$out" '^second$'

# ---- exec --------------------------------------------------------------

run_ctl "exec exits with the command's code" 7 exec web sh -c 'echo from-exec; exit 7'
expect "exec's stdout is ours" "$out" '^from-exec$'
# shellcheck disable=SC2016 # expanded by the container's shell
run_ctl "exec -e -w: options before CONTAINER" 0 exec -e GREETING=hi -w /tmp web \
  sh -c 'echo "$GREETING $(pwd)"'
expect "exec passes -e and -w" "$out" '^hi /tmp$'
run_ctl "options after CONTAINER belong to the command" 0 exec web ls -d /tmp
expect "ls got -d" "$out" '^/tmp$'
run_ctl "exec's stderr is ours" 0 exec web sh -c 'echo to-stderr >&2'
expect "the command's stderr reached ours" "$err" '^to-stderr$'
out=$(echo piped-in | "$ctl" exec -i web cat 2>&1)
expect "exec -i passes our stdin" "$out" '^piped-in$'
out=$(echo piped-in | "$ctl" exec web cat 2>&1)
expect "without -i the command's stdin is empty" "$out" '^$'
run_ctl "exec without a command fails with 125" 125 exec web
ok_ctl "exec writes a file" exec web sh -c 'echo added-content > /added-file'

# ---- diff, export ------------------------------------------------------

ok_ctl "diff web" diff web
expect "diff shows the added file" "$out" '^A /added-file$'
expect "diff prints KIND PATH lines" "$out" '^[ACD] /'

"$ctl" export web >"$tmp/web-stdout.tar" 2>"$tmp/stderr"
truth "export to stdout writes a tar with bin/sh" \
  grep -Eqx '(\./)?bin/sh' <(tar -tf "$tmp/web-stdout.tar")
ok_ctl "export -o FILE" export -o "$tmp/web.tar" web
truth "the exported tar has the added file" \
  grep -Eqx '(\./)?added-file' <(tar -tf "$tmp/web.tar")
out=$(script -qec "$ctl export web" /dev/null 2>&1); status=$?
if [ $status -eq 125 ] && printf '%s\n' "$out" | grep -q 'terminal'; then
  pass "export refuses a terminal stdout"
else
  fail "export refuses a terminal stdout"
  { echo "status $status"; printf '%s\n' "$out"; } | diag
fi
run_ctl "export -o into a missing directory fails with 125" 125 \
  export -o "$tmp/no/such/dir.tar" web

# ---- commit ------------------------------------------------------------

ok_ctl "commit web snap" commit web snap
expect "commit prints the image ID" "$out" '^[0-9a-f]{64}$'
snap_id=$out
truth "commit left web running" container_state_is web running
ok_ctl "run --rm snap shows the committed file" run --rm snap cat /added-file
expect "the new image holds the container's change" "$out" '^added-content$'
ok_ctl "commit --pause=false" commit --pause=false web
expect "commit without a name prints an image ID" "$out" '^[0-9a-f]{64}$'
unnamed_id=$out
run_ctl "commit --pause=maybe fails with 125" 125 commit --pause=maybe web
ok_ctl "images after commit" images --no-trunc
expect "images lists snap with its ID" "$out" "^snap +latest +$snap_id "

# ---- restart, rename ---------------------------------------------------

started_before=$(container_prop web StartedAt)
ok_ctl "restart -t 1 web" restart -t 1 web
truth "restart: running again" container_state_is web running
started_after=$(container_prop web StartedAt)
truth "restart: StartedAt moved on" [ "$started_after" != "$started_before" ]
ok_ctl "rename web web2" rename web web2
expect "rename prints nothing" "$out" '^$'
truth "the container is found by its new name" container_exists web2
truth "the old name is free" container_gone web
run_ctl "rename onto a name in use fails with 125" 125 rename web2 brief

# ---- rebase, rollback, verify ------------------------------------------

ok_ctl "stop -t 1 web2" stop -t 1 web2
snap_path=$(image_path snap)
run_ctl "rebase onto an unknown image fails with 125" 125 rebase web2 no-such-image
ok_ctl "rebase web2 snap" rebase web2 snap
truth "rebase: Image is snap" [ "$(container_prop web2 Image)" = "$snap_path" ]
truth "rebase: PreviousImage is busybox" [ "$(container_prop web2 PreviousImage)" = "$busybox_path" ]
ok_ctl "rollback web2" rollback web2
truth "rollback: Image is busybox again" [ "$(container_prop web2 Image)" = "$busybox_path" ]
truth "rollback: PreviousImage is snap" [ "$(container_prop web2 PreviousImage)" = "$snap_path" ]

ok_ctl "verify of an intact container" verify web2
expect "verify prints nothing" "$out" '^$'
commit=$(busctl --system get-property "$name" "$busybox_path" "$name.Image" Commit | busctl_value)
checkout=$storage/checkouts/$commit
if [ -f "$checkout/etc/group" ]; then
  # A new file in its place: the repository's object (hard-linked) is untouched.
  echo 'tampered:x:99:' >"$tmp/group" && mv "$tmp/group" "$checkout/etc/group"
  run_ctl "verify after a change to the image's files exits 1" 1 verify web2
  expect "verify names the changed file" "$out" 'etc/group$'
else
  fail "the image checkout is at $checkout"
fi

# ---- tag, untag, rmi ---------------------------------------------------

ok_ctl "tag busybox extra extra2:v1" tag busybox extra extra2:v1
ok_ctl "images after tag" images
expect "tag added extra:latest" "$out" '^extra +latest '
expect "tag added extra2:v1" "$out" '^extra2 +v1 '
ok_ctl "untag busybox extra2:v1" untag busybox extra2:v1
ok_ctl "images after untag" images
expect_not "untag removed extra2:v1" "$out" '^extra2 '
expect "untag kept the image's other names" "$out" '^busybox +latest '
run_ctl "untag of a name the image lacks fails with 125" 125 untag busybox nonesuch
ok_ctl "rmi extra (one of two names)" rmi extra
expect "rmi of one of several names only untags" "$out" '^Untagged: extra:latest$'
truth "the image is still there" image_exists busybox
run_ctl "rmi of an image in use exits 2, as podman" 2 rmi snap
ok_ctl "rmi of an unused image by ID" rmi "$unnamed_id"
expect "rmi says Deleted: ID" "$out" "^Deleted: $unnamed_id$"
truth "the removed image is gone" image_gone "$unnamed_id"

# ---- save, load --------------------------------------------------------

ok_ctl "save -o FILE busybox" save -o "$tmp/saved.tar" busybox
truth "the saved archive is an OCI layout tar can read" \
  grep -qx 'index.json' <(tar -tf "$tmp/saved.tar")
"$ctl" save --format rootfs-tar busybox >"$tmp/rootfs.tar" 2>"$tmp/stderr"
truth "save --format rootfs-tar writes the root filesystem" \
  grep -Eqx '(\./)?bin/sh' <(tar -tf "$tmp/rootfs.tar")
run_ctl "save --format nonsense fails with 125" 125 save -o "$tmp/bad.tar" --format nonsense busybox
truth "a failed save leaves no file" [ ! -e "$tmp/bad.tar" ]
ok_ctl "load -i FILE" load -i "$tmp/saved.tar"
expect "load names the image from the archive" "$out" '^Loaded image: busybox:latest$'
ok_ctl "load < FILE" load <"$tmp/saved.tar"
expect "load from stdin names the image too" "$out" '^Loaded image: busybox:latest$'
truth "the loaded image is found by name" image_exists busybox

# ---- prune, run -d --rm ------------------------------------------------

ok_ctl "rm -f web2" rm -f web2

truth "brief has exited" wait_for container_ended brief
echo n | "$ctl" prune >/dev/null 2>&1
truth "prune answered no removes nothing" container_exists brief
ok_ctl "prune -f" prune -f
brief_listed=$out
truth "prune -f removed the exited container" container_gone brief
expect "prune -f prints the removed IDs" "$brief_listed" '^[0-9a-f]{64}$'
ok_ctl "container prune -f (the group's name)" container prune -f

# It runs until stopped, so that a slow machine cannot remove it before
# its property is read.
ok_ctl "run -d --rm" run -d --rm --name auto busybox sleep 300
truth "run -d --rm sets AutoRemove" [ "$(container_prop auto AutoRemove)" = true ]
ok_ctl "stop -t 1 auto" stop -t 1 auto
truth "the --rm container goes once it exits" wait_for container_gone auto

# ---- groups --------------------------------------------------------------

ok_ctl "run -d a container for the groups" run -d --name grouped busybox sleep 300
ok_ctl "container ls" container ls
expect "container ls lists running containers" "$out" ' grouped$'
ok_ctl "image ls" image ls
expect "image ls lists images" "$out" '^busybox +latest '
run_ctl "an unknown group verb fails with 125" 125 container nonsense
ok_ctl "container rm -f" container rm -f grouped

# ---- limits at create, update, stats -------------------------------------

ok_ctl "run -d with --memory --cpus --pids-limit --restart" run -d --name limited \
  --memory 64m --cpus 0.5 --pids-limit 100 --restart on-failure:2 busybox sleep 300
limited_id=$out
truth "limited is running" wait_for container_state_is limited running
expect_eq "--memory 64m is MemoryLimit" "$(container_prop limited MemoryLimit)" 67108864
expect_eq "--cpus 0.5 is CpuQuota" "$(container_prop limited CpuQuota)" 0.5
expect_eq "--pids-limit 100 is PidsLimit" "$(container_prop limited PidsLimit)" 100
expect_eq "--restart on-failure:2 is RestartPolicy" "$(container_prop limited RestartPolicy)" \
  on-failure:2
run_ctl "create --memory lots fails with 125" 125 create --name bad-memory --memory lots busybox true
expect "the bad --memory is named" "$err" 'invalid --memory "lots"'
run_ctl "create --cpus -1 fails with 125" 125 create --name bad-cpus --cpus -1 busybox true
run_ctl "create --pids-limit x fails with 125" 125 create --name bad-pids --pids-limit x busybox true
run_ctl "create --restart sometimes fails with 125" 125 create --name bad-restart \
  --restart sometimes busybox true
truth "no container was created by the bad options" container_gone bad-restart
run_ctl "run -i without -t fails with 125" 125 run -i --name bad-interactive busybox true
truth "run -i without -t created nothing" container_gone bad-interactive
ok_ctl "run --rm --init" run --rm --init busybox sh -c 'tr "\0" " " </proc/1/cmdline'
expect "--init puts an init at PID 1" "$out" 'catatonit|init'

ok_ctl "update --memory --pids-limit -1 --restart always" update --memory 128m --pids-limit -1 \
  --restart always limited
expect_eq "update prints the container ID" "$out" "$limited_id"
expect_eq "update set MemoryLimit" "$(container_prop limited MemoryLimit)" 134217728
expect_eq "update --pids-limit -1 is no limit" "$(container_prop limited PidsLimit)" 0
expect_eq "update set RestartPolicy" "$(container_prop limited RestartPolicy)" always
expect_eq "update kept CpuQuota" "$(container_prop limited CpuQuota)" 0.5
run_ctl "update without a limit fails with 125" 125 update limited
run_ctl "update --restart sometimes fails with 125" 125 update --restart sometimes limited
expect "the daemon's refusal is shown" "$err" '^Error: .*sometimes'
expect_eq "a bad update changed nothing" "$(container_prop limited RestartPolicy)" always
run_ctl "update --cpus lots fails with 125" 125 update --cpus lots limited
run_ctl "update of an unknown container fails with 125" 125 update --memory 1g no-such-container

ok_ctl "stats --no-stream limited" stats --no-stream limited
expect "stats prints podman's header" "$(printf '%s\n' "$out" | head -n1)" \
  '^ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +BLOCK IO +PIDS +CPU TIME +AVG CPU %$'
expect "stats prints a row with the limit and figures" "$(printf '%s\n' "$out" | sed -n 2p)" \
  "^${limited_id:0:12} +limited +[0-9.]+% +[0-9.]+ [kMG]?B / 134 MB +[0-9.]+% +[0-9.]+ [kMG]?B / [0-9.]+ [kMG]?B +[1-9][0-9]* +[0-9.]+m?s +[0-9.]+%$"
ok_ctl "create a container that is never started" create --name never busybox true
ok_ctl "stats --no-stream (every running container)" stats --no-stream
expect "stats without names lists the running ones" "$out" "^${limited_id:0:12} +limited "
expect_not "stats without names leaves out the others" "$out" ' never '
run_ctl "stats without --no-stream fails with 125" 125 stats limited
run_ctl "stats of a container that never started fails with 125" 125 stats --no-stream never
run_ctl "stats of an unknown container fails with 125" 125 stats --no-stream no-such-container

# ---- health checks -------------------------------------------------------

ok_ctl "run -d with --health-cmd, a duration and --health-retries" run -d --name hc-ok \
  --health-cmd 'test -e /etc/passwd' --health-interval 1m30s --health-retries 1 busybox sleep 300
truth "hc-ok is running" wait_for container_state_is hc-ok running
# gdbus prints the JSON's newlines as \n
hc_config=$(gcall "$(container_path hc-ok)" Container.Inspect | sed 's/\\n//g' | tr -d ' ')
expect "a shell --health-cmd runs through /bin/sh -c" "$hc_config" \
  '"cmd":\["/bin/sh","-c","test-e/etc/passwd"\]'
expect "--health-interval 1m30s is 90 seconds" "$hc_config" '"interval":90,'
ok_ctl "healthcheck run of a passing check exits 0" healthcheck run hc-ok
expect_eq "and prints nothing, as podman" "$out" ""
ok_ctl "ps -a after the check" ps -a
expect "ps shows the health in the status" "$out" 'hc-ok' 
expect "ps says (healthy)" "$(printf '%s\n' "$out" | grep hc-ok)" 'Up .* \(healthy\)'
ok_ctl "run -d with a JSON --health-cmd that fails" run -d --name hc-bad \
  --health-cmd '["false"]' --health-interval 1h --health-retries 1 busybox sleep 300
run_ctl "healthcheck run of a failing check exits 1" 1 healthcheck run hc-bad
expect_eq "and prints unhealthy" "$out" unhealthy
expect_eq "Health is unhealthy" "$(container_prop hc-bad Health)" unhealthy
run_ctl "--health-interval 1x fails with 125" 125 create --name bad-hc --health-cmd true \
  --health-interval 1x busybox true
expect "the bad duration is named" "$err" 'health-interval'
run_ctl "--health-interval 0 fails with 125 (the daemon refuses it)" 125 create --name bad-hc \
  --health-cmd true --health-interval 0 busybox true
expect "the daemon's refusal names it" "$err" 'HealthInterval'
run_ctl "--health-retries x fails with 125" 125 create --name bad-hc --health-cmd true \
  --health-retries x busybox true
run_ctl "--health-on-failure explode fails with 125" 125 create --name bad-hc --health-cmd true \
  --health-on-failure explode busybox true
truth "no container was created by the bad health options" container_gone bad-hc
run_ctl "healthcheck run of a container without a check fails with 125" 125 \
  healthcheck run limited
run_ctl "healthcheck with another command fails with 125" 125 healthcheck check hc-ok
ok_ctl "remove the health check containers" rm -f hc-ok hc-bad

# ---- volumes -------------------------------------------------------------

ok_ctl "volume create --label NAME" volume create --label app=db vol-a
expect_eq "volume create prints the name" "$out" vol-a
ok_ctl "volume create without a name" volume create
vol_generated=$out
expect "a generated volume name is 64 hex" "$vol_generated" '^[0-9a-f]{64}$'
run_ctl "volume create of a name taken fails with 125" 125 volume create vol-a
run_ctl "volume create of a bad name fails with 125" 125 volume create 'bad/name'
ok_ctl "volume ls" volume ls
expect "volume ls prints podman's header" "$(printf '%s\n' "$out" | head -n1)" '^DRIVER +VOLUME NAME$'
expect "volume ls lists vol-a" "$out" '^local +vol-a$'
ok_ctl "volume ls -q" volume ls -q
expect "volume ls -q prints only names" "$out" "^$vol_generated\$"
expect_not "volume ls -q has no header" "$out" 'DRIVER'
ok_ctl "run a container using vol-a" run --rm -v vol-a:/data busybox sh -c 'echo kept > /data/f'
ok_ctl "a second container sees what the first wrote" run --rm -v vol-a:/data busybox cat /data/f
expect_eq "the volume kept the file" "$out" kept
ok_ctl "volume inspect vol-a" volume inspect vol-a
vol_json=$(printf '%s' "$out" | tr -d ' \n')
expect "inspect has the name and the label" "$vol_json" '"Name":"vol-a","Driver":"local"'
expect "inspect has the labels" "$vol_json" '"Labels":\{"app":"db"\}'
expect "inspect has the mount point under the storage root" "$vol_json" '"Mountpoint":"/[^"]*/volumes/vol-a/_data"'
run_ctl "volume inspect of a missing volume fails with 125" 125 volume inspect no-such-volume
ok_ctl "volume exists vol-a" volume exists vol-a
run_ctl "volume exists of a missing volume exits 1" 1 volume exists no-such-volume
expect_eq "volume exists prints nothing" "$out" ""
ok_ctl "create a container that keeps vol-a in use" create --name vol-user -v vol-a:/data busybox true
run_ctl "volume rm of a volume in use fails with 125" 125 volume rm vol-a
expect "the refusal says it is in use" "$err" 'InUse|in use|use'
ok_ctl "volume exists: still there" volume exists vol-a
ok_ctl "volume prune -f removes only unused volumes" volume prune -f
expect "prune removed the generated one" "$out" "^$vol_generated\$"
expect_not "prune kept vol-a" "$out" 'vol-a'
ok_ctl "volume rm -f removes it with the container using it" volume rm -f vol-a
expect_eq "volume rm prints the name" "$out" vol-a
truth "the container using it is gone" container_gone vol-user
run_ctl "volume exists after rm exits 1" 1 volume exists vol-a
mkdir -p "$tmp/bind-src" && echo from-host > "$tmp/bind-src/f"
ok_ctl "run -v with an absolute source binds it" run --rm -v "$tmp/bind-src:/b" busybox cat /b/f
expect_eq "the container reads the host's file" "$out" from-host
run_ctl "a :ro bind cannot be written" 1 run --rm -v "$tmp/bind-src:/b:ro" busybox \
  sh -c 'echo x > /b/g'
truth "nothing was written through the :ro bind" test ! -e "$tmp/bind-src/g"
ok_ctl "run --tmpfs" run --rm --tmpfs /scratch:size=1m busybox sh -c 'grep " /scratch " /proc/mounts'
expect "the tmpfs is mounted with its size" "$out" 'tmpfs /scratch tmpfs .*size=1024k'
ok_ctl "create -v DESTINATION makes an anonymous volume" create --name anon-user -v /data busybox true
ok_ctl "volume ls -q with it" volume ls -q
anon_name=$(printf '%s\n' "$out" | grep -E '^[0-9a-f]{64}$' | head -n1)
truth "an anonymous volume is listed" test -n "$anon_name"
ok_ctl "rm -v removes the container and its anonymous volume" rm -v anon-user
run_ctl "the anonymous volume is gone" 1 volume exists "$anon_name"
run_ctl "-v with an empty destination fails with 125" 125 create --name bad-v -v 'src:' busybox true
truth "no container was created by the bad -v" container_gone bad-v
run_ctl "volume without a command fails with 125" 125 volume
run_ctl "volume frobnicate fails with 125" 125 volume frobnicate

# ---- cp ----------------------------------------------------------------

ok_ctl "exec makes files to copy" exec limited \
  sh -c 'mkdir -p /data/sub && echo hello >/data/sub/file && echo top >/data/top'
mkdir "$tmp/cp"
ok_ctl "cp CONTAINER:DIR HOSTDIR" cp limited:/data "$tmp/cp"
expect_eq "the directory came with what is below" "$(cat "$tmp/cp/data/sub/file")" hello
ok_ctl "cp CONTAINER:FILE NEW-NAME" cp limited:/data/top "$tmp/cp/renamed"
expect_eq "the file is under the new name" "$(cat "$tmp/cp/renamed")" top
expect_eq "no staging directory is left" "$(ls -A "$tmp/cp" | tr '\n' ' ')" "data renamed "
"$ctl" cp limited:/data - >"$tmp/cp.tar" 2>"$tmp/stderr"
truth "cp CONTAINER:DIR - writes a tar" grep -qx 'data/sub/file' <(tar -tf "$tmp/cp.tar")
echo from-host >"$tmp/host-file"
ok_ctl "cp HOSTFILE CONTAINER:DIR" cp "$tmp/host-file" limited:/data
run_ctl "the file reached the container" 0 exec limited cat /data/host-file
expect_eq "with its content" "$out" from-host
ok_ctl "cp HOSTFILE CONTAINER:NEW-NAME" cp "$tmp/host-file" limited:/data/named-copy
run_ctl "the file is in the container under the new name" 0 exec limited cat /data/named-copy
expect_eq "under the new name, its content" "$out" from-host
ok_ctl "cp HOSTDIR CONTAINER:NEW-NAME" cp "$tmp/cp/data" limited:/data-copy
run_ctl "the directory is in the container under the new name" 0 exec limited \
  cat /data-copy/sub/file
expect_eq "under the new name, what was below it" "$out" hello
run_ctl "cp into a missing container directory fails with 125" 125 \
  cp "$tmp/host-file" limited:/no/such/dir/x
run_ctl "cp to a container directory that is missing (trailing slash) fails with 125" 125 \
  cp "$tmp/host-file" limited:/not-there/
tar -C "$tmp/cp" -cf - renamed | "$ctl" cp - limited:/tmp >/dev/null 2>"$tmp/stderr"
run_ctl "cp - CONTAINER:DIR extracted the tar on stdin" 0 exec limited cat /tmp/renamed
expect_eq "with its content" "$out" top
run_ctl "cp between two host paths fails with 125" 125 cp "$tmp/host-file" "$tmp/cp"
run_ctl "cp between two containers fails with 125" 125 cp limited:/data limited:/tmp
run_ctl "cp from an unknown container fails with 125" 125 cp no-such-container:/data "$tmp/cp"
run_ctl "cp of a missing path fails with 125" 125 cp limited:/no/such/path "$tmp/cp"
expect "the missing path is named" "$err" '/no/such/path'
expect_eq "a failed cp leaves nothing" "$(ls -A "$tmp/cp" | tr '\n' ' ')" "data renamed "
run_ctl "cp into a missing host directory fails with 125" 125 cp limited:/data "$tmp/no/such"
run_ctl "cp of a missing host file fails with 125" 125 cp "$tmp/no-such-file" limited:/data

# ---- image prune -------------------------------------------------------

ok_ctl "commit an unnamed image" commit limited
dangling_id=$out
ok_ctl "commit a named image no container uses" commit limited unused-named
unused_id=$out
echo n | "$ctl" image prune >/dev/null 2>&1
truth "image prune answered no removes nothing" image_exists "$dangling_id"
ok_ctl "image prune -f" image prune -f
expect "image prune prints the removed IDs" "$out" "^$dangling_id$"
truth "the untagged image is gone" image_gone "$dangling_id"
truth "image prune keeps named images" image_exists unused-named
ok_ctl "image prune -a -f" image prune -a -f
expect "image prune -a removes the unused named image" "$out" "^$unused_id$"
truth "the unused named image is gone" image_gone unused-named
truth "image prune -a keeps images in use" image_exists busybox
run_ctl "image prune with an argument fails with 125" 125 image prune -f busybox

# ---- events --since, --until -------------------------------------------

ok_ctl "events --since 1h --stream=false" events --since 1h --stream=false
expect "the history has limited's create" "$out" \
  "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [+-][0-9]{4} [A-Za-z0-9+-]+ container create limited \\($limited_id\\)$"
expect "the history has limited's update" "$out" " container update limited \\($limited_id\\)$"
expect "the history has image events, named" "$out" ' image (import|commit|pull|remove|tag) '
ok_ctl "events --until a time to come" events --until "$(($(date +%s) + 3600))"
expect "--until prints the history and exits" "$out" ' container create limited '
ok_ctl "events --since a time to come --stream=false" events --since "$(($(date +%s) + 3600))" \
  --stream=false
expect_eq "nothing happened after a time to come" "$out" ""
run_ctl "events --until before --since fails with 125" 125 events --since 10m --until 1h
run_ctl "events --since nonsense fails with 125" 125 events --since yesterday
run_ctl "events --until nonsense fails with 125" 125 events --until tomorrow
expect "the bad --until is named" "$err" 'invalid --until "tomorrow"'

"$ctl" events --since 1h >"$tmp/events-since.log" 2>"$tmp/events-since.err" &
since_pid=$!
track_pid "$since_pid"
since_shows () { grep -Eq -- "$1" "$tmp/events-since.log"; }
truth "events --since prints the history first" wait_for since_shows ' container create limited '
ok_ctl "rename limited (an event after the history)" rename limited limited2
truth "events --since then prints what happens next" \
  wait_for since_shows ' container rename limited2 '
expect_eq "events --since prints each event once" \
  "$(grep -c " container create limited " "$tmp/events-since.log")" 1
stop_pid "$since_pid"
untrack_pid "$since_pid"
ok_ctl "rename limited2 back" rename limited2 limited

# ---- terminals: exec -it, run -it, attach --------------------------------

pty_run () { /usr/bin/python3 "$srcdir/tests/pty-run.py" "$@"; }

# shellcheck disable=SC2016 # expanded by the shells under the terminal
out=$(pty_run --size 33x111 'expect:READY' termios 'resize:40x120' -- sh -c \
  '"$0" exec -it limited sh -c "tty; stty size; trap \"stty size; exit 3\" WINCH; echo READY; while :; do sleep 1; done"
   status=$?; echo "containersctl-exit=$status"; stty -a; exit $status' "$ctl"); status=$?
expect_eq "exec -it exits with the process's code" "$status" 3
expect "exec -it: tty succeeds inside" "$out" '^/dev/pts/[0-9]+'
expect "exec -it: the terminal has our size" "$out" '^33 111'
expect "exec -it: a resize reaches the process" "$out" '^40 120'
expect "exec -it: our terminal is raw while it runs" "$out" '^#pty: icanon=0 echo=0$'
expect "exec -it: the exit code is containersctl's" "$out" 'containersctl-exit=3'
expect "exec -it: our terminal is restored after" "$out" '(^| )icanon( |$)'
expect "exec -it: echo is back on after" "$out" '(^| )echo( |$)'

out=$(pty_run 'expect:READY' 'send:typed-in\r' -- "$ctl" exec -it limited \
  sh -c 'echo READY; read line; echo "got-$line"; exit 5'); status=$?
expect_eq "exec -it passes our keys" "$status" 5
expect "exec -it: the process read what was typed" "$out" 'got-typed-in'

out=$(pty_run 'expect:READY' 'send:\x03' -- "$ctl" exec -it limited \
  sh -c 'echo READY; exec sleep 300'); status=$?
expect_eq "exec -it: Ctrl-C stops the process (SIGINT: exit 130)" "$status" 130

out=$(pty_run -- "$ctl" exec -t limited sh -c 'tty; exit 2'); status=$?
expect_eq "exec -t without -i exits with the process's code" "$status" 2
expect "exec -t without -i: the process has a terminal" "$out" '^/dev/pts/[0-9]+'

out=$(echo from-a-pipe | "$ctl" exec -it limited sh -c 'read line; echo "got-$line"' 2>&1)
status=$?
expect_eq "exec -it from a pipe runs, like podman" "$status" 0
expect "exec -it from a pipe warns, like podman" "$out" 'input device is not a TTY'
expect "exec -it from a pipe passes the pipe" "$out" 'got-from-a-pipe'
out=$(echo piped-to-run | "$ctl" run -it --rm busybox sh -c 'read line; echo "got-$line"' 2>&1)
status=$?
expect_eq "run -it from a pipe runs, like podman" "$status" 0
expect "run -it from a pipe warns, like podman" "$out" 'input device is not a TTY'
expect "run -it from a pipe passes the pipe" "$out" 'got-piped-to-run'
run_ctl "exec -it in an unknown container fails with 125" 125 exec -it no-such-container true

out=$(pty_run 'send:answer\r' -- "$ctl" run -it --rm --name tty-run busybox \
  sh -c 'read line; echo "got-$line"; tty; exit 4'); status=$?
expect_eq "run -it exits with the container's code" "$status" 4
expect "run -it: the container read what was typed" "$out" 'got-answer'
expect "run -it: the container has a terminal" "$out" '^/dev/pts/[0-9]+'
truth "run -it --rm removed the container" container_gone tty-run

ok_ctl "run -dt a shell on a terminal" run -d -t -i --name tty-shell busybox sh
truth "tty-shell is running" wait_for container_state_is tty-shell running
# The shell's answer, not our terminal's echo of the line, has 42.
# shellcheck disable=SC2016 # expanded by the container's shell
out=$(pty_run 'send:echo $((6 * 7))-answered\r' 'expect:42-answered' 'send:\x10\x11' -- \
  "$ctl" attach tty-shell); status=$?
expect_eq "attach, then Ctrl-P Ctrl-Q, exits 0" "$status" 0
expect "attach sees the container's output" "$out" '42-answered'
truth "a detach leaves the container running" container_state_is tty-shell running
out=$(pty_run 'send:exit 6\r' -- "$ctl" attach tty-shell); status=$?
expect_eq "attach exits with the container's code once it exits" "$status" 6
truth "the container exited" wait_for container_ended tty-shell
# shellcheck disable=SC2016 # expanded by the shell under the terminal
out=$(pty_run -- sh -c '"$0" exec -it tty-shell true; echo "containersctl-exit=$?"; stty -a' \
  "$ctl"); status=$?
expect "exec -it in a stopped container fails with 125" "$out" 'containersctl-exit=125'
expect "the terminal is restored after a failed exec -it" "$out" '(^| )icanon( |$)'
run_ctl "attach to a stopped container fails with 125" 125 attach tty-shell
run_ctl "attach to a container without a terminal fails with 125" 125 attach limited
expect "the refusal says why" "$err" 'Tty'
run_ctl "attach to an unknown container fails with 125" 125 attach no-such-container

# ---- pull, push --------------------------------------------------------

if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  start_registry cli
  reg=127.0.0.1:$port
  ok_ctl "push IMAGE DESTINATION --tls-verify=false" push --tls-verify=false busybox "$reg/cli/busybox:1"
  expect_eq "push prints nothing" "$out" ""
  ok_ctl "pull --tls-verify=false" pull --tls-verify=false "$reg/cli/busybox:1"
  expect "pull prints the image ID" "$out" '^[0-9a-f]{64}$'
  pulled_id=$out
  truth "the pulled image has the reference as its name" image_exists "$reg/cli/busybox:1"
  truth "the name leads to the printed ID" \
    [ "$(image_path "$reg/cli/busybox:1")" = "$root/images/$pulled_id" ]
  run_ctl "pull of a tag the registry lacks fails with 125" 125 pull --tls-verify=false "$reg/cli/busybox:none"
  run_ctl "pull with TLS verified from a plain HTTP registry fails with 125" 125 \
    pull "$reg/cli/busybox:1"
  run_ctl "push of an unknown image fails with 125" 125 push --tls-verify=false no-such-image "$reg/x:1"
else
  skip "pull and push: docker-registry and skopeo are not installed"
fi
run_ctl "pull --creds without a colon fails with 125" 125 pull --creds user 127.0.0.1:1/x:1
expect "the bad --creds is named" "$err" 'invalid --creds'
run_ctl "pull --tls-verify=maybe fails with 125" 125 pull --tls-verify=maybe 127.0.0.1:1/x:1
run_ctl "pull without a reference fails with 125" 125 pull
run_ctl "pull from a closed port fails with 125" 125 pull --tls-verify=false "127.0.0.1:$(free_port)/x:1"
ok_ctl "rm -f limited" rm -f limited

# ---- selection: names as given, --ignore, --all; exists; podman's messages

# The lines of $1, sorted, blank ones left out: the IDs --all printed.
sorted_lines () { printf '%s\n' "$1" | sed '/^$/d' | sort; }
no_container_running () { [ -z "$("$ctl" ps -q)" ]; }
no_container_left () { [ -z "$("$ctl" ps -a -q)" ]; }
create_volume () { manager_call CreateVolume 'sa{sv}' "$1" 0 >/dev/null; }

ok_ctl "create sel-created (never started)" create --name sel-created busybox true
ok_ctl "run -d sel-up" run -d --name sel-up busybox sleep 300
sel_up_id=$out
ok_ctl "run sel-exited (exits 0)" run --name sel-exited busybox true
truth "sel-up is running" wait_for container_state_is sel-up running

ok_ctl "container exists of a container" container exists sel-up
expect_eq "container exists prints nothing" "$out$err" ""
ok_ctl "container exists by ID prefix" container exists "${sel_up_id:0:12}"
ok_ctl "container exists --external (accepted, as podman's)" container exists --external sel-up
run_ctl "container exists of a missing container exits 1" 1 container exists no-such-container
expect_eq "and prints nothing" "$out$err" ""
run_ctl "container exists without a name fails with 125" 125 container exists
run_ctl "container exists with two names fails with 125" 125 container exists sel-up sel-exited
run_ctl "container exists of an empty name fails with 125" 125 container exists ''
expect "the empty name is refused with an error" "$err" '^Error: '
run_ctl "exists is no verb of its own, as in podman" 125 exists sel-up
ok_ctl "image exists of an image" image exists busybox
expect_eq "image exists prints nothing" "$out$err" ""
run_ctl "image exists of a missing image exits 1" 1 image exists no-such-image
expect_eq "and prints nothing either" "$out$err" ""
run_ctl "image exists of an empty reference fails with 125" 125 image exists ''
ok_ctl "network create sel-net" network create sel-net
ok_ctl "network exists of a network" network exists sel-net
expect_eq "network exists prints nothing" "$out$err" ""
run_ctl "network exists of a missing network exits 1" 1 network exists no-such-network
truth "a volume to look for" create_volume sel-vol
ok_ctl "volume exists of a volume" volume exists sel-vol
expect_eq "volume exists prints nothing" "$out$err" ""
run_ctl "volume exists of a missing volume exits 1" 1 volume exists no-such-volume
run_ctl "volume with another verb fails with 125" 125 volume nonsense sel-vol
out=$(DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-such-bus" "$ctl" container exists sel-up 2>&1)
status=$?
expect_eq "container exists without a daemon fails with 125, not 1" "$status" 125
expect "and says why" "$out" '^Error: '

# podman's messages, which scripts grep
missing_ctr='Error: no container with name or ID "no-such-container" found: no such container'
# VERB:STATUS, as podman 4.3 exits
for verb_status in stop:125 start:125 kill:125 logs:125 rm:1; do
  verb=${verb_status%:*} status=${verb_status#*:}
  run_ctl "$verb of a missing container exits $status, as podman" "$status" "$verb" no-such-container
  expect_eq "$verb says podman's message" "$err" "$missing_ctr"
done
run_ctl "rmi of a missing image exits 1, as podman" 1 rmi no-such-image
expect_eq "rmi says podman's message" "$err" 'Error: no-such-image: image not known'
run_ctl "inspect of a missing object fails with 125" 125 inspect no-such-thing
expect_eq "inspect says podman's message" "$err" 'Error: inspecting object: no such object: "no-such-thing"'
expect_eq "and prints an empty array" "$out" "[]"
run_ctl "inspect --type image of a missing image fails with 125" 125 inspect --type image no-such-image
expect_eq "it says podman's image message" "$err" 'Error: inspecting object: no-such-image: image not known'
run_ctl "inspect --type container of a missing container fails with 125" 125 \
  inspect --type container no-such-container
expect_eq "it says podman's container message" "$err" \
  'Error: inspecting object: no such container no-such-container'
run_ctl "network rm of a missing network exits 1, as podman" 1 network rm no-such-network
expect_eq "network rm says podman's message" "$err" \
  'Error: unable to find network with name or ID no-such-network: network not found'
ok_ctl "network rm -f of a missing network is no error" network rm -f no-such-network
ok_ctl "network rm sel-net" network rm sel-net
run_ctl "network exists after rm exits 1" 1 network exists sel-net

# what was given is printed: names, ID prefixes
ok_ctl "start sel-created" start sel-created
expect_eq "start prints the name given" "$out" sel-created
ok_ctl "start of a running container" start sel-up
expect_eq "does nothing and prints nothing, as podman" "$out$err" ""
ok_ctl "stop of a container that never started" stop never
expect_eq "is no error and prints the name, as podman" "$out" never
truth "it stays as it was" container_state_is never configured
ok_ctl "kill -s SIGCONT by ID prefix" kill -s SIGCONT "${sel_up_id:0:12}"
expect_eq "kill prints the prefix given" "$out" "${sel_up_id:0:12}"
run_ctl "stop of a running and a missing container fails with 125" 125 \
  stop -t 0 sel-up no-such-container
expect_eq "it names the missing one" "$err" "$missing_ctr"
truth "and stops none of them" container_state_is sel-up running
ok_ctl "stop --ignore of a missing and a running container" stop -t 0 --ignore no-such-container sel-up
expect_eq "stop -i prints only the container it stopped" "$out" sel-up
truth "the running one stopped" container_ended sel-up
ok_ctl "stop -i of a missing container alone" stop -i no-such-container
expect_eq "prints nothing" "$out$err" ""
ok_ctl "kill -i of a missing container" kill -i no-such-container
expect_eq "kill -i prints nothing" "$out$err" ""
run_ctl "stop -t -1 fails with 125" 125 stop -t -1 sel-up
run_ctl "stop without a name fails with 125" 125 stop
expect "it says podman's words" "$err" '^Error: you must provide at least one name or id$'
run_ctl "start -a is not --all (podman's -a is --attach)" 125 start -a

# --all
ok_ctl "start sel-up again" start sel-up
truth "sel-up runs again" wait_for container_state_is sel-up running
up_ids=$("$ctl" ps -q --no-trunc)
truth "some containers are running" [ -n "$up_ids" ]
ok_ctl "kill --all" kill --all
expect_eq "kill --all prints the running containers' IDs" "$(sorted_lines "$out")" \
  "$(sorted_lines "$up_ids")"
truth "nothing runs after kill --all" wait_for no_container_running
run_ctl "kill --all with a name fails with 125" 125 kill --all sel-up
expect "it says podman's words" "$err" '^Error: no arguments are needed with --all$'
all_ids=$("$ctl" ps -a -q --no-trunc)
ok_ctl "start --all" start --all
expect_eq "start --all prints every stopped container's ID" "$(sorted_lines "$out")" \
  "$(sorted_lines "$all_ids")"
truth "start --all started the one never started" \
  [ "$(container_prop never StartedAt)" != 0 ]
run_ctl "start --all with a name fails with 125" 125 start --all sel-up
truth "sel-up runs after start --all" wait_for container_state_is sel-up running
ok_ctl "stop -t 0 --all" stop -t 0 --all
expect_eq "stop --all prints every container's ID" "$(sorted_lines "$out")" \
  "$(sorted_lines "$all_ids")"
truth "nothing runs after stop --all" no_container_running
ok_ctl "restart -t 0 sel-up" restart -t 0 sel-up
expect_eq "restart prints the name given" "$out" sel-up
truth "sel-up runs after restart" wait_for container_state_is sel-up running

# rm: names, exit codes, -t
run_ctl "rm of a running container exits 2, as podman" 2 rm sel-up
expect "it says the container runs" "$err" '^Error: .*sel-up.*running'
run_ctl "rm of a missing and an existing container exits 1" 1 rm sel-exited no-such-container
truth "and removes neither" container_exists sel-exited
ok_ctl "rm -i of an existing and a missing container" rm -i sel-exited no-such-container
expect_eq "rm prints the name given" "$out" sel-exited
truth "rm removed it" container_gone sel-exited
ok_ctl "rm -f of a missing container is no error, as podman" rm -f no-such-container
run_ctl "rm -t without --force fails with 125, as podman" 125 rm -t 1 sel-up
expect "it says podman's words" "$err" '--force option must be specified to use the --time option'
run_ctl "rm -t nonsense fails with 125" 125 rm -f -t soon sel-up
truth "the bad options removed nothing" container_exists sel-up
# shellcheck disable=SC2016 # expanded by the container's shell
ok_ctl "run -d a container that exits 3 on SIGTERM" run -d --name sel-graceful busybox \
  sh -c 'trap "exit 3" TERM; touch /tmp/ready; while :; do sleep 1; done'
sel_graceful_id=$out
wait_for "$ctl" exec sel-graceful test -e /tmp/ready
ok_ctl "rm -f -t 60 by ID prefix" rm -f -t 60 "${sel_graceful_id:0:12}"
expect_eq "rm prints the prefix given" "$out" "${sel_graceful_id:0:12}"
truth "rm -t stopped it with its stop signal first (it exited 3)" \
  grep -q "Container sel-graceful (${sel_graceful_id:0:12}) exited with code 3" "$tmp/daemon.log"
truth "and removed it" container_gone sel-graceful
run_ctl "rm --all with a name fails with 125" 125 rm --all sel-up
run_ctl "rm without a name fails with 125" 125 rm

# the cleanup scripts start with, on running, paused, exited and never started containers
ok_ctl "run -d sel-paused" run -d --name sel-paused busybox sleep 300
truth "sel-paused runs" wait_for container_state_is sel-paused running
ok_ctl "pause sel-paused" pause sel-paused
ok_ctl "run sel-exited again" run --name sel-exited busybox true
ok_ctl "create sel-created2" create --name sel-created2 busybox true
truth "sel-up is running" container_state_is sel-up running
all_ids=$("$ctl" ps -a -q --no-trunc)
ok_ctl "rm -t 0 --all --force --ignore" rm -t 0 --all --force --ignore
expect_eq "it prints every container's ID" "$(sorted_lines "$out")" "$(sorted_lines "$all_ids")"
truth "no container is left" no_container_left
expect_not "none is left on the bus" \
  "$(gdbus call --system -d "$name" -o "$root" -m org.freedesktop.DBus.ObjectManager.GetManagedObjects)" \
  "$root/containers/"
ok_ctl "rm -t 0 --all --force --ignore, again, with nothing to remove" rm -t 0 --all --force --ignore
expect_eq "prints nothing" "$out$err" ""
ok_ctl "stop --all with nothing to stop" stop --all
ok_ctl "kill --all with nothing to kill" kill --all

# rmi: --ignore, --all, exit codes; images -a
ok_ctl "images -a" images -a
expect "images -a lists images as images does" "$out" '^busybox +latest '
run_ctl "rmi -i of a missing image" 0 rmi -i no-such-image
expect_eq "rmi -i prints nothing" "$out$err" ""
ok_ctl "rmi -f of a missing image is no error, as podman" rmi -f no-such-image
ok_ctl "create sel-user (keeps busybox in use)" create --name sel-user busybox true
busybox_id=$(image_path busybox) && busybox_id=${busybox_id##*/}
run_ctl "rmi of an image in use exits 2, as podman" 2 rmi "$busybox_id"
run_ctl "rmi -a with a name fails with 125" 125 rmi -a busybox
expect "it says podman's words" "$err" 'may not pass any images names'
run_ctl "rmi without a name fails with 125" 125 rmi
run_ctl "rmi -a while a container uses an image exits 2" 2 rmi -a
expect "rmi -a says which image is in use" "$err" '^Error: '
truth "rmi -a kept the image in use" image_exists busybox
expect "rmi -a removed the unused ones" "$out" '^Deleted: [0-9a-f]{64}$'
ok_ctl "rmi -a -f" rmi -a -f
expect "rmi -a -f untags busybox" "$out" '^Untagged: busybox:latest$'
expect "rmi -a -f deletes it" "$out" "^Deleted: $busybox_id$"
truth "rmi -a -f removed the container using it" container_gone sel-user
ok_ctl "images -q after rmi -a -f" images -q
expect_eq "no image is left" "$out" ""
ok_ctl "rmi -a with nothing to remove" rmi -a
expect_eq "prints nothing" "$out$err" ""

# ---- events, read back -------------------------------------------------

truth "events showed web start" events_show " container start web \\($web_id\\)$"
truth "events showed web pause" events_show " container pause web "
truth "events showed web unpause" events_show " container unpause web "
truth "events showed brief died" events_show ' container died brief '
truth "events showed web restart" events_show ' container restart web '
truth "events showed the rename under the new name" events_show ' container rename web2 '
truth "events showed the rebase" events_show ' container rebase web2 '
truth "events showed the rollback" events_show ' container rollback web2 '
truth "events named a removed container" events_show ' container remove auto '
kill -TERM "$events_pid"
wait "$events_pid"; status=$?
untrack_pid "$events_pid"
truth "events exits 0 on SIGTERM" [ $status -eq 0 ]

# ---- the daemon stops cleanly ------------------------------------------

daemon_stop_checked

exit 0
