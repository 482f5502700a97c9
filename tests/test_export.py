"""Export to ONNX and PyTorch: the exported model computes what ``predict`` computes."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import Scale

import shapenn as sn
from shapenn import export
from shapenn.export import _export

TOLERANCE = 1e-5


def mlp() -> sn.Model:
    return sn.Model(
        [
            sn.Dense(4, 16, seed=0, weight_scale=0.5),
            sn.ReLU(),
            sn.Dropout(0.3, seed=1),
            sn.Dense(16, 8, seed=2, weight_scale=0.5),
            sn.Tanh(),
            sn.Dense(8, 8, seed=3, weight_scale=0.5),
            sn.Sigmoid(),
            sn.Dense(8, 3, seed=4, weight_scale=0.5),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.01),
    )


def regression() -> sn.Model:
    f64 = np.float64
    return sn.Model(
        [
            sn.Dense(1, 8, seed=0, dtype=f64),
            sn.Tanh(),
            sn.Dense(8, 1, seed=1, dtype=f64),
            sn.Linear(),
        ],
        loss=sn.MeanSquaredError(),
        optimizer=sn.Adam(),
    )


def cnn() -> sn.Model:
    return sn.Model(
        [
            sn.Conv2D(2, 4, 3, padding="same", seed=0),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Conv2D(4, 6, (3, 2), stride=(1, 2), padding=1, seed=1),
            sn.Sigmoid(),
            sn.AvgPool2D(2, stride=1),
            sn.Conv2D(6, 3, 4, padding="same", seed=2),  # an even kernel: asymmetric padding
            sn.Tanh(),
            sn.Flatten(),
            sn.Dense(3 * 4 * 2, 5, seed=3),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
        input_shape=(2, 10, 10),
    )


MODELS: dict[str, tuple[Callable[[], sn.Model], tuple[int, ...]]] = {
    "mlp": (mlp, (4,)),
    "float64 regression": (regression, (1,)),
    "cnn": (cnn, (2, 10, 10)),
}


def _trained(kind: str) -> tuple[sn.Model, Any]:
    build, sample = MODELS[kind]
    model = build()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, *sample)).astype(model.dtype)
    y = rng.normal(size=(40, 1)) if kind == "float64 regression" else rng.integers(0, 3, 40)
    model.fit(X, y, epochs=2, batch_size=8, seed=0, verbose=0)
    return model, rng.normal(size=(17, *sample)).astype(model.dtype)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_onnxruntime_computes_predict(kind: str, tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    model, X = _trained(kind)
    path = export.to_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (X, X[:1]):  # the batch axis is symbolic: any size runs
        (output,) = session.run(None, {"input": batch})
        assert output.dtype == model.dtype
        assert np.abs(output - model.predict(batch)).max() <= TOLERANCE


def test_the_graph_names_its_dims_and_layers(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    proto = onnx.load(str(export.to_onnx(cnn(), tmp_path / "cnn.onnx")))
    onnx.checker.check_model(proto, full_check=True)

    def dims(value: Any) -> list[Any]:
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    assert dims(proto.graph.input[0]) == ["batch", 2, 10, 10]
    assert dims(proto.graph.output[0]) == ["batch", 5]
    assert {"layers.0.weights", "layers.0.biases", "layers.9.weights"} <= {
        tensor.name for tensor in proto.graph.initializer
    }
    shapes = {value.name: dims(value) for value in proto.graph.value_info}
    assert shapes["layers.2.maxpool"] == ["batch", 4, 5, 5]
    # The Dense weights are stored as shapenn keeps them, (in, out), for Gemm.
    weights = next(t for t in proto.graph.initializer if t.name == "layers.9.weights")
    assert list(weights.dims) == [24, 5]


def test_sizes_only_data_can_tell_are_named_after_their_dims(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    model = sn.Model([sn.Conv2D(1, 2, 3, seed=0), sn.ReLU(), sn.AvgPool2D(2)])
    proto = onnx.load(str(export.to_onnx(model, tmp_path / "open.onnx")))
    shape = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in shape] == ["batch", 1, "h", "w"]
    session = onnxruntime.InferenceSession(str(tmp_path / "open.onnx"))
    X = np.random.default_rng(0).normal(size=(3, 1, 9, 7)).astype(np.float32)
    assert np.abs(session.run(None, {"input": X})[0] - model.predict(X)).max() <= TOLERANCE


@pytest.mark.torch
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_torch_computes_predict_and_trains_on(kind: str) -> None:
    torch = pytest.importorskip("torch")
    model, X = _trained(kind)
    net = export.to_torch(model)
    assert not net.training  # eval mode: Dropout passes everything, as predict does
    with torch.no_grad():
        output = net(torch.from_numpy(X)).numpy()
    assert output.dtype == model.dtype
    assert np.abs(output - model.predict(X)).max() <= TOLERANCE
    # Training goes on in PyTorch: a step moves the weights and lowers the loss.
    net.train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    inputs, targets = torch.from_numpy(X), torch.from_numpy(np.zeros((len(X), 1), X.dtype))
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        prediction = net(inputs) if kind == "float64 regression" else net[:-1](inputs)[:, :1]
        loss = torch.nn.functional.mse_loss(prediction, targets)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]


@pytest.mark.torch
def test_a_torch_program_runs_without_shapenn(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model, X = _trained("cnn")
    path = export.to_torch_program(model, tmp_path / "cnn.pt2")
    program = torch.export.load(str(path)).module()
    for batch in (X, X[:3]):
        output = program(torch.from_numpy(batch)).detach().numpy()
        assert np.abs(output - model.predict(batch)).max() <= TOLERANCE


def test_a_layer_without_a_rule_is_refused_with_how_to_add_one(tmp_path: Path) -> None:
    model = sn.Model([sn.Dense(2, 4, seed=0), Scale(4), sn.Dense(4, 3, seed=1)])
    with pytest.raises(export.ExportError) as caught:
        export.to_onnx(model, tmp_path / "m.onnx")
    assert str(caught.value) == (
        "layers[1] Scale(4) has no ONNX export rule. Define `export_onnx` on Scale (see "
        "Layer.export_onnx), or register one: `shapenn.export.register(Scale, onnx=rule)` "
        "with rule(layer, graph, inputs) -> the name of its output"
    )
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.torch
def test_a_layer_without_a_torch_rule_is_refused_with_how_to_add_one() -> None:
    pytest.importorskip("torch")
    model = sn.Model([sn.Dense(2, 4, seed=0), Scale(4), sn.Dense(4, 3, seed=1)])
    with pytest.raises(export.ExportError, match=r"register\(Scale, torch=rule\)"):
        export.to_torch(model)


def test_register_gives_a_custom_layer_its_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    monkeypatch.setattr(_export, "_RULES", {})
    model = sn.Model([sn.Dense(2, 4, seed=0), Scale(4), sn.Dense(4, 3, seed=1)])
    model.layers[1].scale[...] = [[1.0, -2.0, 0.5, 3.0]]  # type: ignore[attr-defined]

    def scale(layer: Any, graph: export.OnnxGraph, inputs: str) -> str:
        return graph.add("Mul", [inputs, graph.constant("scale", layer.scale)])

    export.register(Scale, onnx=scale)
    path = export.to_onnx(model, tmp_path / "scale.onnx")
    X = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    (output,) = onnxruntime.InferenceSession(str(path)).run(None, {"input": X})
    assert np.abs(output - model.predict(X)).max() <= TOLERANCE
    with pytest.raises(TypeError, match="not a shapenn Layer class"):
        export.register(int, onnx=scale)  # type: ignore[arg-type]


def test_the_shell_exports_a_saved_model(tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    model, X = _trained("cnn")
    sn.save(model, tmp_path / "cnn.npz")
    from shapenn.cli import main

    assert main(["export", str(tmp_path / "cnn.npz"), str(tmp_path / "cnn.onnx")]) == 0
    (output,) = onnxruntime.InferenceSession(str(tmp_path / "cnn.onnx")).run(None, {"input": X})
    assert np.abs(output - model.predict(X)).max() <= TOLERANCE
    assert main(["export", str(tmp_path / "cnn.npz")]) == 1
