"""Every bad input gets a clear 4xx in Heidi's error shape, and nothing accepted is lost."""

from __future__ import annotations

import re
import select
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from server.audio import MAX_AUDIO_SECONDS
from tests.fixtures.local_server import API_PREFIX, LocalServerProcess
from tests.server.support import Api, api_for


def assert_error(response: httpx.Response, status: int, type_: str | None = None) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert set(detail) == {"msg", "type"} and isinstance(detail["msg"], str) and detail["msg"]
    if type_ is not None:
        assert detail["type"] == type_, detail
    return str(detail["msg"])


@pytest.fixture
def recording(api: Api) -> tuple[str, str]:
    session_id = api.new_session()
    return session_id, api.new_recording(session_id)


@pytest.mark.parametrize(
    ("data", "content_type", "status", "type_"),
    [
        (b"this is a text file, not audio\n" * 40, "audio/ogg", 422, "AudioNotDecodableError"),
        (bytes(range(256)) * 64, "audio/mpeg", 422, "AudioNotDecodableError"),
        (b"OggS" + b"\0" * 200, "audio/ogg", 422, "AudioNotDecodableError"),
        (b"", "audio/ogg", 422, "EmptyAudioError"),
        (b"%PDF-1.4 ...", "application/pdf", 415, "UnsupportedMediaTypeError"),
        (b"abc", "text/plain", 415, "UnsupportedMediaTypeError"),
        (b"abc", "application/octet-stream", 415, "UnsupportedMediaTypeError"),
    ],
)
def test_non_audio_is_rejected(
    api: Api,
    recording: tuple[str, str],
    data: bytes,
    content_type: str,
    status: int,
    type_: str,
) -> None:
    assert_error(api.send_chunk(*recording, 0, data, content_type), status, type_)
    assert api.live(recording[0])["chunks"] == []


def test_real_audio_with_a_non_audio_content_type_is_415(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    assert_error(api.send_chunk(*recording, 0, short_chunks[0], "text/plain"), 415)


def test_a_body_that_is_not_multipart_is_415(api: Api, recording: tuple[str, str]) -> None:
    session_id, recording_id = recording
    url = f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe"
    assert_error(api.client.post(url, json={"index": 0}), 415, "UnsupportedMediaTypeError")
    assert_error(api.client.post(url, content=b"OggS", headers={"content-type": "audio/ogg"}), 415)


@pytest.mark.parametrize(
    "index", ["-1", "abc", "1.5", "", " 1", "1e3", "0x1", "100000", "\u0663", "+1", "99999999999"]
)
def test_bad_index_values_are_422(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes], index: str
) -> None:
    assert_error(api.send_chunk(*recording, index, short_chunks[0]), 422, "ValidationError")
    assert api.live(recording[0])["chunks"] == []


def test_missing_parts_are_422(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    session_id, recording_id = recording
    url = f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe"
    no_index = api.client.post(url, files={"file": ("a.ogg", short_chunks[0], "audio/ogg")})
    assert "index" in assert_error(no_index, 422, "ValidationError")
    no_file = api.client.post(
        url, files={"other": ("a.ogg", b"x", "audio/ogg")}, data={"index": "0"}
    )
    assert "file" in assert_error(no_file, 422, "ValidationError")


def test_huge_or_too_many_form_parts_are_refused(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    session_id, recording_id = recording
    url = f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe"
    audio = ("a.ogg", short_chunks[0], "audio/ogg")
    assert_error(api.client.post(url, files={"file": audio}, data={"index": "1" * 5000}), 400)
    many = {f"f{i}": str(i) for i in range(20)}
    assert_error(api.client.post(url, files={"file": audio}, data={"index": "0", **many}), 400)
    two_files = [("file", audio), ("file", audio)]
    assert_error(api.client.post(url, files=two_files, data={"index": "0"}), 400)
    assert api.live(session_id)["chunks"] == []


def test_unknown_sessions_and_recordings_are_404(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    session_id, recording_id = recording
    other_session = api.new_session()
    for sid, rid, type_ in [
        (uuid.uuid4().hex, recording_id, "SessionNotFoundError"),
        ("' OR 1=1 --", recording_id, "SessionNotFoundError"),
        (session_id, uuid.uuid4().hex, "RecordingNotFoundError"),
        (other_session, recording_id, "RecordingNotFoundError"),  # recording of another session
    ]:
        assert_error(api.send_chunk(sid, rid, 0, short_chunks[0]), 404, type_)
        assert_error(api.finish(sid, rid), 404, type_)
    assert_error(api.client.get("/sessions/nope/transcript/live"), 404, "SessionNotFoundError")
    assert_error(api.client.patch("/sessions/nope", json={"duration": 3}), 404)


def test_a_finished_recording_takes_no_more_chunks(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    assert api.finish(*recording).json() == {"is_success": True}
    assert api.finish(*recording).json() == {"is_success": True}  # idempotent
    assert_error(api.send_chunk(*recording, 0, short_chunks[0]), 409, "RecordingFinishedError")


def test_a_truncated_or_corrupt_ogg_ends_failed_and_does_not_stall_the_queue(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    session_id, recording_id = recording
    whole = short_chunks[1]
    truncated = whole[: len(whole) * 2 // 3]
    corrupt = bytearray(short_chunks[2])
    corrupt[len(corrupt) // 2] ^= 0xFF
    assert api.send_chunk(session_id, recording_id, 0, truncated).status_code == 200
    assert api.send_chunk(session_id, recording_id, 1, bytes(corrupt)).status_code == 200
    assert api.send_chunk(session_id, recording_id, 2, whole).status_code == 200

    body = api.wait_settled(session_id)
    statuses = [(c["status"], c.get("error", "")) for c in body["chunks"]]
    assert statuses[0][0] == "FAILED" and "truncated" in statuses[0][1]
    assert statuses[1][0] == "FAILED" and "checksum" in statuses[1][1]
    assert statuses[2] == ("READY", "")
    assert body["chunks"][0]["text"] == "" and body["chunks"][2]["text"]
    assert body["transcript"] == body["chunks"][2]["text"]
    # A FAILED chunk can be repaired by sending its index again.
    assert api.send_chunk(session_id, recording_id, 0, whole).status_code == 200
    assert api.wait_settled(session_id)["chunks"][0]["status"] == "READY"


def test_upload_audio_rejects_bad_times_and_non_audio(api: Api, short_chunks: list[bytes]) -> None:
    session_id = api.new_session()
    url = f"/sessions/{session_id}/upload-audio"
    audio = {"file": ("a.ogg", short_chunks[0], "audio/ogg")}
    assert_error(api.client.post(url, files=audio, data={"start_time": "yesterday"}), 422)
    assert_error(api.client.post(url, files={"file": ("a.txt", b"hello", "text/plain")}), 415)
    assert_error(api.client.post(url, files={"file": ("a.ogg", b"hello", "audio/ogg")}), 422)
    assert api.live(session_id)["chunks"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"duration": "long"},
        {"duration": -5},
        {"consent_obtained": "maybe"},
        {"clinician_notes": "not a list"},
        {"clinician_notes": ["x" * 20_001]},
        {"language_code": "x" * 17},
        {"ehr_patient_id": "p" * 257},
    ],
)
def test_bad_session_updates_are_422(api: Api, body: dict[str, object]) -> None:
    session_id = api.new_session()
    assert_error(api.client.patch(f"/sessions/{session_id}", json=body), 422, "ValidationError")


def test_text_that_is_not_valid_unicode_is_422_and_the_session_stays_readable(api: Api) -> None:
    session_id = api.new_session()
    for raw in (b'{"ehr_patient_id": "a\\ud800b"}', b'{"patient": {"\\udfff": 1}}'):
        response = api.client.patch(
            f"/sessions/{session_id}", content=raw, headers={"content-type": "application/json"}
        )
        assert_error(response, 422, "ValidationError")
    assert api.client.get(f"/sessions/{session_id}").status_code == 200


def test_null_puts_a_field_back_to_its_default(api: Api) -> None:
    session_id = api.new_session()
    api.client.patch(f"/sessions/{session_id}", json={"clinician_notes": ["a"], "duration": 5})
    response = api.client.patch(
        f"/sessions/{session_id}", json={"clinician_notes": None, "duration": None}
    )
    assert response.status_code == 200, response.text
    # Back to unset: left out of the answer (the spec's integer admits no null).
    assert response.json()["clinician_notes"] == [] and "duration" not in response.json()


def test_malformed_json_is_422(api: Api) -> None:
    session_id = api.new_session()
    response = api.client.patch(
        f"/sessions/{session_id}",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error(response, 422, "ValidationError")


def test_routing_errors_use_the_error_shape(api: Api, local_server: LocalServerProcess) -> None:
    assert_error(api.client.get("/no/such/path"), 404, "NotFoundError")
    assert_error(api.client.delete("/sessions"), 405, "MethodNotAllowedError")
    assert_error(api.client.get("/templates/document-templates"), 501, "NotImplementedError")
    assert_error(api.client.post("/patient-profiles:batch-delete", json={}), 501)
    assert_error(api.client.get("/sessions/linked-user"), 501, "NotImplementedError")
    assert_error(httpx.get(f"{local_server.root_url}/"), 404, "NotFoundError")


def test_client_file_names_are_never_used_and_no_audio_is_kept_once_final(
    api: Api,
    local_server: LocalServerProcess,
    recording: tuple[str, str],
    short_chunks: list[bytes],
) -> None:
    session_id, recording_id = recording
    url = f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe"
    before = {p for p in local_server.data_dir.parent.rglob("*") if "audio" not in p.parts}
    for index, evil in enumerate(["../../../escape.ogg", "/etc/passwd", "a\0b.ogg"]):
        response = api.client.post(
            url, files={"file": (evil, short_chunks[0], "audio/ogg")}, data={"index": str(index)}
        )
        assert response.status_code == 200
    api.wait_settled(session_id)
    after = {p for p in local_server.data_dir.parent.rglob("*") if "audio" not in p.parts}
    assert {p.name for p in after - before} <= {"server.sqlite3-journal"}
    ours = {p.name for p in (local_server.data_dir / "audio").iterdir()}
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(audio|part)", name) for name in ours)


def test_audio_longer_than_the_cap_is_refused(api: Api, tmp_path: Path) -> None:
    # The cap and a second of silence at 1 kHz in FLAC: small on the wire, too long.
    path = tmp_path / "long.flac"
    with sf.SoundFile(path, "w", samplerate=1000, channels=1, format="FLAC") as out:
        block = np.zeros(1000 * 60, dtype=np.int16)
        for _ in range(MAX_AUDIO_SECONDS // 60):
            out.write(block)
        out.write(block[:1000])
    session_id = api.new_session()
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("long.flac", path.read_bytes(), "audio/flac")},
    )
    assert f"{MAX_AUDIO_SECONDS // 3600} h" in assert_error(response, 422, "AudioTooLongError")


# --- limits: a server of its own with a 1 MB upload limit, a 0.2 s transcript wait ----------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServerProcess]:
    server = LocalServerProcess(
        data_dir=tmp_path_factory.mktemp("small") / "data",
        max_upload_mb=1.0,
        transcript_wait_s=0.2,
        workers=2,
    )
    server.start()
    yield server
    server.stop()


def _raw_streaming_upload(server: LocalServerProcess, path: str, token: str, total: int) -> bytes:
    """Send a chunked multipart body of `total` bytes, reading the answer as soon as one comes."""
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="index"\r\n\r\n0\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.ogg"\r\n'
        "Content-Type: audio/ogg\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST {API_PREFIX}{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
            ).encode()
        )
        sent, block = 0, b"\0" * 65536
        pieces = iter([head] + [block] * (total // len(block)))
        answer = b""
        for piece in pieces:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert sent < total, "the server read the whole oversize body before answering"
    return answer


def test_oversize_uploads_are_413_while_streaming(small_server: LocalServerProcess) -> None:
    api = api_for(small_server.base_url, small_server.api_key)
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    path = f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe"
    token = api.client.headers["authorization"].split()[1]
    answer = _raw_streaming_upload(small_server, path, token, total=64 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Declared too large up front: refused before a byte of the body is sent.
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST {API_PREFIX}{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: {5 * 1024 * 1024}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n\r\n"
            ).encode()
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 413")
    just_over = b"OggS" + b"\0" * (1024 * 1024 - 3)  # the limit is on the file, to the byte
    assert_error(api.send_chunk(session_id, recording_id, 0, just_over), 413)
    big = b"OggS" + b"\0" * (1024 * 1024 + 70_000)
    assert_error(api.send_chunk(session_id, recording_id, 0, big), 413, "PayloadTooLargeError")
    notes = {"clinician_notes": ["n" * 20_000] * 30}  # 600 kB of JSON > the 256 kB JSON limit
    assert_error(api.client.patch(f"/sessions/{session_id}", json=notes), 413)
    assert api.live(session_id)["chunks"] == []
    assert (
        not list((small_server.data_dir / "audio").glob("*"))
        if (small_server.data_dir / "audio").exists()
        else True
    )
    api.client.close()


def test_uploads_within_the_limit_pass(
    small_server: LocalServerProcess, short_chunks: list[bytes]
) -> None:
    api = api_for(small_server.base_url, small_server.api_key)
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    assert len(short_chunks[0]) < 1024 * 1024
    assert api.send_chunk(session_id, recording_id, 0, short_chunks[0]).status_code == 200
    api.client.close()


def test_the_final_transcript_is_503_with_retry_after_while_chunks_are_pending(
    small_server: LocalServerProcess, consult_chunks: list[bytes]
) -> None:
    api = api_for(small_server.base_url, small_server.api_key)
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    assert api.send_chunk(session_id, recording_id, 0, consult_chunks[0]).status_code == 200
    early = api.client.get(f"/sessions/{session_id}/transcript")  # 45 s of audio: not in 0.2 s
    assert_error(early, 503, "TranscriptNotReadyError")
    assert early.headers["retry-after"] == "5"
    api.wait_settled(session_id)
    final = api.client.get(f"/sessions/{session_id}/transcript")
    assert final.status_code == 200 and final.json()["transcript"]
    api.client.close()


def test_an_index_sent_as_a_file_is_422(
    api: Api, recording: tuple[str, str], short_chunks: list[bytes]
) -> None:
    session_id, recording_id = recording
    url = f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe"
    response = api.client.post(
        url,
        files=[
            ("file", ("a.ogg", short_chunks[0], "audio/ogg")),
            ("index", ("i", b"0", "text/plain")),
        ],
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]["type"] in ("BadRequestError", "ValidationError")
