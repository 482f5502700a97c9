"""A bounded fuzz of every public kernel of shapenn.functional, every loss's calculate, forward
and backward, every metric's calculate and update, and gradcheck's arguments: only shapenn's
documented errors come out, or a correct result.

Each example draws sizes and builds a valid call; half the time one argument is then broken —
an axis one larger or smaller, an axis more or less, another dtype, a list, NaN or infinite
values, or a hostile setting. A valid call must succeed and agree with a reference written
from the formula (loops and einsums that never broadcast); a broken one must either raise a
documented error or, if it succeeds, agree with the same reference (which raises on arrays
that do not belong together, so a silently broadcast result fails). Values are compared only
when every input is finite.

Raise SHAPENN_FUZZ_EXAMPLES for a longer campaign (the default keeps the suite fast).
"""

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shapenn as sn
import shapenn.functional as F

EXAMPLES = int(os.environ.get("SHAPENN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DOCUMENTED = (sn.ShapeError, sn.LabelError, sn.ArgumentError, sn.NotReadyError)

Array = Any
Draw = st.DataObject


@dataclass
class Case:
    """A call: its arguments, and the reference that computes what it must return (or raises
    when the arguments do not belong together)."""

    args: list[Any]
    reference: Callable[..., Any]
    arrays: tuple[int, ...]  # which arguments are arrays (the ones a mutation may break)
    settings: dict[int, list[Any]] | None = None  # hostile values for the other arguments
    invalid: bool = False  # broken already (values out of range): a refusal is right


def _values(
    data: Draw,
    shape: tuple[int, ...],
    dtype: Any = np.float32,
    low: float = -3.0,
    high: float = 3.0,
) -> Array:
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def _labels(data: Draw, shape: tuple[int, ...], classes: int) -> Array:
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return np.random.default_rng(seed).integers(0, classes, size=shape)


def _onehot(data: Draw, shape: tuple[int, ...], classes: int, dtype: Any = np.float32) -> Array:
    return np.eye(classes, dtype=dtype)[_labels(data, shape, classes)]


def _size(data: Draw, low: int = 1, high: int = 4) -> int:
    return data.draw(st.integers(low, high))


def _break(data: Draw, value: Array) -> Any:
    """``value`` broken one way: a shape, a dtype, a container or its values."""
    array = np.asarray(value)
    how = data.draw(
        st.sampled_from(
            ["grow", "shrink", "zero", "rank+", "rank-", "dtype", "list", "nan", "inf", "scalar"]
        )
    )
    if how in ("grow", "shrink", "zero") and array.ndim:
        axis = data.draw(st.integers(0, array.ndim - 1))
        shape = list(array.shape)
        shape[axis] = {"grow": shape[axis] + 1, "shrink": max(shape[axis] - 1, 0), "zero": 0}[how]
        return np.resize(array, shape).astype(array.dtype)
    if how == "rank+":
        return array[..., None]
    if how == "rank-" and array.ndim:
        return array.reshape(*array.shape[:-2], -1) if array.ndim > 1 else array[0]
    if how == "dtype":
        dtype = data.draw(st.sampled_from([np.float16, np.float64, np.int64, np.bool_]))
        return array.astype(dtype)
    if how == "list":
        return array.tolist()
    if how in ("nan", "inf") and array.size and array.dtype.kind == "f":
        broken = array.copy()
        broken.reshape(-1)[data.draw(st.integers(0, array.size - 1))] = (
            np.nan if how == "nan" else -np.inf
        )
        return broken
    return np.float32(1.0)


def _finite(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or bool(np.isfinite(value).all())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def _same(got: Any, expected: Any) -> None:
    """``got`` has ``expected``'s structure, shapes and (within float32's rounding) values."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _same(g, e)
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), type(got)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5)
        return
    assert got == pytest.approx(expected, rel=2e-4, abs=2e-5)


def _judge(data: Draw, case: Case, call: Callable[..., Any]) -> None:
    """Break one argument half the time; then the call must raise a documented error or agree
    with the reference, and an unbroken call must agree with it."""
    args = list(case.args)
    broken = data.draw(st.booleans(), label="broken")
    if broken:
        choices = [("array", i) for i in case.arrays]
        choices += [("setting", i) for i in (case.settings or {})]
        kind, index = data.draw(st.sampled_from(choices), label="break")
        if kind == "array":
            args[index] = _break(data, args[index])
        else:
            args[index] = data.draw(st.sampled_from((case.settings or {})[index]))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = call(*args)
        except DOCUMENTED:
            assert broken or case.invalid, "a valid call was refused"
            return
        if not all(_finite(a) for a in args):
            return  # NaN and inf propagate as they will; only the error class is judged
        try:
            expected = case.reference(*args)
        except (ValueError, TypeError, IndexError, AssertionError) as err:
            raise AssertionError(f"accepted arguments that do not belong together: {err}") from err
        _same(got, expected)


# --- references ------------------------------------------------------------------------------


def _floats(*arrays: Any) -> None:
    """What every Floating kernel needs: ndarrays of one float32/float64 dtype."""
    dtypes = {a.dtype for a in arrays if isinstance(a, np.ndarray)}
    assert all(isinstance(a, np.ndarray) for a in arrays) and len(dtypes) == 1
    assert dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}


def _dense_forward(x: Array, w: Array, b: Array) -> Array:
    _floats(x, w, b)
    assert b.ndim == 2 and b.shape[0] == 1 and x.ndim >= 2
    return np.einsum("...i,io->...o", x, w) + b[0]


def _dense_grads(dv: Array, x: Array, w: Array) -> tuple[Array, Array]:
    _floats(dv, x, w)
    assert x.shape[:-1] == dv.shape[:-1] and x.ndim >= 2
    dw = np.einsum("ni,no->io", _rows(x), _rows(dv))
    db = dv.reshape(-1, dv.shape[-1]).sum(axis=0, keepdims=True)
    return dw, db


def _dense_backward(dv: Array, x: Array, w: Array) -> tuple[Array, Array, Array]:
    return (np.einsum("...o,io->...i", dv, w), *_dense_grads(dv, x, w))


def _elementwise(fn: Callable[..., Array]) -> Callable[..., Array]:
    def reference(*arrays: Array) -> Array:
        _floats(*arrays)
        assert len({a.shape for a in arrays}) == 1
        return fn(*arrays)

    return reference


def _softmax(x: Array) -> Array:
    _floats(x)
    assert x.ndim >= 2
    shifted = np.exp(x - x.max(axis=-1, keepdims=True, initial=-np.inf))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _softmax_backward(dv: Array, s: Array) -> Array:
    _floats(dv, s)
    assert dv.shape == s.shape and s.ndim >= 2
    return s * (dv - (dv * s).sum(axis=-1, keepdims=True))


def _windows(x: Array, kh: int, kw: int, sh: int, sw: int) -> Array:
    """(b, c, oh, ow, kh, kw): every window, by loops over the output positions."""
    assert x.ndim == 4
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    assert oh >= 1 and ow >= 1
    out = np.empty((*x.shape[:2], oh, ow, kh, kw), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
    return out


def _im2col(x: Array, kh: int, kw: int, stride: Any, padding: Any) -> Array:
    xp = np.pad(x, ((0, 0), (0, 0), *padding))
    windows = _windows(xp, kh, kw, *stride)  # (b, c, oh, ow, kh, kw)
    b, c, oh, ow = windows.shape[:4]
    # Columns ordered (oh, ow, batch), as conv2d_forward documents.
    return windows.transpose(1, 4, 5, 2, 3, 0).reshape(c * kh * kw, oh * ow * b)


def _conv_forward(x: Array, w: Array, b: Array, stride: Any, padding: Any) -> tuple[Array, Array]:
    _floats(x, w, b)
    assert w.ndim == 4 and b.shape == (w.shape[0],) and x.shape[1] == w.shape[1]
    xp = np.pad(x, ((0, 0), (0, 0), *padding))
    windows = _windows(xp, w.shape[2], w.shape[3], *stride)
    outputs = np.einsum("bcyxkl,ockl->boyx", windows, w) + b[None, :, None, None]
    return outputs, _im2col(x, w.shape[2], w.shape[3], stride, padding)


def _conv_parameter_gradients(dv: Array, cols: Array, w: Array) -> tuple[Array, Array]:
    _floats(dv, cols, w)
    assert dv.ndim == 4 and w.ndim == 4 and dv.shape[1] == w.shape[0]
    planes = dv.transpose(1, 2, 3, 0).reshape(dv.shape[1], -1)
    assert cols.shape == (w.shape[1] * w.shape[2] * w.shape[3], planes.shape[1])
    return np.einsum("oq,pq->op", planes, cols).reshape(w.shape), planes.sum(axis=1)


def _conv_backward(
    dv: Array, x: Array, cols: Array, w: Array, stride: Any, padding: Any
) -> tuple[Array, Array, Array]:
    _floats(dv, x, cols, w)
    outputs, expected_cols = _conv_forward(x, w, np.zeros(w.shape[0], x.dtype), stride, padding)
    assert dv.shape == outputs.shape and cols.shape == expected_cols.shape
    (top, bottom), (left, right) = padding
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + top + bottom, x.shape[3] + left + right))
    (sh, sw), (kh, kw) = stride, w.shape[2:]
    for i in range(dv.shape[2]):
        for j in range(dv.shape[3]):
            dxp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += np.einsum(
                "bo,ockl->bckl", dv[:, :, i, j], w
            )
    dinputs = dxp[:, :, top : top + x.shape[2], left : left + x.shape[3]].astype(x.dtype)
    return (dinputs, *_conv_parameter_gradients(dv, cols, w))


def _pool_forward(kind: str) -> Callable[..., Array]:
    def reference(x: Array, pool: Any, stride: Any) -> Array:
        _floats(x)
        windows = _windows(x, *pool, *stride)
        return windows.max(axis=(4, 5)) if kind == "max" else windows.mean(axis=(4, 5))

    return reference


def _max_pool_backward(dv: Array, x: Array, out: Array, pool: Any, stride: Any) -> Array:
    _floats(dv, x, out)
    windows = _windows(x, *pool, *stride)
    assert dv.shape == out.shape == windows.shape[:4]
    dx = np.zeros_like(x)
    (kh, kw), (sh, sw) = pool, stride
    for index in np.ndindex(*dv.shape):
        b, c, y, z = index
        for i in range(kh):  # the first offset holding the max takes the gradient
            for j in range(kw):
                if x[b, c, y * sh + i, z * sw + j] == out[index]:
                    dx[b, c, y * sh + i, z * sw + j] += dv[index]
                    break
            else:
                continue
            break
    return dx


def _avg_pool_backward(dv: Array, x: Array, pool: Any, stride: Any) -> Array:
    _floats(dv, x)
    windows = _windows(x, *pool, *stride)
    assert dv.shape == windows.shape[:4]
    dx = np.zeros_like(x)
    (kh, kw), (sh, sw) = pool, stride
    for y in range(dv.shape[2]):
        for z in range(dv.shape[3]):
            dx[:, :, y * sh : y * sh + kh, z * sw : z * sw + kw] += dv[:, :, y, z, None, None] / (
                kh * kw
            )
    return dx


def _rows(p: Array) -> Array:
    return p.reshape(-1, p.shape[-1])


def _per_sample(values: Array, batch: int) -> Array:
    return values.reshape(batch, -1).mean(axis=1)


def _cce_sparse(p: Array, y: Array) -> Array:
    _floats(p)
    assert y.dtype.kind in "iu" and y.shape == p.shape[:-1] and p.ndim >= 2
    assert ((y >= 0) & (y < p.shape[-1])).all()
    picked = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]
    return _per_sample(-np.log(np.clip(picked, 1e-7, 1 - 1e-7)), p.shape[0])


def _cce_onehot(p: Array, y: Array) -> Array:
    _floats(p)
    assert y.shape == p.shape and p.ndim >= 2 and y.dtype.kind in "biuf"
    confidences = (np.clip(p, 1e-7, 1 - 1e-7) * y).sum(axis=-1)
    return _per_sample(-np.log(confidences), p.shape[0])


def _cce_sparse_backward(p: Array, y: Array) -> Array:
    _cce_sparse(p, y)
    onehot = np.eye(p.shape[-1], dtype=p.dtype)[y]
    return -onehot / np.clip(p, 1e-7, 1 - 1e-7) / max(y.size, 1)


def _cce_onehot_backward(p: Array, y: Array) -> Array:
    _cce_onehot(p, y)
    return -y / np.clip(p, 1e-7, 1 - 1e-7) / max(_rows(p).shape[0], 1)


def _fused_backward(p: Array, y: Array) -> Array:
    _floats(p)
    if y.ndim == p.ndim - 1:
        _cce_sparse(p, y)
        y = np.eye(p.shape[-1], dtype=p.dtype)[y]
    assert y.shape == p.shape and y.dtype.kind in "biuf"
    return (p - y) / max(_rows(p).shape[0], 1)


def _outputs_pair(p: Array, y: Array) -> None:
    _floats(p)
    assert y.shape == p.shape and p.ndim >= 2 and y.dtype.kind in "biuf"


def _bce(p: Array, y: Array) -> Array:
    _outputs_pair(p, y)
    q = np.clip(p, 1e-7, 1 - 1e-7)
    return _per_sample(-(y * np.log(q) + (1 - y) * np.log(1 - q)), p.shape[0])


def _bce_backward(p: Array, y: Array) -> Array:
    _outputs_pair(p, y)
    q = np.clip(p, 1e-7, 1 - 1e-7)
    return -(y / q - (1 - y) / (1 - q)) / max(p.size, 1)


def _mse(p: Array, y: Array) -> Array:
    _outputs_pair(p, y)
    return _per_sample((y - p) ** 2, p.shape[0])


def _mse_backward(p: Array, y: Array) -> Array:
    _outputs_pair(p, y)
    return 2 * (p - y) / max(p.size, 1)


def _mae(p: Array, y: Array) -> Array:
    _outputs_pair(p, y)
    return _per_sample(np.abs(y - p), p.shape[0])


def _mae_backward(p: Array, y: Array) -> Array:
    _outputs_pair(p, y)
    return np.sign(p - y) / max(p.size, 1)


def _flat(*arrays: Array, work: Array) -> int:
    _floats(*arrays, work)
    n = arrays[0].shape
    assert all(a.shape == n and a.ndim == 1 for a in arrays) and work.shape == (2, n[0])
    return n[0]


def _sgd(
    p: Array, g: Array, v: Array, np_: Array, nv: Array, work: Array, lr: float, momentum: float
) -> tuple[Array, Array]:
    _flat(p, g, v, np_, nv, work=work)
    velocity = momentum * v - lr * g
    return p + velocity, velocity


def _adagrad(
    p: Array, g: Array, c: Array, np_: Array, nc: Array, work: Array, lr: float, eps: float
) -> tuple[Array, Array]:
    _flat(p, g, c, np_, nc, work=work)
    cache = c + g * g
    return p - lr * g / (np.sqrt(cache) + eps), cache


def _rmsprop(
    p: Array,
    g: Array,
    c: Array,
    np_: Array,
    nc: Array,
    work: Array,
    lr: float,
    eps: float,
    rho: float,
) -> tuple[Array, Array]:
    _flat(p, g, c, np_, nc, work=work)
    cache = rho * c + (1 - rho) * g * g
    return p - lr * g / (np.sqrt(cache) + eps), cache


def _adam(
    p: Array,
    g: Array,
    m: Array,
    v: Array,
    np_: Array,
    nm: Array,
    nv: Array,
    work: Array,
    step: int,
    lr: float,
    b1: float,
    b2: float,
    eps: float,
) -> tuple[Array, Array, Array]:
    _flat(p, g, m, v, np_, nm, nv, work=work)
    m2, v2 = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    t = step + 1
    return p - lr * (m2 / (1 - b1**t)) / (np.sqrt(v2 / (1 - b2**t)) + eps), m2, v2


# --- the calls ---------------------------------------------------------------------------------

HOSTILE_PAIRS = [(0, 1), (2, -1), (1,), (2.0, 2), "2", None, (np.int64(1), np.int64(1)), 3]
HOSTILE_PADDING = [((0, 0),), ((-1, 0), (0, 0)), ((0, 0), (0, 1.5)), 0, None, ((0, 0), (0, 0, 0))]
HOSTILE_RATES = [1.0, -0.1, float("nan"), "0.5", None, np.float32(0.25)]
HOSTILE_FACTORS = [-1.0, float("nan"), float("inf"), "1", None, np.float64(0.5)]


def _batch_shape(data: Draw) -> tuple[int, ...]:
    """(batch, *positions): 1-4 samples, and none or one axis of positions."""
    return (_size(data), *([_size(data)] if data.draw(st.booleans()) else []))


def _conv_sizes(data: Draw) -> tuple[Any, ...]:
    kh, kw, sh, sw = _size(data, 1, 3), _size(data, 1, 3), _size(data, 1, 2), _size(data, 1, 2)
    padding = ((_size(data, 0, 1), _size(data, 0, 1)), (_size(data, 0, 1), _size(data, 0, 1)))
    h = _size(data, max(kh - sum(padding[0]), 1), 6)
    w = _size(data, max(kw - sum(padding[1]), 1), 6)
    return _size(data, 1, 2), _size(data, 1, 3), _size(data, 1, 3), h, w, kh, kw, (sh, sw), padding


def _pool_sizes(data: Draw) -> tuple[Any, ...]:
    kh, kw, sh, sw = _size(data, 1, 3), _size(data, 1, 3), _size(data, 1, 3), _size(data, 1, 3)
    return (
        _size(data, 1, 2),
        _size(data, 1, 2),
        _size(data, kh, 6),
        _size(data, kw, 6),
        (kh, kw),
        (
            sh,
            sw,
        ),
    )


def _case(name: str, data: Draw) -> Case:
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    if name in ("dense_forward", "dense_backward", "dense_parameter_gradients"):
        lead, n_in, n_out = _batch_shape(data), _size(data), _size(data)
        x, w = _values(data, (*lead, n_in), dtype), _values(data, (n_in, n_out), dtype)
        if name == "dense_forward":
            return Case([x, w, _values(data, (1, n_out), dtype)], _dense_forward, (0, 1, 2))
        dv = _values(data, (*lead, n_out), dtype)
        reference = _dense_backward if name == "dense_backward" else _dense_grads
        return Case([dv, x, w], reference, (0, 1, 2))
    elementwise = {
        "relu": (lambda x: np.maximum(x, 0), lambda dv, x: dv * (x > 0)),
        "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda dv, s: dv * s * (1 - s)),
        "tanh": (np.tanh, lambda dv, t: dv * (1 - t * t)),
        "identity": (lambda x: x, lambda dv, x: dv),
    }
    stem, _, direction = name.rpartition("_")
    if stem in elementwise:
        shape = tuple(_size(data, 1, 3) for _ in range(_size(data, 1, 3)))
        x = _values(data, shape, dtype)
        forward, backward = elementwise[stem]
        if direction == "forward":
            return Case([x], _elementwise(forward), (0,))
        return Case([_values(data, shape, dtype), x], _elementwise(backward), (0, 1))
    if name in ("softmax_forward", "softmax_backward"):
        shape = (*_batch_shape(data), _size(data))
        x = _values(data, shape, dtype)
        if name == "softmax_forward":
            return Case([x], _softmax, (0,))
        return Case([_values(data, shape, dtype), _softmax(x)], _softmax_backward, (0, 1))
    if name in ("flatten_forward", "flatten_backward"):
        shape = (_size(data), *(_size(data, 1, 3) for _ in range(_size(data, 0, 3))))
        x = _values(data, shape, dtype)

        def flatten(x: Array) -> Array:
            _floats(x)
            assert x.ndim >= 1
            return x.reshape(x.shape[0], math.prod(x.shape[1:]))

        if name == "flatten_forward":
            return Case([x], flatten, (0,))

        def unflatten(dv: Array, x: Array) -> Array:
            _floats(dv, x)
            assert dv.shape == flatten(x).shape
            return dv.reshape(x.shape)

        return Case([_values(data, flatten(x).shape, dtype), x], unflatten, (0, 1))
    if name in ("dropout_forward", "dropout_backward"):
        shape = tuple(_size(data, 1, 3) for _ in range(_size(data, 1, 3)))
        x = _values(data, shape, dtype)
        rate = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.9]))
        if name == "dropout_forward":

            def dropout(x: Array, rate: float, rng: Any) -> tuple[Array, Array]:
                _floats(x)
                assert 0 <= rate < 1 and isinstance(rng, np.random.Generator)
                _, mask = F.dropout_forward(x, rate, np.random.default_rng(0))
                kept = np.isin(mask, [0, 1 / (1 - rate)]) | np.isclose(mask, 1 / (1 - rate))
                assert kept.all() and mask.dtype == x.dtype
                return x * mask, mask

            return Case(
                [x, rate, np.random.default_rng(0)],
                dropout,
                (0,),
                {1: HOSTILE_RATES, 2: [None, 0, "rng"]},
            )
        mask = (_values(data, shape, dtype) > 0) / np.asarray(1 - rate, dtype)
        return Case(
            [_values(data, shape, dtype), mask.astype(dtype)],
            _elementwise(lambda dv, m: dv * m),
            (0, 1),
        )
    if name in ("regularization_penalty", "regularization_gradient"):
        shape = tuple(_size(data, 1, 3) for _ in range(_size(data, 1, 3)))
        l1, l2 = (
            data.draw(st.sampled_from([0.0, 1e-3, 0.5])),
            data.draw(st.sampled_from([0.0, 1e-3, 0.5])),
        )

        def penalty(p: Array, l1: float, l2: float) -> Any:
            _floats(p)
            assert l1 >= 0 and l2 >= 0
            if name == "regularization_penalty":
                return l1 * float(np.abs(p).sum()) + l2 * float((p * p).sum())
            return l1 * np.sign(p) + 2 * l2 * p

        hostile = {1: HOSTILE_FACTORS, 2: HOSTILE_FACTORS}
        return Case([_values(data, shape, dtype), l1, l2], penalty, (0,), hostile)
    if name.startswith("conv2d"):
        b, c, o, h, w, kh, kw, stride, padding = _conv_sizes(data)
        x, weights = _values(data, (b, c, h, w), dtype), _values(data, (o, c, kh, kw), dtype)
        biases = _values(data, (o,), dtype)
        hostile = {3: HOSTILE_PAIRS, 4: HOSTILE_PADDING}
        if name == "conv2d_forward":
            return Case([x, weights, biases, stride, padding], _conv_forward, (0, 1, 2), hostile)
        outputs, cols = _conv_forward(x, weights, biases, stride, padding)
        dv = _values(data, outputs.shape, dtype)
        if name == "conv2d_parameter_gradients":
            return Case([dv, cols.astype(dtype), weights], _conv_parameter_gradients, (0, 1, 2))
        return Case(
            [dv, x, cols.astype(dtype), weights, stride, padding],
            _conv_backward,
            (0, 1, 2, 3),
            {4: HOSTILE_PAIRS, 5: HOSTILE_PADDING},
        )
    if "pool2d" in name:
        b, c, h, w, pool, stride = _pool_sizes(data)
        x = _values(data, (b, c, h, w), dtype)
        kind = name[:3]
        outputs = _pool_forward(kind)(x, pool, stride)
        if name.endswith("forward"):
            return Case(
                [x, pool, stride], _pool_forward(kind), (0,), {1: HOSTILE_PAIRS, 2: HOSTILE_PAIRS}
            )
        dv = _values(data, outputs.shape, dtype)
        if kind == "max":
            return Case(
                [dv, x, outputs.astype(dtype), pool, stride],
                _max_pool_backward,
                (0, 1, 2),
                {3: HOSTILE_PAIRS, 4: HOSTILE_PAIRS},
            )
        return Case(
            [dv, x, pool, stride], _avg_pool_backward, (0, 1), {2: HOSTILE_PAIRS, 3: HOSTILE_PAIRS}
        )
    if name.startswith(("categorical_crossentropy", "softmax_crossentropy")):
        lead, classes = _batch_shape(data), _size(data, 2, 4)
        p = _softmax(_values(data, (*lead, classes), dtype))
        sparse = "sparse" in name or (name.startswith("softmax") and data.draw(st.booleans()))
        y = _labels(data, lead, classes) if sparse else _onehot(data, lead, classes, dtype)
        references = {
            "categorical_crossentropy_sparse": _cce_sparse,
            "categorical_crossentropy_onehot": _cce_onehot,
            "categorical_crossentropy_sparse_backward": _cce_sparse_backward,
            "categorical_crossentropy_onehot_backward": _cce_onehot_backward,
            "softmax_crossentropy_backward": _fused_backward,
        }
        return Case([p, y], references[name], (0, 1))
    if name.startswith(("binary_crossentropy", "mean_")):
        shape = (*_batch_shape(data), _size(data))
        p = _values(data, shape, dtype, 0.0, 1.0)
        y = (_values(data, shape, dtype, 0.0, 1.0) > 0.5).astype(
            data.draw(st.sampled_from([dtype, np.int64]))
        )
        references = {
            "binary_crossentropy": _bce,
            "binary_crossentropy_backward": _bce_backward,
            "mean_squared_error": _mse,
            "mean_squared_error_backward": _mse_backward,
            "mean_absolute_error": _mae,
            "mean_absolute_error_backward": _mae_backward,
        }
        return Case([p, y], references[name], (0, 1))
    n = _size(data, 1, 6)
    flat = [_values(data, (n,), dtype) for _ in range(8)]
    flat[2] = np.abs(flat[2])  # a cache is a sum of squares
    work = np.zeros((2, n), dtype)
    lr = data.draw(st.sampled_from([0.0, 1e-3, 0.1]))
    if name == "sgd_update":
        return Case(
            [*flat[:5], work, lr, 0.9],
            _sgd,
            (0, 1, 2, 3, 4, 5),
            {6: HOSTILE_FACTORS, 7: HOSTILE_FACTORS},
        )
    if name == "adagrad_update":
        return Case([*flat[:5], work, lr, 1e-7], _adagrad, (0, 1, 2, 3, 4, 5))
    if name == "rmsprop_update":
        return Case([*flat[:5], work, lr, 1e-7, 0.9], _rmsprop, (0, 1, 2, 3, 4, 5))
    assert name == "adam_update", name
    flat[3] = np.abs(flat[3])
    return Case([*flat[:7], work, 3, lr, 0.9, 0.999, 1e-7], _adam, (0, 1, 2, 3, 4, 5, 6, 7))


def _updated(name: str) -> Callable[..., Any]:
    """An update rule as a function of its arguments that returns what it wrote."""
    kernel = getattr(F, name)
    outputs = {
        "sgd_update": (3, 4),
        "adagrad_update": (3, 4),
        "rmsprop_update": (3, 4),
        "adam_update": (4, 5, 6),
    }[name]

    def call(*args: Any) -> tuple[Array, ...]:
        result = kernel(*args)
        assert result is None
        return tuple(np.asarray(args[i]) for i in outputs)

    return call


def test_every_public_kernel_is_fuzzed() -> None:
    assert set(F.__all__) == set(KERNELS), set(F.__all__) ^ set(KERNELS)


KERNELS = sorted(F.__all__)


@pytest.mark.parametrize("name", KERNELS)
@FUZZ
@given(data=st.data())
def test_public_kernels_refuse_with_documented_errors_or_compute_the_formula(
    name: str, data: Draw
) -> None:
    case = _case(name, data)
    call = _updated(name) if name.endswith("_update") else getattr(F, name)
    _judge(data, case, call)


# --- losses and metrics ------------------------------------------------------------------------

LOSSES: dict[str, tuple[Callable[[], Any], Callable[..., Any], Callable[..., Any]]] = {
    "BinaryCrossentropy": (sn.BinaryCrossentropy, _bce, _bce_backward),
    "MeanSquaredError": (sn.MeanSquaredError, _mse, _mse_backward),
    "MeanAbsoluteError": (sn.MeanAbsoluteError, _mae, _mae_backward),
}


def _class_targets(data: Draw, p: Array) -> Array:
    lead, classes = p.shape[:-1], p.shape[-1]
    if data.draw(st.booleans()):
        return _labels(data, lead, classes)
    return _onehot(data, lead, classes, data.draw(st.sampled_from([p.dtype, np.int64])))


@pytest.mark.parametrize(
    "method",
    [
        "BinaryCrossentropy",
        "MeanSquaredError",
        "MeanAbsoluteError",
        "CategoricalCrossentropy",
        "SoftmaxCategoricalCrossentropy",
    ],
)
@FUZZ
@given(data=st.data())
def test_losses_refuse_with_documented_errors_or_compute_the_formula(
    method: str, data: Draw
) -> None:
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    which = data.draw(st.sampled_from(["calculate", "forward", "backward"]))
    # Targets out of the loss's range (a BCE target of 2, a one-hot row [2, -1]) half the time:
    # the classes refuse them, while the kernels compute their formula for any values.
    outside = data.draw(st.booleans(), label="targets outside their range")
    if method in LOSSES:
        make, forward, backward = LOSSES[method]
        shape = (*_batch_shape(data), _size(data))
        p = _values(data, shape, dtype, 0.0, 1.0)
        y = (_values(data, shape, dtype, 0.0, 1.0) > 0.5).astype(dtype)
        y = y * 3 - 1 if outside else y

        def in_range(p: Array, y: Array) -> None:
            if method == "BinaryCrossentropy":
                assert ((y >= 0) & (y <= 1)).all(), "a BCE target outside [0, 1] was accepted"

        reference = {
            "calculate": lambda p, y: in_range(p, y) or float(np.mean(forward(p, y))),
            "forward": lambda p, y: in_range(p, y) or forward(p, y),
            "backward": lambda p, y: in_range(p, y) or backward(p, y),
        }[which]
        case = Case([p, y], reference, (0, 1), invalid=outside and method == "BinaryCrossentropy")
        _judge(data, case, getattr(make(), which))
        return
    lead, classes = _batch_shape(data), _size(data, 2, 4)
    logits = _values(data, (*lead, classes), dtype)
    p = _softmax(logits)
    y = _class_targets(data, p)
    outside = outside and y.ndim == p.ndim  # labels out of range are the kernels' own check
    y = y * 3 - 1 if outside else y

    def cce(p: Array, y: Array) -> Array:
        if y.ndim == p.ndim - 1:
            return _cce_sparse(p, y)
        rows = _rows(y)
        assert ((rows >= 0) & (rows <= 1)).all() and np.allclose(rows.sum(axis=1), 1), y
        return _cce_onehot(p, y)

    def cce_backward(p: Array, y: Array) -> Array:
        if y.ndim == p.ndim - 1:
            return _cce_sparse_backward(p, y)
        cce(p, y)  # the range
        return _cce_onehot_backward(p, y)

    if method == "CategoricalCrossentropy":
        reference = {
            "calculate": lambda p, y: float(np.mean(cce(p, y))),
            "forward": cce,
            "backward": cce_backward,
        }[which]
        case = Case([p, y], reference, (0, 1), invalid=outside)
        _judge(data, case, getattr(sn.CategoricalCrossentropy(), which))
        return
    loss = sn.SoftmaxCategoricalCrossentropy()
    if which == "backward":
        fused = lambda p, y: (cce(p, y), _fused_backward(p, y))[1]  # noqa: E731
        _judge(data, Case([p, y], fused, (0, 1), invalid=outside), loss.backward)
        return
    reference = lambda z, y: float(np.mean(cce(_softmax(z), y)))  # noqa: E731
    _judge(data, Case([logits, y], reference, (0, 1), invalid=outside), loss.forward)


def _accuracy(p: Array, y: Array) -> float:
    _floats(p)
    labels = y if y.ndim == p.ndim - 1 else None
    if labels is None:
        assert y.shape == p.shape
        labels = np.argmax(y, axis=-1)
    assert labels.dtype.kind in "iu" and labels.shape == p.shape[:-1] and p.size
    assert ((labels >= 0) & (labels < p.shape[-1])).all()
    return float(np.mean(np.argmax(p, axis=-1) == labels))


def _counts(p: Array, y: Array) -> Array:
    _floats(p)
    if p.shape[-1] == 1:  # one sigmoid output: two classes
        y = y[..., 0] if y.ndim == p.ndim else y
        assert np.isin(y, [0, 1]).all()
        p, y = np.concatenate((1 - p, p), axis=-1), y.astype(np.int64)
    labels = y if y.ndim == p.ndim - 1 else None
    if labels is None:
        assert y.shape == p.shape
        labels = np.argmax(y, axis=-1)
    assert labels.shape == p.shape[:-1] and ((labels >= 0) & (labels < p.shape[-1])).all()
    classes = p.shape[-1]
    counts = np.zeros((classes, classes), np.int64)
    np.add.at(counts, (labels.reshape(-1), np.argmax(p, axis=-1).reshape(-1)), 1)
    assert counts.sum()
    return counts


def _macro(kind: str) -> Callable[..., float]:
    def reference(p: Array, y: Array) -> float:
        counts = _counts(p, y)
        tp = np.diag(counts).astype(float)
        denominator = {
            "precision": counts.sum(axis=0),
            "recall": counts.sum(axis=1),
            "f1": (counts.sum(axis=0) + counts.sum(axis=1)) / 2,
        }[kind]
        return float(
            np.mean(np.divide(tp, denominator, out=np.zeros_like(tp), where=denominator > 0))
        )

    return reference


def _top_k(k: int) -> Callable[..., float]:
    def reference(p: Array, y: Array) -> float:
        counts = _counts(p, y)  # checks the arrays
        if p.shape[-1] == 1:
            p = np.concatenate((1 - p, p), axis=-1)
            y = (y[..., 0] if y.ndim == p.ndim else y).astype(np.int64)
        labels = y if y.ndim == p.ndim - 1 else np.argmax(y, axis=-1)
        rows, flat = _rows(p), labels.reshape(-1)
        assert k <= rows.shape[1] and counts.sum() == flat.size
        hits = 0
        for row, label in zip(rows, flat, strict=True):  # ties: the lower class first
            ahead = sum(
                1 for c, v in enumerate(row) if v > row[label] or (v == row[label] and c < label)
            )
            hits += ahead < k
        return hits / flat.size

    return reference


def _binary(threshold: float) -> Callable[..., float]:
    def reference(p: Array, y: Array) -> float:
        _outputs_pair(p, y)
        assert p.size
        return float(np.mean((p > threshold) == (y > 0.5)))

    return reference


def _regression(precision: float) -> Callable[..., float]:
    def reference(p: Array, y: Array) -> float:
        _outputs_pair(p, y)
        assert p.size
        error = np.abs(p - y)
        return float(np.mean((error < precision) | (error == 0)))

    return reference


METRICS: dict[str, tuple[Callable[[], Any], Callable[..., float], str]] = {
    "CategoricalAccuracy": (sn.CategoricalAccuracy, _accuracy, "classes"),
    "BinaryAccuracy": (lambda: sn.BinaryAccuracy(0.5), _binary(0.5), "outputs"),
    "RegressionAccuracy": (lambda: sn.RegressionAccuracy(0.1), _regression(0.1), "values"),
    "Precision": (sn.Precision, _macro("precision"), "classes"),
    "Recall": (sn.Recall, _macro("recall"), "classes"),
    "F1": (sn.F1, _macro("f1"), "classes"),
    "TopKAccuracy": (lambda: sn.TopKAccuracy(2), _top_k(2), "classes"),
    "ConfusionMatrix": (
        sn.ConfusionMatrix,
        lambda p, y: float(np.trace(_counts(p, y)) / _counts(p, y).sum()),
        "classes",
    ),
}


@pytest.mark.parametrize("metric", sorted(METRICS))
@FUZZ
@given(data=st.data())
def test_metrics_refuse_with_documented_errors_or_compute_the_formula(
    metric: str, data: Draw
) -> None:
    make, reference, kind = METRICS[metric]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    lead = _batch_shape(data)
    if kind == "classes":
        sigmoid = metric != "CategoricalAccuracy" and data.draw(st.booleans())
        classes = 1 if sigmoid else _size(data, 2, 4)
        p = _values(data, (*lead, classes), dtype, 0.0, 1.0)
        y = _labels(data, lead, 2) if sigmoid else _class_targets(data, p)
    else:
        p = _values(data, (*lead, _size(data)), dtype, 0.0, 1.0)
        y = (p + _values(data, p.shape, dtype, -0.15, 0.15)).round(1).astype(dtype)
    instance = make()
    if data.draw(st.booleans()):
        _judge(data, Case([p, y], reference, (0, 1)), instance.calculate)
        return

    def update(p: Any, y: Any) -> float:
        instance.reset()
        instance.update(p, y)
        figure: float = instance.result()
        return figure

    _judge(data, Case([p, y], reference, (0, 1)), update)


# --- gradcheck's arguments ----------------------------------------------------------------------

GRADCHECK_OPTIONS = {
    "eps": [1e-5, 1e-4, np.float32(1e-6), 0.0, -1e-5, 1e10, float("nan"), 1e-12, "1e-5", None],
    "tolerance": [1e-6, 1e-3, 0.0, 1.0, -1.0, float("nan"), float("inf"), "small"],
    "max_entries": [None, 1, 3, np.int64(2), 0, -1, 2.5, True, "all"],
    "seed": [0, 7, np.int32(3), None, -1, "abc", 1.5],
    "raise_on_failure": [True, False, np.bool_(True), "yes", 1],
}


@FUZZ
@given(data=st.data())
def test_gradcheck_refuses_its_arguments_with_documented_errors_or_checks_correctly(
    data: Draw,
) -> None:
    options = {
        name: data.draw(st.sampled_from(values), label=name)
        for name, values in GRADCHECK_OPTIONS.items()
        if data.draw(st.booleans(), label=f"give {name}")
    }
    target = data.draw(st.sampled_from(["dense", "model", "string", "class"]))
    X = _values(data, (_size(data), 2), np.float64)
    y = None
    if target == "dense":
        checked: Any = sn.Dense(2, 3, seed=0)
    elif target == "model":
        checked = sn.Model(
            [sn.Dense(2, 3, seed=0), sn.Softmax()], loss=sn.CategoricalCrossentropy()
        )
        y = _labels(data, (X.shape[0],), 3)
    else:
        checked = "dense" if target == "string" else sn.Dense
    if data.draw(st.booleans()):
        X = _break(data, X)
    try:
        result = sn.gradcheck(checked, X, y, **options)
    except DOCUMENTED:
        return
    except sn.GradcheckError as err:  # a right gradient fails only with no tolerance to spare
        assert options.get("tolerance") == 0.0, str(err)
        return
    # Accepted: the arguments were valid, and a right gradient passes.
    assert target in ("dense", "model")
    assert result.ok or options.get("tolerance") == 0.0, str(result)
    assert result.errors and all(math.isfinite(e) for e in result.errors.values())
