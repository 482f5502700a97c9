"""A sequential model: layers validated as a chain before any data, then fit, evaluate, predict.

The model knows no layer, loss or optimizer by name. It asks each layer for its output shape
(read from the layer's annotations), its parameters and whether it can skip its input
gradient; it asks the loss for its targets and for a fused gradient with the last layer.
"""

import functools
import html
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ._data import check_inputs
from ._losses import Loss
from ._metrics import Accuracy
from ._optimizers import DivergenceError, Optimizer
from ._progress import Progress
from ._threads import blas_threads
from .layers import Layer
from .shapes import ArgumentError, Array2D, ArrayND, Floating, ShapeError
from .shapes._check import signature
from .shapes._dims import UNKNOWN, ArraySpec, Bindings, Bound, Size, bind, format_shape
from .shapes._errors import Report, public
from .shapes._infer import input_spec, output_dim

__all__ = ["DivergenceError", "History", "Model"]

PREDICT_BATCH = 1024  # rows per batch when predict/evaluate are given no batch_size

Shape = tuple[Size, ...]


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
    #: The metric behind ``accuracy`` (``"CategoricalAccuracy()"``), "" without one.
    metric: str = ""
    #: Whether that metric scores a regression (a tolerance, not classes right).
    regression: bool = False

    def as_dict(self) -> dict[str, list[float]]:
        """The per-epoch figures that were recorded, by name."""
        return {k: list(v) for k, v in vars(self).items() if isinstance(v, list) and v}

    def plot(self, path: "str | os.PathLike[str] | None" = None, **options: Any) -> Any:
        """The training curves as a matplotlib Figure (see ``shapenn.plots.plot_history``);
        in a notebook, the figure shows itself. Needs ``shapenn[plots]``."""
        from .plots import plot_history

        return plot_history(self, path, **options)


def _check_count(where: str, name: str, value: object, *, optional: bool) -> None:
    """``value`` must be a positive int (or None when ``optional``): a clear error otherwise."""
    if (value is None and optional) or (
        isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1
    ):
        return
    also = " or None" if optional else ""
    raise ArgumentError(f"{where}: {name} must be a positive integer{also}, got {value!r}")


@dataclass(frozen=True)
class _Step:
    """One layer of a built chain: the shape it receives and gives, and the arithmetic."""

    index: int
    layer: Layer
    given: Shape
    output: Shape | None
    derived: tuple[str, ...]


class Model:
    """A stack of layers trained together, the book's ``Model`` with Keras's conveniences.

    Args:
        layers: the layers, input first. More can be added with ``add``.
        loss, optimizer, metric: as for ``set``.
        input_shape: the shape of one sample, e.g. ``(1, 28, 28)``; without it, the shape the
            first layer's parameters imply (``(2,)`` for ``Dense(2, 64)``), and what the first
            batch shows for the rest.

    The chain of layers is validated before any data, from the layers' own annotations (at
    construction, ``add``, ``set``, ``summary`` and ``build()``), and again whenever the
    layers or their parameters' shapes have changed: a ``Dense(2, 64)`` followed by a
    ``Dense(32, 3)`` is a ShapeError naming both layers, their positions and the dims.

    ``fit``, ``evaluate`` and ``predict`` accept any real-valued X and cast each batch to the
    model's dtype (float32 by default), as Keras does; the layers themselves never cast.

    Example::

        model = Model([Dense(2, 64, seed=0), ReLU(), Dense(64, 3, seed=1), Softmax()],
                      loss=CategoricalCrossentropy(), optimizer=Adam(0.05, decay=5e-7),
                      metric=CategoricalAccuracy())
        history = model.fit(X, y, epochs=100)
    """

    @public
    def __init__(
        self,
        layers: Sequence[Layer] = (),
        *,
        loss: Loss | None = None,
        optimizer: Optimizer | None = None,
        metric: Accuracy | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        self.layers: list[Layer] = list(layers)
        self.loss = loss
        self.optimizer = optimizer
        self.metric = metric
        _check_parts(loss, optimizer, metric)
        self.input_shape: tuple[int, ...] | None = _sample_shape(input_shape)
        self._seen: tuple[int, ...] | None = None  # the sample shape of the last data, if used
        self._built: tuple[Any, ...] | None = None
        self._steps: list[_Step] = []
        if self.layers:
            self.build()

    # --- building --------------------------------------------------------------------------

    @public
    def add(self, layer: Layer) -> "Model":
        """Append a layer (the book's ``model.add``) and re-validate the chain."""
        if not isinstance(layer, Layer):
            raise ArgumentError(f"Model.add: expected a shapenn Layer, got {type(layer).__name__}")
        self.layers.append(layer)
        try:
            self.build()
        except ShapeError:
            self.layers.pop()  # a rejected layer is not kept
            raise
        return self

    @public
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
        _check_parts(self.loss, self.optimizer, self.metric)
        self.build()
        return self

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype inputs are cast to: that of the first parameter (float32 without one)."""
        for layer in self.layers:
            for parameter in layer.parameters():
                return parameter.value.dtype
        return np.dtype(np.float32)

    @property
    def sample_shape(self) -> tuple[Size, ...] | None:
        """The shape of one input sample as far as it is known: ``(2,)`` for a model that
        starts with ``Dense(2, 64)``, ``?`` for a size only data can tell; None when not even
        the rank is known."""
        self.build()
        first = self._first_input()
        return None if first is None else tuple(first[1:])

    def _fingerprint(self) -> tuple[Any, ...]:
        """What the chain's validity depends on: which layers, in which order, with which
        parameter shapes and dtypes and config dims. A change means a new build."""
        parts: list[Any] = [self._first_input()]
        for layer in self.layers:
            dims = tuple(getattr(layer, d, None) for d in signature(type(layer)).dims)
            params = tuple(
                (getattr(p.value, "shape", None), getattr(p.value, "dtype", None))
                for p in layer.parameters()
            )
            parts.append((id(layer), params, dims))
        return tuple(parts)

    def _first_input(self) -> Shape | None:
        """The input shape the chain is built for: the declared one, else the last data's
        where the first layer leaves sizes open, else what the first layer's parameters say."""
        if self.input_shape is not None:
            return ("batch", *self.input_shape)
        declared = self.layers[0].input_shape() if self.layers else None
        if self._seen is not None and (declared is None or UNKNOWN in declared):
            return ("batch", *self._seen)
        return declared

    @public
    def build(self, input_shape: Sequence[int] | None = None) -> list[Shape | None]:
        """Validate the chain of layers before any data and return each layer's output shape
        (None where only data can tell).

        Args:
            input_shape: the shape of one sample, if not given to the constructor.

        Raises:
            ShapeError: at the first layer whose input does not fit the previous output.
        """
        if input_shape is not None:
            self.input_shape = _sample_shape(input_shape)
        if not self.layers:
            raise ArgumentError("the model has no layers: add some with Model([...]) or add()")
        fingerprint = self._fingerprint()
        if fingerprint == self._built:
            return [step.output for step in self._steps]
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ArgumentError(
                    f"Model: layers[{index}] is a {type(layer).__name__}, not a shapenn Layer"
                )
        shape = self._first_input()
        steps: list[_Step] = []
        for index, layer in enumerate(self.layers):
            if shape is None:
                steps.append(_Step(index, layer, (), None, ()))
                continue
            try:
                inferred = layer.infer_output(shape)
            except ShapeError as err:
                raise self._chain_error(index, shape, err, steps) from None
            output = inferred.shape if inferred is not None else None
            derived = tuple(
                f"{d.text} = {d.worked} = {d.value}" for d in (inferred.derived if inferred else [])
            )
            steps.append(_Step(index, layer, shape, output, derived))
            shape = output
        self._steps, self._built = steps, fingerprint
        return [step.output for step in steps]

    def _chain_error(
        self, index: int, shape: Shape, err: ShapeError, steps: list[_Step]
    ) -> ShapeError:
        """The layer's own error, restated as a link of the chain, with a hint for either side."""
        layer = self.layers[index]
        source = next((s for s in reversed(steps) if s.output != s.given), None)
        origin = f" from layers[{source.index}] {source.layer!r}" if source else " (the input)"
        report = err.report
        options = []  # the constructor calls that would make the link fit, on either side
        got_size = (
            shape[report.axis] if report.axis is not None and report.axis < len(shape) else None
        )
        if report.dim is not None and isinstance(got_size, int) and isinstance(report.needed, int):
            mine = layer.resized({report.dim: got_size}) if hasattr(layer, "resized") else None
            if mine:
                options.append(f"layers[{index}] {mine}")
            if source is not None and report.axis is not None:
                theirs_dim = output_dim(source.layer, report.axis, len(shape))
                theirs = (
                    source.layer.resized({theirs_dim: report.needed})
                    if theirs_dim and hasattr(source.layer, "resized")
                    else None
                )
                if theirs:
                    options.append(f"layers[{source.index}] {theirs}")
        how = _how(steps, self._first_input()) if any(s.derived for s in steps) else ()
        return ShapeError(
            Report(
                where="Model",
                argument=f"layers[{index}] {layer!r}",
                expected=report.expected,
                got=f"{format_shape(shape)}{origin}",
                reason=report.reason.replace("`self.", f"`layers[{index}]."),
                bound=report.bound,
                hint="make " + ", or ".join(options) if options else report.hint,
                steps=how,
                located=True,
            )
        )

    @property
    def trainable_layers(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.parameters()]

    def _work(self, batch: int) -> int:
        """About how many multiply-adds a batch of ``batch`` samples takes: each parameter is
        used once per output position (a Dense layer's once per sample, a convolution's
        once per pixel of its output), as far as the built shapes tell."""
        per_sample = 0
        for step in self._steps:
            count = sum(p.value.size for p in step.layer.parameters())
            sizes = step.output[1:] if step.output else ()
            positions = math.prod(s for s in sizes[1:] if isinstance(s, int))
            per_sample += count * positions
        return batch * per_sample

    def count_params(self) -> int:
        """The number of trainable values in all layers."""
        return sum(p.value.size for layer in self.layers for p in layer.parameters())

    @public
    def summary(self, print_fn: Callable[[str], None] | None = print) -> str:
        """A table of each layer with its named output shape and parameter count.

        Printed with ``print_fn`` (None to only return it).
        """
        rows = self._summary_rows()
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

    def _summary_rows(self) -> list[tuple[str, str, str, str]]:
        """The summary's header and one row per layer: index, layer, output shape, params."""
        shapes = self.build()
        rows = [("#", "layer", "output shape", "params")]
        for index, (layer, shape) in enumerate(zip(self.layers, shapes, strict=True)):
            params = sum(p.value.size for p in layer.parameters())
            shown = format_shape(shape) if shape is not None else "(depends on the input)"
            rows.append((str(index), repr(layer), shown, f"{params:,}"))
        return rows

    def _repr_html_(self) -> str:
        """The summary as an HTML table, which Jupyter shows for a model."""
        header, *body = self._summary_rows()
        cell = "<td style='text-align:{}'>{}</td>".format
        lines = [
            "<table>",
            "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>",
        ]
        for row in body:
            aligns = ("right", "left", "left", "right")
            cells = "".join(cell(a, html.escape(v)) for a, v in zip(aligns, row, strict=True))
            lines.append(f"<tr>{cells}</tr>")
        lines.append("</table>")
        notes = [f"total params: {self.count_params():,}"]
        notes += [f"loss: {self.loss!r}"] if self.loss else []
        notes += [f"optimizer: {self.optimizer!r}"] if self.optimizer else []
        lines.append("<p>" + "<br>".join(html.escape(n) for n in notes) + "</p>")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "Model([" + ", ".join(map(repr, self.layers)) + "])"

    # --- one batch ---------------------------------------------------------------------------

    def _set_training(self, training: bool) -> None:
        for layer in self.layers:
            layer.training = training

    def forward(self, inputs: ArrayND) -> ArrayND:
        """Run ``inputs`` through every layer (in the current training mode)."""
        output = inputs
        for layer in self.layers:
            output = layer.forward(output)
        return output

    def backward(self, output: ArrayND, y_true: Any) -> None:
        """Backpropagate the loss of ``output`` against ``y_true`` through every layer."""
        loss = self._require("backward", optimizer=False)
        layers = self.layers
        fused = loss.fused_backward(layers[-1])
        if fused is not None:  # e.g. softmax + cross-entropy: the gradient of the logits
            dvalues = fused(output, y_true)
            layers = layers[:-1]
        else:
            dvalues = loss.backward(output, y_true)
        for index in range(len(layers) - 1, 0, -1):
            dvalues = layers[index].backward(dvalues)
        if layers:  # nothing consumes the first layer's input gradient
            layers[0].backward_parameters(dvalues)

    def regularization_loss(self) -> float:
        return sum((layer.regularization_loss() for layer in self.layers), 0.0)

    # --- data ----------------------------------------------------------------------------------

    def _input_check(self) -> tuple[ArraySpec | None, Bindings]:
        """The first layer's input annotation and what the model knows of its dims, with the
        dims' sources named as the model's user sees them (``layers[0].weights``)."""
        self.build()
        found = input_spec(self.layers[0])
        if found is None:
            return None, {}
        _, spec, known = found
        label = f"layers[0] {self.layers[0]!r}"
        bindings = {
            k: v._replace(source=v.source.replace("self.", "layers[0].") if v.source else label)
            for k, v in known.items()
        }
        if self.input_shape is not None:
            trial = dict(bindings)
            if bind(spec, ("batch", *self.input_shape), trial) is None:
                bindings = {
                    k: v if k in bindings else Bound(v.size, "input_shape")
                    for k, v in trial.items()
                }
        bindings.pop("batch", None)
        return spec, bindings

    def _inputs(self, X: npt.ArrayLike, where: str) -> npt.NDArray[Any]:
        spec, bindings = self._input_check()
        array = check_inputs(X, spec, bindings, where=f"Model.{where}", dtype=self.dtype)
        if self.input_shape is None:
            # The data tells what the layers could not (an image's height, say): validate the
            # chain for it before the first batch runs.
            previous, self._seen = self._seen, tuple(int(s) for s in array.shape[1:])
            try:
                self.build()
            except ShapeError:
                self._seen = previous
                raise
        return array

    def _outputs(self) -> Size:
        last = self._steps[-1].output if self._steps else None
        return last[-1] if last else UNKNOWN

    def _checked(self, X: npt.ArrayLike, y: npt.ArrayLike, where: str) -> tuple[Any, Any]:
        loss = self._require(where, optimizer=False)
        X_arr = self._inputs(X, where)
        y_arr = loss.targets(
            y,
            samples=X_arr.shape[0],
            outputs=self._outputs(),
            dtype=self.dtype,
            where=f"Model.{where}",
        )
        return X_arr, y_arr

    # --- training ----------------------------------------------------------------------------

    def _require(self, where: str, *, optimizer: bool) -> Loss:
        if self.loss is None:
            raise ArgumentError(
                f"Model.{where}: the model has no loss: call model.set(loss=..., optimizer=...)"
            )
        if optimizer and self.optimizer is None:
            raise ArgumentError(
                f"Model.{where}: the model has no optimizer: call model.set(optimizer=...)"
            )
        return self.loss

    def _batches(
        self, n: int, batch_size: int | None, order: npt.NDArray[np.intp] | None = None
    ) -> Iterator[slice | npt.NDArray[np.intp]]:
        size = n if batch_size is None else batch_size
        for start in range(0, n, size):
            yield slice(start, start + size) if order is None else order[start : start + size]

    @public
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
        threads: int | None = None,
    ) -> History:
        """Train for ``epochs`` passes over (X, y) and return the per-epoch History.

        Args:
            X: (samples, *input_shape) real-valued; cast batch by batch to the model's dtype.
            y: integer labels (samples,) or one-hot (samples, classes) for cross-entropy,
                (samples, outputs) for binary cross-entropy and regression.
            epochs: passes over the data.
            batch_size: samples per step; None for the whole set in one step (the book's).
            validation_data: (X_val, y_val), evaluated after each epoch.
            shuffle: reshuffle the samples each epoch (only with mini-batches).
            seed: seed or Generator for shuffling.
            verbose: 1 (default) a progress bar with the figures in a terminal or notebook
                (about ten lines on standard error when the output is a log), 2 one line per
                epoch, 0 nothing.
            callback: called after each epoch with (epoch, figures).
            threads: BLAS threads for the matrix products; None chooses by the size of a step
                (one thread for small ones, see ``shapenn._threads``).

        Raises:
            ShapeError: X or y of the wrong shape or dtype for this model and loss.
            ValueError: empty data, NaN/inf values; LabelError: labels out of range.
            DivergenceError: the loss became NaN/inf; the model keeps its last finite weights.
        """
        loss = self._require("fit", optimizer=True)
        optimizer = self.optimizer
        assert optimizer is not None
        _check_count("Model.fit", "epochs", epochs, optional=False)
        _check_count("Model.fit", "batch_size", batch_size, optional=True)
        rng = _generator(seed)
        X_arr, y_arr = self._checked(X, y, "fit")
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                got = f"a {type(validation_data).__name__}"
                if isinstance(validation_data, tuple | list):
                    got += f" of {len(validation_data)}"
                raise ArgumentError(
                    f"Model.fit: validation_data must be a pair (X_val, y_val), got {got}"
                )
            validation = self._checked(
                validation_data[0], validation_data[1], "fit(validation_data)"
            )
        if self.metric is not None:
            self.metric.init(y_arr)
        self._check_parameters()
        work = self._work(batch_size or X_arr.shape[0])
        with blas_threads(threads, work):
            return self._train(
                loss,
                optimizer,
                X_arr,
                y_arr,
                validation,
                epochs,
                batch_size,
                shuffle,
                rng,
                verbose,
                callback,
            )

    def _train(
        self,
        loss: Loss,
        optimizer: Optimizer,
        X_arr: Any,
        y_arr: Any,
        validation: tuple[Any, Any] | None,
        epochs: int,
        batch_size: int | None,
        shuffle: bool,
        rng: np.random.Generator,
        verbose: int,
        callback: Callable[[int, dict[str, float]], None] | None,
    ) -> History:
        """The epochs of ``fit``, on checked data."""
        n = X_arr.shape[0]
        metric = self.metric
        history = History(
            metric=repr(metric) if metric is not None else "",
            regression=metric is not None and not metric.classifies,
        )
        dtype = self.dtype
        trainable = self.trainable_layers
        # Overflow shows up as a non-finite loss or weight, which stops training with a
        # DivergenceError that says where; NumPy's warnings on the way there would be noise.
        quiet = functools.partial(np.errstate, over="ignore", invalid="ignore", divide="ignore")
        progress = Progress(epochs, mode=("quiet", "bar", "lines")[min(max(verbose, 0), 2)])
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n) if shuffle and batch_size is not None else None
                total = data_total = correct = 0.0
                step = 0
                self._set_training(True)
                for step, rows in enumerate(self._batches(n, batch_size, order), start=1):
                    batch_x = np.asarray(X_arr[rows], dtype=dtype)
                    batch_y = y_arr[rows]
                    with quiet():
                        output = self.forward(batch_x)
                        if epoch == 1 and step == 1:  # before the first step changes anything
                            self._check_predictions(loss, output, "fit")
                        data_loss = loss.calculate(output, batch_y)
                        regularization = self.regularization_loss()
                    if not math.isfinite(data_loss + regularization):
                        what = f"the loss became {data_loss + regularization}"
                        raise self._diverged(what, epoch, step)
                    count = batch_x.shape[0]
                    data_total += data_loss * count
                    total += (data_loss + regularization) * count
                    if self.metric is not None:
                        correct += self.metric.calculate(output, batch_y) * count
                    with quiet():
                        self.backward(output, batch_y)
                        try:
                            optimizer.step(trainable)
                        except DivergenceError:
                            what = "the step would make the weights NaN or infinite"
                            raise self._diverged(what, epoch, step) from None
                self._set_training(False)
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
                progress(epoch, figures)
                if callback is not None:
                    callback(epoch, figures)
        finally:
            progress.close()
            self._set_training(False)  # whatever happened, the model is left in inference mode
        return history

    def _check_predictions(self, loss: Loss, output: ArrayND, where: str) -> None:
        """The loss's check of what the last layer outputs (probabilities for cross-entropy)."""
        last = f"layers[{len(self.layers) - 1}] {self.layers[-1]!r}"
        loss.check_predictions(output, where=f"Model.{where}", last=last)

    def _check_parameters(self) -> None:
        """Refuse to train from parameters that are already NaN or infinite: every step keeps
        them finite from there on, which is what a DivergenceError promises."""
        for index, layer in enumerate(self.layers):
            for parameter in layer.parameters():
                if not np.isfinite(parameter.value).all():
                    raise ArgumentError(
                        f"Model.fit: layers[{index}] {layer!r}.{parameter.name} holds NaN or "
                        "infinite values; give it finite ones (e.g. a new layer) first"
                    )

    def _diverged(self, what: str, epoch: int, step: int) -> DivergenceError:
        lr = getattr(self.optimizer, "current_learning_rate", 0.0)
        return DivergenceError(
            f"Model.fit: {what} at epoch {epoch}, step {step}; training stopped and the model "
            f"keeps its weights and optimizer state from the last finite step. Try a lower "
            f"learning rate (now {lr:g}) or inputs scaled to about unit size"
        )

    # --- inference ---------------------------------------------------------------------------

    @public
    def predict(
        self, X: npt.ArrayLike, *, batch_size: int | None = None, threads: int | None = None
    ) -> Floating[Array2D, "samples outputs"]:
        """The model's outputs for X, computed ``batch_size`` rows at a time (1024 by default),
        so only one batch of activations is held at once; ``threads`` as for ``fit``.

        Shape:
            X: (samples, *input_shape) → (samples, outputs).
        """
        _check_count("Model.predict", "batch_size", batch_size, optional=True)
        X_arr = self._inputs(X, "predict")
        n = X_arr.shape[0]
        size = batch_size or PREDICT_BATCH
        self._set_training(False)
        result: Any = None
        with blas_threads(threads, self._work(min(size, n))):
            for rows in self._batches(n, size):
                output = self.forward(np.asarray(X_arr[rows], dtype=self.dtype))
                if result is None:
                    result = np.empty((n, *output.shape[1:]), dtype=output.dtype)
                result[rows] = output
        predictions: Floating[Array2D, "samples outputs"] = result
        return predictions

    @public
    def evaluate(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        batch_size: int | None = None,
        threads: int | None = None,
    ) -> tuple[float, float | None]:
        """The mean data loss and the metric (None without one) on (X, y), in batches;
        ``threads`` as for ``fit``."""
        _check_count("Model.evaluate", "batch_size", batch_size, optional=True)
        X_arr, y_arr = self._checked(X, y, "evaluate")
        if self.metric is not None and not self.metric.initialized:
            self.metric.init(y_arr)  # e.g. a regression model saved before any training
        size = min(batch_size or PREDICT_BATCH, X_arr.shape[0])
        with blas_threads(threads, self._work(size)):
            return self._evaluate(X_arr, y_arr, batch_size)

    def _evaluate(self, X: Any, y: Any, batch_size: int | None) -> tuple[float, float | None]:
        loss = self._require("evaluate", optimizer=False)
        self._set_training(False)
        n = X.shape[0]
        loss_total = correct = 0.0
        for index, rows in enumerate(self._batches(n, batch_size or PREDICT_BATCH)):
            batch_y = y[rows]
            output = self.forward(np.asarray(X[rows], dtype=self.dtype))
            if index == 0:
                self._check_predictions(loss, output, "evaluate")
            loss_total += loss.calculate(output, batch_y) * output.shape[0]
            if self.metric is not None:
                correct += self.metric.calculate(output, batch_y) * output.shape[0]
        return loss_total / n, (correct / n if self.metric is not None else None)


def _check_parts(loss: object, optimizer: object, metric: object) -> None:
    """A clear TypeError for a loss, optimizer or metric that is not one of shapenn's kinds."""
    for name, value, kind in (
        ("loss", loss, Loss),
        ("optimizer", optimizer, Optimizer),
        ("metric", metric, Accuracy),
    ):
        if value is None or isinstance(value, kind):
            continue
        shown = f"the class {value.__name__}" if isinstance(value, type) else repr(value)
        advice = getattr(value, "model_advice", None) or (
            f"pass an instance, {value.__name__}()"
            if isinstance(value, type) and issubclass(value, kind)
            else f"give a shapenn {kind.__name__} (or a subclass of it)"
        )
        article = "an" if kind.__name__[0] in "AEIOU" else "a"
        raise ArgumentError(
            f"Model: {name} must be {article} {kind.__name__}, got {shown}: {advice}"
        )


def _generator(seed: object) -> np.random.Generator:
    """The shuffling generator for ``seed``: None, an int >= 0 or a numpy Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0
    ):
        return np.random.default_rng(seed)
    raise ArgumentError(
        f"Model.fit: seed must be an integer >= 0, a numpy Generator or None, got {seed!r}"
    )


def _sample_shape(shape: Sequence[int] | None) -> tuple[int, ...] | None:
    """``input_shape`` as a tuple of positive ints (the batch axis left out)."""
    if shape is None:
        return None
    values = tuple(shape) if isinstance(shape, Sequence) else (shape,)
    if not values or not all(
        isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1 for s in values
    ):
        raise ArgumentError(
            f"input_shape must be the shape of one sample, positive integers such as (2,) or "
            f"(1, 28, 28), got {shape!r}"
        )
    return tuple(int(s) for s in values)


def _how(steps: list[_Step], first: Shape | None) -> tuple[str, ...]:
    """How the sizes got where they are: one line per layer that changed them."""
    lines = [f"input {format_shape(first)}"] if first is not None else []
    for step in steps:
        if step.output is None or step.output == step.given:
            continue
        line = f"layers[{step.index}] {step.layer!r} → {format_shape(step.output)}"
        if step.derived:
            line += ": " + "; ".join(step.derived)
        lines.append(line)
    return tuple(lines)
