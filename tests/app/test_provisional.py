"""The Nightly page shows a plan as soon as placements are final, and the final plan when the later stages
end (issue 15): the job offers the optimizer's provisional plan, the page draws it while it waits."""

from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest

from app import runs
from app.jobs import JobStore
from tests.optimizer.agencies import agency, caseload, client, worker


@pytest.fixture(autouse=True)
def _main_module_restored():
    """Streamlit's script runner leaves its script as ``__main__``; a process spawned later (the benchmark's
    reference child) would run that generated script again, so the real ``__main__`` is put back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def test_the_assignment_job_offers_the_provisional_plan_before_the_final_one():
    ag = agency(caseload("W1", n_low=47) + [client(f"C{n}") for n in range(5)], [worker("W1")])
    store = JobStore()
    messages: list[str] = []
    job = store.start("k", runs.assignment_job(ag, seed=0, time_limit_s=10))
    final = store.wait(job, lambda j: messages.append(j.message))
    early = job.partial
    assert early is not None and early.summary["provisional"] is True
    assert "provisional" not in final.summary
    assert early.summary["placed"] == final.summary["placed"] == 3
    assert set(early.view["client_id"]) == set(final.view["client_id"])  # the page's table, built early


def _page_waiting_for_a_run():
    import threading
    from types import SimpleNamespace

    import streamlit as st

    from app import views
    from app.jobs import JobStore

    drawn = threading.Event()
    real_panel = views.provisional_panel

    def panel(partial):
        real_panel(partial)
        drawn.set()

    views.provisional_panel = panel
    summary = {"status": "FEASIBLE", "placed": 7, "moved": 1, "waiting": 2, "kept": 40, "placement_gap": 0.0,
               "placement_bound": 7, "wall_time_s": 1.5, "provisional": True}

    def work(job):
        job.offer(SimpleNamespace(summary=summary), "placements final; polishing travel and even loads")
        drawn.wait(60)  # the run ends only once the page has drawn the provisional plan
        return "final plan"

    store = JobStore()
    result = views.wait_for(store.start("k", work), expected_s=10, label="Solving the assignment...")
    views.provisional_panel = real_panel
    st.session_state["drawn_while_running"] = drawn.is_set()
    st.write(result)


def test_the_page_draws_the_provisional_plan_while_the_run_goes_on():
    at = AppTest.from_function(_page_waiting_for_a_run, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["drawn_while_running"] is True
    assert "final plan" in [m.value for m in at.markdown]
    assert not at.info  # the provisional panel gives way to the final plan


def _panel_only():
    from types import SimpleNamespace

    from app import views

    views.provisional_panel(SimpleNamespace(summary={"status": "FEASIBLE", "placed": 7, "moved": 1, "waiting": 2,
                                                     "kept": 40, "placement_gap": 0.0, "placement_bound": 7}))


def test_the_provisional_panel_says_placements_are_final_and_shows_them():
    at = AppTest.from_function(_panel_only).run()
    assert not at.exception
    assert "Placements final; polishing travel and even loads" in at.info[0].value
    assert {m.label: m.value for m in at.metric}["Placed tonight"] == "7"
