"""The flat buffer an optimizer steps: every parameter of one dtype in one array.

**One buffer.** The parameters an optimizer steps live in one flat array, and each layer's
parameter (``weights``, ``gamma``, …) is a view into it, bound once when the buffer is made;
gradients are gathered into one flat array, and the rule's state (Adam's moments, …) is flat
too. A step over a whole model is then a dozen ufunc calls, however many layers it has.

**A spare row.** Each step writes the next parameters and state into a second row; only when
every new parameter is finite are they kept — the parameters copied into the live row the
layers see (one ``memcpy``), the state by switching rows. A step that diverges therefore leaves
weights and state exactly as the last finite step left them.

**No subnormals.** The state of units that stop learning (a dead ReLU's moments) decays
geometrically into float32 subnormals, whose arithmetic is up to 100× slower. Every
``FLUSH_EVERY`` steps each decaying field is flushed: values that that many more steps of decay
would make subnormal are set to zero — 1e-35 for a 0.9 decay, 1.3e-38 for 0.999 — far below
anything that moves a weight.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..layers import Parameter

__all__ = ["FLUSH_EVERY", "FlatBuffer"]

FLUSH_EVERY = 64  # steps between flushes of near-zero state
_ALIGN = 64  # bytes: a cache line, and the widest SIMD load

Array = np.ndarray[Any, np.dtype[Any]]


def aligned(shape: tuple[int, ...], dtype: np.dtype[Any], *, zero: bool = False) -> Array:
    """An array whose rows start on a 64-byte boundary (every row's length is a multiple of
    64 bytes, so the first row's alignment is enough)."""
    count = int(np.prod(shape))
    raw = (np.zeros if zero else np.empty)(count * dtype.itemsize + _ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % _ALIGN
    array: Array = raw[start : start + count * dtype.itemsize].view(dtype)
    return array.reshape(shape)


class FlatBuffer:
    """The parameters one optimizer steps, of one dtype: their values (row 0 live, bound to
    the layers; row 1 the next step's), each state field double-buffered (row ``current``
    live), a flat gradient and scratch rows.

    Args:
        params: the parameters, as the walk over a model's state found them.
        fields: the names of the rule's state fields (``m``, ``v`` for Adam).
        dtype: their dtype.
    """

    def __init__(self, params: list[Parameter], fields: Sequence[str], dtype: np.dtype[Any]):
        self.params = params
        self.keys = [(p.layer, p.name) for p in params]
        self.shapes = [p.value.shape for p in params]
        # Each parameter starts on a 64-byte boundary, as a separately allocated array does:
        # BLAS and NumPy's reductions take other code paths (other rounding) on unaligned data.
        step = _ALIGN // dtype.itemsize
        self.offsets = [0]
        for shape in self.shapes:
            size = math.prod(shape)
            self.offsets.append(self.offsets[-1] + -(-size // step) * step)
        n = self.offsets[-1]
        self.values = aligned((2, n), dtype, zero=True)  # padding stays 0: it is summed
        self.state = {field: aligned((2, n), dtype, zero=True) for field in fields}
        self.grad = aligned((n,), dtype, zero=True)
        self.work = aligned((2, n), dtype)
        self.current = 0  # the live row of the state
        self.views = self._views(self.values[0])
        self.grad_views = self._views(self.grad)
        for parameter, view in zip(params, self.views, strict=True):
            view[...] = parameter.value
            parameter.assign(view)

    def _views(self, flat: Array) -> list[Array]:
        return [
            flat[start : start + math.prod(shape)].reshape(shape)
            for start, shape in zip(self.offsets, self.shapes, strict=False)
        ]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.values, self.grad, self.work, *self.state.values()))

    def intact(self) -> bool:
        """Whether every layer still holds this buffer's view (nobody replaced a weight)."""
        return all(p.value is view for p, view in zip(self.params, self.views, strict=True))

    def gather(self) -> None:
        """Copy the layers' gradients into the flat gradient."""
        for parameter, view in zip(self.params, self.grad_views, strict=True):
            np.copyto(view, parameter.grad)

    def finite_next(self, squared: Sequence[str]) -> str | None:
        """What of the next step is not finite: ``"weights"`` (any NaN or infinity, or a norm
        too large for the dtype: one dot product finds them), one of the ``squared`` state
        fields (Adam's ``"v"`` overflows when a gradient exceeds √(float32 max) ≈ 1.8e19,
        though the weights stay finite; the other fields cannot without the weights), or
        None. A state row whose squared norm alone overflows is looked at entry by entry:
        large state is no divergence, an infinite one is."""
        if not math.isfinite(float(np.dot(self.values[1], self.values[1]))):
            return "weights"
        spare = 1 - self.current
        for field in squared:
            row = self.state[field][spare]
            if not math.isfinite(float(np.dot(row, row))) and not np.isfinite(row).all():
                return field
        return None

    def keep_next(self) -> None:
        """Make the next parameters and state the live ones."""
        np.copyto(self.values[0], self.values[1])
        self.current = 1 - self.current

    def state_views(self, index: int) -> dict[str, Array]:
        """The live state of parameter ``index``, field by field, in its shape."""
        start, shape = self.offsets[index], self.shapes[index]
        return {
            field: flat[self.current, start : start + math.prod(shape)].reshape(shape)
            for field, flat in self.state.items()
        }

    def flush(self, iterations: int, decays: dict[str, float]) -> None:
        """Every FLUSH_EVERY steps (``iterations`` counts them), zero the live values of each
        decaying state field that would become subnormal within FLUSH_EVERY steps of decay by
        its factor (see the module)."""
        if iterations % FLUSH_EVERY != FLUSH_EVERY - 1:
            return
        tiny = float(np.finfo(self.values.dtype).tiny)
        for field, decay in decays.items():
            if 0 < decay < 1:
                flat = self.state[field][self.current]
                np.copyto(flat, 0, where=np.abs(flat) < tiny / decay**FLUSH_EVERY)
