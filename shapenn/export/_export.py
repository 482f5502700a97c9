"""ONNX and PyTorch export: a walk over the model's layers, each adding itself."""

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._files import write_atomically
from ..layers import Layer
from ..model import Model
from ..shapes import (
    UNKNOWN,
    ArgumentError,
    MissingDependencyError,
    Named,
    ShapennError,
    Size,
    input_spec,
)

__all__ = ["ExportError", "OnnxGraph", "register", "to_onnx", "to_torch", "to_torch_program"]

#: The ONNX operator set the exported graphs use (onnxruntime has run it since 1.14).
OPSET = 17

_KINDS = {"onnx": "ONNX", "torch": "PyTorch"}
_SIGNATURES = {
    "onnx": "rule(layer, graph, inputs) -> the name of its output",
    "torch": "rule(layer, torch) -> a torch.nn.Module",
}
_RULES: dict[type, dict[str, Callable[..., Any]]] = {}


class ExportError(ShapennError, ValueError):
    """The model holds a layer with no export rule, or one the target cannot express."""


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
    """
    if not (isinstance(layer_type, type) and issubclass(layer_type, Layer)):
        raise ArgumentError(f"register: {layer_type!r} is not a shapenn Layer class")
    rules = _RULES.setdefault(layer_type, {})
    for kind, rule in (("onnx", onnx), ("torch", torch)):
        if rule is not None:
            rules[kind] = rule


def _rule(layer: Layer, index: int, kind: str) -> Callable[..., Any]:
    """The export rule of ``kind`` for ``layer``: a registered one, else its own method."""
    for cls in type(layer).__mro__:
        found = _RULES.get(cls, {}).get(kind)
        if found is not None:
            return lambda *args: found(layer, *args)
        if f"export_{kind}" in vars(cls):  # the class's own rule is nearer than a base's
            break
    method = getattr(type(layer), f"export_{kind}")
    if method is not getattr(Layer, f"export_{kind}"):
        return lambda *args: method(layer, *args)
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

    def add(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        """Append the node ``op_type(inputs, **attributes)``; return its output's name."""
        self._count += 1
        name = f"{self.prefix}.{op_type.lower()}" + (f".{self._count}" if self._count > 1 else "")
        node = self._onnx.helper.make_node(op_type, inputs, [name], name=name, **attributes)
        self.nodes.append(node)
        return name

    def constant(self, name: str, array: np.ndarray[Any, np.dtype[Any]]) -> str:
        """Store ``array`` in the graph under the layer's prefix; return its name."""
        full = f"{self.prefix}.{name}"
        value = np.ascontiguousarray(array, dtype=self.dtype)
        self.initializers.append(self._onnx.numpy_helper.from_array(value, full))
        return full

    def _enter(self, index: int) -> None:
        self.prefix, self._count = f"layers.{index}", 0


def _dims(shape: tuple[Size, ...], names: list[str | None]) -> list[int | str | None]:
    """ONNX dims for a shape: sizes as they are, the batch and unknown sizes as symbolic
    dims named after the annotations (None where no name is known)."""
    dims: list[int | str | None] = []
    for axis, size in enumerate(shape):
        if isinstance(size, int):
            dims.append(size)
        elif size == UNKNOWN:
            dims.append(names[axis] if axis < len(names) else None)
        else:
            dims.append(str(size))
    return dims


def _input_names(model: Model, rank: int) -> list[str | None]:
    """The dim names of the first layer's input annotation for an input of ``rank`` axes:
    ``batch``, ``h``, ``w``, …; None for an axis of a variadic dim (``*positions``)."""
    found = input_spec(model.layers[0])
    if found is None:
        return []
    spec = found[1]
    names = [dim.name if isinstance(dim, Named) else None for dim in spec.dims]
    where = spec.variadic
    if where is None:
        return names
    return [*names[:where], *[None] * (rank - len(names) + 1), *names[where + 1 :]]


def to_onnx(model: Model, path: str | os.PathLike[str], *, opset: int = OPSET) -> Path:
    """Write ``model`` as an ONNX model for inference, checked by ``onnx.checker``.

    The graph computes ``model.predict``: Dropout is left out, Softmax stays. Its input is
    named ``input`` and its output ``output``; the batch axis of every tensor is the symbolic
    dim ``batch``, and a size the model leaves open (an image's height without
    ``input_shape``) is named after its dim (``h``). The file is written atomically.

    Raises:
        ExportError: a layer has no ONNX export rule (see `register`).
        ImportError: the ``onnx`` package is not installed (``shapenn[onnx]``).
    """
    onnx = _optional("onnx", "'shapenn[onnx]'")
    outputs = model.build()
    sample = model.sample_shape
    if sample is None:
        raise ExportError(
            f"{model!r}: the rank of its input is unknown; give the model input_shape=..."
        )
    graph = OnnxGraph(onnx, model.dtype)
    rules = [_rule(layer, index, "onnx") for index, layer in enumerate(model.layers)]
    names = _input_names(model, 1 + len(sample))
    element = onnx.helper.np_dtype_to_tensor_dtype(model.dtype)
    # The input's type is what the first layer takes: int64 token ids for an Embedding.
    input_element = onnx.helper.np_dtype_to_tensor_dtype(model.input_dtype)
    current = "input"
    shapes: list[Any] = []
    for index, rule in enumerate(rules):
        graph._enter(index)
        produced = rule(graph, current)
        shape = outputs[index]
        if produced != current and shape is not None and index < len(rules) - 1:
            shapes.append(onnx.helper.make_tensor_value_info(produced, element, _dims(shape, [])))
        current = produced
    if current == "input":
        current = graph.add("Identity", ["input"])  # a model of layers that all vanish
    graph.nodes.append(onnx.helper.make_node("Identity", [current], ["output"], name="output"))
    final = outputs[-1]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes,
            "shapenn",
            [
                onnx.helper.make_tensor_value_info(
                    "input", input_element, _dims(("batch", *sample), ["batch", *names[1:]])
                )
            ],
            [
                onnx.helper.make_tensor_value_info(
                    "output", element, _dims(final, []) if final is not None else None
                )
            ],
            graph.initializers,
            value_info=shapes,
        ),
        opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="shapenn",
    )
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()

    def write(handle: Any) -> None:
        handle.write(data)

    return write_atomically(path, write)


def to_torch(model: Model) -> Any:
    """``model`` as a ``torch.nn.Sequential`` holding copies of its parameters, whose outputs
    equal ``model.predict``'s (in ``eval()`` mode). Training can go on in PyTorch: Dropout is
    kept; the last Softmax is its own module, so ``net[:-1]`` gives the logits that
    ``torch.nn.CrossEntropyLoss`` expects.

    Raises:
        ExportError: a layer has no PyTorch export rule (see `register`).
        ImportError: PyTorch is not installed.
    """
    torch = _optional("torch", "torch, the build for your machine")
    model.build()
    rules = [_rule(layer, index, "torch") for index, layer in enumerate(model.layers)]
    net = torch.nn.Sequential(*(rule(torch) for rule in rules))
    return net.eval()


def to_torch_program(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a PyTorch program file (``torch.export``), which runs without
    shapenn: ``torch.export.load(path).module()`` is a module computing ``model.predict``
    for any batch size, whose parameters can be trained further. Written atomically.

    Raises:
        ExportError: a layer has no PyTorch export rule, or the input shape is not fully
            known (give the model ``input_shape=``).
        ImportError: PyTorch is not installed.
    """
    torch = _optional("torch", "torch, the build for your machine")
    net = to_torch(model)
    sample = model.sample_shape
    if sample is None or not all(isinstance(size, int) for size in sample):
        raise ExportError(
            f"{model!r}: the input shape {sample} is not fully known; give the model "
            "input_shape=... to export a program"
        )
    # Two samples, not one: torch.export would take a batch of 1 for a constant.
    example = torch.zeros((2, *sample), dtype=getattr(torch, str(model.input_dtype)))
    batch = torch.export.Dim("batch")
    program = torch.export.export(net, (example,), dynamic_shapes={"input": {0: batch}})
    return write_atomically(path, lambda handle: torch.export.save(program, handle))
