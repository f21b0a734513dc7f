"""History (coordinator and manager): the store's runs, one run's plan, two runs compared, and the audit trail.

Every nightly run recorded in the store is here, whether it came from `caseload assign --db` or from the
app (a proposal until a coordinator approves it). The page reads the store only; approving a proposal is
the one write it offers.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import approval, frames, state, store_runs, views
from caseload.store.database import StoreError

views.require_page(views.HISTORY_PAGE)
st.title("History")
st.caption("Every nightly run the store recorded: who ran it, whether it was approved, and what it did. "
           "Compare two runs to see who was placed, moved or left waiting, and why.")

if not state.store_available():
    st.warning("The store is not installed with this copy of caseload, so there is no run history.")
    st.stop()
url = st.text_input("Database URL", value=st.session_state.get(state.STORE_URL) or state.default_store_url(),
                    key="history_store_url", help="The store the nightly runs are recorded in.")
try:
    records = store_runs.list_runs(url)
except StoreError as exc:
    st.error(str(exc))
    st.stop()
if not records:
    st.info("No run is recorded in this store yet: run the nightly assignment on the store "
            "(Nightly assignment, Read the store) or `caseload assign --db`.")
    st.stop()



@st.cache_data(max_entries=8, show_spinner="Reading the run...")
def plan_of(store: str, run_id: int) -> tuple[dict, pd.DataFrame]:
    """A run's summary and plan: runs are written once, so a run read before is not read again."""
    stored, plan = store_runs.run_plan(store, run_id)
    return stored.summary, plan


@st.cache_data(max_entries=8, show_spinner="Comparing the runs...")
def changes_between(store: str, a: int, b: int) -> pd.DataFrame:
    """Two runs compared; cached like a run's plan, since neither run changes once written."""
    return store_runs.compare(store, a, b)


runs_tab, compare_tab, audit_tab = st.tabs(["Runs", "Compare two runs", "Audit trail"])

with runs_tab:
    table = store_runs.runs_frame(records)
    st.dataframe(table, hide_index=True, width="stretch", column_config=views.RUN_COLUMNS, key="runs_table")
    ids = table["run_id"].tolist()
    chosen = st.selectbox("Show the plan of run", ids, key="history_run",
                          format_func=lambda r: store_runs.run_label(table, r))
    summary, plan = plan_of(url, int(chosen))
    record = next(r for r in records if r.run_id == chosen)
    st.subheader(f"Run {record.run_id}: {store_runs.run_status(record)}")
    views.plan_metrics({**summary, "placed": record.placed, "moved": record.moved, "waiting": record.waiting,
                        "kept": record.kept})
    if store_runs.run_status(record) == store_runs.PROPOSED:
        approval.proposal_panel(record.run_id, url, "")
    reasons = frames.waiting_by_reason(summary)
    if not reasons.empty:
        st.markdown("**Why clients still wait**")
        st.dataframe(reasons, hide_index=True, width="stretch", column_config=views.REASON_COLUMNS)
    decisions = st.multiselect("Decision", frames.DECISION_ORDER, key="history_decisions")
    shown = plan[plan["decision"].isin(decisions)] if decisions else plan
    st.caption(f"{len(shown):,} of {len(plan):,} clients")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=views.ASSIGNMENT_COLUMNS)

with compare_tab:
    if len(records) < 2:
        st.info("Two runs are needed to compare.")
    else:
        ids = [r.run_id for r in records]
        table = store_runs.runs_frame(records)
        left, right = st.columns(2)
        a = left.selectbox("Run A (before)", ids, index=1, key="compare_a",
                           format_func=lambda r: store_runs.run_label(table, r))
        b = right.selectbox("Run B (after)", ids, index=0, key="compare_b",
                            format_func=lambda r: store_runs.run_label(table, r))
        try:
            changes = changes_between(url, int(a), int(b))
        except StoreError as exc:
            st.error(str(exc))
            changes = None
        if changes is not None:
            if changes.empty:
                st.success(f"Runs {a} and {b} place, move and keep every client the same way.")
            else:
                st.dataframe(store_runs.change_counts(changes), hide_index=True, key="compare_counts",
                             column_config=views.RUN_COMPARE_COLUMNS)
                st.dataframe(changes, hide_index=True, width="stretch", key="compare_table",
                             column_config=views.RUN_COMPARE_COLUMNS)

with audit_tab:
    try:
        trail = store_runs.audit_frame(url)
    except StoreError as exc:
        st.error(str(exc))
        trail = pd.DataFrame()
    if trail.empty:
        st.info("No override, priority change or approval is recorded yet.")
    else:
        st.dataframe(trail, hide_index=True, width="stretch", key="audit_table", column_config=views.AUDIT_COLUMNS)
