from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersale_kit.storage import Store
from aftersale_kit.storage.memory import MemoryStore
from aftersale_kit.testing.postgres import require_postgres, temporary_schema

from .harness import shop_yaml

SHOPIFY_ENV = {
    "SHOP_WEBHOOK_SECRET": "whsec-" + secrets.token_hex(12),
    "SHOP_API_TOKEN": "",
    "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    with temporary_schema(require_postgres(), prefix="service") as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store | MemoryStore]:
    """A fresh store behind the storage ports: in memory (service logic without a database),
    SQLite and PostgreSQL."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        with Store.open(f"sqlite:///{tmp_path / 'any.db'}", migrate=True) as store:
            yield store
        return
    with (
        temporary_schema(require_postgres(), prefix="service") as url,
        Store.open(url, migrate=True) as store,
    ):
        yield store


@pytest.fixture
def woocommerce_sandbox() -> Iterator[object]:
    from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox

    with WooCommerceSandbox(webhook_secret="wcsec-" + secrets.token_hex(12), seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def shopify_sandbox() -> Iterator[object]:
    from aftersale_kit_shopify.sandbox.app import ShopifySandbox

    with ShopifySandbox(shop="svc-shop", seed=7) as sandbox:
        yield sandbox


def write_shopify_config(
    folder: Path, sandbox: object, *, usage_limit: int | None = None, budget: str | None = None
) -> tuple[Path, dict[str, str]]:
    env = {
        "SHOP_WEBHOOK_SECRET": sandbox.secret,  # type: ignore[attr-defined]
        "SHOP_API_TOKEN": sandbox.token,  # type: ignore[attr-defined]
        "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.yaml"
    path.write_text(
        shop_yaml(
            platform="shopify",
            domain=sandbox.shop_domain,  # type: ignore[attr-defined]
            base_url=sandbox.url,  # type: ignore[attr-defined]
            secrets={
                "webhook_secret": "SHOP_WEBHOOK_SECRET",
                "api_token": "SHOP_API_TOKEN",
                "code_secret": "SHOP_CODE_SECRET",
            },
            usage_limit=usage_limit,
            budget=budget,
        ),
        encoding="utf-8",
    )
    return folder, env


def write_woocommerce_config(folder: Path, sandbox: object) -> tuple[Path, dict[str, str]]:
    """A shop file for the WooCommerce sandbox. Its domain is the sandbox's host (``127.0.0.1``):
    that is what the sandbox's own deliveries name in ``X-WC-Webhook-Source``."""
    from aftersale_kit_woocommerce.webhooks import normalize_store

    env = {
        "WOO_WEBHOOK_SECRET": sandbox.webhooks.default_secret,  # type: ignore[attr-defined]
        "WOO_CONSUMER_KEY": sandbox.consumer_key,  # type: ignore[attr-defined]
        "WOO_CONSUMER_SECRET": sandbox.consumer_secret,  # type: ignore[attr-defined]
        "WOO_CODE_SECRET": "code-" + secrets.token_hex(12),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.yaml"
    path.write_text(
        shop_yaml(
            platform="woocommerce",
            domain=normalize_store(sandbox.home_url),  # type: ignore[attr-defined]
            base_url=sandbox.url,  # type: ignore[attr-defined]
            secrets={
                "webhook_secret": "WOO_WEBHOOK_SECRET",
                "consumer_key": "WOO_CONSUMER_KEY",
                "consumer_secret": "WOO_CONSUMER_SECRET",
                "code_secret": "WOO_CODE_SECRET",
            },
        ),
        encoding="utf-8",
    )
    return folder, env
