"""The staffing page re-plans with the edited workers and shows the library's before and after."""

from __future__ import annotations

from dataclasses import replace

from app import runs, state
from caseload.domain import Agency, Status, Worker
from tests.app.conftest import STAFFING_LIMIT_S, frame_with, no_exception

NEW_WORKER = {"worker_id": "W-new", "fte": 1.0, "languages": "ti;fa-AF;en", "french": True, "available": True}


def changed_agency(agency: Agency, removed: str) -> Agency:
    """The edit, made without the app: one worker removed (their clients wait again), one added."""
    workers = [w for w in agency.workers if w.worker_id != removed]
    workers.append(Worker("W-new", 1.0, ("ti", "fa-AF", "en"), french=True))
    clients = [replace(c, status=Status.WAITING, worker_id=None)
               if c.status == Status.ACTIVE and c.worker_id == removed else c for c in agency.clients]
    return Agency(clients=clients, workers=workers, policy=agency.policy, as_of=agency.as_of)


def open_staffing(at):
    at.run()
    at.session_state["staffing_time_limit"] = STAFFING_LIMIT_S  # before the page plans with today's workers
    at.switch_page("app_pages/staffing.py").run()
    no_exception(at)
    return at


def test_editing_workers_shows_what_changes(open_app, sample_agency, library):
    at = open_staffing(open_app)
    editor = at.data_editor[0]
    assert editor.value["worker_id"].tolist() == [w.worker_id for w in sample_agency.workers]
    removed = sample_agency.workers[0].worker_id
    at.session_state[editor.key] = {"edited_rows": {}, "added_rows": [NEW_WORKER], "deleted_rows": [0]}
    at.run()
    no_exception(at)

    loaded = at.session_state[state.LOADED]
    before = state.job_store().result(runs.plan_key(loaded.key, 0, STAFFING_LIMIT_S)).plan
    assert library.call_for(before) == (sample_agency, {"time_limit_s": STAFFING_LIMIT_S, "seed": 0})
    expected_agency = changed_agency(sample_agency, removed)
    [after] = [plan for agency, _, plan in library.calls if agency == expected_agency]
    assert library.call_for(after)[1] == {"time_limit_s": STAFFING_LIMIT_S, "seed": 0}

    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["Placed"][0] == f"{after.summary['placed']:,}"
    assert shown["Still waiting"][0] == f"{after.summary['waiting']:,}"
    assert shown["Moved"][0] == f"{after.summary['moved']:,}"
    change = after.summary["placed"] - before.summary["placed"]
    assert shown["Placed"][1] == (f"{change:+,} from {before.summary['placed']:,}" if change else "no change")
    returned = sum(1 for c in sample_agency.clients if c.status == Status.ACTIVE and c.worker_id == removed)
    assert returned and any(f"{returned} active client(s)" in w.value for w in at.warning)

    reasons = frame_with(at, "reason", "before", "after", "change")
    every = set(before.summary["waiting_by_reason"]) | set(after.summary["waiting_by_reason"])
    assert set(reasons["reason"]) == every
    for reason, b, a in zip(reasons["reason"], reasons["before"], reasons["after"], strict=True):
        assert (b, a) == (before.summary["waiting_by_reason"].get(reason, 0),
                          after.summary["waiting_by_reason"].get(reason, 0))
    changes = frame_with(at, "client_id", "change")
    now_placed = set(changes.loc[changes["change"] == "now placed", "client_id"])
    was_waiting = {a.client_id for a in before.assignments if a.decision.value == "waiting"}
    placed_after = {a.client_id for a in after.assignments if a.decision.value != "waiting"}
    assert now_placed == was_waiting & placed_after


def test_a_bad_edit_is_reported_by_row_and_nothing_is_planned(open_app):
    at = open_staffing(open_app)
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {1: {"fte": 3.0, "languages": "not a language 42"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    no_exception(at)
    errors = frame_with(at, "file", "row", "column", "rule")
    assert sorted(zip(errors["row"].astype(int), errors["column"], strict=True)) == [(3, "fte"), (3, "languages")]
    assert not [m for m in at.metric if m.label == "Placed"]
