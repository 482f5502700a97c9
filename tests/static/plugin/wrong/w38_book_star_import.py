# ruff: noqa: F403, F405
from shapenn.book import *

model = Model()
model.add(Layer_Dense(2, 64))
model.add(Activation_ReLU())
model.add(Layer_Dense(32, 3))  # expect-shape: make layers[2] Layer_Dense(64, 3)
model.add(Activation_Softmax())
model.set(
    loss=Loss_CategoricalCrossentropy(),
    optimizer=Optimizer_Adam(),
    accuracy=Accuracy_Categorical(),
)
model.finalize()
