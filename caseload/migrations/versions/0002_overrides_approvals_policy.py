"""The coordinator's loop: overrides and the audit trail, run status (approve before commit) and the user
who ran or approved a run, clients' last_review_date, and the policy keys added since 0001.

Every added column is nullable: a store written by 0001 keeps working (its runs read as committed, its
policy as the defaults for the new keys).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY_COLUMNS = (
    ("stage_gap", sa.Float()),
    ("moves_window_days", sa.Integer()),
    ("waitlist_review_weeks", sa.Integer()),
    ("reassessment_every_months", sa.Integer()),
    ("expected_duration_high_months", sa.Float()),
    ("expected_duration_low_months", sa.Float()),
    ("cost_per_fte", sa.Float()),
)
RUN_COLUMNS = (
    ("status", sa.String(length=40)),
    ("user", sa.String(length=200)),
    ("approved_by", sa.String(length=200)),
    ("approved_at", sa.DateTime(timezone=True)),
    ("optional_moves", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("last_review_date", sa.Date(), nullable=True))
    with op.batch_alter_table("policy") as batch:
        for name, kind in POLICY_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("runs") as batch:
        for name, kind in RUN_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_index(op.f("ix_runs_status"), "runs", ["status"], unique=False)

    op.create_table(
        "overrides",
        sa.Column("override_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("override_id", name=op.f("pk_overrides")),
    )
    op.create_index(op.f("ix_overrides_client_id"), "overrides", ["client_id"], unique=False)
    op.create_table(
        "audit",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_audit")),
    )


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_index(op.f("ix_overrides_client_id"), table_name="overrides")
    op.drop_table("overrides")
    op.drop_index(op.f("ix_runs_status"), table_name="runs")
    with op.batch_alter_table("runs") as batch:
        for name, _ in reversed(RUN_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("policy") as batch:
        for name, _ in reversed(POLICY_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("last_review_date")
