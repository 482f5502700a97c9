import shapenn as sn

model = sn.Model()
model.add(sn.Dense(2, 64))
model = sn.Model()  # a new model: the sequence starts again
model.add(sn.Dense(3, 4))
model.add(sn.Dense(4, 1))
