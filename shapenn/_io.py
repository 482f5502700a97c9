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
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from ._files import write_atomically
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


class ModelFileError(ShapennError, ValueError):
    """A model file is missing, truncated, tampered with, of another format or version."""


ModelFileError.__module__ = "shapenn"


# --- saving ----------------------------------------------------------------------------------


def _record(obj: Registered) -> dict[str, Any]:
    """An object's registered type and config."""
    return {"type": registered_name(type(obj)), "config": obj.get_config()}


def _digest(array: npt.NDArray[Any]) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


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
        ValueError: a parameter is not finite; TypeError: a config that is not plain data.
        ModelFileError: the written file would not load back (nothing is replaced).
        OSError: the file cannot be written.
    """
    contents = _contents(model, include_optimizer)

    target = Path(path)

    def write(handle: Any) -> None:
        np.savez(handle, allow_pickle=False, **contents)

    def verify(written: Path) -> None:
        try:
            load(written)
        except ModelFileError as err:  # reported for the target, not the hidden temporary file
            reason = str(err).removeprefix(f"{written}: ")
            raise _fail(target, f"not saved: the file would not load back ({reason})") from None

    return write_atomically(target, write, verify=verify)


# --- loading ---------------------------------------------------------------------------------


def _fail(path: Path, reason: str) -> ModelFileError:
    return ModelFileError(f"{path}: {reason}")


# Sanity limits a hostile file cannot talk its way past: the architecture record is small, and
# no array or archive is read beyond what the caller allows (``max_bytes``).
MAX_HEADER_BYTES = 1 << 24  # 16 MiB of JSON describes any sane model many times over
MAX_BYTES = 1 << 32  # 4 GiB of arrays by default
_NPY_HEADER_MAX = 1 << 16  # a .npy header is 64-byte aligned and short; allow generously
# NumPy's .npy reader, typed loosely: its stubs differ across the NumPy versions shapenn
# supports (2.3 types read_magic as untyped and lacks max_header_size).
_NPY_FORMAT: Any = np.lib.format
_DTYPES = {"float32", "float64", "uint8"}
_MAX_RATIO = 100  # float weights barely compress; 1,000-fold is zeros made to fill memory


def _describe_foreign(head: bytes) -> str:
    """What a file that is not a zip archive looks like, for the error message."""
    if head.startswith(b"\x93NUMPY"):
        return "it is a single NumPy array (.npy); models are written by sn.save as .npz archives"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "it holds pickled objects, which shapenn never loads"
    if not head:
        return "it is empty"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not a zip archive"
    return "it is a text file, not a zip archive"


def _read_npy(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> Any:
    """One ``.npy`` member, read into a preallocated array: memory is the array's own size,
    known from the member's header and checked against ``limit`` before anything is read."""
    with archive.open(info) as member:
        version = _NPY_FORMAT.read_magic(member)
        read_header = (
            _NPY_FORMAT.read_array_header_1_0
            if version == (1, 0)
            else _NPY_FORMAT.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(member, max_header_size=_NPY_HEADER_MAX)
        if dtype.hasobject or dtype.name not in _DTYPES:
            raise _fail(path, f"`{info.filename}` holds {dtype} values, which no model has")
        count = math.prod(shape)
        if count * dtype.itemsize > limit or info.file_size > count * dtype.itemsize + (
            _NPY_HEADER_MAX + 16
        ):
            raise _fail(path, f"`{info.filename}` declares {shape} {dtype}: too large to load")
        array = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
        view = array.reshape(-1, order="A").data.cast("B")
        if cast(io.BufferedIOBase, member).readinto(view) != view.nbytes or member.read(1):
            raise _fail(path, f"`{info.filename}` is truncated or has trailing bytes")
    return array


def _read(path: Path, max_bytes: int) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    if path.is_dir():
        raise _fail(path, "it is a folder, not a model file")
    if not path.is_file():
        raise _fail(path, "no such file")
    with path.open("rb") as handle:
        head = handle.read(8)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise _fail(path, f"not a shapenn model file ({_describe_foreign(head)})")
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                return _read_archive(path, archive, max_bytes)
        except ModelFileError:
            raise
        except MemoryError:
            raise _fail(path, "not enough memory to read it") from None
        except Exception as err:  # zipfile, zlib and struct raise a dozen types on bad bytes
            raise _fail(path, f"the archive is damaged or truncated ({err})") from None


def _read_archive(
    path: Path, archive: zipfile.ZipFile, max_bytes: int
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise _fail(path, "the archive holds two members of one name")
    members = {name.removesuffix(".npy"): info for name, info in zip(names, infos, strict=True)}
    if _HEADER not in members:
        raise _fail(path, "not a shapenn model file (no architecture record)")
    if members[_HEADER].file_size > MAX_HEADER_BYTES:
        raise _fail(path, "the architecture record is too large to be a model's")
    text = _read_npy(path, archive, members[_HEADER], MAX_HEADER_BYTES).tobytes()
    digest = _read_npy(path, archive, members[_DIGEST], 64).tobytes() if _DIGEST in members else b""
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise _fail(path, f"the architecture record is corrupted ({type(err).__name__})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(path, "not a shapenn model file (unknown format)")
    version = header.get("version")
    if version != VERSION:
        shown = version if isinstance(version, int) else "unknown"
        raise _fail(
            path,
            f"written in format version {shown}, but this shapenn reads version {VERSION}: "
            "load it with the shapenn version that wrote it",
        )
    if digest != hashlib.sha256(text).hexdigest().encode("ascii"):
        raise _fail(
            path, "the architecture record does not match its checksum: the file was modified"
        )
    declared = header.get("arrays")
    if not isinstance(declared, dict):
        raise _fail(path, "the architecture record lists no arrays")
    stored = set(members) - {_HEADER, _DIGEST}
    missing, extra = sorted(set(declared) - stored), sorted(stored - set(declared))
    if missing or extra:
        raise _fail(
            path, f"arrays do not match the architecture (missing {missing}, extra {extra})"
        )
    for info in infos:  # sn.save stores members as they are; a huge ratio is a zip bomb
        if info.file_size > _MAX_RATIO * info.compress_size + (1 << 20):
            raise _fail(
                path,
                f"`{info.filename}` would expand {info.file_size // max(info.compress_size, 1):,}"
                "-fold when decompressed: refused as a likely zip bomb",
            )
    budget = max_bytes
    arrays = {}
    for key in declared:
        array = _read_npy(path, archive, members[key], budget)
        budget -= array.nbytes
        arrays[key] = array
    _check_arrays(path, declared, arrays)
    return header, arrays


def _check_arrays(
    path: Path, declared: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
) -> None:
    for key, spec in declared.items():
        array = arrays[key]
        if not isinstance(spec, dict):
            raise _fail(path, f"the architecture record's entry for `{key}` is malformed")
        if list(array.shape) != spec.get("shape") or str(array.dtype) != spec.get("dtype"):
            raise _fail(
                path,
                f"`{key}` has shape {tuple(array.shape)} {array.dtype}, but the architecture "
                f"says {tuple(spec.get('shape') or ())} {spec.get('dtype')}",
            )
        if _digest(array) != spec.get("sha256"):
            raise _fail(path, f"`{key}` does not match its checksum: the file was modified")


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
    except (TypeError, ValueError, KeyError, MemoryError) as err:
        raise _fail(path, f"{what} ({name}) has invalid settings: {err}") from None


def _like(
    path: Path, key: str, array: npt.NDArray[Any], like: npt.NDArray[Any], owner: str
) -> npt.NDArray[Any]:
    """``array`` if it has ``like``'s shape and dtype and is finite; a ModelFileError else."""
    if array.shape != like.shape or array.dtype != like.dtype:
        raise _fail(
            path,
            f"`{key}` has shape {array.shape} {array.dtype}, but {owner} needs "
            f"{like.shape} {like.dtype}",
        )
    if not np.isfinite(array).all():
        raise _fail(path, f"`{key}` contains NaN or infinite values")
    return array


def _set_arrays(path: Path, index: int, layer: Layer, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Give the layer (and the layers it owns) their parameters and buffers from the file."""
    for stored in layer.state_arrays(f"layers.{index}"):
        if stored.path not in arrays:
            raise _fail(path, f"`{stored.path}` is missing")
        array = _like(
            path, stored.path, arrays[stored.path], stored.value, f"layers[{index}] {layer!r}"
        )
        stored.assign(array)  # np.load returned a fresh array: no copy needed


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


def _restore_optimizer(
    path: Path, record: Any, model: Model, arrays: dict[str, npt.NDArray[Any]]
) -> Optimizer:
    optimizer: Optimizer = _build(path, "optimizer", Optimizer, record, "the optimizer")
    try:
        optimizer.set_state(record.get("state") or {})
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(path, f"the optimizer's state is invalid: {err}") from None
    for index, layer in enumerate(model.layers):
        for parameter in layer.parameters(f"optimizer.{index}"):
            prefix = f"{parameter.path}."
            if not any(key.startswith(prefix) for key in arrays):
                continue
            blank = optimizer.init_state(parameter.value)
            fields = {}
            for field, zeros in blank._asdict().items():
                key = prefix + field
                if key not in arrays:
                    raise _fail(path, f"optimizer state `{key}` is missing")
                fields[field] = _like(path, key, arrays[key], zeros, "the optimizer")
            optimizer.set_parameter_state(parameter.layer, parameter.name, type(blank)(**fields))
    return optimizer


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Model:
    """Read a model written by ``save``; every byte is checked before the model is built.

    Args:
        path: the file.
        max_bytes: the most array data to read (4 GiB by default): a file that declares more
            is refused before anything is allocated.

    Raises:
        ModelFileError: the file is missing, truncated, modified, not a shapenn model, of
            another format version, or names a class that is not registered. Nothing is
            half-loaded: either a whole model or an error.
    """
    source = Path(path)
    header, arrays = _read(source, max_bytes)
    try:
        with uninitialized():  # layers are built without drawing weights the file replaces
            return _restore(source, header, arrays)
    except ModelFileError:
        raise
    except MemoryError:
        raise _fail(source, "its layers would not fit in memory") from None
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError) as err:
        # A record that passed the checksums but not the schema: written by hand or by a bug.
        reason = f"{type(err).__name__}: {err}"
        raise _fail(source, f"the architecture record is malformed ({reason})") from None


def _restore(source: Path, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> Model:
    records = header.get("layers")
    if not isinstance(records, list) or not records:
        raise _fail(source, "the model has no layers")
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
    except ValueError as err:  # ShapeError: the saved chain does not fit together
        raise _fail(source, f"the saved layers do not form a model: {err}") from None
    if header.get("optimizer"):
        model.optimizer = _restore_optimizer(source, header["optimizer"], model, arrays)
    return model
