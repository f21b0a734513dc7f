"""The coordinator's loop from the shell: assign --propose, approve, history, and overrides list/add/remove."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from caseload.cli import app
from caseload.store.database import open_engine
from caseload.store.state import store_agency

runner = CliRunner()


def invoke(*args: str):  # noqa: ANN201
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def workers_now(db: str) -> dict[str, str | None]:
    engine = open_engine(db, create=False)
    try:
        return {c.client_id: c.worker_id for c in store_agency(engine).clients}
    finally:
        engine.dispose()


def test_propose_then_approve_from_the_shell(standin, agency_dir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    assert invoke("import", str(agency_dir), "--db", db).exit_code == 0
    before = workers_now(db)
    assert invoke("approve", "1", "--db", db).exit_code == 2  # no such run yet
    result = invoke("assign", "--db", db, "--propose", "--user", "alice")
    assert result.exit_code == 0 and "Proposed run 1" in result.output and "caseload approve 1" in result.output
    assert workers_now(db) == before
    history = invoke("history", "--db", db).output
    assert "proposed" in history and "alice" in history
    result = invoke("approve", "1", "--db", db, "--user", "bob")
    assert result.exit_code == 0 and "Run 1 approved" in result.output
    assert workers_now(db) != before
    assert "approved by bob" in invoke("history", "--db", db).output
    result = invoke("approve", "1", "--db", db, "--user", "carol")
    assert result.exit_code == 2 and "already approved by bob" in " ".join(result.output.split())
    assert invoke("assign", str(agency_dir), "--out", str(tmp_path / "o"), "--propose").exit_code == 2


def test_overrides_from_the_shell(standin, agency_dir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    assert invoke("import", str(agency_dir), "--db", db).exit_code == 0
    assert "No override" in invoke("overrides", "list", "--db", db).output
    result = invoke("overrides", "add", "c05", "hold", "--reason", "awaiting consent", "--db", db, "--user", "alice")
    assert result.exit_code == 0 and "Override 1 saved" in result.output
    listed = invoke("overrides", "list", "--db", db).output
    assert "c05" in listed and "hold" in listed and "alice" in listed and "awaiting consent" in listed
    refused = invoke("overrides", "add", "c09", "pin", "--worker", "w-ar", "--reason", "x", "--db", db)
    assert refused.exit_code == 2 and "language_shared" in refused.output
    refused = invoke("overrides", "add", "c05", "pin", "--worker", "w-es", "--reason", "x", "--db", db)
    assert refused.exit_code == 2 and "hold and pin" in refused.output
    assert invoke("overrides", "remove", "1", "--reason", "consent signed", "--db", db).exit_code == 0
    assert invoke("overrides", "remove", "1", "--reason", "again", "--db", db).exit_code == 2
    trail = invoke("overrides", "audit", "--db", db).output
    assert "override added" in trail and "override removed" in trail and "consent signed" in trail
