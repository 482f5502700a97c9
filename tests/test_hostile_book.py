"""The book's Model under hostile use: every misuse is one of shapenn's documented errors naming
the book's method and the fix, never an IndexError, AttributeError or ZeroDivisionError from
deep inside, and nothing is trained or read half-way."""

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapenn as sn
from shapenn.book import (
    Accuracy_Categorical,
    Activation_ReLU,
    Activation_Softmax,
    Layer_Dense,
    Loss_CategoricalCrossentropy,
    Model,
    Optimizer_Adam,
)

DOCUMENTED = (sn.ArgumentError, sn.ShapeError, sn.NotReadyError, sn.ModelFileError, sn.PathError)


@pytest.fixture(autouse=True)
def _global_state() -> Iterator[None]:
    """The book's layers draw from NumPy's global generator: leave it as it was."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    yield
    np.random.set_state(state)  # noqa: NPY002


def data() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 2)).astype(np.float32), np.arange(12) % 3


def book_model(*, accuracy: bool = True, optimizer: bool = True) -> Model:
    model = Model()
    model.add(Layer_Dense(2, 8))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(8, 3))
    model.add(Activation_Softmax())
    model.set(
        loss=Loss_CategoricalCrossentropy(),
        optimizer=Optimizer_Adam(learning_rate=0.05) if optimizer else None,
        accuracy=Accuracy_Categorical() if accuracy else None,
    )
    model.finalize()
    return model


def test_finalize_without_layers_says_to_add_some() -> None:
    with pytest.raises(sn.NotReadyError, match=r"^Model.finalize: the model has no layers"):
        Model().finalize()


def test_train_without_an_accuracy_or_an_optimizer_says_which() -> None:
    X, y = data()
    with pytest.raises(sn.NotReadyError) as caught:
        book_model(accuracy=False).train(X, y)
    assert str(caught.value).startswith("Model.train: the model has no accuracy: call model.set(")
    with pytest.raises(sn.NotReadyError, match=r"^Model.train: the model has no optimizer"):
        book_model(optimizer=False).train(X, y)


def test_evaluate_needs_no_optimizer_as_the_book_says(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = data()
    book_model(optimizer=False).evaluate(X, y)
    assert capsys.readouterr().out.startswith("validation, acc: ")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"batch_size": 0}, "Model.train: batch_size must be a positive integer or None, got 0"),
        ({"batch_size": -1}, "Model.train: batch_size must be a positive integer or None, got -1"),
        ({"batch_size": 2.0}, "batch_size must be a positive integer or None, got 2.0"),
        ({"print_every": 0}, "Model.train: print_every must be a positive integer, got 0"),
        ({"epochs": 2.5}, "Model.train: epochs must be a positive integer, got 2.5"),
        ({"epochs": "2"}, "Model.train: epochs must be a positive integer, got '2'"),
        ({"epochs": 0}, "Model.train: epochs must be a positive integer, got 0"),
        ({"epochs": -1}, "Model.train: epochs must be a positive integer, got -1"),
        ({"epochs": True}, "Model.train: epochs must be a positive integer, got True"),
    ],
)
def test_train_arguments_are_refused_before_any_step(
    arguments: dict[str, Any], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = book_model()
    before = [w.copy() for w, _ in model.get_parameters()]
    X, y = data()
    with pytest.raises(sn.ArgumentError) as caught:
        model.train(X, y, **arguments)
    assert str(caught.value) == words or words in str(caught.value)
    assert capsys.readouterr().out == ""  # not a line printed, not a step taken
    for old, (new, _) in zip(before, model.get_parameters(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_train_takes_numpy_integers_as_the_ints_they_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    X, y = data()
    book_model().train(X, y, epochs=np.uint8(2), batch_size=np.int16(5), print_every=np.int64(1))
    out = capsys.readouterr().out.splitlines()
    assert out.count("epoch: 2") == 1 and sum(line.startswith("step: ") for line in out) == 6


def test_one_layer_object_added_twice_is_refused_at_add() -> None:
    model = Model()
    relu = Activation_ReLU()
    model.add(Layer_Dense(2, 8))
    model.add(relu)
    model.add(Layer_Dense(8, 8))
    with pytest.raises(sn.ArgumentError) as caught:
        model.add(relu)
    assert str(caught.value).startswith(
        "Model.add: layers[1] and layers[3] are the same Activation_ReLU() object"
    )
    assert len(model.layers) == 3  # not kept
    model.layers.append(relu)  # behind add's back: finalize finds it
    with pytest.raises(sn.ArgumentError, match=r"^Model.finalize: layers\[1\] and layers\[3\]"):
        model.finalize()


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ("relu", "Model.add: layers[0] is a str ('relu'), not a layer"),
        (Activation_ReLU, "Model.add: layers[0] is the class Activation_ReLU, not a layer: pass"),
        (None, "Model.add: layers[0] is a NoneType (None), not a layer"),
    ],
)
def test_add_refuses_what_is_not_a_layer(layer: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        Model().add(layer)
    assert str(caught.value).startswith(words)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"loss": sn.CategoricalCrossentropy()}, "Model.set: loss got CategoricalCrossentropy()"),
        ({"loss": Loss_CategoricalCrossentropy}, "pass an instance, Loss_CategoricalCrossentropy"),
        ({"optimizer": "adam"}, "Model.set: optimizer got 'adam'"),
        ({"accuracy": sn.CategoricalAccuracy()}, "Model.set: accuracy got CategoricalAccuracy()"),
    ],
)
def test_set_refuses_what_the_books_model_cannot_use(arguments: dict[str, Any], words: str) -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        Model().set(**arguments)
    assert words in str(caught.value)


def test_ragged_data_is_refused_in_words() -> None:
    model = book_model()
    ragged = [[1.0, 2.0], [1.0]]
    with pytest.raises(sn.ShapeError, match=r"X\[1\] has 1 value, X\[0\] has 2 values"):
        model.train(ragged, [0, 1])
    with pytest.raises(sn.ShapeError, match=r"^Model.predict: `X`"):
        model.predict(ragged)
    with pytest.raises(sn.ShapeError, match=r"^Model.evaluate: `X_val`"):
        model.evaluate(ragged, [0, 1])


def test_load_of_a_shapenn_file_says_to_use_shapenn_load(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    sn.save(
        sn.Model(
            [sn.Dense(2, 3, seed=0), sn.Softmax()],
            loss=sn.CategoricalCrossentropy(),
            optimizer=sn.Adam(),
        ),
        path,
    )
    with pytest.raises(sn.ModelFileError) as caught:
        Model.load(path)
    text = str(caught.value)
    assert text.startswith(f"Model.load: {str(path)!r} holds a shapenn model, not one of the")
    assert "shapenn.load(path)" in text


def test_the_books_own_save_still_loads(tmp_path: Path) -> None:
    model = book_model()
    X, _ = data()
    model.save(tmp_path / "book.model")
    loaded = Model.load(tmp_path / "book.model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_load_parameters_of_a_missing_file_is_a_path_error(tmp_path: Path) -> None:
    with pytest.raises(sn.PathError) as caught:
        book_model().load_parameters(tmp_path / "nope.params")
    assert str(caught.value).startswith("Model.load_parameters: cannot read")
    assert "no such file" in str(caught.value)


def test_load_parameters_of_a_whole_model_says_to_use_load(tmp_path: Path) -> None:
    model = book_model()
    model.save(tmp_path / "whole.model")
    with pytest.raises(sn.ModelFileError, match=r"is a whole model .* read it with Model.load"):
        model.load_parameters(tmp_path / "whole.model")


def test_load_parameters_never_unpickles_the_books_params_file(tmp_path: Path) -> None:
    model = book_model()
    path = tmp_path / "book.params"
    with path.open("wb") as handle:  # what the book's save_parameters writes
        pickle.dump(model.get_parameters(), handle)
    with pytest.raises(sn.ModelFileError) as caught:
        model.load_parameters(path)
    assert "is a pickle" in str(caught.value) and "never unpickles" in str(caught.value)
    with path.open("rb") as handle:  # the way the message gives, for a file one trusts
        model.set_parameters(pickle.load(handle))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is not a parameters file"),
        (b"hello, world", "is not a parameters file"),
        (b"PK\x03\x04 truncated", "is damaged or not written by save_parameters"),
    ],
)
def test_load_parameters_of_other_bytes_is_a_model_file_error(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "other.params"
    path.write_bytes(content)
    with pytest.raises(sn.ModelFileError, match=words):
        book_model().load_parameters(path)


def test_load_parameters_of_other_arrays_names_them(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(sn.ModelFileError, match=r"holds a, not the pairs 0.weights, 0.biases"):
        book_model().load_parameters(path)


def test_save_and_load_parameters_round_trip(tmp_path: Path) -> None:
    model, other = book_model(), book_model()
    model.save_parameters(tmp_path / "p.params")
    other.load_parameters(tmp_path / "p.params")
    for (w1, b1), (w2, b2) in zip(model.get_parameters(), other.get_parameters(), strict=True):
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(b1, b2)


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        (None, "parameters must be a list of (weights, biases) pairs"),
        ("abc", "parameters must be a list of (weights, biases) pairs"),
        ([1, 2], "parameters[0] must be a pair (weights, biases), got 1"),
        ([(1, 2, 3), (1, 2)], "parameters[0] must be a pair"),
    ],
)
def test_set_parameters_refuses_what_is_not_pairs(parameters: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        book_model().set_parameters(parameters)
    assert words in str(caught.value)


def test_load_parameters_refuses_another_models_arrays_before_reading(tmp_path: Path) -> None:
    model = book_model()
    big = tmp_path / "big.npz"
    np.savez(big, **{"0.weights": np.zeros((500, 800)), "0.biases": np.zeros((1, 8)),
                     "1.weights": np.zeros((8, 3)), "1.biases": np.zeros((1, 3))})  # fmt: skip
    with pytest.raises(sn.ModelFileError, match=r"holds 0.weights of 3,200,128 bytes, more than"):
        model.load_parameters(big)
    three = tmp_path / "three.npz"
    np.savez(three, **{f"{i}.{k}": np.zeros(1) for i in range(3) for k in ("weights", "biases")})
    with pytest.raises(sn.ModelFileError, match="holds 3 parameter sets, and this model has 2"):
        model.load_parameters(three)
