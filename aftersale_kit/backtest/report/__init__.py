"""The backtest report: ``backtest.html`` (one self-contained page), ``backtest.json`` and the
CSV tables, written side by side into one folder from one run (or two, with ``--compare``).

``view`` works out what is shown (the bars, the periods that ran out, the comparison rows),
``charts`` draws the SVG, ``html`` renders the page, ``json_csv`` the data files, ``i18n`` has
the German and English words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..result import BacktestResult
from .html import HTML_FILE, render_html
from .i18n import LANGUAGES, Texts, language_of
from .json_csv import CSV_FILES, JSON_FILE, write_csv, write_json

__all__ = [
    "CSV_FILES",
    "HTML_FILE",
    "JSON_FILE",
    "LANGUAGES",
    "Texts",
    "language_of",
    "render_html",
    "write_report",
]


def write_report(
    folder: Path,
    results: Sequence[BacktestResult],
    *,
    lang: str,
    timezone: str = "UTC",
    labels: Sequence[str] | None = None,
    generated: datetime | None = None,
) -> Path:
    """Write the page, the JSON and the CSV tables into ``folder`` (created if missing);
    returns the page's path. ``results``: one run, or two to compare (same orders)."""
    if not 1 <= len(results) <= 2:
        raise ValueError("a report shows one run or two to compare")
    t = Texts(lang)
    tz = ZoneInfo(timezone)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / HTML_FILE
    html = render_html(results, t=t, tz=tz, labels=labels, generated=generated)
    page.write_text(html, encoding="utf-8")
    write_json(folder, results, tz, t)
    write_csv(folder, results, tz)
    return page
