import shapenn as sn

model = sn.Model([sn.Dense(2, 64), sn.ReLU(), sn.Dense(64, 3), sn.Softmax()])
