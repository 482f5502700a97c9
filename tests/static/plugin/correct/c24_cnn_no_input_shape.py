import shapenn as sn

# no input_shape: the image size is known only from data, so Flatten's size is skipped
model = sn.Model([sn.Conv2D(1, 8, 3), sn.MaxPool2D(2), sn.Flatten(), sn.Dense(72, 10)])
