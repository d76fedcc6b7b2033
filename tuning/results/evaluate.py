"""Test-set evaluation of an image classifier: accuracy, loss, per-class accuracy, confusion matrix.

`tune retrain` evaluates the model it has just trained with this; `tune
evaluate` does the same for any saved Keras model that takes one image of the
data's shape (raw 0-255 pixels; a grey H x W image also as H x W x 1), as tune's
models do, and outputs one score per class. Without `--data` it reads the data
recorded beside the model (the metrics.json `tune retrain` writes), else Fashion-MNIST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tuning.errors import TuneError, first_line

if TYPE_CHECKING:
    import keras

    from tuning.data.dataset import Dataset, DataShape

__all__ = ["Evaluation", "evaluate_file", "evaluate_model", "load_classifier"]

_METRICS = "metrics.json"  # what `tune retrain` writes beside the model (results/outputs.py)
_EPSILON = 1e-7  # Keras' clip for cross-entropy, so our loss matches its metric
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SUFFIXES = {".keras": b"PK\x03\x04", ".h5": _HDF5_MAGIC, ".hdf5": _HDF5_MAGIC}  # extension -> leading bytes


@dataclass(frozen=True, eq=False)
class Evaluation:
    """How a classifier did on a labelled image set."""

    accuracy: float
    loss: float  # mean cross-entropy, without the L2 penalty Keras adds to its training loss
    confusion: np.ndarray = field(repr=False)  # (classes, classes) counts; rows: true class, columns: predicted
    class_names: tuple[str, ...] = field(repr=False)

    @property
    def n_images(self) -> int:
        return int(self.confusion.sum())

    @property
    def per_class_accuracy(self) -> dict[str, float]:
        """Share of each class's images classified correctly (its recall), by class name."""
        totals = self.confusion.sum(axis=1)
        hits = np.diag(self.confusion)
        return {
            name: float(hits[i] / totals[i]) if totals[i] else float("nan") for i, name in enumerate(self.class_names)
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_accuracy": self.accuracy,
            "test_loss": self.loss,
            "test_images": self.n_images,
            "per_class_accuracy": self.per_class_accuracy,
            "confusion_matrix": self.confusion.tolist(),
        }


def evaluate_model(
    model: keras.Model, x: np.ndarray, y: np.ndarray, class_names: tuple[str, ...], *, batch_size: int = 1024
) -> Evaluation:
    """Evaluate `model` on images `x` (raw pixels) and labels `y` (0..len(class_names)-1), from one pass of predictions.

    Outputs that are not probabilities (negative, or rows not summing to 1) are
    taken as logits and put through a softmax for the loss.
    """
    images = x.astype("float32").reshape(len(x), *_input_shape(model, x.shape[1:]))
    outputs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
    probabilities = outputs if _are_probabilities(outputs) else _softmax(outputs)
    labels = y.astype(np.int64)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((len(class_names), len(class_names)), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], _EPSILON, 1.0)
    return Evaluation(
        accuracy=float(np.mean(predicted == labels)),
        loss=float(-np.mean(np.log(picked))),
        confusion=confusion,
        class_names=tuple(class_names),
    )


def load_classifier(path: str | Path, shape: DataShape) -> keras.Model:
    """Load a saved Keras model and check it takes images of `shape` and outputs one score per class."""
    path = Path(path)
    if not path.exists():
        raise TuneError(f"model file not found: {path}")
    if path.is_dir():
        raise TuneError(f"{path} is a directory, not a saved Keras model (.keras or .h5 file)")
    problem = _format_problem(path)
    if problem:
        raise TuneError(f"{path} is not a Keras model file: {problem}")
    model = _load(path)
    _input_shape(model, shape.image_shape, path)
    _check_output(model, shape.num_classes, path)
    return model


def evaluate_file(path: str | Path, data: str | Path | None = None) -> Evaluation:
    """Evaluate the saved model at `path` on the test images of `data`, else of the data recorded beside it."""
    loaded = _model_data(Path(path), data)
    model = load_classifier(path, loaded.shape)
    return evaluate_model(model, loaded.x_test, loaded.y_test, loaded.class_names)


def _model_data(path: Path, data: str | Path | None) -> Dataset:
    """`data`, else what the metrics.json beside the model says it was trained on, else Fashion-MNIST."""
    import json

    from tuning.data.sources import load_dataset, load_searched

    metrics = path.parent / _METRICS
    if data is not None or not metrics.is_file():
        return load_dataset(data)
    try:
        recorded = json.loads(metrics.read_text(encoding="utf-8")).get("data", {})
    except (OSError, ValueError, AttributeError):
        return load_dataset(None)
    loaded = load_searched(None, recorded.get("source"), recorded.get("name"), recorded.get("image_shape"))
    if recorded.get("fingerprint") not in (None, loaded.fingerprint):
        raise TuneError(
            f"{metrics} says the model was trained on data with fingerprint {recorded['fingerprint']}, "
            f"but {loaded.source} holds {loaded.fingerprint}; pass --data with the data to evaluate on"
        )
    return loaded


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


def _input_shape(model: keras.Model, image_shape: tuple[int, ...], path: Path | None = None) -> tuple[int, ...]:
    """The model's input shape, where it takes images of `image_shape` (grey ones also with a channel axis)."""
    where = path if path is not None else model.name
    inputs = _tensors(model, "inputs", where)
    shape = tuple(inputs[0].shape[1:])
    accepted = [tuple(image_shape), *([(*image_shape, 1)] if len(image_shape) == 2 else [])]
    if len(inputs) != 1 or shape not in accepted:
        shapes = [tuple(t.shape[1:]) for t in inputs]
        expected = " or ".join(str(s) for s in accepted)
        raise TuneError(f"{where} takes input(s) of shape {_shapes(shapes)}; the data's images are {expected}")
    return shape


def _check_output(model: keras.Model, num_classes: int, where: Path) -> None:
    outputs = _tensors(model, "outputs", where)
    shapes = [tuple(t.shape[1:]) for t in outputs]
    if shapes != [(num_classes,)]:
        raise TuneError(f"{where} outputs shape {_shapes(shapes)}; the data have {num_classes} classes")


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
