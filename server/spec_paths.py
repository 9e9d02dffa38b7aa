"""Operations of Heidi's published spec (heidi_openapi.yml) that this server does not do.

Each answers 501 in Heidi's error shape. A test checks this list against the spec copy,
so the list and the spec cannot drift apart.
"""

from __future__ import annotations

UNIMPLEMENTED: tuple[tuple[str, str], ...] = (
    ("GET", "/templates/document-templates"),
    ("POST", "/patient-profiles"),
    ("GET", "/patient-profiles"),
    ("GET", "/patient-profiles/{patient_profile_id}"),
    ("PATCH", "/patient-profiles/{patient_profile_id}"),
    ("POST", "/patient-profiles:batch-delete"),
    ("POST", "/patient-profiles/{patient_profile_id}/sessions"),
    ("GET", "/sessions/linked-user"),
    ("POST", "/sessions/{session_id}/context-documents"),
    ("GET", "/sessions/{session_id}/context-documents"),
    ("DELETE", "/sessions/{session_id}/context-documents"),
    ("POST", "/sessions/{session_id}/consult-note"),
    ("POST", "/sessions/{session_id}/client-customised-template/response"),
    ("POST", "/sessions/{session_id}/documents"),
    ("GET", "/sessions/{session_id}/documents"),
    ("GET", "/sessions/{session_id}/clinical-codes"),
    ("POST", "/sessions/{session_id}/ask-ai"),
)

IMPLEMENTED: tuple[tuple[str, str], ...] = (
    ("GET", "/jwt"),
    ("POST", "/sessions"),
    ("GET", "/sessions/{session_id}"),
    ("PATCH", "/sessions/{session_id}"),
    ("POST", "/sessions/{session_id}/upload-audio"),
    ("GET", "/sessions/{session_id}/transcript"),
    ("GET", "/sessions/{session_id}/transcript/live"),
)
