"""What a person sees for a shape mistake — in a script, in pytest, in IPython — is the headline,
the dims and the hint, with the traceback ending at their own line: no chained checker
exceptions, at most one frame of shapenn."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MISTAKE = """\
import numpy as np
import shapenn as sn
sn.Dense(4, 3).forward(np.zeros(4, np.float32))
"""

FIT_MISTAKE = """\
import numpy as np
import shapenn as sn
model = sn.Model([sn.Dense(2, 3), sn.Softmax()], loss=sn.CategoricalCrossentropy(),
                 optimizer=sn.SGD())
model.fit(np.zeros((5, 3), np.float32), np.zeros(5, np.int64), verbose=0)
"""

CHAIN_MISTAKE = """\
import shapenn as sn
sn.Model([sn.Dense(2, 64), sn.ReLU(), sn.Dense(32, 3)])
"""

NOISE = ("The above exception", "direct cause", "During handling", "jaxtyping", "beartype")


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "source", [MISTAKE, FIT_MISTAKE, CHAIN_MISTAKE], ids=["layer", "fit", "chain"]
)
def test_a_script_prints_the_message_and_little_else(source: str, tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(source)
    result = _run([sys.executable, "script.py"], tmp_path)
    stderr = _lines(result.stderr)
    assert result.returncode == 1
    assert len(stderr) <= 12, result.stderr
    assert not any(word in result.stderr for word in NOISE), result.stderr
    frames = [line for line in stderr if line.lstrip().startswith("File ")]
    assert sum("shapenn" in frame for frame in frames) <= 1, result.stderr
    assert 'File "' + str(tmp_path / "script.py") in result.stderr  # ends at the user's line
    assert any(line.startswith("shapenn.ShapeError: ") for line in stderr)


def test_the_issue_example_prints_at_most_twelve_lines(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(MISTAKE)
    stderr = _lines(_run([sys.executable, "script.py"], tmp_path).stderr)
    assert stderr[-3:] == [
        "shapenn.ShapeError: Dense(4 → 3).forward: `inputs` expected floating-point "
        "(batch, in=4), got (4,) float32: it is 1-D but 2-D is needed.",
        "  dims bound so far: in=4, out=3",
        "  hint: add a batch axis: `inputs[None, :]` or `inputs.reshape(1, -1)`",
    ]
    assert len(stderr) <= 12


def test_pytest_shows_the_users_line_and_the_message(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """\
            import numpy as np
            import shapenn as sn


            def test_mistake():
                layer = sn.Dense(4, 3)
                layer.forward(np.zeros(4, np.float32))
            """
        )
    )
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)
    out = result.stdout
    section = out[out.index("_ test_mistake _") : out.index("short test summary")]
    lines = _lines(section)
    assert len(lines) <= 10, section
    assert not any(word in section for word in NOISE), section
    assert "shapenn/" not in section  # no frame of shapenn's own
    assert ">       layer.forward(np.zeros(4, np.float32))" in section
    assert "E       shapenn.ShapeError: Dense(4 → 3).forward: `inputs` expected" in section


@pytest.mark.skipif(importlib.util.find_spec("IPython") is None, reason="needs IPython")
def test_ipython_shows_the_message_and_the_users_line(tmp_path: Path) -> None:
    (tmp_path / "cell.py").write_text(MISTAKE)
    result = _run(
        [sys.executable, "-m", "IPython", "--colors=NoColor", "--no-banner", "cell.py"], tmp_path
    )
    shown = _lines(result.stdout + result.stderr)
    assert shown == [
        "ShapeError: Dense(4 → 3).forward: `inputs` expected floating-point (batch, in=4), got "
        "(4,) float32: it is 1-D but 2-D is needed.",
        "  dims bound so far: in=4, out=3",
        "  hint: add a batch axis: `inputs[None, :]` or `inputs.reshape(1, -1)`",
        f"  at {tmp_path / 'cell.py'}:3: sn.Dense(4, 3).forward(np.zeros(4, np.float32))",
    ]
