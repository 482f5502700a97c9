import shapenn as sn

model = sn.Model()
model.add(sn.Dense(2, 64))
model.add(sn.ReLU())
model.add(sn.Dense(64, 3))
model.add(sn.Softmax())
