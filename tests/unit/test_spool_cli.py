"""The `spool` and `export` commands against a real spool on disk."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recorder.commands import export, spool_cmd
from recorder.spool import NotFoundError, Spool
from recorder.states import ChunkState

RATE = 16_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ambient-recorder")
    sub = parser.add_subparsers(dest="command")
    spool_cmd.add_parser(sub)
    export.add_parser(sub)
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(list(argv))
    code: int = args.run(args)
    return code


def _make_recording(data: Path, seconds: float = 3.0) -> tuple[str, int]:
    spool = Spool.open(data)
    rec = spool.create_recording(
        meta={"patient_ref": "SECRET-PATIENT"}, chunk_min_s=1, chunk_max_s=1.5
    )
    writer = spool.writer(rec.recording_id)
    t = np.arange(round(seconds * RATE)) / RATE
    writer.write((0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32))
    writer.close()
    spool.set_chunk_state(rec.recording_id, 0, ChunkState.REJECTED, attempts=1, error="bad audio")
    spool.close()
    return rec.recording_id, len(t)


def test_spool_lists_recordings_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    rid, frames = _make_recording(data)
    assert _run("spool", "--data-dir", str(data), "--json") == 0
    out = capsys.readouterr().out
    listing = json.loads(out)
    [rec] = listing["recordings"]
    assert rec["recording_id"] == rid
    assert rec["state"] == "recorded"
    assert rec["duration_s"] == pytest.approx(frames / RATE)
    assert rec["chunks_total"] == len(rec["chunks"]) >= 2
    assert rec["chunk_counts"] == {"rejected": 1, "queued": rec["chunks_total"] - 1}
    assert rec["chunks"][0]["error"] == "bad audio"
    assert "SECRET-PATIENT" not in out  # no patient data on screen or in logs


def test_spool_table_and_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert _run("spool", "--data-dir", str(data)) == 0
    assert "No recordings." in capsys.readouterr().out
    rid, _ = _make_recording(data)
    assert _run("spool", "--data-dir", str(data)) == 0
    out = capsys.readouterr().out
    assert rid in out and "recorded" in out and "error: bad audio" in out
    assert "SECRET-PATIENT" not in out


def test_export_writes_plain_ogg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    rid, frames = _make_recording(data)
    out_dir = tmp_path / "exported"
    assert _run("export", rid, "--out", str(out_dir), "--data-dir", str(data)) == 0
    files = sorted(out_dir.iterdir())
    assert files[0].name == "000.ogg"
    assert sum(sf.info(f).frames for f in files) == frames
    assert f"{len(files)} chunk(s) written" in capsys.readouterr().err


def test_export_unknown_id_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _make_recording(data)
    with pytest.raises(NotFoundError, match="No recording with id 'nope'"):
        _run("export", "nope", "--out", str(tmp_path / "x"), "--data-dir", str(data))
    assert not (tmp_path / "x").exists()


def test_commands_recover_a_crashed_recording_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    spool = Spool.open(data)
    rid = spool.create_recording(chunk_min_s=1, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    writer.write(np.full(RATE // 2, 0.1, dtype=np.float32))
    writer._journal.close()  # what SIGKILL leaves behind: journal on disk, lock dropped
    writer._lock.release()
    spool.close()
    assert _run("spool", "--data-dir", str(data), "--json") == 0
    captured = capsys.readouterr()
    assert f"recovered interrupted recording {rid}" in captured.err
    [rec] = json.loads(captured.out)["recordings"]
    assert rec["state"] == "interrupted"
    assert rec["duration_s"] == pytest.approx(0.5)
