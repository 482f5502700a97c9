"""Flatten: each sample's (channels, height, width) values as one row, for a Dense layer."""

from typing import Any

from ..shapes import Array2D, Array4D, Floating, shapechecked
from ._layer import Layer

__all__ = ["Flatten", "flatten_backward", "flatten_forward"]


@shapechecked
def flatten_forward(
    inputs: Floating[Array4D, "batch channels h w"],
) -> Floating[Array2D, "batch channels*h*w"]:
    """Each sample as one row, in C order (channel by channel, row by row), as PyTorch's
    ``flatten`` and Keras's ``Flatten`` on channels-first data.

    Shape:
        inputs: (batch, channels, h, w) → (batch, channels·h·w).
    """
    batch, channels, h, w = inputs.shape
    outputs: Floating[Array2D, "batch channels*h*w"] = inputs.reshape(batch, channels * h * w)
    return outputs


@shapechecked(anchors=("inputs",))
def flatten_backward(
    dvalues: Floating[Array2D, "batch channels*h*w"],
    inputs: Floating[Array4D, "batch channels h w"],
) -> Floating[Array4D, "batch channels h w"]:
    """Each row of the gradient back in its sample's shape.

    Shape:
        dvalues: (batch, channels·h·w); inputs: (batch, channels, h, w) → (batch, channels,
        h, w).
    """
    dinputs: Floating[Array4D, "batch channels h w"] = dvalues.reshape(inputs.shape)
    return dinputs


class Flatten(Layer):
    """Flatten each sample to one row: (batch, channels, h, w) → (batch, channels·h·w), the
    step between convolutions and Dense layers (PyTorch's ``nn.Flatten``, Keras's
    ``Flatten``).

    Shape:
        forward: inputs (batch, channels, h, w) → (batch, channels·h·w).
        backward: (batch, channels·h·w) → (batch, channels, h, w).
    """

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(graph.add("Flatten", [inputs], axis=1))

    def export_torch(self, torch: Any) -> Any:
        return torch.nn.Flatten()

    def forward(
        self, inputs: Floating[Array4D, "batch channels h w"]
    ) -> Floating[Array2D, "batch channels*h*w"]:
        """Each sample as one row; remember the inputs' shape for ``backward``.

        Shape: inputs (batch, channels, h, w) → (batch, channels*h*w)
        """
        output = flatten_forward(inputs)
        self.inputs = inputs
        self.output = output
        return output

    def backward(
        self, dvalues: Floating[Array2D, "batch channels*h*w"]
    ) -> Floating[Array4D, "batch channels h w"]:
        """The gradient in the inputs' shape.

        Shape: dvalues (batch, channels*h*w) → (batch, channels, h, w)
        """
        dinputs = flatten_backward(dvalues, self.inputs)
        self.dinputs = dinputs
        return dinputs
