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

    #: Names of trainable parameters; the gradient of ``name`` is the attribute ``d<name>``.
    params: tuple[str, ...] = ()
    #: Training mode: layers that behave differently in training (Dropout) read it.
    training: bool = True

    inputs: np.ndarray[Any, np.dtype[Any]] | None = None
    output: np.ndarray[Any, np.dtype[Any]] | None = None
    dinputs: np.ndarray[Any, np.dtype[Any]] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, inputs: Any) -> Any:
        """Compute ``output`` from ``inputs``."""
        raise NotImplementedError

    def backward(self, dvalues: Any) -> Any:
        """Compute ``dinputs`` (and parameter gradients) from the gradient of ``output``."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape: tuple[int | str, ...]) -> tuple[int | str, ...]:
        """The output shape for a symbolic input shape; shape-preserving by default."""
        return input_shape

    def regularization_loss(self) -> float:
        """The penalty this layer adds to the loss (none by default)."""
        return 0.0


def not_called(layer: object, method: str) -> RuntimeError:
    """The error for ``backward`` before ``forward``."""
    return RuntimeError(
        f"{layer!r}.{method} called before forward: call forward(inputs) first, "
        "so the layer has the inputs its gradient depends on"
    )
