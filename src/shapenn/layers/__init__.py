"""Layers: one file per kind, each a thin class around pure annotated kernels."""

from ._activations import Linear as Linear
from ._activations import ReLU as ReLU
from ._activations import Sigmoid as Sigmoid
from ._activations import Softmax as Softmax
from ._activations import Tanh as Tanh
from ._dense import Dense as Dense
from ._dropout import Dropout as Dropout
from ._layer import Layer as Layer
from ._layer import Parameter as Parameter

__all__ = ["Dense", "Dropout", "Layer", "Linear", "Parameter", "ReLU", "Sigmoid", "Softmax", "Tanh"]
