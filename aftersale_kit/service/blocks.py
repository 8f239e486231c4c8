"""``GET /v1/blocks/{platform}/{shop}/{order_id}``: the thank-you page's content for one order.

Authentication
    Each platform's service extension checks the request (``authorize_block``, see
    :mod:`.extensions`): a platform's session token in ``Authorization``, or a token computed
    by the shop's companion plugin in ``?token=`` (with ``&key=`` naming the order key before
    the order's first webhook arrived). The extensions document their tokens.

Authentication comes first: no request causes a platform call before its token is verified,
and an order id that cannot be one (the platform's spec reads it: ``PlatformSpec.order_id``)
is a 404 before anything is looked up.

Answers
    200 with :func:`aftersale_kit.content.blocks_payload` (``{"status": "ready", "blocks": [...]}``
    with HTML and structured data per block); 202 ``{"status": "pending"}`` while nothing can be
    decided yet (the order is not visible yet or not paid); 401 for a missing, malformed, forged
    or expired token or one for another shop; 404 for an unknown shop, an unknown order, and
    another customer's order (indistinguishable on purpose); 503 with ``Retry-After`` when the
    platform did not answer (or refused the service's credentials).

Race with the webhook
    The page often renders before ``orders/paid`` arrives. Then the order is fetched through the
    adapter and decided through the same :meth:`Processor.decide_order` (``decide_once``), so the
    later webhook finds the decision and creates nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core import registry as platforms
from ..core.errors import NotFoundError, PlatformError, RateLimitedError
from ..core.model import EventKind, Order
from ..storage.ports import BlockReader
from .effects import PAID, Processor
from .extensions import BlockDenial, BlockGrant, BlockRequest, extension
from .logs import log_event
from .metrics import Metrics
from .shops import ShopEntry, ShopRegistry

__all__ = ["BlockResult", "BlockService"]

_RETRY_PENDING = 3
_RETRY_PLATFORM = 5


@dataclass(frozen=True, slots=True)
class BlockResult:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)
    #: The answer as JSON bytes when it was read as stored (``body`` is then empty).
    raw: bytes | None = None
    #: Seconds for the ``Retry-After`` header (202 and 503).
    retry_after: int | None = None


def _error(status: int, message: str) -> BlockResult:
    return BlockResult(status, {"status": "error", "error": message})


_PENDING = BlockResult(202, {"status": "pending"}, retry_after=_RETRY_PENDING)


class BlockService:
    def __init__(self, *, registry: ShopRegistry, processor: Processor, metrics: Metrics) -> None:
        self.registry = registry
        self.processor = processor
        self.store: BlockReader = processor.store
        self.metrics = metrics

    def get(
        self,
        platform: str,
        shop: str,
        order_id: str,
        *,
        authorization: str | None,
        token: str | None,
        order_key: str | None = None,
    ) -> BlockResult:
        try:
            result = self._get(
                platform,
                shop,
                order_id,
                authorization=authorization,
                token=token,
                order_key=order_key,
            )
        except RateLimitedError as exc:
            result = self._unavailable(shop, exc, retry_after=max(1, round(exc.retry_after)))
        except NotFoundError:
            result = _error(404, "unknown order")
        except PlatformError as exc:
            result = self._unavailable(shop, exc, retry_after=_RETRY_PLATFORM)
        self.metrics.blocks.labels(platform, str(result.status)).inc()
        return result

    @staticmethod
    def _unavailable(shop: str, exc: PlatformError, *, retry_after: int) -> BlockResult:
        log_event(
            logging.WARNING,
            "block request: platform did not answer",
            shop=shop[:200],
            error=str(exc),
        )
        return BlockResult(
            503,
            {"status": "error", "error": "the shop's platform did not answer; retry shortly"},
            retry_after=retry_after,
        )

    def _authorize(
        self,
        platform: str,
        shop: str,
        order_id: str,
        *,
        authorization: str | None,
        token: str | None,
        order_key: str | None,
    ) -> tuple[ShopEntry, Order | BlockGrant] | BlockResult:
        entry = self.registry.get(platform, shop) if len(shop) <= 255 else None
        spec = platforms.find(platform)
        authorize = getattr(extension(platform), "authorize_block", None) if spec else None
        if entry is None or spec is None or authorize is None:
            return _error(404, "unknown shop")
        if self.processor.uninstalled(entry.domain):
            return _error(404, "unknown shop")
        request = BlockRequest(
            entry=entry,
            order_id=spec.order_id(order_id),
            authorization=authorization,
            token=token,
            order_key=order_key,
            options=self.registry.settings.platform_options,
        )
        outcome = authorize(request, _Lookup(self, entry))
        if isinstance(outcome, BlockDenial):
            return _denied(outcome)
        return entry, outcome

    def _get(
        self,
        platform: str,
        shop: str,
        order_id: str,
        *,
        authorization: str | None,
        token: str | None,
        order_key: str | None,
    ) -> BlockResult:
        found = self._authorize(
            platform,
            shop,
            order_id,
            authorization=authorization,
            token=token,
            order_key=order_key,
        )
        if isinstance(found, BlockResult):
            return found
        entry, outcome = found
        if isinstance(outcome, BlockGrant):
            return self._granted(entry, outcome)
        return self._blocks(entry, outcome)

    def authorized_order(
        self,
        platform: str,
        shop: str,
        order_id: str,
        *,
        authorization: str | None,
        token: str | None,
        order_key: str | None = None,
    ) -> tuple[ShopEntry, Order] | BlockResult:
        """The shop and the order a request may act for, authenticated exactly as a block
        request for ``order_id`` is (the same session token or order token); otherwise the
        answer to give (401, 404, 202 pending, 503 when the platform did not answer)."""
        try:
            found = self._authorize(
                platform,
                shop,
                order_id,
                authorization=authorization,
                token=token,
                order_key=order_key,
            )
            if isinstance(found, BlockResult):
                return found
            entry, outcome = found
            if isinstance(outcome, Order):
                return entry, outcome
            order = self._order(entry, outcome.order_id)
            if order is None:
                return _PENDING
            denial = outcome.verify(order) if outcome.verify is not None else None
            return _denied(denial) if denial is not None else (entry, order)
        except RateLimitedError as exc:
            return self._unavailable(shop, exc, retry_after=max(1, round(exc.retry_after)))
        except NotFoundError:
            return _error(404, "unknown order")
        except PlatformError as exc:
            return self._unavailable(shop, exc, retry_after=_RETRY_PLATFORM)

    def _granted(self, entry: ShopEntry, grant: BlockGrant) -> BlockResult:
        if grant.use_stored:
            stored = self._stored(entry, grant.order_id)
            if stored is not None:
                return stored
        order = self._order(entry, grant.order_id)
        if order is None:
            return _PENDING
        denial = grant.verify(order) if grant.verify is not None else None
        if denial is not None:
            return _denied(denial)
        return self._blocks(entry, order)

    # -- content --------------------------------------------------------------------------------

    def _order(self, entry: ShopEntry, order_id: str) -> Order | None:
        if not order_id or not order_id.isascii() or len(order_id) > 64:
            return None
        try:
            return self.processor.order(entry, order_id)
        except NotFoundError:
            return None

    def _kind(self, entry: ShopEntry) -> EventKind:
        triggers = {c.trigger for c in entry.config.campaigns if c.enabled}
        if EventKind.ORDER_PAID in triggers or EventKind.ORDER_CREATED not in triggers:
            return EventKind.ORDER_PAID
        return EventKind.ORDER_CREATED

    def _stored(self, entry: ShopEntry, order_id: str) -> BlockResult | None:
        if not order_id or not order_id.isascii() or len(order_id) > 64:
            return None
        raw = self.store.blocks_json(entry.domain, order_id)
        return None if raw is None else BlockResult(200, raw=raw)

    def _blocks(self, entry: ShopEntry, order: Order) -> BlockResult:
        stored = self._stored(entry, order.id)
        if stored is not None:
            return stored
        kind = self._kind(entry)
        record = self.store.decision(shop=entry.domain, order_id=order.id, event_kind=kind)
        if record is None:
            if kind is EventKind.ORDER_PAID and order.financial_status not in PAID:
                order = self.processor.order(entry, order.id, fresh=True)
                if order.financial_status not in PAID:
                    return BlockResult(202, {"status": "pending"})
            record, _created = self.processor.decide_order(entry, order, kind)
        return BlockResult(200, self.processor.render(entry, record, order))


def _denied(denial: BlockDenial) -> BlockResult:
    if denial.pending:
        return _PENDING
    return _error(denial.status, denial.message)


class _Lookup:
    """What an extension may look up for one shop (see :class:`.extensions.BlockLookup`)."""

    def __init__(self, service: BlockService, entry: ShopEntry) -> None:
        self._service = service
        self._entry = entry

    def order(self, order_id: str) -> Order | None:
        return self._service._order(self._entry, order_id)

    def order_key(self, order_id: str) -> str | None:
        return self._service.store.order_key(self._entry.domain, order_id)
