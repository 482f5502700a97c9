import shapenn as sn

model = sn.Model(
    [
        sn.Dense(4, 3),  # expect-shape: make layers[0] Dense(5, 3)
        sn.Softmax(),
    ],
    input_shape=(5,),
)
