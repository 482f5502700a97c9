"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed over it.

A crash mid-write leaves the old file intact and no stray temporary behind (on a clean
exception). Only regular files are written: a device, a named pipe or a socket at the target is
refused and left untouched, since renaming over it would replace it with a file. Paths are
checked first and every refusal says, in words, which path and why (a folder, a missing
folder, a loop of symbolic links, a name too long, …). Imports only the shape vocabulary (for
its errors).
"""

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from .shapes import ArgumentError, PathError

__all__ = ["as_path", "check_writable", "open_regular", "shown", "write_atomically"]

_NAME_MAX = 255  # bytes per name on Linux, macOS and Windows file systems, if none says
_SHOWN = 100  # characters of a path a message shows before cutting it short


def as_path(path: object, verb: str) -> Path:
    """``path`` (a str or an ``os.PathLike`` of one) as a Path, for ``verb`` ("read", "write").

    Raises:
        ArgumentError: ``path`` is of another type (None, a number, bytes), empty, or holds a
            NUL character, which no file name can; the message names it and what to give.
    """
    text: object = path
    if isinstance(path, os.PathLike):
        try:
            text = os.fspath(path)
        except TypeError:  # a PathLike whose __fspath__ returns neither str nor bytes
            text = None
    if isinstance(text, bytes):
        raise ArgumentError(
            f"cannot {verb} {shown(path)}: give the path as a str or a pathlib.Path, not bytes "
            "(os.fsdecode(path) turns bytes into one)"
        )
    if not isinstance(text, str):
        raise ArgumentError(
            f"cannot {verb} {shown(path)}: the path must be a str or a pathlib.Path, "
            f"not {type(path).__name__}"
        )
    if not text:
        raise ArgumentError(f"cannot {verb} '': the path is empty; give a file name")
    if "\0" in text:
        raise ArgumentError(
            f"cannot {verb} {text[:_SHOWN]!r}: the path holds a NUL character (\\0), which no "
            "file name can hold"
        )
    try:
        os.fsencode(text)
    except UnicodeError:  # a lone surrogate, which no file name in this encoding can hold
        raise ArgumentError(
            f"cannot {verb} {text[:_SHOWN]!r}: the path holds characters that no file name "
            f"can hold in this system's encoding ({sys.getfilesystemencoding()})"
        ) from None
    return Path(text)


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
        ArgumentError: ``path`` is not a path (see `as_path`).
        PathError: with a message that says which path and what to do: before anything is
            written (a folder, a device, a named pipe or a socket at ``path``, a missing or
            unwritable folder, a name too long), or when writing fails (a full disk); the
            target is then left as it was.
    """
    given = as_path(path, "write")
    target = _writable(given)
    _remove_stale(target)
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=_prefix(target), suffix=".tmp", dir=target.parent
        )
    except OSError as err:
        raise _refused(given, target, err) from None
    try:
        # mkstemp makes the file private (0600); the file gets the mode a plain open would.
        os.chmod(temporary, _file_mode(target))
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            verify(Path(temporary))
        # Checked again: a device or pipe put there while we wrote is not replaced either.
        _refuse_special(given, target, follow=False)
        os.replace(temporary, target)
    except BaseException as err:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, PathError):
            raise PathError(
                f"cannot write {shown(given)}: {_strerror(err)}; {shown(given)} was left as it was"
            ) from None
        raise
    _fsync_directory(target.parent)
    return given


def check_writable(path: str | os.PathLike[str]) -> None:
    """Prove that ``path`` can be written, for checking an output path before long work.

    Makes the checks `write_atomically` makes first, then creates and removes a file in the
    target's folder, named like `write_atomically`'s temporary files. Writes nothing at
    ``path`` itself.

    Raises:
        ArgumentError: ``path`` is not a path (see `as_path`).
        PathError: naming ``path``: the error `write_atomically` would raise before writing,
            or that the folder refuses new files and why.
    """
    given = as_path(path, "write")
    target = _writable(given)
    # Permissions do not tell: root passes os.access for /proc, and a read-only mount, a full
    # disk or a quota refuse a file that the mode bits allow. Only creating one tells. The
    # name is the one _remove_stale clears, should this process die before the unlink.
    try:
        descriptor, probe = tempfile.mkstemp(
            prefix=_prefix(target), suffix=".tmp", dir=target.parent
        )
    except OSError as err:
        raise _refused(given, target, err) from None
    os.close(descriptor)
    Path(probe).unlink(missing_ok=True)


def open_regular(path: Path, what: str, fail: Callable[[str], Exception]) -> BinaryIO:
    """``path`` opened for reading in binary, if it is a regular file (or a link to one).

    Anything else is refused before it is opened (a FIFO would block, a device may act on
    being opened): ``fail(reason)`` is raised, where the reason says what ``path`` is instead
    of ``what`` ("a model file"), or why it cannot be read, e.g. "it is a character device,
    not a model file", "no such file", "permission denied".
    """
    try:
        kind = _kind(os.stat(path).st_mode)
    except OSError as err:
        raise fail(_read_problem(path, err)) from None
    if kind is not None:
        raise fail(f"it is {kind}, not {what}")
    try:
        # O_NONBLOCK: should a pipe replace the file after the stat, opening does not hang.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise fail(_read_problem(path, err)) from None
    try:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise fail(f"it is {kind}, not {what}")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _kind(mode: int) -> str | None:
    """What a file of ``mode`` is, in words, unless it is a regular file (None)."""
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
    ]
    if stat.S_ISREG(mode):
        return None
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def shown(value: object) -> str:
    """``value`` for a message: a path as written, anything else as its repr; cut short in
    the middle if long (a hostile name may be thousands of characters)."""
    text = str(value) if isinstance(value, str | Path) else repr(value)
    return text if len(text) <= 2 * _SHOWN else f"{text[:_SHOWN]}…{text[-_SHOWN // 2 :]}"


def _strerror(err: OSError) -> str:
    """An OSError's reason in words, lower case: "no space left on device"."""
    reason = err.strerror or str(err) or type(err).__name__
    return reason[:1].lower() + reason[1:]


def _name_max(path: Path) -> int:
    """The most bytes a name may have in ``path``'s folder (or its nearest existing one)."""
    for folder in [path.parent, *path.parent.parents]:
        try:
            return os.pathconf(folder, "PC_NAME_MAX")
        except (OSError, ValueError, AttributeError):
            continue
    return _NAME_MAX


def _too_long(path: Path) -> str:
    """Which name of ``path`` is too long for the file system, in words."""
    limit = _name_max(path)
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            return (
                f"the name {part[:40]}… is longer than the file system allows "
                f"({limit} bytes); give a shorter name"
            )
    return (
        f"the path is longer than the system allows ({len(os.fsencode(str(path)))} bytes); "
        "give a shorter one"
    )


def _not_a_folder(path: Path) -> str:
    """The reason for ENOTDIR: which component of ``path`` is a file, not a folder."""
    for folder in reversed(path.parents):
        try:
            if not stat.S_ISDIR(os.stat(folder).st_mode):
                return f"{folder} is a file, not a folder"
        except OSError:
            break
    return f"a folder in {path} is a file"


def _problem(path: Path, err: OSError) -> str | None:
    """The reason ``err`` (from a stat or open of ``path``) gives, for errors every caller
    words alike; None for those each words itself (a missing file, no permission)."""
    if err.errno == errno.ELOOP:
        return "its path goes through a loop of symbolic links"
    if err.errno == errno.ENAMETOOLONG:
        return _too_long(path)
    if err.errno == errno.ENOTDIR:
        return _not_a_folder(path)
    return None


def _read_problem(path: Path, err: OSError) -> str:
    """Why ``path`` cannot be read, from ``err``, in words."""
    known = _problem(path, err)
    if known is not None:
        return known
    if err.errno == errno.ENOENT:
        try:
            if path.is_symlink():
                return f"it is a symbolic link to {os.readlink(path)}, which does not exist"
        except OSError:
            pass
        return "no such file"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: this user may not read it"
    return f"cannot read it ({_strerror(err)})"


def _refuse_special(given: Path, target: Path, *, follow: bool) -> None:
    """Refuse ``target`` (written for ``given``) if it exists and is not a regular file:
    writing would replace a device, a pipe or a socket with a file, or fail on a folder."""
    try:
        info = os.stat(target) if follow else os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as err:
        raise PathError(
            f"cannot write {shown(given)}: {_problem(given, err) or _strerror(err)}"
        ) from None
    kind = None if stat.S_ISLNK(info.st_mode) else _kind(info.st_mode)
    if kind == "a folder":
        raise PathError(f"cannot write {shown(given)}: it is a folder; give a file name in it")
    if kind is not None:
        raise PathError(
            f"cannot write {shown(given)}: it is {kind}, not a regular file, and is left "
            "untouched; give the name of a file to write"
        )


def _refused(given: Path, target: Path, err: OSError) -> PathError:
    """The error for a folder that refused a new file (read-only, full, over quota, …)."""
    return PathError(
        f"cannot write {shown(given)}: the folder {target.parent} refuses new files "
        f"({_strerror(err)})"
    )


def _writable(path: Path) -> Path:
    """The file to write for ``path`` (a link's target), or a clear error why it cannot be."""
    _refuse_special(path, path, follow=True)
    target = path
    if path.is_symlink():  # written through: the link stays, the file it names is replaced
        target = Path(os.path.realpath(path))
    folder = target.parent
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        raise PathError(
            f"cannot write {shown(path)}: the folder {folder} does not exist; create it first"
        ) from None
    except OSError as err:
        reason = _problem(folder, err) or f"its folder cannot be read ({_strerror(err)})"
        raise PathError(f"cannot write {shown(path)}: {reason}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise PathError(f"cannot write {shown(path)}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PathError(f"cannot write {shown(path)}: the folder {folder} is not writable")
    if len(os.fsencode(target.name)) > _name_max(target):
        raise PathError(f"cannot write {shown(path)}: {_too_long(target)}")
    return target


def _stem(target: Path) -> str:
    """``target``'s name as its temporary files start (``.<stem>.<pid>.<random>.tmp``): cut
    short so that the whole temporary name fits the file system."""
    # Room for the dots, the pid (at most 7 digits on Linux, 10 anywhere), mkstemp's 8 random
    # characters and ".tmp".
    room = _name_max(target) - len("...") - 10 - 8 - len(".tmp")
    name = target.name
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return name


def _prefix(target: Path) -> str:
    """The start of the names of this process's temporary files for ``target``."""
    return f".{_stem(target)}.{os.getpid()}."


def _remove_stale(target: Path) -> None:
    """Remove ``.<name>.<pid>.*.tmp`` files in ``target``'s folder whose writer is gone."""
    prefix = f".{_stem(target)}."
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
    except (OverflowError, OSError):  # no process can have such a number
        return False
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
