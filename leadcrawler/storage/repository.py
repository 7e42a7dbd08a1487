"""The repository the pipelines and the CLI use to read and write the historical base.

``save()`` is the one write path for leads: idempotent, in one transaction per batch.
A lead is found by its identity keys (``lead_keys.key`` is unique across the base; the
rules are in :mod:`leadcrawler.domain.identity`: strong keys link alone, a weak key only when
the names agree); when one sighting's keys point at several stored leads, those leads
are one producer and are merged into the oldest. Values are never overwritten: a new
contact or offer is added next to the old ones, a repeated one only moves its
``last_seen``, and every value a field ever had is kept in ``value_history``.

Best value per field (documented in the README): a stored name/website is kept; a
sighting only fills fields that are still empty. Offer facts that change (product name,
price) take the newest sighting's value; the old one stays in the history.

Concurrency: on PostgreSQL a batch first takes a transaction-scoped advisory lock per
identity key, in sorted order, so two crawls writing the same producer serialise on
it (and cannot deadlock) and end with one lead. SQLite serialises writers itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadcrawler.domain.facts import ContactView, LeadView, OfferView, score_lead
from leadcrawler.domain.identity import (
    CHECKOUT_PREFIX,
    DEFAULT_NAME_SIMILARITY,
    LINKED_PREFIX,
    identity_keys,
    lookups,
    names_agree,
)
from leadcrawler.domain.items import ContactKind, Lead, utcnow
from leadcrawler.domain.scoring import Rules
from leadcrawler.privacy.gate import require_legal_basis
from leadcrawler.storage.db import writer
from leadcrawler.storage.models import (
    ContactRow,
    LeadKey,
    LeadRow,
    OfferRow,
    Run,
    SightingRow,
    ValueHistory,
)
from leadcrawler.storage.readmodel import StoredLead, as_utc, lead_provenance
from leadcrawler.storage.rebuild import RebuildLimits

LEAD_FIELDS = ("display_name", "legal_name", "cnpj", "website", "domain")
HISTORY_FIELDS = ("display_name", "legal_name", "cnpj", "website")

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class SaveResult:
    created: int = 0
    updated: int = 0
    merged: int = 0  # stored leads folded into another because a sighting linked them
    suppressed: int = 0  # sightings of people on the suppression list: not written


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Which leads an export or listing wants."""

    tiers: tuple[str, ...] = ()
    min_score: int | None = None
    since: datetime | None = None  # last seen at or after
    platforms: tuple[str, ...] = ()  # with an offer on one of these platforms
    sources: tuple[str, ...] = ()  # seen by one of these sources (sightings.source)
    changed_since: datetime | None = None  # created or updated (re-seen included) at or after


@dataclass(frozen=True, slots=True)
class SiteRetry:
    uid: str
    website: str


RETRYABLE_MX = frozenset({"dns-timeout", "dns-error"})


@dataclass(slots=True)
class RebuildResult:
    leads_before: int = 0
    leads_after: int = 0
    merged: int = 0  # leads folded into an older one
    split: int = 0  # parts of leads moved out (to a new lead, or to the lead they belong with)
    keys: int = 0
    dry_run: bool = False


class _DryRun(Exception):
    """Rolls the rebuild's transaction back once it has counted what it would do."""


class LeadStore:
    def __init__(self, engine: Engine, name_similarity: int = DEFAULT_NAME_SIMILARITY) -> None:
        self.engine = engine
        self.name_similarity = name_similarity
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.writes = sessionmaker(writer(engine), expire_on_commit=False)  # BEGIN IMMEDIATE
        # Whether the set-based writer's COPY may skip the per-row foreign-key checks
        # (None: not asked yet; see batchwrite.BatchWriter._skip_fk_checks). False forces
        # the checks (the tests compare both ways).
        self.copy_skips_fk_checks: bool | None = None
        self.tables_with_own_triggers: dict[str, bool] = {}  # asked once per table

    # --- runs ------------------------------------------------------------------------

    def start_run(self, spider: str, arguments: dict[str, Any]) -> int:
        with self.writes.begin() as session:
            run = Run(spider=spider, arguments=arguments, started_at=utcnow(), counts={})
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, reason: str, counts: dict[str, Any]) -> None:
        with self.writes.begin() as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(finished_at=utcnow(), finish_reason=reason, counts=counts)
            )

    # --- identity --------------------------------------------------------------------

    def find_lead_uid(self, lead: Lead) -> str | None:
        """The uid of the stored lead ``lead`` belongs to, if any (read only)."""
        return self.find_lead_uids([lead])[0]

    def find_lead_uids(self, leads: Sequence[Lead]) -> list[str | None]:
        """For each lead, the uid of the stored lead it belongs to under the identity rules
        (strong keys alone, weak ones when the names agree; the oldest when several), in a
        few queries for the whole batch (read only)."""
        wanted = {
            stored for lead in leads for own in lead.identity_keys for stored, _ in lookups(own)
        }
        if not wanted:
            return [None] * len(leads)
        holders: dict[str, tuple[int, str | None, str | None]] = {}
        with self.sessions() as session:
            keys = list(wanted)
            for start in range(0, len(keys), 500):
                rows = session.execute(
                    select(LeadKey.key, LeadKey.lead_id, LeadRow.display_name, LeadRow.legal_name)
                    .join(LeadRow, LeadRow.id == LeadKey.lead_id)
                    .where(LeadKey.key.in_(keys[start : start + 500]))
                )
                for key, lead_id, display_name, legal_name in rows:
                    holders[key] = (lead_id, display_name, legal_name)
            firsts: list[int | None] = []
            for lead in leads:
                name = lead.display_name or lead.legal_name
                ids: set[int] = set()
                for own in lead.identity_keys:
                    for stored, weak in lookups(own):
                        held = holders.get(stored)
                        if held is None:
                            continue
                        lead_id, display_name, legal_name = held
                        if weak and not (
                            names_agree(name, display_name, self.name_similarity)
                            or names_agree(name, legal_name, self.name_similarity)
                        ):
                            continue
                        ids.add(lead_id)
                firsts.append(min(ids) if ids else None)
            found = sorted({i for i in firsts if i is not None})
            uids: dict[int, str] = {}
            for start in range(0, len(found), 500):
                pairs = session.execute(
                    select(LeadRow.id, LeadRow.uid).where(
                        LeadRow.id.in_(found[start : start + 500])
                    )
                )
                uids.update({lead_id: uid for lead_id, uid in pairs})
        return [uids.get(i) if i is not None else None for i in firsts]

    def save(
        self,
        leads: Sequence[Lead],
        run_id: int | None,
        rules: Rules | None,
        pepper: bytes | None = None,
    ) -> SaveResult:
        """Upsert ``leads`` in one transaction; re-score the touched leads when ``rules``.

        Set-based: the whole batch is resolved in memory and written with a handful of
        statements (:mod:`leadcrawler.storage.batchwrite`), under the same identity rules.
        Refuses (:class:`LegalBasisMissing`, nothing written) a batch holding a lead
        without its legal basis, purpose and assessment reference. With ``pepper`` (the
        persist stage always gives it), a lead whose person is on the suppression list is
        skipped inside the transaction and counted in ``SaveResult.suppressed``.
        """
        from leadcrawler.storage.batchwrite import save_batch

        for lead in leads:
            require_legal_basis(lead)
        return save_batch(self, leads, run_id, rules, pepper)

    def _add_keys(self, session: Session, lead_id: int, keys: Sequence[str]) -> None:
        known = set(session.scalars(select(LeadKey.key).where(LeadKey.key.in_(list(keys)))))
        for key in dict.fromkeys(keys):
            if key not in known:  # a weak key held by another producer stays theirs
                session.add(LeadKey(lead_id=lead_id, key=key))
        session.flush()

    def _remember_value(
        self, session: Session, lead_id: int, field: str, ref: str, value: str, seen_at: datetime
    ) -> None:
        row = session.scalar(
            select(ValueHistory).where(
                ValueHistory.lead_id == lead_id,
                ValueHistory.field == field,
                ValueHistory.ref == ref,
                ValueHistory.value == value,
            )
        )
        if row is None:
            session.add(
                ValueHistory(
                    lead_id=lead_id,
                    field=field,
                    ref=ref,
                    value=value,
                    first_seen=seen_at,
                    last_seen=seen_at,
                    times_seen=1,
                )
            )
            session.flush()
            return
        row.first_seen = min(as_utc(row.first_seen), seen_at)
        row.last_seen = max(as_utc(row.last_seen), seen_at)
        row.times_seen += 1

    def _merge(self, session: Session, survivor_id: int, other_id: int) -> None:
        survivor = session.get_one(LeadRow, survivor_id)
        other = session.get_one(LeadRow, other_id)
        for name in LEAD_FIELDS:
            if getattr(survivor, name) is None:
                setattr(survivor, name, getattr(other, name))
        survivor.first_seen = min(as_utc(survivor.first_seen), as_utc(other.first_seen))
        survivor.last_seen = max(as_utc(survivor.last_seen), as_utc(other.last_seen))
        survivor.times_seen += other.times_seen
        survivor.enrichment = {**(other.enrichment or {}), **(survivor.enrichment or {})}
        self._merge_children(session, survivor_id, other_id)
        session.execute(delete(LeadRow).where(LeadRow.id == other_id))
        session.flush()

    def _merge_children(self, session: Session, survivor_id: int, other_id: int) -> None:
        """Move every contact, history value, key, offer and sighting of ``other_id``."""
        logger.info("Merging lead #%s into #%s: a sighting linked them", other_id, survivor_id)
        contacts = session.scalars(select(ContactRow).where(ContactRow.lead_id == other_id))
        for contact in contacts.all():
            twin = session.scalar(
                select(ContactRow).where(
                    ContactRow.lead_id == survivor_id,
                    ContactRow.kind == contact.kind,
                    ContactRow.value == contact.value,
                )
            )
            if twin is None:
                contact.lead_id = survivor_id
                continue
            twin.first_seen = min(as_utc(twin.first_seen), as_utc(contact.first_seen))
            twin.last_seen = max(as_utc(twin.last_seen), as_utc(contact.last_seen))
            twin.times_seen += contact.times_seen
            session.delete(contact)
        history = session.scalars(select(ValueHistory).where(ValueHistory.lead_id == other_id))
        for old in history.all():
            self._remember_value(
                session, survivor_id, old.field, old.ref, old.value, as_utc(old.first_seen)
            )
            kept = session.scalar(
                select(ValueHistory).where(
                    ValueHistory.lead_id == survivor_id,
                    ValueHistory.field == old.field,
                    ValueHistory.ref == old.ref,
                    ValueHistory.value == old.value,
                )
            )
            assert kept is not None
            kept.last_seen = max(as_utc(kept.last_seen), as_utc(old.last_seen))
            kept.times_seen += old.times_seen - 1
            session.delete(old)
        session.flush()
        for table in (LeadKey, OfferRow, SightingRow):
            session.execute(
                update(table).where(table.lead_id == other_id).values(lead_id=survivor_id)
            )
        session.flush()

    # --- re-linking -----------------------------------------------------------------

    def rebuild_links(
        self,
        rules: Rules | None,
        *,
        limits: RebuildLimits | None = None,
        dry_run: bool = False,
    ) -> RebuildResult:
        """Group the stored sightings again under the current rules: merge and split leads.

        One transaction: either the whole base is re-linked or nothing changes (with
        ``dry_run``, nothing does: the counts say what would). A lead keeps its id with
        the part holding its oldest sighting; several leads in one group merge into the
        oldest. Running it twice changes nothing the second time. See
        :mod:`leadcrawler.storage.rebuild`.
        """
        from leadcrawler.storage.rebuild import Rebuild

        result = RebuildResult(dry_run=dry_run)
        try:
            with self.writes.begin() as session:
                Rebuild(self, session, limits or RebuildLimits()).run(rules, result)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return result

    @staticmethod
    def _linked_offers(session: Session) -> set[int]:
        """Ids of the offers stored as a site's link (``linked:`` key), not as owned.

        The offers table does not say how an offer was found; the keys written with it
        do: a lead holding ``linked:<url>`` and not ``checkout:<url>`` got it from a site.
        """
        held: dict[int, set[str]] = {}
        for lead_id, key in session.execute(
            select(LeadKey.lead_id, LeadKey.key).where(
                or_(
                    LeadKey.key.startswith(LINKED_PREFIX, autoescape=True),
                    LeadKey.key.startswith(CHECKOUT_PREFIX, autoescape=True),
                )
            )
        ):
            held.setdefault(lead_id, set()).add(key)
        found: set[int] = set()
        for offer_id, lead_id, url in session.execute(
            select(OfferRow.id, OfferRow.lead_id, OfferRow.checkout_url)
        ):
            keys = held.get(lead_id, set())
            if LINKED_PREFIX + url in keys and CHECKOUT_PREFIX + url not in keys:
                found.add(offer_id)
        return found

    @staticmethod
    def _stored_keys(session: Session, row: LeadRow, linked: set[int]) -> list[str]:
        contacts = session.execute(
            select(ContactRow.kind, ContactRow.value, ContactRow.status).where(
                ContactRow.lead_id == row.id
            )
        )
        offers = session.execute(
            select(OfferRow.id, OfferRow.platform, OfferRow.checkout_url, OfferRow.seller_id)
            .where(OfferRow.lead_id == row.id)
            .order_by(OfferRow.id)
        ).all()
        return identity_keys(
            cnpj=row.cnpj,
            domain=row.domain,
            contacts=[(kind, value, status) for kind, value, status in contacts],
            offers=[
                (p, url, seller) for offer_id, p, url, seller in offers if offer_id not in linked
            ],
            linked=[url for offer_id, _p, url, _s in offers if offer_id in linked],
        )

    # --- scoring ---------------------------------------------------------------------

    def _rescore(self, session: Session, lead_id: int, rules: Rules) -> None:
        row = session.get(LeadRow, lead_id)
        if row is None:
            return
        contacts = [
            ContactView(c.kind, c.value, c.status, c.details)
            for c in session.scalars(select(ContactRow).where(ContactRow.lead_id == lead_id))
        ]
        offers = [
            OfferView(o.platform, o.price_brl)
            for o in session.scalars(select(OfferRow).where(OfferRow.lead_id == lead_id))
        ]
        view = LeadView(
            contacts, offers, domain=row.domain, cnpj=row.cnpj, last_seen=as_utc(row.last_seen)
        )
        result = score_lead(view, rules)
        row.score, row.tier, row.score_reasons = result.score, result.tier, result.reasons

    def rescore_all(self, rules: Rules, batch_size: int = 500) -> int:
        """Re-score every lead (after a rules change); returns how many were scored."""
        done = 0
        last_id = 0
        while True:
            with self.writes.begin() as session:
                ids = list(
                    session.scalars(
                        select(LeadRow.id)
                        .where(LeadRow.id > last_id)
                        .order_by(LeadRow.id)
                        .limit(batch_size)
                    )
                )
                if not ids:
                    return done
                for lead_id in ids:
                    self._rescore(session, lead_id, rules)
                done += len(ids)
                last_id = ids[-1]

    # --- enrichment retries ----------------------------------------------------------

    def site_retries(self, limit: int | None = None, batch_size: int = 500) -> list[SiteRetry]:
        """Leads whose website visit failed, oldest first (keyset pages: bounded memory)."""
        found: list[SiteRetry] = []
        last_id = 0
        while limit is None or len(found) < limit:
            with self.sessions() as session:
                rows = session.execute(
                    select(LeadRow.id, LeadRow.uid, LeadRow.website, LeadRow.enrichment)
                    .where(
                        LeadRow.id > last_id,
                        LeadRow.website.is_not(None),
                        LeadRow.suppressed_at.is_(None),  # opposed: never visited again
                    )
                    .order_by(LeadRow.id)
                    .limit(batch_size)
                ).all()
            if not rows:
                break
            last_id = rows[-1][0]
            for _id, uid, website, enrichment in rows:
                if str((enrichment or {}).get("site", "")).startswith("failed"):
                    found.append(SiteRetry(uid=uid, website=website))
        return found[:limit] if limit is not None else found

    def emails_needing_mx(self) -> dict[str, list[int]]:
        """E-mail domain -> ids of the contacts whose MX check could not be answered."""
        pending: dict[str, list[int]] = {}
        with self.sessions() as session:
            rows = session.execute(
                select(ContactRow.id, ContactRow.value, ContactRow.details)
                .join(LeadRow, LeadRow.id == ContactRow.lead_id)
                .where(
                    ContactRow.kind == ContactKind.EMAIL.value,
                    LeadRow.suppressed_at.is_(None),  # opposed: no DNS lookup for them
                )
            )
            for contact_id, value, details in rows:
                if (details or {}).get("mx_status") in RETRYABLE_MX and "@" in value:
                    pending.setdefault(value.rsplit("@", 1)[1], []).append(contact_id)
        return pending

    def record_mx(
        self, facts: dict[int, dict[str, Any]], retry: set[int], rules: Rules | None
    ) -> int:
        """Store new MX facts per contact id (``retry``: ids still unanswered).

        Updates each touched lead's ``enrichment["mx"]`` and score; returns how many
        leads were touched.
        """
        with self.writes.begin() as session:
            unanswered: dict[int, bool] = {}
            for contact_id, new in facts.items():
                contact = session.get(ContactRow, contact_id)
                if contact is None:
                    continue
                contact.details = {**(contact.details or {}), **new}
                lead_unanswered = unanswered.get(contact.lead_id, False)
                unanswered[contact.lead_id] = lead_unanswered or contact_id in retry
            for lead_id, still in unanswered.items():
                row = session.get_one(LeadRow, lead_id)
                status = "retry: dns" if still else "ok"
                row.enrichment = {**(row.enrichment or {}), "mx": status}
                if rules is not None:
                    self._rescore(session, lead_id, rules)
            return len(unanswered)

    # --- reads -----------------------------------------------------------------------

    def lead_detail(self, uid: str) -> dict[str, Any] | None:
        """One lead with every value's provenance: contacts, history and sightings."""
        with self.sessions() as session:
            row = session.scalar(
                # A lead whose person opposed (``leadcrawler suppress``) is never shown.
                select(LeadRow).where(LeadRow.uid == uid, LeadRow.suppressed_at.is_(None))
            )
            if row is None:
                return None
            lead = lead_provenance(session, row, first_sightings=1000)
        return {
            "lead_id": lead["lead_id"],
            "name": lead["display_name"] or lead["legal_name"],
            "legal_name": lead["legal_name"],
            "cnpj": lead["cnpj"],
            "website": lead["website"],
            "domain": lead["domain"],
            "score": lead["score"],
            "tier": lead["tier"],
            "score_reasons": lead["score_reasons"],
            "first_seen": lead["first_seen"],
            "last_seen": lead["last_seen"],
            "times_seen": lead["times_seen"],
            "enrichment": lead["enrichment"],
            "contacts": [
                {
                    "kind": c["kind"],
                    "value": c["value"],
                    "status": c["status"],
                    "certainty": c["certainty"],
                    "details": c["details"],
                    "source_url": c["source_url"],
                    "method": c["method"],
                    "first_seen": c["first_seen"],
                    "last_seen": c["last_seen"],
                    "times_seen": c["times_seen"],
                }
                for c in lead["contacts"]
            ],
            "offers": lead["offers"],
            "history": lead["history"],
            "sightings": lead["sightings"],
        }

    def count_leads(self, where: LeadFilter | None = None) -> int:
        """Leads that may be shown (a suppressed person's lead is not counted)."""
        query = _filtered(select(func.count()).select_from(LeadRow), where or LeadFilter())
        with self.sessions() as session:
            return session.scalar(query) or 0

    def iter_leads(
        self,
        where: LeadFilter | None = None,
        batch_size: int = 500,
        *,
        after: tuple[str, int, datetime, int] | None = None,
        limit: int | None = None,
    ) -> Iterator[StoredLead]:
        """Leads with their contacts, offers and source URLs, in priority order
        (tier, then score, then recency), optionally filtered.

        Streams plain rows (a server-side cursor on PostgreSQL) and fetches children per
        batch, so memory stays flat however large the base is.
        """
        leads, contacts_t, offers_t = LeadRow.__table__, ContactRow.__table__, OfferRow.__table__
        sightings_t = SightingRow.__table__
        query = _filtered(select(leads), where or LeadFilter())
        # Priority order (tier, score, recency, id) as plain keys, so a page can resume
        # after the last row it showed (keyset pagination): no tier sorts as "Z", no
        # score as -1, which is where NULLs land in the export's order.
        tier_key = func.coalesce(leads.c.tier, "Z")
        score_key = func.coalesce(leads.c.score, -1)
        if after is not None:
            tier, points, seen, last_id = after
            query = query.where(
                or_(
                    tier_key > tier,
                    and_(tier_key == tier, score_key < points),
                    and_(tier_key == tier, score_key == points, leads.c.last_seen < seen),
                    and_(
                        tier_key == tier,
                        score_key == points,
                        leads.c.last_seen == seen,
                        leads.c.id > last_id,
                    ),
                )
            )
        ordered = query.order_by(
            tier_key.asc(), score_key.desc(), leads.c.last_seen.desc(), leads.c.id
        )
        if limit is not None:
            ordered = ordered.limit(limit)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch_size).execute(ordered)
            for partition in result.mappings().partitions():
                ids = [lead["id"] for lead in partition]
                contacts: dict[int, list[Any]] = {}
                for c in conn.execute(
                    select(contacts_t)
                    .where(contacts_t.c.lead_id.in_(ids))
                    .order_by(contacts_t.c.id)
                ).mappings():
                    contacts.setdefault(c["lead_id"], []).append(c)
                offers: dict[int, list[Any]] = {}
                for o in conn.execute(
                    select(offers_t).where(offers_t.c.lead_id.in_(ids)).order_by(offers_t.c.id)
                ).mappings():
                    offers.setdefault(o["lead_id"], []).append(o)
                sources: dict[int, list[str]] = {}
                for lead_id, url in conn.execute(
                    select(sightings_t.c.lead_id, sightings_t.c.url)
                    .where(sightings_t.c.lead_id.in_(ids))
                    .group_by(sightings_t.c.lead_id, sightings_t.c.url)
                    .order_by(sightings_t.c.lead_id, func.min(sightings_t.c.seen_at))
                ):
                    sources.setdefault(lead_id, []).append(url)
                for lead in partition:
                    lead_id = lead["id"]
                    yield _lead_dict(
                        lead,
                        contacts.get(lead_id, []),
                        offers.get(lead_id, []),
                        sources.get(lead_id, []),
                    )


def _filtered(query: Any, where: LeadFilter) -> Any:
    leads = LeadRow.__table__
    # A lead whose person opposed (``leadcrawler suppress``) is never shown.
    query = query.where(leads.c.suppressed_at.is_(None))
    if where.tiers:
        query = query.where(leads.c.tier.in_(where.tiers))
    if where.min_score is not None:
        query = query.where(leads.c.score >= where.min_score)
    if where.since is not None:
        query = query.where(leads.c.last_seen >= where.since)
    if where.changed_since is not None:
        query = query.where(leads.c.updated_at >= where.changed_since)
    if where.platforms:
        offers = OfferRow.__table__
        query = query.where(
            leads.c.id.in_(select(offers.c.lead_id).where(offers.c.platform.in_(where.platforms)))
        )
    if where.sources:
        sightings = SightingRow.__table__
        query = query.where(
            leads.c.id.in_(select(sightings.c.lead_id).where(sightings.c.source.in_(where.sources)))
        )
    return query


def _lead_dict(lead: Any, contacts: list[Any], offers: list[Any], sources: list[str]) -> StoredLead:
    return {
        "id": lead["id"],
        "lead_id": lead["uid"],
        "name": lead["display_name"] or lead["legal_name"],
        "legal_name": lead["legal_name"],
        "cnpj": lead["cnpj"],
        "website": lead["website"],
        "domain": lead["domain"],
        "score": lead["score"],
        "tier": lead["tier"],
        "score_reasons": lead["score_reasons"],
        "legal_basis": lead["legal_basis"],
        "purpose": lead["purpose"],
        "lia_reference": lead["lia_reference"],
        "first_seen": as_utc(lead["first_seen"]),
        "last_seen": as_utc(lead["last_seen"]),
        "times_seen": lead["times_seen"],
        "source_urls": sources,
        "contacts": [
            {
                "kind": c["kind"],
                "value": c["value"],
                "status": c["status"],
                "certainty": c["certainty"],
                "source_url": c["source_url"],
                "first_seen": as_utc(c["first_seen"]),
                "last_seen": as_utc(c["last_seen"]),
                "details": c["details"],
            }
            for c in contacts
        ],
        "offers": [
            {
                "platform": o["platform"],
                "checkout_url": o["checkout_url"],
                "product_name": o["product_name"],
                "price_brl": o["price_brl"],
                "seller_id": o["seller_id"],
            }
            for o in offers
        ],
    }
