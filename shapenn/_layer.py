"""What every layer and activation shares: a forward/backward pair and a readable name."""

from typing import Any

import numpy as np

__all__ = ["Layer", "not_called"]


class Layer:
    """A step of a network: ``forward`` computes outputs, ``backward`` the input gradient.

    Subclasses hold parameters and caches only; their math lives in shapechecked kernels.
    After ``forward`` a layer keeps ``inputs`` and ``output``; after ``backward``, ``dinputs``
    (the names of the nnfs book).
    """

    inputs: np.ndarray[Any, np.dtype[Any]] | None = None
    output: np.ndarray[Any, np.dtype[Any]] | None = None
    dinputs: np.ndarray[Any, np.dtype[Any]] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def not_called(layer: object, method: str) -> RuntimeError:
    """The error for ``backward`` before ``forward``."""
    return RuntimeError(
        f"{layer!r}.{method} called before forward: call forward(inputs) first, "
        "so the layer has the inputs its gradient depends on"
    )
