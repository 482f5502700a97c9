"""Run-time shape checks: `shapechecked` for functions, `check_methods` for a class's methods.

A check binds every dim of a call — arguments and return value — and fails on the first that
does not fit. The verdict is jaxtyping's (dims) and beartype's (types), run through their
public APIs inside one ``jaxtyped("context")``; the words are the dim model's (`_explain`).

**Layer-scoped dims.** For a class such as a layer, the dims of its parameters (class
annotations like ``scale: Float[Array2D, "1 n"]``) and of its config (``stride_h: Dim``) are
bound before its methods' arguments, so ``forward(inputs: Float[Array2D, "batch n"])`` is tied
to ``self.scale`` without the author passing it anywhere. ``forward`` opens a scope: the dims
its arguments bound (``batch``) hold for ``backward`` and ``backward_*`` after it.

**The cache.** What a check decides depends only on the types, shapes and dtypes involved, so
a call whose *signature* (those, for every argument, parameter and config dim) has passed
before passes again — except its return value, which can depend on values. A hit therefore
compares the return value's signature with the one stored for that call signature: one tuple
and one comparison, and the full check runs again whenever they differ. A failing call is
never stored, so every bad call gets the full check and its error.

**On and off.** ``checks(False)`` turns checking off in the current thread or asyncio task
only (a ContextVar); ``SHAPENN_CHECKS=0`` turns it off by default.
"""

import functools
import inspect
import itertools
import operator
import os
import typing
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple, ParamSpec, TypeAlias, TypeVar, overload

import numpy as np
from beartype import BeartypeConf
from beartype.door import die_if_unbearable
from beartype.roar import BeartypeDoorHintViolation
from jaxtyping import jaxtyped

from ._dims import (
    ArraySpec,
    Bindings,
    Bound,
    Expr,
    config_size,
    is_array_hint,
    render_spec,
    seed_jaxtyping,
    spec_of,
    specs_of,
    without_jaxtyped,
)
from ._errors import ArgumentError, LabelError, NotReadyError, ShapeError
from ._explain import (
    Item,
    array_rule_error,
    bind_all,
    describe,
    dtype_error,
    empty_output_error,
    explain,
    explain_return,
    return_dtype_error,
)

__all__ = [
    "Buffer",
    "Cache",
    "CacheInfo",
    "Chain",
    "Declared",
    "Dim",
    "Signature",
    "cache_info",
    "check_methods",
    "checks",
    "checks_enabled",
    "shapechecked",
    "signature",
]

P = ParamSpec("P")
R = TypeVar("R")


class _DimMarker:
    def __repr__(self) -> str:
        return "Dim"


#: An int attribute that is also a dim: ``stride_h: Dim`` binds the dim ``stride_h`` to the
#: attribute's value in every checked method of the class, so annotations can compute with it
#: (``"(h+pad_h-kh)//stride_h+1"``). A NumPy integer (``np.int64(3)``) is the plain int it
#: holds, whether the check is the first of its kind or not. To type checkers it is an int.
Dim: TypeAlias = Annotated[int, _DimMarker()]

_CONF = BeartypeConf(is_pep484_tower=True)  # an int is a fine float, as PEP 484 says
_PLAIN = (bool, int, float, str, np.generic, np.random.Generator)
_ndarray = np.ndarray
_SCALARS = frozenset({int, float, bool, str, type(None)})
_KEPT = 256  # signatures kept per callable; a training run uses a handful

_ENABLED: ContextVar[bool] = ContextVar(
    "shapenn_checks",
    default=os.environ.get("SHAPENN_CHECKS", "1").strip().lower() not in {"0", "false", "off"},
)


def checks_enabled() -> bool:
    """Whether shape checks run here (on unless ``SHAPENN_CHECKS=0`` or in ``checks(False)``)."""
    return _ENABLED.get()


@contextmanager
def checks(enabled: bool) -> Iterator[None]:
    """Turn shape checking on or off inside a ``with`` block, for this thread or asyncio task
    only; the previous setting comes back at the end of the block.

    As with ``decimal.localcontext``, a generator that yields from inside the block leaves
    the setting in its caller until it resumes past the block or is closed: put the ``with``
    around the loop that consumes the generator.

    Checks are on by default; turn them off only for code already known to be shape-correct.
    """
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


# --- signatures and the cache ----------------------------------------------------------------


def _signature(value: Any) -> Any:
    """What a check decides from: shape and dtype of an array (and its type, for a subclass);
    the type of a plain value. None for a value whose contents matter (a list): such calls are
    always checked in full."""
    kind = type(value)
    if kind is _ndarray:  # the common cases first: this runs on every checked call
        return (value.shape, value.dtype)
    if kind in _SCALARS:
        return kind
    if kind is tuple:  # before the isinstance checks, which are slow against an ABC
        kinds = tuple(map(type, value))
        if _SCALARS.issuperset(kinds):  # a stride, a size
            return (tuple, kinds)
        parts = tuple(map(_signature, value))
        return None if None in parts else (tuple, parts)
    if isinstance(value, np.ndarray):
        return (type(value), value.shape, value.dtype)
    if value is None or isinstance(value, _PLAIN):
        return type(value)
    return None


def _signatures(values: Iterable[Any]) -> list[Any]:
    """The signature of each value, None for one that has none. This runs on every checked
    call for every argument, hence the common cases inline."""
    return [
        (value.shape, value.dtype)
        if type(value) is _ndarray
        else type(value)
        if type(value) in _SCALARS
        else _signature(value)
        for value in values
    ]


def _call_key(head: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The cache key of a call: ``head`` (what identifies the callable's object) and the
    signatures of the arguments; None when an argument has no signature (check in full)."""
    parts = _signatures(args)
    if kwargs:
        parts.append(tuple(kwargs))
        parts += _signatures(kwargs.values())
    if None in parts:
        return None
    return (*head, *parts)


def _attributes(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """One C-level read of the attributes ``names`` of an object, as a tuple (attrgetter of a
    single name gives the value itself)."""
    get = operator.attrgetter(*names)
    return get if len(names) > 1 else lambda obj: (get(obj),)


def _state_reader(spec: "Signature") -> Callable[[Any], list[Any]]:
    """For a class's `Signature`: a function from an object to its config dims (as they are)
    and the signatures of its parameters and buffers, the head of its methods' cache keys."""
    names: tuple[str, ...] = (*spec.dims, *spec.state_names)
    dims = len(spec.dims)
    if not names:
        return lambda obj: []
    get = _attributes(names)  # a missing one (never set) takes the slow path below

    def read(obj: Any) -> list[Any]:
        try:
            values = get(obj)
        except AttributeError:
            values = tuple(getattr(obj, name, None) for name in names)
        return [*values[:dims], *_signatures(values[dims:])]

    return read


class CacheInfo(NamedTuple):
    """Counts of one checked callable's cache, or of all of them together."""

    hits: int
    misses: int
    size: int
    maxsize: int


_NEVER = object()  # a stored return signature that never matches: check the return each time


@dataclass
class _Entry:
    returns: Any
    bindings: Bindings
    token: int


_tokens = itertools.count(1)
_checkers: "weakref.WeakSet[_Checker]" = weakref.WeakSet()


def cache_info(fn: Callable[..., Any] | None = None) -> CacheInfo:
    """Hits, misses and size of the signature cache of ``fn`` (a checked function or method),
    or of every checked callable when ``fn`` is None."""
    if fn is not None:
        checker = getattr(fn, "__shapenn_checker__", None)
        if not isinstance(checker, _Checker):
            raise ArgumentError(f"{fn!r} is not shape-checked")
        return checker.info()
    infos = [c.info() for c in list(_checkers)]
    return CacheInfo(*(sum(i[k] for i in infos) for k in range(4)))


# --- signatures: what a class declares ----------------------------------------------------------


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_BUFFER, _CACHE = _Marker("Buffer"), _Marker("Cache")
_T = TypeVar("_T")

#: A non-trainable array a layer keeps and saves (a running mean): ``running_mean:
#: Buffer[Float[Array1D, " features"]]``. Its dims bind like a parameter's; optimizers and
#: gradient checks skip it. To type checkers it is the array type inside.
Buffer: TypeAlias = Annotated[_T, _BUFFER]

#: An array a layer recomputes on every forward and never saves (``cols: Cache[...]``); any
#: array first set after ``__init__`` is one too, so declaring it is needed only for an array
#: set in ``__init__``.
Cache: TypeAlias = Annotated[_T, _CACHE]


@dataclass(frozen=True)
class Declared:
    """An array a class declares by annotation: the attribute's (or argument's) name, its
    annotation, and for an argument whether it has a default (``mask=None``)."""

    name: str
    hint: Any
    optional: bool = False

    @property
    def spec(self) -> ArraySpec | None:
        """The dims and dtypes of the annotation (None for a union of several arrays)."""
        return spec_of(self.hint)


@dataclass(frozen=True, eq=False)
class Signature:
    """Everything a class says about its arrays, read once from its annotations (and its
    bases'): its parameters, buffers and caches, its config dims, and ``forward``'s array
    arguments and return value. The checks, build-time inference, the state walker, saving,
    the model's data checks, summaries and export all read it.

    Attributes:
        params: trainable arrays (``weights: Float[Array2D, "in out"]``), in order.
        buffers: saved, non-trainable arrays (``Buffer[...]``).
        caches: arrays declared ``Cache[...]`` (recomputed, never saved).
        dims: config dims (``stride_h: Dim``), bound from the object's int attributes.
        inputs: ``forward``'s array arguments, in order (none without an annotated forward).
        output: ``forward``'s return annotation, or None.
    """

    params: tuple[Declared, ...] = ()
    buffers: tuple[Declared, ...] = ()
    caches: tuple[str, ...] = ()
    dims: tuple[str, ...] = ()
    inputs: tuple[Declared, ...] = ()
    output: Any = None

    @functools.cached_property
    def state(self) -> tuple[Declared, ...]:
        """Parameters and buffers: every declared array that binds dims for the checks."""
        return self.params + self.buffers

    @functools.cached_property
    def state_names(self) -> tuple[str, ...]:
        """The names of ``state``, read on every checked call."""
        return tuple(d.name for d in self.state)

    @functools.cached_property
    def key_head(self) -> Callable[[Any], list[Any]]:
        """An object's config dims and state signatures: the head of its methods' cache
        keys, and of a chain's key."""
        return _state_reader(self)

    @functools.cached_property
    def param_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.params)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of every declared array: parameters, buffers and caches."""
        return (*self.param_names, *(d.name for d in self.buffers), *self.caches)

    @property
    def input_family(self) -> str | None:
        """The dtype family ``forward`` takes (``Float``, ``Integer``, …): that of its first
        array argument; None when it has none."""
        specs = specs_of(self.inputs[0].hint) if self.inputs else []
        return specs[0].family if specs else None


def _hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception:
        return dict(inspect.get_annotations(obj))


def _marked(hint: Any, marker: object) -> Any:
    """The hint inside ``Annotated[hint, marker]``, or None."""
    if typing.get_origin(hint) is Annotated and any(m is marker for m in hint.__metadata__):
        return typing.get_args(hint)[0]
    return None


def _read_signature(cls: type) -> Signature:
    params, buffers, caches, dims = [], [], [], []
    for name, hint in _hints(cls).items():
        if typing.get_origin(hint) is typing.ClassVar:
            continue
        if typing.get_origin(hint) is Annotated and any(
            isinstance(m, _DimMarker) for m in hint.__metadata__
        ):
            dims.append(name)
        elif (inner := _marked(hint, _BUFFER)) is not None:
            buffers.append(Declared(name, inner))
        elif _marked(hint, _CACHE) is not None:
            caches.append(name)
        elif is_array_hint(hint):
            params.append(Declared(name, hint))
    inputs: list[Declared] = []
    output = None
    forward = getattr(cls, "forward", None)
    if inspect.isfunction(forward):
        hints = _hints(forward)
        parameters = list(inspect.signature(forward).parameters.values())[1:]
        inputs = [
            Declared(p.name, hints[p.name], p.default is not inspect.Parameter.empty)
            for p in parameters
            if p.name in hints and specs_of(hints[p.name])
        ]
        output = hints.get("return")
    return Signature(
        tuple(params), tuple(buffers), tuple(caches), tuple(dims), tuple(inputs), output
    )


def signature(cls: type) -> Signature:
    """The `Signature` of a class (a layer, loss or metric; any annotated class), read from
    its annotations once per class."""
    found = cls.__dict__.get("__shapenn_signature__")
    if isinstance(found, Signature):
        return found
    return _read_signature(cls)


# --- the checker -------------------------------------------------------------------------------

_FORWARD, _CONTINUE, _ALONE = "forward", "continue", "alone"
_SCOPE = "_shapenn_scope"
_UNCHECKED = _Entry(_NEVER, {}, 0)  # the scope of a forward that ran with checks off


class _Checker:
    """The check of one function or method: its annotations, read once, and its cache."""

    def __init__(self, fn: Callable[..., Any], *, anchors: Sequence[str], method: bool) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.qualname = fn.__qualname__
        self.signature = inspect.signature(fn)
        hints = _hints(fn)
        names = list(self.signature.parameters)[1 if method else 0 :]
        kinds = inspect.Parameter
        self.arguments = [
            name
            for name in names
            if self.signature.parameters[name].kind not in (kinds.VAR_POSITIONAL, kinds.VAR_KEYWORD)
        ]
        self.hints = {name: hints.get(name) for name in self.arguments}
        self.returns = hints.get("return")
        # Whether a return size is computed from the arguments' dims (``(h-kh)//stride+1``),
        # so that an input too small for it is refused before the function runs.
        self.derives = any(
            isinstance(dim, Expr) for spec in specs_of(self.returns) for dim in spec.dims
        )
        self.anchors = [a for a in anchors if a in self.arguments]
        self.order = [*self.anchors, *(a for a in self.arguments if a not in self.anchors)]
        self.method = method
        self.mode = _ALONE
        if method and self.name == "forward":
            self.mode = _FORWARD
        elif method and (self.name == "backward" or self.name.startswith("backward_")):
            self.mode = _CONTINUE
        self.cache: dict[Any, _Entry] = {}
        self.hits = self.misses = 0
        self.keyed = False  # see _checked_method
        _checkers.add(self)

    def info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.misses, len(self.cache), _KEPT)

    def is_checked(self) -> bool:
        """Whether the callable has anything to check (an annotated array, here or in self)."""
        hints = [*self.hints.values(), self.returns]
        return any(specs_of(h) for h in hints if h is not None)

    # The full check: jaxtyping + beartype decide; the dim model explains a failure.
    def full(
        self,
        where: str,
        items: list[Item],
        prebound: Bindings,
        call: Callable[[], Any],
    ) -> tuple[Any, _Entry]:
        self.misses += 1
        refused = array_rule_error(
            where, items, empty_axes=self.method, empty_batch=self.method and self.mode is _ALONE
        )
        if refused is not None:
            raise refused
        with jaxtyped("context"):
            seed_jaxtyping(prebound)
            for item in items:
                if item.hint is None:
                    continue
                try:
                    die_if_unbearable(item.value, item.hint, conf=_CONF)
                except BeartypeDoorHintViolation as violation:
                    raise explain(where, items, prebound, str(violation)) from None
            mixed = _mixed_dtypes(items)
            if mixed is not None:
                raise dtype_error(where, *mixed)
            if self.derives:
                empty = _empty_output(where, items, prebound, self.returns)
                if empty is not None:
                    raise empty
            result = call()
            if self.returns is not None:
                try:
                    die_if_unbearable(result, self.returns, conf=_CONF)
                except BeartypeDoorHintViolation as violation:
                    bindings = bind_all(items, prebound)
                    error = explain_return(where, self.returns, result, bindings, str(violation))
                    raise error from None
                upcast = _mixed_dtypes([*items, *_returned(self.returns, result)])
                if upcast is not None:
                    raise return_dtype_error(where, *upcast)
        bindings = bind_all([*items, Item("return value", self.returns, result)], prebound)
        return result, _Entry(_signature(result), bindings, next(_tokens))

    def first(
        self, key: Any, items: list[Item], prebound: Bindings, call: Callable[[], Any]
    ) -> Any:
        """The full check of a call not seen before; its signature is stored if it passes."""
        result, entry = self.full(self.qualname, items, prebound, call)
        self.store(key, entry)
        return result

    def store(self, key: Any, entry: _Entry) -> None:
        if key is None:
            return
        if len(self.cache) >= _KEPT:
            self.cache.clear()
        self.cache[key] = entry


def _empty_output(
    where: str, items: Sequence[Item], prebound: Bindings, returns: Any
) -> ShapeError | None:
    """The error for arrays too small for the function: an output axis computed from their
    dims would be below 1. It blames the first array that is not an anchor."""
    arrays = [item for item in items if specs_of(item.hint)]
    if not arrays:
        return None
    blamed = next((item for item in arrays if not item.anchor), arrays[0])
    bindings = bind_all(items, prebound)
    spec = specs_of(blamed.hint)[0]
    before = bind_all([item for item in items if item is not blamed], prebound)
    shape = getattr(blamed.value, "shape", None)
    expected = " ".join(filter(None, [spec.family_words, render_spec(spec, before, shape)]))
    return empty_output_error(where, blamed, expected, describe(blamed.value), returns, bindings)


def _returned(returns: Any, result: Any) -> list[Item]:
    """The return value as items to check: one, or one per member of a returned tuple."""
    if isinstance(result, tuple) and typing.get_origin(returns) is tuple:
        hints = typing.get_args(returns)
        if len(hints) == len(result):
            return [
                Item(f"return value [{i}]", hint, value)
                for i, (hint, value) in enumerate(zip(hints, result, strict=True))
            ]
    return [Item("return value", returns, result)]


def _mixed_dtypes(items: Sequence[Item]) -> tuple[Item, Item] | None:
    """The first floating-point array whose dtype differs from an earlier one's, if any.

    jaxtyping has no dtype variables, and a float64 input to float32 weights would make NumPy
    upcast the whole model without a word.
    """
    first: Item | None = None
    for item in items:
        value = item.value
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            continue
        # Only arrays declared floating-point: targets declared Real are cast by their user.
        if not any(s.family in ("Float", "Floating") for s in specs_of(item.hint)):
            continue
        if first is None:
            first = item
        elif value.dtype != first.value.dtype:
            return item, first
    return None


@overload
def shapechecked(fn: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def shapechecked(*, anchors: Sequence[str] = ()) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def shapechecked(
    fn: Callable[P, R] | None = None, /, *, anchors: Sequence[str] = ()
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Check a function's array annotations at every call, raising `ShapeError` on a mismatch.

    Dims named in one call — arguments and return value — must agree, as in jaxtyping; all
    floating-point arrays passed in one call must share one dtype, so a float64 array never
    silently upcasts a float32 model.

    Args:
        fn: the function to check.
        anchors: the arguments trusted to be right (e.g. a layer's own ``weights``). Dims are
            bound from these first, so an error blames the other argument: "`in` is 3 here but
            4 in `weights`", not the reverse.

    Example::

        @shapechecked(anchors=("weights",))
        def project(inputs: Float[Array2D, "batch in"], weights: Float[Array2D, "in out"]
                    ) -> Float[Array2D, "batch out"]:
            return inputs @ weights
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        fn = without_jaxtyped(fn)
        checker = _Checker(fn, anchors=anchors, method=False)
        cache = checker.cache
        hints, order = checker.hints, checker.order

        @functools.wraps(fn)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            __tracebackhide__ = True  # pytest: the caller's line is what matters
            if not _ENABLED.get():
                return fn(*args, **kwargs)
            try:
                key = _call_key([], args, kwargs)
                entry = cache.get(key)
                if entry is None:
                    first: R = checker.first(
                        key, _items(args, kwargs), {}, lambda: fn(*args, **kwargs)
                    )
                    return first
                result = fn(*args, **kwargs)
                returned = (
                    (result.shape, result.dtype)  # type: ignore[attr-defined]
                    if type(result) is _ndarray
                    else _signature(result)
                )
                if returned == entry.returns:
                    checker.hits += 1
                    return result
                # The same arguments gave another kind of result: check it, never call twice.
                checker.first(key, _items(args, kwargs), {}, lambda: result)
                return result
            except ShapeError as err:
                raise err.with_traceback(None) from None

        def _items(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Item]:
            values = checker.signature.bind(*args, **kwargs).arguments
            return [Item(n, hints[n], values.get(n), n in anchors) for n in order]

        checked.__shapenn_checker__ = checker  # type: ignore[attr-defined]
        return checked

    return decorate if fn is None else decorate(fn)


def _not_called(owner: object, name: str) -> NotReadyError:
    return NotReadyError(
        f"{owner!r}.{name} called before forward: call forward(inputs) first, "
        "so the layer has the inputs its gradient depends on"
    )


def _checked_method(
    fn: Callable[..., Any], *, scoped: bool, anchors: Sequence[str], keyed: bool = False
) -> Callable[..., Any] | None:
    """``fn`` wrapped to check its annotations against its object's parameters and config.

    ``keyed``: whether the kernels ``fn`` calls get only what its cache key covers (its
    arguments, its object's class, declared arrays and config dims): then a call whose key
    was checked before runs them unchecked, as they were checked on that first call. Not so
    for ``backward``, whose kernels also read what the last forward cached."""
    fn = without_jaxtyped(fn)
    checker = _Checker(fn, anchors=anchors, method=True)
    if not scoped:
        checker.mode = _ALONE
    if not checker.is_checked():
        return None
    cache, hints, arguments, order = checker.cache, checker.hints, checker.arguments, checker.order
    mode, name = checker.mode, checker.name
    readers: dict[type, Callable[[Any], list[Any]]] = {}  # per class: the head of its keys
    quiet = keyed and checker.mode is not _CONTINUE
    checker.keyed = keyed

    def first(self: Any, key: Any, scope: _Entry | None, args: Any, kwargs: Any, call: Any) -> Any:
        """The full check of a call not seen before, with the object's parameters, config
        dims and (for backward) the last forward's dims bound first."""
        spec = signature(type(self))
        values = checker.signature.bind(self, *args, **kwargs).arguments
        items = [
            Item(f"self.{d.name}", d.hint, getattr(self, d.name, None), True) for d in spec.state
        ]
        items += [Item(a, hints[a], values.get(a), a in anchors) for a in order]
        prebound: Bindings = {}
        for dim in spec.dims:
            size = config_size(getattr(self, dim, None))
            if size is not None:
                prebound[dim] = Bound(size, f"self.{dim}", config=True)
        if scope is not None:
            for dim, bound in scope.bindings.items():
                prebound.setdefault(dim, bound)
        result, entry = checker.full(f"{self!r}.{name}", items, prebound, call)
        if mode is _FORWARD:
            # What the arguments bound (batch, …) holds for backward: keep only those.
            entry.bindings = {
                dim: Bound(b.size, f"the last forward's `{b.source}`")
                for dim, b in entry.bindings.items()
                if b.source in arguments
            }
            self.__dict__[_SCOPE] = entry
        checker.store(key, entry)
        return result

    @functools.wraps(fn)
    def checked(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest: the caller's line is what matters
        try:
            if not _ENABLED.get():
                if mode is _FORWARD:
                    self.__dict__[_SCOPE] = _UNCHECKED
                return fn(self, *args, **kwargs)
            cls = type(self)
            scope: _Entry | None = None
            token = 0
            if mode is _CONTINUE:
                scope = self.__dict__.get(_SCOPE)
                if scope is None:
                    raise _not_called(self, name)
                token = scope.token
            read = readers.get(cls)
            if read is None:
                read = readers[cls] = signature(cls).key_head
            key = _call_key([cls, token, *read(self)], args, kwargs)
            entry = cache.get(key)
            if entry is None:
                return first(self, key, scope, args, kwargs, lambda: fn(self, *args, **kwargs))
            if quiet:
                unchecked = _ENABLED.set(False)
                try:
                    result = fn(self, *args, **kwargs)
                finally:
                    _ENABLED.reset(unchecked)
            else:
                result = fn(self, *args, **kwargs)
            returned = (
                (result.shape, result.dtype) if type(result) is _ndarray else _signature(result)
            )
            if returned != entry.returns:
                # The same arguments gave another kind of result: check it, never call twice.
                return first(self, key, scope, args, kwargs, lambda: result)
            checker.hits += 1
            if mode is _FORWARD:
                self.__dict__[_SCOPE] = entry
            return result
        except (ShapeError, LabelError) as err:
            raise _located(err, f"{self!r}.{name}").with_traceback(None) from None

    checked.__shapenn_checker__ = checker  # type: ignore[attr-defined]
    return checked


def _located(err: ShapeError | LabelError, where: str) -> ShapeError | LabelError:
    """``err`` said to come from ``where`` (``Dense(3 → 2).forward``), unless it says where."""
    if isinstance(err, ShapeError):
        return err if err.report.located else err.located_at(where)
    return err if err.where is not None else err.located_at(where)


def check_methods(cls: type, *, scoped: bool = True, anchors: Sequence[str] = ()) -> None:
    """Read ``cls``'s parameters and config dims, and check every public method it defines
    that has an array annotation. Called for each subclass of `shapenn.Layer` (scoped: the
    dims ``forward`` binds hold for ``backward``), ``Loss`` and ``Accuracy`` (not scoped;
    their predictions are the ``anchors``, trusted over the targets). A class body that sets
    ``kernels_keyed = True`` vouches that its methods' kernels get only what their cache key
    covers (see `_checked_method`)."""
    cls.__shapenn_signature__ = _read_signature(cls)  # type: ignore[attr-defined]
    # Read from the class's own body only: a subclass that overrides a method must say so
    # again for its own methods.
    keyed = vars(cls).get("kernels_keyed") is True
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        if getattr(member, "__shapenn_checker__", None) is not None:
            continue  # already checked (a method shared with a base class)
        checked = _checked_method(member, scoped=scoped, anchors=anchors, keyed=keyed)
        if checked is not None:
            setattr(cls, name, checked)


# --- a chain of calls ------------------------------------------------------------------------


@dataclass
class _Link:
    """How a chain calls one object's method: unwrapped, the head of its key, and for a
    method that continues a forward (backward) a reader of the arrays the object caches."""

    fn: Callable[..., Any]
    head: Callable[[Any], list[Any]]
    continues: bool
    state: frozenset[str]
    cached: Callable[[Any], Any] | None = None

    def learn(self, obj: Any) -> None:
        """Read which arrays ``obj`` keeps besides its state (its caches and gradients),
        once its methods have run: a later key holds their signatures, so a cache replaced
        between forward and backward is checked again."""
        # Not the gradients backward writes (dweights, dinputs): only what it reads.
        written = {"dinputs", *(f"d{name}" for name in self.state)}
        names = sorted(
            name
            for name, value in vars(obj).items()
            if isinstance(value, np.ndarray) and name not in self.state and name not in written
        )
        if names:
            self.cached = _attributes(names)


class Chain:
    """One method called along a sequence of objects, each result the next call's argument:
    a model's forward through its layers, its backward through them in reverse.

    A signature seen for the first time runs every object's checked method. When each
    object's class vouches that its kernels get only what its cache key covers
    (``kernels_keyed``), the signature of its result follows from that key; so the chain's
    key — the first argument's signature, and for each object its class, training mode,
    config dims and state, and for a method that continues a forward the token of that
    forward and the signatures of what it cached — decides the whole chain. Calls with a key
    checked before run the objects' unwrapped methods, giving each the forward token a
    checked call would have given it. This is the cache of every checked method, kept once
    per chain instead of once per call.
    """

    def __init__(self) -> None:
        self._seen: dict[Any, tuple[Any, list[Any]]] = {}
        self._links: dict[tuple[type, str], _Link | None] = {}
        self.hits = self.misses = 0

    def __call__(self, calls: Sequence[tuple[Any, str]], value: Any) -> Any:
        """``value`` through ``getattr(obj, name)`` for each (obj, name) of ``calls``."""
        __tracebackhide__ = True
        if not _ENABLED.get():
            for obj, name in calls:
                value = getattr(obj, name)(value)
            return value
        key, links = self._key(calls, value)
        found = self._seen.get(key) if key is not None else None
        if found is None:
            self.misses += 1
            for obj, name in calls:
                value = getattr(obj, name)(value)
            for (obj, _), link in zip(calls, links, strict=False):
                if link.continues and link.cached is None:
                    link.learn(obj)
            if key is not None:
                scopes = [obj.__dict__.get(_SCOPE) for obj, _ in calls]
                if len(self._seen) >= _KEPT:
                    self._seen.clear()
                self._seen[key] = (_signature(value), scopes)
            return value
        returns, scopes = found
        unchecked = _ENABLED.set(False)
        try:
            for (obj, name), link, scope in zip(calls, links, scopes, strict=True):
                try:
                    value = link.fn(obj, value)
                except (ShapeError, LabelError) as err:  # a value the kernel refuses
                    raise _located(err, f"{obj!r}.{name}").with_traceback(None) from None
                if not link.continues:
                    obj.__dict__[_SCOPE] = scope  # what backward's check reads
        finally:
            _ENABLED.reset(unchecked)
        if _signature(value) != returns:  # cannot happen for keyed classes; if it did,
            del self._seen[key]  # the next call checks every object again
        self.hits += 1
        return value

    def _key(self, calls: Sequence[tuple[Any, str]], value: Any) -> tuple[Any, list[_Link]]:
        """The chain's key (None when an object is not keyed) and how to call each object."""
        parts = [_signature(value)]
        links: list[_Link] = []
        key_broken = False
        for obj, name in calls:
            cls = type(obj)
            if (cls, name) not in self._links:
                self._links[(cls, name)] = _link(cls, name)
            link = self._links[(cls, name)]
            if link is None:
                return None, []
            links.append(link)
            if key_broken:
                continue
            parts += link.head(obj)
            parts.append(getattr(obj, "training", None))
            if link.continues:
                scope = obj.__dict__.get(_SCOPE)
                if scope is None or link.cached is None:
                    key_broken = True
                    continue
                parts.append(scope.token)
                try:
                    parts += _signatures(link.cached(obj))
                except AttributeError:
                    key_broken = True
        if key_broken or None in parts:
            return None, links
        return tuple(parts), links


def _link(cls: type, name: str) -> _Link | None:
    """How a chain calls ``cls.<name>``; None unless the method is checked and keyed."""
    checker = getattr(getattr(cls, name, None), "__shapenn_checker__", None)
    if not isinstance(checker, _Checker) or not checker.keyed:
        return None
    spec = signature(cls)
    return _Link(checker.fn, spec.key_head, checker.mode is _CONTINUE, frozenset(spec.state_names))
