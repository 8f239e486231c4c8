"""The operator dashboard over real HTTP: only the operator token in the Authorization header
opens it (Bearer, or the Basic password); a customer's real checkout session token and a real
order token of the block endpoint are refused with the same 401 as nothing at all, which says
nothing about the shop; the token in the address never counts. With a login: unknown shops
404, bad dates 400 with the reason, the page and report.json with headers that forbid script,
framing and caching.

The figures come from a stand-in for the results computation here (it records what it was asked
for): what is tested is the route, its access rule and what it sends.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_woocommerce.tokens import block_token as woocommerce_block_token
from dashboard_sample import HOSTILE, sample_results

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.results.figures import ShopResults
from aftersale_kit.service.admin_access import ENV_TOKEN
from aftersale_kit.service.bootstrap import bootstrap
from aftersale_kit.service.shops import ServiceConfigError

from .conftest import write_shopify_config, write_woocommerce_config
from .harness import running_service

pytestmark = pytest.mark.slow

TOKEN = secrets.token_urlsafe(24)
API_KEY = "dashboard-client-id"
WOO = "127.0.0.1"


class Figures:
    """Stands in for ``shop_results``: the sample figures (hostile text in every field) for
    the shop asked, and the calls it got."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self, store: Any, config: ShopConfig, *, since: datetime, until: datetime, now: datetime
    ) -> ShopResults:
        self.calls.append({"shop": config.settings.domain, "since": since, "until": until})
        return replace(
            sample_results(hostile=HOSTILE),
            shop=config.settings.domain,
            since=since,
            until=until,
            generated_at=now,
        )


def _basic(password: str, user: str = "operator") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _two_shops(tmp_path: Path, shopify: Any, woocommerce: Any) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "shops"
    _, env = write_shopify_config(folder, shopify)
    (folder / "shop.yaml").rename(folder / "shopify.yaml")
    _, woo_env = write_woocommerce_config(folder, woocommerce)
    return folder, {**env, **woo_env}


def test_only_the_operator_token_in_the_header_opens_the_dashboard(
    shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path
) -> None:
    shopify_sandbox.client_id = API_KEY
    config, env = _two_shops(tmp_path, shopify_sandbox, woocommerce_sandbox)
    figures = Figures()
    # a real order on each platform, and the tokens their thank-you pages really carry
    shop_order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    woo_order = woocommerce_sandbox.create_order(customer_id=0)
    woocommerce_sandbox.pay(woo_order["id"])
    woo_order = woocommerce_sandbox.order(woo_order["id"])
    session = shopify_sandbox.session_token()
    order_token = woocommerce_block_token(
        secret=env["WOO_WEBHOOK_SECRET"],
        shop=WOO,
        order_id=str(woo_order["id"]),
        order_key=woo_order["order_key"],
    )
    env = {**env, ENV_TOKEN: TOKEN}
    with running_service(
        config=config,
        db_url=f"sqlite:///{tmp_path / 'admin.db'}",
        env=env,
        shopify_api_key=API_KEY,
        admin_collect=figures,
        worker=False,
    ) as svc:
        shop = shopify_sandbox.shop_domain
        page = f"{svc.url}/admin/shopify/{shop}"
        woo_page = f"{svc.url}/admin/woocommerce/{WOO}"

        def get(url: str, auth: str | None = None, **params: str) -> httpx.Response:
            headers = {"Authorization": auth} if auth else {}
            return httpx.get(url, headers=headers, params=params, timeout=30)

        # the customer tokens are real: the block endpoint takes them
        blocks = f"{svc.url}/v1/blocks/shopify/{shop}/{shop_order['id']}"
        assert get(blocks, f"Bearer {session}").status_code in (200, 202)
        woo_blocks = f"{svc.url}/v1/blocks/woocommerce/{WOO}/{woo_order['id']}"
        assert get(woo_blocks, token=order_token, key=woo_order["order_key"]).status_code in (
            200,
            202,
        )
        # when the dashboard is asked without the operator token
        refused = {
            "nothing": get(page),
            "session token": get(page, f"Bearer {session}"),
            "order token as bearer": get(woo_page, f"Bearer {order_token}"),
            "order token in the address": get(
                woo_page, token=order_token, key=woo_order["order_key"]
            ),
            "operator token in the address": get(page, token=TOKEN, password=TOKEN),
            "wrong basic password": get(page, _basic(TOKEN[:-1])),
            "basic without password": get(page, _basic("", user=TOKEN)),
            "token as basic user": get(page, "Basic " + base64.b64encode(TOKEN.encode()).decode()),
            "malformed basic": get(page, "Basic %%%"),
            "basic not utf-8": get(page, "Basic " + base64.b64encode(b"op:\xff\xfe").decode()),
            "a very long bearer": get(page, "Bearer " + TOKEN * 400),
            "token with a prefix": get(page, f"Bearer x{TOKEN}"),
            "other scheme": get(page, f"Token {TOKEN}"),
            "unknown shop": get(f"{svc.url}/admin/shopify/nobody.myshopify.com"),
            "json, nothing": get(f"{page}/report.json"),
            "json, session token": get(f"{page}/report.json", f"Bearer {session}"),
        }
        # then every one is the same 401 asking for a login, with nothing about the shop
        first = refused["nothing"]
        for name, answer in refused.items():
            assert answer.status_code == 401, name
            assert answer.text == first.text, name
            assert answer.headers["www-authenticate"].startswith("Basic realm="), name
            assert answer.headers["cache-control"] == "no-store", name
            assert shop not in answer.text and "pwned" not in answer.text, name
        assert figures.calls == []

        # when the operator logs in (Basic, any user; or Bearer)
        html = get(page, _basic(TOKEN))
        data = get(f"{page}/report.json", f"Bearer {TOKEN}")
        woo = get(woo_page, _basic(TOKEN, user="anyone"), lang="en")
        # then the page and the JSON come, for the shop asked
        assert html.status_code == 200, html.text
        assert html.headers["content-type"].startswith("text/html")
        assert "Auswertung" in html.text  # the shop's locale is German
        assert woo.status_code == 200 and "Results" in woo.text
        assert data.status_code == 200 and data.json()["shop"] == shop
        assert [c["shop"] for c in figures.calls] == [shop, shop, WOO]
        for answer in (html, data):
            csp = answer.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
            assert "script-src" not in csp
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["cache-control"] == "no-store"
            assert "set-cookie" not in answer.headers
        # hostile campaign and order text is inert: escaped in the page, \u003c in the JSON
        assert "<script>" not in html.text and "<img" not in html.text
        assert "&lt;script&gt;" in html.text
        assert "<" not in data.text
        assert data.json()["campaigns"][0]["name"].endswith(HOSTILE)


def test_with_a_login_unknown_shops_are_404_and_bad_dates_400(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop_file = config / "shop.yaml"
    shop_file.write_text(
        shop_file.read_text().replace(
            "  locale: de_DE\n", "  locale: de_DE\n  timezone: Europe/Berlin\n"
        )
    )
    figures = Figures()
    with running_service(
        config=config,
        db_url=f"sqlite:///{tmp_path / 'admin.db'}",
        env={**env, ENV_TOKEN: TOKEN},
        admin_collect=figures,
        worker=False,
    ) as svc:
        page = f"{svc.url}/admin/shopify/{shopify_sandbox.shop_domain}"
        auth = {"Authorization": f"Bearer {TOKEN}"}

        def status(url: str, **params: str) -> tuple[int, str]:
            answer = httpx.get(url, headers=auth, params=params, timeout=30)
            return answer.status_code, answer.text.strip()

        assert status(f"{svc.url}/admin/shopify/nobody.myshopify.com")[0] == 404
        assert status(f"{svc.url}/admin/nowhere/{shopify_sandbox.shop_domain}")[0] == 404
        assert status(page, since="2026-13-01") == (
            400,
            "since: expected a day as YYYY-MM-DD between 1970-01-01 and 9998-12-31, "
            "for example 2026-11-01",
        )
        for bad in (
            "yesterday",
            "9999-12-31",
            "0001-01-01",
            "2026-11-01T00:00",
            "20261101",
            "2026-W45",
            "\x00",
            "1" * 5000,
        ):
            assert status(page, until=bad)[0] == 400, bad
            assert status(page, since=bad)[0] == 400, bad
        assert status(page, since="2026-11-02", until="2026-11-01") == (
            400,
            "since: must be a day before until",
        )
        assert figures.calls == []
        # a valid range: since's midnight to the end of until's day, in the shop's time zone
        assert status(f"{page}/report.json", since="2026-10-01", until="2026-10-31")[0] == 200
        call = figures.calls[-1]
        assert (call["since"].isoformat(), call["until"].isoformat()) == (
            "2026-10-01T00:00:00+02:00",  # summer time still
            "2026-11-01T00:00:00+01:00",
        )
        # without a range: the last 90 days up to now, read in the shop's zone too (the page
        # names the shop's days, not those of UTC)
        assert status(page)[0] == 200
        default = figures.calls[-1]
        assert str(default["until"].tzinfo) == "Europe/Berlin"
        assert default["until"] - default["since"] == timedelta(days=90)


def test_without_a_configured_token_the_dashboard_says_it_is_off(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    with running_service(
        config=config, db_url=f"sqlite:///{tmp_path / 'admin.db'}", env=env, worker=False
    ) as svc:
        page = f"{svc.url}/admin/shopify/{shopify_sandbox.shop_domain}"
        for auth in (None, "Bearer anything-at-all-here", _basic("")):
            answer = httpx.get(page, headers={"Authorization": auth} if auth else {})
            assert answer.status_code == 404
            assert ENV_TOKEN in answer.text
            assert "www-authenticate" not in answer.headers


@pytest.mark.parametrize("token", ["short", "fifteen-chars-x"])
def test_a_short_operator_token_stops_the_start(
    shopify_sandbox: Any, tmp_path: Path, token: str
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    with pytest.raises(ServiceConfigError, match=f"{ENV_TOKEN}: use at least 16 characters"):
        bootstrap(
            config=config,
            db_url=f"sqlite:///{tmp_path / 'admin.db'}",
            env={**env, ENV_TOKEN: token},
        )
