"""Chapters 17 and 18 run as the book prints them, with ``shapenn.book.chapter17`` and
``shapenn.book.chapter18``, against a plain-NumPy reference of the book's classes run in the
same test on the same seeded data."""

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

nnfs = pytest.importorskip("nnfs")
import reference as R  # noqa: E402
from nnfs.datasets import sine_data, spiral_data  # noqa: E402

import shapenn.book as B  # noqa: E402
from shapenn.book import chapter15 as C15  # noqa: E402
from shapenn.book import chapter17 as C17  # noqa: E402
from shapenn.book import chapter18 as C18  # noqa: E402

#: Per chapter: (lines the same, lines printed, largest relative difference of a figure).
TABLE: dict[str, tuple[int, int, float]] = {}


@pytest.fixture
def book() -> Iterator[None]:
    """``nnfs.init()`` as the book calls it, undone afterwards for the other tests."""
    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    saved = [getattr(owner, name) for owner, name in patched]
    state = np.random.get_state()  # noqa: NPY002
    nnfs.init()
    yield
    for (owner, name), function in zip(patched, saved, strict=True):
        setattr(owner, name, function)
    np.random.set_state(state)  # noqa: NPY002


class Dense17(R.Dense):
    """Chapter 17's layer: ``0.1 * np.random.randn``."""

    def __init__(self, n_inputs: int, n_neurons: int) -> None:
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)  # noqa: NPY002
        self.biases = np.zeros((1, n_neurons))
        self.l1w = self.l2w = self.l1b = self.l2b = 0


class Linear:
    def forward(self, inputs: Any) -> None:
        self.output = inputs

    def backward(self, dvalues: Any) -> None:
        self.dinputs = dvalues.copy()


class MeanSquaredError(R.BinaryCrossentropy):
    def calculate(self, output: Any, y: Any) -> Any:
        return np.mean(np.mean((y - output) ** 2, axis=-1))

    def backward(self, dvalues: Any, y: Any) -> None:
        samples, outputs = len(dvalues), len(dvalues[0])
        self.dinputs = -2 * (y - dvalues) / outputs
        self.dinputs = self.dinputs / samples


def _figures(line: str) -> list[float]:
    return [float(word.strip("(),")) for word in line.split() if word[:1].isdigit()]


def _compare(chapter: str, printed: list[str], expected: list[str]) -> None:
    same = sum(a == b for a, b in zip(printed, expected, strict=True))
    worst = 0.0
    for a, b in zip(printed, expected, strict=True):
        for x, y in zip(_figures(a), _figures(b), strict=True):
            worst = max(worst, abs(x - y) / max(abs(y), 1e-12))
    TABLE[chapter] = (same, len(expected), worst)
    print(f"{chapter}: {same}/{len(expected)} lines the same, max relative difference {worst:.2g}")


def _chapter_17(epochs: int, *, reference: bool) -> list[str]:
    """Chapter 17's loop as the book prints it."""
    X, y = sine_data()
    if reference:
        dense1: Any = Dense17(1, 64)
        activation1: Any = R.ReLU()
        dense2: Any = Dense17(64, 64)
        activation2: Any = R.ReLU()
        dense3: Any = Dense17(64, 1)
        activation3: Any = Linear()
        loss_function: Any = MeanSquaredError()
        optimizer: Any = R.Adam(learning_rate=0.005, decay=1e-3)
    else:
        dense1 = C17.Layer_Dense(1, 64)
        activation1 = C17.Activation_ReLU()
        dense2 = C17.Layer_Dense(64, 64)
        activation2 = C17.Activation_ReLU()
        dense3 = C17.Layer_Dense(64, 1)
        activation3 = C17.Activation_Linear()
        loss_function = C17.Loss_MeanSquaredError()
        optimizer = C17.Optimizer_Adam(learning_rate=0.005, decay=1e-3)
    accuracy_precision = np.std(y) / 250
    printed = []
    for epoch in range(epochs + 1):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        activation2.forward(dense2.output)
        dense3.forward(activation2.output)
        activation3.forward(dense3.output)
        data_loss = loss_function.calculate(activation3.output, y)
        regularization_loss = (
            loss_function.regularization_loss(dense1)
            + loss_function.regularization_loss(dense2)
            + loss_function.regularization_loss(dense3)
        )
        loss = data_loss + regularization_loss
        predictions = activation3.output
        accuracy = np.mean(np.absolute(predictions - y) < accuracy_precision)
        if not epoch % 100:
            printed.append(
                f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: "
                f"{data_loss:.3f}, reg_loss: {regularization_loss:.3f}), lr: "
                f"{optimizer.current_learning_rate}"
            )
        loss_function.backward(activation3.output, y)
        activation3.backward(loss_function.dinputs)
        dense3.backward(activation3.dinputs)
        activation2.backward(dense3.dinputs)
        dense2.backward(activation2.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.update_params(dense3)
        optimizer.post_update_params()
    return printed


@pytest.mark.usefixtures("book")
def test_chapter_17_prints_what_the_books_code_prints() -> None:
    state = np.random.get_state()  # noqa: NPY002
    expected = _chapter_17(500, reference=True)
    np.random.set_state(state)  # noqa: NPY002 - the same draws for both runs
    printed = _chapter_17(500, reference=False)
    _compare("Chapter 17", printed, expected)
    assert printed == expected


class Dropout:
    def __init__(self, rate: float) -> None:
        self.rate = 1 - rate

    def forward(self, inputs: Any) -> None:
        self.mask = np.random.binomial(1, self.rate, size=inputs.shape) / self.rate  # noqa: NPY002
        self.output = inputs * self.mask

    def backward(self, dvalues: Any) -> None:
        self.dinputs = dvalues * self.mask


def _reference_18(X: Any, y: Any, X_test: Any, y_test: Any, epochs: int, every: int) -> list[str]:
    """Chapter 18's Model and train, reduced to what this network uses: Dense (L2), ReLU,
    Dropout, Dense, Softmax with categorical cross-entropy, Adam."""
    dense1, relu, dropout = R.Dense(2, 64, l2w=5e-4, l2b=5e-4), R.ReLU(), Dropout(0.1)
    dense2, optimizer = R.Dense(64, 3), R.Adam(learning_rate=0.05, decay=5e-5)
    regularizer = R.BinaryCrossentropy()  # its regularization_loss is the book's

    def forward(inputs: Any, training: bool) -> Any:
        dense1.forward(inputs)
        relu.forward(dense1.output)
        if training:
            dropout.forward(relu.output)
        else:
            dropout.output = relu.output.copy()
        dense2.forward(dropout.output)
        exp_values = np.exp(dense2.output - np.max(dense2.output, axis=1, keepdims=True))
        return exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def measured(output: Any, labels: Any) -> tuple[Any, Any]:
        clipped = np.clip(output, 1e-7, 1 - 1e-7)
        loss = np.mean(-np.log(clipped[range(len(output)), labels]))
        return loss, np.mean(np.argmax(output, axis=1) == labels)

    printed = []
    for epoch in range(1, epochs + 1):
        output = forward(X, True)
        data_loss, accuracy = measured(output, y)
        regularization_loss = regularizer.regularization_loss(
            dense1
        ) + regularizer.regularization_loss(dense2)
        loss = data_loss + regularization_loss
        dinputs = output.copy()
        dinputs[range(len(output)), y] -= 1
        dense2.backward(dinputs / len(output))
        dropout.backward(dense2.dinputs)
        relu.backward(dropout.dinputs)
        dense1.backward(relu.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
        if not epoch % every:
            printed.append(
                f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: "
                f"{data_loss:.3f}, reg_loss: {regularization_loss:.3f}), lr: "
                f"{optimizer.current_learning_rate}"
            )
    loss, accuracy = measured(forward(X_test, False), y_test)
    printed.append(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
    return printed


@pytest.mark.usefixtures("book")
def test_chapter_18_prints_what_the_books_code_prints(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = spiral_data(samples=100, classes=3)
    X_test, y_test = spiral_data(samples=100, classes=3)
    state = np.random.get_state()  # noqa: NPY002
    expected = _reference_18(X, y, X_test, y_test, epochs=1000, every=100)
    np.random.set_state(state)  # noqa: NPY002 - the same draws for both runs
    # Chapter 18's code, as the book prints it (a smaller network and fewer epochs).
    model = C18.Model()
    model.add(C18.Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4))
    model.add(C18.Activation_ReLU())
    model.add(C18.Layer_Dropout(0.1))
    model.add(C18.Layer_Dense(64, 3))
    model.add(C18.Activation_Softmax())
    model.set(
        loss=C18.Loss_CategoricalCrossentropy(),
        optimizer=C18.Optimizer_Adam(learning_rate=0.05, decay=5e-5),
        accuracy=C18.Accuracy_Categorical(),
    )
    model.finalize()
    capsys.readouterr()
    model.train(X, y, validation_data=(X_test, y_test), epochs=1000, print_every=100)
    printed = capsys.readouterr().out.splitlines()
    with capsys.disabled():
        _compare("Chapter 18", printed, expected)
    assert len(printed) == 11  # one line per 100 epochs, validation once
    assert printed == expected


class SoftmaxCrossentropy:
    """The book's Activation_Softmax_Loss_CategoricalCrossentropy, with its regularization."""

    def __init__(self) -> None:
        self.loss = R.BinaryCrossentropy()  # its regularization_loss is the book's

    def forward(self, inputs: Any, y: Any) -> Any:
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        return np.mean(-np.log(clipped[range(len(inputs)), y]))

    def backward(self, dvalues: Any, y: Any) -> None:
        self.dinputs = dvalues.copy()
        self.dinputs[range(len(dvalues)), y] -= 1
        self.dinputs = self.dinputs / len(dvalues)


def _chapter_15(module: Any, epochs: int) -> list[str]:
    """Chapter 15's loop as the book prints it, with ``module``'s classes (None: the
    reference's)."""
    X, y = spiral_data(samples=100, classes=3)
    if module is None:
        dense1: Any = R.Dense(2, 64, l2w=5e-4, l2b=5e-4)
        activation1: Any = R.ReLU()
        dropout1: Any = Dropout(0.1)
        dense2: Any = R.Dense(64, 3)
        loss_activation: Any = SoftmaxCrossentropy()
        optimizer: Any = R.Adam(learning_rate=0.05, decay=5e-5)
    else:
        dense1 = module.Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)
        activation1 = module.Activation_ReLU()
        dropout1 = module.Layer_Dropout(0.1)
        dense2 = module.Layer_Dense(64, 3)
        loss_activation = module.Activation_Softmax_Loss_CategoricalCrossentropy()
        optimizer = module.Optimizer_Adam(learning_rate=0.05, decay=5e-5)
    printed = []
    for epoch in range(epochs + 1):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dropout1.forward(activation1.output)
        dense2.forward(dropout1.output)
        data_loss = loss_activation.forward(dense2.output, y)
        regularization_loss = loss_activation.loss.regularization_loss(
            dense1
        ) + loss_activation.loss.regularization_loss(dense2)
        loss = data_loss + regularization_loss
        predictions = np.argmax(loss_activation.output, axis=1)
        accuracy = np.mean(predictions == y)
        if not epoch % 100:
            printed.append(
                f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: "
                f"{data_loss:.3f}, reg_loss: {regularization_loss:.3f}), lr: "
                f"{optimizer.current_learning_rate}"
            )
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        dropout1.backward(dense2.dinputs)
        activation1.backward(dropout1.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    return printed


@pytest.mark.usefixtures("book")
def test_chapter_15_prints_what_the_books_code_prints(capsys: pytest.CaptureFixture[str]) -> None:
    state = np.random.get_state()  # noqa: NPY002
    expected = _chapter_15(None, 1000)
    np.random.set_state(state)  # noqa: NPY002 - the same draws for each run
    printed = _chapter_15(C15, 1000)
    np.random.set_state(state)  # noqa: NPY002
    plain = _chapter_15(B, 1000)  # shapenn.book's float32 mask: the last digits differ
    with capsys.disabled():
        _compare("Chapter 15", printed, expected)
        _compare("Chapter 15 (shapenn.book)", plain, expected)
    assert printed == expected
