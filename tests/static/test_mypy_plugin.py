"""shapenn's mypy plugin, where users are: scripts outside the repo, checked by mypy --strict
with ``plugins = shapenn.mypy_plugin`` in their config file.

``plugin/wrong/`` holds scripts with one size mismatch each, on the line marked
``# expect-shape: <words>``: the plugin flags that line, in words containing ``<words>``, and
nothing else; run, each raises the same ShapeError. They cover layers listed in
``Model([...])``, layers assigned to variables first, ``model.add(...)`` sequences (shapenn's
``Model`` and the book's, ``from shapenn.book import *``) and sequence models.
``plugin/correct/`` holds correct scripts (some with sizes the plugin cannot know): nothing
flags them — mypy with or without the plugin, or pyright — and each runs.
"""

import contextlib
import io
import os
import re
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import shapenn as sn

HERE = Path(__file__).parent / "plugin"
CORRECT = sorted((HERE / "correct").glob("*.py"))
WRONG = sorted((HERE / "wrong").glob("*.py"))

MARKER = re.compile(r"# expect-shape: (?P<words>.+)$")
MYPY_LINE = re.compile(
    r"^(?P<folder>\w+)[/\\](?P<file>[\w.]+\.py):(?P<line>\d+): error: (?P<text>.*)"
    r"  \[(?P<rule>[\w-]+)\]$"
)
PYRIGHT_LINE = re.compile(r"^\s*\S*?(?P<file>[\w.]+\.py):(?P<line>\d+):\d+ - error: ")

Flag = tuple[str, int, str, str]  # file, line, rule, text


def _run(args: list[str], folder: Path) -> str:
    """Run a checker in ``folder`` with no MYPYPATH or PYTHONPATH; return what it printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripts copied to a folder outside the repo, with a config with and one without
    the plugin."""
    folder = tmp_path_factory.mktemp("user")
    for kind in ("correct", "wrong"):
        shutil.copytree(HERE / kind, folder / kind)
    (folder / "plugin.ini").write_text("[mypy]\nstrict = True\nplugins = shapenn.mypy_plugin\n")
    (folder / "plain.ini").write_text("[mypy]\nstrict = True\n")
    return folder


def _mypy(folder: Path, config: str) -> tuple[set[Flag], float]:
    args = [sys.executable, "-m", "mypy", "--config-file", config, "--no-incremental"]
    start = time.perf_counter()
    output = _run([*args, "correct", "wrong"], folder)
    seconds = time.perf_counter() - start
    assert "INTERNAL ERROR" not in output and "Traceback" not in output, output
    assert "Cannot find implementation" not in output, output
    flags = {
        (m["file"], int(m["line"]), m["rule"], m["text"])
        for line in output.splitlines()
        if (m := MYPY_LINE.match(line))
    }
    return flags, seconds


@pytest.fixture(scope="module")
def with_plugin(outside: Path) -> tuple[set[Flag], float]:
    return _mypy(outside, "plugin.ini")


@pytest.fixture(scope="module")
def without_plugin(outside: Path) -> tuple[set[Flag], float]:
    return _mypy(outside, "plain.ini")


def _marker(script: Path) -> tuple[int, str]:
    lines = script.read_text(encoding="utf-8").splitlines()
    found = [(n, m["words"]) for n, line in enumerate(lines, 1) if (m := MARKER.search(line))]
    assert len(found) == 1, f"{script.name}: one `# expect-shape:` line, got {found}"
    return found[0]


def _words(message: str) -> str:
    """A ShapeError's first line and its hint: what the plugin reports on one line."""
    lines = message.splitlines()
    hints = [line.strip() for line in lines if line.strip().startswith("hint:")]
    return " ".join([lines[0], *hints])


def test_the_fixture_is_large_enough() -> None:
    assert len(WRONG) >= 30
    assert len(CORRECT) >= 40
    for script in WRONG:
        _marker(script)


@pytest.mark.parametrize("script", WRONG, ids=lambda p: p.stem)
def test_each_wrong_script_is_flagged_where_and_in_the_words_expected(
    script: Path, with_plugin: tuple[set[Flag], float]
) -> None:
    line, words = _marker(script)
    flags = {(n, rule, text) for name, n, rule, text in with_plugin[0] if name == script.name}
    assert len(flags) == 1, flags
    (found_line, rule, text) = flags.pop()
    assert (found_line, rule) == (line, "shapenn-shape")
    assert words.strip() in text, text


def test_no_correct_script_is_flagged_with_the_plugin(
    with_plugin: tuple[set[Flag], float],
) -> None:
    names = {s.name for s in CORRECT}
    assert {f for f in with_plugin[0] if f[0] in names} == set()


def test_without_the_plugin_mypy_sees_no_size(without_plugin: tuple[set[Flag], float]) -> None:
    # Sizes are invisible to NumPy's stubs: neither the correct scripts nor the wrong ones
    # are flagged (and none of the fixtures' code is flagged for anything else).
    assert without_plugin[0] == set()


def test_pyright_flags_no_script(outside: Path) -> None:
    beside = Path(sys.executable).parent / "pyright"  # the environment's own, first
    binary = str(beside) if beside.exists() else shutil.which("pyright")
    assert binary is not None
    output = _run([binary, "--pythonpath", sys.executable, "correct", "wrong"], outside)
    assert 'Import "shapenn" could not be resolved' not in output, output
    flagged = [line for line in output.splitlines() if PYRIGHT_LINE.match(line)]
    assert flagged == [], output


@pytest.mark.parametrize("script", CORRECT, ids=lambda p: p.stem)
def test_each_correct_script_runs(script: Path, tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path), contextlib.redirect_stdout(io.StringIO()):
        runpy.run_path(str(script), run_name="__main__")


@pytest.mark.parametrize("script", WRONG, ids=lambda p: p.stem)
def test_each_wrong_script_raises_the_same_words_when_run(
    script: Path, with_plugin: tuple[set[Flag], float]
) -> None:
    with pytest.raises(sn.ShapeError) as raised:
        runpy.run_path(str(script), run_name="__main__")
    (text,) = [text for name, _, _, text in with_plugin[0] if name == script.name]
    run_time = _words(str(raised.value))
    if "*positions=(" in run_time:  # data fixed the number of positions the plugin left open
        assert run_time.split(" hint: ")[1] == text.split(" hint: ")[1]
    else:  # the same words; a `?` of the plugin's may be a length the data fixed
        pattern = re.escape(text).replace(r"\?", r"(\d+|\?)")
        assert re.fullmatch(pattern, run_time), (text, run_time)


def test_the_time_the_plugin_takes(
    with_plugin: tuple[set[Flag], float],
    without_plugin: tuple[set[Flag], float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with capsys.disabled():
        print(
            f"\nmypy --strict on {len(CORRECT) + len(WRONG)} scripts: "
            f"{without_plugin[1]:.1f} s without the plugin, {with_plugin[1]:.1f} s with it"
        )
