"""Training progress: a tqdm bar where someone watches (a terminal or a notebook), about ten
plain lines where output goes to a log, one line per epoch on request."""

import importlib.util
import sys
from typing import Any, TextIO

__all__ = ["Progress"]

#: The figures a progress display shows, in this order.
SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy")


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel, where tqdm draws a widget."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


class Progress:
    """Called after each epoch with the figures; ``close()`` at the end.

    Args:
        epochs: how many epochs the run has.
        mode: "bar" (a tqdm bar in a terminal or notebook, else about ten plain lines),
            "lines" (one plain line per epoch) or "quiet".
        stream: where plain lines and a terminal's bar go.
    """

    def __init__(self, epochs: int, *, mode: str = "bar", stream: TextIO | None = None) -> None:
        self.epochs, self.mode = epochs, mode
        self.stream = stream if stream is not None else sys.stderr
        self.bar: Any = None
        notebook = _in_notebook()
        if mode == "bar" and (notebook or self.stream.isatty()):
            # A widget in a notebook; without ipywidgets, tqdm.auto would warn and fall back
            # to the text bar, so that is chosen directly.
            widget = notebook and importlib.util.find_spec("ipywidgets") is not None
            module = importlib.import_module("tqdm.notebook" if widget else "tqdm")
            self.bar = module.tqdm(total=epochs, unit="epoch", file=self.stream, dynamic_ncols=True)

    def __call__(self, epoch: int, figures: dict[str, float]) -> None:
        shown = {k: f"{figures[k]:.4f}" for k in SHOWN if k in figures}
        if self.bar is not None:
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(1)
            return
        every = 1 if self.mode == "lines" else max(1, self.epochs // 10)
        if self.mode != "quiet" and (epoch % every == 0 or epoch == 1):
            text = " ".join(f"{k}={v}" for k, v in shown.items())
            print(f"epoch {epoch}/{self.epochs} {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
