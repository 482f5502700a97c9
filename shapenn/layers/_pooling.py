"""2-D pooling over NCHW inputs: the largest (MaxPool2D) or the mean (AvgPool2D) value of
each window.

Both loop over the window's offsets — 4 for a 2×2 pool — never over pixels or samples: each
offset is one strided view of the whole batch, combined by one ufunc call. The output size is
arithmetic on named dims, ``(h-pool_h)//stride_h+1``, written once, in `Pooled`: the layers'
methods and the kernels of `shapenn.functional` annotate with it.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeAlias

import numpy as np

from ..shapes import Array4D, Dim, Floating, shapechecked
from ._layer import Layer
from ._spatial import pair, shown

__all__ = [
    "AvgPool2D",
    "MaxPool2D",
    "Pooled",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
]


#: A pool's outputs, each spatial size the number of windows that fit at the stride.
Pooled: TypeAlias = Floating[
    Array4D, "batch channels (h-pool_h)//stride_h+1 (w-pool_w)//stride_w+1"
]


def _offsets(inputs: Any, pool: tuple[int, int], stride: tuple[int, int]) -> Iterator[Any]:
    """For each offset (i, j) of the window, in row-major order, the view of ``inputs`` that
    holds the value at that offset of every window: (batch, channels, oh, ow)."""
    (ph, pw), (sh, sw) = pool, stride
    oh = (inputs.shape[2] - ph) // sh + 1
    ow = (inputs.shape[3] - pw) // sw + 1
    for i in range(ph):
        for j in range(pw):
            yield inputs[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]


@shapechecked
def max_pool2d_forward(
    inputs: Floating[Array4D, "batch channels h w"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels oh ow"]:
    """The largest value of each ``pool``-sized window, windows ``stride`` apart.

    Shape:
        inputs: (batch, channels, h, w) → (batch, channels, oh, ow).
    """
    views = _offsets(inputs, pool, stride)
    outputs: Floating[Array4D, "batch channels oh ow"] = next(views).copy(order="K")
    for view in views:
        np.maximum(outputs, view, out=outputs)
    return outputs


@shapechecked(anchors=("inputs", "outputs"))
def max_pool2d_backward(
    dvalues: Floating[Array4D, "batch channels oh ow"],
    inputs: Floating[Array4D, "batch channels h w"],
    outputs: Floating[Array4D, "batch channels oh ow"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels h w"]:
    """Route each window's gradient to the position of its largest input (the first one, in
    row-major order, when several are equal, as PyTorch does).

    Shape:
        dvalues: (batch, channels, oh, ow); inputs: (batch, channels, h, w) and outputs:
        (batch, channels, oh, ow) of the forward pass → dinputs: (batch, channels, h, w).
    """
    # *_like keeps the inputs' memory layout (a convolution's batch-last output), so every
    # loop below runs over the batch, and the gradient reaches that convolution's backward in
    # the layout it reads without a copy.
    (ph, pw), (sh, sw) = pool, stride
    disjoint = (ph, pw) == (sh, sw)  # each input in one window at most: each view written once
    covered = disjoint and inputs.shape[2] % ph == 0 and inputs.shape[3] % pw == 0
    dinputs: Floating[Array4D, "batch channels h w"] = (
        np.empty_like if covered else np.zeros_like
    )(inputs, dtype=dvalues.dtype)
    # What is left of each window's gradient: taken by the first offset that holds the max,
    # so ties (a window of zeros after ReLU) do not count it twice.
    remaining = np.empty_like(outputs, dtype=dvalues.dtype)
    remaining[...] = dvalues
    mask = np.empty_like(outputs, dtype=bool)
    offsets = list(
        zip(_offsets(inputs, pool, stride), _offsets(dinputs, pool, stride), strict=True)
    )
    for n, (view, target) in enumerate(offsets):
        np.equal(view, outputs, out=mask)
        taken = np.multiply(remaining, mask, out=target if disjoint else None)
        if not disjoint:
            target += taken
        if n + 1 < len(offsets):
            remaining -= taken
    return dinputs


@shapechecked
def avg_pool2d_forward(
    inputs: Floating[Array4D, "batch channels h w"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels oh ow"]:
    """The mean of each ``pool``-sized window, windows ``stride`` apart.

    Shape:
        inputs: (batch, channels, h, w) → (batch, channels, oh, ow).
    """
    views = _offsets(inputs, pool, stride)
    outputs: Floating[Array4D, "batch channels oh ow"] = next(views).copy(order="K")
    for view in views:
        outputs += view
    outputs *= np.asarray(1.0 / (pool[0] * pool[1]), dtype=outputs.dtype)
    return outputs


@shapechecked(anchors=("inputs",))
def avg_pool2d_backward(
    dvalues: Floating[Array4D, "batch channels oh ow"],
    inputs: Floating[Array4D, "batch channels h w"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels h w"]:
    """Share each window's gradient equally among its positions.

    Shape:
        dvalues: (batch, channels, oh, ow); inputs: (batch, channels, h, w) of the forward
        pass → dinputs: (batch, channels, h, w).
    """
    dinputs: Floating[Array4D, "batch channels h w"] = np.zeros_like(inputs, dtype=dvalues.dtype)
    share = dvalues * np.asarray(1.0 / (pool[0] * pool[1]), dtype=dvalues.dtype)
    for target in _offsets(dinputs, pool, stride):
        target += share
    return dinputs


class _Pool2D(Layer):
    """What the two pools share: the window and stride, as config dims, and the annotated
    methods; each pool names its pair of kernels.

    Args:
        pool_size: the window, an int for a square or (height, width).
        stride: step between windows, an int or (height, width); the window size by default
            (windows side by side, as in PyTorch and Keras).
    """

    kernels_keyed = True

    pool_h: Dim
    pool_w: Dim
    stride_h: Dim
    stride_w: Dim
    #: (inputs, pool, stride) → outputs.
    forward_kernel: ClassVar[Callable[..., Any]]
    #: (dvalues, inputs, outputs, pool, stride) → dinputs.
    backward_kernel: ClassVar[Callable[..., Any]]
    #: The same pool as an ONNX operator and as a ``torch.nn`` module.
    onnx_op: ClassVar[str]
    torch_module: ClassVar[str]

    def __init__(
        self, pool_size: int | Sequence[int], *, stride: int | Sequence[int] | None = None
    ) -> None:
        owner = type(self).__name__
        self.pool_size: tuple[int, int] = pair(owner, "pool_size", pool_size)
        self.stride: tuple[int, int] = (
            self.pool_size if stride is None else pair(owner, "stride", stride)
        )
        self.pool_h, self.pool_w = self.pool_size
        self.stride_h, self.stride_w = self.stride

    def __repr__(self) -> str:
        extra = f", stride={shown(self.stride)}" if self.stride != self.pool_size else ""
        return f"{type(self).__name__}({shown(self.pool_size)}{extra})"

    def export_onnx(self, graph: Any, inputs: str) -> str:
        shape, strides = list(self.pool_size), list(self.stride)
        return str(graph.add(self.onnx_op, [inputs], kernel_shape=shape, strides=strides))

    def export_torch(self, torch: Any) -> Any:
        return getattr(torch.nn, self.torch_module)(self.pool_size, stride=self.stride)

    def forward(self, inputs: Floating[Array4D, "batch channels h w"]) -> Pooled:
        """Pool each window; remember inputs and outputs for ``backward``.

        Shape: inputs (batch, channels, h, w) → (batch, channels, (h-pool_h)//stride_h+1,
        (w-pool_w)//stride_w+1)
        """
        output: Floating[Array4D, "batch channels oh ow"] = type(self).forward_kernel(
            inputs, self.pool_size, self.stride
        )
        self.inputs = inputs
        self.output = output
        return output

    def backward(
        self,
        dvalues: Pooled,
    ) -> Floating[Array4D, "batch channels h w"]:
        """Each window's gradient, back on the positions it was pooled from.

        Shape: dvalues (batch, channels, (h-pool_h)//stride_h+1, (w-pool_w)//stride_w+1) →
        (batch, channels, h, w)
        """
        dinputs: Floating[Array4D, "batch channels h w"] = type(self).backward_kernel(
            dvalues, self.inputs, self.output, self.pool_size, self.stride
        )
        self.dinputs = dinputs
        return dinputs


class MaxPool2D(_Pool2D):
    """Max pooling, PyTorch's ``nn.MaxPool2d`` and Keras's ``MaxPooling2D`` (no padding): the
    largest value of each window; its gradient goes to that value's position.

    Args:
        pool_size: the window, an int for a square or (height, width).
        stride: step between windows; the window size by default.

    Shape:
        forward: inputs (batch, channels, h, w) → (batch, channels, oh, ow) with
        ``oh = (h − pool_h) // stride_h + 1`` and ``ow = (w − pool_w) // stride_w + 1``; rows
        and columns that do not fill a window are left out.
        backward: the outputs' shape → the inputs' shape.
    """

    onnx_op = "MaxPool"
    torch_module = "MaxPool2d"
    forward_kernel: ClassVar[Callable[..., Any]] = staticmethod(max_pool2d_forward)
    backward_kernel: ClassVar[Callable[..., Any]] = staticmethod(max_pool2d_backward)


def _avg_backward(dvalues: Any, inputs: Any, _outputs: Any, pool: Any, stride: Any) -> Any:
    return avg_pool2d_backward(dvalues, inputs, pool, stride)


class AvgPool2D(_Pool2D):
    """Average pooling, PyTorch's ``nn.AvgPool2d`` and Keras's ``AveragePooling2D`` (no
    padding): the mean of each window; its gradient is shared equally among the window.

    Args:
        pool_size: the window, an int for a square or (height, width).
        stride: step between windows; the window size by default.

    Shape:
        forward: inputs (batch, channels, h, w) → (batch, channels, oh, ow) with
        ``oh = (h − pool_h) // stride_h + 1`` and ``ow = (w − pool_w) // stride_w + 1``.
        backward: the outputs' shape → the inputs' shape.
    """

    onnx_op = "AveragePool"
    torch_module = "AvgPool2d"
    forward_kernel: ClassVar[Callable[..., Any]] = staticmethod(avg_pool2d_forward)
    # The mean's gradient needs no outputs.
    backward_kernel: ClassVar[Callable[..., Any]] = staticmethod(_avg_backward)
