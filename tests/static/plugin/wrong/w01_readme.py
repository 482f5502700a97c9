import shapenn as sn

model = sn.Model(
    [
        sn.Dense(2, 64),
        sn.ReLU(),
        sn.Dense(32, 3),  # expect-shape: make layers[2] Dense(64, 3)
    ]
)
