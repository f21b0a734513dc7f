"""Scenarios (funder): what a level of funding does to the waitlist, waits, caseloads, graduations and cost.

Only aggregate figures appear here (means and 90% bands across replications): no client row, id or
location, because funders see this page and no other. Runs are cached jobs keyed by the scenario's
values, so an unchanged scenario answers at once and a comparison reuses a run already made.
"""

from __future__ import annotations

import json

import streamlit as st

from app import runs, scenario_form, state, views
from caseload.validation import ValidationFailed
from simulation.plots import caseload_figure, compare_figure, fan_figure, graduations_figure
from simulation.replications import compare
from simulation.schema import Scenario

views.require_page(views.SCENARIOS_PAGE)
st.title("Scenarios")
st.caption("Test a funding level over the coming months: each scenario is simulated many times, and the charts "
           "show the mean and the range nine runs in ten fall in. Aggregate figures only: no client appears here.")

files = scenario_form.scenario_files()
if not files:
    st.warning(f"No scenario files (*.yaml) in {state.SCENARIO_DIR}.")
    st.stop()
choice = st.selectbox("Funding scenario", list(files), key="scenario_choice")
try:
    base = scenario_form.read_scenario(files[choice])
except ValidationFailed as failure:
    views.error_table(failure.errors, files[choice].name)
    st.stop()


def run(scenario: Scenario, label: str):
    """The scenario's result, from the cache or simulated now with a progress bar; None on bad input."""
    try:
        return views.run_job(scenario_form.scenario_key(scenario), runs.scenario_job(scenario),
                             expected_s=None, label=label)
    except ValidationFailed as failure:
        views.error_table(failure.errors, f"the start state of {scenario.name}")
        return None


changes = scenario_form.scenario_form(base, key=files[choice].stem)
if changes is not None:
    try:
        edited = base.with_changes(**changes)
    except ValidationFailed as failure:
        views.error_table(failure.errors, "the scenario")
        st.stop()
    st.session_state["scenario_edited"] = edited
    if run(edited, f"Simulating {edited.name}...") is not None:
        st.session_state["scenario_shown"] = edited

shown: Scenario | None = st.session_state.get("scenario_shown")
result = state.job_store().result(scenario_form.scenario_key(shown)) if shown is not None else None
if result is not None:
    st.header(result.scenario.name)
    views.scenario_headline(result.summary)
    left, right = st.columns(2)
    left.plotly_chart(views.tidy(fan_figure(result, "waitlist")), key="fan_waitlist")
    right.plotly_chart(views.tidy(fan_figure(result, "wait_mean_months")), key="fan_wait")
    left.plotly_chart(views.tidy(caseload_figure(result)), key="fan_caseload")
    right.plotly_chart(views.tidy(fan_figure(result, "utilisation"), percent=True), key="fan_utilisation")
    left.plotly_chart(views.tidy(graduations_figure(result)), key="fan_graduations")
    right.plotly_chart(views.tidy(fan_figure(result, "cost"), money=True), key="fan_cost")
    downloads = st.container(horizontal=True)
    downloads.download_button("Download monthly results (CSV)", result.monthly.to_csv(index=False), "monthly.csv",
                       "text/csv", on_click="ignore", icon=":material/download:")
    downloads.download_button("Download the summary (JSON)", json.dumps(result.summary, indent=2), "summary.json",
                       "application/json", on_click="ignore", icon=":material/download:")
elif shown is None:
    st.info("Adjust the scenario if you like, then press **Run the scenario**.")

st.header("Compare two scenarios")
EDITED = "The scenario above, as edited"
options = ([EDITED] if "scenario_edited" in st.session_state else []) + list(files)
a_col, b_col, n_col = st.columns([2, 2, 1])
a_choice = a_col.selectbox("Scenario A", options, index=0, key="compare_a")
# B defaults to another file than the one above, so the first comparison offered is a real one.
other = next((i for i, o in enumerate(options) if o not in (EDITED, choice)), 0)
b_choice = b_col.selectbox("Scenario B", options, index=other, key="compare_b")
replications = n_col.number_input("Replications of each", 1, 2000, base.replications, key="compare_reps",
                                  help="Both scenarios run this many times with the same seed, so replication i "
                                  "of A and of B see the same referrals (a paired comparison).")
if st.button("Run and compare", icon=":material/compare_arrows:"):
    picked = []
    for pick in (a_choice, b_choice):
        scenario = st.session_state["scenario_edited"] if pick == EDITED else scenario_form.read_scenario(files[pick])
        picked.append(scenario.with_changes(replications=int(replications)))
    results = [run(s, f"Simulating {s.name}...") for s in picked]
    if all(r is not None for r in results):
        st.session_state["compared"] = picked

compared = st.session_state.get("compared")
pair = [state.job_store().result(scenario_form.scenario_key(s)) for s in compared] if compared else []
if len(pair) == 2 and all(r is not None for r in pair):
    a, b = pair
    left, right = st.columns(2)
    with left:
        st.subheader(f"A: {a.scenario.name}")
        views.scenario_headline(a.summary, per_row=2)
    with right:
        st.subheader(f"B: {b.scenario.name}")
        views.scenario_headline(b.summary, per_row=2)
    left, right = st.columns(2)
    for i, metric in enumerate(("waitlist", "wait_mean_months", "utilisation", "cost")):
        figure = views.tidy(compare_figure(a, b, metric), percent=metric == "utilisation", money=metric == "cost")
        (left if i % 2 == 0 else right).plotly_chart(figure, key=f"compare_{metric}")
    table = compare(a, b)
    st.markdown("**Over the horizon: A, B and the difference B - A** (90% intervals" +
                (", paired replications)" if table.attrs.get("paired") else ")"))
    st.dataframe(views.comparison_table(table), hide_index=True, width="stretch",
                 column_config=views.COMPARISON_COLUMNS)
    st.download_button("Download the comparison (CSV)", table.to_csv(index=False), "comparison.csv", "text/csv",
                       on_click="ignore", icon=":material/download:")
