"""Train a tiny character-level GPT on the standard library's documentation for a few minutes.

It prints the validation loss as it goes, against what the simplest models score (the unigram
and bigram baselines), then samples some text and saves the model. Checked by mypy --strict
and pyright in CI.

Run:  python examples/char_gpt.py --minutes 5
"""

import argparse
import time

import numpy as np

import shapenn as sn

SEQ, D_MODEL, HEADS, BLOCKS = 64, 64, 4, 2
STEPS_PER_REPORT = 50


def tiny_gpt(vocab: int, seed: int) -> sn.Model:
    """Ids → vectors plus learned positions → causal transformer blocks → the next id."""
    blocks = [
        sn.TransformerBlock(D_MODEL, HEADS, 4 * D_MODEL, causal=True, seed=seed + 2 + index)
        for index in range(BLOCKS)
    ]
    return sn.Model(
        [
            sn.Embedding(vocab, D_MODEL, seed=seed),
            sn.PositionalEmbedding(SEQ, D_MODEL, seed=seed + 1),
            *blocks,
            sn.LayerNorm(D_MODEL),
            sn.Dense(D_MODEL, vocab, seed=seed + 9),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=3e-3),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Train a tiny character-level GPT.")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to train")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="char_gpt.npz", help="where to save the model")
    args = parser.parse_args()

    text = sn.datasets.text()
    tokenizer = sn.datasets.CharTokenizer(text)
    ids = tokenizer.encode(text)
    cut = len(ids) * 9 // 10  # the last 10 % to validate on
    X, y = sn.datasets.windows(ids[:cut], SEQ)
    X_val, y_val = sn.datasets.windows(ids[cut:], SEQ)
    baselines = sn.datasets.baselines(ids[:cut], ids[cut:], tokenizer)
    print(
        f"{len(X)} windows of {SEQ} characters to train on; to beat: unigram "
        f"{baselines['unigram']:.3f}, bigram {baselines['bigram']:.3f} nats/char"
    )

    model = tiny_gpt(tokenizer.vocab_size, args.seed)
    rng = np.random.default_rng(args.seed)
    order = np.empty(0, dtype=np.int64)
    per_report = STEPS_PER_REPORT * args.batch_size
    start, steps = time.monotonic(), 0
    while time.monotonic() - start < 60 * args.minutes:
        if len(order) < per_report:  # a new epoch: the windows in a new order
            order = np.concatenate([order, rng.permutation(len(X))])
        rows, order = order[:per_report], order[per_report:]
        model.fit(X[rows], y[rows], epochs=1, batch_size=args.batch_size, shuffle=False, verbose=0)
        steps += STEPS_PER_REPORT
        loss, _ = model.evaluate(X_val, y_val)
        beaten = [name for name in ("unigram", "bigram") if loss < baselines[name]]
        print(
            f"{time.monotonic() - start:6.0f} s  {steps:6,} steps  validation loss {loss:.3f}"
            + (f"  (beats {' and '.join(beaten)})" if beaten else "")
        )

    sampled = sn.generate(model, tokenizer.encode("The "), 400, temperature=0.7, seed=args.seed)
    print("\n" + tokenizer.decode(sampled) + "\n")
    print(f"saved to {sn.save(model, args.output)}")


if __name__ == "__main__":
    main()
