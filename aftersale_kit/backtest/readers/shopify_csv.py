"""The orders CSV that Shopify's admin exports (Orders > Export), read as past orders.

The export has one row per line item; the order's own columns (totals, dates, addresses) are
filled only on an order's first row, and the rows of one order share its ``Name``
(https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders). The
columns, as the header reads in exports today: Name, Email, Financial Status, Paid at,
Fulfillment Status, Fulfilled at, Accepts Marketing, Currency, Subtotal, Shipping, Taxes,
Total, Discount Code, Discount Amount, Shipping Method, Created at, Lineitem quantity, Lineitem
name, Lineitem price, Lineitem compare at price, Lineitem sku, Lineitem requires shipping,
Lineitem taxable, Lineitem fulfillment status, Billing Name/Street/Address1/Address2/Company/
City/Zip/Province/Country/Phone, the same for Shipping, Notes, Note Attributes, Cancelled at,
Payment Method, Payment Reference, Refunded Amount, Vendor, Outstanding Balance, Employee,
Location, Device ID, Id, Tags, Risk Level, Source, Lineitem discount, Tax 1-5 Name/Value, Phone,
Receipt Number, Duties, Billing/Shipping Province Name, Payment ID, Payment Terms Name, Next
Payment Due At, Payment References.

What the export does not carry, and how the reader fills the gap:

- **No customer id.** A ``Customer ID`` (or ``Customer: ID``) column, which export apps add, is
  read when present; otherwise every order is read as a guest order with its e-mail
  (``customer`` is ``None``), so per-customer counting falls back to the e-mail.
- **No line ids, product ids or product types.** Line ids are ``<order id>-<n>`` (n from 1 in
  row order); ``product_type``, tags and categories stay unknown (``None``).
- **Refunds only as a total** (``Refunded Amount``): one refund ``<order id>-refunded`` with that
  amount, no date (``created_at`` ``None``) and unknown lines.
- ``Discount Amount`` is the order's discount total; with a single ``Discount Code`` it is that
  code's amount (``code_discounts``); several codes (comma-separated) get no per-code amount.
- ``Lineitem price`` is the unit price before discounts, ``Lineitem discount`` the line's
  discount; ``Vendor`` is the line's vendor; ``Tags`` the order's tags; ``Payment Method`` the
  gateway; ``Source`` the sales channel; countries and provinces are the codes the export writes.
- ``Id`` is the order id (``Name`` when the column is absent); ``Name`` the order number.
- Times carry the shop's offset (``2025-01-15 10:23:45 +0100``); ``Paid at`` is the payment time,
  ``Fulfilled at`` the shipping time, ``Cancelled at`` the cancellation.

A row that cannot be read skips its whole order (an order missing a line would give wrong
figures) with one bad row naming the line; the order's other rows are skipped silently.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from aftersale_kit_shopify.normalize import shopify_financial_status

from aftersale_kit.core.model import Address, Customer, LineItem, Order, Refund
from aftersale_kit.core.money import Money
from aftersale_kit.core.normalize.reading import split_tags

from ..history import BadRow, BadRowSink, HistoryOrder, SourceRef
from ._io import LineSource
from ._values import RowError, parse_decimal, parse_int, parse_time

__all__ = ["REQUIRED_COLUMNS", "ShopifyCsvReader"]

PLATFORM = "shopify"

#: Without these a file is not an orders export (one bad row for the file, nothing read).
REQUIRED_COLUMNS = (
    "Name",
    "Created at",
    "Total",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
)
_CUSTOMER_ID_COLUMNS = ("Customer ID", "Customer: ID", "Customer Id")
_YES = {"yes", "true", "1"}


class _Columns:
    """Cell access by column name; absent columns read as empty. The order's columns are taken
    in one go (``head``), by positions worked out once from the header."""

    __slots__ = ("head_at", "index", "row")

    def __init__(self, header: Sequence[str]) -> None:
        self.index = {name.strip(): i for i, name in enumerate(header)}
        self.row: Sequence[str] = ()
        self.head_at = [(k, self.index[k]) for k in _HEAD_COLUMNS if k in self.index]

    def head(self) -> dict[str, str]:
        """The order-level cells of a full-width row (absent columns empty)."""
        row = self.row
        cells = dict.fromkeys(_HEAD_COLUMNS, "")
        for key, i in self.head_at:
            cells[key] = row[i].strip()
        cells["_customer"] = self.first(_CUSTOMER_ID_COLUMNS)
        return cells

    def __call__(self, name: str) -> str:
        i = self.index.get(name)
        if i is None or i >= len(self.row):
            return ""
        return self.row[i].strip()

    def first(self, names: Sequence[str]) -> str:
        return next((v for n in names if (v := self(n))), "")


@dataclass(slots=True)
class _Pending:
    name: str
    line: int
    head: dict[str, str]
    lines: list[LineItem] = field(default_factory=list)
    bad: bool = False


class ShopifyCsvReader:
    """:class:`~aftersale_kit.backtest.history.OrderReader` for Shopify's orders CSV export."""

    def read(
        self, path: str, *, shop: str, currency: str, on_bad: BadRowSink
    ) -> Iterator[HistoryOrder]:
        source = LineSource(path, on_bad, lenient=True)
        rows = csv.reader(source)
        header = self._header(rows, path, on_bad)
        if header is None:
            return
        grouping = _Grouping(path, header, shop=shop, currency=currency, on_bad=on_bad)
        while True:
            start = source.line + 1
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                on_bad(BadRow(path, start, f"not a readable CSV row ({exc})"))
                continue
            if source.undecodable:
                done = grouping.feed(row, start, not_utf8=True)
                source.undecodable.clear()
            else:
                done = grouping.feed(row, start)
            if done is not None:
                yield done
        if not source.truncated:
            done = grouping.finish()
            if done is not None:
                yield done

    @staticmethod
    def _header(rows: Iterator[list[str]], path: str, on_bad: BadRowSink) -> list[str] | None:
        try:
            header = next(rows)
        except StopIteration:
            on_bad(BadRow(path, 1, "the file is empty; export the orders again"))
            return None
        except csv.Error as exc:
            on_bad(BadRow(path, 1, f"the header is not a readable CSV row ({exc})"))
            return None
        names = {h.strip() for h in header}
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            on_bad(
                BadRow(
                    path,
                    1,
                    "not a Shopify orders export: the column(s) "
                    + ", ".join(repr(c) for c in missing)
                    + " are missing (export the orders as a CSV for Excel or plain CSV with all "
                    "columns)",
                )
            )
            return None
        return header


class _Grouping:
    """Rows into orders: a row with a new ``Name`` ends the order before it."""

    def __init__(
        self, path: str, header: Sequence[str], *, shop: str, currency: str, on_bad: BadRowSink
    ) -> None:
        self.path = path
        self.cells = _Columns(header)
        self.width = len(header)
        self.shop = shop
        self.currency = currency
        self.on_bad = on_bad
        self.pending: _Pending | None = None

    def finish(self) -> HistoryOrder | None:
        """The order being read, complete; ``None`` if there is none or it is bad."""
        pending, self.pending = self.pending, None
        if pending is None or pending.bad:
            return None
        try:
            return _history(pending, self.path, shop=self.shop, currency=self.currency)
        except RowError as exc:
            self.on_bad(
                BadRow(
                    self.path, pending.line, f"order {pending.name}: {exc}; the order is skipped"
                )
            )
            return None

    def feed(self, row: list[str], line: int, *, not_utf8: bool = False) -> HistoryOrder | None:
        """Take one row; the order it ended, if any. A row with bytes that are not UTF-8
        (``not_utf8``) makes its order bad."""
        if not "".join(row).strip():
            return None
        cells = self.cells
        cells.row = row
        name = cells("Name")
        done = None
        if self.pending is None or name != self.pending.name:
            done = self.finish()
            self.pending = _Pending(name=name, line=line, head={})
            if len(row) == self.width:
                self.pending.head = cells.head()
            if not name:
                return self._bad(line, "the order has no Name (its order number)", done)
        pending = self.pending
        if pending.bad:
            return done
        if len(row) != self.width:
            return self._bad(line, _width(len(row), self.width), done)
        if not_utf8:
            reason = "not UTF-8 text; save the export as UTF-8 (the order is skipped)"
            return self._bad(line, f"order {name}: {reason}", done)
        try:
            pending.lines.append(_line_item(cells, pending, self.currency))
        except RowError as exc:
            return self._bad(line, f"order {name}: {exc}; the order is skipped", done)
        return done

    def _bad(self, line: int, reason: str, done: HistoryOrder | None) -> HistoryOrder | None:
        """Mark the order being read bad (its other rows are skipped); pass ``done`` on."""
        if self.pending is not None:
            self.pending.bad = True
        self.on_bad(BadRow(self.path, line, reason))
        return done


_HEAD_COLUMNS = (
    "Id",
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Billing Name",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Refunded Amount",
    "Tags",
    "Source",
)


def _width(found: int, width: int) -> str:
    return (
        f"the row has {found} columns, the header {width} (a stray comma or quote?); "
        "the order is skipped"
    )


def _line_item(cells: _Columns, pending: _Pending, currency: str) -> LineItem:
    order_currency = (pending.head["Currency"] or currency).upper()
    discount = cells("Lineitem discount")
    return LineItem(
        id=f"{pending.head['Id'] or pending.name}-{len(pending.lines) + 1}",
        title=cells("Lineitem name") or _raise("the Lineitem name is empty"),
        quantity=parse_int(cells("Lineitem quantity"), what="Lineitem quantity"),
        unit_price=Money(
            parse_decimal(cells("Lineitem price"), what="Lineitem price"), order_currency
        ),
        sku=cells("Lineitem sku") or None,
        vendor=cells("Vendor") or None,
        discount=(
            Money(parse_decimal(discount, what="Lineitem discount"), order_currency)
            if discount
            else None
        ),
    )


def _raise(reason: str) -> str:
    raise RowError(reason)


def _history(pending: _Pending, path: str, *, shop: str, currency: str) -> HistoryOrder:
    h = pending.head
    code = (h["Currency"] or currency).upper()
    if len(code) != 3 or not code.isalpha():
        raise RowError(f"the Currency {h['Currency']!r} is not a code like EUR")
    created_at = parse_time(h["Created at"], what="Created at")
    if created_at is None:
        raise RowError("Created at is empty (is this the order's first row?)")
    cancelled_at = parse_time(h["Cancelled at"], what="Cancelled at")
    order_id = h["Id"] or pending.name

    def money(column: str) -> Money:
        return Money(parse_decimal(h[column], what=column), code)

    discounts = money("Discount Amount")
    codes = split_tags(h["Discount Code"])
    refunded = money("Refunded Amount")
    customer_id = h["_customer"]
    email = h["Email"] or None
    accepts = h["Accepts Marketing"].lower()
    order = Order(
        platform=PLATFORM,
        shop=shop,
        id=order_id,
        number=pending.name,
        currency=code,
        created_at=created_at,
        financial_status=shopify_financial_status(
            h["Financial Status"], cancelled=cancelled_at is not None
        ),
        subtotal=money("Subtotal"),
        total=money("Total"),
        discounts=discounts,
        shipping=money("Shipping"),
        tax=money("Taxes"),
        line_items=tuple(pending.lines),
        customer=(
            Customer(
                id=customer_id,
                email=email,
                accepts_marketing=(accepts in _YES) if accepts else None,
            )
            if customer_id
            else None
        ),
        email=email,
        paid_at=parse_time(h["Paid at"], what="Paid at"),
        cancelled_at=cancelled_at,
        billing_address=_address(h, "Billing"),
        shipping_address=_address(h, "Shipping"),
        shipping_method=h["Shipping Method"] or None,
        payment_gateway=h["Payment Method"] or None,
        source=h["Source"] or None,
        discount_codes=codes,
        note_attributes=_note_attributes(h["Note Attributes"]),
        tags=split_tags(h["Tags"]),
        refunds=(
            (Refund(id=f"{order_id}-refunded", amount=refunded, lines=None),)
            if refunded.amount > 0
            else ()
        ),
        code_discounts=((codes[0], discounts),) if len(codes) == 1 else (),
    )
    return HistoryOrder(
        order=order,
        source=SourceRef(path, pending.line),
        fulfilled_at=parse_time(h["Fulfilled at"], what="Fulfilled at"),
    )


def _address(h: dict[str, str], side: str) -> Address | None:
    country = h[f"{side} Country"]
    province = h[f"{side} Province"]
    found = Address(
        country_code=country.upper() or None,
        province_code=province.upper() or None,
        city=h[f"{side} City"] or None,
        # The export writes zips as ``'02115`` so spreadsheets keep the leading zero.
        zip=h[f"{side} Zip"].lstrip("'") or None,
    )
    return None if found == Address() else found


def _note_attributes(text: str) -> tuple[tuple[str, str], ...]:
    """``Note Attributes`` as exported: one ``name: value`` per line."""
    pairs = []
    for part in text.splitlines():
        name, sep, value = part.partition(":")
        if sep and name.strip():
            pairs.append((name.strip(), value.strip()))
    return tuple(pairs)
