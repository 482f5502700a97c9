import numpy as np
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array1D, Array2D


@sn.shapechecked(anchors=("scale",))
def scale_rows(
    inputs: Float[Array2D, "batch n"], scale: Float[Array1D, " n"]
) -> Float[Array2D, "batch n"]:
    result: Float[Array2D, "batch n"] = inputs * scale
    return result


print(scale_rows(np.ones((2, 3), np.float32), np.ones(3, np.float32)).shape)
