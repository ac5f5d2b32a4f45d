#!/bin/sh
# Regenerate the build system: ./autogen.sh [configure arguments]
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf -fi
if [ -z "$NOCONFIGURE" ]; then
  exec ./configure "$@"
fi
