"""The exceptions shapenn raises on purpose, and how they are shown. Imports nothing of shapenn.

Every error shapenn raises on purpose is a `ShapennError`: a shape mistake (`ShapeError`), a
label out of range (`LabelError`), a bad argument (`ArgumentError`), an object used before the
step that prepares it (`NotReadyError`), a missing optional package (`MissingDependencyError`),
a path that cannot be written (`PathError`), and the errors of training, files and export.

Whoever sees one — a script's stderr, pytest, IPython or Jupyter — should see its message with
the traceback ending at their own call, never a frame inside shapenn nor a chained checker
exception:

* IPython and Jupyter call `ShapennError._render_traceback_`: the message and the user's line.
* pytest: the ``shapenn_pytest`` plugin (installed with shapenn) drops shapenn's frames from a
  ShapennError's traceback; shapenn's entry points also mark their own frame hidden.
* A script: the first time a ShapennError is created, `sys.excepthook` is wrapped so that an
  *uncaught* ShapennError prints without shapenn's frames (every other exception prints as
  before). ``SHAPENN_TRACEBACK=full`` keeps every frame, for a bug report. Nothing is changed
  on import.
"""

import functools
import os
import sys
import threading
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "ArgumentError",
    "LabelError",
    "MissingDependencyError",
    "NotReadyError",
    "PathError",
    "ShapeError",
    "ShapennError",
    "is_shapenn_frame",
    "public",
    "without_shapenn_frames",
]

P = ParamSpec("P")
R = TypeVar("R")

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_hook_lock = threading.Lock()


def is_shapenn_frame(filename: str) -> bool:
    """Whether a traceback frame's file is part of the shapenn package."""
    return os.path.abspath(filename).startswith(_PACKAGE + os.sep)


def without_shapenn_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback ``tb`` without its frames inside shapenn (``tb`` itself if that would
    leave nothing, or when ``SHAPENN_TRACEBACK=full``)."""
    if os.environ.get("SHAPENN_TRACEBACK", "").strip().lower() == "full":
        return tb
    kept = []
    walk = tb
    while walk is not None:
        if not is_shapenn_frame(walk.tb_frame.f_code.co_filename):
            kept.append(walk)
        walk = walk.tb_next
    if not kept:
        return tb
    rebuilt: types.TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def _shorten_script_tracebacks() -> None:
    """Wrap `sys.excepthook` (once) so that an uncaught ShapennError prints without shapenn's
    frames; any other exception goes to the hook that was there before, untouched."""
    with _hook_lock:
        previous = sys.excepthook
        if getattr(previous, "__shapenn__", False):
            return

        def excepthook(
            kind: type[BaseException],
            value: BaseException,
            tb: types.TracebackType | None,
        ) -> Any:
            if isinstance(value, ShapennError):
                # The default hook prints the exception's own __traceback__, not ``tb``.
                tb = without_shapenn_frames(tb)
                value = value.with_traceback(tb)
            return previous(kind, value, tb)

        excepthook.__shapenn__ = True  # type: ignore[attr-defined]
        sys.excepthook = excepthook


class ShapennError(Exception):
    """The base of every error shapenn raises on purpose; each also subclasses the built-in
    error a Python user would expect to catch (`ShapeError` is a ValueError and a TypeError,
    `ArgumentError` likewise, `DivergenceError` an ArithmeticError, …).

    Shown short everywhere: the message and the line of the caller's that raised it.
    """

    def __init__(self, *args: Any) -> None:
        _shorten_script_tracebacks()
        super().__init__(*args)

    def _render_traceback_(self) -> list[str]:
        """What IPython and Jupyter show: the message and the user's own line, no traceback."""
        return _short(self)


class ArgumentError(ShapennError, ValueError, TypeError):
    """An argument shapenn cannot use: of the wrong type, out of range, or data it cannot
    train on (NaN, empty, a model without a loss). The message names the argument, what was
    got and what to do. Catch it as a ValueError or a TypeError, as you would NumPy's."""


class NotReadyError(ShapennError, RuntimeError, AttributeError):
    """An object used before the step that prepares it: ``backward`` before ``forward``, a
    layer's ``output`` before any forward, the book's Model before ``finalize``."""


class MissingDependencyError(ShapennError, ImportError):
    """An optional package is needed (matplotlib for plots, onnx for export, …); the message
    names the extra that installs it."""


class PathError(ShapennError, OSError):
    """A path shapenn cannot read or write as asked (a folder, a missing folder, no
    permission, a device): refused before anything is written."""


@dataclass(frozen=True)
class Report:
    """The parts of a shape or dtype mistake, kept apart so a caller can relocate it.

    ``located`` is True once the report names a layer (or model) rather than a kernel, so an
    outer layer does not claim an inner layer's error.
    """

    where: str
    argument: str
    expected: str
    got: str
    reason: str
    bound: dict[str, Any] = field(default_factory=dict[str, Any])
    hint: str | None = None
    steps: tuple[str, ...] = ()
    checker: str | None = None
    located: bool = False
    dim: str | None = None  # the dim to blame, when one is
    axis: int | None = None  # the axis to blame, when one is
    needed: Any = None  # the size the dim needed there, when known


class ShapeError(ShapennError, ValueError, TypeError):
    """An array has the wrong shape, rank or dtype for the function or layer it was passed to.

    It subclasses both `ValueError` and `TypeError`, so code that already catches what NumPy
    raises for a bad shape (`ValueError`) or what a type checker raises (`TypeError`) still
    catches it.

    The message is one headline sentence — where, which argument, what was expected, what was
    got and why — followed by the dims bound so far and a hint when one applies::

        Dense(4 → 3).forward: `inputs` expected floating-point (batch, in=4), got (4, 2)
        float32: `in` is 2 here but 4 in `self.weights`.
          dims bound so far: in=4, out=3
          hint: `inputs` looks transposed: pass `inputs.T`

    (the headline is one line; it is wrapped here).

    Attributes:
        where: the function or layer method, e.g. ``Dense(4 → 3).forward``.
        argument: the argument at fault, e.g. ``inputs``.
        expected: the expected shape with dim names and known sizes, e.g. ``(batch, in=4)``.
        got: the actual shape and dtype, e.g. ``(3, 3) float32``.
        reason: why it does not fit, e.g. ``in is 3 here but 4 in self.weights``.
        bound: the dims bound so far, name → size.
        hint: how to fix it, or None.
        steps: how the sizes got there, one line per step, for a chain of layers.
        checker_report: the words of the underlying checker (jaxtyping + beartype), when it
            ran; kept here rather than chained, so it is never printed unasked.
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(_render(report))

    def __reduce__(self) -> tuple[type["ShapeError"], tuple[Report]]:
        return (ShapeError, (self.report,))  # picklable: for multiprocessing, pytest-xdist

    @classmethod
    def create(
        cls,
        where: str,
        argument: str,
        expected: str,
        got: str,
        reason: str,
        *,
        bound: dict[str, Any] | None = None,
        hint: str | None = None,
        steps: tuple[str, ...] = (),
        located: bool = False,
    ) -> "ShapeError":
        """A ShapeError with the standard message, for checks of your own::

        raise ShapeError.create("Scale(4).forward", "inputs", "(batch, n=4)", "(5, 3)",
                                "`n` is 3 here but 4 in `self.scale`")

        ``steps`` are the lines of "how the sizes got there"; ``located`` marks an error that
        already names the layer or model to blame, so an outer layer does not restate it.
        """
        report = Report(where, argument, expected, got, reason, dict(bound or {}), hint)
        return cls(replace(report, steps=steps, located=located))

    @property
    def dim(self) -> str | None:
        """The dim to blame, when one is (``in``)."""
        return self.report.dim

    @property
    def axis(self) -> int | None:
        """The axis to blame, when one is."""
        return self.report.axis

    @property
    def needed(self) -> Any:
        """The size the blamed dim needed there, when known."""
        return self.report.needed

    @property
    def where(self) -> str:
        return self.report.where

    @property
    def argument(self) -> str:
        return self.report.argument

    @property
    def expected(self) -> str:
        return self.report.expected

    @property
    def got(self) -> str:
        return self.report.got

    @property
    def reason(self) -> str:
        return self.report.reason

    @property
    def bound(self) -> dict[str, Any]:
        return dict(self.report.bound)

    @property
    def hint(self) -> str | None:
        return self.report.hint

    @property
    def steps(self) -> tuple[str, ...]:
        return self.report.steps

    @property
    def checker_report(self) -> str | None:
        return self.report.checker

    def with_hint(self, hint: str) -> "ShapeError":
        """The same error with ``hint`` as its hint."""
        return ShapeError(replace(self.report, hint=hint))

    def located_at(self, where: str) -> "ShapeError":
        """The same error, reported at ``where`` (a layer's method instead of its kernel)."""
        return ShapeError(replace(self.report, where=where, located=True))


def _render(report: Report) -> str:
    head = f"{report.where}: `{report.argument}` expected {report.expected}, got {report.got}"
    lines = [f"{head}: {report.reason}." if report.reason else f"{head}."]
    if report.bound:
        dims = ", ".join(f"{name}={_size(size)}" for name, size in report.bound.items())
        lines.append(f"  dims bound so far: {dims}")
    if report.steps:
        lines.append("  how the sizes got there:")
        lines.extend(f"    {step}" for step in report.steps)
    if report.hint:
        lines.append(f"  hint: {report.hint}")
    return "\n".join(lines)


def _size(size: Any) -> str:
    if isinstance(size, tuple):
        return "(" + ", ".join(map(str, size)) + ("," if len(size) == 1 else "") + ")"
    return str(size)


def _short(error: BaseException) -> list[str]:
    """The exception's message, headed by its type, and the last frame outside shapenn."""
    lines = f"{type(error).__name__}: {error}".splitlines()
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not is_shapenn_frame(frame.filename)
    ]
    if frames:
        last = frames[-1]
        lines.append(
            f"  at {last.filename}:{last.lineno}" + (f": {last.line}" if last.line else "")
        )
    return lines


class LabelError(ShapennError, ValueError):
    """Class labels outside ``[0, classes)``, or targets out of a loss's range.

    Attributes:
        where: the function or layer method that refused them, or None.
        message: the message without its location.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message: str = message
        self.where: str | None = where
        super().__init__(f"{where}: {message}" if where else message)

    def located_at(self, where: str) -> "LabelError":
        """The same error, reported at ``where``."""
        return LabelError(self.message, where=where)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_label_error, (self.message, self.where))


# Shown as `shapenn.ShapeError`, where users import them from, not the private module.
for _shown in (
    ShapennError,
    ShapeError,
    LabelError,
    ArgumentError,
    NotReadyError,
    MissingDependencyError,
    PathError,
):
    _shown.__module__ = "shapenn"


def _label_error(message: str, where: str | None) -> LabelError:
    return LabelError(message, where=where)


def public(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a public entry point: a ShapennError leaving it is re-raised with the frames inside
    shapenn cut, so that even a checker that keeps every frame shows the caller's line and
    this one (which pytest is told to hide)."""

    @functools.wraps(fn)
    def entry(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True  # pytest: show the caller's line, not this frame
        try:
            return fn(*args, **kwargs)
        except ShapennError as err:
            raise err.with_traceback(None) from None

    return entry
