#!/usr/bin/env bash
# Installs Value-Spectrum Studio for the current user: no root, no compiler, no Python needed.
# Uninstall with: ~/.local/opt/value-spectrum-studio/uninstall.sh (your workspace is kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${VSPECTRUM_PREFIX:-$HOME/.local/opt/value-spectrum-studio}
missing=$("$here/system_libs.sh" missing | paste -sd' ')
if [ -n "$missing" ]; then
  echo "The window needs system libraries that are not installed; install them with: sudo apt install $missing"
fi
mkdir -p "$dest" "$HOME/.local/bin" "$HOME/.local/share/applications" "$HOME/.local/share/icons/hicolor/scalable/apps"
rm -rf "$dest/app" && cp -r "$here/app" "$dest/app"
cp "$here/uninstall.sh" "$dest/uninstall.sh"
ln -sf "$dest/app/vspectrum" "$HOME/.local/bin/vspectrum"
ln -sf "$dest/app/vspectrum-studio" "$HOME/.local/bin/vspectrum-studio"
sed "s|@APP@|$dest/app|g" "$here/vspectrum-studio.desktop" > "$HOME/.local/share/applications/vspectrum-studio.desktop"
[ -f "$here/vspectrum-studio.svg" ] && cp "$here/vspectrum-studio.svg" "$HOME/.local/share/icons/hicolor/scalable/apps/"
echo "Installed. Start 'Value-Spectrum Studio' from the applications menu, or run: vspectrum-studio"
echo "The crawler uses your installed Google Chrome, Microsoft Edge or Chromium (none is bundled)."
