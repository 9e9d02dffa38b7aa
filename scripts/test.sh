#!/usr/bin/env bash
# The test command (README, .ci/run): installs everything, starts the virtual
# microphone, then lint, type checks and the test suite (benchmarks excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PULSE_RUNTIME_PATH=${PULSE_RUNTIME_PATH:-/tmp/ambient-pulse}
bash scripts/vmic.sh start
export QT_QPA_PLATFORM=offscreen
echo "==> ruff"
.venv/bin/ruff check recorder server ui tests scripts
echo "==> mypy --strict recorder server ui"
.venv/bin/mypy --strict recorder server ui
echo "==> pytest"
.venv/bin/pytest -m "not bench" "$@"
