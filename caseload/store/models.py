"""The store's tables: today's clients, workers and policy, and the history of runs with every assignment.

The current-state tables (`clients`, `workers`, `policy`) hold the agency as the next nightly run will see
it: an import replaces them whole, a run updates the clients it places or moves. The history tables
(`runs`, `run_assignments`) are append-only: a run is written once, in the same transaction that applies
it, so a run in the history is always a whole run.

Lists (languages, needs, areas...) are stored as the data contract writes them, `;`-separated, so that a
row reads the same in a SQL console as in the coordinator's spreadsheet. Schema changes go through the
Alembic migrations in `caseload/migrations`; a test checks that they build exactly these tables.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(200)
CODE = String(40)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ClientRow(Base):
    """One client as the data contract describes them (see `caseload.domain.Client`)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(ID, primary_key=True)
    need_level: Mapped[str] = mapped_column(CODE)
    languages: Mapped[str] = mapped_column(Text)
    french_service: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    area: Mapped[str | None] = mapped_column(String(200))
    family_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(CODE, index=True)
    # No foreign key: a graduated client may name a worker who has since left the workers file.
    worker_id: Mapped[str | None] = mapped_column(ID, index=True)
    referral_date: Mapped[date | None] = mapped_column(Date)
    intake_date: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    needs: Mapped[str] = mapped_column(Text, default="")
    worker_gender_preference: Mapped[str | None] = mapped_column(CODE)
    excluded_workers: Mapped[str] = mapped_column(Text, default="")
    last_review_date: Mapped[date | None] = mapped_column(Date)


class WorkerRow(Base):
    """One worker as the data contract describes them (see `caseload.domain.Worker`)."""

    __tablename__ = "workers"

    worker_id: Mapped[str] = mapped_column(ID, primary_key=True)
    fte: Mapped[float] = mapped_column(Float)
    languages: Mapped[str] = mapped_column(Text)
    french: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    areas: Mapped[str] = mapped_column(Text, default="")
    max_travel_km: Mapped[float | None] = mapped_column(Float)
    specializations: Mapped[str] = mapped_column(Text, default="")
    gender: Mapped[str | None] = mapped_column(CODE)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    high_need_ratio: Mapped[float | None] = mapped_column(Float)
    low_need_ratio: Mapped[float | None] = mapped_column(Float)
    max_new_per_week: Mapped[int | None] = mapped_column(Integer)


class PolicyRow(Base):
    """The agency's current policy: a single row (id 1), replaced by each import."""

    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    high_need_ratio: Mapped[float] = mapped_column(Float)
    low_need_ratio: Mapped[float] = mapped_column(Float)
    max_moves_share: Mapped[float] = mapped_column(Float)
    keep_on_leave: Mapped[bool] = mapped_column(Boolean)
    travel: Mapped[str] = mapped_column(CODE)
    time_limit_s: Mapped[float] = mapped_column(Float)
    # Added with revision 0002; empty in a store written before it (the policy's defaults then apply).
    stage_gap: Mapped[float | None] = mapped_column(Float)
    moves_window_days: Mapped[int | None] = mapped_column(Integer)
    waitlist_review_weeks: Mapped[int | None] = mapped_column(Integer)
    reassessment_every_months: Mapped[int | None] = mapped_column(Integer)
    expected_duration_high_months: Mapped[float | None] = mapped_column(Float)
    expected_duration_low_months: Mapped[float | None] = mapped_column(Float)
    cost_per_fte: Mapped[float | None] = mapped_column(Float)


class RunRow(Base):
    """One nightly run: when, on what input (digest), under which policy, and what came of it."""

    __tablename__ = "runs"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[date] = mapped_column(Date)
    input_digest: Mapped[str] = mapped_column(String(64), index=True)
    policy: Mapped[str] = mapped_column(Text)  # the policy as policy.yaml text: the run can be exported whole
    seed: Mapped[int] = mapped_column(Integer)
    time_limit_s: Mapped[float | None] = mapped_column(Float)
    solver_status: Mapped[str] = mapped_column(String(40))
    clients: Mapped[int] = mapped_column(Integer)
    placed: Mapped[int] = mapped_column(Integer)
    moved: Mapped[int] = mapped_column(Integer)
    kept: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)  # the optimizer's summary as JSON
    # Approve before commit (revision 0002): `proposed` runs changed no client; `approved` ones did when a
    # coordinator approved them; `committed` ones when they ran (runs before 0002 have no status: committed).
    status: Mapped[str | None] = mapped_column(CODE, index=True)
    user: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    optional_moves: Mapped[int | None] = mapped_column(Integer)  # moves that count against max_moves_share


class RunAssignmentRow(Base):
    """One row of a run's assignments.csv, kept forever with its run."""

    __tablename__ = "run_assignments"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ID, primary_key=True)
    worker_id: Mapped[str | None] = mapped_column(ID)
    decision: Mapped[str] = mapped_column(CODE)
    reason: Mapped[str] = mapped_column(Text, default="")
    travel_km: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(CODE)


class RunClientRow(Base):
    """A client as the run saw them (the run's input), so that `caseload export RUN_ID` writes it back."""

    __tablename__ = "run_clients"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ID, primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # the clients.csv row as JSON


class RunWorkerRow(Base):
    """A worker as the run saw them (the run's input)."""

    __tablename__ = "run_workers"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    worker_id: Mapped[str] = mapped_column(ID, primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # the workers.csv row as JSON


class OverrideRow(Base):
    """A coordinator's override (data contract, overrides): a hard rule for every run until removed or lapsed.

    A removed override stays as a row (removed_at set) so that the audit trail can always name it."""

    __tablename__ = "overrides"

    override_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ID, index=True)
    action: Mapped[str] = mapped_column(CODE)
    worker_id: Mapped[str | None] = mapped_column(ID)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str | None] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[date | None] = mapped_column(Date)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[str | None] = mapped_column(String(200))


class AuditRow(Base):
    """One entry of the audit trail: who changed what, when and why (overrides, priorities, approvals)."""

    __tablename__ = "audit"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(CODE)
    client_id: Mapped[str | None] = mapped_column(ID)
    detail: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")


Index("ix_run_assignments_client", RunAssignmentRow.client_id)
