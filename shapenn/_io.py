"""Saving and loading models: one ``.npz`` file, no pickle, atomic writes, validated loads.

The file is a NumPy ``.npz`` archive (a zip) holding

* ``__shapenn__``: the architecture as UTF-8 JSON (stored as a uint8 array): format name and
  version, the input shape, each layer's registered type, config and state, the loss, metric
  and optimizer likewise, and the shape, dtype and SHA-256 of every array;
* ``__shapenn_sha256__``: the SHA-256 of that JSON, so no byte of the file goes unchecked;
* ``layers.<i>.<name>``: each layer's parameters;
* ``optimizer.<i>.<name>.<field>``: the optimizer's state per parameter (when saved).

Nothing here knows a layer by name: classes are found in the registry, and each gives its own
config (``get_config``) and state (``get_state``). A user's layer saves like a built-in one.

It is read with ``allow_pickle=False``. Writing goes to a temporary file in the same folder,
which is flushed, fsynced, *read back and verified* and only then renamed over the target: a
crash mid-save leaves the old file intact, and ``save`` never leaves a file ``load`` refuses.
"""

import hashlib
import io
import json
import math
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard, TypeVar

import numpy as np
import numpy.typing as npt

from ._files import as_path, open_regular, shown, write_atomically
from ._losses import Loss
from ._metrics import Accuracy
from ._registry import Registered, lookup, registered_name
from .layers import Layer
from .layers._init import uninitialized
from .model import Model
from .optim import Optimizer
from .shapes import ArgumentError, ShapennError

__all__ = ["FORMAT", "VERSION", "ModelFileError", "load", "save"]

FORMAT = "shapenn-model"
VERSION = 2
_HEADER = "__shapenn__"
_DIGEST = "__shapenn_sha256__"

T = TypeVar("T")


class ModelFileError(ShapennError, ValueError):
    """A model file is missing, truncated, tampered with, of another format or version."""


ModelFileError.__module__ = "shapenn"


# --- saving ----------------------------------------------------------------------------------


def _record(obj: Registered) -> dict[str, Any]:
    """An object's registered type and config."""
    return {"type": registered_name(type(obj)), "config": obj.get_config()}


def _digest(array: npt.NDArray[Any]) -> str:
    """The SHA-256 of ``array``'s values in C order, computed without copying it whole."""
    digest = hashlib.sha256()
    _hash_into(digest, array)
    return digest.hexdigest()


def _undeclared(index: int, layer: Layer) -> ArgumentError | None:
    """The error for a layer holding arrays it set up in ``__init__`` without declaring them:
    saving would drop them (a running mean), and the loaded model would predict otherwise."""
    found = layer.undeclared_arrays()
    if not found:
        return None
    name = found[0].rsplit(".", 1)[-1]
    return ArgumentError(
        f"cannot save layers[{index}] {layer!r}: it holds `{found[0]}`, an array it does not "
        f"declare, which would be lost. Declare it in the class: `{name}: Buffer[Float[...]]` "
        f"to save it (a running statistic), or `{name}: Cache[Float[...]]` if it is recomputed "
        "by every forward"
    )


def _contents(model: Model, include_optimizer: bool) -> dict[str, npt.NDArray[Any]]:
    model.build()
    arrays: dict[str, npt.NDArray[Any]] = {}
    layers = []
    for index, layer in enumerate(model.layers):
        error = _undeclared(index, layer)
        if error is not None:
            raise error
        states = {path: owned.get_state() for path, owned in layer.named_layers() if path}
        record = {**_record(layer), "state": layer.get_state()}
        if any(states.values()):
            record["states"] = {path: state for path, state in states.items() if state}
        layers.append(record)
        for stored in layer.state_arrays(f"layers.{index}"):
            value = np.asarray(stored.value)
            if not np.isfinite(value).all():
                name = stored.path.removeprefix(f"layers.{index}.")
                raise ArgumentError(
                    f"cannot save layers[{index}] {layer!r}: `{name}` holds NaN or infinite values"
                )
            arrays[stored.path] = value
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "input_shape": list(model.input_shape) if model.input_shape is not None else None,
        "layers": layers,
        "loss": _record(model.loss) if model.loss is not None else None,
        "metric": _record(model.metric) if model.metric is not None else None,
        "metrics": [_record(metric) for metric in model.metrics],
        "optimizer": None,
    }
    optimizer = model.optimizer
    if include_optimizer and optimizer is not None:
        header["optimizer"] = {**_record(optimizer), "state": optimizer.get_state()}
        kept = optimizer.state
        for index, layer in enumerate(model.layers):
            for parameter in layer.parameters(f"optimizer.{index}"):
                state = kept.get((parameter.layer, parameter.name))
                for field, array in (state._asdict() if state is not None else {}).items():
                    arrays[f"{parameter.path}.{field}"] = np.asarray(array)
    header["arrays"] = {
        key: {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": _digest(a)}
        for key, a in arrays.items()
    }
    text = json.dumps(header, allow_nan=False).encode("utf-8")
    digest = hashlib.sha256(text).hexdigest().encode("ascii")
    return {
        _HEADER: np.frombuffer(text, dtype=np.uint8),
        _DIGEST: np.frombuffer(digest, dtype=np.uint8),
        **arrays,
    }


def save(model: Model, path: str | os.PathLike[str], *, include_optimizer: bool = True) -> Path:
    """Write ``model`` to ``path`` atomically and verified; return the path.

    Args:
        model: the model; every layer, loss, metric and optimizer gives its config
            (``get_config``), which shapenn's own classes and subclasses of them do.
        path: the file to write (``.npz`` is the customary suffix; none is added).
        include_optimizer: also save the optimizer's state, so training resumes exactly.

    Raises:
        ArgumentError: ``path`` is not a path (None, a number, bytes, empty, a NUL in it), a
            parameter is not finite, or a config is not plain data.
        ModelFileError: the written file would not load back (nothing is replaced).
        PathError: the file cannot be written: ``path`` is a folder, a device, a named pipe
            or a socket (left untouched), its folder is missing or not writable, the name is
            too long, or the disk is full (the old file is then left as it was).
    """
    target = as_path(path, "write")
    contents = _contents(model, include_optimizer)

    def write(handle: Any) -> None:
        np.savez(handle, allow_pickle=False, **contents)

    def verify(written: Path) -> None:
        try:
            load(written)
        except ModelFileError as err:  # reported for the target, not the hidden temporary file
            reason = str(err).removeprefix(f"{shown(written)}: ")
            raise _fail(target, f"not saved: the file would not load back ({reason})") from None

    return write_atomically(target, write, verify=verify)


# --- loading ---------------------------------------------------------------------------------


def _fail(path: Path, reason: str) -> ModelFileError:
    return ModelFileError(f"{shown(path)}: {reason}")


# Sanity limits a hostile file cannot talk its way past: the architecture record is small, and
# no array or archive is read beyond what the caller allows (``max_bytes``).
MAX_HEADER_BYTES = 1 << 24  # 16 MiB of JSON describes any sane model many times over
MAX_BYTES = 1 << 32  # 4 GiB of arrays by default
_NPY_HEADER_MAX = 1 << 16  # a .npy header is 64-byte aligned and short; allow generously
_MAX_MEMBERS = 1 << 16  # arrays in one file: far more than any model holds
_MAX_STEPS = 1 << 53  # optimizer steps: past this a float no longer counts them exactly
_CHUNK = 1 << 20  # bytes read (and hashed) at a time: memory beyond the arrays stays small
# NumPy's .npy reader, typed loosely: its stubs differ across the NumPy versions shapenn
# supports (2.3 types read_magic as untyped and lacks max_header_size).
_NPY_FORMAT: Any = np.lib.format
_DTYPES = {"float32", "float64", "uint8"}
_MAX_RATIO = 100  # float weights barely compress; 1,000-fold is zeros made to fill memory
_SHA256 = frozenset("0123456789abcdef")


def _describe_foreign(head: bytes, path: Path) -> str:
    """What a file that is not a zip archive is, for the error message."""
    if head.startswith(b"\x93NUMPY"):
        return (
            "not a shapenn model file (it is a single NumPy array (.npy); models are written "
            "by sn.save as .npz archives)"
        )
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "not a shapenn model file (it holds pickled objects, which shapenn never loads)"
    if _looks_like_onnx(head, path):
        return (
            "it is an ONNX model, not a shapenn model: shapenn writes ONNX (sn.export.to_onnx, "
            "shapenn export) but loads only the .npz files sn.save writes; load the .npz file "
            "it was exported from"
        )
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "not a shapenn model file (it is an HDF5 file, as Keras writes)"
    if head.startswith(b"\x1f\x8b"):
        return "not a shapenn model file (it is gzip-compressed; decompress it first)"
    if not head:
        return "not a shapenn model file (it is empty)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a shapenn model file (it is not a zip archive)"
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):  # binary, though valid UTF-8
        return "not a shapenn model file (it is not a zip archive)"
    return "not a shapenn model file (it is a text file, not a zip archive)"


def _looks_like_onnx(head: bytes, path: Path) -> bool:
    """Whether ``head`` starts like an ONNX ModelProto: field 1 (ir_version, a small varint),
    then another field of the model (producer name, graph, opset imports, …)."""
    if path.suffix.lower() == ".onnx" and head[:1] == b"\x08":
        return True
    return (
        len(head) >= 3
        and head[0] == 0x08
        and 1 <= head[1] <= 20
        and head[2] in (0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x4A, 0x52, 0x72)
    )


def _read_exactly(member: Any, size: int, path: Path, name: str) -> bytes:
    data: bytes = member.read(size)
    if len(data) != size:
        raise _fail(path, f"`{name}` is truncated")
    return data


def _read_npy(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    dtype: str,
    shape: tuple[int, ...] | None,
    limit: int,
) -> tuple[npt.NDArray[Any], str]:
    """One ``.npy`` member and the SHA-256 of its values (in C order).

    The member must hold ``shape`` (any 1-D length up to ``limit`` bytes when None) of
    ``dtype``, and its size in the archive must be exactly that: both are checked from its
    header before anything is allocated. It is then read in chunks into the array (so memory
    is the array's own size), hashing each chunk as it comes.
    """
    name = info.filename.removesuffix(".npy")  # as the record names it
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 and LZMA members are inflated whole, whatever is asked of them: a bomb.
        raise _fail(
            path,
            f"`{name}` is compressed in a way sn.save never writes (method {info.compress_type})",
        )
    if info.flag_bits & 0x1:
        raise _fail(path, f"`{name}` is encrypted")
    with archive.open(info) as member:
        magic = _read_exactly(member, 8, path, name)
        if magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
            raise _fail(path, f"`{name}` is not a NumPy array")
        sized = _read_exactly(member, 2 if magic[6] == 1 else 4, path, name)
        length = int.from_bytes(sized, "little")
        if length > _NPY_HEADER_MAX:
            raise _fail(path, f"`{name}` has a header of {length:,} bytes, too long for an array")
        text = _read_exactly(member, length, path, name)
        read_header = (
            _NPY_FORMAT.read_array_header_1_0
            if magic[6] == 1
            else _NPY_FORMAT.read_array_header_2_0
        )
        try:
            found_shape, fortran, found = read_header(
                io.BytesIO(sized + text), max_header_size=_NPY_HEADER_MAX
            )
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise _fail(path, f"`{name}` has a damaged array header") from None
        found_shape = tuple(found_shape)
        wanted = np.dtype(dtype)
        if (
            found.hasobject
            or found != wanted
            or len(found_shape) != (1 if shape is None else len(shape))
        ):
            raise _fail(
                path,
                f"`{name}` holds {found_shape} {found} values, but the architecture says "
                f"{'a list of' if shape is None else shape} {wanted}",
            )
        if shape is not None and found_shape != shape:
            raise _fail(
                path,
                f"`{name}` has shape {found_shape} {found}, but the architecture says "
                f"{shape} {wanted}",
            )
        size = math.prod(found_shape) * wanted.itemsize
        if size > limit:
            raise _fail(path, f"`{name}` declares {found_shape} {found}: too large to load")
        # The member's size is what its header says, to the byte: this also bounds what is
        # ever decompressed, however the compressed data was padded or crafted.
        if info.file_size != len(magic) + len(sized) + length + size:
            raise _fail(path, f"`{name}` is truncated or has trailing bytes")
        array = np.empty(found_shape, dtype=wanted, order="F" if fortran else "C")
        view = array.reshape(-1, order="A").data.cast("B")
        digest = hashlib.sha256()
        filled = 0
        while filled < size:
            chunk = member.read(min(_CHUNK, size - filled))
            if not chunk:
                raise _fail(path, f"`{name}` is truncated")
            view[filled : filled + len(chunk)] = chunk
            if not fortran:
                digest.update(chunk)
            filled += len(chunk)
        if member.read(1):
            raise _fail(path, f"`{name}` is truncated or has trailing bytes")
    if fortran:  # the checksum is of the values in C order, as sn.save computes it
        array = np.ascontiguousarray(array)
        _hash_into(digest, array)
    return array, digest.hexdigest()


def _hash_into(digest: "hashlib._Hash", array: npt.NDArray[Any]) -> None:
    """Feed ``array``'s bytes in C order to ``digest`` in chunks, without copying a C-ordered
    array (another is copied chunk by chunk)."""
    flat = array.reshape(-1)  # a view when C-contiguous
    step = max(1, _CHUNK // max(array.itemsize, 1))
    for start in range(0, flat.size, step):
        piece = np.ascontiguousarray(flat[start : start + step])
        digest.update(piece.data.cast("B"))


def _read(path: Path, max_bytes: int, build: Callable[[dict[str, Any], "_Arrays"], T]) -> T:
    """Open the model file ``path``, check its architecture record, and return
    ``build(header, arrays)``, which reads the arrays it needs from ``arrays`` while the file
    is open."""
    with open_regular(path, "a model file", lambda reason: _fail(path, reason)) as handle:
        archive = _guarded(path, lambda: _open_archive(path, handle))
        with archive:
            header, arrays = _guarded(path, lambda: _read_records(path, archive, max_bytes))
            return build(header, arrays)


def _guarded(path: Path, step: Callable[[], T]) -> T:
    """``step()``, its errors on bad bytes (zipfile, zlib and struct raise a dozen types)
    turned into a ModelFileError."""
    try:
        return step()
    except ModelFileError:
        raise
    except MemoryError:
        raise _fail(path, "not enough memory to read it") from None
    except Exception as err:
        raise _fail(path, f"the archive is damaged or truncated ({err})") from None


def _open_archive(path: Path, handle: BinaryIO) -> zipfile.ZipFile:
    head = handle.read(64)
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise _fail(path, _describe_foreign(head, path))
    _check_directory(path, handle)
    handle.seek(0)
    return zipfile.ZipFile(handle)


class _Arrays:
    """The arrays of an open model file, each read only when a layer (or the optimizer) asks
    for it: its declared shape and dtype are compared with what the asker needs before any
    memory is taken, and its SHA-256 as it is read. Memory is then what the model needs."""

    def __init__(
        self,
        path: Path,
        archive: zipfile.ZipFile,
        members: dict[str, zipfile.ZipInfo],
        declared: dict[str, tuple[str, tuple[int, ...], str]],
        max_bytes: int,
    ) -> None:
        self.path, self.archive, self.members = path, archive, members
        self.declared, self.max_bytes = declared, max_bytes
        self.taken: set[str] = set()

    def read(self, key: str, like: npt.NDArray[Any], owner: str) -> npt.NDArray[Any]:
        """The array ``key``, which ``owner`` needs of ``like``'s shape and dtype, checked
        (and finite)."""
        if key not in self.declared or key in self.taken:
            raise _fail(self.path, f"`{key}` is missing")
        dtype, shape, checksum = self.declared[key]
        if shape != like.shape or dtype != str(like.dtype):
            raise _fail(
                self.path,
                f"`{key}` has shape {shape} {dtype}, but {owner} needs {like.shape} {like.dtype}",
            )
        member = self.members[key]
        array, found = _guarded(
            self.path,
            lambda: _read_npy(self.path, self.archive, member, dtype, shape, self.max_bytes),
        )
        if found != checksum:
            raise _fail(self.path, f"`{key}` does not match its checksum: the file was modified")
        self.taken.add(key)
        flat = array.reshape(-1)  # a view: the arrays read are contiguous
        step = max(1, _CHUNK // max(array.itemsize, 1))  # np.isfinite of all takes n bytes
        if not all(np.isfinite(flat[at : at + step]).all() for at in range(0, flat.size, step)):
            raise _fail(self.path, f"`{key}` contains NaN or infinite values")
        return array

    def unused(self) -> list[str]:
        """The declared arrays nothing asked for."""
        return sorted(set(self.declared) - self.taken)


def _check_directory(path: Path, handle: BinaryIO) -> None:
    """Refuse an archive whose directory lists more members than a model has, before
    zipfile reads it into as many objects (a small file can list millions)."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - (1 << 16) - 22))
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return  # zipfile reports the damage in its words
    count, directory = (
        int.from_bytes(tail[at + 10 : at + 12], "little"),
        int.from_bytes(tail[at + 12 : at + 16], "little"),
    )
    if count == 0xFFFF or directory == 0xFFFFFFFF:  # ZIP64: the counts are in its own record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if locator[:4] == b"PK\x06\x07":
            handle.seek(int.from_bytes(locator[8:16], "little"))
            record = handle.read(56)
            if record[:4] == b"PK\x06\x06":
                count = int.from_bytes(record[32:40], "little")
                directory = int.from_bytes(record[40:48], "little")
    if count > _MAX_MEMBERS or directory > MAX_HEADER_BYTES:
        raise _fail(path, f"the archive lists {count:,} members, far more than a model has")


def _read_records(
    path: Path, archive: zipfile.ZipFile, max_bytes: int
) -> tuple[dict[str, Any], _Arrays]:
    """The architecture record, checked against its checksum and for sense, and the arrays it
    declares, ready to be read."""
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise _fail(path, f"the archive lists {len(infos):,} members, far more than a model has")
    members = {info.filename.removesuffix(".npy"): info for info in infos}
    if len(members) != len(infos):
        raise _fail(path, "the archive holds two members of one name")
    if _HEADER not in members:
        raise _fail(path, "not a shapenn model file (no architecture record)")
    if members[_HEADER].file_size > MAX_HEADER_BYTES + _NPY_HEADER_MAX:
        raise _fail(path, "the architecture record is too large to be a model's")
    record, _ = _read_npy(path, archive, members[_HEADER], "uint8", None, MAX_HEADER_BYTES)
    text = record.tobytes()
    digest = (
        _read_npy(path, archive, members[_DIGEST], "uint8", (64,), 64)[0].tobytes()
        if _DIGEST in members
        else b""
    )
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _fail(path, f"the architecture record is corrupted ({type(err).__name__})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(path, "not a shapenn model file (unknown format)")
    version = header.get("version")
    if version != VERSION:
        number = version if _is_int(version) and abs(version) < 10**6 else "unknown"
        raise _fail(
            path,
            f"written in format version {number}, but this shapenn reads version {VERSION}: "
            "load it with the shapenn version that wrote it",
        )
    if digest != hashlib.sha256(text).hexdigest().encode("ascii"):
        raise _fail(
            path, "the architecture record does not match its checksum: the file was modified"
        )
    declared = _declared_arrays(path, header.get("arrays"), max_bytes)
    stored = set(members) - {_HEADER, _DIGEST}
    missing, extra = sorted(set(declared) - stored), sorted(stored - set(declared))
    if missing or extra:
        raise _fail(
            path,
            f"arrays do not match the architecture (missing {missing[:10]}, extra {extra[:10]})",
        )
    for info in infos:  # sn.save stores members as they are; a huge ratio is a zip bomb
        if info.file_size > _MAX_RATIO * info.compress_size + (1 << 20):
            raise _fail(
                path,
                f"`{info.filename}` would expand {info.file_size // max(info.compress_size, 1):,}"
                "-fold when decompressed: refused as a likely zip bomb",
            )
    _check_header(path, header)
    return header, _Arrays(path, archive, members, declared, max_bytes)


def _declared_arrays(
    path: Path, declared: object, max_bytes: int
) -> dict[str, tuple[str, tuple[int, ...], str]]:
    """The arrays the record declares: each one's dtype, shape and SHA-256, all checked, and
    their total size checked against ``max_bytes``, before any is read."""
    if not isinstance(declared, dict):
        raise _fail(path, "the architecture record lists no arrays")
    if len(declared) > _MAX_MEMBERS:
        raise _fail(path, f"the architecture record lists {len(declared):,} arrays")
    arrays: dict[str, tuple[str, tuple[int, ...], str]] = {}
    total = 0
    for key, spec in declared.items():
        if not isinstance(spec, dict):
            raise _fail(path, f"the architecture record's entry for `{key}` is malformed")
        shape, dtype, checksum = spec.get("shape"), spec.get("dtype"), spec.get("sha256")
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(_is_int(size) and size >= 0 for size in shape)
        ):
            raise _fail(path, f"`arrays.{key}.shape` is {_short(shape)}, not a shape")
        if dtype not in _DTYPES:
            raise _fail(path, f"`arrays.{key}.dtype` is {_short(dtype)}, which no model holds")
        if not isinstance(checksum, str) or len(checksum) != 64 or not set(checksum) <= _SHA256:
            raise _fail(path, f"`arrays.{key}.sha256` is {_short(checksum)}, not a SHA-256")
        total += math.prod(shape) * np.dtype(dtype).itemsize
        if total > max_bytes:
            raise _fail(
                path,
                f"its arrays declare more than {max_bytes:,} bytes (`{key}` is {tuple(shape)} "
                f"{dtype}): too large to load; pass a larger max_bytes= to load it",
            )
        arrays[key] = (dtype, tuple(shape), checksum)
    return arrays


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: object) -> str:
    """A JSON value for a message, cut short: a hostile one may be long."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text):,} characters)"


def _check_record(path: Path, record: object, where: str, *, state: bool = False) -> None:
    """A record of a registered object: {"type": a name, "config": {…}} (and "state": {…})."""
    what = where if where.startswith(("layers", "metrics")) else f"the {where}"
    problem = None
    kind = record.get("type") if isinstance(record, dict) else None
    if not isinstance(record, dict):
        problem = f"`{where}` is {_short(record)}, not a record of type and config"
    elif not isinstance(kind, str) or not 0 < len(kind) <= 1000:
        problem = f"`{where}.type` is {_short(kind)}, not the name of a class"
    elif not isinstance(record.get("config"), dict):
        problem = f"`{where}.config` is {_short(record.get('config'))}, not settings"
    elif state and not isinstance(record.get("state", {}), dict):
        problem = f"`{where}.state` is {_short(record.get('state'))}, not a state"
    if problem is not None:
        raise _fail(path, f"{what} is malformed: {problem}")


def _check_header(path: Path, header: dict[str, Any]) -> None:
    """Check what every field of the architecture record means, beyond its checksum: a
    re-signed record with valid JSON but no sense in it is refused here, naming the field,
    rather than loading into a model that fails later."""
    shape = header.get("input_shape")
    if shape is not None and (
        not isinstance(shape, list)
        or not 0 < len(shape) <= 32
        or not all(_is_int(size) and 0 < size <= MAX_BYTES for size in shape)
    ):
        raise _fail(path, f"`input_shape` is {_short(shape)}, not the shape of a sample")
    layers = header.get("layers")
    if not isinstance(layers, list) or not layers:
        raise _fail(path, "the model has no layers")
    if len(layers) > _MAX_MEMBERS:
        raise _fail(path, f"`layers` lists {len(layers):,} layers, far more than a model has")
    for index, layer in enumerate(layers):
        _check_record(path, layer, f"layers[{index}]", state=True)
        states = layer.get("states", {})
        if not isinstance(states, dict) or not all(isinstance(s, dict) for s in states.values()):
            raise _fail(path, f"`layers[{index}].states` is {_short(states)}, not states")
    for field in ("loss", "metric"):
        if header.get(field) is not None:
            _check_record(path, header[field], field)
    metrics = header.get("metrics")
    if metrics is not None and not isinstance(metrics, list):
        raise _fail(path, f"`metrics` is {_short(metrics)}, not a list of metrics")
    for index, metric in enumerate(metrics or []):
        _check_record(path, metric, f"metrics[{index}]")
    optimizer = header.get("optimizer")
    if optimizer is None:
        return
    _check_record(path, optimizer, "optimizer", state=True)
    state = optimizer.get("state", {})
    steps, rate = state.get("iterations"), state.get("current_learning_rate")
    if not _is_int(steps) or not 0 <= steps <= _MAX_STEPS:
        count = (
            f"{str(steps)[:12]}… ({len(str(steps))} digits)" if _is_int(steps) else _short(steps)
        )
        raise _fail(
            path,
            f"`optimizer.state.iterations` is {count}: a count of training steps is an integer "
            f"from 0 to 2**53",
        )
    finite = (_is_int(rate) and abs(rate) < 2**1000) or (
        isinstance(rate, float) and math.isfinite(rate)
    )
    if not finite or rate < 0:
        raise _fail(
            path,
            f"`optimizer.state.current_learning_rate` is {_short(rate)}: a learning rate is a "
            "finite number >= 0",
        )


def _build(path: Path, kind: str, base: type[Registered], record: Any, what: str) -> Any:
    """An object rebuilt from its record, or a ModelFileError naming ``what``."""
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise _fail(path, f"{what} is malformed")
    name = str(record.get("type"))
    cls = lookup(kind, name)
    if cls is None or not issubclass(cls, base):
        raise _fail(
            path,
            f"{what} is a `{name}`, which is not a registered {kind}: import the module that "
            "defines it before loading",
        )
    try:
        return cls.from_config(record["config"])
    except (TypeError, ValueError, KeyError, MemoryError, ArithmeticError) as err:
        raise _fail(path, f"{what} ({name}) has invalid settings: {err}") from None


def _set_arrays(path: Path, index: int, layer: Layer, arrays: _Arrays) -> None:
    """Give the layer (and the layers it owns) their parameters and buffers from the file."""
    for stored in layer.state_arrays(f"layers.{index}"):
        array = arrays.read(stored.path, np.asarray(stored.value), f"layers[{index}] {layer!r}")
        stored.assign(array)  # a fresh array, read for this layer: no copy needed


def _set_states(path: Path, index: int, layer: Layer, record: dict[str, Any]) -> None:
    """Give the layer (and the layers it owns) the state saved beside its arrays."""
    states = record.get("states") or {}
    if not isinstance(states, dict):
        raise _fail(path, f"layers[{index}] has malformed states")
    owned = dict(layer.named_layers())
    unknown = sorted(set(states) - set(owned) - {""})
    if unknown:
        raise _fail(path, f"layers[{index}] has states for layers it does not own: {unknown}")
    for name, sub in owned.items():
        state = record.get("state") if name == "" else states.get(name)
        try:
            sub.set_state(state or {})
        except (KeyError, TypeError, ValueError, OverflowError) as err:
            where = f"layers[{index}]" + (f".{name}" if name else "")
            raise _fail(path, f"{where} has an invalid state: {err}") from None


def _restore_optimizer(path: Path, record: Any, model: Model, arrays: _Arrays) -> Optimizer:
    optimizer: Optimizer = _build(path, "optimizer", Optimizer, record, "the optimizer")
    try:
        optimizer.set_state(record.get("state") or {})
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(path, f"the optimizer's state is invalid: {err}") from None
    for index, layer in enumerate(model.layers):
        for parameter in layer.parameters(f"optimizer.{index}"):
            prefix = f"{parameter.path}."
            if not any(key.startswith(prefix) for key in arrays.declared):
                continue
            # Only the blank state's fields, shapes and dtypes are kept: it is let go before
            # the saved state, of the same size, is read.
            blank = optimizer.init_state(parameter.value)
            kind = type(blank)
            needed = {
                field: np.broadcast_to(np.zeros((), np.asarray(zeros).dtype), np.shape(zeros))
                for field, zeros in blank._asdict().items()
            }
            del blank
            fields = {
                field: arrays.read(prefix + field, like, "the optimizer")
                for field, like in needed.items()
            }
            optimizer.set_parameter_state(parameter.layer, parameter.name, kind(**fields))
    return optimizer


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Model:
    """Read a model written by ``save``; every byte is checked before the model is built.

    Args:
        path: the file.
        max_bytes: the most array data to read (4 GiB by default): a file that declares more
            is refused before anything is allocated.

    Memory: the arrays are read in chunks straight into their own memory and each is checked
    against its SHA-256 as it is read, so a load takes about the model's own size, and a file
    that declares more than ``max_bytes`` (or whose members would inflate beyond what the
    record declares) is refused before that memory is taken.

    Raises:
        ArgumentError: ``path`` is not a path (None, a number, bytes, empty, a NUL in it), or
            ``max_bytes`` is not an integer >= 0.
        ModelFileError: the file is missing, unreadable, not a regular file (a folder, a
            device, a pipe), truncated, modified, not a shapenn model (an ONNX model, a text
            file, …), of another format version, names a class that is not registered, or
            holds settings or state that make no sense (the message names the field). Nothing
            is half-loaded: either a whole model or an error.
    """
    source = as_path(path, "read")
    if not _is_int(max_bytes) or max_bytes < 0:
        raise ArgumentError(f"load: max_bytes must be an integer >= 0, got {max_bytes!r}")

    def build(header: dict[str, Any], arrays: _Arrays) -> Model:
        try:
            with uninitialized():  # layers are built without drawing weights the file replaces
                return _restore(source, header, arrays, max_bytes)
        except ModelFileError:
            raise
        except MemoryError:
            raise _fail(source, "its layers would not fit in memory") from None
        except (
            KeyError,
            TypeError,
            AttributeError,
            ValueError,
            IndexError,
            ArithmeticError,
            RuntimeError,
        ) as err:
            # A record that passed the checksums but not the schema: by hand or by a bug.
            reason = f"{type(err).__name__}: {err}"
            raise _fail(source, f"the architecture record is malformed ({reason})") from None

    return _read(source, max_bytes, build)


def _check_sizes(path: Path, shapes: list[Any], max_bytes: int) -> None:
    """Refuse layers whose settings (a padding of 10**18, say) make one sample's output larger
    than ``max_bytes`` (4 GiB at least) of float64: the model would load, then fail on its
    first batch."""
    limit = max(max_bytes, MAX_BYTES)
    for index, shape in enumerate(shapes):
        sizes = list(shape[1:]) if shape is not None else []
        if sizes and all(_is_int(size) for size in sizes) and math.prod(sizes) * 8 > limit:
            raise _fail(
                path,
                f"layers[{index}] would output {' × '.join(map(str, sizes))} values per sample, "
                f"more than {limit:,} bytes hold: its settings make no sense",
            )


def _restore(source: Path, header: dict[str, Any], arrays: _Arrays, max_bytes: int) -> Model:
    records = header["layers"]  # checked by _check_header
    layers: list[Layer] = []
    for index, record in enumerate(records):
        layer: Layer = _build(source, "layer", Layer, record, f"layers[{index}]")
        _set_arrays(source, index, layer, arrays)
        _set_states(source, index, layer, record)
        layers.append(layer)
    loss = _build(source, "loss", Loss, header["loss"], "the loss") if header.get("loss") else None
    metric = (
        _build(source, "metric", Accuracy, header["metric"], "the metric")
        if header.get("metric")
        else None
    )
    metrics = [
        _build(source, "metric", Accuracy, record, f"metrics[{index}]")
        for index, record in enumerate(header.get("metrics") or [])
    ]
    try:
        model = Model(
            layers,
            loss=loss,
            metric=metric,
            metrics=metrics,
            input_shape=header.get("input_shape"),
        )
        shapes = model.build()  # every layer's output shape, from the settings alone
    except ValueError as err:  # ShapeError: the saved chain does not fit together
        raise _fail(source, f"the saved layers do not form a model: {err}") from None
    _check_sizes(source, shapes, max_bytes)
    if header.get("optimizer") is not None:
        model.optimizer = _restore_optimizer(source, header["optimizer"], model, arrays)
    unused = arrays.unused()
    if unused:
        raise _fail(source, f"it holds arrays that no layer uses: {unused[:10]}")
    return model
