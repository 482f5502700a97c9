"""The update rules: pure functions over flat arrays, each the equation in its docstring.

A rule reads the current parameters, their gradient and its state, and writes the next
parameters and state into other arrays (``new_*``), through scratch rows ``work``: it never
changes its inputs, so a step that would diverge can be thrown away (see `FlatBuffer`). Each
performs the same floating-point operations, in the same order, as its equation, so results
are bitwise those of the book's formulas.
"""

from typing import NamedTuple

import numpy as np

from ..shapes import Array1D, Array2D, Floating, shapechecked

__all__ = [
    "AdamState",
    "CacheState",
    "MomentumState",
    "adagrad_update",
    "adam_update",
    "rmsprop_update",
    "sgd_update",
]

Flat = Floating[Array1D, " n"]
Work = Floating[Array2D, "2 n"]
Param = Floating[np.ndarray, "..."]


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
