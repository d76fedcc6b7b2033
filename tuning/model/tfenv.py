"""Import TensorFlow/Keras quietly and with this machine's thread settings."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

__all__ = ["quiet_tensorflow", "show_tensorflow_logs"]

_LEVEL = "TF_CPP_MIN_LOG_LEVEL"  # TensorFlow's C++ log threshold: 0 everything ... 3 fatal only


def show_tensorflow_logs(show: bool) -> None:
    """Decide, for this process and the workers it starts, whether TensorFlow's C++ lines reach stderr.

    The CLI calls it before TensorFlow loads. Hidden, the level is forced to 3,
    whatever the user's environment says: at 2, a common setting, TensorFlow
    still prints ERROR lines that are not errors of the command (`failed call to
    cuInit` on every machine without a GPU). Shown (`-vv`), the user's own level
    applies, or everything when none is set.
    """
    if show:
        os.environ.setdefault(_LEVEL, "0")
    else:
        os.environ[_LEVEL] = "3"


def quiet_tensorflow(threads: int | None = None) -> None:
    """Silence TensorFlow's C++ and Python log noise; optionally cap its CPU threads.

    Must run before TensorFlow is first imported for the C++ level to apply. A
    level already set (by `show_tensorflow_logs` or the user) is kept.
    """
    os.environ.setdefault(_LEVEL, "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", module="tensorflow")
    quiet = os.environ[_LEVEL] == "3"
    with _stderr_silenced() if quiet else nullcontext():  # TF's C++ start-up lines ignore the level
        import tensorflow as tf
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
        except RuntimeError:  # already initialised in this process: keep its settings
            pass


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (C++ writes bypass sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
