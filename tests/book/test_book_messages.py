"""The words and lengths of shapenn.book's messages for the book reader's mistakes: each run
as a script and under pytest, which must show the reader's line and the message only."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("nnfs")

SETUP = """\
import pickle
import numpy as np
import nnfs
from nnfs.datasets import sine_data, spiral_data
from shapenn.book import *
nnfs.init()
X, y = spiral_data(samples=10, classes=3)
def mnist_model(n_inputs):
    model = Model()
    model.add(Layer_Dense(n_inputs, 128))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(128, 10))
    model.add(Activation_Softmax())
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(),
              accuracy=Accuracy_Categorical())
    model.finalize()
    return model
dense1 = Layer_Dense(2, 64)
dense1.forward(X)
transposed = Layer_Dense(2, 3)
transposed.weights = np.random.randn(3, 2).astype(np.float32)
with open("book.parms", "wb") as f:
    pickle.dump([(np.zeros((2, 3)), np.zeros((1, 3)))], f)
with open("book.model", "wb") as f:
    pickle.dump({"layers": []}, f)
"""
SETUP_LINES = SETUP.count("\n")

#: (name, the reader's line, the message's lines that must be there).
MISTAKES = [
    (
        "chapter 17 data",
        "Layer_Dense(1, 64).forward(sine_data()[0])",
        [
            "shapenn.ShapeError: Layer_Dense(1, 64).forward: `inputs` expected dtype float32, "
            "got (1000, 1) float64",
            "  hint: cast with `inputs.astype(np.float32)`; to run Chapter 17 as the book prints "
            "it (float64 sine_data()), `from shapenn.book.chapter17 import *`",
        ],
    ),
    (
        "next layer",
        "Layer_Dense(32, 3).forward(dense1.output)",
        [
            "shapenn.ShapeError: Layer_Dense(32, 3).forward: `inputs` expected floating-point "
            "(batch, in=32), got (30, 64) float32: `in` is 64 here but 32 in `self.weights`.",
            "  hint: make it Layer_Dense(64, 3)",
        ],
    ),
    (
        "transposed",
        "transposed.forward(X)",
        [
            "shapenn.ShapeError: Layer_Dense(2, 3).forward: `self.weights` expected (in=2, "
            "out=3), got (3, 2): the weights are transposed: the book's are (n_inputs, "
            "n_neurons).",
            "  hint: set `weights.T` (or draw them as np.random.randn(n_inputs, n_neurons))",
        ],
    ),
    (
        "train width",
        "mnist_model(2).train(np.zeros((5, 784), np.float32), np.zeros(5, np.int64))",
        ["  hint: make layers[0] Layer_Dense(784, 128)"],
    ),
    (
        "one image",
        "mnist_model(784).predict(np.zeros((28, 28), np.float32))",
        ["  hint: it looks like one 28×28 image: flatten it: `image.reshape(1, -1)`"],
    ),
    (
        "parms pickle",
        "mnist_model(2).load_parameters('book.parms')",
        ["shapenn never unpickles", "model.set_parameters(pickle.load(open(path, 'rb')))"],
    ),
    (
        "model pickle",
        "Model.load('book.model')",
        [
            "shapenn.ModelFileError: Model.load: 'book.model' is the book's Model.save format",
            "model.set_parameters(book_model.get_parameters())",
        ],
    ),
]


def _run(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "script.py").write_text(code)
    return subprocess.run(
        [sys.executable, "script.py"], cwd=folder, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("name", "line", "words"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_script_shows_the_readers_line_and_the_message(
    name: str, line: str, words: list[str], tmp_path: Path
) -> None:
    result = _run(SETUP + line + "\n", tmp_path)
    assert result.returncode == 1, result.stderr
    stderr = result.stderr.splitlines()
    frames = [text for text in stderr if text.startswith("  File ")]
    assert frames == [f'  File "{tmp_path / "script.py"}", line {SETUP_LINES + 1}, in <module>']
    assert "shapenn/" not in result.stderr
    assert len(stderr) <= 6, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_a_book_pickled_model_is_refused_by_name(tmp_path: Path) -> None:
    """The book's Model pickled in the reader's script, unpickled where ``Model`` is
    shapenn.book's (its script now imports it): the error says what the file is."""
    (tmp_path / "old.py").write_text(
        "import pickle\nclass Model:\n    pass\nm = Model()\nm.layers = []\n"
        "pickle.dump(m, open('saved.model', 'wb'))\n"
    )
    subprocess.run([sys.executable, "old.py"], cwd=tmp_path, check=True)
    result = _run(
        "import pickle\nfrom shapenn.book import *\n"
        "model = pickle.load(open('saved.model', 'rb'))\n",
        tmp_path,
    )
    assert "shapenn.ModelFileError: Model: this pickle holds the book's own Model" in (
        result.stderr
    )
    assert "model.set_parameters(book_model.get_parameters())" in result.stderr
    assert "AttributeError" not in result.stderr and "shapenn/" not in result.stderr
    assert len(result.stderr.splitlines()) <= 5, result.stderr


def test_pytest_shows_the_readers_lines_and_the_message(tmp_path: Path) -> None:
    imports = "".join(line for line in SETUP.splitlines(True) if "import" in line)
    body = "".join(line for line in SETUP.splitlines(True) if "import" not in line)
    tests = imports + "".join(
        f"def test_{index}(tmp_path, monkeypatch):\n    monkeypatch.chdir(tmp_path)\n"
        + textwrap.indent(body + line, "    ")
        + "\n"
        for index, (_, line, _) in enumerate(MISTAKES)
    )
    (tmp_path / "test_reader.py").write_text(tests)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_reader.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert f"{len(MISTAKES)} failed" in result.stdout, result.stdout
    assert "shapenn/" not in result.stdout.split("short test summary")[0], result.stdout
    for _, _, words in MISTAKES:
        assert words[-1].strip() in result.stdout


def test_the_dropout_difference_is_said_once_on_stderr(tmp_path: Path) -> None:
    result = _run(
        SETUP
        + "dropout = Layer_Dropout(0.1)\n"
        + "for _ in range(3):\n    dropout.forward(dense1.output)\nprint('figures')\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "figures\n"
    assert result.stderr.splitlines() == [
        "shapenn.book: Layer_Dropout keeps its mask float32 (the book's float64 mask makes the "
        "layers after it float64), so the figures printed differ from the book's; for the "
        "book's numbers: `from shapenn.book.chapter15 import *` (Chapter 15) or `chapter18` "
        "(Chapter 18)"
    ]


@pytest.mark.parametrize("chapter", ["chapter15", "chapter18"])
def test_the_chapter_modules_say_nothing(chapter: str, tmp_path: Path) -> None:
    result = _run(
        SETUP.replace("from shapenn.book import *", f"from shapenn.book.{chapter} import *")
        + "Layer_Dropout(0.1).forward(dense1.output)\n",
        tmp_path,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
