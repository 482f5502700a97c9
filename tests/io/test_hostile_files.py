"""Hostile paths and files: refused with shapenn's errors, in its words, leaving files alone.

Everything here runs as root too (as CI's containers do), so nothing ever writes at a device:
the device refusal is checked with check_writable, which writes nothing at the path, and the
other special files (a named pipe, a socket) are made in the test's own folder.
"""

import errno
import hashlib
import io
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapenn as sn
from shapenn import cli
from shapenn._files import check_writable, write_atomically

SOURCE = str(Path(sn.__file__).parent.parent)  # the shapenn under test, for subprocesses


def model() -> sn.Model:
    return sn.Model(
        [sn.Dense(2, 6, seed=0), sn.ReLU(), sn.Dense(6, 3, seed=2), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.05, decay=1e-3),
        metric=sn.CategoricalAccuracy(),
    )


def test_the_shapenn_under_test_is_the_one_imported() -> None:
    assert Path(sn.__file__).parent == Path(SOURCE) / "shapenn"


# --- D1: special files are never replaced ----------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("this platform has no named pipes")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        yield path
    finally:
        server.close()


def _untouched(tmp_path: Path, *names: str) -> None:
    """Only ``names`` are in the folder: no temporary file or replacement was left."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_saving_over_a_named_pipe_is_refused_and_the_pipe_stays(tmp_path: Path, fifo: Path) -> None:
    with pytest.raises(sn.PathError, match=r"it is a named pipe \(FIFO\), not a regular file"):
        sn.save(model(), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    _untouched(tmp_path, "pipe")


def test_saving_over_a_socket_is_refused_and_the_socket_stays(
    tmp_path: Path, unix_socket: Path
) -> None:
    with pytest.raises(sn.PathError, match="it is a socket, not a regular file"):
        sn.save(model(), unix_socket)
    assert stat.S_ISSOCK(os.lstat(unix_socket).st_mode)
    _untouched(tmp_path, "sock")


def test_a_link_to_a_named_pipe_is_refused_and_both_stay(tmp_path: Path, fifo: Path) -> None:
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    with pytest.raises(sn.PathError, match=r"named pipe \(FIFO\)"):
        write_atomically(link, lambda handle: None)
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    _untouched(tmp_path, "pipe", "link.npz")


def test_a_device_is_refused_before_anything_is_written() -> None:
    # check_writable never writes at the path itself, so this is safe even as root.
    before = os.stat("/dev/null")
    with pytest.raises(sn.PathError, match="/dev/null: it is a character device"):
        check_writable("/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_train_refuses_a_named_pipe_as_its_output_before_training(
    tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["train", "--epochs", "1", "--quiet", "--output", str(fifo)]) == 1
    assert "named pipe (FIFO)" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- D1b: predict --output -------------------------------------------------------------------


@pytest.fixture
def predicting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a model and a CSV of rows, made the working folder."""
    sn.save(model(), tmp_path / "m.npz")
    (tmp_path / "rows.csv").write_text("0.1,0.2\n-0.5,0.3\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("output", "what"), [("m.npz", "the model"), ("rows.csv", "the input")])
def test_predict_refuses_to_write_over_its_inputs(
    predicting: Path, output: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p.name: p.read_bytes() for p in predicting.iterdir()}
    assert cli.main(["predict", "m.npz", "rows.csv", "--output", output]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"shapenn: error: --output {output} is {what}") and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in predicting.iterdir()} == before


def test_predict_refuses_an_input_named_through_a_link(
    predicting: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (predicting / "alias.npz").symlink_to(predicting / "m.npz")
    model_bytes = (predicting / "m.npz").read_bytes()
    assert cli.main(["predict", "alias.npz", "rows.csv", "--output", "m.npz"]) == 1
    assert "is the model" in capsys.readouterr().err
    assert (predicting / "m.npz").read_bytes() == model_bytes


def test_predictions_are_written_atomically(
    predicting: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["predict", "m.npz", "rows.csv", "--output", "out.csv"]) == 0
    before = (predicting / "out.csv").read_text()
    assert before.splitlines()[0] == "class,output_0,output_1,output_2"

    def full_disk(handle: Any, *args: Any, **kwargs: Any) -> None:
        handle.write("class,output_0\n1,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savetxt", full_disk)
    assert cli.main(["predict", "m.npz", "rows.csv", "--output", "out.csv"]) == 1
    assert (predicting / "out.csv").read_text() == before  # the old predictions, whole
    assert "no space left on device" in capsys.readouterr().err.lower()
    _untouched(predicting, "m.npz", "rows.csv", "out.csv")


def test_predict_refuses_a_named_pipe_as_its_output(predicting: Path) -> None:
    os.mkfifo(predicting / "pipe")
    # A subprocess with a time limit: writing into a pipe nobody reads would hang forever.
    try:
        result = subprocess.run(
            [sys.executable, "-m", "shapenn", "predict", "m.npz", "rows.csv", "--output", "pipe"],
            capture_output=True,
            text=True,
            cwd=predicting,
            env={**os.environ, "PYTHONPATH": SOURCE},
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("predict --output <a named pipe> hung writing into it")
    assert result.returncode == 1
    assert "named pipe (FIFO)" in result.stderr and "give - to write" in result.stderr


# --- D5: memory on hostile archives ----------------------------------------------------------


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """The header of a .npy file of ``shape``, magic string included."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    header = buffer.getvalue()
    assert header.startswith(b"\x93NUMPY\x01\x00")
    return header


def padded_deflate(prefix: bytes, zeros: int, padding: int) -> tuple[bytes, int, int]:
    """A deflate stream of ``prefix`` and ``zeros`` MiB of zeros, made in milliseconds (one
    flushed block repeated), then ``padding`` bytes after its end: (data, crc, size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream += block * zeros + compressor.flush()
    crc, chunk = zlib.crc32(prefix), b"\0" * (1 << 20)
    for _ in range(zeros):
        crc = zlib.crc32(chunk, crc)
    return stream + b"\0" * padding, crc, len(prefix) + (zeros << 20)


def raw_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip of (name, data as stored, method, crc, uncompressed size) members, by hand."""
    out, directory = io.BytesIO(), io.BytesIO()
    for name, data, method, crc, size in members:
        offset, encoded = out.tell(), name.encode()
        sizes = (crc, len(data), size, len(encoded))
        local = (0x04034B50, 20, 0, method, 0, 0, *sizes, 0)
        out.write(struct.pack("<IHHHHHIIIHH", *local) + encoded + data)
        central = (0x02014B50, 20, 20, 0, method, 0, 0, *sizes, 0, 0, 0, 0, 0, offset)
        directory.write(struct.pack("<IHHHHHHIIIHHHHHII", *central) + encoded)
    start, listing = out.tell(), directory.getvalue()
    count = len(members)
    end = (0x06054B50, 0, 0, count, count, len(listing), start, 0)
    return out.getvalue() + listing + struct.pack("<IHHHHIIH", *end)


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)


def peak_of_loading(path: Path) -> tuple[str, int]:
    """What ``sn.load(path)`` does in a fresh interpreter, and its peak memory in MiB."""
    script = textwrap.dedent(
        f"""
        import re, shapenn as sn
        try:
            sn.load({str(path)!r})
            print("loaded")
        except Exception as err:
            print(type(err).__name__, str(err).replace(chr(10), " "))
        status = open("/proc/self/status").read()
        print(int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) // 1024)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SOURCE},
        timeout=600,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout + result.stderr
    return lines[0], int(lines[1])


def test_a_padded_deflate_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    raw = sn.save(model(), tmp_path / "m.npz").read_bytes()
    # layers.0.weights becomes 1 GiB of zeros as far as its own .npy header and the archive's
    # sizes say; padding after the deflate stream makes the 100:1 ratio guard pass. The
    # architecture record (untouched, its checksum valid) still says (2, 6).
    count = 1 << 28
    data, crc, size = padded_deflate(_npy_header((count,)), zeros=1024, padding=11 << 20)
    members = [
        stored(name, content)
        for name, content in _members(raw).items()
        if name != "layers.0.weights.npy"
    ]
    members.append(("layers.0.weights.npy", data, zipfile.ZIP_DEFLATED, crc, size))
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(raw_zip(members))
    assert bomb.stat().st_size < 13 << 20
    outcome, peak = peak_of_loading(bomb)
    assert outcome.startswith("ModelFileError"), outcome
    assert "layers.0.weights" in outcome
    assert peak < 400, f"loading the 12 MB file took {peak} MiB"


def test_a_legitimate_load_takes_about_the_size_of_its_parameters(tmp_path: Path) -> None:
    big = sn.Model([sn.Dense(2048, 8192, seed=0), sn.Softmax()])  # 64 MiB of weights
    path = sn.save(big, tmp_path / "big.npz", include_optimizer=False)
    del big
    outcome, peak = peak_of_loading(path)
    assert outcome == "loaded"
    _, idle = peak_of_loading(tmp_path / "missing.npz")  # the interpreter, NumPy and shapenn
    assert peak - idle < 64 * 1.5, f"loading 64 MiB of parameters took {peak - idle} MiB"


# --- D13: re-signed records that make no sense -----------------------------------------------


def _npy(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _resigned(raw: bytes, edit: Any) -> bytes:
    """The file with its architecture record edited by ``edit`` and its checksum recomputed,
    as anyone can."""
    members = _members(raw)
    header = json.loads(np.lib.format.read_array(io.BytesIO(members["__shapenn__.npy"])).tobytes())
    edit(header)
    text = json.dumps(header).encode()
    members["__shapenn__.npy"] = _npy(np.frombuffer(text, np.uint8))
    members["__shapenn_sha256__.npy"] = _npy(
        np.frombuffer(hashlib.sha256(text).hexdigest().encode(), np.uint8)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(header: Any) -> None:
        for step in path[:-1]:
            header = header[step]
        header[path[-1]] = value

    return edit


def _conv_file(tmp_path: Path) -> bytes:
    conv = sn.Model(
        [sn.Conv2D(1, 2, 3, seed=0), sn.Tanh(), sn.Flatten(), sn.Dense(32, 3, seed=1)],
        input_shape=(1, 6, 6),
    )
    return sn.save(conv, tmp_path / "conv.npz").read_bytes()


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            _set(("layers", 1), {"type": "Regularized", "config": {}, "state": {}}),
            "layers[1] is a `Regularized`, which is not a registered layer",
        ),
        (
            _set(("optimizer", "state", "iterations"), 10**400),
            "`optimizer.state.iterations` is 100000000000… (401 digits)",
        ),
        (
            _set(("optimizer", "state", "iterations"), 2**62),
            "`optimizer.state.iterations`",
        ),
        (_set(("loss",), 0), "the loss is malformed: `loss` is 0"),
        (_set(("metrics",), {"a": 1}), "`metrics` is"),
        (_set(("layers", 0, "state"), [1]), "layers[0] is malformed: `layers[0].state`"),
        (
            _set(("metric",), {"type": "RegressionAccuracy", "config": {"divisor": 0}}),
            "divisor must be a finite number > 0",
        ),
        (_set(("optimizer", "state", "current_learning_rate"), -1.0), "current_learning_rate"),
    ],
    ids=[
        "abstract-layer",
        "huge-iterations",
        "inexact-iterations",
        "loss-zero",
        "metrics-not-a-list",
        "state-not-a-dict",
        "zero-divisor",
        "negative-rate",
    ],
)
def test_a_resigned_record_that_makes_no_sense_is_refused_on_load(
    tmp_path: Path, edit: Any, words: str
) -> None:
    trained = model()
    X, y = sn.datasets.spiral(10, 3, seed=0)
    trained.fit(X, y, epochs=2, verbose=0)
    path = tmp_path / "hostile.npz"
    path.write_bytes(_resigned(sn.save(trained, tmp_path / "m.npz").read_bytes(), edit))
    with pytest.raises(sn.ModelFileError) as caught:
        sn.load(path)
    assert words in str(caught.value)


def test_settings_that_would_fail_on_the_first_batch_are_refused_on_load(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hostile.npz"
    path.write_bytes(
        _resigned(_conv_file(tmp_path), _set(("layers", 0, "config", "padding"), 2**62))
    )
    with pytest.raises(sn.ModelFileError, match=r"layers\[0\]"):
        sn.load(path)


def test_only_concrete_layers_are_registered() -> None:
    from shapenn._registry import lookup

    assert lookup("layer", "Regularized") is None
    assert lookup("layer", "Dense") is sn.Dense


# --- D18: paths ------------------------------------------------------------------------------


NOT_PATHS = [None, 3, 1.5, b"model.npz", ["m.npz"], "", "a\0b.npz"]


@pytest.mark.parametrize("path", NOT_PATHS, ids=repr)
def test_a_path_that_is_not_one_is_an_argument_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(sn.ArgumentError, match=r"^cannot read .*(path|NUL)"):
        sn.load(path)
    with pytest.raises(sn.ArgumentError, match=r"^cannot write .*(path|NUL)"):
        sn.save(model(), path)
    assert list(tmp_path.iterdir()) == []


def test_a_name_too_long_is_said_so(tmp_path: Path) -> None:
    name = "model-" + "x" * 300 + ".npz"
    words = "the name model-xxxx"
    with pytest.raises(sn.ModelFileError, match="longer than the file system allows"):
        sn.load(tmp_path / name)
    with pytest.raises(sn.PathError, match="longer than the file system allows") as caught:
        sn.save(model(), tmp_path / name)
    assert words in str(caught.value) and len(str(caught.value)) < 400


def test_a_name_near_the_limit_saves(tmp_path: Path) -> None:
    # The temporary file's name adds to the target's; it is shortened to fit.
    path = tmp_path / ("m" * 251 + ".npz")
    sn.save(model(), path)
    assert sn.load(path).layers[0].weights.shape == (2, 6)
    _untouched(tmp_path, path.name)


def test_a_loop_of_links_is_said_so(tmp_path: Path) -> None:
    (tmp_path / "a.npz").symlink_to(tmp_path / "b.npz")
    (tmp_path / "b.npz").symlink_to(tmp_path / "a.npz")
    with pytest.raises(sn.ModelFileError, match="loop of symbolic links"):
        sn.load(tmp_path / "a.npz")
    with pytest.raises(sn.PathError, match="loop of symbolic links"):
        sn.save(model(), tmp_path / "a.npz")
    with pytest.raises(sn.PathError, match="loop of symbolic links"):
        check_writable(tmp_path / "a.npz" / "m.npz")


@pytest.mark.parametrize(
    ("special", "words"),
    [("/dev/null", "/dev/null: it is a character device, not a model file")],
)
def test_loading_a_device_says_what_it_is(special: str, words: str) -> None:
    with pytest.raises(sn.ModelFileError) as caught:
        sn.load(special)
    assert str(caught.value) == words


def test_loading_a_pipe_or_socket_says_what_it_is_and_does_not_hang(
    fifo: Path, unix_socket: Path
) -> None:
    with pytest.raises(sn.ModelFileError, match=r"it is a named pipe \(FIFO\), not a model"):
        sn.load(fifo)
    with pytest.raises(sn.ModelFileError, match="it is a socket, not a model file"):
        sn.load(unix_socket)


def test_an_onnx_file_is_called_one(tmp_path: Path) -> None:
    # The first bytes of a ModelProto: ir_version 8, producer "shapenn", then the graph.
    onnx = tmp_path / "x.onnx"
    onnx.write_bytes(
        b"\x08\x08\x12\x07shapenn:\x9a\x01\n\x0e\n\x05input\x12\x05outputB\x02\x10\x11"
    )
    with pytest.raises(sn.ModelFileError) as caught:
        sn.load(onnx)
    assert "it is an ONNX model, not a shapenn model" in str(caught.value)
    assert "text file" not in str(caught.value)


def test_a_file_where_a_folder_should_be_is_named(tmp_path: Path) -> None:
    file = tmp_path / "file.npz"
    file.write_bytes(b"")
    with pytest.raises(sn.ModelFileError, match=r"file\.npz is a file, not a folder"):
        sn.load(file / "m.npz")
    with pytest.raises(sn.PathError, match=r"file\.npz is a file, not a folder"):
        sn.save(model(), file / "m.npz")


def test_a_dangling_link_is_named(tmp_path: Path) -> None:
    (tmp_path / "link.npz").symlink_to(tmp_path / "gone.npz")
    with pytest.raises(sn.ModelFileError, match="which does not exist"):
        sn.load(tmp_path / "link.npz")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_said_so(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")
    path.chmod(0)
    try:
        with pytest.raises(sn.ModelFileError, match="permission denied"):
            sn.load(path)
    finally:
        path.chmod(0o600)


def test_a_file_this_user_may_not_read_is_said_so_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads whatever the mode bits say, so the refusal is simulated where the file is
    # opened (by os.open, or by io.open as pathlib does).
    path = sn.save(model(), tmp_path / "m.npz")
    real_os_open, real_io_open = os.open, io.open

    def refuse(opener: Any) -> Any:
        def wrapper(file: Any, *args: Any, **kwargs: Any) -> Any:
            if os.fspath(file) == str(path):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return opener(file, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(os, "open", refuse(real_os_open))
    monkeypatch.setattr(io, "open", refuse(real_io_open))
    with pytest.raises(sn.ModelFileError) as caught:
        sn.load(path)
    assert str(caught.value) == f"{path}: permission denied: this user may not read it"


# --- D20: --threads --------------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["1" + "0" * 30, "5000", "0"])
def test_an_absurd_thread_count_is_a_two_line_usage_error(
    tmp_path: Path, threads: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output = str(tmp_path / "m.npz")
    with pytest.raises(SystemExit) as caught:
        cli.main(["train", "--epochs", "1", "--quiet", "--threads", threads, "--output", output])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("shapenn train: error: argument --threads: must be")
    assert err.count("\n") == 2 and len(err) < 300
    assert not Path(output).exists()
