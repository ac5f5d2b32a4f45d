#!/bin/sh
# run-test.sh TEST [ARGS...]: automake's LOG_COMPILER for every test.
#   - GTest programs get --tap;
#   - shell tests (*.sh) run under bash and print TAP themselves
#     (test-core-boundary.sh needs neither root nor a bus);
#   - integration tests (test-integration*, *.sh) run on a private system bus
#     with polkitd (tests/private-bus.sh), never on the host's.
# `make check` exports CTRD_TOP_SRCDIR and CTRD_TOP_BUILDDIR; when run by hand
# they default to this script's source tree and the current directory.
set -u

test=${1:?usage: run-test.sh TEST [ARGS...]}
shift

here=$(cd "$(dirname "$0")" && pwd)
CTRD_TOP_SRCDIR=${CTRD_TOP_SRCDIR:-$(dirname "$here")}
CTRD_TOP_BUILDDIR=${CTRD_TOP_BUILDDIR:-$(pwd)}
export CTRD_TOP_SRCDIR CTRD_TOP_BUILDDIR

needs_root () {
  if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP $(basename "$test") needs root (runc, overlay mounts, polkitd)"
    exit 0
  fi
}

case $(basename "$test") in
  test-core-boundary.sh)
    exec bash "$test" "$@" ;;
  *.sh)
    needs_root
    exec "$here/private-bus.sh" bash "$test" "$@" ;;
  test-integration*)
    needs_root
    exec "$here/private-bus.sh" "$test" --tap "$@" ;;
  *)
    exec "$test" --tap "$@" ;;
esac
