"""L1/L2 penalties on parameters: their value (added to the reported loss) and gradient, and
the base of layers with penalized ``weights`` and ``biases`` (Dense, Conv2D)."""

from typing import TYPE_CHECKING, Any

import numpy as np

from .._args import generator, nonnegative
from ..shapes import ArgumentError, Floating, shapechecked, signature
from . import _init as init
from ._layer import Layer

__all__ = ["DEFAULT_INIT", "Regularized", "regularization_gradient", "regularization_penalty"]

#: How Dense and Conv2D draw their weights unless told otherwise (see ``_init``).
DEFAULT_INIT = "he_normal"


@shapechecked
def regularization_penalty(param: Floating[np.ndarray, "*shape"], l1: float, l2: float) -> float:
    """``l1 · Σ|θ| + l2 · Σθ²``.

    Shape:
        param: any shape → a scalar.
    """
    penalty = 0.0
    if l1:
        penalty += l1 * float(np.abs(param).sum())
    if l2:
        penalty += l2 * float((param * param).sum())
    return penalty


@shapechecked
def regularization_gradient(
    param: Floating[np.ndarray, "*shape"], l1: float, l2: float
) -> Floating[np.ndarray, "*shape"]:
    """``l1 · sign(θ) + 2 · l2 · θ`` (the subgradient of ``|θ|`` at 0 is taken as 0).

    Shape:
        param: any shape → the same shape.
    """
    gradient: Floating[np.ndarray, "*shape"] = l1 * np.sign(param) + (2 * l2) * param
    return gradient


class Regularized(Layer):
    """A layer with ``weights`` and ``biases`` and the book's four L1/L2 penalty factors on
    them: ``regularization_loss`` adds the penalty to the loss, ``_regularize`` its gradient to
    ``dweights`` and ``dbiases``."""

    if TYPE_CHECKING:  # declared by each subclass, with its own dims
        weights: Any
        biases: Any
        dweights: Any
        dbiases: Any

    def _initial_weights(
        self,
        init_: object,
        weight_scale: object,
        shape: tuple[int, ...],
        fans: tuple[int, int],
        seed: int | np.random.Generator | None,
        dtype: np.dtype[Any],
    ) -> np.ndarray[Any, np.dtype[Any]]:
        """The first weights: by ``init_`` (a name or a function; He's normal when None), or
        ``weight_scale · N(0, 1)`` when a scale is given instead. Keeps both arguments, as
        given, for the layer's config (a function is not saved: the weights are)."""
        owner = type(self).__name__
        if weight_scale is not None and init_ is not None:
            raise ArgumentError(
                f"{owner}: give init= or weight_scale=, not both (weight_scale={weight_scale!r} "
                "draws weight_scale · N(0, 1))"
            )
        rng = generator(owner, seed)
        self.weight_scale: float | None = None
        self.init: str | None = None
        if weight_scale is not None:
            self.weight_scale = nonnegative(owner, "weight_scale", weight_scale)
            return init.normal(shape, self.weight_scale, rng, dtype)
        how = init.check_init(owner, DEFAULT_INIT if init_ is None else init_)
        self.init = how if isinstance(how, str) else None
        hint = signature(type(self)).params[0].hint
        return init.draw(how, shape, fans, rng, dtype, hint=hint, where=f"{owner}(init=...)")

    def _set_regularizers(
        self, weight_l1: float, weight_l2: float, bias_l1: float, bias_l2: float
    ) -> None:
        owner = type(self).__name__
        self.weight_regularizer_l1: float = nonnegative(owner, "weight_regularizer_l1", weight_l1)
        self.weight_regularizer_l2: float = nonnegative(owner, "weight_regularizer_l2", weight_l2)
        self.bias_regularizer_l1: float = nonnegative(owner, "bias_regularizer_l1", bias_l1)
        self.bias_regularizer_l2: float = nonnegative(owner, "bias_regularizer_l2", bias_l2)

    def regularization_loss(self) -> float:
        """The L1/L2 penalty of this layer's weights and biases, added to the reported loss."""
        if not (
            self.weight_regularizer_l1
            or self.weight_regularizer_l2
            or self.bias_regularizer_l1
            or self.bias_regularizer_l2
        ):
            return 0.0
        return regularization_penalty(
            self.weights, self.weight_regularizer_l1, self.weight_regularizer_l2
        ) + regularization_penalty(self.biases, self.bias_regularizer_l1, self.bias_regularizer_l2)

    def _regularize(self) -> None:
        """Add the penalties' gradients to the ``dweights`` and ``dbiases`` just computed."""
        if self.weight_regularizer_l1 or self.weight_regularizer_l2:
            self.dweights += regularization_gradient(
                self.weights, self.weight_regularizer_l1, self.weight_regularizer_l2
            )
        if self.bias_regularizer_l1 or self.bias_regularizer_l2:
            self.dbiases += regularization_gradient(
                self.biases, self.bias_regularizer_l1, self.bias_regularizer_l2
            )
