"""The platform tag of a VIP pre-sale: added when the customer is invited, removed when the
pre-sale ends.

``tag_customer`` (one job per customer and pre-sale, queued with the step's decision) reads the
customer's tags first. When the tag is not there, it queues the removal, ``untag_customer``,
due at the pre-sale's end (keyed ``<tag job key>:untag``, so once), **before** it adds the tag:
a worker killed between the two finds the removal queued when the job runs again (the tag is
there by then, and the key is taken). When the customer had the tag before the invitation (the
shop's own tag, or another pre-sale's with the same name), nothing is queued: the tag was not
ours to add, so it is not ours to remove. The worker works the removal off at the end like any
job (no cron), retried while the platform is away.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..core.contact.presale import VipPresale
from ..storage.decisions import UNTAG_CUSTOMER
from ..storage.records import Job
from .logs import log_event

if TYPE_CHECKING:
    from .effects import Processor

__all__ = ["tag_customer", "untag_customer", "untag_key"]


def untag_key(tag_key: str) -> str:
    """The removal's job key: the tag job's (one per customer and pre-sale) and ``:untag``."""
    return f"{tag_key}:untag"


def tag_customer(processor: Processor, job: Job) -> None:
    """A ``vip_presale``'s tag on the customer (a set on the platform: a repeat adds nothing),
    and its removal at the pre-sale's end when the tag is ours (see the module)."""
    from .effects import PermanentJobError

    planned = job.planned_action()
    action = planned.action
    if not isinstance(action, VipPresale):
        raise PermanentJobError(f"job {job.id}: {type(action).__name__} is not a pre-sale")
    entry = processor.entry(job.shop)
    customer = str(job.payload.get("customer_id") or "") or None
    fields = {"shop": job.shop, "order_id": str(job.payload.get("order_id")),
              "campaign": planned.campaign_id}  # fmt: skip
    before = entry.adapter.customer_tags(customer)
    if before is None:
        log_event(logging.INFO, "customer not tagged (no platform customer)", **fields)
        return
    if action.tag.lower() in {t.lower() for t in before}:
        log_event(logging.INFO, "customer had the pre-sale tag before: it stays", **fields)
    else:
        processor.store.enqueue(
            shop=job.shop,
            kind=UNTAG_CUSTOMER,
            idempotency_key=untag_key(job.idempotency_key),
            payload={
                "customer_id": customer,
                "tag": action.tag,
                "campaign_id": planned.campaign_id,
                "ends": action.ends_at.isoformat(),
            },
            run_at=action.ends_at,
            now=processor.clock(),
        )
    wrote = entry.adapter.tag_customer(customer, [action.tag])
    log_event(logging.INFO, "customer tagged" if wrote else "customer not tagged", **fields)


def untag_customer(processor: Processor, job: Job) -> None:
    """The pre-sale has ended: its tag comes off the customer (the other tags stay)."""
    entry = processor.entry(job.shop)
    customer = str(job.payload.get("customer_id") or "") or None
    removed = entry.adapter.untag_customer(customer, [str(job.payload["tag"])])
    log_event(
        logging.INFO,
        "pre-sale tag removed" if removed else "pre-sale tag not removed (customer unknown)",
        shop=job.shop,
        campaign=str(job.payload.get("campaign_id")),
    )
