"""``aftersale-kit messages list|show|cancel|preview`` on a SQLite schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.cli import main
from aftersale_kit.storage import MessageState, NewMessage, Store

SHOP = "elektro.myshopify.com"
DUE = datetime(2026, 4, 15, 8, 0, tzinfo=UTC)
CONFIG = f"""version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  locale: de_DE
  timezone: Europe/Berlin
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    code_secret: SHOP_CODE_SECRET
mail:
  sender: "Elektro Krause <service@elektro-krause.de>"
  smtp: {{host: smtp.elektro-krause.de, username_env: NOT_SET_USER, password_env: NOT_SET_PW}}
campaigns:
  - id: wartung
    trigger: order_paid
    actions:
      - follow_up: {{kind: service_reminder, template: service_reminder, after: {{months: 3}}}}
"""


def planned(n: int, order_id: str = "1001") -> NewMessage:
    return NewMessage(
        shop=SHOP, key=f"{SHOP}:{order_id}:wartung:0:{n}", order_id=order_id, customer_key="77",
        email="kim@example.com", campaign_id="wartung", occurrence=n, kind="service_reminder",
        template="service_reminder", purpose="marketing", due_at=DUE,
        data={"months": 3, "products": ["<b>Kaffeevollautomat</b>"], "to_name": "Kim"},
    )  # fmt: skip


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SHOP_WEBHOOK_SECRET", "whsec")
    monkeypatch.setenv("SHOP_CODE_SECRET", "code-secret")
    monkeypatch.delenv("AFTERSALE_PUBLIC_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with Store.open(url, migrate=True) as store:
        store.plan_messages([planned(1), planned(2), planned(1, "1002")], now=DUE)
    (tmp_path / "shop.yaml").write_text(CONFIG, encoding="utf-8")
    return url


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(["messages", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_show_and_cancel(db: str, capsys: Any) -> None:
    code, out, _ = run(capsys, "list", "--db", db, "--shop", SHOP)
    assert code == 0 and out.count("planned") == 3 and "wartung#2" in out
    code, out, _ = run(capsys, "show", "2", "--shop", SHOP, "--db", db)
    shown = json.loads(out)
    assert (shown["occurrence"], shown["state"], shown["email"]) == (
        2,
        "planned",
        "kim@example.com",
    )
    code, out, _ = run(capsys, "cancel", "--order", "1001", "--shop", SHOP, "--db", db)
    assert (code, out.strip()) == (0, "2 message(s) cancelled")
    code, out, _ = run(capsys, "list", "--db", db, "--state", "cancelled", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["order_id"], r["reason"]) for r in rows] == [
        ("1001", "cancelled by an operator")
    ] * 2
    code, out, _ = run(
        capsys, "cancel", "3", "--shop", SHOP, "--db", db, "--reason", "Kunde rief an"
    )
    with Store.open(db) as store:
        assert store.message_counts(SHOP) == {MessageState.CANCELLED: 3}
        assert store.message(SHOP, 3).reason == "Kunde rief an"  # type: ignore[union-attr]


@pytest.mark.slow
def test_preview_writes_the_mail_or_its_html_and_sends_nothing(
    db: str, capsys: Any, tmp_path: Path
) -> None:
    config = str(tmp_path / "shop.yaml")
    eml = tmp_path / "m1.eml"
    code, out, err = run(
        capsys, "preview", "1", "--shop", SHOP, "--config", config, "--db", db, "--out", str(eml)
    )
    assert code == 0, err
    assert out.startswith(f"{eml}: ") and "-> kim@example.com (<ak." in out
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert mail["To"] == "Kim <kim@example.com>"
    assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/v1/unsubscribe/")
    html_file = tmp_path / "m1.html"
    code, _, err = run(
        capsys, "preview", "1", "--shop", SHOP, "--config", config, "--db", db,
        "--out", str(html_file),
    )  # fmt: skip
    assert code == 0, err
    html = html_file.read_text("utf-8")
    assert "&lt;b&gt;Kaffeevollautomat&lt;/b&gt;" in html and "<b>Kaffee" not in html
    with Store.open(db) as store:
        assert store.message(SHOP, 1).state is MessageState.PLANNED  # type: ignore[union-attr]


def test_wrong_use_and_unknown_messages(db: str, capsys: Any, tmp_path: Path) -> None:
    code, _, err = run(capsys, "show", "99", "--shop", SHOP, "--db", db)
    assert code == 1 and "no message 99 of shop" in err
    with pytest.raises(SystemExit) as usage:
        run(capsys, "cancel", "--shop", SHOP, "--db", db)
    assert usage.value.code == 2
    with pytest.raises(SystemExit):
        run(capsys, "preview", "1", "--shop", SHOP, "--config", "x", "--out", "m.txt")
