"""A typed, thread-safe client for the Heidi API contract (and the local server that mirrors it).

One `HeidiClient` per account/server. It owns the JWT (fetched with the
tenant API key, refreshed shortly before `expiration_time` and once more on a
401), maps every failure to one of the types in `recorder.heidi.errors`, and
never reads more than `max_body_bytes` of an answer. It logs method, route
and status only: never bodies, transcript text or audio.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from recorder.heidi.errors import (
    AuthError,
    ConfigError,
    HeidiError,
    NetworkError,
    RateLimitedError,
    RejectedError,
    ServerDownError,
    TLSError,
)
from recorder.heidi.models import (
    LiveTranscript,
    SessionInfo,
    Token,
    Transcript,
    UploadedAudio,
    require_id,
    require_success,
)
from recorder.heidi.retry import RETRYABLE_STATUSES, parse_retry_after
from recorder.heidi.tls import make_ssl_context
from recorder.heidi.urls import is_loopback_host, validate_base_url

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, /jwt's query (the clinician's email) included: keep it
# to warnings unless the application configured that logger itself.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_MESSAGE_CHARS = 300
# A token whose expiry is unreadable or already past by our clock: used for this long, then
# refreshed (and refreshed anyway on a 401). Heidi does not publish the real lifetime.
ASSUMED_TOKEN_LIFETIME_S = 300.0


@dataclass(frozen=True)
class Timeouts:
    """Explicit limits for each phase of a request, in seconds."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 10.0
    slow_read: float = 900.0  # GET transcript may transcribe lazily uploaded audio first

    def httpx(self, *, slow: bool = False) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect,
            read=self.slow_read if slow else self.read,
            write=self.write,
            pool=self.pool,
        )


def _seg(value: str) -> str:
    """A path segment, escaped so an id can never change the route."""
    return quote(str(value), safe="")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def parse_error_body(body: bytes) -> tuple[str | None, str | None]:
    """(msg, type) from `{"detail": {"msg", "type"}}`, FastAPI's `{"detail": "..."}` or a list."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    detail = data.get("detail")
    if isinstance(detail, str):
        return _short(detail), None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        detail = detail[0]
    if isinstance(detail, dict):
        msg = detail.get("msg")
        kind = detail.get("type")
        return (
            _short(msg) if isinstance(msg, str) else None,
            _short(kind) if isinstance(kind, str) else None,
        )
    return None, None


def _looks_like_html(content_type: str, body: bytes) -> bool:
    head = body[:200].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html"))


class HeidiClient:
    """Typed calls of the contract; raises only `recorder.heidi.errors.HeidiError` subclasses."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        email: str,
        user_id: str,
        ca_bundle: str | None = None,
        proxy: str | None = None,
        timeouts: Timeouts | None = None,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.base_url = validate_base_url(base_url)
        if not api_key:
            raise ConfigError("No Heidi API key is set.")
        if not email or not user_id:
            raise ConfigError(
                "The Heidi user's email and internal id must be set "
                "(in Settings, or HEIDI_EMAIL and HEIDI_USER_ID)."
            )
        self._api_key = api_key
        self._email = email
        self._user_id = user_id
        self._timeouts = timeouts or Timeouts()
        self._clock = clock
        self._max_body = max_body_bytes
        self._token: Token | None = None
        self._token_fetched_at = 0.0
        self._token_lock = threading.Lock()
        host = urlsplit(self.base_url).hostname
        loopback = is_loopback_host(host)
        verify: ssl.SSLContext | bool = make_ssl_context(ca_bundle)
        try:
            self._http = httpx.Client(
                base_url=self.base_url,
                timeout=self._timeouts.httpx(),
                verify=verify,
                # Loopback never goes through a proxy; otherwise the setting, else the environment.
                proxy=None if loopback else (proxy or None),
                trust_env=not loopback and not proxy,
                follow_redirects=False,
                headers={"User-Agent": "AmbientRecorder/0.1", "Accept": "application/json"},
            )
        except (ValueError, httpx.InvalidURL) as error:
            raise ConfigError(f"The proxy setting is not usable: {error}") from None

    # ---- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HeidiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- authentication --------------------------------------------------------------------

    def fetch_token(self) -> Token:
        """Exchange the API key for a fresh JWT (GET /jwt)."""
        data = self._send(
            "GET",
            "/jwt",
            "sign-in",
            params={"email": self._email, "third_party_internal_id": self._user_id},
            headers={"Heidi-Api-Key": self._api_key},
        )
        return Token.parse(data)

    def _refresh_margin(self, token: Token) -> float:
        lifetime = token.expires_at - self._token_fetched_at
        return max(0.5, min(60.0, lifetime * 0.2))

    def bearer_token(self, *, force: bool = False, stale: str | None = None) -> str:
        """A token valid for a while yet; fetched or refreshed when needed (thread-safe)."""
        with self._token_lock:
            current = self._token
            if current is not None and stale is not None and current.token != stale:
                return current.token  # another thread already refreshed it
            now = self._clock()
            if (
                force
                or stale is not None
                or current is None
                or now >= current.expires_at - self._refresh_margin(current)
            ):
                fetched_at = self._clock()
                token = self.fetch_token()
                if not token.expiry_known:
                    log.warning("JWT expiration_time missing or unreadable; refreshing it early")
                    token = Token(token.token, fetched_at + ASSUMED_TOKEN_LIFETIME_S)
                elif token.expires_at <= fetched_at:
                    # Our clock and the server's disagree; use the token and rely on 401 refresh.
                    log.warning("JWT expiry is in the past by this computer's clock")
                    token = Token(token.token, fetched_at + ASSUMED_TOKEN_LIFETIME_S)
                self._token = token
                self._token_fetched_at = fetched_at
            assert self._token is not None
            return self._token.token

    def _authed(self, method: str, path: str, what: str, **kw: Any) -> Any:
        token = self.bearer_token()
        try:
            return self._send(method, path, what, token=token, **kw)
        except AuthError as error:
            if error.status not in (401, 403):
                raise
            log.info("%s: token refused (%s); refreshing once", what, error.status)
        token = self.bearer_token(stale=token)
        return self._send(method, path, what, token=token, **kw)

    # ---- sessions --------------------------------------------------------------------------

    def create_session(
        self, *, patient_profile_id: str | None = None, ehr_appointment_id: str | None = None
    ) -> str:
        """POST /sessions → the new session_id."""
        body = {
            k: v
            for k, v in (
                ("patient_profile_id", patient_profile_id),
                ("ehr_appointment_id", ehr_appointment_id),
            )
            if v
        }
        data = self._authed("POST", "/sessions", "create session", json=body)
        return require_id(data, "session_id", "create session answer")

    def get_session(self, session_id: str) -> SessionInfo:
        data = self._authed("GET", f"/sessions/{_seg(session_id)}", "read session")
        return SessionInfo.parse(data, session_id)

    def update_session(
        self,
        session_id: str,
        *,
        consent_obtained: bool | None = None,
        language_code: str | None = None,
        duration_s: float | None = None,
    ) -> None:
        """PATCH the fields given (consent, language, duration in whole seconds)."""
        body: dict[str, Any] = {}
        if consent_obtained is not None:
            body["consent_obtained"] = bool(consent_obtained)
        if language_code:
            body["language_code"] = language_code
        if duration_s is not None:
            body["duration"] = max(0, round(duration_s))
        if not body:
            return
        self._authed("PATCH", f"/sessions/{_seg(session_id)}", "update session", json=body)

    # ---- chunked (segment) transcription ---------------------------------------------------

    def start_segments(self, session_id: str) -> str:
        """Begin a chunked recording in the session → its recording_id."""
        path = f"/sessions/{_seg(session_id)}/restful-segment-transcription"
        data = self._authed("POST", path, "start chunked upload")
        return require_id(data, "recording_id", "start chunked upload answer")

    def transcribe_segment(
        self, session_id: str, recording_id: str, index: int, audio: bytes
    ) -> None:
        """Upload chunk `index` (OGG) of the recording."""
        if index < 0:
            raise ValueError("chunk index must be >= 0")
        path = (
            f"/sessions/{_seg(session_id)}/restful-segment-transcription/"
            f"{_seg(recording_id)}:transcribe"
        )
        data = self._authed(
            "POST",
            path,
            f"upload chunk {index}",
            files={"file": (f"chunk-{index:05d}.ogg", audio, "audio/ogg")},
            data={"index": str(index)},
        )
        require_success(data, f"upload of chunk {index}")

    def finish_segments(self, session_id: str, recording_id: str) -> None:
        path = (
            f"/sessions/{_seg(session_id)}/restful-segment-transcription/"
            f"{_seg(recording_id)}:finish"
        )
        data = self._authed("POST", path, "finish recording")
        require_success(data, "finish of the recording")

    # ---- single file -----------------------------------------------------------------------

    def upload_audio(
        self,
        session_id: str,
        audio: bytes,
        *,
        filename: str = "audio.ogg",
        content_type: str = "audio/ogg",
        start_time: str | None = None,
        end_time: str | None = None,
    ) -> UploadedAudio | None:
        """Store a whole file for lazy transcription. Any 2xx means stored: the spec documents
        no body, so the `uploaded_audio` record of Heidi's docs is returned only if present."""
        form = {k: v for k, v in (("start_time", start_time), ("end_time", end_time)) if v}
        data = self._authed(
            "POST",
            f"/sessions/{_seg(session_id)}/upload-audio",
            "upload audio",
            files={"file": (filename, audio, content_type)},
            data=form,
            any_body=True,
        )
        return UploadedAudio.parse(data)

    # ---- reading ---------------------------------------------------------------------------

    def transcript(self, session_id: str) -> Transcript:
        """The final transcript; can take as long as transcribing lazily uploaded audio."""
        data = self._authed(
            "GET", f"/sessions/{_seg(session_id)}/transcript", "read transcript", slow=True
        )
        return Transcript.parse(data)

    def live_transcript(
        self, session_id: str, *, recording_status: str | None = None
    ) -> LiveTranscript:
        params = {"recording_status": recording_status} if recording_status else None
        data = self._authed(
            "GET",
            f"/sessions/{_seg(session_id)}/transcript/live",
            "read live transcript",
            params=params,
        )
        return LiveTranscript.parse(data)

    # ---- transport -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        token: str | None = None,
        slow: bool = False,
        any_body: bool = False,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        """One request; `any_body`: a 2xx answer that is not JSON is None, not an error."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        try:
            request = self._http.build_request(
                method, path, headers=all_headers, timeout=self._timeouts.httpx(slow=slow), **kw
            )
            response = self._http.send(request, stream=True)
            try:
                body = self._read_capped(response, what)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise NetworkError(f"{what}: the server did not answer in time.") from None
        except httpx.ProxyError as error:
            raise NetworkError(f"{what}: the proxy refused the connection ({error}).") from None
        except httpx.ConnectError as error:
            raise _connect_error(what, self.base_url, error) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise ConfigError(f"{what}: the server address is not usable ({error}).") from None
        except httpx.TransportError as error:
            raise NetworkError(f"{what}: the connection broke ({type(error).__name__}).") from None
        log.debug("%s %s -> %s", method, what, response.status_code)
        return self._interpret(response, body, what, any_body=any_body)

    def _read_capped(self, response: httpx.Response, what: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise ServerDownError(f"{what}: the server's answer is too large ({declared} bytes).")
        parts: list[bytes] = []
        size = 0
        chunks: Iterator[bytes] = response.iter_bytes()
        for part in chunks:
            size += len(part)
            if size > self._max_body:
                raise ServerDownError(
                    f"{what}: the server's answer is too large (over {self._max_body} bytes)."
                )
            parts.append(part)
        return b"".join(parts)

    def _interpret(
        self, response: httpx.Response, body: bytes, what: str, *, any_body: bool = False
    ) -> Any:
        status = response.status_code
        content_type = response.headers.get("content-type", "")
        if 200 <= status < 300:
            if _looks_like_html(content_type, body):
                raise ServerDownError(
                    f"{what}: the server answered with a web page, not the Heidi API "
                    "(check the server address; a proxy login page?)."
                )
            if not body.strip():
                return {}
            try:
                return json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                if any_body:
                    return None
                raise ServerDownError(
                    f"{what}: the server's answer is not valid JSON (truncated or garbled)."
                ) from None
        msg, kind = parse_error_body(body)
        said = f": {msg}" if msg else ""
        if msg is None and _looks_like_html(content_type, body):
            said = " (a web page, not the Heidi API: check the server address or proxy)"
        info: dict[str, Any] = {"status": status, "server_msg": msg, "server_type": kind}
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status in (401, 403):
            raise AuthError(f"{what}: access refused ({status}){said}", **info)
        if status == 429:
            raise RateLimitedError(
                f"{what}: too many requests (429){said}", retry_after=retry_after, **info
            )
        if status in RETRYABLE_STATUSES or status >= 500:
            raise ServerDownError(
                f"{what}: the server is not available ({status}){said}",
                retry_after=retry_after,
                **info,
            )
        if 300 <= status < 400:
            where = response.headers.get("location", "")
            raise RejectedError(
                f"{what}: the server redirected ({status}) to {where!r}; check the server address.",
                **info,
            )
        if 400 <= status < 500:
            raise RejectedError(f"{what}: refused by the server ({status}){said}", **info)
        raise ServerDownError(f"{what}: unexpected answer ({status}).", **info)


def _connect_error(what: str, base_url: str, error: httpx.ConnectError) -> HeidiError:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TLSError(
                f"{what}: the server's certificate is not trusted ({cause.verify_message}). "
                "If the practice network inspects TLS, set its CA bundle in the settings."
            )
        if isinstance(cause, ssl.SSLError):
            return TLSError(f"{what}: the secure connection failed ({cause.reason}).")
        cause = cause.__cause__ or cause.__context__
    host = urlsplit(base_url).netloc
    return NetworkError(f"{what}: cannot connect to {host} (network down or server not running).")
