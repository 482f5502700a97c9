"""A character-level text data set that needs no download: the standard library's own
documentation, a tokenizer of its characters, training windows, and the baselines a model must
beat.

`text` is the text of Python's ``pydoc_data.topics`` (the pages ``help("if")`` shows): about
465,000 characters of English prose with code, in every CPython installation. It changes a
little between Python versions, so a figure computed from it names its Python.

Example::

    corpus = text()
    tokenizer = CharTokenizer(corpus)
    ids = tokenizer.encode(corpus)
    cut = len(ids) * 9 // 10
    X, y = windows(ids[:cut], 64)
    print(baselines(ids[:cut], ids[cut:], tokenizer.vocab_size))
"""

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ._args import fits_memory, integer, optional_positive, positive, shown
from .shapes import ArgumentError, LabelError

__all__ = ["CharTokenizer", "baselines", "text", "windows"]


def text() -> str:
    """The text of the standard library's ``pydoc_data.topics``: its pages (the dict
    ``topics``'s values) joined in sorted key order, about 465,000 characters of English.

    Read from the Python that runs shapenn, offline; the text differs a little between Python
    versions.
    """
    from pydoc_data.topics import topics  # imported on use: 470 kB of strings

    return "".join(topics[key] for key in sorted(topics))


def _codes(characters: str) -> npt.NDArray[np.uint32]:
    """The code point of each character, in one pass (no Python loop)."""
    return np.frombuffer(characters.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class CharTokenizer:
    """Characters to integer ids and back: the ids of a text's characters, each character's id
    its rank among the text's distinct characters (in code-point order).

    Args:
        text: the text whose characters make the vocabulary, at least one character.

    Attributes:
        chars: the vocabulary, the distinct characters in order: ``chars[i]`` has id ``i``.
        vocab_size: how many there are (``len(chars)``): ids are in ``[0, vocab_size)``.

    Example::

        >>> tokenizer = CharTokenizer("hello")
        >>> tokenizer.chars, tokenizer.encode("hole").tolist(), tokenizer.decode([3, 1])
        ('ehlo', [1, 3, 2, 0], 'oh')
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ArgumentError(
                f"CharTokenizer: text must be a str, got {shown(text)} (a {type(text).__name__})"
            )
        if not text:
            raise ArgumentError(
                "CharTokenizer: text is empty; give the text whose characters make the vocabulary"
            )
        self._table = np.unique(_codes(text))  # sorted code points: id = position in the table
        self.chars: str = self._table.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"

    def encode(self, text: str) -> npt.NDArray[np.int64]:
        """The id of each character of ``text``, a 1-D int64 array of ``len(text)``.

        Raises:
            LabelError: a character not in the vocabulary, named with its index in ``text``.
            ArgumentError: ``text`` not a str.
        """
        if not isinstance(text, str):
            raise ArgumentError(
                f"CharTokenizer.encode: text must be a str, got {shown(text)} (a "
                f"{type(text).__name__}); decode turns ids into text"
            )
        codes = _codes(text)
        ids = np.searchsorted(self._table, codes)
        known = self._table[np.minimum(ids, self._table.size - 1)] == codes
        if not known.all():
            where = int(np.argmin(known))
            unknown = len(set(text) - set(self.chars))
            others = f" (and {unknown - 1} other unknown characters)" if unknown > 1 else ""
            raise LabelError(
                f"CharTokenizer.encode: {text[where]!r} at index {where} is not in the "
                f"vocabulary of {self.vocab_size} characters{others}; build the tokenizer from "
                "a text that holds every character you will encode"
            )
        return ids.astype(np.int64)

    def decode(self, ids: npt.ArrayLike) -> str:
        """The text of a 1-D sequence of ids (a list or an integer array).

        Raises:
            LabelError: an id outside ``[0, vocab_size)``, named with its index.
            ArgumentError: ids that are not a 1-D sequence of integers.
        """
        try:
            array = np.asarray(ids)
        except (ValueError, TypeError) as err:
            raise ArgumentError(
                f"CharTokenizer.decode: ids must be a 1-D sequence of integers ({err})"
            ) from None
        if array.size == 0 and array.ndim == 1:
            return ""
        if array.ndim != 1 or array.dtype.kind not in "iu":
            hint = (
                ": decode one sequence at a time, `[tokenizer.decode(row) for row in ids]`"
                if array.ndim > 1 and array.dtype.kind in "iu"
                else ""
            )
            raise ArgumentError(
                "CharTokenizer.decode: ids must be a 1-D sequence of integers, got shape "
                f"{array.shape} {array.dtype}{hint}"
            )
        bad = np.flatnonzero((array < 0) | (array >= self.vocab_size))
        if bad.size:
            where = int(bad[0])
            raise LabelError(
                f"CharTokenizer.decode: id {int(array[where])} at index {where} is not in "
                f"[0, {self.vocab_size}) for a vocabulary of {self.vocab_size} characters"
            )
        return str(self._table[array].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass"))


def _ids(owner: str, name: str, value: npt.ArrayLike, *, least: int) -> npt.NDArray[np.int64]:
    """``value`` as a 1-D int64 array of at least ``least`` non-negative ids."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise ArgumentError(f"{owner}: {name} must be a 1-D array of integer ids ({err})") from None
    if array.ndim != 1 or (array.dtype.kind not in "iu" and array.size):
        raise ArgumentError(
            f"{owner}: {name} must be a 1-D array of integer ids (CharTokenizer.encode gives "
            f"one), got shape {array.shape} {array.dtype}"
        )
    if array.size < least:
        raise ArgumentError(f"{owner}: {name} must hold at least {least} ids, got {array.size}")
    if array.size and int(array.min()) < 0:
        where = int(np.argmin(array))
        raise LabelError(f"{owner}: {name} holds the negative id {int(array[where])} at {where}")
    return array.astype(np.int64)


def windows(
    ids: npt.ArrayLike, seq: int, *, step: int | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Training windows cut from a 1-D id sequence, each with its next-id labels.

    Window ``k`` starts at ``k · step``: ``X[k] = ids[k·step : k·step + seq]`` and ``y[k] =
    ids[k·step + 1 : k·step + seq + 1]`` — each label is the id that follows its input, the
    target of a next-character model. Windows that would run past the end are left out.

    Args:
        ids: a 1-D sequence of integer ids, at least ``seq + 1`` of them.
        seq: the window length, a positive integer.
        step: how far each window starts from the one before, a positive integer; None: ``seq``
            (windows side by side, every id a label once). ``step=1`` gives every window.

    Returns:
        (X, y), both (n, seq) int64, n = (len(ids) − seq − 1) // step + 1.

    Raises:
        ArgumentError: ids not 1-D integers or too short for one window, seq or step not a
            positive integer, or windows too large for this machine's memory.
    """
    owner = "windows"
    length = positive(owner, "seq", seq)
    stride = optional_positive(owner, "step", step) or length
    array = _ids(owner, "ids", ids, least=0)
    if array.size < length + 1:
        raise ArgumentError(
            f"{owner}: ids has {array.size} ids, too few for one window of seq={length}: it "
            f"takes seq + 1 = {length + 1} (the labels run one id ahead); use a smaller seq"
        )
    count = (array.size - length - 1) // stride + 1
    fits_memory(
        owner,
        f"seq={length} and step={stride} make X and y of",
        (2, count, length),
        np.int64,
        fix="use a larger step",
    )
    starts = np.arange(count) * stride
    offsets = starts[:, None] + np.arange(length)
    return array[offsets], array[offsets + 1]


def _vocab(owner: str, vocab: object) -> int:
    """The vocabulary size, from an int or a CharTokenizer."""
    if isinstance(vocab, CharTokenizer):
        return vocab.vocab_size
    return integer(owner, "vocab (the vocabulary size, or a CharTokenizer)", vocab, minimum=1)


def _in_vocab(owner: str, name: str, ids: npt.NDArray[np.int64], vocab: int) -> None:
    high = int(ids.max())
    if high >= vocab:
        where = int(np.argmax(ids))
        raise LabelError(
            f"{owner}: {name} holds the id {high} at {where}, not in [0, {vocab}) for a "
            f"vocabulary of {vocab}"
        )


def baselines(train_ids: npt.ArrayLike, val_ids: npt.ArrayLike, vocab: Any) -> dict[str, float]:
    """The validation cross-entropy, in nats per character, of the simplest models counted on
    the training ids: the figures a trained model's validation loss must beat.

    * ``"uniform"``: every id alike, ``ln vocab``.
    * ``"unigram"``: each id by its frequency, add-one smoothed: ``(count(b) + 1) / (N + V)``.
    * ``"bigram"``: each id given the one before, add-one smoothed: ``(count(a b) + 1) /
      (count(a ·) + V)``, ``count(a ·)`` the pairs of the training ids that start with ``a``.

    Each is the mean of ``−ln p`` over the validation ids after the first — the ids a
    next-character model predicts (those that have a previous id), the labels of
    ``windows(val_ids, ...)`` — so the three are averaged over the same ids.

    Args:
        train_ids: the training ids, 1-D, at least 2 (one pair).
        val_ids: the validation ids, 1-D, at least 2.
        vocab: the vocabulary size V (an int, or the CharTokenizer itself).

    Returns:
        ``{"uniform": ..., "unigram": ..., "bigram": ...}``, floats in nats.

    Raises:
        ArgumentError: ids not 1-D integers, or fewer than 2 of them; a bad vocab.
        LabelError: an id outside ``[0, vocab)``.
    """
    owner = "baselines"
    size = _vocab(owner, vocab)
    train = _ids(owner, "train_ids", train_ids, least=2)
    val = _ids(owner, "val_ids", val_ids, least=2)
    _in_vocab(owner, "train_ids", train, size)
    _in_vocab(owner, "val_ids", val, size)
    targets = val[1:]
    counts = np.bincount(train, minlength=size).astype(np.float64)
    unigram = -np.mean(np.log((counts[targets] + 1.0) / (train.size + size)))
    # Pairs as one code each, a · V + b: their counts found by sorting, so the memory taken
    # is that of the ids, not of a V × V table.
    pairs = np.sort(train[:-1] * size + train[1:])
    wanted = val[:-1] * size + val[1:]
    pair_counts = np.searchsorted(pairs, wanted, side="right") - np.searchsorted(pairs, wanted)
    starts = np.bincount(train[:-1], minlength=size).astype(np.float64)
    bigram = -np.mean(np.log((pair_counts + 1.0) / (starts[val[:-1]] + size)))
    return {"uniform": math.log(size), "unigram": float(unigram), "bigram": float(bigram)}
