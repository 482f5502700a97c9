import shapenn as sn

model = sn.Model([sn.Dense(5, 3), sn.Softmax()], input_shape=(5,))
