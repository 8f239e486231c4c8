"""The composition root: one shop file becomes a registry, a migrated store and a processor
that decides an order; the worker and the app it makes share that processor and its metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, Order
from aftersale_kit.core.money import Money
from aftersale_kit.service.bootstrap import bootstrap
from aftersale_kit.service.shops import load_shops

from .harness import shop_yaml

DOMAIN = "boot-shop.myshopify.com"
ENV = {"BOOT_WEBHOOK_SECRET": "whsec-boot", "BOOT_CODE_SECRET": "code-boot"}
NOW = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def _shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(
        shop_yaml(
            platform="shopify",
            domain=DOMAIN,
            base_url="http://127.0.0.1:9",  # never called: the campaign needs no enrichment
            secrets={"webhook_secret": "BOOT_WEBHOOK_SECRET", "code_secret": "BOOT_CODE_SECRET"},
        ),
        encoding="utf-8",
    )
    return path


def _paid_order(order_id: str) -> Order:
    amount = Money.of("40.00", "USD")
    zero = Money.zero("USD")
    return Order(
        platform="shopify",
        shop=DOMAIN,
        id=order_id,
        number=f"#{order_id}",
        currency="USD",
        created_at=NOW,
        financial_status=FinancialStatus.PAID,
        subtotal=amount,
        total=amount,
        discounts=zero,
        shipping=zero,
        tax=zero,
        customer=Customer(id="c-1", email=None),
    )


def test_bootstrap_wires_one_shop_file_into_a_processor_that_decides_on_sqlite(
    tmp_path: Path,
) -> None:
    db_file = tmp_path / "boot.db"
    wiring = bootstrap(config=_shop_file(tmp_path), sqlite_path=db_file, env=ENV, clock=lambda: NOW)
    try:
        (entry,) = wiring.registry
        assert entry.domain == DOMAIN
        assert wiring.store.dialect == "sqlite"
        assert db_file.is_file()

        record, created = wiring.processor.decide_order(
            entry, _paid_order("7001"), EventKind.ORDER_PAID
        )

        assert created is True
        assert record.decision.fired == ("danke",)
        assert record.decided_at == NOW  # the clock given to bootstrap
        stored = wiring.store.decision(
            shop=DOMAIN, order_id="7001", event_kind=EventKind.ORDER_PAID
        )
        assert stored is not None and stored.decision.fired == ("danke",)

        worker = wiring.worker(threads=1)
        app = wiring.app(worker=worker)
        assert worker.processor is wiring.processor and worker.metrics is wiring.metrics
        assert app.state.processor is wiring.processor and app.state.metrics is wiring.metrics
    finally:
        wiring.close()


def test_bootstrap_takes_a_loaded_registry_and_refuses_both_or_neither(tmp_path: Path) -> None:
    registry = load_shops(_shop_file(tmp_path), env=ENV)
    with bootstrap(registry=registry, sqlite_path=tmp_path / "r.db") as wiring:
        assert wiring.registry is registry
        assert wiring.processor.registry is registry
    with pytest.raises(TypeError, match="exactly one of config= and registry="):
        bootstrap(registry=registry, config=tmp_path / "shop.yaml")
    with pytest.raises(TypeError, match="exactly one of config= and registry="):
        bootstrap()
