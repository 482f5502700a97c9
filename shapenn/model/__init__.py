"""The model: the chain of layers and its build (``_model``), the training loop (``_fit``),
the checks and the cast of data (``_data``) and the summary (``_summary``)."""

from ._fit import History as History
from ._model import Model as Model

__all__ = ["History", "Model"]
