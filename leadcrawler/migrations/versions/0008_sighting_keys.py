"""Sighting keys: which sighting brought which identity key, so a rebuild can split leads.

Backfill: a lead seen exactly once got every key it holds from that one sighting, so its
keys (and its names) are recorded on it. A lead seen several times cannot be told apart
into its sightings (contacts and offers are per lead, not per sighting): its old
sightings get no rows, and ``dedupe --rebuild`` keeps them together with the lead's own
stored keys (it can merge them with others, never split them).

Revision ID: 0008_sighting_keys
Revises: 0007_ops
Create Date: 2026-11-30 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_sighting_keys"
down_revision = "0007_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sighting_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("legal_name", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["sightings.id"],
            name=op.f("fk_sighting_keys_sighting_id_sightings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sighting_keys")),
    )
    with op.batch_alter_table("sighting_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sighting_keys_sighting_id"), ["sighting_id"], unique=False
        )

    sightings = sa.table("sightings", sa.column("id"), sa.column("lead_id"))
    leads = sa.table(
        "leads", sa.column("id"), sa.column("uid"), sa.column("display_name"),
        sa.column("legal_name"),
    )  # fmt: skip
    lead_keys = sa.table("lead_keys", sa.column("lead_id"), sa.column("key"))
    sighting_keys = sa.table(
        "sighting_keys", sa.column("sighting_id"), sa.column("key"),
        sa.column("display_name"), sa.column("legal_name"),
    )  # fmt: skip
    seen_once = (
        sa.select(sightings.c.lead_id)
        .group_by(sightings.c.lead_id)
        .having(sa.func.count() == 1)
        .scalar_subquery()
    )
    names = ["sighting_id", "key", "display_name", "legal_name"]
    once = sightings.join(leads, leads.c.id == sightings.c.lead_id)
    op.execute(
        sighting_keys.insert().from_select(
            names,
            sa.select(sightings.c.id, lead_keys.c.key, leads.c.display_name, leads.c.legal_name)
            .select_from(once.join(lead_keys, lead_keys.c.lead_id == leads.c.id))
            .where(sightings.c.lead_id.in_(seen_once)),
        )
    )
    op.execute(
        sighting_keys.insert().from_select(
            names,
            sa.select(
                sightings.c.id, sa.literal("uid:") + leads.c.uid, leads.c.display_name,
                leads.c.legal_name,
            )
            .select_from(once)
            .where(sightings.c.lead_id.in_(seen_once)),
        )
    )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("sighting_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sighting_keys_sighting_id"))
    op.drop_table("sighting_keys")
