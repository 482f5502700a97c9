import shapenn as sn

model = sn.Model(
    [
        sn.Dense(10, 20),
        sn.Sigmoid(),
        sn.Tanh(),
        sn.GELU(),
        sn.Dense(10, 1),  # expect-shape: make layers[4] Dense(20, 1)
    ]
)
