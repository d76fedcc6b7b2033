"""Search spaces: read and validate a TOML file, hash it, and sample from it.

This is the only module that calls ``trial.suggest_*``. A space file looks like::

    arch = "models.py:build"       # the model: a built-in's name, or a user's (model/registry.py)

    [params.n_layers]
    type = "int"
    low = 1
    high = 3

    [params.units_2]
    type = "int"
    low = 32
    high = 1024
    log = true
    when = { n_layers = [2, 3] }   # exists only in trials with 2 or 3 layers

    [start]                        # optional: a new study's first trial (runner.py)
    n_layers = 2
    units_1 = 600
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.errors import TuneError
from tuning.model.params import depth_limit, parameter_names, resolve_params
from tuning.model.registry import BUILT_IN, get_model
from tuning.model.spec import LR_SCHEDULES

if TYPE_CHECKING:
    import optuna

    from tuning.data.dataset import DataShape

__all__ = [
    "Param",
    "SearchSpace",
    "check_params",
    "check_queued",
    "default_params",
    "default_space_path",
    "distribution",
    "fit_space",
    "in_space",
    "load_space",
    "space_from_dict",
    "suggest",
]

_TYPES = ("int", "float", "categorical")
_KEYS = {
    "int": {"type", "low", "high", "log", "step", "when", "help"},
    "float": {"type", "low", "high", "log", "step", "when", "help"},
    "categorical": {"type", "choices", "when", "help"},
}
_TOP_KEYS = {"arch", "description", "params", "start"}


@dataclass(frozen=True)
class Param:
    """One hyperparameter: a numeric range or a list of choices, maybe conditional."""

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()
    # (parent name, values of the parent for which this parameter exists)
    when: tuple[str, tuple[Any, ...]] | None = None


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space for one architecture."""

    arch: str
    params: tuple[Param, ...]
    source: str
    # The file's [start] table: where a new study begins (`default_params`). Not part of
    # the space's identity (to_dict, hash): a study's region is the same whatever it began with.
    start: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, the same for files that differ only in comments or layout."""
        return {"arch": self.arch, "params": [asdict(p) for p in self.params]}

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def default_space_path(arch: str) -> Path:
    """The space shipped with `tune` for the built-in model `arch` (search_spaces/ARCH.toml)."""
    if arch not in BUILT_IN:
        get_model(arch)  # an unknown name: that error first
        raise TuneError(f"model {arch} has no space shipped with tune: pass --space FILE (see examples/)")
    checkout = Path(__file__).resolve().parents[2] / "search_spaces" / f"{arch}.toml"
    if checkout.is_file():  # a source checkout or an editable install
        return checkout
    return Path(str(resources.files("tuning.search_spaces").joinpath(f"{arch}.toml")))


def load_space(path: str | Path, arch: str | None = None) -> SearchSpace:
    """Read and validate a space file; `arch`, if given, must match the file's."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TuneError(f"search space file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TuneError(f"cannot read search space file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TuneError(f"search space {path}: not valid TOML: {exc}") from None
    return _parse_space(raw, str(path), arch)


def space_from_dict(data: Any, source: str) -> SearchSpace:
    """Rebuild and re-validate a space from its `SearchSpace.to_dict()` form (as stored in a study or export)."""
    if not isinstance(data, dict) or not isinstance(data.get("params"), list):
        raise TuneError(f"search space {source}: expected {{'arch': ..., 'params': [...]}}, but got {data!r:.80}")
    table: dict[str, Any] = {}
    for entry in data["params"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise TuneError(f"search space {source}: every parameter needs a 'name', but got {entry!r:.80}")
        table[entry["name"]] = _toml_spec(entry, f"search space {source}: parameter {entry['name']!r}")
    return _parse_space({"arch": data.get("arch"), "params": table}, source, None)


def _toml_spec(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """A `to_dict()` parameter entry in the shape of a TOML table, for `_parse_param` to check."""
    unknown = set(entry) - {f.name for f in fields(Param)}
    if unknown:
        raise TuneError(f"{where}: unknown key(s) {sorted(unknown)}")
    keys = ("type", "choices") if entry.get("type") == "categorical" else ("type", "low", "high", "log", "step")
    spec = {key: entry[key] for key in keys if entry.get(key) is not None}
    when = entry.get("when")
    if when is None:
        return spec
    if not (isinstance(when, list) and len(when) == 2 and isinstance(when[0], str)):
        raise TuneError(f"{where}: 'when' must be [parent name, [values]], but got when={when!r}")
    return {**spec, "when": {when[0]: when[1]}}


def _parse_space(raw: dict[str, Any], source: str, arch: str | None) -> SearchSpace:
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise TuneError(f"search space {source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    file_arch = _model_name(raw.get("arch"), source)
    if arch is not None and get_model(arch).name != file_arch:
        raise TuneError(f"search space {source} is for model {file_arch!r}, not {arch!r}")
    table = raw.get("params")
    if not isinstance(table, dict) or not table:
        raise TuneError(f"search space {source}: needs a non-empty [params.NAME] table per parameter")
    known = parameter_names(file_arch)  # None: a user's model that does not declare its parameters
    params: list[Param] = []
    for name, spec in table.items():
        where = f"search space {source}: parameter {name!r}"
        if known is not None and name not in known:
            raise TuneError(f"{where} is not a {file_arch} parameter; known: {', '.join(sorted(known))}")
        params.append(_parse_param(name, spec, where, {p.name: p for p in params}))
    space = SearchSpace(arch=file_arch, params=tuple(params), source=source)
    start = raw.get("start", {})
    if not isinstance(start, dict):
        raise TuneError(f"search space {source}: 'start' must be a [start] table of parameter values")
    try:
        start = check_queued(space, start)
    except TuneError as exc:
        raise TuneError(f"search space {source}: [start]: {exc}") from None
    return replace(space, start=start)


def _model_name(arch: Any, source: str) -> str:
    """The model a space names, as the registry names it: a user's file relative to the space file's folder."""
    from tuning.model.user import is_reference

    if not isinstance(arch, str) or not arch:
        raise TuneError(
            f"search space {source}: 'arch' must name the model ({', '.join(BUILT_IN)}, or yours as "
            f"FILE.py:function or module:function), but got arch={arch!r}"
        )
    where, _, function = arch.rpartition(":")
    if is_reference(arch) and (where.endswith(".py") or "/" in where) and not Path(where).is_absolute():
        folder = Path(source).parent if Path(source).is_file() else Path.cwd()
        arch = f"{(folder / where).resolve()}:{function}"
    try:
        return get_model(arch).name
    except TuneError as exc:
        raise TuneError(f"search space {source}: {exc}") from None


def _parse_param(name: str, spec: Any, where: str, earlier: dict[str, Param]) -> Param:
    if not isinstance(spec, dict):
        raise TuneError(f"{where} must be a table, but got {spec!r}")
    kind = spec.get("type")
    if kind not in _TYPES:
        raise TuneError(f"{where}: unknown type {kind!r}; use one of {list(_TYPES)}")
    unknown = set(spec) - _KEYS[kind]
    if unknown:
        raise TuneError(f"{where}: unknown key(s) {sorted(unknown)} for type {kind!r}; allowed: {sorted(_KEYS[kind])}")
    when = _parse_when(spec.get("when"), where, earlier)
    if name == "lr_schedule" and kind != "categorical":
        raise TuneError(f"{where} must be categorical with choices from {list(LR_SCHEDULES)}")
    if kind == "categorical":
        choices = _parse_choices(spec.get("choices"), where)
        if name == "lr_schedule" and not set(choices) <= set(LR_SCHEDULES):
            raise TuneError(f"{where}: choices must come from {list(LR_SCHEDULES)}, but got {list(choices)}")
        return Param(name=name, type=kind, choices=choices, when=when)
    low, high, step = (_number(spec, key, kind, where) for key in ("low", "high", "step"))
    log = spec.get("log", False)
    _check_range(low, high, step, log, where)
    return Param(name=name, type=kind, low=low, high=high, log=log, step=step, when=when)


def _number(spec: dict[str, Any], key: str, kind: str, where: str) -> Any:
    value = spec.get(key)
    if value is None and key == "step":
        return None
    if value is None:
        raise TuneError(f"{where}: missing {key!r}")
    wanted = int if kind == "int" else (int, float)
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise TuneError(f"{where}: {key!r} must be a{'n int' if kind == 'int' else ' number'}, but got {key}={value!r}")
    if not math.isfinite(value):
        raise TuneError(f"{where}: {key!r} must be finite, but got {key}={value!r}")
    return value if kind == "int" else float(value)


def _check_range(low: Any, high: Any, step: Any, log: Any, where: str) -> None:
    if not isinstance(log, bool):
        raise TuneError(f"{where}: 'log' must be true or false, but got log={log!r}")
    if low >= high:
        raise TuneError(f"{where}: low must be < high, but got low={low}, high={high}")
    if log and low <= 0:
        raise TuneError(f"{where}: a log scale needs low > 0, but got low={low}")
    if step is None:
        return
    if log:
        raise TuneError(f"{where}: 'step' cannot be combined with log = true")
    if not 0 < step <= high - low:
        raise TuneError(f"{where}: step must be in (0, high - low], but got step={step}")


def _parse_choices(choices: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(choices, list) or not choices:
        raise TuneError(f"{where}: 'choices' must be a non-empty list, but got choices={choices!r}")
    for choice in choices:
        if not isinstance(choice, (bool, int, float, str)):
            raise TuneError(f"{where}: choices must be numbers, strings or booleans, but got {choice!r}")
    if len(set(map(repr, choices))) != len(choices):
        raise TuneError(f"{where}: choices repeat a value: {choices!r}")
    return tuple(choices)


def _parse_when(when: Any, where: str, earlier: dict[str, Param]) -> tuple[str, tuple[Any, ...]] | None:
    if when is None:
        return None
    if not isinstance(when, dict) or len(when) != 1:
        raise TuneError(f"{where}: 'when' must name one earlier parameter, e.g. when = {{ n_layers = [2, 3] }}")
    ((parent_name, values),) = when.items()
    parent = earlier.get(parent_name)
    if parent is None:
        raise TuneError(f"{where}: 'when' refers to {parent_name!r}, which is not defined above it")
    if parent.type == "float":
        raise TuneError(f"{where}: 'when' cannot depend on the float parameter {parent_name!r}")
    if not isinstance(values, list) or not values:
        raise TuneError(f"{where}: 'when' needs a non-empty list of {parent_name} values, but got {values!r}")
    possible = _possible_values(parent)
    impossible = [v for v in values if v not in possible]
    if impossible:
        raise TuneError(f"{where}: 'when' lists {parent_name} values it can never take: {impossible}")
    return parent_name, tuple(values)


def _possible_values(param: Param) -> list[Any]:
    if param.type == "categorical":
        return list(param.choices)
    step = int(param.step or 1)
    return list(range(int(param.low or 0), int(param.high or 0) + 1, step))


def _is_active(param: Param, values: dict[str, Any]) -> bool:
    if param.when is None:
        return True
    parent, allowed = param.when
    return parent in values and values[parent] in allowed


def suggest(trial: optuna.trial.Trial, space: SearchSpace) -> dict[str, Any]:
    """Sample one configuration from `space`; inactive conditional parameters are left out."""
    values: dict[str, Any] = {}
    for p in space.params:
        if not _is_active(p, values):
            continue
        if p.type == "categorical":
            values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        elif p.type == "int":
            values[p.name] = trial.suggest_int(
                p.name, int(p.low or 0), int(p.high or 0), step=int(p.step or 1), log=p.log
            )
        else:
            values[p.name] = trial.suggest_float(p.name, float(p.low or 0), float(p.high or 0), step=p.step, log=p.log)
    return values


def distribution(p: Param) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution `suggest` samples `p` from: what a trial records for it."""
    import optuna

    if p.type == "categorical":
        return optuna.distributions.CategoricalDistribution(list(p.choices))
    if p.type == "int":
        return optuna.distributions.IntDistribution(int(p.low or 0), int(p.high or 0), log=p.log, step=int(p.step or 1))
    return optuna.distributions.FloatDistribution(float(p.low or 0), float(p.high or 0), log=p.log, step=p.step)


def in_space(space: SearchSpace, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `space` that `values` holds and that apply (their `when` holds), in space order."""
    kept: dict[str, Any] = {}
    for p in space.params:
        if p.name in values and _is_active(p, kept):
            kept[p.name] = values[p.name]
    return kept


def fit_space(space: SearchSpace, shape: DataShape) -> SearchSpace:
    """`space` without the depths images of `shape` cannot take (a cnn on 8x8 images: at most 2 blocks).

    The depth parameter's range ends at the limit, and parameters that exist only for
    deeper networks are left out. TuneError where no depth in the space fits.
    """
    limit = depth_limit(space.arch, shape.image_shape)
    if limit is None:
        return space
    name, deepest = limit
    size = "x".join(str(n) for n in shape.image_shape[:2])
    too_deep = f"images of {size} take at most {deepest} pooling blocks ({name} <= {deepest})"
    depth = next((p for p in space.params if p.name == name), None)
    if depth is None:
        if resolve_params(space.arch, {})[name] > deepest:
            fixed = f"but {name} is fixed at its default; add it to the space"
            raise TuneError(f"space {space.source}: {too_deep}, {fixed}")
        return space
    kept = [v for v in _possible_values(depth) if v <= deepest] if depth.type == "categorical" else []
    if (depth.type == "categorical" and not kept) or (depth.low is not None and depth.low > deepest):
        raise TuneError(f"space {space.source}: {too_deep}, but {name} starts above that")
    if depth.type == "categorical":
        fitted = replace(depth, choices=tuple(kept))
    else:
        fitted = replace(depth, high=min(depth.high or deepest, deepest))
    params = []
    for p in space.params:
        if p.when is not None and p.when[0] == name:
            values = tuple(v for v in p.when[1] if v <= deepest)
            if not values:
                continue  # exists only for networks these images cannot take
            p = replace(p, when=(name, values))
        params.append(fitted if p.name == name else p)
    return replace(space, params=tuple(params))


def default_params(space: SearchSpace) -> dict[str, Any]:
    """The start configuration as a point of `space`: a new study's first trial (`--defaults-first`).

    The space's [start] values; for the rest, the builder defaults (model/params.py) where
    the space holds them. A parameter whose default lies outside the space (or under a
    parent left out) is not given, so the sampler draws it for the trial.
    """
    values = resolve_params(space.arch, space.start)
    params: dict[str, Any] = {}
    for p in space.params:
        if _is_active(p, params) and p.name in values and _contains(p, values[p.name]):
            params[p.name] = values[p.name]
    return params


def check_params(space: SearchSpace, params: dict[str, Any]) -> None:
    """Raise TuneError if `params` could not have been sampled from `space`."""
    for p in space.params:
        if not _is_active(p, params):
            continue
        if p.name not in params:
            raise TuneError(f"parameter {p.name!r} is missing; the space {space.source} requires it")
        value = params[p.name]
        if not _contains(p, value):
            raise TuneError(f"parameter {p.name}={value!r} lies outside its space ({_describe(p)})")


def check_queued(space: SearchSpace, params: dict[str, Any]) -> dict[str, Any]:
    """A partial configuration to queue (`tune enqueue`): TuneError naming the first parameter it cannot hold.

    Every name must be a parameter of `space` that applies: a conditional one needs
    its parent given too, with a value it exists for. Every value must be one the
    parameter can take (type, range, grid, choices). Parameters left out are sampled
    as usual. Returns the values in space order, as the trial will hold them (a whole
    number given for a float parameter becomes a float).
    """
    by_name = {p.name: p for p in space.params}
    unknown = [name for name in params if name not in by_name]
    if unknown:
        raise TuneError(f"unknown parameter {unknown[0]!r}; the space {space.source} has: {', '.join(by_name)}")
    checked: dict[str, Any] = {}
    for p in space.params:
        if p.name in params:
            _check_applies(p, params)
            checked[p.name] = _checked_value(p, params[p.name])
    return checked


def _check_applies(p: Param, params: dict[str, Any]) -> None:
    if p.when is None:
        return
    parent, allowed = p.when
    if parent not in params:
        raise TuneError(f"parameter {p.name!r} exists only when {parent} is one of {list(allowed)}; give {parent} too")
    if params[parent] not in allowed:
        raise TuneError(
            f"parameter {p.name!r} does not apply when {parent}={params[parent]!r} "
            f"(only when {parent} is one of {list(allowed)}); leave it out"
        )


def _checked_value(p: Param, value: Any) -> Any:
    where = f"parameter {p.name}={value!r}"
    if p.type == "categorical":
        if not _contains(p, value):
            raise TuneError(f"{where} is not one of its choices {list(p.choices)}")
        return value
    wanted = int if p.type == "int" else (int, float)
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise TuneError(f"{where} must be a{'n int' if p.type == 'int' else ' number'} ({_describe(p)})")
    if not _contains(p, value):
        raise TuneError(f"{where} lies outside its space ({_describe(p)})")
    if p.step is not None and not _on_grid(value, float(p.low or 0), p.step):
        raise TuneError(f"{where} is not on its grid ({_describe(p)}, step {p.step})")
    return value if p.type == "int" else float(value)


def _on_grid(value: float, low: float, step: float) -> bool:
    k = (value - low) / step
    return abs(k - round(k)) < 1e-8  # Optuna's own tolerance for stepped distributions


def _contains(p: Param, value: Any) -> bool:
    if p.type == "categorical":
        return any(value == c and type(value) is type(c) for c in p.choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if p.type == "int" and not float(value).is_integer():
        return False
    return float(p.low or 0) <= value <= float(p.high or 0)


def _describe(p: Param) -> str:
    if p.type == "categorical":
        return f"choices {list(p.choices)}"
    return f"{p.type} in [{p.low}, {p.high}]" + (" log" if p.log else "")
