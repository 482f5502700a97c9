"""Every public callable rejects a malformed array with `shapenn.ShapeError`.

Never a raw NumPy error, never a silently broadcast result. For each callable — the layers'
``forward``/``backward``, the losses' ``forward``/``calculate``/``backward`` and every
shapechecked kernel — a table below builds one VALID call. Hypothesis then mutates ONE array
argument of it:

    (a) one axis gets a different positive size;
    (b) the rank changes: an axis is dropped, or an axis of size 1..3 is added in front or back;
    (c) the dtype changes to int64, float64 or bool;
    (d) the array is replaced by a Python list (``.tolist()``).

Some mutations leave a call valid: the batch size of a single-argument ``forward``, float64
inputs of a function that has no other floating-point array, integer one-hot targets (targets
are ``Real``), integer labels grown to (batch, classes) which ARE one-hot targets, … Rather
than loosen the assertion, each table row spells out the documented signatures of the call
(the "Shape:" sections of the docstrings) and `fits` decides with this rule:

    A call is valid iff, for one of its signatures, every array (the arguments and the arrays
    the callable reads from its object: weights, cached inputs) is an ndarray of the stated
    rank and dtype family (F: float, I: integer, R: float or integer — never bool), literal
    dims match, equal dim names have equal sizes, and all floating-point arrays share one
    dtype.

A mutation that still fits is filtered out with `assume` — but first it is called, and must NOT
raise ShapeError (LabelError is allowed there: shrinking ``classes`` can orphan a label). So the
rule is checked against the library in both directions.
"""

import inspect
import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

import shapenn as sn
from shapenn import _losses
from shapenn.layers import _activations, _dense

F32 = np.float32
BATCH, N_IN, N_OUT, FEATURES, CLASSES = 5, 3, 4, 3, 3

Signature = tuple[tuple[tuple[str, ...], str], ...]


def sig(*specs: str) -> Signature:
    """``sig("batch in:F", "1 out:F")`` → the dims and dtype family of each array, in order."""
    parsed = []
    for spec in specs:
        dims, kind = spec.rsplit(":", 1)
        parsed.append((tuple(dims.split()), kind))
    return tuple(parsed)


_KINDS = {"F": "f", "I": "iu", "R": "fiu"}


def fits(arrays: list[Any], signatures: tuple[Signature, ...]) -> bool:
    """The rule of the module docstring: do `arrays` satisfy one of `signatures`?"""
    return any(_fits_one(arrays, signature) for signature in signatures)


def _fits_one(arrays: list[Any], signature: Signature) -> bool:
    bound: dict[str, Any] = {}
    floats: set[np.dtype[Any]] = set()
    for array, (dims, kind) in zip(arrays, signature, strict=True):
        if not isinstance(array, np.ndarray) or array.dtype.kind not in _KINDS[kind]:
            return False
        if kind == "F":
            floats.add(array.dtype)
        if not _fits_dims(dims, array.shape, bound):
            return False
    return len(floats) <= 1


def _fits_dims(dims: tuple[str, ...], shape: tuple[int, ...], bound: dict[str, Any]) -> bool:
    """Literal dims match, equal names have equal sizes; ``*name`` takes any number of axes."""
    star = next((i for i, dim in enumerate(dims) if dim.startswith("*")), None)
    if star is None:
        if len(shape) != len(dims):
            return False
        pairs = list(zip(dims, shape, strict=True))
    else:
        after = len(dims) - star - 1
        if len(shape) < len(dims) - 1:
            return False
        middle = tuple(shape[star : len(shape) - after])
        if bound.setdefault(dims[star], middle) != middle:
            return False
        pairs = list(zip(dims[:star], shape[:star], strict=True))
        pairs += list(zip(dims[star + 1 :], shape[len(shape) - after :], strict=True))
    for dim, size in pairs:
        if dim.isdigit():
            if size != int(dim):
                return False
        elif bound.setdefault(dim, size) != size:
            return False
    return True


@dataclass
class Call:
    """One valid call: ``fn(*args)``; `hidden` are the arrays ``fn`` also reads from its object."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    signatures: tuple[Signature, ...]
    hidden: tuple[Any, ...] = ()
    where: str = ""  # the `where` its ShapeError must report


# --- valid arguments -----------------------------------------------------------------------


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def inputs(n: int = N_IN) -> Any:
    return _rng().standard_normal((BATCH, n)).astype(F32)


def probabilities() -> Any:
    logits = _rng().standard_normal((BATCH, CLASSES))
    exp = np.exp(logits)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(F32)


def labels() -> Any:
    return np.array([0, 2, 1, 2, 0], dtype=np.int64)


def one_hot() -> Any:
    return np.eye(CLASSES, dtype=F32)[labels()]


def unit_predictions() -> Any:
    return _rng().uniform(0.05, 0.95, size=(BATCH, 2)).astype(F32)


def binary_targets() -> Any:
    return np.array([[0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=F32)


DENSE_FORWARD = sig("batch *positions in:F", "in out:F", "1 out:F")
DENSE_BACKWARD = sig("batch *positions out:F", "batch *positions in:F", "in out:F")
FEATURES_1 = sig("batch *features:F")
FEATURES_2 = sig("batch *features:F", "batch *features:F")
SOFTMAX_1 = sig("batch *positions classes:F")
SOFTMAX_2 = sig("batch *positions classes:F", "batch *positions classes:F")
ELEMENTWISE_1 = sig("*shape:F")
ELEMENTWISE_2 = sig("*shape:F", "*shape:F")
SPARSE = sig("batch classes:F", "batch:I")
ONE_HOT = sig("batch classes:F", "batch classes:R")
TARGETS = sig("batch outputs:F", "batch outputs:R")

# --- the public methods --------------------------------------------------------------------


def _dense_forward_call() -> Call:
    layer = sn.Dense(N_IN, N_OUT, seed=0)
    hidden = (layer.weights, layer.biases)
    return Call(layer.forward, (inputs(),), (DENSE_FORWARD,), hidden, f"{layer!r}.forward")


def _dense_backward_call() -> Call:
    layer = sn.Dense(N_IN, N_OUT, seed=0)
    layer.forward(inputs())
    hidden = (layer.inputs, layer.weights)
    dvalues = _rng().standard_normal((BATCH, N_OUT)).astype(F32)
    return Call(layer.backward, (dvalues,), (DENSE_BACKWARD,), hidden, f"{layer!r}.backward")


def _activation_call(cls: type[sn.Layer], method: str) -> Callable[[], Call]:
    def build() -> Call:
        layer: Any = cls()
        one, two = (SOFTMAX_1, SOFTMAX_2) if cls is sn.Softmax else (FEATURES_1, FEATURES_2)
        if method == "forward":
            return Call(layer.forward, (inputs(FEATURES),), (one,), (), f"{layer!r}.forward")
        layer.forward(inputs(FEATURES))
        cached = layer.inputs if cls in (sn.ReLU, sn.Linear) else layer.output
        dvalues = _rng().uniform(-1, 1, size=(BATCH, FEATURES)).astype(F32)
        return Call(layer.backward, (dvalues,), (two,), (cached,), f"{layer!r}.backward")

    return build


def _loss_call(
    cls: type[Any], method: str, make_pred: Callable[[], Any], make_true: Callable[[], Any]
) -> Callable[[], Call]:
    def build() -> Call:
        obj = cls()
        classes = cls in (sn.CategoricalCrossentropy, sn.SoftmaxCategoricalCrossentropy)
        signatures = (SPARSE, ONE_HOT) if classes else (TARGETS,)
        args = (make_pred(), make_true())
        return Call(getattr(obj, method), args, signatures, (), f"{obj!r}.{method}")

    return build


METHODS: dict[str, Callable[[], Call]] = {
    "Dense.forward": _dense_forward_call,
    "Dense.backward": _dense_backward_call,
}
for _cls in (sn.ReLU, sn.Softmax, sn.Sigmoid, sn.Tanh, sn.Linear):
    for _method in ("forward", "backward"):
        METHODS[f"{_cls.__name__}.{_method}"] = _activation_call(_cls, _method)
for _method in ("forward", "calculate", "backward"):
    for _kind, _true in (("sparse", labels), ("one_hot", one_hot)):
        METHODS[f"CategoricalCrossentropy.{_method}[{_kind}]"] = _loss_call(
            sn.CategoricalCrossentropy, _method, probabilities, _true
        )
    for _cls in (sn.BinaryCrossentropy, sn.MeanSquaredError, sn.MeanAbsoluteError):
        METHODS[f"{_cls.__name__}.{_method}"] = _loss_call(
            _cls, _method, unit_predictions, binary_targets
        )
for _kind, _true in (("sparse", labels), ("one_hot", one_hot)):
    # forward takes logits, backward the softmax outputs; both are (batch, classes) floats.
    for _method, _pred in (("forward", inputs), ("backward", probabilities)):
        METHODS[f"SoftmaxCategoricalCrossentropy.{_method}[{_kind}]"] = _loss_call(
            sn.SoftmaxCategoricalCrossentropy, _method, _pred, _true
        )

# --- the shapechecked kernels --------------------------------------------------------------


def _kernels() -> dict[str, Callable[..., Any]]:
    """Every module-level function of the three modules that shapechecked wrapped."""
    found = {}
    for module in (_dense, _activations, _losses):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if hasattr(fn, "__wrapped__") and fn.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = fn
    return found


KERNELS = _kernels()


def _dense_kernel_args() -> dict[str, tuple[tuple[Any, ...], Signature]]:
    layer = sn.Dense(N_IN, N_OUT, seed=0)
    w, b = layer.weights, layer.biases
    dvalues = _rng().standard_normal((BATCH, N_OUT)).astype(F32)
    return {
        "dense_forward": ((inputs(), w, b), DENSE_FORWARD),
        "dense_backward": ((dvalues, inputs(), w), DENSE_BACKWARD),
        "_dense_parameters": ((w, b), sig("in out:F", "1 out:F")),
        "dense_parameter_gradients": ((dvalues, inputs(), w), DENSE_BACKWARD),
    }


KERNEL_ARGS: dict[str, Callable[[], tuple[tuple[Any, ...], Signature]]] = {}
for _name in ("dense_forward", "dense_backward", "_dense_parameters", "dense_parameter_gradients"):
    KERNEL_ARGS[f"shapenn.layers._dense.{_name}"] = lambda _name=_name: _dense_kernel_args()[_name]
for _name in ("relu", "softmax", "sigmoid", "tanh", "identity"):
    _one, _two = (SOFTMAX_1, SOFTMAX_2) if _name == "softmax" else (ELEMENTWISE_1, ELEMENTWISE_2)
    KERNEL_ARGS[f"shapenn.layers._activations.{_name}_forward"] = lambda _one=_one: (
        (inputs(FEATURES),),
        _one,
    )
    KERNEL_ARGS[f"shapenn.layers._activations.{_name}_backward"] = lambda _two=_two: (
        (inputs(FEATURES), probabilities()),
        _two,
    )
for _name in (
    "categorical_crossentropy_sparse",
    "categorical_crossentropy_sparse_backward",
    "softmax_crossentropy_sparse_backward",
):
    KERNEL_ARGS[f"shapenn._losses.{_name}"] = lambda: ((probabilities(), labels()), SPARSE)
for _name in (
    "categorical_crossentropy_onehot",
    "categorical_crossentropy_onehot_backward",
    "softmax_crossentropy_onehot_backward",
):
    KERNEL_ARGS[f"shapenn._losses.{_name}"] = lambda: ((probabilities(), one_hot()), ONE_HOT)
for _name in ("binary_crossentropy", "mean_squared_error", "mean_absolute_error"):
    for _suffix in ("", "_backward"):
        KERNEL_ARGS[f"shapenn._losses.{_name}{_suffix}"] = lambda: (
            (unit_predictions(), binary_targets()),
            TARGETS,
        )


def _kernel_call(qualified: str) -> Callable[[], Call]:
    def build() -> Call:
        fn = KERNELS[qualified]
        args, signature = KERNEL_ARGS[qualified]()
        return Call(fn, args, (signature,), (), fn.__qualname__)

    return build


CALLS: dict[str, Callable[[], Call]] = {
    **METHODS,
    **{name: _kernel_call(name) for name in sorted(KERNEL_ARGS)},
}


def test_every_kernel_is_in_the_table() -> None:
    assert set(KERNELS) == set(KERNEL_ARGS)


@pytest.mark.parametrize("name", list(CALLS))
def test_valid_call_succeeds(name: str) -> None:
    call = CALLS[name]()
    assert fits([*call.args, *call.hidden], call.signatures)
    call.fn(*call.args)


# --- mutations -----------------------------------------------------------------------------


@dataclass
class Mutation:
    position: int
    category: str  # "axis", "rank", "dtype" or "list"
    description: str
    value: Any

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: no contents
        return f"Mutation(arg {self.position}: {self.description})"


def _shape(value: Any) -> str:
    return f"{value.shape} {value.dtype}" if isinstance(value, np.ndarray) else "a list"


@st.composite
def mutations(draw: st.DrawFn, args: tuple[Any, ...]) -> Mutation:
    position = draw(st.integers(0, len(args) - 1))
    array: np.ndarray[Any, Any] = args[position]
    category = draw(st.sampled_from(["axis", "rank", "dtype", "list"]))
    value: Any
    if category == "axis":  # (a)
        axis = draw(st.integers(0, array.ndim - 1))
        size = draw(st.integers(1, 8).filter(lambda s: s != array.shape[axis]))
        shape = list(array.shape)
        shape[axis] = size
        value = np.resize(array, shape)  # cycles the original values: labels stay labels
    elif category == "rank":  # (b)
        how = draw(st.sampled_from(["drop", "front", "back"]))
        if how == "drop":
            axis = draw(st.integers(0, array.ndim - 1))
            value = np.take(array, [0], axis=axis).squeeze(axis)  # a 0-D *array* from 1-D
        else:
            k = draw(st.integers(1, 3))
            if how == "front":
                value = np.repeat(array[None], k, axis=0)
            else:
                value = np.repeat(array[..., None], k, axis=-1)
    elif category == "dtype":  # (c)
        choices = [d for d in (np.int64, np.float64, np.bool_) if np.dtype(d) != array.dtype]
        value = array.astype(draw(st.sampled_from(choices)))
    else:  # (d)
        value = array.tolist()
    return Mutation(position, category, f"{_shape(array)} -> {_shape(value)}", value)


def _call_quietly(fn: Callable[..., Any], args: list[Any]) -> None:
    """Call a mutated call that the rule deems valid: anything but ShapeError may happen to
    its *values* (a label beyond a shrunk ``classes``; log(0) of an all-zero integer target)."""
    with suppress(sn.LabelError), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fn(*args)


@pytest.mark.parametrize("name", list(CALLS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_one_bad_array_raises_shape_error(name: str, data: st.DataObject) -> None:
    call = CALLS[name]()
    mutation = data.draw(mutations(call.args), label="mutation")
    args = list(call.args)
    args[mutation.position] = mutation.value

    if fits([*args, *call.hidden], call.signatures):
        _call_quietly(call.fn, args)  # still valid: must not raise ShapeError
    assume(not fits([*args, *call.hidden], call.signatures))
    event(mutation.category)

    with pytest.raises(sn.ShapeError) as info:
        call.fn(*args)
    err = info.value
    assert err.where == call.where
    assert err.__cause__ is None  # nothing chained: the message is what a person sees
    # Only a mix of float precisions is caught by shapenn's own rule, not by jaxtyping.
    if not (isinstance(mutation.value, np.ndarray) and mutation.value.dtype == np.float64):
        assert err.checker_report


# --- regressions ---------------------------------------------------------------------------

ELEMENTWISE_LOSSES = [sn.BinaryCrossentropy, sn.MeanSquaredError, sn.MeanAbsoluteError]


@pytest.mark.parametrize("loss_class", ELEMENTWISE_LOSSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("method", ["calculate", "forward", "backward"])
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 8))
def test_target_vector_is_not_broadcast(loss_class: type[sn.Loss], method: str, n: int) -> None:
    """(n, 1) predictions with (n,) targets would broadcast to (n, n) in NumPy."""
    y_pred = np.full((n, 1), 0.25, dtype=F32)
    y_true = (np.arange(n) % 2).astype(F32)
    result: Any = "not called"
    with pytest.raises(sn.ShapeError, match=r"reshape\(-1, 1\)") as info:
        result = getattr(loss_class(), method)(y_pred, y_true)
    assert result == "not called"
    assert info.value.argument == "y_true"


def test_label_column_is_not_one_hot() -> None:
    """Integer labels written as a column (n, 1) are neither sparse nor one-hot for 3 classes."""
    with pytest.raises(sn.ShapeError):
        sn.CategoricalCrossentropy().calculate(probabilities(), labels().reshape(-1, 1))


def test_shape_error_is_a_value_error_and_a_type_error() -> None:
    assert issubclass(sn.ShapeError, ValueError)
    assert issubclass(sn.ShapeError, TypeError)
    with pytest.raises(sn.ShapeError) as info:
        sn.Dense(N_IN, N_OUT).forward(inputs(N_IN + 1))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TypeError)


def test_the_checkers_report_is_kept_not_chained() -> None:
    with pytest.raises(sn.ShapeError) as info:
        sn.BinaryCrossentropy().calculate(np.full((4, 1), 0.5, F32), np.zeros(4, F32))
    assert info.value.__cause__ is None
    assert "dimensions" in (info.value.checker_report or "")


SENTINEL = 123.456
INT_SENTINEL = 987654


def _with_sentinel(array: Any) -> Any:
    array = array.copy()
    array.flat[0] = SENTINEL
    return array


@pytest.mark.parametrize(
    "bad_call",
    [
        pytest.param(
            lambda: sn.Dense(N_IN, N_OUT).forward(_with_sentinel(inputs(N_IN + 1))), id="shape"
        ),
        pytest.param(
            lambda: sn.Dense(N_IN, N_OUT).forward(_with_sentinel(inputs()).astype(np.float64)),
            id="float_dtype",
        ),
        pytest.param(
            lambda: sn.ReLU().forward(np.full((BATCH, FEATURES), INT_SENTINEL)),
            id="int_dtype",
        ),
        pytest.param(lambda: sn.Softmax().forward(_with_sentinel(inputs())[0]), id="rank"),
        pytest.param(
            lambda: sn.Dense(N_IN, N_OUT).forward(_with_sentinel(inputs()).tolist()), id="list"
        ),
        pytest.param(
            lambda: sn.MeanSquaredError().calculate(
                unit_predictions(), _with_sentinel(binary_targets())[:, 0]
            ),
            id="targets",
        ),
    ],
)
def test_message_has_no_array_contents(bad_call: Callable[[], Any]) -> None:
    with pytest.raises(sn.ShapeError) as info:
        bad_call()
    message = str(info.value)
    assert "123.45" not in message
    assert str(INT_SENTINEL) not in message
