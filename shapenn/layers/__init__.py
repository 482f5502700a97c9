"""Layers: one file per kind, each a thin class around pure annotated kernels."""

from ._activations import Linear as Linear
from ._activations import ReLU as ReLU
from ._activations import Sigmoid as Sigmoid
from ._activations import Softmax as Softmax
from ._activations import Tanh as Tanh
from ._attention import MultiHeadAttention as MultiHeadAttention
from ._batch_norm import BatchNorm1D as BatchNorm1D
from ._batch_norm import BatchNorm2D as BatchNorm2D
from ._conv import Conv2D as Conv2D
from ._dense import Dense as Dense
from ._dropout import Dropout as Dropout
from ._embedding import Embedding as Embedding
from ._flatten import Flatten as Flatten
from ._gelu import GELU as GELU
from ._layer import BufferRef as BufferRef
from ._layer import Layer as Layer
from ._layer import Parameter as Parameter
from ._layer_norm import LayerNorm as LayerNorm
from ._pooling import AvgPool2D as AvgPool2D
from ._pooling import MaxPool2D as MaxPool2D
from ._positional import PositionalEmbedding as PositionalEmbedding
from ._recurrent import GRU as GRU
from ._recurrent import LSTM as LSTM
from ._transformer import TransformerBlock as TransformerBlock

__all__ = [
    "GELU",
    "GRU",
    "LSTM",
    "AvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "BufferRef",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Layer",
    "LayerNorm",
    "Linear",
    "MaxPool2D",
    "MultiHeadAttention",
    "Parameter",
    "PositionalEmbedding",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TransformerBlock",
]
