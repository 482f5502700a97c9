"""How many BLAS threads a model's matrix products use.

On a small workload a second BLAS thread mostly spins: measured with the 784-128-128-10 MLP
(118,282 parameters) on 2 cores, a second thread gave +3% at batch 32 and 64 for 47% and 25%
more CPU time, against +6% at batch 128 and +17% at 256 for no more CPU time. So by default
``fit``, ``evaluate`` and ``predict`` use one thread below ``PARALLEL_WORK`` multiply-adds per
step (batch size × parameters; for a convolution's, × the pixels of its output) and the BLAS
library's own setting above it; ``threads=`` overrides the choice. NumPy's setting is changed
only inside the call, and only for this process's BLAS, through threadpoolctl.
"""

import importlib
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from ._args import as_integer, shown
from .shapes import ArgumentError

__all__ = ["PARALLEL_WORK", "blas_libraries", "blas_threads"]

#: Multiply-adds per step from which more than one BLAS thread is used by default.
PARALLEL_WORK = 1 << 23

#: The most threads ``threads=`` takes: more than any machine has, fewer than BLAS can hold.
MAX_THREADS = 4096

# The BLAS setting is one per process, so calls that overlap (threads, asyncio) share it:
# while any runs, the smallest limit asked for holds; the last to finish restores what was
# there before the first began (not what the one before it saw, which may be a limit).
_lock = threading.Lock()
_active: Counter[int] = Counter()
_original: list[Any] = []  # the limiter of the first call, which restores the original


@cache
def _controller() -> Any:
    # By name: threadpoolctl ships no type information, which would fail a user's mypy run.
    # Creating the controller scans the loaded libraries, so it is done once.
    return importlib.import_module("threadpoolctl").ThreadpoolController()


def blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded when first asked (NumPy's among
    them: it loads its BLAS on import); each has ``internal_api``, OpenBLAS's also
    ``architecture`` (the kernels it picked) in the threadpoolctl versions that report it."""
    return [library for library in _controller().lib_controllers if library.user_api == "blas"]


def choose(threads: int | None, work: int) -> int | None:
    """The thread limit for ``work`` multiply-adds per step: ``threads`` if given, else 1 below
    PARALLEL_WORK and None (the library's own setting) above it."""
    if threads is not None:
        number = as_integer(threads)
        if number is None or not 1 <= number <= MAX_THREADS:
            raise ArgumentError(
                f"threads must be an integer from 1 to {MAX_THREADS} or None, got {shown(threads)}"
            )
        return number
    return 1 if work < PARALLEL_WORK else None


@contextmanager
def blas_threads(threads: int | None, work: int) -> Iterator[None]:
    """Run the block with the BLAS thread limit `choose` gives."""
    limit = choose(threads, work)
    if limit is None:
        yield
        return
    with _lock:
        if not _active:
            _original.append(_controller().limit(limits=limit, user_api="blas"))
        elif limit < min(_active):
            _controller().limit(limits=limit, user_api="blas")
        _active[limit] += 1
    try:
        yield
    finally:
        with _lock:
            _active[limit] -= 1
            if not _active[limit]:
                del _active[limit]
            if not _active:
                _original.pop().restore_original_limits()
            elif limit < min(_active):
                _controller().limit(limits=min(_active), user_api="blas")
