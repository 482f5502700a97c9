"""shapenn: neural networks from scratch in NumPy, with shapes in the types.

Every array that crosses a function boundary is annotated with named dims and checked at run
time by jaxtyping + beartype; a mistake raises `ShapeError` with what was expected, what was
got and how to fix it.
"""

from . import callbacks as callbacks
from . import datasets as datasets
from . import shapes as shapes
from ._generate import generate as generate
from ._io import ModelFileError as ModelFileError
from ._io import load as load
from ._io import save as save
from ._losses import BinaryCrossentropy as BinaryCrossentropy
from ._losses import CategoricalCrossentropy as CategoricalCrossentropy
from ._losses import Loss as Loss
from ._losses import MeanAbsoluteError as MeanAbsoluteError
from ._losses import MeanSquaredError as MeanSquaredError
from ._losses import SoftmaxCategoricalCrossentropy as SoftmaxCategoricalCrossentropy
from ._metrics import F1 as F1
from ._metrics import Accuracy as Accuracy
from ._metrics import BinaryAccuracy as BinaryAccuracy
from ._metrics import CategoricalAccuracy as CategoricalAccuracy
from ._metrics import ConfusionMatrix as ConfusionMatrix
from ._metrics import Precision as Precision
from ._metrics import Recall as Recall
from ._metrics import RegressionAccuracy as RegressionAccuracy
from ._metrics import TopKAccuracy as TopKAccuracy
from .layers import GELU as GELU
from .layers import GRU as GRU
from .layers import LSTM as LSTM
from .layers import AvgPool2D as AvgPool2D
from .layers import BatchNorm1D as BatchNorm1D
from .layers import BatchNorm2D as BatchNorm2D
from .layers import Conv2D as Conv2D
from .layers import Dense as Dense
from .layers import Dropout as Dropout
from .layers import Embedding as Embedding
from .layers import Flatten as Flatten
from .layers import Layer as Layer
from .layers import LayerNorm as LayerNorm
from .layers import Linear as Linear
from .layers import MaxPool2D as MaxPool2D
from .layers import MultiHeadAttention as MultiHeadAttention
from .layers import Parameter as Parameter
from .layers import PositionalEmbedding as PositionalEmbedding
from .layers import ReLU as ReLU
from .layers import Sigmoid as Sigmoid
from .layers import Softmax as Softmax
from .layers import Tanh as Tanh
from .layers import TransformerBlock as TransformerBlock
from .model import History as History
from .model import Model as Model
from .optim import SGD as SGD
from .optim import Adagrad as Adagrad
from .optim import Adam as Adam
from .optim import DivergenceError as DivergenceError
from .optim import Optimizer as Optimizer
from .optim import RMSprop as RMSprop
from .shapes import ArgumentError as ArgumentError
from .shapes import Dim as Dim
from .shapes import LabelError as LabelError
from .shapes import MissingDependencyError as MissingDependencyError
from .shapes import NotReadyError as NotReadyError
from .shapes import PathError as PathError
from .shapes import ShapeError as ShapeError
from .shapes import ShapennError as ShapennError
from .shapes import checks as checks
from .shapes import checks_enabled as checks_enabled
from .shapes import shapechecked as shapechecked
from .testing._gradcheck import GradcheckError as GradcheckError
from .testing._gradcheck import GradcheckResult as GradcheckResult
from .testing._gradcheck import gradcheck as gradcheck

__version__ = "0.1.0"

__all__ = [
    "F1",
    "GELU",
    "GRU",
    "LSTM",
    "SGD",
    "Accuracy",
    "Adagrad",
    "Adam",
    "ArgumentError",
    "AvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "ConfusionMatrix",
    "Conv2D",
    "Dense",
    "Dim",
    "DivergenceError",
    "Dropout",
    "Embedding",
    "Flatten",
    "GradcheckError",
    "GradcheckResult",
    "History",
    "LabelError",
    "Layer",
    "LayerNorm",
    "Linear",
    "Loss",
    "MaxPool2D",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "MissingDependencyError",
    "Model",
    "ModelFileError",
    "MultiHeadAttention",
    "NotReadyError",
    "Optimizer",
    "Parameter",
    "PathError",
    "PositionalEmbedding",
    "Precision",
    "RMSprop",
    "ReLU",
    "Recall",
    "RegressionAccuracy",
    "ShapeError",
    "ShapennError",
    "Sigmoid",
    "Softmax",
    "SoftmaxCategoricalCrossentropy",
    "Tanh",
    "TopKAccuracy",
    "TransformerBlock",
    "callbacks",
    "checks",
    "checks_enabled",
    "datasets",
    "generate",
    "gradcheck",
    "load",
    "save",
    "shapechecked",
    "shapes",
]
