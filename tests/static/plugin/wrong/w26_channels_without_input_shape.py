import shapenn as sn

# no input_shape: the image size is open ("?"), but the channels are known
model = sn.Model(
    [
        sn.Conv2D(3, 16, 3),
        sn.ReLU(),
        sn.Conv2D(8, 32, 3),  # expect-shape: make layers[2] Conv2D(16, 32, 3)
    ]
)
