"""The character data set from offline text (the standard library's pydoc topics), its
tokenizer, training windows and baselines, and sampling from a trained model with generate."""

import itertools
import math
import pickle
from collections import Counter
from typing import Any

import numpy as np
import pytest
from jaxtyping import Float

import shapenn as sn
from shapenn._generate import generate
from shapenn._text import CharTokenizer, baselines, text, windows
from shapenn.shapes import Array2D, Array3D

# --- text ---------------------------------------------------------------------------------------


def test_text_is_the_pydoc_topics_in_sorted_key_order() -> None:
    from pydoc_data.topics import topics

    corpus = text()
    assert corpus == "".join(topics[key] for key in sorted(topics))
    assert 400_000 < len(corpus) < 600_000
    assert 'The "if" statement is used for conditional execution' in corpus
    assert sum(c.isascii() for c in corpus) / len(corpus) > 0.99


# --- CharTokenizer ------------------------------------------------------------------------------


def test_the_vocabulary_is_the_sorted_distinct_characters() -> None:
    tokenizer = CharTokenizer("hello world")
    assert tokenizer.chars == " dehlorw" and tokenizer.vocab_size == len(tokenizer) == 8
    ids = tokenizer.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 2, 4, 4, 5]
    assert tokenizer.decode(ids) == "hello" and tokenizer.decode([0, 7]) == " w"
    assert tokenizer.decode(np.array([], dtype=np.int64)) == "" and tokenizer.encode("").size == 0
    assert repr(tokenizer) == "CharTokenizer(vocab_size=8)"


def test_the_whole_text_round_trips() -> None:
    corpus = text()
    tokenizer = CharTokenizer(corpus)
    assert tokenizer.chars == "".join(sorted(set(corpus)))
    ids = tokenizer.encode(corpus)
    assert ids.shape == (len(corpus),) and int(ids.max()) == tokenizer.vocab_size - 1
    assert tokenizer.decode(ids) == corpus
    assert tokenizer.encode("—…é"[:2]).tolist() == [
        tokenizer.chars.index("—"),
        tokenizer.chars.index("…"),
    ]


def test_an_unknown_character_is_a_label_error_naming_it() -> None:
    tokenizer = CharTokenizer("abc")
    with pytest.raises(sn.LabelError) as caught:
        tokenizer.encode("abxcy")
    assert str(caught.value) == (
        "CharTokenizer.encode: 'x' at index 2 is not in the vocabulary of 3 characters (and 1 "
        "other unknown characters); build the tokenizer from a text that holds every character "
        "you will encode"
    )


@pytest.mark.parametrize(
    ("ids", "error", "words"),
    [
        ([0, 3], sn.LabelError, "id 3 at index 1 is not in [0, 3) for a vocabulary of 3"),
        ([-1], sn.LabelError, "id -1 at index 0 is not in [0, 3)"),
        ([[0, 1]], sn.ArgumentError, "decode one sequence at a time"),
        ([0.0, 1.0], sn.ArgumentError, "1-D sequence of integers, got shape (2,) float64"),
        ([[0], [1, 2]], sn.ArgumentError, "1-D sequence of integers"),
    ],
)
def test_decode_refuses_what_is_no_id(ids: object, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        CharTokenizer("abc").decode(ids)  # type: ignore[arg-type]
    assert words in str(caught.value)


def test_a_tokenizer_needs_a_text() -> None:
    with pytest.raises(sn.ArgumentError, match="text is empty"):
        CharTokenizer("")
    with pytest.raises(sn.ArgumentError, match="text must be a str, got b'abc'"):
        CharTokenizer(b"abc")  # type: ignore[arg-type]
    with pytest.raises(sn.ArgumentError, match="decode turns ids into text"):
        CharTokenizer("abc").encode([0, 1])  # type: ignore[arg-type]


# --- windows ------------------------------------------------------------------------------------


def test_windows_cut_inputs_and_next_id_labels() -> None:
    ids = np.arange(10)
    X, y = windows(ids, 3)
    assert X.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert X.dtype == y.dtype == np.int64
    X, y = windows(list(range(10)), 4, step=2)
    assert X.tolist() == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]]
    assert y.tolist() == [[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8]]
    X, y = windows(ids, 9, step=1)  # exactly seq + 1 ids: one window
    assert X.shape == y.shape == (1, 9) and y[0, -1] == 9


def test_every_label_is_the_next_character_of_the_text() -> None:
    corpus = text()[:5000]
    tokenizer = CharTokenizer(corpus)
    X, y = windows(tokenizer.encode(corpus), 64, step=17)
    assert X.shape == ((5000 - 65) // 17 + 1, 64)
    assert (X[:, 1:] == y[:, :-1]).all()
    assert tokenizer.decode(X[2]) == corpus[34:98] and tokenizer.decode(y[2]) == corpus[35:99]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: windows(np.arange(5), 5), "ids has 5 ids, too few for one window of seq=5"),
        (lambda: windows(np.arange(5), 0), "seq must be a positive integer"),
        (lambda: windows(np.arange(5), 2, step=0), "step must be a positive integer or None"),
        (lambda: windows(np.ones((2, 5), int), 2), "must be a 1-D array of integer ids"),
        (lambda: windows(np.ones(5), 2), "got shape (5,) float64"),
        (lambda: windows(np.arange(10**6), 10**5, step=1), "more than this machine's memory"),
    ],
)
def test_windows_refuse_bad_arguments(call: object, words: str) -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        call()  # type: ignore[operator]
    assert words in str(caught.value)


# --- baselines ----------------------------------------------------------------------------------


def _direct(train: str, val: str, vocab: int) -> dict[str, float]:
    """The baselines counted with Counter and math.log, character by character."""
    single = Counter(train)
    pairs = Counter(itertools.pairwise(train))
    starts = Counter(train[:-1])
    targets = range(1, len(val))
    unigram = -sum(math.log((single[val[i]] + 1) / (len(train) + vocab)) for i in targets)
    bigram = -sum(
        math.log((pairs[val[i - 1], val[i]] + 1) / (starts[val[i - 1]] + vocab)) for i in targets
    )
    return {
        "uniform": math.log(vocab),
        "unigram": unigram / len(targets),
        "bigram": bigram / len(targets),
    }


@pytest.mark.parametrize(
    ("train", "val"),
    [("abracadabra", "cadabrax"), ("aaab", "ba"), ("the cat sat on the mat", "a rat sat")],
)
def test_baselines_match_a_direct_count(train: str, val: str) -> None:
    tokenizer = CharTokenizer(train + val)
    found = baselines(tokenizer.encode(train), tokenizer.encode(val), tokenizer.vocab_size)
    expected = _direct(train, val, tokenizer.vocab_size)
    assert found.keys() == expected.keys()
    for key in expected:
        assert found[key] == pytest.approx(expected[key], rel=1e-12), key


def test_on_the_text_the_bigram_beats_the_unigram_beats_uniform() -> None:
    corpus = text()
    tokenizer = CharTokenizer(corpus)
    ids = tokenizer.encode(corpus)
    cut = len(ids) * 9 // 10
    found = baselines(ids[:cut], ids[cut:], tokenizer)  # the tokenizer gives the vocabulary
    assert found["bigram"] < found["unigram"] < found["uniform"] == math.log(tokenizer.vocab_size)
    assert 2.0 < found["bigram"] < 2.7 and 3.0 < found["unigram"] < 3.5
    # the direct count, on a slice (it takes a second per 100k characters)
    expected = _direct(corpus[:20_000], corpus[20_000:25_000], tokenizer.vocab_size)
    got = baselines(ids[:20_000], ids[20_000:25_000], tokenizer.vocab_size)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: baselines([0, 1], [0, 3], 3), sn.LabelError, "val_ids holds the id 3 at 1"),
        (lambda: baselines([0, -1], [0, 1], 3), sn.LabelError, "negative id -1"),
        (lambda: baselines([0], [0, 1], 3), sn.ArgumentError, "train_ids must hold at least 2"),
        (lambda: baselines([0, 1], [0, 1], 0), sn.ArgumentError, "vocab (the vocabulary size"),
        (lambda: baselines([0, 1], "ab", 3), sn.ArgumentError, "1-D array of integer ids"),
    ],
)
def test_baselines_refuse_bad_arguments(call: object, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        call()  # type: ignore[operator]
    assert words in str(caught.value)


# --- generate -----------------------------------------------------------------------------------

ABC = CharTokenizer("abc")


@pytest.fixture(scope="module")
def abc_model() -> sn.Model:
    """Embedding → Dense → Softmax trained on "abcabc…": each next character is determined by
    the current one, which a per-position model can learn."""
    X, y = windows(ABC.encode("abc" * 200), 8)
    model = sn.Model(
        [sn.Embedding(3, 8, seed=0), sn.Dense(8, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.05),
        metric=sn.CategoricalAccuracy(),
    )
    history = model.fit(X, y, epochs=30, batch_size=16, seed=0, verbose=0)
    assert history.accuracy[-1] == 1.0
    return model


@pytest.mark.parametrize("prompt", ["a", "ab", "cab", "bbb"])
def test_a_trained_model_continues_the_pattern_at_temperature_zero(
    abc_model: sn.Model, prompt: str
) -> None:
    ids = generate(abc_model, ABC.encode(prompt), 20, temperature=0)
    assert ids.dtype == np.int64 and ids.shape == (len(prompt) + 20,)
    continued = ABC.decode(ids)
    assert continued.startswith(prompt)
    after = continued[len(prompt) :]
    assert after == ("abc" * 10)["abc".index(prompt[-1]) + 1 :][:20]


def test_top_k_one_and_a_low_temperature_are_greedy_too(abc_model: sn.Model) -> None:
    greedy = generate(abc_model, [0], 30, temperature=0)
    assert np.array_equal(generate(abc_model, [0], 30, top_k=1, seed=3), greedy)
    assert np.array_equal(generate(abc_model, [0], 30, temperature=1e-3, seed=4), greedy)
    assert np.array_equal(generate(abc_model, [0], 0), [0])  # nothing to add: the prompt


def test_the_same_seed_gives_the_same_ids() -> None:
    model = sn.Model([sn.Embedding(5, 4, seed=0), sn.Dense(4, 5, seed=1), sn.Softmax()])
    first = generate(model, [1, 2], 60, seed=7)
    assert np.array_equal(generate(model, [1, 2], 60, seed=7), first)
    assert not np.array_equal(generate(model, [1, 2], 60, seed=8), first)
    assert np.array_equal(
        generate(model, [1, 2], 60, seed=np.random.default_rng(7)), first
    )  # a Generator seeded alike draws alike
    hot = generate(model, [1, 2], 60, temperature=5.0, seed=7)
    assert set(hot[2:].tolist()) == set(range(5))  # a high temperature reaches every id


def test_top_k_draws_only_among_the_k_most_probable() -> None:
    # Embedding → Dense: the distribution depends on the last id alone.
    model = sn.Model([sn.Embedding(5, 4, seed=0), sn.Dense(4, 5, seed=1), sn.Softmax()])
    table = model.predict(np.arange(5)[:, None])[:, 0]  # row i: the distribution after id i
    top2 = np.argsort(-table, axis=1)[:, :2]
    ids = generate(model, [1], 200, temperature=3.0, top_k=2, seed=0)
    assert all(ids[i + 1] in top2[ids[i]] for i in range(200))
    drawn = {(int(ids[i]), int(ids[i + 1])) for i in range(200)}
    assert len(drawn) > len({a for a, _ in drawn})  # not greedy: some id has two successors
    assert np.array_equal(
        generate(model, [1], 50, top_k=5, seed=0), generate(model, [1], 50, seed=0)
    )  # k of the whole vocabulary restricts nothing


def test_generate_leaves_the_model_and_numpy_alone(abc_model: sn.Model) -> None:
    before = [p.value.copy() for p in abc_model.parameters()]
    modes = [layer.training for layer in abc_model.layers]
    state = pickle.dumps(np.random.get_state())  # noqa: NPY002 (global state is the subject)
    generate(abc_model, [0, 1], 10, seed=0)
    after = abc_model.parameters()
    assert all(np.array_equal(b, p.value) for b, p in zip(before, after, strict=True))
    assert [layer.training for layer in abc_model.layers] == modes
    assert pickle.dumps(np.random.get_state()) == state  # noqa: NPY002


class PositionalEmbedding(sn.Layer):
    """Adds a learned vector per position, up to ``max_len`` positions: a model that holds one
    can take no longer sequence."""

    positions: Float[Array2D, "max_len dim"]

    def __init__(self, max_len: int, dim: int) -> None:
        rng = np.random.default_rng(0)
        self.positions = rng.normal(size=(max_len, dim)).astype(np.float32)
        self.dpositions = np.zeros_like(self.positions)
        self.seen: list[int] = []

    @property
    def max_len(self) -> int:
        return int(self.positions.shape[0])

    @property
    def dim(self) -> int:
        return int(self.positions.shape[1])

    def forward(self, inputs: Float[Array3D, "batch seq dim"]) -> Float[Array3D, "batch seq dim"]:
        seq = inputs.shape[1]
        if seq > self.max_len:
            raise ValueError(f"{seq} positions, more than max_len={self.max_len}")
        self.seen.append(seq)
        self.output = inputs + self.positions[:seq]
        return self.output


class Block(sn.Layer):
    """A layer that owns a PositionalEmbedding: generate finds its max_len in the walk."""

    def __init__(self, max_len: int, dim: int) -> None:
        self.position = PositionalEmbedding(max_len, dim)

    def forward(self, inputs: Float[Array3D, "batch seq dim"]) -> Float[Array3D, "batch seq dim"]:
        self.output = self.position.forward(inputs)
        return self.output


@pytest.mark.parametrize("nested", [False, True], ids=["top-level", "owned"])
def test_the_context_is_the_positional_embedding_s_max_len(nested: bool) -> None:
    position = Block(4, 6) if nested else PositionalEmbedding(4, 6)
    model = sn.Model([sn.Embedding(5, 6, seed=0), position, sn.Dense(6, 5, seed=1), sn.Softmax()])
    ids = generate(model, [0, 1, 2, 3, 4, 0, 1], 5, seed=0)  # a prompt longer than max_len
    assert ids.shape == (12,)
    seen = (position.position if isinstance(position, Block) else position).seen
    assert max(seen) == 4 and seen[-5:] == [4] * 5
    generate(model, [0, 1, 2], 3, context=2, seed=0)
    assert seen[-3:] == [2, 2, 2]
    with pytest.raises(sn.ArgumentError) as caught:
        generate(model, [0], 3, context=5)
    name = "layers[1].position" if nested else "layers[1]"
    assert str(caught.value) == (
        f"generate: context=5 is longer than {name} PositionalEmbedding() takes (max_len=4); "
        "give context <= 4, or leave it out to use 4"
    )


FLOAT_TWO: Any = 2.0  # a length of the wrong type


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda m: generate(m, [0], -1), sn.ArgumentError, "length must be an integer >= 0"),
        (lambda m: generate(m, [0], FLOAT_TWO), sn.ArgumentError, "length must be an integer"),
        (lambda m: generate(m, [0], True), sn.ArgumentError, "length must be an integer >= 0"),
        (lambda m: generate(m, [0], 2, temperature=-1), sn.ArgumentError, "temperature must"),
        (lambda m: generate(m, [0], 2, temperature=math.nan), sn.ArgumentError, "temperature"),
        (lambda m: generate(m, [0], 2, temperature=math.inf), sn.ArgumentError, "temperature"),
        (lambda m: generate(m, [0], 2, top_k=0), sn.ArgumentError, "top_k must be an integer"),
        (lambda m: generate(m, [0], 2, seed=-1), sn.ArgumentError, "seed must be an integer"),
        (lambda m: generate(m, [0], 2, context=0), sn.ArgumentError, "context must be"),
        (lambda m: generate(m, [], 2), sn.ArgumentError, "prompt_ids is empty"),
        (lambda m: generate(m, [[0, 1]], 2), sn.ArgumentError, "1-D sequence of integer ids"),
        (lambda m: generate(m, [0.0], 2), sn.ArgumentError, "got shape (1,) float64"),
        (lambda m: generate(m, [0, 3], 2), sn.LabelError, "the id 3 at 1, not in [0, 3)"),
        (lambda m: generate(m, [-1], 2), sn.LabelError, "the id -1 at 0, not in [0, 3)"),
        (lambda m: generate(m.layers[0], [0], 2), sn.ArgumentError, "model must be a Model"),
    ],
)
def test_generate_refuses_bad_arguments(
    abc_model: sn.Model, call: object, error: type, words: str
) -> None:
    with pytest.raises(error) as caught:
        call(abc_model)  # type: ignore[operator]
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([sn.Dense(3, 3), sn.Softmax()], "must take integer ids (an Embedding first)"),
        (
            [sn.Embedding(3, 4), sn.Flatten(), sn.Dense(8, 3), sn.Softmax()],
            "must give (batch, seq, vocab) probabilities, one row per position; for ids (1, 2) "
            "it gave (1, 3)",
        ),
        ([sn.Embedding(3, 4, seed=0), sn.Dense(4, 3, seed=1)], "end the model with sn.Softmax()"),
        ([sn.Embedding(3, 4), sn.Dense(4, 5), sn.Softmax()], "gives 5 probabilities per"),
    ],
    ids=["floats", "flat", "no-softmax", "vocab"],
)
def test_a_model_that_is_no_sequence_model_is_refused(layers: list[sn.Layer], words: str) -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        generate(sn.Model(layers), [0, 1], 3)
    assert words in str(caught.value)
