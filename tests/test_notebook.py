"""The example notebook runs in a Jupyter kernel and shows what it promises: the book's first
numbers, short ShapeErrors, the model's table, a progress bar and the pictures. Its committed
outputs are what running it gives: text and error messages exactly, the accuracy it trains to
within the tolerance of ``tests/test_docs.py``'s ``~`` figures (the last digit depends on the
machine's BLAS kernel; the committed run used OpenBLAS's Haswell kernel)."""

from pathlib import Path
from typing import Any

import pytest
from test_docs import tolerance

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "first_network.ipynb"


@pytest.fixture(scope="module")
def committed() -> list[Any]:
    """The code cells as committed, with the outputs a reader sees without running anything."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": folder}}
    )
    client.execute()  # a cell that raises without the "raises-exception" tag fails here
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _text(cell: Any, name: str = "stdout") -> str:
    return "".join(o["text"] for o in cell.outputs if o.get("name") == name)


def _data(cell: Any) -> dict[str, Any]:
    for output in cell.outputs:
        if output["output_type"] == "execute_result":
            data: dict[str, Any] = output["data"]
            return data
    return {}


def test_the_books_first_numbers(cells: list[Any]) -> None:
    printed = [_text(cell) for cell in cells]
    assert "[[2.3]]\n" in printed
    assert "[[4.8]]\n" in printed
    assert "[[4.8   1.21  2.385]]\n" in printed
    assert any(p.startswith("[[ 0.5031  -1.04185 -2.03875]") for p in printed)


def test_shape_errors_show_as_their_short_message(cells: list[Any]) -> None:
    errors = [o for cell in cells for o in cell.outputs if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ShapeError", "ShapeError"]
    transposed, wrong_width = errors
    assert transposed["traceback"][-2] == "  hint: `weights` looks transposed: pass `weights.T`"
    assert wrong_width["traceback"][0].startswith("ShapeError: Model.predict: `X` expected")
    # The message and the user's line, no chained checker exceptions.
    assert all(len(e["traceback"]) <= 5 for e in errors)
    assert all("jaxtyping" not in line for e in errors for line in e["traceback"])


def test_the_model_shows_its_table_and_fit_a_progress_bar(cells: list[Any]) -> None:
    html = next(_data(c)["text/html"] for c in cells if "text/html" in _data(c))
    assert "<table>" in html and "(batch, 64)" in html and "total params: 387" in html
    training = next(c for c in cells if "model.fit" in c.source)
    bar = _text(training, "stderr")
    assert "2000/2000" in bar and "accuracy=" in bar


def _accuracy(cells: list[Any]) -> float:
    training = next(c for c in cells if "model.fit" in c.source)
    return float(_text(training).split()[-1])


def test_the_committed_accuracy_is_what_training_gives(
    committed: list[Any], cells: list[Any]
) -> None:
    shown, printed = _accuracy(committed), _accuracy(cells)
    assert abs(printed - shown) <= tolerance(shown), f"committed {shown}, trained to {printed}"


def test_the_other_committed_outputs_are_exactly_what_it_prints(
    committed: list[Any], cells: list[Any]
) -> None:
    assert [c.source for c in committed] == [c.source for c in cells]
    for before, after in zip(committed, cells, strict=True):
        if "model.fit" in before.source:
            continue
        assert _text(before) == _text(after), before.source
        assert _data(before).get("text/html") == _data(after).get("text/html"), before.source
        errors = [
            [(o["ename"], o["evalue"]) for o in cell.outputs if o["output_type"] == "error"]
            for cell in (before, after)
        ]
        assert errors[0] == errors[1], before.source


def test_the_plots_are_pictures(cells: list[Any]) -> None:
    pictures = [c for c in cells if "image/png" in _data(c)]
    assert [c.source.splitlines()[-1] for c in pictures] == [
        "history.plot()",
        "plot_decision_boundary(model, X, y)",
    ]
