"""Typed client of the Heidi Health API: auth, sessions, segment uploads, transcripts.

Import the submodule you need (`recorder.heidi.client`, `.errors`, `.models`, …). The package
re-exports nothing on purpose: importing `recorder.heidi.errors` (which settings and the core
need at start) must not pull in httpx, tenacity and the HTTP client.
"""
