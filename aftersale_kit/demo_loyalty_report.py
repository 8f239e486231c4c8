"""The loyalty lines of the demo's report for the shop owner, in the shop's language: per order
the points it earned and the customer's account, the stamp card and its reward; per shop the
accounts after the approval period (the worker's release), with what each balance buys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .content.formatting import Formatter
from .core.campaign import ShopConfig
from .core.loyalty.program import LoyaltyProgram
from .demo_loyalty import AccountFacts, CardFacts, LoyaltyFacts

__all__ = ["account_lines", "order_lines"]

_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "guest": "  Bonuspunkte: keine – Gastbestellung ohne Kundenkonto",
        "none": "  Bonuspunkte: keine für diese Bestellung",
        "earned": "  Bonuspunkte: +{points}{bonus}, {when}",
        "bonus": " (davon {points} Aktionsbonus)",
        "pending": "vorgemerkt für {days} Tage (Widerrufsfrist)",
        "now": "einlösbar",
        "account": "  Punktekonto Kunde {account}: {available} einlösbar, "
        "{pending} vorgemerkt{tier}",
        "tier": "; Stufe {tier}",
        "to_tier": "; noch {missing} bis {tier}",
        "card": "  {name}: {slots} {stamps} von {needed} Stempeln{done}",
        "done": ", {count}× voll",
        "reward": "    Sammelkarte voll – Prämie: Gutschein {code}",
        "released": "Bonusprogramm nach der Widerrufsfrist (Stand {when}):",
        "buys": "; reicht für: {options}",
        "no_accounts": "  noch kein Punktekonto",
        "coupon": "{value}-Gutschein",
    },
    "en": {
        "guest": "  Points: none – a guest order without a customer account",
        "none": "  Points: none for this order",
        "earned": "  Points: +{points}{bonus}, {when}",
        "bonus": " ({points} of them campaign bonus)",
        "pending": "pending for {days} days (return window)",
        "now": "redeemable",
        "account": "  Points account of customer {account}: {available} redeemable, "
        "{pending} pending{tier}",
        "tier": "; tier {tier}",
        "to_tier": "; {missing} to go until {tier}",
        "card": "  {name}: {slots} {stamps} of {needed} stamps{done}",
        "done": ", completed {count}×",
        "reward": "    Card complete – reward: coupon {code}",
        "released": "Loyalty program after the return window (as of {when}):",
        "buys": "; enough for: {options}",
        "no_accounts": "  no points account yet",
        "coupon": "{value} coupon",
    },
}


class _Words:
    def __init__(self, config: ShopConfig) -> None:
        self.fmt = Formatter.create(order=None, settings=config.settings)
        self.lang = self.fmt.language if self.fmt.language in _TEXTS else "en"
        self.program = config.loyalty

    def __call__(self, key: str, **values: object) -> str:
        return _TEXTS[self.lang][key].format(**values)

    def number(self, value: int) -> str:
        return self.fmt.number(value)


def _tier(account: AccountFacts, words: _Words) -> str:
    rules = words.program.tiers if words.program is not None else None
    if account.next_tier is not None and account.missing is not None:
        if rules is not None and rules.basis.value == "points":
            amount = words.number(int(account.missing))
        else:
            amount = words.fmt.money(account.missing)
        return words("to_tier", missing=amount, tier=account.next_tier)
    if account.tier is not None:
        return words("tier", tier=account.tier)
    return ""


def _account(account: AccountFacts, words: _Words) -> str:
    return words(
        "account",
        account=account.account,
        available=words.number(account.available),
        pending=words.number(account.pending),
        tier=_tier(account, words),
    )


def _card(card: CardFacts, words: _Words) -> str:
    slots = "●" * card.stamps + "○" * max(card.needed - card.stamps, 0)
    done = words("done", count=card.completed) if card.completed else ""
    return words(
        "card", name=card.name, slots=slots, stamps=card.stamps, needed=card.needed, done=done
    )


def order_lines(facts: LoyaltyFacts | None, config: ShopConfig) -> list[str]:
    """What one order did on the customer's points account (nothing without a program)."""
    if facts is None or config.loyalty is None:
        return []
    words = _Words(config)
    account = facts.account
    if account is None:
        return [words("guest")]
    if facts.earned is None:
        lines = [words("none")]
    else:
        bonus = words("bonus", points=words.number(facts.bonus)) if facts.bonus else ""
        when = words("pending", days=facts.pending_days) if facts.pending_days else words("now")
        lines = [words("earned", points=words.number(facts.earned), bonus=bonus, when=when)]
    lines.append(_account(account, words))
    lines += [_card(card, words) for card in facts.cards if card.stamps or card.completed]
    lines += [words("reward", code=code) for code in facts.rewards]
    return lines


def _options(program: LoyaltyProgram, ids: Sequence[str], words: _Words) -> str:
    names = []
    for option in program.redemption.options:
        if option.id not in ids:
            continue
        if option.coupon_value is not None:
            names.append(words("coupon", value=words.fmt.money(option.coupon_value)))
        else:
            names.append(option.reward.title if option.reward is not None else option.id)
    return ", ".join(names)


def account_lines(
    accounts: Sequence[AccountFacts], config: ShopConfig, *, at: datetime | None
) -> list[str]:
    """Every account after the release at ``at``, with what its balance buys."""
    program = config.loyalty
    if program is None or at is None:
        return []
    words = _Words(config)
    moment = words.fmt.local(at)
    lines = [words("released", when=words.fmt.medium_date(moment.date()))]
    for account in accounts:
        line = _account(account, words)
        if account.reaches:
            line += words("buys", options=_options(program, account.reaches, words))
        lines.append(line)
    return lines if accounts else [*lines, words("no_accounts")]
