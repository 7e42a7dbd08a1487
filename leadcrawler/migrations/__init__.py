"""Alembic migrations of the historical base (run by ``leadcrawler.storage.db.migrate``)."""
