"""The loyalty lines of the demo's report for the shop owner, in the shop's language: per order
the points it earned and the customer's account, the stamp card and its reward; per shop the
accounts after the approval period (the worker's release), with what each balance buys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .content.formatting import Formatter
from .core.campaign import CouponKind, IssueCoupon, ShopConfig
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
        "account": "  Punktekonto {account}: {available} einlösbar, {pending} vorgemerkt{tier}",
        "customer": "Kunde {id}",
        "guest_account": "Gast {email}",
        "tier": "Stufe {tier}",
        "to_tier": "noch {missing} bis {tier}",
        "card": "  {name}: {slots} {stamps} von {needed} Stempeln{done}",
        "done": " ({count}× voll)",
        "full": "  {name}: {slots} voll – die nächste Karte beginnt",
        "reward": "    Prämie: Gutschein {code}{value}",
        "value": " über {value}",
        "next": "    noch {points} Punkte bis zum {option}",
        "released": "Bonusprogramm nach der Widerrufsfrist (Stand {when}):",
        "buys": "    reicht für: {options}",
        "no_accounts": "  noch kein Punktekonto",
        "coupon": "Gutschein über {value}",
    },
    "en": {
        "guest": "  Points: none – a guest order without a customer account",
        "none": "  Points: none for this order",
        "earned": "  Points: +{points}{bonus}, {when}",
        "bonus": " ({points} of them campaign bonus)",
        "pending": "pending for {days} days (return window)",
        "now": "redeemable",
        "account": "  Points account of {account}: {available} redeemable, {pending} pending{tier}",
        "customer": "customer {id}",
        "guest_account": "guest {email}",
        "tier": "tier {tier}",
        "to_tier": "{missing} to go until {tier}",
        "card": "  {name}: {slots} {stamps} of {needed} stamps{done}",
        "done": " (completed {count}×)",
        "full": "  {name}: {slots} complete – the next card starts",
        "reward": "    Reward: coupon {code}{value}",
        "value": " worth {value}",
        "next": "    {points} points to go until a {option}",
        "released": "Loyalty program after the return window (as of {when}):",
        "buys": "    enough for: {options}",
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
    parts = [words("tier", tier=account.tier)] if account.tier is not None else []
    if account.next_tier is not None and account.missing is not None:
        if rules is not None and rules.basis.value == "points":
            amount = words.number(int(account.missing))
        else:
            amount = words.fmt.money(account.missing)
        parts.append(words("to_tier", missing=amount, tier=account.next_tier))
    return "; " + ", ".join(parts) if parts else ""


def _account(account: AccountFacts, words: _Words) -> str:
    key = account.account
    if key.startswith("email:"):
        name = words("guest_account", email=key.removeprefix("email:"))
    else:
        name = words("customer", id=key)
    return words(
        "account",
        account=name,
        available=words.number(account.available),
        pending=words.number(account.pending),
        tier=_tier(account, words),
    )


def _card(card: CardFacts, words: _Words, *, completed_now: bool) -> str:
    if completed_now and card.stamps == 0:
        return words("full", name=card.name, slots="●" * card.needed)
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
    done = bool(facts.rewards)
    lines += [
        _card(card, words, completed_now=done)
        for card in facts.cards
        if card.stamps or card.completed
    ]
    lines += [
        words("reward", code=code, value=_reward_value(code, words)) for code in facts.rewards
    ]
    return lines


def _reward_value(code: str, words: _Words) -> str:
    """`` über 15,00 €`` for a fixed-amount reward coupon (found by its code prefix)."""
    program = words.program
    for card in program.stamp_cards if program is not None else ():
        for action in card.reward:
            if (
                isinstance(action, IssueCoupon)
                and action.kind is CouponKind.FIXED_AMOUNT
                and code.startswith(action.code_prefix or "\0")
            ):
                return words("value", value=words.fmt.money(action.value))
    return ""


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
        lines.append(_account(account, words))
        if account.reaches:
            lines.append(words("buys", options=_options(program, account.reaches, words)))
        elif account.next_option is not None:
            option = _options(program, [account.next_option], words)
            missing = words.number(account.option_missing)
            lines.append(words("next", points=missing, option=option))
    return lines if accounts else [*lines, words("no_accounts")]
