"""``aftersale-kit shops rotate-key`` and ``aftersale-kit shops connect woocommerce DOMAIN``.

``connect woocommerce DOMAIN --config PATH [--db URL] --public-url URL`` prints WooCommerce's
approval link for a store configured with ``auth: method: approve`` (see :mod:`.woo_connect`):
open it logged in as the store's manager and approve; the keys reach the running service.

``rotate-key`` re-encrypts the stored shop credentials with a new key.

The procedure (see :mod:`aftersale_kit.storage.credentials`): put the new key first in
``AFTERSALE_CREDENTIALS_KEY`` (``NEW,OLD``) and restart the processes, run this command, then
drop the old key and restart again. Every shop keeps working throughout: the processes read
with both keys while the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.errors import AftersaleKitError
from ..storage import Store
from ..storage.credentials import KEY_ENV, CredentialCipher, CredentialStore

__all__ = ["add_connect_commands", "connect", "rotate_key"]

_PROG = "aftersale-kit shops rotate-key"


def add_connect_commands(commands: Any) -> None:
    _add_connect(commands)
    sub = commands.add_parser(
        "rotate-key",
        help=f"re-encrypt stored shop credentials with the first key in {KEY_ENV}",
        description=f"Re-encrypt every stored token and key with the first key in {KEY_ENV} "
        "(the others still open them while this runs). Then remove the old key.",
    )
    sub.add_argument(
        "--db",
        default=None,
        help="database URL (sqlite:///./aftersale.db or postgresql://user@host/db); "
        "default: ./aftersale.db",
    )


def _add_connect(commands: Any) -> None:
    sub = commands.add_parser(
        "connect",
        help="print the approval link that connects a WooCommerce store (auth: approve)",
        description="Print WooCommerce's /wc-auth/v1/authorize link for the store; approving "
        "it in the WordPress admin sends new REST keys to the running service.",
    )
    sub.add_argument("platform", choices=["woocommerce"], help="the store's platform")
    sub.add_argument("domain", metavar="DOMAIN", help="the store's domain, as configured")
    sub.add_argument(
        "--config", required=True, help="a shop's config file, or a folder with one file per shop"
    )
    sub.add_argument(
        "--db", default=None, help="database URL of the service (default ./aftersale.db)"
    )
    sub.add_argument(
        "--public-url",
        required=True,
        metavar="URL",
        help="where WooCommerce reaches 'aftersale-kit serve' (https://...)",
    )


def connect(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap
    from .woo_connect import WooConnect

    prog = "aftersale-kit shops connect"
    try:
        with bootstrap(config=args.config, db_url=args.db) as wiring:
            flow = WooConnect(registry=wiring.registry, store=wiring.store)
            entry = flow.entry(args.domain.strip().lower())
            if isinstance(entry, str):
                print(f"{prog}: {entry}", file=sys.stderr)
                return 1
            url = flow.authorize_url(entry, public_url=args.public_url.strip().rstrip("/"))
    except AftersaleKitError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    print(url)
    return 0


def rotate_key(args: argparse.Namespace, env: Any = None) -> int:
    import os

    try:
        cipher = CredentialCipher.from_env(os.environ if env is None else env)
        with Store.open(args.db, migrate=True) as store:
            count = CredentialStore(store.db, cipher).rotate()
    except AftersaleKitError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"{_PROG}: {count} stored credential(s) now encrypted with the first key in {KEY_ENV}")
    return 0
