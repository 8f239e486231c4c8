"""The loyalty blocks: figures from a LoyaltyView, in German and English, escaped, checked."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from content_samples import (
    NOW,
    PROGRAM,
    campaign,
    decide_by_hand,
    loyalty_sample,
    order,
    settings,
    show,
)

from aftersale_kit.content import (
    ContentError,
    ContentRenderer,
    confirmation_content,
    render_blocks,
    render_email,
    render_page,
)
from aftersale_kit.content import preview as preview_cli
from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.loyalty.customer import CustomerLoyalty
from aftersale_kit.core.loyalty.ledger import JournalState
from aftersale_kit.core.loyalty.program import (
    CatalogueReward,
    RedemptionOption,
    RedemptionRules,
    StampCard,
    TierBasis,
)
from aftersale_kit.core.loyalty.view import LoyaltyView, loyalty_view

DATA = Path(__file__).resolve().parent / "data"
LOYALTY_BLOCKS = ("loyalty_points", "loyalty_balance", "loyalty_tier", "stamp_card")


def plain(text: str) -> str:
    return html.unescape(text).replace("\xa0", " ").replace("\u202f", " ")


def setup(
    locale: str = "de_DE", program: Any = PROGRAM, **params: dict[str, Any]
) -> tuple[ShopConfig, Any, Any]:
    blocks = tuple(show(name, **params.get(name, {})) for name in LOYALTY_BLOCKS)
    campaigns = (campaign("treue", blocks),)
    the_order = order()
    config = ShopConfig(settings=settings(locale=locale), campaigns=campaigns, loyalty=program)
    return config, the_order, decide_by_hand(campaigns, the_order)


def rendered(
    renderer: ContentRenderer, view: LoyaltyView | None, locale: str = "de_DE", **kw: Any
) -> dict[str, Any]:
    config, the_order, decision = setup(locale, **kw)
    blocks = render_blocks(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
        loyalty=view,
    )
    return {b.block: b for b in blocks}


# -- the view -------------------------------------------------------------------------------------


def test_the_view_names_what_the_balance_buys_and_what_is_missing() -> None:
    view = loyalty_sample(available=1240)
    assert [o.id for o in view.options] == ["fuenf-euro", "espresso-tasse"]  # cheapest first
    assert [o.id for o in view.reached] == ["fuenf-euro"]
    following = view.next_option
    assert following is not None and (following.id, following.missing) == ("espresso-tasse", 260)
    assert following.kind == "reward" and following.title == "Espresso-Tasse"
    assert (view.earned, view.bonus, view.pending_days) == (120, 40, 14)
    assert view.tier is not None
    assert (view.tier.current, view.tier.next, view.tier.missing) == ("Silber", "Gold", 120)
    card = view.card("kaffee-karte")
    assert card is not None and (card.stamps, card.needed, card.missing) == (3, 5, 2)


def test_the_minimum_balance_counts_before_the_cheapest_option() -> None:
    program = replace(
        PROGRAM,
        redemption=RedemptionRules(
            options=(RedemptionOption("zwei-euro", 200, coupon_value=Decimal(2)),),
            minimum_balance=500,
        ),
    )
    view = loyalty_view(program, state=JournalState(available=300))
    assert view.reached == ()
    assert view.next_option is not None and view.next_option.missing == 200


def test_an_empty_account_is_zero_below_the_first_tier_and_with_empty_cards() -> None:
    view = loyalty_view(PROGRAM)
    assert (view.available, view.pending, view.earned) == (0, 0, None)
    assert view.tier is not None and view.tier.current is None
    assert (view.tier.next, view.tier.missing) == ("Silber", Decimal(200))
    assert [(c.id, c.stamps, c.completed) for c in view.cards] == [("kaffee-karte", 0, 0)]
    assert loyalty_view(replace(PROGRAM, tiers=None)).tier is None


def test_the_view_is_what_the_platform_keeps_for_the_theme() -> None:
    kept = loyalty_sample().customer()
    assert kept == CustomerLoyalty(
        balance=1240,
        pending=120,
        tier="Silber",
        next_tier="Gold",
        to_next_tier=Decimal(120),
        tier_basis="spend",
        currency="EUR",
    )
    assert json.loads(kept.to_json())["to_next_tier"] == "120"


# -- rendering ------------------------------------------------------------------------------------


def test_without_figures_the_loyalty_blocks_show_nothing(renderer: ContentRenderer) -> None:
    assert rendered(renderer, None) == {}
    blocks = rendered(renderer, loyalty_sample(earned=0))
    assert "loyalty_points" not in blocks
    assert set(blocks) == {"loyalty_balance", "loyalty_tier", "stamp_card"}


@pytest.mark.parametrize(
    ("locale", "balance", "missing", "tier"),
    [
        ("de_DE", "12.345 Punkte", "Noch 120,00 € bis Gold", "Ihr Status: Silber"),
        ("en_US", "12,345 points", "€120.00 to go until Gold", "Your tier: Silber"),
        ("de_AT", "12.345 Punkte", "Noch € 120,00 bis Gold", "Ihr Status: Silber"),
    ],
)
def test_numbers_and_money_follow_the_locale(
    renderer: ContentRenderer, locale: str, balance: str, missing: str, tier: str
) -> None:
    blocks = rendered(renderer, loyalty_sample(available=12345), locale)
    assert balance in plain(blocks["loyalty_balance"].html)
    assert blocks["loyalty_balance"].data["balance"] == 12345
    assert plain(blocks["loyalty_tier"].data["text"]) == missing
    assert plain(blocks["loyalty_tier"].data["headline"]) == tier


def test_one_point_is_singular(renderer: ContentRenderer) -> None:
    de = rendered(renderer, loyalty_sample(earned=1))["loyalty_points"]
    en = rendered(renderer, loyalty_sample(earned=1), "en_US")["loyalty_points"]
    assert de.data["headline"] == "Sie sammeln 1 Punkt mit dieser Bestellung"
    assert en.data["headline"] == "You earn 1 point with this order"


def test_a_tier_by_points_counts_points_and_the_top_tier_says_so(
    renderer: ContentRenderer,
) -> None:
    assert PROGRAM.tiers is not None
    program = replace(PROGRAM, tiers=replace(PROGRAM.tiers, basis=TierBasis.POINTS))
    view = replace(loyalty_sample(), tier=replace(loyalty_sample().tier, basis="points"))
    data = rendered(renderer, view, program=program)["loyalty_tier"].data
    assert plain(data["text"]) == "Noch 120 Punkte bis Gold"
    top = replace(view, tier=replace(view.tier, current="Gold", next=None, missing=None))
    data = rendered(renderer, top, "en_US", program=program)["loyalty_tier"].data
    assert data["top"] and data["text"].startswith("You have reached the highest tier")


def test_the_stamp_card_is_a_list_of_slots_without_script(renderer: ContentRenderer) -> None:
    block = rendered(renderer, loyalty_sample(stamps=3))["stamp_card"]
    markup = block.html
    assert "<script" not in markup
    assert 'aria-label="3 von 5 Stempeln gesammelt"' in markup
    slots = re.findall(r'<li class="ak-stampcard__slot[^"]*" data-ak-filled="(\w+)"', markup)
    assert slots == ["true", "true", "true", "false", "false"]
    assert [s["filled"] for s in block.data["slots"]] == [True, True, True, False, False]
    assert "Stempel 1: gesammelt" in markup and "Stempel 5: offen" in markup


def test_shop_texts_and_reward_titles_are_escaped(renderer: ContentRenderer) -> None:
    evil = "<img src=x onerror=alert(1)>"
    program = replace(
        PROGRAM,
        redemption=RedemptionRules(
            options=(RedemptionOption("r", 100, reward=CatalogueReward("1", f"Tasse {evil}")),)
        ),
        stamp_cards=(StampCard("kaffee-karte", f"Karte {evil}", 5, reward=()),),
    )
    view = loyalty_view(program, state=JournalState(available=150))
    config, the_order, decision = setup(program=program, loyalty_tier={"headline": evil})
    pieces = [
        b.html
        for b in render_blocks(
            decision=decision,
            order=the_order,
            config=config,
            now=NOW,
            renderer=renderer,
            loyalty=view,
        )
    ]
    mail_html, mail_text = render_email(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer, loyalty=view
    )
    for markup in [*pieces, mail_html]:
        assert "<img" not in markup
    joined = "".join(pieces)
    assert "Tasse &lt;img src=x onerror=alert(1)&gt;" in joined
    assert "Karte &lt;img" in joined
    assert f"Tasse {evil}" in mail_text  # plain text is not HTML


def test_email_fragments_carry_the_figures(renderer: ContentRenderer) -> None:
    config, the_order, decision = setup("en_US")
    mail_html, mail_text = render_email(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
        loyalty=loyalty_sample(),
    )
    for expected in (
        "You earn 120 points with this order",
        "Your balance: 1,240 points",
        "260 points to go until: Espresso-Tasse",
        "€120.00 to go until Gold",
        "3 of 5 stamps collected",
    ):
        assert expected in plain(mail_html), expected
        assert expected in mail_text.replace("\xa0", " "), expected
    assert "[x|x|x| | ]" in mail_text
    assert "<script" not in mail_html


def test_the_json_blocks_for_native_pages_carry_the_figures(renderer: ContentRenderer) -> None:
    config, the_order, decision = setup()
    content = confirmation_content(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
        loyalty=loyalty_sample(),
    )
    by_type = {b["type"]: b for b in json.loads(content.blocks_json())["blocks"]}
    assert by_type["loyalty_points"]["points"] == 120
    assert by_type["loyalty_balance"]["next"]["missing"] == 260
    assert by_type["loyalty_tier"]["missing"] == "120"
    assert by_type["stamp_card"]["stamps"] == 3 and by_type["stamp_card"]["needed"] == 5


def test_the_page_shows_the_loyalty_blocks(renderer: ContentRenderer) -> None:
    config, the_order, decision = setup()
    page = render_page(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
        loyalty=loyalty_sample(),
    )
    for name in LOYALTY_BLOCKS:
        assert f'data-ak-block="{name}"' in page


# -- checks at startup ------------------------------------------------------------------------


def test_loyalty_blocks_without_a_program_are_named_at_startup(
    renderer: ContentRenderer,
) -> None:
    config, _, _ = setup(program=None)
    with pytest.raises(ContentError) as err:
        renderer.check(config)
    message = str(err.value)
    assert "campaigns[treue].actions[0]: block 'loyalty_points' shows loyalty figures" in message
    assert "add a loyalty: section" in message


def test_an_unknown_card_and_missing_tiers_are_named(renderer: ContentRenderer) -> None:
    config, _, _ = setup(program=replace(PROGRAM, tiers=None), stamp_card={"card": "kaffee-krate"})
    with pytest.raises(ContentError) as err:
        renderer.check(config)
    message = str(err.value)
    assert "actions[2]: block 'loyalty_tier' needs loyalty.tiers" in message
    assert "actions[3].card: no stamp card 'kaffee-krate'; cards: kaffee-karte" in message
    renderer.check(setup()[0])  # the sample program is fine


# -- preview --------------------------------------------------------------------------------------


def test_preview_shows_what_the_order_earns_with_the_given_balance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = preview_cli.main(
        [
            str(DATA / "loyalty-shop.yaml"),
            str(DATA / "preview-order.json"),
            "--out",
            str(tmp_path),
            "--points-balance",
            "1240",
            "--stamps",
            "2",
        ]
    )
    assert code == 0, capsys.readouterr().err
    text = (tmp_path / "email.txt").read_text(encoding="utf-8").replace("\xa0", " ")
    page = plain((tmp_path / "index.html").read_text(encoding="utf-8"))
    # 66.20 EUR of goods at 1 point per euro, rounded down; pending for 14 days
    for expected in (
        "Sie sammeln 66 Punkte mit dieser Bestellung",
        "nach 14 Tagen gutgeschrieben",
        "Ihr Punktestand: 1.240 Punkte",
        "Dazu kommen 66 Punkte, die noch vorgemerkt sind.",
        "Noch 260 Punkte bis: Espresso-Tasse <Limited>",
        "Noch 133,80 € bis Silber",
        "3 von 5 Stempeln gesammelt",
    ):
        assert expected in text, expected
        assert expected in page, expected
    assert "Espresso-Tasse &lt;Limited&gt;" in (tmp_path / "index.html").read_text("utf-8")


def test_preview_without_a_balance_starts_at_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(DATA / "loyalty-shop.yaml"), str(DATA / "preview-order.json"), "--out"]
    assert preview_cli.main([*args, str(tmp_path)]) == 0, capsys.readouterr().err
    text = (tmp_path / "email.txt").read_text(encoding="utf-8").replace("\xa0", " ")
    assert "Ihr Punktestand: 0 Punkte" in text
    assert "Noch 500 Punkte bis: 5,00 € Gutschein" in text
    assert "1 von 5 Stempeln gesammelt" in text  # this order's stamp
