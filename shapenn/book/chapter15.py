"""Chapter 15 as the book prints it: ``from shapenn.book.chapter15 import *``.

Everything is ``shapenn.book``'s, except that ``Layer_Dropout`` draws the book's float64 mask
and the layers around it compute as the book's do (see ``shapenn.book._float64``), so the
chapter prints the book's numbers. (``shapenn.book``'s own dropout keeps the mask in its
input's dtype: the printed figures then differ from the book's in the last digits.)
"""

# The chapter's names are the book module's, but for those below.
from . import Accuracy_Categorical as Accuracy_Categorical
from . import Accuracy_Regression as Accuracy_Regression
from . import Activation_Sigmoid as Activation_Sigmoid
from . import Activation_Softmax as Activation_Softmax
from . import (
    Activation_Softmax_Loss_CategoricalCrossentropy as Activation_Softmax_Loss_CategoricalCrossentropy,  # noqa: E501
)
from . import Layer_Input as Layer_Input
from . import Loss_BinaryCrossentropy as Loss_BinaryCrossentropy
from . import Loss_CategoricalCrossentropy as Loss_CategoricalCrossentropy
from . import Loss_MeanAbsoluteError as Loss_MeanAbsoluteError
from . import Model as Model
from . import Optimizer_Adagrad as Optimizer_Adagrad
from . import Optimizer_RMSprop as Optimizer_RMSprop
from . import Optimizer_SGD as Optimizer_SGD
from . import __all__ as __all__
from ._float64 import Activation_Linear as Activation_Linear
from ._float64 import Activation_ReLU as Activation_ReLU
from ._float64 import Layer_Dense as Layer_Dense
from ._float64 import Layer_Dropout as Layer_Dropout
from ._float64 import Loss_MeanSquaredError as Loss_MeanSquaredError
from ._float64 import Optimizer_Adam as Optimizer_Adam
