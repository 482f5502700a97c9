import shapenn as sn

hidden = sn.Dense(2, 64)
out = sn.Dense(64, 3)
model = sn.Model([hidden, sn.ReLU(), out, sn.Softmax()])
