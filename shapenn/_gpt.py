"""A tiny character GPT and its training data, as the command line builds them.

``Embedding → PositionalEmbedding → TransformerBlock(causal) × blocks → LayerNorm → Dense →
Softmax`` over windows of ``seq`` characters, each labelled with the next character at every
position (labels ``(batch, seq)``).
"""

from typing import Any

import numpy as np

from ._losses import CategoricalCrossentropy
from ._text import CharTokenizer, text, windows
from .layers import (
    Dense,
    Embedding,
    Layer,
    LayerNorm,
    PositionalEmbedding,
    Softmax,
    TransformerBlock,
)
from .model import Model
from .optim import Optimizer

__all__ = ["TextData", "text_data", "tiny_gpt"]


def tiny_gpt(
    vocab: int,
    *,
    seq: int = 64,
    d_model: int = 64,
    heads: int = 4,
    blocks: int = 2,
    optimizer: Optimizer | None = None,
    seed: int = 0,
) -> Model:
    """A character GPT over a vocabulary of ``vocab`` ids and windows of up to ``seq``."""
    layers: list[Layer] = [
        Embedding(vocab, d_model, seed=seed),
        PositionalEmbedding(seq, d_model, seed=seed + 1),
    ]
    layers += [
        TransformerBlock(d_model, heads, 4 * d_model, causal=True, seed=seed + 2 + index)
        for index in range(blocks)
    ]
    layers += [LayerNorm(d_model), Dense(d_model, vocab, seed=seed + 2 + blocks), Softmax()]
    return Model(layers, loss=CategoricalCrossentropy(), optimizer=optimizer)


class TextData:
    """The standard library's text (`text`) as training and validation windows.

    Attributes:
        tokenizer: the characters of the whole text.
        X, y: training windows (n, seq) of ids and their next-character labels;
        X_val, y_val: the same for the last ``validation`` fraction of the text.
        train_ids, val_ids: the two parts as 1-D ids (for the baselines).
    """

    def __init__(self, seq: int, validation: float) -> None:
        whole = text()
        self.tokenizer = CharTokenizer(whole)
        ids = self.tokenizer.encode(whole)
        split = int(len(ids) * (1 - validation))
        self.train_ids: Any = ids[:split]
        self.val_ids: Any = ids[split:]
        self.X, self.y = windows(self.train_ids, seq)
        self.X_val, self.y_val = windows(self.val_ids, seq)


def text_data(seq: int = 64, validation: float = 0.1) -> TextData:
    """The text cut into windows of ``seq`` characters, the last ``validation`` held out."""
    return TextData(seq, validation)


def vocabulary_of(model: Model) -> int | None:
    """The vocabulary size of a model that starts with an Embedding, else None."""
    first = model.layers[0] if model.layers else None
    return int(np.shape(first.weights)[0]) if isinstance(first, Embedding) else None
