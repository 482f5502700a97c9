"""Plots of training: a History's loss and accuracy curves, a 2-D model's decision boundary, a
classifier's confusion matrix.

matplotlib is optional (``pip install 'shapenn[plots]'``) and imported only when a function here
is called. The figures are drawn on a bare ``matplotlib.figure.Figure``, never through
``pyplot``: nothing touches matplotlib's global state or backend, nothing opens a window, and a
figure is freed like any other object once it is no longer referenced.

Every function returns the figure and, given a ``path``, also writes it as a PNG atomically: to
a temporary file in the same folder, flushed, fsynced and renamed over the target, so an
interrupted save never leaves a half-written image behind.

Example::

    from shapenn.plots import plot_confusion_matrix, plot_decision_boundary, plot_history

    history = model.fit(X, y, epochs=100, validation_data=(X_val, y_val))
    plot_history(history, "history.png")
    plot_decision_boundary(model, X, y, "boundary.png")

    confusion = sn.ConfusionMatrix()
    confusion.update(model.predict(X_val), y_val)
    plot_confusion_matrix(confusion, "confusion.png")
"""

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ._files import write_atomically
from .shapes import ArgumentError, MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@runtime_checkable
class History(Protocol):
    """What a plot reads of ``Model.fit``'s History (so this module needs no model)."""

    loss: list[float]
    val_loss: list[float]
    accuracy: list[float]
    val_accuracy: list[float]
    metric: str
    regression: bool


@runtime_checkable
class Model(Protocol):
    """What a decision-boundary plot needs of a model: its predictions."""

    def predict(self, X: Any) -> Any: ...


@runtime_checkable
class Counts(Protocol):
    """What a confusion-matrix plot reads of a metric (``shapenn.ConfusionMatrix``): its
    counts, rows the true class and columns the predicted one."""

    def matrix(self) -> npt.NDArray[Any]: ...


__all__ = [
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "require_matplotlib",
]

MARGIN = 0.05  # of the data's range, added on each side of a decision-boundary plot
DPI = 100


def require_matplotlib() -> None:
    """Raise a clear ImportError now if matplotlib is missing (before long work)."""
    _figure(width=1.0, height=1.0)


def _figure(*, width: float, height: float) -> "Figure":
    """A new bare Figure, ``width`` x ``height`` inches; a clear ImportError without matplotlib."""
    try:
        # The package first: with `matplotlib.figure` cached but `matplotlib` gone (None in
        # sys.modules), the submodule import alone would still succeed.
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "plots need matplotlib: pip install 'shapenn[plots]'"
        ) from None
    _show_in_notebooks(Figure)
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _show_in_notebooks(figure_type: type) -> None:
    """In IPython or Jupyter, display a returned Figure as its picture.

    A Figure made without pyplot has no display of its own until a matplotlib backend is
    set up in the notebook; this registers the PNG rendering IPython's inline support uses,
    for Figures only. Outside IPython it does nothing.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    # By name: IPython's helper is untyped, and IPython is not a dependency of shapenn.
    print_figure = importlib.import_module("IPython.core.pylabtools").print_figure
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(figure_type, lambda figure: print_figure(figure, "png"))


def _save_png(figure: "Figure", path: str | os.PathLike[str]) -> None:
    """Write ``figure`` to ``path`` as a PNG atomically: temp file, fsync, rename."""
    write_atomically(path, lambda handle: figure.savefig(handle, format="png", dpi=DPI))


def _curves(
    axes: "Axes", train: list[float], validation: list[float], title: str, ylabel: str
) -> None:
    from matplotlib.ticker import MaxNLocator

    for values, label in ((train, "train"), (validation, "validation")):
        if values:
            array = np.asarray(values, dtype=np.float64)
            finite = np.concatenate(([False], np.isfinite(array), [False]))
            # A point with no drawable neighbour (a single epoch, or one between non-finite
            # values) joins no line segment: only a marker shows it.
            alone = finite[1:-1] & ~finite[:-2] & ~finite[2:]
            marker = "o" if alone.any() else None
            markevery = alone.tolist() if alone.any() else None
            epochs = np.arange(1, len(values) + 1)
            axes.plot(epochs, array, label=label, marker=marker, markevery=markevery)
    axes.set_title(title)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    if max(len(train), len(validation)) == 1:
        axes.set_xticks([1])  # MaxNLocator would fill a one-epoch axis with fractions
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    axes.legend()
    axes.grid(alpha=0.3)


def _loss_axis(values: list[float], log_loss: bool) -> tuple[str, str, str]:
    """The loss axes' scale, y label and title: a log scale when ``log_loss`` and every value
    can be drawn on one, linear otherwise; the title counts the values no axis can draw."""
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    missing = int(np.count_nonzero(~finite))
    title = f"loss ({missing} non-finite value{'' if missing == 1 else 's'} not drawn)"
    title = title if missing else "loss"
    if not log_loss:
        return "linear", "loss", title
    if not missing and np.all(array > 0):
        return "log", "loss (log scale)", title
    # A log axis would silently mask these points; a linear one draws all it can, and the
    # label says why the scale is not the usual one.
    why = "values ≤ 0" if np.any(array[finite] <= 0) else "values not finite"
    return "linear", f"loss (linear scale: {why})", title


def _plain_log_ticks(axes: "Axes") -> None:
    """Label the log y axis's ticks as plain numbers (0.7, 0.01, 100) instead of 7×10⁻¹."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        # LogFormatter chooses which ticks get a label (all the decades, and some minor ticks
        # when the axis spans few decades); only the wording of those labels changes.
        def __call__(self, x: float, pos: int | None = None) -> str:
            return f"{x:g}" if super().__call__(x, pos) else ""

    axes.yaxis.set_major_formatter(Plain())
    axes.yaxis.set_minor_formatter(Plain())


def _suptitle(history: History, accuracy_shown: bool) -> str:
    """What the figure shows: the epochs, the metric, and whether its figures were left out."""
    epochs = len(history.loss)
    title = f"training history: {epochs} epoch{'' if epochs == 1 else 's'}"
    metric = history.metric.removesuffix("()")
    if metric:
        title = f"{title}, metric {metric}"
    if accuracy_shown or not (history.accuracy or history.val_accuracy):
        return title
    reason = ": a regression tolerance" if history.regression else ""
    return f"{title}\naccuracy not plotted{reason}"


def plot_history(
    history: History,
    path: str | os.PathLike[str] | None = None,
    *,
    log_loss: bool = True,
    accuracy: bool | None = None,
) -> "Figure":
    """Training curves from ``Model.fit``: the loss, and beside it the accuracy when it helps.

    Each panel shows the training figures and, when ``fit`` had ``validation_data``, the
    validation figures, against the epoch (counted from 1); a point that joins no line (a
    single epoch, or one between non-finite values) gets a marker. The figure's title gives
    the number of epochs and the metric, and says when the metric's figures were left out.

    The loss is drawn on a log scale, so that one spike does not flatten the rest of the curve.
    If any loss is zero, negative or not finite (which a log axis cannot show), the axis falls
    back to a linear scale and its label says so; non-finite values, which no axis can show,
    are counted in the loss panel's title.

    The accuracy panel is shown by default when there are accuracy figures and the metric
    classifies. A regression's accuracy (``RegressionAccuracy``, the fraction of predictions
    within a small tolerance) is left out by default: it swings between 0 and about 0.5 while
    the loss is already tiny, which misleads more than it tells.

    Args:
        history: what ``Model.fit`` returned.
        path: if given, the figure is also written there as a PNG (atomically).
        log_loss: draw the loss on a log scale (default); False for a linear one.
        accuracy: None (default) shows the accuracy panel for a classification metric with
            figures, and hides it for a regression; True always shows it; False never does.

    Returns:
        The figure, at 100 dpi: with an accuracy panel 1000 x 400 px and two axes (loss,
        accuracy); without one 600 x 400 px and a single loss axes.

    Raises:
        ValueError: the history has no epochs, or ``accuracy=True`` but it has no accuracy
            figures (it was trained without a metric).
        TypeError: ``accuracy`` is not True, False or None.
        ImportError: matplotlib is not installed.
    """
    if not history.loss:
        raise ArgumentError("the history has no epochs to plot: pass the History that fit returned")
    if accuracy is not None and not isinstance(accuracy, bool):
        raise ArgumentError(f"accuracy must be True, False or None, got {accuracy!r}")
    has_accuracy = bool(history.accuracy or history.val_accuracy)
    if accuracy and not has_accuracy:
        raise ArgumentError(
            "accuracy=True, but the history has no accuracy figures: "
            "the model was trained without a metric"
        )
    show_accuracy = has_accuracy and not history.regression if accuracy is None else accuracy

    figure = _figure(width=10.0 if show_accuracy else 6.0, height=4.0)
    loss_axes = figure.add_subplot(1, 2 if show_accuracy else 1, 1)
    scale, ylabel, title = _loss_axis(history.loss + history.val_loss, log_loss)
    _curves(loss_axes, history.loss, history.val_loss, title, ylabel)
    loss_axes.set_yscale(scale)
    if scale == "log":
        _plain_log_ticks(loss_axes)
    if show_accuracy:
        accuracy_axes = figure.add_subplot(1, 2, 2)
        title = "accuracy: within a tolerance" if history.regression else "accuracy"
        _curves(accuracy_axes, history.accuracy, history.val_accuracy, title, "accuracy")
        accuracy_axes.set_ylim(0.0, 1.02)
    figure.suptitle(_suptitle(history, show_accuracy))
    if path is not None:
        _save_png(figure, path)
    return figure


def _classes(outputs: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """The predicted class of each row: argmax of several columns, ``> 0.5`` of a single one."""
    classes: npt.NDArray[np.intp]
    if outputs.shape[1] == 1:
        classes = (outputs[:, 0] > 0.5).astype(np.intp)
    else:
        classes = np.argmax(outputs, axis=1).astype(np.intp)
    return classes


def _labels(y: npt.ArrayLike, samples: int) -> npt.NDArray[np.intp]:
    """Class labels from integer labels (samples,), a column (samples, 1) or one-hot rows."""
    array = np.asarray(y)
    if array.ndim == 0 or array.shape[0] != samples or array.ndim > 2:
        raise ArgumentError(
            f"y must hold one label per sample, (samples={samples},), (samples, 1) or one-hot "
            f"(samples, classes); got shape {array.shape}"
        )
    if array.ndim == 2 and array.shape[1] > 1:
        onehot: npt.NDArray[np.intp] = np.argmax(array, axis=1).astype(np.intp)
        return onehot
    labels = array.reshape(samples)
    if labels.dtype.kind not in "biuf" or not np.all(np.isfinite(labels)):
        raise ArgumentError(f"y must hold class labels 0, 1, 2, ...; got dtype {labels.dtype}")
    whole = np.rint(labels)
    if np.any(whole != labels) or np.any(whole < 0):
        raise ArgumentError(
            "y must hold class labels 0, 1, 2, ...; got fractional or negative values"
        )
    result: npt.NDArray[np.intp] = whole.astype(np.intp)
    return result


def _colors(count: int) -> npt.NDArray[np.float64]:
    """``count`` distinct RGBA colors, one per class."""
    from matplotlib import colormaps

    if count <= 10:
        rgba: npt.NDArray[np.float64] = colormaps["tab10"](np.arange(count))
    elif count <= 20:
        rgba = colormaps["tab20"](np.arange(count))
    else:
        rgba = colormaps["viridis"](np.linspace(0.0, 1.0, count))
    return rgba


def _grid_axis(values: npt.NDArray[np.float64], resolution: int) -> npt.NDArray[np.float64]:
    low, high = float(values.min()), float(values.max())
    margin = MARGIN * (high - low) if high > low else 0.5  # a single value still gets a band
    return np.linspace(low - margin, high + margin, resolution)


def plot_decision_boundary(
    model: Model,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    path: str | os.PathLike[str] | None = None,
    *,
    resolution: int = 200,
) -> "Figure":
    """The classes a 2-feature model predicts over the plane, with the data points on top.

    The plane spans the data's range plus a 5% margin on each side, sampled on a
    ``resolution`` x ``resolution`` grid that ``model.predict`` classifies in batches. A model
    with several outputs predicts the argmax; one with a single output (a sigmoid) predicts
    class 1 where its output is above 0.5. The filled regions show the predicted class, the
    points are colored by their true class, and the title gives the model's accuracy on (X, y).

    Args:
        model: a model whose inputs have 2 features.
        X: the points to draw.
        y: their classes: integer labels, a 0/1 column, or one-hot rows.
        path: if given, the figure is also written there as a PNG (atomically).
        resolution: grid points along each axis (at least 2).

    Shape:
        X: (samples, 2); y: (samples,), (samples, 1) or (samples, classes).

    Returns:
        The figure (600 x 500 px at its 100 dpi), with one axes.

    Raises:
        ValueError: X does not have 2 features, y does not match X, or resolution < 2.
        ShapeError: the model's inputs do not have 2 features (from ``model.predict``).
        ImportError: matplotlib is not installed.
    """
    points = np.asarray(X)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ArgumentError(
            f"X has shape {points.shape}, but decision boundaries need 2 features: "
            f"X must be (samples, 2); plot two features, or a 2-D projection of the data"
        )
    if points.shape[0] == 0:
        raise ArgumentError("X has no samples: there is nothing to plot")
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int | np.integer)
        or resolution < 2
    ):
        raise ArgumentError(f"resolution must be an integer of at least 2, got {resolution!r}")
    labels = _labels(y, points.shape[0])
    figure = _figure(width=6.0, height=5.0)  # before any work: matplotlib may be missing
    predicted = _classes(model.predict(points))  # validates X against the model first
    accuracy = float(np.mean(predicted == labels))

    points = points.astype(np.float64)
    xs, ys = _grid_axis(points[:, 0], resolution), _grid_axis(points[:, 1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    outputs = model.predict(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    regions = _classes(outputs).reshape(grid_x.shape)

    count = max(2, outputs.shape[1], int(labels.max()) + 1)
    colors = _colors(count)
    axes = figure.add_subplot(1, 1, 1)
    # One band per class: class k fills the interval (k - 0.5, k + 0.5).
    levels = np.arange(count + 1) - 0.5
    axes.contourf(grid_x, grid_y, regions, levels=levels, colors=colors, alpha=0.3)
    axes.scatter(points[:, 0], points[:, 1], c=colors[labels], edgecolors="black", linewidths=0.5)
    axes.set_xlim(xs[0], xs[-1])
    axes.set_ylim(ys[0], ys[-1])
    axes.set_xlabel("feature 0")
    axes.set_ylabel("feature 1")
    axes.set_title(f"decision boundary: accuracy {accuracy:.1%} on {points.shape[0]} samples")
    if path is not None:
        _save_png(figure, path)
    return figure


#: Above this many classes the cells are too small for their numbers: only the colors show.
MOST_ANNOTATED = 30


def _confusion_counts(matrix_or_metric: "Counts | npt.ArrayLike") -> npt.NDArray[np.float64]:
    """The square matrix of non-negative counts to draw, from a metric or an array."""
    counts = matrix_or_metric.matrix() if isinstance(matrix_or_metric, Counts) else matrix_or_metric
    try:
        array = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(
            "matrix_or_metric must be a ConfusionMatrix metric or a (classes, classes) array of "
            f"counts, got {type(counts).__name__}"
        ) from None
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ArgumentError(
            "matrix_or_metric must be a square (classes, classes) array of counts, rows the "
            f"true class and columns the predicted one; got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ArgumentError(
            "matrix_or_metric must hold counts: finite numbers >= 0, got "
            f"{array[~np.isfinite(array) | (array < 0)][0]:g}"
        )
    return array


def _class_names(labels: Any, classes: int) -> list[str]:
    """The names of the classes: ``labels`` as strings, or 0, 1, 2, ..."""
    if labels is None:
        return [str(c) for c in range(classes)]
    if isinstance(labels, str) or not hasattr(labels, "__len__"):
        raise ArgumentError(
            f"labels must be a sequence of {classes} class names, got {type(labels).__name__}"
        )
    names = [str(label) for label in labels]
    if len(names) != classes:
        raise ArgumentError(
            f"labels has {len(names)} names, but the matrix has {classes} classes: give one "
            "name per class, in the order of the matrix's rows"
        )
    return names


def plot_confusion_matrix(
    matrix_or_metric: "Counts | npt.ArrayLike",
    path: str | os.PathLike[str] | None = None,
    *,
    labels: Any = None,
    normalize: bool = False,
) -> "Figure":
    """A confusion matrix as a heat map: the true class down the y axis, the predicted class
    along the x axis, each cell's count written in it.

    The diagonal holds the positions predicted right. With ``normalize``, each row is divided
    by its total, so a cell is the fraction of that true class predicted as the column's class
    and the diagonal is each class's recall (a row with no samples stays 0); the colors then
    compare classes of different sizes fairly. The title gives the number of samples and the
    accuracy (the trace over the total). With more than 30 classes the cells are too small for
    their numbers, and only the colors show them.

    Args:
        matrix_or_metric: a ``shapenn.ConfusionMatrix`` that has been updated, or a
            (classes, classes) array of counts, rows the true class (as scikit-learn's
            ``confusion_matrix``).
        path: if given, the figure is also written there as a PNG (atomically).
        labels: the classes' names, one per row, in order; 0, 1, 2, ... by default.
        normalize: write and color each row's fractions instead of the counts.

    Shape:
        matrix_or_metric: (classes, classes).

    Returns:
        The figure, with the matrix's axes and a color bar; at 100 dpi 600 x 500 px for up to
        7 classes, larger for more (at most 1500 x 1400 px).

    Raises:
        ValueError: the matrix is not square, holds negative or non-finite values, or
            ``labels`` does not name each class once.
        TypeError: ``normalize`` is not True or False.
        NotReadyError: the metric was given no batch since its ``reset``.
        ImportError: matplotlib is not installed.
    """
    if not isinstance(normalize, bool):
        raise ArgumentError(f"normalize must be True or False, got {normalize!r}")
    counts = _confusion_counts(matrix_or_metric)
    classes = counts.shape[0]
    names = _class_names(labels, classes)
    total = float(counts.sum())
    rows = counts.sum(axis=1, keepdims=True)
    shown = (
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize else counts
    )

    side = min(max(5.0, 2.0 + 0.4 * classes), 14.0)
    figure = _figure(width=side + 1.0, height=side)
    axes = figure.add_subplot(1, 1, 1)
    high = 1.0 if normalize else max(float(shown.max()), 1.0)
    image = axes.imshow(shown, cmap="Blues", vmin=0.0, vmax=high, interpolation="nearest")
    figure.colorbar(image, ax=axes, label="fraction of the true class" if normalize else "count")

    if classes <= MOST_ANNOTATED:
        whole = not normalize and np.all(counts == np.round(counts))
        size = min(12.0, max(6.0, 140.0 / classes))
        for (row, column), value in np.ndenumerate(shown):
            text = f"{value:.2f}" if normalize else (f"{int(value)}" if whole else f"{value:g}")
            dark = value > high / 2
            axes.text(
                column,
                row,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "black",
            )
    if classes <= MOST_ANNOTATED or labels is not None:
        ticks = np.arange(classes)
        long = max(len(name) for name in names) > 3
        axes.set_xticks(ticks, names, rotation=45 if long else 0, ha="right" if long else "center")
        axes.set_yticks(ticks, names)
    else:
        from matplotlib.ticker import MaxNLocator

        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))  # classes are whole numbers
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    samples = int(total) if float(total).is_integer() else total
    accuracy = float(np.trace(counts)) / total if total > 0 else 0.0
    title = f"confusion matrix: {samples} samples, accuracy {accuracy:.1%}"
    axes.set_title(f"{title}\n(each row normalized by its true class)" if normalize else title)
    if path is not None:
        _save_png(figure, path)
    return figure
