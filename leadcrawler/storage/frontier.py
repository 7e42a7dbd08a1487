"""The shared frontier: product pages waiting for their platform spider.

Discovery adds URLs (idempotently: a URL found again only moves ``last_seen``); a
platform spider run claims the oldest pending ones and reports each outcome. A claim
stamps ``last_attempt_at``: a URL claimed less than ``claim_ttl`` ago is not handed to
another run, so two cron runs do not crawl the same pages, and a run that died gives its
URLs back after the TTL. ``attempts`` counts real tries; after ``max_attempts`` failures
a URL is ``failed`` and no longer claimed. 404/410 make it ``gone`` at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker

from leadcrawler.domain.items import DiscoveredUrl, utcnow
from leadcrawler.storage.models import FrontierUrl


class Outcome(StrEnum):
    DONE = "done"  # fetched and parsed
    GONE = "gone"  # 404 / 410
    FAILED = "failed"  # an attempt failed; pending again until max_attempts
    DEFERRED = "deferred"  # not tried (circuit open, shutdown): pending, attempt not counted


class FrontierStore:
    def __init__(self, engine: Engine, max_attempts: int = 3, claim_ttl: float = 3600) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.claim_ttl = timedelta(seconds=claim_ttl)
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, found: Sequence[DiscoveredUrl]) -> int:
        """Record discovered URLs; returns how many were new to the frontier."""
        if not found:
            return 0
        table = FrontierUrl.__table__
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        urls = list(dict.fromkeys(d.url for d in found))
        with self.sessions.begin() as session:
            known = set(session.scalars(select(FrontierUrl.url).where(FrontierUrl.url.in_(urls))))
            for item in {d.url: d for d in found}.values():
                insert = dialect.insert(table).values(
                    platform=item.platform,
                    url=item.url,
                    discovered_by=item.discovered_by,
                    query=item.query,
                    first_seen=item.seen_at,
                    last_seen=item.seen_at,
                    status="pending",
                    attempts=0,
                )
                # Concurrent discovery runs may insert the same URL: the database decides.
                session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["url"], set_={"last_seen": insert.excluded.last_seen}
                    )
                )
        return len(set(urls) - known)

    def claim(self, platform: str, limit: int, now: datetime | None = None) -> list[str]:
        """The oldest pending URLs of ``platform`` not claimed within the claim TTL."""
        now = now or utcnow()
        with self.sessions.begin() as session:
            query = (
                select(FrontierUrl)
                .where(
                    FrontierUrl.platform == platform,
                    FrontierUrl.status == "pending",
                    (FrontierUrl.last_attempt_at.is_(None))
                    | (FrontierUrl.last_attempt_at < now - self.claim_ttl),
                )
                .order_by(FrontierUrl.first_seen, FrontierUrl.id)
                .limit(limit)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            for row in rows:
                row.last_attempt_at = now
            return [row.url for row in rows]

    def report(self, outcomes: Sequence[tuple[str, Outcome, str | None]]) -> None:
        """Record what happened to claimed URLs: ``(url, outcome, error or None)``."""
        with self.sessions.begin() as session:
            for url, outcome, error in outcomes:
                values: dict[str, object]
                if outcome == Outcome.DEFERRED:
                    values = {"last_attempt_at": None}
                elif outcome == Outcome.FAILED:
                    values = {
                        "attempts": FrontierUrl.attempts + 1,
                        "last_error": error,
                        "status": case(
                            (FrontierUrl.attempts + 1 >= self.max_attempts, "failed"),
                            else_="pending",
                        ),
                    }
                else:
                    values = {
                        "attempts": FrontierUrl.attempts + 1,
                        "status": outcome.value,
                        "last_error": error,
                    }
                session.execute(update(FrontierUrl).where(FrontierUrl.url == url).values(**values))

    def counts(self, platform: str | None = None) -> dict[str, int]:
        with self.sessions() as session:
            query = select(FrontierUrl.status, func.count()).group_by(FrontierUrl.status)
            if platform:
                query = query.where(FrontierUrl.platform == platform)
            return {status: n for status, n in session.execute(query)}
