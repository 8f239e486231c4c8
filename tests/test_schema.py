"""The JSON Schema of config files: valid 2020-12, accepts the examples, refuses what editors
should underline, and agrees with the loader on every key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from aftersale_kit.core.blocks import BLOCKS
from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.schema import config_json_schema, object_keys

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*/shop.yaml"))

MINIMAL = {
    "shop": {"platform": "shopify", "domain": "a.myshopify.com", "currency": "EUR"},
    "campaigns": [{"id": "a", "actions": [{"tag_order": "x"}]}],
}


def as_json(value: Any) -> Any:
    """What an editor's YAML language server hands to the schema: dates as their text."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def validator() -> Draft202012Validator:
    return Draft202012Validator(config_json_schema())


def errors(document: Any) -> list[str]:
    return sorted(e.message for e in validator().iter_errors(document))


def test_the_schema_is_valid_draft_2020_12_and_serialisable() -> None:
    schema = config_json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(schema)) == schema


def test_every_property_has_a_description() -> None:
    missing = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                    missing.append(f"{path}.{name}")
            for key, sub in node.items():
                walk(sub, f"{path}.{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{path}[{index}]")

    walk(config_json_schema(), "")
    # the per-block parameter rules only list names; the block catalogue describes them
    assert [m for m in missing if ".allOf" not in m] == []


def test_each_call_returns_a_fresh_copy() -> None:
    first = config_json_schema()
    first["properties"].clear()
    assert config_json_schema()["properties"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_are_valid_against_the_schema(path: Path) -> None:
    document = as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert errors(document) == []


def test_minimal_document_is_valid() -> None:
    assert errors(MINIMAL) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["campaigns"][0].update(trigerr="order_paid"), "Additional properties"),
        (lambda d: d["campaigns"][0].update(trigger="order_payed"), "is not one of"),
        (lambda d: d["shop"].update(currency="euro"), "does not match"),
        (
            lambda d: d["campaigns"][0]["actions"].append(
                {"issue_coupon": {"type": "percent", "value": 10}}
            ),
            "is not valid under any of the given schemas",
        ),
        (
            lambda d: d["campaigns"][0]["actions"].append(
                {"show_block": {"block": "shipping", "params": {"handling_days": 1}}}
            ),
            "is not valid under any of the given schemas",
        ),
        (lambda d: d["campaigns"][0].update(budget={"amount": 0, "period": "month"}), "valid"),
        (lambda d: d.pop("campaigns"), "'campaigns' is a required property"),
    ],
)
def test_schema_refuses_what_the_loader_refuses(change: Any, message: str) -> None:
    # given a minimal valid document with one mistake
    document = json.loads(json.dumps(MINIMAL))
    change(document)
    # then the schema refuses it ...
    found = errors(document)
    assert found
    assert any(message in m for m in found), found
    # ... and so does the loader
    with pytest.raises(ConfigError):
        load_config_text(yaml.safe_dump(document, allow_unicode=True), filename="shop.yaml")


def test_block_parameter_rules_follow_the_catalogue() -> None:
    for spec in BLOCKS.values():
        params = {name: "x" for name in spec.required}
        document = json.loads(json.dumps(MINIMAL))
        document["campaigns"][0]["actions"] = [
            {"show_block": {"block": spec.name, "params": params}},
            {"show_block": {"block": spec.name, "params": {**params, "nope": 1}}},
        ]
        found = validator().iter_errors(document)
        assert len(list(found)) == 1, spec.name


def test_loader_and_schema_know_the_same_keys() -> None:
    # every key the schema lists is one the loader accepts (no "unknown key" for it) ...
    text = (
        "shop:\n  platform: shopify\n  domain: a.myshopify.com\n  currency: EUR\n"
        "campaigns:\n  - id: a\n    actions: [tag_order: x]\n"
    )
    for key in object_keys("campaign"):
        if key in ("id", "actions"):
            continue
        broken = text + f"    {key}: {{}}\n"
        with pytest.raises(ConfigError) as info:
            load_config_text(broken, filename="shop.yaml")
        assert "unknown key" not in str(info.value), key
    # ... and a key the schema does not list is unknown to the loader
    with pytest.raises(ConfigError) as info:
        load_config_text(text + "    colour: blue\n", filename="shop.yaml")
    assert "unknown key 'colour'" in str(info.value)
