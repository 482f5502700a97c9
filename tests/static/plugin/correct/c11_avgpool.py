import shapenn as sn

model = sn.Model(
    [sn.Conv2D(3, 6, 5), sn.AvgPool2D(2), sn.Flatten(), sn.Dense(6 * 5 * 5, 10)],
    input_shape=(3, 14, 14),
)
