"""The results page and report.json from ShopResults values: the figures in German and English,
charts as SVG sized from the figures, "not enough data yet" instead of a number, and a shop's
hostile text inert (text in the page, never an element or an attribute; a string in the JSON)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from dashboard_sample import HOSTILE, sample_results

from aftersale_kit.content.environment import ContentRenderer
from aftersale_kit.results.html import TEMPLATE, render_html
from aftersale_kit.results.html_texts import TEXTS
from aftersale_kit.results.json_report import render_json


class _Page(HTMLParser):
    """The elements, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_the_campaign_figures_are_in_the_table_in_the_shop_owners_words() -> None:
    # given three campaigns
    results = sample_results()
    # when the page is rendered in German and in English
    de = render_html(results, lang="de_DE")
    en = render_html(results, lang="en")
    # then each campaign's name and its net revenue in the locale's money format are there
    thanks = results.campaigns[0]
    euros = f"{thanks.revenue_net:,.2f}"  # 6,746.65
    assert f"{euros.replace(',', 'X').replace('.', ',').replace('X', '.')}\xa0€" in de
    assert f"€{euros}" in en
    for campaign in results.campaigns:
        assert campaign.name in de
    for words in ("Rabattkosten", "Umsatz netto", "Marge netto", "Gutscheine ausgegeben"):
        assert words in de
    assert "Net revenue and discount cost per campaign" in en
    assert _parse(de).all("html")[0]["lang"] == "de"


def test_the_charts_are_svg_bars_scaled_to_the_figures() -> None:
    results = sample_results()
    page = _parse(render_html(results, lang="en"))
    rects = [a for a in page.all("rect") if a.get("class") in ("s0", "s1")]
    # one bar per campaign and series, and per month and series
    months = {p.period for c in results.campaigns for p in c.periods}
    assert len(rects) == 2 * len(results.campaigns) + 2 * len(months)
    heights = [float(a["height"] or 0) for a in rects[: 2 * len(results.campaigns)]]
    # the tallest campaign bar is the largest net revenue; revenue bars keep the figures' order
    revenue = [c.revenue_net for c in results.campaigns]
    assert heights[0::2].index(max(heights[0::2])) == revenue.index(max(revenue))
    ratio = heights[0] / heights[2]
    assert ratio == pytest.approx(float(revenue[0] / revenue[1]), rel=0.01)
    assert all(float(a["width"] or 0) > 0 for a in page.all("svg"))


def test_an_experiment_shows_its_interval_or_says_there_is_not_enough_data() -> None:
    results = sample_results()
    de = render_html(results, lang="de")
    en = render_html(results, lang="en")
    assert "noch zu wenig Daten" in de
    assert "not enough data yet" in en
    # the interval bar runs from low to high with the difference between, zero outside it
    svg = re.search(r'<svg class="interval above".*?</svg>', en, re.S)
    assert svg is not None
    line = re.search(r'class="range" x1="([\d.]+)" x2="([\d.]+)"', svg.group(0))
    point = re.search(r'<circle cx="([\d.]+)"', svg.group(0))
    zero = re.search(r'class="zero" x1="([\d.]+)"', svg.group(0))
    assert line and point and zero
    low, high = float(line.group(1)), float(line.group(2))
    assert float(zero.group(1)) < low < float(point.group(1)) < high
    assert "+4.9 pp" in en and "+4,9 PP" in de


def test_a_campaign_over_its_budget_and_a_customer_over_their_margin_are_marked() -> None:
    results = sample_results()
    page = render_html(results, lang="de")
    over = re.findall(r'<svg class="gauge over"[^>]*aria-label="([^"]*)"', page)
    # "Komm zurück" spent 231.90 of 200.00; kim's care cost 64.00 passes the margin 48.20
    assert len(over) == 2
    assert any(results.campaigns[1].name in label for label in over)
    assert "überschritten" in page
    assert "noch unbekannt" in page  # the customer whose share is not known yet


@pytest.mark.parametrize("lang", ["de", "en"])
def test_hostile_shop_and_customer_text_stays_text(lang: str) -> None:
    # given hostile text in every campaign name, code, customer, group and job error
    page = render_html(sample_results(hostile=HOSTILE), lang=lang)
    parsed = _parse(page)
    # then there is no script, no image, no event handler attribute anywhere
    assert parsed.all("script") == [] and parsed.all("img") == []
    for _, attrs in parsed.tags:
        assert not [name for name in attrs if name.startswith("on")]
    # and the hostile text is there as text, exactly
    assert HOSTILE in "".join(parsed.text)


def test_report_json_has_the_figures_as_strings_and_hostile_text_as_a_plain_string() -> None:
    results = sample_results(hostile=HOSTILE)
    text = render_json(results)
    data = json.loads(text)
    assert "<" not in text and ">" not in text
    assert data["campaigns"][0]["name"] == results.campaigns[0].name
    assert data["leaks"][0]["redeemed_by"] == results.leaks[0].redeemed_by
    # money is the exact decimal, summed back it equals the campaigns' own figures
    total = sum(Decimal(c["revenue_net"]) for c in data["campaigns"])
    assert total == sum(c.revenue_net for c in results.campaigns)
    assert data["experiments"][1]["difference"] is None
    assert data["generated_at"] == results.generated_at.isoformat()


def test_a_shop_without_campaigns_or_surveys_renders_without_charts() -> None:
    results = replace(sample_results(), campaigns=(), surveys=None, experiments=(), leaks=())
    page = render_html(results, lang="de")
    assert "Im Zeitraum keine Gutscheine." in page
    assert "Keine Umfrage im Zeitraum." in page
    assert '<svg class="bars"' not in page


def test_the_dashboard_template_compiles_in_the_shop_content_environment() -> None:
    # the content environment compiles every built-in template at start (a template it cannot
    # compile stops the service), this one included
    renderer = ContentRenderer.load()
    assert renderer.origin(TEMPLATE).endswith("report/dashboard.html.j2")


def test_german_and_english_have_the_same_texts() -> None:
    assert TEXTS["de"].keys() == TEXTS["en"].keys()
    assert all(TEXTS["de"][key] != TEXTS["en"][key] for key in ("title", "not_enough", "care"))


def test_the_period_names_the_shops_first_and_last_day() -> None:
    # given November in Berlin: since its midnight, until (exclusive) the midnight after 30 Nov
    berlin = ZoneInfo("Europe/Berlin")
    results = replace(
        sample_results(),
        since=datetime(2026, 11, 1, tzinfo=berlin),
        until=datetime(2026, 12, 1, tzinfo=berlin),
    )
    text = " ".join(" ".join(_parse(render_html(results, lang="en")).text).split())
    # then the page says the days the figures include, not the day after
    assert "From Nov 1, 2026 to Nov 30, 2026" in text


def test_times_of_day_are_shown_in_the_shops_time_zone() -> None:
    # given: figures made at 06:39 UTC for a shop in Berlin (winter: UTC+1)
    made = datetime(2026, 12, 7, 6, 39, tzinfo=ZoneInfo("UTC"))
    results = replace(sample_results(), generated_at=made, timezone="Europe/Berlin")
    # when
    page = render_html(results, lang="de")
    # then: the page says 07:39, the shop's time, not the stored UTC
    assert "07:39" in page
    assert "06:39" not in page
    # and a shop on UTC sees the stored time
    assert "06:39" in render_html(replace(results, timezone="UTC"), lang="de")
