"""The core (`recorder`) never imports Qt: every module imports with Qt made unimportable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib, json, pkgutil, sys

BLOCKED = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2", "shiboken2")
refused = []

class RefuseQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            refused.append(name)
            raise ImportError(f"Qt is not allowed in the core: {name}")
        return None

sys.meta_path.insert(0, RefuseQt())
import recorder

imported, failed = [], {}
for info in pkgutil.walk_packages(recorder.__path__, "recorder."):
    try:
        importlib.import_module(info.name)
        imported.append(info.name)
    except Exception as error:
        failed[info.name] = f"{type(error).__name__}: {error}"
loaded_qt = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({"imported": imported, "failed": failed, "refused": refused, "qt": loaded_qt}))
"""


def test_every_recorder_module_imports_without_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}, report["failed"]
    assert report["refused"] == [], f"the core tried to import Qt: {report['refused']}"
    assert report["qt"] == []
    assert "recorder.core" in report["imported"] and "recorder.session" in report["imported"]
    assert len(report["imported"]) > 10


def test_the_probe_does_catch_a_qt_import(tmp_path: Path) -> None:
    """The hook must really refuse Qt: a package that imports PySide6 is reported."""
    pkg = tmp_path / "recorder_probe_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import PySide6.QtCore\n")
    probe = PROBE.replace("import recorder\n", "import recorder_probe_pkg as recorder\n").replace(
        '"recorder."', '"recorder_probe_pkg."'
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["refused"] == ["PySide6"]
    assert "recorder_probe_pkg.bad" in report["failed"]
