#!/usr/bin/env bash
# Removes what install.sh put in place. Your workspace, settings and downloaded models
# (the user data and config folders) are kept.
set -euo pipefail
dest=${VSPECTRUM_PREFIX:-$HOME/.local/opt/value-spectrum-studio}
for link in "$HOME/.local/bin/vspectrum" "$HOME/.local/bin/vspectrum-studio"; do
  [ -L "$link" ] && [[ "$(readlink "$link")" == "$dest/"* ]] && rm -f "$link"
done
rm -f "$HOME/.local/share/applications/vspectrum-studio.desktop" \
      "$HOME/.local/share/icons/hicolor/scalable/apps/vspectrum-studio.svg"
rm -rf "$dest"
echo "Uninstalled. Your workspace and settings are kept."
