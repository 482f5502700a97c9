"""A model's summary: each layer with its named output shape and parameter count, as text (for
``print``) and as HTML (for Jupyter), built from the chain's own shapes and the walk over
state."""

import html
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from .._args import function
from ..layers import Layer
from ..shapes import Size, format_shape


@runtime_checkable
class Model(Protocol):
    """What a summary reads of a model (so this module needs no model)."""

    layers: list[Layer]
    loss: Any
    optimizer: Any

    def build(self) -> Sequence[tuple[Size, ...] | None]: ...

    def count_params(self) -> int: ...


__all__ = ["html_table", "printer", "rows", "text"]

_HEADER = ("#", "layer", "output shape", "params")


def rows(model: "Model") -> list[tuple[str, str, str, str]]:
    """The header and one row per layer: index, layer, output shape, parameters (its own and
    those of the layers it owns)."""
    shapes = model.build()
    found: list[tuple[str, str, str, str]] = [_HEADER]
    for index, (layer, shape) in enumerate(zip(model.layers, shapes, strict=True)):
        params = sum(p.value.size for p in layer.parameters())
        shown = format_shape(shape) if shape is not None else "(depends on the input)"
        found.append((str(index), repr(layer), shown, f"{params:,}"))
    return found


def printer(print_fn: object) -> Callable[..., Any] | None:
    """``print_fn`` if it is a function to print the summary with (``print``, a logger's
    ``info``) or None (only return it); an ArgumentError naming it otherwise, before the
    summary is computed."""
    return function("Model.summary", "print_fn", print_fn, takes="of one str (print, logger.info)")


def _notes(model: "Model") -> list[str]:
    notes = [f"total params: {model.count_params():,}"]
    buffered = sum(b.value.size for layer in model.layers for b in layer.buffers())
    if buffered:
        notes.append(f"buffers (saved, not trained): {buffered:,}")
    notes += [f"loss: {model.loss!r}"] if model.loss else []
    notes += [f"optimizer: {model.optimizer!r}"] if model.optimizer else []
    return notes


def text(model: "Model") -> str:
    """The summary as an aligned text table."""
    table = rows(model)
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = [
        "  ".join(
            cell.rjust(w) if i in (0, 3) else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]
    rule = "-" * max(len(line) for line in lines)
    notes = _notes(model)
    return "\n".join([lines[0], rule, *lines[1:], rule, *notes])


def html_table(model: "Model") -> str:
    """The summary as an HTML table, which Jupyter shows for a model."""
    header, *body = rows(model)
    cell = "<td style='text-align:{}'>{}</td>".format
    lines = [
        "<table>",
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>",
    ]
    for row in body:
        aligns = ("right", "left", "left", "right")
        cells = "".join(cell(a, html.escape(v)) for a, v in zip(aligns, row, strict=True))
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</table>")
    lines.append("<p>" + "<br>".join(html.escape(n) for n in _notes(model)) + "</p>")
    return "\n".join(lines)
