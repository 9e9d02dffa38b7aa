"""The final 'could not transcribe' error names chunks so the app's list (from 1) and the CLI's
lines and the API (index, from 0) both find them; it said "chunk(s) [0]" for the app's chunk 1."""

from __future__ import annotations

from recorder.transcript import failed_chunks_text


def test_one_chunk_is_named_by_its_number_and_its_index() -> None:
    assert failed_chunks_text([0]) == "chunk 1 (index 0)"


def test_several_chunks_are_listed_in_order_both_ways() -> None:
    assert failed_chunks_text([1, 3]) == "chunks 2, 4 (indexes 1, 3)"
