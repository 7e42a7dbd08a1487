"""A writer process for the concurrency test: saves the same producers as its twin.

Usage: python -m tests.support.concurrent_writer DATABASE_URL SEED START_AT_EPOCH
"""

from __future__ import annotations

import random
import sys
import time

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind, ContactStatus
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import contact, lead

PRODUCERS = 40


def main() -> None:
    url, seed, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rng = random.Random(seed)
    store = open_store(url)
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    items = []
    for i in range(PRODUCERS):
        # Writer 0 knows each producer by e-mail, writer 1 by phone and e-mail: both
        # must end up on the same lead.
        contacts = [contact(ContactKind.EMAIL, f"produtor{i}@cursos{i}.com.br")]
        if seed == 1:
            contacts.append(contact(ContactKind.PHONE, f"+55119{i:08d}"))
        item = lead(
            f"Produtor {i}", checkout=f"https://pay.kiwify.com.br/W{seed}{i:05d}", contacts=contacts
        )
        for c in item.contacts:
            c.status = ContactStatus.VALID
        item.identity_keys = keys_for_lead(item)
        items.append(item)
    rng.shuffle(items)
    while time.time() < start_at:
        time.sleep(0.005)
    for start in range(0, len(items), 5):
        store.save(items[start : start + 5], None, rules)
    store.engine.dispose()


if __name__ == "__main__":
    main()
