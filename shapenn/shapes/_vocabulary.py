"""Array types to annotate with, and the named-dim aliases shapenn's own layers use.

``Float[Array2D, "batch in"]`` is a 2-D floating-point array whose axes are named ``batch`` and
``in``. At run time jaxtyping checks the dims; statically, ``Float[X, ...]`` is ``X`` to mypy and
pyright, so these aliases carry the *rank* to static checkers through NumPy's shape-typed
``ndarray[tuple[int, int], ...]``: passing a 1-D array where a batch is declared is a type error
before the code runs.
"""

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

import numpy as np
from jaxtyping import AbstractDtype, Integer, Real

__all__ = [
    "Array1D",
    "Array2D",
    "Array3D",
    "Array4D",
    "Array5D",
    "ArrayND",
    "Batched",
    "Biases",
    "Floating",
    "Inputs",
    "OneHot",
    "Outputs",
    "SparseLabels",
    "Weights",
]

if TYPE_CHECKING:
    # To type checkers, as for jaxtyping's own dtypes, ``Floating[X, "..."]`` is ``X``.
    from typing import Annotated as Floating
else:

    class Floating(AbstractDtype):
        """float32 or float64: the dtypes shapenn computes in (float16 lacks the range for
        gradients, and NumPy's random generator cannot draw it)."""

        dtypes: ClassVar[list[str]] = ["float32", "float64"]


if TYPE_CHECKING:
    Array1D: TypeAlias = np.ndarray[tuple[int], np.dtype[Any]]
    Array2D: TypeAlias = np.ndarray[tuple[int, int], np.dtype[Any]]
    Array3D: TypeAlias = np.ndarray[tuple[int, int, int], np.dtype[Any]]
    Array4D: TypeAlias = np.ndarray[tuple[int, int, int, int], np.dtype[Any]]
    Array5D: TypeAlias = np.ndarray[tuple[int, int, int, int, int], np.dtype[Any]]
    ArrayND: TypeAlias = np.ndarray[Any, np.dtype[Any]]
    #: A batch of any rank from 2 to 5, the same on the way out as on the way in:
    #: ``Floating[Batched, "batch *positions in"] -> Floating[Batched, "batch *positions out"]``
    #: tells a type checker that a (batch, seq, features) array gives a 3-D one back, and
    #: that a 1-D array is not a batch. (mypy checks a function of it once per rank; pyright
    #: once for all, so NumPy's results in such a function may need a pyright-only ignore.)
    Batched = TypeVar("Batched", Array2D, Array3D, Array4D, Array5D)
else:
    # At run time jaxtyping needs the bare class; the rank is in the dim string.
    Array1D = Array2D = Array3D = Array4D = Array5D = ArrayND = Batched = np.ndarray

Inputs: TypeAlias = Floating[Array2D, "batch in"]
Outputs: TypeAlias = Floating[Array2D, "batch out"]
Weights: TypeAlias = Floating[Array2D, "in out"]
Biases: TypeAlias = Floating[Array2D, "1 out"]
SparseLabels: TypeAlias = Integer[Array1D, " batch"]
OneHot: TypeAlias = Real[Array2D, "batch classes"]
