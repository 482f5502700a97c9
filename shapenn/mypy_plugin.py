"""A mypy plugin that checks the sizes of a ``Model``'s layers before the code runs.

Turn it on in the project's mypy configuration::

    [tool.mypy]
    plugins = ["shapenn.mypy_plugin"]

For each call ``shapenn.Model([...])`` whose layers are shapenn layers built from literals (or
module-level constants), the plugin builds the same layers — inside
``shapenn.layers.uninitialized()``, so no weights are drawn or touched — and asks the shape
engine for each layer's output, link by link, as ``Model`` does when it is built. A link that
does not fit is a mypy error in the words of the run-time ``ShapeError``::

    Model: `layers[2] Dense(32 → 3)` expected (batch, in=32), got (batch, 64) from
    layers[0] Dense(2 → 64): ... hint: make layers[2] Dense(64, 3), or layers[0] Dense(2, 32)

Nothing is re-implemented here: the dims come from the layers' own annotations, read by the
engine's one dim parser (``shapenn.shapes``), and the chain and its message from
``shapenn.model``'s build. A size the plugin cannot know — a variable, a call, a layer class
of one's own — is skipped, never guessed: the links it touches are left to the run-time check.
"""

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple, cast

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    GDEF,
    AssignmentStmt,
    CallExpr,
    Context,
    Expression,
    FloatExpr,
    IntExpr,
    ListExpr,
    MypyFile,
    NameExpr,
    OperatorAssignmentStmt,
    OpExpr,
    RefExpr,
    StrExpr,
    TupleExpr,
    UnaryExpr,
    Var,
)
from mypy.plugin import CheckerPluginInterface, FunctionContext, Plugin
from mypy.types import Type

from shapenn.layers import Layer
from shapenn.layers._init import uninitialized
from shapenn.model._chain import Step, chain_error
from shapenn.shapes import UNKNOWN, ShapeError, Size

__all__ = ["SHAPE_ERROR", "ShapennPlugin", "plugin"]

#: The error code of a size mismatch: ``# type: ignore[shapenn-shape]`` silences one line.
SHAPE_ERROR: Final = ErrorCode("shapenn-shape", "Layer sizes that do not fit", "shapenn")

_MODEL: Final = "shapenn.model._model.Model"

Shape = tuple[Size, ...]

#: Keyword arguments that never change a size: when not a literal, the layer is built without.
_SIZE_FREE: Final = frozenset({"seed", "dtype", "init", "weight_scale"})


class _Unknown:
    """An argument the plugin cannot evaluate."""


_UNKNOWN: Final = _Unknown()
_OPERATORS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "//": lambda a, b: a // b,
}


def _constant(var: Var, api: CheckerPluginInterface, depth: int) -> object:
    """The value of a module-level name assigned exactly once, or ``_UNKNOWN``."""
    if var.final_value is not None and isinstance(var.final_value, int | float | str):
        return var.final_value
    module, _, name = var.fullname.rpartition(".")
    tree = api.modules.get(module) if isinstance(api, TypeChecker) else None
    if not isinstance(tree, MypyFile):
        return _UNKNOWN
    values: list[Expression] = []
    for statement in tree.defs:
        if isinstance(statement, OperatorAssignmentStmt):
            target = statement.lvalue
            if isinstance(target, NameExpr) and target.name == name:
                return _UNKNOWN
        if isinstance(statement, AssignmentStmt):
            for target in statement.lvalues:
                if isinstance(target, NameExpr) and target.name == name:
                    values.append(statement.rvalue)
                elif _names(target, name):
                    return _UNKNOWN  # unpacked from a tuple: not a literal
    if len(values) != 1:
        return _UNKNOWN
    return _value(values[0], api, depth + 1)


def _names(target: Expression, name: str) -> bool:
    if isinstance(target, NameExpr):
        return target.name == name
    if isinstance(target, TupleExpr | ListExpr):
        return any(_names(item, name) for item in target.items)
    return False


def _value(expr: Expression, api: CheckerPluginInterface, depth: int = 0) -> object:
    """The Python value of a literal expression, or ``_UNKNOWN``."""
    if depth > 8:
        return _UNKNOWN
    if isinstance(expr, IntExpr | FloatExpr | StrExpr):
        return expr.value
    if isinstance(expr, NameExpr):
        builtin = {"builtins.True": True, "builtins.False": False, "builtins.None": None}
        if expr.fullname in builtin:
            return builtin[expr.fullname]
        if isinstance(expr.node, Var) and expr.kind == GDEF:  # a module-level name
            return _constant(expr.node, api, depth)
        return _UNKNOWN
    if isinstance(expr, UnaryExpr) and expr.op == "-":
        inner = _value(expr.expr, api, depth + 1)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
        return _UNKNOWN
    if isinstance(expr, OpExpr) and expr.op in _OPERATORS:
        left, right = _value(expr.left, api, depth + 1), _value(expr.right, api, depth + 1)
        if type(left) is int and type(right) is int and not (expr.op == "//" and right == 0):
            return _OPERATORS[expr.op](left, right)
        return _UNKNOWN
    if isinstance(expr, TupleExpr | ListExpr):
        items = [_value(item, api, depth + 1) for item in expr.items]
        if any(isinstance(item, _Unknown) for item in items):
            return _UNKNOWN
        return tuple(items) if isinstance(expr, TupleExpr) else items
    return _UNKNOWN


def _layer_class(callee: Expression) -> type[Layer] | None:
    """The shapenn layer class a call's callee names, or None (a class of one's own)."""
    if not isinstance(callee, RefExpr) or not callee.fullname.startswith("shapenn."):
        return None
    module_name, _, name = callee.fullname.rpartition(".")
    try:
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, name, None)
    return found if isinstance(found, type) and issubclass(found, Layer) else None


def _build(expr: Expression, api: CheckerPluginInterface) -> Layer | None:
    """The layer a literal constructor call builds, with no weights drawn; None if unknown."""
    if not isinstance(expr, CallExpr):
        return None
    cls = _layer_class(expr.callee)
    if cls is None:
        return None
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for arg, kind, name in zip(expr.args, expr.arg_kinds, expr.arg_names, strict=True):
        value = _value(arg, api)
        if kind == ARG_POS and not kwargs:
            if isinstance(value, _Unknown):
                return None
            args.append(value)
        elif kind == ARG_NAMED and name is not None:
            if isinstance(value, _Unknown):
                if name in _SIZE_FREE or "regularizer" in name:
                    continue
                return None
            kwargs[name] = value
        else:
            return None  # *args, **kwargs
    try:
        with uninitialized():
            layer: Layer = cls(*args, **kwargs)
            return layer
    except Exception:  # a wrong argument: mypy or the run says so, not this plugin
        return None


def _first_lines(message: str) -> tuple[str, list[str]]:
    """The error's first line with its hint, and the ``how the sizes got there`` lines."""
    lines = message.splitlines()
    head = lines[0] if lines else message
    hints = [line.strip() for line in lines if line.strip().startswith("hint:")]
    how: list[str] = []
    inside = False
    for line in lines[1:]:
        if line.strip() == "how the sizes got there:":
            inside = True
        elif inside and line.startswith("    "):
            how.append(line.strip())
        else:
            inside = False
    return " ".join([head, *hints]), how


class _Failure(NamedTuple):
    """The first link that does not fit: its index, the layer's own error, the chain's."""

    at: int
    cause: ShapeError
    message: str


#: How many axes of unknown length a layer taking any number of them (``batch *positions``)
#: is tried with when nothing before it fixes them: 0, 1 and 2.
_PROBED_AXES: Final = (0, 1, 2)


def _walk(layers: Sequence[Layer | None], start: int, first: Shape | None) -> _Failure | None:
    """The chain from ``layers[start]`` on, fed ``first``, as ``Model`` builds it.

    Layers the plugin could not build are None: the chain is unknown after them, and starts
    again at the next layer whose own parameters fix its input."""
    shape = first
    steps: list[Step] = []
    for index in range(start, len(layers)):
        layer = layers[index]
        if layer is None:
            shape, steps, first = None, [], None
            continue
        restarted = False
        if shape is None:
            simplest = layer.input_shape()  # what Model starts from, "?" for an open size
            if simplest is None:
                return _probe(layers, index)
            shape, restarted = simplest, index > 0
            if index == 0:
                first = shape
        try:
            inferred = layer.infer_output(shape)
        except ShapeError as err:
            # chain_error reads the failing layer (built) by index, the others from the steps.
            built = cast(Sequence[Layer], layers)
            return _Failure(index, err, str(chain_error(built, index, shape, err, steps, first)))
        output = inferred.shape if inferred is not None else None
        derived = tuple(
            f"{d.text} = {d.worked} = {d.value}" for d in (inferred.derived if inferred else [])
        )
        # A chain that starts again after an unknown layer starts at this layer's output.
        given: Shape = () if restarted else shape
        steps.append(Step(index, layer, given, output, derived))
        shape = output
    return None


def _probe(layers: Sequence[Layer | None], start: int) -> _Failure | None:
    """For a layer taking any number of axes (``Embedding``'s ``batch *positions``): the
    failure the chain has with every number of axes tried, or None. A number of axes the
    chain cannot take at all (a rank error) says nothing and is left out."""
    found: list[_Failure] = []
    for extra in _PROBED_AXES:
        failure = _walk(layers, start, ("batch", *[UNKNOWN] * extra))
        if failure is None:
            return None  # fits with this many axes: nothing known to be wrong
        if failure.cause.dim is not None:
            found.append(failure)
    if not found or len({f.at for f in found}) != 1:
        return None
    return found[0]  # the fewest axes: the plainest shapes to read


def _check(layers: Sequence[Layer | None], declared: tuple[int, ...] | None) -> _Failure | None:
    """The first link that does not fit, with the run-time chain's ShapeError, if any."""
    return _walk(layers, 0, ("batch", *declared) if declared is not None else None)


def _model_call(ctx: FunctionContext) -> Type:
    """Check ``Model(layers, ..., input_shape=...)`` and return the type mypy inferred."""
    call = ctx.context
    if not isinstance(call, CallExpr):
        return ctx.default_return_type
    layers_expr: Expression | None = None
    shape_expr: Expression | None = None
    for name, args in zip(ctx.callee_arg_names, ctx.args, strict=False):
        if name == "layers" and len(args) == 1:
            layers_expr = args[0]
        elif name == "input_shape" and len(args) == 1:
            shape_expr = args[0]
    if not isinstance(layers_expr, ListExpr | TupleExpr) or not layers_expr.items:
        return ctx.default_return_type
    declared: tuple[int, ...] | None = None
    if shape_expr is not None:
        value = _value(shape_expr, ctx.api)
        if not isinstance(value, tuple | list) or not all(type(v) is int for v in value):
            return ctx.default_return_type  # a sample shape only data can tell
        declared = tuple(value)
    try:
        built = [_build(item, ctx.api) for item in layers_expr.items]
        failure = _check(built, declared)
    except Exception:  # never break a type check on shapenn's account
        return ctx.default_return_type
    if failure is not None:  # on the line of the layer that does not fit
        _report(ctx.api, failure.message, layers_expr.items[failure.at])
    return ctx.default_return_type


def _report(api: CheckerPluginInterface, message: str, context: Context) -> None:
    error, how = _first_lines(message)
    api.fail(error, context, code=SHAPE_ERROR)
    if how:
        api.msg.note("how the sizes got there: " + "; ".join(how), context, code=SHAPE_ERROR)


class ShapennPlugin(Plugin):
    """Checks ``shapenn.Model``'s layer sizes; see the module's docstring."""

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        return _model_call if fullname == _MODEL else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return ShapennPlugin
