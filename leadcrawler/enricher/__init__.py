"""The enricher: the chain normalize → validate → enrich → dedupe → qualify → persist, as a
service on batches of leads from any source (a crawl, an import, the API).

The item pipelines in :mod:`leadcrawler.pipelines` are thin adapters over it.
"""
