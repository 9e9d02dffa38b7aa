"""`ambient-recorder record` from a microphone that is lost mid-consult prints an honest transcript.

Real parts: the CLI in a subprocess recording from a PulseAudio daemon of the test's own (killed =
the headset pulled out, started again = plugged back in), the real local server transcribing.
The final transcript the command prints must carry the gap's marker between what was said
before the loss and what was said after it.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from recorder import exit_codes
from tests.cli_helpers import Lines, cli_command, cli_env
from tests.fixtures.local_server import LocalServerProcess
from tests.fixtures.vmic import PulseDaemon, make_known_signal
from tests.integration.heidi_helpers import EMAIL, REPO, USER_ID, words

pytestmark = pytest.mark.vmic

BEFORE = "Good morning. I have had a bad cough for three days."
AFTER = "Please drink plenty of water and rest at home."
MARKER = re.compile(r"^\[no audio for \d+ s: microphone lost\]$")


def test_record_prints_the_gap_between_what_was_said_before_and_after(
    private_pulse: PulseDaemon, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    make_known_signal(tmp_path / "before.wav", BEFORE)
    make_known_signal(tmp_path / "after.wav", AFTER)
    env = cli_env(
        tmp_path / "data",
        HEIDI_API_KEY=local_server.api_key,
        HEIDI_EMAIL=EMAIL,
        HEIDI_USER_ID=USER_ID,
    )
    args = ["record", "--device", "pulse", "--consent", "--server", local_server.base_url]
    proc = subprocess.Popen(
        cli_command(*args),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        # Both streams are read on threads to the end: a second reader of the same pipe
        # (communicate) would take lines from them and close a pipe one of them still reads.
        err, printed = Lines(proc.stderr), Lines(proc.stdout)
        err.wait_for("started", 60)
        time.sleep(0.5)
        private_pulse.play(tmp_path / "before.wav").wait(30)
        time.sleep(1.0)  # the last words reach the recorder

        private_pulse.kill()  # the headset is pulled out
        err.wait_for("input_lost", 30)
        time.sleep(1.5)
        private_pulse.start()  # ... and plugged back in
        private_pulse.keep_warm()
        err.wait_for("input_back", 60)
        time.sleep(0.5)
        private_pulse.play(tmp_path / "after.wav").wait(30)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)  # Stop: the last chunk is flushed and uploaded
        proc.wait(240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, stderr = printed.rest(), err.rest()
    assert proc.returncode == exit_codes.OK, out + stderr
    transcript = out.split("--- transcript ---\n", 1)[1].split("\n---\n", 1)[0]
    paragraphs = transcript.split("\n\n")
    markers = [i for i, p in enumerate(paragraphs) if MARKER.match(p)]
    assert len(markers) == 1, transcript
    before = set(words(" ".join(paragraphs[: markers[0]])))
    after = set(words(" ".join(paragraphs[markers[0] + 1 :])))
    assert {"morning", "cough"} & before and not {"water", "home"} & before, transcript
    assert {"water", "home"} & after and not {"morning", "cough"} & after, transcript
