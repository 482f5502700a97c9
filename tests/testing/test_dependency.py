"""assert_batch_independent and assert_causal: a hand-written attention layer that merges its
heads without the transpose is not causal, one that normalizes over the batch is not batch
independent, shapenn's per-position layers are both; each failure is a few lines naming the
layer, the pair and the size of the leak."""

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from jaxtyping import Float, Integer

import shapenn as sn
from shapenn.shapes import Array2D, Array3D
from shapenn.testing._dependency import (
    DependencyError,
    assert_batch_independent,
    assert_causal,
)

VOCAB, SEQ, FEATURES = 11, 6, 8


class Attention(sn.Layer):
    """Causal multi-head self-attention, written as a user would: queries, keys and values by
    three Dense layers, the features split into ``heads``. With ``transpose=False`` the heads
    are merged by a reshape alone — (batch, heads, seq, d) read as (batch, seq, heads·d) — the
    classic bug; ``mask="none"`` leaves the mask out, ``mask="transposed"`` hides the past
    instead of the future."""

    def __init__(
        self, features: int, heads: int, *, transpose: bool = True, mask: str = "causal"
    ) -> None:
        self.features, self.heads, self.transpose, self.mask = features, heads, transpose, mask
        self.query = sn.Dense(features, features, seed=1)
        self.key = sn.Dense(features, features, seed=2)
        self.value = sn.Dense(features, features, seed=3)

    def __repr__(self) -> str:
        return f"Attention({self.features}, heads={self.heads})"

    def forward(
        self, inputs: Float[Array3D, "batch seq features"]
    ) -> Float[Array3D, "batch seq features"]:
        batch, seq, features = inputs.shape
        heads, d = self.heads, features // self.heads

        def split(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return x.reshape(batch, seq, heads, d).transpose(0, 2, 1, 3)

        rows: Any = inputs  # Dense takes any rank; its static type says 2-D
        q, k, v = (split(layer.forward(rows)) for layer in (self.query, self.key, self.value))
        scores = q @ k.transpose(0, 1, 3, 2) / float(np.sqrt(d))
        if self.mask != "none":
            k_offset = 1 if self.mask == "causal" else -1
            hidden = (np.triu if self.mask == "causal" else np.tril)(
                np.ones((seq, seq), dtype=bool), k=k_offset
            )
            scores = np.where(hidden, -np.inf, scores)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        heads_out = weights @ v  # (batch, heads, seq, d)
        if self.transpose:
            heads_out = heads_out.transpose(0, 2, 1, 3)  # (batch, seq, heads, d)
        self.output = heads_out.reshape(batch, seq, features)
        return self.output


class BatchStandardize(sn.Layer):
    """Standardizes each feature over the batch axis, in training and inference alike: a
    norm written with the wrong axis."""

    def forward(
        self, inputs: Float[Array3D, "batch seq features"]
    ) -> Float[Array3D, "batch seq features"]:
        centered = inputs - inputs.mean(axis=0, keepdims=True)
        self.output = centered / (centered.std(axis=0, keepdims=True) + np.float32(1e-5))
        return self.output


class OneHot(sn.Layer):
    """Ids to one-hot vectors: a first layer that takes integers but is no Embedding."""

    def __init__(self, n: int) -> None:
        self.n = n

    def forward(self, inputs: Integer[Array2D, "batch seq"]) -> Float[Array3D, "batch seq n"]:
        self.output = np.eye(self.n, dtype=np.float32)[inputs]
        return self.output


def _model(*middle: sn.Layer) -> sn.Model:
    return sn.Model(
        [sn.Embedding(VOCAB, FEATURES, seed=0), *middle, sn.Dense(FEATURES, VOCAB), sn.Softmax()]
    )


def _ids(seed: int = 0, batch: int = 4) -> npt.NDArray[np.int64]:
    return np.random.default_rng(seed).integers(0, VOCAB, size=(batch, SEQ))


def test_heads_merged_without_the_transpose_are_not_causal() -> None:
    with pytest.raises(DependencyError) as caught:
        assert_causal(_model(Attention(FEATURES, 2, transpose=False)), _ids())
    message = str(caught.value)
    lines = message.splitlines()
    assert lines[0].startswith("assert_causal: outputs see later positions: changing position ")
    assert "changed the output at position " in lines[0] and "by up to " in lines[0]
    assert (
        lines[1] == "  where: layers[1] Attention(8, heads=2), the first layer whose output leaks"
    )
    assert "transpose(0, 2, 1, 3)" in lines[3] and len(lines) == 4
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert isinstance(caught.value, AssertionError) and isinstance(caught.value, sn.ShapennError)


def test_the_leak_is_the_one_measured() -> None:
    # With two heads of a causal attention merged by reshape alone, output position 0 holds
    # head 0 at positions 0 and 1: changing position 1 moves it.
    model = _model(Attention(FEATURES, 2, transpose=False))
    X = _ids()
    with pytest.raises(DependencyError) as caught:
        assert_causal(model, X, positions=None)
    assert "changing position 1 of X changed the output at position 0 " in str(caught.value)
    changed = X.copy()
    changed[:, 1] = (changed[:, 1] + 1) % VOCAB
    moved = np.abs(model.predict(changed)[:, 0] - model.predict(X)[:, 0]).max()
    assert moved > 1e-3


def test_the_fixed_attention_is_causal_and_batch_independent() -> None:
    model = _model(Attention(FEATURES, 2))
    assert_causal(model, _ids())
    assert_batch_independent(model, _ids())


@pytest.mark.parametrize("mask", ["none", "transposed"])
def test_a_missing_or_transposed_mask_is_not_causal(mask: str) -> None:
    with pytest.raises(DependencyError, match=r"where: layers\[1\] Attention"):
        assert_causal(_model(Attention(FEATURES, 2, mask=mask)), _ids())


def test_a_layer_is_checked_on_its_own_with_float_inputs() -> None:
    X = np.random.default_rng(1).normal(size=(3, SEQ, FEATURES)).astype(np.float32)
    with pytest.raises(DependencyError, match=r"where: Attention\(8, heads=2\), the layer checked"):
        assert_causal(Attention(FEATURES, 2, transpose=False), X)
    assert_causal(Attention(FEATURES, 2), X)
    assert_batch_independent(Attention(FEATURES, 2), X)


def test_a_norm_over_the_batch_axis_is_not_batch_independent() -> None:
    model = _model(BatchStandardize())
    with pytest.raises(DependencyError) as caught:
        assert_batch_independent(model, _ids())
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("assert_batch_independent: outputs depend on other samples: ")
    assert "changing sample 0 of X changed the output of sample " in lines[0]
    assert lines[1] == "  where: layers[1] BatchStandardize(), the first layer whose output leaks"
    assert lines[2] == "  4 of 4 changed samples leak into others"
    assert "axis 0" in lines[3] and len(lines) == 4
    assert_causal(model, _ids())  # each position is normalized on its own: causal still


def test_per_position_layers_pass_both() -> None:
    model = _model(sn.LayerNorm(FEATURES), sn.Dense(FEATURES, FEATURES, seed=4), sn.ReLU())
    assert_causal(model, _ids())
    assert_batch_independent(model, _ids())
    floats = sn.Model([sn.Dense(3, FEATURES, seed=0), sn.LayerNorm(FEATURES), sn.Tanh()])
    X = np.random.default_rng(2).normal(size=(5, SEQ, 3))
    assert_causal(floats, X)
    assert_batch_independent(floats, X)
    assert_batch_independent(sn.Dense(3, 2, seed=0), X[:, 0])


def test_batch_norm_leaks_in_training_but_the_checks_run_in_inference() -> None:
    model = sn.Model([sn.Dense(3, 4, seed=0), sn.BatchNorm1D(4), sn.Dense(4, 2, seed=1)])
    X = np.random.default_rng(3).normal(size=(6, 3)).astype(np.float32)
    changed = X.copy()
    changed[0] += 1
    model.set_training(True)
    moved = np.abs(model.forward(changed)[1:] - model.forward(X)[1:]).max()
    assert moved > 1e-3  # in training, the batch's statistics tie every sample to the others
    assert_batch_independent(model, X)
    assert all(layer.training for layer in model.layers)  # the original keeps its mode


def test_the_original_is_not_touched() -> None:
    model = _model(Attention(FEATURES, 2, transpose=False))
    before = {p.path: p.value.copy() for p in model.parameters()}
    attributes = [sorted(vars(layer)) for _, layer in model.layers[1].named_layers()]
    with pytest.raises(DependencyError):
        assert_causal(model, _ids())
    assert_batch_independent(model, _ids())
    assert all(np.array_equal(before[p.path], p.value) for p in model.parameters())
    assert [sorted(vars(layer)) for _, layer in model.layers[1].named_layers()] == attributes
    assert all(layer.training for layer in model.layers)


def test_the_same_seed_gives_the_same_verdict_and_a_subset_is_checked() -> None:
    model = _model(Attention(FEATURES, 2, transpose=False))
    messages = set()
    for _ in range(2):
        with pytest.raises(DependencyError) as caught:
            assert_causal(model, _ids(), positions=2, seed=5)
        messages.add(str(caught.value))
    assert len(messages) == 1
    assert " of 2 changed positions leak into earlier ones" in messages.pop()
    with pytest.raises(DependencyError, match=" of 3 changed samples leak into others"):
        assert_batch_independent(_model(BatchStandardize()), _ids(), samples=3, seed=1)


def test_ids_come_from_x_when_the_first_layer_is_no_embedding() -> None:
    model = sn.Model([OneHot(VOCAB), BatchStandardize(), sn.Dense(VOCAB, 3)])
    with pytest.raises(DependencyError, match=r"where: layers\[1\] BatchStandardize\(\)"):
        assert_batch_independent(model, _ids())
    assert_causal(model, _ids())
    with pytest.raises(sn.ArgumentError, match="X holds only the id 3, and OneHot"):
        assert_causal(model, np.full((2, SEQ), 3))


WRONG: dict[object, Any] = {"model": "model", 1.5: 1.5}  # arguments of the wrong type, as Any


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: assert_causal(WRONG["model"], _ids()), "target must be a Model or a Layer"),
        (lambda: assert_causal(sn.Model(), _ids()), "the model has no layers"),
        (lambda: assert_batch_independent(_model(), _ids(batch=1)), "X has 1 sample"),
        (lambda: assert_causal(sn.Dense(3, 2), np.ones((2, 1, 3))), "at least 2 of them"),
        (lambda: assert_causal(_model(), _ids(), positions=0), "positions must be a positive"),
        (lambda: assert_batch_independent(_model(), _ids(), samples=WRONG[1.5]), "samples must be"),
        (lambda: assert_causal(_model(), _ids(), tolerance=-1), "tolerance must be"),
        (lambda: assert_causal(_model(), _ids(), seed=-1), "seed must be an integer >= 0"),
        (
            lambda: assert_causal(
                sn.Model([sn.Embedding(VOCAB, 2), sn.Flatten(), sn.Dense(2 * SEQ, 3)]), _ids()
            ),
            "does not keep X's positions on axis 1",
        ),
    ],
)
def test_bad_arguments_are_argument_errors(call: object, words: str) -> None:
    with pytest.raises(sn.ArgumentError, match=words):
        call()  # type: ignore[operator]


def test_bad_ids_are_refused_in_the_model_s_words() -> None:
    with pytest.raises(sn.LabelError, match="ids must be in"):
        assert_causal(_model(), np.full((2, SEQ), VOCAB))


def test_a_failure_in_pytest_is_a_few_lines_ending_at_the_user_s_call(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """\
            import numpy as np
            from jaxtyping import Float
            import shapenn as sn
            from shapenn.shapes import Array2D
            from shapenn.testing._dependency import assert_batch_independent


            class Center(sn.Layer):
                def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
                    self.output = inputs - inputs.mean(axis=0, keepdims=True)
                    return self.output


            def test_center():
                X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
                assert_batch_independent(Center(), X)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout
    assert "_ test_center _" in output, output + result.stderr
    section = output[output.index("_ test_center _") : output.index("short test summary")]
    lines = [line for line in section.splitlines() if line.strip()]
    assert "shapenn/" not in section, section
    assert "E       shapenn.testing.DependencyError: assert_batch_independent: " in section
    assert "E         where: Center(), the layer checked (in a Model, each layer is" in section
    assert len(lines) <= 12, section
