"""``aftersale-kit preview CONFIG ORDER.json --out DIR``: see the confirmation content of an order.

Decides exactly as ``aftersale-kit evaluate`` does, with the same options and defaults
(``--enrich``, ``--now``: when the order was paid, ``--event``: the one its state implies), then
writes ``DIR/index.html`` (a thank-you page with the blocks), ``DIR/email.html`` and
``DIR/email.txt`` (the order e-mail fragment), rendered at that same moment. ``--screenshot
FILE.png`` also photographs the page in headless Chromium (``docs/preview.png`` is made so).
Coupon codes are made with a demo secret unless the shop's ``code_secret`` variable (or
``AFTERSALE_KIT_CODE_SECRET``) is set. With a ``loyalty:`` section the loyalty blocks show sample
figures (:func:`.loyalty_sample.sample_view`): the points this order earns, a balance of
``--points-balance`` (default 0) and ``--stamps`` on each stamp card before this order.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aftersale_kit.core.errors import AftersaleKitError, PayloadError
from aftersale_kit.core.jsonread import JSONInputError, read_json
from aftersale_kit.core.model import EventKind

if TYPE_CHECKING:
    from aftersale_kit.core.decision import Decision
    from aftersale_kit.core.model import Order
from aftersale_kit.evaluation import CODE_SECRET_ENV, DEMO_CODE_SECRET, read_json_file

__all__ = ["CODE_SECRET_ENV", "DEMO_CODE_SECRET", "main", "screenshot"]

#: Browser window of ``--screenshot`` (CSS pixels): wide enough for the two-column layout.
SCREENSHOT_SIZE = (1200, 1272)
_CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


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
        "--event",
        choices=[kind.value for kind in EventKind],
        help="the order event (default: from the order's state: paid, cancelled, ...)",
    )
    parser.add_argument(
        "--now",
        metavar="ISO",
        help="decide and render as of this time (default: when the order was paid, else "
        "created; without a time zone the shop's)",
    )
    parser.add_argument(
        "--enrich",
        metavar="FILE.json",
        help="customer and product data the webhook lacks (what the adapter would fetch)",
    )
    parser.add_argument(
        "--then",
        metavar="LATER.json",
        type=Path,
        action="append",
        default=[],
        help="a later state of the same order (fulfilled, refunded, cancelled; repeatable): "
        "the page shows the content of all the order's steps, as the service does",
    )
    parser.add_argument(
        "--points-balance",
        metavar="N",
        type=int,
        default=0,
        help="loyalty blocks: the customer's available points before this order (default 0)",
    )
    parser.add_argument(
        "--stamps",
        metavar="N",
        type=int,
        default=0,
        help="loyalty blocks: stamps on each stamp card before this order (default 0)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="FILE.png",
        type=Path,
        help="also photograph the page in headless Chromium "
        f"({SCREENSHOT_SIZE[0]}x{SCREENSHOT_SIZE[1]})",
    )
    return parser


def _now(text: str | None, timezone: str) -> datetime | None:
    if text is None:
        return None
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
        return read_json(path.read_bytes(), what=str(path))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the order: {exc.strerror}") from exc
    except JSONInputError as exc:
        if exc.reason == "not_json":
            where = f"{path}:{exc.line}:{exc.column}"
            raise ValueError(f"{where}: not JSON: {exc.parser_message}") from None
        raise ValueError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    try:
        if args.screenshot is not None:
            _chromium()  # before any work: its absence is the one thing to say
        decision, later, written = _preview(args)
        if args.screenshot is not None:
            written.append(screenshot(written[0], args.screenshot))
    except (AftersaleKitError, ValueError, OSError) as exc:
        print(f"aftersale-kit preview: {exc}", file=sys.stderr)
        return 2
    for outcome in decision.outcomes:
        mark = "" if outcome.fired else f"not fired ({outcome.reason.value}): "
        print(f"campaign {outcome.campaign_id}: {mark}{outcome.detail}")
    for steps, taken in later:
        for step in steps:
            fired = ", ".join(step.fired) or "nothing"
            print(f"then {step.event.value} at {step.decided_at.isoformat()}: fired {fired}")
        for campaign_id, why in taken.items():
            print(f"  taken back: {campaign_id}: {why}")
    for path in written:
        print(path)
    return 0


def _preview(
    args: argparse.Namespace,
) -> tuple[Decision, list[tuple[list[Decision], dict[str, str]]], list[Path]]:
    """Decide as ``evaluate`` does, render at the decision's moment, write the files; with
    ``--then``, decide the later states as steps of the order's timeline and render them all."""
    # Imported here: the engine and loader are only needed when the command runs.
    from aftersale_kit.core.config import load_config
    from aftersale_kit.evaluation import evaluate_payload

    from .environment import ContentRenderer
    from .loyalty_sample import sample_view
    from .params import param_problems
    from .render import render_email, render_page

    config = load_config(args.config, param_check=param_problems)
    payload = _read_order(args.order)
    if not isinstance(payload, dict):
        raise ValueError(f"{args.order}: an order must be a JSON object")
    renderer = ContentRenderer.for_config(config, base_dir=args.config.resolve().parent)
    renderer.check(config)
    try:
        order, decision = evaluate_payload(
            config,
            payload,
            platform=args.platform,
            event=EventKind(args.event) if args.event else None,
            now=_now(args.now, config.settings.timezone),
            enrichment=read_json_file(args.enrich) if args.enrich else None,
            enrichment_source=args.enrich or "enrichment",
            warn=sys.stderr,
        )
    except PayloadError as exc:
        field = f" (field {exc.field})" if exc.field else ""
        raise ValueError(f"{args.order}: not a usable order{field}: {exc}") from None
    later: list[tuple[list[Decision], dict[str, str]]] = []
    shown, times, now = decision, None, decision.decided_at
    if args.then:
        order, later, shown, times = _timeline(args, config, order, decision)
        now = shown.decided_at
    loyalty = sample_view(
        config, order, shown, now=now, balance=args.points_balance, stamps=args.stamps
    )
    page = render_page(
        decision=shown,
        order=order,
        config=config,
        now=now,
        renderer=renderer,
        preview=True,
        times=times,
        loyalty=loyalty,
    )
    html, text = render_email(
        decision=shown,
        order=order,
        config=config,
        now=now,
        renderer=renderer,
        times=times,
        loyalty=loyalty,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (("index.html", page), ("email.html", html), ("email.txt", text)):
        path = args.out / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return decision, later, written


def _timeline(
    args: argparse.Namespace, config: Any, first: Any, decision: Decision
) -> tuple[Any, list[tuple[list[Decision], dict[str, str]]], Decision, dict[str, Any]]:
    """The first decision and each ``--then`` state as steps of one order's timeline
    (:class:`~aftersale_kit.core.timeline.OrderTimeline`): the latest order, what each later
    state decided and took back, and the content of all steps with its actions' times."""
    from aftersale_kit.core.counters import InMemoryCounters
    from aftersale_kit.core.timeline import OrderTimeline
    from aftersale_kit.evaluation import default_event, read_payload, trial_code_secret

    timeline = OrderTimeline(
        config=config, code_secret=trial_code_secret(config), counters=InMemoryCounters()
    )
    timeline.apply(first, decision.event, now=decision.decided_at)
    order, now = first, decision.decided_at
    later: list[tuple[list[Decision], dict[str, str]]] = []
    for path in args.then:
        payload = _read_order(path)
        try:
            order = read_payload(
                config,
                payload,
                platform=args.platform,
                enrichment=read_json_file(args.enrich) if args.enrich else None,
                enrichment_source=args.enrich or "enrichment",
            )
        except PayloadError as exc:
            raise ValueError(f"{path}: not a usable order: {exc}") from None
        if order.id != first.id:
            raise ValueError(f"{path}: order {order.id} is not order {first.id} of {args.order}")
        now = max(now, _state_time(order))
        before = set(timeline.taken_back)
        made = timeline.apply(order, default_event(order, payload), now=now)
        taken = {k: v for k, v in timeline.taken_back.items() if k not in before}
        later.append((made, taken))
    union, times = timeline.content()
    return order, later, union, times


def _state_time(order: Order) -> datetime:
    """When the order reached its state: cancelled, else its latest refund, else paid/created."""
    moments = [order.cancelled_at, *(r.created_at for r in order.refunds)]
    known = [m for m in moments if m is not None]
    return max(known) if known else (order.paid_at or order.created_at)


def _chromium() -> str:
    binary = next((found for name in _CHROMIUM if (found := shutil.which(name))), None)
    if binary is None:
        raise ValueError(
            "--screenshot needs headless Chromium (chromium, chromium-browser or "
            "google-chrome on the PATH), e.g. apt-get install chromium"
        )
    return binary


def screenshot(page: Path, png: Path, *, size: tuple[int, int] = SCREENSHOT_SIZE) -> Path:
    """Photograph ``page`` (an HTML file) in headless Chromium into ``png``.

    Scripts run for a second of virtual time first (the countdown and the copy button are
    ready). ``ValueError`` when no Chromium is installed or it fails.
    """
    binary = _chromium()
    png = png.resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}",
            "--virtual-time-budget=1000",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=90)
        except subprocess.TimeoutExpired:
            raise ValueError(f"{binary} took longer than 90 s for the screenshot") from None
    if result.returncode != 0 or not png.is_file():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"{binary} made no screenshot: {last}")
    return png


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
