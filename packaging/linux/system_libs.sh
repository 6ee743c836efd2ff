#!/usr/bin/env bash
# The system libraries Qt's xcb platform plugin needs beside the bundle, in one place for
# the .deb's Depends and install.sh's check.
#   system_libs.sh debs      the Debian/Ubuntu package names, one a line
#   system_libs.sh missing   the packages whose library the dynamic linker cannot find
set -euo pipefail
# package                library file
LIBS="libxcb-cursor0        libxcb-cursor.so.0
libxcb-icccm4           libxcb-icccm.so.4
libxcb-keysyms1         libxcb-keysyms.so.1
libxkbcommon-x11-0      libxkbcommon-x11.so.0
libegl1                 libEGL.so.1
libgl1                  libGL.so.1
libfontconfig1          libfontconfig.so.1
libdbus-1-3             libdbus-1.so.3"
case "${1:-}" in
  debs) echo "$LIBS" | awk '{print $1}' ;;
  missing)
    known=$(${LDCONFIG:-/sbin/ldconfig} -p 2>/dev/null || true)
    echo "$LIBS" | while read -r pkg lib; do
      grep -q "$lib" <<<"$known" || echo "$pkg"
    done ;;
  *) echo "usage: $0 debs|missing" >&2; exit 2 ;;
esac
