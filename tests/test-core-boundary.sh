#!/bin/bash
# test-core-boundary.sh: service/core/ holds plain modules only. Proves it two
# ways: no core source includes the generated API header or a bus object's
# header, and a core file that tried would not compile with core's flags
# (which lack the generated-header directory). Prints TAP (tests/libtest.sh).
set -u

srcdir=${CTRD_TOP_SRCDIR:?CTRD_TOP_SRCDIR must be set (make check sets it)}
builddir=${CTRD_TOP_BUILDDIR:?CTRD_TOP_BUILDDIR must be set (make check sets it)}
cc=${CTRD_CC:-cc}
core=$srcdir/service/core
. "$srcdir/tests/libtest.sh"

# The bus objects' headers: every header directly in service/.
bus_headers=$(cd "$srcdir/service" && ls ./*.h | sed 's|^\./||')
pattern="#include +\"(ctr-generated\\.h$(printf '|%s' $bus_headers | sed 's/\./\\./g'))\""
offenders=$(grep -lE "$pattern" "$core"/*.[ch] 2>/dev/null)
if [ -z "$offenders" ]; then
  pass "no file in service/core/ includes ctr-generated.h or a header of service/"
else
  fail "these core files include a D-Bus header:"
  printf '%s\n' "$offenders" | diag
fi

# No core file names a GDBus type or the generated API's types.
offenders=$(grep -lE '\b(GDBus[A-Z][A-Za-z]*|g_dbus_[a-z_]+|Ctr[A-Z][A-Za-z]*Skeleton|CtrManager|CtrContainer|CtrImage|CtrJob)\b' \
  "$core"/*.[ch] 2>/dev/null | grep -v '/ctrd-error\.[ch]$')
if [ -z "$offenders" ]; then
  pass "no core file but ctrd-error names a GDBus or generated type"
else
  fail "these core files name D-Bus types:"
  printf '%s\n' "$offenders" | diag
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctrd-boundary.XXXXXX")
trap 'status=$?; rm -rf "$tmp"; tap_finish $status' EXIT
printf '#include "config.h"\n#include "ctrd-util.h"\nint ctrd_boundary_probe (void);\nint ctrd_boundary_probe (void) { return 0; }\n' >"$tmp/plain.c"
printf '#include "config.h"\n#include "ctr-generated.h"\nint ctrd_boundary_probe (void);\nint ctrd_boundary_probe (void) { return 0; }\n' >"$tmp/leak.c"

# shellcheck disable=SC2086 # the flags are a list of words
if $cc $CTRD_CORE_CPPFLAGS -c "$tmp/plain.c" -o "$tmp/plain.o" 2>"$tmp/plain.err"; then
  pass "a core file that includes core headers compiles with core's flags"
else
  fail "a plain core file does not compile with core's flags"
  diag <"$tmp/plain.err"
fi
# shellcheck disable=SC2086
if [ ! -f "$builddir/dbus/ctr-generated.h" ]; then
  fail "dbus/ctr-generated.h was not generated in $builddir"
elif $cc $CTRD_CORE_CPPFLAGS -c "$tmp/leak.c" -o "$tmp/leak.o" 2>"$tmp/leak.err"; then
  fail "a core file that includes ctr-generated.h compiled with core's flags"
else
  pass "a core file that includes ctr-generated.h does not compile with core's flags"
fi
