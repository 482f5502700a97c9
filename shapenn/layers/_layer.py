"""What every layer shares: parameters declared by annotation, checked methods, config, state.

A layer is written with annotations only::

    class Scale(Layer):
        scale: Float[Array2D, "1 n"]          # a parameter; its gradient is `dscale`

        def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]: ...
        def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]: ...

Defining the class is enough: its methods are checked against its parameters (a (5, 3) input
to ``Scale(4)`` is a ShapeError naming ``self.scale``), its output shape is inferred from the
annotations when a model is built, and it is registered so models holding it save and load.
"""

import copy
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .._registry import JSONValue, Registered
from ..shapes import ArgumentError, ArrayND, NotReadyError, ShapeError
from ..shapes._check import check_methods, signature
from ..shapes._dims import UNKNOWN, Fixed, Named, Size, Variadic
from ..shapes._infer import Inferred, infer_output, input_spec

__all__ = ["Layer", "Parameter"]


class Parameter(NamedTuple):
    """A trainable array of a layer and its gradient, as `Layer.parameters` gives them."""

    layer: "Layer"
    name: str

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


_CACHES = ("inputs", "output", "dinputs")


class Layer(Registered):
    """A step of a network: ``forward`` computes ``output``, ``backward`` the input gradient.

    Subclasses declare their parameters as class annotations with named dims and annotate
    ``forward`` and ``backward``; no decorator is needed. After ``forward`` a layer keeps
    ``inputs`` and ``output``; after ``backward``, ``dinputs`` and ``d<param>`` for each
    parameter (the names of the nnfs book).

    Attributes:
        training: whether the layer is in training mode (Dropout reads it).
        inputs, output, dinputs: the caches of the last forward and backward.
    """

    registry_kind: ClassVar[str] = "layer"

    #: Training mode: layers that behave differently in training (Dropout) read it.
    training: bool = True

    # The book's caches. Typed as arrays (not Optional) so that book-style code such as
    # ``dense2.forward(activation1.output)`` type-checks; reading one before it exists is a
    # clear AttributeError (see __getattr__).
    inputs: ArrayND
    output: ArrayND
    dinputs: ArrayND

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_methods(cls)

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes that do not exist.
        if name in _CACHES or (name.startswith("d") and name[1:] in self._parameter_names()):
            step = "backward(dvalues)" if name.startswith("d") else "forward(inputs)"
            raise NotReadyError(f"{self!r} has no `{name}` yet: call {step} first")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def _parameter_names(cls) -> tuple[str, ...]:
        return signature(cls).param_names

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

    def parameters(self) -> list[Parameter]:
        """The trainable parameters, in the order the class declares them."""
        return [Parameter(self, name) for name in self._parameter_names()]

    def regularization_loss(self) -> float:
        """The penalty this layer adds to the loss (none by default)."""
        return 0.0

    # --- shapes before data ------------------------------------------------------------------

    def input_shape(self) -> tuple[Size, ...] | None:
        """The shape ``forward`` accepts, as far as the parameters tell: ``(batch, 2)`` for
        ``Dense(2, 64)``, ``?`` for a size only data can tell; None when not even the rank is
        known (no annotation, or any number of axes)."""
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
                return None
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

    def _trace(self, input_shape: tuple[Size, ...]) -> tuple[Size, ...] | None:
        """Run ``forward`` on one sample of zeros, in inference mode, leaving the layer as it
        was; None if the input shape is not fully known."""
        sample = [1 if s == "batch" else s for s in input_shape]
        sizes = [s for s in sample if isinstance(s, int)]
        if len(sizes) != len(sample):
            return None
        saved = dict(self.__dict__)
        generators = {
            k: copy.deepcopy(v) for k, v in saved.items() if isinstance(v, np.random.Generator)
        }
        dtype = next((p.value.dtype for p in self.parameters()), np.dtype(np.float32))
        try:
            self.training = False
            output = self.forward(np.zeros(sizes, dtype=dtype))
        except ShapeError:
            raise
        except Exception:  # a forward that cannot run on zeros: unknown until data
            return None
        finally:
            self.__dict__.clear()
            self.__dict__.update(saved | generators)
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
        """State beyond parameters and config that a saved model keeps (none by default;
        Dropout keeps its random generator's state)."""
        return {}

    def set_state(self, state: dict[str, JSONValue]) -> None:
        """Restore ``get_state()``'s output."""
        if state:
            raise ArgumentError(f"{self!r} keeps no state, got {sorted(state)}")
