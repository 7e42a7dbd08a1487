"""The enricher: the chain normalize → validate → enrich → dedupe → qualify → persist, as a
service on batches of leads from any source (a crawl, an import, the API, a script).

The item pipelines in :mod:`leadcrawler.pipelines` are thin adapters over its steps;
:func:`enrich_leads` runs a list of raw leads through it into a base without Scrapy.
"""

from leadcrawler.enricher.config import ConfigError, MemoryStats, SettingsMap
from leadcrawler.enricher.service import Chain, Rejected, Report, enrich_batch, enrich_leads

__all__ = [
    "Chain",
    "ConfigError",
    "MemoryStats",
    "Rejected",
    "Report",
    "SettingsMap",
    "enrich_batch",
    "enrich_leads",
]
