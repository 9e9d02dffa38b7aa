#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine (run as root, or with sudo available):
# system packages, then a virtualenv in .venv with the pinned Python packages.
# Re-running is cheap: each step is skipped when its stamp is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libportaudio2 libsndfile1 espeak-ng sox vorbis-tools opus-tools
  pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0
  python3 python3-venv python3-dev
  strace x11-utils desktop-file-utils xdotool imagemagick binutils
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

mkdir -p .stamps
apt_stamp=.stamps/apt-$(echo "${APT_PACKAGES[*]}" | sha1sum | cut -c1-12)
if [ ! -f "$apt_stamp" ]; then
  echo "==> installing system packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
  touch "$apt_stamp"
fi

PY=${PYTHON:-python3}
venv_stamp=.stamps/venv-$(cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
if [ ! -f "$venv_stamp" ] || [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  rm -rf .venv
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -c constraints.txt -e ".[server,dev,package]"
  touch "$venv_stamp"
fi
