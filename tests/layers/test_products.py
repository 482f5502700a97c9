"""The convolutions' long, thin products computed in blocks: the same values as one NumPy
product (to the rounding of a different order of sums), in blocks and in one piece, over random
shapes; blocks only where OpenBLAS reports its small-matrix kernels."""

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shapenn._threads import blas_libraries
from shapenn.layers import _products
from shapenn.layers._conv import conv2d_backward, conv2d_forward


@pytest.fixture(params=[True, False], ids=["blocks", "one-product"])
def small_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Blocks of a few hundred to a few thousand columns (the limits lowered so that small
    arrays make several of them), or never any."""
    monkeypatch.setattr(_products, "blocked", lambda: request.param)
    monkeypatch.setattr(_products, "SMALL", 20_000)
    monkeypatch.setattr(_products, "_LEAST", 64)
    return bool(request.param)


def _close(got: Any, want: Any) -> None:
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    tolerance = 2e-5 if want.dtype == np.float32 else 1e-12
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * scale)


# The fixture's patch holds for every example alike: sharing it is what is meant.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(1, 12),
    inner=st.integers(1, 30),
    columns=st.integers(0, 1_500),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_products_match_numpy(
    small_blocks: bool, rows: int, inner: int, columns: int, dtype: Any, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rows, inner)).astype(dtype)
    b = rng.normal(size=(inner, columns)).astype(dtype)
    _close(_products.product(a, b), a @ b)
    other = rng.normal(size=(inner + 1, columns)).astype(dtype)
    _close(_products.product_t(b, other), b @ other.T)


def test_blocks_are_used_and_ragged_at_the_end(small_blocks: bool) -> None:
    """With the lowered limit, 5,000 columns of a (4, 3) product make blocks of 1,664 columns,
    the last of 8 (and of 2,176 for the (3, 3) sum, the last of 648): every column lands
    where one product puts it (small integers: exact in float32, whatever the order of the
    sums)."""
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    b = (np.arange(15_000) % 7).astype(np.float32).reshape(3, 5_000)
    np.testing.assert_array_equal(_products.product(a, b), a @ b)
    np.testing.assert_array_equal(_products.product_t(b, b), b @ b.T)


def test_a_convolution_in_blocks_matches_one_product(small_blocks: bool) -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(5, 3, 11, 9)).astype(np.float32)
    weights = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    biases = rng.normal(size=4).astype(np.float32)
    padding = ((1, 1), (0, 0))
    outputs, cols = conv2d_forward(inputs, weights, biases, (1, 2), padding)
    dvalues = rng.normal(size=outputs.shape).astype(np.float32)
    grads = conv2d_backward(dvalues, inputs, cols, weights, (1, 2), padding)
    # the same convolution through PyTorch-free reference arithmetic: one einsum per output
    padded = np.pad(inputs, ((0, 0), (0, 0), (1, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))[:, :, :, ::2]
    want = np.einsum("bchwij,ocij->bohw", windows, weights) + biases[:, None, None]
    _close(outputs, want)
    _close(grads[1], np.einsum("bchwij,bohw->ocij", windows, dvalues))
    _close(grads[2], dvalues.sum(axis=(0, 2, 3)))


@pytest.mark.skipif(
    not any(lib.internal_api == "openblas" for lib in blas_libraries()),
    reason="NumPy's BLAS is not OpenBLAS",
)
@pytest.mark.parametrize(("core", "blocks"), [("Haswell", False), ("SkylakeX", True)])
def test_blocks_only_on_openblas_small_matrix_kernels(core: str, blocks: bool) -> None:
    """OpenBLAS reports the kernels it picked: blocks with its AVX-512 ones, none with AVX2."""
    code = "from shapenn.layers._products import blocked; print(blocked())"
    env = {**os.environ, "OPENBLAS_CORETYPE": core}
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    probe = "import numpy, threadpoolctl; print(threadpoolctl.threadpool_info()[0]['architecture'])"
    picked = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    if picked != core:  # a core this CPU cannot run: OpenBLAS picked another
        pytest.skip(f"OpenBLAS runs {picked} kernels here, not {core}")
    assert found == str(blocks)
