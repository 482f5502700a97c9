"""A bounded fuzz of the file format and of public calls: only shapenn's documented errors come
out, and any model that loads predicts exactly like the one saved.

Raise SHAPENN_FUZZ_EXAMPLES for a longer campaign (the default keeps the suite fast).
"""

import hashlib
import io
import json
import os
import pickle
import traceback
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shapenn as sn

EXAMPLES = int(os.environ.get("SHAPENN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PACKAGE = Path(sn.__file__).parent
DOCUMENTED = (sn.ShapeError, sn.LabelError, sn.ModelFileError, sn.DivergenceError)


def raised_by_shapenn(err: BaseException) -> bool:
    """A documented error class, or an error raised by a `raise` in shapenn's own code (a
    hyperparameter or data check) — not one NumPy or Python raised inside shapenn."""
    if isinstance(err, DOCUMENTED):
        return True
    frames = traceback.extract_tb(err.__traceback__)
    if not frames or not Path(frames[-1].filename).is_relative_to(PACKAGE):
        return False
    return (frames[-1].line or "").lstrip().startswith("raise ")  # a NumPy error has no raise


def model() -> sn.Model:
    return sn.Model(
        [
            sn.Dense(2, 6, seed=0),
            sn.ReLU(),
            sn.Dropout(0.1, seed=1),
            sn.Dense(6, 3, seed=2),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.05),
        metric=sn.CategoricalAccuracy(),
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Any, Any]:
    """A trained model's file, and the inputs and outputs it must reproduce."""
    X, y = sn.datasets.spiral(20, 3, seed=0)
    trained = model()
    trained.fit(X, y, epochs=3, verbose=0)
    path = sn.save(trained, tmp_path_factory.mktemp("fuzz") / "m.npz")
    return path.read_bytes(), X, trained.predict(X)


def _load_bytes(data: bytes, folder: Path) -> sn.Model | BaseException:
    path = folder / "attacked.npz"
    path.write_bytes(data)
    try:
        return sn.load(path, max_bytes=1 << 26)
    except BaseException as err:
        return err


def _judge(outcome: sn.Model | BaseException, X: Any, expected: Any) -> None:
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, sn.ModelFileError), repr(outcome)
    else:  # whatever loads must be the model that was saved
        np.testing.assert_array_equal(outcome.predict(X), expected)


@FUZZ
@given(st.data())
def test_truncated_files_are_refused(
    saved: tuple[bytes, Any, Any], tmp_path: Path, data: st.DataObject
) -> None:
    raw, _, _ = saved
    cut = data.draw(st.integers(0, len(raw) - 1))
    outcome = _load_bytes(raw[:cut], tmp_path)
    assert isinstance(outcome, sn.ModelFileError), repr(outcome)


@FUZZ
@given(st.data())
def test_flipped_bytes_are_refused_or_harmless(
    saved: tuple[bytes, Any, Any], tmp_path: Path, data: st.DataObject
) -> None:
    raw, X, expected = saved
    attacked = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        attacked[at] ^= data.draw(st.integers(1, 255))
    _judge(_load_bytes(bytes(attacked), tmp_path), X, expected)


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are part of the attack
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def _npy(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def _header(raw: bytes) -> dict[str, Any]:
    members = _members(raw)
    text = np.lib.format.read_array(io.BytesIO(members["__shapenn__.npy"])).tobytes()
    header: dict[str, Any] = json.loads(text)
    return header


def _signed(raw: bytes, header: Any) -> bytes:
    """The file with ``header`` as its record, its checksum recomputed (as an attacker can)."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    digest = hashlib.sha256(text).hexdigest().encode()
    members = _members(raw)
    members["__shapenn__.npy"] = _npy(np.frombuffer(text, np.uint8))
    members["__shapenn_sha256__.npy"] = _npy(np.frombuffer(digest, np.uint8))
    return _zip(list(members.items()))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@FUZZ
@given(st.data())
def test_edited_records_are_refused_or_harmless(
    saved: tuple[bytes, Any, Any], tmp_path: Path, data: st.DataObject
) -> None:
    raw, X, expected = saved
    header = _header(raw)
    path = data.draw(st.sampled_from(_paths(header)[1:]))
    parent = header
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)
    _judge(_load_bytes(_signed(raw, header), tmp_path), X, expected)


def test_deeply_nested_and_huge_records_are_refused(
    saved: tuple[bytes, Any, Any], tmp_path: Path
) -> None:
    raw, _, _ = saved
    text = json.dumps(_header(raw)).replace(
        '"n_inputs": 2', '"n_inputs": ' + "[" * 100_000 + "]" * 100_000
    )
    assert isinstance(_load_bytes(_signed(raw, text.encode()), tmp_path), sn.ModelFileError)
    header = _header(raw)
    header["layers"][0]["config"]["n_inputs"] = 20000
    header["layers"][0]["config"]["n_neurons"] = 20000
    assert isinstance(_load_bytes(_signed(raw, header), tmp_path), sn.ModelFileError)


ODD_MEMBERS = st.sampled_from(
    [
        ("extra.npy", _npy(np.zeros(3))),
        ("pickled.npy", _npy(np.array([{"a": 1}], dtype=object))),
        ("layers.0.weights.npy", _npy(np.zeros((2, 6), np.float16))),
        ("__shapenn__.npy", b"not an array"),
        ("layers.0.weights.npy", _npy(np.full((2, 6), np.nan, np.float32))),
        (
            "bomb.npy",
            b"\x93NUMPY\x01\x00v\x00"
            + b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }"
            + b" " * 50
            + b"\n",
        ),
    ]
)


@FUZZ
@given(ODD_MEMBERS, st.booleans())
def test_odd_members_are_refused(
    saved: tuple[bytes, Any, Any], tmp_path: Path, member: tuple[str, bytes], replace: bool
) -> None:
    raw, X, expected = saved
    members = list(_members(raw).items())
    if replace:
        members = [(n, c) for n, c in members if n != member[0]]
    members.append(member)
    _judge(_load_bytes(_zip(members), tmp_path), X, expected)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello, world\n",
        _npy(np.zeros(3)),
        pickle.dumps({"weights": [1, 2]}),
        b"PK\x05\x06" + b"\0" * 18,
    ],
    ids=["empty", "text", "npy", "pickle", "empty-zip"],
)
def test_foreign_files_are_described(content: bytes, tmp_path: Path) -> None:
    outcome = _load_bytes(content, tmp_path)
    assert isinstance(outcome, sn.ModelFileError)
    assert "pickled" not in str(outcome) or content.startswith(b"\x80")


# --- public calls ----------------------------------------------------------------------------

DTYPES = st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.bool_, np.complex64])


@st.composite
def odd_arrays(draw: st.DrawFn) -> Any:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    dtype = draw(DTYPES)
    array = draw(
        hnp.arrays(
            dtype,
            shape,
            elements={"allow_nan": True} if dtype in (np.float32, np.float64) else None,
        )
    )
    layout = draw(
        st.sampled_from(["c", "fortran", "strided", "matrix", "masked", "list", "readonly"])
    )
    if layout == "fortran":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim:
        array = np.repeat(array, 2, axis=0)[::2]
    elif layout == "matrix" and array.ndim == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)  # matrix is the attack
            array = np.asmatrix(array)
    elif layout == "masked":
        array = np.ma.masked_array(array)
    elif layout == "list":
        array = array.tolist()
    elif layout == "readonly" and isinstance(array, np.ndarray):
        array.flags.writeable = False
    return array


def _calls() -> dict[str, Any]:
    dense, relu, softmax, dropout = sn.Dense(3, 2), sn.ReLU(), sn.Softmax(), sn.Dropout(0.3)
    fitted = model()
    conv, pool, average, flatten = (
        sn.Conv2D(1, 2, 2),
        sn.MaxPool2D(2),
        sn.AvgPool2D(2),
        sn.Flatten(),
    )
    images = sn.Model(
        [sn.Conv2D(1, 2, 2, seed=0), sn.ReLU(), sn.MaxPool2D(2), sn.Flatten(), sn.Dense(8, 3)],
        loss=sn.MeanSquaredError(),
        optimizer=sn.SGD(),
        input_shape=(1, 5, 5),
    )
    return {
        "Conv2D.forward": lambda a, b: conv.forward(a),
        "MaxPool2D.forward": lambda a, b: pool.forward(a),
        "AvgPool2D.forward": lambda a, b: average.forward(a),
        "Flatten.forward": lambda a, b: flatten.forward(a),
        "conv Model.predict": lambda a, b: images.predict(a),
        "conv Model.fit": lambda a, b: images.fit(a, b, epochs=1, verbose=0),
        "Dense.forward": lambda a, b: dense.forward(a),
        "ReLU.forward": lambda a, b: relu.forward(a),
        "Softmax.forward": lambda a, b: softmax.forward(a),
        "Dropout.forward": lambda a, b: dropout.forward(a),
        "CategoricalCrossentropy.calculate": lambda a, b: sn.CategoricalCrossentropy().calculate(
            a, b
        ),
        "MeanSquaredError.backward": lambda a, b: sn.MeanSquaredError().backward(a, b),
        "CategoricalAccuracy.calculate": lambda a, b: sn.CategoricalAccuracy().calculate(a, b),
        "Model.predict": lambda a, b: fitted.predict(a),
        "Model.fit": lambda a, b: fitted.fit(a, b, epochs=1, verbose=0),
        "Model.evaluate": lambda a, b: fitted.evaluate(a, b),
        "gradcheck": lambda a, b: sn.gradcheck(sn.Dense(3, 2), a),
    }


CALLS = _calls()


@FUZZ
@given(st.sampled_from(sorted(CALLS)), odd_arrays(), odd_arrays())
def test_public_calls_raise_only_documented_errors(name: str, a: Any, b: Any) -> None:
    with np.errstate(all="ignore"):
        try:
            CALLS[name](a, b)
        except (ValueError, TypeError, ArithmeticError, AttributeError, IndexError) as err:
            assert raised_by_shapenn(err), f"{name}: {type(err).__name__}: {err}"


def test_a_zip_bomb_is_refused_before_it_is_inflated(
    saved: tuple[bytes, Any, Any], tmp_path: Path
) -> None:
    raw, _, _ = saved
    members = _members(raw)
    members["layers.0.weights.npy"] = _npy(np.zeros((4096, 4096), np.float32))  # 64 MiB
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    outcome = _load_bytes(buffer.getvalue(), tmp_path)
    assert isinstance(outcome, sn.ModelFileError)
    assert "fold when decompressed: refused as a likely zip bomb" in str(outcome)
