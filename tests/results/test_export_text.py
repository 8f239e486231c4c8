"""The terminal table and the CSV of ``aftersale-kit report`` with hostile text in every field:
terminal control sequences and bidirectional overrides are printed as escapes (a customer's
e-mail or a platform's error cannot recolour or rewrite the owner's terminal), and a campaign
name that a spreadsheet would take for a formula is written as text."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from dashboard_sample import sample_results

from aftersale_kit.results.export import to_csv, to_table

EVIL = "\x1b]0;owned\x07\x1b[2J\u202e\rX"


def test_the_table_prints_control_characters_as_escapes() -> None:
    table = to_table(sample_results(hostile=EVIL))
    assert "\x1b" not in table and "\x07" not in table and "\u202e" not in table
    assert "\r" not in table
    # the text is still there, readable, on its line
    assert "deals-forum\\x1b]0;owned\\x07\\x1b[2J\\u202e\\rX" in table
    assert "kim@example.com\\x1b]0;owned" in table
    assert "code already exists\\x1b]0;owned" in table


def test_a_campaign_name_that_looks_like_a_formula_is_text_in_the_csv() -> None:
    results = sample_results()
    first = results.campaigns[0]
    formula = '=HYPERLINK("https://evil.example","x")'
    hostile = replace(results, campaigns=(replace(first, name=formula),))
    rows = list(csv.DictReader(io.StringIO(to_csv(hostile))))
    assert rows and {r["name"] for r in rows} == {"'" + formula}
    # a name that merely contains such a character stays as it is
    assert {r["name"] for r in csv.DictReader(io.StringIO(to_csv(results)))} >= {first.name}
