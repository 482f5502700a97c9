"""Carry a trained model onward: to ONNX (``to_onnx``), which runs in onnxruntime anywhere,
and to PyTorch (``to_torch`` for a module, ``to_torch_program`` for a file that runs without
shapenn), which trains on GPUs and across machines.

Each layer exports itself: ``Layer.export_onnx`` adds its ONNX nodes to an `OnnxGraph`,
``Layer.export_torch`` builds its ``torch.nn`` module. A layer that defines neither — a custom
layer, say — can be given rules without editing it, with `register`. Exporting reads the
shapes the model was built with, so the ONNX graph carries every tensor's shape, its batch
axis a symbolic dim named ``batch`` as in the annotations.

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
