"""An import hook that checks a package's own annotated functions and classes with shapenn's
checks: the same ShapeError words as shapenn's layers, for code that does not use shapenn.

Every module-level function of the package with an array annotation is wrapped with
`shapechecked`; every class has its annotated public methods checked like a layer's (its array
class annotations bind dims for them). Classes that are already shapenn layers, losses or
metrics are checked already and left alone.
"""

import importlib.abc
import importlib.machinery
import inspect
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from ..shapes import check_methods, shapechecked, specs_of

__all__ = ["install_import_hook"]


def _annotated(fn: Any) -> bool:
    hints = getattr(fn, "__annotations__", {})
    return any(specs_of(hint) for hint in hints.values() if not isinstance(hint, str))


def instrument(module: ModuleType) -> None:
    """Check the annotated functions and classes defined in ``module``."""
    for name, member in list(vars(module).items()):
        if getattr(member, "__module__", None) != module.__name__:
            continue  # imported from elsewhere
        if inspect.isfunction(member) and _annotated(member):
            if getattr(member, "__shapenn_checker__", None) is None:
                setattr(module, name, shapechecked(member))
        elif inspect.isclass(member) and "__shapenn_signature__" not in vars(member):
            check_methods(member, scoped=False)


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        instrument(module)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = tuple(packages)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not any(fullname == p or fullname.startswith(p + ".") for p in self.packages):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


@contextmanager
def install_import_hook(packages: str | Sequence[str]) -> Iterator[None]:
    """Check the annotated code of ``packages`` (imported inside the block) with shapenn.

    Example::

        with shapenn.testing.install_import_hook("mypackage"):
            import mypackage           # its annotated functions now raise ShapeError
    """
    names = [packages] if isinstance(packages, str) else list(packages)
    finder = _Finder(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder in (sys.meta_path or ()):
            sys.meta_path.remove(finder)
