#!/bin/bash
# test-cli-verbs.sh: the podman-like verbs of containersctl beyond the basic
# lifecycle (pause, logs, exec, export, commit, diff, restart, rename, rebase,
# rollback, verify, tag, untag, rmi, save, load, prune, events, run -d --rm,
# the container/image groups), each checked by what it does to the daemon on
# temporary roots. Runs on the private bus of tests/private-bus.sh (run-test.sh
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
run_ctl "rmi of an image in use fails with 125" 125 rmi snap
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
