from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tuning.errors import TuneError
from tuning.search.space import check_params, check_queued, default_space_path, load_space, suggest

MINIMAL = 'arch = "mlp"\n[params.n_layers]\ntype = "int"\nlow = 1\nhigh = 3\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_shipped_spaces_load(arch: str) -> None:
    space = load_space(default_space_path(arch), arch)
    assert space.arch == arch
    names = {p.name for p in space.params}
    assert {"l2", "learning_rate", "batch_size"} <= names
    assert ("n_layers" if arch == "mlp" else "n_blocks") in names


def test_hash_ignores_comments_and_layout(tmp_path: Path) -> None:
    plain = load_space(write(tmp_path, MINIMAL))
    commented = load_space(write(tmp_path, "# a comment\n\n" + MINIMAL.replace("low = 1", "low   =   1  # lowest")))
    changed = load_space(write(tmp_path, MINIMAL.replace("high = 3", "high = 2")))
    assert plain.hash == commented.hash
    assert plain.hash != changed.hash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace('"int"', '"integer"'), "unknown type 'integer'"),
        (MINIMAL.replace("high = 3", "high = 1"), "low must be < high, but got low=1, high=1"),
        ('arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 0.0\nhigh = 1.0\nlog = true\n', "log scale needs low > 0"),
        ('arch = "mlp"\n[params.batch_size]\ntype = "categorical"\nchoices = []\n', "non-empty list"),
        (MINIMAL + "colour = 3\n", "unknown key(s) ['colour']"),
        (MINIMAL.replace("[params.n_layers]", "[params.n_layrs]"), "is not a mlp parameter"),
        (MINIMAL.replace('"mlp"', '"rnn"'), "unknown model 'rnn'"),
        (MINIMAL.replace("low = 1", 'low = "one"'), "'low' must be an int"),
        (MINIMAL.replace("high = 3", ""), "missing 'high'"),
        ('arch = "mlp"\n', "needs a non-empty [params.NAME] table"),
        (
            MINIMAL + '[params.units_2]\ntype = "int"\nlow = 8\nhigh = 64\nwhen = { n_blocks = [2] }\n',
            "not defined above it",
        ),
        (
            MINIMAL + '[params.units_2]\ntype = "int"\nlow = 8\nhigh = 64\nwhen = { n_layers = [7] }\n',
            "values it can never take: [7]",
        ),
        (MINIMAL + "[params.l2\n", "not valid TOML"),
        ('arch = "mlp"\ncolour = 1\n' + MINIMAL[len('arch = "mlp"\n') :], "unknown key(s) ['colour']"),
        (
            'arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 0.1\nhigh = 1.0\nlog = true\nstep = 0.1\n',
            "cannot be combined with log",
        ),
        (
            'arch = "cnn"\n[params.lr_schedule]\ntype = "categorical"\nchoices = ["cosine", "linear"]\n',
            "choices must come from ['constant', 'cosine'], but got ['cosine', 'linear']",
        ),
        ('arch = "cnn"\n[params.lr_schedule]\ntype = "int"\nlow = 0\nhigh = 1\n', "must be categorical"),
    ],
)
def test_malformed_space_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TuneError) as err:
        load_space(write(tmp_path, text))
    assert message in str(err.value)
    assert str(tmp_path / "space.toml") in str(err.value)


def test_missing_file_and_wrong_arch(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match="not found"):
        load_space(tmp_path / "nope.toml")
    with pytest.raises(TuneError, match="is for model 'mlp', not 'cnn'"):
        load_space(default_space_path("mlp"), "cnn")


def test_suggest_follows_conditions() -> None:
    space = load_space(default_space_path("mlp"))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        params = suggest(trial, space)
        depth = params["n_layers"]
        assert {f"units_{i}" for i in range(1, depth + 1)} <= set(params)
        assert not {f"units_{i}" for i in range(depth + 1, 4)} & set(params)
        assert 1e-7 <= params["l2"] <= 1e-3
        assert params["batch_size"] in (64, 128, 256, 512)
        check_params(space, params)  # anything sampled lies inside its space
        study.tell(trial, 0.5)


def test_check_params_rejects_values_outside_space() -> None:
    space = load_space(default_space_path("cnn"))
    good = {
        "n_blocks": 1,
        "filters_1": 32,
        "convs_per_block": 1,
        "kernel_size": 3,
        "batch_norm": True,
        "conv_dropout": 0.1,
        "dense_units": 128,
        "dense_dropout": 0.2,
        "l2": 1e-5,
        "learning_rate": 1e-3,
        "batch_size": 128,
        "lr_schedule": "cosine",
        "augment": False,
    }
    check_params(space, good)
    with pytest.raises(TuneError, match="filters_1=999"):
        check_params(space, {**good, "filters_1": 999})
    with pytest.raises(TuneError, match="'filters_2' is missing"):
        check_params(space, {**good, "n_blocks": 2})
    with pytest.raises(TuneError, match="kernel_size=4"):
        check_params(space, {**good, "kernel_size": 4})


STEPPED = (
    MINIMAL
    + '[params.units_1]\ntype = "int"\nlow = 64\nhigh = 512\nstep = 64\n'
    + '[params.dropout_1]\ntype = "float"\nlow = 0.0\nhigh = 0.5\nstep = 0.1\n'
    + '[params.units_2]\ntype = "int"\nlow = 32\nhigh = 256\nwhen = { n_layers = [2, 3] }\n'
)


def test_check_queued_keeps_a_partial_configuration_in_space_order(tmp_path: Path) -> None:
    space = load_space(write(tmp_path, STEPPED))
    checked = check_queued(space, {"dropout_1": 0, "units_1": 128, "n_layers": 2, "units_2": 40})
    assert checked == {"n_layers": 2, "units_1": 128, "dropout_1": 0.0, "units_2": 40}
    assert list(checked) == ["n_layers", "units_1", "dropout_1", "units_2"] and isinstance(checked["dropout_1"], float)
    assert check_queued(space, {}) == {}  # everything sampled
    assert check_queued(space, {"dropout_1": 0.30000000000000004}) == {"dropout_1": 0.30000000000000004}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"units_1": 100}, r"units_1=100 is not on its grid \(int in \[64, 512\], step 64\)"),
        ({"dropout_1": 0.25}, "dropout_1=0.25 is not on its grid"),
        ({"units_1": 1024}, "units_1=1024 lies outside its space"),
        ({"n_layers": True}, "n_layers=True must be an int"),
        ({"n_layers": 1, "units_2": 64}, "'units_2' does not apply when n_layers=1"),
        ({"units_2": 64}, "'units_2' exists only when n_layers is one of \\[2, 3\\]; give n_layers too"),
        ({"n_layers": 4, "units_2": 64}, "n_layers=4 lies outside"),  # the parent is checked first
        ({"units_3": 64}, "unknown parameter 'units_3'; the space .* has: n_layers, units_1, dropout_1, units_2"),
    ],
)
def test_check_queued_names_the_parameter_it_refuses(tmp_path: Path, params: dict, message: str) -> None:
    space = load_space(write(tmp_path, STEPPED))
    with pytest.raises(TuneError, match=message):
        check_queued(space, params)


def test_fit_space_ends_the_cnn_depth_where_the_images_do(tmp_path: Path) -> None:
    from tuning.data.dataset import DataShape
    from tuning.search.space import fit_space

    shipped = load_space(default_space_path("cnn"))
    assert fit_space(shipped, DataShape((28, 28), 10)) == shipped  # Fashion-MNIST: the space as shipped
    assert fit_space(shipped, DataShape((28, 28), 10)).hash == shipped.hash
    small = fit_space(shipped, DataShape((8, 8), 10))
    by_name = {p.name: p for p in small.params}
    assert by_name["n_blocks"].high == 2 and "filters_3" not in by_name
    assert by_name["filters_2"].when == ("n_blocks", (2,))
    mlp = load_space(default_space_path("mlp"))
    assert fit_space(mlp, DataShape((8, 8), 10)) == mlp


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('type = "int"\nlow = 1\nhigh = 3', "images of 3x3 take at most 0 pooling blocks"),
        (
            'type = "categorical"\nchoices = [2, 3]',
            r"take at most 1 pooling blocks \(n_blocks <= 1\), but n_blocks starts",
        ),
    ],
)
def test_fit_space_refuses_a_space_with_no_depth_that_fits(tmp_path: Path, table: str, message: str) -> None:
    from tuning.data.dataset import DataShape
    from tuning.search.space import fit_space

    path = tmp_path / "s.toml"
    path.write_text(f'arch = "cnn"\n[params.n_blocks]\n{table}\n')
    shape = DataShape((3, 3), 2) if "3x3" in message else DataShape((7, 7), 2)
    with pytest.raises(TuneError, match=message):
        fit_space(load_space(path), shape)
