#!/usr/bin/env bash
# Benchmarks (tests/bench): each prints its numbers as ratios against a
# reference measured in the same run. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PULSE_RUNTIME_PATH=${PULSE_RUNTIME_PATH:-/tmp/ambient-pulse}
bash scripts/vmic.sh start
export QT_QPA_PLATFORM=offscreen
.venv/bin/pytest -m bench -s -p no:cacheprovider tests/bench "$@"
