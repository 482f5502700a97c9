"""The dim model: shapenn's reading of jaxtyping annotations, and its contract with jaxtyping.

The contract: for any annotation in the grammar shapenn models, binding shapes with the dim
model accepts exactly what jaxtyping accepts. Hypothesis draws the annotations and shapes.
"""

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jaxtyping import Float, Integer, Shaped, jaxtyped

import shapenn as sn
from shapenn.shapes import _dims
from shapenn.shapes._dims import (
    Anonymous,
    Bound,
    Expr,
    Fixed,
    Named,
    Opaque,
    Variadic,
    bind,
    evaluate,
    output_shape,
    render_spec,
    spec_of,
    specs_of,
    substituted,
)


def dims(text: str) -> tuple[Any, ...]:
    spec = spec_of(Float[np.ndarray, text])
    assert spec is not None
    return spec.dims


def test_every_kind_of_dim_is_read() -> None:
    assert dims("3 rows=4 batch #n _ *rest") == (
        Fixed(3),
        Fixed(4),
        Named("batch"),
        Named("n", broadcastable=True),
        Anonymous(),
        Variadic("rest"),
    )
    assert dims("... c*h*w (h-k)//s+1") == (Variadic(None), Expr("c*h*w"), Expr("(h-k)//s+1"))


def test_what_the_model_does_not_understand_is_opaque_not_an_error() -> None:
    assert dims("?tree") == (Opaque("?tree"),)
    assert dims("{n}+1") == (Opaque("{n}+1"),)
    assert dims("n.real") == (Opaque("n.real"),)  # attribute access: not plain arithmetic


def test_unions_and_optionals_are_read_member_by_member() -> None:
    labels, onehot = Integer[np.ndarray, " batch"], Float[np.ndarray, "batch classes"]
    assert [s.text for s in specs_of(labels | onehot)] == ["batch", "batch classes"]
    assert spec_of(onehot | None) is not None and spec_of(labels | onehot) is None
    assert specs_of(int) == [] and spec_of(None) is None


def test_binding_says_why_a_shape_does_not_fit() -> None:
    spec = spec_of(Float[np.ndarray, "batch n n+1 3"])
    assert spec is not None
    assert bind(spec, (2, 4, 5, 3), {}) is None
    assert bind(spec, (2, 4, 5), {}).reason == "it is 3-D but 4-D is needed"  # type: ignore[union-attr]
    mismatch = bind(spec, (2, 4, 6, 3), {})
    assert mismatch is not None and mismatch.reason == "axis 2 must be n+1 = 4+1 = 5 but is 6"
    assert bind(spec, (2, 4, 5, 2), {}).reason == "axis 3 must be 3 but is 2"  # type: ignore[union-attr]
    named = bind(spec, (2, 4, 5, 3), {"n": Bound(7, "self.scale")})
    assert named is not None and named.reason == "`n` is 4 here but 7 in `self.scale`"
    same = bind(spec_of(Float[np.ndarray, "n n"]), (2, 3), {})  # type: ignore[arg-type]
    assert same is not None and same.reason == "`n` is 3 here but 2 on another axis"


def test_variadic_dims_bind_a_run_of_axes() -> None:
    spec = spec_of(Float[np.ndarray, "batch *features"])
    assert spec is not None
    bindings: dict[str, Bound] = {}
    assert bind(spec, (5, 8, 6, 6), bindings) is None
    assert bindings["*features"].size == (8, 6, 6)
    mismatch = bind(spec, (5, 8, 3, 3), bindings)
    assert mismatch is not None
    assert (
        mismatch.reason == "its axes `*features` are (8, 3, 3) here but (8, 6, 6) on another axis"
    )
    assert bind(spec, (), {}).reason == "it is 0-D but at least 1-D is needed"  # type: ignore[union-attr]


def test_expressions_are_evaluated_and_shown_worked_out() -> None:
    bindings = {"h": Bound(8, ""), "k": Bound(3, ""), "s": Bound(1, "")}
    assert evaluate("(h-k)//s+1", bindings) == 6
    assert substituted("(h-k)//s+1", bindings) == "(8-3)//1+1"
    assert evaluate("max(h, k) - min(h, k)", bindings) == 5
    assert evaluate("h//0", bindings) is None  # no crash, just unknown
    assert evaluate("h+missing", bindings) is None


def test_output_shapes_come_from_the_bindings_with_their_arithmetic() -> None:
    spec = spec_of(Float[np.ndarray, "batch c*h*w"])
    assert spec is not None
    bindings = {
        "batch": Bound("batch", ""),
        "c": Bound(8, ""),
        "h": Bound(3, ""),
        "w": Bound(3, ""),
    }
    shape, derived = output_shape(spec, bindings)  # type: ignore[misc]
    assert shape == ("batch", 72)
    assert [(d.text, d.worked, d.value) for d in derived] == [("c*h*w", "8*3*3", 72)]


def test_known_sizes_are_shown_in_the_expected_shape() -> None:
    spec = spec_of(Float[np.ndarray, "batch in"])
    assert spec is not None
    assert render_spec(spec, {"in": Bound(4, "self.weights")}) == "(batch, in=4)"
    one = spec_of(Integer[np.ndarray, " batch"])
    assert one is not None and render_spec(one, {}) == "(batch,)"


# --- the contract with jaxtyping ---------------------------------------------------------------

NAMES = ["a", "b", "c"]


@st.composite
def annotations(draw: st.DrawFn) -> tuple[list[str], list[tuple[int, ...]]]:
    """Two or three dim strings over a few names, and a shape for each; expressions only use
    names bound before them (jaxtyping requires that of annotations)."""
    texts, shapes, seen = [], [], set()
    for _ in range(draw(st.integers(2, 3))):
        parts, shape = [], []
        variadic = False
        for _ in range(draw(st.integers(0, 3))):
            choices = ["fixed", "named", "anonymous"]
            if seen:
                choices.append("expr")
            if not variadic:
                choices.append("variadic")
            kind = draw(st.sampled_from(choices))
            if kind == "fixed":
                parts.append(str(draw(st.integers(1, 3))))
            elif kind == "named":
                name = draw(st.sampled_from(NAMES))
                if draw(st.booleans()):
                    parts.append("#" + name)  # size 1 binds nothing: not for expressions
                else:
                    parts.append(name)
                    seen.add(name)
            elif kind == "anonymous":
                parts.append("_")
            elif kind == "expr":
                left, right = (
                    draw(st.sampled_from(sorted(seen))),
                    draw(st.sampled_from(sorted(seen))),
                )
                op = draw(st.sampled_from(["+", "-", "*", "//"]))
                parts.append(f"{left}{op}{right}" if op != "//" else f"{left}//2")
            else:
                variadic = True
                parts.append(draw(st.sampled_from(["*v", "..."])))
        rank = len(parts) - (1 if variadic else 0) + (draw(st.integers(0, 2)) if variadic else 0)
        shape = tuple(draw(st.integers(0, 4)) for _ in range(max(0, rank)))
        if draw(st.booleans()):  # sometimes a rank that cannot fit
            shape = shape[:-1] if shape else (1,)
        texts.append(" ".join(parts) if parts else "")
        shapes.append(shape)
    return texts, shapes


def _jaxtyping_accepts(texts: list[str], shapes: list[tuple[int, ...]]) -> bool:
    with jaxtyped("context"):
        return all(
            isinstance(np.zeros(shape), Shaped[np.ndarray, text])
            for text, shape in zip(texts, shapes, strict=True)
        )


def _dim_model_accepts(texts: list[str], shapes: list[tuple[int, ...]]) -> bool:
    bindings: dict[str, Bound] = {}
    for text, shape in zip(texts, shapes, strict=True):
        spec = spec_of(Shaped[np.ndarray, text])
        assert spec is not None
        if bind(spec, shape, bindings) is not None:
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(annotations())
def test_the_dim_model_accepts_exactly_what_jaxtyping_accepts(
    drawn: tuple[list[str], list[tuple[int, ...]]],
) -> None:
    texts, shapes = drawn
    assert _dim_model_accepts(texts, shapes) == _jaxtyping_accepts(texts, shapes), drawn


def test_this_jaxtyping_is_one_the_dim_model_reads() -> None:
    # If jaxtyping's internals changed, these dims would come back Opaque: the pinned range in
    # pyproject.toml must then be revisited.
    assert dims("3 n n+1 *v _") == (Fixed(3), Named("n"), Expr("n+1"), Variadic("v"), Anonymous())


def test_if_the_dim_model_cannot_read_jaxtyping_errors_fall_back_to_its_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_dims, "_dim", lambda raw: Opaque(str(raw)))
    _dims._spec.cache_clear()
    try:

        @sn.shapechecked
        def twice(x: Float[np.ndarray, "n n"]) -> Float[np.ndarray, "n n"]:
            return x + x

        with pytest.raises(sn.ShapeError) as caught:
            twice(np.zeros((2, 3), np.float32))
        assert "does not equal the existing value of 2" in str(caught.value)
    finally:
        _dims._spec.cache_clear()


def test_arithmetic_dims_in_a_failing_call_get_words_not_a_crash() -> None:
    @sn.shapechecked
    def pad(x: Float[np.ndarray, " n"]) -> Float[np.ndarray, " n+1"]:
        return np.concatenate([x, x])

    with pytest.raises(sn.ShapeError) as caught:
        pad(np.zeros(3, np.float32))
    assert "axis 0 must be n+1 = 3+1 = 4 but is 6" in str(caught.value)
