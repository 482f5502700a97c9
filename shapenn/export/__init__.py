"""Carry a trained model onward: to ONNX (``to_onnx``), which runs in onnxruntime anywhere,
and to PyTorch (``to_torch`` for a module, ``to_torch_program`` for a file that runs without
shapenn), which trains on GPUs and across machines.

Each layer exports itself: ``Layer.export_onnx`` adds its ONNX nodes to an `OnnxGraph`,
``Layer.export_torch`` builds its ``torch.nn`` module. A layer that defines neither — a custom
layer, say — can be given rules without editing it, with `register`. The ONNX graph carries
every tensor's shape as the annotations give it, never as the data the model has seen does:
its batch axis is a symbolic dim named ``batch``, a size the model leaves open (an image's
height and width without ``input_shape``) a symbolic dim named after its annotation (``h``),
and a size is fixed only where the model fixes it.

Exporting refuses, with `ExportError` naming the layer, what would not run or would compute
something else: a layer without a rule or whose rule breaks its contract, a parameter holding
NaN or infinite values (as ``shapenn.save`` does), a float64 model holding an operator that
onnxruntime runs in float32 only (Conv, AveragePool). ``to_onnx`` writes the ONNX operator
sets ``MIN_OPSET`` to ``MAX_OPSET`` (17 to 28; 17 by default).

``onnx`` and ``torch`` are optional: ``pip install 'shapenn[onnx]'``, or PyTorch as its own
site describes for your machine.
"""

from ._export import ExportError as ExportError
from ._export import OnnxGraph as OnnxGraph
from ._export import register as register
from ._export import to_onnx as to_onnx
from ._export import to_torch as to_torch
from ._export import to_torch_program as to_torch_program

__all__ = ["ExportError", "OnnxGraph", "register", "to_onnx", "to_torch", "to_torch_program"]
