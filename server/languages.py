"""Language codes: which ones a session may carry, and which the loaded model can transcribe.

Heidi takes BCP 47-style codes (`en`, `en-AU`); Whisper takes the primary subtag (`en`).
faster-whisper silently transcribes as English when an English-only model is asked for
another language, so the server checks the language itself and says no instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

LANGUAGE_CODE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}", re.ASCII)
LANGUAGE_CODE_HINT = "must be a language code such as en or en-AU"
ENGLISH_ONLY = frozenset({"en"})
# CTranslate2 counts a Whisper model as multilingual from this vocabulary size on
# (English-only models have 51864 tokens, multilingual ones 51865, large-v3 51866).
MULTILINGUAL_VOCABULARY = 51865


class LanguageUnsupported(ValueError):
    """The code is well formed, but the loaded model cannot transcribe that language."""


def is_language_code(code: str) -> bool:
    return LANGUAGE_CODE_RE.fullmatch(code) is not None


def whisper_language(code: str) -> str:
    """`en-AU` → `en`: Whisper knows languages, not regions."""
    return code.split("-", 1)[0].lower()


def _vocabulary_size(model_dir: Path) -> int:
    text_file = model_dir / "vocabulary.txt"
    if text_file.is_file():
        with text_file.open("rb") as lines:
            return sum(1 for _ in lines)
    json_file = model_dir / "vocabulary.json"
    if json_file.is_file():
        tokens = json.loads(json_file.read_text(encoding="utf-8"))
        return len(tokens) if isinstance(tokens, list) else 0
    return 0


def model_languages(model_dir: Path) -> frozenset[str]:
    """What a CTranslate2 Whisper model folder can transcribe, read without loading it.

    An unreadable folder counts as English only: the model would not load either, and
    English is what every Whisper model transcribes.
    """
    try:
        size = _vocabulary_size(model_dir)
    except (OSError, ValueError):
        return ENGLISH_ONLY
    if size < MULTILINGUAL_VOCABULARY:
        return ENGLISH_ONLY
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # the list WhisperModel itself uses

    return frozenset(_LANGUAGE_CODES)


def describe(languages: frozenset[str]) -> str:
    if languages == ENGLISH_ONLY:
        return "English only (en)"
    return f"{len(languages)} languages"
