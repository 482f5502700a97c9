"""The exceptions shapenn raises. Imports nothing of shapenn."""

import math
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["LabelError", "ShapeError", "nonnegative"]


@dataclass(frozen=True)
class _Report:
    """The parts of a shape or dtype mistake, kept apart so a caller can relocate it."""

    where: str
    argument: str
    expected: str
    got: str
    reason: str
    bound: dict[str, int | tuple[int, ...]] = field(
        default_factory=dict[str, int | tuple[int, ...]]
    )
    hint: str | None = None


class ShapeError(ValueError, TypeError):
    """An array has the wrong shape, rank or dtype for the function or layer it was passed to.

    It subclasses both `ValueError` and `TypeError`, so code that already catches what NumPy
    raises for a bad shape (`ValueError`) or what a type checker raises (`TypeError`) still
    catches it.

    The message is one headline sentence — where, which argument, what was expected, what was
    got and why — followed by the dims bound so far and a hint when one applies::

        Dense(4 → 3).forward: `inputs` expected (batch, in=4), got (4, 2) float32:
        `in` is 2 here but 4 in `weights`.
          dims bound so far: in=4, out=3
          hint: `inputs` looks transposed: pass `inputs.T`

    (the headline is one line; it is wrapped here).

    Attributes:
        where: the function or layer method, e.g. ``Dense(4 → 3).forward``.
        argument: the argument at fault, e.g. ``inputs``.
        expected: the expected shape with dim names and known sizes, e.g. ``(batch, in=4)``.
        got: the actual shape and dtype, e.g. ``(3, 3) float32``.
        reason: why it does not fit, e.g. ``in is 3 here but 4 in weights``.
        bound: the dims bound so far, name → size.
        hint: how to fix it, or None.

    The raw report of the underlying checker (jaxtyping + beartype), when there is one, is
    reachable as ``__cause__``.
    """

    def __init__(self, report: _Report) -> None:
        self.report = report
        super().__init__(_render(report))

    def __reduce__(self) -> tuple[type["ShapeError"], tuple[_Report]]:
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
        bound: dict[str, int | tuple[int, ...]] | None = None,
        hint: str | None = None,
    ) -> "ShapeError":
        """A ShapeError with the standard message, e.g. from a custom layer's
        ``compute_output_shape``::

            raise ShapeError.create(f"{self!r}", "inputs", "(batch, n=4)", "(batch, 3)",
                                    "`n` is 3 here but 4 in `scale`")
        """
        return cls(_Report(where, argument, expected, got, reason, dict(bound or {}), hint))

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
    def bound(self) -> dict[str, int | tuple[int, ...]]:
        return dict(self.report.bound)

    @property
    def hint(self) -> str | None:
        return self.report.hint

    def located(self, where: str) -> "ShapeError":
        """The same error, reported at ``where`` (e.g. a layer's method instead of its kernel)."""
        moved = ShapeError(replace(self.report, where=where))
        moved.__cause__ = self.__cause__
        return moved


def _render(report: _Report) -> str:
    head = f"{report.where}: `{report.argument}` expected {report.expected}, got {report.got}"
    lines = [f"{head}: {report.reason}." if report.reason else f"{head}."]
    if report.bound:
        dims = ", ".join(f"{name}={size}" for name, size in report.bound.items())
        lines.append(f"  dims bound so far: {dims}")
    if report.hint:
        lines.append(f"  hint: {report.hint}")
    return "\n".join(lines)


class LabelError(ValueError):
    """Class labels outside ``[0, classes)``, or targets out of a loss's range.

    Attributes:
        where: the function or layer method that refused them, or None.
        message: the message without its location.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message, self.where = message, where
        super().__init__(f"{where}: {message}" if where else message)

    def located(self, where: str) -> "LabelError":
        """The same error, reported at ``where``."""
        return LabelError(self.message, where=where)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_label_error, (self.message, self.where))


def _label_error(message: str, where: str | None) -> LabelError:
    return LabelError(message, where=where)


def nonnegative(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite number >= 0; a ValueError naming it otherwise."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    ):
        return float(value)
    raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
