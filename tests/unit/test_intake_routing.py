"""Rows to workers: a company's domain on one worker, webmail users spread over all."""

from __future__ import annotations

from collections import Counter

from leadcrawler.intake.reader import RawRow
from leadcrawler.intake.workers import shard_of


def row(line: int, email: str | None = None, phone: str | None = None) -> RawRow:
    values = {}
    if email:
        values["email"] = [email]
    if phone:
        values["phone"] = [phone]
    return RawRow(line=line, values=values)


def test_a_company_domain_stays_on_one_worker_whatever_the_spelling() -> None:
    shards = {
        shard_of(row(n, f"{name}@{domain}"), 4)
        for n, (name, domain) in enumerate(
            [("ana", "doces.com.br"), ("BRUNO", "Doces.com.br"), ("caio", "DOCES.COM.BR ")]
        )
    }
    assert len(shards) == 1  # one MX question for the domain


def test_webmail_users_are_spread_over_every_worker() -> None:
    # Most people on a real list are on a handful of webmail providers: routed by domain,
    # they would all land on the few workers those domains hash to.
    counts = Counter(shard_of(row(n, f"pessoa{n}@gmail.com"), 2) for n in range(2000))
    assert set(counts) == {0, 1}
    assert min(counts.values()) > 900


def test_the_same_webmail_person_written_twice_lands_on_one_worker() -> None:
    assert shard_of(row(1, "Ana.Souza@Gmail.com"), 8) == shard_of(row(9, "ana.souza@gmail.com "), 8)


def test_a_row_without_email_goes_by_its_phone() -> None:
    assert shard_of(row(1, phone="(11) 98765-4321"), 8) == shard_of(
        row(2, phone="+5511987654321"), 8
    )
