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

from .errors import RestError, invalid_id
from .rest import (
    Args,
    CollectionArgs,
    RestContext,
    RestRequest,
    RestResponse,
    Router,
    collection_response,
    links,
    require_key,
    rest_url,
    run_batch,
    sort_records,
)
from .state import WebhookRecord
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


def _body(request: RestRequest) -> dict[str, Any]:
    return request.json if isinstance(request.json, dict) else dict(request.form)


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


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
    """Validate and store a webhook (no ping; see :func:`create_webhook`)."""
    if body.get("id"):
        raise RestError(
            f"woocommerce_rest_{POST_TYPE}_exists", f"Cannot create existing {POST_TYPE}.", 400
        )
    topic = str(body.get("topic") or "").strip().lower()
    if not topic or not is_valid_topic(topic):
        raise RestError(
            f"woocommerce_rest_{POST_TYPE}_invalid_topic",
            "Webhook topic is required and must be valid.",
            400,
        )
    url = str(body.get("delivery_url") or "")
    if not _valid_url(url):
        raise RestError(
            f"woocommerce_rest_{POST_TYPE}_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )
    store = ctx.store
    with store.lock:
        stamps = store.clock.stamps()
        name = body.get("name") or "Webhook created on " + datetime.strptime(
            stamps[0], "%Y-%m-%dT%H:%M:%S"
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
        rows = [webhook_response(ctx, w) for w in hooks]
        if params.include:
            rows = [r for r in rows if r["id"] in params.include]
        if params.exclude:
            rows = [r for r in rows if r["id"] not in params.exclude]
        if params.search:
            rows = [r for r in rows if params.search.lower() in r["name"].lower()]
        rows = sort_records(
            rows,
            orderby=params.orderby or "date",
            order=params.order or "desc",
            include=params.include,
            keys={
                "date": lambda r: r["date_created_gmt"],
                "id": lambda r: r["id"],
                "title": lambda r: r["name"],
                "slug": lambda r: r["name"],
            },
        )
        page = params.paginate(rows)
    return collection_response(ctx, request, page, page.items)


def _create(ctx: RestContext, body: dict[str, Any]) -> dict[str, Any]:
    webhook = create_webhook_record(ctx, body, default_secret=ctx.webhooks.default_secret)
    data = webhook_response(ctx, webhook)
    if ctx.webhooks.options.ping:
        ctx.webhooks.ping(webhook)
    return data


def create_webhook(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.required("topic", "delivery_url")
    args.schema(SCHEMA)
    args.done()
    require_key(request, "create")
    data = _create(ctx, _body(request))
    location = rest_url(ctx.site, f"/wc/v3/webhooks/{data['id']}")
    return RestResponse(201, data, [("Location", location)])


def get_webhook(ctx: RestContext, request: RestRequest) -> RestResponse:
    with ctx.store.lock:
        webhook = ctx.store.webhooks.get(request.url_id())
        if webhook is None:
            raise invalid_id(POST_TYPE)
        require_key(request, "read")
        return RestResponse(200, webhook_response(ctx, webhook))


def _update(ctx: RestContext, webhook_id: int, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        webhook = store.webhooks.get(webhook_id)
        if webhook is None:
            raise invalid_id(POST_TYPE, 400)
        if body.get("topic") is not None:
            topic = str(body["topic"]).strip().lower()
            if not is_valid_topic(topic):
                raise RestError(
                    f"woocommerce_rest_{POST_TYPE}_invalid_topic",
                    "Webhook topic must be valid.",
                    400,
                )
            webhook.topic = topic
        if body.get("delivery_url") is not None:
            if not _valid_url(str(body["delivery_url"])):
                raise RestError(
                    f"woocommerce_rest_{POST_TYPE}_invalid_delivery_url",
                    "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                    400,
                )
            webhook.delivery_url = str(body["delivery_url"])
        if body.get("secret") is not None:
            webhook.secret = str(body["secret"])
        if body.get("name") is not None:
            webhook.name = str(body["name"])
        if body.get("status") is not None:
            status = str(body["status"])
            webhook.status = status if status in STATUSES else "disabled"
        webhook.date_modified = store.clock.stamps()
        return webhook_response(ctx, webhook)


def update_webhook(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(SCHEMA)
    args.done()
    webhook_id = request.url_id()
    if webhook_id in ctx.store.webhooks:
        require_key(request, "edit")
    return RestResponse(200, _update(ctx, webhook_id, _body(request)))


def _delete(ctx: RestContext, webhook_id: int, force: bool) -> dict[str, Any]:
    if not force:
        raise RestError(
            "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
        )
    with ctx.store.lock:
        webhook = ctx.store.webhooks.get(webhook_id)
        if webhook is None:
            raise invalid_id(POST_TYPE)
        data = webhook_response(ctx, webhook)
        del ctx.store.webhooks[webhook_id]
        return data


def delete_webhook(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    force = args.boolean("force", default=False)
    args.done()
    require_key(request, "delete")
    return RestResponse(200, _delete(ctx, request.url_id(), bool(force)))


def batch_webhooks(ctx: RestContext, request: RestRequest) -> RestResponse:
    require_key(request, "batch")

    def update(body: dict[str, Any]) -> dict[str, Any]:
        try:
            webhook_id = int(body.get("id") or 0)
        except (TypeError, ValueError):
            webhook_id = 0
        return _update(ctx, webhook_id, body)

    return run_batch(
        request,
        create=lambda body: _create(ctx, body),
        update=update,
        delete=lambda webhook_id: _delete(ctx, webhook_id, True),
    )


def register(router: Router) -> None:
    router.add("/wc/v3/webhooks", "GET", list_webhooks)
    router.add("/wc/v3/webhooks", "POST", create_webhook)
    router.add("/wc/v3/webhooks/(?P<id>[\\d]+)", "GET", get_webhook)
    router.add("/wc/v3/webhooks/(?P<id>[\\d]+)", "POST,PUT,PATCH", update_webhook)
    router.add("/wc/v3/webhooks/(?P<id>[\\d]+)", "DELETE", delete_webhook)
    router.add("/wc/v3/webhooks/batch", "POST,PUT,PATCH", batch_webhooks)
