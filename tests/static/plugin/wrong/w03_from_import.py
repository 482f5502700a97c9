from shapenn import Dense, Model, ReLU

model = Model([Dense(4, 16), ReLU(), Dense(8, 3)])  # expect-shape: make layers[2] Dense(16, 3)
