"""Coupons of :class:`~aftersale_kit.storage.memory.MemoryStore`: :mod:`.coupons` in a list.

Not thread-safe by itself: the memory store calls it with its lock held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from ..core.campaign import IssueCoupon
from ..core.decision import Decision
from ._memory_queue import MemoryQueue
from .coupons import deactivate_key
from .records import CouponRecord, CouponStatus, JobKind, JobStatus

__all__ = ["CouponRows"]


class CouponRows:
    """The coupons planned by decisions; ``queue`` receives their deactivation jobs."""

    def __init__(self, queue: MemoryQueue) -> None:
        self.queue = queue
        self.coupons: list[CouponRecord] = []
        self._ids = {"ledger": 0, "decision": 0, "coupon": 0, "redemption": 0}

    def _id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def order_coupons(self, shop: str, order_id: str) -> list[CouponRecord]:
        return [c for c in self.coupons if c.shop == shop and c.order_id == order_id]

    def coupon(self, shop: str, idempotency_key: str) -> CouponRecord | None:
        return next(
            (c for c in self.coupons if (c.shop, c.idempotency_key) == (shop, idempotency_key)),
            None,
        )

    def _plan_coupons(self, decision: Decision, *, customer_key: str | None, now: datetime) -> None:
        for p in decision.actions:
            if not (isinstance(p.action, IssueCoupon) and p.coupon_code):
                continue
            if self.coupon(decision.shop, p.idempotency_key) is not None:
                continue
            self.coupons.append(
                CouponRecord(
                    id=self._id("coupon"),
                    shop=decision.shop,
                    order_id=decision.order_id,
                    campaign_id=p.campaign_id,
                    idempotency_key=p.idempotency_key,
                    code=p.coupon_code,
                    platform_id=None,
                    status=CouponStatus.PLANNED,
                    customer_key=customer_key,
                    created_at=now,
                    updated_at=now,
                )
            )

    def set_coupon(self, coupon: CouponRecord, *, now: datetime, **values: object) -> None:
        index = next(i for i, c in enumerate(self.coupons) if c.id == coupon.id)
        current = self.coupons[index]
        self.coupons[index] = replace(current, updated_at=now, **values)  # type: ignore[arg-type]

    def require(self, shop: str, idempotency_key: str) -> CouponRecord:
        found = self.coupon(shop, idempotency_key)
        if found is None:
            raise LookupError(f"no coupon {idempotency_key!r} in shop {shop!r}")
        return found

    def revoke(self, records: Iterable[CouponRecord], *, reason: str, now: datetime) -> list[str]:
        """:func:`.coupons.revoke_records` (``records`` as read before)."""
        revoked = []
        for coupon in records:
            if coupon.status == CouponStatus.PLANNED:
                self.set_coupon(coupon, now=now, status=CouponStatus.REVOKED)
                if self._create_was_tried(coupon, reason=reason, now=now):
                    self.enqueue_deactivation(coupon, platform_id=None, now=now)
            elif coupon.status == CouponStatus.ISSUED:
                self.set_coupon(coupon, now=now, status=CouponStatus.REVOKED)
                self.enqueue_deactivation(coupon, platform_id=coupon.platform_id, now=now)
            else:
                continue
            revoked.append(coupon.idempotency_key)
        return revoked

    def _create_was_tried(self, coupon: CouponRecord, *, reason: str, now: datetime) -> bool:
        key = coupon.idempotency_key
        job = self.queue.cancel_pending(
            shop=coupon.shop, idempotency_key=key, reason=reason, now=now
        )
        if job is None:
            job = self.queue.by_key(shop=coupon.shop, idempotency_key=key)
            if job is None or job.status != JobStatus.DEAD:
                return False
        return job.attempts > 0

    def enqueue_deactivation(
        self, coupon: CouponRecord, *, platform_id: str | None, now: datetime
    ) -> None:
        self.queue.enqueue(
            shop=coupon.shop,
            kind=JobKind.DEACTIVATE_COUPON.value,
            idempotency_key=deactivate_key(coupon.idempotency_key),
            payload={
                "coupon_key": coupon.idempotency_key,
                "order_id": coupon.order_id,
                "campaign_id": coupon.campaign_id,
                "code": coupon.code,
                "platform_id": platform_id,
            },
            run_at=now,
        )
