"""``leadcrawler report``: recent runs per source as a table or a self-contained HTML page."""

from leadcrawler.report.html import render_html
from leadcrawler.report.table import render_table

__all__ = ["render_html", "render_table"]
