"""The package as a user meets it: importing, printing, typing marker."""

import subprocess
import sys
from pathlib import Path

import shapenn as sn


def test_importing_shapenn_leaves_numpy_global_state_alone() -> None:
    code = """
import numpy as np
np.random.seed(123)
before = np.random.get_state()[1].copy()
dot, randn, zeros = np.dot, np.random.randn, np.zeros
import shapenn, shapenn.shapes
after = np.random.get_state()[1]
assert (before == after).all(), "np.random was reseeded"
assert (np.dot, np.random.randn, np.zeros) == (dot, randn, zeros), "nnfs.init() was called"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_every_object_prints_well() -> None:
    assert repr(sn.Dense(2, 64)) == "Dense(2 → 64)"
    assert repr(sn.ReLU()) == "ReLU()"
    assert repr(sn.CategoricalCrossentropy()) == "CategoricalCrossentropy()"


def test_py_typed_ships() -> None:
    assert (Path(sn.__file__).parent / "py.typed").is_file()


def test_public_api_is_explicit() -> None:
    for name in sn.__all__:
        assert hasattr(sn, name), name
