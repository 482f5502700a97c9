"""Callbacks for ``Model.fit``, as Keras users know them: stop early, keep the best model,
schedule the learning rate, lower it on a plateau.

A callback is told when training begins (with the names of the figures each epoch will
record, so that one naming a figure that does not exist is refused before the first step), when
each epoch begins and ends (with that epoch's figures), and when training ends. It reaches the
model as ``self.model`` and stops training by setting ``self.model.stop_training = True``.

Example::

    history = model.fit(
        X, y, epochs=100, validation_split=0.2,
        callbacks=[EarlyStopping(patience=5, restore_best_weights=True),
                   ModelCheckpoint("best.npz", save_best_only=True)],
    )
"""

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._args import nonnegative, positive
from ._files import check_writable
from ._io import save
from .model import Model
from .shapes import ArgumentError

__all__ = [
    "Callback",
    "EarlyStopping",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "cosine_decay",
    "exponential_decay",
    "step_decay",
]

Schedule = Callable[[int, float], float]


class Callback:
    """The base of a callback: each method does nothing; override those you need.

    Attributes:
        model: the model being trained (set by ``fit`` before ``on_train_begin``).
    """

    model: Model

    def set_model(self, model: Model) -> None:
        self.model = model

    def on_train_begin(self, figures: Sequence[str]) -> None:
        """Training starts; ``figures`` are the names each epoch will record (``loss``,
        ``accuracy``, ``val_loss``, ``learning_rate``, …)."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Epoch ``epoch`` (from 1) starts."""

    def on_epoch_end(self, epoch: int, figures: dict[str, float]) -> None:
        """Epoch ``epoch`` ended with ``figures``."""

    def on_train_end(self) -> None:
        """Training ended (also when a callback stopped it)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Monitoring(Callback):
    """A callback that watches one figure for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        owner = type(self).__name__
        if not isinstance(monitor, str):
            raise ArgumentError(f"{owner}: monitor must be the name of a figure, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ArgumentError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor: str = monitor
        self.mode: str = mode
        self.min_delta: float = nonnegative(owner, "min_delta", min_delta)
        #: The best figure so far.
        self.best: float = math.inf

    @property
    def minimizes(self) -> bool:
        """Whether lower is better: 'min', or 'auto' for a loss."""
        return self.mode == "min" or (self.mode == "auto" and "loss" in self.monitor)

    def on_train_begin(self, figures: Sequence[str]) -> None:
        if self.monitor not in figures:
            shown = ", ".join(figures)
            advice = (
                "; val_ figures need validation_data or validation_split"
                if self.monitor.startswith("val_")
                else ""
            )
            raise ArgumentError(
                f"{type(self).__name__}: monitor={self.monitor!r} is not a figure this training "
                f"records; it records {shown}{advice}"
            )
        self.best = math.inf if self.minimizes else -math.inf

    def improved(self, figures: dict[str, float]) -> bool:
        """Whether the monitored figure beat the best so far by more than ``min_delta``
        (and, if so, remember it as the best)."""
        value = figures[self.monitor]
        better = (
            value < self.best - self.min_delta
            if self.minimizes
            else value > self.best + self.min_delta
        )
        if better:
            self.best = value
        return better


class EarlyStopping(_Monitoring):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras's
    ``EarlyStopping``).

    Args:
        monitor: the figure to watch: ``val_loss`` (default), ``loss``, ``val_accuracy``, …
        patience: epochs without improvement before stopping (0: stop at the first).
        min_delta: the least change that counts as an improvement.
        mode: ``"min"``, ``"max"``, or ``"auto"`` (min for a loss, max otherwise).
        restore_best_weights: at the end of training, give the model the parameters and
            buffers it had at its best epoch.

    Attributes:
        best_epoch: the epoch with the best figure; stopped_epoch: the epoch training stopped
            at (0 if it ran to the end).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, int | np.integer) or patience < 0:
            raise ArgumentError(
                f"EarlyStopping: patience must be an integer >= 0, got {patience!r}"
            )
        self.patience: int = int(patience)
        self.restore_best_weights: bool = bool(restore_best_weights)
        self.wait: int = 0
        self.best_epoch: int = 0
        self.stopped_epoch: int = 0
        self._best_arrays: list[np.ndarray[Any, np.dtype[Any]]] | None = None

    def on_train_begin(self, figures: Sequence[str]) -> None:
        super().on_train_begin(figures)
        self.wait = self.best_epoch = self.stopped_epoch = 0
        self._best_arrays = None

    def on_epoch_end(self, epoch: int, figures: dict[str, float]) -> None:
        if self.improved(figures):
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best_weights:
                self._best_arrays = [a.value.copy() for a in _arrays(self.model)]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self) -> None:
        if self._best_arrays is not None:
            # Into the arrays the layers hold: they are views of the optimizer's buffer.
            for array, best in zip(_arrays(self.model), self._best_arrays, strict=True):
                np.copyto(array.value, best)

    def __repr__(self) -> str:
        return f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience})"


def _arrays(model: Model) -> list[Any]:
    return [a for i, layer in enumerate(model.layers) for a in layer.state_arrays(f"{i}")]


class ModelCheckpoint(_Monitoring):
    """Save the model with ``shapenn.save`` after each epoch, or only when ``monitor``
    improved (Keras's ``ModelCheckpoint``). Each save is atomic and verified.

    Args:
        path: the file; it may name figures to be filled in, as ``str.format`` does:
            ``"model-{epoch:02d}-{val_loss:.3f}.npz"``.
        monitor, mode, min_delta: as for EarlyStopping.
        save_best_only: save only when ``monitor`` improved.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        save_best_only: bool = False,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        if not isinstance(path, str | os.PathLike):
            raise ArgumentError(f"ModelCheckpoint: path must be a file name, got {path!r}")
        self.path: str = os.fspath(path)
        self.save_best_only: bool = bool(save_best_only)
        self.saved: list[Path] = []

    def on_train_begin(self, figures: Sequence[str]) -> None:
        if self.save_best_only:
            super().on_train_begin(figures)
        try:
            example = self.path.format(epoch=1, **dict.fromkeys(figures, 0.0))
        except (KeyError, IndexError, ValueError) as err:
            raise ArgumentError(
                f"ModelCheckpoint: the path {self.path!r} names {err}, which is not a figure "
                f"this training records ({', '.join(['epoch', *figures])})"
            ) from None
        check_writable(example)  # refused now, not after the first epoch

    def on_epoch_end(self, epoch: int, figures: dict[str, float]) -> None:
        if self.save_best_only and not self.improved(figures):
            return
        self.saved.append(save(self.model, self.path.format(epoch=epoch, **figures)))

    def __repr__(self) -> str:
        return f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r})"


def _rate(owner: str, value: float) -> float:
    rate = nonnegative(owner, "the learning rate", value)
    if rate == 0:
        raise ArgumentError(f"{owner}: the learning rate must be > 0, got {value!r}")
    return rate


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (Keras's
    ``LearningRateScheduler``: ``epoch`` counts from 0, ``lr`` is the current rate). An
    optimizer's ``decay``, if any, still applies to it step by step.

    Ready schedules: `step_decay`, `exponential_decay`, `cosine_decay`.
    """

    def __init__(self, schedule: Schedule) -> None:
        if not callable(schedule):
            raise ArgumentError(
                f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, got "
                f"{schedule!r}"
            )
        self.schedule: Schedule = schedule

    def on_epoch_begin(self, epoch: int) -> None:
        optimizer = self.model.optimizer
        assert optimizer is not None  # fit checks that there is one
        rate = self.schedule(epoch - 1, optimizer.learning_rate)
        # 0 is allowed: a schedule may end there (a cosine to 0).
        optimizer.set_learning_rate(nonnegative("LearningRateScheduler", "the learning rate", rate))


def step_decay(initial: float, *, factor: float = 0.5, every: int = 10) -> Schedule:
    """``initial · factor^⌊epoch / every⌋``: the rate drops by ``factor`` every ``every``
    epochs."""
    start = _rate("step_decay", initial)
    drop = nonnegative("step_decay", "factor", factor)
    period = positive("step_decay", "every", every)
    return lambda epoch, lr: start * drop ** (epoch // period)


def exponential_decay(initial: float, *, rate: float = 0.95) -> Schedule:
    """``initial · rate^epoch``."""
    start = _rate("exponential_decay", initial)
    base = nonnegative("exponential_decay", "rate", rate)
    return lambda epoch, lr: start * base**epoch


def cosine_decay(initial: float, *, epochs: int, warmup: int = 0, final: float = 0.0) -> Schedule:
    """A linear warm-up to ``initial`` over the first ``warmup`` epochs (epoch ``e`` gets
    ``initial · (e + 1) / (warmup + 1)``), then a half cosine from ``initial`` at epoch
    ``warmup`` down to ``final`` at the last epoch, ``epochs - 1`` (epochs count from 0)."""
    start = _rate("cosine_decay", initial)
    length = positive("cosine_decay", "epochs", epochs)
    rise = int(nonnegative("cosine_decay", "warmup", warmup))
    end = nonnegative("cosine_decay", "final", final)
    if rise >= length:
        raise ArgumentError(
            f"cosine_decay: warmup ({warmup}) must be shorter than epochs ({epochs})"
        )

    def schedule(epoch: int, lr: float) -> float:
        if epoch < rise:
            return start * (epoch + 1) / (rise + 1)
        progress = min(1.0, (epoch - rise) / max(1, length - 1 - rise))
        return end + (start - end) * 0.5 * (1 + math.cos(math.pi * progress))

    return schedule


class ReduceLROnPlateau(_Monitoring):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras's ``ReduceLROnPlateau``).

    Args:
        monitor, mode, min_delta: as for EarlyStopping.
        factor: in (0, 1).
        patience: epochs without improvement before lowering the rate.
        cooldown: epochs to wait after lowering it before counting again.
        min_lr: the rate is never lowered below it.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        mode: str = "auto",
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.factor: float = nonnegative("ReduceLROnPlateau", "factor", factor)
        if not 0 < self.factor < 1:
            raise ArgumentError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        self.patience: int = int(nonnegative("ReduceLROnPlateau", "patience", patience))
        self.cooldown: int = int(nonnegative("ReduceLROnPlateau", "cooldown", cooldown))
        self.min_lr: float = nonnegative("ReduceLROnPlateau", "min_lr", min_lr)
        self.wait: int = 0
        self.cooling: int = 0

    def on_train_begin(self, figures: Sequence[str]) -> None:
        super().on_train_begin(figures)
        self.wait = self.cooling = 0

    def on_epoch_end(self, epoch: int, figures: dict[str, float]) -> None:
        if self.cooling:
            self.cooling -= 1
        if self.improved(figures):
            self.wait = 0
            return
        if self.cooling:
            return
        self.wait += 1
        optimizer = self.model.optimizer
        assert optimizer is not None
        if self.wait >= self.patience and optimizer.learning_rate > self.min_lr:
            optimizer.set_learning_rate(max(optimizer.learning_rate * self.factor, self.min_lr))
            self.wait, self.cooling = 0, self.cooldown
