"""A worker SIGKILLed in the middle of a sweep of 1,000 due messages and started again, three
times: no message reaches the SMTP server twice, checked by Message-ID (``aftersale-kit worker``
as a process), and every one reaches it but for one whose worker died in the instant between
storing its hand-over and writing its end of data. The kills come when the server has just
accepted a message, the moment a worker that records after the server's reply would send it
twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mail.smtp_sink import Sink, smtp_sink

from aftersale_kit.mail import message_id_for
from aftersale_kit.storage import MessageState, NewMessage, Store
from aftersale_kit.testing.postgres import require_postgres, temporary_schema

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
SHOP = "elektro.myshopify.com"
COUNT = 1000
KILL_AT = (250, 500, 750)
KILLS = len(KILL_AT)
ENV = {
    "SHOP_WEBHOOK_SECRET": "whsec-test",
    "SHOP_CODE_SECRET": "code-secret-for-follow-ups",
    "AFTERSALE_PUBLIC_URL": "http://127.0.0.1:8000",
}
CONFIG = f"""version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  timezone: Europe/Berlin
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    code_secret: SHOP_CODE_SECRET
mail:
  sender: "Elektro Krause <service@elektro-krause.de>"
  smtp: {{host: 127.0.0.1, port: PORT, security: none, timeout_seconds: 5}}
  rate_per_minute: 100000
campaigns:
  - id: umfrage
    trigger: order_fulfilled
    actions:
      - follow_up: {{kind: survey, template: survey, after: {{days: 7}}}}
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    with temporary_schema(require_postgres(), prefix="crash") as url:
        yield url


def due_messages() -> list[NewMessage]:
    due = datetime.now(UTC) - timedelta(hours=1)
    return [
        NewMessage(
            shop=SHOP,
            key=f"{SHOP}:{n}:umfrage:0:1",
            order_id=str(n),
            customer_key=str(n),
            email=f"kunde{n}@example.com",
            campaign_id="umfrage",
            occurrence=1,
            kind="survey",
            template="survey",
            purpose="transactional",
            due_at=due + timedelta(milliseconds=n),
            data={"order_number": f"#{n}"},
        )
        for n in range(COUNT)
    ]


def worker(config: Path, db_url: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "aftersale_kit", "worker", "--config", str(config)]
    command += ["--db", db_url, "--threads", "1", "--lease-seconds", "3"]
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env={**os.environ, **ENV, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=out,
        )


def wait_until(check: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_restarted_sends_every_message_once(tmp_path: Path, db_url: str) -> None:
    with smtp_sink() as sink, Store.open(db_url, migrate=True) as store:
        config = tmp_path / "shop.yaml"
        config.write_text(CONFIG.replace("PORT", str(sink.port)), encoding="utf-8")
        assert store.plan_messages(due_messages()) == COUNT
        log = tmp_path / "worker.log"
        for kill_at in KILL_AT:  # in the middle of a batch, each time
            killed = worker(config, db_url, log)
            try:
                wait_until(
                    lambda n=kill_at: len(sink.received) >= n,  # type: ignore[misc]
                    timeout=240,
                    what=f"{kill_at} messages\n{log.read_text()[-3000:]}",
                )
                killed.send_signal(signal.SIGKILL)
                killed.wait(10)
            finally:
                if killed.poll() is None:
                    killed.kill()
        assert len(sink.received) < COUNT, "the sweep ended before the kill; nothing was tested"
        last = worker(config, db_url, log)
        try:
            wait_until(
                lambda: store.message_counts(SHOP).get(MessageState.SENT) == COUNT,
                timeout=300,
                what=f"{COUNT} messages recorded as sent\n{log.read_text()[-3000:]}",
            )
        finally:
            last.send_signal(signal.SIGTERM)
            last.wait(20)
        assert_each_arrived_once(sink, store)


def assert_each_arrived_once(sink: Sink, store: Store) -> None:
    expected = {message_id_for(m.key, "elektro-krause.de") for m in due_messages()}
    arrived = Counter(sink.message_ids())
    # none twice, whatever the moment of the kill
    assert [mid for mid, n in arrived.items() if n > 1] == []
    rows = store.messages(SHOP, limit=COUNT + 1)
    assert {r.message_id for r in rows} == expected
    assert {r.state for r in rows} == {MessageState.SENT}
    assert all(r.handed_over_at is None for r in rows)
    # every message arrived, but one whose worker was killed between storing its hand-over mark
    # and writing its end of data (docs/follow-ups.md, "A crash while sending"): at most one a
    # kill, and only one recorded as handed over by a worker that stopped
    missing = expected - set(arrived)
    recovered = {r.message_id for r in rows if "not sent again" in (r.reason or "")}
    assert missing <= recovered and len(missing) <= KILLS, (missing, recovered)
