"""``leadcrawler dedupe --rebuild``: the leads again, from the sightings' keys and today's rules.

Every sighting written since migration 0008 has the keys it brought in ``sighting_keys``
(:mod:`leadcrawler.storage.sightingkeys`). The rebuild replays the sightings in the order
they were written, as the writer would under today's rules
(:func:`leadcrawler.domain.identity.sighting_keys`, :func:`~leadcrawler.domain.identity.lookups`,
:func:`~leadcrawler.domain.identity.names_agree`): strong keys link alone, a weak key only
when the names agree, a directory page's keys link nobody, and a key stays with the first
producer that brought it. The groups of sightings it finds are the leads:

- a lead stays with the group holding its oldest sighting; several leads in one group are
  merged into the oldest (as the writer merges);
- a part of a lead that falls into another group is split off: its sightings, and the
  contacts, offers and history values its keys and names claim, move to that group's
  lead, or to a new lead when the group has none.

Sightings stored before 0008 (other than a lead's only sighting, which the migration
backfilled) have no keys of their own: a lead's such sightings stay together, with the
keys its stored contacts, offers, CNPJ and domain give (:meth:`LeadStore._stored_keys`).
They can be merged with other leads, never split.

One transaction. On PostgreSQL it takes an ``ACCESS EXCLUSIVE`` lock on ``lead_keys``
and an ``EXCLUSIVE`` lock on ``leads`` first (writers wait for it, then read the keys it
wrote; readers of leads do not wait), on SQLite ``BEGIN IMMEDIATE``. Running it twice
changes nothing the second time: the groups depend on the sightings, not on the leads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from leadcrawler.domain.identity import (
    UID_PREFIX,
    identity_keys,
    lookups,
    names_agree,
    sighting_keys,
)
from leadcrawler.domain.items import utcnow
from leadcrawler.domain.scoring import Rules
from leadcrawler.domain.urls import own_domain
from leadcrawler.storage.models import (
    ContactRow,
    LeadKey,
    LeadRow,
    OfferRow,
    SightingKey,
    SightingRow,
    ValueHistory,
)

if TYPE_CHECKING:
    from leadcrawler.storage.repository import LeadStore, RebuildResult

REBUILD_ADVISORY_LOCK = 0x1EAD_DEDE  # held by `dedupe --rebuild` on PostgreSQL
NO_LIMIT = 1 << 30


@dataclass(frozen=True, slots=True)
class RebuildLimits:
    """Where a stored sighting is a directory (``ENRICH_SITE_MAX_CHECKOUT_LINKS``, ...)."""

    max_checkouts: int = 5
    max_contacts: int = 50


@dataclass(slots=True)
class _Unit:
    """Sightings that link as one: a sighting with its keys, or a lead's keyless ones."""

    order: tuple[int, int]
    lead_id: int
    sightings: list[int]
    keys: list[str]  # under the current rules
    raw: set[str]  # as recorded: what claims the lead's contacts and offers on a split
    display_name: str | None
    legal_name: str | None
    index: int = 0


@dataclass(slots=True)
class _Group:
    display_name: str | None
    legal_name: str | None
    units: list[int] = field(default_factory=list)


class Rebuild:
    def __init__(self, store: LeadStore, session: Session, limits: RebuildLimits) -> None:
        self.store = store
        self.session = session
        self.limits = limits
        self.parent: dict[int, int] = {}
        self.units: list[_Unit] = []
        self.groups: dict[int, _Group] = {}
        self.key_owner: dict[str, int] = {}
        self.lead_of_group: dict[int, int] = {}
        self.by_lead: dict[int, list[_Unit]] = {}

    # --- union-find over units ----------------------------------------------------------

    def find(self, index: int) -> int:
        root = index
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while index != root:
            self.parent[index], index = root, self.parent[index]
        return root

    # --- the whole run ------------------------------------------------------------------

    def run(self, rules: Rules | None, result: RebuildResult) -> None:
        session = self.session
        if self.store.engine.dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": REBUILD_ADVISORY_LOCK}
            )
            session.execute(text("LOCK TABLE lead_keys IN ACCESS EXCLUSIVE MODE"))
            session.execute(text("LOCK TABLE leads IN EXCLUSIVE MODE"))
        result.leads_before = session.scalar(select(func.count()).select_from(LeadRow)) or 0
        leads = {row.id: row for row in session.scalars(select(LeadRow).order_by(LeadRow.id))}
        derived = self._derived_keys(leads)
        session.execute(delete(LeadKey))
        self._build_units(leads, derived)
        self._replay()
        anchored = self._anchored(leads)
        for root in sorted(anchored):
            self.lead_of_group[root] = anchored[root][0]
        for lead_id in sorted(leads):
            result.split += self._split(leads[lead_id])
        touched = set(self.lead_of_group.values())
        for root in sorted(anchored):
            survivor = self.lead_of_group[root]
            for other in anchored[root][1:]:
                self.store._merge(session, survivor, other)
                result.merged += 1
        session.flush()
        self._write_keys()
        if rules is not None:
            for lead_id in sorted(touched):
                self.store._rescore(session, lead_id, rules)
        session.flush()
        result.leads_after = session.scalar(select(func.count()).select_from(LeadRow)) or 0
        result.keys = session.scalar(select(func.count()).select_from(LeadKey)) or 0

    # --- reading ------------------------------------------------------------------------

    def _derived_keys(self, leads: dict[int, LeadRow]) -> dict[int, list[str]]:
        """Each lead's keys from its stored values (what the rebuild used before 0008)."""
        session = self.session
        linked = self.store._linked_offers(session)  # read lead_keys before they go
        contacts: dict[int, list[tuple[str, str | None, str]]] = {}
        for lead_id, kind, value, status in session.execute(
            select(ContactRow.lead_id, ContactRow.kind, ContactRow.value, ContactRow.status)
        ):
            contacts.setdefault(lead_id, []).append((kind, value, status))
        offers: dict[int, list[tuple[int, str, str, str | None]]] = {}
        for offer_id, lead_id, platform, url, seller in session.execute(
            select(
                OfferRow.id, OfferRow.lead_id, OfferRow.platform, OfferRow.checkout_url,
                OfferRow.seller_id,
            ).order_by(OfferRow.id)
        ):  # fmt: skip
            offers.setdefault(lead_id, []).append((offer_id, platform, url, seller))
        return {
            lead_id: identity_keys(
                cnpj=row.cnpj,
                domain=row.domain,
                contacts=contacts.get(lead_id, []),
                offers=[(p, u, s) for i, p, u, s in offers.get(lead_id, []) if i not in linked],
                linked=[u for i, _p, u, _s in offers.get(lead_id, []) if i in linked],
            )
            for lead_id, row in leads.items()
        }

    def _build_units(self, leads: dict[int, LeadRow], derived: dict[int, list[str]]) -> None:
        session = self.session
        recorded: dict[int, list[tuple[str, str | None, str | None]]] = {}
        for sighting_id, key, display_name, legal_name in session.execute(
            select(
                SightingKey.sighting_id, SightingKey.key, SightingKey.display_name,
                SightingKey.legal_name,
            ).order_by(SightingKey.id)
        ):  # fmt: skip
            recorded.setdefault(sighting_id, []).append((key, display_name, legal_name))
        by_lead: dict[int, list[tuple[int, str]]] = {}
        for sighting_id, lead_id, source in session.execute(
            select(SightingRow.id, SightingRow.lead_id, SightingRow.source).order_by(SightingRow.id)
        ):
            by_lead.setdefault(lead_id, []).append((sighting_id, source))
        units: list[_Unit] = []
        no_limit = {"max_checkouts": NO_LIMIT, "max_contacts": NO_LIMIT}
        for lead_id, row in leads.items():
            seen = by_lead.get(lead_id, [])
            own: list[_Unit] = []
            legacy: list[int] = []
            for sighting_id, source in seen:
                rows = recorded.get(sighting_id)
                if rows is None:
                    legacy.append(sighting_id)
                    continue
                raw = [key for key, _d, _l in rows]
                own.append(
                    _Unit(
                        order=(0, sighting_id),
                        lead_id=lead_id,
                        sightings=[sighting_id],
                        keys=sighting_keys(
                            raw,
                            source=source,
                            max_checkouts=self.limits.max_checkouts,
                            max_contacts=self.limits.max_contacts,
                        ),
                        raw=set(raw),
                        display_name=next((d for _k, d, _l in rows if d), None),
                        legal_name=next((n for _k, _d, n in rows if n), None),
                    )
                )
            carried = {key for unit in own for key in unit.raw}
            leftover = [key for key in derived[lead_id] if key not in carried]
            if legacy or not seen:
                # Keys no sighting of its own says it brought: the lead's, kept together.
                keys = sighting_keys([*leftover, UID_PREFIX + row.uid], source="", **no_limit)
                units.append(
                    _Unit(
                        order=(0, legacy[0]) if legacy else (1, lead_id),
                        lead_id=lead_id,
                        sightings=legacy,
                        keys=keys,
                        raw=set(keys),
                        display_name=row.display_name,
                        legal_name=row.legal_name,
                    )
                )
            elif leftover:
                first = own[0]  # the part that keeps the lead keeps what no sighting claims
                first.keys = list(dict.fromkeys([*first.keys, *leftover]))
                first.raw.update(leftover)
            units += own
        units.sort(key=lambda unit: unit.order)
        for index, unit in enumerate(units):
            unit.index = index
            self.by_lead.setdefault(unit.lead_id, []).append(unit)
        self.units = units

    # --- grouping -----------------------------------------------------------------------

    def _replay(self) -> None:
        """Group the units in the order they were written, with the writer's rules."""
        similarity = self.store.name_similarity
        for unit in self.units:
            name = unit.display_name or unit.legal_name
            linked: set[int] = set()
            for own in unit.keys:
                if own.startswith(UID_PREFIX):
                    # The lead it was written to: only what has no name of its own follows it
                    # (a site visit retried by uid); names and keys decide for the rest.
                    owner = self.key_owner.get(own)
                    if name is None and owner is not None:
                        linked.add(self.find(owner))
                    continue
                for key, weak in lookups(own):
                    owner = self.key_owner.get(key)
                    if owner is None:
                        continue
                    root = self.find(owner)
                    group = self.groups[root]
                    if weak and not (
                        names_agree(name, group.display_name, similarity)
                        or names_agree(name, group.legal_name, similarity)
                    ):
                        continue
                    linked.add(root)
            self.groups[unit.index] = _Group(unit.display_name, unit.legal_name, [unit.index])
            survivor = min(linked | {unit.index})
            for other in sorted((linked | {unit.index}) - {survivor}):
                self._join(survivor, other)
            for key in unit.keys:
                self.key_owner.setdefault(key, unit.index)

    def _join(self, survivor: int, other: int) -> None:
        kept, gone = self.groups[survivor], self.groups.pop(other)
        kept.display_name = kept.display_name or gone.display_name
        kept.legal_name = kept.legal_name or gone.legal_name
        kept.units += gone.units
        self.parent[other] = survivor

    def _anchored(self, leads: dict[int, LeadRow]) -> dict[int, list[int]]:
        """Group -> the leads whose oldest sighting is in it, oldest lead first."""
        anchor: dict[int, int] = {}
        for unit in self.units:  # in order: the first unit of a lead holds its oldest sighting
            anchor.setdefault(unit.lead_id, unit.index)
        anchored: dict[int, list[int]] = {}
        for lead_id in sorted(leads):
            anchored.setdefault(self.find(anchor[lead_id]), []).append(lead_id)
        return anchored

    # --- splitting ----------------------------------------------------------------------

    def _split(self, row: LeadRow) -> int:
        """Move the parts of ``row`` that belong to other groups; how many parts moved."""
        mine = self.by_lead[row.id]
        home = self.find(mine[0].index)
        parts: dict[int, list[_Unit]] = {}
        for unit in mine:
            parts.setdefault(self.find(unit.index), []).append(unit)
        if len(parts) == 1:
            return 0
        session = self.session
        claims = _Claims(parts, self._urls)
        moved_offers: dict[str, int] = {}
        destinations: dict[int, int] = {}
        for root in sorted(parts):
            if root == home:
                continue
            destinations[root] = self._part_lead(row, parts[root])
        # Offers first: their history values (ref = checkout URL) follow them.
        for offer_id, url in session.execute(
            select(OfferRow.id, OfferRow.checkout_url).where(OfferRow.lead_id == row.id)
        ).all():
            root = claims.offer(url, home)
            if root != home:
                moved_offers[url] = root
                self._move(OfferRow, offer_id, destinations[root])
        for contact_id, kind, value, status, source_url in session.execute(
            select(
                ContactRow.id, ContactRow.kind, ContactRow.value, ContactRow.status,
                ContactRow.source_url,
            ).where(ContactRow.lead_id == row.id)
        ).all():  # fmt: skip
            root = claims.contact(kind, value, status, source_url, home)
            if root != home:
                self._move(ContactRow, contact_id, destinations[root])
        for history_id, field_, ref, value in session.execute(
            select(
                ValueHistory.id, ValueHistory.field, ValueHistory.ref, ValueHistory.value
            ).where(ValueHistory.lead_id == row.id)
        ).all():  # fmt: skip
            root = moved_offers.get(ref, home) if ref else claims.value(field_, value, home)
            if root != home:
                self._move(ValueHistory, history_id, destinations[root])
        for root, lead_id in destinations.items():
            sightings = [s for unit in parts[root] for s in unit.sightings]
            session.execute(
                update(SightingRow).where(SightingRow.id.in_(sightings)).values(lead_id=lead_id)
            )
            self._settle(session.get_one(LeadRow, lead_id), parts[root], claims)
        self._settle(row, parts[home], claims, kept=True)
        session.flush()
        for root, part_lead in destinations.items():
            target = self.lead_of_group.get(root)
            if target is None:
                self.lead_of_group[root] = part_lead  # a new lead
            else:
                self.store._merge(session, target, part_lead)  # joins the group's lead
        return len(destinations)

    def _urls(self, units: Iterable[_Unit]) -> set[str]:
        ids = [s for unit in units for s in unit.sightings]
        if not ids:
            return set()
        return set(self.session.scalars(select(SightingRow.url).where(SightingRow.id.in_(ids))))

    def _part_lead(self, row: LeadRow, units: list[_Unit]) -> int:
        """A new lead for a part split off ``row``: its fields are set by :meth:`_settle`."""
        now = utcnow()
        part = LeadRow(
            uid=str(uuid.uuid4()),
            display_name=None,
            legal_name=None,
            score_reasons={},
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            times_seen=0,
            updated_at=now,
            enrichment=dict(row.enrichment or {}),
            legal_basis=row.legal_basis,
            purpose=row.purpose,
            lia_reference=row.lia_reference,
            suppressed_at=row.suppressed_at,
        )
        self.session.add(part)
        self.session.flush()
        return part.id

    def _move(self, model: Any, row_id: int, lead_id: int) -> None:
        self.session.execute(update(model).where(model.id == row_id).values(lead_id=lead_id))

    def _settle(
        self, row: LeadRow, units: list[_Unit], claims: _Claims, *, kept: bool = False
    ) -> None:
        """Fields of a lead from what it now holds: its part's names, CNPJ, website, dates."""
        session = self.session
        session.flush()
        names = {n for unit in units for n in (unit.display_name, unit.legal_name) if n}
        for name_field in ("display_name", "legal_name"):
            current = getattr(row, name_field)
            if kept and (current is None or current in names or not claims.named(current)):
                continue  # the lead keeps a name its remaining part has (or nobody claims)
            first = next((getattr(u, name_field) for u in units if getattr(u, name_field)), None)
            setattr(row, name_field, first)
        values: dict[str, list[tuple[datetime, str]]] = {}
        for field_, value, last_seen in session.execute(
            select(ValueHistory.field, ValueHistory.value, ValueHistory.last_seen).where(
                ValueHistory.lead_id == row.id, ValueHistory.ref == ""
            )
        ):
            values.setdefault(field_, []).append((last_seen, value))
        for value_field in ("cnpj", "website"):
            current = getattr(row, value_field)
            if kept and (current is None or claims.value(value_field, current, -1) == -1):
                continue  # nobody else's: the lead keeps it
            held = values.get(value_field, [])
            if kept and current in {value for _seen, value in held}:
                continue
            newest = max(held, default=None)
            setattr(row, value_field, newest[1] if newest else None)
            if value_field == "website":
                row.domain = own_domain(row.website)
        seen = session.execute(
            select(
                func.min(SightingRow.seen_at), func.max(SightingRow.seen_at), func.count()
            ).where(SightingRow.lead_id == row.id)
        ).one()
        if seen[2]:
            row.first_seen, row.last_seen, row.times_seen = seen[0], seen[1], seen[2]
        row.updated_at = utcnow()

    # --- keys ---------------------------------------------------------------------------

    def _write_keys(self) -> None:
        rows = [
            {"lead_id": self.lead_of_group[self.find(owner)], "key": key}
            for key, owner in self.key_owner.items()
            if not key.startswith(UID_PREFIX)
        ]
        for start in range(0, len(rows), 1000):
            self.session.execute(insert(LeadKey), rows[start : start + 1000])


class _Claims:
    """Which part of a lead being split a contact, offer or value belongs to."""

    def __init__(
        self, parts: dict[int, list[_Unit]], urls: Callable[[Iterable[_Unit]], set[str]]
    ) -> None:
        self.parts = parts
        self._urls = urls
        self._seen_on: dict[int, set[str]] | None = None
        self.raw = {root: {k for u in units for k in u.raw} for root, units in parts.items()}
        self.names = {
            root: {n for u in units for n in (u.display_name, u.legal_name) if n}
            for root, units in parts.items()
        }

    def _pick(self, claimed: Sequence[int], home: int) -> int:
        if not claimed or home in claimed:
            return home
        return min(claimed)

    def offer(self, url: str, home: int) -> int:
        own = [root for root, keys in self.raw.items() if f"checkout:{url}" in keys]
        if own:
            return self._pick(own, home)
        linked = [root for root, keys in self.raw.items() if f"linked:{url}" in keys]
        return self._pick(linked, home)

    def contact(self, kind: str, value: str, status: str, source_url: str, home: int) -> int:
        keys = identity_keys(cnpj=None, domain=None, contacts=[(kind, value, status)], offers=[])
        if keys:
            return self._pick([root for root, raw in self.raw.items() if keys[0] in raw], home)
        # No key (an invalid value, a website): the part seen on the page it came from.
        if self._seen_on is None:
            self._seen_on = {root: self._urls(units) for root, units in self.parts.items()}
        return self._pick(
            [root for root, urls in self._seen_on.items() if source_url in urls], home
        )

    def value(self, field_: str, value: str, home: int) -> int:
        if field_ in ("display_name", "legal_name"):
            return self._pick([root for root, names in self.names.items() if value in names], home)
        if field_ == "cnpj":
            key = f"cnpj:{value}"
        elif field_ == "website":
            key = f"domain:{own_domain(value)}"
        else:
            return home
        return self._pick([root for root, raw in self.raw.items() if key in raw], home)

    def named(self, name: str) -> bool:
        return any(name in names for names in self.names.values())
