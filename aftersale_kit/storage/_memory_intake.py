"""The intake side of :class:`~aftersale_kit.storage.memory.MemoryStore`: accepted deliveries
with their ``process_event`` jobs, quarantined ones, WooCommerce order keys, shop state and the
stored thank-you content (:mod:`.events`, :mod:`.quarantine`, :mod:`.shops` in dicts).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ._memory_queue import MemoryQueue
from ._sql import aware
from .codec import dumps
from .events import process_key
from .outbox import DEFAULT_MAX_ATTEMPTS
from .quarantine import QuarantinedDelivery
from .records import IncomingEvent, JobKind, ShopRecord, ShopState, StoredEvent
from .store import _checked_event

__all__ = ["MemoryIntake"]


class MemoryIntake:
    """The lock, the job queue, and what the intake and the block endpoint keep."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._queue = MemoryQueue()
        self._events: dict[int, StoredEvent] = {}
        self._event_keys: dict[tuple[str, str], int] = {}
        self._quarantine: list[QuarantinedDelivery] = []
        self._order_keys: dict[tuple[str, str], str] = {}
        self._shops: dict[str, ShopRecord] = {}
        self._blocks: dict[tuple[str, str], str] = {}

    # -- intake ---------------------------------------------------------------------------------

    def accept_events(
        self, batch: Sequence[IncomingEvent], *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ) -> list[bool]:
        checked = [_checked_event(item) for item in batch]
        with self._lock:
            return [self._accept(item, max_attempts) for item in checked]

    def _accept(self, item: IncomingEvent, max_attempts: int) -> bool:
        if (item.shop, item.dedupe_key) in self._event_keys:
            return False
        event_id = len(self._events) + 1  # events are never deleted here
        self._event_keys[(item.shop, item.dedupe_key)] = event_id
        self._events[event_id] = StoredEvent(
            id=event_id,
            shop=item.shop,
            platform=item.platform,
            topic=item.topic,
            dedupe_key=item.dedupe_key,
            received_at=item.received_at,
            body=bytes(item.body),
            headers=json.loads(dumps(dict(item.headers))),
            order_id=item.order_id,
            customer_key=None,
            redacted_at=None,
        )
        self._queue.enqueue(
            shop=item.shop,
            kind=JobKind.PROCESS_EVENT.value,
            idempotency_key=process_key(event_id),
            payload={"event_id": event_id, "topic": item.topic},
            run_at=item.received_at,
            event_id=event_id,
            max_attempts=max_attempts,
        )
        return True

    def event(self, event_id: int) -> StoredEvent | None:
        with self._lock:
            return self._events.get(event_id)

    def link_event(self, event_id: int, *, order_id: str | None, customer_key: str | None) -> bool:
        with self._lock:
            event = self._events.get(event_id)
            if event is None:
                return False
            self._events[event_id] = replace(event, order_id=order_id, customer_key=customer_key)
            return True

    def quarantine(self, item: IncomingEvent, *, reason: str) -> bool:
        received_at = aware(item.received_at, "received_at")
        with self._lock:
            if any(
                (q.shop, q.dedupe_key) == (item.shop, item.dedupe_key) for q in self._quarantine
            ):
                return False
            self._quarantine.append(
                QuarantinedDelivery(
                    id=len(self._quarantine) + 1,
                    shop=item.shop,
                    platform=item.platform,
                    topic=item.topic,
                    dedupe_key=item.dedupe_key,
                    received_at=received_at,
                    reason=reason,
                    body=bytes(item.body),
                    headers={str(k): str(v) for k, v in item.headers.items()},
                    replayed_at=None,
                )
            )
            return True

    def quarantined(
        self, shop: str | None = None, *, include_replayed: bool = False
    ) -> list[QuarantinedDelivery]:
        with self._lock:
            return [
                q
                for q in self._quarantine
                if (shop is None or q.shop == shop) and (include_replayed or q.replayed_at is None)
            ]

    def save_order_keys(
        self, rows: Iterable[tuple[str, str, str]], *, now: datetime | None = None
    ) -> None:
        aware(now, "now")
        with self._lock:
            for shop, order_id, key in rows:
                self._order_keys.setdefault((shop, order_id), key)

    def order_key(self, shop: str, order_id: str) -> str | None:
        with self._lock:
            return self._order_keys.get((shop, order_id))

    # -- shops and content ----------------------------------------------------------------------

    def set_shop_state(
        self, *, shop: str, platform: str, state: ShopState, now: datetime | None = None
    ) -> ShopRecord:
        now = aware(now, "now")
        state = ShopState(state)
        with self._lock:
            current = self._shops.get(shop)
            if current is None:
                active = state == ShopState.ACTIVE
                current = ShopRecord(
                    shop=shop,
                    platform=platform,
                    state=state,
                    installed_at=now if active else None,
                    uninstalled_at=None if active else now,
                    updated_at=now,
                )
            elif current.state != state and state == ShopState.ACTIVE:
                current = replace(current, installed_at=now, uninstalled_at=None)
            elif current.state != state:
                current = replace(current, uninstalled_at=now)
            record = replace(current, platform=platform, state=state, updated_at=now)
            self._shops[shop] = record
            return record

    def shop_state(self, shop: str) -> ShopRecord | None:
        with self._lock:
            return self._shops.get(shop)

    def save_blocks(
        self, shop: str, order_id: str, payload: Mapping[str, Any], *, now: datetime | None = None
    ) -> None:
        aware(now, "now")
        text = dumps(dict(payload))
        with self._lock:
            self._blocks[(shop, order_id)] = text

    def load_blocks(self, shop: str, order_id: str) -> dict[str, Any] | None:
        raw = self.blocks_json(shop, order_id)
        if raw is None:
            return None
        value = json.loads(raw)
        assert isinstance(value, dict)
        return value

    def blocks_json(self, shop: str, order_id: str) -> bytes | None:
        with self._lock:
            text = self._blocks.get((shop, order_id))
        return None if text is None else text.encode("utf-8")
