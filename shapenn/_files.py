"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed over it.

A crash mid-write leaves the old file intact and no stray temporary behind (on a clean
exception). Imports only the shape vocabulary (for its errors).
"""

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from .shapes import PathError

__all__ = ["check_writable", "write_atomically"]


def write_atomically(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], None],
    *,
    verify: Callable[[Path], Any] | None = None,
) -> Path:
    """Call ``write(handle)`` on a temporary file, then atomically replace ``path`` with it.

    With ``verify``, the temporary file is first read back with ``verify(path)``; if that
    raises, the target is left as it was and the error propagates. A symbolic link is written
    through: the file it points to is replaced, and the link stays. Temporary files left by
    writers that were killed (their process is gone) are removed on the way.

    Raises:
        PathError: with a message that says which path and what to do, before anything is
            written (a folder, a missing folder, a folder that is not writable).
    """
    target = _writable(Path(path))
    _remove_stale(target)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
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
    return Path(path)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Prove that ``path`` can be written, for checking an output path before long work.

    Makes the checks `write_atomically` makes first, then creates and removes a file in the
    target's folder, named like `write_atomically`'s temporary files.

    Raises:
        PathError: naming ``path``: the error `write_atomically` would raise before writing,
            or that the folder refuses new files and why.
    """
    target = _writable(Path(path))
    # Permissions do not tell: root passes os.access for /proc, and a read-only mount, a full
    # disk or a quota refuse a file that the mode bits allow. Only creating one tells. The
    # name is the one _remove_stale clears, should this process die before the unlink.
    try:
        descriptor, probe = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise PathError(
            f"cannot write {path}: the folder {target.parent} refuses new files ({reason})"
        ) from None
    os.close(descriptor)
    Path(probe).unlink(missing_ok=True)


def _writable(path: Path) -> Path:
    """The file to write for ``path`` (a link's target), or a clear error why it cannot be."""
    target = path.resolve() if path.is_symlink() else path
    if target.is_dir():
        raise PathError(f"cannot write {path}: it is a folder; give a file name in it")
    folder = target.parent
    if not folder.is_dir():
        raise PathError(f"cannot write {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PathError(f"cannot write {path}: the folder {folder} is not writable")
    return target


def _remove_stale(target: Path) -> None:
    """Remove ``.<name>.<pid>.*.tmp`` files in ``target``'s folder whose writer is gone."""
    prefix = f".{target.name}."
    try:
        leftovers = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for leftover in leftovers:
        pid = leftover.name[len(prefix) :].split(".", 1)[0]
        if leftover.suffix == ".tmp" and pid.isdigit() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    return True


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
