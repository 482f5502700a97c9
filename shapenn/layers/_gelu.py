"""GELU, the Gaussian error linear unit: ``x · Φ(x)``, with Φ the standard normal CDF, computed
exactly through the error function, ``Φ(x) = (1 + erf(x / √2)) / 2`` (PyTorch's default
``nn.GELU()``, not its tanh approximation).

NumPy has no error function, so `erf` is computed here. In float64: Chebyshev expansions
fitted to it (to about 1e-15 relative), one for ``|x| < 2`` and one for the tail, where
``erfc(x) · x · e^{x²}`` is smooth in ``1 / x``. In float32: one rational function of ``x²``
over the whole clamped range, with no branch (half the time of the expansions in float32).
"""

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.polynomial import chebyshev

from ..shapes import ArrayND, Batched, Floating, shapechecked
from ._layer import Layer

__all__ = ["GELU", "erf", "gelu_backward", "gelu_forward"]

# erf(x) / x as a Chebyshev series in u = x², mapped from [0, 4] to [-1, 1] (|x| < 2).
_ERF_SMALL = (
    0.741555282042402,
    -0.3010710733865949,
    0.06899483068983142,
    -0.013916271264722111,
    0.0024207995224334844,
    -0.0003658639685848564,
    4.862098443229408e-05,
    -5.7492565580562255e-06,
    6.113243577835885e-07,
    -5.899101530393741e-08,
    5.207009055361749e-09,
    -4.23297562813191e-10,
    3.1881101641696016e-11,
    -2.236073224744601e-12,
    1.4674837975117938e-13,
    -9.05600145486423e-15,
    5.006575760880458e-16,
    -4.6921269157232494e-17,
)
# erfc(x) · x · e^{x²} as a Chebyshev series in t = 1/x, mapped from [1/6, 1/2] to [-1, 1]
# (2 <= |x| <= 6; past 6, erf is 1 in float64).
_ERFC_LARGE = (
    0.535373206843882,
    -0.023155412139469377,
    -0.001639221075960579,
    0.00022227996277607632,
    -8.789999542740789e-06,
    -8.810395716744455e-07,
    1.8418972159652423e-07,
    -1.4087247654530893e-08,
    -2.1633907675900409e-10,
    2.1064318384398987e-10,
    -2.9793141831929035e-11,
    1.8153648088349049e-12,
    1.4524494409142112e-13,
    -5.475588039039827e-14,
    7.61722810663366e-15,
    -4.762309811340445e-16,
    -3.456091626760612e-17,
)
# Evaluated by Horner's rule in the mapped variable, where their power-basis coefficients sum
# to about 1 in absolute value (so no cancellation): 20 times faster than Clenshaw's recurrence.
_SMALL_POWERS = chebyshev.cheb2poly(np.array(_ERF_SMALL))
_LARGE_POWERS = chebyshev.cheb2poly(np.array(_ERFC_LARGE))

# erf(x) / x ≈ P(x²) / Q(x²) for |x| <= 4 (float32's erf rounds to 1 from 3.92 on), lowest
# degree first, Q monic. Fitted for this module in float64, to 3e-8 relative, by
# Sanathanan–Koerner iterations of linear least squares in a Chebyshev basis, then Lawson's
# reweighting toward equal ripple. Evaluated in float32 (a grid of 400,001 values over
# [-7, 7], and 1e-30 to 1e-3): at most 5.4 units in the last place, 0.5 on average. Degrees
# (5, 5) are the fewest passes over the array that stay within a few units.
_ERF_NUMERATOR = np.array(
    [
        30232.065394988833,
        5209.572011477592,
        1425.7392861209548,
        105.01546497099996,
        7.636008859884894,
        0.05292484689314445,
    ]
)
_ERF_DENOMINATOR = np.array(
    [
        26792.47110943602,
        13547.66348186976,
        3100.287389637894,
        409.4107397976645,
        31.979934925759775,
        1.0,
    ]
)
_SQRT_HALF = math.sqrt(0.5)
_ERF32 = (
    np.float32(4),
    _ERF_NUMERATOR.astype(np.float32),
    _ERF_DENOMINATOR.astype(np.float32),
)
# Φ(x) − ½ = erf(x·√½) / 2 as the same fraction of x: P(x²/2) and Q(x²/2), both times 2⁵
# so that Q stays monic (powers of two: its float32 coefficients are erf's, exactly), and
# P times √½ / 2. GELU then spends no pass on x·√½, nor on (1 + erf) / 2.
_DEGREE = len(_ERF_DENOMINATOR) - 1
_HALVES = 2.0 ** (_DEGREE - np.arange(_DEGREE + 1))
_CDF32 = (
    np.float32(4 / _SQRT_HALF),
    (_ERF_NUMERATOR * _HALVES * (_SQRT_HALF / 2)).astype(np.float32),
    (_ERF_DENOMINATOR * _HALVES).astype(np.float32),
)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _horner(points: Any, coefficients: Any, out: Any = None) -> Any:
    """The polynomial with ``coefficients`` (lowest degree first) at ``points``, into ``out``
    (another array than ``points``) or a new array."""
    # The first step of Horner's rule, c_n · x, as one product: the same rounding as filling
    # with c_n and multiplying, one pass fewer; none where c_n is 1.
    if coefficients[-1] == 1:
        result = np.add(points, coefficients[-2], out=out)
    else:
        result = np.multiply(points, coefficients[-1], out=out)
        result += coefficients[-2]
    for coefficient in coefficients[-3::-1]:
        result *= points
        result += coefficient
    return result


def _tail(x: Any, large: Any) -> Any:
    """``erf(x)`` for ``|x| >= 2`` (1-D), through ``erfc(|x|) · |x| · e^{x²}`` in ``1/|x|``."""
    one = x.dtype.type(1)
    # erf is 1 in float64 past 6 (erfc(6) ≈ 2e-17); a NaN stays NaN through the clip.
    far = np.clip(np.abs(x), x.dtype.type(2), x.dtype.type(6))
    inverse = one / far
    mapped = inverse * x.dtype.type(6)
    mapped -= x.dtype.type(2)
    tail = np.square(far, out=far)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    tail *= inverse
    tail *= _horner(mapped, large)
    np.subtract(one, tail, out=tail)
    return np.copysign(tail, x, out=tail)


def erf(values: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
    """The error function ``erf(x) = 2/√π ∫₀ˣ e^{−t²} dt`` elementwise: NaN stays NaN, ±inf
    gives ±1.

    Computed in float32 for float32 values (to a few units in the last place, and never
    beyond ±1), else in float64 (to about 1e-15 relative).

    Shape:
        values: any shape → the same shape.
    """
    given = np.asarray(values)
    x = given if given.dtype == np.float32 else given.astype(np.float64)
    if x.ndim == 0:  # NumPy's arithmetic gives a scalar for 0-d arrays: nothing to do in place
        return erf(x.reshape(1)).reshape(())
    if x.dtype == np.float32:
        return _erf32(x)
    x = np.ascontiguousarray(x)  # so that the flat views below are views
    # The expansion for |x| < 2 over the whole array, in place (each temporary of a large
    # array costs its page faults again); the tail's only where |x| >= 2, a few per cent of
    # a network's pre-activations. Its argument is clamped, so every value stays finite.
    mapped = np.square(x)
    np.minimum(mapped, x.dtype.type(4), out=mapped)
    mapped *= x.dtype.type(0.5)
    mapped -= x.dtype.type(1)  # exactly 1 where |x| >= 2 (and where x² is 4 or more)
    result: npt.NDArray[np.floating[Any]] = _horner(mapped, _SMALL_POWERS)
    result *= x
    # By index: gathering and scattering through a boolean mask that flips at random is about
    # ten times slower (524,288 values, 18 % of them far: 3.4 vs 0.3 ms).
    far = np.flatnonzero(mapped == 1)
    if far.size:
        result.reshape(-1)[far] = _tail(x.reshape(-1)[far], _LARGE_POWERS)
    return result


def _erf32(x: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """``erf(x)`` for float32 ``x`` (at least 1-D), in float32."""
    result = _fraction32(x, *_ERF32)
    # Rounding can take the ratio a few units above 1 near ±4.
    return np.clip(result, np.float32(-1), np.float32(1), out=result)


def _fraction32(
    x: npt.NDArray[Any],
    bound: np.float32,
    numerator: npt.NDArray[np.float32],
    denominator: npt.NDArray[np.float32],
    scratch: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """``c · P(c²) / Q(c²)`` in float32, ``c`` the values of ``x`` clipped to ±``bound``;
    ``scratch``, an array of x's shape, is overwritten (a new one when None)."""
    # Past the bound the fraction is at its limit in float32; NaN stays NaN through the clip.
    clamped = np.clip(x, -bound, bound, out=scratch)
    squares = np.square(clamped)
    result: npt.NDArray[np.float32] = _horner(squares, numerator)
    result *= clamped
    result /= _horner(squares, denominator, out=clamped)
    return result


@shapechecked
def gelu_forward(
    inputs: Floating[ArrayND, "*shape"],
) -> tuple[Floating[ArrayND, "*shape"], Floating[ArrayND, "*shape"]]:
    """``x · Φ(x)`` elementwise, ``Φ(x) = (1 + erf(x / √2)) / 2``.

    In float64 written as PyTorch and the exported ONNX graph compute it, ``x · (1 + erf(x ·
    √½)) · ½``; in float32, ``Φ(x) − ½`` is the rational function of `erf` with its
    coefficients rescaled, two passes fewer. Returns the outputs and Φ(x), which the
    backward pass reuses.

    Shape:
        inputs: any shape → (outputs, cdf): the same shape each.
    """
    dtype = inputs.dtype
    # In place where it changes nothing of the rounding: each large temporary costs its page
    # faults or cache misses again.
    if dtype == np.float32:
        outputs: Floating[ArrayND, "*shape"] = np.empty_like(inputs)  # scratch until the end
        cdf: Floating[ArrayND, "*shape"] = _fraction32(inputs, *_CDF32, scratch=outputs)
        cdf += dtype.type(0.5)
        np.clip(cdf, dtype.type(0), dtype.type(1), out=cdf)
    else:
        outputs = inputs * dtype.type(_SQRT_HALF)
        cdf = erf(outputs).astype(dtype, copy=False)
        cdf += dtype.type(1)
        cdf *= dtype.type(0.5)
    return np.multiply(inputs, cdf, out=outputs), cdf


@shapechecked(anchors=("inputs", "cdf"))
def gelu_backward(
    dvalues: Floating[ArrayND, "*shape"],
    inputs: Floating[ArrayND, "*shape"],
    cdf: Floating[ArrayND, "*shape"],
) -> Floating[ArrayND, "*shape"]:
    """``dvalues · (Φ(x) + x · φ(x))``, with φ the standard normal density
    ``e^{−x²/2} / √(2π)``.

    Shape:
        dvalues, inputs, cdf: one shape → dinputs: the same shape.
    """
    dtype = np.result_type(dvalues, inputs, cdf)
    # One temporary, updated in place, in the order of dvalues · (cdf + x · density).
    dinputs: Floating[ArrayND, "*shape"] = np.square(inputs, dtype=dtype)
    dinputs *= dtype.type(-0.5)
    np.exp(dinputs, out=dinputs)
    dinputs *= dtype.type(_INV_SQRT_2PI)
    dinputs *= inputs
    dinputs += cdf
    dinputs *= dvalues
    return dinputs


class GELU(Layer):
    """The Gaussian error linear unit, ``x · Φ(x)`` (PyTorch's ``nn.GELU()``, exact, and
    ONNX's ``Gelu``), the activation of transformer feed-forward blocks.

    It computes in the dtype of its inputs and has no parameters, as the other activations.
    Exported to ONNX as ``Erf``, ``Mul`` and ``Add`` (``Gelu`` is an operator only from opset
    20); onnxruntime has no float64 ``Erf``, so a float64 model holding it exports to PyTorch
    only.

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    kernels_keyed = True

    def __repr__(self) -> str:
        return "GELU()"

    def forward(
        self, inputs: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """Apply ``x · Φ(x)`` to every value; cache ``inputs`` and ``Φ(inputs)``.

        Shape: inputs (batch, *features) → (batch, *features)
        """
        output, cdf = gelu_forward(inputs)
        self._cache(inputs=inputs, output=output, cdf=cdf)
        return output  # pyright: ignore[reportReturnType]

    def backward(
        self, dvalues: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """Multiply ``dvalues`` by the derivative at the last forward, ``Φ(x) + x · φ(x)``.

        Shape: dvalues (batch, *features) → (batch, *features)
        """
        dinputs = gelu_backward(dvalues, self.inputs, self.cdf)
        self._cache(dinputs=dinputs)
        return dinputs  # pyright: ignore[reportReturnType]

    def export_onnx(self, graph: Any, inputs: str) -> str:
        # x · (1 + Erf(x · √½)) · ½, in the order gelu_forward and PyTorch compute it.
        scaled = graph.add("Mul", [inputs, graph.constant("sqrt_half", np.array(_SQRT_HALF))])
        shifted = graph.add("Add", [graph.add("Erf", [scaled]), graph.constant("one", np.array(1))])
        cdf = graph.add("Mul", [shifted, graph.constant("half", np.array(0.5))])
        return str(graph.add("Mul", [inputs, cdf]))

    def export_torch(self, torch: Any) -> Any:
        return torch.nn.GELU()
