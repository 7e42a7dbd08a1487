"""Per-run metrics: the source a run crawled and its computed metrics (and alerts raised).

Revision ID: 0007_ops
Revises: 0004
Create Date: 2026-11-29 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_ops"
down_revision = "0006_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=100), nullable=True))
        # Older runs have only their raw counts: no metrics (the report skips them).
        batch_op.add_column(
            sa.Column("metrics", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.create_index("ix_runs_source_started", ["source", "started_at"])


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_source_started")
        batch_op.drop_column("metrics")
        batch_op.drop_column("source")
