import shapenn as sn

model = sn.Model(
    [sn.Conv2D(1, 8, 3), sn.ReLU(), sn.Conv2D(8, 16, 3, padding="same"), sn.Flatten()],
    input_shape=(1, 28, 28),
)
