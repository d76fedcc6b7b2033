from __future__ import annotations

from pathlib import Path

import pytest
from pgserver import free_port

from tuning.errors import TuneError
from tuning.search.storage import check_url, mask_url, open_storage


def test_mask_url_hides_passwords() -> None:
    assert mask_url("postgresql://ann:s3cret@db:5432/tune") == "postgresql://ann:***@db:5432/tune"
    assert mask_url("sqlite:///studies.db") == "sqlite:///studies.db"
    assert "s3cret" not in mask_url("not a url with s3cret")


@pytest.mark.parametrize(
    "url", ["bogus", "sqlite//studies.db", "http://example.com/x", "postgresql://a:b@host:notaport/db"]
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(TuneError, match="storage URL"):
        check_url(url)


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
