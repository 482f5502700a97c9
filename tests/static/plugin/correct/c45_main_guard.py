import shapenn as sn

if __name__ == "__main__":  # followed as the module's own statements
    model = sn.Model()
    model.add(sn.Dense(4, 8))
    model.add(sn.Dense(8, 2))
