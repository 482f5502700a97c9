import shapenn as sn

model = sn.Model(
    [sn.Flatten(), sn.Dense(28 * 28, 128), sn.ReLU(), sn.Dense(128 // 2 * 2, 10)],
    input_shape=(1, 28, 28),
)
