"""Intake: raw lead lists (files, API batches) turned into leads for the enricher chain.

``reader`` opens CSV, XLSX and JSON Lines as sales teams have them and maps their columns;
``rows`` turns each record into a :class:`~leadcrawler.domain.items.Lead` with its
provenance (``import:<file>#<line>``) or a reject reason. Pure: no Scrapy, no database.
The Scrapy side is the ``intake`` spider; ``leadcrawler enrich FILE`` runs it.
"""
