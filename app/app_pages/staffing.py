"""Staffing (program manager): edit the workers table and see what the change does to tonight's plan.

The edited table goes through the same reader as an uploaded workers file, then the optimizer plans
again with a short time limit. Both plans (before and after) use the same settings, so the difference
is the staffing change and not a different solver budget.

Above the table, the Recommend hires panel (`app.hires_panel`) answers "what should I hire" for a budget, and
can add its hires to the table for this what-if.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from app import frames, hires_panel, runs, state, views
from caseload.contract_io import workers_frame
from caseload.reader import workers_from_table
from caseload.validation import InputError

views.require_page(views.STAFFING_PAGE)
st.title("Staffing")
st.caption("Add, remove or edit workers (languages, French, areas, FTE) and see at once who could be placed, "
           "who still waits and why, and each caseload against its target.")

loaded = views.agency_picker()
if loaded is None:
    st.stop()
agency = loaded.agency

left, right, _ = st.columns([1, 1, 2])
time_limit = left.number_input("Time limit per plan (s)", min_value=1.0, max_value=600.0, step=1.0,
                               value=float(min(agency.policy.time_limit_s, 10.0)), key="staffing_time_limit",
                               help="Short, so that each change answers quickly.")
seed = int(right.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="staffing_seed"))
before = views.run_job(runs.plan_key(loaded.key, seed, time_limit),
                       runs.assignment_job(agency, seed=seed, time_limit_s=time_limit),
                       expected_s=time_limit, label="Planning with today's workers...")

hires_panel.render(loaded, seed=seed)

st.subheader("Workers")
today = frames.editor_frame(workers_frame(agency.workers))
added = hires_panel.added_hires(loaded.key)  # the recommended hires, once "Add ... to the workers table"
original = frames.editor_frame(workers_frame(list(agency.workers) + added)) if added else today
edited = st.data_editor(original, num_rows="dynamic", hide_index=True,
                        key=hires_panel.editor_key(f"workers_editor_{loaded.key[:12]}", added),
                        column_order=views.WORKER_EDITOR_ORDER, column_config=views.WORKER_EDITOR_COLUMNS)
edited_csv = edited.to_csv(index=False).encode()
if edited_csv == today.to_csv(index=False).encode():
    st.info("Edit, add or remove workers in the table to see what changes.")
    views.plan_metrics(before.summary)
    st.plotly_chart(frames.caseload_chart(before.summary), key="caseload_before")
    st.stop()

errors: list[InputError] = []
workers = workers_from_table(frames.table_from_editor(edited), errors)
if not workers and not errors:
    errors.append(InputError(frames.EDITED_WORKERS_FILE, None, None, None, "no workers left: keep at least one"))
if errors:
    views.error_table(errors, "the workers table")
    st.stop()

changed, returned = state.with_workers(agency, workers)
after_key = runs.plan_key(f"{loaded.key}:workers={hashlib.sha256(edited_csv).hexdigest()[:16]}", seed, time_limit)
# with the recommended hires added, the what-if begins from the panel's plan (it checks it against the edits)
start_from = hires_panel.added_start(loaded.key) if added else None
after = views.run_job(after_key, runs.assignment_job(changed, seed=seed, time_limit_s=time_limit,
                                                     start_from=start_from),
                      expected_s=time_limit, label="Planning with the edited workers...")

if returned:
    st.warning(f"{len(returned)} active client(s) of removed workers go back to the waitlist and are placed again.")
views.diff_metrics(before.summary, after.summary)

st.subheader("Who could be placed, who still waits")
changes = frames.placement_changes(before.assignments, after.assignments)
reasons = frames.reason_diff(before.summary, after.summary)
left, right = st.columns(2)
left.markdown("**Clients whose outcome changes**")
left.dataframe(changes, hide_index=True, width="stretch", column_config=views.CHANGE_COLUMNS)
right.markdown("**Clients waiting, by reason**")
right.dataframe(reasons, hide_index=True, width="stretch", column_config=views.REASON_DIFF_COLUMNS)

st.subheader("Caseload against target")
st.plotly_chart(frames.caseload_chart(after.summary, before=before.summary), key="caseload_after")
