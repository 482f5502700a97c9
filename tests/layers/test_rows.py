"""The reductions done as matrix products (LayerNorm's means, attention's row sums) against
NumPy's own: the same values to rounding, the same shapes and dtypes, NaN and infinity where
NumPy puts them, over random shapes and layouts."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapenn.layers._rows import SHORT, column_sums, row_means, row_sums

shapes = st.lists(st.integers(0, 9), min_size=1, max_size=4).map(tuple)
dtypes = st.sampled_from([np.float32, np.float64])


def _close(got: Any, want: Any) -> None:
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    tolerance = 1e-5 if want.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**32 - 1), transposed=st.booleans())
def test_row_reductions_match_numpy(
    shape: tuple[int, ...], dtype: Any, seed: int, transposed: bool
) -> None:
    array = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    if transposed:  # a view whose rows are not contiguous
        array = array.T
    _close(row_sums(array), array.sum(axis=-1, keepdims=True))
    if array.shape[-1]:
        _close(row_means(array), array.mean(axis=-1, keepdims=True))
    if array.ndim == 2:
        _close(column_sums(array), array.sum(axis=0))


def test_row_reductions_carry_nan_and_infinity_as_numpy_does() -> None:
    array = np.ones((4, 5), np.float32)
    array[1, 2] = np.nan
    array[2, 0] = np.inf
    array[3, :2] = np.inf, -np.inf
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(row_sums(array), array.sum(axis=-1, keepdims=True))
        np.testing.assert_array_equal(column_sums(array), array.sum(axis=0))


@pytest.mark.parametrize("width", [SHORT, SHORT + 1, 100_000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_long_row_sums_within_a_few_ulps_of_its_length(width: int, dtype: Any) -> None:
    """Short rows through BLAS (a few running sums), long ones through NumPy's pairwise sum:
    a row of 0.1s, the worst case for running sums, is summed within 1e-5 (float32) of the
    exact sum up to `SHORT` values, and within 1e-6 beyond, however long the row."""
    array = np.full((2, width), 0.1, dtype)
    exact = width * float(dtype(0.1))
    error = abs(float(row_sums(array)[0, 0]) - exact) / exact
    if dtype == np.float64:
        assert error <= 1e-13
    else:
        assert error <= (1e-5 if width <= SHORT else 1e-6)
