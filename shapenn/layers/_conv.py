"""The 2-D convolution: NCHW inputs, weights (out_channels, in_channels, kh, kw) as in PyTorch
and ONNX, computed as im2col — a strided view of every kernel-sized window, copied once into
rows — and one matrix product, forward and backward.

Arrays are NCHW by shape, but what this module returns is batch-last in memory — (channels,
h, w, batch) seen through a transpose — so that the copies and strided adds of im2col and its
inverse, and the elementwise layers and pools between convolutions, run over long contiguous
stretches rather than one image row at a time.

The output size is arithmetic on named dims, ``(h+pad_h-kh)//stride_h+1``, written once, in
`Convolved`, the annotation of ``Conv2D``'s methods and of the kernels of
`shapenn.functional`: the checks, build-time inference, ``summary()`` and the "how the sizes
got there" lines of an error all read it from there.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .._args import as_integer, fits_memory, positive, within_memory
from .._args import shown as _shown
from ..shapes import ArgumentError, Array1D, Array2D, Array4D, Dim, Floating, shapechecked
from . import _init as init_
from ._init import torch_dtype as _torch_dtype
from ._products import product, product_t
from ._regularization import Regularized
from ._spatial import pair, shown

__all__ = [
    "Conv2D",
    "Convolved",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_parameter_gradients",
]

# Typed loosely: NumPy 2.3's stubs have no overload for a tuple of axes.
_sliding_window_view: Any = np.lib.stride_tricks.sliding_window_view

#: Padding of the two spatial axes, as ``np.pad`` takes it: ((top, bottom), (left, right)).
Padding = tuple[tuple[int, int], tuple[int, int]]
#: A convolution's outputs, each spatial size the number of kernel positions that fit in the
#: padded input at the stride (``pad_h``: top and bottom together).
Convolved: TypeAlias = Floating[
    Array4D, "batch out_channels (h+pad_h-kh)//stride_h+1 (w+pad_w-kw)//stride_w+1"
]


@shapechecked(anchors=("weights", "biases"))
def conv2d_forward(
    inputs: Floating[Array4D, "batch in_channels h w"],
    weights: Floating[Array4D, "out_channels in_channels kh kw"],
    biases: Floating[Array1D, " out_channels"],
    stride: tuple[int, int],
    padding: Padding,
) -> tuple[Floating[Array4D, "batch out_channels oh ow"], Floating[Array2D, "patch positions"]]:
    """Cross-correlate each kernel with the zero-padded inputs, add its bias.

    Returns the outputs and the im2col matrix — one column per output position (``oh · ow ·
    batch`` of them, in that order), one row per weight of a kernel (``in_channels · kh ·
    kw``) — which the backward pass reuses.

    Shape:
        inputs: (batch, in_channels, h, w); weights: (out_channels, in_channels, kh, kw);
        biases: (out_channels,) → (outputs: (batch, out_channels, oh, ow), cols: (patch,
        positions)).
    """
    out_channels, in_channels, kh, kw = weights.shape
    windows = _windows(_padded(inputs, padding), kh, kw, stride)  # (B, C, oh, ow, kh, kw)
    batch, _, oh, ow = windows.shape[:4]
    # Row (c, i, j) of `cols` holds offset (i, j) of channel c in every window, its columns
    # ordered (oh, ow, batch): over batch-last memory each image row of the windows is one
    # contiguous run of ow · batch values, the cheapest copy im2col can be.
    # (Sizes spelled out, not -1: an empty batch is a valid, empty input.)
    cols = windows.transpose(1, 4, 5, 2, 3, 0).reshape(in_channels * kh * kw, oh * ow * batch)
    planes = product(weights.reshape(out_channels, in_channels * kh * kw), cols)
    planes += biases[:, None]
    # The product's memory, (channels, oh, ow, batch), seen as NCHW: activations and pools
    # keep that layout (their inner loops then run over the batch), the next convolution
    # reads it without a transpose, and the backward pass gets (channels, positions) for
    # free. Flatten copies it into NCHW order.
    outputs = planes.reshape(out_channels, oh, ow, batch).transpose(3, 0, 1, 2)
    return outputs, cols


@shapechecked(anchors=("inputs", "cols", "weights"))
def conv2d_backward(
    dvalues: Floating[Array4D, "batch out_channels oh ow"],
    inputs: Floating[Array4D, "batch in_channels h w"],
    cols: Floating[Array2D, "patch positions"],
    weights: Floating[Array4D, "out_channels in_channels kh kw"],
    stride: tuple[int, int],
    padding: Padding,
) -> tuple[
    Floating[Array4D, "batch in_channels h w"],
    Floating[Array4D, "out_channels in_channels kh kw"],
    Floating[Array1D, " out_channels"],
]:
    """Gradients of the convolution given the gradient of its outputs: ``dinputs`` (the
    products of the weights and ``dvalues``, summed back into each window), ``dweights``
    (``dvalues`` against the im2col matrix) and ``dbiases``.

    Shape:
        dvalues: (batch, out_channels, oh, ow); inputs: (batch, in_channels, h, w) of the
        forward pass; cols: its im2col matrix; weights: (out_channels, in_channels, kh, kw)
        → (dinputs: (batch, in_channels, h, w), dweights: the weights' shape, dbiases:
        (out_channels,)).
    """
    planes = _planes(dvalues)
    dweights, dbiases = _parameter_gradients(planes, cols, weights)
    out_channels, in_channels, kh, kw = weights.shape
    batch, _, oh, ow = dvalues.shape
    dcols = product(weights.reshape(out_channels, in_channels * kh * kw).T, planes)
    dcols = dcols.reshape(in_channels, kh, kw, oh, ow, batch)
    (top, bottom), (left, right) = padding
    height, width = inputs.shape[2] + top + bottom, inputs.shape[3] + left + right
    # Batch-last, as the columns are: each strided add below runs over whole (ow, batch)
    # stretches of memory instead of ow values at a time, 2-3x faster.
    padded = np.zeros((in_channels, height, width, batch), dtype=dcols.dtype)
    sh, sw = stride
    for i in range(kh):  # a loop over the kernel's offsets, never over pixels or samples
        for j in range(kw):
            padded[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw] += dcols[
                :, i, j
            ]
    dinputs = padded[:, top : height - bottom, left : width - right].transpose(3, 0, 1, 2)
    return dinputs, dweights, dbiases


@shapechecked(anchors=("cols", "weights"))
def conv2d_parameter_gradients(
    dvalues: Floating[Array4D, "batch out_channels oh ow"],
    cols: Floating[Array2D, "patch positions"],
    weights: Floating[Array4D, "out_channels in_channels kh kw"],
) -> tuple[Floating[Array4D, "out_channels in_channels kh kw"], Floating[Array1D, " out_channels"]]:
    """The parameter gradients alone, for a first layer whose input gradient nobody needs.

    Shape:
        dvalues: (batch, out_channels, oh, ow); cols: (patch, positions); weights:
        (out_channels, in_channels, kh, kw) → (dweights: the weights' shape, dbiases:
        (out_channels,)).
    """
    return _parameter_gradients(_planes(dvalues), cols, weights)


def _padded(inputs: Any, padding: Padding) -> Any:
    """``inputs`` zero-padded, in batch-last memory ``(channels, h, w, batch)`` seen as NCHW:
    a view when they already are and need no padding, else one copy that does both."""
    (top, bottom), (left, right) = padding
    if not any((top, bottom, left, right)) and inputs.transpose(1, 2, 3, 0).flags.c_contiguous:
        return inputs
    batch, channels, height, width = inputs.shape
    shape = (channels, height + top + bottom, width + left + right, batch)
    padded = (np.zeros if top + bottom + left + right else np.empty)(shape, inputs.dtype)
    padded[:, top : top + height, left : left + width] = inputs.transpose(1, 2, 3, 0)
    return padded.transpose(3, 0, 1, 2)


def _windows(padded: Any, kh: int, kw: int, stride: tuple[int, int]) -> Any:
    """Every (kh, kw) window at the stride, as a view: (batch, channels, oh, ow, kh, kw)."""
    windows = _sliding_window_view(padded, (kh, kw), axis=(2, 3))
    return windows[:, :, :: stride[0], :: stride[1]]


def _planes(dvalues: Any) -> Any:
    """(batch, channels, oh, ow) as one row per channel, columns in the order of ``cols``:
    (channels, oh · ow · batch); free when ``dvalues`` is batch-last in memory, as this
    module's outputs are."""
    batch, channels, oh, ow = dvalues.shape
    return dvalues.transpose(1, 2, 3, 0).reshape(channels, oh * ow * batch)


def _parameter_gradients(planes: Any, cols: Any, weights: Any) -> tuple[Any, Any]:
    # Written as (cols · planesᵀ)ᵀ: the same product, which OpenBLAS runs 1.4-1.7x faster in
    # this orientation (the long axis is the reduction axis of both operands' rows).
    dweights = product_t(cols, planes).T.reshape(weights.shape)
    return dweights, planes.sum(axis=1)


def _padding(
    value: int | Sequence[int] | str, kernel: tuple[int, int], stride: tuple[int, int]
) -> Padding:
    """((top, bottom), (left, right)) for ``padding`` as Conv2D takes it."""
    if isinstance(value, str):  # first: an array compared with a string is no bool
        if value == "valid":
            return (0, 0), (0, 0)
        if value == "same":
            if stride != (1, 1):
                raise ArgumentError(
                    f"Conv2D: padding='same' needs stride 1, got stride {stride}: with a larger "
                    "stride the output cannot have the input's size; give padding as numbers"
                )
            # Odd kernels pad evenly; even ones put the extra row and column after (PyTorch).
            return (
                ((kernel[0] - 1) // 2, kernel[0] // 2),
                ((kernel[1] - 1) // 2, kernel[1] // 2),
            )
        raise ArgumentError(
            f"Conv2D: padding must be an int, a pair, 'same' or 'valid', got {value!r}"
        )
    given = list(value) if isinstance(value, Sequence) else [value, value]
    sizes = [as_integer(p) for p in given]
    if len(sizes) != 2 or any(p is None or p < 0 for p in sizes):
        raise ArgumentError(
            "Conv2D: padding must be an int >= 0, a pair of them, 'same' or 'valid', got "
            f"{_shown(value)}"
        )
    top, left = (int(p or 0) for p in sizes)
    return (top, top), (left, left)


class Conv2D(Regularized):
    """A 2-D convolution over NCHW inputs (PyTorch's ``nn.Conv2d``, Keras's ``Conv2D``).

    Args:
        in_channels: channels of each input (``in_channels``).
        out_channels: number of kernels, the channels of each output (``out_channels``).
        kernel_size: ``kh`` and ``kw``: an int for a square kernel, or (height, width).
        stride: step between windows, an int or (height, width); 1 by default.
        padding: zeros added around the input: an int or (height, width) per side,
            ``"valid"`` (none, the default) or ``"same"`` (output as large as the input;
            stride 1 only; an even kernel gets its extra row and column at the end).
        seed: seed or ``numpy.random.Generator`` for the initial weights; None draws fresh
            entropy. NumPy's global random state is never used.
        dtype: float32 (default) or float64.
        init: how the weights are drawn, as for Dense: ``"he_normal"`` (the default,
            ``N(0, 2 / (in_channels · kh · kw))``), ``"he_uniform"``, ``"glorot_uniform"``,
            ``"glorot_normal"``, ``"book"`` or a function ``init(shape, rng, dtype) → array``.
        weight_scale: instead of ``init``, draw ``weight_scale · N(0, 1)``.
        weight_regularizer_l1, weight_regularizer_l2, bias_regularizer_l1, bias_regularizer_l2:
            L1/L2 penalty factors, as for Dense.

    Attributes:
        weights: (out_channels, in_channels, kh, kw). biases: (out_channels,), zeros at first.
        stride_h, stride_w: the stride. pad_h, pad_w: rows and columns of zeros added in
            all (top + bottom, left + right).

    Shape:
        forward: inputs (batch, in_channels, h, w) → (batch, out_channels, oh, ow) with
        ``oh = (h + pad_h − kh) // stride_h + 1`` and ``ow = (w + pad_w − kw) // stride_w + 1``.
        backward: the outputs' shape → the inputs' shape.

    Example::

        >>> layer = Conv2D(1, 8, 3, seed=0)
        >>> layer
        Conv2D(1 → 8, 3×3)
        >>> layer.forward(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape
        (2, 8, 6, 6)
    """

    kernels_keyed = True

    weights: Floating[Array4D, "out_channels in_channels kh kw"]
    biases: Floating[Array1D, " out_channels"]
    stride_h: Dim
    stride_w: Dim
    pad_h: Dim
    pad_w: Dim

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        *,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = "valid",
        seed: int | np.random.Generator | None = None,
        dtype: npt.DTypeLike = np.float32,
        init: "str | init_.Initializer | None" = None,
        weight_scale: float | None = None,
        weight_regularizer_l1: float = 0.0,
        weight_regularizer_l2: float = 0.0,
        bias_regularizer_l1: float = 0.0,
        bias_regularizer_l2: float = 0.0,
    ) -> None:
        channels = positive("Conv2D", "in_channels", in_channels)
        kernels = positive("Conv2D", "out_channels", out_channels)
        self.kernel_size: tuple[int, int] = pair("Conv2D", "kernel_size", kernel_size)
        self.stride: tuple[int, int] = pair("Conv2D", "stride", stride)
        spatial = _padding(padding, self.kernel_size, self.stride)
        # Kept as given ('same') or as a pair of per-side sizes, so the config rebuilds it.
        self.padding: tuple[int, int] | str = (
            padding if isinstance(padding, str) else (spatial[0][0], spatial[1][0])
        )
        self.spatial_padding: Padding = spatial
        self.stride_h, self.stride_w = self.stride
        self.pad_h, self.pad_w = (sum(self.spatial_padding[0]), sum(self.spatial_padding[1]))
        self._set_regularizers(
            weight_regularizer_l1, weight_regularizer_l2, bias_regularizer_l1, bias_regularizer_l2
        )
        float_dtype = init_.float_dtype(dtype, "Conv2D")
        shape = (kernels, channels, *self.kernel_size)
        kh, kw = self.kernel_size
        fits_memory(
            "Conv2D",
            f"in_channels={_shown(channels)}, out_channels={_shown(kernels)} and kernel_size="
            f"{_shown(kh if kh == kw else self.kernel_size)} make weights of shape",
            shape,
            float_dtype,
        )
        # The smallest input the layer takes, padded: one sample, each side at least a kernel.
        smallest = (
            channels,
            max(self.kernel_size[0], self.pad_h + 1),
            max(self.kernel_size[1], self.pad_w + 1),
        )
        fits_memory(
            "Conv2D",
            f"padding={_shown(padding)} pads each sample to at least",
            smallest,
            float_dtype,
        )
        area = self.kernel_size[0] * self.kernel_size[1]
        self.weights = self._initial_weights(
            init, weight_scale, shape, (channels * area, kernels * area), seed, float_dtype
        )
        self.biases = init_.zeros((kernels,), float_dtype)
        self.dweights: Floating[Array4D, "out_channels in_channels kh kw"] = np.zeros(
            shape, float_dtype
        )
        self.dbiases: Floating[Array1D, " out_channels"] = np.zeros((kernels,), float_dtype)

    @property
    def in_channels(self) -> int:
        return int(self.weights.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.weights.dtype

    def __repr__(self) -> str:
        kh, kw = self.kernel_size
        extra = ""
        if self.stride != (1, 1):
            extra += f", stride={shown(self.stride)}"
        if self.padding not in ("valid", (0, 0)):
            extra += f", padding={shown(self.padding)}"
        return f"Conv2D({self.in_channels} → {self.out_channels}, {kh}×{kw}{extra})"

    def resized(self, dims: Mapping[str, int]) -> str:
        """This layer's constructor call with its channel dims changed, for error hints."""
        channels = dims.get("in_channels", self.in_channels)
        kernels = dims.get("out_channels", self.out_channels)
        rest = f", {shown(self.kernel_size)}"
        if self.stride != (1, 1):
            rest += f", stride={shown(self.stride)}"
        if self.padding not in ("valid", (0, 0)):
            rest += f", padding={shown(self.padding)}"
        return f"Conv2D({channels}, {kernels}{rest})"

    def export_onnx(self, graph: Any, inputs: str) -> str:
        (top, bottom), (left, right) = self.spatial_padding
        return str(
            graph.add(
                "Conv",
                [
                    inputs,
                    graph.constant("weights", self.weights),
                    graph.constant("biases", self.biases),
                ],
                kernel_shape=list(self.kernel_size),
                strides=list(self.stride),
                pads=[top, left, bottom, right],
            )
        )

    def export_torch(self, torch: Any) -> Any:
        (top, bottom), (left, right) = self.spatial_padding
        symmetric = (top, left) == (bottom, right)
        conv = torch.nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=(top, left) if symmetric else 0,
            dtype=_torch_dtype(torch, self),
        )
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(self.weights.copy()))
            conv.bias.copy_(torch.from_numpy(self.biases.copy()))
        if symmetric:
            return conv
        # An even kernel's 'same' padding: one more row and column at the end than at the start.
        return torch.nn.Sequential(torch.nn.ZeroPad2d((left, right, top, bottom)), conv)

    def forward(self, inputs: Floating[Array4D, "batch in_channels h w"]) -> Convolved:
        """Convolve ``inputs`` with every kernel; remember what ``backward`` needs.

        Shape: inputs (batch, in_channels, h, w) → (batch, out_channels,
        (h+pad_h-kh)//stride_h+1, (w+pad_w-kw)//stride_w+1)
        """
        self._fits(inputs)
        output, cols = conv2d_forward(
            inputs, self.weights, self.biases, self.stride, self.spatial_padding
        )
        self.inputs = inputs
        self.cols = cols
        self.output = output
        return output

    def _fits(self, inputs: Any) -> None:
        """Refuse, before allocating them, a padded batch or an im2col matrix (one row per
        kernel weight, one column per output position) larger than the machine's memory."""
        batch, channels, height, width = (int(size) for size in inputs.shape)
        kh, kw = self.kernel_size
        padded = (batch, channels, height + self.pad_h, width + self.pad_w)
        oh = (padded[2] - kh) // self.stride_h + 1
        ow = (padded[3] - kw) // self.stride_w + 1
        if oh <= 0 or ow <= 0:
            return  # no window fits: the shape check says so, allocating nothing
        itemsize = inputs.dtype.itemsize
        values = math.prod(padded) + channels * kh * kw * batch * oh * ow
        values += batch * self.out_channels * oh * ow
        within_memory(
            f"{self!r}.forward",
            f"a batch of shape {tuple(inputs.shape)} padded to {padded}, unrolled (im2col) into "
            f"a ({channels * kh * kw}, {batch * oh * ow}) matrix and convolved into "
            f"{(batch, self.out_channels, oh, ow)} in {inputs.dtype}",
            values * itemsize,
            fix="give fewer samples at once (a smaller batch_size)",
        )

    def backward(
        self,
        dvalues: Convolved,
    ) -> Floating[Array4D, "batch in_channels h w"]:
        """Store ``dweights`` and ``dbiases``; return the gradient for the previous layer.

        Shape: dvalues (batch, out_channels, (h+pad_h-kh)//stride_h+1,
        (w+pad_w-kw)//stride_w+1) → (batch, in_channels, h, w)
        """
        dinputs, dweights, dbiases = conv2d_backward(
            dvalues, self.inputs, self.cols, self.weights, self.stride, self.spatial_padding
        )
        self.dweights = dweights
        self.dbiases = dbiases
        self._regularize()
        self.dinputs = dinputs
        return dinputs

    def backward_parameters(
        self,
        dvalues: Convolved,
    ) -> None:
        """``backward`` without the input gradient, which nobody needs for a first layer.

        Shape: dvalues (batch, out_channels, (h+pad_h-kh)//stride_h+1,
        (w+pad_w-kw)//stride_w+1)
        """
        dweights, dbiases = conv2d_parameter_gradients(dvalues, self.cols, self.weights)
        self.dweights = dweights
        self.dbiases = dbiases
        self._regularize()
