import shapenn as sn

model = sn.Model(
    [sn.Conv2D(1, 4, 3, stride=2, padding=1), sn.Flatten(), sn.Dense(4 * 7 * 7, 10)],
    input_shape=(1, 14, 14),
)
