import shapenn as sn

model = sn.Model(
    [sn.Conv2D(1, 8, 3), sn.ReLU(), sn.MaxPool2D(2), sn.Flatten(), sn.Dense(72, 10)],
    input_shape=(1, 8, 8),
)
