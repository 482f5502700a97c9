"""The registry: every layer, loss, optimizer and metric class, found by name.

Saving writes a class's registered name and its config; loading looks the name up here and
calls ``from_config``. Classes register themselves when they are defined (by subclassing
`Registered`), so a user's own layer is saved and loaded exactly like a built-in one. Imports
nothing of shapenn.
"""

import inspect
import math
from typing import Any, ClassVar, TypeVar

import numpy as np

from .shapes import ArgumentError

__all__ = ["JSONValue", "Registered", "jsonable", "lookup", "registered_name"]

JSONValue = Any  # a value json.dumps accepts: None, bool, int, float, str, lists and dicts

T = TypeVar("T", bound="Registered")

_TABLES: dict[str, dict[str, type["Registered"]]] = {}


def registered_name(cls: type) -> str:
    """The name a class is saved under: its own name for shapenn's classes, its module and
    qualified name for everyone else's (``mypackage.layers.Scale``)."""
    if cls.__module__.split(".", 1)[0] == "shapenn":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def lookup(kind: str, name: str) -> type["Registered"] | None:
    """The class of ``kind`` (``layer``, ``loss``, ``optimizer``, ``metric``) saved as ``name``."""
    return _TABLES.get(kind, {}).get(name)


def jsonable(value: Any, *, owner: str, name: str) -> JSONValue:
    """``value`` as plain JSON data: NumPy scalars and dtypes become numbers and strings,
    tuples become lists. A TypeError naming ``owner`` and ``name`` for anything else."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ArgumentError(f"cannot save {owner}: `{name}` is {value}")
        return value
    if isinstance(value, list | tuple):
        return [jsonable(v, owner=owner, name=name) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: jsonable(v, owner=owner, name=f"{name}.{k}") for k, v in value.items()}
    raise ArgumentError(
        f"cannot save {owner}: `{name}` is a {type(value).__name__}; "
        "a config holds numbers, strings, booleans, None and lists of them"
    )


#: The methods each kind computes with, which its base leaves to subclasses (they raise
#: NotImplementedError there): a class that inherits one of them unchanged is abstract.
REQUIRED: dict[str, tuple[str, ...]] = {
    "layer": ("forward",),
    "loss": ("forward",),
    "metric": ("calculate",),
}


def _abstract(cls: type["Registered"]) -> bool:
    """Whether ``cls`` cannot be used as it is: abstract by ``abc``, or lacking a method of
    `REQUIRED` that only the base of its kind defines."""
    if inspect.isabstract(cls):
        return True
    kind_base = next(c for c in cls.__mro__ if "registry_kind" in vars(c))
    return any(
        getattr(cls, name, None) is getattr(kind_base, name, None)
        for name in REQUIRED.get(cls.registry_kind, ())
    )


class Registered:
    """A class whose subclasses are registered under ``kind`` and rebuilt from their config.

    ``get_config()`` reads back each argument of ``__init__`` from the attribute of the same
    name (as scikit-learn's ``get_params`` does); an argument with a default and no attribute
    (such as ``seed``) is left out. Override it, with ``from_config``, for anything else.
    """

    registry_kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The base of a kind (the class that sets registry_kind), private helpers and abstract
        # helpers (a class that still lacks a method its kind computes with, such as
        # Regularized, the base of Dense and Conv2D) are not things a model holds: a file
        # naming one would load into an object that fails at its first use.
        base = "registry_kind" in vars(cls)
        if (
            cls.registry_kind
            and not base
            and not cls.__name__.startswith("_")
            and not _abstract(cls)
        ):
            _TABLES.setdefault(cls.registry_kind, {})[registered_name(cls)] = cls

    def get_config(self) -> dict[str, JSONValue]:
        """The keyword arguments that rebuild this object with ``from_config``."""
        config: dict[str, JSONValue] = {}
        kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or parameter.kind in kinds:
                continue
            if hasattr(self, name):
                config[name] = jsonable(getattr(self, name), owner=type(self).__name__, name=name)
            elif parameter.default is inspect.Parameter.empty:
                raise ArgumentError(
                    f"cannot save {self!r}: its __init__ takes `{name}` but it keeps no "
                    f"attribute `{name}` to read it back from; store it as `self.{name}`, "
                    "or define get_config() and from_config()"
                )
        return config

    @classmethod
    def from_config(cls: type[T], config: dict[str, JSONValue]) -> T:
        """Rebuild an object from ``get_config()``'s output."""
        return cls(**config)
