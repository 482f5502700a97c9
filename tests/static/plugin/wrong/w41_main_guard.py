import shapenn as sn

if __name__ == "__main__":
    model = sn.Model()
    model.add(sn.Dense(4, 8))
    model.add(sn.ReLU())
    model.add(sn.Dense(4, 2))  # expect-shape: make layers[2] Dense(8, 2)
