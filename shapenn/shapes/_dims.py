"""The dim model: shapenn's own reading of jaxtyping annotations.

This is the only module that reads jaxtyping's internals. It turns an annotation such as
``Float[Array2D, "batch in"]`` into an `ArraySpec` — a dtype family and a tuple of `Dim` — and
everything else in shapenn works on those: the explanation of a failed check, build-time
inference of a layer's output shape, summaries, docs and export.

Dims follow jaxtyping's grammar and meaning:

* `Fixed` — ``3`` (also ``rows=3``);
* `Named` — ``batch``; equal names must have equal sizes within one scope;
* `Expr` — arithmetic on named dims, such as ``h-k+1`` or ``c*h*w``, evaluated like Python;
* `Variadic` — ``*shape`` (named) or ``...`` (anonymous): any number of axes;
* `Anonymous` — ``_``: one axis of any size;
* `Opaque` — anything this module does not model (tree-path dims ``?x``, f-string
  expressions): never checked here, so jaxtyping's own verdict and words stand.

A ``#`` in front of a dim (broadcastable) lets size 1 match it, as in jaxtyping.

Sizes are ints at run time. At build time, before data, a size can also be a *symbol*: a
string such as ``"batch"`` for a dim that is known to exist but not its size, or ``"?"`` for
one that cannot be known.

The supported jaxtyping range is pinned in ``pyproject.toml``. Its dim objects are recognised
by class name, never imported: if its internals ever change shape, the dims this module does
not recognise become `Opaque`, and shapenn falls back to jaxtyping's messages instead of
failing (``tests/shapes/test_dims.py`` holds the contract).
"""

import ast
import functools
import math
import operator
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias, TypeVar, Union, get_args, get_origin

import jaxtyping._array_types as _jaxtyping_dims  # private: read here and nowhere else
import numpy as np
from jaxtyping import Shaped

__all__ = [
    "UNKNOWN",
    "Anonymous",
    "ArraySpec",
    "Bindings",
    "Bound",
    "Dim",
    "Expr",
    "Fixed",
    "Mismatch",
    "Named",
    "Opaque",
    "Size",
    "Variadic",
    "bind",
    "config_size",
    "evaluate",
    "format_shape",
    "is_array_hint",
    "output_shape",
    "render_spec",
    "seed_jaxtyping",
    "spec_of",
    "specs_of",
    "substituted",
    "without_jaxtyped",
]

#: A size that cannot be known before data.
UNKNOWN = "?"

Size: TypeAlias = int | str  # an int, or a symbol at build time ("batch", "?")

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Fixed:
    size: int
    broadcastable: bool = False

    def __str__(self) -> str:
        return str(self.size)


@dataclass(frozen=True)
class Named:
    name: str
    broadcastable: bool = False

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Expr:
    text: str
    broadcastable: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Variadic:
    name: str | None  # None for ``...``
    broadcastable: bool = False

    def __str__(self) -> str:
        return "..." if self.name is None else f"*{self.name}"


@dataclass(frozen=True)
class Anonymous:
    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True)
class Opaque:
    text: str

    def __str__(self) -> str:
        return self.text


Dim: TypeAlias = Fixed | Named | Expr | Variadic | Anonymous | Opaque

_FAMILY_WORDS = {
    "Float": "floating-point",
    "Floating": "floating-point",
    "Integer": "integer",
    "Real": "real-valued",
    "Bool": "boolean",
    "Num": "numeric",
    "Shaped": "",
}


@dataclass(frozen=True)
class ArraySpec:
    """One array annotation: its dims, allowed dtypes and the annotation itself.

    Attributes:
        dims: the axes, in order.
        dtypes: the dtype names jaxtyping accepts (e.g. ``float32``), or None for any.
        family: jaxtyping's dtype family: ``Float``, ``Integer``, ``Real``, ``Shaped``, …
        hint: the jaxtyping annotation, for the run-time check.
        text: the dim string as written, e.g. ``"batch in"``.
    """

    dims: tuple[Dim, ...]
    dtypes: frozenset[str] | None
    family: str
    hint: Any
    text: str

    @property
    def family_words(self) -> str:
        """``floating-point`` for ``Float``, and so on ('' for ``Shaped``)."""
        return _FAMILY_WORDS.get(self.family, self.family)

    @property
    def dtype_words(self) -> str:
        """The dtypes allowed, in words: ``floating-point``, or ``float32 or float64`` when the
        family allows only some of its kind."""
        if self.family == "Floating" and self.dtypes:
            return " or ".join(sorted(self.dtypes))
        return self.family_words or "allowed"

    @property
    def variadic(self) -> int | None:
        """The position of the variadic dim, if there is one."""
        return next((i for i, d in enumerate(self.dims) if isinstance(d, Variadic)), None)

    @property
    def rank(self) -> int:
        """The number of axes, not counting a variadic dim."""
        return len(self.dims) - (self.variadic is not None)

    def accepts_dtype(self, dtype: np.dtype[Any]) -> bool:
        return self.dtypes is None or dtype.type.__name__ in self.dtypes

    def mentions(self) -> set[str]:
        """Every dim name the spec binds or computes with (``h`` and ``kh`` in ``h-kh+1``)."""
        found = {name.lstrip("*") for name in self.names()}
        for dim in self.dims:
            if isinstance(dim, Expr):
                found.update(names_in(dim.text))
        return found

    def names(self) -> list[str]:
        """The names this spec binds, in order (``*name`` for a variadic dim)."""
        found = []
        for dim in self.dims:
            if isinstance(dim, Named):
                found.append(dim.name)
            elif isinstance(dim, Variadic) and dim.name is not None:
                found.append("*" + dim.name)
        return found


def is_array_hint(hint: Any) -> bool:
    """Whether ``hint`` is a jaxtyping array annotation (not a union containing one)."""
    return isinstance(hint, type) and hasattr(hint, "dims") and hasattr(hint, "array_type")


# jaxtyping's dim objects, recognised by their class names and sentinels rather than imported,
# so that a jaxtyping that renames or drops one makes that dim Opaque instead of breaking import.
_ANONYMOUS = getattr(_jaxtyping_dims, "_anonymous_dim", None)
_ANONYMOUS_VARIADIC = getattr(_jaxtyping_dims, "_anonymous_variadic_dim", None)


def _dim(raw: Any) -> Dim:
    kind = type(raw).__name__
    if raw is _ANONYMOUS or kind == "_AnonymousDim":
        return Anonymous()
    if raw is _ANONYMOUS_VARIADIC or kind == "_AnonymousVariadicDim":
        return Variadic(None)
    broadcastable = bool(getattr(raw, "broadcastable", False))
    if kind == "_FixedDim" and isinstance(getattr(raw, "size", None), int):
        return Fixed(raw.size, broadcastable)
    name = getattr(raw, "name", None)
    if kind in ("_NamedDim", "_NamedVariadicDim") and isinstance(name, str):
        if getattr(raw, "treepath", False):
            return Opaque(("*?" if kind == "_NamedVariadicDim" else "?") + name)
        return Named(name, broadcastable) if kind == "_NamedDim" else Variadic(name, broadcastable)
    if kind == "_SymbolicDim":
        text = str(getattr(raw, "elem", ""))
        if "{" in text or _compiled(text) is None:
            return Opaque(text)
        return Expr(text, broadcastable)
    return Opaque(str(raw))


@functools.cache
def _spec(hint: Any) -> ArraySpec:
    raw_dtypes = getattr(hint, "dtypes", None)
    dtypes: frozenset[str] | None = None
    if isinstance(raw_dtypes, list | tuple) and all(isinstance(d, str) for d in raw_dtypes):
        dtypes = frozenset(raw_dtypes)
    family = str(getattr(hint, "__name__", "Shaped")).split("[", 1)[0]
    dims = tuple(_dim(d) for d in getattr(hint, "dims", ()))
    text = str(getattr(hint, "dim_str", " ".join(map(str, dims))))
    return ArraySpec(dims, dtypes, family, hint, text)


def spec_of(hint: Any) -> ArraySpec | None:
    """The spec of a jaxtyping annotation, also inside ``X | None``; None for other hints."""
    specs = specs_of(hint)
    return specs[0] if len(specs) == 1 else None


def specs_of(hint: Any) -> list[ArraySpec]:
    """Every array spec in ``hint``: one for ``Float[...]``, two for ``A | B``, … (None and
    non-array members are left out)."""
    if is_array_hint(hint):
        return [_spec(hint)]
    if get_origin(hint) in (Union, types.UnionType):
        return [s for member in get_args(hint) for s in specs_of(member)]
    return []


# --- expressions -----------------------------------------------------------------------------

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "abs": abs}


@functools.cache
def _compiled(text: str) -> ast.expr | None:
    """The parsed expression, or None if it uses anything but arithmetic on names and ints."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                return None
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                return None
        elif isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
                return None
            if node.keywords:
                return None
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int) or isinstance(node.value, bool):
                return None
        elif not isinstance(
            node, ast.Name | ast.Load | ast.operator | ast.unaryop | ast.expr_context
        ):
            return None
    return tree


def names_in(text: str) -> list[str]:
    """The dim names expression ``text`` computes with (not the functions it calls)."""
    tree = _compiled(text)
    if tree is None:
        return []
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]


def _eval(node: ast.expr, values: Mapping[str, int]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, values)
        return -value if isinstance(node.op, ast.USub) else value
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return _FUNCTIONS[node.func.id](*(_eval(a, values) for a in node.args))


def evaluate(text: str, bindings: "Bindings") -> int | float | None:
    """The value of expression ``text`` over the int-bound dims, or None if it needs a dim that
    is unbound or symbolic (or divides by zero)."""
    tree = _compiled(text)
    if tree is None:
        return None
    values = {}
    for name in names_in(text):
        bound = bindings.get(name)
        if bound is None or not isinstance(bound.size, int):
            return None
        values[name] = bound.size
    try:
        result = _eval(tree, values)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return result if isinstance(result, int | float) else None


def substituted(text: str, bindings: "Bindings") -> str:
    """``text`` with each bound dim replaced by its size: ``(h-k)//s+1`` → ``(8-3)//1+1``."""
    tree = _compiled(text)
    if tree is None:
        return text

    class _Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            bound = bindings.get(node.id)
            if bound is not None and isinstance(bound.size, int):
                return ast.Constant(bound.size)
            return node

        def visit_Call(self, node: ast.Call) -> ast.expr:
            node.args = [self.visit(a) for a in node.args]
            return node

    return ast.unparse(_Substitute().visit(ast.parse(text, mode="eval").body)).replace(" ", "")


# --- binding ---------------------------------------------------------------------------------


class Bound(NamedTuple):
    """A dim's size and the argument it was first seen in ('' for the one being bound);
    ``config`` for a dim set by an object's settings (a stride), not by an array."""

    size: Size | tuple[Size, ...]
    source: str
    config: bool = False


Bindings: TypeAlias = dict[str, Bound]


def config_size(value: object) -> int | None:
    """The size a config dim's attribute gives (``stride_h: Dim``): a Python int, or a NumPy
    integer read as the plain int it holds (``np.int64(3)`` is 3, as everywhere in shapenn);
    None for anything else (unset, a float), which binds nothing."""
    if isinstance(value, int):
        return value
    if isinstance(value, np.integer):
        return int(value)
    return None


class Mismatch(NamedTuple):
    """Why a shape does not fit a spec.

    Attributes:
        reason: the words, e.g. "`in` is 3 here but 4 in `self.weights`".
        kind: ``rank``, ``fixed``, ``named``, ``expr`` or ``variadic``.
        dim: the dim's name or expression, when one dim is to blame.
        axis: the axis, when one axis is to blame.
        expected: the size the dim needed, when known.
    """

    reason: str
    kind: str
    dim: str | None = None
    axis: int | None = None
    expected: Size | tuple[Size, ...] | None = None


def _same(a: Size, b: Size) -> bool:
    """Sizes agree, or cannot be told apart before data (one of them is a symbol)."""
    return a == b if isinstance(a, int) and isinstance(b, int) else True


def _where(bound: Bound) -> str:
    if not bound.source:
        return " on another axis"
    # A source that quotes itself is a phrase ("the last forward's `inputs`"), else a name.
    return f" in {bound.source}" if "`" in bound.source else f" in `{bound.source}`"


def _bind_axis(dim: Dim, size: Size, axis: int, bindings: Bindings) -> Mismatch | None:
    if isinstance(dim, Anonymous | Opaque):
        return None
    if getattr(dim, "broadcastable", False) and size == 1:
        return None
    if isinstance(dim, Fixed):
        if not _same(dim.size, size):
            return Mismatch(f"axis {axis} must be {dim.size} but is {size}", "fixed", None, axis)
        return None
    if isinstance(dim, Named):
        known = bindings.get(dim.name)
        if known is None:
            bindings[dim.name] = Bound(size, "")
            return None
        assert not isinstance(known.size, tuple)
        if isinstance(known.size, str) and isinstance(size, int):
            bindings[dim.name] = Bound(size, known.source)  # a symbol learns its size
            return None
        if not _same(known.size, size):
            reason = f"`{dim.name}` is {size} here but {known.size}{_where(known)}"
            return Mismatch(reason, "named", dim.name, axis, known.size)
        return None
    if isinstance(dim, Expr):
        value = evaluate(dim.text, bindings)
        if value is None or not isinstance(size, int):
            return None
        if value != size:
            shown = substituted(dim.text, bindings)
            worked = f"{dim.text} = {shown} = {_number(value)}" if shown != dim.text else shown
            reason = f"axis {axis} must be {worked} but is {size}"
            return Mismatch(reason, "expr", dim.text, axis, _number(value))
        return None
    raise AssertionError(dim)  # variadic dims are bound by `bind`


def _number(value: int | float) -> Size:
    return int(value) if float(value).is_integer() else str(value)


def bind(spec: ArraySpec, shape: tuple[Size, ...], bindings: Bindings) -> Mismatch | None:
    """Bind ``spec``'s dims to ``shape``, adding new dims to ``bindings`` as it goes.

    Returns None if the shape fits, else the first `Mismatch`; ``bindings`` may then hold a
    part of the shape's dims, so pass a copy when that matters.
    """
    dims = spec.dims
    where = spec.variadic
    if where is None:
        if len(shape) != len(dims):
            return Mismatch(f"it is {len(shape)}-D but {len(dims)}-D is needed", "rank")
        pairs = list(enumerate(zip(dims, shape, strict=True)))
    else:
        after = len(dims) - where - 1
        if len(shape) < len(dims) - 1:
            return Mismatch(
                f"it is {len(shape)}-D but at least {len(dims) - 1}-D is needed", "rank"
            )
        middle = tuple(shape[where : len(shape) - after])
        pairs = [(i, (dims[i], shape[i])) for i in range(where)]
        pairs += [
            (len(shape) - after + j, (dims[where + 1 + j], shape[len(shape) - after + j]))
            for j in range(after)
        ]
        variadic = dims[where]
        assert isinstance(variadic, Variadic)
        if variadic.name is not None:
            key = "*" + variadic.name
            known = bindings.get(key)
            if known is None:
                bindings[key] = Bound(middle, "")
            else:
                assert isinstance(known.size, tuple)
                fits = len(known.size) == len(middle) and all(
                    _same(a, b) for a, b in zip(known.size, middle, strict=True)
                )
                if not fits and not variadic.broadcastable:
                    reason = (
                        f"its axes `*{variadic.name}` are {format_shape(middle)} here but "
                        f"{format_shape(known.size)}{_where(known)}"
                    )
                    return Mismatch(reason, "variadic", key, None, known.size)
    for axis, (dim, size) in pairs:
        problem = _bind_axis(dim, size, axis, bindings)
        if problem is not None:
            return problem
    return None


def claim(bindings: Bindings, source: str) -> Bindings:
    """``bindings`` with every dim bound by the last `bind` attributed to ``source``."""
    return {k: v if v.source else Bound(v.size, source) for k, v in bindings.items()}


# --- reading specs back ----------------------------------------------------------------------


def format_shape(shape: Iterable[Any]) -> str:
    """``(3, 4)``, ``(5,)``, ``(batch, 64)``."""
    parts = [str(s) for s in shape]
    return f"({parts[0]},)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def render_spec(spec: ArraySpec, bindings: Bindings, shape: tuple[Size, ...] | None = None) -> str:
    """The spec with known sizes shown: ``(batch, in=4)``, ``(*features)``, ``(1, out=3)``.

    A variadic dim that ``bindings`` leaves open takes its sizes from ``shape`` (the array
    being explained) when that has enough axes: shown as ``*positions=(7,)``, or left out when
    it is empty — a 2-D array to ``(batch, *positions, in)`` reads ``(batch, in=4)``.
    """
    where = spec.variadic
    middle: tuple[Size, ...] | None = None
    if where is not None and shape is not None and len(shape) >= spec.rank:
        middle = tuple(shape[where : len(shape) - (len(spec.dims) - where - 1)])
    parts: list[str] = []
    for dim in spec.dims:
        if isinstance(dim, Named):
            known = bindings.get(dim.name)
            shown = known is not None and isinstance(known.size, int)
            parts.append(f"{dim.name}={known.size}" if shown and known else dim.name)
        elif isinstance(dim, Variadic) and dim.name is not None:
            known = bindings.get("*" + dim.name)
            sizes = known.size if known is not None else middle
            if sizes == ():
                continue
            shown = isinstance(sizes, tuple)
            parts.append(f"*{dim.name}={format_shape(sizes)}" if shown else str(dim))  # type: ignore[arg-type]
        elif isinstance(dim, Expr):
            value = evaluate(dim.text, bindings)
            parts.append(f"{dim.text}={_number(value)}" if value is not None else dim.text)
        else:
            parts.append(str(dim))
    if len(parts) == 1 and not parts[0].startswith(("*", "...")):
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


class Derived(NamedTuple):
    """An output dim worked out from an expression: ``c*h*w = 8*3*3 = 72``."""

    text: str
    worked: str
    value: Size


def empty_axis(spec: ArraySpec, bindings: Bindings) -> tuple[int, Derived] | None:
    """The first axis of ``spec`` whose size, computed under ``bindings``, is below 1 (an
    input too small for a kernel), with the arithmetic that gave it; None if there is none."""
    if spec.variadic is not None:
        return None
    for axis, dim in enumerate(spec.dims):
        if not isinstance(dim, Expr):
            continue
        value = evaluate(dim.text, bindings)
        if value is not None and value < 1:
            shown = int(value) if float(value).is_integer() else value
            return axis, Derived(dim.text, substituted(dim.text, bindings), shown)  # type: ignore[arg-type]
    return None


def output_shape(
    spec: ArraySpec, bindings: Bindings
) -> tuple[tuple[Size, ...], list[Derived]] | None:
    """The shape ``spec`` describes under ``bindings``, with the arithmetic that gave it.

    Unbound dims come out as their name if it is a symbol already (``batch``), else as
    ``UNKNOWN``. Returns None when a variadic dim is unbound (the rank itself is unknown).
    """
    shape: list[Size] = []
    derived: list[Derived] = []
    for dim in spec.dims:
        if isinstance(dim, Fixed):
            shape.append(dim.size)
        elif isinstance(dim, Named):
            known = bindings.get(dim.name)
            shape.append(UNKNOWN if known is None else known.size)  # type: ignore[arg-type]
        elif isinstance(dim, Expr):
            value = evaluate(dim.text, bindings)
            if value is None or not float(value).is_integer():
                shape.append(UNKNOWN)
            else:
                shape.append(int(value))
                derived.append(Derived(dim.text, substituted(dim.text, bindings), int(value)))
        elif isinstance(dim, Variadic):
            known = bindings.get("*" + dim.name) if dim.name is not None else None
            if known is None:
                return None
            assert isinstance(known.size, tuple)
            shape.extend(known.size)
        else:
            shape.append(UNKNOWN)
    return tuple(shape), derived


# --- talking to jaxtyping's run-time checker -------------------------------------------------

_ZERO = np.zeros((), dtype=np.int8)


@functools.cache
def _marker(name: str) -> Any:
    return Shaped[np.ndarray, name]


def seed_jaxtyping(bindings: Bindings) -> None:
    """Bind ``bindings``' int sizes in jaxtyping's current ``jaxtyped`` context.

    Dims that a layer declares (its parameters', its config's, the last forward's) must hold
    in jaxtyping's check too. jaxtyping binds dims only by checking arrays, so a zero-copy
    broadcast array of the right shape is checked against a bare ``Shaped[np.ndarray, name]``.
    """
    for name, bound in bindings.items():
        size = bound.size
        if isinstance(size, tuple):
            ints = [s for s in size if isinstance(s, int)]
            if len(ints) == len(size):
                isinstance(np.broadcast_to(_ZERO, tuple(ints)), _marker(name))
        elif isinstance(size, int) and size >= 0 and not name.startswith("*"):
            isinstance(np.broadcast_to(_ZERO, (size,)), _marker(name))


def without_jaxtyped(fn: _F) -> _F:
    """``fn`` without the ``jaxtyped`` wrappers jaxtyping's import hook may have added (as
    ``pytest --jaxtyping-packages=shapenn,…`` does): shapenn checks the same annotations
    itself, and a second checker would answer first, in its own words."""
    while getattr(fn, "__wrapped__", None) is not None and "jaxtyping" in getattr(
        getattr(fn, "__code__", None), "co_filename", ""
    ):
        fn = fn.__wrapped__  # type: ignore[attr-defined]
    return fn


def is_known(size: Any) -> bool:
    """Whether a size is an actual number (not a build-time symbol)."""
    return isinstance(size, int) or (
        isinstance(size, tuple) and all(isinstance(s, int) for s in size)
    )


def product(sizes: Iterable[Size]) -> Size:
    """The product of sizes, or UNKNOWN if any is symbolic."""
    values = list(sizes)
    if all(isinstance(s, int) for s in values):
        return math.prod(int(s) for s in values)
    return UNKNOWN
