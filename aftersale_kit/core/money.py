"""Money as Decimal with a currency. Never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["CurrencyMismatchError", "Money", "to_decimal"]

_CENT = Decimal("0.01")


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were combined."""


def to_decimal(value: object) -> Decimal:
    """Turn a platform money value (string, int, Decimal; float only as its repr) into Decimal.

    Platforms send money as decimal strings, some a JSON float (a line-item ``price``),
    which is converted through its shortest repr so that ``19.99`` stays ``Decimal("19.99")``.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a money amount, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return Decimal(0)
        try:
            return Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"expected a money amount, got {value!r}") from exc
    raise ValueError(f"expected a money amount, got {value!r}")


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in a currency (ISO 4217 code, upper case)."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(to_decimal(amount), currency.upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency.upper())

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot combine {self.currency} and {other.currency} amounts"
            )

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def rounded(self) -> Money:
        """Rounded to cents, half up (as shops print prices)."""
        return Money(self.amount.quantize(_CENT, rounding=ROUND_HALF_UP), self.currency)

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency}"
