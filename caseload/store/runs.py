"""A nightly run against the store, and the history of runs.

`run_and_record` is the whole run in one transaction that holds the write lock (see `caseload.store.lock`):
read today's state, solve, check the plan, apply it to the clients (placed and moved clients become
active with their new worker; a new client's intake date is the run date), and store the run with every
assignment and the input it saw. A crash or a SIGKILL at any moment before COMMIT leaves the previous
state and the previous run untouched; after COMMIT the run is there whole.

Applying a plan writes only what changes: a kept client's row is not touched, so re-running on
unchanged input changes nothing but the history.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from caseload.domain import Agency, Assignment, Decision, Status
from caseload.policy import policy_to_yaml
from caseload.store.convert import contract_rows, input_digest
from caseload.store.database import StoreError
from caseload.store.lock import write_session
from caseload.store.models import ClientRow, RunAssignmentRow, RunClientRow, RunRow, RunWorkerRow
from caseload.store.pause import pause_point
from caseload.store.state import read_agency

log = logging.getLogger("caseload.store")


class PlanLike(Protocol):
    """What the store needs of `optimizer.Plan`."""

    assignments: list[Assignment]
    summary: dict[str, Any]


Solver = Callable[[Agency], PlanLike]


class PlanRejected(StoreError):
    """The optimizer's plan contradicts the state it was given; nothing is written (a bug, not bad input)."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as the history lists it."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    as_of: date
    input_digest: str
    solver_status: str
    clients: int
    placed: int
    moved: int
    kept: int
    waiting: int
    seed: int
    time_limit_s: float | None

    @classmethod
    def of(cls, row: RunRow) -> RunRecord:
        return cls(
            run_id=row.run_id, started_at=_utc(row.started_at), finished_at=_utc(row.finished_at), as_of=row.as_of,
            input_digest=row.input_digest, solver_status=row.solver_status, clients=row.clients, placed=row.placed,
            moved=row.moved, kept=row.kept, waiting=row.waiting, seed=row.seed, time_limit_s=row.time_limit_s,
        )


@dataclass(frozen=True, slots=True)
class RunResult:
    record: RunRecord
    assignments: list[Assignment]
    summary: dict[str, Any]
    agency: Agency  # the state the run saw


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC, so read them as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_plan(agency: Agency, assignments: list[Assignment]) -> None:
    """Refuse a plan that does not fit the state it was made for, before anything is written."""
    clients = {c.client_id: c for c in agency.clients}
    workers = {w.worker_id for w in agency.workers}
    problems: list[str] = []
    seen: set[str] = set()
    for a in assignments:
        client = clients.get(a.client_id)
        if client is None:
            problems.append(f"client {a.client_id}: not in the store")
            continue
        if a.client_id in seen:
            problems.append(f"client {a.client_id}: assigned twice")
        seen.add(a.client_id)
        decision = Decision(a.decision)
        if decision == Decision.WAITING:
            if a.worker_id:
                problems.append(f"client {a.client_id}: waiting but given worker {a.worker_id}")
            continue
        if a.worker_id not in workers:
            problems.append(f"client {a.client_id}: worker {a.worker_id} is not in the store")
        if decision == Decision.NEW and client.status != Status.WAITING:
            problems.append(f"client {a.client_id}: 'new' but the client is {client.status.value}")
        if decision in (Decision.KEPT, Decision.MOVED) and client.status != Status.ACTIVE:
            problems.append(f"client {a.client_id}: '{decision.value}' but the client is {client.status.value}")
        if decision == Decision.KEPT and a.worker_id != client.worker_id:
            problems.append(f"client {a.client_id}: 'kept' with a different worker")
        if decision == Decision.MOVED and a.worker_id == client.worker_id:
            problems.append(f"client {a.client_id}: 'moved' to the same worker")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise PlanRejected(f"the optimizer's plan does not fit the stored state, nothing was written: {shown}")


def apply_plan(session: Session, agency: Agency, assignments: list[Assignment], as_of: date) -> None:
    """Write what the plan changes to the clients table: new and moved clients, and clients sent back to
    the waitlist (their worker left and nobody could take them). Kept and still-waiting clients are not
    touched."""
    current = {c.client_id: c for c in agency.clients}
    for a in assignments:
        decision = Decision(a.decision)
        before = current[a.client_id]
        if decision == Decision.KEPT or (decision == Decision.WAITING and before.status == Status.WAITING):
            continue
        row = session.get(ClientRow, a.client_id)
        if row is None:  # check_plan ran on the same transaction's read: cannot happen
            raise PlanRejected(f"client {a.client_id} vanished during the run")
        if decision == Decision.NEW:
            row.status, row.worker_id, row.intake_date = Status.ACTIVE.value, a.worker_id, as_of
        elif decision == Decision.MOVED:
            row.worker_id = a.worker_id
        else:  # an active client back on the waitlist
            row.status, row.worker_id = Status.WAITING.value, None
        log.debug("client %s: %s (worker %s)", a.client_id, decision.value, a.worker_id or "none")


def run_and_record(engine: Engine, solve: Solver, *, as_of: date | None = None, seed: int = 0,
                   time_limit_s: float | None = None, wait_s: float = 0.0,
                   on_wait: Callable[[], None] | None = None) -> RunResult:
    """Solve on today's stored state and record the run, all in one transaction (see the module docstring).

    Raises `StoreBusy` when another writer holds the store, `StoreError` when the store is empty,
    `PlanRejected` when the plan contradicts the state; in every case nothing is written.
    """
    started = datetime.now(UTC)
    run_date = as_of or date.today()
    with write_session(engine, wait_s, on_wait) as session:
        agency = read_agency(session, run_date)
        if not agency.clients or not agency.workers:
            raise StoreError("the store has no clients or no workers: run `caseload import DATA_DIR --db ...` first")
        digest = input_digest(agency)
        log.info("run on %s: %d clients (%d waiting), %d workers, input %s", run_date.isoformat(),
                 len(agency.clients), len(agency.waiting), len(agency.workers), digest[:12])
        pause_point("locked")
        plan = solve(agency)
        pause_point("solved")
        assignments = list(plan.assignments)
        summary = dict(plan.summary)
        check_plan(agency, assignments)
        apply_plan(session, agency, assignments, run_date)
        session.flush()
        pause_point("applied")

        counts = Counter(Decision(a.decision) for a in assignments)
        run = RunRow(
            started_at=started, finished_at=datetime.now(UTC), as_of=run_date, input_digest=digest,
            policy=policy_to_yaml(agency.policy), seed=seed, time_limit_s=time_limit_s,
            solver_status=str(summary.get("status", "unknown"))[:40], clients=len(assignments),
            placed=counts[Decision.NEW], moved=counts[Decision.MOVED], kept=counts[Decision.KEPT],
            waiting=counts[Decision.WAITING], summary=json.dumps(summary, default=str),
        )
        session.add(run)
        session.flush()  # gives the run its id
        session.add_all(
            RunAssignmentRow(run_id=run.run_id, client_id=a.client_id, worker_id=a.worker_id,
                             decision=Decision(a.decision).value, reason=a.reason or "", travel_km=a.travel_km,
                             language=a.language)
            for a in assignments
        )
        client_rows, worker_rows = contract_rows(agency)
        session.add_all(RunClientRow(run_id=run.run_id, client_id=r["client_id"], data=json.dumps(r))
                        for r in client_rows)
        session.add_all(RunWorkerRow(run_id=run.run_id, worker_id=r["worker_id"], data=json.dumps(r))
                        for r in worker_rows)
        session.flush()
        pause_point("commit")
        session.commit()
        record = RunRecord.of(run)
    log.info("run %d recorded: %d placed, %d moved, %d kept, %d waiting (solver %s)", record.run_id,
             record.placed, record.moved, record.kept, record.waiting, record.solver_status)
    return RunResult(record=record, assignments=assignments, summary=summary, agency=agency)


def list_runs(engine: Engine, limit: int | None = None) -> list[RunRecord]:
    """The runs, newest first."""
    with Session(engine) as session:
        query = select(RunRow).order_by(RunRow.run_id.desc())
        if limit:
            query = query.limit(limit)
        return [RunRecord.of(r) for r in session.scalars(query)]


def latest_run_id(engine: Engine) -> int | None:
    with Session(engine) as session:
        return session.scalar(select(func.max(RunRow.run_id)))


@dataclass(frozen=True, slots=True)
class StoredRun:
    """Everything needed to write a run back as data-contract files."""

    record: RunRecord
    policy_yaml: str
    summary: dict[str, Any]
    assignments: list[Assignment]
    client_rows: list[dict[str, str]]
    worker_rows: list[dict[str, str]]


def get_run(engine: Engine, run_id: int) -> StoredRun:
    """One run with its input and its assignments; `StoreError` when there is no such run."""
    with Session(engine) as session:
        run = session.get(RunRow, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in this store (`caseload history` lists the runs)")
        assignments = [
            Assignment(client_id=r.client_id, worker_id=r.worker_id, decision=Decision(r.decision), reason=r.reason,
                       travel_km=r.travel_km, language=r.language)
            for r in session.scalars(
                select(RunAssignmentRow).where(RunAssignmentRow.run_id == run_id).order_by(RunAssignmentRow.client_id)
            )
        ]
        clients = [json.loads(d) for d in session.scalars(
            select(RunClientRow.data).where(RunClientRow.run_id == run_id).order_by(RunClientRow.client_id))]
        workers = [json.loads(d) for d in session.scalars(
            select(RunWorkerRow.data).where(RunWorkerRow.run_id == run_id).order_by(RunWorkerRow.worker_id))]
        return StoredRun(record=RunRecord.of(run), policy_yaml=run.policy, summary=json.loads(run.summary),
                         assignments=assignments, client_rows=clients, worker_rows=workers)
