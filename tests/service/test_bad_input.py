"""A battery of bad input against ``aftersale-kit serve`` as a process, over real HTTP.

Deep, huge, truncated and fuzzed bodies, wrong content types, non-order bodies on every order
topic, slow and abandoned bodies, path tricks and malformed or foreign tokens on the block
endpoint, and platforms that do not answer. Asserted: no 5xx but the 503 (with Retry-After) of a
platform that does not answer an authenticated request, ``/healthz`` up throughout, nothing
stored for what was refused, quarantined bodies listed and replayable, and not one call to a
platform for a request that was not authenticated.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from aftersale_kit_woocommerce.tokens import block_token as woocommerce_block_token

from aftersale_kit.storage import CouponStatus, IncomingEvent, JobKind, JobStatus, Store
from aftersale_kit.storage.tables import events

from .conftest import write_shopify_config, write_woocommerce_config
from .harness import free_port, shop_yaml, shopify_delivery, wait_for, woocommerce_delivery

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "client-id-battery"
DOWN_SHOPIFY = "down-shop.myshopify.com"
DOWN_WOO = "localhost"
NOT_AN_ORDER = {"id": 5, "name": "not an order"}
SHOPIFY_ORDER_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/fulfilled",
    "orders/cancelled",
    "refunds/create",
)
WOO_ORDER_TOPICS = ("order.created", "order.updated")


@dataclass
class Battery:
    """The running service and every answer it gave, by label."""

    url: str
    port: int
    log: Path
    answers: list[tuple[str, int, dict[str, str], bytes]] = field(default_factory=list)

    def record(self, label: str, response: httpx.Response) -> httpx.Response:
        self.answers.append((label, response.status_code, dict(response.headers), response.content))
        return response

    def post(self, label: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.record(label, httpx.post(f"{self.url}{path}", timeout=30, **kwargs))

    def get(self, label: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.record(label, httpx.get(f"{self.url}{path}", timeout=30, **kwargs))

    def healthy(self) -> None:
        assert httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200

    def raw(self, label: str, request: bytes, *, drip: bytes = b"", every: float = 0.0) -> int:
        """Send ``request`` over a socket (no client-side URL clean-up), then ``drip`` one byte
        every ``every`` seconds until the server answers; the status code of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request)
            for byte in drip:
                readable, _w, _x = select.select([sock], [], [], every)
                if readable:  # the server answered
                    break
                sock.sendall(bytes([byte]))
            answer = sock.recv(65536)
        status = int(answer.split(b" ", 2)[1])
        self.answers.append((label, status, {}, answer))
        return status


def _status_of(response: httpx.Response) -> str:
    return str(response.json().get("status"))


def _write_down_shop(folder: Path, *, platform: str, domain: str, closed: int) -> dict[str, str]:
    """A shop whose platform does not answer (its API URL is a port nobody listens on)."""
    prefix = "DOWN_" + platform.upper()
    env = {
        f"{prefix}_WEBHOOK": "down-secret-" + secrets.token_hex(16),
        f"{prefix}_TOKEN": "down-token",
        f"{prefix}_KEY": "ck_down",
        f"{prefix}_SECRET": "cs_down",
        f"{prefix}_CODE": "code-" + secrets.token_hex(8),
    }
    names = (
        {"webhook_secret": f"{prefix}_WEBHOOK", "api_token": f"{prefix}_TOKEN"}
        if platform == "shopify"
        else {
            "webhook_secret": f"{prefix}_WEBHOOK",
            "consumer_key": f"{prefix}_KEY",
            "consumer_secret": f"{prefix}_SECRET",
        }
    )
    (folder / f"{platform}-down.yaml").write_text(
        shop_yaml(
            platform=platform,
            domain=domain,
            base_url=f"http://127.0.0.1:{closed}",
            secrets={**names, "code_secret": f"{prefix}_CODE"},
        ),
        encoding="utf-8",
    )
    return env


def _config(tmp: Path, shopify: Any, woo: Any) -> tuple[Path, dict[str, str]]:
    folder = tmp / "shops"
    folder.mkdir()
    env: dict[str, str] = {}
    for name, writer, sandbox in (
        ("shopify", write_shopify_config, shopify),
        ("woocommerce", write_woocommerce_config, woo),
    ):
        part, part_env = writer(tmp / name, sandbox)
        text = (part / "shop.yaml").read_text(encoding="utf-8")
        for var in part_env:  # both writers name their secrets alike: keep them apart
            text = text.replace(f": {var}\n", f": {name.upper()}_{var}\n")
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        env.update({f"{name.upper()}_{k}": v for k, v in part_env.items()})
    closed = free_port()
    env.update(_write_down_shop(folder, platform="shopify", domain=DOWN_SHOPIFY, closed=closed))
    env.update(_write_down_shop(folder, platform="woocommerce", domain=DOWN_WOO, closed=closed))
    (folder / "service.yaml").write_text(
        f"shopify_api_key: {API_KEY}\nbody_timeout_seconds: 2\n", encoding="utf-8"
    )
    return folder, env


@pytest.fixture
def battery(
    shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> Iterator[tuple[Battery, Path, dict[str, str]]]:
    config, env = _config(tmp_path, shopify_sandbox, woocommerce_sandbox)
    port = free_port()
    log_path = tmp_path / "serve.log"
    command = [sys.executable, "-m", "aftersale_kit", "serve", "--config", str(config)]
    command += ["--db", db_url, "--port", str(port), "--threads", "2"]
    process_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=process_env, stdout=log, stderr=log)
        bat = Battery(url=f"http://127.0.0.1:{port}", port=port, log=log_path)
        try:
            wait_for(lambda: proc.poll() is not None or _up(bat.url), timeout=30)
            assert proc.poll() is None, log_path.read_text()
            yield bat, config, process_env
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _jwt(secret: str, shop: str, **over: Any) -> str:
    now = int(time.time())
    claims = {"dest": f"https://{shop}", "aud": API_KEY, "exp": now + 120, "nbf": now - 5}
    claims.update(over)
    return jwt.encode(claims, secret, "HS256")


def _fuzzed(body: bytes, rng: random.Random) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data))
        change = rng.choice(("flip", "drop", "insert", "cut"))
        if change == "flip":
            data[at] = rng.choice(b'{}[]":,0123456789aeflnrstu\\ \x00\xff')
        elif change == "drop":
            del data[at : at + rng.randint(1, 40)]
        elif change == "insert":
            data[at:at] = rng.choice((b"[" * 200, b'{"a":' * 80, b"\xc3\x28", b'"', b"1e999999"))
        else:
            del data[at:]
    return bytes(data)


def _pending_events(store: Store) -> list[Any]:
    jobs = store.jobs(status=JobStatus.PENDING) + store.jobs(status=JobStatus.CLAIMED)
    return [j for j in jobs if j.kind == JobKind.PROCESS_EVENT]


def _count_events(db_url: str) -> int:
    with Store.open(db_url, migrate=False) as store, store.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


@pytest.mark.slow
def test_bad_input_battery_against_serve(
    battery: tuple[Battery, Path, dict[str, str]],
    shopify_sandbox: Any,
    woocommerce_sandbox: Any,
    db_url: str,
) -> None:
    bat, config, env = battery
    shop = shopify_sandbox.shop_domain
    s_secret = shopify_sandbox.secret
    w_secret = woocommerce_sandbox.webhooks.default_secret
    source = woocommerce_sandbox.home_url
    woo_shop = "127.0.0.1"

    def shopify(label: str, topic: str, body: Any, **headers: str) -> httpx.Response:
        h, raw = shopify_delivery(topic=topic, body=body, shop=shop, secret=s_secret)
        return bat.post(label, "/webhooks/shopify", headers={**h, **headers}, content=raw)

    def woo(label: str, body: Any, topic: str = "order.updated") -> httpx.Response:
        h, raw = woocommerce_delivery(body=body, source=source, secret=w_secret, topic=topic)
        return bat.post(label, "/webhooks/woocommerce", headers=h, content=raw)

    # given a paid order on each platform, delivered as the platforms deliver it
    s_order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    w_order = woocommerce_sandbox.create_order(customer_id=0)
    woocommerce_sandbox.pay(w_order["id"])
    w_order = woocommerce_sandbox.order(w_order["id"])
    assert _status_of(shopify("good shopify", "orders/paid", s_order)) == "accepted"
    assert _status_of(woo("good woo", w_order)) == "accepted"
    s_body = json.dumps(s_order).encode()
    w_body = json.dumps(w_order).encode()
    bat.healthy()

    # when the webhooks get deep, truncated, non-UTF-8, huge and unsigned bodies
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_field = b'{"id": 1, "x": ' + b"[" * 100 + b"]" * 100 + b"}"
    for label, raw in (("deep", deep), ("deep field", deep_field)):
        assert shopify(f"shopify {label}", "orders/paid", raw).json()["reason"] == "too_deep"
        assert woo(f"woo {label}", raw).json()["reason"] == "too_deep"
    assert shopify("shopify truncated", "orders/paid", s_body[:-700]).json()["reason"] == (
        "not_json"
    )
    assert woo("woo truncated", w_body[: len(w_body) // 2]).json()["reason"] == "not_json"
    assert woo("woo not utf-8", b'{"id": "\xff"}').json()["reason"] == "not_utf8"
    huge = b'{"id": 1, "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert shopify("shopify huge", "orders/paid", huge).status_code == 413
    chunks = iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)])
    streamed = bat.post("huge streamed", "/webhooks/woocommerce", content=chunks)
    assert streamed.status_code == 413
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "image/png"):
        headers = {"Content-Type": content_type, "X-Shopify-Shop-Domain": shop}
        unsigned = bat.post(
            f"unsigned {content_type}", "/webhooks/shopify", headers=headers, content=s_body
        )
        assert unsigned.status_code == 401
        wc = {"Content-Type": content_type, "X-WC-Webhook-Source": source}
        assert (
            bat.post(
                "woo unsigned", "/webhooks/woocommerce", headers=wc, content=w_body
            ).status_code
            == 401
        )
    bat.healthy()

    # and signed bodies that are not orders arrive on every order topic
    for topic in SHOPIFY_ORDER_TOPICS:
        answer = shopify(f"not an order {topic}", topic, NOT_AN_ORDER)
        assert (answer.status_code, _status_of(answer)) == (200, "quarantined"), answer.text
    assert _status_of(shopify("array body", "orders/paid", [1, 2, 3])) == "quarantined"
    for topic in WOO_ORDER_TOPICS:
        answer = woo(f"not an order {topic}", NOT_AN_ORDER, topic=topic)
        assert (answer.status_code, _status_of(answer)) == (200, "quarantined"), answer.text
    # the same body redelivered is the same quarantined delivery
    assert _status_of(shopify("redelivered", "orders/paid", NOT_AN_ORDER)) == "quarantined"

    # and fuzzed signed bodies
    rng = random.Random(11)
    for i in range(80):
        shopify(f"fuzz shopify {i}", "orders/paid", _fuzzed(s_body, rng))
        woo(f"fuzz woo {i}", _fuzzed(w_body, rng))
    bat.healthy()

    # and a body that arrives a byte every 0.7 s, and one that is abandoned half-way
    head = (
        f"POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-Shopify-Shop-Domain: {shop}\r\nContent-Length: 400\r\n\r\n"
    ).encode()
    started = time.monotonic()
    assert bat.raw("slow body", head + b"{", drip=b'"a":' * 20, every=0.7) == 408
    assert time.monotonic() - started < 6
    with socket.create_connection(("127.0.0.1", bat.port)) as sock:
        sock.sendall(head + b'{"id": 1, ')
        time.sleep(0.3)
    bat.healthy()

    # and the block endpoint gets path tricks and malformed or foreign tokens
    s_calls = len(shopify_sandbox.api_requests())
    w_calls = len(woocommerce_sandbox.requests())
    good_jwt = _jwt(s_secret, shop)
    bearer = {"Authorization": f"Bearer {good_jwt}"}
    base = f"/v1/blocks/shopify/{shop}"
    for trick in (
        "..%2F..%2Fetc%2Fpasswd",
        "gid%3A%2F%2Fshopify%2FOrder%2Fabc",
        "1" * 30,
        "%00",
        "１２３",
        "-1",
    ):
        assert bat.get(f"trick {trick}", f"{base}/{trick}", headers=bearer).status_code == 404
    dotted = (
        f"GET {base}/1/../../../etc/passwd HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {good_jwt}\r\nConnection: close\r\n\r\n"
    )
    assert bat.raw("dot segments", dotted.encode()) == 404
    deep_header = base64.urlsafe_b64encode(
        b'{"alg":"HS256","x":' + b"[" * 1500 + b"]" * 1500 + b"}"
    ).rstrip(b"=")
    order_path = f"{base}/{s_order['id']}"
    for label, value in (
        ("no scheme", good_jwt),
        ("basic", "Basic dXNlcjpwYXNz"),
        ("garbage", "Bearer zzz"),
        ("deep header", "Bearer " + deep_header.decode() + ".e30.sig"),
        ("huge", "Bearer " + "a" * 20_000),
        ("wrong secret", "Bearer " + _jwt("not-the-secret-but-long-enough-for-hs256-0123", shop)),
        ("foreign shop", "Bearer " + _jwt(s_secret, "other-shop.myshopify.com")),
        ("wrong aud", "Bearer " + _jwt(s_secret, shop, aud="another-app")),
        (
            "alg none",
            "Bearer " + jwt.encode({"dest": f"https://{shop}", "aud": API_KEY}, None, "none"),
        ),
    ):
        answer = bat.get(f"shopify token {label}", order_path, headers={"Authorization": value})
        assert answer.status_code == 401, (label, answer.text)
    w_path = f"/v1/blocks/woocommerce/{woo_shop}/{w_order['id']}"
    other = woocommerce_sandbox.create_order(customer_id=0)
    other_token = woocommerce_block_token(
        secret=w_secret, shop=woo_shop, order_id=str(other["id"]), order_key=other["order_key"]
    )
    assert bat.get("woo no token", w_path).status_code == 401
    assert bat.get("woo malformed", w_path, params={"token": "zzz"}).status_code == 401
    assert bat.get("woo wrong", w_path, params={"token": "ab" * 32}).status_code == 404
    assert bat.get("woo foreign", w_path, params={"token": other_token}).status_code == 404
    unknown = bat.get(
        "woo unknown order",
        f"/v1/blocks/woocommerce/{woo_shop}/{other['id']}",
        params={"token": other_token},
    )
    assert unknown.status_code == 202 and unknown.headers["retry-after"]
    assert (
        bat.get(
            "woo trick", f"/v1/blocks/woocommerce/{woo_shop}/..%2F1", params={"token": other_token}
        ).status_code
        == 404
    )
    # then none of these cost a call to a platform
    assert len(shopify_sandbox.api_requests()) == s_calls
    assert len(woocommerce_sandbox.requests()) == w_calls

    # when the platforms do not answer
    down_jwt = _jwt(env["DOWN_SHOPIFY_WEBHOOK"], DOWN_SHOPIFY)
    down = bat.get(
        "down shopify",
        f"/v1/blocks/shopify/{DOWN_SHOPIFY}/1234",
        headers={"Authorization": f"Bearer {down_jwt}"},
    )
    assert down.status_code == 503 and down.headers["retry-after"], down.text
    assert (
        bat.get("down shopify no token", f"/v1/blocks/shopify/{DOWN_SHOPIFY}/1234").status_code
        == 401
    )
    # (the webhook of a WooCommerce order long ago: its key is stored, the order not cached)
    with Store.open(db_url, migrate=False) as store:
        store.save_order_keys([(DOWN_WOO, "777", "wc_order_downdown")])
    down_token = woocommerce_block_token(
        secret=env["DOWN_WOOCOMMERCE_WEBHOOK"],
        shop=DOWN_WOO,
        order_id="777",
        order_key="wc_order_downdown",
    )
    down_woo = bat.get(
        "down woo", f"/v1/blocks/woocommerce/{DOWN_WOO}/777", params={"token": down_token}
    )
    assert down_woo.status_code == 503 and down_woo.headers["retry-after"], down_woo.text
    bat.healthy()

    # then the good orders still get their blocks, with valid tokens
    good_token = woocommerce_block_token(
        secret=w_secret, shop=woo_shop, order_id=str(w_order["id"]), order_key=w_order["order_key"]
    )
    wait_for(lambda: bat.get("woo good", w_path, params={"token": good_token}).status_code == 200)
    wait_for(lambda: bat.get("shopify good", order_path, headers=bearer).status_code == 200)

    # and no answer was a 5xx but the 503s of the platforms that did not answer
    fives = [(label, status) for label, status, _h, _b in bat.answers if status >= 500]
    assert fives == [("down shopify", 503), ("down woo", 503)]
    # and exactly the accepted deliveries were stored as events
    accepted = [
        a
        for a in bat.answers
        if a[0].startswith(("good", "fuzz"))
        and a[1] == 200
        and json.loads(a[3]).get("status") == "accepted"
    ]
    assert _count_events(db_url) == len(accepted)
    refused = [a for a in bat.answers if a[0].startswith("fuzz") and a[1] != 200]
    assert all(a[1] == 400 for a in refused) and refused  # the fuzzing did refuse bodies

    # and the quarantined deliveries are counted, listed and replayable
    quarantined = {
        a[0] for a in bat.answers if a[1] == 200 and json.loads(a[3]).get("status") == "quarantined"
    }
    kept = {a[0] for a in bat.answers if a[0].startswith("fuzz") and a[0] in quarantined}
    by_intake = len(SHOPIFY_ORDER_TOPICS) + 1 + len(WOO_ORDER_TOPICS) + len(kept)
    # (accepted fuzzed bodies that pass the intake's quick check but are no order reach the
    # worker, which quarantines them too: none of them dies as a job)
    with Store.open(db_url, migrate=False) as store:
        wait_for(lambda: not _pending_events(store))
        rows = store.quarantined()
        dead = [j for j in store.jobs(status=JobStatus.DEAD) if j.kind == JobKind.PROCESS_EVENT]
    assert dead == []
    assert len([r for r in rows if ":sha256:" in r.dedupe_key]) == by_intake
    shopify_rows = len([r for r in rows if r.platform == "shopify"])
    metrics = httpx.get(f"{bat.url}/metrics").text
    assert (
        f'aftersale_quarantined_deliveries{{platform="shopify"}} {float(shopify_rows)}' in metrics
    )
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "aftersale_kit",
            "shops",
            "status",
            "--config",
            str(config),
            "--db",
            db_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    listed = [line for line in status.stdout.splitlines() if line.startswith("  #")]
    assert len(listed) == len(rows), status.stdout
    assert any("orders/cancelled" in line and "'line_items'" in line for line in listed)
    _replay_after_upgrade(bat, config, env, db_url, shopify_sandbox)

    # and the service logged no traceback, and the abandoned body as one line
    output = bat.log.read_text()
    assert "Traceback" not in output
    assert output.count("client went away") == 1


def _replay_after_upgrade(
    bat: Battery, config: Path, env: dict[str, str], db_url: str, sandbox: Any
) -> None:
    """A delivery an older version quarantined (a paid order in a shape it could not read) is
    stored by ``shops replay`` with this version, and its coupon is issued."""
    shop = sandbox.shop_domain
    order = sandbox.create_order(line_items=[{"title": "B", "price": "60.00"}])
    headers, raw = shopify_delivery(
        topic="orders/paid", body=order, shop=shop, secret=sandbox.secret
    )
    with Store.open(db_url, migrate=False) as store:
        kept = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-shopify-")}
        item = IncomingEvent(
            shop=shop,
            platform="shopify",
            topic="orders/paid",
            dedupe_key="older-version:1",
            received_at=datetime.now(UTC),
            body=raw,
            headers=kept,
        )
        assert store.quarantine(item, reason="an older version could not read it")
        before = len(store.quarantined(shop))
    replay = subprocess.run(
        [
            sys.executable,
            "-m",
            "aftersale_kit",
            "shops",
            "replay",
            shop,
            "--config",
            str(config),
            "--db",
            db_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert f"{shop}: 1 replayed, {before - 1} still in quarantine" in replay.stdout, replay.stdout
    with Store.open(db_url, migrate=False) as store:
        wait_for(
            lambda: (
                [c.status for c in store.coupons_for_order(shop, str(order["id"]))]
                == [CouponStatus.ISSUED]
            )
        )
        assert len(store.quarantined(shop)) == before - 1
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "aftersale_kit",
            "shops",
            "replay",
            shop,
            "--config",
            str(config),
            "--db",
            db_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"{shop}: 0 replayed, {before - 1} still in quarantine" in again.stdout, again.stdout
