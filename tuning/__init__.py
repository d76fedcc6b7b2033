"""`tune`: pruned Optuna searches over Keras image classifiers.

The public API (`run`, `export`, `retrain`, `evaluate`, `plots`) is `tuning.api`, loaded when
one of them is first used; a model of your own may declare itself as a `ModelSpec`
(tuning.model.spec). Importing the package (or any of its modules) is cheap: TensorFlow,
Keras, Optuna, pandas and plotly are imported only inside the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed, TuneError

if TYPE_CHECKING:
    from tuning.api import evaluate, export, plots, retrain, run
    from tuning.model.spec import ModelSpec

__all__ = ["ModelSpec", "TrialFailed", "TuneError", "__version__", "evaluate", "export", "plots", "retrain", "run"]

__version__ = "0.1.0"
_API = ("evaluate", "export", "plots", "retrain", "run")


def __getattr__(name: str) -> Any:
    """`tuning.run` and the other API functions, from tuning.api on first use (PEP 562)."""
    if name in _API:
        from tuning import api

        return getattr(api, name)
    if name == "ModelSpec":
        from tuning.model.spec import ModelSpec

        return ModelSpec
    raise AttributeError(f"module 'tuning' has no attribute {name!r}")
