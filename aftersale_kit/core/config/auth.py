"""``shop.auth``: how the service gets a shop's API credentials, checked at load time.

::

    shop:
      auth:
        method: client_credentials      # Shopify: token | client_credentials | oauth
        client_id: SHOPIFY_CLIENT_ID    # WooCommerce: keys | approve
        client_secret: SHOPIFY_CLIENT_SECRET

The values are names of environment variables, never the credentials themselves (checked as
``shop.secrets`` is). A shop without ``auth:`` keeps working as before: Shopify reads the
static token of ``secrets.api_token``, WooCommerce the keys of ``secrets.consumer_key`` and
``secrets.consumer_secret``. The methods and the variables each one reads are listed in
:data:`aftersale_kit.core.schema.AUTH_METHODS`.
"""

from __future__ import annotations

import re

import yaml

from ..campaign import SecretRef, ShopAuth
from ..schema import AUTH_METHODS, ENV_VAR_PATTERN
from .checker import Checker, did_you_mean, join_path

__all__ = ["check_env_name", "looks_like_secret", "parse_auth"]

#: Values that are secrets themselves, not names of environment variables.
SECRET_PREFIXES = ("shpat_", "shpss_", "shpca_", "shppa_", "shpua_", "ck_", "cs_")
_ENV_EXAMPLES = {
    ("shopify", "webhook_secret"): "SHOPIFY_WEBHOOK_SECRET",
    ("shopify", "api_token"): "SHOPIFY_ACCESS_TOKEN",
    ("shopify", "client_id"): "SHOPIFY_CLIENT_ID",
    ("shopify", "client_secret"): "SHOPIFY_CLIENT_SECRET",
    ("woocommerce", "webhook_secret"): "WC_WEBHOOK_SECRET",
    ("woocommerce", "consumer_key"): "WC_CONSUMER_KEY",
    ("woocommerce", "consumer_secret"): "WC_CONSUMER_SECRET",
}
_METHOD_SYNONYMS = {
    "static": "token",
    "access_token": "token",
    "api_token": "token",
    "client": "client_credentials",
    "credentials": "client_credentials",
    "install": "oauth",
    "authorization_code": "oauth",
    "rest_keys": "keys",
    "api_keys": "keys",
    "approval": "approve",
    "wc_auth": "approve",
}


def looks_like_secret(value: str) -> bool:
    """Whether a value is a credential itself rather than the name of a variable."""
    if value.lower().startswith(SECRET_PREFIXES):
        return True
    has_lower = any(ch.islower() for ch in value)
    has_digit = any(ch.isdigit() for ch in value)
    return len(value) >= 20 and has_lower and has_digit


def env_example(platform: str | None, name: str) -> str:
    return _ENV_EXAMPLES.get((platform or "", name), "AFTERSALE_CODE_SECRET")


def check_env_name(c: Checker, value: yaml.Node, path: str, example: str) -> str | None:
    """The environment variable named at ``value``, or ``None`` (reported)."""
    if not isinstance(value, yaml.ScalarNode) or value.value == "":
        c.report(value, path, f"expected the name of an environment variable, e.g. {example}")
        return None
    text = str(value.value)
    if looks_like_secret(text):
        # Never repeat the value: it is probably the secret itself.
        c.report(
            value,
            path,
            "this looks like the secret itself; put it in an environment variable and "
            f"write the variable's name here, e.g. {example}",
        )
        return None
    if not re.fullmatch(ENV_VAR_PATTERN, text):
        c.report(
            value,
            path,
            "expected the name of an environment variable in capitals, digits and _, "
            f"e.g. {example}",
        )
        return None
    return text


def parse_auth(c: Checker, node: yaml.Node, platform: str | None) -> ShopAuth | None:
    """``shop.auth`` of a shop on ``platform`` (``None`` when the platform is unknown)."""
    fields = sorted({f for by in AUTH_METHODS.values() for fs, _ in by.values() for f in fs})
    e = c.mapping(
        node,
        "shop.auth",
        allowed=("method", *fields),
        required=("method",),
        expected="a mapping with method: and the names of the environment variables it reads",
    )
    if e is None or "method" not in e or platform is None or platform not in AUTH_METHODS:
        return None
    methods = AUTH_METHODS[platform]
    method = c.choice(
        e["method"].value,
        "shop.auth.method",
        list(methods),
        what=f"auth method on {platform}",
        synonyms=_METHOD_SYNONYMS,
    )
    if method is None:
        return None
    wanted, _ = methods[method]
    refs: list[SecretRef] = []
    for name, entry in e.items():
        if name == "method":
            continue
        if name not in wanted:
            reads = ", ".join(wanted) if wanted else "nothing"
            c.report(
                entry.key,
                "shop.auth",
                f"{name!r} is not read by method {method}{did_you_mean(name, wanted)}; "
                f"{method} reads {reads}",
            )
            continue
        path = join_path("shop.auth", name)
        env = check_env_name(c, entry.value, path, env_example(platform, name))
        if env is not None:
            refs.append(SecretRef(name=name, env=env))
    for name in wanted:
        if name not in e:
            c.report(
                node,
                "shop.auth",
                f"method {method} needs {name}: the name of the environment variable that "
                f"holds it, e.g. {name}: {env_example(platform, name)}",
            )
    return ShopAuth(method=method, refs=tuple(refs))
