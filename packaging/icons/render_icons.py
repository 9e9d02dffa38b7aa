"""Renders the app icon's PNG (256 px: Linux desktop, .deb) and ICO (Windows) from its SVG.

    python packaging/icons/render_icons.py [SVG] OUT_DIR

The one source of the icon is the SVG the desktop app shows
(`ui/resources/app-icon.svg`); the build renders the rest from it, so the
installers' icons can never drift from the window's. QtSvg, which the app
already depends on, does the drawing: the build machine needs no image tool.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SVG = ROOT / "ui" / "resources" / "app-icon.svg"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int) -> QImage:
    """The SVG drawn on a transparent square of `size` pixels."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"invalid or missing SVG: {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(svg: Path, size: int) -> bytes:
    """The icon at `size` pixels, PNG-encoded."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 6.12 takes the format as str at run time; its stubs say bytes.
    if not render(svg, size).save(buffer, "PNG"):  # type: ignore[call-overload]
        raise SystemExit(f"could not encode {size}px PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(svg: Path, sizes: tuple[int, ...]) -> bytes:
    """A multi-size .ico with PNG-compressed entries (Windows Vista and later).

    Qt's ICO writer stores a single bitmap; Explorer and the Start menu pick the
    size they need from several, so the entries are assembled here.
    """
    images = [png_bytes(svg, size) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, image in zip(sizes, images, strict=True):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return header + entries + b"".join(images)


def write_icons(svg: Path, out_dir: Path) -> list[Path]:
    """Write ambient-recorder.{svg,png,ico} into `out_dir`; returns their paths."""
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        out_dir / "ambient-recorder.svg": svg.read_bytes(),
        out_dir / "ambient-recorder.png": png_bytes(svg, 256),
        out_dir / "ambient-recorder.ico": ico_bytes(svg, ICO_SIZES),
    }
    for path, data in outputs.items():
        path.write_bytes(data)
    return list(outputs)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    svg = Path(argv[0]) if len(argv) == 2 else DEFAULT_SVG
    for path in write_icons(svg, Path(argv[-1])):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
