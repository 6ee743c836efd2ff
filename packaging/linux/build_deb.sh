#!/usr/bin/env bash
# Wrap a built bundle folder (PyInstaller's dist/ValueSpectrumStudio) into a .deb:
#   /opt/value-spectrum-studio/app/   the bundle
#   /usr/bin/vspectrum, /usr/bin/vspectrum-studio   on PATH
#   a menu entry and the icon (hicolor theme)
# Usage: build_deb.sh VERSION BUNDLE_DIR OUT_DIR   (needs dpkg-deb; no root)
set -euo pipefail
version=$1 bundle=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
root_dir=$(cd "$here/../.." && pwd)
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/pkg"
mkdir -p "$pkg/DEBIAN" "$pkg/opt/value-spectrum-studio" "$pkg/usr/bin" "$pkg/usr/share/applications" \
         "$pkg/usr/share/icons/hicolor/scalable/apps" "$pkg/usr/share/doc/value-spectrum-studio"
cp -r "$bundle" "$pkg/opt/value-spectrum-studio/app"
ln -s /opt/value-spectrum-studio/app/vspectrum "$pkg/usr/bin/vspectrum"
ln -s /opt/value-spectrum-studio/app/vspectrum-studio "$pkg/usr/bin/vspectrum-studio"
sed "s|@APP@|/opt/value-spectrum-studio/app|g" "$here/vspectrum-studio.desktop" \
  > "$pkg/usr/share/applications/vspectrum-studio.desktop"
icon="$root_dir/resources/icons/app.svg"
[ -f "$icon" ] && cp "$icon" "$pkg/usr/share/icons/hicolor/scalable/apps/vspectrum-studio.svg"
# the licences of the bundled parts (written by the spec into the bundle), where Debian keeps them
for f in "$bundle/LICENSES.txt" "$bundle/_internal/LICENSES.txt"; do
  [ -f "$f" ] && cp "$f" "$pkg/usr/share/doc/value-spectrum-studio/copyright"
done
size_kb=$(du -sk "$pkg/opt" | cut -f1)
# The Qt xcb platform plugin's system libraries (the bundle carries Qt itself), and a
# browser for the crawler (not bundled: the user's own Chromium or Chrome is used).
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: value-spectrum-studio
Version: $version
Architecture: $arch
Maintainer: Value-Spectrum Studio developers <noreply@localhost>
Installed-Size: $size_kb
Depends: $("$here/system_libs.sh" debs | paste -sd, | sed 's/,/, /g')
Recommends: chromium | google-chrome-stable | chromium-browser
Section: science
Priority: optional
Description: measure the value preferences of vision-language models
 Value-Spectrum Studio crawls short-video feeds, indexes screenshots with CLIP, and
 measures which of Schwartz's ten values a vision-language model prefers.
CONTROL
cat > "$pkg/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null && update-desktop-database -q /usr/share/applications || true
POSTINST
cp "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"
chmod 755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/value-spectrum-studio_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
