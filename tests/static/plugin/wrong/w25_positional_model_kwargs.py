import shapenn as sn

model = sn.Model(
    [
        sn.Dense(4, 16),
        sn.ReLU(),
        sn.Dropout(0.2),
        sn.Dense(12, 3),  # expect-shape: `in` is 16 here but 12
        sn.Softmax(),
    ],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.SGD(learning_rate=0.1),
)
