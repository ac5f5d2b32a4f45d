#!/bin/sh
# Builds containersd out of tree in _build/ and runs the whole test suite:
#
#   sudo scripts/test.sh
#
# The unit tests need no bus; the integration tests start their own private
# dbus-daemon, polkitd and containersd on temporary roots and run real
# containers with runc, so they need root. Nothing is installed and the host's
# system bus is not touched.
#
# Environment:
#   CTRD_SKIP_DEPS=1      do not check or install the Debian packages
#   CTRD_TEST_JOBS=N      run N test programs at once (default 1)
#   CTRD_CONFIGURE_ARGS   extra arguments for configure
#
# Exits non-zero when the build or any test fails; on a test failure it
# prints _build/test-suite.log.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$top/_build

if [ "${CTRD_SKIP_DEPS:-0}" != 1 ]; then
  "$top/scripts/install-deps.sh"
fi

if [ -f "$top/config.status" ]; then
  echo "test.sh: the source tree was configured in place; run 'make distclean' in $top first" >&2
  exit 1
fi
if [ ! -x "$top/configure" ]; then
  (cd "$top" && NOCONFIGURE=1 ./autogen.sh)
fi

mkdir -p "$builddir"
cd "$builddir"
if [ ! -f Makefile ]; then
  # shellcheck disable=SC2086 # CTRD_CONFIGURE_ARGS is a list of words
  "$top/configure" -q --enable-werror ${CTRD_CONFIGURE_ARGS:-}
fi

make -j2
# Tests run one at a time by default: each integration test runs a daemon and
# containers, and the machine may have only two cores.
if make -j"${CTRD_TEST_JOBS:-1}" check; then
  exit 0
fi
echo
echo "=== test-suite.log"
cat test-suite.log 2>/dev/null || echo "(no test-suite.log: the build of the tests failed)"
exit 1
