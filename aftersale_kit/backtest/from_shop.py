"""Past orders straight from a configured shop (``backtest --from-shop``), through its adapter.

The shop is the one the backtest's CONFIG describes (``shop.platform``, ``shop.domain``,
``shop.api_base_url``); its API credentials come from the environment variables the config
names (``shop.secrets`` / ``shop.auth``), as for every other command that talks to the shop.
Credentials kept in the service's credential store (installed apps, approved keys) are not
read: a backtest needs no running service and no database. The adapter is found through the
platform registry, so nothing here names a platform; it must offer
:class:`~aftersale_kit.core.platform.OrderHistory`.

Reading is paged, rate limited (the adapter waits out 429s and throttling within its retry
bounds) and resumable. With a ``checkpoint`` file, every page is first appended to a spool
beside it (``<checkpoint>.orders.jsonl.gz``: the raw orders as the platform sent them, one per
line, one gzip member per page), then the checkpoint is replaced atomically with the cursor of
the next page and the spool's size. A rerun after an interruption (Ctrl-C, a network failure,
a crash) reads the spooled orders from disk, cuts off whatever was written after the last
checkpoint, and continues from the cursor: every order once, no page fetched twice. A finished
checkpoint makes a rerun read the spool only; delete the checkpoint to fetch afresh.

Errors: an order that cannot be read is a :class:`~.history.BadRow` (``shop:<domain>`` and its
position in the listing) and is skipped; a failure of the shop itself (unreachable, refused
credentials, rate limits beyond the retry bounds) ends the read with one
:class:`FromShopError` that names the shop and what to check.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from ..core import registry
from ..core.campaign import ShopSettings
from ..core.errors import (
    AftersaleKitError,
    ConfigError,
    NotAuthorizedError,
    NotFoundError,
    PayloadError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)
from ..core.platform import OrderHistory, OrderPage
from ..core.registry import PlatformLoadError, UnknownPlatformError
from ..platforms import load_platform
from .history import BadRow, BadRowSink, HistoryOrder, SourceRef, date_problem

__all__ = ["CHECKPOINT_VERSION", "FromShopError", "connect_shop", "read_from_shop"]

#: The checkpoint file's format; a file of another version is refused, not misread.
CHECKPOINT_VERSION = 1
#: Orders asked for per page (adapters send fewer where their platform or cost limits say so).
DEFAULT_PAGE_SIZE = 100


class FromShopError(AftersaleKitError):
    """Reading from the shop failed as a whole; the message names the shop and what to check."""


# -- the adapter --------------------------------------------------------------------------------


def _secrets(settings: ShopSettings, environ: Mapping[str, str]) -> dict[str, str]:
    """The shop's secrets that are set in ``environ``; the adapter names any it misses."""
    refs = (*settings.secrets, *(settings.auth.refs if settings.auth is not None else ()))
    found = {ref.name: environ[ref.env] for ref in refs if environ.get(ref.env)}
    # Listing orders verifies no webhook: a shop file whose webhook secret is not exported on
    # this machine can still be backtested (the adapters require one to be constructed).
    found.setdefault("webhook_secret", "unused: backtests verify no webhooks")
    return found


def connect_shop(
    settings: ShopSettings,
    *,
    environ: Mapping[str, str] | None = None,
    adapter_options: Mapping[str, Any] | None = None,
) -> OrderHistory:
    """The shop's adapter, built through the registry with credentials from ``environ``
    (default: the process environment). ``adapter_options`` go to ``from_settings`` (retry
    bounds, timeouts). :class:`FromShopError` when it cannot be built or cannot list orders."""
    where = f"shop:{settings.domain}"
    try:
        cls: Any = load_platform(settings.platform)
    except (UnknownPlatformError, PlatformLoadError, ImportError) as exc:
        raise FromShopError(f"{where}: {exc}") from exc
    spec = registry.find(settings.platform)
    method = spec.auth_method(settings.auth_method) if spec is not None else None
    if method is not None and method.stored:
        raise FromShopError(
            f"{where}: shop.auth.method {method.name!r} keeps the credentials in the service's "
            "credential store, which a backtest does not open; give the shop an API token or "
            "key pair in shop.secrets (read from the environment), or backtest an order export"
        )
    env = os.environ if environ is None else environ
    try:
        adapter = cls.from_settings(
            settings, secrets=_secrets(settings, env), **dict(adapter_options or {})
        )
    except ConfigError as exc:
        # The adapter checks settings that came from the shop file but has no file position
        # for them: name the setting and what is wrong, without a made-up position.
        what = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems)
        raise FromShopError(f"{where}: {what}") from exc
    if not isinstance(adapter, OrderHistory):
        raise FromShopError(
            f"{where}: the {settings.platform} adapter cannot list past orders; export the "
            "orders to a file and backtest that"
        )
    return adapter


def _failure(exc: PlatformError, settings: ShopSettings, checkpoint: Path | None) -> str:
    where = f"shop:{settings.domain}"
    base = settings.api_base_url or settings.domain
    if isinstance(exc, NotAuthorizedError):
        check = "check the API credentials (shop.secrets) and that they may read orders"
    elif isinstance(exc, RateLimitedError):
        check = "the shop keeps rate-limiting; wait a few minutes and run again"
    elif isinstance(exc, PlatformUnavailableError):
        check = (
            f"check shop.domain / shop.api_base_url ({base}), the network, and that the shop is up"
        )
    elif isinstance(exc, NotFoundError):
        check = f"check shop.domain / shop.api_base_url ({base}) and shop.api_version"
    else:
        check = "the shop refused the order listing"
    resume = (
        f"; the orders read so far are kept: run again to continue ({checkpoint})"
        if checkpoint is not None
        else ""
    )
    return f"{where}: cannot read orders: {exc} ({check}){resume}"


# -- checkpoint and spool -----------------------------------------------------------------------


@dataclass(slots=True)
class _State:
    cursor: str | None
    orders: int
    spool_bytes: int
    complete: bool


class _Checkpoint:
    """The checkpoint file and its spool; ``None`` path: neither (nothing to resume)."""

    def __init__(self, path: Path | None, key: dict[str, Any]) -> None:
        self.path = path
        self.key = key
        self.spool = path.with_name(path.name + ".orders.jsonl.gz") if path else None

    def load(self) -> _State:
        if self.path is None or not self.path.exists():
            return _State(cursor=None, orders=0, spool_bytes=0, complete=False)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            state = _State(
                cursor=data["cursor"],
                orders=int(data["orders"]),
                spool_bytes=int(data["spool_bytes"]),
                complete=bool(data["complete"]),
            )
            same = data.get("version") == CHECKPOINT_VERSION and data.get("key") == self.key
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FromShopError(
                f"{self.path}: not a readable backtest checkpoint ({exc}); delete it to start over"
            ) from exc
        if not same:
            raise FromShopError(
                f"{self.path}: this checkpoint belongs to another read "
                f"({data.get('key')}); delete it or name another checkpoint"
            )
        return state

    def save(self, state: _State) -> None:
        if self.path is None:
            return
        data = {
            "version": CHECKPOINT_VERSION,
            "key": self.key,
            "cursor": state.cursor,
            "orders": state.orders,
            "spool_bytes": state.spool_bytes,
            "complete": state.complete,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def spooled(self, state: _State) -> Iterator[Any]:
        """The raw orders spooled up to the checkpoint; later bytes (a page whose checkpoint
        was never written) are cut off."""
        if self.spool is None or state.orders == 0:
            if self.spool is not None and self.spool.exists():
                self.spool.unlink()
            return
        if not self.spool.exists() or self.spool.stat().st_size < state.spool_bytes:
            raise FromShopError(
                f"{self.spool}: the spooled orders are missing or cut short; delete "
                f"{self.path} to start over"
            )
        with self.spool.open("r+b") as raw:
            raw.truncate(state.spool_bytes)
        try:
            with gzip.open(self.spool, "rt", encoding="utf-8") as lines:
                for count, line in enumerate(lines, start=1):
                    if count > state.orders:
                        return
                    yield json.loads(line)
        except (OSError, EOFError, ValueError) as exc:
            raise FromShopError(
                f"{self.spool}: the spooled orders cannot be read ({exc}); delete {self.path} "
                "to start over"
            ) from exc

    def append(self, orders: tuple[Any, ...]) -> int:
        """Append one page to the spool as its own gzip member; the spool's size after it."""
        if self.spool is None:
            return 0
        with self.spool.open("ab") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb") as member:
                for order in orders:
                    member.write(json.dumps(order, separators=(",", ":")).encode("utf-8"))
                    member.write(b"\n")
            raw.flush()
            os.fsync(raw.fileno())
            return raw.tell()


# -- progress -----------------------------------------------------------------------------------


class _Progress:
    """One line on stderr, redrawn per page: orders read (of how many, when the platform
    says), pages, bad orders. Drawn only on a terminal unless a stream is given."""

    def __init__(self, label: str, *, enabled: bool, stream: TextIO | None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and (stream is not None or _is_terminal(self.stream))
        self._drawn = False

    def __call__(self, *, orders: int, pages: int, total: int | None, bad: int) -> None:
        if not self.enabled:
            return
        if total:
            share = min(1.0, orders / total)
            bar = "#" * int(share * 30) + "-" * (30 - int(share * 30))
            text = f"{self.label} [{bar}] {orders:,}/{total:,} orders {share:4.0%}"
        else:
            text = f"{self.label} {orders:,} orders"
        text += f", {pages:,} page{'s' if pages != 1 else ''}"
        if bad:
            text += f", {bad:,} unreadable"
        self.stream.write("\r" + text)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# -- reading ------------------------------------------------------------------------------------


class _Reader:
    """Turns raw listed orders into :class:`HistoryOrder` items, counting positions."""

    def __init__(self, adapter: OrderHistory, path: str, on_bad: BadRowSink) -> None:
        self.adapter = adapter
        self.path = path
        self.on_bad = on_bad
        self.position = 0
        self.bad = 0

    def read(self, raw: Any) -> HistoryOrder | None:
        self.position += 1
        if not isinstance(raw, Mapping):
            self._bad(f"expected an order object, got {type(raw).__name__}")
            return None
        try:
            listed = self.adapter.read_listed_order(raw)
        except (PayloadError, ValueError) as exc:
            oid = raw.get("id") or raw.get("legacyResourceId")
            self._bad(f"order {oid}: {exc}" if oid else str(exc))
            return None
        item = HistoryOrder(
            order=listed.order,
            source=SourceRef(self.path, self.position),
            fulfilled_at=listed.fulfilled_at,
        )
        problem = date_problem(item)
        if problem is not None:
            self._bad(problem)
            return None
        return item

    def _bad(self, reason: str) -> None:
        self.bad += 1
        self.on_bad(BadRow(self.path, self.position, reason))


def _key(settings: ShopSettings, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    return {
        "platform": settings.platform,
        "shop": settings.domain,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


def read_from_shop(
    settings: ShopSettings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    on_bad: BadRowSink,
    checkpoint: Path | None = None,
    progress: bool = False,
    environ: Mapping[str, str] | None = None,
    adapter: OrderHistory | None = None,
    adapter_options: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_stream: TextIO | None = None,
) -> Iterator[HistoryOrder]:
    """The shop's orders created at or after ``since`` and before ``until``, oldest first.

    ``settings``: the shop section of the backtest's config; credentials are read from
    ``environ`` (default: the process environment) unless ``adapter`` is given.
    ``checkpoint``: the file that makes the read resumable (see the module's docstring);
    ``None``: read in one go. ``progress``: a progress line on stderr (on a terminal;
    ``progress_stream`` draws it there instead, always). Unreadable orders go to ``on_bad``;
    :class:`FromShopError` when the shop itself fails (the checkpoint keeps what was read).
    """
    for name, bound in (("since", since), ("until", until)):
        if bound is not None and bound.tzinfo is None:
            raise ValueError(f"{name} must be a timezone-aware datetime")
    box = _Checkpoint(checkpoint, _key(settings, since, until))
    state = box.load()
    shop = adapter or connect_shop(settings, environ=environ, adapter_options=adapter_options)
    reader = _Reader(shop, f"shop:{settings.domain}", on_bad)
    bar = _Progress(f"shop:{settings.domain}", enabled=progress, stream=progress_stream)
    try:
        for raw in box.spooled(state):
            item = reader.read(raw)
            if item is not None:
                yield item
        pages = 0
        if reader.position:
            bar(orders=reader.position, pages=pages, total=None, bad=reader.bad)
        while not state.complete:
            page = _page(shop, settings, since, until, state.cursor, page_size, checkpoint)
            pages += 1
            size = box.append(page.orders)
            state = _State(
                cursor=page.next_cursor,
                orders=state.orders + len(page.orders),
                spool_bytes=size,
                complete=page.next_cursor is None,
            )
            box.save(state)
            for raw in page.orders:
                item = reader.read(raw)
                if item is not None:
                    yield item
            bar(orders=reader.position, pages=pages, total=page.total, bad=reader.bad)
    finally:
        bar.close()


def _page(
    shop: OrderHistory,
    settings: ShopSettings,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    page_size: int,
    checkpoint: Path | None,
) -> OrderPage:
    try:
        return shop.list_orders(since=since, until=until, cursor=cursor, page_size=page_size)
    except PlatformError as exc:
        raise FromShopError(_failure(exc, settings, checkpoint)) from exc
