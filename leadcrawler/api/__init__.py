"""The enricher's HTTP API: ``leadcrawler serve`` (FastAPI + uvicorn) and its worker."""
