"""What the UI needs from recorder.core.AmbientCore, as a Protocol (for typing only).

The UI depends on this narrow surface and nothing else of the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from recorder.events import ConnectionChanged
from recorder.settings import Settings
from recorder.states import SessionState


class CoreApi(Protocol):
    """The AmbientCore façade, as documented in recorder/core.py."""

    @property
    def settings(self) -> Settings: ...

    @property
    def state(self) -> SessionState: ...

    @property
    def connection(self) -> ConnectionChanged: ...

    def start(self) -> None: ...

    def apply_settings(self, settings: Settings, api_key: str | None = None) -> None: ...

    def list_devices(self) -> Sequence[Any]: ...

    def start_recording(self, source: Any, meta: Any) -> str: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...

    def retry_chunk(self, recording_id: str, index: int) -> None: ...

    def unfinished_recordings(self) -> Sequence[Any]: ...

    def resume_uploads(self, recording_id: str) -> None: ...

    def pending_uploads(self) -> int: ...

    def shutdown(self, wait_for_uploads_s: float = 0) -> None: ...
