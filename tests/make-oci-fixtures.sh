#!/bin/bash
# make-oci-fixtures.sh OUTDIR: writes the OCI image fixtures the image tests
# use, built from Debian's busybox-static (nothing is downloaded):
#
#   OUTDIR/layout/            an OCI image layout (tag "latest"), three layers:
#     1 (gzip)  busybox root filesystem, /data/{keep,remove-me}.txt, a
#               hardlink /data/hard -> keep.txt, /opaque/{old1,sub/old2},
#               /gone/x, /etc/motd, a setuid /usr/local/bin/suid-tool,
#               /home/user owned by 1000:1000 (0700)
#     2 (zstd)  whiteouts data/.wh.remove-me.txt and .wh.gone, an opaque
#               /opaque (.wh..wh..opq) holding new1, a new /etc/motd
#     3 (plain) /data/new3, /etc/layer3
#     config: Cmd, Env, WorkingDir, User, StopSignal, ExposedPorts, Volumes,
#             Labels (see below)
#   OUTDIR/layout-gzip/       the same image with layer 2 gzip-compressed (podman
#                             4.3 writes no zstd layer into a docker-archive)
#   OUTDIR/expected-files     "path type mode uid:gid sha256" per file of the
#                             final tree (what any correct import yields)
#   OUTDIR/bad-missing-blob/  the layout without layer 3's blob
#   OUTDIR/bad-digest/        layer 3's blob with one byte changed (same size)
#   OUTDIR/bad-whiteout/      layer 2 replaced by one holding a bare "etc/.wh."
#   OUTDIR/bad-dotdot.tar     a docker-archive whose manifest names ../evil.tar
#
# Needs root (ownership), tar, gzip, zstd, sha256sum, jq and /bin/busybox.
set -euo pipefail

out=${1:?usage: make-oci-fixtures.sh OUTDIR}
bb=${BUSYBOX:-/bin/busybox}
for tool in tar gzip zstd sha256sum jq; do
  command -v "$tool" >/dev/null || { echo "make-oci-fixtures.sh: $tool not found" >&2; exit 1; }
done
[ -x "$bb" ] || { echo "make-oci-fixtures.sh: $bb not found (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Deterministic tars: sorted names, numeric owners, one mtime.
pack () { # pack DIR OUT.tar
  tar --sort=name --numeric-owner --mtime=@1700000000 --format=gnu -C "$1" -cf "$2" .
}

digest () { sha256sum "$1" | cut -d' ' -f1; }

# ---- layer contents ---------------------------------------------------------

l1=$work/l1; l2=$work/l2; l3=$work/l3
mkdir -p "$l1"/{bin,etc,dev,proc,sys,tmp,root,run,var,sbin,usr/bin,usr/local/bin,data,opaque/sub,gone}
chmod 1777 "$l1/tmp"
cp "$bb" "$l1/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$l1/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$l1/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "$l1/etc/group"
echo "motd from layer 1" > "$l1/etc/motd"
echo "kept" > "$l1/data/keep.txt"
ln "$l1/data/keep.txt" "$l1/data/hard"
echo "removed by layer 2" > "$l1/data/remove-me.txt"
echo "old1" > "$l1/opaque/old1"
echo "old2" > "$l1/opaque/sub/old2"
echo "x" > "$l1/gone/x"
printf '#!/bin/sh\necho suid\n' > "$l1/usr/local/bin/suid-tool"
chmod 4755 "$l1/usr/local/bin/suid-tool"
mkdir -p "$l1/home/user"
echo "user file" > "$l1/home/user/file"
chown -R 1000:1000 "$l1/home/user"
chmod 0700 "$l1/home/user"

mkdir -p "$l2/data" "$l2/opaque" "$l2/etc"
: > "$l2/data/.wh.remove-me.txt"
: > "$l2/.wh.gone"
: > "$l2/opaque/.wh..wh..opq"
echo "new1" > "$l2/opaque/new1"
echo "motd from layer 2" > "$l2/etc/motd"

mkdir -p "$l3/data" "$l3/etc"
echo "new3" > "$l3/data/new3"
echo "layer 3" > "$l3/etc/layer3"

pack "$l1" "$work/l1.tar"
pack "$l2" "$work/l2.tar"
pack "$l3" "$work/l3.tar"
gzip -n -9 -c "$work/l1.tar" > "$work/l1.tar.gz"
zstd -q -19 -c "$work/l2.tar" > "$work/l2.tar.zst"
cp "$work/l3.tar" "$work/l3.blob"

# ---- a layout from three blobs ---------------------------------------------

# write_layout DIR BLOB1 DIFF1 TYPE1 BLOB2 DIFF2 TYPE2 BLOB3 DIFF3 TYPE3
write_layout () {
  local dir=$1; shift
  rm -rf "$dir"
  mkdir -p "$dir/blobs/sha256"
  local layers='[]' diff_ids='[]'
  while [ $# -gt 0 ]; do
    local blob=$1 plain=$2 mtype=$3; shift 3
    local d; d=$(digest "$blob")
    cp "$blob" "$dir/blobs/sha256/$d"
    layers=$(jq -c --arg d "sha256:$d" --argjson s "$(stat -c %s "$blob")" --arg m "$mtype" \
               '. + [{mediaType: $m, digest: $d, size: $s}]' <<<"$layers")
    diff_ids=$(jq -c --arg d "sha256:$(digest "$plain")" '. + [$d]' <<<"$diff_ids")
  done
  local arch
  case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  jq -c -n --arg arch "$arch" --argjson diff_ids "$diff_ids" '{
      created: "2024-03-04T05:06:07Z", architecture: $arch, os: "linux",
      config: {
        Cmd: ["/bin/sh", "-c", "cat /etc/motd"],
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FIXTURE=1"],
        WorkingDir: "/data", User: "0:0", StopSignal: "SIGTERM",
        ExposedPorts: {"8080/tcp": {}}, Volumes: {"/vol": {}},
        Labels: {"org.example.fixture": "yes"}
      },
      rootfs: {type: "layers", diff_ids: $diff_ids},
      history: [{created: "2024-03-04T05:06:07Z", created_by: "make-oci-fixtures.sh"}]
    }' > "$work/config.json"
  local cd; cd=$(digest "$work/config.json")
  cp "$work/config.json" "$dir/blobs/sha256/$cd"
  jq -c -n --arg cd "sha256:$cd" --argjson cs "$(stat -c %s "$work/config.json")" \
        --argjson layers "$layers" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: $layers}' > "$work/manifest.json"
  local md; md=$(digest "$work/manifest.json")
  cp "$work/manifest.json" "$dir/blobs/sha256/$md"
  jq -c -n --arg md "sha256:$md" --argjson ms "$(stat -c %s "$work/manifest.json")" '{
      schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: $md, size: $ms,
        annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' > "$dir/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
}

gz=application/vnd.oci.image.layer.v1.tar+gzip
zs=application/vnd.oci.image.layer.v1.tar+zstd
pl=application/vnd.oci.image.layer.v1.tar
write_layout "$out/layout" \
  "$work/l1.tar.gz" "$work/l1.tar" $gz \
  "$work/l2.tar.zst" "$work/l2.tar" $zs \
  "$work/l3.blob" "$work/l3.tar" $pl
# The same image (same config, so the same ID) without zstd, which podman 4.3
# cannot write into a docker-archive.
gzip -n -9 -c "$work/l2.tar" > "$work/l2.tar.gz"
write_layout "$out/layout-gzip" \
  "$work/l1.tar.gz" "$work/l1.tar" $gz \
  "$work/l2.tar.gz" "$work/l2.tar" $gz \
  "$work/l3.blob" "$work/l3.tar" $pl

# ---- the tree every correct import gives ------------------------------------

final=$work/final
mkdir -p "$final"
tar -C "$final" -xpf "$work/l1.tar"
rm -f "$final/data/remove-me.txt"
rm -rf "$final/gone" "$final/opaque"/*
cp -a "$l2/opaque/new1" "$final/opaque/"
cp -a "$l2/etc/motd" "$final/etc/motd"
tar -C "$final" -xpf "$work/l3.tar"
# "path type mode uid:gid sha256-or-link-target", the format tests/test-images.sh compares.
(cd "$final" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r path; do
   p=${path#.}
   if [ -L "$path" ]; then
     echo "$p l $(stat -c '%a %u:%g' "$path") $(readlink "$path")"
   elif [ -d "$path" ]; then
     echo "$p d $(stat -c '%a %u:%g' "$path") -"
   else
     echo "$p f $(stat -c '%a %u:%g' "$path") $(digest "$path")"
   fi
 done) > "$out/expected-files"

# ---- bad variants -----------------------------------------------------------

l3d=$(digest "$work/l3.blob")
rm -rf "$out/bad-missing-blob" "$out/bad-digest"
cp -a "$out/layout" "$out/bad-missing-blob"
rm "$out/bad-missing-blob/blobs/sha256/$l3d"
cp -a "$out/layout" "$out/bad-digest"
blob=$out/bad-digest/blobs/sha256/$l3d
# Flip the first byte of the first member's name: same size, another digest.
printf 'X' | dd of="$blob" bs=1 seek=0 conv=notrunc status=none

badwh=$work/badwh
mkdir -p "$badwh/etc"
: > "$badwh/etc/.wh."
pack "$badwh" "$work/badwh.tar"
write_layout "$out/bad-whiteout" \
  "$work/l1.tar.gz" "$work/l1.tar" $gz \
  "$work/badwh.tar" "$work/badwh.tar" $pl \
  "$work/l3.blob" "$work/l3.tar" $pl

dock=$work/docker
mkdir -p "$dock"
cp "$work/l1.tar" "$dock/$(digest "$work/l1.tar").tar"
echo '{"rootfs":{"type":"layers","diff_ids":["sha256:'"$(digest "$work/l1.tar")"'"]}}' > "$dock/cfg.json"
jq -c -n '[{Config: "cfg.json", RepoTags: ["localhost/evil:latest"], Layers: ["../evil.tar"]}]' \
  > "$dock/manifest.json"
tar --sort=name --numeric-owner --mtime=@1700000000 -C "$dock" -cf "$out/bad-dotdot.tar" .
