"""Webhook intake: verify, deduplicate, persist, answer 200 in milliseconds.

``POST /webhooks/{platform}``. The work happens later in the worker; the request does only
this:

1. size: ``Content-Length`` above the limit is a 413 before reading; the body is read with the
   same limit (a sender that lies about the length gets a 413 too);
2. shop: the header the platform's spec reads (``PlatformSpec.webhook``) names a configured
   shop, else 401 (an unsigned handshake the spec recognises is answered 200 and stored
   nowhere);
3. signature: the adapter's ``peek_webhook`` over the raw bytes (:meth:`Intake.screen`, pure
   CPU: signature, shop, topic, JSON, dedupe key and order id; the order is not normalised
   here, the worker verifies the stored body again and parses it); a bad or missing signature
   is a 401 and nothing is stored, a body that is not the topic's JSON a 400 naming the reason
   (``not_json``, ``too_deep``: JSON is read with a nesting limit, see
   :mod:`aftersale_kit.core.jsonread`), a topic the product does not handle a 200
   (acknowledged, not stored, so the platform stops retrying);
   a signed body on an order topic that is JSON but not a usable order is *quarantined*:
   answered 200 (so the platform keeps the subscription), kept with the reason outside the job
   queue (:meth:`Store.quarantine`), counted and listed (``aftersale-kit shops status``), and
   replayable (``aftersale-kit shops replay``) once a version that reads it is installed;
4. one short transaction (:meth:`Store.accept_events`): the event and its ``process_event`` job,
   or nothing for a duplicate. Either way 200, sent only after the commit. A database failure
   is a 503: the platform retries.

Group commit: :class:`GroupCommit` hands the screened deliveries to one writer thread that
stores whatever has queued up meanwhile in one transaction (:meth:`Intake.commit`) and then
answers each request. Under load a commit serves many requests; alone, a request waits for
nothing but its own commit.

A shop that uninstalled the app gets 401 for everything but the privacy webhooks (checked in
the writer thread, as it may read the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from ..core import registry as platforms
from ..core.errors import (
    MalformedWebhookError,
    SignatureError,
    StorageError,
    UnknownTopicError,
    UnusableOrderError,
)
from ..core.jsonread import JSONInputError
from ..core.platform import WebhookEnvelope, WebhookKind
from ..storage import IncomingEvent
from ..storage.ports import EventIntake
from .effects import Processor
from .logs import log_event
from .metrics import Metrics
from .shops import ShopRegistry

__all__ = ["GroupCommit", "Intake", "IntakeResult", "Screened"]

#: Deliveries a shop that uninstalled the app may still send.
_PRIVACY_KINDS = frozenset(
    {
        WebhookKind.CUSTOMERS_DATA_REQUEST,
        WebhookKind.CUSTOMERS_REDACT,
        WebhookKind.SHOP_REDACT,
    }
)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    status: int
    result: str
    reason: str = ""
    #: What to fix, for a refused signed delivery (sent in the answer's ``error``).
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Screened:
    """A delivery that passed the checks and is to be stored (see :meth:`Intake.commit`):
    as an event, or, with ``quarantine`` (the reason), in the quarantine."""

    platform: str
    envelope: WebhookEnvelope | None
    event: IncomingEvent
    quarantine: str | None = None
    #: The order key, where the platform's thank-you page tokens are checked against one.
    order_key: str | None = None


class Intake:
    """Webhook intake in two steps: :meth:`screen` (pure CPU, no I/O: safe on the event loop)
    and :meth:`commit` (a batch in one transaction, in a thread). :meth:`receive` does both."""

    def __init__(
        self,
        *,
        registry: ShopRegistry,
        store: EventIntake,
        processor: Processor,
        metrics: Metrics,
    ) -> None:
        self.registry = registry
        self.store = store
        self.processor = processor
        self.metrics = metrics
        self._counters: dict[tuple[str, str, str], Any] = {}

    def _count(self, platform: str, result: str, reason: str = "") -> None:
        """``metrics.webhooks.labels(...).inc()`` with the labelled child kept (``labels``
        takes a lock and builds a key each call)."""
        key = (platform, result, reason)
        child = self._counters.get(key)
        if child is None:
            child = self._counters[key] = self.metrics.webhooks.labels(*key)
        child.inc()

    def _reject(
        self, platform: str, status: int, reason: str, detail: str = "", **fields: str
    ) -> IntakeResult:
        self._count(platform, "rejected", reason)
        log_event(logging.WARNING, "webhook rejected", platform=platform, reason=reason, **fields)
        return IntakeResult(status, "rejected", reason, detail)

    def receive(self, platform: str, headers: Mapping[str, str], body: bytes) -> IntakeResult:
        """Screen and store one delivery (synchronous; ``headers`` with lower-case names)."""
        screened = self.screen(platform, headers, body)
        if isinstance(screened, IntakeResult):
            return screened
        [result] = self.commit([screened])
        return result

    def screen(
        self, platform: str, headers: Mapping[str, str], body: bytes
    ) -> IntakeResult | Screened:
        """The checks of a delivery that need no database: the final answer for a refused,
        ignored or ping delivery, else what to store. ``headers`` with lower-case names (as
        Starlette gives them)."""
        spec = platforms.find(platform)
        if spec is None:
            return self._reject(platform, 404, "unknown_platform")
        shop_header = spec.webhook.shop(headers)
        topic = spec.webhook.topic(headers)
        if not shop_header and spec.webhook.is_handshake(headers, body):
            self._count(platform, "ping")
            return IntakeResult(200, "ping")
        if not shop_header:
            return self._reject(platform, 401, "no_shop")
        entry = self.registry.get(platform, shop_header)
        if entry is None:
            return self._reject(platform, 401, "unknown_shop", shop=shop_header[:200])
        kept = {k: v for k, v in headers.items() if k.startswith(spec.webhook.kept_prefixes)}
        order_key = None
        try:
            keyed = getattr(entry.adapter, "peek_webhook_token_ref", None)
            peek = getattr(entry.adapter, "peek_webhook", None)
            if keyed is not None:
                envelope, order_key = keyed(headers, body)
            elif peek is not None:
                envelope = peek(headers, body)
            else:  # an adapter written before peek_webhook joined the port
                envelope = WebhookEnvelope.of(entry.adapter.verify_webhook(headers, body))
        except SignatureError:
            return self._reject(platform, 401, "signature", shop=entry.domain)
        except UnusableOrderError as exc:
            return self._quarantined(platform, entry.domain, topic, body, kept, str(exc))
        except MalformedWebhookError as exc:
            cause = exc.__cause__
            reason = cause.reason if isinstance(cause, JSONInputError) else "malformed"
            return self._reject(platform, 400, reason, str(exc), shop=entry.domain, topic=topic)
        except UnknownTopicError:
            self._count(platform, "ignored", "topic")
            return IntakeResult(200, "ignored", "topic")
        if envelope.kind is WebhookKind.PING:
            self._count(platform, "ping")
            return IntakeResult(200, "ping")
        event = IncomingEvent(
            shop=entry.domain,
            platform=platform,
            topic=envelope.topic,
            dedupe_key=envelope.dedupe_key,
            received_at=datetime.now(UTC),
            body=body,
            headers=kept,
            order_id=envelope.order_id,
        )
        return Screened(platform=platform, envelope=envelope, event=event, order_key=order_key)

    def _quarantined(
        self,
        platform: str,
        shop: str,
        topic: str,
        body: bytes,
        headers: Mapping[str, str],
        reason: str,
    ) -> Screened:
        """A signed order-topic delivery that is not a usable order, to be kept aside (one
        row per topic and body: a redelivery of the same bytes is the same row)."""
        event = IncomingEvent(
            shop=shop,
            platform=platform,
            topic=topic.lower()[:128] or "unknown",
            dedupe_key=f"{topic.lower()[:100]}:sha256:{hashlib.sha256(body).hexdigest()}",
            received_at=datetime.now(UTC),
            body=body,
            headers=headers,
        )
        return Screened(platform=platform, envelope=None, event=event, quarantine=reason[:2000])

    def commit(self, batch: Sequence[Screened]) -> list[IntakeResult]:
        """Store the screened deliveries in one transaction; one answer per delivery, in order.

        A shop that uninstalled the app is refused here (401) except for the privacy topics.
        """
        results: list[IntakeResult | None] = [None] * len(batch)
        todo: list[int] = []
        for i, item in enumerate(batch):
            shop = item.event.shop
            privacy = item.envelope is not None and item.envelope.kind in _PRIVACY_KINDS
            if not privacy and self.processor.uninstalled(shop):
                results[i] = self._reject(item.platform, 401, "uninstalled", shop=shop)
            elif item.quarantine is not None:
                results[i] = self._keep_aside(item, item.quarantine)
            else:
                todo.append(i)
        if todo:
            try:
                flags = self.store.accept_events([batch[i].event for i in todo])
            except StorageError as exc:
                for i in todo:
                    platform = batch[i].platform
                    log_event(
                        logging.ERROR, "webhook not stored", platform=platform, error=str(exc)
                    )
                    self._count(platform, "rejected", "storage")
                    results[i] = IntakeResult(503, "rejected", "storage")
            else:
                for i, new in zip(todo, flags, strict=True):
                    result = "accepted" if new else "duplicate"
                    self._count(batch[i].platform, result)
                    results[i] = IntakeResult(200, result)
                self._keep_order_keys([batch[i] for i in todo])
        return [r for r in results if r is not None]

    def _keep_aside(self, item: Screened, reason: str) -> IntakeResult:
        event = item.event
        try:
            new = self.store.quarantine(event, reason=reason)
        except StorageError as exc:
            log_event(logging.ERROR, "webhook not stored", platform=item.platform, error=str(exc))
            self._count(item.platform, "rejected", "storage")
            return IntakeResult(503, "rejected", "storage")
        self._count(item.platform, "quarantined", "unusable_order")
        log_event(
            logging.WARNING,
            "webhook quarantined" if new else "quarantined webhook redelivered",
            platform=item.platform,
            shop=event.shop,
            topic=event.topic,
            reason=reason[:300],
        )
        return IntakeResult(200, "quarantined", "unusable_order")

    def _keep_order_keys(self, items: Sequence[Screened]) -> None:
        rows = [
            (item.event.shop, item.event.order_id, item.order_key)
            for item in items
            if item.order_key and item.event.order_id
        ]
        if not rows:
            return
        try:
            self.store.save_order_keys(rows)
        except StorageError as exc:  # the event is stored: the page waits for the next delivery
            log_event(logging.ERROR, "order keys not stored", error=str(exc))


T = TypeVar("T")
R = TypeVar("R")
_Waiter = tuple[T, "asyncio.Future[R]", asyncio.AbstractEventLoop]


class GroupCommit(Generic[T, R]):
    """Writer threads that run ``handle`` on everything queued since their last run.

    ``await submit(item)`` queues ``item`` and returns ``handle``'s answer for it once the batch
    it went into has been handled (for the intake: committed). ``handle`` gets a non-empty list
    of at most ``max_batch`` items and returns one answer per item, in order. If it raises for a
    batch of several, the items are handled one by one, so one bad item fails only itself. The
    threads start with the first item; :meth:`close` handles what is queued and stops them.

    ``writers``: how many batches may be in ``handle`` at once. One for SQLite (one writer at a
    time anyway); several for PostgreSQL, where a commit waits for the server's WAL flush and
    other sessions' commits join that flush, so overlapping batches multiply the throughput.
    """

    def __init__(
        self,
        handle: Callable[[list[T]], list[R]],
        *,
        writers: int = 1,
        max_batch: int = 256,
        name: str = "writer",
    ) -> None:
        if writers < 1:
            raise ValueError(f"writers must be at least 1, got {writers}")
        self._handle = handle
        self._writers = writers
        self._max_batch = max_batch
        self._name = name
        self._queue: list[_Waiter[T, R]] = []
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closing = False

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        with self._cond:
            self._queue.append((item, future, loop))
            if self._idle:
                self._cond.notify()
            elif len(self._threads) < self._writers:
                self._closing = False
                thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._threads.append(thread)
                thread.start()
        return await future

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closing = True
            threads = list(self._threads)
            self._cond.notify_all()
        for thread in threads:
            thread.join(timeout)

    def _run(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closing:
                        self._idle += 1
                        try:
                            self._cond.wait()
                        finally:
                            self._idle -= 1
                    if not self._queue:
                        return
                    batch = self._queue[: self._max_batch]
                    del self._queue[: self._max_batch]
                self._answer(batch, self._results([item for item, _f, _l in batch]))
        finally:
            with self._cond:
                self._threads.remove(me)

    def _results(self, items: list[T]) -> list[R | BaseException]:
        try:
            return list(self._handle(items))
        except Exception as exc:
            if len(items) == 1:
                return [exc]
        out: list[R | BaseException] = []
        for item in items:
            try:
                out.extend(self._handle([item]))
            except Exception as exc:
                out.append(exc)
        return out

    @staticmethod
    def _answer(batch: list[_Waiter[T, R]], results: list[R | BaseException]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[R], object]]] = {}
        for (_item, future, loop), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, result))
        for loop, answers in by_loop.items():
            # RuntimeError: the loop was closed meanwhile, nobody waits any more
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[tuple[asyncio.Future[R], object]]) -> None:
    for future, result in answers:
        if future.done():  # the request was cancelled (client gone); the work is done anyway
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)  # type: ignore[arg-type]
