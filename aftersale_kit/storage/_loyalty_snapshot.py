"""What an account's journal replays to, kept on the account row (``loyalty_accounts.state``).

Booking a movement needs the account's ledger state (grants, redemptions, keys booked), its tier
history and its earnings; replaying the whole journal for that on every movement makes each
booking grow with the customer's history. :class:`LedgerSnapshot` is that replay's result,
written in the same transaction as every movement (under the account lock, so it can never lag
the journal), read instead of the journal. The journal stays the truth:
:func:`~.loyalty.check` replays it and compares the snapshot too, and an account without a
snapshot (booked before the snapshot existed, or created by a bulk import) is replayed and gets
one with its next booking.

The redemptions' ``used`` flags are not kept: they follow the coupons table and are looked up
at every load, as the replay does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core.loyalty.ledger import (
    Grant,
    JournalState,
    Movement,
    MovementKind,
    RedemptionRecord,
    SourceKind,
)
from ..core.loyalty.tiers import Activity

if TYPE_CHECKING:
    from .loyalty import JournalRow

__all__ = ["FORMAT", "LedgerSnapshot", "decode", "encode"]

#: The snapshot's format; a stored snapshot of another format is ignored (the journal is
#: replayed and the snapshot written anew).
FORMAT = 1


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The account's journal replayed: the ledger state, the tier history (earnings and
    reversals on orders), the earnings by key (as the journal holds them: the plan reads their
    tier and spend) and the number of journal rows it covers."""

    state: JournalState = field(default_factory=JournalState)
    history: tuple[Activity, ...] = ()
    earned: Mapping[str, JournalRow] = field(default_factory=dict)
    rows: int = 0


def _utc(value: datetime) -> str:
    # in UTC, as the journal gives its datetimes back (a date taken of it is the same)
    return value.astimezone(UTC).isoformat()


def _at(value: datetime | None) -> str | None:
    return None if value is None else _utc(value)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _req(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _grant(g: Grant) -> list[Any]:
    return [
        g.key,
        _utc(g.at),
        g.points,
        g.pending,
        g.remaining,
        g.released,
        _at(g.release_at),
        _at(g.expires_at),
        g.reversed,
        g.expired,
        g.from_order,
    ]


def _grant_from(v: Sequence[Any]) -> Grant:
    return Grant(
        key=v[0],
        at=_req(v[1]),
        points=int(v[2]),
        pending=int(v[3]),
        remaining=int(v[4]),
        released=bool(v[5]),
        release_at=_dt(v[6]),
        expires_at=_dt(v[7]),
        reversed=int(v[8]),
        expired=int(v[9]),
        from_order=bool(v[10]),
    )


def _movement(m: Movement) -> list[Any]:
    return [
        m.key,
        m.kind.value,
        _utc(m.at),
        m.points,
        m.source.value,
        m.ref,
        m.reason,
        m.grant,
        _at(m.release_at),
        _at(m.expires_at),
        m.coupon,
    ]


def _movement_from(v: Sequence[Any]) -> Movement:
    return Movement(
        key=v[0],
        kind=MovementKind(v[1]),
        at=_req(v[2]),
        points=int(v[3]),
        source=SourceKind(v[4]),
        ref=v[5],
        reason=v[6],
        grant=v[7],
        release_at=_dt(v[8]),
        expires_at=_dt(v[9]),
        coupon=v[10],
    )


def encode(snapshot: LedgerSnapshot) -> str:
    """The snapshot as the account row's JSON (redemptions without their ``used`` flag)."""
    s = snapshot.state
    return json.dumps(
        {
            "v": FORMAT,
            "rows": snapshot.rows,
            "pending": s.pending,
            "available": s.available,
            "debt": s.debt,
            "last_order_at": _at(s.last_order_at),
            "seen": sorted(s.seen),
            "grants": [_grant(g) for g in s.grants.values()],
            "redemptions": [
                [r.key, r.points, _utc(r.at), r.coupon, r.cancelled] for r in s.redemptions.values()
            ],
            "history": [[_utc(a.at), str(a.spend), a.points] for a in snapshot.history],
            "earned": [
                [
                    _movement(r.movement),
                    r.pending_delta,
                    r.available_delta,
                    _dec(r.spend),
                    r.tier,
                    _at(r.booked_at),
                ]
                for r in snapshot.earned.values()
            ],
        },
        separators=(",", ":"),
    )


def decode(text: str | None) -> LedgerSnapshot | None:
    """The stored snapshot, or ``None`` when there is none (or of another format)."""
    if not text:
        return None
    from .loyalty import JournalRow  # the row type lives with the ledger

    data = json.loads(text)
    if data.get("v") != FORMAT:
        return None
    grants = [_grant_from(v) for v in data["grants"]]
    state = JournalState(
        pending=int(data["pending"]),
        available=int(data["available"]),
        debt=int(data["debt"]),
        grants={g.key: g for g in grants},
        redemptions={
            k: RedemptionRecord(k, int(p), _req(at), coupon=c, cancelled=bool(x))
            for k, p, at, c, x in data["redemptions"]
        },
        seen=frozenset(data["seen"]),
        last_order_at=_dt(data["last_order_at"]),
    )
    earned = {}
    for m, pending, available, spend, tier, booked in data["earned"]:
        movement = _movement_from(m)
        earned[movement.key] = JournalRow(
            movement,
            int(pending),
            int(available),
            None if spend is None else Decimal(spend),
            tier,
            _dt(booked),
        )
    history = tuple(Activity(_req(at), Decimal(sp), int(p)) for at, sp, p in data["history"])
    return LedgerSnapshot(state, history, earned, int(data["rows"]))
