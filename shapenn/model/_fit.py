"""The training loop: epochs of batches, each batch one step — forward, loss, backward, an
optimizer step — then the epoch's figures and the validation data.

`Loop` is the loop ``Model.fit`` runs; the book's ``Model.train`` runs the same loop with its
own measuring and printing (`Loop.measure`, `Loop.after_step`, `Loop.after_epoch`), so there
is one loop to get right.
"""

import math
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .. import _args
from .._progress import Progress
from ..layers import Layer
from ..optim import DivergenceError
from ..shapes import ArgumentError, ArrayND
from ._data import Gather


@runtime_checkable
class Model(Protocol):
    """What the training loop reads of a model (so this module needs no model)."""

    layers: list[Layer]
    loss: Any
    optimizer: Any
    metric: Any
    metrics: list[Any]
    stop_training: bool
    lock: Any

    @property
    def input_dtype(self) -> np.dtype[Any]: ...

    @property
    def trainable_layers(self) -> list[Layer]: ...

    def set_training(self, training: bool) -> None: ...

    def forward(self, inputs: ArrayND) -> ArrayND: ...

    def regularization_loss(self) -> float: ...

    def _check_predictions(self, loss: Any, output: ArrayND, where: str) -> None: ...

    def _evaluate(self, X: Any, y: Any, batch_size: int | None) -> tuple[float, float | None]: ...

    def backward(self, output: ArrayND, y_true: Any, weights: Any = None) -> None: ...


@runtime_checkable
class Callback(Protocol):
    """What the loop calls of a callback (``shapenn.callbacks.Callback``)."""

    def set_model(self, model: Any) -> None: ...

    def on_train_begin(self, figures: Sequence[str]) -> None: ...

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_epoch_end(self, epoch: int, figures: dict[str, float]) -> None: ...

    def on_train_end(self) -> None: ...


__all__ = ["History", "Loop", "Measured", "batches", "count", "generator", "options"]


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
    #: The learning rate at the end of each epoch (after schedules and decay).
    learning_rate: list[float] = field(default_factory=list[float])
    #: Figures of further metrics, by name (``precision``, ``val_f1``, …).
    extra: dict[str, list[float]] = field(default_factory=dict[str, list[float]])
    #: The metric behind ``accuracy`` (``"CategoricalAccuracy()"``), "" without one.
    metric: str = ""
    #: Whether that metric scores a regression (a tolerance, not classes right).
    regression: bool = False

    def as_dict(self) -> dict[str, list[float]]:
        """The per-epoch figures that were recorded, by name."""
        found = {k: list(v) for k, v in vars(self).items() if isinstance(v, list) and v}
        return found | {k: list(v) for k, v in self.extra.items()}

    def __getitem__(self, name: str) -> list[float]:
        """The figures recorded under ``name`` (``history["val_loss"]``), as Keras's
        ``history.history[name]``."""
        recorded = self.as_dict()
        if name not in recorded:
            raise KeyError(f"{name!r}: this History records {', '.join(recorded) or 'nothing'}")
        return recorded[name]

    def record(self, figures: dict[str, float]) -> None:
        """Append one epoch's figures."""
        for key, value in figures.items():
            own = getattr(self, key, None)
            if isinstance(own, list):
                own.append(value)
            else:
                self.extra.setdefault(key, []).append(value)

    def plot(self, path: "str | os.PathLike[str] | None" = None, **options: Any) -> Any:
        """The training curves as a matplotlib Figure (see ``shapenn.plots.plot_history``);
        in a notebook, the figure shows itself. Needs ``shapenn[plots]``."""
        from ..plots import plot_history

        return plot_history(self, path, **options)


def count(where: str, name: str, value: object, *, optional: bool) -> int | None:
    """``value`` as a plain int if it is an integer >= 1 (a NumPy integer is the int it holds,
    never wrapped), or None when ``optional``; a clear error otherwise."""
    if optional:
        return _args.optional_positive(where, name, value)
    return _args.positive(where, name, value)


def options(verbose: object, callback: object) -> int:
    """``verbose`` as 0, 1 or 2, after checking ``callback`` is a function or None."""
    _args.function("Model.fit", "callback", callback, takes="(epoch, figures)")
    level = _args.as_integer(verbose)
    if level is not None and level in (0, 1, 2):
        return level
    raise ArgumentError(
        f"Model.fit: verbose must be 0 (silent), 1 (a progress bar) or 2 (a line per epoch), "
        f"got {_args.shown(verbose)}"
    )


def generator(seed: object) -> np.random.Generator:
    """The shuffling generator for ``seed``: None, an int >= 0 or a numpy Generator."""
    return _args.generator("Model.fit", seed)


@contextmanager
def interrupts_between_steps() -> Iterator[list[Any]]:
    """Hold Ctrl-C (SIGINT) back while the block runs, into the list it yields: the loop
    delivers it (`deliver`) between two steps, so an interrupt never cuts a step in half (the
    weights of step k + 1 with the optimizer's count at k). Only the main thread receives
    signals; elsewhere this holds nothing back."""
    caught: list[Any] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(previous))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def deliver(caught: list[Any]) -> None:
    """Act on a Ctrl-C that `interrupts_between_steps` held back, as its handler would."""
    handler = caught.pop()
    caught.clear()
    if callable(handler):
        handler(signal.SIGINT, None)  # Python's default raises KeyboardInterrupt
    else:  # the system's default action, or ignored
        signal.signal(signal.SIGINT, handler)
        signal.raise_signal(signal.SIGINT)


def batches(
    n: int, size: int | None, order: npt.NDArray[np.intp] | None = None
) -> Iterator[slice | npt.NDArray[np.intp]]:
    """The rows of each batch of ``size`` (None: all ``n`` at once), in ``order`` if given."""
    step = n if size is None else size
    for start in range(0, n, step):
        yield slice(start, start + step) if order is None else order[start : start + step]


class Measured(NamedTuple):
    """What one batch scored: its data loss, regularization penalty and metric (or None)."""

    data_loss: Any
    regularization: Any
    metric: Any


class Loop:
    """Training: `run` goes over the epochs; subclasses change what a step measures and what
    is reported after each step and epoch.

    Args:
        model: the model, with its loss and optimizer set.
        verbose, callback, callbacks: as for ``Model.fit``.
        where: the method errors name (``fit``).
    """

    def __init__(
        self,
        model: Model,
        *,
        verbose: int = 1,
        callback: Callable[[int, dict[str, float]], None] | None = None,
        callbacks: Sequence[Callback] = (),
        where: str = "fit",
    ) -> None:
        assert model.loss is not None and model.optimizer is not None  # checked by the caller
        self.model, self.loss, self.optimizer = model, model.loss, model.optimizer
        self.metric = model.metric
        self.callback = callback
        self.callbacks = list(callbacks)
        self.history = History(
            metric=repr(self.metric) if self.metric is not None else "",
            regression=self.metric is not None and not self.metric.classifies,
        )
        self.progress: Progress | None = None
        self.penalized: list[Layer] = list(model.layers)
        self.verbose, self.where = verbose, where

    def run(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int,
        batch_size: int | None,
        shuffle: bool,
        rng: np.random.Generator | None,
        validation: tuple[Any, Any] | None,
        weights: Any = None,
    ) -> History:
        """Train for ``epochs`` over checked data; return the History. ``weights``, one per
        sample (or None), weight each sample's loss and gradient."""
        model = self.model
        model.stop_training = False
        names = self.figure_names(validation is not None)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.on_train_begin(names)
        parameters = [p for layer in model.trainable_layers for p in layer.parameters()]
        # The layers whose penalty can be other than zero: a layer that keeps no penalty of
        # its own and owns no layer is asked nothing at every step.
        self.penalized = [
            layer
            for layer in model.layers
            if type(layer).regularization_loss is not Layer.regularization_loss
            or next(layer.children(), None) is not None
        ]
        mode = ("quiet", "bar", "lines")[min(max(self.verbose, 0), 2)]
        self.progress = Progress(epochs, mode=mode)
        try:
            with interrupts_between_steps() as held:
                for epoch in range(1, epochs + 1):
                    for metric in model.metrics:
                        metric.reset()
                    for callback in self.callbacks:
                        callback.on_epoch_begin(epoch)
                    shuffled = shuffle and batch_size and rng is not None
                    order = rng.permutation(len(X)) if shuffled and rng is not None else None
                    figures = self.epoch(X, y, weights, parameters, epoch, batch_size, order, held)
                    if validation is not None:
                        val_loss, val_accuracy = self.validate(*validation, batch_size)
                        figures["val_loss"] = val_loss
                        if val_accuracy is not None:
                            figures["val_accuracy"] = val_accuracy
                        figures |= {f"val_{m.name}": m.result() for m in model.metrics}
                    figures["learning_rate"] = float(self.optimizer.current_learning_rate)
                    self.after_epoch(epoch, figures)
                    for callback in self.callbacks:
                        callback.on_epoch_end(epoch, figures)
                    if model.stop_training:
                        break
        finally:
            self.progress.close()
            model.set_training(False)  # whatever happened, the model is left in inference mode
        for callback in self.callbacks:
            callback.on_train_end()
        return self.history

    def epoch(
        self,
        X: Any,
        y: Any,
        weights: Any,
        parameters: list[Any],
        epoch: int,
        batch_size: int | None,
        order: npt.NDArray[np.intp] | None,
        held: list[Any],
    ) -> dict[str, float]:
        """One pass over (X, y) in batches of ``order``; the epoch's training figures. A
        Ctrl-C held back during a step is delivered after it."""
        model = self.model
        totals = {"loss": 0.0, "data_loss": 0.0, "correct": 0.0, "weight": 0.0}
        dtype = model.input_dtype
        self.before_epoch(epoch)
        with model.lock:
            model.set_training(True)
        gather = Gather(X, dtype, batch_size)
        for step, rows in enumerate(batches(len(X), batch_size, order), start=1):
            batch_x, batch_y = gather(rows), y[rows]
            batch_w = weights[rows] if weights is not None else None
            output, measured = self.step(
                batch_x, batch_y, batch_w, parameters, epoch=epoch, step=step
            )
            if held:
                deliver(held)
            size = batch_x.shape[0]
            weight = float(batch_w.sum()) if batch_w is not None else float(size)
            totals["weight"] += weight
            totals["data_loss"] += float(measured.data_loss) * weight
            totals["loss"] += float(measured.data_loss + measured.regularization) * weight
            if measured.metric is not None:
                totals["correct"] += float(measured.metric) * size
            for metric in model.metrics:
                metric.update(output, batch_y)
            self.after_step(epoch, step, measured)
        with model.lock:
            model.set_training(False)
        weight = totals["weight"] or 1.0
        figures = {"loss": totals["loss"] / weight, "data_loss": totals["data_loss"] / weight}
        figures["regularization_loss"] = figures["loss"] - figures["data_loss"]
        if self.metric is not None:
            figures["accuracy"] = totals["correct"] / len(X)
        figures |= {metric.name: metric.result() for metric in model.metrics}
        return figures

    def step(
        self,
        batch_x: ArrayND,
        batch_y: Any,
        batch_w: Any,
        parameters: list[Any],
        *,
        epoch: int,
        step: int,
    ) -> tuple[ArrayND, Measured]:
        """One training step on a batch: forward, measure, backward, update; the batch's
        outputs and figures. Holds the model's lock: a ``predict`` in another thread runs
        between two steps, never inside one (it would overwrite the caches backward reads)."""
        model = self.model
        # Overflow shows up as a non-finite loss or weight, which stops training with a
        # DivergenceError that says where; NumPy's warnings on the way there would be noise.
        with model.lock, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            output = model.forward(batch_x)
            if epoch == 1 and step == 1:  # before the first step changes anything
                model._check_predictions(self.loss, output, self.where)
            measured = self.measure(output, batch_y, batch_w)
            total = measured.data_loss + measured.regularization
            if not math.isfinite(total):
                raise self.diverged(f"the loss became {total}", epoch, step)
            model.backward(output, batch_y, batch_w)
            try:
                self.optimizer.apply(parameters)
            except DivergenceError as err:
                raise self.diverged(str(err).split(" (")[0], epoch, step) from None
        return output, measured

    def figure_names(self, validation: bool) -> list[str]:
        """The names of the figures each epoch records, in order."""
        names = ["loss", "data_loss", "regularization_loss"]
        names += ["accuracy"] if self.metric is not None else []
        names += [metric.name for metric in self.model.metrics]
        if validation:
            names += ["val_loss"] + (["val_accuracy"] if self.metric is not None else [])
            names += [f"val_{metric.name}" for metric in self.model.metrics]
        return [*names, "learning_rate"]

    def measure(self, output: ArrayND, y: Any, weights: Any = None) -> Measured:
        """The batch's data loss (weighted by ``weights``, one per sample, if given: ``Σ w ℓ /
        Σ w``), regularization penalty and metric."""
        metric = self.metric.calculate(output, y) if self.metric is not None else None
        penalty = sum((layer.regularization_loss() for layer in self.penalized), 0.0)
        if weights is None:
            return Measured(self.loss.calculate(output, y), penalty, metric)
        losses = np.asarray(self.loss.forward(output, y), dtype=np.float64)
        total = float(weights.sum())
        data_loss = float(losses @ weights) / total if total > 0 else 0.0
        return Measured(data_loss, penalty, metric)

    def validate(self, X: Any, y: Any, batch_size: int | None) -> tuple[float, float | None]:
        """The loss and metric on the validation data (in inference mode)."""
        return self.model._evaluate(X, y, batch_size)

    def before_epoch(self, epoch: int) -> None:
        """Called before each epoch's first step (nothing by default)."""

    def after_step(self, epoch: int, step: int, measured: Measured) -> None:
        """Called after each step (nothing by default)."""

    def after_epoch(self, epoch: int, figures: dict[str, float]) -> None:
        """Record the epoch's figures, show them, and call the user's callback."""
        self.history.record(figures)
        if self.progress is not None:
            self.progress(epoch, figures)
        if self.callback is not None:
            self.callback(epoch, figures)

    def diverged(self, what: str, epoch: int, step: int) -> DivergenceError:
        lr = getattr(self.optimizer, "current_learning_rate", 0.0)
        return DivergenceError(
            f"Model.{self.where}: {what} at epoch {epoch}, step {step}; training stopped and the "
            "model "
            f"keeps its weights and optimizer state from the last finite step. Try a lower "
            f"learning rate (now {lr:g}) or inputs scaled to about unit size"
        )
