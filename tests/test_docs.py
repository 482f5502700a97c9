"""The documentation's Python examples run as written, and its error messages are exact.

For each page of ``docs/``, the ```python blocks are executed in order in one namespace (in a
temporary working directory, so files the examples save land there). Conventions:

* A ```text block that follows a ```python block with nothing but blank lines between them is
  *attached* to it. Other ```text blocks (shell output, illustrations) are not checked.
* A python block whose first line is ``# raises: SomeError`` must raise that exception (its
  last statement is the one that raises). Its attached text block must equal ``str(error)``
  exactly: the gallery of shape errors is tested word for word.
* Any other python block must not raise; if it has an attached text block, that block must
  equal what the python block printed, except for figures written with a ``~``.
* ``~`` marks a figure that comes out of training (an accuracy, a loss): its last digits depend
  on the order of floating-point additions, which the BLAS kernel the machine picks decides
  (OpenBLAS's Sandybridge, Haswell and SkylakeX kernels give 0.93, 0.93 and 0.94 for one
  seeded run). In an attached text block, ``~0.93`` — a ``~`` right before a number — matches
  a number printed in its place that is within the tolerance of the number shown:
  ``|printed - shown| <= 0.02 * max(1, |shown|)`` — two hundredths for accuracies and losses
  below 1 (six of the 300 samples of the spiral examples), 2 % of larger figures; it says
  nothing of figures far below 0.02, such as a regression's mean squared error. Everything
  around such figures must match exactly, and the ``~`` shows on the page as the reader sees
  it (``accuracy ~0.93``). Exact figures — shapes, the book's numbers, parameter counts — are
  written without ``~`` and compared exactly; the text of a ``# raises:`` block never takes
  ``~``.
* ```bash blocks are shown, never run.
* A page that starts with ``<!-- needs: torch, onnxruntime -->`` is run only where those
  optional packages are installed (CI installs them).
"""

import builtins
import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import shapenn as sn

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = [
    "index.md",
    "book.md",
    "book-02-04.md",
    "book-05.md",
    "book-06-10.md",
    "book-11-15.md",
    "book-16-17.md",
    "book-18-22.md",
    "shape-errors.md",
    "custom-layers.md",
    "convolutions.md",
    "sequences.md",
    "training.md",
    "saving.md",
    "testing.md",
    "outgrowing.md",
    "benchmarks.md",
    "api.md",
]
LANGUAGES = {"python", "text", "bash", "json"}

FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
RAISES = re.compile(r"#\s*raises:\s*(?P<name>[\w.]+)\s*$")
NEEDS = re.compile(r"\A<!--\s*needs:\s*(?P<modules>[\w, ]+?)\s*-->")
NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
#: ``~0.93`` in an expected text block: a figure that depends on floating-point rounding.
APPROXIMATE = re.compile(rf"~(?P<shown>{NUMBER})")
#: A figure shown as ``~x`` matches a printed ``y`` when ``|y - x| <= TOLERANCE * max(1, |x|)``.
TOLERANCE = 0.02


@dataclass
class Block:
    lang: str
    body: str
    line: int  # line of the block's first code line in the page, 1-based
    start: int  # offsets of the whole fence in the page
    end: int


@dataclass
class Example:
    code: Block
    expected: Block | None  # the attached ```text block, if any


def blocks(text: str) -> list[Block]:
    return [
        Block(
            lang=m["lang"],
            body=m["body"],
            line=text.count("\n", 0, m.start("body")) + 1,
            start=m.start(),
            end=m.end(),
        )
        for m in FENCE.finditer(text)
    ]


def examples(text: str) -> list[Example]:
    found = blocks(text)
    result = []
    for index, block in enumerate(found):
        if block.lang != "python":
            continue
        following = found[index + 1] if index + 1 < len(found) else None
        attached = (
            following is not None
            and following.lang == "text"
            and not text[block.end : following.start].strip()
        )
        result.append(Example(block, following if attached else None))
    return result


def tolerance(shown: float) -> float:
    """How far a printed figure may be from a figure shown as ``~shown`` (with a margin for the
    rounding of the subtraction itself: 0.95 is within 0.02 of 0.93)."""
    return TOLERANCE * max(1.0, abs(shown)) + 1e-9


def mismatch(printed: str, expected: str) -> str | None:
    """Why ``printed`` does not match the ``expected`` text block, or None if it does: text
    exactly, each ``~x`` as a number within ``tolerance(x)``."""
    parts = APPROXIMATE.split(expected)  # text, shown, text, shown, ..., text
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"({NUMBER})" for index, part in enumerate(parts)
    )
    found = re.fullmatch(pattern, printed)
    if found is None:
        return "the printed output differs"
    for shown, got in zip(parts[1::2], found.groups(), strict=True):
        if abs(float(got) - float(shown)) > (allowed := tolerance(float(shown))):
            return f"{got} was printed where ~{shown} is shown (tolerance {allowed:g})"
    return None


def exception_class(name: str, namespace: dict[str, object]) -> type[BaseException]:
    """``ShapeError``, ``sn.ShapeError``, ``ValueError`` … as named in a ``# raises:`` line."""
    head, _, rest = name.partition(".")
    found: object = namespace.get(head, getattr(sn, head, getattr(builtins, head, None)))
    for part in rest.split(".") if rest else []:
        found = getattr(found, part, None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise AssertionError(f"`# raises: {name}` names no exception class")
    return found


def run_page(page: str) -> int:
    """Run every example of ``page`` in one namespace; return how many ran."""
    path = DOCS / page
    text = path.read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    for example in examples(text):
        where = f"{page}:{example.code.line}"
        # Leading newlines make tracebacks point at the right line of the page.
        source = "\n" * (example.code.line - 1) + example.code.body
        code = compile(source, str(path), "exec")
        first = example.code.body.splitlines()[0] if example.code.body.strip() else ""
        raises = RAISES.fullmatch(first.strip())
        output = io.StringIO()
        if raises is not None:
            expected_type = exception_class(raises["name"], namespace)
            with (
                pytest.raises(expected_type) as caught,
                contextlib.redirect_stdout(output),
            ):
                exec(code, namespace)
            assert example.expected is not None, (
                f"{where}: a `# raises:` block needs the exact message in a ```text block "
                "right after it"
            )
            message = example.expected.body.rstrip("\n")
            assert str(caught.value) == message, f"{where}: the message differs"  # no `~` here
        else:
            with contextlib.redirect_stdout(output):
                exec(code, namespace)
            if example.expected is not None:
                printed = output.getvalue().rstrip("\n")
                expected = example.expected.body.rstrip("\n")
                problem = mismatch(printed, expected)
                assert problem is None, f"{where}: {problem}\n{printed}\n--- shown:\n{expected}"
    return len(examples(text))


def test_every_page_is_in_the_nav_and_tested() -> None:
    on_disk = sorted(p.name for p in DOCS.glob("*.md"))
    assert on_disk == sorted(PAGES)
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.findall(r"^\s*-\s[^:\n]+:\s*(\S+\.md)\s*$", config, re.M)
    assert nav == PAGES


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_use_known_languages(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    assert text.count("```") % 2 == 0, f"{page}: an unclosed code fence"
    unknown = {b.lang for b in blocks(text)} - LANGUAGES
    assert not unknown, f"{page}: code blocks in {unknown} are neither run nor allowed"


@pytest.fixture
def numpy_as_it_was() -> Iterator[None]:
    """Undo what a page's ``nnfs.init()`` does to NumPy — functions replaced, the global
    generator seeded — so that no other test sees it."""
    import numpy as np

    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    saved = [getattr(owner, name) for owner, name in patched]
    state = np.random.get_state()  # noqa: NPY002
    yield
    for (owner, name), function in zip(patched, saved, strict=True):
        setattr(owner, name, function)
    np.random.set_state(state)  # noqa: NPY002


def _needs(page: str) -> list[str]:
    """The optional packages a page names in its ``<!-- needs: ... -->`` line."""
    found = NEEDS.match((DOCS / page).read_text(encoding="utf-8"))
    return [m.strip() for m in found["modules"].split(",")] if found else []


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=[pytest.mark.torch] if "torch" in _needs(p) else []) for p in PAGES],
)
@pytest.mark.usefixtures("numpy_as_it_was")
def test_page_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in _needs(page):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    with sn.checks(True):  # the examples show the checks: run them even if SHAPENN_CHECKS=0
        run_page(page)


def test_the_gallery_shows_every_kind_of_error() -> None:
    text = (DOCS / "shape-errors.md").read_text(encoding="utf-8")
    shown = {
        match["name"].rsplit(".", 1)[-1]
        for example in examples(text)
        if (match := RAISES.fullmatch(example.code.body.splitlines()[0].strip()))
    }
    assert {"ShapeError", "LabelError", "ValueError", "DivergenceError"} <= shown


def test_the_getting_started_example_is_ten_lines() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    (training,) = [e.code.body for e in examples(text) if ".fit(" in e.code.body]
    assert len([line for line in training.splitlines() if line.strip()]) <= 12


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="needs shapenn[docs]")
def test_the_site_builds_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=DOCS.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def test_the_convention_itself() -> None:
    page = (
        "```python\nx = 1\nprint(x)\n```\n\n```text\n1\n```\n\n"
        "```python\n# raises: ValueError\nint('a')\n```\nprose\n```text\nnot attached\n```\n"
    )
    found = examples(page)
    assert [e.expected.body if e.expected else None for e in found] == ["1\n", None]


@pytest.mark.parametrize(
    ("printed", "expected", "matches"),
    [
        ("accuracy 0.93", "accuracy ~0.93", True),
        ("accuracy 0.95", "accuracy ~0.93", True),  # within 0.02
        ("accuracy 0.9267", "accuracy ~0.94", True),
        ("accuracy 0.90", "accuracy ~0.93", False),  # 0.03 off
        ("accuracy 0.96", "accuracy ~0.93", False),
        ("loss 0.074", "loss ~0.06", True),
        ("loss 2.09", "loss ~2.05", True),  # 2 % of 2.05 is 0.041
        ("loss 2.1", "loss ~2.05", False),
        ("accuracy 0.93", "accuracy 0.94", False),  # without `~`, exact
        ("accuracy: 0.93", "accuracy ~0.93", False),  # the text around a figure is exact
        ("(3, 3) [0 1 2]\nloss -0.51", "(3, 3) [0 1 2]\nloss ~-0.5", True),
        ("(3, 3) [0 1 2]\nloss -0.51", "(3, 4) [0 1 2]\nloss ~-0.5", False),
    ],
)
def test_figures_from_training_match_within_the_tolerance(
    printed: str, expected: str, matches: bool
) -> None:
    assert (mismatch(printed, expected) is None) is matches
