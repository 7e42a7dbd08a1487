"""The extractor's core: HTML in, raw leads out (parsel and the domain only).

Structured data, page state, labels, prices, a producer site's contacts, discovery results.
The spiders in :mod:`leadcrawler.spiders` fetch the pages and call these readers.
"""
