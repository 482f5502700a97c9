"""A sequential model: the chain of layers and its build, one batch forward and backward, and
the entry points ``fit``, ``evaluate`` and ``predict``.

The model knows no layer, loss or optimizer by name. It asks each layer for its output shape
(read from the layer's annotations), its parameters (through the one walk over state) and
whether it can skip its input gradient; it asks the loss for its targets and for a fused
gradient with the last layer. The training loop is `shapenn.model._fit`, the checks of data
`._data`, the printed table `._summary`.
"""

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from .._losses import Loss
from .._metrics import Accuracy
from .._threads import blas_threads
from ..layers import Layer, Parameter
from ..optim import Optimizer
from ..shapes import (
    ArgumentError,
    ArrayND,
    ArraySpec,
    Bindings,
    Bound,
    Chain,
    ShapeError,
    Size,
    bind,
    input_spec,
    public,
    signature,
)
from . import _fit, _summary, _weights
from ._chain import (
    Step,
    build_chain,
    check_layers,
    check_metrics,
    check_parts,
    fingerprint,
    first_input,
    kind,
    sample_shape,
)
from ._data import as_batch, check_inputs, default_batch, layer_hint, work
from ._fit import History, count, generator

__all__ = ["Model"]


Shape = tuple[Size, ...]


class Model:
    """A stack of layers trained together, the book's ``Model`` with Keras's conveniences.

    Args:
        layers: the layers, input first. More can be added with ``add``.
        loss, optimizer, metric: as for ``set``.
        metrics: further metrics (``[Precision(), F1(), TopKAccuracy(3)]``), computed in the
            same batches as the loss and recorded each epoch under their names (``f1``,
            ``val_f1``); ``evaluate(..., return_dict=True)`` gives them too.
        input_shape: the shape of one sample, e.g. ``(1, 28, 28)``; without it, the shape the
            first layer's parameters imply (``(2,)`` for ``Dense(2, 64)``), and what the first
            batch shows for the rest.

    The chain of layers is validated before any data, from the layers' own annotations (at
    construction, ``add``, ``set``, ``summary`` and ``build()``), and again whenever the
    layers or their parameters' shapes have changed: a ``Dense(2, 64)`` followed by a
    ``Dense(32, 3)`` is a ShapeError naming both layers, their positions and the dims.

    ``fit``, ``evaluate`` and ``predict`` cast each batch to what the first layer takes, as
    Keras does: float data of any real dtype to the model's float dtype (float32 by default),
    integer token ids to int64 for a model that starts with integer inputs; the layers
    themselves never cast.

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
        metrics: Sequence[Accuracy] = (),
        input_shape: Sequence[int] | None = None,
    ) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, Sequence | Iterator):
            shown = repr(layers) if isinstance(layers, Layer) else f"a {type(layers).__name__}"
            raise ArgumentError(
                f"Model: layers must be a list of layers, got {shown}"
                + (f": write Model([{layers!r}])" if isinstance(layers, Layer) else "")
            )
        self.layers: list[Layer] = list(layers)
        self.loss = loss
        self.optimizer = optimizer
        self.metric = metric
        check_parts(loss, optimizer, metric)
        #: Further metrics (precision, F1, top-k, …), recorded each epoch under their names.
        self.metrics: list[Accuracy] = check_metrics(metrics, metric)
        self.input_shape: tuple[int, ...] | None = sample_shape(input_shape)
        self._seen: tuple[int, ...] | None = None  # the sample shape of the last data, if used
        self._built: tuple[Any, ...] | None = None
        self._steps: list[Step] = []
        #: Set by a callback (EarlyStopping) to end ``fit`` after the current epoch.
        self.stop_training = False
        #: Held by each training step and by ``predict`` and ``evaluate``: calls on one model
        #: from several threads take turns, a step at a time (see ``fit``).
        self.lock: threading.RLock = threading.RLock()
        # forward and backward through the layers: checked layer by layer the first time a
        # signature is seen, as one key after that (see shapenn.shapes.Chain).
        self._forward_chain, self._backward_chain = Chain(), Chain()
        if self.layers:
            self.build()

    # --- building --------------------------------------------------------------------------

    @public
    def add(self, layer: Layer) -> "Model":
        """Append a layer (the book's ``model.add``) and re-validate the chain."""
        if not isinstance(layer, Layer):
            raise ArgumentError(f"Model.add: expected a shapenn Layer, got {kind(layer)}")
        self.layers.append(layer)
        try:
            self.build()
        except (ShapeError, ArgumentError):
            self.layers.pop()  # a rejected layer (a shape that does not fit, one used twice)
            raise
        return self

    @public
    def set(
        self,
        *,
        loss: Loss | None = None,
        optimizer: Optimizer | None = None,
        metric: Accuracy | None = None,
        metrics: Sequence[Accuracy] | None = None,
    ) -> "Model":
        """Set the loss, optimizer, metric and further metrics (the book's ``model.set``)."""
        check_parts(loss, optimizer, metric)
        if metrics is not None:
            self.metrics = check_metrics(metrics, metric or self.metric)
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if metric is not None:
            self.metric = metric
        self.build()
        return self

    def parameters(self) -> list[Parameter]:
        """Every trainable parameter, with its path (``layers.1.norm.gamma``)."""
        return [p for i, layer in enumerate(self.layers) for p in layer.parameters(f"layers.{i}")]

    @property
    def dtype(self) -> np.dtype[Any]:
        """The float dtype the model computes in: that of its first parameter (float32
        without one). Float inputs and targets are cast to it."""
        for parameter in self.parameters():
            if parameter.value.dtype.kind == "f":
                return parameter.value.dtype
        return np.dtype(np.float32)

    @property
    def input_dtype(self) -> np.dtype[Any]:
        """The dtype inputs are cast to, from the first layer's signature: int64 for integer
        inputs (token ids), else the model's float dtype."""
        if self.layers and signature(type(self.layers[0])).input_family == "Integer":
            return np.dtype(np.int64)
        return self.dtype

    @property
    def sample_shape(self) -> tuple[Size, ...] | None:
        """The shape of one input sample as far as it is known: ``(2,)`` for a model that
        starts with ``Dense(2, 64)``, ``?`` for a size only data can tell; None when not even
        the rank is known."""
        self.build()
        first = first_input(self.layers, self.input_shape, self._seen)
        return None if first is None else tuple(first[1:])

    @public
    def build(self, input_shape: Sequence[int] | None = None) -> list[Shape | None]:
        """Validate the chain of layers before any data and return each layer's output shape
        (None where only data can tell).

        Args:
            input_shape: the shape of one sample, if not given to the constructor.

        Raises:
            ShapeError: at the first layer whose input does not fit the previous output.
            ArgumentError: something that is not a layer, a layer used twice, or a layer that
                takes two inputs.
        """
        if input_shape is not None:
            self.input_shape = sample_shape(input_shape)
        if not self.layers:
            raise ArgumentError("the model has no layers: add some with Model([...]) or add()")
        check_layers(self.layers)
        first = first_input(self.layers, self.input_shape, self._seen)
        found = fingerprint(self.layers, first)
        if found != self._built:
            self._steps, self._built = build_chain(self.layers, first), found
        return [step.output for step in self._steps]

    @property
    def trainable_layers(self) -> list[Layer]:
        """The layers with parameters (their own or their sub-layers')."""
        return [layer for layer in self.layers if layer.parameters()]

    def _work(self, batch: int) -> int:
        """About how many multiply-adds a batch of ``batch`` samples takes (see `work`)."""
        return work(self._steps, batch)

    def _batch(self) -> int:
        """The rows per batch of ``predict`` and ``evaluate`` when none is given."""
        return default_batch(self._steps, self.dtype)

    def count_params(self) -> int:
        """The number of trainable values in all layers (and the layers they own)."""
        return sum(p.value.size for p in self.parameters())

    @public
    def summary(self, print_fn: Callable[[str], None] | None = print) -> str:
        """A table of each layer with its named output shape and parameter count.

        Printed with ``print_fn`` (None to only return it).
        """
        print_fn = _summary.printer(print_fn)
        table = _summary.text(self)
        if print_fn is not None:
            print_fn(table)
        return table

    def _repr_html_(self) -> str:
        """The summary as an HTML table, which Jupyter shows for a model."""
        return _summary.html_table(self)

    def __repr__(self) -> str:
        return "Model([" + ", ".join(map(repr, self.layers)) + "])"

    # --- one batch ---------------------------------------------------------------------------

    def set_training(self, training: bool) -> None:
        """Training mode (Dropout drops, BatchNorm uses the batch's statistics) or not, for
        every layer and every layer they own."""
        for layer in self.layers:
            layer.set_training(training)

    def __getstate__(self) -> dict[str, Any]:
        # A lock is not copied or pickled: a copy gets a lock of its own.
        state = dict(self.__dict__)
        del state["lock"], state["_forward_chain"], state["_backward_chain"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()
        self._forward_chain, self._backward_chain = Chain(), Chain()

    @contextmanager
    def _inference(self) -> Iterator[None]:
        """Hold the model's lock in inference mode, and give back the mode it was in: a
        ``predict`` between two steps of a ``fit`` in another thread leaves that fit in
        training mode."""
        with self.lock:
            was = [layer.training for layer in self.layers]
            self.set_training(False)
            try:
                yield
            finally:
                for layer, training in zip(self.layers, was, strict=True):
                    layer.set_training(training)

    def forward(self, inputs: ArrayND) -> ArrayND:
        """Run ``inputs`` through every layer (in the current training mode)."""
        output: ArrayND = self._forward_chain([(layer, "forward") for layer in self.layers], inputs)
        return output

    def backward(self, output: ArrayND, y_true: Any, weights: Any = None) -> None:
        """Backpropagate the loss of ``output`` against ``y_true`` through every layer; with
        ``weights`` (one per sample), the gradient of the weighted mean ``Σ w ℓ / Σ w``."""
        loss = self._require("backward", optimizer=False)
        layers = self.layers
        fused = loss.fused_backward(layers[-1])
        if fused is not None:  # e.g. softmax + cross-entropy: the gradient of the logits
            dvalues = fused(output, y_true)
            layers = layers[:-1]
        else:
            dvalues = loss.backward(output, y_true)
        if weights is not None:
            # The loss's gradient is of the plain mean (each sample 1/n): sample i's share
            # becomes w_i / Σw, its rows scaled by w_i · n / Σw.
            total = float(weights.sum())
            scale = weights * (len(weights) / total) if total > 0 else np.zeros_like(weights)
            dvalues = dvalues * scale.astype(dvalues.dtype).reshape(-1, *[1] * (dvalues.ndim - 1))
        calls = [(layer, "backward") for layer in reversed(layers[1:])]
        if layers:  # nothing consumes the first layer's input gradient
            calls.append((layers[0], "backward_parameters"))
        self._backward_chain(calls, dvalues)

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
        try:
            array = check_inputs(X, spec, bindings, where=f"Model.{where}", dtype=self.input_dtype)
        except ShapeError as error:
            raise layer_hint(error, self.layers[0] if self.layers else None, X) from None
        if self.input_shape is None:
            # The data tells what the layers could not (an image's height, a sequence's
            # length): validate the chain for it before the first batch runs.
            previous, self._seen = self._seen, tuple(int(s) for s in array.shape[1:])
            try:
                self.build()
            except ShapeError:
                self._seen = previous
                raise
        return array

    def _predictions(self, samples: int) -> Shape:
        """The shape of the model's output for ``samples`` samples, as far as it is known."""
        last = self._steps[-1].output if self._steps else None
        return (samples, *last[1:]) if last is not None else (samples,)

    def _checked(self, X: npt.ArrayLike, y: npt.ArrayLike, where: str) -> tuple[Any, Any]:
        loss = self._require(where, optimizer=False)
        X_arr = self._inputs(X, where)
        last = f"`layers[{len(self.layers) - 1}] {self.layers[-1]!r}`'s output"
        y_arr = loss.targets(
            y,
            predictions=self._predictions(X_arr.shape[0]),
            dtype=self.dtype,
            where=f"Model.{where}",
            source=last,
        )
        return X_arr, y_arr

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

    def _check_predictions(self, loss: Loss, output: ArrayND, where: str) -> None:
        """The loss's check of what the last layer outputs (probabilities for cross-entropy)."""
        last = f"layers[{len(self.layers) - 1}] {self.layers[-1]!r}"
        loss.check_predictions(output, where=f"Model.{where}", last=last)

    # --- training ----------------------------------------------------------------------------

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
        callbacks: Sequence[Any] = (),
        validation_split: float | None = None,
        class_weight: Mapping[int, float] | None = None,
        sample_weight: npt.ArrayLike | None = None,
        threads: int | None = None,
    ) -> History:
        """Train for ``epochs`` passes over (X, y) and return the per-epoch History.

        Args:
            X: (samples, *input_shape): real values for a model of floats, integer ids for a
                model that starts with integer inputs; cast batch by batch.
            y: what the loss takes, for the model's output (samples, *positions, classes):
                integer labels (samples, *positions) or one-hot rows for cross-entropy; values
                of the output's shape for binary cross-entropy and regression.
            epochs: passes over the data.
            batch_size: samples per step; None for the whole set in one step (the book's).
            validation_data: (X_val, y_val), evaluated after each epoch.
            shuffle: reshuffle the samples each epoch (only with mini-batches).
            seed: seed or Generator for shuffling.
            verbose: 1 (default) a progress bar with the figures in a terminal or notebook
                (about ten lines on standard error when the output is a log), 2 one line per
                epoch, 0 nothing.
            callback: called after each epoch with (epoch, figures).
            callbacks: ``shapenn.callbacks`` objects (EarlyStopping, ModelCheckpoint,
                LearningRateScheduler, ReduceLROnPlateau, or your own Callback).
            validation_split: hold out this fraction of the samples, the last ones before any
                shuffling (as Keras), as validation data; not with ``validation_data``.
            class_weight: a weight for each class (every class of the model's output), by
                which each sample's loss is weighted: ``{0: 1.0, 1: 5.0}`` for a rare class 1.
            sample_weight: one weight per sample (>= 0), by which its loss is weighted; the
                loss is then ``Σ w ℓ / Σ w`` (multiplied by ``class_weight`` when both are
                given). Metrics are not weighted.
            threads: BLAS threads for the matrix products; None chooses by the size of a step
                (one thread for small ones, see ``shapenn._threads``).

        Raises:
            ShapeError: X or y of the wrong shape or dtype for this model and loss.
            ArgumentError: empty data, NaN/inf values; LabelError: labels out of range.
            DivergenceError: the loss became NaN/inf; the model keeps its last finite weights.
        """
        self._require("fit", optimizer=True)
        epochs = count("Model.fit", "epochs", epochs, optional=False) or 1
        batch_size = count("Model.fit", "batch_size", batch_size, optional=True)
        verbose = _fit.options(verbose, callback)
        rng = generator(seed)
        X_arr, y_arr = self._checked(X, y, "fit")
        _weights.check_callbacks(callbacks, _fit.Callback)
        weights = _weights.sample_weights(sample_weight, X_arr.shape[0])
        if validation_split is not None:
            if validation_data is not None:
                raise ArgumentError("Model.fit: give validation_data or validation_split, not both")
            kept = _weights.split(validation_split, X_arr.shape[0])
            _weights.warn_unseen(y_arr[:kept], y_arr[kept:], validation_split)
            validation_data = (X_arr[kept:], y_arr[kept:])
            X_arr, y_arr = X_arr[:kept], y_arr[:kept]
            weights = weights[:kept] if weights is not None else None
        if class_weight is not None:
            weights = _weights.class_weights(class_weight, y_arr, self._predictions(1), weights)
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
        with blas_threads(threads, self._work(batch_size or X_arr.shape[0])):
            loop = _fit.Loop(self, verbose=verbose, callback=callback, callbacks=callbacks)
            return loop.run(
                X_arr,
                y_arr,
                epochs=epochs,
                batch_size=batch_size,
                shuffle=shuffle,
                rng=rng,
                validation=validation,
                weights=weights,
            )

    def _check_parameters(self) -> None:
        """Refuse to train from parameters that are already NaN or infinite: every step keeps
        them finite from there on, which is what a DivergenceError promises."""
        for parameter in self.parameters():
            if not np.isfinite(parameter.value).all():
                raise ArgumentError(
                    f"Model.fit: {parameter.path} of {parameter.layer!r} holds NaN or infinite "
                    "values; give it finite ones (e.g. a new layer) first"
                )

    # --- inference ---------------------------------------------------------------------------

    @public
    def predict(
        self, X: npt.ArrayLike, *, batch_size: int | None = None, threads: int | None = None
    ) -> ArrayND:
        """The model's outputs for X, ``batch_size`` rows at a time (by default up to 1024, as
        many as keep a batch's activations within 64 MiB); ``threads`` as for ``fit``. Safe
        from another thread while ``fit`` runs (between two of its steps), but a loop of
        predicts without pause slows that ``fit`` many times over (it holds Python's GIL).

        Shape:
            X: (samples, *input_shape) → (samples, *output_shape).
        """
        batch_size = count("Model.predict", "batch_size", batch_size, optional=True)
        X_arr = self._inputs(X, "predict")
        n = X_arr.shape[0]
        size = batch_size or self._batch()
        result: Any = None
        with blas_threads(threads, self._work(min(size, n))):
            for rows in _fit.batches(n, size):
                with self._inference():
                    output = self.forward(as_batch(X_arr[rows], self.input_dtype))
                if result is None:
                    result = np.empty((n, *output.shape[1:]), dtype=output.dtype)
                result[rows] = output
        predictions: ArrayND = result
        return predictions

    @overload
    def evaluate(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        batch_size: int | None = None,
        threads: int | None = None,
        return_dict: Literal[False] = False,
    ) -> tuple[float, float | None]: ...
    @overload
    def evaluate(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        batch_size: int | None = None,
        threads: int | None = None,
        return_dict: Literal[True],
    ) -> dict[str, float]: ...
    @public
    def evaluate(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        batch_size: int | None = None,
        threads: int | None = None,
        return_dict: bool = False,
    ) -> tuple[float, float | None] | dict[str, float]:
        """The mean data loss and the metric (None without one) on (X, y), in batches;
        ``threads`` as for ``fit``. With ``return_dict=True``, every figure by name: ``loss``,
        ``accuracy`` and each of ``metrics`` (``{"loss": 0.31, "accuracy": 0.9, "f1": …}``)."""
        batch_size = count("Model.evaluate", "batch_size", batch_size, optional=True)
        X_arr, y_arr = self._checked(X, y, "evaluate")
        if self.metric is not None and not self.metric.initialized:
            self.metric.init(y_arr)  # e.g. a regression model saved before any training
        size = min(batch_size or self._batch(), X_arr.shape[0])
        with blas_threads(threads, self._work(size)):
            loss, accuracy = self._evaluate(X_arr, y_arr, batch_size)
        if not return_dict:
            return loss, accuracy
        figures = {"loss": loss} | ({"accuracy": accuracy} if accuracy is not None else {})
        return figures | {metric.name: metric.result() for metric in self.metrics}

    def _evaluate(self, X: Any, y: Any, batch_size: int | None) -> tuple[float, float | None]:
        """The loss and the metric on (X, y); each of ``metrics`` is left holding its figure
        over (X, y), for ``result()``."""
        loss = self._require("evaluate", optimizer=False)
        n = X.shape[0]
        loss_total = correct = 0.0
        for metric in self.metrics:
            metric.reset()
        for index, rows in enumerate(_fit.batches(n, batch_size or self._batch())):
            batch_y = y[rows]
            with self._inference():
                output = self.forward(as_batch(X[rows], self.input_dtype))
            if index == 0:
                self._check_predictions(loss, output, "evaluate")
            loss_total += loss.calculate(output, batch_y) * output.shape[0]
            if self.metric is not None:
                correct += self.metric.calculate(output, batch_y) * output.shape[0]
            for metric in self.metrics:
                metric.update(output, batch_y)
        return loss_total / n, (correct / n if self.metric is not None else None)
