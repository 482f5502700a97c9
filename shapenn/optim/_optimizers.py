"""The optimizers: an update rule (`shapenn.optim` ``_rules``), a little state, and the flat
buffer the rule runs over (``_flat``).

Each optimizer takes the book's arguments and keeps the book's protocol —
``pre_update_params`` / ``update_params(layer)`` / ``post_update_params`` — plus
``step(layers)`` doing all three; it finds the parameters through the one walk over each
layer's state, so the parameters of the layers a layer owns are stepped too.
"""

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from .._args import nonnegative
from .._registry import JSONValue, Registered
from ..layers import Layer, Parameter
from ..shapes import ArgumentError, ShapennError
from ._flat import FlatBuffer
from ._rules import (
    AdamState,
    CacheState,
    Flat,
    MomentumState,
    Param,
    Work,
    adagrad_update,
    adam_update,
    rmsprop_update,
    sgd_update,
)

__all__ = ["SGD", "Adagrad", "Adam", "DivergenceError", "Optimizer", "RMSprop"]

Key = tuple[Layer, str]


class DivergenceError(ShapennError, ArithmeticError):
    """Training produced NaN or infinite values; the model keeps its last finite weights."""


DivergenceError.__module__ = "shapenn"


class Optimizer(Registered):
    """Base optimizer: the book's ``pre_update_params`` / ``update_params`` /
    ``post_update_params`` protocol, plus ``step(layers)`` doing all three.

    A subclass names its per-parameter state (``state_type``, a NamedTuple of arrays), its
    rule (``rule``, a pure function over flat arrays) and the rule's other arguments
    (``hyperparameters()``); it registers itself, so a model saved with it resumes training
    exactly.

    From the first step on, the parameters it steps live in its flat buffer: each layer's
    ``weights`` is a view into it, bound once and updated in place at every step.

    Attributes:
        learning_rate: the initial learning rate.
        current_learning_rate: after decay, ``learning_rate / (1 + decay · iterations)``.
        iterations: number of completed steps.
        state: per (layer, parameter name), the state of that parameter (views).
    """

    registry_kind: ClassVar[str] = "optimizer"
    state_type: ClassVar[Any]
    #: The state fields that hold squared gradients (Adam's ``v``, the caches): they overflow
    #: at a gradient of √(dtype max) while the weights stay finite, so each step checks them.
    squared: ClassVar[tuple[str, ...]] = ()
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
        self._buffers: list[FlatBuffer] = []
        self._home: dict[Key, tuple[FlatBuffer, int]] = {}
        self._pending: dict[Key, Any] = {}
        # The last parameter list stepped and its buffers: the same list next step needs
        # neither grouping nor lookup.
        self._plan: tuple[list[Parameter] | None, list[FlatBuffer]] = (None, [])

    @property
    def fields(self) -> tuple[str, ...]:
        fields: tuple[str, ...] = self.state_type._fields
        return fields

    def __getstate__(self) -> dict[str, Any]:
        # Views do not survive pickling or copying (a copied view is an array of its own):
        # keep each parameter's state as a plain copy, and let the next step build a buffer.
        state = dict(self.__dict__)
        state["_pending"] = {key: self._copied(key) for key in {**self._home, **self._pending}}
        state["_buffers"], state["_home"], state["_plan"] = [], {}, (None, [])
        return state

    def _copied(self, key: Key) -> Any:
        found = self.state[key]
        return self.state_type(*(np.array(getattr(found, f)) for f in self.fields))

    def set_learning_rate(self, rate: float) -> None:
        """Make ``rate`` the learning rate from the next step on (decay, if any, applies to
        it from there; a learning-rate schedule calls this)."""
        self.learning_rate = nonnegative(type(self).__name__, "learning_rate", rate)
        self.current_learning_rate = self.learning_rate

    def pre_update_params(self) -> None:
        """Apply learning-rate decay for the coming step."""
        if self.decay:
            # The book's expression, rounding included: lr · (1 / (1 + decay · t)).
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Layer) -> None:
        """Update every trainable parameter of ``layer`` (and of the layers it owns) from its
        gradient."""
        self._commit(self._next(layer.parameters()))

    def post_update_params(self) -> None:
        """Count the step."""
        self.iterations += 1

    def step(self, layers: Iterable[Layer]) -> None:
        """One optimisation step over all trainable parameters of ``layers`` (and of the
        layers they own).

        Raises:
            DivergenceError: the step would make a parameter NaN or infinite; nothing changed.
        """
        self.apply([p for layer in layers for p in layer.parameters()])

    def apply(self, parameters: list[Parameter]) -> None:
        """One optimisation step over ``parameters`` (as ``Layer.parameters`` gives them).
        A training loop passes the same list at every step, which saves finding them again.

        The next weights and state are computed first, then replace the live ones (``fit``
        holds Ctrl-C back to the end of a step, so that an interrupt never leaves the weights
        of step k + 1 with ``iterations == k``).

        Raises:
            DivergenceError: the step would make a parameter or the optimizer's state NaN or
                infinite; nothing changed.
        """
        self.pre_update_params()
        self._commit(self._next(parameters))
        self.post_update_params()

    def _commit(self, buffers: list[FlatBuffer]) -> None:
        """Make the next weights and state of ``buffers`` the live ones."""
        for buffer in buffers:
            buffer.keep_next()
            buffer.flush(self.iterations, self.decays())

    def _next(self, params: list[Parameter]) -> list[FlatBuffer]:
        """Compute the next weights and state of every buffer of ``params`` into its spare
        rows, changing nothing live; the buffers."""
        planned, buffers = self._plan
        if params is not planned or not all(buffer.intact() for buffer in buffers):
            groups: dict[np.dtype[Any], list[Parameter]] = {}
            for parameter in params:
                groups.setdefault(parameter.value.dtype, []).append(parameter)
            buffers = [self._buffer(group) for group in groups.values()]
            self._plan = (params, buffers)
        for buffer in buffers:  # compute every next row first: a divergence changes nothing
            buffer.gather()
            live, spare = buffer.current, 1 - buffer.current
            self.update(
                buffer.values[0],
                buffer.grad,
                tuple(buffer.state[f][live] for f in self.fields),
                buffer.values[1],
                tuple(buffer.state[f][spare] for f in self.fields),
                buffer.work,
            )
            bad = buffer.finite_next(self.squared)
            if bad is not None:
                where = ", ".join(f"{p.layer!r}.{p.name}" for p in buffer.params[:3])
                what = (
                    "the weights NaN or infinite"
                    if bad == "weights"
                    else f"the optimizer's state `{bad}` NaN or infinite (a gradient too large "
                    f"for {buffer.values.dtype})"
                )
                raise DivergenceError(
                    f"the step would make {what} ({where}…); they keep their last finite values"
                )
        return buffers

    def _buffer(self, params: list[Parameter]) -> FlatBuffer:
        """The flat buffer of exactly these parameters, made anew (carrying each parameter's
        state over) when the set changed or a layer's parameter was replaced."""
        keys = [(p.layer, p.name) for p in params]
        home = self._home.get(keys[0])
        if home is not None and home[0].keys == keys and home[0].intact():
            return home[0]
        fresh = FlatBuffer(params, self.fields, params[0].value.dtype)
        for index, key in enumerate(keys):
            target = fresh.state_views(index)
            found = self._state_of(key)
            if found is not None and all(found[f].shape == target[f].shape for f in self.fields):
                for field in self.fields:
                    target[field][...] = found[field]
        for index, key in enumerate(keys):
            self._home[key] = (fresh, index)
            self._pending.pop(key, None)
        # The buffers of this dtype held the parameters stepped before; those no longer
        # stepped (a head swapped out) keep their state as plain copies, and every such buffer
        # is freed: changing the trainable set never keeps a second copy of it.
        for old in self._buffers:
            if old.values.dtype != fresh.values.dtype:
                continue
            for key in old.keys:
                if self._home.get(key, (None,))[0] is old:
                    self._pending[key] = self._copied(key)
                    del self._home[key]
        self._buffers = [
            b
            for b in [*self._buffers, fresh]
            if any(self._home.get(k, (None,))[0] is b for k in b.keys)
        ]
        return fresh

    def _state_of(self, key: Key) -> dict[str, Any] | None:
        pending = self._pending.get(key)
        if pending is not None:
            return dict(pending._asdict())
        home = self._home.get(key)
        return home[0].state_views(home[1]) if home is not None else None

    @property
    def state(self) -> dict[Key, Any]:
        """Each stepped parameter's state, as ``state_type`` NamedTuples of live views."""
        found = {
            key: self.state_type(**buffer.state_views(index))
            for key, (buffer, index) in self._home.items()
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
    squared: ClassVar[tuple[str, ...]] = ("cache",)
    rule: ClassVar[Callable[..., None]] = staticmethod(adagrad_update)

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon: float = nonnegative("Adagrad", "epsilon", epsilon)

    def hyperparameters(self) -> tuple[int | float, ...]:
        return (self.current_learning_rate, self.epsilon)


class RMSprop(Optimizer):
    """RMSprop, the book's ``Optimizer_RMSprop``."""

    state_type = CacheState
    squared: ClassVar[tuple[str, ...]] = ("cache",)
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
    squared: ClassVar[tuple[str, ...]] = ("v",)
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
