"""Names and titles from orders are inert text: escaped in HTML, never run as a template."""

from __future__ import annotations

import html

import pytest
from content_samples import NOW, campaign, decide_by_hand, full_setup, order, settings, show

from aftersale_kit.content import (
    ContentRenderer,
    render_blocks,
    render_email,
    render_page,
)
from aftersale_kit.core.campaign import FreeGift, ShopConfig
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.model import Order

SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{ 7*7 }}"
#: A product no template would print by accident: 12345 * 6789.
BIG = "{{ 12345*6789 }}"
HOSTILE = f"Anna {SCRIPT} {TEMPLATE} {BIG} {{% if true %}}x{{% endif %}} \"q\" 's'"


def _hostile_setup() -> tuple[ShopConfig, Order, Decision]:
    # given a customer, a product, a shipping method and a shop owner's texts that look like code
    the_order = order(first_name=HOSTILE, title=HOSTILE, shipping_method=HOSTILE)
    config, _, _ = full_setup(the_order=the_order)
    campaigns = (
        *config.campaigns,
        campaign(
            "hostile-texts",
            (
                FreeGift(note=HOSTILE),
                show("free_gift", headline=HOSTILE, text=HOSTILE),
                show("contact_person", name=HOSTILE, role=HOSTILE, hours=HOSTILE, text=HOSTILE),
                show("social_follow", links=[{"label": HOSTILE, "url": "https://example.com/x"}]),
                show("newsletter", signup_url="https://example.com/n?a=1&b=2", incentive=HOSTILE),
            ),
        ),
    )
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    return config, the_order, decide_by_hand(campaigns, the_order)


def _assert_inert_html(markup: str) -> None:
    assert SCRIPT not in markup
    assert "alert(1)" in markup  # still shown, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert TEMPLATE in markup  # printed as written ...
    assert "83810205" not in markup  # ... never evaluated
    assert markup.count(TEMPLATE) == markup.count(BIG)
    # every hostile text is intact once unescaped
    assert HOSTILE in html.unescape(markup)


def test_blocks_escape_and_never_evaluate(renderer: ContentRenderer) -> None:
    config, the_order, decision = _hostile_setup()
    blocks = render_blocks(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
    )
    hostile = [b for b in blocks if b.campaign_id == "hostile-texts"]
    assert len(hostile) == 4
    for block in hostile:
        _assert_inert_html(block.html)
    shipping = next(b for b in blocks if b.block == "shipping")
    _assert_inert_html(shipping.html)
    # the JSON data carries the text as it is; the client shows it as text
    assert (
        next(b for b in blocks if b.block == "free_gift" and b.campaign_id == "hostile-texts").data[
            "note"
        ]
        == HOSTILE
    )


def test_email_html_escapes_and_text_is_literal(renderer: ContentRenderer) -> None:
    config, the_order, decision = _hostile_setup()
    html_part, text_part = render_email(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
    )
    _assert_inert_html(html_part)
    # plain text is not HTML: the text stands as written, and is not evaluated either
    assert HOSTILE in text_part
    assert "&lt;" not in text_part
    assert "83810205" not in text_part


def test_page_escapes_and_never_evaluates(renderer: ContentRenderer) -> None:
    config, the_order, decision = _hostile_setup()
    page = render_page(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
    )
    # the only scripts are the coupon's own
    assert page.count("<script>") == 1
    body = page.replace(page[page.index("<script>") : page.index("</script>") + 9], "")
    _assert_inert_html(body)
    # the greeting and the product title are there, as text
    assert f"Vielen Dank, {HOSTILE}!" in html.unescape(page)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:x"])
def test_script_urls_never_reach_a_link(renderer: ContentRenderer, url: str) -> None:
    from aftersale_kit.content import ContentError

    the_order = order()
    campaigns = (campaign("c", (show("survey", url=url),)),)
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order)
    with pytest.raises(ContentError):
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)
