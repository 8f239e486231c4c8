"""Reading a config file or text: the top level (``version``, ``shop``, ``campaigns``)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..campaign import Campaign, ShopConfig
from ..errors import ConfigError, ConfigProblem
from ..schema import object_keys
from .campaigns import read_campaigns
from .checker import Checker, found
from .contact_policy import read_contact_policy
from .context import Context, ParamCheck
from .loyalty import read_loyalty
from .mail import read_mail
from .shop import read_shop
from .source import YamlSyntaxError, compose

__all__ = ["load_config", "load_config_text"]


def load_config(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    param_check: ParamCheck | None = None,
) -> ShopConfig:
    """Read and validate one config file. ``name`` is how messages name the file (default: the
    path as given). Relative ``templates_dir`` are resolved against the file's folder.
    ``param_check`` (optional) also checks the values of block parameters.

    Raises :class:`ConfigError` listing every problem; never another exception for a bad file.
    """
    display = name if name is not None else os.fspath(path)
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = ConfigProblem(display, 1, 1, "", f"cannot read the file: {reason}")
        raise ConfigError([problem]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                ConfigProblem(
                    display, line, column, "", "the file is not UTF-8 text; save it as UTF-8"
                )
            ]
        ) from None
    return load_config_text(text, filename=display, base_dir=file.parent, param_check=param_check)


def load_config_text(
    text: str,
    *,
    filename: str = "<config>",
    base_dir: str | os.PathLike[str] | None = None,
    param_check: ParamCheck | None = None,
) -> ShopConfig:
    """Validate config text. ``filename`` is used in messages; ``base_dir`` (if given) resolves
    and checks a relative ``templates_dir``; ``param_check`` as in :func:`load_config`."""
    try:
        root = compose(text)
    except YamlSyntaxError as exc:
        raise ConfigError(
            [ConfigProblem(filename, exc.line, exc.column, "", exc.message)]
        ) from None
    if root is None:
        raise ConfigError(
            [
                ConfigProblem(
                    filename, 1, 1, "", "the file is empty; it needs a shop: section and campaigns:"
                )
            ]
        )
    checker = Checker(text=text, filename=filename)
    folder = Path(base_dir) if base_dir is not None else None
    config = _read_file(Context(checker, base_dir=folder, param_check=param_check), root)
    if checker.problems or config is None:
        raise ConfigError(checker.sorted_problems())
    return config


def _read_file(ctx: Context, root: yaml.Node) -> ShopConfig | None:
    top = ctx.c.mapping(
        root,
        "",
        allowed=object_keys(""),
        required=("shop", "campaigns"),
        expected="a mapping with shop: and campaigns:",
    )
    if top is None:
        return None
    if "version" in top:
        version = top["version"].value
        if not (isinstance(version, yaml.ScalarNode) and version.value == "1"):
            ctx.c.report(version, "version", f"expected 1, got {found(version)}")
    settings = read_shop(ctx, top["shop"].value) if "shop" in top else None
    ctx.templates_dir = settings.templates_dir if settings is not None else None
    loyalty = read_loyalty(ctx, top["loyalty"].value) if "loyalty" in top else None
    policy = None
    if "contact_policy" in top:
        policy = read_contact_policy(ctx, top["contact_policy"].value)
    mail = read_mail(ctx, top["mail"].value) if "mail" in top else None
    campaigns: list[Campaign] = []
    if "campaigns" in top:
        campaigns = read_campaigns(ctx, top["campaigns"].value)
    if settings is None:
        return None
    return ShopConfig(
        settings=settings,
        campaigns=tuple(campaigns),
        source=ctx.c.file,
        loyalty=loyalty,
        contact_policy=policy,
        mail=mail,
    )
