"""The historical base: SQLAlchemy models, migrations and the repository the pipelines use."""
