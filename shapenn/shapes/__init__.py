"""The shape vocabulary: array types with named dims, the checks that enforce them, ShapeError.

Everything shapenn knows about shapes comes from jaxtyping annotations read by one dim model
(``_dims``): the run-time checks, the words of an error, build-time inference and summaries.

Example::

    from jaxtyping import Float
    from shapenn.shapes import Array2D, shapechecked

    @shapechecked(anchors=("scale",))
    def scale_rows(inputs: Float[Array2D, "batch n"], scale: Float[Array2D, "1 n"]
                   ) -> Float[Array2D, "batch n"]:
        return inputs * scale

This package imports nothing else of shapenn.
"""

from ._check import CacheInfo as CacheInfo
from ._check import Dim as Dim
from ._check import cache_info as cache_info
from ._check import checks as checks
from ._check import checks_enabled as checks_enabled
from ._check import shapechecked as shapechecked
from ._errors import ArgumentError as ArgumentError
from ._errors import LabelError as LabelError
from ._errors import MissingDependencyError as MissingDependencyError
from ._errors import NotReadyError as NotReadyError
from ._errors import PathError as PathError
from ._errors import ShapeError as ShapeError
from ._errors import ShapennError as ShapennError
from ._vocabulary import Array1D as Array1D
from ._vocabulary import Array2D as Array2D
from ._vocabulary import Array3D as Array3D
from ._vocabulary import Array4D as Array4D
from ._vocabulary import ArrayND as ArrayND
from ._vocabulary import Biases as Biases
from ._vocabulary import Floating as Floating
from ._vocabulary import Inputs as Inputs
from ._vocabulary import OneHot as OneHot
from ._vocabulary import Outputs as Outputs
from ._vocabulary import SparseLabels as SparseLabels
from ._vocabulary import Weights as Weights

__all__ = [
    "ArgumentError",
    "Array1D",
    "Array2D",
    "Array3D",
    "Array4D",
    "ArrayND",
    "Biases",
    "CacheInfo",
    "Dim",
    "Floating",
    "Inputs",
    "LabelError",
    "MissingDependencyError",
    "NotReadyError",
    "OneHot",
    "Outputs",
    "PathError",
    "ShapeError",
    "ShapennError",
    "SparseLabels",
    "Weights",
    "cache_info",
    "checks",
    "checks_enabled",
    "shapechecked",
]
