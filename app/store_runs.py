"""The app's calls into the store's run history: record a nightly run as a proposal, approve it, list runs.

A run from the app goes through `caseload.store.runs.run_and_record`, the same call `caseload assign --db`
makes, with `propose=True` and the signed-in user: the run and its plan are kept in the history, but no
client's current worker changes until a coordinator approves it (`approve_run`). Every function opens its
own engine and disposes of it, so a page never keeps a database connection between reruns; store errors
come back as `StoreError` with a message written for the coordinator (shown as it is).
"""

from __future__ import annotations

import dataclasses
import getpass
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pandas as pd

from app import frames
from app.jobs import Job
from app.runs import Planned, offer_provisional

PROPOSED, APPROVED, COMMITTED = "proposed", "approved", "committed"


@dataclass
class RecordedPlan(Planned):
    """A plan the store recorded: its run id in the history, besides everything the Nightly page shows."""

    run_id: int | None = None


def user_name(signed_in: Any | None) -> str:
    """Who the history names for a run or an approval: the signed-in user, else the machine's login (an app
    without sign-in is one coordinator on their own machine)."""
    if signed_in is not None:
        return str(signed_in.username)
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container
        return "local user"


@contextmanager
def engine_for(url: str) -> Iterator[Any]:
    from caseload.store.database import open_engine

    engine = open_engine(url, create=False)
    try:
        yield engine
    finally:
        engine.dispose()


def record_key(agency_key: str, seed: int, time_limit_s: float) -> str:
    """A new key for every press of the run button: each press is a run the history records."""
    return f"record:{agency_key}:seed={seed}:limit={time_limit_s:g}:{time.time_ns()}"


def recorded_assignment_job(url: str, *, user: str, seed: int, time_limit_s: float) -> Callable[[Job], RecordedPlan]:
    """Tonight's run on the store's state, recorded as a proposal (`run_and_record(..., propose=True)`).

    Overrides in force that cannot hold (a pin over capacity, to a worker on leave...) raise
    `ValidationFailed` before the solve, and nothing is recorded."""

    def work(job: Job) -> RecordedPlan:
        from caseload.store.runs import run_and_record
        from optimizer import assign
        from optimizer.overrides import refuse_overrides_that_cannot_hold

        def solve(agency: Any) -> Any:
            refuse_overrides_that_cannot_hold(agency)  # as `caseload assign --db`: bad input, nothing runs
            return assign(agency, time_limit_s=time_limit_s, seed=seed, progress=lambda m: job.report(str(m)),
                          on_placements=offer_provisional(job, agency))

        with engine_for(url) as engine:
            result = run_and_record(engine, solve, seed=seed, time_limit_s=time_limit_s, propose=True, user=user)
        job.report("preparing the tables")
        plan = SimpleNamespace(assignments=result.assignments, summary=result.summary)
        view = frames.assignment_view(result.agency, result.assignments)
        return RecordedPlan(agency=result.agency, plan=plan, view=view, search=frames.search_text(view),
                            run_id=result.record.run_id)

    return work


def approve(url: str, run_id: int, *, user: str) -> None:
    """Approve a proposed run: its plan becomes the clients' current workers. Raises the store's error (a
    run already approved, one superseded by a later approval, another writer holding the store)."""
    from caseload.store.runs import approve_run

    with engine_for(url) as engine:
        approve_run(engine, run_id, user=user)


def run_status(record: Any) -> str:
    """A run's status (the store reads runs recorded before proposals existed as committed)."""
    return str(record.status or COMMITTED)


def run_user(record: Any) -> str:
    return str(record.user or "")


def list_runs(url: str, limit: int | None = 200) -> list[Any]:
    from caseload.store.runs import list_runs as stored_runs

    with engine_for(url) as engine:
        return stored_runs(engine, limit=limit)


def status_of(url: str, run_id: int) -> str:
    """One run's status now (another coordinator may have approved it, or a later run, meanwhile)."""
    from caseload.store.runs import get_run

    with engine_for(url) as engine:
        return run_status(get_run(engine, run_id).record)


def runs_frame(records: list[Any]) -> pd.DataFrame:
    """The history as a table: date, who ran it, its status and what it did."""
    rows = [{
        "run_id": r.run_id, "as_of": r.as_of, "started_at": r.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "user": run_user(r), "status": run_status(r), "placed": r.placed, "moved": r.moved, "waiting": r.waiting,
        "kept": r.kept, "solver": r.solver_status,
        "approved_by": r.approved_by or "",
    } for r in records]
    return pd.DataFrame(rows, columns=["run_id", "as_of", "started_at", "user", "status", "placed", "moved",
                                       "waiting", "kept", "solver", "approved_by"])


def run_plan(url: str, run_id: int) -> tuple[Any, pd.DataFrame]:
    """One stored run and its plan as the assignments table (the data contract's columns)."""
    from caseload.store.runs import get_run

    with engine_for(url) as engine:
        stored = get_run(engine, run_id)
    frame = pd.DataFrame([{
        "client_id": a.client_id, "decision": getattr(a.decision, "value", a.decision), "worker_id": a.worker_id or "",
        "reason": a.reason or "", "language": a.language or "", "travel_km": a.travel_km,
    } for a in stored.assignments], columns=["client_id", "decision", "worker_id", "reason", "language", "travel_km"])
    frame["travel_km"] = pd.to_numeric(frame["travel_km"], errors="coerce").round(1)
    # What the run changed first (placed, moved, still waiting), then the clients it kept.
    order = {"new": 0, "moved": 1, "waiting": 2, "kept": 3}
    frame = frame.sort_values(["decision", "client_id"], key=lambda c: c.map(order) if c.name == "decision" else c,
                              kind="stable").reset_index(drop=True)
    return stored, frame


def compare(url: str, a: int, b: int) -> pd.DataFrame:
    """Who was placed, moved or left waiting differently in run b than in run a, and why (the store's
    `compare_runs`)."""
    from caseload.store.runs import compare_runs

    with engine_for(url) as engine:
        return compare_runs(engine, a, b)


def run_label(table: pd.DataFrame, run_id: int) -> str:
    """A run as a picker shows it: id, date, status and who ran it."""
    row = table[table["run_id"] == run_id]
    if row.empty:
        return str(run_id)
    r = row.iloc[0]
    by = f" by {r['user']}" if r["user"] else ""
    return f"run {run_id}: {r['as_of']} {r['status']}{by} ({r['placed']} placed, {r['moved']} moved)"


def change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """How many clients each kind of change (`compare_runs`' change column) concerns."""
    counts = changes["change"].value_counts().rename_axis("change").reset_index(name="clients")
    return counts.astype({"clients": "int64"})


def audit_frame(url: str, limit: int | None = 500) -> pd.DataFrame:
    """The audit trail (overrides, priority changes, approvals: who, when, why), newest first."""
    from caseload.store.overrides import audit_trail

    with engine_for(url) as engine:
        entries = audit_trail(engine, limit=limit)
    return pd.DataFrame([dataclasses.asdict(e) for e in entries],
                        columns=["entry_id", "at", "user", "action", "client_id", "detail", "reason"])


def overrides_frame(overrides: list[Any]) -> pd.DataFrame:
    """The overrides in force as a table (id, client, action, worker, reason, who, when, until)."""
    columns = ["override_id", "client_id", "action", "worker_id", "reason", "set_by", "set_at", "until"]
    return pd.DataFrame([dataclasses.asdict(o) for o in overrides], columns=columns)


def override_label(table: pd.DataFrame, override_id: Any) -> str:
    """An override as the removal picker shows it: id, action, client and worker."""
    row = table[table["override_id"] == override_id]
    if row.empty:
        return str(override_id)
    r = row.iloc[0]
    worker = f" {r['worker_id']}" if isinstance(r["worker_id"], str) and r["worker_id"] else ""
    return f"{override_id}: {r['action']} {r['client_id']}{worker}"

