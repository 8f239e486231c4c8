"""The Shopify adapter with ``auth: client_credentials`` against the sandbox, over real HTTP:
a token fetched when needed, replaced before it expires and once on a 401, wrong credentials
refused with a message that names the fix and repeats no secret."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from aftersale_kit_shopify import ShopifyAdapter
from aftersale_kit_shopify.sandbox import ShopifySandbox, running_sandbox
from aftersale_kit_shopify.sandbox.app import UNAUTHORIZED_BODY

from aftersale_kit.core.campaign import SecretRef, ShopAuth, ShopSettings
from aftersale_kit.core.errors import NotAuthorizedError

CLIENT_ID = "cid-0123456789abcdef"
CLIENT_SECRET = "client-secret-for-the-token-tests"


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with running_sandbox(client_id=CLIENT_ID, secret=CLIENT_SECRET, token_lifetime=3.0) as running:
        yield running


def settings(sandbox: ShopifySandbox) -> ShopSettings:
    return ShopSettings(
        platform="shopify",
        domain=sandbox.shop_domain,
        currency="USD",
        api_base_url=sandbox.url,
        api_version="2026-01",
        auth=ShopAuth(
            "client_credentials",
            (SecretRef("client_id", "CID"), SecretRef("client_secret", "CSECRET")),
        ),
    )


def adapter(sandbox: ShopifySandbox, *, secret: str = CLIENT_SECRET) -> ShopifyAdapter:
    return ShopifyAdapter.from_settings(
        settings(sandbox),
        secrets={"client_id": CLIENT_ID, "client_secret": secret, "webhook_secret": secret},
    )


def post_form(url: str, fields: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_the_sandbox_grants_tokens_in_shopifys_shape_and_refuses_a_wrong_secret(
    sandbox: ShopifySandbox,
) -> None:
    url = sandbox.url + "/admin/oauth/access_token"
    grant = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    status, body = post_form(url, {**grant, "client_secret": CLIENT_SECRET})
    assert status == 200
    assert set(body) == {"access_token", "scope", "expires_in"}
    assert str(body["access_token"]).startswith("shpat_") and body["expires_in"] == 3
    status, body = post_form(url, {**grant, "client_secret": "wrong"})
    assert (status, body["error"]) == (400, "invalid_client")


def test_an_expired_token_gets_shopifys_401(sandbox: ShopifySandbox) -> None:
    token = str(sandbox.tokens.issue()["access_token"])
    sandbox.tokens.expire_all()
    request = urllib.request.Request(
        sandbox.graphql_url(),
        data=b'{"query": "{ shop { name } }"}',
        headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    with info.value as error:
        assert (error.code, json.loads(error.read())) == (401, UNAUTHORIZED_BODY)


@pytest.mark.slow
def test_one_token_serves_many_calls_and_is_replaced_before_it_expires(
    sandbox: ShopifySandbox,
) -> None:
    # given an adapter with client credentials and tokens that live 3 s
    shop = adapter(sandbox)
    # when it calls the API for 4 s
    deadline = time.monotonic() + 4.0
    calls = 0
    while time.monotonic() < deadline:
        shop.list_webhooks()
        calls += 1
        time.sleep(0.05)
    # then it fetched a token at the start and one before the first expired (2.7 s), no more,
    # and the API never answered 401
    assert calls > 20
    assert len(sandbox.tokens.granted()) == 2
    assert [r["status"] for r in sandbox.api_requests() if r["status"] == 401] == []


def test_a_401_replaces_the_token_once_and_the_call_succeeds(sandbox: ShopifySandbox) -> None:
    shop = adapter(sandbox)
    shop.list_webhooks()
    # when the shop stops accepting the token (an injected 401)
    assert sandbox.tokens.expire_all() == 1
    shop.list_webhooks()
    # then one 401, one new token, and the call went through
    assert len(sandbox.tokens.granted()) == 2
    graphql = [r["status"] for r in sandbox.api_requests() if r["path"].endswith("graphql.json")]
    assert graphql == [200, 401, 200]


def test_wrong_client_credentials_name_the_fix_and_no_secret(sandbox: ShopifySandbox) -> None:
    shop = adapter(sandbox, secret="a-wrong-secret-of-some-length")
    with pytest.raises(NotAuthorizedError) as info:
        shop.list_webhooks()
    message = str(info.value)
    assert message == (
        f"Shopify {sandbox.shop_domain} refused the app's client credentials (HTTP 400, "
        "invalid_client: Client authentication failed due to unknown client, no client "
        "authentication included, or unsupported authentication method.); check the variables "
        "named in shop.auth.client_id and shop.auth.client_secret, and that the app is "
        "installed on this store"
    )
    assert "a-wrong-secret" not in message and CLIENT_ID not in message
