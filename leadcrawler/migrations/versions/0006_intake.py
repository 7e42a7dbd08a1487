"""Intake jobs: raw-lead batches posted to the API, stored before they are answered.

Revision ID: 0006_intake
Revises: 0004
Create Date: 2026-11-29 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_intake"
down_revision = "0005_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_jobs")),
    )
    op.create_index("ix_intake_jobs_queue", "intake_jobs", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_intake_jobs_queue", table_name="intake_jobs")
    op.drop_table("intake_jobs")
