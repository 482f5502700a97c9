import shapenn as sn

model = sn.Model(
    [
        sn.Conv2D(1, 8, 3),  # expect-shape: make layers[0] Conv2D(3, 8, 3)
        sn.ReLU(),
    ],
    input_shape=(3, 28, 28),
)
