"""The backtest report from hand-built results: the page says which campaign ran out of budget in
which month (text, table row, chart bar), stays inert for hostile names, speaks German and
English, and the JSON and CSV beside it carry the same figures."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from aftersale_kit.backtest.report import CSV_FILES, Texts, render_html, write_report
from aftersale_kit.backtest.report.summary import summary_lines

from .backtest_samples import BERLIN, HOSTILE, sample_result


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each ``<tr>``."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[tuple[str, str]] = []
        self._row: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._row = (dict(attrs).get("class") or "", [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append((self._row[0], " ".join("".join(self._row[1]).split())))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row[1].append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_the_month_a_budget_ran_out_is_named_in_the_alert_the_table_and_the_chart() -> None:
    # given a campaign whose monthly budget ran out in March and May 2025
    html = render_html([sample_result()], t=Texts("de"), tz=BERLIN)
    page = _parse(html)
    # then the alert names the campaign and both months
    alert = html[html.index('class="alert"') : html.index("</div>", html.index('class="alert"'))]
    assert "Dankeschön-Gutschein" in alert
    assert "März 2025" in alert and "Mai 2025" in alert and "April 2025" not in alert
    # and exactly those two budget rows are highlighted, saying "aufgebraucht"
    ran_out = [text for cls, text in page.rows if "ran-out" in cls and "Budget" not in text]
    budget_rows = [r for r in ran_out if r.endswith("aufgebraucht") and "300,00 €" in r]
    assert [("März 2025" in r, "Mai 2025" in r) for r in budget_rows] == [
        (True, False),
        (False, True),
    ]
    # and the chart has two red bars among six, under the month labels Mär and Mai
    bars = [a for tag, a in page.tags if tag == "rect" and "bar" in (a.get("class") or "")]
    red = [a for a in bars if "exhausted" in (a.get("class") or "")]
    assert len(red) == 2 and all(a["fill"] == "#c0392b" for a in red)
    red_labels = re.findall(r'font-weight="bold" fill="#c0392b">(\w+)</text>', html)
    assert red_labels == ["Mär", "Mai"]


def test_consecutive_months_that_ran_out_are_one_span() -> None:
    result = sample_result(ran_out=("2025-02", "2025-03", "2025-04", "2025-06"))
    html = render_html([result], t=Texts("de"), tz=BERLIN)
    alert = html[html.index('class="alert"') : html.index("</div>", html.index('class="alert"'))]
    assert "Februar – April 2025, Juni 2025" in alert
    assert "(28 abgelehnte Angebote)" in alert


def test_without_an_exhausted_budget_the_page_says_it_held() -> None:
    html = render_html([sample_result(ran_out=())], t=Texts("en"), tz=BERLIN)
    assert "No campaign would have exceeded its budget." in html
    assert 'class="alert"' not in html
    assert "exhausted" not in " ".join(a.get("class") or "" for _, a in _parse(html).tags)


def test_hostile_campaign_names_and_order_data_stay_text() -> None:
    html = render_html([sample_result(hostile=True)], t=Texts("en"), tz=BERLIN)
    tags = {tag for tag, _ in _parse(html).tags}
    # no element the data tried to inject, no event handler attribute anywhere
    assert "script" not in tags and "img" not in tags
    assert not any(k.startswith("on") for _, a in _parse(html).tags for k in a)
    # the name is there, escaped, in the table, the alert and the chart labels
    escaped = "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;"
    assert html.count(escaped) >= 5
    assert HOSTILE not in html


def test_german_and_english_words_and_numbers() -> None:
    de = render_html([sample_result()], t=Texts("de"), tz=BERLIN)
    en = render_html([sample_result()], t=Texts("en"), tz=BERLIN)
    assert '<html lang="de">' in de and "Budget aufgebraucht" in de and "1.170,00 €" in de
    assert '<html lang="en">' in en and "Budget ran out" in en and "€1,170.00" in en
    assert "Kontakte pro Kunde" in de and "Contacts per customer" in en


def test_the_page_needs_nothing_from_the_network() -> None:
    html = render_html([sample_result()], t=Texts("de"), tz=BERLIN)
    page = _parse(html)
    assert not [a for tag, a in page.tags if tag in ("script", "link", "img", "iframe")]
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    # three kinds of chart: cost per campaign (two), reach, contacts
    labels = [a["aria-label"] for tag, a in page.tags if tag == "svg"]
    assert labels == [
        "Kosten pro Monat und Budget: Dankeschön-Gutschein",
        "Kosten pro Monat und Budget: Treuepunkte",
        "Reichweite pro Aktion",
        "Kontakte pro Kunde",
    ]


def test_contacts_above_the_cap_are_red_and_the_cap_is_drawn() -> None:
    html = render_html([sample_result()], t=Texts("en"), tz=BERLIN)
    page = _parse(html)
    svg = html[html.index('aria-label="Contacts per customer"') :]
    svg = svg[: svg.index("</svg>")]
    over = re.findall(r'class="bar over"[^>]*><title>(\d+): (\d+)</title>', svg)
    assert over == [("4", "10")]  # cap 3: only the customers with 4 contacts are over it
    assert 'class="cap"' in svg and "cap 3" in svg
    assert len([a for tag, a in page.tags if tag == "line" and a.get("class") == "cap"]) == 1


def test_compare_shows_both_runs_and_the_difference_per_campaign_and_in_total() -> None:
    # given the same orders under two configs: the second runs out only in May
    first = sample_result()
    second = sample_result(ran_out=("2025-05",), config="other.yaml")
    html = render_html(
        [first, second], t=Texts("en"), tz=BERLIN, labels=["shop.yaml", "other.yaml"]
    )
    rows = _parse(html).rows
    compare = html[html.index('id="compare"') : html.index("</section>")]
    difference = second.campaigns[0].expected_cost - first.campaigns[0].expected_cost
    assert difference < 0
    assert f"-€{abs(difference):,.2f}" in compare
    assert "March 2025, May 2025 / May 2025" in compare
    total = next(text for cls, text in rows if cls.startswith("total") and "/" in text)
    assert total.startswith("Total")
    assert f"-€{abs(difference):,.2f}" in total
    # and both runs have their own section
    assert 'id="run-1"' in html and 'id="run-2"' in html and "Second: other.yaml" in html


def test_json_and_csv_carry_the_same_figures(tmp_path: Path) -> None:
    result = sample_result()
    page = write_report(tmp_path / "out", [result], lang="de", timezone="Europe/Berlin")
    assert page.name == "backtest.html"
    data = json.loads((tmp_path / "out" / "backtest.json").read_text(encoding="utf-8"))
    run = data["runs"][0]
    assert data["difference"] is None
    assert run["campaigns"][0]["budget_ran_out"] == ["2025-03", "2025-05"]
    assert Decimal(run["campaigns"][0]["expected_cost"]) == result.campaigns[0].expected_cost
    assert run["top_orders"][0]["cost"] == "30"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.csv")) == sorted(CSV_FILES)
    with (tmp_path / "out" / "budget.csv").open(encoding="utf-8") as handle:
        budget = list(csv.DictReader(handle))
    assert [(r["period"], r["ran_out"]) for r in budget if r["ran_out"] == "yes"] == [
        ("2025-03", "yes"),
        ("2025-05", "yes"),
    ]
    with (tmp_path / "out" / "campaigns.csv").open(encoding="utf-8") as handle:
        campaigns = list(csv.DictReader(handle))
    assert campaigns[0]["budget_ran_out"] == "2025-03 2025-05"
    assert Decimal(campaigns[1]["expected_cost"]) == result.campaigns[1].expected_cost


def test_csv_cells_that_look_like_formulas_are_not_formulas(tmp_path: Path) -> None:
    result = sample_result()
    hostile = result.campaigns[0].__class__(
        **{
            **{f: getattr(result.campaigns[0], f) for f in result.campaigns[0].__slots__},
            "name": '=HYPERLINK("http://x.invalid","klick")',
        }
    )
    write_report(
        tmp_path,
        [result.__class__(**{**_fields(result), "campaigns": (hostile,)})],
        lang="en",
    )
    with (tmp_path / "campaigns.csv").open(encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    assert names == ['\'=HYPERLINK("http://x.invalid","klick")']


def _fields(obj: object) -> dict[str, object]:
    return {f: getattr(obj, f) for f in obj.__slots__}  # type: ignore[attr-defined]


def test_summary_names_bad_rows_costs_and_months_and_the_report() -> None:
    result = sample_result()
    lines = summary_lines([result], t=Texts("de"), tz=BERLIN, report=Path("out/backtest.html"))
    fired = {c.campaign_id: c.orders for c in result.campaigns}
    text = "\n".join(lines)
    assert lines[0] == (
        "Testlauf für kaffee-test.myshopify.com: 1.200 Bestellungen von 700 Kunden, "
        "2025-01-01 – 2025-06-30"
    )
    assert "2 nicht lesbare Zeilen übersprungen:\n  orders.csv:17: no order id" in text
    # each campaign with the orders it fired on (campaigns without costs show they reached some)
    assert (
        f"  danke-10  {fired['danke-10']} Bestellungen  erwartete Kosten     292,50 €  "
        "BUDGET AUFGEBRAUCHT: März 2025, Mai 2025\n" in text
    )
    assert f"  punkte    {fired['punkte']} Bestellungen  erwartete Kosten     135,00 €\n" in text
    assert "  Gesamt                      erwartete Kosten     427,50 €" in text
    assert lines[-1] == "Bericht: out/backtest.html (JSON und CSV im selben Ordner)"


@pytest.mark.parametrize("lang", ["fr", ""])
def test_an_unknown_language_is_refused(lang: str) -> None:
    with pytest.raises(ValueError, match="language must be one of de, en"):
        Texts(lang)


def test_every_reason_the_engine_gives_has_words_in_both_languages() -> None:
    from aftersale_kit.core.decision import Reason

    for lang in ("de", "en"):
        t = Texts(lang)
        for reason in Reason:
            if reason is not Reason.FIRED:
                assert t.reason(reason.value) != reason.value.replace("_", " "), (lang, reason)
