#!/usr/bin/env bash
# Build the one-folder bundle and wrap it in this OS's installer formats.
#   Linux:   dist/ValueSpectrumStudio-<version>-linux-<arch>.tar.gz (install.sh, per user)
#            and dist/value-spectrum-studio_<version>_<arch>.deb (system-wide, menu entry)
#   Windows: dist/ValueSpectrumStudio-<version>-windows-setup.exe when Inno Setup's iscc is on PATH
#   macOS:   dist/ValueSpectrumStudio.app and dist/ValueSpectrumStudio-<version>-macos.dmg
# The default bundle is lean: no torch, torchvision, open_clip, scipy or OpenVINO; it embeds
# with ONNX Runtime on towers it builds from the model's checkpoint itself (onnx_build).
# `build.sh --full` keeps torch and open_clip (any open_clip model, exported on first use).
# Runs under bash on all three OSes (Git Bash on Windows); sizes and times are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
variant=lean
case "${1:-}" in
  --full) variant=full ;;
  --lean|"") ;;
  *) echo "usage: build.sh [--lean|--full]" >&2; exit 2 ;;
esac
if [ -z "${BIN:-}" ]; then  # the venv's scripts folder: bin/ on POSIX, Scripts/ on Windows
  BIN=.venv/bin; [ -d .venv/Scripts ] && BIN=.venv/Scripts
fi
export HNSWLIB_NO_NATIVE=1 VSPECTRUM_BUNDLE=$variant
started=$(date +%s)
"$BIN/python" -m pip install -q -r packaging/requirements-build.txt
"$BIN/python" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/vspectrum.spec
version=$("$BIN/python" -c 'import vspectrum_app; print(vspectrum_app.__version__)')
built=()
case "$(uname -s)" in
  Linux)
    out="dist/ValueSpectrumStudio-$version-linux-$(uname -m)"
    rm -rf "$out" && mkdir -p "$out"
    cp -r dist/ValueSpectrumStudio "$out/app"
    cp packaging/linux/install.sh packaging/linux/uninstall.sh packaging/linux/system_libs.sh \
       packaging/linux/vspectrum-studio.desktop "$out/"
    [ -f resources/icons/app.svg ] && cp resources/icons/app.svg "$out/vspectrum-studio.svg"
    cp dist/ValueSpectrumStudio/_internal/LICENSES.txt "$out/LICENSES.txt"  # written by the spec
    tar -C dist -czf "$out.tar.gz" "$(basename "$out")"
    built+=("$out.tar.gz")
    if command -v dpkg-deb >/dev/null; then
      built+=("$(packaging/linux/build_deb.sh "$version" dist/ValueSpectrumStudio dist)")
    else
      echo "dpkg-deb not found: no .deb built"
    fi
    ;;
  Darwin)
    dmg="dist/ValueSpectrumStudio-$version-macos.dmg"
    hdiutil create -volname ValueSpectrumStudio -srcfolder dist/ValueSpectrumStudio.app -ov "$dmg"
    built+=("$dmg")
    ;;
  MINGW*|MSYS*|CYGWIN*)
    if command -v iscc >/dev/null; then
      VSPECTRUM_VERSION=$version iscc packaging/windows/installer.iss
      built+=("dist/ValueSpectrumStudio-$version-windows-setup.exe")
    else
      echo "iscc (Inno Setup) not on PATH: the bundle is in dist/ValueSpectrumStudio, no installer built"
    fi
    ;;
esac
# What a user downloads and what it takes once installed, and how long the build took.
"$BIN/python" packaging/sizes.py --variant "$variant" --installed dist/ValueSpectrumStudio \
  --seconds $(( $(date +%s) - started )) "${built[@]}"
