"""Inference throughput of the benchmark MLP in shapenn and once exported: onnxruntime (from
``shapenn.export.to_onnx``) and PyTorch (``to_torch``), measured in one run.

The model is benchmarks/train_mlp.py's 784-128-128-10 MLP, trained for one epoch; the figure
is the median samples/s over ``--repeats`` passes over 10,000 samples, in batches of 1,024
(``predict``'s default) for all three. The largest difference from ``predict`` is printed
too.

Run:  python benchmarks/predict_export.py
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import environment
from train_mlp import shapenn_model, synthetic

from shapenn import export

BATCH = 1024


def rate(run: Callable[[], Any], samples: int, repeats: int) -> float:
    """Median samples/s of ``run`` (one pass over ``samples``) after a warm-up pass."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return samples / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X, y = synthetic(args.samples)
    model = shapenn_model()
    model.fit(X, y, epochs=1, batch_size=128, seed=0, verbose=0)
    expected = model.predict(X)
    batches = [X[i : i + BATCH] for i in range(0, len(X), BATCH)]
    results: dict[str, tuple[float, float]] = {
        "shapenn predict": (rate(lambda: model.predict(X), len(X), args.repeats), 0.0)
    }
    try:
        import onnxruntime

        with tempfile.TemporaryDirectory() as folder:
            path = export.to_onnx(model, Path(folder) / "mlp.onnx")
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

        def onnx_pass() -> Any:
            return np.concatenate([session.run(None, {"input": b})[0] for b in batches])

        difference = float(np.abs(onnx_pass() - expected).max())
        results["onnxruntime"] = (rate(onnx_pass, len(X), args.repeats), difference)
    except ImportError:
        print("onnxruntime not installed: skipped")
    try:
        import torch

        net = export.to_torch(model)

        def torch_pass() -> Any:
            with torch.no_grad():
                return np.concatenate([net(torch.from_numpy(b)).numpy() for b in batches])

        difference = float(np.abs(torch_pass() - expected).max())
        results["PyTorch"] = (rate(torch_pass, len(X), args.repeats), difference)
    except ImportError:
        print("PyTorch not installed: skipped")
    print(environment())
    print(f"784-128-128-10 MLP, {args.samples} samples in batches of {BATCH}\n")
    base = results["shapenn predict"][0]
    print("| runs in | samples/s | vs predict | largest difference from predict |")
    print("|---|---:|---:|---:|")
    for name, (value, difference) in results.items():
        print(f"| {name} | {value:,.0f} | {value / base:.2f} | {difference:.1e} |")


if __name__ == "__main__":
    main()
