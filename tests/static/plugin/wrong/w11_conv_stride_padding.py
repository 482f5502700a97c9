import shapenn as sn

model = sn.Model(
    [
        sn.Conv2D(1, 4, 3, stride=2, padding=1),
        sn.Flatten(),
        sn.Dense(4 * 8 * 8, 10),  # expect-shape: make layers[2] Dense(196, 10)
    ],
    input_shape=(1, 14, 14),
)
