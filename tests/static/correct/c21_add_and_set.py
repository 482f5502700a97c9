import shapenn as sn

model = sn.Model()
model.add(sn.Dense(2, 8, seed=0)).add(sn.ReLU()).add(sn.Dense(8, 1, seed=1)).add(sn.Sigmoid())
model.set(loss=sn.BinaryCrossentropy(), optimizer=sn.RMSprop(), metric=sn.BinaryAccuracy())
print(model)
