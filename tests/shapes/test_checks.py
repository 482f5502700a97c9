"""Run-time checks: the signature cache never skips a check that could fail, and turning checks
off is local to a thread or an asyncio task."""

import asyncio
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array1D, Array2D, cache_info, shapechecked

F32 = np.float32


@shapechecked
def positives(x: Float[Array1D, " n"]) -> Float[Array1D, " n"]:
    """Wrongly annotated on purpose: the result's length depends on the values."""
    return x[x > 0]


@shapechecked
def first(x: Float[Array1D, " n"], k: int) -> Float[Array1D, " n"]:
    """Wrongly annotated on purpose: the result's length depends on the int."""
    return x[:k]


@shapechecked
def selected(x: Float[Array1D, " n"]) -> Float[Array1D, " m"]:
    """Correctly annotated: ``m`` is bound by nothing but the result."""
    return x[x > 0]


def test_a_value_dependent_return_is_checked_on_every_call() -> None:
    assert positives(np.ones(3, F32)).shape == (3,)  # passes, and its signature is cached
    with pytest.raises(sn.ShapeError) as caught:
        positives(np.array([1, -1, 1], F32))  # same signature, shorter result
    message = str(caught.value)
    assert message.startswith("positives: `return value` expected (n=3,), got (2,) float32")
    assert "the function returned the wrong shape" in message


def test_a_return_that_depends_on_an_int_is_checked_on_every_call() -> None:
    assert first(np.ones(4, F32), 4).shape == (4,)
    with pytest.raises(sn.ShapeError, match=r"^first: `return value` .*`n` is 2 here but 4 in `x`"):
        first(np.ones(4, F32), 2)


def test_a_return_dim_bound_by_nothing_else_may_vary() -> None:
    assert selected(np.ones(3, F32)).shape == (3,)
    assert selected(np.array([1, -1, 1], F32)).shape == (2,)
    assert selected(np.array([1, -1, 1], F32)).shape == (2,)


def test_the_cache_can_be_inspected() -> None:
    @shapechecked
    def double(x: Float[Array2D, "a b"]) -> Float[Array2D, "a b"]:
        return 2 * x

    for _ in range(5):
        double(np.ones((2, 3), F32))
    double(np.ones((4, 3), F32))
    info = cache_info(double)
    assert (info.hits, info.misses, info.size) == (4, 2, 2)
    assert info.maxsize > 0
    total = cache_info()
    assert total.hits >= info.hits and total.size >= info.size
    with pytest.raises(TypeError, match="is not shape-checked"):
        cache_info(len)


def test_a_failing_call_is_never_cached() -> None:
    layer = sn.Dense(3, 2)
    before = cache_info(sn.Dense.forward)
    messages = set()
    for _ in range(3):
        with pytest.raises(sn.ShapeError) as caught:
            layer.forward(np.ones((4, 5), F32))
        messages.add(str(caught.value))
    after = cache_info(sn.Dense.forward)
    assert (after.misses - before.misses, after.size, after.hits) == (3, before.size, before.hits)
    assert len(messages) == 1  # the same full error each time


def test_checks_off_in_one_thread_leave_other_threads_checked() -> None:
    inside, done = threading.Event(), threading.Event()
    seen: list[BaseException | None] = []

    def lax() -> None:
        with sn.checks(False):
            inside.set()
            done.wait(5)

    def strict() -> None:
        inside.wait(5)
        try:
            sn.Dense(3, 2).forward(np.ones((4, 5), F32))
            seen.append(None)
        except BaseException as err:
            seen.append(err)
        finally:
            done.set()

    threads = [threading.Thread(target=lax), threading.Thread(target=strict)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 1 and isinstance(seen[0], sn.ShapeError)


def test_overlapping_blocks_in_two_threads_never_leave_checks_off() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with sn.checks(False):
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with sn.checks(False):
            b_in.set()
            a_out.wait(5)  # A leaves its block while B is still inside its own

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sn.checks_enabled()
    results: list[bool] = []
    probe = threading.Thread(target=lambda: results.append(sn.checks_enabled()))
    probe.start()
    probe.join()
    assert results == [True]


def test_checks_off_in_one_asyncio_task_leave_the_others_checked() -> None:
    async def lax(ready: asyncio.Event, finish: asyncio.Event) -> bool:
        with sn.checks(False):
            ready.set()
            await finish.wait()
            return sn.checks_enabled()

    async def strict(ready: asyncio.Event, finish: asyncio.Event) -> bool:
        await ready.wait()
        enabled = sn.checks_enabled()
        finish.set()
        return enabled

    async def main() -> tuple[bool, bool]:
        ready, finish = asyncio.Event(), asyncio.Event()
        results = await asyncio.gather(lax(ready, finish), strict(ready, finish))
        return results[0], results[1]

    assert asyncio.run(main()) == (False, True)


def test_the_environment_turns_checks_off_by_default() -> None:
    code = "import shapenn as sn; print(sn.checks_enabled())"
    env = {**os.environ, "SHAPENN_CHECKS": "0"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_forward_run_unchecked_does_not_make_backward_fail() -> None:
    layer = sn.Dense(3, 2)
    with sn.checks(False):
        layer.forward(np.ones((4, 3), F32))
    assert layer.backward(np.ones((4, 2), F32)).shape == (4, 3)


def test_backward_before_any_forward_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"Dense\(3 → 2\)\.backward called before forward"):
        sn.Dense(3, 2).backward(np.ones((4, 2), F32))


class Upcasting(sn.Layer):
    """A layer with the classic bug: ``np.ones(shape)`` is float64."""

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return inputs * np.ones(inputs.shape)

    def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return dvalues


def test_a_layer_that_upcasts_is_named_in_the_error() -> None:
    model = sn.Model([sn.Dense(2, 3, seed=0), Upcasting(), sn.Dense(3, 2, seed=1)])
    with pytest.raises(sn.ShapeError) as caught:
        model.predict(np.zeros((4, 2), np.float32))
    assert str(caught.value) == (
        "Upcasting().forward: `return value` expected dtype float32, got (4, 3) float64: it "
        "returned float64 from float32 `inputs`, which would silently turn everything after it "
        "into float64 (a bug in the function, not in its arguments).\n"
        "  hint: compute in the dtype of `inputs`: create arrays with `dtype=inputs.dtype` and "
        "write constants as `np.float32(...)`"
    )


def _calls(fn: object) -> int:
    info = cache_info(fn)  # type: ignore[arg-type]
    return info.hits + info.misses


def test_a_built_in_layer_checks_its_kernel_once_per_signature() -> None:
    # Dense vouches (kernels_keyed) that dense_forward gets only what Dense.forward's key
    # covers: once that key was checked, the kernel inside runs unchecked.
    from shapenn.layers._dense import dense_forward

    layer, x = sn.Dense(3, 2, seed=0), np.ones((4, 3), F32)
    layer.forward(x)
    before = _calls(dense_forward)
    for _ in range(3):
        layer.forward(x)
    assert _calls(dense_forward) == before
    layer.forward(np.ones((5, 3), F32))  # a new signature: checked in full, kernel too
    assert _calls(dense_forward) == before + 1


def test_a_subclass_that_overrides_forward_keeps_its_kernels_checked() -> None:
    # The promise is read from a class's own body: a subclass that gives its kernel an
    # undeclared array gets no such shortcut, so a wrong size of that array is still caught
    # where NumPy would broadcast it silently.
    from shapenn.layers._dense import dense_forward

    class Shifted(sn.Dense):
        def forward(self, inputs: Float[np.ndarray, "batch in"]) -> Float[np.ndarray, "batch out"]:
            return dense_forward(inputs, self.weights, self.shift)

    layer = Shifted(3, 2, seed=0)
    layer.shift = np.ones((1, 2), F32)
    x = np.ones((4, 3), F32)
    layer.forward(x)
    layer.forward(x)
    layer.shift = np.ones((1, 1), F32)  # not in the layer's key; (4, 2) + (1, 1) broadcasts
    with pytest.raises(sn.ShapeError, match=r"`biases` expected .* got \(1, 1\)"):
        layer.forward(x)
