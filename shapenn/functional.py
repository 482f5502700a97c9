"""The pure kernels behind the layers, losses and optimizers: PyTorch's ``nn.functional`` role.

Each is a small function whose arrays are annotated with named dims and checked at every call;
the classes hold parameters, caches and state, and call these. Use them to write a training
step by hand, or inside your own layers.

Every output size is tied to the inputs' sizes by annotations, so arrays that do not belong
together are a ShapeError naming the kernel and the argument, never a NumPy error or a
silently broadcast result. The convolution and pooling kernels compute their output sizes as
Conv2D and MaxPool2D do — ``oh = (h + pad_h − kh) // stride_h + 1`` — and refuse inputs too
small for one window, or an axis of size 0 after the batch; their settings (``pool``,
``stride``, ``padding``) must be pairs of integers, a dropout rate must be in [0, 1) and a
penalty factor a finite number >= 0: anything else is an ArgumentError.

Example::

    import shapenn.functional as F

    outputs = F.dense_forward(inputs, weights, biases)   # (batch, in) @ (in, out) + (1, out)
"""

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeAlias

import numpy as np
from jaxtyping import Shaped

from ._args import as_integer, real, within_memory
from ._losses import (
    binary_crossentropy as binary_crossentropy,
)
from ._losses import (
    binary_crossentropy_backward as binary_crossentropy_backward,
)
from ._losses import (
    categorical_crossentropy_onehot as categorical_crossentropy_onehot,
)
from ._losses import (
    categorical_crossentropy_onehot_backward as categorical_crossentropy_onehot_backward,
)
from ._losses import (
    categorical_crossentropy_sparse as categorical_crossentropy_sparse,
)
from ._losses import (
    categorical_crossentropy_sparse_backward as categorical_crossentropy_sparse_backward,
)
from ._losses import mean_absolute_error as mean_absolute_error
from ._losses import mean_absolute_error_backward as mean_absolute_error_backward
from ._losses import mean_squared_error as mean_squared_error
from ._losses import mean_squared_error_backward as mean_squared_error_backward
from ._losses import softmax_crossentropy_backward as softmax_crossentropy_backward
from .layers import _conv, _dropout, _flatten, _pooling, _regularization
from .layers._activations import identity_backward as identity_backward
from .layers._activations import identity_forward as identity_forward
from .layers._activations import relu_backward as relu_backward
from .layers._activations import relu_forward as relu_forward
from .layers._activations import sigmoid_backward as sigmoid_backward
from .layers._activations import sigmoid_forward as sigmoid_forward
from .layers._activations import softmax_backward as softmax_backward
from .layers._activations import softmax_forward as softmax_forward
from .layers._activations import tanh_backward as tanh_backward
from .layers._activations import tanh_forward as tanh_forward
from .layers._conv import Convolved
from .layers._dense import dense_backward as dense_backward
from .layers._dense import dense_forward as dense_forward
from .layers._dense import dense_parameter_gradients as dense_parameter_gradients
from .layers._dropout import dropout_backward as dropout_backward
from .layers._flatten import flatten_forward as flatten_forward
from .layers._pooling import Pooled
from .optim import adagrad_update as adagrad_update
from .optim import adam_update as adam_update
from .optim import rmsprop_update as rmsprop_update
from .optim import sgd_update as sgd_update
from .shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    Array4D,
    ArrayND,
    Cache,
    Dim,
    Floating,
    ShapeError,
    check_methods,
    shapechecked,
)

__all__ = [
    "adagrad_update",
    "adam_update",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "binary_crossentropy",
    "binary_crossentropy_backward",
    "categorical_crossentropy_onehot",
    "categorical_crossentropy_onehot_backward",
    "categorical_crossentropy_sparse",
    "categorical_crossentropy_sparse_backward",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_parameter_gradients",
    "dense_backward",
    "dense_forward",
    "dense_parameter_gradients",
    "dropout_backward",
    "dropout_forward",
    "flatten_backward",
    "flatten_forward",
    "identity_backward",
    "identity_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "mean_absolute_error",
    "mean_absolute_error_backward",
    "mean_squared_error",
    "mean_squared_error_backward",
    "regularization_gradient",
    "regularization_penalty",
    "relu_backward",
    "relu_forward",
    "rmsprop_update",
    "sgd_update",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_crossentropy_backward",
    "softmax_forward",
    "tanh_backward",
    "tanh_forward",
]

#: Padding of the two spatial axes, as ``np.pad`` takes it: ((top, bottom), (left, right)).
Padding: TypeAlias = tuple[tuple[int, int], tuple[int, int]]

# --- the settings of a kernel ------------------------------------------------------------------


def _pair(where: str, name: str, value: object, *, least: int) -> tuple[int, int]:
    """``value`` as (height, width): a pair of integers >= ``least``; an ArgumentError naming
    the kernel and the argument otherwise."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        height, width = as_integer(value[0]), as_integer(value[1])
        if height is not None and width is not None and min(height, width) >= least:
            return height, width
    what = "positive integers" if least == 1 else f"integers >= {least}"
    raise ArgumentError(
        f"{where}: {name} must be a pair (height, width) of {what}, got {value!r:.80}"
    )


def _padding(where: str, value: object) -> Padding:
    """``value`` as ((top, bottom), (left, right)) of integers >= 0; an ArgumentError naming
    the kernel otherwise."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        try:
            rows = _pair(where, "padding", value[0], least=0)
            columns = _pair(where, "padding", value[1], least=0)
        except ArgumentError:
            pass
        else:
            return rows, columns
    raise ArgumentError(
        f"{where}: padding must be ((top, bottom), (left, right)), integers >= 0, got {value!r:.80}"
    )


# --- convolution and pooling: settings as config dims -------------------------------------------


class _Call:
    """One call of a convolution or pooling kernel, checked as a layer's ``forward`` is.

    The kernel's settings are the object's config dims (``stride_h: Dim``), so the annotations
    of ``forward`` compute each output size from the inputs' exactly as Conv2D's and
    MaxPool2D's do. The engine then refuses, before the kernel runs, arrays whose sizes do not
    follow, inputs too small for one window (an output size below 1) and axes of size 0 after
    the first (nothing to compute), while an empty batch passes — as for the layers. Its
    errors are reported at the public kernel's name.

    Each subclass's kernel is its ``forward``, backward kernels included: the engine checks a
    method of that name as a layer's forward, with exactly the rules above (another name would
    refuse an empty batch as a mean over no samples).
    """

    #: The public kernel, for the errors.
    name: ClassVar[str]

    def __init_subclass__(cls, *, anchors: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_methods(cls, anchors=anchors)

    def __repr__(self) -> str:
        return self.name


@contextmanager
def _reported_at(name: str) -> Iterator[None]:
    """A ShapeError raised inside, reported at the public kernel ``name`` (not at the checked
    call behind it)."""
    __tracebackhide__ = True
    try:
        yield
    except ShapeError as err:
        raise err.located_at(name).with_traceback(None) from None


class _Pooling(_Call):
    """A pooling kernel's window and stride, as config dims."""

    pool_h: Dim
    pool_w: Dim
    stride_h: Dim
    stride_w: Dim

    def __init__(self, pool: object, stride: object) -> None:
        self.pool = _pair(self.name, "pool", pool, least=1)
        self.stride = _pair(self.name, "stride", stride, least=1)
        self.pool_h, self.pool_w = self.pool
        self.stride_h, self.stride_w = self.stride


class _MaxPoolForward(_Pooling):
    name = "max_pool2d_forward"

    def forward(self, inputs: Floating[Array4D, "batch channels h w"]) -> Pooled:
        """Shape: inputs (batch, channels, h, w) → (batch, channels, (h-pool_h)//stride_h+1,
        (w-pool_w)//stride_w+1)"""
        outputs: Floating[Array4D, "batch channels oh ow"] = _pooling.max_pool2d_forward(
            inputs, self.pool, self.stride
        )
        return outputs


class _AvgPoolForward(_Pooling):
    name = "avg_pool2d_forward"

    def forward(self, inputs: Floating[Array4D, "batch channels h w"]) -> Pooled:
        """Shape: inputs (batch, channels, h, w) → (batch, channels, (h-pool_h)//stride_h+1,
        (w-pool_w)//stride_w+1)"""
        outputs: Floating[Array4D, "batch channels oh ow"] = _pooling.avg_pool2d_forward(
            inputs, self.pool, self.stride
        )
        return outputs


class _MaxPoolBackward(_Pooling, anchors=("inputs", "outputs")):
    name = "max_pool2d_backward"

    def forward(
        self,
        dvalues: Pooled,
        inputs: Floating[Array4D, "batch channels h w"],
        outputs: Pooled,
    ) -> Floating[Array4D, "batch channels h w"]:
        """Shape: dvalues and outputs (batch, channels, (h-pool_h)//stride_h+1,
        (w-pool_w)//stride_w+1), inputs (batch, channels, h, w) → (batch, channels, h, w)"""
        dinputs: Floating[Array4D, "batch channels h w"] = _pooling.max_pool2d_backward(
            dvalues, inputs, outputs, self.pool, self.stride
        )
        return dinputs


class _AvgPoolBackward(_Pooling, anchors=("inputs",)):
    name = "avg_pool2d_backward"

    def forward(
        self,
        dvalues: Pooled,
        inputs: Floating[Array4D, "batch channels h w"],
    ) -> Floating[Array4D, "batch channels h w"]:
        """Shape: dvalues (batch, channels, (h-pool_h)//stride_h+1, (w-pool_w)//stride_w+1),
        inputs (batch, channels, h, w) → (batch, channels, h, w)"""
        dinputs: Floating[Array4D, "batch channels h w"] = _pooling.avg_pool2d_backward(
            dvalues, inputs, self.pool, self.stride
        )
        return dinputs


class _Convolution(_Call):
    """A convolution kernel's stride and padding, as config dims (the padding in all, top +
    bottom and left + right, as Conv2D's ``pad_h`` and ``pad_w``)."""

    stride_h: Dim
    stride_w: Dim
    pad_h: Dim
    pad_w: Dim

    def __init__(self, stride: object, padding: object) -> None:
        self.stride = _pair(self.name, "stride", stride, least=1)
        self.padding = _padding(self.name, padding)
        self.stride_h, self.stride_w = self.stride
        self.pad_h, self.pad_w = sum(self.padding[0]), sum(self.padding[1])

    def fits(self, inputs: Any, weights: Any, *, outputs: bool) -> None:
        """Refuse, before allocating them, a padded batch and an im2col matrix (and the
        outputs, for the forward pass) larger than the machine's memory: a padding of 10**6
        is a valid pair of integers. The sizes have passed the check already."""
        batch, channels, height, width = (int(size) for size in inputs.shape)
        kernels, _, kh, kw = (int(size) for size in weights.shape)
        padded = (batch, channels, height + self.pad_h, width + self.pad_w)
        oh = (padded[2] - kh) // self.stride_h + 1
        ow = (padded[3] - kw) // self.stride_w + 1
        values = math.prod(padded) + channels * kh * kw * batch * oh * ow
        values += batch * kernels * oh * ow if outputs else 0
        within_memory(
            self.name,
            f"inputs of shape {tuple(inputs.shape)} padded by {self.padding} to {padded} and "
            f"unrolled (im2col) into a ({channels * kh * kw}, {batch * oh * ow}) matrix in "
            f"{inputs.dtype}",
            values * inputs.dtype.itemsize,
            fix="give a smaller padding, or fewer samples at once",
        )


class _ConvForward(_Convolution, anchors=("weights", "biases")):
    name = "conv2d_forward"
    #: The im2col matrix of the call, which the backward pass reuses (not a parameter).
    cols: Cache[Floating[Array2D, "patch positions"]]

    def forward(
        self,
        inputs: Floating[Array4D, "batch in_channels h w"],
        weights: Floating[Array4D, "out_channels in_channels kh kw"],
        biases: Floating[Array1D, " out_channels"],
    ) -> Convolved:
        """The outputs, checked as Conv2D's are (one array, so that an input too small for the
        kernel is refused before it runs); the im2col matrix is kept as ``cols``.

        Shape: inputs (batch, in_channels, h, w), weights (out_channels, in_channels, kh, kw),
        biases (out_channels,) → (batch, out_channels, (h+pad_h-kh)//stride_h+1,
        (w+pad_w-kw)//stride_w+1)
        """
        self.fits(inputs, weights, outputs=True)
        outputs, self.cols = _conv.conv2d_forward(
            inputs, weights, biases, self.stride, self.padding
        )
        return outputs


# `inputs` and `weights` before `cols`: the sizes of `cols` are computed from those they bind.
class _ConvBackward(_Convolution, anchors=("inputs", "weights", "cols")):
    name = "conv2d_backward"

    def forward(
        self,
        dvalues: Convolved,
        inputs: Floating[Array4D, "batch in_channels h w"],
        cols: Floating[
            Array2D,
            "in_channels*kh*kw batch*((h+pad_h-kh)//stride_h+1)*((w+pad_w-kw)//stride_w+1)",
        ],
        weights: Floating[Array4D, "out_channels in_channels kh kw"],
    ) -> tuple[
        Floating[Array4D, "batch in_channels h w"],
        Floating[Array4D, "out_channels in_channels kh kw"],
        Floating[Array1D, " out_channels"],
    ]:
        """Shape: dvalues (batch, out_channels, oh, ow), inputs (batch, in_channels, h, w),
        cols (in_channels·kh·kw, oh·ow·batch), weights (out_channels, in_channels, kh, kw),
        with oh = (h+pad_h-kh)//stride_h+1 and ow = (w+pad_w-kw)//stride_w+1 → (dinputs,
        dweights, dbiases)"""
        self.fits(inputs, weights, outputs=False)
        gradients: tuple[Any, Any, Any] = _conv.conv2d_backward(
            dvalues, inputs, cols, weights, self.stride, self.padding
        )
        return gradients


# `dvalues` before `cols`: the sizes of `cols` are computed from those it binds.
class _ConvParameterGradients(_Call, anchors=("weights", "dvalues")):
    name = "conv2d_parameter_gradients"

    def forward(
        self,
        dvalues: Floating[Array4D, "batch out_channels oh ow"],
        cols: Floating[Array2D, "in_channels*kh*kw oh*ow*batch"],
        weights: Floating[Array4D, "out_channels in_channels kh kw"],
    ) -> tuple[
        Floating[Array4D, "out_channels in_channels kh kw"], Floating[Array1D, " out_channels"]
    ]:
        """Shape: dvalues (batch, out_channels, oh, ow), cols (in_channels·kh·kw,
        oh·ow·batch), weights (out_channels, in_channels, kh, kw) → (dweights, dbiases)"""
        gradients: tuple[Any, Any] = _conv.conv2d_parameter_gradients(dvalues, cols, weights)
        return gradients


_NOTHING = np.zeros((), dtype=np.int8)


@shapechecked(anchors=("inputs", "inputs_as_rows"))
def _flatten_backward(
    dvalues: Floating[Array2D, "batch features"],
    inputs: Floating[ArrayND, " batch *rest"],
    inputs_as_rows: Shaped[Array2D, "batch features"],
) -> Floating[ArrayND, " batch *rest"]:
    """`flatten_backward`, with ``inputs_as_rows`` a stand-in of the inputs' flattened shape
    (a broadcast of one zero: no memory), which binds ``features`` to the product of
    ``rest``, a size no annotation can compute from a variadic dim."""
    dinputs: Floating[ArrayND, " batch *rest"] = _flatten.flatten_backward(dvalues, inputs)
    return dinputs


# --- the public kernels that need their settings, or a stand-in, checked ---------------------


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
        biases: (out_channels,); stride: (stride_h, stride_w) >= 1; padding: ((top, bottom),
        (left, right)) >= 0 → (outputs: (batch, out_channels, oh, ow), cols: (in_channels · kh
        · kw, oh · ow · batch)), with ``oh = (h + top + bottom − kh) // stride_h + 1`` and
        ``ow`` likewise, each at least 1.
    """
    __tracebackhide__ = True
    call = _ConvForward(stride, padding)
    with _reported_at(call.name):
        outputs = call.forward(inputs, weights, biases)
    return outputs, call.cols


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
        forward pass; cols: its im2col matrix (in_channels · kh · kw, oh · ow · batch);
        weights: (out_channels, in_channels, kh, kw); stride and padding as for
        `conv2d_forward`, which give ``oh`` and ``ow`` → (dinputs: (batch, in_channels, h, w),
        dweights: the weights' shape, dbiases: (out_channels,)).
    """
    __tracebackhide__ = True
    call = _ConvBackward(stride, padding)
    with _reported_at(call.name):
        return call.forward(dvalues, inputs, cols, weights)


def conv2d_parameter_gradients(
    dvalues: Floating[Array4D, "batch out_channels oh ow"],
    cols: Floating[Array2D, "patch positions"],
    weights: Floating[Array4D, "out_channels in_channels kh kw"],
) -> tuple[Floating[Array4D, "out_channels in_channels kh kw"], Floating[Array1D, " out_channels"]]:
    """The parameter gradients alone, for a first layer whose input gradient nobody needs.

    Shape:
        dvalues: (batch, out_channels, oh, ow); cols: (in_channels · kh · kw, oh · ow ·
        batch); weights: (out_channels, in_channels, kh, kw) → (dweights: the weights' shape,
        dbiases: (out_channels,)).
    """
    __tracebackhide__ = True
    call = _ConvParameterGradients()
    with _reported_at(call.name):
        return call.forward(dvalues, cols, weights)


def max_pool2d_forward(
    inputs: Floating[Array4D, "batch channels h w"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels oh ow"]:
    """The largest value of each ``pool``-sized window, windows ``stride`` apart.

    Shape:
        inputs: (batch, channels, h, w); pool, stride: (height, width) >= 1 → (batch,
        channels, oh, ow) with ``oh = (h − pool_h) // stride_h + 1`` and ``ow`` likewise, each
        at least 1.
    """
    __tracebackhide__ = True
    call = _MaxPoolForward(pool, stride)
    with _reported_at(call.name):
        return call.forward(inputs)


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
        (batch, channels, oh, ow) of the forward pass, ``oh`` and ``ow`` as `max_pool2d_forward`
        gives them → dinputs: (batch, channels, h, w).
    """
    __tracebackhide__ = True
    call = _MaxPoolBackward(pool, stride)
    with _reported_at(call.name):
        return call.forward(dvalues, inputs, outputs)


def avg_pool2d_forward(
    inputs: Floating[Array4D, "batch channels h w"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels oh ow"]:
    """The mean of each ``pool``-sized window, windows ``stride`` apart.

    Shape:
        inputs: (batch, channels, h, w); pool, stride: (height, width) >= 1 → (batch,
        channels, oh, ow) with ``oh = (h − pool_h) // stride_h + 1`` and ``ow`` likewise, each
        at least 1.
    """
    __tracebackhide__ = True
    call = _AvgPoolForward(pool, stride)
    with _reported_at(call.name):
        return call.forward(inputs)


def avg_pool2d_backward(
    dvalues: Floating[Array4D, "batch channels oh ow"],
    inputs: Floating[Array4D, "batch channels h w"],
    pool: tuple[int, int],
    stride: tuple[int, int],
) -> Floating[Array4D, "batch channels h w"]:
    """Share each window's gradient equally among its positions.

    Shape:
        dvalues: (batch, channels, oh, ow), ``oh`` and ``ow`` as `avg_pool2d_forward` gives
        them; inputs: (batch, channels, h, w) of the forward pass → dinputs: (batch, channels,
        h, w).
    """
    __tracebackhide__ = True
    call = _AvgPoolBackward(pool, stride)
    with _reported_at(call.name):
        return call.forward(dvalues, inputs)


def flatten_backward(
    dvalues: Floating[Array2D, "batch features"],
    inputs: Floating[ArrayND, " batch *rest"],
) -> Floating[ArrayND, " batch *rest"]:
    """Each row of the gradient back in its sample's shape.

    Shape:
        dvalues: (batch, features), ``features`` the product of ``rest``; inputs: (batch,
        *rest) → (batch, *rest).
    """
    __tracebackhide__ = True
    shape = getattr(inputs, "shape", None)
    rows = (
        np.broadcast_to(_NOTHING, (shape[0], math.prod(shape[1:])))
        if isinstance(shape, tuple) and shape
        else None  # not an array, or 0-D: the check refuses `inputs` in its own words
    )
    with _reported_at("flatten_backward"):
        return _flatten_backward(dvalues, inputs, rows)  # type: ignore[arg-type]


def dropout_forward(
    inputs: Floating[ArrayND, "*shape"], rate: float, rng: np.random.Generator
) -> tuple[Floating[ArrayND, "*shape"], Floating[ArrayND, "*shape"]]:
    """Keep each value with probability ``1 − rate`` and scale it by ``1 / (1 − rate)``.

    Returns the outputs ``inputs · mask`` and the mask (0 or ``1 / (1 − rate)``).

    Shape:
        inputs: any shape; rate: in [0, 1); rng: a numpy.random.Generator → (outputs, mask):
        the same shape each.
    """
    __tracebackhide__ = True
    # A rate of 1 keeps nothing and scales by 1/0; a negative one scales kept values down.
    fraction = real("dropout_forward", "rate", rate, low=0.0, high=1.0, high_open=True)
    if not isinstance(rng, np.random.Generator):  # a seed would give the same mask each call
        raise ArgumentError(
            f"dropout_forward: rng must be a numpy.random.Generator "
            f"(np.random.default_rng(seed)), got {rng!r:.80}"
        )
    result: tuple[Any, Any] = _dropout.dropout_forward(inputs, fraction, rng)
    return result


def regularization_penalty(param: Floating[np.ndarray, "*shape"], l1: float, l2: float) -> float:
    """``l1 · Σ|θ| + l2 · Σθ²``.

    Shape:
        param: any shape; l1, l2: finite numbers >= 0 → a scalar.
    """
    __tracebackhide__ = True
    factors = (
        real("regularization_penalty", "l1", l1, low=0.0),
        real("regularization_penalty", "l2", l2, low=0.0),
    )
    return _regularization.regularization_penalty(param, *factors)


def regularization_gradient(
    param: Floating[np.ndarray, "*shape"], l1: float, l2: float
) -> Floating[np.ndarray, "*shape"]:
    """``l1 · sign(θ) + 2 · l2 · θ`` (the subgradient of ``|θ|`` at 0 is taken as 0).

    Shape:
        param: any shape; l1, l2: finite numbers >= 0 → the same shape.
    """
    __tracebackhide__ = True
    factors = (
        real("regularization_gradient", "l1", l1, low=0.0),
        real("regularization_gradient", "l2", l2, low=0.0),
    )
    gradient: Floating[np.ndarray, "*shape"] = _regularization.regularization_gradient(
        param, *factors
    )
    return gradient
