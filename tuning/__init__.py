"""`tune`: pruned Optuna searches over Keras image classifiers.

The public API (`search`, `export`, `retrain`, `evaluate`) is `tuning.api`;
importing the package is cheap: TensorFlow, Keras, Optuna, pandas and plotly are
imported only inside the functions that need them.
"""

from __future__ import annotations

from tuning.api import evaluate, export, retrain, search
from tuning.errors import TrialFailed, TuneError

__all__ = ["TrialFailed", "TuneError", "__version__", "evaluate", "export", "retrain", "search"]

__version__ = "0.1.0"
