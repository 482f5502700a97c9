"""What the benchmark scripts share: the timing rule and the line that says what ran."""

import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import shapenn as sn


def measure(run_epoch: Callable[[], None], epochs: int) -> float:
    """Median seconds per epoch over ``epochs`` epochs after one warm-up epoch."""
    run_epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def environment() -> str:
    """The date, machine and versions, PyTorch's with its thread count if installed."""
    try:
        import torch

        torch_text = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch_text = "PyTorch not installed"
    return (
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, shapenn {sn.__version__}, "
        f"{torch_text}"
    )
