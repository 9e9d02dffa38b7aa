"""Permission problems a practice meets, run as the unprivileged user a clinician logs in as.

Root ignores file modes, so every other CLI test would pass a folder nobody may write. Here the
real command line runs as `nobody` (setpriv) on a data folder `nobody` owns, with one file or
folder made unreadable or unwritable (or left behind by another user, e.g. IT running the app as
an administrator). The promise is the one of test_cli_bad_input.py: a clear `error:` line naming
the path and the problem, a documented exit code, no traceback, nothing recorded lost or
changed — or, where carrying on is right (a log that cannot be written), the command carries on.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recorder import exit_codes
from tests.cli_helpers import REPO_ROOT, SAMPLE, cli_command, cli_env
from tests.integration.test_cli_bad_input import KEY_FILE_ENV, assert_clear_error, snapshot

USER, GROUP = "nobody", "nogroup"
SETPRIV = shutil.which("setpriv")
AS_USER = [str(SETPRIV), f"--reuid={USER}", f"--regid={GROUP}", "--clear-groups"]
RATE = 16_000
CRASH_WRITER = Path(__file__).with_name("crash_writer.py")


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root to run the CLI as another (unprivileged) user"
    if SETPRIV is None:
        return "needs setpriv (util-linux) to switch user"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"no {USER!r} user on this machine"
    probe = subprocess.run(
        [*AS_USER, sys.executable, "-c", "import recorder.cli"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        return f"{USER} cannot run the repo's Python/venv: {probe.stderr.strip()[-200:]}"
    return None


_SKIP = _why_not()
pytestmark = pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP))


def _give_to_user(path: Path) -> None:
    owner = pwd.getpwnam(USER)
    for item in [path, *path.rglob("*")]:
        os.chown(item, owner.pw_uid, owner.pw_gid, follow_symlinks=False)


def run_as_user(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ambient-recorder ARGS` as the unprivileged user, with its own home beside `data`."""
    env = cli_env(data, HOME=str(data.parent), **{**KEY_FILE_ENV, **env})
    return subprocess.run(
        [*AS_USER, *cli_command(*args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def user_home() -> Iterator[Path]:
    """A folder the unprivileged user owns (pytest's own tmp folders are root's, mode 0700)."""
    home = Path(tempfile.mkdtemp(prefix="ar-permissions-", dir="/tmp"))
    _give_to_user(home)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def tone(user_home: Path) -> Path:
    path = user_home / "tone.wav"
    t = np.arange(2 * RATE) / RATE
    sf.write(path, (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), RATE)
    _give_to_user(path)
    return path


@pytest.fixture(scope="module")
def recorded(user_home: Path) -> Path:
    """The 159 s sample recorded (not uploaded) by the user: 4 chunks. Copy before changing."""
    data = user_home / "recorded" / "data"
    data.parent.mkdir()
    _give_to_user(data.parent)
    done = run_as_user(data, "record", "--input", str(SAMPLE), "--speed", "0", "--no-upload")
    assert done.returncode == 0, done.stderr
    assert len(list(data.glob("spool/*/*.ogg.enc"))) == 4
    return data


@dataclass
class Case:
    """A copy of the recorded data folder, owned by the user, in a folder of its own."""

    home: Path
    data: Path
    tone: Path

    @property
    def rid(self) -> str:
        (folder,) = (self.data / "spool").iterdir()
        return folder.name

    @property
    def chunk(self) -> Path:
        return self.data / "spool" / self.rid / "001.ogg.enc"

    @property
    def settings(self) -> Path:
        return self.home / "data-config" / "settings.json"

    @property
    def log(self) -> Path:
        return self.data / "logs" / "ambient-recorder.log"


@pytest.fixture
def case(user_home: Path, recorded: Path, tone: Path) -> Case:
    home = Path(tempfile.mkdtemp(dir=user_home))
    shutil.copytree(recorded, home / "data")
    (home / "data-config").mkdir()
    _give_to_user(home)
    return Case(home, home / "data", tone)


def _leave_wal_of_another_user(case: Case) -> None:
    """spool.db-wal/-shm left by a process of root's (IT ran the app as administrator) that
    ended without closing: the user may read them but not write them."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute('UPDATE recordings SET updated_at = updated_at')\n"
        "os._exit(0)\n"
    )
    db = case.data / "spool.db"
    subprocess.run([sys.executable, "-c", script, str(db)], check=True)
    for name in ("spool.db-wal", "spool.db-shm"):
        os.chown(case.data / name, 0, 0)  # (made by the user's earlier run, if there was one)
        (case.data / name).chmod(0o644)
        assert (case.data / name).stat().st_uid == 0


def _chmod(where: Callable[[Case], Path], mode: int) -> Callable[[Case], Path]:
    def apply(case: Case) -> Path:
        path = where(case)
        path.chmod(mode)
        return path

    return apply


def _out_of_reach(case: Case) -> Path:
    """An --out folder inside a folder of another user's (root's, 0700)."""
    closed = case.home / "closed"
    closed.mkdir()
    os.chown(closed, 0, 0)
    closed.chmod(0o700)
    return closed / "out"


def _out_not_writable(case: Case) -> Path:
    out = case.home / "out-ro"
    out.mkdir()
    _give_to_user(out)
    out.chmod(0o500)
    return out


def _wal(case: Case) -> Path:
    _leave_wal_of_another_user(case)
    return case.data / "spool.db-wal"


DATA: Callable[[Case], Path] = lambda c: c.data  # noqa: E731
RECORD = ("record", "--input", "{tone}", "--speed", "0", "--no-upload")
LIST = ("spool",)
EXPORT = ("export", "{rid}", "--out", "{home}/out")
EXPORT_TO = ("export", "{rid}", "--out", "{path}")

# (id, what to break, command, exit code, words the one error line must hold ("{path}": the
# path broken))
REFUSED = [
    ("data-not-writable", _chmod(DATA, 0o500), RECORD, exit_codes.SPOOL, ["{path}", "writable"]),
    *[
        (
            f"data-closed-{argv[0]}",
            _chmod(DATA, 0o000),
            argv,
            exit_codes.SPOOL,
            ["{path}", "permission denied"],
        )
        for argv in (LIST, EXPORT)  # (every command opens the spool the same way)
    ],
    (
        "spool-folder-not-writable",
        _chmod(lambda c: c.data / "spool", 0o500),
        RECORD,
        exit_codes.SPOOL,
        ["{path}", "writable"],
    ),
    (
        "spool.db-read-only",
        _chmod(lambda c: c.data / "spool.db", 0o400),
        RECORD,
        exit_codes.SPOOL,
        ["{path}", "read-only"],
    ),
    (
        "spool.db-unreadable",
        _chmod(lambda c: c.data / "spool.db", 0o000),
        RECORD,
        exit_codes.SPOOL,
        ["{path}", "permission denied"],
    ),
    ("spool.db-wal-of-another-user", _wal, RECORD, exit_codes.SPOOL, ["{path}", "writable"]),
    (
        "spool.key-unreadable",
        _chmod(lambda c: c.data / "spool.key", 0o000),
        EXPORT,
        exit_codes.SPOOL,
        ["{path}", "permission denied"],
    ),
    ("out-not-writable", _out_not_writable, EXPORT_TO, exit_codes.USAGE, ["{path}", "--out"]),
    ("out-out-of-reach", _out_of_reach, EXPORT_TO, exit_codes.USAGE, ["{path}", "--out"]),
]


@pytest.mark.parametrize(
    ("breakage", "argv", "code", "words"),
    [pytest.param(*rest, id=name) for name, *rest in REFUSED],
)
def test_refused_with_the_path_and_the_problem(
    case: Case,
    breakage: Callable[[Case], Path],
    argv: tuple[str, ...],
    code: int,
    words: list[str],
) -> None:
    rid = case.rid
    path = breakage(case)
    before = snapshot(case.data)  # (as root: reads whatever the user cannot)
    done = run_as_user(
        case.data, *(a.format(tone=case.tone, rid=rid, home=case.home, path=path) for a in argv)
    )
    assert_clear_error(done, code, *(w.format(path=path) for w in words))
    assert snapshot(case.data) == before


def _audio(case: Case) -> dict[str, str]:
    return {k: v for k, v in snapshot(case.data).items() if k.startswith("spool/")}


# Still works: reading what can be read, or recording with what is not essential missing.
CARRY_ON = [
    ("data-not-writable", _chmod(DATA, 0o500), LIST),
    ("data-not-writable", _chmod(DATA, 0o500), EXPORT),
    ("data-not-listable", _chmod(DATA, 0o300), RECORD),
    ("data-not-listable", _chmod(DATA, 0o300), LIST),
    ("spool.db-read-only", _chmod(lambda c: c.data / "spool.db", 0o400), LIST),
    ("spool.db-read-only", _chmod(lambda c: c.data / "spool.db", 0o400), EXPORT),
    ("spool.db-wal-of-another-user", _wal, LIST),
    ("spool.db-wal-of-another-user", _wal, EXPORT),
    ("chunk-unreadable", _chmod(lambda c: c.chunk, 0o000), LIST),
]


@pytest.mark.parametrize(
    ("breakage", "argv"),
    [pytest.param(b, a, id=f"{name}-{a[0]}") for name, b, a in CARRY_ON],
)
def test_what_can_be_done_still_is(
    case: Case, breakage: Callable[[Case], Path], argv: tuple[str, ...]
) -> None:
    rid = case.rid
    breakage(case)
    everything = snapshot(case.data)
    before = _audio(case)
    done = run_as_user(
        case.data, *(a.format(tone=case.tone, rid=rid, home=case.home) for a in argv)
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith("error:")]
    after = _audio(case)
    assert {k: after.get(k) for k in before} == before  # the recorded audio is untouched
    if argv != RECORD:  # only read: not a byte of the data folder changed (nor a file added)
        assert snapshot(case.data) == everything
    if argv[0] == "spool":
        assert rid in done.stdout and "4 chunks" in done.stdout
    elif argv[0] == "export":
        assert sorted(p.name for p in (case.home / "out").iterdir()) == [
            f"{i:03d}.ogg" for i in range(4)
        ]
    else:  # record: a second recording of one chunk, beside the first
        assert len(after) == len(before) + 2, after  # its chunk and its writer.lock


def test_unreadable_chunk_is_named_and_the_others_exported(case: Case) -> None:
    rid = case.rid
    case.chunk.chmod(0o000)
    before = snapshot(case.data)
    out = case.home / "out"
    done = run_as_user(case.data, "export", rid, "--out", str(out))
    assert_clear_error(done, exit_codes.SPOOL, "1 chunk(s)", str(case.chunk), "permission denied")
    assert sorted(p.name for p in out.iterdir()) == ["000.ogg", "002.ogg", "003.ogg"]
    assert snapshot(case.data) == before


@pytest.mark.parametrize("where", ["server", "local"])
def test_unreadable_chunk_does_not_hold_up_the_upload_of_the_others(
    case: Case, where: str, request: pytest.FixtureRequest
) -> None:
    """As for a damaged chunk: the others are uploaded; this one is named and kept, and the
    command ends at once with CHUNKS_REJECTED instead of retrying it until --timeout. With
    --local the embedded server may still be transcribing then: the process used to abort
    (SIGABRT in the transcriber's native threads at interpreter teardown) instead."""
    case.chunk.chmod(0o000)
    chunks_before = {k: v for k, v in snapshot(case.data).items() if k.endswith(".ogg.enc")}
    if where == "local":
        target: tuple[str, ...] = ("--local",)
        env: dict[str, str] = {}
    else:
        server = request.getfixturevalue("local_server")
        target = ("--server", server.base_url)
        env = {
            "HEIDI_API_KEY": server.api_key,
            "HEIDI_EMAIL": "gp@practice.example",
            "HEIDI_USER_ID": "gp-1",
        }
    done = run_as_user(case.data, "resume", *target, "--timeout", "60", **env)
    output = done.stdout + done.stderr
    assert done.returncode == exit_codes.CHUNKS_REJECTED, output
    assert "Traceback" not in done.stderr
    last_error = [line for line in done.stderr.splitlines() if line.startswith("error:")][-1]
    for words in ("chunk 1", str(case.chunk), "Permission denied", "kept"):
        assert words in last_error, (words, last_error)
    assert output.count(str(case.chunk)) == 1, output  # its reason once (was 3 times)
    listing = run_as_user(case.data, "spool", "--json")
    assert listing.returncode == 0, listing.stderr
    [rec] = json.loads(listing.stdout)["recordings"]
    states = {c["index"]: c["state"] for c in rec["chunks"]}
    assert states == {0: "uploaded", 1: "rejected", 2: "uploaded", 3: "uploaded"}, states
    assert {k: v for k, v in snapshot(case.data).items() if k.endswith(".ogg.enc")} == (
        chunks_before
    )  # every chunk's audio still there (uploaded ones are deleted only by retention)


@pytest.mark.parametrize("closed", ["settings.json", "settings folder"])
def test_unreadable_settings_never_stop_a_recording(case: Case, closed: str) -> None:
    """A recording goes on with the defaults (a warning); a command that talks to a server
    stops (it could otherwise reach another server than the configured one)."""
    case.settings.write_text('{"language_code": "en"}')
    _give_to_user(case.settings)
    (case.settings if closed == "settings.json" else case.settings.parent).chmod(0o000)
    done = run_as_user(case.data, *(a.format(tone=case.tone) for a in RECORD))
    assert done.returncode == 0, done.stderr
    [warning] = [line for line in done.stderr.splitlines() if str(case.settings) in line]
    assert warning.startswith("warning:") and "Permission denied" in warning
    assert len(list(case.data.glob("spool/*/000.ogg.enc"))) == 2
    done = run_as_user(case.data, "transcript", "s1", "--server", "http://127.0.0.1:9")
    assert_clear_error(done, exit_codes.USAGE, str(case.settings), "permission denied")


@pytest.mark.parametrize(
    ("breakage", "log_writable"),
    [
        # the log file itself can still be appended to: logging goes on (rotation cannot)
        pytest.param(_chmod(lambda c: c.data / "logs", 0o500), True, id="logs-folder-read-only"),
        pytest.param(_chmod(lambda c: c.data / "logs", 0o000), False, id="logs-folder-closed"),
        pytest.param(_chmod(lambda c: c.log, 0o400), False, id="log-file-read-only"),
    ],
)
def test_a_log_that_cannot_be_written_never_stops_a_consult(
    case: Case, breakage: Callable[[Case], Path], log_writable: bool
) -> None:
    breakage(case)
    log_before = case.log.read_bytes()
    audio_before = _audio(case)
    done = run_as_user(case.data, *(a.format(tone=case.tone) for a in RECORD))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr, done.stderr
    after = _audio(case)
    assert {k: after[k] for k in audio_before} == audio_before
    assert len(list(case.data.glob("spool/*/000.ogg.enc"))) == 2  # the new recording is there
    warnings = [line for line in done.stderr.splitlines() if str(case.log) in line]
    if log_writable:
        assert not warnings, done.stderr
        assert case.log.read_bytes().startswith(log_before)
        assert "audit: start" in case.log.read_bytes()[len(log_before) :].decode()
    else:
        [warning] = warnings
        assert warning.startswith("warning:") and "Permission denied" in warning, warning
        assert case.log.read_bytes() == log_before


def test_an_unreadable_crashed_journal_never_stops_the_next_consult(user_home: Path) -> None:
    """kill -9 mid-chunk, then the journal is unreadable (restored from a backup as another
    user): every command used to stop on it ("Cannot use …journal.bin"), `record` included."""
    home = Path(tempfile.mkdtemp(dir=user_home))
    _give_to_user(home)
    data = home / "data"
    proc = subprocess.Popen(
        [*AS_USER, sys.executable, str(CRASH_WRITER), str(data), str(SAMPLE), "45", "60"],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(data, HOME=str(home), PYTHONPATH=str(REPO_ROOT), **KEY_FILE_ENV),
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("fed ") and int(line.split()[1]) >= RATE:
                break
    finally:
        proc.kill()
        proc.wait(10)
    (journal,) = data.glob("spool/*/journal.bin")
    journal.chmod(0o000)
    kept = journal.read_bytes()

    done = run_as_user(
        data, "record", "--input", str(SAMPLE), "--duration", "2", "--speed", "0", "--no-upload"
    )
    assert done.returncode == 0, done.stderr
    [warning] = [line for line in done.stderr.splitlines() if str(journal) in line]
    assert warning.startswith("warning:") and "Permission denied" in warning, warning
    assert journal.read_bytes() == kept
    assert len(list(data.glob("spool/*/000.ogg.enc"))) == 1  # the new consult

    journal.chmod(0o600)  # readable again: the next command recovers it
    done = run_as_user(data, "spool")
    assert done.returncode == 0, done.stderr
    assert "recovered interrupted recording" in done.stderr
    assert not journal.exists() and len(list(data.glob("spool/*/000.ogg.enc"))) == 2
