"""A nightly run against the store, and the history of runs.

`run_and_record` is the whole run in one transaction that holds the write lock (see `caseload.store.lock`):
read today's state, solve, check the plan, apply it to the clients (placed and moved clients become
active with their new worker; a new client's intake date is the run date), and store the run with every
assignment and the input it saw. A crash or a SIGKILL at any moment before COMMIT leaves the previous
state and the previous run untouched; after COMMIT the run is there whole.

Applying a plan writes only what changes: a kept client's row is not touched, so re-running on
unchanged input changes nothing but the history.

Approve before commit: `run_and_record(..., propose=True)` records the run and its plan as a proposal and
changes no client; `approve_run` applies it later, in one transaction under the same lock, provided the
state is still the one the plan was made for (same input digest, no override changed since). Two approvals
at once: the lock orders them, the second finds the run approved (or the state changed) and is refused with
a `StoreError`. A process killed during an approval leaves the last approved plan in place.

The move budget is counted over a rolling window (policy `moves_window_days`): the optional moves of the
committed and approved runs of the window's earlier days are given to the optimizer as `Agency.moves_used`,
so a second run on unchanged input moves nobody. Proposals do not count.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from caseload.domain import Agency, Assignment, Decision, Status
from caseload.policy import policy_to_yaml
from caseload.store.convert import contract_rows, input_digest
from caseload.store.database import StoreError
from caseload.store.lock import write_session
from caseload.store.models import ClientRow, OverrideRow, RunAssignmentRow, RunClientRow, RunRow, RunWorkerRow
from caseload.store.overrides import AUDIT_APPROVED, audit
from caseload.store.pause import pause_point
from caseload.store.state import read_agency

log = logging.getLogger("caseload.store")


class PlanLike(Protocol):
    """What the store needs of `optimizer.Plan`."""

    assignments: list[Assignment]
    summary: dict[str, Any]


Solver = Callable[[Agency], PlanLike]

PROPOSED, APPROVED, COMMITTED = "proposed", "approved", "committed"
APPLIED = (APPROVED, COMMITTED)  # runs whose plan became the clients' current workers


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
    status: str = COMMITTED           # proposed, approved or committed (runs before proposals: committed)
    user: str | None = None           # who ran it
    approved_by: str | None = None
    approved_at: datetime | None = None
    optional_moves: int = 0           # moves that count against the move budget

    @classmethod
    def of(cls, row: RunRow) -> RunRecord:
        return cls(
            run_id=row.run_id, started_at=_utc(row.started_at), finished_at=_utc(row.finished_at), as_of=row.as_of,
            input_digest=row.input_digest, solver_status=row.solver_status, clients=row.clients, placed=row.placed,
            moved=row.moved, kept=row.kept, waiting=row.waiting, seed=row.seed, time_limit_s=row.time_limit_s,
            status=row.status or COMMITTED, user=row.user, approved_by=row.approved_by,
            approved_at=_utc(row.approved_at) if row.approved_at is not None else None,
            optional_moves=row.moved if row.optional_moves is None else row.optional_moves,
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


def moves_in_window(session: Session, run_date: date, window_days: int) -> int:
    """Optional moves of the committed and approved runs dated in the `window_days` days ending on
    `run_date` (proposals changed nobody, so they do not count)."""
    since = run_date - timedelta(days=max(window_days, 1) - 1)
    rows = session.execute(
        select(RunRow.optional_moves, RunRow.moved)
        .where(RunRow.as_of >= since, RunRow.as_of <= run_date)
        .where(or_(RunRow.status.is_(None), RunRow.status.in_(APPLIED)))
    )
    return sum(moved if optional is None else optional for optional, moved in rows)


def _optional_moves(agency: Agency, summary: dict[str, Any], assignments: list[Assignment]) -> int:
    """The plan's moves that count against the budget: the optimizer says which (forced movers do not)."""
    value = summary.get("optional_moves")
    if isinstance(value, int):
        return value
    return sum(Decision(a.decision) == Decision.MOVED for a in assignments)


def run_and_record(engine: Engine, solve: Solver, *, as_of: date | None = None, seed: int = 0,
                   time_limit_s: float | None = None, wait_s: float = 0.0,
                   on_wait: Callable[[], None] | None = None, propose: bool = False,
                   user: str | None = None) -> RunResult:
    """Solve on today's stored state and record the run, all in one transaction (see the module docstring).

    With `propose`, the run and its plan are recorded as a proposal and no client changes (see
    `approve_run`); `user` is who ran it. Raises `StoreBusy` when another writer holds the store,
    `StoreError` when the store is empty, `PlanRejected` when the plan contradicts the state, and whatever
    `solve` raises (e.g. `ValidationFailed` for overrides that cannot hold); in every case nothing is written.
    """
    started = datetime.now(UTC)
    run_date = as_of or date.today()
    with write_session(engine, wait_s, on_wait) as session:
        agency = read_agency(session, run_date)
        if not agency.clients or not agency.workers:
            raise StoreError("the store has no clients or no workers: run `caseload import DATA_DIR --db ...` first")
        agency.moves_used = moves_in_window(session, run_date, agency.policy.moves_window_days)
        digest = input_digest(agency)
        log.info("run on %s: %d clients (%d waiting), %d workers, input %s", run_date.isoformat(),
                 len(agency.clients), len(agency.waiting), len(agency.workers), digest[:12])
        pause_point("locked")
        plan = solve(agency)
        pause_point("solved")
        assignments = list(plan.assignments)
        summary = dict(plan.summary)
        check_plan(agency, assignments)
        if not propose:
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
            status=PROPOSED if propose else COMMITTED, user=user,
            optional_moves=_optional_moves(agency, summary, assignments),
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
    log.info("run %d recorded (%s): %d placed, %d moved, %d kept, %d waiting (solver %s)", record.run_id,
             record.status, record.placed, record.moved, record.kept, record.waiting, record.solver_status)
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


def approve_run(engine: Engine, run_id: int, *, user: str | None, wait_s: float = 0.0,
                on_wait: Callable[[], None] | None = None) -> None:
    """Apply a proposed run's plan: its placements and moves become the clients' current workers.

    Refused with a `StoreError` (and nothing changed) when there is no such run, when it is not a proposal
    (approved already, by someone else a moment ago, or committed when it ran), or when the store changed
    since it was proposed (another run applied, an import, an override added or removed): its plan was made
    for a state that is gone, so run again. One transaction under the write lock, so two approvals at once
    are ordered and the second is refused; a process killed before COMMIT changes nothing.
    """
    with write_session(engine, wait_s, on_wait) as session:
        run = session.get(RunRow, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in this store (`caseload history` lists the runs)")
        status = run.status or COMMITTED
        if status == APPROVED:
            when = f" at {_utc(run.approved_at):%Y-%m-%d %H:%M} UTC" if run.approved_at else ""
            raise StoreError(f"run {run_id} was already approved by {run.approved_by or 'someone'}{when}; "
                             "nothing was changed")
        if status != PROPOSED:
            raise StoreError(f"run {run_id} is not a proposal: it was {status} when it ran; nothing was changed")
        agency = read_agency(session, run.as_of)
        if input_digest(agency) != run.input_digest:
            raise StoreError(f"the store changed since run {run_id} was proposed (another run was applied, or "
                             "an import); its plan no longer fits: run the assignment again. Nothing was changed")
        started = _utc(run.started_at)
        changed = session.scalar(select(func.count()).select_from(OverrideRow).where(
            or_(OverrideRow.set_at > started, OverrideRow.removed_at > started)))
        if changed:
            raise StoreError(f"overrides changed since run {run_id} was proposed; its plan may not respect them: "
                             "run the assignment again. Nothing was changed")
        assignments = [
            Assignment(client_id=r.client_id, worker_id=r.worker_id, decision=Decision(r.decision), reason=r.reason,
                       travel_km=r.travel_km, language=r.language)
            for r in session.scalars(select(RunAssignmentRow).where(RunAssignmentRow.run_id == run_id))
        ]
        check_plan(agency, assignments)
        apply_plan(session, agency, assignments, run.as_of)
        session.flush()
        pause_point("approving")
        run.status, run.approved_by, run.approved_at = APPROVED, user, datetime.now(UTC)
        audit(session, AUDIT_APPROVED, user=user,
              detail=f"run {run_id}: {run.placed} placed, {run.moved} moved, {run.waiting} waiting")
        session.flush()
        pause_point("approve")
        session.commit()
    log.info("run %d approved", run_id)


COMPARE_COLUMNS = ["client_id", "change", "decision_a", "worker_a", "decision_b", "worker_b", "reason_a", "reason_b"]


def _change(a: Assignment | None, b: Assignment | None) -> str | None:
    """What differs for one client between two runs' plans (None: served the same way)."""
    if a is None:
        return "only in run b"
    if b is None:
        return "only in run a"
    if a.worker_id == b.worker_id:
        return None
    if a.worker_id is None:
        return "placed in b"
    if b.worker_id is None:
        return "waiting in b"
    return "other worker in b"


def compare_runs(engine: Engine, a: int, b: int) -> pd.DataFrame:
    """The clients whom runs a and b serve differently (placed in one and waiting in the other, or with
    another worker), with each run's decision, worker and reason: what changed and why. Empty when both
    plans serve every client the same way. `StoreError` when either run does not exist."""
    first, second = get_run(engine, a), get_run(engine, b)
    in_a = {x.client_id: x for x in first.assignments}
    in_b = {x.client_id: x for x in second.assignments}
    rows = []
    for client_id in sorted(in_a.keys() | in_b.keys()):
        x, y = in_a.get(client_id), in_b.get(client_id)
        change = _change(x, y)
        if change is None:
            continue
        rows.append({
            "client_id": client_id, "change": change,
            "decision_a": Decision(x.decision).value if x else "", "worker_a": (x.worker_id or "") if x else "",
            "decision_b": Decision(y.decision).value if y else "", "worker_b": (y.worker_id or "") if y else "",
            "reason_a": (x.reason or "") if x else "", "reason_b": (y.reason or "") if y else "",
        })
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)
