"""shapenn.testing and pytest: gradient assertions with a short failure, strategies that fit or
break a layer, the --shapenn-packages option, and jaxtyping's own pytest hook on shapenn."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import EveryOther, Scale
from hypothesis import given, settings

import shapenn as sn
from shapenn.testing import assert_gradients
from shapenn.testing.strategies import breaking, fitting, shapes


def _pytest(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def _section(output: str, test: str) -> str:
    return output[output.index(f"_ {test} _") : output.index("short test summary")]


def test_a_wrong_gradient_fails_with_a_short_table_and_the_tolerance(tmp_path: Path) -> None:
    helpers = Path(__file__).parent / "helpers.py"
    (tmp_path / "helpers.py").write_text(helpers.read_text())
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """\
            import numpy as np
            from helpers import Scale
            from shapenn.testing import assert_gradients


            def test_scale_gradients():
                X = np.random.default_rng(0).normal(size=(5, 3))
                assert_gradients(Scale(3, wrong=True), X)
            """
        )
    )
    result = _pytest(tmp_path)
    section = _section(result.stdout, "test_scale_gradients")
    lines = [line for line in section.splitlines() if line.strip()]
    assert len(lines) <= 14, section
    assert "shapenn/" not in section
    assert "E       shapenn.GradcheckError: 1 of 2 gradients disagrees with" in section
    assert "E         gradient  error     tolerance  verdict" in section
    assert any(line.startswith("E         scale     ") and line.endswith("FAIL") for line in lines)


def test_assert_gradients_passes_quietly_and_returns_the_errors() -> None:
    X = np.random.default_rng(0).normal(size=(5, 3))
    result = assert_gradients(Scale(3), X)
    assert result.ok and str(result).splitlines()[0].split() == [
        "gradient",
        "error",
        "tolerance",
        "verdict",
    ]


@pytest.mark.parametrize(
    "target",
    [
        sn.Dense(4, 3),
        Scale(5),
        sn.ReLU(),
        sn.Softmax(),
        sn.Model([sn.Dense(6, 4), EveryOther(), sn.Dense(2, 1)]),
        sn.Model([sn.Tanh(), sn.Dense(3, 2)], input_shape=(3,)),
    ],
    ids=["dense", "custom", "relu", "softmax", "model", "model-input-shape"],
)
def test_fitting_arrays_pass_and_breaking_arrays_raise(target: sn.Layer | sn.Model) -> None:
    run = target.predict if isinstance(target, sn.Model) else target.forward

    @settings(max_examples=40, deadline=None)
    @given(fitting(target))
    def fits(x: np.ndarray) -> None:  # type: ignore[type-arg]
        assert run(x).shape[0] == x.shape[0]

    @settings(max_examples=40, deadline=None)
    @given(breaking(target))
    def breaks(x: np.ndarray) -> None:  # type: ignore[type-arg]
        with pytest.raises(sn.ShapeError):
            run(x)

    fits()
    breaks()


def test_shapes_take_sizes_from_the_parameters() -> None:
    @settings(max_examples=20, deadline=None)
    @given(shapes(sn.Dense(7, 2)))
    def check(shape: tuple[int, ...]) -> None:
        # (batch, *positions, in): any axes between the batch and the 7 inputs
        assert 2 <= len(shape) <= 4 and shape[-1] == 7 and 1 <= shape[0] <= 8

    check()


PACKAGE = """\
import numpy as np
from jaxtyping import Float

Batch = np.ndarray


def project(
    inputs: Float[Batch, "batch n"], weights: Float[Batch, "n m"]
) -> Float[Batch, "batch m"]:
    return inputs @ weights


class Scaler:
    factors: Float[Batch, "1 n"]

    def __init__(self, n: int) -> None:
        self.factors = np.ones((1, n))

    def apply(self, inputs: Float[Batch, "batch n"]) -> Float[Batch, "batch n"]:
        return inputs * self.factors
"""

USER_TEST = """\
import numpy as np
import pytest
import shapenn as sn
from mypackage import Scaler, project


def test_project():
    with pytest.raises(sn.ShapeError, match="`n` is 5 here but 4 in `inputs`"):
        project(np.ones((2, 4)), np.ones((5, 3)))


def test_scaler_broadcast_is_caught():
    with pytest.raises(sn.ShapeError, match="`n` is 1 here but 3 in `self.factors`"):
        Scaler(3).apply(np.ones((2, 1)))
"""


def test_the_pytest_option_checks_a_users_own_package(tmp_path: Path) -> None:
    (tmp_path / "mypackage").mkdir()
    (tmp_path / "mypackage" / "__init__.py").write_text(PACKAGE)
    (tmp_path / "test_user.py").write_text(USER_TEST)
    checked = _pytest(tmp_path, "--shapenn-packages=mypackage")
    assert checked.returncode == 0, checked.stdout
    assert "Exception ignored" not in checked.stdout + checked.stderr  # the hook is removed
    unchecked = _pytest(tmp_path)
    assert unchecked.returncode == 1  # without the option: NumPy's error, or silent broadcast
    assert "2 failed" in unchecked.stdout


JAXTYPING_HOOK_TEST = """\
import numpy as np
import pytest
import shapenn as sn


def test_training_works_under_the_hook():
    model = sn.Model(
        [sn.Dense(2, 3), sn.ReLU(), sn.Dense(3, 2), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
    )
    model.fit(np.ones((4, 2), np.float32), np.array([0, 1, 0, 1]), epochs=2, verbose=0)


def test_a_mistake_is_still_a_shape_error():
    with pytest.raises(sn.ShapeError, match="it is 1-D but at least 2-D is needed"):
        sn.Dense(4, 3).forward(np.zeros(4, np.float32))


def test_plots_and_the_book_work_under_the_hook(tmp_path):
    pytest.importorskip("matplotlib")
    from shapenn.book import (
        Accuracy_Categorical, Activation_ReLU, Activation_Softmax, Layer_Dense,
        Loss_CategoricalCrossentropy, Model, Optimizer_Adam,
    )
    from shapenn.plots import plot_decision_boundary

    X, y = sn.datasets.spiral(20, 3, seed=0)
    book = Model()
    for layer in (Layer_Dense(2, 8), Activation_ReLU(), Layer_Dense(8, 3), Activation_Softmax()):
        book.add(layer)
    book.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(),
             accuracy=Accuracy_Categorical())
    book.finalize()
    book.train(X.astype(np.float64), y, epochs=2, batch_size=16, print_every=10)
    model = sn.Model(
        [sn.Dense(2, 8), sn.ReLU(), sn.Dense(8, 3), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(), optimizer=sn.Adam(), metric=sn.CategoricalAccuracy(),
    )
    model.fit(X, y, epochs=2, verbose=0).plot(tmp_path / "history.png")
    plot_decision_boundary(model, X, y, tmp_path / "boundary.png", resolution=10)
"""


def test_jaxtypings_pytest_hook_works_with_shapenn(tmp_path: Path) -> None:
    (tmp_path / "test_hooked.py").write_text(JAXTYPING_HOOK_TEST)
    result = _pytest(tmp_path, "--jaxtyping-packages=shapenn,beartype.beartype")
    assert result.returncode == 0, result.stdout
