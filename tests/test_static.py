"""Static checkers see the rank in shapenn's annotations: mistakes caught before running."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WRONG = """
    import numpy as np
    import shapenn as sn

    layer = sn.Dense(4, 3)
    sample: np.ndarray[tuple[int], np.dtype[np.float32]] = np.zeros(4, dtype=np.float32)
    layer.forward(sample)  # a 1-D sample where a (batch, in) batch is declared
"""

RIGHT = """
    import numpy as np
    import shapenn as sn

    layer = sn.Dense(4, 3)
    batch: np.ndarray[tuple[int, int], np.dtype[np.float32]] = np.zeros((1, 4), dtype=np.float32)
    out = layer.forward(batch)
    untyped = np.asarray([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)  # NumPy's Any shape is fine
    layer.forward(untyped)
"""


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(source))
    # MYPYPATH: an editable install is an import hook, which static checkers cannot follow.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )


def test_mypy_catches_a_1d_array_where_a_batch_is_declared(tmp_path: Path) -> None:
    result = _mypy(tmp_path, WRONG)
    assert result.returncode == 1, result.stdout
    assert 'Argument 1 to "forward" of "Dense" has incompatible type' in result.stdout
    assert "tuple[int]" in result.stdout


def test_mypy_accepts_the_correct_snippet(tmp_path: Path) -> None:
    result = _mypy(tmp_path, RIGHT)
    assert result.returncode == 0, result.stdout


@pytest.mark.skipif(shutil.which("pyright") is None, reason="pyright is not installed")
def test_pyright_catches_it_too(tmp_path: Path) -> None:
    (tmp_path / "snippet.py").write_text(textwrap.dedent(WRONG))
    config = {"extraPaths": [str(ROOT)], "pythonVersion": "3.11"}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        ["pyright", "--pythonpath", sys.executable, "snippet.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout
    assert 'Argument of type "ndarray[tuple[int], dtype[float32]]"' in result.stdout


def test_the_example_runs_and_learns() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "two_layer.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    loss = float(result.stdout.split()[1].rstrip(","))
    assert loss < 1.0986  # below chance level, ln(3)
