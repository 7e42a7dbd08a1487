"""leadcrawler: find producers selling on Brazilian digital-product platforms; make them leads."""

__version__ = "0.1.0"
