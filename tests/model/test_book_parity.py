"""Training parity with the book: shapenn against a plain re-derivation of its formulas.

The reference below is written for these tests from the update rules of "Neural Networks from
Scratch" (Kinsley & Kukieła), not copied from shapenn: plain float32 NumPy, one small class per
concept, the book's names. From identical initial weights and data, both train a 2-64-3 network
(ReLU, Softmax, categorical cross-entropy) on the spiral data, and each epoch's data loss and
regularization loss must agree to 1e-5 relative, the final weights to 1e-4.

The reference follows the book's expressions literally, ``(1 - rho) * dW**2`` included, and
shapenn groups the product the same way: ``((1 - ρ) · g) · g`` would differ by about one ulp
in float32, and training on the spiral amplifies a one-ulp difference to percents of the loss
within 150 epochs (measured before shapenn changed its grouping: 1.7e-2 relative for Adam,
1.1e-1 for Adam + L2). The reference keeps the other grouping as an option, and the float64
test runs both.
"""

from typing import Any

import numpy as np
import pytest

import shapenn as sn
from shapenn.datasets import spiral

F32 = np.float32
EPOCHS = 150
L2 = 5e-4
LOSS_RTOL = 1e-5
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-6

Array = np.ndarray[Any, np.dtype[Any]]


def scaled_square(coefficient: float, grad: Array, *, literal: bool) -> Array:
    """``coefficient · grad²``: the book's ``coefficient * grad**2`` if ``literal``, else
    ``coefficient * grad * grad`` (shapenn's grouping; see the module docstring)."""
    if literal:
        return coefficient * grad**2
    return coefficient * grad * grad


#: Largest relative error of the per-epoch loss seen by each test, printed at the end.
MAX_RELATIVE_ERRORS: dict[str, float] = {}


# --- the reference: the book's network, loss and optimizers ------------------------------------


class RefDense:
    """``output = inputs @ weights + biases`` with the book's L1/L2 penalties."""

    # Optimizer state, created by the optimizer at its first update of the layer (the book's).
    weight_momentums: Array
    bias_momentums: Array
    weight_cache: Array
    bias_cache: Array

    def __init__(self, weights: Array, biases: Array, l1: float = 0.0, l2: float = 0.0) -> None:
        self.weights, self.biases = weights.copy(), biases.copy()
        self.weight_regularizer_l1 = self.bias_regularizer_l1 = l1
        self.weight_regularizer_l2 = self.bias_regularizer_l2 = l2

    def forward(self, inputs: Array) -> None:
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues: Array) -> None:
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l1 > 0:
            self.dweights += self.weight_regularizer_l1 * np.sign(self.weights)
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            self.dbiases += self.bias_regularizer_l1 * np.sign(self.biases)
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)

    def regularization_loss(self) -> float:
        loss = 0.0
        if self.weight_regularizer_l1 > 0:
            loss += self.weight_regularizer_l1 * float(np.sum(np.abs(self.weights)))
        if self.weight_regularizer_l2 > 0:
            loss += self.weight_regularizer_l2 * float(np.sum(self.weights * self.weights))
        if self.bias_regularizer_l1 > 0:
            loss += self.bias_regularizer_l1 * float(np.sum(np.abs(self.biases)))
        if self.bias_regularizer_l2 > 0:
            loss += self.bias_regularizer_l2 * float(np.sum(self.biases * self.biases))
        return loss


class RefReLU:
    def forward(self, inputs: Array) -> None:
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues: Array) -> None:
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class RefSoftmaxCrossentropy:
    """Softmax, sparse categorical cross-entropy, and their fused gradient ``(p - 1_y) / n``."""

    def forward(self, inputs: Array, y_true: Array) -> float:
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        correct_confidences = clipped[range(len(y_true)), y_true]
        sample_losses = -np.log(correct_confidences)
        return float(np.mean(sample_losses))

    def backward(self, dvalues: Array, y_true: Array) -> None:
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class RefOptimizer:
    """The book's decay, ``lr · (1 / (1 + decay · iterations))`` before each step; state per
    layer."""

    def __init__(self, learning_rate: float, decay: float) -> None:
        self.learning_rate = self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.literal_squares = True  # see scaled_square

    def pre_update_params(self) -> None:
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def post_update_params(self) -> None:
        self.iterations += 1

    def update_params(self, layer: RefDense) -> None:
        raise NotImplementedError


class RefSGD(RefOptimizer):
    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, momentum: float = 0.0):
        super().__init__(learning_rate, decay)
        self.momentum = momentum

    def update_params(self, layer: RefDense) -> None:
        lr = self.current_learning_rate
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = self.momentum * layer.weight_momentums - lr * layer.dweights
            layer.weight_momentums = weight_updates
            bias_updates = self.momentum * layer.bias_momentums - lr * layer.dbiases
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -lr * layer.dweights
            bias_updates = -lr * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates


class RefAdagrad(RefOptimizer):
    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon

    def update_params(self, layer: RefDense) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache += layer.dweights**2
        layer.bias_cache += layer.dbiases**2
        lr, eps = self.current_learning_rate, self.epsilon
        layer.weights += -lr * layer.dweights / (np.sqrt(layer.weight_cache) + eps)
        layer.biases += -lr * layer.dbiases / (np.sqrt(layer.bias_cache) + eps)


class RefRMSprop(RefOptimizer):
    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon, self.rho = epsilon, rho

    def update_params(self, layer: RefDense) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        rho = self.rho
        literal = self.literal_squares
        layer.weight_cache = rho * layer.weight_cache + scaled_square(
            1 - rho, layer.dweights, literal=literal
        )
        layer.bias_cache = rho * layer.bias_cache + scaled_square(
            1 - rho, layer.dbiases, literal=literal
        )
        lr, eps = self.current_learning_rate, self.epsilon
        layer.weights += -lr * layer.dweights / (np.sqrt(layer.weight_cache) + eps)
        layer.biases += -lr * layer.dbiases / (np.sqrt(layer.bias_cache) + eps)


class RefAdam(RefOptimizer):
    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon, self.beta_1, self.beta_2 = epsilon, beta_1, beta_2

    def update_params(self, layer: RefDense) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        b1, b2, t = self.beta_1, self.beta_2, self.iterations + 1
        layer.weight_momentums = b1 * layer.weight_momentums + (1 - b1) * layer.dweights
        layer.bias_momentums = b1 * layer.bias_momentums + (1 - b1) * layer.dbiases
        weight_momentums_corrected = layer.weight_momentums / (1 - b1**t)
        bias_momentums_corrected = layer.bias_momentums / (1 - b1**t)
        literal = self.literal_squares
        layer.weight_cache = b2 * layer.weight_cache + scaled_square(
            1 - b2, layer.dweights, literal=literal
        )
        layer.bias_cache = b2 * layer.bias_cache + scaled_square(
            1 - b2, layer.dbiases, literal=literal
        )
        weight_cache_corrected = layer.weight_cache / (1 - b2**t)
        bias_cache_corrected = layer.bias_cache / (1 - b2**t)
        lr, eps = self.current_learning_rate, self.epsilon
        layer.weights += -lr * weight_momentums_corrected / (np.sqrt(weight_cache_corrected) + eps)
        layer.biases += -lr * bias_momentums_corrected / (np.sqrt(bias_cache_corrected) + eps)


class RefNetwork:
    """Dense → ReLU → Dense → Softmax + cross-entropy, trained the book's way."""

    def __init__(self, dense1: RefDense, dense2: RefDense, optimizer: RefOptimizer) -> None:
        self.dense1, self.activation1, self.dense2 = dense1, RefReLU(), dense2
        self.loss_activation = RefSoftmaxCrossentropy()
        self.optimizer = optimizer

    def train_step(self, X: Array, y: Array) -> tuple[float, float, float]:
        """One forward/backward/update on (X, y): (data loss, regularization loss, accuracy),
        all measured on the forward pass before the update."""
        self.dense1.forward(X)
        self.activation1.forward(self.dense1.output)
        self.dense2.forward(self.activation1.output)
        data_loss = self.loss_activation.forward(self.dense2.output, y)
        regularization_loss = self.dense1.regularization_loss() + self.dense2.regularization_loss()
        predictions = np.argmax(self.loss_activation.output, axis=1)
        accuracy = float(np.mean(predictions == y))

        self.loss_activation.backward(self.loss_activation.output, y)
        self.dense2.backward(self.loss_activation.dinputs)
        self.activation1.backward(self.dense2.dinputs)
        self.dense1.backward(self.activation1.dinputs)

        self.optimizer.pre_update_params()
        self.optimizer.update_params(self.dense1)
        self.optimizer.update_params(self.dense2)
        self.optimizer.post_update_params()
        return data_loss, regularization_loss, accuracy

    def fit(
        self, X: Array, y: Array, epochs: int, batch_size: int | None = None
    ) -> dict[str, list[float]]:
        """Per-epoch figures; with mini-batches, consecutive slices and sample-weighted means."""
        n = len(X)
        size = n if batch_size is None else batch_size
        history: dict[str, list[float]] = {"data_loss": [], "regularization_loss": []}
        history["accuracy"] = []
        for _ in range(epochs):
            totals = np.zeros(3)
            for start in range(0, n, size):
                batch_X, batch_y = X[start : start + size], y[start : start + size]
                totals += np.array(self.train_step(batch_X, batch_y)) * len(batch_X)
            for key, total in zip(history, totals, strict=True):
                history[key].append(float(total / n))
        return history


# --- the comparison -----------------------------------------------------------------------------


CONFIGS: dict[str, tuple[Any, Any]] = {
    "sgd-decay-momentum": (
        lambda: sn.SGD(learning_rate=1.0, decay=1e-3, momentum=0.9),
        lambda: RefSGD(learning_rate=1.0, decay=1e-3, momentum=0.9),
    ),
    "sgd-plain": (lambda: sn.SGD(1.0), lambda: RefSGD(1.0)),
    "adagrad": (
        lambda: sn.Adagrad(learning_rate=1.0, decay=1e-4),
        lambda: RefAdagrad(learning_rate=1.0, decay=1e-4),
    ),
    "rmsprop": (
        lambda: sn.RMSprop(learning_rate=0.02, decay=1e-5, rho=0.999),
        lambda: RefRMSprop(learning_rate=0.02, decay=1e-5, rho=0.999),
    ),
    "adam": (
        lambda: sn.Adam(learning_rate=0.05, decay=5e-7),
        lambda: RefAdam(learning_rate=0.05, decay=5e-7),
    ),
}


@pytest.fixture(scope="module")
def data() -> tuple[Array, Array]:
    X, y = spiral(samples=100, classes=3, seed=0)
    assert X.dtype == F32 and X.shape == (300, 2) and y.dtype == np.int64
    return X, y


def _models(
    config: str, l2: float, *, dtype: type = F32, literal_squares: bool = True
) -> tuple[sn.Model, RefNetwork]:
    """A shapenn model and a reference network with the same initial weights and optimizer."""
    make_optimizer, make_reference = CONFIGS[config]
    dense1 = sn.Dense(2, 64, seed=0, dtype=dtype, weight_regularizer_l2=l2, bias_regularizer_l2=l2)
    dense2 = sn.Dense(64, 3, seed=1, dtype=dtype)
    model = sn.Model(
        [dense1, sn.ReLU(), dense2, sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=make_optimizer(),
        metric=sn.CategoricalAccuracy(),
    )
    # RefDense copies the arrays: shapenn updates its own in place during fit.
    reference = RefNetwork(
        RefDense(dense1.weights, dense1.biases, l2=l2),
        RefDense(dense2.weights, dense2.biases),
        make_reference(),
    )
    reference.optimizer.literal_squares = literal_squares
    return model, reference


def _relative_error(actual: list[float], expected: list[float]) -> float:
    a, e = np.asarray(actual), np.asarray(expected)
    nonzero = e != 0
    if not nonzero.any():
        return float(np.abs(a).max())
    return float(np.max(np.abs(a[nonzero] - e[nonzero]) / np.abs(e[nonzero])))


def _compare(
    name: str, model: sn.Model, history: sn.History, reference: RefNetwork, ref: dict[str, Any]
) -> None:
    errors = {
        key: _relative_error(getattr(history, key), ref[key])
        for key in ("data_loss", "regularization_loss")
    }
    MAX_RELATIVE_ERRORS[name] = max(errors.values())
    print(f"{name}: max relative error {errors}")

    np.testing.assert_allclose(history.data_loss, ref["data_loss"], rtol=LOSS_RTOL, atol=0)
    np.testing.assert_allclose(
        history.regularization_loss, ref["regularization_loss"], rtol=LOSS_RTOL, atol=0
    )
    total = np.add(ref["data_loss"], ref["regularization_loss"])
    np.testing.assert_allclose(history.loss, total, rtol=LOSS_RTOL, atol=0)
    # Accuracy is a count of argmaxes: equal unless a near-tie flipped, one sample at most.
    np.testing.assert_allclose(history.accuracy, ref["accuracy"], rtol=0, atol=1.5 / 300)

    dense1, dense2 = model.layers[0], model.layers[2]
    assert isinstance(dense1, sn.Dense) and isinstance(dense2, sn.Dense)
    for ours, theirs in ((dense1, reference.dense1), (dense2, reference.dense2)):
        for param in ("weights", "biases"):
            np.testing.assert_allclose(
                getattr(ours, param),
                getattr(theirs, param),
                rtol=WEIGHT_RTOL,
                atol=WEIGHT_ATOL,
                err_msg=f"{name}: final {param} of {ours!r}",
            )
            assert getattr(ours, param).dtype == getattr(theirs, param).dtype
    optimizer = model.optimizer
    assert optimizer is not None
    assert optimizer.iterations == reference.optimizer.iterations
    assert optimizer.current_learning_rate == pytest.approx(
        reference.optimizer.current_learning_rate, rel=1e-12
    )


@pytest.mark.parametrize("l2", [0.0, L2], ids=["no-l2", "l2"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_full_batch_training_matches_the_book(
    config: str, l2: float, data: tuple[Array, Array]
) -> None:
    X, y = data
    model, reference = _models(config, l2)
    history = model.fit(X, y, epochs=EPOCHS, verbose=0)
    ref = reference.fit(X, y, epochs=EPOCHS)

    assert len(history.data_loss) == EPOCHS
    # The run must actually train, or parity would prove little.
    assert min(history.data_loss) < history.data_loss[0] - 0.01
    if l2:
        assert min(history.regularization_loss) > 0
    else:
        assert history.regularization_loss == [0.0] * EPOCHS
    _compare(f"{config}/{'l2' if l2 else 'no-l2'}", model, history, reference, ref)


def test_mini_batch_adam_matches_the_book(data: tuple[Array, Array]) -> None:
    """batch_size=32 without shuffling: consecutive slices, the last one 12 rows; the epoch's
    loss is the mean of the batch losses weighted by their sizes."""
    X, y = data
    model, reference = _models("adam", L2)
    history = model.fit(X, y, epochs=20, batch_size=32, shuffle=False, verbose=0)
    ref = reference.fit(X, y, epochs=20, batch_size=32)
    assert model.optimizer is not None and model.optimizer.iterations == 20 * 10
    _compare("adam/l2/batch-32", model, history, reference, ref)


@pytest.mark.parametrize("config", ["rmsprop", "adam"])
def test_the_books_literal_squares_match_in_float64(config: str, data: tuple[Array, Array]) -> None:
    """In float64 too, shapenn matches the book's ``(1 - rho) * dW**2`` as written."""
    X, y = data
    X64 = X.astype(np.float64)
    model, reference = _models(config, L2, dtype=np.float64, literal_squares=True)
    history = model.fit(X64, y, epochs=EPOCHS, verbose=0)
    ref = reference.fit(X64, y, epochs=EPOCHS)
    _compare(f"{config}/l2/float64-book-literal", model, history, reference, ref)


def test_zz_print_max_relative_errors() -> None:
    """Print the largest relative loss error of every parity test above (run with ``-s``)."""
    if not MAX_RELATIVE_ERRORS:
        pytest.skip("no parity test ran before this one")
    width = max(map(len, MAX_RELATIVE_ERRORS))
    for name, error in MAX_RELATIVE_ERRORS.items():
        print(f"{name:<{width}}  {error:.3e}")
