import shapenn as sn

model = sn.Model(
    [
        sn.MaxPool2D(3, stride=1),
        sn.Flatten(),
        sn.Dense(2 * 5 * 5, 4),  # expect-shape: make layers[2] Dense(72, 4)
    ],
    input_shape=(2, 8, 8),
)
