"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed over it.

A crash mid-write leaves the old file intact and no stray temporary behind (on a clean
exception). Imports nothing of shapenn.
"""

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["write_atomically"]


def write_atomically(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], None],
    *,
    verify: Callable[[Path], Any] | None = None,
) -> Path:
    """Call ``write(handle)`` on a temporary file, then atomically replace ``path`` with it.

    With ``verify``, the temporary file is first read back with ``verify(path)``; if that
    raises, the target is left as it was and the error propagates.
    """
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        # mkstemp makes the file private (0600); the file gets the mode a plain open would.
        os.chmod(temporary, _file_mode(target))
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            verify(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return target


def _file_mode(target: Path) -> int:
    """The mode ``target`` has now, or the one a new file gets under the process's umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        pass
    umask = 0o022
    try:  # Linux shows the umask without changing it; os.umask would, process-wide
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o666 & ~umask


def _fsync_directory(folder: Path) -> None:
    # Make the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
