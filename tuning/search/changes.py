"""Settings a run may change on an existing study: which changed, recorded on the study with the time.

They change what trials cost and how they are judged, not what they score on
(that is the study's identity, which a run may not change), so a later run may
use others; the study keeps a record, and the CLI says so in one line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.search.study import study_checks_per_epoch

if TYPE_CHECKING:
    import optuna

    from tuning.search.config import RunConfig

__all__ = ["CHANGEABLE", "SettingChanges", "record_changes", "run_settings"]

logger = logging.getLogger(__name__)

# RunConfig fields a run may set differently on an existing study.
CHANGEABLE = (
    "sampler",
    "startup_trials",
    "pruner",
    "reduction_factor",
    "bootstrap_count",
    "cost_limit",
    "epochs",
    "precision",
    "checks_per_epoch",
)
# Of those, the ones a study keeps from its creation: pruning compares trials check by check.
KEPT = ("checks_per_epoch",)


@dataclass(frozen=True)
class SettingChanges:
    """How a run's settings differ from the study's latest ones."""

    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # setting: (before, this run)
    ignored: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # setting: (the study's, asked)

    def __bool__(self) -> bool:
        return bool(self.changed or self.ignored)


def run_settings(config: RunConfig, stored: dict[str, Any]) -> dict[str, Any]:
    """The changeable settings this run uses: its own, except those the study keeps."""
    own = {name: getattr(config, name) for name in CHANGEABLE}
    return {**own, **{name: value for name, value in _created(stored).items() if name in KEPT}}


def record_changes(study: optuna.Study, config: RunConfig) -> SettingChanges:
    """Compare the run's settings with the study's latest, record any difference on the study, and return it."""
    stored = study.user_attrs
    before = {**_created(stored), **stored.get(attrs.RUN_SETTINGS, {})}
    asked = {name: getattr(config, name) for name in CHANGEABLE}
    now = run_settings(config, stored)
    changes = SettingChanges(
        changed={k: (before[k], now[k]) for k in CHANGEABLE if k in before and before[k] != now[k]},
        ignored={k: (now[k], asked[k]) for k in KEPT if asked[k] is not None and asked[k] != now[k]},
    )
    if changes:
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "changed": {k: list(v) for k, v in changes.changed.items()},
            "ignored": {k: list(v) for k, v in changes.ignored.items()},
        }
        study.set_user_attr(attrs.SETTING_CHANGES, [*stored.get(attrs.SETTING_CHANGES, []), entry])
        logger.info("study %s: settings differ from its latest run: %s", study.study_name, entry)
    if changes.changed or stored.get(attrs.RUN_SETTINGS) != now:
        study.set_user_attr(attrs.RUN_SETTINGS, now)
    return changes


def _created(stored: dict[str, Any]) -> dict[str, Any]:
    """The changeable settings a study records from its creation (studies older than RUN_SETTINGS have only these)."""
    created: dict[str, Any] = {
        "precision": attrs.precision_of(stored),
        "checks_per_epoch": study_checks_per_epoch(stored),
    }
    if attrs.EPOCHS in stored:
        created["epochs"] = stored[attrs.EPOCHS]
    return created
