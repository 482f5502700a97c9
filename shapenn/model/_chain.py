"""The chain of layers and its build: before any data, each layer's output shape is inferred
from its annotations, link by link, and a link that does not fit is a ShapeError naming both
layers, the dims, a fix on either side and how the sizes got there."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._losses import Loss
from .._metrics import Accuracy
from ..layers import Layer
from ..optim import Optimizer
from ..shapes import (
    UNKNOWN,
    ArgumentError,
    ShapeError,
    Size,
    format_shape,
    input_spec,
    output_dim,
    signature,
)

__all__ = [
    "Step",
    "build_chain",
    "check_layers",
    "check_parts",
    "fingerprint",
    "first_input",
    "kind",
    "sample_shape",
]

Shape = tuple[Size, ...]


@dataclass(frozen=True)
class Step:
    """One layer of a built chain: the shape it receives and gives, and the arithmetic."""

    index: int
    layer: Layer
    given: Shape
    output: Shape | None
    derived: tuple[str, ...]


def first_input(
    layers: Sequence[Layer], declared: tuple[int, ...] | None, seen: tuple[int, ...] | None
) -> Shape | None:
    """The input shape the chain is built for: the ``declared`` one (``input_shape``); else
    the last data's (``seen``) where the first layer leaves sizes (or axes) open; else what
    the first layer's parameters say, at its simplest."""
    if declared is not None:
        return ("batch", *declared)
    if not layers:
        return None
    simplest = layers[0].input_shape()
    spec = input_spec(layers[0])
    open_axes = spec is not None and spec[1].variadic is not None
    if seen is not None and (simplest is None or UNKNOWN in simplest or open_axes):
        return ("batch", *seen)
    return simplest


def fingerprint(layers: Sequence[Layer], first: Shape | None) -> tuple[Any, ...]:
    """What the chain's validity depends on: which layers, in which order, with which
    parameter and buffer shapes and dtypes and config dims. A change means a new build."""
    parts: list[Any] = [first]
    for layer in layers:
        for _, owned in layer.named_layers():
            spec = signature(type(owned))
            arrays = [getattr(owned, d.name, None) for d in spec.state]
            kinds = tuple((getattr(a, "shape", None), getattr(a, "dtype", None)) for a in arrays)
            dims = tuple(getattr(owned, d, None) for d in spec.dims)
            parts.append((id(owned), dims, kinds))
    return tuple(parts)


def build_chain(layers: Sequence[Layer], first: Shape | None) -> list[Step]:
    """Each layer's input and output shape, from ``first`` on.

    Raises:
        ShapeError: at the first layer whose input does not fit the previous output.
    """
    shape = first
    steps: list[Step] = []
    for index, layer in enumerate(layers):
        if shape is None:
            steps.append(Step(index, layer, (), None, ()))
            continue
        try:
            inferred = layer.infer_output(shape)
        except ShapeError as err:
            raise chain_error(layers, index, shape, err, steps, first) from None
        output = inferred.shape if inferred is not None else None
        derived = tuple(
            f"{d.text} = {d.worked} = {d.value}" for d in (inferred.derived if inferred else [])
        )
        steps.append(Step(index, layer, shape, output, derived))
        shape = output
    return steps


def chain_error(
    layers: Sequence[Layer],
    index: int,
    shape: Shape,
    err: ShapeError,
    steps: list[Step],
    first: Shape | None,
) -> ShapeError:
    """The layer's own error, restated as a link of the chain, with a hint for either side."""
    layer = layers[index]
    source = next((s for s in reversed(steps) if s.output != s.given), None)
    origin = f" from layers[{source.index}] {source.layer!r}" if source else " (the input)"
    options = []  # the constructor calls that would make the link fit, on either side
    got_size = shape[err.axis] if err.axis is not None and err.axis < len(shape) else None
    if err.dim is not None and isinstance(got_size, int) and isinstance(err.needed, int):
        resized = getattr(layer, "resized", None)
        mine = resized({err.dim: got_size}) if resized is not None else None
        if mine:
            options.append(f"layers[{index}] {mine}")
        if source is not None and err.axis is not None:
            theirs_dim = output_dim(source.layer, err.axis, len(shape))
            theirs_resized = getattr(source.layer, "resized", None)
            theirs = (
                theirs_resized({theirs_dim: err.needed})
                if theirs_dim and theirs_resized is not None
                else None
            )
            if theirs:
                options.append(f"layers[{source.index}] {theirs}")
    how = _how(steps, first) if any(s.derived for s in steps) else ()
    return ShapeError.create(
        "Model",
        f"layers[{index}] {layer!r}",
        err.expected,
        f"{format_shape(shape)}{origin}",
        err.reason.replace("`self.", f"`layers[{index}]."),
        bound=err.bound,
        hint="make " + ", or ".join(options) if options else err.hint,
        steps=how,
        located=True,
    )


def _how(steps: list[Step], first: Shape | None) -> tuple[str, ...]:
    """How the sizes got where they are: one line per layer that changed them."""
    lines = [f"input {format_shape(first)}"] if first is not None else []
    for step in steps:
        if step.output is None or step.output == step.given:
            continue
        line = f"layers[{step.index}] {step.layer!r} → {format_shape(step.output)}"
        if step.derived:
            line += ": " + "; ".join(step.derived)
        lines.append(line)
    return tuple(lines)


def kind(value: object) -> str:
    """``the class Dense`` for a class, ``a str ('relu')`` for anything else."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    shown = repr(value)
    return f"a {type(value).__name__}" + (f" ({shown})" if len(shown) <= 40 else "")


def check_layers(layers: Sequence[Any], owner: str = "Model") -> None:
    """Every item a layer instance, each used once (at one place of the chain and of the
    layers it owns), each holding the arrays it declares, each taking one input; an
    ArgumentError from ``owner`` naming ``layers[i]`` and the fix otherwise."""
    seen: dict[int, str] = {}  # each layer object: where it was first found
    for index, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            advice = ""
            if isinstance(layer, type) and issubclass(layer, Layer):
                advice = f": pass an instance, {layer.__name__}(...)"
            raise ArgumentError(f"{owner}: layers[{index}] is {kind(layer)}, not a layer{advice}")
        for path, owned in layer.named_layers(f"layers[{index}]"):
            first = seen.setdefault(id(owned), path)
            if first != path:
                # One object at two places keeps one set of inputs and gradients: the second
                # forward overwrites what the first backward needs, and its parameters would
                # be stepped twice.
                raise ArgumentError(
                    f"{owner}: {first} and {path} are the same {owned!r} object; a layer keeps "
                    "its own inputs and gradients, so each place needs its own instance: "
                    f"write {type(owned).__name__}(...) twice"
                )
        unset = layer.unset_state()
        if unset:  # caught here, not as an AttributeError in the first step of fit
            name, what = unset[0]
            attribute = name.rsplit(".", 1)[-1]
            raise ArgumentError(
                f"{owner}: layers[{index}] {layer!r} declares the {what} `{name}` (an array "
                f"annotation of its class) but never sets it: assign `self.{attribute} = "
                "np.zeros(...)` (or its first value) in __init__, or remove the annotation"
            )
        required = [d.name for d in signature(type(layer)).inputs if not d.optional]
        if len(required) > 1:
            raise ArgumentError(
                f"{owner}: layers[{index}] {layer!r} takes {len(required)} inputs "
                f"({', '.join(required)}), and a Model passes each layer one: wrap it in a "
                "layer of your own that owns its parts and takes one input"
            )


def check_parts(loss: object, optimizer: object, metric: object) -> None:
    """A clear ArgumentError for a loss, optimizer or metric that is not one of shapenn's."""
    for name, value, kind in (
        ("loss", loss, Loss),
        ("optimizer", optimizer, Optimizer),
        ("metric", metric, Accuracy),
    ):
        if value is None or isinstance(value, kind):
            continue
        shown = f"the class {value.__name__}" if isinstance(value, type) else repr(value)
        advice = getattr(value, "model_advice", None) or (
            f"pass an instance, {value.__name__}()"
            if isinstance(value, type) and issubclass(value, kind)
            else f"give a shapenn {kind.__name__} (or a subclass of it)"
        )
        article = "an" if kind.__name__[0] in "AEIOU" else "a"
        raise ArgumentError(
            f"Model: {name} must be {article} {kind.__name__}, got {shown}: {advice}"
        )


def check_metrics(metrics: object, metric: object) -> list[Accuracy]:
    """``metrics`` as a list of shapenn metrics whose names differ from each other, from the
    loss's and from the main ``metric``'s (their keys in a History)."""
    if isinstance(metrics, Accuracy | str) or not isinstance(metrics, Sequence):
        raise ArgumentError(
            f"Model: metrics must be a list of metrics, got {metrics!r}"
            + (f": write metrics=[{metrics!r}]" if isinstance(metrics, Accuracy) else "")
        )
    for value in metrics:
        check_parts(None, None, value)
    taken = {"loss", "data_loss", "regularization_loss", "learning_rate"}
    taken |= {"accuracy"} if metric is not None else set()
    found = list(metrics)
    for value in found:
        if value.name in taken:
            raise ArgumentError(
                f"Model: two metrics would both be recorded as {value.name!r} ({value!r}); "
                "give each metric once"
            )
        taken.add(value.name)
    return found


def sample_shape(shape: Sequence[int] | None) -> tuple[int, ...] | None:
    """``input_shape`` as a tuple of positive ints (the batch axis left out)."""
    if shape is None:
        return None
    values = tuple(shape) if isinstance(shape, Sequence) else (shape,)
    if not values or not all(
        isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1 for s in values
    ):
        raise ArgumentError(
            f"input_shape must be the shape of one sample, positive integers such as (2,) or "
            f"(1, 28, 28), got {shape!r}"
        )
    return tuple(int(s) for s in values)
