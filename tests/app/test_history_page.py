"""The app writes what it runs: a Nightly run on the store is a proposal until approved, and History shows it.

A tiny hand-built agency in a SQLite store (two waiting clients the workers can take, one active client),
so each run is solved to optimality in well under a second. Every check compares what the app shows with
what the store holds.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import button, frame_with, no_exception
from tests.conftest import write_folder

pytest.importorskip("caseload.store.overrides")

CLIENTS = """client_id,need_level,languages,status,worker_id,referral_date,latitude,longitude,area
c1,high,ar;en,waiting,,2026-09-01,45.40,-75.70,K1A
c2,low,en,waiting,,2026-10-01,45.41,-75.69,K1A
c3,low,fr,active,w2,2026-01-05,45.42,-75.68,K1N
"""
WORKERS = """worker_id,fte,languages,french,latitude,longitude
w1,1,ar;en,false,45.42,-75.69
w2,0.5,fr;en,true,45.43,-75.68
"""


@pytest.fixture
def store_url(tmp_path) -> str:
    from caseload.store.database import open_engine
    from caseload.store.state import import_folder

    url = f"sqlite:///{tmp_path / 'agency.db'}"
    engine = open_engine(url)
    import_folder(engine, write_folder(tmp_path / "agency", clients=CLIENTS, workers=WORKERS))
    engine.dispose()
    return url


def engine(url: str):
    from caseload.store.database import open_engine

    return open_engine(url, create=False)


def current_workers(url: str) -> dict[str, str | None]:
    from caseload.store.state import store_agency

    e = engine(url)
    try:
        return {c.client_id: c.worker_id for c in store_agency(e).clients}
    finally:
        e.dispose()


def read_store(at: AppTest, url: str) -> AppTest:
    at.run()
    at.radio[0].set_value("store").run()
    at.text_input[0].set_value(url)
    button(at, "Read the store").click().run()
    no_exception(at)
    return at


def run_on_store(at: AppTest, url: str) -> int:
    """Press Run on the Nightly page reading the store; the run id the app recorded."""
    at.switch_page("app_pages/assignment.py")
    read_store(at, url)
    button(at, "Run the nightly assignment").click().run()
    no_exception(at)
    from app import state

    planned = state.job_store().result(at.session_state["plans"][at.session_state[state.LOADED].key])
    assert planned.run_id is not None
    return planned.run_id


def stored_run(url: str, run_id: int):
    from caseload.store.runs import get_run

    e = engine(url)
    try:
        return get_run(e, run_id)
    finally:
        e.dispose()


def test_a_run_is_a_proposal_until_approved_and_history_shows_it(open_app, store_url):
    before = current_workers(store_url)
    at = open_app
    run_id = run_on_store(at, store_url)
    stored = stored_run(store_url, run_id)
    assert stored.record.status == "proposed"
    assert current_workers(store_url) == before  # a proposal changes nobody's worker
    assert any(f"Run {run_id}" in i.value and "proposal" in i.value for i in at.info)
    placed = {a.client_id: a.worker_id for a in stored.assignments if a.decision.value == "new"}
    assert set(placed) == {"c1", "c2"}  # both can be served: c1 only by w1 (Arabic), c2 by either

    button(at, "Approve").click().run()
    no_exception(at)
    assert any(f"Run {run_id} approved" in s.value for s in at.success)
    assert stored_run(store_url, run_id).record.status == "approved"
    assert current_workers(store_url) == {**before, **placed}  # only now the plan is the current state
    assert not [b for b in at.button if b.label == "Approve"]

    at.switch_page("app_pages/history.py").run()
    no_exception(at)
    runs = frame_with(at, "run_id", "status", "user", "placed", "moved", "waiting")
    row = runs[runs["run_id"] == run_id].iloc[0]
    assert (row["status"], row["placed"], row["moved"], row["waiting"]) == ("approved", 2, 0, 0)
    from app.store_runs import user_name

    assert row["user"] == user_name(None)  # no sign-in: the machine's login names the run
    plan = frame_with(at, "client_id", "decision", "worker_id", "reason")
    assert dict(zip(plan["client_id"], plan["worker_id"], strict=True)) == {
        a.client_id: a.worker_id or "" for a in stored.assignments}


def test_two_coordinators_approve_at_once_one_wins_the_other_is_told(open_app, store_url):
    from caseload.store.runs import approve_run

    at = open_app
    run_id = run_on_store(at, store_url)
    e = engine(store_url)
    try:
        approve_run(e, run_id, user="other-coordinator")  # the other coordinator's click lands first
    finally:
        e.dispose()
    button(at, "Approve").click().run()
    no_exception(at)
    assert at.error and f"Run {run_id} was not approved" in at.error[0].value
    assert stored_run(store_url, run_id).record.status == "approved"


def test_an_override_made_in_the_app_is_audited_and_explains_the_next_run(open_app, store_url):
    at = read_store(open_app, store_url)
    at.switch_page("app_pages/waitlist.py").run()
    no_exception(at)
    at.selectbox(key="override_client").set_value("c1")
    at.selectbox(key="override_action").set_value("hold")
    button(at, "Add override").click().run()
    no_exception(at)
    refused = frame_with(at, "file", "row", "column", "value", "rule")  # the store's one validator
    assert "reason" in refused["column"].tolist()  # no reason: refused, nothing stored
    from caseload.store.overrides import list_overrides

    e = engine(store_url)
    try:
        assert list_overrides(e) == []
    finally:
        e.dispose()

    at.selectbox(key="override_client").set_value("c1")
    at.selectbox(key="override_action").set_value("hold")
    at.text_input(key="override_reason").set_value("awaiting consent")
    button(at, "Add override").click().run()
    no_exception(at)
    trail = frame_with(at, "reason")
    assert "awaiting consent" in trail["reason"].astype(str).tolist()
    assert any("c1" in str(v) for v in trail.to_numpy().ravel())

    run_id = run_on_store(at, store_url)
    held = next(a for a in stored_run(store_url, run_id).assignments if a.client_id == "c1")
    assert held.decision.value == "waiting" and "awaiting consent" in held.reason
    at.switch_page("app_pages/history.py").run()
    no_exception(at)
    plan = frame_with(at, "client_id", "decision", "reason")
    assert "awaiting consent" in plan.loc[plan["client_id"] == "c1", "reason"].iloc[0]


def test_a_priority_change_and_a_removal_each_need_a_reason_and_are_audited(open_app, store_url):
    from caseload.store.overrides import list_overrides
    from caseload.store.state import store_agency

    at = read_store(open_app, store_url)
    at.switch_page("app_pages/waitlist.py").run()
    at.selectbox(key="priority_client").set_value("c2")
    at.number_input(key="priority_value").set_value(5)
    button(at, "Set priority").click().run()
    no_exception(at)
    assert "reason" in frame_with(at, "file", "row", "column", "value", "rule")["column"].tolist()
    at.selectbox(key="priority_client").set_value("c2")
    at.number_input(key="priority_value").set_value(5)
    at.text_input(key="priority_reason").set_value("safety risk reported today")
    button(at, "Set priority").click().run()
    no_exception(at)
    e = engine(store_url)
    try:
        assert next(c for c in store_agency(e).clients if c.client_id == "c2").priority == 5
    finally:
        e.dispose()
    trail = frame_with(at, "at", "user", "action", "reason")
    assert trail.iloc[0]["reason"] == "safety risk reported today" and trail.iloc[0]["client_id"] == "c2"

    at.selectbox(key="override_client").set_value("c2")
    at.selectbox(key="override_action").set_value("hold")
    at.text_input(key="override_reason").set_value("awaiting consent")
    button(at, "Add override").click().run()
    override_id = frame_with(at, "override_id", "client_id")["override_id"].iloc[0]
    at.selectbox(key="remove_id").set_value(override_id)
    button(at, "Remove override").click().run()
    no_exception(at)
    assert "reason" in frame_with(at, "file", "row", "column", "value", "rule")["column"].tolist()
    at.selectbox(key="remove_id").set_value(override_id)
    at.text_input(key="remove_reason").set_value("consent given")
    button(at, "Remove override").click().run()
    no_exception(at)
    e = engine(store_url)
    try:
        assert list_overrides(e) == []
    finally:
        e.dispose()
    trail = frame_with(at, "at", "user", "action", "reason")
    assert trail.iloc[0]["reason"] == "consent given" and trail.iloc[0]["client_id"] == "c2"


def test_a_manager_reads_the_overrides_but_only_a_coordinator_decides(store_url, tmp_path, monkeypatch):
    from caseload.auth import add_user
    from tests.app.conftest import APP, RUN_TIMEOUT_S
    from tests.app.test_auth_and_store import PASSWORD, sign_in

    auth = tmp_path / "auth.yaml"
    add_user(auth, "maya", PASSWORD, "manager")
    monkeypatch.setenv("CASELOAD_AUTH_FILE", str(auth))
    monkeypatch.delenv("CASELOAD_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    at = sign_in(AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S), "maya")
    run_id = run_on_store(at, store_url)
    approve = button(at, "Approve")
    assert approve.disabled
    assert stored_run(store_url, run_id).record.status == "proposed"
    at.switch_page("app_pages/waitlist.py").run()
    no_exception(at)
    assert any("Only a coordinator" in i.value for i in at.info)
    assert not [b for b in at.button if b.label in ("Add override", "Set priority", "Remove override")]
    assert any(s.value == "Audit trail" for s in at.subheader)  # the trail is shown to a manager


def test_an_override_that_no_longer_holds_stops_the_run_with_the_rule_named(open_app, store_url):
    """Stored without the optimizer's check (as if the state changed since), a pin of a French-only client to
    a worker without French is refused before the solve, as `caseload assign --db` refuses it."""
    from caseload.domain import Override, OverrideAction
    from caseload.store.overrides import add_override
    from caseload.store.runs import list_runs

    e = engine(store_url)
    try:
        add_override(e, Override("c3", OverrideAction.PIN, "family request", worker_id="w1"), user="omar")
    finally:
        e.dispose()
    at = open_app
    at.switch_page("app_pages/assignment.py")
    read_store(at, store_url)
    button(at, "Run the nightly assignment").click().run()
    no_exception(at)
    errors = frame_with(at, "file", "row", "column", "value", "rule")
    assert errors["value"].tolist() == ["w1"] and "language" in errors["rule"].iloc[0]
    e = engine(store_url)
    try:
        assert list_runs(e) == []  # nothing recorded
    finally:
        e.dispose()
