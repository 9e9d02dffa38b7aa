"""AmbientCore, the façade the desktop app uses, against the real local server and a real spool."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from recorder.audio import FileSpec
from recorder.core import AmbientCore
from recorder.errors import RecorderError
from recorder.events import (
    ChunkRecorded,
    ConnectionChanged,
    ErrorOccurred,
    Event,
    RecordingStateChanged,
    TranscriptUpdated,
)
from recorder.session import ConsultMeta
from recorder.settings import (
    Settings,
    SettingsError,
    load_settings,
    proxy_url_for_client,
    save_settings,
    settings_path,
)
from recorder.states import RecordingState, ServerStatus
from tests.cli_helpers import SAMPLE, start_record, wait_journaled
from tests.fixtures.keyrings import keyring_backend
from tests.ui.file_keyring import FileKeyring


class Events:
    def __init__(self) -> None:
        self.items: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 120) -> Event:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.items:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such event in {len(self.items)} events")
                self.cond.wait(left)

    def of(self, kind: type) -> list[Any]:
        with self.cond:
            return [e for e in self.items if isinstance(e, kind)]


@pytest.fixture
def heidi_env(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    return Settings(base_url=local_server.base_url, email="gp@practice.example", user_id="gp-1")


@pytest.fixture
def core_factory(tmp_path: Path) -> Iterator[Callable[..., tuple[AmbientCore, Events]]]:
    made: list[AmbientCore] = []

    def make(settings: Settings, data_dir: Path | None = None) -> tuple[AmbientCore, Events]:
        events = Events()
        core = AmbientCore(events, data_dir=data_dir or tmp_path / "data", settings=settings)
        made.append(core)
        core.start()
        assert core.wait_ready(120)
        return core, events

    yield make
    for core in made:
        core.shutdown()


def test_a_consult_through_the_core(core_factory: Any, heidi_env: Settings) -> None:
    core, events = core_factory(heidi_env)
    events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.mode == "heidi", 120)
    with pytest.raises(RecorderError, match="consent"):
        core.start_recording(FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=False))
    rid = core.start_recording(
        FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=True, patient_ref="EHR-1")
    )
    events.wait_for(
        lambda e: (
            isinstance(e, RecordingStateChanged)
            and e.recording_id == rid
            and e.state is RecordingState.DONE
        ),
        timeout=300,
    )
    final = [e for e in events.of(TranscriptUpdated) if e.final and e.recording_id == rid]
    assert final, "no final transcript"
    chunk_count = len(events.of(ChunkRecorded))
    assert [c.index for c in final[-1].chunks] == list(range(chunk_count))
    assert all(c.status is ServerStatus.READY for c in final[-1].chunks)
    assert "morning" in core.transcript_text(rid).lower()
    assert core.pending_uploads() == 0
    assert core.unfinished_recordings() == []


def test_interrupted_recording_is_offered_then_uploaded(
    tmp_path: Path, core_factory: Any, heidi_env: Settings
) -> None:
    data = tmp_path / "data"
    # a recording that a kill -9 left behind, made by a real recording process
    proc = start_record(data, "--input", str(SAMPLE), "--speed", "10", "--no-upload")
    try:
        wait_journaled(proc, data, 2.0)  # a chunk (45-60 s) committed, 2 s of the next journaled
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    core, events = core_factory(heidi_env, data)
    offered = core.unfinished_recordings()
    assert len(offered) == 1
    assert offered[0].state is RecordingState.INTERRUPTED
    assert offered[0].duration_s > 40
    rid = offered[0].recording_id
    core.resume_uploads(rid)
    events.wait_for(
        lambda e: (
            isinstance(e, RecordingStateChanged)
            and e.recording_id == rid
            and e.state is RecordingState.DONE
        ),
        timeout=300,
    )
    assert "morning" in core.transcript_text(rid).lower()


def test_no_key_is_reported_offline_and_recording_still_works(
    core_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEIDI_API_KEY", raising=False)
    settings = Settings(base_url="https://heidi.invalid/api", email="a@b.c", user_id="u")
    core, events = core_factory(settings)
    offline = events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.last_error, 120)
    assert isinstance(offline, ConnectionChanged)
    assert offline.mode == "offline"
    assert "API key" in (offline.last_error or "")
    rid = core.start_recording(FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=True))
    events.wait_for(
        lambda e: isinstance(e, RecordingStateChanged) and e.state is RecordingState.RECORDED
    )
    assert core.pending_uploads() >= 3  # kept and queued for when a key is set
    assert [r.recording_id for r in core.unfinished_recordings()] == [rid]


def test_stop_and_shutdown_racing_a_start_lose_nothing(tmp_path: Path, heidi_env: Settings) -> None:
    """Closing the app while the input is still opening: the recording is closed cleanly.

    (A real race the UI hit: shutdown closed the spool under a session that had just
    started.) Every interleaving must end with either a refused start or a recording that
    ended normally (RECORDED, or already uploaded before the uploads stopped: FINISHED, DONE),
    and never an error from a closed spool.
    """
    from recorder.errors import RecorderError as Refused
    from recorder.spool import Spool

    for attempt in range(6):
        data = tmp_path / f"data{attempt}"
        events = Events()
        core = AmbientCore(events, data_dir=data, settings=heidi_env)
        core.start()
        assert core.wait_ready(120)
        outcome: list[object] = []

        def start(core: AmbientCore = core, outcome: list[object] = outcome) -> None:
            try:
                outcome.append(core.start_recording(FileSpec(SAMPLE, speed=1), ConsultMeta(True)))
            except Refused as error:
                outcome.append(error)

        starter = threading.Thread(target=start)
        starter.start()
        time.sleep(0.01 * attempt)
        core.stop()
        core.shutdown()
        starter.join(30)
        (result,) = outcome
        problems = [e for e in events.of(ErrorOccurred) if "closed" in e.message]
        assert problems == []
        if isinstance(result, str):
            with Spool.open(data) as spool:
                ended = {RecordingState.RECORDED, RecordingState.FINISHED, RecordingState.DONE}
                assert spool.recording(result).state in ended
        else:
            assert "shutting down" in str(result)


# -- unusable settings: the core reports them and uploads nothing until usable ones are saved --


def _threads_named(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def _new_threads(name: str, before: list[threading.Thread]) -> list[threading.Thread]:
    """Threads called `name` alive now that were not there `before` (counting would mistake an
    earlier test's thread ending meanwhile for one that stopped)."""
    return [t for t in _threads_named(name) if t not in before]


def test_damaged_settings_file_never_falls_back_to_the_local_server(
    tmp_path: Path, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged settings.json: reported by name, nothing uploaded (no local server started),
    recording still works with its chunks queued, the file is left as it is until valid
    settings are saved; then it is replaced and the queued chunks upload."""
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    damaged = '{"base_url": "' + local_server.base_url + '", "email": "gp@practice.example"'
    path.write_text(damaged)  # truncated: not JSON
    servers_before = _threads_named("local-server")  # an earlier test's may still be ending
    events = Events()
    core = AmbientCore(events, data_dir=tmp_path / "data")  # reads settings.json like the app
    try:
        core.start()
        assert core.wait_ready(120)
        problem = events.wait_for(lambda e: isinstance(e, ErrorOccurred) and e.where == "settings")
        assert isinstance(problem, ErrorOccurred)
        assert str(path) in problem.message and "not JSON" in problem.message
        assert "Nothing is uploaded" in problem.message
        assert core.settings_problem == problem.message
        offline = events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.last_error)
        assert isinstance(offline, ConnectionChanged) and offline.mode == "offline"
        rid = core.start_recording(FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=True))
        events.wait_for(
            lambda e: isinstance(e, RecordingStateChanged) and e.state is RecordingState.RECORDED
        )
        assert core.pending_uploads() >= 3, "every chunk is kept, queued"
        assert [e.mode for e in events.of(ConnectionChanged) if e.mode != "offline"] == []
        assert _new_threads("local-server", servers_before) == [], "no local server started"
        assert path.read_text() == damaged, "the practice's file is not overwritten"

        with pytest.raises(SettingsError, match="chunk_min_s"):
            core.apply_settings(Settings(chunk_min_s=10))
        assert path.read_text() == damaged
        fixed = Settings(base_url=local_server.base_url, email="gp@practice.example", user_id="g")
        core.apply_settings(fixed)
        assert load_settings().base_url == local_server.base_url, "replaced by the saved ones"
        assert core.settings_problem is None
        events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.mode == "heidi", 120)
        events.wait_for(
            lambda e: (
                isinstance(e, RecordingStateChanged)
                and e.recording_id == rid
                and e.state is RecordingState.DONE
            ),
            timeout=300,
        )
        assert core.pending_uploads() == 0
    finally:
        core.shutdown()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("HEIDI_BASE_URL", "ftp://heidi.example/api"), ("HEIDI_API_KEY", "key with spaces")],
)
def test_bad_heidi_variable_is_named_and_uploads_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    saved = Settings(base_url="https://heidi.example/api", email="a@b.c", user_id="u", region="AU")
    save_settings(saved)
    file_before = settings_path().read_bytes()
    monkeypatch.setenv(variable, value)
    events = Events()
    core = AmbientCore(events, data_dir=tmp_path / "data")
    try:
        core.start()
        assert core.wait_ready(120)
        problem = events.wait_for(lambda e: isinstance(e, ErrorOccurred) and e.where == "settings")
        assert isinstance(problem, ErrorOccurred) and variable in problem.message
        assert "restart" in problem.message
        assert core.settings.region == "AU", "the file's values are still shown"
        offline = events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.last_error)
        assert isinstance(offline, ConnectionChanged) and offline.mode == "offline"
        with pytest.raises(SettingsError, match=variable):
            core.apply_settings(saved)  # saving cannot fix the environment: say so
        assert settings_path().read_bytes() == file_before
        assert core.settings_problem is not None
        assert [e.mode for e in events.of(ConnectionChanged) if e.mode != "offline"] == []
    finally:
        core.shutdown()


# -- shutdown while start() is still connecting ---------------------------------------------


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Exceptions that escaped any thread during the test (none may)."""
    caught: list[str] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        thread = args.thread.name if args.thread is not None else "?"
        caught.append(f"{thread}: {args.exc_type.__name__}: {args.exc_value}")

    monkeypatch.setattr(threading, "excepthook", hook)
    return caught


def test_shutdown_while_the_local_server_starts_stops_it(
    tmp_path: Path, thread_errors: list[str]
) -> None:
    """Quit while start() is starting the embedded server: the start stops, the server too.

    (Before, shutdown closed the spool under the start thread: 'Cannot operate on a closed
    database' escaped it, and the local server kept running.)
    """
    before = {n: _threads_named(n) for n in ("local-server", "core-start", "upload-queue")}
    events = Events()
    core = AmbientCore(events, data_dir=tmp_path / "data", settings=Settings())
    core.start()
    # emitted just before the target is resolved (the embedded server starts after it)
    events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.detail == "connecting…", 120)
    core.shutdown()
    assert _new_threads("core-start", before["core-start"]) == [], "shutdown waited for it"
    assert _new_threads("local-server", before["local-server"]) == [], "its server stops"
    assert _new_threads("upload-queue", before["upload-queue"]) == []
    assert thread_errors == []
    assert [e for e in events.of(ErrorOccurred) if "closed" in e.message] == []
    assert [e.mode for e in events.of(ConnectionChanged) if e.mode != "offline"] == []


def test_shutdown_of_a_core_never_started_ends_its_settings_reconnect(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, thread_errors: list[str]
) -> None:
    """Settings saved on a core that was never started (tests, a CLI): the reconnect they start
    waits for the start; shutdown() used to wait 10 s for it, then leave it running."""
    before = _threads_named("core-reconnect")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api/v2/ml-scribe/open-api"
    settings = Settings(base_url=url, email="gp@practice.example", user_id="gp-1")
    core = AmbientCore(lambda _event: None, data_dir=tmp_path / "data", settings=settings)
    core.apply_settings(Settings(base_url=url, email="gp@practice.example", user_id="gp-2"))
    with caplog.at_level(logging.WARNING, logger="recorder.core"):
        core.shutdown()
    assert "still busy" not in caplog.text
    assert _new_threads("core-reconnect", before) == []
    assert not (tmp_path / "data" / "spool").exists(), "nothing was opened after shutdown"
    assert thread_errors == []


class StallingKeyring(FileKeyring):
    """A keyring that waits to be released, as an OS keyring does while it asks to unlock."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.asked = threading.Event()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.set()
        self.release.wait(60)
        return super().get_password(service, username)


def test_shutdown_while_the_keyring_stalls_the_connect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, thread_errors: list[str]
) -> None:
    """Quit while start() waits for the keyring (an unlock prompt): no closed-spool error.

    The keyring answers only after shutdown() began; the start thread then goes on and must
    stop instead of touching the spool or starting uploads.
    """
    monkeypatch.delenv("HEIDI_API_KEY", raising=False)
    backend = StallingKeyring(tmp_path / "keyring.json")
    backend.set_password("AmbientRecorder", "heidi-api-key", "sk-test-key-1234")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    before = {n: _threads_named(n) for n in ("core-start", "upload-queue")}
    with socket.socket() as closed:  # a loopback port nobody listens on: refused at once
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api/v2/ml-scribe/open-api"
    try:
        events = Events()
        settings = Settings(base_url=url, email="gp@practice.example", user_id="gp-1")
        core = AmbientCore(events, data_dir=tmp_path / "data", settings=settings)
        core.start()
        assert backend.asked.wait(30), "the start thread asks the keyring for the key"
        releaser = threading.Timer(0.5, backend.release.set)  # after shutdown() has begun
        releaser.start()
        core.shutdown()
        releaser.join()
    finally:
        backend.release.set()
        keyring.set_keyring(previous)
    assert _new_threads("core-start", before["core-start"]) == []
    assert _new_threads("upload-queue", before["upload-queue"]) == []
    assert thread_errors == []
    assert [e for e in events.of(ErrorOccurred) if "closed" in e.message] == []
    assert [e.mode for e in events.of(ConnectionChanged) if e.mode != "offline"] == []


def _closed_url() -> str:
    with socket.socket() as closed:  # a loopback port nobody listens on: refused at once
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}/api/v2/ml-scribe/open-api"


@pytest.mark.parametrize("store", ["file", "none"])
def test_an_older_inline_proxy_password_moves_to_the_keyring_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    """An older settings.json with the password in the proxy URL: the core's start moves it to
    the OS keyring and the file keeps no secret (before, only a Save in Settings did). Without
    a password store it stays in the file and keeps working."""
    monkeypatch.setenv("HEIDI_API_KEY", "sk-test-key-1234")
    secret, host = "Old-Pr0xy:pw", "127.0.0.1:9"  # a proxy nobody answers: no DNS, no wait
    inline = f"http://dr:{secret}@{host}"
    older = Settings(base_url=_closed_url(), email="gp@practice.example", user_id="gp-1")
    older.proxy_url = inline
    save_settings(older)
    backend = FileKeyring(tmp_path / "keyring.json") if store == "file" else FailKeyring()
    with keyring_backend(backend):
        events = Events()
        core = AmbientCore(events, data_dir=tmp_path / "data", settings=load_settings())
        core.start()
        try:
            # "connecting…" comes after the move (the connection itself is not the point)
            events.wait_for(lambda e: isinstance(e, ConnectionChanged), 60)
            if store == "file":
                assert secret not in settings_path().read_text(encoding="utf-8")
                assert load_settings().proxy_url == f"http://dr@{host}"
                assert backend.get_password("AmbientRecorder", "proxy-password") == secret
                assert core.settings.proxy_url == f"http://dr@{host}"
            else:
                assert load_settings().proxy_url == inline, "no store: it stays and works"
            for_client = urlsplit(proxy_url_for_client(core.settings.proxy_url) or "")
            assert unquote(for_client.password or "") == secret, "the client gets it back"
            assert (for_client.username, for_client.port) == ("dr", 9)
        finally:
            core.shutdown()
