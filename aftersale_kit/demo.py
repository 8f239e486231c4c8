"""The demo (``make demo``, ``python -m aftersale_kit.demo``): every example shop, every order.

First, offline: each ``examples/*/shop.yaml`` is validated, and every ``orders/*.json`` next to it
(a raw webhook body) is normalized, filled in with ``enrichment/<same name>.json`` when that
exists (the customer and product data an adapter would fetch) and decided on at the order's own
time (when it was paid, else created), in file order against one set of in-memory counters, so
limits and budgets carry over from order to order. A broken config or order ends the demo here.

Then, live (unless ``--offline``): the same orders go through the platform sandboxes and the real
service and worker (:mod:`aftersale_kit.demo_live`), seeded with the same enrichment, decided at
the same times with the same code secret. The demo compares both runs order by order and says
where they differ (exit code 1).

Last (unless ``--no-backtest``), each shop is backtested over a generated year of a few thousand
orders (:mod:`aftersale_kit.demo_backtest`): the summary is printed and the report written to
``demo-out/backtest/<shop>/backtest.html``.

The output is a report for the shop owner (:mod:`aftersale_kit.demo_report`), in the shop's
language: per order the campaigns that fired, coupons with value and expiry, free gifts, the
blocks on the confirmation page and its preview in ``demo-out/``, what it cost; a table per
shop. ``--verbose`` adds the engine's full explanation per order and the technical lines
(sandboxes, ports, worker jobs). Everything the live run starts is stopped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .cli import (
    DEMO_CODE_SECRET,
    EvaluationError,
    evaluate_payload,
    format_decision,
    load_shop_config,
    read_json_file,
)
from .core.campaign import ShopConfig
from .core.counters import InMemoryCounters
from .core.decision import Decision
from .core.errors import ConfigError, MissingExtraError, PayloadError
from .demo_report import OrderRun, ShopRun, coupon_lines, shop_report, shown_blocks

if TYPE_CHECKING:
    from .demo_loyalty import OfflineLedger

__all__ = [
    "code_secret_of",
    "decide_offline",
    "default_examples_dir",
    "differences",
    "main",
    "release_moment",
    "run_shop",
]


def default_examples_dir() -> Path:
    """The example shops: ``aftersale_kit/_examples`` in an installed wheel, else ``examples/``
    of the source checkout (next to the package)."""
    package = Path(__file__).resolve().parent
    shipped = package / "_examples"
    return shipped if shipped.is_dir() else package.parent / "examples"


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_shop(config_path: Path, *, out: TextIO) -> tuple[int, set[str], set[str]]:
    """Validate one shop and decide all its orders, printing the engine's full explanation.
    Returns (failures, fired ids, all enabled ids)."""
    run, failures = decide_offline(config_path, out=out, explain=True)
    if run is None:
        return failures, set(), set()
    fired = {cid for o in run.orders if o.decision is not None for cid in o.decision.fired}
    return failures, fired, {c.id for c in run.config.campaigns if c.enabled}


def _shop_line(config_path: Path, config: ShopConfig) -> str:
    settings = config.settings
    return f"{_relative(config_path)}: ok ({settings.platform}, {len(config.campaigns)} campaigns)"


def code_secret_of(config: ShopConfig) -> bytes:
    """The shop's code secret from the variable its file names, else the fixed demo secret."""
    ref = config.settings.secret("code_secret")
    secret = os.environ.get(ref.env, "").encode() if ref is not None else b""
    return secret or DEMO_CODE_SECRET


def decide_offline(
    config_path: Path, *, out: TextIO, explain: bool = False
) -> tuple[ShopRun | None, int]:
    """Validate one shop and decide its orders offline. Problems are printed (a config error
    with every problem, an order that fails); ``explain`` prints the engine's explanation of
    every order. Returns the run (``None`` for an invalid config) and the number of failures."""
    try:
        config = load_shop_config(config_path)
    except ConfigError as exc:
        print(f"== {_relative(config_path)}: INVALID", file=out)
        for problem in exc.problems:
            print(f"   {problem}", file=out)
        return None, 1
    if explain:
        print(f"== {_shop_line(config_path, config)}", file=out)
    orders = sorted((config_path.parent / "orders").glob("*.json"))
    if not orders:
        print(f"== {_relative(config_path)}: no orders/*.json to decide on", file=out)
        return None, 1
    counters = InMemoryCounters()
    ledger = _ledger(config)
    runs: list[OrderRun] = []
    failures = 0
    for order_path in orders:
        run = _decide_file(config, order_path, counters=counters, out=out, explain=explain)
        if run is None:
            failures += 1
        elif ledger is not None and run.decision is not None:
            runs.append(replace(run, loyalty=ledger.step(run.order, run.decision)))
        else:
            runs.append(run)
    released = release_moment(config, runs) if ledger is not None else None
    accounts = ledger.release(released) if ledger is not None and released is not None else []
    shop = ShopRun(
        config_path=config_path,
        config=config,
        orders=tuple(runs),
        accounts=tuple(accounts),
        released_at=released,
    )
    return shop, failures


def _ledger(config: ShopConfig) -> OfflineLedger | None:
    """The offline ledger of a shop with a loyalty program; ``None`` without one, or in an
    install without the server extra (the ledger's plan lives in the service layer): the
    report then leaves the points out."""
    if config.loyalty is None:
        return None
    try:
        from .demo_loyalty import offline_ledger
    except MissingExtraError:
        return None
    return offline_ledger(config, code_secret=code_secret_of(config))


def release_moment(config: ShopConfig, runs: Sequence[OrderRun]) -> datetime | None:
    """When the demo lets the worker release the points: a day after the approval period of
    the latest order ended, counted from today at the latest (a sandbox dates the payment of
    an order it creates today); ``None`` without a loyalty program or orders."""
    program = config.loyalty
    times = [r.decision.decided_at for r in runs if r.decision is not None]
    if program is None or not times:
        return None
    latest = max([*times, datetime.now(UTC).replace(microsecond=0)])
    return latest + timedelta(days=program.pending_days + 1)


def _decide_file(
    config: ShopConfig, order_path: Path, *, counters: InMemoryCounters, out: TextIO, explain: bool
) -> OrderRun | None:
    enrich_path = order_path.parent.parent / "enrichment" / order_path.name
    label = _relative(order_path)
    try:
        payload = read_json_file(order_path)
        enrichment = read_json_file(enrich_path) if enrich_path.exists() else None
        order, decision = evaluate_payload(
            config,
            payload,
            enrichment=enrichment,
            enrichment_source=_relative(enrich_path),
            code_secret=code_secret_of(config),
            counters=counters,
        )
    except (PayloadError, EvaluationError) as exc:
        print(f"\n-- {label}: FAILED: {exc}", file=out)
        return None
    counters.record(decision, order)
    if explain:
        extra = f" + {_relative(enrich_path)}" if enrichment is not None else ""
        print(f"\n-- {label}{extra}", file=out)
        text = format_decision(order, decision, timezone=config.settings.timezone)
        print("\n".join(f"   {line}" if line else "" for line in text.splitlines()), file=out)
    return OrderRun(
        file=order_path.name,
        order=order,
        event=decision.event,
        decision=decision,
        coupons=coupon_lines(decision, order, config),
        blocks=shown_blocks(decision),
    )


def differences(offline: ShopRun, live: ShopRun) -> list[str]:
    """Where the live service decided an order otherwise than the offline run (empty: alike).

    Compared per order file: the event and its time, every campaign's outcome (fired, reason,
    explanation, variant) and every planned action (equal values, e.g. 7.4 and 7.40) with its
    coupon code and cost."""
    found: list[str] = []
    live_by_file = {run.file: run for run in live.orders}
    for want in offline.orders:
        got = live_by_file.get(want.file)
        if got is None or got.decision is None or want.decision is None:
            found.append(f"{want.file}: the live service stored no decision ({want.event.value})")
            continue
        a, b = _facts(want.decision), _facts(got.decision)
        found += [f"{want.file}: offline only: {_describe(f)}" for f in a if f not in b]
        found += [f"{want.file}: live only: {_describe(f)}" for f in b if f not in a]
        if want.loyalty != got.loyalty:
            found.append(f"{want.file}: points offline {want.loyalty}, live {got.loyalty}")
    if offline.accounts != live.accounts:
        found.append(f"accounts: offline {offline.accounts}, live {live.accounts}")
    return found


def _facts(decision: Decision) -> list[tuple[object, ...]]:
    facts: list[tuple[object, ...]] = [
        ("event", decision.event.value, decision.decided_at.astimezone(UTC)),
    ]
    for o in decision.outcomes:
        facts.append(("outcome", o.campaign_id, o.fired, o.reason.value, o.detail, o.variant))
    for p in decision.actions:
        facts.append(("action", p.campaign_id, p.action, p.coupon_code, p.cost))
    return facts


def _describe(fact: tuple[object, ...]) -> str:
    kind, *rest = fact
    if kind == "action":
        campaign_id, action, code, cost = rest
        return f"{campaign_id}: {type(action).__name__} {code or ''} cost {cost}".replace("  ", " ")
    if kind == "outcome":
        campaign_id, fired, reason, detail, _variant = rest
        return f"{campaign_id}: {'fired' if fired else reason}: {detail}"
    return " ".join(str(part) for part in fact)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    configs = sorted(Path(args.examples).glob("*/shop.yaml"))
    if not configs:
        print(f"no */shop.yaml under {args.examples}", file=sys.stderr)
        return 1
    # First (and with --offline, only) step: every config validated, every order decided
    # offline; the live part starts only when that passed.
    runs: list[ShopRun] = []
    failures = 0
    for config_path in configs:
        run, shop_failures = decide_offline(config_path, out=out, explain=args.verbose)
        failures += shop_failures
        if run is not None:
            runs.append(run)
    if failures:
        print(f"demo FAILED: {failures} problem(s)", file=sys.stderr)
        return 1
    if args.offline:
        _print_reports(runs, out=out, live=False)
    else:
        try:
            code = _run_live(runs, out=out, out_dir=args.out, verbose=args.verbose)
        except Exception as exc:  # every failure of the live path ends the demo with a message
            print(f"demo FAILED (live): {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        if code:
            return code
    if args.backtest:
        _backtest(runs, out=out, out_dir=args.out)
    print(f"demo ok: {len(runs)} shops", file=out)
    return 0


def _backtest(runs: list[ShopRun], *, out: TextIO, out_dir: Path) -> None:
    """The last step: every example shop over a generated year of orders (a report each)."""
    from .demo_backtest import backtest_examples

    backtest_examples([(r.config_path, r.config) for r in runs], out=out, out_dir=out_dir)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aftersale_kit.demo",
        description="Every example shop and order: decided offline, then live through the "
        "platform sandboxes and the service; a report per shop.",
    )
    parser.add_argument(
        "examples",
        nargs="?",
        type=Path,
        default=default_examples_dir(),
        help="folder with one sub-folder per shop (default: the examples of this checkout)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="only validate and decide offline (no sandboxes, no service)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for the preview pages of the live demo and the backtest reports "
        "(default: demo-out)",
    )
    parser.add_argument(
        "--no-backtest",
        dest="backtest",
        action="store_false",
        help="leave out the last step, the backtest of each shop over a generated year",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print the engine's full explanation per order and the technical details",
    )
    return parser


def _run_live(runs: list[ShopRun], *, out: TextIO, out_dir: Path, verbose: bool) -> int:
    from .demo_live import LiveDemo, LiveDemoError

    started = time.monotonic()
    live_runs: list[ShopRun] = []
    with LiveDemo(runs, code_secret_of=code_secret_of, out_dir=out_dir) as demo:
        for run in runs:
            live_runs.append(demo.run_shop(run))
        # after every shop's orders (and points) were compared: the sweep moves the clock on
        by_domain = demo.mail_lines([run.config for run in runs])
        mails = {r.config_path: by_domain.get(r.config.settings.domain, []) for r in runs}
        technical = list(demo.technical_lines()) if verbose else []
        dead = demo.dead_jobs()
    if not demo.closed():
        raise LiveDemoError("a port is still open after shutdown")
    if verbose:
        print("", file=out)
        for line in technical:
            print(line, file=out)
    _print_reports(live_runs, out=out, live=True, mails=mails)
    found = [
        f for offline, live in zip(runs, live_runs, strict=True) for f in differences(offline, live)
    ]
    total = sum(len(r.orders) for r in runs)
    same = total - len({f.split(":", 1)[0] for f in found})
    print(
        f"\nlive and offline decided alike: {same} of {total} orders; previews in "
        f"{_relative(out_dir)}/; everything stopped ({time.monotonic() - started:.1f} s)",
        file=out,
    )
    for line in found:
        print(f"   DIFFERENT: {line}", file=out)
    if dead:
        print(f"demo FAILED (live): {dead} job(s) failed for good", file=sys.stderr)
    if found:
        print("demo FAILED (live): the live service decided otherwise, see above", file=sys.stderr)
    if dead or found:
        return 1
    return 0


def _print_reports(
    runs: list[ShopRun],
    *,
    out: TextIO,
    live: bool,
    mails: Mapping[Path, list[str]] | None = None,
) -> None:
    how = (
        "live through the platform sandboxes and the service"
        if live
        else "offline (no sandbox, no service)"
    )
    print(f"\naftersale-kit demo: {len(runs)} example shops, decided {how};", file=out)
    print("each order at its own time (when it was paid, else created)", file=out)
    for run in runs:
        print(f"\n== {_shop_line(run.config_path, run.config)}", file=out)
        for line in shop_report(run):
            print(line, file=out)
        for line in (mails or {}).get(run.config_path, []):
            print(line, file=out)


if __name__ == "__main__":
    sys.exit(main())
