"""``/wc/v3/webhooks``: list, create (unsigned ping), read, update (status), delete, batch.

Source: woocommerce/woocommerce ``includes/rest-api/Controllers/Version1/
class-wc-rest-webhooks-v1-controller.php`` (v3 inherits it). The secret is write-only: it is
never in a response. Re-activating a disabled webhook (``PUT {"status": "active"}``) does not
reset its failure count, so one more failure disables it again at once.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .collection import CollectionArgs, collection_response
from .crud import Crud, lookup
from .errors import RestError, already_exists, trash_not_supported
from .rest import Args, RestContext, RestRequest, RestResponse, Router, links, require_key
from .state import WebhookRecord
from .values import DATE_FORMAT
from .webhooks import hooks_for, is_valid_topic

__all__ = ["create_webhook_record", "register", "webhook_response"]

POST_TYPE = "shop_webhook"
STATUSES = ("active", "paused", "disabled")
SCHEMA: dict[str, dict[str, Any]] = {
    "name": {"type": "string"},
    "status": {"type": "string", "enum": list(STATUSES)},
    "topic": {"type": "string"},
    "secret": {"type": "string"},
    "delivery_url": {"type": "string"},
}


def _checked_topic(value: Any, message: str) -> str:
    topic = str(value).strip().lower()
    if not topic or not is_valid_topic(topic):
        raise RestError(f"woocommerce_rest_{POST_TYPE}_invalid_topic", message, 400)
    return topic


def _checked_url(value: Any) -> str:
    url = str(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RestError(
            f"woocommerce_rest_{POST_TYPE}_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )
    return url


def webhook_response(ctx: RestContext, webhook: WebhookRecord) -> dict[str, Any]:
    local_created, gmt_created = webhook.date_created
    local_modified, gmt_modified = webhook.date_modified
    return {
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource,
        "event": webhook.event,
        "hooks": hooks_for(webhook.topic),
        "delivery_url": webhook.delivery_url,
        "date_created": local_created,
        "date_created_gmt": gmt_created,
        "date_modified": local_modified,
        "date_modified_gmt": gmt_modified,
        "_links": links(ctx.site, f"/wc/v3/webhooks/{webhook.id}", "/wc/v3/webhooks"),
    }


def _random_secret() -> str:
    """``wp_generate_password( 50, true, true )``."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def create_webhook_record(
    ctx: RestContext, body: dict[str, Any], *, default_secret: str | None, webhook_id: int = 0
) -> WebhookRecord:
    """Validate and store a webhook (no ping; the REST create adds it)."""
    if body.get("id"):
        raise already_exists(POST_TYPE)
    topic = _checked_topic(body.get("topic") or "", "Webhook topic is required and must be valid.")
    url = _checked_url(body.get("delivery_url") or "")
    store = ctx.store
    with store.lock:
        stamps = store.clock.stamps()
        name = body.get("name") or "Webhook created on " + datetime.strptime(
            stamps[0], DATE_FORMAT
        ).strftime("%b %d, %Y @ %I:%M %p")
        status = body.get("status") or "active"
        webhook = WebhookRecord(
            id=webhook_id or store.new_webhook_id(),
            name=str(name),
            status=status if status in STATUSES else "disabled",
            topic=topic,
            delivery_url=url,
            secret=str(body.get("secret") or default_secret or _random_secret()),
            date_created=stamps,
            date_modified=stamps,
        )
        store.webhooks[webhook.id] = webhook
        return webhook


def list_webhooks(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    params = CollectionArgs(args, orderby=("date", "id", "include", "title", "slug"))
    status = args.string("status", default="all", enum=("all", *STATUSES))
    args.done()
    require_key(request, "list")
    with ctx.store.lock:
        hooks = list(ctx.store.webhooks.values())
        if status != "all":
            hooks = [w for w in hooks if w.status == status]
        rows = params.select([webhook_response(ctx, w) for w in hooks], lambda r: r["id"])
        if params.search:
            rows = [r for r in rows if params.search.lower() in r["name"].lower()]
        page = params.page_of(
            rows,
            {
                "date": lambda r: r["date_created_gmt"],
                "id": lambda r: r["id"],
                "title": lambda r: r["name"],
                "slug": lambda r: r["name"],
            },
        )
    return collection_response(ctx, request, page, page.items)


def _create(ctx: RestContext, body: dict[str, Any]) -> dict[str, Any]:
    webhook = create_webhook_record(ctx, body, default_secret=ctx.webhooks.default_secret)
    data = webhook_response(ctx, webhook)
    if ctx.webhooks.options.ping:
        ctx.webhooks.ping(webhook)
    return data


def get_webhook(ctx: RestContext, request: RestRequest) -> RestResponse:
    with ctx.store.lock:
        webhook = lookup(ctx.store.webhooks, request.url_id(), POST_TYPE)
        require_key(request, "read")
        return RestResponse(200, webhook_response(ctx, webhook))


def _update(ctx: RestContext, webhook_id: int, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        webhook = lookup(store.webhooks, webhook_id, POST_TYPE, 400)
        if body.get("topic") is not None:
            webhook.topic = _checked_topic(body["topic"], "Webhook topic must be valid.")
        if body.get("delivery_url") is not None:
            webhook.delivery_url = _checked_url(body["delivery_url"])
        if body.get("secret") is not None:
            webhook.secret = str(body["secret"])
        if body.get("name") is not None:
            webhook.name = str(body["name"])
        if body.get("status") is not None:
            status = str(body["status"])
            webhook.status = status if status in STATUSES else "disabled"
        webhook.date_modified = store.clock.stamps()
        return webhook_response(ctx, webhook)


def _delete(ctx: RestContext, webhook_id: int, force: bool) -> dict[str, Any]:
    if not force:
        raise trash_not_supported()
    with ctx.store.lock:
        webhook = lookup(ctx.store.webhooks, webhook_id, POST_TYPE)
        data = webhook_response(ctx, webhook)
        del ctx.store.webhooks[webhook_id]
        return data


CRUD = Crud(
    base="/wc/v3/webhooks",
    schema=SCHEMA,
    required=("topic", "delivery_url"),
    exists=lambda ctx, webhook_id: webhook_id in ctx.store.webhooks,
    create=_create,
    update=_update,
    delete=_delete,
    delete_checks_key_first=True,
)


def register(router: Router) -> None:
    CRUD.register(router, list_items=list_webhooks, get_item=get_webhook)
