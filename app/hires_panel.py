"""The Staffing page's "Recommend hires" panel: which positions place the most waiting clients for a budget.

The manager sets a budget (and, if they have one, uploads a candidates file) and presses Recommend hires;
the plan, the bottlenecks and then the projection run as background jobs (`app.hires`), and the panel
redraws itself every second while they run (a fragment), so the what-if editor under it stays usable. When
the jobs end the page runs once more as a whole and stops polling.

"Add the hires to the workers table" puts the hires (`HIRE-<candidate_id>-<n>`, as workers_with_hires.csv)
into the page's editable workers table, where the existing what-if plans with them, begun from the panel's plan
(so it places at least what the panel promised, as `caseload assign --start` does). The panel shows
aggregates only (hires, budgets, groups of waiting clients, monthly figures), no client rows.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from app import hires, state, views
from app.jobs import Job
from caseload.domain import Worker

REQUEST = "hires_request"       # the last Recommend hires pressed (per agency): keys and inputs of its jobs
ADDED = "hires_added_workers"   # agency key -> the hires added to the workers editor
ADDED_START = "hires_added_start"  # agency key -> the plan that added them (client_id -> worker_id): the start
FAILED = "hires_failed_jobs"    # job key -> the error it ended with (shown; not retried until pressed again)
POLL_S = 1.0
MONEY = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HIRE_COLUMNS = {
    "candidate_id": st.column_config.TextColumn("position"),
    "hires": st.column_config.NumberColumn("hires", format="%d"),
    "fte": st.column_config.NumberColumn("FTE", format="%.2f"),
    "annual_cost": st.column_config.NumberColumn("cost a year", format="dollar"),
    "clients_placed": st.column_config.NumberColumn("clients placed", format="%d",
                                                    help="Waiting clients these hires take on in tonight's plan"),
    "languages": st.column_config.TextColumn("languages"),
    "french": st.column_config.CheckboxColumn("French"),
    "areas": st.column_config.TextColumn("areas"),
}
HIRE_ORDER = ("candidate_id", "clients_placed", "languages", "french", "areas", "hires", "fte", "annual_cost")
BOTTLENECK_ORDER = ("language_name", "french", "area", "waiting", "one_more_fte_places", "at_most", "proven", "note",
                    "reasons")
BOTTLENECK_COLUMNS = {
    "language": None,
    "language_name": st.column_config.TextColumn("language"),
    "french": st.column_config.CheckboxColumn("French service"),
    "area": st.column_config.TextColumn("area"),
    "waiting": st.column_config.NumberColumn("waiting", format="%d"),
    "reasons": st.column_config.TextColumn("why they wait (reason: clients)", width="large"),
    "one_more_fte_places": st.column_config.NumberColumn("one more FTE places", format="%d"),
    "at_most": st.column_config.NumberColumn("at most", format="%d", help="The most the re-solve's proven "
                                             "bound allows"),
    "proven": st.column_config.CheckboxColumn("proven", help="Both solves reached their optimum"),
    "note": st.column_config.TextColumn("note", width="medium"),
}
FRONTIER_COLUMNS = {
    "budget": st.column_config.NumberColumn("budget", format="dollar"),
    "placed": st.column_config.NumberColumn("placed", format="%d"),
    "added": st.column_config.NumberColumn("added", format="%d", help="Over no hire"),
    "cost": st.column_config.NumberColumn("cost", format="dollar"),
    "hires": st.column_config.TextColumn("hires", width="large"),
    "bound": st.column_config.NumberColumn("proven bound", format="%d"),
    "proven": st.column_config.CheckboxColumn("proven"),
    f"placed_per_{hires.PER_DOLLARS}": st.column_config.NumberColumn(f"clients per ${hires.PER_DOLLARS:,}",
                                                                    format="%.1f"),
}


# --- what the workers editor reads ---------------------------------------------------------------------------


def added_hires(agency_key: str) -> list[Worker]:
    """The hires added to the workers table for this agency (none until the button is pressed)."""
    return list((st.session_state.get(ADDED) or {}).get(agency_key, []))


def editor_key(base: str, added: list[Worker]) -> str:
    """The workers editor's key: its own when hires are added, so the editor starts from the new rows."""
    if not added:
        return base
    return f"{base}_hires_{hashlib.sha256(','.join(w.worker_id for w in added).encode()).hexdigest()[:8]}"


def added_start(agency_key: str) -> dict[str, str] | None:
    """The plan whose hires were added (client_id -> worker_id): the what-if begins from it, so that with the
    hires it places at least what the panel promised (`optimizer.assign`'s ``start_from``)."""
    return (st.session_state.get(ADDED_START) or {}).get(agency_key)


def _add(agency_key: str, workers: list[Worker], start: dict[str, str]) -> None:
    st.session_state[ADDED] = {**(st.session_state.get(ADDED) or {}), agency_key: workers}
    st.session_state[ADDED_START] = {**(st.session_state.get(ADDED_START) or {}), agency_key: start}


# --- the form -----------------------------------------------------------------------------------------------


def _form(loaded: state.Loaded, seed: int) -> dict[str, Any] | None:
    """The panel's inputs; on Recommend hires, the request (its job keys and inputs) kept for this agency."""
    policy = loaded.agency.policy
    with st.form("hires_form", border=False):
        cols = st.columns([2, 1, 1])
        budget = cols[0].number_input("Budget for hires ($ a year)", min_value=0.0, max_value=1e9, step=10_000.0,
                                      value=float(round(5 * policy.cost_per_fte, -3)), key="hires_budget",
                                      format="%.0f",
                                      help=f"One FTE costs ${policy.cost_per_fte:,.0f} a year (the policy's "
                                           "cost_per_fte) unless a candidates file says otherwise.")
        limit = cols[1].number_input("Time limit (s)", min_value=1.0, max_value=600.0, step=1.0,
                                     value=float(policy.time_limit_s), key="hires_time_limit",
                                     help="A ceiling for the plan and its frontier (three quarters) and the "
                                          "bottlenecks (a quarter), as caseload staff --time-limit.")
        steps = int(cols[2].number_input("Frontier steps", min_value=1, max_value=40, value=10, step=1,
                                         key="hires_frontier_steps"))
        with st.expander("Candidate positions and the projection over time"):
            upload = st.file_uploader("Candidates file (CSV or Excel, optional)", type=["csv", "xlsx"],
                                      key="hires_candidates",
                                      help="Positions the agency could fund (data contract, candidates). Without "
                                           "one, positions are derived from what waiting clients need.")
            more = st.columns(3)
            months = int(more[0].number_input("Months", min_value=1, max_value=60, value=12, key="hires_months"))
            replications = int(more[1].number_input("Replications", min_value=1, max_value=500, value=20,
                                                    key="hires_replications"))
            target = more[2].number_input("Target 90th-percentile wait (months)", min_value=0.0, max_value=60.0,
                                          value=3.0, step=0.5, key="hires_target_wait")
        pressed = st.form_submit_button("Recommend hires", type="primary", icon=":material/person_add:")
    requests = st.session_state.get(REQUEST) or {}
    if not pressed:
        return requests.get(loaded.key)
    candidates = None
    if upload is not None:
        candidates, errors = hires.candidates_from_upload(upload.name, upload.getvalue())
        if errors:
            views.error_table(errors, upload.name)
            return None
        if not candidates:
            st.warning(f"{upload.name} has no candidate positions: nothing to hire.")
    plan_key = hires.plan_key(loaded.key, hires.candidates_key(candidates), budget, seed, limit, steps)
    request = {"budget": budget, "seed": seed, "time_limit_s": limit, "steps": steps, "candidates": candidates,
               "months": months, "replications": replications, "target_wait_months": target,
               "plan_key": plan_key, "bottleneck_key": hires.bottleneck_key(loaded.key, seed, limit),
               "projection_key": hires.projection_key(plan_key, months, replications, target)}
    st.session_state[REQUEST] = {**requests, loaded.key: request}
    failed = st.session_state.get(FAILED) or {}
    for name in ("plan_key", "bottleneck_key", "projection_key"):
        failed.pop(request[name], None)
    return request


# --- the jobs, polled -----------------------------------------------------------------------------------------


def _poll(key: str, work) -> tuple[Any, Job | None, str | None]:
    """(result, None, None) when done, (None, job, None) while it runs (started here if it was not), or
    (None, None, error) when the job failed: the error stays shown, and the job is not started again until
    Recommend hires is pressed again."""
    failed = st.session_state.setdefault(FAILED, {})
    if key in failed:
        return None, None, failed[key]
    store = state.job_store()
    try:
        done = store.result(key)
    except Exception as exc:  # noqa: BLE001 - a failed job is shown on the page, not as a traceback
        failed[key] = f"{type(exc).__name__}: {exc}"
        return None, None, failed[key]
    if done is not None:
        return done, None, None
    return None, store.start(key, work), None


def pending(request: dict[str, Any]) -> bool:
    """Whether any of the request's jobs is still to finish: running, done but not yet collected, or not
    started yet (the projection starts once the plan is in; a failed job is not waited for)."""
    store = state.job_store()
    failed = st.session_state.get(FAILED) or {}
    for name in ("plan_key", "bottleneck_key", "projection_key"):
        key = request[name]
        if key in failed or (name == "projection_key" and request["plan_key"] in failed):
            continue
        job = store.running(key)
        if job is not None or store.result(key) is None:
            return True
    return False


def _progress(job: Job, label: str, expected_s: float | None) -> None:
    fraction = job.fraction if job.fraction is not None else \
        min(job.elapsed / expected_s, 0.99) if expected_s else 0.0
    text = f"{label} {job.message}".strip() if job.message else label
    st.progress(fraction, text=f"{text} ({job.elapsed:.0f} s)")


# --- the results -----------------------------------------------------------------------------------------------


def _headline(plan: Any) -> None:
    cols = st.columns(4)
    n = sum(plan.hires.values())
    cols[0].metric("Hires", f"{n:,}", border=True, help=f"{plan.summary.get('fte', 0):g} FTE in all")
    cols[1].metric("Cost a year", f"${plan.cost:,.0f}", border=True, help=f"Of a budget of ${plan.budget:,.0f}")
    added = plan.placed_with - plan.placed_without
    cols[2].metric("Placed tonight with the hires", f"{plan.placed_with:,}", border=True,
                   delta=f"{added:+,} from {plan.placed_without:,}" if added else "no change",
                   delta_color="normal" if added else "off")
    bound = "-" if plan.bound is None else f"{plan.bound:,}"
    cols[3].metric("Proven bound", bound, border=True,
                   help="No choice of hires within this budget places more tonight (HiGHS branch and cut's dual "
                        "bound on the placement model with every affordable hire optional)")
    notes = [f"status {plan.status}"]
    if plan.gap == 0:
        notes.append("no choice of hires within the budget places more")
    elif plan.gap is not None:
        notes.append(f"within {plan.gap:.1%} of the proven bound")
    notes += [f"candidates {plan.summary.get('candidates_source', '')}", f"seed {plan.summary.get('seed', 0)}",
              f"{plan.summary.get('wall_time_s', 0):.1f} s"]
    st.caption("; ".join(notes))


def _hire_list(plan: Any, agency_key: str) -> None:
    table = hires.hire_list(plan)
    st.markdown("**The hires and the waiting clients each takes on**")
    if table.empty:
        st.info("No hire: no position the budget pays for places a waiting client tonight.")
        return
    st.dataframe(table, hide_index=True, width="stretch", column_config=HIRE_COLUMNS, column_order=HIRE_ORDER)
    taken = int(table["clients_placed"].sum())
    added = plan.placed_with - plan.placed_without
    st.caption(f"Together the hires add {added:,} placements tonight. 'clients placed' counts the waiting clients "
               "each position takes on" + (f" ({taken:,} in all: some of them today's workers would otherwise "
                                           "take, whose room then goes to others)" if taken != added else "") + ".")
    workers = plan.hire_workers
    if st.button(f"Add the {len(workers)} hire(s) to the workers table", icon=":material/playlist_add:",
                 key="hires_add"):
        _add(agency_key, workers, plan.start_from())
        st.rerun()
    if added_hires(agency_key):
        st.caption(f"In the workers table below: {', '.join(w.worker_id for w in added_hires(agency_key))}.")


def _bottlenecks(table: pd.DataFrame | None, job: Job | None, error: str | None, limit: float) -> None:
    st.markdown("**Bottlenecks: where clients wait, and what one more FTE of that profile places**")
    if error:
        st.error(f"The bottlenecks could not be computed: {error}")
    elif table is None:
        _progress(job, "Bottlenecks...", limit * hires.BOTTLENECK_SHARE)
    elif table.empty:
        st.info("Nobody waits tonight: no bottleneck.")
    else:
        view = hires.bottleneck_view(table)
        st.dataframe(view, hide_index=True, width="stretch", column_config=BOTTLENECK_COLUMNS,
                     column_order=BOTTLENECK_ORDER)
        from planning.staffing import BOTTLENECK_METHOD

        skipped = int((view["note"] != "").sum()) if "note" in view else 0
        st.caption((f"{skipped} group(s) not re-solved (see note): a longer time limit re-solves more. "
                    if skipped else "") + f"How it is computed: {BOTTLENECK_METHOD}.")


def _projection(projected: hires.Projected | None, job: Job | None, error: str | None) -> None:
    st.markdown("**Over time: the waitlist and the wait with and without the hires**")
    if error:
        st.error(f"The projection could not be run: {error}")
        return
    if projected is None:
        _progress(job, "Projecting...", None)
        return
    p, search = projected.projection, projected.search
    cols = st.columns(3)
    cols[0].metric("Worst monthly p90 wait without the hires", f"{p.worst_p90(False):.1f} months", border=True)
    cols[1].metric("With the hires", f"{p.worst_p90(True):.1f} months", border=True,
                   delta=f"{p.worst_p90(True) - p.worst_p90(False):+.1f} months", delta_color="inverse")
    target = f"{projected.target_wait_months:g} months"
    if search.added_fte is None:
        cols[2].metric(f"FTE to keep the p90 wait under {target}", "not met", border=True,
                       help="No added FTE on the candidates' ladder meets the target every month")
    else:
        cols[2].metric(f"FTE to keep the p90 wait under {target}",
                       f"+{search.added_fte:g}" if search.added_fte else "none needed", border=True,
                       help="Smallest added FTE whose projected 90th-percentile wait meets the target every month: "
                            + hires.hires_text(search.hires))
    st.plotly_chart(hires.projection_figure(projected), key="hires_projection")
    st.caption(f"{p.replications} replications over {p.months} months from today's caseload, the same seeds with "
               "and without the hires; lines are means, bands hold 90% of runs. The wait counts from today "
               f"(what today's waitlist has already waited no hire undoes). {p.referrals_per_month:.1f} referrals "
               f"a month, {p.pools} language pools." + (" " + " ".join(p.notes) if p.notes else ""))


def _downloads(plan: Any, bottlenecks: pd.DataFrame | None, projected: hires.Projected | None) -> None:
    row = st.container(horizontal=True)
    icon = ":material/download:"
    row.download_button("Hires (CSV)", lambda: hires.csv_bytes(plan.hires_frame()), file_name="hires.csv",
                        mime="text/csv", on_click="ignore", icon=icon, key="hires_dl_hires")
    row.download_button("Workers with hires (CSV)", lambda: hires.workers_with_hires_csv(plan),
                        file_name="workers_with_hires.csv", mime="text/csv", on_click="ignore", icon=icon,
                        key="hires_dl_workers")
    row.download_button("Frontier (CSV)", lambda: hires.csv_bytes(hires.frontier_frame(plan)),
                        file_name="frontier.csv", mime="text/csv", on_click="ignore", icon=icon,
                        key="hires_dl_frontier")
    if bottlenecks is not None:
        row.download_button("Bottlenecks (CSV)", lambda: hires.csv_bytes(bottlenecks), file_name="bottlenecks.csv",
                            mime="text/csv", on_click="ignore", icon=icon, key="hires_dl_bottlenecks")
    if projected is not None:
        row.download_button("Projection (CSV)", lambda: hires.csv_bytes(projected.projection.frame),
                            file_name="projection.csv", mime="text/csv", on_click="ignore", icon=icon,
                            key="hires_dl_projection")
    row.download_button("Everything (Excel)", lambda: hires.excel_bytes(plan, bottlenecks, projected),
                        file_name="staffing.xlsx", mime=MONEY, on_click="ignore", icon=icon, key="hires_dl_excel")


def _results(loaded: state.Loaded, request: dict[str, Any], polling: bool) -> None:
    agency, limit = loaded.agency, request["time_limit_s"]
    plan, plan_job, plan_error = _poll(request["plan_key"], hires.plan_job(
        agency, request["candidates"], request["budget"], seed=request["seed"], time_limit_s=limit,
        frontier_steps=request["steps"]))
    table, table_job, table_error = _poll(request["bottleneck_key"], hires.bottleneck_job(
        agency, seed=request["seed"], time_limit_s=limit))
    if plan_error:
        st.error(f"The staffing planner failed: {plan_error}")
    elif plan is None:
        _progress(plan_job, "Planning hires...", limit * (1 - hires.BOTTLENECK_SHARE))
    else:
        if plan.note:
            st.warning(plan.note[0].upper() + plan.note[1:] + ".")
        _headline(plan)
        left, right = st.columns([3, 2])
        with left:
            st.markdown("**The frontier: clients placed tonight for each budget**")
            if len(plan.frontier) > 1:
                st.plotly_chart(hires.frontier_figure(plan), key="hires_frontier")
            with st.expander("The frontier as a table"):
                st.dataframe(hires.frontier_frame(plan), hide_index=True, width="stretch",
                             column_config=FRONTIER_COLUMNS)
        with right:
            _hire_list(plan, loaded.key)
    _bottlenecks(table, table_job, table_error, limit)
    projected = None
    if plan is not None:
        pool = request["candidates"] if request["candidates"] is not None else plan.candidates
        projected, job, error = _poll(request["projection_key"], hires.projection_job(
            agency, pool, plan.hire_workers, months=request["months"], replications=request["replications"],
            seed=request["seed"], target_wait_months=request["target_wait_months"]))
        _projection(projected, job, error)
        _downloads(plan, table, projected)
    if polling and not pending(request):
        st.rerun()  # everything is in: draw the page once more as a whole, which stops the polling


def render(loaded: state.Loaded, *, seed: int) -> None:
    """The panel, for the loaded agency and the page's seed."""
    with st.container(border=True):
        st.subheader("Recommend hires")
        st.caption("Which positions (language, French, area) place the most waiting clients tonight for a budget, "
                   "chosen together with the placements under the nightly rules; what each dollar buys; where "
                   "clients wait; and the waitlist over the next months with and without the hires.")
        request = _form(loaded, seed)
        if request is None:
            return
        polling = pending(request)
        st.fragment(_results, run_every=POLL_S if polling else None)(loaded, request, polling)
