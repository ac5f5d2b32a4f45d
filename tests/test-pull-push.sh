#!/bin/bash
# test-pull-push.sh: PullImage, Image.Push and PruneImages against real
# registries: Debian's docker-registry on free 127.0.0.1 ports (one open,
# one behind htpasswd basic auth), each with its own config and storage
# under the test's directory, and podman on private storage as the peer:
#   - podman pushes a multi-layer image; containersd pulls it by tag, by
#     digest and by short name: podman's image ID, podman's files, it runs;
#   - a committed image pushed by containersd is pulled and run by podman;
#   - basic auth: refused without or with wrong credentials, works with
#     them, and the password is in no file under the storage root, no
#     command line sampled during the pull, no log and no property;
#   - Cancel of a pull stuck on a registry that never answers leaves nothing;
#   - bad input is a named error and changes nothing;
#   - PruneImages removes only unused images; ImageEvent for each change.
# Prints TAP.
set -u

# A private /dev/shm for podman's lock table (see test-images.sh).
if [ -z "${CTRD_PRIVATE_SHM:-}" ]; then
  export CTRD_PRIVATE_SHM=1
  exec unshare --mount --propagation private -- \
    bash -c 'mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm && exec bash "$0" "$@"' "$0" "$@"
fi

for tool in podman skopeo docker-registry htpasswd curl jq /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is missing (apt-get install podman skopeo docker-registry apache2-utils curl jq python3-gi)"
    exit 0
  fi
done

. "${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}/tests/libtest.sh"
ctrd_test_begin pull-push "runc, overlay mounts"
err=$name.Error
timeout=120
failure_log_lines=200

# ---- helpers -----------------------------------------------------------

pod () {
  podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend none "$@"
}
remove_podman_containers () { pod rm -a -f >/dev/null 2>&1; }
at_cleanup remove_podman_containers
podman_run_flags=(--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
                  --runtime "$runc")

# count_refs: the images' refs in the repository.
repo_refs () { ls "$storage/repo/refs/heads/images" 2>/dev/null | LC_ALL=C sort | tr '\n' ' '; }
# What a failed pull could leave: refs, transfer directories, staging dirs.
leftovers () {
  echo "refs=$(repo_refs) transfers=$(ls -A "$storage/tmp-transfers" 2>/dev/null | tr '\n' ' ')" \
       "staging=$(ls "$storage/repo/tmp" 2>/dev/null | grep -c staging)" \
       "images=$(busctl --system tree "$name" 2>/dev/null | grep -c '/images/')"
}

# file_list DIR: "path mode uid:gid sha256" of its regular files and
# symlink targets, for comparing an image's files with podman's.
file_list () {
  (cd "$1" && find . -mindepth 1 \( -path ./dev -o -path ./proc -o -path ./sys -o -path ./run \
     -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf \) -prune -o -print |
   LC_ALL=C sort | while IFS= read -r p; do
     if [ -L "$p" ]; then echo "$p l $(readlink "$p")"
     elif [ -f "$p" ]; then echo "$p f $(stat -c '%a %u:%g' "$p") $(sha256sum <"$p" | cut -c1-64)"
     else echo "$p d $(stat -c '%a %u:%g' "$p")"; fi
   done)
}

# run_container NAME IMAGE CMD...: creates, starts and waits for it;
# prints its log.
run_container () {
  local cname=$1 image=$2 path; shift 2
  path=$(manager_call CreateContainer 'ssasa{sv}' "$cname" "$image" $# "$@" 0 | busctl_value) ||
    return 1
  busctl --system --timeout=infinity call "$name" "$path" "$name.Container" Start || return 1
  wait_for container_ended "$path" || return 1
  busctl --system call "$name" "$path" "$name.Container" ReadLogs tu 0 1000
  [ "$(busctl --system get-property "$name" "$path" "$name.Container" ExitCode)" = "i 0" ]
}

# Calls that carry a password or follow a job, through GDBus (busctl would
# put the password on its command line). The password comes from
# $CTRD_TEST_PASSWORD.
py () { /usr/bin/python3 "$tmp/ctrd-registry.py" "$@"; }
cat >"$tmp/ctrd-registry.py" <<'PY'
import os, sys
from gi.repository import Gio, GLib

NAME = "org.example.Containers1"
ROOT = "/org/example/Containers1"
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def options(argv):
    opts = {"TlsVerify": GLib.Variant("b", False)}
    for arg in argv:
        if arg.startswith("user="):
            opts["Username"] = GLib.Variant("s", arg[5:])
            opts["Password"] = GLib.Variant("s", os.environ["CTRD_TEST_PASSWORD"])
    return opts


def report(func):
    try:
        print("ok", func())
    except GLib.Error as e:
        print(Gio.DBusError.get_remote_error(e), e.message)
        sys.exit(1)


def pull(ref, *argv):
    reply = bus.call_sync(NAME, ROOT, NAME + ".Manager", "PullImage",
                          GLib.Variant("(sa{sv})", (ref, options(argv))), None,
                          Gio.DBusCallFlags.NONE, GLib.MAXINT32, None)
    return reply.unpack()[0]


def push(image, dest, *argv):
    bus.call_sync(NAME, image, NAME + ".Image", "Push",
                  GLib.Variant("(sa{sv})", (dest, options(argv))), None,
                  Gio.DBusCallFlags.NONE, GLib.MAXINT32, None)
    return dest


def jobs():
    reply = bus.call_sync(NAME, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          None, None, Gio.DBusCallFlags.NONE, -1, None)
    return {p: i[NAME + ".Job"] for p, i in reply.unpack()[0].items() if NAME + ".Job" in i}


def pull_cancel(ref, marker):
    """Starts a pull, waits for its pull Job and for skopeo (marker on a
    command line), cancels it, and prints the pull's reply."""
    result = {}
    loop = GLib.MainLoop()

    def finished(conn, res):
        try:
            conn.call_finish(res)
            result["reply"] = "ok"
        except GLib.Error as e:
            result["reply"] = Gio.DBusError.get_remote_error(e)
        loop.quit()

    bus.call(NAME, ROOT, NAME + ".Manager", "PullImage",
             GLib.Variant("(sa{sv})", (ref, options([]))), None, Gio.DBusCallFlags.NONE,
             GLib.MAXINT32, None, finished)
    state = {"job": None}

    def poll():
        if state["job"] is None:
            pulls = [p for p, j in jobs().items() if j["Operation"] == "pull"]
            if pulls and skopeo_running(marker):
                state["job"] = pulls[0]
                bus.call_sync(NAME, pulls[0], NAME + ".Job", "Cancel", None, None,
                              Gio.DBusCallFlags.NONE, -1, None)
                return False
        return True

    GLib.timeout_add(100, poll)
    loop.run()
    print("job", state["job"] is not None, "reply", result["reply"])


def skopeo_running(marker):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"skopeo") and any(marker.encode() in a for a in cmd):
            return True
    return False


cmd = sys.argv[1].replace("-", "_")
if cmd == "pull_cancel":
    pull_cancel(*sys.argv[2:])
else:
    report(lambda: globals()[cmd](*sys.argv[2:]))
PY

# ---- the peers -----------------------------------------------------------

mkdir -p "$tmp/podman" "$tmp/build"
if ! sh "$srcdir/tests/make-busybox-rootfs.sh" "$tmp/busybox.tar"; then
  echo "1..0 # SKIP busybox-static is missing (apt-get install busybox-static)"
  exit 0
fi
check "podman imports the busybox base" pod import -q "$tmp/busybox.tar" localhost/ctrd-base:latest
echo "first layer" >"$tmp/build/one.txt"
head -c 200000 /dev/urandom >"$tmp/build/two.bin"
cat >"$tmp/build/Containerfile" <<'EOF2'
FROM localhost/ctrd-base:latest
COPY one.txt /data/one.txt
COPY two.bin /data/two.bin
CMD ["cat", "/data/one.txt"]
EOF2
check "podman builds a multi-layer image" pod build -q --network none -t localhost/ctrd-app:1 "$tmp/build"
layers=$(pod image inspect --format '{{len .RootFS.Layers}}' localhost/ctrd-app:1)
truth "... with three layers" [ "$layers" = 3 ]

start_registry open
open_port=$port
reg=127.0.0.1:$open_port
check "podman pushes it to the registry" \
  pod push -q --tls-verify=false localhost/ctrd-app:1 "$reg/app:1"
check "podman pulls it back (podman's image ID for the reference)" \
  pod pull -q --tls-verify=false "$reg/app:1"
podman_id=$(pod image inspect --format '{{.Id}}' "$reg/app:1")
digest=$(skopeo inspect --tls-verify=false "docker://$reg/app:1" | jq -r .Digest)

# The daemon runs the real skopeo through a wrapper that records its
# command line and environment (never the auth file), one file per run.
mkdir -p "$tmp/skopeo-runs"
cat >"$tmp/skopeo-wrapper" <<EOF2
#!/bin/sh
run=\$(mktemp "$tmp/skopeo-runs/run.XXXXXX")
printf '%s\n' "\$@" >"\$run.argv"
tr '\\0' '\\n' </proc/self/environ >"\$run.environ"
exec skopeo "\$@"
EOF2
chmod 755 "$tmp/skopeo-wrapper"
printf '[images]\nregistries=%s\nskopeo=%s\n' "$reg" "$tmp/skopeo-wrapper" >"$tmp/containersd.conf"
daemon_start --config "$tmp/containersd.conf"

gdbus monitor --system --dest "$name" --object-path "$root" >"$tmp/events.log" 2>&1 &
monitor_pid=$!
track_pid "$monitor_pid"
# The monitor is listening once it has seen a signal: a first import.
check "ImportImageFromPath of the busybox base (the monitor's first event)" \
  manager_call ImportImageFromPath 'ssa{sv}' "$tmp/busybox.tar" localhost/base:1 0
base_image=$(printf '%s\n' "$out" | busctl_value)
wait_for grep -q "ImageEvent" "$tmp/events.log"
expect "ImageEvent import" "$(cat "$tmp/events.log")" "ImageEvent \(objectpath '$base_image', '[0-9a-f]{64}', 'import'"

# ---- pull ------------------------------------------------------------------

check "PullImage by tag" py pull "$reg/app:1"
image=$(printf '%s\n' "$out" | sed -n 's/^ok //p')
expect_eq "... has podman's image ID" "$image" "$root/images/$podman_id"
expect "... is named as pulled" "$(image_prop "$image" Names)" "\"$reg/app:1\""
expect "... ImageEvent pull" "$(wait_for grep -q "'pull'" "$tmp/events.log"; cat "$tmp/events.log")" \
  "ImageEvent \(objectpath '$image', '$podman_id', 'pull'"
check "a container of the pulled image runs its command" run_container c-pulled "$reg/app:1"
expect "... printing the file of the second layer" "$out" "first layer"
cid=$(pod create "$reg/app:1")
pod export -o "$tmp/podman-export.tar" "$cid" >/dev/null
mkdir -p "$tmp/podman-files"
tar --numeric-owner -xpf "$tmp/podman-export.tar" -C "$tmp/podman-files"
file_list "$tmp/podman-files" >"$tmp/podman.list"
file_list "$storage/checkouts/$(image_prop "$image" Commit | busctl_value)" >"$tmp/ctrd.list"
if diff -u "$tmp/podman.list" "$tmp/ctrd.list" >"$tmp/files.diff"; then
  pass "... and has exactly podman's files"
else
  fail "... and has exactly podman's files"; head -30 "$tmp/files.diff" | diag
fi

check "PullImage by digest" py pull "$reg/app@$digest"
expect_eq "... is the same image" "$(printf '%s\n' "$out" | sed -n 's/^ok //p')" "$image"
check "PullImage of a short name through the configured registries" py pull "app:1"
expect_eq "... is the same image" "$(printf '%s\n' "$out" | sed -n 's/^ok //p')" "$image"

check "podman pushes the same image under another tag" \
  pod push -q --tls-verify=false localhost/ctrd-app:1 "$reg/app:2"
check "PullImage of an image already present" py pull "$reg/app:2"
expect_eq "... is the same object" "$(printf '%s\n' "$out" | sed -n 's/^ok //p')" "$image"
expect "... which only got the name" "$(image_prop "$image" Names)" \
  "^as 2 \"$reg/app:1\" \"$reg/app:2\"$"

# ---- bad input ---------------------------------------------------------------

before=$(leftovers)
check_fails "a malformed reference is InvalidArgument" "$err.InvalidArgument" \
  py pull "$reg/Bad//name"
check_fails "a malformed digest is InvalidArgument" "$err.InvalidArgument" \
  py pull "$reg/app@sha256:1234"
check_fails "an unknown digest is NotFound" "$err.NotFound" \
  py pull "$reg/app@sha256:$(printf '0%.0s' $(seq 64))"
check_fails "an unknown tag is NotFound" "$err.NotFound" py pull "$reg/app:nosuchtag"
expect "... naming the reference" "$out" "app:nosuchtag"
check_fails "an unknown repository is NotFound" "$err.NotFound" py pull "$reg/nosuchrepo:1"
closed_port=$(free_port)
check_fails "a port nothing listens on is Failed" "$err.Failed" py pull "127.0.0.1:$closed_port/app:1"
check_fails "an unknown option is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.PullImage "$reg/app:1" "{'Colour': <'red'>}"
check_fails "a TlsVerify of the wrong type is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.PullImage "$reg/app:1" "{'TlsVerify': <'no'>}"
check_fails "a Username without a Password is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.PullImage "$reg/app:1" "{'Username': <'u'>}"
check_fails "a malformed Platform is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.PullImage "$reg/app:1" "{'Platform': <'linux'>}"
check_fails "Push to a malformed destination is InvalidArgument" "$err.InvalidArgument" \
  gcall "$image" Image.Push "$reg/Bad//name" "{}"
check_fails "Push to a digest is InvalidArgument" "$err.InvalidArgument" \
  gcall "$image" Image.Push "$reg/app@$digest" "{}"
check_fails "PruneImages with an unknown option is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.PruneImages "{'Everything': <true>}"
expect_eq "... none of which changed anything" "$(leftovers)" "$before"

# ---- cancel ------------------------------------------------------------------

# A registry that accepts connections and never answers: the pull waits in
# skopeo until it is cancelled.
stall_port=$(free_port)
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
while True:
    conns.append(s.accept())' "$stall_port" &
track_pid $!
wait_for curl -s -m 1 -o /dev/null "http://127.0.0.1:$stall_port/" -w '' || true
before=$(leftovers)
check "Cancel of a pull while skopeo waits for the registry" \
  py pull-cancel "127.0.0.1:$stall_port/stuck:1" "127.0.0.1:$stall_port/stuck"
expect "... fails the pull with Cancelled" "$out" "job True reply $err.Cancelled"
truth "... stops skopeo" wait_for no_process_mentions "127.0.0.1:$stall_port/stuck"
expect_eq "... and leaves nothing" "$(leftovers)" "$before"

# ---- push ----------------------------------------------------------------------

check "a container writes a file" run_container c-commit "$reg/app:1" sh -c 'echo committed >/data/three.txt'
commit_path=$(container_path c-commit)
check "Commit of it" busctl --system --timeout=infinity call "$name" "$commit_path" \
  "$name.Container" Commit 'sa{sv}' localhost/committed:1 0
committed=$(printf '%s\n' "$out" | busctl_value)
check "Image.Push of the committed image" py push "$committed" "$reg/committed:1"
expect "... ImageEvent push" "$(wait_for grep -q "'push'" "$tmp/events.log"; cat "$tmp/events.log")" \
  "ImageEvent \(objectpath '$committed', '[0-9a-f]{64}', 'push'"
expect_eq "... leaves no transfer files" "$(ls -A "$storage/tmp-transfers")" ""
check "podman pulls the pushed image" pod pull -q --tls-verify=false "$reg/committed:1"
check "... and runs it" pod run "${podman_run_flags[@]}" "$reg/committed:1" \
  cat /data/one.txt /data/three.txt
expect "... with the committed files" "$out" "first layer.*committed|committed"
expect "... and the image's own" "$out" "first layer"

# ---- basic auth -------------------------------------------------------------------

password="ctrd-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$password" >"$tmp/password"
py_password () { CTRD_TEST_PASSWORD=$(cat "$tmp/password") py "$@"; }
py_wrong_password () { CTRD_TEST_PASSWORD=wrong-password py "$@"; }
htpasswd -Bbc "$tmp/htpasswd" ctrduser "$password" >/dev/null 2>&1
start_registry auth "$tmp/htpasswd"
areg=127.0.0.1:$port
check "podman pushes to the registry with basic auth" \
  pod push -q --tls-verify=false --creds "ctrduser:$password" localhost/ctrd-app:1 "$areg/private:1"
check_fails "PullImage without credentials is NotAuthorized" "$err.NotAuthorized" \
  py pull "$areg/private:1"
check_fails "PullImage with a wrong password is NotAuthorized" "$err.NotAuthorized" \
  py_wrong_password pull "$areg/private:1" user=ctrduser
expect_not "... whose message does not carry it" "$out" "wrong-password"
sampler () {
  : >"$tmp/cmdline-hits"
  while [ ! -e "$tmp/pull-done" ]; do
    for p in /proc/[0-9]*; do
      tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -f "$tmp/password" && echo "${p#/proc/}" >>"$tmp/cmdline-hits"
    done
  done
}
sampler &
sampler_pid=$!
track_pid "$sampler_pid"
check "PullImage with the credentials" py_password pull "$areg/private:1" user=ctrduser
touch "$tmp/pull-done"
wait "$sampler_pid"; untrack_pid "$sampler_pid"
expect_eq "... is the same image" "$(printf '%s\n' "$out" | sed -n 's/^ok //p')" "$image"
last_run=$(ls -t "$tmp/skopeo-runs"/*.argv | head -1)
expect "... skopeo read the credentials from an inherited memfd" "$(cat "$last_run")" \
  '^--authfile=/proc/self/fd/3$'
truth "... the password was not on skopeo's command line nor in its environment" \
  bash -c "! cat '$tmp/skopeo-runs/'* | grep -qF -f '$tmp/password'"
expect_eq "... nor on any command line sampled while it ran" "$(sort -u "$tmp/cmdline-hits")" ""
truth "... is in no file under the storage root" \
  bash -c "! grep -rqF -f '$tmp/password' '$storage'"
truth "... nor in the daemon's log" bash -c "! grep -qF -f '$tmp/password' '$tmp/daemon.log'"
truth "... nor in any property" bash -c "! busctl --system --json=short call '$name' '$root' \
  org.freedesktop.DBus.ObjectManager GetManagedObjects | grep -qF -f '$tmp/password'"
check_fails "Image.Push without credentials is NotAuthorized" "$err.NotAuthorized" \
  py push "$committed" "$areg/committed:1"
check "Image.Push with the credentials" py_password push "$committed" "$areg/committed:1" user=ctrduser
check "... which podman pulls with them" \
  pod pull -q --tls-verify=false --creds "ctrduser:$password" "$areg/committed:1"

# ---- prune ---------------------------------------------------------------------------

base_id=${base_image##*/}
check "Tag of the base image" gcall "$base_image" Image.Tag localhost/base:2
check "Untag of both its names" bash -c "gdbus call --system --dest $name --object-path $base_image \
  --method $name.Image.Untag localhost/base:1 && gdbus call --system --dest $name \
  --object-path $base_image --method $name.Image.Untag localhost/base:2"
wait_for grep -q "'$base_id', 'untag'" "$tmp/events.log"
expect "... ImageEvent tag" "$(cat "$tmp/events.log")" "ImageEvent \(objectpath '$base_image', '$base_id', 'tag'"
expect "... ImageEvent untag" "$(cat "$tmp/events.log")" "ImageEvent \(objectpath '$base_image', '$base_id', 'untag'"
check "Remove of the commit's container (its image stays tagged, unused)" \
  busctl --system --timeout=infinity call "$name" "$commit_path" "$name.Container" Remove bb true false
check "PruneImages" gcall "$root" Manager.PruneImages "{}"
expect_eq "... removes only the untagged unused image" "$out" "(['$base_id'],)"
expect "... ImageEvent remove" "$(wait_for grep -q "'remove'" "$tmp/events.log"; cat "$tmp/events.log")" \
  "ImageEvent \(objectpath '$base_image', '$base_id', 'remove'"
truth "... whose ref is gone" bash -c "[ ! -e '$storage/repo/refs/heads/images/$base_id' ]"
truth "... the used image stays" image_exists "$reg/app:1"
truth "... the tagged one stays" image_exists localhost/committed:1
check "PruneImages All" gcall "$root" Manager.PruneImages "{'All': <true>}"
expect_eq "... removes the tagged unused image" "$out" "(['${committed##*/}'],)"
truth "... the image a container uses stays" image_exists "$reg/app:1"
expect_eq "... no transfer files are left" "$(ls -A "$storage/tmp-transfers")" ""

daemon_stop_checked
