"""What a Fashion-MNIST image and label are: 28x28 grey pixels, one of ten named classes."""

from __future__ import annotations

from tuning.data.dataset import DataShape

__all__ = ["CLASS_NAMES", "IMAGE_SHAPE", "NAME", "NUM_CLASSES", "REFERENCES", "SHAPE"]

NAME = "fashion-mnist"  # the dataset's name in studies, exports and reports

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28)  # rows, columns; pixels 0-255 (uint8)
SHAPE = DataShape(IMAGE_SHAPE, NUM_CLASSES)
# Published Fashion-MNIST test accuracies the results are read against (tune report, tune compare).
REFERENCES: tuple[tuple[str, float], ...] = (
    ("hand-tuned MLP", 0.8811),
    ("Kaggle SVM baseline", 0.897),
    ("hand-tuned ConvNet", 0.9185),
    ("small ConvNets with batch norm", 0.934),
    ("Google AutoML", 0.939),
)
