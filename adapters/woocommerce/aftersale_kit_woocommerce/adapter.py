"""The WooCommerce adapter: :class:`aftersale_kit.core.platform.Platform` over REST ``wc/v3``.

Built per store with :meth:`WooCommerceAdapter.from_settings`::

    adapter = WooCommerceAdapter.from_settings(
        settings,
        secrets={"consumer_key": "ck_...", "consumer_secret": "cs_...", "webhook_secret": "..."},
    )

``settings.domain`` is the WordPress site's host name; ``settings.api_base_url`` (e.g. a sandbox
``http://127.0.0.1:8123``) replaces ``https://<domain>``. Over ``https`` the official client sends
HTTP Basic (or, with ``query_string_auth``, the key pair as query parameters, for hosts that drop
the Authorization header); over plain ``http`` it signs OAuth 1.0a.

What each method sends (details in the modules beside this one):

* webhooks (:mod:`.webhooks`): no call; kinds by order status, dedupe on the order's state;
* coupons (:mod:`.coupons`): ``POST coupons``, idempotent by code; deactivation by expiry;
* content: ``PUT orders/<id>`` with **only** ``meta_data`` (``_aftersale_kit_blocks`` JSON,
  ``_aftersale_kit_html``, ``_aftersale_kit_email_html``, ``_aftersale_kit_email_text``), which the
  companion plugin prints on the thank-you page and in customer e-mails. A body with line items,
  addresses or coupon lines would make WooCommerce recalculate a paid order's totals: never sent.
  With ``content_note=True`` the text also goes out once as a customer-visible order note
  (WooCommerce e-mails it to the customer; meta ``_aftersale_kit_note`` marks it as sent);
* customer loyalty: ``PUT customers/<id>`` with only ``meta_data``: the user meta
  ``aftersale_kit_loyalty`` (the JSON document), ``aftersale_kit_points`` and
  ``aftersale_kit_tier`` (plain values for a theme or shortcode); see
  :meth:`WooCommerceAdapter.write_customer_loyalty`;
* tags: WooCommerce orders have no tags. They are kept in the order meta ``aftersale_kit_tags``
  (comma-separated; no leading underscore, so the merchant sees it under "Custom Fields"),
  merged with the tags already there;
* staff notes: a private order note (``POST orders/<id>/notes`` with ``customer_note`` false:
  shown to staff on the order page, never e-mailed), once per key: the order's private notes
  are listed first and a note carrying the key's marker is not posted again (notes cannot be
  updated, so there is nothing to merge and no read-merge-write race);
* enrichment (:mod:`.enrich`): only the requested unknown fields, cached briefly;
* ``register_webhooks``: ``order.created`` and ``order.updated`` to the address with the webhook
  secret; existing subscriptions (same topic and address) are kept, given the configured secret
  (WooCommerce never shows a webhook's secret) and re-activated if WooCommerce disabled them
  after failed deliveries; ``list_webhooks``: ``GET webhooks`` page by page, the order topics;
* ``orders_since``: ``GET orders?modified_after=...&dates_are_gmt=true`` page by page;
* ``list_orders`` / ``read_listed_order`` (:mod:`.history`, for backtests): ``GET
  orders?after=&before=&orderby=id&order=asc``, one page per call, resumable by its cursor.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aftersale_kit.core.campaign import ShopSettings
from aftersale_kit.core.errors import (
    ConfigError,
    ConfigProblem,
    InvalidRequestError,
    NotFoundError,
    PayloadError,
)
from aftersale_kit.core.model import Order
from aftersale_kit.core.platform import (
    ConfirmationContent,
    CouponRef,
    CouponSpec,
    CustomerLoyalty,
    IncomingWebhook,
    ListedOrder,
    MarketingConsent,
    OrderPage,
    WebhookEnvelope,
    WebhookSubscription,
    note_marker,
    platform_customer_id,
    staff_note,
)
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

from . import coupons, history
from .client import DEFAULT_USER_AGENT, WooClient
from .enrich import ENRICHABLE, Enricher, TTLCache
from .webhooks import (
    ORDER_TOPICS,
    normalize_store,
    peek_woocommerce_delivery,
    peek_woocommerce_webhook,
    verify_woocommerce_webhook,
)

__all__ = [
    "CONTENT_META_KEYS",
    "DEFAULT_API_VERSION",
    "LOYALTY_META_KEY",
    "LOYALTY_META_KEYS",
    "TAGS_META_KEY",
    "WooCommerceAdapter",
]

log = logging.getLogger("aftersale_kit_woocommerce")

PLATFORM = "woocommerce"
DEFAULT_API_VERSION = "wc/v3"
BLOCKS_META_KEY = "_aftersale_kit_blocks"
HTML_META_KEY = "_aftersale_kit_html"
EMAIL_HTML_META_KEY = "_aftersale_kit_email_html"
EMAIL_TEXT_META_KEY = "_aftersale_kit_email_text"
CONTENT_META_KEYS = (BLOCKS_META_KEY, HTML_META_KEY, EMAIL_HTML_META_KEY, EMAIL_TEXT_META_KEY)
TAGS_META_KEY = "aftersale_kit_tags"
NOTE_META_KEY = "_aftersale_kit_note"
LOYALTY_META_KEY = "aftersale_kit_loyalty"
POINTS_META_KEY = "aftersale_kit_points"
TIER_META_KEY = "aftersale_kit_tier"
LOYALTY_META_KEYS = (LOYALTY_META_KEY, POINTS_META_KEY, TIER_META_KEY)
#: The newsletter consent (double opt-in) in user meta: ``yes``/``no``, and its proof as JSON.
NEWSLETTER_META_KEY = "aftersale_kit_newsletter"
CONSENT_META_KEY = "aftersale_kit_newsletter_consent"
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_PAGE = 100


def _settings_problem(path: str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem("<shop settings>", 0, 0, path, message)])


def _numeric_id(value: str, what: str) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidRequestError(
            f"WooCommerce {what} ids are numbers, got {value!r}", platform=PLATFORM, status=None
        )
    return text


def _plain(text: str) -> str:
    """A note's text as compared: tags stripped, entities decoded, curly quotes and dashes
    (``wptexturize``) straightened, whitespace collapsed."""
    out = html.unescape(_TAG.sub(" ", text))
    for fancy, plain in (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        out = out.replace(fancy, plain)
    return _SPACES.sub(" ", out).strip()


def _gmt(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _meta(payload: Mapping[str, Any], key: str) -> Any:
    for entry in payload.get("meta_data") or ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


class WooCommerceAdapter:
    """One WooCommerce store. Thread-safe; several adapters (stores) may run side by side.

    ``url``: the site (``https://shop.example``; plain ``http`` signs OAuth 1.0a); ``shop``: the
    store's host name (default: the URL's), which webhooks must come from. ``timeout`` seconds
    per attempt; ``max_retries`` further attempts after 5xx/timeouts (idempotent calls) and 429s,
    waiting ``backoff`` doubled per attempt, or Retry-After up to ``max_retry_after``.
    ``query_string_auth`` for hosts that drop the Authorization header; ``user_agent`` replaces
    the client's default, which WAFs block. ``cache_ttl`` seconds for enrichment results;
    ``individual_use`` for created coupons; ``content_note`` also posts the content's text as a
    customer note; ``page_size`` orders per page in :meth:`orders_since`.
    """

    name = PLATFORM

    def __init__(
        self,
        *,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        webhook_secret: str | None = None,
        shop: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 15.0,
        verify_ssl: bool | str = True,
        query_string_auth: bool = False,
        user_agent: str = DEFAULT_USER_AGENT,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        cache_ttl: float = 60.0,
        individual_use: bool = True,
        content_note: bool = False,
        page_size: int = _PAGE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= _PAGE:
            raise ValueError(f"page_size must be 1..{_PAGE} (WordPress refuses more): {page_size}")
        self.url = url.rstrip("/")
        self.shop = normalize_store(shop or url)
        if not self.shop:
            raise _settings_problem("shop.domain", f"cannot tell the store's host from {url!r}")
        self._webhook_secrets = (webhook_secret,) if webhook_secret else ()
        self.client = WooClient(
            url=self.url,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            version=api_version,
            timeout=timeout,
            verify_ssl=verify_ssl,
            query_string_auth=query_string_auth,
            user_agent=user_agent,
            max_retries=max_retries,
            backoff=backoff,
            max_retry_after=max_retry_after,
            sleep=sleep,
        )
        self.individual_use = individual_use
        self.content_note = content_note
        #: Orders per page in :meth:`orders_since` (``per_page``; WordPress allows 1..100).
        self.page_size = page_size
        self._enricher = Enricher(self.client, ttl=cache_ttl)
        self._categories = TTLCache(max(cache_ttl, 300.0))

    @classmethod
    def from_settings(
        cls, settings: ShopSettings, *, secrets: Mapping[str, str], **options: Any
    ) -> WooCommerceAdapter:
        """The adapter for a store's settings and its resolved secrets.

        ``secrets``: ``consumer_key``, ``consumer_secret`` (REST key pair with read/write
        permission) and ``webhook_secret``. ``options`` go to the constructor (``timeout``,
        ``verify_ssl``, ``query_string_auth``, ``content_note``, ...).
        """
        if settings.platform != PLATFORM:
            raise _settings_problem(
                "shop.platform",
                f"the WooCommerce adapter serves platform 'woocommerce', not {settings.platform!r}",
            )
        if settings.auth_method == "approve":
            secrets = {**secrets, **_approved_keys(settings, options.pop("credentials", None))}
        else:
            options.pop("credentials", None)
        for required in ("consumer_key", "consumer_secret", "webhook_secret"):
            if not secrets.get(required):
                ref = settings.secret(required)
                where = f"environment variable {ref.env}" if ref else f"secret {required!r}"
                raise _settings_problem(
                    f"shop.secrets.{required}",
                    f"{where} is not set (the WooCommerce adapter needs {required})",
                )
        version = settings.api_version or DEFAULT_API_VERSION
        if version != DEFAULT_API_VERSION:
            raise _settings_problem(
                "shop.api_version", f"the WooCommerce adapter speaks wc/v3, got {version!r}"
            )
        return cls(
            url=settings.api_base_url or f"https://{settings.domain}",
            shop=settings.domain,
            consumer_key=secrets["consumer_key"],
            consumer_secret=secrets["consumer_secret"],
            webhook_secret=secrets["webhook_secret"],
            api_version=version,
            **options,
        )

    def __repr__(self) -> str:
        return f"WooCommerceAdapter(shop={self.shop!r}, url={self.url!r})"

    @property
    def supported_fields(self) -> frozenset[str]:
        """The condition fields WooCommerce provides, plus the enrichable ones it can fetch
        (customer tags and product types do not exist on WooCommerce)."""
        from .spec import SPEC

        return SPEC.fields | ENRICHABLE

    # -- webhooks ---------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> IncomingWebhook:
        return verify_woocommerce_webhook(
            headers, body, secrets=self._webhook_secrets, shop=self.shop
        )

    def peek_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEnvelope:
        return peek_woocommerce_webhook(
            headers, body, secrets=self._webhook_secrets, shop=self.shop
        )

    def peek_webhook_token_ref(
        self, headers: Mapping[str, str], body: bytes
    ) -> tuple[WebhookEnvelope, str | None]:
        """:meth:`peek_webhook` and the order key the thank-you page token is made from."""
        return peek_woocommerce_delivery(
            headers, body, secrets=self._webhook_secrets, shop=self.shop
        )

    # -- orders -----------------------------------------------------------------------------

    def _order(self, payload: Any, order_id: str) -> Order:
        try:
            return normalize_woocommerce_order(payload, shop=self.shop)
        except PayloadError as exc:
            raise InvalidRequestError(
                f"WooCommerce store {self.shop} returned order {order_id} in a form that cannot "
                f"be read: {exc}",
                platform=PLATFORM,
                status=200,
            ) from exc

    def fetch_order(self, order_id: str, *, enrich: frozenset[str] = frozenset()) -> Order:
        if not str(order_id).strip().isdigit():
            raise NotFoundError(
                f"WooCommerce store {self.shop}: no order {order_id!r} (order ids are numbers)",
                platform=PLATFORM,
                status=None,
            )
        oid = str(order_id).strip()
        order = self._order(self.client.get(f"orders/{oid}").data, oid)
        return self.enrich(order, enrich) if enrich else order

    def enrich(self, order: Order, fields: frozenset[str]) -> Order:
        return self._enricher.enrich(order, fields)

    def list_orders(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        cursor: str | None,
        page_size: int = history.MAX_PAGE,
    ) -> OrderPage:
        return history.list_orders(
            self.client,
            shop=self.shop,
            since=since,
            until=until,
            cursor=cursor,
            page_size=page_size,
        )

    def read_listed_order(self, raw: Mapping[str, Any]) -> ListedOrder:
        return history.read_listed_order(raw, shop=self.shop)

    def orders_since(self, since: datetime) -> Iterator[Order]:
        """Orders modified at or after ``since``, oldest id first, each once.

        ``modified_after`` exists since WooCommerce 5.8; an older store ignores it and lists
        every order, so the modification date is checked here as well.
        """
        if since.tzinfo is None:
            raise ValueError("since must be a timezone-aware datetime")
        after = coupons.wc_datetime(since)
        seen: set[str] = set()
        page = 1
        while True:
            answer = self.client.get(
                "orders",
                params={
                    "modified_after": after,
                    "dates_are_gmt": "true",
                    "orderby": "id",
                    "order": "asc",
                    "per_page": self.page_size,
                    "page": page,
                },
            )
            items = answer.data if isinstance(answer.data, list) else []
            for item in items:
                oid = str(item.get("id")) if isinstance(item, Mapping) else "?"
                if oid in seen:
                    continue
                seen.add(oid)
                modified = _gmt(item.get("date_modified_gmt"))
                if modified is not None and modified < since.replace(microsecond=0):
                    continue
                try:
                    yield normalize_woocommerce_order(item, shop=self.shop)
                except PayloadError as exc:
                    log.warning(
                        "WooCommerce %s: order %s skipped in sweep: %s", self.shop, oid, exc
                    )
            if answer.last_page(page, len(items), self.page_size):
                return
            page += 1

    # -- coupons ----------------------------------------------------------------------------

    def create_coupon(self, spec: CouponSpec) -> CouponRef:
        return coupons.create_coupon(
            self.client, spec, category_ids=self._category_ids, individual_use=self.individual_use
        )

    def deactivate_coupon(self, code: str) -> None:
        coupons.deactivate_coupon(self.client, code)

    def _category_ids(self, slugs: Sequence[str]) -> list[int]:
        """Category ids for slugs (``GET products/categories?slug=``), cached."""
        ids: list[int] = []
        for raw in slugs:
            slug = raw.strip().lower()
            cached = self._categories.get(slug)
            if isinstance(cached, int):
                ids.append(cached)
                continue
            answer = self.client.get("products/categories", params={"slug": slug})
            items = answer.data if isinstance(answer.data, list) else []
            match = next(
                (
                    c
                    for c in items
                    if isinstance(c, Mapping) and str(c.get("slug", "")).lower() == slug
                ),
                None,
            )
            if match is None or not str(match.get("id", "")).isdigit():
                raise InvalidRequestError(
                    f"WooCommerce store {self.shop} has no product category with slug {slug!r} "
                    "(coupon collections are category slugs, see Products > Categories)",
                    platform=PLATFORM,
                    status=None,
                )
            cid = int(match["id"])
            self._categories.put(slug, cid)
            ids.append(cid)
        return ids

    # -- content and tags -------------------------------------------------------------------

    def write_content(self, order: Order, content: ConfirmationContent) -> None:
        oid = _numeric_id(order.id, "order")
        meta = [
            {"key": BLOCKS_META_KEY, "value": content.blocks_json()},
            {"key": HTML_META_KEY, "value": content.html},
            {"key": EMAIL_HTML_META_KEY, "value": content.html},
            {"key": EMAIL_TEXT_META_KEY, "value": content.text},
        ]
        # Only meta_data: anything else may make WooCommerce recalculate a paid order.
        self.client.put(f"orders/{oid}", {"meta_data": meta})
        if self.content_note and content.text.strip():
            self._customer_note_once(oid, content.text.strip())

    def write_customer_loyalty(self, customer_id: str | None, loyalty: CustomerLoyalty) -> bool:
        """The customer's user meta, with ``PUT customers/<id>`` and only ``meta_data``
        (https://woocommerce.github.io/woocommerce-rest-api-docs/#update-a-customer). Meta
        sent by key replaces the value under that key (``WC_Data::update_meta_data``), so a
        repeat writes the same rows again; a ``None`` tier removes ``aftersale_kit_tier``.
        WooCommerce answers an unknown customer with 400 ``woocommerce_rest_invalid_id``:
        NotFoundError here."""
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        cid = _numeric_id(customer, "customer")
        meta = [
            {"key": LOYALTY_META_KEY, "value": loyalty.to_json()},
            {"key": POINTS_META_KEY, "value": str(loyalty.balance)},
            {"key": TIER_META_KEY, "value": loyalty.tier},
        ]
        try:
            self.client.put(f"customers/{cid}", {"meta_data": meta})
        except InvalidRequestError as exc:
            if exc.code != "woocommerce_rest_invalid_id":
                raise
            raise NotFoundError(
                f"WooCommerce {self.shop}: customer {cid} not found", platform=PLATFORM, status=400
            ) from exc
        log.info("woocommerce %s: loyalty of customer %s written", self.shop, cid)
        return True

    def record_marketing_consent(
        self, customer_id: str | None, email: str, consent: MarketingConsent
    ) -> bool:
        """WooCommerce has no marketing consent field of its own: the user meta
        ``aftersale_kit_newsletter`` (``yes`` or ``no``) and ``aftersale_kit_newsletter_consent``
        (JSON: state ``confirmed`` or ``withdrawn``, time, source, text version, address,
        method ``double_opt_in`` or ``unsubscribe``) with ``PUT customers/<id>``
        and only ``meta_data``
        (https://woocommerce.github.io/woocommerce-rest-api-docs/#update-a-customer), written
        by key, so a repeat replaces the same rows. A guest or an unknown customer
        (``woocommerce_rest_invalid_id``) is not written: ``False``."""
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        cid = _numeric_id(customer, "customer")
        proof = {
            "state": "confirmed" if consent.opted_in else "withdrawn",
            "opted_in": consent.opted_in,
            "at": consent.at.astimezone(UTC).isoformat(),
            "source": consent.source,
            "text_version": consent.text_version,
            "email": email,
            "method": "double_opt_in" if consent.opted_in else "unsubscribe",
        }
        meta = [
            {"key": NEWSLETTER_META_KEY, "value": "yes" if consent.opted_in else "no"},
            {"key": CONSENT_META_KEY, "value": json.dumps(proof, sort_keys=True)},
        ]
        try:
            self.client.put(f"customers/{cid}", {"meta_data": meta})
        except InvalidRequestError as exc:
            if exc.code != "woocommerce_rest_invalid_id":
                raise
            log.info("woocommerce %s: consent of unknown customer %s not written", self.shop, cid)
            return False
        log.info("woocommerce %s: marketing consent of customer %s written", self.shop, cid)
        return True

    def _customer_note_once(self, oid: str, text: str) -> None:
        """Post ``text`` as a customer note once. Notes cannot be updated and each one is
        e-mailed, so a repeat must not post it again: the order meta ``_aftersale_kit_note``
        holds the digest of the note sent, and the order's notes are searched for the text in
        case the marker was not written (a failure between the two calls)."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        current = self.client.get(f"orders/{oid}", params={"_fields": "id,meta_data"}).data
        if isinstance(current, Mapping) and _meta(current, NOTE_META_KEY) == digest:
            return
        notes = self.client.get(f"orders/{oid}/notes", params={"type": "customer"}).data
        wanted = _plain(text)
        for note in notes if isinstance(notes, list) else ():
            if isinstance(note, Mapping) and _plain(str(note.get("note", ""))) == wanted:
                break
        else:
            self.client.post(f"orders/{oid}/notes", {"note": text, "customer_note": True})
        self.client.put(f"orders/{oid}", {"meta_data": [{"key": NOTE_META_KEY, "value": digest}]})

    def add_order_note(self, order: Order, *, text: str, key: str) -> bool:
        oid = _numeric_id(order.id, "order")
        line = staff_note(text, key)
        marker = note_marker(key)
        # The notes endpoint answers every note of the order at once (no paging parameters,
        # https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-order-notes).
        notes = self.client.get(f"orders/{oid}/notes", params={"type": "internal"}).data
        for note in notes if isinstance(notes, list) else ():
            if isinstance(note, Mapping) and marker in _plain(str(note.get("note", ""))):
                return False
        self.client.post(f"orders/{oid}/notes", {"note": line, "customer_note": False})
        log.info("woocommerce %s: staff note added to order %s", self.shop, oid)
        return True

    def tag_order(self, order: Order, tags: Sequence[str]) -> None:
        oid = _numeric_id(order.id, "order")
        wanted = [t.replace(",", " ").strip() for t in tags]
        wanted = [t for t in wanted if t]
        if not wanted:
            return
        current = self.client.get(f"orders/{oid}", params={"_fields": "id,meta_data"}).data
        value = _meta(current, TAGS_META_KEY) if isinstance(current, Mapping) else None
        have = [t.strip() for t in str(value or "").split(",") if t.strip()]
        merged = list(have)
        for tag in wanted:
            if tag.lower() not in {t.lower() for t in merged}:
                merged.append(tag)
        if merged == have:
            return
        self.client.put(
            f"orders/{oid}", {"meta_data": [{"key": TAGS_META_KEY, "value": ", ".join(merged)}]}
        )

    def tag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        """WooCommerce customers have no tags: the user meta ``aftersale_kit_tags`` (the same
        comma-separated list as on orders), read with ``GET customers/<id>`` and written with
        ``PUT customers/<id>`` and only ``meta_data``, by key
        (https://woocommerce.github.io/woocommerce-rest-api-docs/#update-a-customer). A theme
        or the companion plugin gates a page with ``get_user_meta($user_id,
        'aftersale_kit_tags', true)``. Tags compare case-insensitively; a tag already there
        writes nothing. A guest or an unknown customer (``woocommerce_rest_invalid_id``):
        ``False``."""
        customer = platform_customer_id(customer_id)
        have = self.customer_tags(customer)
        if customer is None or have is None:
            log.info("woocommerce %s: unknown customer %s not tagged", self.shop, customer)
            return False
        cid = _numeric_id(customer, "customer")
        wanted = [t.replace(",", " ").strip() for t in tags]
        merged = list(have)
        for tag in wanted:
            if tag and tag.lower() not in {t.lower() for t in merged}:
                merged.append(tag)
        if merged != have:
            meta = [{"key": TAGS_META_KEY, "value": ", ".join(merged)}]
            self.client.put(f"customers/{cid}", {"meta_data": meta})
            log.info("woocommerce %s: customer %s tagged", self.shop, cid)
        return True

    def untag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        """Remove tags from the user meta ``aftersale_kit_tags`` (read, drop, write back with
        ``PUT customers/<id>`` and only ``meta_data``, by key,
        https://woocommerce.github.io/woocommerce-rest-api-docs/#update-a-customer). Tags
        compare case-insensitively; the others stay in their order; a tag that is not there
        writes nothing. A guest or an unknown customer: ``False``."""
        customer = platform_customer_id(customer_id)
        have = self.customer_tags(customer)
        if customer is None or have is None:
            log.info("woocommerce %s: unknown customer %s not untagged", self.shop, customer)
            return False
        drop = {t.replace(",", " ").strip().lower() for t in tags}
        kept = [t for t in have if t.lower() not in drop]
        if kept != have:
            cid = _numeric_id(customer, "customer")
            meta = [{"key": TAGS_META_KEY, "value": ", ".join(kept)}]
            self.client.put(f"customers/{cid}", {"meta_data": meta})
            log.info("woocommerce %s: tags removed from customer %s", self.shop, cid)
        return True

    def customer_tags(self, customer_id: str | None) -> list[str] | None:
        """The tags in the user meta ``aftersale_kit_tags`` (``GET customers/<id>``);
        ``None`` for a guest or an unknown customer (``woocommerce_rest_invalid_id``)."""
        customer = platform_customer_id(customer_id)
        if customer is None:
            return None
        cid = _numeric_id(customer, "customer")
        try:
            current = self.client.get(f"customers/{cid}").data
        except (InvalidRequestError, NotFoundError) as exc:
            if getattr(exc, "code", "woocommerce_rest_invalid_id") != "woocommerce_rest_invalid_id":
                raise
            return None
        value = _meta(current, TAGS_META_KEY) if isinstance(current, Mapping) else None
        return [t.strip() for t in str(value or "").split(",") if t.strip()]

    # -- webhooks subscriptions -------------------------------------------------------------

    def _webhooks(self) -> list[Mapping[str, Any]]:
        hooks: list[Mapping[str, Any]] = []
        page = 1
        while True:
            answer = self.client.get("webhooks", params={"per_page": _PAGE, "page": page})
            items = [w for w in (answer.data or []) if isinstance(w, Mapping)]
            hooks.extend(items)
            if answer.last_page(page, len(items), _PAGE):
                return hooks
            page += 1

    def list_webhooks(self) -> list[WebhookSubscription]:
        return [
            WebhookSubscription(
                id=str(w["id"]),
                topic=str(w.get("topic", "")).lower(),
                address=str(w.get("delivery_url", "")),
                active=w.get("status") == "active",
            )
            for w in self._webhooks()
            if "id" in w and str(w.get("topic", "")).lower() in ORDER_TOPICS
        ]

    def register_webhooks(self, address: str) -> list[str]:
        if not self._webhook_secrets:
            raise _settings_problem(
                "shop.secrets.webhook_secret",
                "a webhook secret is needed to register webhooks (WooCommerce would otherwise "
                "sign with a secret derived from the API user)",
            )
        secret = self._webhook_secrets[0]
        existing = self._webhooks()
        ids: list[str] = []
        for topic in ORDER_TOPICS:
            mine = [
                w
                for w in existing
                if str(w.get("topic", "")).lower() == topic
                and str(w.get("delivery_url", "")).rstrip("/") == address.rstrip("/")
            ]
            for hook in mine:
                # The secret is write-only (never in a response), so it is set every time:
                # a subscription made by hand or with an old secret would fail verification.
                changes: dict[str, Any] = {"secret": secret}
                if hook.get("status") != "active":
                    changes["status"] = "active"
                self.client.put(f"webhooks/{hook['id']}", changes)
                ids.append(str(hook["id"]))
            if not mine:
                created = self.client.post(
                    "webhooks",
                    {
                        "name": f"aftersale-kit {topic}",
                        "topic": topic,
                        "delivery_url": address,
                        "secret": secret,
                        "status": "active",
                    },
                ).data
                if not isinstance(created, Mapping) or "id" not in created:
                    raise InvalidRequestError(
                        f"WooCommerce answered POST webhooks for {topic} without an id",
                        platform=PLATFORM,
                        status=200,
                    )
                ids.append(str(created["id"]))
        return ids


#: What the stored keys of an ``auth: approve`` store are kept as (the service's credential
#: store, filled by the approval callback).
KEYS_KIND = "rest_keys"


def _approved_keys(settings: ShopSettings, credentials: Any) -> dict[str, str]:
    """The REST keys WooCommerce's approval created for the store (``auth: approve``)."""
    stored = credentials.get(settings.domain, KEYS_KIND) if credentials is not None else None
    if stored is None:
        raise _settings_problem(
            "shop.auth.method",
            f"{settings.domain} is not connected yet: run 'aftersale-kit shops connect "
            f"woocommerce {settings.domain}' and approve the link in the WordPress admin",
        )
    return {k: stored.value[k] for k in ("consumer_key", "consumer_secret")}
