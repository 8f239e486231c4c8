"""What the same order read from any of the formats has in common, for comparing them.

The formats carry different parts of an order:

=====================  =========  ============  =====================================
field                  CSV        bulk JSONL    WooCommerce
=====================  =========  ============  =====================================
line ids, product ids  no         yes           yes
line product type      no         yes           no
line vendor            yes        yes           no
order tags             yes        yes           no
accepts marketing      yes        yes           no
customer id            only with  yes           yes
                       an extra
                       column
refund dates, ids      no (one    yes           only when merged in from
                       total)                   ``/orders/<id>/refunds``
cancellation time      yes        yes           last change of a cancelled order
sales channel          ``web``    ``web``       ``checkout`` (``created_via``)
=====================  =========  ============  =====================================

:func:`common_view` keeps what all of them carry: the order's id, number (without ``#``),
currency, times (created, paid, cancelled, fulfilled), status, money, customer id, e-mail,
addresses, shipping method, gateway, codes and what each took off, the lines (title,
quantity, unit price, SKU, discount, in order) and the total refunded. Equal views mean a
backtest reads the same history.
"""

from __future__ import annotations

from decimal import Decimal

from ..history import HistoryOrder

__all__ = ["common_view"]


def common_view(h: HistoryOrder) -> tuple[object, ...]:
    """The fields of ``h`` that every format carries, as a comparable tuple."""
    o = h.order
    return (
        o.id,
        o.number.lstrip("#"),
        o.currency,
        o.created_at,
        o.financial_status,
        o.subtotal,
        o.total,
        o.discounts,
        o.shipping,
        o.tax,
        o.customer.id if o.customer else None,
        o.email,
        o.paid_at,
        o.cancelled_at,
        h.fulfilled_at,
        o.billing_address,
        o.shipping_address,
        o.shipping_method,
        o.payment_gateway,
        o.discount_codes,
        o.code_discounts,
        tuple((li.title, li.quantity, li.unit_price, li.sku, li.discount) for li in o.line_items),
        sum((r.amount.amount for r in o.refunds), Decimal(0)),
    )
