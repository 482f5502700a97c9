from shapenn import Dense, Model, ReLU

model = Model([Dense(4, 16), ReLU(), Dense(16, 3)])
