#!/usr/bin/env bash
# Installs Value-Spectrum Studio for the current user: no root, no compiler, no Python needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${VSPECTRUM_PREFIX:-$HOME/.local/opt/value-spectrum-studio}
mkdir -p "$dest" "$HOME/.local/bin" "$HOME/.local/share/applications"
rm -rf "$dest/app" && cp -r "$here/app" "$dest/app"
ln -sf "$dest/app/vspectrum" "$HOME/.local/bin/vspectrum"
ln -sf "$dest/app/vspectrum-studio" "$HOME/.local/bin/vspectrum-studio"
sed "s|@APP@|$dest/app|g" "$here/vspectrum-studio.desktop" > "$HOME/.local/share/applications/vspectrum-studio.desktop"
echo "Installed. Start 'Value-Spectrum Studio' from the applications menu, or run: vspectrum-studio"
echo "The crawler uses your installed Google Chrome, Microsoft Edge or Chromium (none is bundled)."
