"""Scrapy settings for leadcrawler, split by environment.

``base`` holds every default; ``production`` and ``test`` override a few. scrapy.cfg maps
``SCRAPY_PROJECT`` (unset, ``production`` or ``test``) to one of them. Operator-editable
rules (qualification weights) live next to them as data files.
"""
