"""Device listing and choice, with the virtual mic and with no audio device at all."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from recorder import exit_codes
from recorder.audio import Capture, MicrophoneSpec, list_input_devices, resolve_input_device
from recorder.audio.devices import refresh_devices
from recorder.commands import devices as devices_cmd
from recorder.errors import AudioInputError, NoInputDeviceError
from tests.fixtures.vmic import PulseDaemon

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_audio_env(tmp_path: Path) -> dict[str, str]:
    """An environment where PortAudio finds no device: no sound server, ALSA without cards."""
    pulse = tmp_path / "no-pulse"
    pulse.mkdir()
    alsa = tmp_path / "asound.conf"
    # Not empty: an empty ALSA config makes PortAudio abort() the process at initialisation.
    alsa.write_text("pcm.nothing { type hw card 99 }\n")
    env = dict(os.environ)
    for key in ("PULSE_SERVER", "PULSE_SOURCE"):
        env.pop(key, None)
    env.update(PULSE_RUNTIME_PATH=str(pulse), ALSA_CONFIG_PATH=str(alsa), PYTHONPATH=str(REPO))
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_the_virtual_mic_is_listed_and_can_be_chosen_by_name_or_index(vmic: str) -> None:
    found = list_input_devices()
    names = [d.name for d in found]
    assert vmic in names
    assert sum(d.is_default for d in found) <= 1
    pulse = next(d for d in found if d.name == vmic)
    assert pulse.channels >= 1 and pulse.default_rate > 0
    assert resolve_input_device("PULSE") == pulse  # case-insensitive exact name
    assert resolve_input_device(str(pulse.index)) == pulse  # digits are an index
    assert resolve_input_device(pulse.index) == pulse
    assert resolve_input_device("puls") == pulse  # substring


def test_an_unknown_device_names_the_available_ones(vmic: str) -> None:
    with pytest.raises(NoInputDeviceError) as raised:
        Capture(MicrophoneSpec("no such microphone"))
    message = str(raised.value)
    assert "'no such microphone'" in message and vmic in message
    with pytest.raises(NoInputDeviceError, match="number 9999"):
        Capture(MicrophoneSpec(9999))


def test_a_device_that_refuses_the_settings_gives_a_clear_error(vmic: str) -> None:
    with pytest.raises(AudioInputError, match=f"'{vmic}' could not be opened") as raised:
        Capture(MicrophoneSpec(vmic, channels=512))  # PortAudio itself refuses
    assert "devices" in str(raised.value)  # tells the user where to look


def test_python_m_recorder_devices_lists_the_virtual_mic(vmic: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recorder", "devices"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == exit_codes.OK, done.stderr
    assert any(f": {vmic} (" in line for line in done.stdout.splitlines())


def test_devices_command_prints_one_line_per_input(
    vmic: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert devices_cmd.run(argparse.Namespace()) == exit_codes.OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list_input_devices())
    assert any(f": {vmic} (" in line and " ch, " in line and " Hz)" in line for line in lines)


def test_with_no_device_capture_raises_a_clear_error(no_audio_env: dict[str, str]) -> None:
    done = _python(
        """
        from recorder.audio import Capture, MicrophoneSpec, list_input_devices
        from recorder.errors import NoInputDeviceError
        print("devices:", len(list_input_devices()))
        for spec in (MicrophoneSpec(), MicrophoneSpec("USB")):
            try:
                Capture(spec)
            except NoInputDeviceError as error:
                print("NoInputDeviceError:", error)
        """,
        no_audio_env,
    )
    assert done.returncode == 0, done.stderr
    assert "devices: 0" in done.stdout
    assert done.stdout.count("NoInputDeviceError: No audio input device found") == 2
    assert "Available inputs: none" in done.stdout


def test_with_no_device_the_devices_command_says_so(no_audio_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recorder", "devices"],
        env=no_audio_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == exit_codes.AUDIO_INPUT
    assert "No audio input device found" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_importing_the_recorder_does_not_touch_portaudio(no_audio_env: dict[str, str]) -> None:
    done = _python(
        """
        import sys
        import recorder.audio, recorder.commands.devices
        print("sounddevice loaded:", "sounddevice" in sys.modules)
        """,
        no_audio_env,
    )
    assert done.returncode == 0, done.stderr
    assert "sounddevice loaded: False" in done.stdout


def test_a_microphone_plugged_in_later_is_found(
    tmp_path: Path, no_audio_env: dict[str, str]
) -> None:
    runtime = tempfile.mkdtemp(prefix="apulse-", dir="/tmp")
    env = {**no_audio_env, "PULSE_RUNTIME_PATH": runtime}
    env.pop("ALSA_CONFIG_PATH")  # the normal ALSA config: the `pulse` device appears with it
    script = textwrap.dedent(
        """
        import sys
        from recorder.audio import list_input_devices
        print([d.name for d in list_input_devices()], flush=True)
        sys.stdin.readline()
        print([d.name for d in list_input_devices()], flush=True)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    daemon = PulseDaemon(runtime)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "[]"  # nothing to record from yet
        daemon.start()  # the "microphone" is plugged in
        child.stdin.write("\n")
        child.stdin.flush()
        assert "'pulse'" in child.stdout.readline()
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        daemon.kill()
        shutil.rmtree(runtime, ignore_errors=True)


def test_devices_are_not_rescanned_while_a_capture_is_open(vmic: str) -> None:
    cap = Capture(MicrophoneSpec(vmic))
    try:
        assert refresh_devices() is False  # re-initialising PortAudio would kill the stream
        assert vmic in [d.name for d in list_input_devices()]
    finally:
        cap.stop()
    assert refresh_devices() is True
