"""What a person sees for a mistake — in a script, in pytest, in IPython — is the headline, the
dims and the hint, with the traceback ending at their own line: no chained checker exceptions,
no frame of shapenn's. This holds for every error shapenn raises on purpose (a ShapennError),
not only for shape mistakes."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SETUP = """\
import numpy as np
import shapenn as sn
model = sn.Model([sn.Dense(2, 3), sn.Softmax()], loss=sn.CategoricalCrossentropy(),
                 optimizer=sn.Adam())
"""

#: One mistake per line, each run after SETUP; (name, line, the error's first words).
MISTAKES = [
    ("layer", "sn.Dense(4, 3).forward(np.zeros(4, np.float32))", "shapenn.ShapeError: Dense"),
    (
        "fit",
        "model.fit(np.zeros((5, 3), np.float32), np.zeros(5, np.int64), verbose=0)",
        "shapenn.ShapeError: Model.fit",
    ),
    ("chain", "sn.Model([sn.Dense(2, 64), sn.ReLU(), sn.Dense(32, 3)])", "shapenn.ShapeError"),
    (
        "nan",
        "model.fit(np.full((4, 2), np.nan, np.float32), np.zeros(4, np.int64), verbose=0)",
        "shapenn.ArgumentError: Model.fit: `X` contains 8 NaN",
    ),
    (
        "empty",
        "model.fit(np.zeros((0, 2), np.float32), np.zeros(0, np.int64), verbose=0)",
        "shapenn.ArgumentError: Model.fit: `X` is empty",
    ),
    (
        "no loss",
        "sn.Model([sn.Dense(2, 3)]).fit(np.zeros((4, 2), np.float32), np.zeros(4), verbose=0)",
        "shapenn.ArgumentError: Model.fit: the model has no loss",
    ),
    ("optimizer class", "model.set(optimizer=sn.Adam)", "shapenn.ArgumentError: Model: optimizer"),
    ("no neurons", "sn.Dense(2, 0)", "shapenn.ArgumentError: Dense: n_neurons"),
    (
        "batch size",
        "model.fit(np.zeros((4, 2), np.float32), np.zeros(4, np.int64), batch_size=0)",
        "shapenn.ArgumentError: Model.fit: batch_size",
    ),
    ("rate text", "sn.Adam(learning_rate='0.01')", "shapenn.ArgumentError: Adam: learning_rate"),
    (
        "from_arrays",
        "sn.Dense.from_arrays([[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], "
        "[-0.26, -0.27, 0.17, 0.87]], [2.0, 3.0, 0.5])",
        "shapenn.ShapeError: Dense.from_arrays",
    ),
    (
        "book loss",
        "from shapenn.book import Loss_CategoricalCrossentropy; "
        "Loss_CategoricalCrossentropy().calculate(np.array([[0.7, 0.1, 0.2], [0.1, 0.5, 0.4]], "
        "np.float32), np.array([[0, 1], [1, 0]]))",
        "shapenn.ShapeError: Loss_CategoricalCrossentropy",
    ),
    ("backward first", "sn.Dense(2, 3).backward(np.zeros((1, 3), np.float32))", "shapenn.NotReady"),
]
IDS = [name for name, _, _ in MISTAKES]
NOISE = ("The above exception", "direct cause", "During handling", "jaxtyping", "beartype")


def _run(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=folder, capture_output=True, text=True, check=False)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(("name", "line", "start"), MISTAKES, ids=IDS)
def test_a_script_prints_the_users_line_and_the_message(
    name: str, line: str, start: str, tmp_path: Path
) -> None:
    (tmp_path / "script.py").write_text(SETUP + line + "\n")
    result = _run([sys.executable, "script.py"], tmp_path)
    stderr = _lines(result.stderr)
    assert result.returncode == 1
    assert len(stderr) <= 10, result.stderr
    assert not any(word in result.stderr for word in NOISE), result.stderr
    frames = [text for text in stderr if text.lstrip().startswith("File ")]
    assert frames == [f'  File "{tmp_path / "script.py"}", line 5, in <module>'], result.stderr
    assert stderr[0] == "Traceback (most recent call last):"
    assert any(text.startswith(start) for text in stderr), result.stderr


def test_the_full_traceback_is_there_for_a_bug_report(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(SETUP + "sn.Dense(2, 0)\n")
    result = subprocess.run(
        [sys.executable, "script.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "SHAPENN_TRACEBACK": "full"},
    )
    assert "shapenn/layers/_dense.py" in result.stderr


def test_other_exceptions_print_as_python_prints_them(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(
        SETUP + "try:\n    sn.Dense(2, 0)\nexcept ValueError:\n    pass\n{}['missing']\n"
    )
    stderr = _run([sys.executable, "script.py"], tmp_path).stderr
    assert stderr.splitlines()[-1] == "KeyError: 'missing'"


def test_the_layer_mistake_in_full(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(SETUP + MISTAKES[0][1] + "\n")
    stderr = _lines(_run([sys.executable, "script.py"], tmp_path).stderr)
    assert stderr == [
        "Traceback (most recent call last):",
        f'  File "{tmp_path / "script.py"}", line 5, in <module>',
        "    sn.Dense(4, 3).forward(np.zeros(4, np.float32))",
        "shapenn.ShapeError: Dense(4 → 3).forward: `inputs` expected floating-point "
        "(batch, *positions, in=4), got (4,) float32: it is 1-D but at least 2-D is needed.",
        "  dims bound so far: in=4, out=3",
        "  hint: add a batch axis: `inputs[None, :]` or `inputs.reshape(1, -1)`",
    ]


@pytest.fixture(scope="module")
def pytest_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One pytest run of a file with a failing test per mistake."""
    folder = tmp_path_factory.mktemp("user")
    tests = [
        f"def test_{index}():\n" + textwrap.indent(SETUP + line, "    ") + "\n"
        for index, (_, line, _) in enumerate(MISTAKES)
    ]
    (folder / "test_user.py").write_text("\n\n".join(tests))
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], folder)
    return result.stdout


@pytest.mark.parametrize(("name", "line", "start"), MISTAKES, ids=IDS)
def test_pytest_shows_the_users_lines_and_the_message(
    name: str, line: str, start: str, pytest_report: str
) -> None:
    index = IDS.index(name)
    head = f"_ test_{index} _"
    begin = pytest_report.index(head)
    following = [pytest_report.find(f"_ test_{i} _") for i in range(index + 1, len(MISTAKES))]
    end = min([p for p in following if p > 0] or [pytest_report.index("short test summary")])
    section = pytest_report[begin:end]
    assert len(_lines(section)) <= 30, section
    assert not any(word in section for word in NOISE), section
    assert "shapenn/" not in section  # no frame of shapenn's own
    assert f"E       {start}" in section, section


@pytest.mark.skipif(importlib.util.find_spec("IPython") is None, reason="needs IPython")
@pytest.mark.parametrize(("name", "line", "start"), MISTAKES, ids=IDS)
def test_ipython_shows_the_message_and_the_users_line(
    name: str, line: str, start: str, tmp_path: Path
) -> None:
    (tmp_path / "cell.py").write_text(SETUP + line + "\n")
    result = _run(
        [sys.executable, "-m", "IPython", "--colors=NoColor", "--no-banner", "cell.py"], tmp_path
    )
    shown = _lines(result.stdout + result.stderr)
    assert len(shown) <= 8, shown
    assert shown[0].startswith(start.removeprefix("shapenn.")), shown
    assert shown[-1].startswith(f"  at {tmp_path / 'cell.py'}:5: "), shown


@pytest.mark.skipif(importlib.util.find_spec("IPython") is None, reason="needs IPython")
def test_ipython_shows_the_layer_mistake_in_four_lines(tmp_path: Path) -> None:
    (tmp_path / "cell.py").write_text(SETUP + MISTAKES[0][1] + "\n")
    result = _run(
        [sys.executable, "-m", "IPython", "--colors=NoColor", "--no-banner", "cell.py"], tmp_path
    )
    assert _lines(result.stdout + result.stderr) == [
        "ShapeError: Dense(4 → 3).forward: `inputs` expected floating-point (batch, *positions, "
        "in=4), got (4,) float32: it is 1-D but at least 2-D is needed.",
        "  dims bound so far: in=4, out=3",
        "  hint: add a batch axis: `inputs[None, :]` or `inputs.reshape(1, -1)`",
        f"  at {tmp_path / 'cell.py'}:5: sn.Dense(4, 3).forward(np.zeros(4, np.float32))",
    ]
