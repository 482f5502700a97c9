"""The elementwise kernels and the pools give NumPy's own values whatever the memory layout of
their input: C order, Fortran order, a convolution's batch-last output, strided views."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import shapenn as sn
import shapenn.functional as F

Array = np.ndarray[Any, np.dtype[Any]]


def _layouts(shape: tuple[int, ...], dtype: Any) -> list[Array]:
    rng = np.random.default_rng(0)
    base = rng.standard_normal(shape).astype(dtype)
    base.flat[:4] = [np.nan, -0.0, np.inf, -np.inf]
    batch_last = np.ascontiguousarray(np.moveaxis(base, 0, -1))
    return [
        base,
        np.asfortranarray(base),
        np.moveaxis(batch_last, -1, 0),  # a convolution's output, seen as NCHW
        np.repeat(base, 2, axis=-1)[..., ::2],  # strided: gaps between values
        base[::-1],  # a negative stride
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 6, 24, 24), (3, 5), (40000,), (1, 1)])
def test_relu_forward_is_numpys_maximum_bit_for_bit(shape: tuple[int, ...], dtype: Any) -> None:
    for inputs in _layouts(shape, dtype):
        with np.errstate(invalid="ignore"):
            got, expected = F.relu_forward(inputs), np.maximum(inputs, 0)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        assert np.array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize(
    ("layer", "reference"),
    [
        (sn.MaxPool2D(2), lambda x: x.reshape(*x.shape[:2], 4, 2, 4, 2).max(axis=(3, 5))),
        (sn.AvgPool2D(2), lambda x: x.reshape(*x.shape[:2], 4, 2, 4, 2).mean(axis=(3, 5))),
    ],
)
def test_pools_take_any_layout(layer: sn.Layer, reference: Callable[[Array], Array]) -> None:
    for inputs in _layouts((5, 3, 8, 8), np.float32)[1:4]:
        inputs = np.nan_to_num(inputs, nan=0.0, posinf=3.0, neginf=-3.0)
        np.testing.assert_allclose(layer.forward(inputs), reference(inputs), rtol=1e-5, atol=1e-6)
        dinputs = layer.backward(np.ones((5, 3, 4, 4), np.float32))
        assert dinputs.shape == inputs.shape
        np.testing.assert_allclose(dinputs.sum(), 5 * 3 * 4 * 4, rtol=1e-6)
