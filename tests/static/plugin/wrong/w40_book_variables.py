from shapenn.book import Activation_ReLU, Layer_Dense, Model

dense1 = Layer_Dense(4, 8)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(4, 2)
model = Model()
model.add(dense1)
model.add(activation1)
model.add(dense2)  # expect-shape: make layers[2] Layer_Dense(8, 2)
model.finalize()
