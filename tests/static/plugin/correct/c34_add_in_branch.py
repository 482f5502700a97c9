import shapenn as sn

WIDE = len("wide") > 2
model = sn.Model()
if WIDE:
    model.add(sn.Dense(2, 64))
else:
    model.add(sn.Dense(2, 32))
model.add(sn.ReLU())
model.add(sn.Dense(64, 3))
