"""Export under hostile use: the exported graph's dims come from the annotations (never from
the data a model has seen), parameters that are not finite are refused, and every bad argument
is one of shapenn's documented errors, never ONNX's, onnxruntime's or Python's own."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import Scale
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jaxtyping import Float

import shapenn as sn
from shapenn import export
from shapenn.export import _export
from shapenn.shapes import Array2D, Array4D

RTOL = 1e-5
ATOL = 1e-6
DOCUMENTED = (
    sn.ArgumentError,
    sn.ShapeError,
    sn.PathError,
    sn.MissingDependencyError,
    export.ExportError,
)


class GlobalAvgPool(sn.Layer):
    """The mean of each channel over the image, whatever its size."""

    def forward(
        self, inputs: Float[Array4D, "batch channels h w"]
    ) -> Float[Array2D, "batch channels"]:
        self.inputs = inputs
        self.output = inputs.mean(axis=(2, 3))
        return self.output

    def backward(
        self, dvalues: Float[Array2D, "batch channels"]
    ) -> Float[Array4D, "batch channels h w"]:
        h, w = self.inputs.shape[2:]
        self.dinputs = np.broadcast_to(
            dvalues[:, :, None, None] / (h * w), self.inputs.shape
        ).copy()
        return self.dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(graph.add("Flatten", [graph.add("GlobalAveragePool", [inputs])], axis=1))

    def export_torch(self, torch: Any) -> Any:
        return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())


def _images(*shape: int, seed: int = 0) -> Any:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _dims(value: Any) -> list[Any]:
    return [
        d.dim_param or (d.dim_value if d.HasField("dim_value") else None)
        for d in value.type.tensor_type.shape.dim
    ]


def _session(path: Path) -> Any:
    onnxruntime = pytest.importorskip("onnxruntime")
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _same(session: Any, model: sn.Model, X: Any) -> None:
    (output,) = session.run(None, {"input": X})
    np.testing.assert_allclose(output, model.predict(X), rtol=RTOL, atol=ATOL)


def _global_pool_net() -> sn.Model:
    return sn.Model(
        [
            sn.Conv2D(3, 8, 3, seed=0),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Conv2D(8, 4, 3, padding="same", seed=1),
            GlobalAvgPool(),
            sn.Dense(4, 3, seed=2),
            sn.Softmax(),
        ]
    )


# --- D10: dims from the annotations, not from the data seen ----------------------------------


def test_image_sizes_the_model_leaves_open_stay_open_after_data(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = _global_pool_net()
    seen, other = _images(2, 3, 11, 9), _images(3, 3, 16, 20, seed=1)
    model.predict(seen)  # the model has seen 11×9 images …
    path = export.to_onnx(model, tmp_path / "pool.onnx")
    proto = onnx.load(str(path))
    assert _dims(proto.graph.input[0]) == ["batch", 3, "h", "w"]  # … which pin nothing
    assert _dims(proto.graph.output[0]) == ["batch", 3]
    session = _session(path)
    for X in (seen, other):  # both sizes the model accepts run
        _same(session, model, X)


def test_a_fully_convolutional_net_runs_on_any_size_it_accepts(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = sn.Model([sn.Conv2D(1, 2, 3, seed=0), sn.Tanh(), sn.AvgPool2D(2)])
    model.predict(_images(4, 1, 9, 7))
    session = _session(export.to_onnx(model, tmp_path / "fcn.onnx"))
    for X in (_images(4, 1, 9, 7), _images(2, 1, 12, 30, seed=2), _images(1, 1, 4, 4, seed=3)):
        _same(session, model, X)


def test_a_dense_after_flatten_fixes_the_flattened_size_and_nothing_else(
    tmp_path: Path,
) -> None:
    onnx = pytest.importorskip("onnx")
    model = sn.Model(
        [sn.Conv2D(3, 2, 3, padding="same", seed=0), sn.Flatten(), sn.Dense(2 * 6 * 4, 5, seed=1)]
    )
    model.predict(_images(2, 3, 6, 4))
    proto = onnx.load(str(export.to_onnx(model, tmp_path / "flat.onnx")))
    assert _dims(proto.graph.input[0]) == ["batch", 3, "h", "w"]
    shapes = {value.name: _dims(value) for value in proto.graph.value_info}
    assert shapes["layers.1.flatten"] == ["batch", 48]  # what the Dense fixes
    session = _session(tmp_path / "flat.onnx")
    for X in (_images(2, 3, 6, 4), _images(3, 3, 4, 6, seed=1), _images(1, 3, 8, 3, seed=2)):
        _same(session, model, X)  # every size with 6·4 pixels, as predict accepts


def test_input_shape_fixes_the_sizes(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = sn.Model([sn.Conv2D(3, 2, 3, seed=0), GlobalAvgPool()], input_shape=(3, 7, 5))
    proto = onnx.load(str(export.to_onnx(model, tmp_path / "fixed.onnx")))
    assert _dims(proto.graph.input[0]) == ["batch", 3, 7, 5]


def test_sequence_positions_stay_open_after_data(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = sn.Model([sn.Dense(4, 3, seed=0), sn.Softmax()])
    model.predict(_images(2, 5, 4))
    path = export.to_onnx(model, tmp_path / "seq.onnx")
    assert _dims(onnx.load(str(path)).graph.input[0]) == ["batch", "positions", 4]
    session = _session(path)
    for X in (_images(2, 5, 4), _images(3, 9, 4, seed=1)):
        _same(session, model, X)


def test_token_positions_stay_open_after_data(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = sn.Model([sn.Embedding(10, 4, seed=0), sn.LayerNorm(4), sn.Dense(4, 2, seed=1)])
    ids = np.random.default_rng(0).integers(0, 10, size=(2, 6))
    model.predict(ids)
    path = export.to_onnx(model, tmp_path / "tokens.onnx")
    assert _dims(onnx.load(str(path)).graph.input[0]) == ["batch", "positions"]
    session = _session(path)
    for X in (ids, np.random.default_rng(1).integers(0, 10, size=(3, 11))):
        _same(session, model, X)


@pytest.mark.torch
def test_a_torch_program_keeps_open_sizes_open(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = _global_pool_net()
    model.predict(_images(2, 3, 11, 9))
    program = torch.export.load(str(export.to_torch_program(model, tmp_path / "p.pt2"))).module()
    for X in (_images(2, 3, 11, 9), _images(3, 3, 16, 20, seed=1)):
        output = program(torch.from_numpy(X)).detach().numpy()
        np.testing.assert_allclose(output, model.predict(X), rtol=RTOL, atol=ATOL)


# --- D12: NaN and infinite parameters --------------------------------------------------------


def _poisoned(where: str) -> sn.Model:
    model = sn.Model([sn.Dense(2, 3, seed=0), sn.BatchNorm1D(3), sn.ReLU(), sn.Dense(3, 2, seed=1)])
    if where == "weights":
        model.layers[3].weights[1, 0] = np.nan
    else:
        model.layers[1].running_var[2] = np.inf
    return model


EXPECTED = {
    "weights": r"layers\[3\] Dense\(3 → 2\): `weights` holds NaN or infinite values",
    "running_var": r"layers\[1\] BatchNorm1D\(3\): `running_var` holds NaN or infinite values",
}


@pytest.mark.parametrize("where", sorted(EXPECTED))
def test_onnx_refuses_what_save_refuses(where: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = _poisoned(where)
    with pytest.raises(sn.ArgumentError, match="holds NaN or infinite values"):
        sn.save(model, tmp_path / "m.npz")
    with pytest.raises(export.ExportError, match=EXPECTED[where]):
        export.to_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.torch
@pytest.mark.parametrize("where", sorted(EXPECTED))
def test_torch_refuses_what_save_refuses(where: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    model = _poisoned(where)
    with pytest.raises(export.ExportError, match=EXPECTED[where]):
        export.to_torch(model)
    with pytest.raises(export.ExportError, match=EXPECTED[where]):
        export.to_torch_program(model, tmp_path / "m.pt2")
    assert not (tmp_path / "m.pt2").exists()


# --- D21: arguments, rules and dtypes ------------------------------------------------------


@pytest.mark.parametrize("opset", [0, -1, "17", None, 10**9, True, 17.0, 16, 2**70, [17]])
def test_an_opset_out_of_range_is_refused_with_the_range(opset: Any, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = sn.Model([sn.Dense(2, 3, seed=0)])
    with pytest.raises(sn.ArgumentError, match=r"opset must be an int from 17 to \d+"):
        export.to_onnx(model, tmp_path / "m.onnx", opset=opset)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("opset", [17, np.int64(18), getattr(_export, "MAX_OPSET", 28)])
def test_every_opset_in_the_range_runs(opset: Any, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    if int(opset) > onnx.defs.onnx_opset_version():
        pytest.skip("the installed onnx predates this opset")
    model = _global_pool_net()
    path = export.to_onnx(model, tmp_path / "m.onnx", opset=opset)
    _same(_session(path), model, _images(2, 3, 10, 10))


def test_a_layer_is_refused_with_how_to_wrap_it(tmp_path: Path) -> None:
    with pytest.raises(sn.ArgumentError, match=r"got the layer Dense\(2 → 3\).*sn\.Model\(\["):
        export.to_onnx(sn.Dense(2, 3), tmp_path / "m.onnx")  # type: ignore[arg-type]
    with pytest.raises(sn.ArgumentError, match=r"sn\.Model\(\["):
        export.to_torch(sn.Dense(2, 3))  # type: ignore[arg-type]
    with pytest.raises(sn.ArgumentError, match=r"sn\.Model\(\["):
        export.to_torch_program(sn.Dense(2, 3), tmp_path / "m.pt2")  # type: ignore[arg-type]


@pytest.mark.parametrize("path", [5, b"/tmp/m.onnx", "", "m\0.onnx"])
def test_a_path_that_is_no_file_name_is_refused(path: Any) -> None:
    with pytest.raises(sn.ArgumentError, match="to_onnx: path"):
        export.to_onnx(sn.Model([sn.Dense(2, 3, seed=0)]), path)


def test_a_name_too_long_is_a_path_error(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    with pytest.raises(sn.PathError):
        export.to_onnx(sn.Model([sn.Dense(2, 3, seed=0)]), tmp_path / ("x" * 300))


@pytest.fixture
def rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_export, "_RULES", {})


def _scaled() -> sn.Model:
    return sn.Model([sn.Dense(2, 4, seed=0), Scale(4), sn.Dense(4, 3, seed=1)])


@pytest.mark.usefixtures("rules")
def test_a_rule_naming_no_tensor_is_refused_naming_the_layer_and_rule(tmp_path: Path) -> None:
    pytest.importorskip("onnx")

    def lost(layer: Any, graph: export.OnnxGraph, inputs: str) -> str:
        graph.add("Mul", [inputs, graph.constant("scale", layer.scale)])
        return "scaled"  # not the name graph.add gave

    export.register(Scale, onnx=lost)
    with pytest.raises(export.ExportError, match=r"layers\[1\] Scale\(4\) \(the rule .*lost"):
        export.to_onnx(_scaled(), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.usefixtures("rules")
@pytest.mark.parametrize(
    "rule",
    [
        lambda layer, graph, inputs: graph.add("Mul", [inputs, "ghost"]),
        lambda layer, graph, inputs: graph.add("Frobnicate", [inputs]),
        lambda layer, graph, inputs: graph.add("Softmax", [inputs], axis=7),
        lambda layer, graph, inputs: layer.nothing,
        lambda layer, graph, inputs: None,
    ],
)
def test_a_broken_rule_is_an_export_error_naming_the_layer(
    rule: Callable[..., Any], tmp_path: Path
) -> None:
    pytest.importorskip("onnx")
    export.register(Scale, onnx=rule)
    with pytest.raises(export.ExportError, match=r"layers\[1\] Scale\(4\)"):
        export.to_onnx(_scaled(), tmp_path / "m.onnx")


@pytest.mark.torch
@pytest.mark.usefixtures("rules")
def test_a_torch_rule_that_gives_no_module_is_refused() -> None:
    pytest.importorskip("torch")
    export.register(Scale, torch=lambda layer, torch: "a module")
    with pytest.raises(export.ExportError, match=r"layers\[1\] Scale\(4\).*not a torch.nn.Module"):
        export.to_torch(_scaled())


def test_a_float64_cnn_is_refused_up_front_saying_why(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = sn.Model(
        [
            sn.Conv2D(1, 2, 3, seed=0, dtype=np.float64),
            sn.Flatten(),
            sn.Dense(18, 2, seed=1, dtype=np.float64),
        ],
        input_shape=(1, 5, 5),
    )
    with pytest.raises(
        export.ExportError,
        match=r"layers\[0\] Conv2D.*float64.*no float64 kernel for the ONNX Conv.*float32",
    ):
        export.to_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_a_float64_model_of_ops_onnxruntime_runs_in_float64_exports(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    f64 = np.float64
    model = sn.Model(
        [sn.Dense(3, 4, seed=0, dtype=f64), sn.LayerNorm(4, dtype=f64), sn.Tanh(), sn.Softmax()]
    )
    X = np.random.default_rng(0).normal(size=(5, 3))
    _same(_session(export.to_onnx(model, tmp_path / "m.onnx")), model, X)


# --- fuzz ----------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("SHAPENN_FUZZ_EXAMPLES", "60"))


def _mlp(dtype: Any) -> sn.Model:
    return sn.Model(
        [
            sn.Dense(3, 5, seed=0, dtype=dtype),
            sn.ReLU(),
            sn.Dense(5, 2, seed=1, dtype=dtype),
            sn.Softmax(),
        ]
    )


def _cnn(dtype: Any) -> sn.Model:
    return sn.Model(
        [
            sn.Conv2D(2, 3, 3, padding="same", seed=0, dtype=dtype),
            sn.ReLU(),
            sn.MaxPool2D(2),
            GlobalAvgPool(),
            sn.Dense(3, 2, seed=1, dtype=dtype),
        ]
    )


MODELS: dict[str, Callable[[Any], sn.Model]] = {"mlp": _mlp, "cnn": _cnn}
VALID_OPSETS = st.one_of(
    st.integers(min_value=17, max_value=getattr(_export, "MAX_OPSET", 28)),
    st.builds(np.int64, st.integers(min_value=17, max_value=20)),
)
OTHER_OPSETS = st.one_of(
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([10**9, -(2**70), 2**70]),
    st.builds(np.int64, st.integers(min_value=15, max_value=30)),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.just([17]),
)
# Mostly what is right, so that graphs are written and run as often as errors are raised.
OPSETS = st.sampled_from([True, True, True, False]).flatmap(
    lambda valid: VALID_OPSETS if valid else OTHER_OPSETS
)
PATHS = st.sampled_from(
    ["file", "pathlib"] * 6 + ["int", "bytes", "empty", "nul", "folder", "missing", "long"]
)


def _path(kind: str, folder: str) -> Any:
    return {
        "file": os.path.join(folder, "m.onnx"),
        "pathlib": Path(folder) / "m.onnx",
        "int": 3,
        "bytes": os.path.join(folder, "m.onnx").encode(),
        "empty": "",
        "nul": os.path.join(folder, "m\0.onnx"),
        "folder": folder,
        "missing": os.path.join(folder, "missing", "m.onnx"),
        "long": os.path.join(folder, "x" * 300),
    }[kind]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(sorted(MODELS)),
    dtype=st.sampled_from([np.float32, np.float64]),
    opset=OPSETS,
    path=PATHS,
    poison=st.sampled_from([None] * 6 + [np.nan, np.inf, -np.inf]),
    as_layer=st.sampled_from([False] * 6 + [True]),
    seen=st.sampled_from([None, (6, 6), (9, 7), (12, 5)]),
    size=st.sampled_from([(6, 6), (8, 10), (5, 13)]),
)
def test_fuzz_to_onnx_gives_a_documented_error_or_a_graph_computing_predict(
    kind: str,
    dtype: Any,
    opset: Any,
    path: str,
    poison: float | None,
    as_layer: bool,
    seen: tuple[int, int] | None,
    size: tuple[int, int],
) -> None:
    pytest.importorskip("onnx")
    model = MODELS[kind](dtype)
    rng = np.random.default_rng(0)

    def sample(batch: int, hw: tuple[int, int]) -> Any:
        shape = (batch, 3) if kind == "mlp" else (batch, 2, *hw)
        return rng.normal(size=shape).astype(dtype)

    if seen is not None:
        model.predict(sample(2, seen))
    if poison is not None:
        model.layers[-2 if kind == "mlp" else 0].weights.flat[0] = poison
    target: Any = model.layers[0] if as_layer else model
    with tempfile.TemporaryDirectory() as folder:
        where = _path(path, folder)
        try:
            written = export.to_onnx(target, where, opset=opset)
        except DOCUMENTED as err:
            assert type(err).__module__.startswith("shapenn"), err
            event(f"refused: {type(err).__name__}")
            return
        event("accepted")
        # Accepted: only what is right is accepted.
        assert not as_layer and poison is None
        assert isinstance(opset, int | np.integer) and not isinstance(opset, bool)
        assert not (kind == "cnn" and dtype is np.float64)
        session = _session(written)
        for X in (sample(3, size), sample(1, seen or size)):
            _same(session, model, X)
