"""Operations: per-run metrics, baselines and alerts (no Scrapy here but in ``extension``).

- :mod:`.metrics` turns a crawl's final stats into the run's metrics (per source);
- :mod:`.alerts` compares them with the source's own baseline (median of its last runs,
  read from the base) and with fixed thresholds, and delivers alerts (log + webhook);
- :mod:`.extension` is the Scrapy side: when a spider closes it stores the run's metrics and
  computes its baselines;
- :mod:`.suite` holds the alerts as a Spidermon monitor suite (one monitor per condition, a
  failed action that delivers them), run at spider close by :mod:`.spidermon`;
- :mod:`.timing` measures extraction time per response.
"""
