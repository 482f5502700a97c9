"""Saving and loading models: one ``.npz`` file, no pickle, atomic writes, validated loads.

The file is a NumPy ``.npz`` archive (a zip) holding

* ``__shapenn__``: the architecture as UTF-8 JSON (stored as a uint8 array): format name and
  version, each layer's type and settings, loss, metric, optimizer and the shape, dtype and
  SHA-256 of every array;
* ``layers.<i>.<name>``: each layer's parameters;
* ``optimizer.<i>.<name>.<field>``: the optimizer's state per parameter (when saved).

It is read with ``allow_pickle=False``. Writing goes to a temporary file in the same folder,
which is flushed, fsynced and renamed over the target, so a crash mid-save leaves the old file
intact. Loading checks everything against the architecture before building the model.
"""

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from ._dense import Dense
from ._dropout import Dropout
from ._files import write_atomically
from ._layer import Layer
from ._losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
)
from ._metrics import Accuracy, BinaryAccuracy, CategoricalAccuracy, RegressionAccuracy
from ._model import Model
from ._optimizers import SGD, Adagrad, Adam, AdamState, Optimizer, RMSprop

__all__ = ["FORMAT", "VERSION", "ModelFileError", "load", "save"]

FORMAT = "shapenn-model"
VERSION = 1
_HEADER = "__shapenn__"

_LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Dense, Dropout, ReLU, Softmax, Sigmoid, Tanh, Linear)
}
_LOSSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (CategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError, MeanAbsoluteError)
}
_OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adam)
}
_METRICS: dict[str, type[Accuracy]] = {
    cls.__name__: cls for cls in (CategoricalAccuracy, BinaryAccuracy, RegressionAccuracy)
}


class ModelFileError(ValueError):
    """A model file is missing, truncated, tampered with, of another format or version."""


# --- saving ----------------------------------------------------------------------------------


def _layer_config(index: int, layer: Layer) -> dict[str, Any]:
    kind = type(layer).__name__
    if _LAYERS.get(kind) is not type(layer):
        raise TypeError(
            f"cannot save layers[{index}] {layer!r}: only shapenn's built-in layers "
            f"({', '.join(_LAYERS)}) can be saved; save its arrays yourself with np.savez"
        )
    config: dict[str, Any] = {"type": kind}
    if isinstance(layer, Dense):
        config |= {
            "n_inputs": layer.n_inputs,
            "n_neurons": layer.n_neurons,
            "dtype": str(layer.dtype),
            "weight_regularizer_l1": layer.weight_regularizer_l1,
            "weight_regularizer_l2": layer.weight_regularizer_l2,
            "bias_regularizer_l1": layer.bias_regularizer_l1,
            "bias_regularizer_l2": layer.bias_regularizer_l2,
        }
    elif isinstance(layer, Dropout):
        config |= {"rate": layer.rate, "rng": layer.rng.bit_generator.state}
    return config


def _named(kind: str, value: object, registry: dict[str, Any]) -> dict[str, Any] | None:
    if value is None:
        return None
    name = type(value).__name__
    if registry.get(name) is not type(value):
        raise TypeError(f"cannot save the {kind} {value!r}: only shapenn's own can be saved")
    return {"type": name}


def _optimizer_arrays(
    model: Model, optimizer: Optimizer
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    config: dict[str, Any] = {
        "type": type(optimizer).__name__,
        "hyperparameters": optimizer._hyperparameters(),
        "iterations": optimizer.iterations,
        "current_learning_rate": optimizer.current_learning_rate,
    }
    arrays: dict[str, npt.NDArray[Any]] = {}
    for index, layer in enumerate(model.layers):
        for name in layer.params:
            state = optimizer.state.get((layer, name))
            if state is None:
                continue
            fields = state._asdict() if isinstance(state, AdamState) else {"cache": state}
            for field, array in fields.items():
                arrays[f"optimizer.{index}.{name}.{field}"] = array
    return config, arrays


def _digest(array: npt.NDArray[Any]) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def save(model: Model, path: str | os.PathLike[str], *, include_optimizer: bool = True) -> Path:
    """Write ``model`` to ``path`` atomically; return the path.

    Args:
        model: the model; its layers, loss, metric and optimizer must be shapenn's own.
        path: the file to write (``.npz`` is the customary suffix; none is added).
        include_optimizer: also save the optimizer's state, so training resumes exactly.
    """
    target = Path(path)
    model.build()
    arrays: dict[str, npt.NDArray[Any]] = {}
    layers = []
    for index, layer in enumerate(model.layers):
        layers.append(_layer_config(index, layer))
        for name in layer.params:
            arrays[f"layers.{index}.{name}"] = np.asarray(getattr(layer, name))
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "layers": layers,
        "loss": _named("loss", model.loss, _LOSSES),
        "metric": _named("metric", model.metric, _METRICS),
        "optimizer": None,
    }
    if isinstance(model.metric, RegressionAccuracy):
        header["metric"] |= {"precision": model.metric.precision, "divisor": model.metric.divisor}
    if isinstance(model.metric, BinaryAccuracy):
        header["metric"] |= {"threshold": model.metric.threshold}
    if include_optimizer and model.optimizer is not None:
        _named("optimizer", model.optimizer, _OPTIMIZERS)
        header["optimizer"], state = _optimizer_arrays(model, model.optimizer)
        arrays |= state
    header["arrays"] = {
        key: {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": _digest(a)}
        for key, a in arrays.items()
    }
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)

    contents: dict[str, Any] = {_HEADER: blob, **arrays}
    return write_atomically(target, lambda handle: np.savez(handle, **contents))


# --- loading ---------------------------------------------------------------------------------


def _fail(path: Path, reason: str) -> ModelFileError:
    return ModelFileError(f"{path}: {reason}")


def _read(path: Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    if not path.is_file():
        raise _fail(path, "no such file")
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
            contents = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise _fail(path, f"not a shapenn model file (unreadable archive: {err})") from None
    except ValueError as err:  # e.g. pickled objects, which shapenn never reads
        reason = (
            "it holds pickled objects, which shapenn never loads" if "pickle" in str(err) else err
        )
        raise _fail(path, f"not a shapenn model file ({reason})") from None
    if _HEADER not in contents:
        raise _fail(path, "not a shapenn model file (no architecture record)")
    try:
        header = json.loads(contents.pop(_HEADER).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _fail(path, f"the architecture record is corrupted ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(path, "not a shapenn model file (unknown format)")
    version = header.get("version")
    if version != VERSION:
        raise _fail(
            path,
            f"written in format version {version}, but this shapenn reads version {VERSION}: "
            "use the shapenn version that wrote it",
        )
    return header, contents


def _check_arrays(path: Path, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> None:
    declared = header.get("arrays")
    if not isinstance(declared, dict):
        raise _fail(path, "the architecture record lists no arrays")
    missing = sorted(set(declared) - set(arrays))
    extra = sorted(set(arrays) - set(declared))
    if missing or extra:
        raise _fail(
            path, f"arrays do not match the architecture (missing {missing}, extra {extra})"
        )
    for key, spec in declared.items():
        array = arrays[key]
        if list(array.shape) != spec.get("shape") or str(array.dtype) != spec.get("dtype"):
            raise _fail(
                path,
                f"`{key}` has shape {tuple(array.shape)} {array.dtype}, but the architecture "
                f"says {tuple(spec.get('shape') or ())} {spec.get('dtype')}",
            )
        if _digest(array) != spec.get("sha256"):
            raise _fail(path, f"`{key}` does not match its checksum: the file was modified")


def _build_layer(path: Path, index: int, config: Any) -> Layer:
    kind = config.get("type") if isinstance(config, dict) else None
    cls = _LAYERS.get(str(kind))
    if cls is None:
        raise _fail(path, f"layers[{index}] has unknown type {kind!r}")
    try:
        if cls is Dense:
            settings = {k: v for k, v in config.items() if k != "type"}
            return Dense(settings.pop("n_inputs"), settings.pop("n_neurons"), **settings)
        if cls is Dropout:
            layer = Dropout(config["rate"])
            layer.rng.bit_generator.state = config["rng"]
            return layer
        return cls()
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(path, f"layers[{index}] ({kind}) has invalid settings: {err}") from None


def _build_optimizer(
    path: Path, config: dict[str, Any], model: Model, arrays: dict[str, npt.NDArray[Any]]
) -> Optimizer:
    cls = _OPTIMIZERS.get(str(config.get("type")))
    if cls is None:
        raise _fail(path, f"unknown optimizer {config.get('type')!r}")
    try:
        optimizer = cls(**config["hyperparameters"])
        optimizer.iterations = int(config["iterations"])
        optimizer.current_learning_rate = float(config["current_learning_rate"])
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(path, f"the optimizer has invalid settings: {err}") from None
    for index, layer in enumerate(model.layers):
        for name in layer.params:
            prefix = f"optimizer.{index}.{name}."
            if isinstance(optimizer, Adam):
                if prefix + "m" in arrays:
                    state: Any = AdamState(arrays[prefix + "m"], arrays[prefix + "v"])
                else:
                    continue
            elif prefix + "cache" in arrays:
                state = arrays[prefix + "cache"]
            else:
                continue
            param = getattr(layer, name)
            for array in state if isinstance(state, AdamState) else (state,):
                if array.shape != param.shape or array.dtype != param.dtype:
                    raise _fail(
                        path,
                        f"optimizer state for layers[{index}].{name} is {array.shape} "
                        f"{array.dtype}, not {param.shape} {param.dtype}",
                    )
                if not np.isfinite(array).all():
                    raise _fail(path, f"optimizer state for layers[{index}].{name} is not finite")
            optimizer.state[(layer, name)] = state
    return optimizer


def load(path: str | os.PathLike[str]) -> Model:
    """Read a model written by ``save``; every array is checked before the model is built.

    Raises:
        ModelFileError: the file is missing, truncated, modified, not a shapenn model, or of
            another format version. Nothing is half-loaded: either a whole model or an error.
    """
    source = Path(path)
    header, arrays = _read(source)
    _check_arrays(source, header, arrays)
    try:
        return _build(source, header, arrays)
    except ModelFileError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as err:
        # A record that passed the checksums but not the schema: written by hand or by a bug.
        reason = f"{type(err).__name__}: {err}"
        raise _fail(source, f"the architecture record is malformed ({reason})") from None


def _build(source: Path, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> Model:
    layers = [_build_layer(source, i, c) for i, c in enumerate(header.get("layers") or [])]
    if not layers:
        raise _fail(source, "the model has no layers")
    for index, layer in enumerate(layers):
        for name in layer.params:
            key = f"layers.{index}.{name}"
            if key not in arrays:
                raise _fail(source, f"`{key}` is missing")
            expected = getattr(layer, name)
            array = arrays[key]
            if array.shape != expected.shape or array.dtype != expected.dtype:
                raise _fail(
                    source,
                    f"`{key}` has shape {array.shape} {array.dtype}, but layers[{index}] "
                    f"{layer!r} needs {expected.shape} {expected.dtype}",
                )
            if not np.isfinite(array).all():
                raise _fail(source, f"`{key}` contains NaN or infinite values")
            setattr(layer, name, array)  # np.load returned a fresh array: no copy needed
    loss_config, metric_config = header.get("loss"), header.get("metric")
    loss = _LOSSES[loss_config["type"]]() if loss_config else None
    metric: Accuracy | None = None
    if metric_config:
        settings = {k: v for k, v in metric_config.items() if k != "type"}
        metric = _METRICS[metric_config["type"]](**settings)
    try:
        model = Model(layers, loss=loss, metric=metric)
    except ValueError as err:  # ShapeError: the saved chain does not fit together
        raise _fail(source, f"the saved layers do not form a model: {err}") from None
    if header.get("optimizer"):
        model.optimizer = _build_optimizer(source, header["optimizer"], model, arrays)
    return model
