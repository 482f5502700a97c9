"""Optimizers: an update rule — a pure function over flat arrays — and a little state.

**One buffer.** The parameters an optimizer steps live in one flat buffer, and each layer's
``weights`` and ``biases`` are views into it; gradients are gathered into one flat array, and
the rule's state (Adam's moments, …) is flat too. A step over a whole model is then a dozen
ufunc calls, however many layers it has (before: a dozen per parameter array).

**Two buffers.** Each step reads the current parameters and state and writes the next ones
into a second buffer; only when every new parameter is finite do the layers switch to it. A
step that diverges therefore leaves weights and state exactly as the last finite step left
them, and raises DivergenceError.

**No subnormals.** The state of units that stop learning (a dead ReLU's moments) decays
geometrically into float32 subnormals, whose arithmetic is up to 100× slower. Every 64 steps,
each decaying field (SGD's velocity, Adam's moments, RMSprop's cache; not Adagrad's, which
only grows) is flushed: values that 64 more steps of decay would make subnormal are set to
zero. No value is ever subnormal, and only values below ``tiny / decay⁶⁴`` change — 1e-35 for
a 0.9 decay, 1.3e-38 for 0.999 — far below anything that moves a weight.

Each rule performs the same floating-point operations, in the same order, as the equation in its
docstring, so results are bitwise those of the book's formulas.
"""

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ._args import nonnegative
from ._registry import JSONValue, Registered
from .layers import Layer, Parameter
from .shapes import ArgumentError, Array1D, Array2D, Floating, ShapennError, shapechecked

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamState",
    "CacheState",
    "DivergenceError",
    "MomentumState",
    "Optimizer",
    "RMSprop",
    "adagrad_update",
    "adam_update",
    "rmsprop_update",
    "sgd_update",
]

Flat = Floating[Array1D, " n"]
Work = Floating[Array2D, "2 n"]
Param = Floating[np.ndarray, "..."]

FLUSH_EVERY = 64  # steps between flushes of near-zero state
_ALIGN = 64  # bytes: a cache line, and the widest SIMD load


class DivergenceError(ShapennError, ArithmeticError):
    """Training produced NaN or infinite values; the model keeps its last finite weights."""


DivergenceError.__module__ = "shapenn"


@shapechecked(anchors=("param",))
def sgd_update(
    param: Flat,
    grad: Flat,
    velocity: Flat,
    new_param: Flat,
    new_velocity: Flat,
    work: Work,
    learning_rate: float,
    momentum: float,
) -> None:
    """Gradient descent with momentum (the book's form):

    ``v' = momentum · v − lr · g``;  ``θ' = θ + v'``.  With ``momentum = 0``: ``θ' = θ − lr · g``.

    Shape: param (n,), grad (n,), velocity (n,), new_param (n,), new_velocity (n,), work (2, n)
    """
    step = work[0]
    np.multiply(grad, learning_rate, out=step)
    np.multiply(velocity, momentum, out=new_velocity)
    new_velocity -= step
    np.add(param, new_velocity, out=new_param)


@shapechecked(anchors=("param",))
def adagrad_update(
    param: Flat,
    grad: Flat,
    cache: Flat,
    new_param: Flat,
    new_cache: Flat,
    work: Work,
    learning_rate: float,
    epsilon: float,
) -> None:
    """Adagrad: ``c' = c + g²``;  ``θ' = θ − lr · g / (√c' + ε)``.

    Shape: param (n,), grad (n,), cache (n,), new_param (n,), new_cache (n,), work (2, n)
    """
    np.multiply(grad, grad, out=work[0])
    np.add(cache, work[0], out=new_cache)
    _descend(param, grad, new_cache, new_param, work, learning_rate, epsilon)


@shapechecked(anchors=("param",))
def rmsprop_update(
    param: Flat,
    grad: Flat,
    cache: Flat,
    new_param: Flat,
    new_cache: Flat,
    work: Work,
    learning_rate: float,
    epsilon: float,
    rho: float,
) -> None:
    """RMSprop: ``c' = ρ · c + (1 − ρ) · g²``;  ``θ' = θ − lr · g / (√c' + ε)``.

    Shape: param (n,), grad (n,), cache (n,), new_param (n,), new_cache (n,), work (2, n)
    """
    step = work[0]
    np.square(grad, out=step)
    step *= 1 - rho  # (1 − ρ) · g², grouped as the book groups it
    np.multiply(cache, rho, out=new_cache)
    new_cache += step
    _descend(param, grad, new_cache, new_param, work, learning_rate, epsilon)


def _descend(
    param: Flat, grad: Flat, cache: Flat, new_param: Flat, work: Work, lr: float, eps: float
) -> None:
    """``θ' = θ − lr · g / (√c + ε)``, through the scratch rows of ``work``."""
    step, denominator = work[0], work[1]
    np.sqrt(cache, out=denominator)
    denominator += eps
    np.multiply(grad, lr, out=step)
    step /= denominator
    np.subtract(param, step, out=new_param)


@shapechecked(anchors=("param",))
def adam_update(
    param: Flat,
    grad: Flat,
    m: Flat,
    v: Flat,
    new_param: Flat,
    new_m: Flat,
    new_v: Flat,
    work: Work,
    step: int,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    """Adam, with bias correction at step ``t = step + 1``:

    ``m' = β₁ m + (1 − β₁) g``;  ``v' = β₂ v + (1 − β₂) g²``;
    ``θ' = θ − lr · (m' / (1 − β₁ᵗ)) / (√(v' / (1 − β₂ᵗ)) + ε)``.

    Shape: param (n,), grad (n,), m (n,), v (n,), new_param (n,), new_m (n,), new_v (n,), \
work (2, n)
    """
    update, denominator = work[0], work[1]
    np.multiply(m, beta_1, out=new_m)
    np.multiply(grad, 1 - beta_1, out=update)
    new_m += update
    np.multiply(v, beta_2, out=new_v)
    np.square(grad, out=update)
    update *= 1 - beta_2  # (1 − β₂) · g², grouped as the book groups it
    new_v += update
    np.divide(new_v, 1 - beta_2 ** (step + 1), out=denominator)
    np.sqrt(denominator, out=denominator)
    denominator += epsilon
    np.divide(new_m, 1 - beta_1 ** (step + 1), out=update)
    update *= learning_rate
    update /= denominator
    np.subtract(param, update, out=new_param)


class MomentumState(NamedTuple):
    """SGD's velocity for one parameter, of the parameter's shape."""

    velocity: Param


class CacheState(NamedTuple):
    """Adagrad's and RMSprop's accumulated squared gradients, of the parameter's shape."""

    cache: Param


class AdamState(NamedTuple):
    """Adam's moments for one parameter: first ``m`` and second ``v``, the parameter's shape."""

    m: Param
    v: Param


class _Pack:
    """The parameters one optimizer steps, of one dtype: values and each state field in a
    double-buffered flat array (row ``current`` is live), a flat gradient and scratch rows."""

    def __init__(self, params: list[Parameter], fields: Sequence[str], dtype: np.dtype[Any]):
        self.params = params
        self.shapes = [p.value.shape for p in params]
        # Each parameter starts on a 64-byte boundary, as a separately allocated array does:
        # BLAS and NumPy's reductions take other code paths (other rounding) on unaligned data.
        step = _ALIGN // dtype.itemsize
        self.offsets = [0]
        for shape in self.shapes:
            size = int(np.prod(shape))
            self.offsets.append(self.offsets[-1] + -(-size // step) * step)
        n = self.offsets[-1]
        self.values = _aligned((2, n), dtype, zero=True)  # padding stays 0: it is summed
        self.state = {field: _aligned((2, n), dtype, zero=True) for field in fields}
        self.grad = _aligned((n,), dtype, zero=True)
        self.work = _aligned((2, n), dtype)
        self.current = 0
        self.views = [self._views(self.values[row]) for row in (0, 1)]
        self.grad_views = self._views(self.grad)
        for parameter, view in zip(params, self.views[0], strict=True):
            view[...] = parameter.value
        self.bind()

    def _views(self, flat: np.ndarray[Any, np.dtype[Any]]) -> list[np.ndarray[Any, np.dtype[Any]]]:
        return [
            flat[start : start + int(np.prod(shape))].reshape(shape)
            for start, shape in zip(self.offsets, self.shapes, strict=False)
        ]

    def __deepcopy__(self, memo: dict[int, Any]) -> "_Pack":
        # Copied arrays would no longer be views of the copied buffers: copy the buffers and
        # make new views. The copied layers then hold other arrays, so the next step repacks
        # them, carrying this copy's state over.
        twin = copy.copy(self)
        memo[id(self)] = twin
        twin.params = copy.deepcopy(self.params, memo)
        twin.values, twin.grad, twin.work = self.values.copy(), self.grad.copy(), self.work.copy()
        twin.state = {field: flat.copy() for field, flat in self.state.items()}
        twin.views = [twin._views(twin.values[row]) for row in (0, 1)]
        twin.grad_views = twin._views(twin.grad)
        return twin

    def bind(self) -> None:
        """Point each layer's parameter at its view in the live row."""
        for parameter, view in zip(self.params, self.views[self.current], strict=True):
            setattr(parameter.layer, parameter.name, view)

    def intact(self) -> bool:
        """Whether every layer still holds this pack's live view (nobody replaced a weight)."""
        return all(
            getattr(p.layer, p.name, None) is view
            for p, view in zip(self.params, self.views[self.current], strict=True)
        )

    def gather(self) -> None:
        """Copy the layers' gradients into the flat gradient."""
        for parameter, view in zip(self.params, self.grad_views, strict=True):
            np.copyto(view, parameter.grad)

    def state_views(self, index: int) -> dict[str, np.ndarray[Any, np.dtype[Any]]]:
        start, shape = self.offsets[index], self.shapes[index]
        return {
            field: flat[self.current, start : start + int(np.prod(shape))].reshape(shape)
            for field, flat in self.state.items()
        }

    def flush(self, decays: dict[str, float]) -> None:
        """Zero the live values of each decaying state field that would become subnormal
        within FLUSH_EVERY steps of decay by its factor (see the module)."""
        tiny = float(np.finfo(self.values.dtype).tiny)
        for field, decay in decays.items():
            if 0 < decay < 1:
                flat = self.state[field][self.current]
                np.copyto(flat, 0, where=np.abs(flat) < tiny / decay**FLUSH_EVERY)


def _aligned(
    shape: tuple[int, ...], dtype: np.dtype[Any], *, zero: bool = False
) -> np.ndarray[Any, np.dtype[Any]]:
    """An array whose rows start on a 64-byte boundary (every row's length is a multiple of
    64 bytes, so the first row's alignment is enough)."""
    count = int(np.prod(shape))
    raw = (np.zeros if zero else np.empty)(count * dtype.itemsize + _ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % _ALIGN
    array: np.ndarray[Any, np.dtype[Any]] = raw[start : start + count * dtype.itemsize].view(dtype)
    return array.reshape(shape)


class Optimizer(Registered):
    """Base optimizer: the book's ``pre_update_params`` / ``update_params`` /
    ``post_update_params`` protocol, plus ``step(layers)`` doing all three.

    A subclass names its per-parameter state (``state_type``, a NamedTuple of arrays), its
    rule (``rule``, a pure function over flat arrays) and the rule's other arguments
    (``hyperparameters()``); it registers itself, so a model saved with it resumes training
    exactly.

    From the first step on, the parameters it steps live in its buffers: a layer's ``weights``
    is then a view that the optimizer replaces with the next step's view after each step (keep
    the layer, not an old ``weights`` array, to read the current values).

    Attributes:
        learning_rate: the initial learning rate.
        current_learning_rate: after decay, ``learning_rate / (1 + decay · iterations)``.
        iterations: number of completed steps.
        state: per (layer, parameter name), the state of that parameter (views).
    """

    registry_kind: ClassVar[str] = "optimizer"
    state_type: ClassVar[Any]
    #: The update rule: a pure function of flat arrays (see ``update``).
    rule: ClassVar[Callable[..., None]]

    def __init__(self, learning_rate: float, decay: float) -> None:
        owner = type(self).__name__
        self.learning_rate: float = nonnegative(owner, "learning_rate", learning_rate)
        self.current_learning_rate: float = self.learning_rate
        self.decay: float = nonnegative(owner, "decay", decay)
        self.iterations: int = 0
        # Keyed by the layer object itself (layers hash by identity), so a deep copy of a model
        # and its optimizer keeps each state with its own layer's copy.
        self._packs: dict[tuple[Any, ...], _Pack] = {}
        self._home: dict[tuple[Layer, str], tuple[_Pack, int]] = {}
        self._pending: dict[tuple[Layer, str], Any] = {}

    @property
    def fields(self) -> tuple[str, ...]:
        fields: tuple[str, ...] = self.state_type._fields
        return fields

    def pre_update_params(self) -> None:
        """Apply learning-rate decay for the coming step."""
        if self.decay:
            # The book's expression, rounding included: lr · (1 / (1 + decay · t)).
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Layer) -> None:
        """Update every trainable parameter of ``layer`` from its gradient."""
        self._update(layer.parameters())

    def post_update_params(self) -> None:
        """Count the step."""
        self.iterations += 1

    def step(self, layers: Iterable[Layer]) -> None:
        """One optimisation step over all trainable parameters of ``layers``.

        Raises:
            DivergenceError: the step would make a parameter NaN or infinite; nothing changed.
        """
        self.pre_update_params()
        self._update([p for layer in layers for p in layer.parameters()])
        self.post_update_params()

    def _update(self, params: list[Parameter]) -> None:
        groups: dict[np.dtype[Any], list[Parameter]] = {}
        for parameter in params:
            groups.setdefault(parameter.value.dtype, []).append(parameter)
        packs = [self._pack(group) for group in groups.values()]
        for pack in packs:  # compute every next row first: a divergence changes nothing
            pack.gather()
            live, spare = pack.current, 1 - pack.current
            self.update(
                pack.values[live],
                pack.grad,
                tuple(pack.state[f][live] for f in self.fields),
                pack.values[spare],
                tuple(pack.state[f][spare] for f in self.fields),
                pack.work,
            )
            # One dot product finds any NaN or infinity (or a norm too large for the dtype).
            if not math.isfinite(float(np.dot(pack.values[spare], pack.values[spare]))):
                where = ", ".join(f"{p.layer!r}.{p.name}" for p in pack.params[:3])
                raise DivergenceError(
                    f"the step would make parameters NaN or infinite ({where}…); they keep "
                    "their last finite values"
                )
        for pack in packs:
            pack.current = 1 - pack.current
            pack.bind()
            if self.iterations % FLUSH_EVERY == FLUSH_EVERY - 1:
                pack.flush(self.decays())

    def _pack(self, params: list[Parameter]) -> _Pack:
        key = tuple((p.layer, p.name) for p in params)
        pack = self._packs.get(key)
        if pack is not None and pack.intact():
            return pack
        fresh = _Pack(params, self.fields, params[0].value.dtype)
        for index, parameter in enumerate(params):
            target = fresh.state_views(index)
            found = self._state_of(parameter.layer, parameter.name)
            if found is not None and all(found[f].shape == target[f].shape for f in self.fields):
                for field in self.fields:
                    target[field][...] = found[field]
            self._home[(parameter.layer, parameter.name)] = (fresh, index)
        self._pending = {k: v for k, v in self._pending.items() if k not in self._home}
        self._packs[key] = fresh
        return fresh

    def _state_of(self, layer: Layer, name: str) -> dict[str, Any] | None:
        pending = self._pending.get((layer, name))
        if pending is not None:
            return dict(pending._asdict())
        home = self._home.get((layer, name))
        return home[0].state_views(home[1]) if home is not None else None

    @property
    def state(self) -> dict[tuple[Layer, str], Any]:
        """Each stepped parameter's state, as ``state_type`` NamedTuples of live views."""
        found = {
            key: self.state_type(**pack.state_views(index))
            for key, (pack, index) in self._home.items()
        }
        return {**found, **self._pending}

    def set_parameter_state(self, layer: Layer, name: str, state: Any) -> None:
        """Give ``layer.<name>`` this state (a ``state_type``), used from its next step on."""
        home = self._home.get((layer, name))
        if home is not None and home[0].intact():
            for field, view in home[0].state_views(home[1]).items():
                view[...] = getattr(state, field)
        else:
            self._pending[(layer, name)] = state

    def decays(self) -> dict[str, float]:
        """Each state field that decays geometrically while its gradient stays zero, and the
        factor per step (none by default)."""
        return {}

    def init_state(self, param: Param) -> Any:
        """The state of one parameter before its first update: zeros of its shape."""
        return self.state_type(*(np.zeros_like(param) for _ in self.fields))

    def update(
        self,
        param: Flat,
        grad: Flat,
        state: tuple[Flat, ...],
        new_param: Flat,
        new_state: tuple[Flat, ...],
        work: Work,
    ) -> None:
        """Write the next parameters and state from the current ones and the gradient:
        ``rule(param, grad, *state, new_param, *new_state, work, *hyperparameters())``."""
        type(self).rule(param, grad, *state, new_param, *new_state, work, *self.hyperparameters())

    def hyperparameters(self) -> tuple[int | float, ...]:
        """The arguments ``rule`` takes after the arrays, for the coming step."""
        raise NotImplementedError

    def get_state(self) -> dict[str, JSONValue]:
        """The step count and decayed learning rate, for saving."""
        return {
            "iterations": self.iterations,
            "current_learning_rate": self.current_learning_rate,
        }

    def set_state(self, state: dict[str, JSONValue]) -> None:
        iterations, rate = state["iterations"], state["current_learning_rate"]
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ArgumentError(f"iterations must be an integer >= 0, got {iterations!r}")
        self.iterations = iterations
        self.current_learning_rate = nonnegative(repr(self), "current_learning_rate", rate)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({fields})"


def _fraction(owner: str, name: str, value: float) -> float:
    try:
        number = nonnegative(owner, name, value)
    except ValueError:
        number = -1.0
    if not 0 <= number < 1:
        raise ArgumentError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return number


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, the book's ``Optimizer_SGD``."""

    state_type = MomentumState
    rule: ClassVar[Callable[..., None]] = staticmethod(sgd_update)

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, momentum: float = 0.0):
        super().__init__(learning_rate, decay)
        self.momentum: float = nonnegative("SGD", "momentum", momentum)

    def decays(self) -> dict[str, float]:
        return {"velocity": self.momentum}

    def hyperparameters(self) -> tuple[int | float, ...]:
        return (self.current_learning_rate, self.momentum)


class Adagrad(Optimizer):
    """Adagrad, the book's ``Optimizer_Adagrad``."""

    state_type = CacheState
    rule: ClassVar[Callable[..., None]] = staticmethod(adagrad_update)

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon: float = nonnegative("Adagrad", "epsilon", epsilon)

    def hyperparameters(self) -> tuple[int | float, ...]:
        return (self.current_learning_rate, self.epsilon)


class RMSprop(Optimizer):
    """RMSprop, the book's ``Optimizer_RMSprop``."""

    state_type = CacheState
    rule: ClassVar[Callable[..., None]] = staticmethod(rmsprop_update)

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon: float = nonnegative("RMSprop", "epsilon", epsilon)
        self.rho: float = _fraction("RMSprop", "rho", rho)

    def decays(self) -> dict[str, float]:
        return {"cache": self.rho}

    def hyperparameters(self) -> tuple[int | float, ...]:
        return (self.current_learning_rate, self.epsilon, self.rho)


class Adam(Optimizer):
    """Adam, the book's ``Optimizer_Adam``."""

    state_type = AdamState
    rule: ClassVar[Callable[..., None]] = staticmethod(adam_update)

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon: float = nonnegative("Adam", "epsilon", epsilon)
        self.beta_1: float = _fraction("Adam", "beta_1", beta_1)
        self.beta_2: float = _fraction("Adam", "beta_2", beta_2)

    def decays(self) -> dict[str, float]:
        return {"m": self.beta_1, "v": self.beta_2}

    def hyperparameters(self) -> tuple[int | float, ...]:
        return (self.iterations, self.current_learning_rate, self.beta_1, self.beta_2, self.epsilon)
