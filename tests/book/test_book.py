"""shapenn.book: the book's code, pasted as it is, prints the book's numbers and raises
shapenn's errors; importing it changes nothing in NumPy."""

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapenn as sn

nnfs = pytest.importorskip("nnfs")
import reference as R  # noqa: E402
from nnfs.datasets import spiral_data  # noqa: E402

from shapenn.book import (  # noqa: E402
    Accuracy_Categorical,
    Accuracy_Regression,
    Activation_ReLU,
    Activation_Sigmoid,
    Activation_Softmax,
    Activation_Softmax_Loss_CategoricalCrossentropy,
    Layer_Dense,
    Layer_Dropout,
    Loss_BinaryCrossentropy,
    Loss_CategoricalCrossentropy,
    Loss_MeanSquaredError,
    Model,
    Optimizer_Adam,
)

CHAPTER_3_ROWS = """\
[[ 0.0000000e+00  0.0000000e+00  0.0000000e+00]
 [-1.0475188e-04  1.1395361e-04 -4.7983500e-05]
 [-2.7414842e-04  3.1729150e-04 -8.6921798e-05]
 [-4.2188365e-04  5.2666257e-04 -5.5912682e-05]
 [-5.7707680e-04  7.1401405e-04 -8.9430439e-05]]"""


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


def test_importing_shapenn_book_changes_nothing_in_numpy() -> None:
    code = textwrap.dedent(
        """
        import numpy as np
        before = (np.dot, np.zeros, np.random.randn, np.random.get_state()[1].tobytes())
        import shapenn, shapenn.book
        after = (np.dot, np.zeros, np.random.randn, np.random.get_state()[1].tobytes())
        print(before == after)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr


@pytest.mark.usefixtures("book")
def test_chapter_3_prints_the_books_rows() -> None:
    X, _ = spiral_data(samples=100, classes=3)
    dense1 = Layer_Dense(2, 3)
    dense1.forward(X)
    assert str(dense1.output[:5]) == CHAPTER_3_ROWS
    assert dense1.weights.dtype == np.float32


@pytest.mark.usefixtures("book")
def test_chapter_5_pasted_as_it_is_prints_the_books_loss(tmp_path: Path) -> None:
    script = tmp_path / "chapter5.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import nnfs
            from nnfs.datasets import spiral_data
            from shapenn.book import *

            nnfs.init()

            X, y = spiral_data(samples=100, classes=3)
            dense1 = Layer_Dense(2, 3)
            activation1 = Activation_ReLU()
            dense2 = Layer_Dense(3, 3)
            activation2 = Activation_Softmax()
            loss_function = Loss_CategoricalCrossentropy()
            dense1.forward(X)
            activation1.forward(dense1.output)
            dense2.forward(activation1.output)
            activation2.forward(dense2.output)
            print(activation2.output[:5])
            loss = loss_function.calculate(activation2.output, y)
            print('loss:', loss)
            predictions = np.argmax(activation2.output, axis=1)
            if len(y.shape) == 2:
                y = np.argmax(y, axis=1)
            accuracy = np.mean(predictions == y)
            print('acc:', accuracy)
            """
        )
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["loss: 1.0986104", "acc: 0.34"]
    assert lines[0] == "[[0.33333334 0.33333334 0.33333334]"


def _chapter_16(epochs: int, *, reference: bool) -> tuple[list[str], Any]:
    """The book's Chapter 16 loop, with shapenn.book's classes or the plain reference."""
    X, y = spiral_data(samples=100, classes=2)
    y = y.reshape(-1, 1)
    if reference:
        dense1: Any = R.Dense(2, 64, l2w=5e-4, l2b=5e-4)
        activation1: Any = R.ReLU()
        dense2: Any = R.Dense(64, 1)
        activation2: Any = R.Sigmoid()
        loss_function: Any = R.BinaryCrossentropy()
        optimizer: Any = R.Adam(decay=5e-7)
    else:
        dense1 = Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)
        activation1 = Activation_ReLU()
        dense2 = Layer_Dense(64, 1)
        activation2 = Activation_Sigmoid()
        loss_function = Loss_BinaryCrossentropy()
        optimizer = Optimizer_Adam(decay=5e-7)
    printed = []
    for epoch in range(epochs + 1):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        activation2.forward(dense2.output)
        data_loss = loss_function.calculate(activation2.output, y)
        regularization_loss = loss_function.regularization_loss(
            dense1
        ) + loss_function.regularization_loss(dense2)
        loss = data_loss + regularization_loss
        accuracy = np.mean((activation2.output > 0.5) * 1 == y)
        if not epoch % 100:
            printed.append(
                f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: "
                f"{data_loss:.3f}, reg_loss: {regularization_loss:.3f}), lr: "
                f"{optimizer.current_learning_rate}"
            )
        loss_function.backward(activation2.output, y)
        activation2.backward(loss_function.dinputs)
        dense2.backward(activation2.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    return printed, np.array(dense1.weights)


@pytest.mark.parametrize("epochs", [200, 2000])
def test_chapter_16_prints_what_the_books_code_prints(epochs: int, book: None) -> None:
    state = np.random.get_state()  # noqa: NPY002
    expected, expected_weights = _chapter_16(epochs, reference=True)
    np.random.set_state(state)  # noqa: NPY002 - the same draws for both runs
    printed, weights = _chapter_16(epochs, reference=False)
    assert printed == expected
    assert printed[0] == (
        "epoch: 0, acc: 0.500, loss: 0.693 (data_loss: 0.693, reg_loss: 0.000), lr: 0.001"
    )
    np.testing.assert_array_equal(weights, expected_weights)  # bit for bit


def test_the_books_mistakes_are_shape_errors() -> None:
    X, y = spiral_data(samples=10, classes=3)
    with pytest.raises(sn.ShapeError, match=r"Layer_Dense\(3, 3\)\.forward: `inputs` expected"):
        Layer_Dense(3, 3).forward(X.astype(np.float64))
    # Sigmoid predictions (batch, 1) against labels (batch,): NumPy would compare a
    # (batch, batch) table and report a wrong accuracy.
    predictions = np.ones((30, 1), dtype=np.int64)
    with pytest.raises(sn.ShapeError, match="Accuracy_Categorical"):
        Accuracy_Categorical(binary=True).calculate(predictions, y)
    # Binary cross-entropy on labels not reshaped to (batch, 1).
    with pytest.raises(sn.ShapeError):
        Loss_BinaryCrossentropy().calculate(np.full((30, 1), 0.5, np.float64), y)


def test_the_combined_softmax_and_loss_is_the_books() -> None:
    X, y = spiral_data(samples=20, classes=3)
    dense = Layer_Dense(2, 3)
    dense.forward(X)
    combined = Activation_Softmax_Loss_CategoricalCrossentropy()
    loss = combined.forward(dense.output, y)
    assert isinstance(loss, np.floating)
    combined.backward(combined.output, y)
    expected = combined.output.copy()
    expected[np.arange(len(y)), y] -= 1
    np.testing.assert_allclose(combined.dinputs, expected / len(y), rtol=1e-6)


def _digits_model() -> tuple[Model, Any, Any]:
    X, y = sn.datasets.digits()
    model = Model()
    model.add(Layer_Dense(64, 32))
    model.add(Activation_ReLU())
    model.add(Layer_Dropout(0.1))
    model.add(Layer_Dense(32, 10))
    model.add(Activation_Softmax())
    model.set(
        loss=Loss_CategoricalCrossentropy(),
        optimizer=Optimizer_Adam(learning_rate=0.01, decay=1e-4),
        accuracy=Accuracy_Categorical(),
    )
    model.finalize()
    return model, X, y


@pytest.mark.usefixtures("book")
def test_the_books_model_trains_evaluates_saves_and_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, X, y = _digits_model()
    model.train(X, y, epochs=10, batch_size=128, print_every=100, validation_data=(X, y))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "epoch: 1"
    assert out[1].startswith("step: 0, acc: ")
    assert any(line.startswith("step: 14, acc: ") for line in out)  # the last, shorter batch
    assert out[-2].startswith("training, acc: ") and out[-1].startswith("validation, acc: ")
    accuracy = float(out[-1].split("acc: ")[1].split(",")[0])
    assert accuracy > 0.9
    predictions = model.output_layer_activation.predictions(model.predict(X[:5]))
    assert predictions.shape == (5,)

    model.save(tmp_path / "digits.model")
    loaded = Model.load(tmp_path / "digits.model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.evaluate(X, y)
    assert capsys.readouterr().out.strip() == out[-1].replace("validation", "validation")

    parameters = model.get_parameters()
    model.save_parameters(tmp_path / "digits.params")
    fresh, _, _ = _digits_model()
    fresh.load_parameters(tmp_path / "digits.params")
    np.testing.assert_array_equal(fresh.predict(X), model.predict(X))
    fresh.set_parameters(parameters)
    with pytest.raises(ValueError, match="1 parameter sets for 2 trainable layers"):
        fresh.set_parameters(parameters[:1])


def test_a_layer_that_does_not_fit_is_refused_at_finalize() -> None:
    model = Model()
    model.add(Layer_Dense(2, 64))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(32, 3))
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam())
    with pytest.raises(sn.ShapeError) as caught:
        model.finalize()
    text = str(caught.value)
    assert text.startswith("Model: `layers[2] Layer_Dense(32, 3)` expected (batch, in=32)")
    assert "hint: make layers[2] Layer_Dense(64, 3), or layers[0] Layer_Dense(2, 32)" in text
    with pytest.raises(RuntimeError, match=r"call model\.finalize"):
        model.train(np.zeros((4, 2), np.float32), np.zeros(4, np.int64))


def test_regression_accuracy_is_the_books() -> None:
    accuracy = Accuracy_Regression()
    y = np.linspace(0, 1, 100).reshape(-1, 1)
    accuracy.init(y)
    assert accuracy.precision == pytest.approx(np.std(y) / 250)
    assert accuracy.calculate(y + accuracy.precision / 2, y) == 1.0
    assert Loss_MeanSquaredError().calculate(y, y) == 0.0
