"""Nightly assignment (coordinator): load tonight's agency, run the optimizer, read and export the plan.

The page only reads widgets and shows what `optimizer.assign` returns; the run is a cached job, so
filtering and searching the result never solves again.
"""

from __future__ import annotations

import streamlit as st

from app import approval, frames, runs, state, store_runs, views
from caseload.store.database import StoreError
from caseload.validation import ValidationFailed

views.require_page(views.ASSIGNMENT_PAGE)
st.title("Nightly assignment")
st.caption("Place waiting clients with workers tonight, keeping clients who already have one. "
           "Caseload targets follow the IRCC framework: high-need 15 per FTE, low-need 50 per FTE.")

loaded = views.agency_picker()
if loaded is None:
    st.stop()
agency = loaded.agency

left, middle, right = st.columns([1, 1, 2], vertical_alignment="bottom")
time_limit = left.number_input("Time limit (s)", min_value=1.0, max_value=3600.0, step=5.0,
                               value=float(agency.policy.time_limit_s), key="nightly_time_limit",
                               help="The solver's budget; the policy file's time_limit_s by default.")
seed = middle.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1,
                           key="nightly_seed", help="The same seed and input give the same plan.")
key = runs.plan_key(loaded.key, int(seed), float(time_limit))
store_url = st.session_state.get(state.STORE_URL) if st.session_state.get(state.SOURCE) == "store" else None
if right.button("Run the nightly assignment", type="primary", icon=":material/play_arrow:"):
    if store_url:  # recorded in the store's history as a proposal, as `caseload assign --db --propose` does
        key = store_runs.record_key(loaded.key, int(seed), float(time_limit))
        work = store_runs.recorded_assignment_job(store_url, user=approval.signed_in_user(), seed=int(seed),
                                                  time_limit_s=float(time_limit))
    else:
        work = runs.assignment_job(agency, seed=int(seed), time_limit_s=float(time_limit))
    try:
        views.run_job(key, work, expected_s=float(time_limit), label="Solving the assignment...")
    except StoreError as exc:
        st.error(f"The run was not recorded and nothing changed: {exc}")
        st.stop()
    except ValidationFailed as failure:  # overrides in the store that cannot hold: fix them (Waitlist page)
        views.error_table(failure.errors, "the overrides in force")
        st.stop()
    st.session_state.setdefault("plans", {})[loaded.key] = key

planned: runs.Planned | None = state.job_store().result(st.session_state.get("plans", {}).get(loaded.key, ""))
if planned is None:
    st.info("Press **Run the nightly assignment** to place tonight's waiting clients.")
    st.stop()

summary = planned.summary
if store_url and getattr(planned, "run_id", None) is not None:
    approval.proposal_panel(planned.run_id, store_url, st.session_state["plans"][loaded.key])
views.plan_metrics(summary)

reasons = frames.waiting_by_reason(summary)
st.subheader("Why clients still wait")
if reasons.empty:
    st.success("Every waiting client was placed.")
else:
    st.dataframe(reasons, hide_index=True, width="stretch", column_config=views.REASON_COLUMNS)

st.subheader("Caseload against target")
st.plotly_chart(frames.caseload_chart(summary), key="caseload_chart")

st.subheader("Clients")
view = planned.view
search = st.text_input("Search", placeholder="client, worker, area, language or reason",
                       help="Finds rows containing this text (not case-sensitive).")
f1, f2, f3, f4 = st.columns(4)
decisions = f1.multiselect("Decision", frames.DECISION_ORDER)
workers = f2.multiselect("Worker", sorted(w.worker_id for w in agency.workers))
need_levels = f3.multiselect("Need level", ["high", "low"])
areas = f4.multiselect("Area", sorted(a for a in view["area"].unique() if a))
shown = frames.filter_view(view, decisions=decisions, workers=workers, need_levels=need_levels, areas=areas,
                           text=search, search=planned.search)
st.caption(f"{len(shown):,} of {len(view):,} clients")

table_tab, map_tab = st.tabs(["Table", "Map"])
table_tab.dataframe(shown.drop(columns=["latitude", "longitude"]), hide_index=True, width="stretch",
                    column_config=views.ASSIGNMENT_COLUMNS)
map_tab.plotly_chart(frames.client_map(shown, agency), key="client_map", config={"scrollZoom": True})

downloads = st.container(horizontal=True)
downloads.download_button("Download assignments (CSV)", planned.csv_bytes, file_name="assignments.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:")
downloads.download_button("Download assignments (Excel)", planned.excel_bytes, file_name="assignments.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                   icon=":material/download:")
