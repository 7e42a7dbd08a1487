"""Only for eggs: `scrapyd-deploy` builds the Scrapyd egg with `setup.py bdist_egg`.

Everything (packages, data files, the `scrapy` entry point naming `settings.production`)
is declared in pyproject.toml.
"""

from setuptools import setup

setup()
