"""Assertions that each output depends only on the inputs it may: its own sample's (batch
independence) and, in a sequence model, its own and earlier positions' (causality).

Both perturb the inputs and watch the outputs, forward only, on a copy of the layer or model in
inference mode (the original is not touched):

* `assert_batch_independent` changes one sample at a time and requires every *other* sample's
  output to stay as it was. It catches a statistic taken over the batch axis (a hand-written
  norm's ``mean(axis=0)``) and a reshape that moves values between samples.
* `assert_causal` changes one position (axis 1) at a time and requires the outputs at every
  *earlier* position to stay as they were. It catches a missing or transposed causal mask and
  attention heads merged without moving the heads axis back first: ``(batch, heads, seq, d)``
  reshaped straight to ``(batch, seq, heads·d)`` puts several positions of one head in each
  output position.

Integer inputs (token ids) are changed to another valid id — one of ``[0, vocab_size)`` when the
first layer is an `Embedding`, else one of the ids X already holds; float inputs get Gaussian
noise of X's spread. A failure is a `DependencyError` (an AssertionError) naming the changed
sample or position, the output that moved and by how much, and — for a Model, whose layers are
run one at a time — the first layer whose output leaks.

Inference mode matters: `BatchNorm1D` in training normalizes by the batch's statistics, so
every sample's output depends on every other's by design; in inference it uses its running
statistics, and passes. The checks judge the model that `predict` runs.
"""

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import as_integer, generator, real, shown
from .._values import finite
from ..layers import Embedding, Layer
from ..model import Model
from ..model._data import check_inputs
from ..shapes import ArgumentError, ShapennError

__all__ = ["DependencyError", "assert_batch_independent", "assert_causal"]

#: The largest change of an output that counts as none, relative to the output's largest entry
#: (at least 1): with shapes unchanged, an output that does not depend on a changed input comes
#: out bit for bit the same, so this only absorbs a BLAS kernel that rounds a row differently.
TOLERANCE = 1e-5


class DependencyError(ShapennError, AssertionError):
    """An output depends on an input it must not: another sample's, or a later position's."""


DependencyError.__module__ = "shapenn.testing"  # shown where it is imported from


@dataclass(frozen=True)
class _Leak:
    """One perturbation whose effect reached an output it must not.

    ``changed``: the sample or position changed; ``moved``: the sample or position whose output
    moved most; ``sample``: for causality, the sample where it moved most; ``size``: max |Δ|;
    ``where``: the first stage (layer) whose output leaks.
    """

    changed: int
    moved: int
    sample: int
    size: float
    where: str


# A measure: (output on X, output on X changed at an index, that index) → (where the output
# moved most: sample or position, sample, max |Δ|), or None for an output it cannot judge (one
# without the batch or positions of X: an intermediate layer's, or a bad target's).
Measure = Callable[[npt.NDArray[Any], npt.NDArray[Any], int], tuple[int, int, float] | None]


def _difference(base: npt.NDArray[Any], other: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """|other − base| in float64; NaN where both are NaN counts as no change, NaN in one only
    (or inf − inf) as an infinite one."""
    a, b = base.astype(np.float64), other.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(b - a)
    diff[np.isnan(a) & np.isnan(b)] = 0.0
    diff[np.isnan(diff)] = np.inf
    return diff


def _scale(output: npt.NDArray[Any]) -> float:
    """The size changes are measured against: the largest finite |entry|, at least 1."""
    values = np.abs(output[np.isfinite(output)]) if output.dtype.kind in "fc" else np.abs(output)
    return max(1.0, float(values.max(initial=0.0)))


def _batch_measure(samples: int) -> Measure:
    """How much changing sample ``i`` moved the output of any other sample."""

    def measure(
        base: npt.NDArray[Any], other: npt.NDArray[Any], i: int
    ) -> tuple[int, int, float] | None:
        if base.ndim < 1 or base.shape[0] != samples or other.shape != base.shape:
            return None
        per_sample = _difference(base, other).reshape(samples, -1).max(axis=1, initial=0.0)
        per_sample[i] = 0.0  # its own output may change
        j = int(np.argmax(per_sample))
        return j, j, float(per_sample[j])

    return measure


def _causal_measure(samples: int, length: int) -> Measure:
    """How much changing position ``t`` moved the output at any earlier position."""

    def measure(
        base: npt.NDArray[Any], other: npt.NDArray[Any], t: int
    ) -> tuple[int, int, float] | None:
        if base.ndim < 2 or base.shape[:2] != (samples, length) or other.shape != base.shape:
            return None
        earlier = _difference(base[:, :t], other[:, :t]).reshape(samples, t, -1)
        per_place = earlier.max(axis=2, initial=0.0)  # (sample, position)
        sample, position = np.unravel_index(int(np.argmax(per_place)), per_place.shape)
        return int(position), int(sample), float(per_place[sample, position])

    return measure


def _copy(owner: str, target: Model | Layer) -> tuple[Model | Layer, list[tuple[str, Layer]]]:
    """A copy of ``target`` in inference mode, and its layers (the layer itself for a Layer),
    each named as its user knows it."""
    if isinstance(target, Model):
        if not target.layers:
            raise ArgumentError(f"{owner}: the model has no layers")
        model = copy.deepcopy(target)
        model.set_training(False)
        return model, [(f"layers[{i}] {layer!r}", layer) for i, layer in enumerate(model.layers)]
    if isinstance(target, Layer):
        layer = copy.deepcopy(target)
        layer.set_training(False)
        return layer, [(repr(layer), layer)]
    raise ArgumentError(
        f"{owner}: target must be a Model or a Layer, got {shown(target)} (a "
        f"{type(target).__name__})"
    )


def _inputs(owner: str, target: Model | Layer, X: npt.ArrayLike) -> npt.NDArray[Any]:
    """X checked and cast as the target takes it: int64 ids for a first layer that takes
    integers, else floats of the target's dtype. ``target`` is the copy: a model may build."""
    if isinstance(target, Model):
        spec, bindings = target._input_check()
        array = check_inputs(X, spec, bindings, where=owner, dtype=target.input_dtype)
        return np.asarray(array, dtype=target.input_dtype)
    try:
        array = np.asarray(X)
    except (ValueError, TypeError) as err:
        raise ArgumentError(f"{owner}: X must be an array of numbers ({err})") from None
    dtype = target.input_dtype()
    if array.dtype.kind not in ("iu" if dtype.kind in "iu" else "iuf"):
        what = "integer ids" if dtype.kind in "iu" else "real numbers"
        raise ArgumentError(f"{owner}: X must hold {what} for {target!r}, got dtype {array.dtype}")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ArgumentError(f"{owner}: X must hold at least one sample, got shape {array.shape}")
    finite(array, "X", owner, dtype)
    return np.asarray(array, dtype=dtype)


def _perturber(
    owner: str, target: Model | Layer, inputs: npt.NDArray[Any], rng: np.random.Generator
) -> Callable[[npt.NDArray[Any]], npt.NDArray[Any]]:
    """A function that changes every entry of the part of the inputs it is given: each id to
    another valid id, each float by Gaussian noise of the inputs' spread."""
    if inputs.dtype.kind in "iu":
        first = target.layers[0] if isinstance(target, Model) else target
        if isinstance(first, Embedding):
            pool = np.arange(first.vocab_size, dtype=inputs.dtype)
        else:
            pool = np.unique(inputs)
            if pool.size < 2:
                raise ArgumentError(
                    f"{owner}: X holds only the id {int(pool[0])}, and {first!r} is no Embedding "
                    "to tell the other valid ids: give X at least two different ids"
                )

        def replace(part: npt.NDArray[Any]) -> npt.NDArray[Any]:
            # A shift of 1 to size-1 along the pool: always another id of the pool.
            shift = rng.integers(1, pool.size, size=part.shape)
            replaced: npt.NDArray[Any] = pool[(np.searchsorted(pool, part) + shift) % pool.size]
            return replaced

        return replace
    spread = float(np.std(inputs, dtype=np.float64))
    spread = spread if np.isfinite(spread) and spread > 0 else 1.0

    def noise(part: npt.NDArray[Any]) -> npt.NDArray[Any]:
        noisy: npt.NDArray[Any] = part + (spread * rng.standard_normal(part.shape)).astype(
            part.dtype
        )
        return noisy

    return noise


def _run(stages: list[tuple[str, Layer]], inputs: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """Each stage's output, in order (copies: a layer may reuse its output array)."""
    outputs = []
    hidden: Any = inputs
    for _, layer in stages:
        hidden = layer.forward(hidden)
        outputs.append(np.array(hidden, copy=True))
    return outputs


def _chosen(
    owner: str, name: str, value: object, candidates: range, rng: np.random.Generator
) -> list[int]:
    """All ``candidates`` (None), or ``value`` of them drawn without replacement, in order."""
    if value is None:
        return list(candidates)
    count = as_integer(value)
    if count is None or count < 1:
        raise ArgumentError(
            f"{owner}: {name} must be a positive integer (how many to change, chosen at random) "
            f"or None (every one), got {shown(value)}"
        )
    if count >= len(candidates):
        return list(candidates)
    picked = rng.choice(len(candidates), size=count, replace=False)
    return sorted(candidates[int(k)] for k in picked)


def _search(
    stages: list[tuple[str, Layer]],
    inputs: npt.NDArray[Any],
    base: list[npt.NDArray[Any]],
    indices: Sequence[int],
    change: Callable[[npt.NDArray[Any], int], npt.NDArray[Any]],
    measure: Measure,
    tolerance: float,
) -> tuple[_Leak | None, int]:
    """Change the inputs at each of ``indices`` in turn; the first leak found (with the first
    stage whose output leaks) and how many of the indices leak. ``base``: each stage's output
    on the unchanged inputs."""
    limits = [tolerance * _scale(output) for output in base]
    first: _Leak | None = None
    leaking = 0
    for index in indices:
        outputs = _run(stages, change(inputs, index))
        final = measure(base[-1], outputs[-1], index)
        if final is None or final[2] <= limits[-1]:
            continue
        leaking += 1
        if first is None:
            where = stages[-1][0]
            for (name, _), before, after, limit in zip(stages, base, outputs, limits, strict=True):
                found = measure(before, after, index)
                if found is not None and found[2] > limit:
                    where = name
                    break
            moved, sample, size = final
            first = _Leak(index, moved, sample, size, where)
    return first, leaking


def _where(target: Model | Layer, leak: _Leak) -> str:
    """The layer to blame, as the message's second line says it."""
    if isinstance(target, Model):
        return f"{leak.where}, the first layer whose output leaks"
    return f"{leak.where}, the layer checked (in a Model, each layer is checked on its own)"


def _options(owner: str, seed: object, tolerance: object) -> tuple[np.random.Generator, float]:
    """The generator for ``seed`` and ``tolerance`` as a float >= 0, each checked."""
    rng = generator(owner, seed)
    return rng, real(owner, "tolerance", tolerance, low=0.0)


def assert_batch_independent(
    target: Model | Layer,
    X: npt.ArrayLike,
    *,
    samples: int | None = None,
    seed: int | np.random.Generator = 0,
    tolerance: float = TOLERANCE,
) -> None:
    """Assert that each sample's output depends on that sample alone: changing sample ``i`` of
    X changes no other sample's output.

    Runs forward only, on a copy of ``target`` in inference mode (the original is not
    touched): once on X, then once per changed sample. Integer ids are changed to other valid
    ids (of the first layer's `Embedding`, else of those in X), floats by Gaussian noise.
    A norm over the batch axis or a reshape that mixes samples fails; `BatchNorm1D` passes,
    since in inference it uses its running statistics (in training it would not).

    Args:
        target: a Model or a Layer.
        X: inputs the target takes, at least two samples.
        samples: how many samples to change, chosen at random with ``seed``; None: every one.
        seed: for that choice and the changes (an integer >= 0 or a Generator).
        tolerance: the largest change of another sample's output that counts as none,
            relative to the output's largest entry (at least 1).

    Raises:
        DependencyError: an output that depends on another sample, with the pair of samples,
            the size of the change and the first layer whose output leaks.
        ArgumentError: a bad argument, or X with fewer than two samples.
        ShapeError, LabelError: X the target cannot take, in the target's own words.

    Example::

        assert_batch_independent(model, X[:8])
    """
    __tracebackhide__ = True  # pytest: a failure shows the caller's line and the message
    owner = "assert_batch_independent"
    checked, stages = _copy(owner, target)
    rng, limit = _options(owner, seed, tolerance)
    inputs = _inputs(owner, checked, X)
    count = inputs.shape[0]
    if count < 2:
        raise ArgumentError(
            f"{owner}: X has 1 sample; give at least 2, so that changing one can be seen (or "
            "not) in another"
        )
    chosen = _chosen(owner, "samples", samples, range(count), rng)
    perturb = _perturber(owner, checked, inputs, rng)
    measure = _batch_measure(count)
    base = _run(stages, inputs)
    if measure(base[-1], base[-1], 0) is None:
        raise ArgumentError(
            f"{owner}: the output {base[-1].shape} does not keep X's samples on axis 0 (X is "
            f"{inputs.shape})"
        )

    def change(array: npt.NDArray[Any], i: int) -> npt.NDArray[Any]:
        changed = array.copy()
        changed[i] = perturb(array[i])
        return changed

    leak, leaking = _search(stages, inputs, base, chosen, change, measure, limit)
    if leak is None:
        return
    raise DependencyError(
        f"{owner}: outputs depend on other samples: changing sample {leak.changed} of X "
        f"changed the output of sample {leak.moved} by up to {leak.size:.3g} (tolerance "
        f"{limit:g})\n"
        f"  where: {_where(target, leak)}\n"
        f"  {leaking} of {len(chosen)} changed samples leak into others\n"
        "  fix: compute every statistic within a sample (a norm's mean over features, not over "
        "axis 0) and reshape without moving values across the batch axis"
    ).with_traceback(None) from None


def assert_causal(
    target: Model | Layer,
    X: npt.ArrayLike,
    *,
    positions: int | None = None,
    seed: int | np.random.Generator = 0,
    tolerance: float = TOLERANCE,
) -> None:
    """Assert that the output at each position depends on that position and earlier ones
    only: changing position ``t`` (axis 1 of X) changes no output at positions before ``t``.

    Runs forward only, on a copy of ``target`` in inference mode (the original is not
    touched): once on X, then once per changed position, changed in every sample at once.
    Integer ids are changed to other valid ids (of the first layer's `Embedding`, else of
    those in X), floats by Gaussian noise. A missing or transposed causal mask fails, and so
    do attention heads merged without a transpose; a model of per-position layers (Embedding,
    Dense, LayerNorm, activations) passes.

    Args:
        target: a Model or a Layer whose output keeps X's positions on axis 1.
        X: inputs (batch, seq, ...), seq >= 2.
        positions: how many positions (of 1 to seq − 1: nothing precedes position 0) to change,
            chosen at random with ``seed``; None: every one.
        seed: for that choice and the changes (an integer >= 0 or a Generator).
        tolerance: the largest change of an earlier output that counts as none, relative to
            the output's largest entry (at least 1).

    Raises:
        DependencyError: an output that depends on a later position, with the two positions,
            the size of the change and the first layer whose output leaks.
        ArgumentError: a bad argument, X without two positions on axis 1, or an output
            without X's positions on axis 1.
        ShapeError, LabelError: X the target cannot take, in the target's own words.

    Example::

        assert_causal(model, X[:4])
    """
    __tracebackhide__ = True  # pytest: a failure shows the caller's line and the message
    owner = "assert_causal"
    checked, stages = _copy(owner, target)
    rng, limit = _options(owner, seed, tolerance)
    inputs = _inputs(owner, checked, X)
    if inputs.ndim < 2 or inputs.shape[1] < 2:
        raise ArgumentError(
            f"{owner}: X must have positions on axis 1, at least 2 of them: (batch, seq, ...), "
            f"got shape {inputs.shape}"
        )
    count, length = inputs.shape[:2]
    chosen = _chosen(owner, "positions", positions, range(1, length), rng)
    perturb = _perturber(owner, checked, inputs, rng)
    measure = _causal_measure(count, length)
    base = _run(stages, inputs)
    if measure(base[-1], base[-1], 1) is None:
        raise ArgumentError(
            f"{owner}: the output {base[-1].shape} does not keep X's positions on axis 1 (X is "
            f"{inputs.shape}): causality compares each output position with the input "
            "positions, so check the model up to its last per-position layer"
        )

    def change(array: npt.NDArray[Any], t: int) -> npt.NDArray[Any]:
        changed = array.copy()
        changed[:, t] = perturb(array[:, t])
        return changed

    leak, leaking = _search(stages, inputs, base, chosen, change, measure, limit)
    if leak is None:
        return
    raise DependencyError(
        f"{owner}: outputs see later positions: changing position {leak.changed} of X changed "
        f"the output at position {leak.moved} (sample {leak.sample}) by up to {leak.size:.3g} "
        f"(tolerance {limit:g})\n"
        f"  where: {_where(target, leak)}\n"
        f"  {leaking} of {len(chosen)} changed positions leak into earlier ones\n"
        "  fix: mask each position's attention scores to itself and earlier positions "
        "(np.triu(..., k=1) set to -inf), and merge heads as (batch, heads, seq, d) → "
        "transpose(0, 2, 1, 3) → reshape(batch, seq, heads·d)"
    ).with_traceback(None) from None
