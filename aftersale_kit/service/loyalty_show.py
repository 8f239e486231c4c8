"""``aftersale-kit loyalty show``: one account in words, for an operator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ..core.loyalty.ledger import Grant
from ..core.loyalty.program import LoyaltyProgram
from ..core.loyalty.stamps import CardState, RewardStatus
from ..core.loyalty.tiers import standing
from ..storage.loyalty import AccountView, JournalRow, LoyaltyBalance
from ..storage.loyalty_admin import AccountBalance

__all__ = ["format_account"]


def _day(moment: datetime | None, zone: ZoneInfo) -> str:
    return "never" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d}"


def _tier(program: LoyaltyProgram, view: AccountView, now: datetime) -> str:
    if program.tiers is None:
        return "tier: none (the program has no tiers)"
    where = standing(view.history, program, now)
    unit = program.currency if program.tiers.basis.value == "spend" else "points"
    name = where.tier.name if where.tier is not None else "base rate"
    text = f"tier: {name} ({where.amount:,} {unit} in {program.tiers.window_months} months)"
    if where.next is not None and where.missing is not None:
        text += f"; next: {where.next.name}, {where.missing:,} {unit} missing"
    return text


def _grant(grant: Grant, zone: ZoneInfo) -> str:
    parts = [f"{grant.points:,} points earned {_day(grant.at, zone)}"]
    if grant.pending:
        parts.append(f"{grant.pending:,} pending until {_day(grant.release_at, zone)}")
    parts.append(f"{grant.remaining:,} available")
    if grant.reversed or grant.expired:
        parts.append(f"{grant.reversed:,} reversed, {grant.expired:,} expired")
    parts.append(f"expires {_day(grant.expires_at, zone)}")
    return f"  {grant.key}: " + ", ".join(parts)


def _card(program: LoyaltyProgram, state: CardState) -> str:
    card = program.card(state.card)
    needed = card.stamps if card is not None else len(state.stamps)
    name = f"{card.name} ({state.card})" if card is not None else state.card
    have = len(state.stamps)
    slots = "#" * min(have, needed) + "." * max(needed - have, 0)
    rewards = ", ".join(f"{c.key} {c.status.value}" for c in state.completions) or "none yet"
    active = sum(1 for c in state.completions if c.status is RewardStatus.ACTIVE)
    return f"  {name}: [{slots}] {have} of {needed} stamps; rewards: {rewards} ({active} active)"


def _movement(row: JournalRow, zone: ZoneInfo) -> str:
    m = row.movement
    at = row.booked_at or m.at
    change = row.pending_delta + row.available_delta
    return (
        f"  {at.astimezone(zone):%Y-%m-%d %H:%M}  {m.kind.value:<14} {change:>+8,}  "
        f"(pending {row.pending_delta:+,}, available {row.available_delta:+,})  "
        f"{m.source.value} {m.ref}: {m.reason}"
    )


def format_account(
    program: LoyaltyProgram,
    view: AccountView,
    journal: Sequence[JournalRow],
    *,
    balance: LoyaltyBalance | None,
    owner: AccountBalance | None,
    shop: str,
    zone: ZoneInfo,
    now: datetime,
    last: int = 10,
) -> str:
    who = (
        ", ".join(
            x
            for x in (
                owner and owner.customer_id and f"customer {owner.customer_id}",
                owner and owner.email,
            )
            if x
        )
        or "no personal data (anonymised, or none given)"
    )
    b = balance or LoyaltyBalance(view.account, 0, 0, 0)
    lines = [
        f"account {view.account} at {shop} ({who})",
        f"balance: {b.available:,} available, {b.pending:,} pending"
        + (f", debt {b.debt:,}" if b.debt else ""),
        _tier(program, view, now),
    ]
    grants = [g for g in view.state.grants.values() if g.pending or g.remaining]
    grants.sort(key=lambda g: (g.expires_at is None, g.expires_at or g.at, g.at))
    lines.append(f"grants with points left: {len(grants)}")
    lines += [_grant(g, zone) for g in grants]
    if view.cards:
        lines.append("stamp cards:")
        lines += [_card(program, view.cards[k]) for k in sorted(view.cards)]
    shown = list(journal)[-last:] if last else []
    lines.append(f"last movements ({len(shown)} of {len(journal)}, newest first):")
    lines += [_movement(r, zone) for r in reversed(shown)]
    return "\n".join(lines)
