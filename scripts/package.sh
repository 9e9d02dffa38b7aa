#!/usr/bin/env bash
# Builds the desktop app for distribution (the README's `make package`):
#   dist/ambient-recorder/ambient-recorder        PyInstaller onedir bundle (workstation)
#   dist/ambient-recorder_<version>_<arch>.deb    Linux package (on Linux)
#
#   scripts/package.sh                 workstation build: talks to Heidi's cloud, no local ASR
#   scripts/package.sh --with-server   offline build: + the local transcription server
#                                      (dist/ambient-recorder-offline/, ~+450 MB)
#   scripts/package.sh --no-deb        the bundle only
#   DISTPATH=... WORKPATH=...          where to put the bundle and PyInstaller's work files
#
# Windows and macOS bundles are built the same way on those systems; their
# installers are described in packaging/windows/ and packaging/macos/.
set -euo pipefail
cd "$(dirname "$0")/.."

with_server=0
make_deb=1
for arg in "$@"; do
  case "$arg" in
    --with-server) with_server=1 ;;
    --no-deb) make_deb=0 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-.venv/bin/python}
distpath=${DISTPATH:-dist}
workpath=${WORKPATH:-build/pyinstaller}
name=ambient-recorder
[ "$with_server" = 1 ] && name=ambient-recorder-offline

"$PY" -c 'import PyInstaller' 2>/dev/null || {
  echo "error: PyInstaller missing; run scripts/setup.sh (installs the [package] extra)" >&2; exit 1; }

# A fresh work folder per variant; not --clean, which would also wipe PyInstaller's
# shared binary cache under another build running at the same time.
rm -rf "${workpath:?}/$name"
echo "==> PyInstaller: $distpath/$name"
AMBIENT_BUNDLE_SERVER=$with_server "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$distpath" --workpath "$workpath/$name" packaging/ambient-recorder.spec

bundle="$distpath/$name"
echo "==> $("$bundle/ambient-recorder" --version 2>&1 || echo '--version failed (is the CLI complete?)')"
echo "==> bundle size: $(du -sb "$bundle" | awk '{printf "%.1f MB", $1 / 1e6}')"

if [ "$make_deb" = 1 ] && [ "$(uname -s)" = Linux ] && command -v dpkg-deb >/dev/null; then
  echo "==> .deb"
  DEB_PACKAGE=$name bash packaging/linux/build_deb.sh "$bundle" "$distpath"
fi
