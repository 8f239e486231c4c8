"""``shop.auth``: each platform's ways to connect, checked at load time with pinned messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersale_kit.core.campaign import SecretRef, ShopAuth
from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.schema import config_json_schema
from aftersale_kit.service.shops import ServiceConfigError, load_shops

SHOPIFY = "shop:\n  platform: shopify\n  domain: test.myshopify.com\n  currency: EUR\n"
WOO = "shop:\n  platform: woocommerce\n  domain: shop.example.de\n  currency: EUR\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="shop.yaml")
    return [str(p) for p in info.value.problems]


def test_client_credentials_name_their_two_variables() -> None:
    text = SHOPIFY + (
        "  auth:\n    method: client_credentials\n    client_id: SHOPIFY_CLIENT_ID\n"
        "    client_secret: SHOPIFY_CLIENT_SECRET\ncampaigns: []\n"
    )
    settings = load_config_text(text, filename="shop.yaml").settings
    assert settings.auth == ShopAuth(
        method="client_credentials",
        refs=(
            SecretRef(name="client_id", env="SHOPIFY_CLIENT_ID"),
            SecretRef(name="client_secret", env="SHOPIFY_CLIENT_SECRET"),
        ),
    )
    assert settings.auth_method == "client_credentials"


def test_a_shop_without_auth_keeps_todays_method() -> None:
    shopify = load_config_text(SHOPIFY + "campaigns: []\n", filename="shop.yaml").settings
    woo = load_config_text(WOO + "campaigns: []\n", filename="shop.yaml").settings
    assert (shopify.auth, shopify.auth_method) == (None, "token")
    assert (woo.auth, woo.auth_method) == (None, "keys")


def test_woocommerce_approval_reads_nothing_from_the_environment() -> None:
    text = WOO + "  auth:\n    method: approve\ncampaigns: []\n"
    assert load_config_text(text, filename="shop.yaml").settings.auth == ShopAuth("approve")


def test_every_auth_mistake_is_reported_where_it_stands() -> None:
    text = SHOPIFY + (
        "  auth:\n    method: client_credentials\n    client_id: shpss_0123456789abcdef\n"
        "    consumer_key: WC_KEY\ncampaigns: []\n"
    )
    assert problems(text) == [
        "shop.yaml:6:5: shop.auth: method client_credentials needs client_secret: the name of "
        "the environment variable that holds it, e.g. client_secret: SHOPIFY_CLIENT_SECRET",
        "shop.yaml:7:16: shop.auth.client_id: this looks like the secret itself; put it in an "
        "environment variable and write the variable's name here, e.g. SHOPIFY_CLIENT_ID",
        "shop.yaml:8:5: shop.auth: 'consumer_key' is not read by method client_credentials; "
        "client_credentials reads client_id, client_secret",
    ]


def test_a_misspelt_or_foreign_method_gets_a_suggestion() -> None:
    assert problems(SHOPIFY + "  auth:\n    method: clientcredentials\ncampaigns: []\n") == [
        "shop.yaml:6:13: shop.auth.method: unknown auth method on shopify 'clientcredentials' "
        "(did you mean 'client_credentials'?); expected one of token, client_credentials, oauth"
    ]
    assert problems(WOO + "  auth:\n    method: oauth\ncampaigns: []\n") == [
        "shop.yaml:6:13: shop.auth.method: unknown auth method on woocommerce 'oauth'; "
        "expected one of keys, approve"
    ]
    assert problems(SHOPIFY + "  auth: oauth\ncampaigns: []\n") == [
        "shop.yaml:5:9: shop.auth: expected a mapping with method: and the names of the "
        "environment variables it reads, got 'oauth'"
    ]


def test_the_json_schema_describes_auth() -> None:
    auth = config_json_schema()["$defs"]["shop"]["properties"]["auth"]
    assert auth["required"] == ["method"]
    assert auth["properties"]["method"]["enum"] == [
        "approve",
        "client_credentials",
        "keys",
        "oauth",
        "token",
    ]
    assert auth["properties"]["client_secret"]["pattern"] == "^[A-Z_][A-Z0-9_]*$"


def test_a_dev_dashboard_app_signs_webhooks_with_its_client_secret(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(
        SHOPIFY + "  secrets:\n    code_secret: CODE\n  auth:\n    method: client_credentials\n"
        "    client_id: CID\n    client_secret: CSECRET\ncampaigns: []\n"
    )
    env = {"CODE": "c" * 32, "CID": "id-1", "CSECRET": "secret-1"}
    [entry] = load_shops(tmp_path / "shop.yaml", env=env)
    assert entry.secrets["client_id"] == "id-1"
    assert entry.secrets["webhook_secret"] == "secret-1"
    del env["CSECRET"]
    with pytest.raises(ServiceConfigError) as info:
        load_shops(tmp_path / "shop.yaml", env=env)
    assert str(info.value) == (
        f"{tmp_path / 'shop.yaml'}: shop.auth.client_secret: environment variable CSECRET is not "
        "set (export CSECRET=... before starting the service)"
    )
