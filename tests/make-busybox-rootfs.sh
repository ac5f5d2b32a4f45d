#!/bin/sh
# Builds a tiny root filesystem tar from Debian's busybox-static:
#   make-busybox-rootfs.sh OUT.tar      (plain tar)
#   make-busybox-rootfs.sh OUT.tar.gz   (gzip)
# /bin/busybox plus one symlink per applet, /etc/passwd, /etc/group, and the
# empty directories a container expects. Needs /bin/busybox (busybox-static).
set -eu
out=${1:?usage: make-busybox-rootfs.sh OUT.tar[.gz]}
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "make-busybox-rootfs.sh: $bb not found (apt-get install busybox-static)" >&2; exit 1; }
if ! "$bb" --list >/dev/null 2>&1; then
  echo "make-busybox-rootfs.sh: $bb is not a busybox binary" >&2; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
         "$root/root" "$root/home" "$root/var" "$root/run" "$root/usr/bin" "$root/sbin"
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PW
cat > "$root/etc/group" <<'GR'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GR
case "$out" in
  *.gz) tar --numeric-owner --owner=0 --group=0 -C "$root" -czf "$out" . ;;
  *)    tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$out" . ;;
esac
