import shapenn as sn

model = sn.Model()
model.add(sn.Dense(2, 16))
for _ in range(3):
    model.add(sn.Dense(16, 16))
    model.add(sn.ReLU())
model.add(sn.Dense(16, 1))
