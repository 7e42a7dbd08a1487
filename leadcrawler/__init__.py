"""leadcrawler: find producers selling on Brazilian digital-product platforms and turn them into leads."""

__version__ = "0.1.0"
