"""Long, thin matrix products — a convolution's im2col products — in blocks where the BLAS
computes small products faster than large ones.

OpenBLAS on cores with AVX-512 (its SkylakeX, Cooperlake and SapphireRapids kernels) runs a
product of at most 100³ multiply-adds through small-matrix kernels that read the operands where
they are, where its general path first copies them into packed panels. A LeNet's first
convolution multiplies (6, 25) by (25, 36,864): as one float32 product on that path, 400–500 µs
on one thread; as six blocks of columns each under the limit, 175–210 µs. Its weight gradient, a
sum over the 36,864 columns, 385–465 µs against 160–185 µs in blocks. With OpenBLAS's AVX2
(Haswell) kernels the same products are as fast or faster in one piece, and other BLAS
libraries have no such limit, so blocks are used only where OpenBLAS reports one of those
kernels, and only in float32: in float64 the forward products ran slower in blocks (two
threads: 313 → 414 µs for the first convolution's).
"""

from functools import cache
from typing import Any

import numpy as np

from .._threads import blas_libraries

__all__ = ["SMALL", "product", "product_t"]

#: The most multiply-adds OpenBLAS gives its small-matrix kernels (100³).
SMALL = 1_000_000

#: OpenBLAS's names for the cores whose kernels include the small-matrix ones.
_SMALL_KERNEL_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})

#: Columns per block at least: below this the Python of a call costs more than it saves.
_LEAST = 256

#: The most multiply-adds per column of a sum over columns worth blocks: the first LeNet
#: convolution's weight gradient (150 a column) runs 2.5x faster in blocks, the second's (2,400)
#: 10-20 % slower.
_THIN = 1024


@cache
def blocked() -> bool:
    """Whether NumPy's BLAS is an OpenBLAS running small-matrix kernels (decided once)."""
    return any(
        library.internal_api == "openblas"
        and getattr(library, "architecture", None) in _SMALL_KERNEL_CORES
        for library in blas_libraries()
    )


def _width(rows: int, inner: int, dtypes: tuple[Any, Any]) -> int | None:
    """Columns per block for float32 products of ``rows × inner`` multiply-adds per column: as
    many as fit under SMALL, a multiple of 64 (aligned blocks); None for one product — where
    the BLAS has no small-matrix kernels, for other dtypes, and where fewer than _LEAST columns
    would fit in a block."""
    columns = SMALL // max(1, rows * inner) // 64 * 64
    if columns < _LEAST or not all(dtype == np.float32 for dtype in dtypes) or not blocked():
        return None
    return columns


def product(a: Any, b: Any) -> Any:
    """``a @ b`` for a 2-D ``a`` and a 2-D ``b`` with many columns, in blocks of columns where
    that is faster."""
    rows, inner = a.shape
    columns = b.shape[1]
    width = _width(rows, inner, (a.dtype, b.dtype))
    if width is None or columns <= width:
        return a @ b
    out = np.empty((rows, columns), np.result_type(a, b))
    for start in range(0, columns, width):
        np.matmul(a, b[:, start : start + width], out=out[:, start : start + width])
    return out


def product_t(a: Any, b: Any) -> Any:
    """``a @ b.T`` for 2-D ``a`` and ``b`` sharing a long second axis: the sum of the products
    of blocks of it where that is faster, and each column little work (at most _THIN
    multiply-adds)."""
    rows, length = a.shape
    width = _width(rows, b.shape[0], (a.dtype, b.dtype))
    if width is None or length <= width or rows * b.shape[0] > _THIN:
        return a @ b.T
    out = a[:, :width] @ b[:, :width].T
    for start in range(width, length, width):
        out += a[:, start : start + width] @ b[:, start : start + width].T
    return out
