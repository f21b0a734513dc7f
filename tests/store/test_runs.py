"""A run against the store: applied and recorded in one go; re-running on unchanged input changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseload.cli import app
from caseload.domain import Assignment, Decision
from caseload.reader import load_agency
from caseload.store.convert import input_digest
from caseload.store.runs import PlanRejected, list_runs, run_and_record
from caseload.store.state import import_folder, store_agency
from tests.store.conftest import snapshot
from tests.store.standin import StandinPlan, standin_assign

RUN_DATE = date(2026, 11, 24)
runner = CliRunner()


def test_import_then_read_back_is_the_same_agency(engine, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    from_files = load_agency(agency_dir, as_of=RUN_DATE)
    from_store = store_agency(engine, as_of=RUN_DATE)
    assert input_digest(from_store) == input_digest(from_files)
    assert sorted(from_store.clients, key=lambda c: c.client_id) == sorted(from_files.clients,
                                                                            key=lambda c: c.client_id)
    assert from_store.policy == from_files.policy


def test_a_run_places_clients_and_records_every_assignment(engine, store_url: str, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    before = store_agency(engine, as_of=RUN_DATE)
    result = run_and_record(engine, standin_assign, as_of=RUN_DATE, seed=3)
    placed = {a.client_id: a.worker_id for a in result.assignments if a.decision == Decision.NEW}
    assert placed, "the stand-in places someone"
    after = {c.client_id: c for c in store_agency(engine).clients}
    for client_id, worker_id in placed.items():
        assert after[client_id].status == "active"
        assert after[client_id].worker_id == worker_id
        assert after[client_id].intake_date == RUN_DATE
    state = snapshot(store_url)
    (run,) = state["runs"]
    assert run[1] == input_digest(before)
    assert run[2] == len(placed)
    assert len(state["assignments"]) == len(result.assignments) == run[6]
    (record,) = list_runs(engine)
    assert record.seed == 3 and record.as_of == RUN_DATE and record.solver_status == "FEASIBLE"


def test_rerun_on_unchanged_input_changes_nothing(engine, store_url: str, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    run_and_record(engine, standin_assign, as_of=RUN_DATE)
    after_first = snapshot(store_url)
    second = run_and_record(engine, standin_assign, as_of=RUN_DATE)
    third = run_and_record(engine, standin_assign, as_of=RUN_DATE)
    assert {a.decision for a in second.assignments} <= {Decision.KEPT, Decision.WAITING}
    assert snapshot(store_url)["clients"] == after_first["clients"]
    assert third.record.input_digest == second.record.input_digest
    assert [(a.client_id, a.worker_id, a.decision) for a in third.assignments] == \
        [(a.client_id, a.worker_id, a.decision) for a in second.assignments]


def test_a_plan_that_contradicts_the_state_writes_nothing(engine, store_url: str, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    before = snapshot(store_url)

    def bad_solver(agency):  # places a client half-right, then names a worker who does not exist
        return StandinPlan([Assignment("c01", "w-ar", Decision.NEW), Assignment("c02", "w-ghost", Decision.NEW)],
                           {"status": "FEASIBLE"})

    with pytest.raises(PlanRejected, match="w-ghost"):
        run_and_record(engine, bad_solver, as_of=RUN_DATE)
    assert snapshot(store_url) == before


def test_a_solver_crash_writes_nothing(engine, store_url: str, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    before = snapshot(store_url)

    def crashing(agency):
        raise RuntimeError("solver died")

    with pytest.raises(RuntimeError):
        run_and_record(engine, crashing, as_of=RUN_DATE)
    assert snapshot(store_url) == before


def test_cli_import_assign_history_export(store_url: str, agency_dir: Path, tmp_path: Path, standin) -> None:
    result = runner.invoke(app, ["import", str(agency_dir), "--db", store_url])
    assert result.exit_code == 0, result.output
    assert "Imported 10 clients" in result.output
    result = runner.invoke(app, ["assign", "--db", store_url, "--as-of", "2026-11-24", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "Recorded run 1" in result.output
    assert (tmp_path / "o" / "assignments.csv").is_file()
    result = runner.invoke(app, ["history", "--db", store_url])
    assert result.exit_code == 0, result.output
    assert "2026-11-24" in result.output and "FEASIBLE" in result.output
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", "latest", "--db", store_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    # The export is the run's input, in the data contract: it loads, and it is the input the run saw.
    exported = load_agency(out)
    (run,) = snapshot(store_url)["runs"]
    assert input_digest(exported) == run[1]
    assert (out / "summary.json").is_file()
    assignments = (out / "assignments.csv").read_text(encoding="utf-8").splitlines()
    assert assignments[0].startswith("client_id,worker_id,decision")
    assert len(assignments) == 1 + run[6]


def test_cli_user_errors_exit_2_without_traceback(store_url: str, tmp_path: Path, standin) -> None:
    missing = tmp_path / "nowhere.db"
    for args in (["history", "--db", str(missing)], ["assign", "--db", str(missing)],
                 ["export", "1", "--db", str(missing), "--out", str(tmp_path / "x")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "no store at" in result.output
        assert not missing.exists(), "a reading command must not create a store"
    result = runner.invoke(app, ["db", "upgrade", "--db", store_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["assign", "--db", store_url])
    assert result.exit_code == 2 and "import" in result.output
    result = runner.invoke(app, ["export", "7", "--db", store_url, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "no run 7" in result.output
    result = runner.invoke(app, ["export", "seven", "--db", store_url, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "must be a number" in result.output
    result = runner.invoke(app, ["assign", str(tmp_path), "--db", store_url])
    assert result.exit_code == 2 and "caseload import" in result.output


def test_rerun_with_the_real_optimizer_changes_nothing(engine, store_url: str, agency_dir: Path) -> None:
    """The promise end to end, CP-SAT included: the second run on the first run's result keeps every
    client where they are, moves nobody, and leaves the clients table as it was."""
    optimizer = pytest.importorskip("optimizer")

    def solve(agency):
        return optimizer.assign(agency, time_limit_s=10, seed=0)

    import_folder(engine, agency_dir)
    first = run_and_record(engine, solve, as_of=RUN_DATE)
    assert any(a.decision == Decision.NEW for a in first.assignments)
    after_first = snapshot(store_url)
    second = run_and_record(engine, solve, as_of=RUN_DATE)
    assert {a.decision for a in second.assignments} <= {Decision.KEPT, Decision.WAITING}
    assert second.record.placed == second.record.moved == 0
    assert snapshot(store_url)["clients"] == after_first["clients"]
    kept = {a.client_id: a.worker_id for a in second.assignments if a.decision == Decision.KEPT}
    placed_or_kept = {a.client_id: a.worker_id for a in first.assignments if a.worker_id}
    assert kept == placed_or_kept


def test_the_sample_agency_round_trips_through_the_store(engine) -> None:
    sample = Path(__file__).resolve().parents[2] / "scenarios" / "sample"
    if not (sample / "clients.csv").is_file():
        pytest.skip("no sample agency in scenarios/sample")
    import_folder(engine, sample)
    assert input_digest(store_agency(engine)) == input_digest(load_agency(sample))
