"""The exceptions shapenn raises for bad data, and how they are shown. Imports nothing of shapenn.

A shape mistake is one headline sentence, the dims bound so far and a hint. Whoever sees it —
a script's stderr, pytest, IPython or Jupyter — should see just that, with the traceback ending
at their own call: the checkers' own exceptions are kept as an attribute, never chained, and
shapenn's wrappers re-raise with their internal frames cut (see `public`).
"""

import functools
import math
import numbers
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, TypeVar

__all__ = ["LabelError", "ShapeError", "nonnegative", "public"]

P = ParamSpec("P")
R = TypeVar("R")

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


class ShapeError(ValueError, TypeError):
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
    ) -> "ShapeError":
        """A ShapeError with the standard message, for checks of your own::

        raise ShapeError.create("Scale(4).forward", "inputs", "(batch, n=4)", "(5, 3)",
                                "`n` is 3 here but 4 in `self.scale`")
        """
        return cls(Report(where, argument, expected, got, reason, dict(bound or {}), hint))

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

    def located_at(self, where: str) -> "ShapeError":
        """The same error, reported at ``where`` (a layer's method instead of its kernel)."""
        return ShapeError(replace(self.report, where=where, located=True))

    def _render_traceback_(self) -> list[str]:
        """What IPython and Jupyter show: the message and the user's own line, no traceback."""
        return _short(self)


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
        if not os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep)
    ]
    if frames:
        last = frames[-1]
        lines.append(
            f"  at {last.filename}:{last.lineno}" + (f": {last.line}" if last.line else "")
        )
    return lines


class LabelError(ValueError):
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

    def _render_traceback_(self) -> list[str]:
        return _short(self)


# Shown as `shapenn.ShapeError`, where users import them from, not the private module.
ShapeError.__module__ = LabelError.__module__ = "shapenn"


def _label_error(message: str, where: str | None) -> LabelError:
    return LabelError(message, where=where)


def public(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a public entry point: a ShapeError or LabelError leaving it is re-raised with the
    frames inside shapenn cut, so the traceback ends at the caller's line plus this one."""

    @functools.wraps(fn)
    def entry(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True  # pytest: show the caller's line, not this frame
        try:
            return fn(*args, **kwargs)
        except (ShapeError, LabelError) as err:
            raise err.with_traceback(None) from None

    return entry


def nonnegative(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number >= 0 (NumPy scalars included); a
    ValueError naming it otherwise."""
    number = _real(value)
    if number is not None and math.isfinite(number) and number >= 0:
        return number
    raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")


def positive(owner: str, name: str, value: object) -> int:
    """``value`` as an int if it is an integer >= 1 (NumPy integers included); a ValueError
    naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _real(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)
