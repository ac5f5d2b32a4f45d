#!/bin/sh
# Installs the Debian 12 packages needed to build, run and test containersd.
# Safe to run again: it asks apt only for what is missing, and does nothing
# when everything is installed. Needs root.
set -eu

packages="
  build-essential autoconf automake pkg-config
  libglib2.0-dev libglib2.0-dev-bin libglib2.0-bin
  libostree-dev ostree
  libarchive-dev
  libpolkit-gobject-1-dev polkitd
  libjson-glib-dev
  libsqlite3-dev
  libssl-dev
  libselinux1-dev
  dbus dbus-daemon dbus-bin
  systemd
  runc conmon catatonit criu
  netavark aardvark-dns iptables iproute2
  busybox-static
  python3-gi
  libxml2-utils
  util-linux tar gzip
  podman skopeo
  docker-registry apache2-utils curl
  golang-github-containers-common
  clang libclang-rt-14-dev valgrind
  cockpit-ws cockpit-bridge chromium
  bindfs
"
# Node.js and npm for the Cockpit page's browser test: Debian's packages unless
# a node with npm is already installed (e.g. NodeSource's, which ships npm itself).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages="$packages nodejs npm"
fi
# dbus-daemon: the system bus (and the tests' private buses); dbus-bin: dbus-send.
# systemd: busctl (the daemon does not need systemd as PID 1).
# polkitd: the authority, pkaction/pkcheck. busybox-static: the test image.
# python3-gi: D-Bus test helpers. libxml2-utils: xmllint for the policy files.
# golang-github-containers-common (containers-common): podman's default seccomp
# profile, /usr/share/containers/seccomp.json, which every container gets.
# podman, skopeo: the image interop tests; skopeo also does the daemon's
# pulls and pushes. docker-registry, apache2-utils (htpasswd), curl: the
# local registries of the pull and push tests. clang, libclang-rt-14-dev: libFuzzer
# and the sanitizer build; valgrind: memcheck runs of the daemon.
# netavark, aardvark-dns (in /usr/lib/podman/), iptables (the nf_tables
# backend netavark drives): bridge networks; iproute2: ip, for the network
# tests. catatonit: the Init option's PID 1; criu: Checkpoint (criu check).
# cockpit-ws, cockpit-bridge, chromium: the Cockpit page's test (cockpit-ws on
# 127.0.0.1, the page driven in headless chromium by playwright-core from npm).
# bindfs: a real FUSE filesystem whose server the caller-path test stops, so a
# path on it hangs like one on a dead network mount.

# playwright-core for the Cockpit page's test, from tests/cockpit/package-lock.json
# (node_modules is never committed).
npm_deps () {
  top=$(cd "$(dirname "$0")/.." && pwd)
  [ -d "$top/tests/cockpit/node_modules/playwright-core" ] && return 0
  (cd "$top/tests/cockpit" && npm ci --no-audit --no-fund --loglevel=error)
}

missing=""
for pkg in $packages; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
  npm_deps
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: missing packages:$missing" >&2
  echo "install-deps.sh: run it as root to install them" >&2
  exit 1
fi

echo "install-deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null

npm_deps
