"""The pure kernels behind the layers, losses and optimizers: PyTorch's ``nn.functional`` role.

Each is a small function whose arrays are annotated with named dims and checked at every call;
the classes hold parameters, caches and state, and call these. Use them to write a training
step by hand, or inside your own layers.

Example::

    import shapenn.functional as F

    outputs = F.dense_forward(inputs, weights, biases)   # (batch, in) @ (in, out) + (1, out)
"""

from ._losses import (
    binary_crossentropy as binary_crossentropy,
)
from ._losses import (
    binary_crossentropy_backward as binary_crossentropy_backward,
)
from ._losses import (
    categorical_crossentropy_onehot as categorical_crossentropy_onehot,
)
from ._losses import (
    categorical_crossentropy_onehot_backward as categorical_crossentropy_onehot_backward,
)
from ._losses import (
    categorical_crossentropy_sparse as categorical_crossentropy_sparse,
)
from ._losses import (
    categorical_crossentropy_sparse_backward as categorical_crossentropy_sparse_backward,
)
from ._losses import mean_absolute_error as mean_absolute_error
from ._losses import mean_absolute_error_backward as mean_absolute_error_backward
from ._losses import mean_squared_error as mean_squared_error
from ._losses import mean_squared_error_backward as mean_squared_error_backward
from ._losses import softmax_crossentropy_backward as softmax_crossentropy_backward
from .layers._activations import identity_backward as identity_backward
from .layers._activations import identity_forward as identity_forward
from .layers._activations import relu_backward as relu_backward
from .layers._activations import relu_forward as relu_forward
from .layers._activations import sigmoid_backward as sigmoid_backward
from .layers._activations import sigmoid_forward as sigmoid_forward
from .layers._activations import softmax_backward as softmax_backward
from .layers._activations import softmax_forward as softmax_forward
from .layers._activations import tanh_backward as tanh_backward
from .layers._activations import tanh_forward as tanh_forward
from .layers._conv import conv2d_backward as conv2d_backward
from .layers._conv import conv2d_forward as conv2d_forward
from .layers._conv import conv2d_parameter_gradients as conv2d_parameter_gradients
from .layers._dense import dense_backward as dense_backward
from .layers._dense import dense_forward as dense_forward
from .layers._dense import dense_parameter_gradients as dense_parameter_gradients
from .layers._dropout import dropout_backward as dropout_backward
from .layers._dropout import dropout_forward as dropout_forward
from .layers._flatten import flatten_backward as flatten_backward
from .layers._flatten import flatten_forward as flatten_forward
from .layers._pooling import avg_pool2d_backward as avg_pool2d_backward
from .layers._pooling import avg_pool2d_forward as avg_pool2d_forward
from .layers._pooling import max_pool2d_backward as max_pool2d_backward
from .layers._pooling import max_pool2d_forward as max_pool2d_forward
from .layers._regularization import regularization_gradient as regularization_gradient
from .layers._regularization import regularization_penalty as regularization_penalty
from .optim import adagrad_update as adagrad_update
from .optim import adam_update as adam_update
from .optim import rmsprop_update as rmsprop_update
from .optim import sgd_update as sgd_update

__all__ = [
    "adagrad_update",
    "adam_update",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "binary_crossentropy",
    "binary_crossentropy_backward",
    "categorical_crossentropy_onehot",
    "categorical_crossentropy_onehot_backward",
    "categorical_crossentropy_sparse",
    "categorical_crossentropy_sparse_backward",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_parameter_gradients",
    "dense_backward",
    "dense_forward",
    "dense_parameter_gradients",
    "dropout_backward",
    "dropout_forward",
    "flatten_backward",
    "flatten_forward",
    "identity_backward",
    "identity_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "mean_absolute_error",
    "mean_absolute_error_backward",
    "mean_squared_error",
    "mean_squared_error_backward",
    "regularization_gradient",
    "regularization_penalty",
    "relu_backward",
    "relu_forward",
    "rmsprop_update",
    "sgd_update",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_crossentropy_backward",
    "softmax_forward",
    "tanh_backward",
    "tanh_forward",
]
