"""Static typing where users are: scripts outside the repo, type-checked against the installed
shapenn with no MYPYPATH, by mypy --strict and pyright.

``tests/static/correct/`` holds idiomatic, correct scripts: neither checker may flag them,
except for the few flags listed in THIRD_PARTY, which come from other packages' missing types.
``tests/static/wrong/`` holds scripts with one mistake each, on the line marked
``# expect-error`` (both checkers must flag that line and nothing else) or ``# runtime-error``
(invisible to NumPy's stubs: no checker flags it, and running it raises ShapeError).
"""

import contextlib
import io
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shapenn as sn

HERE = Path(__file__).parent / "static"
CORRECT = sorted((HERE / "correct").glob("*.py"))
WRONG = sorted((HERE / "wrong").glob("*.py"))

# (script, checker, rule): flags that come from another package, not from shapenn.
THIRD_PARTY = {
    ("c09_nnfs_spiral.py", "mypy", "import-untyped"),  # nnfs ships no type information
    ("c10_sklearn_data.py", "mypy", "import-untyped"),  # scikit-learn ships none either
    # pyright infers load_digits()'s return from scikit-learn's code: Bunch or a tuple.
    ("c10_sklearn_data.py", "pyright", "reportAttributeAccessIssue"),
}

MYPY_LINE = re.compile(r"^(?P<file>[\w.]+\.py):(?P<line>\d+): error: .*\[(?P<rule>[\w-]+)\]$")
PYRIGHT_LINE = re.compile(r"^\s*\S*?(?P<file>[\w.]+\.py):(?P<line>\d+):\d+ - error: ")
PYRIGHT_RULE = re.compile(r"\((?P<rule>report\w+)\)\s*$")


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}


def _run(args: list[str], folder: Path) -> str:
    """Run a checker in ``folder`` with no MYPYPATH or PYTHONPATH; return what it printed."""
    result = subprocess.run(
        args, cwd=folder, env=_environment(), capture_output=True, text=True, check=False
    )
    return result.stdout


def _pyright_command() -> list[str]:
    beside = Path(sys.executable).parent / "pyright"  # the environment's own, first
    binary = str(beside) if beside.exists() else shutil.which("pyright")
    assert binary is not None
    # --pythonpath: the interpreter an activated environment or an editor would give it.
    return [binary, "--pythonpath", sys.executable]


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripts copied to a folder outside the repo."""
    folder = tmp_path_factory.mktemp("user")
    for script in [*CORRECT, *WRONG]:
        shutil.copy(script, folder / script.name)
    return folder


def _mypy(folder: Path) -> set[tuple[str, int, str]]:
    output = _run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "."], folder)
    found = set()
    for line in output.splitlines():
        if match := MYPY_LINE.match(line):
            found.add((match["file"], int(match["line"]), match["rule"]))
    assert "Cannot find implementation" not in output, output
    return found


def _pyright(folder: Path) -> set[tuple[str, int, str]]:
    output = _run([*_pyright_command(), "."], folder)
    found = set()
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if match := PYRIGHT_LINE.match(line):
            rule = next(
                (r["rule"] for text in lines[index:] if (r := PYRIGHT_RULE.search(text))), "?"
            )
            found.add((match["file"], int(match["line"]), rule))
    assert 'Import "shapenn" could not be resolved' not in output, output
    return found


@pytest.fixture(scope="module")
def flags(outside: Path) -> dict[str, set[tuple[str, int, str]]]:
    return {"mypy": _mypy(outside), "pyright": _pyright(outside)}


def _marked(script: Path, marker: str) -> list[int]:
    lines = script.read_text(encoding="utf-8").splitlines()
    return [number for number, line in enumerate(lines, start=1) if f"# {marker}" in line]


def test_the_fixture_is_large_enough() -> None:
    assert len(CORRECT) >= 30
    assert len(WRONG) >= 20
    assert all(_marked(s, "expect-error") or _marked(s, "runtime-error") for s in WRONG)


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_no_correct_script_is_flagged_because_of_shapenn(
    checker: str, flags: dict[str, set[tuple[str, int, str]]]
) -> None:
    names = {s.name for s in CORRECT}
    flagged = {
        (name, line, rule)
        for name, line, rule in flags[checker]
        if name in names and (name, checker, rule) not in THIRD_PARTY
    }
    assert flagged == set()


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
@pytest.mark.parametrize("script", WRONG, ids=lambda p: p.stem)
def test_each_wrong_script_is_flagged_exactly_where_it_is_wrong(
    checker: str, script: Path, flags: dict[str, set[tuple[str, int, str]]]
) -> None:
    lines = {line for name, line, _ in flags[checker] if name == script.name}
    assert lines == set(_marked(script, "expect-error"))


@pytest.mark.parametrize("script", CORRECT, ids=lambda p: p.stem)
def test_each_correct_script_runs(script: Path, tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path), contextlib.redirect_stdout(io.StringIO()):
        runpy.run_path(str(script), run_name="__main__")


@pytest.mark.parametrize(
    "script", [s for s in WRONG if _marked(s, "runtime-error")], ids=lambda p: p.stem
)
def test_what_the_stubs_cannot_see_is_a_shape_error_at_run_time(script: Path) -> None:
    with pytest.raises(sn.ShapeError):
        runpy.run_path(str(script), run_name="__main__")


def test_the_install_is_visible_to_static_checkers() -> None:
    # The README installs with `pip install -e .`: hatchling writes a plain path entry in a
    # .pth file (no import hook, which neither mypy nor pyright could follow).
    import site

    root = str(Path(sn.__file__).parent.parent)
    entries = [
        line.strip()
        for folder in site.getsitepackages()
        for pth in Path(folder).glob("*shapenn*.pth")
        for line in pth.read_text().splitlines()
        if line.strip()
    ]
    if not entries:  # a regular (not editable) install: the package is in site-packages
        assert "site-packages" in sn.__file__
        return
    assert set(entries) == {root}, entries


def test_pyright_verifytypes_scores_at_least_95_percent(tmp_path: Path) -> None:
    output = _run([*_pyright_command(), "--verifytypes", "shapenn", "--ignoreexternal"], tmp_path)
    score = re.search(r"Type completeness score: ([\d.]+)%", output)
    assert score is not None, output
    assert float(score[1]) >= 95.0, output
