"""`tune`: pruned Optuna searches over Keras image classifiers.

The public API (`run`, `export`, `retrain`, `evaluate`) is `tuning.api`, loaded when one of
them is first used; importing the package (or any of its modules) is cheap: TensorFlow,
Keras, Optuna, pandas and plotly are imported only inside the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed, TuneError

if TYPE_CHECKING:
    from tuning.api import evaluate, export, retrain, run

__all__ = ["TrialFailed", "TuneError", "__version__", "evaluate", "export", "retrain", "run"]

__version__ = "0.1.0"
_API = ("evaluate", "export", "retrain", "run")


def __getattr__(name: str) -> Any:
    """`tuning.run` and the other API functions, from tuning.api on first use (PEP 562)."""
    if name in _API:
        from tuning import api

        return getattr(api, name)
    raise AttributeError(f"module 'tuning' has no attribute {name!r}")
