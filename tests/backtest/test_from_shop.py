"""``backtest --from-shop``: past orders read through the adapters from the platform sandboxes
over real sockets, page by page, resumable from a checkpoint, rate limits waited out.

Every test runs against both sandboxes (Shopify's GraphQL Admin API, WooCommerce's REST API),
each seeded with orders one minute apart, through the registry-built adapter with credentials
from an environment mapping, as the command builds it.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pytest
from aftersale_kit_shopify.graphql_client import RetryPolicy
from aftersale_kit_shopify.sandbox import ShopifySandbox
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox
from aftersale_kit_woocommerce.sandbox.server import fixture, order_fixture_names

from aftersale_kit.backtest.from_shop import FromShopError, read_from_shop
from aftersale_kit.backtest.history import BadRow, HistoryOrder
from aftersale_kit.core.campaign import SecretRef, ShopSettings
from aftersale_kit.core.model import FinancialStatus
from aftersale_kit.testing.httpserver import SandboxHTTPServer

pytestmark = pytest.mark.slow

BASE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _dead_url() -> str:
    """A loopback port where nobody listens any more."""

    def nobody(_request: Any) -> Any:
        raise AssertionError("never called")

    with SandboxHTTPServer(nobody) as gone:
        return gone.url


class Shop(Protocol):
    """What the tests need from a seeded sandbox, whichever the platform."""

    name: str
    settings: ShopSettings
    environ: dict[str, str]
    #: Quick retries, so that a failing platform fails fast.
    options: dict[str, Any]
    page_size: int

    def seed(self, count: int) -> list[str]: ...
    def break_order(self, order_id: str) -> None: ...
    def fail_next(self, kind: str, count: int, *, retry_after: float | None = None) -> None: ...
    def clear_faults(self) -> None: ...
    def listing_requests(self) -> list[str | None]: ...
    def faults_served(self, kind: str) -> int: ...
    def live_orders(self) -> tuple[str, str]:
        """Two orders placed and paid now: the first gets a refund of 5.00, the second ships."""
        ...


class ShopifyShop:
    name = "shopify"
    page_size = 10

    def __init__(self, sandbox: ShopifySandbox) -> None:
        self.sandbox = sandbox
        # A roomy bucket: 25 pages must not wait for the leaky bucket to refill.
        sandbox.set_bucket(maximum_available=1e6, currently_available=1e6, restore_rate=1e6)
        self.settings = ShopSettings(
            platform="shopify",
            domain=sandbox.shop_domain,
            currency="USD",
            api_base_url=sandbox.url,
            secrets=(SecretRef("api_token", "SHOP_API_TOKEN"),),
        )
        self.environ = {"SHOP_API_TOKEN": sandbox.token}
        self.options: dict[str, Any] = {
            "retry": RetryPolicy(
                max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=1.0, timeout=5.0
            )
        }
        self._listed = 0

    def seed(self, count: int) -> list[str]:
        ids = []
        for i in range(count):
            created = (BASE + timedelta(minutes=i)).isoformat()
            order = self.sandbox.create_order(
                created_at=created,
                processed_at=created,
                financial_status="paid",
                customer=None,
                line_items=[{"title": f"Bohnen {i}", "price": "20.00"}],
            )
            ids.append(str(order["id"]))
        self._listed = len(self.sandbox.api_requests())
        return ids

    def break_order(self, order_id: str) -> None:
        # A line item without a title or name: the GraphQL schema serves it (empty strings),
        # the reader cannot (every line needs a title).
        record = self.sandbox.state.orders[int(order_id)]
        for item in record.rest["line_items"]:
            item["title"] = item["name"] = ""

    def fail_next(self, kind: str, count: int, *, retry_after: float | None = None) -> None:
        self.sandbox.fail_next(kind, count, retry_after=retry_after)

    def clear_faults(self) -> None:
        self.sandbox.clear_fault_script()

    def faults_served(self, kind: str) -> int:
        return self.sandbox.faults.counts[kind]

    def live_orders(self) -> tuple[str, str]:
        ids = []
        for _ in range(2):
            order = self.sandbox.create_order(
                financial_status="paid",
                customer=None,
                line_items=[{"title": "Mahlwerk", "price": "40.00"}],
            )
            ids.append(str(order["id"]))
        self.sandbox.refund(ids[0], amount="5.00")
        self.sandbox.fulfill(ids[1])
        return ids[0], ids[1]

    def listing_requests(self) -> list[str | None]:
        """The ``after`` cursor of each listing request since seeding."""
        return [
            r["variables"].get("after")
            for r in self.sandbox.api_requests()
            if r.get("operation_name") == "AftersaleOrdersHistory"
            or "AftersaleOrdersHistory" in str(r.get("query"))
        ]


class WooShop:
    name = "woocommerce"
    page_size = 100

    def __init__(self, sandbox: WooCommerceSandbox) -> None:
        self.sandbox = sandbox
        self.settings = ShopSettings(
            platform="woocommerce",
            domain="127.0.0.1",
            currency="USD",
            api_base_url=sandbox.url,
            secrets=(
                SecretRef("consumer_key", "WC_CONSUMER_KEY"),
                SecretRef("consumer_secret", "WC_CONSUMER_SECRET"),
            ),
        )
        self.environ = {
            "WC_CONSUMER_KEY": sandbox.consumer_key,
            "WC_CONSUMER_SECRET": sandbox.consumer_secret,
        }
        self.options = {"max_retries": 2, "backoff": 0.01, "max_retry_after": 1.0, "timeout": 5.0}
        self._template = fixture(order_fixture_names()[0])
        self._listed = 0

    def seed(self, count: int) -> list[str]:
        ids = []
        for i in range(count):
            order = copy.deepcopy(self._template)
            stamp = (BASE + timedelta(minutes=i)).replace(tzinfo=None).isoformat()
            order.update(
                id=5000 + i,
                number=str(5000 + i),
                date_created=stamp,
                date_created_gmt=stamp,
                date_modified=stamp,
                date_modified_gmt=stamp,
                date_paid=stamp,
                date_paid_gmt=stamp,
            )
            ids.append(str(self.sandbox.load_order(payload=order)["id"]))
        self._listed = len(self.sandbox.requests())
        return ids

    def break_order(self, order_id: str) -> None:
        record = self.sandbox.store.orders[int(order_id)]
        record.data["line_items"][0]["quantity"] = "many"

    def fail_next(self, kind: str, count: int, *, retry_after: float | None = None) -> None:
        self.sandbox.faults.fail_next(kind, count, retry_after=retry_after)

    def clear_faults(self) -> None:
        self.sandbox.faults.clear_script()

    def faults_served(self, kind: str) -> int:
        return self.sandbox.faults.counts[kind]

    def live_orders(self) -> tuple[str, str]:
        ids = []
        for _ in range(2):
            order = self.sandbox.create_order(
                status="processing",
                line_items=[{"product_id": 0, "name": "Mahlwerk", "quantity": 1, "total": "40.00"}],
            )
            ids.append(str(order["id"]))
        self.sandbox.refund(int(ids[0]), "5.00")
        self.sandbox.complete(int(ids[1]))
        return ids[0], ids[1]

    def listing_requests(self) -> list[str | None]:
        """The ``page`` of each listing request since seeding."""
        return [
            r["query"].get("page")
            for r in self.sandbox.requests()[self._listed :]
            if r["path"].endswith("/orders") and r.get("status") == 200
        ]


@pytest.fixture(params=["shopify", "woocommerce"])
def shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    if request.param == "shopify":
        with ShopifySandbox(currency="USD") as sandbox:
            yield ShopifyShop(sandbox)
    else:
        with WooCommerceSandbox() as woo:
            yield WooShop(woo)


def _read(shop: Shop, bad: list[BadRow], **options: Any) -> Iterator[HistoryOrder]:
    return read_from_shop(
        shop.settings,
        on_bad=bad.append,
        environ=shop.environ,
        adapter_options=shop.options,
        page_size=shop.page_size,
        **options,
    )


def test_every_order_is_read_in_order_across_pages(shop: Shop) -> None:
    # given
    ids = shop.seed(250)
    bad: list[BadRow] = []
    # when
    orders = list(_read(shop, bad))
    # then: all of them, oldest first, each once, over three pages or more
    assert [h.order.id for h in orders] == ids
    assert [h.order.created_at for h in orders] == [BASE + timedelta(minutes=i) for i in range(250)]
    assert [h.source.line for h in orders] == list(range(1, 251))
    assert {h.source.path for h in orders} == {f"shop:{shop.settings.domain}"}
    assert all(h.order.paid_at is not None for h in orders)
    assert bad == []
    assert len(shop.listing_requests()) >= 3


def test_since_and_until_bound_the_orders_read(shop: Shop) -> None:
    # given
    ids = shop.seed(30)
    bad: list[BadRow] = []
    # when: from the 10th order's minute (inclusive) to the 20th's (exclusive)
    orders = list(
        _read(
            shop,
            bad,
            since=BASE + timedelta(minutes=10),
            until=BASE + timedelta(minutes=20),
        )
    )
    # then
    assert [h.order.id for h in orders] == ids[10:20]


@pytest.mark.parametrize("stop", ["platform failure", "interrupt"])
def test_an_interrupted_read_resumes_and_yields_every_order_exactly_once(
    shop: Shop, tmp_path: Path, stop: str
) -> None:
    # given
    ids = shop.seed(250)
    checkpoint = tmp_path / "shop.checkpoint.json"
    bad: list[BadRow] = []
    first: list[str] = []
    # when: the first run stops after page 2 (the platform fails for good when page 3 is
    # asked for, or Ctrl-C while page 2 is being read)
    with pytest.raises((FromShopError, KeyboardInterrupt)) as stopped:
        for item in _read(shop, bad, checkpoint=checkpoint):
            first.append(item.order.id)
            if len(first) == 2 * shop.page_size and stop == "platform failure":
                shop.fail_next("5xx", -1)
            if len(first) == shop.page_size + 3 and stop == "interrupt":
                raise KeyboardInterrupt
    if stop == "platform failure":
        assert first == ids[: 2 * shop.page_size]
        message = str(stopped.value)
        assert f"shop:{shop.settings.domain}" in message and str(checkpoint) in message
    requests_before = len(shop.listing_requests())
    shop.clear_faults()
    # and the rerun with the same checkpoint
    second = [h.order.id for h in _read(shop, bad, checkpoint=checkpoint)]
    # then: every order exactly once, in order; the pages read before were not fetched again
    assert second == ids
    refetched = shop.listing_requests()[requests_before:]
    pages = -(-250 // shop.page_size)
    assert len(refetched) == pages - 2
    assert refetched[0] not in (None, "1", "2")
    assert json.loads(checkpoint.read_text())["complete"] is True
    # and a third run reads the spool only
    third = [h.order.id for h in _read(shop, bad, checkpoint=checkpoint)]
    assert third == ids and len(shop.listing_requests()) == requests_before + len(refetched)
    assert bad == []


def test_the_spool_holds_the_raw_orders_as_gzip_json_lines(shop: Shop, tmp_path: Path) -> None:
    shop.seed(12)
    checkpoint = tmp_path / "cp.json"
    list(_read(shop, [], checkpoint=checkpoint))
    spool = tmp_path / "cp.json.orders.jsonl.gz"
    with gzip.open(spool, "rt", encoding="utf-8") as lines:
        raws = [json.loads(line) for line in lines]
    assert len(raws) == 12 and all(isinstance(r, dict) and r.get("id") for r in raws)


def test_a_429_with_retry_after_is_waited_out(shop: Shop) -> None:
    # given: the next two requests are rate-limited with a short Retry-After
    ids = shop.seed(15)
    shop.fail_next("429", 2, retry_after=0.05)
    # when
    orders = [h.order.id for h in _read(shop, [])]
    # then
    assert orders == ids
    assert shop.faults_served("429") == 2


def test_shopify_query_cost_throttling_is_waited_out() -> None:
    # given: an empty leaky bucket that refills in about two seconds (slow enough that a busy
    # machine does not find it full again before the first page); the first page is THROTTLED
    with ShopifySandbox(currency="USD") as sandbox:
        shop = ShopifyShop(sandbox)
        ids = shop.seed(15)
        sandbox.set_bucket(maximum_available=2000, currently_available=0, restore_rate=350)
        # a page costs about 680 points: a wait of about two seconds, within the read's bound
        shop.options["retry"] = RetryPolicy(
            max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=5.0, timeout=5.0
        )
        # when
        orders = [h.order.id for h in _read(shop, [])]
        # then
        assert orders == ids
        # two pages, at least one of them asked for again after the wait for the bucket
        cursors = shop.listing_requests()
        pages = list(dict.fromkeys(cursors))
        assert len(pages) == 2 and pages[0] is None and len(cursors) > len(pages)


def test_an_unreachable_platform_gives_one_clear_error(shop: Shop) -> None:
    # given
    from dataclasses import replace

    settings = replace(shop.settings, api_base_url=_dead_url())
    # when
    with pytest.raises(FromShopError) as failed:
        list(
            read_from_shop(
                settings,
                on_bad=[].append,
                environ=shop.environ,
                adapter_options=shop.options,
            )
        )
    # then: it names the shop and what to check
    message = str(failed.value)
    assert message.startswith(f"shop:{settings.domain}: cannot read orders")
    assert "check shop.domain / shop.api_base_url" in message
    assert "Traceback" not in message


def test_missing_credentials_name_the_environment_variable(shop: Shop) -> None:
    with pytest.raises(FromShopError) as failed:
        list(read_from_shop(shop.settings, on_bad=[].append, environ={}))
    variable = shop.settings.secrets[0].env
    message = str(failed.value)
    assert message.startswith(f"shop:{shop.settings.domain}: shop.secrets.")
    assert f"environment variable {variable} is not set" in message


def test_a_malformed_order_is_a_bad_row_and_the_rest_is_read(shop: Shop) -> None:
    # given: the 7th order cannot be read
    ids = shop.seed(25)
    shop.break_order(ids[6])
    bad: list[BadRow] = []
    # when
    orders = [h.order.id for h in _read(shop, bad)]
    # then
    assert orders == ids[:6] + ids[7:]
    assert [(b.path, b.line) for b in bad] == [(f"shop:{shop.settings.domain}", 7)]
    assert ids[6] in bad[0].reason


def test_progress_shows_the_orders_read(shop: Shop) -> None:
    shop.seed(25)
    stream = io.StringIO()
    list(_read(shop, [], progress=True, progress_stream=stream))
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert f"shop:{shop.settings.domain}" in last and "25" in last and "orders" in last


def test_a_checkpoint_of_another_read_is_refused_not_misread(shop: Shop, tmp_path: Path) -> None:
    # given: a finished read of the whole history
    shop.seed(5)
    checkpoint = tmp_path / "cp.json"
    list(_read(shop, [], checkpoint=checkpoint))
    # when: the same checkpoint is named for a read from another day on
    with pytest.raises(FromShopError) as refused:
        list(_read(shop, [], checkpoint=checkpoint, since=BASE + timedelta(days=1)))
    # then
    assert str(refused.value).startswith(f"{checkpoint}: this checkpoint belongs to another read")


def test_refunds_payment_and_shipping_are_read_with_their_times(shop: Shop) -> None:
    # given: one order paid and partly refunded, one paid and shipped
    refunded_id, shipped_id = shop.live_orders()
    # when
    orders = {h.order.id: h for h in _read(shop, [])}
    # then
    refunded, shipped = orders[refunded_id], orders[shipped_id]
    assert [(r.amount.amount, r.created_at is not None) for r in refunded.order.refunds] == [
        (Decimal("5.00"), True)
    ]
    assert refunded.order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert refunded.fulfilled_at is None
    assert shipped.order.refunds == () and shipped.fulfilled_at is not None
    assert shipped.order.paid_at is not None and shipped.fulfilled_at >= shipped.order.created_at


def test_a_damaged_spool_is_one_clear_error(shop: Shop, tmp_path: Path) -> None:
    # given: a finished read whose spool was overwritten since
    shop.seed(5)
    checkpoint = tmp_path / "cp.json"
    list(_read(shop, [], checkpoint=checkpoint))
    spool = tmp_path / "cp.json.orders.jsonl.gz"
    spool.write_bytes(b"x" * spool.stat().st_size)
    # when
    with pytest.raises(FromShopError) as failed:
        list(_read(shop, [], checkpoint=checkpoint))
    # then
    assert str(failed.value).startswith(f"{spool}: the spooled orders cannot be read")
    assert f"delete {checkpoint}" in str(failed.value)
