"""Which sighting brought which identity key: the ``sighting_keys`` rows of a batch.

Called by the set-based writer (:mod:`leadcrawler.storage.batchwrite`) inside its
transaction: it inserts the batch's sightings with their ids (``INSERT ... RETURNING`` on
SQLite, ids taken from the sequence and ``COPY`` on PostgreSQL), then every key each
sighting brought, in one set-based insert. ``dedupe --rebuild`` replays these rows under
the current rules (:mod:`leadcrawler.storage.rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, text

from leadcrawler.domain.identity import UID_PREFIX, keys_for_lead
from leadcrawler.domain.items import Lead
from leadcrawler.storage.models import SightingKey, SightingRow

if TYPE_CHECKING:
    from leadcrawler.storage.batchwrite import BatchWriter

KEY_LENGTH = 600  # sighting_keys.key, as lead_keys.key: a longer key never linked anyone


def write_sightings(
    writer: BatchWriter, leads: Sequence[Lead], final: Sequence[int], rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows`` (one sighting per lead, in batch order) and the keys each brought.

    A sighting's keys are the ones it was resolved with and the ones the current rules
    compute from what it carried (their union), its names, and ``uid:<lead uid>`` of the
    lead it was written to.
    """
    if not rows:
        return
    ids = _insert_sightings(writer, rows)
    keys: list[tuple[int, str, str | None, str | None]] = []
    for lead, eid, sighting_id in zip(leads, final, ids, strict=True):
        uid = writer.entities[writer.find(eid)].uid
        brought = [*lead.identity_keys, *keys_for_lead(lead), UID_PREFIX + uid]
        display_name, legal_name = lead.display_name, lead.legal_name
        keys += [
            (sighting_id, key, display_name, legal_name)
            for key in dict.fromkeys(brought)
            if len(key) <= KEY_LENGTH
        ]
    writer._insert_rows(SightingKey, ["sighting_id", "key", "display_name", "legal_name"], keys)


def _insert_sightings(writer: BatchWriter, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the sightings in order; their ids, in the same order."""
    session = writer.session
    if not writer._copyable():
        result = session.execute(
            insert(SightingRow).returning(SightingRow.id, sort_by_parameter_order=True), rows
        )
        return [sighting_id for (sighting_id,) in result]
    ids = sorted(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('sightings', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": len(rows)},
        )
    )
    writer._insert(SightingRow, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return ids
