"""What every layer shares: declared state, checked methods, config, and the one walk over state.

A layer is written with annotations only::

    class Scale(Layer):
        scale: Float[Array2D, "1 n"]          # a parameter; its gradient is `dscale`

        def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]: ...
        def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]: ...

Defining the class is enough: its methods are checked against its parameters (a (5, 3) input
to ``Scale(4)`` is a ShapeError naming ``self.scale``), its output shape is inferred from the
annotations when a model is built, and it is registered so models holding it save and load.

**State.** A layer's state is what its class declares — parameters (array annotations),
buffers (``Buffer[...]``: saved, never trained) — and its sub-layers: any attribute that is a
Layer, or a list or tuple of Layers, is owned, and its state is part of its owner's. One walk,
`Layer.named_layers`, finds them all with dotted names (``block.norm.gamma``); parameters,
buffers, training mode, the optimizer, saving, gradient checks, summaries and export all go
through it. A parameter's gradient is the attribute ``d<name>`` (the book's ``dweights``),
and `Parameter.grad` is the only place that knows it.
"""

import copy
import functools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .._registry import JSONValue, Registered
from ..shapes import (
    UNKNOWN,
    ArgumentError,
    ArrayND,
    Fixed,
    Inferred,
    Named,
    NotReadyError,
    ShapeError,
    Size,
    Variadic,
    check_methods,
    infer_output,
    input_spec,
    signature,
)

__all__ = ["BufferRef", "Layer", "Parameter"]

#: The caches every layer may keep: the book's ``inputs``, ``output`` and ``dinputs``.
CACHES = ("inputs", "output", "dinputs")
_CONSTRUCTED = "_shapenn_constructed"  # the arrays a layer held when __init__ returned


class Parameter(NamedTuple):
    """A trainable array of a layer, as the walk finds it.

    Attributes:
        layer: the layer that holds it (a sub-layer's own, for an owned layer's parameter).
        name: its attribute on that layer (``weights``).
        path: its dotted name from where the walk started (``block.dense.weights``).
    """

    layer: "Layer"
    name: str
    path: str = ""

    @property
    def value(self) -> ArrayND:
        array: ArrayND = getattr(self.layer, self.name)
        return array

    @property
    def grad(self) -> ArrayND:
        """The gradient of the last ``backward``: the attribute ``d<name>`` (the book's names,
        ``dweights`` for ``weights``)."""
        array: ArrayND = getattr(self.layer, "d" + self.name)
        return array

    def assign(self, array: ArrayND) -> None:
        """Make ``array`` the parameter's value (the layer then holds this very array)."""
        setattr(self.layer, self.name, array)


class BufferRef(NamedTuple):
    """A non-trainable array a layer keeps and saves (a running mean), as the walk finds it."""

    layer: "Layer"
    name: str
    path: str = ""

    @property
    def value(self) -> ArrayND:
        array: ArrayND = getattr(self.layer, self.name)
        return array

    def assign(self, array: ArrayND) -> None:
        setattr(self.layer, self.name, array)


def _recording(init: Callable[..., None]) -> Callable[..., None]:
    """``__init__`` that notes, when the outermost constructor returns, which attributes hold
    arrays: those are state (and must be declared to be saved); arrays set later are caches."""

    @functools.wraps(init)
    def __init__(self: "Layer", *args: Any, **kwargs: Any) -> None:
        outermost = "_shapenn_building" not in self.__dict__
        if outermost:
            self.__dict__["_shapenn_building"] = True
        try:
            init(self, *args, **kwargs)
        finally:
            if outermost:
                del self.__dict__["_shapenn_building"]
        if outermost:
            self.__dict__[_CONSTRUCTED] = frozenset(
                name for name, value in vars(self).items() if isinstance(value, np.ndarray)
            )

    return __init__


class Layer(Registered):
    """A step of a network: ``forward`` computes ``output``, ``backward`` the input gradient.

    Subclasses declare their parameters (and buffers, ``Buffer[...]``) as class annotations
    with named dims and annotate ``forward`` and ``backward``; no decorator is needed. After
    ``forward`` a layer keeps ``inputs`` and ``output``; after ``backward``, ``dinputs`` and
    ``d<param>`` for each parameter (the names of the nnfs book). A layer whose attributes are
    layers owns them (see the module's notes on state).

    Attributes:
        training: whether the layer is in training mode (Dropout reads it); set it for a
            layer and everything it owns with `set_training`.
        inputs, output, dinputs: the caches of the last forward and backward.
    """

    registry_kind: ClassVar[str] = "layer"

    #: Training mode: layers that behave differently in training (Dropout) read it.
    training: bool = True
    #: Set True in a class body when that class's methods pass their kernels only their
    #: arguments and the layer's declared arrays and config: a call with a signature already
    #: checked then runs those kernels unchecked (they were checked on its first call). Read
    #: from the class's own body, never inherited; a layer that owns layers leaves it False.
    kernels_keyed: ClassVar[bool] = False

    # The book's caches. Typed as arrays (not Optional) so that book-style code such as
    # ``dense2.forward(activation1.output)`` type-checks; reading one before it exists is a
    # clear NotReadyError (see __getattr__).
    inputs: ArrayND
    output: ArrayND
    dinputs: ArrayND

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_methods(cls)
        if "__init__" in vars(cls):
            # setattr, so that type checkers keep the class's own __init__ signature
            setattr(cls, "__init__", _recording(vars(cls)["__init__"]))  # noqa: B010

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes that do not exist.
        params = signature(type(self)).param_names
        if name in CACHES or (name.startswith("d") and name[1:] in params):
            step = "backward(dvalues)" if name.startswith("d") else "forward(inputs)"
            raise NotReadyError(f"{self!r} has no `{name}` yet: call {step} first")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, inputs: Any) -> Any:
        """Compute ``output`` from ``inputs``."""
        raise NotImplementedError

    def backward(self, dvalues: Any) -> Any:
        """Compute ``dinputs`` (and parameter gradients) from the gradient of ``output``."""
        raise NotImplementedError

    def backward_parameters(self, dvalues: Any) -> None:
        """The parameter gradients alone, for a first layer whose input gradient nobody needs.

        The same as ``backward`` unless a layer can skip work (Dense skips a matrix product).
        """
        self.backward(dvalues)

    def _cache(self, **arrays: Any) -> None:
        """Keep arrays of this call for ``backward`` (``inputs``, ``output``, ``dinputs``):
        ``self.inputs = inputs``, written so that in a method generic in the rank (taking
        ``Batched``) type checkers keep the attributes' declared type."""
        vars(self).update(arrays)

    # --- the walk over state -----------------------------------------------------------------

    def children(self) -> Iterator[tuple[str, "Layer"]]:
        """The layers this one owns directly, with their names: an attribute that is a
        Layer (``norm``), or each item of a list or tuple of Layers (``blocks.0``)."""
        # A snapshot: a training step in another thread may add a cache attribute meanwhile.
        for name, value in list(vars(self).items()):
            if isinstance(value, Layer):
                yield name, value
            elif isinstance(value, list | tuple) and value and isinstance(value[0], Layer):
                for index, item in enumerate(value):
                    if isinstance(item, Layer):
                        yield f"{name}.{index}", item

    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, "Layer"]]:
        """This layer (named ``prefix``) and every layer it owns, depth first, with dotted
        names: the one walk over a model's state."""
        yield prefix, self
        for name, child in self.children():
            yield from child.named_layers(f"{prefix}.{name}" if prefix else name)

    def parameters(self, prefix: str = "") -> list[Parameter]:
        """The trainable parameters of this layer and of the layers it owns, in order, each
        with its dotted path (prefixed with ``prefix``)."""
        found = []
        for path, layer in self.named_layers(prefix):
            for declared in signature(type(layer)).params:
                name = declared.name
                found.append(Parameter(layer, name, f"{path}.{name}" if path else name))
        return found

    def buffers(self, prefix: str = "") -> list[BufferRef]:
        """The buffers (saved, non-trainable arrays) of this layer and the layers it owns."""
        found = []
        for path, layer in self.named_layers(prefix):
            for declared in signature(type(layer)).buffers:
                name = declared.name
                found.append(BufferRef(layer, name, f"{path}.{name}" if path else name))
        return found

    def state_arrays(self, prefix: str = "") -> list[Parameter | BufferRef]:
        """Every array this layer and the layers it owns keep: parameters, then buffers (what
        a saved model holds, like PyTorch's ``state_dict``)."""
        return [*self.parameters(prefix), *self.buffers(prefix)]

    def set_training(self, training: bool) -> None:
        """Set training mode for this layer and every layer it owns."""
        for _, layer in self.named_layers():
            layer.training = training

    def undeclared_arrays(self) -> list[str]:
        """The dotted names of arrays this layer (or one it owns) set in ``__init__`` without
        declaring them as parameters or buffers: state that saving would lose."""
        found = []
        for path, layer in self.named_layers():
            spec = signature(type(layer))
            known = {*spec.names, *spec.caches, *CACHES, *(f"d{n}" for n in spec.param_names)}
            for name in sorted(layer.__dict__.get(_CONSTRUCTED, ())):
                if name not in known and isinstance(layer.__dict__.get(name), np.ndarray):
                    found.append(f"{path}.{name}" if path else name)
        return found

    def unset_state(self) -> list[tuple[str, str]]:
        """The parameters and buffers this layer (or one it owns) declares but does not hold
        as an array (never set, or set to something else), as (dotted name, ``"parameter"``
        or ``"buffer"``): training and saving would fail on them far from the cause."""
        found = []
        for path, layer in self.named_layers():
            spec = signature(type(layer))
            for declared in spec.state:
                try:
                    value = getattr(layer, declared.name)
                except AttributeError:  # NotReadyError included: read before it is set
                    value = None
                if not isinstance(value, np.ndarray):
                    kind = "parameter" if declared in spec.params else "buffer"
                    found.append((f"{path}.{declared.name}" if path else declared.name, kind))
        return found

    def regularization_loss(self) -> float:
        """The penalty this layer adds to the loss: by default, that of the layers it owns."""
        return sum((child.regularization_loss() for _, child in self.children()), 0.0)

    # --- shapes before data ------------------------------------------------------------------

    def input_shape(self) -> tuple[Size, ...] | None:
        """The simplest shape ``forward`` accepts, as far as the parameters tell: ``(batch,
        2)`` for ``Dense(2, 64)`` (whose ``*positions`` may hold more axes), ``?`` for a size
        only data can tell; None when not even the rank is known (no annotation, or any
        number of axes with nothing after them)."""
        found = input_spec(self)
        if found is None:
            return None
        _, spec, known = found
        shape: list[Size] = []
        for dim in spec.dims:
            if isinstance(dim, Fixed):
                shape.append(dim.size)
            elif isinstance(dim, Named) and dim.name in known:
                shape.append(known[dim.name].size)  # type: ignore[arg-type]
            elif isinstance(dim, Named):
                shape.append(dim.name if dim.name == "batch" else UNKNOWN)
            elif isinstance(dim, Variadic):
                if dim is spec.dims[-1]:
                    return None  # "batch *features": nothing says which rank
            else:
                shape.append(UNKNOWN)
        return tuple(shape)

    def compute_output_shape(self, input_shape: tuple[Size, ...]) -> tuple[Size, ...] | None:
        """The output shape for a symbolic input shape such as ``("batch", 2)``; None when it
        cannot be known before data.

        Read from the annotations of the parameters and of ``forward``; when they do not
        determine it, ``forward`` is traced on one sample of zeros. Override only for a layer
        that can be neither described nor traced.

        Raises:
            ShapeError: the input shape does not fit the layer, in the run-time check's words.
        """
        inferred = self._infer(input_shape)
        return None if inferred is None else inferred.shape

    def infer_output(self, input_shape: tuple[Size, ...]) -> Inferred | None:
        """``compute_output_shape`` with the arithmetic behind each derived size (none when a
        subclass overrides ``compute_output_shape``, which then has the last word)."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shape = self.compute_output_shape(input_shape)
            return None if shape is None else Inferred(tuple(shape), [])
        return self._infer(input_shape)

    def _infer(self, input_shape: tuple[Size, ...]) -> Inferred | None:
        inferred = infer_output(self, input_shape)
        if inferred is not None and UNKNOWN not in inferred.shape:
            return inferred
        traced = self._trace(input_shape)
        return Inferred(traced, []) if traced is not None else inferred

    def input_dtype(self) -> np.dtype[Any]:
        """The dtype ``forward`` takes: int64 where its signature says integers (token ids),
        else the dtype of the first parameter (float32 without one)."""
        if signature(type(self)).input_family == "Integer":
            return np.dtype(np.int64)
        return next((p.value.dtype for p in self.parameters()), np.dtype(np.float32))

    def _trace(self, input_shape: tuple[Size, ...]) -> tuple[Size, ...] | None:
        """Run ``forward`` on one sample of zeros, in inference mode, leaving the layer (and
        every layer it owns) as it was; None if the input shape is not fully known."""
        sample = [1 if s == "batch" else s for s in input_shape]
        sizes = [s for s in sample if isinstance(s, int)]
        if len(sizes) != len(sample):
            return None
        layers = [layer for _, layer in self.named_layers()]
        saved = [dict(layer.__dict__) for layer in layers]
        generators = [
            {k: copy.deepcopy(v) for k, v in state.items() if isinstance(v, np.random.Generator)}
            for state in saved
        ]
        try:
            self.set_training(False)
            output = self.forward(np.zeros(sizes, dtype=self.input_dtype()))
        except ShapeError:
            raise
        except Exception:  # a forward that cannot run on zeros: unknown until data
            return None
        finally:
            for layer, state, rngs in zip(layers, saved, generators, strict=True):
                layer.__dict__.clear()
                layer.__dict__.update(state | rngs)
        shape = tuple(np.shape(output))
        return (input_shape[0], *shape[1:]) if shape else None

    # --- export ------------------------------------------------------------------------------

    def export_onnx(self, graph: Any, inputs: str) -> str:
        """Add the ONNX nodes that compute this layer's inference output from the tensor
        named ``inputs`` to ``graph`` (a ``shapenn.export.OnnxGraph``); return the name of
        the output tensor. Not defined for this layer unless a subclass defines it."""
        raise NotImplementedError

    def export_torch(self, torch: Any) -> Any:
        """This layer as a ``torch.nn.Module`` holding copies of its parameters (``torch`` is
        the imported module). Not defined for this layer unless a subclass defines it."""
        raise NotImplementedError

    # --- saving ------------------------------------------------------------------------------

    def get_state(self) -> dict[str, JSONValue]:
        """State beyond arrays and config that a saved model keeps (none by default;
        Dropout keeps its random generator's state). Only this layer's own: the layers it
        owns are asked themselves."""
        return {}

    def set_state(self, state: dict[str, JSONValue]) -> None:
        """Restore ``get_state()``'s output."""
        if state:
            raise ArgumentError(f"{self!r} keeps no state, got {sorted(state)}")
