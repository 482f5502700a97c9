import shapenn as sn

model = sn.Model([sn.Dense(2, 8)])
model.layers.append(sn.ReLU())  # not an add: the sequence is left to the run
model.add(sn.Dense(8, 3))
