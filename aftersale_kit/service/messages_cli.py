"""``aftersale-kit messages``: the follow-up schedule for operators.

``aftersale-kit messages list [--shop DOMAIN] [--order ID] [--email ADDRESS] [--state STATE]
[--limit N] [--json] [--db URL]`` lists messages by due time with their state and reason.
``aftersale-kit messages show ID --shop DOMAIN [--db URL]`` prints one message as JSON (the
reason names the contact-policy rule that held it back, the SMTP reply of a failure).
``aftersale-kit messages cancel (ID ... | --order ID) --shop DOMAIN [--reason TEXT] [--db URL]``
cancels what is still planned (sent messages stay as they are).
``aftersale-kit messages preview ID --shop DOMAIN --config PATH --out FILE [--db URL]`` renders
the e-mail as it would be sent into ``FILE``: the whole message (``.eml``) or its HTML part
(``.html``, to open in a browser). Nothing is sent and nothing is recorded.

Exit codes: 0 done, 1 a problem (unknown message or shop, configuration, database; printed
without a traceback), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import AftersaleKitError
from ..storage import MessageRecord, MessageState, Store
from .effects import Processor
from .failures import report_failure as _fail
from .mail_sweep import PUBLIC_URL_ENV, MessageSender
from .shops import load_shops

__all__ = ["messages_main"]

_PROG = "aftersale-kit messages"
_DB_HELP = (
    "database URL (sqlite:///./aftersale.db or postgresql://user@host/db); default: ./aftersale.db"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=_PROG, description="the follow-up e-mail schedule")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="messages by due time, with state and reason")
    listing.add_argument("--shop", default=None, help="only this shop (its domain)")
    listing.add_argument("--order", default=None, help="only this order (with --shop)")
    listing.add_argument("--email", default=None, help="only this address (with --shop)")
    listing.add_argument("--state", choices=[s.value for s in MessageState], default=None)
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    show = commands.add_parser("show", help="one message as JSON")
    show.add_argument("id", type=int)
    cancel = commands.add_parser("cancel", help="cancel planned messages")
    cancel.add_argument("ids", type=int, nargs="*", metavar="ID")
    cancel.add_argument("--order", default=None, help="every planned message of this order")
    cancel.add_argument("--reason", default="cancelled by an operator")
    preview = commands.add_parser("preview", help="render a message's e-mail into a file")
    preview.add_argument("id", type=int)
    preview.add_argument("--config", required=True, help="the shop's config file or folder")
    preview.add_argument("--out", required=True, help="FILE.eml (the message) or FILE.html")
    preview.add_argument(
        "--public-url",
        default=None,
        help=f"the service's public address for the links (default: ${PUBLIC_URL_ENV}, "
        "else http://127.0.0.1:8000)",
    )
    for sub in (show, cancel, preview):
        sub.add_argument("--shop", required=True, help="the shop's domain")
    for sub in (listing, show, cancel, preview):
        sub.add_argument("--db", default=None, help=_DB_HELP)
    return parser


def messages_main(argv: Sequence[str]) -> int:
    parser = _parser()
    args = parser.parse_args(list(argv))
    if args.command == "cancel" and not args.ids and args.order is None:
        parser.error("cancel needs message ids or --order")
    if args.command == "preview" and Path(args.out).suffix not in (".eml", ".html"):
        parser.error("--out must end in .eml or .html")
    try:
        with Store.open(args.db, migrate=True) as store:
            return _run(args, store)
    except AftersaleKitError as exc:
        return _fail(_PROG, exc)


def _run(args: argparse.Namespace, store: Store) -> int:
    if args.command == "list":
        return _list(args, store)
    if args.command == "cancel":
        ids = args.ids or None
        n = store.cancel_messages(args.shop, reason=args.reason, order_id=args.order, ids=ids)
        print(f"{n} message(s) cancelled")
        return 0
    record = store.message(args.shop, args.id)
    if record is None:
        print(f"{_PROG}: no message {args.id} of shop {args.shop}", file=sys.stderr)
        return 1
    if args.command == "show":
        print(json.dumps(record.summary(), indent=2, ensure_ascii=False))
        return 0
    return _preview(args, store, record)


def _list(args: argparse.Namespace, store: Store) -> int:
    state = MessageState(args.state) if args.state else None
    rows = store.messages(
        args.shop, order_id=args.order, email=args.email, state=state, limit=args.limit
    )
    for r in rows:
        if args.json:
            print(json.dumps(r.summary(), ensure_ascii=False))
            continue
        print(
            f"{r.id:>6}  {r.due_at:%Y-%m-%d %H:%M}Z  {r.state.value:<9}  {r.shop}  "
            f"order {r.order_id}  {r.campaign_id}#{r.occurrence}  {r.template}"
            + (f"  - {r.reason}" if r.reason else "")
        )
    if not rows and not args.json:
        print("no messages")
    return 0


def _preview(args: argparse.Namespace, store: Store, record: MessageRecord) -> int:
    registry = load_shops(args.config)
    entry = registry.by_domain(record.shop)
    if entry is None:
        print(f"{_PROG}: shop {record.shop} is not in {args.config}", file=sys.stderr)
        return 1
    processor = Processor(registry=registry, store=store)
    sender = MessageSender(
        processor, public_url=args.public_url or _default_url(), worker_id="preview"
    )
    mail = sender.compose(sender.shop_mail(entry), record)
    out = Path(args.out)
    if out.suffix == ".eml":
        out.write_bytes(mail.as_bytes())
    else:
        html = mail.message.get_body(preferencelist=("html",))
        out.write_text(html.get_content() if html is not None else "", encoding="utf-8")
    sender.close()
    print(f"{out}: {mail.message['Subject']} -> {mail.recipient} ({mail.message_id})")
    return 0


def _default_url() -> str:
    return os.environ.get(PUBLIC_URL_ENV, "").strip() or "http://127.0.0.1:8000"
