from __future__ import annotations

from pathlib import Path

import pytest
from pgserver import free_port

from tuning.errors import TuneError
from tuning.search.storage import check_url, mask_url, open_storage, storage_url


def test_mask_url_hides_passwords() -> None:
    assert mask_url("postgresql://ann:s3cret@db:5432/tune") == "postgresql://ann:***@db:5432/tune"
    assert mask_url("sqlite:///studies.db") == "sqlite:///studies.db"
    assert mask_url("postgresql:/ann:s3cret@db/tune") == "postgresql:…"  # a URL missing a slash
    assert mask_url("not a url:// with s3cret") == "not a url://…"
    assert mask_url("runs/studies.db") == "runs/studies.db"  # a file path, shown as given


@pytest.mark.parametrize(
    "url", ["sqlite:studies.db", "", "http://example.com/x", "postgresql://a:b@host:notaport/db", "bogus://x"]
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(TuneError, match="storage URL"):
        check_url(url)


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_a_plain_path_is_a_sqlite_file(relative: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    path = "runs/x.db" if relative else str(tmp_path / "runs" / "x.db")
    assert storage_url(path) == f"sqlite:///{path}"
    with pytest.raises(TuneError, match="no study database at"):
        open_storage(path, must_exist=True)
    open_storage(path)
    assert (tmp_path / "runs" / "x.db").is_file()
    assert open_storage(path, must_exist=True).engine.url.database == path


def test_a_path_into_a_missing_folder_is_refused_before_anything_opens(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match=r"^cannot create storage .*/nowhere/x\.db: folder .*/nowhere does not exist$"):
        check_url(str(tmp_path / "nowhere" / "x.db"))
    assert not (tmp_path / "nowhere").exists()


def test_sqlite_storage_is_created_and_read_only_use_needs_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    with pytest.raises(TuneError, match="no study database at"):
        open_storage(url, must_exist=True)
    assert not (tmp_path / "studies.db").exists()
    open_storage(url)
    assert (tmp_path / "studies.db").is_file()
    open_storage(url, must_exist=True)


def test_missing_folder_and_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match=r"folder .* does not exist"):
        open_storage(f"sqlite:///{tmp_path / 'no' / 'studies.db'}")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(TuneError, match=r"cannot open storage .*file is not a database"):
        open_storage(f"sqlite:///{corrupt}")
    assert corrupt.read_bytes() == b"this is not a database" * 100  # nothing overwritten


def test_unreachable_postgres_shows_masked_url() -> None:
    url = f"postgresql://ann:s3cret@127.0.0.1:{free_port()}/tune"
    with pytest.raises(TuneError) as err:
        open_storage(url)
    message = str(err.value)
    assert "cannot open storage postgresql://ann:***@127.0.0.1" in message
    assert "s3cret" not in message
