"""ONNX and PyTorch export: a walk over the model's layers, each adding itself.

The shapes written into the graph are the annotations' alone: the input is the declared
``input_shape`` or what the first layer's annotation and parameters fix, every other size a
symbolic dim; each layer's output is inferred from there by the shape engine. The data a
model has seen never pins a size in the exported graph.
"""

import importlib
import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._files import check_writable, write_atomically
from ..layers import Layer
from ..model import Model
from ..shapes import (
    UNKNOWN,
    ArgumentError,
    Fixed,
    MissingDependencyError,
    Named,
    PathError,
    ShapennError,
    Size,
    Variadic,
    input_spec,
)

__all__ = ["ExportError", "OnnxGraph", "register", "to_onnx", "to_torch", "to_torch_program"]

#: The ONNX operator set the exported graphs use by default (onnxruntime has run it since
#: 1.14).
OPSET = 17
#: The operator sets ``to_onnx`` writes: from MIN_OPSET (LayerNormalization's first) to
#: MAX_OPSET (the newest checked against onnxruntime), and no newer than the installed
#: ``onnx`` defines. The built-in layers' nodes mean the same in each of them.
MIN_OPSET = 17
MAX_OPSET = 28

#: ONNX operators that onnxruntime (1.14 to 1.32, CPU) implements for float32 but not
#: float64: a float64 graph holding one cannot run there.
NO_FLOAT64 = frozenset(
    {
        "AveragePool",
        "Celu",
        "Conv",
        "ConvTranspose",
        "Elu",
        "Erf",
        "GlobalAveragePool",
        "GlobalLpPool",
        "GlobalMaxPool",
        "GRU",
        "HardSigmoid",
        "HardSwish",
        "Hardmax",
        "InstanceNormalization",
        "LRN",
        "LSTM",
        "LpPool",
        "Mean",
        "Selu",
        "Softplus",
        "Softsign",
        "ThresholdedRelu",
    }
)

#: A serialized ONNX model is one protobuf message, which cannot exceed 2 GiB.
MAX_BYTES = 2**31 - 2**20

_KINDS = {"onnx": "ONNX", "torch": "PyTorch"}
_SIGNATURES = {
    "onnx": "rule(layer, graph, inputs) -> the name of its output",
    "torch": "rule(layer, torch) -> a torch.nn.Module",
}
_RULES: dict[type, dict[str, Callable[..., Any]]] = {}

Shape = tuple[Size, ...]


class ExportError(ShapennError, ValueError):
    """The model cannot be exported as it is: a layer with no export rule, a rule that does not
    keep to its contract, a parameter that is not finite, or a graph the target cannot run.
    The message names the layer and what to do."""


ExportError.__module__ = "shapenn.export"


def register(
    layer_type: type[Layer],
    *,
    onnx: Callable[[Any, "OnnxGraph", str], str] | None = None,
    torch: Callable[[Any, Any], Any] | None = None,
) -> None:
    """Give a layer type export rules without editing it (a layer you own can instead define
    ``export_onnx`` and ``export_torch``).

    Args:
        layer_type: the layer class; its subclasses use the rules too, unless they have their
            own.
        onnx: ``rule(layer, graph, inputs)``: add the layer's nodes to ``graph`` (an
            `OnnxGraph`) from the tensor named ``inputs``; return the name of the output.
        torch: ``rule(layer, torch)``: the layer as a ``torch.nn.Module`` (``torch`` is the
            imported module).

    Raises:
        ArgumentError: ``layer_type`` is not a Layer class, or a rule is not callable.
    """
    if not (isinstance(layer_type, type) and issubclass(layer_type, Layer)):
        raise ArgumentError(f"register: {layer_type!r} is not a shapenn Layer class")
    for kind, rule in (("onnx", onnx), ("torch", torch)):
        if rule is not None and not callable(rule):
            raise ArgumentError(
                f"register: {kind} must be a function {_SIGNATURES[kind]}, got {_shown(rule)}"
            )
    rules = _RULES.setdefault(layer_type, {})
    for kind, rule in (("onnx", onnx), ("torch", torch)):
        if rule is not None:
            rules[kind] = rule


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    try:
        text = repr(value)
    except Exception:  # a repr that fails, or an int too long to print
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Rule:
    """A layer's export rule of one kind, and how to name it in an error."""

    def __init__(self, layer: Layer, function: Callable[..., Any], name: str) -> None:
        self.layer, self.function, self.name = layer, function, name

    def __call__(self, *args: Any) -> Any:
        return self.function(self.layer, *args)


def _rule(layer: Layer, index: int, kind: str) -> _Rule:
    """The export rule of ``kind`` for ``layer``: a registered one, else its own method."""
    for cls in type(layer).__mro__:
        found = _RULES.get(cls, {}).get(kind)
        if found is not None:
            label = getattr(found, "__qualname__", None) or _shown(found)
            return _Rule(layer, found, f"the rule {label} registered for {cls.__name__}")
        if f"export_{kind}" in vars(cls):  # the class's own rule is nearer than a base's
            break
    method = getattr(type(layer), f"export_{kind}")
    if method is not getattr(Layer, f"export_{kind}"):
        owner = getattr(method, "__qualname__", f"{type(layer).__name__}.export_{kind}")
        return _Rule(layer, method, owner)
    name = type(layer).__name__
    raise ExportError(
        f"layers[{index}] {layer!r} has no {_KINDS[kind]} export rule. Define "
        f"`export_{kind}` on {name} (see Layer.export_{kind}), or register one: "
        f"`shapenn.export.register({name}, {kind}=rule)` with {_SIGNATURES[kind]}"
    )


def _optional(module: str, extra: str) -> Any:
    # By name: neither package's types are needed by shapenn's users.
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"exporting needs {module}: pip install {extra}") from None


# --- the arguments ---------------------------------------------------------------------------


def _model(owner: str, model: object) -> Model:
    """``model`` if it is a shapenn Model; an ArgumentError saying what to pass else."""
    if isinstance(model, Model):
        return model
    if isinstance(model, Layer):
        raise ArgumentError(
            f"{owner}: model must be a shapenn Model, got the layer {_shown(model)}: export "
            f"it as a one-layer model, {owner}(sn.Model([layer]), ...)"
        )
    if isinstance(model, type) and issubclass(model, Model | Layer):
        raise ArgumentError(
            f"{owner}: model must be a shapenn Model instance, got the class "
            f"{model.__name__}: build it first, sn.Model([...])"
        )
    raise ArgumentError(
        f"{owner}: model must be a shapenn Model, got {_shown(model)}: build one with "
        "sn.Model([...]) or load one with sn.load(path)"
    )


def _path(owner: str, path: object) -> str | os.PathLike[str]:
    """``path`` if it names a file as a str or an os.PathLike of str; an ArgumentError else.
    Then checked writable (a PathError if not), before any work."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str):
        raise ArgumentError(
            f"{owner}: path must be a file name, a str or a pathlib.Path, got {_shown(path)}"
        )
    if not text or "\0" in text:
        what = "is empty" if not text else "holds a NUL character"
        raise ArgumentError(f"{owner}: path {what} ({_shown(path)}): give a file name")
    checked: str | os.PathLike[str] = path if isinstance(path, os.PathLike) else text
    _writing(checked, lambda: check_writable(checked))
    return checked


def _writing(path: str | os.PathLike[str], action: Callable[[], Any]) -> Any:
    """``action()``, with an OSError it raises (a name too long, a full disk) as a
    PathError naming ``path``."""
    try:
        return action()
    except ShapennError:
        raise
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise PathError(f"cannot write {os.fspath(path)}: {reason}") from None


def _opset(opset: object, newest: int) -> int:
    """``opset`` as an int the exporter writes; an ArgumentError listing the range else."""
    high = min(MAX_OPSET, newest)
    number = None
    if isinstance(opset, numbers.Integral | np.integer) and not isinstance(opset, bool | np.bool_):
        number = int(opset)
    if number is None or not MIN_OPSET <= number <= high:
        raise ArgumentError(
            f"to_onnx: opset must be an int from {MIN_OPSET} to {high}, the ONNX operator "
            f"sets this exporter writes (default {OPSET}; onnxruntime 1.14 and later run "
            f"it), got {_shown(opset)}"
        )
    return number


def _check_finite(owner: str, model: Model) -> None:
    """Refuse a model holding NaN or infinite values, as ``sn.save`` does."""
    for index, layer in enumerate(model.layers):
        for stored in layer.state_arrays(f"layers.{index}"):
            value = np.asarray(stored.value)
            if value.dtype.kind in "fc" and not np.isfinite(value).all():
                name = stored.path.removeprefix(f"layers.{index}.")
                raise ExportError(_not_finite(owner, index, layer, name))


def _not_finite(owner: str, index: int, layer: Layer, name: str) -> str:
    return (
        f"{owner}: cannot export layers[{index}] {layer!r}: `{name}` holds NaN or infinite "
        "values, which would make every prediction NaN (sn.save refuses them too); train "
        "again with a lower learning rate, or load a saved copy"
    )


# --- the shapes the annotations give ---------------------------------------------------------


def _axes(spec: Any, rank: int) -> list[tuple[Any, str | None]] | None:
    """The dims of an input ``spec`` for an input of ``rank`` axes, one per axis, each with
    the name of its symbolic dim (a variadic dim's axes numbered: ``positions_1``, …); None if
    the spec cannot have ``rank`` axes."""
    dims = list(spec.dims)
    where = spec.variadic
    if where is None:
        if len(dims) != rank:
            return None
        return [(dim, dim.name if isinstance(dim, Named) else None) for dim in dims]
    count = rank - (len(dims) - 1)
    if count < 0:
        return None
    variadic = dims[where]
    name = variadic.name if isinstance(variadic, Variadic) else None
    spread: list[tuple[Any, str | None]] = [
        (variadic, None if name is None else name if count == 1 else f"{name}_{k + 1}")
        for k in range(count)
    ]
    named = [(dim, dim.name if isinstance(dim, Named) else None) for dim in dims]
    return [*named[:where], *spread, *named[where + 1 :]]


def _fixed(dim: Any, known: Any) -> int | None:
    """The size an annotation dim fixes before data: a literal, or a dim the layer's own
    parameters or config bind."""
    if isinstance(dim, Fixed):
        return dim.size
    if isinstance(dim, Named) and dim.name in known:
        size = known[dim.name].size
        return size if isinstance(size, int) else None
    return None


def _refine(layer: Layer, shape: Shape) -> Shape:
    """``shape`` with each open size that ``layer``'s input annotation fixes filled in (a
    Dense fixes the size a Flatten before it gives)."""
    if UNKNOWN not in shape:
        return shape
    try:
        found = input_spec(layer)
    except ShapennError:
        return shape
    axes = _axes(found[1], len(shape)) if found is not None else None
    if found is None or axes is None:
        return shape
    sizes = [
        _fixed(dim, found[2]) if size == UNKNOWN else None
        for size, (dim, _) in zip(shape, axes, strict=True)
    ]
    return tuple(size if fixed is None else fixed for size, fixed in zip(shape, sizes, strict=True))


def _input(owner: str, model: Model) -> tuple[Shape, list[str | None]]:
    """The exported input's shape and its dims' names: ``("batch", *input_shape)`` when the
    model declares one; else what the first layer's annotation and parameters fix, every
    other size open (``?``) and named after its dim. A rank the annotation leaves open
    (``*positions``) is the one the model is built for."""
    if model.input_shape is not None:
        return ("batch", *model.input_shape), []
    built = model.sample_shape
    if built is None:
        raise ExportError(
            f"{owner}: the number of axes of {model!r}'s input is unknown before data: its "
            "first layer takes any; give the model input_shape=... (the shape of one sample)"
        )
    rank = 1 + len(built)
    try:
        found = input_spec(model.layers[0])
    except ShapennError:
        found = None
    axes = _axes(found[1], rank) if found is not None else None
    if found is None or axes is None:
        return ("batch", *[UNKNOWN] * (rank - 1)), []
    shape: list[Size] = ["batch"]
    names: list[str | None] = ["batch"]
    for dim, name in axes[1:]:
        size = _fixed(dim, found[2])
        shape.append(UNKNOWN if size is None else size)
        names.append(name)
    return tuple(shape), names


def _outputs(model: Model, first: Shape) -> list[Shape | None]:
    """Each layer's output shape for the input ``first``, from the annotations alone (None
    where they do not tell)."""
    shape: Shape | None = first
    found: list[Shape | None] = []
    for index, layer in enumerate(model.layers):
        if shape is not None:
            try:
                inferred = layer.infer_output(_refine(layer, shape))
            except Exception:  # the engine cannot tell: ONNX's shape inference may
                inferred = None
            shape = tuple(inferred.shape) if inferred is not None else None
            if shape is not None and index + 1 < len(model.layers):
                shape = _refine(model.layers[index + 1], shape)
        found.append(shape)
    return found


def _dims(shape: Shape, names: Sequence[str | None]) -> list[int | str | None]:
    """ONNX dims for a shape: sizes as they are, the batch and open sizes as symbolic dims
    named after the annotations (unnamed where no name is known)."""
    dims: list[int | str | None] = []
    for axis, size in enumerate(shape):
        if isinstance(size, int):
            dims.append(size)
        elif size == UNKNOWN:
            dims.append(names[axis] if axis < len(names) else None)
        else:
            dims.append(str(size))
    return dims


# --- ONNX --------------------------------------------------------------------------------


class OnnxGraph:
    """The ONNX graph being built, as a layer's ``export_onnx`` sees it: ``add`` a node,
    ``constant`` an array (a layer's parameter). Names are prefixed with the layer's place
    in the model (``layers.0.weights``), so the graph reads like the model."""

    def __init__(self, onnx: Any, dtype: np.dtype[Any]) -> None:
        self._onnx = onnx
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.prefix: str = "input"
        self._count = 0
        self._names: set[str] = {"input"}
        self._where = "the graph"
        self._bytes = 0

    def add(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        """Append the node ``op_type(inputs, **attributes)``; return its output's name."""
        if not isinstance(op_type, str) or not op_type:
            raise ExportError(f"{self._where}: graph.add needs an ONNX op type, got {op_type!r}")
        if isinstance(inputs, str) or not all(isinstance(name, str) for name in inputs):
            raise ExportError(
                f"{self._where}: graph.add({op_type!r}, inputs) needs a list of tensor "
                f"names, got {_shown(inputs)}"
            )
        for name in inputs:
            if name and not self._knows(name):
                raise ExportError(
                    f"{self._where}: its {op_type} node reads the tensor {name!r}, which is "
                    "neither the layer's input nor made by a node or constant before it; pass "
                    "the `inputs` the rule was given or a name graph.add/graph.constant returned"
                )
        self._count += 1
        name = f"{self.prefix}.{op_type.lower()}" + (f".{self._count}" if self._count > 1 else "")
        try:
            node = self._onnx.helper.make_node(op_type, inputs, [name], name=name, **attributes)
        except Exception as err:
            raise ExportError(
                f"{self._where}: its {op_type} node cannot be made ({type(err).__name__}: "
                f"{err}); check the attributes {sorted(attributes)}"
            ) from None
        self.nodes.append(node)
        self._names.add(name)
        return name

    def constant(self, name: str, array: np.ndarray[Any, np.dtype[Any]]) -> str:
        """Store ``array`` in the graph under the layer's prefix; return its name.

        Raises:
            ExportError: the array holds NaN or infinite values, or is not numbers.
        """
        full = f"{self.prefix}.{name}"
        try:
            value = np.ascontiguousarray(array, dtype=self.dtype)
        except (TypeError, ValueError) as err:
            raise ExportError(
                f"{self._where}: the constant `{name}` is not an array of numbers ({err})"
            ) from None
        if not np.isfinite(value).all():
            raise ExportError(
                f"{self._where}: cannot export the constant `{name}`: it holds NaN or "
                "infinite values (sn.save refuses them too); give finite values"
            )
        if full in self._names:
            raise ExportError(
                f"{self._where}: the constant `{name}` is stored twice; give each its own name"
            )
        self._bytes += value.nbytes
        self.initializers.append(self._onnx.numpy_helper.from_array(value, full))
        self._names.add(full)
        return full

    def _enter(self, index: int, where: str = "") -> None:
        self.prefix, self._count = f"layers.{index}", 0
        self._where = where or f"layers[{index}]"

    def _knows(self, name: str) -> bool:
        """Whether ``name`` is the input, a constant or a node's output (nodes and constants
        a rule appended itself included)."""
        return (
            name in self._names
            or any(name in node.output for node in self.nodes)
            or any(name == tensor.name for tensor in self.initializers)
        )


def _float64_refusal(graph: OnnxGraph, model: Model) -> ExportError | None:
    """An ExportError for a float64 graph holding a node onnxruntime runs in float32 only."""
    if graph.dtype != np.float64:
        return None
    for node in graph.nodes:
        if node.op_type in NO_FLOAT64:
            parts = node.name.split(".")
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
            if not 0 <= index < len(model.layers):
                index = 0
            layer = model.layers[index]
            return ExportError(
                f"to_onnx: layers[{index}] {layer!r} computes in float64, and onnxruntime "
                f"(1.14 to 1.32, CPU) has no float64 kernel for the ONNX {node.op_type} it "
                "exports to (nor for AveragePool, ConvTranspose or the global pools: it runs "
                "them in float32 only), so the graph would not run there. Export a float32 "
                "model (the same layers built with dtype=np.float32, the weights copied in "
                "with .astype(np.float32)), or export to PyTorch with to_torch, which computes "
                "in float64"
            )
    return None


def _layer_of(message: str, rules: Sequence[_Rule]) -> str:
    """Whose nodes ``message`` (onnx's) is about: the layer of the first node name
    ``layers.i.…`` in it, the last layer for the output node, else the graph."""
    for index in range(len(rules) - 1, -1, -1):
        if f"layers.{index}." in message:
            break
    else:
        if "node name: output" not in message and "Name: output" not in message:
            return "the graph is"
        index = len(rules) - 1
    return f"the nodes of layers[{index}] {rules[index].layer!r} ({rules[index].name}) are"


def to_onnx(model: Model, path: str | os.PathLike[str], *, opset: int = OPSET) -> Path:
    """Write ``model`` as an ONNX model for inference, checked by ``onnx.checker``.

    The graph computes ``model.predict``: Dropout is left out, Softmax stays. Its input is
    named ``input`` and its output ``output``. Every dim comes from the model's annotations,
    never from the data it has seen: the batch axis is the symbolic dim ``batch``, a size the
    model leaves open (an image's height and width without ``input_shape``) is a symbolic dim
    named after its annotation (``h``, ``w``), and a size is fixed only where the model fixes
    it (``input_shape``, a layer's parameters, a Dense fixing what a Flatten before it
    gives). An ONNX input has a fixed number of axes: where the annotations leave it open
    (``Dense``'s ``batch *positions in``), it is the one the model is built for, from its
    ``input_shape``, else the data it last saw (whose sizes stay open), else the fewest. The
    file is written atomically.

    Args:
        model: the model; a single layer is exported as ``sn.Model([layer])``.
        path: the file to write.
        opset: the ONNX operator set, an int from MIN_OPSET (17) to MAX_OPSET (28, or the
            newest the installed ``onnx`` defines).

    Raises:
        ArgumentError: ``model`` is not a Model, ``path`` not a file name, ``opset`` out of
            range.
        ExportError: a layer has no ONNX export rule (see `register`) or its rule breaks its
            contract; a parameter holds NaN or infinite values; a float64 model holds a node
            onnxruntime runs in float32 only (Conv, AveragePool, …).
        PathError: ``path`` cannot be written.
        MissingDependencyError: the ``onnx`` package is not installed (``shapenn[onnx]``).
    """
    model = _model("to_onnx", model)
    path = _path("to_onnx", path)
    onnx = _optional("onnx", "'shapenn[onnx]'")
    opset = _opset(opset, int(onnx.defs.onnx_opset_version()))
    model.build()
    _check_finite("to_onnx", model)
    first, names = _input("to_onnx", model)
    outputs = _outputs(model, first)
    graph = OnnxGraph(onnx, model.dtype)
    rules = [_rule(layer, index, "onnx") for index, layer in enumerate(model.layers)]
    element = onnx.helper.np_dtype_to_tensor_dtype(model.dtype)
    # The input's type is what the first layer takes: int64 token ids for an Embedding.
    input_element = onnx.helper.np_dtype_to_tensor_dtype(model.input_dtype)
    current = "input"
    shapes: list[Any] = []
    described = {"input"}
    for index, rule in enumerate(rules):
        where = f"to_onnx: layers[{index}] {rule.layer!r} ({rule.name})"
        graph._enter(index, where)
        try:
            produced = rule(graph, current)
        except ShapennError:
            raise
        except Exception as err:
            raise ExportError(f"{where} failed: {type(err).__name__}: {err}") from None
        if not isinstance(produced, str) or not graph._knows(produced):
            raise ExportError(
                f"{where} returned {_shown(produced)}, which names no tensor of the graph; "
                "a rule returns the name graph.add gave its last node (or its `inputs`, to "
                "leave them as they are)"
            )
        shape = outputs[index]
        if produced not in described and shape is not None and index < len(rules) - 1:
            shapes.append(onnx.helper.make_tensor_value_info(produced, element, _dims(shape, [])))
            described.add(produced)
        current = produced
    refusal = _float64_refusal(graph, model)
    if refusal is not None:
        raise refusal
    if graph._bytes > MAX_BYTES:
        raise ExportError(
            f"to_onnx: {model!r} holds {graph._bytes / 2**30:.1f} GiB of parameters, more "
            "than one ONNX file holds (2 GiB); export it to PyTorch with to_torch instead"
        )
    graph._enter(len(rules), "to_onnx")
    if current == "input":
        current = graph.add("Identity", ["input"])  # a model of layers that all vanish
    graph.nodes.append(onnx.helper.make_node("Identity", [current], ["output"], name="output"))
    final = outputs[-1]

    def build(final_dims: list[int | str | None] | None) -> Any:
        return onnx.helper.make_model(
            onnx.helper.make_graph(
                graph.nodes,
                "shapenn",
                [onnx.helper.make_tensor_value_info("input", input_element, _dims(first, names))],
                [onnx.helper.make_tensor_value_info("output", element, final_dims)],
                graph.initializers,
                value_info=shapes,
            ),
            opset_imports=[onnx.helper.make_opsetid("", opset)],
            producer_name="shapenn",
        )

    try:
        if final is None:  # the annotations do not tell: ONNX's own inference may
            final_dims = _inferred_dims(onnx, build(None), current)
            if final_dims is None:
                raise ExportError(
                    f"to_onnx: the shape of {model!r}'s output is unknown before data, and "
                    "ONNX cannot infer it; annotate the last layers' forward (or give them "
                    "compute_output_shape)"
                )
        else:
            final_dims = _dims(final, [])
        proto = build(final_dims)
        onnx.checker.check_model(proto, full_check=True)
    except ShapennError:
        raise
    except Exception as err:  # onnx's ValidationError or InferenceError
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExportError(
            f"to_onnx: {_layer_of(str(err), rules)} not valid ONNX (opset {opset}): "
            f"{message}; check the export rule against the ONNX operator's definition"
        ) from None
    data = proto.SerializeToString()

    def write(handle: Any) -> None:
        handle.write(data)

    result: Path = _writing(path, lambda: write_atomically(path, write))
    return result


def _inferred_dims(onnx: Any, proto: Any, name: str) -> list[int | str | None] | None:
    """The dims ONNX's shape inference gives the tensor ``name`` of ``proto``; None if it
    gives none."""
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    values = [*inferred.graph.value_info, *inferred.graph.input]
    for value in values:
        if value.name == name and value.type.tensor_type.HasField("shape"):
            dims: list[int | str | None] = []
            for dim in value.type.tensor_type.shape.dim:
                if dim.HasField("dim_value"):
                    dims.append(int(dim.dim_value))
                else:  # onnx names a size it cannot tell unk__0, …: left unnamed
                    param = dim.dim_param
                    dims.append(param if param and not param.startswith("unk__") else None)
            return dims
    return None


# --- PyTorch -----------------------------------------------------------------------------


def to_torch(model: Model) -> Any:
    """``model`` as a ``torch.nn.Sequential`` holding copies of its parameters, whose outputs
    equal ``model.predict``'s (in ``eval()`` mode). Training can go on in PyTorch: Dropout is
    kept; the last Softmax is its own module, so ``net[:-1]`` gives the logits that
    ``torch.nn.CrossEntropyLoss`` expects.

    Raises:
        ArgumentError: ``model`` is not a Model (a single layer: ``sn.Model([layer])``).
        ExportError: a layer has no PyTorch export rule (see `register`) or its rule does not
            give a module; a parameter holds NaN or infinite values.
        MissingDependencyError: PyTorch is not installed.
    """
    return _torch("to_torch", _model("to_torch", model))


def _torch(owner: str, model: Model) -> Any:
    torch = _optional("torch", "torch, the build for your machine")
    model.build()
    _check_finite(owner, model)
    rules = [_rule(layer, index, "torch") for index, layer in enumerate(model.layers)]
    modules = []
    for index, rule in enumerate(rules):
        where = f"{owner}: layers[{index}] {rule.layer!r} ({rule.name})"
        try:
            module = rule(torch)
        except ShapennError:
            raise
        except Exception as err:
            raise ExportError(f"{where} failed: {type(err).__name__}: {err}") from None
        if not isinstance(module, torch.nn.Module):
            raise ExportError(
                f"{where} returned {_shown(module)}, not a torch.nn.Module; a rule returns the "
                "layer as a module (torch.nn.Linear(...), or a Module subclass of your own)"
            )
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise ExportError(_not_finite(owner, index, rule.layer, name))
        modules.append(module)
    net = torch.nn.Sequential(*modules)
    return net.eval()


def to_torch_program(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a PyTorch program file (``torch.export``), which runs without
    shapenn: ``torch.export.load(path).module()`` is a module computing ``model.predict``
    for any batch size, whose parameters can be trained further. Written atomically.

    As in ONNX, a size the model leaves open (an image's height without ``input_shape``) stays
    open in the program: the data the model last saw only gives ``torch.export`` an example.
    ``torch.export`` assumes an open size is never 1 (nor 0), in the input or on the way:
    the program refuses such an input, which ``predict`` takes.

    Raises:
        ArgumentError: ``model`` is not a Model, ``path`` not a file name.
        ExportError: a layer has no PyTorch export rule, a parameter is not finite, or the
            input shape is not known (give the model ``input_shape=``), or ``torch.export``
            cannot trace the model.
        PathError: ``path`` cannot be written.
        MissingDependencyError: PyTorch is not installed.
    """
    model = _model("to_torch_program", model)
    path = _path("to_torch_program", path)
    torch = _optional("torch", "torch, the build for your machine")
    net = _torch("to_torch_program", model)
    first, _ = _input("to_torch_program", model)
    example = model.sample_shape
    if example is None or not all(isinstance(size, int) for size in example):
        raise ExportError(
            f"to_torch_program: {model!r}: the input shape {first[1:]} is not fully known, "
            "and the model has seen no data to give an example of it; give the model "
            "input_shape=... (or predict on a batch first) to export a program"
        )
    Dim = torch.export.Dim
    dynamic: dict[int, Any] = {0: Dim("batch")}
    auto = getattr(Dim, "AUTO", None)
    if auto is not None:  # open sizes stay open: torch.export keeps them dynamic
        dynamic |= {axis: auto for axis, size in enumerate(first) if size == UNKNOWN}
    # Two samples, not one: torch.export would take a batch of 1 for a constant.
    sample = torch.zeros((2, *example), dtype=getattr(torch, str(model.input_dtype)))
    try:
        program = torch.export.export(net, (sample,), dynamic_shapes={"input": dynamic})
    except ShapennError:
        raise
    except Exception as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ExportError(
            f"to_torch_program: torch.export cannot trace {model!r} "
            f"({type(err).__name__}: {message}); export it with to_torch and save it with "
            "torch.save instead"
        ) from None
    result: Path = _writing(
        path, lambda: write_atomically(path, lambda handle: torch.export.save(program, handle))
    )
    return result
