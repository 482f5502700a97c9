import shapenn as sn

layer = sn.Dense(2, 1)
layer.weights = [[1.0], [2.0]]  # expect-error
