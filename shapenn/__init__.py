"""shapenn: neural networks from scratch in NumPy, with shapes in the types.

Every array that crosses a function boundary is annotated with named dims and checked at run
time by jaxtyping + beartype; a mistake raises `ShapeError` with what was expected, what was
got and how to fix it.
"""

from ._activations import Linear as Linear
from ._activations import ReLU as ReLU
from ._activations import Sigmoid as Sigmoid
from ._activations import Softmax as Softmax
from ._activations import Tanh as Tanh
from ._dense import Dense as Dense
from ._errors import LabelError as LabelError
from ._errors import ShapeError as ShapeError
from ._layer import Layer as Layer
from ._losses import BinaryCrossentropy as BinaryCrossentropy
from ._losses import CategoricalCrossentropy as CategoricalCrossentropy
from ._losses import Loss as Loss
from ._losses import MeanAbsoluteError as MeanAbsoluteError
from ._losses import MeanSquaredError as MeanSquaredError
from ._losses import SoftmaxCategoricalCrossentropy as SoftmaxCategoricalCrossentropy
from ._shapes import checks as checks
from ._shapes import checks_enabled as checks_enabled
from ._shapes import shapechecked as shapechecked

__version__ = "0.1.0"

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Dense",
    "LabelError",
    "Layer",
    "Linear",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "ReLU",
    "ShapeError",
    "Sigmoid",
    "Softmax",
    "SoftmaxCategoricalCrossentropy",
    "Tanh",
    "checks",
    "checks_enabled",
    "shapechecked",
]
