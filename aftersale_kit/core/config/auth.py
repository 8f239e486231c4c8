"""``shop.auth``: how the service gets a shop's API credentials, checked at load time.

::

    shop:
      auth:
        method: client_credentials      # one of the platform's methods
        client_id: APP_CLIENT_ID        # names of environment variables
        client_secret: APP_CLIENT_SECRET

The values are names of environment variables, never the credentials themselves (checked as
``shop.secrets`` is). A shop without ``auth:`` keeps working as before: the platform's first
method (its static credentials from ``shop.secrets``). Each platform declares its methods and
the variables each one reads (:attr:`aftersale_kit.core.platform_spec.PlatformSpec.auth_methods`).
"""

from __future__ import annotations

import re

import yaml

from .. import registry
from ..campaign import SecretRef, ShopAuth
from ..schema import ENV_VAR_PATTERN
from .checker import Checker, did_you_mean, join_path

__all__ = ["check_env_name", "looks_like_secret", "parse_auth"]

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
}


def looks_like_secret(value: str) -> bool:
    """Whether a value is a credential itself rather than the name of a variable."""
    prefixes = tuple(p for spec in registry.specs().values() for p in spec.secret_prefixes)
    if value.lower().startswith(prefixes):
        return True
    has_lower = any(ch.islower() for ch in value)
    has_digit = any(ch.isdigit() for ch in value)
    return len(value) >= 20 and has_lower and has_digit


def env_example(platform: str | None, name: str) -> str:
    spec = registry.find(platform or "")
    examples = spec.env_examples if spec is not None else {}
    return examples.get(name, "AFTERSALE_CODE_SECRET")


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
    fields = sorted(
        {f for spec in registry.specs().values() for m in spec.auth_methods for f in m.reads}
    )
    e = c.mapping(
        node,
        "shop.auth",
        allowed=("method", *fields),
        required=("method",),
        expected="a mapping with method: and the names of the environment variables it reads",
    )
    spec = registry.find(platform or "")
    if e is None or "method" not in e or spec is None:
        return None
    methods = {m.name: m.reads for m in spec.auth_methods}
    method = c.choice(
        e["method"].value,
        "shop.auth.method",
        list(methods),
        what=f"auth method on {platform}",
        synonyms={
            **_METHOD_SYNONYMS,
            **{alias: m.name for m in spec.auth_methods for alias in m.synonyms},
        },
    )
    if method is None:
        return None
    wanted = methods[method]
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
