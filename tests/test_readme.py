"""The README's examples run as written: Python blocks are executed, REPL blocks are doctests.

In a Python block, a ``print(...)`` line that ends in a comment shows what it prints: the
block's printed lines are compared, in order, with those comments. A comment ``# about 0.93``
is a figure that comes out of training, whose last digits depend on the machine's BLAS kernel:
the last number on the printed line must be within the tolerance of ``tests/test_docs.py``'s
``~0.93`` (``|printed - shown| <= 0.02 * max(1, |shown|)``). Any other comment must equal the
printed line exactly.
"""

import doctest
import re
from pathlib import Path

import pytest
from test_docs import NUMBER, tolerance

README = Path(__file__).resolve().parents[1] / "README.md"
SHOWN = re.compile(r"^\s*print\(.*\)\s+#\s?(?P<shown>.*?)\s*$", re.M)
ABOUT = re.compile(rf"about (?P<figure>{NUMBER})")


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_a_ten_line_training_example() -> None:
    training = next(b for b in _blocks() if "model.fit" in b)
    assert len([line for line in training.splitlines() if line.strip()]) <= 12


def matches(printed: str, shown: str) -> bool:
    """Whether a printed line is what a ``print(...)  # shown`` comment says."""
    about = ABOUT.fullmatch(shown)
    if about is None:
        return printed == shown
    numbers = re.findall(NUMBER, printed)
    figure = float(about["figure"])
    return bool(numbers) and abs(float(numbers[-1]) - figure) <= tolerance(figure)


@pytest.mark.parametrize("block", [b for b in _blocks() if ">>>" not in b])
def test_readme_block_prints_what_its_comments_show(
    block: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the files a block writes (normed.npz) land there
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.splitlines()
    shown = SHOWN.findall(block)
    if not shown:
        return
    assert len(printed) == len(shown), (printed, shown)
    for line, comment in zip(printed, shown, strict=True):
        assert matches(line, comment), f"printed {line!r}, the README shows # {comment}"


def test_the_readme_shows_a_figure_from_training_as_about() -> None:
    assert any("about" in shown for block in _blocks() for shown in SHOWN.findall(block))
    assert matches("accuracy 0.927", "about 0.93") and matches("accuracy 0.94", "about 0.93")
    assert not matches("accuracy 0.90", "about 0.93") and not matches("accuracy", "about 0.93")
    assert matches("[('batch', 4)]", "[('batch', 4)]") and not matches("[('batch', 3)]", "[4]")


def test_readme_repl_sessions_print_what_they_show() -> None:
    sessions = "\n".join(b for b in _blocks() if ">>>" in b)
    assert sessions
    test = doctest.DocTestParser().get_doctest(sessions, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4
