"""The loyalty lines of the demo's report for the shop owner, in the shop's language: per order
one line with the points it earned, the customer's account and the stamp card (and a line for a
card's reward); per shop the accounts after the approval period (the worker's release), each
with its tier and what its balance buys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .content.formatting import Formatter
from .core.campaign import CouponKind, IssueCoupon, ShopConfig
from .core.loyalty.program import LoyaltyProgram
from .demo_loyalty_facts import AccountFacts, CardFacts, LoyaltyFacts

__all__ = ["account_lines", "order_lines"]

_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "guest": "  Bonuspunkte: keine – Gastbestellung ohne Kundenkonto",
        "earned": "  Bonuspunkte: +{points}{bonus} · {account}",
        "none": "  Bonuspunkte: keine für diese Bestellung · {account}",
        "bonus": " (davon {points} Aktion)",
        "account": "{who}: {total} Punkte{pending}",
        "pending": " ({points} vorgemerkt)",
        "customer": "Kunde {id}",
        "guest_account": "Gast {email}",
        "card": " · Sammelkarte {slots}",
        "reward": "    {name} voll: Prämie Gutschein {code}{value}",
        "value": " über {value}",
        "released": "Bonusprogramm nach der Widerrufsfrist ({days} Tage), Stand {when}:",
        "tier": ", Stufe {tier}",
        "buys": " – reicht für: {options}",
        "next": " – noch {points} bis: {option}",
        "coupon": "Gutschein über {value}",
        "no_accounts": "  noch kein Punktekonto",
    },
    "en": {
        "guest": "  Points: none – a guest order without a customer account",
        "earned": "  Points: +{points}{bonus} · {account}",
        "none": "  Points: none for this order · {account}",
        "bonus": " ({points} campaign bonus)",
        "account": "{who}: {total} points{pending}",
        "pending": " ({points} pending)",
        "customer": "customer {id}",
        "guest_account": "guest {email}",
        "card": " · stamp card {slots}",
        "reward": "    {name} complete: reward coupon {code}{value}",
        "value": " worth {value}",
        "released": "Loyalty program after the return window ({days} days), as of {when}:",
        "tier": ", tier {tier}",
        "buys": " – enough for: {options}",
        "next": " – {points} to go until: {option}",
        "coupon": "{value} coupon",
        "no_accounts": "  no points account yet",
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


def _who(account: str, words: _Words) -> str:
    if account.startswith("email:"):
        return words("guest_account", email=account.removeprefix("email:"))
    return words("customer", id=account)


def _account(account: AccountFacts, words: _Words) -> str:
    pending = words("pending", points=words.number(account.pending)) if account.pending else ""
    return words(
        "account",
        who=_who(account.account, words),
        total=words.number(account.available + account.pending),
        pending=pending,
    )


def _slots(card: CardFacts, *, completed_now: bool) -> str:
    if completed_now and card.stamps == 0:
        return "●" * card.needed
    return "●" * card.stamps + "○" * max(card.needed - card.stamps, 0)


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


def order_lines(facts: LoyaltyFacts | None, config: ShopConfig) -> list[str]:
    """What one order did on the customer's points account (nothing without a program)."""
    if facts is None or config.loyalty is None:
        return []
    words = _Words(config)
    account = facts.account
    if account is None:
        return [words("guest")]
    text = _account(account, words)
    done = bool(facts.rewards)
    for card in facts.cards:
        if card.stamps or card.completed:
            text += words("card", slots=_slots(card, completed_now=done))
    if facts.earned is None:
        lines = [words("none", account=text)]
    else:
        bonus = words("bonus", points=words.number(facts.bonus)) if facts.bonus else ""
        lines = [words("earned", points=words.number(facts.earned), bonus=bonus, account=text)]
    names = [c.name for c in facts.cards if c.completed] or [""]
    for code in facts.rewards:
        lines.append(
            words("reward", name=names[0], code=code, value=_reward_value(code, words)).rstrip()
        )
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


def _balance_line(account: AccountFacts, program: LoyaltyProgram, words: _Words) -> str:
    tier = words("tier", tier=account.tier) if account.tier is not None else ""
    line = "  " + _account(account, words) + tier
    if account.reaches:
        return line + words("buys", options=_options(program, account.reaches, words))
    if account.next_option is not None:
        option = _options(program, [account.next_option], words)
        return line + words("next", points=words.number(account.option_missing), option=option)
    return line


def account_lines(
    accounts: Sequence[AccountFacts], config: ShopConfig, *, at: datetime | None
) -> list[str]:
    """Every account after the release at ``at``: points, tier, what the balance buys."""
    program = config.loyalty
    if program is None or at is None:
        return []
    words = _Words(config)
    moment = words.fmt.local(at)
    when = words.fmt.medium_date(moment.date())
    lines = [words("released", days=program.pending_days, when=when)]
    lines += [_balance_line(account, program, words) for account in accounts]
    return lines if accounts else [*lines, words("no_accounts")]
