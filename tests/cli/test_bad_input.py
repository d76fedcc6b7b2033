"""Bad input to `tune`, in this process: one clean error line, exit status 2, and the storage left as it was."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import assert_clean_error, file_unchanged, invoke_tune


@pytest.fixture(scope="module")
def storage_with_mlp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite storage holding a study named mlp (no training needed to fail on bad input)."""
    import optuna

    path = tmp_path_factory.mktemp("storage") / "studies.db"
    optuna.create_study(study_name="mlp", storage=f"sqlite:///{path}")
    return path


@pytest.fixture()
def studies_db(storage_with_mlp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own copy of that storage, as ./studies.db (the default storage)."""
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(storage_with_mlp, tmp_path / "studies.db"))


def _truncated_data(tmp_path: Path, fashion_dir: Path) -> Path:
    folder = tmp_path / "truncated"
    folder.mkdir()
    for source in fashion_dir.glob("*.gz"):
        shutil.copy(source, folder / source.name)
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:5000])
    return folder


def _csv_data(tmp_path: Path, line: str) -> Path:
    folder = tmp_path / "csv"
    folder.mkdir()
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    good = "3," + ",".join(["0"] * 784)
    (folder / "fashion-mnist_train.csv").write_text(f"{header}\n{good}\n{line}\n")
    (folder / "fashion-mnist_test.csv").write_text(f"{header}\n{good}\n")
    return folder


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


# case: (the arguments, given tmp_path and the real data folder; fragments of the error line)
BAD_INPUT: dict[str, tuple[Callable[[Path, Path], list[str]], list[str]]] = {
    "unknown arch": (lambda t, d: ["run", "rnn"], ["unknown model 'rnn'", "expected one of mlp, cnn, or your own"]),
    "arch typo": (lambda t, d: ["run", "cnnn"], ["unknown model 'cnnn' (did you mean 'cnn'?)"]),
    "pruner typo": (lambda t, d: ["run", "mlp", "--pruner", "halfing"], ["did you mean 'halving'?"]),
    "zero trials": (lambda t, d: ["run", "mlp", "--trials", "0"], ["--trials must be a whole number >= 1, but got 0"]),
    "negative trials": (lambda t, d: ["run", "mlp", "--trials", "-4"], ["--trials must be", "but got -4"]),
    "reduction factor 1": (
        lambda t, d: ["run", "mlp", "--reduction-factor", "1"],
        ["--reduction-factor must be a whole number >= 2, but got 1"],
    ),
    "negative timeout": (
        lambda t, d: ["run", "mlp", "--timeout", "-5"],
        ["--timeout must be a positive number of seconds, but got -5.0"],
    ),
    "validation size 1.5": (
        lambda t, d: ["run", "mlp", "--validation-size", "1.5"],
        ["--validation-size must be a whole number >= 1 or a fraction between 0 and 1, but got 1.5"],
    ),
    "validation size too big": (
        lambda t, d: ["run", "mlp", "--data-dir", str(d), "--validation-size", "999999"],
        ["--validation-size must hold out between 10 and", "images, but got 999999"],
    ),
    "max train samples 5": (
        lambda t, d: ["run", "mlp", "--data-dir", str(d), "--max-train-samples", "5"],
        ["--max-train-samples must be between 10 and", "but got 5"],
    ),
    "robust 0": (lambda t, d: ["export", "mlp", "--robust", "0"], ["--robust must be a whole number >= 1, but got 0"]),
    "retrain seeds 0": (
        lambda t, d: ["retrain", "x.json", "--seeds", "0"],
        ["--seeds must be a whole number >= 1, but got 0"],
    ),
    "retrain extend 20": (
        lambda t, d: ["retrain", "x.json", "--extend", "20"],
        ["--extend must be between 1 and 10, but got 20.0"],
    ),
    "retrain seed -1": (
        lambda t, d: ["retrain", "x.json", "--seed", "-1"],
        ["--seed must be between 0 and 2**31 - 1, but got -1"],
    ),
    "retrain a keras model": (
        lambda t, d: ["retrain", str(_file(t, "model.keras", b"PK\x03\x04" + bytes(range(256))))],
        ["model.keras is a saved Keras model, not an export", "tune evaluate"],
    ),
    "retrain a binary file": (
        lambda t, d: ["retrain", str(_file(t, "x.json", b"\xf9\x00" * 50))],
        ["x.json is not a text file; an export is the JSON `tune export STUDY` writes"],
    ),
    "missing data dir": (lambda t, d: ["run", "mlp", "--data-dir", str(t / "nowhere")], ["nowhere"]),
    "truncated data": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_truncated_data(t, d))],
        ["train-images-idx3-ubyte.gz"],
    ),
    "csv column count": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "3,0,0"))],
        ["fashion-mnist_train.csv"],
    ),
    "csv label 10": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "10," + ",".join(["0"] * 784)))],
        ["fashion-mnist_train.csv", "10"],
    ),
    "csv pixel 300": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "1,300," + ",".join(["0"] * 783)))],
        ["300"],
    ),
    "csv text pixel": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "1,dark," + ",".join(["0"] * 783)))],
        ["dark"],
    ),
    "space unknown type": (
        lambda t, d: ["run", "mlp", "--space", str(_space(t, 'arch = "mlp"\n[params.l2]\ntype = "real"\n'))],
        ["unknown type 'real'"],
    ),
    "space low >= high": (
        lambda t, d: [
            "run",
            "mlp",
            "--space",
            str(_space(t, 'arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 0.1\nhigh = 0.01\n')),
        ],
        ["low must be < high"],
    ),
    "space for other arch": (
        lambda t, d: [
            "run",
            "cnn",
            "--space",
            str(_space(t, 'arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 0.01\nhigh = 0.1\n')),
        ],
        ["is for model 'mlp', not 'cnn'"],
    ),
    "malformed storage": (
        lambda t, d: ["run", "mlp", "--storage", "sqlite:x.db"],
        ["malformed storage URL 'sqlite:…'"],
    ),
    "storage in a missing folder": (
        lambda t, d: ["run", "mlp", "--storage", "nowhere/x.db"],
        ["cannot create storage nowhere/x.db: folder nowhere does not exist"],
    ),
    "no storage file": (
        lambda t, d: ["studies", "--storage", "runs.db"],
        ["no study database at runs.db (storage runs.db)"],
    ),
    "unreachable storage": (
        lambda t, d: ["studies", "--storage", "postgresql://u:pw1234@127.0.0.1:9/x"],
        ["cannot open storage postgresql://u:***@127.0.0.1:9/x"],
    ),
    "unknown study export": (lambda t, d: ["export", "nope"], ["no study named 'nope'", "studies: mlp"]),
    "unknown study plots": (lambda t, d: ["plots", "nope"], ["no study named 'nope'"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_clean_line_and_loses_nothing(
    case: str, studies_db: Path, tmp_path: Path, fashion_dir: Path, data_env: dict[str, str]
) -> None:
    make_args, fragments = BAD_INPUT[case]
    args = make_args(tmp_path, fashion_dir)
    with file_unchanged(studies_db):
        result = invoke_tune(args, env={**data_env, "TUNE_DATA_DIR": None})
    assert_clean_error(result, *fragments)
    if "pw1234" in " ".join(args):
        assert "pw1234" not in result.stderr + result.stdout


def test_not_gzip_is_reported_before_a_study_exists(
    tmp_path: Path, fashion_dir: Path, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _truncated_data(tmp_path, fashion_dir)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 8)[:-3])
    result = invoke_tune(["run", "mlp", "--data-dir", str(folder)], env=data_env)
    assert_clean_error(result, "corrupt data file")
    assert not (tmp_path / "studies.db").exists()
