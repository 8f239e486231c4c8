"""``aftersale-kit shops rotate-key`` and ``aftersale-kit shops connect PLATFORM DOMAIN``.

``connect PLATFORM DOMAIN --config PATH [--db URL] --public-url URL`` prints the approval link
of a store whose keys are approved in its admin (the platform's service extension makes it,
``connect_link``, see :mod:`.extensions`): open it logged in as the store's manager and
approve; the keys reach the running service.

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
        help="print the approval link that connects a store (auth: approve)",
        description="Print the store's approval link; approving it in the shop's admin sends "
        "new API keys to the running service.",
    )
    sub.add_argument("platform", help="the store's platform")
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
        help="where the platform reaches 'aftersale-kit serve' (https://...)",
    )


def connect(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap
    from .extensions import ExtensionContext, extension

    prog = "aftersale-kit shops connect"
    try:
        link = getattr(extension(args.platform), "connect_link", None)
        if link is None:
            print(f"{prog}: platform {args.platform!r} has no approval link", file=sys.stderr)
            return 1
        with bootstrap(config=args.config, db_url=args.db) as wiring:
            ctx = ExtensionContext(registry=wiring.registry, store=wiring.store)
            url = link(
                ctx, args.domain.strip().lower(), public_url=args.public_url.strip().rstrip("/")
            )
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
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
