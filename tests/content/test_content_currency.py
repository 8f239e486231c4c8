"""The content speaks the buyer's currency: a Shopify buyer who paid in CHF sees CHF."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from decimal import Decimal

from content_samples import NOW, campaign, coupon_action, decide_by_hand, order, settings, show

from aftersale_kit.content import ContentRenderer, render_blocks, render_page
from aftersale_kit.core.campaign import CouponKind, ShopConfig
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.model import Order, Presentment
from aftersale_kit.core.money import Money


def plain(text: str) -> str:
    text = html.unescape(text)
    return text.replace("\xa0", " ").replace("\u202f", " ").replace("\u2009", " ")


def visible(markup: str) -> str:
    return " ".join(plain(re.sub(r"<[^>]+>", " ", markup)).split())


def chf(amount: str) -> Money:
    return Money(Decimal(amount), "CHF")


def paid_in_chf() -> Order:
    # the sample order (253.90 EUR) as the buyer paid it: at 0.95 CHF per EUR, rounded to cents
    # by the platform: 249.00 -> 236.55, 4.90 -> 4.66, 40.54 -> 38.51, 253.90 -> 241.21
    return replace(
        order(),
        presentment=Presentment(
            currency="CHF",
            subtotal=chf("236.55"),
            total=chf("241.21"),
            discounts=chf("0"),
            shipping=chf("4.66"),
            tax=chf("38.51"),
            unit_prices=(("1", chf("217.55")), ("2", chf("19.00"))),
        ),
    )


def setup(the_order: Order, *, locale: str) -> tuple[ShopConfig, Order, Decision]:
    coupon = coupon_action(CouponKind.FIXED_AMOUNT, "5", minimum_order="50")
    campaigns = (campaign("danke", (coupon, show("coupon"))),)
    config = ShopConfig(settings=settings(locale=locale), campaigns=campaigns)
    return config, the_order, decide_by_hand(campaigns, the_order)


def test_a_fixed_coupon_says_its_value_in_the_buyers_currency_as_an_estimate(
    renderer: ContentRenderer,
) -> None:
    config, the_order, decision = setup(paid_in_chf(), locale="de_DE")
    (block,) = render_blocks(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
    )
    # the code is in the shop currency (Shopify converts it at checkout); the buyer's rate of
    # this order is 241.21 / 253.90 = 0.95002 CHF per EUR: 5.00 EUR ~ 4.75 CHF, 50 ~ 47.50
    data = block.data
    assert plain(data["value"]) == "5,00 €"
    assert plain(data["estimate"]) == "5,00 € sind etwa 4,75 CHF (geschätzt; der Code gilt in EUR)"
    assert plain(data["minimum_order"]) == "50,00 € (≈ 47,50 CHF)"
    text = visible(block.html)
    assert "5,00 € sind etwa 4,75 CHF (geschätzt; der Code gilt in EUR)" in text
    assert "ab 50,00 € (≈ 47,50 CHF) Bestellwert" in text


def test_english_estimate(renderer: ContentRenderer) -> None:
    config, the_order, decision = setup(paid_in_chf(), locale="en_GB")
    (block,) = render_blocks(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
    )
    # Babel's English pattern puts no space after a letter symbol: "CHF4.75"
    assert plain(block.data["estimate"]) == (
        "€5.00 is about CHF4.75 (an estimate; the code is in EUR)"
    )


def test_a_buyer_paying_in_the_shop_currency_gets_no_estimate(renderer: ContentRenderer) -> None:
    config, the_order, decision = setup(order(), locale="de_DE")
    (block,) = render_blocks(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
    )
    assert block.data["estimate"] is None
    assert "CHF" not in block.html


def test_the_page_summary_shows_what_the_buyer_paid_in_chf(renderer: ContentRenderer) -> None:
    config, the_order, decision = setup(paid_in_chf(), locale="de_DE")
    page = visible(
        render_page(
            decision=decision,
            order=the_order,
            config=config,
            now=NOW,
            renderer=renderer,
        )
    )
    for shown in ("217,55 CHF", "19,00 CHF", "236,55 CHF", "4,66 CHF", "38,51 CHF", "241,21 CHF"):
        assert shown in page
    # the shop-currency amounts of the order are not shown to this buyer
    for hidden in ("229,00 €", "249,00 €", "253,90 €"):
        assert hidden not in page


def test_an_order_saved_in_the_buyers_currency_gets_the_estimate_from_the_shop_rate(
    renderer: ContentRenderer,
) -> None:
    # given a WooCommerce order saved in JPY by a multi-currency plugin, 1 JPY = 0.0061 EUR
    jpy = replace(order(), platform="woocommerce", currency="JPY")
    config, the_order, decision = setup(jpy, locale="de_DE")
    config = replace(
        config, settings=replace(config.settings, exchange_rates=(("JPY", Decimal("0.0061")),))
    )
    (block,) = render_blocks(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    # 5 EUR / 0.0061 = 819.67 JPY, which has no minor unit: 820 ¥
    assert (
        plain(block.data["estimate"]) == "5,00 € sind etwa 820 ¥ (geschätzt; der Code gilt in EUR)"
    )
