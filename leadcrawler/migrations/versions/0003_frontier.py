"""Frontier: product pages discovered by search and archives, waiting to be crawled.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 03:17:23.226829
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frontier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("url", sa.String(length=600), nullable=False),
        sa.Column("discovered_by", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier")),
        sa.UniqueConstraint("url", name=op.f("uq_frontier_url")),
    )
    with op.batch_alter_table("frontier", schema=None) as batch_op:
        batch_op.create_index(
            "ix_frontier_queue", ["platform", "status", "first_seen"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("frontier", schema=None) as batch_op:
        batch_op.drop_index("ix_frontier_queue")

    op.drop_table("frontier")
