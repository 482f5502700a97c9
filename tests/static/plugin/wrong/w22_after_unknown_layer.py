import shapenn as sn

width = int("8")
model = sn.Model(
    [
        sn.Dense(2, width),
        sn.ReLU(),
        sn.Dense(8, 4),
        sn.Dense(5, 2),  # expect-shape: make layers[3] Dense(4, 2), or layers[2] Dense(8, 5)
    ]
)
