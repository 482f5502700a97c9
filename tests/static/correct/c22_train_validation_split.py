import shapenn as sn
from shapenn.datasets import spiral, train_validation_split

X, y = spiral(40, 3, seed=0)
X_train, X_val, y_train, y_val = train_validation_split(X, y, validation=0.25, seed=1)
model = sn.Model(
    [sn.Dense(2, 8, seed=0), sn.ReLU(), sn.Dense(8, 3, seed=1), sn.Softmax()],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.Adam(0.02),
)
model.fit(X_train, y_train, epochs=2, validation_data=(X_val, y_val), verbose=0)
print(X_train.shape, X_val.shape)
