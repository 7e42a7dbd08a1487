"""The set-based write path: one batch of leads in a handful of statements.

``LeadStore.save`` hands a whole batch here. Instead of resolving and upserting every
lead with a few queries of its own, the batch is written in five steps:

1. lock: one statement takes the transaction-scoped advisory locks of every identity
   key of the batch, in one global order (PostgreSQL only, as before);
2. read: the stored keys of the batch (one ``IN`` query per 500 keys), the leads they
   and the batch's uids point at (``FOR UPDATE``, in id order), and those leads' contacts,
   history and the batch's offers;
3. resolve in memory: the leads are replayed in batch order against what was read,
   with exactly the rules of the one-by-one path (strong keys link alone, a weak key
   only when the names agree, several linked leads merge into the oldest, keys already
   held stay with their holder, stored fields are only filled when empty);
4. write: merges of stored leads first, then one multi-row ``INSERT`` per table for
   what is new (leads with ``RETURNING``, keys, contacts, offers, history, sightings)
   and one batched ``UPDATE`` per table for what changed;
5. score every touched lead once, from its contacts and offers read in two queries.

Identity semantics are those of :mod:`leadcrawler.identity`; the tests in
``tests/test_identity_resolution.py`` and ``tests/test_concurrency.py`` run against
this path on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from leadcrawler.domain.emails import email_key
from leadcrawler.domain.facts import ContactView, LeadView, OfferView, score_lead
from leadcrawler.domain.identity import lookups, names_agree
from leadcrawler.domain.items import ContactKind, Lead, utcnow
from leadcrawler.domain.scoring import Rules
from leadcrawler.privacy.keys import hashes, lead_suppression_keys
from leadcrawler.storage.models import (
    ContactRow,
    LeadKey,
    LeadRow,
    OfferRow,
    Run,
    Suppression,
    ValueHistory,
)
from leadcrawler.storage.sightingkeys import write_sightings

if TYPE_CHECKING:
    from leadcrawler.storage.repository import LeadStore, SaveResult

LEAD_FIELDS = ("display_name", "legal_name", "cnpj", "website", "domain")
HISTORY_FIELDS = ("display_name", "legal_name", "cnpj", "website")
CHUNK = 500  # bound parameters per IN list (SQLite allows 32 766)
NEW = 1 << 62  # ids of leads created by this batch start here: always "younger" than stored


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _utc(moment: datetime) -> datetime:
    from leadcrawler.storage.repository import as_utc

    return as_utc(moment)


@dataclass(slots=True)
class _Entity:
    """A lead as the batch sees it: a stored row (locked) or one this batch creates."""

    eid: int
    uid: str
    stored: bool
    display_name: str | None
    legal_name: str | None
    cnpj: str | None
    website: str | None
    domain: str | None
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    enrichment: dict[str, Any]
    legal_basis: str | None = None
    purpose: str | None = None
    lia_reference: str | None = None
    score: int | None = None
    tier: str | None = None
    score_reasons: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    def name(self, which: str) -> str | None:
        return self.display_name if which == "display_name" else self.legal_name


@dataclass(slots=True)
class _Contact:
    row_id: int | None
    eid: int
    kind: str
    value: str
    raw: str
    status: str
    certainty: str
    method: str
    source_url: str
    details: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    changed: bool = False


@dataclass(slots=True)
class _History:
    row_id: int | None
    eid: int
    field: str
    ref: str
    value: str
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    changed: bool = False


@dataclass(slots=True)
class _Offer:
    row_id: int | None
    eid: int
    platform: str
    checkout_url: str
    product_name: str | None
    price_brl: Any
    seller_id: str | None
    first_seen: datetime
    last_seen: datetime
    changed: bool = False


class BatchWriter:
    """Writes one batch inside ``session``'s transaction (see the module docstring)."""

    def __init__(self, store: LeadStore, session: Session, run_id: int | None) -> None:
        self.store = store
        self.session = session
        self.run_id = run_id
        self.postgres = store.engine.dialect.name == "postgresql"
        self.entities: dict[int, _Entity] = {}
        self.parent: dict[int, int] = {}
        self.key_owner: dict[str, int] = {}
        self.uid_owner: dict[str, int] = {}
        self.new_keys: list[tuple[str, int]] = []
        self.stored_merges: list[tuple[int, int]] = []
        self.next_new = NEW

    # --- union-find over entities -----------------------------------------------------

    def find(self, eid: int) -> int:
        root = eid
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while eid != root:  # path compression
            self.parent[eid], eid = root, self.parent[eid]
        return root

    # --- 1 and 2: lock and read -------------------------------------------------------

    def lock_keys(self, keys: Iterable[str]) -> None:
        # A key and every stored key it may link to (a checkout and a site's link to it):
        # two writers that could resolve to the same row, or write the same offer, meet
        # on one lock.
        unique = sorted({form for key in keys for form, _weak in lookups(key)})
        if not self.postgres or not unique:
            return
        # One statement, one global order (by the lock's own hash): no deadlock between
        # writers, whatever the batch. The subquery sorts; the outer ORDER BY makes
        # PostgreSQL call the volatile lock function after the sort.
        self.session.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM ("
                " SELECT DISTINCT hashtextextended(k, 0) AS h"
                " FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS s ORDER BY h"
            ),
            {"keys": unique},
        )

    def load(self, leads: Sequence[Lead]) -> None:
        keys = sorted(
            {stored for lead in leads for key in lead.identity_keys for stored, _ in lookups(key)}
        )
        uids = sorted({lead.lead_uid for lead in leads if lead.lead_uid})
        for _attempt in range(5):
            owners = {
                row["key"]: row["lead_id"] for row in self._where_in(LeadKey.__table__, "key", keys)
            }
            by_uid: dict[str, int] = {}
            for part in _chunks(uids):
                by_uid.update(
                    (uid, lead_id)
                    for uid, lead_id in self.session.execute(
                        select(LeadRow.uid, LeadRow.id).where(LeadRow.uid.in_(part))
                    )
                )
            wanted = sorted(set(owners.values()) | set(by_uid.values()))
            rows = []
            for part in _chunks(wanted):
                rows += list(
                    self.session.scalars(
                        select(LeadRow)
                        .where(LeadRow.id.in_(part))
                        .order_by(LeadRow.id)
                        .with_for_update()
                    )
                )
            if len(rows) == len(wanted):
                break
            # Another writer merged one of these leads between our reads: read again.
            self.session.expire_all()
        for row in rows:
            self.entities[row.id] = _Entity(
                eid=row.id,
                uid=row.uid,
                stored=True,
                display_name=row.display_name,
                legal_name=row.legal_name,
                cnpj=row.cnpj,
                website=row.website,
                domain=row.domain,
                first_seen=_utc(row.first_seen),
                last_seen=_utc(row.last_seen),
                times_seen=row.times_seen,
                enrichment=dict(row.enrichment or {}),
                legal_basis=row.legal_basis,
                purpose=row.purpose,
                lia_reference=row.lia_reference,
                score=row.score,
                tier=row.tier,
                score_reasons=dict(row.score_reasons or {}),
            )
        self.key_owner = {k: v for k, v in owners.items() if v in self.entities}
        self.uid_owner = {k: v for k, v in by_uid.items() if v in self.entities}

    # --- 3: resolve in memory -----------------------------------------------------------

    def resolve(self, leads: Sequence[Lead], result: SaveResult) -> list[int]:
        """The entity each lead was written to, replaying the one-by-one rules in order."""
        targets: list[int] = []
        similarity = self.store.name_similarity
        for lead in leads:
            name = lead.display_name or lead.legal_name
            ids: set[int] = set()
            for key, weak in (pair for own in lead.identity_keys for pair in lookups(own)):
                owner = self.key_owner.get(key)
                if owner is None:
                    continue
                eid = self.find(owner)
                holder = self.entities[eid]
                if weak and not (
                    names_agree(name, holder.display_name, similarity)
                    or names_agree(name, holder.legal_name, similarity)
                ):
                    continue  # a shared domain with another name: an agency
                ids.add(eid)
            if lead.lead_uid and lead.lead_uid in self.uid_owner:
                ids.add(self.find(self.uid_owner[lead.lead_uid]))
            seen_at = lead.sighting.seen_at
            if not ids:
                eid = self.next_new
                self.next_new += 1
                uid = lead.lead_uid or str(uuid.uuid4())
                self.entities[eid] = _Entity(
                    eid=eid,
                    uid=uid,
                    stored=False,
                    display_name=lead.display_name,
                    legal_name=lead.legal_name,
                    cnpj=lead.cnpj,
                    website=lead.website,
                    domain=lead.domain,
                    first_seen=seen_at,
                    last_seen=seen_at,
                    times_seen=1,
                    enrichment=dict(lead.enrichment),
                    legal_basis=lead.legal_basis,
                    purpose=lead.purpose,
                    lia_reference=lead.lia_reference,
                    score=lead.score,
                    tier=lead.tier,
                    score_reasons=dict(lead.score_reasons),
                )
                self.uid_owner[uid] = eid
                result.created += 1
            else:
                eid = min(ids)
                for other in sorted(ids - {eid}):
                    self._merge(eid, other)
                    result.merged += 1
                entity = self.entities[eid]
                for name_ in LEAD_FIELDS:
                    if getattr(entity, name_) is None and getattr(lead, name_) is not None:
                        setattr(entity, name_, getattr(lead, name_))
                entity.first_seen = min(entity.first_seen, seen_at)
                entity.last_seen = max(entity.last_seen, seen_at)
                entity.times_seen += 1
                if lead.enrichment:  # the newest outcome of each step wins
                    entity.enrichment = {**entity.enrichment, **lead.enrichment}
                # The assessment in force when it was last seen is the one that holds it now.
                entity.legal_basis = lead.legal_basis or entity.legal_basis
                entity.purpose = lead.purpose or entity.purpose
                entity.lia_reference = lead.lia_reference or entity.lia_reference
                entity.changed = True
                result.updated += 1
            for key in dict.fromkeys(lead.identity_keys):
                if key not in self.key_owner:  # a key held by another producer stays theirs
                    self.key_owner[key] = eid
                    self.new_keys.append((key, eid))
            targets.append(eid)
        return targets

    def _merge(self, survivor_id: int, other_id: int) -> None:
        survivor, other = self.entities[survivor_id], self.entities[other_id]
        for name in LEAD_FIELDS:
            if getattr(survivor, name) is None:
                setattr(survivor, name, getattr(other, name))
        survivor.first_seen = min(survivor.first_seen, other.first_seen)
        survivor.last_seen = max(survivor.last_seen, other.last_seen)
        survivor.times_seen += other.times_seen
        survivor.enrichment = {**other.enrichment, **survivor.enrichment}
        survivor.changed = True
        self.parent[other_id] = survivor_id
        self.uid_owner.pop(other.uid, None)  # the merged row is gone: its uid finds nothing
        if other.stored:
            self.stored_merges.append((survivor_id, other_id))

    # --- 4: write -----------------------------------------------------------------------

    def write(self, leads: Sequence[Lead], targets: list[int], rules: Rules | None) -> None:
        """Merge, collect every child row in memory, score, then write set-based."""
        session = self.session
        for survivor_id, other_id in self.stored_merges:
            self.store._merge_children(session, self.find(survivor_id), other_id)
            session.execute(delete(LeadRow).where(LeadRow.id == other_id))
        session.flush()
        session.expunge_all()  # from here on, plain statements only

        final = [self.find(eid) for eid in targets]
        survivors = [e for e in self.entities.values() if self.find(e.eid) == e.eid]
        stored_ids = sorted(e.eid for e in survivors if e.stored)
        contacts = self._read_contacts(stored_ids)
        history = self._read_history(stored_ids)
        urls = sorted({offer.checkout_url for lead in leads for offer in lead.offers})
        offers = self._read_offers(urls, stored_ids)
        self._collect(leads, final, contacts, history, offers)
        if rules is not None:
            self._score(set(final), contacts.values(), offers.values(), rules)

        real = self._write_leads(survivors)
        self._insert_rows(
            LeadKey,
            ["lead_id", "key"],
            [(real[self.find(eid)], key) for key, eid in self.new_keys],
        )
        self._flush_rows(
            ContactRow,
            contacts.values(),
            [
                "lead_id",
                "kind",
                "value",
                "raw",
                "status",
                "certainty",
                "method",
                "source_url",
                "details",
                "first_seen",
                "last_seen",
                "times_seen",
            ],
            lambda c: (
                real[c.eid],
                c.kind,
                c.value,
                c.raw,
                c.status,
                c.certainty,
                c.method,
                c.source_url,
                c.details,
                c.first_seen,
                c.last_seen,
                c.times_seen,
            ),
            lambda c: {
                "last_seen": c.last_seen,
                "first_seen": c.first_seen,
                "times_seen": c.times_seen,
                "status": c.status,
                "details": c.details,
            },
        )
        self._flush_rows(
            ValueHistory,
            history.values(),
            ["lead_id", "field", "ref", "value", "first_seen", "last_seen", "times_seen"],
            lambda h: (
                real[h.eid],
                h.field,
                h.ref,
                h.value,
                h.first_seen,
                h.last_seen,
                h.times_seen,
            ),
            lambda h: {
                "first_seen": h.first_seen,
                "last_seen": h.last_seen,
                "times_seen": h.times_seen,
            },
        )
        self._flush_rows(
            OfferRow,
            offers.values(),
            [
                "lead_id",
                "platform",
                "checkout_url",
                "product_name",
                "price_brl",
                "seller_id",
                "first_seen",
                "last_seen",
            ],
            lambda o: (
                real[o.eid],
                o.platform,
                o.checkout_url,
                o.product_name,
                o.price_brl,
                o.seller_id,
                o.first_seen,
                o.last_seen,
            ),
            lambda o: {
                "lead_id": real[o.eid],
                "product_name": o.product_name,
                "price_brl": o.price_brl,
                "seller_id": o.seller_id,
                "first_seen": o.first_seen,
                "last_seen": o.last_seen,
            },
        )
        write_sightings(  # the sightings and the keys each brought (sighting_keys)
            self,
            leads,
            final,
            [
                {
                    "lead_id": real[eid],
                    "run_id": self.run_id,
                    "source": lead.sighting.source,
                    "spider": lead.sighting.spider,
                    "url": lead.sighting.url,
                    "seen_at": lead.sighting.seen_at,
                }
                for lead, eid in zip(leads, final, strict=True)
            ],
        )

    def _collect(
        self,
        leads: Sequence[Lead],
        final: list[int],
        contacts: dict[tuple[int, str, str], _Contact],
        history: dict[tuple[int, str, str, str], _History],
        offers: dict[str, _Offer],
    ) -> None:
        """Apply every sighting's contacts, offers and values, in batch order."""

        def remember(eid: int, field_: str, ref: str, value: str, seen_at: datetime) -> None:
            slot = (eid, field_, ref, value)
            row = history.get(slot)
            if row is None:
                history[slot] = _History(None, eid, field_, ref, value, seen_at, seen_at, 1)
                return
            row.first_seen = min(row.first_seen, seen_at)
            row.last_seen = max(row.last_seen, seen_at)
            row.times_seen += 1
            row.changed = True

        for lead, eid in zip(leads, final, strict=True):
            seen_at = lead.sighting.seen_at
            for name in HISTORY_FIELDS:
                value = getattr(lead, name)
                if value is not None:
                    remember(eid, name, "", str(value), seen_at)
            for contact in lead.contacts:
                value = contact.normalized or contact.value
                if contact.kind == ContactKind.EMAIL and contact.normalized:
                    value = email_key(contact.normalized)  # one row per mailbox
                slot_c = (eid, contact.kind.value, value)
                found = contacts.get(slot_c)
                if found is None:
                    contacts[slot_c] = _Contact(
                        None,
                        eid,
                        contact.kind.value,
                        value,
                        contact.value,
                        contact.status.value,
                        contact.certainty.value,
                        contact.method,
                        contact.source_url,
                        dict(contact.details),
                        contact.found_at,
                        contact.found_at,
                        1,
                    )
                    continue
                found.last_seen = max(found.last_seen, contact.found_at)
                found.first_seen = min(found.first_seen, contact.found_at)
                found.times_seen += 1
                found.status = contact.status.value
                found.details = {**found.details, **contact.details}
                found.changed = True
            for offer in lead.offers:
                known = offers.get(offer.checkout_url)
                if offer.linked and known is not None and self.find(known.eid) != eid:
                    # A site links a checkout another lead sells: that producer's offer
                    # stays theirs (a recommendation is no claim to it).
                    continue
                if offer.product_name is not None:
                    remember(eid, "product_name", offer.checkout_url, offer.product_name, seen_at)
                if offer.price_brl is not None:
                    remember(eid, "price_brl", offer.checkout_url, str(offer.price_brl), seen_at)
                row = offers.get(offer.checkout_url)
                if row is None:
                    offers[offer.checkout_url] = _Offer(
                        None,
                        eid,
                        offer.platform,
                        offer.checkout_url,
                        offer.product_name,
                        offer.price_brl,
                        offer.seller_id,
                        seen_at,
                        seen_at,
                    )
                    continue
                row.changed = True
                row.eid = eid  # the checkout key linked this sighting to its owner
                newest = seen_at >= row.last_seen
                row.last_seen = max(row.last_seen, seen_at)
                row.first_seen = min(row.first_seen, seen_at)
                if not newest:
                    continue  # an older sighting replayed late: history has it
                if offer.product_name is not None:
                    row.product_name = offer.product_name
                if offer.price_brl is not None:
                    row.price_brl = offer.price_brl
                if offer.seller_id is not None:
                    row.seller_id = offer.seller_id

    def _score(
        self,
        touched: set[int],
        contacts: Iterable[_Contact],
        offers: Iterable[_Offer],
        rules: Rules,
    ) -> None:
        """Score each touched lead once, on everything known about it (stored and new)."""
        views: dict[int, list[ContactView]] = {}
        for c in contacts:
            if c.eid in touched:
                views.setdefault(c.eid, []).append(
                    ContactView(c.kind, c.value, c.status, c.details)
                )
        offered: dict[int, list[OfferView]] = {}
        for o in offers:
            if o.eid in touched:
                offered.setdefault(o.eid, []).append(OfferView(o.platform, o.price_brl))
        for eid in touched:
            entity = self.entities[eid]
            view = LeadView(
                views.get(eid, []),
                offered.get(eid, []),
                domain=entity.domain,
                cnpj=entity.cnpj,
                last_seen=entity.last_seen,
            )
            scored = score_lead(view, rules)
            entity.score, entity.tier = scored.score, scored.tier
            entity.score_reasons = dict(scored.reasons)
            entity.changed = True

    def _write_leads(self, survivors: list[_Entity]) -> dict[int, int]:
        """Insert the new leads, update the changed ones; entity id -> stored lead id."""
        real: dict[int, int] = {e.eid: e.eid for e in survivors if e.stored}
        now = utcnow()
        created = [e for e in survivors if not e.stored]
        if created:
            values = [
                {
                    "uid": e.uid,
                    "display_name": e.display_name,
                    "legal_name": e.legal_name,
                    "cnpj": e.cnpj,
                    "website": e.website,
                    "domain": e.domain,
                    "score": e.score,
                    "tier": e.tier,
                    "score_reasons": e.score_reasons,
                    "first_seen": e.first_seen,
                    "last_seen": e.last_seen,
                    "times_seen": e.times_seen,
                    "updated_at": now,
                    "enrichment": e.enrichment,
                    "legal_basis": e.legal_basis,
                    "purpose": e.purpose,
                    "lia_reference": e.lia_reference,
                }
                for e in created
            ]
            for entity, lead_id in zip(created, self._insert_leads(values), strict=True):
                real[entity.eid] = lead_id
        for eid in list(self.entities):
            root = self.find(eid)
            if root in real:
                real.setdefault(eid, real[root])
        changed = [e for e in survivors if e.stored and e.changed]
        if changed:
            self._update(
                LeadRow,
                [
                    {
                        "_id": e.eid,
                        "display_name": e.display_name,
                        "legal_name": e.legal_name,
                        "cnpj": e.cnpj,
                        "website": e.website,
                        "domain": e.domain,
                        "first_seen": e.first_seen,
                        "last_seen": e.last_seen,
                        "times_seen": e.times_seen,
                        "updated_at": now,
                        "enrichment": e.enrichment,
                        "legal_basis": e.legal_basis,
                        "purpose": e.purpose,
                        "lia_reference": e.lia_reference,
                        "score": e.score,
                        "tier": e.tier,
                        "score_reasons": e.score_reasons,
                    }
                    for e in changed
                ],
            )
        return real

    def _update(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """One UPDATE per row id, sent as ``UPDATE ... FROM (VALUES ...)`` on PostgreSQL."""
        table = model.__table__
        names = [name for name in rows[0] if name != "_id"]
        connection = self.session.connection()
        if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg2":
            from psycopg2.extras import execute_values

            casts = [table.c[n].type.compile(dialect=connection.dialect) for n in names]
            json_columns = {n for n in names if isinstance(table.c[n].type, JSON)}
            sets = ", ".join(f"{n} = v.{n}" for n in names)
            # Table and column names come from the models, never from data.
            sql = (
                f"UPDATE {table.name} AS t SET {sets} FROM (VALUES %s) "  # noqa: S608
                f"AS v(_id, {', '.join(names)}) WHERE t.id = v._id"
            )
            template = "(%s::INTEGER, " + ", ".join(f"%s::{cast}" for cast in casts) + ")"
            values = [
                (
                    row["_id"],
                    *(json_text(row[n]) if n in json_columns else row[n] for n in names),
                )
                for row in rows
            ]
            dbapi = connection.connection.dbapi_connection
            assert dbapi is not None
            cursor: Any = dbapi.cursor()
            try:
                execute_values(cursor, sql, values, template=template, page_size=1000)
            finally:
                cursor.close()
            return
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(f"v_{name}") for name in names})
        )
        params = [{"_id": row["_id"], **{f"v_{n}": row[n] for n in names}} for row in rows]
        connection.execute(statement, params)

    def _copyable(self) -> bool:
        connection = self.session.connection()
        return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg2"

    def _insert_leads(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert new leads in creation order; their ids, ascending (the oldest first)."""
        if not self._copyable():
            result = self.session.execute(
                insert(LeadRow).returning(LeadRow.id, sort_by_parameter_order=True), rows
            )
            return [lead_id for (lead_id,) in result]
        ids = sorted(
            self.session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('leads', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            )
        )
        self._insert(LeadRow, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """Multi-row INSERT of ``rows`` (dicts with the same keys): see :meth:`_insert_rows`."""
        if rows:
            names = list(rows[0])
            tuples = (
                list(map(itemgetter(*names), rows))
                if len(names) > 1
                else [(row[names[0]],) for row in rows]
            )
            self._insert_rows(model, names, tuples)

    def _insert_rows(self, model: Any, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Multi-row INSERT of ``rows`` (tuples of the ``names`` columns, at least two); on
        PostgreSQL, ``COPY ... FROM STDIN`` (CSV), the fastest way in."""
        if not rows:
            return
        table = model.__table__
        if not self._copyable():
            self.session.execute(
                insert(table), [dict(zip(names, row, strict=True)) for row in rows]
            )
            return
        lines = io.StringIO(copy_csv(table, names, rows))
        skip_checks = self._skip_fk_checks(table, names, rows)
        dbapi = self.session.connection().connection.dbapi_connection
        assert dbapi is not None
        cursor: Any = dbapi.cursor()
        statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
        try:
            if skip_checks:
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.copy_expert(statement, lines)
            if skip_checks:
                cursor.execute("SET LOCAL session_replication_role = origin")
        except dbapi_module().Error as exc:
            # Raw DBAPI errors bypass SQLAlchemy's wrapping: wrap them like SQLAlchemy would,
            # so persist's retry and spill (which catch SQLAlchemyError) see them too and no
            # lead of the batch is lost.
            raise DBAPIError.instance(
                statement, None, exc, dbapi_module().Error, dialect=self.store.engine.dialect
            ) from exc
        finally:
            cursor.close()

    def _skip_fk_checks(self, table: Any, names: list[str], rows: list[tuple[Any, ...]]) -> bool:
        """Whether this COPY may go without PostgreSQL's per-row foreign-key checks.

        Every row this writer COPYs points at a row the checks would find and lock: a lead
        or sighting this transaction inserted (no other transaction sees it, none can
        delete it), or a stored lead locked ``FOR UPDATE`` by :meth:`load` until commit
        (stronger than the check's ``FOR KEY SHARE``). The only other parent is the
        sightings' run: it is locked ``FOR KEY SHARE`` here, once per batch, as the check
        would lock it once per row; a missing run leaves the checks on (and their error).
        Each check is an SPI query per row: about 40 % of the server's CPU for a batch
        (~40 us a lead). Skipping them takes ``session_replication_role = replica`` for the
        COPY statement only (a superuser, or ``GRANT SET ON PARAMETER
        session_replication_role``, PostgreSQL 15+); without that privilege, or on a table
        with triggers of its own, the checks run.
        """
        if not table.foreign_keys:
            return False
        store = self.store
        if store.copy_skips_fk_checks is None:
            store.copy_skips_fk_checks = _may_skip_fk_checks(self.session)
        if not store.copy_skips_fk_checks:
            return False
        if table.name not in store.tables_with_own_triggers:
            # ``replica`` also silences every ordinary trigger: a table an operator gave a
            # trigger of their own (an audit, a CRM sync) keeps its checks and its triggers.
            store.tables_with_own_triggers[table.name] = bool(
                self.session.scalar(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM pg_trigger"
                        " WHERE tgrelid = CAST(:name AS regclass) AND NOT tgisinternal)"
                    ),
                    {"name": table.name},
                )
            )
        if store.tables_with_own_triggers[table.name]:
            return False
        run_ids = set()
        if "run_id" in names:
            at = names.index("run_id")
            run_ids = {row[at] for row in rows} - {None}
        for run_id in run_ids:
            locked = self.session.scalar(
                select(Run.id).where(Run.id == run_id).with_for_update(key_share=True)
            )
            if locked is None:
                return False
        return True

    def _flush_rows(
        self, model: Any, rows: Iterable[Any], names: list[str], new: Any, changed: Any
    ) -> None:
        """Insert the new ``rows`` (``new``: a tuple of the ``names`` columns), update the
        changed ones (``changed``: a dict of the columns that change)."""
        inserts, updates = [], []
        for row in rows:
            if row.row_id is None:
                inserts.append(new(row))
            elif row.changed:
                updates.append({"_id": row.row_id, **changed(row)})
        self._insert_rows(model, names, inserts)
        if updates:
            self._update(model, updates)

    def _where_in(
        self, table: Any, column: str, values: Sequence[Any], by_id: bool = False
    ) -> Iterator[Any]:
        """The rows of ``table`` whose ``column`` is one of ``values`` (in id order if ``by_id``).

        On PostgreSQL each value is an index probe of its own (a ``LATERAL`` subquery that
        ``OFFSET 0`` keeps the planner from turning into a join), whatever the table's
        statistics say. ``column IN (500 values)`` was planned from statistics, and a base
        that was never analysed (a fresh one during its first import, before autovacuum
        came by, or with autovacuum off) got a sequential scan of the whole table per
        chunk: growing with the table, ~40 % of the server's CPU over a 100,000-row import.
        """
        if not values:
            return
        if not self.postgres:
            for part in _chunks(values):
                statement = select(table).where(table.c[column].in_(part))
                if by_id:
                    statement = statement.order_by(table.c.id)
                yield from self.session.execute(statement).mappings()
            return
        array = "text[]" if isinstance(values[0], str) else "integer[]"
        # Table and column names come from the models, never from data.
        sql = (
            f"SELECT t.* FROM unnest(CAST(:values AS {array})) AS v(value) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT * FROM {table.name} WHERE {column} = v.value "
            "OFFSET 0) AS t"
        )
        if by_id:
            sql += " ORDER BY t.id"
        typed = text(sql).bindparams(values=list(values)).columns(*table.c)
        yield from self.session.execute(typed).mappings()

    def _read_contacts(self, lead_ids: Sequence[int]) -> dict[tuple[int, str, str], _Contact]:
        found: dict[tuple[int, str, str], _Contact] = {}
        for c in self._where_in(ContactRow.__table__, "lead_id", lead_ids, by_id=True):
            found[(c["lead_id"], c["kind"], c["value"])] = _Contact(
                c["id"],
                c["lead_id"],
                c["kind"],
                c["value"],
                c["raw"],
                c["status"],
                c["certainty"],
                c["method"],
                c["source_url"],
                dict(c["details"] or {}),
                _utc(c["first_seen"]),
                _utc(c["last_seen"]),
                c["times_seen"],
            )
        return found

    def _read_history(self, lead_ids: Sequence[int]) -> dict[tuple[int, str, str, str], _History]:
        found: dict[tuple[int, str, str, str], _History] = {}
        for h in self._where_in(ValueHistory.__table__, "lead_id", lead_ids, by_id=True):
            slot = (h["lead_id"], h["field"], h["ref"], h["value"])
            if slot in found:  # written twice by an older version: count on the first
                continue
            found[slot] = _History(
                h["id"],
                h["lead_id"],
                h["field"],
                h["ref"],
                h["value"],
                _utc(h["first_seen"]),
                _utc(h["last_seen"]),
                h["times_seen"],
            )
        return found

    def _read_offers(self, urls: Sequence[str], lead_ids: Sequence[int]) -> dict[str, _Offer]:
        """The batch's checkouts, and every offer of the stored leads (for scoring)."""
        found: dict[str, _Offer] = {}
        table = OfferRow.__table__
        for column, values in (("checkout_url", urls), ("lead_id", lead_ids)):
            for o in self._where_in(table, column, values):
                found[o["checkout_url"]] = _Offer(
                    o["id"],
                    o["lead_id"],
                    o["platform"],
                    o["checkout_url"],
                    o["product_name"],
                    o["price_brl"],
                    o["seller_id"],
                    _utc(o["first_seen"]),
                    _utc(o["last_seen"]),
                )
        return found


def save_batch(
    store: LeadStore,
    leads: Sequence[Lead],
    run_id: int | None,
    rules: Rules | None,
    pepper: bytes | None = None,
) -> SaveResult:
    """Upsert ``leads`` in one transaction (the set-based path behind ``LeadStore.save``).

    With ``pepper``, leads whose person is on the suppression list are left out inside
    the transaction (one query for the batch) and counted in ``SaveResult.suppressed``.
    """
    from leadcrawler.storage.repository import SaveResult

    result = SaveResult()
    if not leads:
        return result
    with store.writes.begin() as session:  # BEGIN IMMEDIATE on SQLite: see storage.db.writer
        writer = BatchWriter(store, session, run_id)
        writer.lock_keys(key for lead in leads for key in lead.identity_keys)
        if pepper is not None:
            kept = _not_suppressed(session, leads, pepper)
            result.suppressed += len(leads) - len(kept)
            leads = kept
            if not leads:
                return result
        writer.load(leads)
        targets = writer.resolve(leads, result)
        writer.write(leads, targets, rules)
    return result


def _not_suppressed(session: Session, leads: Sequence[Lead], pepper: bytes) -> list[Lead]:
    """The leads none of whose suppression keys is on the list (one lookup per chunk)."""
    if session.scalar(select(Suppression.key_hash).limit(1)) is None:
        return list(leads)  # an empty list: no key to compute (and no phone to parse)
    wanted = [hashes(pepper, lead_suppression_keys(lead)) for lead in leads]
    every = sorted({h for per_lead in wanted for h in per_lead})
    listed: set[str] = set()
    for part in _chunks(every):
        listed.update(
            session.scalars(select(Suppression.key_hash).where(Suppression.key_hash.in_(part)))
        )
    return [lead for lead, own in zip(leads, wanted, strict=True) if not listed & set(own)]


def copy_csv(table: Any, names: list[str], rows: Sequence[tuple[Any, ...]]) -> str:
    """``rows`` as ``COPY ... (FORMAT csv)`` text: every value quoted, NULL an empty cell.

    Column by column rather than cell by cell (a function call a cell cost ~2.6 us a row):
    each column is turned to text in one comprehension, checked for quotes in one pass
    and escaped only if it holds one; the rows are joined with ``","``, NULLs written as
    ``"\\0"`` and unquoted to empty cells in one replace (no text PostgreSQL accepts holds
    a NUL). The text is exactly :func:`copy_csv_by_cell`'s (tests/unit/test_copy_csv.py),
    which still writes a batch holding a NUL (for PostgreSQL to refuse, as before).
    """
    if len(names) < 2:
        return copy_csv_by_cell(table, names, rows)
    columns: list[list[str]] = []
    moments: dict[Any, str] = {None: NUL}  # a batch's rows share a few timestamps
    for name, values in zip(names, zip(*rows, strict=True), strict=True):
        kind = table.c[name].type
        if isinstance(kind, JSON):
            column = [NUL if v is None else json_text(v) for v in values]
        elif isinstance(kind, DateTime):
            for value in set(values) - moments.keys():
                moments[value] = value.isoformat() if isinstance(value, datetime) else str(value)
            column = list(map(moments.__getitem__, values))
        else:
            column = [v if v.__class__ is str else _cell_text(v) for v in values]
        every = "".join(column)
        if every.count(NUL) != values.count(None):  # a value holds a NUL of its own
            return copy_csv_by_cell(table, names, rows)
        if '"' in every:
            column = [v.replace('"', '""') for v in column]
        columns.append(column)
    text = '"' + '"\n"'.join(['","'.join(row) for row in zip(*columns, strict=True)]) + '"\n'
    return text.replace('"' + NUL + '"', "")


NUL = "\x00"


def _cell_text(value: Any) -> str:
    if value is None:
        return NUL
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def copy_csv_by_cell(table: Any, names: list[str], rows: Sequence[tuple[Any, ...]]) -> str:
    """:func:`copy_csv`, one cell at a time: the reference, and the way for odd batches."""
    json_columns = {n for n in names if isinstance(table.c[n].type, JSON)}
    moments: dict[datetime, str] = {}

    def cell(name: str, value: Any) -> str:
        if value is None:
            return ""  # unquoted empty: NULL
        if name in json_columns:
            text = json_text(value)
        elif isinstance(value, datetime):
            text = moments.get(value) or moments.setdefault(value, value.isoformat())
        else:
            text = str(value)
        return '"' + text.replace('"', '""') + '"'

    return "".join(
        ",".join([cell(name, value) for name, value in zip(names, row, strict=True)]) + "\n"
        for row in rows
    )


def _encoder() -> Any:
    """``json.dumps``'s own C encoder, made once instead of once a call (~1 us a value)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    defaults = json.JSONEncoder()
    return make(
        {},
        defaults.default,
        json.encoder.encode_basestring_ascii,
        None,
        defaults.key_separator,
        defaults.item_separator,
        False,
        False,
        True,
    )


_ENCODE = _encoder()


def json_text(value: Any) -> str:
    """``json.dumps(value)``, the same text, faster for the dicts the writer stores."""
    global _ENCODE
    if not value and value.__class__ is dict:
        return "{}"
    if _ENCODE is None or value.__class__ is not dict:
        return json.dumps(value)
    try:
        return "".join(_ENCODE(value, 0))
    except Exception:
        _ENCODE = _encoder()  # its circular-reference memo may hold this value: a fresh one
        return json.dumps(value)  # raises as json.dumps does


def _may_skip_fk_checks(session: Session) -> bool:
    """May this connection set ``session_replication_role`` (see ``_skip_fk_checks``)?"""
    connection = session.connection()
    if session.scalar(text("SELECT current_setting('session_replication_role')")) != "origin":
        return False  # someone else's choice: leave it alone
    if session.scalar(text("SELECT current_setting('is_superuser') = 'on'")):
        return True
    version = connection.dialect.server_version_info or (0,)
    if version < (15,):
        return False
    return bool(
        session.scalar(text("SELECT has_parameter_privilege('session_replication_role', 'SET')"))
    )


def dbapi_module() -> Any:
    """The PostgreSQL driver module (COPY is only used there)."""
    import psycopg2

    return psycopg2
