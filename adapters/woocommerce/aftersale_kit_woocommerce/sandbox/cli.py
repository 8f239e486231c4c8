"""``aftersale-kit sandbox woocommerce``: run the sandbox until interrupted.

``main(argv)`` takes the options after ``sandbox woocommerce`` and returns the exit status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aftersale_kit.testing.serve import StopSignals

from .server import DEFAULT_CONSUMER_KEY, DEFAULT_CONSUMER_SECRET, WooCommerceSandbox

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit sandbox woocommerce",
        description="Run a local WooCommerce store (REST API v3, webhooks, /_sandbox/ control).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--key", default=DEFAULT_CONSUMER_KEY, help="consumer key (ck_...)")
    parser.add_argument("--secret", default=DEFAULT_CONSUMER_SECRET, help="consumer secret")
    parser.add_argument(
        "--webhook-secret", default=None, help="secret for webhooks created without one"
    )
    parser.add_argument("--https", action="store_true", help="serve TLS with a test CA")
    parser.add_argument("--cert-dir", type=Path, default=None, help="where to write the CA")
    parser.add_argument("--home-url", default=None, help="the site's home_url (default: own URL)")
    parser.add_argument(
        "--seed-orders", action="store_true", help="load the vendor order payloads at start"
    )
    return parser


def main(argv: list[str]) -> int:
    args = list(argv)
    if args[:2] == ["sandbox", "woocommerce"]:
        args = args[2:]
    options = _parser().parse_args(args)
    if not options.key.startswith("ck_") or not options.secret.startswith("cs_"):
        print(
            "error: WooCommerce keys look like ck_... and cs_...; "
            "pass --key ck_<40 hex> --secret cs_<40 hex>",
            file=sys.stderr,
        )
        return 2
    try:
        sandbox = WooCommerceSandbox(
            host=options.host,
            port=options.port,
            https=options.https,
            cert_dir=options.cert_dir,
            consumer_key=options.key,
            consumer_secret=options.secret,
            webhook_secret=options.webhook_secret,
            home_url=options.home_url,
            seed_orders=options.seed_orders,
        )
        sandbox.start()
    except OSError as exc:
        print(f"error: cannot listen on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return 1
    try:
        with StopSignals() as stop:
            _announce(sandbox, options.https)
            stop.wait()
    finally:
        sandbox.stop()
    print("WooCommerce sandbox stopped.", flush=True)
    return 0


def _announce(sandbox: WooCommerceSandbox, https: bool) -> None:
    verify = f', verify_ssl="{sandbox.ca_file}"' if https else ""
    lines = [
        f"WooCommerce sandbox listening on {sandbox.url}",
        f"  store URL:        {sandbox.url}",
        f"  consumer key:     {sandbox.consumer_key}",
        f"  consumer secret:  {sandbox.consumer_secret}",
        f"  read-only key:    {sandbox.read_only_key.consumer_key}",
        f"  read-only secret: {sandbox.read_only_key.consumer_secret}",
    ]
    if https:
        lines.append(f"  CA certificate:   {sandbox.ca_file}  (or set REQUESTS_CA_BUNDLE to it)")
    else:
        lines.append(
            "  auth:             OAuth 1.0a over plain HTTP (the woocommerce client's own)"
        )
    lines += [
        f"  control API:      {sandbox.url}/_sandbox/state",
        "",
        "  from woocommerce import API",
        f'  api = API("{sandbox.url}", "{sandbox.consumer_key}", "{sandbox.consumer_secret}"'
        f"{verify}, timeout=10)",
        "",
        "Press Ctrl+C to stop.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
