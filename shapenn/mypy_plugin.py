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

A layer may be listed by a name its function or module assigns once (``hidden =
sn.Dense(2, 64)``, then ``Model([hidden, ...])``). ``model.add(layer)`` sequences — shapenn's
``Model`` and the book's (``from shapenn.book import *``), or a chain ``Model().add(a).add(b)``
— are checked at each ``add``: the statements of the model variable's scope are replayed in
order from its latest assignment ``model = Model(...)``, past calls that keep its layers
(``set``, ``finalize``, ``fit``...); anything else naming the variable ends what is known.

Nothing is re-implemented here: the dims come from the layers' own annotations, read by the
engine's one dim parser (``shapenn.shapes``), and the chain and its message from
``shapenn.model``'s build. A size the plugin cannot know — a variable, a call, a layer class
of one's own, a name assigned twice — is skipped, never guessed: the links it touches are
left to the run-time check.
"""

import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, NamedTuple, cast

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    GDEF,
    LDEF,
    AssignmentExpr,
    AssignmentStmt,
    Block,
    CallExpr,
    ComparisonExpr,
    Context,
    DelStmt,
    Expression,
    ExpressionStmt,
    FloatExpr,
    ForStmt,
    FuncItem,
    IfStmt,
    IntExpr,
    ListExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OpExpr,
    RefExpr,
    StarExpr,
    Statement,
    StrExpr,
    TupleExpr,
    UnaryExpr,
    Var,
    WithStmt,
)
from mypy.plugin import CheckerPluginInterface, FunctionContext, MethodContext, Plugin
from mypy.types import Type

from shapenn.layers import Layer
from shapenn.layers._init import uninitialized
from shapenn.model._chain import Step, chain_error
from shapenn.shapes import UNKNOWN, ShapeError, Size

__all__ = ["SHAPE_ERROR", "ShapennPlugin", "plugin"]

#: The error code of a size mismatch: ``# type: ignore[shapenn-shape]`` silences one line.
SHAPE_ERROR: Final = ErrorCode("shapenn-shape", "Layer sizes that do not fit", "shapenn")

_MODEL: Final = "shapenn.model._model.Model"
#: shapenn's Model and the book's (``from shapenn.book import *``), whose ``add`` is followed.
_MODELS: Final = frozenset({_MODEL, "shapenn.book.Model"})
#: Calls on a model variable that never change its layers: a ``model.add(...)`` sequence is
#: followed past them, and past nothing else that names the variable.
_SAFE_METHODS: Final = frozenset(
    {"set", "finalize", "train", "fit", "evaluate", "predict", "summary", "save"}
    | {"count_params", "set_training", "parameters", "get_parameters"}
)

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


def _binds(target: Expression, var: Var) -> bool:
    """Whether an assignment's target (a name, or names unpacked) binds ``var``."""
    if isinstance(target, NameExpr):
        return target.node is var
    if isinstance(target, TupleExpr | ListExpr):
        return any(_binds(item, var) for item in target.items)
    if isinstance(target, StarExpr):
        return _binds(target.expr, var)
    return False


#: The attributes of mypy's statements and expressions that hold the nodes inside them.
_CHILDREN: Final = (
    *("defs", "body", "else_body", "finally_body", "handlers", "func", "expr", "lvalues"),
    *("lvalue", "rvalue", "callee", "args", "items", "left", "right", "operands", "index"),
    *("target", "value", "cond", "if_expr", "else_expr", "base", "begin_index", "end_index"),
    *("stride", "key", "sequences", "indices", "condlists", "left_expr", "right_expr"),
)


def _nodes(value: object) -> Iterator[Node]:
    if isinstance(value, Statement | Expression | Block):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _nodes(item)


def _descendants(root: Node) -> Iterator[Node]:
    """``root`` and every statement and expression inside it, functions' bodies included.
    (mypy's own ``TraverserVisitor`` is compiled and cannot be subclassed here.)"""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        for attribute in _CHILDREN:
            stack.extend(_nodes(getattr(node, attribute, None)))


def _bindings(scope: Node, var: Var) -> tuple[list[Expression], bool]:
    """The values of a scope's plain assignments ``var = ...``, and whether it binds ``var``
    another way (``+=``, a ``for`` or ``with`` target, unpacking, ``:=``, ``del``)."""
    values: list[Expression] = []
    other = False
    for node in _descendants(scope):
        if isinstance(node, AssignmentStmt):
            for target in node.lvalues:
                if isinstance(target, NameExpr) and target.node is var:
                    values.append(node.rvalue)
                elif _binds(target, var):
                    other = True
        elif isinstance(node, OperatorAssignmentStmt):
            other = other or _binds(node.lvalue, var)
        elif isinstance(node, ForStmt):
            other = other or _binds(node.index, var)
        elif isinstance(node, WithStmt):
            other = other or any(t is not None and _binds(t, var) for t in node.target)
        elif isinstance(node, AssignmentExpr):
            other = other or _binds(node.target, var)
        elif isinstance(node, DelStmt):
            other = other or _binds(node.expr, var)
    return values, other


def _scope(name: NameExpr, api: CheckerPluginInterface) -> FuncItem | MypyFile | None:
    """The function (a local name) or module (a module-level name) that binds ``name``."""
    if not isinstance(api, TypeChecker) or not isinstance(name.node, Var):
        return None
    if name.kind == LDEF:
        return api.scope.current_function()
    if name.kind == GDEF:
        return api.modules.get(name.node.fullname.rpartition(".")[0])
    return None


def _assigned(name: NameExpr, api: CheckerPluginInterface) -> Expression | None:
    """The value of a variable its scope assigns exactly once and binds no other way."""
    scope = _scope(name, api)
    if scope is None or not isinstance(name.node, Var):
        return None
    values, other = _bindings(scope, name.node)
    return values[0] if len(values) == 1 and not other else None


def _build(expr: Expression, api: CheckerPluginInterface, follow: bool = True) -> Layer | None:
    """The layer a literal constructor call builds, with no weights drawn; None if unknown.

    A name assigned once in its scope (``hidden = sn.Dense(2, 64)``) is that call."""
    if isinstance(expr, NameExpr) and follow:
        assigned = _assigned(expr, api)
        return None if assigned is None else _build(assigned, api, follow=False)
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


def _layers(items: Sequence[Expression], api: CheckerPluginInterface) -> list[Layer | None] | None:
    """The layers a list's items build; None when one name is listed twice (one object at
    two places: an ArgumentError at run time, not a size)."""
    names = [item.node for item in items if isinstance(item, NameExpr)]
    if len({id(node) for node in names}) != len(names):
        return None
    return [_build(item, api) for item in items]


Parts = tuple[list[Expression], tuple[int, ...] | None]


def _model_parts(expr: Expression, api: CheckerPluginInterface) -> Parts | None:
    """The layer expressions and declared sample shape of the model ``expr`` builds:
    ``Model([...], input_shape=...)``, ``Model()``, either followed by ``.add(layer)`` calls;
    None for anything else."""
    if not isinstance(expr, CallExpr):
        return None
    callee = expr.callee
    if isinstance(callee, MemberExpr) and callee.name == "add":
        inner = _model_parts(callee.expr, api)
        if inner is None or expr.arg_kinds != [ARG_POS]:
            return None
        return [*inner[0], expr.args[0]], inner[1]
    if not isinstance(callee, RefExpr) or callee.fullname not in _MODELS:
        return None
    layers: list[Expression] = []
    declared: tuple[int, ...] | None = None
    for arg, kind, name in zip(expr.args, expr.arg_kinds, expr.arg_names, strict=True):
        if (kind == ARG_POS and name is None) or name == "layers":
            if not isinstance(arg, ListExpr | TupleExpr):
                return None
            layers = list(arg.items)
        elif name == "input_shape":
            value = _value(arg, api)
            if not isinstance(value, tuple | list) or not all(type(v) is int for v in value):
                return None
            declared = tuple(value)
        elif kind != ARG_NAMED:
            return None
    return layers, declared


def _adds(expr: Expression, var: Var) -> list[CallExpr] | None:
    """The calls of ``var.add(a).add(b)...`` in order, or None for another expression."""
    calls: list[CallExpr] = []
    while (
        isinstance(expr, CallExpr)
        and isinstance(expr.callee, MemberExpr)
        and expr.callee.name == "add"
        and expr.arg_kinds == [ARG_POS]
    ):
        calls.append(expr)
        expr = expr.callee.expr
    if not calls or not isinstance(expr, NameExpr) or expr.node is not var:
        return None
    return calls[::-1]


def _uses(statement: Statement, var: Var, call: CallExpr) -> tuple[bool, bool]:
    """Whether a statement holds the ``add`` call being checked, and whether it names a model
    variable other than to call a method that keeps its layers."""
    holds_call = False
    names = safe = 0
    for node in _descendants(statement):
        if isinstance(node, CallExpr):
            holds_call = holds_call or node is call
            callee = node.callee
            if (
                isinstance(callee, MemberExpr)
                and callee.name in _SAFE_METHODS
                and isinstance(callee.expr, NameExpr)
                and callee.expr.node is var
            ):
                safe += 1
        elif isinstance(node, NameExpr) and node.node is var:
            names += 1
    return holds_call, names > safe


def _main_guarded(statement: Statement) -> list[Statement]:
    """The statements of an ``if __name__ == "__main__":`` block (with no ``else``), run in
    order as the module's own; any other statement as it is."""
    if isinstance(statement, IfStmt) and len(statement.expr) == 1 and not statement.else_body:
        test = statement.expr[0]
        if (
            isinstance(test, ComparisonExpr)
            and test.operators == ["=="]
            and isinstance(test.operands[0], NameExpr)
            and test.operands[0].name == "__name__"
            and isinstance(test.operands[1], StrExpr)
            and test.operands[1].value == "__main__"
        ):
            return statement.body[0].body
    return [statement]


def _sequence(call: CallExpr, api: CheckerPluginInterface) -> Parts | None:
    """The layers of the model ``call`` adds to, up to and with the one it adds: a chain on
    ``Model(...)`` itself, or the statements of the variable's scope in order, from its
    latest assignment ``model = Model(...)`` to this ``model.add(...)``."""
    base: Expression = call
    while (
        isinstance(base, CallExpr)
        and isinstance(base.callee, MemberExpr)
        and base.callee.name == "add"
    ):
        base = base.callee.expr
    if not isinstance(base, NameExpr):
        return _model_parts(call, api)
    var, scope = base.node, _scope(base, api)
    if not isinstance(var, Var) or scope is None:
        return None
    body: list[Statement] = scope.defs if isinstance(scope, MypyFile) else scope.body.body
    body = [inner for statement in body for inner in _main_guarded(statement)]
    state: Parts | None = None
    for statement in body:
        if isinstance(statement, AssignmentStmt) and any(
            _binds(target, var) for target in statement.lvalues
        ):
            target = statement.lvalues[0]
            plain = len(statement.lvalues) == 1 and isinstance(target, NameExpr)
            state = _model_parts(statement.rvalue, api) if plain else None
            continue
        adds = _adds(statement.expr, var) if isinstance(statement, ExpressionStmt) else None
        if adds is not None:
            for add in adds:
                state = None if state is None else ([*state[0], add.args[0]], state[1])
                if add is call:
                    return state
            continue
        holds_call, unsafe = _uses(statement, var, call)
        if holds_call:
            return None  # inside a branch or a loop: the order is not the statements'
        if unsafe:
            state = None
    return None


def _add_call(ctx: MethodContext) -> Type:
    """Check ``model.add(layer)`` against the layers added before it."""
    call = ctx.context
    if not isinstance(call, CallExpr) or call.arg_kinds != [ARG_POS]:
        return ctx.default_return_type
    try:
        parts = _sequence(call, ctx.api)
        built = None if parts is None else _layers(parts[0], ctx.api)
        failure = None if parts is None or built is None else _check(built, parts[1])
    except Exception:  # never break a type check on shapenn's account
        return ctx.default_return_type
    if failure is not None and parts is not None and failure.at == len(parts[0]) - 1:
        _report(ctx.api, failure.message, call.args[0])  # only where this layer is the misfit
    return ctx.default_return_type


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
        built = _layers(layers_expr.items, ctx.api)
        failure = None if built is None else _check(built, declared)
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

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        model, _, method = fullname.rpartition(".")
        return _add_call if method == "add" and model in _MODELS else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return ShapennPlugin
