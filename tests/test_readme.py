"""The README's examples run as written: Python blocks are executed, REPL blocks are doctests."""

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_a_ten_line_training_example() -> None:
    (training,) = [b for b in _blocks() if "model.fit" in b]
    assert len([line for line in training.splitlines() if line.strip()]) <= 12


@pytest.mark.parametrize("block", [b for b in _blocks() if ">>>" not in b])
def test_readme_block_runs(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    if "accuracy" in block:
        accuracy = float(re.search(r"accuracy (\d\.\d+)", out).group(1))  # type: ignore[union-attr]
        assert accuracy >= 0.90


def test_readme_repl_sessions_print_what_they_show() -> None:
    sessions = "\n".join(b for b in _blocks() if ">>>" in b)
    assert sessions
    test = doctest.DocTestParser().get_doctest(sessions, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4
