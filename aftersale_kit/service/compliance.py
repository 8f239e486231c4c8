"""The platforms' privacy webhooks (``WebhookKind`` customers data request, customers redact,
shop redact), processed by the worker like any other event.

* ``customers/data_request``: everything the store holds about the customer
  (:meth:`Store.export_customer`) goes to the compliance sink: a JSON file
  ``<shop>-<data_request id>.json`` in the ``--export-dir`` folder when one is set; the shop owner
  hands it to the customer. Without a folder only the counts are logged.
* ``customers/redact``: the customer's personal data is erased (:meth:`Store.redact_customer`).
* ``shop/redact``: every row of the shop is deleted (:meth:`Store.redact_shop`).

The adapter passes the payload on as the platform sent it (the payload's fields and their source
are in the adapter's webhook module): ``{shop_id, shop_domain, customer: {id, email, phone},
orders_to_redact | orders_requested, data_request: {id}}``. The e-mail is used to find rows and
never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.platform import IncomingWebhook, WebhookKind
from ..storage.ports import CustomerData
from .logs import log_event

if TYPE_CHECKING:
    from .effects import Processor
    from .shops import ShopEntry

__all__ = ["export_sink", "handle_compliance"]


def _customer(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    customer = payload.get("customer")
    if not isinstance(customer, Mapping):
        return None, None
    cid = customer.get("id")
    email = customer.get("email")
    return (str(cid) if cid is not None else None, str(email) if email else None)


def _orders(payload: Mapping[str, Any], key: str) -> list[str]:
    value = payload.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _customer_data(
    processor: Processor, entry: ShopEntry, webhook: IncomingWebhook
) -> CustomerData:
    """The processor's store as one that can export and erase personal data."""
    store = processor.store
    if not isinstance(store, CustomerData):
        from .effects import PermanentJobError

        raise PermanentJobError(
            f"{webhook.topic} from {entry.domain}: this store ({type(store).__name__}) cannot "
            "export or erase customer data"
        )
    return store


def handle_compliance(processor: Processor, entry: ShopEntry, webhook: IncomingWebhook) -> None:
    payload = webhook.payload
    store = _customer_data(processor, entry, webhook)
    if webhook.kind is WebhookKind.SHOP_REDACT:
        counts = store.redact_shop(entry.domain)
        log_event(logging.INFO, "shop redacted", shop=entry.domain, rows=counts)
        return
    customer_id, email = _customer(payload)
    if customer_id is None and email is None:
        from .effects import PermanentJobError

        raise PermanentJobError(
            f"{webhook.topic} from {entry.domain} names no customer (neither customer.id nor "
            "customer.email): nothing to find"
        )
    if webhook.kind is WebhookKind.CUSTOMERS_REDACT:
        counts = store.redact_customer(
            entry.domain,
            customer_id=customer_id,
            email=email,
            order_ids=_orders(payload, "orders_to_redact"),
        )
        log_event(logging.INFO, "customer redacted", shop=entry.domain, rows=counts)
        return
    export = store.export_customer(
        entry.domain,
        customer_id=customer_id,
        email=email,
        order_ids=_orders(payload, "orders_requested"),
    )
    request = payload.get("data_request")
    request_id = str(request.get("id")) if isinstance(request, Mapping) else webhook.dedupe_key
    if processor.compliance_sink is not None:
        processor.compliance_sink(f"{entry.domain}-{request_id}", export)
    log_event(
        logging.INFO,
        "customer data exported",
        shop=entry.domain,
        request_id=request_id,
        sections={k: len(v) for k, v in export.items() if isinstance(v, list)},
    )


def export_sink(folder: str | Path) -> Callable[[str, dict[str, Any]], None]:
    """Write each export as ``<name>.json`` into ``folder`` (created when missing)."""
    root = Path(folder)

    def write(name: str, export: dict[str, Any]) -> None:
        root.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in name)
        path = root / f"{safe}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(export, default=str, indent=2, ensure_ascii=False), "utf-8")
        tmp.replace(path)

    return write
