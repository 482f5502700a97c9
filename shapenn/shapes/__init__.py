"""The shape engine: array types with named dims, the checks that enforce them, ShapeError.

Everything shapenn knows about shapes comes from jaxtyping annotations read by one dim model:
the run-time checks, the words of an error, build-time inference, summaries and export.

Example::

    from jaxtyping import Float
    from shapenn.shapes import Array2D, shapechecked

    @shapechecked(anchors=("scale",))
    def scale_rows(inputs: Float[Array2D, "batch n"], scale: Float[Array2D, "1 n"]
                   ) -> Float[Array2D, "batch n"]:
        return inputs * scale

Besides the vocabulary, ``__all__`` holds the engine itself — a class's `Signature`, the dim model
(`ArraySpec`, `bind`, …), inference and explanation — which the rest of shapenn (layers,
models, saving, export) reads, and which extensions may read too. This package imports nothing
else of shapenn.
"""

from ._check import Buffer as Buffer
from ._check import Cache as Cache
from ._check import CacheInfo as CacheInfo
from ._check import Chain as Chain
from ._check import Declared as Declared
from ._check import Dim as Dim
from ._check import Signature as Signature
from ._check import cache_info as cache_info
from ._check import check_methods as check_methods
from ._check import checks as checks
from ._check import checks_enabled as checks_enabled
from ._check import shapechecked as shapechecked
from ._check import signature as signature
from ._dims import UNKNOWN as UNKNOWN
from ._dims import Anonymous as Anonymous
from ._dims import ArraySpec as ArraySpec
from ._dims import Bindings as Bindings
from ._dims import Bound as Bound
from ._dims import Expr as Expr
from ._dims import Fixed as Fixed
from ._dims import Named as Named
from ._dims import Size as Size
from ._dims import Variadic as Variadic
from ._dims import bind as bind
from ._dims import evaluate as evaluate
from ._dims import format_shape as format_shape
from ._dims import is_known as is_known
from ._dims import render_spec as render_spec
from ._dims import spec_of as spec_of
from ._dims import specs_of as specs_of
from ._errors import ArgumentError as ArgumentError
from ._errors import LabelError as LabelError
from ._errors import MissingDependencyError as MissingDependencyError
from ._errors import NotReadyError as NotReadyError
from ._errors import PathError as PathError
from ._errors import ShapeError as ShapeError
from ._errors import ShapennError as ShapennError
from ._errors import public as public
from ._explain import argument_error as argument_error
from ._explain import describe as describe
from ._explain import shape_error as shape_error
from ._infer import Inferred as Inferred
from ._infer import infer_output as infer_output
from ._infer import input_spec as input_spec
from ._infer import output_dim as output_dim
from ._vocabulary import Array1D as Array1D
from ._vocabulary import Array2D as Array2D
from ._vocabulary import Array3D as Array3D
from ._vocabulary import Array4D as Array4D
from ._vocabulary import Array5D as Array5D
from ._vocabulary import ArrayND as ArrayND
from ._vocabulary import Batched as Batched
from ._vocabulary import Biases as Biases
from ._vocabulary import Floating as Floating
from ._vocabulary import Inputs as Inputs
from ._vocabulary import OneHot as OneHot
from ._vocabulary import Outputs as Outputs
from ._vocabulary import SparseLabels as SparseLabels
from ._vocabulary import Weights as Weights

__all__ = [
    "UNKNOWN",
    "Anonymous",
    "ArgumentError",
    "Array1D",
    "Array2D",
    "Array3D",
    "Array4D",
    "Array5D",
    "ArrayND",
    "ArraySpec",
    "Batched",
    "Biases",
    "Bindings",
    "Bound",
    "Buffer",
    "Cache",
    "CacheInfo",
    "Chain",
    "Declared",
    "Dim",
    "Expr",
    "Fixed",
    "Floating",
    "Inferred",
    "Inputs",
    "LabelError",
    "MissingDependencyError",
    "Named",
    "NotReadyError",
    "OneHot",
    "Outputs",
    "PathError",
    "ShapeError",
    "ShapennError",
    "Signature",
    "Size",
    "SparseLabels",
    "Variadic",
    "Weights",
    "argument_error",
    "bind",
    "cache_info",
    "check_methods",
    "checks",
    "checks_enabled",
    "describe",
    "evaluate",
    "format_shape",
    "infer_output",
    "input_spec",
    "is_known",
    "output_dim",
    "public",
    "render_spec",
    "shape_error",
    "shapechecked",
    "signature",
    "spec_of",
    "specs_of",
]
