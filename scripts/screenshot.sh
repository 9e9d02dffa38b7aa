#!/usr/bin/env bash
# Screenshot of the desktop app mid-consult, under Xvfb: docs/screenshot.png.
# The real app, real core and the embedded local server; the sample consult is played as the mic.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshot.png}
unset QT_QPA_PLATFORM
exec xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
    .venv/bin/python scripts/screenshot_app.py "$out"
