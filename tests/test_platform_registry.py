"""Adapters are found by name through entry points, imported only when asked for, and a missing
SDK names the pip command that installs it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

from aftersale_kit.core.errors import MissingExtraError
from aftersale_kit.core.money import Money
from aftersale_kit.platforms import (
    ENTRY_POINT_GROUP,
    PlatformLoadError,
    UnknownPlatformError,
    available_platforms,
    load_platform,
)


def entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_the_built_in_platforms_are_registered_by_the_package_metadata() -> None:
    assert {"shopify", "woocommerce"} <= set(available_platforms())


def test_a_registered_class_is_loaded() -> None:
    source = [entry("kasse", "aftersale_kit.core.money:Money")]
    assert load_platform("kasse", source=source) is Money
    assert available_platforms(source=source) == ("kasse",)


@pytest.mark.parametrize("name", ["shopify", "woocommerce"])
def test_missing_sdk_of_a_built_in_platform_names_the_extra(name: str) -> None:
    # given the built-in name pointing at a module that is really not importable
    source = [entry(name, f"aftersale_kit_missing_sdk_{name}.adapter:Adapter")]
    # when it is loaded
    with pytest.raises(MissingExtraError) as info:
        load_platform(name, source=source)
    # then the message is the install command, and the import error is kept as the cause
    assert str(info.value) == (
        f"the {name} platform (module 'aftersale_kit_missing_sdk_{name}' not found) needs an "
        f"optional dependency: pip install 'aftersale-kit[{name}]'"
    )
    assert info.value.extra == name
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert isinstance(info.value, ImportError)


def test_missing_module_of_a_third_party_platform() -> None:
    source = [entry("shopware", "aftersale_kit_shopware_absent.adapter:ShopwareAdapter")]
    with pytest.raises(PlatformLoadError) as info:
        load_platform("shopware", source=source)
    assert str(info.value) == (
        "platform 'shopware' (aftersale_kit_shopware_absent.adapter:ShopwareAdapter) cannot be "
        "imported: module 'aftersale_kit_shopware_absent' not found; reinstall the package that "
        "registers it"
    )


def test_missing_attribute_and_not_a_class() -> None:
    with pytest.raises(PlatformLoadError, match="which does not exist"):
        load_platform("x", source=[entry("x", "aftersale_kit.core.money:NoSuchAdapter")])
    with pytest.raises(PlatformLoadError, match="which is not a class"):
        load_platform("x", source=[entry("x", "aftersale_kit.core.money:to_decimal")])


def test_unknown_name_suggests_the_closest() -> None:
    source = [entry("shopify", "a:B"), entry("woocommerce", "c:D")]
    with pytest.raises(UnknownPlatformError) as info:
        load_platform("shopfy", source=source)
    assert str(info.value) == (
        "unknown platform 'shopfy' (did you mean 'shopify'?); installed platforms: shopify, "
        "woocommerce"
    )
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownPlatformError, match="installed platforms: none"):
        load_platform("magento", source=[])


def test_importing_the_registry_imports_no_adapter_or_sdk() -> None:
    # given a fresh interpreter, when the registry is imported and the names listed
    code = (
        "import sys, aftersale_kit.platforms as p; p.available_platforms(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aftersale_kit_shopify', 'aftersale_kit_woocommerce', 'shopify', 'woocommerce')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    # then nothing platform-specific was imported
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "class_name"), [("shopify", "ShopifyAdapter"), ("woocommerce", "WooCommerceAdapter")]
)
def test_the_installed_adapters_load_by_name(name: str, class_name: str) -> None:
    adapter = load_platform(name)
    assert adapter.__name__ == class_name
    assert callable(getattr(adapter, "from_settings", None))
