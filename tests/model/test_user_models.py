"""A user's model by reference: a file or a module, a function or a ModelSpec; and every way one can be wrong."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tuning.data.dataset import DataShape
from tuning.errors import TrialFailed, TuneError
from tuning.model.builders import build_model
from tuning.model.registry import default_study, get_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "residual" / "models.py"
DIGITS = DataShape((8, 8), 10)


def test_the_example_model_loads_by_file_with_its_defaults_epochs_and_hash() -> None:
    spec = get_model(f"{EXAMPLE}:build")
    assert spec.name == f"{EXAMPLE}:build" and spec.epochs == 10
    assert spec.defaults == {"width": 32, "blocks": 2, "dropout": 0.2}
    assert spec.source_hash is not None and len(spec.source_hash) == 16
    assert spec.resolve({"width": 8})["width"] == 8 and spec.resolve({})["learning_rate"] == 1e-3
    assert default_study(spec.name) == "models.build"
    model = build_model(spec.name, {"width": 8, "blocks": 1}, DIGITS)
    assert tuple(model.outputs[0].shape[1:]) == (10,)


def test_a_relative_file_and_a_module_name_load_the_same_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE.parent.parent)
    assert get_model("residual/models.py:build").name == f"{EXAMPLE}:build"
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    by_module = get_model("models:build")
    assert by_module.name == "models:build" and by_module.epochs == 10
    assert by_module.source_hash == get_model(f"{EXAMPLE}:build").source_hash
    sys.modules.pop("models", None)


def test_a_model_spec_may_declare_everything(tmp_path: Path) -> None:
    path = tmp_path / "spec_model.py"
    path.write_text(
        "from tuning.model.spec import ModelSpec\n"
        "from tuning.model.mlp import build\n"
        "WIDE = ModelSpec(name='wide', build=build, defaults={'n_layers': 1, 'units': 64, 'dropout': 0.0, 'l2': 0.0},"
        " layered={'units': 'n_layers', 'dropout': 'n_layers'}, epochs=3, words=lambda p: 'A wide MLP.')\n"
    )
    spec = get_model(f"{path}:WIDE")
    assert spec.name == f"{path}:WIDE" and spec.epochs == 3 and spec.source_hash is not None
    assert spec.parameter_names() is not None and "units_3" in spec.parameter_names()
    assert spec.describe({}).startswith("A wide MLP. Adam at learning rate 0.001")


def test_a_changed_file_is_loaded_again(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def build(p, shape):\n    return None\nbuild.epochs = 3\n")
    assert get_model(f"{path}:build").epochs == 3
    path.write_text("def build(p, shape):\n    return None\nbuild.epochs = 4\n")
    os.utime(path, ns=(1, 10**18))  # a new modification time, whatever the clock's resolution
    assert get_model(f"{path}:build").epochs == 4


@pytest.mark.parametrize(
    ("source", "reference", "message"),
    [
        (None, "nowhere.py:build", r"model 'nowhere.py:build': no file .*nowhere.py"),
        ("x = 1\n", "m.py:build", "m.py defines no 'build'"),
        ("build = 3\n", "m.py:build", "build is a int, not a build function"),
        ("import not_a_module_at_all\n", "m.py:build", "does not import: ModuleNotFoundError"),
        ("def build(p, s):\n    pass\nbuild.epochs = 0\n", "m.py:build", r"build.epochs must be a whole number >= 1"),
        ("def build(p, s):\n    pass\nbuild.defaults = [1]\n", "m.py:build", "build.defaults must be a dict"),
        (None, "no_such_module_here:build", "does not import: ModuleNotFoundError"),
        (None, "m.py:", "expected FILE.py:function or module:function"),
    ],
)
def test_bad_references_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str | None, reference: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if source is not None:
        (tmp_path / "m.py").write_text(source)
    with pytest.raises(TuneError, match=message):
        get_model(reference)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("raise ValueError('no such layer')", r"failed to build: ValueError: no such layer"),
        ("return 'a model'", "returned a str, not a keras.Model"),
        (
            "import keras\n    i = keras.Input((8, 8))\n"
            "    return keras.Model(i, keras.layers.Dense(3)(keras.layers.Flatten()(i)))",
            r"outputs \[\(3,\)\]; the data need one output of 10",
        ),
    ],
    ids=["raises", "not-a-model", "wrong-outputs"],
)
def test_a_build_that_fails_fails_its_trial_with_the_reason(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.py"
    path.write_text(f"def build(params, shape):\n    {body}\n")
    with pytest.raises(TrialFailed, match=message):
        build_model(f"{path}:build", {}, DIGITS)


def test_a_parameter_the_model_never_reads_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "small.py"
    path.write_text(
        "def build(params, shape):\n"
        "    import keras\n"
        "    i = keras.Input(shape.image_shape)\n"
        "    x = keras.layers.Dense(params['units'])(keras.layers.Flatten()(i))\n"
        "    return keras.Model(i, keras.layers.Dense(shape.num_classes, activation='softmax')(x))\n"
    )
    for _ in range(2):
        build_model(f"{path}:build", {"units": 4, "depth": 3, "learning_rate": 0.01}, DIGITS)
    said = [r.getMessage() for r in caplog.records if "never reads" in r.getMessage()]
    assert said == [f"model {path}:build never reads depth: the search varies them for nothing"]
