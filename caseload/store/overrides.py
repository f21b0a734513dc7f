"""The coordinator's overrides and priority changes in the store, and the audit trail of every change.

An override (data contract, overrides) is a hard rule for every later run until it is removed or its
`until` date passes; `store_agency` hands the live ones to the optimizer. Every change made here (an
override added or removed, a priority set, a run approved: see `caseload.store.runs.approve_run`) writes
one audit entry with who, when and why, in the same transaction as the change, under the store's write
lock. A change is validated like any input before anything is written: `ValidationFailed` (file, row,
column, value, rule) and nothing stored.

Reasons are the coordinator's words: they are stored and shown, never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from caseload.domain import Agency, Override, OverrideAction
from caseload.overrides import STORED, override_errors
from caseload.store.database import StoreError
from caseload.store.lock import write_session
from caseload.store.models import AuditRow, ClientRow, OverrideRow
from caseload.validation import InputError, ValidationFailed

log = logging.getLogger("caseload.store")

# What an extra check of an override looks like: the optimizer's `optimizer.overrides.check_overrides`
# (eligibility and capacity), which the store cannot import itself (caseload/ sits below optimizer/).
OverrideCheck = Callable[[Agency], list[InputError]]

AUDIT_OVERRIDE_ADDED = "override added"
AUDIT_OVERRIDE_REMOVED = "override removed"
AUDIT_OVERRIDES_IMPORTED = "overrides imported"
AUDIT_PRIORITY = "priority set"
AUDIT_APPROVED = "run approved"
MAX_PRIORITY = 1000


@dataclass(frozen=True, slots=True)
class StoredOverride:
    """An override as the store keeps it: the contract's columns plus its id and when it was set."""

    override_id: int
    client_id: str
    action: str
    worker_id: str | None
    reason: str
    set_by: str | None
    set_at: datetime
    until: date | None

    @property
    def override(self) -> Override:
        return Override(client_id=self.client_id, action=OverrideAction(self.action), reason=self.reason,
                        worker_id=self.worker_id, set_by=self.set_by, until=self.until)

    @classmethod
    def of(cls, row: OverrideRow) -> StoredOverride:
        return cls(override_id=row.override_id, client_id=row.client_id, action=row.action, worker_id=row.worker_id,
                   reason=row.reason, set_by=row.set_by, set_at=_utc(row.set_at), until=row.until)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who changed what, when and why."""

    entry_id: int
    at: datetime
    user: str
    action: str
    client_id: str
    detail: str
    reason: str


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def audit(session: Session, action: str, *, user: str | None, client_id: str | None = None, detail: str = "",
          reason: str = "") -> None:
    """Add one audit entry inside the caller's transaction."""
    session.add(AuditRow(at=datetime.now(UTC), user=user, action=action, client_id=client_id, detail=detail,
                         reason=reason))


def _live_rows(session: Session) -> list[OverrideRow]:
    return list(session.scalars(select(OverrideRow).where(OverrideRow.removed_at.is_(None))
                                .order_by(OverrideRow.override_id)))


def read_overrides(session: Session) -> list[Override]:
    """Every override not removed (lapsed ones included: `Agency.live_overrides` drops them by the run's date)."""
    return [StoredOverride.of(r).override for r in _live_rows(session)]


def list_overrides(engine: Engine, *, include_lapsed: bool = False, as_of: date | None = None) -> list[StoredOverride]:
    """The overrides not removed, oldest first; without `include_lapsed`, only those in force on `as_of`
    (today)."""
    day = as_of or date.today()
    with Session(engine) as session:
        stored = [StoredOverride.of(r) for r in _live_rows(session)]
    return stored if include_lapsed else [s for s in stored if s.override.applies_on(day)]


def _describe(o: Override) -> str:
    worker = f" {o.worker_id}" if o.worker_id else ""
    until = f" until {o.until.isoformat()}" if o.until else ""
    return f"{o.action.value}{worker}{until}"


def validate_overrides(agency: Agency, overrides: Sequence[Override], *, check: OverrideCheck | None = None,
                       file: str = STORED) -> None:
    """Raise `ValidationFailed` with every way the overrides cannot hold on this agency."""
    errors = override_errors(agency, overrides, file=file, rows=[None] * len(overrides))
    if not errors and check is not None:
        trial = Agency(clients=agency.clients, workers=agency.workers, policy=agency.policy, as_of=agency.as_of,
                       overrides=list(overrides))
        errors = check(trial)
    if errors:
        raise ValidationFailed(errors)


def add_override(engine: Engine, override: Override, *, user: str | None, check: OverrideCheck | None = None,
                 as_of: date | None = None, wait_s: float = 0.0) -> int:
    """Store a new override set by `user`; its id. Validated with the overrides already in force (and with
    `check`, e.g. `optimizer.overrides.check_overrides`): `ValidationFailed` and nothing stored when it
    cannot hold. A reason is required."""
    from caseload.store.state import read_agency

    errors: list[InputError] = []
    if not (override.reason or "").strip():
        errors.append(InputError(STORED, None, "reason", "", "is required: say why, in your words"))
    if override.until is not None and override.until < (as_of or date.today()):
        errors.append(InputError(STORED, None, "until", override.until.isoformat(), "is in the past"))
    if errors:
        raise ValidationFailed(errors)
    with write_session(engine, wait_s) as session:
        agency = read_agency(session, as_of or date.today())
        validate_overrides(agency, [*agency.overrides, override], check=check)
        row = OverrideRow(client_id=override.client_id, action=override.action.value, worker_id=override.worker_id,
                          reason=override.reason.strip(), set_by=user or override.set_by, set_at=datetime.now(UTC),
                          until=override.until)
        session.add(row)
        session.flush()
        audit(session, AUDIT_OVERRIDE_ADDED, user=user, client_id=override.client_id,
              detail=f"override {row.override_id}: {_describe(override)}", reason=override.reason.strip())
        session.commit()
        override_id = row.override_id
    log.info("override %d added (%s)", override_id, override.action.value)
    return override_id


def remove_override(engine: Engine, override_id: int, *, user: str | None, reason: str, wait_s: float = 0.0) -> None:
    """Remove an override from the next run on (it stays in the store for the audit trail). `StoreError`
    when there is no such override or it was removed already; `ValidationFailed` without a reason."""
    if not (reason or "").strip():
        raise ValidationFailed([InputError(STORED, None, "reason", "", "is required: say why, in your words")])
    with write_session(engine, wait_s) as session:
        row = session.get(OverrideRow, override_id)
        if row is None or row.removed_at is not None:
            raise StoreError(f"no override {override_id} in force in this store (`caseload overrides list`)")
        row.removed_at, row.removed_by = datetime.now(UTC), user
        audit(session, AUDIT_OVERRIDE_REMOVED, user=user, client_id=row.client_id,
              detail=f"override {override_id}: {_describe(StoredOverride.of(row).override)}", reason=reason.strip())
        session.commit()
    log.info("override %d removed", override_id)


def set_priority(engine: Engine, client_id: str, priority: int, *, user: str | None, reason: str,
                 wait_s: float = 0.0) -> None:
    """Change a client's priority (larger is more urgent) from the next run on, with a reason."""
    errors: list[InputError] = []
    if not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
        errors.append(InputError(STORED, None, "priority", str(priority),
                                 f"must be a whole number in [0, {MAX_PRIORITY}]"))
    if not (reason or "").strip():
        errors.append(InputError(STORED, None, "reason", "", "is required: say why, in your words"))
    if errors:
        raise ValidationFailed(errors)
    with write_session(engine, wait_s) as session:
        row = session.get(ClientRow, client_id)
        if row is None:
            raise ValidationFailed([InputError(STORED, None, "client_id", client_id,
                                               "unknown client: not in the store")])
        before = row.priority
        row.priority = priority
        audit(session, AUDIT_PRIORITY, user=user, client_id=client_id, detail=f"priority {before} -> {priority}",
              reason=reason.strip())
        session.commit()


def replace_overrides(session: Session, overrides: Sequence[Override], *, user: str | None) -> None:
    """An import's overrides.csv replaces the overrides in force (inside the import's transaction); each
    replaced one is marked removed, and the audit trail says so."""
    now = datetime.now(UTC)
    removed = session.execute(update(OverrideRow).where(OverrideRow.removed_at.is_(None))
                              .values(removed_at=now, removed_by=user)).rowcount
    for o in overrides:
        session.add(OverrideRow(client_id=o.client_id, action=o.action.value, worker_id=o.worker_id,
                                reason=o.reason, set_by=o.set_by or user, set_at=now, until=o.until))
    audit(session, AUDIT_OVERRIDES_IMPORTED, user=user,
          detail=f"{len(overrides)} override(s) from overrides.csv replaced {removed or 0}")


def audit_trail(engine: Engine, limit: int | None = None) -> list[AuditEntry]:
    """Who changed what, when and why, newest first."""
    with Session(engine) as session:
        query = select(AuditRow).order_by(AuditRow.entry_id.desc())
        if limit:
            query = query.limit(limit)
        return [AuditEntry(entry_id=r.entry_id, at=_utc(r.at), user=r.user or "", action=r.action,
                           client_id=r.client_id or "", detail=r.detail, reason=r.reason)
                for r in session.scalars(query)]
