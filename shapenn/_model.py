"""A sequential model: layers validated as a chain before any data, then fit, evaluate, predict."""

import copy
import functools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from jaxtyping import Float

from ._activations import Softmax
from ._dense import Dense
from ._errors import ShapeError, _Report
from ._layer import Layer
from ._losses import (
    CategoricalCrossentropy,
    Loss,
    softmax_crossentropy_backward,
)
from ._metrics import Accuracy
from ._optimizers import Optimizer
from ._shapes import Array2D
from ._validate import check_inputs, check_targets

__all__ = ["DivergenceError", "History", "Model"]

PREDICT_BATCH = 1024  # rows per batch when predict/evaluate are given no batch_size


class DivergenceError(ArithmeticError):
    """The loss became NaN or infinite during ``fit``; the model keeps its last finite weights."""


@dataclass
class _Snapshot:
    """Parameters and optimizer state at a point where all were finite, to roll back to."""

    epoch: int
    params: list[tuple[Layer, str, np.ndarray[Any, np.dtype[Any]]]]
    state: dict[Any, Any]
    iterations: int
    learning_rate: float

    def finite_now(self, model: "Model") -> bool:
        """Whether the model's current parameters and optimizer state are all finite."""
        arrays = [getattr(layer, name) for layer, name, _ in self.params]
        if model.optimizer is not None:
            for value in model.optimizer.state.values():
                arrays.extend(value if isinstance(value, tuple) else (value,))
        return all(bool(np.isfinite(array).all()) for array in arrays)

    def restore(self, model: "Model") -> None:
        for layer, name, saved in self.params:
            getattr(layer, name)[...] = saved
        if model.optimizer is not None:
            model.optimizer.state = {k: copy.deepcopy(v) for k, v in self.state.items()}
            model.optimizer.iterations = self.iterations
            model.optimizer.current_learning_rate = self.learning_rate


@dataclass
class History:
    """Per-epoch figures returned by ``Model.fit``.

    ``loss`` is the training loss including the regularization penalty (``data_loss`` +
    ``regularization_loss``), averaged over the epoch's batches by size; ``val_loss`` is the data
    loss on the validation data. Accuracies are fractions in [0, 1].
    """

    loss: list[float] = field(default_factory=list[float])
    data_loss: list[float] = field(default_factory=list[float])
    regularization_loss: list[float] = field(default_factory=list[float])
    accuracy: list[float] = field(default_factory=list[float])
    val_loss: list[float] = field(default_factory=list[float])
    val_accuracy: list[float] = field(default_factory=list[float])

    def as_dict(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in vars(self).items() if v}


def _check_count(where: str, name: str, value: object, *, optional: bool) -> None:
    """``value`` must be a positive int (or None when ``optional``): a clear error otherwise."""
    if (value is None and optional) or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 1
    ):
        return
    also = " or None" if optional else ""
    raise ValueError(f"{where}: {name} must be a positive integer{also}, got {value!r}")


def _dims(shape: Sequence[int | str]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


class Model:
    """A stack of layers trained together, the book's ``Model`` with Keras's conveniences.

    Args:
        layers: the layers, input first. More can be added with ``add``.
        loss, optimizer, metric: as for ``set``.

    The chain of layers is validated symbolically when the model is built (at ``set``, ``fit``,
    ``summary``, or ``build()``), before any data: a ``Dense(2, 64)`` followed by a
    ``Dense(32, 3)`` is a ShapeError naming both layers, their positions and the dims.

    ``fit``, ``evaluate`` and ``predict`` accept any real-valued X and cast each batch to the
    model's dtype (float32 by default), as Keras does; the layers themselves never cast.

    Example::

        model = Model([Dense(2, 64, seed=0), ReLU(), Dense(64, 3, seed=1), Softmax()],
                      loss=CategoricalCrossentropy(), optimizer=Adam(0.05, decay=5e-7),
                      metric=CategoricalAccuracy())
        history = model.fit(X, y, epochs=100)
    """

    def __init__(
        self,
        layers: Sequence[Layer] = (),
        *,
        loss: Loss | None = None,
        optimizer: Optimizer | None = None,
        metric: Accuracy | None = None,
    ) -> None:
        self.layers: list[Layer] = list(layers)
        self.loss = loss
        self.optimizer = optimizer
        self.metric = metric
        self._shapes: list[tuple[int | str, ...]] | None = None
        if self.layers:
            self.build()

    # --- building --------------------------------------------------------------------------

    def add(self, layer: Layer) -> "Model":
        """Append a layer (the book's ``model.add``) and re-validate the chain."""
        self.layers.append(layer)
        self._shapes = None
        try:
            self.build()
        except ShapeError:
            self.layers.pop()  # a rejected layer is not kept
            raise
        return self

    def set(
        self,
        *,
        loss: Loss | None = None,
        optimizer: Optimizer | None = None,
        metric: Accuracy | None = None,
    ) -> "Model":
        """Set the loss, optimizer and metric (the book's ``model.set``)."""
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if metric is not None:
            self.metric = metric
        self.build()
        return self

    @property
    def input_features(self) -> int:
        """The number of features each input sample must have: the first Dense's ``in``."""
        dense = self._first_dense()
        if dense is None:
            raise ValueError("the model has no Dense layer, so its input width is unknown")
        return dense.n_inputs

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype inputs are cast to: the first Dense's (float32 without one)."""
        dense = self._first_dense()
        return dense.dtype if dense is not None else np.dtype(np.float32)

    def _first_dense(self) -> Dense | None:
        return next((layer for layer in self.layers if isinstance(layer, Dense)), None)

    def build(self) -> list[tuple[int | str, ...]]:
        """Validate the chain of layers symbolically and return each layer's output shape.

        Raises:
            ShapeError: at the first layer whose input does not fit the previous output.
        """
        if self._shapes is not None:
            return self._shapes
        if not self.layers:
            raise ValueError("the model has no layers: add some with Model([...]) or add()")
        shape: tuple[int | str, ...] = ("batch", self.input_features)
        shapes = []
        for index, layer in enumerate(self.layers):
            try:
                shape = layer.compute_output_shape(shape)
            except ShapeError as err:
                raise self._chain_error(index, shape, err) from err
            shapes.append(shape)
        self._shapes = shapes
        return shapes

    def _chain_error(self, index: int, shape: tuple[int | str, ...], err: ShapeError) -> ShapeError:
        layer = self.layers[index]
        previous = next(
            (i for i in range(index - 1, -1, -1) if isinstance(self.layers[i], Dense)), None
        )
        source = (
            f" from layers[{previous}] {self.layers[previous]!r}" if previous is not None else ""
        )
        hint = None
        if isinstance(layer, Dense) and previous is not None and len(shape) == 2:
            before = self.layers[previous]
            assert isinstance(before, Dense)
            hint = (
                f"make layers[{index}] Dense({shape[1]}, {layer.n_neurons}), "
                f"or layers[{previous}] Dense({before.n_inputs}, {layer.n_inputs})"
            )
        report = _Report(
            where="Model",
            argument=f"layers[{index}] {layer!r}",
            expected=err.expected,
            got=f"{_dims(shape)}{source}",
            reason=err.reason,
            bound=err.bound,
            hint=hint,
        )
        return ShapeError(report)

    @property
    def trainable_layers(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.params]

    def count_params(self) -> int:
        return sum(getattr(layer, name).size for layer in self.layers for name in layer.params)

    def summary(self, print_fn: Callable[[str], None] | None = print) -> str:
        """A table of each layer with its named output shape and parameter count.

        Printed with ``print_fn`` (None to only return it).
        """
        shapes = self.build()
        rows = [("#", "layer", "output shape", "params")]
        for index, (layer, shape) in enumerate(zip(self.layers, shapes, strict=True)):
            params = sum(getattr(layer, name).size for name in layer.params)
            rows.append((str(index), repr(layer), _dims(shape), f"{params:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(
                cell.rjust(w) if i in (0, 3) else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        ]
        rule = "-" * max(len(line) for line in lines)
        extra = [f"loss: {self.loss!r}"] if self.loss else []
        extra += [f"optimizer: {self.optimizer!r}"] if self.optimizer else []
        table = "\n".join(
            [lines[0], rule, *lines[1:], rule, f"total params: {self.count_params():,}", *extra]
        )
        if print_fn is not None:
            print_fn(table)
        return table

    def __repr__(self) -> str:
        return "Model([" + ", ".join(map(repr, self.layers)) + "])"

    def save(self, path: "str | os.PathLike[str]", *, include_optimizer: bool = True) -> Path:
        """Write the model to ``path`` atomically (see ``shapenn.save``); no pickle."""
        from ._io import save  # io sits above model: imported on use, not at import time

        return save(self, path, include_optimizer=include_optimizer)

    # --- one batch ---------------------------------------------------------------------------

    def _fused(self) -> bool:
        """Softmax output with categorical cross-entropy: use the short gradient."""
        return isinstance(self.layers[-1], Softmax) and type(self.loss) is CategoricalCrossentropy

    def _set_training(self, training: bool) -> None:
        for layer in self.layers:
            layer.training = training

    def forward(self, inputs: Float[Array2D, "batch in"]) -> Float[Array2D, "batch out"]:
        """Run ``inputs`` through every layer (in the current training mode)."""
        output = inputs
        for layer in self.layers:
            output = layer.forward(output)
        return output

    def backward(self, output: Float[Array2D, "batch out"], y_true: Any) -> None:
        """Backpropagate the loss of ``output`` against ``y_true`` through every layer."""
        assert self.loss is not None
        if self._fused():
            dvalues = softmax_crossentropy_backward(output, y_true)
            layers = self.layers[:-1]
        else:
            dvalues = self.loss.backward(output, y_true)
            layers = self.layers
        for index in range(len(layers) - 1, 0, -1):
            dvalues = layers[index].backward(dvalues)
        first = layers[0]
        if isinstance(first, Dense):  # nothing consumes the input gradient of the first layer
            first.backward_parameters(dvalues)
        else:
            first.backward(dvalues)

    def regularization_loss(self) -> float:
        return sum((layer.regularization_loss() for layer in self.layers), 0.0)

    # --- training ----------------------------------------------------------------------------

    def _require(self, *, optimizer: bool) -> Loss:
        if self.loss is None:
            raise ValueError("the model has no loss: call model.set(loss=..., optimizer=...)")
        if optimizer and self.optimizer is None:
            raise ValueError("the model has no optimizer: call model.set(optimizer=...)")
        self.build()
        return self.loss

    def _batches(
        self, n: int, batch_size: int | None, order: npt.NDArray[np.intp] | None = None
    ) -> Iterator[slice | npt.NDArray[np.intp]]:
        size = n if batch_size is None else batch_size
        for start in range(0, n, size):
            yield slice(start, start + size) if order is None else order[start : start + size]

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        validation_data: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = None,
        verbose: int = 1,
        callback: Callable[[int, dict[str, float]], None] | None = None,
    ) -> History:
        """Train for ``epochs`` passes over (X, y) and return the per-epoch History.

        Args:
            X: (samples, features) real-valued; cast batch by batch to the model's dtype.
            y: integer labels (samples,) or one-hot (samples, classes) for cross-entropy,
                (samples, outputs) for binary cross-entropy and regression.
            epochs: passes over the data.
            batch_size: samples per step; None for the whole set in one step (the book's).
            validation_data: (X_val, y_val), evaluated after each epoch.
            shuffle: reshuffle the samples each epoch (only with mini-batches).
            seed: seed or Generator for shuffling.
            verbose: 0 silent, 1 one line per epoch.
            callback: called after each epoch with (epoch, figures).

        Raises:
            ShapeError: X or y of the wrong shape or dtype for this model and loss.
            ValueError: empty data, NaN/inf values; LabelError: labels out of range.
            DivergenceError: the loss became NaN/inf; the model keeps its last finite weights.
        """
        loss = self._require(optimizer=True)
        optimizer = self.optimizer
        assert optimizer is not None
        _check_count("Model.fit", "epochs", epochs, optional=False)
        _check_count("Model.fit", "batch_size", batch_size, optional=True)
        X_arr, y_arr = self._checked(X, y, "fit")
        validation = None
        if validation_data is not None:
            validation = self._checked(*validation_data, "fit(validation_data)")
        if self.metric is not None:
            self.metric.init(y_arr)
        rng = np.random.default_rng(seed)
        n = X_arr.shape[0]
        history = History()
        # Overflow shows up as a non-finite loss or weight, which stops training with a
        # DivergenceError that says where; NumPy's warnings on the way there would be noise.
        quiet = functools.partial(np.errstate, over="ignore", invalid="ignore", divide="ignore")
        snapshot = self._snapshot(epoch=0)  # the last state known finite
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n) if shuffle and batch_size is not None else None
                total = data_total = correct = 0.0
                step = 0
                self._set_training(True)
                for step, rows in enumerate(self._batches(n, batch_size, order), start=1):
                    batch_x = np.asarray(X_arr[rows], dtype=self.dtype)
                    batch_y = y_arr[rows]
                    with quiet():
                        output = self.forward(batch_x)
                        data_loss = loss.calculate(output, batch_y)
                        regularization = self.regularization_loss()
                    if not math.isfinite(data_loss + regularization):
                        self._diverged(
                            f"the loss became {data_loss + regularization}", epoch, step, snapshot
                        )
                    count = batch_x.shape[0]
                    data_total += data_loss * count
                    total += (data_loss + regularization) * count
                    if self.metric is not None:
                        correct += self.metric.calculate(output, batch_y) * count
                    with quiet():
                        self.backward(output, batch_y)
                        optimizer.step(self.trainable_layers)
                self._set_training(False)
                if not snapshot.finite_now(self):  # the epoch's last update overflowed
                    self._diverged("the weights became non-finite", epoch, step, snapshot)
                snapshot = self._snapshot(epoch)
                figures = {"loss": total / n, "data_loss": data_total / n}
                figures["regularization_loss"] = figures["loss"] - figures["data_loss"]
                if self.metric is not None:
                    figures["accuracy"] = correct / n
                if validation is not None:
                    val_loss, val_accuracy = self._evaluate(*validation, batch_size)
                    figures["val_loss"] = val_loss
                    if val_accuracy is not None:
                        figures["val_accuracy"] = val_accuracy
                for key, value in figures.items():
                    getattr(history, key).append(value)
                if verbose:
                    shown = (f"{k} {v:.4f}" for k, v in figures.items() if k != "data_loss")
                    print(f"epoch {epoch}/{epochs} - " + " - ".join(shown))
                if callback is not None:
                    callback(epoch, figures)
        finally:
            self._set_training(False)  # whatever happened, the model is left in inference mode
        return history

    def _snapshot(self, epoch: int) -> "_Snapshot":
        params = [(layer, name) for layer in self.layers for name in layer.params]
        optimizer = self.optimizer
        state: dict[Any, Any] = {}
        if optimizer is not None:
            state = {key: copy.deepcopy(value) for key, value in optimizer.state.items()}
        return _Snapshot(
            epoch=epoch,
            params=[(layer, name, getattr(layer, name).copy()) for layer, name in params],
            state=state,
            iterations=optimizer.iterations if optimizer else 0,
            learning_rate=optimizer.current_learning_rate if optimizer else 0.0,
        )

    def _diverged(self, what: str, epoch: int, step: int, snapshot: "_Snapshot") -> None:
        kept = "keeps its last finite weights"
        if not snapshot.finite_now(self):
            snapshot.restore(self)
            when = f"the end of epoch {snapshot.epoch}" if snapshot.epoch else "before training"
            kept = f"is restored to its weights and optimizer state from {when}"
        lr = getattr(self.optimizer, "current_learning_rate", 0.0)
        raise DivergenceError(
            f"Model.fit: {what} at epoch {epoch}, step {step}; training stopped and the model "
            f"{kept}. Try a lower learning rate (now {lr:g}) or inputs scaled to about unit size"
        )

    def _checked(self, X: npt.ArrayLike, y: npt.ArrayLike, where: str) -> tuple[Any, Any]:
        loss = self._require(optimizer=False)
        outputs = self.build()[-1][-1]
        X_arr = check_inputs(X, self.input_features, where=f"Model.{where}")
        y_arr = check_targets(X_arr, y, loss, outputs, self.dtype, where=f"Model.{where}")
        return X_arr, y_arr

    # --- inference ---------------------------------------------------------------------------

    def predict(self, X: npt.ArrayLike, *, batch_size: int | None = None) -> npt.NDArray[Any]:
        """The model's outputs for X, computed ``batch_size`` rows at a time (1024 by default),
        so only one batch of activations is held at once.

        Shape:
            X: (samples, features) → (samples, outputs).
        """
        _check_count("Model.predict", "batch_size", batch_size, optional=True)
        X_arr = check_inputs(X, self.input_features, where="Model.predict")
        n = X_arr.shape[0]
        size = batch_size or PREDICT_BATCH
        self._set_training(False)
        result: npt.NDArray[Any] | None = None
        for rows in self._batches(n, size):
            output = self.forward(np.asarray(X_arr[rows], dtype=self.dtype))
            if result is None:
                result = np.empty((n, output.shape[1]), dtype=output.dtype)
            result[rows] = output
        assert result is not None
        return result

    def evaluate(
        self, X: npt.ArrayLike, y: npt.ArrayLike, *, batch_size: int | None = None
    ) -> tuple[float, float | None]:
        """The mean data loss and the metric (None without one) on (X, y), in batches."""
        _check_count("Model.evaluate", "batch_size", batch_size, optional=True)
        X_arr, y_arr = self._checked(X, y, "evaluate")
        return self._evaluate(X_arr, y_arr, batch_size)

    def _evaluate(self, X: Any, y: Any, batch_size: int | None) -> tuple[float, float | None]:
        assert self.loss is not None
        self._set_training(False)
        n = X.shape[0]
        loss_total = correct = 0.0
        for rows in self._batches(n, batch_size or PREDICT_BATCH):
            batch_y = y[rows]
            output = self.forward(np.asarray(X[rows], dtype=self.dtype))
            loss_total += self.loss.calculate(output, batch_y) * output.shape[0]
            if self.metric is not None:
                correct += self.metric.calculate(output, batch_y) * output.shape[0]
        return loss_total / n, (correct / n if self.metric is not None else None)
