"""LSTM and GRU: what they compute (against PyTorch's equations written out, and against
PyTorch itself where installed), their gradients (against PyTorch's autograd and finite
differences), learning in a model, their state saved and loaded, their export, and their
errors."""

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapenn as sn
from shapenn import export
from shapenn.layers._recurrent import GRU, LSTM, _Recurrent

F32 = np.float32
BATCH, STEPS, FEATURES, HIDDEN = 3, 5, 4, 6  # distinct: a swapped axis cannot pass unseen
TOLERANCE = 1e-5
LAYERS = [LSTM, GRU]
SETTINGS = [
    pytest.param(cls, every, id=f"{cls.__name__}-{'sequences' if every else 'last'}")
    for cls in LAYERS
    for every in (False, True)
]
Recurrent = type[_Recurrent]


def _inputs(seed: int = 0, dtype: Any = F32) -> Any:
    return np.random.default_rng(seed).normal(size=(BATCH, STEPS, FEATURES)).astype(dtype)


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def _reference(layer: _Recurrent, x: Any) -> Any:
    """Every step's hidden state, by PyTorch's documented equations, one sample and one step
    at a time, from PyTorch's layout of the weights: (gates · hidden, in)."""
    w_ih, w_hh = layer.weights_ih.T.astype(np.float64), layer.weights_hh.T.astype(np.float64)
    b_ih, b_hh = layer.biases_ih.astype(np.float64), layer.biases_hh.astype(np.float64)
    size = layer.hidden_size
    out = np.zeros((x.shape[0], x.shape[1], size))
    for sample in range(x.shape[0]):
        h, c = np.zeros(size), np.zeros(size)
        for step in range(x.shape[1]):
            a = w_ih @ x[sample, step] + b_ih
            b = w_hh @ h + b_hh
            if isinstance(layer, LSTM):
                i, f, g, o = np.split(a + b, 4)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
            else:
                (a_r, a_z, a_n), (b_r, b_z, b_n) = np.split(a, 3), np.split(b, 3)
                r, z = _sigmoid(a_r + b_r), _sigmoid(a_z + b_z)
                n = np.tanh(a_n + r * b_n)
                h = (1 - z) * n + z * h
            out[sample, step] = h
    return out


# --- what they compute ------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_forward_follows_pytorchs_equations(cls: Recurrent, every: bool) -> None:
    layer = cls(FEATURES, HIDDEN, every, seed=1)
    x = _inputs()
    output = layer.forward(x)
    expected = _reference(layer, x)
    assert output.dtype == F32
    if every:
        assert output.shape == (BATCH, STEPS, HIDDEN)
        np.testing.assert_allclose(output, expected, rtol=TOLERANCE, atol=1e-6)
    else:
        assert output.shape == (BATCH, HIDDEN)
        np.testing.assert_allclose(output, expected[:, -1], rtol=TOLERANCE, atol=1e-6)


@pytest.mark.parametrize("cls", LAYERS)
def test_initialization_is_pytorchs_uniform_and_seeded(cls: Recurrent) -> None:
    layer = cls(FEATURES, HIDDEN, seed=3)
    gates = 4 if cls is LSTM else 3
    bound = 1 / np.sqrt(HIDDEN)
    shapes = {
        "weights_ih": (FEATURES, gates * HIDDEN),
        "weights_hh": (HIDDEN, gates * HIDDEN),
        "biases_ih": (gates * HIDDEN,),
        "biases_hh": (gates * HIDDEN,),
    }
    for parameter in layer.parameters():
        value = parameter.value
        assert value.shape == shapes[parameter.name] and value.dtype == F32
        assert np.abs(value).max() <= bound and np.abs(value).max() > 0.5 * bound
        assert parameter.grad.shape == value.shape and not parameter.grad.any()
    again = cls(FEATURES, HIDDEN, seed=3)
    for ours, theirs in zip(layer.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(ours.value, theirs.value)
    assert (
        layer.parameters()[0].value.tobytes() != cls(FEATURES, HIDDEN, seed=4).weights_hh.tobytes()
    )


@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_float32_stays_float32_and_float64_stays_float64(cls: Recurrent, every: bool) -> None:
    for dtype in (np.float32, np.float64):
        layer = cls(FEATURES, HIDDEN, every, dtype=dtype, seed=0)
        output = layer.forward(_inputs(dtype=dtype))
        dinputs = layer.backward(np.ones_like(output))
        assert output.dtype == dinputs.dtype == dtype
        assert all(p.grad.dtype == dtype for p in layer.parameters())
        assert all(cache.dtype == dtype for cache in (layer.hidden_states, layer.gates))


def test_one_step_and_one_sample_are_sequences_too() -> None:
    for cls in LAYERS:
        layer = cls(FEATURES, HIDDEN, True, seed=0)
        for shape in ((1, 1, FEATURES), (BATCH, 1, FEATURES), (1, STEPS, FEATURES)):
            x = np.random.default_rng(0).normal(size=shape).astype(F32)
            np.testing.assert_allclose(layer.forward(x), _reference(layer, x), rtol=1e-5, atol=1e-6)
            assert layer.backward(np.ones_like(layer.output)).shape == shape


# --- gradients --------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_forward_and_gradients_match_torch(cls: Recurrent, every: bool) -> None:
    torch = pytest.importorskip("torch")
    layer = cls(FEATURES, HIDDEN, every, seed=2)
    x = _inputs(1)
    net = export.to_torch(sn.Model([layer]))
    rnn = net[0].rnn
    assert isinstance(rnn, torch.nn.LSTM if cls is LSTM else torch.nn.GRU) and rnn.batch_first
    inputs = torch.from_numpy(x).requires_grad_(True)
    output = net(inputs)
    output.sum().backward()
    ours = layer.forward(x)
    np.testing.assert_allclose(output.detach().numpy(), ours, rtol=TOLERANCE, atol=1e-6)
    dinputs = layer.backward(np.ones_like(ours))
    np.testing.assert_allclose(dinputs, inputs.grad.numpy(), rtol=TOLERANCE, atol=1e-6)
    theirs = {
        "weights_ih": rnn.weight_ih_l0.grad.numpy().T,  # PyTorch keeps (gates · hidden, in)
        "weights_hh": rnn.weight_hh_l0.grad.numpy().T,
        "biases_ih": rnn.bias_ih_l0.grad.numpy(),
        "biases_hh": rnn.bias_hh_l0.grad.numpy(),
    }
    for parameter in layer.parameters():
        np.testing.assert_allclose(
            parameter.grad,
            theirs[parameter.name],
            rtol=TOLERANCE,
            atol=1e-6,
            err_msg=parameter.name,
        )


@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_gradcheck_passes_for_the_layer(cls: Recurrent, every: bool) -> None:
    result = sn.gradcheck(cls(FEATURES, HIDDEN, every, seed=5), _inputs(2), max_entries=None)
    assert set(result.errors) == {"inputs", "weights_ih", "weights_hh", "biases_ih", "biases_hh"}
    assert result.max_error < 1e-7


@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_gradcheck_passes_inside_a_model(cls: Recurrent, every: bool) -> None:
    rng = np.random.default_rng(3)
    model = sn.Model(
        [cls(FEATURES, HIDDEN, every, seed=0), sn.Dense(HIDDEN, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
    )
    y = rng.integers(0, 3, (BATCH, STEPS) if every else BATCH)
    result = sn.gradcheck(model, _inputs(4), y)
    assert {"layers[0].weights_ih", "layers[0].weights_hh", "layers[0].biases_hh"} <= set(
        result.errors
    )
    assert result.max_error < 1e-6


def test_a_wrong_gradient_would_be_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks above can fail: a gradient off in one gate is caught.
    backward = LSTM.backward

    def broken(self: LSTM, dvalues: Any) -> Any:
        dinputs = backward(self, dvalues)
        self.dweights_hh[:, HIDDEN : 2 * HIDDEN] *= 1.01  # the forget gate's
        return dinputs

    monkeypatch.setattr(LSTM, "backward", broken)  # on the class: gradcheck works on a copy
    with pytest.raises(sn.GradcheckError, match=r"weights_hh\s+\S+\s+\S+\s+FAIL"):
        sn.gradcheck(LSTM(FEATURES, HIDDEN, seed=0), _inputs(dtype=np.float64))


# --- learning ---------------------------------------------------------------------------------


def _sums(samples: int, seed: int) -> tuple[Any, Any]:
    X = np.random.default_rng(seed).normal(size=(samples, 8, 1)).astype(F32)
    return X, np.cumsum(X[..., 0], axis=1) > 0  # is the running sum positive, step by step


@pytest.mark.parametrize("cls", LAYERS)
def test_a_model_learns_whether_a_sequence_sums_above_zero(cls: Recurrent) -> None:
    X, positive = _sums(600, 0)
    model = sn.Model(
        [cls(1, 8, seed=0), sn.Dense(8, 2, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.02),
        metric=sn.CategoricalAccuracy(),
    )
    start = time.perf_counter()
    model.fit(X, positive[:, -1].astype(np.int64), epochs=30, batch_size=32, seed=0, verbose=0)
    assert time.perf_counter() - start < 20  # about a second on one core
    X_test, test = _sums(300, 1)
    assert (model.predict(X_test).argmax(axis=1) == test[:, -1]).mean() > 0.9


@pytest.mark.parametrize("cls", LAYERS)
def test_a_model_of_sequences_learns_labels_for_every_step(cls: Recurrent) -> None:
    X, positive = _sums(600, 0)
    model = sn.Model(
        [cls(1, 8, return_sequences=True, seed=0), sn.Dense(8, 2, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.02),
        metric=sn.CategoricalAccuracy(),
    )
    labels = positive.astype(np.int64)  # (batch, time)
    model.fit(X, labels, epochs=30, batch_size=32, seed=0, verbose=0)
    X_test, test = _sums(300, 1)
    assert model.predict(X_test).shape == (300, 8, 2)
    _, accuracy = model.evaluate(X_test, test.astype(np.int64))
    assert accuracy is not None and accuracy > 0.9


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", LAYERS)
def test_a_2d_input_is_refused_with_a_time_axis_to_add(cls: Recurrent) -> None:
    layer = cls(FEATURES, HIDDEN, seed=0)
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(np.zeros((BATCH, FEATURES), F32))  # pyright: ignore[reportArgumentType]
    error = caught.value
    assert str(error).startswith(
        f"{cls.__name__}(4 → 6).forward: `inputs` expected floating-point (batch, time, "
        "features=4), got (3, 4) float32: it is 2-D but 3-D is needed."
    )
    assert error.hint is not None
    assert "batch-first sequences (batch, time, features=4)" in error.hint
    assert "add a time axis" in error.hint
    assert "`inputs[:, None, :]`" in error.hint and "`inputs.reshape(batch, time, 4)`" in error.hint
    assert "time-major" in error.hint
    # The fix it gives works.
    assert layer.forward(np.zeros((BATCH, FEATURES), F32)[:, None, :]).shape == (BATCH, HIDDEN)


def test_other_inputs_that_are_not_batch_first_sequences_get_their_fix() -> None:
    layer = LSTM(FEATURES, HIDDEN, seed=0)
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(np.zeros((BATCH, 3 * FEATURES), F32))  # pyright: ignore[reportArgumentType]
    assert caught.value.hint is not None and "`inputs.reshape(-1, 3, 4)`" in caught.value.hint
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(np.zeros((BATCH, FEATURES, STEPS), F32))  # features before time
    assert "`features` is 5 here but 4 in `self.weights_ih`" in str(caught.value)
    assert caught.value.hint == (
        "`inputs` looks like (batch, features, time): pass `inputs.transpose(0, 2, 1)`"
    )
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(np.zeros(FEATURES, F32))  # type: ignore[arg-type]
    assert caught.value.hint is not None and "`inputs.reshape(1, -1, 4)`" in caught.value.hint
    with pytest.raises(sn.ShapeError, match="`features` is 3 here but 4"):
        layer.forward(np.zeros((BATCH, STEPS, 3), F32))


def test_a_float64_input_to_a_float32_layer_is_refused_not_upcast() -> None:
    with pytest.raises(sn.ShapeError, match=r"never upcasts silently") as caught:
        GRU(FEATURES, HIDDEN, seed=0).forward(_inputs(dtype=np.float64))
    assert caught.value.hint == "cast with `inputs.astype(np.float32)`"


def test_a_model_says_where_a_sequence_is_needed() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Model([sn.Dense(3, FEATURES), LSTM(FEATURES, HIDDEN)])
    assert "`layers[1] LSTM(4 → 6)` expected (batch, time, features=4), got (batch, 4)" in str(
        caught.value
    )
    assert caught.value.hint is not None and "add a time axis" in caught.value.hint
    with pytest.raises(sn.ShapeError) as caught:
        sn.Model([LSTM(FEATURES, HIDDEN, return_sequences=True), GRU(5, 3)])
    assert caught.value.hint == "make layers[1] GRU(6, 3)"


def test_backward_needs_the_shape_of_the_output() -> None:
    layer = LSTM(FEATURES, HIDDEN, seed=0)
    with pytest.raises(sn.NotReadyError, match="call forward"):
        layer.backward(np.zeros((BATCH, HIDDEN), F32))
    layer.forward(_inputs())
    with pytest.raises(sn.ShapeError, match=r"return_sequences=False"):
        layer.backward(np.zeros((BATCH, STEPS, HIDDEN), F32))
    with pytest.raises(sn.ShapeError, match="`batch` is 5 here but 3"):
        layer.backward(np.zeros((5, HIDDEN), F32))


@pytest.mark.parametrize("cls", LAYERS)
def test_bad_arguments_are_refused_by_name(cls: Recurrent) -> None:
    name = cls.__name__
    cases: list[tuple[tuple[Any, ...], dict[str, Any], str]] = [
        ((0, 3), {}, f"{name}: input_size must be a positive integer, got 0"),
        ((3, 0), {}, f"{name}: hidden_size must be a positive integer, got 0"),
        ((3.0, 3), {}, "input_size must be a positive integer, got 3.0"),
        ((True, 3), {}, "input_size must be a positive integer, got True"),
        ((3, 3, 1), {}, "return_sequences must be a bool"),
        ((3, 3, "yes"), {}, "return_sequences must be a bool"),
        ((3, 3, None), {}, "return_sequences must be a bool"),
        ((3, 3), {"dtype": np.int32}, "dtype must be float32 or float64"),
        ((3, 3), {"seed": -1}, "seed must be an integer >= 0"),
    ]
    for args, kwargs, words in cases:
        with pytest.raises(sn.ArgumentError, match=words.replace("(", r"\(")):
            cls(*args, **kwargs)
    # NumPy's integers and booleans are the numbers and booleans they hold.
    layer = cls(np.int64(3), np.uint8(2), np.bool_(True))  # type: ignore[arg-type]
    assert layer.return_sequences is True and repr(layer) == f"{name}(3 → 2, return_sequences=True)"


# --- summary, saving ----------------------------------------------------------------------------


def test_repr_summary_and_config() -> None:
    assert repr(LSTM(8, 16)) == "LSTM(8 → 16)"
    assert repr(GRU(8, 16, return_sequences=True)) == "GRU(8 → 16, return_sequences=True)"
    model = sn.Model(
        [LSTM(FEATURES, HIDDEN, return_sequences=True, seed=0), sn.Dense(HIDDEN, 2), GRU(2, 3)],
        input_shape=(7, FEATURES),
    )
    lines = model.summary(print_fn=None).splitlines()
    lstm_params = 4 * HIDDEN * (FEATURES + HIDDEN + 2)
    gru_params = 3 * 3 * (2 + 3 + 2)
    assert any(
        line.split()
        == [
            "0",
            "LSTM(4",
            "→",
            "6,",
            "return_sequences=True)",
            "(batch,",
            "7,",
            "6)",
            str(lstm_params),
        ]
        for line in lines
    ), lines
    assert any(
        line.split()[:2] == ["2", "GRU(2"] and line.endswith(str(gru_params)) for line in lines
    )
    assert model.layers[0].get_config() == {
        "input_size": FEATURES,
        "hidden_size": HIDDEN,
        "return_sequences": True,
        "dtype": "float32",
    }


@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_save_and_load_keep_every_bit(cls: Recurrent, every: bool, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        model = sn.Model(
            [cls(FEATURES, HIDDEN, every, seed=0, dtype=dtype), sn.Dense(HIDDEN, 2, dtype=dtype)],
            loss=sn.MeanSquaredError(),
            optimizer=sn.Adam(0.01),
        )
        X = _inputs(dtype=dtype)
        y = rng.normal(size=(BATCH, STEPS, 2) if every else (BATCH, 2))
        model.fit(X, y, epochs=2, verbose=0)  # trained: not the initial draws
        sn.save(model, tmp_path / "model.npz")
        loaded = sn.load(tmp_path / "model.npz")
        layer = loaded.layers[0]
        assert type(layer) is cls and repr(layer) == repr(model.layers[0])
        assert layer.return_sequences is every and layer.dtype == dtype
        for ours, theirs in zip(model.parameters(), loaded.parameters(), strict=True):
            assert ours.path == theirs.path and ours.value.dtype == theirs.value.dtype
            assert ours.value.tobytes() == theirs.value.tobytes()
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# --- export -------------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_to_torch_computes_predict(cls: Recurrent, every: bool) -> None:
    torch = pytest.importorskip("torch")
    model = sn.Model([cls(FEATURES, HIDDEN, every, seed=0), sn.Dense(HIDDEN, 2, seed=1)])
    net = export.to_torch(model)
    for x in (_inputs(0), np.random.default_rng(1).normal(size=(2, 9, FEATURES)).astype(F32)):
        with torch.no_grad():
            output = net(torch.from_numpy(x)).numpy()
        assert output.dtype == F32
        np.testing.assert_allclose(output, model.predict(x), rtol=TOLERANCE, atol=1e-6)


@pytest.mark.parametrize(("cls", "every"), SETTINGS)
def test_onnxruntime_computes_predict(cls: Recurrent, every: bool, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    model = sn.Model([cls(FEATURES, HIDDEN, every, seed=0), sn.Dense(HIDDEN, 2, seed=1)])
    path = export.to_onnx(model, tmp_path / "model.onnx")
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 17
    (node,) = [node for node in proto.graph.node if node.op_type == cls.__name__]
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attributes["hidden_size"] == HIDDEN
    if cls is GRU:
        assert attributes["linear_before_reset"] == 1  # PyTorch's GRU
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    for shape in (
        (BATCH, STEPS, FEATURES),
        (1, 1, FEATURES),
        (2, 11, FEATURES),
    ):  # batch, time open
        x = rng.normal(size=shape).astype(F32)
        (output,) = session.run(None, {"input": x})
        assert output.shape == model.predict(x).shape
        np.testing.assert_allclose(output, model.predict(x), rtol=TOLERANCE, atol=1e-6)


def test_a_model_given_rows_says_to_add_a_time_axis() -> None:
    model = sn.Model(
        [LSTM(4, 6, seed=0), sn.Dense(6, 2, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
    )
    with pytest.raises(sn.ShapeError) as caught:
        model.fit(np.zeros((5, 4), np.float32), np.zeros(5, np.int64), verbose=0)
    words = str(caught.value)
    assert "it is 2-D but 3-D is needed" in words
    assert "hint: LSTM takes batch-first sequences (batch, time, features=4)" in words
    assert "`X[:, None, :]`" in words and len(words.splitlines()) == 3
