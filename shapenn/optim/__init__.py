"""Optimizers: pure update rules over flat arrays (``_rules``), the flat buffer they run over
(``_flat``), and the optimizer classes with the book's arguments (``_optimizers``)."""

from ._optimizers import SGD as SGD
from ._optimizers import Adagrad as Adagrad
from ._optimizers import Adam as Adam
from ._optimizers import DivergenceError as DivergenceError
from ._optimizers import Optimizer as Optimizer
from ._optimizers import RMSprop as RMSprop
from ._rules import AdamState as AdamState
from ._rules import CacheState as CacheState
from ._rules import MomentumState as MomentumState
from ._rules import adagrad_update as adagrad_update
from ._rules import adam_update as adam_update
from ._rules import rmsprop_update as rmsprop_update
from ._rules import sgd_update as sgd_update

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamState",
    "CacheState",
    "DivergenceError",
    "MomentumState",
    "Optimizer",
    "RMSprop",
    "adagrad_update",
    "adam_update",
    "rmsprop_update",
    "sgd_update",
]
