"""The file source: an audio file played into the ring as if a microphone were hearing it.

A feeder thread reads blocks and writes them paced at `speed`× real time (0: flat out). Unlike a
microphone it waits for room in the ring instead of dropping: a file has no deadline.
Resampling and mixdown happen on the reader side, exactly as for a microphone.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from recorder.audio.source import Source
from recorder.audio.specs import FileSpec
from recorder.errors import BadAudioFileError

PACED_BLOCK_S = 0.05  # what a microphone callback would deliver at a time
FAST_BLOCK_FRAMES = 16_384  # speed 0: bigger blocks, far below libsndfile's trouble zone
OGG_TAIL_BYTES = 65_536


class FileSource(Source):
    """Validates the file up front (BadAudioFileError with a clear message) then feeds it."""

    def __init__(self, spec: FileSpec, ring_seconds: float) -> None:
        self._file = open_audio_file(spec)
        rate = int(self._file.samplerate)
        self.speed = spec.speed
        self.duration_s = self._file.frames / rate
        self._block = FAST_BLOCK_FRAMES if spec.speed == 0 else max(int(rate * PACED_BLOCK_S), 1)
        ring_frames = max(int(ring_seconds * rate), 4 * self._block)
        super().__init__(spec.path.name, rate, int(self._file.channels), ring_frames / rate)
        self.nonfinite_blocks = 0  # blocks in which NaN/inf samples were replaced
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="file-source", daemon=True)

    def start(self) -> None:
        if self.started or self.stopping:
            return  # starting twice is harmless; a stopped capture stays stopped
        self.last_delivery = time.monotonic()
        self.started = True
        self._thread.start()

    def stop(self) -> None:
        """Stop feeding; what is in the ring stays readable."""
        self.stopping = True
        self._halt.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()
        elif not self._thread.is_alive():
            self.producer_done = True
            self._close()

    def _feed(self) -> None:
        try:
            begin = time.monotonic()
            sent = 0
            while not self._halt.is_set():
                block = self._read_block(sent)
                if block is None:
                    self._check_complete(sent)
                    break
                if self.speed > 0:
                    due = begin + (sent + len(block)) / (self.device_rate * self.speed)
                    delay = due - time.monotonic()
                    if delay > 0 and self._halt.wait(delay):
                        break
                while self.ring.free() < len(block):  # the reader is behind: wait, never drop
                    self.last_delivery = time.monotonic()  # alive, so no stall is reported
                    if self._halt.wait(0.005):
                        return
                self.ring.write(block)
                self.meter.update(block)
                sent += len(block)
                self.last_delivery = time.monotonic()
                self.delivered_once = True
        except BaseException as error:  # the feeder must end cleanly whatever happens
            self.producer_errors += 1
            self.failure = f"the input file stopped being readable ({type(error).__name__})"
        finally:
            self._close()
            self.producer_done = True

    def _check_complete(self, sent: int) -> None:
        """A damaged file can decode to less than it declares: say so, never silently."""
        declared = self._file.frames
        if self.failure is None and sent < declared:
            self.failure = (
                f"only {sent / self.device_rate:.1f} s of the {declared / self.device_rate:.1f} s "
                "the input file declares could be decoded (the file is damaged)"
            )

    def _read_block(self, position: int) -> Any:
        try:
            block = self._file.read(self._block, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            seconds = position / self.device_rate
            self.failure = (
                f"the input file could not be read past {seconds:.1f} s ({error}); "
                "the audio before that point was captured"
            )
            return None
        if not len(block):
            return None
        if not np.isfinite(block).all():  # a float file can hold NaN/inf: never pass them on
            np.nan_to_num(block, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
            self.nonfinite_blocks += 1
        return block

    def _close(self) -> None:
        try:
            self._file.close()
        except Exception:
            self.producer_errors += 1


def open_audio_file(spec: FileSpec) -> sf.SoundFile:
    """Open and check an input file, or raise BadAudioFileError saying what is wrong with it."""
    path = spec.path
    if not path.exists():
        raise BadAudioFileError(f"Audio file not found: {path}")
    if path.is_dir():
        raise BadAudioFileError(f"{path} is a folder, not an audio file.")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BadAudioFileError(f"Cannot read {path}: {error.strerror}") from error
    if size == 0:
        raise BadAudioFileError(f"{path} is empty (0 bytes): there is no audio in it.")
    if not os.access(path, os.R_OK):
        raise BadAudioFileError(f"Cannot read {path}: permission denied.")
    try:
        handle = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        reason = str(error).replace(f"Error opening {str(path)!r}: ", "")
        raise BadAudioFileError(
            f"{path} is not a readable audio file ({reason}). Use WAV, FLAC, OGG/Opus, MP3 "
            "or another format libsndfile reads."
        ) from error
    try:
        if handle.samplerate <= 0 or handle.channels <= 0:
            raise BadAudioFileError(f"{path} declares no sample rate or channels.")
        if handle.frames <= 0:
            raise BadAudioFileError(f"{path} contains no audio (0 samples).")
        if handle.format == "OGG" and not spec.allow_truncated and not _ogg_has_end(path):
            readable = handle.frames / handle.samplerate
            raise BadAudioFileError(
                f"{path} is a truncated OGG file (it has no end-of-stream page): only the "
                f"first {readable:.1f} s can be read. Use the complete file, or allow "
                "truncated input to capture just the readable part."
            )
        _check_end_is_readable(handle, path)
    except BadAudioFileError:
        handle.close()
        raise
    return handle


def _check_end_is_readable(handle: sf.SoundFile, path: Path) -> None:
    """Seek to the declared end and read it: a cut FLAC (or similar) fails here, not mid-consult."""
    tail = min(handle.frames, 1024)
    try:
        handle.seek(handle.frames - tail)
        got = len(handle.read(tail, dtype="float32"))
        handle.seek(0)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise BadAudioFileError(
            f"{path} is damaged or truncated: it declares "
            f"{handle.frames / handle.samplerate:.1f} s of audio but its end cannot be read "
            f"({error})."
        ) from error
    if got < tail:
        raise BadAudioFileError(
            f"{path} is damaged or truncated: its last {tail - got} samples cannot be read."
        )


def _ogg_has_end(path: Path) -> bool:
    """True when the last Ogg page in the file carries the end-of-stream flag."""
    with path.open("rb") as stream:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - OGG_TAIL_BYTES))
        tail = stream.read()
    where = tail.rfind(b"OggS")
    if where < 0 or where + 6 > len(tail):
        return False
    return bool(tail[where + 5] & 0x04)
