"""The first store: clients, workers and policy (today's state); runs and their assignments (history).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 16:06:46.615505
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("need_level", sa.String(length=40), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("french_service", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=True),
        sa.Column("family_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("referral_date", sa.Date(), nullable=True),
        sa.Column("intake_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column("worker_gender_preference", sa.String(length=40), nullable=True),
        sa.Column("excluded_workers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_clients")),
    )
    op.create_index(op.f("ix_clients_status"), "clients", ["status"], unique=False)
    op.create_index(op.f("ix_clients_worker_id"), "clients", ["worker_id"], unique=False)

    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("high_need_ratio", sa.Float(), nullable=False),
        sa.Column("low_need_ratio", sa.Float(), nullable=False),
        sa.Column("max_moves_share", sa.Float(), nullable=False),
        sa.Column("keep_on_leave", sa.Boolean(), nullable=False),
        sa.Column("travel", sa.String(length=40), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=True),
        sa.Column("solver_status", sa.String(length=40), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("placed", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_input_digest"), "runs", ["input_digest"], unique=False)

    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("fte", sa.Float(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("french", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("areas", sa.Text(), nullable=False),
        sa.Column("max_travel_km", sa.Float(), nullable=True),
        sa.Column("specializations", sa.Text(), nullable=False),
        sa.Column("gender", sa.String(length=40), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("high_need_ratio", sa.Float(), nullable=True),
        sa.Column("low_need_ratio", sa.Float(), nullable=True),
        sa.Column("max_new_per_week", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_workers")),
    )
    op.create_table(
        "run_assignments",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("decision", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("travel_km", sa.Float(), nullable=True),
        sa.Column("language", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_run_assignments_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "client_id", name=op.f("pk_run_assignments")),
    )
    op.create_index("ix_run_assignments_client", "run_assignments", ["client_id"], unique=False)

    op.create_table(
        "run_clients",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_run_clients_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "client_id", name=op.f("pk_run_clients")),
    )
    op.create_table(
        "run_workers",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_run_workers_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "worker_id", name=op.f("pk_run_workers")),
    )


def downgrade() -> None:
    op.drop_table("run_workers")
    op.drop_table("run_clients")
    op.drop_index("ix_run_assignments_client", table_name="run_assignments")

    op.drop_table("run_assignments")
    op.drop_table("workers")
    op.drop_index(op.f("ix_runs_input_digest"), table_name="runs")

    op.drop_table("runs")
    op.drop_table("policy")
    op.drop_index(op.f("ix_clients_worker_id"), table_name="clients")
    op.drop_index(op.f("ix_clients_status"), table_name="clients")

    op.drop_table("clients")
