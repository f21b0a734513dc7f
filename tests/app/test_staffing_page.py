"""The staffing page re-plans with the edited workers and shows the library's before and after."""

from __future__ import annotations

from dataclasses import replace

from caseload.domain import Agency, Status, Worker
from tests.app.conftest import STAFFING_LIMIT_S, frame_with, no_exception

NEW_WORKER = {"worker_id": "W-new", "fte": 1.0, "languages": "ti;fa-AF;en", "french": True, "available": True}


def expected_plans(agency: Agency, removed: str):
    """The library's plans before and after, built without the app: the removed worker's clients wait."""
    from optimizer import assign

    workers = [w for w in agency.workers if w.worker_id != removed]
    workers.append(Worker("W-new", 1.0, ("ti", "fa-AF", "en"), french=True))
    clients = [replace(c, status=Status.WAITING, worker_id=None)
               if c.status == Status.ACTIVE and c.worker_id == removed else c for c in agency.clients]
    changed = Agency(clients=clients, workers=workers, policy=agency.policy, as_of=agency.as_of)
    before = assign(agency, time_limit_s=STAFFING_LIMIT_S, seed=0)
    after = assign(changed, time_limit_s=STAFFING_LIMIT_S, seed=0)
    returned = sum(1 for c in agency.clients if c.status == Status.ACTIVE and c.worker_id == removed)
    return before, after, returned


def test_editing_workers_shows_what_changes(open_app, sample_agency):
    at = open_app
    at.run()
    at.switch_page("pages/staffing.py").run()
    no_exception(at)
    assert at.number_input(key="staffing_time_limit").value == STAFFING_LIMIT_S
    editor = at.data_editor[0]
    assert list(editor.value["worker_id"]) == [w.worker_id for w in sample_agency.workers]
    removed = sample_agency.workers[0].worker_id
    at.session_state[editor.key] = {"edited_rows": {}, "added_rows": [NEW_WORKER], "deleted_rows": [0]}
    at.run()
    no_exception(at)
    before, after, returned = expected_plans(sample_agency, removed)
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["Placed"][0] == f"{after.summary['placed']:,}"
    assert shown["Still waiting"][0] == f"{after.summary['waiting']:,}"
    if after.summary["placed"] != before.summary["placed"]:
        assert shown["Placed"][1].startswith(f"{after.summary['placed'] - before.summary['placed']:+,} from ")
    if returned:
        assert any(f"{returned} active client(s)" in w.value for w in at.warning)
    reasons = frame_with(at, "reason", "before", "after", "change")
    assert dict(zip(reasons["reason"], reasons["after"], strict=True)) == {
        r: n for r, n in after.summary["waiting_by_reason"].items() if n} | {
        r: 0 for r in before.summary["waiting_by_reason"] if r not in after.summary["waiting_by_reason"]}
    changes = frame_with(at, "client_id", "change")
    now_placed = set(changes.loc[changes["change"] == "now placed", "client_id"])
    was_waiting = {a.client_id for a in before.assignments if a.decision.value == "waiting"}
    placed_after = {a.client_id for a in after.assignments if a.decision.value != "waiting"}
    assert now_placed == was_waiting & placed_after


def test_a_bad_edit_is_reported_by_row_and_nothing_is_planned(open_app):
    at = open_app
    at.run()
    at.switch_page("pages/staffing.py").run()
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {1: {"fte": 3.0, "languages": "not a language 42"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    no_exception(at)
    errors = frame_with(at, "file", "row", "column", "rule")
    assert sorted(zip(errors["row"].astype(int), errors["column"], strict=True)) == [(3, "fte"), (3, "languages")]
    assert not [m for m in at.metric if m.label == "Placed"]
