"""``aftersale-kit preview CONFIG ORDER.json --out DIR``: see the confirmation content of an order.

Loads the config, normalizes the order, decides with fresh in-memory counters and writes
``DIR/index.html`` (a thank-you page with the blocks), ``DIR/email.html`` and ``DIR/email.txt``
(the order e-mail fragment). Coupon codes are made with a demo secret unless the
shop's ``code_secret`` variable (or ``AFTERSALE_KIT_CODE_SECRET``) is set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersale_kit.core.campaign import SecretRef
from aftersale_kit.core.errors import AftersaleKitError
from aftersale_kit.core.model import EventKind

__all__ = ["CODE_SECRET_ENV", "DEMO_CODE_SECRET", "main"]

CODE_SECRET_ENV = "AFTERSALE_KIT_CODE_SECRET"
DEMO_CODE_SECRET = "aftersale-kit-preview-demo-secret"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit preview",
        description="Render the thank-you page and the e-mail fragment for one order.",
    )
    parser.add_argument("config", type=Path, help="the shop's config file (YAML)")
    parser.add_argument("order", type=Path, help="an order as the platform sends it (JSON)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the files to")
    parser.add_argument(
        "--platform",
        choices=("shopify", "woocommerce"),
        help="the order's platform (default: recognised from the JSON)",
    )
    parser.add_argument(
        "--now",
        help="the moment to decide and render at, ISO 8601 (default: now; without a time zone "
        "the shop's)",
    )
    parser.add_argument(
        "--event",
        choices=[kind.value for kind in EventKind],
        default=EventKind.ORDER_PAID.value,
        help="the event to decide for (default: order_paid)",
    )
    return parser


def _now(text: str | None, timezone: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"--now must be a date and time like 2025-11-21T10:00, got {text!r}"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def _read_order(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the order: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from exc


def _code_secret(ref: SecretRef | None) -> str:
    """The shop's code secret when its variable is set, else :data:`CODE_SECRET_ENV`, else the
    demo secret (the codes then differ from live ones, which is what a preview wants)."""
    for name in (ref.env if ref else None, CODE_SECRET_ENV):
        if name and os.environ.get(name):
            return os.environ[name]
    return DEMO_CODE_SECRET


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    # Imported here: the engine and loader are only needed when the command runs.
    from aftersale_kit.core.config import load_config
    from aftersale_kit.core.counters import InMemoryCounters
    from aftersale_kit.core.engine import decide
    from aftersale_kit.core.normalize import normalize_order

    from .environment import ContentRenderer
    from .params import param_problems
    from .render import render_email, render_page

    try:
        config = load_config(args.config, param_check=param_problems)
        payload = _read_order(args.order)
        if not isinstance(payload, dict):
            raise ValueError(f"{args.order}: an order must be a JSON object")
        order = normalize_order(payload, platform=args.platform, shop=config.settings.domain)
        now = _now(args.now, config.settings.timezone)
        renderer = ContentRenderer.for_config(config, base_dir=args.config.resolve().parent)
        renderer.check(config)
        secret = _code_secret(config.settings.secret("code_secret"))
        decision = decide(
            config,
            order,
            event=EventKind(args.event),
            counters=InMemoryCounters(),
            now=now,
            code_secret=secret.encode("utf-8"),
        )
        page = render_page(
            decision=decision,
            order=order,
            config=config,
            now=now,
            renderer=renderer,
            preview=True,
        )
        html, text = render_email(
            decision=decision, order=order, config=config, now=now, renderer=renderer
        )
        args.out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in (("index.html", page), ("email.html", html), ("email.txt", text)):
            path = args.out / name
            path.write_text(content, encoding="utf-8")
            written.append(path)
    except (AftersaleKitError, ValueError, OSError) as exc:
        print(f"aftersale-kit preview: {exc}", file=sys.stderr)
        return 2
    for outcome in decision.outcomes:
        mark = "" if outcome.fired else f"not fired ({outcome.reason.value}): "
        print(f"campaign {outcome.campaign_id}: {mark}{outcome.detail}")
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
