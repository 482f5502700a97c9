import shapenn as sn

model = sn.Model([sn.Dense(2, 8), sn.ReLU(), sn.Dense(8, 3), sn.Softmax()])
table: str = model.summary(print_fn=None)
shapes = model.build()
print(len(table.splitlines()), shapes[-1])
