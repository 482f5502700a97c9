"""The arguments the 2-D layers share: sizes given as an int or as (height, width)."""

from collections.abc import Sequence

from .._args import positive
from ..shapes import ArgumentError

__all__ = ["pair", "shown"]


def pair(owner: str, name: str, value: int | Sequence[int]) -> tuple[int, int]:
    """An int or a pair of positive ints as (height, width); a ValueError naming ``owner``
    and ``name`` otherwise."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        size = positive(owner, name, value)
        return size, size
    if len(value) != 2:
        raise ArgumentError(
            f"{owner}: {name} must be an int or a pair (height, width), got {value!r}"
        )
    return positive(owner, name, value[0]), positive(owner, name, value[1])


def shown(value: tuple[int, int] | str) -> str:
    """A size as the user would write it: ``3`` for (3, 3), ``(3, 5)`` otherwise."""
    if isinstance(value, str):
        return repr(value)
    return str(value[0]) if value[0] == value[1] else str(value)
