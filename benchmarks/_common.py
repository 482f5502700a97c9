"""What the benchmark scripts share: the timing rule, the memory rule and the line that says
what ran."""

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

import shapenn as sn

MiB = 1 << 20


#: The runs that share a block and take turns call by call: shapenn's, checks on and off.
TOGETHER = ("shapenn (checks on)", "shapenn (checks off)")


def take_turns(
    runs: Mapping[str, Callable[[], None]],
    measured: int,
    rounds: int | None = None,
    together: Collection[str] = TOGETHER,
) -> dict[str, list[float]]:
    """The seconds of each run's ``measured`` timed calls (epochs, chunks), taken in blocks,
    in the order of the rounds (so that the i-th call of two runs were timed seconds apart).

    The runs named in ``together`` (shapenn with checks on and off) share one block, in which
    they take turns call by call, so that their ratio carries no drift of the machine; every
    other run has a block of its own. Each block begins with a warm-up call of each of its
    runs, then that round's share of the timed ones; there are ``rounds`` rounds (by default
    one per timed call), the order of the blocks and of the runs in them reversed every other
    round, so that a slow spell falls on all of them alike.

    Blocks, not single calls in turn: a library's worker threads keep their cores busy for a
    while after its last call, and the call of whichever runs next pays for it. Measured with
    the LeNet benchmark, PyTorch's step took 3.6-3.8 ms alone and 5.7 ms when its epochs
    alternated with shapenn's one by one (3.8 ms with OpenBLAS's threads told to sleep at
    once, ``OPENBLAS_THREAD_TIMEOUT=4``); the warm-up at the start of each block absorbs that.
    Even among NumPy runs the order shows: taking turns with the book's loop and the matmul
    ceiling too, shapenn's checks on / off read 0.88-0.97 on the MLP at batch 32 to 512, and
    0.96-1.07 taking turns with each other only.

    Many short rounds, not two long ones: on a shared machine whose speed drifts by 20-50 %
    over seconds, two rounds put each library's timed calls in two stretches of time, and the
    two reversed blocks in the middle run back to back. A slow spell there fell on one library
    alone: PyTorch's GPT read 306 samples/s in one run, 710-1,100 chunk by chunk alone.
    """
    rounds = measured if rounds is None else rounds
    shared = [name for name in runs if name in together]
    blocks = ([shared] if shared else []) + [[name] for name in runs if name not in together]
    shares = [measured // rounds + (round_ < measured % rounds) for round_ in range(rounds)]
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_, share in enumerate(shares):
        forward = round_ % 2 == 0
        for block in blocks if forward else reversed(blocks):
            members = block if forward else block[::-1]
            for name in members:
                runs[name]()
            for _ in range(share):
                for name in members:
                    start = time.perf_counter()
                    runs[name]()
                    times[name].append(time.perf_counter() - start)
    return times


def how_timed(count: int, unit: str, each: str = "") -> str:
    """The line under a benchmark's title that says how `take_turns` timed ``count`` calls
    (``unit``: epoch, chunk; ``each``: what one holds) and how `speedup` reads them."""
    return (
        f"median of {count} {unit}s{each}; {count} rounds of a block per implementation "
        f"(shapenn's two runs taking turns in one) of a warm-up {unit} and a timed one; "
        "ratios: the median of the rounds' ratios"
    )


def medians(times: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """The median seconds of each run's timed calls."""
    return {name: statistics.median(spent) for name, spent in times.items()}


def speedup(times: Mapping[str, Sequence[float]], run: str, baseline: str) -> float:
    """How many times faster ``run`` is than ``baseline``: the median, over the rounds, of
    the baseline's seconds over the run's in the same round. The two were timed seconds
    apart, so a slow spell of the machine, which stretches both, divides out."""
    pairs = zip(times[run], times[baseline], strict=True)
    return statistics.median(theirs / ours for ours, theirs in pairs)


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def training_peak(run_epoch: Callable[[], None], epochs: int = 2) -> int:
    """How far, in bytes, this process's resident memory rises above what it holds before
    training while ``run_epoch`` trains ``epochs`` epochs: the optimizer's state, the caches
    of a step and its temporaries at their largest (imports, data and the model's initial
    weights are already there). Linux only: it resets the kernel's peak (``VmHWM``)."""
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak resident size starts again from the current one
    for _ in range(epochs):
        run_epoch()
    return _status("VmHWM") - before


#: What the peak-memory column means, printed under a table that has one.
PEAK_NOTE = (
    "peak MiB: how far resident memory rises during 2 epochs of training above what the "
    "process held before (data, imports, initial weights), each in its own process"
)


def memory_options(parser: argparse.ArgumentParser) -> None:
    """``--no-memory``, and the hidden ``--peak-of NAME`` a child of `peaks_in_children` gets."""
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory runs (one process each)"
    )
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)


def peaks_in_children(script: str, names: list[str], args: list[str]) -> dict[str, int | None]:
    """``training_peak`` of each implementation, each in a fresh ``python script --peak-of
    NAME *args`` process (so none inherits another's freed memory); None where it failed or
    the platform cannot say."""
    found: dict[str, int | None] = {}
    for name in names:
        result = subprocess.run(
            [sys.executable, script, "--peak-of", name, *args],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = result.stdout.strip().splitlines()
        found[name] = json.loads(lines[-1]) if result.returncode == 0 and lines else None
    return found


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
