"""Where the store is: `--db`, else $CASELOAD_DB, else the embedded default `caseload.db`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseload.cli import app
from caseload.store.database import ENV_URL, StoreError, open_engine, resolve_url, safe_url

runner = CliRunner()


def test_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    assert resolve_url(None) == "sqlite:///caseload.db"
    assert resolve_url("nightly.db") == "sqlite:///nightly.db"
    assert resolve_url("/srv/caseload/nightly.db") == "sqlite:////srv/caseload/nightly.db"
    assert resolve_url("postgresql://u:pw@db:5432/caseload") == "postgresql+psycopg://u:pw@db:5432/caseload"
    assert safe_url(resolve_url("postgresql://u:secret@db/caseload")) == "postgresql+psycopg://u:***@db/caseload"
    monkeypatch.setenv(ENV_URL, "from-env.db")
    assert resolve_url(None) == "sqlite:///from-env.db"
    assert resolve_url("flag.db") == "sqlite:///flag.db"
    with pytest.raises(StoreError, match="not a database URL"):
        open_engine("nosuchdriver+x://host/db")


def test_a_bad_url_or_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_engine(str(tmp_path / "missing-folder" / "caseload.db"))
    with pytest.raises(StoreError, match="cannot open the store"):
        open_engine("postgresql+psycopg://nobody:pw@127.0.0.1:1/none?connect_timeout=2")


def test_the_embedded_default_is_caseload_db_in_the_working_folder(tmp_path: Path, agency_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["import", str(agency_dir)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "caseload.db").is_file()
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 0 and "No runs yet" in result.output
