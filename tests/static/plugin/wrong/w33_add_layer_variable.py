import shapenn as sn

HIDDEN = 64
head = sn.Dense(HIDDEN // 2, 3)
model = sn.Model()
model.add(sn.Dense(2, HIDDEN))
model.add(sn.ReLU())
model.add(head)  # expect-shape: make layers[2] Dense(64, 3)
