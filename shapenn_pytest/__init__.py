"""shapenn's pytest plugin, registered through the ``pytest11`` entry point.

* A failing test that raised one of shapenn's own errors (a ``ShapeError``, an
  ``ArgumentError``, …) shows the test's lines and the message, without shapenn's frames.
* ``pytest --shapenn-packages=mypackage`` checks ``mypackage``'s annotated functions and
  classes with shapenn's checks (the same ShapeError words) during the tests.

It lives outside the ``shapenn`` package so that loading it imports nothing of shapenn unless
the option is given: jaxtyping's own hook (``--jaxtyping-packages=shapenn,…``) must see shapenn
not yet imported.
"""

import sys
from collections.abc import Generator
from typing import Any

import pytest

__all__ = [
    "pytest_addoption",
    "pytest_load_initial_conftests",
    "pytest_runtest_makereport",
    "pytest_unconfigure",
]

_hook: Any = None


def pytest_addoption(parser: Any) -> None:
    """Add ``--shapenn-packages``."""
    parser.getgroup("shapenn").addoption(
        "--shapenn-packages",
        default=None,
        metavar="PACKAGES",
        help="comma-separated packages whose annotated code shapenn checks during the tests",
    )


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: list[str]) -> None:
    """Install the import hook before the tests (and their conftests) import anything."""
    global _hook
    known, _ = parser.parse_known_and_unknown_args(args)
    packages = getattr(known, "shapenn_packages", None)
    if not packages:
        return
    from shapenn.testing import install_import_hook

    _hook = install_import_hook([p.strip() for p in packages.split(",") if p.strip()])
    _hook.__enter__()


def pytest_unconfigure(config: Any) -> None:
    """Remove the import hook at the end of the session (not at interpreter exit, when the
    import system is already being torn down)."""
    global _hook
    if _hook is not None:
        _hook.__exit__(None, None, None)
        _hook = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Generator[None, Any, Any]:
    """Report a shapenn error without shapenn's frames: the test's lines and the message."""
    shapenn = sys.modules.get("shapenn.shapes._errors")  # loaded if it raised one
    excinfo = call.excinfo
    if shapenn is not None and excinfo is not None:
        error = excinfo.value
        if isinstance(error, shapenn.ShapennError):
            tb = shapenn.without_shapenn_frames(excinfo.tb)
            if tb is not excinfo.tb:
                call.excinfo = pytest.ExceptionInfo.from_exc_info((type(error), error, tb))
    report: Any = yield
    return report
