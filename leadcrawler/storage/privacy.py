"""The data subject's rights and the suppression list, on the historical base.

- :meth:`PrivacyStore.forget` (LGPD art. 18 VI): deletes a person's leads and every
  trace of them (contacts, offers, identity keys, sightings, value history, frontier
  entries naming them, enrichment state, run arguments naming them), adds all their
  identity keys to the suppression list, and scrubs the freed bytes from the database
  files (SQLite ``secure_delete`` + checkpoint; PostgreSQL ``VACUUM FULL``).
- :meth:`PrivacyStore.access` (art. 18 II): everything held, with provenance.
- :meth:`PrivacyStore.suppress` (art. 18 §2, opposition): keeps a person out of crawls,
  exports and the API without deleting anything else.
- :meth:`PrivacyStore.purge` (arts. 15-16): deletes leads not seen within the retention.
- :func:`record_audit`: the append-only audit log (ids and hashes, never personal data).
- :class:`SuppressionFilter`: the check exports and the API run on each lead they show.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from leadcrawler.domain.items import Lead, utcnow
from leadcrawler.privacy.config import PEPPER_ENV, PrivacyConfig, PrivacyConfigError
from leadcrawler.privacy.keys import (
    contact_keys,
    hashes,
    key_hash,
    key_kind,
    lead_suppression_keys,
    subject_keys,
    url_identities,
)
from leadcrawler.storage.models import (
    AuditEntry,
    ContactRow,
    FrontierUrl,
    LeadKey,
    LeadRow,
    OfferRow,
    Run,
    SightingKey,
    SightingRow,
    Suppression,
    ValueHistory,
)
from leadcrawler.storage.readmodel import as_utc, lead_provenance

logger = logging.getLogger(__name__)

# Tables whose rows hold a lead's personal data (rewritten on PostgreSQL after a forget).
PERSONAL_TABLES = (
    "leads", "contacts", "offers", "lead_keys", "sightings", "sighting_keys", "value_history",
)  # fmt: skip
SCRUBBED_TABLES = (*PERSONAL_TABLES, "frontier", "runs")


PEPPER_CHECK_KIND = "pepper"  # one row: HMAC(pepper, PEPPER_CHECK_KEY), to detect a changed pepper
PEPPER_CHECK_KEY = "leadcrawler:pepper-check"


SCRUB_WAIT = 60.0  # seconds forget/purge wait for older transactions before VACUUM FULL


def _wait_for_horizon(conn: Any, xid: int, wait: float) -> bool:
    """True once no transaction that started before ``xid`` committed is still running."""
    deadline = time.monotonic() + wait
    while True:
        oldest = conn.execute(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")).scalar()
        if oldest is not None and int(oldest) > xid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


class PepperMismatch(PrivacyConfigError):
    """The pepper in the environment is not the one the suppression list was built with."""


class UnknownValue(ValueError):
    """The value given names nobody we can recognise (not an e-mail, phone, URL...)."""


def record_audit(
    engine_or_session: Engine | Session,
    action: str,
    *,
    lead_uids: Sequence[str] = (),
    subject_hashes: Sequence[str] = (),
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log. ``details`` must hold ids, counts and hashes only.

    The export (``action="export"``: filters, row count, file SHA-256) and the API
    (``action="api_read"``: the lead uids returned) call this; so do the subject commands.
    """
    entry = AuditEntry(
        at=utcnow(),
        action=action,
        lead_uids=list(lead_uids),
        subject_hashes=list(subject_hashes),
        details=dict(details or {}),
    )
    if isinstance(engine_or_session, Session):
        engine_or_session.add(entry)
        engine_or_session.flush()
        return
    with sessionmaker(engine_or_session).begin() as session:
        session.add(entry)


@dataclass(slots=True)
class SubjectResult:
    keys: list[str]  # the identity keys the value gave (clear: never stored or logged)
    lead_uids: list[str] = field(default_factory=list)
    suppressed: bool = False  # on the suppression list (before or after this action)
    newly_suppressed: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    report: list[dict[str, Any]] = field(default_factory=list)  # access: what is held
    scrubbed: bool = False  # forget: the freed bytes were removed from the database files


@dataclass(slots=True)
class PurgeResult:
    cutoff: datetime
    lead_uids: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)


class PrivacyStore:
    def __init__(self, engine: Engine, config: PrivacyConfig) -> None:
        self.engine = engine
        self.config = config
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    # --- the suppression list --------------------------------------------------------

    def suppressed_hashes(self) -> set[str]:
        with self.sessions() as session:
            self.check_pepper(session)
            return set(
                session.scalars(
                    select(Suppression.key_hash).where(Suppression.kind != PEPPER_CHECK_KIND)
                )
            )

    def check_pepper(self, session: Session) -> None:
        """Refuse to work with a pepper other than the one the list was built with: every
        hash would silently miss, and forgotten people would come back."""
        stored = session.scalar(
            select(Suppression.key_hash).where(Suppression.kind == PEPPER_CHECK_KIND)
        )
        if stored is not None and stored != key_hash(self.config.pepper, PEPPER_CHECK_KEY):
            raise PepperMismatch(
                f"{PEPPER_ENV} is not the pepper this base's suppression list was built with: "
                "set the original one (a changed pepper would let suppressed people back in)"
            )

    def any_suppressed(self, session: Session, keys: Iterable[str]) -> bool:
        wanted = hashes(self.config.pepper, keys)
        if not wanted:
            return False
        found = session.scalar(
            select(func.count()).select_from(Suppression).where(Suppression.key_hash.in_(wanted))
        )
        return bool(found)

    def _add_suppression(self, session: Session, keys: Iterable[str], reason: str) -> int:
        self.check_pepper(session)
        check = select(Suppression.id).where(Suppression.kind == PEPPER_CHECK_KIND)
        if session.scalar(check) is None:
            session.add(
                Suppression(
                    key_hash=key_hash(self.config.pepper, PEPPER_CHECK_KEY),
                    kind=PEPPER_CHECK_KIND,
                    reason="pepper",
                    created_at=utcnow(),
                )
            )
        keys = list(dict.fromkeys(keys))
        by_hash = {key_hash(self.config.pepper, k): key_kind(k) for k in keys}
        known = set(
            session.scalars(
                select(Suppression.key_hash).where(Suppression.key_hash.in_(list(by_hash)))
            )
        )
        now = utcnow()
        for digest, kind in by_hash.items():
            if digest not in known:
                session.add(Suppression(key_hash=digest, kind=kind, reason=reason, created_at=now))
        session.flush()
        return len(set(by_hash) - known)

    # --- finding a person ------------------------------------------------------------

    def _keys_of(self, value: str) -> list[str]:
        keys = subject_keys(value)
        if not keys:
            raise UnknownValue(
                "not an e-mail, phone, CNPJ, profile/checkout/site URL or seller:<platform>:<id>"
            )
        return keys

    def _lead_ids(self, session: Session, keys: Sequence[str]) -> set[int]:
        """Stored leads a person's keys name: by identity key, or by any stored value."""
        ids = set(session.scalars(select(LeadKey.lead_id).where(LeadKey.key.in_(list(keys)))))
        for key in keys:
            kind, _, rest = key.partition(":")
            if kind == "email":
                ids.update(
                    session.scalars(
                        select(ContactRow.lead_id).where(
                            ContactRow.kind == "email", func.lower(ContactRow.value) == rest
                        )
                    )
                )
            elif kind == "phone":
                ids.update(
                    session.scalars(
                        select(ContactRow.lead_id).where(
                            ContactRow.kind.in_(("phone", "whatsapp")), ContactRow.value == rest
                        )
                    )
                )
            elif kind == "social":
                # A profile stored under another spelling (with www., a trailing slash...).
                rows = session.execute(
                    select(ContactRow.lead_id, ContactRow.value).where(ContactRow.kind == "social")
                )
                ids.update(lid for lid, v in rows if key in contact_keys("social", v))
            elif kind == "checkout":
                ids.update(
                    session.scalars(select(OfferRow.lead_id).where(OfferRow.checkout_url == rest))
                )
            elif kind == "seller":
                platform, _, seller = rest.partition(":")
                ids.update(
                    session.scalars(
                        select(OfferRow.lead_id).where(
                            OfferRow.platform == platform, OfferRow.seller_id == seller
                        )
                    )
                )
            elif kind == "cnpj":
                ids.update(session.scalars(select(LeadRow.id).where(LeadRow.cnpj == rest)))
            elif kind == "domain":
                ids.update(session.scalars(select(LeadRow.id).where(LeadRow.domain == rest)))
        return ids

    @staticmethod
    def _all_keys(session: Session, lead_id: int) -> list[str]:
        """Every key that names this lead, whatever its status: stored keys, contacts,
        offers, CNPJ, own domain, sighting URLs that are checkouts."""
        keys = list(session.scalars(select(LeadKey.key).where(LeadKey.lead_id == lead_id)))
        row = session.get_one(LeadRow, lead_id)
        if row.cnpj:
            keys.append(f"cnpj:{row.cnpj}")
        if row.domain:
            keys.append(f"domain:{row.domain}")
        for kind, value, raw in session.execute(
            select(ContactRow.kind, ContactRow.value, ContactRow.raw).where(
                ContactRow.lead_id == lead_id
            )
        ):
            keys += contact_keys(kind, value) + contact_keys(kind, raw)
        for platform, url, seller in session.execute(
            select(OfferRow.platform, OfferRow.checkout_url, OfferRow.seller_id).where(
                OfferRow.lead_id == lead_id
            )
        ):
            keys.append(f"checkout:{url}")
            if seller:
                keys.append(f"seller:{platform}:{seller}")
        for (url,) in session.execute(
            select(SightingRow.url).where(SightingRow.lead_id == lead_id).distinct()
        ):
            keys += [k for k in url_identities(url) if k.startswith("checkout:")]
        return list(dict.fromkeys(keys))

    # --- deletion --------------------------------------------------------------------

    def _delete_leads(self, session: Session, lead_ids: set[int]) -> dict[str, int]:
        """Delete the leads and every row that hangs off them or names them."""
        if not lead_ids:
            return {}
        ids = sorted(lead_ids)
        urls: set[str] = set()
        values: set[str] = set()
        for (url,) in session.execute(
            select(OfferRow.checkout_url).where(OfferRow.lead_id.in_(ids))
        ):
            urls.add(url)
        for (url,) in session.execute(select(SightingRow.url).where(SightingRow.lead_id.in_(ids))):
            urls.add(url)
        for value, raw in session.execute(
            select(ContactRow.value, ContactRow.raw).where(ContactRow.lead_id.in_(ids))
        ):
            values.update({value, raw})
        websites = [w for w in session.scalars(select(LeadRow.website).where(LeadRow.id.in_(ids)))]
        urls.update(w for w in websites if w)

        counts: dict[str, int] = {}
        # Frontier entries that name them: their pages, and short links to the same checkout.
        checkout_keys = {k for u in urls for k in url_identities(u) if k.startswith("checkout:")}
        frontier_ids = [
            fid
            for fid, url in session.execute(select(FrontierUrl.id, FrontierUrl.url))
            if url in urls or any(k in checkout_keys for k in url_identities(url))
        ]
        if frontier_ids:
            session.execute(delete(FrontierUrl).where(FrontierUrl.id.in_(frontier_ids)))
        counts["frontier"] = len(frontier_ids)
        # Runs started with their URLs as arguments (-a urls=...): arguments scrubbed.
        needles = {u for u in urls if u} | {v for v in values if v}
        runs = 0
        for run_id, arguments in session.execute(select(Run.id, Run.arguments)):
            blob = str(arguments or {})
            if any(needle in blob for needle in needles):
                session.execute(
                    update(Run).where(Run.id == run_id).values(arguments={"redacted": "privacy"})
                )
                runs += 1
        counts["runs_redacted"] = runs
        # The keys their sightings brought (e-mails, phones, names): before the sightings.
        result = session.execute(
            delete(SightingKey).where(
                SightingKey.sighting_id.in_(
                    select(SightingRow.id).where(SightingRow.lead_id.in_(ids))
                )
            )
        )
        counts["sighting_keys"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        for name, table in (
            ("contacts", ContactRow),
            ("offers", OfferRow),
            ("lead_keys", LeadKey),
            ("sightings", SightingRow),
            ("value_history", ValueHistory),
        ):
            result = session.execute(delete(table).where(table.lead_id.in_(ids)))
            counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = session.execute(delete(LeadRow).where(LeadRow.id.in_(ids)))
        counts["leads"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        return counts

    def scrub_files(self, deleted_by_xid: int | None = None, wait: float | None = None) -> bool:
        """Make deleted bytes unrecoverable from the database files; True when done.

        SQLite: ``secure_delete`` (on for every connection, see :mod:`.db`) zeroes freed
        content; VACUUM rebuilds the file so no page written before secure_delete was on
        keeps old bytes, and a TRUNCATE checkpoint empties the WAL.

        PostgreSQL: ``VACUUM FULL`` rewrites the tables into new files, but it must keep
        row versions that a transaction still open anywhere on the server might see. So
        it first waits (up to ``wait`` seconds) until every transaction older than the
        deleting one (``deleted_by_xid``) has ended; then rewrites the tables, re-analyses
        them and rewrites ``pg_statistic`` (whose sampled values may hold the deleted
        ones). Returns False, changing nothing, if an old transaction is still open:
        run the command again later. Old WAL segments and backups age out under the
        server's own retention.
        """
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("VACUUM"))
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return True
        if self.engine.dialect.name != "postgresql":
            return False
        wait = SCRUB_WAIT if wait is None else wait
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if deleted_by_xid is not None and not _wait_for_horizon(conn, deleted_by_xid, wait):
                logger.warning(
                    "A transaction older than the deletion is still open on the server: the "
                    "rows are deleted, their bytes stay in the files until the command is run "
                    "again"
                )
                return False
            for table in SCRUBBED_TABLES:
                conn.execute(text(f"VACUUM FULL {table}"))
            for table in SCRUBBED_TABLES:
                conn.execute(text(f"ANALYZE {table}"))
            conn.execute(text("VACUUM FULL pg_catalog.pg_statistic"))
        return True

    # --- the rights ------------------------------------------------------------------

    def forget(
        self, value: str, *, scrub: bool = True, spill_dir: Path | None = None
    ) -> SubjectResult:
        """Erase the person ``value`` names; ``spill_dir``: the persist stage's spill files
        (``PERSIST_SPILL_DIR``), whose lines naming them are removed too."""
        keys = self._keys_of(value)
        with self.sessions.begin() as session:
            xid = self._xid(session)
            ids = self._lead_ids(session, keys)
            all_keys = list(keys)
            uids = []
            for lead_id in sorted(ids):
                all_keys += self._all_keys(session, lead_id)
                uids.append(session.get_one(LeadRow, lead_id).uid)
            new = self._add_suppression(session, all_keys, "forget")
            deleted = self._delete_leads(session, ids)
            if spill_dir is not None:
                deleted["spill_lines"] = scrub_spill(spill_dir, set(all_keys))
            record_audit(
                session,
                "forget",
                lead_uids=uids,
                subject_hashes=hashes(self.config.pepper, keys),
                details={"keys_suppressed": new, "deleted": deleted},
            )
        # Always scrub, even when nothing was found now: a forget re-run after an earlier
        # scrub could not finish (an old transaction was open) completes it.
        scrubbed = self.scrub_files(xid) if scrub else False
        return SubjectResult(
            keys=keys,
            lead_uids=uids,
            suppressed=True,
            newly_suppressed=new,
            deleted=deleted,
            scrubbed=scrubbed,
        )

    def _xid(self, session: Session) -> int | None:
        if self.engine.dialect.name != "postgresql":
            return None
        return int(session.scalar(text("SELECT txid_current()")) or 0)

    def suppress(self, value: str) -> SubjectResult:
        """Opposition without deletion: the person's keys go on the list; rows stay."""
        keys = self._keys_of(value)
        with self.sessions.begin() as session:
            ids = self._lead_ids(session, keys)
            all_keys = list(keys)
            uids = []
            for lead_id in sorted(ids):
                all_keys += self._all_keys(session, lead_id)
                uids.append(session.get_one(LeadRow, lead_id).uid)
            new = self._add_suppression(session, all_keys, "suppress")
            if ids:
                session.execute(
                    update(LeadRow)
                    .where(LeadRow.id.in_(sorted(ids)), LeadRow.suppressed_at.is_(None))
                    .values(suppressed_at=utcnow())
                )
            record_audit(
                session,
                "suppress",
                lead_uids=uids,
                subject_hashes=hashes(self.config.pepper, keys),
                details={"keys_suppressed": new},
            )
        return SubjectResult(keys=keys, lead_uids=uids, suppressed=True, newly_suppressed=new)

    def access(self, value: str) -> SubjectResult:
        keys = self._keys_of(value)
        with self.sessions.begin() as session:
            self.check_pepper(session)
            ids = self._lead_ids(session, keys)
            report = [self._lead_report(session, lead_id) for lead_id in sorted(ids)]
            suppressed = self.any_suppressed(session, keys)
            uids = [r["lead_id"] for r in report]
            record_audit(
                session,
                "access",
                lead_uids=uids,
                subject_hashes=hashes(self.config.pepper, keys),
                details={"leads": len(uids), "suppressed": suppressed},
            )
        return SubjectResult(keys=keys, lead_uids=uids, suppressed=suppressed, report=report)

    def purge(self, now: datetime | None = None, *, dry_run: bool = False) -> PurgeResult:
        """Delete leads not seen within ``PRIVACY_RETENTION_DAYS`` of ``now``."""
        now = now or utcnow()
        cutoff = now - timedelta(days=self.config.retention_days)
        with self.sessions.begin() as session:
            xid = self._xid(session)
            rows = session.execute(
                select(LeadRow.id, LeadRow.uid).where(LeadRow.last_seen < cutoff)
            ).all()
            result = PurgeResult(cutoff=cutoff, lead_uids=[uid for _id, uid in rows])
            if not dry_run:
                result.deleted = self._delete_leads(session, {lead_id for lead_id, _ in rows})
            record_audit(
                session,
                "purge",
                lead_uids=result.lead_uids,
                details={
                    "dry_run": dry_run,
                    "cutoff": cutoff.isoformat(),
                    "retention_days": self.config.retention_days,
                    "deleted": result.deleted,
                },
            )
        if not dry_run and rows:
            self.scrub_files(xid)
        return result

    def _lead_report(self, session: Session, lead_id: int) -> dict[str, Any]:
        lead = lead_provenance(session, session.get_one(LeadRow, lead_id))
        return {
            "lead_id": lead["lead_id"],
            "legal_basis": lead["legal_basis"],
            "purpose": lead["purpose"],
            "lia_reference": lead["lia_reference"],
            "display_name": lead["display_name"],
            "legal_name": lead["legal_name"],
            "cnpj": lead["cnpj"],
            "website": lead["website"],
            "domain": lead["domain"],
            "score": lead["score"],
            "tier": lead["tier"],
            "score_reasons": lead["score_reasons"],
            "first_seen": _iso(lead["first_seen"]),
            "last_seen": _iso(lead["last_seen"]),
            "times_seen": lead["times_seen"],
            "retention_until": _iso(lead["last_seen"] + timedelta(days=self.config.retention_days)),
            "contacts": [
                {
                    "kind": c["kind"],
                    "value": c["value"],
                    "as_found": c["raw"],
                    "status": c["status"],
                    "source_url": c["source_url"],
                    "method": c["method"],
                    "first_seen": _iso(c["first_seen"]),
                    "last_seen": _iso(c["last_seen"]),
                    "times_seen": c["times_seen"],
                    "details": c["details"],
                }
                for c in lead["contacts"]
            ],
            "offers": [
                {
                    "platform": o["platform"],
                    "checkout_url": o["checkout_url"],
                    "product_name": o["product_name"],
                    "price_brl": str(o["price_brl"]) if o["price_brl"] is not None else None,
                    "seller_id": o["seller_id"],
                    "first_seen": _iso(o["first_seen"]),
                    "last_seen": _iso(o["last_seen"]),
                }
                for o in lead["offers"]
            ],
            "sightings": [
                {
                    "source": s["source"],
                    "spider": s["spider"],
                    "url": s["url"],
                    "seen_at": _iso(s["seen_at"]),
                }
                for s in lead["sightings"]
            ],
            "value_history": [
                {
                    "field": h["field"],
                    "ref": h["ref"],
                    "value": h["value"],
                    "first_seen": _iso(h["first_seen"]),
                    "last_seen": _iso(h["last_seen"]),
                }
                for h in lead["history"]
            ],
            "enrichment": lead["enrichment"],
        }


def spilled_keys(lead: dict[str, Any]) -> list[str]:
    """Keys of a lead as the persist stage spills it (``dataclasses.asdict`` of a Lead)."""
    keys = [str(k) for k in lead.get("identity_keys") or []]
    if lead.get("cnpj"):
        keys.append(f"cnpj:{lead['cnpj']}")
    if lead.get("domain"):
        keys.append(f"domain:{lead['domain']}")
    for contact in lead.get("contacts") or []:
        kind, raw = str(contact.get("kind")), str(contact.get("value") or "")
        keys += contact_keys(kind, str(contact.get("normalized") or raw)) + contact_keys(kind, raw)
    for offer in lead.get("offers") or []:
        keys.append(f"checkout:{offer.get('checkout_url')}")
        if offer.get("seller_id"):
            keys.append(f"seller:{offer.get('platform')}:{offer['seller_id']}")
    return keys


def scrub_spill(spill_dir: Path, keys: set[str]) -> int:
    """Remove from the spill files every lead that ``keys`` name; returns lines removed."""
    removed = 0
    if not spill_dir.is_dir():
        return 0
    for path in sorted(spill_dir.glob("*.jsonl")):
        kept: list[str] = []
        dropped = 0
        for line in path.read_text("utf-8").splitlines(keepends=True):
            try:
                lead = json.loads(line)
            except ValueError:
                kept.append(line)  # not ours to judge; left for the operator
                continue
            if isinstance(lead, dict) and keys & set(spilled_keys(lead)):
                dropped += 1
            else:
                kept.append(line)
        if dropped:
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text("".join(kept), encoding="utf-8")
            os.replace(partial, path)
            removed += dropped
    return removed


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


RowT = TypeVar("RowT", bound=Mapping[str, object])


class SuppressionFilter:
    """The check exports and the API run on every lead they are about to show.

    Loads the list once (hashes only); :meth:`allows` takes a lead as
    :meth:`LeadStore.iter_leads` yields it, or a :class:`~leadcrawler.domain.items.Lead`.
    """

    def __init__(self, engine: Engine, config: PrivacyConfig) -> None:
        self.config = config
        self.hashes = PrivacyStore(engine, config).suppressed_hashes()
        self.refused = 0

    def allows(self, lead: Mapping[str, object] | Lead) -> bool:
        if not self.hashes:
            return True
        keys = lead_suppression_keys(lead) if isinstance(lead, Lead) else stored_lead_keys(lead)
        if any(key_hash(self.config.pepper, k) in self.hashes for k in keys):
            self.refused += 1
            return False
        return True

    def filter(self, leads: Iterable[RowT]) -> Iterator[RowT]:
        return (lead for lead in leads if self.allows(lead))


def stored_lead_keys(row: Mapping[str, object]) -> list[str]:
    """Keys of a lead as :meth:`LeadStore.iter_leads` yields it."""
    lead: Any = row
    keys: list[str] = []
    if lead.get("cnpj"):
        keys.append(f"cnpj:{lead['cnpj']}")
    if lead.get("domain"):
        keys.append(f"domain:{lead['domain']}")
    for contact in lead.get("contacts", ()):
        keys += contact_keys(contact["kind"], contact["value"])
    for offer in lead.get("offers", ()):
        keys.append(f"checkout:{offer['checkout_url']}")
        if offer.get("seller_id"):
            keys.append(f"seller:{offer['platform']}:{offer['seller_id']}")
    return keys


__all__ = [
    "PrivacyStore",
    "PurgeResult",
    "SubjectResult",
    "SuppressionFilter",
    "UnknownValue",
    "record_audit",
]
