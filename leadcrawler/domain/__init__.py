"""The domain: pure rules shared by the extractor and the enricher.

The lead model, the platform registry (and its data files), URLs, e-mails, phones, text,
identity keys and scoring. No Scrapy, Twisted or SQLAlchemy here (import-linter checks it).
"""
