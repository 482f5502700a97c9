"""A bounded fuzz of the paths sn.save and sn.load take: whatever is passed (None, numbers,
bytes, names with NUL, names too long, named pipes, sockets, loops of links, folders,
devices), either the call succeeds or one of shapenn's documented errors comes out — and no
special file is ever replaced.

Devices are only ever read (sn.load) or checked (check_writable, which writes nothing at the
path): these tests run as root in CI, where a bug could otherwise replace /dev/null.

Raise SHAPENN_FUZZ_EXAMPLES for a longer campaign (the default keeps the suite fast).
"""

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shapenn as sn
from shapenn._files import check_writable

EXAMPLES = int(os.environ.get("SHAPENN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DOCUMENTED = (sn.ArgumentError, sn.PathError, sn.ModelFileError)
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]


def model() -> sn.Model:
    return sn.Model(
        [sn.Dense(2, 4, seed=0), sn.ReLU(), sn.Dense(4, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
    )


class WeirdPath:
    """An os.PathLike whose __fspath__ returns what it was given (or raises it)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __fspath__(self) -> Any:
        if isinstance(value := self.value, BaseException):
            raise value
        return value

    def __repr__(self) -> str:
        return f"WeirdPath({self.value!r})"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder of special files: a pipe, a socket, a loop of links, a dangling link, a link
    to the pipe, a sub-folder, a file, and a saved model."""
    here = tmp_path_factory.mktemp("paths")
    os.mkfifo(here / "pipe")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(here / "sock"))
    (here / "loop-a").symlink_to(here / "loop-b")
    (here / "loop-b").symlink_to(here / "loop-a")
    (here / "dangling").symlink_to(here / "gone")
    (here / "to-pipe").symlink_to(here / "pipe")
    (here / "dir").mkdir()
    (here / "file").write_bytes(b"not a model")
    sn.save(model(), here / "good.npz")
    try:
        yield here
    finally:
        server.close()


SPECIAL = ["pipe", "sock", "loop-a", "loop-a/m.npz", "dangling", "to-pipe", "dir", "dir/"]
SPECIAL += ["file", "file/m.npz", "good.npz", ".", "..", "missing/m.npz"]


def _safe_name(text: str) -> str:
    """``text`` as one name inside the folder: no separator, never ``.`` or ``..``."""
    name = text.replace("/", "_")
    return name if name not in ("", ".", "..") else f"n{name}"


@st.composite
def path_likes(draw: st.DrawFn, folder: Path) -> Any:
    """Anything a caller might pass as a path, inside ``folder`` when it is one."""
    kind = draw(st.sampled_from(["other", "name", "long", "nul", "special", "weird", "bytes-path"]))
    if kind == "other":
        return draw(
            st.none()
            | st.integers()
            | st.floats()
            | st.binary(max_size=20)
            | st.booleans()
            | st.lists(st.text(max_size=3), max_size=2)
            | st.just(b"")
            | st.just("")
        )
    if kind == "name":
        name = _safe_name(
            draw(
                st.text(max_size=30)
                | st.text(st.characters(codec=None, categories=["Cs"]), min_size=1, max_size=3)
            )
        )
    elif kind == "long":
        name = draw(st.sampled_from(["m", "é", "模"])) * draw(st.integers(60, 700))
    elif kind == "nul":
        name = _safe_name(draw(st.text(max_size=10))) + "\0" + draw(st.text(max_size=5))
    elif kind == "special":
        name = draw(st.sampled_from(SPECIAL))
    elif kind == "weird":
        return WeirdPath(
            draw(st.sampled_from([3, None, b"x.npz", str(folder / "w.npz"), TypeError("no")]))
        )
    else:
        return os.fsencode(str(folder / _safe_name(draw(st.text(max_size=10)))))
    full = folder / name
    return full if draw(st.booleans()) else str(full)


def _specials_untouched(folder: Path) -> None:
    assert stat.S_ISFIFO(os.lstat(folder / "pipe").st_mode)
    assert stat.S_ISSOCK(os.lstat(folder / "sock").st_mode)
    assert (folder / "to-pipe").is_symlink() and (folder / "loop-a").is_symlink()
    assert (folder / "dir").is_dir() and stat.S_ISREG(os.lstat(folder / "file").st_mode)
    for device in DEVICES:
        assert stat.S_ISCHR(os.stat(device).st_mode)
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@FUZZ
@given(st.data())
def test_load_takes_any_path_and_raises_only_documented_errors(
    folder: Path, data: st.DataObject
) -> None:
    path = data.draw(path_likes(folder) | st.sampled_from(DEVICES))
    try:
        loaded = sn.load(path)
    except DOCUMENTED:
        pass
    else:  # only the saved model can load
        expected = model().predict(np.ones((2, 2), np.float32))
        np.testing.assert_array_equal(loaded.predict(np.ones((2, 2), np.float32)), expected)
    _specials_untouched(folder)


@FUZZ
@given(st.data())
def test_save_takes_any_path_and_raises_only_documented_errors(
    folder: Path, data: st.DataObject
) -> None:
    path = data.draw(path_likes(folder))
    try:
        written = sn.save(model(), path)
    except DOCUMENTED:
        pass
    else:
        info = os.stat(written)
        assert stat.S_ISREG(info.st_mode)
        assert sn.load(written).layers[0].weights.shape == (2, 4)
    _specials_untouched(folder)


@FUZZ
@given(st.data())
def test_checking_an_output_path_raises_only_documented_errors(
    folder: Path, data: st.DataObject
) -> None:
    path = data.draw(path_likes(folder) | st.sampled_from(DEVICES))
    try:
        check_writable(path)
    except DOCUMENTED:
        pass
    else:  # what may be written is a regular file, or nothing yet (a dangling link included)
        assert not os.path.exists(path) or stat.S_ISREG(os.stat(path).st_mode)
    _specials_untouched(folder)


@pytest.mark.parametrize("device", DEVICES)
def test_devices_are_refused_by_name(device: str) -> None:
    with pytest.raises(sn.ModelFileError, match="it is a character device, not a model file"):
        sn.load(device)
    with pytest.raises(sn.PathError, match="it is a character device, not a regular file"):
        check_writable(device)
