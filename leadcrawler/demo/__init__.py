"""A small bundled sample web (Kiwify checkout pages) and URL list for ``leadcrawler demo``."""
