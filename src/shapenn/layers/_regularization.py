"""L1/L2 penalties on parameters: their value (added to the reported loss) and gradient."""

import numpy as np

from ..shapes import Floating, shapechecked

__all__ = ["regularization_gradient", "regularization_penalty"]


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
