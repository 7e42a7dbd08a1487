"""Lead enrichment state: which enrichment steps failed and need a retry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        # Existing leads start with no recorded steps: nothing to retry.
        batch_op.add_column(
            sa.Column("enrichment", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("enrichment")
