"""Item pipelines: one module per stage of the lead chain, in this order.

1. ``normalize`` (100): clean names, canonical URLs and domain, CNPJ digits, each contact's
   ``normalized`` value (e-mail, E.164 phone, canonical profile URL).
2. ``validate`` (200): contact status valid/invalid with a reason; drop leads that are
   neither identifiable nor reachable.
3. ``enrich`` (300): offline facts per contact (phone type, DDD/state, WhatsApp, free or
   role mailbox).
4. ``dedupe`` (400): identity keys and the lead uid.
5. ``qualify`` (500): score and tier.
6. ``persist`` (600): write to the historical base.

The order lives in ``ITEM_PIPELINES`` (settings/base.py); each stage is switched off with
its own ``<PREFIX>_ENABLED`` setting.
"""
