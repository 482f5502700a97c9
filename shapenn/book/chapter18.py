"""Chapter 18 as the book prints it: ``from shapenn.book.chapter18 import *``.

Everything is ``shapenn.book``'s, except ``Model.train``, which is Chapter 18's: the whole
data set in one step per epoch, a line every ``print_every`` epochs, the validation data
evaluated once, after the last epoch (``shapenn.book.Model.train`` is the loop of Chapters
19–22: batches, four lines per epoch, validation after each). Dropout draws the book's
float64 mask, and the layers after it compute as the book's do (see
``shapenn.book._float64``), so the chapter prints the book's numbers.
"""

from typing import Any

from .. import book as _book
from .._args import positive
from ..model._data import as_batch
from ..shapes import ArgumentError

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


class Model(_book.Model):
    """The book's ``Model`` with Chapter 18's ``train``."""

    def train(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        print_every: int = 1,
        validation_data: tuple[Any, Any] | None = None,
    ) -> None:
        """Train on all of X each epoch, print every ``print_every``-th epoch's figures, and
        evaluate on ``validation_data`` once at the end, as Chapter 18's ``train``."""
        model = self._ready("train", optimizer=True)
        epochs = positive("Model.train", "epochs", epochs)
        print_every = positive("Model.train", "print_every", print_every)
        X, y = _book._arrays("Model.train", X, y)
        X, y = model._checked(X, y, "train")
        if validation_data is not None:  # refused now, not after the training
            if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
                raise ArgumentError("Model.train: validation_data must be a tuple (X_val, y_val)")
            X_val, y_val = _book._arrays("Model.train", *validation_data, names=("X_val", "y_val"))
            validation_data = model._checked(X_val, y_val, "train")
        X = as_batch(X, model.input_dtype)
        self.accuracy.init(y)
        for epoch in range(1, epochs + 1):
            output = self.forward(X, training=True)
            data_loss, regularization_loss = self.loss.calculate(
                output, y, include_regularization=True
            )
            loss = data_loss + regularization_loss
            predictions = self.output_layer_activation.predictions(output)
            accuracy = self.accuracy.calculate(predictions, y)
            self.backward(output, y)
            self.optimizer.pre_update_params()
            for layer in self.trainable_layers:
                self.optimizer.update_params(layer)
            self.optimizer.post_update_params()
            if not epoch % print_every:
                print(
                    f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: "
                    f"{data_loss:.3f}, reg_loss: {regularization_loss:.3f}), lr: "
                    f"{self.optimizer.current_learning_rate}"
                )
        if validation_data is not None:
            X_val, y_val = validation_data
            output = self.forward(as_batch(X_val, model.input_dtype), training=False)
            loss = self.loss.calculate(output, y_val)
            predictions = self.output_layer_activation.predictions(output)
            accuracy = self.accuracy.calculate(predictions, y_val)
            print(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
