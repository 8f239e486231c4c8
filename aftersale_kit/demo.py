"""The demo (``make demo``, ``python -m aftersale_kit.demo``): every example shop, every order.

For each ``examples/*/shop.yaml`` the config is validated; then every ``orders/*.json`` next to
it (a raw webhook body) is normalized, filled in with ``enrichment/<same name>.json`` when that
exists (the customer and product data an adapter would fetch), and decided on. The orders of a
shop are decided in file order against one set of in-memory counters, so limits and budgets carry
over from order to order. The output says, per order, which campaigns fire and why the others do
not. The exit code is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .cli import (
    DEMO_CODE_SECRET,
    EvaluationError,
    evaluate_payload,
    format_decision,
    load_shop_config,
    read_json_file,
)
from .core.counters import InMemoryCounters
from .core.errors import ConfigError, PayloadError

__all__ = ["default_examples_dir", "main", "run_shop"]


def default_examples_dir() -> Path:
    """``examples/`` of a source checkout (next to the package)."""
    return Path(__file__).resolve().parent.parent / "examples"


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_shop(config_path: Path, *, out: TextIO) -> tuple[int, set[str], set[str]]:
    """Validate one shop and decide all its orders. Returns (failures, fired ids, all ids)."""
    name = _relative(config_path)
    try:
        config = load_shop_config(config_path)
    except ConfigError as exc:
        print(f"== {name}: INVALID", file=out)
        for problem in exc.problems:
            print(f"   {problem}", file=out)
        return 1, set(), set()
    settings = config.settings
    campaign_ids = {c.id for c in config.campaigns if c.enabled}
    print(
        f"== {name}: ok ({settings.platform}, {settings.domain}, "
        f"{len(config.campaigns)} campaigns)",
        file=out,
    )
    ref = settings.secret("code_secret")
    secret = os.environ.get(ref.env, "").encode() if ref is not None else b""
    secret = secret or DEMO_CODE_SECRET
    counters = InMemoryCounters()
    failures = 0
    fired: set[str] = set()
    orders = sorted((config_path.parent / "orders").glob("*.json"))
    if not orders:
        print("   no orders/*.json to decide on", file=out)
        return 1, fired, campaign_ids
    for order_path in orders:
        enrich_path = config_path.parent / "enrichment" / order_path.name
        label = _relative(order_path)
        try:
            payload = read_json_file(order_path)
            enrichment = read_json_file(enrich_path) if enrich_path.exists() else None
            order, decision = evaluate_payload(
                config,
                payload,
                enrichment=enrichment,
                enrichment_source=_relative(enrich_path),
                code_secret=secret,
                counters=counters,
            )
        except (PayloadError, EvaluationError) as exc:
            print(f"\n-- {label}: FAILED: {exc}", file=out)
            failures += 1
            continue
        counters.record(decision, order)
        fired.update(decision.fired)
        extra = f" + {_relative(enrich_path)}" if enrichment is not None else ""
        print(f"\n-- {label}{extra}", file=out)
        text = format_decision(order, decision, timezone=settings.timezone)
        print("\n".join(f"   {line}" if line else "" for line in text.splitlines()), file=out)
    return failures, fired, campaign_ids


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aftersale_kit.demo",
        description="Validate every example shop and decide on every example order.",
    )
    parser.add_argument(
        "examples",
        nargs="?",
        type=Path,
        default=default_examples_dir(),
        help="folder with one sub-folder per shop (default: the examples of this checkout)",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    configs = sorted(Path(args.examples).glob("*/shop.yaml"))
    if not configs:
        print(f"no */shop.yaml under {args.examples}", file=sys.stderr)
        return 1
    print("aftersale-kit demo: example shops and their orders, decided offline\n", file=out)
    failures = 0
    never: list[str] = []
    for config_path in configs:
        shop_failures, fired, campaign_ids = run_shop(config_path, out=out)
        failures += shop_failures
        never += [f"{config_path.parent.name}:{cid}" for cid in sorted(campaign_ids - fired)]
        print("", file=out)
    if never:
        print(f"campaigns that fired for no example order: {', '.join(never)}", file=out)
    if failures:
        print(f"demo FAILED: {failures} problem(s)", file=sys.stderr)
        return 1
    print(f"demo ok: {len(configs)} shops", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
