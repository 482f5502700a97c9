"""Optimizers: update rules as small shapechecked functions plus a state per parameter.

Each rule takes (parameter, gradient, state…, scratch) of one shape and updates them in place;
the classes hold hyperparameters, the step count and the per-parameter state, and implement the
book's learning-rate decay ``lr_t = lr / (1 + decay · t)``.
"""

from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ._registry import JSONValue, Registered
from .layers import Layer
from .shapes import Floating, shapechecked
from .shapes._errors import nonnegative

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamState",
    "CacheState",
    "MomentumState",
    "Optimizer",
    "RMSprop",
    "adagrad_update",
    "adam_update",
    "rmsprop_update",
    "sgd_update",
]

Param = Floating[np.ndarray, "..."]


# The update rules work in place, on the parameter, its state and a scratch buffer ``work``
# (two arrays of the parameter's shape): a fresh 400 kB temporary per operation made an Adam step
# ten times slower than the matmuls (measured: 1.6 ms against 0.16 ms for a 784×128 weight).
# Each rule performs the same floating-point operations, in the same order, as the equation in
# its docstring, so results are bitwise those of the out-of-place formula.


@shapechecked(anchors=("param",))
def sgd_update(
    param: Floating[np.ndarray, "*shape"],
    grad: Floating[np.ndarray, "*shape"],
    velocity: Floating[np.ndarray, "*shape"],
    work: Floating[np.ndarray, "2 *shape"],  # noqa: F821 - a dim string, not an expression
    learning_rate: float,
    momentum: float,
) -> None:
    """Gradient descent with momentum (the book's form), in place:

    ``v ← momentum · v − lr · g``;  ``θ ← θ + v``.  With ``momentum = 0``: ``θ ← θ − lr · g``.

    Shape:
        param, grad, velocity: any shape, all the same; work: (2, *shape) scratch.
    """
    step = work[0]
    np.multiply(grad, learning_rate, out=step)
    velocity *= momentum
    velocity -= step
    param += velocity


@shapechecked(anchors=("param",))
def adagrad_update(
    param: Floating[np.ndarray, "*shape"],
    grad: Floating[np.ndarray, "*shape"],
    cache: Floating[np.ndarray, "*shape"],
    work: Floating[np.ndarray, "2 *shape"],  # noqa: F821 - a dim string, not an expression
    learning_rate: float,
    epsilon: float,
) -> None:
    """Adagrad, in place: ``c ← c + g²``;  ``θ ← θ − lr · g / (√c + ε)``.

    Shape:
        param, grad, cache: any shape, all the same; work: (2, *shape) scratch.
    """
    step, denominator = work[0], work[1]
    np.multiply(grad, grad, out=step)
    cache += step
    _descend(param, grad, cache, step, denominator, learning_rate, epsilon)


@shapechecked(anchors=("param",))
def rmsprop_update(
    param: Floating[np.ndarray, "*shape"],
    grad: Floating[np.ndarray, "*shape"],
    cache: Floating[np.ndarray, "*shape"],
    work: Floating[np.ndarray, "2 *shape"],  # noqa: F821 - a dim string, not an expression
    learning_rate: float,
    epsilon: float,
    rho: float,
) -> None:
    """RMSprop, in place: ``c ← ρ · c + (1 − ρ) · g²``;  ``θ ← θ − lr · g / (√c + ε)``.

    Shape:
        param, grad, cache: any shape, all the same; work: (2, *shape) scratch.
    """
    step, denominator = work[0], work[1]
    np.multiply(grad, 1 - rho, out=step)
    step *= grad
    cache *= rho
    cache += step
    _descend(param, grad, cache, step, denominator, learning_rate, epsilon)


def _descend(
    param: Param, grad: Param, cache: Param, step: Param, denominator: Param, lr: float, eps: float
) -> None:
    """``θ ← θ − lr · g / (√c + ε)``, through the scratch arrays ``step`` and ``denominator``."""
    np.sqrt(cache, out=denominator)
    denominator += eps
    np.multiply(grad, lr, out=step)
    step /= denominator
    param -= step


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


@shapechecked(anchors=("param",))
def adam_update(
    param: Floating[np.ndarray, "*shape"],
    grad: Floating[np.ndarray, "*shape"],
    m: Floating[np.ndarray, "*shape"],
    v: Floating[np.ndarray, "*shape"],
    work: Floating[np.ndarray, "2 *shape"],  # noqa: F821 - a dim string, not an expression
    step: int,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    """Adam, in place, with bias correction at step ``t = step + 1``:

    ``m ← β₁ m + (1 − β₁) g``;  ``v ← β₂ v + (1 − β₂) g²``;
    ``θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)``.

    Shape:
        param, grad, m, v: any shape, all the same; work: (2, *shape) scratch.
    """
    update, denominator = work[0], work[1]
    m *= beta_1
    np.multiply(grad, 1 - beta_1, out=update)
    m += update
    v *= beta_2
    np.multiply(grad, 1 - beta_2, out=update)
    update *= grad
    v += update
    np.divide(v, 1 - beta_2 ** (step + 1), out=denominator)
    np.sqrt(denominator, out=denominator)
    denominator += epsilon
    np.divide(m, 1 - beta_1 ** (step + 1), out=update)
    update *= learning_rate
    update /= denominator
    param -= update


def _fraction(owner: str, name: str, value: float) -> float:
    try:
        number = nonnegative(owner, name, value)
    except ValueError:
        number = -1.0
    if not 0 <= number < 1:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return number


class Optimizer(Registered):
    """Base optimizer: the book's ``pre_update_params`` / ``update_params`` /
    ``post_update_params`` protocol, plus ``step(layers)`` doing all three.

    A subclass gives its per-parameter state (``init_state``) and its update rule
    (``update``); it registers itself, so a model saved with it resumes training exactly.

    Attributes:
        learning_rate: the initial learning rate.
        current_learning_rate: after decay, ``learning_rate / (1 + decay · iterations)``.
        iterations: number of completed steps.
        state: per (layer, parameter name) state, created on first update.
    """

    registry_kind: ClassVar[str] = "optimizer"

    def __init__(self, learning_rate: float, decay: float) -> None:
        owner = type(self).__name__
        self.learning_rate: float = nonnegative(owner, "learning_rate", learning_rate)
        self.current_learning_rate: float = self.learning_rate
        self.decay: float = nonnegative(owner, "decay", decay)
        self.iterations: int = 0
        # Keyed by the layer object itself (layers hash by identity), so a deep copy of a model
        # and its optimizer keeps each state with its own layer's copy.
        self.state: dict[tuple[Layer, str], Any] = {}
        self._scratch: dict[tuple[tuple[int, ...], np.dtype[Any]], Param] = {}

    def pre_update_params(self) -> None:
        """Apply learning-rate decay for the coming step."""
        if self.decay:
            self.current_learning_rate = self.learning_rate / (1.0 + self.decay * self.iterations)

    def update_params(self, layer: Layer) -> None:
        """Update every trainable parameter of ``layer`` from its gradient."""
        for parameter in layer.parameters():
            param = parameter.value
            if not param.flags.writeable:  # updated in place: say so before NumPy does
                raise ValueError(
                    f"{layer!r}.{parameter.name} is read-only (a view of a read-only file or "
                    f"array?): give the layer a writable copy, "
                    f"`layer.{parameter.name} = np.array(layer.{parameter.name})`"
                )
            key = (layer, parameter.name)
            state = self.state.get(key)
            if state is None:
                state = self.state[key] = self.init_state(param)
            self.update(param, parameter.grad, state, self._work(param))

    def _work(self, param: Param) -> Param:
        """A scratch buffer of shape (2, *param.shape), shared by parameters of one shape."""
        key = (param.shape, param.dtype)
        work = self._scratch.get(key)
        if work is None:
            work = self._scratch[key] = np.empty((2, *param.shape), dtype=param.dtype)
        return work

    def post_update_params(self) -> None:
        """Count the step."""
        self.iterations += 1

    def step(self, layers: Iterable[Layer]) -> None:
        """One optimisation step over all trainable layers."""
        self.pre_update_params()
        for layer in layers:
            self.update_params(layer)
        self.post_update_params()

    def init_state(self, param: Param) -> Any:
        """The state of one parameter before its first update: a NamedTuple of arrays of the
        parameter's shape."""
        raise NotImplementedError

    def update(self, param: Param, grad: Param, state: Any, work: Param) -> None:
        """Update ``param`` and its ``state`` in place from ``grad`` (``work`` is scratch)."""
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
            raise ValueError(f"iterations must be an integer >= 0, got {iterations!r}")
        self.iterations = iterations
        self.current_learning_rate = nonnegative(repr(self), "current_learning_rate", rate)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({fields})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, the book's ``Optimizer_SGD``."""

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, momentum: float = 0.0):
        super().__init__(learning_rate, decay)
        self.momentum: float = nonnegative("SGD", "momentum", momentum)

    def init_state(self, param: Param) -> MomentumState:
        return MomentumState(np.zeros_like(param))

    def update(self, param: Param, grad: Param, state: MomentumState, work: Param) -> None:
        sgd_update(param, grad, state.velocity, work, self.current_learning_rate, self.momentum)


class Adagrad(Optimizer):
    """Adagrad, the book's ``Optimizer_Adagrad``."""

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon: float = nonnegative("Adagrad", "epsilon", epsilon)

    def init_state(self, param: Param) -> CacheState:
        return CacheState(np.zeros_like(param))

    def update(self, param: Param, grad: Param, state: CacheState, work: Param) -> None:
        adagrad_update(param, grad, state.cache, work, self.current_learning_rate, self.epsilon)


class RMSprop(Optimizer):
    """RMSprop, the book's ``Optimizer_RMSprop``."""

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

    def init_state(self, param: Param) -> CacheState:
        return CacheState(np.zeros_like(param))

    def update(self, param: Param, grad: Param, state: CacheState, work: Param) -> None:
        lr = self.current_learning_rate
        rmsprop_update(param, grad, state.cache, work, lr, self.epsilon, self.rho)


class Adam(Optimizer):
    """Adam, the book's ``Optimizer_Adam``."""

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

    def init_state(self, param: Param) -> AdamState:
        return AdamState(np.zeros_like(param), np.zeros_like(param))

    def update(self, param: Param, grad: Param, state: AdamState, work: Param) -> None:
        adam_update(
            param,
            grad,
            state.m,
            state.v,
            work,
            self.iterations,
            self.current_learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )
