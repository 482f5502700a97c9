"""A bounded fuzz of constructor and method arguments: NumPy scalars of every dtype, bools,
NaN and infinities, huge ints, strings, None, classes. Each call either makes a correct object
(a NumPy scalar taken as the number it holds) or raises one of shapenn's documented errors.

Sizes are either small or far beyond any machine's memory (2**44 and more), never in between:
an accepted size in between would allocate gigabytes. Raise SHAPENN_FUZZ_EXAMPLES for a
longer campaign (the default keeps the suite fast).
"""

import contextlib
import io
import math
import numbers
import operator
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shapenn as sn
from shapenn import book

EXAMPLES = int(os.environ.get("SHAPENN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DOCUMENTED = (
    sn.ArgumentError,
    sn.ShapeError,
    sn.NotReadyError,
    sn.ModelFileError,
    sn.PathError,
)

INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64, np.longdouble]

#: Whole numbers a size may be: small ones, and ones no machine's memory holds an array of.
small_ints = st.integers(min_value=-3, max_value=12) | st.sampled_from([127, 255, 300])
huge_ints = st.integers(min_value=2**44, max_value=2**80) | st.sampled_from([10**400, 2**64 - 1])
negative_huge = st.integers(max_value=-(2**40), min_value=-(10**30)) | st.just(-(10**400))


def numpy_integers(values: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """``values`` held by NumPy integer scalars of every dtype that can hold them."""

    def held(pair: tuple[Any, int]) -> Any:
        dtype, value = pair
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            return dtype(value % (int(info.max) + 1)) if value >= 0 else dtype(0)
        return dtype(value)

    return st.tuples(st.sampled_from(INTEGER_DTYPES), values).map(held)


def _float_scalar(pair: tuple[Any, float]) -> Any:
    with np.errstate(over="ignore"):  # 1e300 as a float16 is inf: one more hostile value
        return pair[0](pair[1])


numpy_floats = st.tuples(
    st.sampled_from(FLOAT_DTYPES),
    st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 0.5, 1.0, -0.0]),
).map(_float_scalar)

others = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([np.bool_(True), np.bool_(False)]),
    st.text(max_size=4),
    st.binary(max_size=3),
    st.complex_numbers(max_magnitude=10),
    st.sampled_from([np.complex64(1), np.array(3), np.array([2, 3]), object(), [], (2,), (3, 3)]),
    st.sampled_from([sn.Dense, sn.ReLU, int, float, np.float32]),
    st.lists(st.integers(min_value=-2, max_value=5), max_size=3),
)

#: Anything for a size: small or astronomically large numbers, NumPy scalars, and the rest.
size_values = st.one_of(
    small_ints, huge_ints, negative_huge, numpy_integers(small_ints), numpy_floats, others
)
#: Anything for a real factor (a rate, a learning rate, epsilon).
real_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    small_ints,
    huge_ints,
    negative_huge,
    numpy_integers(small_ints),
    numpy_floats,
    others,
)


def is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def as_real(value: object) -> float | None:
    """The float a real argument stands for, or None if it is not a real number."""
    if isinstance(value, bool | np.bool_ | np.ndarray):
        return None
    if is_integer(value):
        whole = operator.index(value)  # type: ignore[arg-type]
        return float(whole) if abs(whole) < 2**1000 else math.copysign(math.inf, whole)
    if isinstance(value, numbers.Real | np.floating):
        return float(value)
    return None


def outcome(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or None when it raised a documented error; anything else fails."""
    try:
        with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
            return call()
    except DOCUMENTED:
        return None


@FUZZ
@given(n_inputs=size_values, n_neurons=size_values)
def test_dense(n_inputs: Any, n_neurons: Any) -> None:
    layer = outcome(lambda: sn.Dense(n_inputs, n_neurons, seed=0))
    if layer is not None:
        assert is_integer(n_inputs) and is_integer(n_neurons)
        assert layer.weights.shape == (operator.index(n_inputs), operator.index(n_neurons))
        assert layer.weights.dtype == np.float32 and np.isfinite(layer.weights).all()


@FUZZ
@given(value=st.one_of(size_values, real_values), which=st.sampled_from(["seed", "dtype"]))
def test_dense_seed_and_dtype(value: Any, which: str) -> None:
    layer = outcome(lambda: sn.Dense(2, 3, **{which: value}))
    if layer is not None and which == "seed":
        assert value is None or (is_integer(value) and operator.index(value) >= 0)
        if value is not None:
            expected = sn.Dense(2, 3, seed=operator.index(value)).weights
            np.testing.assert_array_equal(layer.weights, expected)
    if layer is not None and which == "dtype":
        assert layer.weights.dtype in (np.float32, np.float64)


@FUZZ
@given(value=real_values, which=st.sampled_from(["weight_regularizer_l1", "bias_regularizer_l2"]))
def test_dense_regularizers(value: Any, which: str) -> None:
    layer = outcome(lambda: sn.Dense(2, 3, **{which: value}))
    if layer is not None:
        number = as_real(value)
        assert number is not None and math.isfinite(number) and number >= 0
        assert getattr(layer, which) == number and type(getattr(layer, which)) is float


@FUZZ
@given(
    channels=size_values,
    kernel=st.one_of(size_values, st.tuples(size_values, size_values)),
    stride=st.one_of(size_values, st.tuples(size_values, size_values)),
    padding=st.one_of(
        size_values, st.tuples(size_values, size_values), st.sampled_from(["same", "valid", "x"])
    ),
)
def test_conv2d(channels: Any, kernel: Any, stride: Any, padding: Any) -> None:
    layer = outcome(lambda: sn.Conv2D(channels, 2, kernel, stride=stride, padding=padding))
    if layer is not None:
        assert layer.weights.shape[:2] == (2, operator.index(channels))
        assert all(isinstance(size, int) and size >= 1 for size in layer.kernel_size)
        assert all(isinstance(size, int) and size >= 1 for size in layer.stride)
        assert all(isinstance(p, int) and p >= 0 for side in layer.spatial_padding for p in side)


@FUZZ
@given(
    pool=st.one_of(size_values, st.tuples(size_values, size_values)),
    stride=st.one_of(st.none(), size_values),
    kind=st.sampled_from([sn.MaxPool2D, sn.AvgPool2D]),
)
def test_pools(pool: Any, stride: Any, kind: Any) -> None:
    layer = outcome(lambda: kind(pool, stride=stride))
    if layer is not None:
        assert all(
            isinstance(size, int) and size >= 1 for size in (*layer.pool_size, *layer.stride)
        )


@FUZZ
@given(rate=real_values, seed=st.one_of(st.none(), size_values))
def test_dropout(rate: Any, seed: Any) -> None:
    layer = outcome(lambda: sn.Dropout(rate, seed=seed))
    if layer is not None:
        number = as_real(rate)
        assert number is not None and 0 <= number < 1 and layer.rate == number
        assert seed is None or (is_integer(seed) and operator.index(seed) >= 0)


@FUZZ
@given(vocab=size_values, dim=size_values)
def test_embedding(vocab: Any, dim: Any) -> None:
    layer = outcome(lambda: sn.Embedding(vocab, dim, seed=0))
    if layer is not None:
        assert layer.weights.shape == (operator.index(vocab), operator.index(dim))


@FUZZ
@given(size=size_values, eps=real_values, momentum=real_values)
def test_norms(size: Any, eps: Any, momentum: Any) -> None:
    norm = outcome(lambda: sn.LayerNorm(size, eps=eps))
    if norm is not None:
        assert norm.gamma.shape == (operator.index(size),) and norm.eps == as_real(eps)
    batch = outcome(lambda: sn.BatchNorm1D(size, momentum=momentum, eps=eps))
    if batch is not None:
        number = as_real(momentum)
        assert number is not None and 0 <= number <= 1 and batch.momentum == number


@FUZZ
@given(
    kind=st.sampled_from([sn.SGD, sn.Adam, sn.RMSprop, sn.Adagrad]),
    learning_rate=real_values,
    decay=real_values,
)
def test_optimizers(kind: Any, learning_rate: Any, decay: Any) -> None:
    optimizer = outcome(lambda: kind(learning_rate, decay=decay))
    if optimizer is not None:
        rate = as_real(learning_rate)
        assert rate is not None and math.isfinite(rate) and rate >= 0
        assert optimizer.learning_rate == rate and type(optimizer.learning_rate) is float


SHARED = "the same ReLU"


@FUZZ
@given(
    items=st.lists(
        st.one_of(
            st.just(SHARED),
            st.builds(sn.ReLU),
            st.builds(lambda: sn.Dense(2, 2, seed=0)),
            st.sampled_from([sn.Dense, sn.ReLU, sn.Dropout]),
            others,
            size_values,
        ),
        max_size=5,
    ),
    wrap=st.sampled_from(["list", "tuple", "bare", "none"]),
)
def test_model_layer_lists(items: list[Any], wrap: str) -> None:
    shared = sn.ReLU()
    layers: Any = [shared if item is SHARED else item for item in items]
    if wrap == "tuple":
        layers = tuple(layers)
    elif wrap == "bare":
        layers = layers[0] if layers else None
    elif wrap == "none":
        layers = None
    model = outcome(lambda: sn.Model(layers))
    if model is not None:
        assert all(isinstance(layer, sn.Layer) for layer in model.layers)
        assert len({id(layer) for layer in model.layers}) == len(model.layers)


def book_model() -> book.Model:
    model = book.Model()
    model.add(book.Layer_Dense(2, 4))
    model.add(book.Activation_Softmax())
    model.set(
        loss=book.Loss_CategoricalCrossentropy(),
        optimizer=book.Optimizer_SGD(),
        accuracy=book.Accuracy_Categorical(),
    )
    model.finalize()
    return model


#: Epoch counts: anything but a huge positive int, which would be a valid, endless training.
epoch_values = st.one_of(
    small_ints, negative_huge, numpy_integers(small_ints), numpy_floats, others
)


@pytest.fixture(autouse=True)
def _global_state() -> Any:
    """The book's layers draw from NumPy's global generator: leave it as it was."""
    state = np.random.get_state()  # noqa: NPY002
    yield
    np.random.set_state(state)  # noqa: NPY002


@FUZZ
@given(epochs=epoch_values, batch_size=st.one_of(st.none(), size_values), every=size_values)
def test_book_train(epochs: Any, batch_size: Any, every: Any) -> None:
    model = book_model()
    X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6) % 4
    result = outcome(
        lambda: model.train(X, y, epochs=epochs, batch_size=batch_size, print_every=every) or True
    )
    if result is not None:
        assert is_integer(epochs) and operator.index(epochs) >= 1
        assert batch_size is None or (is_integer(batch_size) and operator.index(batch_size) >= 1)
        assert is_integer(every) and operator.index(every) >= 1


@FUZZ
@given(
    value=st.one_of(others, size_values, st.builds(book.Activation_ReLU)),
    method=st.sampled_from(["add", "loss", "optimizer", "accuracy", "set_parameters"]),
)
def test_book_model_methods(value: Any, method: str) -> None:
    model = book.Model()
    if method == "add":
        outcome(lambda: model.add(value))
        assert all(isinstance(layer, sn.Layer) for layer in model.layers)
    elif method == "set_parameters":
        outcome(lambda: book_model().set_parameters(value))
    else:
        outcome(lambda: model.set(**{method: value}))
        assert value is None or getattr(model, method) is value or getattr(model, method) is None


@FUZZ
@given(content=st.binary(max_size=64), prefix=st.sampled_from([b"", b"PK\x03\x04", b"\x80\x04"]))
def test_book_load_parameters_of_any_bytes(
    tmp_path_factory: Any, content: bytes, prefix: bytes
) -> None:
    path = tmp_path_factory.mktemp("params") / "p.params"
    path.write_bytes(prefix + content)
    outcome(lambda: book_model().load_parameters(path))
