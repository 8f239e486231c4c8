"""``aftersale-kit sandbox shopify``: run the Shopify sandbox until interrupted.

``main(argv)`` takes the arguments after ``sandbox shopify``. It prints the shop domain, the
admin URL, the access token and client secret to use, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from aftersale_kit.testing.serve import StopSignals
from aftersale_kit.testing.tls import make_test_certificate

from .app import DEFAULT_API_VERSION, ShopifySandbox

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit sandbox shopify",
        description="Run a local Shopify (GraphQL Admin API, webhooks, control API) on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--shop", default="sandbox-shop", help="shop name before .myshopify.com")
    parser.add_argument("--token", default=None, help="Admin API access token (default: random)")
    parser.add_argument("--secret", default=None, help="app client secret for webhook HMACs")
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION, help="e.g. 2025-10")
    parser.add_argument("--https", action="store_true", help="serve HTTPS with a throw-away CA")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="multiplies webhook retry delays"
    )
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="FIXTURE",
        help="load a shipped vendor order payload at start (repeatable)",
    )
    return parser


def main(argv: list[str]) -> int:
    args = list(argv)
    if args[:2] == ["sandbox", "shopify"]:
        args = args[2:]
    options = build_parser().parse_args(args)
    with StopSignals() as stop, tempfile.TemporaryDirectory(prefix="shopify-sandbox-") as folder:
        tls = ca_file = None
        if options.https:
            cert = make_test_certificate(Path(folder))
            tls, ca_file = cert.server_context, cert.ca_file
        try:
            sandbox = ShopifySandbox(
                shop=options.shop,
                token=options.token,
                secret=options.secret,
                api_version=options.api_version,
                port=options.port,
                tls=tls,
                ca_file=ca_file,
                time_scale=options.time_scale,
            )
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        try:
            sandbox.start()
        except OSError as exc:
            print(f"error: cannot listen on port {options.port}: {exc}", file=sys.stderr)
            return 1
        try:
            for fixture in options.seed:
                sandbox.create_order(fixture=fixture, new_id=True)
            lines = [
                "Shopify sandbox running",
                f"  shop domain:   {sandbox.shop_domain}",
                f"  admin URL:     {sandbox.admin_url()}",
                f"  GraphQL URL:   {sandbox.graphql_url()}",
                f"  access token:  {sandbox.token}",
                f"  client secret: {sandbox.secret}",
                f"  control API:   {sandbox.control_url}/",
            ]
            if ca_file is not None:
                lines.append(f"  CA file:       {ca_file}  (export SSL_CERT_FILE to trust it)")
            lines.append("Press Ctrl+C to stop.")
            print("\n".join(lines), flush=True)
            stop.wait()
        finally:
            sandbox.stop()
    print("Shopify sandbox stopped.", flush=True)
    return 0
