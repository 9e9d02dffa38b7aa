"""The installer sources that cannot be built on this Linux machine, checked for what matters.

Inno Setup (Windows) and codesign/notarytool (macOS) are not available here;
these tests pin the settings that practices rely on, so an edit that breaks
them fails in CI instead of on a practice PC.
"""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess

import pytest

from tests.packaging.support import REPO_ROOT

PACKAGING = REPO_ROOT / "packaging"
ISS = PACKAGING / "windows" / "ambient-recorder.iss"


def iss_section(name: str) -> str:
    text = ISS.read_text(encoding="utf-8")
    match = re.search(rf"^\[{name}\]\n(.*?)(?=^\[\w+\]\n|\Z)", text, re.M | re.S)
    assert match, f"[{name}] missing"
    return match.group(1)


def test_windows_installer_allows_per_user_and_per_machine() -> None:
    setup = dict(
        line.split("=", 1)
        for line in iss_section("Setup").splitlines()
        if "=" in line and not line.startswith(";")
    )
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["PrivilegesRequiredOverridesAllowed"] == "dialog commandline"
    assert setup["DefaultDirName"].startswith("{autopf}")  # Program Files or %LOCALAPPDATA%
    assert setup["AppId"].startswith("{{")  # fixed id: upgrades find the installed copy
    assert "{autoprograms}" in iss_section("Icons")  # Start-menu entry, per user or all users


def test_windows_uninstall_never_deletes_recordings_silently() -> None:
    code = iss_section("Code")
    body = code[code.index("procedure CurUninstallStepChanged") :]
    silent = body.index("if UninstallSilent() then")
    delete = body.index("DelTree(")
    # the silent branch exits (keeps) before any deletion, and deletion needs two answers
    assert body.index("exit;", silent) < delete
    assert body.count("MsgBox(") >= 2
    assert "MB_DEFBUTTON1" in body and "MB_DEFBUTTON2" in body  # both default to keeping
    assert "AMBIENT_RECORDER_DATA_DIR" in code
    assert "{localappdata}\\{#DataFolderName}" in code
    # Pascal blocks balance (no compiler here): every begin/try/case has its end
    words = re.findall(r"\b(begin|try|case|end)\b", re.sub(r"'[^']*'|\{[^}]*\}", "", code))
    opened = sum(1 for w in words if w != "end")
    assert opened == words.count("end")


def test_macos_bundle_files_ask_for_the_microphone() -> None:
    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert len(info["NSMicrophoneUsageDescription"]) > 40
    assert info["CFBundleIdentifier"] == "health.ambient.recorder"
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.device.audio-input"] is True
    readme = (PACKAGING / "macos" / "README.md").read_text(encoding="utf-8")
    for step in ("--options runtime", "--entitlements", "notarytool submit", "stapler staple"):
        assert step in readme


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_linux_desktop_entry_is_valid() -> None:
    entry = PACKAGING / "linux" / "ambient-recorder.desktop"
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    assert fields["Exec"] == "ambient-recorder"  # the /usr/bin symlink the .deb installs
    assert fields["Icon"] == "ambient-recorder"  # the hicolor icon the .deb installs
