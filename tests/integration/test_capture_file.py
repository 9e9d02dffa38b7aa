"""The file source: a real audio file played through the same ring and reader as a microphone."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from recorder.audio import Capture, FileSpec
from recorder.errors import BadAudioFileError
from recorder.events import CaptureProblem

REPO = Path(__file__).resolve().parents[2]
CONSULT = REPO / "samples" / "consult.ogg"

Pcm = npt.NDArray[np.float32]


def _drain(cap: Capture, limit_s: float = 120.0) -> tuple[Pcm, list[CaptureProblem]]:
    parts: list[Pcm] = []
    problems: list[CaptureProblem] = []
    give_up = time.monotonic() + limit_s
    while not cap.finished:
        assert time.monotonic() < give_up, "the file never finished"
        parts.append(cap.read(0.1))
        problems += cap.problems()
    problems += cap.problems()
    return np.concatenate(parts), problems


def _tone(path: Path, seconds: float, rate: int, channels: int, freq: float = 440.0) -> Pcm:
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    data = mono if channels == 1 else np.stack([mono] + [np.zeros_like(mono)] * (channels - 1), 1)
    sf.write(path, data, rate)
    return mono


def test_speed_0_delivers_exactly_what_soundfile_reads() -> None:
    reference, rate = sf.read(CONSULT, dtype="float32")
    assert rate == 16_000
    cap = Capture(FileSpec(CONSULT, speed=0))
    cap.start()
    out, problems = _drain(cap)
    assert problems == []
    assert np.array_equal(out, reference)
    stats = cap.stats
    assert stats.frames_captured == stats.frames_delivered == len(reference)
    assert (stats.device_rate, stats.channels, stats.dropped_frames) == (16_000, 1, 0)
    assert stats.peak == pytest.approx(float(np.abs(reference).max()))


def test_a_44k_stereo_file_is_mixed_down_and_resampled(tmp_path: Path) -> None:
    path = tmp_path / "tone.flac"
    seconds = 3.0
    _tone(path, seconds, 44_100, 2, freq=1000.0)  # left: 1 kHz at 0.5, right: silence
    cap = Capture(FileSpec(path, speed=0))
    cap.start()
    out, _ = _drain(cap)

    assert (cap.stats.device_rate, cap.stats.channels) == (44_100, 2)
    assert abs(len(out) - seconds * 16_000) <= 2  # soxr's tail flushed: no frame lost or added
    middle = out[4_000:-4_000]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    peak_hz = np.argmax(spectrum) * 16_000 / len(middle)
    assert abs(peak_hz - 1000.0) < 2.0
    assert np.max(np.abs(middle)) == pytest.approx(0.25, abs=0.005)  # mean of 0.5 and 0


def test_speed_paces_the_file_like_a_microphone(tmp_path: Path) -> None:
    path = tmp_path / "two_seconds.wav"
    _tone(path, 2.0, 16_000, 1)
    timings = {}
    for speed in (1.0, 4.0):
        cap = Capture(FileSpec(path, speed=speed))
        begin = time.monotonic()
        cap.start()
        out, _ = _drain(cap)
        timings[speed] = time.monotonic() - begin
        assert len(out) == 32_000
    print(f"2 s file: speed 1 took {timings[1.0]:.2f} s, speed 4 took {timings[4.0]:.2f} s")
    # Only lower bounds: a slow machine can never make these fail.
    assert timings[1.0] >= 1.95  # paced: a block is delivered only once it "has been heard"
    assert timings[4.0] >= 0.49


def test_stop_keeps_everything_already_captured() -> None:
    reference, _ = sf.read(CONSULT, dtype="float32")
    cap = Capture(FileSpec(CONSULT, speed=8.0))
    cap.start()
    first = [cap.read(0.1) for _ in range(5)]
    time.sleep(0.3)  # more arrives in the ring meanwhile
    cap.stop()
    rest, _ = _drain(cap)
    out = np.concatenate([*first, rest])
    assert 0 < len(out) < len(reference)
    assert len(out) == cap.stats.frames_captured  # nothing queued was thrown away
    assert np.array_equal(out, reference[: len(out)])
    assert cap.read(0.0).size == 0  # after the end: empty, not an error


def test_a_small_ring_makes_the_file_wait_for_the_reader_not_drop(tmp_path: Path) -> None:
    path = tmp_path / "two_seconds.wav"
    _tone(path, 2.0, 16_000, 1)
    cap = Capture(FileSpec(path, speed=0), ring_seconds=0.1)
    cap.start()
    time.sleep(0.5)  # the feeder fills the tiny ring and must wait
    out, problems = _drain(cap)
    assert len(out) == 32_000
    assert cap.stats.dropped_frames == 0
    assert problems == []


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("this is a note, not audio\n" * 40), "not a readable audio file"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: None, "not found"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: sf.write(p, np.zeros((0, 1), np.float32), 16_000, format="WAV"), "no audio"),
    ],
    ids=["not-audio", "empty", "missing", "directory", "zero-samples"],
)
def test_bad_files_give_a_clear_error(tmp_path: Path, make: object, expected: str) -> None:
    path = tmp_path / "input.wav"
    make(path)  # type: ignore[operator]
    with pytest.raises(BadAudioFileError, match=expected) as raised:
        Capture(FileSpec(path))
    assert str(path) in str(raised.value)


def test_a_truncated_ogg_is_refused_unless_allowed_then_its_prefix_is_captured(
    tmp_path: Path,
) -> None:
    raw = CONSULT.read_bytes()
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(raw[: len(raw) // 5])
    with pytest.raises(BadAudioFileError, match=r"truncated OGG .* first \d+\.\d s"):
        Capture(FileSpec(cut, speed=0))

    cap = Capture(FileSpec(cut, speed=0, allow_truncated=True))
    cap.start()
    out, problems = _drain(cap)
    reference, _ = sf.read(CONSULT, dtype="float32")
    assert 10 * 16_000 < len(out) < len(reference)
    assert np.array_equal(out, reference[: len(out)])  # the readable prefix, intact
    assert problems == []


def test_a_file_cut_inside_its_header_is_not_audio(tmp_path: Path) -> None:
    cut = tmp_path / "header_only.ogg"
    cut.write_bytes(CONSULT.read_bytes()[:300])
    with pytest.raises(BadAudioFileError, match="not a readable audio file"):
        Capture(FileSpec(cut))


def test_a_cut_flac_is_refused_up_front(tmp_path: Path) -> None:
    reference, _ = sf.read(CONSULT, dtype="float32", frames=5 * 16_000)
    whole = tmp_path / "whole.flac"
    sf.write(whole, reference, 16_000)
    cut = tmp_path / "cut.flac"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadAudioFileError, match="damaged or truncated"):
        Capture(FileSpec(cut))


def test_a_file_damaged_in_the_middle_delivers_what_decodes_and_says_so(tmp_path: Path) -> None:
    raw = bytearray(CONSULT.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 20_000] = bytes(20_000)  # 20 kB of the Vorbis stream wiped
    damaged = tmp_path / "damaged.ogg"
    damaged.write_bytes(bytes(raw))
    cap = Capture(FileSpec(damaged, speed=0))
    cap.start()
    out, problems = _drain(cap)
    reference, _ = sf.read(CONSULT, dtype="float32")
    assert 0.8 * len(reference) < len(out) < len(reference)
    assert np.array_equal(out[: 16_000 * 30], reference[: 16_000 * 30])  # the start is intact
    lost = [p for p in problems if p.kind == "device_lost"]
    assert len(lost) == 1 and "damaged" in lost[0].message


def test_invalid_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        FileSpec(CONSULT, speed=-1)
    with pytest.raises(ValueError, match="speed"):
        FileSpec(CONSULT, speed=float("nan"))


def test_start_twice_is_harmless_and_a_stopped_capture_stays_stopped(tmp_path: Path) -> None:
    path = tmp_path / "short.wav"
    _tone(path, 0.5, 16_000, 1)
    never_started = Capture(FileSpec(path, speed=0))
    never_started.stop()
    never_started.start()
    out, _ = _drain(never_started)
    assert out.size == 0 and never_started.finished

    cap = Capture(FileSpec(path, speed=0))
    cap.start()
    cap.start()
    out, _ = _drain(cap)
    assert len(out) == 8_000  # not fed twice


def test_nan_and_inf_samples_in_a_float_file_never_reach_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "float.wav"
    data = np.full(16_000, 0.25, dtype=np.float32)
    data[100], data[5000], data[9000] = np.nan, np.inf, -np.inf
    sf.write(path, data, 16_000, subtype="FLOAT")
    cap = Capture(FileSpec(path, speed=0))
    cap.start()
    out, _ = _drain(cap)
    assert np.isfinite(out).all()
    assert out[100] == 0.0 and out[5000] == 1.0 and out[9000] == -1.0
    assert np.all(np.delete(out, [100, 5000, 9000]) == 0.25)  # everything else untouched
    assert cap.level()[0] == 1.0
