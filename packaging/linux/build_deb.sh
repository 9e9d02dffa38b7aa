#!/usr/bin/env bash
# Builds a .deb from the PyInstaller onedir bundle (no network, no root needed):
#   packaging/linux/build_deb.sh BUNDLE_DIR OUT_DIR [VERSION]
# Installs the bundle to /opt/ambient-recorder, a symlink /usr/bin/ambient-recorder,
# the desktop entry and the icons (hicolor 256x256 PNG + scalable SVG).
# Nothing in the package touches users' data: the spool lives in each user's
# home directory and neither removing nor purging the package deletes it.
# DEB_COMPRESSION=xz gives a ~30% smaller file at several times the build time.
set -euo pipefail

bundle=${1:?usage: build_deb.sh BUNDLE_DIR OUT_DIR [VERSION]}
out_dir=${2:?usage: build_deb.sh BUNDLE_DIR OUT_DIR [VERSION]}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${3:-$(cd "$root" && .venv/bin/python -c 'import recorder; print(recorder.__version__)')}
# DEB_PACKAGE=ambient-recorder-offline for the build with the local server; the two
# own the same /usr/bin/ambient-recorder, so each conflicts with and replaces the other.
package=${DEB_PACKAGE:-ambient-recorder}
other=ambient-recorder-offline
[ "$package" = ambient-recorder ] || other=ambient-recorder
arch=$(dpkg --print-architecture)

[ -x "$bundle/ambient-recorder" ] || { echo "error: $bundle/ambient-recorder is not an executable bundle" >&2; exit 1; }
for icon in svg png; do
  [ -f "$bundle/_internal/icons/ambient-recorder.$icon" ] || { echo "error: bundle lacks icons/ambient-recorder.$icon" >&2; exit 1; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/ambient-deb.XXXXXX")
chmod 0755 "$stage"  # becomes / in the package
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/icons/hicolor/scalable/apps" \
  "$stage/usr/share/doc/$package" "$stage/DEBIAN"
cp -a "$bundle" "$stage/opt/$package"
ln -s "/opt/$package/ambient-recorder" "$stage/usr/bin/ambient-recorder"
install -m 0644 "$here/ambient-recorder.desktop" "$stage/usr/share/applications/$package.desktop"
install -m 0644 "$bundle/_internal/icons/ambient-recorder.png" "$stage/usr/share/icons/hicolor/256x256/apps/$package.png"
install -m 0644 "$bundle/_internal/icons/ambient-recorder.svg" "$stage/usr/share/icons/hicolor/scalable/apps/$package.svg"
cat > "$stage/usr/share/doc/$package/copyright" <<COPYRIGHT
Ambient Recorder. License: Proprietary.
Bundled third-party components keep their own licences (see /opt/$package/_internal).
COPYRIGHT

# glibc: the bundle's libraries come from this build machine, so it needs at least its glibc.
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
installed_kb=$(du -sk --apparent-size "$stage/opt" "$stage/usr" | awk '{s += $1} END {print s}')
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $package
Version: $version
Section: sound
Priority: optional
Architecture: $arch
Maintainer: Ambient Recorder maintainers <noreply@localhost>
Installed-Size: $installed_kb
Depends: libc6 (>= $glibc), libxcb1, libgl1, libegl1
Conflicts: $other
Replaces: $other
Recommends: pulseaudio | pipewire-pulse
Description: Records a consultation and shows its live transcript
 Captures the room's audio, uploads it in 45-60 s chunks to the Heidi
 transcription API and shows the growing transcript with each chunk's status.
 Self-contained: Python, Qt, PortAudio and libsndfile are bundled in
 /opt/$package.
CONTROL
# Tell the desktop about the new entry and icon (also done by dpkg triggers where present).
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
exit 0
POSTINST
chmod 0755 "$stage/DEBIAN/postinst"

mkdir -p "$out_dir"
deb="$out_dir/${package}_${version}_${arch}.deb"
dpkg-deb --root-owner-group "-Z${DEB_COMPRESSION:-gzip}" --build "$stage" "$deb" >/dev/null
echo "$deb"
