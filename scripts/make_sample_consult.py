"""Builds samples/consult.ogg: a two-voice spoken consult made with espeak-ng.

The sample is committed, so this script only needs to run again when the
script text changes. It writes the reference text (what was spoken, without
speaker labels) to samples/consult.txt for word-error-rate checks.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

RATE = 16_000
VOICES = {"DOCTOR": ("en-gb", "150"), "PATIENT": ("en-us+f3", "160")}
PAUSE_S = 0.6


def speak(text: str, voice: str, speed: str) -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", speed, "-w", tmp.name, text], check=True)
        audio, rate = sf.read(tmp.name, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return np.asarray(soxr.resample(audio, rate, RATE), dtype=np.float32)


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "samples"
    lines = [ln for ln in (root / "consult_script.txt").read_text().splitlines() if ln.strip()]
    parts: list[np.ndarray] = []
    spoken: list[str] = []
    pause = np.zeros(int(PAUSE_S * RATE), dtype=np.float32)
    for line in lines:
        speaker, text = line.split(":", 1)
        voice, speed = VOICES[speaker.strip()]
        parts += [speak(text.strip(), voice, speed), pause]
        spoken.append(text.strip())
    audio = np.concatenate(parts) * 0.8
    with sf.SoundFile(root / "consult.ogg", "w", RATE, 1, format="OGG", subtype="VORBIS",
                      compression_level=0.7) as out:
        for start in range(0, len(audio), 32_768):
            out.write(audio[start : start + 32_768])
    (root / "consult.txt").write_text(" ".join(spoken) + "\n")
    print(f"consult.ogg: {len(audio) / RATE:.1f} s, {(root / 'consult.ogg').stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
