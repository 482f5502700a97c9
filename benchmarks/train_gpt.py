"""Training a tiny GPT in shapenn against PyTorch: throughput, and the loss each reaches in the
same wall time, measured in one run.

The task: next-character prediction on ``sn.datasets.text()`` (the standard library's pydoc
topics, split 90/10 into training and validation ids), windows of 64 characters, batch 32.
The network, the same in both: an embedding of the characters (d_model 64) plus learned
positions, 2 pre-norm transformer blocks (4 heads, feed-forward 256, GELU, causal, no
dropout), a LayerNorm and a dense layer to the vocabulary; softmax cross-entropy, Adam (lr
0.001, epsilon 1e-7). PyTorch's blocks are ``nn.TransformerEncoderLayer(64, 4, 256,
activation="gelu", batch_first=True, norm_first=True, dropout=0)`` given the causal mask.

- **Throughput.** ``--chunks`` (at least 4) timed chunks of ``--steps`` steps each, one per
  round, the order reversed every other round. PyTorch trains in blocks of its own,
  shapenn's two runs share the other block and take turns chunk by chunk; each block is a
  warm-up chunk of each run (a library's threads stay busy for a while after its last call:
  the warm-up takes that, not the next library's timed chunks), then a timed one. The figure
  is the median samples/s of the chunks; each ratio, the median of the ratios of the chunks
  timed in the same round. shapenn runs with checks on (the default) and off.
- **Loss in the same time.** Fresh models (shapenn with checks on, PyTorch) train in turns of
  up to 15 s, ``--steps`` steps at a time, until each has trained ``--seconds`` of wall time,
  through the same shuffled windows; then the mean cross-entropy on every validation window,
  in nats per character, against the unigram and bigram baselines (``sn.datasets.baselines``).

BLAS threads: each library's own choice unless ``--threads`` is given (on a busy machine a
second thread can cost more than it gives: try ``--threads 1``).

Run:  python benchmarks/train_gpt.py               (about 12 minutes on 2 cores)
      python benchmarks/train_gpt.py --threads 1 --markdown    (a markdown table)
"""

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from _common import environment, how_timed, medians, speedup, take_turns

import shapenn as sn

Array = np.ndarray[Any, np.dtype[Any]]
D_MODEL, HEADS, D_FF, BLOCKS, SEQ = 64, 4, 256, 2, 64
LEARNING_RATE, EPSILON = 1e-3, 1e-7

#: Training on windows and labels (n, seq), batch after batch of 32 in order; an evaluation:
#: the mean loss per character.
Step = Callable[[Array, Array], None]
Evaluate = Callable[[Array, Array], float]


def data() -> tuple[Array, Array, Array, Array, int, dict[str, float]]:
    """Training and validation windows, the vocabulary size and the baselines."""
    corpus = sn.datasets.text()
    tokenizer = sn.datasets.CharTokenizer(corpus)
    ids = tokenizer.encode(corpus)
    cut = len(ids) * 9 // 10
    X, y = sn.datasets.windows(ids[:cut], SEQ)
    X_val, y_val = sn.datasets.windows(ids[cut:], SEQ)
    baselines = sn.datasets.baselines(ids[:cut], ids[cut:], tokenizer)
    return X, y, X_val, y_val, tokenizer.vocab_size, baselines


def batches(X: Array, y: Array, batch: int, seed: int) -> Iterator[tuple[Array, Array]]:
    """Batches of the windows in a shuffled order, epoch after epoch, the same for everyone."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(X))
        for start in range(0, len(X) - batch + 1, batch):
            rows = order[start : start + batch]
            yield X[rows], y[rows]


# --- shapenn ---------------------------------------------------------------------------------


def shapenn_model(vocab: int) -> sn.Model:
    layers: list[sn.Layer] = [
        sn.Embedding(vocab, D_MODEL, seed=0),
        sn.PositionalEmbedding(SEQ, D_MODEL, seed=1),
    ]
    layers += [
        sn.TransformerBlock(D_MODEL, HEADS, D_FF, causal=True, seed=2 + index)
        for index in range(BLOCKS)
    ]
    layers += [sn.LayerNorm(D_MODEL), sn.Dense(D_MODEL, vocab, seed=9), sn.Softmax()]
    return sn.Model(
        layers,
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=LEARNING_RATE, epsilon=EPSILON),
        input_shape=(SEQ,),
    )


def shapenn_steps(vocab: int, checks: bool, threads: int | None) -> tuple[Step, Evaluate]:
    """A chunk of steps is one ``fit`` over the chunk's batches laid end to end, in order."""
    model = shapenn_model(vocab)

    def step(X: Array, y: Array) -> None:
        with sn.checks(checks):
            model.fit(X, y, epochs=1, batch_size=32, shuffle=False, verbose=0, threads=threads)

    def evaluate(X: Array, y: Array) -> float:
        loss, _ = model.evaluate(X, y, threads=threads)
        return float(loss)

    return step, evaluate


# --- PyTorch -----------------------------------------------------------------------------------


def torch_steps(vocab: int, threads: int | None) -> tuple[Step, Evaluate] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    nn = torch.nn

    class GPT(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab, D_MODEL)
            self.positions = nn.Parameter(torch.randn(SEQ, D_MODEL))
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    D_MODEL,
                    HEADS,
                    D_FF,
                    dropout=0.0,
                    activation="gelu",
                    batch_first=True,
                    norm_first=True,
                )
                for _ in range(BLOCKS)
            )
            self.norm = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, vocab)

        def forward(self, ids: Any) -> Any:
            seq = ids.shape[1]
            hidden = self.embedding(ids) + self.positions[:seq]
            mask = nn.Transformer.generate_square_subsequent_mask(seq)
            for block in self.blocks:
                hidden = block(hidden, src_mask=mask, is_causal=True)
            return self.head(self.norm(hidden))

    net = GPT()
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, eps=EPSILON)
    loss_fn = nn.CrossEntropyLoss()

    def step(X: Array, y: Array) -> None:
        inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
        for start in range(0, len(inputs), 32):
            optimizer.zero_grad(set_to_none=True)
            logits = net(inputs[start : start + 32])
            loss = loss_fn(logits.reshape(-1, vocab), targets[start : start + 32].reshape(-1))
            loss.backward()
            optimizer.step()

    def evaluate(X: Array, y: Array) -> float:
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(X), 256):
                logits = net(torch.from_numpy(X[start : start + 256]))
                targets = torch.from_numpy(y[start : start + 256]).reshape(-1)
                total += float(loss_fn(logits.reshape(-1, vocab), targets)) * targets.numel()
        return total / y.size

    return step, evaluate


# --- the two measurements ----------------------------------------------------------------------


def chunk(source: Iterator[tuple[Array, Array]], steps: int) -> tuple[Array, Array]:
    """The next ``steps`` batches laid end to end."""
    parts = [next(source) for _ in range(steps)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def throughput(
    runs: dict[str, Step], X: Array, y: Array, steps: int, chunks: int
) -> dict[str, list[float]]:
    """The seconds of each run's ``chunks`` timed chunks of ``steps`` steps, one per round,
    taken in blocks (``_common.take_turns``: shapenn's runs in turns chunk by chunk in one
    block, PyTorch in its own, each block beginning with a warm-up chunk of each run)."""
    source = batches(X, y, 32, seed=0)
    calls = {name: (lambda step=step: step(*chunk(source, steps))) for name, step in runs.items()}
    return take_turns(calls, chunks)


def race(
    runs: dict[str, tuple[Step, Evaluate]],
    X: Array,
    y: Array,
    X_val: Array,
    y_val: Array,
    seconds: float,
    steps: int,
) -> dict[str, tuple[int, float]]:
    """Train each run for ``seconds`` of its own wall time through the same batches, in turns
    of a quarter of that time at most (15 s), ``steps`` steps at a time; the steps each took
    and its validation loss. Long turns: what the other library's threads leave running at a
    switch is then a small share of each turn, and falls on both alike."""
    sources = {name: batches(X, y, 32, seed=1) for name in runs}
    spent = dict.fromkeys(runs, 0.0)
    done = dict.fromkeys(runs, 0)
    turn = min(seconds / 4, 15.0)
    while any(spent[name] < seconds for name in runs):
        for name, (step, _) in runs.items():
            until = min(seconds, spent[name] + turn)
            while spent[name] < until:
                X_chunk, y_chunk = chunk(sources[name], steps)
                start = time.perf_counter()
                step(X_chunk, y_chunk)
                spent[name] += time.perf_counter() - start
                done[name] += steps
    return {name: (done[name], evaluate(X_val, y_val)) for name, (_, evaluate) in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per timed chunk")
    parser.add_argument("--chunks", type=int, default=4, help="timed chunks (at least 4)")
    parser.add_argument(
        "--seconds", type=float, default=300, help="training time of each for the loss"
    )
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for both")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    chunks = max(4, args.chunks)
    X, y, X_val, y_val, vocab, baselines = data()
    if args.threads is not None:
        with contextlib.suppress(ImportError):  # set before the environment line reports it
            import torch

            torch.set_num_threads(args.threads)
    print(environment())
    threads = "each library's own" if args.threads is None else str(args.threads)
    print(
        f"tiny GPT (d_model {D_MODEL}, {HEADS} heads, {BLOCKS} blocks, seq {SEQ}, batch 32), "
        f"vocabulary {vocab}, {len(X)} training windows; BLAS threads: {threads}\n"
        f"samples/s: {how_timed(chunks, 'chunk', f' of {args.steps} steps')}; "
        f"loss: validation cross-entropy (nats/char) after {args.seconds:g} s of training each\n"
    )
    runs = {
        "shapenn (checks on)": shapenn_steps(vocab, True, args.threads)[0],
        "shapenn (checks off)": shapenn_steps(vocab, False, args.threads)[0],
    }
    torch_run = torch_steps(vocab, args.threads)
    if torch_run is not None:
        runs["PyTorch CPU"] = torch_run[0]
    times = throughput(runs, X, y, args.steps, chunks)
    rate = {name: 32 * args.steps / spent for name, spent in medians(times).items()}

    racers = {"shapenn (checks on)": shapenn_steps(vocab, True, args.threads)}
    torch_racer = torch_steps(vocab, args.threads)
    if torch_racer is not None:
        racers["PyTorch CPU"] = torch_racer
    raced = race(racers, X, y, X_val, y_val, args.seconds, args.steps)

    rows = []
    for name, value in rate.items():
        versus = f"{speedup(times, name, 'PyTorch CPU'):.2f}" if "PyTorch CPU" in times else "–"
        steps_done, loss = raced.get(name, (None, None))
        rows.append(
            (
                name,
                f"{value:,.0f}",
                versus,
                "–" if steps_done is None else f"{steps_done:,}",
                "–" if loss is None else f"{loss:.3f}",
            )
        )
    rows += [
        (f"{name} baseline", "–", "–", "–", f"{baselines[name]:.3f}")
        for name in ("unigram", "bigram")
    ]
    header = (
        "implementation",
        "samples/s",
        "vs PyTorch",
        f"steps in {args.seconds:g} s",
        "val loss",
    )
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|---|---:|---:|---:|---:|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            print("  ".join(cells))
    print()
    checks = speedup(times, "shapenn (checks on)", "shapenn (checks off)")
    print(f"checks on / off: {checks:.2f}")


if __name__ == "__main__":
    main()
