"""The Staffing page's Recommend hires panel shows what `planning.staffing` returns, adds its hires to the
what-if, and says plainly when the budget buys nothing.

The planner is the library's (recorded here, as `library` records `optimizer.assign`): the page is checked
against the plan the library returned to it, and the call against what the page should have asked. Every
test that opens the page records `optimizer.assign` (`library`), so the page's plan with today's workers,
cached for the whole session, is one test_staffing_page can find among the recorded calls.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app import hires, hires_panel, state
from caseload.contract_io import workers_frame
from tests.app.conftest import element_texts, frame_with, no_exception
from tests.app.test_staffing_page import open_staffing

HIRES_LIMIT_S = 4.0  # the panel's time limit: 3 s for the plan and its frontier, 1 s for the bottlenecks
STEPS = 3
MONTHS = 2
REPLICATIONS = 2
JOB_KEYS = ("plan_key", "bottleneck_key", "projection_key")


class PlannerCalls:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, list, float, dict[str, Any], Any]] = []

    def call_for(self, plan: Any) -> tuple[Any, list, float, dict[str, Any]]:
        for agency, candidates, budget, options, returned in self.calls:
            if returned is plan:
                return agency, candidates, budget, options
        raise AssertionError("this plan did not come from planning.staffing.plan_hires")


@pytest.fixture
def planner(monkeypatch) -> Iterator[PlannerCalls]:
    from planning import staffing

    real = staffing.plan_hires
    calls = PlannerCalls()

    def recording(agency, candidates, budget, **options):
        plan = real(agency, candidates, budget, **options)
        calls.calls.append((agency, list(candidates), budget, {k: v for k, v in options.items() if k != "progress"},
                            plan))
        return plan

    monkeypatch.setattr(staffing, "plan_hires", recording)
    yield calls


def recommend(at, budget: float):
    """Fill the panel's form with a budget and the tests' short settings, press Recommend hires, and rerun
    the page until the plan, the bottlenecks and the projection are in. Returns the request."""
    at.number_input(key="hires_budget").set_value(float(budget))
    at.number_input(key="hires_time_limit").set_value(HIRES_LIMIT_S)
    at.number_input(key="hires_frontier_steps").set_value(STEPS)
    at.number_input(key="hires_months").set_value(MONTHS)
    at.number_input(key="hires_replications").set_value(REPLICATIONS)
    [b for b in at.button if b.label == "Recommend hires"][0].click().run()
    no_exception(at)
    request = at.session_state[hires_panel.REQUEST][at.session_state[state.LOADED].key]
    store = state.job_store()
    for _ in range(6):  # the projection starts on the run after the plan is in
        for key in JOB_KEYS:
            job = store.running(request[key])
            if job is not None:
                job.future.exception()  # wait for it (its error, if any, surfaces on the page below)
        done = all(store.result(request[k]) is not None for k in JOB_KEYS)
        at.run()  # drawn after the check, so once `done` the page has drawn every result
        no_exception(at)
        if done:
            break
    assert not at.error, [e.value for e in at.error]
    assert all(store.result(request[k]) is not None for k in JOB_KEYS)
    return request


def numbers(value: Any) -> list[float]:
    """A trace's array as sent to the browser: a list, or plotly's typed array (base64 `bdata` and a dtype)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def chart_data(at, name: str) -> dict[str, list[float]]:
    """The x and y of the plotly trace called `name`, as sent to the browser."""
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("name") == name:
                return {"x": numbers(trace["x"]), "y": numbers(trace["y"])}
    raise AssertionError(f"no chart trace {name!r}")


def test_the_panel_recommends_hires_and_shows_the_frontier_hires_bottlenecks_and_projection(
        open_app, sample_agency, planner, library):
    at = open_staffing(open_app)
    budget = 4 * sample_agency.policy.cost_per_fte + 10_000
    request = recommend(at, budget)
    store = state.job_store()
    plan = store.result(request["plan_key"])

    from planning.staffing import derive_candidates

    agency, candidates, asked, options = planner.call_for(plan)
    assert agency == sample_agency and candidates == derive_candidates(sample_agency) and asked == budget
    assert options == {"seed": 0, "frontier_steps": STEPS, "time_limit_s": HIRES_LIMIT_S * (1 - hires.BOTTLENECK_SHARE)}
    assert plan.hires, "the sample has clients only a hire can place: the test needs a plan that hires"
    assert plan.cost <= budget and plan.placed_with >= plan.placed_without

    shown = {m.label: m.value for m in at.metric}
    assert shown["Hires"] == str(sum(plan.hires.values()))
    assert shown["Cost a year"] == f"${plan.cost:,.0f}"
    assert shown["Placed tonight with the hires"] == f"{plan.placed_with:,}"

    listed = frame_with(at, "candidate_id", "hires", "clients_placed")
    assert dict(zip(listed["candidate_id"], zip(listed["hires"], listed["clients_placed"], strict=True),
                    strict=True)) == {cid: (n, plan.clients_placed[cid]) for cid, n in plan.hires.items()}
    assert listed["annual_cost"].sum() == pytest.approx(plan.cost)

    placed = chart_data(at, "clients placed tonight")
    assert placed["x"] == [row["budget"] for row in plan.frontier] and len(placed["x"]) == STEPS + 1
    assert placed["y"] == [row["placed"] for row in plan.frontier]
    assert placed["y"] == sorted(placed["y"])  # the frontier never falls as the budget grows

    table = store.result(request["bottleneck_key"])
    shown_table = frame_with(at, "language_name", "waiting", "one_more_fte_places")
    assert shown_table["waiting"].tolist() == table["waiting"].tolist()
    assert shown_table["one_more_fte_places"].tolist() == table["one_more_fte_places"].astype("Int64").tolist()

    projected = store.result(request["projection_key"])
    assert projected.projection.months == MONTHS and projected.projection.replications == REPLICATIONS
    assert projected.projection.added_fte == pytest.approx(sum(w.fte for w in plan.hire_workers))
    assert shown["With the hires"] == f"{projected.projection.worst_p90(True):.1f} months"
    assert chart_data(at, "with the hires")["y"] == pytest.approx(projected.projection.waitlist_with.mean(axis=0))

    labels = [d.label for d in at.get("download_button")]
    assert {"Hires (CSV)", "Workers with hires (CSV)", "Everything (Excel)"} <= set(labels)
    ids = {c.client_id for c in sample_agency.clients}
    assert not [t for t in element_texts(at) for cid in ids if cid in t], "the panel shows no client rows"

    # The downloads: the contract's files, and one workbook of every table.
    assert pd.read_csv(io.BytesIO(hires.csv_bytes(plan.hires_frame())))["candidate_id"].tolist() == list(plan.hires)
    workers = pd.read_csv(io.BytesIO(hires.workers_with_hires_csv(plan)), dtype=str, keep_default_na=False)
    assert workers["worker_id"].tolist() == [w.worker_id for w in plan.workers]
    book = pd.read_excel(io.BytesIO(hires.excel_bytes(plan, table, projected)), sheet_name=None)
    assert list(book) == ["summary", "hires", "workers with hires", "frontier", "bottlenecks", "projection"]
    assert len(book["frontier"]) == STEPS + 1 and len(book["projection"]) == 6 * (MONTHS + 1)


def test_add_to_workers_puts_the_hires_in_the_what_if(open_app, sample_agency, library):
    at = open_staffing(open_app)
    request = recommend(at, 2 * sample_agency.policy.cost_per_fte)
    plan = state.job_store().result(request["plan_key"])
    assert plan.hire_workers
    [add] = [b for b in at.button if b.label.startswith("Add the ")]
    add.click().run()
    no_exception(at)

    names = [w.worker_id for w in plan.hire_workers]
    assert all(n.startswith("HIRE-") for n in names)
    editor = at.data_editor[0].value
    assert editor["worker_id"].tolist() == [w.worker_id for w in sample_agency.workers] + names
    expected = workers_frame(plan.hire_workers).set_index("worker_id")
    for column in ("languages", "areas"):
        assert editor.set_index("worker_id").loc[names, column].fillna("").tolist() == expected[column].tolist()
    # The what-if plans with today's workers and the hires, through the same reader and optimizer.
    after = [plan_ for agency, _, plan_ in library.calls
             if [w.worker_id for w in agency.workers] == [w.worker_id for w in sample_agency.workers] + names]
    assert after, "the what-if did not plan with the hires"
    assert {m.label: m.value for m in at.metric}["Placed"] == f"{after[-1].summary['placed']:,}"
    # begun from the panel's plan, it places at least what the panel promised (the data contract's promise)
    assert after[-1].summary["start"]["used"] and after[-1].summary["start"]["dropped"] == 0
    assert after[-1].summary["objective"]["placements"] >= plan.placed_with


def test_a_budget_below_the_cheapest_candidate_says_so_and_hires_nobody(open_app, sample_agency, library):
    at = open_staffing(open_app)
    request = recommend(at, 1_000)
    plan = state.job_store().result(request["plan_key"])
    assert not plan.hires and plan.cost == 0
    [warning] = [w.value for w in at.warning if "below the cheapest candidate" in w.value]
    assert "$1,000" in warning and "hires nobody" in warning
    assert {m.label: m.value for m in at.metric}["Hires"] == "0"
    assert not [b for b in at.button if b.label.startswith("Add the ")]
    assert any("No hire" in i.value for i in at.info)


def test_an_uploaded_candidates_file_goes_through_the_reader(tmp_path):
    good = b"candidate_id,languages,fte,annual_cost,areas\ntigrinya-k1z,ti;en,1.0,80000,K1Z\nfrench,fr,0.5,,\n"
    candidates, errors = hires.candidates_from_upload("positions.csv", good)
    assert not errors and [c.candidate_id for c in candidates] == ["tigrinya-k1z", "french"]
    assert candidates[0].annual_cost == 80000 and candidates[1].annual_cost is None
    bad = b"candidate_id,languages,fte,annual_cost\na,ti,3,1\na,zzq,1,-5\n"
    candidates, errors = hires.candidates_from_upload("positions.csv", bad)
    assert candidates == []
    assert {e.file for e in errors} == {"positions.csv"}
    found = {(e.row, e.column) for e in errors}
    assert {(2, "fte"), (3, "languages"), (3, "annual_cost")} <= found
    assert any(e.column == "candidate_id" for e in errors)  # the duplicate id
    _, errors = hires.candidates_from_upload("positions.txt", good)
    assert errors and "CSV or Excel" in errors[0].rule


def test_the_panel_never_blocks_the_page(open_app, monkeypatch, library):
    """While the planner runs, the page draws the workers table and the panel a progress bar."""
    import threading

    from planning import staffing

    release = threading.Event()

    def slow(*args, **kwargs):
        release.wait(60)
        raise RuntimeError("stopped by the test")

    monkeypatch.setattr(staffing, "plan_hires", slow)
    at = open_staffing(open_app)
    at.number_input(key="hires_budget").set_value(123_457.0)  # a key no other test has run
    at.number_input(key="hires_time_limit").set_value(HIRES_LIMIT_S)
    [b for b in at.button if b.label == "Recommend hires"][0].click().run()
    try:
        no_exception(at)
        assert at.data_editor, "the workers table is drawn while the planner runs"
        # The run ended while the planner still waits for the test: the page did not wait for it.
        assert any(p.proto.text.startswith("Planning hires") for p in at.get("progress"))
    finally:
        release.set()
    request = at.session_state[hires_panel.REQUEST][at.session_state[state.LOADED].key]
    job = state.job_store().running(request["plan_key"])
    if job is not None:
        job.future.exception()
    at.run()
    no_exception(at)
    assert any("stopped by the test" in e.value for e in at.error)  # a failed job is said, not a traceback
