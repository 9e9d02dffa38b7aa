"""A local Heidi-compatible transcription server (FastAPI + SQLite + faster-whisper).

It speaks the same API as Heidi Health's transcription endpoints, so the recorder
runs end to end with no Heidi account and tests talk to a real HTTP server.
It shares no code with the client package (`recorder`).
"""

API_PREFIX = "/api/v2/ml-scribe/open-api"
