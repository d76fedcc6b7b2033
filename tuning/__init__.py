"""`tune`: pruned Optuna searches over Keras image classifiers.

The public API (`run`, `export`, `retrain`, `evaluate`) is `tuning.api`;
importing the package is cheap: TensorFlow, Keras, Optuna, pandas and plotly are
imported only inside the functions that need them.
"""

from __future__ import annotations

from tuning.api import evaluate, export, retrain, run
from tuning.errors import TrialFailed, TuneError

__all__ = ["TrialFailed", "TuneError", "__version__", "evaluate", "export", "retrain", "run"]

__version__ = "0.1.0"
