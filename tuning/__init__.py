"""`tune`: pruned Optuna searches over Keras image classifiers.

Importing the package is cheap: TensorFlow, Keras, pandas and plotly are
imported only inside the functions that need them.
"""

from __future__ import annotations

from tuning.errors import TrialFailed, TuneError

__all__ = ["TrialFailed", "TuneError", "__version__"]

__version__ = "0.1.0"
