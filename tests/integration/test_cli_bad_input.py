"""Bad input to `ambient-recorder`, as practice IT or a clinician would give it.

Every case runs the real command line in a subprocess against a real data folder and checks
the promise: a documented exit code, exactly one `error:` line naming the problem, never a
traceback — and no file of the spool lost or altered.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recorder import exit_codes
from tests.cli_helpers import REPO_ROOT, SAMPLE, cli_env, run_cli

HELPER = Path(__file__).with_name("crash_writer.py")
# Force the key file (no OS keyring) so the tests can lose and replace the key like a user would.
KEY_FILE_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
RATE = 16_000


def run(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(data, *args, timeout=120, **{**KEY_FILE_ENV, **env})


def assert_clear_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The exit code, no traceback, exactly one `error:` line, naming each of `words`."""
    output = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == code, output
    assert "Traceback" not in done.stderr, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
    return errors[0]


def snapshot(data: Path) -> dict[str, str]:
    """Every file of the data folder (logs aside) and a hash of its bytes."""
    return {
        str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data.rglob("*"))
        if path.is_file() and "logs" not in path.relative_to(data).parts
    }


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    t = np.arange(3 * RATE) / RATE
    sf.write(path, (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), RATE)
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, tone: Path) -> Path:
    """A data folder holding one recorded (not uploaded) recording; copy it before changing it."""
    data = tmp_path_factory.mktemp("recorded") / "data"
    done = run(data, "record", "--input", str(tone), "--speed", "0", "--no-upload")
    assert done.returncode == 0, done.stderr
    return data


@pytest.fixture
def spool_copy(recorded: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(recorded, data)
    return data


def recording_id(data: Path) -> str:
    (folder,) = (data / "spool").iterdir()
    return folder.name


# -- the command line itself -------------------------------------------------------------------

TONE = "{tone}"
BAD_OPTIONS = [
    *[
        (("record", "--input", TONE, "--no-upload", "--speed", v), "--speed")
        for v in ("nan", "inf", "-1", "1e-300", "1e308", "fast")
    ],
    *[
        (("record", "--input", TONE, "--no-upload", "--speed", "0", "--duration", v), "--duration")
        for v in ("nan", "inf", "-5", "0", "1e308", "ten")
    ],
    (("record", "--speed", "2", "--no-upload"), "--speed"),
    (("record", "--device", " ", "--no-upload"), "--device"),
    (("record", "--input", TONE, "--no-upload", "--local"), "--no-upload"),
    (("record", "--input", TONE, "--no-upload", "--language", "en\nfr"), "language"),
    (("upload", TONE, "--language", "english please"), "language"),
    (("resume", "--timeout", "nan"), "--timeout"),
    (("transcript", "s1", "--live", "--follow", "--timeout", "-1"), "--timeout"),
    (("record", "--bogus"), "--bogus"),
    (("recrod",), "recrod"),
    (("export", "some-id"), "--out"),
    # an unset shell variable must not quietly mean "the default folder / server"
    (("spool", "--data-dir", ""), "--data-dir"),
    (("export", "some-id", "--out", ""), "--out"),
    (("transcript", ""), "SESSION_ID"),
    (("upload", TONE, "--server", " "), "--server"),
]


@pytest.mark.parametrize(
    ("argv", "named"), BAD_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
def test_bad_options_are_one_usage_line_before_anything_starts(
    tmp_path: Path, tone: Path, argv: tuple[str, ...], named: str
) -> None:
    data = tmp_path / "data"
    done = run(data, *(a.format(tone=tone) for a in argv))
    assert_clear_error(done, exit_codes.USAGE, named)
    assert not (data / "spool.db").exists()  # nothing was recorded or even opened


# -- the data folder ---------------------------------------------------------------------------

COMMANDS_ON_A_SPOOL = [
    ("spool",),
    ("export", "some-id", "--out", "{tmp}/out"),
    ("record", "--input", TONE, "--speed", "0", "--no-upload"),
    ("resume", "--local"),
    ("upload", TONE, "--local"),
]


@pytest.mark.parametrize("argv", COMMANDS_ON_A_SPOOL, ids=lambda v: v[0])
def test_data_dir_that_is_a_file(tmp_path: Path, tone: Path, argv: tuple[str, ...]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"something else")
    done = run(blocker, *(a.format(tone=tone, tmp=tmp_path) for a in argv))
    assert_clear_error(done, exit_codes.SPOOL, str(blocker), "--data-dir")
    assert blocker.read_bytes() == b"something else"


def _truncate(db: Path) -> None:
    db.write_bytes(db.read_bytes()[:5000])


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


def _future_schema(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    conn.close()


DAMAGE = {"truncated": _truncate, "garbage": _garbage, "newer app": _future_schema}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("argv", COMMANDS_ON_A_SPOOL[:3], ids=lambda v: v[0])
def test_damaged_spool_database_is_reported_and_left_alone(
    spool_copy: Path, tmp_path: Path, tone: Path, damage: str, argv: tuple[str, ...]
) -> None:
    DAMAGE[damage](spool_copy / "spool.db")
    before = snapshot(spool_copy)
    done = run(spool_copy, *(a.format(tone=tone, tmp=tmp_path) for a in argv))
    assert_clear_error(done, exit_codes.SPOOL, str(spool_copy))
    assert snapshot(spool_copy) == before


def test_lost_spool_database_is_said_aloud_and_the_audio_kept(spool_copy: Path) -> None:
    """An emptied spool.db is rebuilt; the recordings it listed must not just vanish from view."""
    rid = recording_id(spool_copy)
    (spool_copy / "spool.db").write_bytes(b"")
    chunks = {k: v for k, v in snapshot(spool_copy).items() if k.startswith("spool/")}
    done = run(spool_copy, "spool")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [warning] = [line for line in done.stderr.splitlines() if "not in the spool database" in line]
    assert rid in warning
    assert {k: v for k, v in snapshot(spool_copy).items() if k.startswith("spool/")} == chunks


@pytest.fixture
def read_only(spool_copy: Path, tmp_path: Path) -> Iterator[Path]:
    """The spool, seen through a read-only bind mount (root can write anything else)."""
    mount = tmp_path / "read-only"
    mount.mkdir()
    binds = (
        ["mount", "--bind", str(spool_copy), str(mount)],
        ["mount", "-o", "remount,ro,bind", str(mount)],
    )
    for command in binds:
        if subprocess.run(command, capture_output=True).returncode:
            subprocess.run(["umount", str(mount)], capture_output=True)
            pytest.skip("needs mount (root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize(
    "argv",
    [("record", "--input", TONE, "--speed", "0", "--no-upload"), ("resume", "--local")],
    ids=lambda v: v[0],
)
def test_read_only_data_folder(
    read_only: Path, tmp_path: Path, tone: Path, argv: tuple[str, ...]
) -> None:
    before = snapshot(read_only)
    done = run(read_only, *(a.format(tone=tone) for a in argv))
    assert_clear_error(done, exit_codes.SPOOL, str(read_only), "writable")
    stray = [
        line
        for line in done.stderr.splitlines()
        if not line.startswith(("error:", "warning:", "resuming"))
    ]
    assert not stray, done.stderr  # no raw log lines on the terminal either
    assert snapshot(read_only) == before
    _export_works(read_only, tmp_path / "out")  # what is there can still be taken out


# -- the encryption key ------------------------------------------------------------------------


def _export_works(data: Path, out: Path) -> None:
    done = run(data, "export", recording_id(data), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sf.info(str(out / "000.ogg")).frames > 0


@pytest.mark.parametrize("argv", COMMANDS_ON_A_SPOOL[:4], ids=lambda v: v[0])
def test_lost_key_file_is_refused_not_replaced(
    spool_copy: Path, tmp_path: Path, tone: Path, argv: tuple[str, ...]
) -> None:
    key = spool_copy / "spool.key"
    original = key.read_bytes()
    key.unlink()
    before = snapshot(spool_copy)
    done = run(spool_copy, *(a.format(tone=tone, tmp=tmp_path) for a in argv))
    assert_clear_error(done, exit_codes.SPOOL, "key is missing", str(key), "restore")
    assert snapshot(spool_copy) == before  # above all: no fresh key that cannot open the audio
    key.write_bytes(original)
    _export_works(spool_copy, tmp_path / "restored")


@pytest.mark.parametrize("argv", COMMANDS_ON_A_SPOOL[:4], ids=lambda v: v[0])
def test_replaced_key_is_refused(
    spool_copy: Path, tmp_path: Path, tone: Path, argv: tuple[str, ...]
) -> None:
    key = spool_copy / "spool.key"
    original = key.read_bytes()
    key.write_bytes(os.urandom(32))
    before = snapshot(spool_copy)
    done = run(spool_copy, *(a.format(tone=tone, tmp=tmp_path) for a in argv))
    assert_clear_error(done, exit_codes.SPOOL, "does not match", "restore")
    assert snapshot(spool_copy) == before
    key.write_bytes(original)
    _export_works(spool_copy, tmp_path / "restored")


def test_wrong_key_never_drops_a_crashed_recordings_journal(tmp_path: Path) -> None:
    """kill -9 mid-chunk, key replaced: recovery must wait for the right key, not drop the audio.

    Before the key check, recovery could not read the journal with the new key and deleted it.
    """
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), str(data), str(SAMPLE), "45", "60"],
        stdout=subprocess.PIPE,
        text=True,
        env={**cli_env(data), **KEY_FILE_ENV, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("fed ") and int(line.split()[1]) >= RATE:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    (journal,) = (data / "spool").glob("*/journal.bin")
    key = data / "spool.key"
    original = key.read_bytes()
    key.write_bytes(os.urandom(32))
    before = snapshot(data)
    assert_clear_error(run(data, "spool"), exit_codes.SPOOL, "does not match")
    assert snapshot(data) == before and journal.exists()
    key.write_bytes(original)
    done = run(data, "spool")
    assert done.returncode == 0, done.stderr
    assert "recovered interrupted recording" in done.stderr
    _export_works(data, tmp_path / "out")


# -- settings and environment ------------------------------------------------------------------

BAD_SETTINGS = [
    "{",
    "[]",
    '{"base_url": 5}',
    '{"base_url": "http://heidi.example/api"}',
    '{"proxy_url": "ftp://proxy"}',
    '{"ca_bundle": "/no/such/ca.pem"}',
    '{"chunk_min_s": NaN}',
    '{"language_code": "en\\nfr"}',
]


@pytest.mark.parametrize("text", BAD_SETTINGS)
def test_bad_settings_stop_server_commands_instead_of_using_another_server(
    tmp_path: Path, text: str
) -> None:
    """Falling back to defaults here used to send the audio to the local server instead."""
    data = tmp_path / "data"
    settings = tmp_path / "data-config" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(text)
    done = run(data, "transcript", "some-session", "--server", "http://127.0.0.1:9")
    assert_clear_error(done, exit_codes.USAGE, str(settings), "--local")
    assert settings.read_text() == text


def test_bad_settings_never_stop_a_recording(tmp_path: Path, tone: Path) -> None:
    data = tmp_path / "data"
    settings = tmp_path / "data-config" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"chunk_min_s": "soon"}')
    done = run(data, "record", "--input", str(tone), "--speed", "0", "--no-upload")
    assert done.returncode == 0, done.stderr
    assert "warning: chunk_min_s must be a number" in done.stderr
    assert len(list((data / "spool").glob("*/000.ogg.enc"))) == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_under_the_log_is_one_warning_and_the_recording_is_made(
    tmp_path: Path, tone: Path
) -> None:
    """The log opens but no line can be written (ENOSPC, /dev/full): Python's own handling
    printed "--- Logging error ---" and a traceback for every line instead."""
    data = tmp_path / "data"
    log = data / "logs" / "ambient-recorder.log"
    log.parent.mkdir(parents=True)
    log.symlink_to("/dev/full")
    done = run(data, "record", "--input", str(tone), "--speed", "0", "--no-upload")
    assert done.returncode == 0, done.stderr
    assert "Logging error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    [warning] = [line for line in done.stderr.splitlines() if str(log) in line]
    assert warning.startswith("warning:") and "No space left on device" in warning, warning
    assert len(list((data / "spool").glob("*/000.ogg.enc"))) == 1


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HEIDI_BASE_URL": "http://heidi.example/api"}, "HEIDI_BASE_URL"),
        ({"HEIDI_BASE_URL": "https://heidi.example:99999"}, "HEIDI_BASE_URL"),
        ({"HEIDI_API_KEY": "clé-secrète"}, "HEIDI_API_KEY"),
        ({"HEIDI_API_KEY": "two words"}, "HEIDI_API_KEY"),
        ({"AMBIENT_RECORDER_CONFIG_DIR": "{blocker}"}, "AMBIENT_RECORDER_CONFIG_DIR"),
    ],
    ids=["http-url", "bad-port", "non-ascii-key", "key-with-space", "config-dir-is-a-file"],
)
def test_bad_environment_is_named(tmp_path: Path, env: dict[str, str], named: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    env = {k: v.format(blocker=blocker) for k, v in env.items()}
    env.update(HEIDI_EMAIL="gp@example.org", HEIDI_USER_ID="gp-1")
    done = run(tmp_path / "data", "transcript", "some-session", **env)
    error = assert_clear_error(done, exit_codes.USAGE, named)
    assert "clé" not in error and "two words" not in error  # the key itself is never shown


# -- export ------------------------------------------------------------------------------------


def test_export_never_overwrites_other_files(spool_copy: Path, tmp_path: Path) -> None:
    rid = recording_id(spool_copy)
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("keep me")
    done = run(spool_copy, "export", rid, "--out", str(not_a_folder))
    assert_clear_error(done, exit_codes.USAGE, str(not_a_folder), "not a folder")
    assert not_a_folder.read_text() == "keep me"

    earlier = tmp_path / "earlier-export"
    earlier.mkdir()
    (earlier / "000.ogg").write_bytes(b"another recording's audio")
    done = run(spool_copy, "export", rid, "--out", str(earlier))
    assert_clear_error(done, exit_codes.USAGE, "000.ogg", "empty folder")
    assert (earlier / "000.ogg").read_bytes() == b"another recording's audio"

    done = run(spool_copy, "export", "no-such-recording", "--out", str(tmp_path / "o"))
    assert_clear_error(done, exit_codes.USAGE, "no-such-recording", "ambient-recorder spool")

    _export_works(spool_copy, tmp_path / "again")  # the same export twice is fine
    _export_works(spool_copy, tmp_path / "again")


@pytest.fixture(scope="module")
def recorded_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the 159 s sample as a recording of several chunks."""
    data = tmp_path_factory.mktemp("recorded-long") / "data"
    done = run(data, "record", "--input", str(SAMPLE), "--speed", "0", "--no-upload")
    assert done.returncode == 0, done.stderr
    return data


def test_export_takes_out_every_chunk_it_can(recorded_long: Path, tmp_path: Path) -> None:
    """One damaged and one missing chunk: the others are still exported, the two are named."""
    data = tmp_path / "data"
    shutil.copytree(recorded_long, data)
    rid = recording_id(data)
    files = sorted((data / "spool" / rid).glob("*.ogg.enc"))
    assert len(files) >= 3
    damaged = bytearray(files[0].read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    files[0].write_bytes(bytes(damaged))
    files[1].unlink()
    before = snapshot(data)
    out = tmp_path / "out"
    done = run(data, "export", rid, "--out", str(out))
    assert_clear_error(done, exit_codes.SPOOL, "2 chunk(s) could not be exported", "001")
    assert sorted(p.name for p in out.iterdir()) == [f"{i:03d}.ogg" for i in range(2, len(files))]
    assert snapshot(data) == before


# -- a server answering garbage ----------------------------------------------------------------


class _ProxyLoginPage(http.server.BaseHTTPRequestHandler):
    """What a captive portal or a wrong URL answers: a web page, status 200, to everything."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b"<html><body>Please log in to the practice proxy</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ProxyLoginPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_resume_against_a_server_answering_garbage_keeps_the_audio_queued(
    spool_copy: Path, garbage_server: str
) -> None:
    chunks_before = {k: v for k, v in snapshot(spool_copy).items() if k.endswith(".ogg.enc")}
    done = run(
        spool_copy,
        "resume",
        "--server",
        garbage_server,
        "--timeout",
        "60",
        HEIDI_API_KEY="key-1",
        HEIDI_EMAIL="gp@example.org",
        HEIDI_USER_ID="gp-1",
        # gives up 1 s after the first garbage answer, however late a loaded machine sends it
        AMBIENT_RECORDER_OFFLINE_GRACE_S="1",
    )
    assert done.returncode == exit_codes.SERVER_UNREACHABLE, done.stderr
    assert "Traceback" not in done.stderr
    assert "web page" in done.stderr
    chunks_after = {k: v for k, v in snapshot(spool_copy).items() if k.endswith(".ogg.enc")}
    assert chunks_after == chunks_before
    listing = run(spool_copy, "spool", "--json")
    [rec] = json.loads(listing.stdout)["recordings"]
    assert [c["state"] for c in rec["chunks"]] == ["queued"]
