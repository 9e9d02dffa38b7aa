#!/usr/bin/env bash
# The virtual microphone for tests and demos: a PulseAudio null sink whose
# monitor is the default source. Whatever is played into "vsink" (paplay
# --device=vsink FILE) is what PortAudio's "pulse" device records.
# Usage: scripts/vmic.sh start|stop|status
set -euo pipefail
cmd=${1:-start}
export PULSE_RUNTIME_PATH=${PULSE_RUNTIME_PATH:-/tmp/ambient-pulse}
mkdir -p "$PULSE_RUNTIME_PATH"
case "$cmd" in
  start)
    if pactl info >/dev/null 2>&1; then
      echo "virtual microphone already running"
    else
      started=no
      for attempt in 1 2 3; do
        # a daemon killed earlier can leave its pid file behind (or a zombie with that pid)
        rm -f "$PULSE_RUNTIME_PATH/pid"
        if pulseaudio --daemonize=yes --exit-idle-time=-1 -n --system=false \
            --disallow-exit --log-target=stderr \
            --load=module-native-protocol-unix \
            --load="module-null-sink sink_name=vsink rate=16000 channels=1" \
            --load=module-always-sink 2>"$PULSE_RUNTIME_PATH/start.log"; then
          for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
        fi
        if pactl info >/dev/null 2>&1; then started=yes; break; fi
        echo "virtual microphone: start attempt $attempt failed, retrying" >&2
        sleep 1
      done
      if [ "$started" != yes ]; then
        echo "virtual microphone: PulseAudio did not start:" >&2
        grep -v "not intended to be run as root" "$PULSE_RUNTIME_PATH/start.log" >&2 || true
        exit 1
      fi
    fi
    pactl set-default-sink vsink
    pactl set-default-source vsink.monitor
    echo "virtual microphone: vsink.monitor (PULSE_RUNTIME_PATH=$PULSE_RUNTIME_PATH)"
    ;;
  stop) pactl exit 2>/dev/null || pulseaudio -k 2>/dev/null || true ;;
  status) pactl info ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
