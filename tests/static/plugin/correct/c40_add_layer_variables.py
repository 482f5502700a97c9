import shapenn as sn

HIDDEN = 64
head = sn.Dense(HIDDEN, 3)
model = sn.Model(loss=sn.CategoricalCrossentropy(), optimizer=sn.Adam())
model.add(sn.Dense(2, HIDDEN))
model.add(sn.ReLU())
model.add(head)
model.add(sn.Softmax())
model.summary(print_fn=None)
