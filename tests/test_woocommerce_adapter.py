"""WooCommerce specifics of the adapter: webhook deliveries, status kinds, dedupe, transport.

The shared platform contract runs in ``tests/contract/test_woocommerce_contract.py``; this file
covers what only WooCommerce has. Webhooks are verified against the vendor-shaped fixtures; the
REST side runs against real HTTP servers on loopback.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_woocommerce.adapter import CONTENT_META_KEYS, TAGS_META_KEY, WooCommerceAdapter
from aftersale_kit_woocommerce.client import WooClient
from aftersale_kit_woocommerce.coupons import coupon_body, same_coupon
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox, running_sandbox
from aftersale_kit_woocommerce.webhooks import (
    kind_for_order,
    normalize_store,
    sign_body,
    verify_woocommerce_webhook,
)

from aftersale_kit.core.campaign import CouponKind, SecretRef, ShopSettings
from aftersale_kit.core.errors import (
    ConfigError,
    InvalidRequestError,
    MalformedWebhookError,
    NotAuthorizedError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
    SignatureError,
    UnknownTopicError,
    WebhookError,
)
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import (
    ConfirmationContent,
    CouponSpec,
    IncomingWebhook,
    WebhookKind,
)
from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer, json_response
from aftersale_kit.testing.tls import make_test_certificate

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
BODY = (FIXTURES / "webhook_order_updated_body.raw.json").read_bytes()
DELIVERY = json.loads((FIXTURES / "webhook_order_updated_delivery.json").read_text("utf-8"))
SECRET = DELIVERY["secret"]
HEADERS: dict[str, str] = dict(DELIVERY["headers"])


def _php_encode(payload: Any) -> bytes:
    """``wp_json_encode``: escaped slashes and \\uXXXX for non-ASCII, no spaces."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def _delivery(payload: dict[str, Any], **extra: str) -> tuple[dict[str, str], bytes]:
    body = _php_encode(payload)
    headers = {**HEADERS, "X-WC-Webhook-Signature": sign_body(body, SECRET), **extra}
    return headers, body


def _order(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(BODY)
    payload.update(changes)
    return payload


# -- signature ------------------------------------------------------------------------------


def test_fixture_delivery_verifies_on_raw_bytes_and_is_a_paid_order() -> None:
    # when
    hook = verify_woocommerce_webhook(HEADERS, BODY, secrets=[SECRET], shop="example.com")
    # then
    assert hook.kind is WebhookKind.ORDER_PAID
    assert hook.event_kind is EventKind.ORDER_PAID
    assert hook.topic == "order.updated"
    assert hook.shop == "example.com"
    assert hook.order is not None and hook.order.id == "727" and hook.order.shop == "example.com"
    assert hook.order_id == "727"
    assert hook.delivery_id == "373e79b2ced4562bf1a95d19a4e3f6d0"
    assert hook.dedupe_key == "woocommerce:example.com:order:727:processing:2017-03-22T19:28:08"
    assert hook.occurred_at is not None and hook.occurred_at.isoformat() == (
        "2017-03-22T19:28:08+00:00"
    )
    assert hook.header("x-wc-webhook-signature") is None  # never kept
    event = hook.order_event()
    assert event is not None and event.kind is EventKind.ORDER_PAID


def test_reencoded_json_does_not_verify() -> None:
    # given: the same JSON, serialised by Python (no escaped slashes)
    reencoded = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert reencoded != BODY
    # when / then
    with pytest.raises(SignatureError, match="raw bytes"):
        verify_woocommerce_webhook(HEADERS, reencoded, secrets=[SECRET], shop="example.com")


def test_php_escaped_body_with_unicode_verifies_and_decodes() -> None:
    # given: a name with umlauts and a URL, escaped the PHP way
    payload = _order()
    payload["billing"]["first_name"] = "Jürgen"
    payload["line_items"][0]["name"] = "Kaffee – Bohne/ganz"
    headers, body = _delivery(payload)
    assert b"\\u00fc" in body and b"\\/" in body
    # when
    hook = verify_woocommerce_webhook(headers, body, secrets=[SECRET], shop="example.com")
    # then
    assert hook.order is not None
    assert hook.order.customer is None  # guest order 727
    assert hook.order.line_items[0].title == "Kaffee – Bohne/ganz"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({**HEADERS, "X-WC-Webhook-Signature": ""}, "missing header X-WC-Webhook-Signature"),
        ({**HEADERS, "X-WC-Webhook-Signature": "bm90IGl0"}, "does not match"),
        ({**HEADERS, "X-WC-Webhook-Signature": "%%%not-base64"}, "does not match"),
    ],
)
def test_bad_signatures_are_refused_naming_the_header(
    headers: dict[str, str], message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        verify_woocommerce_webhook(headers, BODY, secrets=[SECRET], shop="example.com")


def test_wrong_secret_is_refused_and_the_message_names_the_store_not_the_secret() -> None:
    with pytest.raises(SignatureError) as info:
        verify_woocommerce_webhook(HEADERS, BODY, secrets=["other-secret"], shop="example.com")
    assert "example.com" in str(info.value)
    assert "other-secret" not in str(info.value) and SECRET not in str(info.value)


def test_no_configured_secret_refuses_signed_deliveries() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify_woocommerce_webhook(HEADERS, BODY, secrets=[], shop="example.com")


def test_secret_stored_html_escaped_is_tried_decoded_like_wordpress() -> None:
    # given: WooCommerce signs with wp_specialchars_decode(secret)
    headers = {**HEADERS, "X-WC-Webhook-Signature": sign_body(BODY, "a&b<c>")}
    # when
    hook = verify_woocommerce_webhook(
        headers, BODY, secrets=["a&amp;b&lt;c&gt;"], shop="example.com"
    )
    # then
    assert hook.kind is WebhookKind.ORDER_PAID


def test_a_rotated_secret_list_accepts_either() -> None:
    hook = verify_woocommerce_webhook(
        HEADERS, BODY, secrets=["new-secret", SECRET], shop="example.com"
    )
    assert hook.order_id == "727"


# -- store identity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "host"),
    [
        ("https://example.com/", "example.com"),
        ("https://Shop.Example.com/wordpress/", "shop.example.com"),
        ("http://127.0.0.1:8123/", "127.0.0.1"),
        ("example.com", "example.com"),
        ("", ""),
    ],
)
def test_store_is_normalised_to_the_host(source: str, host: str) -> None:
    assert normalize_store(source) == host


def test_delivery_from_another_store_is_refused() -> None:
    headers, body = _delivery(_order(), **{"X-WC-Webhook-Source": "https://evil.example/"})
    with pytest.raises(SignatureError, match=r"evil\.example.*serves example\.com"):
        verify_woocommerce_webhook(headers, body, secrets=[SECRET], shop="example.com")


def test_www_prefix_is_the_same_store_and_the_adapters_name_is_used() -> None:
    headers, body = _delivery(_order(), **{"X-WC-Webhook-Source": "https://www.example.com/"})
    hook = verify_woocommerce_webhook(headers, body, secrets=[SECRET], shop="example.com")
    assert hook.shop == "example.com"


def test_without_a_configured_shop_the_source_names_the_store() -> None:
    hook = verify_woocommerce_webhook(HEADERS, BODY, secrets=[SECRET])
    assert hook.shop == "example.com"
    assert hook.dedupe_key.startswith("woocommerce:example.com:")


# -- ping ---------------------------------------------------------------------------------------


def test_ping_is_recognised_unsigned_and_never_an_error() -> None:
    # given: the fixture's ping (form body, no X-WC headers, no signature)
    ping = json.loads((FIXTURES / "webhook_ping.json").read_text("utf-8"))
    headers = {"User-Agent": ping["headers"]["User-Agent"]}
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    # when: even without any configured secret
    hook = verify_woocommerce_webhook(
        headers, ping["body"].encode(), secrets=[], shop="example.com"
    )
    # then
    assert hook.kind is WebhookKind.PING
    assert hook.event_kind is None and hook.order is None
    assert hook.order_event() is None
    assert hook.payload == {"webhook_id": "3"}
    assert hook.dedupe_key == "woocommerce:example.com:ping:3"


def test_a_form_body_with_webhook_headers_is_not_a_ping() -> None:
    headers = {**HEADERS, "X-WC-Webhook-Signature": "bm90IGl0"}
    with pytest.raises(SignatureError):
        verify_woocommerce_webhook(headers, b"webhook_id=3", secrets=[SECRET], shop="example.com")


def test_an_unsigned_non_ping_body_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing header"):
        verify_woocommerce_webhook(
            {"Content-Type": "application/json"}, BODY, secrets=[SECRET], shop="example.com"
        )


# -- topics and bodies --------------------------------------------------------------------------


def test_unknown_topic_is_refused_after_the_signature() -> None:
    headers = {**HEADERS, "X-WC-Webhook-Topic": "coupon.created"}
    with pytest.raises(UnknownTopicError, match=r"coupon\.created"):
        verify_woocommerce_webhook(headers, BODY, secrets=[SECRET], shop="example.com")


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"<html>oops</html>", "not JSON"), (b"[1, 2]", "JSON object"), (b'{"id": 5}', "line_items")],
)
def test_signed_but_malformed_bodies_are_refused(body: bytes, message: str) -> None:
    headers = {**HEADERS, "X-WC-Webhook-Signature": sign_body(body, SECRET)}
    with pytest.raises(MalformedWebhookError, match=message):
        verify_woocommerce_webhook(headers, body, secrets=[SECRET], shop="example.com")


# -- kinds by status ------------------------------------------------------------------------------

PAID_AT = "2017-03-22T19:28:08"


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"status": "processing", "date_paid_gmt": PAID_AT}, WebhookKind.ORDER_PAID),
        ({"status": "processing", "date_paid_gmt": None}, WebhookKind.ORDER_UPDATED),
        (
            {
                "status": "completed",
                "date_paid_gmt": PAID_AT,
                "date_completed_gmt": "2017-03-24T08:00:00",
            },
            WebhookKind.ORDER_FULFILLED,
        ),
        (
            {
                "status": "completed",
                "date_paid_gmt": PAID_AT,
                "date_completed_gmt": "2017-03-22T19:28:09",
            },
            WebhookKind.ORDER_PAID,
        ),
        ({"status": "completed", "date_paid_gmt": None}, WebhookKind.ORDER_FULFILLED),
        ({"status": "cancelled"}, WebhookKind.ORDER_CANCELLED),
        ({"status": "trash"}, WebhookKind.ORDER_CANCELLED),
        ({"status": "refunded"}, WebhookKind.REFUND_CREATED),
        ({"status": "pending", "date_paid_gmt": None}, WebhookKind.ORDER_UPDATED),
        ({"status": "on-hold", "date_paid_gmt": None}, WebhookKind.ORDER_UPDATED),
        ({"status": "checkout-draft", "date_paid_gmt": None}, WebhookKind.ORDER_UPDATED),
        ({"status": "failed"}, WebhookKind.ORDER_UPDATED),
        ({"status": "wc-shipped-by-plugin"}, WebhookKind.ORDER_UPDATED),
    ],
)
def test_kind_follows_the_order_status(changes: dict[str, Any], kind: WebhookKind) -> None:
    assert kind_for_order(_order(**changes)) is kind


@pytest.mark.parametrize("status", ["pending", "on-hold", "checkout-draft"])
def test_unpaid_orders_arrive_as_webhooks_without_an_order_event(status: str) -> None:
    # given
    headers, body = _delivery(_order(status=status, date_paid=None, date_paid_gmt=None))
    # when
    hook = verify_woocommerce_webhook(headers, body, secrets=[SECRET], shop="example.com")
    # then: acknowledged, no campaign event
    assert hook.kind is WebhookKind.ORDER_UPDATED
    assert hook.order is not None and hook.order_event() is None


# -- dedupe ---------------------------------------------------------------------------------------


def test_redelivery_with_a_new_delivery_id_and_the_other_topic_has_the_same_key() -> None:
    # given: the same order state, delivered as order.created and again as order.updated
    first, body = _delivery(_order(), **{"X-WC-Webhook-Topic": "order.created"})
    again = {
        **first,
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Delivery-ID": "0f" * 16,
    }
    # when
    a = verify_woocommerce_webhook(first, body, secrets=[SECRET], shop="example.com")
    b = verify_woocommerce_webhook(again, body, secrets=[SECRET], shop="example.com")
    # then
    assert a.delivery_id != b.delivery_id
    assert a.dedupe_key == b.dedupe_key


def test_a_new_order_state_has_a_new_key() -> None:
    one_h, one_b = _delivery(_order())
    two_h, two_b = _delivery(_order(date_modified_gmt="2017-03-23T10:00:00", status="completed"))
    one = verify_woocommerce_webhook(one_h, one_b, secrets=[SECRET], shop="example.com")
    two = verify_woocommerce_webhook(two_h, two_b, secrets=[SECRET], shop="example.com")
    assert one.dedupe_key != two.dedupe_key
    assert two.dedupe_key.endswith(":727:completed:2017-03-23T10:00:00")


# -- transport: status checks, retries, secrets ---------------------------------------------------

CK = "ck_0123456789abcdef0123456789abcdef01234567"
CS = "cs_fedcba9876543210fedcba9876543210fedcba98"


class Script:
    """Answers from a list of responses (the last one repeats), recording each request."""

    def __init__(self, *responses: Response, url: str = "") -> None:
        self.responses = list(responses)
        self.requests: list[Request] = []
        self.url = url
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            if len(self.responses) > 1:
                return self.responses.pop(0)
            return self.responses[0]


class Switch:
    """One loopback server per module (stopping one costs half a second) that answers with
    the script the current test installs."""

    def __init__(self) -> None:
        self.script = Script(json_response(200, {}))

    def __call__(self, request: Request) -> Response:
        return self.script(request)


@pytest.fixture(scope="module")
def _plain() -> Iterator[tuple[SandboxHTTPServer, Switch]]:
    switch = Switch()
    with SandboxHTTPServer(switch) as server:
        yield server, switch


@pytest.fixture(scope="module")
def _tls(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SandboxHTTPServer, Switch, str]]:
    cert = make_test_certificate(tmp_path_factory.mktemp("tls"))
    switch = Switch()
    with SandboxHTTPServer(switch, tls=cert.server_context) as server:
        yield server, switch, str(cert.ca_file)


@pytest.fixture
def serve(_plain: tuple[SandboxHTTPServer, Switch]) -> Callable[..., Script]:
    """``serve(*responses)``: a script on the plain-HTTP server (``.url``)."""
    server, switch = _plain

    def install(*responses: Response) -> Script:
        switch.script = Script(*responses, url=server.url)
        return switch.script

    return install


@pytest.fixture
def serve_tls(_tls: tuple[SandboxHTTPServer, Switch, str]) -> Callable[..., tuple[Script, str]]:
    """``serve_tls(*responses)``: a script on the HTTPS server, and the CA file to trust."""
    server, switch, ca_file = _tls

    def install(*responses: Response) -> tuple[Script, str]:
        switch.script = Script(*responses, url=server.url)
        return switch.script, ca_file

    return install


def _client(url: str, **options: Any) -> tuple[WooClient, list[float]]:
    waits: list[float] = []
    options.setdefault("backoff", 0.01)
    client = WooClient(url=url, consumer_key=CK, consumer_secret=CS, sleep=waits.append, **options)
    return client, waits


WAF_PAGE = Response(
    403,
    b"<html><head><title>Access denied</title></head><body><h1>Access denied</h1>"
    b"<p>Error 1020 &amp; Ray ID 7d</p></body></html>",
    [("Content-Type", "text/html")],
)


def test_a_waf_page_is_translated_not_crashed_on(serve: Callable[..., Script]) -> None:
    script = serve(WAF_PAGE)
    client, _ = _client(script.url)
    with pytest.raises(NotAuthorizedError) as info:
        client.get("orders/1")
    message = str(info.value)
    assert info.value.status == 403 and info.value.platform == "woocommerce"
    assert "Access denied Access denied Error 1020 & Ray ID 7d" in message
    assert "<html>" not in message


def test_a_200_that_is_not_json_is_a_platform_failure(serve: Callable[..., Script]) -> None:
    script = serve(Response(200, b"<html>Maintenance</html>", [("Content-Type", "text/html")]))
    client, _ = _client(script.url)
    with pytest.raises(PlatformUnavailableError, match=r"no JSON.*Maintenance"):
        client.get("orders/1")


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            401,
            {"code": "woocommerce_rest_cannot_view", "message": "Sorry"},
            NotAuthorizedError,
            None,
        ),
        (404, {"code": "rest_no_route", "message": "No route"}, NotFoundError, None),
        (
            400,
            {
                "code": "rest_invalid_param",
                "message": "Invalid parameter(s): per_page",
                "data": {"status": 400, "params": {"per_page": "must be between 1 and 100"}},
            },
            InvalidRequestError,
            "rest_invalid_param",
        ),
        (
            413,
            {"code": "woocommerce_rest_request_entity_too_large", "message": "Unable"},
            InvalidRequestError,
            "woocommerce_rest_request_entity_too_large",
        ),
    ],
)
def test_error_bodies_are_translated_with_woocommerces_code_and_message(
    serve: Callable[..., Script],
    status: int,
    body: dict[str, Any],
    error: type[PlatformError],
    code: str | None,
) -> None:
    script = serve(json_response(status, body))
    client, waits = _client(script.url)
    with pytest.raises(error) as info:
        client.get("orders", params={"per_page": 500})
    assert info.value.status == status
    assert body["message"] in str(info.value)
    assert waits == []  # a 4xx is never retried
    if code is not None:
        assert isinstance(info.value, InvalidRequestError) and info.value.code == code
        assert code in str(info.value)
    if "params" in body.get("data", {}):
        assert "per_page: must be between 1 and 100" in str(info.value)


def test_5xx_is_retried_with_backoff_then_succeeds(serve: Callable[..., Script]) -> None:
    script = serve(
        json_response(503, {"code": "x", "message": "busy"}),
        Response(502, b"<html>Bad gateway</html>"),
        json_response(200, {"id": 1}),
    )
    client, waits = _client(script.url, max_retries=2, backoff=0.01)
    answer = client.get("orders/1")
    assert answer.data == {"id": 1}
    assert len(script.requests) == 3
    assert len(waits) == 2 and waits[1] > waits[0]


def test_5xx_retries_are_bounded(serve: Callable[..., Script]) -> None:
    script = serve(json_response(500, {"code": "internal", "message": "PHP fatal"}))
    client, waits = _client(script.url, max_retries=2)
    with pytest.raises(PlatformUnavailableError, match="500 internal: PHP fatal"):
        client.get("orders/1")
    assert len(script.requests) == 3 and len(waits) == 2


def test_a_post_is_not_repeated_after_a_5xx_unless_the_caller_says_it_is_safe(
    serve: Callable[..., Script],
) -> None:
    script = serve(json_response(500, {"code": "internal", "message": "x"}))
    client, _ = _client(script.url, max_retries=2)
    with pytest.raises(PlatformUnavailableError):
        client.post("orders/1/notes", {"note": "hi"})
    assert len(script.requests) == 1
    with pytest.raises(PlatformUnavailableError):
        client.post("coupons", {"code": "x"}, retry=True)
    assert len(script.requests) == 4


def test_429_waits_for_retry_after_then_succeeds(serve: Callable[..., Script]) -> None:
    script = serve(
        json_response(429, {"code": "too_many", "message": "slow down"}, [("Retry-After", "2")]),
        json_response(200, []),
    )
    client, waits = _client(script.url, max_retry_after=5)
    answer = client.get("orders")
    assert answer.data == [] and waits == [2.0]


def test_429_beyond_the_cap_raises_rate_limited_with_retry_after(
    serve: Callable[..., Script],
) -> None:
    script = serve(
        json_response(429, {"code": "too_many", "message": "slow"}, [("Retry-After", "120")])
    )
    client, waits = _client(script.url, max_retry_after=30)
    with pytest.raises(RateLimitedError) as info:
        client.post("orders/1/notes", {"note": "x"})
    assert info.value.retry_after == 120.0 and waits == []
    assert len(script.requests) == 1


def test_timeouts_are_retried_then_reported_as_unavailable() -> None:
    faults = FaultPlan(timeout=1.0, hang_seconds=0.5)
    with SandboxHTTPServer(Script(json_response(200, {})), faults=faults) as server:
        client, waits = _client(server.url, timeout=0.2, max_retries=1)
        with pytest.raises(PlatformUnavailableError, match=r"ReadTimeout.*timeout 0\.2 s"):
            client.get("orders/1")
    assert faults.counts["timeout"] == 2 and len(waits) == 1


def test_user_agent_is_not_the_clients_default_and_timeout_is_configurable(
    serve: Callable[..., Script],
) -> None:
    script = serve(json_response(200, {"id": 1}))
    client, _ = _client(script.url, timeout=7.5)
    client.get("orders/1")
    agent = script.requests[0].headers["User-Agent"]
    assert agent.startswith("aftersale-kit/") and "WooCommerce-Python-REST-API" not in agent
    assert client.timeout == 7.5


def _assert_clean(text: str) -> None:
    assert CK not in text and CS not in text


def test_connection_errors_leak_no_credentials_in_message_chain_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given: a port nobody listens on; OAuth over http puts the consumer key in the URL
    with SandboxHTTPServer(Script(json_response(200, {}))) as server:
        url = server.url
    client, _ = _client(url, max_retries=1, timeout=1)
    caplog.set_level(logging.DEBUG)
    # when
    with pytest.raises(PlatformUnavailableError) as info:
        client.get("orders", params={"per_page": 5})
    logging.getLogger("test").error("sweep failed", exc_info=info.value)
    # then: the message, every chained exception, the traceback and the logs are clean
    _assert_clean(str(info.value))
    chained: BaseException | None = info.value
    while chained is not None:
        _assert_clean(str(chained))
        chained = chained.__cause__ or chained.__context__
    _assert_clean("".join(traceback.format_exception(info.value)))
    _assert_clean(caplog.text)
    assert "ConnectionError" in str(info.value)


def test_query_string_auth_over_https_leaks_nothing_and_leaves_params_alone(
    serve_tls: Callable[..., tuple[Script, str]], caplog: pytest.LogCaptureFixture
) -> None:
    # given: HTTPS with the key pair in the query string (hosts that drop Authorization)
    script, ca_file = serve_tls(
        json_response(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s)"})
    )
    params: dict[str, object] = {"per_page": 5}
    caplog.set_level(logging.DEBUG)
    client, _ = _client(script.url, query_string_auth=True, verify_ssl=ca_file)
    # when
    with pytest.raises(InvalidRequestError) as info:
        client.get("orders", params=params)
    with pytest.raises(InvalidRequestError):
        client.get("orders", params=params)
    # then: the secret did travel in the query string, but nowhere else
    assert f"consumer_secret={CS}" in script.requests[0].query_string
    assert params == {"per_page": 5}
    _assert_clean(str(info.value))
    _assert_clean(caplog.text)
    assert "consumer_secret=***" in caplog.text  # urllib3's request line, scrubbed


def test_basic_auth_over_https_sends_the_key_pair_in_the_header_only(
    serve_tls: Callable[..., tuple[Script, str]],
) -> None:
    script, ca_file = serve_tls(json_response(200, {"id": 1}))
    client, _ = _client(script.url, verify_ssl=ca_file)
    client.get("orders/1")
    sent = script.requests[0]
    assert CK not in sent.query_string
    expected = base64.b64encode(f"{CK}:{CS}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {expected}"


# -- coupons: the body sent, and what counts as "the same coupon" ---------------------------------

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _spec(**changes: Any) -> CouponSpec:
    values: dict[str, Any] = {
        "code": "DANKE-AB12CD34",
        "kind": CouponKind.PERCENTAGE,
        "value": Decimal("10"),
        "currency": "EUR",
        "title": "aftersale-kit thanks · order 727",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=30),
        "minimum_order": Money(Decimal("50.00"), "EUR"),
        "usage_limit": 1,
        "once_per_customer": True,
        "email": "Kunde@Example.com",
        "idempotency_key": "example.com:727:thanks:0",
    }
    values.update(changes)
    return CouponSpec(**values)


def test_coupon_body_maps_every_field_the_woocommerce_way() -> None:
    body = coupon_body(_spec(product_ids=("93", "94")), category_ids=[15])
    assert body == {
        "code": "danke-ab12cd34",
        "discount_type": "percent",
        "amount": "10",
        "free_shipping": False,
        "individual_use": True,
        "description": "aftersale-kit thanks · order 727",
        "date_expires": "2026-12-24T10:00:00Z",
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "email_restrictions": ["kunde@example.com"],
        "minimum_amount": "50",
        "product_ids": [93, 94],
        "product_categories": [15],
        "meta_data": [{"key": "_aftersale_kit_key", "value": "example.com:727:thanks:0"}],
    }


def test_free_shipping_is_a_zero_fixed_cart_coupon_with_free_shipping() -> None:
    body = coupon_body(
        _spec(kind=CouponKind.FREE_SHIPPING, value=Decimal(0), email=None, usage_limit=None)
    )
    assert body["discount_type"] == "fixed_cart" and body["amount"] == "0"
    assert body["free_shipping"] is True
    assert "email_restrictions" not in body and "usage_limit" not in body


def test_fixed_amount_is_a_fixed_cart_amount_string() -> None:
    body = coupon_body(_spec(kind=CouponKind.FIXED_AMOUNT, value=Decimal("5.50")))
    assert body["discount_type"] == "fixed_cart" and body["amount"] == "5.5"


def test_product_ids_must_be_numbers() -> None:
    with pytest.raises(InvalidRequestError, match="product ids are numbers, got 'abc'"):
        coupon_body(_spec(product_ids=("abc",)))


def test_the_same_coupon_as_woocommerce_returns_it_has_no_differences() -> None:
    # given: the docs' coupon shape, as WooCommerce formats it
    stored = json.loads((FIXTURES / "wc_v3_coupon_719.json").read_text("utf-8"))
    wanted = coupon_body(_spec(email=None))
    stored.update(amount="10.00", discount_type="percent", email_restrictions=[])
    # then
    assert same_coupon(stored, wanted) == []
    stored.update(amount="15.00", email_restrictions=["someone@example.com"])
    diffs = same_coupon(stored, wanted)
    assert any("amount '15.00'" in d for d in diffs)
    assert any("email restriction ['someone@example.com']" in d for d in diffs)


# -- building the adapter -------------------------------------------------------------------------

SECRETS = {"consumer_key": CK, "consumer_secret": CS, "webhook_secret": SECRET}


def _settings(**changes: Any) -> ShopSettings:
    values: dict[str, Any] = {
        "platform": "woocommerce",
        "domain": "example.com",
        "currency": "USD",
        "secrets": (
            SecretRef("consumer_key", "WC_CONSUMER_KEY"),
            SecretRef("consumer_secret", "WC_CONSUMER_SECRET"),
            SecretRef("webhook_secret", "WC_WEBHOOK_SECRET"),
        ),
    }
    values.update(changes)
    return ShopSettings(**values)


def test_from_settings_builds_a_platform_for_the_store() -> None:
    adapter = WooCommerceAdapter.from_settings(_settings(), secrets=SECRETS)
    assert adapter.name == "woocommerce" and adapter.shop == "example.com"
    assert adapter.url == "https://example.com"
    assert CK not in repr(adapter) and CS not in repr(adapter)


def test_from_settings_names_the_missing_environment_variable() -> None:
    with pytest.raises(ConfigError) as info:
        WooCommerceAdapter.from_settings(
            _settings(), secrets={"consumer_key": CK, "webhook_secret": "x"}
        )
    assert "shop.secrets.consumer_secret" in str(info.value)
    assert "WC_CONSUMER_SECRET" in str(info.value)


def test_from_settings_refuses_another_platform_and_api_version() -> None:
    with pytest.raises(ConfigError, match="not 'shopify'"):
        WooCommerceAdapter.from_settings(_settings(platform="shopify"), secrets=SECRETS)
    with pytest.raises(ConfigError, match="wc/v3"):
        WooCommerceAdapter.from_settings(_settings(api_version="wc/v2"), secrets=SECRETS)


def test_supported_fields_exclude_what_woocommerce_does_not_have() -> None:
    fields = WooCommerceAdapter.from_settings(_settings(), secrets=SECRETS).supported_fields
    assert {
        "customer.orders_count",
        "customer.total_spent",
        "line_items.categories",
        "line_items.tags",
        "order.subtotal",
        "first_order",
    } <= fields
    assert "customer.tags" not in fields and "line_items.product_type" not in fields


def test_enrich_makes_no_call_when_nothing_requested_is_unknown(
    serve: Callable[..., Script],
) -> None:
    # given: a store that would answer anything
    script = serve(json_response(200, []))
    adapter = WooCommerceAdapter(
        url=script.url, consumer_key=CK, consumer_secret=CS, shop="example.com"
    )
    order = normalize_woocommerce_order(json.loads(BODY), shop="example.com")
    # when: nothing, fields WooCommerce lacks, and customer fields of a guest order
    for fields in (
        frozenset(),
        frozenset({"customer.tags", "line_items.product_type"}),
        frozenset({"customer.orders_count", "first_order"}),
    ):
        assert adapter.enrich(order, fields) is order
    # then
    assert script.requests == []


# -- against the WooCommerce sandbox ------------------------------------------------------------

HOOK_SECRET = "sandbox-hook-secret"


@pytest.fixture(scope="module")
def _sandbox() -> Iterator[WooCommerceSandbox]:
    with running_sandbox(webhook_secret=HOOK_SECRET) as sandbox:
        yield sandbox


@pytest.fixture
def shop(_sandbox: WooCommerceSandbox) -> WooCommerceSandbox:
    _sandbox.reset()
    return _sandbox


def _adapter(shop: WooCommerceSandbox, **options: Any) -> WooCommerceAdapter:
    options.setdefault("backoff", 0.01)
    options.setdefault("verify_ssl", str(shop.ca_file) if shop.ca_file else True)
    return WooCommerceAdapter(
        url=shop.url,
        consumer_key=shop.consumer_key,
        consumer_secret=shop.consumer_secret,
        webhook_secret=HOOK_SECRET,
        shop="127.0.0.1",
        **options,
    )


def _paid_order(
    shop: WooCommerceSandbox, *, customer: int = 23, product: int = 93, quantity: int = 2
) -> str:
    order = shop.create_order(
        customer_id=customer,
        email="kundin@example.com",
        line_items=[{"product_id": product, "quantity": quantity}],
    )
    shop.pay(order["id"])
    return str(order["id"])


class Endpoint:
    """The service's webhook endpoint on loopback: verifies every request with the adapter
    and answers 200 when it is accepted (as the web service does), 401 when refused."""

    def __init__(self) -> None:
        self.adapter: WooCommerceAdapter | None = None
        self.accepted: list[IncomingWebhook] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        assert self.adapter is not None
        headers = {k: v for k, v in request.headers.items()}
        try:
            hook = self.adapter.verify_webhook(headers, request.body)
        except WebhookError as exc:
            with self._lock:
                self.refused.append(str(exc))
            return Response(401, b"refused")
        with self._lock:
            self.accepted.append(hook)
        return Response(200, b"ok")

    def orders(self, order_id: str) -> list[IncomingWebhook]:
        with self._lock:
            return [h for h in self.accepted if h.order_id == order_id]


@pytest.fixture(scope="module")
def _endpoint() -> Iterator[tuple[Endpoint, str]]:
    endpoint = Endpoint()
    with SandboxHTTPServer(endpoint) as server:
        yield endpoint, server.url + "/webhooks/woocommerce"


@pytest.fixture
def endpoint(
    _endpoint: tuple[Endpoint, str], shop: WooCommerceSandbox
) -> tuple[Endpoint, str, WooCommerceAdapter]:
    receiver, url = _endpoint
    receiver.accepted.clear()
    receiver.refused.clear()
    receiver.adapter = _adapter(shop)
    return receiver, url, receiver.adapter


def test_registration_is_idempotent_and_its_ping_is_answered_200(
    shop: WooCommerceSandbox, endpoint: tuple[Endpoint, str, WooCommerceAdapter]
) -> None:
    receiver, url, adapter = endpoint
    # when: registered twice
    first = adapter.register_webhooks(url)
    second = adapter.register_webhooks(url)
    # then: two subscriptions, each pinged once and the ping accepted with exactly 200
    assert first == second and len(first) == 2
    topics = {shop.webhook_state(int(i))["topic"] for i in first}
    assert topics == {"order.created", "order.updated"}
    pings = [d for d in shop.deliveries() if d["kind"] == "ping"]
    assert [p["status"] for p in pings] == [200, 200]
    assert [h.kind for h in receiver.accepted] == [WebhookKind.PING, WebhookKind.PING]
    assert receiver.refused == []


def test_registration_revives_a_disabled_subscription_with_the_right_secret(
    shop: WooCommerceSandbox, endpoint: tuple[Endpoint, str, WooCommerceAdapter]
) -> None:
    # given: a hand-made subscription with another secret, disabled after failures
    _, url, adapter = endpoint
    old = shop.add_webhook("order.updated", url, secret="old-secret", status="disabled")
    # when
    ids = adapter.register_webhooks(url)
    # then: kept (not doubled), active again, signing with the configured secret
    assert str(old["id"]) in ids and len(ids) == 2
    state = shop.webhook_state(old["id"])
    assert state["status"] == "active" and state["secret"] == HOOK_SECRET


def test_order_lifecycle_arrives_as_events_by_status(
    shop: WooCommerceSandbox, endpoint: tuple[Endpoint, str, WooCommerceAdapter]
) -> None:
    receiver, url, adapter = endpoint
    adapter.register_webhooks(url)

    def kinds_after(step: Callable[[], object], order_id: str) -> list[WebhookKind]:
        before = len(receiver.orders(order_id))
        step()
        assert shop.wait_for_webhooks(5)
        return [h.kind for h in receiver.orders(order_id)[before:]]

    # given: a checkout (order.created and order.updated, still pending)
    order = shop.create_order(customer_id=23, line_items=[{"product_id": 93}])
    oid = str(order["id"])
    assert shop.wait_for_webhooks(5)
    assert {h.kind for h in receiver.orders(oid)} == {WebhookKind.ORDER_UPDATED}
    # then: each transition is the event of its status
    assert set(kinds_after(lambda: shop.pay(int(oid)), oid)) == {WebhookKind.ORDER_PAID}
    shop.skew_clock(3600)  # shipped an hour after payment
    assert set(kinds_after(lambda: shop.complete(int(oid)), oid)) == {WebhookKind.ORDER_FULFILLED}
    assert set(kinds_after(lambda: shop.refund(int(oid)), oid)) == {WebhookKind.REFUND_CREATED}
    other = shop.create_order(customer_id=23, line_items=[{"product_id": 93}])
    assert set(kinds_after(lambda: shop.hold(other["id"]), str(other["id"]))) == {
        WebhookKind.ORDER_UPDATED
    }
    assert set(kinds_after(lambda: shop.cancel(other["id"]), str(other["id"]))) == {
        WebhookKind.ORDER_CANCELLED
    }
    assert receiver.refused == []


def test_paid_and_completed_at_once_is_a_paid_event(
    shop: WooCommerceSandbox, endpoint: tuple[Endpoint, str, WooCommerceAdapter]
) -> None:
    # given: a virtual order that goes from pending straight to completed on payment
    receiver, url, adapter = endpoint
    adapter.register_webhooks(url)
    order = shop.create_order(customer_id=23, line_items=[{"product_id": 93}])
    oid = str(order["id"])
    # when
    shop.pay(int(oid))
    shop.complete(int(oid))
    assert shop.wait_for_webhooks(5)
    # then: the campaign trigger "paid" is not lost
    last = receiver.orders(oid)[-1]
    assert last.order is not None and last.payload["status"] == "completed"
    assert last.kind is WebhookKind.ORDER_PAID


def test_redelivery_of_the_same_state_keeps_the_dedupe_key(
    shop: WooCommerceSandbox, endpoint: tuple[Endpoint, str, WooCommerceAdapter]
) -> None:
    # given: a paid order and its subscriptions
    receiver, url, adapter = endpoint
    ids = adapter.register_webhooks(url)
    oid = _paid_order(shop)
    assert shop.wait_for_webhooks(5)
    updated = next(int(i) for i in ids if shop.webhook_state(int(i))["topic"] == "order.updated")
    # when: the same state is delivered again a few seconds later (a new Delivery-ID)
    shop.skew_clock(5)
    shop.trigger_webhook(updated, int(oid))
    assert shop.wait_for_webhooks(5)
    # then
    hooks = receiver.orders(oid)
    assert len({h.delivery_id for h in hooks}) >= 2
    paid = [h for h in hooks if h.kind is WebhookKind.ORDER_PAID]
    assert len(paid) >= 2 and len({h.dedupe_key for h in paid}) == 1


def test_php_encoded_delivery_with_unicode_verifies(
    shop: WooCommerceSandbox, endpoint: tuple[Endpoint, str, WooCommerceAdapter]
) -> None:
    receiver, url, adapter = endpoint
    adapter.register_webhooks(url)
    order = shop.create_order(
        customer_id=23,
        email="jürgen@example.com",
        line_items=[{"product_id": 93, "name": "Kaffee – Bohne/ganz"}],
    )
    shop.pay(order["id"])
    assert shop.wait_for_webhooks(5)
    sent = [d for d in shop.deliveries() if d["kind"] == "delivery"]
    assert sent and "\\u2013" in sent[-1]["body"] and "\\/" in sent[-1]["body"]
    hook = receiver.orders(str(order["id"]))[-1]
    assert hook.order is not None
    assert hook.order.line_items[0].title == "Kaffee – Bohne/ganz"
    assert receiver.refused == []


@pytest.mark.parametrize(("query_string_auth", "auth"), [(False, "basic"), (True, "query_string")])
def test_https_with_basic_or_query_string_auth(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, query_string_auth: bool, auth: str
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_sandbox(https=True, cert_dir=tmp_path) as tls_shop:
        oid = _paid_order(tls_shop)
        adapter = _adapter(tls_shop, query_string_auth=query_string_auth)
        order = adapter.fetch_order(oid)
        log = tls_shop.requests()
    assert order.id == oid
    assert log[-1]["auth"] == auth
    assert tls_shop.consumer_secret not in caplog.text


def test_content_and_tags_are_meta_only_and_never_recalculate_a_paid_order(
    shop: WooCommerceSandbox,
) -> None:
    # given: a paid order
    oid = _paid_order(shop)
    adapter = _adapter(shop, content_note=True)
    order = adapter.fetch_order(oid)
    totals = {k: shop.order(int(oid))[k] for k in ("total", "discount_total", "total_tax")}
    content = ConfirmationContent(
        blocks=({"type": "coupon", "code": "danke-1"},), html="<p>Danke!</p>", text="Danke!"
    )
    # when: content twice, tags twice
    adapter.write_content(order, content)
    adapter.write_content(order, content)
    adapter.tag_order(order, ["vip", "free-gift"])
    adapter.tag_order(order, ["VIP", "newsletter"])
    # then: the meta is there once per key, nothing was recalculated, one customer note e-mailed
    meta = shop.order_meta(int(oid))
    keys = [m["key"] for m in meta]
    assert all(keys.count(k) == 1 for k in (*CONTENT_META_KEYS, TAGS_META_KEY))
    values = {m["key"]: m["value"] for m in meta}
    assert json.loads(values["_aftersale_kit_blocks"])["blocks"] == [
        {"type": "coupon", "code": "danke-1"}
    ]
    assert values["_aftersale_kit_email_text"] == "Danke!"
    assert values[TAGS_META_KEY] == "vip, free-gift, newsletter"
    assert shop.recalculations() == []
    assert {k: shop.order(int(oid))[k] for k in totals} == totals
    assert [e["note"] for e in shop.customer_emails()] == ["Danke!"]
    puts = [r for r in shop.requests() if r["method"] == "PUT"]
    assert puts and all(set(r["body"]) == {"meta_data"} for r in puts)


def test_the_sandbox_does_record_a_recalculation_when_line_items_are_sent(
    shop: WooCommerceSandbox,
) -> None:
    """The control for the test above: the record is not empty by construction."""
    oid = _paid_order(shop)
    line = shop.order(int(oid))["line_items"][0]
    shop.client().put(f"orders/{oid}", {"line_items": [{"id": line["id"], "quantity": 5}]})
    assert len(shop.recalculations()) == 1


def test_a_different_coupon_under_the_same_code_is_refused_naming_the_conflict(
    shop: WooCommerceSandbox,
) -> None:
    adapter = _adapter(shop)
    adapter.create_coupon(_spec(code="danke-1", email="a@example.com"))
    with pytest.raises(InvalidRequestError) as info:
        adapter.create_coupon(_spec(code="DANKE-1", value=Decimal(20), email="b@example.com"))
    message = str(info.value)
    assert info.value.code == "woocommerce_rest_coupon_code_already_exists"
    assert "'danke-1' already exists" in message and "amount '20.00' (wanted '20')" not in message
    assert "amount '10.00' (wanted '20')" in message
    assert "email restriction ['a@example.com'] (wanted ['b@example.com'])" in message
    assert len([c for c in shop.coupons() if c["code"] == "danke-1"]) == 1


def test_coupon_collections_are_category_slugs(shop: WooCommerceSandbox) -> None:
    adapter = _adapter(shop)
    ref = adapter.create_coupon(_spec(code="shirts-10", collections=("t-shirts", "Hoodies")))
    stored = next(c for c in shop.coupons() if c["id"] == int(ref.platform_id))
    assert stored["product_categories"] == [14, 16]
    assert stored["date_expires_gmt"] == "2026-12-24T10:00:00"
    assert stored["usage_limit"] == 1 and stored["usage_limit_per_user"] == 1
    assert stored["individual_use"] is True and stored["minimum_amount"] == "50.00"
    with pytest.raises(InvalidRequestError, match="no product category with slug 'socks'"):
        adapter.create_coupon(_spec(code="socks-10", collections=("socks",)))


def test_deactivation_expires_the_coupon_once(shop: WooCommerceSandbox) -> None:
    adapter = _adapter(shop)
    ref = adapter.create_coupon(_spec(code="zurueck-1", ends_at=None))
    adapter.deactivate_coupon("ZURUECK-1")
    puts = len([r for r in shop.requests() if r["method"] == "PUT"])
    adapter.deactivate_coupon("zurueck-1")
    stored = next(c for c in shop.coupons() if c["id"] == int(ref.platform_id))
    expires = datetime.fromisoformat(stored["date_expires_gmt"]).replace(tzinfo=UTC)
    assert expires < datetime.now(UTC)
    assert len([r for r in shop.requests() if r["method"] == "PUT"]) == puts  # no second write


def test_enrichment_reads_history_and_taxonomy_once_and_caches_it(
    shop: WooCommerceSandbox,
) -> None:
    # given: two earlier purchases (one partly refunded), an unpaid one, and this order
    first = _paid_order(shop, customer=77, quantity=1)  # 3.00
    shop.refund(int(first), "1.00")
    _paid_order(shop, customer=77, product=41, quantity=1)  # 544.90
    shop.create_order(customer_id=77, line_items=[{"product_id": 41}])  # pending: no purchase
    shop.set_product_terms(93, tags=["bestseller", "Tee & Kaffee"])
    oid = _paid_order(shop, customer=77, quantity=2)  # 6.00
    adapter = _adapter(shop)
    order = adapter.fetch_order(oid)
    fields = frozenset(
        {"first_order", "customer.total_spent", "line_items.categories", "line_items.tags"}
    )
    # when
    before = len(shop.requests())
    enriched = adapter.enrich(order, fields)
    calls = len(shop.requests()) - before
    again = adapter.enrich(order, fields)
    # then
    assert enriched.customer is not None
    assert enriched.customer.orders_count == 3
    assert enriched.customer.total_spent == Money(Decimal("552.90"), "USD")
    item = enriched.line_items[0]
    assert item.categories == ("t-shirts",) and item.tags == ("bestseller", "Tee & Kaffee")
    assert calls == 2  # the customer's orders (one page) and the products
    assert again == enriched and len(shop.requests()) - before == calls


def test_seeded_customer_history_is_what_the_enrichment_counts(shop: WooCommerceSandbox) -> None:
    # given: one real purchase of customer 81, then history seeded up to 4 purchases / 250.00
    _paid_order(shop, customer=81, quantity=1)  # 3.00
    before = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    added = shop.set_customer_history(81, orders_count=4, total_spent="250.00", before=before)
    again = shop.set_customer_history(81, orders_count=4, total_spent="250.00")
    oid = _paid_order(shop, customer=81, quantity=1)  # this order: 3.00 more
    # when
    enriched = _adapter(shop).enrich(
        _adapter(shop).fetch_order(oid),
        frozenset({"customer.orders_count", "customer.total_spent"}),
    )
    # then: three orders added (82.33 + 82.33 + 82.34 = 247.00), the second call added none
    assert len(added) == 3 and again == []
    assert [shop.order(i)["total"] for i in added] == ["82.33", "82.33", "82.34"]
    assert [shop.order(i)["date_paid_gmt"] for i in added] == [
        "2026-08-03T12:00:00",
        "2026-09-02T12:00:00",
        "2026-10-02T12:00:00",
    ]
    assert {shop.order(i)["status"] for i in added} == {"completed"}
    assert enriched.customer is not None
    assert enriched.customer.orders_count == 5
    assert enriched.customer.total_spent == Money(Decimal("253.00"), "USD")


def test_seeding_history_below_what_a_customer_has_is_refused(shop: WooCommerceSandbox) -> None:
    _paid_order(shop, customer=82)
    _paid_order(shop, customer=82)
    with pytest.raises(ValueError, match="customer 82 already has 2 purchases"):
        shop.set_customer_history(82, orders_count=1)
    with pytest.raises(ValueError, match="cannot be reached by adding 1 orders"):
        shop.set_customer_history(82, orders_count=3, total_spent="5.00")


def test_enrichment_fetches_only_what_is_requested(shop: WooCommerceSandbox) -> None:
    oid = _paid_order(shop, customer=78)
    adapter = _adapter(shop)
    order = adapter.fetch_order(oid)
    before = len(shop.requests())
    counted = adapter.enrich(order, frozenset({"customer.orders_count"}))
    new = shop.requests()[before:]
    assert [(r["path"], r["query"].get("per_page")) for r in new] == [
        ("/wp-json/wc/v3/orders", "1")
    ]
    assert counted.customer is not None and counted.customer.total_spent is None
    assert counted.line_items[0].categories is None


def test_orders_since_reads_every_page_of_changed_orders(shop: WooCommerceSandbox) -> None:
    # given: an old order, then eight changed ones
    old = _paid_order(shop)
    shop.skew_clock(120)
    since = datetime.now(UTC) + timedelta(seconds=60)
    changed = {_paid_order(shop) for _ in range(8)}
    adapter = _adapter(shop, page_size=3)
    # when
    before = len(shop.requests())
    seen = [o.id for o in adapter.orders_since(since)]
    # then
    assert set(seen) == changed and old not in seen and len(seen) == len(changed)
    pages = [r for r in shop.requests()[before:] if r["path"].endswith("/orders")]
    assert [r["query"]["page"] for r in pages] == ["1", "2", "3"]


def test_a_waf_blocking_the_clients_default_user_agent_does_not_block_the_adapter(
    tmp_path: Path,
) -> None:
    with running_sandbox(blocked_user_agents=("WooCommerce-Python-REST-API",)) as waf_shop:
        oid = _paid_order(waf_shop)
        assert waf_shop.client().get(f"orders/{oid}").status_code == 403
        assert _adapter(waf_shop).fetch_order(oid).id == oid
        with pytest.raises(NotAuthorizedError, match="web application firewall"):
            _adapter(waf_shop, user_agent="WooCommerce-Python-REST-API/3.0.0").fetch_order(oid)


def test_wrong_credentials_leak_nothing_into_messages_or_logs(
    shop: WooCommerceSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    oid = _paid_order(shop)
    wrong = WooCommerceAdapter(
        url=shop.url, consumer_key=shop.consumer_key, consumer_secret="cs_" + "9" * 40
    )
    with pytest.raises(NotAuthorizedError) as info:
        wrong.fetch_order(oid)
    for text in (str(info.value), caplog.text):
        assert shop.consumer_key not in text and shop.consumer_secret not in text
        assert "cs_" + "9" * 40 not in text
    assert "oauth_consumer_key=***" in caplog.text  # urllib3's request line, scrubbed


def test_a_customer_note_is_not_sent_twice_even_when_its_marker_was_lost(
    shop: WooCommerceSandbox,
) -> None:
    # given: the note went out, but the marker write after it failed (simulated: removed)
    oid = _paid_order(shop)
    adapter = _adapter(shop, content_note=True)
    order = adapter.fetch_order(oid)
    content = ConfirmationContent(html="<p>Danke, “Kundin”!</p>", text="Danke, “Kundin”!")
    adapter.write_content(order, content)
    assert "_aftersale_kit_note" in {m["key"] for m in shop.order_meta(int(oid))}
    shop.client().put(
        f"orders/{oid}", {"meta_data": [{"key": "_aftersale_kit_note", "value": None}]}
    )
    # when
    adapter.write_content(order, content)
    # then: found among the order's notes, not posted again; the marker is back
    assert len(shop.customer_emails()) == 1
    assert "_aftersale_kit_note" in {m["key"] for m in shop.order_meta(int(oid))}


def test_orders_since_skips_orders_older_than_since_when_the_store_ignores_the_filter(
    serve: Callable[..., Script],
) -> None:
    # given: a store before WooCommerce 5.8, which lists every order whatever modified_after says
    old = _order(id=1, date_modified_gmt="2026-01-01T00:00:00")
    new = _order(id=2, date_modified_gmt="2026-11-24T12:00:00")
    script = serve(json_response(200, [old, new], [("X-WP-Total", "2"), ("X-WP-TotalPages", "1")]))
    adapter = WooCommerceAdapter(url=script.url, consumer_key=CK, consumer_secret=CS)
    # when
    seen = [o.id for o in adapter.orders_since(NOW)]
    # then
    assert seen == ["2"]
    assert script.requests[0].param("modified_after") == "2026-11-24T10:00:00"
    assert script.requests[0].param("dates_are_gmt") == "true"


def test_fetch_order_with_an_id_that_is_no_number_is_not_found() -> None:
    adapter = WooCommerceAdapter(url="https://example.com", consumer_key=CK, consumer_secret=CS)
    with pytest.raises(NotFoundError, match="order ids are numbers"):
        adapter.fetch_order("727/notes")
