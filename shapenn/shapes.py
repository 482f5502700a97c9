"""The public shape vocabulary, for writing your own shape-checked layers and kernels.

Example::

    from jaxtyping import Float
    from shapenn.shapes import Array2D, shapechecked

    @shapechecked(anchors=("scale",))
    def scale_rows(inputs: Float[Array2D, "batch n"], scale: Float[Array2D, "1 n"]
                   ) -> Float[Array2D, "batch n"]:
        return inputs * scale
"""

from ._shapes import Array1D as Array1D
from ._shapes import Array2D as Array2D
from ._shapes import Biases as Biases
from ._shapes import Inputs as Inputs
from ._shapes import OneHot as OneHot
from ._shapes import Outputs as Outputs
from ._shapes import SparseLabels as SparseLabels
from ._shapes import Weights as Weights
from ._shapes import checks as checks
from ._shapes import checks_enabled as checks_enabled
from ._shapes import located as located
from ._shapes import shapechecked as shapechecked

__all__ = [
    "Array1D",
    "Array2D",
    "Biases",
    "Inputs",
    "OneHot",
    "Outputs",
    "SparseLabels",
    "Weights",
    "checks",
    "checks_enabled",
    "located",
    "shapechecked",
]
