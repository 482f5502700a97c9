"""Finite-difference check of every parameter's gradient, for layers and models.

For people writing their own layers: if ``backward`` is right, the gradient it stores for each
parameter ``name`` (as ``d<name>``) matches central differences of the loss, computed in
float64 on a copy of the layer or model with the fourth-order stencil
``(−L(θ + 2ε) + 8 L(θ + ε) − 8 L(θ − ε) + L(θ − 2ε)) / 12ε``: its truncation error shrinks as
ε⁴, so a layer with strong curvature (a normalization) is judged by its gradient, not by the
stencil.
"""

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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

    * For a Model, the objective is its loss (data + regularization) on (X, y).
    * For a Layer, ``y`` is not used: the objective is ``Σ output · G`` for a fixed random
      ``G``, so ``backward(G)`` must give every ``d<name>`` and ``dinputs``.

    Args:
        target: a Model (with a loss set) or a Layer with parameters.
        X: inputs (batch, features); y: targets for a Model.
        eps: the finite-difference step. An entry that disagrees is measured again with steps
            ε/10 and ε/100, keeping the closer: a kink within 2ε (a ReLU input near zero)
            spoils one difference quotient, a wrong gradient disagrees at every step.
        tolerance: the largest accepted error (relative to each gradient's largest entry).
        max_entries: check at most this many randomly chosen entries per array (None: all).
        seed: for ``G`` and the choice of entries.
        raise_on_failure: raise GradcheckError if any gradient is off.

    Returns:
        GradcheckResult with the error of each parameter's gradient.

    Example::

        result = gradcheck(Dense(3, 2, seed=0), np.random.default_rng(0).normal(size=(4, 3)))
        assert result.ok
    """
    __tracebackhide__ = True  # pytest: a failure shows the caller's line and the table
    rng = np.random.default_rng(seed)
    raw = np.asarray(X)
    if raw.dtype.kind not in "iuf":
        raise ArgumentError(f"gradcheck: X must hold real numbers, got dtype {raw.dtype}")
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
        targets = np.asarray(y)
        targets = targets if targets.dtype.kind in "iu" else targets.astype(np.float64)

        def objective() -> float:
            return loss.calculate(model.forward(inputs), targets) + model.regularization_loss()

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
