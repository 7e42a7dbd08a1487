"""SQLAlchemy 2.x models of the historical base.

One ``leads`` row per producer. Everything else hangs off it and keeps history:
``lead_keys`` (the exact identity keys that link sightings to a lead, unique across the
base), ``contacts`` (every value ever seen, with provenance and first/last seen),
``offers`` (products on platforms), ``sightings`` (every time a spider saw the lead) and
``runs`` (every crawl). Schema changes go through Alembic migrations in
``leadcrawler/migrations``; never edit a table here without adding one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spider: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    finish_reason: Mapped[str | None] = mapped_column(String(100))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The source the run crawled (a platform, a discovery engine, "site") and the metrics
    # computed from its final stats (leadcrawler/monitors/metrics.py), alerts included.
    source: Mapped[str | None] = mapped_column(String(100))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_runs_source_started", "source", "started_at"),)


class LeadRow(Base):
    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    legal_name: Mapped[str | None] = mapped_column(Text)
    cnpj: Mapped[str | None] = mapped_column(String(14))
    website: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(253))
    score: Mapped[int | None]
    tier: Mapped[str | None] = mapped_column(String(1))
    score_reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    times_seen: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]
    # How the enrichment steps went ({"site": "failed: http_503", "mx": "retry: dns-timeout"}):
    # what `leadcrawler enrich --retry-failed` picks up.
    enrichment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # LGPD arts. 7 IX, 10, 37: why this lead may be held (from PRIVACY_* settings).
    legal_basis: Mapped[str] = mapped_column(String(50))
    purpose: Mapped[str] = mapped_column(Text)
    lia_reference: Mapped[str] = mapped_column(Text)
    # Set by `leadcrawler suppress` (opposition, art. 18 §2): the lead is kept but never
    # listed, exported, served by the API, enriched or retried again.
    suppressed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_leads_priority", "tier", "score", "last_seen"),
        Index("ix_leads_last_seen", "last_seen"),  # retention purges
    )


class LeadKey(Base):
    """An exact identity key (``email:...``, ``phone:+55...``, ``checkout:https://...``)."""

    __tablename__ = "lead_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(600))  # the normalised value (raw if none)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    certainty: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(50))
    source_url: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    times_seen: Mapped[int] = mapped_column(default=1)

    __table_args__ = (UniqueConstraint("lead_id", "kind", "value"),)


class OfferRow(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(50))
    checkout_url: Mapped[str] = mapped_column(String(600), unique=True)
    product_name: Mapped[str | None] = mapped_column(Text)
    price_brl: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    seller_id: Mapped[str | None] = mapped_column(String(100))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class SightingRow(Base):
    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(50))
    spider: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime]


class SightingKey(Base):
    """An identity key one sighting brought, as written (``dedupe --rebuild`` replays them).

    ``lead_keys`` says which lead holds a key now; this table says which sighting brought
    it, so a rebuild under changed rules can split a lead as well as merge. The names are
    the ones the sighting was seen with (weak keys link only when names agree). A
    ``uid:<lead uid>`` row records the lead the sighting was written to: a sighting with no
    name of its own follows it. Sightings stored before migration 0008 have rows only
    when their lead had that one sighting (the backfill).
    """

    __tablename__ = "sighting_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(
        ForeignKey("sightings.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(600))
    display_name: Mapped[str | None] = mapped_column(Text)
    legal_name: Mapped[str | None] = mapped_column(Text)


class ValueHistory(Base):
    """Every value a lead's field or offer ever had, with when it was seen.

    ``leads`` and ``offers`` hold the current best value; this table keeps the others, so
    a changed price or a new name never erases the old one. ``ref`` is the checkout URL
    for offer fields and ``""`` for the lead's own fields.
    """

    __tablename__ = "value_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(50))
    ref: Mapped[str] = mapped_column(String(600), default="")
    value: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    times_seen: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_value_history_lookup", "lead_id", "field", "ref"),)


class FrontierUrl(Base):
    """A product page discovered for a platform spider to crawl (the shared frontier).

    ``status``: ``pending`` (to crawl), ``done`` (fetched and parsed), ``failed`` (gave up
    after ``attempts``), ``gone`` (404/410). A URL skipped because its domain's circuit
    breaker is open stays ``pending``.
    """

    __tablename__ = "frontier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(String(600), unique=True)
    discovered_by: Mapped[str] = mapped_column(String(100))
    query: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_frontier_queue", "platform", "status", "first_seen"),)


class Suppression(Base):
    """A person who must never be collected again: keyed hashes, never a clear value.

    ``key_hash`` is HMAC-SHA256(pepper, identity key) (:mod:`leadcrawler.privacy.keys`);
    ``kind`` says which kind of key (email, phone, social, cnpj, checkout, seller, domain);
    ``reason``: ``forget`` (erased) or ``suppress`` (opposition: kept out, not erased).
    """

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only log of privacy-relevant actions: ids and hashes, never personal data.

    ``action``: export, api_read, forget, access, suppress, purge. ``lead_uids``: the
    leads concerned; ``subject_hashes``: keyed hashes of the identity keys a data subject
    gave; ``details``: filters, row counts, file hashes. Triggers refuse UPDATE and
    DELETE on this table (migration 0005_privacy).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(30))
    lead_uids: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)


class IntakeJob(Base):
    """A batch of raw leads posted to the API: stored before the 202, enriched by a worker.

    ``status``: ``queued``, ``running``, ``done``, ``failed``. ``payload`` is the batch as
    posted (JSON Lines or CSV); ``summary`` what the import reported.
    """

    __tablename__ = "intake_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # jsonl | csv
    rows: Mapped[int]
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_intake_jobs_queue", "status", "created_at"),)
