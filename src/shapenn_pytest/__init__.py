"""The pytest plugin: ``pytest --shapenn-packages=mypackage`` checks ``mypackage``'s annotated
functions and classes with shapenn's checks (the same ShapeError words) during the tests.

It is registered through the ``pytest11`` entry point. It lives outside the ``shapenn``
package so that loading it imports nothing of shapenn unless the option is given: jaxtyping's
own hook (``--jaxtyping-packages=shapenn,…``) must see shapenn not yet imported.
"""

from typing import Any

__all__ = ["pytest_addoption", "pytest_load_initial_conftests"]

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
