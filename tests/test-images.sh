#!/bin/bash
# test-images.sh: images in and out of containersd, with the real peers:
#   - an OCI layout with whiteouts, an opaque directory, hardlinks, a setuid
#     file and ownership (tests/make-oci-fixtures.sh) imports, and a container
#     from it runs on exactly the files the layers say;
#   - Debian's podman and skopeo: `podman save` in both formats and
#     `skopeo copy` to an oci: layout import (same image ID as podman's) and
#     run, with the files podman shows (`podman export`); Image.Export
#     oci-archive loads with `podman load` and runs;
#   - Jobs (progress, Cancel, the caller leaving), Tag/Untag/Remove with prune;
#   - bad input (missing blob, digest mismatch, "..", bare ".wh.") is
#     InvalidArgument and leaves nothing;
#   - disk: an image sharing 90% of its files with another grows the repo by
#     at most 15% of its own size; a container copies no file of its image.
# Runs on the private bus of tests/private-bus.sh (run-test.sh does that).
# podman runs on its own temporary storage (vfs), never the host's. Prints TAP.
set -u

# podman keeps its lock table in /dev/shm/libpod_lock, one for every podman
# store on the host: a store deleted without "podman rm" leaks its locks
# there until podman fails with "allocating lock". Run in a mount namespace
# with a private /dev/shm, so this test neither runs out of locks nor
# touches the host's table.
if [ -z "${CTRD_PRIVATE_SHM:-}" ]; then
  export CTRD_PRIVATE_SHM=1
  exec unshare --mount --propagation private -- \
    bash -c 'mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm && exec bash "$0" "$@"' "$0" "$@"
fi

for tool in podman skopeo jq zstd /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is missing (apt-get install podman skopeo jq zstd python3-gi)"
    exit 0
  fi
done

. "${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}/tests/libtest.sh"
ctrd_test_begin images "runc, overlay mounts, ownership in images"
err=$name.Error
timeout=120
failure_log_lines=200
fx=$tmp/fx

# ---- helpers -----------------------------------------------------------

# podman on private storage under $tmp: the host's images are never touched.
pod () {
  podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend none "$@"
}
podman_storage="containers-storage:[vfs@$tmp/podman/root+$tmp/podman/run]"
remove_podman_containers () { pod rm -a -f >/dev/null 2>&1; }
at_cleanup remove_podman_containers

# pod_export IMAGE DIR: the files of a new podman container of IMAGE, as
# `podman export` writes them, unpacked into DIR.
pod_export () {
  local cid
  cid=$(pod create "$1") || return 1
  pod export -o "$2.tar" "$cid" || return 1
  mkdir -p "$2" && tar --numeric-owner -xpf "$2.tar" -C "$2"
}
podman_run_flags=(--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
                  --runtime "$runc")

import_path () { # import_path PATH NAME [FORMAT] -> the image object path
  local format=${3:-auto}
  manager_call ImportImageFromPath 'ssa{sv}' "$1" "$2" 1 Format s "$format" | busctl_value
}

# run_container NAME IMAGE CMD...: creates and starts it, waits for its end;
# its log is left in $out.
run_container () {
  local cname=$1 image=$2 path; shift 2
  path=$(manager_call CreateContainer 'ssasa{sv}' "$cname" "$image" $# "$@" 0 | busctl_value) ||
    return 1
  busctl --system --timeout=infinity call "$name" "$path" "$name.Container" Start || return 1
  wait_for container_ended "$path" || return 1
  # The container's output (conmon's log file where ReadLogs is not there yet).
  out=$(busctl --system call "$name" "$path" "$name.Container" ReadLogs tu 0 1000 2>/dev/null ||
        cat "$storage/containers/${path##*/}/ctr.log" 2>&1)
  [ "$(busctl --system get-property "$name" "$path" "$name.Container" ExitCode)" = "i 0" ]
}

remove_container () { "$ctl" rm -f "$1" >/dev/null; }

# "path type mode uid:gid sha256-or-link-target" per entry, sorted, as
# make-oci-fixtures.sh writes expected-files. Paths the runtimes make at run
# time (mount points, /dev, /proc, /sys content) are left out.
list_tree () {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r path; do
     p=${path#.}
     case $p in
       /dev/*|/proc/*|/sys/*|/run/.containerenv|/run/secrets|/run/secrets/*|/etc/hosts|/etc/hostname|/etc/resolv.conf) continue ;;
     esac
     if [ -L "$path" ]; then
       echo "$p l $(stat -c '%a %u:%g' "$path") $(readlink "$path")"
     elif [ -d "$path" ]; then
       echo "$p d $(stat -c '%a %u:%g' "$path") -"
     else
       echo "$p f $(stat -c '%a %u:%g' "$path") $(sha256sum "$path" | cut -d' ' -f1)"
     fi
   done)
}

# compare_trees DESCRIPTION LISTING_A LISTING_B
compare_trees () {
  if diff -u "$2" "$3" >"$tmp/tree.diff"; then
    pass "$1"
  else
    fail "$1"
    head -40 "$tmp/tree.diff" | diag
  fi
}

checkout_of () { echo "$storage/checkouts/$(image_prop "$1" Commit | busctl_value)"; }

repo_refs () { ls "$storage/repo/refs/heads/images" 2>/dev/null | LC_ALL=C sort | tr '\n' ' '; }

# What a failed import could leave: refs, staging dirs, files in the root.
leftovers () {
  echo "refs=$(repo_refs) tmp=$(ls "$storage/repo/tmp" | grep -c staging) root=$(ls -A "$storage" | tr '\n' ' ')"
}

du_bytes () { du -s -B1 "$@" | awk '{ s += $1 } END { print s }'; }

# D-Bus calls that pass fds or follow a job, which busctl cannot do.
py () { /usr/bin/python3 "$tmp/ctrd-dbus.py" "$@"; }
cat >"$tmp/ctrd-dbus.py" <<'PY'
import os, subprocess, sys, threading, time
from gi.repository import Gio, GLib

NAME = "org.example.Containers1"
ROOT = "/org/example/Containers1"
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def error_name(e):
    return Gio.DBusError.get_remote_error(e) or e.message


def call(path, iface, method, args, fds=None, timeout=-1):
    fd_list = Gio.UnixFDList.new_from_array(fds) if fds else None
    return bus.call_with_unix_fd_list_sync(NAME, path, NAME + "." + iface, method, args, None,
                                           Gio.DBusCallFlags.NONE, timeout, fd_list, None)


def jobs():
    reply = bus.call_sync(NAME, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          None, None, Gio.DBusCallFlags.NONE, -1, None)
    objects = reply.unpack()[0]
    return {p: i[NAME + ".Job"] for p, i in objects.items() if NAME + ".Job" in i}


def cmd_export(image, fmt, out):
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        call(image, "Image", "Export", GLib.Variant("(hs)", (0, fmt)), [fd])
        print("ok")
    except GLib.Error as e:
        print(error_name(e), e.message)


def cmd_export_closed_pipe(image):
    r, w = os.pipe()
    os.close(r)
    try:
        call(image, "Image", "Export", GLib.Variant("(hs)", (0, "oci-archive")), [w])
        print("ok")
    except GLib.Error as e:
        print(error_name(e), e.message)


def start_import(source, feed_bytes):
    """ImportImage from a pipe fed with the first feed_bytes of source, then
    held open; returns (result holder, writer fd, done event)."""
    r, w = os.pipe()
    with open(source, "rb") as f:
        data = f.read(feed_bytes)
    result = {}
    done = threading.Event()
    fd_list = Gio.UnixFDList.new_from_array([r])

    def finished(conn, res):
        try:
            conn.call_with_unix_fd_list_finish(res)
            result["reply"] = "ok"
        except GLib.Error as e:
            result["reply"] = error_name(e)
        done.set()

    bus.call_with_unix_fd_list(NAME, ROOT, NAME + ".Manager", "ImportImage",
                               GLib.Variant("(hsa{sv})", (0, "", {})), None,
                               Gio.DBusCallFlags.NONE, -1, fd_list, None, finished)
    os.write(w, data)
    return result, w, done


def spin(done, seconds):
    ctx = GLib.MainContext.default()
    deadline = time.time() + seconds
    while not done() and time.time() < deadline:
        ctx.iteration(False)
        time.sleep(0.01)
    return done()


def cmd_job_cancel(source):
    result, w, done = start_import(source, 256 * 1024)
    found = {}
    spin(lambda: (found.update(jobs()) or bool(found)), 30)
    if not found:
        print("no job appeared")
        return
    path, props = next(iter(found.items()))
    print("job", path, props["Operation"], "uid", props["StartedByUid"], "object", props["Object"])
    completed = []
    bus.signal_subscribe(NAME, NAME + ".Job", "Completed", path, None, Gio.DBusSignalFlags.NONE,
                         lambda *a: completed.append(a[5].unpack()))
    spin(lambda: jobs().get(path, {}).get("BytesDone", 0) > 0, 30)
    print("bytes-done", jobs().get(path, {}).get("BytesDone", 0))
    other = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "gdbus", "call", "--system", "--dest", NAME, "--object-path", path,
                            "--method", NAME + ".Job.Cancel"], capture_output=True, text=True)
    print("other-uid-cancel", other.returncode, other.stderr.strip())
    print("still-running", path in jobs())
    call(path, "Job", "Cancel", None)
    spin(done.is_set, 30)
    spin(lambda: bool(completed) and path not in jobs(), 30)
    os.close(w)
    print("import", result.get("reply"))
    print("completed", completed)
    print("job-gone", path not in jobs())


def cmd_job_vanish(source):
    """Starts an import and exits; a child keeps the pipe open meanwhile,
    so only the caller leaving can end the import."""
    result, w, done = start_import(source, 256 * 1024)
    spin(lambda: bool(jobs()), 30)
    print("jobs", len(jobs()))
    sys.stdout.flush()
    if os.fork() == 0:
        # holds the pipe until the test kills it, so the import cannot end
        # by itself however slow the machine; and nothing else, so that the
        # bus connection (whose socket it inherited) closes with the parent
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, w)
        os.closerange(w + 1, 65536)
        while True:
            time.sleep(3600)
    os._exit(0)


cmds = {"export": cmd_export, "export-closed-pipe": cmd_export_closed_pipe,
        "job-cancel": cmd_job_cancel, "job-vanish": cmd_job_vanish}
cmds[sys.argv[1]](*sys.argv[2:])
PY

# ---- fixtures, podman, the daemon --------------------------------------

if "$srcdir/tests/make-oci-fixtures.sh" "$fx" >"$tmp/fixtures.log" 2>&1; then
  pass "make-oci-fixtures.sh builds the OCI fixtures"
else
  fail "make-oci-fixtures.sh builds the OCI fixtures"
  diag <"$tmp/fixtures.log"
  exit 1
fi
config_digest=$(jq -r .config.digest \
  "$fx/layout/blobs/sha256/$(jq -r '.manifests[0].digest' "$fx/layout/index.json" | cut -d: -f2)")
fixture_id=${config_digest#sha256:}

touch "$tmp/empty.conf"
daemon_start --config "$tmp/empty.conf"

# ---- the OCI layout: whiteouts, opaque dirs, hardlinks, setuid, owners ---

check "ImportImageFromPath imports the OCI layout directory" import_path "$fx/layout" fixture
layout_image=$out
expect_eq "the image ID is the sha256 of its config, as podman's" "${layout_image##*/}" "$fixture_id"
expect "Command comes from the config" "$(image_prop "$layout_image" Command)" \
  '^as 3 "/bin/sh" "-c" "cat /etc/motd"$'
expect "Entrypoint is empty when the config has none" "$(image_prop "$layout_image" Entrypoint)" '^as 0$'
expect "WorkingDir" "$(image_prop "$layout_image" WorkingDir)" '^s "/data"$'
expect "User" "$(image_prop "$layout_image" User)" '^s "0:0"$'
expect "StopSignal" "$(image_prop "$layout_image" StopSignal)" '^s "SIGTERM"$'
expect "ExposedPorts" "$(image_prop "$layout_image" ExposedPorts)" '^as 1 "8080/tcp"$'
expect "Volumes" "$(image_prop "$layout_image" Volumes)" '^as 1 "/vol"$'
expect "Labels" "$(image_prop "$layout_image" Labels)" '"org.example.fixture" "yes"'
expect "Names" "$(image_prop "$layout_image" Names)" '^as 1 "fixture:latest"$'
expect_eq "CreatedAt is the config's created" "$(image_prop "$layout_image" CreatedAt)" \
  "t $(( $(date -u -d 2024-03-04T05:06:07Z +%s) * 1000000 ))"

if run_container c-layout fixture; then
  pass "a container from the layout runs its default command (WorkingDir, Env from the image)"
else
  fail "a container from the layout runs its default command"
fi
expect "... and sees layer 2's /etc/motd" "$out" "motd from layer 2"
list_tree "$(checkout_of "$layout_image")" >"$tmp/layout.list"
compare_trees "the files are the layers applied in order (whiteouts, opaque dir, owners, setuid)" \
  "$fx/expected-files" "$tmp/layout.list"
check "whiteout targets, opaque content and whiteout files are absent" \
  bash -c "! grep -Eq '^/(data/remove-me.txt|gone|opaque/old1|opaque/sub|.*\\.wh\\.)' '$tmp/layout.list'"
co=$(checkout_of "$layout_image")
expect_eq "the hardlink within the image is one inode" \
  "$(stat -c %i "$co/data/hard")" "$(stat -c %i "$co/data/keep.txt")"

# ---- Tag, Untag, Remove ------------------------------------------------

as_nobody () { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
names_before=$(image_prop "$layout_image" Names)
check_fails "Tag by an unprivileged user is NotAuthorized" "$err.NotAuthorized" \
  as_nobody gdbus call --system --dest "$name" --object-path "$layout_image" \
  --method "$name.Image.Tag" "'stolen:1'"
check_fails "Untag by an unprivileged user is NotAuthorized" "$err.NotAuthorized" \
  as_nobody gdbus call --system --dest "$name" --object-path "$layout_image" \
  --method "$name.Image.Untag" "'fixture'"
check_fails "Remove by an unprivileged user is NotAuthorized" "$err.NotAuthorized" \
  as_nobody gdbus call --system --dest "$name" --object-path "$layout_image" \
  --method "$name.Image.Remove" true
expect_eq "... and the names are unchanged" "$(image_prop "$layout_image" Names)" "$names_before"
check "Image.Tag adds a name" busctl --system call "$name" "$layout_image" "$name.Image" Tag s extra:1
expect "... Names has both" "$(image_prop "$layout_image" Names)" '"fixture:latest" "extra:1"'
check "GetImage finds the image by the new name" manager_call GetImage s extra:1
check "Image.Untag removes it" busctl --system call "$name" "$layout_image" "$name.Image" Untag s extra:1
check_fails "Untag of a name the image lacks is NotFound" "$err.NotFound" \
  gcall "$layout_image" Image.Untag "'nope:1'"
check_fails "Tag with a malformed name is InvalidArgument" "$err.InvalidArgument" \
  gcall "$layout_image" Image.Tag "'Bad Name!'"
check_fails "Remove while a container uses the image is InUse" "$err.InUse" \
  gcall "$layout_image" Image.Remove false
repo_before=$(du_bytes "$storage/repo")
check "Remove(force) removes the container, then the image" \
  busctl --system --timeout=infinity call "$name" "$layout_image" "$name.Image" Remove b true
check_fails "... the container is gone" "$err.NotFound" gcall "$root" Manager.GetContainer "'c-layout'"
check_fails "... the image is gone" "$err.NotFound" gcall "$root" Manager.GetImage "'fixture'"
expect_eq "... its ref is gone" "$(repo_refs)" ""
check "... its shared checkout is gone" test ! -e "$co"
repo_after=$(du_bytes "$storage/repo")
if [ "$repo_after" -lt $((repo_before / 2)) ]; then
  pass "... and the repo was pruned ($repo_before -> $repo_after bytes)"
else
  fail "... and the repo was pruned ($repo_before -> $repo_after bytes)"
fi

# ---- podman and skopeo -------------------------------------------------

check "skopeo copies the fixture into podman's (private) storage" \
  skopeo copy -q "oci:$fx/layout-gzip:latest" "${podman_storage}localhost/ctrd-fixture:latest"
podman_id=$(pod image inspect --format '{{.Id}}' localhost/ctrd-fixture:latest 2>&1)
expect_eq "podman's image ID is the config digest" "$podman_id" "$fixture_id"
check "podman runs it" pod run "${podman_run_flags[@]}" localhost/ctrd-fixture:latest
expect "... and it prints layer 2's motd" "$out" "motd from layer 2"
check "podman save --format oci-archive" \
  pod save -q --format oci-archive -o "$tmp/podman-oci.tar" localhost/ctrd-fixture:latest
check "podman save --format docker-archive" \
  pod save -q --format docker-archive -o "$tmp/podman-docker.tar" localhost/ctrd-fixture:latest
check "podman export of a podman container from the same image" \
  pod_export localhost/ctrd-fixture:latest "$tmp/podman-export"
list_tree "$tmp/podman-export" >"$tmp/podman.list"

# import_and_compare DESCRIPTION CONTAINER IMPORT-CMD...: the import gives
# the podman image's ID, runs, and has podman's files.
import_and_compare () {
  local desc=$1 cname=$2 image; shift 2
  check "$desc imports" "$@" || return
  image=$(printf '%s\n' "$out" | tail -1)
  case $image in /*) ;; *) image=$root/images/$image ;; esac
  expect_eq "... with podman's image ID" "${image##*/}" "$podman_id"
  if run_container "$cname" "${podman_id}" cat /etc/motd /data/new3 /data/keep.txt; then
    pass "... a container from it runs"
  else
    fail "... a container from it runs"
    printf '%s\n' "$out" | diag
  fi
  expect "... and reads the image's files" "$out" "motd from layer 2"
  list_tree "$(checkout_of "$image")" >"$tmp/$cname.list"
  compare_trees "... with the same files as podman export shows (modes, owners, contents)" \
    "$tmp/podman.list" "$tmp/$cname.list"
  remove_container "$cname"
  check "... and the image is removed again" \
    busctl --system --timeout=infinity call "$name" "$image" "$name.Image" Remove b false
}

import_and_compare "podman's oci-archive (ImportImageFromPath, Format oci-archive)" c-poci \
  import_path "$tmp/podman-oci.tar" "" oci-archive
import_from_stdin () { "$ctl" import "$@" - <"$tmp/podman-docker.tar"; }
import_and_compare "podman's docker-archive through a pipe (containersctl import -)" c-pdocker \
  import_from_stdin --format docker-archive
check "skopeo copy from podman's storage to an oci: layout" \
  skopeo copy -q "${podman_storage}localhost/ctrd-fixture:latest" "oci:$tmp/skopeo-oci:latest"
import_and_compare "skopeo's oci: layout (ImportImageFromPath of the directory, Format auto)" \
  c-skopeo import_path "$tmp/skopeo-oci" ""

# Names from the archive when the caller gives none.
check "podman's docker-archive, imported without a name" import_from_stdin
expect "... is named as podman named it" \
  "$(image_prop "$root/images/$podman_id" Names)" '"localhost/ctrd-fixture:latest"'

# ---- Image.Export ------------------------------------------------------

export_image=$root/images/$podman_id
check "Image.Export oci-archive" py export "$export_image" oci-archive "$tmp/ctrd-oci.tar"
expect "... succeeds" "$out" "^ok$"
check "podman load reads containersd's oci-archive" pod load -q -i "$tmp/ctrd-oci.tar"
loaded=$(printf '%s\n' "$out" | sed -n 's/^Loaded image[^:]*: *//p' | tail -1)
check "podman runs the loaded image" pod run "${podman_run_flags[@]}" "$loaded" cat /etc/motd /data/new3
expect "... with the image's files" "$out" "motd from layer 2"
check "podman export of a container of the loaded image" pod_export "$loaded" "$tmp/reloaded"
list_tree "$tmp/reloaded" >"$tmp/reloaded.list"
compare_trees "... which has the files of the original" "$tmp/podman.list" "$tmp/reloaded.list"
check "Image.Export rootfs-tar" py export "$export_image" rootfs-tar "$tmp/ctrd-rootfs.tar"
mkdir -p "$tmp/rootfs-export"
tar --numeric-owner -xpf "$tmp/ctrd-rootfs.tar" -C "$tmp/rootfs-export"
list_tree "$tmp/rootfs-export" >"$tmp/rootfs-export.list"
compare_trees "... holds the image's files" "$tmp/podman.list" "$tmp/rootfs-export.list"
check "Image.Export to a pipe whose reader closed" py export-closed-pipe "$export_image"
expect "... fails with Failed (and the daemon lives on)" "$out" "$err.Failed"
check "Image.Export with an unknown format" py export "$export_image" tar "$tmp/x.tar"
expect "... is InvalidArgument" "$out" "^$err.InvalidArgument"

# ---- Jobs ---------------------------------------------------------------

refs_before=$(repo_refs)
check "an import publishes a Job; Cancel stops it" py job-cancel "$tmp/podman-docker.tar"
expect "... the job says import, uid 0, object /" "$out" "job $root/jobs/[0-9]+ import uid 0 object /"
expect "... with bytes done" "$out" "bytes-done [1-9]"
expect "... Cancel by another uid is NotAuthorized" "$out" "other-uid-cancel 1 .*$err.NotAuthorized"
expect "... and leaves the job running" "$out" "still-running True"
expect "... the import fails with Cancelled" "$out" "import $err.Cancelled"
expect "... Completed(false) was emitted" "$out" "completed \[\(False, "
expect "... and the job is gone" "$out" "job-gone True"
expect_eq "... leaving no ref" "$(repo_refs)" "$refs_before"
check "an import whose caller leaves the bus" py job-vanish "$tmp/podman-docker.tar"
expect "... had a job" "$out" "jobs 1"
# The job can only end by the cancel (the writer holds the pipe open), and
# the daemon logs the cancel before it cancels: once the job object is gone,
# the line is there, with no wait on the log itself.
jobs_gone () { ! busctl --system tree "$name" 2>/dev/null | grep -q "/jobs/"; }
if wait_for jobs_gone; then pass "... and its job goes away"; else fail "... and its job goes away"; fi
expect "... while the writer still holds the pipe" "$(pids_mentioning "$tmp/ctrd-dbus.py")" '[0-9]'
if grep -q "left the bus; cancelling it" "$tmp/daemon.log"; then
  pass "... is cancelled when the caller leaves"
else
  fail "... is cancelled when the caller leaves"
fi
for pid in $(pids_mentioning "$tmp/ctrd-dbus.py"); do kill "$pid" 2>/dev/null; done
expect_eq "... leaving no ref" "$(repo_refs)" "$refs_before"

# ---- bad input ---------------------------------------------------------

for bad in bad-missing-blob bad-digest bad-whiteout bad-dotdot.tar; do
  before=$(leftovers)
  check_fails "$bad is InvalidArgument" "$err.InvalidArgument" \
    gcall "$root" Manager.ImportImageFromPath "'$fx/$bad'" "'bad'" "@a{sv} {}"
  expect_eq "... and leaves no ref, staging dir or file" "$(leftovers)" "$before"
done
check_fails "Format oci-layout on a file is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.ImportImageFromPath "'$tmp/podman-oci.tar'" "'x'" "{'Format': <'oci-layout'>}"
check_fails "an unknown Format is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.ImportImageFromPath "'$tmp/podman-oci.tar'" "'x'" "{'Format': <'zip'>}"
check_fails "a relative path is InvalidArgument" "$err.InvalidArgument" \
  gcall "$root" Manager.ImportImageFromPath "'fx/layout'" "'x'" "@a{sv} {}"

# ---- disk: sharing between images, no copies for containers -------------

mkdir -p "$tmp/disk-a/data" "$tmp/disk-a/bin"
cp /bin/busybox "$tmp/disk-a/bin/busybox"
ln -s busybox "$tmp/disk-a/bin/sh"
for i in $(seq 1 40); do head -c 65536 /dev/urandom >"$tmp/disk-a/data/f$i"; done
cp -a "$tmp/disk-a" "$tmp/disk-b"
for i in $(seq 1 4); do head -c 65536 /dev/urandom >"$tmp/disk-b/data/f$i"; done
tar --numeric-owner -C "$tmp/disk-a" -cf "$tmp/disk-a.tar" .
tar --numeric-owner -C "$tmp/disk-b" -cf "$tmp/disk-b.tar" .
check "import image A" import_path "$tmp/disk-a.tar" disk-a rootfs-tar
repo_a=$(du_bytes "$storage/repo")
check "import image B (90% of its files are A's)" import_path "$tmp/disk-b.tar" disk-b rootfs-tar
repo_b=$(du_bytes "$storage/repo")
size_b=$(du_bytes "$tmp/disk-b")
growth=$((repo_b - repo_a))
if [ $((growth * 100)) -le $((size_b * 15)) ]; then
  pass "the repo grew by $growth bytes for B, at most 15% of B's $size_b"
else
  fail "the repo grew by $growth bytes for B, more than 15% of B's $size_b"
fi
run_container disk1 disk-a /bin/sh -c 'echo changed > /data/f1' ||
  fail "a container on image A runs"
disk_co=$(checkout_of "$(manager_call GetImage s disk-a | busctl_value)")
copies=$(find "$disk_co" -type f -links 1 | wc -l)
expect_eq "every file of the checkout is a hardlink into the repo (no copy)" "$copies" "0"
before=$(du_bytes "$storage/repo" "$storage/checkouts")
run_container disk2 disk-a /bin/sh -c 'cat /data/f1 >/dev/null' ||
  fail "a second container on image A runs"
after=$(du_bytes "$storage/repo" "$storage/checkouts")
expect_eq "a second container grows neither the repo nor the checkouts" "$after" "$before"
if [ "$(head -c 7 "$disk_co/data/f1" | tr -d '\0')" = changed ]; then
  fail "the shared checkout is never written"
else
  pass "the shared checkout is never written"
fi

# ---- the daemon stops cleanly ------------------------------------------

daemon_stop_checked
exit 0
