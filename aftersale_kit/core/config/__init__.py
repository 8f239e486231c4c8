"""Load a shop owner's YAML config file into a validated :class:`ShopConfig`.

The whole file is checked at load time and **every** mistake is reported at once, each as
``file:line:column: path: message`` with what was expected, what was found and, for a misspelt
name, a suggestion::

    shop.yaml:14:12: campaigns[2].actions[0].issue_coupon.value: expected a percentage above 0
    and at most 100, got 'zehn'

Conditions are compiled here (never when an order arrives), so a config that loads cannot fail
later for a reason that could have been seen now. The format is described by
:func:`aftersale_kit.core.schema.config_json_schema` and in ``examples/README.md``.
"""

from __future__ import annotations

from .context import ParamCheck
from .loader import load_config, load_config_text

__all__ = ["ParamCheck", "load_config", "load_config_text"]
