"""Writers of :class:`~aftersale_kit.backtest.generate.GenOrder` in each input format of the
backtest (streamed)."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from .generate import GenOrder

__all__ = ["CSV_COLUMNS", "open_writer"]

SHOP_OFFSET = timezone(timedelta(hours=1))

#: Shopify's orders export, column for column, plus ``Customer ID`` (see :mod:`.generate`).
CSV_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
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
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
    "Customer ID",
)


class Writer(Protocol):
    def write(self, order: GenOrder) -> None: ...
    def close(self) -> None: ...


def _open(path: Path, gz: bool) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        return gzip.open(f"{path}.gz", "wt", encoding="utf-8", newline="", compresslevel=5)
    return open(path, "w", encoding="utf-8", newline="")


def _m(value: Decimal) -> str:
    return f"{value:.2f}"


def _csv_time(t: datetime | None) -> str:
    return t.astimezone(SHOP_OFFSET).strftime("%Y-%m-%d %H:%M:%S %z") if t else ""


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _naive_utc(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if t else None


def _naive_local(t: datetime | None) -> str | None:
    return t.astimezone(SHOP_OFFSET).strftime("%Y-%m-%dT%H:%M:%S") if t else None


class CsvWriter:
    def __init__(self, path: Path, gz: bool) -> None:
        self.file = _open(path, gz)
        self.out = csv.writer(self.file, lineterminator="\n")
        self.out.writerow(CSV_COLUMNS)
        self.index = {c: i for i, c in enumerate(CSV_COLUMNS)}

    def write(self, o: GenOrder) -> None:
        country, province, city, zip_code = o.place
        for k, li in enumerate(o.lines):
            row = [""] * len(CSV_COLUMNS)
            cells: dict[str, str] = {
                "Name": f"#{o.number}",
                "Lineitem quantity": str(li.quantity),
                "Lineitem name": li.title,
                "Lineitem price": _m(li.price),
                "Lineitem sku": li.sku,
                "Lineitem requires shipping": "true",
                "Lineitem taxable": "true",
                "Lineitem fulfillment status": "fulfilled" if o.fulfilled_at else "pending",
                "Vendor": li.vendor,
                "Lineitem discount": _m(li.discount),
            }
            if k == 0:
                cells |= {
                    "Email": o.email,
                    "Financial Status": o.financial_status,
                    "Paid at": _csv_time(o.paid_at),
                    "Fulfillment Status": "fulfilled" if o.fulfilled_at else "unfulfilled",
                    "Fulfilled at": _csv_time(o.fulfilled_at),
                    "Accepts Marketing": "yes" if o.accepts_marketing else "no",
                    "Currency": o.currency,
                    "Subtotal": _m(o.subtotal),
                    "Shipping": _m(o.shipping),
                    "Taxes": _m(o.tax),
                    "Total": _m(o.total),
                    "Discount Code": o.code or "",
                    "Discount Amount": _m(o.discount),
                    "Shipping Method": o.shipping_title,
                    "Created at": _csv_time(o.created_at),
                    "Billing Name": f"{o.first_name} {o.last_name}",
                    "Billing City": city,
                    "Billing Zip": zip_code,
                    "Billing Province": province or "",
                    "Billing Country": country,
                    "Shipping Name": f"{o.first_name} {o.last_name}",
                    "Shipping City": city,
                    "Shipping Zip": zip_code,
                    "Shipping Province": province or "",
                    "Shipping Country": country,
                    "Cancelled at": _csv_time(o.cancelled_at),
                    "Payment Method": o.gateway,
                    "Refunded Amount": _m(o.refunded),
                    "Outstanding Balance": "0.00",
                    "Id": o.id,
                    "Tags": "stammkunde" if o.customer_id and o.seq % 7 == 0 else "",
                    "Source": "web",
                    "Tax 1 Name": "MwSt 19%",
                    "Tax 1 Value": _m(o.tax),
                    "Customer ID": o.customer_id or "",
                }
            for name, value in cells.items():
                row[self.index[name]] = value
            self.out.writerow(row)

    def close(self) -> None:
        self.file.close()


def _bag(value: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": _m(value), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _gid(kind: str, value: str) -> str:
    return f"gid://shopify/{kind}/{value}"


class BulkWriter:
    def __init__(self, path: Path, gz: bool) -> None:
        self.file = _open(path, gz)

    def write(self, o: GenOrder) -> None:
        country, province, city, zip_code = o.place
        address = {
            "countryCodeV2": country,
            "provinceCode": province,
            "city": city,
            "zip": zip_code,
        }
        c = o.currency
        gid = _gid("Order", o.id)
        node: dict[str, Any] = {
            "id": gid,
            "name": f"#{o.number}",
            "email": o.email,
            "createdAt": _iso(o.created_at),
            "cancelledAt": _iso(o.cancelled_at),
            "displayFinancialStatus": o.financial_status.upper(),
            "displayFulfillmentStatus": "FULFILLED" if o.fulfilled_at else "UNFULFILLED",
            "currencyCode": c,
            "presentmentCurrencyCode": c,
            "tags": ["stammkunde"] if o.customer_id and o.seq % 7 == 0 else [],
            "discountCodes": [o.code] if o.code else [],
            "sourceName": "web",
            "paymentGatewayNames": [o.gateway],
            "subtotalPriceSet": _bag(o.subtotal, c),
            "totalPriceSet": _bag(o.total, c),
            "totalDiscountsSet": _bag(o.discount, c),
            "totalShippingPriceSet": _bag(o.shipping, c),
            "totalTaxSet": _bag(o.tax, c),
            "customer": (
                {
                    "id": _gid("Customer", o.customer_id),
                    "email": o.email,
                    "firstName": o.first_name,
                    "lastName": o.last_name,
                    "emailMarketingConsent": {
                        "marketingState": "SUBSCRIBED" if o.accepts_marketing else "NOT_SUBSCRIBED"
                    },
                }
                if o.customer_id
                else None
            ),
            "billingAddress": address,
            "shippingAddress": address,
            "shippingLine": {"title": o.shipping_title, "code": o.shipping_title},
            "transactions": (
                [{"kind": "SALE", "status": "SUCCESS", "processedAt": _iso(o.paid_at)}]
                if o.paid_at
                else []
            ),
            "fulfillments": [{"createdAt": _iso(o.fulfilled_at)}] if o.fulfilled_at else [],
            "refunds": [
                {
                    "id": _gid("Refund", r.id),
                    "createdAt": _iso(r.created_at),
                    "totalRefundedSet": _bag(r.amount, c),
                }
                for r in o.refunds
            ],
        }
        out = [json.dumps(node, separators=(",", ":"))]
        for li in o.lines:
            child = {
                "id": _gid("LineItem", li.id),
                "name": li.title,
                "title": li.title,
                "quantity": li.quantity,
                "sku": li.sku,
                "vendor": li.vendor,
                "isGiftCard": False,
                "product": {"id": _gid("Product", li.sku), "productType": li.product_type},
                "originalUnitPriceSet": _bag(li.price, c),
                "discountAllocations": (
                    [{"allocatedAmountSet": _bag(li.discount, c)}] if li.discount else []
                ),
                "__parentId": gid,
            }
            out.append(json.dumps(child, separators=(",", ":")))
        self.file.write("\n".join(out) + "\n")

    def close(self) -> None:
        self.file.close()


def woo_order(o: GenOrder) -> dict[str, Any]:
    """The order as ``GET /wc/v3/orders`` returns it (refunds with their date merged in)."""
    country, province, city, zip_code = o.place
    place = {
        "first_name": o.first_name,
        "last_name": o.last_name,
        "city": city,
        "state": province or "",
        "postcode": zip_code,
        "country": country,
    }
    return {
        "id": int(o.id),
        "number": str(o.number),
        "order_key": f"wc_order_{o.id}",
        "created_via": "checkout",
        "status": o.woo_status,
        "currency": o.currency,
        "date_created": _naive_local(o.created_at),
        "date_created_gmt": _naive_utc(o.created_at),
        "date_modified": _naive_local(o.modified_at),
        "date_modified_gmt": _naive_utc(o.modified_at),
        "discount_total": _m(o.discount),
        "shipping_total": _m(o.shipping),
        "total": _m(o.total),
        "total_tax": _m(o.tax),
        "customer_id": int(o.customer_id) if o.customer_id else 0,
        "billing": place | {"email": o.email},
        "shipping": dict(place),
        "payment_method": o.gateway,
        "date_paid": _naive_local(o.paid_at),
        "date_paid_gmt": _naive_utc(o.paid_at),
        "date_completed": _naive_local(o.fulfilled_at),
        "date_completed_gmt": _naive_utc(o.fulfilled_at),
        "line_items": [
            {
                "id": int(li.id),
                "name": li.title,
                "product_id": 400 + k,
                "variation_id": 0,
                "quantity": li.quantity,
                "subtotal": _m(li.gross),
                "total": _m(li.gross - li.discount),
                "sku": li.sku,
                "price": float(li.price),
            }
            for k, li in enumerate(o.lines)
        ],
        "shipping_lines": [
            {
                "method_title": o.shipping_title,
                "method_id": o.shipping_method_id,
                "total": _m(o.shipping),
            }
        ],
        "coupon_lines": ([{"code": o.code, "discount": _m(o.discount)}] if o.code else []),
        "refunds": [
            {
                "id": int(r.id),
                "reason": "",
                "total": f"-{_m(r.amount)}",
                "date_created_gmt": _naive_utc(r.created_at),
            }
            for r in o.refunds
        ],
    }


class WooLinesWriter:
    def __init__(self, path: Path, gz: bool) -> None:
        self.file = _open(path, gz)

    def write(self, o: GenOrder) -> None:
        self.file.write(json.dumps(woo_order(o), separators=(",", ":")) + "\n")

    def close(self) -> None:
        self.file.close()


class WooPagesWriter:
    """One file per REST page: a JSON array with one order per line."""

    def __init__(self, directory: Path, gz: bool, page_size: int) -> None:
        self.directory = directory
        self.gz = gz
        self.page_size = page_size
        self.page = 0
        self.in_page = 0
        self.file: IO[str] | None = None

    def write(self, o: GenOrder) -> None:
        if self.file is None:
            self.page += 1
            self.file = _open(self.directory / f"orders-{self.page:05d}.json", self.gz)
            self.file.write("[\n")
        else:
            self.file.write(",\n")
        self.file.write(json.dumps(woo_order(o), separators=(",", ":")))
        self.in_page += 1
        if self.in_page == self.page_size:
            self._end_page()

    def _end_page(self) -> None:
        if self.file is not None:
            self.file.write("\n]\n")
            self.file.close()
        self.file = None
        self.in_page = 0

    def close(self) -> None:
        self._end_page()


def open_writer(fmt: str, out: Path, *, gz: bool, page_size: int = 100) -> Writer:
    """The writer of ``fmt`` into directory ``out`` (file names in :mod:`.generate`)."""
    if fmt == "shopify-csv":
        return CsvWriter(out / "orders_export.csv", gz)
    if fmt == "shopify-bulk":
        return BulkWriter(out / "bulk-orders.jsonl", gz)
    if fmt == "woo-jsonl":
        return WooLinesWriter(out / "woo-orders.jsonl", gz)
    if fmt == "woo-json":
        return WooPagesWriter(out / "woo-pages", gz, page_size)
    raise ValueError(f"unknown format {fmt!r}")
