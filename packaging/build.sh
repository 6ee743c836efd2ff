#!/usr/bin/env bash
# Build the one-folder bundle and wrap it in this OS's installer format.
#   Linux:   dist/ValueSpectrumStudio-<version>-linux-x86_64.tar.gz with install.sh
#            (installs to ~/.local/opt, adds a menu entry and the `vspectrum` command)
#   Windows: run packaging/windows/installer.iss with Inno Setup after this script (Git Bash)
#   macOS:   dist/ValueSpectrumStudio.app is produced by PyInstaller; `hdiutil` makes the .dmg
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
export HNSWLIB_NO_NATIVE=1
"$BIN/pip" install -q -r packaging/requirements-build.txt
"$BIN/pyinstaller" --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/vspectrum.spec
version=$("$BIN/python" -c 'import vspectrum_app; print(vspectrum_app.__version__)')
case "$(uname -s)" in
  Linux)
    out="dist/ValueSpectrumStudio-$version-linux-$(uname -m)"
    rm -rf "$out" && mkdir -p "$out"
    cp -r dist/ValueSpectrumStudio "$out/app"
    cp packaging/linux/install.sh packaging/linux/vspectrum-studio.desktop "$out/"
    tar -C dist -czf "$out.tar.gz" "$(basename "$out")"
    echo "built $out.tar.gz"
    ;;
  Darwin)
    hdiutil create -volname ValueSpectrumStudio -srcfolder dist/ValueSpectrumStudio -ov \
      "dist/ValueSpectrumStudio-$version-macos.dmg"
    ;;
  *) echo "bundle in dist/ValueSpectrumStudio; build the installer with packaging/windows/installer.iss" ;;
esac
