import shapenn as sn

model = sn.Model(
    [
        sn.Conv2D(1, 8, 3),
        sn.ReLU(),
        sn.Conv2D(16, 8, 3),  # expect-shape: make layers[2] Conv2D(8, 8, 3)
    ],
    input_shape=(1, 28, 28),
)
