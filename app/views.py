"""Pieces of page the three pages share, so each page script stays a short list of widgets and calls.

The agency picker and the error table (coordinator and manager), the progress bar of a running job, the
role check every page makes, the headline figures of a plan or a scenario, and the column labels that
turn the library's field names into words a coordinator reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app import state
from app.jobs import Job
from caseload.validation import InputError

MAX_ERRORS_SHOWN = 5_000
ASSIGNMENT_PAGE = "Nightly assignment"
STAFFING_PAGE = "Staffing"
SCENARIOS_PAGE = "Scenarios"  # the one page a funder sees (caseload.auth.SCENARIOS_PAGE)
WAITLIST_PAGE = "Waitlist"  # the queue, review lists, overrides (client rows: never a funder)
HISTORY_PAGE = "History"  # the store's runs, approvals and the audit trail (client rows: never a funder)
PAGES = (ASSIGNMENT_PAGE, WAITLIST_PAGE, HISTORY_PAGE, STAFFING_PAGE, SCENARIOS_PAGE)
USER = "signed_in_user"

ASSIGNMENT_COLUMNS = {
    "client_id": st.column_config.TextColumn("client"),
    "worker_id": st.column_config.TextColumn("worker"),
    "need_level": st.column_config.TextColumn("need level"),
    "days_waiting": st.column_config.NumberColumn("days waiting", help="Since the referral (clients waiting tonight)"),
    "language": st.column_config.TextColumn("language used"),
    "french_service": st.column_config.CheckboxColumn("French service"),
    "travel_km": st.column_config.NumberColumn("travel (km)", format="%.1f"),
}

REASON_COLUMNS = {
    "reason": st.column_config.TextColumn("why they wait", width="large"),
    "clients": st.column_config.NumberColumn("clients", width="small"),
}
REASON_DIFF_COLUMNS = {
    "reason": st.column_config.TextColumn("why they wait", width="medium"),
    **{c: st.column_config.NumberColumn(c, width="small") for c in ("before", "after", "change")},
}
RUN_COLUMNS = {
    "run_id": st.column_config.NumberColumn("run", format="%d", width="small"),
    "as_of": st.column_config.DateColumn("date"),
    "started_at": st.column_config.TextColumn("started"),
    "user": st.column_config.TextColumn("run by"),
    "status": st.column_config.TextColumn("status", help="proposed: waits for a coordinator's approval; "
                                          "approved: its plan became the clients' current workers; committed: "
                                          "applied when it ran (caseload assign --db)"),
    "approved_by": st.column_config.TextColumn("approved by"),
}
RUN_COMPARE_COLUMNS = {
    "client_id": st.column_config.TextColumn("client"),
    "change": st.column_config.TextColumn("what changed"),
    "decision_a": st.column_config.TextColumn("A: decision"),
    "worker_a": st.column_config.TextColumn("A: worker"),
    "decision_b": st.column_config.TextColumn("B: decision"),
    "worker_b": st.column_config.TextColumn("B: worker"),
    "reason_a": st.column_config.TextColumn("A: why", width="medium"),
    "reason_b": st.column_config.TextColumn("B: why", width="medium"),
}
AUDIT_COLUMNS = {
    "entry_id": None,
    "at": st.column_config.DatetimeColumn("when (UTC)", format="YYYY-MM-DD HH:mm"),
    "user": st.column_config.TextColumn("who"),
    "action": st.column_config.TextColumn("what"),
    "client_id": st.column_config.TextColumn("client"),
    "detail": st.column_config.TextColumn("detail", width="medium"),
    "reason": st.column_config.TextColumn("why", width="medium"),
}
OVERRIDE_COLUMNS = {
    "override_id": st.column_config.NumberColumn("id", format="%d"),
    "client_id": st.column_config.TextColumn("client"),
    "worker_id": st.column_config.TextColumn("worker"),
    "reason": st.column_config.TextColumn("why", width="medium"),
    "set_by": st.column_config.TextColumn("set by"),
    "set_at": st.column_config.DatetimeColumn("set (UTC)", format="YYYY-MM-DD HH:mm"),
    "until": st.column_config.DateColumn("until"),
}
QUEUE_COLUMNS = {
    "position": st.column_config.NumberColumn("position", format="%d",
                                              help="Order in which the optimizer would place this client among "
                                                   "those the same workers can serve"),
    "client_id": st.column_config.TextColumn("client"),
    "days_waiting": st.column_config.NumberColumn("days waiting", format="%d"),
    "priority": st.column_config.NumberColumn("priority", format="%d"),
    "reason": st.column_config.TextColumn("why they wait", width="large"),
    "eligible_workers": st.column_config.NumberColumn("eligible workers", format="%d",
                                                      help="Workers who could serve the client at all"),
    "expected_placement": st.column_config.DateColumn("expected placement (median)"),
    "expected_range": st.column_config.TextColumn("80% range", help="Placement expected between these dates in "
                                                  "8 of 10 cases"),
    "next_review": st.column_config.DateColumn("next check-in"),
    "referral_date": st.column_config.DateColumn("referred"),
}
REVIEW_COLUMNS = {
    "client_id": st.column_config.TextColumn("client"),
    "worker_id": st.column_config.TextColumn("worker"),
    "kind": st.column_config.TextColumn("review"),
    "due": st.column_config.DateColumn("due"),
    "days_overdue": st.column_config.NumberColumn("days overdue", format="%d",
                                                  help="Negative: days until it is due"),
    "need_level": st.column_config.TextColumn("need level"),
    "last_review_date": st.column_config.DateColumn("last review"),
}
CHANGE_COLUMNS = {
    "client_id": st.column_config.TextColumn("client"),
    "worker_before": st.column_config.TextColumn("worker before"),
    "worker_after": st.column_config.TextColumn("worker after"),
}
COMPARISON_COLUMNS = {
    "figure": st.column_config.TextColumn("figure", width="medium"),
    **{f"{side}_{stat}": st.column_config.NumberColumn(
        f"{side.upper() if side != 'diff' else 'B - A'} {stat}", format="localized")
       for side in ("a", "b", "diff") for stat in ("mean", "low", "high")},
}
WORKER_EDITOR_ORDER = ("worker_id", "fte", "languages", "french", "areas", "available", "max_travel_km",
                       "specializations", "gender", "max_new_per_week", "high_need_ratio", "low_need_ratio",
                       "latitude", "longitude")
WORKER_EDITOR_COLUMNS = {
    "worker_id": st.column_config.TextColumn("worker", required=True),
    "fte": st.column_config.NumberColumn("FTE", min_value=0.05, max_value=1.5, step=0.05, required=True,
                                         help="Full-time equivalent in (0, 1.5]; the caseload target scales with it"),
    "languages": st.column_config.TextColumn("languages", required=True,
                                             help="ISO codes or names separated by ; (e.g. ar;en)"),
    "french": st.column_config.CheckboxColumn("French", help="Can deliver services in French"),
    "areas": st.column_config.TextColumn("areas", help="Service areas separated by ; (empty: all areas)"),
    "available": st.column_config.CheckboxColumn("available", help="Untick for a worker on leave"),
    "max_travel_km": st.column_config.NumberColumn("max travel (km)", min_value=0.0),
    "max_new_per_week": st.column_config.NumberColumn("max new a week", min_value=0, step=1),
    "high_need_ratio": st.column_config.NumberColumn("high-need target /FTE", help="Empty: the policy's"),
    "low_need_ratio": st.column_config.NumberColumn("low-need target /FTE", help="Empty: the policy's"),
}


def require_page(title: str) -> None:
    """Refuse a page the signed-in role may not see, checked on the page itself and not only in the menu.

    The check reads the auth configuration again rather than trusting the entry script's menu, so a page
    run some other way (a stale link, a Streamlit fallback) still cannot show client rows to a funder or
    to nobody.
    """
    try:
        from caseload.auth import AuthConfigError, can_see, load_auth
    except ImportError:
        return
    try:
        config = load_auth()
    except AuthConfigError:
        st.error("The sign-in configuration is broken, so the app will not open.")
        st.stop()
    if config is None:
        return
    user = st.session_state.get(USER)
    if user is None or user.username not in config.users or not can_see(user.role, title):
        st.error("This page is not available: sign in with a role that may see it.")
        st.stop()


def plan_metrics(summary: dict[str, Any]) -> None:
    """The run's headline: placed, moved, still waiting, kept, and how sure the solver is."""
    cols = st.columns(4)
    cols[0].metric("Placed tonight", f"{summary.get('placed', 0):,}", border=True)
    cols[1].metric("Moved", f"{summary.get('moved', 0):,}", border=True,
                   help="Active clients given another worker (limited by the policy's max_moves_share)")
    cols[2].metric("Still waiting", f"{summary.get('waiting', 0):,}", border=True)
    cols[3].metric("Kept", f"{summary.get('kept', 0):,}", border=True,
                   help="Active clients who stay with their worker")
    notes = [f"solver status {summary['status']}"] if "status" in summary else []
    gap = summary.get("placement_gap")
    if isinstance(gap, int | float):
        bound = summary.get("placement_bound")
        over = ("the proven best" if "could place more" not in str(summary.get("bound_source", ""))
                else "the best over the model's moves")
        notes.append(f"placements within {gap:.1%} of {over}" + (f" ({bound:,})" if bound else ""))
    if isinstance(summary.get("wall_time_s"), int | float):
        notes.append(f"{summary['wall_time_s']:.1f} s")
    if notes:
        st.caption("; ".join(notes))


def error_table(errors: tuple[InputError, ...] | list[InputError], what: str = "the files") -> None:
    """Every broken rule as a table of rows to fix (file, row, column, value, rule), all at once."""
    st.error(f"{len(errors)} problem(s) in {what}: nothing was loaded. Fix these rows and try again.")
    frame = pd.DataFrame([e.as_dict() for e in errors[:MAX_ERRORS_SHOWN]],
                         columns=["file", "row", "column", "value", "rule"])
    frame["row"] = frame["row"].astype("Int64")
    st.dataframe(frame, hide_index=True, width="stretch", key=None)
    if len(errors) > MAX_ERRORS_SHOWN:
        st.caption(f"... and {len(errors) - MAX_ERRORS_SHOWN} more")


def diff_metrics(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Placed, moved and waiting after a change, with the difference from before."""
    cols = st.columns(4)
    for col, (key, label, colour) in zip(cols, (("placed", "Placed", "normal"), ("moved", "Moved", "inverse"),
                                                ("waiting", "Still waiting", "inverse"), ("kept", "Kept", "off")),
                                         strict=True):
        value, prior = after.get(key, 0), before.get(key, 0)
        col.metric(label, f"{value:,}", delta=f"{value - prior:+,} from {prior:,}" if value != prior else "no change",
                   delta_color=colour if value != prior else "off", border=True)


def agency_picker() -> state.Loaded | None:
    """Choose where tonight's agency comes from; the choice and the loaded agency outlive page switches."""
    options = list(state.SOURCES)
    if not state.store_available():
        options.remove("store")
    current = st.session_state.get(state.SOURCE, "sample")
    kind = st.radio("Agency data", options, index=options.index(current) if current in options else 0,
                    format_func=state.SOURCES.get, horizontal=True)
    st.session_state[state.SOURCE] = kind
    loaded: state.Loaded | None = None
    if kind == "sample":
        if not state.SAMPLE_DIR.is_dir():
            st.warning(f"The sample agency is not there ({state.SAMPLE_DIR}). Upload files instead.")
            return None
        loaded = state.load_folder(state.SAMPLE_DIR)
    elif kind == "upload":
        files = st.file_uploader(
            "clients and workers (CSV or Excel), and policy.yaml if you have one", type=state.UPLOAD_TYPES,
            accept_multiple_files=True, help="Files in the data contract's format: clients.csv, workers.csv "
            "(or .xlsx, or one workbook with a clients sheet and a workers sheet) and an optional policy.yaml.",
        )
        if files:
            loaded = state.load_uploads([(f.name, f.getvalue()) for f in files])
            st.session_state[state.UPLOADED] = loaded
        else:
            loaded = st.session_state.get(state.UPLOADED)
            if loaded is None:
                st.info("Upload clients and workers files to begin.")
                return None
    else:
        url = st.text_input("Database URL", value=state.default_store_url(),
                            help="A SQLite file (sqlite:///caseload.db) or postgresql://user@host/db")
        if st.button("Read the store"):
            with st.spinner("Reading the store..."):
                st.session_state[state.STORED] = state.load_store(url)
                st.session_state[state.STORE_URL] = url
        loaded = st.session_state.get(state.STORED)
        if loaded is None:
            st.info("Read today's agency from the store, or choose another source.")
            return None
    st.session_state[state.LOADED] = loaded
    if not loaded.ok:
        error_table(loaded.errors, loaded.label)
        return None
    agency = loaded.agency
    st.caption(
        f"Using {loaded.label}: {len(agency.clients):,} clients ({len(agency.waiting):,} waiting, "
        f"{len(agency.active):,} active), {len(agency.workers):,} workers, as of {agency.as_of.isoformat()}."
    )
    for note in agency.policy.deviations():
        st.warning(f"The policy differs from the IRCC framework: {note}")
    return loaded


def provisional_panel(partial: Any) -> None:
    """A run's provisional plan while it still runs: placements are final, the later stages still polish
    language, needs, travel and loads (`optimizer.assign`'s ``on_placements``)."""
    st.info("Placements final; polishing travel and even loads. The plan below is provisional: who is placed "
            "will not change, which worker may.", icon=":material/hourglass_top:")
    plan_metrics(partial.summary)


def wait_for(job: Job, *, expected_s: float | None, label: str) -> Any:
    """Show a progress bar while a job runs; the fraction is the job's own, else time against budget. A
    provisional result the job offers (`Job.offer`) is shown under the bar until the final one is ready."""
    bar = st.progress(0.0, text=label)
    early = st.empty()
    shown: list[Any] = []

    def show(j: Job) -> None:
        if j.fraction is not None:
            fraction = j.fraction
        elif expected_s:
            fraction = min(j.elapsed / expected_s, 0.99)
        else:
            fraction = 0.0
        text = f"{label} {j.message}".strip() if j.message else label
        bar.progress(fraction, text=f"{text} ({j.elapsed:.0f} s)")
        if j.partial is not None and not shown and hasattr(j.partial, "summary"):
            shown.append(j.partial)
            with early.container():
                provisional_panel(j.partial)

    try:
        return state.job_store().wait(job, show)
    finally:
        bar.empty()
        early.empty()


def run_job(key: str, work: Callable[[Job], Any], *, expected_s: float | None, label: str) -> Any:
    """The cached result for `key`, or run `work` now (or join the run already going) with a progress bar."""
    store = state.job_store()
    done = store.result(key)
    if done is not None:
        return done
    return wait_for(store.start(key, work), expected_s=expected_s, label=label)


def _short(value: float | None, money: bool = False) -> str:
    if value is None:
        return "n/a"
    if money:
        return f"${value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"${value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def scenario_headline(summary: dict[str, Any], per_row: int = 4) -> None:
    """End-of-horizon waitlist, waits, graduations and cost: each a mean with its 90% band."""
    totals = summary.get("totals") or {}
    end = summary.get("end_of_horizon") or {}
    waits = summary.get("wait_months") or {}
    months = summary.get("horizon_months")
    figures = (
        ("Waitlist at the end", end.get("waitlist"), False),
        ("Mean wait (months)", waits.get("mean"), False),
        ("Graduations" + (f" in {months} months" if months else ""), totals.get("graduations"), False),
        ("Cost" + (f" over {months} months" if months else ""), totals.get("cost"), True),
    )
    columns = [c for _ in range(0, len(figures), per_row) for c in st.columns(per_row)]
    for col, (label, block, money) in zip(columns, figures, strict=True):
        block = block or {}
        col.metric(label, _short(block.get("mean"), money), border=True)
        if block.get("low") is not None and block.get("high") is not None:
            col.caption(f"90% of runs: {_short(block['low'], money)} to {_short(block['high'], money)}")


COMPARISON_LABELS = {
    "total_referrals": "referrals", "total_placements": "placements", "total_graduations": "graduations",
    "total_exits": "early exits", "total_reneged": "gave up waiting", "total_returned": "returned",
    "total_cost": "cost ($)", "wait_mean_months": "mean wait (months)", "wait_p90_months": "90th-pct wait (months)",
    "end_waitlist": "waitlist at the end", "end_active_high": "high-need caseload at the end",
    "end_active_low": "low-need caseload at the end", "end_utilisation": "caseload against target at the end",
    "end_fte": "filled FTE at the end",
}


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """`simulation.compare`'s table with readable figure names, rounded for reading."""
    out = table.copy()
    out["metric"] = out["metric"].map(lambda m: COMPARISON_LABELS.get(m, m))
    numbers = [c for c in out.columns if c != "metric"]
    out[numbers] = out[numbers].astype(float).round(2)
    return out.rename(columns={"metric": "figure"})


def tidy(fig: Any, *, percent: bool = False, money: bool = False) -> Any:
    """A simulation chart fitted to half a page: legend under the plot, axis in % or $ where it helps."""
    fig.update_layout(height=400, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "font": {"size": 11}})
    if percent:
        fig.update_yaxes(tickformat=".0%")
    if money:
        fig.update_yaxes(tickprefix="$", tickformat="~s")
    return fig
