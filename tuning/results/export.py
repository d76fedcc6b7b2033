"""The export: a study's best trial with everything needed to rebuild and retrain its exact model.

`Export` is built from a study, written as JSON, and read back with every
field checked. A file is refused, with the file and the problem named, when it
is not JSON, lacks or adds keys, has another format, or when its parameters fall
outside its stored space or do not match its builder parameters: signs of an
edited or foreign file. The `robust` field (`tune export --robust`) is optional:
an export without it reads as before.
"""

from __future__ import annotations

import json
import math
import platform
import shlex
import statistics
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.atomic import write_text_atomically
from tuning.errors import TuneError
from tuning.jsonobject import parse_json_object
from tuning.model.builders import PRECISIONS
from tuning.model.params import check_arch, resolve_params

if TYPE_CHECKING:
    import optuna

    from tuning.data.load import Dataset

__all__ = [
    "FORMAT",
    "DataRecord",
    "Export",
    "RobustCandidate",
    "RobustRecord",
    "check_searched_data",
    "check_searched_model",
    "package_versions",
]

FORMAT = 1  # the export's layout; a reader refuses any other with the number named
_PACKAGES = ("tune", "tensorflow", "keras", "optuna", "optuna-integration", "numpy")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on (without importing them)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@dataclass(frozen=True)
class DataRecord:
    """The data and split the study searched on."""

    fingerprint: str | None
    source: str | None
    train_samples: int | None  # images the best trial trained on
    validation_size: int | None  # the split's setting (scaled down with max_train_samples), to redo the split
    max_train_samples: int | None
    split_seed: int | None
    validation_samples: int | None = None  # images the best trial validated on; absent from older exports
    # The data's name, one image's shape and its class names (data/dataset.py); absent from exports
    # older than other data: Fashion-MNIST's.
    name: str | None = None
    image_shape: list[int] | None = None
    class_names: list[str] | None = None


@dataclass(frozen=True)
class RobustCandidate:
    """One of the study's best configurations, trained again with more seeds on the search's own split."""

    trial: int
    epochs: int  # of each run: the trial's own
    seeds: list[int]  # the trial's own seed first, then the extra ones
    val_accuracies: list[float]  # each run's best validation accuracy, in the order of `seeds`
    mean: float  # of val_accuracies

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RobustCandidate:
        if not isinstance(data, dict) or set(data) != _CANDIDATE_KEYS:
            raise TuneError(f"{where}: each robust candidate must have the keys {sorted(_CANDIDATE_KEYS)}")
        for name in ("trial", "epochs"):
            _check_count(f"robust.{name}", data[name], where)
        seeds, scores = data["seeds"], data["val_accuracies"]
        if not isinstance(seeds, list) or not all(_is_count(seed) for seed in seeds):
            raise TuneError(f"{where}: robust 'seeds' must be a list of whole numbers, but got {seeds!r:.60}")
        if not isinstance(scores, list) or len(scores) != len(seeds) or not all(map(_is_number, scores)):
            raise TuneError(f"{where}: robust 'val_accuracies' must be one number per seed, but got {scores!r:.60}")
        if not seeds or not _is_number(data["mean"]) or not math.isclose(data["mean"], statistics.fmean(scores)):
            raise TuneError(f"{where}: robust trial {data['trial']}: 'mean' is not the mean of its val_accuracies")
        return cls(**data)


@dataclass(frozen=True)
class RobustRecord:
    """How `tune export --robust` chose: every candidate, the best mean, and the plain rule's pick."""

    robust_seeds: int  # extra runs per candidate, besides the trial's own
    chosen_trial: int  # the candidate with the best mean: the exported trial
    plain_trial: int  # the best single run, what `tune export` without --robust exports
    candidates: list[RobustCandidate]  # best single run first
    # None: the candidates were the best complete trials; N: the best at check N, pruned ones
    # included, where fewer configurations completed (a pruned one's first seed was trained in full)
    ranked_at_check: int | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RobustRecord:
        if not isinstance(data, dict) or not _ROBUST_KEYS - {"ranked_at_check"} <= set(data) <= _ROBUST_KEYS:
            raise TuneError(f"{where}: 'robust' must be an object with the keys {sorted(_ROBUST_KEYS)}")
        if data.get("ranked_at_check") is not None:
            _check_count("robust.ranked_at_check", data["ranked_at_check"], where)
        if not isinstance(data["candidates"], list) or not data["candidates"]:
            raise TuneError(f"{where}: robust 'candidates' must be a non-empty list")
        for name in ("robust_seeds", "chosen_trial", "plain_trial"):
            _check_count(f"robust.{name}", data[name], where)
        candidates = [RobustCandidate.from_dict(candidate, where) for candidate in data["candidates"]]
        record = cls(**{**data, "candidates": candidates})
        trials = [candidate.trial for candidate in candidates]
        if record.chosen_trial not in trials or record.plain_trial not in trials:
            raise TuneError(f"{where}: robust 'chosen_trial' and 'plain_trial' must be among its candidates {trials}")
        return record


@dataclass(frozen=True)
class Export:
    """The best complete trial of a study, as `tune export` writes it (format FORMAT)."""

    study: str
    arch: str
    best_trial: int
    best_val_accuracy: float
    best_epoch: int | None  # from 1; None when the trial recorded none
    epochs: int | None  # the best trial's most epochs (its run's --epochs; the study's for older trials)
    precision: str
    params: dict[str, Any]  # as sampled
    model_params: dict[str, Any]  # params with the builder's defaults filled in
    n_params: int | None
    seed: int | None  # the seed the best trial trained with
    space_hash: str
    space: dict[str, Any]
    data: DataRecord
    trials: dict[str, int]  # {"complete": ..., "total": ...} when exported
    robust: RobustRecord | None = None  # how --robust chose best_trial; None (left out of the file) without it
    # How the best trial trained, besides epochs and precision; absent from older exports, None for older trials.
    checks_per_epoch: int | None = None
    steps_per_execution: int | None = None
    model_hash: str | None = None  # a user's model: its file's hash when searched (model/user.py); None: built-in
    versions: dict[str, str] = field(default_factory=package_versions)
    exported_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format: int = FORMAT

    @classmethod
    def from_study(cls, study: optuna.Study, chosen: optuna.trial.FrozenTrial | None = None) -> Export:
        """The best complete trial of `study`, by the study's direction; or `chosen`, a trial of it."""
        from optuna.trial import TrialState

        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            raise TuneError(f"study {study.study_name!r} has no complete trial yet; run `tune run` first")
        best, stored = chosen or study.best_trial, study.user_attrs
        arch = best.user_attrs.get(attrs.ARCH) or stored.get(attrs.ARCH)
        if arch is None:
            raise TuneError(f"study {study.study_name!r} was not created by tune (no architecture recorded)")
        trial = best.user_attrs
        ran = attrs.trial_settings(trial, stored)
        return cls(
            study=study.study_name,
            arch=arch,
            best_trial=best.number,
            best_val_accuracy=float(best.value or 0.0),
            best_epoch=trial.get(attrs.BEST_EPOCH),
            epochs=ran[attrs.EPOCHS],
            precision=ran[attrs.PRECISION],
            params=best.params,
            model_params=resolve_params(arch, best.params),
            n_params=trial.get(attrs.N_PARAMS),
            seed=trial.get(attrs.SEED),
            space_hash=stored.get(attrs.SPACE_HASH, ""),
            space=stored.get(attrs.SPACE, {}),
            data=DataRecord(
                fingerprint=stored.get(attrs.DATA_FINGERPRINT),
                source=trial.get(attrs.DATA_SOURCE),
                train_samples=ran[attrs.TRAIN_SAMPLES],
                validation_size=stored.get(attrs.VALIDATION_SIZE),
                max_train_samples=stored.get(attrs.MAX_TRAIN_SAMPLES),
                split_seed=stored.get(attrs.SPLIT_SEED),
                validation_samples=ran[attrs.VALIDATION_SAMPLES],
                name=stored.get(attrs.DATA_NAME),
                image_shape=stored.get(attrs.IMAGE_SHAPE),
                class_names=stored.get(attrs.CLASS_NAMES),
            ),
            trials={"complete": len(complete), "total": len(study.get_trials(deepcopy=False))},
            checks_per_epoch=ran[attrs.CHECKS_PER_EPOCH],
            steps_per_execution=ran[attrs.STEPS_PER_EXECUTION],
            model_hash=stored.get(attrs.MODEL_HASH),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, `format` first; optional fields only when known (`robust` only when there is one)."""
        body = {k: v for k, v in asdict(self).items() if k != "format" and not (k in _OPTIONAL_KEYS and v is None)}
        body["data"] = {k: v for k, v in body["data"].items() if not (k in _OPTIONAL_DATA_KEYS and v is None)}
        if body.get("robust") and body["robust"]["ranked_at_check"] is None:  # ranked on complete trials
            del body["robust"]["ranked_at_check"]
        return {"format": self.format, **body}

    def write(self, path: str | Path) -> Path:
        """Write the JSON file atomically: a reader never sees half a file."""
        return write_text_atomically(Path(path), json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read(cls, path: str | Path) -> Export:
        """Read and check an export; TuneError naming the file and the problem."""
        path = Path(path)
        return cls.from_dict(_read_json(path), f"export {path}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Export:
        """Check `data` (an export's JSON object) describes a model this tune can rebuild exactly."""
        _check_keys(data, where)
        _check_values(data, where)
        _check_params(data, where)
        model_params = resolve_params(data["arch"], data["model_params"])
        robust = _read_robust(data, where)
        return cls(**{**data, "model_params": model_params, "data": DataRecord(**data["data"]), "robust": robust})


_KEYS = frozenset(f.name for f in fields(Export))
_OPTIONAL_KEYS = frozenset(
    {"robust", "checks_per_epoch", "steps_per_execution", "model_hash"}
)  # added after format 1's first files
_DATA_KEYS = frozenset(f.name for f in fields(DataRecord))
_OPTIONAL_DATA_KEYS = frozenset({"validation_samples", "name", "image_shape", "class_names"})
_ROBUST_KEYS = frozenset(f.name for f in fields(RobustRecord))
_CANDIDATE_KEYS = frozenset(f.name for f in fields(RobustCandidate))


# How saved Keras models begin: a .keras file is a zip archive, a legacy .h5 file HDF5.
_MODEL_MAGIC = (b"PK\x03\x04", b"\x89HDF\r\n\x1a\n")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TuneError(f"export file not found: {path} (write one with `tune export STUDY`)") from None
    except IsADirectoryError:
        raise TuneError(f"export {path} is a directory, not a JSON file") from None
    except OSError as exc:
        raise TuneError(f"cannot read export {path}: {exc.strerror or exc}") from None
    if raw.startswith(_MODEL_MAGIC):
        raise TuneError(
            f"{path} is a saved Keras model, not an export: retrain from the JSON `tune export STUDY` writes, "
            f"or evaluate the model with `tune evaluate {shlex.quote(str(path))}`"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TuneError(f"export {path} is not a text file; an export is the JSON `tune export STUDY` writes") from None
    return parse_json_object(text, f"export {path}", "as `tune export` writes")


def _check_keys(data: dict[str, Any], where: str) -> None:
    if "format" in data and data["format"] != FORMAT:
        raise TuneError(f"{where} has format {data['format']!r}; this tune reads format {FORMAT}")
    missing = sorted(_KEYS - _OPTIONAL_KEYS - set(data))
    if missing:
        raise TuneError(f"{where} lacks key(s) {missing}; write it again with `tune export`")
    extra = sorted(set(data) - _KEYS)
    if extra:
        raise TuneError(f"{where} has unknown key(s) {extra}; was it edited? Write it again with `tune export`")
    for name in ("params", "model_params", "space", "data", "trials", "versions"):
        if not isinstance(data[name], dict):
            raise TuneError(f"{where}: {name!r} must be an object, but got {data[name]!r:.60}")
    if not _DATA_KEYS - _OPTIONAL_DATA_KEYS <= set(data["data"]) <= _DATA_KEYS:
        raise TuneError(f"{where}: 'data' must have the keys {sorted(_DATA_KEYS)}; write it again with `tune export`")


def _check_values(data: dict[str, Any], where: str) -> None:
    if not isinstance(data["arch"], str):
        raise TuneError(f"{where}: 'arch' must name the model, but got arch={data['arch']!r}")
    try:
        check_arch(data["arch"])
    except TuneError as exc:
        raise TuneError(f"{where}: {exc}") from None
    if not isinstance(data["study"], str) or not data["study"]:
        raise TuneError(f"{where}: 'study' must be a non-empty string, but got study={data['study']!r}")
    score = data["best_val_accuracy"]
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise TuneError(f"{where}: 'best_val_accuracy' must be a number, but got best_val_accuracy={score!r}")
    if data["precision"] not in PRECISIONS:
        raise TuneError(f"{where}: 'precision' must be one of {list(PRECISIONS)}, but got {data['precision']!r}")
    for name in ("best_trial", "best_epoch", "epochs", "seed", "checks_per_epoch", "steps_per_execution"):
        _check_count(name, data.get(name), where)
    for name in ("validation_size", "split_seed", "validation_samples"):
        _check_count(f"data.{name}", data["data"].get(name), where)


def _check_count(name: str, value: Any, where: str) -> None:
    if value is not None and not _is_count(value):
        raise TuneError(f"{where}: {name!r} must be a whole number >= 0 or null, but got {name}={value!r}")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_robust(data: dict[str, Any], where: str) -> RobustRecord | None:
    """The `robust` record, if any; it must say that the exported trial is the one it chose."""
    if data.get("robust") is None:
        return None
    record = RobustRecord.from_dict(data["robust"], where)
    if record.chosen_trial != data["best_trial"]:
        raise TuneError(f"{where}: robust 'chosen_trial' {record.chosen_trial} is not its best_trial; was it edited?")
    return record


def _check_params(data: dict[str, Any], where: str) -> None:
    """The sampled params lie in the stored space, and model_params are exactly what they resolve to."""
    from tuning.search.space import check_params, space_from_dict

    params = data["params"]
    space = space_from_dict(data["space"], f"in {where}")
    if space.arch != data["arch"]:
        raise TuneError(f"{where}: its space is for arch {space.arch!r}, not {data['arch']!r}; was it edited?")
    if space.hash != data["space_hash"]:
        raise TuneError(f"{where}: its space does not match its space_hash {data['space_hash']!r}; was it edited?")
    unknown = sorted(set(params) - {p.name for p in space.params})
    if unknown:
        raise TuneError(f"{where}: parameter(s) {unknown} are not in its search space")
    try:
        check_params(space, params)
    except TuneError as exc:
        raise TuneError(f"{where}: {exc}") from None
    # Builder parameters added since the export was written take their defaults on both sides.
    if resolve_params(data["arch"], data["model_params"]) != resolve_params(data["arch"], params):
        raise TuneError(f"{where}: 'model_params' do not match 'params' with defaults filled in; was it edited?")


def check_searched_model(export: Export, *, accept_changed: bool = False) -> None:
    """TuneError where the user's model file changed since the search (unless `accept_changed`): the export's
    parameters were chosen for the model as it was, and a retrain would build another."""
    from tuning.model.registry import get_model

    now = get_model(export.arch).source_hash
    if export.model_hash is None or now == export.model_hash or accept_changed:
        return
    raise TuneError(
        f"model {export.arch} changed since study {export.study!r} searched it (file hash {export.model_hash} "
        f"then, {now} now); restore it, or pass --accept-changed-model to retrain the model as it is now"
    )


def check_searched_data(export: Export, data: Dataset, other: str = "") -> None:
    """TuneError where `data` are not the files the export's study searched on (retrain and robust export alike).

    An error, not a warning: the study's validation split is a list of positions in those
    files, and its accuracies and chosen hyperparameters were measured on them, so results
    on other data would be compared with numbers they do not match. `other` ends the message:
    what else the command can do (retrain: take other data knowingly).
    """
    searched_on = export.data.fingerprint
    if searched_on and searched_on != data.fingerprint:
        raise TuneError(
            f"the data in {data.source} (fingerprint {data.fingerprint}) are not the files study {export.study!r} "
            f"searched on (fingerprint {searched_on}), on which its validation split and accuracies were measured "
            "(the same images in another format, IDX or CSV, have another fingerprint too); "
            f"pass --data with those files{other}"
        )
