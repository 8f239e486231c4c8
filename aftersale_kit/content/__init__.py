"""Confirmation content: thank-you blocks, the order e-mail fragment and a preview page.

Jinja2 templates (sandboxed, autoescaped, compiled at startup) filled with data prepared in
Python; money and dates formatted per locale with Babel; German and English texts.

::

    renderer = ContentRenderer.for_config(config)          # once, at startup
    blocks = render_blocks(decision=d, order=o, config=config, now=now, renderer=renderer)
    html, text = render_email(decision=d, order=o, config=config, now=now, renderer=renderer)

Importing this package performs no I/O; :meth:`ContentRenderer.load` reads the templates.
"""

from .delivery import add_business_days, delivery_window, parse_day_range
from .environment import ContentRenderer, builtin_templates_dir
from .errors import ContentError, TemplateLoadError, TemplateRenderError
from .formatting import Formatter, resolve_locale
from .render import (
    RenderedBlock,
    blocks_payload,
    confirmation_content,
    render_blocks,
    render_email,
    render_page,
)

__all__ = [
    "ContentError",
    "ContentRenderer",
    "Formatter",
    "RenderedBlock",
    "TemplateLoadError",
    "TemplateRenderError",
    "add_business_days",
    "blocks_payload",
    "builtin_templates_dir",
    "confirmation_content",
    "delivery_window",
    "parse_day_range",
    "render_blocks",
    "render_email",
    "render_page",
    "resolve_locale",
]
