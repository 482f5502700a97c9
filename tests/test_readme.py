"""The README's Python examples run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    text = README.read_text()
    return [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if ">>>" not in b]


def test_the_readme_has_a_ten_line_training_example() -> None:
    (training,) = [b for b in _blocks() if "model.fit" in b]
    assert len([line for line in training.splitlines() if line.strip()]) <= 12


@pytest.mark.parametrize("block", _blocks())
def test_readme_block_runs(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    if "accuracy" in block:
        accuracy = float(re.search(r"accuracy (\d\.\d+)", out).group(1))  # type: ignore[union-attr]
        assert accuracy >= 0.90
