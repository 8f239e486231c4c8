"""``aftersale-kit shops rotate-key``: re-encrypt the stored shop credentials with a new key.

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

__all__ = ["add_connect_commands", "rotate_key"]

_PROG = "aftersale-kit shops rotate-key"


def add_connect_commands(commands: Any) -> None:
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
