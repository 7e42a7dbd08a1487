"""Value history: every value a lead field or offer had, with dates; backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:08:23.478766
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "value_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("ref", sa.String(length=600), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_value_history_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_history")),
    )
    with op.batch_alter_table("value_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_value_history_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index("ix_value_history_lookup", ["lead_id", "field", "ref"], unique=False)

    # Backfill: the values the base already holds become the first history entries.
    leads = sa.table(
        "leads",
        *(sa.column(c) for c in ("id", "display_name", "legal_name", "cnpj", "website")),
        *(sa.column(c) for c in ("first_seen", "last_seen", "times_seen")),
    )
    offers = sa.table(
        "offers",
        *(sa.column(c) for c in ("lead_id", "checkout_url", "product_name", "price_brl")),
        *(sa.column(c) for c in ("first_seen", "last_seen")),
    )
    history = sa.table(
        "value_history",
        *(sa.column(c) for c in ("lead_id", "field", "ref", "value")),
        *(sa.column(c) for c in ("first_seen", "last_seen", "times_seen")),
    )
    names = ["lead_id", "field", "ref", "value", "first_seen", "last_seen", "times_seen"]
    for field in ("display_name", "legal_name", "cnpj", "website"):
        value = leads.c[field]
        op.execute(
            history.insert().from_select(
                names,
                sa.select(
                    leads.c.id, sa.literal(field), sa.literal(""), value,
                    leads.c.first_seen, leads.c.last_seen, leads.c.times_seen,
                ).where(value.is_not(None)),
            )
        )  # fmt: skip
    offer_values: tuple[tuple[str, sa.ColumnElement[Any]], ...] = (
        ("product_name", offers.c.product_name),
        ("price_brl", sa.cast(offers.c.price_brl, sa.String(20))),
    )
    for field, offer_value in offer_values:
        op.execute(
            history.insert().from_select(
                names,
                sa.select(
                    offers.c.lead_id, sa.literal(field), offers.c.checkout_url, offer_value,
                    offers.c.first_seen, offers.c.last_seen, sa.literal(1),
                ).where(offers.c[field].is_not(None)),
            )
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("value_history", schema=None) as batch_op:
        batch_op.drop_index("ix_value_history_lookup")
        batch_op.drop_index(batch_op.f("ix_value_history_lead_id"))

    op.drop_table("value_history")
