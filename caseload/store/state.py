"""Today's state in the store: importing a data-contract folder, and reading it back as an `Agency`.

An import is the coordinator saying "this folder is the truth now": the folder is validated as a whole by
the one reader (`caseload.reader.load_agency`) before the store is touched, then clients, workers and the
policy are replaced in one transaction under the write lock. A bad folder changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from caseload.domain import Agency
from caseload.reader import find_table, load_agency
from caseload.store.convert import (
    client_from_row,
    client_row,
    policy_from_row,
    policy_row,
    worker_from_row,
    worker_row,
)
from caseload.store.lock import write_session
from caseload.store.models import ClientRow, OverrideRow, PolicyRow, WorkerRow
from caseload.store.overrides import AUDIT_OVERRIDE_REMOVED, audit, read_overrides, replace_overrides
from caseload.store.pause import pause_point

log = logging.getLogger("caseload.store")


@dataclass(frozen=True, slots=True)
class ImportResult:
    clients: int
    waiting: int
    active: int
    workers: int


def read_agency(session: Session, as_of: date | None = None) -> Agency:
    """The agency as stored, in id order (so the optimizer sees the same input for the same state)."""
    clients = [client_from_row(r) for r in session.scalars(select(ClientRow).order_by(ClientRow.client_id))]
    workers = [worker_from_row(r) for r in session.scalars(select(WorkerRow).order_by(WorkerRow.worker_id))]
    policy = policy_from_row(session.get(PolicyRow, 1))
    agency = Agency(clients=clients, workers=workers, policy=policy, overrides=read_overrides(session))
    if as_of is not None:
        agency.as_of = as_of
    return agency


def store_agency(engine: Engine, as_of: date | None = None) -> Agency:
    """Today's agency from the store, for readers (the app, the simulation's start state)."""
    with Session(engine) as session:
        return read_agency(session, as_of)


def replace_state(session: Session, agency: Agency) -> None:
    """Replace clients, workers and policy with the agency's (inside the caller's transaction)."""
    session.execute(delete(ClientRow))
    session.execute(delete(WorkerRow))
    session.execute(delete(PolicyRow))
    session.add_all(worker_row(w) for w in agency.workers)
    session.add_all(client_row(c) for c in agency.clients)
    session.add(policy_row(agency.policy))


def _drop_stale_overrides(session: Session, agency: Agency, user: str | None) -> None:
    """Stored overrides the new state contradicts (their client graduated or left the files, their worker
    left...) stop applying: each is marked removed with the rule it broke in the audit trail."""
    from caseload.overrides import override_errors

    rows = list(session.scalars(select(OverrideRow).where(OverrideRow.removed_at.is_(None))
                                .order_by(OverrideRow.override_id)))
    errors = override_errors(agency, read_overrides(session), rows=[r.override_id for r in rows])
    broken = {e.row: e.rule for e in errors}
    for row in rows:
        if row.override_id in broken:
            row.removed_at, row.removed_by = datetime.now(UTC), user
            audit(session, AUDIT_OVERRIDE_REMOVED, user=user, client_id=row.client_id,
                  detail=f"override {row.override_id}: {row.action} {row.worker_id or ''}".rstrip(),
                  reason=f"no longer applies after an import: {broken[row.override_id]}")


def import_agency(engine: Engine, agency: Agency, *, wait_s: float = 0.0,
                  on_wait: Callable[[], None] | None = None, with_overrides: bool = False,
                  user: str | None = None) -> ImportResult:
    """Make an already validated agency the store's current state, in one transaction under the write lock.

    With `with_overrides` (the folder had an overrides.csv) the agency's overrides replace the stored ones;
    without, the stored overrides stay, except those the new state contradicts (see `_drop_stale_overrides`).
    Raises `StoreBusy` when another run or import is writing; then nothing is changed.
    """
    with write_session(engine, wait_s, on_wait) as session:
        replace_state(session, agency)
        if with_overrides:
            replace_overrides(session, agency.overrides, user=user)
        else:
            _drop_stale_overrides(session, agency, user)
        session.flush()
        pause_point("import")
        session.commit()
    result = ImportResult(clients=len(agency.clients), waiting=len(agency.waiting), active=len(agency.active),
                          workers=len(agency.workers))
    log.info("imported %d clients (%d waiting, %d active) and %d workers", result.clients, result.waiting,
             result.active, result.workers)
    return result


def import_folder(engine: Engine, data_dir: Path | str, policy_path: Path | str | None = None, *,
                  wait_s: float = 0.0, user: str | None = None) -> ImportResult:
    """Validate a data-contract folder as a whole, then make it the store's current state, all or nothing.

    Raises `caseload.validation.ValidationFailed` (nothing touched) or `StoreBusy` (another writer).
    """
    return import_agency(engine, load_agency(data_dir, policy_path), wait_s=wait_s,
                         with_overrides=has_overrides_file(data_dir), user=user)


def has_overrides_file(data_dir: Path | str) -> bool:
    """Whether a data folder carries an overrides.csv (or .xlsx): then an import replaces the stored ones."""
    return find_table(Path(data_dir), "overrides") is not None
