#!/bin/sh
# Builds containersd out of tree and runs the whole test suite, in stages:
#
#   scripts/test.sh        (as root)
#
#   1. _build/       the normal build (--enable-werror) and `make check`;
#   2. _build/       the Python integration tests again with the daemon under
#                    valgrind memcheck (no error, no definite leak);
#   3. _build-asan/  the build under AddressSanitizer + UndefinedBehaviorSanitizer
#                    (--enable-sanitizers) and `make check`;
#   4. _build-fuzz/  the libFuzzer targets (--enable-fuzzing, clang) and
#                    `make fuzz-smoke`, each target for CTRD_FUZZ_SECONDS.
#
# The unit tests need no bus; the integration tests start their own private
# dbus-daemon, polkitd and containersd on temporary roots and run real
# containers with runc, so they need root. Nothing is installed and the host's
# system bus is not touched.
#
# Environment:
#   CTRD_SKIP_DEPS=1      do not check or install the Debian packages
#   CTRD_TEST_QUICK=1     stage 1 only (for developers; CI runs them all)
#   CTRD_TEST_JOBS=N      run N test programs at once (default 1)
#   CTRD_FUZZ_SECONDS=N   seconds of fuzzing per target in stage 4 (default 60)
#   CTRD_CONFIGURE_ARGS   extra arguments for configure, in every stage
#
# Every stage runs even when an earlier one failed, so that one run shows all
# failures. Exits non-zero when any build or test fails; a failed `make check`
# prints its test-suite.log. Stage 4 leaves its verdict in
# _build-fuzz/fuzz-smoke.result ("PASS", or "FAIL: why") for .ci/run.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${CTRD_SKIP_DEPS:-0}" != 1 ]; then
  "$top/scripts/install-deps.sh" || exit 1
fi

if [ -f "$top/config.status" ]; then
  echo "test.sh: the source tree was configured in place; run 'make distclean' in $top first" >&2
  exit 1
fi
if [ ! -x "$top/configure" ]; then
  (cd "$top" && NOCONFIGURE=1 ./autogen.sh) || exit 1
fi

failed_stages=""
stage_start=0

begin_stage () {
  echo
  echo "=== test.sh: $1"
  stage_start=$(date +%s)
}

# end_stage NAME STATUS: records a failed stage and prints the stage's time.
end_stage () {
  echo "=== test.sh: $1 $( [ "$2" -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - stage_start)) s"
  [ "$2" -eq 0 ] || failed_stages="$failed_stages $1"
}

# configure_and_build DIR CONFIGURE-ARGS...: configures DIR once (re-run by
# make itself when configure.ac changes), then builds everything.
configure_and_build () {
  dir=$1
  shift
  mkdir -p "$dir" && cd "$dir" || return 1
  if [ ! -f Makefile ]; then
    # shellcheck disable=SC2086 # CTRD_CONFIGURE_ARGS is a list of words
    "$top/configure" -q "$@" ${CTRD_CONFIGURE_ARGS:-} || return 1
  fi
  make -j2
}

# check DIR CONFIGURE-ARGS...: builds in DIR and runs `make check`; prints
# test-suite.log when it fails. Tests run one at a time by default: each
# integration test runs a daemon and containers, and the machine may have
# only two cores.
check () {
  dir=$1
  configure_and_build "$@" || return 1
  if make -j"${CTRD_TEST_JOBS:-1}" check; then
    return 0
  fi
  echo
  echo "=== $dir/test-suite.log"
  cat test-suite.log 2>/dev/null || echo "(no test-suite.log: the build of the tests failed)"
  return 1
}

# valgrind_check: the tests that take CTRD_DAEMON_WRAPPER, in _build/ (their
# results replace those of stage 1).
valgrind_check () {
  cd "$top/_build" || return 1
  if CTRD_DAEMON_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --suppressions=/usr/share/glib-2.0/valgrind/glib.supp" \
     make check TESTS="tests/test-bad-input.py tests/test-authz.py"; then
    return 0
  fi
  echo
  echo "=== _build/test-suite.log (containersd under valgrind)"
  cat test-suite.log
  return 1
}

# fuzz_smoke: builds the fuzz targets in _build-fuzz/ and runs each for
# CTRD_FUZZ_SECONDS from the kept inputs; writes the verdict file.
fuzz_smoke () {
  dir=$top/_build-fuzz
  result=$dir/fuzz-smoke.result
  mkdir -p "$dir" && rm -f "$result" || return 1
  if ! (configure_and_build "$dir" --enable-werror --enable-fuzzing); then
    echo "FAIL: the fuzz build (clang, --enable-fuzzing) failed" >"$result"
    return 1
  fi
  # libFuzzer reports every new input: the log keeps them, the output shows
  # each target's final stats, or the end of the log on a failure.
  (cd "$dir" && make fuzz-smoke FUZZ_SECONDS="${CTRD_FUZZ_SECONDS:-60}") >"$dir/fuzz-smoke.log" 2>&1
  status=$?
  if [ "$status" -eq 0 ]; then
    grep -E '^(fuzz-smoke: |Done |stat::(number_of_executed_units|new_units_added|peak_rss_mb))' \
      "$dir/fuzz-smoke.log"
    echo PASS >"$result"
    return 0
  fi
  echo "=== the end of $dir/fuzz-smoke.log"
  tail -n 80 "$dir/fuzz-smoke.log"
  # Why, in one line: a failed g_assert's message, else libFuzzer's or the
  # sanitizer's first report line (deadly signal, heap-buffer-overflow, leak,
  # timeout...); and the input that did it.
  why=$(grep -m1 -E ':ERROR:|^==[0-9]+== *ERROR|^SUMMARY:' "$dir/fuzz-smoke.log")
  input=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$dir/fuzz-smoke.log" | head -n 1)
  target=$(sed -n 's/^fuzz-smoke: \([a-z]*\) for .*/\1/p' "$dir/fuzz-smoke.log" | tail -n 1)
  echo "FAIL: make fuzz-smoke failed (status $status) in target ${target:-none}:" \
    "${why:-see $dir/fuzz-smoke.log}${input:+; input kept in $dir/$input}" >"$result"
  return 1
}

begin_stage "build and check (_build)"
(check "$top/_build" --enable-werror)
end_stage "check" $?

if [ "${CTRD_TEST_QUICK:-0}" = 1 ]; then
  echo "test.sh: CTRD_TEST_QUICK=1: no sanitizer build, no fuzz-smoke"
else
  begin_stage "the daemon under valgrind (_build)"
  (valgrind_check)
  end_stage "valgrind" $?

  begin_stage "build and check under ASan+UBSan (_build-asan)"
  (check "$top/_build-asan" --enable-werror --enable-sanitizers)
  end_stage "asan-check" $?

  begin_stage "fuzz-smoke, ${CTRD_FUZZ_SECONDS:-60} s per target (_build-fuzz)"
  fuzz_smoke
  end_stage "fuzz-smoke" $?
fi

echo
if [ -n "$failed_stages" ]; then
  echo "test.sh: failed stages:$failed_stages"
  exit 1
fi
echo "test.sh: all stages passed"
exit 0
