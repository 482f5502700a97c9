"""Finite-difference check of every parameter's gradient, for layers and models.

For people writing their own layers: if ``backward`` is right, the gradient it stores for each
parameter ``name`` (as ``d<name>``) matches central differences of the loss, computed in
float64 on a copy of the layer or model with the fourth-order stencil
``(−L(θ + 2ε) + 8 L(θ + ε) − 8 L(θ − ε) + L(θ − 2ε)) / 12ε``: its truncation error shrinks as
ε⁴, so a layer with strong curvature (a normalization) is judged by its gradient, not by the
stencil.

For a model that ends with Softmax and CategoricalCrossentropy, ``backward`` gives the fused
gradient ``(p − y) / n``: the exact gradient of the cross-entropy of the logits. The loss a
model reports clips probabilities at 1e-7 to stay finite, and is flat where the clip is active
(a saturated classifier), so the differences are taken of the unclipped loss the gradient
belongs to (`Loss.fused_loss`), not of the reported one: the check judges the gradient, not
the clip. Zeroing the fused gradient where the clip is active would make the two agree, but
would leave a confidently wrong classifier nothing to learn from.
"""

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import as_integer, generator, real
from .._values import finite
from ..layers import Layer
from ..model import Model
from ..shapes import ArgumentError, ShapennError, signature

__all__ = ["GradcheckError", "GradcheckResult", "gradcheck"]


class GradcheckError(ShapennError, AssertionError):
    """An analytic gradient disagrees with finite differences."""


GradcheckError.__module__ = "shapenn"  # shown as shapenn.GradcheckError, where it is imported


@dataclass(frozen=True)
class GradcheckResult:
    """The largest error of each checked gradient, relative to that gradient's largest entry.

    Attributes:
        errors: ``"layers[0].weights"`` (or ``"weights"`` for a layer, ``"inputs"`` for the
            layer's input gradient) → max (|analytic − numeric| − round-off) / max(|analytic|,
            |numeric|, 1e-4): the round-off of a difference quotient grows with the size of
            the objective (an input of 4e4 makes it 1e-6), and the floor keeps near-zero
            gradients from failing on it.
        tolerance: the largest error accepted.
    """

    errors: dict[str, float]
    tolerance: float

    @property
    def ok(self) -> bool:
        return all(error <= self.tolerance for error in self.errors.values())

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def __str__(self) -> str:
        """A table: each gradient, its error, the tolerance and the verdict."""
        width = max([len(name) for name in self.errors] + [len("gradient")])
        rows = [f"  {'gradient'.ljust(width)}  error     tolerance  verdict"]
        rows += [
            f"  {name.ljust(width)}  {error:.2e}  {self.tolerance:.2e}   "
            f"{'ok' if error <= self.tolerance else 'FAIL'}"
            for name, error in self.errors.items()
        ]
        return "\n".join(rows)


def _to_float64(layers: list[Layer]) -> None:
    """Every layer (and every layer it owns) in inference mode, with its float parameters and
    buffers in float64."""
    for layer in layers:
        layer.set_training(False)  # dropout off: the objective must be deterministic
        for stored in layer.state_arrays():
            if stored.value.dtype.kind == "f":
                # C order: finite differences perturb a flat view, which must not be a copy.
                stored.assign(np.ascontiguousarray(stored.value, dtype=np.float64))


def _takes_integers(target: Model | Layer) -> bool:
    """Whether the first layer's signature says its inputs are integers (token ids)."""
    first = target.layers[0] if isinstance(target, Model) else target
    return signature(type(first)).input_family == "Integer"


#: The finite-difference steps allowed: below, the step drowns in the round-off of the
#: objective (whose allowance, ``ROUNDING / ε``, would then excuse any gradient); above, the
#: stencil's truncation error does.
EPS_RANGE = (1e-8, 1e-1)

FLOOR = 1e-4  # gradients smaller than this are compared absolutely: round-off dominates them
# The relative error of an objective value in float64: a sum of many terms carries more than one
# rounding (2.2e-16), so a margin of 64 of them.
ROUNDING = 64 * float(np.finfo(np.float64).eps)


def _relative(
    analytic: npt.NDArray[Any], numeric: npt.NDArray[Any], noise: npt.NDArray[Any]
) -> float:
    """The largest disagreement beyond each entry's round-off ``noise``, relative to the
    gradient's largest entry."""
    scale = max(float(np.abs(analytic).max(initial=0)), float(np.abs(numeric).max(initial=0)))
    beyond = np.maximum(np.abs(analytic - numeric) - noise, 0.0)
    return float(beyond.max(initial=0)) / max(scale, FLOOR)


def _numeric(
    objective: Any, array: npt.NDArray[np.float64], entries: npt.NDArray[np.intp], eps: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The stencil's derivative at each of ``entries``, and the round-off it may carry: each
    objective value is known to about ``ROUNDING`` of its size, and the stencil divides their
    difference by ``12ε``."""
    flat = array.reshape(-1)  # a view: perturbing it perturbs the parameter in place
    result, noise = np.zeros(len(entries)), np.zeros(len(entries))
    for k, i in enumerate(entries):
        saved = flat[i]
        values = []
        for step in (2 * eps, eps, -eps, -2 * eps):
            flat[i] = saved + step
            values.append(objective())
        flat[i] = saved
        far_plus, plus, minus, far_minus = values
        result[k] = (-far_plus + 8 * plus - 8 * minus + far_minus) / (12 * eps)
        noise[k] = ROUNDING * 18 * max(abs(v) for v in values) / (12 * eps)
    return result, noise


def _array(name: str, value: Any) -> npt.NDArray[Any]:
    """``value`` as an array; an ArgumentError naming it if NumPy cannot make one (a ragged
    list)."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise ArgumentError(
            f"gradcheck: {name} must be an array of real numbers, got {value!r:.60} ({err})"
        ) from None


def _options(
    target: object,
    eps: object,
    tolerance: object,
    max_entries: object,
    seed: object,
    raises: object,
) -> tuple[float, float, int | None, np.random.Generator]:
    """The arguments that are not data, checked: ``eps``, ``tolerance`` and ``max_entries`` as
    plain numbers, ``seed`` as a Generator. Each ArgumentError names the argument and what it
    may be."""
    if not isinstance(target, Model | Layer):
        raise ArgumentError(
            f"gradcheck: target must be a Model (with a loss) or a Layer, got {target!r} (a "
            f"{type(target).__name__})"
        )
    low, high = EPS_RANGE
    step = real("gradcheck", "eps (the finite-difference step)", eps, low=low, high=high)
    # A tolerance of 1 or more passes a gradient of zeros against any other.
    limit = real(
        "gradcheck",
        "tolerance (the largest relative error)",
        tolerance,
        low=0.0,
        high=1.0,
        high_open=True,
    )
    entries: int | None = None
    if max_entries is not None:
        count = as_integer(max_entries)
        if count is None or count < 1:
            raise ArgumentError(
                "gradcheck: max_entries must be an integer >= 1 (entries checked per array) or "
                f"None (all of them), got {max_entries!r}: with none checked, nothing is tested"
            )
        entries = count
    rng = generator("gradcheck", seed)
    if not isinstance(raises, bool | np.bool_):
        raise ArgumentError(f"gradcheck: raise_on_failure must be True or False, got {raises!r}")
    return step, limit, entries, rng


def gradcheck(
    target: Model | Layer,
    X: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    *,
    eps: float = 1e-5,
    tolerance: float = 1e-6,
    max_entries: int | None = 200,
    seed: int = 0,
    raise_on_failure: bool = True,
) -> GradcheckResult:
    """Compare every parameter gradient of ``target`` with central finite differences.

    A copy of ``target`` is made and cast to float64; the original is not touched.

    * For a Model, the objective is its loss (data + regularization) on (X, y). When its
      loss has a fused gradient with its last layer (Softmax then CategoricalCrossentropy),
      the data loss is the one that gradient belongs to: the cross-entropy of the logits,
      unclipped (see the module's notes), so a saturated classifier passes.
    * For a Layer, ``y`` is not used: the objective is ``Σ output · G`` for a fixed random
      ``G``, so ``backward(G)`` must give every ``d<name>`` and ``dinputs``.

    Args:
        target: a Model (with a loss set) or a Layer with parameters.
        X: inputs (batch, features), finite real numbers, at least one sample; y: targets for
            a Model.
        eps: the finite-difference step, from 1e-8 to 0.1. An entry that disagrees is
            measured again with steps ε/10 and ε/100, keeping the closer: a kink within 2ε (a
            ReLU input near zero) spoils one difference quotient, a wrong gradient disagrees
            at every step.
        tolerance: the largest accepted error (relative to each gradient's largest entry),
            from 0, below 1 (at 1, a gradient of zeros would pass against any other).
        max_entries: check at most this many randomly chosen entries per array, an integer
            >= 1 (None: all).
        seed: for ``G`` and the choice of entries: an integer >= 0, a Generator or None.
        raise_on_failure: raise GradcheckError if any gradient is off.

    Returns:
        GradcheckResult with the error of each parameter's gradient.

    Raises:
        ArgumentError: an argument above out of its range, a target that is neither a Model
            nor a Layer, X empty or not finite, or a target with no gradient to check.
        GradcheckError: with ``raise_on_failure``, a gradient that disagrees.

    Example::

        result = gradcheck(Dense(3, 2, seed=0), np.random.default_rng(0).normal(size=(4, 3)))
        assert result.ok
    """
    __tracebackhide__ = True  # pytest: a failure shows the caller's line and the table
    eps, tolerance, max_entries, rng = _options(
        target, eps, tolerance, max_entries, seed, raise_on_failure
    )
    raw = _array("X", X)
    if raw.dtype.kind not in "iuf":
        raise ArgumentError(f"gradcheck: X must hold real numbers, got dtype {raw.dtype}")
    if raw.ndim == 0 or raw.shape[0] == 0:
        # No sample: every objective is 0, and every gradient would pass against it.
        raise ArgumentError(
            f"gradcheck: X must hold at least one sample, got shape {raw.shape}: with none, "
            "the objective is constant and any gradient would pass"
        )
    finite(raw, "X", "gradcheck")
    # Integer inputs (token ids) are not perturbed: there is no gradient to check for them.
    integers = raw.dtype.kind in "iu" and _takes_integers(target)
    inputs = raw.astype(np.int64) if integers else np.array(raw, dtype=np.float64, order="C")
    checked: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[Any]]] = {}

    if isinstance(target, Model):
        model = copy.deepcopy(target)
        _to_float64(model.layers)
        if model.loss is None:
            raise ArgumentError("gradcheck: the model has no loss; call model.set(loss=...)")
        loss = model.loss
        targets = _array("y", y)
        if targets.dtype.kind not in "biuf":
            raise ArgumentError(
                f"gradcheck: y must hold the model's targets as real numbers, got {y!r:.60}"
            )
        targets = targets if targets.dtype.kind in "iu" else targets.astype(np.float64)
        fused = loss.fused_loss(model.layers[-1]) if model.layers else None
        body = model.layers[:-1]
        # The reported loss, once: the targets are checked in the loss's own words (shapes,
        # labels), which the fused loss below does not repeat.
        loss.calculate(model.forward(inputs), targets)

        def objective() -> float:
            if fused is None:
                data = loss.calculate(model.forward(inputs), targets)
            else:  # the loss the fused gradient belongs to, of the last layer's inputs
                hidden = inputs
                for layer in body:
                    hidden = layer.forward(hidden)
                data = float(np.mean(fused(hidden, targets), dtype=np.float64))
            return data + model.regularization_loss()

        model.backward(model.forward(inputs), targets)
        named = [
            (p.path, p)
            for i, layer in enumerate(model.layers)
            for p in layer.parameters(f"layers[{i}]")
        ]
    else:
        layer = copy.deepcopy(target)
        _to_float64([layer])
        weights = rng.standard_normal(np.shape(layer.forward(inputs)))

        def objective() -> float:
            return float((layer.forward(inputs) * weights).sum()) + layer.regularization_loss()

        layer.forward(inputs)
        layer.backward(weights)
        named = [(p.path, p) for p in layer.parameters()]
        if not integers:
            checked["inputs"] = (np.asarray(layer.dinputs), inputs)

    for label, parameter in named:
        checked[label] = (np.array(parameter.grad, dtype=np.float64), parameter.value)
    if not checked:
        raise ArgumentError(
            f"gradcheck: {target!r} has no gradient to check: it has no parameters (and a "
            "model's inputs, or integer inputs, are not checked)"
        )

    errors = {}
    for label, (analytic, array) in checked.items():
        entries = np.arange(array.size)
        if max_entries is not None and array.size > max_entries:
            entries = rng.choice(array.size, size=max_entries, replace=False)
        expected = analytic.reshape(-1)[entries]
        numeric, noise = _numeric(objective, array, entries, eps)
        # A kink (a ReLU input within 2ε of zero) makes one difference quotient meaningless;
        # a smaller step steps over it, while a wrong gradient disagrees at every step.
        for smaller in (eps / 10, eps / 100):
            scale = max(float(np.abs(expected).max(initial=0)), FLOOR)
            off = np.flatnonzero(np.abs(expected - numeric) - noise > tolerance * scale)
            if off.size == 0:
                break
            retry, retry_noise = _numeric(objective, array, entries[off], smaller)
            closer = np.abs(expected[off] - retry) - retry_noise < (
                np.abs(expected[off] - numeric[off]) - noise[off]
            )
            numeric[off[closer]], noise[off[closer]] = retry[closer], retry_noise[closer]
        errors[label] = _relative(expected, numeric, noise)
    result = GradcheckResult(errors, tolerance)
    if raise_on_failure and not result.ok:
        failed = sum(error > tolerance for error in errors.values())
        noun = "gradient" if len(errors) == 1 else "gradients"
        verb = "disagrees" if failed == 1 else "disagree"
        raise GradcheckError(
            f"{failed} of {len(errors)} {noun} {verb} with finite differences:\n{result}"
        ).with_traceback(None) from None
    return result
