#!/usr/bin/env bash
# The main job (README): installs everything, then opens the desktop app on the
# embedded local server. On a machine without a display it records the bundled
# sample consult headless instead (played as the microphone) and prints the
# chunks and the transcript.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -f ui/app.py ]; then
  exec .venv/bin/ambient-recorder
fi
echo "==> no display: recording the sample consult headless (played as the microphone, 4x speed)"
data=$(mktemp -d /tmp/ambient-demo.XXXXXX)
exec .venv/bin/ambient-recorder record --input samples/consult.ogg --speed 4 --data-dir "$data" --local
