import shapenn as sn

model = sn.Model([sn.Dense(4, 16), sn.ReLU()])
model.add(sn.Dense(16, 3))
model.add(sn.Softmax())
