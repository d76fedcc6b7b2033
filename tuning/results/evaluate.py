"""Test-set evaluation of a Fashion-MNIST classifier: accuracy, loss, per-class accuracy, confusion matrix.

`tune retrain` evaluates the model it has just trained with this; `tune
evaluate` does the same for any saved Keras model that takes one 28x28 (or
28x28x1) image of raw 0-255 pixels, as tune's models do, and outputs 10 classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tuning.data.images import CLASS_NAMES, IMAGE_SHAPE, NUM_CLASSES
from tuning.errors import TuneError, first_line

if TYPE_CHECKING:
    import keras

__all__ = ["Evaluation", "evaluate_file", "evaluate_model", "load_classifier"]

_ACCEPTED_INPUTS = (IMAGE_SHAPE, (*IMAGE_SHAPE, 1))
_EPSILON = 1e-7  # Keras' clip for cross-entropy, so our loss matches its metric
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SUFFIXES = {".keras": b"PK\x03\x04", ".h5": _HDF5_MAGIC, ".hdf5": _HDF5_MAGIC}  # extension -> leading bytes


@dataclass(frozen=True, eq=False)
class Evaluation:
    """How a classifier did on a labelled image set."""

    accuracy: float
    loss: float  # mean cross-entropy, without the L2 penalty Keras adds to its training loss
    confusion: np.ndarray = field(repr=False)  # (10, 10) counts; rows: true class, columns: predicted

    @property
    def n_images(self) -> int:
        return int(self.confusion.sum())

    @property
    def per_class_accuracy(self) -> dict[str, float]:
        """Share of each class's images classified correctly (its recall), by class name."""
        totals = self.confusion.sum(axis=1)
        hits = np.diag(self.confusion)
        return {name: float(hits[i] / totals[i]) if totals[i] else float("nan") for i, name in enumerate(CLASS_NAMES)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_accuracy": self.accuracy,
            "test_loss": self.loss,
            "test_images": self.n_images,
            "per_class_accuracy": self.per_class_accuracy,
            "confusion_matrix": self.confusion.tolist(),
        }


def evaluate_model(model: keras.Model, x: np.ndarray, y: np.ndarray, *, batch_size: int = 1024) -> Evaluation:
    """Evaluate `model` on images `x` (raw pixels) and labels `y`, from one pass of predictions.

    Outputs that are not probabilities (negative, or rows not summing to 1) are
    taken as logits and put through a softmax for the loss.
    """
    images = x.astype("float32").reshape(len(x), *_input_shape(model))
    outputs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
    probabilities = outputs if _are_probabilities(outputs) else _softmax(outputs)
    labels = y.astype(np.int64)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], _EPSILON, 1.0)
    return Evaluation(
        accuracy=float(np.mean(predicted == labels)),
        loss=float(-np.mean(np.log(picked))),
        confusion=confusion,
    )


def load_classifier(path: str | Path) -> keras.Model:
    """Load a saved Keras model and check it takes 28x28 images and outputs 10 classes."""
    path = Path(path)
    if not path.exists():
        raise TuneError(f"model file not found: {path}")
    if path.is_dir():
        raise TuneError(f"{path} is a directory, not a saved Keras model (.keras or .h5 file)")
    problem = _format_problem(path)
    if problem:
        raise TuneError(f"{path} is not a Keras model file: {problem}")
    model = _load(path)
    _input_shape(model, path)
    _check_output(model, path)
    return model


def evaluate_file(path: str | Path, data_dir: str | Path | None = None) -> Evaluation:
    """Evaluate the saved model at `path` on the 10,000 Fashion-MNIST test images."""
    from tuning.data.load import load_fashion_mnist

    model = load_classifier(path)
    data = load_fashion_mnist(data_dir)
    return evaluate_model(model, data.x_test, data.y_test)


def _format_problem(path: Path) -> str | None:
    """Why `path` cannot be a saved model, judged by its name and first bytes (Keras' own errors mislead)."""
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        return f"expected a .keras file (or a legacy .h5 file), got {suffix or 'no extension'}"
    try:
        with path.open("rb") as stream:
            head = stream.read(len(_HDF5_MAGIC))
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if not head.startswith(_SUFFIXES[suffix]):
        return f"not a {'zip archive' if suffix == '.keras' else 'HDF5 file'}, as {suffix} files are"
    return None


def _load(path: Path) -> keras.Model:
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow()
    import keras

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a file it cannot read; all mean "not a model"
        reason = first_line(exc)[:200]
        raise TuneError(f"cannot load {path} as a Keras model: {reason}") from None
    if not isinstance(model, keras.Model):
        raise TuneError(f"{path} holds a {type(model).__name__}, not a Keras model")
    return model


def _input_shape(model: keras.Model, path: Path | None = None) -> tuple[int, ...]:
    where = path if path is not None else model.name
    inputs = _tensors(model, "inputs", where)
    shape = tuple(inputs[0].shape[1:])
    if len(inputs) != 1 or shape not in _ACCEPTED_INPUTS:
        shapes = [tuple(t.shape[1:]) for t in inputs]
        raise TuneError(
            f"{where} takes input(s) of shape {_shapes(shapes)}; expected one image of (28, 28) or (28, 28, 1)"
        )
    return shape


def _check_output(model: keras.Model, where: Path) -> None:
    outputs = _tensors(model, "outputs", where)
    shapes = [tuple(t.shape[1:]) for t in outputs]
    if shapes != [(NUM_CLASSES,)]:
        raise TuneError(f"{where} outputs shape {_shapes(shapes)}; expected one output of {NUM_CLASSES} classes")


def _tensors(model: keras.Model, kind: str, where: Path | str) -> list[Any]:
    try:
        tensors = list(getattr(model, kind))
    except (AttributeError, ValueError):  # a subclassed model that was never built
        tensors = []
    if not tensors:
        raise TuneError(f"{where} has no defined {kind[:-1]} shape; save a model built with keras.Input")
    return tensors


def _shapes(shapes: list[tuple[Any, ...]]) -> str:
    return ", ".join(str(s) for s in shapes)


def _are_probabilities(outputs: np.ndarray) -> bool:
    return bool(np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
