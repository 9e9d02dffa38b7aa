"""Write a whole file or nothing: readers never see a half-written export or settings file.

The data goes to a temporary file in the same folder, is fsynced, then renamed over the target,
so a crash, a full disk or a reader polling for the file sees either the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Replace `path` with `data` in one rename; `mode` (e.g. 0o600) is set before it appears.

    Raises OSError (the temporary file is removed) if the folder is missing or the disk is full.
    """
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
