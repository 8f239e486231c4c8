"""The block endpoint takes the session token a checkout UI extension really sends: ``dest`` is
the bare shop domain there (Shopify/ui-extensions' session-token example), ``https://...`` in
App Bridge tokens; another shop's token is refused either way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from .conftest import write_shopify_config
from .harness import running_service

API_KEY = "dest-client-id"


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_both_forms_of_dest_are_the_shop_and_another_shop_is_refused(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    sandbox.client_id = API_KEY
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    order = sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    now = int(time.time())

    def token(dest: str) -> str:
        claims = {"dest": dest, "aud": API_KEY, "exp": now + 60, "nbf": now - 5}
        return jwt.encode(claims, sandbox.secret, "HS256")

    with running_service(config=config, db_url=db_url, env=env, shopify_api_key=API_KEY) as svc:
        url = f"{svc.url}/v1/blocks/shopify/{sandbox.shop_domain}/{order['id']}"

        def status(bearer: str) -> int:
            return httpx.get(url, headers={"Authorization": f"Bearer {bearer}"}).status_code

        answers = {
            "extension (sandbox-minted)": status(sandbox.session_token()),
            "bare": status(token(sandbox.shop_domain)),
            "app bridge": status(token(f"https://{sandbox.shop_domain}/")),
            "other shop": status(token("other-shop.myshopify.com")),
            "other shop https": status(token("https://other-shop.myshopify.com")),
        }
    assert answers == {
        "extension (sandbox-minted)": 200,
        "bare": 200,
        "app bridge": 200,
        "other shop": 401,
        "other shop https": 401,
    }
