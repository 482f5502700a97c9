"""Flatten: each sample's values as one row, for a Dense layer."""

import math
from typing import Any

from ..shapes import Array2D, ArrayND, Batched, Floating, shapechecked
from ._layer import Layer

__all__ = ["Flatten", "flatten_backward", "flatten_forward"]


@shapechecked
def flatten_forward(
    inputs: Floating[Batched, " batch *rest"],
) -> Floating[Array2D, "batch features"]:
    """Each sample as one row, in C order (channel by channel, row by row for an image), as
    PyTorch's ``flatten`` and Keras's ``Flatten`` on channels-first data.

    Shape:
        inputs: (batch, *rest) → (batch, features), ``features`` the product of ``rest``.
    """
    outputs: Floating[Array2D, "batch features"] = inputs.reshape(
        inputs.shape[0], math.prod(inputs.shape[1:])
    )
    return outputs


@shapechecked(anchors=("inputs",))
def flatten_backward(
    dvalues: Floating[Array2D, "batch features"],
    inputs: Floating[Batched, " batch *rest"],
) -> Floating[Batched, " batch *rest"]:
    """Each row of the gradient back in its sample's shape.

    Shape:
        dvalues: (batch, features); inputs: (batch, *rest) → (batch, *rest).
    """
    dinputs: Floating[Batched, " batch *rest"] = dvalues.reshape(inputs.shape)  # pyright: ignore[reportAssignmentType]
    return dinputs


class Flatten(Layer):
    """Flatten each sample to one row: (batch, *rest) → (batch, features), the step between
    convolutions (or a sequence) and Dense layers (PyTorch's ``nn.Flatten``, Keras's
    ``Flatten``). ``features`` is the product of the sample's sizes: 8·3·3 = 72 for
    (batch, 8, 3, 3).

    Shape:
        forward: inputs (batch, *rest) → (batch, features).
        backward: (batch, features) → (batch, *rest).
    """

    kernels_keyed = True

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(graph.add("Flatten", [inputs], axis=1))

    def export_torch(self, torch: Any) -> Any:
        return torch.nn.Flatten()

    def forward(
        self, inputs: Floating[Batched, " batch *rest"]
    ) -> Floating[Array2D, "batch features"]:
        """Each sample as one row; remember the inputs' shape for ``backward``.

        Shape: inputs (batch, *rest) → (batch, features)
        """
        output = flatten_forward(inputs)
        self._cache(inputs=inputs, output=output)
        return output

    def backward(
        self, dvalues: Floating[Array2D, "batch features"]
    ) -> Floating[ArrayND, " batch *rest"]:
        """The gradient in the inputs' shape.

        Shape: dvalues (batch, features) → (batch, *rest)
        """
        dinputs: Floating[ArrayND, " batch *rest"] = flatten_backward(dvalues, self.inputs)
        self.dinputs = dinputs
        return dinputs
