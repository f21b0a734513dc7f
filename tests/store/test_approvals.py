"""Approve before commit, comparing runs, and the move budget over a rolling window of the store's history.

Most tests use the stand-in optimizer (the store's promises do not depend on the plan's quality); the
re-run test uses the real optimizer, on an agency where the first run must move clients to place anyone.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseload.cli import app
from caseload.domain import Agency, Assignment, Decision, Override, OverrideAction
from caseload.store.database import StoreError
from caseload.store.overrides import add_override, audit_trail
from caseload.store.runs import approve_run, compare_runs, get_run, list_runs, run_and_record
from caseload.store.state import import_folder, store_agency
from tests.conftest import write_folder
from tests.store.conftest import snapshot
from tests.store.standin import StandinPlan, standin_assign

RUN_DATE = date(2026, 11, 24)
runner = CliRunner()


def workers_now(engine) -> dict[str, str | None]:  # noqa: ANN001
    return {c.client_id: c.worker_id for c in store_agency(engine).clients}


def test_a_proposal_changes_no_client_until_approved(engine, store_url: str, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    before = workers_now(engine)
    result = run_and_record(engine, standin_assign, as_of=RUN_DATE, propose=True, user="alice")
    placed = {a.client_id: a.worker_id for a in result.assignments if a.decision == Decision.NEW}
    assert placed and workers_now(engine) == before
    record = get_run(engine, result.record.run_id).record
    assert (record.status, record.user, record.approved_by) == ("proposed", "alice", None)
    approve_run(engine, record.run_id, user="bob")
    assert workers_now(engine) == {**before, **placed}
    record = list_runs(engine)[0]
    assert (record.status, record.approved_by) == ("approved", "bob") and record.approved_at is not None
    entry = audit_trail(engine, limit=1)[0]
    assert (entry.action, entry.user) == ("run approved", "bob") and f"run {record.run_id}" in entry.detail
    with pytest.raises(StoreError, match=f"run {record.run_id} was already approved by bob"):
        approve_run(engine, record.run_id, user="carol")
    assert workers_now(engine) == {**before, **placed}


def test_a_committed_run_or_a_missing_one_cannot_be_approved(engine, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    run_id = run_and_record(engine, standin_assign, as_of=RUN_DATE, user="cron").record.run_id
    assert get_run(engine, run_id).record.status == "committed"
    with pytest.raises(StoreError, match="not a proposal"):
        approve_run(engine, run_id, user="bob")
    with pytest.raises(StoreError, match="no run 99"):
        approve_run(engine, 99, user="bob")


def test_a_proposal_made_for_a_state_that_is_gone_is_refused(engine, store_url: str, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    first = run_and_record(engine, standin_assign, as_of=RUN_DATE, propose=True).record.run_id
    second = run_and_record(engine, standin_assign, as_of=RUN_DATE, propose=True).record.run_id
    approve_run(engine, first, user="alice")
    state = snapshot(store_url)
    with pytest.raises(StoreError, match="store changed since run"):
        approve_run(engine, second, user="bob")
    third = run_and_record(engine, standin_assign, as_of=RUN_DATE, propose=True).record.run_id
    add_override(engine, Override("c09", OverrideAction.HOLD, "awaiting consent"), user="alice", as_of=RUN_DATE)
    with pytest.raises(StoreError, match="overrides changed"):
        approve_run(engine, third, user="bob")
    assert snapshot(store_url)["clients"] == state["clients"]


def test_compare_runs_lists_who_is_served_differently_and_why(engine, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)
    first = run_and_record(engine, standin_assign, as_of=RUN_DATE, propose=True).record.run_id
    add_override(engine, Override("c05", OverrideAction.HOLD, "awaiting consent"), user="alice", as_of=RUN_DATE)

    def holding(agency: Agency) -> StandinPlan:  # the stand-in, told about the hold
        plan = standin_assign(agency)
        held = {o.client_id for o in agency.live_overrides}
        plan.assignments = [Assignment(a.client_id, None, Decision.WAITING, "held by coordinator: awaiting consent")
                            if a.client_id in held else a for a in plan.assignments]
        return plan

    second = run_and_record(engine, holding, as_of=RUN_DATE, propose=True).record.run_id
    changes = compare_runs(engine, first, second)
    row = changes[changes["client_id"] == "c05"].iloc[0]
    assert (row["change"], row["decision_a"], row["decision_b"]) == ("waiting in b", "new", "waiting")
    assert row["worker_a"] and row["worker_b"] == "" and "awaiting consent" in row["reason_b"]
    same = {a.client_id for a in get_run(engine, first).assignments} - set(changes["client_id"])
    assert same and all(
        x.worker_id == y.worker_id
        for x in get_run(engine, first).assignments for y in get_run(engine, second).assignments
        if x.client_id == y.client_id and x.client_id in same)
    assert compare_runs(engine, first, first).empty
    with pytest.raises(StoreError, match="no run 99"):
        compare_runs(engine, first, 99)


def moving(agency: Agency) -> StandinPlan:
    """The stand-in's plan, plus one optional move (c08 from w-ar to w-fr), and the budget it was given."""
    plan = standin_assign(agency)
    plan.assignments = [Assignment("c08", "w-fr", Decision.MOVED, "moved from w-ar to w-fr to make room")
                        if a.client_id == "c08" else a for a in plan.assignments]
    plan.summary = {**plan.summary, "optional_moves": 1, "moves_used_before": agency.moves_used}
    return plan


def seen_moves_used(engine, as_of: date) -> int:  # noqa: ANN001
    result = run_and_record(engine, lambda agency: StandinPlan(standin_assign(agency).assignments,
                                                              {"moves_used_before": agency.moves_used}),
                            as_of=as_of, propose=True)
    return result.summary["moves_used_before"]


def test_the_move_budget_counts_applied_moves_over_the_window(engine, agency_dir: Path) -> None:
    import_folder(engine, agency_dir)  # policy: moves_window_days defaults to 30
    run_and_record(engine, moving, as_of=RUN_DATE, propose=True)
    assert seen_moves_used(engine, RUN_DATE) == 0, "a proposal moved nobody"
    run_and_record(engine, moving, as_of=RUN_DATE)
    assert get_run(engine, list_runs(engine)[0].run_id).record.optional_moves == 1
    assert seen_moves_used(engine, RUN_DATE) == 1
    assert seen_moves_used(engine, RUN_DATE + timedelta(days=29)) == 1
    assert seen_moves_used(engine, RUN_DATE + timedelta(days=30)) == 0, "out of the 30-day window"


# W1 (the only worker speaking ti) is at target with 50 low-need clients; W2 has room. Placing a waiting ti
# client needs a move off W1, and max_moves_share 0.04 x 50 active allows 2 moves per window.
RERUN_WORKERS = "worker_id,fte,languages\nW1,1,ti;en\nW2,1,en\n"
RERUN_CLIENTS = "client_id,need_level,languages,status,worker_id,referral_date\n" + "".join(
    f"A{n:02d},low,en,active,W1,2026-01-{n % 28 + 1:02d}\n" for n in range(50)) + "".join(
    f"T{n},low,ti,waiting,,2026-10-0{n + 1}\n" for n in range(4))


def test_a_second_assign_on_unchanged_input_moves_nobody_and_places_nobody(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "agency", RERUN_CLIENTS, RERUN_WORKERS, "max_moves_share: 0.04\n")
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    assert runner.invoke(app, ["import", str(folder), "--db", db]).exit_code == 0
    runs = []
    for _ in range(2):
        result = runner.invoke(app, ["assign", "--db", db, "--as-of", RUN_DATE.isoformat(), "--time-limit", "20",
                                     "--user", "cron"])
        assert result.exit_code == 0, result.output
    from caseload.store.database import open_engine

    engine = open_engine(db, create=False)
    try:
        second, first = list_runs(engine)
        runs = (first, second)
        assert (first.placed, first.moved, first.optional_moves) == (2, 2, 2), "the first run moves to place"
        assert (second.placed, second.moved) == (0, 0)
        assert compare_runs(engine, first.run_id, second.run_id).empty
        assert all(r.user == "cron" and r.status == "committed" for r in runs)
    finally:
        engine.dispose()
