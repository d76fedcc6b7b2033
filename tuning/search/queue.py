"""Queue a configuration of your own on a study (`tune enqueue`): the next `tune run` runs it first.

The configuration is checked against the space the study was created with (stored
on it), so a queued trial is one the search could have sampled. A queued trial
counts towards `tune run --trials` like any other, and every queued trial runs,
even where that takes the study past the total (tuning.search.worker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.errors import TuneError

if TYPE_CHECKING:
    import optuna

    from tuning.search.space import SearchSpace

__all__ = ["enqueue", "study_space"]


def study_space(study: optuna.Study) -> SearchSpace:
    """The search space `study` was created with, rebuilt from its stored form."""
    from tuning.search.space import space_from_dict

    stored = study.user_attrs.get(attrs.SPACE)
    if stored is None:
        raise TuneError(f"study {study.study_name!r} holds no search space; it was not created by `tune run`")
    return space_from_dict(stored, f"of study {study.study_name!r}")


def enqueue(study: optuna.Study, params: dict[str, Any]) -> dict[str, Any]:
    """Check `params` against the study's space, then queue them as a WAITING trial; return what was queued."""
    from tuning.search.space import check_queued

    queued = check_queued(study_space(study), params)
    study.enqueue_trial(queued)
    return queued
