"""Testing helpers: gradient assertions, hypothesis strategies, and a pytest plugin.

- `assert_gradients` (and `shapenn.gradcheck`): every gradient of a layer or model against
  finite differences; a failure is a short table with the tolerance.
- `shapenn.testing.strategies`: hypothesis strategies for arrays that fit a layer or model, and
  arrays that break it (needs ``shapenn[testing]``).
- `assert_batch_independent` and `assert_causal`: forward-only dependency checks that catch
  what shapes cannot — a norm over the batch axis, attention heads merged without a
  transpose, a missing or transposed causal mask.
- `install_import_hook` and ``pytest --shapenn-packages=mypackage``: shapenn's checks, and its
  ShapeError words, for your own annotated package.
"""

from typing import Any

import numpy.typing as npt

from ..layers import Layer
from ..model import Model
from ._dependency import DependencyError as DependencyError
from ._dependency import assert_batch_independent as assert_batch_independent
from ._dependency import assert_causal as assert_causal
from ._gradcheck import GradcheckError as GradcheckError
from ._gradcheck import GradcheckResult as GradcheckResult
from ._gradcheck import gradcheck as gradcheck
from ._hook import install_import_hook as install_import_hook

__all__ = [
    "DependencyError",
    "GradcheckError",
    "GradcheckResult",
    "assert_batch_independent",
    "assert_causal",
    "assert_gradients",
    "gradcheck",
    "install_import_hook",
]


def assert_gradients(
    target: Model | Layer,
    X: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    *,
    tolerance: float = 1e-6,
    **options: Any,
) -> GradcheckResult:
    """Assert that every gradient of ``target`` matches finite differences within
    ``tolerance``; see `gradcheck` for the options. In pytest a failure shows your line and a
    table of each gradient, its error and the tolerance."""
    __tracebackhide__ = True
    return gradcheck(target, X, y, tolerance=tolerance, raise_on_failure=True, **options)
